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
}
