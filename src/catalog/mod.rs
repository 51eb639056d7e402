//! The embedded component catalog and loading operator-supplied catalogs (a file, or the text of a
//! ConfigMap at air-gapped sites) into the validated [`Catalog`] model.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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
    #[error("{origin}: ConfigMap has no `data.{key}` entry")]
    ConfigMapKey { origin: String, key: &'static str },
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
    struct ConfigMap {
        kind: Option<String>,
        #[serde(default)]
        data: std::collections::BTreeMap<String, String>,
    }
    let cm: ConfigMap = serde_saphyr::from_str(text).map_err(|e| LoadError::ConfigMap {
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
    let toml = cm
        .data
        .get(CONFIGMAP_KEY)
        .ok_or_else(|| LoadError::ConfigMapKey {
            origin: origin.to_string(),
            key: CONFIGMAP_KEY,
        })?;
    from_configmap_data(toml, origin)
}

/// Parses the catalog TOML taken from a ConfigMap's `data` (the manager reads it through the API).
pub fn from_configmap_data(toml: &str, origin: &str) -> Result<Catalog, LoadError> {
    Catalog::from_toml(toml).map_err(|source| LoadError::Invalid {
        origin: format!("{origin} (data.{CONFIGMAP_KEY})"),
        source,
    })
}
