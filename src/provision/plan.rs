//! What a saved plan will do, for the operator who approves it: per cluster the resources to
//! add, change and destroy (in total and by type), the monthly cost of the servers, load
//! balancers and volumes from list prices, and warnings (the API or ssh open to the world, a
//! destroy inside a change). Computed from `tofu show -json PLANFILE` (OpenTofu's JSON plan
//! representation, `resource_changes[]`); the values of sensitive attributes are never kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::naming::{self, Provider};
use crate::domain::platform::PlatformConfig;

/// Why a plan document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("`tofu show -json` printed something that is not a JSON plan: {0}")]
    NotJson(String),
    #[error("the JSON plan has no resource_changes list (format_version {0:?})")]
    NoChanges(String),
}

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
    /// Delete and create (either order).
    Replace,
    Read,
    NoOp,
    /// Removed from the state, kept in the cloud (OpenTofu 1.7+ `removed` blocks).
    Forget,
}

impl Action {
    fn from_actions(actions: &[String]) -> Action {
        let has = |a: &str| actions.iter().any(|x| x == a);
        match (has("create"), has("delete")) {
            (true, true) => Action::Replace,
            (true, false) => Action::Create,
            (false, true) => Action::Delete,
            _ if has("update") => Action::Update,
            _ if has("read") => Action::Read,
            _ if has("forget") => Action::Forget,
            _ => Action::NoOp,
        }
    }
}

/// One entry of `resource_changes`, with only the attributes the summary prices.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    pub address: String,
    pub resource_type: String,
    pub action: Action,
    /// What the priced attributes are after the change (before, for a delete).
    pub sku: Option<String>,
    pub size_gb: Option<f64>,
}

/// Reads `tofu show -json PLANFILE`.
pub fn parse_show_json(text: &str) -> Result<Vec<ResourceChange>, PlanError> {
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| PlanError::NotJson(e.to_string()))?;
    let Some(list) = doc.get("resource_changes").and_then(|v| v.as_array()) else {
        // A plan with nothing managed has no list at all.
        if doc.get("format_version").is_some() {
            return Ok(Vec::new());
        }
        return Err(PlanError::NoChanges(
            doc.get("format_version")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned(),
        ));
    };
    let mut out = Vec::new();
    for rc in list {
        if rc.get("mode").and_then(|m| m.as_str()) == Some("data") {
            continue;
        }
        let s =
            |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        let actions: Vec<String> = rc
            .pointer("/change/actions")
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let action = Action::from_actions(&actions);
        let rtype = s(rc, "type").unwrap_or_default();
        let values = match action {
            Action::Delete => rc.pointer("/change/before"),
            _ => rc.pointer("/change/after"),
        }
        .cloned()
        .unwrap_or(serde_json::Value::Null);
        let (sku, size_gb) = priced_attributes(&rtype, &values);
        out.push(ResourceChange {
            address: s(rc, "address").unwrap_or_default(),
            resource_type: rtype,
            action,
            sku,
            size_gb,
        });
    }
    Ok(out)
}

/// The attribute that names a resource's price class, per resource type of our modules.
fn priced_attributes(rtype: &str, v: &serde_json::Value) -> (Option<String>, Option<f64>) {
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let n = |k: &str| v.get(k).and_then(serde_json::Value::as_f64);
    match rtype {
        "hcloud_server" => (s("server_type"), None),
        "hcloud_load_balancer" => (s("load_balancer_type"), None),
        "hcloud_volume" => (None, n("size")),
        "huaweicloud_compute_instance" => (s("flavor_id"), None),
        "huaweicloud_evs_volume" => (s("volume_type"), n("size")),
        "oci_core_instance" => {
            let shape = s("shape");
            let cfg = v.get("shape_config").and_then(|c| c.get(0).or(Some(c)));
            let ocpus = cfg
                .and_then(|c| c.get("ocpus"))
                .and_then(serde_json::Value::as_f64);
            let mem = cfg
                .and_then(|c| c.get("memory_in_gbs"))
                .and_then(serde_json::Value::as_f64);
            let sku = match (shape, ocpus, mem) {
                (Some(sh), Some(o), Some(m)) => Some(format!("{sh}.{o}.{m}")),
                (sh, _, _) => sh,
            };
            (sku, None)
        }
        _ => (None, None),
    }
}

/// The kind of thing that costs money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostKind {
    Server,
    LoadBalancer,
    Volume,
}

fn cost_kind(rtype: &str) -> Option<CostKind> {
    match rtype {
        "hcloud_server" | "huaweicloud_compute_instance" | "oci_core_instance" => {
            Some(CostKind::Server)
        }
        "hcloud_load_balancer"
        | "huaweicloud_elb_loadbalancer"
        | "oci_network_load_balancer_network_load_balancer"
        | "oci_load_balancer_load_balancer" => Some(CostKind::LoadBalancer),
        "hcloud_volume" | "huaweicloud_evs_volume" | "oci_core_volume" => Some(CostKind::Volume),
        _ => None,
    }
}

/// A list price: what, how much, where it comes from and as of when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub provider: Provider,
    pub kind: CostKind,
    /// Server or load-balancer type; `"per-gb"` for volumes.
    pub sku: &'static str,
    pub eur_per_month: f64,
    pub source: &'static str,
    pub as_of: &'static str,
}

const HETZNER_PRICES: &str = "Hetzner Cloud price list (hetzner.com/cloud), EUR excl. VAT";

/// Load balancer and volume list prices. Server prices come from [`naming::SERVER_SIZES`]
/// (the same table as the sizing screen). Huawei Cloud and OCI prices depend on the account's
/// contract and region, so they are not estimated.
pub const PRICES: &[Price] = &[
    Price {
        provider: Provider::Hetzner,
        kind: CostKind::LoadBalancer,
        sku: "lb11",
        eur_per_month: 5.39,
        source: HETZNER_PRICES,
        as_of: "2024-10",
    },
    Price {
        provider: Provider::Hetzner,
        kind: CostKind::LoadBalancer,
        sku: "lb21",
        eur_per_month: 16.40,
        source: HETZNER_PRICES,
        as_of: "2024-10",
    },
    Price {
        provider: Provider::Hetzner,
        kind: CostKind::LoadBalancer,
        sku: "lb31",
        eur_per_month: 32.90,
        source: HETZNER_PRICES,
        as_of: "2024-10",
    },
    Price {
        provider: Provider::Hetzner,
        kind: CostKind::Volume,
        sku: "per-gb",
        eur_per_month: 0.044,
        source: HETZNER_PRICES,
        as_of: "2024-10",
    },
];

/// Monthly list price of one resource, or `None` when unknown.
pub fn monthly_price(provider: Provider, rc: &ResourceChange) -> Option<f64> {
    let kind = cost_kind(&rc.resource_type)?;
    match kind {
        CostKind::Server => {
            let sku = rc.sku.as_deref()?;
            naming::server_sizes(provider)
                .find(|s| s.id == sku)
                .and_then(|s| s.eur_per_month)
        }
        CostKind::LoadBalancer => {
            let sku = rc.sku.as_deref()?;
            PRICES
                .iter()
                .find(|p| p.provider == provider && p.kind == kind && p.sku == sku)
                .map(|p| p.eur_per_month)
        }
        CostKind::Volume => {
            let gb = rc.size_gb?;
            PRICES
                .iter()
                .find(|p| p.provider == provider && p.kind == kind)
                .map(|p| p.eur_per_month * gb)
        }
    }
}

/// Add/change/destroy counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub add: u32,
    pub change: u32,
    pub destroy: u32,
}

impl Counts {
    fn count(&mut self, a: Action) {
        match a {
            Action::Create => self.add += 1,
            Action::Update => self.change += 1,
            Action::Delete => self.destroy += 1,
            Action::Replace => {
                self.add += 1;
                self.destroy += 1;
            }
            Action::Read | Action::NoOp | Action::Forget => {}
        }
    }

    pub fn is_empty(&self) -> bool {
        self.add == 0 && self.change == 0 && self.destroy == 0
    }
}

/// One cluster's plan, as shown for approval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterPlan {
    pub cluster: String,
    pub totals: Counts,
    pub by_type: BTreeMap<String, Counts>,
    /// Monthly EUR of the priced resources that exist after the change (that go away, for a
    /// destroy plan), by kind and SKU: `("server cx43", count, eur)`.
    pub costs: Vec<(String, u32, f64)>,
    pub monthly_eur: f64,
    /// Resources whose price is unknown (`huaweicloud_compute_instance c7n.xlarge.2`).
    pub unpriced: Vec<String>,
    /// Addresses deleted (or replaced) by this plan.
    pub deletions: Vec<String>,
}

impl ClusterPlan {
    pub fn from_changes(
        cluster: &str,
        provider: Provider,
        changes: &[ResourceChange],
        destroy_plan: bool,
    ) -> ClusterPlan {
        let mut p = ClusterPlan {
            cluster: cluster.to_owned(),
            ..ClusterPlan::default()
        };
        let mut costs: BTreeMap<String, (u32, f64)> = BTreeMap::new();
        let mut unpriced: BTreeMap<String, u32> = BTreeMap::new();
        for rc in changes {
            p.totals.count(rc.action);
            if !matches!(rc.action, Action::NoOp | Action::Read) {
                p.by_type
                    .entry(rc.resource_type.clone())
                    .or_default()
                    .count(rc.action);
            }
            if matches!(rc.action, Action::Delete | Action::Replace) {
                p.deletions.push(rc.address.clone());
            }
            let counts_for_cost = if destroy_plan {
                rc.action == Action::Delete
            } else {
                !matches!(rc.action, Action::Delete | Action::Forget | Action::Read)
            };
            let Some(kind) = cost_kind(&rc.resource_type) else {
                continue;
            };
            if !counts_for_cost {
                continue;
            }
            let label = match kind {
                CostKind::Server => format!("server {}", rc.sku.as_deref().unwrap_or("?")),
                CostKind::LoadBalancer => {
                    format!("load balancer {}", rc.sku.as_deref().unwrap_or("?"))
                }
                CostKind::Volume => "volume GB".to_owned(),
            };
            match monthly_price(provider, rc) {
                Some(eur) => {
                    let e = costs.entry(label).or_default();
                    e.0 += match kind {
                        CostKind::Volume => rc.size_gb.unwrap_or(0.0) as u32,
                        _ => 1,
                    };
                    e.1 += eur;
                    p.monthly_eur += eur;
                }
                None => *unpriced.entry(label).or_default() += 1,
            }
        }
        p.costs = costs.into_iter().map(|(k, (n, e))| (k, n, e)).collect();
        p.unpriced = unpriced
            .into_iter()
            .map(|(k, n)| format!("{n} × {k}"))
            .collect();
        p
    }
}

/// The whole plan of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanSummary {
    pub destroy: bool,
    pub clusters: Vec<ClusterPlan>,
    pub warnings: Vec<String>,
}

/// Whether a CIDR list admits every address.
fn world_open(cidrs: &[String]) -> bool {
    cidrs.iter().any(|c| c.ends_with("/0"))
}

impl PlanSummary {
    /// Adds the warnings that concern the configuration (who may reach the cluster) and the
    /// plan (a destroy inside a change).
    pub fn add_warnings(&mut self, config: &PlatformConfig) {
        self.warnings.clear();
        if !self.destroy {
            match &config.api {
                None => self.warnings.push(
                    "platform.toml has no api.allowed_cidrs: no network may reach the Kubernetes \
                     API. List the bastion's and your admins' networks there."
                        .into(),
                ),
                Some(a) if world_open(&a.allowed_cidrs) => self.warnings.push(
                    "The Kubernetes API is open to the world: api.allowed_cidrs contains a /0 \
                     network. The API still needs a client certificate, but it is exposed to \
                     every scanner; narrow it to the bastion's and your admins' networks."
                        .into(),
                ),
                Some(_) => {}
            }
            if world_open(&config.ssh.allowed_cidrs) {
                self.warnings.push(
                    "ssh (port 22) is open to the world: ssh.allowed_cidrs contains a /0 \
                     network. Narrow it, or leave it empty to close ssh."
                        .into(),
                );
            }
            for c in &self.clusters {
                if !c.deletions.is_empty() {
                    self.warnings.push(format!(
                        "This change DESTROYS {} resource{} of {}: {}",
                        c.deletions.len(),
                        if c.deletions.len() == 1 { "" } else { "s" },
                        c.cluster,
                        c.deletions.join(", ")
                    ));
                }
            }
        }
    }

    pub fn monthly_eur(&self) -> f64 {
        self.clusters.iter().map(|c| c.monthly_eur).sum()
    }

    /// The text shown before the operator approves.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let verb = if self.destroy { "Destroy plan" } else { "Plan" };
        for c in &self.clusters {
            out.push_str(&format!(
                "{verb} for {}: {} to add, {} to change, {} to destroy\n",
                c.cluster, c.totals.add, c.totals.change, c.totals.destroy
            ));
            for (t, n) in &c.by_type {
                let mut parts = Vec::new();
                if n.add > 0 {
                    parts.push(format!("+{}", n.add));
                }
                if n.change > 0 {
                    parts.push(format!("~{}", n.change));
                }
                if n.destroy > 0 {
                    parts.push(format!("-{}", n.destroy));
                }
                out.push_str(&format!("  {t:<44} {}\n", parts.join(" ")));
            }
            if self.destroy && !c.deletions.is_empty() {
                out.push_str("  will be deleted:\n");
                for d in &c.deletions {
                    out.push_str(&format!("    {d}\n"));
                }
            }
            let what = if self.destroy {
                "monthly cost removed"
            } else {
                "monthly cost"
            };
            for (label, n, eur) in &c.costs {
                out.push_str(&format!("  {what:<22} {n:>4} × {label:<24} €{eur:>9.2}\n"));
            }
            if !c.unpriced.is_empty() {
                out.push_str(&format!(
                    "  not priced (contract-dependent list prices): {}\n",
                    c.unpriced.join(", ")
                ));
            }
            out.push_str(&format!(
                "  {what} of {}: €{:.2} per month (list prices, excl. VAT)\n",
                c.cluster, c.monthly_eur
            ));
        }
        if self.clusters.len() > 1 {
            out.push_str(&format!(
                "Total: €{:.2} per month (list prices, excl. VAT)\n",
                self.monthly_eur()
            ));
        }
        for w in &self.warnings {
            out.push_str(&format!("WARNING: {w}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_json(changes: serde_json::Value) -> String {
        serde_json::json!({"format_version": "1.2", "terraform_version": "1.10.5", "resource_changes": changes}).to_string()
    }

    #[test]
    fn counts_types_costs_and_deletions_from_a_json_plan() {
        let text = plan_json(serde_json::json!([
            {"address": "hcloud_server.control_plane[0]", "mode": "managed", "type": "hcloud_server", "name": "control_plane",
             "change": {"actions": ["create"], "before": null, "after": {"server_type": "cx43", "location": "fsn1"}}},
            {"address": "hcloud_server.worker[0]", "mode": "managed", "type": "hcloud_server", "name": "worker",
             "change": {"actions": ["delete", "create"], "before": {"server_type": "cx23"}, "after": {"server_type": "cx33"}}},
            {"address": "hcloud_load_balancer.api", "mode": "managed", "type": "hcloud_load_balancer", "name": "api",
             "change": {"actions": ["create"], "before": null, "after": {"load_balancer_type": "lb11"}}},
            {"address": "hcloud_volume.data", "mode": "managed", "type": "hcloud_volume", "name": "data",
             "change": {"actions": ["update"], "before": {"size": 10}, "after": {"size": 100}}},
            {"address": "hcloud_firewall.old", "mode": "managed", "type": "hcloud_firewall", "name": "old",
             "change": {"actions": ["delete"], "before": {}, "after": null}},
            {"address": "hcloud_network.main", "mode": "managed", "type": "hcloud_network", "name": "main",
             "change": {"actions": ["no-op"], "before": {}, "after": {}}},
            {"address": "data.hcloud_image.u", "mode": "data", "type": "hcloud_image", "name": "u",
             "change": {"actions": ["read"]}}
        ]));
        let changes = parse_show_json(&text).unwrap();
        assert_eq!(changes.len(), 6, "data sources are not changes");
        let c = ClusterPlan::from_changes("hz-fsn-rtz-prod", Provider::Hetzner, &changes, false);
        assert_eq!(
            c.totals,
            Counts {
                add: 3,
                change: 1,
                destroy: 2
            }
        );
        assert_eq!(
            c.by_type["hcloud_server"],
            Counts {
                add: 2,
                change: 0,
                destroy: 1
            }
        );
        assert!(!c.by_type.contains_key("hcloud_network"));
        // cx43 11.99 + cx33 6.49 + lb11 5.39 + 100 GB × 0.044
        assert!(
            (c.monthly_eur - (11.99 + 6.49 + 5.39 + 4.4)).abs() < 1e-9,
            "{}",
            c.monthly_eur
        );
        assert_eq!(
            c.deletions,
            ["hcloud_server.worker[0]", "hcloud_firewall.old"]
        );

        let mut config = PlatformConfig::example();
        let mut s = PlanSummary {
            destroy: false,
            clusters: vec![c],
            warnings: vec![],
        };
        s.add_warnings(&config);
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert!(
            s.warnings[0].contains("DESTROYS 2 resources"),
            "{:?}",
            s.warnings
        );
        config.api = None;
        config.ssh.allowed_cidrs = vec!["0.0.0.0/0".into()];
        s.add_warnings(&config);
        // Without [api] nothing reaches the API (the run's variables list no network).
        assert!(
            s.warnings
                .iter()
                .any(|w| w.contains("no network may reach the Kubernetes API")),
            "{:?}",
            s.warnings
        );
        config.api = Some(crate::domain::platform::ApiAccess {
            allowed_cidrs: vec!["0.0.0.0/0".into()],
        });
        s.add_warnings(&config);
        assert!(
            s.warnings
                .iter()
                .any(|w| w.contains("Kubernetes API is open to the world"))
        );
        assert!(
            s.warnings
                .iter()
                .any(|w| w.contains("ssh (port 22) is open"))
        );
        let text = s.render();
        assert!(
            text.contains("Plan for hz-fsn-rtz-prod: 3 to add, 1 to change, 2 to destroy"),
            "{text}"
        );
        assert!(text.contains("€28.27 per month"), "{text}");
    }

    #[test]
    fn destroy_plans_list_what_goes_and_the_cost_removed() {
        let text = plan_json(serde_json::json!([
            {"address": "hcloud_server.control_plane[0]", "mode": "managed", "type": "hcloud_server", "name": "cp",
             "change": {"actions": ["delete"], "before": {"server_type": "cx43"}, "after": null}}
        ]));
        let changes = parse_show_json(&text).unwrap();
        let c = ClusterPlan::from_changes("hz-fsn-rtz-prod", Provider::Hetzner, &changes, true);
        let mut s = PlanSummary {
            destroy: true,
            clusters: vec![c],
            warnings: vec![],
        };
        s.add_warnings(&PlatformConfig::example());
        assert!(
            s.warnings.is_empty(),
            "a destroy plan is all destroys; no extra warning"
        );
        let text = s.render();
        assert!(
            text.contains("will be deleted:\n    hcloud_server.control_plane[0]"),
            "{text}"
        );
        assert!(
            text.contains("monthly cost removed of hz-fsn-rtz-prod: €11.99"),
            "{text}"
        );
    }

    #[test]
    fn providers_without_list_prices_say_so() {
        let text = plan_json(serde_json::json!([
            {"address": "oci_core_instance.cp[0]", "mode": "managed", "type": "oci_core_instance", "name": "cp",
             "change": {"actions": ["create"], "after": {"shape": "VM.Standard.E5.Flex", "shape_config": [{"ocpus": 2, "memory_in_gbs": 16}]}}}
        ]));
        let c = ClusterPlan::from_changes(
            "oci-fra-rtz-prod",
            Provider::Oci,
            &parse_show_json(&text).unwrap(),
            false,
        );
        assert_eq!(c.monthly_eur, 0.0);
        assert_eq!(c.unpriced, ["1 × server VM.Standard.E5.Flex.2.16"]);
    }

    #[test]
    fn not_a_plan_is_an_error() {
        assert!(matches!(parse_show_json("{"), Err(PlanError::NotJson(_))));
        assert!(matches!(
            parse_show_json("{}"),
            Err(PlanError::NoChanges(_))
        ));
        assert!(
            parse_show_json(r#"{"format_version":"1.2"}"#)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn every_price_has_a_source_and_date() {
        for p in PRICES {
            assert!(!p.source.is_empty() && p.as_of.len() == 7, "{p:?}");
            assert!(p.eur_per_month > 0.0);
        }
    }
}
