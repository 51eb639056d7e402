//! End-to-end tests of `openova tui bootstrap` on the real binary in a real PTY, read back with
//! a terminal emulator (vt100): a full walk that exports platform.toml, kill -9 and resume,
//! secrets never on disk, and the terminal restored on exit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

const TOKEN: &str = "PLANTEDtokenPLANTEDtokenPLANTEDtokenPLANTEDtokenPLANTEDtoken0001";
const PUBKEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtZbGB686h2flmyRufj6W7HyqwKpVzbOVieXWyl+9WT ops@acme";
const DEADLINE: Duration = Duration::from_secs(15);

const ENTER: &str = "\r";
const RIGHT: &str = "\x1b[C";
const PGDN: &str = "\x1b[6~";

struct Screen {
    parser: vt100::Parser,
    raw: Vec<u8>,
}

struct Wizard {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<Screen>>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Wizard {
    fn spawn(state: &Path, cwd: &Path, api: &str, args: &[&str]) -> Wizard {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_openova"));
        cmd.args(["tui", "bootstrap"]);
        cmd.args(args);
        cmd.cwd(cwd);
        cmd.env("OPENOVA_STATE_DIR", state);
        cmd.env("OPENOVA_HETZNER_API_URL", api);
        cmd.env("OPENOVA_LOG", "debug");
        cmd.env("HOME", cwd);
        cmd.env("XDG_CONFIG_HOME", cwd.join("config"));
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        cmd.env("OPENOVA_KEYRING", "off");
        let child = pty.slave.spawn_command(cmd).unwrap();
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(Screen {
            parser: vt100::Parser::new(24, 80, 0),
            raw: Vec::new(),
        }));
        let s = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = s.lock().unwrap();
                s.parser.process(&buf[..n]);
                s.raw.extend_from_slice(&buf[..n]);
            }
        });
        Wizard {
            child,
            writer,
            screen,
            _master: pty.master,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().parser.screen().contents()
    }

    fn wait_for(&self, text: &str) {
        let start = Instant::now();
        loop {
            let c = self.contents();
            if c.contains(text) {
                return;
            }
            if start.elapsed() > DEADLINE {
                panic!("timed out waiting for {text:?}; screen:\n{c}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // Let a lone Esc be read as Esc, not the start of a sequence, and keep keys ordered.
        std::thread::sleep(Duration::from_millis(60));
    }

    fn paste(&mut self, text: &str) {
        self.send(&format!("\x1b[200~{text}\x1b[201~"));
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.writer.write_all(c.to_string().as_bytes()).unwrap();
        }
        self.writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(60));
    }

    fn wait_exit(&mut self) {
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            if let Ok(Some(_)) = self.child.try_wait() {
                // Give the reader thread a moment to drain the last bytes.
                std::thread::sleep(Duration::from_millis(200));
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("wizard did not exit; screen:\n{}", self.contents());
    }

    fn raw(&self) -> Vec<u8> {
        self.screen.lock().unwrap().raw.clone()
    }

    fn kill9(&mut self) {
        let pid = self.child.process_id().unwrap() as i32;
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// A Hetzner API stand-in on loopback: 200 for the planted token, 401 for anything else.
fn hetzner_stand_in() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut authorized = false;
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if line == "\r\n" {
                    break;
                }
                if line.to_ascii_lowercase().starts_with("authorization:") && line.contains(TOKEN) {
                    authorized = true;
                }
                line.clear();
            }
            let (status, body) = if authorized {
                ("200 OK", r#"{"servers":[]}"#)
            } else {
                ("401 Unauthorized", r#"{"error":{"code":"unauthorized"}}"#)
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}/v1")
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
    let mut w = Wizard::spawn(&state, &cwd, &api, &["--new"]);

    w.wait_for("Organization name");
    w.type_text("Acme Financial");
    w.wait_for("acme-financial");
    w.send(ENTER);
    // Replace the derived slug.
    w.send("\x15");
    w.type_text("acme");
    w.send(ENTER);
    w.type_text("acme.io");
    w.send(ENTER);
    w.type_text("platform@acme.io");
    w.send(ENTER);
    w.wait_for("acme-prod");
    w.send(ENTER);

    w.wait_for("API token");
    w.paste(TOKEN);
    w.send(ENTER);
    w.wait_for("valid");
    w.send(ENTER); // state backend: local
    w.send(RIGHT); // SSH: paste an existing key
    w.send(ENTER);
    w.paste(PUBKEY);
    w.wait_for("SHA256:");
    w.send(ENTER);
    w.send(RIGHT); // keep secrets: memory only, so the file references environment variables
    w.wait_for("memory only");
    w.send(ENTER);

    w.wait_for("Hetzner Cloud [hz]");
    w.send(ENTER);
    w.wait_for("hz-fsn-rtz-prod");
    w.send(RIGHT); // two regions
    w.wait_for("hz-nbg-rtz-prod");
    w.send(PGDN);

    w.wait_for("MANDATORY");
    w.send("/");
    w.type_text("debezium");
    w.send(ENTER);
    w.send(" ");
    w.wait_for("also adds");
    w.send("y");
    w.wait_for("[x] debezium");
    w.send(ENTER);

    w.wait_for("Everything checks out");
    w.send("e");
    w.wait_for("Export platform.toml to");
    w.send(ENTER);
    w.wait_for("Exported");
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
    let raw = w.raw();
    let text = String::from_utf8_lossy(&raw);
    let enter = text
        .rfind("\x1b[?1049h")
        .expect("entered the alternate screen");
    let leave = text
        .rfind("\x1b[?1049l")
        .expect("left the alternate screen");
    assert!(leave > enter);
    assert!(text[leave..].contains("Draft #"), "{:?}", &text[leave..]);
}

#[test]
fn wizard_killed_mid_entry_resumes_with_same_values() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let api = hetzner_stand_in();

    let mut w = Wizard::spawn(&state, &cwd, &api, &["--new"]);
    w.wait_for("Organization name");
    w.type_text("Resume Test Org");
    w.send(ENTER);
    w.send(ENTER);
    w.type_text("resume.example");
    w.wait_for("resume.example");
    w.send(ENTER);
    w.send(ENTER);
    w.send(RIGHT); // environment: stg
    w.wait_for("stg (Staging)");
    w.send(ENTER);
    w.wait_for("API token");
    w.paste(TOKEN);
    w.wait_for("••••");
    w.kill9();

    let mut w = Wizard::spawn(&state, &cwd, &api, &[]);
    w.wait_for("Resume a draft?");
    w.wait_for("Resume Test Org");
    w.send(ENTER);
    // The draft reopens where it was left: on Credentials.
    w.wait_for("API token");
    w.send(PGDN.replace('6', "5").as_str()); // PgUp back to Organization
    w.wait_for("Organization name");
    let screen = w.contents();
    assert!(screen.contains("Resume Test Org"), "{screen}");
    assert!(screen.contains("resume-test-org"), "{screen}");
    assert!(screen.contains("resume.example"), "{screen}");
    assert!(screen.contains("stg (Staging)"), "{screen}");
    w.send("\x03");
    w.wait_exit();
    assert_token_absent(&state);
}

#[test]
fn wizard_below_minimum_size_explains_and_quits_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let cwd = tmp.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 20,
            cols: 60,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_openova"));
    cmd.args(["tui", "bootstrap", "--new"]);
    cmd.cwd(&cwd);
    cmd.env("OPENOVA_STATE_DIR", &state);
    cmd.env("HOME", &cwd);
    cmd.env("TERM", "xterm-256color");
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    let mut reader = pty.master.try_clone_reader().unwrap();
    let mut writer = pty.master.take_writer().unwrap();
    let parser = Arc::new(Mutex::new(vt100::Parser::new(20, 60, 0)));
    let p = parser.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            p.lock().unwrap().process(&buf[..n]);
        }
    });
    let start = Instant::now();
    loop {
        let c = parser.lock().unwrap().screen().contents();
        if c.contains("needs at least 80x24") {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "no size message; screen:\n{c}");
        std::thread::sleep(Duration::from_millis(20));
    }
    writer.write_all(b"\x03").unwrap();
    writer.flush().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < DEADLINE, "did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
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
    let mut w = Wizard::spawn(&state, &cwd, &api, &[]);
    w.wait_for("not a readable openova database");
    w.send("\x03");
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
    let mut w = Wizard::spawn(&state, &cwd, &api, &["--new"]);
    w.wait_for("Organization name");
    w.type_text("Idle Org");
    w.wait_for("idle-org");
    // Let the last frame settle, then watch the terminal for a second of idleness.
    std::thread::sleep(Duration::from_millis(300));
    let before = w.raw().len();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(w.raw().len(), before, "bytes were written while idle");

    let pid = w.child.process_id().unwrap() as i32;
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    w.wait_exit();
    let raw = w.raw();
    let text = String::from_utf8_lossy(&raw);
    let enter = text
        .rfind("\x1b[?1049h")
        .expect("entered the alternate screen");
    let leave = text
        .rfind("\x1b[?1049l")
        .expect("left the alternate screen on SIGTERM");
    assert!(leave > enter);

    // The draft survived: the next start offers it.
    let mut w = Wizard::spawn(&state, &cwd, &api, &[]);
    w.wait_for("Idle Org");
    w.send("\x03");
    w.wait_exit();
}
