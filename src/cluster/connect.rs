//! Turns a kubeconfig (as kubectl finds it) and a context name into a ready `kube::Client`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::error::ClusterError;
use crate::crd::consts;

/// How long to wait for a TCP+TLS connection before calling the cluster unreachable; kube's
/// default (30 s) leaves a screen blank far too long on a black-holed address.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where to find the kubeconfig and which context/namespace to use, like kubectl's flags.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--kubeconfig`: one file; takes precedence over `KUBECONFIG`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`: the current-context when absent.
    pub context: Option<String>,
    /// `--namespace`: the context's namespace, else `openova-system`.
    pub namespace: Option<String>,
}

/// A connection to one cluster (one kubeconfig context).
#[derive(Clone)]
pub struct ClusterConn {
    /// Kubeconfig context name; also how screens label the cluster.
    pub context: String,
    /// Namespace holding the Platform and Component resources.
    pub namespace: String,
    pub client: kube::Client,
    /// API server URL, for messages (`Unreachable at …`).
    pub server_url: String,
}

impl std::fmt::Debug for ClusterConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterConn")
            .field("context", &self.context)
            .field("namespace", &self.namespace)
            .field("server_url", &self.server_url)
            .finish_non_exhaustive()
    }
}

/// A loaded kubeconfig and a description of where it came from, for messages.
#[derive(Debug, Clone)]
pub struct LoadedKubeconfig {
    pub config: Kubeconfig,
    pub source_desc: String,
}

impl LoadedKubeconfig {
    /// Context names in file order.
    pub fn context_names(&self) -> Vec<String> {
        self.config
            .contexts
            .iter()
            .map(|c| c.name.clone())
            .collect()
    }
}

/// Loads the kubeconfig the way kubectl does: `--kubeconfig`, else every file of `KUBECONFIG`
/// (separated by `:`; the first file to define a name wins), else `~/.kube/config`.
pub fn load_kubeconfig(flag: Option<&Path>) -> Result<LoadedKubeconfig, ClusterError> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    load_kubeconfig_from(flag, std::env::var_os("KUBECONFIG"), home.as_deref())
}

/// [`load_kubeconfig`] with the environment passed in (tests must not mutate process env).
pub fn load_kubeconfig_from(
    flag: Option<&Path>,
    env: Option<OsString>,
    home: Option<&Path>,
) -> Result<LoadedKubeconfig, ClusterError> {
    let paths: Vec<PathBuf> = if let Some(path) = flag {
        vec![path.to_owned()]
    } else if let Some(value) = env.filter(|v| !v.is_empty()) {
        std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect()
    } else if let Some(home) = home {
        vec![home.join(".kube").join("config")]
    } else {
        Vec::new()
    };
    let source_desc = match paths.as_slice() {
        [] => "(none)".to_owned(),
        [one] => one.display().to_string(),
        many => many
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":"),
    };
    if paths.is_empty() {
        return Err(ClusterError::KubeconfigInvalid {
            source_desc,
            reason: "no kubeconfig found (HOME is unset and neither --kubeconfig nor KUBECONFIG \
                     is given)"
                .into(),
        });
    }
    let mut merged: Option<Kubeconfig> = None;
    for path in &paths {
        let one = Kubeconfig::read_from(path).map_err(|e| ClusterError::KubeconfigInvalid {
            source_desc: path.display().to_string(),
            reason: super::error::chain_text(&e),
        })?;
        merged = Some(match merged {
            None => one,
            Some(acc) => acc
                .merge(one)
                .map_err(|e| ClusterError::KubeconfigInvalid {
                    source_desc: source_desc.clone(),
                    reason: e.to_string(),
                })?,
        });
    }
    Ok(LoadedKubeconfig {
        config: merged.unwrap_or_default(),
        source_desc,
    })
}

/// Connects to the context chosen by `opts` (or the current-context).
pub async fn connect(opts: &ConnectOptions) -> Result<ClusterConn, ClusterError> {
    let loaded = load_kubeconfig(opts.kubeconfig.as_deref())?;
    connect_with(&loaded, opts.context.as_deref(), opts.namespace.as_deref()).await
}

/// One connection per context (e.g. both regions side by side), from one kubeconfig.
pub async fn connect_contexts(
    opts: &ConnectOptions,
    contexts: &[String],
) -> Result<Vec<ClusterConn>, ClusterError> {
    let loaded = load_kubeconfig(opts.kubeconfig.as_deref())?;
    if contexts.is_empty() {
        return Ok(vec![
            connect_with(&loaded, opts.context.as_deref(), opts.namespace.as_deref()).await?,
        ]);
    }
    let mut conns = Vec::with_capacity(contexts.len());
    for ctx in contexts {
        conns.push(connect_with(&loaded, Some(ctx), opts.namespace.as_deref()).await?);
    }
    Ok(conns)
}

/// Which contexts to attach: the named ones, every one matching a pattern, or all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextChoice {
    /// `--context`, each in the order given.
    pub named: Vec<String>,
    /// `--contexts-matching`: a glob (`*` any text, `?` one character) over context names.
    pub matching: Option<String>,
    /// `--all-contexts`.
    pub all: bool,
}

/// The contexts `choice` selects from `loaded`, in the order named, then in file order; each
/// once. A named context that does not exist, or a pattern that matches nothing, is an error
/// listing the contexts that do exist.
pub fn select_contexts(
    loaded: &LoadedKubeconfig,
    choice: &ContextChoice,
) -> Result<Vec<String>, ClusterError> {
    let available = loaded.context_names();
    let mut out: Vec<String> = Vec::new();
    for name in &choice.named {
        if !available.contains(name) {
            return Err(ClusterError::ContextMissing {
                name: name.clone(),
                available,
            });
        }
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    if let Some(pattern) = &choice.matching {
        let matched: Vec<&String> = available.iter().filter(|n| glob(pattern, n)).collect();
        if matched.is_empty() {
            return Err(ClusterError::NoContextMatches {
                pattern: pattern.clone(),
                available,
            });
        }
        for n in matched {
            if !out.contains(n) {
                out.push(n.clone());
            }
        }
    }
    if choice.all {
        if available.is_empty() {
            return Err(ClusterError::NoContext { available });
        }
        for n in &available {
            if !out.contains(n) {
                out.push(n.clone());
            }
        }
    }
    Ok(out)
}

/// Shell-style match of a whole name: `*` is any text (also none), `?` one character.
pub fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matcher with one backtrack point (the last `*`): linear in practice.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(c) if *c == '?' || *c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The API server URL a context points at, as the kubeconfig writes it (empty when the
/// context or its cluster is missing): shown before the client is built.
pub fn server_of(loaded: &LoadedKubeconfig, context: &str) -> String {
    let cluster = loaded
        .config
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone());
    loaded
        .config
        .clusters
        .iter()
        .find(|c| Some(&c.name) == cluster.as_ref())
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
        .map(|s| s.trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

/// Builds a client for `context` (or the current-context) of an already loaded kubeconfig.
/// Makes no network call: reachability is [`super::probe`]'s business.
pub async fn connect_with(
    loaded: &LoadedKubeconfig,
    context: Option<&str>,
    namespace: Option<&str>,
) -> Result<ClusterConn, ClusterError> {
    let available = loaded.context_names();
    let name = match context.or(loaded.config.current_context.as_deref()) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => return Err(ClusterError::NoContext { available }),
    };
    let Some(named) = loaded.config.contexts.iter().find(|c| c.name == name) else {
        return Err(ClusterError::ContextMissing { name, available });
    };
    let context_ns = named.context.as_ref().and_then(|c| c.namespace.clone());
    let options = KubeConfigOptions {
        context: Some(name.clone()),
        ..Default::default()
    };
    let invalid = |reason: String| ClusterError::KubeconfigInvalid {
        source_desc: format!("{} (context `{name}`)", loaded.source_desc),
        reason,
    };
    let mut config = kube::Config::from_custom_kubeconfig(loaded.config.clone(), &options)
        .await
        .map_err(|e| invalid(super::error::chain_text(&e)))?;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    let server_url = config.cluster_url.to_string();
    let server_url = server_url.trim_end_matches('/').to_owned();
    let client =
        kube::Client::try_from(config).map_err(|e| invalid(super::error::chain_text(&e)))?;
    // Platform and Component live in the manager's namespace, not in `default`, so that is the
    // fallback rather than kubectl's.
    let namespace = namespace
        .map(str::to_owned)
        .or(context_ns)
        .unwrap_or_else(|| consts::NAMESPACE.to_owned());
    Ok(ClusterConn {
        context: name,
        namespace,
        client,
        server_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, body).expect("write kubeconfig");
        p
    }

    fn kubeconfig(ctx: &str, server: &str, current: Option<&str>, ns: Option<&str>) -> String {
        let mut s = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {ctx}\n  cluster:\n    server: {server}\n\
             users:\n- name: {ctx}\n  user:\n    token: abc\ncontexts:\n- name: {ctx}\n  context:\n    \
             cluster: {ctx}\n    user: {ctx}\n"
        );
        if let Some(ns) = ns {
            s.push_str(&format!("    namespace: {ns}\n"));
        }
        if let Some(c) = current {
            s.push_str(&format!("current-context: {c}\n"));
        }
        s
    }

    #[tokio::test]
    async fn kubeconfig_env_with_two_files_offers_both_contexts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(
            dir.path(),
            "a",
            &kubeconfig(
                "hz-fsn-rtz-prod",
                "https://10.0.0.1:6443",
                Some("hz-fsn-rtz-prod"),
                None,
            ),
        );
        let b = write(
            dir.path(),
            "b",
            &kubeconfig(
                "hz-hel-rtz-prod",
                "https://10.0.0.2:6443",
                None,
                Some("tenant"),
            ),
        );
        let env = std::env::join_paths([&a, &b]).expect("join");
        let loaded = load_kubeconfig_from(None, Some(env), None).expect("loads");
        assert_eq!(
            loaded.context_names(),
            ["hz-fsn-rtz-prod", "hz-hel-rtz-prod"]
        );
        let fsn = connect_with(&loaded, None, None)
            .await
            .expect("current context");
        assert_eq!(fsn.context, "hz-fsn-rtz-prod");
        assert_eq!(fsn.server_url, "https://10.0.0.1:6443");
        assert_eq!(fsn.namespace, "openova-system");
        let hel = connect_with(&loaded, Some("hz-hel-rtz-prod"), None)
            .await
            .expect("second file's context");
        assert_eq!(hel.server_url, "https://10.0.0.2:6443");
        assert_eq!(hel.namespace, "tenant");
        let flag_ns = connect_with(&loaded, Some("hz-hel-rtz-prod"), Some("other"))
            .await
            .expect("namespace flag");
        assert_eq!(flag_ns.namespace, "other");
    }

    #[tokio::test]
    async fn kubeconfig_flag_overrides_env() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(
            dir.path(),
            "a",
            &kubeconfig("one", "https://1.1.1.1", Some("one"), None),
        );
        let b = write(
            dir.path(),
            "b",
            &kubeconfig("two", "https://2.2.2.2", Some("two"), None),
        );
        let loaded = load_kubeconfig_from(Some(&b), Some(a.into_os_string()), None).expect("loads");
        assert_eq!(loaded.context_names(), ["two"]);
    }

    #[tokio::test]
    async fn unknown_context_is_context_missing_with_available_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(
            dir.path(),
            "a",
            &kubeconfig("one", "https://1.1.1.1", None, None),
        );
        let loaded = load_kubeconfig_from(Some(&a), None, None).expect("loads");
        match connect_with(&loaded, Some("prod"), None).await {
            Err(ClusterError::ContextMissing { name, available }) => {
                assert_eq!(name, "prod");
                assert_eq!(available, ["one"]);
            }
            other => panic!("expected ContextMissing, got {other:?}"),
        }
        assert!(matches!(
            connect_with(&loaded, None, None).await,
            Err(ClusterError::NoContext { .. })
        ));
    }

    fn three_contexts(dir: &Path) -> LoadedKubeconfig {
        let mut body = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
        let names = ["hz-fsn-rtz-prod", "hz-hel-rtz-prod", "aws-dev"];
        for (i, n) in names.iter().enumerate() {
            body.push_str(&format!(
                "- name: {n}\n  cluster:\n    server: https://10.0.0.{i}:6443/\n"
            ));
        }
        body.push_str("users:\n- name: u\n  user:\n    token: abc\ncontexts:\n");
        for n in names {
            body.push_str(&format!(
                "- name: {n}\n  context:\n    cluster: {n}\n    user: u\n"
            ));
        }
        let p = write(dir, "three", &body);
        load_kubeconfig_from(Some(&p), None, None).expect("loads")
    }

    #[test]
    fn select_contexts_named_matching_and_all_each_once_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let loaded = three_contexts(dir.path());
        let choice = |named: &[&str], matching: Option<&str>, all| ContextChoice {
            named: named.iter().map(|s| s.to_string()).collect(),
            matching: matching.map(str::to_string),
            all,
        };
        let pick = |c: ContextChoice| select_contexts(&loaded, &c).expect("selects");
        assert_eq!(
            pick(choice(
                &["aws-dev", "hz-fsn-rtz-prod", "aws-dev"],
                None,
                false
            )),
            ["aws-dev", "hz-fsn-rtz-prod"]
        );
        assert_eq!(
            pick(choice(&[], Some("hz-*-prod"), false)),
            ["hz-fsn-rtz-prod", "hz-hel-rtz-prod"]
        );
        assert_eq!(
            pick(choice(&["aws-dev"], Some("hz-???-rtz-prod"), false)),
            ["aws-dev", "hz-fsn-rtz-prod", "hz-hel-rtz-prod"]
        );
        assert_eq!(
            pick(choice(&[], None, true)),
            ["hz-fsn-rtz-prod", "hz-hel-rtz-prod", "aws-dev"]
        );
        let none = select_contexts(&loaded, &choice(&[], Some("gcp-*"), false))
            .expect_err("matches nothing");
        assert_eq!(
            none.to_string(),
            "no context of the kubeconfig matches `gcp-*` (`*` any text, `?` one character); \
             available: hz-fsn-rtz-prod, hz-hel-rtz-prod, aws-dev"
        );
        let unknown =
            select_contexts(&loaded, &choice(&["prod"], None, true)).expect_err("unknown name");
        assert!(
            unknown
                .to_string()
                .contains("available: hz-fsn-rtz-prod, hz-hel-rtz-prod, aws-dev"),
            "{unknown}"
        );
        assert_eq!(
            server_of(&loaded, "hz-hel-rtz-prod"),
            "https://10.0.0.1:6443"
        );
        assert_eq!(server_of(&loaded, "nope"), "");
    }

    #[test]
    fn glob_matches_whole_names() {
        assert!(glob("*", ""));
        assert!(glob("hz-*", "hz-fsn"));
        assert!(!glob("hz-*", "aws-hz-fsn"));
        assert!(glob("*prod", "hz-fsn-prod"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(glob("h?l", "hel"));
        assert!(!glob("h?l", "hl"));
    }

    #[test]
    fn broken_kubeconfig_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(dir.path(), "broken", "clusters: [unclosed\n");
        let err = load_kubeconfig_from(Some(&a), None, None).expect_err("must fail");
        let text = err.to_string();
        assert!(text.contains("broken"), "{text}");
        assert!(matches!(err, ClusterError::KubeconfigInvalid { .. }));
    }

    #[test]
    fn missing_kubeconfig_file_is_invalid_not_panic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = load_kubeconfig_from(None, None, Some(dir.path())).expect_err("no file");
        assert!(err.to_string().contains(".kube/config"), "{err}");
    }
}
