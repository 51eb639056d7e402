//! `openova secrets set|list|check|delete`: the keyring entries that `keyring:` references in
//! a platform.toml point at, for a CI job or a second operator who runs `openova bootstrap`
//! without the wizard. A value is read from stdin or from a prompt that does not echo; it is
//! never an argument (argv is readable by every user of the machine).

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use color_eyre::eyre::{WrapErr, bail, eyre};
use secrecy::{ExposeSecret, SecretString};

use crate::cmd::CmdResult;
use crate::domain::platform::{PlatformConfig, SecretRef, SecretSource, StateBackend};
use crate::secrets::{KeyringStore, SecretStore};

/// Largest secret accepted (a PEM key is about 3 KiB).
const MAX_SECRET_BYTES: u64 = 64 * 1024;

#[derive(Debug, clap::Subcommand)]
pub enum SecretsCmd {
    /// Store a secret in the OS keyring. The value comes from stdin (`openova secrets set
    /// openova/acme/hcloud-token < token.txt`) or, on a terminal, from a prompt that does not
    /// echo. Never pass a value as an argument.
    Set(NameArgs),
    /// List the keyring references of a platform.toml and whether each entry is present.
    List(ListArgs),
    /// Exit 0 when the entry exists (and, for an OCI API key, holds a usable PEM key); 1 when
    /// not. Never prints the value.
    Check(NameArgs),
    /// Remove an entry from the OS keyring.
    Delete(NameArgs),
}

#[derive(Debug, clap::Args)]
pub struct NameArgs {
    /// The entry: the part after `keyring:` in platform.toml (`openova/acme/hcloud-token`), or
    /// the whole reference.
    #[arg(value_name = "NAME")]
    pub name: String,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The platform configuration whose references are listed.
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
}

/// The reference path of `name` (what follows `keyring:` in platform.toml), which may be
/// written with or without `keyring:`. The keyring entry itself is
/// [`crate::secrets::entry_of_reference`] of it, the same rule every reader uses.
pub fn entry_name(name: &str) -> color_eyre::Result<String> {
    let r = if name.contains(':') {
        SecretRef(name.to_owned())
    } else {
        SecretRef::keyring(name)
    };
    match r.source() {
        Ok(SecretSource::Keyring(path)) => Ok(path.to_owned()),
        Ok(SecretSource::Env(var)) => bail!(
            "{name} is an environment variable reference: export {var} instead; `openova secrets` manages keyring: entries"
        ),
        // The message of `source` never repeats the text, which may be the secret itself.
        Err(why) => bail!("not a keyring entry name: {why}"),
    }
}

fn keyring() -> color_eyre::Result<KeyringStore> {
    KeyringStore::open().ok_or_else(|| {
        eyre!(
            "no usable OS keyring on this machine (the kernel keyring is not available to this \
             session); reference the secret as env:<VARIABLE> in platform.toml instead"
        )
    })
}

/// Reads the value: all of stdin when it is not a terminal, else a prompt without echo.
fn read_value(name: &str) -> color_eyre::Result<SecretString> {
    let stdin = std::io::stdin();
    let mut text = String::new();
    if stdin.is_terminal() {
        eprint!("Value for {name} (not shown; end with Enter): ");
        let _ = std::io::stderr().flush();
        text = read_line_no_echo()?;
        eprintln!();
    } else {
        stdin
            .lock()
            .take(MAX_SECRET_BYTES + 1)
            .read_to_string(&mut text)
            .wrap_err("reading the value from stdin")?;
        if text.len() as u64 > MAX_SECRET_BYTES {
            zeroize::Zeroize::zeroize(&mut text);
            bail!("the value on stdin is larger than {MAX_SECRET_BYTES} bytes; nothing was stored");
        }
    }
    // `echo token |` and files end with a newline that is not part of the secret.
    let trimmed_len = text.trim_end_matches(['\n', '\r']).len();
    text.truncate(trimmed_len);
    let is_pem = text.trim_start().starts_with("-----BEGIN");
    if is_pem {
        // A PEM block keeps its final newline, as every tool writes it.
        text.push('\n');
    }
    if text.trim().is_empty() {
        bail!("the value is empty; nothing was stored");
    }
    Ok(SecretString::from(text))
}

fn read_line_no_echo() -> color_eyre::Result<String> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin).wrap_err("reading the terminal settings")?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    quiet.local_flags.insert(LocalFlags::ECHONL);
    tcsetattr(&stdin, SetArg::TCSAFLUSH, &quiet).wrap_err("turning off the terminal echo")?;
    let mut line = String::new();
    let read = std::io::BufRead::read_line(&mut stdin.lock(), &mut line);
    let restored = tcsetattr(&stdin, SetArg::TCSAFLUSH, &saved);
    read.wrap_err("reading the value")?;
    restored.wrap_err("restoring the terminal echo")?;
    Ok(line)
}

pub fn run(cmd: SecretsCmd) -> CmdResult {
    match cmd {
        SecretsCmd::Set(a) => {
            let name = entry_name(&a.name)?;
            let value = read_value(&name)?;
            if let Some(e) = shape_problem(&name, &value) {
                bail!("{name}: {e}; nothing was stored");
            }
            keyring()?.put(crate::secrets::entry_of_reference(&name), &value)?;
            println!("stored {name} in the {}", keyring_kind());
            Ok(ExitCode::SUCCESS)
        }
        SecretsCmd::Check(a) => {
            let name = entry_name(&a.name)?;
            match crate::secrets::get_referenced(&keyring()?, &name)? {
                Some(v) => match shape_problem(&name, &v) {
                    None => {
                        println!("{name}: present");
                        Ok(ExitCode::SUCCESS)
                    }
                    Some(e) => {
                        println!("{name}: present but unusable: {e}");
                        Ok(ExitCode::FAILURE)
                    }
                },
                None => {
                    println!("{name}: missing (store it with `openova secrets set {name}`)");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        SecretsCmd::Delete(a) => {
            let name = entry_name(&a.name)?;
            keyring()?.delete(crate::secrets::entry_of_reference(&name))?;
            println!("deleted {name} (if it existed)");
            Ok(ExitCode::SUCCESS)
        }
        SecretsCmd::List(a) => list(&a),
    }
}

fn keyring_kind() -> &'static str {
    "OS keyring"
}

/// An OCI API key entry must hold a usable PEM key; other entries are single words.
fn shape_problem(name: &str, value: &SecretString) -> Option<String> {
    let v = value.expose_secret();
    if v.trim_start().starts_with("-----BEGIN") {
        return crate::provision::credcheck::oci::ApiKey::from_pem(value)
            .err()
            .map(|e| e.to_string());
    }
    if name.ends_with("private-key") || name.ends_with("oci-api-key") {
        // An ssh or OCI private key that is not PEM at all.
        return Some("expected a PEM private key (-----BEGIN … PRIVATE KEY-----)".into());
    }
    if v.chars().any(char::is_whitespace) {
        return Some(
            "the value contains whitespace or a line break; a token is a single word".into(),
        );
    }
    None
}

/// Every reference of a configuration, with the field it fills.
pub fn references(config: &PlatformConfig) -> Vec<(String, SecretRef)> {
    let mut out: Vec<(String, SecretRef)> = config
        .credentials
        .iter()
        .map(|(n, r)| (format!("credentials.{n}"), r.clone()))
        .collect();
    if let StateBackend::S3(s3) = &config.state_backend {
        out.push((
            "state_backend.s3.access_key_id".into(),
            s3.access_key_id.clone(),
        ));
        out.push((
            "state_backend.s3.secret_access_key".into(),
            s3.secret_access_key.clone(),
        ));
    }
    if let Some(r) = &config.ssh.private_key {
        out.push(("ssh.private_key".into(), r.clone()));
    }
    out
}

fn list(a: &ListArgs) -> CmdResult {
    let text = std::fs::read_to_string(&a.config)
        .wrap_err_with(|| format!("reading the configuration {}", a.config.display()))?;
    let config = PlatformConfig::parse(&text).map_err(|e| eyre!("{}:{e}", a.config.display()))?;
    let refs = references(&config);
    let store = if refs
        .iter()
        .any(|(_, r)| matches!(r.source(), Ok(SecretSource::Keyring(_))))
    {
        KeyringStore::open()
    } else {
        None
    };
    let mut missing = 0;
    for (field, r) in &refs {
        let status = match r.source() {
            Ok(SecretSource::Keyring(path)) => match store
                .as_ref()
                .map(|s| crate::secrets::get_referenced(s, path))
            {
                Some(Ok(Some(_))) => "present".to_owned(),
                Some(Ok(None)) => {
                    missing += 1;
                    format!("missing: openova secrets set {path}")
                }
                Some(Err(e)) => {
                    missing += 1;
                    e.to_string()
                }
                None => {
                    missing += 1;
                    "no usable OS keyring here".to_owned()
                }
            },
            Ok(SecretSource::Env(var)) => {
                if std::env::var_os(var).is_some_and(|v| !v.is_empty()) {
                    "set in the environment".to_owned()
                } else {
                    missing += 1;
                    format!("not set: export {var}")
                }
            }
            Err(why) => {
                missing += 1;
                why
            }
        };
        println!("{field:<36} {r:<44} {status}");
    }
    Ok(if missing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_with_or_without_the_prefix() {
        assert_eq!(entry_name("openova/acme/tok").unwrap(), "openova/acme/tok");
        assert_eq!(
            entry_name("keyring:openova/acme/tok").unwrap(),
            "openova/acme/tok"
        );
        let e = entry_name("env:HCLOUD_TOKEN").unwrap_err().to_string();
        assert!(e.contains("export HCLOUD_TOKEN"), "{e}");
        let e = entry_name("secret value with spaces")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secret value"), "{e}");
    }

    #[test]
    fn shapes_of_values() {
        assert!(shape_problem("openova/a/tok", &SecretString::from("abc")).is_none());
        assert!(shape_problem("openova/a/tok", &SecretString::from("a b")).is_some());
        assert!(shape_problem("openova/a/oci-api-key", &SecretString::from("abc")).is_some());
    }
}
