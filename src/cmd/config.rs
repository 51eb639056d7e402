//! PLACEHOLDER (to be replaced by its owner): `openova config`.

use crate::cli::CmdResult;

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCmd {
    /// Not built yet.
    Todo,
}

pub fn run(_cmd: ConfigCmd) -> CmdResult {
    color_eyre::eyre::bail!("openova config is not built yet")
}
