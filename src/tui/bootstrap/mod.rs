//! `openova tui bootstrap`: the six-screen wizard (Organization, Credentials, Provider, Regions,
//! Components, Review) over drafts that are saved on every change. This module owns the
//! driver: arguments, start-up (draft choice, theme, stores), and the effect runner that performs
//! what `update` asks for.

pub mod export;
pub mod keys;
pub mod model;
pub mod progress;
pub mod screens;
pub mod sshkey;
pub mod update;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use color_eyre::eyre::{WrapErr, eyre};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc::UnboundedSender;

use crate::cmd::CmdResult;
use crate::domain::naming::Provider;
use crate::secrets::{KeyringStore, MemoryStore, SecretStore};
use crate::store::draft_lock::{LockAttempt, LockOwner, SaveOutcome};
use crate::store::{Store, drafts};
use crate::tui::runtime::{self, App, EffectRunner, Input, Update};
use crate::tui::theme::Theme;
use model::{
    CheckFailure, DraftChoice, Form, GeneratedKey, Mode, Model, OpenLocked, SecretName,
    SecretStorage,
};
use update::{Effect, Msg};

#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    /// Pre-fill a new draft from a platform.toml (secrets are never in that file; enter them on
    /// the Credentials screen).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Start a new, empty draft instead of offering to resume one.
    #[arg(long, conflicts_with_all = ["draft", "config"])]
    pub new: bool,
    /// Open this draft directly (see the ids on the resume screen).
    #[arg(long, value_name = "ID", conflicts_with = "config")]
    pub draft: Option<i64>,
    /// A theme name (default, light, high-contrast, mono) or a theme file overriding part of one.
    /// Default: $XDG_CONFIG_HOME/openova/theme.toml if present. NO_COLOR forces mono.
    #[arg(long, value_name = "NAME|FILE")]
    pub theme: Option<String>,
    /// The OpenTofu executable runs use (1.10 or newer), when `tofu` on PATH is missing or
    /// another version. A relative path is resolved against the current directory. Review
    /// checks it before a run can start and lists what is wrong.
    #[arg(long, value_name = "PATH")]
    pub tofu: Option<PathBuf>,
    /// Skip the live credential check, for a site without internet access or a provider API
    /// this host cannot reach. Review then says "not checked (offline)" and a wrong credential
    /// shows only when OpenTofu runs. The same switch: "Live check" on Credentials, `o` on Review.
    #[arg(long)]
    pub offline: bool,
    /// Hetzner Cloud API base the live check asks (default https://api.hetzner.cloud/v1).
    #[arg(long, value_name = "URL", env = HETZNER_API_URL_ENV)]
    pub hetzner_api_url: Option<String>,
    /// Huawei Cloud IAM endpoint the live check asks (default https://iam.myhuaweicloud.com),
    /// e.g. a proxy's or a regional endpoint. HTTPS_PROXY and NO_PROXY are honoured.
    #[arg(long, value_name = "URL", env = "OPENOVA_HUAWEI_IAM_URL")]
    pub huawei_iam_url: Option<String>,
    /// OCI Identity endpoint the live check asks (default
    /// https://identity.<region>.oci.oraclecloud.com for the first cluster's region).
    /// HTTPS_PROXY and NO_PROXY are honoured.
    #[arg(long, value_name = "URL", env = "OPENOVA_OCI_IDENTITY_URL")]
    pub oci_identity_url: Option<String>,
}

/// Environment variable that points the Hetzner credential check at another API base URL.
pub const HETZNER_API_URL_ENV: &str = "OPENOVA_HETZNER_API_URL";
const HETZNER_API_URL: &str = "https://api.hetzner.cloud/v1";
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// The wizard as a runtime application.
pub struct Wizard {
    pub model: Model,
    pub theme: Theme,
}

impl App for Wizard {
    type Msg = Msg;
    type Effect = Effect;
    fn update(&mut self, input: Input<Msg>) -> Update<Effect> {
        // A tick only asks for a poll; the poll's answer is what may change the screen.
        if matches!(input, Input::Tick) {
            return Update {
                effects: self.model.update(input),
                changed: false,
            };
        }
        // Rendering is a pure function of the model, so an unchanged model is an unchanged
        // screen. Comparing a copy is cheap next to a frame over ssh, and it cannot miss a
        // field the way hand-kept "changed" flags can.
        let before = self.model.clone();
        let effects = self.model.update(input);
        Update {
            effects,
            changed: self.model != before,
        }
    }
    fn render(&self, frame: &mut ratatui::Frame) {
        screens::render(&self.model, frame, &self.theme);
    }
    fn animating(&self) -> bool {
        // Only a provisioning screen whose run is still going needs the tick (to poll its
        // events); a finished run's screen is final.
        matches!(&self.model.mode, Mode::Progress(p) if !p.0.settled())
    }
    fn finished(&self) -> bool {
        self.model.finished
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn theme_for(arg: Option<&str>) -> color_eyre::Result<Theme> {
    let theme = match arg {
        Some(name) if crate::tui::theme::BUILTIN.contains(&name) => {
            if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                Theme::mono()
            } else {
                Theme::builtin(name)?
            }
        }
        Some(path) => Theme::select(Some(std::path::Path::new(path)))?,
        None => Theme::select(None)?,
    };
    Ok(theme)
}

pub fn run(args: BootstrapArgs) -> CmdResult {
    let _log = crate::telemetry::init(crate::telemetry::LogTarget::File);
    let theme = theme_for(args.theme.as_deref())?;
    let store = Store::open(&crate::paths::database()).wrap_err("opening the drafts database")?;
    // OPENOVA_KEYRING=off keeps secrets in memory only, e.g. on shared hosts or in tests.
    let keyring_disabled = std::env::var("OPENOVA_KEYRING").is_ok_and(|v| v == "off");
    let keyring = if keyring_disabled {
        None
    } else {
        KeyringStore::open()
    };
    let prefix = store
        .instance_id()
        .wrap_err("reading the database instance id")?;
    let memory = MemoryStore::new();

    let mut runner = Runner::new(store, prefix.clone(), keyring, memory);
    let mut model = Model::new(Form::default(), None, now());
    // Before anything changes directory: a run works in a directory of its own.
    model.tofu_arg = args
        .tofu
        .as_deref()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    model.offline = args.offline;
    model.huawei_iam_url = args.huawei_iam_url.clone();
    model.hetzner_api_url = args.hetzner_api_url.clone();
    model.oci_identity_url = args.oci_identity_url.clone();
    model.keyring_prefix = prefix;
    model.keyring_unavailable = runner.keyring.is_none();
    match &runner.keyring {
        Some(k) => {
            model.secret_store_kind = k.kind().into();
            model.secret_store_explain = k.explain().into();
        }
        None => {
            model.secret_store_kind = "memory only".into();
            model.secret_store_explain = if keyring_disabled {
                "The keyring is turned off (OPENOVA_KEYRING=off), so secrets stay in memory only and must be entered again after openova exits. They are never written to disk.".into()
            } else {
                "No OS keyring works on this host (no kernel keyutils session), so secrets stay in memory only and must be entered again after openova exits. They are never written to disk.".into()
            };
        }
    }
    if let Some(aside) = runner.store.set_aside() {
        model.status = Some(model::Notice {
            text: format!("Database {aside}"),
            error: true,
        });
    }

    // A run still going (its supervisor alive) is shown first: the operator most likely lost
    // the terminal that started it. Its draft, the newest, is opened underneath.
    let attach = if args.draft.is_none() && args.config.is_none() && !args.new {
        running_run(runner.store.conn())
    } else {
        None
    };

    // Decide what to open before the screen appears, so argument errors print plainly.
    let initial: Option<Msg> = if let Some(id) = args.draft {
        Some(runner.open_draft(id).map_err(|e| eyre!(e))?)
    } else if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("cannot read {}", path.display()))?;
        let form = export::form_from_toml(&text).map_err(|e| eyre!("{}: {e}", path.display()))?;
        Some(runner.new_draft(form).map_err(|e| eyre!(e))?)
    } else if args.new {
        Some(runner.new_draft(Form::default()).map_err(|e| eyre!(e))?)
    } else if attach.is_some() {
        match runner.store.list_drafts()?.first() {
            Some(d) => Some(runner.open_draft(d.id).map_err(|e| eyre!(e))?),
            None => Some(runner.new_draft(Form::default()).map_err(|e| eyre!(e))?),
        }
    } else if runner.store.list_drafts()?.is_empty() {
        Some(runner.new_draft(Form::default()).map_err(|e| eyre!(e))?)
    } else {
        model.mode = resume_mode(&runner.store)?;
        None
    };
    // A draft open in another wizard is asked about over the list, where Esc leads back.
    if matches!(initial, Some(Msg::DraftLocked { .. })) {
        model.mode = resume_mode(&runner.store)?;
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .wrap_err("starting the async runtime")?;
    let mut app = Wizard { model, theme };
    let (tx, rx) = runtime::channel();
    // From here on every effect runs on the worker, off the task that draws the screen.
    let mut worker = Worker::start(runner, tx.clone(), rt.handle().clone())
        .wrap_err("starting the wizard's worker thread")?;
    worker.perform(Effect::LocateTofu(app.model.tofu_arg.clone()), &tx);
    if let Some(msg) = initial {
        let status = app.model.status.clone();
        for e in app.model.update(Input::Msg(msg)) {
            worker.perform(e, &tx);
        }
        if app.model.status.is_none() {
            app.model.status = status;
        }
    }
    if let Some(id) = attach {
        for e in app.model.update(Input::Msg(Msg::RunAttached(id))) {
            worker.perform(e, &tx);
        }
    }

    tracing::info!(
        draft = ?app.model.draft_id,
        secrets = %app.model.secret_store_kind,
        "bootstrap wizard started"
    );
    let result = {
        let mut guard =
            crate::tui::terminal::TerminalGuard::enter().wrap_err("preparing the terminal")?;
        rt.block_on(runtime::run(
            guard.terminal(),
            &mut app,
            &mut worker,
            tx,
            rx,
        ))
    };
    // Whatever the operator did last (a draft save above all) is written before exit.
    worker.finish();
    result.wrap_err("terminal input/output failed")?;
    if let Some(id) = app.model.draft_id {
        eprintln!("Draft #{id} is saved. `openova tui bootstrap` offers to resume it.");
    }
    Ok(ExitCode::SUCCESS)
}

/// The resume screen: every draft, newest first.
fn resume_mode(store: &Store) -> Result<Mode, crate::store::StoreError> {
    let t = now();
    Ok(Mode::Resume {
        drafts: store
            .list_drafts()?
            .into_iter()
            .map(|d| DraftChoice {
                id: d.id,
                title: d.title,
                progress: d.progress,
                age: drafts::age(d.updated_at, t),
            })
            .collect(),
        cursor: 0,
    })
}

/// The id of a run that has not ended and whose supervisor is still alive (a dead supervisor is
/// recorded as interrupted here, so it is not attached to).
fn running_run(conn: &rusqlite::Connection) -> Option<String> {
    let run = crate::store::runs::active_run(conn).ok()??;
    let run = crate::store::runs::refresh_liveness(conn, &run.id).ok()?;
    (!run.state.is_terminal()).then_some(run.id)
}

/// Performs the wizard's effects on a thread of its own, one after another in the order they
/// were asked for (so draft saves land in order), and reports results back as messages. The UI
/// task only queues work: a slow keyring, a busy database or a supervisor start never freezes
/// the screen.
pub struct Worker {
    jobs: Option<std::sync::mpsc::Sender<Effect>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// Move `runner` onto a new thread; slow network work it starts (the token check) runs on
    /// `rt`'s blocking pool.
    pub fn start(
        mut runner: Runner,
        tx: UnboundedSender<Msg>,
        rt: tokio::runtime::Handle,
    ) -> std::io::Result<Worker> {
        let (jobs, queue) = std::sync::mpsc::channel::<Effect>();
        let thread = std::thread::Builder::new()
            .name("wizard-effects".into())
            .spawn(move || {
                let _rt = rt.enter();
                while let Ok(effect) = queue.recv() {
                    runner.perform(effect, &tx);
                }
            })?;
        Ok(Worker {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Perform every effect already queued, then stop the thread.
    pub fn finish(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("the wizard's worker thread panicked");
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.finish();
    }
}

impl EffectRunner<Effect, Msg> for Worker {
    fn perform(&mut self, effect: Effect, tx: &UnboundedSender<Msg>) {
        let queued = self.jobs.as_ref().is_some_and(|j| j.send(effect).is_ok());
        if !queued {
            // Only after a panic on the worker: say so rather than drop the work silently.
            let _ = tx.send(Msg::Failed(
                "internal error: the wizard's worker stopped; nothing more is saved — quit and start again"
                    .into(),
            ));
        }
    }
}

/// Performs effects against the real database, secret stores, network and filesystem.
pub struct Runner {
    pub store: Store,
    /// Keeps keyring entries of this database apart from any other's.
    pub prefix: String,
    pub keyring: Option<KeyringStore>,
    pub memory: MemoryStore,
    /// This wizard, as the draft locks it takes record it.
    pub me: LockOwner,
    /// The draft whose lock this wizard holds, and the version it last loaded or saved.
    held: Option<Held>,
}

#[derive(Debug, Clone, Copy)]
struct Held {
    id: i64,
    version: i64,
}

impl Drop for Runner {
    /// The lock goes with the wizard: on quit, SIGTERM and SIGHUP alike (each ends the loop,
    /// then the worker, which drops the runner). After kill -9 the lock stays, and is
    /// recognised as stale by the next wizard on this host.
    fn drop(&mut self) {
        self.release();
    }
}

/// The keyring entry of a draft's secret (named by `secrets::draft_entry`).
fn secret_key(prefix: &str, draft: i64, name: SecretName) -> String {
    crate::secrets::draft_entry(prefix, draft, name.key())
}

impl Runner {
    pub fn new(
        store: Store,
        prefix: String,
        keyring: Option<KeyringStore>,
        memory: MemoryStore,
    ) -> Runner {
        Runner {
            store,
            prefix,
            keyring,
            memory,
            me: LockOwner::this_process(),
            held: None,
        }
    }

    /// Give up the lock of the draft held, if any.
    fn release(&mut self) {
        if let Some(h) = self.held.take()
            && let Err(e) = self.store.release_draft(h.id, &self.me)
        {
            tracing::warn!(draft = h.id, error = %e, "could not release the draft lock");
        }
    }

    /// Hold draft `id` at `version` from now on (releasing any other).
    fn hold(&mut self, id: i64, version: i64) {
        if self.held.is_some_and(|h| h.id != id) {
            self.release();
        }
        self.held = Some(Held { id, version });
    }

    fn new_draft(&mut self, form: Form) -> Result<Msg, String> {
        let data = serde_json::to_string(&form).map_err(|e| e.to_string())?;
        let title = if form.org_name.is_empty() {
            "(unnamed)".to_string()
        } else {
            form.org_name.clone()
        };
        let id = self
            .store
            .create_draft(&title, &data, 0)
            .map_err(|e| format!("cannot create a draft: {e}"))?;
        let version = match self.store.lock_draft(id, &self.me) {
            Ok(LockAttempt::Acquired { version, .. }) => version,
            Ok(LockAttempt::Held(h)) => {
                return Err(format!("new draft {id} is held by {}", h.describe()));
            }
            Err(e) => return Err(format!("cannot lock draft {id}: {e}")),
        };
        self.hold(id, version);
        Ok(Msg::DraftOpened {
            id,
            form: Box::new(form),
            secrets: Vec::new(),
        })
    }

    /// Open draft `id` for editing, taking its lock; a lock another live wizard holds is
    /// reported instead (`Msg::DraftLocked`), a dead one's is taken and said so.
    fn open_draft(&mut self, id: i64) -> Result<Msg, String> {
        let (form, secrets) = self.load(id)?;
        match self
            .store
            .lock_draft(id, &self.me)
            .map_err(|e| e.to_string())?
        {
            LockAttempt::Held(h) => Ok(Msg::DraftLocked {
                id,
                title: Some(form.org_name.trim())
                    .filter(|t| !t.is_empty())
                    .unwrap_or("(unnamed)")
                    .to_owned(),
                holder: h.describe(),
            }),
            LockAttempt::Acquired { version, stale } => {
                self.hold(id, version);
                if let Some(h) = stale {
                    tracing::info!(draft = id, left_by = %h.describe(), "took over a dead wizard's draft");
                }
                Ok(Msg::DraftOpened {
                    id,
                    form: Box::new(form),
                    secrets,
                })
            }
        }
    }

    /// Open draft `id`, which another wizard holds, as the operator chose.
    fn open_locked(&mut self, id: i64, how: OpenLocked) -> Result<Vec<Msg>, String> {
        match how {
            OpenLocked::ReadOnly => {
                let holder = self
                    .store
                    .draft_lock(id)
                    .map_err(|e| e.to_string())?
                    .map(|h| h.describe())
                    .unwrap_or_else(|| "no longer held".into());
                let (form, secrets) = self.load(id)?;
                self.release();
                Ok(vec![Msg::DraftOpenedReadOnly {
                    id,
                    form: Box::new(form),
                    secrets,
                    reason: format!("draft #{id} is open in another wizard, {holder}"),
                }])
            }
            OpenLocked::TakeOver => {
                let version = self
                    .store
                    .take_over_draft(id, &self.me)
                    .map_err(|e| e.to_string())?;
                self.hold(id, version);
                let (form, secrets) = self.load(id)?;
                tracing::info!(draft = id, "took the draft over from another wizard");
                Ok(vec![
                    Msg::DraftOpened {
                        id,
                        form: Box::new(form),
                        secrets,
                    },
                    Msg::Note(format!(
                        "Draft #{id} is yours: the other wizard turns read-only at its next change"
                    )),
                ])
            }
            OpenLocked::Copy => {
                let (form, secrets) = self.load(id)?;
                let copy = self.store.copy_draft(id).map_err(|e| e.to_string())?;
                for (name, value) in &secrets {
                    self.store_secret(copy, *name, value, form.secret_storage)?;
                }
                Ok(vec![
                    self.open_draft(copy)?,
                    Msg::Note(format!(
                        "Draft #{copy} is a copy of draft #{id}, yours alone"
                    )),
                ])
            }
        }
    }

    /// Delete draft `id` unless another wizard that may be alive has it open (taking its lock
    /// first, so no wizard opens it meanwhile).
    fn delete_draft(&mut self, id: i64) -> Result<(), String> {
        match self
            .store
            .lock_draft(id, &self.me)
            .map_err(|e| e.to_string())?
        {
            LockAttempt::Held(h) => Err(format!(
                "Draft #{id} is open in another wizard ({}): not deleted",
                h.describe()
            )),
            LockAttempt::Acquired { .. } => {
                if self.held.is_some_and(|h| h.id == id) {
                    self.held = None;
                }
                self.store.delete_draft(id).map_err(|e| e.to_string())
            }
        }
    }

    /// A draft's values and the secrets filed for it.
    fn load(&mut self, id: i64) -> Result<(Form, Vec<(SecretName, SecretString)>), String> {
        let draft = self
            .store
            .load_draft(id)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!("draft {id} does not exist (see the list in `openova tui bootstrap`)")
            })?;
        let form: Form = serde_json::from_str(&draft.data)
            .map_err(|e| format!("draft {id} cannot be read ({e}); it was left untouched"))?;
        let mut secrets = Vec::new();
        for name in SecretName::ALL {
            let key = secret_key(&self.prefix, id, name);
            let from_memory = self.memory.get(&key).ok().flatten();
            let value = match (from_memory, &self.keyring) {
                (Some(v), _) => Some(v),
                (None, Some(k)) if form.secret_storage == SecretStorage::Keyring => {
                    k.get(&key).ok().flatten()
                }
                _ => None,
            };
            if let Some(v) = value {
                secrets.push((name, v));
            }
        }
        Ok((form, secrets))
    }

    /// File a draft's secret: in memory always, in the keyring when the draft keeps it there
    /// (an empty value removes the keyring entry).
    fn store_secret(
        &mut self,
        draft: i64,
        name: SecretName,
        value: &SecretString,
        storage: SecretStorage,
    ) -> Result<(), String> {
        let key = secret_key(&self.prefix, draft, name);
        let _ = self.memory.put(&key, value);
        match &self.keyring {
            Some(k) if storage == SecretStorage::Keyring => {
                let result = if value.expose_secret().is_empty() {
                    k.delete(&key)
                } else {
                    k.put(&key, value)
                };
                result.map_err(|e| e.to_string())
            }
            _ => Ok(()),
        }
    }

    /// Save the held draft over the version last seen; anything else writes nothing and tells
    /// the model why (it then goes read-only showing what the draft holds now).
    fn save(&mut self, id: i64, title: &str, data: &str, progress: u8) -> Option<Msg> {
        // Not held (any more): the loss was already reported; nothing is written.
        let held = self.held.filter(|h| h.id == id)?;
        let outcome = self
            .store
            .save_draft(id, &self.me, held.version, title, data, progress);
        let reason = match outcome {
            Ok(SaveOutcome::Saved { version }) => {
                self.held = Some(Held { id, version });
                return None;
            }
            Ok(SaveOutcome::LockLost(holder)) => taken_by(id, holder),
            Ok(SaveOutcome::Newer { stored }) => format!(
                "Draft #{id} was changed elsewhere (version {stored}, this wizard had {})",
                held.version
            ),
            Err(e) => {
                tracing::error!(draft = id, error = %e, "draft save failed");
                return Some(Msg::DraftSaveFailed(e.to_string()));
            }
        };
        Some(self.lost(id, reason))
    }

    /// The draft is no longer this wizard's: stop saving it and show what it holds now.
    fn lost(&mut self, id: i64, reason: String) -> Msg {
        tracing::warn!(draft = id, %reason, "draft write refused");
        self.held = None;
        Msg::DraftLost {
            reason,
            stored: self.load(id).ok().map(|(form, _)| Box::new(form)),
        }
    }

    /// `Ok` while this wizard holds draft `id`, so its secrets may be written; otherwise what to
    /// tell the model (`None`: the loss was reported already).
    fn holding(&mut self, id: i64) -> Result<(), Option<Msg>> {
        if self.held.is_none_or(|h| h.id != id) {
            return Err(None);
        }
        match self.store.holds_draft(id, &self.me) {
            Ok(true) => Ok(()),
            Ok(false) => {
                let holder = self.store.draft_lock(id).ok().flatten();
                Err(Some(self.lost(id, taken_by(id, holder))))
            }
            Err(e) => Err(Some(Msg::SecretStoreFailed(e.to_string()))),
        }
    }
}

/// "Draft #3 was taken over by pid 4243 on bastion-1 since 10:05 UTC".
fn taken_by(id: i64, holder: Option<crate::store::draft_lock::LockHolder>) -> String {
    match holder {
        Some(h) => format!("Draft #{id} was taken over by {}", h.describe()),
        None => format!("Draft #{id} was taken over by another wizard"),
    }
}

impl Runner {
    /// Start a provisioning run: a plan run of `config` (kept for the operator's review), or with
    /// `plan` the apply of exactly that plan run's saved plan (refused when the plan is not a
    /// finished plan of this build's modules). Secrets come from what the wizard holds in
    /// memory, otherwise from the references in the configuration (keyring entry or
    /// environment variable).
    fn start_run(
        &mut self,
        config: &crate::domain::platform::PlatformConfig,
        held: &[(SecretName, SecretString)],
        plan: Option<&crate::store::runs::RunRecord>,
        tofu: Option<PathBuf>,
    ) -> Result<String, String> {
        use crate::domain::platform::SecretSource;
        let held_for = |field: &str| -> Option<SecretString> {
            let name = if let Some(key) = field.strip_prefix("credentials.") {
                SecretName::for_credential(config.provider, key)?
            } else if field == "state_backend.s3.access_key_id" {
                SecretName::S3AccessKey
            } else if field == "state_backend.s3.secret_access_key" {
                SecretName::S3SecretKey
            } else {
                return None;
            };
            held.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        };
        let keyring = self.keyring.as_ref();
        let env = crate::provision::launch::secret_env(config, |field, r| {
            if let Some(v) = held_for(field) {
                return Ok(v);
            }
            match r.source() {
                Ok(SecretSource::Env(name)) => std::env::var(name)
                    .map(SecretString::from)
                    .map_err(|_| format!("{field}: environment variable {name} is not set")),
                Ok(SecretSource::Keyring(path)) => keyring
                    .and_then(|k| crate::secrets::get_referenced(k, path).ok().flatten())
                    .ok_or_else(|| format!("{field}: keyring entry {path} is not available")),
                Err(e) => Err(format!("{field}: {e}")),
            }
        })?;
        use crate::provision::launch::{self, PlanFingerprint, PlanRunRef, RunOptions};
        use crate::store::runs::RunAction;
        let (action, config_toml, options) = match plan {
            Some(plan) => {
                // Exactly the text the plan was made from (a headless plan's file as written,
                // not re-serialised), and the plan run's own settings (OpenTofu path, grace,
                // hand-over), so the apply is the plan's other half.
                launch::check_plan_run(plan, &plan.config_toml)?;
                let mut options: RunOptions =
                    serde_json::from_str(&plan.options_json).map_err(|e| {
                        format!("the options of plan run {} are unreadable: {e}", plan.id)
                    })?;
                options.fingerprint = None;
                options.plan_only = false;
                options.plan_run = Some(PlanRunRef {
                    id: plan.id.clone(),
                    workspace: plan.workspace.clone(),
                });
                (RunAction::Apply, plan.config_toml.clone(), options)
            }
            None => {
                let config_toml = config.to_toml().map_err(|e| e.to_string())?;
                let options = RunOptions {
                    tofu,
                    fingerprint: Some(PlanFingerprint::of(&config_toml)),
                    ..RunOptions::default()
                };
                (RunAction::Plan, config_toml, options)
            }
        };
        // Plan keys live in the keyring when there is one; this wizard also keeps the keys of
        // the plans it made in memory, so a plan it shows can be applied without a keyring.
        use crate::secrets::{PLAN_KEY, SecretStore, run_entry};
        let held_plan_key =
            plan.and_then(|p| self.memory.get(&run_entry(&p.id, PLAN_KEY)).ok().flatten());
        let req = launch::StartRequest {
            action,
            platform: launch::platform_label(config),
            config_toml,
            config_path: None,
            options,
            held_plan_key,
        };
        let started = launch::start(self.store.conn(), &req, &env).map_err(|e| e.to_string())?;
        if action == RunAction::Plan {
            self.memory
                .put(&run_entry(&started.id, PLAN_KEY), &started.plan_key)
                .map_err(|e| e.to_string())?;
        }
        // The supervisor runs in its own session and outlives this process; nothing to reap.
        drop(started.child);
        Ok(started.id)
    }
}

impl EffectRunner<Effect, Msg> for Runner {
    fn perform(&mut self, effect: Effect, tx: &UnboundedSender<Msg>) {
        let send = |m: Msg| {
            // The receiver lives as long as the loop; after it ends results are moot.
            let _ = tx.send(m);
        };
        match effect {
            Effect::NewDraft => match self.new_draft(Form::default()) {
                Ok(m) => send(m),
                Err(e) => send(Msg::Failed(e)),
            },
            Effect::OpenDraft(id) => match self.open_draft(id) {
                Ok(m) => send(m),
                Err(e) => send(Msg::Failed(e)),
            },
            Effect::OpenLockedDraft { id, how } => match self.open_locked(id, how) {
                Ok(msgs) => msgs.into_iter().for_each(send),
                Err(e) => send(Msg::Failed(e)),
            },
            Effect::DeleteDraft(id) => match self.delete_draft(id) {
                Ok(()) => {
                    for name in SecretName::ALL {
                        let key = secret_key(&self.prefix, id, name);
                        let _ = self.memory.delete(&key);
                        if let Some(k) = &self.keyring {
                            let _ = k.delete(&key);
                        }
                    }
                    send(Msg::DraftDeleted(id));
                }
                Err(e) => send(Msg::Failed(e)),
            },
            Effect::SaveDraft {
                id,
                title,
                data,
                progress,
            } => {
                if let Some(m) = self.save(id, &title, &data, progress) {
                    send(m);
                }
            }
            Effect::StoreSecret {
                draft,
                name,
                value,
                storage,
            } => {
                // Another wizard's draft keeps its secrets: the keyring entries are the draft's.
                if let Err(lost) = self.holding(draft) {
                    lost.into_iter().for_each(send);
                } else if let Err(e) = self.store_secret(draft, name, &value, storage) {
                    send(Msg::SecretStoreFailed(e));
                }
            }
            Effect::ForgetStoredSecrets { draft } => {
                if let Err(lost) = self.holding(draft) {
                    lost.into_iter().for_each(send);
                    return;
                }
                if let Some(k) = &self.keyring {
                    for name in SecretName::ALL {
                        if let Err(e) = k.delete(&secret_key(&self.prefix, draft, name)) {
                            send(Msg::SecretStoreFailed(e.to_string()));
                        }
                    }
                }
            }
            Effect::CheckToken {
                provider,
                token,
                secret_key,
                region,
                base_url,
                oci,
                generation,
            } => {
                let tx = tx.clone();
                tokio::task::spawn_blocking(move || {
                    let result = match (provider, oci) {
                        (Provider::HuaweiCloud, _) => {
                            check_huawei(token, secret_key, region, base_url, CHECK_TIMEOUT)
                        }
                        (Provider::Oci, Some(keys)) => {
                            check_oci(&token, keys, region, base_url, CHECK_TIMEOUT)
                        }
                        _ => check_token(provider, &token, base_url.as_deref()),
                    };
                    let _ = tx.send(Msg::TokenChecked { generation, result });
                });
            }
            Effect::ReadOciKey { path } => {
                let result = read_key_file(&path);
                send(Msg::OciKeyRead { path, result });
            }
            Effect::GenerateSshKey { comment } => {
                let pair = match sshkey::generate(&comment) {
                    Ok(pair) => pair,
                    Err(e) => {
                        send(Msg::Failed(format!("cannot generate an SSH key pair: {e}")));
                        return;
                    }
                };
                let fingerprint =
                    crate::domain::naming::parse_ssh_public_key("ssh", &pair.public_line)
                        .map(|k| k.fingerprint())
                        .unwrap_or_default();
                send(Msg::SshKeyGenerated {
                    public: pair.public_line,
                    key: GeneratedKey {
                        private_openssh: pair.private_openssh,
                        fingerprint,
                    },
                });
            }
            Effect::WritePrivateKey { path, key, public } => {
                send(Msg::PrivateKeySaved(write_private(&path, &key, &public)));
            }
            Effect::StartRun {
                config,
                secrets,
                tofu,
            } => {
                send(Msg::RunStarted(self.start_run(
                    &config,
                    &secrets,
                    None,
                    Some(tofu),
                )));
            }
            Effect::LocateTofu(explicit) => send(Msg::TofuLocated(locate_tofu(explicit))),
            Effect::ApplyPlan { plan, secrets } => {
                // The plan's own configuration text: the fingerprint check compares exactly it.
                let result = crate::store::runs::get_run(self.store.conn(), &plan)
                    .map_err(|e| e.to_string())
                    .and_then(|r| {
                        let config = crate::domain::platform::PlatformConfig::parse(&r.config_toml)
                            .map_err(|e| format!("the configuration of plan run {plan}: {e}"))?;
                        self.start_run(&config, &secrets, Some(&r), None)
                    });
                send(Msg::RunStarted(result));
            }
            Effect::DiscardPlan(id) => {
                if let Err(e) = discard_plan(self.store.conn(), &id) {
                    send(Msg::Failed(e));
                }
                // The key the rejected plan was encrypted with is of no further use.
                let entry = crate::secrets::run_entry(&id, crate::secrets::PLAN_KEY);
                let _ = self.memory.delete(&entry);
                if let Some(k) = self.keyring.as_ref()
                    && let Err(e) = k.delete(&entry)
                {
                    send(Msg::Failed(format!(
                        "cannot remove the plan key of run {id}: {e}"
                    )));
                }
            }
            Effect::PollRun { id, after } => {
                let conn = self.store.conn();
                let run = crate::store::runs::refresh_liveness(conn, &id)
                    .ok()
                    .map(Box::new);
                let events =
                    crate::store::runs::events_after(conn, &id, after, progress::POLL_PAGE)
                        .unwrap_or_default();
                send(Msg::RunPolled {
                    now_ms: crate::store::runs::now_ms(),
                    run,
                    events,
                });
            }
            Effect::CancelRun(id) => {
                let result = crate::provision::launch::request_cancel(self.store.conn(), &id)
                    .map_err(|e| e.to_string());
                send(Msg::RunCancelRequested(result));
            }
            Effect::Export { path, contents } => {
                send(Msg::Exported(write_export(&path, &contents)));
            }
        }
    }
}

/// Find OpenTofu as a run would and say what to do when it is not fit.
fn locate_tofu(explicit: Option<PathBuf>) -> model::TofuCheck {
    use crate::provision::runner::{MIN_TOFU_VERSION, RunnerError, Tofu};
    match Tofu::locate(explicit.as_deref()) {
        Ok(t) => model::TofuCheck::Found {
            path: t.path,
            version: t.version.to_string(),
        },
        Err(e) => {
            const INSTALL: &str = "https://opentofu.org/docs/intro/install/";
            let why = match &e {
                RunnerError::TofuNotFound => "OpenTofu was not found: no `tofu` on PATH".to_owned(),
                e => e.to_string(),
            };
            let todo = if explicit.is_some() {
                format!(
                    "quit and start `openova tui bootstrap --tofu PATH` with OpenTofu {MIN_TOFU_VERSION} or newer ({INSTALL})"
                )
            } else {
                format!(
                    "install OpenTofu {MIN_TOFU_VERSION} or newer ({INSTALL}), or quit and start `openova tui bootstrap --tofu PATH`"
                )
            };
            model::TofuCheck::Problem(format!("{why}. To run: {todo}"))
        }
    }
}

/// Remove the saved plan files (`tfplan`) of a rejected plan run; the run's record and log stay.
fn discard_plan(conn: &rusqlite::Connection, id: &str) -> Result<(), String> {
    let run = crate::store::runs::get_run(conn, id).map_err(|e| e.to_string())?;
    let mut dirs = vec![PathBuf::from(&run.workspace)];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .file_name()
                .is_some_and(|n| n == crate::provision::runner::PLAN_FILE)
            {
                std::fs::remove_file(&path)
                    .map_err(|e| format!("cannot remove the plan file {}: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// Write the private key to a new file with mode 0600 and the public key beside it as
/// `<path>.pub` (0644), as ssh-keygen does; `~` is the home directory and a missing directory
/// is created 0700. Never replaces an existing file. Returns the path as shown.
fn write_private(path: &str, key: &SecretString, public: &str) -> Result<String, String> {
    let path = crate::paths::expand_user(path);
    let mut pub_path = path.clone().into_os_string();
    pub_path.push(".pub");
    let pub_path = PathBuf::from(pub_path);
    for p in [&path, &pub_path] {
        if p.exists() {
            return Err(format!(
                "{} exists; choose another path (it is never overwritten)",
                p.display()
            ));
        }
    }
    crate::paths::ensure_parent(&path)
        .map_err(|e| format!("cannot create the directory of {}: {e}", path.display()))?;
    write_new(&path, key.expose_secret().as_bytes(), 0o600)?;
    write_new(&pub_path, format!("{public}\n").as_bytes(), 0o644)?;
    Ok(crate::paths::show_path(&path))
}

/// Create `path` (never an existing file) with `mode` and write `bytes` to it.
fn write_new(path: &std::path::Path, bytes: &[u8], mode: u32) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!(
                "{} exists; choose another path (it is never overwritten)",
                path.display()
            ),
            _ => format!("cannot create {}: {e}", path.display()),
        })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Write the exported platform.toml: `~` is the home directory, a missing directory is
/// created 0700. Returns the path as shown.
fn write_export(path: &str, contents: &str) -> Result<String, String> {
    let path = crate::paths::expand_user(path);
    crate::paths::ensure_parent(&path)
        .map_err(|e| format!("cannot create the directory of {}: {e}", path.display()))?;
    std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(crate::paths::show_path(&path))
}

/// Ask the provider whether the token works. Runs on a blocking thread.
pub fn check_token(
    provider: Provider,
    token: &SecretString,
    base: Option<&str>,
) -> Result<String, CheckFailure> {
    if provider != Provider::Hetzner {
        return Err(CheckFailure::Unreachable(format!(
            "no credential check exists for {}",
            provider.name()
        )));
    }
    check_hetzner(base.unwrap_or(HETZNER_API_URL), token, CHECK_TIMEOUT)
}

/// The Huawei Cloud check of `provision::credcheck`: one request signed with the access key
/// (SDK-HMAC-SHA256) to IAM, for the region's project. Runs on a blocking thread.
pub fn check_huawei(
    access_key: SecretString,
    secret_key: SecretString,
    region: String,
    base_url: Option<String>,
    timeout: Duration,
) -> Result<String, CheckFailure> {
    let creds = crate::provision::credcheck::Credentials::Huawei {
        access_key,
        secret_key,
        region,
        project_id: None,
    };
    check_signed(&creds, base_url, timeout)
}

/// The OCI check of `provision::credcheck`: one request to the Identity service for the user,
/// signed with the API key (HTTP signature, rsa-sha256). Runs on a blocking thread.
pub fn check_oci(
    tenancy: &SecretString,
    keys: update::OciKeys,
    region: String,
    base_url: Option<String>,
    timeout: Duration,
) -> Result<String, CheckFailure> {
    let creds = crate::provision::credcheck::Credentials::Oci {
        tenancy_ocid: tenancy.expose_secret().trim().to_owned(),
        user_ocid: keys.user_ocid,
        fingerprint: keys.fingerprint,
        private_key: keys.private_key,
        region,
    };
    check_signed(&creds, base_url, timeout)
}

/// One `provision::credcheck` request; its message either way.
fn check_signed(
    creds: &crate::provision::credcheck::Credentials,
    base_url: Option<String>,
    timeout: Duration,
) -> Result<String, CheckFailure> {
    use crate::provision::credcheck::{self, CheckOptions};
    let report = credcheck::check(
        creds,
        &CheckOptions {
            base_url,
            timeout,
            ..CheckOptions::default()
        },
    );
    if report.ok() {
        Ok(report.message())
    } else {
        Err(CheckFailure::Report(report.message()))
    }
}

/// The PEM text of an API private key file (at most 64 KiB; the text is never logged).
fn read_key_file(path: &str) -> Result<SecretString, String> {
    use std::io::Read;
    const LIMIT: u64 = 64 * 1024;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut text = String::new();
    file.take(LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > LIMIT {
        return Err("larger than 64 KiB: not a PEM key file".into());
    }
    Ok(SecretString::from(text))
}

/// `GET {base}/servers` with the token: 200 means it works, 401/403 that it is rejected.
pub fn check_hetzner(
    base: &str,
    token: &SecretString,
    timeout: Duration,
) -> Result<String, CheckFailure> {
    let url = format!("{}/servers?per_page=1", base.trim_end_matches('/'));
    tracing::debug!(%url, "checking the provider token");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let auth = SecretString::from(format!("Bearer {}", token.expose_secret()));
    match agent
        .get(&url)
        .header("Authorization", auth.expose_secret())
        .call()
    {
        Ok(resp) => match resp.status().as_u16() {
            200 => Ok("token accepted by the Hetzner Cloud API".into()),
            s @ (401 | 403) => Err(CheckFailure::Rejected { status: s }),
            s => Err(CheckFailure::Unexpected { status: s }),
        },
        Err(ureq::Error::Timeout(_)) => Err(CheckFailure::Timeout),
        Err(ureq::Error::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
            Err(CheckFailure::Timeout)
        }
        // ureq's error text names the host and the transport failure, never request headers.
        Err(e) => Err(CheckFailure::Unreachable(e.to_string())),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod lock_tests;

#[cfg(test)]
mod write_tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &std::path::Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn write_private_creates_the_directory_and_writes_the_pub_beside_it() {
        let tmp = tempfile::tempdir().unwrap();
        let key = tmp.path().join("home/.ssh/openova-acme_ed25519");
        let path = key.display().to_string();
        let secret = SecretString::from("PRIVATE".to_string());
        write_private(&path, &secret, "ssh-ed25519 AAAA ops@acme").unwrap();
        assert_eq!(mode(&key), 0o600);
        assert_eq!(mode(key.parent().unwrap()), 0o700);
        let public = tmp.path().join("home/.ssh/openova-acme_ed25519.pub");
        assert_eq!(mode(&public), 0o644);
        assert_eq!(
            std::fs::read_to_string(&public).unwrap(),
            "ssh-ed25519 AAAA ops@acme\n"
        );
        // Neither file is ever replaced.
        let again = write_private(&path, &secret, "x").unwrap_err();
        assert!(again.contains("exists"), "{again}");
    }

    #[test]
    fn write_export_creates_a_missing_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("out/platform.toml");
        write_export(&file.display().to_string(), "x = 1\n").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x = 1\n");
        assert_eq!(mode(file.parent().unwrap()), 0o700);
    }
}
