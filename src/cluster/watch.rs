//! Watches Platform and Component resources of one cluster: a watcher + reflector per kind
//! (never list polling), reconnecting with backoff, forwarding typed messages to the console.

use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt as _, TryStreamExt as _};
use kube::Resource;
use kube::runtime::reflector::{self, Store};
use kube::runtime::utils::{Backoff, WatchStreamExt as _};
use kube::runtime::watcher;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::connect::ClusterConn;
use super::error::{CallSite, ClusterError};
use crate::crd::{Component, Platform};

/// Which resource kind a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatchedKind {
    Platform,
    Component,
}

impl WatchedKind {
    /// `plural.group`, as RBAC and CRD names spell it.
    pub fn resource(self) -> &'static str {
        match self {
            WatchedKind::Platform => "platforms.openova.io",
            WatchedKind::Component => "components.openova.io",
        }
    }
}

/// What happened on a cluster, for the console's update loop.
#[derive(Debug)]
pub enum ClusterMsg {
    /// A Platform was created or changed.
    PlatformApplied(Arc<Platform>),
    /// A Platform was deleted.
    PlatformDeleted(Arc<Platform>),
    /// A Component was created or changed.
    ComponentApplied(Arc<Component>),
    /// A Component was deleted.
    ComponentDeleted(Arc<Component>),
    /// A complete list arrived (at start or after a re-list): the store for `kind` now holds
    /// exactly what the server has; objects missing from it were deleted meanwhile.
    Synced { kind: WatchedKind },
    /// The watch of `kind` failed; it is retried with backoff until it works again.
    Disconnected {
        kind: WatchedKind,
        error: ClusterError,
    },
    /// The API server answers again after a `Disconnected`.
    Reconnected { kind: WatchedKind },
}

/// A message and the cluster (kubeconfig context) it comes from.
#[derive(Debug)]
pub struct ClusterEvent {
    pub context: Arc<str>,
    pub msg: ClusterMsg,
}

/// Running watches of one cluster. The stores are what screens read; dropping this stops the
/// watches.
pub struct ClusterWatch {
    pub platforms: Store<Platform>,
    pub components: Store<Component>,
    tasks: Vec<JoinHandle<()>>,
}

impl ClusterWatch {
    /// Waits until both stores hold a complete first list.
    pub async fn wait_until_ready(&self) {
        let _ = self.platforms.wait_until_ready().await;
        let _ = self.components.wait_until_ready().await;
    }
}

impl Drop for ClusterWatch {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts watching Platforms and Components in `conn.namespace`, sending messages to `tx`.
/// Must be called inside a tokio runtime.
pub fn watch(conn: &ClusterConn, tx: mpsc::Sender<ClusterEvent>) -> ClusterWatch {
    let context: Arc<str> = Arc::from(conn.context.as_str());
    let (platforms, p_task) = spawn_kind::<Platform>(
        conn,
        context.clone(),
        WatchedKind::Platform,
        tx.clone(),
        ClusterMsg::PlatformApplied,
        ClusterMsg::PlatformDeleted,
    );
    let (components, c_task) = spawn_kind::<Component>(
        conn,
        context,
        WatchedKind::Component,
        tx,
        ClusterMsg::ComponentApplied,
        ClusterMsg::ComponentDeleted,
    );
    ClusterWatch {
        platforms,
        components,
        tasks: vec![p_task, c_task],
    }
}

fn spawn_kind<K>(
    conn: &ClusterConn,
    context: Arc<str>,
    kind: WatchedKind,
    tx: mpsc::Sender<ClusterEvent>,
    applied: fn(Arc<K>) -> ClusterMsg,
    deleted: fn(Arc<K>) -> ClusterMsg,
) -> (Store<K>, JoinHandle<()>)
where
    K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let api: kube::Api<K> = kube::Api::namespaced(conn.client.clone(), &conn.namespace);
    let (reader, writer) = reflector::store::<K>();
    // Default list+watch: a 1.20 API server has no streaming lists.
    let stream = reflector::reflector(writer, watcher::watcher(api, watcher::Config::default()))
        .backoff(ConsoleBackoff::default());
    let probe_api: kube::Api<K> = kube::Api::namespaced(conn.client.clone(), &conn.namespace);
    let address = conn.server_url.clone();
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream.into_stream());
        let mut disconnected = false;
        let mut probe = tokio::time::interval(PROBE_INTERVAL);
        probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let item = tokio::select! {
                item = stream.next() => item,
                _ = probe.tick(), if disconnected => {
                    // A resumed watch says nothing until something changes, so ask the server
                    // directly whether it is back: a one-item list needs exactly the access the
                    // watch needs, and runs only while disconnected.
                    if probe_api.list_metadata(&kube::api::ListParams::default().limit(1)).await.is_ok() {
                        disconnected = false;
                        if send(&tx, &context, ClusterMsg::Reconnected { kind }).await.is_err() {
                            return;
                        }
                    }
                    continue;
                }
            };
            let Some(item) = item else { return };
            let msg = match item {
                Ok(event) => {
                    if disconnected {
                        disconnected = false;
                        if send(&tx, &context, ClusterMsg::Reconnected { kind })
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    match event {
                        watcher::Event::Apply(obj) => applied(Arc::new(obj)),
                        watcher::Event::Delete(obj) => deleted(Arc::new(obj)),
                        watcher::Event::InitDone => ClusterMsg::Synced { kind },
                        // The store swaps in the complete list at InitDone; single objects of a
                        // list in progress are not worth a redraw each.
                        watcher::Event::Init | watcher::Event::InitApply(_) => continue,
                    }
                }
                Err(err) if is_expired(&err) => {
                    // 410 Gone: the server no longer has our resourceVersion (always the case
                    // right after an API server restart). The watcher re-lists by itself and a
                    // `Synced` follows; nothing is wrong from the operator's point of view.
                    tracing::debug!(context = %context, ?kind, "watch expired; re-listing");
                    continue;
                }
                Err(err) => {
                    let error = classify_watch_error(err, &context, &address, kind);
                    tracing::debug!(context = %context, ?kind, %error, "watch failed");
                    if disconnected {
                        continue;
                    }
                    disconnected = true;
                    probe.reset();
                    ClusterMsg::Disconnected { kind, error }
                }
            };
            if send(&tx, &context, msg).await.is_err() {
                // The console went away: nobody to tell.
                return;
            }
        }
    });
    (reader, task)
}

const PROBE_INTERVAL: Duration = Duration::from_secs(1);

async fn send(
    tx: &mpsc::Sender<ClusterEvent>,
    context: &Arc<str>,
    msg: ClusterMsg,
) -> Result<(), mpsc::error::SendError<ClusterEvent>> {
    tx.send(ClusterEvent {
        context: context.clone(),
        msg,
    })
    .await
}

fn is_expired(err: &watcher::Error) -> bool {
    match err {
        watcher::Error::WatchError(status) => status.code == 410,
        watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status)) => status.code == 410,
        _ => false,
    }
}

fn classify_watch_error(
    err: watcher::Error,
    context: &str,
    address: &str,
    kind: WatchedKind,
) -> ClusterError {
    let (verb, source) = match err {
        watcher::Error::InitialListFailed(e) => ("list", e),
        watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => ("watch", e),
        watcher::Error::WatchError(status) => ("watch", kube::Error::Api(status)),
        watcher::Error::NoResourceVersion => {
            return ClusterError::Api {
                doing: format!("watching {}", kind.resource()),
                source: kube::Error::Discovery(kube::error::DiscoveryError::MissingResource(
                    "no resourceVersion in list".into(),
                )),
            };
        }
    };
    if let kube::Error::Api(status) = &source
        && status.code == 404
    {
        // Listing a resource type the server does not know: the CRD is not installed.
        return ClusterError::CrdsMissing {
            context: context.to_owned(),
            crd: kind.resource().to_owned(),
        };
    }
    ClusterError::from_kube(
        source,
        CallSite {
            context,
            address,
            verb,
            resource: kind.resource(),
        },
    )
}

/// Exponential backoff from 250 ms to 5 s: an operator watching a console wants it back within
/// seconds of the API server returning, and one console is no load worth protecting against.
#[derive(Debug, Clone)]
struct ConsoleBackoff {
    next: Duration,
}

const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

impl Default for ConsoleBackoff {
    fn default() -> Self {
        Self { next: BACKOFF_MIN }
    }
}

impl Iterator for ConsoleBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let current = self.next;
        self.next = (current * 2).min(BACKOFF_MAX);
        Some(current)
    }
}

impl Backoff for ConsoleBackoff {
    fn reset(&mut self) {
        self.next = BACKOFF_MIN;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_seconds_and_resets() {
        let mut b = ConsoleBackoff::default();
        let first: Vec<_> = b.by_ref().take(7).collect();
        assert_eq!(first[0], Duration::from_millis(250));
        assert_eq!(first[1], Duration::from_millis(500));
        assert_eq!(first[6], Duration::from_secs(5));
        b.reset();
        assert_eq!(b.next(), Some(Duration::from_millis(250)));
    }

    #[test]
    fn watch_list_404_is_crds_missing() {
        let status = kube::core::Status {
            code: 404,
            ..Default::default()
        };
        let err = watcher::Error::InitialListFailed(kube::Error::Api(Box::new(status)));
        let e = classify_watch_error(err, "ctx", "https://x", WatchedKind::Component);
        assert!(
            matches!(&e, ClusterError::CrdsMissing { crd, .. } if crd == "components.openova.io"),
            "{e:?}"
        );
    }
}
