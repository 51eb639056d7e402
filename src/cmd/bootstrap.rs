//! `openova bootstrap plan|apply|destroy --config platform.toml`: start a provisioning run
//! without a screen and follow it. The run itself is a detached supervisor, so closing the
//! terminal never stops it; Ctrl-C asks, then interrupts OpenTofu gracefully.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use color_eyre::eyre::{WrapErr, bail, eyre};
use secrecy::SecretString;

use crate::cli::CmdResult;
use crate::domain::platform::{PlatformConfig, SecretSource};
use crate::provision::launch::{self, RunOptions, StartRequest};
use crate::provision::runner::{SecretEnv, Tofu};
use crate::secrets::{KeyringStore, SecretStore};
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
    /// Stop after apply: no kubeconfig, CRDs, manager or Platform (hand over yourself later).
    #[arg(long)]
    pub no_handover: bool,
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

/// Read and check platform.toml; every problem names the file and the field or line.
pub fn load_config(path: &Path, text: &str) -> color_eyre::Result<PlatformConfig> {
    let config = PlatformConfig::parse(text).map_err(|e| eyre!("{}:{e}", path.display()))?;
    let problems = config.validate();
    if !problems.is_empty() {
        let list: Vec<String> = problems
            .iter()
            .map(|p| format!("  {}: {}", p.field, p.message))
            .collect();
        bail!(
            "{} is not valid ({} problem{}):\n{}",
            path.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            list.join("\n")
        );
    }
    Ok(config)
}

/// Resolve the configuration's credential references (`env:NAME`, `keyring:PATH`) into the
/// environment variables OpenTofu reads. Values never leave this process except through the
/// supervisor's pipe; errors name the field and the reference, never a value.
pub fn resolve_secrets(config: &PlatformConfig) -> color_eyre::Result<SecretEnv> {
    let mut keyring: Option<Option<KeyringStore>> = None;
    let env = launch::secret_env(config, |field, r| {
        let source = r.source().map_err(|why| format!("{field} = {r}: {why}"))?;
        match source {
            SecretSource::Env(name) => match std::env::var(name) {
                Ok(v) if !v.is_empty() => Ok(SecretString::from(v)),
                _ => Err(format!(
                    "{field} = {r}: the environment variable {name} is not set (export it before running openova bootstrap)"
                )),
            },
            SecretSource::Keyring(path) => {
                let store = keyring.get_or_insert_with(KeyringStore::open);
                let Some(store) = store.as_ref() else {
                    return Err(format!(
                        "{field} = {r}: no usable OS keyring on this machine; use env:<VARIABLE> instead"
                    ));
                };
                match store.get(path) {
                    Ok(Some(v)) => Ok(v),
                    Ok(None) => Err(format!(
                        "{field} = {r}: no such keyring entry (kernel keyring entries expire; store it again with the wizard)"
                    )),
                    Err(e) => Err(format!("{field} = {r}: {e}")),
                }
            }
        }
    })
    .map_err(|e| eyre!(e))?;
    Ok(env)
}

pub fn run(cmd: BootstrapCmd) -> CmdResult {
    let (action, args) = match cmd {
        BootstrapCmd::Plan(a) => (RunAction::Plan, a),
        BootstrapCmd::Apply(a) => (RunAction::Apply, a),
        BootstrapCmd::Destroy(a) => (RunAction::Destroy, a),
    };
    let text = std::fs::read_to_string(&args.config)
        .wrap_err_with(|| format!("reading the configuration {}", args.config.display()))?;
    let config = load_config(&args.config, &text)?;
    let secrets = resolve_secrets(&config)?;
    let label = launch::platform_label(&config);
    // Fail here, in front of the operator, rather than inside the detached run.
    let tofu = Tofu::locate(args.tofu.as_deref())?;
    if action != RunAction::Plan && !args.yes {
        confirm(action, &label)?;
    }

    let conn = crate::cmd::runs::open_db()?;
    let req = StartRequest {
        action,
        platform: label.clone(),
        config_toml: text,
        config_path: std::fs::canonicalize(&args.config)
            .ok()
            .map(|p| p.display().to_string()),
        options: RunOptions {
            tofu: Some(tofu.path.clone()),
            interrupt_grace_secs: Some(args.interrupt_grace),
            env: Vec::new(),
            skip_handover: args.no_handover,
            merge_kubeconfig: args.merge_kubeconfig,
            wait_manager_secs: Some(if args.no_wait_manager {
                0
            } else {
                args.wait_manager
            }),
        },
    };
    let started = launch::start(&conn, &req, &secrets)?;
    let id = started.id.clone();
    let mut child = started.child;
    // Reap the supervisor if it ends while we follow, so its PID does not linger as a zombie.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    if args.detach {
        println!("Started {action} run {id} for {label}.");
        println!(
            "Follow it with `openova runs attach {id}`; it keeps running if this terminal closes."
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "Started {action} run {id} for {label} (workspace {}). Closing this terminal does not stop it; Ctrl-C asks to cancel.",
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
                        if let Err(e) = launch::request_cancel(&conn, &id) {
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

fn confirm(action: RunAction, label: &str) -> color_eyre::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to {action} without --yes: stdin is not a terminal, so there is no one to ask"
        );
    }
    let what = match action {
        RunAction::Destroy => "DESTROY all infrastructure of",
        _ => "create or change cloud resources (which cost money) for",
    };
    eprint!("This will {what} {label}. Continue? [y/N] ");
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
    fn load_config_bad_field_names_file_and_field() {
        let text = crate::domain::platform::EXAMPLE_TOML.replace("count = 1", "count = 2");
        let err = load_config(Path::new("p.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("p.toml is not valid"), "{err}");
        assert!(err.contains("control_plane.count"), "{err}");
    }

    #[test]
    fn load_config_toml_error_names_file_and_line() {
        let err = load_config(
            Path::new("p.toml"),
            "apiVersion = \"openova.io/v1alpha1\"\nkind = ",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("p.toml:"), "{err}");
    }

    #[test]
    fn resolve_secrets_unset_env_names_field_and_variable() {
        use crate::domain::platform::SecretRef;
        let mut config = PlatformConfig::example();
        config.credentials.insert(
            "hcloud_token".into(),
            SecretRef::env("OPENOVA_TEST_SURELY_UNSET_VAR"),
        );
        let err = resolve_secrets(&config).unwrap_err().to_string();
        assert!(
            err.contains("credentials.hcloud_token = env:OPENOVA_TEST_SURELY_UNSET_VAR"),
            "{err}"
        );
        assert!(err.contains("is not set"), "{err}");
    }
}
