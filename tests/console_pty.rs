//! End-to-end tests of `openova tui manage` on the real binary in a real PTY, read back with a
//! terminal emulator (vt100), against a real kube-apiserver with the real Lifecycle Manager
//! running and the helm-controller stand-in reporting releases: install with a dependency, a
//! failed upgrade rolled back, the API server stopped and restarted, and silence when idle.
//!
//! Without the Kubernetes binaries the tests skip loudly, unless OPENOVA_REQUIRE_K8S=1 (CI).

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::Api;
use kube::api::PostParams;
use openova::crd::Platform;
use openova::manager::stand_in::StandIn;
use openova::testenv::{self, ADMIN_CONTEXT, ApiServer};
use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 40;
const COLS: u16 = 120;
const DEADLINE: Duration = Duration::from_secs(60);
const ENTER: &str = "\r";
const ESC: &str = "\x1b";

struct Screen {
    parser: vt100::Parser,
    bytes: usize,
}

struct Console {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<Screen>>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
    /// What the cluster holds, printed when a wait fails.
    diag: Option<Box<dyn Fn() -> String>>,
}

impl Console {
    fn spawn(kubeconfig: &Path, namespace: &str, home: &Path) -> Console {
        Console::spawn_as(kubeconfig, namespace, home, ADMIN_CONTEXT)
    }

    fn spawn_as(kubeconfig: &Path, namespace: &str, home: &Path, context: &str) -> Console {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_openova"));
        cmd.args([
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
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        let child = pty.slave.spawn_command(cmd).unwrap();
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(Screen {
            parser: vt100::Parser::new(ROWS, COLS, 0),
            bytes: 0,
        }));
        let s = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = s.lock().unwrap();
                s.parser.process(&buf[..n]);
                s.bytes += n;
            }
        });
        Console {
            child,
            writer,
            screen,
            _master: pty.master,
            diag: None,
        }
    }

    fn text(&self) -> String {
        self.screen.lock().unwrap().parser.screen().contents()
    }

    fn bytes(&self) -> usize {
        self.screen.lock().unwrap().bytes
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // Keys arrive as separate events, as typed.
        std::thread::sleep(Duration::from_millis(60));
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let t = self.text();
            if pred(&t) {
                return t;
            }
            if start.elapsed() > DEADLINE {
                let diag = self.diag.as_ref().map(|d| d()).unwrap_or_default();
                panic!("timed out waiting for {what}; screen:\n{t}\ncluster:\n{diag}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_text(&self, needle: &str) -> String {
        self.wait_for(needle, |t| t.contains(needle))
    }
}

/// A line of the screen containing `name`, e.g. a component row.
fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(name))
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
    let Some(bins) = testenv::require() else {
        return;
    };
    let server = ApiServer::launch_with(bins).expect("API server starts");
    server.install_crds().expect("CRDs install");
    let delivery = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k8s/delivery-crds.yaml"),
    )
    .unwrap();
    server
        .kubectl_run(&["apply", "-f", "-"], Some(&delivery))
        .expect("delivery CRDs install");
    server
        .kubectl_run(
            &[
                "wait",
                "--for",
                "condition=established",
                "--timeout=60s",
                "crd/helmreleases.helm.toolkit.fluxcd.io",
            ],
            None,
        )
        .expect("HelmRelease CRD established");

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
    let mut console = Console::spawn(server.kubeconfig_path(), &ns, home.path());
    let kubectl = testenv::require().map(|b| b.kubectl);
    let kubeconfig = server.kubeconfig_path().to_owned();
    console.diag = Some(Box::new(move || {
        let Some(k) = &kubectl else {
            return String::new();
        };
        let out = std::process::Command::new(k)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args([
                "get",
                "helmreleases,components,platforms",
                "-A",
                "-o",
                "yaml",
            ])
            .output();
        out.map(|o| {
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
        })
        .unwrap_or_default()
    }));

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
    for c in "debezium".chars() {
        console.send(&c.to_string());
    }
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
    console.wait_text("upgrades available");
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

    // Outage: stop the API server, see it said plainly; restart, see the console recover.
    server.stop();
    let s = console.wait_text("unreachable");
    assert!(s.contains(&server.base_url()), "the address is shown:\n{s}");
    server.start().expect("API server restarts");
    console.wait_for("recovered", |t| {
        !t.contains("unreachable") && t.contains("Platform acme-corp")
    });

    console.send("q");
    let start = Instant::now();
    loop {
        if let Some(status) = console.child.try_wait().unwrap() {
            assert!(status.success(), "console exit status {status:?}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "console did not quit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = stop_tx.send(());
}

#[test]
fn console_crds_missing_then_installed_and_forbidden_user_are_said_plainly() {
    let Some(bins) = testenv::require() else {
        return;
    };
    let server = ApiServer::launch_with(bins).expect("API server starts");
    let home = tempfile::tempdir().unwrap();

    // No CRDs yet: the console names the command that installs them, then notices them.
    let mut console = Console::spawn(server.kubeconfig_path(), "openova-system", home.path());
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
    let mut denied = Console::spawn_as(
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
