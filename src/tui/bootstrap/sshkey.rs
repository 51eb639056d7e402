//! Owns SSH key pair generation for break-glass access: an Ed25519 key created locally, its
//! OpenSSH public line and SHA256 fingerprint, and the private key in OpenSSH format for the
//! operator to keep. Nothing here writes anywhere.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;
use secrecy::SecretString;
use zeroize::Zeroizing;

/// A new key pair: the public line to install, and the private key (OpenSSH PEM) to hand over.
pub struct KeyPair {
    pub public_line: String,
    pub private_openssh: SecretString,
}

fn put_string(buf: &mut Vec<u8>, data: &[u8]) {
    buf.extend_from_slice(&(data.len() as u32).to_be_bytes());
    buf.extend_from_slice(data);
}

/// Generate from the thread CSPRNG.
pub fn generate(comment: &str) -> KeyPair {
    let seed = Zeroizing::new(rand::random::<[u8; 32]>());
    from_seed(&seed, comment)
}

/// Deterministic for tests: the same seed always gives the same pair.
pub fn from_seed(seed: &[u8; 32], comment: &str) -> KeyPair {
    let signing = SigningKey::from_bytes(seed);
    let public = signing.verifying_key().to_bytes();
    let mut blob = Vec::new();
    put_string(&mut blob, b"ssh-ed25519");
    put_string(&mut blob, &public);
    let public_line = format!("ssh-ed25519 {} {comment}", STANDARD.encode(&blob));

    // openssh-key-v1, unencrypted ("none" cipher, block size 8).
    let mut private = Zeroizing::new(Vec::new());
    let check = rand::random::<u32>().to_be_bytes();
    private.extend_from_slice(&check);
    private.extend_from_slice(&check);
    put_string(&mut private, b"ssh-ed25519");
    put_string(&mut private, &public);
    let mut keypair = Zeroizing::new(Vec::with_capacity(64));
    keypair.extend_from_slice(seed);
    keypair.extend_from_slice(&public);
    put_string(&mut private, &keypair);
    put_string(&mut private, comment.as_bytes());
    let mut pad = 1u8;
    while private.len() % 8 != 0 {
        private.push(pad);
        pad += 1;
    }
    let mut file = Zeroizing::new(Vec::new());
    file.extend_from_slice(b"openssh-key-v1\0");
    put_string(&mut file, b"none");
    put_string(&mut file, b"none");
    put_string(&mut file, b"");
    file.extend_from_slice(&1u32.to_be_bytes());
    put_string(&mut file, &blob);
    put_string(&mut file, &private);
    let b64 = Zeroizing::new(STANDARD.encode(&*file));
    let mut pem = String::from("-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(70) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END OPENSSH PRIVATE KEY-----\n");
    KeyPair {
        public_line,
        private_openssh: SecretString::from(pem),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::naming::parse_ssh_public_key;
    use secrecy::ExposeSecret;

    #[test]
    fn sshkey_generated_public_line_parses_and_has_fingerprint() {
        let pair = generate("openova@acme.io");
        let key = parse_ssh_public_key("ssh", &pair.public_line).unwrap();
        assert_eq!(key.key_type, "ssh-ed25519");
        assert!(key.fingerprint().starts_with("SHA256:"));
        assert_eq!(key.comment.as_deref(), Some("openova@acme.io"));
    }

    #[test]
    fn sshkey_private_key_is_openssh_format_and_matches_public() {
        let pair = from_seed(&[7u8; 32], "c");
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
    }

    #[test]
    fn sshkey_ssh_keygen_accepts_the_private_key_when_installed() {
        let Ok(out) = std::process::Command::new("ssh-keygen").arg("-?").output() else {
            return;
        };
        let _ = out;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let pair = from_seed(&[9u8; 32], "t");
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
