//! Component health states and the platform roll-up (percentage and phase) shown on dashboards and
//! written to `Platform.status`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The state of one component on a cluster.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum ComponentState {
    /// Wanted but not started yet.
    #[default]
    Pending,
    /// Install or upgrade in progress.
    Installing,
    Healthy,
    /// Installed but not fully ready (some replicas or checks failing).
    Degraded,
    /// Install, upgrade or health check failed.
    Failed,
    /// No information: the status could not be read.
    Unknown,
}

impl ComponentState {
    pub const ALL: [ComponentState; 6] = [
        ComponentState::Pending,
        ComponentState::Installing,
        ComponentState::Healthy,
        ComponentState::Degraded,
        ComponentState::Failed,
        ComponentState::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentState::Pending => "Pending",
            ComponentState::Installing => "Installing",
            ComponentState::Healthy => "Healthy",
            ComponentState::Degraded => "Degraded",
            ComponentState::Failed => "Failed",
            ComponentState::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for ComponentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ComponentState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ComponentState::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown component state `{s}`; expected one of Pending, Installing, Healthy, Degraded, Failed, Unknown"
                )
            })
    }
}

/// The platform's overall phase.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum PlatformPhase {
    /// Nothing installed yet (or nothing wanted).
    #[default]
    Pending,
    Installing,
    /// Every component healthy.
    Running,
    Degraded,
    Failed,
    /// Some component's state cannot be read and nothing is known to be wrong.
    Unknown,
}

impl PlatformPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformPhase::Pending => "Pending",
            PlatformPhase::Installing => "Installing",
            PlatformPhase::Running => "Running",
            PlatformPhase::Degraded => "Degraded",
            PlatformPhase::Failed => "Failed",
            PlatformPhase::Unknown => "Unknown",
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

/// Rolls component states up into the platform's health. The phase is the worst thing present:
/// any failed ⇒ Failed; else any degraded ⇒ Degraded; else any installing ⇒ Installing; else any
/// unknown ⇒ Unknown; else all healthy (and at least one) ⇒ Running; else Pending.
pub fn rollup<I: IntoIterator<Item = ComponentState>>(states: I) -> PlatformHealth {
    let mut counts = [0usize; 6];
    for s in states {
        counts[s as usize] += 1;
    }
    let count = |s: ComponentState| counts[s as usize];
    let total: usize = counts.iter().sum();
    let healthy = count(ComponentState::Healthy);
    let phase = if count(ComponentState::Failed) > 0 {
        PlatformPhase::Failed
    } else if count(ComponentState::Degraded) > 0 {
        PlatformPhase::Degraded
    } else if count(ComponentState::Installing) > 0 {
        PlatformPhase::Installing
    } else if count(ComponentState::Unknown) > 0 {
        PlatformPhase::Unknown
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
    use super::ComponentState::*;
    use super::*;

    #[test]
    fn rollup_all_healthy_is_running_at_100() {
        let h = rollup([Healthy, Healthy, Healthy]);
        assert_eq!((h.percent, h.phase), (100, PlatformPhase::Running));
    }

    #[test]
    fn rollup_one_failed_wins_over_everything() {
        let h = rollup([Healthy, Degraded, Installing, Failed]);
        assert_eq!((h.percent, h.phase), (25, PlatformPhase::Failed));
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
            rollup([Pending, Unknown, Installing]).phase,
            PlatformPhase::Installing
        );
    }

    #[test]
    fn rollup_unknown_without_trouble_is_unknown() {
        assert_eq!(rollup([Healthy, Unknown]).phase, PlatformPhase::Unknown);
    }

    #[test]
    fn rollup_pending_and_healthy_is_pending() {
        let h = rollup([Healthy, Pending]);
        assert_eq!((h.percent, h.phase), (50, PlatformPhase::Pending));
    }

    #[test]
    fn rollup_empty_is_pending_at_zero() {
        let h = rollup([]);
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
    fn component_state_display_and_parse_round_trip() {
        for s in ComponentState::ALL {
            assert_eq!(s.to_string().parse::<ComponentState>(), Ok(s));
        }
        assert_eq!("healthy".parse::<ComponentState>(), Ok(Healthy));
        assert!("Installed?".parse::<ComponentState>().is_err());
    }
}
