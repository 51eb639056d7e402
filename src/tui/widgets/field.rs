//! Owns single-line text editing: a value, a cursor, a length cap, and filtering of control
//! characters so pasted garbage can never reach the screen or a saved draft.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use unicode_width::UnicodeWidthChar;

/// Longest value any field accepts; longer pastes are cut (and the screen says so).
pub const MAX_LEN: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextField {
    value: String,
    /// Cursor as a char index into `value`.
    cursor: usize,
    max: usize,
}

/// What an edit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Changed,
    /// Input was cut to the length cap or had control characters removed.
    ChangedAndCut,
    Unchanged,
    /// The key is not an editing key.
    NotHandled,
}

impl Default for TextField {
    fn default() -> Self {
        TextField::new("")
    }
}

impl TextField {
    pub fn new(value: &str) -> Self {
        Self::with_max(value, MAX_LEN)
    }

    pub fn with_max(value: &str, max: usize) -> Self {
        let mut f = TextField {
            value: String::new(),
            cursor: 0,
            max,
        };
        f.insert_str(value);
        f
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn set(&mut self, value: &str) {
        self.value.clear();
        self.cursor = 0;
        self.insert_str(value);
    }

    /// Insert text at the cursor: control characters (including newlines from a multi-line
    /// paste) are dropped, and the result is capped at the field's maximum length.
    pub fn insert_str(&mut self, text: &str) -> Edit {
        let mut cut = false;
        let mut inserted = false;
        let mut count = self.value.chars().count();
        let mut byte = self.byte_index(self.cursor);
        for c in text.chars() {
            if c.is_control() {
                cut = true;
                continue;
            }
            if count >= self.max {
                cut = true;
                break;
            }
            self.value.insert(byte, c);
            byte += c.len_utf8();
            self.cursor += 1;
            count += 1;
            inserted = true;
        }
        match (inserted, cut) {
            (_, true) => Edit::ChangedAndCut,
            (true, false) => Edit::Changed,
            (false, false) => Edit::Unchanged,
        }
    }

    fn byte_index(&self, char_idx: usize) -> usize {
        self.value
            .char_indices()
            .nth(char_idx)
            .map(|(i, _)| i)
            .unwrap_or(self.value.len())
    }

    /// Apply an editing key.
    pub fn handle_key(&mut self, key: &KeyEvent) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let len = self.value.chars().count();
        match key.code {
            KeyCode::Char('u') if ctrl => {
                if self.value.is_empty() {
                    return Edit::Unchanged;
                }
                self.value.clear();
                self.cursor = 0;
                Edit::Changed
            }
            KeyCode::Char(c) if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) => {
                self.insert_str(&c.to_string())
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let b = self.byte_index(self.cursor - 1);
                self.value.remove(b);
                self.cursor -= 1;
                Edit::Changed
            }
            KeyCode::Delete if self.cursor < len => {
                let b = self.byte_index(self.cursor);
                self.value.remove(b);
                Edit::Changed
            }
            KeyCode::Left if self.cursor > 0 => {
                self.cursor -= 1;
                Edit::Unchanged
            }
            KeyCode::Right if self.cursor < len => {
                self.cursor += 1;
                Edit::Unchanged
            }
            KeyCode::Home => {
                self.cursor = 0;
                Edit::Unchanged
            }
            KeyCode::End => {
                self.cursor = len;
                Edit::Unchanged
            }
            KeyCode::Backspace | KeyCode::Delete | KeyCode::Left | KeyCode::Right => {
                Edit::Unchanged
            }
            _ => Edit::NotHandled,
        }
    }

    /// The part of the value to show in `width` columns so the cursor stays visible, and the
    /// cursor's column within it. `mask` replaces every character with `•`.
    pub fn visible(&self, width: usize, mask: bool) -> (String, usize) {
        if width == 0 {
            return (String::new(), 0);
        }
        let chars: Vec<char> = if mask {
            self.value.chars().map(|_| '•').collect()
        } else {
            self.value.chars().collect()
        };
        let w = |c: &char| c.width().unwrap_or(0);
        // Scroll so that the cursor column fits, keeping one column for the cursor itself.
        let mut start = 0;
        loop {
            let before: usize = chars[start..self.cursor.min(chars.len())]
                .iter()
                .map(w)
                .sum();
            if before < width || start >= self.cursor {
                break;
            }
            start += 1;
        }
        let mut out = String::new();
        let mut used = 0;
        let mut cursor_col = 0;
        for (i, c) in chars.iter().enumerate().skip(start) {
            if i == self.cursor {
                cursor_col = used;
            }
            let cw = w(c);
            if used + cw > width {
                break;
            }
            out.push(*c);
            used += cw;
        }
        if self.cursor >= chars.len() {
            cursor_col = used.min(width.saturating_sub(1));
        }
        (out, cursor_col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEvent;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn field_paste_with_control_chars_drops_them() {
        let mut f = TextField::new("");
        assert_eq!(f.insert_str("ab\x1b[2J\ncd\t"), Edit::ChangedAndCut);
        assert_eq!(f.value(), "ab[2Jcd");
    }

    #[test]
    fn field_huge_paste_is_capped() {
        let mut f = TextField::new("");
        let long = "x".repeat(10_000);
        assert_eq!(f.insert_str(&long), Edit::ChangedAndCut);
        assert_eq!(f.value().len(), MAX_LEN);
    }

    #[test]
    fn field_editing_keys_move_and_delete_by_character() {
        let mut f = TextField::new("añb");
        f.handle_key(&key(KeyCode::Left));
        f.handle_key(&key(KeyCode::Backspace));
        assert_eq!(f.value(), "ab");
        f.handle_key(&key(KeyCode::Home));
        f.handle_key(&key(KeyCode::Delete));
        assert_eq!(f.value(), "b");
    }

    #[test]
    fn field_visible_wide_text_never_exceeds_width() {
        let f = TextField::new(&"漢字".repeat(100));
        let (s, col) = f.visible(11, false);
        let w: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
        assert!(w <= 11, "{w}");
        assert!(col < 11);
    }

    #[test]
    fn field_masked_view_hides_every_character() {
        let f = TextField::new("secret-token");
        let (s, _) = f.visible(40, true);
        assert!(!s.contains("secret"));
        assert_eq!(s.chars().count(), 12);
    }
}
