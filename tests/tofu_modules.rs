//! The embedded OpenTofu modules against the Rust side of their variable contract: every file
//! parses, the tfvars writer and the modules agree on names, secrets only travel as sensitive
//! variables through the environment, and every module hands back a sensitive kubeconfig.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;

use hcl::{Block, Body, Expression};
use secrecy::ExposeSecret;

use openova::airgap::artifacts::ArtifactTable;
use openova::domain::naming::{BuildingBlock, ClusterId, EnvType, Location, Provider};
use openova::provision::modules;
use openova::provision::tfvars::{
    self, ClusterSpec, RunValues, S3Backend, StateBackend, TfVars, WireguardKeyPair,
};

const SSH_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtZbGB686h2flmyRufj6W7HyqwKpVzbOVieXWyl+9WT ops@acme";

/// Files that make up the shared contract: they exist once, in `tofu-modules/common/`, and are
/// written into every provider's root module.
const COMMON_FILES: &[&str] = &["variables.tf", "common.tf", "pki.tf", "outputs.tf"];

fn location_of(provider: Provider, index: usize) -> Location {
    provider
        .locations()
        .nth(index)
        .expect("provider has locations")
}

fn spec(provider: Provider, index: u8) -> ClusterSpec {
    ClusterSpec {
        organization: "acme".into(),
        domain: "acme.example.com".into(),
        id: ClusterId {
            provider,
            location: location_of(provider, usize::from(index)),
            building_block: BuildingBlock::Rtz,
            env_type: EnvType::Prod,
        },
        region_index: index,
        control_plane_size: provider.default_control_plane_size().into(),
        control_plane_count: 3,
        worker_size: provider.default_worker_size().into(),
        worker_count: 3,
    }
}

/// The richest variables the writer can produce: second region, mesh, ssh allowed, OCI
/// compartment. Returns the JSON object as written.
fn full_tfvars(
    provider: Provider,
    peer_public_key: &str,
) -> serde_json::Map<String, serde_json::Value> {
    let mut run = RunValues::new(SSH_KEY);
    run.ssh_allowed_cidrs = vec!["198.51.100.0/24".into()];
    run.oci_compartment_ocid = Some("ocid1.compartment.oc1..aaaa".into());
    run.registry_mirror = Some("https://registry.acme.internal:5000".into());
    run.wireguard = Some(
        tfvars::wireguard_mesh(1, "peer", peer_public_key, Some("203.0.113.9:51820")).unwrap(),
    );
    let vars = TfVars::for_cluster(&spec(provider, 1), &run).unwrap();
    match serde_json::from_str(&vars.to_json().unwrap()).unwrap() {
        serde_json::Value::Object(map) => map,
        other => panic!("tfvars is not a JSON object: {other}"),
    }
}

fn module_text(provider: Provider, file: &str) -> String {
    let path = Path::new(modules::module_dir_name(provider)).join(file);
    let f = modules::files(provider)
        .unwrap()
        .into_iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{} missing", path.display()));
    String::from_utf8(f.contents.to_vec()).unwrap()
}

/// All `.tf` files of a module parsed into one list of top-level blocks.
fn module_blocks(provider: Provider) -> Vec<Block> {
    let mut blocks = Vec::new();
    for f in modules::tf_files(provider).unwrap() {
        let text = std::str::from_utf8(f.contents).unwrap();
        let body: Body =
            hcl::parse(text).unwrap_or_else(|e| panic!("{} does not parse: {e}", f.path.display()));
        blocks.extend(body.into_blocks());
    }
    blocks
}

fn blocks_of<'a>(blocks: &'a [Block], kind: &'a str) -> impl Iterator<Item = &'a Block> {
    blocks.iter().filter(move |b| b.identifier() == kind)
}

fn label(b: &Block) -> &str {
    b.labels().first().map(|l| l.as_str()).unwrap_or_default()
}

fn attr<'a>(b: &'a Block, key: &str) -> Option<&'a Expression> {
    b.body()
        .attributes()
        .find(|a| a.key() == key)
        .map(|a| a.expr())
}

fn variables(provider: Provider) -> BTreeMap<String, Block> {
    blocks_of(&module_blocks(provider), "variable")
        .map(|b| (label(b).to_owned(), b.clone()))
        .collect()
}

fn is_sensitive(b: &Block) -> bool {
    matches!(attr(b, "sensitive"), Some(Expression::Bool(true)))
}

/// The variable a `TF_VAR_x` environment name sets.
fn env_variable(name: &str) -> &str {
    name.strip_prefix("TF_VAR_")
        .unwrap_or_else(|| panic!("{name} is not a TF_VAR_ variable"))
}

#[test]
fn module_files_every_tf_and_template_parses() {
    for p in Provider::ALL {
        let tf = modules::tf_files(*p).unwrap();
        assert!(tf.len() >= 6, "{p}: only {} .tf files", tf.len());
        for f in modules::files(*p).unwrap() {
            let text = std::str::from_utf8(f.contents).unwrap();
            match f.path.extension().and_then(|e| e.to_str()) {
                Some("tf") => {
                    hcl::parse(text).unwrap_or_else(|e| panic!("{}: {e}", f.path.display()));
                }
                Some("tftpl") => {
                    hcl::Template::from_str(text)
                        .unwrap_or_else(|e| panic!("{}: {e}", f.path.display()));
                }
                _ => {}
            }
        }
    }
}

#[test]
fn module_common_files_exist_once_and_no_provider_carries_its_own_copy() {
    for p in Provider::ALL {
        let dir = modules::module_dir_name(*p);
        let files = modules::files(*p).unwrap();
        for name in COMMON_FILES {
            let placed: Vec<_> = files
                .iter()
                .filter(|f| f.path == Path::new(dir).join(name))
                .collect();
            assert_eq!(placed.len(), 1, "{p}: {dir}/{name} in the workspace");
            assert_eq!(
                placed[0].source,
                Path::new(modules::COMMON_DIR).join(name),
                "{p}: {dir}/{name} must come from {}/, not from a copy of the provider's own",
                modules::COMMON_DIR
            );
        }
        for f in files.iter().filter(|f| f.source.starts_with(dir)) {
            let name = f.path.file_name().unwrap().to_str().unwrap();
            assert!(
                !COMMON_FILES.contains(&name),
                "{p}: {} is a copy of a common file",
                f.source.display()
            );
        }
        let from_common: BTreeSet<&str> = files
            .iter()
            .filter(|f| f.source.starts_with(modules::COMMON_DIR))
            .map(|f| f.path.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(
            from_common,
            COMMON_FILES.iter().copied().collect(),
            "{p}: common/ holds files this test does not know"
        );
    }
}

/// The tree `extract` writes is what the other tests read through `modules::files`, and each
/// provider's root module on disk declares every variable the tfvars writer emits.
#[test]
fn extracted_workspace_of_every_provider_holds_the_full_variable_contract() {
    let key = WireguardKeyPair::generate();
    for p in Provider::ALL {
        let tmp = tempfile::tempdir().unwrap();
        let root = modules::extract(*p, tmp.path()).unwrap();
        for f in modules::files(*p).unwrap() {
            assert_eq!(
                std::fs::read(tmp.path().join(&f.path)).unwrap(),
                f.contents,
                "{p}: {} on disk",
                f.path.display()
            );
        }
        let mut declared = BTreeSet::new();
        for entry in std::fs::read_dir(&root).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "tf") {
                let text = std::fs::read_to_string(&path).unwrap();
                let body: Body = hcl::parse(&text)
                    .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
                declared.extend(
                    blocks_of(&body.into_blocks().collect::<Vec<_>>(), "variable")
                        .map(|b| label(b).to_owned()),
                );
            }
        }
        for name in COMMON_FILES {
            assert!(root.join(name).is_file(), "{p}: {name} not extracted");
        }
        assert_eq!(
            declared,
            variables(*p).into_keys().collect::<BTreeSet<_>>(),
            "{p}: the extracted root module and the embedded files disagree"
        );
        for name in full_tfvars(*p, &key.public_key).keys() {
            assert!(
                declared.contains(name),
                "{p}: the extracted root module does not declare {name}"
            );
        }
        for env in tfvars::secret_env_names(*p) {
            if let Some(name) = env.strip_prefix("TF_VAR_") {
                assert!(declared.contains(name), "{p}: no variable for {env}");
            }
        }
    }
}

#[test]
fn module_contract_variables_have_same_names_in_every_module_apart_from_credentials() {
    let without_credentials = |p: Provider| -> BTreeSet<String> {
        let creds: BTreeSet<&str> = tfvars::credential_env_names(p)
            .iter()
            .map(|n| env_variable(n))
            .collect();
        variables(p)
            .into_keys()
            .filter(|v| !creds.contains(v.as_str()))
            .collect()
    };
    let hetzner = without_credentials(Provider::Hetzner);
    for name in [
        "location",
        "control_plane_size",
        "worker_size",
        "cluster_name",
        "wireguard",
    ] {
        assert!(hetzner.contains(name), "hetzner lacks {name}");
    }
    for p in Provider::ALL {
        let vars = without_credentials(*p);
        // Provider-only tuning knobs are allowed as long as they have defaults, so the one
        // tfvars shape still satisfies every module.
        let own = variables(*p);
        let reference = variables(Provider::Hetzner);
        for extra in vars.difference(&hetzner) {
            assert!(
                attr(&own[extra], "default").is_some(),
                "{p}: provider-only variable {extra} needs a default"
            );
        }
        for missing in hetzner.difference(&vars) {
            assert!(
                attr(&reference[missing], "default").is_some(),
                "{p} lacks {missing}, which hetzner requires"
            );
        }
        for shared in ["location", "control_plane_size", "worker_size"] {
            assert!(
                vars.contains(shared),
                "{p} lacks the contract variable {shared}"
            );
        }
    }
}

#[test]
fn contract_every_emitted_variable_exists_in_the_module() {
    let key = WireguardKeyPair::generate();
    for p in Provider::ALL {
        let vars = variables(*p);
        let emitted = full_tfvars(*p, &key.public_key);
        for name in emitted.keys() {
            if name == "oci_compartment_ocid" && *p != Provider::Oci {
                panic!("{p}: the writer emitted OCI's compartment for another provider");
            }
            assert!(
                vars.contains_key(name),
                "{p}: tfvars emits {name} but the module declares no such variable"
            );
        }
        let minimal = TfVars::for_cluster(&spec(*p, 0), &RunValues::new(SSH_KEY)).unwrap();
        let minimal: serde_json::Value = serde_json::from_str(&minimal.to_json().unwrap()).unwrap();
        for name in minimal.as_object().unwrap().keys() {
            assert!(vars.contains_key(name), "{p}: unknown variable {name}");
        }
    }
}

#[test]
fn contract_every_required_variable_is_emitted_or_passed_as_secret_env() {
    for p in Provider::ALL {
        let minimal = TfVars::for_cluster(&spec(*p, 0), &RunValues::new(SSH_KEY)).unwrap();
        let minimal: serde_json::Value = serde_json::from_str(&minimal.to_json().unwrap()).unwrap();
        let emitted: BTreeSet<&str> = minimal
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let from_env: BTreeSet<&str> = tfvars::secret_env_names(*p)
            .into_iter()
            .filter_map(|n| n.strip_prefix("TF_VAR_"))
            .collect();
        for (name, block) in variables(*p) {
            if attr(&block, "default").is_none() {
                assert!(
                    emitted.contains(name.as_str()) || from_env.contains(name.as_str()),
                    "{p}: required variable {name} is neither in tfvars nor in a secret environment variable"
                );
            }
        }
    }
}

#[test]
fn contract_secret_variables_are_sensitive_and_every_credential_has_one() {
    for p in Provider::ALL {
        let vars = variables(*p);
        for env in tfvars::secret_env_names(*p) {
            let Some(name) = env.strip_prefix("TF_VAR_") else {
                // The backend keys and the state encryption are read by OpenTofu itself, not
                // by the module.
                assert!(
                    tfvars::BACKEND_SECRET_ENV.contains(&env) || env == tfvars::ENCRYPTION_ENV,
                    "{p}: {env}"
                );
                continue;
            };
            let block = vars
                .get(name)
                .unwrap_or_else(|| panic!("{p}: {env} sets no variable of the module"));
            assert!(
                is_sensitive(block),
                "{p}: variable {name} carries a secret but is not sensitive"
            );
        }
        // The reverse: nothing that looks like a credential is a plain tfvars variable.
        for (name, block) in &vars {
            let secretish = ["token", "secret", "private_key", "password"]
                .iter()
                .any(|w| name.contains(w));
            if secretish {
                assert!(
                    is_sensitive(block),
                    "{p}: {name} looks secret but is not sensitive"
                );
                assert!(
                    tfvars::secret_env_names(*p).contains(&format!("TF_VAR_{name}").as_str()),
                    "{p}: {name} is sensitive but the runner would not pass it from the environment"
                );
            }
        }
    }
}

#[test]
fn module_outputs_include_sensitive_kubeconfig_and_mesh_endpoint() {
    for p in Provider::ALL {
        let blocks = module_blocks(*p);
        let outputs: BTreeMap<&str, &Block> = blocks_of(&blocks, "output")
            .map(|b| (label(b), b))
            .collect();
        let kubeconfig = outputs
            .get("kubeconfig")
            .unwrap_or_else(|| panic!("{p}: no kubeconfig output"));
        assert!(
            is_sensitive(kubeconfig),
            "{p}: kubeconfig output is not sensitive"
        );
        for name in [
            "api_endpoint",
            "load_balancer_ip",
            "wireguard_endpoint",
            "cluster_name",
        ] {
            assert!(outputs.contains_key(name), "{p}: no {name} output");
        }
        for (name, b) in &outputs {
            if *name != "kubeconfig" && *name != "server_ca_certificate" {
                let text = format!("{:?}", attr(b, "value"));
                assert!(
                    !text.contains("private_key") && !text.contains("k3s_token"),
                    "{p}: output {name} exposes key material without being sensitive"
                );
            }
        }
    }
}

#[test]
fn module_pki_admin_certificate_is_system_masters_signed_by_client_ca() {
    let pki = module_text(Provider::Hetzner, "pki.tf");
    let body = hcl::parse(&pki).unwrap();
    let blocks: Vec<Block> = body.into_blocks().collect();
    let resources: BTreeMap<String, &Block> = blocks_of(&blocks, "resource")
        .map(|b| {
            let l: Vec<&str> = b.labels().iter().map(|l| l.as_str()).collect();
            (l.join("."), b)
        })
        .collect();
    let csr = resources["tls_cert_request.admin"];
    let subject = csr
        .body()
        .blocks()
        .find(|b| b.identifier() == "subject")
        .unwrap();
    let org = subject
        .body()
        .attributes()
        .find(|a| a.key() == "organization")
        .unwrap();
    assert_eq!(org.expr(), &Expression::String("system:masters".into()));
    let signed = format!(
        "{:?}",
        attr(resources["tls_locally_signed_cert.admin"], "ca_cert_pem")
    );
    assert!(
        signed.contains("client"),
        "admin cert must be signed by the client CA: {signed}"
    );
    assert!(resources.contains_key("random_password.k3s_token"));
    for ca in ["server", "client", "request-header"] {
        assert!(
            pki.contains(&format!("\"{ca}\"")),
            "k3s CA {ca} not generated"
        );
    }
}

#[test]
fn module_every_template_reference_names_an_existing_template() {
    let re = regex::Regex::new(r#"\$\{local\.templates\}/([A-Za-z0-9._-]+)"#).unwrap();
    for p in Provider::ALL {
        let files = modules::files(*p).unwrap();
        let present: BTreeSet<String> = files
            .iter()
            .filter(|f| f.path.starts_with("shared/templates"))
            .filter_map(|f| f.path.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        let mut seen = 0;
        for f in files
            .iter()
            .filter(|f| f.path.extension().is_some_and(|e| e == "tf"))
        {
            let text = std::str::from_utf8(f.contents).unwrap();
            for cap in re.captures_iter(text) {
                seen += 1;
                assert!(
                    present.contains(&cap[1]),
                    "{p}: {} uses missing template {}",
                    f.path.display(),
                    &cap[1]
                );
            }
        }
        assert!(seen >= 3, "{p}: cloud-init templates are not rendered");
    }
}

#[test]
fn module_main_defines_the_locals_common_tf_reads() {
    for p in Provider::ALL {
        let main = hcl::parse(&module_text(*p, "main.tf")).unwrap();
        let defined: BTreeSet<String> = main
            .blocks()
            .filter(|b| b.identifier() == "locals")
            .flat_map(|b| b.body().attributes().map(|a| a.key().to_owned()))
            .collect();
        for needed in [
            "provider_name",
            "api_public_host",
            "api_internal_host",
            "control_plane_public_ips",
            "revoked_ssh_key",
        ] {
            assert!(
                defined.contains(needed),
                "{p}: main.tf does not define local.{needed}"
            );
        }
        let versions = module_text(*p, "versions.tf");
        assert!(
            versions.contains("required_version = \">= 1.10.0\""),
            "{p}: required_version"
        );
        assert!(versions.contains("hashicorp/tls") && versions.contains("hashicorp/random"));
    }
}

#[test]
fn module_contract_variables_are_validated_in_hcl() {
    // Free-form inputs without a rule: the image names, which the cloud validates itself.
    let unvalidated: BTreeSet<&str> = ["image", "image_name"].into();
    for p in Provider::ALL {
        for (name, block) in variables(*p) {
            let has_rule = block
                .body()
                .blocks()
                .any(|b| b.identifier() == "validation");
            assert!(
                has_rule || unvalidated.contains(name.as_str()),
                "{p}: variable {name} has no validation block"
            );
        }
    }
}

/// Everything a run writes into its workspace, with a provider token and a WireGuard private
/// key alive in the same process: neither may reach a file.
#[test]
fn workspace_planted_secrets_never_reach_any_file() {
    let token = "PLANTEDhcloudTOKEN0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
    assert_eq!(token.len(), 64);
    for p in Provider::ALL {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("runs").join("r-1");
        let own = WireguardKeyPair::generate();
        let peer = WireguardKeyPair::generate();
        let root = modules::extract(*p, &ws).unwrap();

        let mut run = RunValues::new(SSH_KEY);
        run.wireguard = Some(tfvars::wireguard_mesh(0, "peer", &peer.public_key, None).unwrap());
        let vars = TfVars::for_cluster(&spec(*p, 0), &run).unwrap();
        tfvars::write_tfvars(&root.join(tfvars::TFVARS_FILE), &vars).unwrap();
        let backend = StateBackend::S3(S3Backend {
            bucket: "prod-tf-state".into(),
            key: format!("openova/{}.tfstate", vars.cluster_name),
            region: "eu-central".into(),
            endpoint: Some("https://fsn1.your-objectstorage.com".into()),
            lockfile: true,
        });
        tfvars::write_backend(&root, &backend).unwrap();
        tfvars::write_cli_config(&ws.join("tofu.rc"), Path::new("/srv/mirror")).unwrap();

        let planted = [
            token,
            own.private_key.expose_secret(),
            peer.private_key.expose_secret(),
        ];
        let mut files = 0;
        for entry in walk(&ws) {
            let bytes = std::fs::read(&entry).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for secret in planted {
                assert!(
                    !text.contains(secret),
                    "{p}: a secret reached {}",
                    entry.display()
                );
            }
            files += 1;
        }
        assert!(files >= 10, "{p}: only {files} files written");
        let written = std::fs::read_to_string(root.join(tfvars::TFVARS_FILE)).unwrap();
        assert!(
            written.contains(&peer.public_key),
            "{p}: the peer's public key must be in tfvars"
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The module's artifact table with every sha256 filled (a stand-in value: these tests never
/// download), so that the module's pin check passes.
fn pinned_table() -> ArtifactTable {
    let mut t = ArtifactTable::builtin().unwrap();
    for (i, a) in t.artifacts.iter_mut().enumerate() {
        a.sha256 = format!("{i:064x}");
    }
    t
}

/// An OpenTofu (or Terraform) binary on PATH, for the rendering test; the other tests need none.
fn iac_binary() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["tofu", "terraform"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// A module whose resources are replaced by fixed values, so the real variables.tf, common.tf and
/// templates can be evaluated offline: no provider is needed, only the built-in one.
fn render_harness(dir: &Path, provider: Provider) {
    let module = dir.join("module");
    std::fs::create_dir_all(dir.join("shared/templates")).unwrap();
    std::fs::create_dir_all(&module).unwrap();
    for f in modules::files(provider).unwrap() {
        if f.path.starts_with("shared") {
            std::fs::write(dir.join(&f.path), f.contents).unwrap();
        }
    }
    std::fs::write(
        module.join("variables.tf"),
        module_text(provider, "variables.tf"),
    )
    .unwrap();
    std::fs::write(
        module.join("common.tf"),
        module_text(provider, "common.tf").replace(
            "random_password.k3s_token.result",
            "local.harness_k3s_secret",
        ),
    )
    .unwrap();
    let (api_internal, revoked) = if provider == Provider::Hetzner {
        (
            "local.lb_private_ip",
            "AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholder+/key",
        )
    } else {
        ("local.control_plane_ips[0]", "")
    };
    std::fs::write(
        module.join("harness.tf"),
        format!(
            r#"
locals {{
  harness_k3s_secret       = "harness-secret"
  harness_ca               = "-----BEGIN CERTIFICATE-----\nMIIBharness\n-----END CERTIFICATE-----\n"
  provider_name            = "{provider}"
  api_public_host          = "203.0.113.10"
  api_internal_host        = {api_internal}
  control_plane_public_ips = [for i in range(var.control_plane_count) : "198.51.100.${{i + 1}}"]
  k3s_join_token           = "K10${{sha256(local.harness_ca)}}::server:${{local.harness_k3s_secret}}"
  k3s_ca_files             = {{ "/var/lib/rancher/k3s/server/tls/server-ca.crt" = local.harness_ca }}
  revoked_ssh_key          = "{revoked}"
}}
output "control_plane_user_data" {{
  value     = local.control_plane_user_data
  sensitive = true
}}
output "worker_user_data" {{
  value     = local.worker_user_data
  sensitive = true
}}
"#,
            provider = provider.label(),
        ),
    )
    .unwrap();
}

fn iac(bin: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(bin);
    cmd.args(args)
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("TF_CLI_CONFIG_FILE", dir.join("none.tfrc"))
        .env_remove("TF_VAR_wireguard_private_key");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn write_files(user_data: &str) -> BTreeMap<String, String> {
    let yaml = user_data
        .strip_prefix("#cloud-config\n")
        .expect("user data starts with #cloud-config");
    let doc: serde_json::Value = serde_saphyr::from_str(yaml).expect("cloud-init is YAML");
    use base64::Engine as _;
    doc["write_files"]
        .as_array()
        .expect("write_files list")
        .iter()
        .map(|f| {
            assert_eq!(f["encoding"], "b64");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(f["content"].as_str().unwrap())
                .unwrap();
            (
                f["path"].as_str().unwrap().to_owned(),
                String::from_utf8(bytes).unwrap(),
            )
        })
        .collect()
}

/// Renders the real cloud-init of a 3 + 2 node meshed cluster of every provider with the
/// variables the Rust writer produces, and checks what the nodes would receive. Needs `tofu` or
/// `terraform` on PATH; without one it says so and checks nothing.
#[test]
fn cloud_init_rendered_from_writer_variables_configures_k3s_and_mesh() {
    let Some(bin) = iac_binary() else {
        eprintln!("skipped: neither tofu nor terraform is on PATH");
        return;
    };
    for p in Provider::ALL {
        check_rendered_cloud_init(&bin, *p);
    }
    // The embedded files are in canonical format, so a diff of a module shows only real changes.
    let tmp = tempfile::tempdir().unwrap();
    for p in Provider::ALL {
        modules::extract(*p, tmp.path()).unwrap();
    }
    let fmt = iac(
        &bin,
        tmp.path(),
        &["fmt", "-check", "-recursive", "-list=true"],
        &[],
    );
    assert!(
        fmt.status.success(),
        "not in canonical format: {}",
        String::from_utf8_lossy(&fmt.stdout)
    );
}

fn check_rendered_cloud_init(bin: &Path, provider: Provider) {
    let tmp = tempfile::tempdir().unwrap();
    render_harness(tmp.path(), provider);
    let module = tmp.path().join("module");
    let peer = WireguardKeyPair::generate();
    let own = WireguardKeyPair::generate();
    let mut run = RunValues::new(SSH_KEY);
    run.wireguard =
        Some(tfvars::wireguard_mesh(0, "hz-hel-rtz-prod", &peer.public_key, None).unwrap());
    run.registry_mirror = Some("https://registry.acme.internal:5000".into());
    run.artifact_source = Some("http://10.0.1.4:8080".into());
    run.artifacts = Some(pinned_table());
    let mut s = spec(provider, 0);
    s.worker_count = 2;
    let vars = TfVars::for_cluster(&s, &run).unwrap();
    tfvars::write_tfvars(&module.join(tfvars::TFVARS_FILE), &vars).unwrap();

    let init = iac(bin, &module, &["init", "-no-color"], &[]);
    assert!(
        init.status.success(),
        "init: {}",
        String::from_utf8_lossy(&init.stderr)
    );

    // The mesh without its private key is refused before anything is created.
    let refused = iac(bin, &module, &["plan", "-no-color"], &[]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("TF_VAR_wireguard_private_key"), "{stderr}");

    let key = own.private_key.expose_secret();
    let env = [("TF_VAR_wireguard_private_key", key)];
    let apply = iac(bin, &module, &["apply", "-auto-approve", "-no-color"], &env);
    assert!(
        apply.status.success(),
        "apply: {}",
        String::from_utf8_lossy(&apply.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&apply.stdout).contains(key),
        "apply printed the WireGuard key"
    );
    let out = iac(bin, &module, &["output", "-json"], &env);
    let outputs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cps: Vec<String> =
        serde_json::from_value(outputs["control_plane_user_data"]["value"].clone()).unwrap();
    let workers: Vec<String> =
        serde_json::from_value(outputs["worker_user_data"]["value"].clone()).unwrap();
    assert_eq!((cps.len(), workers.len()), (3, 2));

    let first = write_files(&cps[0]);
    let config: serde_json::Value =
        serde_saphyr::from_str(&first["/etc/rancher/k3s/config.yaml"]).unwrap();
    assert_eq!(config["cluster-init"], true);
    assert_eq!(config["token"], "harness-secret");
    assert_eq!(
        config["node-name"],
        format!("{}-k8s-1p", vars.node_name_prefix)
    );
    assert_eq!(config["flannel-backend"], "none");
    assert_eq!(config["disable-kube-proxy"], true);
    let sans: Vec<&str> = config["tls-san"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        sans.contains(&"203.0.113.10") && sans.contains(&vars.api_hostname.as_str()),
        "{sans:?}"
    );
    assert!(first.contains_key("/var/lib/rancher/k3s/server/tls/server-ca.crt"));
    let wg = &first["/etc/wireguard/wg0.conf"];
    assert!(wg.contains(&format!("PrivateKey = {key}")));
    assert!(wg.contains(&format!("PublicKey = {}", peer.public_key)));
    assert!(wg.contains("AllowedIPs = 10.1.0.0/16, 10.255.0.2/32"));
    assert!(
        !wg.contains("Endpoint"),
        "region 0 waits for its peer: {wg}"
    );

    let second = write_files(&cps[1]);
    let config: serde_json::Value =
        serde_saphyr::from_str(&second["/etc/rancher/k3s/config.yaml"]).unwrap();
    assert_eq!(config["server"], "https://10.0.1.11:6443");
    assert!(config["token"].as_str().unwrap().starts_with("K10"));
    assert!(config.get("cluster-init").is_none());
    assert!(
        !cps[1].contains(key) && !workers[0].contains(key),
        "the gateway key reached another node"
    );
    assert!(
        !second.keys().any(|p| p.contains("server/tls")),
        "CA keys reached a joining node"
    );

    let worker = write_files(&workers[1]);
    let config: serde_json::Value =
        serde_saphyr::from_str(&worker["/etc/rancher/k3s/config.yaml"]).unwrap();
    let api = if provider == Provider::Hetzner {
        "10.0.1.5"
    } else {
        "10.0.1.11"
    };
    assert_eq!(
        config["server"],
        format!("https://{api}:6443"),
        "{provider}"
    );
    assert_eq!(
        config["node-name"],
        format!("{}-wrk-2p", vars.node_name_prefix)
    );
    assert_eq!(config["node-ip"], "10.0.1.22");
    let registries: serde_json::Value =
        serde_saphyr::from_str(&worker["/etc/rancher/k3s/registries.yaml"]).unwrap();
    let ghcr = &registries["mirrors"]["ghcr.io"];
    assert_eq!(ghcr["endpoint"][0], "https://registry.acme.internal:5000");
    assert_eq!(ghcr["rewrite"]["^(.*)$"], "ghcr.io/$1");
    assert!(first.contains_key("/etc/rancher/k3s/registries.yaml"));

    for (name, files) in [
        ("first server", &first),
        ("joining server", &second),
        ("worker", &worker),
    ] {
        let script = tmp.path().join("bootstrap.sh");
        std::fs::write(&script, &files["/usr/local/sbin/openova-bootstrap"]).unwrap();
        let check = std::process::Command::new("bash")
            .arg("-n")
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{name}: bootstrap script is not valid bash: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    let boot = &first["/usr/local/sbin/openova-bootstrap"];
    assert!(boot.contains("kind: HelmChart"), "{boot}");
    assert!(boot.contains("https://%{KUBERNETES_API}%/static/charts/cilium-1.16.5.tgz"));
    assert!(boot.contains("'http://10.0.1.4:8080/flux/v2.4.0/install.yaml'"));
    assert!(!boot.contains("github.com") && !boot.contains("helm.cilium.io"));
    assert!(!worker["/usr/local/sbin/openova-bootstrap"].contains("HelmChart"));
    assert_eq!(
        worker["/usr/local/sbin/openova-bootstrap"]
            .contains("grep -vF 'AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholder+/key' \"$keys\""),
        provider == Provider::Hetzner,
        "{provider}: only Hetzner's placeholder ssh key is revoked at first boot"
    );
    assert_eq!(
        first["/usr/local/sbin/openova-bootstrap"].contains("iptables -F"),
        provider == Provider::Oci,
        "{provider}: only OCI's images need their host firewall flushed"
    );

    let bad = iac(
        bin,
        &module,
        &["plan", "-no-color", "-var", "cluster_name=prod_cluster"],
        &env,
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("cluster_name must look like hz-fsn-rtz-prod")
    );
}

#[test]
fn version_command_lists_embedded_modules_and_their_digest() {
    let out = assert_cmd::Command::cargo_bin("openova")
        .unwrap()
        .arg("version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = format!(
        "opentofu modules: hetzner, huawei, oci (sha256 {})",
        &modules::embedded_digest()[..16]
    );
    assert!(text.lines().any(|l| l == expected), "{text}");
}

/// Every string literal inside an expression, in order.
fn string_literals(expr: &Expression, out: &mut Vec<String>) {
    match expr {
        Expression::String(s) => out.push(s.clone()),
        Expression::Array(items) => items.iter().for_each(|e| string_literals(e, out)),
        Expression::FuncCall(f) => f.args.iter().for_each(|e| string_literals(e, out)),
        Expression::Parenthesis(e) => string_literals(e, out),
        Expression::Conditional(c) => {
            string_literals(&c.cond_expr, out);
            string_literals(&c.true_expr, out);
            string_literals(&c.false_expr, out);
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => string_literals(&u.expr, out),
            hcl::expr::Operation::Binary(b) => {
                string_literals(&b.lhs_expr, out);
                string_literals(&b.rhs_expr, out);
            }
        },
        _ => {}
    }
}

fn validation_literals(block: &Block) -> Vec<String> {
    let mut out = Vec::new();
    for v in block
        .body()
        .blocks()
        .filter(|b| b.identifier() == "validation")
    {
        if let Some(cond) = attr(v, "condition") {
            string_literals(cond, &mut out);
        }
    }
    out
}

/// What the wizard and platform.toml accept must be what the module accepts: a location or size
/// offered on screen but refused by OpenTofu would fail only after the operator pressed apply.
#[test]
fn module_accepts_every_location_and_size_openova_offers() {
    use openova::domain::naming;
    for p in Provider::ALL {
        let vars = variables(*p);
        let locations = validation_literals(&vars["location"]);
        for l in p.locations() {
            assert!(
                locations.iter().any(|s| s == l.api_region()),
                "{p}: module rejects location {} ({})",
                l.api_region(),
                l.code()
            );
        }
        for var in ["control_plane_size", "worker_size"] {
            let pattern = validation_literals(&vars[var])
                .into_iter()
                .find(|s| s.starts_with('^'))
                .unwrap_or_else(|| panic!("{p}: {var} has no regex rule"));
            let re = regex::Regex::new(&pattern).unwrap();
            let offered = naming::server_sizes(*p).map(|s| s.id.to_string()).chain([
                p.default_control_plane_size().to_owned(),
                p.default_worker_size().to_owned(),
            ]);
            for size in offered {
                assert!(
                    re.is_match(&size),
                    "{p}: module's {var} rule {pattern} rejects {size}"
                );
            }
        }
    }
}

/// Every URL literal in the modules and templates: nothing fetches an unpinned installer or a
/// branch of a repository, and every download URL is one of the artifact table's pinned entries.
#[test]
fn modules_fetch_nothing_unpinned() {
    let table = ArtifactTable::builtin().unwrap();
    let url = regex::Regex::new(r#"https?://[^\s"'`)<>]+"#).unwrap();
    let mut checked = 0;
    for p in Provider::ALL {
        for f in modules::files(*p).unwrap() {
            let text = std::str::from_utf8(f.contents).unwrap();
            let name = f.path.display().to_string();
            for banned in [
                "get.k3s.io",
                "raw.githubusercontent.com",
                "get-helm",
                "helm repo add",
            ] {
                assert!(!text.contains(banned), "{name} still uses {banned}");
            }
            if name.ends_with("artifacts.json") {
                continue;
            }
            for m in url.find_iter(text) {
                let u = m.as_str();
                // What is allowed: URLs built from addresses (the API server, the artifact
                // source), the k3s API placeholder and examples in variable descriptions.
                // Validation patterns (`https?://[A-Za-z...`) are not URLs.
                let built = u.contains("${")
                    || u.contains("%%{KUBERNETES_API}%")
                    || u.contains('[')
                    || u.ends_with("https?://");
                let example = ["artifacts.acme.internal", "registry.acme.internal"]
                    .iter()
                    .any(|h| u.contains(h));
                assert!(built || example, "{name}: literal URL {u}");
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
    for a in &table.artifacts {
        // Every upstream URL names an exact release (a tag or a version in the file name),
        // never "latest" or a branch.
        assert!(
            a.upstream.contains(a.version.replace('+', "%2B").as_str()),
            "{}: {}",
            a.name,
            a.upstream
        );
        for floating in ["latest", "/main/", "/master/", "stable"] {
            assert!(!a.upstream.contains(floating), "{}: {}", a.name, a.upstream);
        }
        assert!(
            a.path.contains(&a.version.replace('+', "-")),
            "{}: {}",
            a.name,
            a.path
        );
    }
}

/// The table as shipped: an entry without its sha256 is refused by OpenTofu before anything is
/// created (the module's precondition names it), and by the bundle.
#[test]
fn unpinned_artifacts_are_refused() {
    let table = ArtifactTable::builtin().unwrap();
    let unpinned: Vec<_> = table
        .artifacts
        .iter()
        .filter(|a| a.sha256.is_empty())
        .collect();
    let common = module_text(Provider::Hetzner, "common.tf");
    assert!(common.contains("node_artifacts without a pinned sha256"));
    if unpinned.is_empty() {
        table.check_pinned().unwrap();
    } else {
        let err = table.check_pinned().unwrap_err().to_string();
        for a in unpinned {
            assert!(err.contains(&a.name), "{err}");
        }
    }
}
