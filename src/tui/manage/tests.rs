//! update() behaviour and golden screens (mono theme, fixed clock) for every pane and dialog at
//! 80×24 and 120×40.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::fixtures;
use super::model::{Connection, Dialog, Model, Pane, ScheduleChoice};
use super::update::{ClusterMsg, Effect, Msg, Request, When, update};
use crate::domain::health::Health;
use crate::tui::theme::Theme;

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

fn keys(model: &mut Model, s: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in s.chars() {
        effects.extend(update(model, ch(c)).effects);
    }
    effects
}

fn screen(model: &Model, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    let theme = Theme::mono();
    t.draw(|f| super::panes::render(model, f, &theme)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Snapshot a state at both sizes.
fn snap(name: &str, model: &Model) {
    insta::assert_snapshot!(format!("{name}__80x24"), screen(model, 80, 24));
    insta::assert_snapshot!(format!("{name}__120x40"), screen(model, 120, 40));
}

fn on(pane: Pane) -> Model {
    let mut m = fixtures::sample();
    m.pane = pane;
    m
}

// ---------------------------------------------------------------- snapshots

#[test]
fn snapshot_dashboard() {
    snap("dashboard__one_region", &fixtures::sample());
    snap("dashboard__two_regions", &fixtures::sample_two_regions());
}

#[test]
fn snapshot_fleet() {
    snap("fleet__three_clusters_one_drift", &fixtures::sample_fleet());
}

#[test]
fn snapshot_components() {
    snap("components__installed_only", &on(Pane::Components));
    let mut m = on(Pane::Components);
    keys(&mut m, "a");
    snap("components__all", &m);
    keys(&mut m, "/fer");
    snap("components__filtering", &m);
    let mut ro = on(Pane::Components);
    ro.readonly = true;
    keys(&mut ro, "a");
    snap("components__readonly", &ro);
}

#[test]
fn snapshot_upgrades_alerts_settings() {
    snap("upgrades__rollback_and_changelog", &on(Pane::Upgrades));
    let mut m = on(Pane::Upgrades);
    keys(&mut m, "j");
    snap("upgrades__grafana_selected", &m);
    snap("alerts__events", &on(Pane::Alerts));
    let mut s = fixtures::sample_two_regions();
    s.pane = Pane::Settings;
    snap("settings__two_contexts", &s);
}

#[test]
fn snapshot_honest_states() {
    let mut m = fixtures::sample();
    let c = m.cluster_mut();
    c.connection = Connection::Connecting;
    c.synced = false;
    c.components.clear();
    snap("state__connecting", &m);
    m.cluster_mut().connection = Connection::Unreachable {
        error: "connection refused (os error 111)".into(),
    };
    snap("state__unreachable", &m);
    m.cluster_mut().connection = Connection::CrdsMissing;
    snap("state__crds_missing", &m);
    m.cluster_mut().connection = Connection::Forbidden {
        verb: "list".into(),
        resource: "components.openova.io".into(),
    };
    snap("state__forbidden", &m);
    let mut stale = fixtures::sample();
    stale.cluster_mut().connection = Connection::Unreachable {
        error: "connection refused".into(),
    };
    snap("state__unreachable_with_last_known", &stale);
    let mut nomgr = fixtures::sample();
    nomgr.cluster_mut().manager_running = Some(false);
    snap("state__manager_not_running", &nomgr);
}

#[test]
fn snapshot_dialogs() {
    let mut m = on(Pane::Components);
    keys(&mut m, "a");
    m.components.selected = Some("ai-hub".into());
    keys(&mut m, "i");
    snap("dialog__install_ai_hub", &m);

    let mut m = on(Pane::Components);
    m.components.selected = Some("cnpg".into());
    keys(&mut m, "d");
    snap("dialog__uninstall_refused", &m);

    let mut m = on(Pane::Components);
    m.components.selected = Some("valkey".into());
    keys(&mut m, "d");
    snap("dialog__uninstall_confirm", &m);

    let mut m = fixtures::with_inference();
    m.pane = Pane::Components;
    m.components.selected = Some("kserve".into());
    keys(&mut m, "d");
    update(&mut m, key(KeyCode::Down));
    update(&mut m, ch(' '));
    snap("dialog__uninstall_with_dependencies", &m);

    let mut m = on(Pane::Components);
    m.components.selected = Some("grafana".into());
    update(&mut m, key(KeyCode::Enter));
    snap("dialog__details_grafana", &m);

    let mut m = on(Pane::Upgrades);
    keys(&mut m, "u");
    snap("dialog__confirm_upgrade", &m);

    let mut m = on(Pane::Upgrades);
    keys(&mut m, "s");
    update(&mut m, key(KeyCode::Tab));
    keys(&mut m, "2030-02-09 02:00");
    // The next opening depends on today; the snapshot shows a fixed one.
    if let Some(Dialog::Schedule(d)) = m.dialogs.last_mut() {
        d.window = Ok("Sun 2030-02-10 03:00 Europe/Berlin (02:00 UTC)".into());
    }
    snap("dialog__schedule", &m);

    let mut m = on(Pane::Upgrades);
    let c = m.cluster_mut().components.get_mut("cilium").unwrap();
    c.version = "1.16.3".into();
    c.scheduled = Some("2026-02-15 02:00 UTC".into());
    keys(&mut m, "c");
    snap("dialog__cancel_upgrade", &m);

    let mut m = on(Pane::Components);
    m.cluster_mut()
        .components
        .get_mut("grafana")
        .unwrap()
        .version = "11.3.1".into();
    m.components.selected = Some("grafana".into());
    keys(&mut m, "r");
    snap("dialog__retry", &m);

    let mut m = on(Pane::Dashboard);
    keys(&mut m, "?");
    snap("dialog__help", &m);

    let mut m = on(Pane::Components);
    keys(&mut m, "?");
    snap("dialog__help_components", &m);

    let mut m = on(Pane::Dashboard);
    keys(&mut m, ":ctx nowhere");
    update(&mut m, key(KeyCode::Enter));
    snap("dialog__command_error", &m);
}

// ---------------------------------------------------------------- update()

#[test]
fn install_with_dependency_writes_dependencies_first_and_tracks_progress() {
    let mut m = on(Pane::Components);
    keys(&mut m, "a");
    m.components.selected = Some("ferretdb".into());
    keys(&mut m, "i");
    let Some(Dialog::Install(d)) = m.dialogs.last() else {
        panic!("install dialog expected, got {:?}", m.dialogs)
    };
    // cnpg (and what it needs) is already installed: the dialog says so and installs nothing else.
    assert!(
        d.required
            .iter()
            .any(|(n, already)| n == "cnpg" && *already)
    );
    let effects = update(&mut m, key(KeyCode::Enter)).effects;
    assert_eq!(
        effects,
        vec![Effect::Install {
            cluster: 0,
            platform: "acme-corp".into(),
            components: vec![("ferretdb".into(), "1.24.0".into())]
        }]
    );
    assert!(m.dialogs.is_empty());
    assert!(m.cluster().pending.contains("ferretdb"));
    // The watcher reports progress, then health: the pending mark clears and the status says so.
    let mut f = fixtures::sample().cluster().components["cnpg"].clone();
    f.name = "ferretdb".into();
    f.health = Health::Installing;
    f.phase = "Installing".into();
    let out = update(
        &mut m,
        Msg::Cluster {
            cluster: 0,
            msg: ClusterMsg::ComponentChanged(Box::new(f.clone())),
        },
    );
    assert!(out.changed);
    assert!(m.cluster().pending.contains("ferretdb"));
    f.health = Health::Healthy;
    update(
        &mut m,
        Msg::Cluster {
            cluster: 0,
            msg: ClusterMsg::ComponentChanged(Box::new(f)),
        },
    );
    assert!(!m.cluster().pending.contains("ferretdb"));
    assert_eq!(
        m.status.as_deref(),
        Some("ferretdb is installed and healthy")
    );
}

#[test]
fn install_meta_platform_orders_missing_requirements_before_target() {
    let mut m = on(Pane::Components);
    keys(&mut m, "a");
    m.components.selected = Some("ai-hub".into());
    keys(&mut m, "i");
    // Tick the first optional (Neo4j), then move to Install.
    update(&mut m, key(KeyCode::Tab)); // wraps from Install to the first checkbox
    update(&mut m, ch(' '));
    update(&mut m, key(KeyCode::BackTab)); // back to Install
    let effects = update(&mut m, key(KeyCode::Enter)).effects;
    let Some(Effect::Install { components, .. }) = effects.first() else {
        panic!("install effect expected, got {effects:?}")
    };
    let names: Vec<&str> = components.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["knative", "kserve", "vllm", "milvus", "neo4j", "ai-hub"]
    );
}

#[test]
fn install_cancel_writes_nothing() {
    let mut m = on(Pane::Components);
    keys(&mut m, "a");
    m.components.selected = Some("ferretdb".into());
    keys(&mut m, "i");
    update(&mut m, key(KeyCode::Left)); // to Cancel
    let out = update(&mut m, key(KeyCode::Enter));
    assert!(out.effects.is_empty());
    assert!(m.dialogs.is_empty());
    assert!(m.cluster().pending.is_empty());
}

#[test]
fn uninstall_with_dependents_is_refused_and_lists_them() {
    let mut m = on(Pane::Components);
    m.components.selected = Some("cnpg".into());
    keys(&mut m, "d");
    let Some(Dialog::Uninstall(d)) = m.dialogs.last() else {
        panic!("uninstall dialog expected")
    };
    assert_eq!(d.would_break, ["grafana"]);
    let out = update(&mut m, ch('y'));
    assert!(out.effects.is_empty(), "refused uninstall must not write");
}

#[test]
fn uninstall_leaf_confirmed_writes_delete() {
    let mut m = on(Pane::Components);
    m.components.selected = Some("valkey".into());
    keys(&mut m, "d");
    let out = update(&mut m, ch('y'));
    assert_eq!(
        out.effects,
        vec![Effect::Uninstall {
            cluster: 0,
            platform: "acme-corp".into(),
            name: "valkey".into(),
            also_remove: Vec::new(),
        }]
    );
}

#[test]
fn uninstall_lists_unneeded_dependencies_unticked_and_writes_only_the_ticked_ones() {
    let mut m = fixtures::with_inference();
    m.pane = Pane::Components;
    m.components.selected = Some("kserve".into());
    keys(&mut m, "d");
    let Some(Dialog::Uninstall(d)) = m.dialogs.last() else {
        panic!("uninstall dialog expected, got {:?}", m.dialogs)
    };
    // Knative and Milvus were pulled in by KServe alone; Cilium is mandatory and stays out.
    let listed: Vec<(&str, bool, bool)> = d
        .deps
        .iter()
        .map(|x| (x.name.as_str(), x.holds_data, x.remove))
        .collect();
    assert_eq!(listed, [("knative", false, false), ("milvus", true, false)]);
    // Move to Milvus and tick it; Knative stays kept.
    update(&mut m, key(KeyCode::Down));
    update(&mut m, ch(' '));
    let out = update(&mut m, ch('y'));
    assert_eq!(
        out.effects,
        vec![Effect::Uninstall {
            cluster: 0,
            platform: "acme-corp".into(),
            name: "kserve".into(),
            also_remove: vec!["milvus".into()],
        }]
    );
}

#[test]
fn uninstall_keeps_every_dependency_unless_ticked() {
    let mut m = fixtures::with_inference();
    m.pane = Pane::Components;
    m.components.selected = Some("kserve".into());
    keys(&mut m, "d");
    let out = update(&mut m, key(KeyCode::Enter));
    let [Effect::Uninstall { also_remove, .. }] = out.effects.as_slice() else {
        panic!("uninstall expected, got {:?}", out.effects)
    };
    assert!(also_remove.is_empty());
}

#[test]
fn uninstall_does_not_offer_what_another_component_or_the_platform_needs() {
    let mut m = fixtures::with_inference();
    // Milvus is also selected by the Platform, Knative also required by another install.
    let c = m.cluster_mut();
    c.platform.as_mut().unwrap().selected.push("milvus".into());
    let mut other = c.components["knative"].clone();
    other.name = "kserve-extra".into();
    other.dependencies = vec!["knative".into()];
    c.components.insert(other.name.clone(), other);
    assert!(m.no_longer_needed("kserve").is_empty());
}

#[test]
fn uninstall_of_a_mandatory_component_is_refused_with_a_message_and_writes_nothing() {
    let mut m = on(Pane::Components);
    m.components.selected = Some("coraza".into());
    let out = update(&mut m, ch('d'));
    assert!(out.effects.is_empty());
    assert!(m.dialogs.is_empty(), "no dialog for a mandatory component");
    assert!(
        m.status
            .as_deref()
            .unwrap_or("")
            .contains("coraza is mandatory"),
        "{:?}",
        m.status
    );
}

#[test]
fn uninstall_dialog_marks_components_that_hold_data() {
    let mut m = on(Pane::Components);
    m.components.selected = Some("valkey".into());
    keys(&mut m, "d");
    let text = screen(&m, 80, 24);
    assert!(text.contains("valkey             ⚠ holds data"), "{text}");
}

#[test]
fn uninstall_dialog_with_many_dependencies_scrolls_to_the_focus_and_keeps_its_keys_at_80x24() {
    let mut m = fixtures::with_inference();
    m.pane = Pane::Components;
    m.components.selected = Some("kserve".into());
    keys(&mut m, "d");
    let Some(Dialog::Uninstall(d)) = m.dialogs.last_mut() else {
        panic!("uninstall dialog expected")
    };
    d.deps = (0..20)
        .map(|i| super::model::RemovableDep {
            name: format!("dep-{i:02}"),
            holds_data: false,
            remove: false,
        })
        .collect();
    for _ in 0..19 {
        update(&mut m, key(KeyCode::Down));
    }
    update(&mut m, ch(' '));
    let text = screen(&m, 80, 24);
    assert!(text.contains("› [x] dep-19"), "{text}");
    assert!(text.contains("y/Enter uninstall"), "{text}");
    assert!(text.contains("↑↓ more"), "{text}");
}

#[test]
fn readonly_refuses_every_write_and_says_why() {
    let mut m = on(Pane::Components);
    m.readonly = true;
    keys(&mut m, "a");
    for (sel, k) in [("ferretdb", 'i'), ("valkey", 'd'), ("grafana", 'u')] {
        m.components.selected = Some(sel.into());
        let out = update(&mut m, ch(k));
        assert!(out.effects.is_empty());
        assert!(
            m.dialogs.is_empty(),
            "{k} opened a dialog in read-only mode"
        );
        assert!(m.status.as_deref().unwrap_or("").contains("read-only"));
    }
    m.pane = Pane::Upgrades;
    for k in ['u', 's'] {
        assert!(update(&mut m, ch(k)).effects.is_empty());
        assert!(m.dialogs.is_empty());
    }
}

#[test]
fn upgrade_now_confirmed_sets_version() {
    let mut m = on(Pane::Upgrades);
    keys(&mut m, "u");
    let out = update(&mut m, ch('y'));
    assert_eq!(
        out.effects,
        vec![Effect::SetVersion {
            cluster: 0,
            platform: "acme-corp".into(),
            name: "cilium".into(),
            version: "1.16.3".into(),
            confirm_major: None,
        }]
    );
}

#[test]
fn schedule_bad_time_names_the_format_and_keeps_dialog() {
    let mut m = on(Pane::Upgrades);
    keys(&mut m, "s");
    update(&mut m, key(KeyCode::Tab));
    keys(&mut m, "tomorrow");
    let out = update(&mut m, key(KeyCode::Enter));
    assert!(out.effects.is_empty());
    let Some(Dialog::Schedule(d)) = m.dialogs.last() else {
        panic!("dialog must stay open")
    };
    assert!(
        d.error
            .as_deref()
            .unwrap_or("")
            .contains("YYYY-MM-DD HH:MM")
    );
}

#[test]
fn schedule_valid_time_writes_rfc3339() {
    let mut m = on(Pane::Upgrades);
    keys(&mut m, "s");
    update(&mut m, key(KeyCode::Tab));
    keys(&mut m, "2030-02-09 02:00");
    let out = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        out.effects,
        vec![Effect::ScheduleUpgrade {
            cluster: 0,
            platform: "acme-corp".into(),
            name: "cilium".into(),
            version: "1.16.3".into(),
            when: When::At("2030-02-09T02:00:00Z".into()),
            confirm_major: None,
        }]
    );
}

#[test]
fn schedule_past_time_is_refused_with_the_reason_and_nothing_written() {
    let mut m = on(Pane::Upgrades);
    keys(&mut m, "s");
    update(&mut m, key(KeyCode::Tab));
    keys(&mut m, "2020-02-09 02:00");
    let out = update(&mut m, key(KeyCode::Enter));
    assert!(out.effects.is_empty(), "{:?}", out.effects);
    let Some(Dialog::Schedule(d)) = m.dialogs.last() else {
        panic!("dialog must stay open")
    };
    assert!(
        d.error.as_deref().unwrap_or("").contains("in the past"),
        "{:?}",
        d.error
    );
}

#[test]
fn schedule_next_window_is_not_offered_without_a_window() {
    let mut m = on(Pane::Upgrades);
    if let Some(p) = m.cluster_mut().platform.as_mut() {
        p.window = None;
    }
    keys(&mut m, "s");
    let Some(Dialog::Schedule(d)) = m.dialogs.last() else {
        panic!("schedule dialog")
    };
    assert_eq!(d.choice, ScheduleChoice::At, "a time is asked first");
    assert!(screen(&m, 80, 24).contains("not offered"));
    // Choosing the window anyway is refused and says why; nothing is written.
    update(&mut m, key(KeyCode::Tab));
    let out = update(&mut m, key(KeyCode::Enter));
    assert!(out.effects.is_empty(), "{:?}", out.effects);
    let Some(Dialog::Schedule(d)) = m.dialogs.last() else {
        panic!("dialog must stay open")
    };
    assert!(
        d.error
            .as_deref()
            .unwrap_or("")
            .contains("no maintenance window"),
        "{:?}",
        d.error
    );
}

#[test]
fn schedule_next_window_writes_the_window_not_a_time() {
    let mut m = on(Pane::Upgrades);
    keys(&mut m, "s");
    let out = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        out.effects,
        vec![Effect::ScheduleUpgrade {
            cluster: 0,
            platform: "acme-corp".into(),
            name: "cilium".into(),
            version: "1.16.3".into(),
            when: When::MaintenanceWindow,
            confirm_major: None,
        }]
    );
}

#[test]
fn major_upgrade_asks_a_second_time_naming_the_jump_and_writes_it() {
    let mut m = on(Pane::Upgrades);
    // A major jump on the selected row: cilium 1.16.2 → 2.0.0.
    if let Some(c) = m.cluster_mut().components.get_mut("cilium") {
        c.available_upgrades = vec!["2.0.0".into()];
    }
    keys(&mut m, "u");
    let out = update(&mut m, ch('y'));
    assert!(
        out.effects.is_empty(),
        "the first yes writes nothing: {:?}",
        out.effects
    );
    assert!(screen(&m, 80, 24).contains("1→2"), "{}", screen(&m, 80, 24));
    // Declining the second question writes nothing either.
    let out = update(&mut m, ch('n'));
    assert!(out.effects.is_empty());
    assert!(m.dialogs.is_empty());
    keys(&mut m, "u");
    update(&mut m, ch('y'));
    let out = update(&mut m, ch('y'));
    assert_eq!(
        out.effects,
        vec![Effect::SetVersion {
            cluster: 0,
            platform: "acme-corp".into(),
            name: "cilium".into(),
            version: "2.0.0".into(),
            confirm_major: Some("1→2".into()),
        }]
    );
}

#[test]
fn catalog_flagged_major_asks_a_second_time_when_scheduled() {
    let mut m = on(Pane::Upgrades);
    let flagged = semver::Version::new(1, 16, 3);
    let i = m
        .catalog
        .iter()
        .position(|e| e.name == "cilium")
        .expect("cilium");
    m.catalog[i].majors = vec![flagged];
    keys(&mut m, "s");
    update(&mut m, key(KeyCode::Tab));
    keys(&mut m, "2030-02-09 02:00");
    let out = update(&mut m, key(KeyCode::Enter));
    assert!(out.effects.is_empty(), "{:?}", out.effects);
    let out = update(&mut m, ch('y'));
    assert_eq!(
        out.effects,
        vec![Effect::ScheduleUpgrade {
            cluster: 0,
            platform: "acme-corp".into(),
            name: "cilium".into(),
            version: "1.16.3".into(),
            when: When::At("2030-02-09T02:00:00Z".into()),
            confirm_major: Some("v1.16.2→v1.16.3".into()),
        }]
    );
}

#[test]
fn ctx_command_switches_cluster_and_header_follows() {
    let mut m = fixtures::sample_two_regions();
    keys(&mut m, ":ctx hz-hel-rtz-prod");
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.active, 1);
    assert!(
        screen(&m, 80, 24)
            .lines()
            .next()
            .unwrap()
            .contains("hz-hel-rtz-prod")
    );
    keys(&mut m, ":ctx");
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.active, 0);
}

#[test]
fn ctx_command_unknown_name_lists_the_kubeconfig_contexts() {
    let mut m = fixtures::sample_fleet();
    keys(&mut m, ":ctx prod");
    update(&mut m, key(KeyCode::Enter));
    let Some(Dialog::Command(super::model::CommandDialog { error: Some(e), .. })) =
        m.dialogs.last()
    else {
        panic!("error expected")
    };
    assert_eq!(
        e,
        "no context named \"prod\" in the kubeconfig; contexts: hz-fsn-rtz-prod, \
         hz-hel-rtz-prod, hz-nbg-rtz-stage, aws-dev"
    );
    assert_eq!(m.clusters.len(), 3, "nothing attached");
}

#[test]
fn ctx_command_attaches_a_kubeconfig_context_at_run_time() {
    let mut m = fixtures::sample_fleet();
    keys(&mut m, ":ctx aws-dev");
    let out = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        out.effects,
        [Effect::Attach {
            cluster: 3,
            context: "aws-dev".into()
        }]
    );
    assert!(m.dialogs.is_empty());
    assert_eq!((m.clusters.len(), m.active), (4, 3));
    assert_eq!(m.cluster().connection, Connection::Connecting);
    let attached = ClusterMsg::Attached {
        address: "https://10.9.0.1:6443".into(),
        namespace: "tenant".into(),
    };
    update(
        &mut m,
        Msg::Cluster {
            cluster: 3,
            msg: attached,
        },
    );
    assert_eq!(m.cluster().address, "https://10.9.0.1:6443");
    assert_eq!(m.ns(), "tenant");
    assert_eq!(
        m.status.as_deref(),
        Some("attached aws-dev (https://10.9.0.1:6443, namespace tenant): watching")
    );
    // Attached once: asking again switches to it and writes nothing.
    keys(&mut m, ":ctx hz-fsn-rtz-prod");
    update(&mut m, key(KeyCode::Enter));
    keys(&mut m, ":ctx aws-dev");
    let again = update(&mut m, key(KeyCode::Enter));
    assert!(again.effects.is_empty());
    assert_eq!((m.clusters.len(), m.active), (4, 3));
    // The new cluster is a Fleet row like the others, still connecting.
    keys(&mut m, "6");
    assert!(
        m.fleet_rows()
            .iter()
            .any(|r| r.cluster.context == "aws-dev")
    );
}

#[test]
fn fleet_rows_worst_first_and_drift_marked() {
    let m = fixtures::sample_fleet();
    let rows = m.fleet_rows();
    let order: Vec<&str> = rows.iter().map(|r| r.cluster.context.as_str()).collect();
    // Unreachable first, then the region with a degraded component, then the healthy one.
    assert_eq!(
        order,
        ["hz-nbg-rtz-stage", "hz-hel-rtz-prod", "hz-fsn-rtz-prod"]
    );
    assert_eq!(rows[0].reachability(), "Unreachable");
    let hel = &rows[1];
    assert_eq!(hel.worst.map(|c| c.name.as_str()), Some("grafana"));
    assert_eq!((hel.health, hel.alerts, hel.drifted), (Some(83), 1, 1));
    let fsn = &rows[2];
    assert_eq!(fsn.worst.map(|c| c.name.as_str()), None);
    assert_eq!((fsn.upgrades, fsn.drifted), (2, 1));
    // Only listed clusters count; a missing component is not drift.
    let drift = m.drift();
    assert_eq!(drift.len(), 1);
    assert_eq!(
        drift[0].describe(),
        "grafana: 11.4.0 on hz-hel-rtz-prod; 11.3.0 on hz-fsn-rtz-prod"
    );
}

#[test]
fn fleet_versions_newest_first_by_semver_and_groups_contexts() {
    let mut m = fixtures::sample_fleet();
    let mut third = m.clusters[0].clone();
    third.context = "hz-nbg-rtz-prod".into();
    if let Some(g) = third.components.get_mut("grafana") {
        g.installed_version = Some("11.10.0".into());
    }
    m.clusters[2] = third;
    let drift = m.drift();
    assert_eq!(
        drift[0].describe(),
        "grafana: 11.10.0 on hz-nbg-rtz-prod; 11.4.0 on hz-hel-rtz-prod; 11.3.0 on hz-fsn-rtz-prod"
    );
    m.clusters[2]
        .components
        .get_mut("grafana")
        .unwrap()
        .installed_version = Some("11.3.0".into());
    assert_eq!(
        m.drift()[0].describe(),
        "grafana: 11.4.0 on hz-hel-rtz-prod; 11.3.0 on hz-fsn-rtz-prod, hz-nbg-rtz-prod"
    );
}

#[test]
fn dashboard_tiles_of_a_fleet_show_the_active_cluster_and_the_worst_other() {
    let mut m = fixtures::sample_fleet();
    m.pane = Pane::Dashboard;
    m.active = 1;
    let s = screen(&m, 120, 40);
    assert!(s.contains(" hz-hel-rtz-prod (hel) ◀ "), "{s}");
    assert!(
        s.contains(" hz-nbg-rtz-stage "),
        "the unreachable one:\n{s}"
    );
    assert!(!s.contains(" hz-fsn-rtz-prod (fsn) "), "{s}");
}

#[test]
fn fleet_enter_opens_the_selected_clusters_dashboard() {
    let mut m = fixtures::sample_fleet();
    m.pane = Pane::Dashboard;
    keys(&mut m, "6");
    assert_eq!(m.pane, Pane::Fleet);
    keys(&mut m, "j");
    assert_eq!(m.fleet_selected.as_deref(), Some("hz-hel-rtz-prod"));
    update(&mut m, key(KeyCode::Enter));
    assert_eq!((m.pane, m.active), (Pane::Dashboard, 1));
    assert_eq!(m.cluster().context, "hz-hel-rtz-prod");
}

#[test]
fn fleet_tab_is_listed_once_more_than_one_cluster_is_attached() {
    let mut one = fixtures::sample();
    one.pane = Pane::Settings;
    update(&mut one, key(KeyCode::Tab));
    assert_eq!(one.pane, Pane::Dashboard, "one cluster: no Fleet tab");
    assert!(!screen(&one, 80, 24).contains("6 Fleet"));
    let mut two = fixtures::sample_two_regions();
    two.pane = Pane::Settings;
    update(&mut two, key(KeyCode::Tab));
    assert_eq!(two.pane, Pane::Fleet);
    update(&mut two, key(KeyCode::BackTab));
    assert_eq!(two.pane, Pane::Settings);
    assert!(screen(&two, 80, 24).contains("6 Fleet"));
}

#[test]
fn fleet_redraws_for_any_cluster_other_panes_only_for_the_active_one() {
    let mut m = fixtures::sample_fleet();
    let report = |m: &mut Model| {
        update(
            m,
            Msg::Cluster {
                cluster: 2,
                msg: ClusterMsg::Connected,
            },
        )
    };
    assert!(report(&mut m).changed);
    m.pane = Pane::Components;
    m.clusters[2].connection = Connection::Connecting;
    assert!(!report(&mut m).changed);
}

#[test]
fn filter_narrows_rows_and_escape_clears() {
    let mut m = on(Pane::Components);
    keys(&mut m, "a/kaf");
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.component_names(), ["strimzi"]);
    update(&mut m, key(KeyCode::Esc));
    assert!(m.component_names().len() > 1);
}

#[test]
fn installed_only_toggle_defaults_on_and_hides_catalog() {
    let mut m = on(Pane::Components);
    assert!(!m.component_names().contains(&"ferretdb".to_string()));
    keys(&mut m, "a");
    assert!(m.component_names().contains(&"ferretdb".to_string()));
}

#[test]
fn dashboard_enter_copies_selected_link() {
    let mut m = on(Pane::Dashboard);
    let out = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        out.effects,
        vec![Effect::Copy("cnpg-primary.data.svc".into())]
    );
    update(&mut m, key(KeyCode::Right));
    let out = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        out.effects,
        vec![Effect::Copy("https://grafana.acme.io".into())]
    );
}

#[test]
fn events_are_bounded_and_newest_first() {
    let m = fixtures::large(10, 5_000);
    let ev = &m.cluster().events;
    assert_eq!(ev.len(), super::model::MAX_EVENTS);
    assert!(ev.iter().zip(ev.iter().skip(1)).all(|(a, b)| a.at >= b.at));
}

#[test]
fn listed_events_merge_newest_first_once_each_and_bounded() {
    let mut m = fixtures::sample();
    let existing: Vec<_> = m.cluster().events.iter().cloned().collect();
    assert!(!existing.is_empty());
    let newest = existing[0].at;
    // A re-list: everything already shown again, plus 3,000 newer ones with one repeat each.
    let mut listed = existing.clone();
    for i in 0..3_000i64 {
        let mut e = existing[0].clone();
        e.at = newest + time::Duration::seconds(1 + i);
        e.message = format!("event {i}");
        listed.push(e.clone());
        listed.push(e);
    }
    let out = update(
        &mut m,
        Msg::Cluster {
            cluster: 0,
            msg: ClusterMsg::EventsListed(listed.clone()),
        },
    );
    assert!(out.changed);
    let ev = &m.cluster().events;
    assert_eq!(ev.len(), super::model::MAX_EVENTS);
    assert_eq!(ev[0].message, "event 2999");
    assert!(ev.iter().zip(ev.iter().skip(1)).all(|(a, b)| a.at > b.at));
    let again = update(
        &mut m,
        Msg::Cluster {
            cluster: 0,
            msg: ClusterMsg::EventsListed(listed),
        },
    );
    assert!(!again.changed, "the same list again changes nothing");
}

#[test]
fn identical_watch_event_changes_nothing() {
    let mut m = fixtures::sample();
    let same = m.cluster().components["cnpg"].clone();
    let out = update(
        &mut m,
        Msg::Cluster {
            cluster: 0,
            msg: ClusterMsg::ComponentChanged(Box::new(same)),
        },
    );
    assert!(!out.changed);
}

#[test]
fn unreachable_then_reconnect_restores_live_view() {
    let mut m = fixtures::sample();
    update(
        &mut m,
        Msg::Cluster {
            cluster: 0,
            msg: ClusterMsg::Unreachable {
                error: "connection refused".into(),
            },
        },
    );
    assert!(screen(&m, 80, 24).contains("unreachable at https://10.0.1.10:6443"));
    update(
        &mut m,
        Msg::Cluster {
            cluster: 0,
            msg: ClusterMsg::Connected,
        },
    );
    assert!(!screen(&m, 80, 24).contains("unreachable"));
}

fn cluster_msg(m: &mut Model, cluster: usize, msg: ClusterMsg) -> bool {
    update(m, Msg::Cluster { cluster, msg }).changed
}

#[test]
fn unreachable_makes_the_manager_unknown_never_not_running() {
    let mut m = fixtures::sample();
    cluster_msg(&mut m, 0, ClusterMsg::ManagerRunning(false));
    assert!(screen(&m, 120, 40).contains("Lifecycle Manager not running"));
    let unreachable = ClusterMsg::Unreachable {
        error: "connection refused".into(),
    };
    cluster_msg(&mut m, 0, unreachable);
    assert_eq!(m.cluster().manager_running, None);
    // A verdict arriving during the outage is kept for later, not shown.
    cluster_msg(&mut m, 0, ClusterMsg::ManagerRunning(true));
    assert_eq!(m.cluster().manager_running, None);
    let s = screen(&m, 120, 40);
    assert!(s.contains("API server unreachable"), "{s}");
    assert!(!s.contains("not running"), "{s}");
    // Back: what the Lease last said is shown again.
    cluster_msg(&mut m, 0, ClusterMsg::Connected);
    assert_eq!(m.cluster().manager_running, Some(true));
}

#[test]
fn region_tile_worst_is_unknown_while_the_region_is_not_live() {
    let mut m = fixtures::sample_two_regions();
    let s = screen(&m, 120, 40);
    assert!(s.contains("worst: ● Degraded"), "{s}");
    m.clusters[1].connection = Connection::Unreachable {
        error: "connection refused".into(),
    };
    for c in m.clusters[1].components.values_mut() {
        c.health = Health::Healthy;
    }
    let s = screen(&m, 120, 40);
    // Only the live region says Healthy; the unreachable one's last known state is not worst.
    assert_eq!(s.matches("worst: ● Healthy").count(), 1, "{s}");
    assert!(s.contains("worst: ● Unknown"), "{s}");
    snap("dashboard__region_unreachable", &m);
}

#[test]
fn long_component_names_are_shown_whole_where_the_width_allows() {
    let mut m = on(Pane::Components);
    let mut long = m.cluster().components["valkey"].clone();
    long.name = "external-secrets-operator".into();
    m.cluster_mut().components.insert(long.name.clone(), long);
    for (w, h) in [(120, 40), (80, 24)] {
        let s = screen(&m, w, h);
        let row = s
            .lines()
            .find(|l| l.contains("external-secrets"))
            .unwrap_or_else(|| panic!("{s}"));
        assert!(
            row.contains("external-secrets-operator 8.0.0"),
            "{w}x{h}: {row}"
        );
    }
    m.pane = Pane::Upgrades;
    if let Some(c) = m
        .cluster_mut()
        .components
        .get_mut("external-secrets-operator")
    {
        c.available_upgrades = vec!["8.1.0".into()];
    }
    let s = screen(&m, 120, 40);
    assert!(s.contains("external-secrets-operator  "), "{s}");
}

#[test]
fn help_command_opens_help_and_closes_the_prompt() {
    for line in ["help", "?"] {
        let mut m = fixtures::sample();
        keys(&mut m, &format!(":{line}"));
        update(&mut m, key(KeyCode::Enter));
        assert!(
            matches!(&m.dialogs[..], [Dialog::Help]),
            ":{line} left {:?}",
            m.dialogs
        );
    }
}

#[test]
fn unknown_command_lists_the_commands_there_are() {
    let mut m = fixtures::sample();
    keys(&mut m, ":hlep");
    update(&mut m, key(KeyCode::Enter));
    let Some(Dialog::Command(c)) = m.dialogs.last() else {
        panic!("{:?}", m.dialogs)
    };
    let e = c.error.clone().unwrap_or_default();
    for cmd in [
        "ctx",
        "dashboard",
        "components",
        "upgrades",
        "alerts",
        "settings",
        "fleet",
        "help",
        "quit",
    ] {
        assert!(e.contains(cmd), "{cmd} missing from {e:?}");
    }
    // At 80 columns the whole list is on screen (the line wraps).
    let s = screen(&m, 80, 24);
    assert!(s.contains("help, quit"), "{s}");
}

fn filtered(m: &mut Model, text: &str) -> Vec<String> {
    m.components.filter.set(text);
    m.component_names()
}

#[test]
fn filter_matches_every_visible_column() {
    let mut m = on(Pane::Components);
    if let Some(c) = m.cluster_mut().components.get_mut("valkey") {
        c.health = Health::Degraded;
        c.phase = "Upgrading".into();
    }
    assert_eq!(filtered(&mut m, "degraded"), ["valkey"]);
    assert_eq!(filtered(&mut m, "upgrading"), ["valkey"]);
    // The version on offer, the version shown, the title.
    assert_eq!(filtered(&mut m, "11.4"), ["grafana"]);
    assert_eq!(filtered(&mut m, "1.16.2"), ["cilium"]);
    assert_eq!(filtered(&mut m, "strimzi/"), Vec::<String>::new());
    m.components.installed_only = false;
    assert_eq!(filtered(&mut m, "STRIMZI/"), ["strimzi"]);
}

#[test]
fn write_dialogs_without_a_platform_are_refused_before_they_open() {
    let no_platform = |pane: Pane| {
        let mut m = on(pane);
        m.cluster_mut().platform = None;
        m
    };
    for (pane, select, k) in [
        (Pane::Components, "ferretdb", 'i'),
        (Pane::Components, "valkey", 'd'),
        (Pane::Components, "cilium", 'u'),
        (Pane::Upgrades, "", 'u'),
        (Pane::Upgrades, "", 's'),
    ] {
        let mut m = no_platform(pane);
        m.components.installed_only = false;
        if !select.is_empty() {
            m.components.selected = Some(select.into());
        }
        let out = update(&mut m, ch(k));
        assert!(
            m.dialogs.is_empty(),
            "{k} on {pane:?} opened {:?}",
            m.dialogs
        );
        assert!(out.effects.is_empty());
        let status = m.status.clone().unwrap_or_default();
        assert!(status.contains("no Platform resource"), "{k}: {status:?}");
    }
}

#[test]
fn upgraded_row_stays_in_upgrades_marked_upgrading_while_it_rolls_out() {
    let mut m = on(Pane::Upgrades);
    let mut cilium = m.cluster().components["cilium"].clone();
    // Written: spec at the new version, the manager rolling it out, nothing more on offer.
    cilium.version = "1.16.3".into();
    cilium.available_upgrades.clear();
    cilium.phase = "Upgrading".into();
    cilium.health = Health::Installing;
    cluster_msg(
        &mut m,
        0,
        ClusterMsg::ComponentChanged(Box::new(cilium.clone())),
    );
    let names: Vec<&str> = m.upgrade_rows().iter().map(|c| c.name.as_str()).collect();
    assert!(names.contains(&"cilium"), "{names:?}");
    let s = screen(&m, 120, 40);
    let row = s.lines().find(|l| l.contains("cilium")).unwrap();
    assert!(
        row.contains("→ 1.16.3") && row.contains("upgrading"),
        "{row}"
    );
    snap("upgrades__upgrading", &m);
    // Asking again says why not.
    keys(&mut m, "u");
    assert!(m.dialogs.is_empty());
    assert!(
        m.status
            .as_deref()
            .unwrap_or("")
            .contains("upgrading to 1.16.3")
    );
    // Refused by the manager (e.g. a major jump not confirmed): not "upgrading".
    let mut refused = cilium.clone();
    refused.phase = "Running".into();
    refused.conditions.push(super::model::ConditionView {
        kind: "UpgradeRefused".into(),
        status: "True".into(),
        reason: "MajorNotConfirmed".into(),
        message: "confirm the jump".into(),
        at: None,
    });
    assert_eq!(refused.upgrading(), None);
    // Done: running the new version, the row goes.
    cilium.installed_version = Some("1.16.3".into());
    cilium.phase = "Running".into();
    cilium.health = Health::Healthy;
    cluster_msg(&mut m, 0, ClusterMsg::ComponentChanged(Box::new(cilium)));
    assert!(!m.upgrade_rows().iter().any(|c| c.name == "cilium"));
}

#[test]
fn install_dialog_lists_what_will_be_installed_and_counts_the_rest() {
    let mut m = on(Pane::Components);
    keys(&mut m, "a");
    m.components.selected = Some("ai-hub".into());
    keys(&mut m, "i");
    let s = screen(&m, 120, 40);
    let dialog: Vec<&str> = s
        .lines()
        .skip_while(|l| !l.contains("Install: AI Hub"))
        .collect();
    let dialog = dialog.join("\n");
    for shown in ["KServe", "Knative", "vLLM", "Milvus"] {
        let row = dialog.lines().find(|l| l.contains(&format!("✓ {shown}")));
        assert!(
            row.is_some_and(|r| r.contains("will be installed")),
            "{shown}:\n{dialog}"
        );
    }
    // Cilium, Flux and CNPG are installed already: counted, not listed as "required".
    assert!(dialog.contains("and 3 already installed"), "{dialog}");
    assert!(
        !dialog.contains("✓ Cilium") && !dialog.contains("(required)"),
        "{dialog}"
    );
}

#[test]
fn details_show_the_delivery_object_and_own_events_newest_first_and_copy() {
    let mut m = on(Pane::Components);
    m.cluster_mut().push_event(super::model::EventView {
        at: fixtures::NOW - time::Duration::minutes(5),
        severity: super::model::Severity::Warning,
        object: "HelmRelease/grafana".into(),
        reason: "UpgradeFailed".into(),
        message: "Helm upgrade failed: timed out waiting for the condition".into(),
        count: 1,
        id: "ev-1".into(),
    });
    m.components.selected = Some("grafana".into());
    update(&mut m, key(KeyCode::Enter));
    let text = super::dialogs::details_text(&m, "grafana");
    assert!(
        text.contains(
            "HelmRelease grafana in namespace openova-system (helm.toolkit.fluxcd.io/v2)"
        ),
        "{text}"
    );
    let events: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Events"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(events.len(), 3, "{text}");
    assert!(events[0].contains("HelmRelease/grafana UpgradeFailed: Helm upgrade failed"));
    assert!(events[1].contains("Component/grafana UpgradeRolledBack"));
    assert!(events[2].contains("Component/grafana UpgradeStarted"));
    assert!(
        !text.contains("cnpg is ready"),
        "another component's event: {text}"
    );
    // A Platform delivering through Crossplane: a cluster-scoped Release.
    if let Some(p) = m.cluster_mut().platform.as_mut() {
        p.delivery = Some(crate::crd::DeliveryBackend::Crossplane);
    }
    let text = super::dialogs::details_text(&m, "grafana");
    assert!(
        text.contains(
            "Release openova-system-grafana (cluster-scoped, helm.crossplane.io/v1beta1)"
        ),
        "{text}"
    );
    // c copies exactly that text, and the dialog stays.
    let out = update(&mut m, ch('c'));
    assert_eq!(out.effects, vec![Effect::Copy(text)]);
    assert!(matches!(m.dialogs.last(), Some(Dialog::Details(_))));
}

#[test]
fn quit_with_write_in_flight_asks_first() {
    let mut m = on(Pane::Upgrades);
    keys(&mut m, "u");
    update(&mut m, ch('y'));
    keys(&mut m, "q");
    assert!(!m.quit);
    assert!(matches!(m.dialogs.last(), Some(Dialog::Confirm(_))));
    update(&mut m, ch('y'));
    assert!(m.quit);
}

#[test]
fn confirm_dialog_ctrl_y_is_not_yes() {
    let mut m = on(Pane::Upgrades);
    keys(&mut m, "u");
    let out = update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::CONTROL)),
    );
    assert!(out.effects.is_empty(), "Ctrl+Y upgraded: {:?}", out.effects);
    assert!(!out.changed);
    assert!(matches!(m.dialogs.last(), Some(Dialog::Confirm(_))));
    let out = update(&mut m, ch('y'));
    assert!(matches!(&out.effects[..], [Effect::SetVersion { .. }]));
    assert!(m.dialogs.is_empty());
}

#[test]
fn command_line_failed_command_keeps_its_text_and_stays_open() {
    let mut m = fixtures::sample_two_regions();
    keys(&mut m, ":bogus");
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.dialogs.len(), 1);
    let Some(Dialog::Command(c)) = m.dialogs.last() else {
        panic!("command line expected, got {:?}", m.dialogs)
    };
    assert_eq!(c.input.value(), "bogus");
    assert!(
        c.error
            .as_deref()
            .is_some_and(|e| e.contains("unknown command"))
    );
    // `:q` with a write in flight: the command line closes and the quit question is on top.
    m.writes_in_flight = 1;
    update(&mut m, key(KeyCode::Esc));
    keys(&mut m, ":q");
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.dialogs.len(), 1, "{:?}", m.dialogs);
    assert!(matches!(m.dialogs.last(), Some(Dialog::Confirm(_))));
}

#[test]
fn pane_keys_with_ctrl_or_alt_are_not_the_plain_keys() {
    let mut m = on(Pane::Components);
    for (c, mods) in [
        ('d', KeyModifiers::CONTROL),
        ('i', KeyModifiers::ALT),
        ('q', KeyModifiers::CONTROL),
        ('2', KeyModifiers::ALT),
    ] {
        let out = update(&mut m, Msg::Key(KeyEvent::new(KeyCode::Char(c), mods)));
        assert!(!out.changed && out.effects.is_empty(), "{mods:?}+{c} acted");
    }
    assert!(m.dialogs.is_empty() && !m.quit);
    assert_eq!(m.pane, Pane::Components);
}

// ---------------------------------------------------------------- alerts

fn refusal(kind: &str, reason: &str, message: &str) -> super::model::ConditionView {
    super::model::ConditionView {
        kind: kind.into(),
        status: "True".into(),
        reason: reason.into(),
        message: message.into(),
        at: None,
    }
}

#[test]
fn alert_count_is_one_number_for_dashboard_pane_title_and_body() {
    // No alerts: the title says 0 above "No active alerts." (it said 1, counting that line).
    let mut m = on(Pane::Alerts);
    m.cluster_mut()
        .components
        .get_mut("grafana")
        .unwrap()
        .rollback = None;
    assert_eq!(m.cluster().alert_count(), 0);
    let text = screen(&m, 80, 24);
    assert!(text.contains("Active alerts (0)"), "{text}");
    assert!(text.contains("No active alerts."), "{text}");
    // One rollback, one warning Event about it: one alert everywhere.
    let m = on(Pane::Alerts);
    assert_eq!(m.cluster().alert_count(), 1);
    assert!(screen(&m, 80, 24).contains("Active alerts (1)"));
    let mut d = on(Pane::Dashboard);
    d.pane = Pane::Dashboard;
    let dash = screen(&d, 120, 40);
    // The third tile (Alerts): before, it also counted the warning Event and showed 2.
    assert!(dash.contains("││       1       │"), "{dash}");
    // The same alert reported twice (a Platform condition repeating it) counts once.
    let mut m = on(Pane::Alerts);
    let c = m.cluster_mut();
    let g = c.components.get_mut("grafana").unwrap();
    g.conditions
        .push(refusal("UpgradeRefused", "MajorNotConfirmed", "a"));
    g.conditions
        .push(refusal("UpgradeRefused", "MajorNotConfirmed", "a"));
    assert_eq!(m.cluster().alert_count(), 2);
    assert_eq!(m.cluster().active_alerts().len(), 2);
}

#[test]
fn refused_upgrade_and_blocked_deletion_show_as_alerts_on_the_row_and_in_the_status() {
    let mut m = on(Pane::Components);
    let mut g = m.cluster().components["valkey"].clone();
    g.conditions.push(refusal(
        "UninstallBlocked",
        "NotConfirmed",
        "valkey is not uninstalled: nothing confirmed this removal",
    ));
    update(
        &mut m,
        Msg::Cluster {
            cluster: 0,
            msg: ClusterMsg::ComponentChanged(Box::new(g)),
        },
    );
    assert_eq!(
        m.status.as_deref(),
        Some("valkey: deletion blocked: valkey is not uninstalled: nothing confirmed this removal")
    );
    let mut c = m.cluster().components["cilium"].clone();
    c.conditions.push(refusal(
        "UpgradeRefused",
        "MajorNotConfirmed",
        "major upgrade 1→2 not confirmed",
    ));
    update(
        &mut m,
        Msg::Cluster {
            cluster: 0,
            msg: ClusterMsg::ComponentChanged(Box::new(c)),
        },
    );
    assert!(
        m.status
            .as_deref()
            .unwrap_or("")
            .contains("upgrade refused")
    );
    let rows = screen(&m, 120, 40);
    assert!(rows.contains("[deletion blocked]"), "{rows}");
    assert!(rows.contains("[upgrade refused]"), "{rows}");
    // Rollback of grafana + the two refusals.
    assert_eq!(m.cluster().alert_count(), 3);
    m.pane = Pane::Alerts;
    let text = screen(&m, 120, 40);
    assert!(text.contains("Active alerts (3)"), "{text}");
    assert!(
        text.contains("Component/valkey deletion blocked — valkey is not uninstalled"),
        "{text}"
    );
    assert!(
        text.contains("Component/cilium upgrade refused — major upgrade 1→2 not confirmed"),
        "{text}"
    );
}

#[test]
fn an_event_series_counting_up_replaces_its_earlier_version_and_shows_the_count() {
    let mut m = on(Pane::Alerts);
    let mut first = m.cluster().events[0].clone();
    first.id = "u-1".into();
    first.object = "Platform/acme-corp".into();
    first.reason = "AllHealthy".into();
    first.message = "all 13 components are healthy".into();
    let mut later = first.clone();
    later.at += time::Duration::minutes(5);
    later.count = 20;
    later.message = "all 20 components are healthy".into();
    let before = m.cluster().events.len();
    for ev in [first, later.clone()] {
        update(
            &mut m,
            Msg::Cluster {
                cluster: 0,
                msg: ClusterMsg::EventSeen(ev),
            },
        );
    }
    assert_eq!(m.cluster().events.len(), before + 1);
    assert_eq!(m.cluster().events[0], later);
    // A re-list bringing the old version again does not bring it back.
    let mut old = later.clone();
    old.at -= time::Duration::minutes(5);
    old.count = 1;
    m.cluster_mut().push_events(vec![old]);
    assert_eq!(m.cluster().events.len(), before + 1);
    let text = screen(&m, 120, 40);
    assert!(text.contains("×20 all 20 components are healthy"), "{text}");
    assert!(!text.contains("all 13"), "{text}");
}

#[test]
fn a_meta_platform_the_platform_reports_installed_is_shown_installed_and_not_offered_again() {
    let mut m = on(Pane::Components);
    m.cluster_mut()
        .platform
        .as_mut()
        .unwrap()
        .meta_installed
        .push("ai-hub".into());
    // Listed with the installed components, marked installed, no [+ Install].
    assert!(m.component_names().contains(&"ai-hub".to_string()));
    let text = screen(&m, 120, 40);
    let row = text
        .lines()
        .find(|l| l.contains("AI Hub"))
        .unwrap_or_default();
    assert!(row.contains("✓") && row.contains("installed"), "{text}");
    assert!(!row.contains("[+ Install]"), "{text}");
    m.components.selected = Some("ai-hub".into());
    let out = update(&mut m, ch('i'));
    assert!(out.effects.is_empty() && m.dialogs.is_empty());
    assert_eq!(m.status.as_deref(), Some("ai-hub is already installed"));
    let out = update(&mut m, ch('d'));
    assert!(out.effects.is_empty() && m.dialogs.is_empty());
    assert!(
        m.status
            .as_deref()
            .unwrap_or("")
            .starts_with("ai-hub is a meta-platform"),
        "{:?}",
        m.status
    );
}

#[test]
fn platform_view_reads_selected_names_and_installed_meta_platforms() {
    let p: crate::crd::Platform = serde_json::from_value(serde_json::json!({
        "apiVersion": "openova.io/v1alpha1", "kind": "Platform",
        "metadata": { "name": "acme", "namespace": "openova-system" },
        "spec": {
            "organization": { "name": "acme", "domain": "acme.io" },
            "regions": [],
            "components": [
                { "name": "ai-hub", "enabled": true },
                { "name": "grafana", "enabled": false }
            ]
        },
        "status": { "metaPlatforms": [
            { "name": "ai-hub", "installed": true },
            { "name": "open-banking", "installed": false, "waitingFor": ["valkey"] }
        ] }
    }))
    .expect("a Platform");
    let v = super::views::platform_view(&p);
    assert_eq!(v.selected, ["ai-hub"]);
    assert_eq!(v.meta_installed, ["ai-hub"]);
}

// ---------------------------------------------------------------- requests

fn confirm_text(m: &Model) -> String {
    screen(m, 80, 24)
}

#[test]
fn retry_of_a_rolled_back_upgrade_asks_naming_it_and_writes_the_request() {
    let mut m = on(Pane::Components);
    // The manager keeps the failed version wanted after rolling back.
    m.cluster_mut()
        .components
        .get_mut("grafana")
        .unwrap()
        .version = "11.3.1".into();
    m.components.selected = Some("grafana".into());
    keys(&mut m, "r");
    let text = confirm_text(&m);
    assert!(
        text.contains("Retry the upgrade from 11.3.0 to 11.3.1 of grafana?"),
        "{text}"
    );
    let out = update(&mut m, ch('y'));
    assert_eq!(
        out.effects,
        vec![Effect::Request {
            cluster: 0,
            platform: "acme-corp".into(),
            name: "grafana".into(),
            request: Request::Retry,
        }]
    );
    assert_eq!(m.status.as_deref(), Some("retry grafana…"));
}

#[test]
fn retry_of_a_healthy_component_is_refused_with_the_reason_and_writes_nothing() {
    let mut m = on(Pane::Components);
    m.components.selected = Some("valkey".into());
    let out = update(&mut m, ch('r'));
    assert!(out.effects.is_empty() && m.dialogs.is_empty());
    assert_eq!(
        m.status.as_deref(),
        Some("retry of valkey: it is Running, not failed; nothing to retry, nothing written")
    );
}

#[test]
fn retry_of_a_failed_install_is_offered() {
    let mut m = on(Pane::Components);
    let v = m.cluster_mut().components.get_mut("valkey").unwrap();
    v.phase = "Failed".into();
    v.last_good_version = None;
    m.components.selected = Some("valkey".into());
    keys(&mut m, "r");
    assert!(confirm_text(&m).contains("Retry the install of 8.0.0 of valkey?"));
}

#[test]
fn reconcile_now_and_suspend_resume_are_confirmed_then_written() {
    let mut m = on(Pane::Components);
    m.components.selected = Some("valkey".into());
    update(&mut m, ch('R'));
    assert!(confirm_text(&m).contains("reconcile valkey now?"));
    let out = update(&mut m, ch('y'));
    assert!(matches!(
        out.effects.as_slice(),
        [Effect::Request {
            request: Request::ReconcileNow,
            ..
        }]
    ));
    keys(&mut m, "p");
    assert!(confirm_text(&m).contains("Suspend valkey?"));
    let out = update(&mut m, ch('y'));
    assert!(matches!(
        out.effects.as_slice(),
        [Effect::Request {
            request: Request::Suspend(true),
            ..
        }]
    ));
    // Once suspended, the same key offers to resume, and the row says suspended.
    m.cluster_mut()
        .components
        .get_mut("valkey")
        .unwrap()
        .suspended = true;
    assert!(screen(&m, 120, 40).contains("[suspended]"));
    keys(&mut m, "p");
    assert!(confirm_text(&m).contains("Resume valkey?"));
    let out = update(&mut m, key(KeyCode::Esc));
    assert!(out.effects.is_empty(), "Esc writes nothing");
}

#[test]
fn cancel_a_scheduled_upgrade_puts_the_installed_version_back() {
    let mut m = on(Pane::Upgrades);
    let c = m.cluster_mut().components.get_mut("cilium").unwrap();
    c.version = "1.16.3".into();
    c.scheduled = Some("2026-02-15 02:00 UTC".into());
    keys(&mut m, "c");
    let text = confirm_text(&m);
    assert!(
        text.contains("Cancel the change of cilium to 1.16.3"),
        "{text}"
    );
    assert!(text.contains("cilium stays at 1.16.2"), "{text}");
    let out = update(&mut m, ch('y'));
    assert_eq!(
        out.effects,
        vec![Effect::Request {
            cluster: 0,
            platform: "acme-corp".into(),
            name: "cilium".into(),
            request: Request::CancelUpgrade {
                installed: "1.16.2".into()
            },
        }]
    );
    // Nothing pending: nothing to cancel, and it says so.
    let mut m = on(Pane::Upgrades);
    let out = update(&mut m, ch('c'));
    assert!(out.effects.is_empty() && m.dialogs.is_empty());
    assert!(
        m.status
            .as_deref()
            .unwrap_or("")
            .contains("no scheduled or pending upgrade")
    );
}

#[test]
fn readonly_refuses_retry_reconcile_suspend_and_cancel() {
    for (pane, k) in [
        (Pane::Components, 'r'),
        (Pane::Components, 'R'),
        (Pane::Components, 'p'),
        (Pane::Upgrades, 'c'),
        (Pane::Upgrades, 'r'),
    ] {
        let mut m = on(pane);
        m.readonly = true;
        m.components.selected = Some("grafana".into());
        let out = update(&mut m, ch(k));
        assert!(out.effects.is_empty() && m.dialogs.is_empty(), "{k}");
        assert!(
            m.status
                .as_deref()
                .unwrap_or("")
                .starts_with("read-only mode"),
            "{k}: {:?}",
            m.status
        );
    }
}

#[test]
fn a_refused_upgrade_is_listed_in_upgrades_as_refused_and_can_be_cancelled() {
    let mut m = on(Pane::Upgrades);
    let v = m.cluster_mut().components.get_mut("valkey").unwrap();
    v.version = "9.0.0".into();
    v.conditions.push(refusal(
        "UpgradeRefused",
        "MajorNotConfirmed",
        "valkey 8.0.0 → 9.0.0 is a major upgrade (8→9) and was not confirmed",
    ));
    let text = screen(&m, 120, 40);
    let row = text
        .lines()
        .find(|l| l.contains("valkey"))
        .unwrap_or_else(|| panic!("valkey listed:\n{text}"));
    assert!(row.contains("upgrade refused"), "{text}");
    m.upgrades_selected = m
        .upgrade_rows()
        .iter()
        .position(|c| c.name == "valkey")
        .unwrap();
    keys(&mut m, "c");
    let out = update(&mut m, ch('y'));
    assert!(matches!(
        out.effects.as_slice(),
        [Effect::Request { request: Request::CancelUpgrade { installed }, .. }] if installed == "8.0.0"
    ));
}

// ---------------------------------------------------------------- maintenance window

/// The Settings pane with its maintenance-window row selected.
fn on_window_row() -> Model {
    let mut m = on(Pane::Settings);
    m.settings_selected = m
        .settings_rows()
        .iter()
        .position(|r| *r == super::model::SettingsRow::MaintenanceWindow)
        .expect("window row");
    m
}

fn type_into(m: &mut Model, text: &str) {
    for _ in 0..20 {
        update(m, key(KeyCode::Backspace));
    }
    keys(m, text);
}

#[test]
fn settings_edits_the_window_and_writes_exactly_it() {
    let mut m = on_window_row();
    assert!(
        screen(&m, 120, 40).contains("Sun 03:00"),
        "{}",
        screen(&m, 120, 40)
    );
    update(&mut m, key(KeyCode::Enter));
    assert!(matches!(m.dialogs.last(), Some(Dialog::Window(_))));
    // Days: Sat; start 04:30; duration 90; zone Europe/Berlin.
    type_into(&mut m, "Sat");
    update(&mut m, key(KeyCode::Tab));
    type_into(&mut m, "04:30");
    update(&mut m, key(KeyCode::Tab));
    type_into(&mut m, "90");
    update(&mut m, key(KeyCode::Tab));
    type_into(&mut m, "Europe/Berlin");
    let shown = screen(&m, 80, 24);
    assert!(
        shown.contains("Next opening: Sat")
            && shown.contains("Europe/Berlin (")
            && shown.contains("UTC)"),
        "the next opening, local and UTC, is shown before saving:\n{shown}"
    );
    let out = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        out.effects,
        vec![Effect::SetWindow {
            cluster: 0,
            platform: "acme-corp".into(),
            window: Some(crate::crd::platform::MaintenanceWindow {
                days: vec![crate::crd::platform::Weekday::Sat],
                start: "04:30".into(),
                duration_minutes: 90,
                time_zone: Some("Europe/Berlin".into()),
            }),
        }]
    );
    assert!(m.dialogs.is_empty());
}

#[test]
fn settings_refuses_a_bad_window_and_writes_nothing() {
    let mut m = on_window_row();
    update(&mut m, key(KeyCode::Enter));
    for _ in 0..3 {
        update(&mut m, key(KeyCode::Tab));
    }
    type_into(&mut m, "Moon/Base");
    let out = update(&mut m, key(KeyCode::Enter));
    assert!(out.effects.is_empty(), "{:?}", out.effects);
    assert!(matches!(m.dialogs.last(), Some(Dialog::Window(_))));
    let shown = screen(&m, 80, 24);
    assert!(shown.contains("Moon/Base"), "{shown}");
    assert!(shown.contains("Not saved"), "{shown}");
    // Esc leaves without writing.
    let out = update(&mut m, key(KeyCode::Esc));
    assert!(out.effects.is_empty() && m.dialogs.is_empty());
}

#[test]
fn settings_removes_the_window_after_a_confirmation() {
    let mut m = on_window_row();
    let out = update(&mut m, ch('d'));
    assert!(out.effects.is_empty(), "asks first");
    let shown = screen(&m, 80, 24);
    assert!(shown.contains("Remove maintenance window"), "{shown}");
    let out = update(&mut m, ch('n'));
    assert!(out.effects.is_empty() && m.dialogs.is_empty());
    update(&mut m, ch('d'));
    let out = update(&mut m, ch('y'));
    assert_eq!(
        out.effects,
        vec![Effect::SetWindow {
            cluster: 0,
            platform: "acme-corp".into(),
            window: None,
        }]
    );
    // Without a window there is nothing to remove.
    if let Some(p) = m.cluster_mut().platform.as_mut() {
        p.window = None;
    }
    let out = update(&mut m, ch('d'));
    assert!(out.effects.is_empty() && m.dialogs.is_empty());
    assert!(
        m.status
            .as_deref()
            .unwrap_or("")
            .contains("no maintenance window")
    );
}

#[test]
fn readonly_refuses_editing_and_removing_the_window() {
    let mut m = on_window_row();
    m.readonly = true;
    for k in [key(KeyCode::Enter), ch('d')] {
        let out = update(&mut m, k);
        assert!(out.effects.is_empty());
        assert!(m.dialogs.is_empty(), "no dialog opens in read-only mode");
        assert!(
            m.status.as_deref().unwrap_or("").contains("read-only"),
            "{:?}",
            m.status
        );
    }
}

#[test]
fn snapshot_window_dialog() {
    let mut m = on_window_row();
    // A fixed window keeps the screen stable apart from the next opening's date, which is
    // replaced before comparing.
    update(&mut m, key(KeyCode::Enter));
    let stable = |s: String| {
        s.lines()
            .map(|l| match l.find("Next opening:") {
                Some(i) => format!("{}Next opening: <date>", &l[..i]),
                None => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    insta::assert_snapshot!("dialog__window__80x24", stable(screen(&m, 80, 24)));
    insta::assert_snapshot!("dialog__window__120x40", stable(screen(&m, 120, 40)));
}
