//! The command line: one binary, several jobs. Each subcommand's arguments and handler live with
//! the driver that owns it (`cmd::*`, `tui::*`, `manager`, `devtools::*`); this module only wires
//! them together, and renders the man pages from the same definitions (`man`).

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::cmd::CmdResult;

pub mod man;

#[derive(Debug, Parser)]
#[command(
    name = "openova",
    version,
    about = "Bring up and run the OpenOva Kubernetes platform from a terminal",
    long_about = "Bring up and run the OpenOva Kubernetes platform from a terminal.\n\n\
        Start with `openova tui bootstrap` to configure and provision a platform, then run it with \
        `openova tui manage --context <cluster>`. Local state (drafts, provisioning runs, logs) lives \
        in ~/.local/state/openova (override with OPENOVA_STATE_DIR). Secrets are kept in the OS \
        keyring or in memory only, never on disk.\n\nLogging: OPENOVA_LOG=debug (written to the state \
        directory's logs/, never to the terminal while a screen is shown).",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Full-screen terminal interfaces: the bootstrap wizard and the day-2 console.
    #[command(subcommand)]
    Tui(TuiCommand),
    /// Provision without a screen, from a platform.toml (for CI, scripts and approvals).
    #[command(subcommand)]
    Bootstrap(crate::cmd::bootstrap::BootstrapCmd),
    /// Provisioning runs recorded on this machine.
    #[command(subcommand)]
    Runs(crate::cmd::runs::RunsCmd),
    /// Keyring entries for the `keyring:` references of a platform.toml (values from stdin or
    /// a prompt without echo, never from arguments).
    #[command(subcommand)]
    Secrets(crate::cmd::secrets::SecretsCmd),
    /// Run the in-cluster Lifecycle Manager (controllers for Platform and Component).
    Manager(crate::manager::ManagerArgs),
    /// Print the Platform and Component CustomResourceDefinitions as YAML.
    Crds(crate::cmd::crds::CrdsArgs),
    /// Browse the embedded component catalog.
    #[command(subcommand)]
    Catalog(crate::cmd::catalog::CatalogCmd),
    /// Validate or generate platform.toml files.
    #[command(subcommand)]
    Config(crate::cmd::config::ConfigCmd),
    /// Sites without internet access: pin, bundle, verify and serve the first-boot artifacts.
    #[command(subcommand)]
    Airgap(crate::cmd::airgap::AirgapCmd),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to generate completions for.
        shell: clap_complete::Shell,
    },
    /// Print the version and what is embedded (catalog, OpenTofu modules).
    Version,
    /// Try the console locally: a real API server, the manager and a seeded Platform.
    ///
    /// Starts a real etcd and kube-apiserver on loopback, the Platform and Component CRDs, the
    /// Lifecycle Manager, a stand-in for Flux's helm-controller that reports releases as the real
    /// one would, and a seeded Platform `acme-corp`; prints the `openova tui manage` command to
    /// try. Ctrl-C stops everything and removes every file it made.
    ///
    /// Needs etcd (Debian package etcd-server) and the kube-apiserver and kubectl built by
    /// `tests/k8s/build-apiserver.sh` in a checkout of openova (or OPENOVA_K8S_BIN_DIR). Nothing
    /// is downloaded and no real workload runs: releases are simulated. A developer tool: only
    /// in builds with `--features dev-tools`.
    #[cfg(feature = "dev-tools")]
    Playground(crate::devtools::playground::PlaygroundArgs),
    /// Write a man page for every command into a directory.
    #[command(hide = true)]
    Man(crate::cli::man::ManArgs),
    /// Print a generated document (CRD reference, keys) as committed under docs/.
    #[cfg(feature = "dev-tools")]
    #[command(hide = true)]
    Docgen(crate::devtools::docgen::DocgenArgs),
}

#[derive(Debug, Subcommand)]
pub enum TuiCommand {
    /// Six-screen wizard: Organization, Credentials, Provider, Regions, Components, Review.
    Bootstrap(crate::tui::bootstrap::BootstrapArgs),
    /// Day-2 console attached to a cluster's Platform and Component resources.
    Manage(crate::tui::manage::ManageArgs),
}

/// Parse the command line and run it. Errors are printed by color-eyre; the exit code is 1 for
/// a failed command and 2 for a usage error (clap's own).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .display_location_section(false)
        .install();
    match run(cli) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("error: {report:#}");
            ExitCode::FAILURE
        }
    }
}

/// Dispatch a parsed command line.
pub fn run(cli: Cli) -> CmdResult {
    match cli.command {
        Command::Tui(TuiCommand::Bootstrap(args)) => crate::tui::bootstrap::run(args),
        Command::Tui(TuiCommand::Manage(args)) => crate::tui::manage::run(args),
        Command::Bootstrap(cmd) => crate::cmd::bootstrap::run(cmd),
        Command::Runs(cmd) => crate::cmd::runs::run(cmd),
        Command::Secrets(cmd) => crate::cmd::secrets::run(cmd),
        Command::Manager(args) => crate::manager::run(args),
        Command::Crds(args) => crate::cmd::crds::run(args),
        Command::Catalog(cmd) => crate::cmd::catalog::run(cmd),
        Command::Config(cmd) => crate::cmd::config::run(cmd),
        Command::Airgap(cmd) => crate::cmd::airgap::run(cmd),
        #[cfg(feature = "dev-tools")]
        Command::Playground(args) => crate::devtools::playground::run(args),
        Command::Man(args) => crate::cli::man::run(args),
        #[cfg(feature = "dev-tools")]
        Command::Docgen(args) => crate::devtools::docgen::run(args),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "openova", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Version => {
            println!("openova {}", env!("CARGO_PKG_VERSION"));
            let modules: Vec<&str> = crate::provision::modules::providers()
                .into_iter()
                .map(crate::provision::modules::module_dir_name)
                .collect();
            println!(
                "opentofu modules: {} (sha256 {})",
                modules.join(", "),
                &crate::provision::modules::embedded_digest()[..16]
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
