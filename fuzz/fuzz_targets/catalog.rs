//! Catalog files (the embedded one, a ConfigMap override, `catalog validate`): load, then plan
//! installs and removals of every entry. Loading may fail; nothing may panic or loop.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use openova::domain::catalog::Catalog;
use openova::domain::resolve::{find_cycle, install_plan, removal_closure, uninstall_impact};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = openova::catalog::from_configmap_yaml(text, "fuzz");
    let catalog = match Catalog::from_toml(text) {
        Ok(c) => c,
        Err(err) => {
            let _ = err.to_string();
            let _ = err.line();
            return;
        }
    };
    // A catalog that loaded has no cycle: the loader promises that to every caller.
    assert_eq!(find_cycle(&catalog), None, "loaded catalog has a cycle");
    let names: Vec<String> = catalog.names().into_iter().map(String::from).collect();
    let none = BTreeSet::new();
    let all: BTreeSet<String> = names.iter().cloned().collect();
    for name in names.iter().take(32) {
        let _ = install_plan(&catalog, &none, &[name.as_str()], &[]);
        let _ = uninstall_impact(&catalog, &all, name);
        let _ = removal_closure(&catalog, &all, name);
        let _ = catalog.suggest(name);
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let _ = install_plan(&catalog, &none, &refs, &refs);
    let _ = catalog.by_category();
    let _ = catalog.suggest("x");
});
