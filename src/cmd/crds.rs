//! PLACEHOLDER (to be replaced by its owner): `openova crds`.

use crate::cli::CmdResult;

#[derive(Debug, clap::Args)]
pub struct CrdsArgs {}

pub fn run(_args: CrdsArgs) -> CmdResult {
    color_eyre::eyre::bail!("openova crds is not built yet")
}
