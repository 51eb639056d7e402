//! Owns the console's keys: one `Action` per thing the operator can ask for and, per mode, the
//! table binding keys to actions. `update` looks keys up here and the footer and `?` are made
//! from the same tables, so what is shown and what is handled cannot drift apart.

use crossterm::event::KeyCode;

use crate::tui::keymap::chords::{ENTER, PAGE_DOWN, PAGE_UP};
use crate::tui::keymap::{Binding, Chord, KeyHint, Shown, bind as b, hints};

use super::model::{Model, Pane};

/// What the operator asks of the console (outside dialogs, which own their keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Help,
    Quit,
    NextPane,
    PrevPane,
    /// Go to a pane by its number (0-based).
    Pane(usize),
    CommandLine,
    /// Listed only: the `:ctx` command of the command line.
    CtxCommand,
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
    PrevLink,
    NextLink,
    CopyUrl,
    Filter,
    ApplyFilter,
    ClearFilter,
    ToggleInstalled,
    Details,
    Install,
    Uninstall,
    Upgrade,
    /// Listed only, in read-only mode, in place of the write actions.
    WritesDisabled,
    UpgradeNow,
    Schedule,
    /// Retry a failed install or upgrade (`spec.retry`).
    Retry,
    /// Ask the delivery controller to reconcile now (`spec.reconcileRequestedAt`).
    ReconcileNow,
    /// Suspend or resume reconciling the release (`spec.suspend`).
    Suspend,
    /// Drop a scheduled (or refused) version change.
    CancelUpgrade,
    Change,
    /// Fleet: show the selected cluster's dashboard.
    OpenCluster,
}

use Action as A;
use Shown::{Footer, Help, Hidden};

const UP: &[Chord] = &[Chord::key(KeyCode::Up), Chord::ch('k')];
const DOWN: &[Chord] = &[Chord::key(KeyCode::Down), Chord::ch('j')];
const FIRST: &[Chord] = &[Chord::key(KeyCode::Home), Chord::ch('g')];
const LAST: &[Chord] = &[Chord::key(KeyCode::End), Chord::ch('G')];

/// Ctrl+C quits from everywhere, dialogs and text fields included (asking first while a write
/// is in flight).
pub const ANYWHERE: &[Binding<Action>] =
    &[b(A::Quit, &[Chord::ctrl('c')], "Ctrl+C", "quit", Footer)];

/// Keys every pane shares; they come after the pane's own.
pub const GLOBAL: &[Binding<Action>] = &[
    b(A::Help, &[Chord::ch('?')], "?", "help", Footer),
    b(A::Quit, &[Chord::ch('q')], "q", "quit", Footer),
    b(
        A::NextPane,
        &[Chord::key(KeyCode::Tab)],
        "1-6 / Tab",
        "switch pane",
        Help,
    ),
    b(
        A::PrevPane,
        &[Chord::key(KeyCode::BackTab)],
        "S-Tab",
        "previous pane",
        Hidden,
    ),
    b(A::Pane(0), &[Chord::ch('1')], "1", "Dashboard", Hidden),
    b(A::Pane(1), &[Chord::ch('2')], "2", "Components", Hidden),
    b(A::Pane(2), &[Chord::ch('3')], "3", "Upgrades", Hidden),
    b(A::Pane(3), &[Chord::ch('4')], "4", "Alerts", Hidden),
    b(A::Pane(4), &[Chord::ch('5')], "5", "Settings", Hidden),
    b(A::Pane(5), &[Chord::ch('6')], "6", "Fleet", Hidden),
    b(A::CommandLine, &[Chord::ch(':')], ":", "command line", Help),
    b(
        A::CtxCommand,
        &[],
        ":ctx [NAME]",
        "switch/attach cluster",
        Help,
    ),
];

/// Moving in a list, unlisted (panes that want it listed name it in their own table).
const LIST: &[Binding<Action>] = &[
    b(A::Up, UP, "↑", "up", Hidden),
    b(A::Down, DOWN, "↓", "down", Hidden),
    b(A::PageUp, PAGE_UP, "PgUp", "page up", Hidden),
    b(A::PageDown, PAGE_DOWN, "PgDn", "page down", Hidden),
    b(A::First, FIRST, "Home", "first", Hidden),
    b(A::Last, LAST, "End", "last", Hidden),
];

pub const DASHBOARD: &[Binding<Action>] = &[
    b(
        A::PrevLink,
        &[
            Chord::key(KeyCode::Left),
            Chord::ch('h'),
            Chord::key(KeyCode::Up),
            Chord::ch('k'),
        ],
        "←/→",
        "link",
        Footer,
    ),
    b(
        A::NextLink,
        &[
            Chord::key(KeyCode::Right),
            Chord::ch('l'),
            Chord::key(KeyCode::Down),
            Chord::ch('j'),
        ],
        "→",
        "next link",
        Hidden,
    ),
    b(A::CopyUrl, ENTER, "Enter", "copy URL", Footer),
];

pub const COMPONENTS: &[Binding<Action>] = &[
    b(A::Filter, &[Chord::ch('/')], "/", "filter", Footer),
    b(
        A::ToggleInstalled,
        &[Chord::ch('a')],
        "a",
        "all/installed",
        Footer,
    ),
    b(A::Details, ENTER, "Enter", "details", Footer),
    b(
        A::WritesDisabled,
        &[],
        "writes",
        "disabled (read-only)",
        Footer,
    ),
    b(
        A::Install,
        &[Chord::ch('i'), Chord::ch('+')],
        "i",
        "install",
        Footer,
    ),
    b(
        A::Uninstall,
        &[Chord::ch('d'), Chord::ch('-'), Chord::key(KeyCode::Delete)],
        "d",
        "uninstall",
        Footer,
    ),
    b(A::Upgrade, &[Chord::ch('u')], "u", "upgrade", Help),
    b(A::Retry, &[Chord::ch('r')], "r", "retry failed", Help),
    b(
        A::ReconcileNow,
        &[Chord::ch('R')],
        "R",
        "reconcile now",
        Help,
    ),
    b(A::Suspend, &[Chord::ch('p')], "p", "suspend/resume", Help),
    b(A::Up, UP, "↑/↓ PgUp/PgDn", "move", Help),
    b(A::Down, DOWN, "↓", "down", Hidden),
    b(A::PageUp, PAGE_UP, "PgUp", "page up", Hidden),
    b(A::PageDown, PAGE_DOWN, "PgDn", "page down", Hidden),
    b(A::First, FIRST, "Home", "first", Hidden),
    b(A::Last, LAST, "End", "last", Hidden),
    b(
        A::ClearFilter,
        &[Chord::key(KeyCode::Esc)],
        "Esc",
        "clear filter",
        Hidden,
    ),
];

/// While a filter is typed every other key is text.
pub const FILTERING: &[Binding<Action>] = &[
    b(A::ApplyFilter, ENTER, "Enter", "apply filter", Footer),
    b(
        A::ClearFilter,
        &[Chord::key(KeyCode::Esc)],
        "Esc",
        "clear filter",
        Footer,
    ),
];

pub const UPGRADES: &[Binding<Action>] = &[
    b(
        A::WritesDisabled,
        &[],
        "writes",
        "disabled (read-only)",
        Footer,
    ),
    b(
        A::UpgradeNow,
        &[Chord::ch('u'), Chord::key(KeyCode::Enter)],
        "u",
        "upgrade now",
        Footer,
    ),
    b(A::Schedule, &[Chord::ch('s')], "s", "schedule", Footer),
    b(
        A::CancelUpgrade,
        &[Chord::ch('c')],
        "c",
        "cancel scheduled",
        Footer,
    ),
    b(A::Retry, &[Chord::ch('r')], "r", "retry failed", Help),
];

pub const ALERTS: &[Binding<Action>] = &[
    b(A::Up, UP, "↑/↓", "scroll", Footer),
    b(A::Down, DOWN, "↓", "down", Hidden),
    b(A::PageUp, PAGE_UP, "PgUp", "page up", Hidden),
    b(A::PageDown, PAGE_DOWN, "PgDn", "page down", Hidden),
    b(A::First, FIRST, "Home", "first", Hidden),
    b(A::Last, LAST, "End", "last", Hidden),
];

pub const SETTINGS: &[Binding<Action>] = &[
    b(
        A::Change,
        &[Chord::key(KeyCode::Enter), Chord::ch(' ')],
        "Enter",
        "change",
        Footer,
    ),
    b(
        A::Uninstall,
        &[Chord::ch('d'), Chord::key(KeyCode::Delete)],
        "d",
        "remove the maintenance window",
        Help,
    ),
];

pub const FLEET: &[Binding<Action>] = &[
    b(A::OpenCluster, ENTER, "Enter", "open dashboard", Footer),
    b(A::Up, UP, "↑/↓", "cluster", Footer),
];

/// The tables that answer keys in the model's current mode, most specific first.
pub fn tables(model: &Model) -> Vec<&'static [Binding<Action>]> {
    match model.pane {
        // Every other key is text for the filter, `?` and `q` included.
        Pane::Components if model.components.filtering => vec![FILTERING, ANYWHERE],
        Pane::Dashboard => vec![DASHBOARD, GLOBAL],
        Pane::Components => vec![COMPONENTS, GLOBAL],
        Pane::Upgrades => vec![UPGRADES, LIST, GLOBAL],
        Pane::Alerts => vec![ALERTS, GLOBAL],
        Pane::Settings => vec![SETTINGS, LIST, GLOBAL],
        Pane::Fleet => vec![FLEET, LIST, GLOBAL],
    }
}

/// Whether an action is offered now: write actions are replaced by one "disabled" row in
/// read-only mode.
fn offered(model: &Model, a: Action) -> bool {
    match a {
        A::WritesDisabled => model.readonly,
        A::Install
        | A::Uninstall
        | A::Upgrade
        | A::UpgradeNow
        | A::Schedule
        | A::Retry
        | A::ReconcileNow
        | A::Suspend
        | A::CancelUpgrade => !model.readonly,
        _ => true,
    }
}

/// The action `key` asks for in the model's current mode.
pub fn action(model: &Model, key: &crossterm::event::KeyEvent) -> Option<Action> {
    tables(model)
        .into_iter()
        .find_map(|t| crate::tui::keymap::lookup(t, key))
}

/// Footer and `?` hints for the model's current mode, from the same tables.
pub fn key_hints(model: &Model) -> Vec<KeyHint> {
    let mut out = Vec::new();
    for t in tables(model) {
        out.extend(hints(t, |a| offered(model, a)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keymap::event_for;

    const ALL: &[&[Binding<Action>]] = &[
        ANYWHERE, GLOBAL, LIST, DASHBOARD, COMPONENTS, FILTERING, UPGRADES, ALERTS, SETTINGS, FLEET,
    ];

    #[test]
    fn key_tables_every_chord_reaches_its_own_row() {
        for table in ALL {
            for row in table.iter() {
                for chord in row.chords {
                    let key = event_for(chord);
                    assert_eq!(
                        crate::tui::keymap::lookup(table, &key),
                        Some(row.action),
                        "{key:?} is taken by an earlier row than {:?}",
                        row.action
                    );
                }
                if row.chords.is_empty() {
                    assert!(
                        matches!(row.action, Action::WritesDisabled | Action::CtxCommand),
                        "{:?} is listed but no key triggers it",
                        row.action
                    );
                }
            }
        }
    }

    #[test]
    fn key_tables_pane_keys_do_not_shadow_global_ones() {
        for table in [
            DASHBOARD, COMPONENTS, UPGRADES, ALERTS, SETTINGS, FLEET, LIST,
        ] {
            for row in GLOBAL {
                for chord in row.chords {
                    let key = event_for(chord);
                    assert_eq!(
                        crate::tui::keymap::lookup(table, &key),
                        None,
                        "{key:?} means {:?} everywhere but something else on a pane",
                        row.action
                    );
                }
            }
        }
    }
}
