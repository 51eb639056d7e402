//! The Platform controller: keeps one Component per enabled entry of `spec.components` plus the
//! dependencies the catalog requires (recording why), removes the rest leaves-first, and rolls
//! the Components' state up into `Platform.status`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::component::{now, set_condition};
use super::{Context, ManagerError};
use crate::crd::consts::{self, condition};
use crate::crd::{
    Alert, AlertSeverity, AvailableUpgrade, Component, ComponentSpec, Health, MetaPlatformStatus,
    Platform, PlatformComponentStatus, PlatformStatus,
};
use crate::domain::alerts::{AlertRef, count_active};
use crate::domain::catalog::{Catalog, display_version};
use crate::domain::health::{PlatformPhase, rollup};
use crate::domain::resolve::{Reason, install_plan};
use crate::domain::uninstall::{Installed, RemovalPlan, removal_plan};

/// One Component the Platform wants, with why it is there.
#[derive(Clone, Debug, PartialEq)]
pub struct Wanted {
    pub name: String,
    pub spec: ComponentSpec,
    /// Components that need it (empty when the operator asked for it).
    pub required_by: Vec<String>,
}

/// Why a Platform's wish list cannot be turned into Components.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    #[error("spec.components: {0}")]
    Resolve(#[from] crate::domain::resolve::ResolveError),
}

/// The Components a Platform wants, in install order. `existing_version` gives the version of a
/// Component that already exists, kept when the Platform entry names no version (so an upgrade
/// written on the Component itself is not undone).
pub fn wanted_components(
    platform: &Platform,
    catalog: &Catalog,
    existing_version: impl Fn(&str) -> Option<String>,
) -> Result<Vec<Wanted>, PlanError> {
    let enabled: Vec<&str> = platform
        .spec
        .components
        .iter()
        .filter(|c| c.enabled)
        .map(|c| c.name.as_str())
        .collect();
    let plan = install_plan(catalog, &BTreeSet::new(), &enabled, &[])?;
    let in_plan: BTreeSet<&str> = plan.items.iter().map(|i| i.name.as_str()).collect();
    let mut out = Vec::new();
    for item in &plan.items {
        let Some(entry) = catalog.get(&item.name) else {
            continue;
        };
        let explicit = platform
            .spec
            .components
            .iter()
            .find(|c| c.name == item.name && c.enabled)
            .and_then(|c| c.version.clone());
        let version = explicit
            .or_else(|| existing_version(&item.name))
            .unwrap_or_else(|| display_version(&entry.latest().version));
        let required_by = match item.reason {
            Reason::Requested => Vec::new(),
            _ => catalog
                .dependents_of(&item.name)
                .iter()
                .filter(|d| in_plan.contains(d.as_str()))
                .cloned()
                .collect(),
        };
        out.push(Wanted {
            name: item.name.clone(),
            spec: ComponentSpec {
                // The Platform's registry mirror; without one the catalog's repository is
                // taken when the delivery objects are rendered.
                repository: platform.spec.chart_repository.clone(),
                delivery: platform.spec.delivery,
                ..ComponentSpec::of_catalog(entry, &version)
            },
            required_by,
        });
    }
    Ok(out)
}

/// The names the Platform's confirmed removals list: each removal and the dependencies ticked
/// with it.
pub fn confirmed_removals(platform: &Platform) -> BTreeSet<String> {
    platform
        .spec
        .removals
        .iter()
        .flat_map(|r| std::iter::once(r.name.clone()).chain(r.also_remove.iter().cloned()))
        .collect()
}

/// The installed Components as the uninstall rules see them.
pub fn installed_of(existing: &[Arc<Component>]) -> Vec<Installed> {
    existing
        .iter()
        .map(|c| Installed {
            name: c.name_any(),
            requires: c.spec.dependencies.clone(),
            leaving: c.metadata.deletion_timestamp.is_some(),
        })
        .collect()
}

/// Which existing Components to delete now (those not wanted any more that nothing remaining
/// requires and that a confirmed removal names; leaves first, the rest on later passes), and
/// which are kept because no confirmed removal names them.
pub fn removable(
    existing: &[Arc<Component>],
    wanted: &BTreeSet<String>,
    confirmed: &BTreeSet<String>,
) -> RemovalPlan {
    removal_plan(&installed_of(existing), wanted, confirmed)
}

/// Meta-platforms the Platform selects (by name or alias), with whether each is installed:
/// every required member present and healthy.
pub fn meta_statuses(
    platform: &Platform,
    catalog: &Catalog,
    components: &[Arc<Component>],
) -> Vec<MetaPlatformStatus> {
    let healthy = |n: &str| {
        components.iter().any(|c| {
            c.name_any() == n && c.status.as_ref().and_then(|s| s.health) == Some(Health::Healthy)
        })
    };
    let mut out: Vec<MetaPlatformStatus> =
        catalog
            .meta_platforms()
            .iter()
            .filter(|m| {
                platform.spec.components.iter().any(|c| {
                    c.enabled && (c.name == m.name || m.aliases.iter().any(|a| a == &c.name))
                })
            })
            .map(|m| {
                let waiting_for: Vec<String> =
                    m.requires.iter().filter(|r| !healthy(r)).cloned().collect();
                MetaPlatformStatus {
                    name: m.name.clone(),
                    installed: waiting_for.is_empty(),
                    waiting_for,
                }
            })
            .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Facts about the Platform beyond its Components, for the roll-up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlatformFacts {
    /// Why the Platform's maintenance window is invalid; `None` when valid or absent.
    pub window_error: Option<String>,
    /// Whether the Platform has a maintenance window at all.
    pub has_window: bool,
    /// Why its delivery backend cannot deliver (CRDs not served).
    pub delivery_missing: Option<String>,
    pub meta_platforms: Vec<MetaPlatformStatus>,
    pub kept: Vec<String>,
}

/// Roll the Components' state up into a Platform status (without `lastReconciled`).
pub fn rollup_status(
    old: &PlatformStatus,
    generation: Option<i64>,
    components: &[Arc<Component>],
    required_by: &BTreeMap<String, Vec<String>>,
    problem: Option<&str>,
    facts: &PlatformFacts,
) -> PlatformStatus {
    let mut sorted: Vec<&Arc<Component>> = components.iter().collect();
    sorted.sort_by_key(|c| c.name_any());
    let health = rollup(
        sorted
            .iter()
            .map(|c| c.status.as_ref().and_then(|s| s.health)),
    );
    // Failed is the Platform's own: a spec that cannot be reconciled.
    let phase = if problem.is_some() {
        PlatformPhase::Failed
    } else {
        health.phase
    };
    let mut available = Vec::new();
    let mut alerts = Vec::new();
    let mut statuses = Vec::new();
    for c in &sorted {
        let name = c.name_any();
        let st = c.status.clone().unwrap_or_default();
        if let (Some(from), Some(to)) = (st.version.clone(), st.available_upgrades.last()) {
            available.push(AvailableUpgrade {
                component: name.clone(),
                from,
                to: to.clone(),
            });
        }
        alerts.extend(st.alerts.iter().cloned());
        statuses.push(PlatformComponentStatus {
            name: name.clone(),
            status: st.health.unwrap_or_default(),
            version: st.version.clone(),
            required_by: required_by.get(&name).cloned().unwrap_or_default(),
        });
    }
    if let Some(why) = &facts.delivery_missing {
        // Kept from the last status while it lasts, so the alert's time says since when.
        let since = old
            .alerts
            .iter()
            .find(|a| a.component.is_none() && a.reason == "DeliveryCRDsMissing")
            .map_or_else(|| Time(now()), |a| a.since.clone());
        alerts.insert(
            0,
            Alert {
                component: None,
                severity: AlertSeverity::Critical,
                reason: "DeliveryCRDsMissing".to_string(),
                message: why.clone(),
                since,
            },
        );
    }
    let alert_count = count_active(alerts.iter().map(|a| AlertRef {
        component: a.component.as_deref(),
        reason: &a.reason,
    }));
    let mut conditions = old.conditions.clone();
    let (ok, reason, message) = match (problem, &facts.delivery_missing) {
        (Some(p), _) => (false, "InvalidSpec", p.to_string()),
        (None, Some(why)) => (false, "DeliveryCRDsMissing", why.clone()),
        (None, None) => (
            true,
            "ComponentsInPlace",
            format!("{} components, {} healthy", health.total, health.healthy),
        ),
    };
    let plain = |type_: &str, status: bool, reason: &str, message: String| {
        super::component::cond(type_, status, reason, message, generation)
    };
    match &facts.delivery_missing {
        Some(why) => set_condition(
            &mut conditions,
            plain(
                condition::DELIVERY_CRDS_MISSING,
                true,
                "CRDsNotServed",
                why.clone(),
            ),
        ),
        None if conditions
            .iter()
            .any(|c| c.type_ == condition::DELIVERY_CRDS_MISSING) =>
        {
            set_condition(
                &mut conditions,
                plain(
                    condition::DELIVERY_CRDS_MISSING,
                    false,
                    "CRDsServed",
                    "the delivery kinds are served".to_string(),
                ),
            );
        }
        None => {}
    }
    match (&facts.window_error, facts.has_window) {
        (Some(e), _) => set_condition(
            &mut conditions,
            plain(
                condition::MAINTENANCE_WINDOW_VALID,
                false,
                "InvalidMaintenanceWindow",
                format!("spec.maintenanceWindow: {e}; no upgrade runs until it is fixed"),
            ),
        ),
        (None, true) => set_condition(
            &mut conditions,
            plain(
                condition::MAINTENANCE_WINDOW_VALID,
                true,
                "Valid",
                "spec.maintenanceWindow validates".to_string(),
            ),
        ),
        (None, false) => conditions.retain(|c| c.type_ != condition::MAINTENANCE_WINDOW_VALID),
    }
    set_condition(
        &mut conditions,
        Condition {
            type_: condition::RECONCILED.to_string(),
            status: if ok { "True" } else { "False" }.to_string(),
            reason: reason.to_string(),
            message,
            observed_generation: generation,
            last_transition_time: Time(now()),
        },
    );
    PlatformStatus {
        phase: Some(phase),
        health_percent: Some(health.percent),
        upgrade_count: Some(u32::try_from(available.len()).unwrap_or(u32::MAX)),
        available_upgrades: available,
        alert_count: Some(u32::try_from(alert_count).unwrap_or(u32::MAX)),
        alerts,
        components: statuses,
        conditions,
        meta_platforms: facts.meta_platforms.clone(),
        kept: facts.kept.clone(),
        observed_generation: generation,
        last_reconciled: None,
    }
}

/// The note of the one Event a Platform gets when all its components have become healthy (after
/// the first install, or after a problem); `None` when that did not just happen.
fn all_healthy_note(old: &PlatformStatus, new: &PlatformStatus) -> Option<String> {
    let now_running = new.phase == Some(PlatformPhase::Running) && !new.components.is_empty();
    (now_running && old.phase != Some(PlatformPhase::Running)).then(|| match new.components.len() {
        1 => "its one component is healthy".to_string(),
        n => format!("all {n} components are healthy"),
    })
}

/// Warning Events for problems that just appeared: an invalid maintenance window, delivery CRDs
/// not served. Each once, when its condition turns bad.
fn platform_warnings(old: &PlatformStatus, new: &PlatformStatus) -> Vec<(&'static str, String)> {
    let became = |type_: &str, bad: &str| {
        let is_bad = |st: &PlatformStatus| {
            st.conditions
                .iter()
                .find(|c| c.type_ == type_)
                .filter(|c| c.status == bad)
                .map(|c| c.message.clone())
        };
        is_bad(new).filter(|_| is_bad(old).is_none())
    };
    let mut out = Vec::new();
    if let Some(m) = became(condition::MAINTENANCE_WINDOW_VALID, "False") {
        out.push(("InvalidMaintenanceWindow", m));
    }
    if let Some(m) = became(condition::DELIVERY_CRDS_MISSING, "True") {
        out.push(("DeliveryCRDsMissing", m));
    }
    out
}

fn comparable(status: &PlatformStatus) -> PlatformStatus {
    PlatformStatus {
        last_reconciled: None,
        ..status.clone()
    }
}

fn component_up_to_date(existing: &Component, want: &Wanted, platform: &str) -> bool {
    let labels = existing.labels();
    let annotations = existing.annotations();
    let required_by = want.required_by.join(",");
    existing.spec.chart == want.spec.chart
        && existing.spec.version == want.spec.version
        && existing.spec.category == want.spec.category
        && existing.spec.dependencies == want.spec.dependencies
        && existing.spec.repository == want.spec.repository
        && existing.spec.target_namespace == want.spec.target_namespace
        && existing.spec.delivery == want.spec.delivery
        && labels.get(consts::LABEL_PLATFORM).map(String::as_str) == Some(platform)
        && annotations
            .get(consts::ANNOTATION_REQUIRED_BY)
            .map(String::as_str)
            == Some(required_by.as_str())
        && existing.finalizers().iter().any(|f| f == consts::FINALIZER)
}

/// Reconcile one Platform (entry point for the controller).
pub async fn reconcile(p: Arc<Platform>, ctx: Arc<Context>) -> Result<Action, ManagerError> {
    let started = Instant::now();
    let result = apply(&p, &ctx).await;
    ctx.metrics
        .observe_reconcile("platform", started.elapsed(), result.is_err());
    if result.is_ok() {
        ctx.forget_backoff(&format!("platform/{}", p.name_any()));
    }
    result
}

async fn apply(p: &Platform, ctx: &Context) -> Result<Action, ManagerError> {
    let name = p.name_any();
    let ns = p.namespace().unwrap_or_else(|| ctx.namespace.clone());
    let mine: Vec<Arc<Component>> = ctx
        .components_in(&ns)
        .into_iter()
        .filter(|c| c.labels().get(consts::LABEL_PLATFORM) == Some(&name))
        .collect();
    let old = p.status.clone().unwrap_or_default();
    ctx.wake_components_on_change(p, &mine);

    let mut facts = PlatformFacts::default();
    let (problem, required_by) = match ctx.catalog_for(Some(p)).await {
        Err(e) => (Some(e.to_string()), BTreeMap::new()),
        Ok(catalog) => {
            facts.meta_platforms = meta_statuses(p, &catalog, &mine);
            let existing_version = |n: &str| {
                mine.iter()
                    .find(|c| c.name_any() == n)
                    .map(|c| c.spec.version.clone())
            };
            match wanted_components(p, &catalog, existing_version) {
                Err(e) => (Some(e.to_string()), BTreeMap::new()),
                Ok(wanted) => {
                    facts.delivery_missing =
                        ctx.delivery_missing(p.spec.delivery.unwrap_or_default());
                    let api: Api<Component> = Api::namespaced(ctx.client.clone(), &ns);
                    let owner = p.controller_owner_ref(&());
                    for w in &wanted {
                        let existing = mine.iter().find(|c| c.name_any() == w.name);
                        if existing.is_some_and(|e| {
                            e.metadata.deletion_timestamp.is_some()
                                || component_up_to_date(e, w, &name)
                        }) {
                            continue;
                        }
                        let obj = json!({
                            "apiVersion": consts::API_VERSION,
                            "kind": "Component",
                            "metadata": {
                                "name": w.name,
                                "namespace": ns,
                                "labels": {
                                    consts::LABEL_PLATFORM: name,
                                    consts::LABEL_MANAGED_BY: consts::MANAGED_BY,
                                },
                                "annotations": { consts::ANNOTATION_REQUIRED_BY: w.required_by.join(",") },
                                "ownerReferences": owner.iter().collect::<Vec<_>>(),
                                "finalizers": [consts::FINALIZER],
                            },
                            "spec": w.spec,
                        });
                        api.patch(
                            &w.name,
                            &PatchParams::apply(consts::FIELD_MANAGER_MANAGER).force(),
                            &Patch::Apply(&obj),
                        )
                        .await
                        .map_err(|source| {
                            ManagerError::kube(
                                format!("applying Component {ns}/{}", w.name),
                                source,
                            )
                        })?;
                        ctx.metrics.count_write();
                    }
                    let wanted_names: BTreeSet<String> =
                        wanted.iter().map(|w| w.name.clone()).collect();
                    let plan = removable(&mine, &wanted_names, &confirmed_removals(p));
                    facts.kept = plan.kept;
                    for gone in plan.remove {
                        let c = mine.iter().find(|c| c.name_any() == gone);
                        if c.is_some_and(|c| c.metadata.deletion_timestamp.is_some()) {
                            continue;
                        }
                        match api.delete(&gone, &DeleteParams::background()).await {
                            Ok(_) => ctx.metrics.count_write(),
                            Err(kube::Error::Api(e)) if e.code == 404 => {}
                            Err(source) => {
                                return Err(ManagerError::kube(
                                    format!("deleting Component {ns}/{gone}"),
                                    source,
                                ));
                            }
                        }
                    }
                    let rb = wanted
                        .iter()
                        .map(|w| (w.name.clone(), w.required_by.clone()))
                        .collect();
                    (None, rb)
                }
            }
        }
    };

    facts.has_window = p.spec.maintenance_window.is_some();
    facts.window_error = super::schedule::checked_window(p.spec.maintenance_window.as_ref())
        .and_then(|w| w.err())
        .map(|e| e.to_string());
    let status = rollup_status(
        &old,
        p.metadata.generation,
        &mine,
        &required_by,
        problem.as_deref(),
        &facts,
    );
    if comparable(&status) != comparable(&old) {
        let mut status = status;
        status.last_reconciled = Some(Time(now()));
        let api: Api<Platform> = Api::namespaced(ctx.client.clone(), &ns);
        let patch =
            json!({ "apiVersion": consts::API_VERSION, "kind": "Platform", "status": status });
        api.patch_status(
            &name,
            &PatchParams::apply(consts::FIELD_MANAGER_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await
        .map_err(|source| {
            ManagerError::kube(
                format!("writing the status of Platform {ns}/{name}"),
                source,
            )
        })?;
        ctx.metrics.count_write();
        if let Some(note) = all_healthy_note(&old, &status) {
            ctx.publish(p, EventType::Normal, "AllHealthy", note).await;
        }
        for (reason, note) in platform_warnings(&old, &status) {
            ctx.publish(p, EventType::Warning, reason, note).await;
        }
    }
    ctx.metrics.set_component_health(&mine);
    let interval = p.spec.update_check_interval_minutes.unwrap_or(60);
    Ok(Action::requeue(Duration::from_secs(
        u64::from(interval) * 60,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::health::Health;

    fn seed() -> Platform {
        serde_saphyr::from_str(include_str!("../../deploy/examples/platform.yaml")).expect("seed")
    }

    #[test]
    fn wanted_components_seed_adds_required_dependencies_with_reason() {
        let catalog = crate::catalog::embedded();
        let wanted = wanted_components(&seed(), catalog, |_| None).expect("plan");
        let names: Vec<&str> = wanted.iter().map(|w| w.name.as_str()).collect();
        for n in ["cilium", "grafana", "cnpg"] {
            assert!(names.contains(&n), "{n} missing from {names:?}");
        }
        // Every dependency of a wanted component is wanted too, and comes earlier.
        for (i, w) in wanted.iter().enumerate() {
            for d in &w.spec.dependencies {
                let at = names
                    .iter()
                    .position(|n| n == d)
                    .expect("dependency planned");
                assert!(at < i, "{d} must come before {}", w.name);
            }
        }
        let grafana = wanted
            .iter()
            .find(|w| w.name == "grafana")
            .expect("grafana");
        assert!(grafana.required_by.is_empty(), "requested directly");
        assert_eq!(grafana.spec.version, "v11.4.0", "explicit version kept");
        let added: Vec<&Wanted> = wanted
            .iter()
            .filter(|w| !w.required_by.is_empty())
            .collect();
        assert!(!added.is_empty(), "grafana pulls in dependencies");
        assert!(
            added
                .iter()
                .all(|w| !["cilium", "grafana", "cnpg"].contains(&w.name.as_str()))
        );
    }

    #[test]
    fn wanted_components_unknown_name_is_an_error_naming_it() {
        let mut p = seed();
        p.spec.components[0].name = "grafanna".into();
        let err = wanted_components(&p, crate::catalog::embedded(), |_| None).expect_err("unknown");
        assert!(err.to_string().contains("grafanna"), "{err}");
    }

    fn comp(name: &str, deps: &[&str]) -> Arc<Component> {
        let mut c = Component::new(
            name,
            ComponentSpec {
                chart: name.into(),
                version: "v1.0.0".into(),
                dependencies: deps.iter().map(|d| d.to_string()).collect(),
                ..ComponentSpec::default()
            },
        );
        c.metadata.namespace = Some("openova-system".into());
        Arc::new(c)
    }

    #[test]
    fn removable_deletes_leaves_before_their_dependencies() {
        let existing = vec![
            comp("cnpg", &[]),
            comp("harbor", &["cnpg"]),
            comp("cilium", &[]),
        ];
        let wanted: BTreeSet<String> = ["cilium".to_string()].into();
        let confirmed: BTreeSet<String> = ["harbor".to_string(), "cnpg".to_string()].into();
        assert_eq!(
            removable(&existing, &wanted, &confirmed).remove,
            vec!["harbor".to_string()]
        );
        let after = vec![comp("cnpg", &[]), comp("cilium", &[])];
        assert_eq!(
            removable(&after, &wanted, &confirmed).remove,
            vec!["cnpg".to_string()]
        );
        // Without a confirmed removal naming it, a deselected component is kept.
        let plan = removable(&after, &wanted, &BTreeSet::new());
        assert!(plan.remove.is_empty());
        assert_eq!(plan.kept, vec!["cnpg".to_string()]);
    }

    #[test]
    fn all_healthy_event_only_when_the_platform_becomes_running() {
        let with = |phase: PlatformPhase, n: usize| PlatformStatus {
            phase: Some(phase),
            components: (0..n)
                .map(|i| PlatformComponentStatus {
                    name: format!("c{i}"),
                    status: Health::Healthy,
                    version: Some("v1.0.0".into()),
                    required_by: vec![],
                })
                .collect(),
            ..PlatformStatus::default()
        };
        let installing = with(PlatformPhase::Installing, 3);
        let running = with(PlatformPhase::Running, 3);
        assert_eq!(
            all_healthy_note(&installing, &running).as_deref(),
            Some("all 3 components are healthy")
        );
        assert_eq!(
            all_healthy_note(
                &with(PlatformPhase::Degraded, 1),
                &with(PlatformPhase::Running, 1)
            )
            .as_deref(),
            Some("its one component is healthy")
        );
        // Still running (a status write for another reason), or nothing to be healthy: no Event.
        assert_eq!(all_healthy_note(&running, &running), None);
        assert_eq!(
            all_healthy_note(&installing, &with(PlatformPhase::Running, 0)),
            None
        );
        assert_eq!(all_healthy_note(&running, &installing), None);
    }

    #[test]
    fn rollup_status_failed_component_degrades_and_only_a_problem_fails_the_platform() {
        let component = |name: &str, health: Option<&str>| -> Arc<Component> {
            let status = match health {
                Some(h) => serde_json::json!({ "health": h, "version": "1.0.0" }),
                None => serde_json::json!({}),
            };
            Arc::new(
                serde_json::from_value(serde_json::json!({
                    "apiVersion": "openova.io/v1alpha1", "kind": "Component",
                    "metadata": { "name": name, "namespace": "openova-system" },
                    "spec": { "chart": "bp-x", "version": "1.0.0" },
                    "status": status,
                }))
                .expect("component"),
            )
        };
        let status = |comps: &[Arc<Component>], problem: Option<&str>| {
            rollup_status(
                &PlatformStatus::default(),
                Some(1),
                comps,
                &BTreeMap::new(),
                problem,
                &PlatformFacts::default(),
            )
        };
        let failed = [
            component("a", Some("Healthy")),
            component("b", Some("Failed")),
        ];
        let st = status(&failed, None);
        assert_eq!(
            (st.phase, st.health_percent),
            (Some(PlatformPhase::Degraded), Some(50))
        );
        assert_eq!(st.components[1].status, Health::Failed);
        let unknown = [component("a", Some("Healthy")), component("b", None)];
        let st = status(&unknown, None);
        assert_eq!(st.phase, Some(PlatformPhase::Pending));
        // Not reported yet is written as Unknown, the CRD's default.
        assert_eq!(st.components[1].status, Health::Unknown);
        let st = status(&failed, Some("unknown component `nope`"));
        assert_eq!(st.phase, Some(PlatformPhase::Failed));
    }
}
