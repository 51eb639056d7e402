//! `openova tui bootstrap` on the real binary in a real PTY under hostile terminal conditions:
//! resize storms, a 20×5 terminal, a 10,000-character paste, bytes that are not UTF-8, and
//! job-control and termination signals on every wizard screen. The terminal must always be
//! handed back (alternate screen left, cursor shown) and the draft must survive intact.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openova::store::Store;
use openova::tui::bootstrap::export::form_from_toml;
use openova::tui::bootstrap::model::{Form, Step};
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const DEADLINE: Duration = Duration::from_secs(15);
const ENTER_ALT: &str = "\x1b[?1049h";
const LEAVE_ALT: &str = "\x1b[?1049l";
const SHOW_CURSOR: &str = "\x1b[?25h";

struct Screen {
    parser: vt100::Parser,
    raw: Vec<u8>,
    /// Where in `raw` the current emulator started.
    parser_from: usize,
}

struct Tui {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<Screen>>,
    master: Box<dyn MasterPty + Send>,
}

fn size(rows: u16, cols: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

impl Tui {
    fn spawn(tmp: &Path, rows: u16, cols: u16, args: &[&str]) -> Tui {
        let pty = native_pty_system()
            .openpty(size(rows, cols))
            .unwrap_or_else(|e| panic!("openpty: {e}"));
        let cwd = tmp.join("work");
        std::fs::create_dir_all(&cwd).unwrap_or_else(|e| panic!("cwd: {e}"));
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_openova"));
        cmd.args(["tui", "bootstrap"]);
        cmd.args(args);
        cmd.cwd(&cwd);
        cmd.env("OPENOVA_STATE_DIR", tmp.join("state"));
        // Nothing may reach a real provider from these tests.
        cmd.env("OPENOVA_HETZNER_API_URL", "http://127.0.0.1:1/v1");
        cmd.env("HOME", &cwd);
        cmd.env("XDG_CONFIG_HOME", cwd.join("config"));
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        cmd.env("OPENOVA_KEYRING", "off");
        let child = pty
            .slave
            .spawn_command(cmd)
            .unwrap_or_else(|e| panic!("spawn: {e}"));
        let mut reader = pty
            .master
            .try_clone_reader()
            .unwrap_or_else(|e| panic!("reader: {e}"));
        let writer = pty
            .master
            .take_writer()
            .unwrap_or_else(|e| panic!("writer: {e}"));
        let screen = Arc::new(Mutex::new(Screen {
            parser: vt100::Parser::new(rows, cols, 0),
            raw: Vec::new(),
            parser_from: 0,
        }));
        let s = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = s.lock().unwrap_or_else(|e| e.into_inner());
                s.parser.process(&buf[..n]);
                s.raw.extend_from_slice(&buf[..n]);
            }
        });
        Tui {
            child,
            writer,
            screen,
            master: pty.master,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Screen> {
        self.screen.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn contents(&self) -> String {
        self.lock().parser.screen().contents()
    }

    fn wait_for(&self, text: &str) {
        let start = Instant::now();
        loop {
            let c = self.contents();
            if c.contains(text) {
                return;
            }
            if start.elapsed() > DEADLINE {
                let s = self.lock();
                let since = String::from_utf8_lossy(&s.raw[s.parser_from..]).into_owned();
                panic!(
                    "timed out waiting for {text:?}; screen:\n{c}\noutput since the last resize ({} bytes): {:?}",
                    since.len(),
                    since.chars().take(600).collect::<String>()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn send_bytes(&mut self, bytes: &[u8]) {
        self.writer
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("write: {e}"));
        self.writer.flush().unwrap_or_else(|e| panic!("flush: {e}"));
        std::thread::sleep(Duration::from_millis(60));
    }

    fn send(&mut self, keys: &str) {
        self.send_bytes(keys.as_bytes());
    }

    /// Resize the PTY (the kernel sends SIGWINCH) and start a fresh emulator of that size, so
    /// only what the program draws afterwards is on the emulated screen.
    fn resize(&self, rows: u16, cols: u16) {
        // Swap the emulator first and hold it while resizing: the program may redraw before
        // `resize` returns, and all of that redraw must land on the new emulator.
        let mut screen = self.lock();
        screen.parser = vt100::Parser::new(rows, cols, 0);
        screen.parser_from = screen.raw.len();
        self.master
            .resize(size(rows, cols))
            .unwrap_or_else(|e| panic!("resize: {e}"));
    }

    fn pid(&self) -> i32 {
        self.child
            .process_id()
            .and_then(|p| i32::try_from(p).ok())
            .unwrap_or_else(|| panic!("child has no pid"))
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill({sig})");
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn wait_exit(&mut self) {
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            if let Ok(Some(_)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(200));
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("openova did not exit; screen:\n{}", self.contents());
    }

    /// After exit: the last alternate-screen switch is a leave, and the cursor is shown after it.
    fn assert_terminal_restored(&self, what: &str) {
        let raw = self.lock().raw.clone();
        let text = String::from_utf8_lossy(&raw);
        let enter = text
            .rfind(ENTER_ALT)
            .unwrap_or_else(|| panic!("{what}: never entered the alternate screen"));
        let leave = text
            .rfind(LEAVE_ALT)
            .unwrap_or_else(|| panic!("{what}: never left the alternate screen"));
        assert!(leave > enter, "{what}: still on the alternate screen");
        let show = text
            .rfind(SHOW_CURSOR)
            .unwrap_or_else(|| panic!("{what}: cursor never shown again"));
        let hide = text.rfind("\x1b[?25l").unwrap_or(0);
        assert!(show > hide, "{what}: cursor left hidden");
        assert!(!text.contains("panicked"), "{what}: panic in output");
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
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
            let mut tui = Tui::spawn(tmp.path(), 24, 80, &["--draft", &id_arg]);
            tui.wait_for(marker(step));

            // SIGWINCH: a resize redraws the same screen at the new size.
            tui.resize(30, 100);
            tui.wait_for(marker(step));

            // SIGTSTP then SIGCONT: the process is stopped, then comes back and still answers.
            tui.signal(libc::SIGTSTP);
            std::thread::sleep(Duration::from_millis(150));
            assert!(tui.alive(), "{what}: died on SIGTSTP");
            tui.signal(libc::SIGCONT);
            tui.resize(24, 80);
            tui.wait_for(marker(step));
            assert!(tui.alive(), "{what}: died after SIGCONT");

            tui.signal(end);
            tui.wait_exit();
            tui.assert_terminal_restored(&what);
            assert_same_values(&before, &stored_form(&state, id), &what);
        }
    }
}

#[test]
fn tiny_terminal_20x5_explains_then_works_when_enlarged() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let mut tui = Tui::spawn(tmp.path(), 5, 20, &["--new"]);
    // 20 columns wrap the sentence; its start and the size are what must be readable.
    tui.wait_for("The terminal is");
    tui.wait_for("20x5");
    assert!(tui.alive(), "exited on a tiny terminal");
    tui.resize(24, 80);
    tui.wait_for("Organization name");
    tui.send("Tiny Start");
    tui.wait_for("Tiny Start");
    tui.send("\x03");
    tui.wait_exit();
    tui.assert_terminal_restored("20x5");
}

#[test]
fn resize_storm_keeps_running_and_redraws_at_final_size() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let state = tmp.path().join("state");
    let (id, before) = seed_draft(&state, Step::Regions);
    let id_arg = id.to_string();
    let mut tui = Tui::spawn(tmp.path(), 24, 80, &["--draft", &id_arg]);
    tui.wait_for(marker(Step::Regions));
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
        tui.master
            .resize(size(rows, cols))
            .unwrap_or_else(|e| panic!("resize: {e}"));
    }
    assert!(tui.alive(), "died during the resize storm");
    tui.resize(24, 80);
    tui.wait_for(marker(Step::Regions));
    tui.send("\x03");
    tui.wait_exit();
    tui.assert_terminal_restored("resize storm");
    assert_same_values(&before, &stored_form(&state, id), "resize storm");
}

#[test]
fn paste_of_10000_characters_is_cut_to_the_field_and_said() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let state = tmp.path().join("state");
    let mut tui = Tui::spawn(tmp.path(), 24, 80, &["--new"]);
    tui.wait_for("Organization name");
    let long: String = "Acme".repeat(2500);
    assert_eq!(long.len(), 10_000);
    tui.send(&format!("\x1b[200~{long}\x1b[201~"));
    tui.wait_for("Pasted text was cut");
    assert!(tui.alive(), "died on a long paste");
    tui.send("\x03");
    tui.wait_exit();
    tui.assert_terminal_restored("long paste");
    // What fit was kept: the draft holds the name up to the field's limit.
    let store = Store::open(&state.join("openova.db")).unwrap_or_else(|e| panic!("store: {e}"));
    let drafts = store.list_drafts().unwrap_or_else(|e| panic!("list: {e}"));
    let id = drafts
        .first()
        .map(|d| d.id)
        .unwrap_or_else(|| panic!("no draft saved"));
    let form = stored_form(&state, id);
    assert_eq!(form.org_name.chars().count(), 128, "{:?}", form.org_name);
    assert!(long.starts_with(&form.org_name));
}

#[test]
fn non_utf8_bytes_on_stdin_are_ignored_and_typing_continues() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let mut tui = Tui::spawn(tmp.path(), 24, 80, &["--new"]);
    tui.wait_for("Organization name");
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
    tui.wait_for("Bytes Org");
    assert!(tui.alive(), "died on bytes that are not UTF-8");
    tui.send("\x03");
    tui.wait_exit();
    tui.assert_terminal_restored("non-UTF-8 input");
}
