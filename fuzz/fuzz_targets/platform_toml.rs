//! platform.toml as an operator may hand-edit it: parse, validate, locate every error, and write
//! back. Nothing may panic; a valid file must survive its own round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openova::domain::platform::{PlatformConfig, field_position};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let config = match PlatformConfig::parse(text) {
        Ok(config) => config,
        Err(err) => {
            // The message and position are what the operator sees; building them must not panic.
            let _ = err.to_string();
            let _ = err.position();
            let _ = err.reason();
            return;
        }
    };
    let catalog = openova::catalog::embedded();
    let mut problems = config.validate();
    problems.extend(config.validate_components(|name| catalog.entry(name).is_some()));
    for p in &problems {
        let _ = field_position(text, &p.field);
    }
    let _ = config.cluster_names();
    let _ = config.contexts();
    let _ = config.environment();
    if problems.is_empty() {
        let written = config
            .to_toml()
            .expect("a valid configuration can be written as TOML");
        let reread = PlatformConfig::parse(&written).expect("the TOML openova writes parses again");
        assert_eq!(reread, config, "round trip changed the configuration");
    }
});
