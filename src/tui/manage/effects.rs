//! Performs the console's effects: writes of intent to the attached clusters (create, patch and
//! delete `Component`s, through `cluster::commands`), catalog refreshes and clipboard copies, each
//! reporting back as a message.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tokio::sync::mpsc::UnboundedSender;

use super::update::{ClusterMsg, Effect, Msg, Request, When};
use super::views::catalog_entries;
use crate::cluster::commands;
use crate::cluster::connect::{ClusterConn, LoadedKubeconfig};
use crate::cluster::error::ClusterError;
use crate::crd::{ComponentSpec, Platform};
use crate::domain::catalog::Catalog;
use crate::tui::runtime::EffectRunner;

/// Connections by cluster index; a context attached at run time (`:ctx NAME`) is added once its
/// client is built, from the task that builds it.
type Conns = Arc<Mutex<Vec<Option<ClusterConn>>>>;

/// Performs the console's effects against the attached clusters.
pub struct Runner {
    conns: Conns,
    catalog: Arc<Catalog>,
    /// The kubeconfig the console started from: contexts attached later come from it.
    kubeconfig: Arc<LoadedKubeconfig>,
    /// `--namespace`, when given (else each context's own).
    namespace: Option<String>,
}

impl Runner {
    pub fn new(
        conns: Vec<ClusterConn>,
        catalog: Catalog,
        kubeconfig: LoadedKubeconfig,
        namespace: Option<String>,
    ) -> Runner {
        Runner {
            conns: Arc::new(Mutex::new(conns.into_iter().map(Some).collect())),
            catalog: Arc::new(catalog),
            kubeconfig: Arc::new(kubeconfig),
            namespace,
        }
    }

    fn conn(&self, i: usize) -> Option<ClusterConn> {
        lock(&self.conns).get(i).cloned().flatten()
    }
}

fn lock(conns: &Conns) -> std::sync::MutexGuard<'_, Vec<Option<ClusterConn>>> {
    // A panic while holding the lock leaves a plain Vec behind: still usable.
    conns.lock().unwrap_or_else(|e| e.into_inner())
}

/// Build the client of `context`, record it as cluster `cluster` and start its watchers; a
/// context that cannot be used is reported on that cluster's screen.
async fn attach(
    conns: Conns,
    kubeconfig: &LoadedKubeconfig,
    namespace: Option<&str>,
    cluster: usize,
    context: &str,
    tx: UnboundedSender<Msg>,
) {
    match crate::cluster::connect::connect_with(kubeconfig, Some(context), namespace).await {
        Ok(conn) => {
            {
                let mut all = lock(&conns);
                if all.len() <= cluster {
                    all.resize(cluster + 1, None);
                }
                all[cluster] = Some(conn.clone());
            }
            let msg = ClusterMsg::Attached {
                address: conn.server_url.clone(),
                namespace: conn.namespace.clone(),
            };
            let _ = tx.send(Msg::Cluster { cluster, msg });
            super::watchers::spawn(cluster, conn, tx);
        }
        Err(e) => {
            let msg = ClusterMsg::KubeconfigInvalid {
                error: e.to_string(),
            };
            let _ = tx.send(Msg::Cluster { cluster, msg });
        }
    }
}

/// The Component spec the console writes for `name` at `version`, from the catalog; None for
/// names without a chart (meta-platforms are bundles of their members).
pub fn component_spec(catalog: &Catalog, name: &str, version: &str) -> Option<ComponentSpec> {
    catalog
        .get(name)
        .map(|c| ComponentSpec::of_catalog(c, version))
}

fn report(tx: &UnboundedSender<Msg>, cluster: usize, what: String, r: Result<(), String>) {
    let msg = match r {
        Ok(()) => ClusterMsg::WriteDone { what },
        Err(error) => ClusterMsg::WriteFailed { what, error },
    };
    let _ = tx.send(Msg::Cluster { cluster, msg });
}

fn parse_time(rfc3339: &str) -> Result<Time, String> {
    serde_json::from_value(serde_json::Value::String(rfc3339.to_string()))
        .map_err(|e| format!("time {rfc3339:?}: {e}"))
}

impl EffectRunner<Effect, Msg> for Runner {
    fn perform(&mut self, effect: Effect, tx: &UnboundedSender<Msg>) {
        let tx = tx.clone();
        let conn_of = |i: usize| self.conn(i);
        match effect {
            Effect::Copy(text) => copy_to_clipboard(&text),
            Effect::SetTheme(_) => {}
            Effect::Attach { cluster, context } => {
                let conns = self.conns.clone();
                let kubeconfig = self.kubeconfig.clone();
                let namespace = self.namespace.clone();
                tokio::spawn(async move {
                    attach(
                        conns,
                        &kubeconfig,
                        namespace.as_deref(),
                        cluster,
                        &context,
                        tx,
                    )
                    .await;
                });
            }
            Effect::RefreshCatalog => {
                let first = self.conn(0);
                tokio::spawn(async move {
                    let msg = refresh_catalog(first.as_ref()).await;
                    let _ = tx.send(msg);
                });
            }
            Effect::Install {
                cluster,
                platform,
                components,
            } => {
                let Some(conn) = conn_of(cluster) else { return };
                let catalog = self.catalog.clone();
                tokio::spawn(async move {
                    let names: Vec<&str> = components.iter().map(|(n, _)| n.as_str()).collect();
                    let what = format!("install {}", names.join(", "));
                    let r = install(&conn, &catalog, &platform, &components).await;
                    report(&tx, cluster, what, r.map_err(|e| e.to_string()));
                });
            }
            Effect::Uninstall {
                cluster,
                platform,
                name,
                also_remove,
            } => {
                let Some(conn) = conn_of(cluster) else { return };
                tokio::spawn(async move {
                    let r = commands::uninstall(&conn, &platform, &name, &also_remove)
                        .await
                        .map(|_| ());
                    let what = if also_remove.is_empty() {
                        format!("uninstall {name}")
                    } else {
                        format!("uninstall {name} with {}", also_remove.join(", "))
                    };
                    report(&tx, cluster, what, r.map_err(|e| e.to_string()));
                });
            }
            Effect::SetVersion {
                cluster,
                platform,
                name,
                version,
                confirm_major,
            } => {
                let Some(conn) = conn_of(cluster) else { return };
                tokio::spawn(async move {
                    let r = commands::set_version(
                        &conn,
                        &platform,
                        &name,
                        &version,
                        confirm_major.as_deref(),
                    )
                    .await;
                    let what = format!("upgrade {name} to {version}");
                    report(&tx, cluster, what, r.map_err(|e| e.to_string()));
                });
            }
            Effect::Request {
                cluster,
                platform,
                name,
                request,
            } => {
                let Some(conn) = conn_of(cluster) else { return };
                tokio::spawn(async move {
                    let what = request.describe(&name);
                    let r = perform_request(&conn, &platform, &name, request).await;
                    report(&tx, cluster, what, r.map_err(|e| e.to_string()));
                });
            }
            Effect::ScheduleUpgrade {
                cluster,
                platform,
                name,
                version,
                when,
                confirm_major,
            } => {
                let Some(conn) = conn_of(cluster) else { return };
                tokio::spawn(async move {
                    let r = schedule_upgrade(
                        &conn,
                        &platform,
                        &name,
                        &version,
                        &when,
                        confirm_major.as_deref(),
                    )
                    .await;
                    report(&tx, cluster, format!("schedule {name} {version}"), r);
                });
            }
            Effect::SetWindow {
                cluster,
                platform,
                window,
            } => {
                let Some(conn) = conn_of(cluster) else { return };
                tokio::spawn(async move {
                    let what = match &window {
                        Some(_) => "save the maintenance window",
                        None => "remove the maintenance window",
                    };
                    let r = commands::set_maintenance_window(&conn, &platform, window.as_ref())
                        .await
                        .map(|_| ());
                    report(&tx, cluster, what.into(), r.map_err(|e| e.to_string()));
                });
            }
        }
    }
}

/// Write a request; a retry or reconcile carries the current time as its new value (each
/// value is acted on once).
async fn perform_request(
    conn: &ClusterConn,
    platform: &str,
    name: &str,
    request: Request,
) -> Result<(), ClusterError> {
    let token = || jiff::Timestamp::now().to_string();
    match request {
        Request::Retry => commands::retry(conn, name, &token()).await,
        Request::ReconcileNow => commands::reconcile_now(conn, name, &token()).await,
        Request::Suspend(suspend) => commands::set_suspended(conn, name, suspend).await,
        Request::CancelUpgrade { installed } => {
            commands::cancel_upgrade(conn, platform, name, &installed).await
        }
    }
}

/// OSC 52: the terminal (even at the far end of ssh) puts `text` on the clipboard.
fn copy_to_clipboard(text: &str) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{b64}\x07");
    let _ = out.flush();
}

/// Create the Components, in the order given (dependencies first: the manager orders delivery
/// anyway, but a partial failure then leaves only complete prerequisites behind). Names without
/// a chart are skipped; the first failure stops the rest.
async fn install(
    conn: &ClusterConn,
    catalog: &Catalog,
    platform: &str,
    components: &[(String, String)],
) -> Result<(), ClusterError> {
    for (name, version) in components {
        let Some(spec) = component_spec(catalog, name, version) else {
            continue;
        };
        commands::install(conn, platform, name, &spec).await?;
    }
    Ok(())
}

/// Schedule the upgrade for `when`: at a time, or in the Platform's next maintenance window
/// (which the manager computes and waits for; it refuses when the Platform has none).
async fn schedule_upgrade(
    conn: &ClusterConn,
    platform: &str,
    name: &str,
    version: &str,
    when: &When,
    confirm_major: Option<&str>,
) -> Result<(), String> {
    let when = match when {
        When::At(at) => commands::Schedule::At(parse_time(at)?),
        When::MaintenanceWindow => commands::Schedule::NextWindow,
    };
    commands::schedule_upgrade(conn, platform, name, version, when, confirm_major)
        .await
        .map_err(|e| e.to_string())
}

/// Reload the catalog: from the ConfigMap the Platform names, else the embedded one.
async fn refresh_catalog(conn: Option<&ClusterConn>) -> Msg {
    let Some(conn) = conn else {
        return Msg::CatalogRefreshFailed {
            error: "no cluster attached".into(),
        };
    };
    let platforms: kube::Api<Platform> =
        kube::Api::namespaced(conn.client.clone(), &conn.namespace);
    let cm_name = match platforms.list(&Default::default()).await {
        Ok(list) => list
            .items
            .first()
            .and_then(|p| p.spec.catalog.as_ref())
            .and_then(|c| c.config_map.clone()),
        Err(e) => {
            return Msg::CatalogRefreshFailed {
                error: crate::cluster::error::chain_text(&e),
            };
        }
    };
    let Some(cm_name) = cm_name else {
        return Msg::CatalogRefreshed {
            source: "embedded".into(),
            entries: catalog_entries(crate::catalog::embedded()),
        };
    };
    match crate::catalog::read_configmap(&conn.client, &conn.namespace, &cm_name).await {
        Ok(cat) => Msg::CatalogRefreshed {
            source: format!("ConfigMap {}/{cm_name}", conn.namespace),
            entries: catalog_entries(&cat),
        },
        Err(e) => Msg::CatalogRefreshFailed {
            error: crate::cluster::error::chain_text(&e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_spec_from_catalog_names_chart_and_dependencies() {
        let s = component_spec(crate::catalog::embedded(), "debezium", "1.0.0").expect("known");
        assert_eq!(s.dependencies, ["strimzi"]);
        assert_eq!(s.version, "1.0.0");
        assert!(component_spec(crate::catalog::embedded(), "no-such", "1").is_none());
    }
}
