//! Dependency resolution over the catalog: install closure with the reason each item is pulled in,
//! deterministic topological install order, cycle detection that names the cycle, what an
//! uninstall would break, and what deselecting a component in the wizard takes with it.
//!
//! The graph algorithms are generic over [`DepGraph`] so they can be property-tested on random
//! graphs; the catalog-aware functions build on them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use crate::domain::catalog::{Catalog, Category, Entry};

/// A directed graph where an edge `a -> b` means "a requires b" (b is installed first).
pub trait DepGraph {
    /// Every node, in a stable order.
    fn nodes(&self) -> Vec<&str>;
    /// Direct dependencies of `node`; empty for unknown nodes.
    fn deps(&self, node: &str) -> Vec<&str>;
}

impl DepGraph for BTreeMap<&str, Vec<&str>> {
    fn nodes(&self) -> Vec<&str> {
        self.keys().copied().collect()
    }
    fn deps(&self, node: &str) -> Vec<&str> {
        self.get(node).cloned().unwrap_or_default()
    }
}

impl DepGraph for BTreeMap<String, Vec<String>> {
    fn nodes(&self) -> Vec<&str> {
        self.keys().map(String::as_str).collect()
    }
    fn deps(&self, node: &str) -> Vec<&str> {
        self.get(node)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

impl DepGraph for Catalog {
    fn nodes(&self) -> Vec<&str> {
        self.components().iter().map(|c| c.name.as_str()).collect()
    }
    fn deps(&self, node: &str) -> Vec<&str> {
        self.get(node)
            .map(|c| c.requires.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

/// Finds a dependency cycle, returned as a closed path `[a, b, c, a]`. Deterministic: nodes are
/// visited in `nodes()` order and dependencies in their listed order.
pub fn find_cycle<G: DepGraph + ?Sized>(graph: &G) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
    for root in graph.nodes() {
        if marks.contains_key(root) {
            continue;
        }
        // Iterative DFS: the stack holds (node, its deps, next dep index); `path` mirrors the stack.
        let mut stack: Vec<(&str, Vec<&str>, usize)> = vec![(root, graph.deps(root), 0)];
        marks.insert(root, Mark::Visiting);
        while let Some((node, deps, next)) = stack.last_mut() {
            if let Some(&dep) = deps.get(*next) {
                *next += 1;
                match marks.get(dep) {
                    Some(Mark::Visiting) => {
                        let start = stack.iter().position(|(n, _, _)| *n == dep).unwrap_or(0);
                        let mut cycle: Vec<String> = stack[start..]
                            .iter()
                            .map(|(n, _, _)| n.to_string())
                            .collect();
                        cycle.push(dep.to_string());
                        return Some(cycle);
                    }
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(dep, Mark::Visiting);
                        let dep_deps = graph.deps(dep);
                        stack.push((dep, dep_deps, 0));
                    }
                }
            } else {
                marks.insert(node, Mark::Done);
                stack.pop();
            }
        }
    }
    None
}

/// Install order for `subset`: every node after all of its dependencies that are in `subset`.
/// Nodes are ordered by depth (longest dependency chain inside the subset), then by name, so the
/// order is deterministic and reads like install waves. Fails with the cycle if there is one.
pub fn topo_order<G: DepGraph + ?Sized>(
    graph: &G,
    subset: &BTreeSet<&str>,
) -> Result<Vec<String>, Vec<String>> {
    let induced: BTreeMap<&str, Vec<&str>> = subset
        .iter()
        .map(|&n| {
            let deps = graph
                .deps(n)
                .into_iter()
                .filter(|d| subset.contains(d))
                .collect();
            (n, deps)
        })
        .collect();
    if let Some(cycle) = find_cycle(&induced) {
        return Err(cycle);
    }
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    // Acyclic now, so repeated relaxation terminates; the explicit stack avoids deep recursion.
    for &start in subset {
        let mut stack = vec![start];
        while let Some(&node) = stack.last() {
            if depth.contains_key(node) {
                stack.pop();
                continue;
            }
            let pending: Vec<&str> = induced[node]
                .iter()
                .copied()
                .filter(|d| !depth.contains_key(d))
                .collect();
            if pending.is_empty() {
                let d = induced[node]
                    .iter()
                    .map(|dep| depth[dep] + 1)
                    .max()
                    .unwrap_or(0);
                depth.insert(node, d);
                stack.pop();
            } else {
                stack.extend(pending);
            }
        }
    }
    let mut order: Vec<(usize, &str)> = depth.into_iter().map(|(n, d)| (d, n)).collect();
    order.sort();
    Ok(order.into_iter().map(|(_, n)| n.to_string()).collect())
}

/// Every node that transitively requires `target`, each with the shortest path
/// `[dependent, ..., target]`. Sorted by path length, then name.
pub fn reverse_closure<G: DepGraph + ?Sized>(
    graph: &G,
    target: &str,
) -> Vec<(String, Vec<String>)> {
    let mut reverse: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in graph.nodes() {
        for dep in graph.deps(node) {
            reverse.entry(dep).or_default().push(node);
        }
    }
    // next_hop[n] = the dependency through which n reaches target.
    let mut next_hop: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue: VecDeque<&str> = VecDeque::from([target]);
    let mut found: Vec<&str> = Vec::new();
    while let Some(node) = queue.pop_front() {
        for &dependent in reverse.get(node).map(Vec::as_slice).unwrap_or(&[]) {
            if dependent == target || next_hop.contains_key(dependent) {
                continue;
            }
            next_hop.insert(dependent, node);
            found.push(dependent);
            queue.push_back(dependent);
        }
    }
    let mut out: Vec<(String, Vec<String>)> = found
        .into_iter()
        .map(|dependent| {
            let mut path = vec![dependent.to_string()];
            let mut cur = dependent;
            while cur != target {
                cur = next_hop[cur];
                path.push(cur.to_string());
            }
            (dependent.to_string(), path)
        })
        .collect();
    out.sort_by(|a, b| a.1.len().cmp(&b.1.len()).then_with(|| a.0.cmp(&b.0)));
    out
}

/// Why an item is part of an install plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The operator asked for it.
    Requested,
    /// Another item of the plan requires it.
    RequiredBy(String),
    /// A requested meta-platform bundles it.
    MemberOf(String),
    /// The operator ticked it as an optional dependency of this item.
    Optional(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Requested => f.write_str("requested"),
            Reason::RequiredBy(n) => write!(f, "required by {n}"),
            Reason::MemberOf(m) => write!(f, "part of {m}"),
            Reason::Optional(n) => write!(f, "optional for {n}"),
        }
    }
}

/// One component of an install plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanItem {
    pub name: String,
    pub reason: Reason,
    pub already_installed: bool,
}

/// An optional dependency the operator could add to the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionalOffer {
    pub name: String,
    /// Why one would want it, e.g. `knowledge graph`.
    pub reason: String,
    /// The plan item (component or meta-platform) that offers it.
    pub offered_by: String,
    pub already_installed: bool,
}

/// What installing a request takes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Every component involved (installed or not), in install order.
    pub items: Vec<PlanItem>,
    /// Names to install, in install order (items minus the already installed ones).
    pub order: Vec<String>,
    /// Requested meta-platforms.
    pub metas: Vec<String>,
    /// Optional dependencies not chosen, to offer with a checkbox.
    pub offers: Vec<OptionalOffer>,
}

impl Plan {
    pub fn item(&self, name: &str) -> Option<&PlanItem> {
        self.items.iter().find(|i| i.name == name)
    }
}

/// Why a resolution request could not be satisfied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("unknown component `{name}`{}", did_you_mean(.suggestions))]
    UnknownName {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("`{name}` is not an optional dependency of anything in this request")]
    NotOffered { name: String },
    #[error("dependency cycle: {}", .cycle.join(" -> "))]
    Cycle { cycle: Vec<String> },
    #[error("`{name}` is mandatory and cannot be removed")]
    Mandatory { name: String },
}

/// `; did you mean `x`?` (or one of several), empty without suggestions: the tail of a
/// "no such component" message.
pub fn did_you_mean<S: AsRef<str>>(suggestions: &[S]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!("; did you mean `{}`?", one.as_ref()),
        many => format!(
            "; did you mean one of {}?",
            many.iter()
                .map(|s| format!("`{}`", s.as_ref()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn unknown(catalog: &Catalog, name: &str) -> ResolveError {
    ResolveError::UnknownName {
        name: name.to_string(),
        suggestions: catalog
            .suggest(name)
            .into_iter()
            .map(String::from)
            .collect(),
    }
}

/// Plans installing `request` (component or meta-platform names) plus the `chosen_optional`
/// dependencies the operator ticked, on a platform where `installed` is already present.
pub fn install_plan(
    catalog: &Catalog,
    installed: &BTreeSet<String>,
    request: &[&str],
    chosen_optional: &[&str],
) -> Result<Plan, ResolveError> {
    let mut reasons: BTreeMap<String, Reason> = BTreeMap::new();
    let mut queue: VecDeque<String> = VecDeque::new();
    let mut metas: Vec<String> = Vec::new();
    fn add(
        reasons: &mut BTreeMap<String, Reason>,
        name: &str,
        reason: Reason,
        queue: &mut VecDeque<String>,
    ) {
        if !reasons.contains_key(name) {
            reasons.insert(name.to_string(), reason);
            queue.push_back(name.to_string());
        }
    }

    for &name in request {
        match catalog.entry(name).ok_or_else(|| unknown(catalog, name))? {
            Entry::Component(c) => add(&mut reasons, &c.name, Reason::Requested, &mut queue),
            Entry::Meta(m) => {
                if !metas.contains(&m.name) {
                    metas.push(m.name.clone());
                }
                for member in &m.requires {
                    add(
                        &mut reasons,
                        member,
                        Reason::MemberOf(m.name.clone()),
                        &mut queue,
                    );
                }
            }
        }
    }

    let mut pending_optional: Vec<&str> = chosen_optional.to_vec();
    loop {
        while let Some(name) = queue.pop_front() {
            for dep in catalog.deps(&name) {
                add(
                    &mut reasons,
                    dep,
                    Reason::RequiredBy(name.clone()),
                    &mut queue,
                );
            }
        }
        // An optional pick may itself offer further optional dependencies, hence the loop.
        let offers = collect_offers(catalog, &metas, &reasons);
        let mut still_pending = Vec::new();
        for name in pending_optional {
            if catalog.get(name).is_none() {
                return Err(unknown(catalog, name));
            }
            match offers.iter().find(|(n, _, _)| n == name) {
                Some((_, _, by)) => {
                    add(&mut reasons, name, Reason::Optional(by.clone()), &mut queue)
                }
                None if reasons.contains_key(name) => {}
                None => still_pending.push(name),
            }
        }
        pending_optional = still_pending;
        if queue.is_empty() {
            break;
        }
    }
    if let Some(name) = pending_optional.first() {
        return Err(ResolveError::NotOffered {
            name: name.to_string(),
        });
    }

    let subset: BTreeSet<&str> = reasons.keys().map(String::as_str).collect();
    let order = topo_order(catalog, &subset).map_err(|cycle| ResolveError::Cycle { cycle })?;
    let items: Vec<PlanItem> = order
        .iter()
        .map(|name| PlanItem {
            name: name.clone(),
            reason: reasons[name].clone(),
            already_installed: installed.contains(name),
        })
        .collect();
    let offers = collect_offers(catalog, &metas, &reasons)
        .into_iter()
        .filter(|(name, _, _)| !reasons.contains_key(name))
        .map(|(name, reason, offered_by)| OptionalOffer {
            already_installed: installed.contains(&name),
            name,
            reason,
            offered_by,
        })
        .collect();
    Ok(Plan {
        order: items
            .iter()
            .filter(|i| !i.already_installed)
            .map(|i| i.name.clone())
            .collect(),
        items,
        metas,
        offers,
    })
}

/// Optional dependencies offered by the requested metas and by every item in the plan, first
/// offer wins: (name, reason, offered by).
fn collect_offers(
    catalog: &Catalog,
    metas: &[String],
    reasons: &BTreeMap<String, Reason>,
) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    let offerers = metas
        .iter()
        .filter_map(|m| catalog.meta(m).map(Entry::Meta))
        .chain(
            reasons
                .keys()
                .filter_map(|n| catalog.get(n).map(Entry::Component)),
        );
    for entry in offerers {
        for opt in entry.optional() {
            if !out.iter().any(|(n, _, _)| *n == opt.name) {
                out.push((
                    opt.name.clone(),
                    opt.reason.clone(),
                    entry.name().to_string(),
                ));
            }
        }
    }
    out
}

/// An installed component that would break if a component were uninstalled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impact {
    pub dependent: String,
    /// `[dependent, ..., uninstalled]`, following `requires` edges.
    pub path: Vec<String>,
}

impl Impact {
    /// `grafana -> loki -> seaweedfs`.
    pub fn path_text(&self) -> String {
        self.path.join(" -> ")
    }
}

/// What uninstalling `name` would break: installed components that require it, transitively.
pub fn uninstall_impact(
    catalog: &Catalog,
    installed: &BTreeSet<String>,
    name: &str,
) -> Vec<Impact> {
    reverse_closure(catalog, name)
        .into_iter()
        .filter(|(dependent, _)| installed.contains(dependent))
        .map(|(dependent, path)| Impact { dependent, path })
        .collect()
}

/// Why something is removed along with a deselection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemovalReason {
    /// The operator deselected it.
    Deselected,
    /// It requires the deselected component; the path shows how.
    Dependent(Vec<String>),
    /// It came with the deselected meta-platform and nothing else still needs it.
    MemberOf(String),
}

impl fmt::Display for RemovalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemovalReason::Deselected => f.write_str("deselected"),
            RemovalReason::Dependent(path) => write!(f, "requires it ({})", path.join(" -> ")),
            RemovalReason::MemberOf(m) => write!(f, "part of {m}"),
        }
    }
}

/// One component leaving the selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub name: String,
    pub reason: RemovalReason,
}

/// What deselecting `name` (a component or meta-platform) removes from `selected`, and why.
/// Mandatory components are never removed; asking to is an error.
pub fn removal_closure(
    catalog: &Catalog,
    selected: &BTreeSet<String>,
    name: &str,
) -> Result<Vec<Removal>, ResolveError> {
    let entry = catalog.entry(name).ok_or_else(|| unknown(catalog, name))?;
    let mut removals: Vec<Removal> = Vec::new();
    let mut removed: BTreeSet<String> = BTreeSet::new();
    let mut remove_component =
        |component: &str, reason: RemovalReason, removals: &mut Vec<Removal>| {
            if !removed.insert(component.to_string()) {
                return;
            }
            removals.push(Removal {
                name: component.to_string(),
                reason,
            });
            for (dependent, path) in reverse_closure(catalog, component) {
                if selected.contains(&dependent) && removed.insert(dependent.clone()) {
                    removals.push(Removal {
                        name: dependent,
                        reason: RemovalReason::Dependent(path),
                    });
                }
            }
        };
    match entry {
        Entry::Component(c) => {
            if c.category == Category::Mandatory {
                return Err(ResolveError::Mandatory {
                    name: c.name.clone(),
                });
            }
            remove_component(&c.name, RemovalReason::Deselected, &mut removals);
        }
        Entry::Meta(m) => {
            // Members leave unless mandatory or still required by something that stays.
            let members: Vec<&String> = m
                .requires
                .iter()
                .chain(m.optional.iter().map(|o| &o.name))
                .filter(|n| selected.contains(*n))
                .filter(|n| {
                    catalog
                        .get(n)
                        .is_some_and(|c| c.category != Category::Mandatory)
                })
                .collect();
            let member_set: BTreeSet<&str> = members.iter().map(|s| s.as_str()).collect();
            for member in &members {
                let still_needed =
                    reverse_closure(catalog, member)
                        .into_iter()
                        .any(|(dependent, _)| {
                            selected.contains(&dependent)
                                && !member_set.contains(dependent.as_str())
                        });
                if !still_needed {
                    remove_component(
                        member,
                        RemovalReason::MemberOf(m.name.clone()),
                        &mut removals,
                    );
                }
            }
        }
    }
    if let Some(bad) = removals.iter().find(|r| {
        catalog
            .get(&r.name)
            .is_some_and(|c| c.category == Category::Mandatory)
    }) {
        return Err(ResolveError::Mandatory {
            name: bad.name.clone(),
        });
    }
    Ok(removals)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;
    use crate::domain::catalog::Catalog;

    fn graph(
        edges: &[(&'static str, &[&'static str])],
    ) -> BTreeMap<&'static str, Vec<&'static str>> {
        edges.iter().map(|(n, d)| (*n, d.to_vec())).collect()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// A small catalog shaped like the real one: a mandatory base, a la carte components and a meta.
    fn catalog() -> Catalog {
        let comp = |name: &str, category: &str, requires: &[&str], optional: &[(&str, &str)]| {
            let requires: Vec<String> = requires.iter().map(|r| format!("\"{r}\"")).collect();
            let optional: Vec<String> = optional
                .iter()
                .map(|(n, r)| format!("{{ name = \"{n}\", reason = \"{r}\" }}"))
                .collect();
            format!(
                "[[component]]\nname = \"{name}\"\ntitle = \"{name}\"\ncategory = \"{category}\"\nfamily = \"cortex\"\n\
                 namespace = \"{name}\"\ndescription = \"d\"\nrequires = [{}]\noptional = [{}]\n\n\
                 [[component.versions]]\nversion = \"1.0.0\"\nchart = \"1.0.0\"\nchanges = [\"first\"]\n\n",
                requires.join(", "),
                optional.join(", ")
            )
        };
        let text = [
            comp("cilium", "mandatory", &[], &[]),
            comp("cert-manager", "mandatory", &["cilium"], &[]),
            comp("cnpg", "mandatory", &["cert-manager"], &[]),
            comp("knative", "a-la-carte", &["cilium", "cert-manager"], &[]),
            comp("kserve", "a-la-carte", &["knative"], &[]),
            comp("vllm", "a-la-carte", &["kserve"], &[("guardrails", "AI safety")]),
            comp("guardrails", "a-la-carte", &["vllm"], &[]),
            comp("milvus", "a-la-carte", &[], &[]),
            comp("neo4j", "a-la-carte", &[], &[]),
            comp("ferretdb", "a-la-carte", &["cnpg"], &[]),
            comp("chat", "a-la-carte", &["ferretdb"], &[]),
            "[[meta_platform]]\nname = \"ai-hub\"\ntitle = \"AI Hub\"\naliases = [\"cortex\"]\nfamily = \"cortex\"\n\
             description = \"d\"\nrequires = [\"kserve\", \"vllm\", \"milvus\", \"cnpg\"]\n\
             optional = [{ name = \"neo4j\", reason = \"knowledge graph\" }]\n"
                .to_string(),
        ]
        .concat();
        Catalog::from_toml(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn find_cycle_acyclic_graph_finds_none() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &[])]);
        assert_eq!(find_cycle(&g), None);
    }

    #[test]
    fn find_cycle_three_nodes_names_the_closed_path() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &["a"])]);
        assert_eq!(
            find_cycle(&g).map(|c| c.join(" -> ")),
            Some("a -> b -> c -> a".to_string())
        );
    }

    #[test]
    fn topo_order_orders_by_depth_then_name() {
        let g = graph(&[
            ("app", &["db", "cache"]),
            ("db", &["net"]),
            ("cache", &["net"]),
            ("net", &[]),
        ]);
        let all: BTreeSet<&str> = ["app", "db", "cache", "net"].into();
        assert_eq!(
            topo_order(&g, &all),
            Ok(vec![
                "net".into(),
                "cache".into(),
                "db".into(),
                "app".into()
            ])
        );
    }

    #[test]
    fn reverse_closure_reports_shortest_paths() {
        let g = graph(&[
            ("grafana", &["loki"]),
            ("loki", &["s3"]),
            ("velero", &["s3"]),
            ("s3", &[]),
        ]);
        let got = reverse_closure(&g, "s3");
        assert_eq!(
            got,
            vec![
                (
                    "loki".to_string(),
                    vec!["loki".to_string(), "s3".to_string()]
                ),
                (
                    "velero".to_string(),
                    vec!["velero".to_string(), "s3".to_string()]
                ),
                (
                    "grafana".to_string(),
                    vec!["grafana".to_string(), "loki".to_string(), "s3".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn install_plan_component_pulls_dependencies_with_reasons() {
        let cat = catalog();
        let plan = install_plan(
            &cat,
            &set(&["cilium", "cert-manager", "cnpg"]),
            &["kserve"],
            &[],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.order, ["knative", "kserve"]);
        assert_eq!(
            plan.item("kserve").map(|i| &i.reason),
            Some(&Reason::Requested)
        );
        assert_eq!(
            plan.item("knative").map(|i| i.reason.to_string()),
            Some("required by kserve".to_string())
        );
        assert!(plan.item("cilium").is_some_and(|i| i.already_installed));
    }

    #[test]
    fn install_plan_meta_platform_pulls_members_and_offers_optionals() {
        let cat = catalog();
        let plan = install_plan(
            &cat,
            &set(&["cilium", "cert-manager", "cnpg"]),
            &["cortex"],
            &[],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.metas, ["ai-hub"]);
        assert_eq!(
            plan.item("milvus").map(|i| i.reason.to_string()),
            Some("part of ai-hub".to_string())
        );
        assert!(plan.item("cnpg").is_some_and(|i| i.already_installed));
        let offers: Vec<(&str, &str, &str)> = plan
            .offers
            .iter()
            .map(|o| (o.name.as_str(), o.reason.as_str(), o.offered_by.as_str()))
            .collect();
        assert_eq!(
            offers,
            [
                ("neo4j", "knowledge graph", "ai-hub"),
                ("guardrails", "AI safety", "vllm")
            ]
        );
    }

    #[test]
    fn install_plan_chosen_optional_is_added_with_reason() {
        let cat = catalog();
        let plan = install_plan(
            &cat,
            &BTreeSet::new(),
            &["ai-hub"],
            &["neo4j", "guardrails"],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            plan.item("neo4j").map(|i| i.reason.to_string()),
            Some("optional for ai-hub".to_string())
        );
        assert_eq!(
            plan.item("guardrails").map(|i| i.reason.to_string()),
            Some("optional for vllm".to_string())
        );
        assert!(plan.offers.is_empty());
        let pos = |n: &str| plan.order.iter().position(|x| x == n);
        assert!(pos("vllm") < pos("guardrails"));
    }

    #[test]
    fn install_plan_optional_not_offered_is_an_error() {
        let cat = catalog();
        let e = install_plan(&cat, &BTreeSet::new(), &["kserve"], &["neo4j"]).err();
        assert_eq!(
            e,
            Some(ResolveError::NotOffered {
                name: "neo4j".into()
            })
        );
    }

    #[test]
    fn install_plan_unknown_name_suggests_the_close_one() {
        let cat = catalog();
        let e = install_plan(&cat, &BTreeSet::new(), &["kserv"], &[])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("unknown component `kserv`; did you mean `kserve`?")
        );
    }

    #[test]
    fn uninstall_impact_lists_installed_dependents_transitively() {
        let cat = catalog();
        let installed = set(&["cilium", "cert-manager", "cnpg", "ferretdb", "chat"]);
        let impact = uninstall_impact(&cat, &installed, "cnpg");
        let paths: Vec<String> = impact.iter().map(Impact::path_text).collect();
        assert_eq!(paths, ["ferretdb -> cnpg", "chat -> ferretdb -> cnpg"]);
        assert!(uninstall_impact(&cat, &installed, "chat").is_empty());
    }

    #[test]
    fn removal_closure_takes_selected_dependents_along() {
        let cat = catalog();
        let selected = set(&["knative", "kserve", "vllm", "milvus"]);
        let removals =
            removal_closure(&cat, &selected, "knative").unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<(String, String)> = removals
            .iter()
            .map(|r| (r.name.clone(), r.reason.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("knative".to_string(), "deselected".to_string()),
                (
                    "kserve".to_string(),
                    "requires it (kserve -> knative)".to_string()
                ),
                (
                    "vllm".to_string(),
                    "requires it (vllm -> kserve -> knative)".to_string()
                ),
            ]
        );
    }

    #[test]
    fn removal_closure_mandatory_is_refused() {
        let cat = catalog();
        let e = removal_closure(&cat, &set(&["cnpg"]), "cnpg").err();
        assert_eq!(
            e,
            Some(ResolveError::Mandatory {
                name: "cnpg".into()
            })
        );
    }

    #[test]
    fn removal_closure_meta_keeps_members_still_needed() {
        let cat = catalog();
        // guardrails (selected on its own) still needs vllm -> kserve, so those stay.
        let selected = set(&["kserve", "vllm", "milvus", "cnpg", "knative", "guardrails"]);
        let removals = removal_closure(&cat, &selected, "ai-hub").unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = removals.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["milvus"]);
        let selected = set(&["kserve", "vllm", "milvus", "cnpg", "knative"]);
        let removals = removal_closure(&cat, &selected, "ai-hub").unwrap_or_else(|e| panic!("{e}"));
        let names: BTreeSet<&str> = removals.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["kserve", "milvus", "vllm"].into());
    }

    /// Random DAG over nodes n0..nN: edges only go from a higher to a lower index.
    fn dag_strategy() -> impl Strategy<Value = BTreeMap<String, Vec<String>>> {
        (2usize..40).prop_flat_map(|n| {
            proptest::collection::vec(
                proptest::collection::vec(any::<prop::sample::Index>(), 0..5),
                n,
            )
            .prop_map(move |deps| {
                deps.into_iter()
                    .enumerate()
                    .map(|(i, picks)| {
                        let mut d: Vec<String> = if i == 0 {
                            Vec::new()
                        } else {
                            picks.iter().map(|p| format!("n{}", p.index(i))).collect()
                        };
                        d.sort();
                        d.dedup();
                        (format!("n{i}"), d)
                    })
                    .collect()
            })
        })
    }

    proptest! {
        #[test]
        fn topo_order_random_dag_respects_every_edge(g in dag_strategy()) {
            prop_assert!(find_cycle(&g).is_none());
            let all: BTreeSet<&str> = g.keys().map(String::as_str).collect();
            let order = topo_order(&g, &all).map_err(|c| TestCaseError::fail(c.join(" -> ")))?;
            prop_assert_eq!(order.len(), g.len());
            let pos: BTreeMap<&str, usize> = order.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
            for (node, deps) in &g {
                for dep in deps {
                    prop_assert!(pos[dep.as_str()] < pos[node.as_str()], "{} before {}", dep, node);
                }
            }
            // Deterministic: the same graph gives the same order.
            prop_assert_eq!(topo_order(&g, &all), Ok(order));
        }

        #[test]
        fn find_cycle_injected_back_edge_is_found_and_named(
            g in dag_strategy(),
            a in any::<prop::sample::Index>(),
            b in any::<prop::sample::Index>(),
        ) {
            let mut g = g;
            // Make a chain hi -> ... -> lo certain, then close it with lo -> hi.
            let n = g.len();
            let (lo, hi) = { let x = a.index(n); let y = b.index(n); if x == y { (0, n - 1) } else { (x.min(y), x.max(y)) } };
            for i in lo + 1..=hi {
                let deps = g.entry(format!("n{i}")).or_default();
                if !deps.contains(&format!("n{}", i - 1)) { deps.push(format!("n{}", i - 1)); }
            }
            g.entry(format!("n{lo}")).or_default().push(format!("n{hi}"));
            let cycle = find_cycle(&g);
            prop_assert!(cycle.is_some(), "cycle through n{} and n{} not found", lo, hi);
            let cycle = cycle.unwrap_or_default();
            prop_assert_eq!(cycle.first(), cycle.last());
            // Every consecutive pair of the named cycle is a real edge.
            for pair in cycle.windows(2) {
                prop_assert!(g[&pair[0]].contains(&pair[1]), "{} -> {} is not an edge", pair[0], pair[1]);
            }
            let all: BTreeSet<&str> = g.keys().map(String::as_str).collect();
            prop_assert!(topo_order(&g, &all).is_err());
        }

        #[test]
        fn install_plan_random_catalog_is_closed_and_ordered(
            g in dag_strategy(),
            picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..4),
            installed_picks in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let text: String = g
                .iter()
                .map(|(name, deps)| {
                    let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
                    format!(
                        "[[component]]\nname = \"{name}\"\ntitle = \"{name}\"\ncategory = \"a-la-carte\"\n\
                         family = \"fabric\"\nnamespace = \"{name}\"\ndescription = \"d\"\nrequires = [{}]\n\
                         [[component.versions]]\nversion = \"1.0.0\"\nchart = \"1.0.0\"\nchanges = [\"c\"]\n",
                        deps.join(", ")
                    )
                })
                .collect();
            let cat = Catalog::from_toml(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let names: Vec<&String> = g.keys().collect();
            let request: Vec<&str> = picks.iter().map(|p| names[p.index(names.len())].as_str()).collect();
            let installed: BTreeSet<String> =
                installed_picks.iter().map(|p| names[p.index(names.len())].clone()).collect();
            let plan = install_plan(&cat, &installed, &request, &[]).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let pos: BTreeMap<&str, usize> =
                plan.items.iter().enumerate().map(|(i, item)| (item.name.as_str(), i)).collect();
            for item in &plan.items {
                prop_assert_eq!(item.already_installed, installed.contains(&item.name));
                for dep in &g[&item.name] {
                    // Closed under `requires`, and every dependency comes first.
                    prop_assert!(pos.get(dep.as_str()).is_some_and(|&d| d < pos[item.name.as_str()]));
                }
            }
            for r in &request {
                prop_assert_eq!(plan.item(r).map(|i| &i.reason), Some(&Reason::Requested));
            }
            let to_install: Vec<&String> = plan.items.iter().filter(|i| !i.already_installed).map(|i| &i.name).collect();
            prop_assert_eq!(plan.order.iter().collect::<Vec<_>>(), to_install);
        }

        #[test]
        fn reverse_closure_random_dag_paths_follow_edges(g in dag_strategy(), t in any::<prop::sample::Index>()) {
            let target = format!("n{}", t.index(g.len()));
            for (dependent, path) in reverse_closure(&g, &target) {
                prop_assert_eq!(path.first(), Some(&dependent));
                prop_assert_eq!(path.last(), Some(&target));
                for pair in path.windows(2) {
                    prop_assert!(g[&pair[0]].contains(&pair[1]));
                }
            }
        }
    }
}
