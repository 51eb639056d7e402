//! OpenTofu's -json stream, which carries whatever providers print: every line is classified
//! and summarised without panicking, and the outputs document is read defensively.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openova::provision::events::{parse_line, parse_outputs};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        let event = parse_line(line);
        let _ = event.kind();
        let _ = event.level();
        let _ = event.message();
        let _ = event.envelope();
    }
    let _ = parse_outputs(&text);
});
