//! The manifests that install the Lifecycle Manager: `deploy/base/` (namespace, CRDs,
//! ServiceAccount, RBAC, Service, Deployment), embedded in the binary for the bootstrap hand-over,
//! in the order kustomize lists them. Its own module because the hand-over (`provision`) and the
//! manager's tests both read it and neither owns the other.

use include_dir::{Dir, include_dir};
use kube::api::DynamicObject;

static BASE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/deploy/base");

/// Why the embedded manifests could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("deploy/base/{file} is missing from the embedded manifests")]
    Missing { file: String },
    #[error("deploy/base/{file} is not valid UTF-8")]
    NotUtf8 { file: String },
    #[error("deploy/base/{file}: {reason}")]
    Parse { file: String, reason: String },
}

#[derive(serde::Deserialize)]
struct Kustomization {
    resources: Vec<String>,
}

fn text(file: &str) -> Result<&'static str, DeployError> {
    BASE.get_file(file)
        .ok_or_else(|| DeployError::Missing {
            file: file.to_string(),
        })?
        .contents_utf8()
        .ok_or_else(|| DeployError::NotUtf8 {
            file: file.to_string(),
        })
}

/// The base manifest files as `(file, YAML text)`, in kustomization order.
pub fn files() -> Result<Vec<(String, &'static str)>, DeployError> {
    let k: Kustomization =
        serde_saphyr::from_str(text("kustomization.yaml")?).map_err(|e| DeployError::Parse {
            file: "kustomization.yaml".into(),
            reason: e.to_string(),
        })?;
    k.resources
        .into_iter()
        .map(|f| text(&f).map(|t| (f, t)))
        .collect()
}

/// Every object of the base manifests, in apply order, with the manager image replaced by
/// `image` when given.
pub fn manifests_with_image(image: Option<&str>) -> Result<Vec<DynamicObject>, DeployError> {
    let mut out = Vec::new();
    for (file, yaml) in files()? {
        let docs: Vec<serde_json::Value> =
            serde_saphyr::from_multiple(yaml).map_err(|e| DeployError::Parse {
                file: file.clone(),
                reason: e.to_string(),
            })?;
        for mut doc in docs.into_iter().filter(|d| !d.is_null()) {
            if let Some(image) = image
                && doc.get("kind").and_then(|k| k.as_str()) == Some("Deployment")
                && let Some(containers) = doc
                    .pointer_mut("/spec/template/spec/containers")
                    .and_then(|c| c.as_array_mut())
            {
                for c in containers {
                    c["image"] = serde_json::Value::String(image.to_string());
                }
            }
            let obj: DynamicObject =
                serde_json::from_value(doc).map_err(|e| DeployError::Parse {
                    file: file.clone(),
                    reason: e.to_string(),
                })?;
            out.push(obj);
        }
    }
    Ok(out)
}

/// Every object of the base manifests, in apply order.
pub fn manifests() -> Result<Vec<DynamicObject>, DeployError> {
    manifests_with_image(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::ResourceExt;

    #[test]
    fn deploy_crds_match_generated_types() {
        for crd in crate::crd::all_crds() {
            let name = crd.metadata.name.clone().unwrap_or_default();
            let file = format!("crds/{name}.yaml");
            let on_disk = text(&file).unwrap_or_default();
            let generated = crate::crd::crd_yaml(&crd).expect("renders");
            assert!(
                on_disk == generated,
                "deploy/base/{file} is stale: regenerate it with `cargo run -- crds --out-dir deploy/base/crds`"
            );
        }
    }

    #[test]
    fn manifests_cover_namespace_crds_rbac_and_deployment_in_order() {
        let objs = manifests().expect("manifests parse");
        let kinds: Vec<String> = objs
            .iter()
            .filter_map(|o| o.types.as_ref().map(|t| t.kind.clone()))
            .collect();
        assert_eq!(kinds.first().map(String::as_str), Some("Namespace"));
        let pos = |k: &str| kinds.iter().position(|x| x == k).expect(k);
        assert!(pos("CustomResourceDefinition") < pos("Deployment"));
        assert!(pos("ServiceAccount") < pos("Deployment"));
        for k in [
            "Role",
            "RoleBinding",
            "ClusterRole",
            "ClusterRoleBinding",
            "Service",
        ] {
            pos(k);
        }
        let ns_objects = objs.iter().filter(|o| o.namespace().is_some());
        for o in ns_objects {
            assert_eq!(
                o.namespace().as_deref(),
                Some(crate::crd::consts::NAMESPACE)
            );
        }
    }

    #[test]
    fn manifests_with_image_replaces_manager_image_and_keeps_probes() {
        let objs = manifests_with_image(Some("registry.local/openova:9")).expect("parse");
        let dep = objs
            .iter()
            .find(|o| o.types.as_ref().is_some_and(|t| t.kind == "Deployment"))
            .expect("deployment");
        let c = &dep.data["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "registry.local/openova:9");
        assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert!(c["resources"]["limits"]["memory"].is_string());
        assert_eq!(c["args"][0], "manager");
    }

    #[test]
    fn rbac_grants_only_what_the_manager_touches() {
        let objs = manifests().expect("parse");
        let role = objs
            .iter()
            .find(|o| o.types.as_ref().is_some_and(|t| t.kind == "Role"))
            .expect("role");
        let rules = role.data["rules"].as_array().expect("rules");
        let mut groups: Vec<&str> = rules
            .iter()
            .flat_map(|r| r["apiGroups"].as_array().into_iter().flatten())
            .filter_map(|g| g.as_str())
            .collect();
        groups.sort();
        groups.dedup();
        assert_eq!(
            groups,
            [
                "",
                "coordination.k8s.io",
                "events.k8s.io",
                "helm.toolkit.fluxcd.io",
                "openova.io",
                "source.toolkit.fluxcd.io"
            ]
        );
        let text =
            serde_json::to_string(&objs.iter().map(|o| &o.data).collect::<Vec<_>>()).expect("json");
        assert!(!text.contains("\"*\""), "no wildcard grants");
        assert!(!text.contains("secrets"), "the manager never reads Secrets");
    }
}
