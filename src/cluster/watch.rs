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
    let probe: Probe<K> = Probe {
        api: kube::Api::namespaced(conn.client.clone(), &conn.namespace),
        context: context.clone(),
        address: conn.server_url.clone(),
        kind,
    };
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream.into_stream());
        let mut disconnected = false;
        let mut retry = tokio::time::interval(PROBE_INTERVAL);
        retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // A server that dies (or a network that drops) while the watch is idle may say nothing
        // for minutes: a silent watch is checked on with a cheap request every LIVE_PROBE.
        let mut quiet =
            tokio::time::interval_at(tokio::time::Instant::now() + LIVE_PROBE, LIVE_PROBE);
        quiet.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let item = tokio::select! {
                item = stream.next() => item,
                _ = retry.tick(), if disconnected => {
                    // A resumed watch says nothing until something changes, so ask the server
                    // directly whether it is back; runs only while disconnected.
                    if probe.check().await.is_ok() {
                        disconnected = false;
                        quiet.reset();
                        if send(&tx, &context, ClusterMsg::Reconnected { kind }).await.is_err() {
                            return;
                        }
                    }
                    continue;
                }
                _ = quiet.tick(), if !disconnected => {
                    let Err(error) = probe.check().await else { continue };
                    tracing::debug!(context = %context, ?kind, %error, "probe failed");
                    disconnected = true;
                    retry.reset();
                    if send(&tx, &context, ClusterMsg::Disconnected { kind, error }).await.is_err() {
                        return;
                    }
                    continue;
                }
            };
            quiet.reset();
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
                    let error = classify_watch_error(err, &context, &probe.address, kind);
                    tracing::debug!(context = %context, ?kind, %error, "watch failed");
                    if disconnected {
                        continue;
                    }
                    disconnected = true;
                    retry.reset();
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

/// A one-item list of the watched kind: it needs exactly the access the watch needs, and
/// answers within [`PROBE_TIMEOUT`] or counts as unreachable.
struct Probe<K> {
    api: kube::Api<K>,
    context: Arc<str>,
    address: String,
    kind: WatchedKind,
}

impl<K> Probe<K>
where
    K: Resource<DynamicType = ()> + Clone + std::fmt::Debug + DeserializeOwned + 'static,
{
    async fn check(&self) -> Result<(), ClusterError> {
        let params = kube::api::ListParams::default().limit(1);
        let list = self.api.list_metadata(&params);
        match tokio::time::timeout(PROBE_TIMEOUT, list).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(classify_watch_error(
                watcher::Error::InitialListFailed(e),
                &self.context,
                &self.address,
                self.kind,
            )),
            Err(_) => Err(ClusterError::Unreachable {
                context: self.context.to_string(),
                address: self.address.clone(),
                reason: format!("no answer within {} s", PROBE_TIMEOUT.as_secs()),
            }),
        }
    }
}

/// How long a watch may stay silent before the server is asked whether it is still there.
const LIVE_PROBE: Duration = Duration::from_secs(2);
/// How long a probe may take; with [`LIVE_PROBE`] a dead server is noticed within 4 s.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
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

    #[tokio::test]
    async fn a_server_that_stops_answering_is_reported_within_five_seconds() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Accepts connections and never answers: a hung server or a dropped network looks so.
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let url = format!("http://{addr}");
        let client = kube::Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap();
        let conn = ClusterConn {
            context: "ctx".into(),
            namespace: "ns".into(),
            client,
            server_url: url.clone(),
        };
        let (tx, mut rx) = mpsc::channel(16);
        let _watch = watch(&conn, tx);
        let ev = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("the silent server is reported within 5 s")
            .unwrap();
        match ev.msg {
            ClusterMsg::Disconnected {
                error: ClusterError::Unreachable { address, .. },
                ..
            } => assert_eq!(address, url),
            other => panic!("expected Unreachable, got {other:?}"),
        }
    }
}
