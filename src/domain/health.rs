//! The health vocabulary shared by the CRDs, the manager and the console: one component's
//! [`Health`], the platform's [`PlatformPhase`], and the roll-up of the first into the second
//! (percentage and phase) shown on dashboards and written to `Platform.status`.

use std::cmp::Ordering;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Health of a component, from its delivery object's `Ready` condition.
// A component with no health reported yet (a Component the manager has not reconciled) has none:
// it is `None` wherever health is optional, and pending in the roll-up.
// The doc comments of both enums are the CRDs' schema descriptions: change one and `deploy/`
// goes stale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Health {
    /// Not observed yet.
    #[default]
    Unknown,
    /// Being installed or upgraded.
    Installing,
    /// Ready at its version.
    Healthy,
    /// Installed but not ready (after having been ready), or a rollback is in place.
    Degraded,
    /// Install failed or timed out.
    Failed,
}

impl Health {
    pub const ALL: [Health; 5] = [
        Health::Unknown,
        Health::Installing,
        Health::Healthy,
        Health::Degraded,
        Health::Failed,
    ];

    /// The name used in manifests and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "Unknown",
            Health::Installing => "Installing",
            Health::Healthy => "Healthy",
            Health::Degraded => "Degraded",
            Health::Failed => "Failed",
        }
    }

    /// Rank from best to worst: Healthy, Installing, Degraded, Failed, Unknown. A component whose
    /// state cannot be read ranks worst, since nothing about it is known.
    fn rank(self) -> u8 {
        match self {
            Health::Healthy => 0,
            Health::Installing => 1,
            Health::Degraded => 2,
            Health::Failed => 3,
            Health::Unknown => 4,
        }
    }
}

/// Ordered from best to worst (see [`Health::rank`]), so the `max` of several is the one that
/// needs attention first.
impl Ord for Health {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for Health {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Health {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Health::ALL
            .into_iter()
            .find(|h| h.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown health `{s}`; expected one of Unknown, Installing, Healthy, Degraded, Failed"
                )
            })
    }
}

/// Overall state of the platform.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum PlatformPhase {
    /// Nothing reconciled yet.
    #[default]
    Pending,
    /// Components are being installed or upgraded.
    Installing,
    /// Every component is healthy.
    Running,
    /// Some components are degraded or failed.
    Degraded,
    /// The platform itself could not be reconciled (e.g. unknown component, unreadable catalog).
    Failed,
}

impl PlatformPhase {
    /// The name used in manifests and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformPhase::Pending => "Pending",
            PlatformPhase::Installing => "Installing",
            PlatformPhase::Running => "Running",
            PlatformPhase::Degraded => "Degraded",
            PlatformPhase::Failed => "Failed",
        }
    }
}

impl fmt::Display for PlatformPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Platform health: share of healthy components and the phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformHealth {
    /// 0–100, rounded down: 100 only when every component is healthy.
    pub percent: u8,
    pub phase: PlatformPhase,
    pub healthy: usize,
    pub total: usize,
}

/// Rolls component health up into the platform's health; `None` is a component with no health
/// reported yet. The phase is the worst thing present: any failed or degraded ⇒ Degraded; else
/// any installing ⇒ Installing; else all healthy (and at least one) ⇒ Running; else (something
/// not reported yet or unknown, or nothing at all) Pending. Components never make the platform
/// `Failed`: that phase says the Platform itself could not be reconciled.
pub fn rollup<I>(states: I) -> PlatformHealth
where
    I: IntoIterator,
    I::Item: Into<Option<Health>>,
{
    let (mut total, mut healthy, mut troubled, mut installing) = (0usize, 0usize, false, false);
    for s in states {
        total += 1;
        match s.into() {
            Some(Health::Healthy) => healthy += 1,
            Some(Health::Failed | Health::Degraded) => troubled = true,
            Some(Health::Installing) => installing = true,
            Some(Health::Unknown) | None => {}
        }
    }
    let phase = if troubled {
        PlatformPhase::Degraded
    } else if installing {
        PlatformPhase::Installing
    } else if total > 0 && healthy == total {
        PlatformPhase::Running
    } else {
        PlatformPhase::Pending
    };
    // Integer floor so a single unhealthy component out of many never shows as 100 %.
    let percent = (healthy * 100)
        .checked_div(total)
        .and_then(|p| u8::try_from(p).ok())
        .unwrap_or(0);
    PlatformHealth {
        percent,
        phase,
        healthy,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::Health::*;
    use super::*;

    #[test]
    fn rollup_all_healthy_is_running_at_100() {
        let h = rollup([Healthy, Healthy, Healthy]);
        assert_eq!((h.percent, h.phase), (100, PlatformPhase::Running));
    }

    #[test]
    fn rollup_one_failed_component_degrades_the_platform() {
        let h = rollup([Healthy, Degraded, Installing, Failed]);
        assert_eq!((h.percent, h.phase), (25, PlatformPhase::Degraded));
        assert_eq!(rollup([Healthy, Failed]).phase, PlatformPhase::Degraded);
    }

    #[test]
    fn rollup_degraded_beats_installing() {
        assert_eq!(
            rollup([Installing, Degraded, Healthy]).phase,
            PlatformPhase::Degraded
        );
    }

    #[test]
    fn rollup_installing_beats_pending_and_unknown() {
        assert_eq!(
            rollup([None, Some(Unknown), Some(Installing)]).phase,
            PlatformPhase::Installing
        );
    }

    #[test]
    fn rollup_unknown_without_trouble_is_pending() {
        assert_eq!(rollup([Healthy, Unknown]).phase, PlatformPhase::Pending);
    }

    #[test]
    fn rollup_pending_and_healthy_is_pending() {
        let h = rollup([Some(Healthy), None]);
        assert_eq!((h.percent, h.phase), (50, PlatformPhase::Pending));
    }

    #[test]
    fn rollup_empty_is_pending_at_zero() {
        let h = rollup(std::iter::empty::<Health>());
        assert_eq!(
            (h.percent, h.phase, h.total),
            (0, PlatformPhase::Pending, 0)
        );
    }

    #[test]
    fn rollup_percent_rounds_down_so_100_means_all() {
        let mut states = vec![Healthy; 199];
        states.push(Degraded);
        assert_eq!(rollup(states).percent, 99);
    }

    #[test]
    fn health_display_and_parse_round_trip() {
        for s in Health::ALL {
            assert_eq!(s.to_string().parse::<Health>(), Ok(s));
        }
        assert_eq!("healthy".parse::<Health>(), Ok(Healthy));
        assert!("Installed?".parse::<Health>().is_err());
    }

    #[test]
    fn health_max_is_the_worst_and_unknown_is_worst_of_all() {
        assert_eq!([Healthy, Installing].into_iter().max(), Some(Installing));
        assert_eq!([Failed, Degraded, Healthy].into_iter().max(), Some(Failed));
        assert_eq!([Failed, Unknown].into_iter().max(), Some(Unknown));
    }
}
