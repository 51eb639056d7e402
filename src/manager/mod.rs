//! PLACEHOLDER (to be replaced by its owner): `openova manager`.

use crate::cli::CmdResult;

#[derive(Debug, clap::Args)]
pub struct ManagerArgs {}

pub fn run(_args: ManagerArgs) -> CmdResult {
    color_eyre::eyre::bail!("openova manager is not built yet")
}
