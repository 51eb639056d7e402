//! The console's state: what the watchers have reported about each attached cluster, the catalog,
//! and what the operator is looking at. Owned by one task; changed only by `update`.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use crate::domain::alerts::AlertRef;
use crate::domain::health::{Health, rollup};
use crate::tui::dialog::ConfirmDialog;
use crate::tui::widgets::field::TextField;
use time::OffsetDateTime;

/// Kubernetes Events and condition changes kept per cluster; older ones are dropped so memory
/// stays flat on a chatty cluster.
pub const MAX_EVENTS: usize = 1_000;
/// Points in the health sparkline.
pub const HEALTH_HISTORY: usize = 60;

/// The six panes, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Dashboard,
    Components,
    Upgrades,
    Alerts,
    Settings,
    /// Every attached cluster side by side (its tab is listed once there is more than one).
    Fleet,
}

impl Pane {
    pub const ALL: [Pane; 6] = [
        Pane::Dashboard,
        Pane::Components,
        Pane::Upgrades,
        Pane::Alerts,
        Pane::Settings,
        Pane::Fleet,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Dashboard => "Dashboard",
            Pane::Components => "Components",
            Pane::Upgrades => "Upgrades",
            Pane::Alerts => "Alerts & events",
            Pane::Settings => "Settings",
            Pane::Fleet => "Fleet",
        }
    }

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// The catalog's three sections, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Mandatory,
    ALaCarte,
    MetaPlatform,
}

impl Group {
    pub fn heading(self) -> &'static str {
        match self {
            Group::Mandatory => "MANDATORY (Core Platform)",
            Group::ALaCarte => "A LA CARTE (Optional)",
            Group::MetaPlatform => "META-PLATFORMS",
        }
    }
}

/// A catalog entry: what can be installed, independent of any cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    pub name: String,
    pub title: String,
    pub group: Group,
    pub summary: String,
    pub version: String,
    /// Components that must be installed first (direct only; the dialog computes the closure).
    pub requires: Vec<String>,
    /// Components that add to this one but are not needed, with a short reason.
    pub optional: Vec<(String, String)>,
    /// Release notes, newest first: (version, notes).
    pub changelog: Vec<(String, String)>,
    /// Versions the catalog flags as major whatever semver says (an upgrade to or past one
    /// needs the second confirmation naming the jump).
    pub majors: Vec<semver::Version>,
    /// Keeps state an uninstall can lose (databases, object storage, vault, log/metric stores,
    /// registries): marked in every removal dialog.
    pub holds_data: bool,
}

/// A service URL a component publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub name: String,
    pub url: String,
}

/// One status condition, as shown in details and in the alerts pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionView {
    pub kind: String,
    pub status: String,
    pub reason: String,
    pub message: String,
    pub at: Option<OffsetDateTime>,
}

/// An automatic rollback the manager performed after a failed upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackView {
    pub from: String,
    pub to: String,
    pub reason: String,
    pub at: Option<OffsetDateTime>,
    /// `false`: the upgrade failed and could not be rolled back (no earlier good version).
    pub rolled_back: bool,
}

/// A `Component` resource as the watcher last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentView {
    pub name: String,
    /// Desired version (`spec.version`).
    pub version: String,
    /// Version the manager reports as running, when it has reported.
    pub installed_version: Option<String>,
    pub category: String,
    pub dependencies: Vec<String>,
    pub phase: String,
    pub health: Health,
    pub endpoints: Vec<Endpoint>,
    pub conditions: Vec<ConditionView>,
    /// `spec.values`, rendered as YAML for the details dialog.
    pub values: String,
    pub available_upgrades: Vec<String>,
    pub last_good_version: Option<String>,
    pub rollback: Option<RollbackView>,
    /// `spec.schedule` of a pending upgrade, as written.
    pub scheduled: Option<String>,
    /// `spec.delivery`: how the manager delivers it (the Platform's choice when unset).
    pub delivery: Option<crate::crd::DeliveryBackend>,
    /// `spec.suspend`: the release is not reconciled until resumed.
    pub suspended: bool,
}

impl ComponentView {
    pub fn shown_version(&self) -> &str {
        self.installed_version.as_deref().unwrap_or(&self.version)
    }

    /// The version a rollout is moving to while it runs: the manager reports the upgrade in
    /// progress, or the spec asks for a version the manager has not yet acted on (and has not
    /// refused).
    pub fn upgrading(&self) -> Option<&str> {
        let refused = self.conditions.iter().any(|c| {
            c.kind == crate::crd::consts::condition::UPGRADE_REFUSED && c.status == "True"
        });
        if self.rollback.is_some() || self.scheduled.is_some() || refused {
            return None;
        }
        let asked = self
            .installed_version
            .as_deref()
            .is_some_and(|v| v != self.version);
        (self.phase == "Upgrading" || asked).then_some(self.version.as_str())
    }

    /// The newest upgrade the manager offers, if any.
    pub fn upgrade(&self) -> Option<&str> {
        self.available_upgrades.last().map(String::as_str)
    }

    /// What a retry would run again (a failed install, or the failed or rolled-back upgrade to
    /// the wanted version), or why there is nothing to retry: the rule the manager applies.
    pub fn retryable(&self) -> Result<String, String> {
        if let Some(rb) = &self.rollback
            && rb.from == self.version
        {
            return Ok(format!("the upgrade from {} to {}", rb.to, rb.from));
        }
        if self.phase == "Failed" && self.last_good_version.is_none() {
            return Ok(format!("the install of {}", self.version));
        }
        let state = if self.phase.is_empty() {
            "not reported yet".to_string()
        } else {
            self.phase.clone()
        };
        Err(format!(
            "retry of {}: it is {state}, not failed; nothing to retry, nothing written",
            self.name
        ))
    }

    /// The pending version change a cancel drops: (installed, wanted), when they differ.
    pub fn pending_change(&self) -> Option<(&str, &str)> {
        let installed = self.installed_version.as_deref()?;
        (installed != self.version).then_some((installed, self.version.as_str()))
    }

    /// What the manager refused on this component and why: a refused upgrade
    /// (`UpgradeRefused`) or a blocked deletion (`UninstallBlocked`), as (label, condition).
    pub fn refusals(&self) -> Vec<(&'static str, &ConditionView)> {
        self.conditions
            .iter()
            .filter(|k| k.status == "True")
            .filter_map(|k| match k.kind.as_str() {
                UPGRADE_REFUSED => Some(("upgrade refused", k)),
                UNINSTALL_BLOCKED => Some(("deletion blocked", k)),
                _ => None,
            })
            .collect()
    }

    /// The alerts this component raises: its health (or failed upgrade), then each refusal.
    pub fn alerts(&self) -> Vec<ActiveAlert> {
        let mut out = Vec::new();
        let unhealthy = matches!(self.health, Health::Degraded | Health::Failed);
        if unhealthy || self.rollback.is_some() {
            let alarm = self
                .conditions
                .iter()
                .find(|k| is_alarm(&k.kind, &k.status));
            let (reason, text) = match (&self.rollback, alarm) {
                (Some(rb), _) => (
                    if rb.rolled_back {
                        "UpgradeRolledBack"
                    } else {
                        "UpgradeFailed"
                    }
                    .to_string(),
                    format!("{} → {}: {}", rb.from, rb.to, rb.reason),
                ),
                (None, Some(k)) => (k.reason.clone(), format!("{}: {}", k.reason, k.message)),
                (None, None) => (self.health.as_str().to_string(), self.phase.clone()),
            };
            out.push(ActiveAlert {
                object: format!("Component/{}", self.name),
                component: Some(self.name.clone()),
                reason,
                label: if unhealthy {
                    self.health.as_str().to_string()
                } else {
                    "rolled back".into()
                },
                text,
                critical: unhealthy,
            });
        }
        for (label, k) in self.refusals() {
            out.push(ActiveAlert {
                object: format!("Component/{}", self.name),
                component: Some(self.name.clone()),
                reason: k.kind.clone(),
                label: label.into(),
                text: k.message.clone(),
                critical: false,
            });
        }
        out
    }
}

const UPGRADE_REFUSED: &str = crate::crd::consts::condition::UPGRADE_REFUSED;
const UNINSTALL_BLOCKED: &str = crate::crd::consts::condition::UNINSTALL_BLOCKED;

/// One active alert: what the alerts pane lists and every count counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveAlert {
    /// `Kind/name` of the object it is about.
    pub object: String,
    /// The component it is about (`None`: the Platform).
    pub component: Option<String>,
    /// Machine-readable reason: one alert per component and reason.
    pub reason: String,
    /// Short words for the operator (`Degraded`, `rolled back`, `upgrade refused`…).
    pub label: String,
    pub text: String,
    /// Something is broken (shown as an error); otherwise a warning.
    pub critical: bool,
}

impl ActiveAlert {
    pub fn as_ref(&self) -> AlertRef<'_> {
        AlertRef {
            component: self.component.as_deref(),
            reason: &self.reason,
        }
    }
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

/// The `Platform` resource's summary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlatformView {
    pub name: String,
    pub organization: String,
    pub domain: String,
    pub phase: String,
    pub regions: Vec<(String, String)>,
    pub conditions: Vec<ConditionView>,
    /// The Platform's maintenance window: `None` without one, `Some(Err)` naming what is wrong.
    pub window: Option<Result<crate::domain::window::Window, String>>,
    /// Names the Platform selects (its enabled `spec.components` entries).
    pub selected: Vec<String>,
    /// Meta-platforms `status.metaPlatforms` reports installed (every required member healthy).
    pub meta_installed: Vec<String>,
    /// `spec.delivery`: how Components are delivered unless they say otherwise.
    pub delivery: Option<crate::crd::DeliveryBackend>,
}

/// Severity of an alert/event line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    Normal,
    Warning,
}

/// A Kubernetes Event or a condition change, for the alerts pane and the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventView {
    pub at: OffsetDateTime,
    pub severity: Severity,
    /// `Kind/name` of the object the event is about.
    pub object: String,
    pub reason: String,
    /// The newest occurrence's message.
    pub message: String,
    /// How often it occurred (its series count; 1 for a single occurrence).
    pub count: u32,
    /// The Event object's identity (its uid): a later version of the same Event (a series
    /// counting up) replaces the one shown. Empty when unknown.
    pub id: String,
}

/// What we know about the connection to one cluster. Every state other than `Live` is shown
/// instead of (never alongside an empty) data view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    Unreachable { error: String },
    CrdsMissing,
    Forbidden { verb: String, resource: String },
    KubeconfigInvalid { error: String },
}

/// One attached cluster (one `--context`).
#[derive(Debug, Clone)]
pub struct ClusterView {
    pub context: String,
    pub address: String,
    /// Namespace of its Platform and Components; empty: the console's `--namespace`.
    pub namespace: String,
    pub connection: Connection,
    /// False when the manager's lease is missing or expired; data may be stale. `None`
    /// (unknown) until the Lease is judged and whenever the API server is unreachable.
    pub manager_running: Option<bool>,
    /// What the Lease watcher last reported, shown again when the server answers after an
    /// outage.
    pub manager_lease: Option<bool>,
    pub platform: Option<PlatformView>,
    pub components: BTreeMap<String, ComponentView>,
    pub events: VecDeque<EventView>,
    pub health_history: VecDeque<u64>,
    /// Components we asked to install and have not yet seen healthy.
    pub pending: BTreeSet<String>,
    /// The initial list from the watcher has arrived.
    pub synced: bool,
}

impl ClusterView {
    pub fn new(context: impl Into<String>, address: impl Into<String>) -> Self {
        ClusterView {
            context: context.into(),
            address: address.into(),
            namespace: String::new(),
            connection: Connection::Connecting,
            manager_running: None,
            manager_lease: None,
            platform: None,
            components: BTreeMap::new(),
            events: VecDeque::new(),
            health_history: VecDeque::new(),
            pending: BTreeSet::new(),
            synced: false,
        }
    }

    /// The same cluster watched in `namespace`.
    pub fn in_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The worst health of its components; Unknown unless the connection is live (the last
    /// known state of an unreachable cluster says nothing about now).
    pub fn worst_health(&self) -> Health {
        if self.connection != Connection::Live {
            return Health::Unknown;
        }
        self.components
            .values()
            .map(|c| c.health)
            .max()
            .unwrap_or(Health::Unknown)
    }

    /// The component in the worst state (first by name among equals), unless all are healthy.
    pub fn worst_component(&self) -> Option<&ComponentView> {
        self.components
            .values()
            .filter(|c| severity(c.health) > 0)
            .max_by_key(|c| (severity(c.health), std::cmp::Reverse(&c.name)))
    }

    /// Whether what the watchers reported is current: the server answers and has listed.
    pub fn is_current(&self) -> bool {
        self.connection == Connection::Live && self.synced
    }

    /// Percentage of installed components that are healthy; None when nothing is installed.
    pub fn health_percent(&self) -> Option<u64> {
        if self.components.is_empty() {
            return None;
        }
        Some(
            rollup(self.components.values().map(|c| c.health))
                .percent
                .into(),
        )
    }

    pub fn upgrades_available(&self) -> usize {
        self.components
            .values()
            .filter(|c| c.upgrade().is_some())
            .count()
    }

    /// The active alerts, each (component, reason) once: what the alerts pane lists.
    pub fn active_alerts(&self) -> Vec<ActiveAlert> {
        let mut raised = Vec::new();
        if let Some(p) = &self.platform {
            for k in p.conditions.iter().filter(|k| is_alarm(&k.kind, &k.status)) {
                raised.push(ActiveAlert {
                    object: format!("Platform/{}", p.name),
                    component: None,
                    reason: if k.reason.is_empty() {
                        k.kind.clone()
                    } else {
                        k.reason.clone()
                    },
                    label: k.kind.clone(),
                    text: k.message.clone(),
                    critical: true,
                });
            }
        }
        for c in self.components.values() {
            raised.extend(c.alerts());
        }
        let refs: Vec<AlertRef> = raised.iter().map(ActiveAlert::as_ref).collect();
        let keep: Vec<(Option<String>, String)> = crate::domain::alerts::active(refs)
            .into_iter()
            .map(|a| (a.component.map(str::to_string), a.reason.to_string()))
            .collect();
        keep.into_iter()
            .filter_map(|(component, reason)| {
                raised
                    .iter()
                    .find(|a| a.component == component && a.reason == reason)
                    .cloned()
            })
            .collect()
    }

    /// How many alerts are active: the one count the dashboard, the alerts pane's title and
    /// its body agree on (`domain::alerts::count_active`).
    pub fn alert_count(&self) -> usize {
        let raised = self.active_alerts();
        crate::domain::alerts::count_active(raised.iter().map(ActiveAlert::as_ref))
    }

    /// Merge a listed batch of events (a watch's first list can hold thousands): the newest
    /// [`MAX_EVENTS`] of old and new together, newest first, each once. Returns whether
    /// anything changed.
    pub fn push_events(&mut self, list: Vec<EventView>) -> bool {
        let mut all: Vec<EventView> = self.events.iter().cloned().chain(list).collect();
        // Stable: among events of the same second, the order they came in is kept.
        all.sort_by_key(|e| std::cmp::Reverse(e.at));
        let mut seen = std::collections::HashSet::new();
        let mut ids = std::collections::HashSet::new();
        let merged: VecDeque<EventView> = all
            .into_iter()
            // Newest first: of one Event only its latest version stays.
            .filter(|e| e.id.is_empty() || ids.insert(e.id.clone()))
            .filter(|e| seen.insert(e.clone()))
            .take(MAX_EVENTS)
            .collect();
        let changed = merged != self.events;
        self.events = merged;
        changed
    }

    pub fn push_event(&mut self, ev: EventView) {
        // Newest first; a watcher replays events on reconnect, so skip exact repeats.
        if self.events.iter().any(|e| *e == ev) {
            return;
        }
        if !ev.id.is_empty() {
            // A newer version of an Event already shown (its series counted up) replaces it.
            match self.events.iter().position(|e| e.id == ev.id) {
                Some(i) if self.events[i].at > ev.at => return,
                Some(i) => {
                    self.events.remove(i);
                }
                None => {}
            }
        }
        let pos = self
            .events
            .iter()
            .position(|e| e.at <= ev.at)
            .unwrap_or(self.events.len());
        self.events.insert(pos, ev);
        self.events.truncate(MAX_EVENTS);
    }

    pub fn record_health(&mut self) {
        if let Some(p) = self.health_percent()
            && self.health_history.back() != Some(&p)
        {
            self.health_history.push_back(p);
            while self.health_history.len() > HEALTH_HISTORY {
                self.health_history.pop_front();
            }
        }
    }
}

/// How bad a component's health is for the Fleet: failed worst, healthy 0.
fn severity(h: Health) -> u8 {
    match h {
        Health::Failed => 4,
        Health::Degraded => 3,
        Health::Unknown => 2,
        Health::Installing => 1,
        Health::Healthy => 0,
    }
}

/// Order two version strings newest first: by semver when both are (a leading `v` allowed),
/// else as text.
fn newer_first(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |v: &str| semver::Version::parse(v.trim_start_matches('v')).ok();
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => y.cmp(&x),
        _ => b.cmp(a),
    }
}

/// One row of the Fleet pane: a cluster and its summary.
#[derive(Debug, Clone, Copy)]
pub struct FleetRow<'a> {
    /// Index into `Model::clusters`.
    pub index: usize,
    pub cluster: &'a ClusterView,
    pub health: Option<u64>,
    pub worst: Option<&'a ComponentView>,
    pub upgrades: usize,
    pub alerts: usize,
    /// How many of its components run a version another cluster does not.
    pub drifted: usize,
}

impl FleetRow<'_> {
    /// Unusable connections first, then clusters still connecting, then live ones.
    fn reach_rank(&self) -> u8 {
        match &self.cluster.connection {
            Connection::Live if self.cluster.synced => 2,
            Connection::Live | Connection::Connecting => 1,
            _ => 0,
        }
    }

    /// The reachability column.
    pub fn reachability(&self) -> &'static str {
        match &self.cluster.connection {
            Connection::Live if self.cluster.synced => "Live",
            Connection::Live => "Listing",
            Connection::Connecting => "Connecting",
            Connection::Unreachable { .. } => "Unreachable",
            Connection::CrdsMissing => "CRDs missing",
            Connection::Forbidden { .. } => "Forbidden",
            Connection::KubeconfigInvalid { .. } => "Kubeconfig",
        }
    }
}

/// A component whose installed version differs between clusters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub component: String,
    /// Each version (newest first) with the contexts running it.
    pub versions: Vec<(String, Vec<String>)>,
}

impl Drift {
    pub fn on(&self, context: &str) -> bool {
        self.versions
            .iter()
            .any(|(_, ctx)| ctx.iter().any(|c| c == context))
    }

    /// `grafana: 11.4.0 on hz-fsn-rtz-prod; 11.3.0 on hz-hel-rtz-prod`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .versions
            .iter()
            .map(|(v, ctx)| format!("{v} on {}", ctx.join(", ")))
            .collect();
        format!("{}: {}", self.component, parts.join("; "))
    }
}

fn index(catalog: &[CatalogEntry]) -> HashMap<String, usize> {
    catalog
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.clone(), i))
        .collect()
}

/// A row of the components pane: a catalog entry, the installed resource, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row<'a> {
    Heading(Group),
    Item {
        name: &'a str,
        group: Group,
        installed: Option<&'a ComponentView>,
        entry: Option<&'a CatalogEntry>,
    },
}

/// Whether `filter` (lower case) is part of any column the components pane shows for a row:
/// name, title, version, health, phase or the version on offer.
fn row_matches(
    filter: &str,
    name: &str,
    installed: Option<&ComponentView>,
    entry: Option<&CatalogEntry>,
) -> bool {
    let has = |s: &str| s.to_lowercase().contains(filter);
    has(name)
        || entry.is_some_and(|e| has(&e.title))
        || installed.is_some_and(|c| {
            has(c.shown_version())
                || has(c.health.as_str())
                || has(&c.phase)
                || c.upgrade().is_some_and(has)
        })
}

/// State of the components pane.
#[derive(Debug, Clone)]
pub struct ComponentsState {
    pub installed_only: bool,
    pub filter: TextField,
    pub filtering: bool,
    /// Name of the selected component (stable while rows come and go).
    pub selected: Option<String>,
}

/// The dependency dialog: what installing `target` brings along.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallDialog {
    pub target: String,
    /// Required components in install order, with whether each is already installed.
    pub required: Vec<(String, bool)>,
    /// Optional components: name, reason, checked.
    pub optional: Vec<(String, String, bool)>,
    /// Focus: 0..optional.len() are the checkboxes, then Cancel, then Install.
    pub focus: usize,
}

impl InstallDialog {
    pub fn cancel_index(&self) -> usize {
        self.optional.len()
    }
    pub fn install_index(&self) -> usize {
        self.optional.len() + 1
    }
}

/// Uninstall: either refused (dependents installed) or waiting for confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UninstallDialog {
    pub target: String,
    pub target_holds_data: bool,
    /// Installed components that depend on the target, directly or not.
    pub would_break: Vec<String>,
    /// Dependencies nothing else needs once the target is gone: kept unless ticked.
    pub deps: Vec<RemovableDep>,
    /// Index into `deps` of the focused tick box.
    pub focus: usize,
}

/// A dependency the uninstall dialog offers to remove along with its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovableDep {
    pub name: String,
    pub holds_data: bool,
    /// Ticked: removed too. Default false (kept).
    pub remove: bool,
}

impl UninstallDialog {
    /// The ticked dependencies, removed along with the target.
    pub fn also_remove(&self) -> Vec<String> {
        self.deps
            .iter()
            .filter(|d| d.remove)
            .map(|d| d.name.clone())
            .collect()
    }
}

/// When a scheduled upgrade runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleChoice {
    At,
    MaintenanceWindow,
}

#[derive(Debug, Clone)]
pub struct ScheduleDialog {
    pub name: String,
    pub from: String,
    pub to: String,
    pub choice: ScheduleChoice,
    /// "YYYY-MM-DD HH:MM" (UTC) for `At`.
    pub input: TextField,
    pub error: Option<String>,
    /// The Platform's next window as the manager will compute it (local time with UTC beside
    /// it), or why none is offered.
    pub window: Result<String, String>,
}

/// A confirmation that carries the intent it confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    UpgradeNow {
        name: String,
        from: String,
        to: String,
    },
    /// The second confirmation of a major upgrade, naming its jump (`11→12`); `when` is `None`
    /// for an upgrade now.
    MajorUpgrade {
        name: String,
        from: String,
        to: String,
        jump: String,
        when: Option<super::update::When>,
    },
    /// Retry what failed (`what`: "the upgrade from 1 to 2", "the install of 1").
    Retry {
        name: String,
        what: String,
    },
    ReconcileNow {
        name: String,
    },
    /// Suspend (`true`) or resume reconciling the release.
    Suspend {
        name: String,
        suspend: bool,
    },
    /// Drop the pending change to `wanted`; the component stays at `installed`.
    CancelUpgrade {
        name: String,
        installed: String,
        wanted: String,
        scheduled: Option<String>,
    },
    /// Remove the Platform's maintenance window (`current`, as shown); `waiting` are the
    /// components with a scheduled upgrade.
    RemoveWindow {
        current: String,
        waiting: Vec<String>,
    },
    Quit,
}

/// The details of one component, scrolled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailsDialog {
    pub name: String,
    pub scroll: u16,
}

/// The `:` command line.
#[derive(Debug, Clone, Default)]
pub struct CommandDialog {
    pub input: TextField,
    /// Why the last command was refused; the typed text stays for correcting it.
    pub error: Option<String>,
}

/// What a console dialog asks the console to do when it is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Install {
        target: String,
        /// The required components the dialog said it would install (not installed then).
        required: Vec<String>,
        /// The optional components the operator ticked.
        optional: Vec<String>,
    },
    Uninstall {
        target: String,
        /// The dependencies the operator ticked to remove with it.
        also_remove: Vec<String>,
    },
    Schedule {
        name: String,
        from: String,
        to: String,
        when: super::update::When,
    },
    Confirmed(Confirm),
    /// Set (`Some`) or remove (`None`) the Platform's maintenance window.
    SetWindow(Option<crate::crd::platform::MaintenanceWindow>),
    /// A `:` command line to run.
    Command(String),
}

/// Dialogs stack on top of the panes; the top one gets keys first.
#[derive(Debug, Clone)]
pub enum Dialog {
    Help,
    Details(DetailsDialog),
    Install(InstallDialog),
    Uninstall(UninstallDialog),
    Schedule(ScheduleDialog),
    Confirm(ConfirmDialog<Confirm>),
    Command(CommandDialog),
    Window(super::panes::settings::WindowDialog),
}

/// Settings rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsRow {
    Context(usize),
    Namespace,
    Theme,
    RefreshCatalog,
    MaintenanceWindow,
    ReadOnly,
}

/// The whole console state.
#[derive(Debug, Clone)]
pub struct Model {
    pub clusters: Vec<ClusterView>,
    pub active: usize,
    pub namespace: String,
    pub readonly: bool,
    pub theme: String,
    pub themes: Vec<String>,
    pub pane: Pane,
    pub catalog: Vec<CatalogEntry>,
    /// Position of each catalog entry by name: rows are built on every frame, and a linear
    /// search per row made a 1,000-component frame quadratic.
    catalog_index: HashMap<String, usize>,
    pub catalog_source: String,
    pub components: ComponentsState,
    pub upgrades_selected: usize,
    pub alerts_scroll: usize,
    pub dashboard_link: usize,
    pub settings_selected: usize,
    /// Context of the selected Fleet row (stable while rows re-sort).
    pub fleet_selected: Option<String>,
    /// Every context of the kubeconfig, in file order: what `:ctx NAME` may attach.
    pub kube_contexts: Vec<String>,
    pub dialogs: Vec<Dialog>,
    /// One line at the bottom: what just happened (copied, written, refused…).
    pub status: Option<String>,
    /// Writes in flight; quitting asks while any run.
    pub writes_in_flight: usize,
    pub quit: bool,
}

impl Model {
    pub fn new(
        clusters: Vec<ClusterView>,
        namespace: impl Into<String>,
        readonly: bool,
        catalog: Vec<CatalogEntry>,
    ) -> Model {
        let catalog_index = index(&catalog);
        let kube_contexts = clusters.iter().map(|c| c.context.clone()).collect();
        Model {
            catalog_index,
            clusters,
            active: 0,
            namespace: namespace.into(),
            readonly,
            theme: "default".into(),
            themes: vec!["default".into()],
            pane: Pane::Dashboard,
            catalog,
            catalog_source: "embedded".into(),
            components: ComponentsState {
                installed_only: true,
                filter: TextField::new(""),
                filtering: false,
                selected: None,
            },
            upgrades_selected: 0,
            alerts_scroll: 0,
            dashboard_link: 0,
            settings_selected: 0,
            fleet_selected: None,
            kube_contexts,
            dialogs: Vec::new(),
            status: None,
            writes_in_flight: 0,
            quit: false,
        }
    }

    pub fn cluster(&self) -> &ClusterView {
        // Invariant: `new` callers pass at least one cluster (enforced by ManageArgs).
        &self.clusters[self.active.min(self.clusters.len().saturating_sub(1))]
    }

    pub fn cluster_mut(&mut self) -> &mut ClusterView {
        let i = self.active.min(self.clusters.len().saturating_sub(1));
        &mut self.clusters[i]
    }

    /// Namespace of the active cluster's Platform and Components.
    pub fn ns(&self) -> &str {
        let c = self.cluster();
        if c.namespace.is_empty() {
            &self.namespace
        } else {
            &c.namespace
        }
    }

    /// The panes the tabs list: Fleet once more than one cluster is attached (or while shown).
    pub fn panes(&self) -> Vec<Pane> {
        Pane::ALL
            .into_iter()
            .filter(|p| *p != Pane::Fleet || self.clusters.len() > 1 || self.pane == Pane::Fleet)
            .collect()
    }

    /// Every attached cluster, worst first: unusable connections, then those still
    /// connecting, then by their worst component, health, alerts and drift; by name among
    /// equals.
    pub fn fleet_rows(&self) -> Vec<FleetRow<'_>> {
        let drift = self.drift();
        let mut rows: Vec<FleetRow> = self
            .clusters
            .iter()
            .enumerate()
            .map(|(index, c)| FleetRow {
                index,
                cluster: c,
                health: c.health_percent(),
                worst: c.worst_component(),
                upgrades: c.upgrades_available(),
                alerts: c.alert_count(),
                drifted: drift.iter().filter(|d| d.on(&c.context)).count(),
            })
            .collect();
        rows.sort_by(|a, b| {
            a.reach_rank()
                .cmp(&b.reach_rank())
                .then_with(|| {
                    let s = |r: &FleetRow| r.worst.map_or(0, |c| severity(c.health));
                    s(b).cmp(&s(a))
                })
                .then_with(|| a.health.unwrap_or(101).cmp(&b.health.unwrap_or(101)))
                .then_with(|| b.alerts.cmp(&a.alerts))
                .then_with(|| b.drifted.cmp(&a.drifted))
                .then_with(|| a.cluster.context.cmp(&b.cluster.context))
        });
        rows
    }

    /// Components installed at different versions on different clusters (of those that have
    /// listed), by name; each with its versions, newest first, and where each runs.
    pub fn drift(&self) -> Vec<Drift> {
        let mut by_name: BTreeMap<&str, BTreeMap<&str, Vec<String>>> = BTreeMap::new();
        for c in self.clusters.iter().filter(|c| c.synced) {
            for comp in c.components.values() {
                by_name
                    .entry(&comp.name)
                    .or_default()
                    .entry(comp.shown_version())
                    .or_default()
                    .push(c.context.clone());
            }
        }
        by_name
            .into_iter()
            .filter(|(_, versions)| versions.len() > 1)
            .map(|(name, versions)| {
                let mut versions: Vec<(String, Vec<String>)> = versions
                    .into_iter()
                    .map(|(v, mut ctx)| {
                        ctx.sort();
                        (v.to_string(), ctx)
                    })
                    .collect();
                versions.sort_by(|a, b| newer_first(&a.0, &b.0));
                Drift {
                    component: name.to_string(),
                    versions,
                }
            })
            .collect()
    }

    pub fn entry(&self, name: &str) -> Option<&CatalogEntry> {
        self.catalog_index
            .get(name)
            .and_then(|i| self.catalog.get(*i))
    }

    /// Replace the catalog (after a refresh).
    pub fn set_catalog(&mut self, catalog: Vec<CatalogEntry>) {
        self.catalog_index = index(&catalog);
        self.catalog = catalog;
    }

    pub fn group_of(&self, name: &str, category: &str) -> Group {
        if let Some(e) = self.entry(name) {
            return e.group;
        }
        match category {
            "mandatory" | "core" => Group::Mandatory,
            "meta" | "meta-platform" | "product" => Group::MetaPlatform,
            _ => Group::ALaCarte,
        }
    }

    /// Rows of the components pane after the installed-only toggle and the filter.
    pub fn component_rows(&self) -> Vec<Row<'_>> {
        let cluster = self.cluster();
        let filter = self.components.filter.value().to_lowercase();
        let mut items: Vec<(Group, &str, Option<&ComponentView>, Option<&CatalogEntry>)> =
            Vec::new();
        for c in cluster.components.values() {
            items.push((
                self.group_of(&c.name, &c.category),
                &c.name,
                Some(c),
                self.entry(&c.name),
            ));
        }
        for e in &self.catalog {
            // An installed meta-platform has no Component of its own: the Platform's status
            // says it is installed, and it is listed with what is installed.
            let shown = !self.components.installed_only || self.meta_installed(&e.name);
            if shown && !cluster.components.contains_key(&e.name) {
                items.push((e.group, &e.name, None, Some(e)));
            }
        }
        if !filter.is_empty() {
            items.retain(|(_, name, installed, entry)| {
                row_matches(&filter, name, *installed, *entry)
            });
        }
        items.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let mut rows = Vec::with_capacity(items.len() + 3);
        let mut last = None;
        for (group, name, installed, entry) in items {
            if last != Some(group) {
                rows.push(Row::Heading(group));
                last = Some(group);
            }
            rows.push(Row::Item {
                name,
                group,
                installed,
                entry,
            });
        }
        rows
    }

    /// Names of selectable component rows, in order.
    pub fn component_names(&self) -> Vec<String> {
        self.component_rows()
            .into_iter()
            .filter_map(|r| match r {
                Row::Item { name, .. } => Some(name.to_string()),
                Row::Heading(_) => None,
            })
            .collect()
    }

    /// The selected component name, falling back to the first visible one.
    pub fn selected_component(&self) -> Option<String> {
        let names = self.component_names();
        match &self.components.selected {
            Some(s) if names.contains(s) => Some(s.clone()),
            _ => names.into_iter().next(),
        }
    }

    /// Installed components with an upgrade on offer, a pending (scheduled or refused) change,
    /// one rolling out (a row stays while it runs) or a failed one on record, by name.
    pub fn upgrade_rows(&self) -> Vec<&ComponentView> {
        self.cluster()
            .components
            .values()
            .filter(|c| {
                c.upgrade().is_some()
                    || c.rollback.is_some()
                    || c.scheduled.is_some()
                    || c.upgrading().is_some()
                    || c.pending_change().is_some()
            })
            .collect()
    }

    /// Quick links: every endpoint that looks like a URL an operator would open.
    pub fn quick_links(&self) -> Vec<(&str, &Endpoint)> {
        self.cluster()
            .components
            .values()
            .flat_map(|c| c.endpoints.iter().map(move |e| (c.name.as_str(), e)))
            .collect()
    }

    pub fn settings_rows(&self) -> Vec<SettingsRow> {
        let mut rows: Vec<SettingsRow> =
            (0..self.clusters.len()).map(SettingsRow::Context).collect();
        rows.extend([
            SettingsRow::Namespace,
            SettingsRow::Theme,
            SettingsRow::RefreshCatalog,
            SettingsRow::MaintenanceWindow,
            SettingsRow::ReadOnly,
        ]);
        rows
    }

    /// Required components of `name`, dependencies first, from the catalog (and, for components
    /// already installed but unknown to the catalog, from their own spec).
    pub fn requirements(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        self.visit_requirements(name, &mut seen, &mut out);
        out.retain(|n| n != name);
        out
    }

    fn visit_requirements(&self, name: &str, seen: &mut BTreeSet<String>, out: &mut Vec<String>) {
        if !seen.insert(name.to_string()) {
            return;
        }
        let deps: Vec<String> = match self.entry(name) {
            Some(e) => e.requires.clone(),
            None => self
                .cluster()
                .components
                .get(name)
                .map(|c| c.dependencies.clone())
                .unwrap_or_default(),
        };
        for d in deps {
            self.visit_requirements(&d, seen, out);
        }
        out.push(name.to_string());
    }

    /// Whether `name` is a meta-platform the Platform's status reports installed.
    pub fn meta_installed(&self, name: &str) -> bool {
        self.cluster()
            .platform
            .as_ref()
            .is_some_and(|p| p.meta_installed.iter().any(|m| m == name))
    }

    /// Whether the catalog marks `name` as holding data.
    pub fn holds_data(&self, name: &str) -> bool {
        self.entry(name).is_some_and(|e| e.holds_data)
    }

    /// Installed dependencies of `name` that nothing would need once it is gone: not selected
    /// by the Platform otherwise (nor required by what it selects or by a mandatory component)
    /// and not required by another installed component. The same rule the manager applies
    /// (`domain::uninstall::no_longer_needed`).
    pub fn no_longer_needed(&self, name: &str) -> Vec<String> {
        use crate::domain::uninstall::{Installed, no_longer_needed};
        let cluster = self.cluster();
        let installed: Vec<Installed> = cluster
            .components
            .values()
            .map(|c| Installed {
                name: c.name.clone(),
                requires: if c.dependencies.is_empty() {
                    self.entry(&c.name)
                        .map(|e| e.requires.clone())
                        .unwrap_or_default()
                } else {
                    c.dependencies.clone()
                },
                leaving: false,
            })
            .collect();
        let selected = cluster.platform.iter().flat_map(|p| p.selected.iter());
        let mandatory = self
            .catalog
            .iter()
            .filter(|e| e.group == Group::Mandatory)
            .map(|e| &e.name);
        let mut wanted = BTreeSet::new();
        for n in selected.chain(mandatory).filter(|n| *n != name) {
            wanted.extend(self.requirements(n));
            wanted.insert(n.clone());
        }
        no_longer_needed(&installed, &wanted, name)
            .into_iter()
            .filter(|d| cluster.components.contains_key(d))
            .collect()
    }

    /// Installed components that would break if `name` went away (transitive dependents).
    pub fn dependents(&self, name: &str) -> Vec<String> {
        let cluster = self.cluster();
        let mut broken = BTreeSet::new();
        let mut frontier = vec![name.to_string()];
        while let Some(n) = frontier.pop() {
            for c in cluster.components.values() {
                let deps = self
                    .entry(&c.name)
                    .map(|e| e.requires.clone())
                    .unwrap_or_else(|| c.dependencies.clone());
                if (deps.contains(&n) || c.dependencies.contains(&n))
                    && c.name != name
                    && broken.insert(c.name.clone())
                {
                    frontier.push(c.name.clone());
                }
            }
        }
        broken.into_iter().collect()
    }
}
