//! Intent the console writes to a cluster: install, uninstall, upgrade now, upgrade later,
//! cancel a scheduled upgrade, retry, reconcile now, suspend and resume, and the Platform's
//! maintenance window.
//!
//! Every write is a server-side apply with the field manager `openova-console`; the Lifecycle
//! Manager does the actual work. Each apply carries the complete intent for the fields the console
//! owns (never a partial spec), because server-side apply removes owned fields that a later apply
//! leaves out. `Platform.spec.components` is an atomic list, so it is read, changed and applied
//! back with the `resourceVersion` it was read at, and retried when someone else wrote in between.

use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::core::ObjectMeta;
use serde_json::json;

use super::connect::ClusterConn;
use super::error::{CallSite, ClusterError};
use crate::crd::consts;
use crate::crd::platform::{ConfirmedRemoval, MaintenanceWindow};
use crate::crd::{Component, ComponentSpec, Platform, PlatformComponent};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// How often an update of a changing object is retried before giving up.
const MAX_ATTEMPTS: u32 = 8;

/// Wait a little before retrying a write that lost a conflict: a few milliseconds more each
/// attempt, with jitter, so that writers racing for one Platform do not collide in lock step
/// until their attempts run out.
async fn conflict_backoff(attempt: u32) {
    let jitter: u64 = rand::random::<u64>() % 20;
    let millis = u64::from(attempt) * 10 + jitter;
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}

/// What an uninstall did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UninstallOutcome {
    /// The Platform entry was disabled; the manager removes the Component (or refuses while
    /// dependents are installed, and says so in the Component's conditions).
    Disabled,
    /// The Component was not part of the Platform and has been deleted directly.
    Deleted,
    /// Nothing to do: neither an enabled entry nor a Component existed.
    NotInstalled,
}

fn apply_params() -> PatchParams {
    // force: the operator's explicit action wins over values another manager set earlier.
    PatchParams::apply(consts::FIELD_MANAGER_CONSOLE).force()
}

fn site<'a>(conn: &'a ClusterConn, verb: &'a str, resource: &'a str) -> CallSite<'a> {
    CallSite {
        context: &conn.context,
        address: &conn.server_url,
        verb,
        resource,
    }
}

const PLATFORMS: &str = "platforms.openova.io";
const COMPONENTS: &str = "components.openova.io";

fn map_err(
    e: kube::Error,
    conn: &ClusterConn,
    verb: &str,
    resource: &str,
    kind: &str,
    name: &str,
) -> ClusterError {
    if let kube::Error::Api(status) = &e
        && status.code == 404
    {
        let about_object = status.details.as_ref().is_some_and(|d| !d.name.is_empty());
        return if about_object {
            ClusterError::NotFound {
                kind: kind.to_owned(),
                name: name.to_owned(),
                namespace: conn.namespace.clone(),
            }
        } else {
            ClusterError::CrdsMissing {
                context: conn.context.clone(),
                crd: resource.to_owned(),
            }
        };
    }
    ClusterError::from_kube(e, site(conn, verb, resource))
}

fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

/// Installs a component: applies the Component with `spec`, then adds (or re-enables) its entry
/// in `Platform.spec.components` at `spec.version`.
pub async fn install(
    conn: &ClusterConn,
    platform: &str,
    name: &str,
    spec: &ComponentSpec,
) -> Result<(), ClusterError> {
    // Fail before writing anything when the Platform is not there.
    get_platform(conn, platform).await?;
    let mut component = Component::new(name, spec.clone());
    component.metadata = ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(conn.namespace.clone()),
        labels: Some([(consts::LABEL_PLATFORM.to_owned(), platform.to_owned())].into()),
        ..Default::default()
    };
    let api: Api<Component> = Api::namespaced(conn.client.clone(), &conn.namespace);
    api.patch(name, &apply_params(), &Patch::Apply(&component))
        .await
        .map_err(|e| map_err(e, conn, "patch", COMPONENTS, "Component", name))?;
    let version = spec.version.clone();
    update_platform_entries(conn, platform, |entries, removals| {
        // An earlier confirmed removal no longer stands once the operator installs it again.
        let before = removals.len();
        removals.retain(|r| r.name != name);
        for r in removals.iter_mut() {
            r.also_remove.retain(|n| n != name);
        }
        let dropped = removals.len() != before;
        dropped
            | match entries.iter_mut().find(|e| e.name == name) {
                Some(entry) => {
                    let changed = !entry.enabled || entry.version.as_deref() != Some(&version);
                    entry.enabled = true;
                    entry.version = Some(version.clone());
                    changed
                }
                None => {
                    entries.push(PlatformComponent {
                        name: name.to_owned(),
                        version: Some(version.clone()),
                        enabled: true,
                    });
                    true
                }
            }
    })
    .await?;
    Ok(())
}

/// Uninstalls a component: disables its Platform entry (the manager removes it in dependency
/// order and refuses while dependents remain), or deletes a Component the Platform never listed.
pub async fn uninstall(
    conn: &ClusterConn,
    platform: &str,
    name: &str,
    also_remove: &[String],
) -> Result<UninstallOutcome, ClusterError> {
    let p = get_platform(conn, platform).await?;
    if p.spec.components.iter().any(|e| e.name == name) {
        let changed = update_platform_entries(conn, platform, |entries, removals| {
            match entries.iter_mut().find(|e| e.name == name) {
                Some(entry) if entry.enabled => {
                    entry.enabled = false;
                    // The operator's confirmation of exactly this removal (and of the
                    // dependencies they ticked); without it the manager keeps the release.
                    removals.retain(|r| r.name != name);
                    removals.push(ConfirmedRemoval {
                        name: name.to_owned(),
                        also_remove: also_remove.to_vec(),
                    });
                    true
                }
                _ => false,
            }
        })
        .await?;
        return Ok(if changed {
            UninstallOutcome::Disabled
        } else {
            UninstallOutcome::NotInstalled
        });
    }
    let api: Api<Component> = Api::namespaced(conn.client.clone(), &conn.namespace);
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(UninstallOutcome::Deleted),
        Err(kube::Error::Api(s)) if s.code == 404 && s.details.is_some() => {
            Ok(UninstallOutcome::NotInstalled)
        }
        Err(e) => Err(map_err(e, conn, "delete", COMPONENTS, "Component", name)),
    }
}

/// When a scheduled version change runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// At this instant (`spec.upgradeAt`), inside the Platform's window when it has one.
    At(Time),
    /// In the Platform's next maintenance window (`spec.upgrade.nextWindow`); the manager
    /// refuses it when the Platform has no window.
    NextWindow,
}

/// Upgrades (or downgrades) a component now: `spec.version` on the Component and its Platform
/// entry; clears a scheduled time the console set earlier. `confirm_major` is the operator's
/// second confirmation of a major jump (`"11→12"`), without which the manager refuses it.
pub async fn set_version(
    conn: &ClusterConn,
    platform: &str,
    name: &str,
    version: &str,
    confirm_major: Option<&str>,
) -> Result<(), ClusterError> {
    change_version(conn, platform, name, version, None, confirm_major).await
}

/// Schedules an upgrade: the new version with `spec.upgradeAt` or `spec.upgrade.nextWindow`;
/// the manager starts it then (inside the Platform's maintenance window when one is set).
pub async fn schedule_upgrade(
    conn: &ClusterConn,
    platform: &str,
    name: &str,
    version: &str,
    when: Schedule,
    confirm_major: Option<&str>,
) -> Result<(), ClusterError> {
    change_version(conn, platform, name, version, Some(when), confirm_major).await
}

async fn change_version(
    conn: &ClusterConn,
    platform: &str,
    name: &str,
    version: &str,
    when: Option<Schedule>,
    confirm_major: Option<&str>,
) -> Result<(), ClusterError> {
    get_platform(conn, platform).await?;
    let next_window = when == Some(Schedule::NextWindow);
    update_component_spec(conn, name, |spec| {
        spec.version = version.to_owned();
        spec.upgrade_at = match &when {
            Some(Schedule::At(at)) => Some(at.clone()),
            _ => None,
        };
        spec.upgrade = (next_window || confirm_major.is_some()).then(|| {
            crate::crd::component::UpgradeIntent {
                next_window,
                confirm_major: confirm_major.map(str::to_owned),
            }
        });
    })
    .await?;
    update_platform_entries(conn, platform, |entries, _| {
        match entries.iter_mut().find(|e| e.name == name) {
            Some(entry) if entry.version.as_deref() != Some(version) => {
                entry.version = Some(version.to_owned());
                true
            }
            _ => false,
        }
    })
    .await?;
    Ok(())
}

/// Cancels a scheduled (or refused) upgrade: the Component and its Platform entry go back to
/// the installed version, and the scheduled time and next-window request are cleared. The
/// manager treats the wanted version equal to the installed one as "nothing pending".
pub async fn cancel_upgrade(
    conn: &ClusterConn,
    platform: &str,
    name: &str,
    installed: &str,
) -> Result<(), ClusterError> {
    change_version(conn, platform, name, installed, None, None).await
}

/// Asks the manager to retry a failed install or a failed/rolled-back upgrade: a new
/// `spec.retry` value (`token`, e.g. the current time), acted on once. The manager refuses it
/// on a Component that is not failed (condition and Event).
pub async fn retry(conn: &ClusterConn, name: &str, token: &str) -> Result<(), ClusterError> {
    update_component_spec(conn, name, |spec| spec.retry = Some(token.to_owned())).await
}

/// Asks the delivery controller to reconcile now: a new `spec.reconcileRequestedAt` value
/// (`token`), which the manager hands on as Flux's `reconcile.fluxcd.io/requestedAt`.
pub async fn reconcile_now(
    conn: &ClusterConn,
    name: &str,
    token: &str,
) -> Result<(), ClusterError> {
    update_component_spec(conn, name, |spec| {
        spec.reconcile_requested_at = Some(token.to_owned())
    })
    .await
}

/// Suspends (or resumes) reconciling the release: `spec.suspend`.
pub async fn set_suspended(
    conn: &ClusterConn,
    name: &str,
    suspend: bool,
) -> Result<(), ClusterError> {
    update_component_spec(conn, name, |spec| spec.suspend = suspend).await
}

/// Reads the Component, lets `change` edit its spec and applies the complete spec back at the
/// read `resourceVersion` (server-side apply, field manager console), retrying on conflict.
async fn update_component_spec(
    conn: &ClusterConn,
    name: &str,
    change: impl Fn(&mut ComponentSpec),
) -> Result<(), ClusterError> {
    let api: Api<Component> = Api::namespaced(conn.client.clone(), &conn.namespace);
    for attempt in 1..=MAX_ATTEMPTS {
        let current = api
            .get(name)
            .await
            .map_err(|e| map_err(e, conn, "get", COMPONENTS, "Component", name))?;
        let mut spec = current.spec.clone();
        change(&mut spec);
        let patch = json!({
            "apiVersion": consts::API_VERSION,
            "kind": "Component",
            "metadata": {
                "name": name,
                "namespace": conn.namespace,
                "resourceVersion": current.metadata.resource_version,
            },
            "spec": spec,
        });
        match api
            .patch(name, &apply_params(), &Patch::Apply(&patch))
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if is_conflict(&e) => {
                tracing::debug!(name, attempt, "Component changed meanwhile; retrying");
                conflict_backoff(attempt).await;
            }
            Err(e) => return Err(map_err(e, conn, "patch", COMPONENTS, "Component", name)),
        }
    }
    Err(ClusterError::Conflict {
        kind: "Component".into(),
        name: name.to_owned(),
        attempts: MAX_ATTEMPTS,
    })
}

async fn get_platform(conn: &ClusterConn, platform: &str) -> Result<Platform, ClusterError> {
    let api: Api<Platform> = Api::namespaced(conn.client.clone(), &conn.namespace);
    api.get(platform)
        .await
        .map_err(|e| map_err(e, conn, "get", PLATFORMS, "Platform", platform))
}

/// Reads the Platform, lets `change` edit its component list (returning whether it changed
/// anything) and applies the list back at the read `resourceVersion`. Returns whether it wrote.
/// Change the Platform's component entries and confirmed removals in one write. Both lists go
/// out in every write: with server-side apply a list this field manager stops sending would be
/// removed, and a confirmed removal must never vanish as a side effect of another change.
async fn update_platform_entries(
    conn: &ClusterConn,
    platform: &str,
    mut change: impl FnMut(&mut Vec<PlatformComponent>, &mut Vec<ConfirmedRemoval>) -> bool,
) -> Result<bool, ClusterError> {
    let api: Api<Platform> = Api::namespaced(conn.client.clone(), &conn.namespace);
    for attempt in 1..=MAX_ATTEMPTS {
        let current = get_platform(conn, platform).await?;
        let mut entries = current.spec.components.clone();
        let mut removals = current.spec.removals.clone();
        if !change(&mut entries, &mut removals) {
            return Ok(false);
        }
        let patch = json!({
            "apiVersion": consts::API_VERSION,
            "kind": "Platform",
            "metadata": {
                "name": platform,
                "namespace": conn.namespace,
                "resourceVersion": current.metadata.resource_version,
            },
            "spec": { "components": entries, "removals": removals },
        });
        match api
            .patch(platform, &apply_params(), &Patch::Apply(&patch))
            .await
        {
            Ok(_) => return Ok(true),
            Err(e) if is_conflict(&e) => {
                tracing::debug!(platform, attempt, "Platform changed meanwhile; retrying");
                conflict_backoff(attempt).await;
            }
            Err(e) => return Err(map_err(e, conn, "patch", PLATFORMS, "Platform", platform)),
        }
    }
    Err(ClusterError::Conflict {
        kind: "Platform".into(),
        name: platform.to_owned(),
        attempts: MAX_ATTEMPTS,
    })
}

/// Field manager of the console's maintenance-window writes. A separate manager on purpose: a
/// server-side apply removes every field its manager owned and left out, so applying only
/// `spec.maintenanceWindow` as `openova-console` would delete the `components` and `removals`
/// that manager owns (see [`update_platform_entries`]). Under its own manager the window apply
/// owns exactly the window, and the component writes never have to carry (and so co-own) a
/// window the operator may keep in Git or edit with kubectl.
pub const FIELD_MANAGER_WINDOW: &str = "openova-console-window";

/// Sets (`Some`) or removes (`None`) the Platform's `spec.maintenanceWindow`, at the
/// `resourceVersion` it was read at and retried on conflict. Setting is a server-side apply of
/// only the window ([`FIELD_MANAGER_WINDOW`], forced: the operator's explicit edit wins).
/// Removing is a JSON merge patch to `null`: an apply that leaves the field out would drop it
/// only when no other manager (the bootstrap, a `kubectl apply`) also owns it. Returns whether
/// it wrote (removing an absent window writes nothing).
pub async fn set_maintenance_window(
    conn: &ClusterConn,
    platform: &str,
    window: Option<&MaintenanceWindow>,
) -> Result<bool, ClusterError> {
    let api: Api<Platform> = Api::namespaced(conn.client.clone(), &conn.namespace);
    for attempt in 1..=MAX_ATTEMPTS {
        let current = get_platform(conn, platform).await?;
        if current.spec.maintenance_window.as_ref() == window {
            return Ok(false);
        }
        let (params, patch) = window_patch(conn, platform, &current, window);
        let result = match &patch {
            WindowPatch::Apply(body) => api.patch(platform, &params, &Patch::Apply(body)).await,
            WindowPatch::Remove(body) => api.patch(platform, &params, &Patch::Merge(body)).await,
        };
        match result {
            Ok(_) => return Ok(true),
            Err(e) if is_conflict(&e) => {
                tracing::debug!(platform, attempt, "Platform changed meanwhile; retrying");
                conflict_backoff(attempt).await;
            }
            Err(e) => return Err(map_err(e, conn, "patch", PLATFORMS, "Platform", platform)),
        }
    }
    Err(ClusterError::Conflict {
        kind: "Platform".into(),
        name: platform.to_owned(),
        attempts: MAX_ATTEMPTS,
    })
}

enum WindowPatch {
    Apply(serde_json::Value),
    Remove(serde_json::Value),
}

fn window_patch(
    conn: &ClusterConn,
    platform: &str,
    current: &Platform,
    window: Option<&MaintenanceWindow>,
) -> (PatchParams, WindowPatch) {
    let resource_version = &current.metadata.resource_version;
    match window {
        Some(w) => (
            PatchParams::apply(FIELD_MANAGER_WINDOW).force(),
            WindowPatch::Apply(json!({
                "apiVersion": consts::API_VERSION,
                "kind": "Platform",
                "metadata": {
                    "name": platform,
                    "namespace": conn.namespace,
                    "resourceVersion": resource_version,
                },
                "spec": { "maintenanceWindow": w },
            })),
        ),
        None => (
            PatchParams {
                field_manager: Some(FIELD_MANAGER_WINDOW.to_owned()),
                ..Default::default()
            },
            WindowPatch::Remove(json!({
                "metadata": { "resourceVersion": resource_version },
                "spec": { "maintenanceWindow": null },
            })),
        ),
    }
}
