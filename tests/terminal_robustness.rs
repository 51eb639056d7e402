//! `openova tui bootstrap` on the real binary in a real PTY under hostile terminal conditions:
//! resize storms, a 20×5 terminal, a 10,000-character paste, bytes that are not UTF-8, and
//! job-control and termination signals on every wizard screen. The terminal must always be
//! handed back (alternate screen left, cursor shown) and the draft must survive intact.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

use std::path::Path;
use std::time::Duration;

use openova::store::Store;
use openova::tui::bootstrap::export::form_from_toml;
use openova::tui::bootstrap::model::{Form, Step};

#[path = "support/pty.rs"]
mod pty;

use pty::{CTRL_C, Pty};

const SHOW_CURSOR: &str = "\x1b[?25h";

/// The wizard in a `rows`×`cols` terminal, its state and working directory under `tmp`.
fn spawn(tmp: &Path, rows: u16, cols: u16, args: &[&str]) -> Pty {
    let cwd = tmp.join("work");
    std::fs::create_dir_all(&cwd).unwrap_or_else(|e| panic!("cwd: {e}"));
    // Nothing may reach a real provider from these tests.
    let cmd = pty::bootstrap(&tmp.join("state"), &cwd, "http://127.0.0.1:1/v1", args);
    Pty::spawn(cmd, rows, cols)
}

/// After exit: the last alternate-screen switch is a leave, and the cursor is shown after it.
fn assert_terminal_restored(tui: &Pty, what: &str) {
    tui.assert_left_alt_screen(what);
    let raw = tui.raw();
    let text = String::from_utf8_lossy(&raw);
    let show = text
        .rfind(SHOW_CURSOR)
        .unwrap_or_else(|| panic!("{what}: cursor never shown again"));
    let hide = text.rfind("\x1b[?25l").unwrap_or(0);
    assert!(show > hide, "{what}: cursor left hidden");
    assert!(!text.contains("panicked"), "{what}: panic in output");
}

/// A draft filled from the expected wizard export, positioned on `step`; returns its id and
/// the form as stored.
fn seed_draft(state: &Path, step: Step) -> (i64, Form) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wizard/expected-platform.toml"),
    )
    .unwrap_or_else(|e| panic!("fixture: {e}"));
    let mut form = form_from_toml(&text).unwrap_or_else(|e| panic!("fixture: {e}"));
    form.step = step;
    form.reached = Step::Review;
    let store = Store::open(&state.join("openova.db")).unwrap_or_else(|e| panic!("store: {e}"));
    let data = serde_json::to_string(&form).unwrap_or_else(|e| panic!("json: {e}"));
    let id = store
        .create_draft("Acme Financial", &data, 50)
        .unwrap_or_else(|e| panic!("draft: {e}"));
    (id, form)
}

fn stored_form(state: &Path, id: i64) -> Form {
    let store = Store::open(&state.join("openova.db")).unwrap_or_else(|e| panic!("store: {e}"));
    assert!(store.set_aside().is_none(), "the database was set aside");
    let draft = store
        .load_draft(id)
        .unwrap_or_else(|e| panic!("load: {e}"))
        .unwrap_or_else(|| panic!("draft {id} is gone"));
    serde_json::from_str(&draft.data).unwrap_or_else(|e| panic!("draft data: {e}"))
}

/// Everything the operator typed is still there (the screen it was on may move).
fn assert_same_values(before: &Form, after: &Form, what: &str) {
    let mut a = after.clone();
    a.step = before.step;
    a.reached = before.reached;
    assert_eq!(&a, before, "{what}: draft values changed");
}

/// Text that only the given screen shows.
fn marker(step: Step) -> &'static str {
    match step {
        Step::Organization => "Organization name",
        Step::Credentials => "API token",
        Step::Provider => "Hetzner Cloud [hz]",
        Step::Regions => "hz-nbg-rtz-prod",
        Step::Components => "MANDATORY",
        Step::Review => "platform.toml",
    }
}

const STEPS: [Step; 6] = [
    Step::Organization,
    Step::Credentials,
    Step::Provider,
    Step::Regions,
    Step::Components,
    Step::Review,
];

#[test]
fn signals_on_every_screen_restore_terminal_and_keep_draft() {
    for step in STEPS {
        for (name, end) in [("SIGHUP", libc::SIGHUP), ("SIGTERM", libc::SIGTERM)] {
            let what = format!("{step:?} + {name}");
            let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
            let state = tmp.path().join("state");
            let (id, before) = seed_draft(&state, step);
            let id_arg = id.to_string();
            let mut tui = spawn(tmp.path(), 24, 80, &["--draft", &id_arg]);
            tui.wait_text(marker(step));

            // SIGWINCH: a resize redraws the same screen at the new size.
            tui.resize(30, 100);
            tui.wait_text(marker(step));

            // SIGTSTP then SIGCONT: the process is stopped, then comes back and still answers.
            tui.signal(libc::SIGTSTP);
            std::thread::sleep(Duration::from_millis(150));
            assert!(tui.alive(), "{what}: died on SIGTSTP");
            tui.signal(libc::SIGCONT);
            tui.resize(24, 80);
            tui.wait_text(marker(step));
            assert!(tui.alive(), "{what}: died after SIGCONT");

            tui.signal(end);
            tui.wait_exit();
            assert_terminal_restored(&tui, &what);
            assert_same_values(&before, &stored_form(&state, id), &what);
        }
    }
}

#[test]
fn tiny_terminal_20x5_explains_then_works_when_enlarged() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let mut tui = spawn(tmp.path(), 5, 20, &["--new"]);
    // 20 columns wrap the sentence; its start and the size are what must be readable.
    tui.wait_text("The terminal is");
    tui.wait_text("20x5");
    assert!(tui.alive(), "exited on a tiny terminal");
    tui.resize(24, 80);
    tui.wait_text("Organization name");
    tui.send("Tiny Start");
    tui.wait_text("Tiny Start");
    tui.send(CTRL_C);
    tui.wait_exit();
    assert_terminal_restored(&tui, "20x5");
}

#[test]
fn resize_storm_keeps_running_and_redraws_at_final_size() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let state = tmp.path().join("state");
    let (id, before) = seed_draft(&state, Step::Regions);
    let id_arg = id.to_string();
    let mut tui = spawn(tmp.path(), 24, 80, &["--draft", &id_arg]);
    tui.wait_text(marker(Step::Regions));
    // Sizes from degenerate to huge, no pause between them: the window manager dragging a corner.
    let sizes: Vec<(u16, u16)> = (0..200u16)
        .map(|i| match i % 6 {
            0 => (1, 1),
            1 => (5, 20),
            2 => (24 + i % 40, 80 + i % 120),
            3 => (60, 250),
            4 => (23, 79),
            _ => (2 + i % 30, 3 + i % 90),
        })
        .collect();
    for (rows, cols) in sizes {
        tui.resize_pty(rows, cols);
    }
    assert!(tui.alive(), "died during the resize storm");
    tui.resize(24, 80);
    tui.wait_text(marker(Step::Regions));
    tui.send(CTRL_C);
    tui.wait_exit();
    assert_terminal_restored(&tui, "resize storm");
    assert_same_values(&before, &stored_form(&state, id), "resize storm");
}

#[test]
fn paste_of_10000_characters_is_cut_to_the_field_and_said() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let state = tmp.path().join("state");
    let mut tui = spawn(tmp.path(), 24, 80, &["--new"]);
    tui.wait_text("Organization name");
    let long: String = "Acme".repeat(2500);
    assert_eq!(long.len(), 10_000);
    tui.paste(&long);
    tui.wait_text("Pasted text was cut");
    assert!(tui.alive(), "died on a long paste");
    tui.send(CTRL_C);
    tui.wait_exit();
    assert_terminal_restored(&tui, "long paste");
    // What fit was kept: the draft holds the name up to the field's limit.
    let store = Store::open(&state.join("openova.db")).unwrap_or_else(|e| panic!("store: {e}"));
    let drafts = store.list_drafts().unwrap_or_else(|e| panic!("list: {e}"));
    let id = drafts
        .first()
        .map(|d| d.id)
        .unwrap_or_else(|| panic!("no draft saved"));
    let form = stored_form(&state, id);
    // The field's limit is the organization-name rule's (the same in Review and export).
    assert_eq!(
        form.org_name.chars().count(),
        openova::domain::naming::ORG_NAME_MAX,
        "{:?}",
        form.org_name
    );
    assert!(long.starts_with(&form.org_name));
}

#[test]
fn non_utf8_bytes_on_stdin_are_ignored_and_typing_continues() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let mut tui = spawn(tmp.path(), 24, 80, &["--new"]);
    tui.wait_text("Organization name");
    for bytes in [
        &b"\xff\xfe"[..],
        b"\xc3\x28",
        b"\xe2\x82",
        b"\xf0\x28\x8c\xbc",
        b"\x80\x81\x82",
    ] {
        tui.send_bytes(bytes);
    }
    tui.send("Bytes Org");
    tui.wait_text("Bytes Org");
    assert!(tui.alive(), "died on bytes that are not UTF-8");
    tui.send(CTRL_C);
    tui.wait_exit();
    assert_terminal_restored(&tui, "non-UTF-8 input");
}

#[test]
fn too_small_screen_keeps_keys_from_the_hidden_form_and_q_quits() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let (id, before) = seed_draft(&tmp.path().join("state"), Step::Organization);
    let mut tui = spawn(tmp.path(), 20, 60, &["--draft", &id.to_string()]);
    tui.wait_text("needs at least 80x24");
    // Letters typed now would land in the Organization name nobody can see.
    tui.type_text("xyz");
    tui.paste("pasted");
    std::thread::sleep(Duration::from_millis(300));
    assert!(tui.alive(), "a letter quit the too-small screen");
    tui.send("q");
    tui.wait_exit();
    assert_terminal_restored(&tui, "too small, q");
    let after = stored_form(&tmp.path().join("state"), id);
    assert_eq!(
        after, before,
        "keys typed on the too-small screen changed the draft"
    );
}
