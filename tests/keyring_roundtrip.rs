//! The wizard's export applied headless through the real binary: a platform.toml whose
//! credentials are `keyring:` references, each entry filed with `openova secrets set` (the value
//! on stdin), then `openova bootstrap plan --config` with the stand-in `tofu` reads every secret
//! back from the OS keyring.
//!
//! It needs a working kernel keyring in this process. Where there is none the test says why and
//! passes without running; with `OPENOVA_REQUIRE_KEYRING=1` a missing keyring fails it instead.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test harness: a panic is a failure report

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use openova::domain::platform::{PlatformConfig, StateBackend};
use openova::tui::bootstrap::export::platform_toml;
use openova::tui::bootstrap::model::{
    Form, Model, SecretStorage, SshMode, StateBackend as Backend,
};

const OPENOVA: &str = env!("CARGO_BIN_EXE_openova");
const FAKE_TOFU: &str = env!("CARGO_BIN_EXE_openova-fake-tofu");
const PUBKEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtZbGB686h2flmyRufj6W7HyqwKpVzbOVieXWyl+9WT ops@acme";

/// `openova` with its own state directory, the OS keyring on, and no credential in the
/// environment: whatever it finds, it found in the keyring.
fn openova(state: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(OPENOVA);
    c.args(args)
        .env("OPENOVA_STATE_DIR", state)
        .env_remove("OPENOVA_KEYRING")
        .env_remove("OPENOVA_LOG")
        .env_remove("FAKE_TOFU_SCENARIO")
        .env_remove("HCLOUD_TOKEN")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .stdin(Stdio::null());
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `openova secrets set NAME` with `value` on stdin.
fn secrets_set(state: &Path, name: &str, value: &str) -> Output {
    let mut child = openova(state, &["secrets", "set", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn openova secrets set");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(value.as_bytes())
        .expect("write the value");
    child.wait_with_output().expect("wait")
}

/// Deletes the entries it holds when the test ends, passed or not.
struct Entries<'a> {
    state: &'a Path,
    names: Vec<String>,
}

impl Drop for Entries<'_> {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = openova(self.state, &["secrets", "delete", name]).output();
        }
    }
}

/// Why `openova secrets` cannot keep an entry here, if it cannot: a probe entry set, checked
/// and deleted through the binary.
fn keyring_unavailable(state: &Path, probe: &str) -> Option<String> {
    let _cleanup = Entries {
        state,
        names: vec![probe.to_owned()],
    };
    let set = secrets_set(state, probe, "probe-value");
    if !set.status.success() {
        return Some(text(&set.stderr).trim().to_owned());
    }
    let check = openova(state, &["secrets", "check", probe])
        .output()
        .expect("spawn openova secrets check");
    (!check.status.success()).then(|| {
        format!(
            "an entry set by one process is not found by the next: {}",
            text(&check.stdout).trim()
        )
    })
}

/// The wizard's model of a Hetzner platform with S3 state whose secrets are kept in the keyring
/// under `prefix` (the drafts database's instance id).
fn wizard_model(prefix: &str) -> Model {
    let form = Form {
        org_name: "Acme Financial".into(),
        org_slug: "acme".into(),
        domain: "acme.io".into(),
        email: "platform@acme.io".into(),
        ssh_mode: SshMode::Paste,
        ssh_public_key: PUBKEY.into(),
        secret_storage: SecretStorage::Keyring,
        state_backend: Backend::S3,
        s3_endpoint: "https://fsn1.your-objectstorage.com".into(),
        s3_bucket: "acme-tofu-state".into(),
        s3_region: "fsn1".into(),
        api_allowed_cidrs: "198.51.100.7/32".into(),
        ..Form::default()
    };
    let mut m = Model::new(form, Some(7), 1_790_000_000);
    m.keyring_prefix = prefix.into();
    m.keyring_unavailable = false;
    m
}

/// The `keyring:` reference paths of a configuration, with the secret each one stands for.
fn references(config: &PlatformConfig) -> Vec<String> {
    let mut refs: Vec<String> = config.credentials.values().map(|r| r.to_string()).collect();
    if let StateBackend::S3(s3) = &config.state_backend {
        refs.extend([&s3.access_key_id, &s3.secret_access_key].map(|r| r.to_string()));
    }
    refs.into_iter()
        .filter_map(|r| r.strip_prefix("keyring:").map(str::to_owned))
        .collect()
}

#[test]
fn wizard_export_with_keyring_references_plans_headless_after_secrets_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    // Entries live in the user's keyring, beyond this test's directory: names of their own.
    let unique = format!(
        "roundtrip-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
    );
    if let Some(why) = keyring_unavailable(&state, &format!("openova/{unique}/probe")) {
        assert!(
            std::env::var("OPENOVA_REQUIRE_KEYRING").as_deref() != Ok("1"),
            "OPENOVA_REQUIRE_KEYRING=1 but the OS keyring does not work here: {why}"
        );
        eprintln!(
            "skipped: no working OS keyring in this process ({why}); \
             OPENOVA_REQUIRE_KEYRING=1 makes this a failure"
        );
        return;
    }

    let toml = platform_toml(&wizard_model(&unique)).expect("the wizard exports");
    let config_path = dir.path().join("platform.toml");
    std::fs::write(&config_path, &toml).expect("write platform.toml");
    let refs = references(&PlatformConfig::parse(&toml).expect("the export parses"));
    assert_eq!(
        refs.len(),
        3,
        "token and both S3 keys by reference:\n{toml}"
    );
    let mut entries = Entries {
        state: &state,
        names: Vec::new(),
    };
    let planted: Vec<(String, String)> = refs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.clone(), format!("PLANTED-{unique}-{i}")))
        .collect();
    for (name, value) in &planted {
        entries.names.push(name.clone());
        let out = secrets_set(&state, name, value);
        assert!(
            out.status.success(),
            "secrets set {name}: {}",
            text(&out.stderr)
        );
    }
    let listed = openova(
        &state,
        &[
            "secrets",
            "list",
            "--config",
            config_path.to_str().expect("utf-8"),
        ],
    )
    .output()
    .expect("spawn openova secrets list");
    assert!(listed.status.success(), "{}", text(&listed.stdout));

    let out = openova(
        &state,
        &[
            "bootstrap",
            "plan",
            "--config",
            config_path.to_str().expect("utf-8"),
            "--tofu",
            FAKE_TOFU,
        ],
    )
    // The stand-in requires the token and echoes it in a diagnostic; openova masks every
    // value it resolved, so the mask proves the value tofu got is the one in the keyring.
    .env("FAKE_TOFU_SECRET_VAR", "TF_VAR_hcloud_token")
    .env("FAKE_TOFU_ECHO_SECRET", "1")
    .output()
    .expect("spawn openova bootstrap plan");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("[redacted TF_VAR_hcloud_token]"),
        "{stdout}"
    );
    for (_, value) in &planted {
        assert!(
            !stdout.contains(value) && !stderr.contains(value),
            "a secret was printed"
        );
    }
}
