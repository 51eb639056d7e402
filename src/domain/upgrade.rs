//! Upgrade planning: semantic version comparison, which installed components have a newer catalog
//! version, and the changelog entries an operator reads before upgrading.

use std::cmp::Ordering;

use crate::domain::catalog::{Catalog, VersionEntry, display_version, parse_version};

pub use crate::domain::catalog::parse_version as parse;

/// A newer catalog version for an installed component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    pub name: String,
    pub from: semver::Version,
    pub to: semver::Version,
}

impl Upgrade {
    /// A new major version (or, below 1.0, a new minor): read the changelog before applying.
    pub fn is_breaking(&self) -> bool {
        if self.from.major == 0 && self.to.major == 0 {
            self.to.minor != self.from.minor
        } else {
            self.to.major != self.from.major
        }
    }

    /// `v1.16.2 → v1.16.3`.
    pub fn summary(&self) -> String {
        format!(
            "{} → {}",
            display_version(&self.from),
            display_version(&self.to)
        )
    }
}

/// Why an upgrade question could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpgradeError {
    #[error("component `{name}` is not in the catalog")]
    UnknownComponent { name: String },
    #[error("version `{value}` of `{name}` is not a semantic version: {reason}")]
    BadVersion {
        name: String,
        value: String,
        reason: String,
    },
}

/// Compares two version strings, tolerating a leading `v` (`v1.16.3` == `1.16.3`).
pub fn compare(a: &str, b: &str) -> Result<Ordering, semver::Error> {
    Ok(parse_version(a)?.cmp(&parse_version(b)?))
}

fn parse_for(name: &str, value: &str) -> Result<semver::Version, UpgradeError> {
    parse_version(value).map_err(|e| UpgradeError::BadVersion {
        name: name.to_string(),
        value: value.to_string(),
        reason: e.to_string(),
    })
}

/// The upgrade to the newest catalog version of `name`, if one is newer than `installed`.
pub fn upgrade_for(
    catalog: &Catalog,
    name: &str,
    installed: &str,
) -> Result<Option<Upgrade>, UpgradeError> {
    let spec = catalog
        .get(name)
        .ok_or_else(|| UpgradeError::UnknownComponent {
            name: name.to_string(),
        })?;
    let from = parse_for(name, installed)?;
    let latest = &spec.latest().version;
    Ok((latest > &from).then(|| Upgrade {
        name: name.to_string(),
        from,
        to: latest.clone(),
    }))
}

/// Upgrades available for an installed set of `(name, version)`, in the given order.
pub fn available_upgrades<N: AsRef<str>, V: AsRef<str>>(
    catalog: &Catalog,
    installed: &[(N, V)],
) -> Result<Vec<Upgrade>, UpgradeError> {
    let mut out = Vec::new();
    for (name, version) in installed {
        if let Some(upgrade) = upgrade_for(catalog, name.as_ref(), version.as_ref())? {
            out.push(upgrade);
        }
    }
    Ok(out)
}

/// Catalog versions of `name` newer than `from` and up to and including `to`, oldest first.
pub fn changelog_between<'c>(
    catalog: &'c Catalog,
    name: &str,
    from: &str,
    to: &str,
) -> Result<Vec<&'c VersionEntry>, UpgradeError> {
    let spec = catalog
        .get(name)
        .ok_or_else(|| UpgradeError::UnknownComponent {
            name: name.to_string(),
        })?;
    let from = parse_for(name, from)?;
    let to = parse_for(name, to)?;
    Ok(spec
        .versions
        .iter()
        .filter(|v| v.version > from && v.version <= to)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let text = r#"
[[component]]
name = "cilium"
title = "Cilium"
category = "mandatory"
family = "spine"
namespace = "kube-system"
description = "CNI"

[[component.versions]]
version = "1.16.2"
chart = "1.0.0"
changes = ["first"]

[[component.versions]]
version = "1.16.3"
chart = "1.1.0"
changes = ["patch release", "L7 proxy on"]

[[component.versions]]
version = "1.16.5"
chart = "1.1.1"
changes = ["pinned to the cloud-init version"]

[[component]]
name = "grafana"
title = "Grafana"
category = "mandatory"
family = "insights"
namespace = "grafana"
description = "Dashboards"

[[component.versions]]
version = "11.3.0"
chart = "0.9.0"
changes = ["first"]

[[component.versions]]
version = "12.0.0"
chart = "1.0.0"
changes = ["major"]
"#;
        Catalog::from_toml(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn compare_leading_v_is_equal_to_bare() {
        assert_eq!(compare("v1.16.3", "1.16.3").ok(), Some(Ordering::Equal));
        assert_eq!(compare("v1.16.2", "v1.16.10").ok(), Some(Ordering::Less));
        assert_eq!(compare("1.0.0-beta.2", "1.0.0").ok(), Some(Ordering::Less));
        assert!(compare("latest", "1.0.0").is_err());
    }

    #[test]
    fn available_upgrades_lists_only_outdated_components() {
        let cat = catalog();
        let ups = available_upgrades(&cat, &[("cilium", "v1.16.2"), ("grafana", "12.0.0")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ups.len(), 1);
        assert_eq!(ups[0].name, "cilium");
        assert_eq!(ups[0].summary(), "v1.16.2 → v1.16.5");
        assert!(!ups[0].is_breaking());
    }

    #[test]
    fn available_upgrades_major_bump_is_breaking() {
        let cat = catalog();
        let ups =
            available_upgrades(&cat, &[("grafana", "v11.3.0")]).unwrap_or_else(|e| panic!("{e}"));
        assert!(ups[0].is_breaking());
    }

    #[test]
    fn available_upgrades_unknown_component_is_named() {
        let cat = catalog();
        let e = available_upgrades(&cat, &[("cilum", "1.0.0")])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("component `cilum` is not in the catalog")
        );
    }

    #[test]
    fn available_upgrades_bad_version_is_named() {
        let cat = catalog();
        let e = available_upgrades(&cat, &[("cilium", "stable")])
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref().is_some_and(
                |m| m.starts_with("version `stable` of `cilium` is not a semantic version")
            ),
            "{e:?}"
        );
    }

    #[test]
    fn upgrade_for_latest_version_is_none() {
        let cat = catalog();
        assert_eq!(upgrade_for(&cat, "cilium", "v1.16.5"), Ok(None));
        // Newer than the catalog (a hotfix applied by hand) is not a downgrade offer.
        assert_eq!(upgrade_for(&cat, "cilium", "1.17.0"), Ok(None));
    }

    #[test]
    fn changelog_between_excludes_from_and_includes_to() {
        let cat = catalog();
        let entries = changelog_between(&cat, "cilium", "v1.16.2", "v1.16.5")
            .unwrap_or_else(|e| panic!("{e}"));
        let versions: Vec<String> = entries.iter().map(|e| e.version.to_string()).collect();
        assert_eq!(versions, ["1.16.3", "1.16.5"]);
        assert_eq!(entries[0].changes, ["patch release", "L7 proxy on"]);
        let none =
            changelog_between(&cat, "cilium", "1.16.5", "1.16.5").unwrap_or_else(|e| panic!("{e}"));
        assert!(none.is_empty());
    }
}
