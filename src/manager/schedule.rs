//! When a scheduled upgrade may run: its `upgradeAt` time and the Platform's weekly maintenance
//! window (UTC).

use std::time::Duration;

use k8s_openapi::jiff::{Timestamp, ToSpan, tz::TimeZone};

use crate::crd::platform::{MaintenanceWindow, Weekday};

fn weekday_of(day: k8s_openapi::jiff::civil::Weekday) -> Weekday {
    use k8s_openapi::jiff::civil::Weekday as W;
    match day {
        W::Monday => Weekday::Mon,
        W::Tuesday => Weekday::Tue,
        W::Wednesday => Weekday::Wed,
        W::Thursday => Weekday::Thu,
        W::Friday => Weekday::Fri,
        W::Saturday => Weekday::Sat,
        W::Sunday => Weekday::Sun,
    }
}

fn start_minutes(window: &MaintenanceWindow) -> Option<i64> {
    let (h, m) = window.start.split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Whether `now` falls inside the window. A window that opened late on an allowed day may run
/// past midnight into the next day. An unparsable start time never opens (the CRD schema
/// rejects those anyway).
pub fn window_open(window: &MaintenanceWindow, now: Timestamp) -> bool {
    let Some(start) = start_minutes(window) else {
        return false;
    };
    let duration = i64::from(window.duration_minutes);
    let zoned = now.to_zoned(TimeZone::UTC);
    let minute_of_day = i64::from(zoned.hour()) * 60 + i64::from(zoned.minute());
    let day_allowed = |offset_days: i64| {
        if window.days.is_empty() {
            return true;
        }
        zoned
            .checked_sub(offset_days.days())
            .map(|z| window.days.contains(&weekday_of(z.weekday())))
            .unwrap_or(false)
    };
    // Opened today, or opened yesterday and still running past midnight.
    (minute_of_day >= start && minute_of_day < start + duration && day_allowed(0))
        || (minute_of_day + 1440 >= start
            && minute_of_day + 1440 < start + duration
            && day_allowed(1))
}

/// How long to wait before looking again at an upgrade that is not due yet: until `upgrade_at`
/// when that is in the future, else a minute (window checks need no finer grain), at least one
/// second.
pub fn wait_for(upgrade_at: Option<Timestamp>, now: Timestamp) -> Duration {
    match upgrade_at {
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

    fn window(days: Vec<Weekday>, start: &str, minutes: u32) -> MaintenanceWindow {
        MaintenanceWindow {
            days,
            start: start.into(),
            duration_minutes: minutes,
        }
    }

    #[test]
    fn window_open_inside_and_outside_daily_window() {
        let w = window(vec![], "02:00", 120);
        assert!(window_open(&w, ts("2026-11-25T02:30:00Z")));
        assert!(!window_open(&w, ts("2026-11-25T04:00:00Z")));
        assert!(!window_open(&w, ts("2026-11-25T01:59:00Z")));
    }

    #[test]
    fn window_open_only_on_listed_days_and_across_midnight() {
        // 2026-11-28 is a Saturday.
        let w = window(vec![Weekday::Sat], "23:00", 180);
        assert!(window_open(&w, ts("2026-11-28T23:30:00Z")));
        assert!(window_open(&w, ts("2026-11-29T01:30:00Z")));
        assert!(!window_open(&w, ts("2026-11-29T23:30:00Z")));
        assert!(!window_open(&w, ts("2026-11-27T23:30:00Z")));
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
