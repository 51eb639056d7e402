//! PLACEHOLDER (to be replaced by its owner): `openova tui manage`.

use crate::cli::CmdResult;

#[derive(Debug, clap::Args)]
pub struct ManageArgs {}

pub fn run(_args: ManageArgs) -> CmdResult {
    color_eyre::eyre::bail!("openova tui manage is not built yet")
}
