//! The console's watchers of one cluster: Platform, Components, Events and the manager's Lease,
//! reported to the console as messages (only when what the console shows changed).

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt as _;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Event as KubeEvent;
use kube::runtime::watcher;
use time::OffsetDateTime;
use tokio::sync::mpsc::{self, UnboundedSender};

use super::model::{ComponentView, EventView, MAX_EVENTS, PlatformView};
use super::update::{ClusterMsg, Msg};
use super::views::{component_view, event_view, platform_view};
use crate::cluster::connect::ClusterConn;
use crate::cluster::error::ClusterError;
use crate::cluster::watch::{self, ClusterMsg as WatchMsg, WatchedKind};
use crate::crd::consts;

/// How often the manager's Lease is re-judged: a Lease that stops being renewed produces no
/// watch event, so expiry has to be noticed by looking at the clock.
const LEASE_CHECK: Duration = Duration::from_secs(5);

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
                Some(ClusterMsg::PlatformChanged(p.map(Box::new)))
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

#[cfg(test)]
mod tests {
    use super::*;

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
