//! Owns the key-hint footer: one line fed by the current screen's `key_hints()`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::keymap::KeyHint;
use crate::tui::theme::Theme;

/// Shown where hints were left out for lack of room; `?` lists them all.
const MORE: &str = "… ";

/// Help and quit stay on the line whatever else does not fit.
fn pinned(h: &KeyHint) -> bool {
    h.action == "help" || h.action == "quit"
}

fn width(h: &KeyHint) -> usize {
    h.key.chars().count() + h.action.chars().count() + 3
}

/// The footer hints that fit in `room` columns, in order, and whether any were left out. The
/// help and quit hints are always kept (at the end); the screen's own hints fill the rest.
pub fn fit(hints: &[KeyHint], room: usize) -> (Vec<KeyHint>, bool) {
    let shown: Vec<&KeyHint> = hints.iter().filter(|h| h.footer).collect();
    let keep: Vec<KeyHint> = shown.iter().filter(|h| pinned(h)).map(|h| **h).collect();
    let all: usize = shown.iter().map(|h| width(h)).sum();
    if all <= room {
        return (shown.into_iter().copied().collect(), false);
    }
    let budget = room.saturating_sub(keep.iter().map(width).sum::<usize>() + MORE.chars().count());
    let mut out = Vec::new();
    let mut used = 0;
    for h in shown.iter().filter(|h| !pinned(h)) {
        if used + width(h) > budget {
            break;
        }
        used += width(h);
        out.push(**h);
    }
    out.extend(keep);
    (out, true)
}

/// Render as many hints as fit on one line, always with help and quit; `…` marks that some
/// were left out (the rest are in `?`).
pub fn render_footer(frame: &mut Frame, area: Rect, hints: &[KeyHint], theme: &Theme) {
    let (shown, cut) = fit(hints, area.width as usize);
    let mut spans = Vec::new();
    for h in &shown {
        if cut && pinned(h) && !spans.iter().any(|s: &Span| s.content == MORE) {
            spans.push(Span::styled(MORE, theme.muted));
        }
        spans.push(Span::styled(h.key, theme.key));
        spans.push(Span::styled(format!(" {}  ", h.action), theme.muted));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    const HINTS: [KeyHint; 6] = [
        KeyHint::new("Enter", "check token"),
        KeyHint::new("Ctrl+O", "show/hide"),
        KeyHint::new("Ctrl+U", "clear"),
        KeyHint::new("PgDn", "next screen"),
        KeyHint::new("F1", "help"),
        KeyHint::new("Ctrl+C", "quit"),
    ];

    #[test]
    fn footer_keeps_help_and_quit_and_marks_what_it_leaves_out() {
        let (all, cut) = fit(&HINTS, 200);
        assert_eq!(all.len(), 6);
        assert!(!cut);
        let (some, cut) = fit(&HINTS, 50);
        assert!(cut);
        let keys: Vec<&str> = some.iter().map(|h| h.key).collect();
        assert!(keys.ends_with(&["F1", "Ctrl+C"]), "{keys:?}");
        let used: usize = some.iter().map(width).sum::<usize>() + MORE.chars().count();
        assert!(used <= 50, "{used}");
    }
}
