//! The credentials document the launcher writes to the supervisor's stdin and the supervisor
//! reads once, to EOF, before anything else. Values are wiped from memory once written or
//! parsed, and a malformed document is never quoted back.

use std::io::Read;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::runner::SecretEnv;
use super::supervisor::SupervisorError;

/// Largest secrets document accepted on the pipe; anything larger is not ours.
const MAX_SECRETS_BYTES: u64 = 256 * 1024;

#[derive(Serialize, Deserialize)]
struct SecretsDoc {
    vars: Vec<(String, String)>,
}

pub fn encode_secrets(secrets: &SecretEnv) -> String {
    let doc = SecretsDoc {
        vars: secrets
            .iter()
            .map(|(n, v)| (n.to_owned(), v.expose_secret().to_owned()))
            .collect(),
    };
    let mut out = serde_json::to_string(&doc).unwrap_or_default();
    let SecretsDoc { mut vars } = doc;
    for (_, v) in vars.iter_mut() {
        zeroize::Zeroize::zeroize(v);
    }
    // A trailing newline lets a human-readable reader stop; the supervisor reads to EOF anyway.
    out.push('\n');
    out
}

/// Read the secrets document from `input` until EOF.
pub fn read_secrets(input: impl Read) -> Result<SecretEnv, SupervisorError> {
    let mut text = String::new();
    input
        .take(MAX_SECRETS_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| SupervisorError::SecretsRead(e.to_string()))?;
    let mut env = SecretEnv::new();
    if text.trim().is_empty() {
        return Ok(env);
    }
    let parsed: Result<SecretsDoc, _> = serde_json::from_str(&text);
    zeroize::Zeroize::zeroize(&mut text);
    // The serde error would quote the input: say only that it was malformed.
    let doc = parsed.map_err(|_| SupervisorError::SecretsRead("malformed document".into()))?;
    for (name, value) in doc.vars {
        env.push(name, SecretString::from(value));
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_secrets_round_trips_encoded_document() {
        let mut env = SecretEnv::new();
        env.push("HCLOUD_TOKEN", SecretString::from("tok-abcdef"));
        let doc = encode_secrets(&env);
        let back = read_secrets(doc.as_bytes()).expect("read");
        let vars: Vec<(&str, &str)> = back.iter().map(|(n, v)| (n, v.expose_secret())).collect();
        assert_eq!(vars, vec![("HCLOUD_TOKEN", "tok-abcdef")]);
    }

    #[test]
    fn read_secrets_malformed_document_does_not_quote_it() {
        let err = read_secrets(&b"{\"vars\": [[\"X\", tok-abcdef"[..]).unwrap_err();
        assert!(!err.to_string().contains("tok-abcdef"));
    }

    #[test]
    fn read_secrets_empty_input_is_no_secrets() {
        assert!(read_secrets(&b""[..]).expect("read").is_empty());
    }
}
