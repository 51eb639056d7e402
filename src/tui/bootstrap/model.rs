//! Owns the wizard's state: what the operator entered (saved as a draft after every change, minus
//! secrets), the secrets themselves (memory, mirrored to the secret store), and screen state
//! such as focus, dialogs and the live credential check.

use std::collections::BTreeSet;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::domain::naming::{self, BuildingBlock, EnvType, FieldError, Location, Provider};
use crate::tui::dialog::ConfirmDialog;
use crate::tui::widgets::field::TextField;

/// The six steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    #[default]
    Organization,
    Credentials,
    Provider,
    Regions,
    Components,
    Review,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Organization,
        Step::Credentials,
        Step::Provider,
        Step::Regions,
        Step::Components,
        Step::Review,
    ];
    pub fn index(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
    pub fn title(self) -> &'static str {
        match self {
            Step::Organization => "Organization",
            Step::Credentials => "Credentials",
            Step::Provider => "Provider",
            Step::Regions => "Regions",
            Step::Components => "Components",
            Step::Review => "Review",
        }
    }
    pub fn next(self) -> Option<Step> {
        Step::ALL.get(self.index() + 1).copied()
    }
    pub fn prev(self) -> Option<Step> {
        self.index().checked_sub(1).map(|i| Step::ALL[i])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum StateBackend {
    /// OpenTofu state in the run directory: for a lab only.
    #[default]
    Local,
    S3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SshMode {
    #[default]
    Generate,
    Paste,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SecretStorage {
    #[default]
    Keyring,
    Memory,
}

/// One region's cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionForm {
    pub location: Location,
    pub building_block: BuildingBlock,
    pub control_plane_size: String,
    pub control_plane_count: u32,
    pub worker_size: String,
    pub worker_count: u32,
}

impl RegionForm {
    pub fn default_for(provider: Provider, index: usize) -> RegionForm {
        let locations: Vec<Location> = provider.locations().collect();
        // A second region defaults to a different location so the pair survives a site outage.
        let location = locations
            .get(index.min(locations.len().saturating_sub(1)))
            .copied()
            .unwrap_or(Location::Fsn);
        RegionForm {
            location,
            building_block: BuildingBlock::Rtz,
            control_plane_size: provider.default_control_plane_size().into(),
            control_plane_count: 1,
            worker_size: provider.default_worker_size().into(),
            worker_count: 2,
        }
    }
}

/// Everything the operator entered that may be written to disk. No secret ever goes in here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Form {
    pub org_name: String,
    pub org_slug: String,
    /// Once the operator edits the slug it no longer follows the name.
    pub slug_edited: bool,
    pub domain: String,
    pub email: String,
    pub env: EnvType,
    pub provider: Provider,
    pub state_backend: StateBackend,
    pub s3_endpoint: String,
    pub s3_bucket: String,
    pub s3_region: String,
    pub ssh_mode: SshMode,
    /// OpenSSH public key line (generated or pasted).
    pub ssh_public_key: String,
    /// Where the generated private key was written, if the operator asked for that.
    pub ssh_private_key_saved_to: Option<String>,
    pub secret_storage: SecretStorage,
    pub regions: Vec<RegionForm>,
    /// OCI: the compartment that receives the platform; empty for the tenancy's root.
    pub oci_compartment: String,
    /// Networks allowed to reach the Kubernetes API (port 6443), comma-separated IPv4 CIDRs as
    /// typed. Empty is "not set yet": there is no world-open default.
    pub api_allowed_cidrs: String,
    /// Networks allowed to reach ssh (port 22), comma-separated; empty closes ssh.
    pub ssh_allowed_cidrs: String,
    /// Selected components and meta-platforms (mandatory ones are implied).
    pub components: BTreeSet<String>,
    pub step: Step,
    /// Furthest step reached, for the resume list.
    pub reached: Step,
}

impl Default for Form {
    fn default() -> Self {
        Form {
            org_name: String::new(),
            org_slug: String::new(),
            slug_edited: false,
            domain: String::new(),
            email: String::new(),
            env: EnvType::Prod,
            provider: Provider::Hetzner,
            state_backend: StateBackend::Local,
            s3_endpoint: String::new(),
            s3_bucket: String::new(),
            s3_region: String::new(),
            ssh_mode: SshMode::Generate,
            ssh_public_key: String::new(),
            ssh_private_key_saved_to: None,
            secret_storage: SecretStorage::Keyring,
            regions: vec![RegionForm::default_for(Provider::Hetzner, 0)],
            oci_compartment: String::new(),
            api_allowed_cidrs: String::new(),
            ssh_allowed_cidrs: String::new(),
            components: BTreeSet::new(),
            step: Step::Organization,
            reached: Step::Organization,
        }
    }
}

/// Names of the secrets a draft can hold, as filed in the secret store under `draft-<id>/<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretName {
    /// Hetzner's API token; Huawei Cloud's access key ID; OCI's tenancy OCID.
    ProviderToken,
    /// Huawei Cloud's secret access key.
    ProviderSecretKey,
    /// OCI's user OCID.
    OciUser,
    /// OCI's API key fingerprint.
    OciFingerprint,
    /// OCI's API private key (PEM text, never its path).
    OciPrivateKey,
    S3AccessKey,
    S3SecretKey,
}

impl SecretName {
    pub const ALL: [SecretName; 7] = [
        SecretName::ProviderToken,
        SecretName::ProviderSecretKey,
        SecretName::OciUser,
        SecretName::OciFingerprint,
        SecretName::OciPrivateKey,
        SecretName::S3AccessKey,
        SecretName::S3SecretKey,
    ];
    pub fn key(self) -> &'static str {
        match self {
            SecretName::ProviderToken => "provider_token",
            SecretName::ProviderSecretKey => "provider_secret_key",
            SecretName::OciUser => "oci_user_ocid",
            SecretName::OciFingerprint => "oci_fingerprint",
            SecretName::OciPrivateKey => "oci_private_key",
            SecretName::S3AccessKey => "s3_access_key",
            SecretName::S3SecretKey => "s3_secret_key",
        }
    }

    /// The entry holding `provider`'s credential `key` (a name of
    /// [`Provider::credential_names`]); `None` for a credential the wizard does not ask.
    pub fn for_credential(provider: Provider, key: &str) -> Option<SecretName> {
        match (provider, key) {
            (Provider::Hetzner, "hcloud_token")
            | (Provider::HuaweiCloud, "access_key")
            | (Provider::Oci, "tenancy_ocid") => Some(SecretName::ProviderToken),
            (Provider::HuaweiCloud, "secret_key") => Some(SecretName::ProviderSecretKey),
            (Provider::Oci, "user_ocid") => Some(SecretName::OciUser),
            (Provider::Oci, "fingerprint") => Some(SecretName::OciFingerprint),
            (Provider::Oci, "private_key") => Some(SecretName::OciPrivateKey),
            _ => None,
        }
    }
}

/// A masked input. Debug prints only the length, so a secret cannot leak through logs or
/// panic messages.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretField {
    pub field: TextField,
    pub revealed: bool,
}

impl std::fmt::Debug for SecretField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SecretField({} chars, hidden)",
            self.field.value().chars().count()
        )
    }
}

impl SecretField {
    pub fn secret(&self) -> SecretString {
        SecretString::from(self.field.value().to_string())
    }
    pub fn set(&mut self, value: &SecretString) {
        self.field.set(value.expose_secret());
    }
    pub fn is_empty(&self) -> bool {
        self.field.value().is_empty()
    }
}

/// Longest OCI API private key text accepted (a 4096-bit PKCS#8 PEM is about 3,300 characters).
pub const OCI_KEY_MAX: usize = 16 * 1024;

/// What the OCI private-key field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OciKeyInput {
    Empty,
    /// A file to read the key from (on Enter); the path itself is never stored.
    Path(String),
    /// PEM text: its size in bits, or why it is not a usable API signing key.
    Pem(Result<usize, String>),
}

/// Result of the live credential check.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CheckState {
    #[default]
    NotChecked,
    Checking,
    Valid(String),
    Failed(CheckFailure),
    /// The provider has no check we can run; provisioning there is not available either.
    Unsupported(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckFailure {
    /// Nothing entered.
    Required,
    TooShort {
        min: usize,
    },
    Rejected {
        status: u16,
    },
    Unreachable(String),
    Timeout,
    Unexpected {
        status: u16,
    },
    /// What `provision::credcheck` reported (it names the fields or the ways out).
    Report(String),
}

impl CheckFailure {
    /// What went wrong and what to do about it.
    pub fn explain(&self) -> String {
        match self {
            CheckFailure::Required => "A Hetzner API token is required: create a Read & Write token in the project's Security > API tokens and paste it here.".into(),
            CheckFailure::TooShort { min } => format!(
                "The token is too short: Hetzner API tokens have at least {min} characters. Copy it again from Security > API tokens."
            ),
            CheckFailure::Rejected { status } => format!(
                "The provider rejected the token (HTTP {status}): it is wrong, revoked, or read-only. Create a Read & Write token in the project's Security > API tokens."
            ),
            CheckFailure::Unreachable(why) => format!(
                "The provider API could not be reached ({why}). {REACH}"
            ),
            CheckFailure::Timeout => format!("The provider API did not answer within 10 s. {REACH}"),
            CheckFailure::Unexpected { status } => format!(
                "The provider API answered HTTP {status}, which openova does not expect. Retry later; the provider may have an incident."
            ),
            CheckFailure::Report(message) => message.clone(),
        }
    }
}

/// Whether the OpenTofu a run would use is there and new enough, as Review shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TofuCheck {
    /// Being looked for (at start-up and each time Review opens).
    #[default]
    Checking,
    Found {
        path: std::path::PathBuf,
        version: String,
    },
    /// Missing, not executable, not OpenTofu or too old: what is wrong and what to do.
    Problem(String),
}

/// The networks of a comma-separated CIDR list as typed (blanks between commas ignored).
pub fn cidr_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether a CIDR list admits every address (`0.0.0.0/0`, `::/0`).
pub fn world_open(cidrs: &[String]) -> bool {
    cidrs.iter().any(|c| c.ends_with("/0"))
}

/// What to do when the provider's API cannot be reached: every option there is.
const REACH: &str = "Check this host's network and DNS, then retry with Enter. Behind a proxy set HTTPS_PROXY (NO_PROXY lists hosts that bypass it); for another endpoint start the wizard with --hetzner-api-url URL (or set OPENOVA_HETZNER_API_URL); at a site without internet access skip the check: Live check → skip (offline), o on Review, or start with --offline.";

/// An action a confirm dialog is asking about.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Add these components (the selection plus what it needs); then offer the optional
    /// members of `then_offer`, if it has any.
    AddComponents {
        names: Vec<String>,
        then_offer: Option<String>,
    },
    /// Remove these components (the deselection plus what needs it).
    RemoveComponents(Vec<String>),
    Quit,
    /// Replace the current SSH key with a newly generated one.
    RegenerateSshKey,
    DeleteDraft(i64),
    /// Plan this configuration (nothing is created; the plan is shown for approval).
    StartRun,
    /// Apply exactly the saved plan of this plan run (servers will be created and billed).
    ApplyPlan(String),
    /// Open a draft another wizard has open, in the way the operator chose.
    OpenLocked {
        id: i64,
        how: OpenLocked,
    },
}

/// How to open a draft that another wizard has open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenLocked {
    /// Show it; every edit is refused and nothing is saved.
    ReadOnly,
    /// Take its lock: the other wizard turns read-only at its next save.
    TakeOver,
    /// A new draft with the same values, opened normally.
    Copy,
}

/// A free-text prompt on top of a screen (a path to write to).
#[derive(Debug, Clone, PartialEq)]
pub struct PathPrompt {
    pub title: String,
    pub field: TextField,
    pub purpose: PromptPurpose,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptPurpose {
    ExportPlatformToml,
    SavePrivateKey,
}

/// A private key generated this session, until it is saved or dismissed. Never persisted by
/// the wizard itself; written only to the path the operator gives.
#[derive(Clone)]
pub struct GeneratedKey {
    pub private_openssh: SecretString,
    pub fingerprint: String,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GeneratedKey({}, private part hidden)", self.fingerprint)
    }
}

impl PartialEq for GeneratedKey {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}

/// The progress screen of a run, compared by what it shows (so an unchanged poll redraws
/// nothing).
#[derive(Debug, Clone)]
pub struct ProgressView(pub super::progress::ProgressScreen);

impl PartialEq for ProgressView {
    fn eq(&self, other: &Self) -> bool {
        self.0.same_view(&other.0)
    }
}

/// A draft offered on the resume screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftChoice {
    pub id: i64,
    pub title: String,
    pub progress: u8,
    pub age: String,
}

/// Which full-screen view is showing.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Choose a draft to resume, or start a new one.
    Resume {
        drafts: Vec<DraftChoice>,
        cursor: usize,
    },
    Wizard,
    /// Watching a provisioning run started from Review.
    Progress(Box<ProgressView>),
}

/// The whole wizard.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub form: Form,
    pub draft_id: Option<i64>,
    pub mode: Mode,
    pub token: SecretField,
    /// Huawei Cloud's secret access key (the token field holds its access key ID).
    pub secret_key: SecretField,
    /// OCI's user OCID and API key fingerprint (the token field holds the tenancy OCID). Not
    /// secret, but credentials: kept with the secrets, referenced from platform.toml.
    pub oci_user: SecretField,
    pub oci_fingerprint: SecretField,
    /// OCI's API private key: a path typed (read on Enter) or the PEM text (pasted or read).
    pub oci_key: SecretField,
    pub s3_access_key: SecretField,
    pub s3_secret_key: SecretField,
    /// Text buffers for the free-text fields of the current form.
    pub inputs: Inputs,
    /// Focused field index on the current screen.
    pub focus: usize,
    pub check: CheckState,
    /// Bumped on every token edit so a late answer for an older token is ignored.
    pub check_generation: u64,
    pub dialogs: Vec<ConfirmDialog<Intent>>,
    pub prompt: Option<PathPrompt>,
    pub show_help: bool,
    /// Components screen: filter text and whether it is being typed.
    pub filter: TextField,
    pub filtering: bool,
    pub component_cursor: usize,
    pub review_scroll: u16,
    pub review_cursor: usize,
    pub generated: Option<GeneratedKey>,
    /// One-line notices (saved, exported, cut paste, store set aside...).
    pub status: Option<Notice>,
    /// What the secret store is, as told to the operator.
    pub secret_store_kind: String,
    pub secret_store_explain: String,
    /// This database's instance id: keyring entries are filed under it.
    pub keyring_prefix: String,
    /// Set when the keyring was asked for but does not work.
    pub keyring_unavailable: bool,
    pub finished: bool,
    /// Unix seconds "now", injected so snapshots are stable.
    pub now: i64,
    /// `--tofu PATH` (made absolute at start-up), or `None` for `tofu` on PATH.
    pub tofu_arg: Option<std::path::PathBuf>,
    /// The OpenTofu a run would use: Review refuses a start until it is found and new enough.
    pub tofu: TofuCheck,
    /// Skip the live credential check (`--offline`, the Live check choice, `o` on Review).
    pub offline: bool,
    /// `--huawei-iam-url`: where the Huawei Cloud check goes instead of the global IAM endpoint.
    pub huawei_iam_url: Option<String>,
    /// `--hetzner-api-url` (or `OPENOVA_HETZNER_API_URL`): another Hetzner Cloud API base.
    pub hetzner_api_url: Option<String>,
    /// Why the open draft is read-only (opened so, or its lock lost to another wizard): every
    /// edit is refused and nothing is saved.
    pub read_only: Option<String>,
    /// `--oci-identity-url` (or `OPENOVA_OCI_IDENTITY_URL`): another OCI Identity endpoint.
    pub oci_identity_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// Editable text of every free-text field. Kept next to `Form` so cursors survive redraws.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inputs {
    pub org_name: TextField,
    pub org_slug: TextField,
    pub domain: TextField,
    pub email: TextField,
    pub api_allowed_cidrs: TextField,
    pub ssh_allowed_cidrs: TextField,
    pub s3_endpoint: TextField,
    pub s3_bucket: TextField,
    pub s3_region: TextField,
    pub ssh_public_key: TextField,
    pub oci_compartment: TextField,
}

impl Inputs {
    pub fn from_form(f: &Form) -> Inputs {
        Inputs {
            org_name: TextField::with_max(&f.org_name, naming::ORG_NAME_MAX),
            org_slug: TextField::with_max(&f.org_slug, 64),
            domain: TextField::with_max(&f.domain, 253),
            email: TextField::with_max(&f.email, 254),
            api_allowed_cidrs: TextField::with_max(&f.api_allowed_cidrs, 1024),
            ssh_allowed_cidrs: TextField::with_max(&f.ssh_allowed_cidrs, 1024),
            s3_endpoint: TextField::new(&f.s3_endpoint),
            s3_bucket: TextField::with_max(&f.s3_bucket, 63),
            s3_region: TextField::with_max(&f.s3_region, 64),
            ssh_public_key: TextField::with_max(&f.ssh_public_key, 16 * 1024),
            oci_compartment: TextField::with_max(&f.oci_compartment, 255),
        }
    }
}

impl Model {
    pub fn new(form: Form, draft_id: Option<i64>, now: i64) -> Model {
        Model {
            inputs: Inputs::from_form(&form),
            form,
            draft_id,
            mode: Mode::Wizard,
            token: SecretField::default(),
            secret_key: SecretField::default(),
            oci_user: SecretField::default(),
            oci_fingerprint: SecretField::default(),
            oci_key: SecretField {
                field: TextField::with_max("", OCI_KEY_MAX),
                revealed: false,
            },
            s3_access_key: SecretField::default(),
            s3_secret_key: SecretField::default(),
            focus: 0,
            check: CheckState::NotChecked,
            check_generation: 0,
            dialogs: Vec::new(),
            prompt: None,
            show_help: false,
            filter: TextField::with_max("", 64),
            filtering: false,
            component_cursor: 0,
            review_scroll: 0,
            review_cursor: 0,
            generated: None,
            status: None,
            secret_store_kind: "memory only".into(),
            secret_store_explain: String::new(),
            keyring_prefix: String::new(),
            keyring_unavailable: false,
            finished: false,
            now,
            tofu_arg: None,
            tofu: TofuCheck::Checking,
            offline: false,
            huawei_iam_url: None,
            hetzner_api_url: None,
            read_only: None,
            oci_identity_url: None,
        }
    }

    pub fn secret_mut(&mut self, name: SecretName) -> &mut SecretField {
        match name {
            SecretName::ProviderToken => &mut self.token,
            SecretName::ProviderSecretKey => &mut self.secret_key,
            SecretName::OciUser => &mut self.oci_user,
            SecretName::OciFingerprint => &mut self.oci_fingerprint,
            SecretName::OciPrivateKey => &mut self.oci_key,
            SecretName::S3AccessKey => &mut self.s3_access_key,
            SecretName::S3SecretKey => &mut self.s3_secret_key,
        }
    }

    pub fn secret(&self, name: SecretName) -> &SecretField {
        match name {
            SecretName::ProviderToken => &self.token,
            SecretName::ProviderSecretKey => &self.secret_key,
            SecretName::OciUser => &self.oci_user,
            SecretName::OciFingerprint => &self.oci_fingerprint,
            SecretName::OciPrivateKey => &self.oci_key,
            SecretName::S3AccessKey => &self.s3_access_key,
            SecretName::S3SecretKey => &self.s3_secret_key,
        }
    }

    /// The value stored and handed on for `name`: the OCI private key as a well-formed PEM
    /// block (or nothing while the field holds a path), every other secret as entered.
    pub fn secret_value(&self, name: SecretName) -> SecretString {
        let field = self.secret(name);
        if name != SecretName::OciPrivateKey {
            return field.secret();
        }
        SecretString::from(
            crate::provision::credcheck::oci::normalize_pem(field.field.value())
                .unwrap_or_default(),
        )
    }

    /// What the OCI private-key field holds, validated as an RSA API signing key.
    pub fn oci_key_input(&self) -> OciKeyInput {
        use crate::provision::credcheck::oci::{self, ApiKey};
        let text = self.oci_key.field.value().trim();
        if text.is_empty() {
            return OciKeyInput::Empty;
        }
        if !text.starts_with("-----") {
            return OciKeyInput::Path(text.to_owned());
        }
        let pem = oci::normalize_pem(text).unwrap_or_else(|| text.to_owned());
        OciKeyInput::Pem(
            ApiKey::from_pem(&SecretString::from(pem))
                .map(|k| k.bits())
                .map_err(|e| e.to_string()),
        )
    }

    /// Draft title for the resume list.
    pub fn title(&self) -> String {
        if self.form.org_name.trim().is_empty() {
            "(unnamed)".into()
        } else {
            self.form.org_name.trim().to_string()
        }
    }

    /// Screens complete, for the resume list: moved past (Review: reached) and without
    /// errors.
    pub fn progress(&self) -> u8 {
        let done = |s: &Step| {
            let visited =
                *s < self.form.reached || (*s == Step::Review && self.form.reached == Step::Review);
            let clean = if *s == Step::Review {
                self.all_errors().is_empty()
            } else {
                self.errors_for(*s).is_empty()
            };
            visited && clean
        };
        Step::ALL.iter().filter(|s| done(s)).count() as u8
    }

    /// The cluster names the regions will get, live.
    pub fn cluster_names(&self) -> Vec<String> {
        self.form
            .regions
            .iter()
            .map(|r| {
                naming::cluster_name(
                    self.form.provider,
                    r.location,
                    r.building_block,
                    self.form.env,
                )
            })
            .collect()
    }

    /// Monthly estimate in EUR where every size has a known price.
    pub fn monthly_cost(&self) -> Option<f64> {
        let mut total = 0.0;
        for r in &self.form.regions {
            let cp =
                naming::server_size(self.form.provider, &r.control_plane_size)?.eur_per_month?;
            total += cp * f64::from(r.control_plane_count);
            if r.worker_count > 0 {
                let w = naming::server_size(self.form.provider, &r.worker_size)?.eur_per_month?;
                total += w * f64::from(r.worker_count);
            }
        }
        Some(total)
    }

    /// Every problem on one step, each naming its field and rule.
    pub fn errors_for(&self, step: Step) -> Vec<FieldError> {
        let f = &self.form;
        let mut errs = Vec::new();
        match step {
            Step::Organization => {
                if let Err(e) = naming::validate_org_name("organization.name", &f.org_name) {
                    errs.push(e);
                }
                if let Err(e) = naming::validate_org_slug("organization.slug", &f.org_slug) {
                    errs.push(e);
                }
                if let Err(e) = naming::validate_domain("organization.domain", &f.domain) {
                    errs.push(e);
                }
                if let Err(e) = naming::validate_email("organization.email", &f.email) {
                    errs.push(e);
                }
            }
            Step::Credentials => {
                errs.extend(self.credential_errors());
                if f.state_backend == StateBackend::S3 {
                    if !(f.s3_endpoint.starts_with("https://")
                        || f.s3_endpoint.starts_with("http://"))
                    {
                        errs.push(FieldError::new(
                            "state.s3.endpoint",
                            "must be an http:// or https:// URL",
                        ));
                    }
                    if let Err(e) = validate_bucket(&f.s3_bucket) {
                        errs.push(e);
                    }
                    if self.s3_access_key.is_empty() {
                        errs.push(FieldError::new("state.s3.access_key", "must not be empty"));
                    }
                    if self.s3_secret_key.is_empty() {
                        errs.push(FieldError::new("state.s3.secret_key", "must not be empty"));
                    }
                }
                if f.ssh_public_key.is_empty() {
                    errs.push(FieldError::new(
                        "ssh.public_key",
                        match f.ssh_mode {
                            SshMode::Generate => "press Enter on SSH key to generate a key pair",
                            SshMode::Paste => "paste an OpenSSH public key line",
                        },
                    ));
                } else if let Err(e) =
                    naming::parse_ssh_public_key("ssh.public_key", &f.ssh_public_key)
                {
                    errs.push(e);
                }
            }
            Step::Provider => {}
            Step::Regions => {
                for (i, r) in f.regions.iter().enumerate() {
                    if r.location.provider() != f.provider {
                        errs.push(FieldError::new(
                            format!("regions[{i}].location"),
                            format!(
                                "{} is not a {} location",
                                r.location.name(),
                                f.provider.name()
                            ),
                        ));
                    }
                    for (field, size) in [
                        ("control_plane_size", &r.control_plane_size),
                        ("worker_size", &r.worker_size),
                    ] {
                        if let Err(e) = naming::validate_server_size(
                            &format!("regions[{i}].{field}"),
                            f.provider,
                            size,
                        ) {
                            errs.push(e);
                        }
                    }
                    if let Err(e) = naming::validate_worker_count(
                        &format!("regions[{i}].workers"),
                        r.worker_count,
                    ) {
                        errs.push(e);
                    }
                }
                if f.regions.len() == 2 && self.cluster_names()[0] == self.cluster_names()[1] {
                    errs.push(FieldError::new(
                        "regions[1].location",
                        "both regions would get the same cluster name: choose another location or building block",
                    ));
                }
                errs.extend(self.access_errors());
            }
            Step::Components => {}
            Step::Review => match &self.tofu {
                TofuCheck::Found { .. } => {}
                TofuCheck::Checking => errs.push(FieldError::new(
                    "tofu",
                    "OpenTofu is being looked for; a run can start once it is found",
                )),
                TofuCheck::Problem(why) => errs.push(FieldError::new("tofu", why.clone())),
            },
        }
        errs
    }

    /// Problems of the provider's credentials: what is missing, then the live check's verdict
    /// (unless offline).
    fn credential_errors(&self) -> Vec<FieldError> {
        let f = &self.form;
        let mut errs = Vec::new();
        let token_field = match f.provider {
            Provider::HuaweiCloud => "credentials.access_key",
            Provider::Oci => "credentials.tenancy_ocid",
            _ => "credentials.provider_token",
        };
        if f.provider == Provider::Oci {
            errs.extend(self.oci_errors());
        } else if self.token.is_empty() {
            errs.push(FieldError::new(
                token_field,
                match f.provider {
                    Provider::HuaweiCloud => "enter the access key ID (AK): Huawei Cloud console → My Credentials → Access Keys".to_owned(),
                    p => format!("enter the {} API token", p.name()),
                },
            ));
        }
        if f.provider == Provider::HuaweiCloud && self.secret_key.is_empty() {
            errs.push(FieldError::new(
                "credentials.secret_key",
                "enter the secret access key (SK) of that access key (in the credentials.csv downloaded when the key was created)",
            ));
        }
        if !errs.is_empty() || self.offline {
            return errs;
        }
        let why = match &self.check {
            CheckState::Valid(_) => return errs,
            CheckState::Failed(why) => why.explain(),
            CheckState::Checking => "the live check is still running".into(),
            CheckState::NotChecked => format!(
                "not checked yet: press Enter on the {} to check {}",
                match f.provider {
                    Provider::HuaweiCloud => "keys",
                    Provider::Oci => "API private key",
                    Provider::Hetzner => "token",
                },
                if f.provider == Provider::Hetzner {
                    "it"
                } else {
                    "the credentials"
                }
            ),
            CheckState::Unsupported(why) => why.clone(),
        };
        errs.push(FieldError::new(token_field, why));
        errs
    }

    /// Problems of OCI's credentials and compartment, before anything is sent.
    pub fn oci_errors(&self) -> Vec<FieldError> {
        use crate::domain::platform::is_ocid;
        use crate::provision::credcheck::oci::is_fingerprint;
        let mut errs = Vec::new();
        let mut ocid = |field: &str, kind: &str, what: &str, value: &str, whence: &str| {
            let value = value.trim();
            if value.is_empty() {
                errs.push(FieldError::new(
                    field,
                    format!("enter the {what}: {whence}"),
                ));
            } else if !is_ocid(kind, value) {
                errs.push(FieldError::new(
                    field,
                    format!("not a {what}: it reads ocid1.{kind}.oc1..<id> ({whence})"),
                ));
            }
        };
        ocid(
            "credentials.tenancy_ocid",
            "tenancy",
            "tenancy OCID",
            self.token.field.value(),
            "OCI console → Profile → Tenancy → OCID",
        );
        ocid(
            "credentials.user_ocid",
            "user",
            "user OCID",
            self.oci_user.field.value(),
            "OCI console → Profile → My profile → OCID",
        );
        let fingerprint = self.oci_fingerprint.field.value().trim();
        if fingerprint.is_empty() {
            errs.push(FieldError::new(
                "credentials.fingerprint",
                "enter the API key fingerprint: My profile → API keys, e.g. 20:3b:97:13:…",
            ));
        } else if !is_fingerprint(fingerprint) {
            errs.push(FieldError::new(
                "credentials.fingerprint",
                "not an API key fingerprint: 16 lower-case hex pairs separated by ':', as My profile → API keys shows it",
            ));
        }
        match self.oci_key_input() {
            OciKeyInput::Empty => errs.push(FieldError::new(
                "credentials.private_key",
                "enter the path of the API private key (PEM) and press Enter, or paste the key",
            )),
            OciKeyInput::Path(path) => errs.push(FieldError::new(
                "credentials.private_key",
                format!("press Enter to read the key from {path}; the wizard keeps the key, not the path"),
            )),
            OciKeyInput::Pem(Err(why)) => {
                errs.push(FieldError::new("credentials.private_key", why))
            }
            OciKeyInput::Pem(Ok(_)) => {}
        }
        let compartment = self.form.oci_compartment.trim();
        let root_or_compartment = compartment.is_empty()
            || is_ocid("compartment", compartment)
            || is_ocid("tenancy", compartment);
        if !root_or_compartment {
            errs.push(FieldError::new(
                "oci.compartment_ocid",
                "not a compartment OCID: it reads ocid1.compartment.oc1..<id>; leave it empty for the root compartment",
            ));
        }
        errs
    }

    /// Problems of the two access lists, named as in platform.toml (`api.allowed_cidrs[1]`).
    fn access_errors(&self) -> Vec<FieldError> {
        let api = cidr_list(&self.form.api_allowed_cidrs);
        let mut errs = Vec::new();
        if api.is_empty() {
            errs.push(FieldError::new(
                "api.allowed_cidrs",
                "not set: list the networks allowed to reach the Kubernetes API, e.g. the bastion's address as 198.51.100.7/32 (openova connects from there)",
            ));
        }
        for (key, list) in [
            ("api.allowed_cidrs", api),
            ("ssh.allowed_cidrs", cidr_list(&self.form.ssh_allowed_cidrs)),
        ] {
            for (i, c) in list.iter().enumerate() {
                if let Err(e) = naming::validate_cidr(&format!("{key}[{i}]"), c) {
                    errs.push(e);
                }
            }
        }
        errs
    }

    /// What Review and the start question warn about: the API or ssh open to the world.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if world_open(&cidr_list(&self.form.api_allowed_cidrs)) {
            out.push("The Kubernetes API is open to the world (a /0 network): it still needs a client certificate, but every scanner reaches it. Narrow it to the bastion's and your admins' networks.".to_owned());
        }
        if world_open(&cidr_list(&self.form.ssh_allowed_cidrs)) {
            out.push("ssh (port 22) is open to the world (a /0 network): narrow it, or leave it empty to close ssh.".to_owned());
        }
        out
    }

    /// Every problem, in screen order.
    pub fn all_errors(&self) -> Vec<(Step, FieldError)> {
        Step::ALL
            .iter()
            .flat_map(|s| self.errors_for(*s).into_iter().map(move |e| (*s, e)))
            .collect()
    }
}

/// S3 bucket names: 3–63 characters of lower-case letters, digits, dots and hyphens.
pub fn validate_bucket(bucket: &str) -> Result<(), FieldError> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "state.s3.bucket",
            "3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit",
        ))
    }
}
