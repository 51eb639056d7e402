//! Kubernetes identifiers shared by the manager, the console and the bootstrap hand-over: API
//! group, namespace, field managers, finalizer, labels, annotations and the leader Lease.

/// API group of the Platform and Component resources.
pub const GROUP: &str = "openova.io";
/// API version of the Platform and Component resources.
pub const VERSION: &str = "v1alpha1";
/// `apiVersion` as written in manifests.
pub const API_VERSION: &str = "openova.io/v1alpha1";

/// Namespace the manager runs in and where Platform and Component resources live.
pub const NAMESPACE: &str = "openova-system";

/// Field manager for everything the Lifecycle Manager writes (delivery objects, status).
pub const FIELD_MANAGER_MANAGER: &str = "openova-manager";
/// Field manager for intent written by the day-2 console.
pub const FIELD_MANAGER_CONSOLE: &str = "openova-console";
/// Field manager for objects applied by the bootstrap hand-over.
pub const FIELD_MANAGER_BOOTSTRAP: &str = "openova-bootstrap";

/// Finalizer the manager puts on every Component so uninstall can clean up (or be refused).
pub const FINALIZER: &str = "components.openova.io/cleanup";

/// Name of the Lease the manager replicas compete for.
pub const LEASE_NAME: &str = "openova-manager";
/// Name of the manager's Deployment, ServiceAccount and Service.
pub const MANAGER_NAME: &str = "openova-manager";

/// Standard label naming the tool that manages an object.
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Value of [`LABEL_MANAGED_BY`] on objects the manager creates.
pub const MANAGED_BY: &str = "openova-manager";
/// Label naming the Platform a Component belongs to.
pub const LABEL_PLATFORM: &str = "openova.io/platform";
/// Label naming the Component a delivery object belongs to.
pub const LABEL_COMPONENT: &str = "openova.io/component";

/// Annotation on a Component listing the components that required it (why it was added when the
/// Platform did not ask for it directly). Comma-separated, empty when requested directly.
pub const ANNOTATION_REQUIRED_BY: &str = "openova.io/required-by";

/// Condition types the manager sets on Components and Platforms.
pub mod condition {
    /// The component is installed at its desired version and its delivery object is Ready.
    pub const READY: &str = "Ready";
    /// An upgrade is in progress, waiting for its scheduled time, or has just finished.
    pub const UPGRADING: &str = "Upgrading";
    /// Something needs the operator's attention (failed upgrade rolled back, install failed).
    pub const ALERT: &str = "Alert";
    /// Uninstall is refused because installed components depend on this one.
    pub const UNINSTALL_BLOCKED: &str = "UninstallBlocked";
    /// All enabled components exist and are reconciled (Platform).
    pub const RECONCILED: &str = "Reconciled";
    /// A version change was refused and does not run (past time, no or invalid maintenance
    /// window, major upgrade not confirmed).
    pub const UPGRADE_REFUSED: &str = "UpgradeRefused";
    /// The delivery kinds (Flux HelmRelease, Crossplane Release) are not served (Platform).
    pub const DELIVERY_CRDS_MISSING: &str = "DeliveryCRDsMissing";
    /// The Platform's maintenance window validates (Platform).
    pub const MAINTENANCE_WINDOW_VALID: &str = "MaintenanceWindowValid";
    /// The release is suspended (`spec.suspend`): the delivery controller does not reconcile it.
    pub const SUSPENDED: &str = "Suspended";
}

/// Flux's annotation asking a controller to reconcile an object now (any new value).
pub const ANNOTATION_FLUX_RECONCILE: &str = "reconcile.fluxcd.io/requestedAt";
/// Crossplane's annotation pausing reconciliation of a managed resource.
pub const ANNOTATION_CROSSPLANE_PAUSED: &str = "crossplane.io/paused";
/// Annotation on a Component confirming its uninstall again after a refusal (value: its name).
pub const ANNOTATION_CONFIRM_UNINSTALL: &str = "openova.io/confirm-uninstall";
