//! Kubernetes Events from the manager, with series: an Event repeated with the same note
//! counts up (`series.count`, `series.lastObservedTime`) instead of piling up copies, and a new
//! note is a new Event, so what `kubectl get events` and the console show is the newest message
//! and when it was last seen. (kube's `Recorder` folds every note of one reason into the first
//! Event's series, so "all 13 components are healthy" stayed the text with 20; the API server
//! does not allow an Event's note to change.)

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event as K8sEvent, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::events::EventType;
use tokio::sync::Mutex;

/// How long a published Event is remembered for counting repeats (kube's recorder uses the
/// same six minutes).
const SERIES_TTL: Duration = Duration::from_secs(360);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    regarding: (Option<String>, Option<String>, Option<String>),
    type_: &'static str,
    reason: String,
    note: String,
}

/// Publishes Events for one manager identity.
pub struct Publisher {
    client: Client,
    controller: String,
    instance: String,
    seen: Mutex<HashMap<Key, (K8sEvent, Timestamp)>>,
}

impl Publisher {
    pub fn new(client: Client, controller: &str, instance: &str) -> Self {
        Publisher {
            client,
            controller: controller.to_string(),
            instance: instance.to_string(),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Publish one Event about `regarding`: a repeat of the same note within the series TTL
    /// updates the series of the Event already written.
    pub async fn publish(
        &self,
        regarding: &ObjectReference,
        type_: EventType,
        reason: &str,
        note: &str,
    ) -> Result<(), kube::Error> {
        let now = Timestamp::now();
        let type_ = match type_ {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        };
        let key = Key {
            regarding: (
                regarding.namespace.clone(),
                regarding.name.clone(),
                regarding.uid.clone(),
            ),
            type_,
            reason: reason.to_string(),
            note: note.to_string(),
        };
        let ns = regarding
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string());
        let api: Api<K8sEvent> = Api::namespaced(self.client.clone(), &ns);
        let mut seen = self.seen.lock().await;
        let ttl = jiff::SignedDuration::try_from(SERIES_TTL).unwrap_or_default();
        seen.retain(|_, (_, at)| at.checked_add(ttl).is_ok_and(|until| until > now));
        let event = match seen.get(&key) {
            Some((earlier, _)) => {
                let mut event = earlier.clone();
                let count = event.series.as_ref().map_or(2, |s| s.count + 1);
                event.series = Some(EventSeries {
                    count,
                    last_observed_time: MicroTime(now),
                });
                let name = event.metadata.name.clone().unwrap_or_default();
                let patch = serde_json::json!({ "series": event.series });
                api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?;
                event
            }
            None => {
                let event = K8sEvent {
                    action: Some("Reconcile".to_string()),
                    reason: Some(reason.to_string()),
                    event_time: Some(MicroTime(now)),
                    regarding: Some(regarding.clone()),
                    note: Some(note.to_string()),
                    metadata: ObjectMeta {
                        namespace: Some(ns.clone()),
                        name: Some(format!(
                            "{}.{:x}",
                            regarding.name.as_deref().unwrap_or(&self.controller),
                            now.as_nanosecond()
                        )),
                        ..ObjectMeta::default()
                    },
                    reporting_controller: Some(self.controller.clone()),
                    reporting_instance: Some(self.instance.clone()),
                    type_: Some(type_.to_string()),
                    ..K8sEvent::default()
                };
                api.create(&PostParams::default(), &event).await?
            }
        };
        seen.insert(key, (event, now));
        Ok(())
    }
}
