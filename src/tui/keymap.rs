//! Owns key naming and matching: `Chord`s (a key with the modifiers it needs), per-mode tables
//! of `Binding`s from chords to a mode's `Action`s, and the `KeyHint`s the footer and the help
//! overlay show. Handlers look keys up in the same tables the hints are made from, so what is
//! shown and what is handled cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// One key and what it does on the current screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyHint {
    pub key: &'static str,
    pub action: &'static str,
    /// Shown in the footer as well as in the help overlay.
    pub footer: bool,
}

impl KeyHint {
    pub const fn new(key: &'static str, action: &'static str) -> Self {
        Self {
            key,
            action,
            footer: true,
        }
    }
    /// Listed in `?` only, to keep the footer to one line at 80 columns.
    pub const fn help_only(key: &'static str, action: &'static str) -> Self {
        Self {
            key,
            action,
            footer: false,
        }
    }
}

/// The wizard's keys on every screen. While a text field has the focus (`typing`) `?` and `q`
/// are text there, so F1 and Ctrl+C stand in for them.
pub fn global(typing: bool) -> [KeyHint; 5] {
    let [help, quit, last] = if typing {
        [
            KeyHint::new("F1", "help"),
            KeyHint::new("Ctrl+C", "quit"),
            KeyHint::help_only("? q", "typed as text in this field"),
        ]
    } else {
        [
            KeyHint::new("?", "help"),
            KeyHint::new("q", "quit"),
            KeyHint::help_only("Ctrl+C", "quit (asks while work is running)"),
        ]
    };
    [
        help,
        KeyHint::help_only("Tab/S-Tab", "next/previous field"),
        KeyHint::help_only("Esc", "back"),
        quit,
        last,
    ]
}

/// A plain character without Ctrl/Alt (Shift is part of the character itself).
pub fn is_char(key: &KeyEvent, c: char) -> bool {
    key.code == KeyCode::Char(c)
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

/// No Ctrl or Alt held (Shift may be: terminals report it with some keys).
pub fn plain(key: &KeyEvent) -> bool {
    !key.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

pub fn is_ctrl(key: &KeyEvent, c: char) -> bool {
    key.code == KeyCode::Char(c) && key.modifiers.contains(KeyModifiers::CONTROL)
}

/// Tab forwards; Shift+Tab arrives as BackTab on most terminals and as Shift+Tab on others.
pub fn is_back_tab(key: &KeyEvent) -> bool {
    key.code == KeyCode::BackTab
        || (key.code == KeyCode::Tab && key.modifiers.contains(KeyModifiers::SHIFT))
}

pub fn is_tab(key: &KeyEvent) -> bool {
    key.code == KeyCode::Tab && !key.modifiers.contains(KeyModifiers::SHIFT)
}

/// One key press a binding answers to. Ctrl and Alt must be held exactly as written (`Ctrl+Y`
/// is not `y`); Shift is part of a character (`G`, `?`) and of Shift+Tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chord {
    code: KeyCode,
    ctrl: bool,
}

impl Chord {
    /// A key without Ctrl or Alt.
    pub const fn key(code: KeyCode) -> Chord {
        Chord { code, ctrl: false }
    }
    /// A character without Ctrl or Alt.
    pub const fn ch(c: char) -> Chord {
        Chord::key(KeyCode::Char(c))
    }
    /// Ctrl and a character.
    pub const fn ctrl(c: char) -> Chord {
        Chord {
            code: KeyCode::Char(c),
            ctrl: true,
        }
    }

    pub fn matches(&self, key: &KeyEvent) -> bool {
        if key.modifiers.contains(KeyModifiers::ALT)
            || key.modifiers.contains(KeyModifiers::CONTROL) != self.ctrl
        {
            return false;
        }
        match self.code {
            KeyCode::Tab => is_tab(key),
            KeyCode::BackTab => is_back_tab(key),
            code => key.code == code,
        }
    }
}

/// How a binding is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// In the footer and in `?`.
    Footer,
    /// In `?` only.
    Help,
    /// Not listed: another row of the table names it (e.g. `1-5 / Tab` for `2`).
    Hidden,
}

/// One row of a mode's key table: the chords that trigger `action`, and how the row is listed.
/// Key handlers look actions up here and hints are made from here, so they cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding<A> {
    pub action: A,
    pub chords: &'static [Chord],
    pub keys: &'static str,
    pub what: &'static str,
    pub shown: Shown,
}

impl<A> Binding<A> {
    /// This row as a hint, or `None` when another row names it.
    pub fn hint(&self) -> Option<KeyHint> {
        match self.shown {
            Shown::Footer => Some(KeyHint::new(self.keys, self.what)),
            Shown::Help => Some(KeyHint::help_only(self.keys, self.what)),
            Shown::Hidden => None,
        }
    }
}

/// A table row (the modes' tables import it as `b`).
pub const fn bind<A>(
    action: A,
    chords: &'static [Chord],
    keys: &'static str,
    what: &'static str,
    shown: Shown,
) -> Binding<A> {
    Binding {
        action,
        chords,
        keys,
        what,
        shown,
    }
}

/// Chords the modes' tables share.
pub mod chords {
    use super::Chord;
    use crossterm::event::KeyCode;

    pub const UP: &[Chord] = &[Chord::key(KeyCode::Up)];
    pub const DOWN: &[Chord] = &[Chord::key(KeyCode::Down)];
    pub const ENTER: &[Chord] = &[Chord::key(KeyCode::Enter)];
    pub const ESC: &[Chord] = &[Chord::key(KeyCode::Esc)];
    pub const PAGE_UP: &[Chord] = &[Chord::key(KeyCode::PageUp)];
    pub const PAGE_DOWN: &[Chord] = &[Chord::key(KeyCode::PageDown)];
    pub const TAB: &[Chord] = &[Chord::key(KeyCode::Tab)];
}

/// The action `key` triggers in `table`, if any.
pub fn lookup<A: Copy>(table: &[Binding<A>], key: &KeyEvent) -> Option<A> {
    table
        .iter()
        .find(|b| b.chords.iter().any(|c| c.matches(key)))
        .map(|b| b.action)
}

/// The action `key` triggers in the first of `tables` that binds it (a mode made of several
/// tables, most specific first).
pub fn lookup_in<A: Copy>(tables: &[&[Binding<A>]], key: &KeyEvent) -> Option<A> {
    tables.iter().find_map(|t| lookup(t, key))
}

/// The hints of every table of a mode, in order.
pub fn hints_in<A: Copy>(tables: &[&[Binding<A>]], available: impl Fn(A) -> bool) -> Vec<KeyHint> {
    tables.iter().flat_map(|t| hints(t, &available)).collect()
}

/// The hints of every row of `table` whose action `available` lets through, in table order.
pub fn hints<A: Copy>(table: &[Binding<A>], available: impl Fn(A) -> bool) -> Vec<KeyHint> {
    table
        .iter()
        .filter(|b| available(b.action))
        .filter_map(Binding::hint)
        .collect()
}

/// A key event a terminal sends that `chord` answers to (for the tables' tests).
#[cfg(test)]
pub fn event_for(chord: &Chord) -> KeyEvent {
    let codes = [
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Delete,
        KeyCode::F(1),
    ];
    codes
        .into_iter()
        .chain((' '..='~').map(KeyCode::Char))
        .flat_map(|c| [KeyModifiers::NONE, KeyModifiers::CONTROL].map(|m| KeyEvent::new(c, m)))
        .find(|k| chord.matches(k))
        .unwrap_or_else(|| panic!("no key event matches {chord:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chord_ctrl_y_is_not_y_and_shift_tab_is_back_tab() {
        let y = Chord::ch('y');
        assert!(y.matches(&KeyEvent::from(KeyCode::Char('y'))));
        assert!(!y.matches(&KeyEvent::new(KeyCode::Char('y'), KeyModifiers::CONTROL)));
        assert!(!y.matches(&KeyEvent::new(KeyCode::Char('y'), KeyModifiers::ALT)));
        assert!(!Chord::ctrl('y').matches(&KeyEvent::from(KeyCode::Char('y'))));
        let back = Chord::key(KeyCode::BackTab);
        assert!(back.matches(&KeyEvent::new(KeyCode::Tab, KeyModifiers::SHIFT)));
        assert!(
            !Chord::key(KeyCode::Tab).matches(&KeyEvent::new(KeyCode::Tab, KeyModifiers::SHIFT))
        );
        assert!(Chord::ch('G').matches(&KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT)));
    }
}
