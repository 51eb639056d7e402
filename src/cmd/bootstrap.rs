//! PLACEHOLDER (to be replaced by its owner): `openova bootstrap`.

use crate::cli::CmdResult;

#[derive(Debug, clap::Subcommand)]
pub enum BootstrapCmd {
    /// Not built yet.
    Todo,
}

pub fn run(_cmd: BootstrapCmd) -> CmdResult {
    color_eyre::eyre::bail!("openova bootstrap is not built yet")
}
