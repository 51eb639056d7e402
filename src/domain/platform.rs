//! The platform configuration: the typed result of the wizard, its versioned `platform.toml`
//! form (strict parsing with line and column, lossless round trip), and validation that reports
//! every problem at once with the field path it concerns.
//!
//! Secrets are never part of it: credentials, S3 keys and a generated SSH private key appear
//! only as [`SecretRef`]s (`keyring:…` or `env:…`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use toml::de::{DeTable, DeValue};

use super::naming::{
    self, BuildingBlock, ClusterId, EnvType, FieldError, Location, Provider, validate_cidr,
    validate_control_plane_count, validate_dns_label, validate_domain, validate_email,
    validate_org_name, validate_org_slug, validate_server_size, validate_worker_count,
};

/// The only `apiVersion` this build reads and writes.
pub const API_VERSION: &str = "openova.io/v1alpha1";
/// The `kind` of a platform configuration document.
pub const KIND: &str = "PlatformConfig";
const API_GROUP: &str = "openova.io/";

/// Most regions one platform spans.
pub const MAX_REGIONS: usize = 2;

/// The `apiVersion` marker: serializes as [`API_VERSION`] and accepts nothing else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiVersion;

/// The `kind` marker: serializes as [`KIND`] and accepts nothing else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Kind;

macro_rules! fixed_string {
    ($ty:ident, $value:expr, $what:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($value)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                if s == $value {
                    Ok($ty)
                } else {
                    Err(serde::de::Error::custom(format!(
                        "{} {:?} is not {:?}",
                        $what, s, $value
                    )))
                }
            }
        }
    };
}
fixed_string!(ApiVersion, API_VERSION, "apiVersion");
fixed_string!(Kind, KIND, "kind");

/// Everything needed to provision one platform and hand it to the Lifecycle Manager.
///
/// Field order matters: TOML needs plain values before tables, and `state_backend` is a
/// string for `local`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {
    #[serde(rename = "apiVersion")]
    pub api_version: ApiVersion,
    pub kind: Kind,
    /// The cloud every region runs in.
    pub provider: Provider,
    /// `true` refuses every destroy of this platform until it is removed from the file.
    #[serde(default, skip_serializing_if = "is_false")]
    pub protect: bool,
    /// Catalog components and meta-platforms selected beyond the mandatory set (which is
    /// always installed and need not be listed). Dependencies are resolved at install time.
    #[serde(default)]
    pub components: Vec<String>,
    /// Where OpenTofu keeps its state.
    pub state_backend: StateBackend,
    pub organization: Organization,
    /// One or two regions; each becomes one cluster.
    pub regions: Vec<Region>,
    pub ssh: Ssh,
    /// Who may reach the Kubernetes API. Required for a run: there is no world-open default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiAccess>,
    /// Provider credentials by name (see [`Provider::credential_names`]), as references.
    pub credentials: BTreeMap<String, SecretRef>,
    /// Huawei Cloud settings beyond the credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huawei: Option<HuaweiSettings>,
    /// OCI settings beyond the credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci: Option<OciSettings>,
    /// Replacement API endpoints for the live credential checks (proxies, private endpoints,
    /// test stand-ins).
    #[serde(default, skip_serializing_if = "Endpoints::is_empty")]
    pub endpoints: Endpoints,
    /// Settings for sites without internet access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub airgap: Option<Airgap>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The networks allowed to reach the Kubernetes API (port 6443) of every cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiAccess {
    /// IPv4 CIDRs, e.g. the bastion's `198.51.100.7/32`. `0.0.0.0/0` opens the API to
    /// the world (the plan summary warns about it).
    pub allowed_cidrs: Vec<String>,
}

/// Huawei Cloud: where in the account the platform goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuaweiSettings {
    /// The IAM project of the region (32 hex characters); found from the region when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// Enterprise project that receives the resources (`0` is the default project).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
}

/// OCI: where in the tenancy the platform goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OciSettings {
    /// Compartment OCID; the tenancy's root compartment when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment_ocid: Option<String>,
}

/// Base URLs replacing the providers' public endpoints for the live credential checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    /// Hetzner Cloud API base, default `https://api.hetzner.cloud/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hetzner_api: Option<String>,
    /// Huawei Cloud IAM, default `https://iam.myhuaweicloud.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huawei_iam: Option<String>,
    /// OCI Identity, default `https://identity.<region>.oci.oraclecloud.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci_identity: Option<String>,
}

impl Endpoints {
    pub fn is_empty(&self) -> bool {
        self.hetzner_api.is_none() && self.huawei_iam.is_none() && self.oci_identity.is_none()
    }

    /// The endpoint configured for `provider`'s check, if any.
    pub fn for_provider(&self, provider: Provider) -> Option<&str> {
        match provider {
            Provider::Hetzner => self.hetzner_api.as_deref(),
            Provider::HuaweiCloud => self.huawei_iam.as_deref(),
            Provider::Oci => self.oci_identity.as_deref(),
        }
        .filter(|u| !u.is_empty())
    }
}

/// Who the platform belongs to and where it lives in DNS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// Display name, e.g. `Acme Financial`.
    pub name: String,
    /// Identifier used in namespaces and Environment names (`acme` → `acme-prod`).
    pub slug: String,
    /// The operator's own domain; services live below it (`console.acme.io`).
    pub domain: String,
    /// Contact for certificates and notices.
    pub email: String,
    pub env_type: EnvType,
}

/// One region: a location, its security zone and its node pools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub location: Location,
    pub building_block: BuildingBlock,
    pub control_plane: NodePool,
    pub workers: NodePool,
}

/// A group of identical servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodePool {
    /// Provider server size (instance type), e.g. `cx43`.
    pub size: String,
    pub count: u32,
}

/// Where OpenTofu state is kept. `local` keeps it in the run directory on this machine (a
/// lab); production platforms keep it in the operator's own S3-compatible bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateBackend {
    Local,
    S3(S3Backend),
}

/// An S3-compatible bucket for OpenTofu state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Backend {
    /// `https://…` endpoint (plain `http://` only for a loopback address).
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    /// Prefix for state object keys, e.g. `openova/acme`.
    pub key_prefix: String,
    pub access_key_id: SecretRef,
    pub secret_access_key: SecretRef,
}

/// Settings for a site without internet access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Airgap {
    /// Absolute path of a local OpenTofu provider mirror (filesystem_mirror).
    pub provider_mirror: String,
    /// Registry that mirrors every chart and image, `https://host[:port][/path]`.
    pub registry_mirror: String,
    /// Name of the ConfigMap holding the catalog, when it differs from the embedded one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_configmap: Option<String>,
    /// Where the nodes fetch their first-boot files (what `openova airgap bundle` wrote):
    /// `http(s)://host[:port][/path]`, e.g. a bucket or `openova airgap serve` on the bastion.
    /// Absent: the pinned upstream release URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<String>,
    /// Absolute path of an artifact table to use instead of the one built in (same JSON format
    /// as the modules' `shared/artifacts.json`), e.g. one the site pinned itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_table: Option<String>,
}

/// Break-glass SSH access to the nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ssh {
    /// OpenSSH public key line installed on every node.
    pub public_key: String,
    /// Where the private key is kept when openova generated the pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<SecretRef>,
    /// IPv4 networks allowed to reach port 22; empty closes SSH from the internet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_cidrs: Vec<String>,
}

/// A pointer to a secret: `keyring:<path>` (the OS keyring) or `env:<NAME>` (an environment
/// variable of the process that provisions). Never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretRef(pub String);

/// Where a [`SecretRef`] points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource<'a> {
    /// Keyring entry path, e.g. `openova/draft-7/hcloud-token`.
    Keyring(&'a str),
    /// Environment variable name.
    Env(&'a str),
}

impl SecretRef {
    /// A keyring reference.
    pub fn keyring(path: &str) -> Self {
        Self(format!("keyring:{path}"))
    }

    /// An environment-variable reference.
    pub fn env(name: &str) -> Self {
        Self(format!("env:{name}"))
    }

    /// Where it points, or why it is not a reference. The message never repeats the value,
    /// because a value that is not a reference may well be the secret itself.
    pub fn source(&self) -> Result<SecretSource<'_>, String> {
        let hint = "write keyring:openova/<name> or env:<VARIABLE>; the secret itself never \
                    belongs in platform.toml (the value is not shown here)";
        if let Some(path) = self.0.strip_prefix("keyring:") {
            let ok = !path.is_empty()
                && !path.starts_with('/')
                && !path.ends_with('/')
                && !path.contains("//")
                && path
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
            return if ok {
                Ok(SecretSource::Keyring(path))
            } else {
                Err(format!(
                    "keyring path must be segments of A-Z a-z 0-9 . _ - separated by '/'; {hint}"
                ))
            };
        }
        if let Some(name) = self.0.strip_prefix("env:") {
            let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            return if ok {
                Ok(SecretSource::Env(name))
            } else {
                Err(format!(
                    "environment variable name must match [A-Za-z_][A-Za-z0-9_]*; {hint}"
                ))
            };
        }
        Err(format!("is not a secret reference: {hint}"))
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 1-based position in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// Position of a byte offset in `text`.
    pub fn of_offset(text: &str, offset: usize) -> Position {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before
            .get(line_start..)
            .map_or(1, |s| s.chars().count() + 1);
        Position { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a platform.toml could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML at all (unclosed string, duplicate key, …).
    #[error("{}{message}", at_prefix(.at))]
    Syntax {
        message: String,
        at: Option<Position>,
    },
    /// A key this version does not know; often a typo.
    #[error("{}{}unknown field `{field}`{}", at_prefix(.at), path_prefix(.path), expected_suffix(.expected))]
    UnknownField {
        field: String,
        /// Dotted path of the table holding it.
        path: Option<String>,
        /// The accepted keys, as the parser listed them.
        expected: Option<String>,
        at: Option<Position>,
    },
    /// A value of the wrong type or a code outside its table, or a required field missing.
    #[error("{}{}{message}", at_prefix(.at), path_prefix(.path))]
    Invalid {
        message: String,
        path: Option<String>,
        at: Option<Position>,
    },
    #[error("apiVersion is missing: the file should start with apiVersion = \"{API_VERSION}\"")]
    MissingApiVersion,
    #[error(
        "{}apiVersion {found:?} was written by a newer openova; this one reads {API_VERSION}",
        at_prefix(.at)
    )]
    NewerApiVersion { found: String, at: Option<Position> },
    #[error(
        "{}apiVersion {found:?} is not an openova platform configuration (expected {API_VERSION})",
        at_prefix(.at)
    )]
    ForeignApiVersion { found: String, at: Option<Position> },
    #[error("{}kind {found:?} is not {KIND}", at_prefix(.at))]
    WrongKind { found: String, at: Option<Position> },
    /// Writing TOML failed; only possible for values TOML cannot express.
    #[error("cannot write platform.toml: {0}")]
    Serialize(String),
}

fn at_prefix(at: &Option<Position>) -> String {
    at.map(|p| format!("{p}: ")).unwrap_or_default()
}

fn path_prefix(path: &Option<String>) -> String {
    path.as_ref()
        .filter(|p| !p.is_empty())
        .map(|p| format!("{p}: "))
        .unwrap_or_default()
}

fn expected_suffix(expected: &Option<String>) -> String {
    expected
        .as_ref()
        .map(|e| format!(", expected {e}"))
        .unwrap_or_default()
}

impl ConfigError {
    /// Where in the text the problem is, when known.
    pub fn position(&self) -> Option<Position> {
        match self {
            ConfigError::Syntax { at, .. }
            | ConfigError::UnknownField { at, .. }
            | ConfigError::Invalid { at, .. }
            | ConfigError::NewerApiVersion { at, .. }
            | ConfigError::ForeignApiVersion { at, .. }
            | ConfigError::WrongKind { at, .. } => *at,
            ConfigError::MissingApiVersion | ConfigError::Serialize(_) => None,
        }
    }

    /// The message without the position prefix, for `FILE:LINE:COL: message` output.
    pub fn reason(&self) -> String {
        let full = self.to_string();
        match self.position() {
            Some(p) => full
                .strip_prefix(&format!("{p}: "))
                .map_or(full.clone(), str::to_owned),
            None => full,
        }
    }
}

impl PlatformConfig {
    /// Reads a platform.toml. Checks `apiVersion` and `kind` first, so a file from a newer
    /// release is reported as such rather than as a list of unknown fields.
    pub fn parse(text: &str) -> Result<PlatformConfig, ConfigError> {
        let doc = DeTable::parse(text).map_err(|e| syntax_error(text, &e))?;
        check_header(text, doc.get_ref())?;
        toml::from_str(text).map_err(|e| typed_error(text, doc.get_ref(), &e))
    }

    /// Writes the canonical platform.toml text (no comments).
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        toml::to_string(self).map_err(|e| ConfigError::Serialize(e.to_string()))
    }

    /// The clusters this configuration creates, one per region.
    pub fn cluster_ids(&self) -> Vec<ClusterId> {
        self.regions
            .iter()
            .map(|r| ClusterId {
                provider: self.provider,
                location: r.location,
                building_block: r.building_block,
                env_type: self.organization.env_type,
            })
            .collect()
    }

    /// Cluster names, one per region, e.g. `hz-fsn-rtz-prod`.
    pub fn cluster_names(&self) -> Vec<String> {
        self.cluster_ids().iter().map(ClusterId::name).collect()
    }

    /// Kube context names written at handover; by convention equal to the cluster names.
    pub fn contexts(&self) -> Vec<String> {
        self.cluster_names()
    }

    /// The user-facing Environment name, e.g. `acme-prod`.
    pub fn environment(&self) -> String {
        naming::environment_name(&self.organization.slug, self.organization.env_type)
    }

    /// Every rule violation, in document order. Empty means the configuration can be used.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let mut check = |r: Result<(), FieldError>| {
            if let Err(e) = r {
                errs.push(e);
            }
        };

        // components: only the shape here; names are checked against a catalog separately.
        let mut seen = BTreeSet::new();
        for (i, c) in self.components.iter().enumerate() {
            let field = format!("components[{i}]");
            if !seen.insert(c.as_str()) {
                check(Err(FieldError::new(
                    field,
                    format!("{c:?} is listed twice; list each component once"),
                )));
            } else {
                check(validate_dns_label(&field, c).map_err(|e| {
                    FieldError::new(e.field, format!("not a component name: {}", e.message))
                }));
            }
        }

        if let StateBackend::S3(s3) = &self.state_backend {
            check_s3(s3, &mut check);
        }

        let org = &self.organization;
        check(validate_org_name("organization.name", &org.name));
        check(validate_org_slug("organization.slug", &org.slug));
        check(validate_domain("organization.domain", &org.domain));
        check(validate_email("organization.email", &org.email));

        if self.regions.is_empty() {
            check(Err(FieldError::new(
                "regions",
                "no region given: add one [[regions]] table (or two)",
            )));
        } else if self.regions.len() > MAX_REGIONS {
            check(Err(FieldError::new(
                "regions",
                format!(
                    "{} regions given; a platform has 1 or 2 (remove regions[2] and later)",
                    self.regions.len()
                ),
            )));
        }
        for (i, r) in self.regions.iter().enumerate() {
            let p = format!("regions[{i}]");
            if r.location.provider() != self.provider {
                let offered: Vec<&str> = self.provider.locations().map(Location::code).collect();
                check(Err(FieldError::new(
                    format!("{p}.location"),
                    format!(
                        "{:?} belongs to {}, but provider is {} ({}), which offers {}",
                        r.location.code(),
                        r.location.provider().name(),
                        self.provider.code(),
                        self.provider.name(),
                        offered.join(", ")
                    ),
                )));
            }
            check(validate_server_size(
                &format!("{p}.control_plane.size"),
                self.provider,
                &r.control_plane.size,
            ));
            check(validate_control_plane_count(
                &format!("{p}.control_plane.count"),
                r.control_plane.count,
            ));
            check(validate_server_size(
                &format!("{p}.workers.size"),
                self.provider,
                &r.workers.size,
            ));
            check(validate_worker_count(
                &format!("{p}.workers.count"),
                r.workers.count,
            ));
            if i > 0 {
                let first = &self.regions[0];
                if r.building_block != first.building_block {
                    check(Err(FieldError::new(
                        format!("{p}.building_block"),
                        format!(
                            "{:?} differs from regions[0].building_block {:?}: both regions run the same \
                             building block (clusters are named by zone, never by failover role)",
                            r.building_block.code(),
                            first.building_block.code()
                        ),
                    )));
                } else if r.location == first.location {
                    let id = self.cluster_ids()[0].name();
                    check(Err(FieldError::new(
                        format!("{p}.location"),
                        format!(
                            "{:?} is already regions[0].location: both regions would be cluster {id}; \
                             choose another location",
                            r.location.code()
                        ),
                    )));
                }
            }
        }

        match naming::parse_ssh_public_key("ssh.public_key", &self.ssh.public_key) {
            Ok(_) => {}
            Err(e) => check(Err(e)),
        }
        if let Some(r) = &self.ssh.private_key {
            check(check_ref("ssh.private_key", r));
        }
        for (i, c) in self.ssh.allowed_cidrs.iter().enumerate() {
            check(validate_cidr(&format!("ssh.allowed_cidrs[{i}]"), c));
        }

        if let Some(api) = &self.api {
            if api.allowed_cidrs.is_empty() {
                check(Err(FieldError::new(
                    "api.allowed_cidrs",
                    "is empty: list the networks allowed to reach the Kubernetes API, e.g. the \
                     bastion's address as 198.51.100.7/32 (openova itself connects from here)",
                )));
            }
            for (i, c) in api.allowed_cidrs.iter().enumerate() {
                check(validate_cidr(&format!("api.allowed_cidrs[{i}]"), c));
            }
        }
        if let Some(h) = &self.huawei {
            if self.provider != Provider::HuaweiCloud {
                check(Err(FieldError::new(
                    "huawei",
                    format!(
                        "is set, but provider is {}: remove the [huawei] table",
                        self.provider.code()
                    ),
                )));
            }
            if let Some(p) = &h.project_id
                && !(p.len() == 32 && p.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                check(Err(FieldError::new(
                    "huawei.project_id",
                    format!(
                        "{p:?} is not a project ID: 32 hexadecimal characters (IAM → Projects), or leave it out"
                    ),
                )));
            }
            if let Some(e) = &h.enterprise_project_id
                && (e.is_empty()
                    || e.len() > 64
                    || !e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            {
                check(Err(FieldError::new(
                    "huawei.enterprise_project_id",
                    format!("{e:?} is not an enterprise project ID: \"0\" (default) or a UUID"),
                )));
            }
        }
        if let Some(o) = &self.oci {
            if self.provider != Provider::Oci {
                check(Err(FieldError::new(
                    "oci",
                    format!(
                        "is set, but provider is {}: remove the [oci] table",
                        self.provider.code()
                    ),
                )));
            }
            if let Some(c) = &o.compartment_ocid
                && !(is_ocid("compartment", c) || is_ocid("tenancy", c))
            {
                check(Err(FieldError::new(
                    "oci.compartment_ocid",
                    format!(
                        "{c:?} is not a compartment OCID (ocid1.compartment.oc1..<id>), or leave it out for the root compartment"
                    ),
                )));
            }
        }
        for (field, url) in [
            ("endpoints.hetzner_api", &self.endpoints.hetzner_api),
            ("endpoints.huawei_iam", &self.endpoints.huawei_iam),
            ("endpoints.oci_identity", &self.endpoints.oci_identity),
        ] {
            if let Some(u) = url
                && let Err(m) = check_url(u, true)
            {
                check(Err(FieldError::new(field, m)));
            }
        }

        let wanted = self.provider.credential_names();
        for (name, var) in wanted {
            if !self.credentials.contains_key(*name) {
                check(Err(FieldError::new(
                    format!("credentials.{name}"),
                    format!(
                        "missing: {} needs it; add {name} = \"env:{var}\" or a keyring: reference",
                        self.provider.name()
                    ),
                )));
            }
        }
        for (name, r) in &self.credentials {
            let field = format!("credentials.{name}");
            if !wanted.iter().any(|(n, _)| n == name) {
                let names: Vec<&str> = wanted.iter().map(|(n, _)| *n).collect();
                check(Err(FieldError::new(
                    field,
                    format!(
                        "not a {} credential; expected {}",
                        self.provider.name(),
                        names.join(", ")
                    ),
                )));
            } else {
                check(check_ref(&field, r));
            }
        }

        if let Some(a) = &self.airgap {
            check_airgap(a, &mut check);
        }
        errs
    }

    /// Checks each selected component against a catalog (`known` answers whether a name is a
    /// component or meta-platform there).
    pub fn validate_components(&self, known: impl Fn(&str) -> bool) -> Vec<FieldError> {
        self.components
            .iter()
            .enumerate()
            .filter(|(_, c)| !known(c))
            .map(|(i, c)| {
                FieldError::new(
                    format!("components[{i}]"),
                    format!("{c:?} is not in the catalog (see `openova catalog list`)"),
                )
            })
            .collect()
    }

    /// A complete, valid two-region Hetzner configuration, equal to what [`EXAMPLE_TOML`]
    /// parses to.
    pub fn example() -> PlatformConfig {
        let pool = |size: &str, count| NodePool {
            size: size.to_owned(),
            count,
        };
        PlatformConfig {
            api_version: ApiVersion,
            kind: Kind,
            provider: Provider::Hetzner,
            protect: false,
            components: vec!["kserve".to_owned(), "temporal".to_owned()],
            state_backend: StateBackend::Local,
            organization: Organization {
                name: "Acme Financial".to_owned(),
                slug: "acme".to_owned(),
                domain: "acme.io".to_owned(),
                email: "platform@acme.io".to_owned(),
                env_type: EnvType::Prod,
            },
            regions: vec![
                Region {
                    location: Location::Fsn,
                    building_block: BuildingBlock::Rtz,
                    control_plane: pool("cx43", 1),
                    workers: pool("cx33", 2),
                },
                Region {
                    location: Location::Hel,
                    building_block: BuildingBlock::Rtz,
                    control_plane: pool("cx43", 1),
                    workers: pool("cx33", 2),
                },
            ],
            ssh: Ssh {
                public_key: EXAMPLE_SSH_KEY.to_owned(),
                private_key: None,
                allowed_cidrs: vec!["203.0.113.0/24".to_owned()],
            },
            api: Some(ApiAccess {
                allowed_cidrs: vec!["203.0.113.0/24".to_owned()],
            }),
            credentials: BTreeMap::from([(
                "hcloud_token".to_owned(),
                SecretRef::env("HCLOUD_TOKEN"),
            )]),
            huawei: None,
            oci: None,
            endpoints: Endpoints::default(),
            airgap: None,
        }
    }
}

const EXAMPLE_SSH_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtZbGB686h2flmyRufj6W7HyqwKpVzbOVieXWyl+9WT ops@acme";

/// The commented example printed by `openova config example`.
pub const EXAMPLE_TOML: &str = r#"# platform.toml: the configuration of one OpenOva platform.
#
# Written by the wizard (`openova tui bootstrap`) or by hand. Check it with
# `openova config validate platform.toml`; provision it with
# `openova bootstrap apply --config platform.toml`.
#
# Secrets never appear here. Credentials are references: `env:NAME` reads an
# environment variable of the provisioning process, `keyring:openova/...` an
# entry in the OS keyring.

apiVersion = "openova.io/v1alpha1"
kind = "PlatformConfig"

# The cloud for every region: hz (Hetzner Cloud), hw (Huawei Cloud), oci (Oracle Cloud).
provider = "hz"

# protect = true refuses `openova bootstrap destroy` until you remove it.
# protect = true

# Components and meta-platforms to install beyond the mandatory set, which is
# always installed. Dependencies are added automatically (`openova catalog list`).
components = ["kserve", "temporal"]

# Where OpenTofu keeps its state: "local" (the run directory on this machine; for
# a lab) or your own S3-compatible bucket:
#   [state_backend.s3]
#   endpoint = "https://s3.eu-central-1.amazonaws.com"
#   bucket = "acme-tf-state"
#   region = "eu-central-1"
#   key_prefix = "openova/acme"
#   access_key_id = "env:AWS_ACCESS_KEY_ID"
#   secret_access_key = "keyring:openova/acme/s3-secret-key"
state_backend = "local"

[organization]
name = "Acme Financial"
# Lowercase, 3-32 characters, ^[a-z][a-z0-9-]{2,31}$. Names namespaces and the
# Environment (acme-prod).
slug = "acme"
# Your domain; services live below it (console.acme.io).
domain = "acme.io"
# Contact for certificates and notices.
email = "platform@acme.io"
# prod, stg, uat, dev or poc.
env_type = "prod"

# One or two regions. Each becomes a cluster named
# {provider}-{location}-{building block}-{env type}, here hz-fsn-rtz-prod and
# hz-hel-rtz-prod. Two regions share the building block and differ in location.
#
# Locations: hz: fsn nbg hel ash hil; hw: apse cnn las mer; oci: dxb fra sg iad syd.
# Building blocks: rtz (restricted trust zone), dmz (edge), mgt (management).
# Control-plane count is 1, or 3 for high availability; workers 0 to 50.
# Sizes: Hetzner cx23..cx53, cpx22..cpx62, cax11..cax41, ccx13..ccx63;
# Huawei like c7n.2xlarge.2; OCI like VM.Standard.E5.Flex.2.16 (OCPUs.GB).
[[regions]]
location = "fsn"
building_block = "rtz"
control_plane = { size = "cx43", count = 1 }
workers = { size = "cx33", count = 2 }

[[regions]]
location = "hel"
building_block = "rtz"
control_plane = { size = "cx43", count = 1 }
workers = { size = "cx33", count = 2 }

# Break-glass access to the nodes. The public key is installed on every node;
# only the networks in allowed_cidrs reach port 22 (none: closed).
# When openova generated the pair, private_key says where it is kept:
#   private_key = "keyring:openova/acme/ssh-private-key"
[ssh]
public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtZbGB686h2flmyRufj6W7HyqwKpVzbOVieXWyl+9WT ops@acme"
allowed_cidrs = ["203.0.113.0/24"]

# Who may reach the Kubernetes API (port 6443). There is no default: list the
# bastion (openova connects from there) and your admins' networks, e.g.
# ["198.51.100.7/32"]. "0.0.0.0/0" opens the API to the world; the plan warns.
[api]
allowed_cidrs = ["203.0.113.0/24"]

# Provider credentials, as references: env:NAME or keyring:openova/... (store a
# keyring entry with `openova secrets set openova/acme/hcloud-token`, which reads
# the value from stdin or asks without echo). Each secret is its own entry.
#
# Hetzner Cloud (provider = "hz"):
#   hcloud_token = "keyring:openova/acme/hcloud-token"   # project API token, Read & Write
#
# Huawei Cloud (provider = "hw"):
#   access_key = "keyring:openova/acme/huawei-access-key" # access key ID (AK)
#   secret_key = "keyring:openova/acme/huawei-secret-key" # secret access key (SK)
#   [huawei]
#   project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"       # optional: found from the region
#   enterprise_project_id = "0"                           # optional: "0" is the default
#
# OCI (provider = "oci"):
#   tenancy_ocid = "env:OCI_TENANCY_OCID"                 # ocid1.tenancy.oc1..<id>
#   user_ocid = "env:OCI_USER_OCID"                       # ocid1.user.oc1..<id>
#   fingerprint = "env:OCI_FINGERPRINT"                   # of the uploaded API key, aa:bb:...
#   private_key = "keyring:openova/acme/oci-api-key"      # the PEM private key (RSA, 2048+ bits)
#   [oci]
#   compartment_ocid = "ocid1.compartment.oc1..<id>"      # optional: the root compartment
[credentials]
hcloud_token = "env:HCLOUD_TOKEN"

# The live credential check asks the provider's public API; replace an endpoint
# (a private endpoint, a test stand-in) here or with the matching flag. HTTPS_PROXY
# and NO_PROXY are honoured.
# [endpoints]
# hetzner_api = "https://api.hetzner.cloud/v1"     # --hetzner-api-url
# huawei_iam = "https://iam.myhuaweicloud.com"     # --huawei-iam-url
# oci_identity = "https://identity.eu-frankfurt-1.oci.oraclecloud.com"  # --oci-identity-url

# For a site without internet access:
# [airgap]
# provider_mirror = "/opt/openova/tofu-providers"   # OpenTofu provider mirror (absolute path)
# registry_mirror = "https://registry.acme.internal" # mirrors every chart and image
# catalog_configmap = "openova-catalog"              # catalog for upgrades, if not the built-in one
# artifacts = "http://10.0.1.4:8080"                  # node first-boot files (openova airgap bundle)
# artifact_table = "/opt/openova/artifacts.json"      # pinned table, if not the built-in one
"#;

/// Whether `s` is an OCID of `kind`: `ocid1.<kind>.<realm>.[region].<id>`.
/// Whether `s` is an OCID of `kind` (`tenancy`, `user`, `compartment`).
pub fn is_ocid(kind: &str, s: &str) -> bool {
    let Some(rest) = s.strip_prefix("ocid1.").and_then(|r| r.strip_prefix(kind)) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('.') else {
        return false;
    };
    let parts: Vec<&str> = rest.split('.').collect();
    parts.len() == 3
        && !parts[0].is_empty()
        && !parts[2].is_empty()
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn check_ref(field: &str, r: &SecretRef) -> Result<(), FieldError> {
    r.source()
        .map(|_| ())
        .map_err(|m| FieldError::new(field, m))
}

fn check_s3(s3: &S3Backend, check: &mut impl FnMut(Result<(), FieldError>)) {
    let p = "state_backend.s3";
    if let Err(m) = check_url(&s3.endpoint, true) {
        check(Err(FieldError::new(format!("{p}.endpoint"), m)));
    }
    check(check_bucket(&format!("{p}.bucket"), &s3.bucket));
    if s3.region.is_empty()
        || !s3
            .region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        check(Err(FieldError::new(
            format!("{p}.region"),
            format!(
                "{:?} is not a region name: use a-z, 0-9 and '-', e.g. eu-central-1",
                s3.region
            ),
        )));
    }
    let kp = &s3.key_prefix;
    if kp.starts_with('/') || kp.contains("//") || kp.chars().any(|c| c.is_control() || c == ' ') {
        check(Err(FieldError::new(
            format!("{p}.key_prefix"),
            format!(
                "{kp:?} must be a relative object key prefix without spaces or empty segments, e.g. openova/acme"
            ),
        )));
    }
    check(check_ref(&format!("{p}.access_key_id"), &s3.access_key_id));
    check(check_ref(
        &format!("{p}.secret_access_key"),
        &s3.secret_access_key,
    ));
}

/// S3 bucket naming: 3-63 characters of a-z, 0-9, '.', '-', starting and ending with a letter
/// or digit.
fn check_bucket(field: &str, b: &str) -> Result<(), FieldError> {
    let ok = (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && b.starts_with(|c: char| c.is_ascii_alphanumeric())
        && b.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !b.contains("..");
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!(
                "{b:?} is not a bucket name: 3 to 63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit"
            ),
        ))
    }
}

/// `https://host[:port][/path]`; plain http only towards loopback, because the connection
/// carries credentials.
fn check_url(url: &str, allow_loopback_http: bool) -> Result<(), String> {
    let rest = if let Some(r) = url.strip_prefix("https://") {
        r
    } else if let Some(r) = url.strip_prefix("http://") {
        let host = r.split(['/', ':']).next().unwrap_or("");
        if !(allow_loopback_http && (host == "localhost" || host == "127.0.0.1")) {
            return Err(format!(
                "{url:?} must use https:// (plain http only for localhost)"
            ));
        }
        r
    } else {
        return Err(format!(
            "{url:?} is not a URL: write https://host[:port][/path]"
        ));
    };
    let authority = rest.split('/').next().unwrap_or("");
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return Err(format!("{url:?} has no valid host name"));
    }
    if let Some(p) = port
        && p.parse::<u16>().map_or(true, |n| n == 0)
    {
        return Err(format!("{url:?} has an invalid port {p:?}"));
    }
    if url.chars().any(|c| c.is_whitespace()) {
        return Err(format!("{url:?} contains whitespace"));
    }
    Ok(())
}

/// An artifact source the nodes can reach: `http://` or `https://`, a host, an optional port and
/// path, no query, fragment, credentials, quotes or whitespace. Plain HTTP is allowed because
/// every file is checked against its pinned sha256 and `openova airgap serve` speaks HTTP.
pub fn check_artifact_source(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("{url:?} must start with http:// or https://"))?;
    let (host_port, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (host_port, None),
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return Err(format!(
            "{url:?} needs a host name or IPv4 address (letters, digits, '.', '-')"
        ));
    }
    if let Some(p) = port
        && p.parse::<u16>().map_or(true, |n| n == 0)
    {
        return Err(format!("{url:?} has an invalid port {p:?}"));
    }
    if !path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._~-/".contains(c))
        || path.contains("//")
    {
        return Err(format!(
            "{url:?}: the path may hold only letters, digits and ._~-/ (no query, fragment or spaces)"
        ));
    }
    Ok(())
}

fn check_airgap(a: &Airgap, check: &mut impl FnMut(Result<(), FieldError>)) {
    if !a.provider_mirror.starts_with('/') || a.provider_mirror.chars().any(char::is_control) {
        check(Err(FieldError::new(
            "airgap.provider_mirror",
            format!(
                "{:?} must be an absolute path (runs execute in their own directory)",
                a.provider_mirror
            ),
        )));
    }
    if let Err(m) = check_url(&a.registry_mirror, false) {
        check(Err(FieldError::new("airgap.registry_mirror", m)));
    }
    if let Some(url) = &a.artifacts
        && let Err(m) = check_artifact_source(url)
    {
        check(Err(FieldError::new("airgap.artifacts", m)));
    }
    if let Some(t) = &a.artifact_table
        && (!t.starts_with('/') || t.chars().any(char::is_control))
    {
        check(Err(FieldError::new(
            "airgap.artifact_table",
            format!("{t:?} must be an absolute path"),
        )));
    }
    if let Some(cm) = &a.catalog_configmap {
        let ok = !cm.is_empty()
            && cm.len() <= 253
            && cm.split('.').all(|l| {
                !l.is_empty()
                    && l.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && l.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && l.ends_with(|c: char| c.is_ascii_alphanumeric())
            });
        if !ok {
            check(Err(FieldError::new(
                "airgap.catalog_configmap",
                format!(
                    "{cm:?} is not a ConfigMap name: lowercase a-z, 0-9, '-' and '.', starting and ending with a letter or digit"
                ),
            )));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parse errors and field positions
// ---------------------------------------------------------------------------------------------

fn syntax_error(text: &str, e: &toml::de::Error) -> ConfigError {
    let mut message = e.message().trim().to_owned();
    if message == "duplicate key"
        && let Some(key) = e.span().and_then(|s| text.get(s))
    {
        message = format!(
            "duplicate key `{}`: each key may appear once per table",
            key.trim()
        );
    }
    ConfigError::Syntax {
        message,
        at: e.span().map(|s| Position::of_offset(text, s.start)),
    }
}

/// Serde names Rust types in its messages; operators read TOML.
fn plain_words(message: &str) -> String {
    message
        .replace("expected u32", "expected a whole number, 0 or more")
        .replace("expected a string", "expected a quoted string")
}

fn check_header(text: &str, doc: &DeTable<'_>) -> Result<(), ConfigError> {
    let get = |key: &str| doc.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v);
    let Some(v) = get("apiVersion") else {
        return Err(ConfigError::MissingApiVersion);
    };
    let at = Some(Position::of_offset(text, v.span().start));
    let found = match v.get_ref() {
        DeValue::String(s) => s.to_string(),
        _ => {
            return Err(ConfigError::Invalid {
                message: format!("apiVersion must be the string \"{API_VERSION}\""),
                path: None,
                at,
            });
        }
    };
    if found != API_VERSION {
        return Err(if found.starts_with(API_GROUP) {
            ConfigError::NewerApiVersion { found, at }
        } else {
            ConfigError::ForeignApiVersion { found, at }
        });
    }
    if let Some(v) = get("kind")
        && v.get_ref().as_str() != Some(KIND)
    {
        let found = v
            .get_ref()
            .as_str()
            .map_or_else(|| v.get_ref().type_str().to_owned(), str::to_owned);
        return Err(ConfigError::WrongKind {
            found,
            at: Some(Position::of_offset(text, v.span().start)),
        });
    }
    Ok(())
}

fn typed_error(text: &str, doc: &DeTable<'_>, e: &toml::de::Error) -> ConfigError {
    let message = plain_words(e.message().trim());
    let span = e.span();
    let at = span.as_ref().map(|s| Position::of_offset(text, s.start));
    let path = span.as_ref().and_then(|s| path_at(doc, s));
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, tail)) = rest.split_once('`')
    {
        let expected = tail
            .strip_prefix(", expected ")
            .map(|e| e.trim().to_owned());
        // The span covers the unknown key itself; report the table that holds it.
        let path = path.map(|p| match p.rsplit_once('.') {
            Some((parent, last)) if last == field => parent.to_owned(),
            _ if p == field => String::new(),
            _ => p,
        });
        return ConfigError::UnknownField {
            field: field.to_owned(),
            path,
            expected,
            at,
        };
    }
    ConfigError::Invalid { message, path, at }
}

/// The dotted path of the innermost key whose key or value covers `span`.
fn path_at(doc: &DeTable<'_>, span: &Range<usize>) -> Option<String> {
    fn covers(outer: &Range<usize>, inner: &Range<usize>) -> bool {
        outer.start <= inner.start && inner.end <= outer.end && outer.start < outer.end
    }
    fn walk_value(v: &toml::Spanned<DeValue<'_>>, span: &Range<usize>, path: &mut String) {
        match v.get_ref() {
            DeValue::Table(t) => walk_table(t, span, path),
            DeValue::Array(a) => {
                for (i, item) in a.iter().enumerate() {
                    if covers(&item.span(), span) || item_contains(item, span) {
                        path.push_str(&format!("[{i}]"));
                        walk_value(item, span, path);
                        return;
                    }
                }
            }
            _ => {}
        }
    }
    // Tables from `[[x]]` headers may span only the header; look inside them too.
    fn item_contains(v: &toml::Spanned<DeValue<'_>>, span: &Range<usize>) -> bool {
        match v.get_ref() {
            DeValue::Table(t) => t.iter().any(|(k, val)| {
                covers(&k.span(), span) || covers(&val.span(), span) || item_contains(val, span)
            }),
            DeValue::Array(a) => a
                .iter()
                .any(|i| covers(&i.span(), span) || item_contains(i, span)),
            _ => false,
        }
    }
    fn walk_table(t: &DeTable<'_>, span: &Range<usize>, path: &mut String) {
        for (k, v) in t.iter() {
            if covers(&k.span(), span) || covers(&v.span(), span) || item_contains(v, span) {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k.get_ref());
                if !covers(&k.span(), span) {
                    walk_value(v, span, path);
                }
                return;
            }
        }
    }
    let mut path = String::new();
    walk_table(doc, span, &mut path);
    (!path.is_empty()).then_some(path)
}

/// Where the value at a field path (`regions[1].location`) is written in `text`. When the
/// field itself is absent, the position of the nearest enclosing table that is present.
pub fn field_position(text: &str, field: &str) -> Option<Position> {
    let doc = DeTable::parse(text).ok()?;
    let mut segments = Vec::new();
    for part in field.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        segments.push(Seg::Key(key));
        while let Some(r) = rest.strip_prefix('[') {
            let (n, tail) = r.split_once(']')?;
            segments.push(Seg::Index(n.parse().ok()?));
            rest = tail;
        }
    }
    let mut found: Option<Range<usize>> = None;
    let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
    let mut value: Option<&toml::Spanned<DeValue<'_>>> = None;
    for seg in segments {
        let next = match (seg, table, value) {
            (Seg::Key(k), Some(t), _) => {
                t.iter()
                    .find(|(key, _)| key.get_ref() == k)
                    .map(|(key, v)| {
                        found = Some(if v.span().start < v.span().end && !is_container(v) {
                            v.span()
                        } else {
                            key.span()
                        });
                        v
                    })
            }
            (Seg::Index(i), _, Some(v)) => match v.get_ref() {
                DeValue::Array(a) => a.get(i).inspect(|item| {
                    if item.span().start < item.span().end {
                        found = Some(item.span());
                    }
                }),
                _ => None,
            },
            _ => None,
        };
        let Some(v) = next else { break };
        value = Some(v);
        table = v.get_ref().as_table();
    }
    found.map(|s| Position::of_offset(text, s.start))
}

fn is_container(v: &toml::Spanned<DeValue<'_>>) -> bool {
    matches!(v.get_ref(), DeValue::Table(_) | DeValue::Array(_))
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn errors(cfg: &PlatformConfig) -> Vec<String> {
        cfg.validate().iter().map(ToString::to_string).collect()
    }

    fn one_error(cfg: &PlatformConfig) -> String {
        let errs = errors(cfg);
        assert_eq!(errs.len(), 1, "expected exactly one error, got {errs:#?}");
        errs.into_iter().next().unwrap_or_default()
    }

    fn replace(text: &str, from: &str, to: &str) -> String {
        assert!(text.contains(from), "{from:?} not in example");
        text.replacen(from, to, 1)
    }

    #[test]
    fn example_toml_parses_to_example_config() {
        let parsed = PlatformConfig::parse(EXAMPLE_TOML).unwrap();
        assert_eq!(parsed, PlatformConfig::example());
    }

    #[test]
    fn example_config_is_valid() {
        assert_eq!(errors(&PlatformConfig::example()), Vec::<String>::new());
    }

    #[test]
    fn example_cluster_names_and_contexts_follow_the_convention() {
        let cfg = PlatformConfig::example();
        assert_eq!(cfg.cluster_names(), ["hz-fsn-rtz-prod", "hz-hel-rtz-prod"]);
        assert_eq!(cfg.contexts(), cfg.cluster_names());
        assert_eq!(cfg.environment(), "acme-prod");
    }

    #[test]
    fn to_toml_output_starts_with_api_version_and_parses_back() {
        let cfg = PlatformConfig::example();
        let text = cfg.to_toml().unwrap();
        assert!(
            text.starts_with("apiVersion = \"openova.io/v1alpha1\"\nkind = \"PlatformConfig\"\n"),
            "{text}"
        );
        assert_eq!(PlatformConfig::parse(&text).unwrap(), cfg);
    }

    #[test]
    fn s3_backend_and_airgap_round_trip() {
        let mut cfg = PlatformConfig::example();
        cfg.state_backend = StateBackend::S3(S3Backend {
            endpoint: "https://s3.eu-central-1.amazonaws.com".into(),
            bucket: "acme-tf-state".into(),
            region: "eu-central-1".into(),
            key_prefix: "openova/acme".into(),
            access_key_id: SecretRef::env("AWS_ACCESS_KEY_ID"),
            secret_access_key: SecretRef::keyring("openova/acme/s3-secret"),
        });
        cfg.airgap = Some(Airgap {
            provider_mirror: "/opt/openova/providers".into(),
            registry_mirror: "https://registry.acme.internal:5000".into(),
            catalog_configmap: Some("openova-catalog".into()),
            artifacts: Some("https://artifacts.acme.internal/openova".into()),
            artifact_table: Some("/opt/openova/artifacts.json".into()),
        });
        cfg.ssh.private_key = Some(SecretRef::keyring("openova/draft-1/ssh-private-key"));
        assert_eq!(errors(&cfg), Vec::<String>::new());
        let text = cfg.to_toml().unwrap();
        assert!(text.contains("[state_backend.s3]"), "{text}");
        assert_eq!(PlatformConfig::parse(&text).unwrap(), cfg);
    }

    // ---- parse errors ----

    #[test]
    fn parse_syntax_error_reports_line_and_column() {
        let text = replace(EXAMPLE_TOML, "slug = \"acme\"", "slug = \"acme");
        let e = PlatformConfig::parse(&text).unwrap_err();
        let line = text.lines().position(|l| l.starts_with("slug = ")).unwrap() + 1;
        assert!(matches!(e, ConfigError::Syntax { .. }), "{e:?}");
        assert_eq!(e.position().map(|p| p.line), Some(line), "{e}");
    }

    #[test]
    fn parse_unknown_field_names_field_table_and_line() {
        let text = replace(
            EXAMPLE_TOML,
            "env_type = \"prod\"",
            "env_type = \"prod\"\nenvtype = \"dev\"",
        );
        let e = PlatformConfig::parse(&text).unwrap_err();
        let line = text.lines().position(|l| l.starts_with("envtype")).unwrap() + 1;
        match &e {
            ConfigError::UnknownField {
                field,
                path,
                at,
                expected,
            } => {
                assert_eq!(field, "envtype");
                assert_eq!(path.as_deref(), Some("organization"));
                assert_eq!(at.map(|p| p.line), Some(line));
                assert!(
                    expected.as_deref().unwrap_or("").contains("env_type"),
                    "{e}"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            e.reason()
                .starts_with("organization: unknown field `envtype`"),
            "{}",
            e.reason()
        );
    }

    #[test]
    fn parse_unknown_top_level_field_is_named() {
        let text = replace(
            EXAMPLE_TOML,
            "provider = \"hz\"",
            "provider = \"hz\"\nregion = \"fsn\"",
        );
        let e = PlatformConfig::parse(&text).unwrap_err();
        assert!(
            matches!(&e, ConfigError::UnknownField { field, .. } if field == "region"),
            "{e:?}"
        );
    }

    #[test]
    fn parse_unknown_code_reports_path_and_accepted_codes() {
        let text = replace(EXAMPLE_TOML, "location = \"hel\"", "location = \"sin\"");
        let e = PlatformConfig::parse(&text).unwrap_err();
        let line = text
            .lines()
            .position(|l| l == "location = \"sin\"")
            .unwrap()
            + 1;
        assert_eq!(e.position().map(|p| p.line), Some(line), "{e}");
        let reason = e.reason();
        assert!(
            reason
                .starts_with("regions[1].location: unknown location \"sin\": expected one of fsn"),
            "{reason}"
        );
    }

    #[test]
    fn parse_wrong_type_names_the_field() {
        let text = replace(EXAMPLE_TOML, "count = 2 }", "count = \"two\" }");
        let e = PlatformConfig::parse(&text).unwrap_err();
        assert!(
            e.reason().starts_with("regions[0].workers.count: "),
            "{}",
            e.reason()
        );
    }

    #[test]
    fn parse_negative_count_is_rejected() {
        let text = replace(EXAMPLE_TOML, "count = 2 }", "count = -1 }");
        assert!(PlatformConfig::parse(&text).is_err());
    }

    #[test]
    fn parse_missing_field_names_the_table() {
        let text = replace(EXAMPLE_TOML, "email = \"platform@acme.io\"\n", "");
        let e = PlatformConfig::parse(&text).unwrap_err();
        let reason = e.reason();
        assert!(reason.contains("missing field `email`"), "{reason}");
        assert!(reason.starts_with("organization: "), "{reason}");
    }

    #[test]
    fn parse_newer_api_version_says_so() {
        let text = replace(EXAMPLE_TOML, "openova.io/v1alpha1", "openova.io/v1beta1");
        let e = PlatformConfig::parse(&text).unwrap_err();
        assert_eq!(
            e.reason(),
            "apiVersion \"openova.io/v1beta1\" was written by a newer openova; this one reads openova.io/v1alpha1"
        );
        assert!(e.position().is_some());
    }

    #[test]
    fn parse_newer_api_version_wins_over_unknown_fields() {
        let text = replace(EXAMPLE_TOML, "openova.io/v1alpha1", "openova.io/v1")
            + "\n[future_section]\nx = 1\n";
        assert!(matches!(
            PlatformConfig::parse(&text),
            Err(ConfigError::NewerApiVersion { .. })
        ));
    }

    #[test]
    fn parse_missing_or_foreign_api_version_and_wrong_kind() {
        let text = replace(EXAMPLE_TOML, "apiVersion = \"openova.io/v1alpha1\"\n", "");
        assert_eq!(
            PlatformConfig::parse(&text),
            Err(ConfigError::MissingApiVersion)
        );
        let text = replace(EXAMPLE_TOML, "openova.io/v1alpha1", "apps/v1");
        assert!(matches!(
            PlatformConfig::parse(&text),
            Err(ConfigError::ForeignApiVersion { .. })
        ));
        let text = replace(
            EXAMPLE_TOML,
            "kind = \"PlatformConfig\"",
            "kind = \"Platform\"",
        );
        let e = PlatformConfig::parse(&text).unwrap_err();
        assert_eq!(e.reason(), "kind \"Platform\" is not PlatformConfig");
    }

    #[test]
    fn parse_empty_text_asks_for_api_version() {
        assert_eq!(
            PlatformConfig::parse(""),
            Err(ConfigError::MissingApiVersion)
        );
    }

    // ---- validation rules ----

    #[test]
    fn validate_reports_all_errors_at_once_in_document_order() {
        let mut cfg = PlatformConfig::example();
        cfg.organization.slug = "Acme".into();
        cfg.organization.email = "nobody".into();
        cfg.regions[1].location = Location::Fra;
        cfg.regions[0].workers.count = 51;
        let fields: Vec<String> = cfg.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "organization.slug",
                "organization.email",
                "regions[0].workers.count",
                "regions[1].location"
            ]
        );
    }

    #[test]
    fn validate_three_regions_is_an_error() {
        let mut cfg = PlatformConfig::example();
        let mut third = cfg.regions[0].clone();
        third.location = Location::Nbg;
        cfg.regions.push(third);
        assert_eq!(
            one_error(&cfg),
            "regions: 3 regions given; a platform has 1 or 2 (remove regions[2] and later)"
        );
    }

    #[test]
    fn validate_no_region_is_an_error() {
        let mut cfg = PlatformConfig::example();
        cfg.regions.clear();
        assert!(one_error(&cfg).starts_with("regions: no region given"));
    }

    #[test]
    fn validate_single_region_is_fine() {
        let mut cfg = PlatformConfig::example();
        cfg.regions.truncate(1);
        assert!(cfg.validate().is_empty());
        assert_eq!(cfg.cluster_names(), ["hz-fsn-rtz-prod"]);
    }

    #[test]
    fn validate_same_location_twice_is_an_error() {
        let mut cfg = PlatformConfig::example();
        cfg.regions[1].location = Location::Fsn;
        assert_eq!(
            one_error(&cfg),
            "regions[1].location: \"fsn\" is already regions[0].location: both regions would be cluster hz-fsn-rtz-prod; choose another location"
        );
    }

    #[test]
    fn validate_different_building_blocks_is_an_error() {
        let mut cfg = PlatformConfig::example();
        cfg.regions[1].building_block = BuildingBlock::Dmz;
        assert!(one_error(&cfg).starts_with(
            "regions[1].building_block: \"dmz\" differs from regions[0].building_block \"rtz\""
        ));
    }

    #[test]
    fn validate_location_of_another_provider_is_an_error() {
        let mut cfg = PlatformConfig::example();
        cfg.regions[1].location = Location::Fra;
        assert_eq!(
            one_error(&cfg),
            "regions[1].location: \"fra\" belongs to Oracle Cloud (OCI), but provider is hz (Hetzner Cloud), which offers fsn, nbg, hel, ash, hil"
        );
    }

    #[test]
    fn validate_sizes_and_counts_per_region() {
        let mut cfg = PlatformConfig::example();
        cfg.regions[0].control_plane.size = "c7n.xlarge.2".into();
        cfg.regions[0].control_plane.count = 2;
        cfg.regions[1].workers.size = String::new();
        let fields: Vec<String> = cfg.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "regions[0].control_plane.size",
                "regions[0].control_plane.count",
                "regions[1].workers.size"
            ]
        );
    }

    #[test]
    fn validate_other_providers_accept_their_own_sizes_and_credentials() {
        let mut cfg = PlatformConfig::example();
        cfg.provider = Provider::Oci;
        for (r, loc) in cfg.regions.iter_mut().zip([Location::Fra, Location::Iad]) {
            r.location = loc;
            r.control_plane.size = Provider::Oci.default_control_plane_size().into();
            r.workers.size = Provider::Oci.default_worker_size().into();
        }
        cfg.credentials = Provider::Oci
            .credential_names()
            .iter()
            .map(|(n, v)| (n.to_string(), SecretRef::env(v)))
            .collect();
        assert_eq!(errors(&cfg), Vec::<String>::new());
        assert_eq!(
            cfg.cluster_names(),
            ["oci-fra-rtz-prod", "oci-iad-rtz-prod"]
        );
    }

    #[test]
    fn validate_duplicate_and_malformed_components() {
        let mut cfg = PlatformConfig::example();
        cfg.components = vec!["kserve".into(), "kserve".into(), "Bad Name".into()];
        let errs = errors(&cfg);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("components[1]: \"kserve\" is listed twice"));
        assert!(errs[1].starts_with("components[2]: not a component name"));
    }

    #[test]
    fn validate_components_against_catalog() {
        let mut cfg = PlatformConfig::example();
        cfg.components = vec!["kserve".into(), "nope".into()];
        let errs = cfg.validate_components(|n| n == "kserve");
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].to_string(),
            "components[1]: \"nope\" is not in the catalog (see `openova catalog list`)"
        );
    }

    #[test]
    fn validate_missing_and_unknown_credentials() {
        let mut cfg = PlatformConfig::example();
        cfg.credentials.clear();
        assert_eq!(
            one_error(&cfg),
            "credentials.hcloud_token: missing: Hetzner Cloud needs it; add hcloud_token = \"env:HCLOUD_TOKEN\" or a keyring: reference"
        );
        let mut cfg = PlatformConfig::example();
        cfg.credentials
            .insert("hcloud_tokn".into(), SecretRef::env("X"));
        assert_eq!(
            one_error(&cfg),
            "credentials.hcloud_tokn: not a Hetzner Cloud credential; expected hcloud_token"
        );
    }

    #[test]
    fn validate_secret_value_instead_of_reference_is_rejected_without_echo() {
        let secret = "s3cr3tTOKENvalue0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCD";
        let mut cfg = PlatformConfig::example();
        cfg.credentials
            .insert("hcloud_token".into(), SecretRef(secret.into()));
        let msg = one_error(&cfg);
        assert!(
            msg.starts_with("credentials.hcloud_token: is not a secret reference"),
            "{msg}"
        );
        assert!(!msg.contains(secret));
        let mut cfg = PlatformConfig::example();
        cfg.credentials
            .insert("hcloud_token".into(), SecretRef(format!("env:{secret}-x")));
        let msg = one_error(&cfg);
        assert!(!msg.contains(secret), "{msg}");
    }

    #[test]
    fn secret_ref_sources_parse() {
        assert_eq!(
            SecretRef::env("HCLOUD_TOKEN").source(),
            Ok(SecretSource::Env("HCLOUD_TOKEN"))
        );
        assert_eq!(
            SecretRef::keyring("openova/d1/hcloud-token").source(),
            Ok(SecretSource::Keyring("openova/d1/hcloud-token"))
        );
        for bad in [
            "keyring:",
            "keyring:/abs",
            "keyring:a//b",
            "keyring:a b",
            "env:",
            "env:1X",
            "env:A-B",
            "file:/x",
        ] {
            assert!(SecretRef(bad.into()).source().is_err(), "{bad}");
        }
    }

    #[test]
    fn validate_s3_backend_fields() {
        let mut cfg = PlatformConfig::example();
        cfg.state_backend = StateBackend::S3(S3Backend {
            endpoint: "http://s3.example.com".into(),
            bucket: "Acme_State".into(),
            region: "EU".into(),
            key_prefix: "/abs".into(),
            access_key_id: SecretRef("AKIAEXAMPLE".into()),
            secret_access_key: SecretRef::env("S3_SECRET"),
        });
        let fields: Vec<String> = cfg.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "state_backend.s3.endpoint",
                "state_backend.s3.bucket",
                "state_backend.s3.region",
                "state_backend.s3.key_prefix",
                "state_backend.s3.access_key_id"
            ]
        );
        let errs = errors(&cfg);
        assert!(errs[0].contains("must use https://"), "{}", errs[0]);
    }

    #[test]
    fn s3_endpoint_on_loopback_may_use_http() {
        assert!(check_url("http://127.0.0.1:9000", true).is_ok());
        assert!(check_url("http://localhost:9000/", true).is_ok());
        assert!(check_url("http://127.0.0.1:9000", false).is_err());
        assert!(check_url("https://minio.lab:0", true).is_err());
        assert!(check_url("https://", true).is_err());
        assert!(check_url("s3.amazonaws.com", true).is_err());
    }

    #[test]
    fn validate_airgap_fields() {
        let mut cfg = PlatformConfig::example();
        cfg.airgap = Some(Airgap {
            provider_mirror: "mirror/providers".into(),
            registry_mirror: "registry.acme.internal".into(),
            catalog_configmap: Some("Openova_Catalog".into()),
            artifacts: Some("ftp://bastion/openova?x=1".into()),
            artifact_table: Some("artifacts.json".into()),
        });
        let fields: Vec<String> = cfg.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "airgap.provider_mirror",
                "airgap.registry_mirror",
                "airgap.artifacts",
                "airgap.artifact_table",
                "airgap.catalog_configmap"
            ]
        );
    }

    #[test]
    fn artifact_source_accepts_bucket_and_bastion_and_refuses_the_rest() {
        for ok in [
            "https://artifacts.acme.internal/openova",
            "http://10.0.1.4:8080",
            "https://s3.eu-central-1.amazonaws.com/acme-openova/bundle/",
        ] {
            assert_eq!(check_artifact_source(ok), Ok(()), "{ok}");
        }
        for bad in [
            "ftp://bastion",
            "http://",
            "https://user:pw@host/x",
            "https://host/x?sig=1",
            "https://host/a b",
            "https://host:0",
            "https://host/x#frag",
            "artifacts.acme.internal",
        ] {
            assert!(check_artifact_source(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validate_ssh_fields() {
        let mut cfg = PlatformConfig::example();
        cfg.ssh.public_key = "ssh-ed25519 AAAA".into();
        cfg.ssh.private_key = Some(SecretRef("-----BEGIN OPENSSH PRIVATE KEY-----".into()));
        cfg.ssh.allowed_cidrs = vec!["10.0.0.1/8".into()];
        let fields: Vec<String> = cfg.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["ssh.public_key", "ssh.private_key", "ssh.allowed_cidrs[0]"]
        );
        assert!(!errors(&cfg)[1].contains("BEGIN"));
    }

    #[test]
    fn validate_organization_name_rules() {
        let mut cfg = PlatformConfig::example();
        cfg.organization.name = "  ".into();
        assert!(one_error(&cfg).starts_with("organization.name: must not be empty"));
        cfg.organization.name = "Acme\nEvil".into();
        assert!(one_error(&cfg).contains("single line"));
        cfg.organization.name = "x".repeat(101);
        assert!(one_error(&cfg).contains("at most 100"));
    }

    // ---- positions ----

    #[test]
    fn field_position_finds_values_in_arrays_of_tables() {
        let text = EXAMPLE_TOML;
        let line_of = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
        let p = field_position(text, "regions[1].location").unwrap();
        let second = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.starts_with("location = "))
            .nth(1)
            .unwrap()
            .0
            + 1;
        assert_eq!(p.line, second);
        assert_eq!(p.column, "location = ".len() + 1);
        assert_eq!(
            field_position(text, "organization.slug").unwrap().line,
            line_of("slug = ")
        );
        assert_eq!(
            field_position(text, "regions[0].workers.count")
                .unwrap()
                .line,
            line_of("workers = ")
        );
        assert_eq!(
            field_position(text, "credentials.hcloud_token")
                .unwrap()
                .line,
            line_of("hcloud_token")
        );
        assert_eq!(
            field_position(text, "components[1]").unwrap().line,
            line_of("components = ")
        );
        // Absent field: the nearest present table.
        assert_eq!(
            field_position(text, "credentials.missing").unwrap().line,
            line_of("[credentials]")
        );
        assert_eq!(field_position(text, "nothing.here"), None);
    }

    #[test]
    fn position_of_offset_counts_lines_and_chars() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(
            Position::of_offset(text, 0),
            Position { line: 1, column: 1 }
        );
        let off = text.find("= 2").unwrap();
        assert_eq!(
            Position::of_offset(text, off),
            Position { line: 2, column: 4 }
        );
        assert_eq!(Position::of_offset(text, 999).line, 3);
    }

    // ---- property: arbitrary valid configs round-trip ----

    fn arb_provider_regions() -> impl Strategy<Value = (Provider, Vec<Location>)> {
        prop::sample::select(Provider::ALL.to_vec()).prop_flat_map(|p| {
            let locs: Vec<Location> = p.locations().collect();
            (
                Just(p),
                prop::sample::subsequence(locs, 1..=2).prop_shuffle(),
            )
        })
    }

    fn arb_text() -> impl Strategy<Value = String> {
        "[A-Za-z0-9 &'\"\\\\.,éü#=\\[\\]-]{1,40}".prop_filter("non-blank", |s| !s.trim().is_empty())
    }

    prop_compose! {
        fn arb_config()(
            (provider, locations) in arb_provider_regions(),
            bb in prop::sample::select(BuildingBlock::ALL.to_vec()),
            env in prop::sample::select(EnvType::ALL.to_vec()),
            name in arb_text(),
            slug_seed in "[a-z][a-z0-9]{2,12}",
            cp_count in prop::sample::select(vec![1u32, 3]),
            workers in 0u32..=50,
            components in prop::collection::btree_set("[a-z][a-z0-9-]{0,20}[a-z0-9]", 0..6),
            s3 in any::<bool>(),
            airgap in any::<bool>(),
            private_key in any::<bool>(),
            cidrs in prop::collection::vec((any::<u32>(), 0u8..=32), 0..3),
        ) -> PlatformConfig {
            let sizes: Vec<&str> = naming::server_sizes(provider).map(|s| s.id).collect();
            let regions = locations.iter().enumerate().map(|(i, l)| Region {
                location: *l,
                building_block: bb,
                control_plane: NodePool { size: sizes[i % sizes.len()].to_owned(), count: cp_count },
                workers: NodePool { size: sizes[(i + 1) % sizes.len()].to_owned(), count: workers },
            }).collect();
            let mut slug = slug_seed;
            if naming::validate_org_slug("s", &slug).is_err() {
                slug.push_str("-org");
            }
            PlatformConfig {
                api_version: ApiVersion,
                kind: Kind,
                provider,
                protect: s3,
                components: components.into_iter().collect(),
                state_backend: if s3 {
                    StateBackend::S3(S3Backend {
                        endpoint: "https://s3.example.com:9000/base".into(),
                        bucket: format!("{slug}-state"),
                        region: "eu-central-1".into(),
                        key_prefix: format!("openova/{slug}"),
                        access_key_id: SecretRef::env("S3_KEY_ID"),
                        secret_access_key: SecretRef::keyring(&format!("openova/{slug}/s3")),
                    })
                } else {
                    StateBackend::Local
                },
                organization: Organization {
                    name,
                    domain: format!("{slug}.example.com"),
                    email: format!("ops@{slug}.example.com"),
                    slug,
                    env_type: env,
                },
                regions,
                ssh: Ssh {
                    public_key: EXAMPLE_SSH_KEY.into(),
                    private_key: private_key.then(|| SecretRef::keyring("openova/draft/ssh")),
                    allowed_cidrs: cidrs.into_iter().map(|(bits, prefix)| {
                        let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
                        format!("{}/{prefix}", std::net::Ipv4Addr::from(bits & mask))
                    }).collect(),
                },
                api: airgap.then(|| ApiAccess { allowed_cidrs: vec!["198.51.100.7/32".into(), "0.0.0.0/0".into()] }),
                credentials: provider.credential_names().iter()
                    .map(|(n, v)| (n.to_string(), SecretRef::env(v))).collect(),
                huawei: (provider == Provider::HuaweiCloud && private_key).then(|| HuaweiSettings {
                    project_id: Some("0a1b2c3d4e5f60718293a4b5c6d7e8f9".into()),
                    enterprise_project_id: Some("0".into()),
                }),
                oci: (provider == Provider::Oci && private_key).then(|| OciSettings {
                    compartment_ocid: Some("ocid1.compartment.oc1..aaaaaaaam3we6vgnherjq5q2idnccdflvjsnog7mlr6rtdb25gilchfeyjxa".into()),
                }),
                endpoints: if s3 { Endpoints { hetzner_api: Some("http://127.0.0.1:8080/v1".into()), ..Endpoints::default() } } else { Endpoints::default() },
                airgap: airgap.then(|| Airgap {
                    provider_mirror: "/srv/mirror".into(),
                    registry_mirror: "https://registry.local".into(),
                    catalog_configmap: None,
                    artifacts: Some("http://10.0.1.4:8080".into()),
                    artifact_table: None,
                }),
            }
        }
    }

    proptest! {
        #[test]
        fn platform_config_arbitrary_valid_round_trips_losslessly(cfg in arb_config()) {
            prop_assert_eq!(cfg.validate(), Vec::<FieldError>::new());
            let text = cfg.to_toml().unwrap();
            let back = PlatformConfig::parse(&text);
            prop_assert_eq!(back.as_ref(), Ok(&cfg), "{}", text);
            // And the text is stable.
            prop_assert_eq!(back.unwrap().to_toml().unwrap(), text);
        }
    }
}
