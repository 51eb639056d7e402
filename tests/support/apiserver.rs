//! The harness side of the local Kubernetes control plane (`openova::testenv`): find the
//! binaries or skip loudly, and one API server shared by a whole test binary. These panic on
//! purpose (a broken environment must fail, not skip), which is why they live with the tests and
//! not in the library. Each test file and bench includes it as a module.

// Each integration test is its own crate and uses only part of this.
#![allow(dead_code)]

use std::io::Write as _;
use std::sync::{Mutex, OnceLock};

use openova::testenv::{ApiServer, Binaries, REQUIRE_ENV};

/// Returns the binaries when they are installed. When they are not: with
/// `OPENOVA_REQUIRE_K8S=1` this panics with instructions (CI must not silently skip), otherwise
/// it prints a loud skip notice and returns `None`.
///
/// # Panics
/// When the binaries are missing and `OPENOVA_REQUIRE_K8S=1`.
pub fn require() -> Option<Binaries> {
    match Binaries::locate() {
        Ok(bins) => Some(bins),
        Err(e) => {
            if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
                panic!("{REQUIRE_ENV}=1 but the Kubernetes test environment is unusable: {e}");
            }
            // Straight to the stderr handle: the test harness captures `eprintln!`, and a skip
            // nobody sees is exactly what this notice exists to prevent.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: this test needs a real kube-apiserver. {e}.\n\
                 *** Set {REQUIRE_ENV}=1 to turn this skip into a failure.\n"
            );
            None
        }
    }
}

static SHARED: OnceLock<ApiServer> = OnceLock::new();

extern "C" fn shutdown_shared() {
    if let Some(server) = SHARED.get() {
        server.shutdown();
    }
}

/// One server per process (per test binary), started on first use and stopped at process exit.
/// `None` (after a loud skip notice) when the binaries are missing; see [`require`].
///
/// Tests sharing it must not stop it; use a namespace each ([`ApiServer::namespace`]).
///
/// # Panics
/// When the binaries exist but the server cannot be started: a broken environment must fail
/// loudly rather than skip.
pub fn shared() -> Option<&'static ApiServer> {
    let bins = require()?;
    static INIT: Mutex<()> = Mutex::new(());
    // A panicking test must not make the server unusable for the others.
    let _guard = INIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(server) = SHARED.get() {
        return Some(server);
    }
    let server = match ApiServer::launch_with(bins) {
        Ok(server) => server,
        Err(e) => panic!("could not start the shared kube-apiserver: {e}"),
    };
    let server = SHARED.get_or_init(|| server);
    // A static is never dropped, so the server is stopped at exit. libc, not nix: nix has no
    // wrapper for atexit.
    // SAFETY: registering a plain `extern "C"` function with no captured state is always sound;
    // it runs at most once because `SHARED` is initialised at most once under `INIT`.
    unsafe {
        libc::atexit(shutdown_shared);
    }
    Some(server)
}
