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
