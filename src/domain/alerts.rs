//! Active alerts: one definition of "an alert that needs the operator", used by the manager for
//! `Platform.status.alertCount` and by every view of the console (dashboard, alerts pane, the
//! pane's heading), so they never disagree.

use std::collections::BTreeSet;

/// One raised alert, as any view sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertRef<'a> {
    /// Component the alert is about (`None`: the platform itself).
    pub component: Option<&'a str>,
    /// Machine-readable reason (`UpgradeRolledBack`, `DeliveryCRDsMissing`…).
    pub reason: &'a str,
}

/// The active alerts among `raised`, in first-seen order: one per component and reason (the
/// same alert reported by a Component and again by its Platform counts once).
pub fn active<'a>(raised: impl IntoIterator<Item = AlertRef<'a>>) -> Vec<AlertRef<'a>> {
    let mut seen = BTreeSet::new();
    raised
        .into_iter()
        .filter(|a| seen.insert((a.component, a.reason)))
        .collect()
}

/// How many alerts are active: the number every view shows.
pub fn count_active<'a>(raised: impl IntoIterator<Item = AlertRef<'a>>) -> usize {
    active(raised).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a<'a>(component: Option<&'a str>, reason: &'a str) -> AlertRef<'a> {
        AlertRef { component, reason }
    }

    #[test]
    fn count_active_counts_each_component_and_reason_once() {
        let raised = [
            a(Some("grafana"), "UpgradeRolledBack"),
            a(Some("grafana"), "UpgradeRolledBack"),
            a(Some("loki"), "InstallFailed"),
            a(None, "DeliveryCRDsMissing"),
            a(Some("grafana"), "Unhealthy"),
        ];
        assert_eq!(count_active(raised), 4);
        assert_eq!(count_active([]), 0);
    }
}
