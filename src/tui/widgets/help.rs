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
    // Every action starts in one column, two spaces past the widest key.
    let key_w = hints
        .iter()
        .map(|h| super::display_width(h.key))
        .max()
        .unwrap_or(0)
        + 2;
    for h in hints {
        lines.push(Line::from(vec![
            Span::styled(format!("  {}", super::pad(h.key, key_w)), theme.key),
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

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    #[test]
    fn help_actions_start_in_one_column_past_the_widest_key() {
        let hints = [
            KeyHint::new("↑/↓ PgUp/PgDn", "move"),
            KeyHint::new("q", "quit"),
        ];
        let mut t = Terminal::new(TestBackend::new(80, 12)).unwrap();
        t.draw(|f| render_help(f, f.area(), "X", &hints, "Esc closes", &Theme::mono()))
            .unwrap();
        let buf = t.backend().buffer().clone();
        let rows: Vec<String> = (0..12)
            .map(|y| (0..80).map(|x| buf[(x, y)].symbol().to_string()).collect())
            .collect();
        let col = |needle: &str| {
            rows.iter()
                .find_map(|r| r.find(needle).map(|i| r[..i].chars().count()))
                .unwrap_or_else(|| panic!("{needle} not in {rows:#?}"))
        };
        assert!(
            rows.iter().any(|r| r.contains("PgUp/PgDn  move")),
            "{rows:#?}"
        );
        assert_eq!(col("move"), col("quit"));
    }
}
