//! Owns the alerts & events pane: active alerts from conditions, then Kubernetes Events, newest
//! first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::clock;
use crate::tui::manage::model::{Model, Severity};
use crate::tui::theme::Theme;
use crate::tui::widgets::truncate;

pub fn render(model: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let c = model.cluster();
    let alerts = c.active_alerts();
    let n_active = c.alert_count();
    let mut active: Vec<Line> = alerts
        .iter()
        .map(|a| {
            let style = if a.critical { theme.error } else { theme.warn };
            Line::from(Span::styled(
                format!(" {} {} — {}", a.object, a.label, a.text),
                style,
            ))
        })
        .collect();
    let alerts_h = (active.len().max(1) as u16 + 2).min(area.height / 3).max(3);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(alerts_h), Constraint::Min(0)]).areas(area);
    if active.is_empty() {
        active.push(Line::from(Span::styled(" No active alerts.", theme.muted)));
    }
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
                "{mark}{} {:<28} {:<18} {}{}",
                clock(&e.at),
                truncate(&e.object, 28),
                truncate(&e.reason, 18),
                // A series: how often, before the newest message (which is what is shown).
                if e.count > 1 {
                    format!("×{} ", e.count)
                } else {
                    String::new()
                },
                e.message
            );
            Line::from(Span::styled(truncate(&text, w), style))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
