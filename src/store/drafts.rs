//! Owns wizard drafts in the database: several can exist, each saved whole on every field change,
//! listed with age and progress, deletable. The wizard's fields travel as an opaque JSON document
//! that never contains a secret (secrets live in the secret store, keyed by draft id).
//!
//! A wizard editing a draft holds its lock (`draft_locks`: who, where, since when), and every
//! save is a compare-and-set on the draft's `version`: a save by a wizard that lost the lock, or
//! one made from an older version than the stored one, writes nothing and says why.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

pub const MIGRATIONS: &[&str] = &[
    "CREATE TABLE drafts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        data TEXT NOT NULL,
        progress INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    )",
    // A random id per database, so keyring entries of drafts in different state directories
    // (another operator, a test, a restored backup) never collide.
    "CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    // Bumped by every save: a save names the version it was made from and is refused when the
    // stored one is newer.
    "ALTER TABLE drafts ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
    // The wizard that has a draft open. `owner` is random per wizard process; `started` is the
    // process's start (boot id and start time), so a lock left by a dead process on this host,
    // or by a process whose pid was reused, is recognised as stale.
    "CREATE TABLE draft_locks (
        draft_id INTEGER PRIMARY KEY REFERENCES drafts(id) ON DELETE CASCADE,
        owner TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        started TEXT NOT NULL,
        since INTEGER NOT NULL
    )",
];

/// A draft as listed on the resume screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftSummary {
    pub id: i64,
    pub title: String,
    /// Screens completed, 0–6.
    pub progress: u8,
    pub created_at: i64,
    /// Unix seconds of the last change.
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub summary: DraftSummary,
    pub data: String,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Store {
    pub fn create_draft(&self, title: &str, data: &str, progress: u8) -> Result<i64, StoreError> {
        let t = now();
        self.conn.execute(
            "INSERT INTO drafts(title, data, progress, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![title, data, progress, t],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// A new draft with the same title and values as draft `id`; returns the new id.
    pub fn copy_draft(&self, id: i64) -> Result<i64, StoreError> {
        let d = self.load_draft(id)?.ok_or(StoreError::NoSuchDraft(id))?;
        self.create_draft(&d.summary.title, &d.data, d.summary.progress)
    }

    /// Most recently changed first.
    pub fn list_drafts(&self) -> Result<Vec<DraftSummary>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, title, progress, created_at, updated_at FROM drafts ORDER BY updated_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([], summary)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn load_draft(&self, id: i64) -> Result<Option<Draft>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, title, progress, created_at, updated_at, data FROM drafts WHERE id = ?1",
                [id],
                |r| {
                    Ok(Draft {
                        summary: summary(r)?,
                        data: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    /// This database's random instance id (created on first use).
    pub fn instance_id(&self) -> Result<String, StoreError> {
        let existing: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM store_meta WHERE key = 'instance_id'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            return Ok(id);
        }
        let id: String = rand::random::<[u8; 8]>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.conn.execute(
            "INSERT OR IGNORE INTO store_meta(key, value) VALUES ('instance_id', ?1)",
            [&id],
        )?;
        Ok(self.conn.query_row(
            "SELECT value FROM store_meta WHERE key = 'instance_id'",
            [],
            |r| r.get(0),
        )?)
    }

    pub fn delete_draft(&self, id: i64) -> Result<(), StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM drafts WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(StoreError::NoSuchDraft(id));
        }
        Ok(())
    }
}

fn summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<DraftSummary> {
    Ok(DraftSummary {
        id: r.get(0)?,
        title: r.get(1)?,
        progress: r.get::<_, i64>(2)?.clamp(0, 6) as u8,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

/// "just now", "5 min ago", "3 h ago", "2 days ago".
pub fn age(updated_at: i64, now: i64) -> String {
    let s = (now - updated_at).max(0);
    match s {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ if s < 2 * 86_400 => "1 day ago".into(),
        _ => format!("{} days ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_several_coexist_and_list_newest_first() {
        let s = Store::open_in_memory().unwrap();
        let a = s.create_draft("alpha", "{\"a\":1}", 1).unwrap();
        let b = s.create_draft("beta", "{}", 3).unwrap();
        let list = s.list_drafts().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].id, b);
        assert_eq!(list[1].id, a);
        assert_eq!(list[0].progress, 3);
    }

    #[test]
    fn drafts_save_replaces_data_and_progress() {
        let s = Store::open_in_memory().unwrap();
        let id = s.create_draft("alpha", "{}", 0).unwrap();
        let me = super::super::draft_lock::LockOwner::this_process();
        s.lock_draft(id, &me).unwrap();
        s.save_draft(id, &me, 0, "alpha2", "{\"x\":2}", 4).unwrap();
        let d = s.load_draft(id).unwrap().unwrap();
        assert_eq!(d.data, "{\"x\":2}");
        assert_eq!(d.summary.title, "alpha2");
        assert_eq!(d.summary.progress, 4);
    }

    #[test]
    fn drafts_copy_is_a_new_draft_with_the_same_values() {
        let s = Store::open_in_memory().unwrap();
        let id = s.create_draft("alpha", "{\"x\":1}", 2).unwrap();
        let copy = s.copy_draft(id).unwrap();
        assert_ne!(copy, id);
        let d = s.load_draft(copy).unwrap().unwrap();
        assert_eq!(
            (d.summary.title.as_str(), d.data.as_str()),
            ("alpha", "{\"x\":1}")
        );
        assert!(matches!(
            s.copy_draft(999),
            Err(StoreError::NoSuchDraft(999))
        ));
    }

    #[test]
    fn drafts_delete_removes_only_that_draft() {
        let s = Store::open_in_memory().unwrap();
        let a = s.create_draft("a", "{}", 0).unwrap();
        let b = s.create_draft("b", "{}", 0).unwrap();
        s.delete_draft(a).unwrap();
        assert!(s.load_draft(a).unwrap().is_none());
        assert!(s.load_draft(b).unwrap().is_some());
        assert!(matches!(s.delete_draft(a), Err(StoreError::NoSuchDraft(_))));
    }

    #[test]
    fn drafts_instance_id_is_stable_per_database_and_differs_between_them() {
        let a = Store::open_in_memory().unwrap();
        let b = Store::open_in_memory().unwrap();
        assert_eq!(a.instance_id().unwrap(), a.instance_id().unwrap());
        assert_ne!(a.instance_id().unwrap(), b.instance_id().unwrap());
    }

    #[test]
    fn drafts_age_reads_naturally() {
        assert_eq!(age(1000, 1010), "just now");
        assert_eq!(age(0, 300), "5 min ago");
        assert_eq!(age(0, 7200), "2 h ago");
        assert_eq!(age(0, 86_400 * 3), "3 days ago");
    }
}
