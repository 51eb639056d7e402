//! Owns the settings pane: attached contexts, namespace, theme, catalog refresh, read-only
//! mode and the Platform's maintenance window (with its edit dialog).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crossterm::event::{KeyCode, KeyEvent};

use crate::crd::platform::{MaintenanceWindow, Weekday};
use crate::domain::window::{self, Window};
use crate::manager::schedule::window_of;
use crate::tui::dialog::Reply;
use crate::tui::keymap::{is_back_tab, is_tab, plain};
use crate::tui::manage::model::{Connection, Intent, Model, SettingsRow};
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use crate::tui::widgets::field::TextField;

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
            SettingsRow::MaintenanceWindow => (
                "Window".into(),
                window_summary(model),
                if model.readonly {
                    "read-only".into()
                } else {
                    "Enter: edit · d: remove".into()
                },
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

/// The Platform's maintenance window in one line: `Sun 03:00 · 120 min · Europe/Berlin`.
fn window_summary(model: &Model) -> String {
    match model
        .cluster()
        .platform
        .as_ref()
        .and_then(|p| p.window.as_ref())
    {
        None => "none: scheduled upgrades run at their time".into(),
        Some(Err(e)) => format!("invalid: {e}"),
        Some(Ok(w)) => format!(
            "{} {} · {} min · {}",
            days_text(&w.days).unwrap_or_else(|| "every day".into()),
            w.start,
            w.duration_minutes,
            w.time_zone.as_deref().unwrap_or("UTC")
        ),
    }
}

/// `Sat,Sun`; `None` for every day.
fn days_text(days: &[jiff::civil::Weekday]) -> Option<String> {
    use jiff::civil::Weekday as D;
    (!days.is_empty()).then(|| {
        days.iter()
            .map(|d| match d {
                D::Monday => "Mon",
                D::Tuesday => "Tue",
                D::Wednesday => "Wed",
                D::Thursday => "Thu",
                D::Friday => "Fri",
                D::Saturday => "Sat",
                D::Sunday => "Sun",
            })
            .collect::<Vec<_>>()
            .join(",")
    })
}

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

/// `Sat, sun Monday` → the days; empty (every day) for an empty text.
fn parse_days(text: &str) -> Result<Vec<Weekday>, String> {
    let mut days = Vec::new();
    for word in text.split([',', ' ']).filter(|w| !w.is_empty()) {
        let lower = word.to_lowercase();
        let day = DAYS
            .iter()
            .find(|(short, _)| lower.get(..3) == Some(*short))
            .filter(|(short, _)| full_name(short).starts_with(&lower))
            .map(|(_, d)| *d)
            .ok_or_else(|| format!("day `{word}` is not a weekday (Mon, Tue … Sun)"))?;
        if !days.contains(&day) {
            days.push(day);
        }
    }
    Ok(days)
}

fn full_name(short: &str) -> &'static str {
    match short {
        "mon" => "monday",
        "tue" => "tuesday",
        "wed" => "wednesday",
        "thu" => "thursday",
        "fri" => "friday",
        "sat" => "saturday",
        _ => "sunday",
    }
}

/// The fields of the window dialog, in order.
const FIELDS: [&str; 4] = [
    "Days (e.g. Sat,Sun; empty: every day)",
    "Start (HH:MM, local to the zone)",
    "Duration (minutes, 1 to 1440)",
    "Time zone (IANA, e.g. Europe/Berlin)",
];

/// Edits the Platform's maintenance window: days, start, duration and zone, with the next
/// opening (local and UTC) shown as it is typed. Nothing is written until the window is valid.
#[derive(Debug, Clone)]
pub struct WindowDialog {
    /// Days, start, duration and time zone, as typed.
    pub fields: [TextField; 4],
    pub focus: usize,
    /// Why the last Enter was refused.
    pub error: Option<String>,
}

impl WindowDialog {
    /// Filled from the Platform's window, or with a proposal (Sundays 03:00 UTC, 2 hours).
    pub fn new(current: Option<&Window>) -> WindowDialog {
        let values = match current {
            Some(w) => [
                days_text(&w.days).unwrap_or_default(),
                w.start.clone(),
                w.duration_minutes.to_string(),
                w.time_zone.clone().unwrap_or_else(|| "UTC".into()),
            ],
            None => ["Sun".into(), "03:00".into(), "120".into(), "UTC".into()],
        };
        WindowDialog {
            fields: values.map(|v| TextField::new(&v)),
            focus: 0,
            error: None,
        }
    }

    /// The window as typed, checked by the domain's rules (the ones the manager applies).
    pub fn window(&self) -> Result<MaintenanceWindow, String> {
        let [days, start, duration, zone] = &self.fields;
        let days = parse_days(days.value())?;
        let minutes = duration.value().trim();
        let duration_minutes = minutes
            .parse::<u32>()
            .map_err(|_| format!("duration `{minutes}` is not a whole number of minutes"))?;
        let zone = zone.value().trim();
        let w = MaintenanceWindow {
            days,
            start: start.value().trim().to_string(),
            duration_minutes,
            time_zone: (!zone.is_empty()).then(|| zone.to_string()),
        };
        window::validate(&window_of(&w)).map_err(|e| e.to_string())?;
        Ok(w)
    }

    /// When the window as typed next opens, local time with UTC beside it, or why it is invalid.
    pub fn next_opening(&self, now: jiff::Timestamp) -> Result<String, String> {
        let w = self.window()?;
        window::next_window(&window_of(&w), now)
            .map(|o| o.describe())
            .map_err(|e| e.to_string())
    }

    /// Tab/↑/↓ move between fields; Enter saves a valid window (an invalid one keeps the dialog
    /// open and says why); Esc cancels; other keys edit the focused field.
    pub fn handle_key(&mut self, key: &KeyEvent) -> Reply<Intent> {
        let n = self.fields.len();
        match key.code {
            KeyCode::Esc => return Reply::Close,
            KeyCode::Enter if plain(key) => {
                return match self.window() {
                    Ok(w) => Reply::Done(Intent::SetWindow(Some(w))),
                    Err(e) => {
                        self.error = Some(format!("Not saved: {e}"));
                        Reply::Keep(true)
                    }
                };
            }
            KeyCode::Down => self.focus = (self.focus + 1) % n,
            KeyCode::Up => self.focus = (self.focus + n - 1) % n,
            _ if is_tab(key) => self.focus = (self.focus + 1) % n,
            _ if is_back_tab(key) => self.focus = (self.focus + n - 1) % n,
            _ => {
                self.fields[self.focus].handle_key(key);
            }
        }
        self.error = None;
        Reply::Keep(true)
    }
}

/// Draw the window dialog: the fields, the next opening (or what is wrong) and the keys.
pub fn render_window(d: &WindowDialog, frame: &mut Frame, area: Rect, theme: &Theme) {
    let mut lines = Vec::new();
    for (i, (label, field)) in FIELDS.iter().zip(&d.fields).enumerate() {
        let mark = if i == d.focus { "›" } else { " " };
        let (text, _) = field.visible(20, false);
        lines.push(Line::from(vec![
            Span::styled(format!("{mark}{label:<38} "), theme.text),
            Span::styled(
                format!("{text:<20}"),
                if i == d.focus {
                    theme.input
                } else {
                    theme.muted
                },
            ),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(match d.next_opening(jiff::Timestamp::now()) {
        Ok(opening) => Line::from(Span::styled(format!("Next opening: {opening}"), theme.text)),
        Err(e) => Line::from(Span::styled(format!("Invalid: {e}"), theme.error)),
    });
    if let Some(e) = &d.error {
        lines.push(Line::from(Span::styled(e.clone(), theme.error)));
    }
    lines.push(Line::from(Span::styled(
        "Enter writes it to the Platform's spec.maintenanceWindow.",
        theme.muted,
    )));
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Tab/↑/↓ field · Enter saves · Esc cancels",
        theme.muted,
    )));
    // Lines wrap (a long zone name), and the key line must stay inside the box.
    let inner = 64;
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let height = (rows as u16 + 2).min(area.height);
    let rect = centered(area, inner as u16 + 2, height);
    frame.render_widget(ratatui::widgets::Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border_focus)
                    .title(Span::styled(" Maintenance window ", theme.title)),
            ),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn dialog(days: &str, start: &str, minutes: &str, zone: &str) -> WindowDialog {
        let mut d = WindowDialog::new(None);
        for (f, v) in d.fields.iter_mut().zip([days, start, minutes, zone]) {
            f.set(v);
        }
        d
    }

    fn enter(d: &mut WindowDialog) -> Reply<Intent> {
        d.handle_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
    }

    #[test]
    fn a_valid_window_is_saved_as_typed() {
        let mut d = dialog("sat, Sunday", "03:30", "90", "Europe/Berlin");
        let Reply::Done(Intent::SetWindow(Some(w))) = enter(&mut d) else {
            panic!("saved")
        };
        assert_eq!(w.days, vec![Weekday::Sat, Weekday::Sun]);
        assert_eq!(w.start, "03:30");
        assert_eq!(w.duration_minutes, 90);
        assert_eq!(w.time_zone.as_deref(), Some("Europe/Berlin"));
    }

    #[test]
    fn bad_windows_are_refused_with_the_reason_and_nothing_is_saved() {
        for (fields, says) in [
            (("Sun", "03:00", "60", "Mars/Olympus"), "Mars/Olympus"),
            (("Sun", "03:00", "0", "UTC"), "at least 1 minute"),
            (("Sun", "03:00", "1441", "UTC"), "longer than a day"),
            (("Sun", "25:00", "60", "UTC"), "HH:MM"),
            (("Sun", "3am", "60", "UTC"), "HH:MM"),
            (("Funday", "03:00", "60", "UTC"), "not a weekday"),
            (("Sun", "03:00", "two hours", "UTC"), "whole number"),
        ] {
            let mut d = dialog(fields.0, fields.1, fields.2, fields.3);
            assert!(
                matches!(enter(&mut d), Reply::Keep(true)),
                "{fields:?} must not be saved"
            );
            let error = d.error.clone().unwrap_or_default();
            assert!(error.contains(says), "{fields:?}: {error}");
        }
    }

    #[test]
    fn the_next_opening_is_shown_local_and_utc() {
        let d = dialog("Sun", "03:00", "120", "Europe/Berlin");
        let now: jiff::Timestamp = "2026-12-08T12:00:00Z".parse().unwrap();
        assert_eq!(
            d.next_opening(now).unwrap(),
            "Sun 2026-12-13 03:00 Europe/Berlin (02:00 UTC)"
        );
        assert!(
            dialog("Sun", "03:00", "0", "UTC")
                .next_opening(now)
                .is_err()
        );
    }

    #[test]
    fn tab_moves_between_fields_and_typing_edits_the_focused_one() {
        let mut d = dialog("Sun", "03:00", "120", "UTC");
        d.handle_key(&KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        d.handle_key(&KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        d.handle_key(&KeyEvent::new(KeyCode::Char('5'), KeyModifiers::NONE));
        assert_eq!(d.fields[1].value(), "03:05");
        assert_eq!(d.fields[0].value(), "Sun");
    }
}
