//! Owns the upgrades pane: available upgrades (from → to), the changelog between the two
//! versions, live rollout state, scheduled upgrades and the record of automatic rollbacks.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{clock, health_span};
use crate::tui::manage::model::{CatalogEntry, Model};
use crate::tui::theme::Theme;
use crate::tui::widgets::{pad, truncate};

pub fn render(model: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let rows = model.upgrade_rows();
    let list_h = (rows.len() as u16 + 3).clamp(4, area.height / 2);
    let [list, detail] =
        Layout::vertical([Constraint::Length(list_h), Constraint::Min(0)]).areas(area);
    let count = model.cluster().upgrades_available();
    let title = format!(
        " {count} upgrade{} available ",
        if count == 1 { "" } else { "s" }
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title));
    let inner = block.inner(list);
    frame.render_widget(block, list);
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "Everything is up to date with the catalog.",
                theme.muted,
            )),
            inner,
        );
        return;
    }
    let sel = model.upgrades_selected.min(rows.len() - 1);
    let offset = sel.saturating_sub(inner.height.saturating_sub(1) as usize);
    // Marker, versions and health keep their room, plus the longest of the notes after them.
    let name_w = super::name_width(
        rows.iter().map(|c| c.name.as_str()),
        inner.width as usize,
        1 + 10 + 14 + 10 + 28,
    ) + 2;
    let mut lines = Vec::new();
    for (i, c) in rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(inner.height as usize)
    {
        let mut spans = vec![
            Span::styled(if i == sel { "›" } else { " " }, theme.accent),
            Span::styled(pad(&c.name, name_w), theme.text),
            Span::styled(
                format!("{:>10}", truncate(c.shown_version(), 10)),
                theme.text,
            ),
        ];
        match c.upgrading().or(c.upgrade()) {
            Some(to) => spans.push(Span::styled(
                format!(" → {:<10} ", truncate(to, 10)),
                theme.accent,
            )),
            None => spans.push(Span::styled(format!("   {:<10} ", "current"), theme.muted)),
        }
        spans.push(health_span(c.health, theme));
        if c.upgrading().is_some() {
            spans.push(Span::styled("  upgrading", theme.accent));
        }
        if let Some(s) = &c.scheduled {
            spans.push(Span::styled(format!("  scheduled {s}"), theme.accent));
        }
        for (label, _) in c.refusals() {
            spans.push(Span::styled(format!("  {label}"), theme.warn));
        }
        match &c.rollback {
            Some(rb) if rb.rolled_back => spans.push(Span::styled("  rolled back", theme.warn)),
            Some(_) => spans.push(Span::styled("  upgrade failed", theme.error)),
            None => {}
        }
        let mut line = Line::from(spans);
        if i == sel {
            line = line.style(theme.selected);
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);

    let c = rows[sel];
    let mut text = Vec::new();
    // Rollout state: what the manager reports right now.
    text.push(Line::from(vec![
        Span::styled("Rollout: ", theme.title),
        Span::styled(
            format!(
                "spec {} · running {} · phase {} · ",
                c.version,
                c.installed_version.as_deref().unwrap_or("—"),
                if c.phase.is_empty() { "—" } else { &c.phase }
            ),
            theme.text,
        ),
        health_span(c.health, theme),
    ]));
    if let Some(rb) = &c.rollback {
        let at = rb
            .at
            .map(|t| format!(" at {}", clock(&t)))
            .unwrap_or_default();
        let (text_line, style) = if rb.rolled_back {
            (
                format!(
                    "Automatic rollback{at}: {} → {} ({})",
                    rb.from, rb.to, rb.reason
                ),
                theme.warn,
            )
        } else {
            (
                format!(
                    "Upgrade {} → {} failed{at} and could not be rolled back ({})",
                    rb.to, rb.from, rb.reason
                ),
                theme.error,
            )
        };
        text.push(Line::from(Span::styled(text_line, style)));
    }
    if let Some(good) = &c.last_good_version {
        text.push(Line::from(Span::styled(
            format!("Last good version: {good}"),
            theme.muted,
        )));
    }
    text.push(Line::from(""));
    match c.upgrading().or(c.upgrade()) {
        Some(to) => {
            text.push(Line::from(Span::styled(
                format!("Changelog {} → {to}", c.shown_version()),
                theme.title,
            )));
            let notes = changelog_between(model.entry(&c.name), c.shown_version(), to);
            if notes.is_empty() {
                text.push(Line::from(Span::styled(
                    "  the catalog has no notes for these versions",
                    theme.muted,
                )));
            }
            for (v, n) in notes {
                text.push(Line::from(vec![
                    Span::styled(format!("  {v}: "), theme.accent),
                    Span::styled(n.to_string(), theme.text),
                ]));
            }
        }
        None => text.push(Line::from(Span::styled("No upgrade pending.", theme.muted))),
    }
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(format!(" {} ", c.name), theme.title)),
        ),
        detail,
    );
}

fn parse(v: &str) -> Option<semver::Version> {
    let v = v.trim().trim_start_matches('v');
    semver::Version::parse(v).ok().or_else(|| {
        // Catalog versions such as "11.4" lack a patch number.
        semver::Version::parse(&format!("{v}.0")).ok()
    })
}

/// Notes for versions in (from, to], newest first.
pub fn changelog_between<'a>(
    entry: Option<&'a CatalogEntry>,
    from: &str,
    to: &str,
) -> Vec<(&'a str, &'a str)> {
    let (Some(entry), Some(from), Some(to)) = (entry, parse(from), parse(to)) else {
        return Vec::new();
    };
    entry
        .changelog
        .iter()
        .filter(|(v, _)| parse(v).is_some_and(|v| v > from && v <= to))
        .map(|(v, n)| (v.as_str(), n.as_str()))
        .collect()
}
