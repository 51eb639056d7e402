//! Owns turning the wizard's form into `platform.toml` text, the file `openova bootstrap
//! --config` reads. Secrets are never written: the file names the environment variables that
//! carry them.

use serde::Serialize;

use super::model::{Model, StateBackend};

#[derive(Serialize)]
struct PlatformToml<'a> {
    organization: Organization<'a>,
    provider: &'static str,
    credentials: std::collections::BTreeMap<&'static str, EnvRef>,
    state: State<'a>,
    ssh: Ssh<'a>,
    regions: Vec<Region<'a>>,
    components: Components,
}

#[derive(Serialize)]
struct Organization<'a> {
    name: &'a str,
    slug: &'a str,
    domain: &'a str,
    email: &'a str,
    environment: &'static str,
}

#[derive(Serialize)]
struct EnvRef {
    env: &'static str,
}

#[derive(Serialize)]
struct State<'a> {
    backend: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    s3: Option<S3<'a>>,
}

#[derive(Serialize)]
struct S3<'a> {
    endpoint: &'a str,
    bucket: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    region: &'a str,
    access_key: EnvRef,
    secret_key: EnvRef,
}

#[derive(Serialize)]
struct Ssh<'a> {
    public_key: &'a str,
}

#[derive(Serialize)]
struct Region<'a> {
    cluster: String,
    location: &'static str,
    building_block: &'static str,
    control_plane_size: &'a str,
    control_plane_count: u32,
    worker_size: &'a str,
    workers: u32,
}

#[derive(Serialize)]
struct Components {
    selected: Vec<String>,
}

/// The configuration as TOML, or the first problem that prevents a valid file.
pub fn platform_toml(m: &Model) -> Result<String, String> {
    let errors: Vec<String> = m
        .all_errors()
        .into_iter()
        .filter(|(_, e)| {
            !e.field.starts_with("credentials.")
                && !e.field.starts_with("state.s3.access")
                && !e.field.starts_with("state.s3.secret")
        })
        .map(|(_, e)| e.to_string())
        .collect();
    if let Some(first) = errors.first() {
        return Err(format!("cannot export yet: {first}"));
    }
    let f = &m.form;
    let names = m.cluster_names();
    let doc = PlatformToml {
        organization: Organization {
            name: f.org_name.trim(),
            slug: &f.org_slug,
            domain: &f.domain,
            email: &f.email,
            environment: f.env.code(),
        },
        provider: f.provider.code(),
        credentials: f
            .provider
            .credential_names()
            .iter()
            .map(|(k, env)| (*k, EnvRef { env }))
            .collect(),
        state: State {
            backend: match f.state_backend {
                StateBackend::Local => "local",
                StateBackend::S3 => "s3",
            },
            s3: (f.state_backend == StateBackend::S3).then(|| S3 {
                endpoint: &f.s3_endpoint,
                bucket: &f.s3_bucket,
                region: &f.s3_region,
                access_key: EnvRef {
                    env: "AWS_ACCESS_KEY_ID",
                },
                secret_key: EnvRef {
                    env: "AWS_SECRET_ACCESS_KEY",
                },
            }),
        },
        ssh: Ssh {
            public_key: &f.ssh_public_key,
        },
        regions: f
            .regions
            .iter()
            .zip(names)
            .map(|(r, cluster)| Region {
                cluster,
                location: r.location.code(),
                building_block: r.building_block.code(),
                control_plane_size: &r.control_plane_size,
                control_plane_count: r.control_plane_count,
                worker_size: &r.worker_size,
                workers: r.worker_count,
            })
            .collect(),
        components: Components {
            selected: f.components.iter().cloned().collect(),
        },
    };
    toml::to_string(&doc).map_err(|e| format!("cannot encode platform.toml: {e}"))
}

/// Read a platform.toml (as written by `platform_toml`) into a form for a new draft.
pub fn form_from_toml(text: &str) -> Result<super::model::Form, String> {
    use super::model::{Form, RegionForm};
    use crate::domain::naming::{BuildingBlock, EnvType, Location, Provider};
    let doc: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let get = |t: &toml::Table, path: &str, key: &str| -> Result<Option<String>, String> {
        match t.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("`{path}{key}` must be a string")),
        }
    };
    let mut f = Form::default();
    if let Some(org) = doc.get("organization").and_then(|v| v.as_table()) {
        f.org_name = get(org, "organization.", "name")?.unwrap_or_default();
        if let Some(slug) = get(org, "organization.", "slug")? {
            f.org_slug = slug;
            f.slug_edited = true;
        }
        f.domain = get(org, "organization.", "domain")?.unwrap_or_default();
        f.email = get(org, "organization.", "email")?.unwrap_or_default();
        if let Some(env) = get(org, "organization.", "environment")? {
            f.env = EnvType::parse(&env).map_err(|e| format!("`organization.environment`: {e}"))?;
        }
    }
    if let Some(p) = get(&doc, "", "provider")? {
        f.provider = Provider::parse(&p).map_err(|e| format!("`provider`: {e}"))?;
    }
    if let Some(state) = doc.get("state").and_then(|v| v.as_table())
        && get(state, "state.", "backend")?.as_deref() == Some("s3")
    {
        f.state_backend = StateBackend::S3;
        if let Some(s3) = state.get("s3").and_then(|v| v.as_table()) {
            f.s3_endpoint = get(s3, "state.s3.", "endpoint")?.unwrap_or_default();
            f.s3_bucket = get(s3, "state.s3.", "bucket")?.unwrap_or_default();
            f.s3_region = get(s3, "state.s3.", "region")?.unwrap_or_default();
        }
    }
    if let Some(ssh) = doc.get("ssh").and_then(|v| v.as_table()) {
        f.ssh_public_key = get(ssh, "ssh.", "public_key")?.unwrap_or_default();
        if !f.ssh_public_key.is_empty() {
            f.ssh_mode = super::model::SshMode::Paste;
        }
    }
    if let Some(regions) = doc.get("regions").and_then(|v| v.as_array()) {
        let mut out = Vec::new();
        for (i, r) in regions.iter().enumerate().take(2) {
            let t = r
                .as_table()
                .ok_or_else(|| format!("`regions[{i}]` must be a table"))?;
            let p = format!("regions[{i}].");
            let mut rf = RegionForm::default_for(f.provider, i);
            if let Some(l) = get(t, &p, "location")? {
                rf.location = Location::parse(&l).map_err(|e| format!("`{p}location`: {e}"))?;
            }
            if let Some(b) = get(t, &p, "building_block")? {
                rf.building_block =
                    BuildingBlock::parse(&b).map_err(|e| format!("`{p}building_block`: {e}"))?;
            }
            if let Some(s) = get(t, &p, "control_plane_size")? {
                rf.control_plane_size = s;
            }
            if let Some(s) = get(t, &p, "worker_size")? {
                rf.worker_size = s;
            }
            let int = |k: &str| -> Result<Option<u32>, String> {
                match t.get(k) {
                    None => Ok(None),
                    Some(toml::Value::Integer(n)) if *n >= 0 && *n <= 1000 => Ok(Some(*n as u32)),
                    Some(_) => Err(format!("`{p}{k}` must be a whole number")),
                }
            };
            if let Some(n) = int("control_plane_count")? {
                rf.control_plane_count = n;
            }
            if let Some(n) = int("workers")? {
                rf.worker_count = n;
            }
            out.push(rf);
        }
        if !out.is_empty() {
            f.regions = out;
        }
    }
    if let Some(c) = doc.get("components").and_then(|v| v.as_table())
        && let Some(list) = c.get("selected").and_then(|v| v.as_array())
    {
        f.components = list
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
    }
    Ok(f)
}
