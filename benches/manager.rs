//! The manager's cold start against a real API server: 1,000 Components exist, the manager starts,
//! and the clock stops when every Component is reconciled. Two figures: delivery objects rendered
//! and status written for all (the manager's own work), and all reported Healthy (a full round
//! trip through the helm-controller stand-in). Budget: 10 s.
//!
//! Needs the local kube-apiserver (tests/k8s/build-apiserver.sh); prints a notice and measures
//! nothing without it.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};
use openova::crd::{Component, ComponentSpec, Health};
use openova::manager::delivery::flux::helm_release_resource;
use openova::manager::stand_in::StandIn;
use openova::manager::{Metrics, Settings, run_manager};
use openova::testenv::{self, ApiServer};
use tokio::runtime::Runtime;

const COMPONENTS: usize = 1_000;

struct Env {
    rt: Runtime,
    server: &'static ApiServer,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let Some(server) = testenv::shared() else {
            panic!("checked in main")
        };
        if let Err(e) = server.install_crds() {
            panic!("CRDs: {e}");
        }
        let yaml = include_str!("../tests/fixtures/k8s/delivery-crds.yaml");
        if let Err(e) = server.kubectl_run(&["apply", "-f", "-"], Some(yaml)) {
            panic!("delivery CRDs: {e}");
        }
        if let Err(e) = server.kubectl_run(
            &[
                "wait",
                "--for",
                "condition=established",
                "--timeout=60s",
                "crd/helmreleases.helm.toolkit.fluxcd.io",
                "crd/helmrepositories.source.toolkit.fluxcd.io",
            ],
            None,
        ) {
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
/// with no manager running yet.
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
                if let Err(e) = api
                    .create(
                        &PostParams::default(),
                        &Component::new(&format!("c{i}"), spec),
                    )
                    .await
                {
                    panic!("create: {e}");
                }
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    (client, ns)
}

async fn wait_all(client: &Client, ns: &str, done: impl Fn(&Component) -> bool) {
    let api: Api<Component> = Api::namespaced(client.clone(), ns);
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let list = api
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("list: {e}"));
        if list.items.len() == COMPONENTS && list.items.iter().all(&done) {
            return;
        }
        assert!(Instant::now() < deadline, "not reconciled after 300 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn start(
    client: &Client,
    ns: &str,
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
            let _ = run_manager(client, settings, Metrics::new(), async move {
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
        .with_inputs(|| env.rt.block_on(populate(env.server)))
        .bench_local_values(|(client, ns)| {
            env.rt.block_on(async {
                let (stop, tasks) = start(&client, &ns);
                wait_all(&client, &ns, done).await;
                let _ = stop.send(());
                for t in tasks {
                    t.abort();
                }
            })
        });
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
    if testenv::require().is_none() {
        eprintln!("manager benchmark skipped: no local kube-apiserver");
        return;
    }
    divan::main();
}
