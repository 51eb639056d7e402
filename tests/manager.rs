//! The Lifecycle Manager against a real kube-apiserver (1.20) on loopback, with minimal Flux and
//! Crossplane CRDs and the helm-controller stand-in playing the release side.
//!
//! One API server is shared by this binary; every test works in its own namespace with its own
//! manager (and Lease). Without the server binaries the tests skip loudly, unless
//! OPENOVA_REQUIRE_K8S=1, where they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

#[path = "support/apiserver.rs"]
mod apiserver;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use openova::crd::{
    Component, ComponentPhase, ComponentSpec, Health, Platform, PlatformPhase, UpgradeState,
};
use openova::manager::delivery::flux::{helm_release_resource, helm_repository_resource};
use openova::manager::stand_in::StandIn;
use openova::manager::{Metrics, Settings, run_manager};
use openova::testenv::{self, ApiServer};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(60);

/// The shared server with our CRDs and the delivery CRDs installed, or `None` (skip).
fn server() -> Option<&'static ApiServer> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPENOVA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
    let server = apiserver::shared()?;
    // Once per test binary: tests start in parallel, and concurrent applies of the same CRDs
    // conflict with each other.
    static CRDS: std::sync::Once = std::sync::Once::new();
    CRDS.call_once(|| {
        server.install_crds().expect("generated CRDs install");
        server
            .install_delivery_crds()
            .expect("delivery CRDs install");
    });
    Some(server)
}

/// A manager and a stand-in running in this test's runtime; stopped on drop.
struct Running {
    metrics: Arc<Metrics>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn start(client: &Client, ns: &str, failing: &[&str]) -> Running {
    let metrics = Metrics::new();
    let mut settings = Settings::new(ns, &format!("test-{ns}"));
    settings.lease = Duration::from_secs(4);
    settings.default_timeout = Duration::from_secs(30);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let manager = tokio::spawn({
        let client = client.clone();
        let metrics = metrics.clone();
        async move {
            if let Err(e) = run_manager(client, settings, metrics, async move {
                let _ = rx.await;
            })
            .await
            {
                eprintln!("manager ended with an error: {e}");
            }
        }
    });
    let stand_in = StandIn {
        failing_versions: failing.iter().map(|s| s.to_string()).collect(),
        delay: Duration::from_millis(50),
    };
    let helm = tokio::spawn(stand_in.run(
        client.clone(),
        helm_release_resource(),
        Some(ns.to_string()),
    ));
    Running {
        metrics,
        stop: Some(tx),
        tasks: vec![manager, helm],
    }
}

async fn wait_until<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn demo(name: &str, version: &str, deps: &[&str]) -> Component {
    Component::new(
        name,
        ComponentSpec {
            chart: format!("bp-{name}"),
            version: version.into(),
            category: Some("test".into()),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            values: Some(json!({"replicas": 1})),
            repository: Some("oci://registry.example/charts".into()),
            target_namespace: None,
            delivery: None,
            upgrade_at: None,
            upgrade_timeout_seconds: Some(30),
            upgrade: None,
            retry: None,
            reconcile_requested_at: None,
            suspend: false,
        },
    )
}

async fn component_where(
    api: &Api<Component>,
    name: &str,
    what: &str,
    pred: impl Fn(&Component) -> bool,
) -> Component {
    wait_until(what, || async {
        api.get_opt(name).await.ok().flatten().filter(|c| pred(c))
    })
    .await
}

fn health(c: &Component) -> Option<Health> {
    c.status.as_ref().and_then(|s| s.health)
}

fn hr_version(hr: &DynamicObject) -> Option<String> {
    hr.data
        .pointer("/spec/chart/spec/version")
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_seed_example_creates_components_helmreleases_and_reports_health() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("mgr-seed").await.expect("namespace");
    let _run = start(&client, &ns, &[]);

    // The README's Platform, applied unchanged apart from the namespace.
    let seed = include_str!("../deploy/examples/platform.yaml").replace("openova-system", &ns);
    server
        .kubectl_run(&["apply", "-f", "-"], Some(&seed))
        .expect("seed Platform applies");

    let catalog = openova::catalog::embedded();
    let selected: Vec<&str> = vec!["cilium", "grafana", "cnpg"];
    let plan = openova::domain::resolve::install_plan(catalog, &BTreeSet::new(), &selected, &[])
        .expect("plan");
    let wanted: BTreeSet<String> = plan.items.iter().map(|i| i.name.clone()).collect();
    assert!(wanted.len() > 3, "grafana brings dependencies");

    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let hrs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &helm_release_resource());
    let platforms: Api<Platform> = Api::namespaced(client.clone(), &ns);

    let p = wait_until("the Platform to report Running at 100%", || async {
        platforms.get("acme-corp").await.ok().filter(|p| {
            p.status.as_ref().is_some_and(|s| {
                s.phase == Some(PlatformPhase::Running)
                    && s.health_percent == Some(100)
                    && s.components.len() == wanted.len()
            })
        })
    })
    .await;
    let status = p.status.expect("status");
    assert!(
        status
            .components
            .iter()
            .all(|c| c.status == Health::Healthy)
    );
    let cilium = status
        .components
        .iter()
        .find(|c| c.name == "cilium")
        .expect("cilium reported");
    assert_eq!(
        cilium.version.as_deref(),
        Some("v1.16.3"),
        "the seed's version is installed"
    );
    let added = status
        .components
        .iter()
        .find(|c| c.name == "loki")
        .expect("loki added for grafana");
    assert!(
        added.required_by.contains(&"grafana".to_string()),
        "why loki is there: {:?}",
        added.required_by
    );

    for name in &wanted {
        let c = components.get(name).await.expect("Component exists");
        assert_eq!(health(&c), Some(Health::Healthy), "{name}");
        let st = c.status.clone().expect("status");
        assert_eq!(
            st.last_good_version.as_deref(),
            Some(c.spec.version.as_str())
        );
        let hr = hrs.get(name).await.expect("HelmRelease exists");
        let deps: Vec<String> = hr.data["spec"]["dependsOn"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|d| d["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            deps,
            catalog.get(name).expect("in catalog").requires,
            "dependsOn of {name}"
        );
        let owner = hr
            .owner_references()
            .first()
            .cloned()
            .expect("owned by the Component");
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str()),
            ("Component", name.as_str())
        );
        assert_eq!(
            hr.data["spec"]["targetNamespace"],
            catalog.get(name).expect("in catalog").namespace
        );
    }
    // The same health is visible per component on the Component itself.
    let grafana = components.get("grafana").await.expect("grafana");
    assert_eq!(
        grafana.status.and_then(|s| s.phase),
        Some(ComponentPhase::Running)
    );

    // One Event says the Platform is all healthy; the first installs publish none of their own.
    let events: Api<K8sEvent> = Api::namespaced(client.clone(), &ns);
    let all = wait_until("an AllHealthy Event on the Platform", || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("AllHealthy"))
    })
    .await;
    let about = all.regarding.clone().expect("regarding");
    assert_eq!(
        (about.kind.as_deref(), about.name.as_deref()),
        (Some("Platform"), Some("acme-corp"))
    );
    assert_eq!(
        all.note,
        Some(format!("all {} components are healthy", wanted.len()))
    );
    let list = events.list(&ListParams::default()).await.expect("events");
    assert!(
        list.items
            .iter()
            .all(|e| e.type_.as_deref() == Some("Normal")
                && e.reason.as_deref() == Some("AllHealthy")),
        "only the Platform's Event after a clean install: {:?}",
        list.items.iter().map(|e| &e.reason).collect::<Vec<_>>()
    );

    // Disabling grafana with its removal confirmed removes its Component, and the Platform's
    // status follows once it is gone (removals reach the Platform controller through the
    // Component controller).
    let platforms: Api<Platform> = Api::namespaced(client.clone(), &ns);
    let disable = json!({"spec": {"components": [
        {"name": "cilium", "version": "v1.16.3", "enabled": true},
        {"name": "grafana", "version": "v11.4.0", "enabled": false},
        {"name": "cnpg", "version": "v1.24.0", "enabled": true},
    ], "removals": [{"name": "grafana"}]}});
    platforms
        .patch(
            "acme-corp",
            &PatchParams::default(),
            &Patch::Merge(&disable),
        )
        .await
        .expect("disable grafana");
    wait_until("grafana gone from the Platform's status", || async {
        let gone = components.get_opt("grafana").await.ok()?.is_none();
        let p = platforms.get("acme-corp").await.ok()?;
        let listed = p.status?.components.iter().any(|c| c.name == "grafana");
        (gone && !listed).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_turning_not_ready_rolls_back_with_alert_and_event() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("mgr-rollback").await.expect("namespace");
    let _run = start(&client, &ns, &["2.0.0"]);
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let hrs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &helm_release_resource());

    components
        .create(&PostParams::default(), &demo("demo", "v1.0.0", &[]))
        .await
        .expect("create");
    component_where(&components, "demo", "demo healthy at v1.0.0", |c| {
        health(c) == Some(Health::Healthy)
    })
    .await;

    // A major upgrade, confirmed a second time naming the jump.
    let patch = json!({"spec": {"version": "v2.0.0", "upgrade": {"confirmMajor": "1→2"}}});
    components
        .patch("demo", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("set version");
    let c = component_where(
        &components,
        "demo",
        "the upgrade to be rolled back and healthy again",
        |c| {
            c.status.as_ref().is_some_and(|s| {
                s.upgrade
                    .as_ref()
                    .is_some_and(|u| u.state == UpgradeState::RolledBack)
                    && s.phase == Some(ComponentPhase::Running)
                    && s.health == Some(Health::Healthy)
            })
        },
    )
    .await;
    let st = c.status.expect("status");
    assert_eq!(
        st.version.as_deref(),
        Some("v1.0.0"),
        "back on the last good version"
    );
    assert_eq!(st.last_good_version.as_deref(), Some("v1.0.0"));
    let up = st.upgrade.expect("upgrade record");
    assert_eq!((up.from.as_str(), up.to.as_str()), ("v1.0.0", "v2.0.0"));
    assert!(up.message.unwrap_or_default().contains("UpgradeFailed"));
    let alert = st
        .alerts
        .iter()
        .find(|a| a.reason == "UpgradeRolledBack")
        .expect("alert raised");
    assert!(
        alert.message.contains("rolled back to v1.0.0"),
        "{}",
        alert.message
    );
    let cond = st
        .conditions
        .iter()
        .find(|c| c.type_ == "Alert")
        .expect("Alert condition");
    assert_eq!(cond.status, "True");
    let hr = hrs.get("demo").await.expect("HelmRelease");
    assert_eq!(
        hr_version(&hr).as_deref(),
        Some("1.0.0"),
        "HelmRelease back on the old chart"
    );

    let events: Api<K8sEvent> = Api::namespaced(client.clone(), &ns);
    let ev = wait_until("an UpgradeRolledBack Event", || async {
        events
            .list(&ListParams::default())
            .await
            .ok()
            .and_then(|l| {
                l.items
                    .into_iter()
                    .find(|e| e.reason.as_deref() == Some("UpgradeRolledBack"))
            })
    })
    .await;
    assert_eq!(ev.type_.as_deref(), Some("Warning"));
    assert_eq!(ev.regarding.and_then(|r| r.name).as_deref(), Some("demo"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_upgrade_waits_for_its_time_then_runs() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("mgr-schedule").await.expect("namespace");
    let _run = start(&client, &ns, &[]);
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let hrs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &helm_release_resource());

    components
        .create(&PostParams::default(), &demo("sched", "v1.0.0", &[]))
        .await
        .expect("create");
    component_where(&components, "sched", "healthy at v1.0.0", |c| {
        health(c) == Some(Health::Healthy)
    })
    .await;

    let at = k8s_openapi::jiff::Timestamp::now() + k8s_openapi::jiff::SignedDuration::from_secs(10);
    let at = Time(k8s_openapi::jiff::Timestamp::from_second(at.as_second()).expect("time"));
    let patch = json!({"spec": {"version": "v1.1.0", "upgradeAt": at}});
    components
        .patch("sched", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("schedule");
    let c = component_where(
        &components,
        "sched",
        "the upgrade to be recorded as Scheduled",
        |c| {
            c.status
                .as_ref()
                .and_then(|s| s.upgrade.as_ref())
                .is_some_and(|u| u.state == UpgradeState::Scheduled && u.to == "v1.1.0")
        },
    )
    .await;
    assert_eq!(c.status.and_then(|s| s.version).as_deref(), Some("v1.0.0"));
    // Before its time nothing moves.
    while k8s_openapi::jiff::Timestamp::now()
        < at.0 - k8s_openapi::jiff::SignedDuration::from_secs(2)
    {
        let hr = hrs.get("sched").await.expect("HelmRelease");
        assert_eq!(
            hr_version(&hr).as_deref(),
            Some("1.0.0"),
            "upgrade ran before its time"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let c = component_where(
        &components,
        "sched",
        "the scheduled upgrade to succeed",
        |c| {
            c.status
                .as_ref()
                .and_then(|s| s.upgrade.as_ref())
                .is_some_and(|u| u.state == UpgradeState::Succeeded)
        },
    )
    .await;
    let st = c.status.expect("status");
    assert_eq!(st.version.as_deref(), Some("v1.1.0"));
    let started = st.upgrade.expect("record").started_at.0;
    assert!(
        started >= at.0,
        "started at {started}, scheduled for {}",
        at.0
    );
    let hr = hrs.get("sched").await.expect("HelmRelease");
    assert_eq!(hr_version(&hr).as_deref(), Some("1.1.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uninstall_of_dependency_is_refused_and_leaf_cleans_up() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("mgr-uninstall").await.expect("namespace");
    let _run = start(&client, &ns, &[]);
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let hrs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &helm_release_resource());

    components
        .create(&PostParams::default(), &demo("base", "v1.0.0", &[]))
        .await
        .expect("create base");
    components
        .create(&PostParams::default(), &demo("leaf", "v1.0.0", &["base"]))
        .await
        .expect("create leaf");
    for n in ["base", "leaf"] {
        component_where(&components, n, "healthy", |c| {
            health(c) == Some(Health::Healthy)
        })
        .await;
    }

    components
        .delete("base", &DeleteParams::default())
        .await
        .expect("delete base");
    let c = component_where(&components, "base", "the uninstall to be refused", |c| {
        c.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "UninstallBlocked" && c.status == "True")
        })
    })
    .await;
    let cond = c
        .status
        .expect("status")
        .conditions
        .into_iter()
        .find(|c| c.type_ == "UninstallBlocked")
        .expect("condition");
    assert!(
        cond.message.contains("leaf"),
        "names the dependent: {}",
        cond.message
    );
    assert!(
        hrs.get_opt("base").await.expect("read").is_some(),
        "base stays installed"
    );

    components
        .delete("leaf", &DeleteParams::default())
        .await
        .expect("delete leaf");
    wait_until("leaf and its HelmRelease to be gone", || async {
        let gone = components.get_opt("leaf").await.ok()?.is_none()
            && hrs.get_opt("leaf").await.ok()?.is_none();
        gone.then_some(())
    })
    .await;
    // With its dependent gone, the refused uninstall does not go through by itself: the
    // refusal disarmed it. It waits, release kept, for an explicit confirmation.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let still = components.get_opt("base").await.expect("read");
    let cond = still
        .as_ref()
        .and_then(|c| c.status.as_ref())
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == "UninstallBlocked"))
        .cloned();
    assert!(
        cond.as_ref()
            .is_some_and(|c| c.message.contains("openova.io/confirm-uninstall")),
        "says how to confirm: {cond:?}"
    );
    assert!(
        hrs.get_opt("base").await.expect("read").is_some(),
        "base's release is kept after its dependent left"
    );
    components
        .patch(
            "base",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"openova.io/confirm-uninstall": "base"}}}),
            ),
        )
        .await
        .expect("confirm");
    wait_until("base and its HelmRelease to be gone", || async {
        let gone = components.get_opt("base").await.ok()?.is_none()
            && hrs.get_opt("base").await.ok()?.is_none();
        gone.then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converged_platform_makes_no_writes_for_a_minute() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("mgr-quiet").await.expect("namespace");
    let run = start(&client, &ns, &[]);
    let seed = include_str!("../deploy/examples/platform.yaml").replace("openova-system", &ns);
    server
        .kubectl_run(&["apply", "-f", "-"], Some(&seed))
        .expect("seed Platform applies");
    let platforms: Api<Platform> = Api::namespaced(client.clone(), &ns);
    wait_until("the Platform to converge", || async {
        platforms.get("acme-corp").await.ok().filter(|p| {
            p.status.as_ref().is_some_and(|s| {
                s.phase == Some(PlatformPhase::Running) && s.health_percent == Some(100)
            })
        })
    })
    .await;
    // Let the debounced roll-up and the last status writes land.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let versions = |client: Client, ns: String| async move {
        let mut out = Vec::new();
        let c: Api<Component> = Api::namespaced(client.clone(), &ns);
        for o in c.list(&ListParams::default()).await.expect("list").items {
            out.push((o.name_any(), o.resource_version()));
        }
        let h: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &ns, &helm_release_resource());
        for o in h.list(&ListParams::default()).await.expect("list").items {
            out.push((format!("hr/{}", o.name_any()), o.resource_version()));
        }
        let r: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &ns, &helm_repository_resource());
        for o in r.list(&ListParams::default()).await.expect("list").items {
            out.push((format!("repo/{}", o.name_any()), o.resource_version()));
        }
        let p: Api<Platform> = Api::namespaced(client, &ns);
        for o in p.list(&ListParams::default()).await.expect("list").items {
            out.push((format!("platform/{}", o.name_any()), o.resource_version()));
        }
        out
    };
    let before = versions(client.clone(), ns.clone()).await;
    let writes_before = run.metrics.writes();
    tokio::time::sleep(Duration::from_secs(60)).await;
    let after = versions(client.clone(), ns.clone()).await;
    assert_eq!(
        run.metrics.writes(),
        writes_before,
        "the manager wrote while nothing changed"
    );
    assert_eq!(before, after, "objects changed while nothing changed");
}

/// A manager replica as its own process, killable with SIGKILL.
struct Replica {
    child: Child,
    addr: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn replica(server: &ApiServer, ns: &str, identity: &str) -> Replica {
    let mut child = Command::new(env!("CARGO_BIN_EXE_openova"))
        .args([
            "manager",
            "--context",
            testenv::ADMIN_CONTEXT,
            "--namespace",
            ns,
        ])
        .args([
            "--listen",
            "127.0.0.1:0",
            "--identity",
            identity,
            "--lease-seconds",
            "4",
        ])
        .arg("--kubeconfig")
        .arg(server.kubeconfig_path())
        .env("OPENOVA_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start openova manager");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("manager printed its address")
            .expect("read stderr");
        if let Some(rest) = line.split(" on ").nth(1)
            && line.contains("serving")
        {
            break rest.trim().to_string();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Replica { child, addr }
}

fn scrape(addr: &str) -> Option<String> {
    ureq::get(&format!("http://{addr}/metrics"))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()
}

fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_only_leader_writes_and_killing_it_hands_over() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("mgr-leader").await.expect("namespace");
    let helm = tokio::spawn(StandIn::default().run(
        client.clone(),
        helm_release_resource(),
        Some(ns.clone()),
    ));
    let mut a = Some(replica(server, &ns, "replica-a"));
    let b = replica(server, &ns, "replica-b");
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);

    let leader_of =
        |r: &Replica| scrape(&r.addr).and_then(|t| metric(&t, "openova_manager_leader")) == Some(1);
    let first_is_a = wait_until("one replica to lead", || {
        let a_leads = a.as_ref().is_some_and(leader_of);
        let b_leads = leader_of(&b);
        async move { (a_leads || b_leads).then_some(a_leads) }
    })
    .await;
    components
        .create(&PostParams::default(), &demo("one", "v1.0.0", &[]))
        .await
        .expect("create");
    component_where(&components, "one", "the leader to install it", |c| {
        health(c) == Some(Health::Healthy)
    })
    .await;

    let (leader, standby) = if first_is_a {
        (a.take().expect("a"), b)
    } else {
        (b, a.take().expect("a"))
    };
    let standby_text = scrape(&standby.addr).expect("standby metrics");
    assert_eq!(metric(&standby_text, "openova_manager_leader"), Some(0));
    assert_eq!(
        metric(&standby_text, "openova_manager_writes_total"),
        Some(0),
        "the standby wrote"
    );
    let leader_writes =
        scrape(&leader.addr).and_then(|t| metric(&t, "openova_manager_writes_total"));
    assert!(leader_writes.unwrap_or(0) > 0, "the leader did the work");

    // SIGKILL: no chance to release the Lease; the standby must wait it out and take over.
    drop(leader);
    wait_until("the standby to take over", || {
        let leads = leader_of(&standby);
        async move { leads.then_some(()) }
    })
    .await;
    components
        .create(&PostParams::default(), &demo("two", "v1.0.0", &[]))
        .await
        .expect("create");
    component_where(&components, "two", "the new leader to install it", |c| {
        health(c) == Some(Health::Healthy)
    })
    .await;
    helm.abort();
}

/// A small catalog for air-gapped sites: demo-y requires demo-x; both have a newer version.
const SITE_CATALOG: &str = r#"
chart_repository = "oci://mirror.example/charts"

[[component]]
name = "demo-x"
title = "Demo X"
category = "a-la-carte"
family = "silo"
namespace = "demo-x"
description = "A component the site mirror carries"
requires = []

[[component.versions]]
version = "1.0.0"
chart = "0.1.0"
changes = ["First version."]

[[component.versions]]
version = "1.2.0"
chart = "0.2.0"
changes = ["Second version."]

[[component]]
name = "demo-y"
title = "Demo Y"
category = "a-la-carte"
family = "silo"
namespace = "demo-y"
description = "Needs demo-x"
requires = ["demo-x"]

[[component.versions]]
version = "1.0.0"
chart = "0.5.0"
changes = ["First version."]

[[component.versions]]
version = "1.1.0"
chart = "0.6.0"
changes = ["Second version."]
"#;

async fn site_catalog_platform(client: &Client, ns: &str, delivery: &str) {
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), ns);
    let cm: k8s_openapi::api::core::v1::ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "site-catalog"},
        "data": {"components.toml": SITE_CATALOG},
    }))
    .expect("ConfigMap");
    cms.create(&PostParams::default(), &cm)
        .await
        .expect("create ConfigMap");
    let p: Platform = serde_json::from_value(json!({
        "apiVersion": "openova.io/v1alpha1",
        "kind": "Platform",
        "metadata": {"name": "site"},
        "spec": {
            "organization": {"name": "acme-corp", "domain": "acme.io"},
            "components": [{"name": "demo-y", "version": "v1.0.0"}],
            "catalog": {"configMap": "site-catalog"},
            "delivery": delivery,
        }
    }))
    .expect("Platform");
    let platforms: Api<Platform> = Api::namespaced(client.clone(), ns);
    platforms
        .create(&PostParams::default(), &p)
        .await
        .expect("create Platform");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configmap_catalog_drives_chart_versions_and_available_upgrades() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("mgr-catalog").await.expect("namespace");
    let _run = start(&client, &ns, &[]);
    site_catalog_platform(&client, &ns, "flux").await;

    let platforms: Api<Platform> = Api::namespaced(client.clone(), &ns);
    let p = wait_until(
        "the Platform to report the upgrade the site catalog offers",
        || async {
            platforms.get("site").await.ok().filter(|p| {
                p.status.as_ref().is_some_and(|s| {
                    s.phase == Some(PlatformPhase::Running) && !s.available_upgrades.is_empty()
                })
            })
        },
    )
    .await;
    let st = p.status.expect("status");
    assert_eq!(st.upgrade_count, Some(1));
    let up = &st.available_upgrades[0];
    assert_eq!(
        (up.component.as_str(), up.from.as_str(), up.to.as_str()),
        ("demo-y", "v1.0.0", "v1.1.0")
    );
    let x = st
        .components
        .iter()
        .find(|c| c.name == "demo-x")
        .expect("dependency added");
    assert_eq!(
        x.version.as_deref(),
        Some("v1.2.0"),
        "newest version when none is pinned"
    );
    assert_eq!(x.required_by, vec!["demo-y".to_string()]);

    let hrs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &helm_release_resource());
    let y = hrs.get("demo-y").await.expect("HelmRelease demo-y");
    assert_eq!(
        hr_version(&y).as_deref(),
        Some("0.5.0"),
        "wrapper chart version from the catalog"
    );
    assert_eq!(y.data["spec"]["dependsOn"], json!([{"name": "demo-x"}]));
    let repos: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &ns,
        &openova::manager::delivery::flux::helm_repository_resource(),
    );
    let repo = repos.get("demo-y").await.expect("HelmRepository");
    assert_eq!(repo.data["spec"]["url"], "oci://mirror.example/charts");
    assert_eq!(repo.data["spec"]["type"], "oci");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossplane_backend_renders_provider_helm_releases() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("mgr-xp").await.expect("namespace");
    let _run = start(&client, &ns, &[]);
    let release = openova::manager::delivery::crossplane::release_resource();
    let xp = tokio::spawn(StandIn::default().run(client.clone(), release.clone(), None));
    site_catalog_platform(&client, &ns, "crossplane").await;

    let platforms: Api<Platform> = Api::namespaced(client.clone(), &ns);
    wait_until("both components healthy through Crossplane", || async {
        platforms.get("site").await.ok().filter(|p| {
            p.status
                .as_ref()
                .is_some_and(|s| s.phase == Some(PlatformPhase::Running) && s.components.len() == 2)
        })
    })
    .await;
    let releases: Api<DynamicObject> = Api::all_with(client.clone(), &release);
    for (name, chart, version) in [
        ("demo-x", "bp-demo-x", "0.2.0"),
        ("demo-y", "bp-demo-y", "0.5.0"),
    ] {
        let r = releases
            .get(&format!("{ns}-{name}"))
            .await
            .expect("Release exists");
        assert_eq!(r.data["spec"]["forProvider"]["chart"]["name"], chart);
        assert_eq!(r.data["spec"]["forProvider"]["chart"]["version"], version);
        assert_eq!(r.data["spec"]["forProvider"]["namespace"], name);
    }
    let hrs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &helm_release_resource());
    assert!(
        hrs.list(&ListParams::default())
            .await
            .expect("list")
            .items
            .is_empty(),
        "no Flux objects"
    );

    // Uninstalling the Platform's components removes the cluster-scoped Releases too.
    // The removal confirmed, with the dependency it frees ticked.
    let patch = json!({"spec": {
        "components": [{"name": "demo-y", "enabled": false}],
        "removals": [{"name": "demo-y", "alsoRemove": ["demo-x"]}],
    }});
    platforms
        .patch("site", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("disable");
    wait_until("both Releases to be removed", || async {
        let x = releases.get_opt(&format!("{ns}-demo-x")).await.ok()?;
        let y = releases.get_opt(&format!("{ns}-demo-y")).await.ok()?;
        (x.is_none() && y.is_none()).then_some(())
    })
    .await;
    xp.abort();
}

#[test]
fn deploy_base_applies_to_the_api_server_and_overlays_build() {
    let Some(server) = server() else { return };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let dev = server
        .kubectl_run(
            &["kustomize", &dir.join("overlays/dev").display().to_string()],
            None,
        )
        .expect("dev overlay builds");
    assert!(dev.contains("replicas: 1") && dev.contains("image: localhost/openova:dev"));
    let prod = server
        .kubectl_run(
            &[
                "kustomize",
                &dir.join("overlays/prod").display().to_string(),
            ],
            None,
        )
        .expect("prod overlay builds");
    assert!(prod.contains("replicas: 2") && prod.contains("kind: PodDisruptionBudget"));

    // The base is what the bootstrap hand-over applies: the API server must accept all of it.
    let out = server
        .kubectl_run(
            &["apply", "-k", &dir.join("base").display().to_string()],
            None,
        )
        .expect("base applies");
    for object in [
        "namespace/openova-system",
        "serviceaccount/openova-manager",
        "role.rbac.authorization.k8s.io/openova-manager",
        "clusterrole.rbac.authorization.k8s.io/openova-manager",
        "service/openova-manager",
        "deployment.apps/openova-manager",
    ] {
        assert!(out.contains(object), "{object} not applied:\n{out}");
    }
    // The embedded copy the hand-over uses is the same set of objects.
    let embedded = openova::deploy::manifests().expect("embedded manifests");
    assert_eq!(
        embedded.len(),
        out.lines().filter(|l| !l.trim().is_empty()).count()
    );
}

// ------------------------------------------------------------------------------------------
// Day-2 safety: the manager never does what the operator did not see and confirm.
// ------------------------------------------------------------------------------------------

/// A small site catalog for the day-2 journeys: `app` needs the data-holding `db`; `tool` is a
/// leaf; the meta-platform `suite` is app + tool.
const DAY2_CATALOG: &str = r#"
[[component]]
name = "db"
title = "DB"
category = "a-la-carte"
family = "fabric"
namespace = "db"
description = "Holds data"
holds_data = true

[[component.versions]]
version = "1.0.0"
chart = "0.1.0"
changes = ["A release."]

[[component.versions]]
version = "1.1.0"
chart = "0.2.0"
changes = ["A release."]

[[component]]
name = "app"
title = "App"
category = "a-la-carte"
family = "insights"
namespace = "app"
description = "Needs db"
requires = ["db"]
endpoints = [{ name = "web", url = "https://app.{location}.{domain}" }]

[[component.versions]]
version = "1.0.0"
chart = "0.5.0"
changes = ["A release."]

[[component]]
name = "tool"
title = "Tool"
category = "a-la-carte"
family = "insights"
namespace = "tool"
description = "A leaf"

[[component.versions]]
version = "1.0.0"
chart = "0.7.0"
changes = ["A release."]

[[meta_platform]]
name = "suite"
title = "Suite"
family = "insights"
description = "App and tool"
requires = ["app", "tool"]
"#;

/// A Platform `site` on the day-2 catalog with `spec` merged in.
async fn day2_platform(client: &Client, ns: &str, spec: serde_json::Value) -> Api<Platform> {
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), ns);
    let cm: k8s_openapi::api::core::v1::ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "day2-catalog"},
        "data": {"components.toml": DAY2_CATALOG},
    }))
    .expect("ConfigMap");
    cms.create(&PostParams::default(), &cm)
        .await
        .expect("create ConfigMap");
    let mut body = json!({
        "organization": {"name": "acme-corp", "domain": "acme.io"},
        "regions": [{"cluster": "hz-fsn-rtz-prod", "location": "fsn"}],
        "catalog": {"configMap": "day2-catalog"},
    });
    if let (Some(b), Some(extra)) = (body.as_object_mut(), spec.as_object()) {
        b.extend(extra.clone());
    }
    let p: Platform = serde_json::from_value(json!({
        "apiVersion": "openova.io/v1alpha1",
        "kind": "Platform",
        "metadata": {"name": "site"},
        "spec": body,
    }))
    .expect("Platform");
    let platforms: Api<Platform> = Api::namespaced(client.clone(), ns);
    platforms
        .create(&PostParams::default(), &p)
        .await
        .expect("create Platform");
    platforms
}

fn condition_of(
    c: &Component,
    type_: &str,
) -> Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    c.status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|k| k.type_ == type_).cloned())
}

async fn event_with(events: &Api<K8sEvent>, reason: &str, about: &str) -> K8sEvent {
    wait_until(&format!("a {reason} Event about {about}"), || async {
        events
            .list(&ListParams::default())
            .await
            .ok()
            .and_then(|l| {
                l.items.into_iter().find(|e| {
                    e.reason.as_deref() == Some(reason)
                        && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(about)
                })
            })
    })
    .await
}

/// A demo Component healthy at v1.0.0.
async fn healthy_demo(components: &Api<Component>, name: &str) {
    components
        .create(&PostParams::default(), &demo(name, "v1.0.0", &[]))
        .await
        .expect("create");
    component_where(components, name, "healthy at v1.0.0", |c| {
        health(c) == Some(Health::Healthy)
    })
    .await;
}

/// The HelmRelease of `name` stays at `chart` for `secs` seconds.
async fn hr_stays_at(hrs: &Api<DynamicObject>, name: &str, chart: &str, secs: u64) {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        let hr = hrs.get(name).await.expect("HelmRelease");
        assert_eq!(hr_version(&hr).as_deref(), Some(chart), "{name} moved");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_window_without_a_platform_window_is_refused_and_never_runs() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("d2-nowindow").await.expect("namespace");
    let _run = start(&client, &ns, &[]);
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let hrs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &helm_release_resource());
    healthy_demo(&components, "nw").await;

    let patch = json!({"spec": {"version": "v1.1.0", "upgrade": {"nextWindow": true}}});
    components
        .patch("nw", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("schedule for the next window");
    let c = component_where(&components, "nw", "the upgrade to be refused", |c| {
        condition_of(c, "UpgradeRefused").is_some_and(|k| k.status == "True")
    })
    .await;
    let k = condition_of(&c, "UpgradeRefused").expect("condition");
    assert_eq!(k.reason, "NoMaintenanceWindow");
    assert!(k.message.contains("has none"), "{}", k.message);
    assert_eq!(c.status.and_then(|s| s.version).as_deref(), Some("v1.0.0"));
    let events: Api<K8sEvent> = Api::namespaced(client.clone(), &ns);
    event_with(&events, "UpgradeRefused", "nw").await;
    hr_stays_at(&hrs, "nw", "1.0.0", 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn major_upgrade_runs_only_after_the_confirmation_naming_the_jump() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("d2-major").await.expect("namespace");
    let _run = start(&client, &ns, &[]);
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let hrs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &helm_release_resource());
    healthy_demo(&components, "mj").await;

    let patch = json!({"spec": {"version": "v2.0.0"}});
    components
        .patch("mj", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("major version");
    let c = component_where(&components, "mj", "the major upgrade to be refused", |c| {
        condition_of(c, "UpgradeRefused").is_some_and(|k| k.reason == "MajorUpgradeNotConfirmed")
    })
    .await;
    let msg = condition_of(&c, "UpgradeRefused")
        .expect("condition")
        .message;
    assert!(msg.contains("confirmMajor") && msg.contains("1→2"), "{msg}");
    hr_stays_at(&hrs, "mj", "1.0.0", 2).await;

    // A confirmation naming another jump does not count.
    let wrong = json!({"spec": {"upgrade": {"confirmMajor": "1→3"}}});
    components
        .patch("mj", &PatchParams::default(), &Patch::Merge(&wrong))
        .await
        .expect("wrong confirmation");
    hr_stays_at(&hrs, "mj", "1.0.0", 2).await;

    let confirm = json!({"spec": {"upgrade": {"confirmMajor": "1→2"}}});
    components
        .patch("mj", &PatchParams::default(), &Patch::Merge(&confirm))
        .await
        .expect("confirm");
    let c = component_where(&components, "mj", "the confirmed upgrade to succeed", |c| {
        c.status
            .as_ref()
            .and_then(|s| s.upgrade.as_ref())
            .is_some_and(|u| u.state == UpgradeState::Succeeded && u.to == "v2.0.0")
    })
    .await;
    assert!(condition_of(&c, "UpgradeRefused").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_scheduled_time_is_refused_then_a_rescheduled_time_runs() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("d2-past").await.expect("namespace");
    let _run = start(&client, &ns, &[]);
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let hrs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &helm_release_resource());
    healthy_demo(&components, "past").await;

    let now = k8s_openapi::jiff::Timestamp::now().as_second();
    let at =
        |offset: i64| Time(k8s_openapi::jiff::Timestamp::from_second(now + offset).expect("time"));
    let patch = json!({"spec": {"version": "v1.1.0", "upgradeAt": at(-3600)}});
    components
        .patch("past", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("schedule in the past");
    component_where(&components, "past", "the past time to be refused", |c| {
        condition_of(c, "UpgradeRefused").is_some_and(|k| k.reason == "ScheduledTimeInPast")
    })
    .await;
    hr_stays_at(&hrs, "past", "1.0.0", 3).await;

    // Rescheduled a few seconds ahead: waits, then runs.
    let later = at(8);
    let patch = json!({"spec": {"upgradeAt": later}});
    components
        .patch("past", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("reschedule");
    component_where(
        &components,
        "past",
        "the rescheduled upgrade to wait",
        |c| {
            c.status
                .as_ref()
                .and_then(|s| s.upgrade.as_ref())
                .is_some_and(|u| u.state == UpgradeState::Scheduled)
        },
    )
    .await;
    let c = component_where(
        &components,
        "past",
        "the rescheduled upgrade to succeed",
        |c| {
            c.status
                .as_ref()
                .and_then(|s| s.upgrade.as_ref())
                .is_some_and(|u| u.state == UpgradeState::Succeeded)
        },
    )
    .await;
    let started = c
        .status
        .and_then(|s| s.upgrade)
        .expect("record")
        .started_at
        .0;
    assert!(started >= later.0, "started {started} before {}", later.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_waits_for_the_platform_window_in_its_time_zone_and_an_invalid_zone_runs_nothing() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("d2-window").await.expect("namespace");
    let _run = start(&client, &ns, &[]);
    let now = k8s_openapi::jiff::Timestamp::now();
    let kolkata = k8s_openapi::jiff::tz::TimeZone::get("Asia/Kolkata").expect("zone");
    let local = |offset_minutes: i64| {
        (now + k8s_openapi::jiff::SignedDuration::from_mins(offset_minutes))
            .to_zoned(kolkata.clone())
            .strftime("%H:%M")
            .to_string()
    };
    // Closed now: opens in six hours (Kolkata time), for an hour.
    let platforms = day2_platform(
        &client,
        &ns,
        json!({
            "components": [{"name": "db", "version": "v1.0.0"}],
            "maintenanceWindow": {"start": local(360), "durationMinutes": 60, "timeZone": "Asia/Kolkata"},
        }),
    )
    .await;
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let hrs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &helm_release_resource());
    component_where(&components, "db", "db healthy", |c| {
        health(c) == Some(Health::Healthy)
    })
    .await;
    let p = wait_until("the window reported valid", || async {
        platforms.get("site").await.ok().filter(|p| {
            p.status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|k| k.type_ == "MaintenanceWindowValid" && k.status == "True")
            })
        })
    })
    .await;
    assert!(p.status.is_some());

    let upgrade = json!({"spec": {"components": [{"name": "db", "version": "v1.1.0"}]}});
    platforms
        .patch("site", &PatchParams::default(), &Patch::Merge(&upgrade))
        .await
        .expect("upgrade db");
    component_where(
        &components,
        "db",
        "the upgrade to wait for the window",
        |c| {
            c.status
                .as_ref()
                .and_then(|s| s.upgrade.as_ref())
                .is_some_and(|u| u.state == UpgradeState::Scheduled && u.to == "v1.1.0")
        },
    )
    .await;
    hr_stays_at(&hrs, "db", "0.1.0", 3).await;

    // An unknown zone: the Platform says so (condition and Event) and still nothing runs.
    let bad = json!({"spec": {"maintenanceWindow": {"start": local(-5), "durationMinutes": 60, "timeZone": "Asia/Atlantis"}}});
    platforms
        .patch("site", &PatchParams::default(), &Patch::Merge(&bad))
        .await
        .expect("bad zone");
    let p = wait_until("the invalid window reported", || async {
        platforms.get("site").await.ok().filter(|p| {
            p.status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|k| k.type_ == "MaintenanceWindowValid" && k.status == "False")
            })
        })
    })
    .await;
    let k = p
        .status
        .expect("status")
        .conditions
        .into_iter()
        .find(|k| k.type_ == "MaintenanceWindowValid")
        .expect("condition");
    assert!(k.message.contains("Asia/Atlantis"), "{}", k.message);
    let events: Api<K8sEvent> = Api::namespaced(client.clone(), &ns);
    event_with(&events, "InvalidMaintenanceWindow", "site").await;
    hr_stays_at(&hrs, "db", "0.1.0", 3).await;
    // A duration of 0 does not even reach the manager: the API server refuses it.
    let zero = serde_json::to_string(
        &json!({"spec": {"maintenanceWindow": {"start": "03:00", "durationMinutes": 0}}}),
    )
    .expect("json");
    let refused = server.kubectl_run(
        &[
            "patch", "platform", "site", "-n", &ns, "--type", "merge", "-p", &zero,
        ],
        None,
    );
    assert!(refused.is_err(), "a zero-minute window was accepted");

    // The same window open now in Kolkata time: the upgrade runs.
    let open = json!({"spec": {"maintenanceWindow": {"start": local(-5), "durationMinutes": 60, "timeZone": "Asia/Kolkata"}}});
    platforms
        .patch("site", &PatchParams::default(), &Patch::Merge(&open))
        .await
        .expect("open window");
    component_where(&components, "db", "the upgrade to run in the window", |c| {
        c.status
            .as_ref()
            .and_then(|s| s.upgrade.as_ref())
            .is_some_and(|u| u.state == UpgradeState::Succeeded)
    })
    .await;
    let hr = hrs.get("db").await.expect("HelmRelease");
    assert_eq!(hr_version(&hr).as_deref(), Some("0.2.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_component_the_platform_selects_keeps_its_release_and_is_readopted() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("d2-readopt").await.expect("namespace");
    let _run = start(&client, &ns, &[]);
    day2_platform(&client, &ns, json!({"components": [{"name": "app"}]})).await;
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let hrs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &helm_release_resource());
    for n in ["db", "app"] {
        component_where(&components, n, "healthy", |c| {
            health(c) == Some(Health::Healthy)
        })
        .await;
    }
    let before = components.get("db").await.expect("db");
    let hr_before = hrs.get("db").await.expect("HelmRelease db");

    server
        .kubectl_run(
            &["delete", "component", "db", "-n", &ns, "--wait=false"],
            None,
        )
        .expect("kubectl delete component db");
    let events: Api<K8sEvent> = Api::namespaced(client.clone(), &ns);
    let ev = event_with(&events, "ReleaseKept", "db").await;
    let note = ev.note.unwrap_or_default();
    assert!(
        note.contains("spec.removals"),
        "says how to uninstall: {note}"
    );
    let again = component_where(&components, "db", "db adopted again and healthy", |c| {
        c.uid() != before.uid() && health(c) == Some(Health::Healthy)
    })
    .await;
    let hr_after = wait_until("the release owned by the new Component", || async {
        hrs.get("db").await.ok().filter(|hr| {
            hr.metadata
                .owner_references
                .as_ref()
                .is_some_and(|o| o.iter().any(|r| Some(&r.uid) == again.uid().as_ref()))
        })
    })
    .await;
    assert_eq!(
        hr_after.uid(),
        hr_before.uid(),
        "the release was never deleted"
    );
    assert!(
        events
            .list(&ListParams::default())
            .await
            .expect("events")
            .items
            .iter()
            .all(|e| e.reason.as_deref() != Some("Uninstalled"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deselected_component_is_removed_only_as_confirmed_and_unticked_dependencies_stay() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("d2-remove").await.expect("namespace");
    let _run = start(&client, &ns, &[]);
    let platforms = day2_platform(
        &client,
        &ns,
        json!({"components": [{"name": "app"}, {"name": "tool"}]}),
    )
    .await;
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let hrs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &helm_release_resource());
    let app = component_where(&components, "app", "app healthy with its endpoint", |c| {
        health(c) == Some(Health::Healthy)
            && c.status.as_ref().is_some_and(|s| !s.endpoints.is_empty())
    })
    .await;
    // Quick links: the catalog's template with the Platform's domain and location.
    let endpoints = app.status.expect("status").endpoints;
    assert_eq!(endpoints[0].url, "https://app.fsn.acme.io");

    // Deselected without a confirmed removal: kept, and the Platform says so.
    let deselect = json!({"spec": {"components": [{"name": "tool"}]}});
    platforms
        .patch("site", &PatchParams::default(), &Patch::Merge(&deselect))
        .await
        .expect("deselect app");
    wait_until("app reported as kept", || async {
        platforms.get("site").await.ok().filter(|p| {
            p.status
                .as_ref()
                .is_some_and(|s| s.kept.iter().any(|k| k == "app"))
        })
    })
    .await;
    assert!(
        hrs.get_opt("app").await.expect("read").is_some(),
        "app kept"
    );

    // The removal of app confirmed, its dependency db not ticked: app goes, db stays.
    let confirm = json!({"spec": {"removals": [{"name": "app"}]}});
    platforms
        .patch("site", &PatchParams::default(), &Patch::Merge(&confirm))
        .await
        .expect("confirm removal");
    wait_until("app and its release gone", || async {
        let gone = components.get_opt("app").await.ok()?.is_none()
            && hrs.get_opt("app").await.ok()?.is_none();
        gone.then_some(())
    })
    .await;
    let p = wait_until("db reported as kept", || async {
        platforms.get("site").await.ok().filter(|p| {
            p.status
                .as_ref()
                .is_some_and(|s| s.kept.iter().any(|k| k == "db"))
        })
    })
    .await;
    assert!(!p.status.expect("status").kept.contains(&"app".to_string()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        components.get_opt("db").await.expect("read").is_some(),
        "db kept"
    );
    assert!(
        hrs.get_opt("db").await.expect("read").is_some(),
        "db's release kept"
    );

    // Ticked later: db goes too.
    let tick = json!({"spec": {"removals": [{"name": "app", "alsoRemove": ["db"]}]}});
    platforms
        .patch("site", &PatchParams::default(), &Patch::Merge(&tick))
        .await
        .expect("tick db");
    wait_until("db gone", || async {
        components.get_opt("db").await.ok()?.is_none().then_some(())
    })
    .await;
    assert!(
        components.get_opt("tool").await.expect("read").is_some(),
        "tool untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_platform_is_shown_installed_on_the_platform_status() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("d2-meta").await.expect("namespace");
    let _run = start(&client, &ns, &[]);
    let platforms = day2_platform(&client, &ns, json!({"components": [{"name": "suite"}]})).await;
    let p = wait_until("suite installed on the Platform status", || async {
        platforms.get("site").await.ok().filter(|p| {
            p.status.as_ref().is_some_and(|s| {
                s.meta_platforms
                    .iter()
                    .any(|m| m.name == "suite" && m.installed)
            })
        })
    })
    .await;
    let st = p.status.expect("status");
    assert_eq!(st.phase, Some(PlatformPhase::Running));
    assert!(st.meta_platforms[0].waiting_for.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolled_back_upgrade_is_ready_and_can_be_retried_and_a_retry_of_a_healthy_one_is_refused() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("d2-retry").await.expect("namespace");
    let _run = start(&client, &ns, &["1.1.0"]);
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    healthy_demo(&components, "rt").await;
    let events: Api<K8sEvent> = Api::namespaced(client.clone(), &ns);

    // A retry of a healthy Component is refused, and nothing changes.
    let patch = json!({"spec": {"retry": "first"}});
    components
        .patch("rt", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("retry");
    let ev = event_with(&events, "RetryRefused", "rt").await;
    assert!(ev.note.unwrap_or_default().contains("not failed"));

    let patch = json!({"spec": {"version": "v1.1.0"}});
    components
        .patch("rt", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("upgrade");
    let rolled = component_where(&components, "rt", "rolled back and healthy", |c| {
        c.status.as_ref().is_some_and(|s| {
            s.upgrade
                .as_ref()
                .is_some_and(|u| u.state == UpgradeState::RolledBack)
                && s.phase == Some(ComponentPhase::Running)
        })
    })
    .await;
    // Healthy after the rollback means Ready: `kubectl wait` agrees with the console.
    assert_eq!(
        condition_of(&rolled, "Ready").map(|k| k.status).as_deref(),
        Some("True")
    );
    server
        .kubectl_run(
            &[
                "wait",
                "--for=condition=Ready",
                "component/rt",
                "-n",
                &ns,
                "--timeout=10s",
            ],
            None,
        )
        .expect("kubectl wait --for=condition=Ready");
    let first_try = rolled
        .status
        .and_then(|s| s.upgrade)
        .expect("record")
        .started_at
        .0;

    let patch = json!({"spec": {"retry": "second"}});
    components
        .patch("rt", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("retry");
    event_with(&events, "RetryRequested", "rt").await;
    // The upgrade runs a second time (the same Event counts up as a series) and, still
    // failing, is rolled back again.
    wait_until("the retried upgrade to start again", || async {
        events
            .list(&ListParams::default())
            .await
            .ok()
            .and_then(|l| {
                l.items.into_iter().find(|e| {
                    e.reason.as_deref() == Some("UpgradeStarted")
                        && e.series.as_ref().is_some_and(|s| s.count >= 2)
                })
            })
    })
    .await;
    let c = component_where(&components, "rt", "rolled back again", |c| {
        c.status.as_ref().is_some_and(|s| {
            s.handled_retry.as_deref() == Some("second")
                && s.phase == Some(ComponentPhase::Running)
                && s.upgrade.as_ref().is_some_and(|u| {
                    u.state == UpgradeState::RolledBack && u.started_at.0 >= first_try
                })
        })
    })
    .await;
    assert_eq!(c.status.and_then(|s| s.version).as_deref(), Some("v1.0.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_resume_and_reconcile_now_reach_the_helmrelease_with_events() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("d2-suspend").await.expect("namespace");
    let _run = start(&client, &ns, &[]);
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let hrs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &helm_release_resource());
    let events: Api<K8sEvent> = Api::namespaced(client.clone(), &ns);
    healthy_demo(&components, "sus").await;

    let patch = json!({"spec": {"suspend": true}});
    components
        .patch("sus", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("suspend");
    wait_until("the HelmRelease suspended", || async {
        hrs.get("sus")
            .await
            .ok()
            .filter(|hr| hr.data["spec"]["suspend"] == json!(true))
    })
    .await;
    event_with(&events, "Suspended", "sus").await;
    component_where(&components, "sus", "the Suspended condition", |c| {
        condition_of(c, "Suspended").is_some_and(|k| k.status == "True")
    })
    .await;

    let patch = json!({"spec": {"suspend": false, "reconcileRequestedAt": "2026-12-04T10:00:00Z"}});
    components
        .patch("sus", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("resume and reconcile now");
    let hr = wait_until("the HelmRelease resumed and asked to reconcile", || async {
        hrs.get("sus").await.ok().filter(|hr| {
            hr.data["spec"]["suspend"] == json!(false)
                && hr
                    .annotations()
                    .get("reconcile.fluxcd.io/requestedAt")
                    .map(String::as_str)
                    == Some("2026-12-04T10:00:00Z")
        })
    })
    .await;
    assert!(
        hr.annotations()
            .get("reconcile.fluxcd.io/forceAt")
            .is_none()
    );
    event_with(&events, "Resumed", "sus").await;
    event_with(&events, "ReconcileRequested", "sus").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_repeat_as_a_series_and_a_new_message_is_the_newest_event() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("d2-events").await.expect("namespace");
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let c = components
        .create(&PostParams::default(), &demo("ev", "v1.0.0", &[]))
        .await
        .expect("create");
    let about = kube::Resource::object_ref(&c, &());
    let publisher =
        openova::manager::events::Publisher::new(client.clone(), "openova-manager", "test");
    let note13 = "all 13 components are healthy";
    let note20 = "all 20 components are healthy";
    use kube::runtime::events::EventType;
    publisher
        .publish(&about, EventType::Normal, "AllHealthy", note13)
        .await
        .expect("publish");
    publisher
        .publish(&about, EventType::Normal, "AllHealthy", note13)
        .await
        .expect("publish");
    tokio::time::sleep(Duration::from_millis(20)).await;
    publisher
        .publish(&about, EventType::Normal, "AllHealthy", note20)
        .await
        .expect("publish");
    let events: Api<K8sEvent> = Api::namespaced(client.clone(), &ns);
    let list = events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items;
    let last_seen = |e: &K8sEvent| {
        e.series
            .as_ref()
            .map(|s| s.last_observed_time.0)
            .or_else(|| e.event_time.as_ref().map(|t| t.0))
    };
    let newest = list.iter().max_by_key(|e| last_seen(e)).expect("an Event");
    assert_eq!(
        newest.note.as_deref(),
        Some(note20),
        "the newest message is shown"
    );
    let repeated = list
        .iter()
        .find(|e| e.note.as_deref() == Some(note13))
        .expect("the first message");
    assert_eq!(repeated.series.as_ref().map(|s| s.count), Some(2));
    assert_eq!(list.len(), 2, "a repeat is a series, not another Event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_flux_crds_are_reported_and_picked_up_without_a_restart() {
    if apiserver::require().is_none() {
        return;
    }
    // Its own API server: the shared one has the delivery CRDs.
    let server = ApiServer::launch().expect("API server");
    server.install_crds().expect("CRDs");
    let client = server.admin_client().await.expect("client");
    let ns = server.namespace("d2-noflux").await.expect("namespace");
    let metrics = Metrics::new();
    let mut settings = Settings::new(&ns, "test-noflux");
    settings.lease = Duration::from_secs(4);
    settings.reprobe = Duration::from_secs(1);
    let prerequisites = settings.prerequisites.clone();
    let (addr, http) = openova::manager::http::serve(
        "127.0.0.1:0".parse().expect("addr"),
        metrics.clone(),
        prerequisites,
    )
    .await
    .expect("listen");
    let http = tokio::spawn(http);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let manager = tokio::spawn({
        let (client, metrics) = (client.clone(), metrics.clone());
        async move {
            let _ = run_manager(client, settings, metrics, async move {
                let _ = rx.await;
            })
            .await;
        }
    });
    let readyz = move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).ok()?;
        s.write_all(b"GET /readyz HTTP/1.0\r\nHost: x\r\n\r\n")
            .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        Some(out)
    };
    let platforms = day2_platform(&client, &ns, json!({"components": [{"name": "tool"}]})).await;
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    let c = component_where(
        &components,
        "tool",
        "tool saying why it is not delivered",
        |c| {
            c.status
                .as_ref()
                .and_then(|s| s.message.as_deref())
                .is_some_and(|m| m.contains("DeliveryCRDsMissing"))
        },
    )
    .await;
    let ready = condition_of(&c, "Ready").expect("Ready");
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "DeliveryCRDsMissing")
    );
    assert!(ready.message.contains("HelmRelease"), "{}", ready.message);
    let p = wait_until("the Platform condition and alert", || async {
        platforms.get("site").await.ok().filter(|p| {
            p.status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|k| k.type_ == "DeliveryCRDsMissing" && k.status == "True")
                    && s.alerts.iter().any(|a| a.reason == "DeliveryCRDsMissing")
            })
        })
    })
    .await;
    let st = p.status.expect("status");
    let reconciled = st
        .conditions
        .iter()
        .find(|k| k.type_ == "Reconciled")
        .expect("Reconciled");
    assert_eq!(
        reconciled.status, "False",
        "not reconciled while nothing can be delivered"
    );
    assert_eq!(st.alert_count, Some(1));
    let body = wait_until("/readyz not ready with the reason", || async {
        readyz().filter(|b| b.contains("503") && b.contains("HelmRelease"))
    })
    .await;
    assert!(body.contains("DeliveryCRDsMissing"), "{body}");

    // Flux arrives later: picked up without restarting the manager.
    server.install_delivery_crds().expect("delivery CRDs");
    let stand_in = StandIn {
        failing_versions: BTreeSet::new(),
        delay: Duration::from_millis(50),
    };
    let helm =
        tokio::spawn(stand_in.run(client.clone(), helm_release_resource(), Some(ns.clone())));
    component_where(&components, "tool", "tool delivered and healthy", |c| {
        health(c) == Some(Health::Healthy)
    })
    .await;
    wait_until("/readyz ready again", || async {
        readyz().filter(|b| b.contains("200"))
    })
    .await;
    wait_until("the Platform condition cleared", || async {
        platforms.get("site").await.ok().filter(|p| {
            p.status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|k| k.type_ == "DeliveryCRDsMissing" && k.status == "False")
                    && s.alert_count == Some(0)
            })
        })
    })
    .await;
    let _ = tx.send(());
    for t in [manager, http, helm] {
        t.abort();
    }
}
