use proptest::prelude::*;

use super::*;

fn errors(cfg: &PlatformConfig) -> Vec<String> {
    cfg.validate().iter().map(ToString::to_string).collect()
}

fn one_error(cfg: &PlatformConfig) -> String {
    let errs = errors(cfg);
    assert_eq!(errs.len(), 1, "expected exactly one error, got {errs:#?}");
    errs.into_iter().next().unwrap_or_default()
}

fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in example");
    text.replacen(from, to, 1)
}

#[test]
fn example_toml_parses_to_example_config() {
    let parsed = PlatformConfig::parse(EXAMPLE_TOML).unwrap();
    assert_eq!(parsed, PlatformConfig::example());
}

#[test]
fn example_config_is_valid() {
    assert_eq!(errors(&PlatformConfig::example()), Vec::<String>::new());
}

#[test]
fn example_cluster_names_and_contexts_follow_the_convention() {
    let cfg = PlatformConfig::example();
    assert_eq!(cfg.cluster_names(), ["hz-fsn-rtz-prod", "hz-hel-rtz-prod"]);
    assert_eq!(cfg.contexts(), cfg.cluster_names());
    assert_eq!(cfg.environment(), "acme-prod");
}

#[test]
fn to_toml_output_starts_with_api_version_and_parses_back() {
    let cfg = PlatformConfig::example();
    let text = cfg.to_toml().unwrap();
    assert!(
        text.starts_with("apiVersion = \"openova.io/v1alpha1\"\nkind = \"PlatformConfig\"\n"),
        "{text}"
    );
    assert_eq!(PlatformConfig::parse(&text).unwrap(), cfg);
}

#[test]
fn s3_backend_and_airgap_round_trip() {
    let mut cfg = PlatformConfig::example();
    cfg.state_backend = StateBackend::S3(S3Backend {
        endpoint: "https://s3.eu-central-1.amazonaws.com".into(),
        bucket: "acme-tf-state".into(),
        region: "eu-central-1".into(),
        key_prefix: "openova/acme".into(),
        access_key_id: SecretRef::env("AWS_ACCESS_KEY_ID"),
        secret_access_key: SecretRef::keyring("openova/acme/s3-secret"),
    });
    cfg.airgap = Some(Airgap {
        provider_mirror: "/opt/openova/providers".into(),
        registry_mirror: "https://registry.acme.internal:5000".into(),
        catalog_configmap: Some("openova-catalog".into()),
    });
    cfg.ssh.private_key = Some(SecretRef::keyring("openova/draft-1/ssh-private-key"));
    assert_eq!(errors(&cfg), Vec::<String>::new());
    let text = cfg.to_toml().unwrap();
    assert!(text.contains("[state_backend.s3]"), "{text}");
    assert_eq!(PlatformConfig::parse(&text).unwrap(), cfg);
}

// ---- parse errors ----

#[test]
fn parse_syntax_error_reports_line_and_column() {
    let text = replace(EXAMPLE_TOML, "slug = \"acme\"", "slug = \"acme");
    let e = PlatformConfig::parse(&text).unwrap_err();
    let line = text.lines().position(|l| l.starts_with("slug = ")).unwrap() + 1;
    assert!(matches!(e, ConfigError::Syntax { .. }), "{e:?}");
    assert_eq!(e.position().map(|p| p.line), Some(line), "{e}");
}

#[test]
fn parse_unknown_field_names_field_table_and_line() {
    let text = replace(
        EXAMPLE_TOML,
        "env_type = \"prod\"",
        "env_type = \"prod\"\nenvtype = \"dev\"",
    );
    let e = PlatformConfig::parse(&text).unwrap_err();
    let line = text.lines().position(|l| l.starts_with("envtype")).unwrap() + 1;
    match &e {
        ConfigError::UnknownField {
            field,
            path,
            at,
            expected,
        } => {
            assert_eq!(field, "envtype");
            assert_eq!(path.as_deref(), Some("organization"));
            assert_eq!(at.map(|p| p.line), Some(line));
            assert!(
                expected.as_deref().unwrap_or("").contains("env_type"),
                "{e}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        e.reason()
            .starts_with("organization: unknown field `envtype`"),
        "{}",
        e.reason()
    );
}

#[test]
fn parse_unknown_top_level_field_is_named() {
    let text = replace(
        EXAMPLE_TOML,
        "provider = \"hz\"",
        "provider = \"hz\"\nregion = \"fsn\"",
    );
    let e = PlatformConfig::parse(&text).unwrap_err();
    assert!(
        matches!(&e, ConfigError::UnknownField { field, .. } if field == "region"),
        "{e:?}"
    );
}

#[test]
fn parse_unknown_code_reports_path_and_accepted_codes() {
    let text = replace(EXAMPLE_TOML, "location = \"hel\"", "location = \"sin\"");
    let e = PlatformConfig::parse(&text).unwrap_err();
    let line = text
        .lines()
        .position(|l| l == "location = \"sin\"")
        .unwrap()
        + 1;
    assert_eq!(e.position().map(|p| p.line), Some(line), "{e}");
    let reason = e.reason();
    assert!(
        reason.starts_with("regions[1].location: unknown location \"sin\": expected one of fsn"),
        "{reason}"
    );
}

#[test]
fn parse_wrong_type_names_the_field() {
    let text = replace(EXAMPLE_TOML, "count = 2 }", "count = \"two\" }");
    let e = PlatformConfig::parse(&text).unwrap_err();
    assert!(
        e.reason().starts_with("regions[0].workers.count: "),
        "{}",
        e.reason()
    );
}

#[test]
fn parse_negative_count_is_rejected() {
    let text = replace(EXAMPLE_TOML, "count = 2 }", "count = -1 }");
    assert!(PlatformConfig::parse(&text).is_err());
}

#[test]
fn parse_missing_field_names_the_table() {
    let text = replace(EXAMPLE_TOML, "email = \"platform@acme.io\"\n", "");
    let e = PlatformConfig::parse(&text).unwrap_err();
    let reason = e.reason();
    assert!(reason.contains("missing field `email`"), "{reason}");
    assert!(reason.starts_with("organization: "), "{reason}");
}

#[test]
fn parse_newer_api_version_says_so() {
    let text = replace(EXAMPLE_TOML, "openova.io/v1alpha1", "openova.io/v1beta1");
    let e = PlatformConfig::parse(&text).unwrap_err();
    assert_eq!(
        e.reason(),
        "apiVersion \"openova.io/v1beta1\" was written by a newer openova; this one reads openova.io/v1alpha1"
    );
    assert!(e.position().is_some());
}

#[test]
fn parse_newer_api_version_wins_over_unknown_fields() {
    let text = replace(EXAMPLE_TOML, "openova.io/v1alpha1", "openova.io/v1")
        + "\n[future_section]\nx = 1\n";
    assert!(matches!(
        PlatformConfig::parse(&text),
        Err(ConfigError::NewerApiVersion { .. })
    ));
}

#[test]
fn parse_missing_or_foreign_api_version_and_wrong_kind() {
    let text = replace(EXAMPLE_TOML, "apiVersion = \"openova.io/v1alpha1\"\n", "");
    assert_eq!(
        PlatformConfig::parse(&text),
        Err(ConfigError::MissingApiVersion)
    );
    let text = replace(EXAMPLE_TOML, "openova.io/v1alpha1", "apps/v1");
    assert!(matches!(
        PlatformConfig::parse(&text),
        Err(ConfigError::ForeignApiVersion { .. })
    ));
    let text = replace(
        EXAMPLE_TOML,
        "kind = \"PlatformConfig\"",
        "kind = \"Platform\"",
    );
    let e = PlatformConfig::parse(&text).unwrap_err();
    assert_eq!(e.reason(), "kind \"Platform\" is not PlatformConfig");
}

#[test]
fn parse_empty_text_asks_for_api_version() {
    assert_eq!(
        PlatformConfig::parse(""),
        Err(ConfigError::MissingApiVersion)
    );
}

// ---- validation rules ----

#[test]
fn validate_reports_all_errors_at_once_in_document_order() {
    let mut cfg = PlatformConfig::example();
    cfg.organization.slug = "Acme".into();
    cfg.organization.email = "nobody".into();
    cfg.regions[1].location = Location::Fra;
    cfg.regions[0].workers.count = 51;
    let fields: Vec<String> = cfg.validate().into_iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        [
            "organization.slug",
            "organization.email",
            "regions[0].workers.count",
            "regions[1].location"
        ]
    );
}

#[test]
fn validate_three_regions_is_an_error() {
    let mut cfg = PlatformConfig::example();
    let mut third = cfg.regions[0].clone();
    third.location = Location::Nbg;
    cfg.regions.push(third);
    assert_eq!(
        one_error(&cfg),
        "regions: 3 regions given; a platform has 1 or 2 (remove regions[2] and later)"
    );
}

#[test]
fn validate_no_region_is_an_error() {
    let mut cfg = PlatformConfig::example();
    cfg.regions.clear();
    assert!(one_error(&cfg).starts_with("regions: no region given"));
}

#[test]
fn validate_single_region_is_fine() {
    let mut cfg = PlatformConfig::example();
    cfg.regions.truncate(1);
    assert!(cfg.validate().is_empty());
    assert_eq!(cfg.cluster_names(), ["hz-fsn-rtz-prod"]);
}

#[test]
fn validate_same_location_twice_is_an_error() {
    let mut cfg = PlatformConfig::example();
    cfg.regions[1].location = Location::Fsn;
    assert_eq!(
        one_error(&cfg),
        "regions[1].location: \"fsn\" is already regions[0].location: both regions would be cluster hz-fsn-rtz-prod; choose another location"
    );
}

#[test]
fn validate_different_building_blocks_is_an_error() {
    let mut cfg = PlatformConfig::example();
    cfg.regions[1].building_block = BuildingBlock::Dmz;
    assert!(one_error(&cfg).starts_with(
        "regions[1].building_block: \"dmz\" differs from regions[0].building_block \"rtz\""
    ));
}

#[test]
fn validate_location_of_another_provider_is_an_error() {
    let mut cfg = PlatformConfig::example();
    cfg.regions[1].location = Location::Fra;
    assert_eq!(
        one_error(&cfg),
        "regions[1].location: \"fra\" is a Oracle Cloud (OCI) location, but provider is hz (Hetzner Cloud), which offers fsn, nbg, hel, ash, hil"
    );
}

#[test]
fn validate_sizes_and_counts_per_region() {
    let mut cfg = PlatformConfig::example();
    cfg.regions[0].control_plane.size = "c7n.xlarge.2".into();
    cfg.regions[0].control_plane.count = 2;
    cfg.regions[1].workers.size = String::new();
    let fields: Vec<String> = cfg.validate().into_iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        [
            "regions[0].control_plane.size",
            "regions[0].control_plane.count",
            "regions[1].workers.size"
        ]
    );
}

#[test]
fn validate_other_providers_accept_their_own_sizes_and_credentials() {
    let mut cfg = PlatformConfig::example();
    cfg.provider = Provider::Oci;
    for (r, loc) in cfg.regions.iter_mut().zip([Location::Fra, Location::Iad]) {
        r.location = loc;
        r.control_plane.size = Provider::Oci.default_control_plane_size().into();
        r.workers.size = Provider::Oci.default_worker_size().into();
    }
    cfg.credentials = Provider::Oci
        .credential_names()
        .iter()
        .map(|(n, v)| (n.to_string(), SecretRef::env(v)))
        .collect();
    assert_eq!(errors(&cfg), Vec::<String>::new());
    assert_eq!(
        cfg.cluster_names(),
        ["oci-fra-rtz-prod", "oci-iad-rtz-prod"]
    );
}

#[test]
fn validate_duplicate_and_malformed_components() {
    let mut cfg = PlatformConfig::example();
    cfg.components = vec!["kserve".into(), "kserve".into(), "Bad Name".into()];
    let errs = errors(&cfg);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].starts_with("components[1]: \"kserve\" is listed twice"));
    assert!(errs[1].starts_with("components[2]: not a component name"));
}

#[test]
fn validate_components_against_catalog() {
    let mut cfg = PlatformConfig::example();
    cfg.components = vec!["kserve".into(), "nope".into()];
    let errs = cfg.validate_components(|n| n == "kserve");
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs[0].to_string(),
        "components[1]: \"nope\" is not in the catalog (see `openova catalog list`)"
    );
}

#[test]
fn validate_missing_and_unknown_credentials() {
    let mut cfg = PlatformConfig::example();
    cfg.credentials.clear();
    assert_eq!(
        one_error(&cfg),
        "credentials.hcloud_token: missing: Hetzner Cloud needs it; add hcloud_token = \"env:HCLOUD_TOKEN\" or a keyring: reference"
    );
    let mut cfg = PlatformConfig::example();
    cfg.credentials
        .insert("hcloud_tokn".into(), SecretRef::env("X"));
    assert_eq!(
        one_error(&cfg),
        "credentials.hcloud_tokn: not a Hetzner Cloud credential; expected hcloud_token"
    );
}

#[test]
fn validate_secret_value_instead_of_reference_is_rejected_without_echo() {
    let secret = "s3cr3tTOKENvalue0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCD";
    let mut cfg = PlatformConfig::example();
    cfg.credentials
        .insert("hcloud_token".into(), SecretRef(secret.into()));
    let msg = one_error(&cfg);
    assert!(
        msg.starts_with("credentials.hcloud_token: is not a secret reference"),
        "{msg}"
    );
    assert!(!msg.contains(secret));
    let mut cfg = PlatformConfig::example();
    cfg.credentials
        .insert("hcloud_token".into(), SecretRef(format!("env:{secret}-x")));
    let msg = one_error(&cfg);
    assert!(!msg.contains(secret), "{msg}");
}

#[test]
fn secret_ref_sources_parse() {
    assert_eq!(
        SecretRef::env("HCLOUD_TOKEN").source(),
        Ok(SecretSource::Env("HCLOUD_TOKEN"))
    );
    assert_eq!(
        SecretRef::keyring("openova/d1/hcloud-token").source(),
        Ok(SecretSource::Keyring("openova/d1/hcloud-token"))
    );
    for bad in [
        "keyring:",
        "keyring:/abs",
        "keyring:a//b",
        "keyring:a b",
        "env:",
        "env:1X",
        "env:A-B",
        "file:/x",
    ] {
        assert!(SecretRef(bad.into()).source().is_err(), "{bad}");
    }
}

#[test]
fn validate_s3_backend_fields() {
    let mut cfg = PlatformConfig::example();
    cfg.state_backend = StateBackend::S3(S3Backend {
        endpoint: "http://s3.example.com".into(),
        bucket: "Acme_State".into(),
        region: "EU".into(),
        key_prefix: "/abs".into(),
        access_key_id: SecretRef("AKIAEXAMPLE".into()),
        secret_access_key: SecretRef::env("S3_SECRET"),
    });
    let fields: Vec<String> = cfg.validate().into_iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        [
            "state_backend.s3.endpoint",
            "state_backend.s3.bucket",
            "state_backend.s3.region",
            "state_backend.s3.key_prefix",
            "state_backend.s3.access_key_id"
        ]
    );
    let errs = errors(&cfg);
    assert!(errs[0].contains("must use https://"), "{}", errs[0]);
}

#[test]
fn s3_endpoint_on_loopback_may_use_http() {
    assert!(check_url("http://127.0.0.1:9000", true).is_ok());
    assert!(check_url("http://localhost:9000/", true).is_ok());
    assert!(check_url("http://127.0.0.1:9000", false).is_err());
    assert!(check_url("https://minio.lab:0", true).is_err());
    assert!(check_url("https://", true).is_err());
    assert!(check_url("s3.amazonaws.com", true).is_err());
}

#[test]
fn validate_airgap_fields() {
    let mut cfg = PlatformConfig::example();
    cfg.airgap = Some(Airgap {
        provider_mirror: "mirror/providers".into(),
        registry_mirror: "registry.acme.internal".into(),
        catalog_configmap: Some("Openova_Catalog".into()),
    });
    let fields: Vec<String> = cfg.validate().into_iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        [
            "airgap.provider_mirror",
            "airgap.registry_mirror",
            "airgap.catalog_configmap"
        ]
    );
}

#[test]
fn validate_ssh_fields() {
    let mut cfg = PlatformConfig::example();
    cfg.ssh.public_key = "ssh-ed25519 AAAA".into();
    cfg.ssh.private_key = Some(SecretRef("-----BEGIN OPENSSH PRIVATE KEY-----".into()));
    cfg.ssh.allowed_cidrs = vec!["10.0.0.1/8".into()];
    let fields: Vec<String> = cfg.validate().into_iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        ["ssh.public_key", "ssh.private_key", "ssh.allowed_cidrs[0]"]
    );
    assert!(!errors(&cfg)[1].contains("BEGIN"));
}

#[test]
fn validate_organization_name_rules() {
    let mut cfg = PlatformConfig::example();
    cfg.organization.name = "  ".into();
    assert!(one_error(&cfg).starts_with("organization.name: must not be empty"));
    cfg.organization.name = "Acme\nEvil".into();
    assert!(one_error(&cfg).contains("single line"));
    cfg.organization.name = "x".repeat(101);
    assert!(one_error(&cfg).contains("at most 100"));
}

// ---- positions ----

#[test]
fn field_position_finds_values_in_arrays_of_tables() {
    let text = EXAMPLE_TOML;
    let line_of = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    let p = field_position(text, "regions[1].location").unwrap();
    let second = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("location = "))
        .nth(1)
        .unwrap()
        .0
        + 1;
    assert_eq!(p.line, second);
    assert_eq!(p.column, "location = ".len() + 1);
    assert_eq!(
        field_position(text, "organization.slug").unwrap().line,
        line_of("slug = ")
    );
    assert_eq!(
        field_position(text, "regions[0].workers.count")
            .unwrap()
            .line,
        line_of("workers = ")
    );
    assert_eq!(
        field_position(text, "credentials.hcloud_token")
            .unwrap()
            .line,
        line_of("hcloud_token")
    );
    assert_eq!(
        field_position(text, "components[1]").unwrap().line,
        line_of("components = ")
    );
    // Absent field: the nearest present table.
    assert_eq!(
        field_position(text, "credentials.missing").unwrap().line,
        line_of("[credentials]")
    );
    assert_eq!(field_position(text, "nothing.here"), None);
}

#[test]
fn position_of_offset_counts_lines_and_chars() {
    let text = "a = 1\nbé = 2\n";
    assert_eq!(
        Position::of_offset(text, 0),
        Position { line: 1, column: 1 }
    );
    let off = text.find("= 2").unwrap();
    assert_eq!(
        Position::of_offset(text, off),
        Position { line: 2, column: 4 }
    );
    assert_eq!(Position::of_offset(text, 999).line, 3);
}

// ---- property: arbitrary valid configs round-trip ----

fn arb_provider_regions() -> impl Strategy<Value = (Provider, Vec<Location>)> {
    prop::sample::select(Provider::ALL.to_vec()).prop_flat_map(|p| {
        let locs: Vec<Location> = p.locations().collect();
        (
            Just(p),
            prop::sample::subsequence(locs, 1..=2).prop_shuffle(),
        )
    })
}

fn arb_text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 &'\"\\\\.,éü#=\\[\\]-]{1,40}".prop_filter("non-blank", |s| !s.trim().is_empty())
}

prop_compose! {
    fn arb_config()(
        (provider, locations) in arb_provider_regions(),
        bb in prop::sample::select(BuildingBlock::ALL.to_vec()),
        env in prop::sample::select(EnvType::ALL.to_vec()),
        name in arb_text(),
        slug_seed in "[a-z][a-z0-9]{2,12}",
        cp_count in prop::sample::select(vec![1u32, 3]),
        workers in 0u32..=50,
        components in prop::collection::btree_set("[a-z][a-z0-9-]{0,20}[a-z0-9]", 0..6),
        s3 in any::<bool>(),
        airgap in any::<bool>(),
        private_key in any::<bool>(),
        cidrs in prop::collection::vec((any::<u32>(), 0u8..=32), 0..3),
    ) -> PlatformConfig {
        let sizes: Vec<&str> = naming::server_sizes(provider).map(|s| s.id).collect();
        let regions = locations.iter().enumerate().map(|(i, l)| Region {
            location: *l,
            building_block: bb,
            control_plane: NodePool { size: sizes[i % sizes.len()].to_owned(), count: cp_count },
            workers: NodePool { size: sizes[(i + 1) % sizes.len()].to_owned(), count: workers },
        }).collect();
        let mut slug = slug_seed;
        if naming::validate_org_slug("s", &slug).is_err() {
            slug.push_str("-org");
        }
        PlatformConfig {
            api_version: ApiVersion,
            kind: Kind,
            provider,
            components: components.into_iter().collect(),
            state_backend: if s3 {
                StateBackend::S3(S3Backend {
                    endpoint: "https://s3.example.com:9000/base".into(),
                    bucket: format!("{slug}-state"),
                    region: "eu-central-1".into(),
                    key_prefix: format!("openova/{slug}"),
                    access_key_id: SecretRef::env("S3_KEY_ID"),
                    secret_access_key: SecretRef::keyring(&format!("openova/{slug}/s3")),
                })
            } else {
                StateBackend::Local
            },
            organization: Organization {
                name,
                domain: format!("{slug}.example.com"),
                email: format!("ops@{slug}.example.com"),
                slug,
                env_type: env,
            },
            regions,
            ssh: Ssh {
                public_key: EXAMPLE_SSH_KEY.into(),
                private_key: private_key.then(|| SecretRef::keyring("openova/draft/ssh")),
                allowed_cidrs: cidrs.into_iter().map(|(bits, prefix)| {
                    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
                    format!("{}/{prefix}", std::net::Ipv4Addr::from(bits & mask))
                }).collect(),
            },
            credentials: provider.credential_names().iter()
                .map(|(n, v)| (n.to_string(), SecretRef::env(v))).collect(),
            airgap: airgap.then(|| Airgap {
                provider_mirror: "/srv/mirror".into(),
                registry_mirror: "https://registry.local".into(),
                catalog_configmap: None,
            }),
        }
    }
}

proptest! {
    #[test]
    fn platform_config_arbitrary_valid_round_trips_losslessly(cfg in arb_config()) {
        prop_assert_eq!(cfg.validate(), Vec::<FieldError>::new());
        let text = cfg.to_toml().unwrap();
        let back = PlatformConfig::parse(&text);
        prop_assert_eq!(back.as_ref(), Ok(&cfg), "{}", text);
        // And the text is stable.
        prop_assert_eq!(back.unwrap().to_toml().unwrap(), text);
    }
}
