//! Owns the bridge between the wizard's form and `platform.toml` (`domain::platform::
//! PlatformConfig`, the file `openova bootstrap --config` reads): building the config for export,
//! and pre-filling a draft from a file. Secrets are never written, only references to them.

use crate::domain::platform::{
    self, NodePool, Organization, PlatformConfig, Region, S3Backend, SecretRef, Ssh,
};

use crate::domain::naming::Provider;
use crate::secrets;

use super::model::{
    Form, Model, RegionForm, SecretName, SecretStorage, SshMode, StateBackend, cidr_list,
};

/// How platform.toml should point at a secret: the keyring entry the wizard filled when
/// secrets are kept there, otherwise the conventional environment variable.
fn secret_ref(m: &Model, name: SecretName, env: &str) -> SecretRef {
    match (m.form.secret_storage, m.keyring_unavailable, m.draft_id) {
        (SecretStorage::Keyring, false, Some(id)) => {
            let entry = secrets::draft_entry(&m.keyring_prefix, id, name.key());
            SecretRef::keyring(&secrets::reference_path(&entry))
        }
        _ => SecretRef::env(env),
    }
}

/// The form as a platform configuration (not yet validated).
pub fn to_config(m: &Model) -> PlatformConfig {
    let f = &m.form;
    let credentials = f
        .provider
        .credential_names()
        .iter()
        .map(|(key, env)| {
            // Each credential the wizard asks is its own entry; any other is referenced through
            // its environment variable.
            let r = SecretName::for_credential(f.provider, key)
                .map_or_else(|| SecretRef::env(env), |name| secret_ref(m, name, env));
            (key.to_string(), r)
        })
        .collect();
    PlatformConfig {
        api_version: platform::ApiVersion,
        kind: platform::Kind,
        provider: f.provider,
        protect: false,
        components: f.components.iter().cloned().collect(),
        state_backend: match f.state_backend {
            StateBackend::Local => platform::StateBackend::Local,
            StateBackend::S3 => platform::StateBackend::S3(S3Backend {
                endpoint: f.s3_endpoint.clone(),
                bucket: f.s3_bucket.clone(),
                region: f.s3_region.clone(),
                key_prefix: format!("openova/{}", f.org_slug),
                access_key_id: secret_ref(m, SecretName::S3AccessKey, "AWS_ACCESS_KEY_ID"),
                secret_access_key: secret_ref(m, SecretName::S3SecretKey, "AWS_SECRET_ACCESS_KEY"),
            }),
        },
        organization: Organization {
            name: f.org_name.trim().to_string(),
            slug: f.org_slug.clone(),
            domain: f.domain.clone(),
            email: f.email.clone(),
            env_type: f.env,
        },
        regions: f
            .regions
            .iter()
            .map(|r| Region {
                location: r.location,
                building_block: r.building_block,
                control_plane: NodePool {
                    size: r.control_plane_size.clone(),
                    count: r.control_plane_count,
                },
                workers: NodePool {
                    size: r.worker_size.clone(),
                    count: r.worker_count,
                },
            })
            .collect(),
        ssh: Ssh {
            public_key: f.ssh_public_key.clone(),
            private_key: None,
            allowed_cidrs: cidr_list(&f.ssh_allowed_cidrs),
        },
        api: Some(cidr_list(&f.api_allowed_cidrs))
            .filter(|l| !l.is_empty())
            .map(|allowed_cidrs| platform::ApiAccess { allowed_cidrs }),
        credentials,
        huawei: None,
        oci: (f.provider == Provider::Oci && !f.oci_compartment.trim().is_empty()).then(|| {
            platform::OciSettings {
                compartment_ocid: Some(f.oci_compartment.trim().to_owned()),
            }
        }),
        endpoints: platform::Endpoints::default(),
        airgap: None,
    }
}

/// The configuration as TOML, or the first problem that prevents a valid file. Credential
/// problems (a token not yet checked) do not block export: the file holds no secrets.
pub fn platform_toml(m: &Model) -> Result<String, String> {
    let blocking: Vec<String> = m
        .all_errors()
        .into_iter()
        .filter(|(_, e)| {
            !e.field.starts_with("credentials.")
                && e.field != "tofu"
                && e.field != "state.s3.access_key"
                && e.field != "state.s3.secret_key"
        })
        .map(|(_, e)| e.to_string())
        .collect();
    if let Some(first) = blocking.first() {
        return Err(format!("cannot export yet: {first}"));
    }
    let config = to_config(m);
    let cat = crate::catalog::embedded();
    let mut problems = config.validate();
    problems.extend(config.validate_components(|n| cat.entry(n).is_some()));
    if let Some(first) = problems.first() {
        return Err(format!("cannot export yet: {first}"));
    }
    config.to_toml().map_err(|e| e.to_string())
}

/// Pre-fill a new draft from a platform.toml. Errors name the line and the rule.
pub fn form_from_toml(text: &str) -> Result<Form, String> {
    let c = PlatformConfig::parse(text).map_err(|e| e.to_string())?;
    let mut f = Form {
        org_name: c.organization.name.clone(),
        org_slug: c.organization.slug.clone(),
        slug_edited: true,
        domain: c.organization.domain.clone(),
        email: c.organization.email.clone(),
        env: c.organization.env_type,
        provider: c.provider,
        ssh_public_key: c.ssh.public_key.clone(),
        ssh_mode: if c.ssh.public_key.is_empty() {
            SshMode::Generate
        } else {
            SshMode::Paste
        },
        components: c.components.iter().cloned().collect(),
        api_allowed_cidrs: c
            .api
            .as_ref()
            .map(|a| a.allowed_cidrs.join(", "))
            .unwrap_or_default(),
        ssh_allowed_cidrs: c.ssh.allowed_cidrs.join(", "),
        oci_compartment: c
            .oci
            .as_ref()
            .and_then(|o| o.compartment_ocid.clone())
            .unwrap_or_default(),
        ..Form::default()
    };
    if let platform::StateBackend::S3(s3) = &c.state_backend {
        f.state_backend = StateBackend::S3;
        f.s3_endpoint = s3.endpoint.clone();
        f.s3_bucket = s3.bucket.clone();
        f.s3_region = s3.region.clone();
    }
    let regions: Vec<RegionForm> = c
        .regions
        .iter()
        .take(platform::MAX_REGIONS)
        .map(|r| RegionForm {
            location: r.location,
            building_block: r.building_block,
            control_plane_size: r.control_plane.size.clone(),
            control_plane_count: r.control_plane.count,
            worker_size: r.workers.size.clone(),
            worker_count: r.workers.count,
        })
        .collect();
    if !regions.is_empty() {
        f.regions = regions;
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use secrecy::{ExposeSecret, SecretString};

    use super::*;
    use crate::secrets::{MemoryStore, SecretStore};
    use crate::store::Store;
    use crate::tui::bootstrap::Runner;
    use crate::tui::bootstrap::update::{Effect, Msg};
    use crate::tui::runtime::EffectRunner;

    /// A draft whose three secrets (provider token, S3 access and secret key) are kept in the
    /// keyring of database instance `db-4f2a`.
    fn keyring_model() -> Model {
        let form = Form {
            secret_storage: SecretStorage::Keyring,
            state_backend: StateBackend::S3,
            s3_endpoint: "https://fsn1.your-objectstorage.com".into(),
            s3_bucket: "acme-tofu-state".into(),
            s3_region: "fsn1".into(),
            ..crate::tui::bootstrap::tests::acme_form()
        };
        let mut m = Model::new(form, Some(7), 1_790_000_000);
        m.keyring_prefix = "db-4f2a".into();
        m.keyring_unavailable = false;
        m
    }

    /// What the wizard files, read back by `openova bootstrap` from the exported platform.toml:
    /// every `keyring:` reference resolves headless to the value the wizard stored.
    #[test]
    fn exported_keyring_references_resolve_headless() {
        let mut m = keyring_model();
        // The wizard's effect runner files each secret (memory copy always, here the only
        // store: the same entry names go to the OS keyring when one works) of the draft it holds.
        let mut runner = Runner::new(
            Store::open_in_memory().unwrap(),
            m.keyring_prefix.clone(),
            None,
            MemoryStore::new(),
        );
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
        runner.perform(Effect::NewDraft, &tx);
        let Ok(Msg::DraftOpened { id, .. }) = rx.try_recv() else {
            panic!("no draft opened");
        };
        m.draft_id = Some(id);
        let planted = [
            (
                SecretName::ProviderToken,
                "TF_VAR_hcloud_token",
                "PLANTED-token-0001",
            ),
            (
                SecretName::S3AccessKey,
                "AWS_ACCESS_KEY_ID",
                "PLANTED-access-0002",
            ),
            (
                SecretName::S3SecretKey,
                "AWS_SECRET_ACCESS_KEY",
                "PLANTED-secret-0003",
            ),
        ];
        for (name, _, value) in planted {
            runner.perform(
                Effect::StoreSecret {
                    draft: id,
                    name,
                    value: SecretString::from(value),
                    storage: SecretStorage::Keyring,
                },
                &tx,
            );
        }
        assert!(rx.try_recv().is_err(), "storing reported a failure");

        let text = platform_toml(&m).unwrap();
        assert!(!text.contains("PLANTED"), "{text}");
        let config = PlatformConfig::parse(&text).unwrap();
        let mut references = 0;
        for r in config.credentials.values() {
            references += usize::from(r.to_string().starts_with("keyring:"));
        }
        if let platform::StateBackend::S3(s3) = &config.state_backend {
            for r in [&s3.access_key_id, &s3.secret_access_key] {
                references += usize::from(r.to_string().starts_with("keyring:"));
            }
        }
        assert_eq!(references, 3, "{text}");

        let env =
            crate::cmd::bootstrap::resolve_secrets_with(&config, || Some(&runner.memory)).unwrap();
        let mut resolved: Vec<(String, String)> = env
            .iter()
            .map(|(n, v)| (n.to_string(), v.expose_secret().to_string()))
            .collect();
        resolved.sort();
        let mut expected: Vec<(String, String)> = planted
            .iter()
            .map(|(_, var, value)| (var.to_string(), value.to_string()))
            .collect();
        expected.sort();
        assert_eq!(resolved, expected);
    }

    /// A reference to an entry nobody stored says so, naming the field and the reference only.
    #[test]
    fn a_missing_entry_is_reported_without_a_value() {
        let m = keyring_model();
        let config = PlatformConfig::parse(&platform_toml(&m).unwrap()).unwrap();
        let store = MemoryStore::new();
        store
            .put(
                "db-4f2a/draft-8/provider_token",
                &SecretString::from("PLANTED-other"),
            )
            .unwrap();
        let err = crate::cmd::bootstrap::resolve_secrets_with(&config, || Some(&store))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no such keyring entry"), "{err}");
        assert!(
            err.contains("keyring:openova/db-4f2a/draft-7/provider_token"),
            "{err}"
        );
        assert!(!err.contains("PLANTED"), "{err}");
    }
}
