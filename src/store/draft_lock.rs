//! Owns who has a draft open. A wizard takes a draft's lock when it opens the draft and releases
//! it when it exits; a second wizard finds the lock and asks its operator what to do. Saves are
//! compare-and-set: only the lock's owner saves, and only over the version it last saw.
//!
//! A lock is stale, and taken without asking, only when it names this host and its process is
//! gone (or its pid now belongs to another process: the recorded start time differs). A lock
//! from another host is never assumed stale: that wizard may be alive behind a dropped ssh link.

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::{Store, StoreError};

/// A wizard process as a lock records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockOwner {
    /// Random per wizard process: tells this wizard's lock from any other's, even one with the
    /// same pid on another host.
    pub token: String,
    pub pid: i64,
    pub host: String,
    /// The process's start (boot id and start time), so a reused pid is not taken for it.
    pub started: String,
}

impl LockOwner {
    /// This process.
    pub fn this_process() -> LockOwner {
        let pid = i64::from(std::process::id());
        LockOwner {
            token: rand::random::<[u8; 12]>()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            pid,
            host: this_host(),
            started: process_start(pid).unwrap_or_default(),
        }
    }
}

/// The wizard holding a lock, as the operator is told about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    pub pid: i64,
    pub host: String,
    /// Unix seconds.
    pub since: i64,
}

impl LockHolder {
    /// "pid 4242 on bastion-1 since 10:02 UTC".
    pub fn describe(&self) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp(self.since)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        format!(
            "pid {} on {} since {:02}:{:02} UTC",
            self.pid,
            self.host,
            t.hour(),
            t.minute()
        )
    }
}

/// What asking for a draft's lock found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAttempt {
    /// The lock is this wizard's now; `version` is the draft's stored version. `stale` names a
    /// dead wizard whose lock was replaced.
    Acquired {
        version: i64,
        stale: Option<LockHolder>,
    },
    /// Another wizard that may be alive has the draft open.
    Held(LockHolder),
}

/// What a compare-and-set save did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    /// Written; the draft is at `version` now.
    Saved { version: i64 },
    /// Nothing written: another wizard holds the lock now (`None`: nobody does, e.g. it was
    /// released by a wizard that had taken it over).
    LockLost(Option<LockHolder>),
    /// Nothing written: the stored draft is newer than the version this save was made from.
    Newer { stored: i64 },
}

/// This host's name (the kernel's, as `hostname` prints it).
pub fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this host".to_owned())
}

/// The start of process `pid` as `<boot id>:<start time in clock ticks>`, or `None` when no
/// such process exists.
pub fn process_start(pid: i64) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: fields follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    // Field 22 of stat is the start time; `rest` begins at field 3.
    let start = rest.split_whitespace().nth(19)?;
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    Some(format!("{}:{start}", boot.trim()))
}

/// Whether a lock recorded on this host belongs to a process that is gone.
fn stale_here(pid: i64, started: &str) -> bool {
    if std::fs::metadata("/proc/self/stat").is_err() {
        // No procfs: only the pid can be asked about.
        return !super::runs::pid_alive(pid);
    }
    process_start(pid).as_deref() != Some(started)
}

struct LockRow {
    owner: String,
    holder: LockHolder,
    started: String,
}

fn lock_row(conn: &rusqlite::Connection, id: i64) -> rusqlite::Result<Option<LockRow>> {
    conn.query_row(
        "SELECT owner, pid, host, since, started FROM draft_locks WHERE draft_id = ?1",
        [id],
        |r| {
            Ok(LockRow {
                owner: r.get(0)?,
                holder: LockHolder {
                    pid: r.get(1)?,
                    host: r.get(2)?,
                    since: r.get(3)?,
                },
                started: r.get(4)?,
            })
        },
    )
    .optional()
}

fn draft_version(conn: &rusqlite::Connection, id: i64) -> Result<i64, StoreError> {
    conn.query_row("SELECT version FROM drafts WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or(StoreError::NoSuchDraft(id))
}

fn write_lock(tx: &Transaction<'_>, id: i64, me: &LockOwner) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO draft_locks(draft_id, owner, pid, host, started, since)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(draft_id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid,
           host = excluded.host, started = excluded.started, since = excluded.since",
        params![
            id,
            me.token,
            me.pid,
            me.host,
            me.started,
            time::OffsetDateTime::now_utc().unix_timestamp()
        ],
    )?;
    Ok(())
}

impl Store {
    /// Take draft `id`'s lock unless a wizard that may be alive holds it.
    pub fn lock_draft(&self, id: i64, me: &LockOwner) -> Result<LockAttempt, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let version = draft_version(&tx, id)?;
        let stale = match lock_row(&tx, id)? {
            None => None,
            Some(row) if row.owner == me.token => None,
            Some(row) if row.holder.host == me.host && stale_here(row.holder.pid, &row.started) => {
                Some(row.holder)
            }
            Some(row) => return Ok(LockAttempt::Held(row.holder)),
        };
        write_lock(&tx, id, me)?;
        tx.commit()?;
        if let Some(old) = &stale {
            tracing::info!(draft = id, stale = %old.describe(), "took a stale draft lock");
        }
        Ok(LockAttempt::Acquired { version, stale })
    }

    /// Take draft `id`'s lock whoever holds it; returns the draft's version. The previous
    /// holder finds out at its next save.
    pub fn take_over_draft(&self, id: i64, me: &LockOwner) -> Result<i64, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let version = draft_version(&tx, id)?;
        write_lock(&tx, id, me)?;
        tx.commit()?;
        Ok(version)
    }

    /// Give draft `id`'s lock up, if this wizard still holds it.
    pub fn release_draft(&self, id: i64, me: &LockOwner) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM draft_locks WHERE draft_id = ?1 AND owner = ?2",
            params![id, me.token],
        )?;
        Ok(())
    }

    /// Whether `me` holds draft `id`'s lock.
    pub fn holds_draft(&self, id: i64, me: &LockOwner) -> Result<bool, StoreError> {
        Ok(lock_row(&self.conn, id)?.is_some_and(|r| r.owner == me.token))
    }

    /// Who holds draft `id`'s lock, if anyone.
    pub fn draft_lock(&self, id: i64) -> Result<Option<LockHolder>, StoreError> {
        Ok(lock_row(&self.conn, id)?.map(|r| r.holder))
    }

    /// Replace a draft's contents, only while `me` holds its lock and the stored version is
    /// still `version` (the one this wizard loaded or last saved). One small write per change.
    pub fn save_draft(
        &self,
        id: i64,
        me: &LockOwner,
        version: i64,
        title: &str,
        data: &str,
        progress: u8,
    ) -> Result<SaveOutcome, StoreError> {
        let saved: Option<i64> = self
            .conn
            .query_row(
                "UPDATE drafts SET title = ?4, data = ?5, progress = ?6, updated_at = ?7,
                   version = version + 1
                 WHERE id = ?1 AND version = ?3
                   AND EXISTS (SELECT 1 FROM draft_locks WHERE draft_id = ?1 AND owner = ?2)
                 RETURNING version",
                params![
                    id,
                    me.token,
                    version,
                    title,
                    data,
                    progress,
                    time::OffsetDateTime::now_utc().unix_timestamp()
                ],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(version) = saved {
            return Ok(SaveOutcome::Saved { version });
        }
        // Nothing written; say why (the draft gone is an error of its own).
        let stored = draft_version(&self.conn, id)?;
        match lock_row(&self.conn, id)? {
            Some(row) if row.owner == me.token => Ok(SaveOutcome::Newer { stored }),
            other => Ok(SaveOutcome::LockLost(other.map(|r| r.holder))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(token: &str, pid: i64) -> LockOwner {
        LockOwner {
            token: token.into(),
            pid,
            host: this_host(),
            started: process_start(pid).unwrap_or_default(),
        }
    }

    /// A file database: locks matter between connections (two wizards).
    fn two_stores() -> (tempfile::TempDir, Store, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openova.db");
        let a = Store::open(&path).unwrap();
        let b = Store::open(&path).unwrap();
        (dir, a, b)
    }

    fn dead_pid() -> i64 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = i64::from(child.id());
        child.wait().unwrap();
        pid
    }

    #[test]
    fn draft_lock_second_wizard_finds_it_held_with_pid_host_and_since() {
        let (_dir, a, b) = two_stores();
        let id = a.create_draft("acme", "{}", 0).unwrap();
        let me = LockOwner::this_process();
        assert_eq!(
            a.lock_draft(id, &me).unwrap(),
            LockAttempt::Acquired {
                version: 0,
                stale: None
            }
        );
        // The same wizard asking again keeps it.
        assert!(matches!(
            a.lock_draft(id, &me).unwrap(),
            LockAttempt::Acquired { .. }
        ));
        let other = owner("other", me.pid);
        let LockAttempt::Held(holder) = b.lock_draft(id, &other).unwrap() else {
            panic!("a live wizard's lock was taken");
        };
        assert_eq!(holder.pid, me.pid);
        assert_eq!(holder.host, this_host());
        assert!(
            holder
                .describe()
                .starts_with(&format!("pid {} on {} since ", me.pid, this_host())),
            "{}",
            holder.describe()
        );
        // Released at exit: then the other wizard gets it.
        a.release_draft(id, &me).unwrap();
        assert!(matches!(
            b.lock_draft(id, &other).unwrap(),
            LockAttempt::Acquired { .. }
        ));
    }

    #[test]
    fn draft_lock_of_a_dead_pid_on_this_host_is_taken_silently() {
        let (_dir, a, b) = two_stores();
        let id = a.create_draft("acme", "{}", 0).unwrap();
        let pid = dead_pid();
        let gone = LockOwner {
            token: "gone".into(),
            pid,
            host: this_host(),
            started: "boot:12345".into(),
        };
        a.lock_draft(id, &gone).unwrap();
        let me = LockOwner::this_process();
        let LockAttempt::Acquired { stale, .. } = b.lock_draft(id, &me).unwrap() else {
            panic!("the lock of a dead process was not taken");
        };
        assert_eq!(stale.map(|h| h.pid), Some(pid));
        assert_eq!(b.draft_lock(id).unwrap().unwrap().pid, me.pid);
    }

    #[test]
    fn draft_lock_of_a_reused_pid_is_stale_but_another_host_is_never() {
        let (_dir, a, b) = two_stores();
        let id = a.create_draft("acme", "{}", 0).unwrap();
        let me = LockOwner::this_process();
        // This very pid, but recorded with another start time: the pid was reused.
        let reused = LockOwner {
            token: "old".into(),
            started: "another-boot:1".into(),
            ..me.clone()
        };
        a.lock_draft(id, &reused).unwrap();
        assert!(matches!(
            b.lock_draft(id, &me).unwrap(),
            LockAttempt::Acquired { stale: Some(_), .. }
        ));
        // A dead-looking pid on another host may be a live wizard behind a dropped link.
        let remote = LockOwner {
            token: "remote".into(),
            pid: dead_pid(),
            host: "bastion-1".into(),
            started: "x".into(),
        };
        b.take_over_draft(id, &remote).unwrap();
        let LockAttempt::Held(h) = a.lock_draft(id, &me).unwrap() else {
            panic!("another host's lock was taken without asking");
        };
        assert_eq!(h.host, "bastion-1");
    }

    #[test]
    fn draft_save_refuses_an_old_version_and_a_lost_lock() {
        let (_dir, a, b) = two_stores();
        let id = a.create_draft("acme", "{}", 0).unwrap();
        let me = LockOwner::this_process();
        a.lock_draft(id, &me).unwrap();
        assert_eq!(
            a.save_draft(id, &me, 0, "Acme", "{\"v\":1}", 1).unwrap(),
            SaveOutcome::Saved { version: 1 }
        );
        // A save made from version 0 again (the stored draft is at 1) writes nothing.
        assert_eq!(
            a.save_draft(id, &me, 0, "Acme", "{\"v\":\"old\"}", 1)
                .unwrap(),
            SaveOutcome::Newer { stored: 1 }
        );
        assert_eq!(a.load_draft(id).unwrap().unwrap().data, "{\"v\":1}");
        // Another wizard takes it over and saves; the first one's next save is refused.
        let other = owner("other", me.pid);
        assert_eq!(b.take_over_draft(id, &other).unwrap(), 1);
        assert_eq!(
            b.save_draft(id, &other, 1, "Acme East", "{\"v\":2}", 1)
                .unwrap(),
            SaveOutcome::Saved { version: 2 }
        );
        let lost = a
            .save_draft(id, &me, 1, "Acme West", "{\"v\":3}", 1)
            .unwrap();
        let SaveOutcome::LockLost(Some(holder)) = lost else {
            panic!("{lost:?}");
        };
        assert_eq!(holder.pid, other.pid);
        let d = a.load_draft(id).unwrap().unwrap();
        assert_eq!(
            (d.summary.title.as_str(), d.data.as_str()),
            ("Acme East", "{\"v\":2}")
        );
        // Releasing a lock one no longer holds leaves the holder's alone.
        a.release_draft(id, &me).unwrap();
        assert!(b.draft_lock(id).unwrap().is_some());
    }

    #[test]
    fn draft_delete_drops_its_lock() {
        let s = Store::open_in_memory().unwrap();
        let id = s.create_draft("acme", "{}", 0).unwrap();
        s.lock_draft(id, &LockOwner::this_process()).unwrap();
        s.delete_draft(id).unwrap();
        assert!(s.draft_lock(id).unwrap().is_none());
    }
}
