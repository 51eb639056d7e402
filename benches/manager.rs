//! The manager's cold start against a real API server: 1,000 Components exist, the manager starts,
//! and the clock stops when every Component is reconciled. Two figures: delivery objects rendered
//! and status written for all (the manager's own work), and all reported Healthy (a full round
//! trip through the helm-controller stand-in). Budget: 10 s.
//!
//! Needs the local kube-apiserver (tests/k8s/build-apiserver.sh); prints a notice and measures
//! nothing without it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

#[path = "../tests/support/apiserver.rs"]
mod apiserver;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use kube::api::PostParams;
use kube::{Api, Client};
use openova::crd::consts::FINALIZER;
use openova::crd::{Component, ComponentSpec, Health};
use openova::manager::delivery::flux::helm_release_resource;
use openova::manager::stand_in::StandIn;
use openova::manager::{Metrics, Settings, run_manager};
use openova::testenv::ApiServer;
use tokio::runtime::Runtime;

const COMPONENTS: usize = 1_000;

struct Env {
    rt: Runtime,
    server: &'static ApiServer,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let Some(server) = apiserver::shared() else {
            panic!("checked in main")
        };
        if let Err(e) = server.install_crds() {
            panic!("CRDs: {e}");
        }
        if let Err(e) = server.install_delivery_crds() {
            panic!("delivery CRDs: {e}");
        }
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("runtime: {e}"),
        };
        Env { rt, server }
    })
}

/// A fresh namespace holding 1,000 Components (groups of five: one base, four depending on it),
/// created as the Platform controller creates them, with no manager running yet.
async fn populate(server: &ApiServer) -> (Client, String) {
    let ns = server
        .namespace("bench-mgr")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = server
        .admin_client()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let api: Api<Component> = Api::namespaced(client.clone(), &ns);
    futures::stream::iter(0..COMPONENTS)
        .map(|i| {
            let api = api.clone();
            async move {
                let deps: Vec<String> = if i % 5 == 0 {
                    vec![]
                } else {
                    vec![format!("c{}", i - i % 5)]
                };
                let spec: ComponentSpec = serde_json::from_value(serde_json::json!({
                    "chart": format!("chart-{i}"),
                    "version": "v1.0.0",
                    "dependencies": deps,
                    "repository": "oci://registry.example/charts",
                }))
                .unwrap_or_else(|e| panic!("{e}"));
                // As the Platform controller creates them: with the manager's finalizer.
                let mut component = Component::new(&format!("c{i}"), spec);
                component.metadata.finalizers = Some(vec![FINALIZER.to_string()]);
                if let Err(e) = api.create(&PostParams::default(), &component).await {
                    panic!("create: {e}");
                }
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    (client, ns)
}

/// Wait until every Component satisfies `done`, following a watch (polling lists of 1,000
/// objects would load the API server the manager is being measured against).
async fn wait_all(client: &Client, ns: &str, done: impl Fn(&Component) -> bool) {
    use kube::runtime::{WatchStreamExt as _, watcher};
    let api: Api<Component> = Api::namespaced(client.clone(), ns);
    let mut finished = std::collections::BTreeSet::new();
    let mut last = std::collections::BTreeMap::new();
    let mut events = watcher(api, watcher::Config::default())
        .applied_objects()
        .boxed();
    let deadline = tokio::time::sleep(Duration::from_secs(300));
    tokio::pin!(deadline);
    while finished.len() < COMPONENTS {
        tokio::select! {
            next = events.next() => match next {
                Some(Ok(c)) => {
                    let name = c.metadata.name.clone().unwrap_or_default();
                    if done(&c) {
                        finished.insert(name.clone());
                    } else {
                        finished.remove(&name);
                    }
                    last.insert(name, c);
                }
                Some(Err(e)) => eprintln!("watch: {e}"),
                None => panic!("watch ended"),
            },
            () = &mut deadline => {
                let stuck: Vec<String> = last
                    .iter()
                    .filter(|(name, _)| !finished.contains(*name))
                    .take(5)
                    .map(|(name, c)| format!("{name}: {:?}", c.status))
                    .collect();
                panic!(
                    "only {} of {COMPONENTS} reconciled after 300 s; not yet:\n{}",
                    finished.len(),
                    stuck.join("\n")
                )
            }
        }
    }
}

/// Requests the API server has served, by verb and resource, and the seconds spent on them (from
/// its /metrics).
async fn served_requests(client: &Client) -> Requests {
    let req = http::Request::get("/metrics")
        .body(Vec::new())
        .unwrap_or_else(|e| panic!("{e}"));
    let text = client
        .request_text(req)
        .await
        .unwrap_or_else(|e| panic!("metrics: {e}"));
    let mut out = Requests::new();
    for line in text.lines() {
        let (rest, what) = if let Some(rest) = line.strip_prefix("apiserver_request_total{") {
            (rest, "")
        } else if let Some(rest) = line.strip_prefix("apiserver_request_duration_seconds_sum{") {
            (rest, " seconds")
        } else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let label = |k: &str| {
            labels
                .split(',')
                .find_map(|l| l.strip_prefix(&format!("{k}=\"")))
                .map(|v| v.trim_end_matches('"').to_string())
                .unwrap_or_default()
        };
        // Failed requests (429 throttling, conflicts) are counted apart.
        let code = label("code");
        let failed = if what.is_empty() && !code.starts_with('2') {
            format!(" answered {code}")
        } else {
            String::new()
        };
        let key = format!(
            "{} {}/{}{what}{failed}",
            label("verb"),
            label("resource"),
            label("subresource")
        );
        *out.entry(key).or_insert(0.0) += value.parse::<f64>().unwrap_or(0.0);
    }
    out
}

fn start(
    client: &Client,
    ns: &str,
    metrics: Arc<Metrics>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let mut settings = Settings::new(ns, "bench");
    settings.lease = Duration::from_secs(4);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let manager = tokio::spawn({
        let client = client.clone();
        async move {
            let _ = run_manager(client, settings, metrics, async move {
                let _ = rx.await;
            })
            .await;
        }
    });
    let helm = tokio::spawn(StandIn::default().run(
        client.clone(),
        helm_release_resource(),
        Some(ns.to_string()),
    ));
    (tx, vec![manager, helm])
}

fn cold_start(bencher: divan::Bencher, done: fn(&Component) -> bool) {
    let env = env();
    bencher
        .with_inputs(|| {
            env.rt.block_on(async {
                let started = Instant::now();
                let populated = populate(env.server).await;
                eprintln!("created {COMPONENTS} Components in {:?}", started.elapsed());
                let before = served_requests(&populated.0).await;
                (populated, before)
            })
        })
        .bench_local_values(|((client, ns), before)| {
            env.rt.block_on(async {
                let metrics = Metrics::new();
                let (stop, tasks) = start(&client, &ns, metrics.clone());
                wait_all(&client, &ns, done).await;
                let _ = stop.send(());
                for t in tasks {
                    t.abort();
                }
                // Dropped after the clock stops: reads the API server's counters then.
                Report {
                    client,
                    before,
                    metrics,
                }
            })
        });
}

type Requests = std::collections::BTreeMap<String, f64>;

/// The API server's request counters from before a run; printed as a difference per Component
/// when dropped (divan drops a run's output outside the timed part).
struct Report {
    client: Client,
    before: Requests,
    metrics: Arc<Metrics>,
}

impl Drop for Report {
    fn drop(&mut self) {
        let after = env().rt.block_on(served_requests(&self.client));
        let mut total = 0.0;
        let mut lines = Vec::new();
        for (key, value) in &after {
            let delta = value - self.before.get(key).copied().unwrap_or(0.0);
            if key.starts_with("WATCH") || key.contains(" leases/") {
                continue;
            }
            if key.ends_with(" seconds") {
                if delta >= 0.01 {
                    lines.push(format!("  {key} in all: {delta:.2}"));
                }
            } else if delta >= 1.0 {
                total += delta;
                lines.push(format!("  {key}: {:.2}", delta / COMPONENTS as f64));
            }
        }
        eprintln!(
            "API requests per Component (all clients, watches excluded): {:.2}",
            total / COMPONENTS as f64
        );
        for line in lines {
            eprintln!("{line}");
        }
        let text = self.metrics.render();
        for line in text.lines().filter(|l| {
            l.starts_with("openova_manager_reconciles_total")
                || l.starts_with("openova_manager_reconcile_errors_total")
        }) {
            eprintln!("  manager: {line}");
        }
    }
}

/// Every Component has its HelmRepository + HelmRelease and a status written by the manager.
#[divan::bench(sample_count = 1, sample_size = 1)]
fn cold_start_1000_components_rendered(bencher: divan::Bencher) {
    cold_start(bencher, |c| {
        c.status.as_ref().is_some_and(|s| s.version.is_some())
    });
}

/// Every Component reported Healthy (manager → HelmRelease → stand-in → manager → status).
#[divan::bench(sample_count = 1, sample_size = 1)]
fn cold_start_1000_components_healthy(bencher: divan::Bencher) {
    cold_start(bencher, |c| {
        c.status.as_ref().and_then(|s| s.health) == Some(Health::Healthy)
    });
}

fn main() {
    if apiserver::require().is_none() {
        eprintln!("manager benchmark skipped: no local kube-apiserver");
        return;
    }
    divan::main();
}
