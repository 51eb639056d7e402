//! Owns the key-hint footer: one line fed by the current screen's `key_hints()`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::keymap::KeyHint;
use crate::tui::theme::Theme;

/// Render as many hints as fit on one line; the rest are in `?`.
pub fn render_footer(frame: &mut Frame, area: Rect, hints: &[KeyHint], theme: &Theme) {
    let mut spans = Vec::new();
    let mut used = 0usize;
    for h in hints.iter().filter(|h| h.footer) {
        let w = h.key.chars().count() + h.action.chars().count() + 3;
        if used + w > area.width as usize {
            break;
        }
        spans.push(Span::styled(h.key, theme.key));
        spans.push(Span::styled(format!(" {}  ", h.action), theme.muted));
        used += w;
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
