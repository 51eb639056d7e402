//! `openova airgap bundle` and `openova airgap verify`: download everything a site without egress
//! needs (node artifacts, wrapper charts, OpenTofu providers), verify each file as it lands, and
//! record sizes and sha256 in `manifest.json`; re-check a bundle against that manifest later.
//!
//! Downloads are resumable: a file being fetched is `<path>.part` and continues with an HTTP range
//! request; a file already in place whose sha256 is right is not fetched again. A file whose
//! sha256 differs from what was pinned (or from the registry digest) is deleted and the bundle
//! stops with the file's name, URL and both checksums.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::airgap::artifacts::{self, ArtifactError, ArtifactTable};
use crate::domain::catalog::Catalog;
use crate::domain::naming::Provider;
use crate::provision::modules;

/// Name of the manifest inside a bundle.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Name of the image list inside a bundle.
pub const IMAGES_FILE: &str = "images.txt";
/// Name of the instructions inside a bundle.
pub const README_FILE: &str = "README.md";
/// Where OpenTofu providers are fetched from unless told otherwise.
pub const DEFAULT_PROVIDER_REGISTRY: &str = "https://registry.opentofu.org";
/// Host name of providers whose source names none.
pub const DEFAULT_PROVIDER_HOST: &str = "registry.opentofu.org";
/// The manifest format this binary writes and reads.
pub const MANIFEST_FORMAT: u32 = 1;

const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Why a bundle could not be built or verified.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Artifacts(#[from] ArtifactError),
    #[error("cannot create {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("download of {url} failed: {message}")]
    Download { url: String, message: String },
    #[error(
        "{path} from {url} refused: sha256 is {got}, expected {expected}; the file was deleted"
    )]
    Checksum {
        path: String,
        url: String,
        expected: String,
        got: String,
    },
    #[error("{what} from {url}: {message}")]
    Protocol {
        what: String,
        url: String,
        message: String,
    },
    #[error("OpenTofu module {module}: {message}")]
    Module { module: String, message: String },
    #[error("no version of provider {source_addr} matches {constraint} for {platform}")]
    NoProviderVersion {
        source_addr: String,
        constraint: String,
        platform: String,
    },
    #[error("component selection: {0}")]
    Selection(String),
    #[error("{dir} is not a bundle: {message}")]
    NotABundle { dir: PathBuf, message: String },
}

/// What to put into a bundle and where to fetch it from.
#[derive(Debug, Clone)]
pub struct BundleOptions {
    pub out: PathBuf,
    /// Node artifacts (must be pinned).
    pub table: ArtifactTable,
    /// Components whose charts and images go in, by name (a resolved install plan).
    pub components: Vec<String>,
    /// Provider modules whose OpenTofu providers go in.
    pub providers: Vec<Provider>,
    /// OpenTofu provider platforms (`linux_amd64`).
    pub platforms: Vec<String>,
    /// Base URL of the provider registry (network protocol `/v1/providers/...`).
    pub provider_registry: String,
    /// Base URL that replaces `https://<host>` of the catalog's `oci://<host>/...` chart
    /// repositories (a registry mirror of the connected machine), if any.
    pub chart_registry: Option<String>,
    /// Print progress to stderr.
    pub progress: bool,
}

/// `manifest.json`: every file of the bundle with its size and sha256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    /// The openova release that wrote it.
    pub openova: String,
    /// Components whose charts and images are in the bundle.
    pub components: Vec<String>,
    pub files: Vec<ManifestFile>,
}

/// One file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// Relative path inside the bundle.
    pub path: String,
    pub size: u64,
    pub sha256: String,
    /// `node`, `chart`, `provider`, `provider-index`, `images`, `readme` or `table`.
    pub kind: String,
    /// Where it was downloaded from (empty for files the bundle writes itself).
    #[serde(default)]
    pub source: String,
}

/// The components of `request` (names) plus the mandatory set and every dependency, in install
/// order; `None` selects the whole catalog.
pub fn select_components(
    catalog: &Catalog,
    request: Option<&[String]>,
) -> Result<Vec<String>, BundleError> {
    let Some(request) = request else {
        return Ok(catalog
            .components()
            .iter()
            .map(|c| c.name.clone())
            .collect());
    };
    let mut names: Vec<&str> = catalog
        .mandatory()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    names.extend(request.iter().map(String::as_str));
    let plan = crate::domain::resolve::install_plan(catalog, &BTreeSet::new(), &names, &[])
        .map_err(|e| BundleError::Selection(e.to_string()))?;
    Ok(plan.order)
}

/// Builds (or completes) a bundle in `opts.out` and returns its manifest.
pub fn bundle(opts: &BundleOptions, catalog: &Catalog) -> Result<Manifest, BundleError> {
    opts.table.check_pinned()?;
    create_dir(&opts.out)?;
    let agent = agent();
    let mut progress = Progress::new(opts.progress);
    let mut files = Vec::new();

    let node_total = opts.table.artifacts.len();
    for (i, a) in opts.table.artifacts.iter().enumerate() {
        progress.step("node artifact", i + 1, node_total, &a.name);
        let size = fetch_verified(
            &agent,
            &a.upstream,
            &[],
            &opts.out,
            &a.path,
            &a.sha256,
            &mut progress,
        )?;
        files.push(ManifestFile {
            path: a.path.clone(),
            size,
            sha256: a.sha256.clone(),
            kind: "node".into(),
            source: a.upstream.clone(),
        });
    }

    let mut images = BTreeSet::new();
    let total = opts.components.len();
    for (i, name) in opts.components.iter().enumerate() {
        let c = catalog
            .get(name)
            .ok_or_else(|| BundleError::Selection(format!("unknown component {name}")))?;
        images.extend(c.images.iter().cloned());
        let artifact = c.chart_artifact(c.latest());
        progress.step("chart", i + 1, total, &artifact);
        files.push(fetch_chart(
            &agent,
            &artifact,
            opts.chart_registry.as_deref(),
            &opts.out,
            &mut progress,
        )?);
    }

    for p in &opts.providers {
        files.extend(fetch_providers(&agent, *p, opts, &mut progress)?);
    }
    // Two modules share providers (tls, random): one entry each.
    let mut seen = BTreeSet::new();
    files.retain(|f| seen.insert(f.path.clone()));

    let mut list = String::from(
        "# Container images the selected components run, one per line: copy each into the\n\
         # registry mirror under <mirror>/<registry>/<repository>:<tag> (see README.md).\n",
    );
    for i in &images {
        list.push_str(i);
        list.push('\n');
    }
    files.push(write_own(
        &opts.out,
        IMAGES_FILE,
        "images",
        list.as_bytes(),
    )?);
    files.push(write_own(
        &opts.out,
        README_FILE,
        "readme",
        readme(opts).as_bytes(),
    )?);
    // The pinned table travels with the bundle: the bastion's `[airgap] artifact_table`.
    let table = serde_json::to_string_pretty(&opts.table).map_err(|e| BundleError::Write {
        path: opts.out.join(artifacts::TABLE_FILE),
        source: std::io::Error::other(e),
    })? + "\n";
    files.push(write_own(
        &opts.out,
        artifacts::TABLE_FILE,
        "table",
        table.as_bytes(),
    )?);

    let manifest = Manifest {
        format: MANIFEST_FORMAT,
        openova: env!("CARGO_PKG_VERSION").to_owned(),
        components: opts.components.clone(),
        files,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| BundleError::Write {
        path: opts.out.join(MANIFEST_FILE),
        source: std::io::Error::other(e),
    })? + "\n";
    write_atomic(&opts.out.join(MANIFEST_FILE), text.as_bytes())?;
    progress.done("bundle");
    Ok(manifest)
}

/// One problem `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyProblem {
    pub path: String,
    pub message: String,
}

/// Re-checks every file of the bundle in `dir` against its manifest: present, same size, same
/// sha256. Returns the manifest and the problems found (empty: the bundle is intact).
pub fn verify(dir: &Path) -> Result<(Manifest, Vec<VerifyProblem>), BundleError> {
    let path = dir.join(MANIFEST_FILE);
    let text = fs::read_to_string(&path).map_err(|e| BundleError::NotABundle {
        dir: dir.to_path_buf(),
        message: format!("cannot read {MANIFEST_FILE}: {e}"),
    })?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| BundleError::NotABundle {
        dir: dir.to_path_buf(),
        message: format!("{MANIFEST_FILE} is not a bundle manifest: {e}"),
    })?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(BundleError::NotABundle {
            dir: dir.to_path_buf(),
            message: format!(
                "manifest format {} is not {MANIFEST_FORMAT}, the one this openova reads",
                manifest.format
            ),
        });
    }
    let mut problems = Vec::new();
    for f in &manifest.files {
        let problem = |message: String| VerifyProblem {
            path: f.path.clone(),
            message,
        };
        if let Err(m) = artifacts::check_relative_path(&f.path) {
            problems.push(problem(m));
            continue;
        }
        let p = dir.join(&f.path);
        match hash_file(&p) {
            Err(e) => problems.push(problem(format!("cannot read: {e}"))),
            Ok((size, _)) if size != f.size => {
                problems.push(problem(format!("size is {size}, manifest says {}", f.size)))
            }
            Ok((_, sum_got)) if sum_got != f.sha256 => problems.push(problem(format!(
                "sha256 is {sum_got}, manifest says {}",
                f.sha256
            ))),
            Ok(_) => {}
        }
    }
    Ok((manifest, problems))
}

// ---- downloads -------------------------------------------------------------------------------

/// The HTTP client of every download: proxies from the environment (`HTTPS_PROXY`, `HTTP_PROXY`,
/// `ALL_PROXY`, `NO_PROXY`), HTTP errors as statuses, openova's user agent.
pub(crate) fn agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(120)))
        .user_agent(concat!("openova/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::new_with_config(config)
}

fn download_error(url: &str, message: impl std::fmt::Display) -> BundleError {
    BundleError::Download {
        url: url.to_owned(),
        message: message.to_string(),
    }
}

/// Fetches `url` into `out/rel` unless a file with the right sha256 is already there, resuming
/// a `.part` file with a range request, and verifies the result. Returns the size.
fn fetch_verified(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, String)],
    out: &Path,
    rel: &str,
    sha256: &str,
    progress: &mut Progress,
) -> Result<u64, BundleError> {
    artifacts::check_relative_path(rel).map_err(|m| BundleError::Protocol {
        what: "bundle path".into(),
        url: url.to_owned(),
        message: m,
    })?;
    let dest = out.join(rel);
    if let Ok((size, sum)) = hash_file(&dest)
        && sum == sha256
    {
        progress.note(&format!("{rel}: already in the bundle, sha256 checked"));
        return Ok(size);
    }
    if let Some(parent) = dest.parent() {
        create_dir(parent)?;
    }
    let part = PathBuf::from(format!("{}.part", dest.display()));
    let have = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let mut req = agent.get(url);
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    if have > 0 {
        req = req.header("Range", format!("bytes={have}-"));
    }
    let mut resp = req.call().map_err(|e| download_error(url, e))?;
    let status = resp.status().as_u16();
    let append = match status {
        206 if have > 0 => true,
        200 => false,
        // The part file is already complete: the server has nothing after it.
        416 if have > 0 => true,
        other => return Err(download_error(url, format!("HTTP status {other}"))),
    };
    let total = content_length(&resp).map(|n| if append { n + have } else { n });
    if status != 416 {
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&part)
            .map_err(|e| BundleError::Write {
                path: part.clone(),
                source: e,
            })?;
        let start = if append { have } else { 0 };
        stream_body(&mut resp, url, rel, start, total, progress, |chunk| {
            file.write_all(chunk).map_err(|e| BundleError::Write {
                path: part.clone(),
                source: e,
            })
        })?;
        file.sync_all().map_err(|e| BundleError::Write {
            path: part.clone(),
            source: e,
        })?;
    }
    let (size, got) = hash_file(&part).map_err(|e| BundleError::Read {
        path: part.clone(),
        source: e,
    })?;
    if got != sha256 {
        let _ = fs::remove_file(&part);
        return Err(BundleError::Checksum {
            path: rel.to_owned(),
            url: url.to_owned(),
            expected: sha256.to_owned(),
            got,
        });
    }
    fs::rename(&part, &dest).map_err(|e| BundleError::Write {
        path: dest.clone(),
        source: e,
    })?;
    progress.note(&format!("{rel}: {} verified", human(size)));
    Ok(size)
}

/// The response's `Content-Length`, if it has one.
fn content_length(resp: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    resp.headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Reads the body of `resp` to its end in chunks, handing each to `sink` and reporting progress
/// on `rel` (`start` bytes were already there, of `total`). Returns the byte count read.
fn stream_body(
    resp: &mut ureq::http::Response<ureq::Body>,
    url: &str,
    rel: &str,
    start: u64,
    total: Option<u64>,
    progress: &mut Progress,
    mut sink: impl FnMut(&[u8]) -> Result<(), BundleError>,
) -> Result<u64, BundleError> {
    let mut reader = resp.body_mut().as_reader();
    let mut buf = vec![0u8; 64 * 1024];
    let mut done = start;
    loop {
        let n = reader.read(&mut buf).map_err(|e| download_error(url, e))?;
        if n == 0 {
            break;
        }
        sink(&buf[..n])?;
        done += n as u64;
        progress.bytes(rel, done, total);
    }
    Ok(done - start)
}

/// Downloads `url` without keeping it and returns its size and sha256 (`rel` names it in the
/// progress output).
pub(crate) fn download_sha256(
    agent: &ureq::Agent,
    url: &str,
    rel: &str,
    progress: &mut Progress,
) -> Result<(u64, String), BundleError> {
    let mut resp = agent.get(url).call().map_err(|e| download_error(url, e))?;
    match resp.status().as_u16() {
        200 => {}
        other => return Err(download_error(url, format!("HTTP status {other}"))),
    }
    let total = content_length(&resp);
    let mut hash = Sha256::new();
    let size = stream_body(&mut resp, url, rel, 0, total, progress, |chunk| {
        hash.update(chunk);
        Ok(())
    })?;
    progress.note(&format!("{rel}: {} downloaded", human(size)));
    Ok((size, hex(&hash.finalize())))
}

/// GETs a small document (a checksum list, an index) of at most `limit` bytes.
pub(crate) fn download_small(
    agent: &ureq::Agent,
    url: &str,
    limit: u64,
) -> Result<Vec<u8>, BundleError> {
    let mut resp = agent.get(url).call().map_err(|e| download_error(url, e))?;
    match resp.status().as_u16() {
        200 => resp
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| download_error(url, e)),
        other => Err(download_error(url, format!("HTTP status {other}"))),
    }
}

/// `oci://host/path` split into the registry's base URL (or the override), and the path.
fn oci_base(repository: &str, chart_registry: Option<&str>) -> Result<(String, String), String> {
    let rest = repository
        .strip_prefix("oci://")
        .ok_or_else(|| format!("chart repository {repository:?} is not an oci:// reference"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let base = match chart_registry {
        Some(b) => b.trim_end_matches('/').to_owned(),
        None => format!("https://{host}"),
    };
    Ok((base, path.trim_matches('/').to_owned()))
}

/// GET with an anonymous bearer token when the registry asks for one (`WWW-Authenticate:
/// Bearer realm=...`), as registries such as ghcr.io do for public pulls.
fn registry_get(
    agent: &ureq::Agent,
    url: &str,
    accept: &str,
    token: &mut Option<String>,
) -> Result<Vec<u8>, BundleError> {
    for _ in 0..2 {
        let mut req = agent.get(url).header("Accept", accept);
        if let Some(t) = token.as_deref() {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let mut resp = req.call().map_err(|e| download_error(url, e))?;
        match resp.status().as_u16() {
            200 => {
                return resp
                    .body_mut()
                    .with_config()
                    .limit(16 * 1024 * 1024)
                    .read_to_vec()
                    .map_err(|e| download_error(url, e));
            }
            401 if token.is_none() => {
                let challenge = resp
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                *token = Some(anonymous_token(agent, url, &challenge)?);
            }
            other => return Err(download_error(url, format!("HTTP status {other}"))),
        }
    }
    Err(download_error(url, "the registry refused the pull token"))
}

fn anonymous_token(agent: &ureq::Agent, url: &str, challenge: &str) -> Result<String, BundleError> {
    let params = challenge
        .strip_prefix("Bearer ")
        .ok_or_else(|| download_error(url, format!("unsupported authentication {challenge:?}")))?;
    let mut fields = BTreeMap::new();
    for part in params.split(',') {
        if let Some((k, v)) = part.trim().split_once('=') {
            fields.insert(k.to_owned(), v.trim_matches('"').to_owned());
        }
    }
    let realm = fields
        .get("realm")
        .ok_or_else(|| download_error(url, "authentication challenge without realm"))?;
    let mut req = agent.get(realm.as_str());
    for k in ["service", "scope"] {
        if let Some(v) = fields.get(k) {
            req = req.query(k, v.as_str());
        }
    }
    let mut resp = req.call().map_err(|e| download_error(realm, e))?;
    if resp.status().as_u16() != 200 {
        return Err(download_error(
            realm,
            format!("token request: HTTP status {}", resp.status().as_u16()),
        ));
    }
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(1024 * 1024)
        .read_to_vec()
        .map_err(|e| download_error(realm, e))?;
    let body: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| download_error(realm, e))?;
    body.get("token")
        .or_else(|| body.get("access_token"))
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| download_error(realm, "token response without a token"))
}

/// Pulls the Helm chart layer of `artifact` (`oci://host/repo/chart:version`) into
/// `components/<chart>-<version>.tgz`, verified against the layer's digest.
fn fetch_chart(
    agent: &ureq::Agent,
    artifact: &str,
    chart_registry: Option<&str>,
    out: &Path,
    progress: &mut Progress,
) -> Result<ManifestFile, BundleError> {
    let protocol = |message: String| BundleError::Protocol {
        what: "chart".into(),
        url: artifact.to_owned(),
        message,
    };
    let (reference, tag) = artifact
        .rsplit_once(':')
        .ok_or_else(|| protocol("no :version".into()))?;
    let (base, repo) = oci_base(reference, chart_registry).map_err(protocol)?;
    let chart = repo.rsplit('/').next().unwrap_or_default().to_owned();
    let rel = format!("components/{chart}-{tag}.tgz");
    let mut token = None;
    let manifest_url = format!("{base}/v2/{repo}/manifests/{tag}");
    let body = registry_get(agent, &manifest_url, OCI_MANIFEST, &mut token)?;
    let manifest: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| protocol(format!("manifest is not JSON: {e}")))?;
    let layer = manifest["layers"]
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["mediaType"] == HELM_CHART_LAYER))
        .ok_or_else(|| protocol("manifest has no Helm chart layer".into()))?;
    let digest = layer["digest"].as_str().unwrap_or_default();
    let sha = digest
        .strip_prefix("sha256:")
        .filter(|h| artifacts::is_sha256_hex(h))
        .ok_or_else(|| protocol(format!("unsupported layer digest {digest:?}")))?;
    let blob = format!("{base}/v2/{repo}/blobs/{digest}");
    let headers: Vec<(&str, String)> = token
        .iter()
        .map(|t| ("Authorization", format!("Bearer {t}")))
        .collect();
    let size = fetch_verified(agent, &blob, &headers, out, &rel, sha, progress)?;
    Ok(ManifestFile {
        path: rel,
        size,
        sha256: sha.to_owned(),
        kind: "chart".into(),
        source: artifact.to_owned(),
    })
}

/// The providers of a module's `versions.tf`: (source, version constraint).
pub fn module_providers(provider: Provider) -> Result<Vec<(String, String)>, BundleError> {
    let module = modules::module_dir_name(provider);
    let err = |message: String| BundleError::Module {
        module: module.to_owned(),
        message,
    };
    let files = modules::tf_files(provider).map_err(|e| err(e.to_string()))?;
    let mut out = Vec::new();
    for f in files {
        let text = std::str::from_utf8(f.contents).map_err(|e| err(e.to_string()))?;
        let body: hcl::Body = hcl::parse(text).map_err(|e| err(e.to_string()))?;
        for b in body.blocks().filter(|b| b.identifier() == "terraform") {
            for rp in b
                .body()
                .blocks()
                .filter(|b| b.identifier() == "required_providers")
            {
                for attr in rp.body().attributes() {
                    let hcl::Expression::Object(obj) = attr.expr() else {
                        return Err(err(format!(
                            "required provider {} is not an object",
                            attr.key()
                        )));
                    };
                    let field = |name: &str| {
                        obj.iter().find_map(|(k, v)| {
                            let key = match k {
                                hcl::ObjectKey::Identifier(i) => i.as_str().to_owned(),
                                hcl::ObjectKey::Expression(hcl::Expression::String(s)) => s.clone(),
                                _ => return None,
                            };
                            match v {
                                hcl::Expression::String(s) if key == name => Some(s.clone()),
                                _ => None,
                            }
                        })
                    };
                    let source = field("source")
                        .ok_or_else(|| err(format!("provider {} has no source", attr.key())))?;
                    let version = field("version").unwrap_or_default();
                    out.push((source, version));
                }
            }
        }
    }
    Ok(out)
}

/// Downloads every provider of `provider`'s module for every platform into the packed mirror
/// layout, with the network-mirror index files next to them.
fn fetch_providers(
    agent: &ureq::Agent,
    provider: Provider,
    opts: &BundleOptions,
    progress: &mut Progress,
) -> Result<Vec<ManifestFile>, BundleError> {
    let mut files = Vec::new();
    let registry = opts.provider_registry.trim_end_matches('/');
    for (source, constraint) in module_providers(provider)? {
        let parts: Vec<&str> = source.split('/').collect();
        let (host, ns, ty) = match parts.as_slice() {
            [ns, ty] => (DEFAULT_PROVIDER_HOST, *ns, *ty),
            [host, ns, ty] => (*host, *ns, *ty),
            _ => {
                return Err(BundleError::Module {
                    module: modules::module_dir_name(provider).to_owned(),
                    message: format!("provider source {source:?} is not [host/]namespace/type"),
                });
            }
        };
        let versions_url = format!("{registry}/v1/providers/{ns}/{ty}/versions");
        let mut no_token = None;
        let body = registry_get(agent, &versions_url, "application/json", &mut no_token)?;
        let listing: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| BundleError::Protocol {
                what: format!("provider {source} versions"),
                url: versions_url.clone(),
                message: e.to_string(),
            })?;
        let dir = format!("providers/{host}/{ns}/{ty}");
        let mut archives = serde_json::Map::new();
        let mut chosen_version = String::new();
        for platform in &opts.platforms {
            let (os, arch) = platform.split_once('_').unwrap_or((platform, ""));
            let version = pick_version(&listing, &constraint, os, arch).ok_or_else(|| {
                BundleError::NoProviderVersion {
                    source_addr: source.clone(),
                    constraint: constraint.clone(),
                    platform: platform.clone(),
                }
            })?;
            let dl_url =
                format!("{registry}/v1/providers/{ns}/{ty}/{version}/download/{os}/{arch}");
            let body = registry_get(agent, &dl_url, "application/json", &mut no_token)?;
            let dl: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| BundleError::Protocol {
                    what: format!("provider {source} {version} download"),
                    url: dl_url.clone(),
                    message: e.to_string(),
                })?;
            let protocol = |message: &str| BundleError::Protocol {
                what: format!("provider {source} {version} download"),
                url: dl_url.clone(),
                message: message.to_owned(),
            };
            let filename = dl["filename"]
                .as_str()
                .filter(|f| artifacts::check_relative_path(f).is_ok() && !f.contains('/'))
                .ok_or_else(|| protocol("no usable filename"))?;
            let shasum = dl["shasum"]
                .as_str()
                .filter(|s| artifacts::is_sha256_hex(s))
                .ok_or_else(|| protocol("no sha256 shasum"))?;
            let url = dl["download_url"]
                .as_str()
                .ok_or_else(|| protocol("no download_url"))?;
            let url = if url.starts_with("http://") || url.starts_with("https://") {
                url.to_owned()
            } else {
                format!("{registry}/{}", url.trim_start_matches('/'))
            };
            progress.step("provider", 1, 1, &format!("{source} {version} {platform}"));
            let rel = format!("{dir}/{filename}");
            let size = fetch_verified(agent, &url, &[], &opts.out, &rel, shasum, progress)?;
            files.push(ManifestFile {
                path: rel,
                size,
                sha256: shasum.to_owned(),
                kind: "provider".into(),
                source: url,
            });
            archives.insert(
                platform.clone(),
                serde_json::json!({ "url": filename, "hashes": [format!("zh:{shasum}")] }),
            );
            chosen_version = version;
        }
        // The network mirror protocol's index files; a filesystem mirror ignores them.
        let index = serde_json::json!({ "versions": { chosen_version.clone(): {} } });
        let version_doc = serde_json::json!({ "archives": archives });
        for (name, doc) in [
            ("index.json".to_owned(), index),
            (format!("{chosen_version}.json"), version_doc),
        ] {
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
            files.push(write_own(
                &opts.out,
                &format!("{dir}/{name}"),
                "provider-index",
                text.as_bytes(),
            )?);
        }
    }
    Ok(files)
}

/// The newest version in a registry `versions` listing that matches an OpenTofu version
/// constraint and is published for `os`/`arch`.
fn pick_version(
    listing: &serde_json::Value,
    constraint: &str,
    os: &str,
    arch: &str,
) -> Option<String> {
    listing["versions"]
        .as_array()?
        .iter()
        .filter(|v| {
            v["platforms"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["os"] == os && p["arch"] == arch))
        })
        .filter_map(|v| v["version"].as_str())
        .filter_map(|s| semver::Version::parse(s).ok())
        .filter(|v| v.pre.is_empty() && constraint_matches(constraint, v))
        .max()
        .map(|v| v.to_string())
}

/// OpenTofu's version constraint syntax: comma-separated `=`, `!=`, `>`, `>=`, `<`, `<=` and
/// `~>` (the pessimistic operator: `~> 1.49` allows 1.x from 1.49, `~> 1.2.3` allows 1.2.x from
/// 1.2.3). An empty constraint allows every version.
pub fn constraint_matches(constraint: &str, v: &semver::Version) -> bool {
    constraint
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .all(|c| {
            let (op, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
                .iter()
                .find_map(|op| c.strip_prefix(op).map(|r| (*op, r.trim())))
                .unwrap_or(("=", c));
            let parts: Vec<u64> = rest.split('.').filter_map(|p| p.parse().ok()).collect();
            if parts.is_empty() || parts.len() > 3 {
                return false;
            }
            let at = |i: usize| parts.get(i).copied().unwrap_or(0);
            let bound = semver::Version::new(at(0), at(1), at(2));
            match op {
                "~>" => {
                    let upper = match parts.len() {
                        1 | 2 => semver::Version::new(at(0) + 1, 0, 0),
                        _ => semver::Version::new(at(0), at(1) + 1, 0),
                    };
                    *v >= bound && *v < upper
                }
                ">=" => *v >= bound,
                "<=" => *v <= bound,
                ">" => *v > bound,
                "<" => *v < bound,
                "!=" => *v != bound,
                _ => *v == bound,
            }
        })
}

// ---- files -----------------------------------------------------------------------------------

fn create_dir(path: &Path) -> Result<(), BundleError> {
    fs::create_dir_all(path).map_err(|e| BundleError::Create {
        path: path.to_path_buf(),
        source: e,
    })
}

/// Size and lower-case hex sha256 of a file.
pub fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex(&hash.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), BundleError> {
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    fs::write(&tmp, contents)
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|e| BundleError::Write {
            path: path.to_path_buf(),
            source: e,
        })
}

/// Writes a file the bundle produces itself and returns its manifest entry.
fn write_own(
    out: &Path,
    rel: &str,
    kind: &str,
    contents: &[u8],
) -> Result<ManifestFile, BundleError> {
    write_atomic(&out.join(rel), contents)?;
    Ok(ManifestFile {
        path: rel.to_owned(),
        size: contents.len() as u64,
        sha256: hex(&Sha256::digest(contents)),
        kind: kind.to_owned(),
        source: String::new(),
    })
}

fn human(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / MIB)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

fn readme(opts: &BundleOptions) -> String {
    let providers: Vec<&str> = opts
        .providers
        .iter()
        .map(|p| modules::module_dir_name(*p))
        .collect();
    format!(
        "# openova air-gap bundle\n\n\
         Written by openova {version}. Everything here was checked against its pinned sha256 (node\n\
         files) or its registry digest (charts, providers) as it was downloaded; `manifest.json`\n\
         lists every file with its size and sha256.\n\n\
         1. Carry this directory to the bastion (disk, data diode, ...), then check it there:\n   \
         `openova airgap verify <dir>` (reports any file that is missing or changed).\n\
         2. Make it reachable by the nodes, either\n   \
         - `openova airgap serve <dir> --listen <bastion private address>:8080`, or\n   \
         - upload the directory as is to a bucket or web server the nodes can reach.\n\
         3. Copy the images of `images.txt` into the registry mirror, each under\n   \
         `<mirror>/<registry>/<repository>:<tag>` (e.g. `crane copy`), and push the charts of\n   \
         `components/` to the mirror's chart repository (`helm push <tgz> oci://<mirror>/...`).\n\
         4. OpenTofu providers for the modules {providers}: copy `providers/` to the bastion\n   \
         (the same path as `[airgap] provider_mirror`).\n\
         5. In platform.toml:\n\n   \
         ```toml\n   [airgap]\n   provider_mirror = \"/opt/openova/providers\"  # this bundle's providers/ directory\n   \
         registry_mirror = \"https://registry.acme.internal\"\n   \
         artifacts = \"http://<bastion>:8080\"         # where step 2 serves this directory\n   \
         artifact_table = \"/opt/openova/artifacts.json\"  # this bundle's artifacts.json\n   ```\n\n\
         then `openova config validate platform.toml` and `openova bootstrap plan`.\n",
        version = env!("CARGO_PKG_VERSION"),
        providers = if providers.is_empty() {
            "(none selected)".to_owned()
        } else {
            providers.join(", ")
        },
    )
}

// ---- progress --------------------------------------------------------------------------------

/// Progress on stderr: one line per file, and a live byte count when stderr is a terminal.
pub(crate) struct Progress {
    enabled: bool,
    tty: bool,
    last: u64,
}

impl Progress {
    pub(crate) fn new(enabled: bool) -> Self {
        Progress {
            enabled,
            tty: std::io::stderr().is_terminal(),
            last: 0,
        }
    }

    pub(crate) fn step(&mut self, what: &str, i: usize, n: usize, name: &str) {
        if self.enabled {
            eprintln!("[{what} {i}/{n}] {name}");
        }
        self.last = 0;
    }

    pub(crate) fn bytes(&mut self, rel: &str, done: u64, total: Option<u64>) {
        if !self.enabled || !self.tty || done < self.last + 1024 * 1024 {
            return;
        }
        self.last = done;
        match total {
            Some(t) if t > 0 => eprint!(
                "\r  {rel}: {} of {} ({}%)   ",
                human(done),
                human(t),
                done * 100 / t
            ),
            _ => eprint!("\r  {rel}: {}   ", human(done)),
        }
    }

    pub(crate) fn note(&mut self, text: &str) {
        if self.enabled {
            if self.tty && self.last > 0 {
                eprint!("\r");
            }
            eprintln!("  {text}");
        }
    }

    pub(crate) fn done(&mut self, what: &str) {
        if self.enabled {
            eprintln!("{what} complete");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    #[test]
    fn constraints_follow_opentofu_pessimistic_operator() {
        assert!(constraint_matches("~> 1.49", &v("1.52.0")));
        assert!(!constraint_matches("~> 1.49", &v("2.0.0")));
        assert!(!constraint_matches("~> 1.49", &v("1.48.9")));
        assert!(constraint_matches("~> 1.2.3", &v("1.2.9")));
        assert!(!constraint_matches("~> 1.2.3", &v("1.3.0")));
        assert!(constraint_matches(">= 1.0, < 2.0", &v("1.5.0")));
        assert!(!constraint_matches(">= 1.0, != 1.5.0", &v("1.5.0")));
        assert!(constraint_matches("", &v("0.1.0")));
        assert!(constraint_matches("3.6.0", &v("3.6.0")));
    }

    #[test]
    fn every_module_names_its_providers_with_a_constraint() {
        for p in modules::providers() {
            let list = module_providers(p).unwrap();
            assert!(list.len() >= 3, "{p}: {list:?}");
            for (source, constraint) in list {
                assert_eq!(source.split('/').count(), 2, "{source}");
                assert!(constraint.starts_with("~>"), "{source} {constraint}");
            }
        }
    }

    #[test]
    fn pick_version_takes_newest_match_for_the_platform() {
        let listing = serde_json::json!({"versions": [
            {"version": "1.49.1", "platforms": [{"os": "linux", "arch": "amd64"}]},
            {"version": "1.50.0", "platforms": [{"os": "linux", "arch": "arm64"}]},
            {"version": "2.0.0", "platforms": [{"os": "linux", "arch": "amd64"}]},
            {"version": "1.51.0-rc1", "platforms": [{"os": "linux", "arch": "amd64"}]}
        ]});
        assert_eq!(
            pick_version(&listing, "~> 1.49", "linux", "amd64").as_deref(),
            Some("1.49.1")
        );
        assert_eq!(
            pick_version(&listing, "~> 1.49", "linux", "arm64").as_deref(),
            Some("1.50.0")
        );
        assert_eq!(pick_version(&listing, "~> 3.0", "linux", "amd64"), None);
    }

    #[test]
    fn oci_base_uses_override_host() {
        assert_eq!(
            oci_base("oci://ghcr.io/openova-io", None).unwrap(),
            ("https://ghcr.io".into(), "openova-io".into())
        );
        assert_eq!(
            oci_base("oci://ghcr.io/openova-io", Some("http://127.0.0.1:9/")).unwrap(),
            ("http://127.0.0.1:9".into(), "openova-io".into())
        );
        assert!(oci_base("https://ghcr.io/x", None).is_err());
    }
}
