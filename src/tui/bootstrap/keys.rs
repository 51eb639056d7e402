//! Owns the wizard's keys: one `Action` per intent and a table per mode binding keys to
//! actions. The handlers look keys up here and the footer and `?` are made from the same tables.
//!
//! On the form screens (Organization, Credentials, Provider, Regions) a text field takes the
//! keys its table leaves to it (letters, ←/→ move its cursor); a choice field cycles on them.

use crossterm::event::KeyCode;

use super::model::Step;
use crate::tui::keymap::chords::{DOWN, ENTER, ESC, PAGE_DOWN, PAGE_UP, TAB, UP};
use crate::tui::keymap::{Binding, Chord, KeyHint, Shown, bind as b, hints, hints_in};

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
    ToggleOffline,
    /// Form screens: the next/previous field.
    NextField,
    PrevField,
    /// Form screens: Enter on the focused field (next field, check, generate, next screen).
    EnterField,
    /// Form screens: the next/previous value of a choice (a text field takes the key).
    NextChoice,
    PrevChoice,
    /// Form screens: show or hide the focused secret.
    Reveal,
    /// Form screens: empty the focused text field.
    ClearField,
    /// A path prompt: write to the typed path.
    Submit,
}

use Action as A;
use Shown::{Footer, Help, Hidden};

type Table = &'static [Binding<Action>];

/// Back a screen: PgUp, and Esc outside text.
const PREV_SCREEN: Binding<Action> = b(
    A::PrevScreen,
    &[Chord::key(KeyCode::PageUp), Chord::key(KeyCode::Esc)],
    "PgUp",
    "previous screen",
    Help,
);
const NEXT_SCREEN: Binding<Action> = b(A::NextScreen, PAGE_DOWN, "PgDn", "next screen", Footer);
const NEXT_CHOICE_KEYS: &[Chord] = &[Chord::key(KeyCode::Right), Chord::ch(' ')];
const PREV_CHOICE: Binding<Action> = b(
    A::PrevChoice,
    &[Chord::key(KeyCode::Left)],
    "←",
    "previous value",
    Hidden,
);
const NEXT_FIELD_KEYS: &[Chord] = &[Chord::key(KeyCode::Tab), Chord::key(KeyCode::Down)];
const PREV_FIELD: Binding<Action> = b(
    A::PrevField,
    &[Chord::key(KeyCode::BackTab), Chord::key(KeyCode::Up)],
    "S-Tab/↑",
    "previous field",
    Hidden,
);
const CLEAR_FIELD: Binding<Action> = b(
    A::ClearField,
    &[Chord::ctrl('u')],
    "Ctrl+U",
    "clear field",
    Help,
);

/// The rows Organization and Credentials share, after their Enter row.
const FORM: Table = &[
    b(
        A::NextChoice,
        NEXT_CHOICE_KEYS,
        "←/→",
        "change choice",
        Footer,
    ),
    NEXT_SCREEN,
    PREV_SCREEN,
    CLEAR_FIELD,
    PREV_CHOICE,
    b(A::NextField, NEXT_FIELD_KEYS, "Tab/↓", "next field", Hidden),
    PREV_FIELD,
];

pub const ORGANIZATION: &[Table] = &[
    &[b(A::EnterField, ENTER, "Enter", "next field", Footer)],
    FORM,
];

/// `Ctrl+O` is offered only while a secret has the focus.
pub const CREDENTIALS: &[Table] = &[
    &[
        b(A::EnterField, ENTER, "Enter", "next/check/generate", Footer),
        b(
            A::Reveal,
            &[Chord::ctrl('o')],
            "Ctrl+O",
            "show/hide",
            Footer,
        ),
    ],
    FORM,
];

/// One list of providers: ↑/↓ choose in it.
pub const PROVIDER: &[Table] = &[&[
    b(
        A::PrevChoice,
        &[Chord::key(KeyCode::Up), Chord::key(KeyCode::Left)],
        "↑/↓",
        "choose",
        Footer,
    ),
    b(
        A::NextChoice,
        &[
            Chord::key(KeyCode::Down),
            Chord::key(KeyCode::Right),
            Chord::ch(' '),
        ],
        "↓",
        "next provider",
        Hidden,
    ),
    b(A::EnterField, ENTER, "Enter", "next screen", Footer),
    b(A::NextScreen, PAGE_DOWN, "PgDn", "next screen", Help),
    PREV_SCREEN,
]];

pub const REGIONS: &[Table] = &[&[
    b(A::NextChoice, NEXT_CHOICE_KEYS, "←/→", "change", Footer),
    b(A::NextField, NEXT_FIELD_KEYS, "Tab/↓", "next field", Footer),
    NEXT_SCREEN,
    b(A::EnterField, ENTER, "Enter", "next field", Help),
    PREV_SCREEN,
    PREV_CHOICE,
    PREV_FIELD,
]];

/// The tables of a form screen (empty on the list screens, which have their own).
pub fn form(step: Step) -> &'static [Table] {
    match step {
        Step::Organization => ORGANIZATION,
        Step::Credentials => CREDENTIALS,
        Step::Provider => PROVIDER,
        Step::Regions => REGIONS,
        Step::Components | Step::Review => &[],
    }
}

/// A path prompt (export, saving the private key): every other key is text.
pub const PROMPT: Table = &[
    b(A::Submit, ENTER, "Enter", "write", Footer),
    b(A::Leave, ESC, "Esc", "cancel", Footer),
];

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
    PREV_SCREEN,
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
    b(
        A::ToggleOffline,
        &[Chord::ch('o')],
        "o",
        "offline: skip the live credential check (again: check)",
        Help,
    ),
    b(A::Up, UP, "↑/↓", "choose problem (or scroll)", Help),
    b(A::Down, DOWN, "↓", "next problem", Hidden),
    PREV_SCREEN,
];

const SWITCH_PANE: Table = &[b(A::SwitchPane, TAB, "Tab", "table/log", Footer)];

/// Scrolling the progress screen and the plan review.
const SCROLL: Table = &[
    b(A::Up, UP, "↑↓", "scroll", Footer),
    b(A::Down, DOWN, "↓", "scroll down", Hidden),
    b(A::PageUp, PAGE_UP, "PgUp/PgDn", "scroll a page", Help),
    b(A::PageDown, PAGE_DOWN, "PgDn", "page down", Hidden),
];

const FOLLOW: Table = &[b(
    A::Follow,
    &[Chord::key(KeyCode::End)],
    "End",
    "follow the newest log line",
    Help,
)];

/// Leaving the progress screen: Esc, and `q` on the screen on its own (in the wizard `q` quits
/// the whole wizard, asking first; the run goes on either way), so the rows name Esc.
const LEAVE_KEYS: &[Chord] = &[Chord::key(KeyCode::Esc), Chord::ch('q')];
const CANCEL: Binding<Action> = b(A::CancelRun, &[Chord::ch('c')], "c", "cancel run", Footer);
const LEAVE_LIVE: Binding<Action> = b(A::Leave, LEAVE_KEYS, "Esc", "back (run goes on)", Footer);
const RETRY: Binding<Action> = b(
    A::Retry,
    &[Chord::ch('r')],
    "r",
    "plan again from Review",
    Footer,
);
const LEAVE_ENDED: Binding<Action> = b(A::Leave, LEAVE_KEYS, "Esc", "back", Footer);

/// The progress screen while its run can still be cancelled.
pub const PROGRESS_LIVE: &[Table] = &[&[CANCEL], SWITCH_PANE, SCROLL, FOLLOW, &[LEAVE_LIVE]];

/// The progress screen of a run that has ended (or is being cancelled): nothing to cancel, and
/// leaving leaves nothing running. A run that did not succeed offers to plan again.
pub const PROGRESS_ENDED: &[Table] = &[&[RETRY], SWITCH_PANE, SCROLL, FOLLOW, &[LEAVE_ENDED]];

/// The review of a finished plan run: approve applies exactly that plan, reject discards it.
pub const PLAN_REVIEW: &[Table] = &[
    &[
        b(
            A::ApproveApply,
            &[Chord::ch('a')],
            "a",
            "approve and apply",
            Footer,
        ),
        b(A::RejectPlan, &[Chord::ch('x')], "x", "reject", Footer),
    ],
    SCROLL,
    &[b(A::Leave, ESC, "Esc", "back (plan kept)", Footer)],
];

/// The progress screen asking whether to cancel.
pub const PROGRESS_CONFIRM: &[Table] = &[&[
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
]];

/// Every listed row of `table`.
pub fn all_hints(table: &[Binding<Action>]) -> Vec<KeyHint> {
    hints(table, |_| true)
}

/// Every listed row of a mode made of several tables.
pub fn all_hints_in(tables: &[Table]) -> Vec<KeyHint> {
    hints_in(tables, |_| true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keymap::{event_for, lookup_in};

    #[test]
    fn wizard_key_tables_every_chord_reaches_its_own_row() {
        let single = [
            RESUME,
            COMPONENTS,
            HELP,
            FILTER_KEPT,
            FILTERING,
            REVIEW,
            PROMPT,
        ];
        let modes = single.iter().map(std::slice::from_ref).chain([
            ORGANIZATION,
            CREDENTIALS,
            PROVIDER,
            REGIONS,
            PROGRESS_LIVE,
            PROGRESS_ENDED,
            PROGRESS_CONFIRM,
            PLAN_REVIEW,
        ]);
        for mode in modes {
            for row in mode.iter().flat_map(|t| t.iter()) {
                for chord in row.chords {
                    let key = event_for(chord);
                    assert_eq!(lookup_in(mode, &key), Some(row.action), "{key:?}");
                }
            }
        }
    }
}
