//! Owns the console's dialogs: help, component details, the dependency (install) dialog,
//! uninstall impact, schedule, confirmations and the `:` command line. Each takes its keys and
//! answers with a [`Reply`]; the console carries out the [`Intent`] of an answered dialog.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::model::{
    CommandDialog, Confirm, DetailsDialog, Dialog, InstallDialog, Intent, Model, RemovableDep,
    ScheduleChoice, ScheduleDialog, UninstallDialog,
};
use super::panes::{health_span, key_hints};
use super::update::{When, parse_future};
use crate::tui::dialog::{ConfirmDialog, Reply};
use crate::tui::keymap::{is_back_tab, is_char, is_tab, plain};
use crate::tui::theme::Theme;
use crate::tui::widgets::{centered, help::render_help};

impl Dialog {
    /// The top dialog's answer to a key.
    pub fn handle_key(&mut self, key: &KeyEvent) -> Reply<Intent> {
        match self {
            Dialog::Help => {
                if key.code == KeyCode::Esc
                    || (key.code == KeyCode::Enter && plain(key))
                    || is_char(key, '?')
                    || is_char(key, 'q')
                {
                    Reply::Close
                } else {
                    Reply::Keep(false)
                }
            }
            Dialog::Details(d) => d.handle_key(key),
            Dialog::Install(d) => d.handle_key(key),
            Dialog::Uninstall(d) => d.handle_key(key),
            Dialog::Schedule(d) => d.handle_key(key),
            Dialog::Confirm(d) => match d.handle_key(key) {
                Reply::Done(c) | Reply::Submit(c) => Reply::Done(Intent::Confirmed(c)),
                Reply::Close => Reply::Close,
                Reply::Keep(changed) => Reply::Keep(changed),
            },
            Dialog::Command(d) => d.handle_key(key),
            Dialog::Window(d) => d.handle_key(key),
        }
    }
}

/// The console's yes/no question for `c`.
pub fn confirm_dialog(c: Confirm) -> ConfirmDialog<Confirm> {
    let (title, body) = match &c {
        Confirm::UpgradeNow { name, from, to } => (
            format!("Upgrade {name}"),
            vec![
                format!("Upgrade {name} from {from} to {to} now?"),
                "The manager rolls back automatically if the rollout fails.".into(),
            ],
        ),
        Confirm::MajorUpgrade {
            name,
            from,
            to,
            jump,
            when,
        } => (
            format!("Major upgrade {jump}"),
            vec![
                format!(
                    "{name} {from} → {to} is a major upgrade ({jump}): data formats, \
                     configuration and plugins may change, and a rollback may not restore them."
                ),
                match when {
                    None => "It starts now.".to_string(),
                    Some(When::MaintenanceWindow) => {
                        "It runs in the Platform's next maintenance window.".to_string()
                    }
                    Some(When::At(at)) => format!("It runs at {at}."),
                },
                format!("Confirm the jump {jump}?"),
            ],
        ),
        Confirm::Retry { name, what } => (
            format!("Retry {name}"),
            vec![
                format!("Retry {what} of {name}?"),
                "Writes spec.retry; the manager runs it again once (and refuses it if the \
                 component is no longer failed). The outcome appears as an Event."
                    .into(),
            ],
        ),
        Confirm::ReconcileNow { name } => (
            format!("Reconcile {name}"),
            vec![
                format!("Ask the delivery controller to reconcile {name} now?"),
                "Writes spec.reconcileRequestedAt; the manager passes it on (Flux \
                 reconcile.fluxcd.io/requestedAt). Nothing else changes."
                    .into(),
            ],
        ),
        Confirm::Suspend {
            name,
            suspend: true,
        } => (
            format!("Suspend {name}"),
            vec![
                format!("Suspend {name}?"),
                "Writes spec.suspend: its release is no longer reconciled: no upgrades, no \
                 repairs of drift, until resumed. It keeps running as it is."
                    .into(),
            ],
        ),
        Confirm::Suspend {
            name,
            suspend: false,
        } => (
            format!("Resume {name}"),
            vec![
                format!("Resume {name}?"),
                "Clears spec.suspend: its release is reconciled again, and pending changes \
                 are applied."
                    .into(),
            ],
        ),
        Confirm::CancelUpgrade {
            name,
            installed,
            wanted,
            scheduled,
        } => (
            format!("Cancel upgrade of {name}"),
            vec![
                format!(
                    "Cancel the change of {name} to {wanted}{}?",
                    scheduled
                        .as_ref()
                        .map(|s| format!(" (scheduled {s})"))
                        .unwrap_or_default()
                ),
                format!(
                    "{name} stays at {installed}: its version goes back to {installed} on the \
                     Component and the Platform, and the scheduled time is cleared."
                ),
            ],
        ),
        Confirm::RemoveWindow { current, waiting } => (
            "Remove maintenance window".into(),
            vec![
                format!("Remove the Platform's maintenance window ({current})?"),
                "Writes spec.maintenanceWindow: none. Upgrades scheduled at a time then run when \
                 due, at any hour; upgrades waiting for the next window are refused until a \
                 window is set again."
                    .into(),
                if waiting.is_empty() {
                    "No upgrade is scheduled now.".to_string()
                } else {
                    format!("Scheduled now: {}.", waiting.join(", "))
                },
            ],
        ),
        Confirm::Quit => (
            "Quit".into(),
            vec![
                "A write is still in flight; the cluster keeps whatever reached it.".into(),
                "Quit anyway?".into(),
            ],
        ),
    };
    ConfirmDialog::new(title, body, "yes", "no", c).with_width(64)
}

fn is_down(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Down) || is_char(key, 'j')
}

fn is_up(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Up) || is_char(key, 'k')
}

fn is_enter(key: &KeyEvent) -> bool {
    key.code == KeyCode::Enter && plain(key)
}

impl DetailsDialog {
    /// ↑/↓ scroll; Esc, Enter or `q` close.
    pub fn handle_key(&mut self, key: &KeyEvent) -> Reply<Intent> {
        if key.code == KeyCode::Esc || is_enter(key) || is_char(key, 'q') {
            return Reply::Close;
        }
        if is_down(key) {
            self.scroll = self.scroll.saturating_add(1);
            return Reply::Keep(true);
        }
        if is_up(key) {
            self.scroll = self.scroll.saturating_sub(1);
            return Reply::Keep(true);
        }
        Reply::Keep(false)
    }
}

impl InstallDialog {
    /// Tab/arrows move, Space toggles an optional component, Enter chooses, Esc cancels.
    pub fn handle_key(&mut self, key: &KeyEvent) -> Reply<Intent> {
        let slots = self.optional.len() + 2;
        if key.code == KeyCode::Esc {
            return Reply::Close;
        }
        if is_tab(key) || is_down(key) || key.code == KeyCode::Right {
            self.focus = (self.focus + 1) % slots;
            return Reply::Keep(true);
        }
        if is_back_tab(key) || is_up(key) || key.code == KeyCode::Left {
            self.focus = (self.focus + slots - 1) % slots;
            return Reply::Keep(true);
        }
        if !(is_char(key, ' ') || is_enter(key)) {
            return Reply::Keep(false);
        }
        if self.focus < self.optional.len() {
            self.optional[self.focus].2 = !self.optional[self.focus].2;
            return Reply::Keep(true);
        }
        if self.focus == self.cancel_index() {
            return Reply::Close;
        }
        Reply::Done(Intent::Install {
            target: self.target.clone(),
            required: self
                .required
                .iter()
                .filter(|(_, already)| !already)
                .map(|(n, _)| n.clone())
                .collect(),
            optional: self
                .optional
                .iter()
                .filter(|(_, _, checked)| *checked)
                .map(|(n, _, _)| n.clone())
                .collect(),
        })
    }
}

impl UninstallDialog {
    /// ↑/↓ move between the dependency tick boxes, Space ticks one (removed too); `y`/Enter
    /// uninstall when nothing depends on the target; `n`, Esc, `q` (and Enter on a refusal)
    /// close.
    pub fn handle_key(&mut self, key: &KeyEvent) -> Reply<Intent> {
        if self.would_break.is_empty() {
            if is_char(key, 'y') || is_enter(key) {
                return Reply::Done(Intent::Uninstall {
                    target: self.target.clone(),
                    also_remove: self.also_remove(),
                });
            }
            let n = self.deps.len();
            if n > 0 && (is_down(key) || is_tab(key)) {
                self.focus = (self.focus + 1) % n;
                return Reply::Keep(true);
            }
            if n > 0 && (is_up(key) || is_back_tab(key)) {
                self.focus = (self.focus + n - 1) % n;
                return Reply::Keep(true);
            }
            if is_char(key, ' ')
                && let Some(d) = self.deps.get_mut(self.focus)
            {
                d.remove = !d.remove;
                return Reply::Keep(true);
            }
        }
        if key.code == KeyCode::Esc || is_enter(key) || is_char(key, 'n') || is_char(key, 'q') {
            return Reply::Close;
        }
        Reply::Keep(false)
    }
}

impl ScheduleDialog {
    /// Tab switches between the maintenance window and a time; Enter schedules (a time that
    /// does not parse keeps the dialog open and says why); Esc cancels.
    pub fn handle_key(&mut self, key: &KeyEvent) -> Reply<Intent> {
        if key.code == KeyCode::Esc {
            return Reply::Close;
        }
        if is_tab(key) || is_back_tab(key) {
            self.choice = match self.choice {
                ScheduleChoice::At => ScheduleChoice::MaintenanceWindow,
                ScheduleChoice::MaintenanceWindow => ScheduleChoice::At,
            };
            self.error = None;
            return Reply::Keep(true);
        }
        if is_enter(key) {
            let when = match self.choice {
                ScheduleChoice::MaintenanceWindow => match &self.window {
                    Ok(_) => When::MaintenanceWindow,
                    Err(why) => {
                        self.error = Some(format!("Not possible: {why}; give a time instead"));
                        return Reply::Keep(true);
                    }
                },
                ScheduleChoice::At => {
                    match parse_future(self.input.value(), jiff::Timestamp::now()) {
                        Ok(at) => When::At(at),
                        Err(e) => {
                            self.error = Some(e);
                            return Reply::Keep(true);
                        }
                    }
                }
            };
            return Reply::Done(Intent::Schedule {
                name: self.name.clone(),
                from: self.from.clone(),
                to: self.to.clone(),
                when,
            });
        }
        if self.choice == ScheduleChoice::At {
            self.input.handle_key(key);
            self.error = None;
            return Reply::Keep(true);
        }
        Reply::Keep(false)
    }
}

impl CommandDialog {
    /// Enter runs the line (the console closes the dialog, or shows why the command was
    /// refused); Esc cancels; other keys edit.
    pub fn handle_key(&mut self, key: &KeyEvent) -> Reply<Intent> {
        if key.code == KeyCode::Esc {
            return Reply::Close;
        }
        if is_enter(key) {
            return Reply::Submit(Intent::Command(self.input.value().to_string()));
        }
        self.input.handle_key(key);
        self.error = None;
        Reply::Keep(true)
    }
}

/// Draw every dialog on the stack, bottom first.
pub fn render(model: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    for d in &model.dialogs {
        match d {
            Dialog::Help => render_help(
                frame,
                area,
                model.pane.title(),
                &key_hints(model),
                "Esc, Enter, ? or q closes this help.",
                theme,
            ),
            Dialog::Details(d) => render_details(model, &d.name, d.scroll, frame, area, theme),
            Dialog::Install(d) => render_install(model, d, frame, area, theme),
            Dialog::Uninstall(d) => render_uninstall(d, frame, area, theme),
            Dialog::Schedule(d) => render_schedule(d, frame, area, theme),
            Dialog::Window(d) => super::panes::settings::render_window(d, frame, area, theme),
            Dialog::Confirm(c) => c.render(frame, area, theme),
            Dialog::Command(CommandDialog { input, error }) => {
                // The error wraps: it lists the commands there are, longer than a narrow line.
                let error_h = error.as_ref().map_or(0, |e| {
                    crate::tui::widgets::display_width(e).div_ceil(area.width.max(1) as usize)
                }) as u16;
                let height = (1 + error_h).min(area.height.saturating_sub(1));
                let rect = Rect {
                    x: area.x,
                    y: area.y + area.height.saturating_sub(height + 1),
                    width: area.width,
                    height,
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
                frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), rect);
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

const HOLDS_DATA: &str = "⚠ holds data";

/// The name with its data marker, padded to a column.
fn name_marked(name: &str, holds_data: bool) -> String {
    let name = format!("{:<18}", crate::tui::widgets::truncate(name, 18));
    if holds_data {
        format!("{name} {HOLDS_DATA}")
    } else {
        name
    }
}

fn render_uninstall(d: &UninstallDialog, frame: &mut Frame, area: Rect, theme: &Theme) {
    let title = format!("Uninstall: {}", d.target);
    if !d.would_break.is_empty() {
        let mut lines = vec![Line::from(Span::styled(
            format!("Uninstalling {} would break:", d.target),
            theme.error,
        ))];
        for n in &d.would_break {
            lines.push(Line::from(Span::styled(format!("  ✗ {n}"), theme.text)));
        }
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            "Refused: uninstall the components above first.",
            theme.text,
        )));
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            Span::styled("[Close]", theme.selected),
            Span::styled("   Enter/Esc close", theme.muted),
        ]));
        return boxed(frame, area, &title, lines, 64, theme);
    }
    let (body, focus_line) = uninstall_body(d, theme);
    let footer = vec![
        Line::from(""),
        Line::from(vec![
            Span::styled("[Cancel] ", theme.text),
            Span::styled(format!("[Uninstall {}]", d.target), theme.selected),
        ]),
        Line::from(Span::styled(
            if d.deps.is_empty() {
                "y/Enter uninstall · n/Esc cancel"
            } else {
                "↑↓ move · Space tick · y/Enter uninstall · n/Esc cancel"
            },
            theme.muted,
        )),
    ];
    scrolled_box(frame, area, &title, body, footer, focus_line, 68, theme);
}

/// The uninstall dialog's body: what is removed, the dependencies offered (unticked: kept), and
/// the summary of the effect; with the line of the focused tick box.
fn uninstall_body(d: &UninstallDialog, theme: &Theme) -> (Vec<Line<'static>>, usize) {
    let mut lines = vec![
        Line::from(Span::styled("Removed:", theme.title)),
        Line::from(Span::styled(
            format!("  {}", name_marked(&d.target, d.target_holds_data)),
            theme.text,
        )),
        Line::from(Span::styled(
            "  Its Platform entry is disabled and this removal confirmed;",
            theme.muted,
        )),
        Line::from(Span::styled(
            "  the manager removes its release.",
            theme.muted,
        )),
    ];
    let mut focus_line = 0;
    if d.deps.is_empty() {
        lines.push(Line::from(Span::styled(
            "No dependency becomes unneeded; nothing else is removed.",
            theme.text,
        )));
    } else {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            "No longer needed after this (Space ticks to remove too):",
            theme.title,
        )));
        for (i, dep) in d.deps.iter().enumerate() {
            let tick = if dep.remove { "[x]" } else { "[ ]" };
            let mark = if i == d.focus { "›" } else { " " };
            if i == d.focus {
                focus_line = lines.len();
            }
            let style = if i == d.focus {
                theme.selected
            } else {
                theme.text
            };
            lines.push(Line::from(Span::styled(
                format!("{mark} {tick} {}", name_marked(&dep.name, dep.holds_data)),
                style,
            )));
        }
        let (remove, keep): (Vec<&RemovableDep>, Vec<&RemovableDep>) =
            d.deps.iter().partition(|x| x.remove);
        let names = |v: &[&RemovableDep]| {
            v.iter()
                .map(|x| x.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        lines.push(Line::from(""));
        if !remove.is_empty() {
            lines.push(Line::from(Span::styled(
                format!("Also removed: {}", names(&remove)),
                theme.warn,
            )));
        }
        if !keep.is_empty() {
            lines.push(Line::from(Span::styled(
                format!("Kept installed: {}", names(&keep)),
                theme.text,
            )));
        }
    }
    let data: Vec<&str> = std::iter::once((&d.target, d.target_holds_data))
        .chain(
            d.deps
                .iter()
                .filter(|x| x.remove)
                .map(|x| (&x.name, x.holds_data)),
        )
        .filter(|(_, h)| *h)
        .map(|(n, _)| n.as_str())
        .collect();
    if !data.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(
                "{HOLDS_DATA}: removing {} can lose the data it keeps.",
                data.join(", ")
            ),
            theme.error,
        )));
    }
    (lines, focus_line)
}

/// A box whose body scrolls to keep `focus_line` in view while `footer` stays at the bottom.
#[allow(clippy::too_many_arguments)]
fn scrolled_box(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    body: Vec<Line<'static>>,
    footer: Vec<Line<'static>>,
    focus_line: usize,
    width: u16,
    theme: &Theme,
) {
    let want = (body.len() + footer.len()) as u16 + 2;
    let height = want.min(area.height.saturating_sub(2)).max(5);
    let rect = centered(area, width.min(area.width), height);
    let inner = crate::tui::widgets::popup(frame, rect, title, theme);
    let foot_h = (footer.len() as u16).min(inner.height);
    let body_h = inner.height - foot_h;
    let [body_area, foot_area] =
        Layout::vertical([Constraint::Length(body_h), Constraint::Length(foot_h)]).areas(inner);
    let scroll = (focus_line as u16 + 1).saturating_sub(body_h);
    let more = body.len() as u16 > body_h + scroll;
    frame.render_widget(Paragraph::new(body).scroll((scroll, 0)), body_area);
    frame.render_widget(Paragraph::new(footer), foot_area);
    if scroll > 0 || more {
        let hint = Span::styled(" ↑↓ more ", theme.muted);
        let x = rect.x + rect.width.saturating_sub(11);
        frame.render_widget(
            Paragraph::new(hint),
            Rect {
                x,
                y: rect.y + rect.height - 1,
                width: 9,
                height: 1,
            },
        );
    }
}

fn title_of<'a>(model: &'a Model, name: &'a str) -> &'a str {
    model.entry(name).map(|e| e.title.as_str()).unwrap_or(name)
}

fn render_install(model: &Model, d: &InstallDialog, frame: &mut Frame, area: Rect, theme: &Theme) {
    let target = title_of(model, &d.target);
    let mut lines = Vec::new();
    lines.extend(required_lines(model, d, target, theme));
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

/// What installing the target brings along: each required component that will be installed
/// (its direct requirements plain, those needed only by them marked so), then how many of its
/// requirements are already installed.
fn required_lines(
    model: &Model,
    d: &InstallDialog,
    target: &str,
    theme: &Theme,
) -> Vec<Line<'static>> {
    if d.required.is_empty() {
        return vec![Line::from(Span::styled(
            format!("{target} has no required components."),
            theme.text,
        ))];
    }
    let direct = model
        .entry(&d.target)
        .map(|e| e.requires.clone())
        .unwrap_or_default();
    let missing: Vec<&str> = d
        .required
        .iter()
        .filter(|(_, already)| !already)
        .map(|(n, _)| n.as_str())
        .collect();
    let installed = d.required.len() - missing.len();
    if missing.is_empty() {
        return vec![Line::from(Span::styled(
            format!(
                "{target} requires {installed} component{}, all already installed.",
                plural(installed)
            ),
            theme.text,
        ))];
    }
    let name_w = missing
        .iter()
        .map(|n| crate::tui::widgets::display_width(title_of(model, n)))
        .max()
        .unwrap_or(0)
        .clamp(8, 24);
    let mut lines = vec![Line::from(Span::styled(
        format!("{target} requires:"),
        theme.text,
    ))];
    for n in &missing {
        let mut spans = vec![
            Span::styled(
                format!(
                    "  ✓ {} ",
                    crate::tui::widgets::pad(title_of(model, n), name_w)
                ),
                theme.text,
            ),
            Span::styled("will be installed", theme.accent),
        ];
        if !direct.iter().any(|r| r == n) {
            spans.push(Span::styled(" (needed by a requirement)", theme.muted));
        }
        lines.push(Line::from(spans));
    }
    if installed > 0 {
        lines.push(Line::from(Span::styled(
            format!("  and {installed} already installed"),
            theme.muted,
        )));
    }
    lines
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn render_schedule(d: &ScheduleDialog, frame: &mut Frame, area: Rect, theme: &Theme) {
    let (at, win) = match d.choice {
        ScheduleChoice::At => ("(•)", "( )"),
        ScheduleChoice::MaintenanceWindow => ("( )", "(•)"),
    };
    // One line each, so the box (sized by its lines) keeps the key line.
    let (window_line, window_style) = match &d.window {
        Ok(opening) => (format!("    opens {opening}"), theme.text),
        Err(why) => (format!("    not offered: {why}"), theme.muted),
    };
    let mut lines = vec![
        Line::from(Span::styled(
            format!("Upgrade {} from {} to {}", d.name, d.from, d.to),
            theme.text,
        )),
        Line::from(""),
        Line::from(Span::styled(
            format!("{win} in the Platform's next maintenance window"),
            window_style,
        )),
        Line::from(Span::styled(window_line, window_style)),
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
    let mut lines = details_lines(model, name, theme);
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "↑/↓ scroll · c copies all of it · Esc closes",
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

/// The details of component `name` as plain text, for the clipboard.
pub fn details_text(model: &Model, name: &str) -> String {
    let mut out = format!("{}\n", title_of(model, name));
    for line in details_lines(model, name, &Theme::mono()) {
        for span in &line.spans {
            out.push_str(&span.content);
        }
        out.push('\n');
    }
    out
}

/// Everything the details dialog shows about component `name` (without its key line).
fn details_lines(model: &Model, name: &str, theme: &Theme) -> Vec<Line<'static>> {
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
            for (label, k) in c.refusals() {
                lines.push(Line::from(Span::styled(
                    format!("⚠ {label}: {}", k.message),
                    theme.warn,
                )));
            }
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
        let primary = delivery_of(model, c);
        lines.push(section("Delivered as", theme));
        lines.push(Line::from(Span::styled(
            format!("  {}", describe_primary(&primary, model.ns())),
            theme.text,
        )));
        let endpoints = c.endpoints.iter().map(|e| format!("{}: {}", e.name, e.url));
        lines.extend(listed("Endpoints", endpoints.collect(), "none", theme));
        let conditions = c.conditions.iter();
        let conditions =
            conditions.map(|k| format!("{}={} {}: {}", k.kind, k.status, k.reason, k.message));
        lines.extend(listed(
            "Conditions",
            conditions.collect(),
            "none reported yet",
            theme,
        ));
        lines.extend(event_lines(model, c, &primary, theme));
        let values = match c.values.trim() {
            "" => Vec::new(),
            _ => c.values.lines().map(str::to_owned).collect(),
        };
        lines.extend(listed("Values", values, "chart defaults", theme));
    }
    lines
}

/// The delivery object the manager keeps for `c`: the Component's own choice of delivery, else
/// the Platform's, else Flux (as the manager decides).
fn delivery_of(
    model: &Model,
    c: &super::model::ComponentView,
) -> crate::manager::delivery::Primary {
    let backend = c
        .delivery
        .or_else(|| model.cluster().platform.as_ref().and_then(|p| p.delivery))
        .unwrap_or_default();
    crate::manager::delivery::primary_of(backend, model.ns(), &c.name)
}

fn describe_primary(p: &crate::manager::delivery::Primary, namespace: &str) -> String {
    let r = &p.resource;
    if p.namespaced {
        format!(
            "{} {} in namespace {namespace} ({})",
            r.kind, p.name, r.api_version
        )
    } else {
        format!("{} {} (cluster-scoped, {})", r.kind, p.name, r.api_version)
    }
}

/// The Events about the Component and about its delivery object, newest first, in full.
fn event_lines(
    model: &Model,
    c: &super::model::ComponentView,
    primary: &crate::manager::delivery::Primary,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let own = format!("Component/{}", c.name);
    let delivered = format!("{}/{}", primary.resource.kind, primary.name);
    let mut lines = vec![section("Events (newest first)", theme)];
    let mut any = false;
    for e in model
        .cluster()
        .events
        .iter()
        .filter(|e| e.object == own || e.object == delivered)
    {
        any = true;
        let style = match e.severity {
            super::model::Severity::Warning => theme.warn,
            super::model::Severity::Normal => theme.text,
        };
        lines.push(Line::from(Span::styled(
            format!(
                "  {} {} {}: {}",
                super::panes::clock(&e.at),
                e.object,
                e.reason,
                e.message
            ),
            style,
        )));
    }
    if !any {
        lines.push(Line::from(Span::styled("  none seen", theme.muted)));
    }
    lines
}

fn section(title: &str, theme: &Theme) -> Line<'static> {
    Line::from(Span::styled(title.to_string(), theme.title))
}

/// A section of one line per item, or `empty` when there is none.
fn listed(title: &str, items: Vec<String>, empty: &str, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![section(title, theme)];
    if items.is_empty() {
        out.push(Line::from(Span::styled(format!("  {empty}"), theme.muted)));
    }
    out.extend(
        items
            .into_iter()
            .map(|i| Line::from(Span::styled(format!("  {i}"), theme.text))),
    );
    out
}

fn list_or_none(items: &[String], theme: &Theme) -> Line<'static> {
    if items.is_empty() {
        Line::from(Span::styled("  none", theme.muted))
    } else {
        Line::from(Span::styled(format!("  {}", items.join(", ")), theme.text))
    }
}
