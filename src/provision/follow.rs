//! Owns following a provisioning run from any process: the events recorded after a point, as
//! they arrive, until the run ends. `openova runs attach|logs -f` and `openova bootstrap` print
//! them; the run itself belongs to its detached supervisor, so stopping to follow changes nothing.

use std::time::Duration;

use rusqlite::Connection;

use crate::store::runs::{self, EventRecord, RunRecord, RunStoreError};

/// Events read per query while catching up.
const PAGE: usize = 1000;

/// How often a live run is asked for new events.
const POLL: Duration = Duration::from_millis(200);

/// Hand every event after `after` to `on_event` as it arrives, until the run ends
/// (`Some(run)`) or `stop()` says so (`None`). Every event recorded before the end is handed
/// over, whenever it was written.
pub fn follow(
    conn: &Connection,
    id: &str,
    mut after: i64,
    on_event: &mut dyn FnMut(&EventRecord),
    stop: impl Fn() -> bool,
) -> Result<Option<RunRecord>, RunStoreError> {
    loop {
        let page = runs::events_after(conn, id, after, PAGE)?;
        for e in &page {
            on_event(e);
            after = e.seq;
        }
        if page.len() == PAGE {
            continue;
        }
        let run = runs::refresh_liveness(conn, id)?;
        if run.state.is_terminal() {
            // Drain what was written between the last read and the end.
            loop {
                let rest = runs::events_after(conn, id, after, PAGE)?;
                if rest.is_empty() {
                    break;
                }
                for e in &rest {
                    on_event(e);
                    after = e.seq;
                }
            }
            return Ok(Some(run));
        }
        if stop() {
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
}
