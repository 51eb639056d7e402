//! The component catalog model: what can be installed, its versions, dependencies and endpoints,
//! and the checks that make a catalog file trustworthy (no cycles, no dangling names, valid semver).
//!
//! The catalog is read from TOML text (the embedded dataset or an operator-supplied file for
//! air-gapped sites); every error names the line and the rule that was broken.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The OCI repository that hosts the `bp-<name>` wrapper charts unless a catalog says otherwise.
pub const DEFAULT_CHART_REPOSITORY: &str = "oci://ghcr.io/openova-io";

/// Placeholders an endpoint URL template may contain.
pub const ENDPOINT_PLACEHOLDERS: &[&str] = &["domain", "location"];

/// How a component gets onto a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Installed on every platform and never removed.
    Mandatory,
    /// Chosen by the operator, in the wizard or later in the console.
    ALaCarte,
    /// A bundle of components installed together (AI Hub, Open Banking, ...).
    MetaPlatform,
}

impl Category {
    pub const ALL: [Category; 3] = [
        Category::Mandatory,
        Category::ALaCarte,
        Category::MetaPlatform,
    ];

    /// The identifier used in catalog files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Mandatory => "mandatory",
            Category::ALaCarte => "a-la-carte",
            Category::MetaPlatform => "meta-platform",
        }
    }

    /// Section heading as the console shows it.
    pub fn heading(self) -> &'static str {
        match self {
            Category::Mandatory => "MANDATORY (Core Platform)",
            Category::ALaCarte => "A LA CARTE (Optional)",
            Category::MetaPlatform => "META-PLATFORMS",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!("unknown category `{s}`; expected mandatory, a-la-carte or meta-platform")
            })
    }
}

/// Product family a component belongs to; the wizard groups its Components screen by family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Pilot,
    Spine,
    Surge,
    Silo,
    Guardian,
    Insights,
    Fabric,
    Cortex,
    Relay,
}

impl Family {
    pub const ALL: [Family; 9] = [
        Family::Pilot,
        Family::Spine,
        Family::Surge,
        Family::Silo,
        Family::Guardian,
        Family::Insights,
        Family::Fabric,
        Family::Cortex,
        Family::Relay,
    ];

    /// Upper-case product name, e.g. `PILOT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Pilot => "PILOT",
            Family::Spine => "SPINE",
            Family::Surge => "SURGE",
            Family::Silo => "SILO",
            Family::Guardian => "GUARDIAN",
            Family::Insights => "INSIGHTS",
            Family::Fabric => "FABRIC",
            Family::Cortex => "CORTEX",
            Family::Relay => "RELAY",
        }
    }

    /// What the family is about, e.g. `GitOps & IaC`.
    pub fn title(self) -> &'static str {
        match self {
            Family::Pilot => "GitOps & IaC",
            Family::Spine => "Networking & mesh",
            Family::Surge => "Scaling & resilience",
            Family::Silo => "Storage & registry",
            Family::Guardian => "Security & identity",
            Family::Insights => "AIOps & observability",
            Family::Fabric => "Data & integration",
            Family::Cortex => "AI & ML",
            Family::Relay => "Communication",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the component's Helm chart comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRef {
    /// Chart name, e.g. `bp-cilium`.
    pub name: String,
    /// OCI repository URL, e.g. `oci://ghcr.io/openova-io`.
    pub repository: String,
}

/// One released version of a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionEntry {
    /// The version operators see and pin (`Platform.spec.components[].version`), shown as `v1.16.3`.
    pub version: semver::Version,
    /// Version of the wrapper chart that ships it.
    pub chart_version: semver::Version,
    /// The upstream chart (and app version) the wrapper pins, for reference.
    pub upstream: Option<String>,
    /// What changed in this version, one line per change.
    pub changes: Vec<String>,
    /// A major upgrade whatever semver says (e.g. a data format change): an upgrade to or past
    /// it needs the operator's second confirmation.
    pub major: bool,
}

/// A dependency that is offered, not forced, with the reason to want it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionalDep {
    pub name: String,
    /// Short reason shown next to the checkbox, e.g. `knowledge graph`.
    pub reason: String,
}

/// A URL the component exposes once installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub name: String,
    /// Template with `{domain}` / `{location}` placeholders, e.g. `https://grafana.{domain}`.
    pub url: String,
}

impl Endpoint {
    /// The URL for a platform on `domain` (and a region `location` code such as `fsn`).
    pub fn render(&self, domain: &str, location: &str) -> String {
        self.url
            .replace("{domain}", domain)
            .replace("{location}", location)
    }
}

/// One installable component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentSpec {
    pub name: String,
    pub title: String,
    pub category: Category,
    pub family: Family,
    pub description: String,
    pub namespace: String,
    pub chart: ChartRef,
    /// Ascending by version; never empty.
    pub versions: Vec<VersionEntry>,
    /// Install dependencies: these must be installed (and healthy) first.
    pub requires: Vec<String>,
    pub optional: Vec<OptionalDep>,
    pub endpoints: Vec<Endpoint>,
    /// Holds data that an uninstall may destroy (databases, object storage, vaults, log and
    /// metric stores, registries): marked in every removal dialog, and never removed as an
    /// unneeded dependency unless named.
    pub holds_data: bool,
    /// Container images the newest version runs (`registry/repository:tag`), for air-gapped
    /// sites that mirror them (`openova airgap bundle` writes them to `images.txt`).
    pub images: Vec<String>,
}

impl ComponentSpec {
    /// The chart artifact of `version`: `<repository>/<chart>:<chart version>`, e.g.
    /// `oci://ghcr.io/openova-io/bp-cilium:1.1.1`.
    pub fn chart_artifact(&self, version: &VersionEntry) -> String {
        format!(
            "{}/{}:{}",
            self.chart.repository.trim_end_matches('/'),
            self.chart.name,
            version.chart_version
        )
    }

    /// The newest version the catalog offers.
    pub fn latest(&self) -> &VersionEntry {
        // Proven invariant: `Catalog::from_toml` rejects components without versions.
        &self.versions[self.versions.len() - 1]
    }

    /// The catalog entry for exactly `version`, if the catalog knows it.
    pub fn version(&self, version: &semver::Version) -> Option<&VersionEntry> {
        self.versions.iter().find(|v| &v.version == version)
    }
}

/// A bundle of components installed together, e.g. AI Hub (Cortex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaPlatform {
    pub name: String,
    pub title: String,
    /// Other names it is known by (`cortex` for `ai-hub`).
    pub aliases: Vec<String>,
    pub family: Family,
    pub description: String,
    /// Members installed with it.
    pub requires: Vec<String>,
    /// Members offered with a reason, off by default.
    pub optional: Vec<OptionalDep>,
}

/// Anything a name can refer to in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    Component(&'a ComponentSpec),
    Meta(&'a MetaPlatform),
}

impl<'a> Entry<'a> {
    pub fn name(&self) -> &'a str {
        match self {
            Entry::Component(c) => &c.name,
            Entry::Meta(m) => &m.name,
        }
    }
    pub fn title(&self) -> &'a str {
        match self {
            Entry::Component(c) => &c.title,
            Entry::Meta(m) => &m.title,
        }
    }
    pub fn category(&self) -> Category {
        match self {
            Entry::Component(c) => c.category,
            Entry::Meta(_) => Category::MetaPlatform,
        }
    }
    pub fn requires(&self) -> &'a [String] {
        match self {
            Entry::Component(c) => &c.requires,
            Entry::Meta(m) => &m.requires,
        }
    }
    pub fn optional(&self) -> &'a [OptionalDep] {
        match self {
            Entry::Component(c) => &c.optional,
            Entry::Meta(m) => &m.optional,
        }
    }
}

/// A validated catalog: every name resolves, the dependency graph is acyclic, every version parses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// Sorted by name.
    components: Vec<ComponentSpec>,
    /// Sorted by name.
    metas: Vec<MetaPlatform>,
    index: BTreeMap<String, usize>,
    meta_index: BTreeMap<String, usize>,
    dependents: BTreeMap<String, Vec<String>>,
}

/// Why a catalog text was rejected. Lines are 1-based lines of the catalog text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "line {line}: `{name}` is defined twice (first at line {first_line}); names must be unique across components, meta-platforms and aliases"
    )]
    DuplicateName {
        name: String,
        line: usize,
        first_line: usize,
    },
    #[error(
        "line {line}: `{name}` is not a valid name; use lower-case letters, digits and `-`, starting with a letter"
    )]
    BadName { name: String, line: usize },
    #[error("line {line}: `{from}` requires `{missing}`, which is not in the catalog")]
    MissingDependency {
        from: String,
        missing: String,
        line: usize,
    },
    #[error(
        "line {line}: `{from}` requires meta-platform `{meta}`; only components can be dependencies"
    )]
    DependsOnMeta {
        from: String,
        meta: String,
        line: usize,
    },
    #[error("line {line}: `{name}` lists `{dependency}` twice in {field}")]
    RepeatedDependency {
        name: String,
        dependency: String,
        field: &'static str,
        line: usize,
    },
    #[error("line {line}: `{name}` depends on itself")]
    SelfDependency { name: String, line: usize },
    #[error("line {line}: dependency cycle: {cycle}")]
    Cycle { cycle: String, line: usize },
    #[error(
        "line {line}: mandatory component `{component}` requires `{dependency}`, which is {category}; every dependency of a mandatory component must be mandatory"
    )]
    MandatoryNeedsOptional {
        component: String,
        dependency: String,
        category: Category,
        line: usize,
    },
    #[error(
        "line {line}: component `{name}` has category meta-platform; meta-platforms are declared as [[meta_platform]]"
    )]
    ComponentAsMeta { name: String, line: usize },
    #[error(
        "line {line}: `{value}` in {field} of `{component}` is not a semantic version: {reason}"
    )]
    BadVersion {
        component: String,
        field: &'static str,
        value: String,
        reason: String,
        line: usize,
    },
    #[error(
        "line {line}: component `{name}` has no versions; add at least one [[component.versions]]"
    )]
    NoVersions { name: String, line: usize },
    #[error("line {line}: component `{name}` lists version {version} twice")]
    DuplicateVersion {
        name: String,
        version: String,
        line: usize,
    },
    #[error(
        "line {line}: version {version} of `{name}` has an empty changelog; describe the change"
    )]
    EmptyChangelog {
        name: String,
        version: String,
        line: usize,
    },
    #[error(
        "line {line}: endpoint `{endpoint}` of `{component}` uses unknown placeholder `{{{placeholder}}}`; allowed: {{domain}}, {{location}}"
    )]
    BadPlaceholder {
        component: String,
        endpoint: String,
        placeholder: String,
        line: usize,
    },
    #[error("line {line}: meta-platform `{name}` has no required members")]
    EmptyMeta { name: String, line: usize },
    #[error("line {line}: `{name}` has an empty {field}")]
    EmptyField {
        name: String,
        field: &'static str,
        line: usize,
    },
}

impl CatalogError {
    /// The 1-based line the error points at.
    pub fn line(&self) -> usize {
        match self {
            CatalogError::Syntax { line, .. }
            | CatalogError::DuplicateName { line, .. }
            | CatalogError::BadName { line, .. }
            | CatalogError::MissingDependency { line, .. }
            | CatalogError::DependsOnMeta { line, .. }
            | CatalogError::RepeatedDependency { line, .. }
            | CatalogError::SelfDependency { line, .. }
            | CatalogError::Cycle { line, .. }
            | CatalogError::MandatoryNeedsOptional { line, .. }
            | CatalogError::ComponentAsMeta { line, .. }
            | CatalogError::BadVersion { line, .. }
            | CatalogError::NoVersions { line, .. }
            | CatalogError::DuplicateVersion { line, .. }
            | CatalogError::EmptyChangelog { line, .. }
            | CatalogError::BadPlaceholder { line, .. }
            | CatalogError::EmptyMeta { line, .. }
            | CatalogError::EmptyField { line, .. } => *line,
        }
    }
}

// ---- raw file shape -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default)]
    chart_repository: Option<String>,
    #[serde(default)]
    component: Vec<RawComponent>,
    #[serde(default)]
    meta_platform: Vec<RawMeta>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    name: Spanned<String>,
    title: String,
    category: Spanned<Category>,
    family: Family,
    description: String,
    namespace: String,
    #[serde(default)]
    chart: Option<String>,
    #[serde(default)]
    chart_repository: Option<String>,
    #[serde(default)]
    requires: Vec<Spanned<String>>,
    #[serde(default)]
    optional: Vec<RawOptional>,
    #[serde(default)]
    endpoints: Vec<RawEndpoint>,
    #[serde(default)]
    holds_data: bool,
    images: Vec<String>,
    #[serde(default)]
    versions: Vec<RawVersion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOptional {
    name: Spanned<String>,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    name: String,
    url: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVersion {
    version: Spanned<String>,
    chart: Spanned<String>,
    #[serde(default)]
    upstream: Option<String>,
    #[serde(default)]
    changes: Vec<String>,
    #[serde(default)]
    major: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    name: Spanned<String>,
    title: String,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    family: Family,
    description: String,
    requires: Vec<Spanned<String>>,
    #[serde(default)]
    optional: Vec<RawOptional>,
}

/// Maps byte offsets to 1-based lines.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }
    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
    fn column(&self, offset: usize) -> usize {
        let line = self.line(offset);
        offset - self.starts[line - 1] + 1
    }
}

/// Tolerant semver parse: accepts a leading `v` as operators and upstream tags write it.
pub fn parse_version(text: &str) -> Result<semver::Version, semver::Error> {
    let trimmed = text.trim();
    let bare = trimmed
        .strip_prefix('v')
        .or_else(|| trimmed.strip_prefix('V'))
        .unwrap_or(trimmed);
    semver::Version::parse(bare)
}

/// Formats a version the way operators see it, with a leading `v`.
pub fn display_version(version: &semver::Version) -> String {
    format!("v{version}")
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 63
        && !name.ends_with('-')
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
}

// ---- validation, in the order problems are reported --------------------------------------------

/// The TOML text as the raw file shape; a syntax error names its line and column.
fn parse_raw(text: &str, lines: &Lines) -> Result<RawCatalog, CatalogError> {
    toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        CatalogError::Syntax {
            line: lines.line(offset),
            column: lines.column(offset),
            message: e.message().trim().to_string(),
        }
    })
}

/// Names are valid and unique across components, meta-platforms and aliases.
fn claim_names(raw: &RawCatalog, lines: &Lines) -> Result<(), CatalogError> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let names = raw.component.iter().map(|c| &c.name).chain(
        raw.meta_platform
            .iter()
            .flat_map(|m| std::iter::once(&m.name).chain(&m.aliases)),
    );
    for name in names {
        let line = lines.line(name.span().start);
        if !valid_name(name.get_ref()) {
            return Err(CatalogError::BadName {
                name: name.get_ref().clone(),
                line,
            });
        }
        if let Some(first_line) = seen.insert(name.get_ref(), line) {
            return Err(CatalogError::DuplicateName {
                name: name.get_ref().clone(),
                line,
                first_line,
            });
        }
    }
    Ok(())
}

/// The line of each `requires` entry, by (component, dependency), for the graph-wide checks.
type RequiresLines = BTreeMap<(String, String), usize>;

/// What entries may refer to: the component and meta-platform names of the file.
struct Refs<'a> {
    lines: &'a Lines,
    components: BTreeSet<&'a str>,
    metas: BTreeSet<&'a str>,
}

impl<'a> Refs<'a> {
    fn new(raw: &'a RawCatalog, lines: &'a Lines) -> Self {
        Refs {
            lines,
            components: raw
                .component
                .iter()
                .map(|c| c.name.get_ref().as_str())
                .collect(),
            metas: raw
                .meta_platform
                .iter()
                .map(|m| m.name.get_ref().as_str())
                .collect(),
        }
    }

    fn line_of(&self, s: &std::ops::Range<usize>) -> usize {
        self.lines.line(s.start)
    }

    /// `dep`, named by `from`, is another component (not itself, not a meta-platform).
    fn check_ref(&self, from: &str, dep: &Spanned<String>) -> Result<(), CatalogError> {
        let line = self.line_of(&dep.span());
        let dep_name = dep.get_ref();
        if dep_name == from {
            return Err(CatalogError::SelfDependency {
                name: from.to_string(),
                line,
            });
        }
        if self.metas.contains(dep_name.as_str()) {
            return Err(CatalogError::DependsOnMeta {
                from: from.to_string(),
                meta: dep_name.clone(),
                line,
            });
        }
        if !self.components.contains(dep_name.as_str()) {
            return Err(CatalogError::MissingDependency {
                from: from.to_string(),
                missing: dep_name.clone(),
                line,
            });
        }
        Ok(())
    }

    /// A list of references (`requires` or `optional`), each valid and listed once.
    fn check_list<'n>(
        &self,
        from: &str,
        field: &'static str,
        names: impl Iterator<Item = &'n Spanned<String>>,
    ) -> Result<Vec<String>, CatalogError> {
        let mut out: Vec<String> = Vec::new();
        for dep in names {
            self.check_ref(from, dep)?;
            if out.contains(dep.get_ref()) {
                return Err(CatalogError::RepeatedDependency {
                    name: from.to_string(),
                    dependency: dep.get_ref().clone(),
                    field,
                    line: self.line_of(&dep.span()),
                });
            }
            out.push(dep.get_ref().clone());
        }
        Ok(out)
    }

    /// One component entry, checked: category, required texts, references, endpoints, versions.
    fn component(
        &self,
        c: &RawComponent,
        default_repo: &str,
        requires_lines: &mut RequiresLines,
    ) -> Result<ComponentSpec, CatalogError> {
        let name = c.name.get_ref().clone();
        let line = self.line_of(&c.name.span());
        if *c.category.get_ref() == Category::MetaPlatform {
            return Err(CatalogError::ComponentAsMeta {
                name,
                line: self.line_of(&c.category.span()),
            });
        }
        for (field, value) in [
            ("title", &c.title),
            ("description", &c.description),
            ("namespace", &c.namespace),
        ] {
            if value.trim().is_empty() {
                return Err(CatalogError::EmptyField { name, field, line });
            }
        }
        let requires = self.check_list(&name, "requires", c.requires.iter())?;
        for dep in &c.requires {
            requires_lines.insert(
                (name.clone(), dep.get_ref().clone()),
                self.line_of(&dep.span()),
            );
        }
        let optional = self.optional(&name, &c.optional)?;
        let endpoints = self.endpoints(&name, &c.endpoints)?;
        if c.versions.is_empty() {
            return Err(CatalogError::NoVersions { name, line });
        }
        let versions = self.versions(&name, &c.versions)?;
        Ok(ComponentSpec {
            chart: ChartRef {
                name: c.chart.clone().unwrap_or_else(|| format!("bp-{name}")),
                repository: c
                    .chart_repository
                    .clone()
                    .unwrap_or_else(|| default_repo.to_string()),
            },
            title: c.title.clone(),
            category: *c.category.get_ref(),
            family: c.family,
            description: c.description.clone(),
            namespace: c.namespace.clone(),
            versions,
            requires,
            optional,
            endpoints,
            holds_data: c.holds_data,
            images: c.images.clone(),
            name,
        })
    }

    fn optional(&self, from: &str, raw: &[RawOptional]) -> Result<Vec<OptionalDep>, CatalogError> {
        self.check_list(from, "optional", raw.iter().map(|o| &o.name))?;
        Ok(raw
            .iter()
            .map(|o| OptionalDep {
                name: o.name.get_ref().clone(),
                reason: o.reason.clone(),
            })
            .collect())
    }

    /// Endpoint URL templates use only the known placeholders.
    fn endpoints(
        &self,
        component: &str,
        raw: &[RawEndpoint],
    ) -> Result<Vec<Endpoint>, CatalogError> {
        raw.iter()
            .map(|e| {
                check_placeholders(e.url.get_ref()).map_err(|placeholder| {
                    CatalogError::BadPlaceholder {
                        component: component.to_string(),
                        endpoint: e.name.clone(),
                        placeholder,
                        line: self.line_of(&e.url.span()),
                    }
                })?;
                Ok(Endpoint {
                    name: e.name.clone(),
                    url: e.url.get_ref().clone(),
                })
            })
            .collect()
    }

    /// Versions: valid semver (version and chart), each once, each with a changelog; oldest first.
    fn versions(&self, name: &str, raw: &[RawVersion]) -> Result<Vec<VersionEntry>, CatalogError> {
        let mut versions: Vec<VersionEntry> = Vec::with_capacity(raw.len());
        for v in raw {
            let parse = |field: &'static str, s: &Spanned<String>| {
                parse_version(s.get_ref()).map_err(|e| CatalogError::BadVersion {
                    component: name.to_string(),
                    field,
                    value: s.get_ref().clone(),
                    reason: e.to_string(),
                    line: self.line_of(&s.span()),
                })
            };
            let version = parse("version", &v.version)?;
            let chart_version = parse("chart", &v.chart)?;
            if versions.iter().any(|e| e.version == version) {
                return Err(CatalogError::DuplicateVersion {
                    name: name.to_string(),
                    version: version.to_string(),
                    line: self.line_of(&v.version.span()),
                });
            }
            if v.changes.iter().all(|c| c.trim().is_empty()) {
                return Err(CatalogError::EmptyChangelog {
                    name: name.to_string(),
                    version: version.to_string(),
                    line: self.line_of(&v.version.span()),
                });
            }
            versions.push(VersionEntry {
                version,
                chart_version,
                upstream: v.upstream.clone(),
                changes: v.changes.clone(),
                major: v.major,
            });
        }
        versions.sort_by(|a, b| a.version.cmp(&b.version));
        Ok(versions)
    }

    /// One meta-platform entry: at least one member, references checked.
    fn meta(&self, m: &RawMeta) -> Result<MetaPlatform, CatalogError> {
        let name = m.name.get_ref().clone();
        if m.requires.is_empty() {
            return Err(CatalogError::EmptyMeta {
                name,
                line: self.line_of(&m.name.span()),
            });
        }
        let requires = self.check_list(&name, "requires", m.requires.iter())?;
        let optional = self.optional(&name, &m.optional)?;
        Ok(MetaPlatform {
            aliases: m.aliases.iter().map(|a| a.get_ref().clone()).collect(),
            title: m.title.clone(),
            family: m.family,
            description: m.description.clone(),
            requires,
            optional,
            name,
        })
    }
}

/// No component requires itself through others; the error points at the cycle's first edge.
fn check_cycles(
    components: &[ComponentSpec],
    requires_lines: &RequiresLines,
) -> Result<(), CatalogError> {
    let graph: BTreeMap<&str, Vec<&str>> = components
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.requires.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    match crate::domain::resolve::find_cycle(&graph) {
        Some(cycle) => Err(CatalogError::Cycle {
            line: requires_lines
                .get(&(cycle[0].clone(), cycle[1].clone()))
                .copied()
                .unwrap_or(0),
            cycle: cycle.join(" -> "),
        }),
        None => Ok(()),
    }
}

/// A mandatory component requires only mandatory ones (every platform installs it).
fn check_mandatory_needs_mandatory(
    components: &[ComponentSpec],
    requires_lines: &RequiresLines,
) -> Result<(), CatalogError> {
    let by_name: BTreeMap<&str, &ComponentSpec> =
        components.iter().map(|c| (c.name.as_str(), c)).collect();
    for c in components
        .iter()
        .filter(|c| c.category == Category::Mandatory)
    {
        for dep in &c.requires {
            let Some(dep_spec) = by_name.get(dep.as_str()) else {
                continue;
            };
            if dep_spec.category != Category::Mandatory {
                return Err(CatalogError::MandatoryNeedsOptional {
                    component: c.name.clone(),
                    dependency: dep.clone(),
                    category: dep_spec.category,
                    line: requires_lines
                        .get(&(c.name.clone(), dep.clone()))
                        .copied()
                        .unwrap_or(0),
                });
            }
        }
    }
    Ok(())
}

impl Catalog {
    /// Parses and validates catalog TOML. The first problem found is returned, with its line.
    pub fn from_toml(text: &str) -> Result<Catalog, CatalogError> {
        let lines = Lines::new(text);
        let raw = parse_raw(text, &lines)?;
        claim_names(&raw, &lines)?;
        let refs = Refs::new(&raw, &lines);
        let default_repo = raw
            .chart_repository
            .as_deref()
            .unwrap_or(DEFAULT_CHART_REPOSITORY);
        let mut requires_lines = RequiresLines::new();
        let mut components = raw
            .component
            .iter()
            .map(|c| refs.component(c, default_repo, &mut requires_lines))
            .collect::<Result<Vec<_>, _>>()?;
        let mut metas = raw
            .meta_platform
            .iter()
            .map(|m| refs.meta(m))
            .collect::<Result<Vec<_>, _>>()?;
        components.sort_by(|a, b| a.name.cmp(&b.name));
        metas.sort_by(|a, b| a.name.cmp(&b.name));
        // Cycles are reported before the mandatory rule: a cycle makes that rule's message confusing.
        check_cycles(&components, &requires_lines)?;
        check_mandatory_needs_mandatory(&components, &requires_lines)?;
        Ok(Catalog::assemble(components, metas))
    }

    /// The catalog over validated, name-sorted components and meta-platforms, with its indexes.
    fn assemble(components: Vec<ComponentSpec>, metas: Vec<MetaPlatform>) -> Catalog {
        let index: BTreeMap<String, usize> = components
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        let mut dependents: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for c in &components {
            for dep in &c.requires {
                dependents
                    .entry(dep.clone())
                    .or_default()
                    .push(c.name.clone());
            }
        }
        for list in dependents.values_mut() {
            list.sort();
        }
        let meta_index = metas
            .iter()
            .enumerate()
            .flat_map(|(i, m)| {
                std::iter::once((m.name.clone(), i))
                    .chain(m.aliases.iter().map(move |a| (a.clone(), i)))
            })
            .collect();
        Catalog {
            components,
            metas,
            index,
            meta_index,
            dependents,
        }
    }

    /// All components, sorted by name.
    pub fn components(&self) -> &[ComponentSpec] {
        &self.components
    }

    /// All meta-platforms, sorted by name.
    pub fn meta_platforms(&self) -> &[MetaPlatform] {
        &self.metas
    }

    /// The component called `name`.
    pub fn get(&self, name: &str) -> Option<&ComponentSpec> {
        self.index.get(name).map(|&i| &self.components[i])
    }

    /// The meta-platform called `name` (or one of its aliases).
    pub fn meta(&self, name: &str) -> Option<&MetaPlatform> {
        self.meta_index.get(name).map(|&i| &self.metas[i])
    }

    /// A component or meta-platform by name or alias.
    pub fn entry(&self, name: &str) -> Option<Entry<'_>> {
        self.get(name)
            .map(Entry::Component)
            .or_else(|| self.meta(name).map(Entry::Meta))
    }

    /// Components per category, each list sorted by name. Meta-platforms are in `meta_platforms()`.
    pub fn by_category(&self) -> BTreeMap<Category, Vec<&ComponentSpec>> {
        let mut out: BTreeMap<Category, Vec<&ComponentSpec>> = BTreeMap::new();
        for c in &self.components {
            out.entry(c.category).or_default().push(c);
        }
        out
    }

    /// Components of one family, sorted by name.
    pub fn by_family(&self, family: Family) -> Vec<&ComponentSpec> {
        self.components
            .iter()
            .filter(|c| c.family == family)
            .collect()
    }

    /// Components installed on every platform.
    pub fn mandatory(&self) -> Vec<&ComponentSpec> {
        self.components
            .iter()
            .filter(|c| c.category == Category::Mandatory)
            .collect()
    }

    /// Components that directly require `name`, sorted.
    pub fn dependents_of(&self, name: &str) -> &[String] {
        self.dependents.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Meta-platforms listing `name` as a required or optional member.
    pub fn metas_containing(&self, name: &str) -> Vec<&MetaPlatform> {
        self.metas
            .iter()
            .filter(|m| {
                m.requires.iter().any(|r| r == name) || m.optional.iter().any(|o| o.name == name)
            })
            .collect()
    }

    /// Every name and alias, for "did you mean" suggestions and completion.
    pub fn names(&self) -> Vec<&str> {
        self.components
            .iter()
            .map(|c| c.name.as_str())
            .chain(self.meta_index.keys().map(String::as_str))
            .collect()
    }

    /// The known names closest to `unknown` (edit distance ≤ 3 or a shared prefix), best first.
    pub fn suggest(&self, unknown: &str) -> Vec<&str> {
        let needle = unknown.to_ascii_lowercase();
        let mut scored: Vec<(usize, &str)> = self
            .names()
            .into_iter()
            .filter_map(|n| {
                let d = edit_distance(&needle, n);
                let prefix = needle.len() >= 3 && (n.starts_with(&needle) || needle.starts_with(n));
                (d <= 3.min(n.len().max(needle.len()) / 2 + 1) || prefix).then_some((d, n))
            })
            .collect();
        scored.sort();
        scored.into_iter().take(3).map(|(_, n)| n).collect()
    }
}

/// The first placeholder in `url` that is not allowed (an unclosed `{` yields the rest of the text).
fn check_placeholders(url: &str) -> Result<(), String> {
    let mut rest = url;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(after.to_string());
        };
        let placeholder = &after[..close];
        if !ENDPOINT_PLACEHOLDERS.contains(&placeholder) {
            return Err(placeholder.to_string());
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comp(name: &str, category: &str, requires: &[&str]) -> String {
        let requires: Vec<String> = requires.iter().map(|r| format!("\"{r}\"")).collect();
        format!(
            "[[component]]\nname = \"{name}\"\ntitle = \"{name}\"\ncategory = \"{category}\"\nfamily = \"spine\"\n\
             namespace = \"{name}\"\ndescription = \"the {name} component\"\nrequires = [{}]\n\n\
             [[component.versions]]\nversion = \"1.0.0\"\nchart = \"1.0.0\"\nchanges = [\"first\"]\n\n",
            requires.join(", ")
        )
    }

    fn err(text: &str) -> CatalogError {
        match Catalog::from_toml(text) {
            Ok(_) => panic!("catalog unexpectedly valid:\n{text}"),
            Err(e) => e,
        }
    }

    #[test]
    fn from_toml_minimal_catalog_fills_chart_defaults() {
        let text = comp("a", "mandatory", &[]) + &comp("b", "a-la-carte", &["a"]);
        let catalog = Catalog::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
        let b = catalog.get("b").unwrap_or_else(|| panic!("b missing"));
        assert_eq!(b.chart.name, "bp-b");
        assert_eq!(b.chart.repository, DEFAULT_CHART_REPOSITORY);
        assert_eq!(catalog.dependents_of("a"), ["b"]);
        assert_eq!(catalog.mandatory().len(), 1);
        assert_eq!(catalog.by_category()[&Category::ALaCarte][0].name, "b");
    }

    #[test]
    fn from_toml_missing_dependency_names_both_ends_and_line() {
        let text = comp("a", "a-la-carte", &["ghost"]);
        let e = err(&text);
        assert_eq!(
            e.to_string(),
            "line 8: `a` requires `ghost`, which is not in the catalog"
        );
    }

    #[test]
    fn from_toml_cycle_is_named_in_order() {
        let text = comp("a", "a-la-carte", &["b"])
            + &comp("b", "a-la-carte", &["c"])
            + &comp("c", "a-la-carte", &["a"]);
        let e = err(&text);
        assert!(
            matches!(&e, CatalogError::Cycle { cycle, .. } if cycle == "a -> b -> c -> a"),
            "{e}"
        );
        assert_eq!(e.line(), 8, "points at a's requires line");
    }

    #[test]
    fn from_toml_self_dependency_is_rejected() {
        let e = err(&comp("a", "a-la-carte", &["a"]));
        assert_eq!(e.to_string(), "line 8: `a` depends on itself");
    }

    #[test]
    fn from_toml_duplicate_name_points_at_both_definitions() {
        let text = comp("a", "a-la-carte", &[]) + &comp("a", "a-la-carte", &[]);
        let e = err(&text);
        assert_eq!(
            e,
            CatalogError::DuplicateName {
                name: "a".into(),
                line: 16,
                first_line: 2
            }
        );
    }

    #[test]
    fn from_toml_bad_semver_names_value_and_line() {
        let text = comp("a", "a-la-carte", &[]).replace("version = \"1.0.0\"", "version = \"1.0\"");
        let e = err(&text);
        let msg = e.to_string();
        assert!(
            msg.starts_with("line 11: `1.0` in version of `a` is not a semantic version"),
            "{msg}"
        );
    }

    #[test]
    fn from_toml_mandatory_requiring_optional_breaks_the_rule() {
        let text = comp("base", "a-la-carte", &[]) + &comp("core", "mandatory", &["base"]);
        let msg = err(&text).to_string();
        assert!(
            msg.contains("mandatory component `core` requires `base`, which is a-la-carte"),
            "{msg}"
        );
        assert!(
            msg.contains("every dependency of a mandatory component must be mandatory"),
            "{msg}"
        );
    }

    #[test]
    fn from_toml_unknown_field_is_a_syntax_error_with_line() {
        let text = comp("a", "a-la-carte", &[])
            .replace("family = \"spine\"", "family = \"spine\"\ncolour = \"red\"");
        let e = err(&text);
        assert!(matches!(e, CatalogError::Syntax { line: 6, .. }), "{e}");
        assert!(e.to_string().contains("colour"), "{e}");
    }

    #[test]
    fn from_toml_unknown_category_is_rejected_with_line() {
        let e = err(&comp("a", "optional", &[]));
        assert!(matches!(e, CatalogError::Syntax { line: 4, .. }), "{e}");
    }

    #[test]
    fn from_toml_meta_with_unknown_member_is_rejected() {
        let text = comp("a", "a-la-carte", &[])
            + "[[meta_platform]]\nname = \"hub\"\ntitle = \"Hub\"\nfamily = \"cortex\"\ndescription = \"d\"\nrequires = [\"a\", \"nope\"]\n";
        assert_eq!(
            err(&text).to_string(),
            "line 20: `hub` requires `nope`, which is not in the catalog"
        );
    }

    #[test]
    fn from_toml_component_requiring_a_meta_is_rejected() {
        let text = comp("a", "a-la-carte", &[])
            + &comp("b", "a-la-carte", &["hub"])
            + "[[meta_platform]]\nname = \"hub\"\ntitle = \"Hub\"\nfamily = \"cortex\"\ndescription = \"d\"\nrequires = [\"a\"]\n";
        assert!(matches!(err(&text), CatalogError::DependsOnMeta { .. }));
    }

    #[test]
    fn from_toml_unknown_endpoint_placeholder_is_rejected() {
        let text = comp("a", "a-la-carte", &[]).replace(
            "requires = []",
            "requires = []\nendpoints = [{ name = \"web\", url = \"https://a.{cluster}\" }]",
        );
        let msg = err(&text).to_string();
        assert!(msg.contains("unknown placeholder `{cluster}`"), "{msg}");
    }

    #[test]
    fn from_toml_versions_are_sorted_and_latest_is_newest() {
        let text = comp("a", "a-la-carte", &[]).replace(
            "changes = [\"first\"]",
            "changes = [\"first\"]\n\n[[component.versions]]\nversion = \"v0.9.1\"\nchart = \"0.9.0\"\nchanges = [\"older\"]",
        );
        let catalog = Catalog::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
        let a = catalog.get("a").unwrap_or_else(|| panic!("a"));
        assert_eq!(a.versions[0].version.to_string(), "0.9.1");
        assert_eq!(a.latest().version.to_string(), "1.0.0");
    }

    #[test]
    fn from_toml_empty_changelog_is_rejected() {
        let text = comp("a", "a-la-carte", &[]).replace("changes = [\"first\"]", "changes = []");
        assert!(matches!(err(&text), CatalogError::EmptyChangelog { .. }));
    }

    #[test]
    fn from_toml_bad_name_is_rejected() {
        let e = err(&comp("Bad_Name", "a-la-carte", &[]));
        assert!(matches!(e, CatalogError::BadName { line: 2, .. }), "{e}");
    }

    #[test]
    fn suggest_typo_finds_the_close_name() {
        let text = comp("grafana", "a-la-carte", &[]) + &comp("gitea", "a-la-carte", &[]);
        let catalog = Catalog::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(catalog.suggest("grafna").first(), Some(&"grafana"));
        assert!(catalog.suggest("zzzzzzzz").is_empty());
    }

    #[test]
    fn lookups_find_components_metas_aliases_and_families() {
        let text = comp("kserve", "a-la-carte", &[])
            + &comp("neo4j", "a-la-carte", &[])
            + "[[meta_platform]]\nname = \"ai-hub\"\ntitle = \"AI Hub\"\naliases = [\"cortex\"]\nfamily = \"cortex\"\n\
               description = \"d\"\nrequires = [\"kserve\"]\noptional = [{ name = \"neo4j\", reason = \"knowledge graph\" }]\n";
        let catalog = Catalog::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(catalog.entry("kserve"), Some(Entry::Component(_))));
        assert!(matches!(catalog.entry("cortex"), Some(Entry::Meta(m)) if m.name == "ai-hub"));
        assert_eq!(
            catalog.entry("cortex").map(|e| e.category()),
            Some(Category::MetaPlatform)
        );
        assert!(catalog.entry("nope").is_none());
        let metas: Vec<&str> = catalog
            .metas_containing("neo4j")
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(metas, ["ai-hub"]);
        assert_eq!(catalog.by_family(Family::Spine).len(), 2);
        assert!(catalog.by_family(Family::Relay).is_empty());
        assert!(catalog.names().contains(&"cortex"));
    }

    #[test]
    fn category_from_str_names_the_allowed_values() {
        assert_eq!("a-la-carte".parse::<Category>(), Ok(Category::ALaCarte));
        let e = "optional".parse::<Category>().err().unwrap_or_default();
        assert!(e.contains("mandatory, a-la-carte or meta-platform"), "{e}");
    }

    #[test]
    fn endpoint_render_fills_domain_and_location() {
        let e = Endpoint {
            name: "registry".into(),
            url: "https://harbor.{location}.{domain}".into(),
        };
        assert_eq!(e.render("acme.io", "fsn"), "https://harbor.fsn.acme.io");
    }

    #[test]
    fn parse_version_accepts_leading_v() {
        assert_eq!(
            parse_version("v1.16.3").ok(),
            semver::Version::parse("1.16.3").ok()
        );
        assert!(parse_version("1.16").is_err());
        assert_eq!(display_version(&semver::Version::new(11, 4, 0)), "v11.4.0");
    }
}
