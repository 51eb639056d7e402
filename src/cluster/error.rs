//! Typed failures of the cluster connection layer, each with a message that tells the operator
//! what to do about it.

use std::fmt::Write as _;

/// Why talking to a cluster failed, in terms a screen can explain.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The kubeconfig could not be read or makes no sense.
    #[error(
        "kubeconfig {source_desc} is not usable: {reason}. Fix the file, or point --kubeconfig or \
         KUBECONFIG at a working one"
    )]
    KubeconfigInvalid { source_desc: String, reason: String },

    /// The requested context is not in the kubeconfig.
    #[error(
        "context `{name}` is not in the kubeconfig; {}",
        list_available(available)
    )]
    ContextMissing {
        name: String,
        available: Vec<String>,
    },

    /// No `--context` was given and the kubeconfig has no current-context.
    #[error(
        "no context chosen: the kubeconfig has no current-context; pass --context ({})",
        list_available(available)
    )]
    NoContext { available: Vec<String> },

    /// `--contexts-matching` matched no context of the kubeconfig.
    #[error(
        "no context of the kubeconfig matches `{pattern}` (`*` any text, `?` one character); {}",
        list_available(available)
    )]
    NoContextMatches {
        pattern: String,
        available: Vec<String>,
    },

    /// Nothing answered at the API server's address.
    #[error(
        "cannot reach the API server of `{context}` at {address}: {reason}. Check that the cluster \
         is up and that this machine can reach it (VPN, firewall, load balancer on port 6443)"
    )]
    Unreachable {
        context: String,
        address: String,
        reason: String,
    },

    /// The TLS handshake failed (usually a CA that does not match the server).
    #[error(
        "TLS with the API server of `{context}` at {address} failed: {reason}. The kubeconfig's \
         certificate-authority-data probably does not belong to this server; export the \
         kubeconfig again"
    )]
    Tls {
        context: String,
        address: String,
        reason: String,
    },

    /// The API server rejected the credentials (HTTP 401).
    #[error(
        "the API server of `{context}` rejected the credentials (401 Unauthorized). The token or \
         client certificate in the kubeconfig is wrong or expired; get a fresh kubeconfig"
    )]
    Unauthorized { context: String },

    /// RBAC denies an operation (HTTP 403).
    #[error(
        "not allowed to {verb} {resource}: {message}. Ask a cluster administrator for a Role that \
         grants `{verb}` on `{resource}`"
    )]
    Forbidden {
        verb: String,
        resource: String,
        message: String,
    },

    /// The Platform/Component CRDs are not installed.
    #[error(
        "the CustomResourceDefinition {crd} is not installed on `{context}`; install it with \
         `openova crds | kubectl apply -f -`"
    )]
    CrdsMissing { context: String, crd: String },

    /// No sign of a running Lifecycle Manager.
    #[error(
        "the OpenOva Lifecycle Manager is not running in namespace {namespace} ({detail}); \
         changes are saved but nothing acts on them until it runs. Deploy it with \
         `kubectl apply -k deploy/base`"
    )]
    ManagerNotRunning { namespace: String, detail: String },

    /// An object the operation needs does not exist.
    #[error("{kind} `{name}` not found in namespace {namespace}")]
    NotFound {
        kind: String,
        name: String,
        namespace: String,
    },

    /// The object changed under us too many times in a row.
    #[error(
        "{kind} `{name}` kept changing while it was being updated ({attempts} attempts); try again"
    )]
    Conflict {
        kind: String,
        name: String,
        attempts: u32,
    },

    /// Any other API failure, with what was being done.
    #[error("Kubernetes API call failed while {doing}: {source}")]
    Api {
        doing: String,
        #[source]
        source: kube::Error,
    },
}

fn list_available(available: &[String]) -> String {
    if available.is_empty() {
        return "the kubeconfig has no contexts".to_owned();
    }
    let mut s = String::from("available: ");
    for (i, name) in available.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{name}");
    }
    s
}

/// Where and what an API call was about, to turn a `kube::Error` into a [`ClusterError`].
#[derive(Debug, Clone, Copy)]
pub struct CallSite<'a> {
    pub context: &'a str,
    pub address: &'a str,
    pub verb: &'a str,
    /// `plural.group` (e.g. `platforms.openova.io`), or a path for non-resource URLs.
    pub resource: &'a str,
}

impl ClusterError {
    /// Classifies a client error: connection, TLS, 401 and 403 get their own variants; the rest
    /// keeps the original error and a description of the call.
    pub fn from_kube(err: kube::Error, at: CallSite<'_>) -> Self {
        match &err {
            kube::Error::Api(status) if status.code == 401 => ClusterError::Unauthorized {
                context: at.context.to_owned(),
            },
            kube::Error::Api(status) if status.code == 403 => ClusterError::Forbidden {
                verb: at.verb.to_owned(),
                resource: at.resource.to_owned(),
                message: status.message.clone(),
            },
            kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::RustlsTls(_) => {
                let reason = chain_text(&err);
                if looks_like_tls(&err) {
                    ClusterError::Tls {
                        context: at.context.to_owned(),
                        address: at.address.to_owned(),
                        reason,
                    }
                } else {
                    ClusterError::Unreachable {
                        context: at.context.to_owned(),
                        address: at.address.to_owned(),
                        reason,
                    }
                }
            }
            kube::Error::Auth(_) => ClusterError::KubeconfigInvalid {
                source_desc: format!("context `{}`", at.context),
                reason: chain_text(&err),
            },
            _ => ClusterError::Api {
                doing: format!("trying to {} {} on `{}`", at.verb, at.resource, at.context),
                source: err,
            },
        }
    }

    /// True for failures that go away by themselves when the network or server comes back.
    pub fn is_transient(&self) -> bool {
        matches!(self, ClusterError::Unreachable { .. })
    }
}

/// The error and its sources on one line, innermost last, without repeating identical texts.
pub(crate) fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

fn looks_like_tls(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        // A connection the server dropped (it stopped or restarted) is not a TLS problem, even
        // though rustls words it "peer closed connection without sending TLS close_notify".
        let dropped = e.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
            )
        });
        let text = e.to_string().to_ascii_lowercase();
        if dropped || text.contains("peer closed connection") {
            return false;
        }
        // rustls reports through io::Error(InvalidData) with these words; there is no typed
        // error we can downcast to without depending on rustls directly.
        if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
            return true;
        }
        cur = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> CallSite<'static> {
        CallSite {
            context: "hz-fsn-rtz-prod",
            address: "https://10.0.0.1:6443",
            verb: "list",
            resource: "platforms.openova.io",
        }
    }

    fn status(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            message: message.to_owned(),
            ..Default::default()
        }))
    }

    #[test]
    fn from_kube_403_names_verb_and_resource() {
        let e = ClusterError::from_kube(status(403, "user bob cannot list"), site());
        match &e {
            ClusterError::Forbidden { verb, resource, .. } => {
                assert_eq!(verb, "list");
                assert_eq!(resource, "platforms.openova.io");
            }
            other => panic!("expected Forbidden, got {other:?}"),
        }
        assert!(
            e.to_string()
                .contains("not allowed to list platforms.openova.io")
        );
    }

    #[test]
    fn from_kube_401_is_unauthorized_with_fix() {
        let e = ClusterError::from_kube(status(401, "Unauthorized"), site());
        assert!(matches!(e, ClusterError::Unauthorized { .. }));
        assert!(e.to_string().contains("get a fresh kubeconfig"));
    }

    #[test]
    fn from_kube_connection_refused_is_unreachable_with_address() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let e = ClusterError::from_kube(kube::Error::Service(Box::new(io)), site());
        match &e {
            ClusterError::Unreachable { address, .. } => {
                assert_eq!(address, "https://10.0.0.1:6443")
            }
            other => panic!("expected Unreachable, got {other:?}"),
        }
        assert!(e.to_string().contains("connection refused"));
    }

    #[test]
    fn from_kube_certificate_failure_is_tls() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "invalid peer certificate: UnknownIssuer",
        );
        let e = ClusterError::from_kube(kube::Error::Service(Box::new(io)), site());
        assert!(matches!(e, ClusterError::Tls { .. }), "{e:?}");
    }

    #[test]
    fn from_kube_server_closing_the_connection_is_unreachable_not_tls() {
        let io = std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "peer closed connection without sending TLS close_notify",
        );
        let e = ClusterError::from_kube(kube::Error::Service(Box::new(io)), site());
        assert!(matches!(e, ClusterError::Unreachable { .. }), "{e:?}");
        assert!(e.is_transient());
    }

    #[test]
    fn context_missing_lists_available_contexts() {
        let e = ClusterError::ContextMissing {
            name: "prod".into(),
            available: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            e.to_string(),
            "context `prod` is not in the kubeconfig; available: a, b"
        );
    }

    #[test]
    fn crds_missing_tells_the_install_command() {
        let e = ClusterError::CrdsMissing {
            context: "x".into(),
            crd: "platforms.openova.io".into(),
        };
        assert!(e.to_string().contains("openova crds | kubectl apply -f -"));
    }
}
