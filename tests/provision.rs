//! Provisioning runs end to end: the real `openova` binary starts a detached supervisor that
//! drives the stand-in `tofu` (OpenTofu's documented -json messages), records everything in a
//! real SQLite database, survives its launcher being killed, cancels gracefully and never lets
//! a credential escape.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

#[path = "support/apiserver.rs"]
mod apiserver;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use openova::store::runs::{self, RunRecord, RunState};

const OPENOVA: &str = env!("CARGO_BIN_EXE_openova");
const FAKE_TOFU: &str = env!("CARGO_BIN_EXE_openova-fake-tofu");
const TOKEN: &str = "hcloud-planted-token-5f3a9c1e7b";

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        // Two regions, credentials by reference (`hcloud_token = "env:HCLOUD_TOKEN"`).
        std::fs::write(
            dir.path().join("platform.toml"),
            openova::domain::platform::EXAMPLE_TOML,
        )
        .expect("write config");
        Env { dir }
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("platform.toml")
    }

    /// `openova` with an isolated state directory, the planted token as the provider credential,
    /// and the stand-in tofu told which credential it must see.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(OPENOVA);
        c.args(args)
            .env("OPENOVA_STATE_DIR", self.state())
            .env("HCLOUD_TOKEN", TOKEN)
            .env("FAKE_TOFU_SECRET_VAR", "TF_VAR_hcloud_token")
            .env_remove("FAKE_TOFU_SCENARIO")
            .env_remove("OPENOVA_LOG")
            .stdin(Stdio::null());
        c
    }

    fn bootstrap(&self, action: &str, extra: &[&str]) -> Command {
        let config = self.config();
        let mut args = vec![
            "bootstrap",
            action,
            "--config",
            config.to_str().expect("utf-8 path"),
            "--tofu",
            FAKE_TOFU,
        ];
        // Only apply takes these; each subcommand accepts only its own options.
        if action == "apply" {
            args.extend_from_slice(&["--yes", "--no-handover"]);
        }
        args.extend_from_slice(extra);
        self.cmd(&args)
    }

    fn db(&self) -> rusqlite::Connection {
        runs::open(&self.state().join("openova.db")).expect("open db")
    }

    fn only_run(&self) -> RunRecord {
        let list = runs::list_runs(&self.db(), 10).expect("list");
        assert_eq!(list.len(), 1, "expected exactly one run");
        list.into_iter().next().expect("one run")
    }

    /// Wait until `pred` holds for the newest run.
    fn wait_run(&self, what: &str, pred: impl Fn(&RunRecord, &[String]) -> bool) -> RunRecord {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.state().join("openova.db").exists() {
                let conn = self.db();
                if let Some(run) = runs::list_runs(&conn, 1).expect("list").into_iter().next() {
                    let kinds: Vec<String> = runs::events_after(&conn, &run.id, 0, 5000)
                        .expect("events")
                        .into_iter()
                        .map(|e| e.kind)
                        .collect();
                    if pred(&run, &kinds) {
                        return run;
                    }
                }
            }
            assert!(Instant::now() < deadline, "timed out waiting for: {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_ended(&self, id: &str) -> RunRecord {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let run = runs::refresh_liveness(&self.db(), id).expect("run");
            if run.state.is_terminal() {
                return run;
            }
            assert!(Instant::now() < deadline, "run {id} did not end");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn logs(&self, id: &str) -> String {
        let out = self.cmd(&["runs", "logs", id]).output().expect("runs logs");
        assert!(
            out.status.success(),
            "runs logs failed: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run_ok(c: &mut Command) -> Output {
    let out = c.output().expect("spawn");
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every process whose command line contains `needle` (other than ones we cannot read).
fn procs_with_in_cmdline(needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if let Ok(bytes) = std::fs::read(e.path().join("cmdline"))
            && contains_bytes(&bytes, needle.as_bytes())
        {
            hits.push(format!("{pid}: {}", text(&bytes).replace('\0', " ")));
        }
    }
    hits
}

#[test]
fn bootstrap_apply_success_records_every_phase_and_succeeds() {
    let env = Env::new();
    let out = run_ok(&mut env.bootstrap("apply", &[]));
    let stdout = text(&out.stdout);
    let run = env.only_run();
    assert_eq!(run.state, RunState::Succeeded);
    assert!(
        stdout.contains(&format!("run {} succeeded", run.id)),
        "{stdout}"
    );

    let conn = env.db();
    let events = runs::events_after(&conn, &run.id, 0, 5000).expect("events");
    let states: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == "state")
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(
        states,
        vec![
            "run is now init",
            "run is now plan",
            "run is now apply",
            "run is now succeeded"
        ]
    );
    // Two regions, two clusters, one after the other.
    let clusters: Vec<&str> = events
        .iter()
        .filter(|e| e.message.starts_with("cluster "))
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(
        clusters,
        vec![
            "cluster hz-fsn-rtz-prod (1 of 2)",
            "cluster hz-hel-rtz-prod (2 of 2)"
        ]
    );
    let completed = events.iter().filter(|e| e.kind == "apply_complete").count();
    assert_eq!(completed, 8, "one apply_complete per resource and cluster");
    // A message type we do not model is kept, with OpenTofu's own text.
    let unknown = events
        .iter()
        .find(|e| e.kind == "ephemeral_summary")
        .expect("unknown message type kept");
    assert_eq!(unknown.message, "Ephemeral resources closed");
    assert!(unknown.raw.contains("\"count\":0"));
    // The workspace is private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&run.workspace)
        .expect("ws")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn bootstrap_apply_failing_resource_fails_with_diagnostic_summary_and_detail() {
    let env = Env::new();
    let out = env
        .bootstrap("apply", &[])
        .env("FAKE_TOFU_SCENARIO", "fail")
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    let run = env.only_run();
    assert_eq!(run.state, RunState::Failed);
    let err = run.error.expect("error recorded");
    assert!(err.contains("server type cx99 not found"), "{err}");
    assert!(err.contains("does not exist in location fsn1"), "{err}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ERROR hcloud_server.control_plane[0]: Creation errored"),
        "{stdout}"
    );
    assert!(
        stdout.contains("The server type cx99 does not exist"),
        "{stdout}"
    );
}

#[test]
fn progress_screen_fed_from_failed_run_shows_failed_resource_and_diagnostic() {
    use openova::tui::bootstrap::progress::{ProgressScreen, ResourceStatus};
    let env = Env::new();
    let out = env
        .bootstrap("apply", &[])
        .env("FAKE_TOFU_SCENARIO", "fail")
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    let run = env.only_run();
    let conn = env.db();
    let mut screen = ProgressScreen::new(&run.id);
    screen.set_run(&run);
    // Fed in small pages, as the TUI reads them while the run is live.
    loop {
        let page = runs::events_after(&conn, &run.id, screen.last_seq(), 7).expect("events");
        if page.is_empty() {
            break;
        }
        for e in &page {
            screen.apply_event(e);
        }
    }
    let failed: Vec<&str> = screen
        .rows()
        .iter()
        .filter(|r| matches!(r.status, ResourceStatus::Failed { .. }))
        .map(|r| r.addr.as_str())
        .collect();
    assert_eq!(failed, vec!["hcloud_server.control_plane[0]"]);
    let created = screen
        .rows()
        .iter()
        .filter(|r| matches!(r.status, ResourceStatus::Done { .. }))
        .count();
    assert_eq!(created, 2);

    let theme = openova::tui::theme::Theme::builtin("mono").expect("theme");
    let mut term =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).expect("terminal");
    term.draw(|f| screen.render(f, f.area(), &theme))
        .expect("draw");
    let buf = term.backend().buffer().clone();
    let mut text_on_screen = String::new();
    for y in 0..30 {
        for x in 0..100 {
            text_on_screen.push_str(buf[(x, y)].symbol());
        }
        text_on_screen.push('\n');
    }
    assert!(
        text_on_screen.contains("Error: server type cx99 not found"),
        "{text_on_screen}"
    );
    assert!(
        text_on_screen.contains("The server type cx99 does not exist in location fsn1"),
        "{text_on_screen}"
    );
    assert!(text_on_screen.contains("✗ apply"), "{text_on_screen}");
}

#[test]
fn bootstrap_plan_stops_after_plan_and_changes_nothing() {
    let env = Env::new();
    run_ok(&mut env.bootstrap("plan", &[]));
    let run = env.only_run();
    assert_eq!(run.state, RunState::Succeeded);
    let logs = env.logs(&run.id);
    assert!(
        logs.contains("Plan: 4 to add, 0 to change, 0 to destroy."),
        "{logs}"
    );
    assert!(!logs.contains("Creating..."), "{logs}");
}

#[test]
fn bootstrap_client_killed_mid_apply_run_completes_and_attach_shows_whole_log() {
    let env = Env::new();
    let mut client = env
        .bootstrap("apply", &[])
        .env("FAKE_TOFU_SCENARIO", "slow")
        .env("FAKE_TOFU_STEP_MS", "500")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn client");
    let run = env.wait_run("apply started", |r, kinds| {
        r.state == RunState::Apply && kinds.iter().any(|k| k == "apply_start")
    });
    // The terminal dies: SIGHUP, then kill -9 for good measure.
    let pid = nix::unistd::Pid::from_raw(client.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    let _ = client.wait();

    let out = env
        .cmd(&["runs", "attach", &run.id])
        .output()
        .expect("attach");
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("run {} succeeded", run.id)),
        "{stdout}"
    );
    for addr in [
        "hcloud_network.main",
        "hcloud_firewall.cluster",
        "hcloud_server.control_plane[0]",
        "hcloud_load_balancer.api",
    ] {
        assert!(
            stdout.contains(&format!("{addr}: Creation complete")),
            "missing {addr}:\n{stdout}"
        );
    }
    // attach prints the whole log from the first event, not only what came after it started.
    assert!(stdout.contains("supervisor started"), "{stdout}");
    assert!(stdout.contains("Plan: 4 to add"), "{stdout}");
    assert_eq!(env.wait_ended(&run.id).state, RunState::Succeeded);
}

#[test]
fn runs_cancel_mid_apply_interrupts_tofu_and_leaves_no_lock() {
    let env = Env::new();
    let lock = env.dir.path().join("state.lock");
    let out = run_ok(
        env.bootstrap("apply", &["--detach"])
            .env("FAKE_TOFU_SCENARIO", "slow")
            .env("FAKE_TOFU_STEP_MS", "3000")
            .env("FAKE_TOFU_LOCK_PATH", &lock),
    );
    assert!(text(&out.stdout).contains("openova runs attach"));
    let run = env.wait_run("apply started", |_, kinds| {
        kinds.iter().any(|k| k == "apply_start")
    });
    assert!(
        lock.exists(),
        "the stand-in holds the state lock while applying"
    );

    run_ok(&mut env.cmd(&["runs", "cancel", &run.id]));
    let out = env
        .cmd(&["runs", "attach", &run.id])
        .output()
        .expect("attach");
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stdout));
    let ended = env.wait_ended(&run.id);
    assert_eq!(ended.state, RunState::Cancelled);
    let err = ended.error.expect("reason");
    assert!(err.contains("interrupted with SIGINT"), "{err}");
    assert!(
        !err.contains("SIGTERM") && !err.contains("SIGKILL"),
        "{err}"
    );
    assert!(
        !lock.exists(),
        "state lock left behind after a graceful cancel"
    );
    let logs = env.logs(&run.id);
    assert!(logs.contains("Interrupt received"), "{logs}");
}

#[test]
fn bootstrap_stale_lock_fails_with_force_unlock_command() {
    let env = Env::new();
    let lock = env.dir.path().join("state.lock");
    std::fs::write(&lock, "5c1f7e6a-1111-4222-8333-0123456789ab apply").expect("plant lock");
    let out = env
        .bootstrap("apply", &[])
        .env("FAKE_TOFU_LOCK_PATH", &lock)
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    let run = env.only_run();
    let err = run.error.expect("error");
    assert!(err.contains("The OpenTofu state is locked"), "{err}");
    assert!(
        err.contains(&format!(
            "tofu -chdir={}/hz-fsn-rtz-prod/hetzner force-unlock 5c1f7e6a-1111-4222-8333-0123456789ab",
            run.workspace
        )),
        "{err}"
    );
    assert!(text(&out.stdout).contains("force-unlock 5c1f7e6a-1111-4222-8333-0123456789ab"));
}

#[test]
fn runs_show_supervisor_killed_reports_interrupted() {
    let env = Env::new();
    run_ok(
        env.bootstrap("apply", &["--detach"])
            .env("FAKE_TOFU_SCENARIO", "slow")
            .env("FAKE_TOFU_STEP_MS", "400"),
    );
    let run = env.wait_run("apply started", |r, _| r.state == RunState::Apply);
    let pid = run.supervisor_pid.expect("supervisor pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill supervisor");
    // It was our grandchild's child: wait for the kernel to let go of it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while runs::pid_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = env.cmd(&["runs", "show", &run.id]).output().expect("show");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("state      interrupted"), "{stdout}");
    assert!(stdout.contains("supervisor process ended"), "{stdout}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn planted_token_never_reaches_argv_logs_sqlite_workspace_or_output() {
    let env = Env::new();
    let mut client = env
        .bootstrap("apply", &[])
        .env("FAKE_TOFU_SCENARIO", "slow")
        .env("FAKE_TOFU_STEP_MS", "300")
        // The stand-in echoes the credential in a diagnostic, as a careless provider might.
        .env("FAKE_TOFU_ECHO_SECRET", "1")
        .env("OPENOVA_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut argv_hits = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut supervisor_env_checked = false;
    while client.try_wait().expect("try_wait").is_none() {
        argv_hits.extend(procs_with_in_cmdline(TOKEN));
        if !supervisor_env_checked
            && env.state().join("openova.db").exists()
            && let Some(run) = runs::list_runs(&env.db(), 1)
                .ok()
                .and_then(|v| v.into_iter().next())
            && let Some(pid) = run.supervisor_pid
            && let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ"))
        {
            assert!(
                !contains_bytes(&environ, TOKEN.as_bytes()),
                "token in the supervisor's environment"
            );
            supervisor_env_checked = true;
        }
        assert!(Instant::now() < deadline, "run did not finish");
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(supervisor_env_checked, "the supervisor was never observed");
    assert!(argv_hits.is_empty(), "token in argv: {argv_hits:?}");
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    client
        .stdout
        .take()
        .expect("stdout")
        .read_to_end(&mut stdout)
        .expect("read");
    client
        .stderr
        .take()
        .expect("stderr")
        .read_to_end(&mut stderr)
        .expect("read");
    assert!(
        !contains_bytes(&stdout, TOKEN.as_bytes()),
        "token on stdout"
    );
    assert!(
        !contains_bytes(&stderr, TOKEN.as_bytes()),
        "token on stderr"
    );
    // The echo was seen and masked, proving the path was exercised.
    assert!(
        text(&stdout).contains("[redacted TF_VAR_hcloud_token]"),
        "{}",
        text(&stdout)
    );

    let run = env.only_run();
    assert_eq!(run.state, RunState::Succeeded);
    let files = files_under(&env.state());
    assert!(files.iter().any(|f| f.ends_with("openova.db")));
    for f in &files {
        let bytes = std::fs::read(f).expect("read state file");
        assert!(
            !contains_bytes(&bytes, TOKEN.as_bytes()),
            "token in {}",
            f.display()
        );
    }
    let logs = env
        .cmd(&["runs", "logs", &run.id, "--json"])
        .output()
        .expect("logs");
    assert!(!contains_bytes(&logs.stdout, TOKEN.as_bytes()));
}

#[test]
fn bootstrap_missing_tofu_explains_and_starts_nothing() {
    let env = Env::new();
    let config = env.config();
    let out = env
        .cmd(&[
            "bootstrap",
            "apply",
            "--config",
            config.to_str().expect("utf-8"),
            "--yes",
        ])
        .env("PATH", env.dir.path())
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("OpenTofu was not found: no `tofu` on PATH"),
        "{stderr}"
    );
    assert!(stderr.contains("--tofu PATH"), "{stderr}");
    assert!(!stderr.contains(TOKEN));
    assert!(!env.state().join("runs").exists());
}

#[test]
fn bootstrap_old_tofu_is_refused_with_both_versions() {
    let env = Env::new();
    let out = env
        .bootstrap("plan", &[])
        .env("FAKE_TOFU_VERSION", "1.5.7")
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("is OpenTofu 1.5.7; openova needs 1.10.0 or newer"),
        "{stderr}"
    );
}

#[test]
fn bootstrap_apply_without_yes_and_no_terminal_refuses() {
    let env = Env::new();
    let config = env.config();
    let out = env
        .cmd(&[
            "bootstrap",
            "apply",
            "--config",
            config.to_str().expect("utf-8"),
            "--tofu",
            FAKE_TOFU,
        ])
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("refusing to apply without --yes"));
}

#[test]
fn bootstrap_apply_without_credentials_names_the_variable() {
    let env = Env::new();
    let out = env
        .bootstrap("apply", &[])
        .env_remove("HCLOUD_TOKEN")
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "credentials.hcloud_token = env:HCLOUD_TOKEN: the environment variable HCLOUD_TOKEN is not set"
        ),
        "{stderr}"
    );
    assert!(
        !env.state().join("runs").exists(),
        "nothing may start without credentials"
    );
}

#[test]
fn bootstrap_apply_hands_over_to_real_api_server() {
    let Some(server) = apiserver::shared() else {
        return;
    };
    let env = Env::new();
    let config = env.config();
    let operator_kc = env.dir.path().join("operator-kubeconfig");
    let bootstrap = |extra: &[&str]| {
        let mut args = vec![
            "bootstrap",
            "apply",
            "--config",
            config.to_str().expect("utf-8"),
            "--tofu",
            FAKE_TOFU,
            "--yes",
        ];
        args.extend_from_slice(extra);
        let mut c = env.cmd(&args);
        c.env("FAKE_TOFU_KUBECONFIG", server.kubeconfig_path())
            .env("KUBECONFIG", &operator_kc);
        c
    };
    let out = run_ok(&mut bootstrap(&["--no-wait-manager"]));
    let run = env.only_run();
    assert_eq!(run.state, RunState::Succeeded);
    let kc_path = Path::new(&run.workspace).join("kubeconfig");
    let expected = format!(
        "openova tui manage --context hz-fsn-rtz-prod --context hz-hel-rtz-prod --kubeconfig {}",
        kc_path.display()
    );
    assert_eq!(run.next_step.as_deref(), Some(expected.as_str()));
    assert!(text(&out.stdout).contains(&format!("next: {expected}")));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&kc_path)
        .expect("kubeconfig")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let kc = kube::config::Kubeconfig::read_from(&kc_path).expect("read kubeconfig");
    let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["hz-fsn-rtz-prod", "hz-hel-rtz-prod"]);
    assert!(!operator_kc.exists(), "merged without --merge-kubeconfig");

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = server.admin_client().await.expect("client");
        let crds: kube::Api<
            k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
        > = kube::Api::all(client.clone());
        crds.get("platforms.openova.io").await.expect("Platform CRD");
        crds.get("components.openova.io").await.expect("Component CRD");
        let platforms: kube::Api<openova::crd::platform::Platform> =
            kube::Api::namespaced(client.clone(), "openova-system");
        let p = platforms.get("acme").await.expect("Platform acme");
        let clusters: Vec<&str> = p.spec.regions.iter().map(|r| r.cluster.as_str()).collect();
        assert_eq!(clusters, vec!["hz-fsn-rtz-prod", "hz-hel-rtz-prod"]);
        let deployments: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
            kube::Api::namespaced(client, "openova-system");
        deployments
            .get("openova-manager")
            .await
            .expect("manager Deployment");
    });

    // Again, merging into the operator's kubeconfig and waiting briefly for a manager that
    // does not run here: server-side apply is idempotent and the wait ends on its limit.
    let second = bootstrap(&["--merge-kubeconfig", "--wait-manager", "1"])
        .output()
        .expect("second run");
    assert!(second.status.success(), "{}", text(&second.stdout));
    let stdout = text(&second.stdout);
    assert!(stdout.contains("has not reported within 1s"), "{stdout}");
    assert!(
        stdout.contains(
            "next: openova tui manage --context hz-fsn-rtz-prod --context hz-hel-rtz-prod\n"
        ),
        "merged: the command needs no --kubeconfig\n{stdout}"
    );
    let merged = kube::config::Kubeconfig::read_from(&operator_kc).expect("operator kubeconfig");
    assert!(merged.contexts.iter().any(|c| c.name == "hz-hel-rtz-prod"));
}

/// Raw output of a process in a real PTY, collected by a reader thread.
struct PtyRun {
    out: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    writer: Box<dyn std::io::Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl PtyRun {
    fn start(env: &Env, args: &[&str], vars: &[(&str, &Path)]) -> PtyRun {
        use portable_pty::{CommandBuilder, PtySize, native_pty_system};
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 160,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(OPENOVA);
        cmd.args(args);
        cmd.env("OPENOVA_STATE_DIR", env.state());
        cmd.env("HCLOUD_TOKEN", TOKEN);
        cmd.env("FAKE_TOFU_SECRET_VAR", "TF_VAR_hcloud_token");
        cmd.env("FAKE_TOFU_SCENARIO", "slow");
        cmd.env("FAKE_TOFU_STEP_MS", "2000");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn in pty");
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("sink").extend_from_slice(&buf[..n]);
            }
        });
        PtyRun {
            out,
            writer,
            child,
            _master: pty.master,
        }
    }

    fn text(&self) -> String {
        // Line output, not a screen: the raw stream holds every line, scrolled off or not.
        String::from_utf8_lossy(&self.out.lock().expect("out")).into_owned()
    }

    /// The screen as a terminal would show it now (full-screen programs redraw only what
    /// changed, so the raw stream need not hold a sentence in one piece).
    fn screen(&self) -> String {
        let mut parser = vt100::Parser::new(40, 160, 0);
        parser.process(&self.out.lock().expect("out"));
        parser.screen().contents()
    }

    fn wait_for_screen(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.screen().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?} on screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    fn wait_for_count(&self, needle: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.text().matches(needle).count() >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?} x{count}:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
        self.writer.flush().expect("flush");
    }
}

#[test]
fn bootstrap_ctrl_c_in_terminal_asks_then_cancels_gracefully() {
    let env = Env::new();
    let lock = env.dir.path().join("state.lock");
    let config = env.config();
    let mut pty = PtyRun::start(
        &env,
        &[
            "bootstrap",
            "apply",
            "--config",
            config.to_str().expect("utf-8"),
            "--tofu",
            FAKE_TOFU,
            "--yes",
            "--no-handover",
        ],
        &[("FAKE_TOFU_LOCK_PATH", &lock)],
    );
    pty.wait_for_count("Creating...", 1);
    // Ctrl-C, answered "no": the run goes on.
    pty.send(b"\x03");
    pty.wait_for_count("Cancel run", 1);
    pty.send(b"n\r");
    pty.wait_for_count("Continuing.", 1);
    assert!(!env.only_run().state.is_terminal());
    assert!(lock.exists());
    // Ctrl-C again, answered "yes": OpenTofu is interrupted and releases its lock.
    pty.send(b"\x03");
    pty.wait_for_count("Cancel run", 2);
    pty.send(b"y\r");
    pty.wait_for_count("cancelled", 2);
    let status = pty.child.wait().expect("wait");
    assert_eq!(status.exit_code(), 130, "{}", pty.text());
    let run = env.only_run();
    assert_eq!(run.state, RunState::Cancelled);
    assert!(!lock.exists(), "state lock left behind");
    assert!(pty.text().contains("Interrupt received"), "{}", pty.text());
}

#[test]
fn runs_attach_ctrl_c_detaches_and_run_continues() {
    let env = Env::new();
    run_ok(
        env.bootstrap("apply", &["--detach"])
            .env("FAKE_TOFU_SCENARIO", "slow")
            .env("FAKE_TOFU_STEP_MS", "300"),
    );
    let run = env.wait_run("apply started", |_, kinds| {
        kinds.iter().any(|k| k == "apply_start")
    });
    let mut pty = PtyRun::start(&env, &["runs", "attach", &run.id], &[]);
    pty.wait_for_count("Creating...", 1);
    pty.send(b"\x03");
    pty.wait_for_count("detached; run", 1);
    let status = pty.child.wait().expect("wait");
    assert_eq!(status.exit_code(), 0);
    assert_eq!(env.wait_ended(&run.id).state, RunState::Succeeded);
}

#[test]
fn tui_bootstrap_started_while_run_is_active_attaches_to_it() {
    let env = Env::new();
    run_ok(
        env.bootstrap("apply", &["--detach"])
            .env("FAKE_TOFU_SCENARIO", "slow")
            .env("FAKE_TOFU_STEP_MS", "1500"),
    );
    let run = env.wait_run("apply started", |_, kinds| {
        kinds.iter().any(|k| k == "apply_start")
    });
    let off = Path::new("off");
    let mut pty = PtyRun::start(&env, &["tui", "bootstrap"], &[("OPENOVA_KEYRING", off)]);
    pty.wait_for_screen(&format!("Attached to run {}", run.id));
    // Leaving the progress screen never stops the run.
    pty.send(b"\x1b");
    pty.wait_for_screen("continues in the background");
    pty.wait_for_screen("Who is this platform for?");
    let _ = pty.child.kill();
    assert_eq!(env.wait_ended(&run.id).state, RunState::Succeeded);
}

#[test]
fn tui_bootstrap_after_run_ended_opens_the_wizard_not_the_run() {
    let env = Env::new();
    run_ok(&mut env.bootstrap("apply", &[]));
    let run = env.only_run();
    assert_eq!(run.state, RunState::Succeeded);
    let off = Path::new("off");
    let mut pty = PtyRun::start(&env, &["tui", "bootstrap"], &[("OPENOVA_KEYRING", off)]);
    pty.wait_for_screen("Who is this platform for?");
    assert!(!pty.text().contains("Attached"), "{}", pty.screen());
    let _ = pty.child.kill();
}

// ---- Approval: plan → review → apply exactly that plan ----------------------------------------

/// Whether `pid` is a running process (not gone, not a zombie nobody reaped yet).
fn running(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'Z' && state != 'X'),
        Err(_) => false,
    }
}

fn argv_log(env: &Env) -> Vec<String> {
    std::fs::read_to_string(env.dir.path().join("tofu-argv.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bootstrap_plan_then_apply_plan_applies_the_saved_plan_and_refuses_a_changed_config() {
    let env = Env::new();
    let log = env.dir.path().join("tofu-argv.log");
    let out = run_ok(env.bootstrap("plan", &[]).env("FAKE_TOFU_ARGV_LOG", &log));
    let stdout = text(&out.stdout);
    let plan = env.only_run();
    assert_eq!(plan.action, runs::RunAction::Plan);
    // The summary: per cluster counts, by type, cost from list prices (cx43 11.99 + lb11 5.39).
    for cluster in ["hz-fsn-rtz-prod", "hz-hel-rtz-prod"] {
        assert!(
            stdout.contains(&format!(
                "Plan for {cluster}: 4 to add, 0 to change, 0 to destroy"
            )),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!(
                "monthly cost of {cluster}: €17.38 per month (list prices, excl. VAT)"
            )),
            "{stdout}"
        );
    }
    assert!(stdout.contains("hcloud_server"), "{stdout}");
    assert!(stdout.contains("Total: €34.76 per month"), "{stdout}");
    assert!(
        stdout.contains(&format!("--plan {}", plan.id)),
        "the way to apply it is named: {stdout}"
    );
    let plan_files = |ws: &str| -> usize {
        files_under(Path::new(ws))
            .iter()
            .filter(|p| p.ends_with("tfplan"))
            .count()
    };
    assert_eq!(
        plan_files(&plan.workspace),
        2,
        "the plan run keeps one plan per cluster"
    );
    // A saved plan carries every input variable, the provider token included: the run
    // encrypts its plans (TF_ENCRYPTION, a key of its own in the keyring), so none is readable.
    for f in files_under(Path::new(&plan.workspace)) {
        let bytes = std::fs::read(&f).expect("read");
        assert!(
            !contains_bytes(&bytes, TOKEN.as_bytes()),
            "token in {}",
            f.display()
        );
    }
    let planned = argv_log(&env);
    assert_eq!(planned.iter().filter(|l| l.starts_with("plan ")).count(), 2);
    assert!(
        !planned.iter().any(|l| l.starts_with("apply")),
        "{planned:?}"
    );
    // `runs show` repeats the summary.
    let show = text(
        &env.cmd(&["runs", "show", &plan.id])
            .output()
            .expect("show")
            .stdout,
    );
    assert!(
        show.contains("Plan for hz-fsn-rtz-prod: 4 to add"),
        "{show}"
    );

    // A changed configuration is refused, and nothing runs.
    let changed = env.dir.path().join("changed.toml");
    let edited = std::fs::read_to_string(env.config())
        .expect("config")
        .replacen("count = 2", "count = 3", 1);
    std::fs::write(&changed, edited).expect("write");
    let out = env
        .cmd(&[
            "bootstrap",
            "apply",
            "--config",
            changed.to_str().expect("utf-8"),
            "--tofu",
            FAKE_TOFU,
            "--plan",
            &plan.id,
            "--yes",
            "--no-handover",
        ])
        .env("FAKE_TOFU_ARGV_LOG", &log)
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("refusing to apply plan run {}", plan.id))
            && stderr.contains("the configuration changed since it was planned"),
        "{stderr}"
    );
    assert_eq!(runs::list_runs(&env.db(), 10).expect("list").len(), 1);

    // Without the plan's key (here: no keyring in this process) the plan cannot be opened:
    // refused before anything starts, with the way out.
    let out = env
        .bootstrap("apply", &["--plan", &plan.id])
        .env("OPENOVA_KEYRING", "off")
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "the saved plan of run {} cannot be applied",
            plan.id
        )) && stderr.contains("openova bootstrap plan"),
        "{stderr}"
    );
    assert_eq!(runs::list_runs(&env.db(), 10).expect("list").len(), 1);

    // The unchanged configuration applies exactly the saved plans: `apply … tfplan`, no new plan.
    let out = run_ok(
        env.bootstrap("apply", &["--plan", &plan.id])
            .env("FAKE_TOFU_ARGV_LOG", &log),
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Plan for hz-fsn-rtz-prod: 4 to add"),
        "summary first: {stdout}"
    );
    let all = argv_log(&env);
    let after: Vec<&String> = all.iter().skip(planned.len()).collect();
    assert_eq!(
        after.iter().filter(|l| l.starts_with("apply ")).count(),
        2,
        "{after:?}"
    );
    assert!(
        after
            .iter()
            .filter(|l| l.starts_with("apply "))
            .all(|l| l.ends_with(" tfplan")),
        "{after:?}"
    );
    assert!(!after.iter().any(|l| l.starts_with("plan ")), "{after:?}");
    let list = runs::list_runs(&env.db(), 10).expect("list");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].action, runs::RunAction::Apply);
    assert_eq!(list[0].state, RunState::Succeeded);
    // Applied plan files (they hold the variable values) do not stay on disk.
    assert_eq!(plan_files(&plan.workspace), 0);
}

#[test]
fn bootstrap_apply_without_api_cidrs_refuses_before_anything_starts() {
    let env = Env::new();
    let text_cfg = std::fs::read_to_string(env.config()).expect("config");
    let without = text_cfg.replace("[api]\nallowed_cidrs = [\"203.0.113.0/24\"]\n", "");
    assert_ne!(without, text_cfg);
    std::fs::write(env.config(), without).expect("write");
    let out = env.bootstrap("apply", &[]).output().expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("api.allowed_cidrs is not set"), "{stderr}");
    assert!(!env.state().join("runs").exists());
}

#[test]
fn bootstrap_plan_warns_when_the_api_is_open_to_the_world() {
    let env = Env::new();
    let cfg = std::fs::read_to_string(env.config())
        .expect("config")
        .replace(
            "[api]\nallowed_cidrs = [\"203.0.113.0/24\"]",
            "[api]\nallowed_cidrs = [\"0.0.0.0/0\"]",
        );
    std::fs::write(env.config(), cfg).expect("write");
    let out = run_ok(&mut env.bootstrap("plan", &[]));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("WARNING: The Kubernetes API is open to the world"),
        "{stdout}"
    );
}

// ---- Destroy ----------------------------------------------------------------------------------

fn destroy_cmd(env: &Env, extra: &[&str]) -> Command {
    let config = env.config();
    let mut args = vec![
        "bootstrap",
        "destroy",
        "--config",
        config.to_str().expect("utf-8"),
        "--tofu",
        FAKE_TOFU,
    ];
    args.extend_from_slice(extra);
    env.cmd(&args)
}

#[test]
fn bootstrap_destroy_refuses_yes_alone_a_wrong_name_and_a_protected_platform() {
    let env = Env::new();
    let out = destroy_cmd(&env, &["--yes"]).output().expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("refusing to destroy acme on --yes alone")
            && stderr.contains("--confirm acme"),
        "{stderr}"
    );
    let out = destroy_cmd(&env, &["--confirm", "acme-prod"])
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("--confirm \"acme-prod\" is not this platform's name (\"acme\")"),
        "{}",
        text(&out.stderr)
    );
    let protected = std::fs::read_to_string(env.config())
        .expect("config")
        .replace("# protect = true\n", "protect = true\n");
    std::fs::write(env.config(), protected).expect("write");
    let out = destroy_cmd(&env, &["--confirm", "acme"])
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("has protect = true"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !env.state().join("runs").exists(),
        "no refused destroy may start anything"
    );
}

#[test]
fn bootstrap_destroy_shows_the_summary_before_asking_for_the_typed_name() {
    let env = Env::new();
    let log = env.dir.path().join("tofu-argv.log");
    let config = env.config();
    let args = [
        "bootstrap",
        "destroy",
        "--config",
        config.to_str().expect("utf-8"),
        "--tofu",
        FAKE_TOFU,
    ];
    // A wrong name at the prompt: the summary was shown, nothing is applied.
    let mut pty = PtyRun::start(
        &env,
        &args,
        &[
            ("FAKE_TOFU_ARGV_LOG", &log),
            ("FAKE_TOFU_STEP_MS", Path::new("20")),
        ],
    );
    pty.wait_for_count("Type the platform's name (acme) to confirm", 1);
    let shown = pty.text();
    let summary_at = shown
        .find("Destroy plan for hz-fsn-rtz-prod: 0 to add, 0 to change, 4 to destroy")
        .unwrap_or_else(|| panic!("no destroy summary:\n{shown}"));
    let question_at = shown.find("Type the platform's name").expect("question");
    assert!(
        summary_at < question_at,
        "summary before the question:\n{shown}"
    );
    assert!(shown.contains("will be deleted:"), "{shown}");
    assert!(shown.contains("hcloud_server.control_plane[0]"), "{shown}");
    pty.send(b"acme-prod\r");
    pty.wait_for_count("nothing was destroyed", 1);
    let _ = pty.child.wait();
    assert!(
        !argv_log(&env).iter().any(|l| l.starts_with("apply")),
        "{:?}",
        argv_log(&env)
    );

    // The right name destroys exactly the saved destroy plan.
    let mut pty = PtyRun::start(
        &env,
        &args,
        &[
            ("FAKE_TOFU_ARGV_LOG", &log),
            ("FAKE_TOFU_STEP_MS", Path::new("20")),
        ],
    );
    pty.wait_for_count("Type the platform's name (acme) to confirm", 1);
    pty.send(b"acme\r");
    pty.wait_for_count("succeeded", 1);
    let _ = pty.child.wait();
    let applies: Vec<String> = argv_log(&env)
        .into_iter()
        .filter(|l| l.starts_with("apply"))
        .collect();
    assert_eq!(applies.len(), 2, "{applies:?}");
    assert!(
        applies.iter().all(|l| l.ends_with(" tfplan")),
        "{applies:?}"
    );
}

// ---- A supervisor killed with -9 does not hide its OpenTofu -----------------------------------

#[test]
fn supervisor_killed_leaves_tofu_visible_and_cancel_stops_it_with_sigint() {
    let env = Env::new();
    run_ok(
        env.bootstrap("apply", &["--detach"])
            .env("FAKE_TOFU_SCENARIO", "slow")
            .env("FAKE_TOFU_STEP_MS", "3000"),
    );
    let run = env.wait_run("apply started", |r, kinds| {
        r.state == RunState::Apply && kinds.iter().any(|k| k == "apply_start")
    });
    let (tofu_pid, step) = runs::live_child(&env.db(), &run.id)
        .expect("child")
        .expect("the OpenTofu process is recorded");
    assert_eq!(step, "apply");
    let pid = run.supervisor_pid.expect("supervisor pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill supervisor");
    let deadline = Instant::now() + Duration::from_secs(10);
    while runs::pid_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = env.cmd(&["runs", "show", &run.id]).output().expect("show");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("state      interrupted"), "{stdout}");
    assert!(
        stdout.contains(&format!("OpenTofu still running (pid {tofu_pid}")),
        "{stdout}"
    );
    assert!(stdout.contains("wait or cancel"), "{stdout}");
    let out = env
        .cmd(&["runs", "cancel", &run.id])
        .output()
        .expect("cancel");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("Sent SIGINT to OpenTofu (pid {tofu_pid}")),
        "{stdout}"
    );
    assert!(stdout.contains("has stopped"), "{stdout}");
    assert!(!running(tofu_pid), "OpenTofu (pid {tofu_pid}) still runs");
    // The stand-in released its state lock on SIGINT, as OpenTofu does.
    let locks: Vec<PathBuf> = files_under(Path::new(&run.workspace))
        .into_iter()
        .filter(|p| p.ends_with(".fake-tofu.lock"))
        .collect();
    assert!(locks.is_empty(), "{locks:?}");
    let out = env.cmd(&["runs", "show", &run.id]).output().expect("show");
    assert!(!text(&out.stdout).contains("OpenTofu still running"));
}

#[test]
fn relative_tofu_path_is_resolved_before_the_run_changes_directory() {
    let env = Env::new();
    let bin = env.dir.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    std::os::unix::fs::symlink(FAKE_TOFU, bin.join("tofu")).expect("symlink");
    let config = env.config();
    let out = env
        .cmd(&[
            "bootstrap",
            "plan",
            "--config",
            config.to_str().expect("utf-8"),
            "--tofu",
            "./bin/tofu",
        ])
        .current_dir(env.dir.path())
        .output()
        .expect("spawn");
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(env.only_run().state, RunState::Succeeded);
}

#[test]
fn each_bootstrap_subcommand_lists_only_its_options() {
    let env = Env::new();
    let help = |sub: &str| {
        text(
            &env.cmd(&["bootstrap", sub, "--help"])
                .output()
                .expect("help")
                .stdout,
        )
    };
    let plan = help("plan");
    for absent in [
        "--merge-kubeconfig",
        "--no-handover",
        "--yes",
        "--confirm",
        "--plan <RUN>",
    ] {
        assert!(
            !plan.contains(absent),
            "plan --help lists {absent}:\n{plan}"
        );
    }
    let apply = help("apply");
    for present in ["--plan <RUN>", "--yes", "--no-handover"] {
        assert!(apply.contains(present), "{apply}");
    }
    assert!(!apply.contains("--confirm"), "{apply}");
    let destroy = help("destroy");
    assert!(destroy.contains("--confirm <NAME>"), "{destroy}");
    for absent in ["--merge-kubeconfig", "--no-handover", "--plan <RUN>"] {
        assert!(
            !destroy.contains(absent),
            "destroy --help lists {absent}:\n{destroy}"
        );
    }
}

// ---- Headless secrets -------------------------------------------------------------------------

#[test]
fn secrets_set_reads_stdin_and_the_value_never_reaches_argv_output_or_files() {
    let env = Env::new();
    let name = format!("openova/test-{}/hcloud-token", std::process::id());
    let mut child = env
        .cmd(&["secrets", "set", &name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        // While the value is being read, no process shows it in its command line.
        assert!(procs_with_in_cmdline(TOKEN).is_empty());
        writeln!(stdin, "{TOKEN}").expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    if !out.status.success() {
        // Containers often forbid keyctl: the command must then say so and store nothing.
        assert!(stderr.contains("no usable OS keyring"), "{stderr}");
        return;
    }
    assert!(stdout.contains(&format!("stored {name}")), "{stdout}");
    let check = env
        .cmd(&["secrets", "check", &name])
        .output()
        .expect("check");
    assert!(check.status.success(), "{}", text(&check.stdout));
    assert!(!text(&check.stdout).contains(TOKEN));
    for f in files_under(&env.state()) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !contains_bytes(&bytes, TOKEN.as_bytes()),
            "{} holds the token",
            f.display()
        );
    }
    run_ok(&mut env.cmd(&["secrets", "delete", &name]));
    let check = env
        .cmd(&["secrets", "check", &name])
        .output()
        .expect("check");
    assert_eq!(check.status.code(), Some(1));
    assert!(text(&check.stdout).contains("missing"));
}

#[test]
fn secrets_set_has_no_value_argument() {
    let env = Env::new();
    let out = env
        .cmd(&["secrets", "set", "openova/x/tok", TOKEN])
        .output()
        .expect("spawn");
    assert_eq!(
        out.status.code(),
        Some(2),
        "a value in argv is a usage error"
    );
}

// ---- Huawei Cloud and OCI headless: every credential is its own reference ----------------------

const HW_SECRET: &str = "huawei-planted-secret-key-7d41c9e2a8b35f60";
const OCI_KEY: &str = include_str!("fixtures/oci-test-api-key.pem");

fn provider_config(
    provider: &str,
    locations: [&str; 1],
    size: &str,
    credentials: &str,
    extra: &str,
) -> String {
    format!(
        r#"apiVersion = "openova.io/v1alpha1"
kind = "PlatformConfig"
provider = "{provider}"
state_backend = "local"

[organization]
name = "Gulf Telecom"
slug = "gulftel"
domain = "cloud.gulftel.example"
email = "noc@gulftel.example"
env_type = "uat"

[[regions]]
location = "{}"
building_block = "mgt"
control_plane = {{ size = "{size}", count = 1 }}
workers = {{ size = "{size}", count = 1 }}

[ssh]
public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtZbGB686h2flmyRufj6W7HyqwKpVzbOVieXWyl+9WT ops@acme"

[api]
allowed_cidrs = ["198.51.100.7/32"]

[credentials]
{credentials}
{extra}"#,
        locations[0]
    )
}

fn plan_with(env: &Env, vars: &[(&str, &str)], secret_var: &str) -> Output {
    let config = env.config();
    let mut c = env.cmd(&[
        "bootstrap",
        "plan",
        "--config",
        config.to_str().expect("utf-8"),
        "--tofu",
        FAKE_TOFU,
    ]);
    c.env("FAKE_TOFU_SECRET_VAR", secret_var);
    for (k, v) in vars {
        c.env(k, v);
    }
    c.output().expect("spawn")
}

fn assert_nowhere(env: &Env, secret: &str) {
    for f in files_under(env.dir.path()) {
        if f.ends_with("platform.toml") || f.extension().is_some_and(|e| e == "pem") {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !contains_bytes(&bytes, secret.as_bytes()),
            "{} holds a planted secret",
            f.display()
        );
    }
}

#[test]
fn huawei_headless_plan_passes_each_credential_and_the_enterprise_project() {
    let env = Env::new();
    let cfg = provider_config(
        "hw",
        ["apse"],
        "c7n.xlarge.2",
        "access_key = \"env:HW_ACCESS_KEY\"\nsecret_key = \"env:HW_SECRET_KEY\"",
        "[huawei]\nenterprise_project_id = \"0\"\n",
    );
    std::fs::write(env.config(), cfg).expect("write");
    let out = plan_with(
        &env,
        &[
            ("HW_ACCESS_KEY", "HPUAPLANTEDACCESSKEY7Q"),
            ("HW_SECRET_KEY", HW_SECRET),
        ],
        "TF_VAR_huawei_secret_key",
    );
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Plan for hw-apse-mgt-uat"), "{stdout}");
    let run = env.only_run();
    let tfvars = files_under(Path::new(&run.workspace))
        .into_iter()
        .find(|p| p.ends_with("openova.auto.tfvars.json"))
        .expect("tfvars");
    let vars: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tfvars).expect("read")).expect("json");
    assert_eq!(vars["huawei_enterprise_project_id"], "0");
    assert_eq!(
        vars["api_allowed_cidrs"],
        serde_json::json!(["198.51.100.7/32"])
    );
    assert_nowhere(&env, HW_SECRET);
}

#[test]
fn oci_headless_plan_validates_the_pem_key_and_passes_the_compartment() {
    let env = Env::new();
    let cfg = provider_config(
        "oci",
        ["fra"],
        "VM.Standard.E5.Flex.2.16",
        "tenancy_ocid = \"env:OCI_TENANCY_OCID\"\nuser_ocid = \"env:OCI_USER_OCID\"\nfingerprint = \"env:OCI_FINGERPRINT\"\nprivate_key = \"env:OCI_PRIVATE_KEY\"",
        "[oci]\ncompartment_ocid = \"ocid1.compartment.oc1..aaaaaaaam3we6vgnherjq5q2idnccdflvjsnog7mlr6rtdb25gilchfeyjxa\"\n",
    );
    std::fs::write(env.config(), cfg).expect("write");
    let ids = [
        (
            "OCI_TENANCY_OCID",
            "ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq",
        ),
        (
            "OCI_USER_OCID",
            "ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq",
        ),
        (
            "OCI_FINGERPRINT",
            "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34",
        ),
    ];
    // A public key pasted where the private key belongs is refused before anything starts.
    let mut bad = ids.to_vec();
    bad.push((
        "OCI_PRIVATE_KEY",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ));
    let out = plan_with(&env, &bad, "TF_VAR_oci_private_key");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("credentials.private_key = env:OCI_PRIVATE_KEY")
            && stderr.contains("not the public key"),
        "{stderr}"
    );
    assert!(!env.state().join("runs").exists());

    let mut good = ids.to_vec();
    good.push(("OCI_PRIVATE_KEY", OCI_KEY));
    let out = plan_with(&env, &good, "TF_VAR_oci_private_key");
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("Plan for oci-fra-mgt-uat"),
        "{}",
        text(&out.stdout)
    );
    let run = env.only_run();
    let tfvars = files_under(Path::new(&run.workspace))
        .into_iter()
        .find(|p| p.ends_with("openova.auto.tfvars.json"))
        .expect("tfvars");
    let vars: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tfvars).expect("read")).expect("json");
    assert!(
        vars["oci_compartment_ocid"]
            .as_str()
            .is_some_and(|c| c.starts_with("ocid1.compartment.")),
        "{vars}"
    );
    // The key's body (a line from the middle of the PEM) is nowhere on disk.
    let body_line = OCI_KEY.lines().nth(5).expect("pem line");
    assert_nowhere(&env, body_line);
}
