//! Catalog costs paid on every start and every reconcile: parsing the embedded catalog, planning
//! the whole catalog's install, and the wizard's deselection and uninstall checks.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

use std::collections::BTreeSet;

use openova::catalog::{EMBEDDED_TOML, embedded};
use openova::domain::catalog::Catalog;
use openova::domain::resolve::{install_plan, removal_closure, uninstall_impact};
use openova::domain::upgrade::available_upgrades;

fn main() {
    divan::main();
}

#[divan::bench]
fn parse_embedded_catalog() -> Catalog {
    match Catalog::from_toml(divan::black_box(EMBEDDED_TOML)) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

#[divan::bench]
fn install_plan_every_component(bencher: divan::Bencher) {
    let catalog = embedded();
    let names: Vec<&str> = catalog
        .components()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let installed = BTreeSet::new();
    bencher.bench(|| install_plan(catalog, &installed, divan::black_box(&names), &[]));
}

#[divan::bench]
fn install_plan_ai_hub_on_a_running_platform(bencher: divan::Bencher) {
    let catalog = embedded();
    let installed: BTreeSet<String> = catalog.mandatory().iter().map(|c| c.name.clone()).collect();
    bencher.bench(|| install_plan(catalog, &installed, divan::black_box(&["ai-hub"]), &[]));
}

#[divan::bench]
fn uninstall_impact_of_cilium_everything_installed(bencher: divan::Bencher) {
    let catalog = embedded();
    let installed: BTreeSet<String> = catalog
        .components()
        .iter()
        .map(|c| c.name.clone())
        .collect();
    bencher.bench(|| uninstall_impact(catalog, &installed, divan::black_box("cilium")));
}

#[divan::bench]
fn removal_closure_of_ai_hub(bencher: divan::Bencher) {
    let catalog = embedded();
    let selected: BTreeSet<String> = catalog
        .components()
        .iter()
        .map(|c| c.name.clone())
        .collect();
    bencher.bench(|| removal_closure(catalog, &selected, divan::black_box("ai-hub")));
}

#[divan::bench]
fn available_upgrades_every_component_at_oldest(bencher: divan::Bencher) {
    let catalog = embedded();
    let installed: Vec<(String, String)> = catalog
        .components()
        .iter()
        .map(|c| (c.name.clone(), c.versions[0].version.to_string()))
        .collect();
    bencher.bench(|| available_upgrades(catalog, divan::black_box(&installed)));
}
