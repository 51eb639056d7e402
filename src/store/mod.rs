//! Owns the local SQLite database (`openova.db`): opening it in WAL mode, applying each
//! submodule's migrations, and setting aside files that are corrupt or written by a newer
//! openova instead of overwriting them.

pub mod draft_lock;
pub mod drafts;
pub mod runs;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension};

/// The on-disk format generation, kept in `PRAGMA user_version`. A file with a larger number was
/// written by a newer openova; this binary must not touch it.
pub const FORMAT: i64 = 1;

/// A submodule's ordered schema steps. Steps are append-only: a released step never changes.
pub struct Migrations {
    pub module: &'static str,
    pub steps: &'static [&'static str],
}

/// Every submodule with tables. New submodules add their line here.
pub const REGISTERED: &[Migrations] = &[
    Migrations {
        module: "drafts",
        steps: drafts::MIGRATIONS,
    },
    Migrations {
        module: "runs",
        steps: runs::MIGRATIONS,
    },
];

/// How long a connection waits for another process's write (the supervisor appends events while
/// the wizard and `openova runs attach` read) before a query fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the state directory {path}: {source}")]
    StateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database {path}: migration {module} step {step} failed: {source}")]
    Migrate {
        path: PathBuf,
        module: &'static str,
        step: usize,
        source: rusqlite::Error,
    },
    #[error(
        "database {path} is unusable ({reason}) and could not be moved aside to {target}: {source}"
    )]
    SetAside {
        path: PathBuf,
        target: PathBuf,
        reason: String,
        source: std::io::Error,
    },
    #[error("database {path} {reason}; it was left as it is")]
    Unusable { path: PathBuf, reason: String },
    #[error("database query failed: {0}")]
    Query(#[from] rusqlite::Error),
    #[error("draft {0} does not exist")]
    NoSuchDraft(i64),
}

/// A database file that was moved out of the way, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    pub original: PathBuf,
    pub moved_to: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for SetAside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}; it was moved to {} untouched and a new database was started",
            self.original.display(),
            self.reason,
            self.moved_to.display()
        )
    }
}

pub struct Store {
    conn: Connection,
    set_aside: Option<SetAside>,
}

/// Why an existing file cannot be used.
enum Unusable {
    Corrupt(String),
    Newer(String),
}

impl Unusable {
    fn reason(self) -> String {
        match self {
            Unusable::Corrupt(r) => format!("is not a readable openova database ({r})"),
            Unusable::Newer(r) => format!("was written by a newer openova ({r})"),
        }
    }
}

impl Store {
    /// Open (or create) the database at `path`. A corrupt file or one from a newer openova is
    /// renamed to `<name>.corrupt-<UTC timestamp>` (with its -wal/-shm companions) and a fresh
    /// database is created; `set_aside()` then says what happened so the caller can tell the
    /// operator.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        match Self::open_checked(path)? {
            Ok(conn) => Ok(Store {
                conn,
                set_aside: None,
            }),
            Err(unusable) => {
                let reason = unusable.reason();
                let moved_to = set_aside(path, &reason)?;
                tracing::warn!(path = %path.display(), moved_to = %moved_to.display(), %reason, "database set aside");
                let conn = match Self::try_open(path)? {
                    Ok(conn) => conn,
                    Err(Unusable::Corrupt(r) | Unusable::Newer(r)) => {
                        return Err(StoreError::Open {
                            path: path.to_path_buf(),
                            source: rusqlite::Error::InvalidParameterName(r),
                        });
                    }
                };
                Ok(Store {
                    conn,
                    set_aside: Some(SetAside {
                        original: path.to_path_buf(),
                        moved_to,
                        reason,
                    }),
                })
            }
        }
    }

    /// Open (or create) the database at `path` like [`Store::open`], but leave an unusable file
    /// exactly as it is and fail instead: for processes that only look at or continue runs
    /// (`openova runs`, the supervisor), which must not start a fresh database behind the
    /// operator's back.
    pub fn open_in_place(path: &Path) -> Result<Store, StoreError> {
        match Self::open_checked(path)? {
            Ok(conn) => Ok(Store {
                conn,
                set_aside: None,
            }),
            Err(unusable) => Err(StoreError::Unusable {
                path: path.to_path_buf(),
                reason: unusable.reason(),
            }),
        }
    }

    /// The state directory made private, the file opened and checked, its mode 0600.
    fn open_checked(path: &Path) -> Result<Result<Connection, Unusable>, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::paths::create_private_dir(dir).map_err(|source| StoreError::StateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let opened = Self::try_open(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Drafts and runs describe the operator's infrastructure; other users on a bastion
            // must not read them.
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(opened)
    }

    /// A private in-memory database with all migrations applied (tests, dry runs).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: PathBuf::from(":memory:"),
            source,
        })?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|source| StoreError::Open {
                path: PathBuf::from(":memory:"),
                source,
            })?;
        migrate(&conn, Path::new(":memory:"))?;
        Ok(Store {
            conn,
            set_aside: None,
        })
    }

    /// Set when `open` had to move an unusable file aside.
    pub fn set_aside(&self) -> Option<&SetAside> {
        self.set_aside.as_ref()
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The connection alone, for a caller that keeps nothing but runs (see [`runs::open`]).
    pub fn into_conn(self) -> Connection {
        self.conn
    }

    /// The outer error is an I/O or locking failure (report it, touch nothing); the inner one
    /// means the file itself is unusable.
    fn try_open(path: &Path) -> Result<Result<Connection, Unusable>, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Reading the schema catches a file that is not SQLite or has a damaged header, without
        // the full scan of `PRAGMA quick_check` (drafts open on every start; the budget is 10 ms).
        let check: Result<i64, _> =
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0));
        match check {
            Ok(_) => {}
            Err(e) if is_corruption(&e) => return Ok(Err(Unusable::Corrupt(e.to_string()))),
            Err(e) => return Err(open_err(e)),
        }
        // Read-only checks first: switching to WAL rewrites the header, and a file this binary
        // must not use has to stay byte-for-byte as it was.
        let version: i64 = match conn.query_row("PRAGMA user_version", [], |r| r.get(0)) {
            Ok(v) => v,
            Err(e) if is_corruption(&e) => return Ok(Err(Unusable::Corrupt(e.to_string()))),
            Err(e) => return Err(open_err(e)),
        };
        if version > FORMAT {
            return Ok(Err(Unusable::Newer(format!(
                "format {version}, this openova reads up to {FORMAT}"
            ))));
        }
        if let Some(reason) = newer_module(&conn).map_err(open_err)? {
            return Ok(Err(Unusable::Newer(reason)));
        }
        let mode: Result<String, _> = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0));
        match mode {
            Ok(_) => {}
            Err(e) if is_corruption(&e) => return Ok(Err(Unusable::Corrupt(e.to_string()))),
            Err(e) => return Err(open_err(e)),
        }
        // NORMAL is durable across process crashes in WAL mode (only power loss can lose the last
        // commit), and keeps each keystroke's save cheap.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        // `run_events` rows must belong to a run.
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        migrate(&conn, path)?;
        Ok(Ok(conn))
    }
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    )
}

/// A module whose recorded version is beyond the steps this binary knows.
fn newer_module(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let exists: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_migrations'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(None);
    }
    let mut stmt = conn.prepare("SELECT module, version FROM schema_migrations")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (module, version) = row?;
        let known = REGISTERED
            .iter()
            .find(|m| m.module == module)
            .map(|m| m.steps.len() as i64);
        match known {
            Some(k) if version > k => {
                return Ok(Some(format!(
                    "{module} schema {version}, this openova knows up to {k}"
                )));
            }
            None => return Ok(Some(format!("unknown table group `{module}`"))),
            _ => {}
        }
    }
    Ok(None)
}

fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let err = |module, step, source| StoreError::Migrate {
        path: path.to_path_buf(),
        module,
        step,
        source,
    };
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    )
    .map_err(|e| err("schema_migrations", 0, e))?;
    for m in REGISTERED {
        let done: i64 = conn
            .query_row(
                "SELECT version FROM schema_migrations WHERE module = ?1",
                [m.module],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| err(m.module, 0, e))?
            .unwrap_or(0);
        for (i, sql) in m.steps.iter().enumerate().skip(done as usize) {
            let step = i + 1;
            // Each step and its bookkeeping commit together, so a crash never leaves a half step.
            let tx = conn
                .unchecked_transaction()
                .map_err(|e| err(m.module, step, e))?;
            tx.execute_batch(sql).map_err(|e| err(m.module, step, e))?;
            tx.execute(
                "INSERT INTO schema_migrations(module, version) VALUES (?1, ?2)
                 ON CONFLICT(module) DO UPDATE SET version = excluded.version",
                rusqlite::params![m.module, step as i64],
            )
            .map_err(|e| err(m.module, step, e))?;
            tx.commit().map_err(|e| err(m.module, step, e))?;
        }
    }
    // Only write when needed: an unchanged database must open without a single write, which
    // keeps start-up free of fsyncs (the first frame has a 10 ms budget).
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| err("user_version", 0, e))?;
    if version != FORMAT {
        conn.pragma_update(None, "user_version", FORMAT)
            .map_err(|e| err("user_version", 0, e))?;
    }
    Ok(())
}

fn set_aside(path: &Path, reason: &str) -> Result<PathBuf, StoreError> {
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| "unknown-time".into());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "openova.db".into());
    let mut target = path.with_file_name(format!("{name}.corrupt-{stamp}"));
    let mut n = 1;
    while target.exists() {
        target = path.with_file_name(format!("{name}.corrupt-{stamp}-{n}"));
        n += 1;
    }
    std::fs::rename(path, &target).map_err(|source| StoreError::SetAside {
        path: path.to_path_buf(),
        target: target.clone(),
        reason: reason.to_string(),
        source,
    })?;
    for suffix in ["-wal", "-shm"] {
        let companion = path.with_file_name(format!("{name}{suffix}"));
        if companion.exists() {
            let moved = target.with_file_name(format!(
                "{}{suffix}",
                target
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            ));
            let _ = std::fs::rename(&companion, moved);
        }
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_open_fresh_file_uses_wal_and_applies_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openova.db");
        let store = Store::open(&path).unwrap();
        let mode: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let v: i64 = store
            .conn()
            .query_row(
                "SELECT version FROM schema_migrations WHERE module='drafts'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(v, drafts::MIGRATIONS.len() as i64);
        assert!(store.set_aside().is_none());
    }

    #[test]
    fn store_open_twice_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openova.db");
        let id = {
            let store = Store::open(&path).unwrap();
            store.create_draft("acme", "{}", 1).unwrap()
        };
        let store = Store::open(&path).unwrap();
        assert!(store.load_draft(id).unwrap().is_some());
    }

    /// A directory holding `openova.db` that is not SQLite at all, and the bytes it holds.
    fn garbage_db() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openova.db");
        let garbage = b"this is not sqlite at all, but it must not be lost".repeat(100);
        std::fs::write(&path, &garbage).unwrap();
        (dir, path, garbage)
    }

    #[test]
    fn store_open_garbage_file_sets_it_aside_untouched() {
        let (_dir, path, garbage) = garbage_db();
        let store = Store::open(&path).unwrap();
        let aside = store.set_aside().expect("reported").clone();
        assert!(
            aside
                .moved_to
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("openova.db.corrupt-")
        );
        assert!(
            std::fs::read(&aside.moved_to).unwrap() == garbage,
            "the set-aside file changed"
        );
        assert!(
            aside
                .to_string()
                .contains("not a readable openova database")
        );
        assert!(store.list_drafts().unwrap().is_empty());
    }

    #[test]
    fn store_open_in_place_garbage_file_fails_and_leaves_it_alone() {
        let (dir, path, garbage) = garbage_db();
        let err = Store::open_in_place(&path).err().expect("refused");
        let msg = err.to_string();
        assert!(
            msg.contains("openova.db") && msg.contains("not a readable openova database"),
            "{msg}"
        );
        assert!(std::fs::read(&path).unwrap() == garbage, "the file changed");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["openova.db"], "nothing set aside or created");
        // A good file opens in place like with `open`, migrations applied.
        let fresh = dir.path().join("fresh.db");
        let store = Store::open_in_place(&fresh).unwrap();
        assert!(store.list_drafts().unwrap().is_empty());
        assert!(
            crate::store::runs::list_runs(store.conn(), 10)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn store_open_future_version_file_sets_it_aside_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openova.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch("CREATE TABLE future(x); PRAGMA user_version = 99;")
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let store = Store::open(&path).unwrap();
        let aside = store.set_aside().expect("reported");
        assert!(aside.reason.contains("newer openova"), "{}", aside.reason);
        assert!(
            std::fs::read(&aside.moved_to).unwrap() == before,
            "the set-aside file changed"
        );
    }

    #[test]
    fn store_open_newer_module_schema_sets_it_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openova.db");
        {
            let s = Store::open(&path).unwrap();
            s.conn()
                .execute(
                    "UPDATE schema_migrations SET version = 50 WHERE module='drafts'",
                    [],
                )
                .unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert!(
            store
                .set_aside()
                .unwrap()
                .reason
                .contains("drafts schema 50")
        );
    }
}
