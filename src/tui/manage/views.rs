//! Turns what the watchers see (Platform, Component and Event objects) and the catalog into the
//! console's views. Pure mapping: no I/O, no tasks.

use k8s_openapi::api::core::v1::Event as KubeEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use time::OffsetDateTime;

use super::model::{
    CatalogEntry, ComponentView, ConditionView, Endpoint, EventView, Group, PlatformView,
    RollbackView, Severity,
};
use crate::crd::{self, Component, Platform};
use crate::domain::catalog::{Catalog, Category};

fn ts(t: &Time) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.0.as_second()).ok()
}

fn condition(c: &Condition) -> ConditionView {
    ConditionView {
        kind: c.type_.clone(),
        status: c.status.clone(),
        reason: c.reason.clone(),
        message: c.message.clone(),
        at: ts(&c.last_transition_time),
    }
}

/// The catalog as the console shows it.
pub fn catalog_entries(catalog: &Catalog) -> Vec<CatalogEntry> {
    let mut out: Vec<CatalogEntry> = catalog
        .components()
        .iter()
        .map(|c| CatalogEntry {
            name: c.name.clone(),
            title: c.title.clone(),
            group: match c.category {
                Category::Mandatory => Group::Mandatory,
                Category::ALaCarte => Group::ALaCarte,
                Category::MetaPlatform => Group::MetaPlatform,
            },
            summary: c.description.clone(),
            version: crate::domain::catalog::display_version(&c.latest().version),
            requires: c.requires.clone(),
            optional: c
                .optional
                .iter()
                .map(|o| (o.name.clone(), o.reason.clone()))
                .collect(),
            majors: c
                .versions
                .iter()
                .filter(|v| v.major)
                .map(|v| v.version.clone())
                .collect(),
            holds_data: c.holds_data,
            changelog: c
                .versions
                .iter()
                .rev()
                .map(|v| {
                    (
                        crate::domain::catalog::display_version(&v.version),
                        // Sentences, each closed once: "fixes. Pinned …", not "fixes.; Pinned".
                        v.changes
                            .iter()
                            .map(|c| {
                                let c = c.trim();
                                if c.ends_with(['.', '!', '?']) {
                                    c.to_string()
                                } else {
                                    format!("{c}.")
                                }
                            })
                            .collect::<Vec<_>>()
                            .join(" "),
                    )
                })
                .collect(),
        })
        .collect();
    out.extend(catalog.meta_platforms().iter().map(|m| {
        CatalogEntry {
            name: m.name.clone(),
            title: m.title.clone(),
            group: Group::MetaPlatform,
            summary: m.description.clone(),
            version: String::new(),
            requires: m.requires.clone(),
            optional: m
                .optional
                .iter()
                .map(|o| (o.name.clone(), o.reason.clone()))
                .collect(),
            changelog: Vec::new(),
            majors: Vec::new(),
            holds_data: false,
        }
    }));
    out
}

/// A watched Component as the console shows it.
pub fn component_view(c: &Component) -> ComponentView {
    let status = c.status.clone().unwrap_or_default();
    let name = c.metadata.name.clone().unwrap_or_default();
    // A failed upgrade stays on record whether or not it could be rolled back.
    let rollback = status.upgrade.as_ref().and_then(|u| {
        let rolled_back = u.state == crd::UpgradeState::RolledBack;
        (rolled_back || u.state == crd::UpgradeState::Failed).then(|| RollbackView {
            rolled_back,
            from: u.to.clone(),
            to: u.from.clone(),
            reason: u
                .message
                .clone()
                .unwrap_or_else(|| "the new version did not become ready".into()),
            at: u.finished_at.as_ref().and_then(ts),
        })
    });
    let scheduled = match &status.upgrade {
        Some(u) if u.state == crd::UpgradeState::Scheduled => Some(
            u.scheduled_for
                .as_ref()
                .and_then(ts)
                .map(format_utc)
                .unwrap_or_else(|| "for the maintenance window".into()),
        ),
        _ => None,
    };
    let values = c
        .spec
        .values
        .as_ref()
        .and_then(|v| serde_saphyr::to_string(v).ok())
        .unwrap_or_default();
    ComponentView {
        name,
        version: c.spec.version.clone(),
        installed_version: status.version.clone(),
        category: c.spec.category.clone().unwrap_or_default(),
        dependencies: c.spec.dependencies.clone(),
        phase: status
            .phase
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        // Not reported yet is shown as Unknown, never guessed healthy.
        health: status.health.unwrap_or_default(),
        endpoints: status
            .endpoints
            .iter()
            .map(|e| Endpoint {
                name: e.name.clone(),
                url: e.url.clone(),
            })
            .collect(),
        conditions: status.conditions.iter().map(condition).collect(),
        values,
        available_upgrades: status.available_upgrades.clone(),
        last_good_version: status.last_good_version.clone(),
        rollback,
        scheduled,
        delivery: c.spec.delivery,
        suspended: c.spec.suspend,
    }
}

fn format_utc(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// A watched Platform as the console shows it.
pub fn platform_view(p: &Platform) -> PlatformView {
    let status = p.status.clone().unwrap_or_default();
    PlatformView {
        name: p.metadata.name.clone().unwrap_or_default(),
        organization: p.spec.organization.name.clone(),
        domain: p.spec.organization.domain.clone(),
        phase: status
            .phase
            .map(|ph| ph.as_str().to_string())
            .unwrap_or_default(),
        regions: p
            .spec
            .regions
            .iter()
            .map(|r| (r.cluster.clone(), r.location.clone()))
            .collect(),
        conditions: status.conditions.iter().map(condition).collect(),
        window: crate::manager::schedule::checked_window(p.spec.maintenance_window.as_ref())
            .map(|w| w.map_err(|e| e.to_string())),
        selected: p
            .spec
            .components
            .iter()
            .filter(|c| c.enabled)
            .map(|c| c.name.clone())
            .collect(),
        meta_installed: status
            .meta_platforms
            .iter()
            .filter(|m| m.installed)
            .map(|m| m.name.clone())
            .collect(),
        delivery: p.spec.delivery,
    }
}

/// A watched Event as the console shows it: a series (an Event that occurred again) by its
/// last occurrence and count, so the newest message and last-seen time are what is shown.
pub fn event_view(e: &KubeEvent) -> Option<EventView> {
    let series = e.series.as_ref();
    let at = series
        .and_then(|s| s.last_observed_time.as_ref())
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t.0.as_second()).ok())
        .or_else(|| e.last_timestamp.as_ref().and_then(ts))
        .or_else(|| e.first_timestamp.as_ref().and_then(ts))
        .or_else(|| {
            e.event_time
                .as_ref()
                .and_then(|t| OffsetDateTime::from_unix_timestamp(t.0.as_second()).ok())
        })
        .or_else(|| e.metadata.creation_timestamp.as_ref().and_then(ts))?;
    let count = series.and_then(|s| s.count).or(e.count).unwrap_or(1);
    Some(EventView {
        at,
        severity: if e.type_.as_deref() == Some("Warning") {
            Severity::Warning
        } else {
            Severity::Normal
        },
        object: format!(
            "{}/{}",
            e.involved_object.kind.clone().unwrap_or_default(),
            e.involved_object.name.clone().unwrap_or_default()
        ),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default(),
        count: u32::try_from(count).unwrap_or(1).max(1),
        id: e
            .metadata
            .uid
            .clone()
            .or_else(|| e.metadata.name.clone())
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::health::Health;

    fn component(status: serde_json::Value) -> Component {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "openova.io/v1alpha1", "kind": "Component",
            "metadata": { "name": "grafana", "namespace": "openova-system" },
            "spec": { "chart": "bp-grafana", "version": "11.4.0", "dependencies": ["cnpg"],
                      "values": { "adminUser": "admin" } },
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn component_view_rolled_back_upgrade_shows_failed_and_restored_versions() {
        let c = component(serde_json::json!({
            "phase": "Running", "health": "Degraded", "version": "11.3.0",
            "lastGoodVersion": "11.3.0", "availableUpgrades": ["11.4.0"],
            "upgrade": { "from": "11.3.0", "to": "11.4.0", "state": "RolledBack",
                         "startedAt": "2026-02-08T10:00:00Z", "finishedAt": "2026-02-08T10:10:00Z",
                         "message": "pods not ready" },
            "endpoints": [ { "name": "ui", "url": "https://grafana.acme.io" } ],
        }));
        let v = component_view(&c);
        assert_eq!(v.health, Health::Degraded);
        assert_eq!(v.installed_version.as_deref(), Some("11.3.0"));
        assert_eq!(v.upgrade(), Some("11.4.0"));
        let rb = v.rollback.expect("rollback shown");
        assert_eq!((rb.from.as_str(), rb.to.as_str()), ("11.4.0", "11.3.0"));
        assert_eq!(rb.reason, "pods not ready");
        assert!(rb.rolled_back);
        assert_eq!(v.endpoints[0].url, "https://grafana.acme.io");
        assert!(v.values.contains("adminUser: admin"), "{}", v.values);
    }

    #[test]
    fn component_view_failed_upgrade_without_rollback_stays_on_record() {
        let c = component(serde_json::json!({
            "phase": "Failed", "health": "Failed", "version": "11.4.0",
            "upgrade": { "from": "11.3.0", "to": "11.4.0", "state": "Failed",
                         "startedAt": "2026-02-08T10:00:00Z", "finishedAt": "2026-02-08T10:10:00Z",
                         "message": "UpgradeFailed: pods not ready" },
        }));
        let v = component_view(&c);
        let rb = v.rollback.clone().expect("the failure is shown");
        assert!(!rb.rolled_back);
        assert_eq!((rb.from.as_str(), rb.to.as_str()), ("11.4.0", "11.3.0"));
        let mut m = crate::tui::manage::fixtures::sample();
        m.clusters[0].components.insert(v.name.clone(), v);
        assert!(
            m.upgrade_rows().iter().any(|r| r.name == "grafana"),
            "listed in Upgrades although no newer version is available"
        );
    }

    #[test]
    fn component_view_without_status_is_unknown_not_healthy() {
        let mut c = component(serde_json::json!({}));
        c.status = None;
        let v = component_view(&c);
        assert_eq!(v.health, Health::Unknown);
        assert_eq!(v.shown_version(), "11.4.0");
    }

    #[test]
    fn component_view_scheduled_upgrade_shows_when() {
        let c = component(serde_json::json!({
            "upgrade": { "from": "11.3.0", "to": "11.4.0", "state": "Scheduled",
                         "startedAt": "2026-02-08T10:00:00Z", "scheduledFor": "2026-02-09T02:00:00Z" },
        }));
        assert_eq!(
            component_view(&c).scheduled.as_deref(),
            Some("2026-02-09 02:00 UTC")
        );
    }

    #[test]
    fn catalog_entries_embedded_meta_platform_lists_members_and_options() {
        let entries = catalog_entries(crate::catalog::embedded());
        let meta = entries
            .iter()
            .find(|e| e.group == Group::MetaPlatform)
            .expect("a meta-platform");
        assert!(!meta.requires.is_empty());
        let cilium = entries.iter().find(|e| e.name == "cilium").expect("cilium");
        assert_eq!(cilium.group, Group::Mandatory);
        assert!(cilium.changelog.len() >= 2, "changelog newest first");
    }

    #[test]
    fn event_view_series_shows_the_last_occurrence_and_its_count() {
        let e: KubeEvent = serde_json::from_value(serde_json::json!({
            "metadata": { "name": "acme.1", "namespace": "openova-system", "uid": "u-1" },
            "involvedObject": { "kind": "Platform", "name": "acme" },
            "reason": "AllHealthy", "type": "Normal",
            "message": "all 20 components are healthy",
            "firstTimestamp": "2026-02-08T09:00:00Z",
            "lastTimestamp": "2026-02-08T09:00:00Z",
            "count": 1,
            "series": { "count": 7, "lastObservedTime": "2026-02-08T10:25:00.000000Z" },
        }))
        .unwrap();
        let v = event_view(&e).unwrap();
        assert_eq!(v.at, time::macros::datetime!(2026-02-08 10:25:00 UTC));
        assert_eq!(v.count, 7);
        assert_eq!(v.message, "all 20 components are healthy");
        assert_eq!(v.id, "u-1");
    }
}
