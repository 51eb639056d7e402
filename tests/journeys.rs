//! The seed README's user journeys end to end, as an operator lives them: `openova playground`
//! (real API server, the Lifecycle Manager and the helm-controller stand-in) runs as its own
//! process, and the console it prints runs in a real PTY, read back with a terminal emulator.
//!
//! - Journey 2, day-2 installation: show all components, install FerretDB, see its dependency
//!   CNPG in the dialog, confirm, both Healthy and listed as installed.
//! - Journey 3, platform upgrade: two upgrades on the dashboard, a changelog read, one upgrade
//!   now, the other scheduled; the scheduled release fails and is rolled back, with its alert.
//!
//! Without the Kubernetes binaries the tests skip loudly, unless OPENOVA_REQUIRE_K8S=1 (CI).

use std::io::{BufRead as _, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use openova::testenv;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 40;
const COLS: u16 = 120;
/// Longest wait for one thing to appear on screen; generous because two cores run the API
/// server, etcd, the playground and the console together.
const DEADLINE: Duration = Duration::from_secs(90);
const START: Duration = Duration::from_secs(150);
const ENTER: &str = "\r";
const ESC: &str = "\x1b";
const TAB: &str = "\t";

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
            .stderr(Stdio::null())
            .spawn()
            .expect("playground starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
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
struct Console {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    /// `kubectl get` of the playground's resources, printed when a wait fails.
    diag: Command,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Console {
    fn open(pg: &Playground, bins: &testenv::Binaries, home: &Path) -> Console {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_openova"));
        cmd.args(["tui", "manage", "--kubeconfig"]);
        cmd.arg(&pg.kubeconfig);
        cmd.args(["--context", &pg.context]);
        cmd.env("HOME", home);
        cmd.env("OPENOVA_STATE_DIR", home.join("console-state"));
        cmd.env("XDG_CONFIG_HOME", home.join("config"));
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        let child = pty.slave.spawn_command(cmd).unwrap();
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let p = parser.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().unwrap().process(&buf[..n]);
            }
        });
        let mut diag = Command::new(&bins.kubectl);
        diag.arg("--kubeconfig")
            .arg(&pg.kubeconfig)
            .args(["--context", &pg.context])
            .args(["get", "components,helmreleases", "-o", "yaml"]);
        Console {
            child,
            writer,
            parser,
            diag,
            _master: pty.master,
        }
    }

    fn text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // Keys arrive as separate events, as typed.
        std::thread::sleep(Duration::from_millis(60));
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.send(&c.to_string());
        }
    }

    fn wait_for(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let t = self.text();
            if pred(&t) {
                return t;
            }
            if start.elapsed() > DEADLINE {
                let cluster = self
                    .diag
                    .output()
                    .map(|o| {
                        String::from_utf8_lossy(&o.stdout).into_owned()
                            + &String::from_utf8_lossy(&o.stderr)
                    })
                    .unwrap_or_default();
                panic!("timed out waiting for {what}; screen:\n{t}\ncluster:\n{cluster}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_text(&mut self, needle: &str) -> String {
        self.wait_for(needle, |t| t.contains(needle))
    }

    fn quit(mut self) {
        self.send("q");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "console exit status {status:?}");
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "console did not quit"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The first line of the screen containing `name`, e.g. a component row.
fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(name))
}

#[test]
fn journey_day2_install_ferretdb_pulls_in_cnpg_and_both_become_healthy() {
    let Some(bins) = testenv::require() else {
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
    let mut console = Console::open(&pg, &bins, home.path());
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
    let Some(bins) = testenv::require() else {
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
    let mut console = Console::open(&pg, &bins, home.path());

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

    // Schedule grafana for the next minute.
    console.send("s");
    console.wait_text("Schedule: grafana");
    console.send(TAB);
    let at = next_minute();
    console.type_text(&at);
    console.send(ENTER);
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
