//! End-to-end tests of `openova tui manage` on the real binary in a real PTY, read back with a
//! terminal emulator (vt100), against a real kube-apiserver with the real Lifecycle Manager
//! running and the helm-controller stand-in reporting releases: install with a dependency, a
//! failed upgrade rolled back, the API server stopped and restarted, and silence when idle.
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

use pty::{ENTER, ESC, Pty, row};

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
