//! The embedded component catalog and loading operator-supplied catalogs (a file, a ConfigMap
//! manifest, or a ConfigMap read from the cluster at air-gapped sites) into the validated
//! [`Catalog`] model. The one place that knows where a ConfigMap keeps the catalog.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use k8s_openapi::api::core::v1::ConfigMap;

pub use crate::domain::catalog::{Catalog, CatalogError};

/// The catalog dataset compiled into the binary.
pub const EMBEDDED_TOML: &str = include_str!("components.toml");

/// Key under which a catalog ConfigMap carries the catalog TOML in `data`.
pub const CONFIGMAP_KEY: &str = "components.toml";

/// The embedded catalog, parsed once.
pub fn embedded() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        // Proven invariant: the embedded text is validated by `embedded_catalog_parses_and_is_consistent`.
        #[allow(clippy::expect_used)]
        Catalog::from_toml(EMBEDDED_TOML).expect("embedded catalog is valid")
    })
}

/// Why an operator-supplied catalog could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read catalog file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: {source}")]
    Invalid {
        origin: String,
        #[source]
        source: CatalogError,
    },
    #[error("{origin}: not a ConfigMap manifest: {reason}")]
    ConfigMap { origin: String, reason: String },
    #[error("{origin} has no `data.{key}` entry")]
    ConfigMapKey { origin: String, key: &'static str },
    #[error("cannot read {origin}: {source}")]
    ConfigMapRead {
        origin: String,
        #[source]
        source: kube::Error,
    },
}

/// Loads a catalog TOML file.
pub fn load_file(path: &Path) -> Result<Catalog, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Catalog::from_toml(&text).map_err(|source| LoadError::Invalid {
        origin: path.display().to_string(),
        source,
    })
}

/// Loads a catalog from a ConfigMap manifest (YAML) whose `data` holds [`CONFIGMAP_KEY`].
/// `origin` names where the text came from, for error messages.
pub fn from_configmap_yaml(text: &str, origin: &str) -> Result<Catalog, LoadError> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        kind: Option<String>,
        #[serde(default)]
        data: BTreeMap<String, String>,
    }
    let cm: Manifest = serde_saphyr::from_str(text).map_err(|e| LoadError::ConfigMap {
        origin: origin.to_string(),
        reason: e.to_string(),
    })?;
    if let Some(kind) = cm.kind.as_deref()
        && kind != "ConfigMap"
    {
        return Err(LoadError::ConfigMap {
            origin: origin.to_string(),
            reason: format!("kind is `{kind}`, expected `ConfigMap`"),
        });
    }
    from_configmap_data(&cm.data, origin)
}

/// Reads the catalog from ConfigMap `name` in `namespace` through the Kubernetes API: the
/// manager for a Platform whose `spec.catalog.configMap` names one, the console on refresh.
pub async fn read_configmap(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Catalog, LoadError> {
    let origin = format!("catalog ConfigMap {namespace}/{name}");
    let api: kube::Api<ConfigMap> = kube::Api::namespaced(client.clone(), namespace);
    let cm = api
        .get(name)
        .await
        .map_err(|source| LoadError::ConfigMapRead {
            origin: origin.clone(),
            source,
        })?;
    from_configmap_data(&cm.data.unwrap_or_default(), &origin)
}

/// Parses the catalog TOML a ConfigMap's `data` holds under [`CONFIGMAP_KEY`]. `origin` names the
/// ConfigMap, for error messages.
fn from_configmap_data(
    data: &BTreeMap<String, String>,
    origin: &str,
) -> Result<Catalog, LoadError> {
    let toml = data
        .get(CONFIGMAP_KEY)
        .ok_or_else(|| LoadError::ConfigMapKey {
            origin: origin.to_string(),
            key: CONFIGMAP_KEY,
        })?;
    Catalog::from_toml(toml).map_err(|source| LoadError::Invalid {
        origin: format!("{origin} (data.{CONFIGMAP_KEY})"),
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::catalog::Category;
    use crate::domain::resolve::{find_cycle, install_plan};

    #[test]
    fn embedded_catalog_parses_and_is_consistent() {
        let catalog =
            Catalog::from_toml(EMBEDDED_TOML).unwrap_or_else(|e| panic!("embedded catalog: {e}"));
        assert!(find_cycle(&catalog).is_none());
        for c in catalog.components() {
            for dep in &c.requires {
                let d = catalog
                    .get(dep)
                    .unwrap_or_else(|| panic!("{} requires unknown {dep}", c.name));
                if c.category == Category::Mandatory {
                    assert_eq!(d.category, Category::Mandatory, "{} -> {dep}", c.name);
                }
            }
            for opt in &c.optional {
                assert!(
                    catalog.get(&opt.name).is_some(),
                    "{} offers unknown {}",
                    c.name,
                    opt.name
                );
            }
            assert!(!c.versions.is_empty());
            for v in &c.versions {
                assert!(
                    !v.changes.is_empty(),
                    "{} {} has no changelog",
                    c.name,
                    v.version
                );
            }
        }
        for m in catalog.meta_platforms() {
            for member in m.requires.iter().chain(m.optional.iter().map(|o| &o.name)) {
                assert!(
                    catalog.get(member).is_some(),
                    "{} lists unknown {member}",
                    m.name
                );
            }
        }
        assert!(std::ptr::eq(embedded(), embedded()));
    }

    #[test]
    fn embedded_catalog_covers_the_bootstrap_kit_and_seed_components() {
        let catalog = embedded();
        let mandatory: BTreeSet<&str> = catalog
            .mandatory()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            mandatory.len(),
            35,
            "the bootstrap kit has 35 components: {mandatory:?}"
        );
        for name in [
            "ferretdb",
            "strimzi",
            "milvus",
            "neo4j",
            "knative",
            "kserve",
            "vllm",
            "nemo-guardrails",
            "valkey",
        ] {
            assert!(catalog.get(name).is_some(), "{name} missing");
        }
        for (meta, alias) in [("ai-hub", "cortex"), ("open-banking", "fingate")] {
            assert_eq!(catalog.meta(alias).map(|m| m.name.as_str()), Some(meta));
        }
    }

    #[test]
    fn embedded_catalog_seed_versions_are_known() {
        let catalog = embedded();
        for (name, version) in [
            ("cilium", "v1.16.3"),
            ("cilium", "v1.16.2"),
            ("grafana", "v11.4.0"),
            ("grafana", "v11.3.0"),
            ("cnpg", "v1.24.0"),
        ] {
            let parsed =
                crate::domain::catalog::parse_version(version).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                catalog.get(name).and_then(|c| c.version(&parsed)).is_some(),
                "{name} {version}"
            );
        }
        assert!(
            catalog
                .get("cnpg")
                .is_some_and(|c| c.requires.contains(&"external-secrets".to_string()))
        );
        assert!(
            catalog
                .get("ferretdb")
                .is_some_and(|c| c.requires == ["cnpg"])
        );
    }

    #[test]
    fn ai_hub_plan_matches_the_install_dialog() {
        let catalog = embedded();
        let installed: BTreeSet<String> =
            catalog.mandatory().iter().map(|c| c.name.clone()).collect();
        let plan =
            install_plan(catalog, &installed, &["ai-hub"], &[]).unwrap_or_else(|e| panic!("{e}"));
        for member in ["kserve", "knative", "vllm", "milvus", "cnpg"] {
            let item = plan
                .item(member)
                .unwrap_or_else(|| panic!("{member} not planned"));
            assert_eq!(item.already_installed, member == "cnpg", "{member}");
        }
        let offered: Vec<(&str, &str)> = plan
            .offers
            .iter()
            .map(|o| (o.name.as_str(), o.reason.as_str()))
            .collect();
        assert!(
            offered.contains(&("neo4j", "knowledge graph")),
            "{offered:?}"
        );
        assert!(
            offered.contains(&("nemo-guardrails", "AI safety")),
            "{offered:?}"
        );
        assert_eq!(plan.order, ["knative", "kserve", "milvus", "vllm"]);
    }

    #[test]
    fn configmap_with_catalog_key_loads() {
        let yaml = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: openova-catalog\ndata:\n  components.toml: |\n{}",
            EMBEDDED_TOML
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        );
        let catalog = from_configmap_yaml(&yaml, "configmap openova-catalog")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(catalog.components().len(), embedded().components().len());
    }

    #[test]
    fn configmap_without_catalog_key_names_the_key() {
        let err = from_configmap_yaml("kind: ConfigMap\ndata:\n  other: x\n", "cm.yaml").err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.contains("cm.yaml") && msg.contains("data.components.toml"),
            "{msg}"
        );
    }

    #[test]
    fn configmap_with_invalid_catalog_names_origin_and_line() {
        let yaml =
            "kind: ConfigMap\ndata:\n  components.toml: |\n    [[component]]\n    name = 3\n";
        let msg = from_configmap_yaml(yaml, "cm.yaml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            msg.starts_with("cm.yaml (data.components.toml): line 2"),
            "{msg}"
        );
    }
}
