//! Owns key naming: the hints shown in the footer and the help overlay, and matching of key
//! events. Screens list their keys as `KeyHint`s so the footer and `?` can never disagree with
//! what the screen actually handles.

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

/// Keys every screen shares.
pub const GLOBAL: [KeyHint; 5] = [
    KeyHint::new("?", "help"),
    KeyHint::help_only("Tab/S-Tab", "next/previous field"),
    KeyHint::help_only("Esc", "back"),
    KeyHint::new("q", "quit"),
    KeyHint::help_only("Ctrl+C", "quit (asks while work is running)"),
];

/// Keys every screen shares, while a text field has the focus: `?` and `q` are text there.
pub const GLOBAL_TYPING: [KeyHint; 5] = [
    KeyHint::new("F1", "help"),
    KeyHint::help_only("Tab/S-Tab", "next/previous field"),
    KeyHint::help_only("Esc", "back"),
    KeyHint::new("Ctrl+C", "quit"),
    KeyHint::help_only("? q", "typed as text in this field"),
];

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
