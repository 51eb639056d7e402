//! Starting and cancelling runs, from the process the operator runs (the wizard, `openova
//! bootstrap`, `openova runs cancel`): records the run, re-executes this binary as its detached
//! supervisor ([`super::supervisor`]) in a session of its own, and hands it the credentials
//! through a pipe on its stdin ([`super::secrets_pipe`]) — never argv, never a file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use rusqlite::Connection;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::modules;
use super::runner::{Grace, SecretEnv};
use super::secrets_pipe::encode_secrets;
use super::supervisor::SupervisorError;
use super::tfvars;
use crate::domain::platform::{PlatformConfig, SecretRef, StateBackend as PlatformBackend};
use crate::store::runs::{self, NewRun, RunAction};

/// Hidden subcommand the launcher re-executes.
pub const SUPERVISE_ARGS: [&str; 2] = ["runs", "supervise"];

/// Per-run settings the launcher records and the supervisor reads back (no secrets).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunOptions {
    /// `--tofu PATH`; `None` means `tofu` on PATH.
    pub tofu: Option<PathBuf>,
    /// Seconds to wait after SIGINT before SIGTERM.
    pub interrupt_grace_secs: Option<u64>,
    /// Non-secret environment for OpenTofu (e.g. `TF_CLI_CONFIG_FILE`).
    pub env: Vec<(String, String)>,
    /// Skip the hand-over after apply (the cluster is left for the operator).
    pub skip_handover: bool,
    /// Merge the kubeconfig contexts into the operator's kubeconfig too.
    pub merge_kubeconfig: bool,
    /// Seconds to wait for the manager to report; `Some(0)` skips the wait.
    pub wait_manager_secs: Option<u64>,
    /// Apply the saved plans of this earlier plan run (its workspace) instead of planning again.
    pub plan_run: Option<PlanRunRef>,
    /// What the plan was made from, recorded by a plan run (see [`PlanFingerprint`]).
    pub fingerprint: Option<PlanFingerprint>,
    /// Stop after the plan (init, plan, summary) and keep it: a destroy's first half, shown
    /// to the operator before the confirmation.
    pub plan_only: bool,
}

/// The plan run whose saved plan files an apply run applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRunRef {
    pub id: String,
    pub workspace: String,
}

/// SHA-256 of the platform.toml text and of the embedded OpenTofu modules a plan was made
/// from: a saved plan is applied only while both are unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFingerprint {
    pub config_sha256: String,
    pub modules_sha256: String,
}

impl PlanFingerprint {
    pub fn of(config_toml: &str) -> PlanFingerprint {
        use sha2::{Digest, Sha256};
        PlanFingerprint {
            config_sha256: Sha256::digest(config_toml.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            modules_sha256: modules::embedded_digest(),
        }
    }
}

impl RunOptions {
    pub fn grace(&self) -> Grace {
        let mut g = Grace::default();
        if let Some(s) = self.interrupt_grace_secs {
            g.interrupt = Duration::from_secs(s);
        }
        g
    }
}

/// A saved plan is applied only if it is a finished plan run of the same platform.toml text
/// (`config_toml`) and of this build's embedded modules. The error says why not and what to do.
pub fn check_plan_run(r: &runs::RunRecord, config_toml: &str) -> Result<(), String> {
    use crate::store::runs::RunState;
    let short = |h: &str| h.get(..12).unwrap_or(h).to_owned();
    if r.action != RunAction::Plan {
        return Err(format!(
            "run {} is a {} run, not a plan; pass the id of an `openova bootstrap plan` run",
            r.id, r.action
        ));
    }
    if r.state != RunState::Succeeded {
        return Err(format!(
            "plan run {} is {}; only a plan that finished can be applied",
            r.id, r.state
        ));
    }
    let opts: RunOptions = serde_json::from_str(&r.options_json)
        .map_err(|e| format!("the options of plan run {} are unreadable: {e}", r.id))?;
    let Some(then) = opts.fingerprint else {
        return Err(format!(
            "plan run {} recorded no fingerprint of its configuration; plan again",
            r.id
        ));
    };
    let now = PlanFingerprint::of(config_toml);
    if then.config_sha256 != now.config_sha256 {
        return Err(format!(
            "refusing to apply plan run {}: the configuration changed since it was planned \
             (platform.toml sha256 {} then, {} now). Plan again with `openova bootstrap plan`.",
            r.id,
            short(&then.config_sha256),
            short(&now.config_sha256)
        ));
    }
    if then.modules_sha256 != now.modules_sha256 {
        return Err(format!(
            "refusing to apply plan run {}: the embedded OpenTofu modules changed since it was \
             planned (this openova is another build; modules {} then, {} now). Plan again.",
            r.id,
            short(&then.modules_sha256),
            short(&now.modules_sha256)
        ));
    }
    Ok(())
}

/// The run a launcher wants started.
#[derive(Debug, Clone)]
pub struct StartRequest {
    pub action: RunAction,
    pub platform: String,
    pub config_toml: String,
    pub config_path: Option<String>,
    pub options: RunOptions,
    /// The key of the plan run being applied as the caller holds it in memory (the wizard that
    /// made the plan, when no keyring is available); otherwise it is read from the keyring.
    pub held_plan_key: Option<SecretString>,
}

/// The secrets a run of `config` hands to OpenTofu: each credential under the environment
/// variable its module reads (`hcloud_token` → `TF_VAR_hcloud_token`) and the S3 state keys.
/// `value_of(field, reference)` produces a value (from the keyring, the environment or the
/// wizard's memory); its error should name the field and the reference, never a value.
pub fn secret_env(
    config: &PlatformConfig,
    mut value_of: impl FnMut(&str, &SecretRef) -> Result<SecretString, String>,
) -> Result<SecretEnv, String> {
    let mut env = SecretEnv::new();
    for (name, r) in &config.credentials {
        let var = tfvars::credential_env(config.provider, name).ok_or_else(|| {
            let known: Vec<&str> = config
                .provider
                .credential_names()
                .iter()
                .map(|(n, _)| *n)
                .collect();
            format!(
                "credentials.{name}: not a credential of this provider; expected {}",
                known.join(", ")
            )
        })?;
        let field = format!("credentials.{name}");
        let value = value_of(&field, r)?;
        // A PEM private key is multi-line by nature; every other credential is one word.
        if name != "private_key" {
            check_single_word(&field, r, &value)?;
        } else {
            super::credcheck::oci::ApiKey::from_pem(&value)
                .map_err(|e| format!("{field} = {r}: {e}"))?;
        }
        env.push(var, value);
    }
    if let PlatformBackend::S3(s3) = &config.state_backend {
        for (var, field, r) in [
            (
                "AWS_ACCESS_KEY_ID",
                "state_backend.s3.access_key_id",
                &s3.access_key_id,
            ),
            (
                "AWS_SECRET_ACCESS_KEY",
                "state_backend.s3.secret_access_key",
                &s3.secret_access_key,
            ),
        ] {
            let value = value_of(field, r)?;
            check_single_word(field, r, &value)?;
            env.push(var, value);
        }
    }
    Ok(env)
}

/// Tokens copied from a password manager or `echo` often carry a newline or space along; the
/// provider would reject them later with a less helpful message. Never echoes the value.
fn check_single_word(field: &str, r: &SecretRef, value: &SecretString) -> Result<(), String> {
    let v = value.expose_secret();
    let what = if v.chars().any(|c| c == '\n' || c == '\r') {
        "a line break"
    } else if v.chars().any(char::is_whitespace) {
        "whitespace"
    } else if v.chars().any(char::is_control) {
        "a control character"
    } else {
        return Ok(());
    };
    Err(format!(
        "{field} = {r}: the value contains {what}; a token is a single word without spaces, line breaks or control characters (copy it again without the surrounding text)"
    ))
}

/// How runs list a platform: organization and clusters.
pub fn platform_label(config: &PlatformConfig) -> String {
    format!(
        "{} ({})",
        config.organization.slug,
        config.cluster_names().join(", ")
    )
}

/// Start a run of `config` (the wizard's entry point): records it and starts the supervisor.
pub fn start_for_config(
    conn: &Connection,
    action: RunAction,
    config: &PlatformConfig,
    config_path: Option<String>,
    secrets: &SecretEnv,
    options: RunOptions,
) -> Result<Started, StartError> {
    let config_toml = config
        .to_toml()
        .map_err(|e| StartError::Config(e.to_string()))?;
    let req = StartRequest {
        action,
        platform: platform_label(config),
        config_toml,
        config_path,
        options,
        held_plan_key: None,
    };
    Ok(start(conn, &req, secrets)?)
}

/// Why [`start_for_config`] could not start a run.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the platform configuration cannot be written for the run: {0}")]
    Config(String),
    #[error(transparent)]
    Supervisor(#[from] SupervisorError),
}

/// A started run.
#[derive(Debug)]
pub struct Started {
    pub id: String,
    pub workspace: PathBuf,
    /// The supervisor process; the launcher may reap it, never needs to.
    pub child: std::process::Child,
    /// The key this run's saved plans are encrypted with, for a caller that keeps it in memory.
    pub plan_key: SecretString,
}

/// Record a new run and start its detached supervisor, handing it `secrets` through a pipe.
pub fn start(
    conn: &Connection,
    req: &StartRequest,
    secrets: &SecretEnv,
) -> Result<Started, SupervisorError> {
    let id = runs::new_run_id();
    let mut secrets = secrets.clone();
    let plan_key = plan_key(&id, &req.options, req.held_plan_key.as_ref())?;
    secrets.push(
        tfvars::ENCRYPTION_ENV,
        tfvars::plan_encryption_config(&plan_key),
    );
    let secrets = &secrets;
    let workspace = crate::paths::runs_dir().join(&id);
    let ws_err = |source| SupervisorError::Workspace {
        path: workspace.display().to_string(),
        source,
    };
    crate::paths::create_private_dir(&crate::paths::runs_dir()).map_err(ws_err)?;
    crate::paths::create_private_dir(&workspace).map_err(ws_err)?;
    let options_json =
        serde_json::to_string(&req.options).map_err(|source| SupervisorError::Options {
            id: id.clone(),
            source,
        })?;
    runs::insert_run(
        conn,
        &NewRun {
            id: id.clone(),
            action: req.action,
            platform: req.platform.clone(),
            config_toml: req.config_toml.clone(),
            config_path: req.config_path.clone(),
            workspace: workspace.display().to_string(),
            options_json,
        },
    )?;
    let child = spawn_supervisor(&id, &workspace, secrets)?;
    Ok(Started {
        id,
        workspace,
        child,
        plan_key,
    })
}

/// The key a run's saved plans are encrypted with: when it applies an earlier run's saved plan,
/// that run's key from the keyring; otherwise a new random one, kept in the keyring (when there
/// is one) so that `openova bootstrap apply --plan` can apply the plan later from another
/// process. Without a keyring a plan can be applied only by the process that made it and holds
/// its key (`held`).
fn plan_key(
    id: &str,
    options: &RunOptions,
    held: Option<&SecretString>,
) -> Result<SecretString, SupervisorError> {
    use crate::secrets::{self, PLAN_KEY, SecretStore};
    let store = secrets::keyring_unless_off();
    if let (Some(_), Some(key)) = (&options.plan_run, held) {
        return Ok(key.clone());
    }
    if let Some(plan) = &options.plan_run {
        let missing = |reason: String| SupervisorError::PlanKey {
            id: plan.id.clone(),
            reason,
        };
        let Some(store) = store else {
            return Err(missing(
                "no keyring is available to this process (OPENOVA_KEYRING=off, or keyutils \
                 does not work here)"
                    .into(),
            ));
        };
        return match store.get(&secrets::run_entry(&plan.id, PLAN_KEY)) {
            Ok(Some(key)) => Ok(key),
            Ok(None) => Err(missing(
                "no such entry; kernel keyring entries expire, and a reboot clears them".into(),
            )),
            Err(e) => Err(missing(e.to_string())),
        };
    }
    let bytes: [u8; 32] = rand::random();
    let key = SecretString::from(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
    if let Some(store) = store
        && let Err(e) = store.put(&secrets::run_entry(id, PLAN_KEY), &key)
    {
        tracing::warn!("run {id}: its saved plan can be applied only by this run: {e}");
    }
    Ok(key)
}

fn spawn_supervisor(
    id: &str,
    workspace: &Path,
    secrets: &SecretEnv,
) -> Result<std::process::Child, SupervisorError> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::process::CommandExt;

    let exe = std::env::current_exe().map_err(|source| SupervisorError::Spawn {
        exe: "current executable".into(),
        source,
    })?;
    let log_path = workspace.join("supervisor.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&log_path)
        .map_err(|source| SupervisorError::Workspace {
            path: log_path.display().to_string(),
            source,
        })?;
    let log2 = log
        .try_clone()
        .map_err(|source| SupervisorError::Workspace {
            path: log_path.display().to_string(),
            source,
        })?;
    let mut cmd = Command::new(&exe);
    cmd.args(SUPERVISE_ARGS)
        .arg(id)
        .env("OPENOVA_STATE_DIR", crate::paths::state_dir())
        .stdin(Stdio::piped())
        .stdout(log)
        .stderr(log2);
    // The credentials go through the pipe; the supervisor's own environment (readable in
    // /proc/<pid>/environ for as long as it runs) must not carry them too.
    for name in secrets.names() {
        cmd.env_remove(name);
    }
    // The launcher read them from variables of its own (`env:HCLOUD_TOKEN`); drop those too.
    for (name, value) in std::env::vars_os() {
        if let Some(value) = value.to_str()
            && secrets.iter().any(|(_, s)| s.expose_secret() == value)
        {
            cmd.env_remove(name);
        }
    }
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent. A new session
    // has no controlling terminal, so a closing ssh session (SIGHUP) never reaches the run.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    let mut child = cmd.spawn().map_err(|source| SupervisorError::Spawn {
        exe: exe.display().to_string(),
        source,
    })?;
    let mut doc = encode_secrets(secrets);
    let result = match child.stdin.take() {
        Some(mut pipe) => pipe.write_all(doc.as_bytes()),
        None => Err(std::io::Error::other("no stdin pipe")),
    };
    zeroize::Zeroize::zeroize(&mut doc);
    result.map_err(SupervisorError::SecretsPipe)?;
    Ok(child)
}

/// Ask a live run to stop: SIGINT to its supervisor, which interrupts OpenTofu gracefully.
pub fn request_cancel(conn: &Connection, id: &str) -> Result<(), SupervisorError> {
    let run = runs::refresh_liveness(conn, id)?;
    if run.state.is_terminal() {
        return Err(SupervisorError::NotLive {
            id: id.into(),
            state: run.state,
        });
    }
    let pid = run
        .supervisor_pid
        .ok_or_else(|| SupervisorError::NoSupervisor { id: id.into() })?;
    interrupt(
        conn,
        Interrupt {
            id,
            pid,
            whom: "the supervisor",
            note: "cancellation requested by the operator",
            data: serde_json::json!({ "cancel": true }),
        },
    )
}

/// A SIGINT to a process of a run, and the note the run's log keeps of it.
pub struct Interrupt<'a> {
    pub id: &'a str,
    pub pid: i64,
    /// What the process is, for the error: "the supervisor", "OpenTofu".
    pub whom: &'static str,
    pub note: &'a str,
    pub data: serde_json::Value,
}

/// Sends SIGINT (OpenTofu saves its state and releases the lock on it) and records the note.
pub fn interrupt(conn: &Connection, i: Interrupt) -> Result<(), SupervisorError> {
    let failed = |source| SupervisorError::Signal {
        whom: i.whom,
        id: i.id.into(),
        pid: i.pid,
        source,
    };
    // No process has a pid out of that range.
    let raw = i32::try_from(i.pid).map_err(|_| failed(nix::errno::Errno::ESRCH))?;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(raw),
        nix::sys::signal::Signal::SIGINT,
    )
    .map_err(failed)?;
    let data = i.data.to_string();
    runs::append_event(conn, i.id, "supervisor", "note", "warn", i.note, &data)?;
    Ok(())
}
