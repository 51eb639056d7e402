//! PLACEHOLDER (to be replaced by its owner): `openova tui bootstrap`.

use crate::cli::CmdResult;

#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {}

pub fn run(_args: BootstrapArgs) -> CmdResult {
    color_eyre::eyre::bail!("openova tui bootstrap is not built yet")
}
