//! PLACEHOLDER (to be replaced by its owner): `openova catalog`.

use crate::cli::CmdResult;

#[derive(Debug, clap::Subcommand)]
pub enum CatalogCmd {
    /// Not built yet.
    Todo,
}

pub fn run(_cmd: CatalogCmd) -> CmdResult {
    color_eyre::eyre::bail!("openova catalog is not built yet")
}
