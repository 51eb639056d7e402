//! Running the `tofu` executable: finding and version-checking it, one step at a time
//! (init → plan → apply, or `output -json`), streaming its `-json` lines as [`TofuEvent`]s, and
//! stopping it gracefully (SIGINT, wait, then SIGTERM, SIGKILL only last) so no state lock stays.
//!
//! Secrets reach OpenTofu only through its environment ([`SecretEnv`]); the argument list never
//! holds one, and every line read back is passed through [`SecretEnv::redact`] before anyone sees it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use super::events::{Diagnostic, OutputValue, TofuEvent, parse_line, parse_outputs};

/// The oldest OpenTofu whose `-json` UI and plan-file apply we rely on.
pub const MIN_TOFU_VERSION: semver::Version = semver::Version::new(1, 10, 0);

/// The plan file written by `plan -out` inside the workspace.
pub const PLAN_FILE: &str = "tfplan";

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(
        "OpenTofu was not found: no `tofu` on PATH. Install OpenTofu {MIN_TOFU_VERSION} or newer, or pass --tofu PATH"
    )]
    TofuNotFound,
    #[error("--tofu {0}: no executable file there")]
    TofuNotExecutable(PathBuf),
    #[error("running `{path} version -json`: {source}")]
    TofuVersionQuery {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path} version -json` did not report a version (is it OpenTofu?): {output}")]
    TofuVersionUnreadable { path: PathBuf, output: String },
    #[error("{path} is OpenTofu {found}; openova needs {MIN_TOFU_VERSION} or newer")]
    TofuTooOld {
        path: PathBuf,
        found: semver::Version,
    },
    #[error("starting `tofu {step}`: {source}")]
    TofuSpawn {
        step: &'static str,
        source: std::io::Error,
    },
    #[error("waiting for `tofu {step}`: {source}")]
    TofuWait {
        step: &'static str,
        source: std::io::Error,
    },
    #[error("`tofu output -json` printed something that is not its JSON document: {0}")]
    OutputsUnreadable(serde_json::Error),
    #[error("`tofu output -json` failed with exit code {code:?}: {stderr}")]
    OutputsFailed { code: Option<i32>, stderr: String },
    #[error("`tofu show -json tfplan` failed with exit code {code:?}: {stderr}")]
    ShowFailed { code: Option<i32>, stderr: String },
    #[error("the saved plan could not be read: {0}")]
    PlanUnreadable(String),
}

/// A located, version-checked `tofu` executable.
#[derive(Debug, Clone)]
pub struct Tofu {
    pub path: PathBuf,
    pub version: semver::Version,
}

impl Tofu {
    /// Use `explicit` (from `--tofu`) or find `tofu` on PATH, then check its version.
    pub fn locate(explicit: Option<&Path>) -> Result<Tofu, RunnerError> {
        // A run works in its own directory: `--tofu ./tofu` must mean this directory's.
        let absolute = explicit.map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
        let explicit = absolute.as_deref();
        let path = match explicit {
            Some(p) if is_executable(p) => p.to_path_buf(),
            Some(p) => return Err(RunnerError::TofuNotExecutable(p.to_path_buf())),
            None => find_on_path("tofu").ok_or(RunnerError::TofuNotFound)?,
        };
        let out = Command::new(&path)
            .args(["version", "-json"])
            .stdin(Stdio::null())
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .map_err(|source| RunnerError::TofuVersionQuery {
                path: path.clone(),
                source,
            })?;
        let text = String::from_utf8_lossy(&out.stdout);
        let version =
            parse_version_json(&text).ok_or_else(|| RunnerError::TofuVersionUnreadable {
                path: path.clone(),
                output: text.chars().take(200).collect(),
            })?;
        // Pre-releases of the minimum (1.10.0-rc1) compare lower; accept them on major.minor.
        let floor = semver::Version::new(version.major, version.minor, version.patch);
        if floor < MIN_TOFU_VERSION {
            return Err(RunnerError::TofuTooOld {
                path,
                found: version,
            });
        }
        Ok(Tofu { path, version })
    }
}

/// Read the version from `tofu version -json` (`terraform_version` is the key OpenTofu kept).
pub fn parse_version_json(text: &str) -> Option<semver::Version> {
    let v: serde_json::Value = serde_json::from_str(text.trim()).ok()?;
    let s = v
        .get("terraform_version")
        .or_else(|| v.get("tofu_version"))
        .and_then(serde_json::Value::as_str)?;
    semver::Version::parse(s.trim_start_matches('v')).ok()
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// Environment variables holding secrets, for the child only.
#[derive(Default, Clone)]
pub struct SecretEnv {
    vars: Vec<(String, SecretString)>,
}

impl std::fmt::Debug for SecretEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.vars.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("SecretEnv").field("names", &names).finish()
    }
}

/// Masks shorter than this are not redacted: a 1–3 character "secret" would shred every line.
const MIN_REDACT_LEN: usize = 4;

impl SecretEnv {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, name: impl Into<String>, value: SecretString) {
        self.vars.push((name.into(), value));
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.iter().map(|(n, _)| n.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &SecretString)> {
        self.vars.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// Replace every occurrence of a secret value with `[redacted NAME]`.
    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let mut out = std::borrow::Cow::Borrowed(text);
        for (name, value) in &self.vars {
            let v = value.expose_secret();
            if v.len() >= MIN_REDACT_LEN && out.contains(v) {
                out = std::borrow::Cow::Owned(out.replace(v, &format!("[redacted {name}]")));
            }
        }
        out
    }
}

/// A flag the owner of a run sets to ask the running step to stop gracefully.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    /// The shared flag, for a signal handler (`signal_hook`-style registration).
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

/// How long to wait after each signal before escalating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grace {
    /// After SIGINT, OpenTofu finishes in-flight resource calls and releases the state lock.
    pub interrupt: Duration,
    /// After SIGTERM; then SIGKILL.
    pub terminate: Duration,
}

impl Default for Grace {
    fn default() -> Self {
        Grace {
            interrupt: Duration::from_secs(60),
            terminate: Duration::from_secs(10),
        }
    }
}

/// One OpenTofu invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Init,
    Plan { destroy: bool },
    Apply,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Init => "init",
            Step::Plan { .. } => "plan",
            Step::Apply => "apply",
        }
    }

    /// The argument list. It never contains a secret: those travel in the environment.
    pub fn args(self) -> Vec<String> {
        let mut a: Vec<String> = match self {
            // `init -json` only exists in newer releases; its text output is kept as log lines.
            Step::Init => vec!["init".into(), "-input=false".into()],
            Step::Plan { destroy } => {
                let mut v = vec![
                    "plan".into(),
                    "-input=false".into(),
                    "-json".into(),
                    format!("-out={PLAN_FILE}"),
                ];
                if destroy {
                    v.push("-destroy".into());
                }
                v
            }
            // Applying a saved plan needs no approval and applies exactly what was reviewed.
            Step::Apply => vec!["apply".into(), "-input=false".into(), "-json".into()],
        };
        a.push("-no-color".into());
        if matches!(self, Step::Apply) {
            a.push(PLAN_FILE.into());
        }
        a
    }
}

/// A line from a running step, already redacted.
#[derive(Debug, Clone, PartialEq)]
pub enum StepLine {
    /// A stdout line, parsed.
    Event(Box<TofuEvent>),
    /// A stderr line (OpenTofu prints crashes and some warnings there).
    Stderr(String),
    /// Something the runner itself did, e.g. "sent SIGINT".
    Note(String),
}

/// A state lock OpenTofu could not acquire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleLock {
    pub id: String,
    pub who: Option<String>,
    pub created: Option<String>,
}

impl StaleLock {
    /// Explanation with the exact command to clear it.
    pub fn explain(&self, workspace: &Path) -> String {
        let mut s = format!("The OpenTofu state is locked (lock ID {}", self.id);
        if let Some(who) = &self.who {
            s.push_str(&format!(", held by {who}"));
        }
        if let Some(created) = &self.created {
            s.push_str(&format!(", since {created}"));
        }
        s.push_str(
            "). If no other run is working on this platform, the lock was left by a crashed run; clear it with:\n  ",
        );
        s.push_str(&format!(
            "tofu -chdir={} force-unlock {}",
            workspace.display(),
            self.id
        ));
        s
    }
}

/// Find a stale-lock diagnostic ("Error acquiring the state lock" with its Lock Info).
pub fn detect_stale_lock(diag: &Diagnostic) -> Option<StaleLock> {
    if !diag.summary.contains("Error acquiring the state lock") {
        return None;
    }
    let field = |key: &str| {
        diag.detail.lines().find_map(|l| {
            let l = l.trim();
            l.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        })
    };
    Some(StaleLock {
        id: field("ID")?,
        who: field("Who"),
        created: field("Created"),
    })
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    pub step: &'static str,
    pub exit_code: Option<i32>,
    /// Whether the step was stopped because cancellation was requested.
    pub cancelled: bool,
    /// Error diagnostics, in order.
    pub errors: Vec<Diagnostic>,
    pub lock: Option<StaleLock>,
    /// Which signals had to be sent, e.g. `["SIGINT"]`.
    pub signals: Vec<&'static str>,
}

impl StepOutcome {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && !self.cancelled
    }

    /// A one-paragraph reason for a failed step: the first error diagnostic, or the exit code.
    pub fn failure_summary(&self, workspace: &Path) -> String {
        if let Some(lock) = &self.lock {
            return lock.explain(workspace);
        }
        match self.errors.first() {
            Some(d) if d.detail.is_empty() => format!("tofu {}: {}", self.step, d.summary),
            Some(d) => format!("tofu {}: {}: {}", self.step, d.summary, d.detail),
            None => format!(
                "tofu {} exited with code {}",
                self.step,
                self.exit_code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "none (killed by a signal)".into())
            ),
        }
    }
}

/// Told `Some((pid, step))` when OpenTofu starts and `None` when it has ended.
pub type ChildHook<'a> = dyn Fn(Option<(u32, &'static str)>) + 'a;

/// Everything a step needs besides the step itself.
#[derive(Clone)]
pub struct StepContext<'a> {
    pub tofu: &'a Tofu,
    pub workspace: &'a Path,
    pub secrets: &'a SecretEnv,
    /// Non-secret extra environment, e.g. `TF_CLI_CONFIG_FILE` for an air-gapped mirror.
    pub env: &'a [(String, String)],
    pub cancel: &'a CancelToken,
    pub grace: Grace,
    /// Told the OpenTofu process id when a step starts (`Some`) and when it has ended (`None`),
    /// so the run record names a child that outlives a killed supervisor.
    pub on_child: Option<&'a ChildHook<'a>>,
}

impl std::fmt::Debug for StepContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepContext")
            .field("tofu", &self.tofu)
            .field("workspace", &self.workspace)
            .field("secrets", &self.secrets)
            .field("env", &self.env)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

fn command(ctx: &StepContext<'_>, args: &[String]) -> Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(&ctx.tofu.path);
    cmd.args(args)
        .current_dir(ctx.workspace)
        .stdin(Stdio::null())
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("NO_COLOR", "1");
    for (k, v) in ctx.env {
        cmd.env(k, v);
    }
    for (k, v) in ctx.secrets.iter() {
        cmd.env(k, v.expose_secret());
    }
    // Own process group: a Ctrl-C meant for the operator's terminal must not reach OpenTofu
    // directly; we forward exactly one SIGINT and then wait.
    cmd.process_group(0);
    // SAFETY: umask is async-signal-safe. Plan and state files may hold sensitive values;
    // nothing OpenTofu writes in the workspace should be readable by other users.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
            Ok(())
        });
    }
    cmd
}

fn signal(child: &Child, sig: nix::sys::signal::Signal) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
    }
}

enum Read2 {
    Out(String),
    Err(String),
    Closed,
}

/// Run one step to its end, handing every (redacted) line to `on_line` as it arrives.
pub fn run_step(
    ctx: &StepContext<'_>,
    step: Step,
    on_line: &mut dyn FnMut(StepLine),
) -> Result<StepOutcome, RunnerError> {
    let name = step.name();
    let mut child = command(ctx, &step.args())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| RunnerError::TofuSpawn { step: name, source })?;
    if let Some(f) = ctx.on_child {
        f(Some((child.id(), name)));
    }
    let result = drive_child(ctx, name, &mut child, on_line);
    if let Some(f) = ctx.on_child {
        f(None);
    }
    result
}

fn drive_child(
    ctx: &StepContext<'_>,
    name: &'static str,
    child: &mut Child,
    on_line: &mut dyn FnMut(StepLine),
) -> Result<StepOutcome, RunnerError> {
    let (tx, rx) = mpsc::channel::<Read2>();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            pump(out, &tx, Read2::Out);
        }));
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            pump(err, &tx, Read2::Err);
        }));
    }
    drop(tx);

    let mut outcome = StepOutcome {
        step: name,
        exit_code: None,
        cancelled: false,
        errors: Vec::new(),
        lock: None,
        signals: Vec::new(),
    };
    let mut open_streams = readers.len();
    let mut escalate_at: Option<(Instant, u8)> = None;
    let mut status = None;

    loop {
        if ctx.cancel.is_cancelled() && status.is_none() {
            let now = Instant::now();
            match escalate_at {
                None => {
                    signal(child, nix::sys::signal::Signal::SIGINT);
                    outcome.signals.push("SIGINT");
                    outcome.cancelled = true;
                    on_line(StepLine::Note(format!(
                        "cancel requested: sent SIGINT to tofu {name}, waiting up to {}s for it to stop and release the state lock",
                        ctx.grace.interrupt.as_secs()
                    )));
                    escalate_at = Some((now + ctx.grace.interrupt, 1));
                }
                Some((at, 1)) if now >= at => {
                    signal(child, nix::sys::signal::Signal::SIGTERM);
                    outcome.signals.push("SIGTERM");
                    on_line(StepLine::Note(format!(
                        "tofu {name} did not stop within {}s of SIGINT: sent SIGTERM",
                        ctx.grace.interrupt.as_secs()
                    )));
                    escalate_at = Some((now + ctx.grace.terminate, 2));
                }
                Some((at, 2)) if now >= at => {
                    let _ = child.kill();
                    outcome.signals.push("SIGKILL");
                    on_line(StepLine::Note(format!(
                        "tofu {name} ignored SIGTERM: killed it; the state may still be locked"
                    )));
                    escalate_at = Some((now + Duration::from_secs(3600), 3));
                }
                _ => {}
            }
        }
        if open_streams == 0 {
            if status.is_none() {
                match child.try_wait() {
                    Ok(Some(st)) => status = Some(st),
                    Ok(None) => {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                    Err(source) => return Err(RunnerError::TofuWait { step: name, source }),
                }
            }
            break;
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Read2::Out(line)) if line.trim().is_empty() => {}
            Ok(Read2::Out(line)) => {
                let line = ctx.secrets.redact(&line).into_owned();
                let ev = parse_line(&line);
                if let TofuEvent::Diagnostic { diagnostic, .. } = &ev
                    && diagnostic.is_error()
                {
                    if outcome.lock.is_none() {
                        outcome.lock = detect_stale_lock(diagnostic);
                    }
                    outcome.errors.push(diagnostic.clone());
                }
                on_line(StepLine::Event(Box::new(ev)));
            }
            Ok(Read2::Err(line)) => {
                let line = ctx.secrets.redact(&line).into_owned();
                if !line.trim().is_empty() {
                    on_line(StepLine::Stderr(line));
                }
            }
            Ok(Read2::Closed) => open_streams -= 1,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => open_streams = 0,
        }
    }
    for r in readers {
        let _ = r.join();
    }
    let status = match status {
        Some(s) => s,
        None => child
            .wait()
            .map_err(|source| RunnerError::TofuWait { step: name, source })?,
    };
    outcome.exit_code = status.code();
    // A step that finished successfully before the signal landed did complete.
    if outcome.cancelled && status.success() {
        outcome.cancelled = false;
    }
    Ok(outcome)
}

fn pump(src: impl Read, tx: &mpsc::Sender<Read2>, wrap: fn(String) -> Read2) {
    let mut reader = BufReader::new(src);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf)
                    .trim_end_matches(['\n', '\r'])
                    .to_owned();
                if tx.send(wrap(line)).is_err() {
                    return;
                }
            }
        }
    }
    let _ = tx.send(Read2::Closed);
}

/// Run a read-only `tofu` command whose JSON output may hold sensitive values (`show -json`
/// of a plan, `output -json`): the text is parsed in memory, wiped, and never logged or stored.
/// A failure keeps only the redacted start of stderr.
fn sensitive_json<T>(
    ctx: &StepContext<'_>,
    step: &'static str,
    args: &[&str],
    failed: fn(Option<i32>, String) -> RunnerError,
    parse: impl FnOnce(&str) -> Result<T, RunnerError>,
) -> Result<T, RunnerError> {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let out = command(ctx, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| RunnerError::TofuSpawn { step, source })?;
    let mut stdout = out.stdout;
    if !out.status.success() {
        zeroize::Zeroize::zeroize(&mut stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = ctx
            .secrets
            .redact(stderr.trim())
            .chars()
            .take(500)
            .collect();
        return Err(failed(out.status.code(), stderr));
    }
    let mut text = String::from_utf8_lossy(&stdout).into_owned();
    zeroize::Zeroize::zeroize(&mut stdout);
    let parsed = parse(&text);
    zeroize::Zeroize::zeroize(&mut text);
    parsed
}

/// `tofu show -json PLANFILE`: the saved plan's resource changes (sensitive values are read
/// only to be dropped; the returned changes hold types, actions and priced attributes).
pub fn show_plan(ctx: &StepContext<'_>) -> Result<Vec<super::plan::ResourceChange>, RunnerError> {
    sensitive_json(
        ctx,
        "show",
        &["show", "-json", "-no-color", PLAN_FILE],
        |code, stderr| RunnerError::ShowFailed { code, stderr },
        |text| {
            super::plan::parse_show_json(text)
                .map_err(|e| RunnerError::PlanUnreadable(e.to_string()))
        },
    )
}

/// `tofu output -json`. The text holds sensitive outputs (the kubeconfig).
pub fn outputs(ctx: &StepContext<'_>) -> Result<BTreeMap<String, OutputValue>, RunnerError> {
    sensitive_json(
        ctx,
        "output",
        &["output", "-json", "-no-color"],
        |code, stderr| RunnerError::OutputsFailed { code, stderr },
        |text| parse_outputs(text).map_err(RunnerError::OutputsUnreadable),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_args_never_carry_values_and_apply_uses_plan_file() {
        assert_eq!(
            Step::Plan { destroy: true }.args(),
            vec![
                "plan",
                "-input=false",
                "-json",
                "-out=tfplan",
                "-destroy",
                "-no-color"
            ]
        );
        assert_eq!(
            Step::Apply.args(),
            vec!["apply", "-input=false", "-json", "-no-color", "tfplan"]
        );
    }

    #[test]
    fn detect_stale_lock_reads_id_who_and_created() {
        let d = Diagnostic {
            severity: "error".into(),
            summary: "Error acquiring the state lock".into(),
            detail: "Error message: resource temporarily unavailable\nLock Info:\n  ID:        5c1f7e6a-aaaa-bbbb-cccc-0123456789ab\n  Path:      terraform.tfstate\n  Operation: OperationTypeApply\n  Who:       ops@bastion\n  Version:   1.8.3\n  Created:   2026-01-02 10:00:00 +0000 UTC\n  Info:      \n\nOpenTofu acquires a state lock...".into(),
            address: None,
            range: None,
        };
        let lock = detect_stale_lock(&d).expect("lock");
        assert_eq!(lock.id, "5c1f7e6a-aaaa-bbbb-cccc-0123456789ab");
        assert_eq!(lock.who.as_deref(), Some("ops@bastion"));
        let text = lock.explain(Path::new("/srv/runs/abc"));
        assert!(text.contains(
            "tofu -chdir=/srv/runs/abc force-unlock 5c1f7e6a-aaaa-bbbb-cccc-0123456789ab"
        ));
    }

    #[test]
    fn detect_stale_lock_other_error_is_none() {
        let d = Diagnostic {
            severity: "error".into(),
            summary: "Invalid server type".into(),
            ..Default::default()
        };
        assert_eq!(detect_stale_lock(&d), None);
    }

    #[test]
    fn secret_env_redact_masks_every_occurrence() {
        let mut env = SecretEnv::new();
        env.push("HCLOUD_TOKEN", SecretString::from("tok-123456"));
        assert_eq!(
            env.redact("a tok-123456 b tok-123456"),
            "a [redacted HCLOUD_TOKEN] b [redacted HCLOUD_TOKEN]"
        );
        assert!(!format!("{env:?}").contains("tok-123456"));
    }

    #[test]
    fn parse_version_json_reads_opentofu_key() {
        assert_eq!(
            parse_version_json(r#"{"terraform_version":"1.8.3","platform":"linux_amd64"}"#),
            Some(semver::Version::new(1, 8, 3))
        );
        assert_eq!(parse_version_json("OpenTofu v1.8.3"), None);
    }

    #[test]
    fn locate_missing_explicit_path_names_it() {
        let err = Tofu::locate(Some(Path::new("/nonexistent/tofu"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--tofu /nonexistent/tofu: no executable file there"
        );
    }
}
