//! Crossplane delivery: one provider-helm `Release` (helm.crossplane.io/v1beta1) per Component.
//! Release is cluster-scoped, so it cannot carry an owner reference to the namespaced Component;
//! the Component's finalizer deletes it, and its name carries the namespace to stay unique.

use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::json;

use super::{RenderInput, Rendered, labels};

/// `helm.crossplane.io/v1beta1` `Release`.
pub fn release_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("helm.crossplane.io", "v1beta1", "Release"),
        "releases",
    )
}

/// Cluster-wide name of a Component's Release.
pub fn release_name(namespace: &str, name: &str) -> String {
    format!("{namespace}-{name}")
}

/// The Release for one Component. Provider-helm has no dependency ordering; the manager only
/// renders it once the dependencies are healthy.
pub fn render(input: &RenderInput) -> Rendered {
    let resource = release_resource();
    let mut obj = DynamicObject::new(&release_name(&input.namespace, &input.name), &resource);
    obj.metadata.labels = Some(labels(input));
    // provider-helm reconciles a Release when its annotations change (crossplane-runtime's
    // DesiredStateChanged filter), so the same request annotation works as "reconcile now";
    // `crossplane.io/paused` stops it.
    let mut annotations = super::request_annotations(input);
    annotations.insert(
        crate::crd::consts::ANNOTATION_CROSSPLANE_PAUSED.to_string(),
        input.suspend.to_string(),
    );
    obj.metadata.annotations = Some(annotations);
    let mut for_provider = json!({
        "chart": {
            "name": input.chart,
            "repository": input.repository,
            "version": input.chart_version,
        },
        "namespace": input.target_namespace,
    });
    if let Some(values) = &input.values {
        for_provider["values"] = values.clone();
    }
    obj.data = json!({
        "spec": {
            "forProvider": for_provider,
            "providerConfigRef": { "name": "default" },
        }
    });
    Rendered {
        resource,
        namespaced: false,
        object: obj,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_carries_chart_version_and_namespaced_name() {
        let input = RenderInput {
            namespace: "openova-system".into(),
            name: "cnpg".into(),
            chart: "bp-cnpg".into(),
            chart_version: "1.0.0".into(),
            repository: "oci://ghcr.io/openova-io".into(),
            target_namespace: "cnpg-system".into(),
            dependencies: vec![],
            values: None,
            owner: None,
            suspend: false,
            requested_at: None,
            forced_at: None,
        };
        let r = render(&input);
        assert!(!r.namespaced);
        assert_eq!(
            r.object.metadata.name.as_deref(),
            Some("openova-system-cnpg")
        );
        assert_eq!(
            r.object.data["spec"]["forProvider"]["chart"]["version"],
            "1.0.0"
        );
        assert_eq!(
            r.object.data["spec"]["forProvider"]["namespace"],
            "cnpg-system"
        );
    }
}
