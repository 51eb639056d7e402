//! End-to-end tests of `openova tui manage` on the real binary in a real PTY, read back with a
//! terminal emulator (vt100), against a real kube-apiserver with the real Lifecycle Manager
//! running and the helm-controller stand-in reporting releases: install with a dependency, a
//! failed upgrade rolled back, the API server stopped and restarted, silence when idle, and the
//! day-2 safety journeys (schedule without a window, a major upgrade's second question, a
//! refused `kubectl delete` shown as blocked).
//!
//! Without the Kubernetes binaries the tests skip loudly, unless OPENOVA_REQUIRE_K8S=1 (CI).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

#[path = "support/apiserver.rs"]
mod apiserver;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use kube::Api;
use kube::api::PostParams;
use openova::crd::{Component, ComponentSpec, Platform};
use openova::manager::stand_in::StandIn;
use openova::testenv::{self, ADMIN_CONTEXT, ApiServer};

#[path = "support/pty.rs"]
mod pty;

use pty::{ENTER, ESC, Pty, TAB, row};

/// `openova tui manage` on a 40×120 terminal, as `context` in `namespace`.
fn open_console(kubeconfig: &Path, namespace: &str, home: &Path, context: &str) -> Pty {
    let mut cmd = pty::openova([
        "tui",
        "manage",
        "--context",
        context,
        "--namespace",
        namespace,
    ]);
    cmd.arg("--kubeconfig");
    cmd.arg(kubeconfig);
    cmd.env("HOME", home);
    cmd.env("OPENOVA_STATE_DIR", home.join("state"));
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    Pty::spawn(cmd, 40, 120).waits(Duration::from_secs(60), Duration::from_millis(50))
}

fn platform(ns: &str) -> Platform {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "openova.io/v1alpha1",
        "kind": "Platform",
        "metadata": { "name": "acme-corp", "namespace": ns },
        "spec": {
            "organization": { "name": "acme-corp", "domain": "acme.io" },
            "regions": [ { "cluster": "hz-fsn-rtz-prod", "location": "fsn" } ],
            "components": [ { "name": "cilium", "version": "1.16.2", "enabled": true } ],
        }
    }))
    .unwrap()
}

#[test]
fn console_live_cluster_install_upgrade_rollback_outage_and_recovery() {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let server = ApiServer::launch_with(bins.clone()).expect("API server starts");
    server.install_crds().expect("CRDs install");
    server
        .install_delivery_crds()
        .expect("delivery CRDs install");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let ns = rt.block_on(server.namespace("console")).unwrap();
    let client = rt.block_on(server.admin_client()).unwrap();
    rt.block_on(async {
        Api::<Platform>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &platform(&ns))
            .await
            .expect("Platform created")
    });
    // The real manager, in this process, plus the stand-in for Flux's helm-controller. cilium's
    // newest release (wrapper chart 1.1.1) fails, so upgrading to it must roll back.
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    {
        let client = client.clone();
        let ns = ns.clone();
        rt.spawn(async move {
            let settings = openova::manager::Settings::new(&ns, "console-test");
            let metrics = openova::manager::metrics::Metrics::new();
            let _ = openova::manager::run_manager(client, settings, metrics, async move {
                let _ = stop_rx.await;
            })
            .await;
        });
    }
    {
        let stand_in = StandIn {
            failing_versions: ["1.1.1".to_string()].into(),
            delay: Duration::from_millis(300),
        };
        rt.spawn(stand_in.run(
            client.clone(),
            openova::manager::delivery::flux::helm_release_resource(),
            Some(ns.clone()),
        ));
    }

    let home = tempfile::tempdir().unwrap();
    let mut kubectl = Command::new(&bins.kubectl);
    kubectl
        .arg("--kubeconfig")
        .arg(server.kubeconfig_path())
        .args([
            "get",
            "helmreleases,components,platforms",
            "-A",
            "-o",
            "yaml",
        ]);
    let mut console = open_console(server.kubeconfig_path(), &ns, home.path(), ADMIN_CONTEXT)
        .diag("cluster", kubectl);

    // Dashboard: the header names the cluster, the Platform is shown, cilium becomes healthy.
    let s = console.wait_text("Platform acme-corp");
    assert!(
        s.lines().next().unwrap().contains("[Cluster: admin]"),
        "{s}"
    );
    console.send("2");
    console.wait_for("cilium healthy", |t| {
        row(t, "Cilium").is_some_and(|r| r.contains("Healthy"))
    });

    // Install debezium from the catalog: the dialog lists Strimzi as required.
    console.send("a");
    console.send("/");
    console.type_text("debezium");
    console.send(ENTER);
    console.send("i");
    let s = console.wait_text("Install: Debezium");
    let strimzi = row(&s, "Strimzi").unwrap_or_else(|| panic!("dialog lists Strimzi:\n{s}"));
    assert!(strimzi.contains("will be installed"), "{s}");
    console.send(ENTER);
    console.wait_for("debezium healthy", |t| {
        row(t, "Debezium").is_some_and(|r| r.contains("✓") && r.contains("Healthy"))
    });
    console.send(ESC); // clear the filter
    console.send("a"); // installed only: the dependency is listed too
    console.wait_for("strimzi healthy", |t| {
        row(t, "Strimzi").is_some_and(|r| r.contains("✓") && r.contains("Healthy"))
    });

    // Upgrade cilium to its newest release, which fails: the rollback is shown.
    console.send("3");
    console.wait_text("1 upgrade available");
    console.send("u");
    console.wait_text("now?");
    console.send("y");
    let s = console.wait_text("Automatic rollback");
    assert!(
        s.contains("1.16.2"),
        "rolled back to the last good version:\n{s}"
    );
    console.send("4");
    console.wait_for("rollback in alerts", |t| {
        row(t, "Component/cilium")
            .is_some_and(|r| r.contains("rolled back") || r.contains("Degraded"))
    });

    // Idle: nothing changes, nothing is written.
    console.send("1");
    std::thread::sleep(Duration::from_secs(2));
    let before = console.bytes();
    std::thread::sleep(Duration::from_secs(3));
    let idle = console.bytes() - before;
    eprintln!("console idle for 3 s wrote {idle} bytes");
    assert_eq!(idle, 0, "idle console wrote {idle} bytes");

    // Outage: stop the API server, see it said plainly within 5 s; for longer than the
    // manager's Lease lasts, the manager is never claimed "not running" (nobody can know);
    // restart, see the console recover, still without that claim.
    server.stop();
    let stopped = Instant::now();
    let s = watch_screen(&console, Duration::from_secs(5), "the outage banner", |t| {
        t.contains("unreachable")
    });
    eprintln!("outage shown after {:?}", stopped.elapsed());
    assert!(s.contains(&server.base_url()), "the address is shown:\n{s}");
    let lease_expired = Duration::from_secs(35).saturating_sub(stopped.elapsed());
    watch_screen(&console, lease_expired, "", |_| false);
    server.start().expect("API server restarts");
    watch_screen(&console, Duration::from_secs(60), "recovery", |t| {
        !t.contains("unreachable") && t.contains("Platform acme-corp")
    });
    watch_screen(&console, Duration::from_secs(5), "", |_| false);

    console.quit();
    let _ = stop_tx.send(());
}

/// Watches the screen for `limit`, failing if it ever claims the manager is not running;
/// returns as soon as `done` holds. With an empty `what`, watching for the whole `limit` is the
/// point; otherwise `done` must hold before it ends.
fn watch_screen(console: &Pty, limit: Duration, what: &str, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let t = console.text();
        assert!(
            !t.contains("not running"),
            "the manager was claimed not running after {:?}:\n{t}",
            start.elapsed()
        );
        if done(&t) {
            return t;
        }
        if start.elapsed() > limit {
            assert!(what.is_empty(), "no {what} within {limit:?}:\n{t}");
            return t;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn console_crds_missing_then_installed_and_forbidden_user_are_said_plainly() {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let server = ApiServer::launch_with(bins).expect("API server starts");
    let home = tempfile::tempdir().unwrap();

    // No CRDs yet: the console names the command that installs them, then notices them.
    let mut console = open_console(
        server.kubeconfig_path(),
        "openova-system",
        home.path(),
        ADMIN_CONTEXT,
    );
    let s = console.wait_text("CRDs are not installed");
    assert!(
        s.contains("openova crds"),
        "the install command is shown:\n{s}"
    );
    server.install_crds().expect("CRDs install");
    console.wait_text("No Platform resource in openova-system");
    console.send("q");

    // A user without RBAC grants: the verb and resource that are refused are named.
    let pty_home = tempfile::tempdir().unwrap();
    let mut denied = open_console(
        server.kubeconfig_path(),
        "openova-system",
        pty_home.path(),
        testenv::UNPRIVILEGED_CONTEXT,
    );
    let s = denied.wait_text("Forbidden");
    assert!(
        s.contains("components.openova.io") || s.contains("platforms.openova.io"),
        "{s}"
    );
    denied.send("q");
}

/// Uninstalling Debezium in the console offers Strimzi, which only Debezium needed, unticked
/// and marked as holding data; ticking it writes the confirmed removal naming it, and the real
/// manager then removes both.
#[test]
fn console_uninstall_ticks_a_dependency_no_longer_needed_and_the_manager_removes_both() {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let server = ApiServer::launch_with(bins.clone()).expect("API server starts");
    server.install_crds().expect("CRDs install");
    server
        .install_delivery_crds()
        .expect("delivery CRDs install");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ns = rt.block_on(server.namespace("uninstall")).unwrap();
    let client = rt.block_on(server.admin_client()).unwrap();
    let mut p = platform(&ns);
    p.spec.components.push(
        serde_json::from_value(serde_json::json!({ "name": "debezium", "enabled": true })).unwrap(),
    );
    let platforms = Api::<Platform>::namespaced(client.clone(), &ns);
    rt.block_on(async {
        platforms
            .create(&PostParams::default(), &p)
            .await
            .expect("Platform created")
    });
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    {
        let client = client.clone();
        let ns = ns.clone();
        rt.spawn(async move {
            let settings = openova::manager::Settings::new(&ns, "console-uninstall");
            let metrics = openova::manager::metrics::Metrics::new();
            let _ = openova::manager::run_manager(client, settings, metrics, async move {
                let _ = stop_rx.await;
            })
            .await;
        });
    }
    rt.spawn(
        StandIn {
            failing_versions: Default::default(),
            delay: Duration::from_millis(300),
        }
        .run(
            client.clone(),
            openova::manager::delivery::flux::helm_release_resource(),
            Some(ns.clone()),
        ),
    );
    let home = tempfile::tempdir().unwrap();
    let mut console = open_console(server.kubeconfig_path(), &ns, home.path(), ADMIN_CONTEXT);
    console.wait_text("Platform acme-corp");
    console.send("2");
    console.wait_for("debezium and strimzi healthy", |t| {
        ["Debezium", "Strimzi"]
            .iter()
            .all(|n| row(t, n).is_some_and(|r| r.contains("Healthy")))
    });
    console.send("/");
    console.type_text("debezium");
    console.send(ENTER);
    console.send("d");
    let s = console.wait_text("No longer needed after this");
    let strimzi = row(&s, "[ ] strimzi").unwrap_or_else(|| panic!("Strimzi offered:\n{s}"));
    assert!(strimzi.contains("holds data"), "{s}");
    assert!(s.contains("Kept installed: strimzi"), "{s}");
    console.send(" ");
    let s = console.wait_text("Also removed: strimzi");
    assert!(s.contains("removing strimzi can lose the data"), "{s}");
    console.send("y");
    console.send(ESC); // clear the filter
    console.wait_for("both removed", |t| {
        row(t, "Debezium").is_none() && row(t, "Strimzi").is_none() && t.contains("Cilium")
    });
    let p = rt.block_on(platforms.get("acme-corp")).unwrap();
    let removal = p.spec.removals.iter().find(|r| r.name == "debezium");
    assert_eq!(
        removal.map(|r| r.also_remove.clone()),
        Some(vec!["strimzi".to_string()])
    );
    console.quit();
    let _ = stop_tx.send(());
}

/// A fleet of three contexts on one API server, each with its own namespace (the documented
/// stand-in for three clusters: the console keys everything by context): two taken by
/// `--contexts-matching` and `--context`, the third attached at run time with `:ctx`. grafana
/// runs 11.3.0 on two and 11.4.0 on the third; the Fleet pane lists all three and flags the
/// drift under the table and on every row.
#[test]
fn console_fleet_of_three_contexts_flags_the_drifted_version() {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let server = ApiServer::launch_with(bins).expect("API server starts");
    server.install_crds().expect("CRDs install");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(server.admin_client()).unwrap();
    let catalog = openova::catalog::embedded();
    let mut contexts = Vec::new();
    for (ctx, grafana) in [
        ("fleet-fsn", "11.3.0"),
        ("fleet-hel", "11.3.0"),
        ("fleet-nbg", "11.4.0"),
    ] {
        let ns = rt.block_on(server.namespace(ctx)).unwrap();
        let api = Api::<Component>::namespaced(client.clone(), &ns);
        for (name, version) in [("cilium", "1.16.2"), ("grafana", grafana)] {
            let spec = ComponentSpec::of_catalog(catalog.get(name).unwrap(), version);
            rt.block_on(api.create(&PostParams::default(), &Component::new(name, spec)))
                .expect("Component created");
        }
        contexts.push((ctx, ns));
    }
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = fleet_kubeconfig(server.kubeconfig_path(), &contexts, home.path());
    let mut cmd = pty::openova([
        "tui",
        "manage",
        "--contexts-matching",
        "fleet-f*",
        "--context",
        "fleet-hel",
    ]);
    cmd.arg("--kubeconfig");
    cmd.arg(&kubeconfig);
    cmd.env("HOME", home.path());
    cmd.env("OPENOVA_STATE_DIR", home.path().join("state"));
    cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
    let mut console =
        Pty::spawn(cmd, 40, 120).waits(Duration::from_secs(60), Duration::from_millis(50));
    console.wait_text("[Cluster: fleet-hel] 1/2");
    console.send("6");
    console.wait_for("two clusters listed", |t| {
        ["fleet-fsn", "fleet-hel"]
            .iter()
            .all(|c| fleet_row(t, c).is_some_and(|r| r.contains("Live")))
    });
    let s = console.wait_text("No version drift");
    assert!(
        fleet_row(&s, "fleet-nbg").is_none(),
        "not attached yet:\n{s}"
    );

    // A context of the kubeconfig that was not given at start: attached, watched, shown.
    console.send(":");
    console.type_text("ctx fleet-nbg");
    console.send(ENTER);
    console.wait_text("[Cluster: fleet-nbg] 3/3");
    console.send("6");
    console.wait_text("attached fleet-nbg");
    let s = console.wait_for("the drift flagged", |t| {
        t.contains("grafana: 11.4.0 on fleet-nbg; 11.3.0 on fleet-fsn, fleet-hel")
    });
    for c in ["fleet-fsn", "fleet-hel", "fleet-nbg"] {
        let r = fleet_row(&s, c).unwrap_or_else(|| panic!("{c} listed:\n{s}"));
        assert!(r.contains("Live") && r.contains("≠1"), "{c}: {r}\n{s}");
    }
    assert!(s.contains("Version drift (1 component differs"), "{s}");

    // An unknown name is refused with the contexts there are; nothing is attached.
    console.send(":");
    console.type_text("ctx fleet-xyz");
    console.send(ENTER);
    let s = console.wait_text("no context named");
    assert!(s.contains("fleet-fsn, fleet-hel, fleet-nbg"), "{s}");
    console.send(ESC);
    console.quit();
}

/// The Fleet pane's row of `context` (selected or not).
fn fleet_row<'a>(screen: &'a str, context: &str) -> Option<&'a str> {
    screen
        .lines()
        .find(|l| l.contains(&format!("│ {context} ")) || l.contains(&format!("│›{context} ")))
}

/// The test server's kubeconfig with one more context per (name, namespace), as the admin.
fn fleet_kubeconfig(base: &Path, contexts: &[(&str, String)], dir: &Path) -> std::path::PathBuf {
    let mut config = kube::config::Kubeconfig::read_from(base).unwrap();
    let admin = config
        .contexts
        .iter()
        .find(|c| c.name == ADMIN_CONTEXT)
        .cloned()
        .unwrap();
    for (name, ns) in contexts {
        let mut c = admin.clone();
        c.name = name.to_string();
        if let Some(ctx) = c.context.as_mut() {
            ctx.namespace = Some(ns.clone());
        }
        config.contexts.push(c);
    }
    // JSON is YAML: kube reads it back as it is.
    let path = dir.join("fleet-kubeconfig");
    std::fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();
    path
}

/// A real API server with the real manager and the helm-controller stand-in (no failing
/// release), a Platform with `entries` in a fresh namespace, and the console on it.
struct Live {
    // Dropped in this order: the runtime (manager, stand-in) before the API server stops.
    rt: tokio::runtime::Runtime,
    server: ApiServer,
    ns: String,
    client: kube::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _home: tempfile::TempDir,
}

impl Live {
    fn start(bins: testenv::Binaries, name: &str, entries: serde_json::Value) -> Live {
        let server = ApiServer::launch_with(bins).expect("API server starts");
        server.install_crds().expect("CRDs install");
        server
            .install_delivery_crds()
            .expect("delivery CRDs install");
        let rt = tokio::runtime::Runtime::new().unwrap();
        let ns = rt.block_on(server.namespace(name)).unwrap();
        let client = rt.block_on(server.admin_client()).unwrap();
        let mut p = platform(&ns);
        p.spec.components = serde_json::from_value(entries).unwrap();
        rt.block_on(async {
            Api::<Platform>::namespaced(client.clone(), &ns)
                .create(&PostParams::default(), &p)
                .await
                .expect("Platform created")
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        {
            let client = client.clone();
            let ns = ns.clone();
            let lease = format!("console-{name}");
            rt.spawn(async move {
                let settings = openova::manager::Settings::new(&ns, &lease);
                let metrics = openova::manager::metrics::Metrics::new();
                let _ = openova::manager::run_manager(client, settings, metrics, async move {
                    let _ = stop_rx.await;
                })
                .await;
            });
        }
        rt.spawn(
            StandIn {
                failing_versions: Default::default(),
                delay: Duration::from_millis(300),
            }
            .run(
                client.clone(),
                openova::manager::delivery::flux::helm_release_resource(),
                Some(ns.clone()),
            ),
        );
        Live {
            server,
            rt,
            ns,
            client,
            stop: Some(stop_tx),
            _home: tempfile::tempdir().unwrap(),
        }
    }

    fn console(&self) -> Pty {
        open_console(
            self.server.kubeconfig_path(),
            &self.ns,
            self._home.path(),
            ADMIN_CONTEXT,
        )
    }

    fn component(&self, name: &str) -> openova::crd::Component {
        let api = Api::<openova::crd::Component>::namespaced(self.client.clone(), &self.ns);
        self.rt.block_on(api.get(name)).expect("Component")
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// On a Platform without a maintenance window, the schedule dialog does not offer "next
/// window" (choosing it anyway is refused and a time is asked for), and a time in the past is
/// refused; nothing reaches the cluster.
#[test]
fn console_schedule_without_a_window_asks_for_a_future_time_and_writes_nothing_else() {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let live = Live::start(
        bins,
        "nowindow",
        serde_json::json!([{ "name": "cilium", "version": "1.16.2", "enabled": true }]),
    );
    let mut console = live.console();
    console.wait_text("Platform acme-corp");
    console.send("3");
    console.wait_text("1 upgrade available");
    console.send("s");
    let s = console.wait_text("Schedule: cilium");
    assert!(
        s.contains("not offered: the Platform has no maintenance window"),
        "{s}"
    );
    // The time is chosen, not the window.
    assert!(s.contains("(•) at (UTC"), "{s}");
    console.send(TAB);
    console.send(ENTER);
    console.wait_text("Not possible: the Platform has no maintenance window");
    console.send(TAB);
    console.type_text("2020-01-01 00:00");
    console.send(ENTER);
    let s = console.wait_text("is in the past");
    assert!(
        s.contains("Schedule: cilium"),
        "the dialog stays open:\n{s}"
    );
    console.send(ESC);
    std::thread::sleep(Duration::from_secs(2));
    let c = live.component("cilium");
    assert_eq!(c.spec.version, "1.16.2", "nothing was written");
    assert_eq!(c.spec.upgrade_at, None);
    assert_eq!(c.spec.upgrade, None);
    console.quit();
}

/// A major upgrade (Grafana 11 → 12) asks a second question naming the jump; declining writes
/// nothing, confirming lets the real manager run it.
#[test]
fn console_major_upgrade_needs_a_second_confirmation_naming_the_jump() {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let live = Live::start(
        bins,
        "major",
        serde_json::json!([{ "name": "grafana", "version": "11.4.0", "enabled": true }]),
    );
    let mut console = live.console();
    console.wait_text("Platform acme-corp");
    console.send("2");
    console.wait_for("grafana healthy", |t| {
        row(t, "Grafana").is_some_and(|r| r.contains("Healthy"))
    });
    console.send("3");
    let s = console.wait_text("12.3.1");
    let grafana = row(&s, "grafana").unwrap_or_else(|| panic!("grafana row:\n{s}"));
    assert!(grafana.contains("11.4.0"), "{s}");
    // Select the grafana row whatever else has an upgrade.
    for _ in 0..10 {
        if console
            .text()
            .lines()
            .any(|l| l.contains("›") && l.contains("grafana"))
        {
            break;
        }
        console.send("j");
        std::thread::sleep(Duration::from_millis(200));
    }
    console.send("u");
    console.wait_text("now?");
    console.send("y");
    let s = console.wait_text("Major upgrade 11→12");
    assert!(s.contains("Confirm the jump 11→12?"), "{s}");
    console.send("n");
    std::thread::sleep(Duration::from_secs(2));
    let c = live.component("grafana");
    assert_eq!(c.spec.version, "11.4.0", "declining writes nothing");
    assert_eq!(c.spec.upgrade, None);

    console.send("u");
    console.wait_text("now?");
    console.send("y");
    console.wait_text("Major upgrade 11→12");
    console.send("y");
    console.wait_text("written");
    console.wait_for("the manager runs the upgrade", |_| {
        live.component("grafana")
            .status
            .and_then(|s| s.version)
            .is_some_and(|v| v.trim_start_matches('v') == "12.3.1")
    });
    let c = live.component("grafana");
    assert_eq!(
        c.spec.upgrade.and_then(|u| u.confirm_major).as_deref(),
        Some("11→12")
    );
    console.quit();
}

/// `kubectl delete component cnpg` while FerretDB needs it (both kept after the Platform
/// stopped listing them without a confirmed removal): the manager refuses, the console shows "deletion blocked" on
/// cnpg, and its release stays.
#[test]
fn console_shows_a_refused_kubectl_deletion_as_blocked_and_the_release_stays() {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let kubectl = bins.kubectl.clone();
    let live = Live::start(
        bins,
        "blocked",
        serde_json::json!([
            { "name": "cnpg", "enabled": true },
            { "name": "ferretdb", "enabled": true },
        ]),
    );
    let mut console = live.console();
    console.wait_text("Platform acme-corp");
    console.send("2");
    console.wait_for("cnpg and ferretdb healthy", |t| {
        ["CloudNativePG", "FerretDB"]
            .iter()
            .all(|n| row(t, n).is_some_and(|r| r.contains("Healthy")))
    });
    // The Platform stops listing both, without confirming a removal: the manager keeps them.
    let platforms = Api::<Platform>::namespaced(live.client.clone(), &live.ns);
    live.rt
        .block_on(platforms.patch(
            "acme-corp",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(serde_json::json!({ "spec": { "components": [] } })),
        ))
        .expect("Platform patched");
    std::thread::sleep(Duration::from_secs(2));
    let out = Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(live.server.kubeconfig_path())
        .args([
            "-n",
            &live.ns,
            "delete",
            "component",
            "cnpg",
            "--wait=false",
        ])
        .output()
        .expect("kubectl runs");
    assert!(out.status.success(), "{out:?}");
    let s = console.wait_for("deletion blocked on cnpg", |t| {
        row(t, "CloudNativePG").is_some_and(|r| r.contains("deletion blocked"))
    });
    assert!(
        row(&s, "FerretDB").is_some_and(|r| r.contains("Healthy")),
        "{s}"
    );
    let releases = Api::<kube::api::DynamicObject>::namespaced_with(
        live.client.clone(),
        &live.ns,
        &openova::manager::delivery::flux::helm_release_resource(),
    );
    let names: Vec<String> = live
        .rt
        .block_on(releases.list(&Default::default()))
        .expect("list HelmReleases")
        .items
        .into_iter()
        .filter_map(|r| r.metadata.name)
        .collect();
    assert!(
        names.iter().any(|n| n.contains("cnpg")),
        "cnpg keeps its release: {names:?}"
    );
    console.quit();
}

/// Uninstalling Debezium without ticking Strimzi (offered unticked, the default): the manager
/// removes Debezium only and keeps Strimzi, read back from the Components.
#[test]
fn console_uninstall_keeps_an_unticked_dependency() {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let live = Live::start(
        bins,
        "keepdep",
        serde_json::json!([{ "name": "debezium", "enabled": true }]),
    );
    let mut console = live.console();
    console.wait_text("Platform acme-corp");
    console.send("2");
    console.wait_for("debezium and strimzi healthy", |t| {
        ["Debezium", "Strimzi"]
            .iter()
            .all(|n| row(t, n).is_some_and(|r| r.contains("Healthy")))
    });
    console.send("/");
    console.type_text("debezium");
    console.send(ENTER);
    console.send("d");
    let s = console.wait_text("No longer needed after this");
    assert!(
        row(&s, "[ ] strimzi").is_some(),
        "Strimzi offered unticked:\n{s}"
    );
    assert!(s.contains("Kept installed: strimzi"), "{s}");
    console.send("y");
    console.send(ESC); // clear the filter
    console.wait_for("debezium removed, strimzi kept", |t| {
        row(t, "Debezium").is_none() && row(t, "Strimzi").is_some_and(|r| r.contains("Healthy"))
    });
    // Long enough for the manager to have gone on to a dependency it was told to remove.
    std::thread::sleep(Duration::from_secs(3));
    let components = Api::<openova::crd::Component>::namespaced(live.client.clone(), &live.ns);
    let items = live
        .rt
        .block_on(components.list(&Default::default()))
        .expect("list Components")
        .items;
    let strimzi = items
        .iter()
        .find(|c| c.metadata.name.as_deref() == Some("strimzi"));
    assert!(
        strimzi.is_some_and(|c| c.metadata.deletion_timestamp.is_none()),
        "strimzi is kept"
    );
    let names: Vec<String> = items.into_iter().filter_map(|c| c.metadata.name).collect();
    assert!(!names.contains(&"debezium".to_string()), "{names:?}");
    console.quit();
}
