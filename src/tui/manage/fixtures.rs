//! Sample console states with a fixed clock: the platform of the product README (two regions,
//! upgrades on offer, one rollback) and a synthetic platform of any size. Used by snapshot tests
//! and benchmarks so both measure the screens operators actually see.

use time::OffsetDateTime;
use time::macros::datetime;

use crate::domain::health::Health;

use super::model::{
    CatalogEntry, ClusterView, ComponentView, ConditionView, Connection, Endpoint, EventView,
    Group, Model, Pane, PlatformView, RollbackView, Severity,
};

/// The fixed "now" of every sample.
pub const NOW: OffsetDateTime = datetime!(2026-02-08 10:30:00 UTC);

fn entry(
    name: &str,
    title: &str,
    group: Group,
    version: &str,
    requires: &[&str],
    optional: &[(&str, &str)],
) -> CatalogEntry {
    CatalogEntry {
        name: name.into(),
        title: title.into(),
        group,
        summary: format!("{title}: sample catalog entry"),
        version: version.into(),
        requires: requires.iter().map(|s| s.to_string()).collect(),
        optional: optional
            .iter()
            .map(|(n, w)| (n.to_string(), w.to_string()))
            .collect(),
        changelog: Vec::new(),
        majors: Vec::new(),
        holds_data: matches!(name, "cnpg" | "valkey" | "milvus" | "neo4j"),
    }
}

/// The catalog of the product README's screens.
pub fn catalog() -> Vec<CatalogEntry> {
    use Group::*;
    let mut c = vec![
        entry("cilium", "Cilium", Mandatory, "1.16.3", &[], &[]),
        entry("flux", "Flux", Mandatory, "2.4.0", &["cilium"], &[]),
        entry("grafana", "Grafana", Mandatory, "11.4.0", &["cnpg"], &[]),
        entry("coraza", "Coraza", Mandatory, "0.7.0", &["cilium"], &[]),
        entry("cnpg", "CNPG", ALaCarte, "1.24.0", &["flux"], &[]),
        entry("valkey", "Valkey", ALaCarte, "8.0.0", &["flux"], &[]),
        entry("ferretdb", "FerretDB", ALaCarte, "1.24.0", &["cnpg"], &[]),
        entry(
            "strimzi",
            "Strimzi/Kafka",
            ALaCarte,
            "0.44.0",
            &["flux"],
            &[],
        ),
        entry("kserve", "KServe", ALaCarte, "0.14.0", &["knative"], &[]),
        entry("knative", "Knative", ALaCarte, "1.16.0", &["cilium"], &[]),
        entry("vllm", "vLLM", ALaCarte, "0.6.4", &[], &[]),
        entry("milvus", "Milvus", ALaCarte, "2.4.17", &[], &[]),
        entry("neo4j", "Neo4j", ALaCarte, "5.26.0", &[], &[]),
        entry(
            "nemo-guardrails",
            "NeMo Guardrails",
            ALaCarte,
            "0.11.0",
            &[],
            &[],
        ),
        entry(
            "ai-hub",
            "AI Hub",
            MetaPlatform,
            "1.0.0",
            &["kserve", "knative", "vllm", "milvus", "cnpg"],
            &[
                ("neo4j", "knowledge graph"),
                ("nemo-guardrails", "AI safety"),
            ],
        ),
        entry(
            "open-banking",
            "Open Banking",
            MetaPlatform,
            "1.0.0",
            &["cnpg", "valkey"],
            &[],
        ),
    ];
    for e in &mut c {
        match e.name.as_str() {
            "cilium" => {
                e.changelog = vec![(
                    "1.16.3".into(),
                    "Fixes a Gateway API listener leak; hubble-relay TLS rotation.".into(),
                )]
            }
            "grafana" => {
                e.changelog = vec![
                    (
                        "11.4.0".into(),
                        "Dashboard schema v2 (beta); faster alert list.".into(),
                    ),
                    ("11.3.1".into(), "Security fix for the data proxy.".into()),
                ]
            }
            _ => {}
        }
    }
    c
}

fn comp(name: &str, version: &str, deps: &[&str], health: Health) -> ComponentView {
    ComponentView {
        name: name.into(),
        version: version.into(),
        installed_version: Some(version.into()),
        category: String::new(),
        dependencies: deps.iter().map(|s| s.to_string()).collect(),
        phase: "Running".into(),
        health,
        endpoints: Vec::new(),
        conditions: vec![ConditionView {
            kind: "Ready".into(),
            status: if health == Health::Healthy {
                "True"
            } else {
                "False"
            }
            .into(),
            reason: "ReconciliationSucceeded".into(),
            message: "Helm install succeeded".into(),
            at: Some(NOW),
        }],
        values: String::new(),
        available_upgrades: Vec::new(),
        last_good_version: Some(version.into()),
        rollback: None,
        scheduled: None,
        delivery: None,
        suspended: false,
    }
}

fn event(min: i64, severity: Severity, object: &str, reason: &str, message: &str) -> EventView {
    EventView {
        at: NOW - time::Duration::minutes(min),
        severity,
        object: object.into(),
        reason: reason.into(),
        message: message.into(),
        count: 1,
        id: String::new(),
    }
}

/// The first region of the README's platform: synced, healthy but for one rollback.
pub fn cluster_fsn() -> ClusterView {
    let mut c = ClusterView::new("hz-fsn-rtz-prod", "https://10.0.1.10:6443");
    c.connection = Connection::Live;
    c.manager_running = Some(true);
    c.manager_lease = Some(true);
    c.synced = true;
    c.platform = Some(PlatformView {
        name: "acme-corp".into(),
        organization: "acme-corp".into(),
        domain: "acme.io".into(),
        phase: "Running".into(),
        regions: vec![
            ("hz-fsn-rtz-prod".into(), "fsn".into()),
            ("hz-hel-rtz-prod".into(), "hel".into()),
        ],
        conditions: Vec::new(),
        window: Some(Ok(crate::domain::window::Window {
            days: vec![jiff::civil::Weekday::Sunday],
            start: "03:00".into(),
            duration_minutes: 120,
            time_zone: Some("Europe/Berlin".into()),
        })),
        selected: ["grafana", "cnpg", "valkey"].map(String::from).to_vec(),
        meta_installed: Vec::new(),
        delivery: None,
    });
    let mut cilium = comp("cilium", "1.16.2", &[], Health::Healthy);
    cilium.available_upgrades = vec!["1.16.3".into()];
    let flux = comp("flux", "2.4.0", &["cilium"], Health::Healthy);
    let mut grafana = comp("grafana", "11.3.0", &["cnpg"], Health::Healthy);
    grafana.available_upgrades = vec!["11.4.0".into()];
    grafana.endpoints = vec![Endpoint {
        name: "ui".into(),
        url: "https://grafana.acme.io".into(),
    }];
    grafana.rollback = Some(RollbackView {
        rolled_back: true,
        from: "11.3.1".into(),
        to: "11.3.0".into(),
        reason: "HelmRelease not Ready within 10m: readiness probe failed".into(),
        at: Some(NOW - time::Duration::minutes(12)),
    });
    grafana.values = "adminUser: admin\npersistence:\n  enabled: true".into();
    let coraza = comp("coraza", "0.7.0", &["cilium"], Health::Healthy);
    let mut cnpg = comp("cnpg", "1.24.0", &["flux"], Health::Healthy);
    cnpg.endpoints = vec![Endpoint {
        name: "primary".into(),
        url: "cnpg-primary.data.svc".into(),
    }];
    let valkey = comp("valkey", "8.0.0", &["flux"], Health::Healthy);
    for x in [cilium, flux, grafana, coraza, cnpg, valkey] {
        c.components.insert(x.name.clone(), x);
    }
    for ev in [
        event(
            12,
            Severity::Warning,
            "Component/grafana",
            "UpgradeRolledBack",
            "11.3.1 failed; restored 11.3.0",
        ),
        event(
            20,
            Severity::Normal,
            "Component/grafana",
            "UpgradeStarted",
            "11.3.0 → 11.3.1",
        ),
        event(
            45,
            Severity::Normal,
            "Component/cnpg",
            "UpgradeSucceeded",
            "cnpg is ready at v1.24.0",
        ),
        event(
            50,
            Severity::Normal,
            "Platform/acme-corp",
            "AllHealthy",
            "all 6 components are healthy",
        ),
    ] {
        c.push_event(ev);
    }
    for h in [80, 83, 100, 83, 100] {
        c.health_history.push_back(h);
    }
    c
}

/// The second region, still connecting.
pub fn cluster_hel() -> ClusterView {
    ClusterView::new("hz-hel-rtz-prod", "https://10.0.2.10:6443")
}

/// One region, dashboard showing.
pub fn sample() -> Model {
    Model::new(vec![cluster_fsn()], "openova-system", false, catalog())
}

/// Two regions.
pub fn sample_two_regions() -> Model {
    let mut hel = cluster_fsn();
    hel.context = "hz-hel-rtz-prod".into();
    hel.address = "https://10.0.2.10:6443".into();
    hel.components.remove("valkey");
    if let Some(g) = hel.components.get_mut("grafana") {
        g.health = Health::Degraded;
    }
    Model::new(vec![cluster_fsn(), hel], "openova-system", false, catalog())
}

/// A fleet of three: Falkenstein as in [`sample`]; Helsinki already on grafana 11.4.0, which
/// is degraded there (the drift between the two regions); Nuremberg staging unreachable
/// before it ever listed. The kubeconfig also has `aws-dev`, not attached.
pub fn sample_fleet() -> Model {
    let mut hel = cluster_fsn();
    hel.context = "hz-hel-rtz-prod".into();
    hel.address = "https://10.0.2.10:6443".into();
    if let Some(g) = hel.components.get_mut("grafana") {
        g.version = "11.4.0".into();
        g.installed_version = Some("11.4.0".into());
        g.available_upgrades.clear();
        g.rollback = None;
        g.health = Health::Degraded;
    }
    let mut nbg = ClusterView::new("hz-nbg-rtz-stage", "https://10.0.3.10:6443");
    nbg.connection = Connection::Unreachable {
        error: "connection refused".into(),
    };
    let mut m = Model::new(
        vec![cluster_fsn(), hel, nbg],
        "openova-system",
        false,
        catalog(),
    );
    m.kube_contexts.push("aws-dev".into());
    m.pane = Pane::Fleet;
    m
}

/// [`sample`] with an inference stack the Platform selects: KServe, installed with the
/// dependencies it pulled in (Knative, and Milvus, which holds data), which nothing else needs.
pub fn with_inference() -> Model {
    let mut m = sample();
    let c = m.cluster_mut();
    for x in [
        comp("kserve", "0.14.0", &["knative", "milvus"], Health::Healthy),
        comp("knative", "1.16.0", &["cilium"], Health::Healthy),
        comp("milvus", "2.4.17", &[], Health::Healthy),
    ] {
        c.components.insert(x.name.clone(), x);
    }
    if let Some(p) = c.platform.as_mut() {
        p.selected.push("kserve".into());
    }
    m
}

/// A platform with `n` installed components and `events` events (for benchmarks).
pub fn large(n: usize, events: usize) -> Model {
    let mut c = cluster_fsn();
    c.components.clear();
    c.events.clear();
    let mut catalog = catalog();
    for i in 0..n {
        let name = format!("component-{i:04}");
        let health = if i % 97 == 0 {
            Health::Degraded
        } else {
            Health::Healthy
        };
        let mut x = comp(&name, "1.2.3", &[], health);
        if i % 10 == 0 {
            x.available_upgrades = vec!["1.3.0".into()];
        }
        if i % 50 == 0 {
            x.endpoints = vec![Endpoint {
                name: "ui".into(),
                url: format!("https://{name}.acme.io"),
            }];
        }
        c.components.insert(name.clone(), x);
        catalog.push(entry(&name, &name, Group::ALaCarte, "1.3.0", &[], &[]));
    }
    for i in 0..events {
        c.push_event(event(
            (i % 600) as i64,
            if i % 7 == 0 {
                Severity::Warning
            } else {
                Severity::Normal
            },
            &format!("Component/component-{:04}", i % n.max(1)),
            "Reconciled",
            &format!("event number {i}"),
        ));
    }
    c.record_health();
    Model::new(vec![c], "openova-system", false, catalog)
}

/// A status change for benchmarks: component `i` of [`large`] flips health.
pub fn status_change(model: &Model, i: usize, healthy: bool) -> ComponentView {
    let name = format!("component-{i:04}");
    let mut c = model
        .cluster()
        .components
        .get(&name)
        .cloned()
        .unwrap_or_else(|| comp(&name, "1.2.3", &[], Health::Healthy));
    c.health = if healthy {
        Health::Healthy
    } else {
        Health::Degraded
    };
    c
}
