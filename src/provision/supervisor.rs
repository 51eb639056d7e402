//! The detached run supervisor: a re-exec of this binary (`openova runs supervise <id>`, started
//! by [`super::launch`]) in its own session that drives init → plan → apply → hand-over, records
//! every step in SQLite and outlives the terminal or ssh session that started it.
//!
//! It reads the credentials from its stdin first ([`super::secrets_pipe`]) and passes them on to
//! OpenTofu only through the child's environment.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::Connection;

use super::events::TofuEvent;
use super::handover::{self, HandoverPlan};
use super::launch::{PlanRunRef, RunOptions};
use super::modules;
use super::runner::{self, CancelToken, Grace, SecretEnv, Step, StepContext, StepLine, Tofu};
use super::secrets_pipe::read_secrets;
use super::tfvars::{self, ClusterSpec, RunValues, TfVars, WireguardKeyPair};
use crate::domain::platform::{PlatformConfig, StateBackend as PlatformBackend};
use crate::store::runs::{self, RunAction, RunState, RunStoreError};

/// How often the supervisor proves it is alive.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error(transparent)]
    Store(#[from] RunStoreError),
    #[error("creating the run workspace {path}: {source}")]
    Workspace {
        path: String,
        source: std::io::Error,
    },
    #[error("starting the run supervisor ({exe}): {source}")]
    Spawn { exe: String, source: std::io::Error },
    #[error("handing the credentials to the run supervisor: {0}")]
    SecretsPipe(std::io::Error),
    #[error("reading the credentials from the launcher: {0}")]
    SecretsRead(String),
    #[error("run {id} is {state}; only a live run can be cancelled")]
    NotLive { id: String, state: RunState },
    #[error("run {id} has no supervisor process to signal")]
    NoSupervisor { id: String },
    #[error("signalling {whom} of run {id} (pid {pid}): {source}")]
    Signal {
        whom: &'static str,
        id: String,
        pid: i64,
        source: nix::errno::Errno,
    },
    #[error(
        "the saved plan of run {id} cannot be applied: its encryption key is not in the keyring \
         ({reason}). Plan again: openova bootstrap plan --config FILE"
    )]
    PlanKey { id: String, reason: String },
    #[error("the run options stored for run {id} are unreadable: {source}")]
    Options {
        id: String,
        source: serde_json::Error,
    },
}

/// The event kind under which a plan run records each cluster's [`super::plan::ClusterPlan`].
pub const PLAN_SUMMARY_KIND: &str = "plan_summary";

static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: std::ffi::c_int) {
    STOP_REQUESTED.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let stop = SigAction::new(
        SigHandler::Handler(on_stop_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    // SAFETY: the handler only stores to an atomic (async-signal-safe); SIG_IGN is always safe.
    unsafe {
        let _ = sigaction(Signal::SIGINT, &stop);
        let _ = sigaction(Signal::SIGTERM, &stop);
        let _ = sigaction(Signal::SIGHUP, &ignore);
        let _ = sigaction(Signal::SIGPIPE, &ignore);
    }
}

/// Records a run's progress: events and state changes, each redacted once more on the way in.
pub struct Recorder<'a> {
    conn: &'a Connection,
    id: &'a str,
    secrets: &'a SecretEnv,
}

impl<'a> Recorder<'a> {
    pub fn new(conn: &'a Connection, id: &'a str, secrets: &'a SecretEnv) -> Self {
        Recorder { conn, id, secrets }
    }

    pub fn event(&self, phase: &str, kind: &str, level: &str, message: &str, raw: &str) {
        let message = self.secrets.redact(message);
        let raw = self.secrets.redact(raw);
        if let Err(e) = runs::append_event(self.conn, self.id, phase, kind, level, &message, &raw) {
            tracing::error!(run = self.id, error = %e, "could not record a run event");
        }
    }

    pub fn line(&self, phase: &str, line: StepLine) {
        match line {
            StepLine::Event(ev) => {
                let raw = match ev.as_ref() {
                    TofuEvent::Unparsed { raw } => serde_json::json!({ "text": raw }).to_string(),
                    TofuEvent::Unknown { raw, .. } | TofuEvent::Test { raw, .. } => raw.clone(),
                    other => event_raw(other),
                };
                self.event(phase, ev.kind(), ev.level(), ev.message(), &raw);
            }
            StepLine::Stderr(text) => self.event(
                phase,
                "stderr",
                "warn",
                &text,
                &serde_json::json!({ "stderr": text }).to_string(),
            ),
            StepLine::Note(text) => self.event(
                phase,
                "note",
                "warn",
                &text,
                &serde_json::json!({ "note": text }).to_string(),
            ),
        }
    }

    /// Move the run to `next` and log it; `false` if the state machine refused.
    pub fn state(&self, next: RunState, error: Option<&str>) -> bool {
        let error = error.map(|e| self.secrets.redact(e).into_owned());
        // State and its log line commit together: a reader that sees the run ended also
        // sees the line that says so.
        let tx = match self.conn.unchecked_transaction() {
            Ok(tx) => tx,
            Err(e) => {
                tracing::error!(run = self.id, error = %e, "could not begin a state change");
                return false;
            }
        };
        let moved = match runs::transition(self.conn, self.id, next, error.as_deref()) {
            Ok(true) => {
                let mut msg = format!("run is now {next}");
                if let Some(e) = &error {
                    msg.push_str(": ");
                    msg.push_str(e);
                }
                let level = match next {
                    RunState::Failed | RunState::Interrupted => "error",
                    RunState::Cancelled => "warn",
                    _ => "info",
                };
                self.event(
                    "supervisor",
                    "state",
                    level,
                    &msg,
                    &serde_json::json!({ "state": next.as_str(), "error": error }).to_string(),
                );
                true
            }
            Ok(false) => false,
            Err(e) => {
                tracing::error!(run = self.id, error = %e, "could not record a state change");
                false
            }
        };
        if let Err(e) = tx.commit() {
            tracing::error!(run = self.id, error = %e, "could not commit a state change");
            return false;
        }
        moved
    }
}

/// Rebuild a faithful JSON document for a typed event (the stored `raw` is what OpenTofu sent
/// for unknown types; for known ones the typed fields are enough and smaller).
fn event_raw(ev: &TofuEvent) -> String {
    use serde_json::json;
    let env = ev.envelope().cloned().unwrap_or_default();
    let mut v = json!({
        "@level": env.level, "@message": env.message, "@module": env.module,
        "@timestamp": env.timestamp, "type": ev.kind(),
    });
    let extra = match ev {
        TofuEvent::Version { tofu, ui, .. } => json!({"tofu": tofu, "ui": ui}),
        TofuEvent::Diagnostic { diagnostic, .. } => json!({ "diagnostic": diagnostic }),
        TofuEvent::PlannedChange { change, .. } | TofuEvent::ResourceDrift { change, .. } => {
            json!({ "change": change })
        }
        TofuEvent::ChangeSummary { changes, .. } => json!({ "changes": changes }),
        TofuEvent::ApplyStart { hook, .. }
        | TofuEvent::ApplyProgress { hook, .. }
        | TofuEvent::ApplyComplete { hook, .. }
        | TofuEvent::ApplyErrored { hook, .. }
        | TofuEvent::RefreshStart { hook, .. }
        | TofuEvent::RefreshComplete { hook, .. }
        | TofuEvent::Provision { hook, .. } => json!({ "hook": hook }),
        TofuEvent::Outputs { outputs, .. } => json!({ "outputs": outputs }),
        _ => json!({}),
    };
    if let (Some(o), serde_json::Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v.to_string()
}

/// Entry point of the supervisor process. Returns the state the run ended in.
pub fn supervise(id: &str) -> Result<RunState, SupervisorError> {
    // First, before anything can fail and leave the launcher blocked on a full pipe.
    let secrets = read_secrets(std::io::stdin().lock())?;
    install_signal_handlers();

    let db = crate::paths::database();
    let conn = runs::open(&db)?;
    let run = runs::get_run(&conn, id)?;
    runs::set_supervisor(&conn, id, std::process::id())?;
    let rec = Recorder::new(&conn, id, &secrets);
    rec.event(
        "supervisor",
        "note",
        "info",
        &format!(
            "supervisor started (pid {}) for {} of {}",
            std::process::id(),
            run.action,
            run.platform
        ),
        &serde_json::json!({ "pid": std::process::id() }).to_string(),
    );

    let cancel = CancelToken::new();
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let ticker = {
        let cancel = cancel.clone();
        let done = done.clone();
        let id = id.to_owned();
        std::thread::spawn(move || tick(&db, &id, &cancel, &done))
    };

    let end = match serde_json::from_str::<RunOptions>(&run.options_json) {
        Ok(options) => drive(&rec, &run, &options, &secrets, &cancel),
        Err(source) => Err(End::Failed(
            SupervisorError::Options {
                id: id.into(),
                source,
            }
            .to_string(),
        )),
    };
    let (state, error) = match end {
        Ok(()) => (RunState::Succeeded, None),
        Err(End::Cancelled(msg)) => (RunState::Cancelled, Some(msg)),
        Err(End::Failed(msg)) => (RunState::Failed, Some(msg)),
    };
    rec.state(state, error.as_deref());
    done.store(true, Ordering::SeqCst);
    let _ = ticker.join();
    Ok(runs::get_run(&conn, id)?.state)
}

/// Heartbeat and signal watcher, on its own connection so a long SQLite write in the main
/// thread never delays the proof of life.
fn tick(db: &Path, id: &str, cancel: &CancelToken, done: &AtomicBool) {
    let conn = match runs::open(db) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "heartbeat connection failed");
            return;
        }
    };
    let mut since_beat = Duration::ZERO;
    let step = Duration::from_millis(100);
    while !done.load(Ordering::SeqCst) {
        if STOP_REQUESTED.load(Ordering::SeqCst) {
            cancel.cancel();
        }
        if since_beat >= HEARTBEAT_EVERY {
            since_beat = Duration::ZERO;
            if let Err(e) = runs::heartbeat(&conn, id) {
                tracing::warn!(error = %e, "heartbeat write failed");
            }
        }
        std::thread::sleep(step);
        since_beat += step;
    }
}

enum End {
    Cancelled(String),
    Failed(String),
}

/// One cluster's share of a run: its root module directory and the secrets only it gets.
struct ClusterWork {
    name: String,
    dir: PathBuf,
    secrets: SecretEnv,
}

fn drive(
    rec: &Recorder<'_>,
    run: &runs::RunRecord,
    options: &RunOptions,
    secrets: &SecretEnv,
    cancel: &CancelToken,
) -> Result<(), End> {
    let workspace = PathBuf::from(&run.workspace);
    rec.state(RunState::Init, None);
    let config = PlatformConfig::parse(&run.config_toml)
        .map_err(|e| End::Failed(format!("the run's platform.toml: {e}")))?;
    let tofu = Tofu::locate(options.tofu.as_deref()).map_err(|e| End::Failed(e.to_string()))?;
    rec.event(
        "init",
        "note",
        "info",
        &format!("using {} (OpenTofu {})", tofu.path.display(), tofu.version),
        &serde_json::json!({"tofu": tofu.path, "version": tofu.version.to_string()}).to_string(),
    );
    let mut env = options.env.clone();
    if let Some(airgap) = &config.airgap {
        let cli = workspace.join("tofu.tfrc");
        tfvars::write_cli_config(&cli, Path::new(&airgap.provider_mirror))
            .map_err(|e| End::Failed(e.to_string()))?;
        env.push(("TF_CLI_CONFIG_FILE".into(), cli.display().to_string()));
    }
    let names = config.cluster_names();
    let mesh_keys: Vec<WireguardKeyPair> = if names.len() == 2 {
        vec![WireguardKeyPair::generate(), WireguardKeyPair::generate()]
    } else {
        Vec::new()
    };
    let grace = options.grace();
    let destroy = run.action == RunAction::Destroy;
    let record_child = |child: Option<(u32, &'static str)>| {
        let r = match child {
            Some((pid, step)) => runs::set_child(rec.conn, rec.id, pid, step),
            None => runs::clear_child(rec.conn, rec.id),
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not record the OpenTofu process");
        }
    };
    if let Some(plan_run) = &options.plan_run {
        apply_saved_plans(
            rec,
            &config,
            plan_run,
            &tofu,
            &env,
            secrets,
            cancel,
            grace,
            &record_child,
        )?;
    }
    let mut first_endpoint: Option<String> = None;
    for (index, name) in names.iter().enumerate() {
        if options.plan_run.is_some() {
            break;
        }
        if cancel.is_cancelled() {
            return Err(End::Cancelled(format!(
                "cancelled by the operator before cluster {name}"
            )));
        }
        let work = prepare_cluster(
            &config,
            &workspace,
            index,
            &mesh_keys,
            first_endpoint.as_deref(),
            secrets,
        )
        .map_err(End::Failed)?;
        if names.len() > 1 {
            rec.event(
                "supervisor",
                "note",
                "info",
                &format!("cluster {} ({} of {})", work.name, index + 1, names.len()),
                &serde_json::json!({ "cluster": work.name }).to_string(),
            );
        }
        let ctx = StepContext {
            tofu: &tofu,
            workspace: &work.dir,
            secrets: &work.secrets,
            env: &env,
            cancel,
            grace,
            on_child: Some(&record_child),
        };
        let plan_only = run.action == RunAction::Plan || options.plan_only;
        // Plan, record what the saved plan will do, then apply exactly that plan file.
        run_cluster_steps(rec, run.action, true, &ctx)?;
        record_plan_summary(rec, &config, &work.name, destroy, &ctx)?;
        if !plan_only {
            run_one_step(rec, &ctx, RunState::Apply, Step::Apply)?;
        }
        if run.action == RunAction::Apply && index == 0 && names.len() == 2 {
            first_endpoint = runner::outputs(&ctx)
                .ok()
                .and_then(|o| o.get("wireguard_endpoint").cloned())
                .and_then(|o| o.value.as_str().map(str::to_owned))
                .filter(|e| !e.is_empty());
        }
    }
    if run.action == RunAction::Plan || destroy || options.plan_only || options.skip_handover {
        return Ok(());
    }
    if cancel.is_cancelled() {
        return Err(End::Cancelled(
            "cancelled by the operator after apply, before the hand-over".into(),
        ));
    }
    rec.state(RunState::Handover, None);
    let mut outputs = Vec::new();
    // The clusters live in the plan run's workspace when a saved plan was applied.
    let cluster_root = options
        .plan_run
        .as_ref()
        .map_or(workspace.clone(), |p| PathBuf::from(&p.workspace));
    for name in &names {
        let dir = cluster_module_dir(&cluster_root, &config, name);
        let ctx = StepContext {
            tofu: &tofu,
            workspace: &dir,
            secrets,
            env: &env,
            cancel,
            grace,
            on_child: None,
        };
        let out = runner::outputs(&ctx).map_err(|e| End::Failed(e.to_string()))?;
        outputs.push((name.clone(), out));
    }
    let plan = HandoverPlan {
        config: &config,
        outputs: &outputs,
        workspace: &workspace,
        merge_kubeconfig: options.merge_kubeconfig,
        wait_manager: options
            .wait_manager_secs
            .filter(|s| *s > 0)
            .map(Duration::from_secs),
    };
    let report = handover::run(&plan, &mut |msg| {
        rec.event(
            "handover",
            "note",
            "info",
            msg,
            &serde_json::json!({ "note": msg }).to_string(),
        )
    })
    .map_err(|e| End::Failed(secrets.redact(&e.to_string()).into_owned()))?;
    if let Err(e) = runs::set_next_step(rec.conn, rec.id, &report.next_step) {
        tracing::error!(error = %e, "could not record the next step");
    }
    rec.event(
        "handover",
        "note",
        "info",
        &format!("next: {}", report.next_step),
        &serde_json::json!({ "next": report.next_step, "kubeconfig": report.kubeconfig })
            .to_string(),
    );
    Ok(())
}

/// `tofu show -json tfplan` of one cluster, summarised and recorded as a
/// [`PLAN_SUMMARY_KIND`] event (types, counts, priced sizes; never attribute values).
fn record_plan_summary(
    rec: &Recorder<'_>,
    config: &PlatformConfig,
    cluster: &str,
    destroy: bool,
    ctx: &StepContext<'_>,
) -> Result<(), End> {
    let changes = runner::show_plan(ctx).map_err(|e| End::Failed(e.to_string()))?;
    let summary =
        super::plan::ClusterPlan::from_changes(cluster, config.provider, &changes, destroy);
    let raw = serde_json::to_string(&summary).map_err(|e| End::Failed(e.to_string()))?;
    rec.event(
        "plan",
        PLAN_SUMMARY_KIND,
        "info",
        &format!(
            "{cluster}: {} to add, {} to change, {} to destroy; about €{:.2} per month",
            summary.totals.add, summary.totals.change, summary.totals.destroy, summary.monthly_eur
        ),
        &raw,
    );
    Ok(())
}

/// The plan summaries a plan run recorded, one per cluster, in order.
pub fn recorded_plan(
    conn: &Connection,
    id: &str,
    destroy: bool,
) -> Result<super::plan::PlanSummary, SupervisorError> {
    let mut summary = super::plan::PlanSummary {
        destroy,
        ..Default::default()
    };
    let mut after = 0;
    loop {
        let page = runs::events_after(conn, id, after, runs::MAX_EVENTS_PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in page.iter().filter(|e| e.kind == PLAN_SUMMARY_KIND) {
            if let Ok(c) = serde_json::from_str::<super::plan::ClusterPlan>(&e.raw) {
                summary.clusters.push(c);
            }
        }
    }
    Ok(summary)
}

/// Applies the saved plan of every cluster of an earlier plan run, in its workspace.
#[allow(clippy::too_many_arguments)]
fn apply_saved_plans(
    rec: &Recorder<'_>,
    config: &PlatformConfig,
    plan_run: &PlanRunRef,
    tofu: &Tofu,
    env: &[(String, String)],
    secrets: &SecretEnv,
    cancel: &CancelToken,
    grace: Grace,
    record_child: &runner::ChildHook<'_>,
) -> Result<(), End> {
    let root = PathBuf::from(&plan_run.workspace);
    for name in config.cluster_names() {
        let dir = cluster_module_dir(&root, config, &name);
        if !dir.join(runner::PLAN_FILE).is_file() {
            return Err(End::Failed(format!(
                "plan run {} has no saved plan for {name} (expected {}); plan again with `openova bootstrap plan`",
                plan_run.id,
                dir.join(runner::PLAN_FILE).display()
            )));
        }
        if cancel.is_cancelled() {
            return Err(End::Cancelled(format!(
                "cancelled by the operator before cluster {name}"
            )));
        }
        rec.event(
            "supervisor",
            "note",
            "info",
            &format!("applying the saved plan of run {} for {name}", plan_run.id),
            &serde_json::json!({ "cluster": name, "plan_run": plan_run.id }).to_string(),
        );
        let ctx = StepContext {
            tofu,
            workspace: &dir,
            secrets,
            env,
            cancel,
            grace,
            on_child: Some(record_child),
        };
        run_one_step(rec, &ctx, RunState::Apply, Step::Apply)?;
    }
    Ok(())
}

/// One OpenTofu step: the run's state moves to `phase`, every line is recorded, and a cancel or
/// a failure ends the run with what the operator needs to know.
fn run_one_step(
    rec: &Recorder<'_>,
    ctx: &StepContext<'_>,
    phase: RunState,
    s: Step,
) -> Result<(), End> {
    if ctx.cancel.is_cancelled() {
        return Err(End::Cancelled(format!(
            "cancelled by the operator before tofu {}",
            s.name()
        )));
    }
    rec.state(phase, None);
    let outcome = runner::run_step(ctx, s, &mut |line| rec.line(phase.as_str(), line));
    if matches!(s, Step::Apply) {
        // A plan file holds the variable values it was made with; once applied (or failed,
        // which makes it stale) it is of no use and must not stay on disk.
        let _ = std::fs::remove_file(ctx.workspace.join(runner::PLAN_FILE));
    }
    let outcome = outcome.map_err(|e| End::Failed(e.to_string()))?;
    if outcome.cancelled {
        let mut msg = format!(
            "cancelled by the operator during tofu {}; OpenTofu was interrupted with {}",
            s.name(),
            outcome.signals.join(", then ")
        );
        if outcome.signals.contains(&"SIGKILL") {
            msg.push_str(
                ". It had to be killed, so the state may still be locked: check with `tofu plan` in the workspace",
            );
        }
        return Err(End::Cancelled(msg));
    }
    if !outcome.succeeded() {
        return Err(End::Failed(outcome.failure_summary(ctx.workspace)));
    }
    Ok(())
}

fn run_cluster_steps(
    rec: &Recorder<'_>,
    action: RunAction,
    plan_only: bool,
    ctx: &StepContext<'_>,
) -> Result<(), End> {
    // A second cluster repeats the phases; the run's state only moves forward.
    let step = |phase: RunState, s: Step| run_one_step(rec, ctx, phase, s);
    step(RunState::Init, Step::Init)?;
    step(
        RunState::Plan,
        Step::Plan {
            destroy: action == RunAction::Destroy,
        },
    )?;
    if plan_only {
        return Ok(());
    }
    step(RunState::Apply, Step::Apply)
}

fn cluster_module_dir(workspace: &Path, config: &PlatformConfig, name: &str) -> PathBuf {
    workspace
        .join(name)
        .join(modules::module_dir_name(config.provider))
}

/// Write one cluster's module, variables and backend into `workspace/<cluster>/` (0700/0600).
fn prepare_cluster(
    config: &PlatformConfig,
    workspace: &Path,
    index: usize,
    mesh_keys: &[WireguardKeyPair],
    peer_endpoint: Option<&str>,
    secrets: &SecretEnv,
) -> Result<ClusterWork, String> {
    let ids = config.cluster_ids();
    let (Some(id), Some(region)) = (ids.get(index), config.regions.get(index)) else {
        return Err(format!("platform.toml has no region {index}"));
    };
    let name = id.name();
    let base = workspace.join(&name);
    let dir = modules::extract(config.provider, &base).map_err(|e| e.to_string())?;
    let spec = ClusterSpec {
        organization: config.organization.slug.clone(),
        domain: config.organization.domain.clone(),
        id: *id,
        region_index: index as u8,
        control_plane_size: region.control_plane.size.clone(),
        control_plane_count: region.control_plane.count,
        worker_size: region.workers.size.clone(),
        worker_count: region.workers.count,
    };
    // ssh and API sources, registry mirror, OCI compartment, Huawei enterprise project.
    let mut values = RunValues::from_platform(config);
    let mut cluster_secrets = secrets.clone();
    if mesh_keys.len() == 2 {
        let peer = 1 - index;
        let peer_name = ids[peer].name();
        values.wireguard = Some(
            tfvars::wireguard_mesh(
                index as u8,
                &peer_name,
                &mesh_keys[peer].public_key,
                if index == 1 { peer_endpoint } else { None },
            )
            .map_err(|e| e.to_string())?,
        );
        cluster_secrets.push(
            tfvars::WIREGUARD_KEY_ENV,
            mesh_keys[index].private_key.clone(),
        );
    }
    let vars = TfVars::for_cluster(&spec, &values).map_err(|e| e.to_string())?;
    tfvars::write_tfvars(&dir.join(tfvars::TFVARS_FILE), &vars).map_err(|e| e.to_string())?;
    let backend = match &config.state_backend {
        PlatformBackend::Local => tfvars::StateBackend::Local,
        PlatformBackend::S3(s3) => tfvars::StateBackend::S3(tfvars::S3Backend {
            bucket: s3.bucket.clone(),
            key: tfvars::S3Backend::state_key(&s3.key_prefix, &name),
            region: s3.region.clone(),
            endpoint: Some(s3.endpoint.clone()).filter(|e| !e.contains("amazonaws.com")),
            lockfile: true,
        }),
    };
    tfvars::write_backend(&dir, &backend).map_err(|e| e.to_string())?;
    Ok(ClusterWork {
        name,
        dir,
        secrets: cluster_secrets,
    })
}
