//! The node bootstrap script as OpenTofu renders it, run in a sandbox.
//!
//! The real `bootstrap.sh.tftpl` is evaluated with hcl-rs (OpenTofu's template language) in the
//! context the real `common.tf` gives it: its `bootstrap_vars` object is evaluated with `var.*`
//! set to the tfvars the Rust writer produces. The result must pass `bash -n`, and is then run
//! with `OPENOVA_ROOT` pointing at a scratch directory, stub `curl` (serving a bundle directory
//! and recording every URL), `k3s`, `systemctl`, `kubectl` and friends on PATH, and the real
//! `sha256sum`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use openova::airgap::artifacts::ArtifactTable;
use openova::domain::naming::{BuildingBlock, ClusterId, EnvType, Provider};
use openova::provision::modules;
use openova::provision::tfvars::{ClusterSpec, RunValues, TfVars};

const SSH_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtZbGB686h2flmyRufj6W7HyqwKpVzbOVieXWyl+9WT ops@acme";
const PLACEHOLDER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholder+/key";
const SOURCE: &str = "http://10.0.1.4:8080/openova";

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The installer stand-in: refuses to run unless the documented air-gap install is set up (the
/// binary executable in the bin dir, the images placed, the download skipped), and records what
/// it was given.
const INSTALLER: &str = r#"#!/bin/sh
set -eu
[ "$INSTALL_K3S_SKIP_DOWNLOAD" = true ] || { echo "download not skipped"; exit 1; }
[ -x "$INSTALL_K3S_BIN_DIR/k3s" ] || { echo "no k3s binary"; exit 1; }
ls "$OPENOVA_ROOT"/var/lib/rancher/k3s/agent/images/k3s-airgap-images-*.tar.zst >/dev/null
echo "version=$INSTALL_K3S_VERSION exec=$INSTALL_K3S_EXEC bin=$INSTALL_K3S_BIN_DIR" >>"$SANDBOX/installer.log"
"#;

/// A bundle directory with every artifact of the table, and the table pinned to it.
fn bundle(dir: &Path) -> ArtifactTable {
    let mut table = ArtifactTable::builtin().unwrap();
    for a in &mut table.artifacts {
        let body = if a.name == "k3s-install" {
            INSTALLER.as_bytes().to_vec()
        } else {
            format!("{} {} stand-in content\n", a.name, a.version).into_bytes()
        };
        let p = dir.join(&a.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &body).unwrap();
        a.sha256 = sha(&body);
    }
    table
}

fn spec(provider: Provider) -> ClusterSpec {
    ClusterSpec {
        organization: "acme".into(),
        domain: "acme.example.com".into(),
        id: ClusterId {
            provider,
            location: provider.locations().next().unwrap(),
            building_block: BuildingBlock::Rtz,
            env_type: EnvType::Prod,
        },
        region_index: 0,
        control_plane_size: provider.default_control_plane_size().into(),
        control_plane_count: 1,
        worker_size: provider.default_worker_size().into(),
        worker_count: 1,
    }
}

fn module_file(provider: Provider, rel: &str) -> String {
    let f = modules::files(provider)
        .unwrap()
        .into_iter()
        .find(|f| f.path == Path::new(rel))
        .unwrap_or_else(|| panic!("{rel} missing"));
    String::from_utf8(f.contents.to_vec()).unwrap()
}

/// The script the module writes to `/usr/local/sbin/openova-bootstrap` of a node: the real
/// template, evaluated with the real `bootstrap_vars` of common.tf over the writer's tfvars.
fn render(provider: Provider, vars: &TfVars, role: &str, first_server: bool) -> String {
    use hcl::eval::{Context, Evaluate};
    let dir = modules::module_dir_name(provider);
    let tfvars: serde_json::Value = serde_json::from_str(&vars.to_json().unwrap()).unwrap();
    let mut ctx = Context::new();
    ctx.declare_var("var", hcl::to_value(&tfvars).unwrap());
    // The provider-specific locals main.tf defines for common.tf.
    let revoked = if provider == Provider::Hetzner {
        PLACEHOLDER
    } else {
        ""
    };
    ctx.declare_var(
        "local",
        hcl::to_value(serde_json::json!({
            "provider_name": provider.label(),
            "api_internal_host": "10.0.1.5",
            "revoked_ssh_key": revoked,
        }))
        .unwrap(),
    );
    let common: hcl::Body =
        hcl::parse(&module_file(provider, &format!("{dir}/common.tf"))).unwrap();
    let expr = common
        .blocks()
        .filter(|b| b.identifier() == "locals")
        .flat_map(|b| b.body().attributes())
        .find(|a| a.key() == "bootstrap_vars")
        .expect("common.tf defines bootstrap_vars")
        .expr()
        .clone();
    let hcl::Value::Object(bootstrap_vars) = expr.evaluate(&ctx).unwrap() else {
        panic!("bootstrap_vars is not an object");
    };
    // What common.tf merges in per node.
    let mut tctx = Context::new();
    for (k, v) in bootstrap_vars {
        tctx.declare_var(k, v);
    }
    tctx.declare_var("role", role);
    tctx.declare_var("first_server", first_server);
    tctx.declare_var("wireguard", false);
    let template = hcl::Template::from_str(&module_file(
        provider,
        "shared/templates/bootstrap.sh.tftpl",
    ))
    .unwrap();
    template.evaluate(&tctx).unwrap()
}

struct Sandbox {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    root: PathBuf,
    bundle: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let root = dir.join("root");
        let bundle = dir.join("bundle");
        for d in [
            root.join("etc"),
            root.join("root/.ssh"),
            bundle.clone(),
            dir.join("bin"),
        ] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(
            root.join("etc/fstab"),
            "UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n",
        )
        .unwrap();
        std::fs::write(
            root.join("root/.ssh/authorized_keys"),
            format!("ssh-ed25519 {PLACEHOLDER} placeholder\n{SSH_KEY}\n"),
        )
        .unwrap();
        let stub = |name: &str, body: &str| {
            let p = dir.join("bin").join(name);
            std::fs::write(&p, format!("#!/bin/bash\n{body}\n")).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        // curl: -o FILE URL; serves the bundle by the URL map, records every URL, and fails
        // (as curl -f would) for anything not in the map.
        stub(
            "curl",
            r#"out=""; url=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    --connect-timeout) shift 2 ;;
    -*) shift ;;
    *) url=$1; shift ;;
  esac
done
echo "$url" >>"$SANDBOX/requests.log"
file=$(awk -F'\t' -v u="$url" '$1 == u { print $2 }' "$SANDBOX/urlmap")
[ -n "$file" ] || { echo "curl: (22) not served: $url" >&2; exit 22; }
cp "$file" "$out""#,
        );
        stub("k3s", r#"echo "k3s $*" >>"$SANDBOX/calls.log""#);
        stub("kubectl", r#"echo "kubectl $*" >>"$SANDBOX/calls.log""#);
        stub("systemctl", r#"echo "systemctl $*" >>"$SANDBOX/calls.log""#);
        for name in [
            "swapoff",
            "sysctl",
            "iptables",
            "netfilter-persistent",
            "sleep",
        ] {
            stub(name, &format!(r#"echo "{name} $*" >>"$SANDBOX/calls.log""#));
        }
        Sandbox {
            _tmp: tmp,
            dir,
            root,
            bundle,
        }
    }

    /// Serves each artifact of `table` at the URL `vars` tells the node to use.
    fn map_urls(&self, table: &ArtifactTable, vars: &TfVars) {
        let mut map = String::new();
        for a in &table.artifacts {
            let url = &vars.node_artifacts[&a.name].url;
            map.push_str(&format!("{url}\t{}\n", self.bundle.join(&a.path).display()));
        }
        std::fs::write(self.dir.join("urlmap"), map).unwrap();
    }

    fn run(&self, script: &str) -> std::process::Output {
        let path = self.dir.join("bootstrap.sh");
        std::fs::write(&path, script).unwrap();
        let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
        assert!(
            check.status.success(),
            "not valid bash: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        Command::new("bash")
            .arg(&path)
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.dir.join("bin").display()),
            )
            .env("OPENOVA_ROOT", &self.root)
            .env("SANDBOX", &self.dir)
            .output()
            .unwrap()
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.join(rel)).unwrap_or_default()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("var/log/openova-bootstrap.log")).unwrap_or_default()
    }

    fn requests(&self) -> Vec<String> {
        self.read("requests.log")
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "amd64",
    }
}

fn vars_for(provider: Provider, table: &ArtifactTable, source: Option<&str>) -> TfVars {
    let mut run = RunValues::new(SSH_KEY);
    run.artifacts = Some(table.clone());
    run.artifact_source = source.map(str::to_owned);
    TfVars::for_cluster(&spec(provider), &run).unwrap()
}

#[test]
fn airgap_first_server_fetches_only_from_the_artifact_source_and_checks_every_file() {
    let sb = Sandbox::new();
    let table = bundle(&sb.bundle);
    let vars = vars_for(Provider::Hetzner, &table, Some(SOURCE));
    sb.map_urls(&table, &vars);
    let script = render(Provider::Hetzner, &vars, "server", true);
    for banned in [
        "get.k3s.io",
        "githubusercontent",
        "helm repo",
        "get-helm",
        "github.com",
    ] {
        assert!(!script.contains(banned), "{banned} in the rendered script");
    }

    let out = sb.run(&script);
    let log = sb.log();
    assert!(
        out.status.success(),
        "{log}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        sb.root.join("var/lib/openova/bootstrap-complete").is_file(),
        "{log}"
    );

    // Zero requests outside the artifact source, and each needed file exactly once.
    let a = arch();
    let wanted = [
        format!("k3s-binary-{a}"),
        format!("k3s-images-{a}"),
        "k3s-install".into(),
        "cilium-chart".into(),
        "flux-install".into(),
    ];
    let mut expected: Vec<String> = wanted
        .iter()
        .map(|n| format!("{SOURCE}/{}", table.get(n).unwrap().path))
        .collect();
    let mut got = sb.requests();
    assert!(
        got.iter().all(|u| u.starts_with(&format!("{SOURCE}/"))),
        "{got:?}"
    );
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    // Every checksum was checked, with the real sha256sum.
    for n in &wanted {
        let sum = &table.get(n).unwrap().sha256;
        assert!(
            log.contains(&format!("verified {n} sha256 {sum}")),
            "{n}: {log}"
        );
    }

    // k3s's documented air-gap install: binary and images placed, the installer told to skip
    // the download and given the pinned release.
    let bin = sb.root.join("usr/local/bin/k3s");
    assert_eq!(
        std::fs::metadata(&bin).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert!(
        sb.root
            .join(format!(
                "var/lib/rancher/k3s/agent/images/k3s-airgap-images-{a}.tar.zst"
            ))
            .is_file()
    );
    assert_eq!(
        sb.read("installer.log").trim(),
        format!(
            "version=v1.31.4+k3s1 exec=server bin={}/usr/local/bin",
            sb.root.display()
        )
    );
    // Cilium through k3s's Helm controller from the API server's static files; Flux from its
    // verified manifest in the auto-deploy directory. No helm binary anywhere.
    let manifests = sb.root.join("var/lib/rancher/k3s/server/manifests");
    let helmchart = std::fs::read_to_string(manifests.join("openova-cilium.yaml")).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&helmchart).unwrap();
    assert_eq!(doc["kind"], "HelmChart");
    assert_eq!(doc["apiVersion"], "helm.cattle.io/v1");
    assert_eq!(
        doc["spec"]["chart"],
        "https://%{KUBERNETES_API}%/static/charts/cilium-1.16.5.tgz"
    );
    assert_eq!(doc["spec"]["bootstrap"], true);
    let values: serde_json::Value =
        serde_saphyr::from_str(doc["spec"]["valuesContent"].as_str().unwrap()).unwrap();
    assert_eq!(values["k8sServiceHost"], "10.0.1.5");
    assert_eq!(values["cluster"]["name"], vars.cluster_name);
    assert_eq!(values["ipam"]["mode"], "kubernetes");
    assert_eq!(
        std::fs::read(
            sb.root
                .join("var/lib/rancher/k3s/server/static/charts/cilium-1.16.5.tgz")
        )
        .unwrap(),
        std::fs::read(sb.bundle.join(&table.get("cilium-chart").unwrap().path)).unwrap()
    );
    assert_eq!(
        std::fs::read(manifests.join("openova-flux.yaml")).unwrap(),
        std::fs::read(sb.bundle.join(&table.get("flux-install").unwrap().path)).unwrap()
    );
    let calls = sb.read("calls.log");
    assert!(
        calls.contains("k3s kubectl -n kube-system rollout status daemonset/cilium"),
        "{calls}"
    );
    assert!(!calls.contains("helm"), "{calls}");
    // Swap off, the cloud's placeholder key revoked, the operator's key kept.
    assert!(sb.read("root/etc/fstab").contains("#/swap.img"));
    let keys = sb.read("root/root/.ssh/authorized_keys");
    assert!(
        !keys.contains(PLACEHOLDER) && keys.contains(SSH_KEY),
        "{keys}"
    );
    // The real paths stay the real paths without the sandbox override.
    assert!(script.contains("root=\"${OPENOVA_ROOT:-}\""));
    assert!(script.contains("log=\"$root/var/log/openova-bootstrap.log\""));
}

#[test]
fn wrong_checksum_stops_the_boot_with_its_log_line() {
    for broken in ["k3s-install", "cilium-chart"] {
        let sb = Sandbox::new();
        let mut table = bundle(&sb.bundle);
        let right = table.get(broken).unwrap().sha256.clone();
        let wrong = format!("{:064x}", 7);
        for a in &mut table.artifacts {
            if a.name == broken {
                a.sha256 = wrong.clone();
            }
        }
        let vars = vars_for(Provider::Oci, &table, Some(SOURCE));
        sb.map_urls(&table, &vars);
        let out = sb.run(&render(Provider::Oci, &vars, "server", true));
        assert_eq!(out.status.code(), Some(1), "{broken}");
        let log = sb.log();
        let url = format!("{SOURCE}/{}", table.get(broken).unwrap().path);
        let line = format!(
            "checksum mismatch for {broken} from {url}: expected sha256 {wrong}, got {right}; the file was deleted and nothing used it"
        );
        assert!(
            log.lines()
                .any(|l| l.starts_with("bootstrap failed ") && l.ends_with(&line)),
            "{log}"
        );
        assert!(!sb.root.join("var/lib/openova/bootstrap-complete").exists());
        assert!(
            sb.read("installer.log").is_empty(),
            "k3s was installed after a mismatch"
        );
        assert!(
            walk(&sb.root)
                .iter()
                .all(|p| !p.to_string_lossy().ends_with(".part"))
        );
        match broken {
            "k3s-install" => assert!(!sb.root.join("var/lib/openova/k3s-install.sh").exists()),
            _ => assert!(
                !sb.root
                    .join("var/lib/rancher/k3s/server/manifests/openova-cilium.yaml")
                    .exists()
            ),
        }
    }
}

#[test]
fn online_mode_fetches_the_pinned_upstream_urls_and_still_verifies() {
    let sb = Sandbox::new();
    let table = bundle(&sb.bundle);
    let vars = vars_for(Provider::HuaweiCloud, &table, None);
    assert_eq!(vars.artifact_source, "");
    sb.map_urls(&table, &vars);
    let out = sb.run(&render(Provider::HuaweiCloud, &vars, "agent", false));
    let log = sb.log();
    assert!(out.status.success(), "{log}");
    let a = arch();
    let mut expected: Vec<String> = [
        format!("k3s-binary-{a}"),
        format!("k3s-images-{a}"),
        "k3s-install".into(),
    ]
    .iter()
    .map(|n| table.get(n).unwrap().upstream.clone())
    .collect();
    let mut got = sb.requests();
    expected.sort();
    got.sort();
    assert_eq!(
        got, expected,
        "an agent fetches k3s only, from the pinned release URLs"
    );
    assert!(got.iter().all(|u| u.contains("v1.31.4%2Bk3s1")), "{got:?}");
    assert_eq!(log.matches("verified ").count(), 3, "{log}");
    assert!(
        !sb.root
            .join("var/lib/rancher/k3s/server/manifests")
            .exists()
    );
    assert!(sb.read("installer.log").contains("exec=agent"));
}

#[test]
fn rendered_tfvars_carry_every_artifact_the_script_asks_for() {
    let tmp = tempfile::tempdir().unwrap();
    let table = bundle(tmp.path());
    let vars = vars_for(Provider::Hetzner, &table, Some(SOURCE));
    let script = render(Provider::Hetzner, &vars, "server", true);
    let asked: BTreeMap<String, ()> = regex::Regex::new(r#"fetch "?([a-z0-9-]+?)(-\$arch)?"? "#)
        .unwrap()
        .captures_iter(&script)
        .map(|c| {
            (
                format!(
                    "{}{}",
                    &c[1],
                    if c.get(2).is_some() { "-amd64" } else { "" }
                ),
                (),
            )
        })
        .collect();
    assert_eq!(asked.len(), 5, "{asked:?}");
    for name in asked.keys() {
        assert!(
            script.contains(&format!(
                "artifact_sha256['{name}']='{}'",
                table.get(name).unwrap().sha256
            )),
            "{name}"
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
