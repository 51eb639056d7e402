//! The real `openova` binary in a real PTY, read back with a terminal emulator (vt100): what the
//! wizard, terminal, console and journey tests share, with the keys they press and the Hetzner
//! API stand-in the wizard checks its token against. Each test file includes it as a module.

// Each integration test is its own crate and uses only part of this.
#![allow(dead_code)]

use std::cell::RefCell;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

pub const ENTER: &str = "\r";
pub const ESC: &str = "\x1b";
pub const TAB: &str = "\t";
pub const RIGHT: &str = "\x1b[C";
pub const UP: &str = "\x1b[A";
pub const PGUP: &str = "\x1b[5~";
pub const PGDN: &str = "\x1b[6~";
pub const CTRL_C: &str = "\x03";

/// How long a quit (`q`) may take before the test fails.
const QUIT: Duration = Duration::from_secs(10);

/// The emulated screen and every byte the program wrote.
struct Screen {
    parser: vt100::Parser,
    raw: Vec<u8>,
    /// Where in `raw` the current emulator started.
    parser_from: usize,
}

/// A program running in a PTY. Killed on drop, so a failed wait does not leave it running.
pub struct Pty {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<Screen>>,
    master: Box<dyn MasterPty + Send>,
    /// Longest wait for one thing to appear on screen, or for the program to exit.
    deadline: Duration,
    /// How often the screen is read while waiting.
    poll: Duration,
    /// A command whose output is printed, under its label, when a wait fails.
    diag: Option<(String, RefCell<Command>)>,
}

fn size(rows: u16, cols: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

/// The `openova` binary with `args`, for a terminal like an operator's: xterm-256color, no
/// colour.
pub fn openova<I, S>(args: I) -> CommandBuilder
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_openova"));
    cmd.args(args);
    cmd.env("TERM", "xterm-256color");
    cmd.env("NO_COLOR", "1");
    cmd
}

/// `openova tui bootstrap <args>` in `cwd`, which is also its home, with its state in `state`,
/// `api` as the Hetzner API and no keyring.
pub fn bootstrap(state: &Path, cwd: &Path, api: &str, args: &[&str]) -> CommandBuilder {
    let mut cmd = openova(["tui", "bootstrap"]);
    cmd.args(args);
    cmd.cwd(cwd);
    cmd.env("OPENOVA_STATE_DIR", state);
    cmd.env("OPENOVA_HETZNER_API_URL", api);
    cmd.env("HOME", cwd);
    cmd.env("XDG_CONFIG_HOME", cwd.join("config"));
    cmd.env("OPENOVA_KEYRING", "off");
    cmd
}

/// The Hetzner API token the wizard is given, and the SSH key pasted into it.
pub const TOKEN: &str = "PLANTEDtokenPLANTEDtokenPLANTEDtokenPLANTEDtokenPLANTEDtoken0001";
pub const PUBKEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtZbGB686h2flmyRufj6W7HyqwKpVzbOVieXWyl+9WT ops@acme";

/// A Hetzner API stand-in on loopback: 200 for the planted token, 401 for anything else.
pub fn hetzner_stand_in() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
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

/// A command's stdout and stderr, or nothing if it could not run.
pub fn output_of(cmd: &mut Command) -> String {
    cmd.output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
        })
        .unwrap_or_default()
}

/// The first line of the screen containing `name`, e.g. a component row.
pub fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(name))
}

impl Pty {
    /// Runs `cmd` in a `rows`×`cols` PTY; waits are 15 s at most, the screen read every 20 ms.
    pub fn spawn(cmd: CommandBuilder, rows: u16, cols: u16) -> Pty {
        let pty = native_pty_system()
            .openpty(size(rows, cols))
            .unwrap_or_else(|e| panic!("openpty: {e}"));
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
            let mut buf = [0u8; 16384];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = s.lock().unwrap_or_else(|e| e.into_inner());
                s.parser.process(&buf[..n]);
                s.raw.extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            child,
            writer,
            screen,
            master: pty.master,
            deadline: Duration::from_secs(15),
            poll: Duration::from_millis(20),
            diag: None,
        }
    }

    /// Waits up to `deadline` for one thing, reading the screen every `poll`.
    pub fn waits(mut self, deadline: Duration, poll: Duration) -> Pty {
        self.deadline = deadline;
        self.poll = poll;
        self
    }

    /// When a wait fails, also print what `cmd` outputs then, under `label`.
    pub fn diag(mut self, label: &str, cmd: Command) -> Pty {
        self.diag = Some((label.to_string(), RefCell::new(cmd)));
        self
    }

    fn lock(&self) -> MutexGuard<'_, Screen> {
        self.screen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the screen shows now.
    pub fn text(&self) -> String {
        self.lock().parser.screen().contents()
    }

    /// Every byte the program has written so far.
    pub fn raw(&self) -> Vec<u8> {
        self.lock().raw.clone()
    }

    /// How many bytes the program has written so far.
    pub fn bytes(&self) -> usize {
        self.lock().raw.len()
    }

    /// Waits until `pred` holds for the screen and returns it; on timeout fails with the
    /// screen, the output since the last resize and the diagnostic command's output.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let t = self.text();
            if pred(&t) {
                return t;
            }
            if start.elapsed() > self.deadline {
                let since = {
                    let s = self.lock();
                    String::from_utf8_lossy(&s.raw[s.parser_from..]).into_owned()
                };
                let diag = self
                    .diag
                    .as_ref()
                    .map(|(label, cmd)| format!("\n{label}:\n{}", output_of(&mut cmd.borrow_mut())))
                    .unwrap_or_default();
                panic!(
                    "timed out waiting for {what}; screen:\n{t}\noutput since the last resize ({} bytes): {:?}{diag}",
                    since.len(),
                    since.chars().take(600).collect::<String>()
                );
            }
            std::thread::sleep(self.poll);
        }
    }

    /// Waits until the screen shows `needle` and returns it.
    pub fn wait_text(&self, needle: &str) -> String {
        self.wait_for(&format!("{needle:?}"), |t| t.contains(needle))
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.writer
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("write: {e}"));
        self.writer.flush().unwrap_or_else(|e| panic!("flush: {e}"));
        // Keys arrive as separate events, as typed: a lone Esc is read as Esc, not the start of
        // a sequence.
        std::thread::sleep(Duration::from_millis(60));
    }

    pub fn send(&mut self, keys: &str) {
        self.send_bytes(keys.as_bytes());
    }

    /// Types `text` one key at a time.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.send(&c.to_string());
        }
    }

    /// Types `text` in one burst, as fast as the PTY takes it.
    pub fn type_burst(&mut self, text: &str) {
        for c in text.chars() {
            self.writer
                .write_all(c.to_string().as_bytes())
                .unwrap_or_else(|e| panic!("write: {e}"));
        }
        self.writer.flush().unwrap_or_else(|e| panic!("flush: {e}"));
        std::thread::sleep(Duration::from_millis(60));
    }

    /// Pastes `text` as a terminal does (bracketed paste).
    pub fn paste(&mut self, text: &str) {
        self.send(&format!("\x1b[200~{text}\x1b[201~"));
    }

    /// Resizes the PTY (the kernel sends SIGWINCH) and starts a fresh emulator of that size, so
    /// only what the program draws afterwards is on the emulated screen.
    pub fn resize(&self, rows: u16, cols: u16) {
        // Swap the emulator first and hold it while resizing: the program may redraw before
        // `resize` returns, and all of that redraw must land on the new emulator.
        let mut screen = self.lock();
        screen.parser = vt100::Parser::new(rows, cols, 0);
        screen.parser_from = screen.raw.len();
        self.resize_pty(rows, cols);
    }

    /// Resizes the PTY only; the emulator keeps its size.
    pub fn resize_pty(&self, rows: u16, cols: u16) {
        self.master
            .resize(size(rows, cols))
            .unwrap_or_else(|e| panic!("resize: {e}"));
    }

    pub fn pid(&self) -> i32 {
        self.child
            .process_id()
            .and_then(|p| i32::try_from(p).ok())
            .unwrap_or_else(|| panic!("child has no pid"))
    }

    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill({sig})");
    }

    /// SIGKILL, and reaped.
    pub fn kill9(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(self.poll);
        }
        None
    }

    /// Waits for the program to exit, then lets the reader take its last bytes.
    pub fn wait_exit(&mut self) {
        if self.exit_within(self.deadline).is_none() {
            panic!("openova did not exit; screen:\n{}", self.text());
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    /// `q`, and the program exits successfully.
    pub fn quit(&mut self) {
        self.send("q");
        let status = self
            .exit_within(QUIT)
            .unwrap_or_else(|| panic!("openova did not quit; screen:\n{}", self.text()));
        assert!(status.success(), "exit status {status:?}");
    }

    /// After exit: the last alternate-screen switch is a leave. Returns the output after it.
    pub fn assert_left_alt_screen(&self, what: &str) -> String {
        let raw = self.raw();
        let text = String::from_utf8_lossy(&raw);
        let enter = text
            .rfind("\x1b[?1049h")
            .unwrap_or_else(|| panic!("{what}: never entered the alternate screen"));
        let leave = text
            .rfind("\x1b[?1049l")
            .unwrap_or_else(|| panic!("{what}: never left the alternate screen"));
        assert!(leave > enter, "{what}: still on the alternate screen");
        text[leave..].to_string()
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
