//! The `openova.io/v1alpha1` custom resources (`Platform`, `Component`) shared by the console, the
//! manager and the bootstrap hand-over, and their generated CustomResourceDefinitions.

pub mod component;
pub mod consts;
pub mod platform;

/// The health vocabulary the resources' status fields are written in (owned by the domain).
pub use crate::domain::health::{Health, PlatformPhase};
pub use component::{
    Alert, AlertSeverity, Component, ComponentPhase, ComponentSpec, ComponentStatus, Endpoint,
    UpgradeIntent, UpgradeRecord, UpgradeState,
};
pub use platform::{
    AvailableUpgrade, CatalogSource, ConfirmedRemoval, DeliveryBackend, MaintenanceWindow,
    MetaPlatformStatus, Organization, Platform, PlatformComponent, PlatformComponentStatus,
    PlatformSpec, PlatformStatus, Region,
};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// Both CustomResourceDefinitions, Platform first.
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![Platform::crd(), Component::crd()]
}

/// Errors while rendering the CRDs as YAML.
#[derive(Debug, thiserror::Error)]
pub enum CrdError {
    /// A CRD could not be serialized to YAML.
    #[error("could not serialize CustomResourceDefinition {name} to YAML: {source}")]
    Serialize {
        name: String,
        #[source]
        source: serde_saphyr::SerializeError,
    },
}

/// One CRD as a YAML document (without the `---` separator).
pub fn crd_yaml(crd: &CustomResourceDefinition) -> Result<String, CrdError> {
    serde_saphyr::to_string(crd).map_err(|source| CrdError::Serialize {
        name: crd.metadata.name.clone().unwrap_or_default(),
        source,
    })
}

/// All CRDs as one multi-document YAML stream, each document starting with `---`.
pub fn crds_yaml() -> Result<String, CrdError> {
    let mut out = String::new();
    for crd in all_crds() {
        out.push_str("---\n");
        out.push_str(&crd_yaml(&crd)?);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

/// Schema for free-form JSON (`Component.spec.values`): any object, kept as written.
pub(crate) fn preserve_unknown_fields(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_PLATFORM: &str = include_str!("../../deploy/examples/platform.yaml");
    const SEED_COMPONENT: &str = include_str!("../../deploy/examples/component.yaml");

    #[test]
    fn platform_seed_example_reads_into_types() {
        let p: Platform = serde_saphyr::from_str(SEED_PLATFORM).expect("seed Platform parses");
        assert_eq!(p.spec.organization.domain, "acme.io");
        assert_eq!(p.spec.regions[1].cluster, "hz-hel-rtz-prod");
        assert_eq!(p.spec.components.len(), 3);
        assert!(p.spec.components.iter().all(|c| c.enabled));
        assert_eq!(p.spec.delivery, None);
        let status = p.status.expect("seed has a status");
        assert_eq!(status.phase, Some(PlatformPhase::Running));
        assert_eq!(status.components[2].status, Health::Healthy);
        assert_eq!(status.components[2].version.as_deref(), Some("v1.24.0"));
        assert!(status.last_reconciled.is_some());
    }

    #[test]
    fn component_seed_example_reads_into_types() {
        let c: Component = serde_saphyr::from_str(SEED_COMPONENT).expect("seed Component parses");
        assert_eq!(c.spec.chart, "cnpg");
        assert_eq!(c.spec.dependencies, vec!["external-secrets".to_string()]);
        let values = c.spec.values.expect("values kept");
        assert_eq!(values["replication"]["mode"], "async");
        let status = c.status.expect("seed has a status");
        assert_eq!(status.phase, Some(ComponentPhase::Running));
        assert_eq!(status.health, Some(Health::Healthy));
        assert_eq!(status.endpoints[0].url, "cnpg-primary.data.svc");
    }

    #[test]
    fn platform_component_without_enabled_defaults_to_enabled() {
        let c: PlatformComponent = serde_json::from_str(r#"{"name":"cilium"}"#).expect("parses");
        assert!(c.enabled);
        assert_eq!(c.version, None);
    }

    #[test]
    fn crds_yaml_names_both_kinds_with_status_subresource() {
        let crds = all_crds();
        let names: Vec<_> = crds
            .iter()
            .filter_map(|c| c.metadata.name.clone())
            .collect();
        assert_eq!(names, ["platforms.openova.io", "components.openova.io"]);
        for crd in &crds {
            let v = &crd.spec.versions[0];
            assert!(
                v.subresources
                    .as_ref()
                    .and_then(|s| s.status.as_ref())
                    .is_some()
            );
            assert_eq!(crd.spec.scope, "Namespaced");
        }
        let yaml = crds_yaml().expect("renders");
        assert_eq!(yaml.matches("kind: CustomResourceDefinition").count(), 2);
        assert!(yaml.contains("x-kubernetes-preserve-unknown-fields: true"));
        // A 1.20 API server rejects CEL rules; none may slip in.
        assert!(!yaml.contains("x-kubernetes-validations"));
    }

    #[test]
    fn crds_yaml_parses_back_into_crds() {
        let yaml = crds_yaml().expect("renders");
        let back: Vec<CustomResourceDefinition> =
            serde_saphyr::from_multiple(&yaml).expect("parses back");
        assert_eq!(back, all_crds());
    }
}
