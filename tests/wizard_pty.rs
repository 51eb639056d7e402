//! End-to-end tests of `openova tui bootstrap` on the real binary in a real PTY, read back with
//! a terminal emulator (vt100): a full walk that exports platform.toml, kill -9 and resume,
//! secrets never on disk, and the terminal restored on exit.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

use std::path::{Path, PathBuf};
use std::time::Duration;

use portable_pty::CommandBuilder;

#[path = "support/pty.rs"]
mod pty;

use pty::{CTRL_C, ENTER, ESC, PGDN, PGUP, PUBKEY, Pty, RIGHT, TAB, TOKEN, UP, hetzner_stand_in};

/// The wizard on a 24×80 terminal, with debug logs.
fn wizard(state: &Path, cwd: &Path, api: &str, args: &[&str]) -> Pty {
    let mut cmd = pty::bootstrap(state, cwd, api, args);
    cmd.env("OPENOVA_LOG", "debug");
    Pty::spawn(cmd, 24, 80)
}

/// The last non-blank line of a screen: the footer.
fn last_line(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn assert_token_absent(dir: &Path) {
    for f in files_under(dir) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
            "the token was written to {}",
            f.display()
        );
        assert!(
            !bytes.windows(12).any(|w| w == b"PLANTEDtoken"),
            "part of the token was written to {}",
            f.display()
        );
    }
}

#[test]
fn wizard_full_walk_exports_expected_platform_toml_and_leaks_no_token() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let api = hetzner_stand_in();
    // Review needs a usable OpenTofu before everything checks out: the stand-in.
    let tofu = env!("CARGO_BIN_EXE_openova-fake-tofu");
    let mut w = wizard(&state, &cwd, &api, &["--new", "--tofu", tofu]);

    w.wait_text("Organization name");
    w.type_burst("Acme Financial");
    w.wait_text("acme-financial");
    w.send(ENTER);
    // Replace the derived slug.
    w.send("\x15");
    w.type_burst("acme");
    w.send(ENTER);
    w.type_burst("acme.io");
    w.send(ENTER);
    w.type_burst("platform@acme.io");
    w.send(ENTER);
    w.wait_text("acme-prod");
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
    w.send(RIGHT); // keep secrets: memory only, so the file references environment variables
    w.wait_text("memory only");
    w.send(ENTER);

    w.wait_text("Hetzner Cloud [hz]");
    w.send(ENTER);
    w.wait_text("hz-fsn-rtz-prod");
    w.send(RIGHT); // two regions
    w.wait_text("hz-nbg-rtz-prod");
    // Who may reach the API: the last fields but one (↑ wraps round from the first).
    w.send(UP);
    w.send(UP);
    w.wait_text("› API allowed from");
    w.type_burst("198.51.100.7/32");
    w.wait_text("198.51.100.7/32");
    w.send(PGDN);

    w.wait_text("MANDATORY");
    w.send("/");
    w.type_burst("debezium");
    w.send(ENTER);
    w.send(" ");
    w.wait_text("also adds");
    w.send("y");
    w.wait_text("[x] debezium");
    w.send(ENTER);

    w.wait_text("Everything checks out");
    w.send("e");
    w.wait_text("Export platform.toml to");
    w.send(ENTER);
    w.wait_text("Exported");
    w.send("q");
    w.wait_exit();

    let exported = std::fs::read_to_string(cwd.join("platform.toml")).unwrap();
    let expected = include_str!("fixtures/wizard/expected-platform.toml");
    assert_eq!(exported, expected);

    assert_token_absent(&state);
    assert_token_absent(&cwd);
    // The token check above is only meaningful if the session really wrote logs.
    assert!(
        files_under(&state.join("logs"))
            .iter()
            .any(|p| p.metadata().map(|m| m.len() > 0).unwrap_or(false)),
        "the session wrote no log lines"
    );

    // The terminal is handed back: the last alternate-screen switch is a leave, and raw mode ends.
    let after = w.assert_left_alt_screen("export");
    assert!(after.contains("Draft #"), "{after:?}");

    // The export is what `openova bootstrap plan --config` takes as it is (it carries [api]).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_openova"))
        .args(["bootstrap", "plan", "--config"])
        .arg(cwd.join("platform.toml"))
        .args(["--tofu", tofu])
        .env("OPENOVA_STATE_DIR", tmp.path().join("headless"))
        .env("OPENOVA_KEYRING", "off")
        .env("HCLOUD_TOKEN", TOKEN)
        .env("FAKE_TOFU_SECRET_VAR", "TF_VAR_hcloud_token")
        .env_remove("FAKE_TOFU_SCENARIO")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Plan for hz-nbg-rtz-prod"), "{text}");
    assert!(!text.contains("open to the world"), "{text}");
}

#[test]
fn wizard_killed_mid_entry_resumes_with_same_values() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let api = hetzner_stand_in();

    let mut w = wizard(&state, &cwd, &api, &["--new"]);
    w.wait_text("Organization name");
    w.type_burst("Resume Test Org");
    w.send(ENTER);
    w.send(ENTER);
    w.type_burst("resume.example");
    w.wait_text("resume.example");
    w.send(ENTER);
    w.send(ENTER);
    w.send(RIGHT); // environment: stg
    w.wait_text("stg (Staging)");
    w.send(ENTER);
    w.wait_text("API token");
    w.send(TAB); // from the provider to the token
    w.paste(TOKEN);
    w.wait_text("••••");
    w.kill9();

    let mut w = wizard(&state, &cwd, &api, &[]);
    w.wait_text("Resume a draft?");
    w.wait_text("Resume Test Org");
    w.send(ENTER);
    // The draft reopens where it was left: on Credentials.
    w.wait_text("API token");
    w.send(PGUP); // back to Organization
    w.wait_text("Organization name");
    let screen = w.text();
    assert!(screen.contains("Resume Test Org"), "{screen}");
    assert!(screen.contains("resume-test-org"), "{screen}");
    assert!(screen.contains("resume.example"), "{screen}");
    assert!(screen.contains("stg (Staging)"), "{screen}");
    w.send(CTRL_C);
    w.wait_exit();
    assert_token_absent(&state);
}

#[test]
fn wizard_below_minimum_size_explains_and_quits_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_openova"));
    cmd.args(["tui", "bootstrap", "--new"]);
    cmd.cwd(&cwd);
    cmd.env("OPENOVA_STATE_DIR", &state);
    cmd.env("HOME", &cwd);
    cmd.env("TERM", "xterm-256color");
    let mut w = Pty::spawn(cmd, 20, 60);
    w.wait_text("needs at least 80x24");
    w.send(CTRL_C);
    w.wait_exit();
}

#[test]
fn wizard_corrupt_database_is_set_aside_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    let garbage = b"not a database, but somebody's data".repeat(200);
    std::fs::write(state.join("openova.db"), &garbage).unwrap();
    let api = hetzner_stand_in();
    let mut w = wizard(&state, &cwd, &api, &[]);
    w.wait_text("not a readable openova database");
    w.send(CTRL_C);
    w.wait_exit();
    let aside: Vec<PathBuf> = files_under(&state)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("openova.db.corrupt-"))
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(
        std::fs::read(&aside[0]).unwrap() == garbage,
        "the set-aside file changed"
    );
}

#[test]
fn wizard_idle_writes_nothing_and_sigterm_restores_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let api = hetzner_stand_in();
    let mut w = wizard(&state, &cwd, &api, &["--new"]);
    w.wait_text("Organization name");
    w.type_burst("Idle Org");
    w.wait_text("idle-org");
    // Let the last frame settle, then watch the terminal for a second of idleness.
    std::thread::sleep(Duration::from_millis(300));
    let before = w.bytes();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(w.bytes(), before, "bytes were written while idle");

    w.signal(libc::SIGTERM);
    w.wait_exit();
    w.assert_left_alt_screen("SIGTERM");

    // The draft survived: the next start offers it.
    let mut w = wizard(&state, &cwd, &api, &[]);
    w.wait_text("Idle Org");
    w.send(CTRL_C);
    w.wait_exit();
}

/// A run still going, "supervised" by this test process (alive, with a fresh heartbeat), so the
/// wizard attaches to it at start. Returns its id.
fn seed_running_run(conn: &rusqlite::Connection, dir: &Path) -> String {
    use openova::store::runs::{self, NewRun, RunAction, RunState};
    let id = runs::new_run_id();
    runs::insert_run(
        conn,
        &NewRun {
            id: id.clone(),
            action: RunAction::Apply,
            platform: "quiet-org".into(),
            config_toml: String::new(),
            config_path: None,
            workspace: dir.join("ws").display().to_string(),
            options_json: "{}".into(),
        },
    )
    .unwrap();
    runs::set_supervisor(conn, &id, std::process::id()).unwrap();
    assert!(runs::transition(conn, &id, RunState::Apply, None).unwrap());
    runs::append_event(
        conn,
        &id,
        "apply",
        "state",
        "info",
        "apply",
        r#"{"state":"apply"}"#,
    )
    .unwrap();
    id
}

#[test]
fn wizard_progress_footer_says_what_q_and_esc_do() {
    use openova::store::Store;
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let store = Store::open(&state.join("openova.db")).unwrap();
    let id = seed_running_run(store.conn(), tmp.path());
    let api = hetzner_stand_in();
    let mut w = wizard(&state, &cwd, &api, &[]);
    w.wait_text(&format!("Attached to run {id}"));
    let screen = w.wait_text("Esc back (run goes on)");
    let footer = screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        !screen.contains("q leave"),
        "the footer offers q to leave:\n{screen}"
    );
    assert!(
        footer.contains("q quit"),
        "the footer lacks q quit: {footer:?}"
    );
    // q does what the footer says: it quits the wizard, asking first.
    w.send("q");
    w.wait_text("Quit?");
    w.send("n");
    // Esc goes back to the wizard; the run goes on.
    w.send(ESC);
    w.wait_text("continues in the background");
    w.send(CTRL_C);
    w.wait_exit();
}

/// F5: a key no wizard screen uses.
const F5: &str = "\x1b[15~";

#[test]
fn wizard_ignored_key_writes_nothing_to_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let api = hetzner_stand_in();
    let mut w = wizard(&state, &cwd, &api, &["--new"]);
    w.wait_text("Organization name");
    w.type_burst("Quiet Org");
    w.wait_text("quiet-org");
    std::thread::sleep(Duration::from_millis(300));
    let before = w.bytes();
    // Keys that change nothing: F5, Ctrl+Y (not `y`), Insert.
    for key in [F5, "\x19", "\x1b[2~"] {
        w.send(key);
    }
    std::thread::sleep(Duration::from_millis(500));
    let written = w.bytes() - before;
    assert_eq!(written, 0, "ignored keys wrote {written} bytes");
    // And the screen still answers real keys.
    w.type_text("x");
    w.wait_text("quiet-orgx");
    w.send(CTRL_C);
    w.wait_exit();
}

#[test]
fn wizard_finished_run_screen_writes_nothing_and_stops_polling() {
    use openova::store::Store;
    use openova::store::runs::{self, RunState};
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let store = Store::open(&state.join("openova.db")).unwrap();
    let conn = store.conn();
    let id = seed_running_run(conn, tmp.path());

    let api = hetzner_stand_in();
    let mut w = wizard(&state, &cwd, &api, &[]);
    w.wait_text(&format!("Attached to run {id}"));
    w.wait_text("run goes on");

    let next = "openova tui manage --context hz-fsn-rtz-prod";
    runs::set_next_step(conn, &id, next).unwrap();
    assert!(runs::transition(conn, &id, RunState::Succeeded, None).unwrap());
    w.wait_for("the finished run", |t| {
        t.contains(next) && !t.contains("run goes on")
    });
    std::thread::sleep(Duration::from_millis(600));
    let before = w.bytes();
    std::thread::sleep(Duration::from_millis(1500));
    let written = w.bytes() - before;
    assert_eq!(
        written, 0,
        "the finished run's screen wrote {written} bytes"
    );

    // The run is final: an event appended now (which no supervisor would write) is never read,
    // because the screen stopped polling the database.
    runs::append_event(
        conn,
        &id,
        "apply",
        "log",
        "info",
        "late line never read",
        r#"{"@message":"late line never read"}"#,
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(w.bytes(), before, "the finished run's screen was redrawn");
    assert!(
        !w.text().contains("late line never read"),
        "a finished run's screen kept reading the database:\n{}",
        w.text()
    );
    // Nothing runs on, so quitting does not ask.
    w.send(CTRL_C);
    w.wait_exit();
}

#[test]
fn wizard_failed_run_screen_says_final_state_reason_and_next_steps_at_80x24() {
    use openova::store::Store;
    use openova::store::runs::{self, RunState};
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let store = Store::open(&state.join("openova.db")).unwrap();
    let conn = store.conn();
    let id = seed_running_run(conn, tmp.path());

    let api = hetzner_stand_in();
    let mut w = wizard(&state, &cwd, &api, &[]);
    w.wait_text("still in progress");
    let reason = "tofu apply: server type cx99 not found";
    assert!(runs::transition(conn, &id, RunState::Failed, Some(reason)).unwrap());
    let screen = w.wait_text(&format!("Run {id} failed: {reason}"));
    assert!(
        !screen.contains("still in progress") && !screen.contains("run goes on"),
        "the screen still says the run is going:\n{screen}"
    );
    for want in [
        "r plans again from Review",
        &format!("openova runs logs {id}"),
        "openova bootstrap destroy --config FILE",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    assert_eq!(
        screen.matches("table/log").count(),
        1,
        "the footer is drawn once:\n{screen}"
    );
    // q leaves without a question claiming the run goes on.
    w.send("q");
    w.wait_exit();
    assert!(
        !w.text().contains("keeps going in the background"),
        "{}",
        w.text()
    );
}

#[test]
fn wizard_typing_stays_live_while_the_database_is_locked_and_exit_saves_everything() {
    use openova::store::Store;
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let api = hetzner_stand_in();
    let mut w = wizard(&state, &cwd, &api, &["--new"]);
    w.wait_text("Organization name");
    // Another process holds the write lock: every draft save now waits for it.
    let store = Store::open(&state.join("openova.db")).unwrap();
    store.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
    let start = std::time::Instant::now();
    w.type_burst("Busy Org");
    w.wait_text("busy-org");
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "typing echoed only after {took:?}: the screen waited for the database"
    );
    // Quit while the saves are still waiting; they are written once the lock is released.
    w.send(CTRL_C);
    std::thread::sleep(Duration::from_millis(800));
    store.conn().execute_batch("COMMIT").unwrap();
    w.wait_exit();
    let drafts = store.list_drafts().unwrap();
    assert_eq!(drafts.len(), 1, "{drafts:?}");
    let draft = store.load_draft(drafts[0].id).unwrap().unwrap();
    let form: openova::tui::bootstrap::model::Form = serde_json::from_str(&draft.data).unwrap();
    assert_eq!(form.org_name, "Busy Org");
    assert_eq!(form.org_slug, "busy-org");
}

#[test]
fn wizard_token_check_empty_says_required_and_a_failure_stays_when_focus_moves() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let api = hetzner_stand_in();
    let mut w = wizard(&state, &cwd, &api, &["--new"]);
    w.wait_text("Organization name");
    w.send(PGDN);
    w.wait_text("API token");
    w.send(TAB); // from the provider to the token
    // Enter on the empty token field.
    w.send(ENTER);
    let screen = w.wait_text("token is required");
    assert!(!screen.contains("too short"), "{screen}");
    // A token the provider rejects: the reason stays after the focus moves on.
    w.send(TAB);
    w.send(PGUP);
    w.wait_text("Organization name");
    w.send(PGDN);
    w.wait_text("API token");
    w.send(TAB); // from the provider to the token
    w.paste(&"x".repeat(64));
    w.send(ENTER);
    w.wait_text("rejected the token");
    w.send(TAB);
    std::thread::sleep(Duration::from_millis(200));
    let screen = w.text();
    assert!(
        screen.contains("rejected the token"),
        "the reason went away with the focus:\n{screen}"
    );
    w.send(CTRL_C);
    w.wait_exit();
}

/// The wizard on a 40×120 terminal, opened at a new draft's Review with `args`.
fn at_review(tmp: &Path, args: &[&str]) -> Pty {
    let state = tmp.join("state");
    let mut all = vec!["--new"];
    all.extend_from_slice(args);
    let mut w = Pty::spawn(
        pty::bootstrap(&state, tmp, &hetzner_stand_in(), &all),
        40,
        120,
    );
    w.wait_text("Organization name");
    for _ in 0..4 {
        w.send(PGDN);
    }
    w.wait_text("MANDATORY");
    w.send(PGDN);
    w.wait_text("export platform.toml");
    w
}

#[test]
fn wizard_relative_tofu_path_is_found_from_the_start_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("bin")).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_openova-fake-tofu"),
        tmp.path().join("bin/tofu"),
    )
    .unwrap();
    let mut w = at_review(tmp.path(), &["--tofu", "bin/tofu"]);
    let absolute = tmp.path().join("bin/tofu").display().to_string();
    // The OpenTofu row is near the end of Review: scroll until it shows.
    let shown = |s: &str| {
        s.lines()
            .any(|l| l.contains("OpenTofu") && l.contains(&absolute))
    };
    for _ in 0..40 {
        if shown(&w.text()) {
            break;
        }
        w.send("j");
    }
    let s = w.wait_for("the OpenTofu row", shown);
    assert!(!s.contains("Review: tofu"), "{s}");
    w.quit();
}

#[test]
fn wizard_missing_tofu_is_a_review_problem_and_the_start_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut w = at_review(tmp.path(), &["--tofu", "./no-such-tofu"]);
    let absolute = tmp.path().join("no-such-tofu").display().to_string();
    let s = w.wait_for("the OpenTofu problem", |s| {
        s.contains("Review: tofu: --tofu") && s.contains("no executable file there")
    });
    assert!(s.contains("--tofu PATH"), "{s}");
    // Relative to the directory the wizard was started in, before anything changes it.
    assert!(s.contains(&format!("--tofu {absolute}:")), "{s}");
    w.send("s");
    let s = w.wait_text("problem(s) to fix before starting");
    assert!(!s.contains("Plan the provisioning?"), "{s}");
    w.quit();
}

#[test]
fn wizard_paths_take_tilde_create_private_dirs_and_write_the_public_key() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    // The support sets HOME to the working directory.
    let home = tmp.path().join("work");
    std::fs::create_dir_all(&home).unwrap();
    let api = hetzner_stand_in();
    // Review needs a usable OpenTofu before everything checks out: the stand-in.
    let tofu = env!("CARGO_BIN_EXE_openova-fake-tofu");
    let mut w = wizard(&state, &home, &api, &["--new", "--tofu", tofu]);

    w.wait_text("Organization name");
    w.type_burst("Acme");
    w.wait_text("acme");
    w.send(ENTER);
    w.send(ENTER);
    w.type_burst("acme.io");
    w.send(ENTER);
    w.type_burst("platform@acme.io");
    w.send(ENTER);
    w.wait_text("acme-prod");
    w.send(ENTER);

    w.wait_text("API token");
    w.send(TAB); // from the provider to the token
    // At 80 columns the footer of the token field keeps help and quit and marks what it drops.
    let screen = w.wait_text("Ctrl+C quit");
    let footer = last_line(&screen);
    assert!(
        footer.contains("F1 help") && footer.contains('…'),
        "{footer:?}"
    );
    w.paste(TOKEN);
    w.send(ENTER);
    w.wait_text("valid");
    w.send(ENTER); // live check: against the provider's API
    w.send(ENTER); // state backend: local
    w.send(ENTER); // SSH access: generate
    w.send(ENTER); // SSH key: generate now
    // The default is shown in full, under ~/.ssh (which does not exist yet).
    w.wait_text("~/.ssh/openova-acme_ed25519");
    w.send(ENTER);
    w.wait_text("Key pair written: ~/.ssh/openova-acme_ed25519 (0600) and .pub (0644)");
    let key = home.join(".ssh/openova-acme_ed25519");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&home.join(".ssh")), 0o700);
    assert_eq!(mode(&key), 0o600);
    let public = std::fs::read_to_string(home.join(".ssh/openova-acme_ed25519.pub")).unwrap();
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
    assert_eq!(mode(&home.join(".ssh/openova-acme_ed25519.pub")), 0o644);

    w.send(PGDN);
    w.wait_text("Hetzner Cloud [hz]");
    w.send(PGDN);
    w.wait_text("hz-fsn-rtz-prod");
    // Who may reach the API: the last fields but one (↑ wraps round from the first).
    w.send(UP);
    w.send(UP);
    w.wait_text("› API allowed from");
    w.type_burst("198.51.100.7/32");
    w.wait_text("198.51.100.7/32");
    w.send(PGDN);
    w.wait_text("MANDATORY");
    w.send(PGDN);
    let screen = w.wait_text("Everything checks out");
    let footer = last_line(&screen);
    assert!(
        footer.contains("? help") && footer.contains("q quit"),
        "Review's footer keeps help and quit: {footer:?}"
    );
    w.send("e");
    // The export default is shown in full too.
    w.wait_text("~/platform.toml");
    w.send("\x15");
    w.type_burst("~/exports/acme/platform.toml");
    w.send(ENTER);
    w.wait_text("Exported ~/exports/acme/platform.toml");
    let exported = home.join("exports/acme/platform.toml");
    assert!(
        std::fs::read_to_string(&exported)
            .unwrap()
            .contains("slug = \"acme\"")
    );
    assert_eq!(mode(&home.join("exports/acme")), 0o700);
    w.send("q");
    w.wait_exit();
}

#[test]
fn wizard_offline_starts_without_reaching_the_provider_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let config =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wizard/expected-platform.toml");
    let tofu = env!("CARGO_BIN_EXE_openova-fake-tofu");
    let config = config.to_str().unwrap();
    // The provider's API is a closed port: only offline can get past Credentials.
    let cmd = pty::bootstrap(
        &tmp.path().join("state"),
        tmp.path(),
        "http://127.0.0.1:1/v1",
        &["--config", config, "--offline", "--tofu", tofu],
    );
    let mut w = Pty::spawn(cmd, 40, 120);
    w.wait_text("Organization name");
    w.send(PGDN);
    w.wait_text("skip (offline)");
    w.send(TAB); // from the provider to the token
    w.paste(TOKEN);
    w.send(ENTER);
    let s = w.wait_text("offline");
    assert!(!s.contains("could not be reached"), "{s}");
    for _ in 0..4 {
        w.send(PGDN);
    }
    w.wait_text("Everything checks out");
    w.wait_text("not checked (offline");
    w.send("s");
    w.wait_text("Plan the provisioning?");
    w.wait_text("Credentials: not checked (offline)");
    w.send("n");
    w.quit();
}

/// The draft as stored: its title and organization name.
fn stored_names(store: &openova::store::Store, id: i64) -> (String, String) {
    let draft = store.load_draft(id).unwrap().unwrap();
    let form: openova::tui::bootstrap::model::Form = serde_json::from_str(&draft.data).unwrap();
    (draft.summary.title, form.org_name)
}

/// Waits until draft `id` is stored with organization name `name`.
fn wait_stored(store: &openova::store::Store, id: i64, name: &str) {
    let start = std::time::Instant::now();
    while stored_names(store, id).1 != name {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "draft {id} never saved as {name:?}: {:?}",
            stored_names(store, id)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn wizard_two_on_one_draft_the_second_asks_takes_over_and_the_first_saves_nothing() {
    use openova::store::Store;
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let api = hetzner_stand_in();

    let mut a = wizard(&state, &cwd, &api, &["--new"]);
    a.wait_text("Organization name");
    a.type_burst("Acme West");
    a.wait_text("acme-west");
    let store = Store::open(&state.join("openova.db")).unwrap();
    wait_stored(&store, 1, "Acme West");

    // The second wizard on the same draft (an ssh reconnect while the first lives on in tmux).
    let mut b = wizard(&state, &cwd, &api, &[]);
    b.wait_text("Resume a draft?");
    b.send(ENTER);
    b.wait_text("Draft #1 is open elsewhere");
    let screen = b.wait_text(&format!("pid {} on ", a.pid()));
    assert!(
        screen.contains("r read-only   t take over   c copy   Esc back to the drafts"),
        "{screen}"
    );
    b.send("t");
    b.wait_text("Draft #1 is yours");
    b.type_burst(" East");
    b.wait_text("acme-west-east");
    wait_stored(&store, 1, "Acme West East");

    // The first wizard's next keystroke: refused, and it says who took the draft.
    a.send("x");
    let screen = a.wait_text(&format!("Draft #1 was taken over by pid {}", b.pid()));
    assert!(screen.contains("READ-ONLY"), "{screen}");
    // It shows what the draft holds now, not its own unsaved keystroke.
    assert!(screen.contains("Acme West East"), "{screen}");
    assert!(!screen.contains("Acme Westx"), "{screen}");
    a.send("y");
    a.wait_text("nothing changed or saved");
    assert_eq!(
        stored_names(&store, 1),
        ("Acme West East".into(), "Acme West East".into())
    );

    // Leaving, the first wizard keeps its hands off the second's lock; the second's exit
    // releases it.
    a.send(CTRL_C);
    a.wait_exit();
    let pid = i64::from(b.pid());
    assert_eq!(store.draft_lock(1).unwrap().map(|h| h.pid), Some(pid));
    b.send(CTRL_C);
    b.wait_exit();
    assert_eq!(store.draft_lock(1).unwrap(), None);
    assert_eq!(stored_names(&store, 1).1, "Acme West East");
}

#[test]
fn wizard_lock_goes_on_sighup_and_a_killed_wizards_lock_is_taken_without_asking() {
    use openova::store::Store;
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let api = hetzner_stand_in();
    let mut a = wizard(&state, &cwd, &api, &["--new"]);
    a.wait_text("Organization name");
    let store = Store::open(&state.join("openova.db")).unwrap();
    assert_eq!(
        store.draft_lock(1).unwrap().map(|h| h.pid),
        Some(i64::from(a.pid()))
    );
    // The ssh session closes.
    a.signal(libc::SIGHUP);
    a.wait_exit();
    assert_eq!(store.draft_lock(1).unwrap(), None);

    let mut b = wizard(&state, &cwd, &api, &["--draft", "1"]);
    b.wait_text("Organization name");
    let b_pid = i64::from(b.pid());
    b.kill9();
    assert_eq!(store.draft_lock(1).unwrap().map(|h| h.pid), Some(b_pid));
    // Its process is gone: the next wizard opens the draft without a question.
    let mut c = wizard(&state, &cwd, &api, &["--draft", "1"]);
    let screen = c.wait_text("Organization name");
    assert!(!screen.contains("open elsewhere"), "{screen}");
    assert_eq!(
        store.draft_lock(1).unwrap().map(|h| h.pid),
        Some(i64::from(c.pid()))
    );
    c.send(CTRL_C);
    c.wait_exit();
}
