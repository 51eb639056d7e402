//! Owns the settings pane: attached contexts, namespace, theme, catalog refresh and read-only
//! mode.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::tui::manage::model::{Connection, Model, SettingsRow};
use crate::tui::theme::Theme;

pub fn render(model: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let mut lines = Vec::new();
    for (i, row) in model.settings_rows().into_iter().enumerate() {
        let (label, value, hint) = match row {
            SettingsRow::Context(k) => {
                let c = &model.clusters[k];
                let state = match &c.connection {
                    Connection::Live => "connected",
                    Connection::Connecting => "connecting",
                    Connection::Unreachable { .. } => "unreachable, retrying",
                    Connection::CrdsMissing => "CRDs missing",
                    Connection::Forbidden { .. } => "forbidden",
                    Connection::KubeconfigInvalid { .. } => "unusable",
                };
                (
                    format!("Context {}", k + 1),
                    format!("{} ({}) · {state}", c.context, c.address),
                    if k == model.active {
                        "shown".to_string()
                    } else {
                        "Enter: show this cluster".to_string()
                    },
                )
            }
            SettingsRow::Namespace => (
                "Namespace".into(),
                model.namespace.clone(),
                "set with --namespace".into(),
            ),
            SettingsRow::Theme => (
                "Theme".into(),
                model.theme.clone(),
                "Enter: next theme".into(),
            ),
            SettingsRow::RefreshCatalog => (
                "Catalog".into(),
                format!(
                    "{} · {} components",
                    model.catalog_source,
                    model.catalog.len()
                ),
                "Enter: refresh".into(),
            ),
            SettingsRow::ReadOnly => (
                "Read-only".into(),
                if model.readonly {
                    "on — install, uninstall and upgrade are disabled".into()
                } else {
                    "off".into()
                },
                if model.readonly {
                    "restart without --readonly to write".into()
                } else {
                    "Enter: turn on".into()
                },
            ),
        };
        let mut line = Line::from(vec![
            Span::styled(
                if i == model.settings_selected {
                    "›"
                } else {
                    " "
                },
                theme.accent,
            ),
            Span::styled(format!("{label:<11}"), theme.title),
            Span::styled(value, theme.text),
            Span::styled(format!("   {hint}"), theme.muted),
        ]);
        if i == model.settings_selected {
            line = line.style(theme.selected);
        }
        lines.push(line);
    }
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(" Settings ", theme.title)),
        ),
        area,
    );
}
