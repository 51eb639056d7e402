//! Owns the connection to running clusters: kubeconfig and contexts, health probe, watchers of
//! Platform and Component resources, and the intent the console writes.

pub mod commands;
pub mod connect;
pub mod error;
pub mod watch;

pub use commands::{Schedule, UninstallOutcome, install, schedule_upgrade, set_version, uninstall};
pub use connect::{ClusterConn, ConnectOptions, connect, connect_contexts};
pub use error::ClusterError;
pub use watch::{ClusterEvent, ClusterMsg, ClusterWatch, WatchedKind, watch};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

use crate::crd::consts;
use error::CallSite;

/// What a successful [`probe`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// `gitVersion` of the API server, e.g. `v1.20.2`.
    pub server_version: String,
    /// How the manager was seen running.
    pub manager: ManagerSeen,
}

/// Evidence that the Lifecycle Manager runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagerSeen {
    /// Its leader Lease was renewed within the lease duration.
    Lease { holder: String },
    /// Its Deployment reports available replicas.
    Deployment { available: i32 },
    /// RBAC does not let this user look; the console works but cannot tell.
    Unknown { reason: String },
}

/// Checks, in order, that the API server answers, the CRDs are installed, this user may list and
/// watch Platforms and Components, and the manager runs. The first failing check is the error.
pub async fn probe(conn: &ClusterConn) -> Result<ProbeReport, ClusterError> {
    let at = |verb: &'static str, resource: &'static str| CallSite {
        context: &conn.context,
        address: &conn.server_url,
        verb,
        resource,
    };
    let version = conn
        .client
        .apiserver_version()
        .await
        .map_err(|e| ClusterError::from_kube(e, at("get", "/version")))?;

    let group_version = format!("{}/{}", consts::GROUP, consts::VERSION);
    let served = match conn.client.list_api_group_resources(&group_version).await {
        Ok(list) => list.resources.into_iter().map(|r| r.name).collect(),
        Err(kube::Error::Api(s)) if s.code == 404 => Vec::new(),
        Err(e) => return Err(ClusterError::from_kube(e, at("get", "/apis/openova.io"))),
    };
    for kind in [WatchedKind::Platform, WatchedKind::Component] {
        let plural = kind.resource().split('.').next().unwrap_or_default();
        if !served.iter().any(|name| name == plural) {
            return Err(ClusterError::CrdsMissing {
                context: conn.context.clone(),
                crd: kind.resource().to_owned(),
            });
        }
    }

    for kind in [WatchedKind::Platform, WatchedKind::Component] {
        for verb in ["list", "watch"] {
            let plural = kind.resource().split('.').next().unwrap_or_default();
            let (allowed, reason) = can_i(conn, verb, plural).await?;
            if !allowed {
                return Err(ClusterError::Forbidden {
                    verb: verb.to_owned(),
                    resource: kind.resource().to_owned(),
                    message: reason.unwrap_or_else(|| {
                        format!("RBAC grants no `{verb}` in namespace {}", conn.namespace)
                    }),
                });
            }
        }
    }

    let manager = manager_state(conn).await?;
    Ok(ProbeReport {
        server_version: version.git_version,
        manager,
    })
}

async fn can_i(
    conn: &ClusterConn,
    verb: &str,
    plural: &str,
) -> Result<(bool, Option<String>), ClusterError> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                group: Some(consts::GROUP.to_owned()),
                resource: Some(plural.to_owned()),
                verb: Some(verb.to_owned()),
                namespace: Some(conn.namespace.clone()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(conn.client.clone());
    let answer = api
        .create(&Default::default(), &review)
        .await
        .map_err(|e| {
            ClusterError::from_kube(
                e,
                CallSite {
                    context: &conn.context,
                    address: &conn.server_url,
                    verb: "create",
                    resource: "selfsubjectaccessreviews.authorization.k8s.io",
                },
            )
        })?;
    let status = answer.status.unwrap_or_default();
    let reason = status.reason.filter(|r| !r.is_empty());
    Ok((status.allowed, reason))
}

/// The manager counts as running when its leader Lease is fresh, or else its Deployment has an
/// available replica (a manager that just started may not hold the lease yet). It is looked for
/// in the namespace of the Platform resources, which is where it is deployed.
async fn manager_state(conn: &ClusterConn) -> Result<ManagerSeen, ClusterError> {
    let ns = conn.namespace.as_str();
    let leases: Api<Lease> = Api::namespaced(conn.client.clone(), ns);
    let mut forbidden = Vec::new();
    let mut detail = String::new();
    match leases.get_opt(consts::LEASE_NAME).await {
        Ok(Some(lease)) => {
            let spec = lease.spec.unwrap_or_default();
            let holder = spec.holder_identity.unwrap_or_default();
            let fresh = match (spec.renew_time, spec.lease_duration_seconds) {
                (Some(renewed), Some(duration)) => {
                    let expires = renewed
                        .0
                        .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(i64::from(
                            duration,
                        )))
                        .unwrap_or(renewed.0);
                    expires >= k8s_openapi::jiff::Timestamp::now()
                }
                _ => false,
            };
            if fresh && !holder.is_empty() {
                return Ok(ManagerSeen::Lease { holder });
            }
            detail = format!("Lease {} is not being renewed", consts::LEASE_NAME);
        }
        Ok(None) => detail = format!("no Lease {}", consts::LEASE_NAME),
        Err(kube::Error::Api(s)) if s.code == 403 => forbidden.push("leases"),
        Err(e) => return Err(get_failed(conn, e, "leases.coordination.k8s.io")),
    }
    let deployments: Api<Deployment> = Api::namespaced(conn.client.clone(), ns);
    match deployments.get_opt(consts::MANAGER_NAME).await {
        Ok(Some(d)) => {
            let available = d
                .status
                .and_then(|s| s.available_replicas)
                .unwrap_or_default();
            if available > 0 {
                return Ok(ManagerSeen::Deployment { available });
            }
            push_detail(
                &mut detail,
                &format!(
                    "Deployment {} has no available replica",
                    consts::MANAGER_NAME
                ),
            );
        }
        Ok(None) => push_detail(
            &mut detail,
            &format!("no Deployment {}", consts::MANAGER_NAME),
        ),
        Err(kube::Error::Api(s)) if s.code == 403 => forbidden.push("deployments"),
        Err(e) => return Err(get_failed(conn, e, "deployments.apps")),
    }
    if forbidden.len() == 2 || (!forbidden.is_empty() && detail.is_empty()) {
        return Ok(ManagerSeen::Unknown {
            reason: format!("RBAC forbids reading {} in {ns}", forbidden.join(" and ")),
        });
    }
    Err(ClusterError::ManagerNotRunning {
        namespace: ns.to_owned(),
        detail,
    })
}

/// A failed GET of `resource` while looking for the manager, with where it was sent.
fn get_failed(conn: &ClusterConn, e: kube::Error, resource: &str) -> ClusterError {
    ClusterError::from_kube(
        e,
        CallSite {
            context: &conn.context,
            address: &conn.server_url,
            verb: "get",
            resource,
        },
    )
}

fn push_detail(detail: &mut String, more: &str) {
    if !detail.is_empty() {
        detail.push_str(", ");
    }
    detail.push_str(more);
}
