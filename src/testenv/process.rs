//! Spawns control-plane children so that they die with this process, and stops them by PID.

use std::io;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns `cmd` with `PR_SET_PDEATHSIG(SIGKILL)`.
///
/// The kernel sends the death signal when the *thread* that forked the child exits, not the
/// process. Test harnesses run each test on its own short-lived thread, so all children are
/// forked from one spawner thread that lives as long as the process.
pub fn spawn_tied(mut cmd: Command) -> io::Result<Child> {
    let parent = std::process::id();
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe system
    // calls (prctl, getppid); it allocates nothing. An error makes the child exit before exec.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from)?;
            // The parent may have died before prctl took effect; then nobody would reap us.
            if nix::unistd::getppid().as_raw() as u32 != parent {
                return Err(io::Error::from(nix::errno::Errno::ESRCH));
            }
            Ok(())
        });
    }
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((cmd, reply_tx))
        .map_err(|_| io::Error::other("spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("spawner thread did not answer"))?
}

fn spawner() -> &'static Mutex<mpsc::Sender<SpawnRequest>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        let spawned = std::thread::Builder::new()
            .name("openova-testenv-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
                // The sender lives in a static, so the loop only ends at process exit; parking
                // keeps the thread (and with it PDEATHSIG) alive in any case.
                loop {
                    std::thread::park();
                }
            });
        if let Err(e) = spawned {
            // Without the thread every spawn reports "spawner thread is gone" with this reason.
            eprintln!("openova testenv: could not start the spawner thread: {e}");
        }
        Mutex::new(tx)
    })
}

/// SIGKILL and wait: what a crash looks like to clients.
pub fn kill_and_reap(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// SIGTERM, wait up to `grace`, then SIGKILL.
pub fn terminate_and_reap(mut child: Child, grace: Duration) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // A PID we own and have not reaped yet, so it cannot have been reused.
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_and_reap(child);
}
