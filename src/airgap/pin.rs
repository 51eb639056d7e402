//! `openova airgap pin`: fill the artifact table's sha256 values on a connected host, each one
//! checked against what upstream publishes.
//!
//! For every entry the file is downloaded from `upstream` (streamed and hashed, not kept) and its
//! sha256 compared with the checksum upstream publishes (`checksum_kind`/`checksum_url`: a
//! `sha256sum` list or a Helm repository's `index.yaml`). An entry already pinned is checked the
//! same way: its value must match both the download and the published checksum. Any mismatch
//! stops the run before anything is written. Where upstream publishes no checksum the computed
//! value is recorded and reported as such, for a person to review.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::airgap::artifacts::{self, Artifact, ArtifactError, ArtifactTable, ChecksumKind};
use crate::airgap::bundle::{self, BundleError, Progress};

/// The largest checksum list or index read (a Helm index of a busy repository is a few MiB).
const PUBLISHED_LIMIT: u64 = 64 * 1024 * 1024;

/// Marks, in `sha256_source`, a value computed from the download because upstream publishes none.
pub const COMPUTED_NOTE: &str = "sha256 computed from the download by `openova airgap pin`; upstream publishes no checksum for this file, so review the file";

/// Why a table could not be pinned. Nothing is written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error(transparent)]
    Download(#[from] BundleError),
    #[error(transparent)]
    Table(#[from] ArtifactError),
    #[error(
        "{name}: refused: {got_what} is {got}, but {expected_what} is {expected}; nothing was written"
    )]
    Mismatch {
        name: String,
        got_what: String,
        got: String,
        expected_what: String,
        expected: String,
    },
    #[error(
        "{name}: the checksum published at {url} cannot be used: {message}; nothing was written"
    )]
    Published {
        name: String,
        url: String,
        message: String,
    },
}

/// How one entry's sha256 was established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedEntry {
    pub name: String,
    pub path: String,
    pub size: u64,
    pub sha256: String,
    /// The input table already had this value (and the download matched it).
    pub was_pinned: bool,
    /// The URL of the published checksum the download matched; `None` when upstream publishes
    /// none, i.e. the value was only computed.
    pub cross_checked: Option<String>,
}

impl PinnedEntry {
    /// One line for the operator: the value and how far it was checked.
    pub fn report(&self) -> String {
        let short = &self.sha256[..self.sha256.len().min(16)];
        match (&self.cross_checked, self.was_pinned) {
            (Some(url), false) => format!(
                "{}: pinned sha256 {} ({} bytes), cross-checked against {url}",
                self.name, self.sha256, self.size
            ),
            (Some(url), true) => format!(
                "{}: sha256 {short}… already pinned; the download and {url} agree with it",
                self.name
            ),
            (None, true) => format!(
                "{}: sha256 {short}… already pinned; the download agrees with it (upstream publishes no checksum)",
                self.name
            ),
            (None, false) => format!(
                "{}: pinned sha256 {} ({} bytes), COMPUTED from the download, not cross-checked: upstream publishes no checksum for it. Review the file before you trust this value (`openova airgap bundle` puts it at {})",
                self.name, self.sha256, self.size, self.path
            ),
        }
    }
}

/// The result of pinning: the complete table and how each entry was checked.
#[derive(Debug, Clone)]
pub struct Pinned {
    pub table: ArtifactTable,
    pub entries: Vec<PinnedEntry>,
}

impl Pinned {
    /// Names of the entries whose value was computed only (nothing published to check against).
    pub fn computed_only(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.cross_checked.is_none() && !e.was_pinned)
            .map(|e| e.name.as_str())
            .collect()
    }
}

/// Downloads every entry of `table`, checks it and returns the pinned table (every sha256
/// filled). `progress` prints a line per entry and a live byte count on a terminal to stderr.
pub fn pin(table: &ArtifactTable, progress: bool) -> Result<Pinned, PinError> {
    let agent = bundle::agent();
    let mut progress = Progress::new(progress);
    let mut published_docs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut out = table.clone();
    let mut entries = Vec::new();
    let n = out.artifacts.len();
    for (i, a) in out.artifacts.iter_mut().enumerate() {
        progress.step("pin", i + 1, n, &a.name);
        let published = published_sha256(&agent, a, &mut published_docs)?;
        if let Some(p) = &published
            && !a.sha256.is_empty()
            && *p != a.sha256
        {
            return Err(mismatch(a, "the sha256 in the table", &a.sha256, p));
        }
        let (size, got) = bundle::download_sha256(&agent, &a.upstream, &a.path, &mut progress)?;
        if let Some(p) = &published
            && got != *p
        {
            return Err(PinError::Mismatch {
                name: a.name.clone(),
                got_what: format!("the sha256 of the download from {}", a.upstream),
                got,
                expected_what: format!("the checksum published at {}", a.checksum_url),
                expected: p.clone(),
            });
        }
        if !a.sha256.is_empty() && got != a.sha256 {
            return Err(PinError::Mismatch {
                name: a.name.clone(),
                got_what: format!("the sha256 of the download from {}", a.upstream),
                got,
                expected_what: "the sha256 pinned in the table".into(),
                expected: a.sha256.clone(),
            });
        }
        let was_pinned = !a.sha256.is_empty();
        if published.is_none() && !was_pinned && !a.sha256_source.contains(COMPUTED_NOTE) {
            a.sha256_source = format!("{} ({COMPUTED_NOTE})", a.sha256_source);
        }
        a.sha256 = got.clone();
        entries.push(PinnedEntry {
            name: a.name.clone(),
            path: a.path.clone(),
            size,
            sha256: got,
            was_pinned,
            cross_checked: published.is_some().then(|| a.checksum_url.clone()),
        });
    }
    out.check_pinned()?;
    Ok(Pinned {
        table: out,
        entries,
    })
}

fn mismatch(a: &Artifact, got_what: &str, got: &str, published: &str) -> PinError {
    PinError::Mismatch {
        name: a.name.clone(),
        got_what: got_what.to_owned(),
        got: got.to_owned(),
        expected_what: format!("the checksum published at {}", a.checksum_url),
        expected: published.to_owned(),
    }
}

/// The sha256 upstream publishes for `a`, or `None` when it publishes none. Each checksum
/// document is fetched once per run (`docs` keeps them by URL).
fn published_sha256(
    agent: &ureq::Agent,
    a: &Artifact,
    docs: &mut BTreeMap<String, Vec<u8>>,
) -> Result<Option<String>, PinError> {
    if a.checksum_kind == ChecksumKind::None {
        return Ok(None);
    }
    if !docs.contains_key(&a.checksum_url) {
        let body = bundle::download_small(agent, &a.checksum_url, PUBLISHED_LIMIT)?;
        docs.insert(a.checksum_url.clone(), body);
    }
    let body = docs
        .get(&a.checksum_url)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let file = file_name(&a.upstream);
    let found = match a.checksum_kind {
        ChecksumKind::Sha256sum => sha256sum_lookup(&String::from_utf8_lossy(body), file),
        ChecksumKind::HelmIndex => helm_index_lookup(body, file, &a.version),
        ChecksumKind::None => return Ok(None),
    };
    found.map(Some).map_err(|message| PinError::Published {
        name: a.name.clone(),
        url: a.checksum_url.clone(),
        message,
    })
}

/// The last path segment of a URL (`.../download/v1/k3s-arm64?x` → `k3s-arm64`).
pub fn file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    path.rsplit('/').next().unwrap_or_default()
}

/// The sha256 of `file` in `sha256sum` output: lines `<hex>  <name>` (`<hex> *<name>` in binary
/// mode; a leading `./` on the name is ignored).
pub fn sha256sum_lookup(text: &str, file: &str) -> Result<String, String> {
    let mut found: Option<&str> = None;
    for line in text.lines() {
        let Some((hex, name)) = line.trim_end().split_once(char::is_whitespace) else {
            continue;
        };
        let name = name.trim_start().trim_start_matches('*');
        if name.trim_start_matches("./") != file {
            continue;
        }
        let hex = hex.trim();
        if !artifacts::is_sha256_hex(hex) {
            return Err(format!("the line for {file} has no sha256 ({hex:?})"));
        }
        if found.is_some_and(|f| f != hex) {
            return Err(format!("{file} is listed twice with different values"));
        }
        found = Some(hex);
    }
    found
        .map(str::to_owned)
        .ok_or_else(|| format!("no line for {file}"))
}

#[derive(Deserialize)]
struct HelmIndex {
    #[serde(default)]
    entries: BTreeMap<String, Vec<HelmEntry>>,
}

#[derive(Deserialize)]
struct HelmEntry {
    #[serde(default)]
    version: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    urls: Vec<String>,
}

/// The `digest` of the chart version `version` whose archive is `file` (by one of its `urls`, or
/// by `<chart>-<version>.tgz`) in a Helm repository's `index.yaml`.
pub fn helm_index_lookup(yaml: &[u8], file: &str, version: &str) -> Result<String, String> {
    let text = std::str::from_utf8(yaml).map_err(|e| format!("index.yaml is not UTF-8: {e}"))?;
    // A busy repository's index has hundreds of thousands of nodes; the default budget is for
    // configuration files.
    let mut options = serde_saphyr::Options::default();
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = 20_000_000;
    budget.max_events = 50_000_000;
    options.budget = Some(budget);
    let index: HelmIndex = serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| format!("index.yaml cannot be read: {e}"))?;
    let matches: Vec<&HelmEntry> = index
        .entries
        .iter()
        .flat_map(|(chart, versions)| versions.iter().map(move |v| (chart, v)))
        .filter(|(chart, v)| {
            v.version == version
                && (format!("{chart}-{version}.tgz") == file
                    || v.urls.iter().any(|u| file_name(u) == file))
        })
        .map(|(_, v)| v)
        .collect();
    let entry = match matches.as_slice() {
        [] => {
            return Err(format!(
                "no chart version {version} with the archive {file}"
            ));
        }
        [one] => *one,
        _ => return Err(format!("{file} {version} is listed more than once")),
    };
    let digest = entry
        .digest
        .strip_prefix("sha256:")
        .unwrap_or(&entry.digest);
    if artifacts::is_sha256_hex(digest) {
        Ok(digest.to_owned())
    } else {
        Err(format!(
            "the digest of {file} {version} is not a sha256 ({:?})",
            entry.digest
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256sum_lines_are_matched_by_exact_file_name() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let text = format!("{a}  k3s\n{b}  k3s-airgap-images-amd64.tar.zst\n{a}  k3s-images.txt\n");
        assert_eq!(sha256sum_lookup(&text, "k3s").unwrap(), a);
        assert_eq!(
            sha256sum_lookup(&text, "k3s-airgap-images-amd64.tar.zst").unwrap(),
            b
        );
        assert_eq!(
            sha256sum_lookup(&format!("{b} *./k3s\n"), "k3s").unwrap(),
            b
        );
        assert!(
            sha256sum_lookup(&text, "k3s-arm64")
                .unwrap_err()
                .contains("no line")
        );
        assert!(sha256sum_lookup(&format!("{a}  k3s\n{b}  k3s\n"), "k3s").is_err());
        assert!(sha256sum_lookup("XYZ  k3s\n", "k3s").is_err());
    }

    #[test]
    fn helm_index_digest_of_the_version_and_archive() {
        let d = "c".repeat(64);
        let yaml = format!(
            "apiVersion: v1\nentries:\n  cilium:\n  - version: 1.16.5\n    digest: {d}\n    urls:\n    - https://helm.cilium.io/cilium-1.16.5.tgz\n  - version: 1.16.4\n    digest: {}\n    urls: [cilium-1.16.4.tgz]\n  tetragon:\n  - version: 1.16.5\n    digest: {}\n    urls: [tetragon-1.16.5.tgz]\ngenerated: 2024-12-19T00:00:00Z\n",
            "d".repeat(64),
            "e".repeat(64)
        );
        assert_eq!(
            helm_index_lookup(yaml.as_bytes(), "cilium-1.16.5.tgz", "1.16.5").unwrap(),
            d
        );
        assert!(helm_index_lookup(yaml.as_bytes(), "cilium-1.16.6.tgz", "1.16.6").is_err());
        assert!(helm_index_lookup(b"entries: [", "cilium-1.16.5.tgz", "1.16.5").is_err());
    }

    #[test]
    fn helm_index_of_a_busy_repository_is_within_the_budget() {
        // More nodes than serde-saphyr's default budget for configuration files allows.
        let mut yaml = String::from("apiVersion: v1\nentries:\n  cilium:\n");
        for i in 0..12_000 {
            yaml.push_str(&format!(
                "  - name: cilium\n    version: 1.{}.{}\n    digest: {}\n    created: \"2024-01-01T00:00:00Z\"\n    description: eBPF-based networking\n    keywords: [bpf, ebpf, networking, security, observability]\n    annotations:\n      a: b\n      c: d\n    urls:\n    - cilium-1.{}.{}.tgz\n",
                i / 100,
                i % 100,
                "f".repeat(64),
                i / 100,
                i % 100
            ));
        }
        assert_eq!(
            helm_index_lookup(yaml.as_bytes(), "cilium-1.16.5.tgz", "1.16.5").unwrap(),
            "f".repeat(64)
        );
    }

    #[test]
    fn file_name_is_the_last_url_segment() {
        assert_eq!(
            file_name("https://github.com/k3s-io/k3s/releases/download/v1.31.4%2Bk3s1/k3s-arm64"),
            "k3s-arm64"
        );
        assert_eq!(file_name("http://127.0.0.1:1/a/b.tgz?x=1"), "b.tgz");
    }
}
