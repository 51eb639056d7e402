//! The Component controller: renders a Component's delivery objects, watches their `Ready`
//! condition, runs upgrades (now or scheduled) with a timeout and automatic rollback to the last
//! good version, and handles uninstall through the finalizer (refused while dependents remain).

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, OwnerReference, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::delivery::{self, Readiness, RenderInput};
use super::{Context, ManagerError, schedule};
use crate::crd::consts::{self, condition};
use crate::crd::{
    Alert, AlertSeverity, Component, ComponentPhase, ComponentSpec, ComponentStatus,
    DeliveryBackend, Health, UpgradeRecord, UpgradeState,
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
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// Readiness of the primary delivery object; `None` when it does not exist.
    pub readiness: Option<Readiness>,
    pub now: Timestamp,
    /// Whether the Platform's maintenance window (if any) is open now.
    pub window_open: bool,
    /// Dependencies that are not healthy yet.
    pub waiting_for: Vec<String>,
    /// Whether the delivery objects order the install after the dependencies themselves (a Flux
    /// HelmRelease's `dependsOn`); otherwise (Crossplane) nothing is rendered until they are
    /// healthy.
    pub ordered_by_delivery: bool,
    /// Newer catalog versions than the installed one, oldest first.
    pub available_upgrades: Vec<String>,
    pub timeout: Duration,
}

/// What to do about a Component.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Version to render into the delivery objects; `None` renders nothing yet.
    pub render: Option<String>,
    /// The status to report (without `lastReconciled`).
    pub status: ComponentStatus,
    /// Kubernetes Event to publish for a transition.
    pub event: Option<(EventType, &'static str, String)>,
    pub requeue: Duration,
}

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
    let wanted = spec.version.clone();
    let now = obs.now;
    let mut event = None;
    let mut requeue = Duration::from_secs(3600);

    let Some(installed) = st.version.clone() else {
        // First install.
        if !obs.waiting_for.is_empty() && !obs.ordered_by_delivery {
            st.phase = Some(ComponentPhase::Pending);
            st.health = Some(Health::Unknown);
            st.message = waiting_message(&obs.waiting_for);
            return finish(name, spec, st, None, None, PROGRESS_REQUEUE * 2);
        }
        st.version = Some(wanted.clone());
        st.phase = Some(ComponentPhase::Installing);
        st.health = Some(Health::Installing);
        st.message = waiting_message(&obs.waiting_for);
        return finish(name, spec, st, Some(wanted), None, PROGRESS_REQUEUE);
    };

    let in_first_install =
        st.phase == Some(ComponentPhase::Installing) && st.last_good_version.is_none();
    let already_failed_to = st.upgrade.as_ref().is_some_and(|u| {
        u.to == wanted && matches!(u.state, UpgradeState::RolledBack | UpgradeState::Failed)
    });
    let busy = matches!(
        st.phase,
        Some(ComponentPhase::Upgrading | ComponentPhase::RollingBack)
    );

    if installed != wanted && in_first_install {
        // The wanted version changed before the first install finished. Switching the install
        // in flight would leave nothing to roll back to if the new version fails; instead the
        // first install finishes and the change then runs as an upgrade (at `upgradeAt`, inside
        // the maintenance window), with its automatic rollback.
        let note = format!("waits for the first install of {installed} to finish");
        schedule_upgrade(&mut st, &installed, &wanted, spec, now, Some(note));
        // Fall through: keep observing the version being installed.
    } else if installed != wanted && !already_failed_to && !busy {
        let upgrade_at = spec.upgrade_at.as_ref().map(|t| t.0);
        let due = upgrade_at.is_none_or(|at| at <= now) && obs.window_open;
        if !due {
            schedule_upgrade(&mut st, &installed, &wanted, spec, now, None);
            requeue = schedule::wait_for(upgrade_at, now);
            // Fall through: keep observing the installed version while waiting.
        } else {
            st.upgrade = Some(UpgradeRecord {
                from: installed.clone(),
                to: wanted.clone(),
                started_at: Time(now),
                state: UpgradeState::InProgress,
                scheduled_for: spec.upgrade_at.clone(),
                finished_at: None,
                message: None,
            });
            st.version = Some(wanted.clone());
            st.phase = Some(ComponentPhase::Upgrading);
            st.health = Some(Health::Installing);
            st.message = None;
            let note = format!("upgrading {name} from {installed} to {wanted}");
            return finish(
                name,
                spec,
                st,
                Some(wanted),
                Some((EventType::Normal, "UpgradeStarted", note)),
                PROGRESS_REQUEUE,
            );
        }
    } else if installed == wanted
        && st
            .upgrade
            .as_ref()
            .is_some_and(|u| u.state == UpgradeState::Scheduled)
    {
        // The operator took the scheduled version back: nothing is pending any more.
        st.upgrade = None;
    }

    // Observe the installed version.
    let upgrading = st.phase == Some(ComponentPhase::Upgrading);
    let timed_out = upgrading
        && st.upgrade.as_ref().is_some_and(|u| {
            now.duration_since(u.started_at.0).as_secs()
                >= i64::try_from(obs.timeout.as_secs()).unwrap_or(i64::MAX)
        });
    let readiness = match (&obs.readiness, timed_out) {
        (Some(Readiness::Failed { .. }), _) => obs.readiness.clone(),
        (_, true) => Some(Readiness::Failed {
            reason: "UpgradeTimeout".into(),
            message: format!("not ready after {}s", obs.timeout.as_secs()),
        }),
        _ => obs.readiness.clone(),
    };
    match readiness {
        None | Some(Readiness::Pending) | Some(Readiness::Progressing { .. }) => {
            if let Some(Readiness::Progressing { reason, message }) = &readiness {
                // Waiting for dependencies is said the same way whoever reports it, so Flux
                // confirming what the manager already wrote is not another write.
                let waiting = (reason == "DependencyNotReady")
                    .then(|| waiting_message(&obs.waiting_for))
                    .flatten();
                if let Some(text) =
                    waiting.or_else(|| (!message.is_empty()).then(|| message.clone()))
                {
                    st.message = Some(text);
                }
            }
            if matches!(
                st.phase,
                Some(
                    ComponentPhase::Installing
                        | ComponentPhase::Upgrading
                        | ComponentPhase::RollingBack
                )
            ) {
                requeue = requeue.min(PROGRESS_REQUEUE);
            }
        }
        Some(Readiness::Ready { message, .. }) => {
            let was = st.phase;
            st.health = Some(Health::Healthy);
            st.phase = Some(ComponentPhase::Running);
            st.last_good_version = Some(installed.clone());
            st.message = (!message.is_empty()).then_some(message);
            match was {
                Some(ComponentPhase::Upgrading) => {
                    if let Some(u) = st.upgrade.as_mut() {
                        u.state = UpgradeState::Succeeded;
                        u.finished_at = Some(Time(now));
                    }
                    st.alerts.clear();
                    let note = format!("{name} is ready at {installed}");
                    event = Some((EventType::Normal, "UpgradeSucceeded", note));
                }
                Some(ComponentPhase::Installing) | Some(ComponentPhase::Pending) | None => {
                    // No Event per first install: the status says it, Flux records its own
                    // install Event on the HelmRelease, and the Platform publishes one Event
                    // when all its components are healthy (a thousand Events on a cold start
                    // would be a sixth of the manager's requests and bury the ones that matter).
                    st.alerts.clear();
                }
                Some(ComponentPhase::RollingBack) => {
                    let note = format!("{name} is ready again at {installed} after the rollback");
                    event = Some((EventType::Normal, "RollbackSucceeded", note));
                }
                Some(ComponentPhase::Failed) => {
                    st.alerts
                        .retain(|a| a.reason != "InstallFailed" && a.reason != "Unhealthy");
                }
                _ => {}
            }
        }
        Some(Readiness::Failed { reason, message }) => {
            let why = if message.is_empty() {
                reason.clone()
            } else {
                format!("{reason}: {message}")
            };
            st.message = Some(why.clone());
            let rollback_to = st.last_good_version.clone().filter(|g| g != &installed);
            match (st.phase, rollback_to) {
                (Some(ComponentPhase::Upgrading), Some(good)) => {
                    let from = st
                        .upgrade
                        .as_ref()
                        .map(|u| u.from.clone())
                        .unwrap_or(good.clone());
                    if let Some(u) = st.upgrade.as_mut() {
                        u.state = UpgradeState::RolledBack;
                        u.finished_at = Some(Time(now));
                        u.message = Some(why.clone());
                    }
                    st.version = Some(good.clone());
                    st.phase = Some(ComponentPhase::RollingBack);
                    st.health = Some(Health::Degraded);
                    let text = format!(
                        "upgrade of {name} from {from} to {installed} failed ({why}); rolled back to {good}"
                    );
                    push_alert(
                        &mut st,
                        alert(
                            name,
                            AlertSeverity::Warning,
                            "UpgradeRolledBack",
                            text.clone(),
                            now,
                        ),
                    );
                    return finish(
                        name,
                        spec,
                        st,
                        Some(good),
                        Some((EventType::Warning, "UpgradeRolledBack", text)),
                        PROGRESS_REQUEUE,
                    );
                }
                (Some(ComponentPhase::Upgrading | ComponentPhase::RollingBack), _) => {
                    if let Some(u) = st.upgrade.as_mut() {
                        u.state = UpgradeState::Failed;
                        u.finished_at.get_or_insert(Time(now));
                        u.message = Some(why.clone());
                    }
                    st.phase = Some(ComponentPhase::Failed);
                    st.health = Some(Health::Failed);
                    let text = format!(
                        "{name} failed at {installed} and could not be rolled back ({why})"
                    );
                    push_alert(
                        &mut st,
                        alert(
                            name,
                            AlertSeverity::Critical,
                            "RollbackFailed",
                            text.clone(),
                            now,
                        ),
                    );
                    event = Some((EventType::Warning, "RollbackFailed", text));
                }
                (Some(ComponentPhase::Installing) | Some(ComponentPhase::Pending) | None, _) => {
                    st.phase = Some(ComponentPhase::Failed);
                    st.health = Some(Health::Failed);
                    let text = format!("install of {name} {installed} failed ({why})");
                    push_alert(
                        &mut st,
                        alert(
                            name,
                            AlertSeverity::Critical,
                            "InstallFailed",
                            text.clone(),
                            now,
                        ),
                    );
                    event = Some((EventType::Warning, "InstallFailed", text));
                }
                (Some(ComponentPhase::Running), _) => {
                    // Was healthy, now not: degraded, not failed; Flux keeps retrying.
                    st.health = Some(Health::Degraded);
                    let text = format!("{name} {installed} is not ready ({why})");
                    push_alert(
                        &mut st,
                        alert(name, AlertSeverity::Warning, "Unhealthy", text.clone(), now),
                    );
                    event = Some((EventType::Warning, "Unhealthy", text));
                }
                (Some(ComponentPhase::Failed | ComponentPhase::Deleting), _) => {}
            }
        }
    }
    finish(name, spec, st, Some(installed), event, requeue)
}

/// Record an upgrade from `installed` to `wanted` as scheduled. An existing record of the same
/// upgrade is kept (its start time stays, so a waiting Component decides the same each time);
/// its time and note follow the spec.
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
    _name: &str,
    spec: &ComponentSpec,
    mut st: ComponentStatus,
    render: Option<String>,
    event: Option<(EventType, &'static str, String)>,
    requeue: Duration,
) -> Decision {
    set_conditions(&mut st, spec);
    Decision {
        render,
        status: st,
        event,
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

fn cond(
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
    let healthy =
        st.health == Some(Health::Healthy) && st.version.as_deref() == Some(spec.version.as_str());
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

    let primary = delivery::primary_of(backend, &ns, &name);
    let readiness = ctx
        .get_dynamic(&primary, &ns)
        .await?
        .as_ref()
        .map(delivery::readiness);

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
    let available_upgrades = catalog
        .get(&name)
        .map(|spec| {
            spec.versions
                .iter()
                .filter(|v| crate::domain::upgrade::parse(&installed).is_ok_and(|i| v.version > i))
                .map(|v| crate::domain::catalog::display_version(&v.version))
                .collect()
        })
        .unwrap_or_default();
    let window_open = platform
        .as_ref()
        .and_then(|p| p.spec.maintenance_window.as_ref())
        .is_none_or(|w| schedule::window_open(w, now));
    let timeout = c
        .spec
        .upgrade_timeout_seconds
        .map(|s| Duration::from_secs(u64::from(s)))
        .unwrap_or(ctx.settings.default_timeout);
    let obs = Observation {
        readiness,
        now,
        window_open,
        waiting_for,
        ordered_by_delivery: backend == DeliveryBackend::Flux,
        available_upgrades,
        timeout,
    };
    let decision = decide(&name, &c.spec, c.metadata.generation, &old, &obs);

    if let Some(version) = &decision.render {
        let input = render_input(&c, &ns, version, catalog.as_ref(), platform.as_deref());
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
    if let Some((type_, reason, note)) = decision.event {
        ctx.publish(&*c, type_, reason, note).await;
    }
    ctx.forget_backoff(&format!("component/{ns}/{name}"));
    Ok(Action::requeue(decision.requeue))
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
    }
}

/// Uninstall: refused while other Components that are not being deleted depend on this one;
/// otherwise delete the delivery objects and wait until they are gone. Returns when to look
/// again, or `None` once everything is gone and the finalizer may be removed.
async fn cleanup(c: Arc<Component>, ctx: &Context) -> Result<Option<Action>, ManagerError> {
    let name = c.name_any();
    let ns = c.namespace().unwrap_or_else(|| ctx.namespace.clone());
    let mut dependents: Vec<String> = ctx
        .components_in(&ns)
        .into_iter()
        .filter(|o| o.metadata.deletion_timestamp.is_none())
        .filter(|o| o.spec.dependencies.iter().any(|d| d == &name))
        .map(|o| o.name_any())
        .collect();
    dependents.sort();
    let mut st = c.status.clone().unwrap_or_default();
    let old = st.clone();
    st.phase = Some(ComponentPhase::Deleting);
    if !dependents.is_empty() {
        let msg = format!(
            "uninstall of {name} refused: {} still depend on it; uninstall those first",
            dependents.join(", ")
        );
        set_condition(
            &mut st.conditions,
            cond(
                condition::UNINSTALL_BLOCKED,
                true,
                "DependentsInstalled",
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
        // Dependents going away wake this Component through the dependency watch.
        return Ok(Some(Action::requeue(Duration::from_secs(30))));
    }
    let backend = backend_of(&c, ctx);
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
        if comparable(&st) != comparable(&old) {
            ctx.write_component_status(&c, st).await?;
        }
        return Ok(Some(Action::requeue(Duration::from_secs(2))));
    }
    ctx.publish(
        &*c,
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
        let ev = Event {
            type_,
            reason: reason.to_string(),
            note: Some(note),
            action: "Reconcile".to_string(),
            secondary: None,
        };
        if let Err(error) = self.recorder.publish(&ev, &obj.object_ref(&())).await {
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
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn obs(readiness: Option<Readiness>, now: &str) -> Observation {
        Observation {
            readiness,
            now: ts(now),
            window_open: true,
            waiting_for: vec![],
            ordered_by_delivery: true,
            available_upgrades: vec![],
            timeout: Duration::from_secs(300),
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
        o.window_open = false;
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
