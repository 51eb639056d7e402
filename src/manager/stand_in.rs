//! A stand-in for Flux's helm-controller (and Crossplane's provider-helm) on an API server without
//! them: it watches delivery objects and sets their `Ready` condition for the current generation,
//! the way the real controllers report a release. Chart versions listed as failing turn
//! Ready=False, so upgrade failures and rollbacks can be exercised. Used by tests, benchmarks and
//! local playgrounds; never by the manager itself.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use super::delivery::{self, Readiness};

/// What the stand-in reports.
#[derive(Clone, Debug, Default)]
pub struct StandIn {
    /// Chart versions whose install or upgrade fails (Ready=False, reason UpgradeFailed): either
    /// `1.1.1` for every release, or `cilium@1.1.1` for the release named `cilium` only (wrapper
    /// chart versions repeat across components).
    pub failing_versions: BTreeSet<String>,
    /// How long a release takes before it reports.
    pub delay: Duration,
}

/// Field manager of the stand-in's status writes.
const FIELD_MANAGER: &str = "helm-controller-stand-in";

fn chart_version(obj: &DynamicObject) -> Option<String> {
    let spec = obj.data.get("spec")?;
    spec.pointer("/chart/spec/version")
        .or_else(|| spec.pointer("/forProvider/chart/version"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn depends_on(obj: &DynamicObject) -> Vec<String> {
    obj.data
        .pointer("/spec/dependsOn")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| d.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl StandIn {
    /// The status the real controller would write now, or `None` when the current one stands.
    fn next_status(
        &self,
        obj: &DynamicObject,
        ready: &BTreeMap<String, bool>,
    ) -> Option<(bool, &'static str, String)> {
        let version = chart_version(obj)?;
        let blocked: Vec<String> = depends_on(obj)
            .into_iter()
            .filter(|d| ready.get(d) != Some(&true))
            .collect();
        let (ok, reason, message) = if !blocked.is_empty() {
            (
                false,
                "DependencyNotReady",
                format!("dependencies not ready: {}", blocked.join(", ")),
            )
        } else if self.failing_versions.contains(&version)
            || self
                .failing_versions
                .contains(&format!("{}@{version}", obj.name_any()))
        {
            (
                false,
                "UpgradeFailed",
                format!("Helm upgrade to {version} failed: pods not ready"),
            )
        } else {
            (
                true,
                "UpgradeSucceeded",
                format!("Helm release at {version} is ready"),
            )
        };
        let current = delivery::readiness(obj);
        let same = match &current {
            Readiness::Ready { reason: r, .. } => ok && r == reason,
            Readiness::Failed { reason: r, .. } => !ok && r == reason,
            _ => false,
        };
        (!same).then_some((ok, reason, message))
    }

    /// Play the controller for `resource` objects (in `namespace`, or cluster-wide) until the
    /// watch ends.
    pub async fn run(self, client: Client, resource: ApiResource, namespace: Option<String>) {
        let api: Api<DynamicObject> = match &namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
            None => Api::all_with(client.clone(), &resource),
        };
        let mut objects: BTreeMap<String, DynamicObject> = BTreeMap::new();
        let mut stream = watcher(api.clone(), watcher::Config::default()).boxed();
        let permits = Arc::new(tokio::sync::Semaphore::new(64));
        // What was last reported per release and generation: the watch may still show the
        // previous status, and the same report is not sent twice.
        let mut reported: BTreeMap<String, (i64, bool, &'static str)> = BTreeMap::new();
        // Readiness of every release, and who depends on whom, kept up to date per event so one
        // event costs the same with ten releases or a thousand.
        let mut ready: BTreeMap<String, bool> = BTreeMap::new();
        let mut dependents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        // The newest report per release, and one lock per release held while writing it.
        let newest: Arc<Mutex<BTreeMap<String, Value>>> = Arc::default();
        let mut writing: BTreeMap<String, Arc<tokio::sync::Mutex<()>>> = BTreeMap::new();
        while let Some(event) = stream.next().await {
            let touched = match event {
                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                    let name = o.name_any();
                    ready.insert(
                        name.clone(),
                        matches!(delivery::readiness(&o), Readiness::Ready { .. }),
                    );
                    for d in depends_on(&o) {
                        dependents.entry(d).or_default().insert(name.clone());
                    }
                    objects.insert(name.clone(), o);
                    name
                }
                Ok(watcher::Event::Delete(o)) => {
                    let name = o.name_any();
                    objects.remove(&name);
                    reported.remove(&name);
                    writing.remove(&name);
                    if let Ok(mut newest) = newest.lock() {
                        newest.remove(&name);
                    }
                    ready.remove(&name);
                    for d in depends_on(&o) {
                        if let Some(set) = dependents.get_mut(&d) {
                            set.remove(&name);
                        }
                    }
                    continue;
                }
                Ok(watcher::Event::Init | watcher::Event::InitDone) | Err(_) => continue,
            };
            // The touched object, and everything waiting on it.
            let mut check = vec![touched.clone()];
            check.extend(dependents.get(&touched).into_iter().flatten().cloned());
            for name in check {
                let Some(obj) = objects.get(&name) else {
                    continue;
                };
                let Some((ok, reason, message)) = self.next_status(obj, &ready) else {
                    continue;
                };
                let generation = obj.metadata.generation.unwrap_or(1);
                if reported.get(&name) == Some(&(generation, ok, reason)) {
                    continue;
                }
                reported.insert(name.clone(), (generation, ok, reason));
                let status = json!({
                    "status": {
                        "observedGeneration": generation,
                        "lastAttemptedRevision": chart_version(obj),
                        "conditions": [{
                            "type": "Ready",
                            "status": if ok { "True" } else { "False" },
                            "reason": reason,
                            "message": message,
                            "observedGeneration": generation,
                            "lastTransitionTime": k8s_openapi::jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                        }]
                    }
                });
                // Releases report independently, as in a real cluster; a bounded number at once.
                // Reports on one release go out one at a time, each sending the newest: a slow
                // "dependencies not ready" must not land after the "ready" that followed it.
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                if let Ok(mut newest) = newest.lock() {
                    newest.insert(name.clone(), status);
                }
                let release = writing.entry(name.clone()).or_default().clone();
                let (api, delay, newest) = (api.clone(), self.delay, newest.clone());
                tokio::spawn(async move {
                    let _permit = permit;
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    let _one_at_a_time = release.lock().await;
                    let Some(status) = newest.lock().ok().and_then(|n| n.get(&name).cloned())
                    else {
                        return;
                    };
                    if let Err(error) = api
                        .patch_status(
                            &name,
                            &PatchParams::apply(FIELD_MANAGER),
                            &Patch::Merge(&status),
                        )
                        .await
                    {
                        tracing::debug!(%error, name, "stand-in could not write a status");
                    }
                });
            }
        }
    }
}
