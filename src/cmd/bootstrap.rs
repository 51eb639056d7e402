//! `openova bootstrap plan|apply|destroy --config platform.toml`: start a provisioning run
//! without a screen and follow it. The run itself is a detached supervisor, so closing the
//! terminal never stops it; Ctrl-C asks, then interrupts OpenTofu gracefully.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use color_eyre::eyre::{WrapErr, bail, eyre};
use secrecy::SecretString;

use crate::cmd::CmdResult;
use crate::domain::platform::{PlatformConfig, SecretSource};
use crate::provision::launch::{self, PlanFingerprint, PlanRunRef, RunOptions, StartRequest};
use crate::provision::plan::PlanSummary;
use crate::provision::runner::{SecretEnv, Tofu};
use crate::provision::supervisor;
use crate::secrets::{self, KeyringStore, SecretStore};
use crate::store::runs::{RunAction, RunState};

#[derive(Debug, clap::Subcommand)]
pub enum BootstrapCmd {
    /// Plan (init + plan) and keep the plan for approval; changes nothing. Shows per cluster
    /// what would be added, changed and destroyed and the monthly cost; apply exactly this plan
    /// later with `openova bootstrap apply --config FILE --plan RUN`.
    Plan(PlanArgs),
    /// Plan, show the summary, ask, then apply exactly that plan and hand the cluster over to
    /// the Lifecycle Manager. `--plan RUN` applies an earlier plan run instead.
    Apply(ApplyArgs),
    /// Plan the destroy, show what will be deleted per cluster, and destroy only after the
    /// platform's name is typed (or given with --confirm NAME). `protect = true` refuses.
    Destroy(DestroyArgs),
    /// Check the provider credentials of a platform.toml against the provider's API (one
    /// signed, read-only request; never retried). HTTPS_PROXY and NO_PROXY are honoured.
    Check(CheckArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// The platform configuration whose credentials are checked.
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
    /// Hetzner Cloud API base (default https://api.hetzner.cloud/v1, or endpoints.hetzner_api).
    #[arg(long, value_name = "URL", env = "OPENOVA_HETZNER_API_URL")]
    pub hetzner_api_url: Option<String>,
    /// Huawei Cloud IAM endpoint (default https://iam.myhuaweicloud.com, or endpoints.huawei_iam).
    #[arg(long, value_name = "URL")]
    pub huawei_iam_url: Option<String>,
    /// OCI Identity endpoint (default https://identity.<region>.oci.oraclecloud.com, or
    /// endpoints.oci_identity).
    #[arg(long, value_name = "URL")]
    pub oci_identity_url: Option<String>,
    /// Seconds to wait for the answer.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub timeout: u64,
}

/// Options every subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// The platform configuration (as exported by the wizard or `openova config example`).
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
    /// The OpenTofu executable (1.10 or newer), when `tofu` is not on PATH. A relative path is
    /// resolved against the current directory.
    #[arg(long, value_name = "PATH")]
    pub tofu: Option<PathBuf>,
    /// Seconds OpenTofu gets to stop after an interrupt before it is terminated.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub interrupt_grace: u64,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Start the plan run and return at once; see its summary with `openova runs show ID`.
    #[arg(long)]
    pub detach: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Apply the saved plan of this earlier `openova bootstrap plan` run (refused when
    /// platform.toml or the embedded OpenTofu modules changed since).
    #[arg(long, value_name = "RUN")]
    pub plan: Option<String>,
    /// Apply without asking after the summary (required when stdin is not a terminal).
    #[arg(long, short)]
    pub yes: bool,
    /// After approval, start the apply run and return at once; follow it with `openova runs
    /// attach ID`.
    #[arg(long)]
    pub detach: bool,
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
}

#[derive(Debug, Clone, clap::Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The platform's name (its organization slug), for scripts: destroy without the typed
    /// confirmation. `--yes` alone is never enough.
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
    /// Refused on its own: destroy needs --confirm NAME (kept so scripts get a clear message).
    #[arg(long, short)]
    pub yes: bool,
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
    resolve_secrets_with(config, KeyringStore::open)
}

/// [`resolve_secrets`] with the keyring `open_keyring` gives (asked at most once, and only when
/// a reference names the keyring; `None` when no keyring is usable).
pub fn resolve_secrets_with<S: SecretStore>(
    config: &PlatformConfig,
    open_keyring: impl FnOnce() -> Option<S>,
) -> color_eyre::Result<SecretEnv> {
    let mut open_keyring = Some(open_keyring);
    let mut keyring: Option<S> = None;
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
                if let Some(open) = open_keyring.take() {
                    keyring = open();
                }
                let Some(store) = keyring.as_ref() else {
                    return Err(format!(
                        "{field} = {r}: no usable OS keyring on this machine; use env:<VARIABLE> instead"
                    ));
                };
                match secrets::get_referenced(store, path) {
                    Ok(Some(v)) => Ok(v),
                    Ok(None) => Err(format!(
                        "{field} = {r}: no such keyring entry (kernel keyring entries expire; store it with `openova secrets set {path}`, which reads the value from stdin)"
                    )),
                    Err(e) => Err(format!("{field} = {r}: {e}")),
                }
            }
        }
    })
    .map_err(|e| eyre!(e))?;
    Ok(env)
}

/// A configuration read, validated and ready for a run.
struct Prepared {
    config: PlatformConfig,
    text: String,
    config_path: Option<String>,
    secrets: SecretEnv,
    tofu: Tofu,
    label: String,
}

fn prepare(common: &CommonArgs) -> color_eyre::Result<Prepared> {
    let text = std::fs::read_to_string(&common.config)
        .wrap_err_with(|| format!("reading the configuration {}", common.config.display()))?;
    let config = load_config(&common.config, &text)?;
    let secrets = resolve_secrets(&config)?;
    // Fail here, in front of the operator, rather than inside the detached run.
    let tofu = Tofu::locate(common.tofu.as_deref())?;
    if config.api.is_none() {
        bail!(
            "{}: api.allowed_cidrs is not set. List the networks allowed to reach the Kubernetes \
             API, e.g.\n  [api]\n  allowed_cidrs = [\"198.51.100.7/32\"]   # this bastion's address\n\
             openova never opens the API to the world by default (write \"0.0.0.0/0\" to choose that).",
            common.config.display()
        );
    }
    let label = launch::platform_label(&config);
    Ok(Prepared {
        config_path: std::fs::canonicalize(&common.config)
            .ok()
            .map(|p| p.display().to_string()),
        config,
        text,
        secrets,
        tofu,
        label,
    })
}

fn options(p: &Prepared, common: &CommonArgs) -> RunOptions {
    RunOptions {
        tofu: Some(p.tofu.path.clone()),
        interrupt_grace_secs: Some(common.interrupt_grace),
        ..RunOptions::default()
    }
}

pub fn run(cmd: BootstrapCmd) -> CmdResult {
    match cmd {
        BootstrapCmd::Plan(a) => plan_cmd(&a),
        BootstrapCmd::Apply(a) => apply_cmd(&a),
        BootstrapCmd::Destroy(a) => destroy_cmd(&a),
        BootstrapCmd::Check(a) => check_cmd(&a),
    }
}

fn check_cmd(a: &CheckArgs) -> CmdResult {
    use crate::domain::naming::Provider;
    use crate::provision::credcheck::{self, CheckOptions, Credentials};
    let text = std::fs::read_to_string(&a.config)
        .wrap_err_with(|| format!("reading the configuration {}", a.config.display()))?;
    let config = load_config(&a.config, &text)?;
    let env = resolve_secrets(&config)?;
    let creds = Credentials::from_platform(&config, &env).map_err(|e| eyre!(e))?;
    let flag = match config.provider {
        Provider::Hetzner => a.hetzner_api_url.clone(),
        Provider::HuaweiCloud => a.huawei_iam_url.clone(),
        Provider::Oci => a.oci_identity_url.clone(),
    };
    let opts = CheckOptions {
        base_url: flag.or_else(|| {
            config
                .endpoints
                .for_provider(config.provider)
                .map(str::to_owned)
        }),
        timeout: std::time::Duration::from_secs(a.timeout.max(1)),
        ..CheckOptions::default()
    };
    let report = credcheck::check(&creds, &opts);
    println!(
        "{} credentials: {} ({})\n{}",
        config.provider.name(),
        report.label(),
        report.url,
        report.message()
    );
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn plan_cmd(a: &PlanArgs) -> CmdResult {
    let p = prepare(&a.common)?;
    let conn = crate::cmd::runs::open_db()?;
    let mut opts = options(&p, &a.common);
    opts.fingerprint = Some(PlanFingerprint::of(&p.text));
    let id = start(&conn, RunAction::Plan, &p, opts)?;
    if a.detach {
        println!("Started plan run {id} for {}.", p.label);
        println!(
            "See its summary with `openova runs show {id}`; apply it with `openova bootstrap apply --config {} --plan {id}`.",
            a.common.config.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(r) = follow_run(&conn, &id, RunAction::Plan, &p.label, None)? else {
        return Ok(ExitCode::SUCCESS);
    };
    if r.state != RunState::Succeeded {
        return Ok(end_report(&r));
    }
    let summary = summary_of(&conn, &id, false, &p.config)?;
    println!("\n{}", summary.render());
    println!(
        "The plan is kept in run {id}. Apply exactly this plan with:\n  openova bootstrap apply --config {} --plan {id}",
        a.common.config.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn apply_cmd(a: &ApplyArgs) -> CmdResult {
    let p = prepare(&a.common)?;
    let conn = crate::cmd::runs::open_db()?;
    if !a.yes && !std::io::stdin().is_terminal() {
        bail!(
            "refusing to apply without --yes: stdin is not a terminal, so there is no one to ask after the plan summary"
        );
    }
    if a.yes && a.plan.is_none() {
        // Approved in advance: one run plans each cluster, records and prints the summary of
        // its saved plan, and applies exactly that plan file.
        let mut opts = options(&p, &a.common);
        opts.skip_handover = a.no_handover;
        opts.merge_kubeconfig = a.merge_kubeconfig;
        opts.wait_manager_secs = Some(if a.no_wait_manager { 0 } else { a.wait_manager });
        let id = start(&conn, RunAction::Apply, &p, opts)?;
        if a.detach {
            println!("Started apply run {id} for {}.", p.label);
            println!(
                "Follow it with `openova runs attach {id}`; it keeps running if this terminal closes."
            );
            return Ok(ExitCode::SUCCESS);
        }
        return match follow_run(&conn, &id, RunAction::Apply, &p.label, Some(&p.config))? {
            Some(r) => Ok(end_report(&r)),
            None => Ok(ExitCode::SUCCESS),
        };
    }
    let plan_run = match &a.plan {
        Some(id) => {
            let r = crate::store::runs::get_run(&conn, id)?;
            launch::check_plan_run(&r, &p.text).map_err(|e| eyre!(e))?;
            r
        }
        None => {
            let mut opts = options(&p, &a.common);
            opts.fingerprint = Some(PlanFingerprint::of(&p.text));
            let id = start(&conn, RunAction::Plan, &p, opts)?;
            match follow_run(&conn, &id, RunAction::Plan, &p.label, None)? {
                Some(r) if r.state == RunState::Succeeded => r,
                Some(r) => return Ok(end_report(&r)),
                None => return Ok(ExitCode::SUCCESS),
            }
        }
    };
    let summary = summary_of(&conn, &plan_run.id, false, &p.config)?;
    println!("\n{}", summary.render());
    if !a.yes {
        ask_yes(&format!(
            "Apply this plan (run {}) to {}? This creates or changes cloud resources that cost money. [y/N] ",
            plan_run.id, p.label
        ))?;
    }
    let mut opts = options(&p, &a.common);
    opts.plan_run = Some(PlanRunRef {
        id: plan_run.id.clone(),
        workspace: plan_run.workspace.clone(),
    });
    opts.skip_handover = a.no_handover;
    opts.merge_kubeconfig = a.merge_kubeconfig;
    opts.wait_manager_secs = Some(if a.no_wait_manager { 0 } else { a.wait_manager });
    let id = start(&conn, RunAction::Apply, &p, opts)?;
    if a.detach {
        println!(
            "Started apply run {id} for {} (plan {}).",
            p.label, plan_run.id
        );
        println!(
            "Follow it with `openova runs attach {id}`; it keeps running if this terminal closes."
        );
        return Ok(ExitCode::SUCCESS);
    }
    match follow_run(&conn, &id, RunAction::Apply, &p.label, Some(&p.config))? {
        Some(r) => Ok(end_report(&r)),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn destroy_cmd(a: &DestroyArgs) -> CmdResult {
    let text = std::fs::read_to_string(&a.common.config)
        .wrap_err_with(|| format!("reading the configuration {}", a.common.config.display()))?;
    let config = load_config(&a.common.config, &text)?;
    let name = config.organization.slug.clone();
    if config.protect {
        bail!(
            "refusing to destroy {name}: {} has protect = true. Remove that line first if this \
             platform really is to be deleted.",
            a.common.config.display()
        );
    }
    if a.yes && a.confirm.is_none() {
        bail!(
            "refusing to destroy {name} on --yes alone: destroy deletes every cluster of the \
             platform. Pass --confirm {name} to confirm by name."
        );
    }
    if let Some(c) = &a.confirm
        && c != &name
    {
        bail!("refusing to destroy: --confirm {c:?} is not this platform's name ({name:?})");
    }
    if a.confirm.is_none() && !std::io::stdin().is_terminal() {
        bail!(
            "refusing to destroy {name} without confirmation: stdin is not a terminal; pass --confirm {name}"
        );
    }
    let p = prepare(&a.common)?;
    let conn = crate::cmd::runs::open_db()?;
    let mut opts = options(&p, &a.common);
    opts.plan_only = true;
    opts.fingerprint = Some(PlanFingerprint::of(&p.text));
    let plan_id = start(&conn, RunAction::Destroy, &p, opts)?;
    let plan_run = match follow_run(&conn, &plan_id, RunAction::Destroy, &p.label, None)? {
        Some(r) if r.state == RunState::Succeeded => r,
        Some(r) => return Ok(end_report(&r)),
        None => return Ok(ExitCode::SUCCESS),
    };
    let summary = summary_of(&conn, &plan_id, true, &p.config)?;
    println!("\n{}", summary.render());
    if a.confirm.is_none() {
        eprint!(
            "This DELETES every resource listed above, for good. Type the platform's name ({name}) to confirm: "
        );
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if line.trim() != name {
            bail!(
                "not confirmed ({:?} is not {name:?}); nothing was destroyed",
                line.trim()
            );
        }
    }
    let mut opts = options(&p, &a.common);
    opts.plan_run = Some(PlanRunRef {
        id: plan_run.id.clone(),
        workspace: plan_run.workspace.clone(),
    });
    let id = start(&conn, RunAction::Destroy, &p, opts)?;
    match follow_run(&conn, &id, RunAction::Destroy, &p.label, None)? {
        Some(r) => Ok(end_report(&r)),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn summary_of(
    conn: &rusqlite::Connection,
    id: &str,
    destroy: bool,
    config: &PlatformConfig,
) -> color_eyre::Result<PlanSummary> {
    let mut summary = supervisor::recorded_plan(conn, id, destroy)?;
    if summary.clusters.is_empty() {
        bail!("run {id} recorded no plan summary; plan again");
    }
    summary.add_warnings(config);
    Ok(summary)
}

fn start(
    conn: &rusqlite::Connection,
    action: RunAction,
    p: &Prepared,
    options: RunOptions,
) -> color_eyre::Result<String> {
    let req = StartRequest {
        action,
        platform: p.label.clone(),
        config_toml: p.text.clone(),
        config_path: p.config_path.clone(),
        options,
        held_plan_key: None,
    };
    let started = launch::start(conn, &req, &p.secrets)?;
    let mut child = started.child;
    // Reap the supervisor if it ends while we follow, so its PID does not linger as a zombie.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(started.id)
}

/// Follows a run in the foreground; Ctrl-C asks whether to cancel. `None`: detached.
fn follow_run(
    conn: &rusqlite::Connection,
    id: &str,
    action: RunAction,
    label: &str,
    config: Option<&PlatformConfig>,
) -> color_eyre::Result<Option<crate::store::runs::RunRecord>> {
    let run = crate::store::runs::get_run(conn, id)?;
    eprintln!(
        "Started {action} run {id} for {label} (workspace {}). Closing this terminal does not stop it; Ctrl-C asks to cancel.",
        run.workspace
    );
    let interrupted = crate::cmd::runs::install_sigint_flag();
    let cancel_sent = AtomicBool::new(false);
    let end = crate::provision::follow::follow(
        conn,
        id,
        0,
        &mut |e| {
            if e.kind == supervisor::PLAN_SUMMARY_KIND {
                // Shown as the operator reads it, with the warnings that concern it.
                if let (Ok(cluster), Some(config)) = (
                    serde_json::from_str::<crate::provision::plan::ClusterPlan>(&e.raw),
                    config,
                ) {
                    let mut one = PlanSummary {
                        destroy: action == RunAction::Destroy,
                        clusters: vec![cluster],
                        warnings: Vec::new(),
                    };
                    one.add_warnings(config);
                    print!("{}", one.render());
                }
            } else {
                crate::cmd::runs::print_event(e, false)
            }
        },
        || {
            if interrupted.swap(false, Ordering::SeqCst) && !cancel_sent.load(Ordering::SeqCst) {
                match ask_cancel(id) {
                    Some(true) => {
                        if let Err(e) = launch::request_cancel(conn, id) {
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
    if end.is_none() {
        eprintln!("Detached; run {id} continues. Follow it with `openova runs attach {id}`.");
    }
    Ok(end)
}

fn end_report(r: &crate::store::runs::RunRecord) -> ExitCode {
    println!("\nrun {} {}", r.id, r.state);
    if let Some(e) = &r.error {
        println!("{e}");
    }
    if let Some(n) = &r.next_step {
        println!("next: {n}");
    }
    crate::cmd::runs::exit_for(r.state)
}

fn ask_yes(question: &str) -> color_eyre::Result<()> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    if matches!(line.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        bail!("not approved; the plan was kept and nothing was applied")
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
