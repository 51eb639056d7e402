//! PLACEHOLDER (to be replaced by its owner): `openova runs`.

use crate::cli::CmdResult;

#[derive(Debug, clap::Subcommand)]
pub enum RunsCmd {
    /// Not built yet.
    Todo,
}

pub fn run(_cmd: RunsCmd) -> CmdResult {
    color_eyre::eyre::bail!("openova runs is not built yet")
}
