//! `openova crds`: print the Platform and Component CustomResourceDefinitions as YAML, the same
//! documents that `deploy/base/crds/` holds and the bootstrap hand-over applies.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use color_eyre::eyre::WrapErr;

use crate::cmd::CmdResult;

/// Arguments of `openova crds`.
#[derive(Debug, clap::Args)]
pub struct CrdsArgs {
    /// Write one file per CRD (`<name>.yaml`) into this directory instead of printing a
    /// multi-document stream (used to refresh `deploy/base/crds`).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Print every CRD as one multi-document YAML stream on stdout, or write one file per CRD.
pub fn run(args: CrdsArgs) -> CmdResult {
    match args.out_dir {
        None => {
            let yaml = crate::crd::crds_yaml()?;
            let mut out = std::io::stdout().lock();
            out.write_all(yaml.as_bytes())
                .and_then(|()| out.flush())
                .wrap_err("could not write the CRDs to standard output")?;
        }
        Some(dir) => {
            for crd in crate::crd::all_crds() {
                let name = crd.metadata.name.clone().unwrap_or_default();
                let path = dir.join(format!("{name}.yaml"));
                let yaml = crate::crd::crd_yaml(&crd)?;
                std::fs::write(&path, yaml)
                    .wrap_err_with(|| format!("could not write {}", path.display()))?;
                println!("wrote {}", path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
