//! The provisioning progress screen: state built from a run's stored events (phase bar,
//! per-resource table with durations, bounded log, diagnostics) and its pure render and keys.
//!
//! The screen only watches: the run belongs to its detached supervisor. Feed it every
//! [`EventRecord`] in order with [`ProgressScreen::apply_event`] and the run row with
//! [`ProgressScreen::set_run`]; leaving the screen never stops the run, cancelling asks first.

use std::collections::{HashMap, VecDeque};

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

use super::keys::{self, Action};
use crate::domain::platform::PlatformConfig;
use crate::provision::events::{TofuEvent, parse_line};
use crate::provision::plan::{ClusterPlan, PlanSummary};
use crate::provision::supervisor::PLAN_SUMMARY_KIND;
use crate::store::runs::{EventRecord, RunAction, RunRecord, RunState};
use crate::tui::keymap::{Binding, KeyHint, hints_in, lookup_in};
use crate::tui::theme::Theme;

/// Log lines kept for the log pane; older ones stay in SQLite (`openova runs logs`).
pub const LOG_CAPACITY: usize = 500;
/// Events read from the store per poll; a shorter page means the screen has caught up.
pub const POLL_PAGE: usize = 500;
/// Diagnostics kept on screen.
pub const DIAGNOSTIC_CAPACITY: usize = 20;

/// Where one resource is in its life during this run.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceStatus {
    /// In the plan, with OpenTofu's action (`create`, `update`, `delete`, `replace`).
    Planned(String),
    /// Being applied; `since_ms` is when apply_start arrived.
    Working {
        action: String,
        since_ms: i64,
    },
    /// Done, with OpenTofu's elapsed seconds.
    Done {
        action: String,
        secs: f64,
    },
    Failed {
        secs: Option<f64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRow {
    pub cluster: String,
    pub addr: String,
    pub status: ResourceStatus,
}

/// One error or warning, shown with its summary and detail.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagnosticView {
    pub error: bool,
    pub summary: String,
    pub detail: String,
    pub address: Option<String>,
}

/// What a key press asks of the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressAction {
    None,
    /// The operator confirmed: ask the supervisor to stop (SIGINT → graceful OpenTofu stop).
    CancelRun,
    /// Leave the screen; the run continues in the background.
    Leave,
    /// The operator approves the reviewed plan: confirm, then apply exactly that plan.
    ApprovePlan,
    /// The operator rejects the reviewed plan: nothing is applied.
    RejectPlan,
    /// The run failed, was cancelled or interrupted: go back to Review and plan again.
    Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Focus {
    Resources,
    Log,
}

/// The progress screen's state.
#[derive(Debug, Clone)]
pub struct ProgressScreen {
    pub run_id: String,
    platform: String,
    action: Option<RunAction>,
    state: RunState,
    /// The furthest working phase reached, to show where a failed run stopped.
    furthest: Option<RunState>,
    started_ms: Option<i64>,
    finished_ms: Option<i64>,
    now_ms: i64,
    cluster: String,
    rows: Vec<ResourceRow>,
    index: HashMap<(String, String), usize>,
    log: VecDeque<String>,
    diagnostics: VecDeque<DiagnosticView>,
    summary: Option<String>,
    error: Option<String>,
    next_step: Option<String>,
    last_seq: i64,
    confirm_cancel: bool,
    cancel_requested: bool,
    focus: Focus,
    /// Lines scrolled up from the newest log line (0 = follow).
    log_scroll: usize,
    table_scroll: usize,
    /// The last poll returned less than a full page: every stored event is applied.
    caught_up: bool,
    /// Each cluster's plan as the run recorded it (`plan_summary` events).
    plans: Vec<ClusterPlan>,
    /// The configuration the run was started with (for the plan review's warnings).
    config: Option<Box<PlatformConfig>>,
    review_scroll: usize,
}

impl ProgressScreen {
    pub fn new(run_id: impl Into<String>) -> Self {
        ProgressScreen {
            run_id: run_id.into(),
            platform: String::new(),
            action: None,
            state: RunState::Pending,
            furthest: None,
            started_ms: None,
            finished_ms: None,
            now_ms: 0,
            cluster: String::new(),
            rows: Vec::new(),
            index: HashMap::new(),
            log: VecDeque::new(),
            diagnostics: VecDeque::new(),
            summary: None,
            error: None,
            next_step: None,
            last_seq: 0,
            confirm_cancel: false,
            cancel_requested: false,
            focus: Focus::Log,
            log_scroll: 0,
            table_scroll: 0,
            caught_up: false,
            plans: Vec::new(),
            config: None,
            review_scroll: 0,
        }
    }

    /// Record how many events the last poll returned (of a page of [`POLL_PAGE`]).
    pub fn set_polled(&mut self, events: usize) {
        self.caught_up = events < POLL_PAGE;
    }

    /// The run has ended and every event it wrote is on screen: nothing here changes any more,
    /// so the screen neither animates nor reads the store again.
    pub fn settled(&self) -> bool {
        self.state.is_terminal() && self.caught_up
    }

    /// Whether both screens show the same thing. The clock counts only as far as the durations
    /// shown (whole seconds), so a poll that merely advances it by 250 ms redraws nothing.
    pub fn same_view(&self, other: &ProgressScreen) -> bool {
        // Destructured so a new field cannot be forgotten here.
        let ProgressScreen {
            run_id,
            platform,
            action,
            state,
            furthest,
            started_ms,
            finished_ms,
            now_ms: _,
            cluster,
            rows,
            index: _,
            log,
            diagnostics,
            summary,
            error,
            next_step,
            last_seq,
            confirm_cancel,
            cancel_requested,
            focus,
            log_scroll,
            table_scroll,
            caught_up,
            plans,
            config,
            review_scroll,
        } = self;
        *run_id == other.run_id
            && *platform == other.platform
            && *action == other.action
            && *state == other.state
            && *furthest == other.furthest
            && *started_ms == other.started_ms
            && *finished_ms == other.finished_ms
            && *cluster == other.cluster
            && *rows == other.rows
            && *log == other.log
            && *diagnostics == other.diagnostics
            && *summary == other.summary
            && *error == other.error
            && *next_step == other.next_step
            && *last_seq == other.last_seq
            && *confirm_cancel == other.confirm_cancel
            && *cancel_requested == other.cancel_requested
            && *focus == other.focus
            && *log_scroll == other.log_scroll
            && *table_scroll == other.table_scroll
            && *caught_up == other.caught_up
            && *plans == other.plans
            && *config == other.config
            && *review_scroll == other.review_scroll
            && self.clocks() == other.clocks()
    }

    /// Every duration the screen shows that depends on the clock.
    fn clocks(&self) -> Vec<String> {
        let mut out = vec![self.elapsed()];
        for r in &self.rows {
            if let ResourceStatus::Working { since_ms, .. } = &r.status {
                out.push(crate::timefmt::duration(
                    self.now_ms.max(*since_ms) - since_ms,
                ));
            }
        }
        out
    }

    /// The last event applied; read the store from here on.
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    pub fn state(&self) -> RunState {
        self.state
    }

    pub fn rows(&self) -> &[ResourceRow] {
        &self.rows
    }

    pub fn log(&self) -> impl Iterator<Item = &str> {
        self.log.iter().map(String::as_str)
    }

    pub fn diagnostics(&self) -> impl Iterator<Item = &DiagnosticView> {
        self.diagnostics.iter()
    }

    /// Whether the screen asks the operator to confirm a cancel (a dialog is open).
    pub fn is_confirming(&self) -> bool {
        self.confirm_cancel
    }

    /// Take the run row's state, timing, error and next step.
    pub fn set_run(&mut self, run: &RunRecord) {
        self.platform = run.platform.clone();
        self.action = Some(run.action);
        self.state = run.state;
        self.started_ms = Some(run.created_ms);
        self.finished_ms = run.finished_ms;
        self.error = run.error.clone();
        self.next_step = run.next_step.clone();
        if run.state.is_terminal() {
            self.confirm_cancel = false;
        }
        if self.config.is_none() {
            self.config = PlatformConfig::parse(&run.config_toml).ok().map(Box::new);
        }
    }

    /// The plan to review: a plan run that finished with every cluster's plan on screen.
    pub fn plan_review(&self) -> Option<PlanSummary> {
        if self.action != Some(RunAction::Plan)
            || self.state != RunState::Succeeded
            || !self.settled()
            || self.plans.is_empty()
        {
            return None;
        }
        let mut summary = PlanSummary {
            destroy: false,
            clusters: self.plans.clone(),
            warnings: Vec::new(),
        };
        if let Some(config) = &self.config {
            summary.add_warnings(config);
        }
        Some(summary)
    }

    /// The clock for elapsed times; the driver ticks it (once a second while the run is live).
    pub fn set_now(&mut self, now_ms: i64) {
        self.now_ms = now_ms;
    }

    fn push_log(&mut self, line: String) {
        if self.log.len() == LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }

    fn row_mut(&mut self, addr: &str, status: ResourceStatus) -> &mut ResourceRow {
        let key = (self.cluster.clone(), addr.to_owned());
        let i = match self.index.get(&key) {
            Some(i) => *i,
            None => {
                self.rows.push(ResourceRow {
                    cluster: self.cluster.clone(),
                    addr: addr.to_owned(),
                    status: status.clone(),
                });
                self.index.insert(key, self.rows.len() - 1);
                self.rows.len() - 1
            }
        };
        let row = &mut self.rows[i];
        row.status = status;
        row
    }

    /// Fold one stored event into the screen. Events at or below the last applied sequence
    /// number are ignored, so re-reading a page is harmless.
    pub fn apply_event(&mut self, e: &EventRecord) {
        if e.seq <= self.last_seq {
            return;
        }
        self.last_seq = e.seq;
        if self.started_ms.is_none() {
            self.started_ms = Some(e.at_ms);
        }
        match e.kind.as_str() {
            "state" => {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.raw)
                    && let Some(s) = v.get("state").and_then(|s| s.as_str())
                    && let Ok(st) = s.parse::<RunState>()
                {
                    if !st.is_terminal() && st != RunState::Pending {
                        self.furthest = Some(st);
                    }
                    // Replaying the log after `set_run` must not bring an ended run back to life.
                    if !self.state.is_terminal() {
                        self.state = st;
                    }
                    if st.is_terminal() {
                        self.finished_ms = Some(e.at_ms);
                        if let Some(err) = v.get("error").and_then(|x| x.as_str()) {
                            self.error = Some(err.to_owned());
                        }
                    }
                }
            }
            "note" => {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.raw)
                    && let Some(c) = v.get("cluster").and_then(|c| c.as_str())
                {
                    self.cluster = c.to_owned();
                }
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.raw)
                    && let Some(n) = v.get("next").and_then(|c| c.as_str())
                {
                    self.next_step = Some(n.to_owned());
                }
            }
            PLAN_SUMMARY_KIND => {
                if let Ok(plan) = serde_json::from_str::<ClusterPlan>(&e.raw) {
                    self.plans.push(plan);
                }
            }
            _ => self.apply_tofu(e),
        }
        let marker = match e.level.as_str() {
            "error" => "ERROR ",
            "warn" => "warn  ",
            _ => "",
        };
        // Progress ticks would flood the pane; the table shows the running time instead.
        if e.kind != "apply_progress" {
            self.push_log(format!("{:<10} {marker}{}", e.phase, e.message));
        }
    }

    fn apply_tofu(&mut self, e: &EventRecord) {
        match parse_line(&e.raw) {
            TofuEvent::PlannedChange { change, .. }
                if change.action != "noop" && change.action != "read" =>
            {
                self.row_mut(
                    &change.resource.addr,
                    ResourceStatus::Planned(change.action),
                );
            }
            TofuEvent::ApplyStart { hook, .. } => {
                self.row_mut(
                    &hook.resource.addr,
                    ResourceStatus::Working {
                        action: hook.action,
                        since_ms: e.at_ms,
                    },
                );
            }
            TofuEvent::ApplyComplete { hook, .. } => {
                self.row_mut(
                    &hook.resource.addr,
                    ResourceStatus::Done {
                        action: hook.action,
                        secs: hook.elapsed_seconds.unwrap_or(0.0),
                    },
                );
            }
            TofuEvent::ApplyErrored { hook, .. } => {
                self.row_mut(
                    &hook.resource.addr,
                    ResourceStatus::Failed {
                        secs: hook.elapsed_seconds,
                    },
                );
            }
            TofuEvent::ChangeSummary { env, .. } => {
                self.summary = Some(env.message);
            }
            TofuEvent::Diagnostic { diagnostic, .. } => {
                if self.diagnostics.len() == DIAGNOSTIC_CAPACITY {
                    self.diagnostics.pop_front();
                }
                self.diagnostics.push_back(DiagnosticView {
                    error: diagnostic.is_error(),
                    summary: diagnostic.summary,
                    detail: diagnostic.detail,
                    address: diagnostic.address,
                });
            }
            _ => {}
        }
    }

    /// The key table for what the screen shows now.
    fn keys(&self) -> &'static [&'static [Binding<Action>]] {
        if self.confirm_cancel {
            keys::PROGRESS_CONFIRM
        } else if self.plan_review().is_some() {
            keys::PLAN_REVIEW
        } else if self.state.is_terminal() {
            keys::PROGRESS_ENDED
        } else {
            keys::PROGRESS_LIVE
        }
    }

    /// Whether an action of the table is on offer: a cancel already asked for is not offered
    /// again.
    fn offered(&self, a: Action) -> bool {
        match a {
            Action::CancelRun => !self.cancel_requested,
            Action::Retry => self.ended_badly(),
            _ => true,
        }
    }

    /// The run ended without succeeding.
    fn ended_badly(&self) -> bool {
        self.state.is_terminal() && self.state != RunState::Succeeded
    }

    /// Whether the run may have left resources at the provider: an apply or destroy that got
    /// as far as applying, or any resource it started on.
    fn may_have_created(&self) -> bool {
        let applying = matches!(self.action, Some(RunAction::Apply | RunAction::Destroy))
            && matches!(self.furthest, Some(RunState::Apply | RunState::Handover));
        applying
            || self
                .rows
                .iter()
                .any(|r| !matches!(r.status, ResourceStatus::Planned(_)))
    }

    /// Keys: `c` asks to cancel (then `y`/`n`), `Tab` switches table/log, arrows and PgUp/PgDn
    /// scroll, `End` follows the log again, `Esc`/`q` leave (the run continues).
    pub fn handle_key(&mut self, key: &KeyEvent) -> ProgressAction {
        let Some(action) = lookup_in(self.keys(), key).filter(|a| self.offered(*a)) else {
            return ProgressAction::None;
        };
        let reviewing = self.plan_review().is_some();
        let scroll = match self.focus {
            _ if reviewing => &mut self.review_scroll,
            Focus::Log => &mut self.log_scroll,
            Focus::Resources => &mut self.table_scroll,
        };
        // The log counts back from its newest line; the review reads top down, so there Down
        // moves the offset on.
        let action = match action {
            Action::Up if reviewing => Action::Down,
            Action::Down if reviewing => Action::Up,
            Action::PageUp if reviewing => Action::PageDown,
            Action::PageDown if reviewing => Action::PageUp,
            a => a,
        };
        match action {
            Action::ApproveApply => return ProgressAction::ApprovePlan,
            Action::RejectPlan => return ProgressAction::RejectPlan,
            Action::Retry => return ProgressAction::Retry,
            Action::ConfirmCancel => {
                self.confirm_cancel = false;
                self.cancel_requested = true;
                return ProgressAction::CancelRun;
            }
            Action::KeepRunning => self.confirm_cancel = false,
            Action::CancelRun => self.confirm_cancel = true,
            Action::Leave => return ProgressAction::Leave,
            Action::SwitchPane => {
                self.focus = match self.focus {
                    Focus::Log => Focus::Resources,
                    Focus::Resources => Focus::Log,
                };
            }
            Action::Up => *scroll = scroll.saturating_add(1),
            Action::Down => *scroll = scroll.saturating_sub(1),
            Action::PageUp => *scroll = scroll.saturating_add(10),
            Action::PageDown => *scroll = scroll.saturating_sub(10),
            Action::Follow => *scroll = 0,
            _ => {}
        }
        ProgressAction::None
    }

    pub fn key_hints(&self) -> Vec<KeyHint> {
        hints_in(self.keys(), |a| self.offered(a))
    }

    fn elapsed(&self) -> String {
        let Some(start) = self.started_ms else {
            return String::new();
        };
        let end = self.finished_ms.unwrap_or(self.now_ms.max(start));
        crate::timefmt::duration(end - start)
    }

    /// Draw into `area`. Pure: reads the state only. The key line is the caller's (the
    /// wizard's footer names these keys and its own), so it is drawn once.
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let has_diag = !self.diagnostics.is_empty();
        let outcome = self.outcome_lines(theme);
        let width = area.width.max(1) as usize;
        let outcome_h: usize = outcome
            .iter()
            .map(|l| l.width().div_ceil(width).max(1))
            .sum();
        let outcome_h = outcome_h.min(area.height.saturating_sub(8) as usize) as u16;
        let [head, phases, body, tail] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(6),
            Constraint::Length(outcome_h),
        ])
        .areas(area);
        self.render_head(frame, head, theme);
        self.render_phases(frame, phases, theme);
        if let Some(review) = self.plan_review() {
            let rest = Rect {
                y: area.y + 2.min(area.height),
                height: area.height.saturating_sub(2),
                ..area
            };
            self.render_review(frame, rest, &review, theme);
            return;
        }
        let diag_h = if has_diag { body.height / 3 } else { 0 };
        let [table, diag, log] = Layout::vertical([
            Constraint::Percentage(45),
            Constraint::Length(diag_h.max(if has_diag { 4 } else { 0 })),
            Constraint::Min(3),
        ])
        .areas(body);
        self.render_table(frame, table, theme);
        if has_diag {
            self.render_diagnostics(frame, diag, theme);
        }
        self.render_log(frame, log, theme);
        frame.render_widget(Paragraph::new(outcome).wrap(Wrap { trim: false }), tail);
        if self.confirm_cancel {
            self.render_confirm(frame, area, theme);
        }
    }

    /// The plan as the operator approves it: per cluster the counts, the resources by type and
    /// the monthly cost, then the warnings, then what approving does.
    fn render_review(&self, frame: &mut Frame, area: Rect, review: &PlanSummary, theme: &Theme) {
        let mut lines: Vec<Line> = review
            .render()
            .lines()
            .map(|l| {
                let style = if l.starts_with("Plan for") || l.starts_with("Total") {
                    theme.title
                } else if l.starts_with("WARNING") {
                    theme.warn
                } else {
                    theme.text
                };
                Line::from(Span::styled(l.to_owned(), style))
            })
            .collect();
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!(
                "Nothing has been created yet. a applies exactly this plan (run {}) after one \
                 more question; x discards it. Esc keeps it: apply it later with \
                 `openova bootstrap apply --plan {}`.",
                self.run_id, self.run_id
            ),
            theme.muted,
        )));
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border_focus)
            .title(Span::styled(" Plan review ", theme.title));
        let inner_w = area.width.saturating_sub(2).max(1) as usize;
        // Rows after wrapping, so scrolling stops at the last line.
        let rows: usize = lines
            .iter()
            .map(|l| l.width().div_ceil(inner_w).max(1))
            .sum();
        let visible = area.height.saturating_sub(2) as usize;
        let scroll = self.review_scroll.min(rows.saturating_sub(visible));
        let mut title_hint = String::new();
        if rows > visible {
            title_hint = format!(
                " ↓ more ({} of {} lines) ",
                scroll + visible.min(rows),
                rows
            );
        }
        frame.render_widget(
            Paragraph::new(lines)
                .block(block.title_bottom(Span::styled(title_hint, theme.muted)))
                .wrap(Wrap { trim: false })
                .scroll((scroll as u16, 0)),
            area,
        );
    }

    fn render_head(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let action = self.action.map(|a| a.as_str()).unwrap_or("run");
        let title = if self.platform.is_empty() {
            "Provisioning".to_owned()
        } else {
            format!("Provisioning {}", self.platform)
        };
        let mut spans = vec![
            Span::styled(title, theme.title),
            Span::styled(format!("  {action} {}", self.run_id), theme.muted),
        ];
        if !self.cluster.is_empty() && !self.state.is_terminal() {
            spans.push(Span::styled(
                format!("  cluster {}", self.cluster),
                theme.text,
            ));
        }
        spans.push(Span::styled(format!("  {}", self.elapsed()), theme.text));
        let spans = fit_spans(spans, area.width as usize);
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    fn render_phases(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let steps: &[RunState] = match self.action {
            Some(RunAction::Plan) => &[RunState::Init, RunState::Plan],
            Some(RunAction::Destroy) => &[RunState::Init, RunState::Plan, RunState::Apply],
            _ => &[
                RunState::Init,
                RunState::Plan,
                RunState::Apply,
                RunState::Handover,
            ],
        };
        let pos = |s: RunState| steps.iter().position(|x| *x == s);
        let live = !self.state.is_terminal();
        // Where the run is, or for an ended run, the furthest phase it reached.
        let at = if live {
            pos(self.state)
        } else {
            self.furthest.and_then(pos)
        };
        let mut spans = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let (mark, style) = if self.state == RunState::Succeeded || at.is_some_and(|a| i < a) {
                ("✓", theme.ok)
            } else if Some(i) == at && live {
                ("●", theme.accent)
            } else if Some(i) == at {
                ("✗", theme.error)
            } else {
                ("○", theme.muted)
            };
            spans.push(Span::styled(format!("{mark} {step}"), style));
            spans.push(Span::styled(" ─ ", theme.muted));
        }
        let (end, style) = match self.state {
            RunState::Succeeded => ("✓ succeeded", theme.ok),
            RunState::Failed => ("✗ failed", theme.error),
            RunState::Cancelled => ("✗ cancelled", theme.warn),
            RunState::Interrupted => ("✗ interrupted", theme.error),
            _ if self.cancel_requested => ("… cancelling", theme.warn),
            _ => ("○ done", theme.muted),
        };
        spans.push(Span::styled(end, style));
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    fn render_table(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(if self.focus == Focus::Resources {
                theme.border_focus
            } else {
                theme.border
            })
            .title(Span::styled(
                match &self.summary {
                    Some(s) => format!(" Resources · {s} "),
                    None => " Resources ".to_owned(),
                },
                theme.title,
            ));
        let inner_h = area.height.saturating_sub(3) as usize;
        let multi = self.rows.iter().any(|r| r.cluster != self.rows[0].cluster);
        let skip = self
            .table_scroll
            .min(self.rows.len().saturating_sub(inner_h));
        // Show the rows near the work: the newest that fit, scrolled back by the operator.
        let start = self.rows.len().saturating_sub(inner_h + skip);
        let rows: Vec<Row> = self.rows[start..]
            .iter()
            .take(inner_h)
            .map(|r| {
                let (status, style, time) = match &r.status {
                    ResourceStatus::Planned(a) => {
                        (format!("planned {a}"), theme.muted, String::new())
                    }
                    ResourceStatus::Working { action, since_ms } => (
                        format!("{}…", working_word(action)),
                        theme.accent,
                        crate::timefmt::duration(self.now_ms.max(*since_ms) - since_ms),
                    ),
                    ResourceStatus::Done { action, secs } => (
                        done_word(action).to_owned(),
                        theme.ok,
                        crate::timefmt::duration((*secs * 1000.0) as i64),
                    ),
                    ResourceStatus::Failed { secs } => (
                        "failed".to_owned(),
                        theme.error,
                        secs.map(|s| crate::timefmt::duration((s * 1000.0) as i64))
                            .unwrap_or_default(),
                    ),
                };
                let name = if multi {
                    format!("{}: {}", r.cluster, r.addr)
                } else {
                    r.addr.clone()
                };
                Row::new(vec![
                    Cell::from(Span::styled(name, theme.text)),
                    Cell::from(Span::styled(status, style)),
                    Cell::from(Span::styled(time, theme.muted)),
                ])
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Min(20),
                Constraint::Length(14),
                Constraint::Length(7),
            ],
        )
        .header(Row::new(vec!["RESOURCE", "STATUS", "TIME"]).style(theme.muted))
        .block(block);
        frame.render_widget(table, area);
    }

    fn render_diagnostics(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let mut lines = Vec::new();
        for d in self.diagnostics.iter().rev() {
            let style = if d.error { theme.error } else { theme.warn };
            let mut head = format!(
                "{}: {}",
                if d.error { "Error" } else { "Warning" },
                d.summary
            );
            if let Some(a) = &d.address {
                head.push_str(&format!(" ({a})"));
            }
            lines.push(Line::from(Span::styled(head, style)));
            for l in d.detail.lines().filter(|l| !l.trim().is_empty()) {
                lines.push(Line::from(Span::styled(format!("  {l}"), theme.text)));
            }
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.error)
            .title(Span::styled(" Diagnostics ", theme.title));
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
    }

    fn render_log(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let inner_h = area.height.saturating_sub(2) as usize;
        let total = self.log.len();
        let skip = self.log_scroll.min(total.saturating_sub(inner_h));
        let end = total - skip;
        let start = end.saturating_sub(inner_h);
        let lines: Vec<Line> = self
            .log
            .range(start..end)
            .map(|l| {
                let style = if l.contains("ERROR ") {
                    theme.error
                } else if l.contains("warn  ") {
                    theme.warn
                } else {
                    theme.text
                };
                Line::from(Span::styled(l.clone(), style))
            })
            .collect();
        let title = if skip > 0 {
            format!(" Log (scrolled {skip} up; End follows) ")
        } else {
            " Log ".to_owned()
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(if self.focus == Focus::Log {
                theme.border_focus
            } else {
                theme.border
            })
            .title(Span::styled(title, theme.title));
        frame.render_widget(Paragraph::new(lines).block(block), area);
    }

    /// Under the log: how the run ended, why, and what to do now (for a run that did not
    /// succeed: plan again, read the log, and destroy what may have been created).
    fn outcome_lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        if self.ended_badly() {
            let reason = self
                .error
                .clone()
                .unwrap_or_else(|| "no reason was recorded".into());
            lines.push(Line::from(Span::styled(
                format!("Run {} {}: {reason}", self.run_id, self.state),
                theme.error,
            )));
            lines.push(Line::from(vec![
                Span::styled("Next: ", theme.title),
                Span::styled("r", theme.key),
                Span::styled(" plans again from Review", theme.text),
                Span::styled(
                    format!(" · log: openova runs logs {}", self.run_id),
                    theme.accent,
                ),
            ]));
            if self.may_have_created() {
                lines.push(Line::from(Span::styled(
                    "Servers may have been created and billed. Remove them with",
                    theme.warn,
                )));
                lines.push(Line::from(vec![
                    Span::styled("  openova bootstrap destroy --config FILE", theme.accent),
                    Span::styled("  (export FILE: e on Review)", theme.muted),
                ]));
            }
            return lines;
        }
        if let Some(e) = &self.error {
            lines.push(Line::from(Span::styled(e.clone(), theme.error)));
        }
        if let Some(n) = &self.next_step {
            lines.push(Line::from(vec![
                Span::styled("Next: ", theme.title),
                Span::styled(n.clone(), theme.accent),
            ]));
        }
        lines
    }

    fn render_confirm(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let w = area.width.min(64);
        let h = 7.min(area.height);
        let rect = Rect {
            x: area.x + (area.width - w) / 2,
            y: area.y + (area.height - h) / 2,
            width: w,
            height: h,
        };
        frame.render_widget(Clear, rect);
        let text = vec![
            Line::from(Span::styled(
                format!("Cancel run {}?", self.run_id),
                theme.title,
            )),
            Line::from(Span::styled(
                "OpenTofu is interrupted gracefully: it finishes the calls in flight and releases the state lock.",
                theme.text,
            )),
            Line::from(vec![
                Span::styled("y", theme.key),
                Span::styled(" cancel   ", theme.muted),
                Span::styled("n", theme.key),
                Span::styled(" keep running", theme.muted),
            ]),
        ];
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: true }).block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border_focus),
            ),
            rect,
        );
    }
}

/// The spans that fit in `width` columns; when they do not all fit the line ends with `…`
/// (never cut without a mark, as `clu` was).
fn fit_spans(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    use unicode_width::UnicodeWidthChar;
    let total: usize = spans.iter().map(Span::width).sum();
    if total <= width {
        return spans;
    }
    // One column is kept for the ellipsis.
    let room = width.saturating_sub(1);
    let mut out = Vec::new();
    let mut used = 0;
    for s in spans {
        let mut text = String::new();
        for c in s.content.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > room {
                break;
            }
            used += w;
            text.push(c);
        }
        let full = text.chars().count() == s.content.chars().count();
        out.push(Span::styled(text, s.style));
        if !full {
            break;
        }
    }
    if width > 0 {
        let style = out.last().map(|s| s.style).unwrap_or_default();
        out.push(Span::styled("…", style));
    }
    out
}

fn working_word(action: &str) -> &'static str {
    match action {
        "delete" => "destroying",
        "update" => "modifying",
        "replace" => "replacing",
        _ => "creating",
    }
}

fn done_word(action: &str) -> &'static str {
    match action {
        "delete" => "destroyed",
        "update" => "modified",
        "replace" => "replaced",
        _ => "created",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEventKind, KeyEventState, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    struct Feed {
        seq: i64,
        events: Vec<EventRecord>,
    }

    impl Feed {
        fn new() -> Self {
            Feed {
                seq: 0,
                events: Vec::new(),
            }
        }
        fn push(
            &mut self,
            at_ms: i64,
            phase: &str,
            kind: &str,
            level: &str,
            message: &str,
            raw: String,
        ) {
            self.seq += 1;
            self.events.push(EventRecord {
                seq: self.seq,
                at_ms,
                phase: phase.into(),
                kind: kind.into(),
                level: level.into(),
                message: message.into(),
                raw,
            });
        }
        fn state(&mut self, at: i64, s: &str) {
            self.push(
                at,
                "supervisor",
                "state",
                "info",
                &format!("run is now {s}"),
                format!(r#"{{"state":"{s}"}}"#),
            );
        }
        fn hook(&mut self, at: i64, kind: &str, addr: &str, secs: Option<u64>, msg: &str) {
            let secs = secs
                .map(|s| format!(r#","elapsed_seconds":{s}"#))
                .unwrap_or_default();
            let level = if kind == "apply_errored" {
                "error"
            } else {
                "info"
            };
            self.push(at, "apply", kind, level, msg, format!(
                r#"{{"@level":"info","@message":"{msg}","type":"{kind}","hook":{{"resource":{{"addr":"{addr}"}},"action":"create"{secs}}}}}"#
            ));
        }
    }

    fn failed_run() -> ProgressScreen {
        let mut f = Feed::new();
        f.state(0, "init");
        f.state(1_000, "plan");
        for addr in ["hcloud_network.main", "hcloud_server.cp[0]"] {
            f.push(1_100, "plan", "planned_change", "info", &format!("{addr}: Plan to create"), format!(
                r#"{{"type":"planned_change","change":{{"resource":{{"addr":"{addr}"}},"action":"create"}}}}"#
            ));
        }
        f.state(2_000, "apply");
        f.hook(
            2_100,
            "apply_start",
            "hcloud_network.main",
            None,
            "hcloud_network.main: Creating...",
        );
        f.hook(
            3_100,
            "apply_complete",
            "hcloud_network.main",
            Some(1),
            "hcloud_network.main: Creation complete after 1s",
        );
        f.hook(
            3_200,
            "apply_start",
            "hcloud_server.cp[0]",
            None,
            "hcloud_server.cp[0]: Creating...",
        );
        f.hook(
            44_000,
            "apply_errored",
            "hcloud_server.cp[0]",
            Some(41),
            "hcloud_server.cp[0]: Creation errored after 41s",
        );
        f.push(44_001, "apply", "diagnostic", "error", "Error: server type cx99 not found", r#"{"type":"diagnostic","diagnostic":{"severity":"error","summary":"server type cx99 not found","detail":"The server type cx99 does not exist in location fsn1.","address":"hcloud_server.cp[0]"}}"#.into());
        f.push(
            44_100,
            "supervisor",
            "state",
            "error",
            "run is now failed",
            r#"{"state":"failed","error":"tofu apply: server type cx99 not found"}"#.into(),
        );
        let mut s = ProgressScreen::new("abc123");
        for e in &f.events {
            s.apply_event(e);
        }
        s
    }

    fn draw(s: &ProgressScreen, w: u16, h: u16) -> String {
        let theme = Theme::builtin("mono").expect("mono theme");
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        term.draw(|f| s.render(f, f.area(), &theme)).expect("draw");
        let buf = term.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..h {
            for x in 0..w {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn apply_event_resource_moves_planned_creating_created_failed() {
        let s = failed_run();
        assert_eq!(s.state(), RunState::Failed);
        assert_eq!(
            s.rows()[0].status,
            ResourceStatus::Done {
                action: "create".into(),
                secs: 1.0
            }
        );
        assert_eq!(
            s.rows()[1].status,
            ResourceStatus::Failed { secs: Some(41.0) }
        );
        let d: Vec<_> = s.diagnostics().collect();
        assert_eq!(d[0].summary, "server type cx99 not found");
    }

    #[test]
    fn apply_event_replayed_sequence_is_ignored() {
        let mut s = failed_run();
        let n = s.log().count();
        s.apply_event(&EventRecord {
            seq: 1,
            at_ms: 0,
            phase: "x".into(),
            kind: "log".into(),
            level: "info".into(),
            message: "again".into(),
            raw: "{}".into(),
        });
        assert_eq!(s.log().count(), n);
    }

    #[test]
    fn apply_event_log_is_bounded() {
        let mut s = ProgressScreen::new("r");
        for i in 1..=(LOG_CAPACITY as i64 + 50) {
            s.apply_event(&EventRecord {
                seq: i,
                at_ms: i,
                phase: "apply".into(),
                kind: "log".into(),
                level: "info".into(),
                message: format!("line {i}"),
                raw: "{}".into(),
            });
        }
        assert_eq!(s.log().count(), LOG_CAPACITY);
        assert!(s.log().next().is_some_and(|l| l.ends_with("line 51")));
    }

    #[test]
    fn handle_key_cancel_asks_then_confirms() {
        let mut s = ProgressScreen::new("r");
        s.state = RunState::Apply;
        assert_eq!(s.handle_key(&key(KeyCode::Char('c'))), ProgressAction::None);
        assert!(s.is_confirming());
        assert_eq!(s.handle_key(&key(KeyCode::Char('n'))), ProgressAction::None);
        assert!(!s.is_confirming());
        s.handle_key(&key(KeyCode::Char('c')));
        assert_eq!(
            s.handle_key(&key(KeyCode::Char('y'))),
            ProgressAction::CancelRun
        );
        // Asked once: `c` does nothing more while the supervisor stops OpenTofu.
        s.handle_key(&key(KeyCode::Char('c')));
        assert!(!s.is_confirming());
    }

    #[test]
    fn handle_key_quit_leaves_without_cancelling() {
        let mut s = ProgressScreen::new("r");
        s.state = RunState::Apply;
        assert_eq!(
            s.handle_key(&key(KeyCode::Char('q'))),
            ProgressAction::Leave
        );
    }

    #[test]
    fn handle_key_cancel_on_ended_run_does_nothing() {
        let mut s = failed_run();
        s.handle_key(&key(KeyCode::Char('c')));
        assert!(!s.is_confirming());
    }

    #[test]
    fn render_failed_run_shows_failed_row_and_diagnostic_detail() {
        let mut s = failed_run();
        s.set_now(44_100);
        let screen = draw(&s, 80, 24);
        if std::env::var_os("SHOW_SCREEN").is_some() {
            eprintln!("{screen}");
        }
        assert!(screen.contains("hcloud_server.cp[0]"), "{screen}");
        assert!(screen.contains("failed"), "{screen}");
        assert!(
            screen.contains("Error: server type cx99 not found"),
            "{screen}"
        );
        assert!(
            screen.contains("does not exist in location fsn1"),
            "{screen}"
        );
        assert!(screen.contains("✗ failed"), "{screen}");
        assert!(
            screen.contains("✓ init ─ ✓ plan ─ ✗ apply ─ ○ handover"),
            "the phase that failed is marked:\n{screen}"
        );
        assert!(screen.contains("44s"), "elapsed time shown:\n{screen}");
        assert!(
            screen.contains("Run abc123 failed: tofu apply: server type cx99 not found"),
            "final state and reason:\n{screen}"
        );
        assert!(screen.contains("r plans again from Review"), "{screen}");
        assert!(screen.contains("openova runs logs abc123"), "{screen}");
        assert!(
            screen.contains("bootstrap destroy --config FILE"),
            "a resource was created, so destroy is offered:\n{screen}"
        );
    }

    #[test]
    fn render_head_cuts_with_an_ellipsis() {
        let mut f = Feed::new();
        f.state(0, "apply");
        f.push(
            10,
            "apply",
            "note",
            "info",
            "cluster",
            r#"{"cluster":"hz-fsn-rtz-prod"}"#.into(),
        );
        let mut s = ProgressScreen::new("20261208-012345-abcdef");
        for e in &f.events {
            s.apply_event(e);
        }
        s.platform = "the-extraordinarily-long-organisation".into();
        s.action = Some(RunAction::Apply);
        let screen = draw(&s, 80, 24);
        let head = screen.lines().next().unwrap();
        assert!(head.trim_end().ends_with('…'), "{head:?}");
    }

    #[test]
    fn render_failed_plan_offers_no_destroy() {
        let mut f = Feed::new();
        f.state(0, "init");
        f.push(
            1_000,
            "supervisor",
            "state",
            "error",
            "run is now failed",
            r#"{"state":"failed","error":"tofu init: provider not found"}"#.into(),
        );
        let mut s = ProgressScreen::new("p1");
        for e in &f.events {
            s.apply_event(e);
        }
        let screen = draw(&s, 80, 24);
        assert!(
            screen.contains("Run p1 failed: tofu init: provider not found"),
            "{screen}"
        );
        assert!(
            !screen.contains("destroy"),
            "nothing was created:\n{screen}"
        );
        assert_eq!(
            s.handle_key(&key(KeyCode::Char('r'))),
            ProgressAction::Retry
        );
    }

    #[test]
    fn render_working_resource_shows_running_time_and_cancel_hint() {
        let mut f = Feed::new();
        f.state(0, "apply");
        f.hook(
            1_000,
            "apply_start",
            "hcloud_load_balancer.api",
            None,
            "Creating...",
        );
        let mut s = ProgressScreen::new("r");
        for e in &f.events {
            s.apply_event(e);
        }
        s.set_now(13_000);
        let screen = draw(&s, 80, 24);
        assert!(screen.contains("creating…"), "{screen}");
        assert!(screen.contains("12s"), "{screen}");
        assert!(
            s.key_hints()
                .iter()
                .any(|h| h.key == "c" && h.action == "cancel run"),
            "the caller's footer offers the cancel"
        );
        assert!(screen.contains("● apply"), "{screen}");
    }

    #[test]
    fn render_confirm_dialog_explains_graceful_cancel() {
        let mut s = ProgressScreen::new("r");
        s.state = RunState::Apply;
        s.handle_key(&key(KeyCode::Char('c')));
        let screen = draw(&s, 80, 24);
        assert!(screen.contains("Cancel run r?"), "{screen}");
        assert!(screen.contains("releases the state lock"), "{screen}");
    }
}
