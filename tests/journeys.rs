//! The seed README's three user journeys end to end, as an operator lives them: the real binary
//! in a real PTY, read back with a terminal emulator, against a real API server. Journeys 2 and
//! 3 run `openova playground` (API server, Lifecycle Manager, helm-controller stand-in) as its
//! own process and open the console command it prints.
//!
//! - Journey 1, bootstrap: the wizard to Review, a run with the stand-in `tofu` whose outputs
//!   carry the test API server's kubeconfig, the hand-over, and the printed `openova tui manage`
//!   command opening a dashboard whose components install and turn Healthy (the manager runs in
//!   this process, as no kubelet runs its Deployment here).
//! - Journey 2, day-2 installation: show all components, install FerretDB, see its dependency
//!   CNPG in the dialog, confirm, both Healthy and listed as installed.
//! - Journey 3, platform upgrade: two upgrades on the dashboard, a changelog read, one upgrade
//!   now, the other scheduled; the scheduled release fails and is rolled back, with its alert.
//!
//! - Journey 1 for Huawei Cloud and OCI: each provider's own credentials (OCI's key read from
//!   its file), the live check answered by a loopback stand-in that verifies the signature, the
//!   plan reviewed, approved and applied (`tofu apply … tfplan`), the hand-over; no secret in
//!   any file under the state directory or in OpenTofu's argv.
//!
//! Without the Kubernetes binaries the tests skip loudly, unless OPENOVA_REQUIRE_K8S=1 (CI).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

#[path = "support/apiserver.rs"]
mod apiserver;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use openova::testenv;
use portable_pty::CommandBuilder;

#[path = "support/pty.rs"]
mod pty;
#[path = "support/signatures.rs"]
mod signatures;

use pty::{ENTER, ESC, PGDN, PUBKEY, Pty, RIGHT, TAB, TOKEN, UP, hetzner_stand_in, row};

const ROWS: u16 = 40;
const COLS: u16 = 120;
/// Longest wait for one thing to appear on screen; generous because two cores run the API
/// server, etcd, the playground and the console together.
const DEADLINE: Duration = Duration::from_secs(90);
const START: Duration = Duration::from_secs(150);

/// The playground's stderr, in the journey's home directory.
const PLAYGROUND_LOG: &str = "playground.log";

/// A running `openova playground`; SIGINT on drop, as Ctrl-C in its terminal.
struct Playground {
    child: Option<Child>,
    kubeconfig: PathBuf,
    context: String,
    /// Everything it printed up to the console command.
    printed: String,
}

impl Playground {
    fn start(bins: &testenv::Binaries, home: &Path, extra: &[&str]) -> Playground {
        let mut child = Command::new(env!("CARGO_BIN_EXE_openova"))
            .arg("playground")
            .args(extra)
            .env("HOME", home)
            .env("OPENOVA_STATE_DIR", home.join("state"))
            .env("OPENOVA_K8S_BIN_DIR", bins.apiserver.parent().unwrap())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(home.join(PLAYGROUND_LOG)).expect("playground log"))
            .spawn()
            .expect("playground starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        // Reads to the end even after the test stopped listening: a closed pipe would make the
        // playground's next line to stdout fail, and the playground stop.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut pg = Playground {
            child: Some(child),
            kubeconfig: PathBuf::new(),
            context: String::new(),
            printed: String::new(),
        };
        let started = Instant::now();
        let command = loop {
            match rx.recv_timeout(START.saturating_sub(started.elapsed())) {
                Ok(line) => {
                    pg.printed.push_str(&line);
                    pg.printed.push('\n');
                    if line.contains(" tui manage --kubeconfig ") {
                        break line;
                    }
                }
                Err(_) => panic!(
                    "no console command printed within {START:?}:\n{}",
                    pg.printed
                ),
            }
        };
        let words: Vec<&str> = command.split_whitespace().collect();
        let after = |flag: &str| {
            words
                .iter()
                .position(|w| *w == flag)
                .and_then(|i| words.get(i + 1))
                .unwrap_or_else(|| panic!("`{command}` has no {flag} value"))
                .to_string()
        };
        pg.kubeconfig = PathBuf::from(after("--kubeconfig"));
        pg.context = after("--context");
        eprintln!(
            "playground ready after {:.1} s",
            started.elapsed().as_secs_f64()
        );
        pg
    }
}

impl Drop for Playground {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        );
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// `openova tui manage` in a PTY, run with the arguments the playground printed.
fn open_console(pg: &Playground, bins: &testenv::Binaries, home: &Path) -> Pty {
    let mut cmd = pty::openova(["tui", "manage", "--kubeconfig"]);
    cmd.arg(&pg.kubeconfig);
    cmd.args(["--context", &pg.context]);
    cmd.env("HOME", home);
    cmd.env("OPENOVA_STATE_DIR", home.join("console-state"));
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    // On a failed wait: the playground's own messages, then the objects.
    let mut diag = Command::new("sh");
    diag.arg("-c")
        .arg(r#"tail -n 40 "$1"; echo; "$2" --kubeconfig "$3" --context "$4" get components,helmreleases -o yaml"#)
        .arg("diag")
        .arg(home.join(PLAYGROUND_LOG))
        .arg(&bins.kubectl)
        .arg(&pg.kubeconfig)
        .arg(&pg.context);
    spawn(cmd, diag, COLS)
}

/// `cmd` in a PTY `cols` wide; `diag`, a `kubectl get`, is printed when a wait fails.
fn spawn(cmd: CommandBuilder, diag: Command, cols: u16) -> Pty {
    Pty::spawn(cmd, ROWS, cols)
        .waits(DEADLINE, Duration::from_millis(50))
        .diag("cluster", diag)
}

#[test]
fn journey_day2_install_ferretdb_pulls_in_cnpg_and_both_become_healthy() {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let started = Instant::now();
    let home = tempfile::tempdir().unwrap();
    // CNPG is not selected; FerretDB needs it, so the dialog must bring it along.
    let pg = Playground::start(
        &bins,
        home.path(),
        &[
            "--components",
            "cilium",
            "--behind",
            "0",
            "--release-delay-ms",
            "100",
        ],
    );
    let mut console = open_console(&pg, &bins, home.path());
    console.wait_text("Platform acme-corp");

    // Components: only what is installed is shown until the operator asks for everything.
    console.send("2");
    console.wait_for("cilium healthy", |t| {
        row(t, "Cilium").is_some_and(|r| r.contains("Healthy"))
    });
    let s = console.text();
    assert!(
        row(&s, "FerretDB").is_none(),
        "installed only at first:\n{s}"
    );
    console.send("a");
    console.wait_text("[ ] Show installed only");
    console.send("/");
    console.type_text("ferretdb");
    console.send(ENTER);
    console.send("i");
    let s = console.wait_text("Install: FerretDB");
    let cnpg = row(&s, "CloudNativePG").unwrap_or_else(|| panic!("dialog lists CNPG:\n{s}"));
    assert!(
        cnpg.contains("✓") && cnpg.contains("will be installed"),
        "CNPG is selected for installation:\n{s}"
    );
    let installed_at = Instant::now();
    console.send(ENTER);
    console.wait_for("FerretDB healthy", |t| {
        row(t, "FerretDB").is_some_and(|r| r.contains("✓") && r.contains("Healthy"))
    });
    let install_secs = installed_at.elapsed().as_secs_f64();

    // Installed only again: FerretDB and the CNPG it required are both there, Healthy.
    console.send(ESC);
    console.send("a");
    let s = console.wait_for("installed list", |t| {
        t.contains("[x] Show installed only")
            && row(t, "CloudNativePG").is_some_and(|r| r.contains("✓") && r.contains("Healthy"))
            && row(t, "FerretDB").is_some_and(|r| r.contains("✓") && r.contains("Healthy"))
    });
    assert!(row(&s, "Neo4j").is_none(), "only installed ones:\n{s}");
    console.quit();
    eprintln!(
        "journey 2: FerretDB + CNPG Healthy {install_secs:.1} s after confirming; {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
}

/// A time the Schedule dialog accepts (UTC, minute precision) that is at least 20 s away, so the
/// scheduled state can be seen before the manager starts the upgrade.
fn next_minute() -> String {
    let now = time::OffsetDateTime::now_utc();
    let mut at = now
        .replace_second(0)
        .and_then(|t| t.replace_nanosecond(0))
        .unwrap()
        + time::Duration::minutes(1);
    if at - now < time::Duration::seconds(20) {
        at += time::Duration::minutes(1);
    }
    at.format(time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]"
    ))
    .unwrap()
}

#[test]
fn journey_upgrade_one_now_one_scheduled_failing_release_rolls_back_with_alert() {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let started = Instant::now();
    let home = tempfile::tempdir().unwrap();
    // cilium and grafana start one version behind; grafana's newest release fails.
    let pg = Playground::start(
        &bins,
        home.path(),
        &[
            "--components",
            "cilium,grafana",
            "--fail-versions",
            "grafana@12.3.1",
            "--release-delay-ms",
            "100",
        ],
    );
    assert!(
        pg.printed.contains("2 upgrades available"),
        "{}",
        pg.printed
    );
    let mut console = open_console(&pg, &bins, home.path());

    // Dashboard: two upgrades are offered.
    console.wait_for("2 upgrades on the dashboard", |t| {
        t.contains("Platform acme-corp") && t.contains("2 avail")
    });

    // Upgrades: read cilium's changelog, then upgrade it now.
    console.send("3");
    console.wait_text("2 upgrades available");
    for _ in 0..2 {
        if console.text().contains("›cilium") {
            break;
        }
        console.send("j");
    }
    let s = console.wait_text("Changelog v1.16.3 → v1.16.5");
    assert!(
        s.contains("Upstream Cilium 1.16.5 patch release"),
        "the changelog of the new version is shown:\n{s}"
    );
    console.send("u");
    console.wait_text("Upgrade cilium from v1.16.3 to v1.16.5 now?");
    let upgraded_at = Instant::now();
    console.send("y");
    // cilium leaves the list once it runs the new version; grafana is selected.
    let s = console.wait_for("cilium upgraded", |t| {
        !t.lines()
            .any(|l| l.starts_with("│›cilium") || l.starts_with("│ cilium"))
            && t.contains("›grafana")
    });
    let upgrade_secs = upgraded_at.elapsed().as_secs_f64();
    assert!(
        s.contains("Upstream Grafana 12 release"),
        "grafana's changelog is shown:\n{s}"
    );

    // Schedule grafana for the next minute, once its first install has finished (a version
    // changed before then is installed at once, whatever the schedule says).
    console.wait_for("grafana installed", |t| {
        row(t, "›grafana").is_some_and(|r| r.contains("Healthy"))
    });
    console.send("s");
    console.wait_text("Schedule: grafana");
    // The playground's Platform has no maintenance window: the window is not offered and a
    // time is asked first.
    console.wait_text("not offered: the Platform has no maintenance window");
    let at = next_minute();
    console.type_text(&at);
    console.send(ENTER);
    // 11 → 12 is a major upgrade: a second question names the jump.
    console.wait_text("Major upgrade 11→12");
    console.send("y");
    let s = console.wait_for("grafana scheduled", |t| {
        row(t, "›grafana").is_some_and(|r| r.contains("scheduled"))
    });
    assert!(
        row(&s, "›grafana").is_some_and(|r| r.contains(&at[..10])),
        "the scheduled date is shown:\n{s}"
    );

    // At that time the manager upgrades grafana; 12.3.1 fails and is rolled back to 11.4.0.
    let s = console.wait_for("automatic rollback", |t| {
        t.contains("Automatic rollback")
            && row(t, "›grafana").is_some_and(|r| r.contains("rolled back"))
    });
    let rollback = row(&s, "Automatic rollback").unwrap();
    assert!(
        rollback.contains("12.3.1") && rollback.contains("11.4.0"),
        "from the failed release back to the last good one:\n{s}"
    );
    assert!(
        s.contains("Last good version: v11.4.0"),
        "the last good version is named:\n{s}"
    );

    // The alert names the component and what happened.
    console.send("4");
    console.wait_for("rollback alert", |t| {
        row(t, "Component/grafana").is_some_and(|r| r.contains("rolled back"))
    });

    // Components: cilium runs the new version, grafana the restored one, both Healthy.
    console.send("2");
    console.wait_for("final versions", |t| {
        row(t, "Cilium").is_some_and(|r| r.contains("1.16.5") && r.contains("Healthy"))
            && row(t, "Grafana").is_some_and(|r| r.contains("11.4.0") && r.contains("rolled back"))
    });
    console.quit();
    eprintln!(
        "journey 3: cilium upgraded {upgrade_secs:.1} s after confirming; {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn journey_bootstrap_wizard_run_handover_then_console_reports_installing_then_healthy() {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let started = Instant::now();
    let server = testenv::ApiServer::launch_with(bins.clone()).expect("API server starts");
    // The manager starts before the hand-over, as its Deployment would once scheduled; it needs
    // the CRDs to watch (the hand-over applies them again) and the delivery CRDs Flux brings.
    server.install_crds().expect("CRDs install");
    server
        .install_delivery_crds()
        .expect("delivery CRDs install");
    server
        .kubectl_run(&["create", "namespace", "openova-system"], None)
        .expect("namespace created");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(server.admin_client()).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    {
        let client = client.clone();
        rt.spawn(async move {
            let settings = openova::manager::Settings::new("openova-system", "journey");
            let metrics = openova::manager::metrics::Metrics::new();
            let ended = openova::manager::run_manager(client, settings, metrics, async move {
                let _ = stop_rx.await;
            })
            .await;
            if let Err(e) = ended {
                eprintln!("manager stopped: {e}");
            }
        });
    }
    // Slow enough releases that the console, opened right after the hand-over, sees the
    // dependency chain still installing.
    let stand_in = openova::manager::stand_in::StandIn {
        failing_versions: Default::default(),
        delay: Duration::from_secs(6),
    };
    rt.spawn(stand_in.run(
        client.clone(),
        openova::manager::delivery::flux::helm_release_resource(),
        Some("openova-system".into()),
    ));

    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    // `tofu` on PATH is the stand-in, whose `output -json` carries the test API server's
    // kubeconfig as the cluster's.
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_openova-fake-tofu"), bin.join("tofu")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = pty::bootstrap(&home.join("state"), &home, &hetzner_stand_in(), &["--new"]);
    cmd.env("PATH", &path);
    cmd.env("FAKE_TOFU_KUBECONFIG", server.kubeconfig_path());
    let mut diag = Command::new(&bins.kubectl);
    diag.arg("--kubeconfig")
        .arg(server.kubeconfig_path())
        .args(["get", "platforms,components", "-A"]);
    let mut w = spawn(cmd, diag, 200);

    w.wait_text("Organization name");
    w.type_text("Acme Corp");
    w.wait_text("acme-corp");
    w.send(ENTER);
    w.send(ENTER);
    w.type_text("acme.io");
    w.send(ENTER);
    w.type_text("platform@acme.io");
    w.send(ENTER);
    w.send(ENTER);
    w.wait_text("API token");
    w.send(TAB); // from the provider to the token
    w.paste(TOKEN);
    w.send(ENTER);
    w.wait_text("valid");
    w.send(ENTER); // live check: against the provider's API
    w.send(ENTER); // state backend: local
    w.send(RIGHT); // SSH: paste an existing key
    w.send(ENTER);
    w.paste(PUBKEY);
    w.wait_text("SHA256:");
    w.send(ENTER);
    w.send(RIGHT); // secrets held in memory only
    w.wait_text("memory only");
    w.send(ENTER);
    w.wait_text("Hetzner Cloud [hz]");
    w.send(ENTER);
    w.wait_text("hz-fsn-rtz-prod");
    // Who may reach the API (↑ wraps round to the access fields at the end).
    w.send(UP);
    w.send(UP);
    w.wait_text("› API allowed from");
    w.type_text("198.51.100.7/32");
    w.send(PGDN);
    // FerretDB, beyond the mandatory set; its dependencies come along.
    w.wait_text("MANDATORY");
    w.send("/");
    w.type_text("ferretdb");
    w.send(ENTER);
    w.send(" ");
    w.wait_text("[x] ferretdb");
    w.send(ENTER);
    w.wait_text("Everything checks out");
    w.send("s");
    w.wait_text("Plan the provisioning?");
    w.send("y");
    let run_started = Instant::now();
    // The plan is shown for approval; nothing is created before it is approved.
    w.wait_text("Plan review");
    w.wait_text("to add");
    w.send("a");
    w.wait_text("Apply the plan of run");
    w.send("y");
    let s = w.wait_text("tui manage --context hz-fsn-rtz-prod");
    let run_secs = run_started.elapsed().as_secs_f64();
    let line = row(&s, "tui manage --context").unwrap();
    let words: Vec<&str> = line
        .split_whitespace()
        .skip_while(|w| !w.ends_with("openova"))
        .collect();
    assert_eq!(
        words.get(1..4),
        Some(&["tui", "manage", "--context"][..]),
        "{s}"
    );
    let kubeconfig = words
        .iter()
        .position(|w| *w == "--kubeconfig")
        .and_then(|i| words.get(i + 1))
        .unwrap_or_else(|| panic!("the command names the run's kubeconfig:\n{s}"))
        .trim_end_matches(['│', '`', '\''])
        .to_string();
    w.send("q");

    // The printed command, run as printed, opens the dashboard of the handed-over cluster.
    let mut cmd = pty::openova([
        "tui",
        "manage",
        "--context",
        "hz-fsn-rtz-prod",
        "--kubeconfig",
        &kubeconfig,
    ]);
    cmd.env("HOME", &home);
    cmd.env("OPENOVA_STATE_DIR", home.join("console-state"));
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    let mut diag = Command::new(&bins.kubectl);
    diag.arg("--kubeconfig")
        .arg(server.kubeconfig_path())
        .args(["get", "platforms,components", "-A"]);
    let mut console = spawn(cmd, diag, COLS);
    let s = console.wait_text("Platform acme-corp");
    assert!(
        s.lines()
            .next()
            .unwrap()
            .contains("[Cluster: hz-fsn-rtz-prod]"),
        "{s}"
    );
    console.send("2");
    console.wait_for("components installing", |t| t.contains("Installing"));
    // The mandatory set and the selection do not fit on one screen: the dashboard's health bar
    // speaks for all of them, the filter finds the selected one.
    console.send("1");
    console.wait_for("every component healthy", |t| {
        row(t, "Platform Health:").is_some_and(|r| r.contains("100%"))
    });
    console.send("2");
    console.wait_for("cilium (mandatory) healthy", |t| {
        row(t, "Cilium").is_some_and(|r| r.contains("Healthy"))
    });
    console.send("/");
    console.type_text("ferretdb");
    console.send(ENTER);
    console.wait_for("ferretdb (selected) healthy", |t| {
        row(t, "FerretDB").is_some_and(|r| r.contains("Healthy"))
    });
    console.quit();
    let _ = stop_tx.send(());
    eprintln!(
        "journey 1: run to hand-over command {run_secs:.1} s; {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
}

// ---- Huawei Cloud and OCI: the wizard with each provider's own credentials, checked by stand-ins
// ---- that verify the signatures, then plan review, approval, apply and hand-over -----------------

const HW_AK: &str = "HPUAPLANTEDACCESSKEY7Q";
const HW_SK: &str = "PLANTEDhuaweiSECRETkeyPLANTEDhuaweiSECRET01";
const OCI_TENANCY: &str =
    "ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq";
const OCI_USER: &str =
    "ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq";
const OCI_FINGERPRINT: &str = "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34";
const OCI_KEY: &str = include_str!("fixtures/oci-test-api-key.pem");
const LEFT: &str = "\x1b[D";

/// A loopback provider API: each request head goes to `verify`; `Ok(body)` answers 200 with it,
/// `Err` 401. Returns its base URL and how many requests verified.
fn verifying_stand_in(
    verify: impl Fn(&signatures::Head) -> Result<String, String> + Send + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::Write as _;
    let verified = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = verified.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                head.push_str(&line);
                line.clear();
            }
            let (status, body) = match verify(&signatures::Head::parse(&head)) {
                Ok(body) => {
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    ("200 OK", body)
                }
                Err(why) => ("401 Unauthorized", format!(r#"{{"code":"{why}"}}"#)),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (format!("http://{addr}"), verified)
}

/// Huawei IAM: `GET /v3/projects?name=<region>` signed (SDK-HMAC-SHA256) with the planted keys.
fn huawei_iam_stand_in() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    verifying_stand_in(|req| {
        let access = signatures::huawei_verify(req, HW_SK)?;
        let region = req
            .target
            .strip_prefix("/v3/projects?name=")
            .ok_or("another path")?;
        if access != HW_AK {
            return Err("another access key".into());
        }
        Ok(format!(
            r#"{{"projects":[{{"id":"0123456789abcdef0123456789abcdef","name":"{region}"}}]}}"#
        ))
    })
}

/// OCI Identity: `GET /20160918/users/<user>` signed (rsa-sha256) by the fixture key.
fn oci_identity_stand_in() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use rsa::pkcs8::DecodePrivateKey;
    let public = rsa::RsaPrivateKey::from_pkcs8_pem(OCI_KEY)
        .unwrap()
        .to_public_key();
    verifying_stand_in(move |req| {
        let key_id = signatures::oci_verify(req, &public)?;
        if key_id != format!("{OCI_TENANCY}/{OCI_USER}/{OCI_FINGERPRINT}")
            || req.target != format!("/20160918/users/{OCI_USER}")
        {
            return Err("another key or path".into());
        }
        Ok(format!(r#"{{"id":"{OCI_USER}","name":"ops"}}"#))
    })
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(files_under(&p));
        } else if p.is_file() {
            out.push(p);
        }
    }
    out
}

/// One provider's journey.
struct ProviderJourney<'a> {
    /// The endpoint variable pointing the live check at the stand-in.
    endpoint_env: &'a str,
    /// Chooses the provider on Credentials and enters its credentials; returns with the check
    /// passed and the focus moved on to SSH access.
    credentials: &'a dyn Fn(&mut Pty, &Path),
    /// What the Provider screen shows for it, and the first cluster's name.
    provider_row: &'a str,
    cluster: &'a str,
    /// Values that must reach no file under the state directory and no OpenTofu argv.
    secrets: &'a [&'a str],
}

/// Wizard → live check against the verifying stand-in → plan review → approve → apply with the
/// stand-in tofu (which must receive `apply … tfplan`) → hand-over to the real API server.
fn wizard_plan_approve_apply_handover(j: &ProviderJourney<'_>, endpoint: &str) {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let server = testenv::ApiServer::launch_with(bins.clone()).expect("API server starts");
    server.install_crds().expect("CRDs install");
    server
        .install_delivery_crds()
        .expect("delivery CRDs install");
    server
        .kubectl_run(&["create", "namespace", "openova-system"], None)
        .expect("namespace created");
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_openova-fake-tofu"), bin.join("tofu")).unwrap();
    let argv_log = tmp.path().join("tofu-argv.log");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = pty::bootstrap(&home.join("state"), &home, &hetzner_stand_in(), &["--new"]);
    cmd.env("PATH", &path);
    cmd.env(j.endpoint_env, endpoint);
    cmd.env("FAKE_TOFU_KUBECONFIG", server.kubeconfig_path());
    cmd.env("FAKE_TOFU_ARGV_LOG", &argv_log);
    let mut diag = Command::new(&bins.kubectl);
    diag.arg("--kubeconfig")
        .arg(server.kubeconfig_path())
        .args(["get", "platforms", "-A"]);
    let mut w = spawn(cmd, diag, 200);

    w.wait_text("Organization name");
    w.type_text("Acme Corp");
    w.wait_text("acme-corp");
    w.send(ENTER);
    w.send(ENTER);
    w.type_text("acme.io");
    w.send(ENTER);
    w.type_text("platform@acme.io");
    w.send(ENTER);
    w.send(ENTER);
    w.wait_text("API token");
    (j.credentials)(&mut w, tmp.path());
    w.wait_text("› SSH access");
    w.send(RIGHT); // SSH: paste an existing key
    w.send(ENTER);
    w.paste(PUBKEY);
    w.wait_text("SHA256:");
    w.send(ENTER);
    w.send(RIGHT); // secrets held in memory only
    w.wait_text("memory only");
    w.send(ENTER);
    w.wait_text(j.provider_row);
    w.send(ENTER);
    w.wait_text(j.cluster);
    w.send(UP);
    w.send(UP);
    w.wait_text("› API allowed from");
    w.type_text("198.51.100.7/32");
    w.send(PGDN);
    w.wait_text("MANDATORY");
    w.send(PGDN);
    w.wait_text("Everything checks out");
    w.send("s");
    w.wait_text("Plan the provisioning?");
    w.send("y");
    w.wait_text("Plan review");
    w.wait_text("to add");
    w.send("a");
    w.wait_text("Apply the plan of run");
    w.send("y");
    w.wait_text(&format!("tui manage --context {}", j.cluster));
    w.send("q");

    let argv = std::fs::read_to_string(&argv_log).unwrap();
    assert!(
        argv.lines()
            .any(|l| l.starts_with("apply") && l.contains("tfplan")),
        "OpenTofu applied the approved plan file:\n{argv}"
    );
    for secret in j.secrets {
        assert!(!argv.contains(secret), "a secret in tofu's argv:\n{argv}");
        for file in files_under(&home) {
            let text =
                String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).into_owned();
            assert!(!text.contains(secret), "a secret in {}", file.display());
        }
    }
}

#[test]
fn journey_bootstrap_wizard_huawei_checked_by_signature_plan_approved_applied_handed_over() {
    let (iam, verified) = huawei_iam_stand_in();
    let credentials = |w: &mut Pty, _: &Path| {
        w.send(RIGHT); // the provider, asked first: Huawei Cloud
        w.wait_text("Access key (AK)");
        w.send(TAB);
        w.paste(HW_AK);
        w.send(ENTER);
        w.wait_text("› Secret key (SK)");
        w.paste(HW_SK);
        w.send(ENTER); // checks both keys
        w.wait_text("valid");
        w.send(TAB); // live check: against the provider's API
        w.send(TAB); // state backend: local
    };
    wizard_plan_approve_apply_handover(
        &ProviderJourney {
            endpoint_env: "OPENOVA_HUAWEI_IAM_URL",
            credentials: &credentials,
            provider_row: "Huawei Cloud [hw]",
            cluster: "hw-apse-rtz-prod",
            secrets: &[HW_AK, HW_SK],
        },
        &iam,
    );
    if apiserver::require().is_some() {
        assert!(verified.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    }
}

#[test]
fn journey_bootstrap_wizard_oci_checked_by_signature_plan_approved_applied_handed_over() {
    let (identity, verified) = oci_identity_stand_in();
    let credentials = |w: &mut Pty, dir: &Path| {
        // The operator's key file, outside the state directory; the wizard reads it once.
        let key_file = dir.join("oci_api_key.pem");
        std::fs::write(&key_file, OCI_KEY).unwrap();
        w.send(LEFT); // the provider, asked first: Hetzner wraps round to OCI
        w.wait_text("Tenancy OCID");
        w.send(TAB);
        w.paste(OCI_TENANCY);
        w.send(ENTER);
        w.wait_text("› User OCID");
        w.paste(OCI_USER);
        w.send(ENTER);
        w.wait_text("› Key fingerprint");
        w.paste(OCI_FINGERPRINT);
        w.send(ENTER);
        w.wait_text("› API private key");
        w.type_text(&key_file.display().to_string());
        w.send(ENTER); // reads the file, then checks the four credentials
        w.wait_text("RSA 2048-bit private key");
        w.wait_text("valid");
        // Region (the first cluster's), compartment (the root), live check, state backend.
        for _ in 0..5 {
            w.send(TAB);
        }
    };
    let marker = OCI_KEY.lines().nth(5).unwrap();
    wizard_plan_approve_apply_handover(
        &ProviderJourney {
            endpoint_env: "OPENOVA_OCI_IDENTITY_URL",
            credentials: &credentials,
            provider_row: "Oracle Cloud (OCI) [oci]",
            cluster: "oci-dxb-rtz-prod",
            secrets: &[marker, "BEGIN PRIVATE KEY"],
        },
        &identity,
    );
    if apiserver::require().is_some() {
        assert!(verified.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    }
}
