//! When a scheduled upgrade may run: the Platform's maintenance window as the domain sees it
//! (see [`crate::domain::window`]), and how long to wait before looking again.

use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Weekday as Day;

use crate::crd::platform::{MaintenanceWindow, Weekday};
use crate::domain::window::{Window, WindowError, validate};

fn day_of(day: Weekday) -> Day {
    match day {
        Weekday::Mon => Day::Monday,
        Weekday::Tue => Day::Tuesday,
        Weekday::Wed => Day::Wednesday,
        Weekday::Thu => Day::Thursday,
        Weekday::Fri => Day::Friday,
        Weekday::Sat => Day::Saturday,
        Weekday::Sun => Day::Sunday,
    }
}

/// The Platform's window as the domain's [`Window`].
pub fn window_of(window: &MaintenanceWindow) -> Window {
    Window {
        days: window.days.iter().copied().map(day_of).collect(),
        start: window.start.clone(),
        duration_minutes: window.duration_minutes,
        time_zone: window.time_zone.clone(),
    }
}

/// The Platform's window, validated: `None` without one, `Some(Err)` naming what is wrong.
pub fn checked_window(window: Option<&MaintenanceWindow>) -> Option<Result<Window, WindowError>> {
    window.map(|w| {
        let w = window_of(w);
        validate(&w).map(|_| w)
    })
}

/// How long to wait before looking again at an upgrade that is not due yet: until `until` when
/// that is in the future (at most an hour, at least a second), else a minute.
pub fn wait_for(until: Option<Timestamp>, now: Timestamp) -> Duration {
    match until {
        Some(at) if at > now => {
            let millis = at.duration_since(now).as_millis().max(1000);
            Duration::from_millis(u64::try_from(millis).unwrap_or(60_000))
                .min(Duration::from_secs(3600))
        }
        _ => Duration::from_secs(60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn checked_window_names_an_unknown_zone() {
        let w = MaintenanceWindow {
            days: vec![Weekday::Sun],
            start: "03:00".into(),
            duration_minutes: 60,
            time_zone: Some("Europe/Atlantis".into()),
        };
        let got = checked_window(Some(&w)).expect("a window");
        assert_eq!(
            got.expect_err("invalid").to_string(),
            "time zone `Europe/Atlantis` is not in the IANA time zone database (e.g. `Europe/Berlin`, `UTC`)"
        );
        assert!(checked_window(None).is_none());
    }

    #[test]
    fn wait_for_future_time_waits_until_then() {
        let now = ts("2026-11-25T02:00:00Z");
        assert_eq!(
            wait_for(Some(ts("2026-11-25T02:00:30Z")), now),
            Duration::from_secs(30)
        );
        assert_eq!(wait_for(None, now), Duration::from_secs(60));
    }
}
