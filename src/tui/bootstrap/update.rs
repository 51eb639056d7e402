//! Owns the wizard's `update`: every key, paste and background result turns into new state plus
//! effects (save the draft, store a secret, check the token...). No I/O happens here.

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent};
use secrecy::SecretString;

use super::keys::{self, Action};
use super::model::*;
use crate::domain::naming::{self, BuildingBlock, EnvType, Location, Provider};
use crate::domain::resolve;
use crate::tui::dialog::{ConfirmDialog, Reply};
use crate::tui::keymap::{is_char, is_ctrl, lookup, lookup_in};
use crate::tui::runtime::Input;
use crate::tui::widgets::field::{Edit, TextField};

/// Results reported by effects.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A draft was created or loaded and is now the one being edited.
    DraftOpened {
        id: i64,
        form: Box<Form>,
        secrets: Vec<(SecretName, SecretString)>,
    },
    /// A draft was opened read-only: `reason` says why (who else has it open).
    DraftOpenedReadOnly {
        id: i64,
        form: Box<Form>,
        secrets: Vec<(SecretName, SecretString)>,
        reason: String,
    },
    /// The draft asked for is open in another wizard that may be alive: ask what to do.
    DraftLocked {
        id: i64,
        title: String,
        /// "pid 4242 on bastion-1 since 10:02 UTC".
        holder: String,
    },
    /// A save found this wizard no longer owns the draft (taken over, or changed elsewhere):
    /// nothing was written; `stored` is what the draft holds now.
    DraftLost {
        reason: String,
        stored: Option<Box<Form>>,
    },
    DraftSaveFailed(String),
    SecretStoreFailed(String),
    TokenChecked {
        generation: u64,
        result: Result<String, CheckFailure>,
    },
    SshKeyGenerated {
        public: String,
        key: GeneratedKey,
    },
    PrivateKeySaved(Result<String, String>),
    Exported(Result<String, String>),
    DraftDeleted(i64),
    RunStarted(Result<String, String>),
    /// A run that was still going when the wizard started: show its progress.
    RunAttached(String),
    RunPolled {
        now_ms: i64,
        run: Option<Box<crate::store::runs::RunRecord>>,
        events: Vec<crate::store::runs::EventRecord>,
    },
    RunCancelRequested(Result<(), String>),
    /// Where OpenTofu is and whether it is new enough (or what is wrong with it).
    TofuLocated(TofuCheck),
    /// The OCI API private key file `path` was read (its PEM text), or why not.
    OciKeyRead {
        path: String,
        result: Result<SecretString, String>,
    },
    /// Something the operator must read (a draft could not be opened, deleted...).
    Failed(String),
    /// Something worth knowing that went well (a stale lock taken, a copy made).
    Note(String),
}

/// What the OCI check needs beside the tenancy OCID (held in the token field).
#[derive(Debug, Clone)]
pub struct OciKeys {
    pub user_ocid: String,
    pub fingerprint: String,
    /// The PEM text (never a path).
    pub private_key: SecretString,
}

/// Work for the effect runner.
#[derive(Debug)]
pub enum Effect {
    NewDraft,
    /// Open a draft, taking its lock (or report that another wizard holds it).
    OpenDraft(i64),
    /// Open a draft another wizard holds, as the operator chose.
    OpenLockedDraft {
        id: i64,
        how: OpenLocked,
    },
    DeleteDraft(i64),
    SaveDraft {
        id: i64,
        title: String,
        data: String,
        progress: u8,
    },
    StoreSecret {
        draft: i64,
        name: SecretName,
        value: SecretString,
        storage: SecretStorage,
    },
    /// The operator switched to memory only: remove this draft's secrets from the keyring.
    ForgetStoredSecrets {
        draft: i64,
    },
    CheckToken {
        provider: Provider,
        token: SecretString,
        /// Huawei Cloud's secret access key (empty for Hetzner).
        secret_key: SecretString,
        /// The provider's region of the first cluster (Huawei's IAM project is looked up there).
        region: String,
        /// Replaces the provider's check endpoint.
        base_url: Option<String>,
        /// OCI's user, fingerprint and key (`None` for the others).
        oci: Option<OciKeys>,
        generation: u64,
    },
    /// Read the OCI API private key from a PEM file (the key goes to memory and the keyring).
    ReadOciKey {
        path: String,
    },
    GenerateSshKey {
        comment: String,
    },
    WritePrivateKey {
        path: String,
        key: SecretString,
        /// The public key line, written beside it as `<path>.pub`.
        public: String,
    },
    Export {
        path: String,
        contents: String,
    },
    /// Record a plan run and start its detached supervisor. The wizard's in-memory secrets go
    /// along for the credentials they answer; others are resolved from their references.
    StartRun {
        config: Box<crate::domain::platform::PlatformConfig>,
        secrets: Vec<(SecretName, SecretString)>,
        /// The OpenTofu executable Review found (recorded as the run's `tofu`).
        tofu: std::path::PathBuf,
    },
    /// Find OpenTofu (`--tofu PATH`, else `tofu` on PATH) and check its version.
    LocateTofu(Option<std::path::PathBuf>),
    /// Start an apply run of exactly the saved plan of run `plan` (approved by the operator).
    ApplyPlan {
        plan: String,
        secrets: Vec<(SecretName, SecretString)>,
    },
    /// Remove the saved plan files of a rejected plan run.
    DiscardPlan(String),
    PollRun {
        id: String,
        after: i64,
    },
    CancelRun(String),
}

/// A focusable field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldId {
    OrgName,
    OrgSlug,
    Domain,
    Email,
    Env,
    Token,
    SecretKey,
    OciUser,
    OciFingerprint,
    OciKey,
    OciRegion,
    OciCompartment,
    LiveCheck,
    StateBackend,
    S3Endpoint,
    S3Bucket,
    S3Region,
    S3AccessKey,
    S3SecretKey,
    SshMode,
    SshKey,
    SecretStorage,
    Provider,
    RegionCount,
    Location(usize),
    BuildingBlock(usize),
    ControlPlaneSize(usize),
    ControlPlaneCount(usize),
    WorkerCount(usize),
    WorkerSize(usize),
    ApiCidrs,
    SshCidrs,
}

impl FieldId {
    pub fn label(self) -> String {
        match self {
            FieldId::OrgName => "Organization name".into(),
            FieldId::OrgSlug => "Slug".into(),
            FieldId::Domain => "Domain".into(),
            FieldId::Email => "Contact email".into(),
            FieldId::Env => "Environment".into(),
            FieldId::Token => "API token".into(),
            FieldId::SecretKey => "Secret key (SK)".into(),
            FieldId::OciUser => "User OCID".into(),
            FieldId::OciFingerprint => "Key fingerprint".into(),
            FieldId::OciKey => "API private key".into(),
            FieldId::OciRegion => "Region".into(),
            FieldId::OciCompartment => "Compartment".into(),
            FieldId::LiveCheck => "Live check".into(),
            FieldId::StateBackend => "Tofu state".into(),
            FieldId::S3Endpoint => "S3 endpoint".into(),
            FieldId::S3Bucket => "S3 bucket".into(),
            FieldId::S3Region => "S3 region".into(),
            FieldId::S3AccessKey => "S3 access key".into(),
            FieldId::S3SecretKey => "S3 secret key".into(),
            FieldId::SshMode => "SSH access".into(),
            FieldId::SshKey => "SSH key".into(),
            FieldId::SecretStorage => "Keep secrets".into(),
            FieldId::Provider => "Provider".into(),
            FieldId::RegionCount => "Regions".into(),
            FieldId::Location(_) => "Location".into(),
            FieldId::BuildingBlock(_) => "Building block".into(),
            FieldId::ControlPlaneSize(_) => "Control plane".into(),
            FieldId::ControlPlaneCount(_) => "CP nodes".into(),
            FieldId::WorkerCount(_) => "Workers".into(),
            FieldId::WorkerSize(_) => "Worker size".into(),
            FieldId::ApiCidrs => "API allowed from".into(),
            FieldId::SshCidrs => "SSH allowed from".into(),
        }
    }

    /// Fields typed as free text, where letters like `q` and `?` are input, not commands.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldId::OrgName
                | FieldId::OrgSlug
                | FieldId::Domain
                | FieldId::Email
                | FieldId::Token
                | FieldId::SecretKey
                | FieldId::OciUser
                | FieldId::OciFingerprint
                | FieldId::OciKey
                | FieldId::OciCompartment
                | FieldId::S3Endpoint
                | FieldId::S3Bucket
                | FieldId::S3Region
                | FieldId::S3AccessKey
                | FieldId::S3SecretKey
                | FieldId::ApiCidrs
                | FieldId::SshCidrs
        ) || self == FieldId::SshKey
    }

    /// Whether the field's value is masked on screen (Ctrl+O shows it): the provider token and
    /// secret key and the S3 keys. OCI's identifiers are shown as typed and its private key only
    /// as what it is, never revealed.
    pub fn masked(self) -> bool {
        matches!(
            self,
            FieldId::Token | FieldId::SecretKey | FieldId::S3AccessKey | FieldId::S3SecretKey
        )
    }

    /// The secret a field holds (kept in the keyring or memory, never in the draft), if any.
    pub fn secret(self) -> Option<SecretName> {
        match self {
            FieldId::Token => Some(SecretName::ProviderToken),
            FieldId::SecretKey => Some(SecretName::ProviderSecretKey),
            FieldId::OciUser => Some(SecretName::OciUser),
            FieldId::OciFingerprint => Some(SecretName::OciFingerprint),
            FieldId::OciKey => Some(SecretName::OciPrivateKey),
            FieldId::S3AccessKey => Some(SecretName::S3AccessKey),
            FieldId::S3SecretKey => Some(SecretName::S3SecretKey),
            _ => None,
        }
    }

    /// The field an error path (as used in platform.toml) refers to.
    pub fn for_error(path: &str) -> Option<(Step, FieldId)> {
        let region = |rest: &str| -> Option<(usize, String)> {
            let rest = rest.strip_prefix("regions[")?;
            let (i, tail) = rest.split_once("].")?;
            Some((i.parse().ok()?, tail.to_string()))
        };
        Some(match path {
            "organization.name" => (Step::Organization, FieldId::OrgName),
            "organization.slug" => (Step::Organization, FieldId::OrgSlug),
            "organization.domain" => (Step::Organization, FieldId::Domain),
            "organization.email" => (Step::Organization, FieldId::Email),
            "credentials.provider_token"
            | "credentials.access_key"
            | "credentials.tenancy_ocid" => (Step::Credentials, FieldId::Token),
            "credentials.secret_key" => (Step::Credentials, FieldId::SecretKey),
            "credentials.user_ocid" => (Step::Credentials, FieldId::OciUser),
            "credentials.fingerprint" => (Step::Credentials, FieldId::OciFingerprint),
            "credentials.private_key" => (Step::Credentials, FieldId::OciKey),
            "oci.compartment_ocid" => (Step::Credentials, FieldId::OciCompartment),
            "state.s3.endpoint" => (Step::Credentials, FieldId::S3Endpoint),
            "state.s3.bucket" => (Step::Credentials, FieldId::S3Bucket),
            "state.s3.access_key" => (Step::Credentials, FieldId::S3AccessKey),
            "state.s3.secret_key" => (Step::Credentials, FieldId::S3SecretKey),
            "ssh.public_key" => (Step::Credentials, FieldId::SshKey),
            p if p.starts_with("api.allowed_cidrs") => (Step::Regions, FieldId::ApiCidrs),
            p if p.starts_with("ssh.allowed_cidrs") => (Step::Regions, FieldId::SshCidrs),
            p => {
                let (i, tail) = region(p)?;
                let f = match tail.as_str() {
                    "location" => FieldId::Location(i),
                    "building_block" => FieldId::BuildingBlock(i),
                    "control_plane_size" => FieldId::ControlPlaneSize(i),
                    "worker_size" => FieldId::WorkerSize(i),
                    "workers" => FieldId::WorkerCount(i),
                    _ => FieldId::Location(i),
                };
                (Step::Regions, f)
            }
        })
    }
}

/// The focusable fields of a step, in order.
pub fn fields(m: &Model, step: Step) -> Vec<FieldId> {
    match step {
        Step::Organization => vec![
            FieldId::OrgName,
            FieldId::OrgSlug,
            FieldId::Domain,
            FieldId::Email,
            FieldId::Env,
        ],
        Step::Credentials => {
            // The provider first: the credentials asked depend on it.
            let mut v = vec![FieldId::Provider, FieldId::Token];
            match m.form.provider {
                Provider::HuaweiCloud => v.push(FieldId::SecretKey),
                Provider::Oci => v.extend([
                    FieldId::OciUser,
                    FieldId::OciFingerprint,
                    FieldId::OciKey,
                    FieldId::OciRegion,
                    FieldId::OciCompartment,
                ]),
                Provider::Hetzner => {}
            }
            v.extend([FieldId::LiveCheck, FieldId::StateBackend]);
            if m.form.state_backend == StateBackend::S3 {
                v.extend([
                    FieldId::S3Endpoint,
                    FieldId::S3Bucket,
                    FieldId::S3Region,
                    FieldId::S3AccessKey,
                    FieldId::S3SecretKey,
                ]);
            }
            v.extend([FieldId::SshMode, FieldId::SshKey, FieldId::SecretStorage]);
            v
        }
        Step::Provider => vec![FieldId::Provider],
        Step::Regions => {
            let mut v = vec![FieldId::RegionCount];
            for i in 0..m.form.regions.len() {
                v.extend([
                    FieldId::Location(i),
                    FieldId::BuildingBlock(i),
                    FieldId::ControlPlaneSize(i),
                    FieldId::ControlPlaneCount(i),
                    FieldId::WorkerCount(i),
                    FieldId::WorkerSize(i),
                ]);
            }
            v.extend([FieldId::ApiCidrs, FieldId::SshCidrs]);
            v
        }
        Step::Components | Step::Review => Vec::new(),
    }
}

pub fn focused(m: &Model) -> Option<FieldId> {
    fields(m, m.form.step).get(m.focus).copied()
}

/// Whether letters typed now are text (so `q`, `?`, `/` must not act as commands).
pub fn typing(m: &Model) -> bool {
    m.prompt.is_some()
        || m.filtering
        || (m.mode == Mode::Wizard
            && focused(m).is_some_and(|f| {
                f.is_text() && (f != FieldId::SshKey || m.form.ssh_mode == SshMode::Paste)
            }))
}

/// One entry of the Components list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRow {
    pub name: String,
    pub title: String,
    pub description: String,
    pub category: crate::domain::catalog::Category,
    pub selected: bool,
    pub locked: bool,
}

/// Rows of the Components screen after the filter, grouped by category in catalog order.
pub fn component_rows(m: &Model) -> Vec<ComponentRow> {
    use crate::domain::catalog::Category;
    let cat = crate::catalog::embedded();
    let filter = m.filter.value().to_lowercase();
    let matches = |name: &str, title: &str, desc: &str| {
        filter.is_empty()
            || name.to_lowercase().contains(&filter)
            || title.to_lowercase().contains(&filter)
            || desc.to_lowercase().contains(&filter)
    };
    let mut rows = Vec::new();
    for category in Category::ALL {
        if category == Category::MetaPlatform {
            for meta in cat.meta_platforms() {
                if matches(&meta.name, &meta.title, &meta.description) {
                    rows.push(ComponentRow {
                        name: meta.name.clone(),
                        title: meta.title.clone(),
                        description: meta.description.clone(),
                        category,
                        selected: m.form.components.contains(&meta.name),
                        locked: false,
                    });
                }
            }
            continue;
        }
        for c in cat.components().iter().filter(|c| c.category == category) {
            if matches(&c.name, &c.title, &c.description) {
                let locked = category == Category::Mandatory;
                rows.push(ComponentRow {
                    name: c.name.clone(),
                    title: c.title.clone(),
                    description: c.description.clone(),
                    category,
                    selected: locked || m.form.components.contains(&c.name),
                    locked,
                });
            }
        }
    }
    rows
}

/// Mandatory components plus the selection: what is "installed" from the resolver's view.
/// The lines of an add dialog: what selecting `name` adds (`+ name  reason`), and what it
/// needs that is already in (`needs cnpg (mandatory, already included)`), so no requirement
/// goes unnamed.
fn plan_lines(
    plan: &resolve::Plan,
    current: &BTreeSet<String>,
    name: &str,
) -> (Vec<String>, Vec<String>) {
    let cat = crate::catalog::embedded();
    let mut extra = Vec::new();
    let mut kept = Vec::new();
    for i in plan.items.iter().filter(|i| i.name != name) {
        if current.contains(&i.name) {
            let mandatory = cat.mandatory().iter().any(|c| c.name == i.name);
            let why = if mandatory { "mandatory, " } else { "" };
            kept.push(format!("  needs {} ({why}already included)", i.name));
        } else {
            extra.push(format!("  + {:<20} {}", i.name, i.reason));
        }
    }
    (extra, kept)
}

/// The optional members a plan offers that are not selected yet.
fn open_offers<'p>(
    plan: &'p resolve::Plan,
    current: &BTreeSet<String>,
) -> Vec<&'p resolve::OptionalOffer> {
    plan.offers
        .iter()
        .filter(|o| !current.contains(&o.name))
        .collect()
}

/// How many components and meta-platforms are selected (mandatory ones included), whatever
/// the filter shows.
pub fn selected_count(m: &Model) -> usize {
    effective_selection(m).len()
}

fn effective_selection(m: &Model) -> BTreeSet<String> {
    let cat = crate::catalog::embedded();
    let mut s = m.form.components.clone();
    s.extend(cat.mandatory().iter().map(|c| c.name.clone()));
    s
}

impl Model {
    /// Persist the form: one effect per change, so a kill loses nothing.
    fn save(&mut self) -> Vec<Effect> {
        if self.form.step > self.form.reached {
            self.form.reached = self.form.step;
        }
        let Some(id) = self.draft_id else {
            return Vec::new();
        };
        match serde_json::to_string(&self.form) {
            Ok(data) => vec![Effect::SaveDraft {
                id,
                title: self.title(),
                data,
                progress: self.progress(),
            }],
            Err(e) => {
                self.notice_error(format!("cannot encode the draft: {e}"));
                Vec::new()
            }
        }
    }

    fn notice(&mut self, text: impl Into<String>) {
        self.status = Some(Notice {
            text: text.into(),
            error: false,
        });
    }

    fn notice_error(&mut self, text: impl Into<String>) {
        self.status = Some(Notice {
            text: text.into(),
            error: true,
        });
    }

    fn goto(&mut self, step: Step) -> Vec<Effect> {
        self.form.step = step;
        self.focus = 0;
        self.review_scroll = 0;
        self.review_cursor = 0;
        self.filtering = false;
        let mut effects = self.save();
        // Review looks for OpenTofu anew each time it opens: it may have been installed since.
        if step == Step::Review {
            effects.push(Effect::LocateTofu(self.tofu_arg.clone()));
        }
        effects
    }

    /// Turn the live credential check off (offline) or back on, which checks at once.
    fn toggle_offline(&mut self) -> Vec<Effect> {
        self.offline = !self.offline;
        if self.offline {
            self.check_generation += 1;
            self.check = CheckState::NotChecked;
            self.notice("Offline: the live credential check is skipped; a wrong credential shows only when OpenTofu runs.");
            Vec::new()
        } else if self.token.is_empty() {
            self.notice("Live check on: enter the token on Credentials to check it.");
            Vec::new()
        } else {
            self.notice("Live check on: checking the credentials…");
            self.start_check()
        }
    }

    fn quit_requested(&mut self) {
        if let Mode::Progress(p) = &self.mode
            && !p.0.state().is_terminal()
        {
            let id = p.0.run_id.clone();
            self.dialogs.push(ConfirmDialog::new(
                "Quit?",
                vec![
                    format!("Run {id} keeps going in the background."),
                    format!("Watch it again with `openova runs attach {id}`."),
                ],
                "quit",
                "stay",
                Intent::Quit,
            ));
        } else if self.check == CheckState::Checking {
            self.dialogs.push(ConfirmDialog::new(
                "Quit?",
                vec![
                    "The credential check is still running.".into(),
                    "Everything you entered is saved in the draft.".into(),
                ],
                "quit",
                "stay",
                Intent::Quit,
            ));
        } else {
            self.finished = true;
        }
    }

    /// Apply one input. On a read-only draft an input that would change the draft (an edit, a
    /// generated key, a run started from it) is refused whole: the model stays as it was and
    /// the status line says why; moving around still works and nothing is saved.
    pub fn update(&mut self, input: Input<Msg>) -> Vec<Effect> {
        // Results of work already allowed (a lost lock, a poll) always apply.
        if self.read_only.is_none() || !matches!(input, Input::Key(_) | Input::Paste(_)) {
            return self.apply(input);
        }
        let before = self.clone();
        let mut effects = self.apply(input);
        if self.read_only.is_some() && (self.edited_since(&before) || effects.iter().any(writes)) {
            *self = before;
            let reason = self.read_only.clone().unwrap_or_default();
            self.notice_error(format!("Read-only, nothing changed or saved: {reason}"));
            return Vec::new();
        }
        // Moving between screens records the step; a read-only draft keeps its own.
        effects.retain(|e| !matches!(e, Effect::SaveDraft { .. }));
        effects
    }

    /// Whether the draft's values (not where the operator is) differ from `before`'s.
    fn edited_since(&self, before: &Model) -> bool {
        let values = |m: &Model| {
            let mut f = m.form.clone();
            f.step = Step::Organization;
            f.reached = Step::Organization;
            f
        };
        values(self) != values(before)
            || SecretName::ALL
                .iter()
                .any(|n| self.secret(*n).field.value() != before.secret(*n).field.value())
    }

    fn apply(&mut self, input: Input<Msg>) -> Vec<Effect> {
        match input {
            Input::Key(key) => self.handle_key(key),
            Input::Paste(text) => self.handle_paste(&text),
            Input::Tick => match &self.mode {
                Mode::Progress(p) if !p.0.settled() => vec![Effect::PollRun {
                    id: p.0.run_id.clone(),
                    after: p.0.last_seq(),
                }],
                _ => Vec::new(),
            },
            Input::Resize(..) => Vec::new(),
            Input::Msg(msg) => self.handle_msg(msg),
            Input::Terminate => {
                // Drafts are saved on every change, so there is nothing left to flush.
                self.finished = true;
                Vec::new()
            }
        }
    }

    fn handle_msg(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::DraftOpened { id, form, secrets } => self.opened(id, *form, secrets),
            Msg::DraftOpenedReadOnly {
                id,
                form,
                secrets,
                reason,
            } => {
                let effects = self.opened(id, *form, secrets);
                self.notice(format!("Read-only, nothing you change is saved: {reason}"));
                self.read_only = Some(reason);
                effects
            }
            Msg::DraftLocked { id, title, holder } => {
                self.dialogs.push(locked_dialog(id, &title, &holder));
                Vec::new()
            }
            Msg::DraftLost { reason, stored } => {
                if let Some(form) = stored {
                    self.show_stored(*form);
                }
                self.notice_error(format!("Nothing saved, read-only now: {reason}"));
                self.read_only = Some(reason);
                Vec::new()
            }
            Msg::Note(text) => {
                self.notice(text);
                Vec::new()
            }
            Msg::DraftSaveFailed(e) => {
                self.notice_error(format!("Draft NOT saved: {e}"));
                Vec::new()
            }
            Msg::SecretStoreFailed(e) => {
                self.notice_error(format!("{e}; the secret is kept in memory only"));
                Vec::new()
            }
            Msg::TokenChecked { generation, result } => {
                if generation == self.check_generation {
                    self.check = match result {
                        Ok(ok) => CheckState::Valid(ok),
                        Err(f) => CheckState::Failed(f),
                    };
                }
                Vec::new()
            }
            Msg::SshKeyGenerated { public, key } => {
                self.form.ssh_public_key = public.clone();
                self.inputs.ssh_public_key.set(&public);
                self.form.ssh_private_key_saved_to = None;
                let default_path = crate::paths::default_ssh_key_path(&self.form.org_slug);
                self.generated = Some(key);
                self.prompt = Some(PathPrompt {
                    title: "Save the private key (shown once; Esc to not keep it)".into(),
                    field: TextField::new(&default_path),
                    purpose: PromptPurpose::SavePrivateKey,
                    error: None,
                });
                self.save()
            }
            Msg::PrivateKeySaved(result) => {
                match result {
                    Ok(path) => {
                        self.prompt = None;
                        self.generated = None;
                        self.form.ssh_private_key_saved_to = Some(path.clone());
                        self.notice(format!("Key pair written: {path} (0600) and .pub (0644)"));
                        return self.save();
                    }
                    Err(e) => {
                        if let Some(p) = &mut self.prompt {
                            p.error = Some(e);
                        }
                    }
                }
                Vec::new()
            }
            Msg::Exported(result) => {
                match result {
                    Ok(path) => {
                        self.prompt = None;
                        self.notice(format!("Exported {path}"));
                    }
                    Err(e) => {
                        if let Some(p) = &mut self.prompt {
                            p.error = Some(e);
                        }
                    }
                }
                Vec::new()
            }
            Msg::RunStarted(Ok(id)) => {
                self.notice(format!("Run {id} started"));
                self.mode = Mode::Progress(Box::new(ProgressView(
                    super::progress::ProgressScreen::new(id.clone()),
                )));
                vec![Effect::PollRun { id, after: 0 }]
            }
            Msg::RunAttached(id) => {
                self.notice(format!(
                    "Attached to run {id}, still in progress; Esc returns to the wizard, the run continues"
                ));
                self.mode = Mode::Progress(Box::new(ProgressView(
                    super::progress::ProgressScreen::new(id.clone()),
                )));
                vec![Effect::PollRun { id, after: 0 }]
            }
            Msg::RunStarted(Err(e)) => {
                self.notice_error(format!("The run did not start: {e}"));
                Vec::new()
            }
            Msg::RunPolled {
                now_ms,
                run,
                events,
            } => {
                if let Mode::Progress(p) = &mut self.mode {
                    let was_live = !p.0.state().is_terminal();
                    if let Some(run) = run {
                        p.0.set_run(&run);
                    }
                    for e in &events {
                        p.0.apply_event(e);
                    }
                    // "started" / "still in progress" would now contradict the screen, which
                    // says how the run ended.
                    if was_live && p.0.state().is_terminal() {
                        self.status = None;
                    }
                    p.0.set_polled(events.len());
                    p.0.set_now(now_ms);
                }
                Vec::new()
            }
            Msg::RunCancelRequested(result) => {
                match result {
                    Ok(()) => self.notice("Cancel requested: OpenTofu is stopping gracefully."),
                    Err(e) => self.notice_error(format!("Cancel failed: {e}")),
                }
                Vec::new()
            }
            Msg::TofuLocated(found) => {
                self.tofu = found;
                Vec::new()
            }
            Msg::OciKeyRead { path, result } => self.oci_key_read(path, result),
            Msg::Failed(e) => {
                self.notice_error(e);
                Vec::new()
            }
            Msg::DraftDeleted(id) => {
                if let Mode::Resume { drafts, cursor } = &mut self.mode {
                    drafts.retain(|d| d.id != id);
                    *cursor = (*cursor).min(drafts.len());
                }
                Vec::new()
            }
        }
    }

    /// Make draft `id` the one being edited, with its stored values and secrets.
    fn opened(
        &mut self,
        id: i64,
        form: Form,
        secrets: Vec<(SecretName, SecretString)>,
    ) -> Vec<Effect> {
        let storage_note = self.secret_store_kind.clone();
        let explain = self.secret_store_explain.clone();
        let keyring_unavailable = self.keyring_unavailable;
        let keyring_prefix = std::mem::take(&mut self.keyring_prefix);
        let now = self.now;
        let (tofu_arg, tofu, offline) = (self.tofu_arg.take(), self.tofu.clone(), self.offline);
        let huawei_iam_url = self.huawei_iam_url.take();
        let hetzner_api_url = self.hetzner_api_url.take();
        let oci_identity_url = self.oci_identity_url.take();
        *self = Model::new(form, Some(id), now);
        self.tofu_arg = tofu_arg;
        self.tofu = tofu;
        self.offline = offline;
        self.huawei_iam_url = huawei_iam_url;
        self.hetzner_api_url = hetzner_api_url;
        self.oci_identity_url = oci_identity_url;
        self.secret_store_kind = storage_note;
        self.secret_store_explain = explain;
        self.keyring_unavailable = keyring_unavailable;
        self.keyring_prefix = keyring_prefix;
        for (name, value) in secrets {
            self.secret_mut(name).set(&value);
        }
        // Opening writes nothing: the draft is already stored as it is.
        let mut effects = Vec::new();
        if !self.token.is_empty() {
            effects.extend(self.start_check());
        }
        effects
    }

    /// Show what the draft holds now (another wizard's values) in place of this wizard's,
    /// staying on the same screen.
    fn show_stored(&mut self, mut form: Form) {
        form.step = self.form.step;
        form.reached = self.form.reached;
        self.inputs = Inputs::from_form(&form);
        self.form = form;
    }

    fn start_check(&mut self) -> Vec<Effect> {
        self.check_generation += 1;
        let provider = self.form.provider;
        if self.offline {
            self.check = CheckState::NotChecked;
            return Vec::new();
        }
        if provider == Provider::Oci {
            if !self.oci_errors().is_empty() {
                // What is missing or malformed is listed under the fields; nothing is sent.
                self.check = CheckState::NotChecked;
                return Vec::new();
            }
        } else if provider == Provider::HuaweiCloud {
            if self.token.is_empty() || self.secret_key.is_empty() {
                // What is missing is listed under the fields; nothing is sent half-filled.
                self.check = CheckState::NotChecked;
                return Vec::new();
            }
        } else {
            let len = self.token.field.value().chars().count();
            if len == 0 {
                self.check = CheckState::Failed(CheckFailure::Required);
                return Vec::new();
            }
            if len < HETZNER_TOKEN_MIN {
                self.check = CheckState::Failed(CheckFailure::TooShort {
                    min: HETZNER_TOKEN_MIN,
                });
                return Vec::new();
            }
        }
        self.check = CheckState::Checking;
        vec![Effect::CheckToken {
            provider,
            token: self.token.secret(),
            secret_key: self.secret_key.secret(),
            region: self
                .form
                .regions
                .first()
                .map(|r| r.location.api_region().to_owned())
                .unwrap_or_default(),
            base_url: match provider {
                Provider::HuaweiCloud => self.huawei_iam_url.clone(),
                Provider::Oci => self.oci_identity_url.clone(),
                Provider::Hetzner => self.hetzner_api_url.clone(),
            },
            oci: (provider == Provider::Oci).then(|| OciKeys {
                user_ocid: self.oci_user.field.value().trim().to_owned(),
                fingerprint: self.oci_fingerprint.field.value().trim().to_owned(),
                private_key: self.secret_value(SecretName::OciPrivateKey),
            }),
            generation: self.check_generation,
        }]
    }

    /// The key file was read: its PEM text replaces the path (and is stored), then the
    /// credentials are checked once everything else is entered.
    fn oci_key_read(&mut self, path: String, result: Result<SecretString, String>) -> Vec<Effect> {
        use secrecy::ExposeSecret;
        if self.oci_key.field.value().trim() != path {
            return Vec::new(); // the field changed meanwhile
        }
        let pem = match result {
            Ok(pem) => pem,
            Err(e) => {
                self.notice_error(format!("Cannot read the API private key from {path}: {e}"));
                return Vec::new();
            }
        };
        let effects = self.edit_field(FieldId::OciKey, |f| {
            f.set(pem.expose_secret());
            Edit::Changed
        });
        match self.oci_key_input() {
            OciKeyInput::Pem(Ok(bits)) => {
                self.notice(format!(
                    "Read a {bits}-bit RSA key from {path}; the wizard keeps the key, not the path."
                ));
                effects.into_iter().chain(self.start_check()).collect()
            }
            _ => {
                self.notice_error(format!("{path} does not hold a usable API private key."));
                effects
            }
        }
    }

    fn handle_paste(&mut self, text: &str) -> Vec<Effect> {
        if let Some(p) = &mut self.prompt {
            if p.field.insert_str(text) == Edit::ChangedAndCut {
                p.error = Some("pasted text was cut: control characters or too long".into());
            }
            return Vec::new();
        }
        if self.filtering {
            self.filter.insert_str(text);
            self.component_cursor = 0;
            return Vec::new();
        }
        if self.mode != Mode::Wizard || !typing(self) {
            return Vec::new();
        }
        let Some(field) = focused(self) else {
            return Vec::new();
        };
        // Bracketed paste arrives whole; route it through the same path as typing. A PEM key
        // loses its line breaks in the one-line field (and gets them back when used).
        if field == FieldId::OciKey {
            let flat: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
            return self.edit_field(field, |f| f.insert_str(&flat));
        }
        self.edit_field(field, |f| f.insert_str(text))
    }

    fn handle_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if self.show_help {
            if lookup(keys::HELP, &key).is_some() {
                self.show_help = false;
            }
            if !is_ctrl(&key, 'c') {
                return Vec::new();
            }
            self.show_help = false;
        }
        if self.prompt.is_some() {
            return self.handle_prompt_key(&key);
        }
        if let Some(top) = self.dialogs.last_mut() {
            return match top.handle_key(&key) {
                Reply::Done(intent) | Reply::Submit(intent) => {
                    self.dialogs.pop();
                    self.confirm(intent)
                }
                Reply::Close => {
                    self.dialogs.pop();
                    Vec::new()
                }
                Reply::Keep(_) => Vec::new(),
            };
        }
        if is_ctrl(&key, 'c') {
            self.quit_requested();
            return Vec::new();
        }
        if key.code == KeyCode::F(1) || (!typing(self) && is_char(&key, '?')) {
            self.show_help = true;
            return Vec::new();
        }
        if !typing(self) && is_char(&key, 'q') {
            self.quit_requested();
            return Vec::new();
        }
        if let Mode::Resume { .. } = self.mode {
            return self.handle_resume_key(&key);
        }
        if let Mode::Progress(p) = &mut self.mode {
            use super::progress::ProgressAction;
            let id = p.0.run_id.clone();
            let state = p.0.state();
            let review = p.0.plan_review();
            return match p.0.handle_key(&key) {
                ProgressAction::None => Vec::new(),
                ProgressAction::CancelRun => vec![Effect::CancelRun(id)],
                ProgressAction::Leave => {
                    self.mode = Mode::Wizard;
                    if review.is_some() {
                        self.notice(format!(
                            "Plan run {id} is kept, not applied: review it again with `openova runs show {id}`, apply it with `openova bootstrap apply --config FILE --plan {id}`"
                        ));
                    } else if state.is_terminal() {
                        self.notice(format!(
                            "Run {id} {state}; its log: `openova runs logs {id}`"
                        ));
                    } else {
                        self.notice(format!(
                            "Run {id} continues in the background: `openova runs attach {id}`"
                        ));
                    }
                    Vec::new()
                }
                ProgressAction::ApprovePlan => {
                    if let Some(review) = review {
                        self.dialogs
                            .push(approve_dialog(&id, &review, self.form.provider.name()));
                    }
                    Vec::new()
                }
                ProgressAction::Retry => {
                    self.mode = Mode::Wizard;
                    self.status = None;
                    let effects = self.goto(Step::Review);
                    self.start_dialog();
                    effects
                }
                ProgressAction::RejectPlan => {
                    self.mode = Mode::Wizard;
                    self.notice(format!(
                        "Plan of run {id} rejected: nothing was created, and its plan files are removed"
                    ));
                    vec![Effect::DiscardPlan(id)]
                }
            };
        }
        match self.form.step {
            Step::Components => return self.handle_components_key(&key),
            Step::Review => return self.handle_review_key(&key),
            _ => {}
        }
        self.handle_form_key(&key)
    }

    fn handle_resume_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let Mode::Resume { drafts, cursor } = &mut self.mode else {
            return Vec::new();
        };
        // The last row is "start a new draft".
        let rows = drafts.len() + 1;
        match lookup(keys::RESUME, key) {
            Some(Action::Up) => *cursor = cursor.saturating_sub(1),
            Some(Action::Down) => *cursor = (*cursor + 1).min(rows - 1),
            Some(Action::Open) => {
                return if *cursor < drafts.len() {
                    vec![Effect::OpenDraft(drafts[*cursor].id)]
                } else {
                    vec![Effect::NewDraft]
                };
            }
            Some(Action::NewDraft) => return vec![Effect::NewDraft],
            Some(Action::DeleteDraft) if *cursor < drafts.len() => {
                let d = drafts[*cursor].clone();
                self.dialogs.push(ConfirmDialog::new(
                    "Delete draft?",
                    vec![
                        format!("Delete the draft \"{}\" ({})?", d.title, d.age),
                        "This cannot be undone.".into(),
                    ],
                    "delete",
                    "keep",
                    Intent::DeleteDraft(d.id),
                ));
            }
            Some(Action::Leave) => self.finished = true,
            _ => {}
        }
        Vec::new()
    }

    fn handle_prompt_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let Some(p) = &mut self.prompt else {
            return Vec::new();
        };
        match lookup(keys::PROMPT, key) {
            Some(Action::Leave) => {
                if p.purpose == PromptPurpose::SavePrivateKey {
                    self.generated = None;
                    self.notice("Private key not kept: only the public key will be installed on the servers.");
                }
                self.prompt = None;
                Vec::new()
            }
            Some(Action::Submit) => {
                let path = p.field.value().trim().to_string();
                if path.is_empty() {
                    p.error = Some("enter a file path".into());
                    return Vec::new();
                }
                match p.purpose {
                    PromptPurpose::SavePrivateKey => match &self.generated {
                        Some(g) => vec![Effect::WritePrivateKey {
                            path,
                            key: g.private_openssh.clone(),
                            public: self.form.ssh_public_key.clone(),
                        }],
                        None => {
                            self.prompt = None;
                            Vec::new()
                        }
                    },
                    PromptPurpose::ExportPlatformToml => match super::export::platform_toml(self) {
                        Ok(contents) => vec![Effect::Export { path, contents }],
                        Err(e) => {
                            if let Some(p) = &mut self.prompt {
                                p.error = Some(e);
                            }
                            Vec::new()
                        }
                    },
                }
            }
            _ => {
                if p.field.handle_key(key) != Edit::NotHandled {
                    p.error = None;
                }
                Vec::new()
            }
        }
    }

    fn confirm(&mut self, intent: Intent) -> Vec<Effect> {
        match intent {
            Intent::Quit => {
                self.finished = true;
                Vec::new()
            }
            Intent::AddComponents { names, then_offer } => {
                let n = names.len();
                self.form.components.extend(names);
                self.notice(format!("Added {n} component(s)"));
                if let Some(name) = then_offer {
                    self.offer_optional(&name);
                }
                self.save()
            }
            Intent::RemoveComponents(names) => {
                for n in &names {
                    self.form.components.remove(n);
                }
                self.notice(format!("Removed {} component(s)", names.len()));
                self.save()
            }
            Intent::RegenerateSshKey => vec![Effect::GenerateSshKey {
                comment: self.ssh_comment(),
            }],
            Intent::DeleteDraft(id) => vec![Effect::DeleteDraft(id)],
            Intent::OpenLocked { id, how } => vec![Effect::OpenLockedDraft { id, how }],
            Intent::ApplyPlan(plan) => {
                self.notice(format!("Applying the plan of run {plan}…"));
                vec![Effect::ApplyPlan {
                    plan,
                    secrets: self.held_secrets(),
                }]
            }
            Intent::StartRun => {
                let TofuCheck::Found { path, .. } = &self.tofu else {
                    self.notice_error("OpenTofu is not ready: see the problem listed on Review.");
                    return Vec::new();
                };
                let tofu = path.clone();
                let config = super::export::to_config(self);
                self.notice("Planning: nothing is created before you approve the plan…");
                vec![Effect::StartRun {
                    config: Box::new(config),
                    secrets: self.held_secrets(),
                    tofu,
                }]
            }
        }
    }

    /// What the start question adds to the plan's effect: the OpenTofu that runs, whether the
    /// credentials were checked, and every warning Review shows.
    fn start_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let TofuCheck::Found { path, version } = &self.tofu {
            notes.push(format!("OpenTofu {version}: {}.", path.display()));
        }
        if self.offline {
            notes.push("Credentials: not checked (offline). A wrong credential shows only when OpenTofu runs.".into());
        }
        notes.extend(self.warnings().into_iter().map(|w| format!("WARNING: {w}")));
        notes
    }

    /// The secrets the wizard holds in memory, for a run to take along.
    fn held_secrets(&self) -> Vec<(SecretName, SecretString)> {
        SecretName::ALL
            .iter()
            .filter(|n| !self.secret(**n).is_empty())
            .map(|n| (*n, self.secret_value(*n)))
            .collect()
    }

    fn ssh_comment(&self) -> String {
        if self.form.domain.is_empty() {
            "openova".into()
        } else {
            format!("openova@{}", self.form.domain)
        }
    }

    fn move_focus(&mut self, delta: isize) {
        let n = fields(self, self.form.step).len();
        if n == 0 {
            return;
        }
        self.focus = (self.focus as isize + delta).rem_euclid(n as isize) as usize;
    }

    fn next_step(&mut self) -> Vec<Effect> {
        match self.form.step.next() {
            Some(s) => self.goto(s),
            None => Vec::new(),
        }
    }

    fn prev_step(&mut self) -> Vec<Effect> {
        match self.form.step.prev() {
            Some(s) => self.goto(s),
            None => Vec::new(),
        }
    }

    /// Keys shared by the form screens (Organization, Credentials, Provider, Regions): the
    /// screen's table first; a text field takes what the table leaves to it.
    fn handle_form_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let Some(field) = focused(self) else {
            return Vec::new();
        };
        let text =
            field.is_text() && (field != FieldId::SshKey || self.form.ssh_mode == SshMode::Paste);
        let action = lookup_in(keys::form(self.form.step), key);
        if let (Some(Action::Reveal), Some(name), true) = (action, field.secret(), field.masked()) {
            let s = self.secret_mut(name);
            s.revealed = !s.revealed;
            return Vec::new();
        }
        match action {
            Some(Action::NextField) => self.move_focus(1),
            Some(Action::PrevField) => self.move_focus(-1),
            Some(Action::NextScreen) => return self.next_step(),
            Some(Action::PrevScreen) => return self.prev_step(),
            Some(Action::EnterField) => return self.enter_on(field),
            Some(Action::NextChoice) if !text => return self.cycle(field, 1),
            Some(Action::PrevChoice) if !text => return self.cycle(field, -1),
            _ if text => return self.edit_field(field, |f| f.handle_key(key)),
            _ => {}
        }
        Vec::new()
    }

    fn enter_on(&mut self, field: FieldId) -> Vec<Effect> {
        let mut effects = Vec::new();
        if field == FieldId::OciKey
            && let OciKeyInput::Path(path) = self.oci_key_input()
        {
            return vec![Effect::ReadOciKey { path }];
        }
        if matches!(
            field,
            FieldId::Token
                | FieldId::SecretKey
                | FieldId::OciUser
                | FieldId::OciFingerprint
                | FieldId::OciKey
        ) {
            effects.extend(self.start_check());
        }
        if field == FieldId::SshKey && self.form.ssh_mode == SshMode::Generate {
            if self.form.ssh_public_key.is_empty() {
                return vec![Effect::GenerateSshKey {
                    comment: self.ssh_comment(),
                }];
            }
            self.dialogs.push(ConfirmDialog::new(
                "Replace the SSH key?",
                vec![
                    "A key pair was already generated for this draft.".into(),
                    "A new one replaces its public key; the old private key will no longer be installed.".into(),
                ],
                "generate a new pair",
                "keep the current key",
                Intent::RegenerateSshKey,
            ));
            return effects;
        }
        let n = fields(self, self.form.step).len();
        if self.focus + 1 >= n {
            effects.extend(self.next_step());
        } else {
            self.focus += 1;
        }
        effects
    }

    /// Edit a text or secret field, then propagate the value to the form (and derived fields).
    fn edit_field(
        &mut self,
        field: FieldId,
        edit: impl FnOnce(&mut TextField) -> Edit,
    ) -> Vec<Effect> {
        if let Some(name) = field.secret() {
            let result = edit(&mut self.secret_mut(name).field);
            if result == Edit::ChangedAndCut {
                self.notice_error("Pasted text was cut: control characters removed or too long.");
            }
            if !matches!(result, Edit::Changed | Edit::ChangedAndCut) {
                return Vec::new();
            }
            if !matches!(name, SecretName::S3AccessKey | SecretName::S3SecretKey) {
                self.check_generation += 1;
                self.check = CheckState::NotChecked;
            }
            return match self.draft_id {
                Some(draft) => vec![Effect::StoreSecret {
                    draft,
                    name,
                    value: self.secret_value(name),
                    storage: self.form.secret_storage,
                }],
                None => Vec::new(),
            };
        }
        let input = match field {
            FieldId::OrgName => &mut self.inputs.org_name,
            FieldId::OrgSlug => &mut self.inputs.org_slug,
            FieldId::Domain => &mut self.inputs.domain,
            FieldId::Email => &mut self.inputs.email,
            FieldId::ApiCidrs => &mut self.inputs.api_allowed_cidrs,
            FieldId::SshCidrs => &mut self.inputs.ssh_allowed_cidrs,
            FieldId::S3Endpoint => &mut self.inputs.s3_endpoint,
            FieldId::S3Bucket => &mut self.inputs.s3_bucket,
            FieldId::S3Region => &mut self.inputs.s3_region,
            FieldId::SshKey => &mut self.inputs.ssh_public_key,
            FieldId::OciCompartment => &mut self.inputs.oci_compartment,
            _ => return Vec::new(),
        };
        let result = edit(input);
        let value = input.value().to_string();
        if result == Edit::ChangedAndCut {
            self.notice_error("Pasted text was cut: control characters removed or too long.");
        }
        if !matches!(result, Edit::Changed | Edit::ChangedAndCut) {
            return Vec::new();
        }
        let f = &mut self.form;
        match field {
            FieldId::OrgName => {
                f.org_name = value;
                if !f.slug_edited {
                    f.org_slug = naming::slugify(&f.org_name);
                    self.inputs.org_slug.set(&f.org_slug);
                }
            }
            FieldId::OrgSlug => {
                f.org_slug = value;
                f.slug_edited = true;
            }
            FieldId::Domain => f.domain = value,
            FieldId::Email => f.email = value,
            FieldId::ApiCidrs => f.api_allowed_cidrs = value,
            FieldId::SshCidrs => f.ssh_allowed_cidrs = value,
            FieldId::S3Endpoint => f.s3_endpoint = value,
            FieldId::S3Bucket => f.s3_bucket = value,
            FieldId::S3Region => f.s3_region = value,
            FieldId::OciCompartment => f.oci_compartment = value,
            FieldId::SshKey => {
                f.ssh_public_key = value.trim().to_string();
                f.ssh_private_key_saved_to = None;
            }
            _ => {}
        }
        self.save()
    }

    fn cycle(&mut self, field: FieldId, dir: isize) -> Vec<Effect> {
        fn step<T: Clone + PartialEq>(all: &[T], cur: T, dir: isize) -> T {
            let i = all.iter().position(|x| *x == cur).unwrap_or(0) as isize;
            all[(i + dir).rem_euclid(all.len() as isize) as usize].clone()
        }
        let provider = self.form.provider;
        let mut effects = Vec::new();
        match field {
            FieldId::LiveCheck => return self.toggle_offline(),
            FieldId::Env => self.form.env = step(EnvType::ALL, self.form.env, dir),
            FieldId::StateBackend => {
                self.form.state_backend = step(
                    &[StateBackend::Local, StateBackend::S3],
                    self.form.state_backend,
                    dir,
                )
            }
            FieldId::SshMode => {
                self.form.ssh_mode = step(
                    &[SshMode::Generate, SshMode::Paste],
                    self.form.ssh_mode,
                    dir,
                )
            }
            FieldId::SecretStorage => {
                let next = step(
                    &[SecretStorage::Keyring, SecretStorage::Memory],
                    self.form.secret_storage,
                    dir,
                );
                if next == SecretStorage::Keyring && self.keyring_unavailable {
                    self.notice_error(
                        "No OS keyring works on this host: secrets stay in memory only.",
                    );
                    return Vec::new();
                }
                self.form.secret_storage = next;
                if let Some(draft) = self.draft_id {
                    if next == SecretStorage::Memory {
                        effects.push(Effect::ForgetStoredSecrets { draft });
                    } else {
                        for name in SecretName::ALL {
                            if !self.secret(name).is_empty() {
                                effects.push(Effect::StoreSecret {
                                    draft,
                                    name,
                                    value: self.secret_value(name),
                                    storage: next,
                                });
                            }
                        }
                    }
                }
            }
            FieldId::Provider => {
                let next = step(Provider::ALL, provider, dir);
                self.form.provider = next;
                // Locations and sizes belong to one provider; keep the region count only.
                let n = self.form.regions.len();
                self.form.regions = (0..n).map(|i| RegionForm::default_for(next, i)).collect();
                self.check_generation += 1;
                self.check = CheckState::NotChecked;
            }
            FieldId::OciRegion => {
                // The first cluster's location: the check asks that region's Identity service.
                let all: Vec<Location> = provider.locations().collect();
                if let Some(r) = self.form.regions.first_mut() {
                    r.location = step(&all, r.location, dir);
                }
                self.check_generation += 1;
                self.check = CheckState::NotChecked;
            }
            FieldId::RegionCount => {
                if self.form.regions.len() == 1 {
                    self.form.regions.push(RegionForm::default_for(provider, 1));
                } else {
                    self.form.regions.truncate(1);
                }
            }
            FieldId::Location(i) => {
                let all: Vec<Location> = provider.locations().collect();
                if let Some(r) = self.form.regions.get_mut(i) {
                    r.location = step(&all, r.location, dir);
                }
            }
            FieldId::BuildingBlock(i) => {
                if let Some(r) = self.form.regions.get_mut(i) {
                    r.building_block = step(BuildingBlock::ALL, r.building_block, dir);
                }
            }
            FieldId::ControlPlaneSize(i) | FieldId::WorkerSize(i) => {
                let sizes: Vec<String> = naming::server_sizes(provider)
                    .map(|s| s.id.to_string())
                    .collect();
                if let Some(r) = self.form.regions.get_mut(i) {
                    let target = if matches!(field, FieldId::ControlPlaneSize(_)) {
                        &mut r.control_plane_size
                    } else {
                        &mut r.worker_size
                    };
                    if !sizes.is_empty() {
                        *target = step(&sizes, target.clone(), dir);
                    }
                }
            }
            FieldId::ControlPlaneCount(i) => {
                if let Some(r) = self.form.regions.get_mut(i) {
                    r.control_plane_count = if r.control_plane_count == 1 { 3 } else { 1 };
                }
            }
            FieldId::WorkerCount(i) => {
                if let Some(r) = self.form.regions.get_mut(i) {
                    r.worker_count = (r.worker_count as isize + dir)
                        .clamp(0, naming::MAX_WORKERS as isize)
                        as u32;
                }
            }
            _ => return Vec::new(),
        }
        effects.extend(self.save());
        effects
    }

    fn handle_components_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        if self.filtering {
            match lookup(keys::FILTERING, key) {
                Some(Action::KeepFilter) => self.filtering = false,
                Some(Action::ClearFilter) => {
                    self.filtering = false;
                    self.filter.set("");
                }
                _ => {
                    if self.filter.handle_key(key) != Edit::NotHandled {
                        self.component_cursor = 0;
                    }
                }
            }
            return Vec::new();
        }
        if !self.filter.value().is_empty()
            && lookup(keys::FILTER_KEPT, key) == Some(Action::ClearFilter)
        {
            self.filter.set("");
            self.component_cursor = 0;
            return Vec::new();
        }
        let rows = component_rows(self);
        match lookup(keys::COMPONENTS, key) {
            Some(Action::Up) => self.component_cursor = self.component_cursor.saturating_sub(1),
            Some(Action::Down) => {
                self.component_cursor =
                    (self.component_cursor + 1).min(rows.len().saturating_sub(1))
            }
            Some(Action::First) => self.component_cursor = 0,
            Some(Action::Last) => self.component_cursor = rows.len().saturating_sub(1),
            Some(Action::NextScreen) => return self.next_step(),
            Some(Action::PrevScreen) => return self.prev_step(),
            Some(Action::Toggle) => {
                if let Some(row) = rows.get(self.component_cursor) {
                    return self.toggle_component(row);
                }
            }
            Some(Action::Filter) => self.filtering = true,
            _ => {}
        }
        Vec::new()
    }

    /// Offers the optional members of `name` (AI Hub's neo4j, bge, …) in one question listing
    /// each with its reason and what it would add, as the console's install dialog does.
    fn offer_optional(&mut self, name: &str) {
        let cat = crate::catalog::embedded();
        let current = effective_selection(self);
        let Ok(plan) = resolve::install_plan(cat, &current, &[name], &[]) else {
            return;
        };
        let offers = open_offers(&plan, &current);
        let chosen: Vec<&str> = offers.iter().map(|o| o.name.as_str()).collect();
        if chosen.is_empty() {
            return;
        }
        let Ok(with) = resolve::install_plan(cat, &current, &[name], &chosen) else {
            return;
        };
        let title = cat
            .entry(name)
            .map(|e| e.title().to_owned())
            .unwrap_or_else(|| name.to_owned());
        let mut body = vec![format!(
            "{title} can use these (not added unless you say so):"
        )];
        body.extend(
            offers
                .iter()
                .map(|o| format!("  + {:<20} optional: {}", o.name, o.reason)),
        );
        let names: Vec<String> = with
            .items
            .iter()
            .filter(|i| !current.contains(&i.name))
            .map(|i| i.name.clone())
            .collect();
        body.extend(
            with.items
                .iter()
                .filter(|i| !current.contains(&i.name) && !chosen.contains(&i.name.as_str()))
                .map(|i| format!("  + {:<20} {}", i.name, i.reason)),
        );
        self.dialogs.push(ConfirmDialog::new(
            format!("Optional for {title}"),
            body,
            "add them",
            "skip",
            Intent::AddComponents {
                names,
                then_offer: None,
            },
        ));
    }

    fn toggle_component(&mut self, row: &ComponentRow) -> Vec<Effect> {
        let cat = crate::catalog::embedded();
        if row.locked {
            self.notice(format!(
                "{} is mandatory: it is part of every platform.",
                row.title
            ));
            return Vec::new();
        }
        let current = effective_selection(self);
        if !row.selected {
            let plan = match resolve::install_plan(cat, &current, &[row.name.as_str()], &[]) {
                Ok(p) => p,
                Err(e) => {
                    self.notice_error(e.to_string());
                    return Vec::new();
                }
            };
            let mut names: Vec<String> = plan
                .items
                .iter()
                .filter(|i| !current.contains(&i.name))
                .map(|i| i.name.clone())
                .chain(plan.metas.iter().cloned())
                .chain([row.name.clone()])
                .collect();
            names.sort();
            names.dedup();
            let (extra, kept) = plan_lines(&plan, &current, &row.name);
            let has_offers = !open_offers(&plan, &current).is_empty();
            if extra.is_empty() {
                self.form.components.extend(names);
                let mut text = format!("Selected {}", row.title);
                if !kept.is_empty() {
                    let needs: Vec<&str> = kept.iter().map(|l| l.trim()).collect();
                    text.push_str(&format!("; {}", needs.join("; ")));
                }
                self.notice(text);
                if has_offers {
                    self.offer_optional(&row.name);
                }
                return self.save();
            }
            let mut body = vec![format!("Selecting {} also adds:", row.title)];
            body.extend(extra);
            body.extend(kept);
            if has_offers {
                body.push("Its optional members are offered next.".into());
            }
            self.dialogs.push(ConfirmDialog::new(
                format!("Add {}", row.title),
                body,
                "add all",
                "cancel",
                Intent::AddComponents {
                    names,
                    then_offer: has_offers.then(|| row.name.clone()),
                },
            ));
            Vec::new()
        } else {
            let removals = match resolve::removal_closure(cat, &current, &row.name) {
                Ok(r) => r,
                Err(e) => {
                    self.notice_error(e.to_string());
                    return Vec::new();
                }
            };
            let names: Vec<String> = removals.iter().map(|r| r.name.clone()).collect();
            let mut names = names;
            if !names.contains(&row.name) {
                names.push(row.name.clone());
            }
            let others: Vec<String> = removals
                .iter()
                .filter(|r| r.name != row.name)
                .map(|r| format!("  - {:<20} {}", r.name, r.reason))
                .collect();
            if others.is_empty() {
                for n in &names {
                    self.form.components.remove(n);
                }
                return self.save();
            }
            let mut body = vec![format!(
                "Deselecting {} also removes what needs it:",
                row.title
            )];
            body.extend(others);
            self.dialogs.push(ConfirmDialog::new(
                format!("Remove {}", row.title),
                body,
                "remove all",
                "keep",
                Intent::RemoveComponents(names),
            ));
            Vec::new()
        }
    }

    /// The question before planning (`s` on Review, `r` after a failed run), or the count of
    /// problems to fix first.
    fn start_dialog(&mut self) {
        let errors = self.all_errors();
        if errors.is_empty() {
            let cost = self
                .monthly_cost()
                .map(|c| format!("about €{c:.2} per month for servers"))
                .unwrap_or_else(|| "at the provider's prices".into());
            let mut body = vec![
                format!(
                    "OpenTofu plans {} cluster(s) in your {} account: {}.",
                    self.form.regions.len(),
                    self.form.provider.name(),
                    self.cluster_names().join(", ")
                ),
                format!(
                    "Nothing is created yet: the plan is shown for you to approve or reject. Once applied they are billed to that account, {cost}."
                ),
                "The run continues if this terminal closes; watch it again with `openova runs attach`.".into(),
            ];
            if self.form.state_backend == StateBackend::Local {
                body.push("OpenTofu state stays on this host (lab setting).".into());
            }
            body.extend(self.start_notes());
            self.dialogs.push(ConfirmDialog::new(
                "Plan the provisioning?",
                body,
                "plan",
                "not now",
                Intent::StartRun,
            ));
        } else {
            self.notice_error(format!(
                "{} problem(s) to fix before starting: Enter on one jumps to its field.",
                errors.len()
            ));
        }
    }

    fn handle_review_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let errors = self.all_errors();
        match lookup(keys::REVIEW, key) {
            Some(Action::PrevScreen) => return self.prev_step(),
            Some(Action::Up) if !errors.is_empty() => {
                self.review_cursor = self.review_cursor.saturating_sub(1)
            }
            Some(Action::Down) if !errors.is_empty() => {
                self.review_cursor = (self.review_cursor + 1).min(errors.len() - 1)
            }
            Some(Action::Up) | Some(Action::ScrollUp) => {
                self.review_scroll = self.review_scroll.saturating_sub(1)
            }
            Some(Action::Down) | Some(Action::ScrollDown) => {
                // At most to the last line; the screen also stops where the content ends.
                let last = super::screens::review::lines(self, &crate::tui::theme::Theme::mono())
                    .len()
                    .saturating_sub(1);
                self.review_scroll = self
                    .review_scroll
                    .saturating_add(1)
                    .min(u16::try_from(last).unwrap_or(u16::MAX))
            }
            Some(Action::GoToProblem) => {
                if let Some((_, e)) = errors.get(self.review_cursor) {
                    let Some((step, field)) = FieldId::for_error(&e.field) else {
                        // No field to go to (OpenTofu): the problem says what to do.
                        self.notice_error(e.message.clone());
                        return Vec::new();
                    };
                    let effects = self.goto(step);
                    self.focus = fields(self, step)
                        .iter()
                        .position(|f| *f == field)
                        .unwrap_or(0);
                    return effects;
                }
            }
            Some(Action::ToggleOffline) => return self.toggle_offline(),
            Some(Action::Export) => {
                self.prompt = Some(PathPrompt {
                    title: "Export platform.toml to".into(),
                    field: TextField::new(&crate::paths::default_export_path()),
                    purpose: PromptPurpose::ExportPlatformToml,
                    error: None,
                });
            }
            Some(Action::Start) => self.start_dialog(),
            _ => {}
        }
        Vec::new()
    }
}

/// Effects that change a draft, its secrets, files or runs: refused on a read-only draft
/// (draft saves of a mere step change are dropped instead; see `Model::update`).
fn writes(e: &Effect) -> bool {
    matches!(
        e,
        Effect::StoreSecret { .. }
            | Effect::ForgetStoredSecrets { .. }
            | Effect::GenerateSshKey { .. }
            | Effect::WritePrivateKey { .. }
            | Effect::StartRun { .. }
            | Effect::ApplyPlan { .. }
    )
}

/// The question when the draft asked for is open in another wizard: who has it, and the three
/// ways on, each with its full effect.
fn locked_dialog(id: i64, title: &str, holder: &str) -> ConfirmDialog<Intent> {
    use crate::tui::dialog::Choice;
    let choice = |key, label, how| Choice::new(key, label, Intent::OpenLocked { id, how });
    ConfirmDialog::choose(
        format!("Draft #{id} is open elsewhere"),
        vec![
            format!("\"{title}\" is open in another wizard: {holder}."),
            "Two wizards on one draft would overwrite each other's changes.".into(),
            "r  read-only: look at it here; nothing you type is saved.".into(),
            "t  take over: edit it here; the other wizard turns read-only at its next change and saves nothing more.".into(),
            "c  copy: a new draft with the same values, yours alone.".into(),
        ],
        choice('r', "read-only", OpenLocked::ReadOnly),
        vec![
            choice('t', "take over", OpenLocked::TakeOver),
            choice('c', "copy", OpenLocked::Copy),
        ],
        "back to the drafts",
    )
}

/// The question before a reviewed plan is applied: its whole effect, cluster by cluster, the
/// cost and every warning.
fn approve_dialog(
    id: &str,
    review: &crate::provision::plan::PlanSummary,
    provider: &str,
) -> ConfirmDialog<Intent> {
    let mut body: Vec<String> = review
        .clusters
        .iter()
        .map(|c| {
            format!(
                "{}: {} to add, {} to change, {} to destroy; €{:.2} per month",
                c.cluster, c.totals.add, c.totals.change, c.totals.destroy, c.monthly_eur
            )
        })
        .collect();
    body.push(format!(
        "Billed to your {provider} account: €{:.2} per month in all (list prices, excl. VAT).",
        review.monthly_eur()
    ));
    body.extend(review.warnings.iter().map(|w| format!("WARNING: {w}")));
    body.push(
        "Exactly this plan is applied, nothing planned anew. The run continues if this terminal closes."
            .into(),
    );
    ConfirmDialog::new(
        format!("Apply the plan of run {id}?"),
        body,
        "apply",
        "not now",
        Intent::ApplyPlan(id.to_owned()),
    )
}

/// Hetzner API tokens are 64 characters; shorter input is a truncated paste.
pub const HETZNER_TOKEN_MIN: usize = 64;
