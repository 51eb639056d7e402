//! `openova config` on the real binary: the example, the platform.toml corpus under
//! tests/fixtures/{valid,invalid}/platform-*.toml, and bad input.
//!
//! Each invalid fixture starts with one `# expect: LINE:COL: field: message` line per problem
//! (or `# expect: message` when the problem has no position); the command must print exactly
//! those problems, in that order.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn openova() -> Command {
    let mut cmd = Command::cargo_bin("openova").unwrap_or_else(|e| panic!("binary: {e}"));
    cmd.env_remove("OPENOVA_CATALOG")
        .env_remove("OPENOVA_LOG")
        .env("NO_COLOR", "1");
    cmd
}

fn fixture_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind)
}

/// File names of the platform.toml fixtures of one kind (other fixtures share the directory).
fn fixtures(kind: &str) -> Vec<String> {
    let dir = fixture_dir(kind);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("platform-") && n.ends_with(".toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "too few platform fixtures in {}",
        dir.display()
    );
    files
}

fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8(cmd.output().unwrap_or_else(|e| panic!("run: {e}")).stdout)
        .unwrap_or_else(|e| panic!("stdout not UTF-8: {e}"))
}

#[test]
fn config_example_piped_into_validate_is_ok() {
    let example = stdout_of(openova().args(["config", "example"]));
    assert!(
        example.contains("apiVersion = \"openova.io/v1alpha1\""),
        "{example}"
    );
    assert!(
        example.starts_with('#'),
        "the example explains itself first"
    );
    openova()
        .args(["config", "validate", "-"])
        .write_stdin(example)
        .assert()
        .success()
        .stdout("<stdin>: ok (2 regions, cluster names hz-fsn-rtz-prod, hz-hel-rtz-prod)\n")
        .stderr("");
}

#[test]
fn config_example_matches_the_example_fixture() {
    let example = stdout_of(openova().args(["config", "example"]));
    let fixture = std::fs::read_to_string(fixture_dir("valid").join("platform-example.toml"))
        .unwrap_or_else(|e| panic!("fixture: {e}"));
    assert_eq!(
        example, fixture,
        "regenerate with: openova config example > tests/fixtures/valid/platform-example.toml"
    );
}

#[test]
fn config_validate_valid_corpus_exits_zero_with_one_ok_line_per_file() {
    let files = fixtures("valid");
    let out = openova()
        .current_dir(fixture_dir("valid"))
        .args(["config", "validate"])
        .args(&files)
        .assert()
        .success()
        .stderr("");
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), files.len(), "{stdout}");
    for (line, file) in lines.iter().zip(&files) {
        assert!(line.starts_with(&format!("{file}: ok (")), "{line}");
    }
    assert!(stdout.contains("platform-oci-airgap.toml: ok (2 regions, cluster names oci-fra-rtz-prod, oci-iad-rtz-prod)"), "{stdout}");
    assert!(
        stdout.contains("platform-hetzner-ha-s3.toml: ok (1 region, cluster name hz-ash-dmz-stg)"),
        "{stdout}"
    );
}

#[test]
fn config_validate_invalid_corpus_prints_exactly_the_expected_problems() {
    let files = fixtures("invalid");
    let dir = fixture_dir("invalid");
    for file in &files {
        let text =
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let expected: Vec<String> = text
            .lines()
            .map_while(|l| l.strip_prefix("# expect: "))
            .map(|e| {
                if e.starts_with(|c: char| c.is_ascii_digit()) {
                    format!("{file}:{e}")
                } else {
                    format!("{file}: {e}")
                }
            })
            .collect();
        assert!(!expected.is_empty(), "{file} has no `# expect:` line");
        let out = openova()
            .current_dir(&dir)
            .args(["config", "validate", file])
            .assert()
            .code(1)
            .stdout("");
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        let mut lines: Vec<&str> = stderr.lines().collect();
        let summary = lines.pop().unwrap_or_default();
        assert_eq!(lines, expected, "{file}");
        let n = expected.len();
        assert_eq!(
            summary,
            format!("{file}: {n} problem{} found", if n == 1 { "" } else { "s" }),
            "{file}"
        );
    }
}

#[test]
fn config_validate_mixed_files_checks_every_file_and_exits_one() {
    openova()
        .current_dir(fixture_dir("valid"))
        .args([
            "config",
            "validate",
            "../invalid/platform-slug-uppercase.toml",
            "platform-minimal.toml",
            "../invalid/platform-email.toml",
        ])
        .assert()
        .code(1)
        .stdout("platform-minimal.toml: ok (1 region, cluster name hz-nbg-rtz-poc)\n")
        .stderr(
            predicate::str::contains(
                "../invalid/platform-slug-uppercase.toml:10:8: organization.slug:",
            )
            .and(predicate::str::contains(
                "../invalid/platform-email.toml:12:9: organization.email:",
            )),
        );
}

#[test]
fn config_validate_inline_secret_is_rejected_and_never_printed() {
    let secret = "Zk3qPq0nW0x8Yy5u1rB2vC7dE9fG4hJ6kL8mN0pQ2rS4tU6vW8xY0zA2bC4dE6fG";
    let text = std::fs::read_to_string(fixture_dir("valid").join("platform-minimal.toml"))
        .unwrap_or_else(|e| panic!("fixture: {e}"))
        .replace("\"env:HCLOUD_TOKEN\"", &format!("\"{secret}\""));
    let out = openova()
        .args(["config", "validate", "-"])
        .write_stdin(text)
        .assert()
        .code(1);
    let output = out.get_output();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        all.contains("credentials.hcloud_token: is not a secret reference"),
        "{all}"
    );
    assert!(
        !all.contains(&secret[..16]),
        "the secret leaked into the output: {all}"
    );
}

#[test]
fn config_validate_missing_file_names_it_and_exits_one() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    openova()
        .current_dir(dir.path())
        .args(["config", "validate", "nope.toml"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("nope.toml: cannot read: "));
}

#[test]
fn config_validate_binary_file_is_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("blob.toml");
    std::fs::write(&path, [0x61, 0x20, 0x3d, 0x20, 0xff, 0xfe, 0x00])
        .unwrap_or_else(|e| panic!("write: {e}"));
    openova()
        .current_dir(dir.path())
        .args(["config", "validate", "blob.toml"])
        .assert()
        .code(1)
        .stderr("blob.toml: not UTF-8 text (invalid byte at offset 4)\n");
}

#[test]
fn config_validate_without_files_is_a_usage_error() {
    openova()
        .args(["config", "validate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("FILE"));
}

#[test]
fn config_validate_catalog_flag_checks_components_against_that_catalog() {
    let catalog = fixture_dir("valid").join("catalog-minimal.toml");
    openova()
        .current_dir(fixture_dir("valid"))
        .args(["config", "validate", "platform-example.toml", "--catalog"])
        .arg(&catalog)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "components[0]: \"kserve\" is not in the catalog (see `openova catalog list`)",
        ));
}
