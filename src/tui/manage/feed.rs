//! Owns the console's link to its clusters: turns watcher reports (Platform, Component, Events,
//! the manager's Lease) into console messages, and performs the console's writes (intent only:
//! create, patch and delete `Component`s) as effects that report back.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use futures::StreamExt as _;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event as KubeEvent};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::runtime::watcher;
use time::OffsetDateTime;
use tokio::sync::mpsc::{self, UnboundedSender};

use super::model::{
    CatalogEntry, ComponentView, ConditionView, Endpoint, EventView, Group, Health, MAX_EVENTS,
    PlatformView, RollbackView, Severity,
};
use super::update::{ClusterMsg, Effect, Msg, When};
use crate::cluster::commands;
use crate::cluster::connect::ClusterConn;
use crate::cluster::error::ClusterError;
use crate::cluster::watch::{self, ClusterMsg as WatchMsg, WatchedKind};
use crate::crd::{self, Component, ComponentSpec, Platform, consts};
use crate::domain::catalog::{Catalog, Category};
use crate::tui::runtime::EffectRunner;

/// How often the manager's Lease is re-judged: a Lease that stops being renewed produces no
/// watch event, so expiry has to be noticed by looking at the clock.
const LEASE_CHECK: Duration = Duration::from_secs(5);

fn ts(t: &Time) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.0.as_second()).ok()
}

fn condition(c: &Condition) -> ConditionView {
    ConditionView {
        kind: c.type_.clone(),
        status: c.status.clone(),
        reason: c.reason.clone(),
        message: c.message.clone(),
        at: ts(&c.last_transition_time),
    }
}

/// The catalog as the console shows it.
pub fn catalog_entries(catalog: &Catalog) -> Vec<CatalogEntry> {
    let mut out: Vec<CatalogEntry> = catalog
        .components()
        .iter()
        .map(|c| CatalogEntry {
            name: c.name.clone(),
            title: c.title.clone(),
            group: match c.category {
                Category::Mandatory => Group::Mandatory,
                Category::ALaCarte => Group::ALaCarte,
                Category::MetaPlatform => Group::MetaPlatform,
            },
            summary: c.description.clone(),
            version: crate::domain::catalog::display_version(&c.latest().version),
            requires: c.requires.clone(),
            optional: c
                .optional
                .iter()
                .map(|o| (o.name.clone(), o.reason.clone()))
                .collect(),
            changelog: c
                .versions
                .iter()
                .rev()
                .map(|v| {
                    (
                        crate::domain::catalog::display_version(&v.version),
                        // Sentences, each closed once: "fixes. Pinned …", not "fixes.; Pinned".
                        v.changes
                            .iter()
                            .map(|c| {
                                let c = c.trim();
                                if c.ends_with(['.', '!', '?']) {
                                    c.to_string()
                                } else {
                                    format!("{c}.")
                                }
                            })
                            .collect::<Vec<_>>()
                            .join(" "),
                    )
                })
                .collect(),
        })
        .collect();
    out.extend(catalog.meta_platforms().iter().map(|m| {
        CatalogEntry {
            name: m.name.clone(),
            title: m.title.clone(),
            group: Group::MetaPlatform,
            summary: m.description.clone(),
            version: String::new(),
            requires: m.requires.clone(),
            optional: m
                .optional
                .iter()
                .map(|o| (o.name.clone(), o.reason.clone()))
                .collect(),
            changelog: Vec::new(),
        }
    }));
    out
}

fn health(h: Option<crd::Health>) -> Health {
    match h {
        Some(crd::Health::Healthy) => Health::Healthy,
        Some(crd::Health::Installing) => Health::Installing,
        Some(crd::Health::Degraded) => Health::Degraded,
        Some(crd::Health::Failed) => Health::Failed,
        Some(crd::Health::Unknown) | None => Health::Unknown,
    }
}

/// A watched Component as the console shows it.
pub fn component_view(c: &Component) -> ComponentView {
    let status = c.status.clone().unwrap_or_default();
    let name = c.metadata.name.clone().unwrap_or_default();
    // A failed upgrade stays on record whether or not it could be rolled back.
    let rollback = status.upgrade.as_ref().and_then(|u| {
        let rolled_back = u.state == crd::UpgradeState::RolledBack;
        (rolled_back || u.state == crd::UpgradeState::Failed).then(|| RollbackView {
            rolled_back,
            from: u.to.clone(),
            to: u.from.clone(),
            reason: u
                .message
                .clone()
                .unwrap_or_else(|| "the new version did not become ready".into()),
            at: u.finished_at.as_ref().and_then(ts),
        })
    });
    let scheduled = match &status.upgrade {
        Some(u) if u.state == crd::UpgradeState::Scheduled => Some(
            u.scheduled_for
                .as_ref()
                .and_then(ts)
                .map(format_utc)
                .unwrap_or_else(|| "for the maintenance window".into()),
        ),
        _ => None,
    };
    let values = c
        .spec
        .values
        .as_ref()
        .and_then(|v| serde_saphyr::to_string(v).ok())
        .unwrap_or_default();
    ComponentView {
        name,
        version: c.spec.version.clone(),
        installed_version: status.version.clone(),
        category: c.spec.category.clone().unwrap_or_default(),
        dependencies: c.spec.dependencies.clone(),
        phase: status
            .phase
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        health: health(status.health),
        endpoints: status
            .endpoints
            .iter()
            .map(|e| Endpoint {
                name: e.name.clone(),
                url: e.url.clone(),
            })
            .collect(),
        conditions: status.conditions.iter().map(condition).collect(),
        values,
        available_upgrades: status.available_upgrades.clone(),
        last_good_version: status.last_good_version.clone(),
        rollback,
        scheduled,
    }
}

fn format_utc(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// A watched Platform as the console shows it.
pub fn platform_view(p: &Platform) -> PlatformView {
    let status = p.status.clone().unwrap_or_default();
    PlatformView {
        name: p.metadata.name.clone().unwrap_or_default(),
        organization: p.spec.organization.name.clone(),
        domain: p.spec.organization.domain.clone(),
        phase: status.phase.map(|ph| format!("{ph:?}")).unwrap_or_default(),
        regions: p
            .spec
            .regions
            .iter()
            .map(|r| (r.cluster.clone(), r.location.clone()))
            .collect(),
        conditions: status.conditions.iter().map(condition).collect(),
    }
}

fn event_view(e: &KubeEvent) -> Option<EventView> {
    let at = e
        .last_timestamp
        .as_ref()
        .or(e.first_timestamp.as_ref())
        .and_then(ts)
        .or_else(|| {
            e.event_time
                .as_ref()
                .and_then(|t| OffsetDateTime::from_unix_timestamp(t.0.as_second()).ok())
        })
        .or_else(|| e.metadata.creation_timestamp.as_ref().and_then(ts))?;
    Some(EventView {
        at,
        severity: if e.type_.as_deref() == Some("Warning") {
            Severity::Warning
        } else {
            Severity::Normal
        },
        object: format!(
            "{}/{}",
            e.involved_object.kind.clone().unwrap_or_default(),
            e.involved_object.name.clone().unwrap_or_default()
        ),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default(),
    })
}

fn connection_msg(error: &ClusterError) -> ClusterMsg {
    match error {
        ClusterError::CrdsMissing { .. } => ClusterMsg::CrdsMissing,
        ClusterError::Forbidden { verb, resource, .. } => ClusterMsg::Forbidden {
            verb: verb.clone(),
            resource: resource.clone(),
        },
        ClusterError::KubeconfigInvalid { .. } | ClusterError::Unauthorized { .. } => {
            ClusterMsg::KubeconfigInvalid {
                error: error.to_string(),
            }
        }
        ClusterError::Unreachable { reason, .. } | ClusterError::Tls { reason, .. } => {
            ClusterMsg::Unreachable {
                error: reason.clone(),
            }
        }
        other => ClusterMsg::Unreachable {
            error: other.to_string(),
        },
    }
}

fn send(tx: &UnboundedSender<Msg>, cluster: usize, msg: ClusterMsg) -> bool {
    tx.send(Msg::Cluster { cluster, msg }).is_ok()
}

/// Start every watch for cluster `idx`. The tasks end when the console's channel closes.
pub fn spawn(idx: usize, conn: ClusterConn, tx: UnboundedSender<Msg>) {
    let (wtx, mut wrx) = mpsc::channel(256);
    // Events wait for the first list of Components: health first, history after.
    let (listed_tx, listed_rx) = tokio::sync::oneshot::channel::<()>();
    let mut listed_tx = Some(listed_tx);
    let watches = watch::watch(&conn, wtx);
    {
        let tx = tx.clone();
        tokio::spawn(async move {
            // Owning `watches` here keeps the watcher tasks alive exactly as long as this one.
            let watches = watches;
            // What was last sent, so status writes that change nothing the console shows (a
            // new lastReconciled, observedGeneration) cost no message and no redraw.
            let mut sent: BTreeMap<String, ComponentView> = BTreeMap::new();
            let mut sent_platform: Option<Option<PlatformView>> = None;
            let mut platform_msg = |p: Option<PlatformView>| {
                if sent_platform.as_ref() == Some(&p) {
                    return None;
                }
                sent_platform = Some(p.clone());
                Some(ClusterMsg::PlatformChanged(p))
            };
            while let Some(ev) = wrx.recv().await {
                let msg = match ev.msg {
                    WatchMsg::ComponentApplied(c) => {
                        let view = component_view(&c);
                        if sent.get(&view.name) == Some(&view) {
                            continue;
                        }
                        sent.insert(view.name.clone(), view.clone());
                        ClusterMsg::ComponentChanged(Box::new(view))
                    }
                    WatchMsg::ComponentDeleted(c) => {
                        let name = c.metadata.name.clone().unwrap_or_default();
                        sent.remove(&name);
                        ClusterMsg::ComponentDeleted(name)
                    }
                    WatchMsg::PlatformApplied(p) => match platform_msg(Some(platform_view(&p))) {
                        Some(m) => m,
                        None => continue,
                    },
                    WatchMsg::PlatformDeleted(_)
                    | WatchMsg::Synced {
                        kind: WatchedKind::Platform,
                    } => {
                        let p = watches.platforms.state().first().map(|p| platform_view(p));
                        match platform_msg(p) {
                            Some(m) => m,
                            None => continue,
                        }
                    }
                    WatchMsg::Synced {
                        kind: WatchedKind::Component,
                    } => {
                        let list: Vec<ComponentView> = watches
                            .components
                            .state()
                            .iter()
                            .map(|c| component_view(c))
                            .collect();
                        sent = list.iter().map(|c| (c.name.clone(), c.clone())).collect();
                        if let Some(listed) = listed_tx.take() {
                            let _ = listed.send(());
                        }
                        ClusterMsg::ComponentsListed(list)
                    }
                    WatchMsg::Disconnected { error, .. } => connection_msg(&error),
                    WatchMsg::Reconnected { .. } => ClusterMsg::Connected,
                };
                if !send(&tx, idx, msg) {
                    return;
                }
            }
        });
    }
    spawn_events(idx, &conn, tx.clone(), listed_rx);
    spawn_lease(idx, &conn, tx);
}

/// How long the Events watch waits for the Components to be listed before it starts anyway
/// (when they cannot be listed, the events may still say why).
const EVENTS_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

fn spawn_events(
    idx: usize,
    conn: &ClusterConn,
    tx: UnboundedSender<Msg>,
    components_listed: tokio::sync::oneshot::Receiver<()>,
) {
    let api: kube::Api<KubeEvent> = kube::Api::namespaced(conn.client.clone(), &conn.namespace);
    tokio::spawn(async move {
        let _ = tokio::time::timeout(EVENTS_AFTER, components_listed).await;
        let stream = watcher::watcher(api, watcher::Config::default());
        let mut stream = std::pin::pin!(kube::runtime::WatchStreamExt::default_backoff(stream));
        // A (re-)list arrives as one batch rather than thousands of single messages.
        let mut listing: Vec<EventView> = Vec::new();
        while let Some(item) = stream.next().await {
            // Failures of this watch are not reported: the Component watch already says when
            // the server is unreachable, and Events are supplementary.
            let Ok(ev) = item else { continue };
            let msg = match ev {
                watcher::Event::Init => {
                    listing.clear();
                    continue;
                }
                watcher::Event::InitApply(o) => {
                    listing.extend(event_view(&o));
                    // Only the newest are kept in the end: memory stays bounded however many
                    // Events the namespace holds.
                    if listing.len() >= 2 * MAX_EVENTS {
                        listing.sort_by_key(|e| std::cmp::Reverse(e.at));
                        listing.truncate(MAX_EVENTS);
                    }
                    continue;
                }
                watcher::Event::InitDone => ClusterMsg::EventsListed(std::mem::take(&mut listing)),
                watcher::Event::Apply(o) => match event_view(&o) {
                    Some(view) => ClusterMsg::EventSeen(view),
                    None => continue,
                },
                watcher::Event::Delete(_) => continue,
            };
            if !send(&tx, idx, msg) {
                return;
            }
        }
    });
}

fn lease_alive(l: &Lease, now: OffsetDateTime) -> bool {
    let Some(spec) = &l.spec else { return false };
    if spec.holder_identity.as_deref().unwrap_or("").is_empty() {
        return false;
    }
    let Some(renew) = spec
        .renew_time
        .as_ref()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t.0.as_second()).ok())
    else {
        return false;
    };
    let duration = i64::from(spec.lease_duration_seconds.unwrap_or(15));
    // One extra lease period of grace: a renewal in flight is not a dead manager.
    renew + time::Duration::seconds(duration * 2) >= now
}

fn spawn_lease(idx: usize, conn: &ClusterConn, tx: UnboundedSender<Msg>) {
    let api: kube::Api<Lease> = kube::Api::namespaced(conn.client.clone(), &conn.namespace);
    tokio::spawn(async move {
        let cfg =
            watcher::Config::default().fields(&format!("metadata.name={}", consts::LEASE_NAME));
        let stream = kube::runtime::WatchStreamExt::default_backoff(watcher::watcher(api, cfg));
        let mut stream = std::pin::pin!(stream);
        let mut lease: Option<Lease> = None;
        let mut listed = false;
        let mut last: Option<bool> = None;
        let mut tick = tokio::time::interval(LEASE_CHECK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                item = stream.next() => {
                    let Some(item) = item else { return };
                    match item {
                        Ok(watcher::Event::Apply(l)) | Ok(watcher::Event::InitApply(l)) => lease = Some(l),
                        Ok(watcher::Event::Delete(_)) => lease = None,
                        Ok(watcher::Event::Init) => lease = None,
                        Ok(watcher::Event::InitDone) => listed = true,
                        Err(_) => continue,
                    }
                }
                _ = tick.tick() => {}
            }
            if !listed {
                continue;
            }
            let alive = lease
                .as_ref()
                .is_some_and(|l| lease_alive(l, OffsetDateTime::now_utc()));
            // Only changes are sent: every message costs a redraw.
            if last != Some(alive) {
                last = Some(alive);
                if !send(&tx, idx, ClusterMsg::ManagerRunning(alive)) {
                    return;
                }
            }
        }
    });
}

/// Performs the console's effects against the attached clusters.
pub struct Runner {
    pub conns: Vec<ClusterConn>,
    pub catalog: Arc<Catalog>,
}

/// The Component spec the console writes for `name` at `version`, from the catalog; None for
/// names without a chart (meta-platforms are bundles of their members).
pub fn component_spec(catalog: &Catalog, name: &str, version: &str) -> Option<ComponentSpec> {
    let c = catalog.get(name)?;
    Some(ComponentSpec {
        chart: c.chart.name.clone(),
        version: version.to_string(),
        category: Some(c.category.as_str().to_string()),
        dependencies: c.requires.clone(),
        values: None,
        repository: Some(c.chart.repository.clone()),
        target_namespace: Some(c.namespace.clone()),
        delivery: None,
        upgrade_at: None,
        upgrade_timeout_seconds: None,
        upgrade: None,
        retry: None,
        reconcile_requested_at: None,
        suspend: false,
    })
}

fn report(tx: &UnboundedSender<Msg>, cluster: usize, what: String, r: Result<(), ClusterError>) {
    let msg = match r {
        Ok(()) => ClusterMsg::WriteDone { what },
        Err(e) => ClusterMsg::WriteFailed {
            what,
            error: e.to_string(),
        },
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
        let conn_of = |i: usize| self.conns.get(i).cloned();
        match effect {
            Effect::Copy(text) => {
                // OSC 52: the terminal (even at the far end of ssh) puts it on the clipboard.
                let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                let mut out = std::io::stdout();
                let _ = write!(out, "\x1b]52;c;{b64}\x07");
                let _ = out.flush();
            }
            Effect::SetTheme(_) => {}
            Effect::RefreshCatalog => {
                let conns = self.conns.clone();
                tokio::spawn(async move {
                    let msg = refresh_catalog(&conns).await;
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
                    let mut result = Ok(());
                    // Dependencies first: the manager orders delivery anyway, but a partial
                    // failure then leaves only complete prerequisites behind.
                    for (name, version) in &components {
                        let Some(spec) = component_spec(&catalog, name, version) else {
                            continue;
                        };
                        if let Err(e) = commands::install(&conn, &platform, name, &spec).await {
                            result = Err(e);
                            break;
                        }
                    }
                    report(&tx, cluster, what, result);
                });
            }
            Effect::Uninstall {
                cluster,
                platform,
                name,
            } => {
                let Some(conn) = conn_of(cluster) else { return };
                tokio::spawn(async move {
                    let r = commands::uninstall(&conn, &platform, &name)
                        .await
                        .map(|_| ());
                    report(&tx, cluster, format!("uninstall {name}"), r);
                });
            }
            Effect::SetVersion {
                cluster,
                platform,
                name,
                version,
            } => {
                let Some(conn) = conn_of(cluster) else { return };
                tokio::spawn(async move {
                    let r = commands::set_version(&conn, &platform, &name, &version).await;
                    report(&tx, cluster, format!("upgrade {name} to {version}"), r);
                });
            }
            Effect::ScheduleUpgrade {
                cluster,
                platform,
                name,
                version,
                when,
            } => {
                let Some(conn) = conn_of(cluster) else { return };
                tokio::spawn(async move {
                    // For the maintenance window the earliest time is now; the manager then
                    // waits for the Platform's window to open.
                    let at = match &when {
                        When::At(at) => parse_time(at),
                        When::MaintenanceWindow => Ok(Time(k8s_openapi::jiff::Timestamp::now())),
                    };
                    let what = format!("schedule {name} {version}");
                    match at {
                        Ok(at) => {
                            let r =
                                commands::schedule_upgrade(&conn, &platform, &name, &version, at)
                                    .await;
                            report(&tx, cluster, what, r);
                        }
                        Err(error) => {
                            let _ = tx.send(Msg::Cluster {
                                cluster,
                                msg: ClusterMsg::WriteFailed { what, error },
                            });
                        }
                    }
                });
            }
        }
    }
}

/// Reload the catalog: from the ConfigMap the Platform names, else the embedded one.
async fn refresh_catalog(conns: &[ClusterConn]) -> Msg {
    let Some(conn) = conns.first() else {
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
    let cms: kube::Api<ConfigMap> = kube::Api::namespaced(conn.client.clone(), &conn.namespace);
    let origin = format!("ConfigMap {}/{cm_name}", conn.namespace);
    match cms.get(&cm_name).await {
        Ok(cm) => {
            let data: BTreeMap<String, String> = cm.data.unwrap_or_default();
            match data.get(consts::CATALOG_CONFIGMAP_KEY) {
                Some(text) => match crate::catalog::from_configmap_data(text, &origin) {
                    Ok(cat) => Msg::CatalogRefreshed {
                        source: origin,
                        entries: catalog_entries(&cat),
                    },
                    Err(e) => Msg::CatalogRefreshFailed {
                        error: e.to_string(),
                    },
                },
                None => Msg::CatalogRefreshFailed {
                    error: format!("{origin} has no data.{}", consts::CATALOG_CONFIGMAP_KEY),
                },
            }
        }
        Err(e) => Msg::CatalogRefreshFailed {
            error: format!("{origin}: {}", crate::cluster::error::chain_text(&e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(status: serde_json::Value) -> Component {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "openova.io/v1alpha1", "kind": "Component",
            "metadata": { "name": "grafana", "namespace": "openova-system" },
            "spec": { "chart": "bp-grafana", "version": "11.4.0", "dependencies": ["cnpg"],
                      "values": { "adminUser": "admin" } },
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn component_view_rolled_back_upgrade_shows_failed_and_restored_versions() {
        let c = component(serde_json::json!({
            "phase": "Running", "health": "Degraded", "version": "11.3.0",
            "lastGoodVersion": "11.3.0", "availableUpgrades": ["11.4.0"],
            "upgrade": { "from": "11.3.0", "to": "11.4.0", "state": "RolledBack",
                         "startedAt": "2026-02-08T10:00:00Z", "finishedAt": "2026-02-08T10:10:00Z",
                         "message": "pods not ready" },
            "endpoints": [ { "name": "ui", "url": "https://grafana.acme.io" } ],
        }));
        let v = component_view(&c);
        assert_eq!(v.health, Health::Degraded);
        assert_eq!(v.installed_version.as_deref(), Some("11.3.0"));
        assert_eq!(v.upgrade(), Some("11.4.0"));
        let rb = v.rollback.expect("rollback shown");
        assert_eq!((rb.from.as_str(), rb.to.as_str()), ("11.4.0", "11.3.0"));
        assert_eq!(rb.reason, "pods not ready");
        assert!(rb.rolled_back);
        assert_eq!(v.endpoints[0].url, "https://grafana.acme.io");
        assert!(v.values.contains("adminUser: admin"), "{}", v.values);
    }

    #[test]
    fn component_view_failed_upgrade_without_rollback_stays_on_record() {
        let c = component(serde_json::json!({
            "phase": "Failed", "health": "Failed", "version": "11.4.0",
            "upgrade": { "from": "11.3.0", "to": "11.4.0", "state": "Failed",
                         "startedAt": "2026-02-08T10:00:00Z", "finishedAt": "2026-02-08T10:10:00Z",
                         "message": "UpgradeFailed: pods not ready" },
        }));
        let v = component_view(&c);
        let rb = v.rollback.clone().expect("the failure is shown");
        assert!(!rb.rolled_back);
        assert_eq!((rb.from.as_str(), rb.to.as_str()), ("11.4.0", "11.3.0"));
        let mut m = crate::tui::manage::fixtures::sample();
        m.clusters[0].components.insert(v.name.clone(), v);
        assert!(
            m.upgrade_rows().iter().any(|r| r.name == "grafana"),
            "listed in Upgrades although no newer version is available"
        );
    }

    #[test]
    fn component_view_without_status_is_unknown_not_healthy() {
        let mut c = component(serde_json::json!({}));
        c.status = None;
        let v = component_view(&c);
        assert_eq!(v.health, Health::Unknown);
        assert_eq!(v.shown_version(), "11.4.0");
    }

    #[test]
    fn component_view_scheduled_upgrade_shows_when() {
        let c = component(serde_json::json!({
            "upgrade": { "from": "11.3.0", "to": "11.4.0", "state": "Scheduled",
                         "startedAt": "2026-02-08T10:00:00Z", "scheduledFor": "2026-02-09T02:00:00Z" },
        }));
        assert_eq!(
            component_view(&c).scheduled.as_deref(),
            Some("2026-02-09 02:00 UTC")
        );
    }

    #[test]
    fn catalog_entries_embedded_meta_platform_lists_members_and_options() {
        let entries = catalog_entries(crate::catalog::embedded());
        let meta = entries
            .iter()
            .find(|e| e.group == Group::MetaPlatform)
            .expect("a meta-platform");
        assert!(!meta.requires.is_empty());
        let cilium = entries.iter().find(|e| e.name == "cilium").expect("cilium");
        assert_eq!(cilium.group, Group::Mandatory);
        assert!(cilium.changelog.len() >= 2, "changelog newest first");
    }

    #[test]
    fn component_spec_from_catalog_names_chart_and_dependencies() {
        let s = component_spec(crate::catalog::embedded(), "debezium", "1.0.0").expect("known");
        assert_eq!(s.dependencies, ["strimzi"]);
        assert_eq!(s.version, "1.0.0");
        assert!(component_spec(crate::catalog::embedded(), "no-such", "1").is_none());
    }

    #[test]
    fn lease_alive_expired_renewal_is_not_running() {
        let now = OffsetDateTime::now_utc();
        let lease = |ago: i64| -> Lease {
            serde_json::from_value(serde_json::json!({
                "metadata": { "name": "openova-manager" },
                "spec": { "holderIdentity": "pod-1", "leaseDurationSeconds": 15,
                          "renewTime": (now - time::Duration::seconds(ago))
                              .format(&time::format_description::well_known::Rfc3339).unwrap() }
            }))
            .unwrap()
        };
        assert!(lease_alive(&lease(5), now));
        assert!(!lease_alive(&lease(120), now));
    }
}
