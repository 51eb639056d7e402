//! Owns modal dialogs. Dialogs form a stack on the application; the top one sees keys first and
//! answers with a [`Reply`]: stay open, close, or close asking the application to carry out an
//! intent. A confirm dialog carries the intent it confirms, so answering it cannot act on stale
//! state. The wizard and the console share [`ConfirmDialog`].

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::keymap::{is_char, plain};
use super::theme::Theme;

/// How a dialog took a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply<I> {
    /// The dialog stays open; `true` when it looks different now.
    Keep(bool),
    /// The dialog closes; nothing to do.
    Close,
    /// The dialog closes and the application carries out the intent.
    Done(I),
    /// The dialog stays open while the application carries out the intent; the application
    /// closes it on success or tells it why not (a command line keeps its text and error).
    Submit(I),
}

/// One answer of a question with several: its key, what it does, what it asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice<I> {
    pub key: char,
    pub label: String,
    pub intent: I,
}

impl<I> Choice<I> {
    pub fn new(key: char, label: &str, intent: I) -> Self {
        Choice {
            key,
            label: label.into(),
            intent,
        }
    }
}

/// A yes/no question about `intent`, or (with `choices`) a question with several answers,
/// each a key of its own; Esc declines either.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmDialog<I> {
    pub title: String,
    pub body: Vec<String>,
    pub yes: String,
    pub no: String,
    pub intent: I,
    /// Scroll offset for long bodies.
    pub scroll: u16,
    /// Widest the box may be, in columns.
    pub width: u16,
    /// When not empty, the answers instead of yes (`yes` and `intent` are unused; Enter answers
    /// nothing, so no consequence is chosen by a stray key).
    pub choices: Vec<Choice<I>>,
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
            width: 70,
            choices: Vec::new(),
        }
    }

    /// A question answered by `first` or one of `more`, or declined with Esc (`back`).
    pub fn choose(
        title: impl Into<String>,
        body: Vec<String>,
        first: Choice<I>,
        more: Vec<Choice<I>>,
        back: &str,
    ) -> Self {
        let mut d = Self::new(title, body, "", back, first.intent.clone());
        d.choices = std::iter::once(first).chain(more).collect();
        d
    }

    /// The same dialog at most `width` columns wide.
    pub fn with_width(mut self, width: u16) -> Self {
        self.width = width;
        self
    }

    /// `y`/Enter accept; `n`/Esc decline; arrows scroll. `Ctrl+Y` is not `y`.
    pub fn handle_key(&mut self, key: &KeyEvent) -> Reply<I> {
        let before = self.scroll;
        if !self.choices.is_empty() {
            if let Some(c) = self.choices.iter().find(|c| is_char(key, c.key)) {
                return Reply::Done(c.intent.clone());
            }
            if matches!(key.code, KeyCode::Enter | KeyCode::Char(_)) {
                return Reply::Keep(false);
            }
        }
        match key.code {
            KeyCode::Enter if plain(key) => Reply::Done(self.intent.clone()),
            _ if is_char(key, 'y') => Reply::Done(self.intent.clone()),
            KeyCode::Esc => Reply::Close,
            _ if is_char(key, 'n') => Reply::Close,
            KeyCode::Down | KeyCode::PageDown => {
                self.scroll = self.scroll.saturating_add(1).min(self.body.len() as u16);
                Reply::Keep(self.scroll != before)
            }
            KeyCode::Up | KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(1);
                Reply::Keep(self.scroll != before)
            }
            _ => Reply::Keep(false),
        }
    }

    /// Draw the question centred in `area`. The box grows with the wrapped body, and the key
    /// line has a row of its own at the bottom, so a long body scrolls but never hides how to
    /// answer.
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let mut lines: Vec<Line> = self
            .body
            .iter()
            .map(|l| Line::from(Span::styled(l.clone(), theme.text)))
            .collect();
        lines.push(Line::from(""));
        let keys = self.key_line(theme);
        let inner_width = self.width.min(area.width).saturating_sub(2).max(1) as usize;
        let body_rows: usize = self.body.iter().map(|l| wrapped_rows(l, inner_width)).sum();
        let height = (body_rows as u16 + 4)
            .min(area.height.saturating_sub(2))
            .max(5);
        let rect = crate::tui::widgets::centered(area, self.width, height);
        let inner = crate::tui::widgets::popup(frame, rect, &self.title, theme);
        let body = Rect {
            height: inner.height.saturating_sub(1),
            ..inner
        };
        let key_row = Rect {
            y: inner.y + body.height,
            height: inner.height.min(1),
            ..inner
        };
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((self.scroll, 0)),
            body,
        );
        frame.render_widget(Paragraph::new(keys), key_row);
    }
}

impl<I> ConfirmDialog<I> {
    /// How to answer: `y/Enter yes   n/Esc no`, or each choice's key and `Esc back`.
    fn key_line(&self, theme: &Theme) -> Line<'static> {
        if self.choices.is_empty() {
            return Line::from(vec![
                Span::styled("y/Enter", theme.key),
                Span::styled(format!(" {}   ", self.yes), theme.text),
                Span::styled("n/Esc", theme.key),
                Span::styled(format!(" {}", self.no), theme.text),
            ]);
        }
        let mut spans = Vec::new();
        for c in &self.choices {
            spans.push(Span::styled(c.key.to_string(), theme.key));
            spans.push(Span::styled(format!(" {}   ", c.label), theme.text));
        }
        spans.push(Span::styled("Esc", theme.key));
        spans.push(Span::styled(format!(" {}", self.no), theme.text));
        Line::from(spans)
    }
}

/// Rows `text` takes when word-wrapped at `width` columns.
fn wrapped_rows(text: &str, width: usize) -> usize {
    use unicode_width::UnicodeWidthStr;
    let mut rows = 1;
    let mut used = 0;
    for word in text.split(' ') {
        let w = word.width();
        let need = if used == 0 { w } else { used + 1 + w };
        if need <= width {
            used = need;
        } else {
            rows += 1;
            // A word longer than the line is broken across rows.
            used = w % width.max(1);
            rows += w / width.max(1);
            if used == 0 && w > 0 {
                rows -= 1;
                used = width;
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn dialog() -> ConfirmDialog<&'static str> {
        ConfirmDialog::new("Delete?", vec!["It goes.".into()], "delete", "keep", "it")
    }

    #[test]
    fn confirm_dialog_answers_keep_close_or_done() {
        let mut d = dialog();
        let ctrl_y = KeyEvent::new(KeyCode::Char('y'), KeyModifiers::CONTROL);
        assert_eq!(d.handle_key(&ctrl_y), Reply::Keep(false));
        assert_eq!(
            d.handle_key(&KeyEvent::from(KeyCode::Char('x'))),
            Reply::Keep(false)
        );
        assert_eq!(
            d.handle_key(&KeyEvent::from(KeyCode::Down)),
            Reply::Keep(true)
        );
        assert_eq!(d.handle_key(&KeyEvent::from(KeyCode::Esc)), Reply::Close);
        assert_eq!(
            d.handle_key(&KeyEvent::from(KeyCode::Char('n'))),
            Reply::Close
        );
        assert_eq!(
            d.handle_key(&KeyEvent::from(KeyCode::Char('y'))),
            Reply::Done("it")
        );
        assert_eq!(
            d.handle_key(&KeyEvent::from(KeyCode::Enter)),
            Reply::Done("it")
        );
    }

    #[test]
    fn choice_dialog_answers_only_its_keys_and_esc() {
        let mut d = ConfirmDialog::choose(
            "Open?",
            vec!["It is open elsewhere.".into()],
            Choice::new('r', "read-only", 1),
            vec![Choice::new('t', "take over", 2)],
            "back",
        );
        assert_eq!(
            d.handle_key(&KeyEvent::from(KeyCode::Enter)),
            Reply::Keep(false)
        );
        assert_eq!(
            d.handle_key(&KeyEvent::from(KeyCode::Char('y'))),
            Reply::Keep(false)
        );
        assert_eq!(
            d.handle_key(&KeyEvent::from(KeyCode::Char('n'))),
            Reply::Keep(false)
        );
        assert_eq!(
            d.handle_key(&KeyEvent::from(KeyCode::Char('t'))),
            Reply::Done(2)
        );
        assert_eq!(d.handle_key(&KeyEvent::from(KeyCode::Esc)), Reply::Close);
    }

    #[test]
    fn confirm_dialog_long_body_at_80x24_still_shows_its_keys() {
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;
        let body = vec![
            "OpenTofu will create 2 cluster(s) in your Hetzner Cloud account: hz-fsn-rtz-prod, hz-nbg-rtz-prod.".to_string(),
            "They are billed to that account, about €123.45 per month for servers.".into(),
            "The run continues if this terminal closes; watch it again with `openova runs attach`.".into(),
            "OpenTofu state stays on this host (lab setting).".into(),
        ];
        let d = ConfirmDialog::new("Start provisioning?", body, "start", "not now", ());
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| d.render(f, f.area(), &Theme::mono())).unwrap();
        let buf = t.backend().buffer();
        let text: String = (0..24)
            .map(|y| (0..80).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n")
            .collect();
        assert!(text.contains("y/Enter start"), "{text}");
        assert!(text.contains("lab setting"), "{text}");
    }
}
