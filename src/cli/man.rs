//! `openova man --out DIR` (hidden): owns the man pages, rendered from the same clap definitions
//! as `--help`, so the two cannot disagree. One page per command, named like git's
//! (`openova-tui-manage.1`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::cmd::CmdResult;

/// Arguments of `openova man`.
#[derive(Debug, Clone, clap::Args)]
pub struct ManArgs {
    /// Directory to write the pages into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// What failed while writing man pages.
#[derive(Debug, thiserror::Error)]
pub enum ManError {
    #[error("could not create the man page directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not write the man page {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One rendered page: file name (`openova-runs-list.1`) and roff text.
#[derive(Debug, Clone)]
pub struct Page {
    pub file_name: String,
    pub roff: Vec<u8>,
}

/// Every visible command of `openova`, depth first, with its full name (`openova tui manage`).
pub fn commands() -> Vec<(String, clap::Command)> {
    let mut root = Cli::command();
    // Subcommands only know their full name (and inherited version) once the tree is built.
    root.build();
    let mut out = Vec::new();
    walk(&root, "openova", &mut out);
    out
}

fn walk(cmd: &clap::Command, name: &str, out: &mut Vec<(String, clap::Command)>) {
    out.push((name.to_string(), cmd.clone()));
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        walk(sub, &format!("{name} {}", sub.get_name()), out);
    }
}

/// Renders the page of every visible command.
pub fn pages() -> Result<Vec<Page>, std::io::Error> {
    commands()
        .into_iter()
        .map(|(name, cmd)| {
            let file_name = format!("{}.1", name.replace(' ', "-"));
            // The page title is the dashed name, as `man openova-tui-manage` looks it up.
            let cmd = cmd
                .bin_name(name.clone())
                .display_name(name.replace(' ', "-"));
            let mut roff = Vec::new();
            clap_mangen::Man::new(cmd)
                .title(name.replace(' ', "-"))
                .render(&mut roff)?;
            Ok(Page { file_name, roff })
        })
        .collect()
}

/// Writes every page into `dir`; returns the paths written.
pub fn write_pages(dir: &Path) -> Result<Vec<PathBuf>, ManError> {
    std::fs::create_dir_all(dir).map_err(|source| ManError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    let pages = pages().map_err(|source| ManError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::with_capacity(pages.len());
    for page in pages {
        let path = dir.join(&page.file_name);
        std::fs::write(&path, &page.roff).map_err(|source| ManError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// `openova man --out DIR`.
pub fn run(args: ManArgs) -> CmdResult {
    let written = write_pages(&args.out)?;
    println!(
        "wrote {} man pages to {}",
        written.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn man_pages_every_visible_command_has_a_page_and_help_text() {
        let dir = tempfile::tempdir().expect("temp dir");
        let written = write_pages(dir.path()).expect("pages written");
        let commands = commands();
        assert_eq!(written.len(), commands.len());
        for (name, cmd) in &commands {
            let path = dir.path().join(format!("{}.1", name.replace(' ', "-")));
            let page = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{name}: no man page at {}: {e}", path.display()))
                .replace("\\-", "-")
                .replace("\\*(Aq", "'");
            let about = cmd
                .get_about()
                .unwrap_or_else(|| panic!("{name} has no help text"))
                .to_string();
            assert!(!about.trim().is_empty(), "{name} has an empty help text");
            // The page carries the same first line as `--help`, so the two stay consistent.
            assert!(
                page.contains(about.trim()),
                "{name}: man page does not carry its --help text `{about}`"
            );
            assert!(
                page.contains(".TH"),
                "{name}: {} is not a man page",
                path.display()
            );
            let help = cmd.clone().render_long_help().to_string();
            assert!(help.contains("Usage:"), "{name} --help has no usage line");
        }
    }

    #[test]
    fn man_pages_include_the_commands_operators_use() {
        let names: Vec<String> = commands().into_iter().map(|(n, _)| n).collect();
        for expected in [
            "openova",
            "openova tui bootstrap",
            "openova tui manage",
            "openova bootstrap apply",
            "openova runs attach",
            "openova playground",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "no man page for `{expected}` among {names:?}"
            );
        }
        assert!(
            !names.iter().any(|n| n == "openova man"),
            "the hidden generator itself gets no page"
        );
    }

    #[test]
    fn man_out_unwritable_path_names_the_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").expect("write");
        let err = write_pages(&file.join("man1")).unwrap_err().to_string();
        assert!(err.contains("not-a-dir"), "{err}");
    }
}
