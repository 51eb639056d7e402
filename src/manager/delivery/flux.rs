//! Flux delivery: one `HelmRepository` (source.toolkit.fluxcd.io/v1) and one `HelmRelease`
//! (helm.toolkit.fluxcd.io/v2) per Component, in the Component's namespace and owned by it.

use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::json;

use super::{RenderInput, Rendered, labels};

/// How often Flux re-reconciles on its own (the catalog's kit uses 15 minutes).
const INTERVAL: &str = "15m";

/// `helm.toolkit.fluxcd.io/v2` `HelmRelease`.
pub fn helm_release_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("helm.toolkit.fluxcd.io", "v2", "HelmRelease"),
        "helmreleases",
    )
}

/// `source.toolkit.fluxcd.io/v1` `HelmRepository`.
pub fn helm_repository_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("source.toolkit.fluxcd.io", "v1", "HelmRepository"),
        "helmrepositories",
    )
}

/// The HelmRepository and the HelmRelease for one Component, repository first.
pub fn render(input: &RenderInput) -> Vec<Rendered> {
    vec![
        Rendered {
            resource: helm_repository_resource(),
            namespaced: true,
            object: helm_repository(input),
        },
        Rendered {
            resource: helm_release_resource(),
            namespaced: true,
            object: helm_release(input),
        },
    ]
}

fn base(input: &RenderInput, resource: &ApiResource) -> DynamicObject {
    let mut obj = DynamicObject::new(&input.name, resource).within(&input.namespace);
    obj.metadata.labels = Some(labels(input));
    obj.metadata.owner_references = input.owner.clone().map(|o| vec![o]);
    obj
}

/// The chart source. OCI registries need `type: oci`; everything else is a classic index.
pub fn helm_repository(input: &RenderInput) -> DynamicObject {
    let mut obj = base(input, &helm_repository_resource());
    let mut spec = json!({ "url": input.repository, "interval": INTERVAL });
    if input.repository.starts_with("oci://") {
        spec["type"] = json!("oci");
    }
    obj.data = json!({ "spec": spec });
    obj
}

/// The release. Flux's own upgrade remediation is off: the manager watches the rollout and rolls
/// back to the last good version itself, so it can record and report what happened.
pub fn helm_release(input: &RenderInput) -> DynamicObject {
    let mut obj = base(input, &helm_release_resource());
    let depends_on: Vec<_> = input
        .dependencies
        .iter()
        .map(|d| json!({ "name": d }))
        .collect();
    let mut spec = json!({
        "interval": INTERVAL,
        "releaseName": input.name,
        "targetNamespace": input.target_namespace,
        "chart": {
            "spec": {
                "chart": input.chart,
                "version": input.chart_version,
                "sourceRef": { "kind": "HelmRepository", "name": input.name },
                "interval": INTERVAL,
            }
        },
        "install": { "createNamespace": true, "remediation": { "retries": 3 } },
        "upgrade": { "remediation": { "retries": 0, "remediateLastFailure": false } },
        "suspend": input.suspend,
    });
    let requests = super::request_annotations(input);
    if !requests.is_empty() {
        obj.metadata.annotations = Some(requests);
    }
    if !depends_on.is_empty() {
        spec["dependsOn"] = json!(depends_on);
    }
    if let Some(values) = &input.values {
        spec["values"] = values.clone();
    }
    obj.data = json!({ "spec": spec });
    obj
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> RenderInput {
        RenderInput {
            namespace: "openova-system".into(),
            name: "grafana".into(),
            chart: "bp-grafana".into(),
            chart_version: "1.0.0".into(),
            repository: "oci://ghcr.io/openova-io".into(),
            target_namespace: "grafana".into(),
            dependencies: vec!["cnpg".into(), "loki".into()],
            values: Some(json!({"replicas": 2})),
            owner: None,
            suspend: false,
            requested_at: None,
            forced_at: None,
        }
    }

    #[test]
    fn helm_release_depends_on_dependencies_by_name() {
        let hr = helm_release(&input());
        assert_eq!(
            hr.data["spec"]["dependsOn"],
            json!([{"name": "cnpg"}, {"name": "loki"}])
        );
        assert_eq!(hr.data["spec"]["chart"]["spec"]["version"], "1.0.0");
        assert_eq!(hr.data["spec"]["chart"]["spec"]["chart"], "bp-grafana");
        assert_eq!(hr.data["spec"]["targetNamespace"], "grafana");
        assert_eq!(hr.data["spec"]["values"]["replicas"], 2);
        assert_eq!(
            hr.types.as_ref().map(|t| t.api_version.as_str()),
            Some("helm.toolkit.fluxcd.io/v2")
        );
    }

    #[test]
    fn helm_release_without_dependencies_has_no_depends_on() {
        let mut i = input();
        i.dependencies.clear();
        assert!(helm_release(&i).data["spec"].get("dependsOn").is_none());
    }

    #[test]
    fn helm_repository_oci_url_sets_type_oci() {
        assert_eq!(helm_repository(&input()).data["spec"]["type"], "oci");
        let mut i = input();
        i.repository = "https://charts.example.org".into();
        assert!(helm_repository(&i).data["spec"].get("type").is_none());
    }
}
