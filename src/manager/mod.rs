//! `openova manager`: the in-cluster Lifecycle Manager. Owns the Platform and Component
//! controllers, the delivery backends, leader election and the HTTP endpoint. The manifests that
//! deploy it are [`crate::deploy`]'s.

pub mod component;
pub mod delivery;
pub mod events;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod platform;
pub mod schedule;
#[cfg(feature = "dev-tools")]
pub mod stand_in;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Controller, WatchStreamExt as _, controller, watcher};
use kube::{Client, ResourceExt};

use crate::catalog::Catalog;
use crate::cmd::CmdResult;
use crate::crd::consts;
use crate::crd::{Component, DeliveryBackend, Platform};

pub use metrics::Metrics;

/// Arguments of `openova manager`.
#[derive(Debug, Clone, clap::Args)]
pub struct ManagerArgs {
    /// Namespace holding the Platform and Component resources (and the Lease).
    #[arg(long, env = "POD_NAMESPACE", default_value = consts::NAMESPACE)]
    pub namespace: String,
    /// Kubeconfig file to use outside a cluster (in a cluster the service account is used).
    #[arg(long, env = "KUBECONFIG", value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use.
    #[arg(long)]
    pub context: Option<String>,
    /// Address for /healthz, /readyz and /metrics.
    #[arg(long, default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Identity in the leader election (the pod name in a cluster).
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// Seconds a leader's Lease stays valid without renewal; a standby takes over after that.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(2..=300))]
    pub lease_seconds: u64,
    /// Minutes between update checks against the catalog.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub update_check_minutes: u64,
    /// Seconds an install or upgrade may take before it counts as failed, unless the Component
    /// says otherwise.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub upgrade_timeout_seconds: u64,
}

/// Tunables of a running manager.
#[derive(Clone, Debug)]
pub struct Settings {
    pub namespace: String,
    pub identity: String,
    pub lease: Duration,
    pub update_check: Duration,
    pub default_timeout: Duration,
    /// How often kinds that were not served are probed again.
    pub reprobe: Duration,
    /// What the delivery backends lack, shared with `/readyz`.
    pub prerequisites: Arc<Prerequisites>,
}

/// Missing prerequisites of the manager (delivery CRDs), for `/readyz` and the Platform status.
#[derive(Debug, Default)]
pub struct Prerequisites {
    missing: Mutex<Vec<(DeliveryBackend, String)>>,
}

impl Prerequisites {
    fn set(&self, missing: Vec<(DeliveryBackend, String)>) {
        if let Ok(mut m) = self.missing.lock() {
            *m = missing;
        }
    }

    /// Why `backend` cannot deliver (its kinds are not served), if it cannot.
    pub fn missing_for(&self, backend: DeliveryBackend) -> Option<String> {
        let m = self.missing.lock().ok()?;
        let reasons: Vec<&str> = m
            .iter()
            .filter(|(b, _)| *b == backend)
            .map(|(_, why)| why.as_str())
            .collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    /// Every missing prerequisite, for `/readyz`; `None` when nothing is missing.
    pub fn problem(&self) -> Option<String> {
        let m = self.missing.lock().ok()?;
        (!m.is_empty()).then(|| {
            m.iter()
                .map(|(_, why)| why.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

/// Why a delivery kind is missing, said so the operator knows what to install.
fn missing_text(resource: &ApiResource) -> String {
    let what = match resource.group.as_str() {
        "helm.crossplane.io" => "Crossplane provider-helm",
        _ => "Flux",
    };
    format!(
        "DeliveryCRDsMissing: the API server does not serve {} ({}); install {what} (the manager picks it up without a restart)",
        resource.kind, resource.api_version
    )
}

impl Settings {
    /// Settings for a manager in `namespace` with the defaults of the command line.
    pub fn new(namespace: &str, identity: &str) -> Self {
        Settings {
            namespace: namespace.to_string(),
            identity: identity.to_string(),
            lease: Duration::from_secs(15),
            update_check: Duration::from_secs(3600),
            default_timeout: component::DEFAULT_TIMEOUT,
            reprobe: Duration::from_secs(30),
            prerequisites: Arc::new(Prerequisites::default()),
        }
    }
}

/// What went wrong in the manager.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    #[error("Kubernetes API call failed while {doing}: {source}")]
    KubeApi {
        doing: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not encode {what}: {message}")]
    Encode { what: String, message: String },
    #[error(transparent)]
    Catalog(#[from] crate::catalog::LoadError),
    #[error("leader election on Lease openova-manager: {0}")]
    Leader(#[from] kube_lease_manager::LeaseManagerError),
    #[error("could not build the Kubernetes client configuration: {0}")]
    ClientConfig(String),
    #[error("could not listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

impl ManagerError {
    pub(crate) fn kube(doing: impl Into<String>, source: kube::Error) -> Self {
        ManagerError::KubeApi {
            doing: doing.into(),
            source,
        }
    }
}

/// Shared state of the controllers.
pub struct Context {
    pub client: Client,
    pub namespace: String,
    pub settings: Settings,
    pub metrics: Arc<Metrics>,
    platforms: Store<Platform>,
    components: Store<Component>,
    events: events::Publisher,
    catalogs: Mutex<HashMap<String, (Arc<Catalog>, Instant)>>,
    backoff: Mutex<HashMap<String, u32>>,
    /// Wakes a Platform whose Component went away (see `run_controllers`).
    platform_wake: tokio::sync::mpsc::UnboundedSender<ObjectRef<Platform>>,
    /// Wakes Components whose Platform changed what they decide from (window, removals).
    component_wake: tokio::sync::mpsc::UnboundedSender<ObjectRef<Component>>,
    /// What each Platform's Components last decided from, by Platform key.
    platform_inputs: Mutex<HashMap<String, String>>,
    /// Watched delivery objects, by kind: read from here instead of from the API server.
    delivery: HashMap<String, Store<DynamicObject>>,
}

/// How long a reconcile waits for its own write to come back through the watch before it
/// finishes anyway.
const CATCH_UP: Duration = Duration::from_secs(5);

/// Wait until `store` no longer holds the object at resourceVersion `seen` (`None`: absent),
/// i.e. until a write made from that version is visible, so the next reconcile of the object
/// decides from fresh state instead of repeating the write. Bounded by [`CATCH_UP`].
pub(crate) async fn caught_up<K>(store: &Store<K>, key: &ObjectRef<K>, seen: Option<&str>)
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    let deadline = Instant::now() + CATCH_UP;
    loop {
        let now = store
            .get(key)
            .and_then(|o| o.meta().resource_version.clone());
        if now.as_deref() != seen || Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How long a catalog read from a ConfigMap is reused before it is read again.
const CATALOG_TTL: Duration = Duration::from_secs(30);

impl Context {
    fn platform_of(&self, c: &Component) -> Option<Arc<Platform>> {
        let name = c.labels().get(consts::LABEL_PLATFORM)?;
        let ns = c.namespace()?;
        self.platforms.get(&ObjectRef::new(name).within(&ns))
    }

    fn component(&self, ns: &str, name: &str) -> Option<Arc<Component>> {
        self.components.get(&ObjectRef::new(name).within(ns))
    }

    fn components_in(&self, ns: &str) -> Vec<Arc<Component>> {
        self.components
            .state()
            .into_iter()
            .filter(|c| c.namespace().as_deref() == Some(ns))
            .collect()
    }

    fn dynamic_api(
        &self,
        resource: &ApiResource,
        namespaced: bool,
        ns: &str,
    ) -> Api<DynamicObject> {
        if namespaced {
            Api::namespaced_with(self.client.clone(), ns, resource)
        } else {
            Api::all_with(self.client.clone(), resource)
        }
    }

    /// The catalog a Platform uses: the embedded one, or the one in its ConfigMap.
    async fn catalog_for(&self, platform: Option<&Platform>) -> Result<Arc<Catalog>, ManagerError> {
        let source = platform.and_then(|p| {
            let cm = p.spec.catalog.as_ref()?.config_map.clone()?;
            Some((p.namespace().unwrap_or_else(|| self.namespace.clone()), cm))
        });
        let key = match &source {
            None => String::new(),
            Some((ns, name)) => format!("{ns}/{name}"),
        };
        if let Ok(cache) = self.catalogs.lock()
            && let Some((cat, at)) = cache.get(&key)
            && (source.is_none() || at.elapsed() < CATALOG_TTL)
        {
            return Ok(cat.clone());
        }
        let catalog = match &source {
            None => Arc::new(crate::catalog::embedded().clone()),
            Some((ns, name)) => {
                Arc::new(crate::catalog::read_configmap(&self.client, ns, name).await?)
            }
        };
        if let Ok(mut cache) = self.catalogs.lock() {
            cache.insert(key, (catalog.clone(), Instant::now()));
        }
        Ok(catalog)
    }

    /// Exponential back-off per object: 1 s, 2 s, 4 s … capped at 5 minutes.
    fn next_backoff(&self, key: &str) -> Duration {
        let attempts = self
            .backoff
            .lock()
            .map(|mut m| {
                let n = m.entry(key.to_string()).or_insert(0);
                *n = n.saturating_add(1);
                *n
            })
            .unwrap_or(1);
        backoff_delay(attempts)
    }

    /// Wake the Components of `p` when what they decide from on the Platform (maintenance
    /// window, confirmed removals, delivery) changed since the last look. The first look only
    /// records it: every Component reconciles on start anyway.
    fn wake_components_on_change(&self, p: &Platform, components: &[Arc<Component>]) {
        let inputs = serde_json::to_string(&(
            &p.spec.maintenance_window,
            &p.spec.removals,
            &p.spec.delivery,
        ))
        .unwrap_or_default();
        let key = format!("{}/{}", p.namespace().unwrap_or_default(), p.name_any());
        let changed = self
            .platform_inputs
            .lock()
            .map(|mut m| {
                m.insert(key, inputs.clone())
                    .is_some_and(|old| old != inputs)
            })
            .unwrap_or(false);
        if changed {
            for c in components {
                let _ = self.component_wake.send(ObjectRef::from_obj(&**c));
            }
        }
    }

    /// Why `backend` cannot deliver now (its CRDs are not served), if it cannot.
    fn delivery_missing(&self, backend: DeliveryBackend) -> Option<String> {
        self.settings.prerequisites.missing_for(backend)
    }

    fn forget_backoff(&self, key: &str) {
        if let Ok(mut m) = self.backoff.lock() {
            m.remove(key);
        }
    }
}

/// Delay before retry number `attempts` (1-based): doubling from one second, at most five minutes.
pub fn backoff_delay(attempts: u32) -> Duration {
    let exp = attempts.saturating_sub(1).min(9);
    Duration::from_secs(1u64 << exp).min(Duration::from_secs(300))
}

/// Whether the API server serves `resource` (its CRD is installed).
async fn served(client: &Client, resource: &ApiResource, namespaced: bool, ns: &str) -> bool {
    let api: Api<DynamicObject> = if namespaced {
        Api::namespaced_with(client.clone(), ns, resource)
    } else {
        Api::all_with(client.clone(), resource)
    };
    match api.list(&ListParams::default().limit(1)).await {
        Ok(_) => true,
        Err(error) => {
            tracing::debug!(kind = %resource.kind, %error, "delivery kind not served");
            false
        }
    }
}

/// A watch on delivery objects of one kind, feeding a store; the returned stream yields every
/// object that changed (or went away), for waking its Component.
fn delivery_watch(
    api: Api<DynamicObject>,
    resource: &ApiResource,
    config: watcher::Config,
) -> (
    Store<DynamicObject>,
    impl futures::Stream<Item = Result<DynamicObject, watcher::Error>> + Send + 'static,
) {
    let writer = reflector::store::Writer::new(resource.clone());
    let store = writer.as_reader();
    let changes = watcher(api, config)
        .default_backoff()
        .reflect(writer)
        .touched_objects();
    (store, changes)
}

/// Run the Platform and Component controllers until `shutdown` resolves. Call only while
/// holding the Lease. Delivery kinds that are not served are probed again every
/// `settings.reprobe`; when one appears (Flux installed after the manager) the controllers are
/// rebuilt in place, watching it.
pub async fn run_controllers(
    client: Client,
    settings: Settings,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    loop {
        let missing = missing_kinds(&client, &settings.namespace).await;
        for (_, resource, _) in &missing {
            tracing::warn!(kind = %resource.kind, "delivery kind not served; its Components cannot be delivered until it is");
        }
        let probe = missing.clone();
        settings.prerequisites.set(
            missing
                .iter()
                .map(|(b, r, _)| (*b, missing_text(r)))
                .collect(),
        );
        let (again_tx, again_rx) = tokio::sync::watch::channel(false);
        let prober = (!probe.is_empty()).then(|| {
            let (client, ns, every) =
                (client.clone(), settings.namespace.clone(), settings.reprobe);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let mut appeared = false;
                    for (_, resource, namespaced) in &probe {
                        appeared |= served(&client, resource, *namespaced, &ns).await;
                    }
                    if appeared {
                        tracing::info!(
                            "a delivery kind is served now; restarting the controllers to watch it"
                        );
                        let _ = again_tx.send(true);
                        return;
                    }
                }
            })
        });
        let served_kinds: Vec<String> = all_delivery_kinds()
            .into_iter()
            .filter(|(_, r, _)| !missing.iter().any(|(_, m, _)| m.kind == r.kind))
            .map(|(_, r, _)| r.kind)
            .collect();
        let mut stop = stop_rx.clone();
        let mut again = again_rx.clone();
        // A channel whose sender is gone (no prober) never says "again".
        let until = async move {
            tokio::select! {
                _ = stop.wait_for(|v| *v) => {}
                Ok(_) = again.wait_for(|v| *v) => {}
            }
        };
        run_once(
            client.clone(),
            settings.clone(),
            metrics.clone(),
            served_kinds,
            until,
        )
        .await;
        if let Some(p) = prober {
            p.abort();
        }
        if *stop_rx.borrow() {
            return;
        }
    }
}

/// Every delivery kind with its backend and whether it is namespaced.
fn all_delivery_kinds() -> Vec<(DeliveryBackend, ApiResource, bool)> {
    vec![
        (
            DeliveryBackend::Flux,
            delivery::flux::helm_release_resource(),
            true,
        ),
        (
            DeliveryBackend::Flux,
            delivery::flux::helm_repository_resource(),
            true,
        ),
        (
            DeliveryBackend::Crossplane,
            delivery::crossplane::release_resource(),
            false,
        ),
    ]
}

/// The delivery kinds the API server does not serve.
async fn missing_kinds(client: &Client, ns: &str) -> Vec<(DeliveryBackend, ApiResource, bool)> {
    let mut out = Vec::new();
    for (backend, resource, namespaced) in all_delivery_kinds() {
        if !served(client, &resource, namespaced, ns).await {
            out.push((backend, resource, namespaced));
        }
    }
    out
}

async fn run_once(
    client: Client,
    settings: Settings,
    metrics: Arc<Metrics>,
    served_kinds: Vec<String>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let ns = settings.namespace.clone();
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let platforms: Api<Platform> = Api::namespaced(client.clone(), &ns);
    let wc = watcher::Config::default();

    // One watch on Components feeds one store and wakes both controllers (each extra watch
    // costs the API server a copy of every Component event).
    let (comp_store, comp_writer) = reflector::store_shared::<Component>(1024);
    // Proven invariant: a writer made by `store_shared` always has a dispatcher, and `subscribe`
    // returns `None` only for writers made without one.
    #[allow(clippy::expect_used)]
    let subscribe = || {
        comp_writer
            .subscribe()
            .expect("a shared store hands out subscriptions")
    };
    let (comp_trigger, dep_trigger, plat_trigger) = (subscribe(), subscribe(), subscribe());
    let comp_feed = tokio::spawn(
        watcher(components.clone(), wc.clone())
            .default_backoff()
            .reflect_shared(comp_writer)
            .for_each(|_| async {}),
    );
    // Bounded so a cold start with many Components stays under the API server's in-flight
    // request limit instead of being throttled (429) into back-off.
    let mut comp_ctrl = Controller::for_shared_stream(comp_trigger, comp_store.clone())
        .with_config(controller::Config::default().concurrency(64));
    // Delivery objects are watched into stores: a reconcile reads them from memory, and a change
    // to one wakes its Component.
    let mut stores = HashMap::new();
    let owned = [
        delivery::flux::helm_release_resource(),
        delivery::flux::helm_repository_resource(),
    ];
    for resource in owned {
        if served_kinds.contains(&resource.kind) {
            let api = Api::<DynamicObject>::namespaced_with(client.clone(), &ns, &resource);
            let (store, changes) = delivery_watch(api, &resource, wc.clone());
            stores.insert(resource.kind.clone(), store);
            comp_ctrl = comp_ctrl.owns_stream_with(changes, resource);
        }
    }
    let release = delivery::crossplane::release_resource();
    if served_kinds.contains(&release.kind) {
        let ns2 = ns.clone();
        let managed = watcher::Config::default().labels(&format!(
            "{}={}",
            consts::LABEL_MANAGED_BY,
            consts::MANAGED_BY
        ));
        let api = Api::<DynamicObject>::all_with(client.clone(), &release);
        let (store, changes) = delivery_watch(api, &release, managed);
        stores.insert(release.kind.clone(), store);
        comp_ctrl = comp_ctrl.watches_stream_with(
            changes,
            move |r: DynamicObject| {
                r.labels()
                    .get(consts::LABEL_COMPONENT)
                    .map(|c| ObjectRef::<Component>::new(c).within(&ns2))
            },
            release,
        );
    }
    let ns3 = ns.clone();
    // A Component going away wakes its dependencies: an uninstall that was refused because of
    // it may proceed now. Other changes do not concern them.
    comp_ctrl = comp_ctrl.watches_shared_stream(dep_trigger, move |c: Arc<Component>| {
        let leaving = c.metadata.deletion_timestamp.is_some();
        c.spec
            .dependencies
            .iter()
            .filter(|_| leaving)
            .map(|d| ObjectRef::new(d).within(&ns3))
            .collect::<Vec<_>>()
    });
    let (cwake_tx, cwake_rx) = tokio::sync::mpsc::unbounded_channel::<ObjectRef<Component>>();
    comp_ctrl = comp_ctrl.reconcile_on(futures::stream::unfold(cwake_rx, |mut rx| async move {
        rx.recv().await.map(|r| (r, rx))
    }));
    let update_every = settings.update_check;
    comp_ctrl = comp_ctrl.reconcile_all_on(futures::stream::unfold((), move |()| async move {
        tokio::time::sleep(update_every).await;
        Some(((), ()))
    }));
    // The shared stream carries changes, not removals: a Component whose finalizer the
    // Component controller releases wakes its Platform through `platform_wake`.
    let (wake_tx, wake_rx) = tokio::sync::mpsc::unbounded_channel::<ObjectRef<Platform>>();
    let wakes =
        futures::stream::unfold(
            wake_rx,
            |mut rx| async move { rx.recv().await.map(|r| (r, rx)) },
        );
    let plat_ctrl = Controller::new(platforms, wc.clone())
        .owns_shared_stream(plat_trigger)
        .reconcile_on(wakes)
        // Component status changes arrive in bursts; one roll-up per burst is enough.
        .with_config(controller::Config::default().debounce(Duration::from_millis(500)));

    let ctx = Arc::new(Context {
        client: client.clone(),
        namespace: ns,
        metrics: metrics.clone(),
        platforms: plat_ctrl.store(),
        components: comp_store,
        platform_wake: wake_tx,
        component_wake: cwake_tx,
        platform_inputs: Mutex::new(HashMap::new()),
        events: events::Publisher::new(client, consts::MANAGER_NAME, &settings.identity),
        catalogs: Mutex::new(HashMap::new()),
        backoff: Mutex::new(HashMap::new()),
        delivery: stores,
        settings,
    });

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };
    let comp_run = comp_ctrl
        .graceful_shutdown_on(stop(stop_rx.clone()))
        .run(
            component::reconcile,
            |c: Arc<Component>, error: &ManagerError, ctx: Arc<Context>| {
                let key = format!("component/{}/{}", c.namespace().unwrap_or_default(), c.name_any());
                let delay = ctx.next_backoff(&key);
                tracing::warn!(component = %c.name_any(), %error, retry_in = ?delay, "reconcile failed");
                controller::Action::requeue(delay)
            },
            ctx.clone(),
        )
        .for_each(|_| async {});
    let plat_run = plat_ctrl
        .graceful_shutdown_on(stop(stop_rx))
        .run(
            platform::reconcile,
            |p: Arc<Platform>, error: &ManagerError, ctx: Arc<Context>| {
                let delay = ctx.next_backoff(&format!("platform/{}", p.name_any()));
                tracing::warn!(platform = %p.name_any(), %error, retry_in = ?delay, "reconcile failed");
                controller::Action::requeue(delay)
            },
            ctx,
        )
        .for_each(|_| async {});
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    futures::join!(comp_run, plat_run);
    comp_feed.abort();
}

/// A manager replica: serves HTTP, competes for the Lease and runs the controllers while leader.
pub async fn run_manager(
    client: Client,
    settings: Settings,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ManagerError> {
    leader::run_elected(client, settings, metrics, shutdown).await
}

async fn client_config(args: &ManagerArgs) -> Result<kube::Config, ManagerError> {
    {
        let options = kube::config::KubeConfigOptions {
            context: args.context.clone(),
            ..Default::default()
        };
        // KUBECONFIG may list several files (`a:b`), as kubectl allows: merge them in order.
        let files: Vec<PathBuf> = args
            .kubeconfig
            .iter()
            .flat_map(|p| std::env::split_paths(p.as_os_str()).collect::<Vec<_>>())
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        match files.split_first() {
            Some((first, rest)) => {
                let path = first;
                let mut kc = kube::config::Kubeconfig::read_from(first)
                    .map_err(|e| ManagerError::ClientConfig(format!("{}: {e}", first.display())))?;
                for more in rest {
                    let next = kube::config::Kubeconfig::read_from(more).map_err(|e| {
                        ManagerError::ClientConfig(format!("{}: {e}", more.display()))
                    })?;
                    kc = kc.merge(next).map_err(|e| {
                        ManagerError::ClientConfig(format!("{}: {e}", more.display()))
                    })?;
                }
                kube::Config::from_custom_kubeconfig(kc, &options)
                    .await
                    .map_err(|e| ManagerError::ClientConfig(format!("{}: {e}", path.display())))
            }
            None if args.context.is_some() => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|e| ManagerError::ClientConfig(e.to_string())),
            None => kube::Config::infer()
                .await
                .map_err(|e| ManagerError::ClientConfig(e.to_string())),
        }
    }
}

/// `openova manager`.
pub fn run(args: ManagerArgs) -> CmdResult {
    let _log_guard = crate::telemetry::init(crate::telemetry::LogTarget::Stderr);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let config = client_config(&args).await?;
        let client = Client::try_from(config).map_err(|e| ManagerError::ClientConfig(e.to_string()))?;
        let identity = args.identity.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "openova-manager".to_string());
            format!("{host}-{}", std::process::id())
        });
        let settings = Settings {
            namespace: args.namespace.clone(),
            identity,
            lease: Duration::from_secs(args.lease_seconds),
            update_check: Duration::from_secs(args.update_check_minutes * 60),
            default_timeout: Duration::from_secs(args.upgrade_timeout_seconds),
            reprobe: Duration::from_secs(30),
            prerequisites: Arc::new(Prerequisites::default()),
        };
        let metrics = Metrics::new();
        let (addr, server) = http::serve(args.listen, metrics.clone(), settings.prerequisites.clone())
            .await
            .map_err(|source| ManagerError::Listen {
                addr: args.listen,
                source,
            })?;
        tracing::info!(%addr, namespace = %settings.namespace, identity = %settings.identity, "manager started");
        eprintln!("openova manager: serving /healthz /readyz /metrics on {addr}");
        tokio::spawn(server);
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
        };
        run_manager(client, settings, metrics, shutdown).await?;
        Ok::<_, color_eyre::Report>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_delay_doubles_and_caps_at_five_minutes() {
        assert_eq!(backoff_delay(1), Duration::from_secs(1));
        assert_eq!(backoff_delay(2), Duration::from_secs(2));
        assert_eq!(backoff_delay(5), Duration::from_secs(16));
        assert_eq!(backoff_delay(50), Duration::from_secs(300));
    }
}
