//! Owns SSH key pair generation for break-glass access: an Ed25519 key created locally, its
//! OpenSSH public line and SHA256 fingerprint, and the private key in OpenSSH format for the
//! operator to keep, both encoded by the `ssh-key` crate. Nothing here writes anywhere.

use secrecy::SecretString;
use ssh_key::private::Ed25519Keypair;
use ssh_key::{LineEnding, PrivateKey};
use zeroize::Zeroizing;

/// A new key pair: the public line to install, and the private key (OpenSSH PEM) to hand over.
pub struct KeyPair {
    pub public_line: String,
    pub private_openssh: SecretString,
}

/// Generate from the thread CSPRNG.
pub fn generate(comment: &str) -> Result<KeyPair, ssh_key::Error> {
    let seed = Zeroizing::new(rand::random::<[u8; 32]>());
    from_seed(&seed, comment)
}

/// Deterministic for tests: the same seed always gives the same pair. Encoding fails only if
/// the `ssh-key` crate cannot write an Ed25519 key, which its own tests rule out; the error is
/// still passed on rather than assumed away.
pub fn from_seed(seed: &[u8; 32], comment: &str) -> Result<KeyPair, ssh_key::Error> {
    let key = PrivateKey::new(Ed25519Keypair::from_seed(seed).into(), comment)?;
    let public_line = key.public_key().to_openssh()?;
    // openssh-key-v1, unencrypted: the operator keeps it (mode 0600) like `ssh-keygen -N ''`.
    let pem = key.to_openssh(LineEnding::LF)?;
    Ok(KeyPair {
        public_line,
        private_openssh: SecretString::from(pem.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use secrecy::ExposeSecret;

    use super::*;
    use crate::domain::naming::parse_ssh_public_key;

    #[test]
    fn sshkey_generated_public_line_parses_and_has_fingerprint() {
        let pair = generate("openova@acme.io").unwrap();
        let key = parse_ssh_public_key("ssh", &pair.public_line).unwrap();
        assert_eq!(key.key_type, "ssh-ed25519");
        assert!(key.fingerprint().starts_with("SHA256:"));
        assert_eq!(key.comment.as_deref(), Some("openova@acme.io"));
    }

    #[test]
    fn sshkey_private_key_is_openssh_format_and_matches_public() {
        let pair = from_seed(&[7u8; 32], "c").unwrap();
        let pem = pair.private_openssh.expose_secret();
        assert!(pem.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
        assert!(pem.ends_with("-----END OPENSSH PRIVATE KEY-----\n"));
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let raw = STANDARD.decode(body).unwrap();
        assert!(raw.starts_with(b"openssh-key-v1\0"));
        // The embedded public blob equals the one in the public line.
        let public_b64 = pair.public_line.split(' ').nth(1).unwrap();
        let blob = STANDARD.decode(public_b64).unwrap();
        assert!(raw.windows(blob.len()).any(|w| w == blob.as_slice()));
        // It reads back as the same key with the comment, and the seed is the private half.
        let back = PrivateKey::from_openssh(pem).unwrap();
        assert_eq!(back.public_key().to_openssh().unwrap(), pair.public_line);
        assert_eq!(back.comment(), "c");
        let ed = back.key_data().ed25519().unwrap();
        assert_eq!(ed.private.to_bytes(), [7u8; 32]);
    }

    #[test]
    fn sshkey_ssh_keygen_accepts_the_private_key_when_installed() {
        let Ok(out) = std::process::Command::new("ssh-keygen").arg("-?").output() else {
            return;
        };
        let _ = out;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let pair = from_seed(&[9u8; 32], "t").unwrap();
        std::fs::write(&path, pair.private_openssh.expose_secret()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let out = std::process::Command::new("ssh-keygen")
            .arg("-y")
            .arg("-f")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let derived = String::from_utf8_lossy(&out.stdout);
        let expect: Vec<&str> = pair.public_line.split(' ').take(2).collect();
        assert!(derived.starts_with(&expect.join(" ")), "{derived}");
    }
}
