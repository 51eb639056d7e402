//! The `Platform` custom resource: which organization, regions and components a cluster runs, and
//! the rolled-up state the manager reports back.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::component::Alert;
use crate::domain::health::{Health, PlatformPhase};

/// Desired state of an OpenOva platform on one cluster (or a pair of regional clusters).
// kube's printcolumn(...) repeats `type_ = "string"`, which clippy mistakes for a duplicate.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "openova.io",
    version = "v1alpha1",
    kind = "Platform",
    plural = "platforms",
    singular = "platform",
    shortname = "ovp",
    category = "openova",
    namespaced,
    status = "PlatformStatus",
    derive = "PartialEq",
    doc = "An OpenOva platform: organization, regions and the components to run. The Lifecycle Manager keeps one Component per enabled entry (plus required dependencies) and reports their state here.",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(
        name = "Health",
        type_ = "integer",
        json_path = ".status.healthPercent",
        description = "Percentage of healthy components"
    ),
    printcolumn(
        name = "Upgrades",
        type_ = "integer",
        json_path = ".status.upgradeCount",
        description = "Components with a newer version in the catalog"
    ),
    printcolumn(name = "Alerts", type_ = "integer", json_path = ".status.alertCount"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct PlatformSpec {
    /// Who runs the platform.
    pub organization: Organization,
    /// The clusters of the platform, one per region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<Region>,
    /// The components the operator selected. Dependencies the catalog requires are added by the
    /// manager even when not listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<PlatformComponent>,
    /// How components are delivered: Flux HelmReleases (default) or Crossplane provider-helm Releases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryBackend>,
    /// Where the component catalog comes from: the one embedded in the manager (default) or a
    /// ConfigMap, for air-gapped sites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<CatalogSource>,
    /// When scheduled upgrades may run. Without a window, upgrades run as soon as they are due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_window: Option<MaintenanceWindow>,
    /// Chart repository URL used instead of the catalog's (a registry mirror).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_repository: Option<String>,
    /// Minutes between update checks against the catalog (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_check_interval_minutes: Option<u32>,
    /// Removals the operator confirmed. A Component is uninstalled only when the Platform no
    /// longer selects it, nothing installed requires it, and an entry here names it (directly or
    /// in `alsoRemove`). Components that are no longer selected but not named are kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removals: Vec<ConfirmedRemoval>,
}

/// One uninstall the operator confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmedRemoval {
    /// The component to uninstall.
    pub name: String,
    /// Dependencies no longer needed after it that the operator also chose to remove (the
    /// others are kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_remove: Vec<String>,
}

/// The organization that owns the platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// Organization name (DNS label).
    pub name: String,
    /// The organization's DNS domain.
    pub domain: String,
}

/// One regional cluster of the platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// Cluster (and kubeconfig context) name, e.g. `hz-fsn-rtz-prod`.
    pub cluster: String,
    /// Provider location code, e.g. `fsn`.
    pub location: String,
}

/// One component the operator selected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformComponent {
    /// Catalog name of the component.
    pub name: String,
    /// Wanted version; the catalog's current version when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Disabled entries are uninstalled (in reverse dependency order).
    #[serde(default = "enabled_default")]
    pub enabled: bool,
}

fn enabled_default() -> bool {
    true
}

/// Which delivery objects the manager renders for each Component.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryBackend {
    /// Flux `HelmRepository` + `HelmRelease` (helm.toolkit.fluxcd.io/v2).
    #[default]
    Flux,
    /// Crossplane provider-helm `Release` (helm.crossplane.io/v1beta1).
    Crossplane,
}

impl DeliveryBackend {
    /// The name used in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryBackend::Flux => "flux",
            DeliveryBackend::Crossplane => "crossplane",
        }
    }
}

/// Where the manager reads the component catalog from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogSource {
    /// Name of a ConfigMap in the Platform's namespace whose `components.toml` key holds the
    /// catalog. The embedded catalog is used when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
}

/// A weekly maintenance window, in its own time zone (UTC unless `timeZone` says otherwise).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceWindow {
    /// Days of the week the window opens (`Mon` … `Sun`); every day when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<Weekday>,
    /// Opening time, `HH:MM` local to `timeZone`.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub start: String,
    /// Length of the window in minutes.
    #[schemars(range(min = 1, max = 1440))]
    pub duration_minutes: u32,
    /// IANA time zone of `start` (`Europe/Berlin`); UTC when absent. Opening times follow the
    /// zone's daylight saving changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// Day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// What the manager observed, rolled up over all Components.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformStatus {
    /// Overall phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<PlatformPhase>,
    /// Per-component health and installed version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<PlatformComponentStatus>,
    /// Healthy components as a percentage of all components (0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_percent: Option<u8>,
    /// Newer versions the catalog offers for installed components.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub available_upgrades: Vec<AvailableUpgrade>,
    /// Number of entries in `availableUpgrades` (for printer columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_count: Option<u32>,
    /// Alerts raised by components (failed upgrades, failed installs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<Alert>,
    /// Number of entries in `alerts` (for printer columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_count: Option<u32>,
    /// Standard conditions (`Reconciled`, `DeliveryCRDsMissing`, `MaintenanceWindowValid`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Meta-platforms (e.g. AI Hub) whose required members are all selected, with whether they
    /// are installed (every required member healthy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meta_platforms: Vec<MetaPlatformStatus>,
    /// Components no longer selected that are kept because no confirmed removal names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<String>,
    /// The generation last acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reconciled: Option<Time>,
}

/// One component's state as seen from the Platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformComponentStatus {
    /// Catalog name.
    pub name: String,
    /// Health of the component.
    pub status: Health,
    /// Installed version (absent until first installed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Components that required this one when it was not selected directly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_by: Vec<String>,
}

/// A meta-platform as seen from the Platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetaPlatformStatus {
    /// Catalog name (`ai-hub`).
    pub name: String,
    /// Every required member is installed and healthy.
    pub installed: bool,
    /// Required members not healthy yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting_for: Vec<String>,
}

/// A newer version of an installed component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvailableUpgrade {
    /// Catalog name.
    pub component: String,
    /// Installed version.
    pub from: String,
    /// Newest version the catalog offers.
    pub to: String,
}
