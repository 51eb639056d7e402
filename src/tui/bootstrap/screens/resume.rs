//! Owns the resume screen shown at start when drafts exist: each with age and progress, plus
//! starting a new one.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::tui::bootstrap::model::{Mode, Model};
use crate::tui::keymap::KeyHint;
use crate::tui::theme::Theme;

pub fn key_hints() -> Vec<KeyHint> {
    crate::tui::bootstrap::keys::all_hints(crate::tui::bootstrap::keys::RESUME)
}

pub fn render(m: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let Mode::Resume { drafts, cursor } = &m.mode else {
        return;
    };
    let mut lines = vec![
        Line::from(Span::styled(
            "Resume a draft? Every change was saved as you typed.",
            theme.text,
        )),
        Line::from(""),
    ];
    for (i, d) in drafts.iter().enumerate() {
        let style = if i == *cursor {
            theme.selected
        } else {
            theme.text
        };
        lines.push(Line::from(Span::styled(
            format!(
                "  #{:<4} {:<32} {}/6 complete   {}",
                d.id,
                crate::tui::widgets::truncate(&d.title, 32),
                d.progress,
                d.age
            ),
            style,
        )));
    }
    let style = if *cursor == drafts.len() {
        theme.selected
    } else {
        theme.accent
    };
    lines.push(Line::from(Span::styled("  + Start a new draft", style)));
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(" Drafts ", theme.title)),
        ),
        area,
    );
}
