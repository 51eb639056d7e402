//! The artifact table: every file a node fetches at first boot, with its version, its upstream
//! URL and its sha256. The table is owned by the OpenTofu modules
//! (`tofu-modules/shared/artifacts.json`, compiled into the binary); openova turns it into the
//! `node_artifacts` variable, with each URL under the site's artifact source when one is set,
//! and `openova airgap bundle` downloads and verifies the same entries.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// File of the table inside the modules' `shared/` directory.
pub const TABLE_FILE: &str = "artifacts.json";

/// The entries the bootstrap script fetches by name; a table lacking one is refused.
pub const REQUIRED: &[&str] = &[
    "k3s-binary-amd64",
    "k3s-binary-arm64",
    "k3s-images-amd64",
    "k3s-images-arm64",
    "k3s-install",
    "cilium-chart",
    "flux-install",
];

/// Why an artifact table cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArtifactError {
    #[error("the binary has no embedded artifact table ({TABLE_FILE})")]
    Missing,
    #[error("artifact table is not valid JSON of the expected shape: {0}")]
    Parse(String),
    #[error("artifact table: {name}: {message}")]
    Invalid { name: String, message: String },
    #[error("artifact table lacks {0}, which every node fetches")]
    Lacks(&'static str),
    #[error(
        "artifact table: {} has no pinned sha256; pin the table on a connected host with `openova airgap pin --out FILE` (it cross-checks upstream's published checksums) and use FILE",
        .0.join(", ")
    )]
    Unpinned(Vec<String>),
}

/// The whole table as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactTable {
    /// What the table is, for a reader of the JSON file.
    pub about: String,
    pub artifacts: Vec<Artifact>,
}

/// One pinned file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Stable name the bootstrap script asks for (`k3s-binary-amd64`).
    pub name: String,
    /// Upstream release version (`v1.31.4+k3s1`, `1.16.5`).
    pub version: String,
    /// Relative path under an artifact source and inside a bundle.
    pub path: String,
    /// The upstream release URL, fetched when the site has no artifact source.
    pub upstream: String,
    /// Where the pinned sha256 was taken from, so a maintainer can re-check it.
    pub sha256_source: String,
    /// How upstream publishes this file's checksum, for `openova airgap pin` to cross-check the
    /// download: `sha256sum` (a `<hex>  <file name>` list), `helm-index` (the `digest` of the
    /// chart version in a Helm repository's `index.yaml`) or `none` (the default).
    #[serde(default)]
    pub checksum_kind: ChecksumKind,
    /// The published checksum list or index (`checksum_kind` other than `none`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub checksum_url: String,
    /// Lower-case hex SHA-256 of the file; the field is required, and an empty value marks an
    /// entry that has not been pinned yet, which nothing will fetch.
    pub sha256: String,
}

/// The form in which upstream publishes a file's checksum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChecksumKind {
    /// Upstream publishes no checksum: the value can only be computed from the download.
    #[default]
    None,
    /// A `sha256sum` output file: lines `<hex>  <file name>`, the file name being the last
    /// segment of `upstream`.
    Sha256sum,
    /// A Helm repository's `index.yaml`: the `digest` of the entry with the table's version whose
    /// archive is the last segment of `upstream`.
    HelmIndex,
}

/// One entry of the `node_artifacts` OpenTofu variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeArtifact {
    pub version: String,
    pub url: String,
    pub sha256: String,
}

impl ArtifactTable {
    /// The table compiled into the binary with the modules.
    pub fn builtin() -> Result<ArtifactTable, ArtifactError> {
        let bytes =
            crate::provision::modules::shared_file(TABLE_FILE).ok_or(ArtifactError::Missing)?;
        let text = std::str::from_utf8(bytes).map_err(|e| ArtifactError::Parse(e.to_string()))?;
        ArtifactTable::parse(text)
    }

    /// Parses and checks a table: unique names, every required entry, safe relative paths,
    /// `https://` upstream URLs, and sha256 values that are 64 lower-case hex digits or empty
    /// (not pinned yet; see [`ArtifactTable::check_pinned`]).
    pub fn parse(text: &str) -> Result<ArtifactTable, ArtifactError> {
        let table: ArtifactTable =
            serde_json::from_str(text).map_err(|e| ArtifactError::Parse(e.to_string()))?;
        let mut names = BTreeSet::new();
        let mut paths = BTreeSet::new();
        for a in &table.artifacts {
            let invalid = |message: String| ArtifactError::Invalid {
                name: a.name.clone(),
                message,
            };
            if a.name.is_empty()
                || !a
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(invalid(
                    "name must be lower-case letters, digits and '-'".into(),
                ));
            }
            if !names.insert(a.name.as_str()) {
                return Err(invalid("name appears twice".into()));
            }
            if a.version.is_empty()
                || !a
                    .version
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".+_-".contains(c))
            {
                return Err(invalid(format!(
                    "version {:?} is not a plain version",
                    a.version
                )));
            }
            check_relative_path(&a.path).map_err(invalid)?;
            if !paths.insert(a.path.as_str()) {
                return Err(invalid(format!("path {:?} is used twice", a.path)));
            }
            if !upstream_ok(&a.upstream) {
                return Err(invalid(format!(
                    "upstream {:?} must be an https:// URL without quotes or spaces (http:// only for a loopback address)",
                    a.upstream
                )));
            }
            match (a.checksum_kind, a.checksum_url.is_empty()) {
                (ChecksumKind::None, false) => {
                    return Err(invalid(
                        "checksum_url is set but checksum_kind is none; name the kind (sha256sum or helm-index)".into(),
                    ));
                }
                (ChecksumKind::Sha256sum | ChecksumKind::HelmIndex, _)
                    if !upstream_ok(&a.checksum_url) =>
                {
                    return Err(invalid(format!(
                        "checksum_url {:?} must be an https:// URL without quotes or spaces (http:// only for a loopback address)",
                        a.checksum_url
                    )));
                }
                _ => {}
            }
            if !a.sha256.is_empty() && !is_sha256_hex(&a.sha256) {
                return Err(invalid(format!(
                    "sha256 {:?} must be 64 lower-case hex digits",
                    a.sha256
                )));
            }
        }
        for r in REQUIRED {
            if !names.contains(r) {
                return Err(ArtifactError::Lacks(r));
            }
        }
        Ok(table)
    }

    /// Err naming every entry whose sha256 is not pinned.
    pub fn check_pinned(&self) -> Result<(), ArtifactError> {
        let unpinned: Vec<String> = self
            .artifacts
            .iter()
            .filter(|a| a.sha256.is_empty())
            .map(|a| a.name.clone())
            .collect();
        if unpinned.is_empty() {
            Ok(())
        } else {
            Err(ArtifactError::Unpinned(unpinned))
        }
    }

    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&Artifact> {
        self.artifacts.iter().find(|a| a.name == name)
    }

    /// The version of entry `name`, or "" when the table has none (it always has the required
    /// entries once parsed).
    pub fn version_of(&self, name: &str) -> &str {
        self.get(name)
            .map(|a| a.version.as_str())
            .unwrap_or_default()
    }

    /// The `node_artifacts` variable: every entry with its download URL, under `source` when the
    /// site has an artifact source, else upstream.
    pub fn node_artifacts(&self, source: Option<&str>) -> BTreeMap<String, NodeArtifact> {
        self.artifacts
            .iter()
            .map(|a| {
                let url = match source {
                    Some(s) => source_url(s, &a.path),
                    None => a.upstream.clone(),
                };
                (
                    a.name.clone(),
                    NodeArtifact {
                        version: a.version.clone(),
                        url,
                        sha256: a.sha256.clone(),
                    },
                )
            })
            .collect()
    }
}

/// `https://host/...`, or `http://` to a loopback address (a local stand-in or cache); no quotes
/// or whitespace, which the bootstrap script could not carry.
fn upstream_ok(url: &str) -> bool {
    if url
        .chars()
        .any(|c| c.is_whitespace() || c == '\'' || c == '"')
    {
        return false;
    }
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty() && !rest.starts_with('/');
    }
    url.strip_prefix("http://").is_some_and(|rest| {
        let host = rest.split('/').next().unwrap_or_default();
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        matches!(host, "127.0.0.1" | "localhost" | "[::1]")
    })
}

/// `source` joined with a relative bundle path, one `/` between them.
pub fn source_url(source: &str, path: &str) -> String {
    format!("{}/{}", source.trim_end_matches('/'), path)
}

/// True for 64 lower-case hex digits.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// A bundle-relative path: `/`-separated segments of `[A-Za-z0-9._+-]`, none empty, `.` or `..`.
pub fn check_relative_path(path: &str) -> Result<(), String> {
    let ok = !path.is_empty()
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "path {path:?} must be relative, '/'-separated segments of letters, digits and ._+-"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_text(sha: &str) -> String {
        let entries: Vec<String> = REQUIRED
            .iter()
            .map(|n| {
                format!(
                    r#"{{"name":"{n}","version":"1.0.0","path":"x/{n}","upstream":"https://example.org/{n}","sha256_source":"test","sha256":"{sha}"}}"#
                )
            })
            .collect();
        format!(r#"{{"about":"t","artifacts":[{}]}}"#, entries.join(","))
    }

    #[test]
    fn builtin_table_parses_and_names_every_required_entry() {
        let t = ArtifactTable::builtin().unwrap();
        for r in REQUIRED {
            assert!(t.get(r).is_some(), "{r}");
        }
        assert_eq!(
            t.version_of("k3s-install"),
            crate::provision::tfvars::DEFAULT_K3S_VERSION
        );
    }

    #[test]
    fn parse_refuses_bad_sha_path_url_and_missing_entries() {
        let good = "a".repeat(64);
        assert!(
            ArtifactTable::parse(&table_text(&good))
                .unwrap()
                .check_pinned()
                .is_ok()
        );
        let unpinned = ArtifactTable::parse(&table_text("")).unwrap();
        match unpinned.check_pinned() {
            Err(ArtifactError::Unpinned(names)) => assert_eq!(names.len(), REQUIRED.len()),
            other => panic!("{other:?}"),
        }
        let upper = "A".repeat(64);
        assert!(matches!(
            ArtifactTable::parse(&table_text(&upper)),
            Err(ArtifactError::Invalid { .. })
        ));
        let dotdot = table_text(&good).replace("x/k3s-install", "../k3s-install");
        assert!(ArtifactTable::parse(&dotdot).is_err());
        let http = table_text(&good).replace("https://example.org/flux-install", "http://e/f");
        assert!(ArtifactTable::parse(&http).is_err());
        let local = table_text(&good).replace(
            "https://example.org/flux-install",
            "http://127.0.0.1:8080/f",
        );
        assert!(ArtifactTable::parse(&local).is_ok());
        let lacking = table_text(&good).replace("\"flux-install\"", "\"flux-other\"");
        assert_eq!(
            ArtifactTable::parse(&lacking).unwrap_err(),
            ArtifactError::Lacks("flux-install")
        );
        let missing_field = table_text(&good).replace(&format!(",\"sha256\":\"{good}\""), "");
        assert!(matches!(
            ArtifactTable::parse(&missing_field),
            Err(ArtifactError::Parse(_))
        ));
    }

    #[test]
    fn checksum_kind_defaults_to_none_and_needs_a_url_otherwise() {
        let good = "a".repeat(64);
        let t = ArtifactTable::parse(&table_text(&good)).unwrap();
        assert!(
            t.artifacts
                .iter()
                .all(|a| a.checksum_kind == ChecksumKind::None && a.checksum_url.is_empty())
        );
        let with = |extra: &str| {
            table_text(&good).replace(
                r#""sha256_source":"test""#,
                &format!(r#""sha256_source":"test",{extra}"#),
            )
        };
        let list = ArtifactTable::parse(&with(
            r#""checksum_kind":"sha256sum","checksum_url":"https://example.org/sums.txt""#,
        ))
        .unwrap();
        assert_eq!(list.artifacts[0].checksum_kind, ChecksumKind::Sha256sum);
        assert!(
            ArtifactTable::parse(&with(
                r#""checksum_kind":"helm-index","checksum_url":"https://example.org/index.yaml""#
            ))
            .is_ok()
        );
        for bad in [
            r#""checksum_kind":"helm-index""#,
            r#""checksum_kind":"sha256sum","checksum_url":"http://example.org/s""#,
            r#""checksum_url":"https://example.org/sums.txt""#,
            r#""checksum_kind":"md5","checksum_url":"https://example.org/sums.txt""#,
        ] {
            assert!(ArtifactTable::parse(&with(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn builtin_table_says_where_upstream_publishes_each_checksum() {
        let t = ArtifactTable::builtin().unwrap();
        for a in &t.artifacts {
            let expected = match a.name.as_str() {
                n if n.starts_with("k3s-binary") || n.starts_with("k3s-images") => {
                    ChecksumKind::Sha256sum
                }
                "cilium-chart" => ChecksumKind::HelmIndex,
                _ => ChecksumKind::None,
            };
            assert_eq!(a.checksum_kind, expected, "{}", a.name);
            if expected == ChecksumKind::Sha256sum {
                let arch = a.name.rsplit('-').next().unwrap_or_default();
                assert!(
                    a.checksum_url.ends_with(&format!("/sha256sum-{arch}.txt"))
                        && a.checksum_url.contains(&a.version.replace('+', "%2B")),
                    "{}: {}",
                    a.name,
                    a.checksum_url
                );
            }
        }
        assert_eq!(
            t.get("cilium-chart").map(|a| a.checksum_url.as_str()),
            Some("https://helm.cilium.io/index.yaml")
        );
    }

    #[test]
    fn node_artifacts_come_from_the_source_when_set() {
        let t = ArtifactTable::parse(&table_text(&"b".repeat(64))).unwrap();
        let up = t.node_artifacts(None);
        assert_eq!(up["cilium-chart"].url, "https://example.org/cilium-chart");
        let site = t.node_artifacts(Some("http://10.0.0.2:8080/openova/"));
        assert_eq!(
            site["cilium-chart"].url,
            "http://10.0.0.2:8080/openova/x/cilium-chart"
        );
    }
}
