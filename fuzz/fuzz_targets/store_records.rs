//! Records read back from SQLite: a draft's JSON (which an older or newer openova, or a disk
//! error, may have left in any shape) goes through the same path as resuming it, including
//! drawing every wizard screen; run rows with arbitrary column values are listed and read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openova::store::Store;
use openova::store::runs;
use openova::tui::bootstrap::export;
use openova::tui::bootstrap::model::{Form, Model, Step};
use openova::tui::bootstrap::screens;
use openova::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const STEPS: [Step; 6] = [
    Step::Organization,
    Step::Credentials,
    Step::Provider,
    Step::Regions,
    Step::Components,
    Step::Review,
];

fn draft(data: &str) {
    let store = Store::open_in_memory().expect("in-memory store");
    let id = store.create_draft("fuzz", data, 0).expect("insert draft");
    let draft = store
        .load_draft(id)
        .expect("read draft")
        .expect("draft exists");
    assert_eq!(
        draft.data, data,
        "draft data changed on the way through SQLite"
    );
    let Ok(form) = serde_json::from_str::<Form>(&draft.data) else {
        return;
    };
    let mut model = Model::new(form, Some(id), 0);
    let _ = model.all_errors();
    let _ = model.title();
    let _ = model.progress();
    let _ = model.cluster_names();
    let _ = model.monthly_cost();
    let _ = export::to_config(&model);
    let _ = export::platform_toml(&model);
    let theme = Theme::mono();
    for (w, h) in [(80, 24), (20, 5)] {
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        for step in STEPS {
            model.form.step = step;
            term.draw(|f| screens::render(&model, f, &theme))
                .expect("draw");
        }
    }
}

fn run_row(fields: &[&[u8]]) {
    let text =
        |i: usize| String::from_utf8_lossy(fields.get(i).copied().unwrap_or(b"")).into_owned();
    let conn = rusqlite::Connection::open_in_memory().expect("in-memory db");
    runs::ensure_schema(&conn).expect("schema");
    let id = text(0);
    runs::insert_run(
        &conn,
        &runs::NewRun {
            id: id.clone(),
            action: runs::RunAction::Plan,
            platform: text(3),
            config_toml: text(4),
            config_path: None,
            workspace: text(5),
            options_json: text(6),
        },
    )
    .expect("insert run");
    // What a crash mid-write, a downgrade or a hand edit can leave in the row. The schema's
    // CHECK constraints refuse unknown actions and states, so those updates may fail; the
    // other columns are updated on their own so they are exercised either way.
    let _ = conn.execute(
        "UPDATE runs SET action = ?1, state = ?2 WHERE id = ?3",
        rusqlite::params![text(1), text(2), id],
    );
    conn.execute(
        "UPDATE runs SET supervisor_pid = ?1, heartbeat_ms = ?2, error = ?3, next_step = ?4 WHERE id = ?5",
        rusqlite::params![
            i64::from_le_bytes(pad(fields.get(7).copied().unwrap_or(b""))),
            i64::from_le_bytes(pad(fields.get(8).copied().unwrap_or(b""))),
            text(9),
            text(10),
            id
        ],
    )
    .expect("columns without constraints take any value");
    let _ = runs::append_event(&conn, &id, "apply", "log", "info", &text(11), &text(11));
    if let Err(e) = runs::get_run(&conn, &id) {
        let _ = e.to_string();
    }
    let _ = runs::list_runs(&conn, 10);
    let _ = runs::active_run(&conn);
    let _ = runs::events_after(&conn, &id, 0, 10);
    if let Ok(run) = runs::get_run(&conn, &id) {
        let _ = runs::supervisor_lost(&run, 0);
        let _ = runs::refresh_liveness(&conn, &id);
    }
}

fn pad(b: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (o, i) in out.iter_mut().zip(b) {
        *o = *i;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((0, rest)) => {
            let fields: Vec<&[u8]> = rest.split(|b| *b == 0xFE).collect();
            run_row(&fields);
        }
        Some((_, rest)) => draft(&String::from_utf8_lossy(rest)),
        None => {}
    }
});
