//! Prometheus metrics of the manager: reconciles, errors, durations, writes, leadership and
//! components by health, kept and encoded by `prometheus-client` (OpenMetrics text, which
//! Prometheus scrapes natively). The metric names are part of the interface: dashboards and
//! alerts use them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kube::ResourceExt;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::crd::{Component, Health};

/// The `Content-Type` of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds (seconds) of the reconcile duration histogram.
const BUCKETS: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// Every health a Component can report; each has a `components` sample, 0 when none has it.
const HEALTHS: [Health; 5] = [
    Health::Unknown,
    Health::Installing,
    Health::Healthy,
    Health::Degraded,
    Health::Failed,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HealthLabel {
    health: &'static str,
}

fn duration_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// Counters shared by the controllers and the HTTP endpoint.
pub struct Metrics {
    registry: Registry,
    reconciles: Family<KindLabel, Counter>,
    errors: Family<KindLabel, Counter>,
    durations: Family<KindLabel, Histogram, fn() -> Histogram>,
    writes: Counter,
    leader: Gauge,
    components: Family<HealthLabel, Gauge>,
    ready: AtomicBool,
    /// Health per namespace and Component, from which the `components` gauge is counted.
    health: Mutex<BTreeMap<String, BTreeMap<String, Health>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let reconciles = Family::<KindLabel, Counter>::default();
        let errors = Family::<KindLabel, Counter>::default();
        let durations: Family<KindLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(duration_histogram);
        let writes = Counter::default();
        let leader = Gauge::default();
        let components = Family::<HealthLabel, Gauge>::default();
        for h in HEALTHS {
            let _ = components.get_or_create(&HealthLabel { health: h.as_str() });
        }
        let mut registry = Registry::default();
        registry.register(
            "openova_manager_reconciles",
            "Reconciles by kind",
            reconciles.clone(),
        );
        registry.register(
            "openova_manager_reconcile_errors",
            "Failed reconciles by kind",
            errors.clone(),
        );
        registry.register(
            "openova_manager_reconcile_duration_seconds",
            "Reconcile duration",
            durations.clone(),
        );
        registry.register(
            "openova_manager_writes",
            "Write requests sent to the API server",
            writes.clone(),
        );
        registry.register(
            "openova_manager_leader",
            "Whether this replica holds the Lease",
            leader.clone(),
        );
        registry.register(
            "openova_manager_components",
            "Components by health",
            components.clone(),
        );
        Metrics {
            registry,
            reconciles,
            errors,
            durations,
            writes,
            leader,
            components,
            ready: AtomicBool::new(false),
            health: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Record one reconcile of `kind`.
    pub fn observe_reconcile(&self, kind: &'static str, took: Duration, failed: bool) {
        let label = KindLabel { kind };
        self.reconciles.get_or_create(&label).inc();
        // Present (at 0) for every kind that reconciled, so a rate has a series to start from.
        let errors = self.errors.get_or_create(&label);
        if failed {
            errors.inc();
        }
        self.durations
            .get_or_create(&label)
            .observe(took.as_secs_f64());
    }

    /// Count one write request sent to the API server.
    pub fn count_write(&self) {
        self.writes.inc();
    }

    /// Write requests sent so far (tests and benchmarks read this to prove idleness).
    pub fn writes(&self) -> u64 {
        self.writes.get()
    }

    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    pub fn is_leader(&self) -> bool {
        self.leader.get() == 1
    }

    /// Ready once connected to the API server and the leader election has started.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Remember the health of a Platform's components for the `components` gauge.
    pub fn set_component_health(&self, components: &[Arc<Component>]) {
        let Ok(mut map) = self.health.lock() else {
            return;
        };
        for c in components {
            let ns = c.namespace().unwrap_or_default();
            map.entry(ns).or_default().insert(
                c.name_any(),
                c.status.as_ref().and_then(|s| s.health).unwrap_or_default(),
            );
        }
        let mut counts: BTreeMap<&'static str, i64> =
            HEALTHS.iter().map(|h| (h.as_str(), 0)).collect();
        for per_ns in map.values() {
            for h in per_ns.values() {
                *counts.entry(h.as_str()).or_default() += 1;
            }
        }
        for (health, n) in counts {
            self.components
                .get_or_create(&HealthLabel { health })
                .set(n);
        }
    }

    /// The OpenMetrics text exposition ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; an empty scrape would be the only consequence.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_counts_reconciles_errors_and_buckets() {
        let m = Metrics::default();
        m.observe_reconcile("component", Duration::from_millis(20), false);
        m.observe_reconcile("component", Duration::from_millis(2), true);
        m.count_write();
        let text = m.render();
        assert!(text.contains("openova_manager_reconciles_total{kind=\"component\"} 2"));
        assert!(text.contains("openova_manager_reconcile_errors_total{kind=\"component\"} 1"));
        // OpenMetrics puts a bucket's `le` before the family's labels.
        assert!(text.contains(
            "openova_manager_reconcile_duration_seconds_bucket{le=\"0.01\",kind=\"component\"} 1"
        ));
        assert!(text.contains(
            "openova_manager_reconcile_duration_seconds_bucket{le=\"0.025\",kind=\"component\"} 2"
        ));
        assert!(text.contains("openova_manager_writes_total 1"));
        assert!(text.contains("openova_manager_components{health=\"Healthy\"} 0"));
        assert!(text.contains("openova_manager_leader 0"));
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
