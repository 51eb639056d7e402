//! `openova bootstrap plan|apply|destroy --config platform.toml`: start a provisioning run
//! without a screen and follow it. The run itself is a detached supervisor, so closing the
//! terminal never stops it; Ctrl-C asks, then interrupts OpenTofu gracefully.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use color_eyre::eyre::{WrapErr, bail, eyre};
use secrecy::SecretString;

use crate::cli::CmdResult;
use crate::provision::runner::{SecretEnv, Tofu};
use crate::provision::supervisor::{self, RunOptions, StartRequest};
use crate::store::runs::RunAction;

#[derive(Debug, clap::Subcommand)]
pub enum BootstrapCmd {
    /// Show what would be created (init + plan); changes nothing.
    Plan(BootstrapArgs),
    /// Create or update the infrastructure, then hand the cluster over to the Lifecycle Manager.
    Apply(BootstrapArgs),
    /// Destroy the infrastructure described by the configuration.
    Destroy(BootstrapArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct BootstrapArgs {
    /// The platform configuration (as exported by the wizard or `openova config example`).
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
    /// The OpenTofu executable, when `tofu` is not on PATH.
    #[arg(long, value_name = "PATH")]
    pub tofu: Option<PathBuf>,
    /// Start the run and return at once; follow it later with `openova runs attach ID`.
    #[arg(long)]
    pub detach: bool,
    /// Do not ask before apply or destroy (required when stdin is not a terminal).
    #[arg(long, short)]
    pub yes: bool,
    /// Also merge the new cluster's context into your kubeconfig ($KUBECONFIG or ~/.kube/config).
    #[arg(long)]
    pub merge_kubeconfig: bool,
    /// Do not wait for the Lifecycle Manager to report after the hand-over.
    #[arg(long)]
    pub no_wait_manager: bool,
    /// How long to wait for the Lifecycle Manager to report, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub wait_manager: u64,
    /// Seconds OpenTofu gets to stop after an interrupt before it is terminated.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub interrupt_grace: u64,
}

/// Environment variables that may carry provider or state-backend credentials, per provider.
/// OpenTofu reads these itself (provider-native names) or as `TF_VAR_*` input variables.
fn credential_env_names(provider: &str) -> &'static [&'static str] {
    match provider {
        "hetzner" | "hz" => &["HCLOUD_TOKEN", "TF_VAR_hcloud_token"],
        "huawei" | "huaweicloud" | "hw" => &[
            "HW_ACCESS_KEY",
            "HW_SECRET_KEY",
            "TF_VAR_huawei_access_key",
            "TF_VAR_huawei_secret_key",
        ],
        "oci" => &[
            "TF_VAR_oci_private_key",
            "TF_VAR_oci_fingerprint",
            "OCI_PRIVATE_KEY",
        ],
        _ => &[],
    }
}

/// State-backend credentials (S3-compatible), whatever the provider.
const BACKEND_ENV_NAMES: &[&str] = &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

/// What the launcher needs from platform.toml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFacts {
    pub provider: String,
    pub platform: String,
}

/// Read the provider and a display name from platform.toml; the full validation is the
/// supervisor's job when it writes the workspace, this only has to pick the credentials.
pub fn config_facts(path: &std::path::Path, text: &str) -> color_eyre::Result<ConfigFacts> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| eyre!("{}: {}", path.display(), e.message()))?;
    let provider = doc
        .get("provider")
        .and_then(|p| {
            p.as_str()
                .or_else(|| p.get("name").and_then(|n| n.as_str()))
        })
        .ok_or_else(|| {
            eyre!(
                "{}: field `provider` is missing; it names the cloud (hetzner, huawei or oci)",
                path.display()
            )
        })?
        .to_owned();
    let org = doc
        .get("organization")
        .and_then(|o| {
            o.as_str().map(str::to_owned).or_else(|| {
                o.get("slug")
                    .or_else(|| o.get("name"))
                    .and_then(|n| n.as_str())
                    .map(str::to_owned)
            })
        })
        .unwrap_or_else(|| "platform".into());
    Ok(ConfigFacts {
        platform: format!("{org} ({provider})"),
        provider,
    })
}

/// Collect the credentials for `provider` from the environment. Values never leave this
/// process except through the supervisor's pipe.
pub fn secrets_from_env(provider: &str) -> SecretEnv {
    let mut env = SecretEnv::new();
    for name in credential_env_names(provider)
        .iter()
        .chain(BACKEND_ENV_NAMES)
    {
        if let Ok(v) = std::env::var(name)
            && !v.is_empty()
        {
            env.push(*name, SecretString::from(v));
        }
    }
    env
}

pub fn run(cmd: BootstrapCmd) -> CmdResult {
    let (action, args) = match cmd {
        BootstrapCmd::Plan(a) => (RunAction::Plan, a),
        BootstrapCmd::Apply(a) => (RunAction::Apply, a),
        BootstrapCmd::Destroy(a) => (RunAction::Destroy, a),
    };
    let text = std::fs::read_to_string(&args.config)
        .wrap_err_with(|| format!("reading the configuration {}", args.config.display()))?;
    let facts = config_facts(&args.config, &text)?;
    let secrets = secrets_from_env(&facts.provider);
    if secrets.is_empty() && action != RunAction::Plan {
        let names = credential_env_names(&facts.provider);
        if names.is_empty() {
            bail!(
                "{}: provider `{}` is not one openova provisions (hetzner, huawei, oci)",
                args.config.display(),
                facts.provider
            );
        }
        bail!(
            "no credentials for {} in the environment: set {} (they are handed to OpenTofu through its environment only)",
            facts.provider,
            names.join(" or ")
        );
    }
    // Fail here, in front of the operator, rather than inside the detached run.
    let tofu = Tofu::locate(args.tofu.as_deref())?;
    if action != RunAction::Plan && !args.yes {
        confirm(action, &facts)?;
    }

    let conn = crate::cmd::runs::open_db()?;
    let req = StartRequest {
        action,
        platform: facts.platform.clone(),
        config_toml: text,
        config_path: std::fs::canonicalize(&args.config)
            .ok()
            .map(|p| p.display().to_string()),
        options: RunOptions {
            tofu: Some(tofu.path.clone()),
            interrupt_grace_secs: Some(args.interrupt_grace),
            env: Vec::new(),
            skip_handover: false,
            merge_kubeconfig: args.merge_kubeconfig,
            wait_manager_secs: Some(if args.no_wait_manager {
                0
            } else {
                args.wait_manager
            }),
        },
    };
    let started = supervisor::start(&conn, &req, &secrets)?;
    let id = started.id.clone();
    let mut child = started.child;
    // Reap the supervisor if it ends while we follow, so its PID does not linger as a zombie.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    if args.detach {
        println!("Started {action} run {id} for {}.", facts.platform);
        println!(
            "Follow it with `openova runs attach {id}`; it keeps running if this terminal closes."
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "Started {action} run {id} for {} (workspace {}). Closing this terminal does not stop it; Ctrl-C asks to cancel.",
        facts.platform,
        started.workspace.display()
    );
    let interrupted = install_interrupt_handler();
    let cancel_sent = AtomicBool::new(false);
    let end = crate::cmd::runs::follow(
        &conn,
        &id,
        0,
        &mut |e| crate::cmd::runs::print_event(e, false),
        || {
            if interrupted.swap(false, Ordering::SeqCst) && !cancel_sent.load(Ordering::SeqCst) {
                match ask_cancel(&id) {
                    Some(true) => {
                        if let Err(e) = supervisor::request_cancel(&conn, &id) {
                            eprintln!("could not cancel run {id}: {e}");
                        } else {
                            cancel_sent.store(true, Ordering::SeqCst);
                            eprintln!(
                                "Cancelling: OpenTofu is being interrupted gracefully; waiting for it to stop."
                            );
                        }
                    }
                    Some(false) => eprintln!("Continuing."),
                    None => return true,
                }
            }
            false
        },
    )?;
    match end {
        Some(r) => {
            println!("\nrun {} {}", r.id, r.state);
            if let Some(e) = &r.error {
                println!("{e}");
            }
            if let Some(n) = &r.next_step {
                println!("next: {n}");
            }
            Ok(crate::cmd::runs::exit_for(r.state))
        }
        None => {
            eprintln!("Detached; run {id} continues. Follow it with `openova runs attach {id}`.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn confirm(action: RunAction, facts: &ConfigFacts) -> color_eyre::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to {action} without --yes: stdin is not a terminal, so there is no one to ask"
        );
    }
    let what = match action {
        RunAction::Destroy => "DESTROY all infrastructure of",
        _ => "create or change cloud resources (which cost money) for",
    };
    eprint!("This will {what} {}. Continue? [y/N] ", facts.platform);
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    if matches!(line.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        bail!("not confirmed; nothing was started")
    }
}

/// `Some(true)` cancel, `Some(false)` keep going, `None` detach (no terminal to ask: a
/// non-interactive Ctrl-C means "stop following", never "destroy my run").
fn ask_cancel(id: &str) -> Option<bool> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    eprint!(
        "\nCancel run {id}? OpenTofu will be interrupted gracefully and release its state lock. [y]es / [n]o / [d]etach: "
    );
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return None;
    }
    match line.trim() {
        "y" | "Y" | "yes" => Some(true),
        "d" | "D" | "detach" => None,
        _ => Some(false),
    }
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

fn install_interrupt_handler() -> &'static AtomicBool {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let act = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        let _ = sigaction(Signal::SIGINT, &act);
    }
    &INTERRUPTED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_facts_missing_provider_names_field_and_file() {
        let err = config_facts(
            std::path::Path::new("p.toml"),
            "[organization]\nslug = \"acme\"\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("p.toml: field `provider` is missing")
        );
    }

    #[test]
    fn config_facts_reads_provider_and_org() {
        let f = config_facts(
            std::path::Path::new("p.toml"),
            "provider = \"hetzner\"\n[organization]\nslug = \"acme\"\n",
        )
        .unwrap();
        assert_eq!(f.provider, "hetzner");
        assert_eq!(f.platform, "acme (hetzner)");
    }

    #[test]
    fn config_facts_bad_toml_names_file() {
        let err = config_facts(std::path::Path::new("p.toml"), "provider = ").unwrap_err();
        assert!(err.to_string().starts_with("p.toml: "));
    }
}
