//! `openova config`: check platform.toml files (every problem at once, each with file, line,
//! column and field path) and print a commented example to start from.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use color_eyre::eyre::WrapErr;

use crate::cmd::CmdResult;
use crate::domain::catalog::Catalog;
use crate::domain::platform::{self, EXAMPLE_TOML, PlatformConfig};

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCmd {
    /// Check platform.toml files: syntax, unknown fields, names, sizes, regions, references,
    /// and that every selected component is in the catalog. Prints every problem as
    /// FILE:LINE:COL: field: message and exits 1 if there is any.
    Validate {
        /// Files to check; `-` reads standard input.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Check component names against this catalog file instead of the embedded catalog.
        #[arg(long, value_name = "FILE", env = "OPENOVA_CATALOG")]
        catalog: Option<PathBuf>,
    },
    /// Print a commented example platform.toml (valid as printed) to standard output.
    Example,
}

pub fn run(cmd: ConfigCmd) -> CmdResult {
    match cmd {
        ConfigCmd::Example => {
            let mut out = std::io::stdout().lock();
            out.write_all(EXAMPLE_TOML.as_bytes())
                .and_then(|()| out.flush())
                .wrap_err("cannot write the example to standard output")?;
            Ok(ExitCode::SUCCESS)
        }
        ConfigCmd::Validate { files, catalog } => {
            let loaded;
            let catalog: &Catalog = match &catalog {
                Some(path) => {
                    loaded = crate::catalog::load_file(path)?;
                    &loaded
                }
                None => crate::catalog::embedded(),
            };
            validate_files(&files, catalog)
        }
    }
}

fn validate_files(files: &[PathBuf], catalog: &Catalog) -> CmdResult {
    let mut failed = 0usize;
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    for file in files {
        let (name, text) = match read(file) {
            Ok(t) => t,
            Err(message) => {
                failed += 1;
                writeln!(stderr, "{message}")?;
                continue;
            }
        };
        let report = check(&text, |n| catalog.entry(n).is_some());
        match report {
            Ok(cfg) => {
                let regions = cfg.regions.len();
                writeln!(
                    stdout,
                    "{name}: ok ({regions} region{}, cluster name{} {})",
                    if regions == 1 { "" } else { "s" },
                    if regions == 1 { "" } else { "s" },
                    cfg.cluster_names().join(", ")
                )?;
            }
            Err(problems) => {
                failed += 1;
                for p in &problems {
                    writeln!(stderr, "{}", p.render(&name))?;
                }
                writeln!(
                    stderr,
                    "{name}: {} problem{} found",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                )?;
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Reads a file (or standard input for `-`), returning the name to print and the text.
fn read(file: &Path) -> Result<(String, String), String> {
    if file == Path::new("-") {
        let mut text = String::new();
        return std::io::stdin()
            .read_to_string(&mut text)
            .map(|_| ("<stdin>".to_owned(), text))
            .map_err(|e| format!("<stdin>: cannot read: {e}"));
    }
    let name = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| format!("{name}: cannot read: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "{name}: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok((name, text))
}

/// One problem found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub at: Option<platform::Position>,
    /// Already prefixed with the field path where one applies.
    pub message: String,
}

impl Problem {
    /// `FILE:LINE:COL: message`, or `FILE: message` when no position is known.
    pub fn render(&self, file: &str) -> String {
        match self.at {
            Some(p) => format!("{file}:{}:{}: {}", p.line, p.column, self.message),
            None => format!("{file}: {}", self.message),
        }
    }
}

/// Parses and validates one document; every problem, or the configuration when there is none.
pub fn check(text: &str, known: impl Fn(&str) -> bool) -> Result<PlatformConfig, Vec<Problem>> {
    let cfg = PlatformConfig::parse(text).map_err(|e| {
        vec![Problem {
            at: e.position(),
            message: e.reason(),
        }]
    })?;
    let mut errors = cfg.validate();
    errors.extend(cfg.validate_components(known));
    if errors.is_empty() {
        return Ok(cfg);
    }
    let mut problems: Vec<Problem> = errors
        .into_iter()
        .map(|e| Problem {
            at: platform::field_position(text, &e.field),
            message: e.to_string(),
        })
        .collect();
    // Document order reads best; problems without a position (none in practice) go last.
    problems.sort_by_key(|p| p.at.map_or((usize::MAX, 0), |a| (a.line, a.column)));
    Err(problems)
}
