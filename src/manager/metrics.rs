//! Prometheus metrics of the manager: reconciles, errors, durations, writes, and components by
//! health, rendered in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use kube::ResourceExt;

use crate::crd::{Component, Health};

/// Upper bounds (seconds) of the reconcile duration histogram.
const BUCKETS: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Counters shared by the controllers and the HTTP endpoint.
#[derive(Default)]
pub struct Metrics {
    reconciles: Mutex<BTreeMap<&'static str, (u64, u64, Histogram)>>,
    writes: AtomicU64,
    leader: AtomicBool,
    ready: AtomicBool,
    health: Mutex<BTreeMap<String, BTreeMap<String, Health>>>,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Record one reconcile of `kind`.
    pub fn observe_reconcile(&self, kind: &'static str, took: Duration, failed: bool) {
        let Ok(mut map) = self.reconciles.lock() else {
            return;
        };
        let entry = map.entry(kind).or_default();
        entry.0 += 1;
        if failed {
            entry.1 += 1;
        }
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                entry.2.counts[i] += 1;
            }
        }
        entry.2.sum += secs;
        entry.2.count += 1;
    }

    /// Count one write request sent to the API server.
    pub fn count_write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// Write requests sent so far (tests and benchmarks read this to prove idleness).
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    pub fn set_leader(&self, leader: bool) {
        self.leader.store(leader, Ordering::Relaxed);
    }

    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Relaxed)
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
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP openova_manager_reconciles_total Reconciles by kind."
        );
        let _ = writeln!(out, "# TYPE openova_manager_reconciles_total counter");
        let map = self.reconciles.lock().ok();
        if let Some(map) = &map {
            for (kind, (n, _, _)) in map.iter() {
                let _ = writeln!(
                    out,
                    "openova_manager_reconciles_total{{kind=\"{kind}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "# HELP openova_manager_reconcile_errors_total Failed reconciles by kind."
            );
            let _ = writeln!(out, "# TYPE openova_manager_reconcile_errors_total counter");
            for (kind, (_, e, _)) in map.iter() {
                let _ = writeln!(
                    out,
                    "openova_manager_reconcile_errors_total{{kind=\"{kind}\"}} {e}"
                );
            }
            let _ = writeln!(
                out,
                "# HELP openova_manager_reconcile_duration_seconds Reconcile duration."
            );
            let _ = writeln!(
                out,
                "# TYPE openova_manager_reconcile_duration_seconds histogram"
            );
            for (kind, (_, _, h)) in map.iter() {
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "openova_manager_reconcile_duration_seconds_bucket{{kind=\"{kind}\",le=\"{bound}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "openova_manager_reconcile_duration_seconds_bucket{{kind=\"{kind}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "openova_manager_reconcile_duration_seconds_sum{{kind=\"{kind}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "openova_manager_reconcile_duration_seconds_count{{kind=\"{kind}\"}} {}",
                    h.count
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP openova_manager_writes_total Write requests sent to the API server."
        );
        let _ = writeln!(out, "# TYPE openova_manager_writes_total counter");
        let _ = writeln!(out, "openova_manager_writes_total {}", self.writes());
        let _ = writeln!(
            out,
            "# HELP openova_manager_leader Whether this replica holds the Lease."
        );
        let _ = writeln!(out, "# TYPE openova_manager_leader gauge");
        let _ = writeln!(out, "openova_manager_leader {}", u8::from(self.is_leader()));
        let _ = writeln!(
            out,
            "# HELP openova_manager_components Components by health."
        );
        let _ = writeln!(out, "# TYPE openova_manager_components gauge");
        let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
        for h in [
            Health::Unknown,
            Health::Installing,
            Health::Healthy,
            Health::Degraded,
            Health::Failed,
        ] {
            counts.insert(h.as_str(), 0);
        }
        if let Ok(map) = self.health.lock() {
            for per_ns in map.values() {
                for h in per_ns.values() {
                    *counts.entry(h.as_str()).or_default() += 1;
                }
            }
        }
        for (h, n) in counts {
            let _ = writeln!(out, "openova_manager_components{{health=\"{h}\"}} {n}");
        }
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
        assert!(text.contains(
            "openova_manager_reconcile_duration_seconds_bucket{kind=\"component\",le=\"0.01\"} 1"
        ));
        assert!(text.contains(
            "openova_manager_reconcile_duration_seconds_bucket{kind=\"component\",le=\"0.025\"} 2"
        ));
        assert!(text.contains("openova_manager_writes_total 1"));
        assert!(text.contains("openova_manager_components{health=\"Healthy\"} 0"));
    }
}
