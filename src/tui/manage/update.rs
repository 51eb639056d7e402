//! How the console reacts: `update` turns a key or a watcher report into state changes and the
//! writes to perform, without doing any I/O itself.

use crossterm::event::{KeyEvent, KeyEventKind};

use crate::domain::health::Health;
use crate::tui::widgets::field::TextField;

use super::dialogs::confirm_dialog;
use super::keys::{self, Action};
use super::model::{
    ClusterView, CommandDialog, ComponentView, Confirm, Connection, DetailsDialog, Dialog,
    EventView, Group, InstallDialog, Intent, Model, Pane, PlatformView, RemovableDep,
    ScheduleChoice, ScheduleDialog, SettingsRow, UninstallDialog,
};
use crate::tui::dialog::Reply;
use crate::tui::keymap::lookup;
use crate::tui::widgets::field::Edit;

/// What a watcher or a write reported about one cluster (by index into `Model::clusters`).
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterMsg {
    /// A context attached at run time has its client: where it is and what it watches.
    Attached {
        address: String,
        namespace: String,
    },
    Connecting,
    Connected,
    Unreachable {
        error: String,
    },
    CrdsMissing,
    Forbidden {
        verb: String,
        resource: String,
    },
    KubeconfigInvalid {
        error: String,
    },
    ManagerRunning(bool),
    PlatformChanged(Option<Box<PlatformView>>),
    ComponentChanged(Box<ComponentView>),
    ComponentDeleted(String),
    /// A complete list (at start or after a re-list): exactly these Components exist.
    ComponentsListed(Vec<ComponentView>),
    EventSeen(EventView),
    /// The Events of a watch's (re-)list, in one message.
    EventsListed(Vec<EventView>),
    WriteDone {
        what: String,
    },
    WriteFailed {
        what: String,
        error: String,
    },
}

/// Everything `update` can react to.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    Resized,
    Cluster {
        cluster: usize,
        msg: ClusterMsg,
    },
    CatalogRefreshed {
        source: String,
        entries: Vec<super::model::CatalogEntry>,
    },
    CatalogRefreshFailed {
        error: String,
    },
}

/// A scheduled upgrade's timing, as written to the Component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// RFC 3339 UTC instant.
    At(String),
    MaintenanceWindow,
}

/// Work for the effect runner; each reports back as `ClusterMsg::WriteDone`/`WriteFailed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Create Components (dependencies first) with the given versions.
    Install {
        cluster: usize,
        platform: String,
        components: Vec<(String, String)>,
    },
    /// Disable the Platform entry and confirm exactly this removal, with the ticked
    /// dependencies.
    Uninstall {
        cluster: usize,
        platform: String,
        name: String,
        also_remove: Vec<String>,
    },
    SetVersion {
        cluster: usize,
        platform: String,
        name: String,
        version: String,
        /// The operator's second confirmation of a major jump (`"11→12"`).
        confirm_major: Option<String>,
    },
    ScheduleUpgrade {
        cluster: usize,
        platform: String,
        name: String,
        version: String,
        when: When,
        confirm_major: Option<String>,
    },
    /// An operator request on one Component; the manager acts on it.
    Request {
        cluster: usize,
        platform: String,
        name: String,
        request: Request,
    },
    /// Set (`Some`) or remove (`None`) the Platform's `spec.maintenanceWindow`.
    SetWindow {
        cluster: usize,
        platform: String,
        window: Option<crate::crd::platform::MaintenanceWindow>,
    },
    /// Put text on the operator's clipboard through the terminal (OSC 52).
    Copy(String),
    RefreshCatalog,
    SetTheme(String),
    /// Connect to kubeconfig context `context` as cluster `cluster` (the next index) and
    /// start watching it.
    Attach {
        cluster: usize,
        context: String,
    },
}

/// A request written to a Component's spec (intent only; the manager acts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Retry,
    ReconcileNow,
    Suspend(bool),
    /// Back to the installed version: the pending change is dropped.
    CancelUpgrade {
        installed: String,
    },
}

impl Request {
    /// What the status line calls it.
    pub fn describe(&self, name: &str) -> String {
        match self {
            Request::Retry => format!("retry {name}"),
            Request::ReconcileNow => format!("reconcile {name} now"),
            Request::Suspend(true) => format!("suspend {name}"),
            Request::Suspend(false) => format!("resume {name}"),
            Request::CancelUpgrade { installed } => {
                format!("cancel the upgrade of {name} (stays at {installed})")
            }
        }
    }
}

/// The result of one `update`: the work to do and whether the screen must be redrawn.
pub type Outcome = crate::tui::runtime::Update<Effect>;

const READONLY_REFUSAL: &str = "read-only mode: writes are disabled (started with --readonly)";

/// Apply one message to the model.
pub fn update(model: &mut Model, msg: Msg) -> Outcome {
    match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => handle_key(model, key),
        Msg::Key(_) => Outcome::unchanged(),
        Msg::Resized => Outcome::changed(),
        Msg::Cluster { cluster, msg } => handle_cluster(model, cluster, msg),
        Msg::CatalogRefreshed { source, entries } => {
            model.set_catalog(entries);
            model.status = Some(format!(
                "catalog refreshed from {source}: {} components",
                model.catalog.len()
            ));
            model.catalog_source = source;
            Outcome::changed()
        }
        Msg::CatalogRefreshFailed { error } => {
            model.status = Some(format!("catalog refresh failed: {error}"));
            Outcome::changed()
        }
    }
}

fn handle_cluster(model: &mut Model, idx: usize, msg: ClusterMsg) -> Outcome {
    let visible = idx == model.active || matches!(model.pane, Pane::Dashboard | Pane::Fleet);
    let Some(cluster) = model.clusters.get_mut(idx) else {
        return Outcome::unchanged();
    };
    let changed = apply_cluster(cluster, msg, &mut model.status, &mut model.writes_in_flight);
    // A report about a cluster that is not on screen still updates state, but only the
    // dashboard's tiles and the Fleet show other clusters; elsewhere there is nothing to
    // redraw.
    Outcome {
        effects: Vec::new(),
        changed: changed && visible,
    }
}

/// While the API server is unreachable nobody can tell whether the manager runs: its state is
/// unknown then, and what its Lease last said is shown again once the server answers.
fn set_connection(cluster: &mut ClusterView, c: Connection) -> bool {
    if cluster.connection == c {
        return false;
    }
    cluster.manager_running = match c {
        Connection::Unreachable { .. } => None,
        _ => cluster.manager_lease,
    };
    cluster.connection = c;
    true
}

fn apply_cluster(
    cluster: &mut ClusterView,
    msg: ClusterMsg,
    status: &mut Option<String>,
    in_flight: &mut usize,
) -> bool {
    match msg {
        ClusterMsg::Attached { address, namespace } => {
            *status = Some(format!(
                "attached {} ({address}, namespace {namespace}): watching",
                cluster.context
            ));
            cluster.address = address;
            cluster.namespace = namespace;
            true
        }
        ClusterMsg::Connecting => set_connection(cluster, Connection::Connecting),
        ClusterMsg::Connected => set_connection(cluster, Connection::Live),
        ClusterMsg::Unreachable { error } => {
            set_connection(cluster, Connection::Unreachable { error })
        }
        ClusterMsg::CrdsMissing => set_connection(cluster, Connection::CrdsMissing),
        ClusterMsg::Forbidden { verb, resource } => {
            set_connection(cluster, Connection::Forbidden { verb, resource })
        }
        ClusterMsg::KubeconfigInvalid { error } => {
            set_connection(cluster, Connection::KubeconfigInvalid { error })
        }
        ClusterMsg::ManagerRunning(running) => {
            cluster.manager_lease = Some(running);
            if cluster.manager_running == Some(running)
                || matches!(cluster.connection, Connection::Unreachable { .. })
            {
                return false;
            }
            cluster.manager_running = Some(running);
            true
        }
        ClusterMsg::PlatformChanged(p) => {
            let p = p.map(|p| *p);
            if cluster.platform == p {
                return false;
            }
            cluster.platform = p;
            true
        }
        ClusterMsg::ComponentChanged(c) => {
            if cluster.components.get(&c.name) == Some(&*c) {
                return false;
            }
            if c.health == Health::Healthy && cluster.pending.remove(&c.name) {
                *status = Some(format!("{} is installed and healthy", c.name));
            }
            if let Some(news) = new_refusal(cluster.components.get(&c.name), &c) {
                *status = Some(news);
            }
            cluster.components.insert(c.name.clone(), *c);
            set_connection(cluster, Connection::Live);
            cluster.record_health();
            true
        }
        ClusterMsg::ComponentDeleted(name) => {
            if cluster.components.remove(&name).is_none() {
                return false;
            }
            cluster.record_health();
            true
        }
        ClusterMsg::ComponentsListed(list) => {
            let was = cluster.synced;
            cluster.synced = true;
            let mut changed = !was;
            let fresh: std::collections::BTreeMap<String, ComponentView> =
                list.into_iter().map(|c| (c.name.clone(), c)).collect();
            if fresh != cluster.components {
                for (name, c) in &fresh {
                    if c.health == Health::Healthy && cluster.pending.remove(name) {
                        *status = Some(format!("{name} is installed and healthy"));
                    }
                }
                cluster.components = fresh;
                changed = true;
            }
            cluster.record_health();
            set_connection(cluster, Connection::Live) || changed
        }
        ClusterMsg::EventsListed(list) => cluster.push_events(list),
        ClusterMsg::EventSeen(ev) => {
            let before = cluster.events.front().cloned();
            let len = cluster.events.len();
            cluster.push_event(ev);
            cluster.events.front().cloned() != before || cluster.events.len() != len
        }
        ClusterMsg::WriteDone { what } => {
            *in_flight = in_flight.saturating_sub(1);
            *status = Some(format!("{what}: written; waiting for the manager"));
            true
        }
        ClusterMsg::WriteFailed { what, error } => {
            *in_flight = in_flight.saturating_sub(1);
            *status = Some(format!("{what} failed: {error}"));
            true
        }
    }
}

/// A refusal the manager reported that the component did not carry before, for the status
/// line: a write the manager then refused must not stay "waiting for the manager".
fn new_refusal(old: Option<&ComponentView>, new: &ComponentView) -> Option<String> {
    let before = old.map(|o| o.refusals()).unwrap_or_default();
    new.refusals()
        .into_iter()
        .find(|(_, k)| !before.iter().any(|(_, b)| b.message == k.message))
        .map(|(label, k)| format!("{}: {label}: {}", new.name, k.message))
}

fn handle_key(model: &mut Model, key: KeyEvent) -> Outcome {
    if lookup(keys::ANYWHERE, &key).is_some() {
        return request_quit(model);
    }
    if !model.dialogs.is_empty() {
        return handle_dialog_key(model, key);
    }
    let action = keys::action(model, &key);
    if model.pane == Pane::Components && model.components.filtering {
        return handle_filter_key(model, key, action);
    }
    let Some(action) = action else {
        return Outcome::unchanged();
    };
    match action {
        Action::Quit => request_quit(model),
        Action::Help => {
            model.dialogs.push(Dialog::Help);
            Outcome::changed()
        }
        Action::CommandLine => {
            model
                .dialogs
                .push(Dialog::Command(CommandDialog::default()));
            Outcome::changed()
        }
        Action::NextPane => cycle_pane(model, 1),
        Action::PrevPane => cycle_pane(model, -1),
        Action::Pane(i) => switch_pane(model, i),
        _ => match model.pane {
            Pane::Dashboard => dashboard_action(model, action),
            Pane::Components => components_action(model, action),
            Pane::Upgrades => upgrades_action(model, action),
            Pane::Alerts => alerts_action(model, action),
            Pane::Settings => settings_action(model, action),
            Pane::Fleet => fleet_action(model, action),
        },
    }
}

/// Tab and Shift+Tab: the next or previous of the panes the tabs list.
fn cycle_pane(model: &mut Model, by: isize) -> Outcome {
    let panes = model.panes();
    let at = panes.iter().position(|p| *p == model.pane).unwrap_or(0) as isize;
    let next = panes[(at + by).rem_euclid(panes.len() as isize) as usize];
    switch_pane(model, next.index())
}

/// The Fleet: move between clusters (worst first); Enter shows one's dashboard.
fn fleet_action(model: &mut Model, action: Action) -> Outcome {
    let rows: Vec<(usize, String)> = model
        .fleet_rows()
        .iter()
        .map(|r| (r.index, r.cluster.context.clone()))
        .collect();
    let mut sel = model
        .fleet_selected
        .as_ref()
        .and_then(|s| rows.iter().position(|(_, c)| c == s))
        .unwrap_or(0);
    if action == Action::OpenCluster {
        let Some((index, _)) = rows.get(sel) else {
            return Outcome::unchanged();
        };
        let index = *index;
        let mut out = switch_cluster(model, index);
        out.merge(switch_pane(model, Pane::Dashboard.index()));
        return out;
    }
    if step(&mut sel, rows.len(), action) || model.fleet_selected.is_none() {
        let Some((_, ctx)) = rows.get(sel) else {
            return Outcome::unchanged();
        };
        model.fleet_selected = Some(ctx.clone());
        return Outcome::changed();
    }
    Outcome::unchanged()
}

fn switch_pane(model: &mut Model, i: usize) -> Outcome {
    let pane = Pane::ALL[i % Pane::ALL.len()];
    if pane == model.pane {
        return Outcome::unchanged();
    }
    model.pane = pane;
    Outcome::changed()
}

fn request_quit(model: &mut Model) -> Outcome {
    if model.writes_in_flight > 0 {
        model
            .dialogs
            .push(Dialog::Confirm(confirm_dialog(Confirm::Quit)));
        return Outcome::changed();
    }
    model.quit = true;
    Outcome::changed()
}

/// Move a selection index within `len` rows; returns whether it moved.
fn step(sel: &mut usize, len: usize, action: Action) -> bool {
    if len == 0 {
        return false;
    }
    let old = *sel;
    let cur = (*sel).min(len - 1);
    *sel = match action {
        Action::Up => cur.saturating_sub(1),
        Action::Down => (cur + 1).min(len - 1),
        Action::PageUp => cur.saturating_sub(10),
        Action::PageDown => (cur + 10).min(len - 1),
        Action::First => 0,
        Action::Last => len - 1,
        _ => cur,
    };
    *sel != old
}

fn dashboard_action(model: &mut Model, action: Action) -> Outcome {
    let links: Vec<String> = model
        .quick_links()
        .iter()
        .map(|(_, e)| e.url.clone())
        .collect();
    if action == Action::CopyUrl {
        let Some(url) = links.get(model.dashboard_link.min(links.len().saturating_sub(1))) else {
            return Outcome::unchanged();
        };
        model.status = Some(format!("copied {url} to the clipboard"));
        return Outcome::effect(Effect::Copy(url.clone()));
    }
    let mut sel = model.dashboard_link;
    let moved = match action {
        Action::PrevLink => {
            sel = sel.saturating_sub(1);
            true
        }
        Action::NextLink => {
            sel = (sel + 1).min(links.len().saturating_sub(1));
            true
        }
        _ => false,
    };
    if moved && sel != model.dashboard_link {
        model.dashboard_link = sel;
        return Outcome::changed();
    }
    Outcome::unchanged()
}

fn handle_filter_key(model: &mut Model, key: KeyEvent, action: Option<Action>) -> Outcome {
    match action {
        Some(Action::ApplyFilter) => {
            model.components.filtering = false;
        }
        Some(Action::ClearFilter) => {
            model.components.filtering = false;
            model.components.filter.set("");
        }
        _ => {
            if model.components.filter.handle_key(&key) == Edit::NotHandled {
                return Outcome::unchanged();
            }
        }
    }
    Outcome::changed()
}

fn components_action(model: &mut Model, action: Action) -> Outcome {
    let names = model.component_names();
    let current = model.selected_component();
    let mut idx = current
        .as_ref()
        .and_then(|c| names.iter().position(|n| n == c))
        .unwrap_or(0);
    if step(&mut idx, names.len(), action) {
        model.components.selected = names.get(idx).cloned();
        return Outcome::changed();
    }
    match action {
        Action::Filter => {
            model.components.filtering = true;
            Outcome::changed()
        }
        Action::ClearFilter if !model.components.filter.value().is_empty() => {
            model.components.filter.set("");
            Outcome::changed()
        }
        Action::ToggleInstalled => {
            model.components.installed_only = !model.components.installed_only;
            Outcome::changed()
        }
        Action::Details => match current {
            Some(name) => {
                model
                    .dialogs
                    .push(Dialog::Details(DetailsDialog { name, scroll: 0 }));
                Outcome::changed()
            }
            None => Outcome::unchanged(),
        },
        Action::Install => match current {
            Some(name) => open_install(model, &name),
            None => Outcome::unchanged(),
        },
        Action::Uninstall => match current {
            Some(name) => open_uninstall(model, &name),
            None => Outcome::unchanged(),
        },
        Action::Upgrade => match current {
            Some(name) => open_upgrade(model, &name),
            None => Outcome::unchanged(),
        },
        Action::Retry | Action::ReconcileNow | Action::Suspend | Action::CancelUpgrade => {
            match current {
                Some(name) => open_request(model, &name, action),
                None => Outcome::unchanged(),
            }
        }
        _ => Outcome::unchanged(),
    }
}

/// Ask to confirm a request on `name` (retry, reconcile now, suspend/resume, cancel the
/// pending upgrade), or say why there is nothing to ask.
fn open_request(model: &mut Model, name: &str, action: Action) -> Outcome {
    if model.readonly {
        return refuse_readonly(model);
    }
    let Some(c) = model.cluster().components.get(name) else {
        model.status = Some(format!("{name} is not installed"));
        return Outcome::changed();
    };
    let name = name.to_string();
    let confirm = match action {
        Action::Retry => match c.retryable() {
            Ok(what) => Confirm::Retry { name, what },
            Err(why) => {
                model.status = Some(why);
                return Outcome::changed();
            }
        },
        Action::ReconcileNow => Confirm::ReconcileNow { name },
        Action::Suspend => Confirm::Suspend {
            name,
            suspend: !c.suspended,
        },
        _ => match c.pending_change() {
            Some((installed, wanted)) => Confirm::CancelUpgrade {
                installed: installed.to_string(),
                wanted: wanted.to_string(),
                scheduled: c.scheduled.clone(),
                name,
            },
            None => {
                model.status = Some(format!(
                    "{name} has no scheduled or pending upgrade to cancel; nothing written"
                ));
                return Outcome::changed();
            }
        },
    };
    model.dialogs.push(Dialog::Confirm(confirm_dialog(confirm)));
    Outcome::changed()
}

/// Write a confirmed request.
fn request(model: &mut Model, name: String, request: Request) -> Outcome {
    let platform = match write_target(model) {
        Ok(p) => p,
        Err(o) => return o,
    };
    model.writes_in_flight += 1;
    model.status = Some(format!("{}…", request.describe(&name)));
    Outcome::effect(Effect::Request {
        cluster: model.active,
        platform,
        name,
        request,
    })
}

fn refuse_readonly(model: &mut Model) -> Outcome {
    model.status = Some(READONLY_REFUSAL.into());
    Outcome::changed()
}

/// Whether a dialog that writes may open: not in read-only mode and not without a Platform
/// to write into; refused with the reason in the status line before anything is asked.
fn can_write(model: &mut Model) -> Result<(), Outcome> {
    write_target(model).map(|_| ())
}

/// The Platform a write goes into, or the refusal (read-only mode, no Platform) as the outcome.
fn write_target(model: &mut Model) -> Result<String, Outcome> {
    if model.readonly {
        return Err(refuse_readonly(model));
    }
    platform_name(model)
}

/// Why a component has no upgrade to offer.
fn no_upgrade(c: &ComponentView) -> String {
    match c.upgrading() {
        Some(to) => format!("{} is upgrading to {to}; the rollout is running", c.name),
        None => format!("{} is up to date", c.name),
    }
}

/// Open the dependency dialog for `name` (or say why not).
pub fn open_install(model: &mut Model, name: &str) -> Outcome {
    if let Err(refused) = can_write(model) {
        return refused;
    }
    if model.cluster().components.contains_key(name) || model.meta_installed(name) {
        model.status = Some(format!("{name} is already installed"));
        return Outcome::changed();
    }
    let Some(entry) = model.entry(name).cloned() else {
        model.status = Some(format!("{name} is not in the catalog"));
        return Outcome::changed();
    };
    let installed = &model.cluster().components;
    let required = model
        .requirements(name)
        .into_iter()
        .map(|n| {
            let already = installed.contains_key(&n);
            (n, already)
        })
        .collect();
    let optional = entry
        .optional
        .iter()
        .filter(|(n, _)| !installed.contains_key(n))
        .map(|(n, why)| (n.clone(), why.clone(), false))
        .collect::<Vec<_>>();
    let focus = optional.len() + 1;
    model.dialogs.push(Dialog::Install(InstallDialog {
        target: name.to_string(),
        required,
        optional,
        focus,
    }));
    Outcome::changed()
}

fn open_uninstall(model: &mut Model, name: &str) -> Outcome {
    if let Err(refused) = can_write(model) {
        return refused;
    }
    if model.meta_installed(name) {
        model.status = Some(format!(
            "{name} is a meta-platform: it has no release of its own; uninstall its members instead; nothing was written"
        ));
        return Outcome::changed();
    }
    if !model.cluster().components.contains_key(name) {
        model.status = Some(format!("{name} is not installed"));
        return Outcome::changed();
    }
    let category = model.cluster().components[name].category.clone();
    if model.group_of(name, &category) == Group::Mandatory {
        model.status = Some(format!(
            "{name} is mandatory: every platform runs it, so it cannot be uninstalled; nothing was written"
        ));
        return Outcome::changed();
    }
    let would_break = model.dependents(name);
    let deps = model
        .no_longer_needed(name)
        .into_iter()
        .map(|n| RemovableDep {
            holds_data: model.holds_data(&n),
            name: n,
            remove: false,
        })
        .collect();
    model.dialogs.push(Dialog::Uninstall(UninstallDialog {
        target: name.to_string(),
        target_holds_data: model.holds_data(name),
        would_break,
        deps,
        focus: 0,
    }));
    Outcome::changed()
}

fn open_upgrade(model: &mut Model, name: &str) -> Outcome {
    if let Err(refused) = can_write(model) {
        return refused;
    }
    let Some(c) = model.cluster().components.get(name) else {
        model.status = Some(format!("{name} is not installed"));
        return Outcome::changed();
    };
    let Some(to) = c.upgrade().map(str::to_string) else {
        model.status = Some(no_upgrade(c));
        return Outcome::changed();
    };
    let from = c.shown_version().to_string();
    model
        .dialogs
        .push(Dialog::Confirm(confirm_dialog(Confirm::UpgradeNow {
            name: name.to_string(),
            from,
            to,
        })));
    Outcome::changed()
}

fn upgrades_action(model: &mut Model, action: Action) -> Outcome {
    let rows: Vec<(String, String, Option<String>)> = model
        .upgrade_rows()
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.shown_version().to_string(),
                c.upgrade().map(str::to_string),
            )
        })
        .collect();
    if step(&mut model.upgrades_selected, rows.len(), action) {
        return Outcome::changed();
    }
    let Some((name, from, to)) = rows
        .get(model.upgrades_selected.min(rows.len().saturating_sub(1)))
        .cloned()
    else {
        return Outcome::unchanged();
    };
    match action {
        Action::UpgradeNow => open_upgrade(model, &name),
        Action::Retry | Action::CancelUpgrade => open_request(model, &name, action),
        Action::Schedule => {
            if let Err(refused) = can_write(model) {
                return refused;
            }
            let Some(to) = to else {
                model.status = model.cluster().components.get(&name).map(no_upgrade);
                return Outcome::changed();
            };
            let window = next_window_text(model.cluster().platform.as_ref());
            model.dialogs.push(Dialog::Schedule(ScheduleDialog {
                name,
                from,
                to,
                // The window is offered first only when the Platform has one.
                choice: if window.is_ok() {
                    ScheduleChoice::MaintenanceWindow
                } else {
                    ScheduleChoice::At
                },
                input: TextField::new(""),
                error: None,
                window,
            }));
            Outcome::changed()
        }
        _ => Outcome::unchanged(),
    }
}

fn alerts_action(model: &mut Model, action: Action) -> Outcome {
    let len = model.cluster().events.len();
    if step(&mut model.alerts_scroll, len, action) {
        return Outcome::changed();
    }
    Outcome::unchanged()
}

fn settings_action(model: &mut Model, action: Action) -> Outcome {
    let rows = model.settings_rows();
    if step(&mut model.settings_selected, rows.len(), action) {
        return Outcome::changed();
    }
    let row = rows.get(model.settings_selected).copied();
    if row == Some(SettingsRow::MaintenanceWindow) && action == Action::Uninstall {
        return open_remove_window(model);
    }
    if action != Action::Change {
        return Outcome::unchanged();
    }
    match row {
        Some(SettingsRow::MaintenanceWindow) => open_window(model),
        Some(SettingsRow::Context(i)) => switch_cluster(model, i),
        Some(SettingsRow::Theme) => {
            let pos = model
                .themes
                .iter()
                .position(|t| *t == model.theme)
                .unwrap_or(0);
            let next = model.themes[(pos + 1) % model.themes.len().max(1)].clone();
            if next == model.theme {
                return Outcome::unchanged();
            }
            model.theme = next.clone();
            Outcome::effect(Effect::SetTheme(next))
        }
        Some(SettingsRow::RefreshCatalog) => {
            model.status = Some("refreshing the catalog…".into());
            Outcome::effect(Effect::RefreshCatalog)
        }
        Some(SettingsRow::ReadOnly) => {
            // Turning read-only on is always allowed; turning it off from the screen would let a
            // stray key undo a deliberate --readonly, so that needs a restart.
            if model.readonly {
                model.status =
                    Some("read-only mode stays on until the console is restarted".into());
            } else {
                model.readonly = true;
                model.status = Some("read-only mode on: every write action is disabled".into());
            }
            Outcome::changed()
        }
        Some(SettingsRow::Namespace) | None => Outcome::unchanged(),
    }
}

/// Open the maintenance-window dialog, filled from the Platform's window (or say why not).
fn open_window(model: &mut Model) -> Outcome {
    if let Err(refused) = can_write(model) {
        return refused;
    }
    let current = model
        .cluster()
        .platform
        .as_ref()
        .and_then(|p| p.window.as_ref())
        .and_then(|w| w.as_ref().ok());
    let dialog = super::panes::settings::WindowDialog::new(current);
    model.dialogs.push(Dialog::Window(dialog));
    Outcome::changed()
}

/// Ask before removing the Platform's window, naming what it changes (or say why not).
fn open_remove_window(model: &mut Model) -> Outcome {
    if let Err(refused) = can_write(model) {
        return refused;
    }
    let cluster = model.cluster();
    let Some(window) = cluster.platform.as_ref().and_then(|p| p.window.as_ref()) else {
        model.status = Some("the Platform has no maintenance window to remove".into());
        return Outcome::changed();
    };
    let current = match window {
        Ok(w) => crate::domain::window::next_window(w, jiff::Timestamp::now())
            .map(|o| format!("next opening {}", o.describe()))
            .unwrap_or_else(|e| format!("invalid: {e}")),
        Err(e) => format!("invalid: {e}"),
    };
    let waiting = cluster
        .components
        .values()
        .filter(|c| c.scheduled.is_some())
        .map(|c| c.name.clone())
        .collect();
    model
        .dialogs
        .push(Dialog::Confirm(confirm_dialog(Confirm::RemoveWindow {
            current,
            waiting,
        })));
    Outcome::changed()
}

/// Write the window the operator confirmed (`None`: remove it).
fn set_window(
    model: &mut Model,
    window: Option<crate::crd::platform::MaintenanceWindow>,
) -> Outcome {
    if model.readonly {
        return refuse_readonly(model);
    }
    let platform = match platform_name(model) {
        Ok(p) => p,
        Err(o) => return o,
    };
    model.writes_in_flight += 1;
    model.status = Some(match &window {
        Some(w) => format!(
            "saving the maintenance window ({} {})…",
            w.start,
            w.time_zone.as_deref().unwrap_or("UTC")
        ),
        None => "removing the maintenance window…".into(),
    });
    Outcome::effect(Effect::SetWindow {
        cluster: model.active,
        platform,
        window,
    })
}

fn switch_cluster(model: &mut Model, i: usize) -> Outcome {
    if i >= model.clusters.len() || i == model.active {
        return Outcome::unchanged();
    }
    model.active = i;
    model.upgrades_selected = 0;
    model.alerts_scroll = 0;
    model.dashboard_link = 0;
    model.status = Some(format!("now showing {}", model.clusters[i].context));
    Outcome::changed()
}

/// Every command of the `:` line, as an unknown command lists them.
const COMMANDS: &str =
    "ctx [NAME], dashboard, components, upgrades, alerts, settings, fleet, help, quit";

/// `:ctx NAME`: show an attached cluster, or attach any other context of the kubeconfig
/// (connect and watch, then show it); without a name, the next attached cluster.
fn ctx_command(model: &mut Model, name: Option<&str>) -> Result<Outcome, String> {
    let Some(name) = name else {
        return Ok(switch_cluster(
            model,
            (model.active + 1) % model.clusters.len(),
        ));
    };
    if let Some(i) = model.clusters.iter().position(|c| c.context == name) {
        return Ok(switch_cluster(model, i));
    }
    if !model.kube_contexts.iter().any(|c| c == name) {
        let known = if model.kube_contexts.is_empty() {
            "the kubeconfig has no contexts".to_string()
        } else {
            format!("contexts: {}", model.kube_contexts.join(", "))
        };
        return Err(format!(
            "no context named {name:?} in the kubeconfig; {known}"
        ));
    }
    let cluster = model.clusters.len();
    model.clusters.push(ClusterView::new(name, ""));
    let mut out = switch_cluster(model, cluster);
    model.status = Some(format!("attaching {name}: connecting and watching…"));
    out.effects.push(Effect::Attach {
        cluster,
        context: name.to_string(),
    });
    Ok(out)
}

fn run_command(model: &mut Model, line: &str) -> Result<Outcome, String> {
    let mut words = line.split_whitespace();
    match words.next() {
        Some("ctx") | Some("context") => ctx_command(model, words.next()),
        Some("q") | Some("quit") => Ok(request_quit(model)),
        Some("help") | Some("?") | Some("h") => {
            model.dialogs.push(Dialog::Help);
            Ok(Outcome::changed())
        }
        Some(word) => {
            let pane = match word {
                "dashboard" => Some(Pane::Dashboard),
                "components" => Some(Pane::Components),
                "upgrades" => Some(Pane::Upgrades),
                "alerts" | "events" => Some(Pane::Alerts),
                "settings" => Some(Pane::Settings),
                "fleet" => Some(Pane::Fleet),
                _ => None,
            };
            match pane {
                Some(p) => Ok(switch_pane(model, p.index())),
                None => Err(format!("unknown command {word:?}; commands: {COMMANDS}")),
            }
        }
        None => Ok(Outcome::changed()),
    }
}

fn handle_dialog_key(model: &mut Model, key: KeyEvent) -> Outcome {
    // `c` in the details copies all of them (OSC 52); the dialog stays open.
    if let Some(Dialog::Details(d)) = model.dialogs.last()
        && crate::tui::keymap::is_char(&key, 'c')
    {
        let name = d.name.clone();
        let text = super::dialogs::details_text(model, &name);
        model.status = Some(format!(
            "copied the details of {name} ({} lines) to the clipboard",
            text.lines().count()
        ));
        return Outcome::effect(Effect::Copy(text));
    }
    let Some(top) = model.dialogs.last_mut() else {
        return Outcome::unchanged();
    };
    match top.handle_key(&key) {
        Reply::Keep(changed) => Outcome {
            effects: Vec::new(),
            changed,
        },
        Reply::Close => {
            model.dialogs.pop();
            Outcome::changed()
        }
        Reply::Done(intent) => {
            model.dialogs.pop();
            let mut out = carry_out(model, intent);
            out.changed = true;
            out
        }
        Reply::Submit(intent) => {
            // The dialog stays where it is while its intent runs; what the intent opens goes on
            // top of it.
            let at = model.dialogs.len() - 1;
            match submit(model, intent) {
                Ok(mut out) => {
                    model.dialogs.remove(at);
                    out.changed = true;
                    out
                }
                Err(e) => {
                    if let Some(Dialog::Command(c)) = model.dialogs.get_mut(at) {
                        c.error = Some(e);
                    }
                    Outcome::changed()
                }
            }
        }
    }
}

/// Carry out what an answered dialog asked for.
fn carry_out(model: &mut Model, intent: Intent) -> Outcome {
    match intent {
        Intent::Install {
            target,
            required,
            optional,
        } => confirm_install(model, target, required, optional),
        Intent::Uninstall {
            target,
            also_remove,
        } => {
            let platform = match write_target(model) {
                Ok(p) => p,
                Err(o) => return o,
            };
            model.writes_in_flight += 1;
            model.status = Some(if also_remove.is_empty() {
                format!("uninstalling {target}…")
            } else {
                format!("uninstalling {target} and {}…", also_remove.join(", "))
            });
            Outcome::effect(Effect::Uninstall {
                cluster: model.active,
                platform,
                name: target,
                also_remove,
            })
        }
        Intent::Schedule {
            name,
            from,
            to,
            when,
        } => change_version(model, name, from, to, Some(when), None),
        Intent::Confirmed(Confirm::Quit) => {
            model.quit = true;
            Outcome::changed()
        }
        Intent::SetWindow(window) => set_window(model, window),
        Intent::Confirmed(Confirm::RemoveWindow { .. }) => set_window(model, None),
        Intent::Confirmed(Confirm::Retry { name, .. }) => request(model, name, Request::Retry),
        Intent::Confirmed(Confirm::ReconcileNow { name }) => {
            request(model, name, Request::ReconcileNow)
        }
        Intent::Confirmed(Confirm::Suspend { name, suspend }) => {
            request(model, name, Request::Suspend(suspend))
        }
        Intent::Confirmed(Confirm::CancelUpgrade {
            name, installed, ..
        }) => request(model, name, Request::CancelUpgrade { installed }),
        Intent::Confirmed(Confirm::UpgradeNow { name, from, to }) => {
            change_version(model, name, from, to, None, None)
        }
        Intent::Confirmed(Confirm::MajorUpgrade {
            name,
            from,
            to,
            jump,
            when,
        }) => change_version(model, name, from, to, when, Some(jump)),
        Intent::Command(line) => match run_command(model, &line) {
            Ok(out) => out,
            Err(e) => {
                model.status = Some(e);
                Outcome::changed()
            }
        },
    }
}

/// Write a confirmed version change (now, or scheduled by `when`). A major jump (semver major,
/// or past a version the catalog flags) first asks a second question naming the jump; only its
/// answer (`confirmed`) carries the confirmation the manager requires.
fn change_version(
    model: &mut Model,
    name: String,
    from: String,
    to: String,
    when: Option<When>,
    confirmed: Option<String>,
) -> Outcome {
    let platform = match write_target(model) {
        Ok(p) => p,
        Err(o) => return o,
    };
    let majors = model
        .entry(&name)
        .map(|e| e.majors.clone())
        .unwrap_or_default();
    let jump = crate::domain::window::jump_of(&from, &to, &majors);
    if let (Some(jump), None) = (&jump, &confirmed) {
        model
            .dialogs
            .push(Dialog::Confirm(confirm_dialog(Confirm::MajorUpgrade {
                name,
                from,
                to,
                jump: jump.clone(),
                when,
            })));
        return Outcome::changed();
    }
    model.writes_in_flight += 1;
    let cluster = model.active;
    match when {
        Some(when) => {
            model.status = Some(format!("scheduling {name} {from} → {to}…"));
            Outcome::effect(Effect::ScheduleUpgrade {
                cluster,
                platform,
                name,
                version: to,
                when,
                confirm_major: confirmed,
            })
        }
        None => {
            model.status = Some(format!("upgrading {name} {from} → {to}…"));
            Outcome::effect(Effect::SetVersion {
                cluster,
                platform,
                name,
                version: to,
                confirm_major: confirmed,
            })
        }
    }
}

/// Carry out the intent of a dialog that stays open until it succeeds.
fn submit(model: &mut Model, intent: Intent) -> Result<Outcome, String> {
    match intent {
        Intent::Command(line) => run_command(model, &line),
        other => Ok(carry_out(model, other)),
    }
}

/// The Platform intent is written into; writing without one would create Components no
/// Platform accounts for.
fn platform_name(model: &mut Model) -> Result<String, Outcome> {
    match &model.cluster().platform {
        Some(p) => Ok(p.name.clone()),
        None => {
            model.status = Some(format!(
                "no Platform resource in namespace {} on {}: nothing to write into",
                model.ns(),
                model.cluster().context
            ));
            Err(Outcome::changed())
        }
    }
}

fn confirm_install(
    model: &mut Model,
    target: String,
    required: Vec<String>,
    optional: Vec<String>,
) -> Outcome {
    let platform = match write_target(model) {
        Ok(p) => p,
        Err(o) => return o,
    };
    // What the dialog showed as "will be installed", then the ticked optional components with
    // their own requirements.
    let mut names = required;
    for opt in &optional {
        for r in model.requirements(opt) {
            if !model.cluster().components.contains_key(&r) && !names.contains(&r) {
                names.push(r);
            }
        }
        if !names.contains(opt) {
            names.push(opt.clone());
        }
    }
    names.push(target.clone());
    let components: Vec<(String, String)> = names
        .iter()
        .map(|n| {
            let v = model
                .entry(n)
                .map(|e| e.version.clone())
                .unwrap_or_default();
            (n.clone(), v)
        })
        .collect();
    let cluster = model.active;
    let c = model.cluster_mut();
    c.pending.extend(names.iter().cloned());
    model.writes_in_flight += 1;
    model.status = Some(format!("installing {}…", names.join(", ")));
    model.components.selected = Some(target);
    Outcome::effect(Effect::Install {
        cluster,
        platform,
        components,
    })
}

/// Parse "YYYY-MM-DD HH:MM" (UTC) into RFC 3339.
/// The Platform's next maintenance window, as the manager will compute it (the one domain
/// function), or why "next window" cannot be chosen.
fn next_window_text(platform: Option<&PlatformView>) -> Result<String, String> {
    match platform.and_then(|p| p.window.as_ref()) {
        None => Err("the Platform has no maintenance window (spec.maintenanceWindow)".into()),
        Some(Err(e)) => Err(format!("the Platform's maintenance window is invalid: {e}")),
        Some(Ok(w)) => crate::domain::window::next_window(w, jiff::Timestamp::now())
            .map(|o| o.describe())
            .map_err(|e| format!("the Platform's maintenance window is invalid: {e}")),
    }
}

/// A scheduled time: `YYYY-MM-DD HH:MM` in UTC, later than `now`.
pub fn parse_future(s: &str, now: jiff::Timestamp) -> Result<String, String> {
    let at = parse_when(s)?;
    let ts: jiff::Timestamp = at.parse().map_err(|e| format!("time {s:?}: {e}"))?;
    if ts <= now {
        return Err(format!(
            "{} UTC is in the past (now {} UTC): give a later time",
            s.trim(),
            now.strftime("%Y-%m-%d %H:%M")
        ));
    }
    Ok(at)
}

pub fn parse_when(s: &str) -> Result<String, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let dt = time::PrimitiveDateTime::parse(s.trim(), &fmt).map_err(|_| {
        format!("time {s:?}: expected YYYY-MM-DD HH:MM in UTC, e.g. 2026-12-01 02:00")
    })?;
    dt.assume_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("time {s:?}: {e}"))
}
