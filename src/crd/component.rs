//! The `Component` custom resource: one installed platform component (a Helm chart at a version),
//! with its health, installed version, upgrade record and alerts.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::platform::DeliveryBackend;
use crate::domain::health::Health;

/// Desired state of one component.
// kube's printcolumn(...) repeats `type_ = "string"`, which clippy mistakes for a duplicate.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "openova.io",
    version = "v1alpha1",
    kind = "Component",
    plural = "components",
    singular = "component",
    shortname = "ovc",
    category = "openova",
    namespaced,
    status = "ComponentStatus",
    derive = "PartialEq",
    doc = "One OpenOva platform component: a Helm chart at a version. The Lifecycle Manager renders its delivery objects, watches them and reports health, upgrades and rollbacks here.",
    printcolumn(
        name = "Chart",
        type_ = "string",
        json_path = ".spec.chart",
        priority = 1
    ),
    printcolumn(name = "Wanted", type_ = "string", json_path = ".spec.version"),
    printcolumn(name = "Installed", type_ = "string", json_path = ".status.version"),
    printcolumn(name = "Health", type_ = "string", json_path = ".status.health"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ComponentSpec {
    /// Chart name in the chart repository.
    pub chart: String,
    /// Wanted chart version. Changing it starts an upgrade (now, or at `upgradeAt`).
    pub version: String,
    /// Catalog category (e.g. `data`, `security`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Names of the Components this one needs; their delivery objects are ordered before it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Helm values passed to the chart as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::preserve_unknown_fields")]
    pub values: Option<serde_json::Value>,
    /// Chart repository URL (`oci://…` or `https://…`); the catalog's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Namespace the chart is installed into; the catalog's (or the component name) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_namespace: Option<String>,
    /// Delivery backend; the Platform's (or Flux) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryBackend>,
    /// Earliest time a version change may be rolled out. The upgrade waits until then (and,
    /// when the Platform has a maintenance window, until the window is open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_at: Option<Time>,
    /// Seconds an install or upgrade may take before it counts as failed (default 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_timeout_seconds: Option<u32>,
    /// How a version change rolls out, and the operator's confirmations for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeIntent>,
    /// Retry a failed install or upgrade: write a new value (e.g. the current time). Acted on once
    /// per value; on a Component that is not failed it is refused (condition and Event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<String>,
    /// Ask the delivery controller to reconcile now: write a new value (e.g. the current time).
    /// Rendered as Flux's `reconcile.fluxcd.io/requestedAt` annotation (Crossplane: the same
    /// annotation, whose change makes provider-helm reconcile the Release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile_requested_at: Option<String>,
    /// Stop reconciling the release (Flux `spec.suspend`; Crossplane `crossplane.io/paused`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspend: bool,
}

impl ComponentSpec {
    /// The spec of catalog component `c` at `version`: chart, category, dependencies,
    /// namespace and chart repository from the catalog, everything else at its default. The
    /// manager (for what a Platform selects) and the console (for an install) both start here.
    pub fn of_catalog(c: &crate::domain::catalog::ComponentSpec, version: &str) -> ComponentSpec {
        ComponentSpec {
            chart: c.chart.name.clone(),
            version: version.to_string(),
            category: Some(c.category.as_str().to_string()),
            dependencies: c.requires.clone(),
            repository: Some(c.chart.repository.clone()),
            target_namespace: Some(c.namespace.clone()),
            ..ComponentSpec::default()
        }
    }
}

/// How a version change rolls out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeIntent {
    /// Run the change in the Platform's next maintenance window. Refused (nothing runs) when the
    /// Platform has no window.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub next_window: bool,
    /// Second confirmation of a major upgrade, naming the jump (`"11→12"`; `->` works too). A
    /// major upgrade without it is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_major: Option<String>,
}

/// Lifecycle phase of a component.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ComponentPhase {
    /// Accepted, nothing rendered yet.
    #[default]
    Pending,
    /// First install in progress.
    Installing,
    /// Installed at the wanted version (or holding a scheduled upgrade).
    Running,
    /// Moving to a new version.
    Upgrading,
    /// A failed upgrade is being reverted to `lastGoodVersion`.
    RollingBack,
    /// Install failed, or an upgrade failed and could not be rolled back.
    Failed,
    /// Being uninstalled (or uninstall refused: see the `UninstallBlocked` condition).
    Deleting,
}

impl ComponentPhase {
    /// The name used in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentPhase::Pending => "Pending",
            ComponentPhase::Installing => "Installing",
            ComponentPhase::Running => "Running",
            ComponentPhase::Upgrading => "Upgrading",
            ComponentPhase::RollingBack => "RollingBack",
            ComponentPhase::Failed => "Failed",
            ComponentPhase::Deleting => "Deleting",
        }
    }
}

/// What the manager observed for one component.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentStatus {
    /// Lifecycle phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ComponentPhase>,
    /// Health from the delivery object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// Version currently rendered into the delivery object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Last version that was Ready; the rollback target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_good_version: Option<String>,
    /// Newer versions the catalog offers, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub available_upgrades: Vec<String>,
    /// The current or most recent upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeRecord>,
    /// Service endpoints the component exposes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<Endpoint>,
    /// Alerts needing the operator's attention.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<Alert>,
    /// Standard conditions (`Ready`, `Upgrading`, `Alert`, `UninstallBlocked`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Reason and message of the delivery object's Ready condition, for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The generation last acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reconciled: Option<Time>,
    /// The `spec.retry` value last acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled_retry: Option<String>,
    /// The `spec.reconcileRequestedAt` value last passed to the delivery controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled_reconcile_at: Option<String>,
}

/// A service endpoint of a component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// What the endpoint is (e.g. `primary`, `ui`).
    pub name: String,
    /// Address (host, host:port or URL).
    pub url: String,
}

/// State of an upgrade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum UpgradeState {
    /// Waiting for `upgradeAt` or the maintenance window.
    Scheduled,
    /// The delivery object carries the new version; waiting for Ready.
    InProgress,
    /// The new version became Ready.
    Succeeded,
    /// The new version failed and the previous version was restored.
    RolledBack,
    /// The new version failed and there was nothing to roll back to, or the rollback failed too.
    Failed,
}

impl UpgradeState {
    /// The name used in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            UpgradeState::Scheduled => "Scheduled",
            UpgradeState::InProgress => "InProgress",
            UpgradeState::Succeeded => "Succeeded",
            UpgradeState::RolledBack => "RolledBack",
            UpgradeState::Failed => "Failed",
        }
    }
}

/// Record of the current or most recent version change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeRecord {
    /// Version before the upgrade.
    pub from: String,
    /// Version the upgrade moves to.
    pub to: String,
    /// When the new version was rendered (or, while scheduled, when the record was made).
    pub started_at: Time,
    /// Where the upgrade stands.
    pub state: UpgradeState,
    /// When it may start, for a scheduled upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<Time>,
    /// When it finished (succeeded, rolled back or failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Time>,
    /// Why it failed, from the delivery object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// How urgent an alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AlertSeverity {
    /// Something was repaired automatically (e.g. a rollback) but needs a look.
    Warning,
    /// Something is broken.
    Critical,
}

/// Something the operator should look at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// Component the alert is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// How urgent.
    pub severity: AlertSeverity,
    /// Machine-readable reason (`UpgradeRolledBack`, `InstallFailed`…).
    pub reason: String,
    /// What happened, for people.
    pub message: String,
    /// When it was raised.
    pub since: Time,
}
