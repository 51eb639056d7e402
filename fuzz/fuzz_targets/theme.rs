//! Theme files from the operator's config directory: parse or report, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openova::tui::theme::{Theme, parse_color};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(err) = Theme::from_user_str(text, "fuzz.toml") {
        let _ = err.to_string();
    }
    let _ = parse_color(text);
    let _ = Theme::builtin(text);
});
