//! What the console waits for on a real API server: a complete first list of 1,000 Components
//! through the watcher + reflector, and one Component change arriving as a message.
//!
//! Needs the local kube-apiserver (tests/k8s/build-apiserver.sh); prints a notice and measures
//! nothing without it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

#[path = "../tests/support/apiserver.rs"]
mod apiserver;

use std::sync::OnceLock;
use std::time::Duration;

use futures::StreamExt as _;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use openova::cluster::{self, ClusterConn, ClusterMsg, ConnectOptions};
use openova::crd::{Component, ComponentSpec};
use openova::testenv::{ADMIN_CONTEXT, ApiServer};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

const COMPONENTS: usize = 1_000;

struct Env {
    rt: Runtime,
    server: &'static ApiServer,
    namespace: String,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        // The shared server is stopped and its directory removed at process exit.
        let Some(server) = apiserver::shared() else {
            panic!("checked in main")
        };
        if let Err(e) = server.install_crds() {
            panic!("CRDs: {e}");
        }
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("runtime: {e}"),
        };
        let namespace = rt.block_on(async {
            let ns = server
                .namespace("bench")
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let client = server
                .admin_client()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let api: Api<Component> = Api::namespaced(client, &ns);
            futures::stream::iter(0..COMPONENTS)
                .map(|i| {
                    let api = api.clone();
                    async move {
                        let spec: ComponentSpec = serde_json::from_value(serde_json::json!({
                            "chart": format!("chart-{i}"),
                            "version": "v1.0.0",
                            "category": "data",
                            "dependencies": ["cilium", "cert-manager"],
                            "values": { "replicas": 2, "persistence": { "size": "10Gi" } },
                        }))
                        .unwrap_or_else(|e| panic!("{e}"));
                        let c = Component::new(&format!("component-{i:04}"), spec);
                        api.create(&PostParams::default(), &c)
                            .await
                            .unwrap_or_else(|e| panic!("create: {e}"));
                    }
                })
                .buffer_unordered(16)
                .collect::<Vec<()>>()
                .await;
            ns
        });
        Env {
            rt,
            server,
            namespace,
        }
    })
}

async fn conn(env: &Env) -> ClusterConn {
    cluster::connect(&ConnectOptions {
        kubeconfig: Some(env.server.kubeconfig_path().to_owned()),
        context: Some(ADMIN_CONTEXT.to_owned()),
        namespace: Some(env.namespace.clone()),
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

fn main() {
    if apiserver::require().is_none() {
        return;
    }
    env();
    divan::main();
}

/// Connect, start both watches, and wait until the Component store holds all 1,000.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn first_complete_list_1000_components(bencher: divan::Bencher) {
    let env = env();
    bencher.bench_local(|| {
        env.rt.block_on(async {
            let conn = conn(env).await;
            let (tx, mut rx) = mpsc::channel(64);
            let watch = cluster::watch(&conn, tx);
            watch.wait_until_ready().await;
            while let Some(ev) = rx.recv().await {
                if matches!(ev.msg, ClusterMsg::Synced { .. })
                    && watch.components.state().len() == COMPONENTS
                {
                    break;
                }
            }
            assert_eq!(watch.components.state().len(), COMPONENTS);
        })
    });
}

/// A Component's spec changes on the server → the console's channel has the new object.
#[divan::bench(sample_count = 30, sample_size = 1)]
fn component_change_to_message(bencher: divan::Bencher) {
    let env = env();
    let (api, mut rx, watch) = env.rt.block_on(async {
        let conn = conn(env).await;
        let (tx, mut rx) = mpsc::channel(64);
        let watch = cluster::watch(&conn, tx);
        watch.wait_until_ready().await;
        // Drain the start-up messages.
        while tokio::time::timeout(Duration::from_millis(200), rx.recv())
            .await
            .is_ok()
        {}
        let api: Api<Component> = Api::namespaced(conn.client.clone(), &env.namespace);
        (api, rx, watch)
    });
    let mut n = 0u64;
    bencher.bench_local(|| {
        n += 1;
        let version = format!("v1.0.{n}");
        env.rt.block_on(async {
            api.patch(
                "component-0500",
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({ "spec": { "version": version } })),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            loop {
                match rx.recv().await {
                    Some(ev) => {
                        if let ClusterMsg::ComponentApplied(c) = ev.msg
                            && c.spec.version == version
                        {
                            break;
                        }
                    }
                    None => panic!("watch ended"),
                }
            }
        })
    });
    drop(watch);
}
