//! Provisioning runs in SQLite: the `runs` table (one row per run, its state machine, the
//! supervisor's PID and heartbeat) and the append-only `run_events` log.
//!
//! Functions take a `&rusqlite::Connection` so they work on whatever connection the store hands
//! out; a process that only keeps runs (the supervisor, `openova runs`) opens it with [`open`].
//! Nothing here ever holds a secret: the run row keeps the platform.toml text, which names
//! secrets only by reference.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

/// Schema of the runs tables, for the store's migration list. Each entry is one migration.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE IF NOT EXISTS runs (
    id              TEXT PRIMARY KEY,
    action          TEXT NOT NULL CHECK (action IN ('plan','apply','destroy')),
    state           TEXT NOT NULL,
    platform        TEXT NOT NULL,
    config_toml     TEXT NOT NULL,
    config_path     TEXT,
    workspace       TEXT NOT NULL,
    options_json    TEXT NOT NULL DEFAULT '{}',
    supervisor_pid  INTEGER,
    heartbeat_ms    INTEGER,
    created_ms      INTEGER NOT NULL,
    finished_ms     INTEGER,
    error           TEXT,
    next_step       TEXT
);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created_ms DESC);
CREATE INDEX IF NOT EXISTS runs_state ON runs (state);
CREATE TABLE IF NOT EXISTS run_events (
    run_id   TEXT NOT NULL REFERENCES runs (id),
    seq      INTEGER NOT NULL,
    at_ms    INTEGER NOT NULL,
    phase    TEXT NOT NULL,
    kind     TEXT NOT NULL,
    level    TEXT NOT NULL,
    message  TEXT NOT NULL,
    raw      TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS run_events_no_update BEFORE UPDATE ON run_events
BEGIN SELECT RAISE(ABORT, 'run_events is append-only'); END;
CREATE TRIGGER IF NOT EXISTS run_events_no_delete BEFORE DELETE ON run_events
BEGIN SELECT RAISE(ABORT, 'run_events is append-only'); END;
"#,
    // The OpenTofu process a supervisor is running, so a supervisor killed with -9 does not
    // leave it unseen: readers report it until it exits, and `runs cancel` can reach it.
    r#"
CREATE TABLE IF NOT EXISTS run_children (
    run_id      TEXT PRIMARY KEY REFERENCES runs (id),
    pid         INTEGER NOT NULL,
    step        TEXT NOT NULL,
    started_ms  INTEGER NOT NULL
) WITHOUT ROWID;
"#,
];

/// A supervisor that has not written a heartbeat for this long is treated as dead.
pub const HEARTBEAT_STALE: Duration = Duration::from_secs(20);

/// Upper bound of one page of events, so a reader never loads a whole huge log at once.
pub const MAX_EVENTS_PAGE: usize = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum RunStoreError {
    #[error("opening the run database: {0}")]
    Open(#[from] super::StoreError),
    #[error("{what} in the run database: {source}")]
    Query {
        what: &'static str,
        source: rusqlite::Error,
    },
    #[error("no run with id {0}")]
    NotFound(String),
    #[error("run {id} has an unknown {field} '{value}' in the database")]
    Corrupt {
        id: String,
        field: &'static str,
        value: String,
    },
}

type Result<T> = std::result::Result<T, RunStoreError>;

fn q(what: &'static str) -> impl FnOnce(rusqlite::Error) -> RunStoreError {
    move |source| RunStoreError::Query { what, source }
}

/// What a run does with the infrastructure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAction {
    Plan,
    Apply,
    Destroy,
}

impl RunAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RunAction::Plan => "plan",
            RunAction::Apply => "apply",
            RunAction::Destroy => "destroy",
        }
    }
}

impl fmt::Display for RunAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for RunAction {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "plan" => Ok(RunAction::Plan),
            "apply" => Ok(RunAction::Apply),
            "destroy" => Ok(RunAction::Destroy),
            other => Err(other.to_owned()),
        }
    }
}

/// The run state machine: pending → init → plan → apply → handover → succeeded, with failed,
/// cancelled and interrupted (the supervisor died) as the other ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunState {
    Pending,
    Init,
    Plan,
    Apply,
    Handover,
    Succeeded,
    Failed,
    Cancelled,
    Interrupted,
}

impl RunState {
    pub const ALL: [RunState; 9] = [
        RunState::Pending,
        RunState::Init,
        RunState::Plan,
        RunState::Apply,
        RunState::Handover,
        RunState::Succeeded,
        RunState::Failed,
        RunState::Cancelled,
        RunState::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Pending => "pending",
            RunState::Init => "init",
            RunState::Plan => "plan",
            RunState::Apply => "apply",
            RunState::Handover => "handover",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
            RunState::Interrupted => "interrupted",
        }
    }

    /// A run in a terminal state never changes again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunState::Succeeded | RunState::Failed | RunState::Cancelled | RunState::Interrupted
        )
    }

    /// Whether the state machine allows `self → next`. Terminal states are final; the working
    /// phases only move forward, and any live state may end.
    pub fn can_move_to(self, next: RunState) -> bool {
        if self.is_terminal() {
            return false;
        }
        if next.is_terminal() {
            return true;
        }
        let rank = |s: RunState| match s {
            RunState::Pending => 0,
            RunState::Init => 1,
            RunState::Plan => 2,
            RunState::Apply => 3,
            RunState::Handover => 4,
            _ => 5,
        };
        rank(next) > rank(self)
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for RunState {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        RunState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| s.to_owned())
    }
}

/// A run to record.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub id: String,
    pub action: RunAction,
    /// Display name of the platform (organization / cluster), for `runs list`.
    pub platform: String,
    pub config_toml: String,
    pub config_path: Option<String>,
    pub workspace: String,
    /// Supervisor options (tofu path, timeouts, hand-over flags) as JSON.
    pub options_json: String,
}

/// A recorded run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: String,
    pub action: RunAction,
    pub state: RunState,
    pub platform: String,
    pub config_toml: String,
    pub config_path: Option<String>,
    pub workspace: String,
    pub options_json: String,
    pub supervisor_pid: Option<i64>,
    pub heartbeat_ms: Option<i64>,
    pub created_ms: i64,
    pub finished_ms: Option<i64>,
    pub error: Option<String>,
    /// What the operator does next, e.g. the `openova tui manage --context …` command.
    pub next_step: Option<String>,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub seq: i64,
    pub at_ms: i64,
    /// The run phase the event belongs to (`init`, `plan`, `apply`, `handover`, `supervisor`).
    pub phase: String,
    /// OpenTofu's message type, `unparsed`, `stderr`, or one of ours (`state`, `note`).
    pub kind: String,
    pub level: String,
    pub message: String,
    /// The line as received (OpenTofu's JSON) or a JSON document of ours.
    pub raw: String,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A fresh run id: 12 lowercase hex characters (short enough to type, unique enough per host).
pub fn new_run_id() -> String {
    let bytes: [u8; 6] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Open the database for run bookkeeping and hand out its connection. It opens as the store
/// opens it ([`super::Store::open_in_place`]: WAL so the supervisor writes while readers follow,
/// a busy timeout so short write contention waits instead of failing, migrations applied once
/// and recorded); a file that is unusable is an error and is left untouched.
pub fn open(path: &Path) -> Result<Connection> {
    Ok(super::Store::open_in_place(path)?.into_conn())
}

pub fn insert_run(conn: &Connection, run: &NewRun) -> Result<()> {
    conn.execute(
        "INSERT INTO runs (id, action, state, platform, config_toml, config_path, workspace, options_json, created_ms)
         VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            run.id,
            run.action.as_str(),
            run.platform,
            run.config_toml,
            run.config_path,
            run.workspace,
            run.options_json,
            now_ms()
        ],
    )
    .map_err(q("recording a new run"))?;
    Ok(())
}

const RUN_COLUMNS: &str = "id, action, state, platform, config_toml, config_path, workspace, options_json, supervisor_pid, heartbeat_ms, created_ms, finished_ms, error, next_step";

fn row_to_run(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecordRaw> {
    Ok(RunRecordRaw {
        id: row.get(0)?,
        action: row.get(1)?,
        state: row.get(2)?,
        platform: row.get(3)?,
        config_toml: row.get(4)?,
        config_path: row.get(5)?,
        workspace: row.get(6)?,
        options_json: row.get(7)?,
        supervisor_pid: row.get(8)?,
        heartbeat_ms: row.get(9)?,
        created_ms: row.get(10)?,
        finished_ms: row.get(11)?,
        error: row.get(12)?,
        next_step: row.get(13)?,
    })
}

struct RunRecordRaw {
    id: String,
    action: String,
    state: String,
    platform: String,
    config_toml: String,
    config_path: Option<String>,
    workspace: String,
    options_json: String,
    supervisor_pid: Option<i64>,
    heartbeat_ms: Option<i64>,
    created_ms: i64,
    finished_ms: Option<i64>,
    error: Option<String>,
    next_step: Option<String>,
}

impl RunRecordRaw {
    fn typed(self) -> Result<RunRecord> {
        let action = self
            .action
            .parse()
            .map_err(|value| RunStoreError::Corrupt {
                id: self.id.clone(),
                field: "action",
                value,
            })?;
        let state = self.state.parse().map_err(|value| RunStoreError::Corrupt {
            id: self.id.clone(),
            field: "state",
            value,
        })?;
        Ok(RunRecord {
            id: self.id,
            action,
            state,
            platform: self.platform,
            config_toml: self.config_toml,
            config_path: self.config_path,
            workspace: self.workspace,
            options_json: self.options_json,
            supervisor_pid: self.supervisor_pid,
            heartbeat_ms: self.heartbeat_ms,
            created_ms: self.created_ms,
            finished_ms: self.finished_ms,
            error: self.error,
            next_step: self.next_step,
        })
    }
}

pub fn get_run(conn: &Connection, id: &str) -> Result<RunRecord> {
    let raw = conn
        .query_row(
            &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
            [id],
            row_to_run,
        )
        .optional()
        .map_err(q("reading a run"))?;
    match raw {
        Some(raw) => raw.typed(),
        None => Err(RunStoreError::NotFound(id.to_owned())),
    }
}

/// The newest runs first, at most `limit`.
pub fn list_runs(conn: &Connection, limit: usize) -> Result<Vec<RunRecord>> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM runs ORDER BY created_ms DESC, id LIMIT ?1"
        ))
        .map_err(q("listing runs"))?;
    let rows = stmt
        .query_map([limit as i64], row_to_run)
        .map_err(q("listing runs"))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(q("listing runs"))?.typed()?);
    }
    Ok(out)
}

/// The newest run that has not ended, if any (a wizard attaches to it instead of starting another).
pub fn active_run(conn: &Connection) -> Result<Option<RunRecord>> {
    let runs = list_runs(conn, 50)?;
    Ok(runs.into_iter().find(|r| !r.state.is_terminal()))
}

/// Move a run to `next`. Refused (returns `false`) when the state machine does not allow it,
/// e.g. a cancelled run never becomes succeeded. Terminal states also set `finished_ms`.
pub fn transition(
    conn: &Connection,
    id: &str,
    next: RunState,
    error: Option<&str>,
) -> Result<bool> {
    let current = get_run(conn, id)?.state;
    if !current.can_move_to(next) {
        return Ok(false);
    }
    let finished = next.is_terminal().then(now_ms);
    // The WHERE on the old state makes the check-and-set atomic against a concurrent writer.
    let n = conn
        .execute(
            "UPDATE runs SET state = ?1, error = COALESCE(?2, error), finished_ms = COALESCE(?3, finished_ms)
             WHERE id = ?4 AND state = ?5",
            params![next.as_str(), error, finished, id, current.as_str()],
        )
        .map_err(q("updating a run's state"))?;
    Ok(n == 1)
}

pub fn set_supervisor(conn: &Connection, id: &str, pid: u32) -> Result<()> {
    conn.execute(
        "UPDATE runs SET supervisor_pid = ?1, heartbeat_ms = ?2 WHERE id = ?3",
        params![pid as i64, now_ms(), id],
    )
    .map_err(q("recording the supervisor"))?;
    Ok(())
}

/// Records the OpenTofu process a run's supervisor just started (`step` is `plan`, `apply`…).
pub fn set_child(conn: &Connection, id: &str, pid: u32, step: &str) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO run_children (run_id, pid, step, started_ms) VALUES (?1, ?2, ?3, ?4)",
        params![id, pid as i64, step, now_ms()],
    )
    .map_err(q("recording the OpenTofu process"))?;
    Ok(())
}

/// Forgets the run's OpenTofu process once it has ended.
pub fn clear_child(conn: &Connection, id: &str) -> Result<()> {
    conn.execute("DELETE FROM run_children WHERE run_id = ?1", params![id])
        .map_err(q("clearing the OpenTofu process"))?;
    Ok(())
}

/// The OpenTofu process of a run that is still alive: `(pid, step)`. A recorded process that
/// has ended (or whose pid now belongs to something that is not OpenTofu) is `None`.
pub fn live_child(conn: &Connection, id: &str) -> Result<Option<(i64, String)>> {
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT pid, step FROM run_children WHERE run_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(q("reading the OpenTofu process"))?;
    Ok(row.filter(|(pid, _)| pid_alive(*pid) && is_tofu(*pid)))
}

/// Whether process `pid` runs an OpenTofu binary (guards against a reused pid).
fn is_tofu(pid: i64) -> bool {
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmd) => {
            let argv0 = cmd.split(|b| *b == 0).next().unwrap_or_default();
            String::from_utf8_lossy(argv0).contains("tofu")
        }
        // No procfs: trust the recorded pid.
        Err(_) => true,
    }
}

pub fn heartbeat(conn: &Connection, id: &str) -> Result<()> {
    conn.execute(
        "UPDATE runs SET heartbeat_ms = ?1 WHERE id = ?2",
        params![now_ms(), id],
    )
    .map_err(q("writing the supervisor heartbeat"))?;
    Ok(())
}

pub fn set_next_step(conn: &Connection, id: &str, next: &str) -> Result<()> {
    conn.execute(
        "UPDATE runs SET next_step = ?1 WHERE id = ?2",
        params![next, id],
    )
    .map_err(q("recording the next step"))?;
    Ok(())
}

/// Append one event; returns its sequence number (1-based, gapless per run).
pub fn append_event(
    conn: &Connection,
    run_id: &str,
    phase: &str,
    kind: &str,
    level: &str,
    message: &str,
    raw: &str,
) -> Result<i64> {
    let seq: i64 = conn
        .query_row(
            "INSERT INTO run_events (run_id, seq, at_ms, phase, kind, level, message, raw)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM run_events WHERE run_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7)
             RETURNING seq",
            params![run_id, now_ms(), phase, kind, level, message, raw],
            |row| row.get(0),
        )
        .map_err(q("appending a run event"))?;
    Ok(seq)
}

/// Events with `seq > after`, oldest first, at most `limit` (capped at [`MAX_EVENTS_PAGE`]).
pub fn events_after(
    conn: &Connection,
    run_id: &str,
    after: i64,
    limit: usize,
) -> Result<Vec<EventRecord>> {
    let limit = limit.min(MAX_EVENTS_PAGE) as i64;
    let mut stmt = conn
        .prepare_cached(
            "SELECT seq, at_ms, phase, kind, level, message, raw FROM run_events
             WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .map_err(q("reading run events"))?;
    let rows = stmt
        .query_map(params![run_id, after, limit], |row| {
            Ok(EventRecord {
                seq: row.get(0)?,
                at_ms: row.get(1)?,
                phase: row.get(2)?,
                kind: row.get(3)?,
                level: row.get(4)?,
                message: row.get(5)?,
                raw: row.get(6)?,
            })
        })
        .map_err(q("reading run events"))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(q("reading run events"))
}

pub fn event_count(conn: &Connection, run_id: &str) -> Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM run_events WHERE run_id = ?1",
        [run_id],
        |row| row.get(0),
    )
    .map_err(q("counting run events"))
}

/// Whether a process with this PID exists (signal 0 probes without delivering anything).
pub fn pid_alive(pid: i64) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        // EPERM: it exists but belongs to someone else.
        Err(nix::errno::Errno::EPERM) => true,
        Err(_) => false,
    }
}

/// Whether the supervisor of a live-state run is gone: its process does not exist, or it has
/// not written a heartbeat within [`HEARTBEAT_STALE`] (a hung or zombie supervisor).
pub fn supervisor_lost(run: &RunRecord, now_ms: i64) -> bool {
    if run.state.is_terminal() {
        return false;
    }
    let Some(pid) = run.supervisor_pid else {
        // Never started: a pending run whose launcher died long ago.
        return now_ms - run.created_ms > HEARTBEAT_STALE.as_millis() as i64;
    };
    let stale = run
        .heartbeat_ms
        .is_none_or(|hb| now_ms - hb > HEARTBEAT_STALE.as_millis() as i64);
    stale || !pid_alive(pid)
}

/// Read a run and, if its supervisor is gone while the run is live, record it as interrupted.
pub fn refresh_liveness(conn: &Connection, id: &str) -> Result<RunRecord> {
    let run = get_run(conn, id)?;
    if supervisor_lost(&run, now_ms()) {
        let msg = "the supervisor process ended without finishing the run (machine restart or killed); \
                   the OpenTofu state may be locked — start the run again, and if OpenTofu reports a \
                   lock, follow its force-unlock hint";
        let tx = conn
            .unchecked_transaction()
            .map_err(q("marking a run interrupted"))?;
        if transition(conn, id, RunState::Interrupted, Some(msg))? {
            append_event(
                conn,
                id,
                "supervisor",
                "state",
                "error",
                "run interrupted: supervisor lost",
                r#"{"state":"interrupted"}"#,
            )?;
        }
        tx.commit().map_err(q("marking a run interrupted"))?;
        return get_run(conn, id);
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = open(&dir.path().join("t.db")).expect("open");
        (dir, conn)
    }

    fn new_run(conn: &Connection, id: &str) {
        insert_run(
            conn,
            &NewRun {
                id: id.into(),
                action: RunAction::Apply,
                platform: "acme".into(),
                config_toml: "x = 1".into(),
                config_path: None,
                workspace: "/tmp/ws".into(),
                options_json: "{}".into(),
            },
        )
        .expect("insert");
    }

    #[test]
    fn transition_forward_moves_and_terminal_is_final() {
        let (_d, conn) = db();
        new_run(&conn, "r1");
        assert!(transition(&conn, "r1", RunState::Init, None).unwrap());
        assert!(transition(&conn, "r1", RunState::Apply, None).unwrap());
        assert!(!transition(&conn, "r1", RunState::Plan, None).unwrap());
        assert!(transition(&conn, "r1", RunState::Cancelled, Some("by operator")).unwrap());
        assert!(!transition(&conn, "r1", RunState::Succeeded, None).unwrap());
        let run = get_run(&conn, "r1").unwrap();
        assert_eq!(run.state, RunState::Cancelled);
        assert_eq!(run.error.as_deref(), Some("by operator"));
        assert!(run.finished_ms.is_some());
    }

    #[test]
    fn append_event_sequence_is_gapless_and_reads_are_bounded() {
        let (_d, conn) = db();
        new_run(&conn, "r1");
        new_run(&conn, "r2");
        for i in 0..10 {
            let seq =
                append_event(&conn, "r1", "apply", "log", "info", &format!("m{i}"), "{}").unwrap();
            assert_eq!(seq, i + 1);
        }
        assert_eq!(
            append_event(&conn, "r2", "apply", "log", "info", "x", "{}").unwrap(),
            1
        );
        let page = events_after(&conn, "r1", 3, 4).unwrap();
        assert_eq!(
            page.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![4, 5, 6, 7]
        );
        assert_eq!(page[0].message, "m3");
    }

    #[test]
    fn run_events_update_or_delete_is_refused() {
        let (_d, conn) = db();
        new_run(&conn, "r1");
        append_event(&conn, "r1", "apply", "log", "info", "m", "{}").unwrap();
        assert!(
            conn.execute("UPDATE run_events SET message = 'x'", [])
                .is_err()
        );
        assert!(conn.execute("DELETE FROM run_events", []).is_err());
    }

    #[test]
    fn refresh_liveness_dead_supervisor_marks_interrupted() {
        let (_d, conn) = db();
        new_run(&conn, "r1");
        transition(&conn, "r1", RunState::Apply, None).unwrap();
        // A PID far above pid_max never exists.
        set_supervisor(&conn, "r1", 0x3fff_fff0).unwrap();
        let run = refresh_liveness(&conn, "r1").unwrap();
        assert_eq!(run.state, RunState::Interrupted);
        let events = events_after(&conn, "r1", 0, 10).unwrap();
        assert_eq!(events.last().map(|e| e.kind.as_str()), Some("state"));
    }

    #[test]
    fn refresh_liveness_live_supervisor_keeps_state() {
        let (_d, conn) = db();
        new_run(&conn, "r1");
        transition(&conn, "r1", RunState::Apply, None).unwrap();
        set_supervisor(&conn, "r1", std::process::id()).unwrap();
        assert_eq!(
            refresh_liveness(&conn, "r1").unwrap().state,
            RunState::Apply
        );
    }

    #[test]
    fn active_run_finds_newest_live_run() {
        let (_d, conn) = db();
        new_run(&conn, "r1");
        transition(&conn, "r1", RunState::Failed, None).unwrap();
        assert!(active_run(&conn).unwrap().is_none());
        new_run(&conn, "r2");
        assert_eq!(active_run(&conn).unwrap().map(|r| r.id), Some("r2".into()));
    }

    #[test]
    fn get_run_unknown_id_names_it() {
        let (_d, conn) = db();
        let err = get_run(&conn, "nope").unwrap_err();
        assert_eq!(err.to_string(), "no run with id nope");
    }
}
