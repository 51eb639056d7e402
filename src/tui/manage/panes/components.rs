//! Owns the components pane: catalog sections with version, health and upgrade badge, the
//! installed-only toggle and the filter.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::health_span;
use crate::tui::manage::model::{Model, Row};
use crate::tui::theme::Theme;
use crate::tui::widgets::{pad, truncate};

pub fn render(model: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let [top, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let toggle = if model.components.installed_only {
        "[x]"
    } else {
        "[ ]"
    };
    let mut spans = vec![
        Span::styled("Components ", theme.title),
        Span::styled(format!("{toggle} Show installed only (a)"), theme.text),
    ];
    let filter = model.components.filter.value();
    if model.components.filtering || !filter.is_empty() {
        spans.push(Span::styled("  filter: /", theme.muted));
        spans.push(Span::styled(filter.to_string(), theme.input));
        if model.components.filtering {
            spans.push(Span::styled("▏", theme.input));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), top);

    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border);
    let inner = block.inner(list);
    frame.render_widget(block, list);

    let rows = model.component_rows();
    let c = model.cluster();
    if rows.is_empty() {
        let msg = if !filter.is_empty() {
            format!("No component matches “{filter}”. Esc clears the filter.")
        } else if model.components.installed_only {
            "No components installed. Press a to show the catalog and i to install.".into()
        } else {
            "The catalog is empty.".into()
        };
        frame.render_widget(Paragraph::new(Span::styled(msg, theme.muted)), inner);
        return;
    }
    // From the rows already built: `Model::selected_component` would build them again.
    let selected = match &model.components.selected {
        Some(s)
            if rows
                .iter()
                .any(|r| matches!(r, Row::Item { name, .. } if *name == s.as_str())) =>
        {
            Some(s.clone())
        }
        _ => rows.iter().find_map(|r| match r {
            Row::Item { name, .. } => Some(name.to_string()),
            Row::Heading(_) => None,
        }),
    };
    let sel_row = rows
        .iter()
        .position(|r| matches!(r, Row::Item { name, .. } if Some(*name) == selected.as_deref()))
        .unwrap_or(0);
    let height = inner.height as usize;
    // Keep the selection in view with its section heading when possible.
    let offset = if sel_row < height {
        0
    } else {
        sel_row + 1 - height
    };
    let ver_w = 10usize;
    // Marker, tick, version, health and the upgrade badge keep their room; the name column is
    // as wide as the longest name beyond that.
    let name_w = super::name_width(
        rows.iter().filter_map(|r| match r {
            Row::Item { name, entry, .. } => Some(entry.map(|e| e.title.as_str()).unwrap_or(name)),
            Row::Heading(_) => None,
        }),
        inner.width as usize,
        1 + 3 + 1 + ver_w + 1 + 10 + 20,
    );
    let mut lines = Vec::with_capacity(height);
    for row in rows.iter().skip(offset).take(height) {
        match row {
            Row::Heading(g) => lines.push(Line::from(Span::styled(g.heading(), theme.title))),
            Row::Item {
                name,
                installed,
                entry,
                ..
            } => {
                let title = entry.map(|e| e.title.as_str()).unwrap_or(name);
                let is_sel = Some(*name) == selected.as_deref();
                // The marker keeps the selection visible without colour (NO_COLOR, mono).
                let mut spans = vec![Span::styled(if is_sel { "›" } else { " " }, theme.accent)];
                match installed {
                    Some(comp) => {
                        spans.push(Span::styled(" ✓ ", theme.ok));
                        spans.push(Span::styled(format!("{} ", pad(title, name_w)), theme.text));
                        spans.push(Span::styled(
                            format!("{:<ver_w$} ", truncate(comp.shown_version(), ver_w)),
                            theme.text,
                        ));
                        spans.push(health_span(comp.health, theme));
                        if let Some(up) = comp.upgrade() {
                            spans.push(Span::styled(format!("  [Upgrade: {up}]"), theme.accent));
                        }
                        if comp.rollback.is_some() {
                            spans.push(Span::styled("  [rolled back]", theme.warn));
                        }
                        if comp.suspended {
                            spans.push(Span::styled("  [suspended]", theme.warn));
                        }
                        for (label, _) in comp.refusals() {
                            spans.push(Span::styled(format!("  [{label}]"), theme.warn));
                        }
                        if c.pending.contains(*name) {
                            spans.push(Span::styled(
                                format!("  installing · {}", phase_or(&comp.phase)),
                                theme.accent,
                            ));
                        }
                    }
                    None if model.meta_installed(name) => {
                        spans.push(Span::styled(" ✓ ", theme.ok));
                        spans.push(Span::styled(
                            format!("{:<name_w$} ", truncate(title, name_w)),
                            theme.text,
                        ));
                        spans.push(Span::styled(format!("{:<ver_w$} ", "---"), theme.muted));
                        spans.push(Span::styled("installed (every member healthy)", theme.ok));
                    }
                    None => {
                        spans.push(Span::styled(" ○ ", theme.muted));
                        spans.push(Span::styled(format!("{} ", pad(title, name_w)), theme.text));
                        spans.push(Span::styled(format!("{:<ver_w$} ", "---"), theme.muted));
                        if c.pending.contains(*name) {
                            spans.push(Span::styled("installing · requested", theme.accent));
                        } else if model.readonly {
                            spans.push(Span::styled("[+ Install] (read-only)", theme.locked));
                        } else {
                            spans.push(Span::styled("[+ Install]", theme.accent));
                        }
                    }
                }
                let mut line = Line::from(spans);
                if is_sel {
                    line = line.style(theme.selected);
                }
                lines.push(line);
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn phase_or(phase: &str) -> &str {
    if phase.is_empty() { "waiting" } else { phase }
}
