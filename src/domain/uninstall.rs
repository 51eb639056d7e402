//! Uninstall rules: a component's release is removed only when the Platform no longer selects
//! it, nothing installed requires it, and the operator confirmed that exact removal. Pure, so
//! the manager and the console's removal dialog decide the same way.

use std::collections::BTreeSet;

/// One installed component as the rules see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installed {
    pub name: String,
    /// Components it requires.
    pub requires: Vec<String>,
    /// Already being removed (its dependencies no longer count it as a dependent).
    pub leaving: bool,
}

/// What the Platform controller does with components it no longer wants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemovalPlan {
    /// Remove now (leaves first; their dependencies follow on later passes).
    pub remove: Vec<String>,
    /// Not selected any more, but kept: no confirmed removal names them.
    pub kept: Vec<String>,
}

/// The installed components (not leaving) that require `name`, sorted.
pub fn dependents(installed: &[Installed], name: &str) -> Vec<String> {
    let mut out: Vec<String> = installed
        .iter()
        .filter(|o| !o.leaving && o.name != name && o.requires.iter().any(|d| d == name))
        .map(|o| o.name.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Which components to remove now. `wanted` is what the Platform selects plus everything that
/// requires; `confirmed` the names the operator's confirmed removals list (each removal and the
/// dependencies ticked with it). A component not wanted and not confirmed is kept; one still
/// required by an installed component waits until that is gone.
pub fn removal_plan(
    installed: &[Installed],
    wanted: &BTreeSet<String>,
    confirmed: &BTreeSet<String>,
) -> RemovalPlan {
    let mut plan = RemovalPlan::default();
    for c in installed {
        if wanted.contains(&c.name) || c.leaving {
            continue;
        }
        if !confirmed.contains(&c.name) {
            plan.kept.push(c.name.clone());
        } else if dependents(installed, &c.name).is_empty() {
            plan.remove.push(c.name.clone());
        }
    }
    plan.remove.sort();
    plan.kept.sort();
    plan
}

/// What happens to a Component whose deletion was requested (its finalizer is ours).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Remove its release.
    Uninstall,
    /// The Platform still selects it: its release stays and the Platform adopts it again.
    KeepSelected,
    /// Installed components require it: refused, release kept.
    Refused { dependents: Vec<String> },
    /// Nothing confirmed this removal: refused, release kept.
    NotConfirmed,
}

/// Decide a deletion. `selected`: the Platform wants it (selected or required); `confirmed`:
/// the operator confirmed this exact removal.
pub fn deletion_verdict(selected: bool, dependents: &[String], confirmed: bool) -> Verdict {
    if selected {
        Verdict::KeepSelected
    } else if !dependents.is_empty() {
        Verdict::Refused {
            dependents: dependents.to_vec(),
        }
    } else if !confirmed {
        Verdict::NotConfirmed
    } else {
        Verdict::Uninstall
    }
}

/// Who may confirm a Component's removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// It belongs to a Platform: confirmed when the Platform's confirmed removals name it.
    Platform { named_in_removals: bool },
    /// Written by hand, no Platform: deleting it is the confirmation, but only once.
    None,
}

/// Whether a deletion is confirmed. `refused_before`: this deletion was refused already (a
/// refusal disarms it: it never goes through later by itself); `annotated`: the Component
/// carries the explicit confirmation annotation naming it.
pub fn deletion_confirmed(owner: Owner, refused_before: bool, annotated: bool) -> bool {
    annotated
        || match owner {
            Owner::Platform { named_in_removals } => named_in_removals,
            Owner::None => !refused_before,
        }
}

/// Dependencies of `removing` that nothing else would need once it is gone, sorted: offered in
/// the removal dialog (unticked), removed only when ticked.
pub fn no_longer_needed(
    installed: &[Installed],
    wanted_without: &BTreeSet<String>,
    removing: &str,
) -> Vec<String> {
    let Some(target) = installed.iter().find(|c| c.name == removing) else {
        return Vec::new();
    };
    let mut out: Vec<String> = target
        .requires
        .iter()
        .filter(|d| !wanted_without.contains(*d))
        .filter(|d| dependents(installed, d).iter().all(|o| o == removing))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, requires: &[&str]) -> Installed {
        Installed {
            name: name.into(),
            requires: requires.iter().map(|s| s.to_string()).collect(),
            leaving: false,
        }
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn removal_plan_removes_only_confirmed_leaves_and_keeps_unnamed_dependencies() {
        let installed = vec![
            c("grafana", &["keycloak", "loki"]),
            c("keycloak", &[]),
            c("loki", &[]),
            c("cilium", &[]),
        ];
        // grafana deselected and confirmed, loki ticked, keycloak not.
        let plan = removal_plan(&installed, &set(&["cilium"]), &set(&["grafana", "loki"]));
        assert_eq!(plan.remove, vec!["grafana".to_string()]);
        assert_eq!(plan.kept, vec!["keycloak".to_string()]);
        // Next pass, grafana gone: loki goes, keycloak stays.
        let after = vec![c("keycloak", &[]), c("loki", &[]), c("cilium", &[])];
        let plan = removal_plan(&after, &set(&["cilium"]), &set(&["grafana", "loki"]));
        assert_eq!(plan.remove, vec!["loki".to_string()]);
        assert_eq!(plan.kept, vec!["keycloak".to_string()]);
    }

    #[test]
    fn removal_plan_without_confirmation_removes_nothing() {
        let installed = vec![c("grafana", &[]), c("cilium", &[])];
        let plan = removal_plan(&installed, &set(&["cilium"]), &set(&[]));
        assert!(plan.remove.is_empty());
        assert_eq!(plan.kept, vec!["grafana".to_string()]);
    }

    #[test]
    fn deletion_verdict_selected_keeps_dependents_refuse_unconfirmed_refuse() {
        assert_eq!(deletion_verdict(true, &[], true), Verdict::KeepSelected);
        assert_eq!(
            deletion_verdict(false, &["harbor".into()], true),
            Verdict::Refused {
                dependents: vec!["harbor".into()]
            }
        );
        assert_eq!(deletion_verdict(false, &[], false), Verdict::NotConfirmed);
        assert_eq!(deletion_verdict(false, &[], true), Verdict::Uninstall);
    }

    #[test]
    fn no_longer_needed_lists_dependencies_only_the_removed_one_used() {
        let installed = vec![
            c("grafana", &["keycloak", "loki", "cnpg"]),
            c("harbor", &["cnpg"]),
            c("keycloak", &[]),
            c("loki", &[]),
            c("cnpg", &[]),
        ];
        assert_eq!(
            no_longer_needed(&installed, &set(&["harbor"]), "grafana"),
            vec!["keycloak".to_string(), "loki".to_string()]
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A generated platform: `n` components where component `i` may require any `j < i` (so the
    /// graph is acyclic, like every catalog), which are selected, confirmed and leaving.
    fn platform() -> impl Strategy<Value = (Vec<Installed>, BTreeSet<String>, BTreeSet<String>)> {
        (1usize..12).prop_flat_map(|n| {
            (
                proptest::collection::vec(proptest::collection::vec(any::<bool>(), n), n),
                proptest::collection::vec(any::<bool>(), n),
                proptest::collection::vec(any::<bool>(), n),
                proptest::collection::vec(any::<bool>(), n),
            )
                .prop_map(move |(edges, selected, confirmed, leaving)| {
                    let name = |i: usize| format!("c{i}");
                    let installed: Vec<Installed> = (0..n)
                        .map(|i| Installed {
                            name: name(i),
                            requires: (0..i).filter(|&j| edges[i][j]).map(name).collect(),
                            leaving: leaving[i],
                        })
                        .collect();
                    // Wanted: the selection plus everything it requires, transitively.
                    let mut wanted: BTreeSet<String> =
                        (0..n).filter(|&i| selected[i]).map(name).collect();
                    for i in (0..n).rev() {
                        if wanted.contains(&name(i)) {
                            for d in &installed[i].requires {
                                wanted.insert(d.clone());
                            }
                        }
                    }
                    let confirmed = (0..n).filter(|&i| confirmed[i]).map(name).collect();
                    (installed, wanted, confirmed)
                })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// No component the Platform selects (or that a selected one requires) or that an
        /// installed component requires is ever removed, and nothing the confirmed intent does
        /// not name.
        #[test]
        fn removal_plan_never_removes_wanted_required_or_unconfirmed(
            (installed, wanted, confirmed) in platform()
        ) {
            let plan = removal_plan(&installed, &wanted, &confirmed);
            for r in &plan.remove {
                prop_assert!(!wanted.contains(r), "{r} is wanted");
                prop_assert!(confirmed.contains(r), "{r} was not confirmed");
                prop_assert!(dependents(&installed, r).is_empty(), "{r} is still required");
                prop_assert!(!plan.kept.contains(r));
            }
            for k in &plan.kept {
                prop_assert!(!confirmed.contains(k));
            }
        }

        /// A direct deletion uninstalls only what is not selected, not required and confirmed.
        #[test]
        fn deletion_verdict_uninstalls_only_unselected_unrequired_confirmed(
            (installed, wanted, confirmed) in platform(), pick in 0usize..12
        ) {
            let target = &installed[pick % installed.len()];
            let deps = dependents(&installed, &target.name);
            let verdict = deletion_verdict(
                wanted.contains(&target.name),
                &deps,
                confirmed.contains(&target.name),
            );
            if verdict == Verdict::Uninstall {
                prop_assert!(!wanted.contains(&target.name));
                prop_assert!(deps.is_empty());
                prop_assert!(confirmed.contains(&target.name));
            }
        }

        /// A refused deletion leaves no armed effect: after a refusal, whatever happens to the
        /// dependents and the selection later, it is never uninstalled without a new, explicit
        /// confirmation.
        #[test]
        fn refused_deletion_never_goes_through_by_itself(
            steps in proptest::collection::vec((any::<bool>(), any::<bool>()), 1..20),
            platform_owned in any::<bool>(),
        ) {
            let owner = if platform_owned {
                Owner::Platform { named_in_removals: false }
            } else {
                Owner::None
            };
            let mut refused_before = false;
            for (has_dependents, selected) in steps {
                let deps: Vec<String> = if has_dependents { vec!["d".into()] } else { vec![] };
                let confirmed = deletion_confirmed(owner, refused_before, false);
                let verdict = deletion_verdict(selected, &deps, confirmed);
                if refused_before {
                    prop_assert_ne!(&verdict, &Verdict::Uninstall);
                }
                if verdict == Verdict::Uninstall {
                    break;
                }
                if matches!(verdict, Verdict::Refused { .. } | Verdict::NotConfirmed) {
                    refused_before = true;
                }
            }
        }
    }
}
