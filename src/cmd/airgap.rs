//! `openova airgap pin|bundle|verify|serve`: pin, prepare, check and serve what a site without
//! internet access needs at first boot (see docs/airgap.md).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Subcommand};
use color_eyre::eyre::{WrapErr, eyre};

use crate::airgap::artifacts::ArtifactTable;
use crate::airgap::bundle::{self, BundleOptions, DEFAULT_PROVIDER_REGISTRY};
use crate::airgap::pin;
use crate::cmd::CmdResult;
use crate::domain::platform::PlatformConfig;
use crate::provision::modules;

#[derive(Debug, Subcommand)]
pub enum AirgapCmd {
    /// Pin the artifact table on a connected host: every sha256 taken from the real file and
    /// cross-checked against the checksum upstream publishes, written to a new table file.
    ///
    /// Downloads every node first-boot file of the table (--table, else the built-in one) from
    /// its `upstream` URL: the k3s binary and air-gap images (amd64 and arm64), the k3s install
    /// script, the Cilium chart and the Flux install manifest. Files are hashed as they stream
    /// and not kept. Each sha256 is cross-checked against the checksum upstream publishes (the
    /// table's checksum_url: k3s's sha256sum-<arch>.txt, the digest in the Cilium Helm
    /// repository's index.yaml); an entry the table already pins must match its download and
    /// that checksum too. Any mismatch is refused with both values and where each comes from,
    /// and nothing is written. Where upstream publishes no checksum (the k3s install script,
    /// Flux's install.yaml) the computed value is recorded, marked in sha256_source and printed
    /// as COMPUTED, not cross-checked: review those files.
    ///
    /// The complete table goes to --out (written atomically; an existing file is replaced only
    /// with --force); the built-in table is never changed. Then set `[airgap] artifact_table`
    /// in platform.toml to it and run `openova airgap bundle --table FILE`. Downloads honour
    /// HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY.
    Pin(PinArgs),
    /// Download everything a site without egress needs into a directory (on a connected host).
    ///
    /// Writes the node first-boot files of the artifact table (k3s binary, air-gap images and
    /// installer, the Cilium chart, the Flux manifests; each checked against its pinned sha256),
    /// the wrapper chart of every selected component (checked against its registry digest),
    /// the OpenTofu providers of the selected modules in the provider-mirror layout, images.txt
    /// (every container image of the selected components), manifest.json (every file with its
    /// size and sha256) and a README. Re-running continues an interrupted bundle: finished
    /// files are re-checked, not fetched again, and partial ones resume. A file whose checksum
    /// is wrong is deleted and the command stops with its name.
    Bundle(BundleArgs),
    /// Re-check a bundle against its manifest.json: every file present, same size, same sha256.
    ///
    /// Exit code 0 when intact, 1 with one line per missing or changed file otherwise.
    Verify {
        /// The bundle directory.
        dir: PathBuf,
    },
    /// Serve a bundle to the nodes as plain static files over HTTP (read-only, one log line per
    /// request on stdout). Ctrl-C stops.
    ///
    /// Set `[airgap] artifacts = "http://<ADDR>"` in platform.toml to point the nodes here.
    /// Only GET and HEAD are answered, nothing outside the directory is served and there are no
    /// directory listings. Plain HTTP is enough: each node checks every file's sha256.
    Serve {
        /// The bundle directory.
        dir: PathBuf,
        /// Address and port to listen on, e.g. 10.0.1.4:8080 (the bastion's private address).
        #[arg(long, value_name = "ADDR")]
        listen: SocketAddr,
    },
}

#[derive(Debug, Args)]
pub struct PinArgs {
    /// File to write the pinned table to (JSON, the format of the modules'
    /// shared/artifacts.json).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Table to pin instead of the built-in one (e.g. a site's table for another k3s release).
    #[arg(long, value_name = "FILE")]
    pub table: Option<PathBuf>,
    /// Replace --out if it exists (it may be the --table file itself).
    #[arg(long)]
    pub force: bool,
    /// No progress output (the result is still printed).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// Directory to write the bundle into (created; an existing bundle there is completed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// platform.toml whose provider and components are bundled (the mandatory set, its chosen
    /// components and their dependencies). Without it: every provider module and the whole
    /// catalog.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Bundle the whole catalog even with --config.
    #[arg(long)]
    pub all_components: bool,
    /// OpenTofu provider platform to bundle, repeatable (the bastion's).
    #[arg(
        long = "platform",
        value_name = "OS_ARCH",
        default_value = "linux_amd64"
    )]
    pub platforms: Vec<String>,
    /// Artifact table to use instead of the built-in one (same JSON format as the modules'
    /// shared/artifacts.json), e.g. the one `openova airgap pin --out FILE` wrote.
    /// Default: `[airgap] artifact_table` of --config, else the built-in table.
    #[arg(long, value_name = "FILE")]
    pub table: Option<PathBuf>,
    /// OpenTofu provider registry to download providers from.
    #[arg(long, value_name = "URL", default_value = DEFAULT_PROVIDER_REGISTRY)]
    pub provider_registry: String,
    /// Registry to pull the wrapper charts from instead of the catalog's (`https://host[:port]`,
    /// e.g. a pull-through cache of the connected host).
    #[arg(long, value_name = "URL")]
    pub chart_registry: Option<String>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(cmd: AirgapCmd) -> CmdResult {
    match cmd {
        AirgapCmd::Pin(args) => run_pin(args),
        AirgapCmd::Bundle(args) => run_bundle(args),
        AirgapCmd::Verify { dir } => run_verify(&dir),
        AirgapCmd::Serve { dir, listen } => run_serve(dir, listen),
    }
}

fn load_config(path: &Path) -> color_eyre::Result<PlatformConfig> {
    let text = std::fs::read_to_string(path)
        .wrap_err_with(|| format!("cannot read {}", path.display()))?;
    let config = PlatformConfig::parse(&text).map_err(|e| eyre!("{}: {e}", path.display()))?;
    let problems = config.validate();
    if let Some(first) = problems.first() {
        return Err(eyre!(
            "{}: {first} ({} problem(s); `openova config validate` lists them)",
            path.display(),
            problems.len()
        ));
    }
    Ok(config)
}

/// The table at `path`, else the built-in one.
fn read_table(path: Option<&Path>) -> color_eyre::Result<ArtifactTable> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .wrap_err_with(|| format!("cannot read {}", p.display()))?;
            Ok(ArtifactTable::parse(&text).map_err(|e| eyre!("{}: {e}", p.display()))?)
        }
        None => Ok(ArtifactTable::builtin()?),
    }
}

fn run_pin(args: PinArgs) -> CmdResult {
    if args.out.exists() && !args.force {
        return Err(eyre!(
            "{} exists; choose another --out or add --force to replace it",
            args.out.display()
        ));
    }
    let table = read_table(args.table.as_deref())?;
    let pinned = pin::pin(&table, !args.quiet)?;
    let text = serde_json::to_string_pretty(&pinned.table)? + "\n";
    // What is written must read back as a complete table.
    ArtifactTable::parse(&text)?.check_pinned()?;
    bundle::write_atomic(&args.out, text.as_bytes())?;
    for e in &pinned.entries {
        println!("{}", e.report());
    }
    let out = std::path::absolute(&args.out).unwrap_or_else(|_| args.out.clone());
    let computed = pinned.computed_only();
    println!(
        "wrote {}: {} entries pinned",
        out.display(),
        pinned.entries.len()
    );
    if !computed.is_empty() {
        println!(
            "review before use: {} {} computed from the download only (upstream publishes no checksum)",
            computed.join(", "),
            if computed.len() == 1 { "was" } else { "were" }
        );
    }
    println!("next:");
    println!(
        "  bundle:         openova airgap bundle --out DIR --table {} --config platform.toml",
        out.display()
    );
    println!(
        "  platform.toml:  [airgap] artifact_table = \"{}\"",
        out.display()
    );
    println!(
        "                  (on the bastion: the copy the bundle carries, DIR/{})",
        crate::airgap::artifacts::TABLE_FILE
    );
    Ok(ExitCode::SUCCESS)
}

fn run_bundle(args: BundleArgs) -> CmdResult {
    let started = Instant::now();
    let config = args.config.as_deref().map(load_config).transpose()?;
    let table_path = args.table.clone().or_else(|| {
        config
            .as_ref()
            .and_then(|c| c.airgap.as_ref())
            .and_then(|a| a.artifact_table.as_ref())
            .map(PathBuf::from)
    });
    let table = read_table(table_path.as_deref())?;
    let catalog = crate::catalog::embedded();
    let (components, providers) = match &config {
        Some(config) => {
            let request = (!args.all_components).then_some(config.components.as_slice());
            (
                bundle::select_components(catalog, request)?,
                vec![config.provider],
            )
        }
        None => (
            bundle::select_components(catalog, None)?,
            modules::providers(),
        ),
    };
    if let Some(c) = &args.chart_registry
        && !(c.starts_with("https://") || c.starts_with("http://"))
    {
        return Err(eyre!("--chart-registry {c:?} must be an http(s):// URL"));
    }
    let opts = BundleOptions {
        out: args.out.clone(),
        table,
        components,
        providers,
        platforms: args.platforms.clone(),
        provider_registry: args.provider_registry.clone(),
        chart_registry: args.chart_registry.clone(),
        progress: !args.quiet,
    };
    let manifest = bundle::bundle(&opts, catalog)?;
    let total: u64 = manifest.files.iter().map(|f| f.size).sum();
    println!(
        "bundle {}: {} files, {} bytes ({:.1} MiB), {} components, in {:.1} s",
        args.out.display(),
        manifest.files.len(),
        total,
        total as f64 / (1024.0 * 1024.0),
        manifest.components.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_verify(dir: &Path) -> CmdResult {
    let (manifest, problems) = bundle::verify(dir)?;
    if problems.is_empty() {
        let total: u64 = manifest.files.iter().map(|f| f.size).sum();
        println!(
            "{}: intact, {} files, {} bytes checked",
            dir.display(),
            manifest.files.len(),
            total
        );
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        println!("{}: {}", p.path, p.message);
    }
    println!(
        "{}: {} of {} files missing or changed",
        dir.display(),
        problems.len(),
        manifest.files.len()
    );
    Ok(ExitCode::FAILURE)
}

fn run_serve(dir: PathBuf, listen: SocketAddr) -> CmdResult {
    if !dir.join(bundle::MANIFEST_FILE).is_file() {
        return Err(eyre!(
            "{} has no {}: not a bundle (write one with `openova airgap bundle`)",
            dir.display(),
            bundle::MANIFEST_FILE
        ));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let log: crate::airgap::serve::RequestLog = Arc::new(|line: &str| println!("{line}"));
        let (addr, fut) = crate::airgap::serve::serve(dir.clone(), listen, log)
            .await
            .wrap_err_with(|| format!("cannot listen on {listen}"))?;
        println!(
            "serving {} on http://{addr} (read-only); Ctrl-C stops",
            dir.display()
        );
        tokio::select! {
            () = fut => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok(ExitCode::SUCCESS)
    })
}
