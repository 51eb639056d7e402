//! Owns the Provider screen: Hetzner, Huawei Cloud or OCI, with what each offers.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::domain::naming::Provider;
use crate::tui::bootstrap::model::Model;
use crate::tui::keymap::KeyHint;
use crate::tui::theme::Theme;

pub fn key_hints() -> Vec<KeyHint> {
    vec![
        KeyHint::new("↑/↓", "choose"),
        KeyHint::new("Enter", "next screen"),
        KeyHint::help_only("PgDn", "next screen"),
        KeyHint::help_only("PgUp", "previous screen"),
    ]
}

const INDENT: &str = "     ";

/// Greedy word wrap, so continuation lines keep the indent (Paragraph's wrap would not).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width.max(10) {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

pub fn render(m: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let mut lines = vec![
        Line::from(Span::styled(
            "Where the clusters run. Changing the provider resets locations and server sizes.",
            theme.muted,
        )),
        Line::from(""),
    ];
    for p in Provider::ALL {
        let chosen = *p == m.form.provider;
        let mark = if chosen { "(•)" } else { "( )" };
        let style = if chosen { theme.selected } else { theme.text };
        lines.push(Line::from(vec![
            Span::styled(format!(" {mark} "), theme.accent),
            Span::styled(format!("{} [{}]", p.name(), p.code()), style),
        ]));
        let locs: Vec<&str> = p.locations().map(|l| l.code()).collect();
        let mut detail = format!("Locations: {}", locs.join(", "));
        if *p == Provider::Oci {
            detail.push_str(" · no live credential check in the wizard yet");
        }
        let width = (area.width as usize).saturating_sub(INDENT.len());
        for text in [p.offers(), detail.as_str()] {
            for l in wrap(text, width) {
                lines.push(Line::from(Span::styled(
                    format!("{INDENT}{l}"),
                    theme.muted,
                )));
            }
        }
        lines.push(Line::from(""));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
