//! Costs paid per OpenTofu line during a run: parsing a `-json` message, recording it in SQLite,
//! and the progress screen folding a large apply's log and drawing it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

use openova::provision::events::parse_line;
use openova::store::runs::{self, EventRecord, NewRun, RunAction};
use openova::tui::bootstrap::progress::ProgressScreen;
use openova::tui::theme::Theme;

fn main() {
    divan::main();
}

const APPLY_COMPLETE: &str = r#"{"@level":"info","@message":"hcloud_server.control_plane[0]: Creation complete after 41s [id=1002]","@module":"tofu.ui","@timestamp":"2026-01-02T10:00:41.000000Z","hook":{"resource":{"addr":"hcloud_server.control_plane[0]","module":"","resource":"hcloud_server.control_plane[0]","implied_provider":"hcloud","resource_type":"hcloud_server","resource_name":"control_plane","resource_key":0},"action":"create","id_key":"id","id_value":"1002","elapsed_seconds":41},"type":"apply_complete"}"#;

#[divan::bench]
fn parse_apply_complete_line() -> openova::provision::events::TofuEvent {
    parse_line(divan::black_box(APPLY_COMPLETE))
}

/// One recorded event: what the supervisor pays per line OpenTofu prints.
#[divan::bench]
fn append_event_to_sqlite(bencher: divan::Bencher) {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let conn = match runs::open(&dir.path().join("bench.db")) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let run = NewRun {
        id: "bench".into(),
        action: RunAction::Apply,
        platform: "acme".into(),
        config_toml: String::new(),
        config_path: None,
        workspace: String::new(),
        options_json: "{}".into(),
    };
    if let Err(e) = runs::insert_run(&conn, &run) {
        panic!("{e}");
    }
    bencher.bench_local(|| {
        runs::append_event(
            &conn,
            "bench",
            "apply",
            "apply_complete",
            "info",
            "hcloud_server.control_plane[0]: Creation complete after 41s [id=1002]",
            APPLY_COMPLETE,
        )
    });
}

/// A large apply: 500 resources, each start/progress/complete.
fn big_apply() -> Vec<EventRecord> {
    let mut out = Vec::new();
    let mut seq = 0;
    for i in 0..500 {
        for (kind, msg) in [
            ("apply_start", "Creating..."),
            ("apply_progress", "Still creating... [10s elapsed]"),
            ("apply_complete", "Creation complete after 12s"),
        ] {
            seq += 1;
            let addr = format!("hcloud_server.worker[{i}]");
            out.push(EventRecord {
                seq,
                at_ms: seq * 10,
                phase: "apply".into(),
                kind: kind.into(),
                level: "info".into(),
                message: format!("{addr}: {msg}"),
                raw: format!(
                    r#"{{"@level":"info","@message":"{addr}: {msg}","type":"{kind}","hook":{{"resource":{{"addr":"{addr}"}},"action":"create","elapsed_seconds":12}}}}"#
                ),
            });
        }
    }
    out
}

#[divan::bench]
fn progress_fold_1500_events(bencher: divan::Bencher) {
    let events = big_apply();
    bencher.bench_local(|| {
        let mut s = ProgressScreen::new("bench");
        for e in &events {
            s.apply_event(e);
        }
        s
    });
}

#[divan::bench]
fn progress_render_120x40_500_resources(bencher: divan::Bencher) {
    let mut s = ProgressScreen::new("bench");
    for e in &big_apply() {
        s.apply_event(e);
    }
    s.set_now(20_000);
    let theme = match Theme::builtin("default") {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let mut term = match ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    bencher.bench_local(|| {
        let _ = term.draw(|f| s.render(f, f.area(), &theme));
    });
}
