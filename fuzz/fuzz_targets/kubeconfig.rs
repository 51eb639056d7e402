//! Kubeconfig files as the console reads them: load (possibly several merged), then build a
//! client for every context. Errors are expected; panics are not. No network call is made.
#![no_main]

use std::ffi::OsString;
use std::io::Write;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use openova::cluster::connect::{connect_with, load_kubeconfig_from};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime starts")
    })
}

fuzz_target!(|data: &[u8]| {
    // A 0xFF byte splits the input into two files so merging is exercised too.
    let mut parts = data.splitn(2, |b| *b == 0xFF);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut paths = Vec::new();
    for (i, part) in parts.by_ref().enumerate() {
        let path = dir.path().join(format!("config{i}"));
        let mut f = std::fs::File::create(&path).expect("create kubeconfig");
        f.write_all(part).expect("write kubeconfig");
        paths.push(path);
    }
    let loaded = if paths.len() == 1 {
        load_kubeconfig_from(Some(&paths[0]), None, None)
    } else {
        let joined = std::env::join_paths(&paths).expect("temp paths contain no separator");
        load_kubeconfig_from(None, Some(OsString::from(joined)), None)
    };
    let loaded = match loaded {
        Ok(l) => l,
        Err(err) => {
            let _ = err.to_string();
            return;
        }
    };
    let mut contexts: Vec<Option<String>> = loaded.context_names().into_iter().map(Some).collect();
    contexts.truncate(8);
    contexts.push(None);
    contexts.push(Some("missing".into()));
    runtime().block_on(async {
        for ctx in &contexts {
            if let Err(err) = connect_with(&loaded, ctx.as_deref(), None).await {
                let _ = err.to_string();
            }
        }
    });
});
