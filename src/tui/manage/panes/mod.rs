//! Owns the console's screen layout: header with the cluster, pane tabs, the honest connection
//! states, the active pane, status line, key hints and the dialog stack on top.

pub mod alerts;
pub mod components;
pub mod dashboard;
pub mod fleet;
pub mod settings;
pub mod upgrades;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::model::{ClusterView, Connection, Model, Pane};
use crate::domain::health::Health;
use crate::tui::keymap::KeyHint;
use crate::tui::theme::Theme;
use crate::tui::widgets::footer::render_footer;

/// Draw the whole console. Pure: reads the model, writes only to the frame.
pub fn render(model: &Model, frame: &mut Frame, theme: &Theme) {
    let area = frame.area();
    let [header, tabs, body, status, footer] = crate::tui::widgets::chrome(area);
    render_header(model, frame, header, theme);
    render_tabs(model, frame, tabs, theme);
    let body = render_banner(model, frame, body, theme);
    let blocked = blocking_state(model.cluster(), model.ns());
    match (model.pane, blocked) {
        (Pane::Settings, _) => settings::render(model, frame, body, theme),
        // The Fleet says itself which clusters cannot be shown.
        (Pane::Fleet, _) => fleet::render(model, frame, body, theme),
        (_, Some(lines)) => render_state(frame, body, lines, theme),
        (Pane::Dashboard, None) => dashboard::render(model, frame, body, theme),
        (Pane::Components, None) => components::render(model, frame, body, theme),
        (Pane::Upgrades, None) => upgrades::render(model, frame, body, theme),
        (Pane::Alerts, None) => alerts::render(model, frame, body, theme),
    }
    if let Some(msg) = &model.status {
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                crate::tui::widgets::truncate(msg, status.width as usize),
                theme.accent,
            ))),
            status,
        );
    }
    render_footer(frame, footer, &key_hints(model), theme);
    super::dialogs::render(model, frame, area, theme);
}

fn render_header(model: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let c = model.cluster();
    let mut right = vec![Span::styled(
        format!("[Cluster: {}]", c.context),
        theme.title,
    )];
    if model.clusters.len() > 1 {
        right.push(Span::styled(
            format!(" {}/{}", model.active + 1, model.clusters.len()),
            theme.muted,
        ));
    }
    if model.readonly {
        right.push(Span::styled(" READ-ONLY", theme.warn));
    }
    let right_w: usize = right.iter().map(|s| s.width()).sum();
    let left = "OpenOva Lifecycle Manager";
    let pad = (area.width as usize).saturating_sub(left.len() + right_w);
    let mut spans = vec![Span::styled(left, theme.title), Span::raw(" ".repeat(pad))];
    spans.extend(right);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_tabs(model: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let mut spans = Vec::new();
    for p in model.panes().iter() {
        let label = format!(" {} {} ", p.index() + 1, p.title());
        let style = if *p == model.pane {
            theme.selected
        } else {
            theme.muted
        };
        spans.push(Span::styled(label, style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// One-line warnings above the pane for states where data may be shown but is not current.
/// Returns the area left for the pane.
fn render_banner(model: &Model, frame: &mut Frame, area: Rect, theme: &Theme) -> Rect {
    let c = model.cluster();
    let text = match &c.connection {
        Connection::Unreachable { .. } if c.synced => Some((
            format!(
                "API server unreachable at {} — retrying; showing the last known state",
                c.address
            ),
            theme.error,
        )),
        Connection::Live if c.manager_running == Some(false) => Some((
            format!(
                "Lifecycle Manager not running in {} — intent is recorded but nothing is reconciled",
                model.ns()
            ),
            theme.warn,
        )),
        _ => None,
    };
    let Some((text, style)) = text else {
        return area;
    };
    let [banner, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(
            crate::tui::widgets::truncate(&text, banner.width as usize),
            style,
        ))),
        banner,
    );
    rest
}

/// When the cluster cannot be shown at all, the lines that say why (instead of an empty pane).
pub fn blocking_state(c: &ClusterView, namespace: &str) -> Option<Vec<String>> {
    let lines = match &c.connection {
        Connection::Live if c.synced => return None,
        Connection::Unreachable { .. } if c.synced => return None,
        Connection::Live | Connection::Connecting => vec![
            format!("Connecting to {} ({})…", c.address, c.context),
            "Listing Platform and Component resources.".into(),
        ],
        Connection::Unreachable { error } => vec![
            format!("API server unreachable at {}", c.address),
            error.clone(),
            "Retrying in the background; this screen updates when the cluster answers.".into(),
        ],
        Connection::CrdsMissing => vec![
            format!("The openova CRDs are not installed on {}.", c.context),
            "Install them with:".into(),
            format!(
                "  openova crds | kubectl --context {} apply -f -",
                c.context
            ),
            "The console picks them up as soon as they exist.".into(),
        ],
        Connection::Forbidden { verb, resource } => vec![
            format!(
                "Forbidden: these credentials may not {verb} {resource} in namespace {namespace}."
            ),
            format!("Context {} ({}).", c.context, c.address),
            "Ask for a Role that grants it, or use another --context.".into(),
        ],
        Connection::KubeconfigInvalid { error } => {
            vec![format!("Cannot use context {}:", c.context), error.clone()]
        }
    };
    Some(lines)
}

fn render_state(frame: &mut Frame, area: Rect, lines: Vec<String>, theme: &Theme) {
    let mut text: Vec<Line> = Vec::with_capacity(lines.len() + 1);
    text.push(Line::from(""));
    for (i, l) in lines.into_iter().enumerate() {
        let style = if i == 0 { theme.error } else { theme.text };
        text.push(Line::from(Span::styled(l, style)));
    }
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border),
        ),
        area,
    );
}

/// Key hints for the current pane (write actions are marked in read-only mode), made from the
/// same key tables `update` reads.
pub fn key_hints(model: &Model) -> Vec<KeyHint> {
    super::keys::key_hints(model)
}

/// Width of a name column: the longest name, at least `MIN_NAME` and at most what is left of
/// `width` after `rest` columns of the other fields.
pub fn name_width<'a>(names: impl Iterator<Item = &'a str>, width: usize, rest: usize) -> usize {
    const MIN_NAME: usize = 8;
    let longest = names
        .map(crate::tui::widgets::display_width)
        .max()
        .unwrap_or(0);
    longest.min(width.saturating_sub(rest)).max(MIN_NAME)
}

/// The glyph and style for a health value.
pub fn health_span(h: Health, theme: &Theme) -> Span<'static> {
    let style = health_style(h, theme);
    Span::styled(format!("● {}", h.as_str()), style)
}

pub fn health_style(h: Health, theme: &Theme) -> Style {
    match h {
        Health::Healthy => theme.ok,
        Health::Installing => theme.accent,
        Health::Degraded => theme.warn,
        Health::Failed => theme.error,
        Health::Unknown => theme.muted,
    }
}

/// `HH:MM:SS` in UTC; the console never shows relative times because they would need a
/// redraw every second.
pub fn clock(t: &time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

/// A bar of `width` cells filled to `percent`.
pub fn bar(percent: u64, width: usize) -> String {
    let filled = (percent.min(100) as usize * width).div_ceil(100);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}
