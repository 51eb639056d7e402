//! Bad input at every boundary, one table row per case with the message the operator must see.
//!
//! Where a command ends, the row runs the real binary and also requires a non-zero exit and
//! that the input file is left exactly as it was. Where the boundary is a library call (the
//! wizard's store, OpenTofu's stream, kubeconfig loading), the row calls it directly.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

#[path = "support/apiserver.rs"]
mod apiserver;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use openova::cluster::connect::{connect_with, load_kubeconfig_from};
use openova::provision::events::{TofuEvent, parse_line};
use openova::store::Store;

/// What a row feeds in.
enum Input {
    /// platform-minimal.toml with each `(from, to)` text replaced, through `openova config validate`.
    Config(&'static [(&'static str, &'static str)]),
    /// platform-minimal.toml cut off right after this text, as a failed copy leaves it.
    ConfigCut(&'static str),
    /// A whole platform.toml fixture through `openova config validate`.
    ConfigFixture(&'static str),
    /// A catalog fixture through `openova catalog validate`.
    CatalogFixture(&'static str),
    /// platform-minimal.toml through `openova bootstrap plan` with this value in HCLOUD_TOKEN.
    Token(&'static str),
    /// A library call; returns the text the operator would see, or `None` to skip the row.
    Call(fn(&Path) -> Option<String>),
}

struct Row {
    case: &'static str,
    input: Input,
    /// Exact text (or an exact part of a longer message) that names the thing and the rule.
    expect: &'static str,
    /// Whether a command must fail (`config validate` of a valid file succeeds).
    fails: bool,
}

const fn row(case: &'static str, input: Input, expect: &'static str) -> Row {
    Row {
        case,
        input,
        expect,
        fails: true,
    }
}

fn rows() -> Vec<Row> {
    use Input::*;
    vec![
        // Organization slug: one row per rule.
        row(
            "slug empty",
            Config(&[("slug = \"lab\"", "slug = \"\"")]),
            ":9:8: organization.slug: must not be empty (a slug has 3 to 32 characters: a-z, 0-9 and '-', starting with a letter)",
        ),
        row(
            "slug uppercase",
            Config(&[("slug = \"lab\"", "slug = \"Acme\"")]),
            ":9:8: organization.slug: \"Acme\" must be lowercase: use a-z, 0-9 and '-' (a slug has 3 to 32 characters: a-z, 0-9 and '-', starting with a letter)",
        ),
        row(
            "slug bad character",
            Config(&[("slug = \"lab\"", "slug = \"acme_fin\"")]),
            ":9:8: organization.slug: \"acme_fin\" contains '_': use a-z, 0-9 and '-' (a slug has 3 to 32 characters: a-z, 0-9 and '-', starting with a letter)",
        ),
        row(
            "slug with a space",
            Config(&[("slug = \"lab\"", "slug = \"acme fin\"")]),
            ":9:8: organization.slug: \"acme fin\" contains ' ': use a-z, 0-9 and '-' (a slug has 3 to 32 characters: a-z, 0-9 and '-', starting with a letter)",
        ),
        row(
            "slug leading digit",
            Config(&[("slug = \"lab\"", "slug = \"1acme\"")]),
            ":9:8: organization.slug: \"1acme\" must start with a letter a-z (a slug has 3 to 32 characters: a-z, 0-9 and '-', starting with a letter)",
        ),
        row(
            "slug too short",
            Config(&[("slug = \"lab\"", "slug = \"ac\"")]),
            ":9:8: organization.slug: \"ac\" is 2 characters long; a slug has 3 to 32",
        ),
        row(
            "slug too long",
            Config(&[(
                "slug = \"lab\"",
                "slug = \"abcdefghijklmnopqrstuvwxyzabcdefg\"",
            )]),
            ":9:8: organization.slug: \"abcdefghijklmnopqrstuvwxyzabcdefg\" is 33 characters long; a slug has 3 to 32",
        ),
        row(
            "slug trailing hyphen",
            Config(&[("slug = \"lab\"", "slug = \"acme-\"")]),
            ":9:8: organization.slug: \"acme-\" must not end with '-': it becomes a Kubernetes namespace, which ends with a letter or digit",
        ),
        row(
            "slug reserved",
            Config(&[("slug = \"lab\"", "slug = \"flux\"")]),
            ":9:8: organization.slug: \"flux\" is reserved for the platform itself (reserved: system, flux, crossplane, catalyst, gitea)",
        ),
        row(
            "slug kube- prefix",
            Config(&[("slug = \"lab\"", "slug = \"kube-acme\"")]),
            ":9:8: organization.slug: \"kube-acme\" is reserved: names starting with \"kube-\" belong to Kubernetes",
        ),
        row(
            "slug equal to a location code",
            Config(&[("slug = \"lab\"", "slug = \"fsn\"")]),
            ":9:8: organization.slug: \"fsn\" is reserved: it is the code of location Falkenstein, Germany (hz), and names would become ambiguous",
        ),
        // Organization name.
        row(
            "org name empty",
            Config(&[("name = \"Lab\"", "name = \"\"")]),
            ":8:8: organization.name: must not be empty: give the organization's display name",
        ),
        row(
            "org name with a control character",
            Config(&[("name = \"Lab\"", "name = \"Lab\\u0007\"")]),
            ":8:8: organization.name: must be a single line without control characters",
        ),
        row(
            "org name with a line break",
            Config(&[("name = \"Lab\"", "name = \"Lab\\nInc\"")]),
            ":8:8: organization.name: must be a single line without control characters",
        ),
        row(
            "org name longer than 100",
            Config(&[(
                "name = \"Lab\"",
                "name = \"LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL\"",
            )]),
            ":8:8: organization.name: is 101 characters long; at most 100",
        ),
        // Domain: one row per rule.
        row(
            "domain empty",
            Config(&[("domain = \"lab.example\"", "domain = \"\"")]),
            ":10:10: organization.domain: must not be empty: give a domain such as acme.com or apps.acme.com",
        ),
        row(
            "domain trailing dot",
            Config(&[("domain = \"lab.example\"", "domain = \"lab.example.\"")]),
            ":10:10: organization.domain: \"lab.example.\" must not end with '.': write \"lab.example\"",
        ),
        row(
            "domain one label",
            Config(&[("domain = \"lab.example\"", "domain = \"lab\"")]),
            ":10:10: organization.domain: \"lab\" needs at least two labels, e.g. lab.com",
        ),
        row(
            "domain uppercase label",
            Config(&[("domain = \"lab.example\"", "domain = \"Lab.example\"")]),
            ":10:10: organization.domain: \"Lab.example\": label \"Lab\" must be lowercase (a label has 1 to 63 characters: a-z, 0-9 and '-', starting and ending with a letter or digit)",
        ),
        row(
            "domain bad character",
            Config(&[("domain = \"lab.example\"", "domain = \"la_b.example\"")]),
            ":10:10: organization.domain: \"la_b.example\": label \"la_b\" contains '_' (a label has 1 to 63 characters: a-z, 0-9 and '-', starting and ending with a letter or digit)",
        ),
        row(
            "domain label starts with a hyphen",
            Config(&[("domain = \"lab.example\"", "domain = \"-lab.example\"")]),
            ":10:10: organization.domain: \"-lab.example\": label \"-lab\" must start with a letter or digit (a label has 1 to 63 characters: a-z, 0-9 and '-', starting and ending with a letter or digit)",
        ),
        row(
            "domain label ends with a hyphen",
            Config(&[("domain = \"lab.example\"", "domain = \"lab-.example\"")]),
            ":10:10: organization.domain: \"lab-.example\": label \"lab-\" must end with a letter or digit (a label has 1 to 63 characters: a-z, 0-9 and '-', starting and ending with a letter or digit)",
        ),
        row(
            "domain empty label",
            Config(&[("domain = \"lab.example\"", "domain = \"lab..example\"")]),
            ":10:10: organization.domain: \"lab..example\": empty label (a label has 1 to 63 characters: a-z, 0-9 and '-', starting and ending with a letter or digit)",
        ),
        row(
            "domain label longer than 63",
            Config(&[(
                "domain = \"lab.example\"",
                "domain = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\"",
            )]),
            "label \"aaaaaaaaaaaaaaaaaaaa\"… is 64 characters long; at most 63 are allowed",
        ),
        row(
            "domain longer than 253",
            Config(&[(
                "domain = \"lab.example\"",
                "domain = \"abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.abcdefghi.io\"",
            )]),
            ":10:10: organization.domain: is 262 characters long; a domain has at most 253",
        ),
        // Email.
        row(
            "email without @",
            Config(&[("email = \"me@lab.example\"", "email = \"me.lab.example\"")]),
            ":11:9: organization.email: \"me.lab.example\" is not an email address: expected name@domain.tld (one '@', no spaces, and a dot in the domain)",
        ),
        row(
            "email with a space",
            Config(&[("email = \"me@lab.example\"", "email = \"m e@lab.example\"")]),
            ":11:9: organization.email: \"m e@lab.example\" is not an email address: expected name@domain.tld",
        ),
        row(
            "email without a dot in the domain",
            Config(&[("email = \"me@lab.example\"", "email = \"me@lab\"")]),
            ":11:9: organization.email: \"me@lab\" is not an email address: expected name@domain.tld",
        ),
        row(
            "email empty",
            Config(&[("email = \"me@lab.example\"", "email = \"\"")]),
            ":11:9: organization.email: \"\" is not an email address: expected name@domain.tld",
        ),
        // Regions, provider, location, components, version.
        Row {
            case: "one region",
            input: Config(&[]),
            expect: "ok (1 region, cluster name hz-nbg-rtz-poc)",
            fails: false,
        },
        row(
            "three regions",
            ConfigFixture("platform-regions-three.toml"),
            ":15:3: regions: 3 regions given; a platform has 1 or 2 (remove regions[2] and later)",
        ),
        row(
            "no region",
            ConfigFixture("platform-regions-none.toml"),
            ":7:1: regions: no region given: add one [[regions]] table (or two)",
        ),
        row(
            "unknown provider",
            Config(&[("provider = \"hz\"", "provider = \"aws\"")]),
            ":4:12: provider: unknown provider \"aws\": expected one of hz, hw, oci",
        ),
        row(
            "unknown location",
            Config(&[("location = \"nbg\"", "location = \"sin\"")]),
            ":15:12: regions[0].location: unknown location \"sin\": expected one of fsn, nbg, hel, ash, hil, apse, cnn, las, mer, dxb, fra, sg, iad, syd",
        ),
        row(
            "location of another provider",
            Config(&[("location = \"nbg\"", "location = \"fra\"")]),
            ":15:12: regions[0].location: \"fra\" belongs to Oracle Cloud (OCI), but provider is hz (Hetzner Cloud), which offers fsn, nbg, hel, ash, hil",
        ),
        row(
            "unknown component",
            ConfigFixture("platform-component-unknown.toml"),
            ":5:25: components[1]: \"kserv\" is not in the catalog (see `openova catalog list`)",
        ),
        row(
            "apiVersion from a newer openova",
            Config(&[(
                "apiVersion = \"openova.io/v1alpha1\"",
                "apiVersion = \"openova.io/v1beta1\"",
            )]),
            ":2:14: apiVersion \"openova.io/v1beta1\" was written by a newer openova; this one reads openova.io/v1alpha1",
        ),
        row(
            "truncated platform.toml",
            ConfigCut("[[re"),
            ":14:5: unclosed array table, expected `]]`",
        ),
        // Catalog files.
        row(
            "catalog dependency cycle",
            CatalogFixture("catalog-cycle.toml"),
            "line 9: dependency cycle: a -> b -> c -> a",
        ),
        row(
            "catalog self dependency",
            CatalogFixture("catalog-self-dependency.toml"),
            "line 9: `cnpg` depends on itself",
        ),
        row(
            "catalog requires a missing component",
            CatalogFixture("catalog-missing-dependency.toml"),
            "which is not in the catalog",
        ),
        // Provider tokens from the environment (what `openova bootstrap` and a wizard run read).
        row(
            "token with a trailing newline",
            Token("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"),
            "credentials.hcloud_token = env:HCLOUD_TOKEN: the value contains a line break; a token is a single word without spaces, line breaks or control characters",
        ),
        row(
            "token with a space",
            Token("0123456789abcdef 0123456789abcdef0123456789abcdef0123456789abcdef"),
            "credentials.hcloud_token = env:HCLOUD_TOKEN: the value contains whitespace; a token is a single word",
        ),
        row(
            "token with a tab",
            Token("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\t"),
            "credentials.hcloud_token = env:HCLOUD_TOKEN: the value contains whitespace; a token is a single word",
        ),
        row(
            "token with an escape character",
            Token("\u{1b}[200~0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
            "credentials.hcloud_token = env:HCLOUD_TOKEN: the value contains a control character; a token is a single word",
        ),
        row(
            "token empty",
            Token(""),
            "credentials.hcloud_token = env:HCLOUD_TOKEN: the environment variable HCLOUD_TOKEN is not set",
        ),
        // The state database.
        row(
            "truncated database, runs list",
            Call(truncated_database_runs_list),
            "database disk image is malformed",
        ),
        row(
            "truncated database, wizard store",
            Call(truncated_database_store),
            "is not a readable openova database",
        ),
        // Kubeconfigs.
        row(
            "kubeconfig missing context",
            Call(kubeconfig_missing_context),
            "context `nope` is not in the kubeconfig; available: a",
        ),
        row(
            "kubeconfig bad base64",
            Call(kubeconfig_bad_base64),
            "(context `a`) is not usable: failed to load certificate authority: failed to decode base64 data",
        ),
        row(
            "kubeconfig not YAML",
            Call(kubeconfig_not_yaml),
            "is not usable: ",
        ),
        row(
            "kubeconfig unreachable server",
            Call(kubeconfig_unreachable),
            "cannot reach the API server of `a` at https://127.0.0.1:1: ",
        ),
        row(
            "kubeconfig expired credentials",
            Call(kubeconfig_expired_credentials),
            "rejected the credentials (401 Unauthorized). The token or client certificate in the kubeconfig is wrong or expired; get a fresh kubeconfig",
        ),
        // The Lifecycle Manager.
        row(
            "Component naming a chart the repository does not have",
            Call(component_unknown_chart),
            "Ready=False Failed: InstallFailed: chart pull error: chart \"no-such-chart\" version \"1.0.0\" not found in oci://ghcr.io/openova-io",
        ),
        // OpenTofu's -json stream.
        row(
            "tofu truncated line",
            Call(tofu_truncated_line),
            "unparsed: {\"@level\":\"info\",\"@message\":\"hcloud_server.cp[0]: Creating...\",\"@module\":\"tofu.u",
        ),
        row(
            "tofu unknown message type",
            Call(tofu_unknown_type),
            "unknown type cloud_bill (kept raw): The bill is 12 EUR",
        ),
    ]
}

fn fixture(kind: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind)
        .join(name)
}

fn openova(state: &Path) -> Command {
    let mut cmd = Command::cargo_bin("openova").unwrap_or_else(|e| panic!("binary: {e}"));
    cmd.env_remove("OPENOVA_CATALOG")
        .env_remove("OPENOVA_LOG")
        .env_remove("HCLOUD_TOKEN")
        .env_remove("KUBECONFIG")
        .env("OPENOVA_STATE_DIR", state)
        .env("NO_COLOR", "1");
    cmd
}

struct Outcome {
    text: String,
    /// Exit code when a command ran.
    code: Option<i32>,
    /// The input file, which must be byte-identical afterwards.
    input: Option<(PathBuf, Vec<u8>)>,
}

fn run_command(mut cmd: Command, file: PathBuf) -> Outcome {
    let before = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let out = cmd.output().unwrap_or_else(|e| panic!("run: {e}"));
    Outcome {
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        code: out.status.code(),
        input: Some((file, before)),
    }
}

fn run_row(row: &Row, dir: &Path) -> Option<Outcome> {
    let state = dir.join("state");
    let platform = |text: &str| {
        let path = dir.join("platform.toml");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write: {e}"));
        path
    };
    let minimal = || {
        std::fs::read_to_string(fixture("valid", "platform-minimal.toml"))
            .unwrap_or_else(|e| panic!("fixture: {e}"))
    };
    Some(match &row.input {
        Input::Config(edits) => {
            let mut text = minimal();
            for (from, to) in *edits {
                assert!(
                    text.contains(from),
                    "{}: {from:?} not in the fixture",
                    row.case
                );
                text = text.replacen(from, to, 1);
            }
            let path = platform(&text);
            let mut cmd = openova(&state);
            cmd.arg("config").arg("validate").arg(&path);
            run_command(cmd, path)
        }
        Input::ConfigCut(marker) => {
            let text = minimal();
            let end = text
                .find(marker)
                .map(|i| i + marker.len())
                .unwrap_or_else(|| panic!("{}: {marker:?} not in the fixture", row.case));
            let path = platform(&text[..end]);
            let mut cmd = openova(&state);
            cmd.arg("config").arg("validate").arg(&path);
            run_command(cmd, path)
        }
        Input::ConfigFixture(name) => {
            let text = std::fs::read_to_string(fixture("invalid", name))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let path = platform(&text);
            let mut cmd = openova(&state);
            cmd.arg("config").arg("validate").arg(&path);
            run_command(cmd, path)
        }
        Input::CatalogFixture(name) => {
            let text = std::fs::read_to_string(fixture("invalid", name))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let path = dir.join("catalog.toml");
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("write: {e}"));
            let mut cmd = openova(&state);
            cmd.arg("catalog").arg("validate").arg(&path);
            run_command(cmd, path)
        }
        Input::Token(token) => {
            let path = platform(&minimal());
            let mut cmd = openova(&state);
            cmd.args(["bootstrap", "plan", "--config"])
                .arg(&path)
                .env("HCLOUD_TOKEN", token);
            let outcome = run_command(cmd, path);
            // Whatever the verdict, the value itself is never repeated back.
            let word = token.trim();
            assert!(
                word.is_empty() || !outcome.text.contains(word),
                "{}: the token leaked into: {}",
                row.case,
                outcome.text
            );
            outcome
        }
        Input::Call(f) => Outcome {
            text: f(dir)?,
            code: None,
            input: None,
        },
    })
}

#[test]
fn bad_input_table_every_row_names_the_thing_and_the_rule() {
    let rows = rows();
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    for row in &rows {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let Some(outcome) = run_row(row, dir.path()) else {
            skipped.push(row.case);
            continue;
        };
        let mut problems = Vec::new();
        if !outcome.text.contains(row.expect) {
            problems.push(format!("expected {:?}", row.expect));
        }
        if outcome.text.contains("panicked") || outcome.text.contains("RUST_BACKTRACE") {
            problems.push("panicked".to_owned());
        }
        match (outcome.code, row.fails) {
            (Some(0), true) => problems.push("exit code 0 for bad input".to_owned()),
            (Some(c), false) if c != 0 => problems.push(format!("exit code {c} for good input")),
            (None, _) if outcome.input.is_some() => problems.push("killed by a signal".into()),
            _ => {}
        }
        if let Some((path, before)) = &outcome.input {
            let after = std::fs::read(path).unwrap_or_default();
            if &after != before {
                problems.push(format!("{} was changed", path.display()));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "[{}] {}\n    got: {}",
                row.case,
                problems.join("; "),
                outcome.text.trim_end().replace('\n', "\n         ")
            ));
        }
    }
    eprintln!(
        "bad-input table: {} rows, {} skipped {:?}",
        rows.len(),
        skipped.len(),
        skipped
    );
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    assert!(rows.len() >= 50, "the table shrank to {} rows", rows.len());
}

/// A database cut to its first 3000 bytes, as a full disk or a killed copy leaves it.
fn truncated_database(state: &Path) -> Vec<u8> {
    std::fs::create_dir_all(state).unwrap_or_else(|e| panic!("state dir: {e}"));
    let db = state.join("openova.db");
    {
        let store = Store::open(&db).unwrap_or_else(|e| panic!("store: {e}"));
        for i in 0..40 {
            store
                .create_draft(&format!("draft {i}"), &"x".repeat(2000), 10)
                .unwrap_or_else(|e| panic!("draft: {e}"));
        }
    }
    let bytes = std::fs::read(&db).unwrap_or_else(|e| panic!("read db: {e}"));
    assert!(bytes.len() > 3000, "database is {} bytes", bytes.len());
    let cut = bytes[..3000].to_vec();
    std::fs::write(&db, &cut).unwrap_or_else(|e| panic!("truncate: {e}"));
    for companion in ["openova.db-wal", "openova.db-shm"] {
        let _ = std::fs::remove_file(state.join(companion));
    }
    cut
}

fn truncated_database_runs_list(dir: &Path) -> Option<String> {
    let state = dir.join("state");
    let cut = truncated_database(&state);
    let out = openova(&state).args(["runs", "list"]).output().ok()?;
    assert_eq!(out.status.code(), Some(1), "runs list on a broken database");
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(text.contains("openova.db"), "names the file: {text}");
    let after = std::fs::read(state.join("openova.db")).ok()?;
    assert_eq!(after, cut, "runs list must not rewrite a broken database");
    Some(text)
}

fn truncated_database_store(dir: &Path) -> Option<String> {
    let state = dir.join("state");
    let cut = truncated_database(&state);
    let db = state.join("openova.db");
    let store = Store::open(&db).unwrap_or_else(|e| panic!("reopen: {e}"));
    let aside = store
        .set_aside()
        .unwrap_or_else(|| panic!("a truncated database must be set aside"));
    let kept = std::fs::read(&aside.moved_to).ok()?;
    assert_eq!(kept, cut, "the set-aside copy is the file as it was");
    assert!(
        aside.moved_to.starts_with(&state),
        "kept beside the original"
    );
    let fresh = store.list_drafts().ok()?;
    assert!(fresh.is_empty(), "a fresh database starts empty");
    Some(format!("{}: {}", aside.original.display(), aside.reason))
}

const KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
contexts:
- name: a
  context: {cluster: c, user: u}
users:
- name: u
  user: {token: abc123}
current-context: a
";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

/// Load `text` as a kubeconfig and build a client for `context`, as the console does; with
/// `probe`, also make the console's first call. One runtime throughout: the client's worker
/// lives on it.
fn connect_text(dir: &Path, text: &str, context: &str, probe: bool) -> Result<(), String> {
    let path = dir.join("kubeconfig");
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    let loaded = load_kubeconfig_from(Some(&path), None, None).map_err(|e| e.to_string())?;
    runtime().block_on(async {
        let conn = connect_with(&loaded, Some(context), None)
            .await
            .map_err(|e| e.to_string())?;
        if probe {
            openova::cluster::probe(&conn)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

fn kubeconfig_missing_context(dir: &Path) -> Option<String> {
    connect_text(dir, KUBECONFIG, "nope", false)
        .err()
        .or_else(|| Some("accepted without error".into()))
}

fn kubeconfig_bad_base64(dir: &Path) -> Option<String> {
    let text = KUBECONFIG.replace(
        "insecure-skip-tls-verify: true",
        "certificate-authority-data: \"not base64!!\"",
    );
    connect_text(dir, &text, "a", false)
        .err()
        .or_else(|| Some("accepted without error".into()))
}

fn kubeconfig_not_yaml(dir: &Path) -> Option<String> {
    connect_text(dir, "clusters: [\n  - name: {", "a", false)
        .err()
        .or_else(|| Some("accepted without error".into()))
}

fn kubeconfig_unreachable(dir: &Path) -> Option<String> {
    connect_text(dir, KUBECONFIG, "a", true)
        .err()
        .or_else(|| Some("accepted without error".into()))
}

fn kubeconfig_expired_credentials(dir: &Path) -> Option<String> {
    let server = apiserver::shared()?;
    let text = std::fs::read_to_string(server.kubeconfig_path()).ok()?;
    // A token the server no longer accepts is what an expired kubeconfig amounts to.
    let stale: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("token:") {
                "    token: expired-0123456789".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let err = connect_text(dir, &stale, openova::testenv::ADMIN_CONTEXT, true).err()?;
    assert!(!err.contains("expired-0123456789"), "no secret in: {err}");
    Some(err)
}

/// How the run log shows one event: its type, and its message or raw text.
fn shown(event: &TofuEvent) -> String {
    match event {
        TofuEvent::Unknown { kind, .. } => {
            format!("unknown type {kind} (kept raw): {}", event.message())
        }
        other => format!("{}: {}", other.kind(), other.message()),
    }
}

fn tofu_truncated_line(_: &Path) -> Option<String> {
    let full = r#"{"@level":"info","@message":"hcloud_server.cp[0]: Creating...","@module":"tofu.ui","@timestamp":"2026-01-01T00:00:00Z","hook":{"resource":{"addr":"hcloud_server.cp[0]"},"action":"create"},"type":"apply_start"}"#;
    let event = parse_line(&full[..80]);
    assert!(matches!(event, TofuEvent::Unparsed { .. }), "{event:?}");
    // The next, complete line still parses: one bad write does not poison the stream.
    assert_eq!(parse_line(full).kind(), "apply_start");
    Some(shown(&event))
}

fn tofu_unknown_type(_: &Path) -> Option<String> {
    let line = r#"{"@level":"info","@message":"The bill is 12 EUR","@module":"tofu.ui","@timestamp":"2026-01-01T00:00:00Z","type":"cloud_bill","bill":{"eur":12}}"#;
    let event = parse_line(line);
    match &event {
        TofuEvent::Unknown { raw, .. } => assert_eq!(raw, line, "kept whole"),
        other => panic!("expected Unknown, got {other:?}"),
    }
    assert_eq!(event.level(), "info");
    Some(shown(&event))
}

/// A Component whose chart does not exist: the manager renders the HelmRelease as asked (the
/// repository, not the catalog, is the authority on charts), helm-controller answers Ready=False,
/// and the Component must say so in its status for `kubectl describe` and the console.
fn component_unknown_chart(_: &Path) -> Option<String> {
    use openova::crd::component::{ComponentSpec, ComponentStatus};
    use openova::manager::component::{Observation, decide, now};
    use openova::manager::delivery::Readiness;
    let spec: ComponentSpec = serde_json::from_value(serde_json::json!({
        "chart": "no-such-chart",
        "version": "1.0.0",
    }))
    .ok()?;
    let obs = |readiness| Observation {
        readiness,
        now: now(),
        window: None,
        waiting_for: Vec::new(),
        ordered_by_delivery: true,
        available_upgrades: Vec::new(),
        major_flagged: false,
        endpoints: Vec::new(),
        delivery_missing: None,
        timeout: std::time::Duration::from_secs(600),
    };
    let first = decide(
        "no-such-chart",
        &spec,
        Some(1),
        &ComponentStatus::default(),
        &obs(None),
    );
    assert_eq!(first.render.as_deref(), Some("1.0.0"), "rendered as asked");
    let failed = Readiness::Failed {
        reason: "InstallFailed".into(),
        message: "chart pull error: chart \"no-such-chart\" version \"1.0.0\" not found in oci://ghcr.io/openova-io".into(),
    };
    let next = decide(
        "no-such-chart",
        &spec,
        Some(1),
        &first.status,
        &obs(Some(failed)),
    );
    let st = &next.status;
    let conditions: Vec<String> = st
        .conditions
        .iter()
        .map(|c| format!("{}={} {}: {}", c.type_, c.status, c.reason, c.message))
        .collect();
    assert_eq!(
        st.phase,
        Some(openova::crd::ComponentPhase::Failed),
        "{conditions:?}"
    );
    let event = next.event.map(|e| format!("event {}: {}", e.1, e.2));
    Some(format!(
        "{}\n{}",
        conditions.join("\n"),
        event.unwrap_or_default()
    ))
}
