//! Time from exec to the wizard's first complete frame, on the real binary in a PTY (budget:
//! 10 ms, docs/architecture.md §7). Run with `cargo bench --bench first_frame`; it prints the
//! minimum, median and 95th percentile for a first start (new state directory, database
//! created) and a warm start (existing database, reopening a draft).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const RUNS: usize = 30;
const BUDGET: Duration = Duration::from_millis(10);
/// The footer's last hint: the bottom row is written last, so the whole frame is out.
const FIRST_FRAME_MARK: &[u8] = b" quit";

fn first_frame(state: &Path, args: &[&str]) -> Duration {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_openova"));
    cmd.args(["tui", "bootstrap"]);
    cmd.args(args);
    cmd.env("OPENOVA_STATE_DIR", state);
    cmd.env("TERM", "xterm-256color");
    std::fs::create_dir_all(state).expect("state dir");
    cmd.env("HOME", state);
    cmd.cwd(state);
    let mut reader = pty.master.try_clone_reader().expect("pty reader");
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let mut child = pty.slave.spawn_command(cmd).expect("spawn openova");
    let shared = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen_out = shared.clone();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 16384];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if let Ok(mut s) = seen_out.lock() {
                s.extend_from_slice(&buf[..n]);
            }
            if seen
                .windows(FIRST_FRAME_MARK.len())
                .any(|w| w == FIRST_FRAME_MARK)
            {
                let _ = tx.send(Instant::now());
                break;
            }
        }
    });
    let Ok(at) = rx.recv_timeout(Duration::from_secs(10)) else {
        let seen = shared.lock().map(|s| s.clone()).unwrap_or_default();
        panic!(
            "no first frame within 10 s; the terminal got: {:?}",
            String::from_utf8_lossy(&seen)
        );
    };
    let mut writer = pty.master.take_writer().expect("pty writer");
    let _ = writer.write_all(b"\x03");
    let _ = child.wait();
    at - start
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let median = pick(0.5);
    println!(
        "{name:<34} min {:>6.2} ms   median {:>6.2} ms   p95 {:>6.2} ms   budget {} ms: {}",
        samples[0].as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3,
        pick(0.95).as_secs_f64() * 1e3,
        BUDGET.as_millis(),
        if median <= BUDGET { "met" } else { "MISSED" }
    );
}

fn main() {
    // `cargo test --benches` runs this with no `--bench` flag; keep that quick.
    let runs = if std::env::args().any(|a| a == "--bench") {
        RUNS
    } else {
        2
    };
    let tmp = tempfile::tempdir().expect("temp dir");

    let mut cold = Vec::new();
    for i in 0..runs {
        let dir = tmp.path().join(format!("cold-{i}"));
        cold.push(first_frame(&dir, &["--new"]));
    }
    let warm_dir = tmp.path().join("warm");
    let _ = first_frame(&warm_dir, &["--new"]);
    let mut warm = Vec::new();
    for _ in 0..runs {
        warm.push(first_frame(&warm_dir, &["--draft", "1"]));
    }
    report("first start (creates database)", cold);
    report("warm start (reopens a draft)", warm);
}
