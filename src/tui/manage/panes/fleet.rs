//! Owns the Fleet pane: every attached cluster on one line (reachability, health, worst
//! component, upgrades, alerts, drift), worst first, and under it the components whose
//! installed version differs between clusters.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::health_style;
use crate::tui::manage::model::{Drift, FleetRow, Model};
use crate::tui::theme::Theme;
use crate::tui::widgets::{pad, truncate};

/// Widths of the columns after the context: reachability, health, worst component,
/// upgrades, alerts, drift (each with its leading space).
const REACH: usize = 12;
const HEALTH: usize = 7;
const WORST_MIN: usize = 18;
const WORST_MAX: usize = 40;
const COUNTS: usize = 9 + 7 + 6;

pub fn render(model: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let rows = model.fleet_rows();
    let drift = model.drift();
    // The clusters first (header and borders around them), the drift list right under them;
    // when both do not fit, the drift list keeps at least a third of the pane.
    let drift_h = (drift.len().max(1) as u16 + 1).max(area.height / 3);
    let table_h = (rows.len() as u16 + 3).min(area.height.saturating_sub(drift_h).max(4));
    let [table, under] =
        Layout::vertical([Constraint::Length(table_h), Constraint::Min(0)]).areas(area);
    render_table(model, &rows, frame, table, theme);
    render_drift(&drift, frame, under, theme);
}

fn render_table(model: &Model, rows: &[FleetRow], frame: &mut Frame, area: Rect, theme: &Theme) {
    let title = format!(
        " Fleet · {} cluster{} · worst first ",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let ctx_w = super::name_width(
        rows.iter().map(|r| r.cluster.context.as_str()),
        width,
        1 + REACH + HEALTH + WORST_MIN + COUNTS,
    );
    let worst_w = width
        .saturating_sub(1 + ctx_w + REACH + HEALTH + COUNTS)
        .min(WORST_MAX);
    let sel = model
        .fleet_selected
        .as_ref()
        .and_then(|s| rows.iter().position(|r| r.cluster.context == *s))
        .unwrap_or(0);
    let visible = inner.height.saturating_sub(1) as usize;
    let offset = sel.saturating_sub(visible.saturating_sub(1));
    let header = format!(
        " {}{}{}{}{:>9}{:>7}{:>6}",
        pad("Context", ctx_w),
        pad(" Reach", REACH),
        pad(" Health", HEALTH),
        pad(" Worst component", worst_w),
        "Upgrades",
        "Alerts",
        "Drift"
    );
    let mut lines = vec![Line::from(Span::styled(
        truncate(&header, width),
        theme.muted,
    ))];
    for (i, r) in rows.iter().enumerate().skip(offset).take(visible) {
        lines.push(row_line(r, i == sel, ctx_w, worst_w, theme));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn row_line<'a>(
    r: &FleetRow,
    selected: bool,
    ctx_w: usize,
    worst_w: usize,
    theme: &Theme,
) -> Line<'a> {
    // Only a cluster that answers and has listed has figures; the last known state of one
    // that stopped answering says nothing about now.
    let live = r.cluster.is_current();
    let reach_style = if live { theme.ok } else { theme.error };
    let health = match r.health {
        Some(p) if live => format!("{p:>5}%"),
        _ => format!("{:>6}", "—"),
    };
    let (worst, worst_style) = match r.worst {
        Some(c) if live => (
            format!("{} {}", c.name, c.health.as_str()),
            health_style(c.health, theme),
        ),
        _ => ("—".to_string(), theme.muted),
    };
    let count = |n: usize, alarm: Style| match n {
        _ if !live => ("—".to_string(), theme.muted),
        0 => ("0".to_string(), theme.text),
        n => (n.to_string(), alarm),
    };
    let (upgrades, up_style) = count(r.upgrades, theme.accent);
    let (alerts, al_style) = count(r.alerts, theme.error);
    let (drift, dr_style) = if r.drifted > 0 {
        (format!("≠{}", r.drifted), theme.warn)
    } else {
        ("—".to_string(), theme.muted)
    };
    let name_style = if selected { theme.selected } else { theme.text };
    Line::from(vec![
        Span::styled(if selected { "›" } else { " " }, theme.accent),
        Span::styled(pad(&truncate(&r.cluster.context, ctx_w), ctx_w), name_style),
        Span::styled(pad(&format!(" {}", r.reachability()), REACH), reach_style),
        Span::styled(pad(&health, HEALTH), theme.text),
        Span::styled(
            pad(&truncate(&format!(" {worst}"), worst_w), worst_w),
            worst_style,
        ),
        Span::styled(format!("{upgrades:>9}"), up_style),
        Span::styled(format!("{alerts:>7}"), al_style),
        Span::styled(format!("{drift:>6}"), dr_style),
    ])
}

fn render_drift(drift: &[Drift], frame: &mut Frame, area: Rect, theme: &Theme) {
    let width = area.width as usize;
    let mut lines = Vec::new();
    if drift.is_empty() {
        lines.push(Line::from(Span::styled(
            "No version drift: every component runs the same version on every cluster.",
            theme.muted,
        )));
    } else {
        lines.push(Line::from(Span::styled(
            format!(
                "Version drift ({} component{} between clusters):",
                drift.len(),
                if drift.len() == 1 {
                    " differs"
                } else {
                    "s differ"
                }
            ),
            theme.warn,
        )));
        let room = (area.height as usize).saturating_sub(1);
        let shown = if drift.len() > room {
            room.saturating_sub(1)
        } else {
            drift.len()
        };
        for d in &drift[..shown] {
            lines.push(Line::from(Span::styled(
                truncate(&format!("  {}", d.describe()), width),
                theme.text,
            )));
        }
        if shown < drift.len() {
            lines.push(Line::from(Span::styled(
                format!("  … and {} more", drift.len() - shown),
                theme.muted,
            )));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}
