//! Owns the wizard's drawing: the shared chrome (title, step bar, status line, key-hint footer,
//! overlays) and one module per step. Everything here is pure: `&Model` in, cells out.

pub mod components;
pub mod credentials;
pub mod organization;
pub mod provider;
pub mod regions;
pub mod resume;
pub mod review;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::model::{Mode, Model, Step};
use super::update::{FieldId, typing};
use crate::tui::keymap::KeyHint;
use crate::tui::theme::Theme;
use crate::tui::widgets::field::TextField;
use crate::tui::widgets::{footer::render_footer, help::render_help, truncate};

/// Width of the label column on form screens.
pub const LABEL_WIDTH: usize = 18;

/// Draw the whole wizard.
pub fn render(m: &Model, frame: &mut Frame, theme: &Theme) {
    let area = frame.area();
    let [title, steps, body, status, foot] = crate::tui::widgets::chrome(area);
    render_title(m, frame, title, theme);
    let (name, hints) = match &m.mode {
        Mode::Resume { .. } => {
            resume::render(m, frame, body, theme);
            ("Resume", resume::key_hints())
        }
        Mode::Progress(p) => {
            p.0.render(frame, body, theme);
            // The screen's own keys and the wizard's (`?`, `q`), so every key is named.
            ("Provisioning", key_hints(m))
        }
        Mode::Wizard => {
            render_steps(m, frame, steps, theme);
            let step = m.form.step;
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(format!(" {} ", heading(step)), theme.title));
            let inner = block.inner(body);
            frame.render_widget(block, body);
            match step {
                Step::Organization => organization::render(m, frame, inner, theme),
                Step::Credentials => credentials::render(m, frame, inner, theme),
                Step::Provider => provider::render(m, frame, inner, theme),
                Step::Regions => regions::render(m, frame, inner, theme),
                Step::Components => components::render(m, frame, inner, theme),
                Step::Review => review::render(m, frame, inner, theme),
            }
            (step.title(), key_hints(m))
        }
    };
    if let Some(n) = &m.status {
        let style = if n.error { theme.error } else { theme.ok };
        frame.render_widget(
            Paragraph::new(Span::styled(
                truncate(&n.text, status.width as usize),
                style,
            )),
            status,
        );
    }
    render_footer(frame, foot, &hints, theme);
    if let Some(top) = m.dialogs.last() {
        top.render(frame, area, theme);
    }
    if let Some(p) = &m.prompt {
        render_prompt(frame, area, &p.title, &p.field, p.error.as_deref(), theme);
    }
    if m.show_help {
        render_help(frame, area, name, &hints, super::keys::HELP_CLOSES, theme);
    }
}

fn heading(step: Step) -> &'static str {
    match step {
        Step::Organization => "Who is this platform for?",
        Step::Credentials => "Credentials, state and access",
        Step::Provider => "Cloud provider",
        Step::Regions => "Regions and servers",
        Step::Components => "Components",
        Step::Review => "Review",
    }
}

/// Every key the current screen handles, screen keys first.
pub fn key_hints(m: &Model) -> Vec<KeyHint> {
    let mut v = match m.mode {
        Mode::Resume { .. } => resume::key_hints(),
        Mode::Progress(ref p) => p.0.key_hints(),
        Mode::Wizard => step_hints(m),
    };
    // The footer never offers a key that the focused field would take as text.
    v.extend(crate::tui::keymap::global(typing(m)));
    v
}

/// The keys of the current step's own screen (without those every screen shares).
pub fn step_hints(m: &Model) -> Vec<KeyHint> {
    match m.form.step {
        Step::Organization => organization::key_hints(),
        Step::Credentials => credentials::key_hints(m),
        Step::Provider => provider::key_hints(),
        Step::Regions => regions::key_hints(),
        Step::Components => components::key_hints(m),
        Step::Review => review::key_hints(),
    }
}

fn render_title(m: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let draft = match m.draft_id {
        Some(id) if m.read_only.is_some() => format!("draft #{id} · READ-ONLY · {}", m.title()),
        Some(id) => format!("draft #{id} · {}", m.title()),
        None => "no draft yet".into(),
    };
    let store = format!("secrets: {}", m.secret_store_kind);
    let left = format!("openova bootstrap  {draft}");
    let width = area.width as usize;
    let room = width.saturating_sub(store.chars().count() + 1);
    let line = Line::from(vec![
        Span::styled(format!("{:<room$}", truncate(&left, room)), theme.title),
        Span::styled(store, theme.muted),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

fn render_steps(m: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let mut spans = Vec::new();
    for (i, s) in Step::ALL.iter().enumerate() {
        let text = format!(" {} {} ", i + 1, s.title());
        // Two spaces between steps keep all six on one line at 80 columns.
        let style = if *s == m.form.step {
            theme.selected
        } else if !m.errors_for(*s).is_empty() && *s < m.form.reached {
            theme.warn
        } else {
            theme.muted
        };
        spans.push(Span::styled(text, style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_prompt(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    field: &TextField,
    error: Option<&str>,
    theme: &Theme,
) {
    let rect = crate::tui::widgets::centered(area, 72, 7);
    let inner = crate::tui::widgets::popup(frame, rect, title, theme);
    let mut lines = vec![input_line(field, inner.width as usize, true, false, theme)];
    lines.push(match error {
        Some(e) => Line::from(Span::styled(e.to_string(), theme.error)),
        None => Line::from(""),
    });
    let hints = super::keys::all_hints(super::keys::PROMPT);
    let mut keys = Vec::new();
    for (i, h) in hints.iter().enumerate() {
        let gap = if i + 1 < hints.len() { "   " } else { "" };
        keys.push(Span::styled(h.key, theme.key));
        keys.push(Span::styled(format!(" {}{gap}", h.action), theme.muted));
    }
    lines.push(Line::from(keys));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// A text input: its visible part with a block cursor when focused.
pub fn input_line<'a>(
    field: &TextField,
    width: usize,
    focus: bool,
    mask: bool,
    theme: &Theme,
) -> Line<'a> {
    if !focus {
        // Unfocused values show their beginning, where the cursor does not matter.
        let shown: String = if mask {
            field.value().chars().map(|_| '•').collect()
        } else {
            field.value().to_string()
        };
        return Line::from(Span::styled(truncate(&shown, width), theme.text));
    }
    let (text, col) = field.visible(width.saturating_sub(1), mask);
    let chars: Vec<char> = text.chars().collect();
    // Split at the cursor column (in display columns).
    let mut before = String::new();
    let mut used = 0;
    let mut idx = 0;
    while idx < chars.len() && used < col {
        used += unicode_width::UnicodeWidthChar::width(chars[idx]).unwrap_or(0);
        before.push(chars[idx]);
        idx += 1;
    }
    let at: String = chars
        .get(idx)
        .map(|c| c.to_string())
        .unwrap_or_else(|| " ".into());
    let after: String = chars.iter().skip(idx + 1).collect();
    Line::from(vec![
        Span::styled(before, theme.input),
        Span::styled(at, theme.selected),
        Span::styled(after, theme.input),
    ])
}

/// One form row: marker, label, value spans.
pub fn field_row<'a>(
    label: &str,
    value: Vec<Span<'a>>,
    focus: bool,
    bad: bool,
    theme: &Theme,
) -> Line<'a> {
    let marker = if focus { "›" } else { " " };
    let label_style = if focus { theme.accent } else { theme.text };
    let mut spans = vec![
        Span::styled(marker.to_string(), theme.accent),
        Span::styled(format!(" {:<LABEL_WIDTH$}", label), label_style),
    ];
    spans.push(Span::styled(
        if bad { "✗ " } else { "  " },
        if bad { theme.error } else { Style::default() },
    ));
    spans.extend(value);
    Line::from(spans)
}

/// A choice value: `‹ value ›` when focused.
pub fn choice<'a>(value: String, focus: bool, theme: &Theme) -> Vec<Span<'a>> {
    if focus {
        vec![Span::styled(format!("‹ {value} ›"), theme.selected)]
    } else {
        vec![Span::styled(format!("  {value}"), theme.text)]
    }
}

/// Width available for an input value on a form row.
pub fn value_width(area: Rect) -> usize {
    (area.width as usize).saturating_sub(LABEL_WIDTH + 5)
}

/// The message for the focused field's first error, wrapped under the form.
pub fn focused_error<'a>(m: &Model, field: Option<FieldId>, theme: &Theme) -> Option<Line<'a>> {
    let field = field?;
    let err = m
        .errors_for(m.form.step)
        .into_iter()
        .find(|e| FieldId::for_error(&e.field).map(|(_, f)| f) == Some(field))?;
    Some(Line::from(Span::styled(format!("  {}", err), theme.error)))
}

/// Whether `field` has an error on the current step.
pub fn has_error(m: &Model, field: FieldId) -> bool {
    m.errors_for(m.form.step)
        .iter()
        .any(|e| FieldId::for_error(&e.field).map(|(_, f)| f) == Some(field))
}

/// The spans of an input, for placing after a label.
pub fn input_spans(
    field: &TextField,
    width: usize,
    focus: bool,
    mask: bool,
    theme: &Theme,
) -> Vec<Span<'static>> {
    // Two columns of indent line text values up with choice values (`‹ value ›`).
    let mut spans = vec![Span::raw("  ")];
    spans.extend(input_line(field, width.saturating_sub(2), focus, mask, theme).spans);
    spans
}
