//! The Component controller: renders a Component's delivery objects, watches their `Ready`
//! condition, runs upgrades (now or scheduled) with a timeout and automatic rollback to the last
//! good version, and handles uninstall through the finalizer (refused while dependents remain).

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, OwnerReference, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::delivery::{self, Readiness, RenderInput};
use super::{Context, ManagerError, schedule};
use crate::crd::consts::{self, condition};
use crate::crd::{
    Alert, AlertSeverity, Component, ComponentPhase, ComponentSpec, ComponentStatus,
    DeliveryBackend, Endpoint, Health, UpgradeRecord, UpgradeState,
};
use crate::domain::uninstall::{Owner, Verdict, deletion_confirmed, deletion_verdict};
use crate::domain::upgrade;
use crate::domain::window::{
    Refusal, Timing, When, Window, WindowError, confirms, major_jump, upgrade_timing,
};

/// How long an install or upgrade may take when the Component does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// How often to look at a rollout in progress (the watch on the delivery object usually wakes us
/// earlier).
const PROGRESS_REQUEUE: Duration = Duration::from_secs(5);

/// The current time, truncated to whole seconds as the API stores it, so values written and read
/// back compare equal.
pub fn now() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// What the decision needs to know besides the Component itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observation {
    /// Readiness of the primary delivery object; `None` when it does not exist.
    pub readiness: Option<Readiness>,
    pub now: Timestamp,
    /// The Platform's maintenance window: `None` without one, `Some(Err)` when it does not
    /// validate (then no upgrade runs).
    pub window: Option<Result<Window, WindowError>>,
    /// Dependencies that are not healthy yet.
    pub waiting_for: Vec<String>,
    /// Whether the delivery objects order the install after the dependencies themselves (a Flux
    /// HelmRelease's `dependsOn`); otherwise (Crossplane) nothing is rendered until they are
    /// healthy.
    pub ordered_by_delivery: bool,
    /// Newer catalog versions than the installed one, oldest first.
    pub available_upgrades: Vec<String>,
    /// Whether the catalog flags the wanted version as a major upgrade (beyond semver).
    pub major_flagged: bool,
    /// Endpoints rendered from the catalog's templates and the Platform's domain.
    pub endpoints: Vec<Endpoint>,
    /// Why no delivery object can be written: its kind is not served (CRDs missing).
    pub delivery_missing: Option<String>,
    pub timeout: Duration,
}

/// A Kubernetes Event to publish: type, reason, note.
pub type Note = (EventType, &'static str, String);

/// What to do about a Component.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Version to render into the delivery objects; `None` renders nothing yet.
    pub render: Option<String>,
    /// The status to report (without `lastReconciled`).
    pub status: ComponentStatus,
    /// Kubernetes Event to publish for a transition.
    pub event: Option<Note>,
    /// Events acknowledging operator actions (retry, reconcile now, suspend, refusals).
    pub notes: Vec<Note>,
    pub requeue: Duration,
}

/// How long a Component with nothing in flight waits before it is looked at again.
const IDLE: Duration = Duration::from_secs(3600);

fn alert(
    name: &str,
    severity: AlertSeverity,
    reason: &str,
    message: String,
    now: Timestamp,
) -> Alert {
    Alert {
        component: Some(name.to_string()),
        severity,
        reason: reason.to_string(),
        message,
        since: Time(now),
    }
}

fn push_alert(status: &mut ComponentStatus, new: Alert) {
    status.alerts.retain(|a| a.reason != new.reason);
    status.alerts.push(new);
}

/// Raise an alert and return the Warning Event that goes with it.
fn raise(
    st: &mut ComponentStatus,
    name: &str,
    severity: AlertSeverity,
    reason: &'static str,
    text: String,
    now: Timestamp,
) -> Note {
    push_alert(st, alert(name, severity, reason, text.clone(), now));
    (EventType::Warning, reason, text)
}

/// Decide the next step for `name` from its spec, its last status and what is observed. Pure:
/// the same inputs give the same decision, and `now` only enters values at transitions, so a
/// converged Component decides "nothing to change".
pub fn decide(
    name: &str,
    spec: &ComponentSpec,
    generation: Option<i64>,
    old: &ComponentStatus,
    obs: &Observation,
) -> Decision {
    let mut st = old.clone();
    st.last_reconciled = None;
    st.observed_generation = generation;
    st.available_upgrades = obs.available_upgrades.clone();
    st.endpoints = obs.endpoints.clone();
    let mut notes = operator_requests(name, spec, &mut st);

    if let Some(why) = &obs.delivery_missing {
        return delivery_missing(spec, st, why, notes);
    }
    let Some(installed) = st.version.clone() else {
        return first_install(spec, st, obs, notes);
    };
    if let Some(note) = retry(name, spec, &mut st, &installed) {
        notes.push(note);
    }
    let wanted = spec.version.clone();
    let mut requeue = IDLE;
    let mut refusal = None;
    if installed != wanted {
        match version_change(name, spec, &mut st, &installed, obs) {
            Change::Start(upgrade) => {
                return finish(spec, st, Some(wanted), upgrade, notes, PROGRESS_REQUEUE);
            }
            Change::Hold { requeue: r } => requeue = r,
            Change::Refused(r) => refusal = Some(r),
            Change::None => {}
        }
    } else if st
        .upgrade
        .as_ref()
        .is_some_and(|u| u.state == UpgradeState::Scheduled)
    {
        // The operator took the scheduled version back (cancelled): nothing is pending any more.
        st.upgrade = None;
    }
    if let Some(note) = record_refusal(&mut st, refusal.as_ref(), generation) {
        notes.push(note);
    }

    match observed_readiness(&st, obs) {
        None | Some(Readiness::Pending) => {
            requeue = requeue.min(in_flight_requeue(&st));
        }
        Some(Readiness::Progressing { reason, message }) => {
            note_progress(&mut st, &reason, &message, obs);
            requeue = requeue.min(in_flight_requeue(&st));
        }
        Some(Readiness::Ready { message, .. }) => {
            let event = became_ready(name, &mut st, &installed, &message, obs.now);
            return finish(spec, st, Some(installed), event, notes, requeue);
        }
        Some(Readiness::Failed { reason, message }) => {
            let why = if message.is_empty() {
                reason.clone()
            } else {
                format!("{reason}: {message}")
            };
            st.message = Some(why.clone());
            return match rollback_target(&st, &installed) {
                Some(good) if st.phase == Some(ComponentPhase::Upgrading) => {
                    let event = roll_back(name, &mut st, &installed, &good, &why, obs.now);
                    finish(spec, st, Some(good), Some(event), notes, PROGRESS_REQUEUE)
                }
                _ => {
                    let event = failed(name, &mut st, &installed, &why, obs.now);
                    finish(spec, st, Some(installed), event, notes, requeue)
                }
            };
        }
    }
    finish(spec, st, Some(installed), None, notes, requeue)
}

/// Acknowledge "reconcile now" and suspend/resume requests (each once) with an Event. The
/// delivery objects carry them: see [`render_input`].
fn operator_requests(name: &str, spec: &ComponentSpec, st: &mut ComponentStatus) -> Vec<Note> {
    let mut notes = Vec::new();
    if let Some(token) = &spec.reconcile_requested_at
        && st.handled_reconcile_at.as_ref() != Some(token)
    {
        st.handled_reconcile_at = Some(token.clone());
        notes.push((
            EventType::Normal,
            "ReconcileRequested",
            format!("asked the delivery controller to reconcile {name} now ({token})"),
        ));
    }
    let was_suspended = st
        .conditions
        .iter()
        .any(|c| c.type_ == condition::SUSPENDED && c.status == "True");
    if spec.suspend != was_suspended {
        notes.push(if spec.suspend {
            (
                EventType::Normal,
                "Suspended",
                format!("{name} is suspended: its release is not reconciled until resumed"),
            )
        } else {
            (
                EventType::Normal,
                "Resumed",
                format!("{name} is resumed: its release is reconciled again"),
            )
        });
    }
    notes
}

/// The delivery kinds are not served: render nothing, and say why on the Component.
fn delivery_missing(
    spec: &ComponentSpec,
    mut st: ComponentStatus,
    why: &str,
    notes: Vec<Note>,
) -> Decision {
    st.health.get_or_insert(Health::Unknown);
    st.message = Some(why.to_string());
    let mut d = finish(spec, st, None, None, notes, PROGRESS_REQUEUE * 6);
    let generation = d.status.observed_generation;
    set_condition(
        &mut d.status.conditions,
        cond(
            condition::READY,
            false,
            "DeliveryCRDsMissing",
            why.to_string(),
            generation,
        ),
    );
    d
}

/// First install: wait for dependencies the delivery backend does not order itself, then render
/// the wanted version.
fn first_install(
    spec: &ComponentSpec,
    mut st: ComponentStatus,
    obs: &Observation,
    notes: Vec<Note>,
) -> Decision {
    st.message = waiting_message(&obs.waiting_for);
    if !obs.waiting_for.is_empty() && !obs.ordered_by_delivery {
        st.phase = Some(ComponentPhase::Pending);
        st.health = Some(Health::Unknown);
        return finish(spec, st, None, None, notes, PROGRESS_REQUEUE * 2);
    }
    st.version = Some(spec.version.clone());
    st.phase = Some(ComponentPhase::Installing);
    st.health = Some(Health::Installing);
    finish(
        spec,
        st,
        Some(spec.version.clone()),
        None,
        notes,
        PROGRESS_REQUEUE,
    )
}

/// A retry the operator asked for (a new `spec.retry` value): a failed install is tried again, a
/// rolled-back or failed upgrade may run again; anything else is refused. Each value is acted
/// on once.
fn retry(
    name: &str,
    spec: &ComponentSpec,
    st: &mut ComponentStatus,
    installed: &str,
) -> Option<Note> {
    let token = spec.retry.as_ref()?;
    if st.handled_retry.as_ref() == Some(token) {
        return None;
    }
    st.handled_retry = Some(token.clone());
    let failed_upgrade = st.upgrade.as_ref().is_some_and(|u| {
        u.to == spec.version && matches!(u.state, UpgradeState::RolledBack | UpgradeState::Failed)
    });
    if failed_upgrade && st.phase != Some(ComponentPhase::RollingBack) {
        let to = spec.version.clone();
        st.upgrade = None;
        if st.phase == Some(ComponentPhase::Failed) {
            st.phase = Some(ComponentPhase::Running);
        }
        return Some((
            EventType::Normal,
            "RetryRequested",
            format!("retrying the upgrade of {name} from {installed} to {to}"),
        ));
    }
    if st.phase == Some(ComponentPhase::Failed) && st.last_good_version.is_none() {
        st.phase = Some(ComponentPhase::Installing);
        st.health = Some(Health::Installing);
        st.alerts.retain(|a| a.reason != "InstallFailed");
        // Readiness is Pending until the delivery controller handled the new request.
        st.handled_reconcile_at = Some(token.clone());
        return Some((
            EventType::Normal,
            "RetryRequested",
            format!("retrying the install of {name} {installed}"),
        ));
    }
    let phase = st.phase.unwrap_or_default().as_str();
    Some((
        EventType::Warning,
        "RetryRefused",
        format!("retry of {name} refused: it is {phase}, not failed; nothing to retry"),
    ))
}

/// What a wanted version different from the installed one leads to.
enum Change {
    /// Start the upgrade now (its Event).
    Start(Option<Note>),
    /// Scheduled: look again after this long.
    Hold { requeue: Duration },
    /// Refused: nothing runs.
    Refused(Refusal),
    /// Nothing to start (in flight, or the same version already failed).
    None,
}

fn version_change(
    name: &str,
    spec: &ComponentSpec,
    st: &mut ComponentStatus,
    installed: &str,
    obs: &Observation,
) -> Change {
    let wanted = spec.version.as_str();
    let in_first_install =
        st.phase == Some(ComponentPhase::Installing) && st.last_good_version.is_none();
    let already_failed_to = st.upgrade.as_ref().is_some_and(|u| {
        u.to == wanted && matches!(u.state, UpgradeState::RolledBack | UpgradeState::Failed)
    });
    let busy = matches!(
        st.phase,
        Some(ComponentPhase::Upgrading | ComponentPhase::RollingBack)
    );
    if already_failed_to || busy {
        return Change::None;
    }
    if let Some(refusal) = major_refusal(spec, installed, obs.major_flagged) {
        clear_scheduled(st);
        return Change::Refused(refusal);
    }
    if in_first_install {
        // The wanted version changed before the first install finished. Switching the install
        // in flight would leave nothing to roll back to if the new version fails; instead the
        // first install finishes and the change then runs as an upgrade (at its time, inside
        // the maintenance window), with its automatic rollback.
        let note = format!("waits for the first install of {installed} to finish");
        schedule_upgrade(st, installed, wanted, spec, obs.now, Some(note));
        return Change::Hold {
            requeue: PROGRESS_REQUEUE,
        };
    }
    match timing(spec, st, installed, obs) {
        Timing::Due => Change::Start(start_upgrade(name, st, installed, wanted, spec, obs.now)),
        Timing::Wait { until } => {
            schedule_upgrade(st, installed, wanted, spec, obs.now, None);
            Change::Hold {
                requeue: schedule::wait_for(Some(until), obs.now),
            }
        }
        Timing::Refused(refusal) => {
            clear_scheduled(st);
            Change::Refused(refusal)
        }
    }
}

/// When the Component asks the upgrade to run: now, at `upgradeAt`, or in the next window.
pub fn when_of(spec: &ComponentSpec) -> When {
    if spec.upgrade.as_ref().is_some_and(|u| u.next_window) {
        When::NextWindow
    } else {
        match &spec.upgrade_at {
            Some(at) => When::At(at.0),
            None => When::Now,
        }
    }
}

/// Whether the version change may run now, per its schedule and the Platform's window.
fn timing(
    spec: &ComponentSpec,
    st: &ComponentStatus,
    installed: &str,
    obs: &Observation,
) -> Timing {
    let waiting = st.upgrade.as_ref().is_some_and(|u| {
        u.state == UpgradeState::Scheduled
            && u.from == installed
            && u.to == spec.version
            && u.scheduled_for == spec.upgrade_at
    });
    let window = obs.window.as_ref().map(|w| w.as_ref());
    upgrade_timing(when_of(spec), window, obs.now, waiting)
}

/// A major upgrade without the second confirmation naming its jump is refused.
fn major_refusal(spec: &ComponentSpec, installed: &str, flagged: bool) -> Option<Refusal> {
    let (from, to) = (
        upgrade::parse(installed).ok()?,
        upgrade::parse(&spec.version).ok()?,
    );
    let jump = major_jump(&from, &to, flagged)?;
    let confirmation = spec
        .upgrade
        .as_ref()
        .and_then(|u| u.confirm_major.as_deref());
    (!confirms(&jump, confirmation)).then(|| Refusal::MajorNotConfirmed {
        from: installed.to_string(),
        to: spec.version.clone(),
        jump,
    })
}

fn clear_scheduled(st: &mut ComponentStatus) {
    if st
        .upgrade
        .as_ref()
        .is_some_and(|u| u.state == UpgradeState::Scheduled)
    {
        st.upgrade = None;
    }
}

/// Set (or clear) the `UpgradeRefused` condition; the Warning Event goes out only when the
/// refusal is new, so a refused Component does not repeat it on every reconcile.
fn record_refusal(
    st: &mut ComponentStatus,
    refusal: Option<&Refusal>,
    generation: Option<i64>,
) -> Option<Note> {
    let Some(refusal) = refusal else {
        st.conditions
            .retain(|c| c.type_ != condition::UPGRADE_REFUSED);
        return None;
    };
    let message = refusal.to_string();
    let known = st.conditions.iter().any(|c| {
        c.type_ == condition::UPGRADE_REFUSED && c.status == "True" && c.message == message
    });
    set_condition(
        &mut st.conditions,
        cond(
            condition::UPGRADE_REFUSED,
            true,
            refusal.reason(),
            message.clone(),
            generation,
        ),
    );
    (!known).then_some((EventType::Warning, "UpgradeRefused", message))
}

fn start_upgrade(
    name: &str,
    st: &mut ComponentStatus,
    installed: &str,
    wanted: &str,
    spec: &ComponentSpec,
    now: Timestamp,
) -> Option<Note> {
    st.upgrade = Some(UpgradeRecord {
        from: installed.to_string(),
        to: wanted.to_string(),
        started_at: Time(now),
        state: UpgradeState::InProgress,
        scheduled_for: spec.upgrade_at.clone(),
        finished_at: None,
        message: None,
    });
    st.version = Some(wanted.to_string());
    st.phase = Some(ComponentPhase::Upgrading);
    st.health = Some(Health::Installing);
    st.message = None;
    st.conditions
        .retain(|c| c.type_ != condition::UPGRADE_REFUSED);
    Some((
        EventType::Normal,
        "UpgradeStarted",
        format!("upgrading {name} from {installed} to {wanted}"),
    ))
}

/// The readiness that counts: the delivery object's, or a timeout when an upgrade took too long.
fn observed_readiness(st: &ComponentStatus, obs: &Observation) -> Option<Readiness> {
    let timed_out = st.phase == Some(ComponentPhase::Upgrading)
        && st.upgrade.as_ref().is_some_and(|u| {
            obs.now.duration_since(u.started_at.0).as_secs()
                >= i64::try_from(obs.timeout.as_secs()).unwrap_or(i64::MAX)
        });
    match &obs.readiness {
        Some(Readiness::Failed { .. }) => obs.readiness.clone(),
        _ if timed_out => Some(Readiness::Failed {
            reason: "UpgradeTimeout".into(),
            message: format!("not ready after {}s", obs.timeout.as_secs()),
        }),
        _ => obs.readiness.clone(),
    }
}

fn in_flight_requeue(st: &ComponentStatus) -> Duration {
    match st.phase {
        Some(
            ComponentPhase::Installing | ComponentPhase::Upgrading | ComponentPhase::RollingBack,
        ) => PROGRESS_REQUEUE,
        _ => IDLE,
    }
}

/// Still working: keep the delivery controller's message.
fn note_progress(st: &mut ComponentStatus, reason: &str, message: &str, obs: &Observation) {
    // Waiting for dependencies is said the same way whoever reports it, so Flux confirming what
    // the manager already wrote is not another write.
    let waiting = (reason == "DependencyNotReady")
        .then(|| waiting_message(&obs.waiting_for))
        .flatten();
    if let Some(text) = waiting.or_else(|| (!message.is_empty()).then(|| message.to_string())) {
        st.message = Some(text);
    }
}

/// Ready at `installed`: healthy, and `installed` becomes the last good version.
fn became_ready(
    name: &str,
    st: &mut ComponentStatus,
    installed: &str,
    message: &str,
    now: Timestamp,
) -> Option<Note> {
    let was = st.phase;
    st.health = Some(Health::Healthy);
    st.phase = Some(ComponentPhase::Running);
    st.last_good_version = Some(installed.to_string());
    st.message = (!message.is_empty()).then(|| message.to_string());
    match was {
        Some(ComponentPhase::Upgrading) => {
            if let Some(u) = st.upgrade.as_mut() {
                u.state = UpgradeState::Succeeded;
                u.finished_at = Some(Time(now));
            }
            st.alerts.clear();
            Some((
                EventType::Normal,
                "UpgradeSucceeded",
                format!("{name} is ready at {installed}"),
            ))
        }
        Some(ComponentPhase::Installing) | Some(ComponentPhase::Pending) | None => {
            // No Event per first install: the status says it, Flux records its own install
            // Event on the HelmRelease, and the Platform publishes one Event when all its
            // components are healthy (a thousand Events on a cold start would be a sixth of the
            // manager's requests and bury the ones that matter).
            st.alerts.clear();
            None
        }
        Some(ComponentPhase::RollingBack) => Some((
            EventType::Normal,
            "RollbackSucceeded",
            format!("{name} is ready again at {installed} after the rollback"),
        )),
        Some(ComponentPhase::Failed) => {
            st.alerts
                .retain(|a| a.reason != "InstallFailed" && a.reason != "Unhealthy");
            None
        }
        _ => None,
    }
}

/// The version a failed upgrade goes back to: the last version that was Ready, when it is not
/// the one that failed.
pub fn rollback_target(st: &ComponentStatus, installed: &str) -> Option<String> {
    st.last_good_version.clone().filter(|g| g != installed)
}

/// A failed upgrade with a good version to return to: render it again and alert.
fn roll_back(
    name: &str,
    st: &mut ComponentStatus,
    installed: &str,
    good: &str,
    why: &str,
    now: Timestamp,
) -> Note {
    let from = st
        .upgrade
        .as_ref()
        .map_or_else(|| good.to_string(), |u| u.from.clone());
    if let Some(u) = st.upgrade.as_mut() {
        u.state = UpgradeState::RolledBack;
        u.finished_at = Some(Time(now));
        u.message = Some(why.to_string());
    }
    st.version = Some(good.to_string());
    st.phase = Some(ComponentPhase::RollingBack);
    st.health = Some(Health::Degraded);
    let text = format!(
        "upgrade of {name} from {from} to {installed} failed ({why}); rolled back to {good}"
    );
    raise(
        st,
        name,
        AlertSeverity::Warning,
        "UpgradeRolledBack",
        text,
        now,
    )
}

/// Failed with nothing to roll back to: what it means depends on what was going on.
fn failed(
    name: &str,
    st: &mut ComponentStatus,
    installed: &str,
    why: &str,
    now: Timestamp,
) -> Option<Note> {
    let (severity, reason, text) = match st.phase {
        Some(ComponentPhase::Upgrading | ComponentPhase::RollingBack) => {
            if let Some(u) = st.upgrade.as_mut() {
                u.state = UpgradeState::Failed;
                u.finished_at.get_or_insert(Time(now));
                u.message = Some(why.to_string());
            }
            st.phase = Some(ComponentPhase::Failed);
            st.health = Some(Health::Failed);
            let text = format!("{name} failed at {installed} and could not be rolled back ({why})");
            (AlertSeverity::Critical, "RollbackFailed", text)
        }
        Some(ComponentPhase::Installing) | Some(ComponentPhase::Pending) | None => {
            st.phase = Some(ComponentPhase::Failed);
            st.health = Some(Health::Failed);
            let text = format!("install of {name} {installed} failed ({why})");
            (AlertSeverity::Critical, "InstallFailed", text)
        }
        Some(ComponentPhase::Running) => {
            // Was healthy, now not: degraded, not failed; Flux keeps retrying.
            st.health = Some(Health::Degraded);
            let text = format!("{name} {installed} is not ready ({why})");
            (AlertSeverity::Warning, "Unhealthy", text)
        }
        Some(ComponentPhase::Failed | ComponentPhase::Deleting) => return None,
    };
    Some(raise(st, name, severity, reason, text, now))
}

/// Record an upgrade from `installed` to `wanted` as scheduled. An existing record of the same
/// upgrade is kept (its start time stays, so a waiting Component decides the same each time);
/// its time and note follow the spec (rescheduling moves it).
fn schedule_upgrade(
    st: &mut ComponentStatus,
    installed: &str,
    wanted: &str,
    spec: &ComponentSpec,
    now: Timestamp,
    note: Option<String>,
) {
    let same = |u: &UpgradeRecord| {
        u.to == wanted && u.from == installed && u.state == UpgradeState::Scheduled
    };
    match st.upgrade.as_mut().filter(|u| same(u)) {
        Some(u) => {
            u.scheduled_for = spec.upgrade_at.clone();
            u.message = note;
        }
        None => {
            st.upgrade = Some(UpgradeRecord {
                from: installed.to_string(),
                to: wanted.to_string(),
                started_at: Time(now),
                state: UpgradeState::Scheduled,
                scheduled_for: spec.upgrade_at.clone(),
                finished_at: None,
                message: note,
            });
        }
    }
}

fn waiting_message(waiting_for: &[String]) -> Option<String> {
    (!waiting_for.is_empty())
        .then(|| format!("waiting for dependencies: {}", waiting_for.join(", ")))
}

fn finish(
    spec: &ComponentSpec,
    mut st: ComponentStatus,
    render: Option<String>,
    event: Option<Note>,
    notes: Vec<Note>,
    requeue: Duration,
) -> Decision {
    set_conditions(&mut st, spec);
    Decision {
        render,
        status: st,
        event,
        notes,
        requeue,
    }
}

/// Set a condition, keeping its transition time when its status did not change.
pub fn set_condition(conditions: &mut Vec<Condition>, new: Condition) {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(c) => {
            let keep_time = c.status == new.status;
            let time = if keep_time {
                c.last_transition_time.clone()
            } else {
                new.last_transition_time.clone()
            };
            *c = Condition {
                last_transition_time: time,
                ..new
            };
        }
        None => conditions.push(new),
    }
}

/// A condition of `type_`, stamped now.
pub(super) fn cond(
    type_: &str,
    status: bool,
    reason: &str,
    message: String,
    generation: Option<i64>,
) -> Condition {
    Condition {
        type_: type_.to_string(),
        status: if status { "True" } else { "False" }.to_string(),
        reason: reason.to_string(),
        message,
        observed_generation: generation,
        last_transition_time: Time(now()),
    }
}

fn set_conditions(st: &mut ComponentStatus, spec: &ComponentSpec) {
    let generation = st.observed_generation;
    let phase = st.phase.unwrap_or_default();
    // Ready says what health says: a Component running healthy at its last good version after
    // a rollback (or holding a scheduled upgrade) is Ready, so `kubectl wait` agrees with it.
    let healthy = st.health == Some(Health::Healthy);
    let ready_msg = st.message.clone().unwrap_or_else(|| match &st.version {
        Some(v) => format!("{} at {v}", phase.as_str()),
        None => phase.as_str().to_string(),
    });
    let mut conditions = std::mem::take(&mut st.conditions);
    set_condition(
        &mut conditions,
        cond(
            condition::READY,
            healthy,
            phase.as_str(),
            ready_msg,
            generation,
        ),
    );
    if let Some(u) = &st.upgrade {
        let active = matches!(u.state, UpgradeState::Scheduled | UpgradeState::InProgress);
        let msg = format!("{} → {}: {}", u.from, u.to, u.state.as_str());
        set_condition(
            &mut conditions,
            cond(
                condition::UPGRADING,
                active,
                u.state.as_str(),
                msg,
                generation,
            ),
        );
    }
    match st.alerts.last() {
        Some(a) => set_condition(
            &mut conditions,
            cond(
                condition::ALERT,
                true,
                &a.reason,
                a.message.clone(),
                generation,
            ),
        ),
        None => {
            if conditions.iter().any(|c| c.type_ == condition::ALERT) {
                set_condition(
                    &mut conditions,
                    cond(
                        condition::ALERT,
                        false,
                        "NoAlerts",
                        String::new(),
                        generation,
                    ),
                );
            }
        }
    }
    if spec.suspend {
        set_condition(
            &mut conditions,
            cond(
                condition::SUSPENDED,
                true,
                "SuspendedBySpec",
                "spec.suspend is true: the release is not reconciled".to_string(),
                generation,
            ),
        );
    } else {
        conditions.retain(|c| c.type_ != condition::SUSPENDED);
    }
    // Deletion sets UninstallBlocked itself; any other reconcile means it is no longer blocked.
    conditions.retain(|c| c.type_ != condition::UNINSTALL_BLOCKED);
    st.conditions = conditions;
}

/// Status with the fields that change on every write removed, for "did anything change?".
pub fn comparable(status: &ComponentStatus) -> ComponentStatus {
    ComponentStatus {
        last_reconciled: None,
        ..status.clone()
    }
}

/// Reconcile one Component (entry point for the controller).
pub async fn reconcile(c: Arc<Component>, ctx: Arc<Context>) -> Result<Action, ManagerError> {
    let started = Instant::now();
    let result = reconcile_one(c, &ctx).await;
    ctx.metrics
        .observe_reconcile("component", started.elapsed(), result.is_err());
    result
}

async fn reconcile_one(c: Arc<Component>, ctx: &Context) -> Result<Action, ManagerError> {
    let ours = c.finalizers().iter().any(|f| f == consts::FINALIZER);
    if c.metadata.deletion_timestamp.is_some() {
        if !ours {
            return Ok(Action::await_change());
        }
        // Refused or unfinished uninstalls keep the finalizer; it goes once everything is gone.
        return match cleanup(c.clone(), ctx).await? {
            Some(wait) => Ok(wait),
            None => {
                ctx.remove_finalizer(&c).await?;
                if let Some(platform) = c.labels().get(consts::LABEL_PLATFORM) {
                    let _ = ctx
                        .platform_wake
                        .send(ObjectRef::new(platform).within(&c.namespace().unwrap_or_default()));
                }
                Ok(Action::await_change())
            }
        };
    }
    // Components the Platform controller creates carry the finalizer already; others (written
    // by hand) get it here, in the same pass that installs them.
    let c = if ours {
        c
    } else {
        ctx.add_finalizer(&c).await?
    };
    apply(c, ctx).await
}

fn backend_of(c: &Component, ctx: &Context) -> DeliveryBackend {
    c.spec
        .delivery
        .or_else(|| ctx.platform_of(c).and_then(|p| p.spec.delivery))
        .unwrap_or_default()
}

async fn apply(c: Arc<Component>, ctx: &Context) -> Result<Action, ManagerError> {
    let name = c.name_any();
    let ns = c.namespace().unwrap_or_else(|| ctx.namespace.clone());
    let platform = ctx.platform_of(&c);
    let catalog = ctx.catalog_for(platform.as_deref()).await?;
    let backend = backend_of(&c, ctx);
    let old = c.status.clone().unwrap_or_default();
    let now = now();

    let delivery_missing = ctx.delivery_missing(backend);
    let primary = delivery::primary_of(backend, &ns, &name);
    let readiness = match &delivery_missing {
        Some(_) => None,
        None => ctx
            .get_dynamic(&primary, &ns)
            .await?
            .as_ref()
            .map(delivery::readiness),
    };

    let waiting_for = c
        .spec
        .dependencies
        .iter()
        .filter(|d| {
            ctx.component(&ns, d)
                .and_then(|dep| dep.status.as_ref().and_then(|s| s.health))
                != Some(Health::Healthy)
        })
        .cloned()
        .collect();
    let installed = old
        .version
        .clone()
        .unwrap_or_else(|| c.spec.version.clone());
    let entry = catalog.get(&name);
    let installed_v = upgrade::parse(&installed).ok();
    let wanted_v = upgrade::parse(&c.spec.version).ok();
    let available_upgrades = entry
        .map(|spec| {
            spec.versions
                .iter()
                .filter(|v| installed_v.as_ref().is_some_and(|i| &v.version > i))
                .map(|v| crate::domain::catalog::display_version(&v.version))
                .collect()
        })
        .unwrap_or_default();
    // A version on the way from the installed to the wanted one that the catalog flags as major
    // makes the whole jump major.
    let major_flagged = match (entry, &installed_v, &wanted_v) {
        (Some(spec), Some(i), Some(w)) => crate::domain::window::flagged_between(
            spec.versions.iter().filter(|v| v.major).map(|v| &v.version),
            i,
            w,
        ),
        _ => false,
    };
    let endpoints = match (entry, platform.as_deref()) {
        (Some(spec), Some(p)) => endpoints_of(spec, p),
        _ => Vec::new(),
    };
    let window = schedule::checked_window(
        platform
            .as_ref()
            .and_then(|p| p.spec.maintenance_window.as_ref()),
    );
    let timeout = c
        .spec
        .upgrade_timeout_seconds
        .map(|s| Duration::from_secs(u64::from(s)))
        .unwrap_or(ctx.settings.default_timeout);
    let obs = Observation {
        readiness,
        now,
        window,
        waiting_for,
        ordered_by_delivery: backend == DeliveryBackend::Flux,
        available_upgrades,
        major_flagged,
        endpoints,
        delivery_missing,
        timeout,
    };
    let decision = decide(&name, &c.spec, c.metadata.generation, &old, &obs);

    if let Some(version) = &decision.render {
        let mut input = render_input(&c, &ns, version, catalog.as_ref(), platform.as_deref());
        input.requested_at = decision.status.handled_reconcile_at.clone();
        input.forced_at = decision.status.handled_retry.clone();
        // The objects go out together (Flux and Crossplane wait for a missing source by
        // themselves); the status follows once all of them are written.
        let applies = delivery::render(backend, &input)
            .into_iter()
            .map(|rendered| ctx.apply_dynamic(rendered));
        futures::future::try_join_all(applies).await?;
    }

    if comparable(&decision.status) != comparable(&old) {
        ctx.write_component_status(&c, decision.status.clone())
            .await?;
    }
    for (type_, reason, note) in decision.event.into_iter().chain(decision.notes) {
        ctx.publish(&*c, type_, reason, note).await;
    }
    ctx.forget_backoff(&format!("component/{ns}/{name}"));
    Ok(Action::requeue(decision.requeue))
}

/// The component's endpoints for a Platform: the catalog's templates filled with the Platform's
/// domain and its first region's location.
pub fn endpoints_of(
    spec: &crate::domain::catalog::ComponentSpec,
    platform: &crate::crd::Platform,
) -> Vec<Endpoint> {
    let domain = &platform.spec.organization.domain;
    let location = platform
        .spec
        .regions
        .first()
        .map_or("", |r| r.location.as_str());
    spec.endpoints
        .iter()
        .map(|e| Endpoint {
            name: e.name.clone(),
            url: e.render(domain, location),
        })
        .collect()
}

/// The chart version to render for an operator-facing version: the catalog's wrapper chart
/// version when the catalog knows it, else the version as written (without a leading `v`).
pub fn chart_version(
    catalog: &crate::domain::catalog::Catalog,
    name: &str,
    version: &str,
) -> String {
    catalog
        .get(name)
        .zip(crate::domain::upgrade::parse(version).ok())
        .and_then(|(spec, v)| spec.version(&v).map(|e| e.chart_version.to_string()))
        .unwrap_or_else(|| version.trim_start_matches('v').to_string())
}

fn render_input(
    c: &Component,
    ns: &str,
    version: &str,
    catalog: &crate::domain::catalog::Catalog,
    platform: Option<&crate::crd::Platform>,
) -> RenderInput {
    let name = c.name_any();
    let entry = catalog.get(&name);
    let repository = c
        .spec
        .repository
        .clone()
        .or_else(|| platform.and_then(|p| p.spec.chart_repository.clone()))
        .or_else(|| entry.map(|e| e.chart.repository.clone()))
        .unwrap_or_else(|| "oci://ghcr.io/openova-io".to_string());
    let target_namespace = c
        .spec
        .target_namespace
        .clone()
        .or_else(|| entry.map(|e| e.namespace.clone()))
        .unwrap_or_else(|| name.clone());
    let owner = c.controller_owner_ref(&()).map(|mut o: OwnerReference| {
        o.block_owner_deletion = Some(true);
        o
    });
    RenderInput {
        namespace: ns.to_string(),
        name: name.clone(),
        chart: c.spec.chart.clone(),
        chart_version: chart_version(catalog, &name, version),
        repository,
        target_namespace,
        dependencies: c.spec.dependencies.clone(),
        values: c.spec.values.clone(),
        owner,
        suspend: c.spec.suspend,
        requested_at: None,
        forced_at: None,
    }
}

/// A deletion of `c`: uninstalled only when the Platform no longer selects it, nothing
/// installed requires it and the operator confirmed this removal (see
/// [`crate::domain::uninstall::deletion_verdict`]). A Component the Platform still selects keeps
/// its release and is adopted again; a refused deletion keeps the release and never goes
/// through by itself later. Returns when to look again, or `None` once the finalizer may go.
async fn cleanup(c: Arc<Component>, ctx: &Context) -> Result<Option<Action>, ManagerError> {
    let name = c.name_any();
    let ns = c.namespace().unwrap_or_else(|| ctx.namespace.clone());
    let platform = ctx.platform_of(&c);
    let selected = match platform.as_deref() {
        None => false,
        Some(p) => {
            let catalog = ctx.catalog_for(Some(p)).await?;
            // When the Platform's wish list cannot be read, nothing is uninstalled.
            super::platform::wanted_components(p, &catalog, |_| None)
                .map_or(true, |w| w.iter().any(|w| w.name == name))
        }
    };
    let installed = super::platform::installed_of(&ctx.components_in(&ns));
    let dependents = crate::domain::uninstall::dependents(&installed, &name);
    let mut st = c.status.clone().unwrap_or_default();
    let refused_before = st
        .conditions
        .iter()
        .any(|k| k.type_ == condition::UNINSTALL_BLOCKED && k.status == "True");
    let annotated = c
        .annotations()
        .get(consts::ANNOTATION_CONFIRM_UNINSTALL)
        .is_some_and(|v| v == &name);
    let owner = match platform.as_deref() {
        Some(p) => Owner::Platform {
            named_in_removals: super::platform::confirmed_removals(p).contains(&name),
        },
        None => Owner::None,
    };
    let confirmed = deletion_confirmed(owner, refused_before, annotated);
    let backend = backend_of(&c, ctx);
    let how = match platform.as_deref() {
        Some(p) => format!(
            "to uninstall it, remove it from Platform {}'s spec.components and confirm the removal in spec.removals",
            p.name_any()
        ),
        None => format!(
            "to uninstall it, confirm again: kubectl annotate component {name} {}={name}",
            consts::ANNOTATION_CONFIRM_UNINSTALL
        ),
    };
    let old = st.clone();
    st.phase = Some(ComponentPhase::Deleting);
    let (reason, msg) = match deletion_verdict(selected, &dependents, confirmed) {
        Verdict::Uninstall => return uninstall(&c, ctx, backend, st, &old).await,
        Verdict::KeepSelected => {
            ctx.orphan_delivery(backend, &ns, &name).await?;
            let platform = platform
                .as_deref()
                .map(|p| p.name_any())
                .unwrap_or_default();
            ctx.publish(
                &*c,
                EventType::Warning,
                "ReleaseKept",
                format!(
                    "{name} was deleted while Platform {platform} still selects it: its release is kept and the Component is adopted again; {how}"
                ),
            )
            .await;
            return Ok(None);
        }
        Verdict::Refused { dependents } => (
            "DependentsInstalled",
            format!(
                "uninstall of {name} refused: {} still depend on it; its release is kept and this deletion does not go through by itself; uninstall those first, then {how}",
                dependents.join(", ")
            ),
        ),
        Verdict::NotConfirmed => (
            "NotConfirmed",
            format!(
                "{name} is not uninstalled: nothing confirmed this removal; its release is kept; {how}"
            ),
        ),
    };
    set_condition(
        &mut st.conditions,
        cond(
            condition::UNINSTALL_BLOCKED,
            true,
            reason,
            msg.clone(),
            c.metadata.generation,
        ),
    );
    st.message = Some(msg.clone());
    if comparable(&st) != comparable(&old) {
        ctx.write_component_status(&c, st).await?;
        ctx.publish(&*c, EventType::Warning, "UninstallRefused", msg)
            .await;
    }
    // Dependents going away, or the confirmation arriving, wake this Component.
    Ok(Some(Action::requeue(Duration::from_secs(300))))
}

/// Delete the delivery objects and wait until they are gone.
async fn uninstall(
    c: &Component,
    ctx: &Context,
    backend: DeliveryBackend,
    mut st: ComponentStatus,
    old: &ComponentStatus,
) -> Result<Option<Action>, ManagerError> {
    let name = c.name_any();
    let ns = c.namespace().unwrap_or_else(|| ctx.namespace.clone());
    let mut remaining = 0;
    for object in delivery::objects_of(backend, &ns, &name) {
        if ctx.delete_dynamic(&object, &ns).await? {
            remaining += 1;
        }
    }
    if remaining > 0 {
        st.message = Some(format!(
            "removing {name}: waiting for its delivery objects to be deleted"
        ));
        if comparable(&st) != comparable(old) {
            ctx.write_component_status(c, st).await?;
        }
        return Ok(Some(Action::requeue(Duration::from_secs(2))));
    }
    ctx.publish(
        c,
        EventType::Normal,
        "Uninstalled",
        format!("{name} was uninstalled"),
    )
    .await;
    Ok(None)
}

impl Context {
    /// Replace the status of `c`, then wait until the watch shows the write.
    async fn write_component_status(
        &self,
        c: &Component,
        mut status: ComponentStatus,
    ) -> Result<(), ManagerError> {
        let (ns, name) = (c.namespace().unwrap_or_default(), c.name_any());
        status.last_reconciled = Some(Time(now()));
        // The manager is the only writer of a Component's status and always writes all of it:
        // replacing it with one JSON patch costs the API server far less than a server-side
        // apply (no merge against the schema), which matters with a thousand Components.
        let value = serde_json::to_value(&status).map_err(|e| ManagerError::Encode {
            what: format!("the status of Component {ns}/{name}"),
            message: e.to_string(),
        })?;
        let ops = json!([{ "op": "add", "path": "/status", "value": value }]);
        self.patch_component(c, ops, true, "writing the status")
            .await
            .map(drop)
    }

    /// Send a JSON patch to `c` (its status when `status`), then wait until the watch shows the
    /// write, so the next reconcile of `c` decides from what was written. Returns `c` as written.
    async fn patch_component(
        &self,
        c: &Component,
        ops: serde_json::Value,
        status: bool,
        doing: &str,
    ) -> Result<Component, ManagerError> {
        let (ns, name) = (c.namespace().unwrap_or_default(), c.name_any());
        let patch: json_patch::Patch =
            serde_json::from_value(ops).map_err(|e| ManagerError::Encode {
                what: format!("the patch {doing} of Component {ns}/{name}"),
                message: e.to_string(),
            })?;
        let api: Api<Component> = Api::namespaced(self.client.clone(), &ns);
        let params = PatchParams {
            field_manager: Some(consts::FIELD_MANAGER_MANAGER.to_string()),
            ..PatchParams::default()
        };
        let patch = Patch::Json::<()>(patch);
        let sent = if status {
            api.patch_status(&name, &params, &patch).await
        } else {
            api.patch(&name, &params, &patch).await
        };
        let updated = sent.map_err(|source| {
            ManagerError::kube(format!("{doing} of Component {ns}/{name}"), source)
        })?;
        self.metrics.count_write();
        super::caught_up(
            &self.components,
            &ObjectRef::from_obj(c),
            c.metadata.resource_version.as_deref(),
        )
        .await;
        Ok(updated)
    }

    /// Add the manager's finalizer to `c`; returns the Component as written.
    async fn add_finalizer(&self, c: &Component) -> Result<Arc<Component>, ManagerError> {
        let ops = match &c.metadata.finalizers {
            Some(list) if !list.is_empty() => json!([
                { "op": "test", "path": "/metadata/resourceVersion", "value": c.resource_version() },
                { "op": "add", "path": "/metadata/finalizers/-", "value": consts::FINALIZER },
            ]),
            _ => json!([
                { "op": "test", "path": "/metadata/resourceVersion", "value": c.resource_version() },
                { "op": "add", "path": "/metadata/finalizers", "value": [consts::FINALIZER] },
            ]),
        };
        self.patch_component(c, ops, false, "adding the finalizer")
            .await
            .map(Arc::new)
    }

    /// Remove the manager's finalizer from `c` (the object then goes away).
    async fn remove_finalizer(&self, c: &Component) -> Result<(), ManagerError> {
        let Some(at) = c.finalizers().iter().position(|f| f == consts::FINALIZER) else {
            return Ok(());
        };
        let path = format!("/metadata/finalizers/{at}");
        let ops = json!([
            { "op": "test", "path": path, "value": consts::FINALIZER },
            { "op": "remove", "path": path },
        ]);
        match self
            .patch_component(c, ops, false, "removing the finalizer")
            .await
        {
            // Already gone: nothing left to release.
            Err(ManagerError::KubeApi {
                source: kube::Error::Api(e),
                ..
            }) if e.code == 404 => Ok(()),
            other => other.map(drop),
        }
    }

    /// Publish a Kubernetes Event about `obj`. Failing to record an Event never fails the
    /// reconcile: the same facts are in the status.
    pub(crate) async fn publish<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        type_: EventType,
        reason: &str,
        note: String,
    ) {
        if let Err(error) = self
            .events
            .publish(&obj.object_ref(&()), type_, reason, &note)
            .await
        {
            tracing::warn!(%error, reason, "could not record a Kubernetes Event");
        } else {
            self.metrics.count_write();
        }
    }

    fn store_key(object: &delivery::Primary, ns: &str) -> ObjectRef<DynamicObject> {
        let key = ObjectRef::new_with(&object.name, object.resource.clone());
        if object.namespaced {
            key.within(ns)
        } else {
            key
        }
    }

    /// The watched store of a delivery kind, once it has its first full list.
    async fn delivery_store(&self, kind: &str) -> Option<&Store<DynamicObject>> {
        let store = self.delivery.get(kind)?;
        tokio::time::timeout(super::CATCH_UP, store.wait_until_ready())
            .await
            .ok()?
            .ok()?;
        Some(store)
    }

    /// A delivery object as last seen by the watch (read from the API server when its kind is
    /// not watched); `None` when it does not exist.
    pub(crate) async fn get_dynamic(
        &self,
        object: &delivery::Primary,
        ns: &str,
    ) -> Result<Option<DynamicObject>, ManagerError> {
        if let Some(store) = self.delivery_store(&object.resource.kind).await {
            return Ok(store
                .get(&Self::store_key(object, ns))
                .map(|o| (*o).clone()));
        }
        let api = self.dynamic_api(&object.resource, object.namespaced, ns);
        api.get_opt(&object.name).await.map_err(|source| {
            ManagerError::kube(
                format!("reading {} {}", object.resource.kind, object.name),
                source,
            )
        })
    }

    /// Apply a rendered object unless the existing one already matches (no write when nothing
    /// changed); after a write, wait until the watch shows it.
    pub(crate) async fn apply_dynamic(
        &self,
        rendered: delivery::Rendered,
    ) -> Result<(), ManagerError> {
        let object = delivery::Primary {
            resource: rendered.resource.clone(),
            namespaced: rendered.namespaced,
            name: rendered.object.metadata.name.clone().unwrap_or_default(),
        };
        let ns = rendered
            .object
            .metadata
            .namespace
            .clone()
            .unwrap_or_default();
        let existing = self.get_dynamic(&object, &ns).await?;
        if existing
            .as_ref()
            .is_some_and(|e| delivery::up_to_date(&rendered.object, e))
        {
            return Ok(());
        }
        let (kind, name) = (&object.resource.kind, &object.name);
        let api = self.dynamic_api(&object.resource, object.namespaced, &ns);
        api.patch(
            name,
            &PatchParams::apply(consts::FIELD_MANAGER_MANAGER).force(),
            &Patch::Apply(&rendered.object),
        )
        .await
        .map_err(|source| ManagerError::kube(format!("applying {kind} {name}"), source))?;
        self.metrics.count_write();
        if let Some(store) = self.delivery.get(kind) {
            let seen = existing.and_then(|e| e.metadata.resource_version);
            super::caught_up(store, &Self::store_key(&object, &ns), seen.as_deref()).await;
        }
        Ok(())
    }

    /// Take the Component's ownership off its delivery objects, so they outlive it (the
    /// garbage collector deletes owned objects once their owner is gone). Crossplane Releases
    /// are cluster-scoped and never owned.
    async fn orphan_delivery(
        &self,
        backend: DeliveryBackend,
        ns: &str,
        name: &str,
    ) -> Result<(), ManagerError> {
        for object in delivery::objects_of(backend, ns, name) {
            if !object.namespaced {
                continue;
            }
            let owned = self
                .get_dynamic(&object, ns)
                .await?
                .is_some_and(|o| o.metadata.owner_references.is_some_and(|r| !r.is_empty()));
            if !owned {
                continue;
            }
            let api = self.dynamic_api(&object.resource, object.namespaced, ns);
            let patch = json!({ "metadata": { "ownerReferences": null } });
            match api
                .patch(&object.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => self.metrics.count_write(),
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(source) => {
                    return Err(ManagerError::kube(
                        format!(
                            "keeping {} {} (removing its owner)",
                            object.resource.kind, object.name
                        ),
                        source,
                    ));
                }
            }
        }
        Ok(())
    }

    /// Delete a delivery object; returns whether it still exists (deletion pending).
    async fn delete_dynamic(
        &self,
        object: &delivery::Primary,
        ns: &str,
    ) -> Result<bool, ManagerError> {
        let api = self.dynamic_api(&object.resource, object.namespaced, ns);
        let Some(existing) = api.get_opt(&object.name).await.map_err(|source| {
            ManagerError::kube(
                format!("reading {} {}", object.resource.kind, object.name),
                source,
            )
        })?
        else {
            return Ok(false);
        };
        if existing.metadata.deletion_timestamp.is_none() {
            match api.delete(&object.name, &DeleteParams::background()).await {
                Ok(_) => self.metrics.count_write(),
                Err(kube::Error::Api(e)) if e.code == 404 => return Ok(false),
                Err(source) => {
                    return Err(ManagerError::kube(
                        format!("deleting {} {}", object.resource.kind, object.name),
                        source,
                    ));
                }
            }
        }
        // Deleted without finalizers means gone now; otherwise wait for its controller.
        Ok(api.get_opt(&object.name).await.ok().flatten().is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(version: &str) -> ComponentSpec {
        ComponentSpec {
            chart: "bp-grafana".into(),
            version: version.into(),
            category: None,
            dependencies: vec![],
            values: None,
            repository: None,
            target_namespace: None,
            delivery: None,
            upgrade_at: None,
            upgrade_timeout_seconds: None,
            upgrade: None,
            retry: None,
            reconcile_requested_at: None,
            suspend: false,
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn obs(readiness: Option<Readiness>, now: &str) -> Observation {
        Observation {
            readiness,
            now: ts(now),
            waiting_for: vec![],
            ordered_by_delivery: true,
            timeout: Duration::from_secs(300),
            ..Observation::default()
        }
    }

    fn ready() -> Option<Readiness> {
        Some(Readiness::Ready {
            reason: "UpgradeSucceeded".into(),
            message: String::new(),
        })
    }

    fn failed() -> Option<Readiness> {
        Some(Readiness::Failed {
            reason: "UpgradeFailed".into(),
            message: "pods not ready".into(),
        })
    }

    /// The first decision about a new Component wanting `version`.
    fn new_component(version: &str, o: &Observation) -> Decision {
        decide(
            "grafana",
            &spec(version),
            Some(1),
            &ComponentStatus::default(),
            o,
        )
    }

    /// A first install of `version`: the decision that starts it, then the one after the
    /// release reports `then` a minute later.
    fn first_install(version: &str, then: Option<Readiness>) -> (Decision, Decision) {
        let start = new_component(version, &obs(None, "2026-11-25T10:00:00Z"));
        let next = decide(
            "grafana",
            &spec(version),
            Some(1),
            &start.status,
            &obs(then, "2026-11-25T10:01:00Z"),
        );
        (start, next)
    }

    fn running_at(version: &str) -> ComponentStatus {
        first_install(version, ready()).1.status
    }

    fn condition<'a>(st: &'a ComponentStatus, t: &str) -> Option<&'a Condition> {
        st.conditions.iter().find(|c| c.type_ == t)
    }

    #[test]
    fn decide_new_component_renders_wanted_version_and_installs() {
        let d = new_component("v1.0.0", &obs(None, "2026-11-25T10:00:00Z"));
        assert_eq!(d.render.as_deref(), Some("v1.0.0"));
        assert_eq!(d.status.phase, Some(ComponentPhase::Installing));
        assert_eq!(d.status.health, Some(Health::Installing));
    }

    #[test]
    fn decide_ready_install_becomes_healthy_with_last_good_version() {
        let (installing, ready) = first_install("v1.0.0", ready());
        // A first install publishes no Event of its own (the Platform announces "all healthy").
        assert!(installing.event.is_none() && ready.event.is_none());
        let st = ready.status;
        assert_eq!(st.phase, Some(ComponentPhase::Running));
        assert_eq!(st.health, Some(Health::Healthy));
        assert_eq!(st.last_good_version.as_deref(), Some("v1.0.0"));
        assert_eq!(
            condition(&st, condition::READY).map(|c| c.status.as_str()),
            Some("True")
        );
    }

    #[test]
    fn decide_converged_component_changes_nothing() {
        let st = running_at("v1.0.0");
        let d = decide(
            "grafana",
            &spec("v1.0.0"),
            Some(1),
            &st,
            &obs(ready(), "2026-11-25T11:00:00Z"),
        );
        assert_eq!(comparable(&d.status), comparable(&st));
        assert!(d.event.is_none());
    }

    #[test]
    fn decide_failed_upgrade_rolls_back_to_last_good_with_alert_and_event() {
        let st = running_at("v1.0.0");
        let start = decide(
            "grafana",
            &spec("v1.1.0"),
            Some(2),
            &st,
            &obs(ready(), "2026-11-25T11:00:00Z"),
        );
        assert_eq!(start.render.as_deref(), Some("v1.1.0"));
        assert_eq!(start.status.phase, Some(ComponentPhase::Upgrading));
        let up = start.status.upgrade.clone().expect("record");
        assert_eq!(
            (up.from.as_str(), up.to.as_str(), up.state),
            ("v1.0.0", "v1.1.0", UpgradeState::InProgress)
        );

        let fail = decide(
            "grafana",
            &spec("v1.1.0"),
            Some(2),
            &start.status,
            &obs(failed(), "2026-11-25T11:02:00Z"),
        );
        assert_eq!(
            fail.render.as_deref(),
            Some("v1.0.0"),
            "renders the last good version again"
        );
        assert_eq!(fail.status.phase, Some(ComponentPhase::RollingBack));
        assert_eq!(
            fail.status.upgrade.as_ref().map(|u| u.state),
            Some(UpgradeState::RolledBack)
        );
        assert_eq!(fail.status.alerts.len(), 1);
        assert_eq!(fail.status.alerts[0].reason, "UpgradeRolledBack");
        assert!(fail.status.alerts[0].message.contains("pods not ready"));
        let (ty, reason, _) = fail.event.clone().expect("event");
        assert_eq!((ty, reason), (EventType::Warning, "UpgradeRolledBack"));
        assert_eq!(
            condition(&fail.status, condition::ALERT).map(|c| c.status.as_str()),
            Some("True")
        );

        // Back on the old version and ready: running, alert kept, no retry of the failed version.
        let back = decide(
            "grafana",
            &spec("v1.1.0"),
            Some(2),
            &fail.status,
            &obs(ready(), "2026-11-25T11:03:00Z"),
        );
        assert_eq!(back.render.as_deref(), Some("v1.0.0"));
        assert_eq!(back.status.phase, Some(ComponentPhase::Running));
        assert_eq!(back.status.health, Some(Health::Healthy));
        assert_eq!(back.status.alerts.len(), 1);
        let again = decide(
            "grafana",
            &spec("v1.1.0"),
            Some(2),
            &back.status,
            &obs(ready(), "2026-11-25T11:10:00Z"),
        );
        assert_eq!(again.render.as_deref(), Some("v1.0.0"));
        assert_eq!(comparable(&again.status), comparable(&back.status));
    }

    #[test]
    fn decide_upgrade_without_ready_in_time_rolls_back() {
        let st = running_at("v1.0.0");
        let start = decide(
            "grafana",
            &spec("v1.1.0"),
            Some(2),
            &st,
            &obs(ready(), "2026-11-25T11:00:00Z"),
        );
        let pending = Some(Readiness::Pending);
        let still = decide(
            "grafana",
            &spec("v1.1.0"),
            Some(2),
            &start.status,
            &obs(pending.clone(), "2026-11-25T11:04:00Z"),
        );
        assert_eq!(still.status.phase, Some(ComponentPhase::Upgrading));
        let late = decide(
            "grafana",
            &spec("v1.1.0"),
            Some(2),
            &still.status,
            &obs(pending, "2026-11-25T11:05:01Z"),
        );
        assert_eq!(late.status.phase, Some(ComponentPhase::RollingBack));
        assert!(
            late.status
                .upgrade
                .as_ref()
                .and_then(|u| u.message.clone())
                .unwrap_or_default()
                .contains("UpgradeTimeout")
        );
    }

    #[test]
    fn decide_scheduled_upgrade_waits_for_its_time() {
        let st = running_at("v1.0.0");
        let mut s = spec("v1.1.0");
        s.upgrade_at = Some(Time(ts("2026-11-25T12:00:00Z")));
        let wait = decide(
            "grafana",
            &s,
            Some(2),
            &st,
            &obs(ready(), "2026-11-25T11:59:30Z"),
        );
        assert_eq!(wait.render.as_deref(), Some("v1.0.0"));
        assert_eq!(
            wait.status.upgrade.as_ref().map(|u| u.state),
            Some(UpgradeState::Scheduled)
        );
        assert_eq!(wait.requeue, Duration::from_secs(30));
        assert_eq!(
            condition(&wait.status, condition::UPGRADING).map(|c| c.status.as_str()),
            Some("True")
        );
        let go = decide(
            "grafana",
            &s,
            Some(2),
            &wait.status,
            &obs(ready(), "2026-11-25T12:00:00Z"),
        );
        assert_eq!(go.render.as_deref(), Some("v1.1.0"));
        assert_eq!(go.status.phase, Some(ComponentPhase::Upgrading));
    }

    #[test]
    fn decide_closed_maintenance_window_holds_upgrade() {
        let st = running_at("v1.0.0");
        let mut o = obs(ready(), "2026-11-25T11:00:00Z");
        // Sundays 03:00 UTC; 2026-11-25 is a Wednesday.
        o.window = Some(Ok(Window {
            days: vec![jiff::civil::Weekday::Sunday],
            start: "03:00".into(),
            duration_minutes: 60,
            time_zone: None,
        }));
        let d = decide("grafana", &spec("v1.1.0"), Some(2), &st, &o);
        assert_eq!(d.render.as_deref(), Some("v1.0.0"));
        assert_eq!(
            d.status.upgrade.as_ref().map(|u| u.state),
            Some(UpgradeState::Scheduled)
        );
    }

    #[test]
    fn decide_failed_first_install_is_failed_with_critical_alert() {
        let (_, f) = first_install("v1.0.0", failed());
        assert_eq!(f.status.phase, Some(ComponentPhase::Failed));
        assert_eq!(f.status.health, Some(Health::Failed));
        assert_eq!(f.status.alerts[0].severity, AlertSeverity::Critical);
        assert_eq!(f.event.map(|e| e.1), Some("InstallFailed"));
    }

    #[test]
    fn decide_version_change_during_first_install_waits_then_upgrades_with_rollback() {
        let installing = new_component("v1.0.0", &obs(None, "2026-11-25T10:00:00Z"));
        let mut later = spec("v2.0.0");
        later.upgrade_at = Some(Time(ts("2026-11-25T12:00:00Z")));
        // A major upgrade: confirmed a second time, naming the jump.
        later.upgrade = Some(crate::crd::UpgradeIntent {
            confirm_major: Some("1→2".into()),
            ..Default::default()
        });
        // Each step decides from the previous status, with the version changed to v2.0.0.
        let step = |after: &Decision, readiness: Option<Readiness>, at: &str| {
            decide(
                "grafana",
                &later,
                Some(2),
                &after.status,
                &obs(readiness, at),
            )
        };
        // Changed while v1.0.0 is still installing, to be upgraded at noon.
        let d = step(&installing, None, "2026-11-25T10:01:00Z");
        assert_eq!(
            d.render.as_deref(),
            Some("v1.0.0"),
            "the install in flight goes on"
        );
        let u = d.status.upgrade.clone().expect("upgrade recorded");
        assert_eq!((u.from.as_str(), u.to.as_str()), ("v1.0.0", "v2.0.0"));
        assert_eq!(u.state, UpgradeState::Scheduled);
        assert!(u.message.unwrap_or_default().contains("first install"));
        // The first install finishes: healthy at v1.0.0, the upgrade still waits for noon.
        let done = step(&d, ready(), "2026-11-25T10:02:00Z");
        assert_eq!(done.status.last_good_version.as_deref(), Some("v1.0.0"));
        let held = step(&done, ready(), "2026-11-25T10:03:00Z");
        assert_eq!(held.render.as_deref(), Some("v1.0.0"));
        assert_eq!(
            held.status.upgrade.as_ref().map(|u| u.state),
            Some(UpgradeState::Scheduled)
        );
        // Noon: the upgrade runs; it fails and rolls back to the first install's version.
        let up = step(&held, ready(), "2026-11-25T12:00:00Z");
        assert_eq!(up.render.as_deref(), Some("v2.0.0"));
        let back = step(&up, failed(), "2026-11-25T12:01:00Z");
        assert_eq!(back.render.as_deref(), Some("v1.0.0"));
        assert_eq!(
            back.status.upgrade.as_ref().map(|u| u.state),
            Some(UpgradeState::RolledBack)
        );
        assert_eq!(back.event.map(|e| e.1), Some("UpgradeRolledBack"));
    }

    #[test]
    fn decide_crossplane_waits_for_unhealthy_dependencies() {
        let mut o = obs(None, "2026-11-25T10:00:00Z");
        o.waiting_for = vec!["cnpg".into()];
        o.ordered_by_delivery = false;
        let d = new_component("v1.0.0", &o);
        assert_eq!(d.render, None);
        assert_eq!(d.status.phase, Some(ComponentPhase::Pending));
        assert!(d.status.message.unwrap_or_default().contains("cnpg"));
    }

    #[test]
    fn decide_flux_renders_at_once_and_flux_waiting_too_changes_nothing() {
        let mut o = obs(None, "2026-11-25T10:00:00Z");
        o.waiting_for = vec!["cnpg".into()];
        let first = new_component("v1.0.0", &o);
        assert_eq!(
            first.render.as_deref(),
            Some("v1.0.0"),
            "dependsOn orders it"
        );
        assert_eq!(
            first.status.message.as_deref(),
            Some("waiting for dependencies: cnpg")
        );
        o.readiness = Some(Readiness::Progressing {
            reason: "DependencyNotReady".into(),
            message: "dependencies not ready: cnpg".into(),
        });
        let again = decide("grafana", &spec("v1.0.0"), Some(1), &first.status, &o);
        assert_eq!(
            comparable(&again.status),
            comparable(&first.status),
            "no second write"
        );
    }

    #[test]
    fn chart_version_unknown_to_catalog_strips_leading_v() {
        let catalog = crate::catalog::embedded();
        assert_eq!(
            chart_version(catalog, "no-such-component", "v2.3.4"),
            "2.3.4"
        );
    }
}

/// Invariants of the decision functions over generated versions, schedules, windows, operator
/// actions and clock times.
#[cfg(test)]
mod properties {
    use super::*;
    use crate::crd::UpgradeIntent;
    use crate::domain::window::{PAST_GRACE, next_window};
    use proptest::prelude::*;

    fn spec(version: &str) -> ComponentSpec {
        serde_json::from_value(json!({ "chart": "bp-grafana", "version": version })).expect("spec")
    }

    fn version() -> impl Strategy<Value = String> {
        (0u64..3, 0u64..3, 0u64..2).prop_map(|(a, b, c)| format!("v{a}.{b}.{c}"))
    }

    /// A refusable upgrade: kind 0 (a past time) and 1 (next window without a window) between
    /// any two different versions; kind 2 (unconfirmed) always a major jump, so every generated
    /// case is refused and none is thrown away.
    fn refusable_upgrade() -> impl Strategy<Value = (u8, String, String)> {
        let v = |(a, b, c): (u64, u64, u64)| format!("v{a}.{b}.{c}");
        (0u8..3, 1u64..3, 0u64..3, 0u64..2).prop_flat_map(move |(kind, a, b, c)| {
            let installed = v((a, b, c));
            let wanted = if kind == 2 {
                ((a + 1)..(a + 3), 0u64..3, 0u64..2).prop_map(v).boxed()
            } else {
                (0u64..4, 0u64..3, 0u64..2)
                    .prop_filter("a different version", move |w| *w != (a, b, c))
                    .prop_map(v)
                    .boxed()
            };
            (Just(kind), Just(installed), wanted)
        })
    }

    fn window() -> impl Strategy<Value = Option<Window>> {
        let zones = prop_oneof![
            Just(None),
            Just(Some("Europe/Berlin".to_string())),
            Just(Some("America/New_York".to_string())),
            Just(Some("Asia/Kolkata".to_string())),
            Just(Some("Australia/Lord_Howe".to_string())),
        ];
        proptest::option::of(
            (
                proptest::collection::vec(0usize..7, 0..4),
                0u8..24,
                prop_oneof![Just(0u8), Just(30u8)],
                1u32..=600,
                zones,
            )
                .prop_map(|(days, h, m, duration_minutes, time_zone)| {
                    use jiff::civil::Weekday as W;
                    const ALL: [W; 7] = [
                        W::Monday,
                        W::Tuesday,
                        W::Wednesday,
                        W::Thursday,
                        W::Friday,
                        W::Saturday,
                        W::Sunday,
                    ];
                    Window {
                        days: days.into_iter().map(|d| ALL[d]).collect(),
                        start: format!("{h:02}:{m:02}"),
                        duration_minutes,
                        time_zone,
                    }
                }),
        )
    }

    fn at(base: Timestamp, secs: i64) -> Timestamp {
        base.checked_add(jiff::SignedDuration::from_secs(secs))
            .expect("in range")
    }

    fn running(version: &str) -> ComponentStatus {
        let o = Observation {
            now: "2026-01-01T00:00:00Z".parse().expect("ts"),
            ordered_by_delivery: true,
            timeout: Duration::from_secs(300),
            ..Observation::default()
        };
        let first = decide(
            "grafana",
            &spec(version),
            Some(1),
            &ComponentStatus::default(),
            &o,
        );
        let ready = Observation {
            readiness: Some(Readiness::Ready {
                reason: "InstallSucceeded".into(),
                message: String::new(),
            }),
            ..o
        };
        decide("grafana", &spec(version), Some(1), &first.status, &ready).status
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// No upgrade starts before its time, outside the Platform's window, for "next window"
        /// without a window, at a time that was already past when it was scheduled, or as a
        /// major jump without the confirmation naming it.
        #[test]
        fn no_upgrade_starts_before_its_time_or_outside_its_window(
            installed in version(),
            wanted in version(),
            at_offset in proptest::option::of(-10_000i64..10_000),
            in_next_window in any::<bool>(),
            window in window(),
            now_offset in 0i64..(15 * 86_400),
            confirm in any::<bool>(),
            waited in any::<bool>(),
        ) {
            let now = at("2026-03-01T00:00:00Z".parse().expect("ts"), now_offset);
            let mut s = spec(&wanted);
            s.upgrade_at = at_offset.map(|o| Time(at(now, o)));
            let jump = major_jump(
                &upgrade::parse(&installed).expect("v"),
                &upgrade::parse(&wanted).expect("v"),
                false,
            );
            s.upgrade = Some(UpgradeIntent {
                next_window: in_next_window,
                confirm_major: jump.clone().filter(|_| confirm),
            });
            let mut st = running(&installed);
            if waited && installed != wanted {
                schedule_upgrade(&mut st, &installed, &wanted, &s, now, None);
            }
            let o = Observation {
                readiness: Some(Readiness::Ready { reason: "UpgradeSucceeded".into(), message: String::new() }),
                now,
                window: window.clone().map(Ok),
                ordered_by_delivery: true,
                timeout: Duration::from_secs(300),
                ..Observation::default()
            };
            let d = decide("grafana", &s, Some(2), &st, &o);
            let started = d.status.phase == Some(ComponentPhase::Upgrading);
            if started {
                prop_assert_eq!(d.render.as_deref(), Some(wanted.as_str()));
                // "Next window" is the time when chosen; otherwise `upgradeAt`.
                if let Some(t) = s.upgrade_at.as_ref().filter(|_| !in_next_window) {
                    prop_assert!(t.0 <= now, "started before {}", t.0);
                    if !waited {
                        prop_assert!(at(t.0, PAST_GRACE.as_secs()) >= now, "a past time ran");
                    }
                }
                match &window {
                    Some(w) => prop_assert!(next_window(w, now).expect("valid").contains(now), "outside the window"),
                    None => prop_assert!(!in_next_window, "next window without a window ran"),
                }
                if jump.is_some() {
                    prop_assert!(confirm, "major upgrade without confirmation");
                }
            } else {
                prop_assert_ne!(d.render.as_deref(), Some(wanted.as_str()).filter(|_| installed != wanted));
            }
        }

        /// A refused upgrade (past time, no window, unconfirmed major) stays refused at every
        /// later time until the operator changes the spec: nothing is armed.
        #[test]
        fn refused_upgrade_never_runs_later_by_itself(
            (kind, installed, wanted) in refusable_upgrade(),
            past in 200i64..100_000,
            later in proptest::collection::vec(1i64..86_400, 1..8),
        ) {
            let now = at("2026-03-01T00:00:00Z".parse().expect("ts"), 0);
            let mut s = spec(&wanted);
            let jump = major_jump(
                &upgrade::parse(&installed).expect("v"),
                &upgrade::parse(&wanted).expect("v"),
                false,
            );
            match kind {
                0 => s.upgrade_at = Some(Time(at(now, -past))),
                1 => s.upgrade = Some(UpgradeIntent { next_window: true, confirm_major: jump.clone() }),
                _ => {}
            }
            if kind != 1 {
                s.upgrade = Some(UpgradeIntent { next_window: false, confirm_major: jump.clone().filter(|_| kind != 2) });
            }
            let mut st = running(&installed);
            let mut t = now;
            let first = decide("grafana", &s, Some(2), &st, &Observation {
                readiness: Some(Readiness::Ready { reason: "R".into(), message: String::new() }),
                now: t, ordered_by_delivery: true, timeout: Duration::from_secs(300), ..Observation::default()
            });
            let refused = first.status.conditions.iter().any(|c| c.type_ == condition::UPGRADE_REFUSED);
            prop_assert!(refused, "the first decision did not refuse");
            st = first.status;
            for dt in later {
                t = at(t, dt);
                let d = decide("grafana", &s, Some(2), &st, &Observation {
                    readiness: Some(Readiness::Ready { reason: "R".into(), message: String::new() }),
                    now: t, ordered_by_delivery: true, timeout: Duration::from_secs(300), ..Observation::default()
                });
                prop_assert_ne!(d.status.phase, Some(ComponentPhase::Upgrading));
                prop_assert_eq!(d.render.as_deref(), Some(installed.as_str()));
                prop_assert!(d.notes.iter().all(|n| n.1 != "UpgradeRefused"), "refusal Event repeated");
                st = d.status;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Over generated walks of version changes and release outcomes, a rollback always
        /// renders the last version that was Ready.
        #[test]
        fn rollback_always_targets_the_last_good_version(
            first in version(),
            steps in proptest::collection::vec((version(), 0u8..3, 1i64..400), 1..30),
        ) {
            let mut st = running(&first);
            let mut last_ready = first.clone();
            let mut now: Timestamp = "2026-01-01T01:00:00Z".parse().expect("ts");
            for (wanted, outcome, dt) in steps {
                now = at(now, dt);
                let installed = st.version.clone().expect("installed");
                let mut s = spec(&wanted);
                let jump = major_jump(
                    &upgrade::parse(&installed).expect("v"),
                    &upgrade::parse(&wanted).expect("v"),
                    false,
                );
                s.upgrade = Some(UpgradeIntent { next_window: false, confirm_major: jump });
                let readiness = match outcome {
                    0 => Readiness::Ready { reason: "R".into(), message: String::new() },
                    1 => Readiness::Failed { reason: "F".into(), message: "boom".into() },
                    _ => Readiness::Pending,
                };
                let o = Observation {
                    readiness: Some(readiness),
                    now,
                    ordered_by_delivery: true,
                    timeout: Duration::from_secs(300),
                    ..Observation::default()
                };
                let was = st.phase;
                let d = decide("grafana", &s, Some(2), &st, &o);
                if d.status.phase == Some(ComponentPhase::RollingBack) && was == Some(ComponentPhase::Upgrading) {
                    prop_assert_eq!(d.render.as_deref(), Some(last_ready.as_str()));
                }
                if d.status.health == Some(Health::Healthy) && d.status.phase == Some(ComponentPhase::Running) {
                    last_ready = d.status.version.clone().expect("version");
                }
                st = d.status;
            }
        }
    }
}
