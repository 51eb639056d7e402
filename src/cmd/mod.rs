//! Headless subcommands: thin drivers that parse arguments, call the domain and adapters, and
//! print for a terminal or a script. Nothing here imports `cli` or `tui`; the screens use
//! [`CmdResult`] from here.

use std::process::ExitCode;

pub mod airgap;
pub mod bootstrap;
pub mod catalog;
pub mod config;
pub mod crds;
pub mod runs;
pub mod secrets;

/// Result of a subcommand (headless, screen or manager): the exit code to leave with, or an
/// error report.
pub type CmdResult = color_eyre::Result<ExitCode>;
