//! Owns the console's dialogs on screen: help, component details, the dependency (install)
//! dialog, uninstall impact, schedule, confirmations and the `:` command line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::model::{Confirm, Dialog, InstallDialog, Model, ScheduleChoice, ScheduleDialog};
use super::panes::{health_span, key_hints};
use crate::tui::theme::Theme;
use crate::tui::widgets::{centered, help::render_help};

/// Draw every dialog on the stack, bottom first.
pub fn render(model: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    for d in &model.dialogs {
        match d {
            Dialog::Help => render_help(frame, area, model.pane.title(), &key_hints(model), theme),
            Dialog::Details { name, scroll } => {
                render_details(model, name, *scroll, frame, area, theme)
            }
            Dialog::Install(d) => render_install(model, d, frame, area, theme),
            Dialog::Uninstall(d) => {
                let mut lines = Vec::new();
                let buttons = if d.would_break.is_empty() {
                    lines.push(Line::from(Span::styled(
                        format!("Nothing installed depends on {}.", d.target),
                        theme.text,
                    )));
                    lines.push(Line::from(Span::styled(
                        "Its Component is deleted; the manager removes its release.",
                        theme.text,
                    )));
                    Line::from(vec![
                        Span::styled("[Cancel] ", theme.text),
                        Span::styled(format!("[Uninstall {}]", d.target), theme.selected),
                        Span::styled("   y/Enter uninstall · n/Esc cancel", theme.muted),
                    ])
                } else {
                    lines.push(Line::from(Span::styled(
                        format!("Uninstalling {} would break:", d.target),
                        theme.error,
                    )));
                    for n in &d.would_break {
                        lines.push(Line::from(Span::styled(format!("  ✗ {n}"), theme.text)));
                    }
                    lines.push(Line::from(""));
                    lines.push(Line::from(Span::styled(
                        "Refused: uninstall the components above first.",
                        theme.text,
                    )));
                    Line::from(vec![
                        Span::styled("[Close]", theme.selected),
                        Span::styled("   Enter/Esc close", theme.muted),
                    ])
                };
                lines.push(Line::from(""));
                lines.push(buttons);
                boxed(
                    frame,
                    area,
                    &format!("Uninstall: {}", d.target),
                    lines,
                    64,
                    theme,
                );
            }
            Dialog::Schedule(d) => render_schedule(d, frame, area, theme),
            Dialog::Confirm(c) => {
                let (title, body) = match c {
                    Confirm::UpgradeNow { name, from, to } => (
                        format!("Upgrade {name}"),
                        vec![
                            format!("Upgrade {name} from {from} to {to} now?"),
                            "The manager rolls back automatically if the rollout fails.".into(),
                        ],
                    ),
                    Confirm::Quit => (
                        "Quit".into(),
                        vec![
                            "A write is still in flight; the cluster keeps whatever reached it."
                                .into(),
                            "Quit anyway?".into(),
                        ],
                    ),
                };
                let mut lines: Vec<Line> = body
                    .into_iter()
                    .map(|l| Line::from(Span::styled(l, theme.text)))
                    .collect();
                lines.push(Line::from(""));
                lines.push(Line::from(vec![
                    Span::styled("y/Enter", theme.key),
                    Span::styled(" yes   ", theme.text),
                    Span::styled("n/Esc", theme.key),
                    Span::styled(" no", theme.text),
                ]));
                boxed(frame, area, &title, lines, 64, theme);
            }
            Dialog::Command { input, error } => {
                let y = area.y
                    + area
                        .height
                        .saturating_sub(if error.is_some() { 3 } else { 2 });
                let rect = Rect {
                    x: area.x,
                    y,
                    width: area.width,
                    height: if error.is_some() { 2 } else { 1 },
                };
                frame.render_widget(Clear, rect);
                let mut lines = vec![Line::from(vec![
                    Span::styled(":", theme.key),
                    Span::styled(input.value().to_string(), theme.input),
                    Span::styled("▏", theme.input),
                ])];
                if let Some(e) = error {
                    lines.push(Line::from(Span::styled(e.clone(), theme.error)));
                }
                frame.render_widget(Paragraph::new(lines), rect);
            }
        }
    }
}

fn boxed(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line>, width: u16, theme: &Theme) {
    let height = (lines.len() as u16 + 2).min(area.height);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border_focus)
                .title(Span::styled(format!(" {title} "), theme.title)),
        ),
        rect,
    );
}

fn title_of<'a>(model: &'a Model, name: &'a str) -> &'a str {
    model.entry(name).map(|e| e.title.as_str()).unwrap_or(name)
}

fn render_install(model: &Model, d: &InstallDialog, frame: &mut Frame, area: Rect, theme: &Theme) {
    let target = title_of(model, &d.target);
    let mut lines = Vec::new();
    if d.required.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("{target} has no required components."),
            theme.text,
        )));
    } else {
        lines.push(Line::from(Span::styled(
            format!("{target} requires the following components:"),
            theme.text,
        )));
        for (n, already) in &d.required {
            let (badge, style) = if *already {
                ("[already installed]", theme.muted)
            } else {
                ("[will be installed]", theme.accent)
            };
            lines.push(Line::from(vec![
                Span::styled(
                    format!(
                        "  ✓ {:<16}",
                        crate::tui::widgets::truncate(title_of(model, n), 16)
                    ),
                    theme.text,
                ),
                Span::styled("(required)  ", theme.muted),
                Span::styled(badge, style),
            ]));
        }
    }
    if !d.optional.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled("Optional components:", theme.text)));
        for (i, (n, why, checked)) in d.optional.iter().enumerate() {
            let mut line = Line::from(vec![
                Span::styled(if *checked { "  [x] " } else { "  [ ] " }, theme.text),
                Span::styled(
                    format!(
                        "{:<16}",
                        crate::tui::widgets::truncate(title_of(model, n), 16)
                    ),
                    theme.text,
                ),
                Span::styled(format!("({why})"), theme.muted),
            ]);
            if d.focus == i {
                line = line.style(theme.selected);
            }
            lines.push(line);
        }
    }
    lines.push(Line::from(""));
    let cancel = if d.focus == d.cancel_index() {
        theme.selected
    } else {
        theme.text
    };
    let install = if d.focus == d.install_index() {
        theme.selected
    } else {
        theme.text
    };
    lines.push(Line::from(vec![
        Span::raw("            "),
        Span::styled("[Cancel]", cancel),
        Span::raw("  "),
        Span::styled(format!("[Install {target}]"), install),
    ]));
    lines.push(Line::from(Span::styled(
        "Tab/↑↓ move · Space toggles · Enter chooses · Esc cancels",
        theme.muted,
    )));
    boxed(frame, area, &format!("Install: {target}"), lines, 66, theme);
}

fn render_schedule(d: &ScheduleDialog, frame: &mut Frame, area: Rect, theme: &Theme) {
    let (at, win) = match d.choice {
        ScheduleChoice::At => ("(•)", "( )"),
        ScheduleChoice::MaintenanceWindow => ("( )", "(•)"),
    };
    let mut lines = vec![
        Line::from(Span::styled(
            format!("Upgrade {} from {} to {}", d.name, d.from, d.to),
            theme.text,
        )),
        Line::from(""),
        Line::from(Span::styled(
            format!("{win} in the Platform's next maintenance window"),
            theme.text,
        )),
        Line::from(vec![
            Span::styled(format!("{at} at (UTC, YYYY-MM-DD HH:MM): "), theme.text),
            Span::styled(
                format!("{:<16}", d.input.value()),
                if d.choice == ScheduleChoice::At {
                    theme.input
                } else {
                    theme.muted
                },
            ),
        ]),
    ];
    if let Some(e) = &d.error {
        lines.push(Line::from(Span::styled(e.clone(), theme.error)));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Tab switches · Enter schedules · Esc cancels",
        theme.muted,
    )));
    boxed(
        frame,
        area,
        &format!("Schedule: {}", d.name),
        lines,
        66,
        theme,
    );
}

fn render_details(
    model: &Model,
    name: &str,
    scroll: u16,
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
) {
    let cluster = model.cluster();
    let comp = cluster.components.get(name);
    let entry = model.entry(name);
    let mut lines = Vec::new();
    if let Some(e) = entry {
        lines.push(Line::from(Span::styled(e.summary.clone(), theme.text)));
    }
    match comp {
        Some(c) => {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("Version {} (spec {}) · ", c.shown_version(), c.version),
                    theme.text,
                ),
                health_span(c.health, theme),
                Span::styled(
                    if c.phase.is_empty() {
                        String::new()
                    } else {
                        format!(" · {}", c.phase)
                    },
                    theme.muted,
                ),
            ]));
        }
        None => lines.push(Line::from(Span::styled(
            format!(
                "Not installed · catalog version {}",
                entry.map(|e| e.version.as_str()).unwrap_or("?")
            ),
            theme.muted,
        ))),
    }
    let deps: Vec<String> = match (comp, entry) {
        (Some(c), _) if !c.dependencies.is_empty() => c.dependencies.clone(),
        (_, Some(e)) => e.requires.clone(),
        _ => Vec::new(),
    };
    lines.push(Line::from(""));
    lines.push(section("Dependencies", theme));
    lines.push(list_or_none(&deps, theme));
    lines.push(section("Dependents (installed)", theme));
    lines.push(list_or_none(&model.dependents(name), theme));
    if let Some(c) = comp {
        lines.push(section("Endpoints", theme));
        if c.endpoints.is_empty() {
            lines.push(Line::from(Span::styled("  none", theme.muted)));
        }
        for e in &c.endpoints {
            lines.push(Line::from(Span::styled(
                format!("  {}: {}", e.name, e.url),
                theme.text,
            )));
        }
        lines.push(section("Conditions", theme));
        if c.conditions.is_empty() {
            lines.push(Line::from(Span::styled("  none reported yet", theme.muted)));
        }
        for k in &c.conditions {
            lines.push(Line::from(Span::styled(
                format!("  {}={} {}: {}", k.kind, k.status, k.reason, k.message),
                theme.text,
            )));
        }
        lines.push(section("Values", theme));
        if c.values.trim().is_empty() {
            lines.push(Line::from(Span::styled("  chart defaults", theme.muted)));
        }
        for l in c.values.lines() {
            lines.push(Line::from(Span::styled(format!("  {l}"), theme.text)));
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "↑/↓ scroll · Esc closes",
        theme.muted,
    )));
    let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let rect = centered(area, area.width.saturating_sub(8).min(90), height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border_focus)
                    .title(Span::styled(
                        format!(" {} ", title_of(model, name)),
                        theme.title,
                    )),
            ),
        rect,
    );
}

fn section(title: &str, theme: &Theme) -> Line<'static> {
    Line::from(Span::styled(title.to_string(), theme.title))
}

fn list_or_none(items: &[String], theme: &Theme) -> Line<'static> {
    if items.is_empty() {
        Line::from(Span::styled("  none", theme.muted))
    } else {
        Line::from(Span::styled(format!("  {}", items.join(", ")), theme.text))
    }
}
