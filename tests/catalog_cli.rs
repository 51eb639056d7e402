//! `openova catalog` on the real binary: the embedded catalog, catalog files, and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn openova() -> Command {
    let mut cmd = Command::cargo_bin("openova").unwrap_or_else(|e| panic!("binary: {e}"));
    cmd.env_remove("OPENOVA_CATALOG").env("NO_COLOR", "1");
    cmd
}

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("catalog-") && n.ends_with(".toml"))
        })
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no catalog fixtures in {}",
        dir.display()
    );
    files
}

#[test]
fn catalog_graph_kserve_prints_its_install_closure_as_a_tree() {
    let out = openova()
        .args(["catalog", "graph", "kserve"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("kserve v"), "{text}");
    assert!(text.contains("├── cilium"), "{text}");
    assert!(text.contains("└── knative"), "{text}");
    assert!(
        text.contains("    └── cert-manager") || text.contains("    ├── cert-manager"),
        "{text}"
    );
    // cert-manager's own subtree is drawn once; the repeat points back.
    assert!(text.contains("(see above)"), "{text}");
}

#[test]
fn catalog_graph_dot_is_graphviz_with_every_edge() {
    openova()
        .args(["catalog", "graph", "kserve", "--format", "dot"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("digraph catalog {"))
        .stdout(predicate::str::contains("\"kserve\" -> \"knative\";"))
        .stdout(predicate::str::contains("\"knative\" -> \"cert-manager\";"))
        .stdout(predicate::str::contains("\"cert-manager\" -> \"cilium\";"))
        .stdout(predicate::str::ends_with("}\n"));
}

#[test]
fn catalog_graph_without_name_reaches_every_component() {
    let out = openova().args(["catalog", "graph"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    for name in [
        "cilium",
        "grafana",
        "ferretdb",
        "kserve",
        "catalyst-platform",
        "reloader",
    ] {
        assert!(
            text.contains(&format!("{name} v")),
            "{name} missing from\n{text}"
        );
    }
    assert!(
        text.contains("ai-hub [meta-platform: AI Hub]\n├── kserve"),
        "{text}"
    );
}

#[test]
fn catalog_show_ferretdb_lists_cnpg_and_install_order() {
    openova()
        .args(["catalog", "show", "ferretdb"])
        .assert()
        .success()
        .stdout(predicate::str::contains("FerretDB (ferretdb)"))
        .stdout(predicate::str::contains("Requires:     cnpg"))
        .stdout(predicate::str::contains("-> cnpg -> ferretdb"))
        .stdout(predicate::str::contains("Category:     a-la-carte"));
}

#[test]
fn catalog_show_cnpg_lists_dependents_versions_and_changelog() {
    openova()
        .args(["catalog", "show", "cnpg"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Requires:     flux, external-secrets",
        ))
        .stdout(
            predicate::str::contains("Required by:  ").and(predicate::str::contains("ferretdb")),
        )
        .stdout(predicate::str::contains("v1.24.0"))
        .stdout(predicate::str::contains("    - "));
}

#[test]
fn catalog_show_meta_platform_by_alias_lists_members_and_optionals() {
    openova()
        .args(["catalog", "show", "cortex"])
        .assert()
        .success()
        .stdout(predicate::str::contains("AI Hub (ai-hub)"))
        .stdout(predicate::str::contains(
            "Requires:     kserve, knative, vllm, milvus, cnpg",
        ))
        .stdout(predicate::str::contains(
            "neo4j                (knowledge graph)",
        ))
        .stdout(predicate::str::contains("nemo-guardrails      (AI safety)"));
}

#[test]
fn catalog_show_unknown_name_suggests_and_exits_1() {
    openova()
        .args(["catalog", "show", "grafna"])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "no component or meta-platform named `grafna` in the catalog; did you mean `grafana`?",
        ));
}

#[test]
fn catalog_list_category_shows_only_that_category() {
    let out = openova()
        .args(["catalog", "list", "--category", "a-la-carte"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.starts_with("NAME"), "{text}");
    assert!(
        text.contains("ferretdb") && text.contains("a-la-carte"),
        "{text}"
    );
    assert!(
        !text.contains("mandatory") && !text.contains("meta-platform"),
        "{text}"
    );
    openova()
        .args(["catalog", "list", "--category", "meta-platform"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ai-hub"))
        .stdout(predicate::str::contains("open-banking"));
}

#[test]
fn catalog_list_bad_category_is_a_usage_error() {
    openova()
        .args(["catalog", "list", "--category", "optional"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("a-la-carte"));
}

#[test]
fn catalog_invalid_fixtures_report_file_line_and_rule() {
    for file in fixtures("invalid") {
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} lacks a `# expect:` first line", file.display()));
        let wanted = format!("{}: {expect}", file.display());
        for args in [
            vec![
                "catalog".to_string(),
                "validate".to_string(),
                file.display().to_string(),
            ],
            vec![
                "catalog".to_string(),
                "list".to_string(),
                "--catalog".to_string(),
                file.display().to_string(),
            ],
        ] {
            let out = openova().args(&args).assert().code(1);
            let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
            assert!(
                stderr.contains(&wanted),
                "{args:?}\nwanted: {wanted}\nstderr: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
    }
}

#[test]
fn catalog_valid_fixtures_load_through_catalog_flag() {
    for file in fixtures("valid") {
        openova()
            .args(["catalog", "validate"])
            .arg(&file)
            .assert()
            .success()
            .stdout(predicate::str::contains("valid catalog"));
    }
    let minimal =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid/catalog-minimal.toml");
    openova()
        .args(["catalog", "show", "ferretdb", "--catalog"])
        .arg(&minimal)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Chart:        oci://registry.example.internal/openova/bp-ferretdb:1.0.0",
        ))
        .stdout(predicate::str::contains(
            "Installs:     cilium -> cnpg -> ferretdb",
        ));
}

#[test]
fn catalog_missing_file_names_the_path() {
    openova()
        .args(["catalog", "list", "--catalog", "does-not-exist.toml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot read catalog file does-not-exist.toml",
        ));
}
