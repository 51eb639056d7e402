//! The console's budgets (docs: DESIGN §7): frame render at 200×60 with 1,000 Components, bytes
//! written to the terminal per status change and when idle, and — on a real kube-apiserver with
//! 1,000 Components — the first complete dashboard, status change → screen latency (p95) and the
//! console binary's peak RSS with 10,000 Events; the Fleet pane of 20 contexts × 100 Components
//! (render, and from connecting to the complete fleet).
//!
//! The API-server parts need the local kube-apiserver (tests/k8s/build-apiserver.sh); without it
//! they print a notice and measure nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

#[path = "../tests/support/apiserver.rs"]
mod apiserver;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use divan::Bencher;
use futures::StreamExt as _;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use openova::cluster::{self, ClusterConn, ConnectOptions};
use openova::crd::{Component, ComponentSpec, Platform};
use openova::testenv::{ADMIN_CONTEXT, ApiServer};
use openova::tui::manage::model::{Model, Pane};
use openova::tui::manage::update::{ClusterMsg, Msg, update};
use openova::tui::manage::{Console, fixtures, panes, views, watchers};
use openova::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use tokio::runtime::Runtime;

const COMPONENTS: usize = 1_000;
const EVENTS: usize = 10_000;

fn main() {
    divan::main();
}

fn large(pane: Pane) -> Model {
    let mut m = fixtures::large(COMPONENTS, EVENTS);
    m.pane = pane;
    m
}

#[divan::bench(args = [Pane::Dashboard, Pane::Components, Pane::Upgrades, Pane::Alerts])]
fn render_frame_200x60_1000_components(bencher: Bencher, pane: Pane) {
    let model = large(pane);
    let theme = Theme::builtin("default").unwrap_or_else(|_| Theme::mono());
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap_or_else(|e| panic!("{e}"));
    bencher.bench_local(|| {
        // A fresh buffer each time: the full render, not ratatui's diff of identical frames.
        term.clear().unwrap_or_else(|e| panic!("{e}"));
        term.draw(|f| panes::render(&model, f, &theme))
            .unwrap_or_else(|e| panic!("{e}"));
    });
}

#[divan::bench]
fn update_status_change_1000_components(bencher: Bencher) {
    let mut model = large(Pane::Components);
    let mut healthy = false;
    bencher.bench_local(|| {
        healthy = !healthy;
        let c = fixtures::status_change(&model, 1, healthy);
        update(
            &mut model,
            Msg::Cluster {
                cluster: 0,
                msg: ClusterMsg::ComponentChanged(Box::new(c)),
            },
        )
    });
}

/// The Fleet: this many clusters of [`FLEET_COMPONENTS`] each.
const FLEET_CLUSTERS: usize = 20;
const FLEET_COMPONENTS: usize = 100;

/// A fleet of [`FLEET_CLUSTERS`] copies of a 100-Component platform, one with a drifted
/// version, on the Fleet pane.
fn fleet_model() -> Model {
    let one = fixtures::large(FLEET_COMPONENTS, 0);
    let mut clusters = Vec::new();
    for i in 0..FLEET_CLUSTERS {
        let mut c = one.cluster().clone();
        c.context = format!("region-{i:02}");
        if i == 7
            && let Some(x) = c.components.get_mut("component-0042")
        {
            x.version = "1.3.0".into();
        }
        clusters.push(c);
    }
    let mut m = Model::new(clusters, "openova-system", false, one.catalog.clone());
    m.pane = Pane::Fleet;
    m
}

/// The Fleet pane of 20 clusters × 100 Components, rows sorted and drift computed, at 120×40.
#[divan::bench]
fn render_fleet_20_clusters_100_components(bencher: Bencher) {
    let model = fleet_model();
    assert_eq!(model.drift().len(), 1);
    let theme = Theme::builtin("default").unwrap_or_else(|_| Theme::mono());
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap_or_else(|e| panic!("{e}"));
    bencher.bench_local(|| {
        term.clear().unwrap_or_else(|e| panic!("{e}"));
        term.draw(|f| panes::render(&model, f, &theme))
            .unwrap_or_else(|e| panic!("{e}"));
    });
}

/// Counts what the real terminal backend writes.
#[derive(Clone, Default)]
struct Counter(Arc<Mutex<usize>>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes for one visible status cell change on the components pane and on the dashboard (where
/// the health bar, counts and sparkline move too), through crossterm's real escape sequences.
#[divan::bench(args = [Pane::Components, Pane::Dashboard])]
fn bytes_per_status_change(bencher: Bencher, pane: Pane) {
    let mut model = large(pane);
    // Component 1 is on screen in both panes (first rows of the list; counts on the dashboard).
    let counter = Counter::default();
    let backend = CrosstermBackend::new(counter.clone());
    let mut term = Terminal::with_options(
        backend,
        ratatui::TerminalOptions {
            viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 120, 40)),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let theme = Theme::builtin("default").unwrap_or_else(|_| Theme::mono());
    term.draw(|f| panes::render(&model, f, &theme))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut healthy = true;
    let mut per_change = Vec::new();
    bencher.bench_local(|| {
        healthy = !healthy;
        let c = fixtures::status_change(&model, 1, healthy);
        let before = *counter.0.lock().unwrap_or_else(|e| e.into_inner());
        update(
            &mut model,
            Msg::Cluster {
                cluster: 0,
                msg: ClusterMsg::ComponentChanged(Box::new(c)),
            },
        );
        term.draw(|f| panes::render(&model, f, &theme))
            .unwrap_or_else(|e| panic!("{e}"));
        per_change.push(*counter.0.lock().unwrap_or_else(|e| e.into_inner()) - before);
    });
    per_change.sort_unstable();
    if let Some(max) = per_change.last() {
        eprintln!(
            "bytes per status change ({pane:?}, 120x40): median {} max {max}",
            per_change[per_change.len() / 2]
        );
    }
}

// ------------------------------------------------------------------ real API server

struct Env {
    rt: Runtime,
    server: ApiServer,
    namespace: String,
}

fn env() -> Option<&'static Env> {
    static ENV: OnceLock<Option<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let bins = apiserver::require()?;
        let server = ApiServer::launch_with(bins).unwrap_or_else(|e| panic!("API server: {e}"));
        server
            .install_crds()
            .unwrap_or_else(|e| panic!("CRDs: {e}"));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let namespace = rt.block_on(populate(&server));
        Some(Env {
            rt,
            server,
            namespace,
        })
    })
    .as_ref()
}

async fn populate(server: &ApiServer) -> String {
    let ns = server
        .namespace("console-bench")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = server
        .admin_client()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let platform: Platform = serde_json::from_value(serde_json::json!({
        "apiVersion": "openova.io/v1alpha1", "kind": "Platform",
        "metadata": { "name": "acme-corp" },
        "spec": { "organization": { "name": "acme-corp", "domain": "acme.io" },
                  "regions": [ { "cluster": "hz-fsn-rtz-prod", "location": "fsn" } ],
                  "components": [] }
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    Api::<Platform>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &platform)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let api: Api<Component> = Api::namespaced(client.clone(), &ns);
    create_components(&api, COMPONENTS).await;
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client, &ns);
    let ns2 = ns.clone();
    futures::stream::iter(0..EVENTS)
        .map(|i| {
            let events = events.clone();
            let ns = ns2.clone();
            async move {
                let ev: k8s_openapi::api::core::v1::Event = serde_json::from_value(serde_json::json!({
                    "metadata": { "name": format!("ev-{i:05}"), "namespace": ns },
                    "involvedObject": { "kind": "Component", "name": format!("component-{:04}", i % COMPONENTS), "namespace": ns },
                    "reason": "Reconciled", "message": format!("event number {i}"), "type": "Normal",
                    "firstTimestamp": "2026-02-08T10:30:00Z", "lastTimestamp": "2026-02-08T10:30:00Z",
                }))
                .unwrap_or_else(|e| panic!("{e}"));
                let _ = events.create(&PostParams::default(), &ev).await;
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    ns
}

/// `n` healthy Components `component-0000`… at 1.2.3.
async fn create_components(api: &Api<Component>, n: usize) {
    futures::stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move {
                let spec: ComponentSpec = serde_json::from_value(serde_json::json!({
                    "chart": format!("bp-component-{i:04}"), "version": "1.2.3",
                }))
                .unwrap_or_else(|e| panic!("{e}"));
                let name = format!("component-{i:04}");
                api.create(&PostParams::default(), &Component::new(&name, spec))
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                set_health(&api, &name, "Healthy").await;
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
}

async fn set_health(api: &Api<Component>, name: &str, health: &str) {
    let status = serde_json::json!({ "status": { "health": health, "phase": "Running", "version": "1.2.3" } });
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn connect(env: &Env) -> ClusterConn {
    cluster::connect(&ConnectOptions {
        kubeconfig: Some(env.server.kubeconfig_path().to_owned()),
        context: Some(ADMIN_CONTEXT.to_owned()),
        namespace: Some(env.namespace.clone()),
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

fn console_for(conn: &ClusterConn) -> Console {
    let model = Model::new(
        vec![openova::tui::manage::model::ClusterView::new(
            conn.context.clone(),
            conn.server_url.clone(),
        )],
        conn.namespace.clone(),
        false,
        views::catalog_entries(openova::catalog::embedded()),
    );
    Console::new(model, Theme::mono())
}

/// From connecting to a drawn dashboard that shows all 1,000 Components (health, counts,
/// component list). Events load after the Components, on purpose: see the next figure.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn first_complete_dashboard_1000_components(bencher: Bencher) {
    dashboard_until(bencher, |c| {
        c.synced && c.components.len() == COMPONENTS && c.platform.is_some()
    });
}

/// The same, until the recent-events list is filled too (newest 1,000 of the 10,000 Events).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn first_dashboard_with_events_1000_components_10000_events(bencher: Bencher) {
    dashboard_until(bencher, |c| {
        c.synced
            && c.components.len() == COMPONENTS
            && c.platform.is_some()
            && c.events.len() == openova::tui::manage::model::MAX_EVENTS
    });
}

fn dashboard_until(
    bencher: Bencher,
    complete: fn(&openova::tui::manage::model::ClusterView) -> bool,
) {
    let Some(env) = env() else { return };
    bencher.bench_local(|| {
        env.rt.block_on(async {
            let conn = connect(env).await;
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            watchers::spawn(0, conn.clone(), tx);
            let mut console = console_for(&conn);
            let mut term =
                Terminal::new(TestBackend::new(120, 40)).unwrap_or_else(|e| panic!("{e}"));
            loop {
                let Some(msg) = rx.recv().await else {
                    panic!("feed ended")
                };
                console.apply(msg);
                if complete(console.model.cluster()) {
                    break;
                }
            }
            term.draw(|f| panes::render(&console.model, f, &console.theme))
                .unwrap_or_else(|e| panic!("{e}"));
        })
    });
}

/// A Component's status written on the server → the console's frame showing it; p95 printed.
#[divan::bench(sample_count = 1, sample_size = 1)]
fn status_change_to_screen_p95(bencher: Bencher) {
    let Some(env) = env() else { return };
    bencher.bench_local(|| {
        env.rt.block_on(async {
            let conn = connect(env).await;
            let api: Api<Component> = Api::namespaced(conn.client.clone(), &conn.namespace);
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            watchers::spawn(0, conn.clone(), tx);
            let mut console = console_for(&conn);
            console.model.pane = Pane::Components;
            let mut term =
                Terminal::new(TestBackend::new(120, 40)).unwrap_or_else(|e| panic!("{e}"));
            while !(console.model.cluster().synced
                && console.model.cluster().components.len() == COMPONENTS)
            {
                let Some(msg) = rx.recv().await else {
                    panic!("feed ended")
                };
                console.apply(msg);
            }
            let mut lat = Vec::new();
            for i in 0..60 {
                let health = if i % 2 == 0 { "Degraded" } else { "Healthy" };
                let start = Instant::now();
                set_health(&api, "component-0001", health).await;
                loop {
                    let Some(msg) = rx.recv().await else {
                        panic!("feed ended")
                    };
                    console.apply(msg);
                    let c = &console.model.cluster().components["component-0001"];
                    if c.health.as_str() == health {
                        break;
                    }
                }
                term.draw(|f| panes::render(&console.model, f, &console.theme))
                    .unwrap_or_else(|e| panic!("{e}"));
                lat.push(start.elapsed());
            }
            lat.sort();
            eprintln!(
                "status change → screen over {} changes: p50 {:?} p95 {:?} max {:?}",
                lat.len(),
                lat[lat.len() / 2],
                lat[lat.len() * 95 / 100],
                lat[lat.len() - 1]
            );
        })
    });
}

/// Peak RSS of the real console binary in a PTY, attached to 1,000 Components and 10,000
/// Events, read from /proc once the dashboard shows them all.
#[divan::bench(sample_count = 1, sample_size = 1)]
fn rss_console_binary_1000_components_10000_events(bencher: Bencher) {
    let Some(env) = env() else { return };
    // Built by cargo with the same (optimised) profile as this benchmark.
    let exe = env!("CARGO_BIN_EXE_openova");
    bencher.bench_local(|| {
        use portable_pty::{CommandBuilder, PtySize, native_pty_system};
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut cmd = CommandBuilder::new(exe);
        cmd.args(["tui", "manage", "--context", ADMIN_CONTEXT, "--namespace"]);
        cmd.arg(&env.namespace);
        cmd.arg("--kubeconfig");
        cmd.arg(env.server.kubeconfig_path());
        cmd.env("HOME", home.path());
        cmd.env("OPENOVA_STATE_DIR", home.path().join("state"));
        cmd.env("NO_COLOR", "1");
        let mut child = pty
            .slave
            .spawn_command(cmd)
            .unwrap_or_else(|e| panic!("{e}"));
        let pid = child.process_id().unwrap_or_default();
        let mut reader = pty
            .master
            .try_clone_reader()
            .unwrap_or_else(|e| panic!("{e}"));
        let parser = Arc::new(Mutex::new(vt100::Parser::new(40, 120, 0)));
        let p = parser.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .process(&buf[..n]);
            }
        });
        let start = Instant::now();
        let mut writer = pty.master.take_writer().unwrap_or_else(|e| panic!("{e}"));
        loop {
            let screen = parser
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .screen()
                .contents();
            if screen.contains("1000") && screen.contains("event number") {
                eprintln!(
                    "console binary: dashboard with 1,000 Components after {:?}",
                    start.elapsed()
                );
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "dashboard never complete:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Let the Events watch deliver everything before reading the peak.
        std::thread::sleep(Duration::from_secs(3));
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        for line in status
            .lines()
            .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
        {
            eprintln!("console binary (1,000 Components, 10,000 Events): {line}");
        }
        let _ = writer.write_all(b"q");
        let _ = writer.flush();
        let _ = child.wait();
    });
}

/// 20 namespaces of 100 Components on the test API server: one per context of the fleet.
fn fleet_env() -> Option<(&'static Env, &'static [String])> {
    static NAMESPACES: OnceLock<Vec<String>> = OnceLock::new();
    let env = env()?;
    let namespaces = NAMESPACES.get_or_init(|| {
        env.rt.block_on(async {
            let client = env
                .server
                .admin_client()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut out = Vec::new();
            for i in 0..FLEET_CLUSTERS {
                let ns = env
                    .server
                    .namespace(&format!("fleet-{i:02}"))
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                create_components(&Api::namespaced(client.clone(), &ns), FLEET_COMPONENTS).await;
                out.push(ns);
            }
            out
        })
    });
    Some((env, namespaces))
}

/// From connecting 20 contexts (one namespace each) to a drawn Fleet pane listing every one
/// with all 100 of its Components (budget: 1 s).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn first_complete_fleet_20_contexts_100_components(bencher: Bencher) {
    let Some((env, namespaces)) = fleet_env() else {
        return;
    };
    bencher.bench_local(|| {
        env.rt.block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let mut clusters = Vec::new();
            for (i, ns) in namespaces.iter().enumerate() {
                let conn = cluster::connect(&ConnectOptions {
                    kubeconfig: Some(env.server.kubeconfig_path().to_owned()),
                    context: Some(ADMIN_CONTEXT.to_owned()),
                    namespace: Some(ns.clone()),
                })
                .await
                .unwrap_or_else(|e| panic!("{e}"));
                clusters.push(openova::tui::manage::model::ClusterView::new(
                    format!("fleet-{i:02}"),
                    conn.server_url.clone(),
                ));
                watchers::spawn(i, conn, tx.clone());
            }
            let mut model = Model::new(
                clusters,
                "openova-system",
                false,
                views::catalog_entries(openova::catalog::embedded()),
            );
            model.pane = Pane::Fleet;
            let mut console = Console::new(model, Theme::mono());
            let complete = |m: &Model| {
                m.clusters
                    .iter()
                    .all(|c| c.synced && c.components.len() == FLEET_COMPONENTS)
            };
            while !complete(&console.model) {
                let Some(msg) = rx.recv().await else {
                    panic!("feed ended")
                };
                console.apply(msg);
            }
            let mut term =
                Terminal::new(TestBackend::new(120, 40)).unwrap_or_else(|e| panic!("{e}"));
            term.draw(|f| panes::render(&console.model, f, &console.theme))
                .unwrap_or_else(|e| panic!("{e}"));
        })
    });
}
