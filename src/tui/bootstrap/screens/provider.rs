//! Owns the Provider screen: Hetzner, Huawei Cloud or OCI, with what each offers.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::domain::naming::Provider;
use crate::tui::bootstrap::keys;
use crate::tui::bootstrap::model::Model;
use crate::tui::keymap::KeyHint;
use crate::tui::theme::Theme;

pub fn key_hints() -> Vec<KeyHint> {
    keys::all_hints_in(keys::PROVIDER)
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
    let width = (area.width as usize).saturating_sub(INDENT.len());
    let mut lines: Vec<Line> = wrap(
        "Where the clusters run. Changing the provider resets locations and server sizes.",
        area.width as usize,
    )
    .into_iter()
    .map(|l| Line::from(Span::styled(l, theme.muted)))
    .collect();
    lines.push(Line::from(""));
    // Where the chosen provider's text ends, to keep it on screen.
    let mut chosen_end = 0;
    for p in Provider::ALL {
        let chosen = *p == m.form.provider;
        let mark = if chosen { "(•)" } else { "( )" };
        let style = if chosen { theme.selected } else { theme.text };
        lines.push(Line::from(vec![
            Span::styled(format!(" {mark} "), theme.accent),
            Span::styled(format!("{} [{}]", p.name(), p.code()), style),
        ]));
        let locs: Vec<&str> = p.locations().map(|l| l.code()).collect();
        let detail = format!("Locations: {}", locs.join(", "));
        for text in [p.offers(), detail.as_str()] {
            for l in wrap(text, width) {
                lines.push(Line::from(Span::styled(
                    format!("{INDENT}{l}"),
                    theme.muted,
                )));
            }
        }
        if chosen {
            chosen_end = lines.len();
        }
        lines.push(Line::from(""));
    }
    let visible = fit_with_marker(lines, chosen_end, area.height as usize, theme);
    frame.render_widget(Paragraph::new(visible), area);
}

/// The rows that fit in `height`, scrolled so row `keep_until` is on screen; when rows are
/// left out the last row says where ("↓ more below" or "↑ more above") instead of cutting.
fn fit_with_marker<'a>(
    lines: Vec<Line<'a>>,
    keep_until: usize,
    height: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    // Trailing blank lines do not count as content.
    let len = lines
        .iter()
        .rposition(|l| l.width() > 0)
        .map_or(0, |i| i + 1);
    if len <= height {
        return lines;
    }
    let window = height.saturating_sub(1);
    let offset = keep_until.saturating_sub(window);
    let below = offset + window < len;
    let mut out: Vec<Line> = lines.into_iter().skip(offset).take(window).collect();
    let marker = if below {
        "  ↓ more below: ↑/↓ choose a provider to read it"
    } else {
        "  ↑ more above: ↑/↓ choose a provider to read it"
    };
    out.push(Line::from(Span::styled(marker, theme.muted)));
    out
}
