//! Owns the wizard's keys on its list screens (resume, Components, Review) and the progress
//! screen: one `Action` per intent and a table per mode binding keys to actions. The handlers
//! look keys up here and the footer and `?` are made from the same tables.
//!
//! The form screens (Organization, Credentials, Provider, Regions) still name their keys by
//! hand: what a key does there depends on the focused field's kind.

use crossterm::event::KeyCode;

use crate::tui::keymap::{Binding, Chord, KeyHint, Shown, hints};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    First,
    Last,
    NextScreen,
    PrevScreen,
    Open,
    NewDraft,
    DeleteDraft,
    Toggle,
    Filter,
    KeepFilter,
    ClearFilter,
    GoToProblem,
    ScrollDown,
    ScrollUp,
    Export,
    Start,
    CancelRun,
    ConfirmCancel,
    KeepRunning,
    SwitchPane,
    PageUp,
    PageDown,
    Follow,
    Leave,
    ApproveApply,
    RejectPlan,
    Retry,
}

use Action as A;
use Shown::{Footer, Help, Hidden};

const fn b(
    action: Action,
    chords: &'static [Chord],
    keys: &'static str,
    what: &'static str,
    shown: Shown,
) -> Binding<Action> {
    Binding::new(action, chords, keys, what, shown)
}

const UP: &[Chord] = &[Chord::key(KeyCode::Up)];
const DOWN: &[Chord] = &[Chord::key(KeyCode::Down)];
const ENTER: &[Chord] = &[Chord::key(KeyCode::Enter)];
const ESC: &[Chord] = &[Chord::key(KeyCode::Esc)];

pub const RESUME: &[Binding<Action>] = &[
    b(A::Open, ENTER, "Enter", "open", Footer),
    b(A::NewDraft, &[Chord::ch('n')], "n", "new draft", Footer),
    b(
        A::DeleteDraft,
        &[Chord::ch('d')],
        "d",
        "delete draft",
        Footer,
    ),
    b(A::Up, UP, "↑/↓", "choose", Help),
    b(A::Down, DOWN, "↓", "next", Hidden),
    b(A::Leave, ESC, "Esc", "quit", Hidden),
];

pub const COMPONENTS: &[Binding<Action>] = &[
    b(
        A::Toggle,
        &[Chord::ch(' ')],
        "Space",
        "select/deselect",
        Footer,
    ),
    b(A::Filter, &[Chord::ch('/')], "/", "filter", Footer),
    b(
        A::NextScreen,
        &[Chord::key(KeyCode::Enter), Chord::key(KeyCode::PageDown)],
        "Enter",
        "next screen",
        Footer,
    ),
    b(A::Up, UP, "↑/↓ Home/End", "move", Help),
    b(A::Down, DOWN, "↓", "down", Hidden),
    b(
        A::First,
        &[Chord::key(KeyCode::Home)],
        "Home",
        "first",
        Hidden,
    ),
    b(A::Last, &[Chord::key(KeyCode::End)], "End", "last", Hidden),
    b(A::NextScreen, &[], "PgDn", "next screen", Help),
    b(
        A::PrevScreen,
        &[Chord::key(KeyCode::PageUp), Chord::key(KeyCode::Esc)],
        "PgUp",
        "previous screen",
        Help,
    ),
];

/// The `?` overlay: these keys close it (as in the console); other keys are ignored while it
/// is open, so nothing reaches the screen underneath.
pub const HELP: &[Binding<Action>] = &[b(
    A::Leave,
    &[
        Chord::key(KeyCode::Esc),
        Chord::key(KeyCode::Enter),
        Chord::ch('?'),
        Chord::ch('q'),
        Chord::key(KeyCode::F(1)),
    ],
    "Esc Enter ? q F1",
    "close this help",
    Footer,
)];

/// What the overlay's last line says, from [`HELP`].
pub const HELP_CLOSES: &str = "Esc, Enter, ?, q or F1 closes this help; Ctrl+C quits.";

/// On Components while a kept filter hides rows: Esc clears the filter before it leaves the
/// screen (the rows of [`COMPONENTS`] follow).
pub const FILTER_KEPT: &[Binding<Action>] =
    &[b(A::ClearFilter, ESC, "Esc", "clear filter", Footer)];

/// While the filter is typed every other key is text.
pub const FILTERING: &[Binding<Action>] = &[
    b(
        A::KeepFilter,
        &[Chord::key(KeyCode::Enter), Chord::key(KeyCode::Down)],
        "Enter",
        "keep filter",
        Footer,
    ),
    b(A::ClearFilter, ESC, "Esc", "clear filter", Footer),
];

pub const REVIEW: &[Binding<Action>] = &[
    b(
        A::Export,
        &[Chord::ch('e')],
        "e",
        "export platform.toml",
        Footer,
    ),
    b(
        A::Start,
        &[Chord::ch('s')],
        "s",
        "plan, then approve",
        Footer,
    ),
    b(A::GoToProblem, ENTER, "Enter", "go to problem", Footer),
    b(A::ScrollDown, &[Chord::ch('j')], "j/k", "scroll", Footer),
    b(A::ScrollUp, &[Chord::ch('k')], "k", "scroll up", Hidden),
    b(A::Up, UP, "↑/↓", "choose problem (or scroll)", Help),
    b(A::Down, DOWN, "↓", "next problem", Hidden),
    b(
        A::PrevScreen,
        &[Chord::key(KeyCode::PageUp), Chord::key(KeyCode::Esc)],
        "PgUp",
        "previous screen",
        Help,
    ),
];

/// The progress screen while its run can still be cancelled.
pub const PROGRESS_LIVE: &[Binding<Action>] = &[
    b(A::CancelRun, &[Chord::ch('c')], "c", "cancel run", Footer),
    b(
        A::SwitchPane,
        &[Chord::key(KeyCode::Tab)],
        "Tab",
        "table/log",
        Footer,
    ),
    b(A::Up, UP, "↑↓", "scroll", Footer),
    b(A::Down, DOWN, "↓", "scroll down", Hidden),
    b(
        A::PageUp,
        &[Chord::key(KeyCode::PageUp)],
        "PgUp/PgDn",
        "scroll a page",
        Help,
    ),
    b(
        A::PageDown,
        &[Chord::key(KeyCode::PageDown)],
        "PgDn",
        "page down",
        Hidden,
    ),
    b(
        A::Follow,
        &[Chord::key(KeyCode::End)],
        "End",
        "follow the newest log line",
        Help,
    ),
    // In the wizard `q` quits the whole wizard (asking first, the run goes on either way), so
    // the row names Esc; the screen on its own also leaves on `q`.
    b(
        A::Leave,
        &[Chord::key(KeyCode::Esc), Chord::ch('q')],
        "Esc",
        "back (run goes on)",
        Footer,
    ),
];

/// The progress screen of a run that has ended (or is being cancelled): nothing to cancel, and
/// leaving leaves nothing running. A run that did not succeed offers to plan again.
pub const PROGRESS_ENDED: &[Binding<Action>] = &[
    b(
        A::Retry,
        &[Chord::ch('r')],
        "r",
        "plan again from Review",
        Footer,
    ),
    b(
        A::SwitchPane,
        &[Chord::key(KeyCode::Tab)],
        "Tab",
        "table/log",
        Footer,
    ),
    b(A::Up, UP, "↑↓", "scroll", Footer),
    b(A::Down, DOWN, "↓", "scroll down", Hidden),
    b(
        A::PageUp,
        &[Chord::key(KeyCode::PageUp)],
        "PgUp/PgDn",
        "scroll a page",
        Help,
    ),
    b(
        A::PageDown,
        &[Chord::key(KeyCode::PageDown)],
        "PgDn",
        "page down",
        Hidden,
    ),
    b(
        A::Follow,
        &[Chord::key(KeyCode::End)],
        "End",
        "follow the newest log line",
        Help,
    ),
    b(
        A::Leave,
        &[Chord::key(KeyCode::Esc), Chord::ch('q')],
        "Esc",
        "back",
        Footer,
    ),
];

/// The review of a finished plan run: approve applies exactly that plan, reject discards it.
pub const PLAN_REVIEW: &[Binding<Action>] = &[
    b(
        A::ApproveApply,
        &[Chord::ch('a')],
        "a",
        "approve and apply",
        Footer,
    ),
    b(A::RejectPlan, &[Chord::ch('x')], "x", "reject", Footer),
    b(A::Up, UP, "↑↓", "scroll", Footer),
    b(A::Down, DOWN, "↓", "scroll down", Hidden),
    b(
        A::PageUp,
        &[Chord::key(KeyCode::PageUp)],
        "PgUp/PgDn",
        "scroll a page",
        Help,
    ),
    b(
        A::PageDown,
        &[Chord::key(KeyCode::PageDown)],
        "PgDn",
        "page down",
        Hidden,
    ),
    b(
        A::Leave,
        &[Chord::key(KeyCode::Esc)],
        "Esc",
        "back (plan kept)",
        Footer,
    ),
];

/// The progress screen asking whether to cancel.
pub const PROGRESS_CONFIRM: &[Binding<Action>] = &[
    b(
        A::ConfirmCancel,
        &[Chord::ch('y'), Chord::ch('Y')],
        "y",
        "cancel the run",
        Footer,
    ),
    b(
        A::KeepRunning,
        &[Chord::ch('n'), Chord::ch('N'), Chord::key(KeyCode::Esc)],
        "n",
        "keep running",
        Footer,
    ),
];

/// Every listed row of `table`.
pub fn all_hints(table: &[Binding<Action>]) -> Vec<KeyHint> {
    hints(table, |_| true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keymap::lookup;
    use crossterm::event::{KeyEvent, KeyModifiers};

    #[test]
    fn wizard_key_tables_every_chord_reaches_its_own_row() {
        for table in [
            RESUME,
            COMPONENTS,
            HELP,
            FILTER_KEPT,
            FILTERING,
            REVIEW,
            PROGRESS_LIVE,
            PROGRESS_ENDED,
            PROGRESS_CONFIRM,
            PLAN_REVIEW,
        ] {
            for row in table {
                for chord in row.chords {
                    let codes = [
                        KeyCode::Up,
                        KeyCode::Down,
                        KeyCode::Home,
                        KeyCode::End,
                        KeyCode::PageUp,
                        KeyCode::PageDown,
                        KeyCode::Enter,
                        KeyCode::Esc,
                        KeyCode::Tab,
                        KeyCode::F(1),
                    ];
                    let key = codes
                        .into_iter()
                        .chain((' '..='~').map(KeyCode::Char))
                        .map(|c| KeyEvent::new(c, KeyModifiers::NONE))
                        .find(|k| chord.matches(k))
                        .unwrap_or_else(|| panic!("no key for {chord:?}"));
                    assert_eq!(lookup(table, &key), Some(row.action), "{key:?}");
                }
            }
        }
    }
}
