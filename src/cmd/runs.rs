//! `openova runs`: list, show, follow and cancel the provisioning runs recorded on this machine,
//! plus the hidden `supervise` entry point of the detached run supervisor.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use color_eyre::eyre::WrapErr;
use rusqlite::Connection;

use crate::cmd::CmdResult;
use crate::provision::follow::follow;
use crate::store::runs::{self, EventRecord, RunRecord, RunState};
use crate::timefmt;

#[derive(Debug, clap::Subcommand)]
pub enum RunsCmd {
    /// List runs, newest first.
    List {
        /// Print JSON (one array) instead of a table.
        #[arg(long)]
        json: bool,
        /// How many runs to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Show one run: state, timing, workspace, error and next step.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Follow a run's log live until it ends (works from any terminal; Ctrl-C only detaches).
    Attach { id: String },
    /// Print a run's log.
    Logs {
        id: String,
        /// Keep printing new lines until the run ends.
        #[arg(long, short)]
        follow: bool,
        /// One JSON object per line (the stored event, with OpenTofu's message in `raw`).
        #[arg(long)]
        json: bool,
    },
    /// Stop a live run gracefully: OpenTofu is interrupted and releases its state lock.
    Cancel { id: String },
    /// Internal: the detached run supervisor (started by `bootstrap` and the wizard).
    #[command(hide = true)]
    Supervise { id: String },
}

pub fn run(cmd: RunsCmd) -> CmdResult {
    match cmd {
        RunsCmd::Supervise { id } => supervise(&id),
        RunsCmd::List { json, limit } => {
            let conn = open_db()?;
            let list = runs::list_runs(&conn, limit)?;
            let mut refreshed = Vec::with_capacity(list.len());
            for r in list {
                refreshed.push(runs::refresh_liveness(&conn, &r.id)?);
            }
            let mut out = std::io::stdout().lock();
            if json {
                let arr: Vec<_> = refreshed.iter().map(run_json).collect();
                writeln!(out, "{}", serde_json::Value::Array(arr))?;
            } else if refreshed.is_empty() {
                writeln!(
                    out,
                    "No provisioning runs yet. Start one with `openova bootstrap apply --config platform.toml` or `openova tui bootstrap`."
                )?;
            } else {
                writeln!(
                    out,
                    "{:<14} {:<8} {:<12} {:<20} {:>9}  PLATFORM",
                    "ID", "ACTION", "STATE", "STARTED (UTC)", "DURATION"
                )?;
                for r in &refreshed {
                    writeln!(
                        out,
                        "{:<14} {:<8} {:<12} {:<20} {:>9}  {}",
                        r.id,
                        r.action,
                        r.state,
                        timefmt::date_time(r.created_ms),
                        timefmt::duration(
                            r.finished_ms.unwrap_or_else(runs::now_ms) - r.created_ms
                        ),
                        r.platform
                    )?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        RunsCmd::Show { id, json } => {
            let conn = open_db()?;
            let r = runs::refresh_liveness(&conn, &id)?;
            let mut out = std::io::stdout().lock();
            if json {
                writeln!(out, "{}", run_json(&r))?;
            } else {
                writeln!(out, "run        {}", r.id)?;
                writeln!(out, "action     {}", r.action)?;
                writeln!(out, "platform   {}", r.platform)?;
                writeln!(out, "state      {}", r.state)?;
                if let Some(line) = child_line(&conn, &id)? {
                    writeln!(out, "tofu       {line}")?;
                }
                let destroy = r.action == runs::RunAction::Destroy;
                if let Ok(summary) =
                    crate::provision::supervisor::recorded_plan(&conn, &id, destroy)
                    && !summary.clusters.is_empty()
                {
                    let mut summary = summary;
                    if let Ok(config) =
                        crate::domain::platform::PlatformConfig::parse(&r.config_toml)
                    {
                        summary.add_warnings(&config);
                    }
                    writeln!(out, "plan")?;
                    for l in summary.render().lines() {
                        writeln!(out, "  {l}")?;
                    }
                }
                writeln!(out, "started    {} UTC", timefmt::date_time(r.created_ms))?;
                if let Some(f) = r.finished_ms {
                    writeln!(
                        out,
                        "finished   {} UTC (took {})",
                        timefmt::date_time(f),
                        timefmt::duration(f - r.created_ms)
                    )?;
                }
                if let Some(p) = &r.config_path {
                    writeln!(out, "config     {p}")?;
                }
                writeln!(out, "workspace  {}", r.workspace)?;
                writeln!(out, "events     {}", runs::event_count(&conn, &id)?)?;
                if let Some(e) = &r.error {
                    writeln!(out, "error      {e}")?;
                }
                if let Some(n) = &r.next_step {
                    writeln!(out, "next       {n}")?;
                }
            }
            Ok(exit_for(r.state))
        }
        RunsCmd::Attach { id } => {
            let conn = open_db()?;
            runs::get_run(&conn, &id)?;
            let detach = install_sigint_flag();
            let end = follow(&conn, &id, 0, &mut |e| print_event(e, false), || {
                detach.load(Ordering::SeqCst)
            })?;
            match end {
                Some(r) => {
                    print_end(&r);
                    // A supervisor killed with -9 leaves OpenTofu running: say so until it ends.
                    let mut said = false;
                    while let Some(line) = child_line(&conn, &id)? {
                        if !said {
                            println!("{line}");
                            said = true;
                        }
                        if detach.load(Ordering::SeqCst) {
                            return Ok(ExitCode::SUCCESS);
                        }
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    if said {
                        println!("OpenTofu has exited.");
                    }
                    Ok(exit_for(r.state))
                }
                None => {
                    eprintln!(
                        "detached; run {id} continues. Follow it again with `openova runs attach {id}`."
                    );
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        RunsCmd::Logs {
            id,
            follow: live,
            json,
        } => {
            let conn = open_db()?;
            runs::get_run(&conn, &id)?;
            if live {
                let detach = install_sigint_flag();
                let end = follow(&conn, &id, 0, &mut |e| print_event(e, json), || {
                    detach.load(Ordering::SeqCst)
                })?;
                return Ok(end.map(|r| exit_for(r.state)).unwrap_or(ExitCode::SUCCESS));
            }
            let mut after = 0;
            loop {
                let page = runs::events_after(&conn, &id, after, runs::MAX_EVENTS_PAGE)?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for e in &page {
                    print_event(e, json);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        RunsCmd::Cancel { id } => {
            let conn = open_db()?;
            let run = runs::refresh_liveness(&conn, &id)?;
            if run.state.is_terminal()
                && let Some((pid, step)) = runs::live_child(&conn, &id)?
            {
                return cancel_orphan(&conn, &id, pid, &step);
            }
            crate::provision::launch::request_cancel(&conn, &id)?;
            println!(
                "Asked run {id} to stop: OpenTofu is being interrupted gracefully and will release its state lock. Follow with `openova runs attach {id}`."
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// "OpenTofu still running (pid N) — wait or cancel" while a run's OpenTofu process lives
/// on after its supervisor ended.
fn child_line(conn: &Connection, id: &str) -> color_eyre::Result<Option<String>> {
    let run = runs::get_run(conn, id)?;
    let supervisor_alive =
        run.supervisor_pid.is_some_and(runs::pid_alive) && !run.state.is_terminal();
    Ok(runs::live_child(conn, id)?
        .filter(|_| !supervisor_alive)
        .map(|(pid, step)| {
            format!(
                "OpenTofu still running (pid {pid}, tofu {step}) — wait or cancel (`openova runs cancel {id}`); it holds the state lock until it exits"
            )
        }))
}

/// Stops an OpenTofu process whose supervisor is gone: SIGINT first (it saves the state and
/// releases the lock), SIGTERM only if it is still running after the grace period.
fn cancel_orphan(conn: &Connection, id: &str, pid: i64, step: &str) -> CmdResult {
    use nix::sys::signal::{Signal, kill};
    crate::provision::launch::interrupt(
        conn,
        crate::provision::launch::Interrupt {
            id,
            pid,
            whom: "OpenTofu",
            note: &format!("cancel: sent SIGINT to the orphaned tofu {step} (pid {pid})"),
            data: serde_json::json!({ "cancel": true, "pid": pid }),
        },
    )?;
    let target = nix::unistd::Pid::from_raw(i32::try_from(pid)?);
    println!(
        "Sent SIGINT to OpenTofu (pid {pid}, tofu {step}); waiting for it to stop and release the state lock..."
    );
    let grace = Duration::from_secs(60);
    let started = std::time::Instant::now();
    while runs::live_child(conn, id)?.is_some() {
        if started.elapsed() >= grace {
            kill(target, Signal::SIGTERM)
                .wrap_err_with(|| format!("signalling OpenTofu (pid {pid})"))?;
            println!(
                "OpenTofu did not stop within {}s of SIGINT: sent SIGTERM.",
                grace.as_secs()
            );
            return Ok(ExitCode::FAILURE);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = runs::clear_child(conn, id);
    println!("OpenTofu (pid {pid}) has stopped.");
    Ok(ExitCode::SUCCESS)
}

fn supervise(id: &str) -> CmdResult {
    let _guard = crate::telemetry::init(crate::telemetry::LogTarget::File);
    let state = crate::provision::supervisor::supervise(id)?;
    Ok(exit_for(state))
}

pub(crate) fn open_db() -> color_eyre::Result<Connection> {
    crate::paths::ensure_state_dir().wrap_err("creating the state directory")?;
    Ok(runs::open(&crate::paths::database())?)
}

/// 0 for a run that succeeded, 130 for a cancelled one (as a shell reports Ctrl-C), 1 otherwise
/// once ended; 0 while it is still live (for `show`).
pub(crate) fn exit_for(state: RunState) -> ExitCode {
    match state {
        RunState::Succeeded => ExitCode::SUCCESS,
        RunState::Cancelled => ExitCode::from(130),
        RunState::Failed | RunState::Interrupted => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    }
}

static SIGINT_SEEN: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: std::ffi::c_int) {
    SIGINT_SEEN.store(true, Ordering::SeqCst);
}

/// Ctrl-C while following a run only raises this flag (the caller decides: detach, or ask
/// whether to cancel); the run belongs to its supervisor. Installed with nix's `sigaction`.
pub(crate) fn install_sigint_flag() -> &'static AtomicBool {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let act = SigAction::new(
        SigHandler::Handler(on_sigint),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic (async-signal-safe).
    unsafe {
        let _ = sigaction(Signal::SIGINT, &act);
    }
    &SIGINT_SEEN
}

pub(crate) fn print_event(e: &EventRecord, json: bool) {
    let mut out = std::io::stdout().lock();
    if json {
        let raw: serde_json::Value =
            serde_json::from_str(&e.raw).unwrap_or(serde_json::Value::String(e.raw.clone()));
        let doc = serde_json::json!({
            "seq": e.seq, "at": timefmt::rfc3339(e.at_ms), "phase": e.phase, "kind": e.kind,
            "level": e.level, "message": e.message, "raw": raw,
        });
        let _ = writeln!(out, "{doc}");
    } else {
        let _ = writeln!(out, "{}", format_event(e));
    }
    let _ = out.flush();
}

/// One human line: time, phase, level marker and OpenTofu's message.
pub fn format_event(e: &EventRecord) -> String {
    let marker = match e.level.as_str() {
        "error" => "ERROR ",
        "warn" => "warn  ",
        _ => "",
    };
    let mut line = format!(
        "{} {:<10} {marker}{}",
        timefmt::clock(e.at_ms),
        e.phase,
        e.message
    );
    // A diagnostic's detail is where the useful part of an error is.
    if e.kind == "diagnostic"
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.raw)
        && let Some(detail) = v
            .pointer("/diagnostic/detail")
            .and_then(serde_json::Value::as_str)
        && !detail.is_empty()
    {
        for l in detail.lines() {
            line.push_str("\n                      ");
            line.push_str(l);
        }
    }
    line
}

pub(crate) fn print_end(r: &RunRecord) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "\nrun {} {}", r.id, r.state);
    if let Some(e) = &r.error {
        let _ = writeln!(out, "{e}");
    }
    if let Some(n) = &r.next_step {
        let _ = writeln!(out, "next: {n}");
    }
}

fn run_json(r: &RunRecord) -> serde_json::Value {
    serde_json::json!({
        "id": r.id, "action": r.action.as_str(), "state": r.state.as_str(), "platform": r.platform,
        "configPath": r.config_path, "workspace": r.workspace,
        "createdAt": timefmt::rfc3339(r.created_ms), "finishedAt": r.finished_ms.map(timefmt::rfc3339),
        "supervisorPid": r.supervisor_pid, "error": r.error, "nextStep": r.next_step,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_event_diagnostic_shows_detail_lines() {
        let e = EventRecord {
            seq: 1,
            at_ms: 0,
            phase: "apply".into(),
            kind: "diagnostic".into(),
            level: "error".into(),
            message: "Error: server type cx99 not found".into(),
            raw: r#"{"diagnostic":{"severity":"error","summary":"server type cx99 not found","detail":"no such type in fsn1"}}"#.into(),
        };
        let s = format_event(&e);
        assert!(s.starts_with("00:00:00 apply      ERROR Error: server type cx99 not found"));
        assert!(s.contains("no such type in fsn1"));
    }
}
