//! The state database file as found on disk (truncated, from another program, from a newer
//! openova): opening it either works or sets the file aside intact and starts afresh.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openova::store::Store;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("openova.db");
    std::fs::write(&path, data).expect("write database file");
    match Store::open(&path) {
        Ok(store) => {
            if let Some(aside) = store.set_aside() {
                let kept = std::fs::read(&aside.moved_to).expect("set-aside file exists");
                assert_eq!(kept, data, "the set-aside file differs from the original");
                assert!(!aside.reason.is_empty());
            }
            let _ = store.list_drafts();
            let _ = store
                .create_draft("after", "{}", 0)
                .expect("fresh store takes a draft");
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
    let _ = openova::store::runs::open(&path).map(|c| openova::store::runs::list_runs(&c, 5));
});
