//! Owns the `?` help overlay: every key of the current screen, then the global ones.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::keymap::KeyHint;
use crate::tui::theme::Theme;

/// `closes` says which keys close the overlay (the wizard's and the console's differ).
pub fn render_help(
    frame: &mut Frame,
    area: Rect,
    screen: &str,
    hints: &[KeyHint],
    closes: &str,
    theme: &Theme,
) {
    let mut lines = vec![Line::from(Span::styled(
        format!("Keys on {screen}"),
        theme.title,
    ))];
    for h in hints {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<12}", h.key), theme.key),
            Span::styled(h.action, theme.text),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(closes.to_string(), theme.muted)));
    let height = (lines.len() as u16 + 2).min(area.height);
    let rect = super::centered(area, 64, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border_focus)
                .title(" Help "),
        ),
        rect,
    );
}
