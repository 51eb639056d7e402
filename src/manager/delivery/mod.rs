//! Delivery objects: what the manager renders for a Component (Flux or Crossplane), and how their
//! `Ready` condition maps back to component health.

pub mod crossplane;
pub mod flux;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{ApiResource, DynamicObject};
use serde_json::Value;

use crate::crd::DeliveryBackend;

/// Everything needed to render the delivery objects of one Component.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderInput {
    /// Namespace of the Component (and of namespaced delivery objects).
    pub namespace: String,
    /// Component name.
    pub name: String,
    /// Chart name in the repository.
    pub chart: String,
    /// Chart version to deliver.
    pub chart_version: String,
    /// Chart repository URL.
    pub repository: String,
    /// Namespace the chart installs into.
    pub target_namespace: String,
    /// Components that must be ready first.
    pub dependencies: Vec<String>,
    /// Helm values.
    pub values: Option<Value>,
    /// Owner reference to the Component (only set on namespaced objects).
    pub owner: Option<OwnerReference>,
    /// Stop the delivery controller reconciling the release.
    pub suspend: bool,
    /// Token of the newest "reconcile now" request (`reconcile.fluxcd.io/requestedAt`).
    pub requested_at: Option<String>,
    /// Token of the newest retry: with the same value as `requested_at` it forces one Helm
    /// release and resets the failure counts (`reconcile.fluxcd.io/forceAt`, `…/resetAt`).
    pub forced_at: Option<String>,
}

/// Flux's annotation forcing a one-off Helm release when it equals `requestedAt`.
pub const ANNOTATION_FORCE: &str = "reconcile.fluxcd.io/forceAt";
/// Flux's annotation resetting a HelmRelease's failure counts when it equals `requestedAt`.
pub const ANNOTATION_RESET: &str = "reconcile.fluxcd.io/resetAt";

/// The annotations a rendered object carries for the operator's requests: reconcile now, and
/// for a retry force and reset (Flux acts on those only when they equal `requestedAt`).
pub(crate) fn request_annotations(
    input: &RenderInput,
) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    if let Some(at) = &input.requested_at {
        out.insert(
            crate::crd::consts::ANNOTATION_FLUX_RECONCILE.to_string(),
            at.clone(),
        );
    }
    if let Some(at) = &input.forced_at {
        out.insert(ANNOTATION_FORCE.to_string(), at.clone());
        out.insert(ANNOTATION_RESET.to_string(), at.clone());
    }
    out
}

/// One object to apply, with the API resource it belongs to.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub resource: ApiResource,
    /// Whether the kind is namespaced.
    pub namespaced: bool,
    pub object: DynamicObject,
}

/// The primary delivery object of a Component (the one whose `Ready` condition counts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Primary {
    pub resource: ApiResource,
    pub namespaced: bool,
    pub name: String,
}

/// Render the objects for `backend`, primary object last (so its source exists first).
pub fn render(backend: DeliveryBackend, input: &RenderInput) -> Vec<Rendered> {
    match backend {
        DeliveryBackend::Flux => flux::render(input),
        DeliveryBackend::Crossplane => vec![crossplane::render(input)],
    }
}

/// Every object kind a backend may have rendered for a Component, with the name it uses
/// (for cleanup and for reading state back).
pub fn objects_of(backend: DeliveryBackend, namespace: &str, name: &str) -> Vec<Primary> {
    match backend {
        DeliveryBackend::Flux => vec![
            Primary {
                resource: flux::helm_release_resource(),
                namespaced: true,
                name: name.to_string(),
            },
            Primary {
                resource: flux::helm_repository_resource(),
                namespaced: true,
                name: name.to_string(),
            },
        ],
        DeliveryBackend::Crossplane => vec![Primary {
            resource: crossplane::release_resource(),
            namespaced: false,
            name: crossplane::release_name(namespace, name),
        }],
    }
}

/// The object whose `Ready` condition is the Component's health.
pub fn primary_of(backend: DeliveryBackend, namespace: &str, name: &str) -> Primary {
    match backend {
        DeliveryBackend::Flux => Primary {
            resource: flux::helm_release_resource(),
            namespaced: true,
            name: name.to_string(),
        },
        DeliveryBackend::Crossplane => Primary {
            resource: crossplane::release_resource(),
            namespaced: false,
            name: crossplane::release_name(namespace, name),
        },
    }
}

/// What a delivery object's `Ready` condition says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// The controller (helm-controller, provider-helm) has not looked at the current generation yet.
    Pending,
    /// Ready=True for the current generation.
    Ready { reason: String, message: String },
    /// Ready=False for the current generation: the release failed.
    Failed { reason: String, message: String },
    /// Ready=Unknown for the current generation: still working.
    Progressing { reason: String, message: String },
}

/// Read the `Ready` condition of a Flux HelmRelease or Crossplane Release. A condition counts only
/// when it describes the object's current generation (status.observedGeneration, or the
/// condition's own observedGeneration), so a stale Ready=True from the previous version is never
/// taken for success of a new one.
pub fn readiness(obj: &DynamicObject) -> Readiness {
    let generation = obj.metadata.generation;
    let status = obj.data.get("status");
    // A retry forces a release without a new generation: until Flux says it handled the
    // request, the old failure is not the answer to it.
    let annotation = |key: &str| obj.metadata.annotations.as_ref().and_then(|a| a.get(key));
    if let (Some(force), Some(requested)) = (
        annotation(ANNOTATION_FORCE),
        annotation(crate::crd::consts::ANNOTATION_FLUX_RECONCILE),
    ) && force == requested
    {
        let handled = status
            .and_then(|s| s.get("lastHandledForceAt"))
            .and_then(Value::as_str);
        if handled != Some(force.as_str()) {
            return Readiness::Pending;
        }
    }
    let status_generation = status
        .and_then(|s| s.get("observedGeneration"))
        .and_then(Value::as_i64);
    let Some(cond) = status
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
        })
    else {
        return Readiness::Pending;
    };
    let observed = cond
        .get("observedGeneration")
        .and_then(Value::as_i64)
        .or(status_generation);
    if let (Some(generation), Some(observed)) = (generation, observed)
        && observed < generation
    {
        return Readiness::Pending;
    }
    if generation.is_some() && observed.is_none() {
        return Readiness::Pending;
    }
    let text = |key: &str| {
        cond.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (reason, message) = (text("reason"), text("message"));
    match cond.get("status").and_then(Value::as_str) {
        Some("True") => Readiness::Ready { reason, message },
        // Flux reports waiting for dependsOn as Ready=False; that is not a failed release.
        Some("False") if reason == "DependencyNotReady" => {
            Readiness::Progressing { reason, message }
        }
        Some("False") => Readiness::Failed { reason, message },
        _ => Readiness::Progressing { reason, message },
    }
}

/// True when every field of `want` is present with the same value in `have` (objects compared
/// key by key, everything else exactly). Fields the API server or other controllers add do not
/// count as a difference, so an unchanged rendering causes no write.
pub fn is_subset(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| is_subset(v, hv))),
        (Value::Array(w), Value::Array(h)) => {
            w.len() == h.len() && w.iter().zip(h).all(|(a, b)| is_subset(a, b))
        }
        _ => want == have,
    }
}

/// Whether the existing object already carries everything the rendered one sets (labels, owner,
/// spec), so applying it would change nothing.
pub fn up_to_date(rendered: &DynamicObject, existing: &DynamicObject) -> bool {
    let labels_ok = rendered.metadata.labels.as_ref().is_none_or(|want| {
        let have = existing.metadata.labels.clone().unwrap_or_default();
        want.iter().all(|(k, v)| have.get(k) == Some(v))
    });
    let annotations_ok = rendered.metadata.annotations.as_ref().is_none_or(|want| {
        let have = existing.metadata.annotations.clone().unwrap_or_default();
        want.iter().all(|(k, v)| have.get(k) == Some(v))
    });
    let owners_ok = rendered
        .metadata
        .owner_references
        .as_ref()
        .is_none_or(|want| {
            let have = existing
                .metadata
                .owner_references
                .clone()
                .unwrap_or_default();
            want.iter().all(|w| have.iter().any(|h| h.uid == w.uid))
        });
    let spec_ok = match (rendered.data.get("spec"), existing.data.get("spec")) {
        (Some(want), Some(have)) => is_subset(want, have),
        (None, _) => true,
        (Some(_), None) => false,
    };
    labels_ok && annotations_ok && owners_ok && spec_ok
}

pub(crate) fn labels(input: &RenderInput) -> std::collections::BTreeMap<String, String> {
    use crate::crd::consts;
    [
        (
            consts::LABEL_MANAGED_BY.to_string(),
            consts::MANAGED_BY.to_string(),
        ),
        (consts::LABEL_COMPONENT.to_string(), input.name.clone()),
    ]
    .into_iter()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(generation: i64, status: Value) -> DynamicObject {
        let mut o = DynamicObject::new("x", &flux::helm_release_resource());
        o.metadata.generation = Some(generation);
        o.data = json!({ "status": status });
        o
    }

    #[test]
    fn readiness_stale_ready_true_counts_as_pending() {
        let o = obj(
            3,
            json!({"observedGeneration": 2, "conditions": [{"type": "Ready", "status": "True", "reason": "InstallSucceeded", "message": "ok"}]}),
        );
        assert_eq!(readiness(&o), Readiness::Pending);
    }

    #[test]
    fn readiness_current_ready_false_is_failed_with_reason() {
        let o = obj(
            3,
            json!({"observedGeneration": 3, "conditions": [{"type": "Ready", "status": "False", "reason": "UpgradeFailed", "message": "timed out"}]}),
        );
        assert_eq!(
            readiness(&o),
            Readiness::Failed {
                reason: "UpgradeFailed".into(),
                message: "timed out".into()
            }
        );
    }

    #[test]
    fn readiness_condition_generation_counts_for_crossplane() {
        let o = obj(
            1,
            json!({"conditions": [{"type": "Ready", "status": "True", "reason": "Available", "observedGeneration": 1}]}),
        );
        assert!(matches!(readiness(&o), Readiness::Ready { .. }));
    }

    #[test]
    fn readiness_without_status_is_pending() {
        let o = obj(1, json!({}));
        assert_eq!(readiness(&o), Readiness::Pending);
    }

    #[test]
    fn is_subset_extra_server_fields_are_not_a_difference() {
        let want = json!({"a": 1, "b": {"c": [1, {"d": 2}]}});
        let have = json!({"a": 1, "z": 9, "b": {"c": [1, {"d": 2, "e": 3}], "y": 1}});
        assert!(is_subset(&want, &have));
        assert!(!is_subset(&json!({"a": 2}), &have));
        assert!(!is_subset(&json!({"b": {"c": [1]}}), &have));
    }
}
