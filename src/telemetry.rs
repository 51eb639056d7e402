//! Logging: tracing to a daily file in the state directory, never to the terminal while a TUI
//! runs. Level from `OPENOVA_LOG` (an `EnvFilter` directive such as `debug` or `openova=trace`).

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Where log lines go.
pub enum LogTarget {
    /// Daily-rotated file `openova.log.YYYY-MM-DD` under the state directory's `logs/`.
    File,
    /// Standard error: for headless commands and the in-cluster manager.
    Stderr,
}

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_env("OPENOVA_LOG").unwrap_or_else(|_| EnvFilter::new(default))
}

/// Install the global subscriber. Keep the returned guard alive until exit so buffered lines
/// are flushed. Returns `None` when a subscriber was already installed (tests).
pub fn init(target: LogTarget) -> Option<WorkerGuard> {
    match target {
        LogTarget::File => {
            let dir = crate::paths::log_dir();
            if crate::paths::create_private_dir(&dir).is_err() {
                return None;
            }
            let appender = tracing_appender::rolling::daily(&dir, "openova.log");
            // The default queue (128k lines) costs a few ms of page faults at every start; a TUI
            // logs little, and its first frame has a 10 ms budget.
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .buffered_lines_limit(4096)
                .finish(appender);
            tracing_subscriber::fmt()
                .with_env_filter(filter("info"))
                .with_writer(writer)
                .with_ansi(false)
                .try_init()
                .ok()?;
            Some(guard)
        }
        LogTarget::Stderr => {
            let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
            tracing_subscriber::fmt()
                .with_env_filter(filter("warn"))
                .with_writer(writer)
                .with_ansi(std::env::var_os("NO_COLOR").is_none())
                .try_init()
                .ok()?;
            Some(guard)
        }
    }
}
