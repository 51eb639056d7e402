//! `openova catalog`: list, show and graph the component catalog (embedded, or a catalog file such
//! as the one an air-gapped site keeps in a ConfigMap).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use color_eyre::eyre::{WrapErr, eyre};

use crate::cmd::CmdResult;
use crate::domain::catalog::{Catalog, Category, Entry, display_version};
use crate::domain::resolve::DepGraph;

/// Where the catalog comes from, shared by every `catalog` subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct CatalogSource {
    /// Use this catalog file (TOML, the embedded format) instead of the embedded catalog.
    #[arg(long, value_name = "FILE", env = "OPENOVA_CATALOG")]
    pub catalog: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum CatalogCmd {
    /// List components (and meta-platforms) with category, newest version and description.
    List {
        /// Only this category.
        #[arg(long, value_enum)]
        category: Option<CategoryArg>,
        #[command(flatten)]
        source: CatalogSource,
    },
    /// Show one component or meta-platform: dependencies, dependents, versions, changelog, endpoints.
    Show {
        /// Component or meta-platform name (or alias, e.g. `cortex`).
        name: String,
        #[command(flatten)]
        source: CatalogSource,
    },
    /// Print the install closure as a tree (everything, or what NAME pulls in), or as Graphviz dot.
    Graph {
        /// Component or meta-platform whose install closure to draw; all components if omitted.
        name: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Tree)]
        format: GraphFormat,
        #[command(flatten)]
        source: CatalogSource,
    },
    /// Check a catalog file and report the first problem with its line.
    Validate {
        /// The catalog TOML file to check.
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CategoryArg {
    Mandatory,
    ALaCarte,
    MetaPlatform,
}

impl From<CategoryArg> for Category {
    fn from(arg: CategoryArg) -> Self {
        match arg {
            CategoryArg::Mandatory => Category::Mandatory,
            CategoryArg::ALaCarte => Category::ALaCarte,
            CategoryArg::MetaPlatform => Category::MetaPlatform,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Indented tree for the terminal.
    Tree,
    /// Graphviz `dot` source.
    Dot,
}

enum Loaded {
    Embedded(&'static Catalog),
    File(Box<Catalog>),
}

impl std::ops::Deref for Loaded {
    type Target = Catalog;
    fn deref(&self) -> &Catalog {
        match self {
            Loaded::Embedded(c) => c,
            Loaded::File(c) => c,
        }
    }
}

fn load(source: &CatalogSource) -> color_eyre::Result<Loaded> {
    match &source.catalog {
        None => Ok(Loaded::Embedded(crate::catalog::embedded())),
        Some(path) => Ok(Loaded::File(Box::new(
            crate::catalog::load_file(path).map_err(|e| eyre!("{e}"))?,
        ))),
    }
}

pub fn run(cmd: CatalogCmd) -> CmdResult {
    let mut out = String::new();
    match cmd {
        CatalogCmd::List { category, source } => {
            let catalog = load(&source)?;
            render_list(&catalog, category.map(Category::from), &mut out);
        }
        CatalogCmd::Show { name, source } => {
            let catalog = load(&source)?;
            let entry = lookup(&catalog, &name)?;
            render_show(&catalog, entry, &mut out);
        }
        CatalogCmd::Graph {
            name,
            format,
            source,
        } => {
            let catalog = load(&source)?;
            let root = name.as_deref().map(|n| lookup(&catalog, n)).transpose()?;
            match format {
                GraphFormat::Tree => render_tree(&catalog, root, &mut out),
                GraphFormat::Dot => render_dot(&catalog, root, &mut out),
            }
        }
        CatalogCmd::Validate { file } => {
            let catalog = crate::catalog::load_file(&file).map_err(|e| eyre!("{e}"))?;
            let _ = writeln!(
                out,
                "{}: valid catalog ({} components, {} meta-platforms)",
                file.display(),
                catalog.components().len(),
                catalog.meta_platforms().len()
            );
        }
    }
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`openova catalog list | head`) is not an error worth reporting.
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).wrap_err("cannot write to standard output")
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn lookup<'c>(catalog: &'c Catalog, name: &str) -> color_eyre::Result<Entry<'c>> {
    catalog.entry(name).ok_or_else(|| {
        let suggestions = catalog.suggest(name);
        let hint = match suggestions.as_slice() {
            [] => "; run `openova catalog list` to see every name".to_string(),
            some => crate::domain::resolve::did_you_mean(some),
        };
        eyre!("no component or meta-platform named `{name}` in the catalog{hint}")
    })
}

fn render_list(catalog: &Catalog, only: Option<Category>, out: &mut String) {
    let mut rows: Vec<[String; 4]> = Vec::new();
    for category in Category::ALL {
        if only.is_some_and(|c| c != category) {
            continue;
        }
        if category == Category::MetaPlatform {
            for m in catalog.meta_platforms() {
                rows.push([
                    m.name.clone(),
                    category.to_string(),
                    "-".to_string(),
                    m.title.clone(),
                ]);
            }
        } else if let Some(components) = catalog.by_category().get(&category) {
            for c in components {
                rows.push([
                    c.name.clone(),
                    category.to_string(),
                    display_version(&c.latest().version),
                    c.description.clone(),
                ]);
            }
        }
    }
    let widths: Vec<usize> = (0..3)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([["NAME", "CATEGORY", "VERSION"][i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut line = |cols: [&str; 4]| {
        let _ = writeln!(
            out,
            "{:w0$}  {:w1$}  {:w2$}  {}",
            cols[0],
            cols[1],
            cols[2],
            cols[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    };
    line(["NAME", "CATEGORY", "VERSION", "DESCRIPTION"]);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3]]);
    }
}

fn render_show(catalog: &Catalog, entry: Entry<'_>, out: &mut String) {
    let list = |names: &[String]| {
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    match entry {
        Entry::Component(c) => {
            let _ = writeln!(out, "{} ({})", c.title, c.name);
            let _ = writeln!(out, "  {}", c.description);
            let _ = writeln!(out);
            let _ = writeln!(out, "Category:     {}", c.category);
            let _ = writeln!(
                out,
                "Family:       {} ({})",
                c.family.as_str(),
                c.family.title()
            );
            let _ = writeln!(out, "Namespace:    {}", c.namespace);
            let _ = writeln!(
                out,
                "Chart:        {}/{}:{}",
                c.chart.repository,
                c.chart.name,
                c.latest().chart_version
            );
            let _ = writeln!(out, "Requires:     {}", list(&c.requires));
            let _ = writeln!(
                out,
                "Required by:  {}",
                list(catalog.dependents_of(&c.name))
            );
            let closure = install_closure(catalog, &c.name);
            let _ = writeln!(
                out,
                "Installs:     {} (with everything it requires, in order)",
                closure.join(" -> ")
            );
            if c.optional.is_empty() {
                let _ = writeln!(out, "Optional:     none");
            } else {
                let _ = writeln!(out, "Optional:");
                for o in &c.optional {
                    let _ = writeln!(out, "  {:<20} ({})", o.name, o.reason);
                }
            }
            let metas: Vec<String> = catalog
                .metas_containing(&c.name)
                .iter()
                .map(|m| m.name.clone())
                .collect();
            if !metas.is_empty() {
                let _ = writeln!(out, "Part of:      {}", metas.join(", "));
            }
            if c.endpoints.is_empty() {
                let _ = writeln!(out, "Endpoints:    none");
            } else {
                let _ = writeln!(out, "Endpoints:");
                for e in &c.endpoints {
                    let _ = writeln!(out, "  {:<12} {}", e.name, e.url);
                }
            }
            let _ = writeln!(out);
            let _ = writeln!(out, "Versions (newest first):");
            for v in c.versions.iter().rev() {
                let upstream = v
                    .upstream
                    .as_deref()
                    .map(|u| format!(", upstream {u}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {}  (chart {}{upstream})",
                    display_version(&v.version),
                    v.chart_version
                );
                for change in &v.changes {
                    let _ = writeln!(out, "    - {change}");
                }
            }
        }
        Entry::Meta(m) => {
            let _ = writeln!(out, "{} ({})", m.title, m.name);
            let _ = writeln!(out, "  {}", m.description);
            let _ = writeln!(out);
            let _ = writeln!(out, "Category:     meta-platform");
            if !m.aliases.is_empty() {
                let _ = writeln!(out, "Also known as: {}", m.aliases.join(", "));
            }
            let _ = writeln!(
                out,
                "Family:       {} ({})",
                m.family.as_str(),
                m.family.title()
            );
            let _ = writeln!(out, "Requires:     {}", list(&m.requires));
            if !m.optional.is_empty() {
                let _ = writeln!(out, "Optional:");
                for o in &m.optional {
                    let _ = writeln!(out, "  {:<20} ({})", o.name, o.reason);
                }
            }
            let closure = install_closure(catalog, &m.name);
            let _ = writeln!(
                out,
                "Installs:     {} (with everything it requires, in order)",
                closure.join(" -> ")
            );
        }
    }
}

/// Everything `name` pulls in, in install order (the name itself last for a component).
fn install_closure(catalog: &Catalog, name: &str) -> Vec<String> {
    crate::domain::resolve::install_plan(catalog, &BTreeSet::new(), &[name], &[])
        .map(|plan| plan.order)
        .unwrap_or_default()
}

fn render_tree(catalog: &Catalog, root: Option<Entry<'_>>, out: &mut String) {
    // Each node's subtree is drawn once; later occurrences point back with "(see above)".
    let mut expanded: BTreeSet<String> = BTreeSet::new();
    match root {
        Some(entry) => {
            let _ = writeln!(out, "{}", label(catalog, entry.name()));
            draw_children(catalog, entry, "", &mut expanded, out);
        }
        None => {
            // Tops: components nothing else requires (every component is reachable from one), then
            // the meta-platforms.
            let tops: Vec<&str> = catalog
                .components()
                .iter()
                .filter(|c| catalog.dependents_of(&c.name).is_empty())
                .map(|c| c.name.as_str())
                .collect();
            let metas = catalog.meta_platforms().iter().map(|m| m.name.as_str());
            for top in tops.into_iter().chain(metas) {
                if let Some(entry) = catalog.entry(top) {
                    let _ = writeln!(out, "{}", label(catalog, top));
                    expanded.insert(top.to_string());
                    draw_children(catalog, entry, "", &mut expanded, out);
                }
            }
        }
    }
}

fn label(catalog: &Catalog, name: &str) -> String {
    match catalog.entry(name) {
        Some(Entry::Component(c)) => format!(
            "{} {} [{}]",
            c.name,
            display_version(&c.latest().version),
            c.category
        ),
        Some(Entry::Meta(m)) => format!("{} [meta-platform: {}]", m.name, m.title),
        None => name.to_string(),
    }
}

fn draw_children(
    catalog: &Catalog,
    entry: Entry<'_>,
    prefix: &str,
    expanded: &mut BTreeSet<String>,
    out: &mut String,
) {
    let children = entry.requires();
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        let (branch, indent) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        let has_children = !catalog.deps(child).is_empty();
        if has_children && !expanded.insert(child.clone()) {
            let _ = writeln!(out, "{prefix}{branch}{} (see above)", label(catalog, child));
            continue;
        }
        let _ = writeln!(out, "{prefix}{branch}{}", label(catalog, child));
        if let Some(child_entry) = catalog.entry(child) {
            draw_children(
                catalog,
                child_entry,
                &format!("{prefix}{indent}"),
                expanded,
                out,
            );
        }
    }
}

fn render_dot(catalog: &Catalog, root: Option<Entry<'_>>, out: &mut String) {
    let _ = writeln!(out, "digraph catalog {{");
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(out, "  node [shape=box, fontname=\"sans-serif\"];");
    let names: BTreeSet<String> = match root {
        Some(entry) => {
            let mut set: BTreeSet<String> =
                install_closure(catalog, entry.name()).into_iter().collect();
            set.insert(entry.name().to_string());
            set
        }
        None => catalog
            .components()
            .iter()
            .map(|c| c.name.clone())
            .chain(catalog.meta_platforms().iter().map(|m| m.name.clone()))
            .collect(),
    };
    for name in &names {
        let style = match catalog.entry(name).map(|e| e.category()) {
            Some(Category::Mandatory) => ", style=filled, fillcolor=\"#e8eef7\"",
            Some(Category::MetaPlatform) => ", shape=box3d",
            _ => "",
        };
        let _ = writeln!(
            out,
            "  \"{name}\" [label=\"{}\"{style}];",
            label(catalog, name).replace('"', "'")
        );
    }
    for name in &names {
        if let Some(entry) = catalog.entry(name) {
            for dep in entry.requires() {
                let _ = writeln!(out, "  \"{name}\" -> \"{dep}\";");
            }
            if let Entry::Meta(m) = entry {
                for o in &m.optional {
                    let _ = writeln!(
                        out,
                        "  \"{name}\" -> \"{}\" [style=dashed, label=\"{}\"];",
                        o.name,
                        o.reason.replace('"', "'")
                    );
                }
            }
        }
    }
    let _ = writeln!(out, "}}");
}
