//! The Lifecycle Manager against a real kube-apiserver (1.20) on loopback, with minimal Flux and
//! Crossplane CRDs and the helm-controller stand-in playing the release side.
//!
//! One API server is shared by this binary; every test works in its own namespace with its own
//! manager (and Lease). Without the server binaries the tests skip loudly, unless
//! OPENOVA_REQUIRE_K8S=1, where they fail.

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

    // Disabling grafana removes its Component, and the Platform's status follows once it is
    // gone (removals reach the Platform controller through the Component controller).
    let platforms: Api<Platform> = Api::namespaced(client.clone(), &ns);
    let disable = json!({"spec": {"components": [
        {"name": "cilium", "version": "v1.16.3", "enabled": true},
        {"name": "grafana", "version": "v11.4.0", "enabled": false},
        {"name": "cnpg", "version": "v1.24.0", "enabled": true},
    ]}});
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

    let patch = json!({"spec": {"version": "v2.0.0"}});
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
    // With its dependent gone, the refused uninstall goes through by itself.
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
    let patch = json!({"spec": {"components": [{"name": "demo-y", "enabled": false}]}});
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
