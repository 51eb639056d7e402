//! The hand-over after apply: kubeconfig contexts named by the naming convention (a private file
//! in the run directory; merged into the operator's kubeconfig only when asked), then the CRDs,
//! the Lifecycle Manager and the `Platform` resource applied with server-side apply, an optional
//! wait for the manager's first report, and the exact `openova tui manage` command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext};
use kube::core::GroupVersionKind;

use super::events::OutputValue;
use crate::crd::consts::{FIELD_MANAGER_BOOTSTRAP, NAMESPACE};
use crate::crd::platform::{
    CatalogSource, Organization, Platform, PlatformComponent, PlatformSpec, Region,
};
use crate::domain::platform::PlatformConfig;

#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("cluster {cluster}: `tofu output` has no `kubeconfig` value")]
    NoKubeconfig { cluster: String },
    #[error("cluster {cluster}: the kubeconfig output is not a kubeconfig: {reason}")]
    BadKubeconfig { cluster: String, reason: String },
    #[error("writing the kubeconfig {path}: {reason}")]
    WriteKubeconfig { path: String, reason: String },
    #[error("cluster {cluster}: connecting to the API server: {reason}")]
    Connect { cluster: String, reason: String },
    #[error("cluster {cluster}: applying {what}: {reason}")]
    Apply {
        cluster: String,
        what: String,
        reason: String,
    },
    #[error("cluster {cluster}: the CRD {name} was not established within {secs}s")]
    CrdNotEstablished {
        cluster: String,
        name: String,
        secs: u64,
    },
    #[error("the Lifecycle Manager manifests: {0}")]
    Manifests(String),
    #[error("starting the hand-over's async runtime: {0}")]
    Runtime(std::io::Error),
}

/// What the hand-over needs.
#[derive(Debug)]
pub struct HandoverPlan<'a> {
    pub config: &'a PlatformConfig,
    /// `tofu output -json` per cluster, in region order.
    pub outputs: &'a [(String, BTreeMap<String, OutputValue>)],
    /// The run directory; the kubeconfig is written here.
    pub workspace: &'a Path,
    /// Merge the contexts into $KUBECONFIG / ~/.kube/config as well.
    pub merge_kubeconfig: bool,
    /// Wait this long for the manager to report; `None` skips the wait.
    pub wait_manager: Option<Duration>,
}

/// What the hand-over did.
#[derive(Debug, Clone, PartialEq)]
pub struct HandoverReport {
    pub kubeconfig: PathBuf,
    pub contexts: Vec<String>,
    /// `Some(true)` the manager reported, `Some(false)` it did not within the wait, `None` not waited.
    pub manager_reported: Option<bool>,
    pub next_step: String,
}

/// File name of the run's kubeconfig inside the run directory.
pub const KUBECONFIG_FILE: &str = "kubeconfig";

/// Rename the single context of a module's kubeconfig to `cluster` (cluster entry `cluster`,
/// user `cluster-admin`), whatever the module called them.
pub fn rename_kubeconfig(cluster: &str, yaml: &str) -> Result<Kubeconfig, HandoverError> {
    let bad = |reason: String| HandoverError::BadKubeconfig {
        cluster: cluster.to_owned(),
        reason,
    };
    let kc = Kubeconfig::from_yaml(yaml).map_err(|e| bad(e.to_string()))?;
    let ctx = kc
        .contexts
        .iter()
        .find(|c| Some(&c.name) == kc.current_context.as_ref())
        .or_else(|| kc.contexts.first())
        .and_then(|c| c.context.clone())
        .ok_or_else(|| bad("it has no context".into()))?;
    let cl = kc
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.clone())
        .ok_or_else(|| {
            bad(format!(
                "its context names a missing cluster {:?}",
                ctx.cluster
            ))
        })?;
    let user_name = ctx.user.clone().unwrap_or_default();
    let user = kc
        .auth_infos
        .iter()
        .find(|u| u.name == user_name)
        .and_then(|u| u.auth_info.clone())
        .ok_or_else(|| bad(format!("its context names a missing user {user_name:?}")))?;
    let admin = format!("{cluster}-admin");
    let mut context = ctx;
    context.cluster = cluster.to_owned();
    context.user = Some(admin.clone());
    Ok(Kubeconfig {
        clusters: vec![NamedCluster {
            name: cluster.to_owned(),
            cluster: Some(cl),
            other: BTreeMap::new(),
        }],
        auth_infos: vec![NamedAuthInfo {
            name: admin,
            auth_info: Some(user),
            other: BTreeMap::new(),
        }],
        contexts: vec![NamedContext {
            name: cluster.to_owned(),
            context: Some(context),
            other: BTreeMap::new(),
        }],
        current_context: Some(cluster.to_owned()),
        api_version: Some("v1".into()),
        kind: Some("Config".into()),
        ..Kubeconfig::default()
    })
}

/// Put `new`'s entries into `base`, replacing entries of the same name (a re-run of the same
/// platform refreshes its credentials instead of keeping stale ones).
pub fn merge_into(mut base: Kubeconfig, new: &Kubeconfig) -> Kubeconfig {
    for c in &new.clusters {
        base.clusters.retain(|x| x.name != c.name);
        base.clusters.push(c.clone());
    }
    for u in &new.auth_infos {
        base.auth_infos.retain(|x| x.name != u.name);
        base.auth_infos.push(u.clone());
    }
    for c in &new.contexts {
        base.contexts.retain(|x| x.name != c.name);
        base.contexts.push(c.clone());
    }
    if base.current_context.is_none() {
        base.current_context = new.current_context.clone();
    }
    if base.api_version.is_none() {
        base.api_version = Some("v1".into());
        base.kind = Some("Config".into());
    }
    base
}

fn write_private(path: &Path, kc: &Kubeconfig) -> Result<(), HandoverError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |reason: String| HandoverError::WriteKubeconfig {
        path: path.display().to_string(),
        reason,
    };
    let text = serde_saphyr::to_string(kc).map_err(|e| err(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    }
    // Write a sibling and rename, so a crash never leaves a half-written kubeconfig.
    let tmp = path.with_extension("openova-tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| err(e.to_string()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| err(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
}

/// The operator's kubeconfig: the first path of $KUBECONFIG, else ~/.kube/config.
pub fn operator_kubeconfig_path() -> Option<PathBuf> {
    if let Some(v) = std::env::var_os("KUBECONFIG")
        && let Some(first) = std::env::split_paths(&v).next()
        && !first.as_os_str().is_empty()
    {
        return Some(first);
    }
    directories::BaseDirs::new().map(|b| b.home_dir().join(".kube/config"))
}

/// The `Platform` resource for a configuration.
pub fn platform_resource(config: &PlatformConfig) -> Platform {
    let spec = PlatformSpec {
        organization: Organization {
            name: config.organization.slug.clone(),
            domain: config.organization.domain.clone(),
        },
        regions: config
            .cluster_ids()
            .iter()
            .map(|id| Region {
                cluster: id.name(),
                location: id.location.code().to_owned(),
            })
            .collect(),
        components: platform_components(config),
        delivery: None,
        catalog: config
            .airgap
            .as_ref()
            .and_then(|a| a.catalog_configmap.clone())
            .map(|name| CatalogSource {
                config_map: Some(name),
            }),
        maintenance_window: None,
        chart_repository: config.airgap.as_ref().map(|a| a.registry_mirror.clone()),
        update_check_interval_minutes: None,
        removals: Vec::new(),
    };
    let mut p = Platform::new(&config.organization.slug, spec);
    p.metadata.namespace = Some(NAMESPACE.to_owned());
    p
}

/// The Platform's component list: every mandatory component of the catalog (the wizard shows
/// them locked in, they are not part of the selection), then the operator's selection. The
/// manager installs exactly these plus the dependencies they require.
fn platform_components(config: &PlatformConfig) -> Vec<PlatformComponent> {
    let mandatory = crate::catalog::embedded()
        .components()
        .iter()
        .filter(|c| c.category == crate::domain::catalog::Category::Mandatory)
        .map(|c| c.name.clone());
    let mut seen = std::collections::BTreeSet::new();
    mandatory
        .chain(config.components.iter().cloned())
        .filter(|name| seen.insert(name.clone()))
        .map(|name| PlatformComponent {
            name,
            version: None,
            enabled: true,
        })
        .collect()
}

/// The command that opens the day-2 console on the new clusters.
pub fn manage_command(contexts: &[String], kubeconfig: Option<&Path>) -> String {
    let mut cmd = String::from("openova tui manage");
    for c in contexts {
        cmd.push_str(" --context ");
        cmd.push_str(c);
    }
    if let Some(path) = kubeconfig {
        cmd.push_str(" --kubeconfig ");
        cmd.push_str(&path.display().to_string());
    }
    cmd
}

/// Run the hand-over. `note` receives one line per thing done, for the run log.
pub fn run(
    plan: &HandoverPlan<'_>,
    note: &mut dyn FnMut(&str),
) -> Result<HandoverReport, HandoverError> {
    let mut combined = Kubeconfig::default();
    let mut per_cluster = Vec::new();
    for (cluster, outputs) in plan.outputs {
        let yaml = outputs
            .get("kubeconfig")
            .and_then(|o| o.value.as_str())
            .ok_or_else(|| HandoverError::NoKubeconfig {
                cluster: cluster.clone(),
            })?;
        let kc = rename_kubeconfig(cluster, yaml)?;
        combined = merge_into(combined, &kc);
        per_cluster.push((cluster.clone(), kc));
    }
    if let Some((first, _)) = per_cluster.first() {
        combined.current_context = Some(first.clone());
    }
    let path = plan.workspace.join(KUBECONFIG_FILE);
    write_private(&path, &combined)?;
    let contexts: Vec<String> = per_cluster.iter().map(|(c, _)| c.clone()).collect();
    note(&format!(
        "wrote kubeconfig {} with context{} {}",
        path.display(),
        if contexts.len() == 1 { "" } else { "s" },
        contexts.join(", ")
    ));
    let mut merged_into = None;
    if plan.merge_kubeconfig
        && let Some(target) = operator_kubeconfig_path()
    {
        let base = if target.exists() {
            Kubeconfig::read_from(&target).map_err(|e| HandoverError::WriteKubeconfig {
                path: target.display().to_string(),
                reason: format!("cannot read the existing file: {e}"),
            })?
        } else {
            Kubeconfig::default()
        };
        write_private(&target, &merge_into(base, &combined))?;
        note(&format!("merged the contexts into {}", target.display()));
        merged_into = Some(target);
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(HandoverError::Runtime)?;
    let platform = platform_resource(plan.config);
    let mut reported = Vec::new();
    for (cluster, kc) in &per_cluster {
        let r = rt.block_on(apply_cluster(
            cluster,
            kc.clone(),
            &platform,
            plan.wait_manager,
            note,
        ))?;
        reported.push(r);
    }
    let manager_reported = plan
        .wait_manager
        .map(|_| reported.iter().all(|r| *r == Some(true)));
    let kubeconfig_arg = if merged_into.is_some() {
        None
    } else {
        Some(path.as_path())
    };
    Ok(HandoverReport {
        next_step: manage_command(&contexts, kubeconfig_arg),
        kubeconfig: path.clone(),
        contexts,
        manager_reported,
    })
}

async fn apply_cluster(
    cluster: &str,
    kc: Kubeconfig,
    platform: &Platform,
    wait_manager: Option<Duration>,
    note: &mut dyn FnMut(&str),
) -> Result<Option<bool>, HandoverError> {
    let connect = |reason: String| HandoverError::Connect {
        cluster: cluster.to_owned(),
        reason,
    };
    let apply_err = |what: String, reason: String| HandoverError::Apply {
        cluster: cluster.to_owned(),
        what,
        reason,
    };
    let opts = KubeConfigOptions {
        context: Some(cluster.to_owned()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| connect(e.to_string()))?;
    let client = kube::Client::try_from(config).map_err(|e| connect(e.to_string()))?;
    let pp = PatchParams::apply(FIELD_MANAGER_BOOTSTRAP).force();

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut names = Vec::new();
    for crd in crate::crd::all_crds() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        crds.patch(&name, &pp, &Patch::Apply(&crd))
            .await
            .map_err(|e| apply_err(format!("CRD {name}"), kube_error(&e)))?;
        names.push(name);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for name in &names {
        loop {
            let crd = crds
                .get(name)
                .await
                .map_err(|e| apply_err(format!("CRD {name}"), kube_error(&e)))?;
            let established = crd
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                break;
            }
            if Instant::now() > deadline {
                return Err(HandoverError::CrdNotEstablished {
                    cluster: cluster.to_owned(),
                    name: name.clone(),
                    secs: 60,
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    note(&format!("{cluster}: applied CRDs {}", names.join(", ")));

    let manifests =
        crate::deploy::manifests().map_err(|e| HandoverError::Manifests(e.to_string()))?;
    let count = manifests.len();
    for obj in manifests {
        apply_dynamic(&client, &obj, &pp)
            .await
            .map_err(|(what, reason)| apply_err(what, reason))?;
    }
    note(&format!(
        "{cluster}: applied the Lifecycle Manager ({count} objects)"
    ));

    let platforms: Api<Platform> = Api::namespaced(client.clone(), NAMESPACE);
    let name = platform.metadata.name.clone().unwrap_or_default();
    platforms
        .patch(&name, &pp, &Patch::Apply(platform))
        .await
        .map_err(|e| apply_err(format!("Platform {NAMESPACE}/{name}"), kube_error(&e)))?;
    note(&format!("{cluster}: applied Platform {NAMESPACE}/{name}"));

    let Some(wait) = wait_manager else {
        return Ok(None);
    };
    note(&format!(
        "{cluster}: waiting up to {}s for the Lifecycle Manager to report",
        wait.as_secs()
    ));
    let deadline = Instant::now() + wait;
    loop {
        if let Ok(p) = platforms.get_status(&name).await
            && p.status.and_then(|s| s.last_reconciled).is_some()
        {
            note(&format!("{cluster}: the Lifecycle Manager reported"));
            return Ok(Some(true));
        }
        if Instant::now() >= deadline {
            note(&format!(
                "{cluster}: the Lifecycle Manager has not reported within {}s; check `kubectl -n {NAMESPACE} get pods`",
                wait.as_secs()
            ));
            return Ok(Some(false));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn apply_dynamic(
    client: &kube::Client,
    obj: &DynamicObject,
    pp: &PatchParams,
) -> Result<(), (String, String)> {
    let types = obj.types.clone().unwrap_or_default();
    let name = obj.metadata.name.clone().unwrap_or_default();
    let what = format!("{} {name}", types.kind);
    let gvk = GroupVersionKind::try_from(&types).map_err(|e| (what.clone(), e.to_string()))?;
    let (ar, caps) = kube::discovery::pinned_kind(client, &gvk)
        .await
        .map_err(|e| (what.clone(), kube_error(&e)))?;
    let api: Api<DynamicObject> = match caps.scope {
        kube::discovery::Scope::Namespaced => {
            let ns = obj.metadata.namespace.as_deref().unwrap_or(NAMESPACE);
            Api::namespaced_with(client.clone(), ns, &ar)
        }
        kube::discovery::Scope::Cluster => Api::all_with(client.clone(), &ar),
    };
    let obj = with_default_protocols(obj);
    api.patch(&name, pp, &Patch::Apply(&obj))
        .await
        .map_err(|e| (what, kube_error(&e)))?;
    Ok(())
}

/// Server-side apply keys Service and container ports by (port, protocol) and, on API servers
/// before 1.26, refuses a port without `protocol` instead of defaulting it; write the default.
fn with_default_protocols(obj: &DynamicObject) -> DynamicObject {
    let mut obj = obj.clone();
    let fill = |ports: Option<&mut serde_json::Value>| {
        if let Some(ports) = ports.and_then(|p| p.as_array_mut()) {
            for port in ports.iter_mut().filter_map(|p| p.as_object_mut()) {
                port.entry("protocol")
                    .or_insert_with(|| serde_json::Value::from("TCP"));
            }
        }
    };
    let kind = obj
        .types
        .as_ref()
        .map(|t| t.kind.clone())
        .unwrap_or_default();
    match kind.as_str() {
        "Service" => fill(obj.data.pointer_mut("/spec/ports")),
        "Deployment" | "StatefulSet" | "DaemonSet" => {
            if let Some(containers) = obj
                .data
                .pointer_mut("/spec/template/spec/containers")
                .and_then(|c| c.as_array_mut())
            {
                for c in containers {
                    fill(c.get_mut("ports"));
                }
            }
        }
        _ => {}
    }
    obj
}

/// The API server's own message, without the client's debug dump around it.
fn kube_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => format!("{} ({})", status.message, status.code),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODULE_KC: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: k3s\n  cluster:\n    server: https://192.0.2.10:6443\n    certificate-authority-data: Q0E=\ncontexts:\n- name: default\n  context:\n    cluster: k3s\n    user: admin\ncurrent-context: default\nusers:\n- name: admin\n  user:\n    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n";

    #[test]
    fn rename_kubeconfig_names_context_by_cluster() {
        let kc = rename_kubeconfig("hz-fsn-rtz-prod", MODULE_KC).expect("rename");
        assert_eq!(kc.current_context.as_deref(), Some("hz-fsn-rtz-prod"));
        assert_eq!(kc.contexts[0].name, "hz-fsn-rtz-prod");
        let ctx = kc.contexts[0].context.as_ref().expect("ctx");
        assert_eq!(ctx.cluster, "hz-fsn-rtz-prod");
        assert_eq!(ctx.user.as_deref(), Some("hz-fsn-rtz-prod-admin"));
        assert_eq!(
            kc.clusters[0]
                .cluster
                .as_ref()
                .and_then(|c| c.server.clone()),
            Some("https://192.0.2.10:6443".into())
        );
    }

    #[test]
    fn rename_kubeconfig_without_context_is_explained() {
        let err = rename_kubeconfig("hz-fsn-rtz-prod", "apiVersion: v1\nkind: Config\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "cluster hz-fsn-rtz-prod: the kubeconfig output is not a kubeconfig: it has no context"
        );
    }

    #[test]
    fn merge_into_replaces_same_names_and_keeps_others() {
        let new = rename_kubeconfig("hz-fsn-rtz-prod", MODULE_KC).expect("rename");
        let mut old = new.clone();
        old.clusters[0].cluster.as_mut().expect("c").server = Some("https://old:6443".into());
        old.contexts.push(NamedContext {
            name: "other".into(),
            context: None,
            other: BTreeMap::new(),
        });
        old.current_context = Some("other".into());
        let merged = merge_into(old, &new);
        assert_eq!(merged.clusters.len(), 1);
        assert_eq!(
            merged.clusters[0]
                .cluster
                .as_ref()
                .and_then(|c| c.server.clone()),
            Some("https://192.0.2.10:6443".into())
        );
        assert_eq!(merged.contexts.len(), 2);
        assert_eq!(merged.current_context.as_deref(), Some("other"));
    }

    #[test]
    fn manage_command_lists_every_context_and_kubeconfig() {
        assert_eq!(
            manage_command(
                &["hz-fsn-rtz-prod".into(), "hz-hel-rtz-prod".into()],
                Some(Path::new("/s/runs/abc/kubeconfig"))
            ),
            "openova tui manage --context hz-fsn-rtz-prod --context hz-hel-rtz-prod --kubeconfig /s/runs/abc/kubeconfig"
        );
    }

    #[test]
    fn platform_resource_carries_regions_and_components() {
        let p = platform_resource(&PlatformConfig::example());
        assert_eq!(p.metadata.namespace.as_deref(), Some(NAMESPACE));
        assert_eq!(p.metadata.name.as_deref(), Some("acme"));
        let clusters: Vec<&str> = p.spec.regions.iter().map(|r| r.cluster.as_str()).collect();
        assert_eq!(clusters, vec!["hz-fsn-rtz-prod", "hz-hel-rtz-prod"]);
        let names: Vec<&str> = p.spec.components.iter().map(|c| c.name.as_str()).collect();
        let mandatory: Vec<&str> = crate::catalog::embedded()
            .components()
            .iter()
            .filter(|c| c.category == crate::domain::catalog::Category::Mandatory)
            .map(|c| c.name.as_str())
            .collect();
        assert!(!mandatory.is_empty());
        for m in &mandatory {
            assert!(names.contains(m), "mandatory {m} missing from {names:?}");
        }
        for chosen in &PlatformConfig::example().components {
            assert!(names.contains(&chosen.as_str()), "{chosen} missing");
        }
        let unique: std::collections::BTreeSet<&&str> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "no name twice: {names:?}");
        assert!(p.spec.catalog.is_none());
    }

    #[test]
    fn platform_resource_airgap_catalog_configmap_reaches_the_platform() {
        let mut config = PlatformConfig::example();
        config.airgap = Some(crate::domain::platform::Airgap {
            provider_mirror: "/srv/tofu-providers".into(),
            registry_mirror: "https://registry.example.internal".into(),
            catalog_configmap: Some("openova-catalog".into()),
            artifacts: None,
            artifact_table: None,
        });
        let p = platform_resource(&config);
        assert_eq!(
            p.spec.catalog.and_then(|c| c.config_map).as_deref(),
            Some("openova-catalog")
        );
    }
}
