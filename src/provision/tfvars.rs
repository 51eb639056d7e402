//! The variable contract between openova and its OpenTofu modules: the tfvars JSON (never a
//! secret), the environment variables that carry secrets, the state backend file, the
//! air-gapped CLI configuration and the WireGuard gateway keys of a two-region mesh.
//!
//! tofu-modules/README.md describes the same contract from the modules' side; the tests in
//! tests/tofu_modules.rs hold the two together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::SecretString;
use serde::Serialize;

use crate::airgap::artifacts::{ArtifactError, ArtifactTable, NodeArtifact};
use crate::domain::naming::{self, BuildingBlock, ClusterId, EnvType, Provider};
use crate::domain::platform::PlatformConfig;
use crate::provision::modules::{self, ModuleError};

/// k3s release the modules install unless the platform pins another.
pub const DEFAULT_K3S_VERSION: &str = "v1.31.4+k3s1";
/// Cilium chart version, from the catalog (the CNI is installed by cloud-init, before Flux).
pub const DEFAULT_CILIUM_VERSION: &str = "1.16.5";
/// Flux release whose install manifest cloud-init applies.
pub const DEFAULT_FLUX_VERSION: &str = "v2.4.0";
/// The UDP port of the WireGuard gateways.
pub const WIREGUARD_PORT: u16 = 51820;

/// File name of the variables in the root module directory; OpenTofu loads `*.auto.tfvars.json`
/// by itself, so no `-var-file` argument is needed.
pub const TFVARS_FILE: &str = "openova.auto.tfvars.json";
/// File name of the generated backend configuration in the root module directory.
pub const BACKEND_FILE: &str = "backend.tf.json";

/// Secret environment variables of the S3 state backend.
pub const BACKEND_SECRET_ENV: &[&str] = &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
/// The WireGuard gateway's private key of a meshed region.
pub const WIREGUARD_KEY_ENV: &str = "TF_VAR_wireguard_private_key";

/// Why the variables, backend or CLI configuration could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum TfVarsError {
    #[error("cannot encode OpenTofu variables as JSON: {0}")]
    Encode(#[from] serde_json::Error),
    #[error(transparent)]
    Write(#[from] ModuleError),
    #[error("state backend: {field} {value:?} is invalid: {rule}")]
    InvalidBackend {
        field: &'static str,
        value: String,
        rule: &'static str,
    },
    #[error("cluster {cluster}: {message}")]
    InvalidCluster { cluster: String, message: String },
    #[error(transparent)]
    Artifacts(#[from] ArtifactError),
    #[error("artifact table {path}: {message}")]
    ArtifactTable { path: PathBuf, message: String },
}

/// The values written to `openova.auto.tfvars.json`: every input of the shared variable
/// contract that is not a secret. Field names are the modules' variable names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TfVars {
    pub organization: String,
    pub domain: String,
    pub cluster_name: String,
    pub region_code: String,
    pub building_block: String,
    pub env_type: String,
    pub node_name_prefix: String,
    pub node_name_suffix: String,
    pub api_hostname: String,
    pub location: String,
    pub control_plane_size: String,
    pub control_plane_count: u32,
    pub worker_size: String,
    pub worker_count: u32,
    pub k3s_version: String,
    pub cilium_version: String,
    pub flux_version: String,
    pub cilium_cluster_id: u8,
    pub ssh_public_key: String,
    pub ssh_allowed_cidrs: Vec<String>,
    pub api_allowed_cidrs: Vec<String>,
    pub network_cidr: String,
    pub pod_cidr: String,
    pub service_cidr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wireguard: Option<WireguardMesh>,
    /// Air-gapped sites: the registry that mirrors every upstream registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_mirror: Option<String>,
    /// Where nodes fetch their first-boot files; empty for the pinned upstream URLs.
    pub artifact_source: String,
    /// Every file a node fetches, with its URL (under `artifact_source` when set) and sha256,
    /// from the modules' artifact table.
    pub node_artifacts: BTreeMap<String, NodeArtifact>,
    /// OCI only: the compartment that receives the cluster (the tenancy's root when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oci_compartment_ocid: Option<String>,
    /// Huawei Cloud only: the enterprise project that receives the resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub huawei_enterprise_project_id: Option<String>,
}

/// One cluster of a platform as the modules need it: what the operator chose for the region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    pub organization: String,
    pub domain: String,
    pub id: ClusterId,
    /// 0 for the platform's first region, 1 for the second: picks disjoint address ranges and
    /// the Cilium cluster id.
    pub region_index: u8,
    pub control_plane_size: String,
    pub control_plane_count: u32,
    pub worker_size: String,
    pub worker_count: u32,
}

impl ClusterSpec {
    /// The spec of region `index` of a platform configuration, or `None` when it has no such
    /// region.
    pub fn from_platform(config: &PlatformConfig, index: usize) -> Option<ClusterSpec> {
        let id = *config.cluster_ids().get(index)?;
        let region = config.regions.get(index)?;
        Some(ClusterSpec {
            organization: config.organization.slug.clone(),
            domain: config.organization.domain.clone(),
            id,
            region_index: u8::try_from(index).ok()?,
            control_plane_size: region.control_plane.size.clone(),
            control_plane_count: region.control_plane.count,
            worker_size: region.workers.size.clone(),
            worker_count: region.workers.count,
        })
    }
}

/// Values of one run that are not part of the platform's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunValues {
    pub ssh_public_key: String,
    pub k3s_version: String,
    pub ssh_allowed_cidrs: Vec<String>,
    pub api_allowed_cidrs: Vec<String>,
    pub wireguard: Option<WireguardMesh>,
    /// `https://` URL of the registry mirror of an air-gapped site.
    pub registry_mirror: Option<String>,
    /// `http(s)://` artifact source of the site (`[airgap] artifacts`), or upstream when absent.
    pub artifact_source: Option<String>,
    /// The artifact table; `None` reads `artifact_table`, or uses the one compiled in with the
    /// modules.
    pub artifacts: Option<ArtifactTable>,
    /// Path of an artifact table file (`[airgap] artifact_table`).
    pub artifact_table: Option<PathBuf>,
    pub oci_compartment_ocid: Option<String>,
    pub huawei_enterprise_project_id: Option<String>,
}

impl RunValues {
    /// The run values a platform configuration implies: its ssh key and ssh sources and, at an
    /// air-gapped site, its registry mirror. The mesh is added by the caller, who holds the keys.
    pub fn from_platform(config: &PlatformConfig) -> Self {
        let mut run = RunValues::new(config.ssh.public_key.clone());
        run.ssh_allowed_cidrs = config.ssh.allowed_cidrs.clone();
        // Only what the configuration lists: without `[api]` the list is empty (the modules
        // refuse it), never the world.
        run.api_allowed_cidrs = config
            .api
            .as_ref()
            .map(|a| a.allowed_cidrs.clone())
            .unwrap_or_default();
        run.oci_compartment_ocid = config.oci.as_ref().and_then(|o| o.compartment_ocid.clone());
        run.huawei_enterprise_project_id = config
            .huawei
            .as_ref()
            .and_then(|h| h.enterprise_project_id.clone());
        run.registry_mirror = config
            .airgap
            .as_ref()
            .map(|a| a.registry_mirror.clone())
            .filter(|m| !m.is_empty());
        run.artifact_source = config
            .airgap
            .as_ref()
            .and_then(|a| a.artifacts.clone())
            .filter(|m| !m.is_empty());
        run.artifact_table = config
            .airgap
            .as_ref()
            .and_then(|a| a.artifact_table.as_ref())
            .map(PathBuf::from);
        run
    }

    /// A run with the default k3s release, the API open to every address (the API still
    /// requires the client certificate) and ssh closed: for the module checks only. Runs take
    /// the API's sources from `api.allowed_cidrs` alone ([`RunValues::from_platform`]); the
    /// headless commands and the wizard's Review refuse a configuration without them.
    pub fn new(ssh_public_key: impl Into<String>) -> Self {
        RunValues {
            ssh_public_key: ssh_public_key.into(),
            k3s_version: DEFAULT_K3S_VERSION.to_owned(),
            ssh_allowed_cidrs: Vec::new(),
            api_allowed_cidrs: vec!["0.0.0.0/0".to_owned(), "::/0".to_owned()],
            wireguard: None,
            registry_mirror: None,
            artifact_source: None,
            artifacts: None,
            artifact_table: None,
            oci_compartment_ocid: None,
            huawei_enterprise_project_id: None,
        }
    }
}

/// Address ranges of a region. Meshed regions must not overlap, so each region index has its
/// own private network and pod range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionRanges {
    pub network_cidr: &'static str,
    pub pod_cidr: &'static str,
    pub service_cidr: &'static str,
    /// The gateway's address inside the WireGuard mesh.
    pub mesh_address: &'static str,
}

/// The ranges of region 0 and region 1 of a platform.
pub const REGION_RANGES: [RegionRanges; 2] = [
    RegionRanges {
        network_cidr: "10.0.0.0/16",
        pod_cidr: "10.42.0.0/16",
        service_cidr: "10.43.0.0/16",
        mesh_address: "10.255.0.1/24",
    },
    RegionRanges {
        network_cidr: "10.1.0.0/16",
        pod_cidr: "10.44.0.0/16",
        service_cidr: "10.45.0.0/16",
        mesh_address: "10.255.0.2/24",
    },
];

impl TfVars {
    /// The variables for one cluster: names from the naming convention, ranges from the region
    /// index, versions and access lists from the run.
    pub fn for_cluster(spec: &ClusterSpec, run: &RunValues) -> Result<TfVars, TfVarsError> {
        let id = spec.id;
        let cluster = id.name();
        let invalid = |message: String| TfVarsError::InvalidCluster {
            cluster: cluster.clone(),
            message,
        };
        if id.location.provider() != id.provider {
            return Err(invalid(format!(
                "location {} belongs to {}, not {}",
                id.location.code(),
                id.location.provider().name(),
                id.provider.name()
            )));
        }
        let ranges = REGION_RANGES
            .get(usize::from(spec.region_index))
            .ok_or_else(|| {
                invalid(format!(
                    "region index {} is out of range: a platform has one or two regions",
                    spec.region_index
                ))
            })?;
        for (field, size) in [
            ("control_plane_size", &spec.control_plane_size),
            ("worker_size", &spec.worker_size),
        ] {
            naming::validate_server_size(field, id.provider, size)
                .map_err(|e| invalid(e.to_string()))?;
        }
        naming::validate_control_plane_count("control_plane_count", spec.control_plane_count)
            .map_err(|e| invalid(e.to_string()))?;
        naming::validate_worker_count("worker_count", spec.worker_count)
            .map_err(|e| invalid(e.to_string()))?;
        let table = match (&run.artifacts, &run.artifact_table) {
            (Some(t), _) => t.clone(),
            (None, Some(path)) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| TfVarsError::ArtifactTable {
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                ArtifactTable::parse(&text).map_err(|e| TfVarsError::ArtifactTable {
                    path: path.clone(),
                    message: e.to_string(),
                })?
            }
            (None, None) => ArtifactTable::builtin()?,
        };
        // The binary and installer must be the release the nodes are told to run.
        for name in ["k3s-binary-amd64", "k3s-binary-arm64", "k3s-install"] {
            let pinned = table.version_of(name);
            if pinned != run.k3s_version {
                return Err(invalid(format!(
                    "k3s {} has no pinned artifacts: the artifact table pins {name} at {pinned}",
                    run.k3s_version
                )));
            }
        }
        let artifact_source = run.artifact_source.clone().unwrap_or_default();
        let node_artifacts =
            table.node_artifacts(Some(artifact_source.as_str()).filter(|s| !s.is_empty()));
        Ok(TfVars {
            organization: spec.organization.clone(),
            domain: spec.domain.clone(),
            cluster_name: cluster.clone(),
            region_code: id.location.code().to_owned(),
            building_block: id.building_block.code().to_owned(),
            env_type: id.env_type.code().to_owned(),
            node_name_prefix: node_name_prefix(id),
            node_name_suffix: id.env_type.one_char().to_string(),
            api_hostname: format!("api.{}.{}", id.location_code(), spec.domain),
            location: id.location.api_region().to_owned(),
            control_plane_size: spec.control_plane_size.clone(),
            control_plane_count: spec.control_plane_count,
            worker_size: spec.worker_size.clone(),
            worker_count: spec.worker_count,
            k3s_version: run.k3s_version.clone(),
            cilium_version: table.version_of("cilium-chart").to_owned(),
            flux_version: table.version_of("flux-install").to_owned(),
            cilium_cluster_id: spec.region_index + 1,
            ssh_public_key: run.ssh_public_key.trim().to_owned(),
            ssh_allowed_cidrs: run.ssh_allowed_cidrs.clone(),
            api_allowed_cidrs: run.api_allowed_cidrs.clone(),
            network_cidr: ranges.network_cidr.to_owned(),
            pod_cidr: ranges.pod_cidr.to_owned(),
            service_cidr: ranges.service_cidr.to_owned(),
            wireguard: run.wireguard.clone(),
            registry_mirror: run.registry_mirror.clone(),
            artifact_source,
            node_artifacts,
            oci_compartment_ocid: match id.provider {
                Provider::Oci => run.oci_compartment_ocid.clone(),
                _ => None,
            },
            huawei_enterprise_project_id: match id.provider {
                Provider::HuaweiCloud => run.huawei_enterprise_project_id.clone(),
                _ => None,
            },
        })
    }

    /// The variables as the JSON OpenTofu reads.
    pub fn to_json(&self) -> Result<String, TfVarsError> {
        Ok(serde_json::to_string_pretty(self)? + "\n")
    }
}

/// `{provider}{location}{bb1}`, the part of a server name before `-k8s-1p`: the name must be
/// [`naming::server_name`]'s, which the module completes with the role and number.
fn node_name_prefix(id: ClusterId) -> String {
    let full = naming::server_name(
        id.provider,
        id.location,
        id.building_block,
        id.env_type,
        "k8s",
        1,
    );
    full.split('-').next().unwrap_or_default().to_owned()
}

/// Writes the variables as JSON with mode 0600.
pub fn write_tfvars(path: &Path, vars: &TfVars) -> Result<(), TfVarsError> {
    modules::write_private_file(path, vars.to_json()?.as_bytes())?;
    Ok(())
}

/// The WireGuard mesh input of one region: its gateway's mesh address and the other region's
/// gateway. Public keys only; the private key travels in [`WIREGUARD_KEY_ENV`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireguardMesh {
    pub address: String,
    pub listen_port: u16,
    pub peers: Vec<WireguardPeer>,
}

/// The other end of the mesh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireguardPeer {
    /// The peer's cluster name.
    pub name: String,
    pub public_key: String,
    /// `host:port` of the peer's gateway, or empty when the peer does not exist yet (it will
    /// connect to us; WireGuard learns its address from the first handshake).
    pub endpoint: String,
    /// The peer's private network (and mesh address) routed through the tunnel.
    pub allowed_ips: Vec<String>,
}

/// A WireGuard (X25519) key pair. The private half never leaves memory except through the
/// environment of the OpenTofu process and the keyring.
pub struct WireguardKeyPair {
    pub private_key: SecretString,
    pub public_key: String,
}

impl std::fmt::Debug for WireguardKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireguardKeyPair")
            .field("private_key", &"[redacted]")
            .field("public_key", &self.public_key)
            .finish()
    }
}

impl WireguardKeyPair {
    /// A fresh key pair from the OS random generator.
    pub fn generate() -> Self {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rand::fill(&mut seed[..]);
        Self::from_seed(&seed)
    }

    /// The pair whose private key is these 32 bytes (WireGuard clamps the scalar itself, as
    /// `wg` does), and its X25519 public key.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let secret = x25519_dalek::StaticSecret::from(*seed);
        let public = x25519_dalek::PublicKey::from(&secret);
        let private = zeroize::Zeroizing::new(secret.to_bytes());
        WireguardKeyPair {
            private_key: SecretString::from(BASE64.encode(&private[..])),
            public_key: BASE64.encode(public.as_bytes()),
        }
    }
}

/// The mesh input of region `index` (0 or 1) whose peer is `peer_cluster` with `peer_public_key`
/// and, when already known, `peer_endpoint` (`host:port`, the peer's `wireguard_endpoint`
/// output). Region 1 is applied after region 0 and therefore always knows the endpoint.
pub fn wireguard_mesh(
    index: u8,
    peer_cluster: &str,
    peer_public_key: &str,
    peer_endpoint: Option<&str>,
) -> Result<WireguardMesh, TfVarsError> {
    let own = REGION_RANGES.get(usize::from(index));
    let peer = REGION_RANGES.get(usize::from(1 - index.min(1)));
    let (Some(own), Some(peer)) = (own, peer) else {
        return Err(TfVarsError::InvalidCluster {
            cluster: peer_cluster.to_owned(),
            message: format!("region index {index} is out of range for a two-region mesh"),
        });
    };
    let peer_mesh_host = peer.mesh_address.split('/').next().unwrap_or_default();
    Ok(WireguardMesh {
        address: own.mesh_address.to_owned(),
        listen_port: WIREGUARD_PORT,
        peers: vec![WireguardPeer {
            name: peer_cluster.to_owned(),
            public_key: peer_public_key.to_owned(),
            endpoint: peer_endpoint.unwrap_or_default().to_owned(),
            allowed_ips: vec![peer.network_cidr.to_owned(), format!("{peer_mesh_host}/32")],
        }],
    })
}

/// OpenTofu (1.7 and later) reads its client-side encryption configuration from this
/// variable, so the passphrase never needs a file.
pub const ENCRYPTION_ENV: &str = "TF_ENCRYPTION";

/// The value of [`ENCRYPTION_ENV`] for one run: AES-GCM with a key derived (PBKDF2) from the
/// run's `passphrase`, enforced for saved plan files. A saved plan carries every input variable,
/// provider credentials included, so it must never sit on disk readable. Only plans: a plan
/// lives as long as its run and losing its key only means planning again, whereas a state
/// encrypted with a per-run key would be lost with it.
pub fn plan_encryption_config(passphrase: &SecretString) -> SecretString {
    use secrecy::ExposeSecret;
    SecretString::from(format!(
        "key_provider \"pbkdf2\" \"openova\" {{\n  passphrase = {}\n}}\n\
         method \"aes_gcm\" \"openova\" {{\n  keys = key_provider.pbkdf2.openova\n}}\n\
         plan {{\n  method   = method.aes_gcm.openova\n  enforced = true\n}}\n",
        hcl_string(passphrase.expose_secret())
    ))
}

/// OpenTofu variables that carry a provider's credentials, as environment variable names.
pub fn credential_env_names(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::Hetzner => &["TF_VAR_hcloud_token"],
        Provider::HuaweiCloud => &["TF_VAR_huawei_access_key", "TF_VAR_huawei_secret_key"],
        Provider::Oci => &[
            "TF_VAR_oci_tenancy_ocid",
            "TF_VAR_oci_user_ocid",
            "TF_VAR_oci_fingerprint",
            "TF_VAR_oci_private_key",
        ],
    }
}

/// The environment variable that receives the platform.toml credential `name` of `provider`
/// (see [`Provider::credential_names`]).
pub fn credential_env(provider: Provider, name: &str) -> Option<&'static str> {
    let names = provider.credential_names();
    let index = names.iter().position(|(n, _)| *n == name)?;
    credential_env_names(provider).get(index).copied()
}

/// Every environment variable through which a run of `provider` may pass a secret: the
/// provider credentials, the WireGuard gateway key and the S3 backend keys. The runner sets
/// these and nothing else secret, and scrubs their values from anything it records.
pub fn secret_env_names(provider: Provider) -> Vec<&'static str> {
    let mut names = credential_env_names(provider).to_vec();
    names.push(WIREGUARD_KEY_ENV);
    names.push(ENCRYPTION_ENV);
    names.extend_from_slice(BACKEND_SECRET_ENV);
    names
}

/// Where OpenTofu keeps the state of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateBackend {
    /// `terraform.tfstate` in the workspace: for a lab. The state holds the cluster's CA keys.
    Local,
    /// The customer's S3-compatible bucket, encrypted at rest.
    S3(S3Backend),
}

/// An S3-compatible state bucket. The access keys are not here: they travel in
/// [`BACKEND_SECRET_ENV`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Backend {
    pub bucket: String,
    /// Object key of the state, e.g. `openova/hz-fsn-rtz-prod.tfstate`.
    pub key: String,
    pub region: String,
    /// Endpoint of a non-AWS S3 service (Hetzner Object Storage, Huawei OBS, OCI); `None` for AWS.
    pub endpoint: Option<String>,
    /// Lock with a lock object next to the state (OpenTofu 1.10 and later).
    pub lockfile: bool,
}

impl S3Backend {
    /// The object key of a cluster's state under an optional prefix: `openova/acme` and
    /// `hz-fsn-rtz-prod` give `openova/acme/hz-fsn-rtz-prod.tfstate`; an empty prefix gives
    /// `hz-fsn-rtz-prod.tfstate`.
    pub fn state_key(prefix: &str, cluster: &str) -> String {
        let prefix = prefix.trim_matches('/');
        if prefix.is_empty() {
            format!("{cluster}.tfstate")
        } else {
            format!("{prefix}/{cluster}.tfstate")
        }
    }

    fn validate(&self) -> Result<(), TfVarsError> {
        let bad = |field, value: &str, rule| TfVarsError::InvalidBackend {
            field,
            value: value.to_owned(),
            rule,
        };
        let bucket_ok = (3..=63).contains(&self.bucket.len())
            && self
                .bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !self.bucket.starts_with(['-', '.'])
            && !self.bucket.ends_with(['-', '.']);
        if !bucket_ok {
            return Err(bad(
                "bucket",
                &self.bucket,
                "3-63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit",
            ));
        }
        let key_ok = !self.key.is_empty()
            && !self.key.starts_with('/')
            && !self
                .key
                .split('/')
                .any(|part| part == ".." || part.is_empty())
            && !self.key.contains(['$', '%', '"', '\\'])
            && !self.key.chars().any(char::is_control);
        if !key_ok {
            return Err(bad(
                "key",
                &self.key,
                "a relative object path without empty or '..' segments, quotes, '$', '%' or backslashes",
            ));
        }
        let region_ok = !self.region.is_empty()
            && self
                .region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !region_ok {
            return Err(bad(
                "region",
                &self.region,
                "lower-case letters, digits and '-'",
            ));
        }
        if let Some(endpoint) = &self.endpoint {
            let host = endpoint.strip_prefix("https://").unwrap_or_default();
            let host_ok = !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'/'));
            if !host_ok {
                return Err(bad(
                    "endpoint",
                    endpoint,
                    "an https:// URL of host name characters only",
                ));
            }
        }
        Ok(())
    }
}

/// The backend configuration file (`backend.tf.json`) for the root module. Keys and secrets
/// are never in it.
pub fn backend_config(backend: &StateBackend) -> Result<String, TfVarsError> {
    let block = match backend {
        StateBackend::Local => serde_json::json!({ "local": { "path": "terraform.tfstate" } }),
        StateBackend::S3(s3) => {
            s3.validate()?;
            let mut cfg = serde_json::json!({
                "bucket": s3.bucket,
                "key": s3.key,
                "region": s3.region,
                "encrypt": true,
            });
            if let Some(endpoint) = &s3.endpoint {
                // Non-AWS services have neither AWS's account API nor its region list.
                cfg["endpoints"] = serde_json::json!({ "s3": endpoint });
                cfg["use_path_style"] = true.into();
                cfg["skip_credentials_validation"] = true.into();
                cfg["skip_region_validation"] = true.into();
                cfg["skip_requesting_account_id"] = true.into();
                cfg["skip_metadata_api_check"] = true.into();
                cfg["skip_s3_checksum"] = true.into();
            }
            if s3.lockfile {
                cfg["use_lockfile"] = true.into();
            }
            serde_json::json!({ "s3": cfg })
        }
    };
    let doc = serde_json::json!({ "terraform": { "backend": block } });
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}

/// Writes [`backend_config`] into the root module directory (mode 0600) and returns its path.
pub fn write_backend(module_dir: &Path, backend: &StateBackend) -> Result<PathBuf, TfVarsError> {
    let path = module_dir.join(BACKEND_FILE);
    modules::write_private_file(&path, backend_config(backend)?.as_bytes())?;
    Ok(path)
}

/// An OpenTofu CLI configuration for an air-gapped site: providers come only from the
/// filesystem mirror at `provider_mirror_dir` (laid out as `tofu providers mirror` writes it),
/// never from a registry. Point `TF_CLI_CONFIG_FILE` at it.
pub fn cli_config(provider_mirror_dir: &Path) -> String {
    format!(
        "# Generated by openova: install providers from the local mirror only.\n\
         provider_installation {{\n  filesystem_mirror {{\n    path    = {}\n    include = [\"*/*/*\"]\n  }}\n}}\n",
        hcl_string(&provider_mirror_dir.to_string_lossy())
    )
}

/// Writes [`cli_config`] to `path` with mode 0600.
pub fn write_cli_config(path: &Path, provider_mirror_dir: &Path) -> Result<(), TfVarsError> {
    modules::write_private_file(path, cli_config(provider_mirror_dir).as_bytes())?;
    Ok(())
}

/// A quoted HCL string literal: JSON escaping plus HCL's template escapes, so a path holding
/// `${` or `%{` stays literal.
fn hcl_string(s: &str) -> String {
    let quoted = serde_json::Value::from(s).to_string();
    quoted.replace("${", "$${").replace("%{", "%%{")
}

/// The ClusterId of a cluster name such as `hz-fsn-rtz-prod`, for callers that hold only the name.
pub fn parse_cluster_name(name: &str) -> Option<ClusterId> {
    let mut parts = name.split('-');
    let provider = Provider::parse(parts.next()?).ok()?;
    let location = naming::Location::parse(parts.next()?).ok()?;
    let building_block = BuildingBlock::parse(parts.next()?).ok()?;
    let env_type = EnvType::parse(parts.next()?).ok()?;
    if parts.next().is_some() || location.provider() != provider {
        return None;
    }
    Some(ClusterId {
        provider,
        location,
        building_block,
        env_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use naming::Location;
    use secrecy::ExposeSecret;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtZbGB686h2flmyRufj6W7HyqwKpVzbOVieXWyl+9WT ops@acme";

    fn spec(provider: Provider, location: Location, index: u8) -> ClusterSpec {
        ClusterSpec {
            organization: "acme".into(),
            domain: "acme.example.com".into(),
            id: ClusterId {
                provider,
                location,
                building_block: BuildingBlock::Rtz,
                env_type: EnvType::Prod,
            },
            region_index: index,
            control_plane_size: provider.default_control_plane_size().into(),
            control_plane_count: 3,
            worker_size: provider.default_worker_size().into(),
            worker_count: 2,
        }
    }

    #[test]
    fn for_cluster_hetzner_fsn_uses_naming_convention() {
        let v = TfVars::for_cluster(
            &spec(Provider::Hetzner, Location::Fsn, 0),
            &RunValues::new(KEY),
        )
        .unwrap();
        assert_eq!(v.cluster_name, "hz-fsn-rtz-prod");
        assert_eq!(v.node_name_prefix, "hzfsnr");
        assert_eq!(v.node_name_suffix, "p");
        assert_eq!(v.location, "fsn1");
        assert_eq!(v.api_hostname, "api.hfrp.acme.example.com");
        assert_eq!(v.cilium_cluster_id, 1);
        assert_eq!(v.network_cidr, "10.0.0.0/16");
        assert_eq!(v.oci_compartment_ocid, None);
    }

    #[test]
    fn from_platform_example_gives_both_regions_variables() {
        let cfg = PlatformConfig::example();
        let run = RunValues::from_platform(&cfg);
        assert_eq!(run.ssh_public_key, cfg.ssh.public_key);
        let names: Vec<String> = (0..cfg.regions.len())
            .map(|i| {
                let spec = ClusterSpec::from_platform(&cfg, i).unwrap();
                let vars = TfVars::for_cluster(&spec, &run).unwrap();
                assert_eq!(vars.organization, cfg.organization.slug);
                assert_eq!(vars.worker_count, cfg.regions[i].workers.count);
                vars.cluster_name
            })
            .collect();
        assert_eq!(names, cfg.cluster_names());
        assert!(ClusterSpec::from_platform(&cfg, cfg.regions.len()).is_none());
    }

    #[test]
    fn from_platform_takes_api_sources_from_the_config_only() {
        let mut cfg = PlatformConfig::example();
        cfg.api = Some(crate::domain::platform::ApiAccess {
            allowed_cidrs: vec!["198.51.100.7/32".into()],
        });
        assert_eq!(
            RunValues::from_platform(&cfg).api_allowed_cidrs,
            ["198.51.100.7/32"]
        );
        cfg.api = None;
        assert!(
            RunValues::from_platform(&cfg).api_allowed_cidrs.is_empty(),
            "no [api] must never mean open to the world"
        );
    }

    #[test]
    fn for_cluster_second_region_gets_disjoint_ranges() {
        let a = TfVars::for_cluster(&spec(Provider::Oci, Location::Fra, 0), &RunValues::new(KEY))
            .unwrap();
        let b = TfVars::for_cluster(&spec(Provider::Oci, Location::Iad, 1), &RunValues::new(KEY))
            .unwrap();
        assert_ne!(a.network_cidr, b.network_cidr);
        assert_ne!(a.pod_cidr, b.pod_cidr);
        assert_ne!(a.cilium_cluster_id, b.cilium_cluster_id);
        assert_eq!(b.location, "us-ashburn-1");
    }

    #[test]
    fn for_cluster_node_artifacts_follow_the_artifact_source() {
        let s = spec(Provider::Hetzner, Location::Fsn, 0);
        let upstream = TfVars::for_cluster(&s, &RunValues::new(KEY)).unwrap();
        assert_eq!(upstream.artifact_source, "");
        assert_eq!(
            upstream.node_artifacts["k3s-binary-amd64"].url,
            "https://github.com/k3s-io/k3s/releases/download/v1.31.4%2Bk3s1/k3s"
        );
        assert_eq!(upstream.node_artifacts.len(), 7);
        let mut run = RunValues::new(KEY);
        run.artifact_source = Some("http://10.0.1.4:8080/".into());
        let site = TfVars::for_cluster(&s, &run).unwrap();
        for (name, a) in &site.node_artifacts {
            assert!(
                a.url.starts_with("http://10.0.1.4:8080/"),
                "{name}: {}",
                a.url
            );
            assert!(!a.url.contains("//k3s"), "{}", a.url);
        }
        assert_eq!(site.cilium_version, "1.16.5");
        let json = site.to_json().unwrap();
        assert!(
            json.contains("\"artifact_source\": \"http://10.0.1.4:8080/\""),
            "{json}"
        );

        // A site's own table, by path.
        let dir = tempfile::tempdir().unwrap();
        let mut table = ArtifactTable::builtin().unwrap();
        table.artifacts[0].sha256 = "c".repeat(64);
        let path = dir.path().join("artifacts.json");
        std::fs::write(&path, serde_json::to_string(&table).unwrap()).unwrap();
        let mut own = RunValues::new(KEY);
        own.artifact_table = Some(path.clone());
        let v = TfVars::for_cluster(&s, &own).unwrap();
        assert_eq!(
            v.node_artifacts[&table.artifacts[0].name].sha256,
            "c".repeat(64)
        );
        std::fs::write(&path, "{").unwrap();
        let err = TfVars::for_cluster(&s, &own).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("artifact table {}", path.display())),
            "{err}"
        );

        // A k3s release the table does not pin has nothing a node could verify.
        run.k3s_version = "v1.32.0+k3s1".into();
        let err = TfVars::for_cluster(&s, &run).unwrap_err().to_string();
        assert!(
            err.contains("v1.32.0+k3s1 has no pinned artifacts"),
            "{err}"
        );
    }

    #[test]
    fn for_cluster_location_of_other_provider_is_rejected() {
        let err = TfVars::for_cluster(
            &spec(Provider::Hetzner, Location::Fra, 0),
            &RunValues::new(KEY),
        )
        .unwrap_err();
        assert!(err.to_string().contains("belongs to"), "{err}");
    }

    #[test]
    fn for_cluster_bad_sizes_and_counts_name_the_field() {
        let mut s = spec(Provider::Hetzner, Location::Nbg, 0);
        s.worker_size = "m6i.xlarge".into();
        let err = TfVars::for_cluster(&s, &RunValues::new(KEY)).unwrap_err();
        assert!(err.to_string().contains("worker_size"), "{err}");
        let mut s = spec(Provider::Hetzner, Location::Nbg, 0);
        s.control_plane_count = 2;
        let err = TfVars::for_cluster(&s, &RunValues::new(KEY)).unwrap_err();
        assert!(err.to_string().contains("control_plane_count"), "{err}");
        let mut s = spec(Provider::Hetzner, Location::Nbg, 2);
        s.region_index = 2;
        assert!(TfVars::for_cluster(&s, &RunValues::new(KEY)).is_err());
    }

    #[test]
    fn write_tfvars_file_is_private_json() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(TFVARS_FILE);
        let v = TfVars::for_cluster(
            &spec(Provider::HuaweiCloud, Location::Apse, 0),
            &RunValues::new(KEY),
        )
        .unwrap();
        write_tfvars(&path, &v).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(json["location"], "ap-southeast-3");
        assert_eq!(json["control_plane_count"], 3);
        assert!(json.get("wireguard").is_none());
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn wireguard_key_pair_matches_rfc7748() {
        // RFC 7748 §6.1: Alice's and Bob's private keys and the X25519 public keys for them (what
        // `wg pubkey` prints for the private key we hand to OpenTofu).
        for (private, public) in [
            (
                "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
                "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
            ),
            (
                "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
                "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
            ),
        ] {
            let seed: [u8; 32] = unhex(private).try_into().unwrap();
            let pair = WireguardKeyPair::from_seed(&seed);
            assert_eq!(
                BASE64.decode(pair.private_key.expose_secret()).unwrap(),
                unhex(private)
            );
            assert_eq!(BASE64.decode(&pair.public_key).unwrap(), unhex(public));
        }
    }

    #[test]
    fn wireguard_key_pair_debug_hides_private_key() {
        let pair = WireguardKeyPair::generate();
        let shown = format!("{pair:?}");
        assert!(!shown.contains(pair.private_key.expose_secret()));
        assert!(shown.contains(&pair.public_key));
        assert_eq!(pair.public_key.len(), 44);
    }

    #[test]
    fn wireguard_mesh_second_region_routes_first_network() {
        let mesh = wireguard_mesh(1, "hz-fsn-rtz-prod", "K", Some("198.51.100.7:51820")).unwrap();
        assert_eq!(mesh.address, "10.255.0.2/24");
        assert_eq!(
            mesh.peers[0].allowed_ips,
            vec!["10.0.0.0/16".to_owned(), "10.255.0.1/32".to_owned()]
        );
        assert_eq!(mesh.peers[0].endpoint, "198.51.100.7:51820");
        assert!(wireguard_mesh(2, "x", "K", None).is_err());
    }

    #[test]
    fn credential_env_maps_platform_credential_names() {
        assert_eq!(
            credential_env(Provider::Hetzner, "hcloud_token"),
            Some("TF_VAR_hcloud_token")
        );
        assert_eq!(
            credential_env(Provider::HuaweiCloud, "secret_key"),
            Some("TF_VAR_huawei_secret_key")
        );
        assert_eq!(
            credential_env(Provider::Oci, "private_key"),
            Some("TF_VAR_oci_private_key")
        );
        assert_eq!(credential_env(Provider::Oci, "hcloud_token"), None);
        for p in Provider::ALL {
            assert_eq!(
                p.credential_names().len(),
                credential_env_names(*p).len(),
                "{p}: every credential needs an environment variable"
            );
        }
    }

    #[test]
    fn secret_env_names_cover_backend_and_wireguard() {
        let names = secret_env_names(Provider::Hetzner);
        for n in [
            "TF_VAR_hcloud_token",
            WIREGUARD_KEY_ENV,
            "AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(names.contains(&n), "{n} missing");
        }
    }

    fn s3() -> S3Backend {
        S3Backend {
            bucket: "prod-tf-state".into(),
            key: "openova/hz-fsn-rtz-prod.tfstate".into(),
            region: "fsn1".into(),
            endpoint: Some("https://fsn1.your-objectstorage.com".into()),
            lockfile: true,
        }
    }

    #[test]
    fn backend_config_s3_is_encrypted_and_keyless() {
        let text = backend_config(&StateBackend::S3(s3())).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let cfg = &json["terraform"]["backend"]["s3"];
        assert_eq!(cfg["bucket"], "prod-tf-state");
        assert_eq!(cfg["encrypt"], true);
        assert_eq!(cfg["use_lockfile"], true);
        assert_eq!(
            cfg["endpoints"]["s3"],
            "https://fsn1.your-objectstorage.com"
        );
        assert!(!text.contains("access_key") && !text.contains("secret_key"));
    }

    #[test]
    fn state_key_empty_or_slashed_prefix_gives_valid_key() {
        assert_eq!(
            S3Backend::state_key("", "hz-fsn-rtz-prod"),
            "hz-fsn-rtz-prod.tfstate"
        );
        assert_eq!(
            S3Backend::state_key("openova/acme/", "hz-fsn-rtz-prod"),
            "openova/acme/hz-fsn-rtz-prod.tfstate"
        );
        let mut b = s3();
        b.key = S3Backend::state_key("", "oci-fra-rtz-prod");
        assert!(backend_config(&StateBackend::S3(b)).is_ok());
    }

    #[test]
    fn backend_config_local_names_state_file() {
        let text = backend_config(&StateBackend::Local).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            json["terraform"]["backend"]["local"]["path"],
            "terraform.tfstate"
        );
    }

    #[test]
    fn backend_config_bad_fields_name_field_and_rule() {
        let mut b = s3();
        b.bucket = "Prod_State".into();
        let err = backend_config(&StateBackend::S3(b))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bucket") && err.contains("lower-case"),
            "{err}"
        );
        let mut b = s3();
        b.key = "../other/state".into();
        let err = backend_config(&StateBackend::S3(b))
            .unwrap_err()
            .to_string();
        assert!(err.contains("key"), "{err}");
        let mut b = s3();
        b.endpoint = Some("http://insecure".into());
        let err = backend_config(&StateBackend::S3(b))
            .unwrap_err()
            .to_string();
        assert!(err.contains("endpoint") && err.contains("https"), "{err}");
    }

    #[test]
    fn plan_encryption_config_parses_and_keeps_passphrase_literal() {
        let pass = SecretString::from("correct horse \"battery\" ${staple}".to_owned());
        let cfg = plan_encryption_config(&pass);
        let body = hcl::parse(cfg.expose_secret()).unwrap();
        let ids: Vec<_> = body.blocks().map(|b| b.identifier().to_owned()).collect();
        assert_eq!(ids, ["key_provider", "method", "plan"]);
        let kp = body.blocks().next().unwrap();
        let passphrase = kp.body().attributes().next().unwrap();
        assert_eq!(
            passphrase.expr(),
            &hcl::Expression::String("correct horse \"battery\" ${staple}".into())
        );
        for b in body
            .blocks()
            .filter(|b| b.identifier() == "state" || b.identifier() == "plan")
        {
            assert!(
                b.body()
                    .attributes()
                    .any(|a| a.key() == "enforced" && a.expr() == &hcl::Expression::Bool(true))
            );
        }
    }

    #[test]
    fn cli_config_points_only_at_mirror_and_parses() {
        let text = cli_config(Path::new("/srv/mirror ${x}/providers"));
        let body = hcl::parse(&text).unwrap();
        let install = body
            .blocks()
            .find(|b| b.identifier() == "provider_installation")
            .unwrap();
        let blocks: Vec<_> = install.body().blocks().map(|b| b.identifier()).collect();
        assert_eq!(blocks, vec!["filesystem_mirror"]);
        assert!(text.contains("$${x}"), "{text}");
    }

    #[test]
    fn parse_cluster_name_round_trips_and_rejects_mismatch() {
        let id = parse_cluster_name("hw-apse-mgt-dev").unwrap();
        assert_eq!(id.name(), "hw-apse-mgt-dev");
        assert!(parse_cluster_name("hz-fra-rtz-prod").is_none());
        assert!(parse_cluster_name("hz-fsn-rtz").is_none());
    }
}
