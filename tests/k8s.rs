//! The cluster layer against a real kube-apiserver (1.20, built from Debian's sources) on
//! loopback: kubeconfig handling, typed errors, watchers across an API server restart, and the
//! console's server-side-apply commands.
//!
//! One API server is shared by the tests of this binary (a namespace each); tests that need an
//! empty or restartable server start their own. Without the binaries the tests skip loudly,
//! unless OPENOVA_REQUIRE_K8S=1 (CI), where they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

#[path = "support/apiserver.rs"]
mod apiserver;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use openova::cluster::{
    self, ClusterConn, ClusterError, ClusterEvent, ClusterMsg, ConnectOptions, ManagerSeen,
    UninstallOutcome, WatchedKind,
};
use openova::crd::{Component, ComponentSpec, Platform};
use openova::testenv::{ADMIN_CONTEXT, ApiServer, UNPRIVILEGED_CONTEXT};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(30);

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/k8s")
        .join(name)
}

/// The shared server with CRDs installed, or `None` (skip) without binaries.
fn server() -> Option<&'static ApiServer> {
    let server = apiserver::shared()?;
    server.install_crds().expect("generated CRDs install");
    Some(server)
}

async fn conn_as(server: &ApiServer, context: &str, namespace: &str) -> ClusterConn {
    cluster::connect(&ConnectOptions {
        kubeconfig: Some(server.kubeconfig_path().to_owned()),
        context: Some(context.to_owned()),
        namespace: Some(namespace.to_owned()),
    })
    .await
    .expect("connect from the test kubeconfig")
}

fn platform(name: &str, components: serde_json::Value) -> Platform {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "openova.io/v1alpha1",
        "kind": "Platform",
        "metadata": { "name": name },
        "spec": {
            "organization": { "name": "acme-corp", "domain": "acme.io" },
            "regions": [ { "cluster": "hz-fsn-rtz-prod", "location": "fsn" } ],
            "components": components,
        }
    }))
    .expect("valid Platform")
}

fn component_spec(chart: &str, version: &str) -> ComponentSpec {
    serde_json::from_value(serde_json::json!({
        "chart": chart,
        "version": version,
        "category": "data",
        "dependencies": ["external-secrets"],
        "values": { "replication": { "enabled": true } },
    }))
    .expect("valid ComponentSpec")
}

fn component(name: &str, version: &str) -> Component {
    Component::new(name, component_spec(name, version))
}

/// Waits for the first message matching `pred`, failing with everything seen on timeout.
async fn expect_msg(
    rx: &mut mpsc::Receiver<ClusterEvent>,
    what: &str,
    pred: impl Fn(&ClusterMsg) -> bool,
) -> ClusterMsg {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(ev)) if pred(&ev.msg) => return ev.msg,
            Ok(Some(ev)) => seen.push(format!("{:?}", ev.msg)),
            Ok(None) => panic!("watch channel closed while waiting for {what}; seen: {seen:#?}"),
            Err(_) => panic!("no {what} within {WAIT:?}; seen: {seen:#?}"),
        }
    }
}

async fn wait_synced(rx: &mut mpsc::Receiver<ClusterEvent>) {
    let mut platforms = false;
    let mut components = false;
    while !(platforms && components) {
        match expect_msg(rx, "Synced", |m| matches!(m, ClusterMsg::Synced { .. })).await {
            ClusterMsg::Synced {
                kind: WatchedKind::Platform,
            } => platforms = true,
            _ => components = true,
        }
    }
}

fn component_version(m: &ClusterMsg, name: &str) -> Option<String> {
    match m {
        ClusterMsg::ComponentApplied(c) if c.metadata.name.as_deref() == Some(name) => {
            Some(c.spec.version.clone())
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_crds_are_established_on_the_server() {
    let Some(server) = server() else { return };
    let client = server.admin_client().await.expect("client");
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    for name in ["platforms.openova.io", "components.openova.io"] {
        let crd = crds.get(name).await.expect("CRD exists");
        let established = crd
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .into_iter()
            .any(|c| c.type_ == "Established" && c.status == "True");
        assert!(established, "{name} is not established");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_readme_examples_apply_with_kubectl_and_read_back_into_types() {
    let Some(server) = server() else { return };
    // The examples name namespace openova-system; create it unless another run did.
    let _ = server.kubectl_run(&["create", "namespace", "openova-system"], None);
    for file in ["platform.yaml", "component.yaml"] {
        let path = fixture(file);
        let path = path.to_str().expect("utf-8 path");
        server
            .kubectl_run(&["apply", "-f", path], None)
            .unwrap_or_else(|e| panic!("kubectl apply {file}: {e}"));
    }
    let expected_p: Platform =
        serde_saphyr::from_str(&std::fs::read_to_string(fixture("platform.yaml")).expect("read"))
            .expect("fixture parses");
    let expected_c: Component =
        serde_saphyr::from_str(&std::fs::read_to_string(fixture("component.yaml")).expect("read"))
            .expect("fixture parses");

    let client = server.admin_client().await.expect("client");
    let p: Platform = Api::namespaced(client.clone(), "openova-system")
        .get("acme-corp")
        .await
        .expect("Platform reads back into our type");
    assert_eq!(p.spec, expected_p.spec);
    assert_eq!(p.spec.components[2].version.as_deref(), Some("v1.24.0"));
    let c: Component = Api::namespaced(client, "openova-system")
        .get("cnpg")
        .await
        .expect("Component reads back into our type");
    assert_eq!(c.spec, expected_c.spec);
    assert_eq!(
        c.spec
            .values
            .as_ref()
            .map(|v| v["replication"]["mode"].clone()),
        Some(serde_json::json!("async"))
    );

    // kubectl sees the printer columns and short names of the generated CRDs.
    let table = server
        .kubectl_run(&["get", "ovc", "-n", "openova-system"], None)
        .expect("kubectl get by short name");
    assert!(
        table.contains("WANTED") && table.contains("v1.24.0"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_sees_create_update_and_delete() {
    let Some(server) = server() else { return };
    let ns = server.namespace("watch").await.expect("namespace");
    let conn = conn_as(server, ADMIN_CONTEXT, &ns).await;
    let (tx, mut rx) = mpsc::channel(64);
    let watch = cluster::watch(&conn, tx);
    wait_synced(&mut rx).await;

    let client = server.admin_client().await.expect("client");
    let platforms: Api<Platform> = Api::namespaced(client.clone(), &ns);
    let components: Api<Component> = Api::namespaced(client, &ns);
    platforms
        .create(
            &PostParams::default(),
            &platform("acme", serde_json::json!([])),
        )
        .await
        .expect("create Platform");
    expect_msg(&mut rx, "PlatformApplied", |m| {
        matches!(m, ClusterMsg::PlatformApplied(p) if p.metadata.name.as_deref() == Some("acme"))
    })
    .await;

    components
        .create(&PostParams::default(), &component("cnpg", "v1.24.0"))
        .await
        .expect("create Component");
    expect_msg(&mut rx, "cnpg created", |m| {
        component_version(m, "cnpg").as_deref() == Some("v1.24.0")
    })
    .await;

    components
        .patch(
            "cnpg",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "spec": { "version": "v1.25.0" } })),
        )
        .await
        .expect("patch Component");
    expect_msg(&mut rx, "cnpg updated", |m| {
        component_version(m, "cnpg").as_deref() == Some("v1.25.0")
    })
    .await;
    assert_eq!(
        watch
            .components
            .get(&kube::runtime::reflector::ObjectRef::new("cnpg").within(&ns))
            .map(|c| c.spec.version.clone()),
        Some("v1.25.0".to_owned()),
        "the store follows the update"
    );

    components
        .delete("cnpg", &DeleteParams::default())
        .await
        .expect("delete Component");
    expect_msg(&mut rx, "cnpg deleted", |m| {
        matches!(m, ClusterMsg::ComponentDeleted(c) if c.metadata.name.as_deref() == Some("cnpg"))
    })
    .await;
    assert!(watch.components.state().is_empty(), "store is empty again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unprivileged_user_gets_forbidden_naming_verb_and_resource() {
    let Some(server) = server() else { return };
    let ns = server.namespace("rbac").await.expect("namespace");
    let conn = conn_as(server, UNPRIVILEGED_CONTEXT, &ns).await;

    match cluster::probe(&conn).await {
        Err(ClusterError::Forbidden { verb, resource, .. }) => {
            assert_eq!(verb, "list");
            assert_eq!(resource, "platforms.openova.io");
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }

    let (tx, mut rx) = mpsc::channel(16);
    let _watch = cluster::watch(&conn, tx);
    let msg = expect_msg(&mut rx, "Disconnected", |m| {
        matches!(m, ClusterMsg::Disconnected { .. })
    })
    .await;
    let ClusterMsg::Disconnected { error, .. } = msg else {
        unreachable!()
    };
    match &error {
        ClusterError::Forbidden {
            verb,
            resource,
            message,
        } => {
            assert_eq!(verb, "list");
            assert!(resource.ends_with(".openova.io"), "{resource}");
            assert!(
                message.contains("unprivileged"),
                "server's reason kept: {message}"
            );
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert!(error.to_string().contains("Ask a cluster administrator"));

    // The console's commands are refused the same way, before anything is written.
    let err = cluster::install(&conn, "acme", "cnpg", &component_spec("cnpg", "v1"))
        .await
        .expect_err("forbidden");
    assert!(
        matches!(&err, ClusterError::Forbidden { verb, .. } if verb == "get"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_reports_its_address() {
    let Some(server) = server() else { return };
    // A port nothing listens on: take one from the kernel and release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let text = std::fs::read_to_string(server.kubeconfig_path()).expect("kubeconfig");
    let dead = text.replace(&server.base_url(), &format!("https://127.0.0.1:{port}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("dead");
    std::fs::write(&path, dead).expect("write");
    let conn = cluster::connect(&ConnectOptions {
        kubeconfig: Some(path),
        context: None,
        namespace: None,
    })
    .await
    .expect("connect builds a client without the network");
    match cluster::probe(&conn).await {
        Err(ClusterError::Unreachable {
            context, address, ..
        }) => {
            assert_eq!(context, ADMIN_CONTEXT);
            assert_eq!(address, format!("https://127.0.0.1:{port}"));
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_certificate_authority_reports_tls() {
    let Some(server) = server() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=someone-else",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success());
    let foreign = std::fs::read(dir.path().join("ca.crt")).expect("ca");
    use base64::Engine as _;
    let foreign = base64::engine::general_purpose::STANDARD.encode(foreign);
    let text = std::fs::read_to_string(server.kubeconfig_path()).expect("kubeconfig");
    let line = text
        .lines()
        .find(|l| l.contains("certificate-authority-data"))
        .expect("ca line");
    let replaced = text.replace(line, &format!("    certificate-authority-data: {foreign}"));
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, replaced).expect("write");
    let conn = cluster::connect(&ConnectOptions {
        kubeconfig: Some(path),
        context: Some(ADMIN_CONTEXT.into()),
        namespace: None,
    })
    .await
    .expect("client");
    match cluster::probe(&conn).await {
        Err(ClusterError::Tls { address, .. }) => assert_eq!(address, server.base_url()),
        other => panic!("expected Tls, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_reports_manager_not_running_until_its_lease_is_fresh() {
    let Some(server) = server() else { return };
    let ns = server.namespace("probe").await.expect("namespace");
    let conn = conn_as(server, ADMIN_CONTEXT, &ns).await;
    match cluster::probe(&conn).await {
        Err(e @ ClusterError::ManagerNotRunning { .. }) => {
            assert!(e.to_string().contains("no Lease openova-manager"), "{e}");
        }
        other => panic!("expected ManagerNotRunning, got {other:?}"),
    }

    let leases: Api<Lease> = Api::namespaced(conn.client.clone(), &ns);
    let now = k8s_openapi::jiff::Timestamp::now();
    let lease: Lease = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "openova-manager" },
        "spec": { "holderIdentity": "openova-manager-7d9f", "leaseDurationSeconds": 15 }
    }))
    .expect("lease");
    let mut lease = lease;
    if let Some(spec) = lease.spec.as_mut() {
        spec.renew_time = Some(MicroTime(now));
    }
    leases
        .create(&PostParams::default(), &lease)
        .await
        .expect("create lease");
    let report = cluster::probe(&conn).await.expect("probe passes");
    assert_eq!(
        report.manager,
        ManagerSeen::Lease {
            holder: "openova-manager-7d9f".into()
        }
    );
    assert!(report.server_version.starts_with("v1."), "{report:?}");

    // A lease nobody renews any more means the manager is gone.
    let stale = now
        .checked_sub(k8s_openapi::jiff::SignedDuration::from_secs(60))
        .expect("time arithmetic");
    leases
        .patch(
            "openova-manager",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "spec": { "renewTime": MicroTime(stale) } })),
        )
        .await
        .expect("age the lease");
    assert!(matches!(
        cluster::probe(&conn).await,
        Err(ClusterError::ManagerNotRunning { .. })
    ));

    // A manager that is up but not (yet) leader still counts, through its Deployment.
    let deployments: Api<Deployment> = Api::namespaced(conn.client.clone(), &ns);
    let deployment: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "openova-manager" },
        "spec": {
            "selector": { "matchLabels": { "app": "openova-manager" } },
            "template": {
                "metadata": { "labels": { "app": "openova-manager" } },
                "spec": { "containers": [ { "name": "manager", "image": "openova:test" } ] }
            }
        }
    }))
    .expect("deployment");
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .expect("create deployment");
    // No controller-manager runs here, so report availability the way it would.
    deployments
        .patch_status(
            "openova-manager",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({
                "status": { "replicas": 1, "availableReplicas": 1, "readyReplicas": 1 }
            })),
        )
        .await
        .expect("deployment status");
    let report = cluster::probe(&conn).await.expect("probe passes");
    assert_eq!(report.manager, ManagerSeen::Deployment { available: 1 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_reports_unauthorized() {
    let Some(server) = server() else { return };
    let text = std::fs::read_to_string(server.kubeconfig_path()).expect("kubeconfig");
    let wrong: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("token:") {
                "    token: not-a-valid-token".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, wrong).expect("write");
    let conn = cluster::connect(&ConnectOptions {
        kubeconfig: Some(path),
        context: Some(ADMIN_CONTEXT.into()),
        namespace: None,
    })
    .await
    .expect("client");
    match cluster::probe(&conn).await {
        Err(e @ ClusterError::Unauthorized { .. }) => {
            assert!(
                !e.to_string().contains("not-a-valid-token"),
                "no secret in: {e}"
            )
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
}

fn managers(obj: &kube::core::ObjectMeta) -> Vec<String> {
    obj.managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_commands_write_intent_with_server_side_apply() {
    let Some(server) = server() else { return };
    let ns = server.namespace("commands").await.expect("namespace");
    let conn = conn_as(server, ADMIN_CONTEXT, &ns).await;
    let client = server.admin_client().await.expect("client");
    let platforms: Api<Platform> = Api::namespaced(client.clone(), &ns);
    let components: Api<Component> = Api::namespaced(client, &ns);
    platforms
        .create(
            &PostParams::default(),
            &platform(
                "acme",
                serde_json::json!([{ "name": "cilium", "version": "v1.16.3", "enabled": true }]),
            ),
        )
        .await
        .expect("create Platform");

    // Install: the Component with the chosen spec, and an enabled Platform entry.
    cluster::install(&conn, "acme", "cnpg", &component_spec("cnpg", "v1.24.0"))
        .await
        .expect("install");
    let c = components.get("cnpg").await.expect("Component created");
    assert_eq!(c.spec, component_spec("cnpg", "v1.24.0"));
    assert!(managers(&c.metadata).contains(&"openova-console".to_owned()));
    assert_eq!(
        c.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("openova.io/platform"))
            .map(String::as_str),
        Some("acme")
    );
    let p = platforms.get("acme").await.expect("Platform");
    let names: Vec<_> = p.spec.components.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["cilium", "cnpg"], "existing entries are kept");
    assert!(p.spec.components[1].enabled);
    assert_eq!(
        p.spec.organization.domain, "acme.io",
        "rest of the spec untouched"
    );
    assert!(managers(&p.metadata).contains(&"openova-console".to_owned()));

    // Upgrade now: both the Component and the Platform entry move; the rest of the spec stays.
    cluster::set_version(&conn, "acme", "cnpg", "v1.25.0", None)
        .await
        .expect("set_version");
    let c = components.get("cnpg").await.expect("Component");
    assert_eq!(c.spec.version, "v1.25.0");
    assert_eq!(c.spec.chart, "cnpg");
    assert_eq!(c.spec.dependencies, ["external-secrets"]);
    assert!(c.spec.values.is_some(), "values survive a version change");
    let p = platforms.get("acme").await.expect("Platform");
    assert_eq!(p.spec.components[1].version.as_deref(), Some("v1.25.0"));

    // Schedule: version plus upgradeAt; a later "upgrade now" clears the time again.
    let at = Time(
        "2030-01-02T03:04:05Z"
            .parse::<k8s_openapi::jiff::Timestamp>()
            .expect("timestamp"),
    );
    cluster::schedule_upgrade(
        &conn,
        "acme",
        "cnpg",
        "v1.26.0",
        cluster::Schedule::At(at.clone()),
        None,
    )
    .await
    .expect("schedule_upgrade");
    let c = components.get("cnpg").await.expect("Component");
    assert_eq!(c.spec.version, "v1.26.0");
    assert_eq!(c.spec.upgrade_at, Some(at));
    assert_eq!(c.spec.upgrade, None);
    // The next window: no time of the console's making, the manager computes the opening; a
    // major jump carries the operator's confirmation naming it (read back: the field survived).
    cluster::schedule_upgrade(
        &conn,
        "acme",
        "cnpg",
        "v2.0.0",
        cluster::Schedule::NextWindow,
        Some("1→2"),
    )
    .await
    .expect("schedule in the next window");
    let c = components.get("cnpg").await.expect("Component");
    assert_eq!(c.spec.upgrade_at, None);
    let intent = c.spec.upgrade.expect("spec.upgrade written");
    assert!(intent.next_window);
    assert_eq!(intent.confirm_major.as_deref(), Some("1→2"));
    cluster::set_version(&conn, "acme", "cnpg", "v1.26.0", None)
        .await
        .expect("upgrade now");
    let c = components.get("cnpg").await.expect("Component");
    assert_eq!(c.spec.upgrade_at, None, "upgrade now cancels the schedule");
    assert_eq!(c.spec.upgrade, None, "and the window and confirmation");

    // Uninstall of a listed component disables its entry and leaves removal to the manager.
    assert_eq!(
        cluster::uninstall(&conn, "acme", "cnpg", &[])
            .await
            .expect("uninstall"),
        UninstallOutcome::Disabled
    );
    let p = platforms.get("acme").await.expect("Platform");
    assert!(!p.spec.components[1].enabled);
    let removals: Vec<_> = p.spec.removals.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        removals,
        ["cnpg"],
        "the removal is confirmed for the manager"
    );
    assert!(components.get_opt("cnpg").await.expect("get").is_some());
    assert_eq!(
        cluster::uninstall(&conn, "acme", "cnpg", &[])
            .await
            .expect("again"),
        UninstallOutcome::NotInstalled
    );

    // A Component the Platform never listed is deleted directly.
    components
        .create(&PostParams::default(), &component("loose", "v1"))
        .await
        .expect("create loose");
    assert_eq!(
        cluster::uninstall(&conn, "acme", "loose", &[])
            .await
            .expect("uninstall loose"),
        UninstallOutcome::Deleted
    );
    assert!(components.get_opt("loose").await.expect("get").is_none());

    // Commands on things that do not exist say which.
    match cluster::set_version(&conn, "acme", "nope", "v1", None).await {
        Err(ClusterError::NotFound { kind, name, .. }) => {
            assert_eq!((kind.as_str(), name.as_str()), ("Component", "nope"))
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    match cluster::install(&conn, "other", "x", &component_spec("x", "v1")).await {
        Err(ClusterError::NotFound { kind, .. }) => assert_eq!(kind, "Platform"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert!(
        components.get_opt("x").await.expect("get").is_none(),
        "nothing written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_retry_reconcile_suspend_and_cancel_write_intent_only() {
    use openova::cluster::commands;
    let Some(server) = server() else { return };
    let ns = server.namespace("intents").await.expect("namespace");
    let conn = conn_as(server, ADMIN_CONTEXT, &ns).await;
    let client = server.admin_client().await.expect("client");
    let platforms: Api<Platform> = Api::namespaced(client.clone(), &ns);
    let components: Api<Component> = Api::namespaced(client, &ns);
    platforms
        .create(
            &PostParams::default(),
            &platform("acme", serde_json::json!([])),
        )
        .await
        .expect("create Platform");
    cluster::install(&conn, "acme", "cnpg", &component_spec("cnpg", "v1.24.0"))
        .await
        .expect("install");

    commands::retry(&conn, "cnpg", "2026-02-08T10:00:00Z")
        .await
        .expect("retry");
    commands::reconcile_now(&conn, "cnpg", "2026-02-08T10:01:00Z")
        .await
        .expect("reconcile now");
    commands::set_suspended(&conn, "cnpg", true)
        .await
        .expect("suspend");
    let c = components.get("cnpg").await.expect("Component");
    assert_eq!(c.spec.retry.as_deref(), Some("2026-02-08T10:00:00Z"));
    assert_eq!(
        c.spec.reconcile_requested_at.as_deref(),
        Some("2026-02-08T10:01:00Z")
    );
    assert!(c.spec.suspend);
    assert_eq!(c.spec.version, "v1.24.0", "the rest of the spec stays");
    assert!(c.spec.values.is_some(), "values survive");
    assert!(managers(&c.metadata).contains(&"openova-console".to_owned()));
    commands::set_suspended(&conn, "cnpg", false)
        .await
        .expect("resume");
    let c = components.get("cnpg").await.expect("Component");
    assert!(!c.spec.suspend);
    assert_eq!(
        c.spec.retry.as_deref(),
        Some("2026-02-08T10:00:00Z"),
        "a later write keeps the earlier request"
    );

    // Cancel a scheduled upgrade: version back to the installed one, no time, no window.
    cluster::schedule_upgrade(
        &conn,
        "acme",
        "cnpg",
        "v1.25.0",
        cluster::Schedule::NextWindow,
        None,
    )
    .await
    .expect("schedule");
    commands::cancel_upgrade(&conn, "acme", "cnpg", "v1.24.0")
        .await
        .expect("cancel");
    let c = components.get("cnpg").await.expect("Component");
    assert_eq!(c.spec.version, "v1.24.0");
    assert_eq!(c.spec.upgrade_at, None);
    assert_eq!(c.spec.upgrade, None);
    let p = platforms.get("acme").await.expect("Platform");
    let entry = p.spec.components.iter().find(|e| e.name == "cnpg");
    assert_eq!(entry.and_then(|e| e.version.as_deref()), Some("v1.24.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_installs_both_land_in_the_platform() {
    let Some(server) = server() else { return };
    let ns = server.namespace("race").await.expect("namespace");
    let conn = conn_as(server, ADMIN_CONTEXT, &ns).await;
    let client = server.admin_client().await.expect("client");
    let platforms: Api<Platform> = Api::namespaced(client, &ns);
    platforms
        .create(
            &PostParams::default(),
            &platform("acme", serde_json::json!([])),
        )
        .await
        .expect("create Platform");
    let names: Vec<String> = (0..6).map(|i| format!("c{i}")).collect();
    let mut tasks = Vec::new();
    for name in &names {
        let conn = conn.clone();
        let name = name.clone();
        tasks.push(tokio::spawn(async move {
            cluster::install(&conn, "acme", &name, &component_spec(&name, "v1")).await
        }));
    }
    for t in tasks {
        t.await.expect("join").expect("install under contention");
    }
    let p = platforms.get("acme").await.expect("Platform");
    let mut got: Vec<_> = p.spec.components.iter().map(|e| e.name.clone()).collect();
    got.sort();
    assert_eq!(got, names, "no entry lost to a concurrent write");
}

/// Everything on a private server: no CRDs at first, then a restart in the middle of a watch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_crds_then_apiserver_restart_mid_watch_loses_no_update() {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let server = Arc::new(
        tokio::task::spawn_blocking(move || ApiServer::launch_with(bins))
            .await
            .expect("join")
            .expect("private API server starts"),
    );
    let ns = server.namespace("restart").await.expect("namespace");
    let conn = conn_as(&server, ADMIN_CONTEXT, &ns).await;

    // Before the CRDs exist: probe and watch both say so.
    match cluster::probe(&conn).await {
        Err(e @ ClusterError::CrdsMissing { .. }) => {
            assert!(
                e.to_string().contains("openova crds | kubectl apply -f -"),
                "{e}"
            )
        }
        other => panic!("expected CrdsMissing, got {other:?}"),
    }
    {
        let (tx, mut rx) = mpsc::channel(16);
        let _watch = cluster::watch(&conn, tx);
        let msg = expect_msg(&mut rx, "Disconnected", |m| {
            matches!(m, ClusterMsg::Disconnected { .. })
        })
        .await;
        assert!(
            matches!(
                msg,
                ClusterMsg::Disconnected {
                    error: ClusterError::CrdsMissing { .. },
                    ..
                }
            ),
            "{msg:?}"
        );
    }

    let s = server.clone();
    tokio::task::spawn_blocking(move || s.install_crds())
        .await
        .expect("join")
        .expect("CRDs install");
    let client = server.admin_client().await.expect("client");
    let platforms: Api<Platform> = Api::namespaced(client.clone(), &ns);
    let components: Api<Component> = Api::namespaced(client, &ns);
    platforms
        .create(
            &PostParams::default(),
            &platform("acme", serde_json::json!([])),
        )
        .await
        .expect("create Platform");
    for name in ["cnpg", "grafana"] {
        components
            .create(&PostParams::default(), &component(name, "v1.0.0"))
            .await
            .expect("create Component");
    }

    let (tx, mut rx) = mpsc::channel(256);
    let watch = cluster::watch(&conn, tx);
    wait_synced(&mut rx).await;
    assert_eq!(watch.components.state().len(), 2);

    // Kill the API server (etcd too) in the middle of the watch.
    let s = server.clone();
    tokio::task::spawn_blocking(move || s.stop())
        .await
        .expect("join");
    let msg = expect_msg(&mut rx, "Disconnected", |m| {
        matches!(m, ClusterMsg::Disconnected { .. })
    })
    .await;
    assert!(
        matches!(
            msg,
            ClusterMsg::Disconnected {
                error: ClusterError::Unreachable { .. },
                ..
            }
        ),
        "{msg:?}"
    );

    let restarted_at = Instant::now();
    let s = server.clone();
    tokio::task::spawn_blocking(move || s.start())
        .await
        .expect("join")
        .expect("API server restarts on the same ports and data");
    eprintln!("API server restart took {:?}", restarted_at.elapsed());

    // Updates right after the restart: a version change and a deletion.
    let client = server.admin_client().await.expect("client after restart");
    let components: Api<Component> = Api::namespaced(client.clone(), &ns);
    components
        .patch(
            "cnpg",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "spec": { "version": "v2.0.0" } })),
        )
        .await
        .expect("update after restart");
    components
        .delete("grafana", &DeleteParams::default())
        .await
        .expect("delete after restart");

    // The server lost its watch cache, so the watcher either sees the changes as events or
    // re-lists (410 Gone) and swaps in a complete store; either way a message tells the console
    // to redraw, and after it the store must equal the server.
    let expected = vec![("cnpg".to_owned(), "v2.0.0".to_owned())];
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    let mut reconnected = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(ev)) => ev,
            other => panic!(
                "store never matched the server with Reconnected reported ({other:?}); seen: {seen:#?}"
            ),
        };
        if matches!(ev.msg, ClusterMsg::Reconnected { .. }) {
            reconnected = true;
        }
        seen.push(format!("{:?}", ev.msg));
        let mut store: Vec<_> = watch
            .components
            .state()
            .iter()
            .map(|c| {
                (
                    c.metadata.name.clone().unwrap_or_default(),
                    c.spec.version.clone(),
                )
            })
            .collect();
        store.sort();
        // The reflector updates the store before its message reaches us, so the store can
        // match while Reconnected is still on its way: wait for both.
        if store == expected && reconnected {
            break;
        }
    }
    assert!(reconnected, "Reconnected was reported; seen: {seen:#?}");
    let mut server_list: Vec<_> = components
        .list(&Default::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|c| (c.metadata.name.unwrap_or_default(), c.spec.version))
        .collect();
    server_list.sort();
    assert_eq!(server_list, expected);
    assert_eq!(watch.platforms.state().len(), 1, "Platform store intact");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sets_and_removes_the_maintenance_window_keeping_components() {
    use openova::cluster::commands;
    use openova::crd::platform::{MaintenanceWindow, Weekday};
    let Some(server) = server() else { return };
    let ns = server.namespace("window").await.expect("namespace");
    let conn = conn_as(server, ADMIN_CONTEXT, &ns).await;
    let client = server.admin_client().await.expect("client");
    let platforms: Api<Platform> = Api::namespaced(client, &ns);
    let mut p = platform(
        "acme",
        serde_json::json!([{ "name": "cilium", "version": "v1.16.3", "enabled": true }]),
    );
    p.spec.maintenance_window = Some(MaintenanceWindow {
        days: vec![Weekday::Sun],
        start: "03:00".into(),
        duration_minutes: 60,
        time_zone: None,
    });
    platforms
        .create(&PostParams::default(), &p)
        .await
        .expect("create Platform");
    // The console owns components and removals through its own writes.
    cluster::install(&conn, "acme", "cnpg", &component_spec("cnpg", "v1.24.0"))
        .await
        .expect("install");

    let wanted = MaintenanceWindow {
        days: vec![Weekday::Sat, Weekday::Sun],
        start: "04:30".into(),
        // Same as the creator's: that field stays co-owned by the creator.
        duration_minutes: 60,
        time_zone: Some("Europe/Berlin".into()),
    };
    let wrote = commands::set_maintenance_window(&conn, "acme", Some(&wanted))
        .await
        .expect("set window");
    assert!(wrote);
    let p = platforms.get("acme").await.expect("Platform");
    assert_eq!(p.spec.maintenance_window.as_ref(), Some(&wanted));
    let names: Vec<_> = p.spec.components.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["cilium", "cnpg"],
        "the window write keeps the components"
    );
    assert!(managers(&p.metadata).contains(&commands::FIELD_MANAGER_WINDOW.to_owned()));

    // A later component write keeps the window, and the window write keeps the removal.
    cluster::uninstall(&conn, "acme", "cnpg", &[])
        .await
        .expect("uninstall");
    let p = platforms.get("acme").await.expect("Platform");
    assert_eq!(p.spec.maintenance_window.as_ref(), Some(&wanted));
    assert_eq!(p.spec.removals.len(), 1);

    // Removing: the field is gone although the creator also owned parts of it.
    let wrote = commands::set_maintenance_window(&conn, "acme", None)
        .await
        .expect("remove window");
    assert!(wrote);
    let p = platforms.get("acme").await.expect("Platform");
    assert_eq!(p.spec.maintenance_window, None);
    assert_eq!(p.spec.components.len(), 2, "entries stay");
    assert_eq!(p.spec.removals.len(), 1, "the confirmed removal stays");
    assert!(
        !commands::set_maintenance_window(&conn, "acme", None)
            .await
            .expect("remove again"),
        "nothing to remove writes nothing"
    );
}
