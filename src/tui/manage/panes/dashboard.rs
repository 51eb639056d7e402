//! Owns the dashboard pane: health bar and history, counts, region tiles, quick links and the
//! most recent events.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

use super::{bar, clock, health_span};
use crate::domain::health::Health;
use crate::tui::manage::model::{ClusterView, Connection, Model, Severity};
use crate::tui::theme::Theme;
use crate::tui::widgets::truncate;

pub fn render(model: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let c = model.cluster();
    let tiles_h = if model.clusters.len() > 1 { 4 } else { 0 };
    let [summary, counts, tiles, links, events] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(4),
        Constraint::Length(tiles_h),
        Constraint::Length(3),
        Constraint::Min(0),
    ])
    .areas(area);

    // Summary: platform line + health bar with the history sparkline beside it.
    let platform = match &c.platform {
        Some(p) => format!(
            "Platform {} ({}) · {}",
            p.name,
            if p.domain.is_empty() {
                &p.organization
            } else {
                &p.domain
            },
            if p.phase.is_empty() {
                "no phase yet"
            } else {
                &p.phase
            }
        ),
        None => format!("No Platform resource in {}", model.ns()),
    };
    let health = match c.health_percent() {
        Some(p) => format!("Platform Health: {} {p:>3}%", bar(p, 10)),
        None => "Platform Health: no components installed".into(),
    };
    let [sum_left, sum_right] =
        Layout::horizontal([Constraint::Length(48), Constraint::Min(0)]).areas(summary);
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(Span::styled(
                truncate(&platform, sum_left.width as usize),
                theme.text,
            )),
            Line::from(Span::styled(health, theme.title)),
        ]),
        sum_left,
    );
    if sum_right.width > 10 && !c.health_history.is_empty() {
        let [label, spark] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(sum_right);
        frame.render_widget(
            Paragraph::new(Span::styled("health history", theme.muted)),
            label,
        );
        let data: Vec<u64> = c
            .health_history
            .iter()
            .rev()
            .take(spark.width as usize)
            .rev()
            .copied()
            .collect();
        frame.render_widget(
            Sparkline::default().data(&data).max(100).style(theme.ok),
            spark,
        );
    }

    // Counts.
    let boxes = Layout::horizontal([
        Constraint::Length(17),
        Constraint::Length(17),
        Constraint::Length(17),
        Constraint::Min(0),
    ])
    .split(counts);
    let alerts = c.alert_count();
    let upgrades = c.upgrades_available();
    for (i, (title, value, style)) in [
        ("Components", c.components.len().to_string(), theme.text),
        (
            "Upgrades",
            format!("{upgrades} avail"),
            if upgrades > 0 {
                theme.accent
            } else {
                theme.text
            },
        ),
        (
            "Alerts",
            alerts.to_string(),
            if alerts > 0 { theme.error } else { theme.text },
        ),
    ]
    .into_iter()
    .enumerate()
    {
        frame.render_widget(
            Paragraph::new(vec![Line::from(""), Line::from(Span::styled(value, style))])
                .centered()
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .border_style(theme.border)
                        .title(Span::styled(format!(" {title} "), theme.title)),
                ),
            boxes[i],
        );
    }

    if tiles_h > 0 {
        let shown = tile_clusters(model);
        let cols = Layout::horizontal(vec![Constraint::Ratio(1, 2); shown.len()]).split(tiles);
        for (col, i) in shown.into_iter().enumerate() {
            render_tile(
                &model.clusters[i],
                i == model.active,
                frame,
                cols[col],
                theme,
            );
        }
    }

    // Quick links.
    let mut spans = vec![Span::styled("Quick Links: ", theme.title)];
    let ql = model.quick_links();
    if ql.is_empty() {
        spans.push(Span::styled("no endpoints published yet", theme.muted));
    }
    let sel = model.dashboard_link.min(ql.len().saturating_sub(1));
    for (i, (comp, ep)) in ql.iter().enumerate() {
        let label = if ep.name.is_empty() || ep.name == *comp {
            comp.to_string()
        } else {
            format!("{comp}/{}", ep.name)
        };
        let style = if i == sel {
            theme.selected
        } else {
            theme.accent
        };
        spans.push(Span::styled(format!("[{label}]"), style));
        spans.push(Span::raw(" "));
    }
    let mut link_lines = vec![Line::from(spans)];
    if let Some((_, ep)) = ql.get(sel) {
        link_lines.push(Line::from(vec![
            Span::styled("  ", theme.text),
            Span::styled(truncate(&ep.url, links.width as usize - 20), theme.text),
            Span::styled("  Enter copies", theme.muted),
        ]));
    }
    frame.render_widget(
        Paragraph::new(link_lines).wrap(ratatui::widgets::Wrap { trim: false }),
        links,
    );

    // Recent events.
    let mut lines = vec![Line::from(Span::styled("Recent events", theme.title))];
    if c.events.is_empty() {
        lines.push(Line::from(Span::styled("  none yet", theme.muted)));
    }
    for e in c
        .events
        .iter()
        .take(events.height.saturating_sub(1) as usize)
    {
        let style = match e.severity {
            Severity::Warning => theme.warn,
            Severity::Normal => theme.text,
        };
        let text = format!("{} {} {}: {}", clock(&e.at), e.object, e.reason, e.message);
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(
                truncate(&text, events.width.saturating_sub(2) as usize),
                style,
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), events);
}

/// The clusters the two region tiles show: both regions of a pair; in a larger fleet the one
/// shown and the worst of the others (the Fleet pane lists them all).
fn tile_clusters(model: &Model) -> Vec<usize> {
    if model.clusters.len() <= 2 {
        return (0..model.clusters.len()).collect();
    }
    let worst_other = model
        .fleet_rows()
        .iter()
        .map(|r| r.index)
        .find(|i| *i != model.active);
    std::iter::once(model.active).chain(worst_other).collect()
}

fn render_tile(c: &ClusterView, active: bool, frame: &mut Frame, area: Rect, theme: &Theme) {
    let state = match &c.connection {
        Connection::Live => match c.health_percent() {
            Some(p) => format!("{p}% healthy · {} components", c.components.len()),
            None => "connected · no components".into(),
        },
        Connection::Connecting => "connecting…".into(),
        Connection::Unreachable { .. } => format!("unreachable ({}) · retrying", c.address),
        Connection::CrdsMissing => "CRDs not installed".into(),
        Connection::Forbidden { verb, resource } => format!("forbidden: {verb} {resource}"),
        Connection::KubeconfigInvalid { .. } => "kubeconfig context unusable".into(),
    };
    let worst = worst_health(c);
    let region = c
        .platform
        .as_ref()
        .and_then(|p| p.regions.iter().find(|(cl, _)| *cl == c.context))
        .map(|(_, loc)| format!(" ({loc})"))
        .unwrap_or_default();
    let border = if active {
        theme.border_focus
    } else {
        theme.border
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(Span::styled(
                truncate(&state, area.width as usize - 2),
                theme.text,
            )),
            Line::from(vec![
                Span::styled("worst: ", theme.muted),
                health_span(worst, theme),
            ]),
        ])
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(border)
                .title(Span::styled(
                    format!(" {}{region}{} ", c.context, if active { " ◀" } else { "" }),
                    theme.title,
                )),
        ),
        area,
    );
}

/// The worst health of a region's components (see `ClusterView::worst_health`).
pub fn worst_health(c: &ClusterView) -> Health {
    c.worst_health()
}
