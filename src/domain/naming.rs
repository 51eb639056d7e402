//! The naming convention: providers, locations, building blocks and env types with their codes,
//! the names computed from them (clusters, contexts, servers, networks, DNS location codes), the
//! server-size table used for cost estimates, and validators for identifiers an operator types.
//!
//! Every validator returns a [`FieldError`] naming the field and the rule, worded for an
//! operator (see docs/naming.md for where the published sources disagree and what we chose).

use std::fmt;
use std::sync::LazyLock;

use base64::Engine as _;
use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A value rejected by a validator: which field, and why (the message names the rule).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// Dotted field path as it appears in platform.toml, e.g. `regions[1].location`.
    pub field: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A code that is not in one of the dimension tables.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {dimension} {value:?}: expected one of {expected}")]
pub struct UnknownCode {
    /// `provider`, `location`, `building block` or `env type`.
    pub dimension: &'static str,
    pub value: String,
    /// The accepted codes, comma separated.
    pub expected: String,
}

/// Generates the shared surface of a dimension enum: `ALL`, `code`, `one_char`, `name`,
/// `parse`, `Display`, and serde as the code string (so an unknown code in platform.toml is
/// reported with the list of accepted codes).
macro_rules! dimension {
    (
        $(#[$meta:meta])*
        $ty:ident, $dim:literal, {
            $( $(#[$vmeta:meta])* $variant:ident => ($code:literal, $one:literal, $name:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $ty {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $ty {
            /// Every value, in table order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The short code used in names (`hz`, `fsn`, `rtz`, `prod`).
            pub const fn code(self) -> &'static str {
                match self { $($ty::$variant => $code),+ }
            }

            /// The one-character code used in 4-character DNS location codes.
            pub const fn one_char(self) -> char {
                match self { $($ty::$variant => $one),+ }
            }

            /// The human name shown on screens.
            pub const fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }

            /// Parses a code exactly as written in the table (lowercase).
            pub fn parse(s: &str) -> Result<Self, UnknownCode> {
                Self::ALL.iter().copied().find(|v| v.code() == s).ok_or_else(|| UnknownCode {
                    dimension: $dim,
                    value: s.to_owned(),
                    expected: Self::ALL.iter().map(|v| v.code()).collect::<Vec<_>>().join(", "),
                })
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

dimension! {
    /// A cloud we provision. Other providers' codes are only reserved (see
    /// [`RESERVED_PROVIDER_CODES`]) so nobody picks them as an organization slug.
    Provider, "provider", {
        Hetzner => ("hz", 'h', "Hetzner Cloud"),
        HuaweiCloud => ("hw", 'w', "Huawei Cloud"),
        Oci => ("oci", 'o', "Oracle Cloud (OCI)"),
    }
}

dimension! {
    /// A security zone; clusters are named by building block, never by failover role.
    BuildingBlock, "building block", {
        /// Restricted Trust Zone: production workloads, no direct internet exposure.
        Rtz => ("rtz", 'r', "Restricted Trust Zone"),
        /// Internet-facing edge: WAF, ingress, WireGuard endpoints.
        Dmz => ("dmz", 'd', "DMZ (edge)"),
        /// The platform's own control plane.
        Mgt => ("mgt", 'm', "Management"),
    }
}

dimension! {
    /// The kind of environment a platform serves. There is deliberately no `dr`: disaster
    /// recovery is a second region, not an env type.
    EnvType, "env type", {
        Prod => ("prod", 'p', "Production"),
        Stg => ("stg", 's', "Staging"),
        Uat => ("uat", 'u', "UAT"),
        Dev => ("dev", 'd', "Development"),
        Poc => ("poc", 'c', "Proof of concept"),
    }
}

dimension! {
    /// A provisionable location. Codes are unique across providers, so a code alone identifies
    /// the provider too. Hetzner Singapore (`sin`) is not here: see [`RESERVED_LOCATION_CODES`].
    Location, "location", {
        Fsn => ("fsn", 'f', "Falkenstein, Germany"),
        Nbg => ("nbg", 'n', "Nuremberg, Germany"),
        Hel => ("hel", 'l', "Helsinki, Finland"),
        Ash => ("ash", 'a', "Ashburn, VA, USA"),
        Hil => ("hil", 'i', "Hillsboro, OR, USA"),
        Apse => ("apse", 'p', "AP Southeast (Singapore)"),
        Cnn => ("cnn", 'c', "CN North (Beijing)"),
        Las => ("las", 'q', "LA South (São Paulo)"),
        Mer => ("mer", 'r', "Middle East (Riyadh)"),
        Dxb => ("dxb", 'x', "ME Dubai"),
        Fra => ("fra", 'r', "EU Frankfurt"),
        Sg => ("sg", 'g', "AP Singapore"),
        Iad => ("iad", 'd', "US Ashburn"),
        Syd => ("syd", 'y', "AP Sydney"),
    }
}

/// Provider codes from the naming convention that we do not provision (AWS, GCP, Azure,
/// Contabo). They stay reserved so names never become ambiguous if support is added.
pub const RESERVED_PROVIDER_CODES: &[&str] = &["aws", "gcp", "az", "ct"];

/// Location codes in the naming convention that we do not provision: Hetzner Singapore (its
/// server types and networking differ, and the upstream module rejects it) and Contabo's `eu`.
pub const RESERVED_LOCATION_CODES: &[&str] = &["sin", "eu"];

/// Words an organization slug may not be, because the platform uses them for its own
/// namespaces, Git organizations or controllers.
pub const RESERVED_SLUGS: &[&str] = &["system", "flux", "crossplane", "catalyst", "gitea"];

impl Provider {
    /// One line for the wizard's Provider screen: what we create there and what to expect.
    pub const fn offers(self) -> &'static str {
        match self {
            Provider::Hetzner => {
                "EU and US locations, low prices, shared and dedicated vCPU servers; \
                 network, firewall and load balancer per cluster"
            }
            Provider::HuaweiCloud => {
                "Asia, China, Latin America and Middle East regions; ECS servers in a VPC \
                 with an ELB load balancer"
            }
            Provider::Oci => {
                "EU, US, Middle East and APAC regions; flexible VM shapes (OCPU and memory \
                 chosen freely) in a VCN with a network load balancer"
            }
        }
    }

    /// The lowercase provider name used in cloud labels (`openova.io/provider`).
    pub const fn label(self) -> &'static str {
        match self {
            Provider::Hetzner => "hetzner",
            Provider::HuaweiCloud => "huawei",
            Provider::Oci => "oci",
        }
    }

    /// Locations this provider offers, in table order.
    pub fn locations(self) -> impl Iterator<Item = Location> {
        Location::ALL
            .iter()
            .copied()
            .filter(move |l| l.provider() == self)
    }

    /// The credential names platform.toml must reference for this provider (as keys of the
    /// `[credentials]` table), with the environment variable conventionally holding each.
    pub const fn credential_names(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Provider::Hetzner => &[("hcloud_token", "HCLOUD_TOKEN")],
            Provider::HuaweiCloud => &[
                ("access_key", "HW_ACCESS_KEY"),
                ("secret_key", "HW_SECRET_KEY"),
            ],
            Provider::Oci => &[
                ("tenancy_ocid", "OCI_TENANCY_OCID"),
                ("user_ocid", "OCI_USER_OCID"),
                ("fingerprint", "OCI_FINGERPRINT"),
                ("private_key", "OCI_PRIVATE_KEY"),
            ],
        }
    }

    /// Server size recommended for control-plane nodes: 16 GB of memory, because the
    /// bootstrap kit runs out of memory on 8 GB nodes.
    pub const fn default_control_plane_size(self) -> &'static str {
        match self {
            Provider::Hetzner => "cx43",
            Provider::HuaweiCloud => "c7n.2xlarge.2",
            Provider::Oci => "VM.Standard.E5.Flex.2.16",
        }
    }

    /// Server size recommended for worker nodes.
    pub const fn default_worker_size(self) -> &'static str {
        match self {
            Provider::Hetzner => "cx33",
            Provider::HuaweiCloud => "c7n.xlarge.2",
            Provider::Oci => "VM.Standard.E5.Flex.2.16",
        }
    }
}

impl Location {
    /// The provider this location belongs to.
    pub const fn provider(self) -> Provider {
        match self {
            Location::Fsn | Location::Nbg | Location::Hel | Location::Ash | Location::Hil => {
                Provider::Hetzner
            }
            Location::Apse | Location::Cnn | Location::Las | Location::Mer => Provider::HuaweiCloud,
            Location::Dxb | Location::Fra | Location::Sg | Location::Iad | Location::Syd => {
                Provider::Oci
            }
        }
    }

    /// The provider's own region id, as its API and the OpenTofu module expect it.
    pub const fn api_region(self) -> &'static str {
        match self {
            Location::Fsn => "fsn1",
            Location::Nbg => "nbg1",
            Location::Hel => "hel1",
            Location::Ash => "ash",
            Location::Hil => "hil",
            Location::Apse => "ap-southeast-3",
            Location::Cnn => "cn-north-4",
            Location::Las => "sa-brazil-1",
            Location::Mer => "me-east-1",
            Location::Dxb => "me-dubai-1",
            Location::Fra => "eu-frankfurt-1",
            Location::Sg => "ap-singapore-1",
            Location::Iad => "us-ashburn-1",
            Location::Syd => "ap-sydney-1",
        }
    }

    /// Hetzner's network zone for the location's subnet; `None` for other providers.
    pub const fn network_zone(self) -> Option<&'static str> {
        match self {
            Location::Fsn | Location::Nbg | Location::Hel => Some("eu-central"),
            Location::Ash => Some("us-east"),
            Location::Hil => Some("us-west"),
            _ => None,
        }
    }

    /// Finds a location by the provider's own region id (`fsn1`, `eu-frankfurt-1`).
    pub fn from_api_region(provider: Provider, id: &str) -> Option<Location> {
        provider.locations().find(|l| l.api_region() == id)
    }
}

/// The four dimensions that identify one cluster; everything global is named from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClusterId {
    pub provider: Provider,
    pub location: Location,
    pub building_block: BuildingBlock,
    pub env_type: EnvType,
}

impl ClusterId {
    /// Cluster and kube context name, `{prov}-{loc}-{bb}-{env}`, e.g. `hz-fsn-rtz-prod`.
    pub fn name(&self) -> String {
        cluster_name(
            self.provider,
            self.location,
            self.building_block,
            self.env_type,
        )
    }

    /// Four-character DNS location code, e.g. `hfrp`.
    pub fn location_code(&self) -> String {
        location_code(
            self.provider,
            self.location,
            self.building_block,
            self.env_type,
        )
    }
}

/// Cluster and kube context name, `{prov}-{loc}-{bb}-{env}`, e.g. `hz-fsn-rtz-prod`.
pub fn cluster_name(p: Provider, l: Location, bb: BuildingBlock, env: EnvType) -> String {
    format!("{}-{}-{}-{}", p.code(), l.code(), bb.code(), env.code())
}

/// Four-character DNS location code from the one-character codes, e.g. `hfrp`.
pub fn location_code(p: Provider, l: Location, bb: BuildingBlock, env: EnvType) -> String {
    [p.one_char(), l.one_char(), bb.one_char(), env.one_char()]
        .iter()
        .collect()
}

/// Server (VM) name, `{prov}{loc}{bb1}-{app}-{n}{env1}`, e.g. `hzfsnr-k8s-1p`. Servers have no
/// location-bearing parent, so the name carries every dimension.
pub fn server_name(
    p: Provider,
    l: Location,
    bb: BuildingBlock,
    env: EnvType,
    app: &str,
    n: u32,
) -> String {
    format!(
        "{}{}{}-{app}-{n}{}",
        p.code(),
        l.code(),
        bb.one_char(),
        env.one_char()
    )
}

/// Network (VPC/VCN) name inside a provider account and region: `{bb}-{env}`, e.g. `rtz-prod`.
pub fn vpc_name(bb: BuildingBlock, env: EnvType) -> String {
    format!("{}-{}", bb.code(), env.code())
}

/// The user-facing Environment name, `{org}-{env}`, e.g. `acme-prod`.
pub fn environment_name(org_slug: &str, env: EnvType) -> String {
    format!("{org_slug}-{}", env.code())
}

// ---------------------------------------------------------------------------------------------
// Validators
// ---------------------------------------------------------------------------------------------

/// The published slug rule as a pattern (docs/naming.md quotes it; messages say it in words).
pub const SLUG_RULE: &str = "^[a-z][a-z0-9-]{2,31}$";
/// The slug rule as messages say it.
const SLUG_RULE_WORDS: &str =
    "a slug has 3 to 32 characters: a-z, 0-9 and '-', starting with a letter";

/// Most characters an organization's display name may have (the field, Review and export
/// all apply [`validate_org_name`]).
pub const ORG_NAME_MAX: usize = 100;

// The patterns below are literals checked by the unit tests, so compiling them cannot fail.
#[allow(clippy::expect_used)]
fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("literal pattern compiles")
}

static SLUG_RE: LazyLock<Regex> = LazyLock::new(|| regex(SLUG_RULE));
static LABEL_RE: LazyLock<Regex> = LazyLock::new(|| regex("^[a-z]([a-z0-9-]*[a-z0-9])?$"));
static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| regex(r"^[^\s@]+@[^\s@]+\.[^\s@]+$"));
static HETZNER_SIZE_RE: LazyLock<Regex> = LazyLock::new(|| regex(HETZNER_SIZE_RULE));
static HUAWEI_SIZE_RE: LazyLock<Regex> = LazyLock::new(|| regex(HUAWEI_SIZE_RULE));
static OCI_SIZE_RE: LazyLock<Regex> = LazyLock::new(|| regex(OCI_SIZE_RULE));

const HETZNER_SIZE_RULE: &str = "^(cx|cpx|ccx|cax)[0-9]+$";
const HUAWEI_SIZE_RULE: &str =
    r"^[a-z][a-z0-9]*\.(small|medium|large|xlarge|[1-9][0-9]*xlarge)\.[1-9][0-9]*$";
const OCI_SIZE_RULE: &str = r"^VM\.[A-Za-z0-9]+(\.[A-Za-z0-9]+)*\.Flex\.[1-9][0-9]*\.[1-9][0-9]*$";

/// Describes a character for a message without echoing control characters raw.
fn show_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("{:?}", c)
    } else {
        format!("'{c}'")
    }
}

/// Every code in every dimension table, including reserved ones, with what it is.
fn dimension_code_owner(s: &str) -> Option<String> {
    if let Ok(p) = Provider::parse(s) {
        return Some(format!("the code of provider {}", p.name()));
    }
    if RESERVED_PROVIDER_CODES.contains(&s) {
        return Some("a reserved provider code".to_owned());
    }
    if let Ok(l) = Location::parse(s) {
        return Some(format!(
            "the code of location {} ({})",
            l.name(),
            l.provider().code()
        ));
    }
    if RESERVED_LOCATION_CODES.contains(&s) {
        return Some("a reserved location code".to_owned());
    }
    if let Ok(bb) = BuildingBlock::parse(s) {
        return Some(format!("the code of building block {}", bb.name()));
    }
    if let Ok(env) = EnvType::parse(s) {
        return Some(format!("the code of env type {}", env.name()));
    }
    None
}

/// An organization's display name: not blank, one line, at most [`ORG_NAME_MAX`] characters.
pub fn validate_org_name(field: &str, name: &str) -> Result<(), FieldError> {
    let err = |m: String| Err(FieldError::new(field, m));
    let len = name.chars().count();
    if name.trim().is_empty() {
        err("must not be empty: give the organization's display name".into())
    } else if name.chars().any(char::is_control) {
        err("must be a single line without control characters".into())
    } else if len > ORG_NAME_MAX {
        err(format!("is {len} characters long; at most {ORG_NAME_MAX}"))
    } else {
        Ok(())
    }
}

/// Organization slug: `^[a-z][a-z0-9-]{2,31}$`, not ending in '-', not reserved, not
/// `kube-*`, and not equal to any provider, location, building-block or env-type code.
///
/// The trailing-hyphen rule is ours: the slug becomes a Kubernetes namespace and vcluster name,
/// which must end with a letter or digit.
pub fn validate_org_slug(field: &str, slug: &str) -> Result<(), FieldError> {
    let err = |m: String| Err(FieldError::new(field, m));
    let rule = format!("({SLUG_RULE_WORDS})");
    if slug.is_empty() {
        return err(format!("must not be empty {rule}"));
    }
    if slug.chars().any(|c| c.is_ascii_uppercase()) {
        return err(format!(
            "{slug:?} must be lowercase: use a-z, 0-9 and '-' {rule}"
        ));
    }
    if let Some(c) = slug
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return err(format!(
            "{slug:?} contains {}: use a-z, 0-9 and '-' {rule}",
            show_char(c)
        ));
    }
    if !slug.starts_with(|c: char| c.is_ascii_lowercase()) {
        return err(format!("{slug:?} must start with a letter a-z {rule}"));
    }
    let len = slug.chars().count();
    if !(3..=32).contains(&len) {
        return err(format!(
            "{slug:?} is {len} characters long; a slug has 3 to 32"
        ));
    }
    debug_assert!(SLUG_RE.is_match(slug));
    if slug.ends_with('-') {
        return err(format!(
            "{slug:?} must not end with '-': it becomes a Kubernetes namespace, which ends with a letter or digit"
        ));
    }
    if RESERVED_SLUGS.contains(&slug) {
        return err(format!(
            "{slug:?} is reserved for the platform itself (reserved: {})",
            RESERVED_SLUGS.join(", ")
        ));
    }
    if slug.starts_with("kube-") {
        return err(format!(
            "{slug:?} is reserved: names starting with \"kube-\" belong to Kubernetes"
        ));
    }
    if let Some(owner) = dimension_code_owner(slug) {
        return err(format!(
            "{slug:?} is reserved: it is {owner}, and names would become ambiguous"
        ));
    }
    Ok(())
}

/// Suggests a valid slug from an organization's display name (`Acme Financial` →
/// `acme-financial`). The result always passes [`validate_org_slug`].
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c == 'ß' {
            out.push_str("ss");
            continue;
        }
        let mapped = match c {
            'a'..='z' | '0'..='9' => Some(c),
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => Some('a'),
            'ç' | 'č' | 'ć' => Some('c'),
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' => Some('e'),
            'ì' | 'í' | 'î' | 'ï' => Some('i'),
            'ñ' | 'ń' => Some('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => Some('o'),
            'ù' | 'ú' | 'û' | 'ü' => Some('u'),
            'ý' | 'ÿ' => Some('y'),
            'ł' => Some('l'),
            'š' | 'ś' => Some('s'),
            'ž' | 'ź' | 'ż' => Some('z'),
            _ => None,
        };
        match mapped {
            Some(m) => out.push(m),
            None if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            None => {}
        }
    }
    let mut slug = out.trim_matches('-').to_owned();
    if !slug.starts_with(|c: char| c.is_ascii_lowercase()) {
        slug = format!("org-{slug}");
    }
    if slug.starts_with("kube-") {
        slug = format!("org-{slug}");
    }
    slug.truncate(32);
    let mut slug = slug.trim_end_matches('-').to_owned();
    if slug.len() < 3
        || RESERVED_SLUGS.contains(&slug.as_str())
        || dimension_code_owner(&slug).is_some()
    {
        slug.truncate(28);
        slug = format!("{}-org", slug.trim_end_matches('-'));
    }
    slug
}

/// A DNS label (RFC 1035): `^[a-z]([a-z0-9-]*[a-z0-9])?$`, at most 63 characters. Used for
/// names the platform creates from it (components); a domain's labels follow RFC 1123 instead.
pub fn validate_dns_label(field: &str, label: &str) -> Result<(), FieldError> {
    label_problem(label, LabelKind::Name).map_or(Ok(()), |m| Err(FieldError::new(field, m)))
}

/// Which label rule applies: a name the platform creates must start with a letter (RFC 1035);
/// a label of a domain the operator brings may start with a digit (RFC 1123: `3m.com`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum LabelKind {
    Name,
    Host,
}

impl LabelKind {
    fn rule(self) -> &'static str {
        match self {
            LabelKind::Name => {
                "(a label has 1 to 63 characters: a-z, 0-9 and '-', starting with a letter \
                 and ending with a letter or digit)"
            }
            LabelKind::Host => {
                "(a label has 1 to 63 characters: a-z, 0-9 and '-', starting and ending with \
                 a letter or digit)"
            }
        }
    }
}

fn label_problem(label: &str, kind: LabelKind) -> Option<String> {
    let rule = kind.rule();
    if label.is_empty() {
        return Some(format!("empty label {rule}"));
    }
    if label.len() > 63 {
        return Some(format!(
            "label {:?}… is {} characters long; at most 63 are allowed",
            label.chars().take(20).collect::<String>(),
            label.len()
        ));
    }
    if label.chars().any(|c| c.is_ascii_uppercase()) {
        return Some(format!("label {label:?} must be lowercase {rule}"));
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!("label {label:?} contains {} {rule}", show_char(c)));
    }
    let first_ok = match kind {
        LabelKind::Name => label.starts_with(|c: char| c.is_ascii_lowercase()),
        LabelKind::Host => label.starts_with(|c: char| c.is_ascii_alphanumeric()),
    };
    if !first_ok {
        let what = match kind {
            LabelKind::Name => "a letter",
            LabelKind::Host => "a letter or digit",
        };
        return Some(format!("label {label:?} must start with {what} {rule}"));
    }
    if label.ends_with('-') {
        return Some(format!(
            "label {label:?} must end with a letter or digit {rule}"
        ));
    }
    debug_assert!(kind == LabelKind::Host || LABEL_RE.is_match(label));
    None
}

/// A domain the operator brings: at most 253 characters, at least two labels, each a host
/// label (RFC 1123, so `3m.com` is fine), the last not all digits. No trailing dot: the
/// platform appends names to it.
pub fn validate_domain(field: &str, domain: &str) -> Result<(), FieldError> {
    let err = |m: String| Err(FieldError::new(field, m));
    if domain.is_empty() {
        return err("must not be empty: give a domain such as acme.com or apps.acme.com".into());
    }
    if domain.len() > 253 {
        return err(format!(
            "is {} characters long; a domain has at most 253",
            domain.len()
        ));
    }
    if domain.ends_with('.') {
        return err(format!(
            "{domain:?} must not end with '.': write {:?}",
            domain.trim_end_matches('.')
        ));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return err(format!(
            "{domain:?} needs at least two labels, e.g. {domain}.com"
        ));
    }
    for label in &labels {
        if let Some(problem) = label_problem(label, LabelKind::Host) {
            return err(format!("{domain:?}: {problem}"));
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return err(format!(
            "{domain:?} ends in a number: the last label is a top-level domain such as com"
        ));
    }
    Ok(())
}

/// An email address, checked only for shape (`^[^\s@]+@[^\s@]+\.[^\s@]+$`); it receives
/// certificate-authority and completion notices.
pub fn validate_email(field: &str, email: &str) -> Result<(), FieldError> {
    if EMAIL_RE.is_match(email) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!(
                "{email:?} is not an email address: expected name@domain.tld (one '@', no spaces, \
                 and a dot in the domain)"
            ),
        ))
    }
}

/// An IPv4 network in CIDR notation (`203.0.113.0/24`). Host bits must be zero, because cloud
/// firewalls reject or silently widen such rules; the message suggests the network address.
pub fn validate_cidr(field: &str, cidr: &str) -> Result<(), FieldError> {
    parse_cidr(cidr)
        .map(|_| ())
        .map_err(|m| FieldError::new(field, m))
}

/// Parses an IPv4 CIDR into (address, prefix length).
pub fn parse_cidr(cidr: &str) -> Result<(std::net::Ipv4Addr, u8), String> {
    let rule = "(an IPv4 network is a.b.c.d/n, n from 0 to 32)";
    let Some((addr, prefix)) = cidr.split_once('/') else {
        return Err(format!(
            "{cidr:?} has no prefix length: write e.g. {cidr}/32 for one address {rule}"
        ));
    };
    let ip: std::net::Ipv4Addr = addr
        .parse()
        .map_err(|_| format!("{addr:?} is not an IPv4 address {rule}"))?;
    let prefix: u8 = match prefix.parse() {
        Ok(p) if p <= 32 && !prefix.starts_with('+') => p,
        _ => return Err(format!("prefix length {prefix:?} is not 0 to 32 {rule}")),
    };
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    let bits = u32::from(ip);
    if bits & !mask != 0 {
        let net = std::net::Ipv4Addr::from(bits & mask);
        return Err(format!(
            "{cidr:?} has host bits set: did you mean {net}/{prefix}?"
        ));
    }
    Ok((ip, prefix))
}

/// SSH public key types accepted (the wizard's list).
pub const SSH_KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
];

/// A parsed OpenSSH public key line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshPublicKey {
    pub key_type: String,
    /// The decoded key blob.
    pub blob: Vec<u8>,
    pub comment: Option<String>,
}

impl SshPublicKey {
    /// The `SHA256:…` fingerprint as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(&self.blob);
        format!(
            "SHA256:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
        )
    }
}

/// Parses one OpenSSH public key line (`ssh-ed25519 AAAA… comment`). The base64 body must
/// decode and must itself name the same key type, which catches truncated or mixed-up pastes.
pub fn parse_ssh_public_key(field: &str, line: &str) -> Result<SshPublicKey, FieldError> {
    let err = |m: String| Err(FieldError::new(field, m));
    let types = SSH_KEY_TYPES.join(", ");
    if line.contains('\n') || line.contains('\r') {
        return err("must be a single line (the contents of a .pub file)".into());
    }
    if line.contains("PRIVATE KEY") {
        // Never echo it: this is a private key pasted by mistake.
        return err("looks like a private key; give the public key (the .pub file) instead".into());
    }
    if line.trim().is_empty() {
        return err(format!(
            "must not be empty: give an OpenSSH public key line ({types})"
        ));
    }
    // Exactly `TYPE SP BASE64 [SP COMMENT]`: the OpenTofu modules check the same shape.
    if line.starts_with(char::is_whitespace) {
        return err("must start with the key type, without leading spaces".into());
    }
    let mut parts = line.splitn(3, ' ');
    let key_type = parts.next().unwrap_or_default();
    let body = parts.next();
    if key_type.contains(char::is_whitespace)
        || body.is_some_and(|b| b.is_empty() || b.contains(char::is_whitespace))
    {
        return err("separate key type, key data and comment with single spaces".into());
    }
    if !SSH_KEY_TYPES.contains(&key_type) {
        let shown: String = key_type.chars().take(24).collect();
        return err(format!(
            "key type {shown:?} is not accepted: use one of {types}"
        ));
    }
    let Some(body) = body else {
        return err(format!("has no key data after {key_type:?}"));
    };
    let blob = match base64::engine::general_purpose::STANDARD.decode(body) {
        Ok(b) => b,
        Err(_) => {
            return err(format!(
                "the key data after {key_type:?} is not valid base64"
            ));
        }
    };
    // The blob starts with a length-prefixed copy of the key type.
    let named = blob
        .get(..4)
        .map(|n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize)
        .and_then(|n| blob.get(4..4 + n));
    if named != Some(key_type.as_bytes()) {
        return err(format!(
            "the key data is not a {key_type} key (truncated or mixed-up paste?)"
        ));
    }
    let comment = parts.next().map(str::to_owned);
    Ok(SshPublicKey {
        key_type: key_type.to_owned(),
        blob,
        comment,
    })
}

/// Validates a server size (instance type) for a provider:
/// Hetzner `^(cx|cpx|ccx|cax)[0-9]+$`; Huawei `<family>.<size>.<ram ratio>` (`c7n.xlarge.2`);
/// OCI flexible shapes with OCPUs and memory appended (`VM.Standard.E5.Flex.2.16`).
pub fn validate_server_size(field: &str, provider: Provider, size: &str) -> Result<(), FieldError> {
    let (re, rule, example) = match provider {
        Provider::Hetzner => (
            &*HETZNER_SIZE_RE,
            "cx, cpx, ccx or cax followed by a number",
            "cx43",
        ),
        Provider::HuaweiCloud => (
            &*HUAWEI_SIZE_RE,
            "family.size.memory-ratio, the size small, medium, large or Nxlarge",
            "c7n.xlarge.2",
        ),
        Provider::Oci => (
            &*OCI_SIZE_RE,
            "a VM flexible shape with OCPUs and memory in GB appended",
            "VM.Standard.E5.Flex.2.16",
        ),
    };
    if re.is_match(size) {
        return Ok(());
    }
    Err(FieldError::new(
        field,
        format!(
            "{size:?} is not a {} server size, e.g. {example} ({rule})",
            provider.name()
        ),
    ))
}

/// Control-plane node count: 1, or 3 for an etcd quorum (2 would lose quorum with one node).
pub fn validate_control_plane_count(field: &str, count: u32) -> Result<(), FieldError> {
    if count == 1 || count == 3 {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("{count} control-plane nodes: use 1, or 3 for a highly available etcd quorum"),
        ))
    }
}

/// Most worker nodes one region may ask for.
pub const MAX_WORKERS: u32 = 50;

/// Worker node count: 0 (the control plane runs everything) to 50.
pub fn validate_worker_count(field: &str, count: u32) -> Result<(), FieldError> {
    if count <= MAX_WORKERS {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("{count} workers is more than {MAX_WORKERS}: use 0 to {MAX_WORKERS}"),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Server sizes and prices
// ---------------------------------------------------------------------------------------------

/// One server size for the sizing screen and cost estimates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerSize {
    pub provider: Provider,
    pub id: &'static str,
    /// Short family description, e.g. "AMD shared".
    pub family: &'static str,
    pub vcpu: u32,
    pub ram_gb: u32,
    /// Local disk; `None` where the provider attaches block storage instead.
    pub disk_gb: Option<u32>,
    /// List price in EUR per month where known (Hetzner, April 2026); hourly = monthly / 730.
    pub eur_per_month: Option<f64>,
}

impl ServerSize {
    /// EUR per hour, derived from the monthly price.
    pub fn eur_per_hour(&self) -> Option<f64> {
        self.eur_per_month.map(|m| m / 730.0)
    }
}

/// Hours per month used for every monthly figure.
pub const HOURS_PER_MONTH: f64 = 730.0;

const fn hz(
    id: &'static str,
    family: &'static str,
    vcpu: u32,
    ram: u32,
    disk: u32,
    eur: f64,
) -> ServerSize {
    ServerSize {
        provider: Provider::Hetzner,
        id,
        family,
        vcpu,
        ram_gb: ram,
        disk_gb: Some(disk),
        eur_per_month: Some(eur),
    }
}

const fn other(
    provider: Provider,
    id: &'static str,
    family: &'static str,
    vcpu: u32,
    ram: u32,
) -> ServerSize {
    ServerSize {
        provider,
        id,
        family,
        vcpu,
        ram_gb: ram,
        disk_gb: None,
        eur_per_month: None,
    }
}

/// Known server sizes, per provider in ascending size. Hetzner prices are list prices in EUR
/// (April 2026); Huawei and OCI prices depend on the account's contract, so they are unknown.
pub const SERVER_SIZES: &[ServerSize] = &[
    hz("cx23", "Intel shared", 2, 4, 40, 3.99),
    hz("cx33", "Intel shared", 4, 8, 80, 6.49),
    hz("cx43", "Intel shared", 8, 16, 160, 11.99),
    hz("cx53", "Intel shared", 16, 32, 320, 22.49),
    hz("cpx22", "AMD shared", 2, 4, 80, 7.99),
    hz("cpx32", "AMD shared", 4, 8, 160, 14.49),
    hz("cpx42", "AMD shared", 8, 16, 320, 25.49),
    hz("cpx52", "AMD shared", 12, 24, 480, 36.49),
    hz("cpx62", "AMD shared", 16, 32, 640, 50.49),
    hz("cax11", "Ampere ARM", 2, 4, 40, 4.49),
    hz("cax21", "Ampere ARM", 4, 8, 80, 7.99),
    hz("cax31", "Ampere ARM", 8, 16, 160, 15.99),
    hz("cax41", "Ampere ARM", 16, 32, 320, 31.49),
    hz("ccx13", "AMD dedicated", 2, 8, 80, 15.99),
    hz("ccx23", "AMD dedicated", 4, 16, 160, 31.49),
    hz("ccx33", "AMD dedicated", 8, 32, 240, 62.49),
    hz("ccx43", "AMD dedicated", 16, 64, 360, 124.99),
    hz("ccx53", "AMD dedicated", 32, 128, 600, 249.99),
    hz("ccx63", "AMD dedicated", 48, 192, 960, 374.49),
    other(
        Provider::HuaweiCloud,
        "c7n.xlarge.2",
        "compute-optimized",
        4,
        8,
    ),
    other(
        Provider::HuaweiCloud,
        "c7n.2xlarge.2",
        "compute-optimized",
        8,
        16,
    ),
    other(
        Provider::HuaweiCloud,
        "c7n.4xlarge.2",
        "compute-optimized",
        16,
        32,
    ),
    other(
        Provider::HuaweiCloud,
        "s7n.xlarge.2",
        "general-purpose",
        4,
        8,
    ),
    other(
        Provider::HuaweiCloud,
        "m7.2xlarge.8",
        "memory-optimized",
        8,
        64,
    ),
    other(
        Provider::Oci,
        "VM.Standard.E5.Flex.2.16",
        "AMD flexible",
        4,
        16,
    ),
    other(
        Provider::Oci,
        "VM.Standard.E5.Flex.4.32",
        "AMD flexible",
        8,
        32,
    ),
    other(
        Provider::Oci,
        "VM.Standard.E4.Flex.2.16",
        "AMD flexible",
        4,
        16,
    ),
    other(
        Provider::Oci,
        "VM.Standard.A1.Flex.4.24",
        "Ampere ARM flexible",
        4,
        24,
    ),
];

/// Known sizes of one provider.
pub fn server_sizes(provider: Provider) -> impl Iterator<Item = &'static ServerSize> {
    SERVER_SIZES.iter().filter(move |s| s.provider == provider)
}

/// Looks a size up in the table.
pub fn server_size(provider: Provider, id: &str) -> Option<&'static ServerSize> {
    server_sizes(provider).find(|s| s.id == id)
}

/// Splits an OCI flexible size id into (shape, OCPUs, memory GB): `VM.Standard.E5.Flex.2.16`
/// → (`VM.Standard.E5.Flex`, 2, 16). The OpenTofu module passes the numbers as shape config.
pub fn oci_flex_shape(size: &str) -> Option<(&str, u32, u32)> {
    if !OCI_SIZE_RE.is_match(size) {
        return None;
    }
    let (rest, gb) = size.rsplit_once('.')?;
    let (shape, ocpu) = rest.rsplit_once('.')?;
    Some((shape, ocpu.parse().ok()?, gb.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Generated with ssh-keygen; fingerprints as `ssh-keygen -l` printed them.
    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtZbGB686h2flmyRufj6W7HyqwKpVzbOVieXWyl+9WT ops@acme";
    const ECDSA384: &str = "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBHbq5kEW7LnRmfLZczh2Y6/+kCl3DvECL5PDhanzZqN1jnIBVeAYAVqPB3vFKe22iTF4S8gVQQQL4qSgB5scYzmg+tCSP5Ch3u3CNj8fcFPR8xgTRCDywdaEemU9zOpm7w== x";

    #[test]
    fn dimension_codes_are_unique_within_each_table() {
        fn unique<T: Copy>(all: &[T], code: fn(T) -> &'static str) {
            let mut codes: Vec<_> = all.iter().map(|v| code(*v)).collect();
            codes.sort_unstable();
            let n = codes.len();
            codes.dedup();
            assert_eq!(codes.len(), n);
        }
        unique(Provider::ALL, Provider::code);
        unique(Location::ALL, Location::code);
        unique(BuildingBlock::ALL, BuildingBlock::code);
        unique(EnvType::ALL, EnvType::code);
    }

    #[test]
    fn location_one_char_never_equals_its_providers_one_char() {
        for l in Location::ALL {
            assert_ne!(l.one_char(), l.provider().one_char(), "{l}");
        }
        for p in Provider::ALL {
            let mut ones: Vec<char> = p.locations().map(Location::one_char).collect();
            let n = ones.len();
            ones.sort_unstable();
            ones.dedup();
            assert_eq!(ones.len(), n, "one-char location codes collide within {p}");
        }
    }

    #[test]
    fn location_codes_do_not_reuse_reserved_or_other_dimension_codes() {
        for l in Location::ALL {
            assert!(!RESERVED_LOCATION_CODES.contains(&l.code()));
            assert!(Provider::parse(l.code()).is_err());
        }
    }

    #[test]
    fn cluster_name_hetzner_falkenstein_rtz_prod_is_documented_example() {
        let id = ClusterId {
            provider: Provider::Hetzner,
            location: Location::Fsn,
            building_block: BuildingBlock::Rtz,
            env_type: EnvType::Prod,
        };
        assert_eq!(id.name(), "hz-fsn-rtz-prod");
        assert_eq!(id.location_code(), "hfrp");
    }

    #[test]
    fn location_code_published_table_matches_computed_codes() {
        use BuildingBlock::*;
        use EnvType::*;
        use Location::*;
        let table = [
            ("hfrp", Fsn, Rtz, Prod),
            ("hfrd", Fsn, Rtz, Dev),
            ("hfdp", Fsn, Dmz, Prod),
            ("hfmp", Fsn, Mgt, Prod),
            ("hlrp", Hel, Rtz, Prod),
            ("hldp", Hel, Dmz, Prod),
            ("hnrp", Nbg, Rtz, Prod),
            ("hnmp", Nbg, Mgt, Prod),
            ("hnmd", Nbg, Mgt, Dev),
            ("harp", Ash, Rtz, Prod),
            ("wprp", Apse, Rtz, Prod),
            ("oxrp", Dxb, Rtz, Prod),
            ("orrp", Fra, Rtz, Prod),
            ("hids", Hil, Dmz, Stg),
            ("wrmu", Mer, Mgt, Uat),
        ];
        for (code, l, bb, env) in table {
            assert_eq!(location_code(l.provider(), l, bb, env), code);
        }
    }

    #[test]
    fn worked_examples_names_match_the_convention() {
        use BuildingBlock::*;
        use EnvType::*;
        use Location::*;
        assert_eq!(
            cluster_name(Provider::Hetzner, Nbg, Mgt, Prod),
            "hz-nbg-mgt-prod"
        );
        assert_eq!(
            server_name(Provider::Hetzner, Nbg, Mgt, Prod, "k8s", 1),
            "hznbgm-k8s-1p"
        );
        assert_eq!(
            server_name(Provider::Hetzner, Fsn, Rtz, Prod, "k8s", 1),
            "hzfsnr-k8s-1p"
        );
        assert_eq!(vpc_name(Mgt, Prod), "mgt-prod");
        assert_eq!(
            cluster_name(Provider::Oci, Fra, Rtz, Prod),
            "oci-fra-rtz-prod"
        );
        assert_eq!(
            cluster_name(Provider::HuaweiCloud, Mer, Mgt, Uat),
            "hw-mer-mgt-uat"
        );
        assert_eq!(environment_name("acme", Prod), "acme-prod");
    }

    #[test]
    fn api_region_maps_each_location_to_the_providers_region_id() {
        assert_eq!(Location::Fsn.api_region(), "fsn1");
        assert_eq!(Location::Hil.api_region(), "hil");
        assert_eq!(Location::Fra.api_region(), "eu-frankfurt-1");
        assert_eq!(Location::Apse.api_region(), "ap-southeast-3");
        assert_eq!(Location::Ash.network_zone(), Some("us-east"));
        assert_eq!(Location::Hel.network_zone(), Some("eu-central"));
        assert_eq!(Location::Fra.network_zone(), None);
        assert_eq!(
            Location::from_api_region(Provider::Oci, "us-ashburn-1"),
            Some(Location::Iad)
        );
        assert_eq!(
            Location::from_api_region(Provider::Hetzner, "us-ashburn-1"),
            None
        );
        for p in Provider::ALL {
            for l in p.locations() {
                assert_eq!(Location::from_api_region(*p, l.api_region()), Some(l));
            }
        }
    }

    #[test]
    fn parse_unknown_code_lists_accepted_codes() {
        let e = Provider::parse("aws").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown provider \"aws\": expected one of hz, hw, oci"
        );
        let e = Location::parse("sin").unwrap_err();
        assert!(e.to_string().contains("fsn, nbg, hel, ash, hil"), "{e}");
        assert_eq!(EnvType::parse("dr").unwrap_err().dimension, "env type");
        assert_eq!(BuildingBlock::parse("mgt"), Ok(BuildingBlock::Mgt));
        assert!(BuildingBlock::parse("MGT").is_err());
    }

    #[test]
    fn serde_dimension_is_the_code_string() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct T {
            p: Provider,
            l: Location,
        }
        let t = T {
            p: Provider::Oci,
            l: Location::Syd,
        };
        let s = toml::to_string(&t).unwrap();
        assert_eq!(s, "p = \"oci\"\nl = \"syd\"\n");
        assert_eq!(toml::from_str::<T>(&s).unwrap(), t);
        let e = toml::from_str::<T>("p = \"aws\"\nl = \"syd\"\n").unwrap_err();
        assert!(e.message().contains("unknown provider \"aws\""), "{e}");
    }

    fn slug_err(s: &str) -> String {
        validate_org_slug("organization.slug", s)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn org_slug_valid_examples_are_accepted() {
        for s in [
            "acme",
            "bankdhofar",
            "muscatpharmacy",
            "omantel-internal",
            "a12",
            "abcdefghijklmnopqrstuvwxyz012345",
        ] {
            assert_eq!(validate_org_slug("organization.slug", s), Ok(()), "{s}");
        }
    }

    #[test]
    fn org_slug_uppercase_is_rejected_with_rule_in_words() {
        assert_eq!(
            slug_err("Acme"),
            "organization.slug: \"Acme\" must be lowercase: use a-z, 0-9 and '-' (a slug has 3 to 32 characters: a-z, 0-9 and '-', starting with a letter)"
        );
    }

    #[test]
    fn no_message_quotes_a_regular_expression() {
        let messages = [
            slug_err("Acme"),
            slug_err(""),
            validate_domain("d", "A.com").unwrap_err().to_string(),
            validate_domain("d", "a_b.com").unwrap_err().to_string(),
            validate_dns_label("c", "1x").unwrap_err().to_string(),
            validate_email("e", "x").unwrap_err().to_string(),
            validate_cidr("c", "1.2.3.4").unwrap_err().to_string(),
            validate_server_size("s", Provider::Hetzner, "m5")
                .unwrap_err()
                .to_string(),
            validate_server_size("s", Provider::HuaweiCloud, "x")
                .unwrap_err()
                .to_string(),
            validate_server_size("s", Provider::Oci, "x")
                .unwrap_err()
                .to_string(),
        ];
        for m in messages {
            assert!(
                !m.contains("rule:") && !m.contains('^') && !m.contains('$'),
                "{m}"
            );
        }
    }

    #[test]
    fn org_name_allows_100_characters_on_one_line() {
        let f = |s: &str| validate_org_name("organization.name", s);
        assert!(f("Acme Financial").is_ok());
        assert!(f(&"a".repeat(100)).is_ok());
        assert!(
            f(&"a".repeat(101))
                .unwrap_err()
                .message
                .contains("at most 100")
        );
        assert!(f("  ").unwrap_err().message.contains("must not be empty"));
        assert!(f("a\nb").unwrap_err().message.contains("single line"));
    }

    #[test]
    fn org_slug_bad_character_is_named() {
        assert!(slug_err("ac_me").contains("contains '_'"));
        assert!(slug_err("ac me").contains("contains ' '"));
    }

    #[test]
    fn org_slug_length_outside_3_to_32_is_rejected() {
        assert!(slug_err("ab").contains("is 2 characters long; a slug has 3 to 32"));
        assert!(slug_err(&"a".repeat(33)).contains("is 33 characters long"));
        assert!(slug_err("").contains("must not be empty"));
    }

    #[test]
    fn org_slug_leading_digit_or_hyphen_is_rejected() {
        assert!(slug_err("1acme").contains("must start with a letter"));
        assert!(slug_err("-acme").contains("must start with a letter"));
    }

    #[test]
    fn org_slug_trailing_hyphen_is_rejected() {
        assert!(slug_err("acme-").contains("must not end with '-'"));
    }

    #[test]
    fn org_slug_reserved_words_are_rejected() {
        for s in RESERVED_SLUGS {
            assert!(slug_err(s).contains("is reserved for the platform"), "{s}");
        }
        assert!(slug_err("kube-system").contains("belong to Kubernetes"));
    }

    #[test]
    fn org_slug_dimension_codes_are_rejected() {
        assert!(slug_err("fsn").contains("location Falkenstein"));
        assert!(slug_err("oci").contains("provider Oracle"));
        assert!(slug_err("aws").contains("reserved provider code"));
        assert!(slug_err("sin").contains("reserved location code"));
        assert!(slug_err("rtz").contains("building block"));
        assert!(slug_err("prod").contains("env type"));
        assert!(slug_err("apse").contains("location"));
    }

    #[test]
    fn slugify_display_names_become_valid_slugs() {
        assert_eq!(slugify("Acme Financial"), "acme-financial");
        assert_eq!(slugify("  Müller & Söhne GmbH "), "muller-sohne-gmbh");
        assert_eq!(slugify("42 Bank"), "org-42-bank");
        assert_eq!(slugify("Großbank"), "grossbank");
        assert_eq!(slugify("X"), "x-org");
        assert_eq!(slugify("System"), "system-org");
        assert_eq!(slugify("Prod"), "prod-org");
        assert_eq!(slugify("kube-thing"), "org-kube-thing");
        assert_eq!(slugify(""), "org");
        assert_eq!(slugify("!!!"), "org");
        let long = slugify("The Extraordinarily Long Named Organisation of Everything");
        assert!(long.len() <= 32);
    }

    proptest::proptest! {
        #[test]
        fn slugify_any_name_passes_slug_validation(name in "\\PC{0,60}") {
            let slug = slugify(&name);
            proptest::prop_assert_eq!(validate_org_slug("s", &slug), Ok(()), "{:?} -> {:?}", name, slug);
        }

        #[test]
        fn cidr_any_network_address_is_accepted(bits in proptest::prelude::any::<u32>(), prefix in 0u8..=32) {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
            let cidr = format!("{}/{}", std::net::Ipv4Addr::from(bits & mask), prefix);
            proptest::prop_assert!(validate_cidr("c", &cidr).is_ok());
        }
    }

    #[test]
    fn dns_label_rules_are_enforced() {
        let f = |s: &str| validate_dns_label("domain", s);
        assert!(f("console").is_ok());
        assert!(f("a").is_ok());
        assert!(f("omantel-prod").is_ok());
        assert!(
            f("Omantel")
                .unwrap_err()
                .message
                .contains("must be lowercase")
        );
        assert!(
            f("-x")
                .unwrap_err()
                .message
                .contains("must start with a letter")
        );
        assert!(
            f("1x")
                .unwrap_err()
                .message
                .contains("must start with a letter")
        );
        assert!(
            f("x-")
                .unwrap_err()
                .message
                .contains("must end with a letter or digit")
        );
        assert!(f("a_b").unwrap_err().message.contains("contains '_'"));
        assert!(
            f(&"a".repeat(64))
                .unwrap_err()
                .message
                .contains("at most 63")
        );
        assert!(f(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn domain_rules_are_enforced() {
        let f = |s: &str| validate_domain("organization.domain", s);
        assert!(f("acme.com").is_ok());
        assert!(f("apps.acme.com").is_ok());
        // RFC 1123: labels may start with a digit.
        assert!(f("3m.com").is_ok());
        assert!(f("apps.1und1.de").is_ok());
        assert!(
            f("-x.com")
                .unwrap_err()
                .message
                .contains("must start with a letter or digit")
        );
        assert!(
            f("acme.123")
                .unwrap_err()
                .message
                .contains("ends in a number")
        );
        assert!(
            f("acme")
                .unwrap_err()
                .message
                .contains("at least two labels")
        );
        assert!(
            f("acme.com.")
                .unwrap_err()
                .message
                .contains("must not end with '.'")
        );
        assert!(f("acme..com").unwrap_err().message.contains("empty label"));
        assert!(
            f("ACME.com")
                .unwrap_err()
                .message
                .contains("must be lowercase")
        );
        assert!(f("").unwrap_err().message.contains("must not be empty"));
        let long = format!("{}.com", vec!["a".repeat(60); 5].join("."));
        assert!(long.len() > 253);
        assert!(f(&long).unwrap_err().message.contains("at most 253"));
    }

    #[test]
    fn email_shape_is_checked() {
        let f = |s: &str| validate_email("organization.email", s);
        assert!(f("platform@acme.io").is_ok());
        assert!(
            f("platform@acme")
                .unwrap_err()
                .message
                .contains("name@domain.tld")
        );
        assert!(f("plat form@acme.io").is_err());
        assert!(f("").is_err());
    }

    #[test]
    fn cidr_rules_are_enforced() {
        let f = |s: &str| validate_cidr("ssh.allowed_cidrs[0]", s);
        assert!(f("203.0.113.7/32").is_ok());
        assert!(f("0.0.0.0/0").is_ok());
        assert!(f("10.0.0.0/8").is_ok());
        assert!(
            f("10.0.0.1")
                .unwrap_err()
                .message
                .contains("no prefix length")
        );
        assert!(
            f("10.0.0.256/8")
                .unwrap_err()
                .message
                .contains("not an IPv4 address")
        );
        assert!(
            f("10.0.0.0/33")
                .unwrap_err()
                .message
                .contains("not 0 to 32")
        );
        assert!(f("10.0.0.0/+8").is_err());
        assert!(f("::1/128").is_err());
        assert_eq!(
            f("10.0.0.1/8").unwrap_err().message,
            "\"10.0.0.1/8\" has host bits set: did you mean 10.0.0.0/8?"
        );
    }

    #[test]
    fn ssh_key_valid_ed25519_parses_with_fingerprint() {
        let k = parse_ssh_public_key("ssh.public_key", ED25519).unwrap();
        assert_eq!(k.key_type, "ssh-ed25519");
        assert_eq!(k.comment.as_deref(), Some("ops@acme"));
        assert_eq!(
            k.fingerprint(),
            "SHA256:4PGqz92dl9/h9F6pHgFlkW1PPKfgJBnAbSRCG/sqdJM"
        );
        let k = parse_ssh_public_key("ssh.public_key", ECDSA384).unwrap();
        assert_eq!(
            k.fingerprint(),
            "SHA256:UpH/skdAxwJI4JVHHGVNvZVXfBCv6nNCOcKW7/ceFPU"
        );
    }

    #[test]
    fn ssh_key_bad_inputs_are_rejected_with_reason() {
        let f = |s: &str| {
            parse_ssh_public_key("ssh.public_key", s)
                .unwrap_err()
                .message
        };
        assert!(f("").contains("must not be empty"));
        assert!(f("ssh-dss AAAAB3NzaC1kc3M=").contains("is not accepted"));
        assert!(f("ssh-ed25519").contains("no key data"));
        assert!(f("ssh-ed25519 !!!notbase64").contains("not valid base64"));
        // A valid ed25519 body labelled as RSA.
        let mislabeled = ED25519.replacen("ssh-ed25519", "ssh-rsa", 1);
        assert!(f(&mislabeled).contains("is not a ssh-rsa key"));
        assert!(f("ssh-ed25519 AAAA\nssh-rsa AAAA").contains("single line"));
        assert!(f(&ED25519.replacen(' ', "  ", 1)).contains("single spaces"));
        assert!(f(&ED25519.replacen(' ', "\t", 1)).contains("single spaces"));
        assert!(f(&format!(" {ED25519}")).contains("leading spaces"));
        let private = "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA";
        let msg = f(private);
        assert!(msg.contains("private key"));
        assert!(
            !msg.contains("b3BlbnNz"),
            "private key material must not be echoed"
        );
    }

    #[test]
    fn server_size_rules_per_provider() {
        let f = |p, s: &str| validate_server_size("regions[0].workers.size", p, s);
        assert!(f(Provider::Hetzner, "cpx32").is_ok());
        assert!(f(Provider::Hetzner, "cax41").is_ok());
        assert!(f(Provider::Hetzner, "CPX32").is_err());
        assert!(
            f(Provider::Hetzner, "m6i.xlarge")
                .unwrap_err()
                .message
                .contains("Hetzner Cloud server size")
        );
        assert!(f(Provider::HuaweiCloud, "c7n.xlarge.2").is_ok());
        assert!(f(Provider::HuaweiCloud, "c7n.2xlarge.2").is_ok());
        assert!(f(Provider::HuaweiCloud, "c7n.xlarge").is_err());
        assert!(f(Provider::Oci, "VM.Standard.E5.Flex.2.16").is_ok());
        assert!(f(Provider::Oci, "VM.Standard.E5.Flex").is_err());
        assert!(f(Provider::Oci, "cx43").is_err());
        for s in SERVER_SIZES {
            assert!(
                f(s.provider, s.id).is_ok(),
                "table entry {} fails its own rule",
                s.id
            );
        }
        for p in Provider::ALL {
            assert!(f(*p, p.default_control_plane_size()).is_ok());
            assert!(f(*p, p.default_worker_size()).is_ok());
            assert!(server_size(*p, p.default_control_plane_size()).is_some());
        }
    }

    #[test]
    fn server_size_table_prices_for_hetzner_only() {
        let cpx32 = server_size(Provider::Hetzner, "cpx32").unwrap();
        assert_eq!((cpx32.vcpu, cpx32.ram_gb, cpx32.disk_gb), (4, 8, Some(160)));
        let hourly = cpx32.eur_per_hour().unwrap();
        assert!((hourly - 0.01985).abs() < 0.0001, "{hourly}");
        assert!(
            server_size(Provider::Oci, "VM.Standard.E5.Flex.2.16")
                .unwrap()
                .eur_per_month
                .is_none()
        );
        assert!(server_sizes(Provider::Hetzner).all(|s| s.eur_per_month.is_some()));
    }

    #[test]
    fn oci_flex_shape_splits_ocpus_and_memory() {
        assert_eq!(
            oci_flex_shape("VM.Standard.E5.Flex.2.16"),
            Some(("VM.Standard.E5.Flex", 2, 16))
        );
        assert_eq!(oci_flex_shape("cx43"), None);
    }

    #[test]
    fn node_counts_are_bounded() {
        assert!(validate_control_plane_count("c", 1).is_ok());
        assert!(validate_control_plane_count("c", 3).is_ok());
        assert!(
            validate_control_plane_count("c", 2)
                .unwrap_err()
                .message
                .contains("use 1, or 3")
        );
        assert!(validate_control_plane_count("c", 0).is_err());
        assert!(validate_worker_count("w", 0).is_ok());
        assert!(validate_worker_count("w", 50).is_ok());
        assert!(
            validate_worker_count("w", 51)
                .unwrap_err()
                .message
                .contains("use 0 to 50")
        );
    }

    #[test]
    fn provider_metadata_is_complete() {
        for p in Provider::ALL {
            assert!(!p.offers().is_empty());
            assert!(p.locations().count() >= 4);
            assert!(!p.credential_names().is_empty());
        }
    }
}
