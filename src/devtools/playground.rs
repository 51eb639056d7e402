//! `openova playground`: owns the local try-out environment — a real etcd and kube-apiserver on
//! loopback, the Platform and Component CRDs, the Lifecycle Manager, the helm-controller
//! stand-in and a seeded Platform — and its clean shutdown on Ctrl-C.
//!
//! It exists so that the console can be tried, demonstrated and taught without a cloud account.
//! Everything it creates lives in one private temporary directory that is removed on exit.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use color_eyre::eyre::WrapErr as _;
use kube::Api;
use kube::api::PostParams;

use crate::catalog::Catalog;
use crate::cmd::CmdResult;
use crate::crd::{Platform, consts};
use crate::domain::catalog::display_version;
use crate::manager::delivery::flux;
use crate::manager::stand_in::StandIn;
use crate::testenv::{ApiServer, Binaries};

/// Name of the seeded Platform (the organization of the seed README).
pub const PLATFORM_NAME: &str = "acme-corp";

/// Arguments of `openova playground`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlaygroundArgs {
    /// Components the seeded Platform selects; the manager adds what they require.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "NAME,...",
        default_value = "cilium,grafana,cnpg"
    )]
    pub components: Vec<String>,
    /// Releases the stand-in reports as failed, as NAME@VERSION (e.g. cilium@1.16.5): upgrading
    /// to one shows the automatic rollback and its alert.
    #[arg(long, value_delimiter = ',', value_name = "NAME@VERSION,...")]
    pub fail_versions: Vec<String>,
    /// How many of the listed components start one version behind the newest, so the console
    /// has upgrades to offer.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub behind: usize,
    /// Kubeconfig context (and cluster name of the Platform's region).
    #[arg(long, default_value = "hz-fsn-rtz-prod", value_name = "NAME")]
    pub context: String,
    /// Milliseconds the stand-in takes before it reports a release, so installs can be watched.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub release_delay_ms: u64,
}

/// What is wrong with the playground's arguments, or what failed while starting it.
#[derive(Debug, thiserror::Error)]
pub enum PlaygroundError {
    #[error("--components: `{name}` is not in the catalog (see `openova catalog list`)")]
    UnknownComponent { name: String },
    #[error("--components: give at least one component")]
    NoComponents,
    #[error("--fail-versions: `{value}` must be NAME@VERSION, e.g. cilium@1.16.5")]
    FailVersionSyntax { value: String },
    #[error("--fail-versions: {name} has no version {version} in the catalog (known: {known})")]
    UnknownVersion {
        name: String,
        version: String,
        known: String,
    },
    #[error(
        "--context: `{name}` must be 1-63 lowercase letters, digits and '-', starting with a \
         letter (a cluster name such as hz-fsn-rtz-prod)"
    )]
    BadContext { name: String },
    #[error("could not write the playground kubeconfig {path}: {source}")]
    Kubeconfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not read the API server's kubeconfig: {0}")]
    ReadKubeconfig(#[source] kube::config::KubeconfigError),
    #[error("Kubernetes API call failed while {doing}: {source}")]
    Api {
        doing: &'static str,
        #[source]
        source: kube::Error,
    },
}

/// One component of the seeded Platform and the version it starts at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeded {
    pub name: String,
    pub version: semver::Version,
    /// The newest version, when the component starts behind it.
    pub upgrade_to: Option<semver::Version>,
}

/// The checked plan of a playground: what to seed and which releases fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub components: Vec<Seeded>,
    /// Releases the stand-in fails (`NAME@CHART-VERSION`), with the NAME@VERSION they came from.
    pub failing: Vec<(String, String)>,
}

/// Checks the arguments against `catalog` before anything is started.
pub fn plan(args: &PlaygroundArgs, catalog: &Catalog) -> Result<Plan, PlaygroundError> {
    if !valid_context(&args.context) {
        return Err(PlaygroundError::BadContext {
            name: args.context.clone(),
        });
    }
    let mut seen = BTreeSet::new();
    let mut components = Vec::new();
    let mut behind_left = args.behind;
    for raw in &args.components {
        let name = raw.trim();
        if name.is_empty() || !seen.insert(name.to_string()) {
            continue;
        }
        let spec = catalog
            .get(name)
            .ok_or_else(|| PlaygroundError::UnknownComponent {
                name: name.to_string(),
            })?;
        let latest = spec.latest().version.clone();
        // Versions are kept oldest first, so the one before the last is one release behind.
        let seeded = if behind_left > 0 && spec.versions.len() > 1 {
            behind_left -= 1;
            Seeded {
                name: name.to_string(),
                version: spec.versions[spec.versions.len() - 2].version.clone(),
                upgrade_to: Some(latest),
            }
        } else {
            Seeded {
                name: name.to_string(),
                version: latest,
                upgrade_to: None,
            }
        };
        components.push(seeded);
    }
    if components.is_empty() {
        return Err(PlaygroundError::NoComponents);
    }
    let mut failing = Vec::new();
    for raw in &args.fail_versions {
        let value = raw.trim();
        if value.is_empty() {
            continue;
        }
        let (name, version) =
            value
                .split_once('@')
                .ok_or_else(|| PlaygroundError::FailVersionSyntax {
                    value: value.to_string(),
                })?;
        let spec = catalog
            .get(name)
            .ok_or_else(|| PlaygroundError::UnknownComponent {
                name: name.to_string(),
            })?;
        let entry = crate::domain::catalog::parse_version(version)
            .ok()
            .and_then(|v| spec.version(&v))
            .ok_or_else(|| PlaygroundError::UnknownVersion {
                name: name.to_string(),
                version: version.to_string(),
                known: spec
                    .versions
                    .iter()
                    .map(|v| display_version(&v.version))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        failing.push((
            format!("{name}@{}", entry.chart_version),
            format!("{name}@{}", display_version(&entry.version)),
        ));
    }
    Ok(Plan {
        components,
        failing,
    })
}

fn valid_context(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The seeded Platform: the seed README's organization with one region named after the context.
pub fn platform(plan: &Plan, context: &str) -> Result<Platform, serde_json::Error> {
    let components: Vec<serde_json::Value> = plan
        .components
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name,
                "version": display_version(&c.version),
                "enabled": true,
            })
        })
        .collect();
    let location = context.split('-').nth(1).unwrap_or("fsn");
    serde_json::from_value(serde_json::json!({
        "apiVersion": "openova.io/v1alpha1",
        "kind": "Platform",
        "metadata": { "name": PLATFORM_NAME, "namespace": consts::NAMESPACE },
        "spec": {
            "organization": { "name": PLATFORM_NAME, "domain": "acme.io" },
            "regions": [ { "cluster": context, "location": location } ],
            "components": components,
        }
    }))
}

/// Writes a kubeconfig for the server's admin user whose only context (and cluster) is named
/// `context`, like the kubeconfig a real hand-over leaves, with the Platform namespace preset.
fn write_kubeconfig(server: &ApiServer, context: &str) -> Result<PathBuf, PlaygroundError> {
    use kube::config::Kubeconfig;
    let mut kc =
        Kubeconfig::read_from(server.kubeconfig_path()).map_err(PlaygroundError::ReadKubeconfig)?;
    let admin = crate::testenv::ADMIN_CONTEXT;
    kc.auth_infos.retain(|a| a.name == admin);
    for cluster in &mut kc.clusters {
        cluster.name = context.to_string();
    }
    kc.contexts.retain(|c| c.name == admin);
    for named in &mut kc.contexts {
        named.name = context.to_string();
        if let Some(ctx) = named.context.as_mut() {
            ctx.cluster = context.to_string();
            ctx.namespace = Some(consts::NAMESPACE.to_string());
        }
    }
    kc.current_context = Some(context.to_string());
    let path = server.work_dir().join("playground.kubeconfig");
    let text = serde_json::to_string_pretty(&kc).map_err(|e| PlaygroundError::Kubeconfig {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    write_private(&path, text.as_bytes()).map_err(|source| PlaygroundError::Kubeconfig {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

/// `openova playground`.
pub fn run(args: PlaygroundArgs) -> CmdResult {
    let plan = plan(&args, crate::catalog::embedded())?;
    let _log_guard = crate::telemetry::init(crate::telemetry::LogTarget::File);
    let bins = Binaries::locate().wrap_err(
        "the playground runs a real etcd and kube-apiserver on this machine, built once from \
         Debian's sources (as root, in a checkout of openova)",
    )?;
    eprintln!("Starting etcd and kube-apiserver on loopback …");
    let server = ApiServer::launch_with(bins).wrap_err("starting the local API server")?;
    eprintln!("Installing the Platform, Component and delivery CRDs …");
    server.install_crds().wrap_err("installing the CRDs")?;
    server
        .install_delivery_crds()
        .wrap_err("installing the delivery CRDs")?;
    server
        .kubectl_run(&["create", "namespace", consts::NAMESPACE], None)
        .wrap_err("creating the platform namespace")?;
    let kubeconfig = write_kubeconfig(&server, &args.context)?;

    let runtime = tokio::runtime::Runtime::new().wrap_err("starting the async runtime")?;
    let outcome = runtime.block_on(serve(&server, &args, &plan, &kubeconfig));
    // Tasks still holding clients must end before the API server goes away.
    runtime.shutdown_timeout(Duration::from_secs(5));
    drop(server);
    outcome?;
    eprintln!("Playground stopped: API server, etcd and manager ended; its files are removed.");
    Ok(ExitCode::SUCCESS)
}

async fn serve(
    server: &ApiServer,
    args: &PlaygroundArgs,
    plan: &Plan,
    kubeconfig: &Path,
) -> color_eyre::Result<()> {
    let client = server.admin_client().await?;
    let seed = platform(plan, &args.context).wrap_err("building the seeded Platform")?;
    Api::<Platform>::namespaced(client.clone(), consts::NAMESPACE)
        .create(&PostParams::default(), &seed)
        .await
        .map_err(|source| PlaygroundError::Api {
            doing: "creating the seeded Platform",
            source,
        })?;

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    // Ctrl-C in a terminal reaches etcd and the API server too (same process group), so the
    // manager's last Lease write may fail while stopping; that is expected, not news.
    let stopping = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let manager = tokio::spawn({
        let stopping = stopping.clone();
        let client = client.clone();
        let identity = format!("playground-{}", std::process::id());
        async move {
            let settings = crate::manager::Settings::new(consts::NAMESPACE, &identity);
            let metrics = crate::manager::Metrics::new();
            let shutdown = async move {
                let _ = stop_rx.await;
            };
            if let Err(error) =
                crate::manager::run_manager(client, settings, metrics, shutdown).await
            {
                if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                    tracing::debug!(%error, "playground manager ended while stopping");
                } else {
                    tracing::error!(%error, "playground manager ended");
                    eprintln!("The Lifecycle Manager stopped: {error}");
                }
            }
        }
    });
    let stand_in = StandIn {
        failing_versions: plan.failing.iter().map(|(c, _)| c.clone()).collect(),
        delay: Duration::from_millis(args.release_delay_ms),
    };
    let helm = tokio::spawn(stand_in.run(
        client.clone(),
        flux::helm_release_resource(),
        Some(consts::NAMESPACE.to_string()),
    ));

    print_ready(server, args, plan, kubeconfig)?;

    wait_for_stop_signal().await;
    eprintln!("Stopping the playground …");
    stopping.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = stop_tx.send(());
    helm.abort();
    if tokio::time::timeout(Duration::from_secs(10), manager)
        .await
        .is_err()
    {
        tracing::warn!("manager did not stop within 10 s; its task is dropped");
    }
    Ok(())
}

fn print_ready(
    server: &ApiServer,
    args: &PlaygroundArgs,
    plan: &Plan,
    kubeconfig: &Path,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let listed: Vec<String> = plan
        .components
        .iter()
        .map(|c| format!("{} {}", c.name, display_version(&c.version)))
        .collect();
    writeln!(
        out,
        "Playground ready: Platform {PLATFORM_NAME} in namespace {ns} on cluster {ctx} ({url})",
        ns = consts::NAMESPACE,
        ctx = args.context,
        url = server.base_url(),
    )?;
    writeln!(
        out,
        "  selected: {} (the manager adds what they require)",
        listed.join(", ")
    )?;
    let upgrades: Vec<String> = plan
        .components
        .iter()
        .filter_map(|c| {
            c.upgrade_to.as_ref().map(|to| {
                format!(
                    "{} {} → {}",
                    c.name,
                    display_version(&c.version),
                    display_version(to)
                )
            })
        })
        .collect();
    if !upgrades.is_empty() {
        writeln!(
            out,
            "  {} upgrade{} available: {}",
            upgrades.len(),
            if upgrades.len() == 1 { "" } else { "s" },
            upgrades.join(", ")
        )?;
    }
    if !plan.failing.is_empty() {
        let names: Vec<&str> = plan.failing.iter().map(|(_, n)| n.as_str()).collect();
        writeln!(
            out,
            "  releases that fail (rolled back automatically): {}",
            names.join(", ")
        )?;
    }
    writeln!(out)?;
    writeln!(out, "Try the console in another terminal:")?;
    writeln!(out)?;
    writeln!(
        out,
        "  {} tui manage --kubeconfig {} --context {}",
        program_name(),
        kubeconfig.display(),
        args.context
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Press Ctrl-C here to stop the playground; it removes everything it made."
    )?;
    out.flush()
}

/// `openova` when that name on PATH is this program, else this program's path, so the printed
/// command runs as pasted (e.g. after `cargo run -- playground`).
fn program_name() -> String {
    let me = std::env::current_exe().and_then(std::fs::canonicalize).ok();
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("openova"))
            .find(|p| p.is_file())
            .and_then(|p| std::fs::canonicalize(p).ok())
    });
    match (me, on_path) {
        (Some(me), Some(found)) if me == found => "openova".to_string(),
        (Some(me), _) => me.display().to_string(),
        (None, _) => "openova".to_string(),
    }
}

async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut hup = signal(SignalKind::hangup()).ok();
    let recv = |s: &mut Option<tokio::signal::unix::Signal>| {
        let s = s.take();
        async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = recv(&mut term) => {}
        _ = recv(&mut hup) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn args(extra: &[&str]) -> PlaygroundArgs {
        #[derive(clap::Parser)]
        struct Wrap {
            #[command(flatten)]
            a: PlaygroundArgs,
        }
        let mut argv = vec!["playground"];
        argv.extend_from_slice(extra);
        Wrap::try_parse_from(argv).expect("arguments parse").a
    }

    #[test]
    fn plan_defaults_two_components_behind_newest() {
        let p = plan(&args(&[]), crate::catalog::embedded()).expect("plan");
        let behind: Vec<&str> = p
            .components
            .iter()
            .filter(|c| c.upgrade_to.is_some())
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(behind, ["cilium", "grafana"]);
        let cilium = &p.components[0];
        assert!(cilium.version < *cilium.upgrade_to.as_ref().expect("upgrade"));
        assert!(p.components[2].upgrade_to.is_none(), "cnpg at its newest");
    }

    #[test]
    fn plan_fail_version_maps_to_wrapper_chart_version() {
        let p = plan(
            &args(&["--fail-versions", "cilium@1.16.5"]),
            crate::catalog::embedded(),
        )
        .expect("plan");
        let chart = crate::catalog::embedded()
            .get("cilium")
            .and_then(|c| c.version(&semver::Version::new(1, 16, 5)))
            .expect("catalog has cilium 1.16.5")
            .chart_version
            .to_string();
        assert_eq!(
            p.failing,
            vec![(format!("cilium@{chart}"), "cilium@v1.16.5".to_string())]
        );
    }

    #[test]
    fn plan_unknown_component_names_the_flag_and_the_name() {
        let err = plan(
            &args(&["--components", "cilium,nosuch"]),
            crate::catalog::embedded(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "--components: `nosuch` is not in the catalog (see `openova catalog list`)"
        );
    }

    #[test]
    fn plan_unknown_fail_version_lists_the_known_ones() {
        let err = plan(
            &args(&["--fail-versions", "cilium@9.9.9"]),
            crate::catalog::embedded(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("cilium has no version 9.9.9"), "{err}");
        assert!(err.contains("v1.16.5"), "{err}");
        let err = plan(
            &args(&["--fail-versions", "cilium"]),
            crate::catalog::embedded(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("must be NAME@VERSION"), "{err}");
    }

    #[test]
    fn plan_context_with_capitals_is_refused() {
        let err = plan(
            &args(&["--context", "Prod_Cluster"]),
            crate::catalog::embedded(),
        )
        .unwrap_err();
        assert!(matches!(err, PlaygroundError::BadContext { .. }));
    }

    #[test]
    fn platform_seed_names_the_region_after_the_context() {
        let p = plan(&args(&[]), crate::catalog::embedded()).expect("plan");
        let platform = platform(&p, "hz-fsn-rtz-prod").expect("platform");
        let json = serde_json::to_value(&platform).expect("serialize");
        assert_eq!(json["spec"]["regions"][0]["cluster"], "hz-fsn-rtz-prod");
        assert_eq!(json["spec"]["regions"][0]["location"], "fsn");
        assert_eq!(json["spec"]["components"][0]["name"], "cilium");
    }
}
