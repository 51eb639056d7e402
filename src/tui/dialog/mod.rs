//! Owns modal dialogs. Dialogs form a stack on the application; the top one sees keys first. A
//! confirm dialog carries the intent it confirms, so answering it cannot act on stale state.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::keymap::is_char;
use super::theme::Theme;

/// A yes/no question about `intent`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmDialog<I> {
    pub title: String,
    pub body: Vec<String>,
    pub yes: String,
    pub no: String,
    pub intent: I,
    /// Scroll offset for long bodies.
    pub scroll: u16,
}

/// How a key press left a dialog.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer<I> {
    Yes(I),
    No,
    Pending,
}

impl<I: Clone> ConfirmDialog<I> {
    pub fn new(
        title: impl Into<String>,
        body: Vec<String>,
        yes: &str,
        no: &str,
        intent: I,
    ) -> Self {
        Self {
            title: title.into(),
            body,
            yes: yes.into(),
            no: no.into(),
            intent,
            scroll: 0,
        }
    }

    /// `y`/Enter accept; `n`/Esc decline; arrows scroll.
    pub fn handle_key(&mut self, key: &KeyEvent) -> Answer<I> {
        match key.code {
            KeyCode::Enter => Answer::Yes(self.intent.clone()),
            _ if is_char(key, 'y') => Answer::Yes(self.intent.clone()),
            KeyCode::Esc => Answer::No,
            _ if is_char(key, 'n') => Answer::No,
            KeyCode::Down | KeyCode::PageDown => {
                self.scroll = self.scroll.saturating_add(1).min(self.body.len() as u16);
                Answer::Pending
            }
            KeyCode::Up | KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(1);
                Answer::Pending
            }
            _ => Answer::Pending,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let mut lines: Vec<Line> = self
            .body
            .iter()
            .map(|l| Line::from(Span::styled(l.clone(), theme.text)))
            .collect();
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            Span::styled("y/Enter", theme.key),
            Span::styled(format!(" {}   ", self.yes), theme.text),
            Span::styled("n/Esc", theme.key),
            Span::styled(format!(" {}", self.no), theme.text),
        ]));
        let height = (lines.len() as u16 + 2)
            .min(area.height.saturating_sub(2))
            .max(5);
        let rect = crate::tui::widgets::centered(area, 70, height);
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((self.scroll, 0))
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .border_style(theme.border_focus)
                        .title(Span::styled(format!(" {} ", self.title), theme.title)),
                ),
            rect,
        );
    }
}
