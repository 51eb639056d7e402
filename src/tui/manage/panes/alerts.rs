//! Owns the alerts & events pane: active alerts from conditions, then Kubernetes Events, newest
//! first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{clock, health_style};
use crate::domain::health::Health;
use crate::tui::manage::model::{Model, Severity};
use crate::tui::theme::Theme;
use crate::tui::widgets::truncate;

pub fn render(model: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let c = model.cluster();
    let mut active: Vec<Line> = Vec::new();
    if let Some(p) = &c.platform {
        for cond in p.conditions.iter().filter(|k| is_alarm(&k.kind, &k.status)) {
            active.push(Line::from(Span::styled(
                format!(
                    " Platform/{} {} {}: {}",
                    p.name, cond.kind, cond.reason, cond.message
                ),
                theme.error,
            )));
        }
    }
    for comp in c
        .components
        .values()
        .filter(|x| matches!(x.health, Health::Degraded | Health::Failed) || x.rollback.is_some())
    {
        let why = comp
            .rollback
            .as_ref()
            .map(|rb| format!("{} → {}: {}", rb.from, rb.to, rb.reason));
        let why = why.unwrap_or_else(|| {
            comp.conditions
                .iter()
                .find(|k| is_alarm(&k.kind, &k.status))
                .map(|k| format!("{}: {}", k.reason, k.message))
                .unwrap_or_else(|| comp.phase.clone())
        });
        let style = if comp.health == Health::Healthy {
            theme.warn
        } else {
            health_style(comp.health, theme)
        };
        let label = if comp.health == Health::Healthy {
            "rolled back"
        } else {
            comp.health.as_str()
        };
        active.push(Line::from(Span::styled(
            format!(" Component/{} {label} — {why}", comp.name),
            style,
        )));
    }
    let alerts_h = (active.len().max(1) as u16 + 2).min(area.height / 3).max(3);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(alerts_h), Constraint::Min(0)]).areas(area);
    if active.is_empty() {
        active.push(Line::from(Span::styled(" No active alerts.", theme.muted)));
    }
    let n_active = active.len();
    frame.render_widget(
        Paragraph::new(active).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(
                    format!(" Active alerts ({n_active}) "),
                    theme.title,
                )),
        ),
        top,
    );

    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(
            format!(" Events, newest first ({}) ", c.events.len()),
            theme.title,
        ));
    let inner = block.inner(bottom);
    frame.render_widget(block, bottom);
    if c.events.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                " No events in the namespace yet.",
                theme.muted,
            )),
            inner,
        );
        return;
    }
    let start = model
        .alerts_scroll
        .min(c.events.len().saturating_sub(inner.height as usize));
    let w = inner.width as usize;
    let lines: Vec<Line> = c
        .events
        .iter()
        .skip(start)
        .take(inner.height as usize)
        .map(|e| {
            let (mark, style) = match e.severity {
                Severity::Warning => ("!", theme.warn),
                Severity::Normal => (" ", theme.text),
            };
            let text = format!(
                "{mark}{} {:<28} {:<18} {}",
                clock(&e.at),
                truncate(&e.object, 28),
                truncate(&e.reason, 18),
                e.message
            );
            Line::from(Span::styled(truncate(&text, w), style))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A condition that means something is wrong: `Ready`-like conditions that are False, or
/// problem conditions (`Degraded`, `RolledBack`, `UpgradeFailed`…) that are True.
pub fn is_alarm(kind: &str, status: &str) -> bool {
    let positive = matches!(kind, "Ready" | "Available" | "Healthy" | "Reconciled");
    if positive {
        status == "False"
    } else {
        status == "True"
            && matches!(
                kind,
                "Degraded" | "Failed" | "RolledBack" | "UpgradeFailed" | "Stalled"
            )
    }
}
