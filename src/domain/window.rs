//! Maintenance windows and upgrade timing: the one function that says when the next window opens
//! (in the window's own time zone), used by the manager to act and by the console to display,
//! and the rules that decide whether a scheduled or major upgrade may run.
//!
//! Time zones come from the IANA database bundled into the binary, so the answer is the same on
//! a bastion, in a distroless container without `/usr/share/zoneinfo` and in tests.

use std::sync::OnceLock;

use jiff::civil::{Date, Weekday};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::{SignedDuration, Timestamp, ToSpan};

/// The longest window: a day (a longer one would overlap its own next opening).
pub const MAX_DURATION_MINUTES: u32 = 1440;

/// A weekly maintenance window as the operator wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Days it opens on; every day when empty.
    pub days: Vec<Weekday>,
    /// Opening time `HH:MM`, local to `time_zone`.
    pub start: String,
    pub duration_minutes: u32,
    /// IANA time zone name (`Europe/Berlin`); UTC when `None`.
    pub time_zone: Option<String>,
}

/// Why a window cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error(
        "time zone `{zone}` is not in the IANA time zone database (e.g. `Europe/Berlin`, `UTC`)"
    )]
    UnknownZone { zone: String },
    #[error("start `{start}` is not a time of day written HH:MM (00:00 to 23:59)")]
    BadStart { start: String },
    #[error("duration must be at least 1 minute")]
    ZeroDuration,
    #[error("duration of {minutes} minutes is longer than a day ({MAX_DURATION_MINUTES} minutes)")]
    TooLong { minutes: u32 },
}

/// One occurrence of a window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opening {
    pub start: Timestamp,
    pub end: Timestamp,
    /// The window's time zone, for display.
    pub zone: TimeZone,
}

impl Opening {
    /// Whether `now` is inside this occurrence.
    pub fn contains(&self, now: Timestamp) -> bool {
        self.start <= now && now < self.end
    }

    /// `Sun 2026-12-06 03:00 Europe/Berlin (02:00 UTC)`: local time first, UTC beside it.
    pub fn describe(&self) -> String {
        describe_local_and_utc(self.start, &self.zone)
    }
}

fn database() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// The time zone named `name` (UTC when `None` or `UTC`), from the bundled database.
pub fn zone(name: Option<&str>) -> Result<TimeZone, WindowError> {
    match name.map(str::trim) {
        None | Some("") | Some("UTC") | Some("Etc/UTC") => Ok(TimeZone::UTC),
        Some(n) => database().get(n).map_err(|_| WindowError::UnknownZone {
            zone: n.to_string(),
        }),
    }
}

fn start_of(start: &str) -> Option<(i8, i8)> {
    let (h, m) = start.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some((h, m))
}

/// Check a window; the error names what is wrong.
pub fn validate(window: &Window) -> Result<TimeZone, WindowError> {
    if window.duration_minutes == 0 {
        return Err(WindowError::ZeroDuration);
    }
    if window.duration_minutes > MAX_DURATION_MINUTES {
        return Err(WindowError::TooLong {
            minutes: window.duration_minutes,
        });
    }
    start_of(&window.start).ok_or_else(|| WindowError::BadStart {
        start: window.start.clone(),
    })?;
    zone(window.time_zone.as_deref())
}

/// The window occurrence that is open at `now`, or else the next one to open. Opening times are
/// local wall-clock times in the window's zone (a window at 03:00 stays at 03:00 across daylight
/// saving changes; a start inside a skipped hour opens at the first instant after the gap).
pub fn next_window(window: &Window, now: Timestamp) -> Result<Opening, WindowError> {
    let tz = validate(window)?;
    let (h, m) = start_of(&window.start).ok_or_else(|| WindowError::BadStart {
        start: window.start.clone(),
    })?;
    let length = SignedDuration::from_mins(i64::from(window.duration_minutes));
    let today: Date = now.to_zoned(tz.clone()).date();
    // From yesterday (a window still open past midnight) to eight days ahead: every weekly
    // window opens within that range.
    for offset in -1i32..=8 {
        let Ok(day) = today.checked_add(offset.days()) else {
            continue;
        };
        if !window.days.is_empty() && !window.days.contains(&day.weekday()) {
            continue;
        }
        let Ok(start) = day.at(h, m, 0, 0).to_zoned(tz.clone()) else {
            continue;
        };
        let start = start.timestamp();
        let Ok(end) = start.checked_add(length) else {
            continue;
        };
        if end > now {
            return Ok(Opening {
                start,
                end,
                zone: tz,
            });
        }
    }
    // Unreachable for a validated window; said plainly instead of panicking.
    Err(WindowError::BadStart {
        start: window.start.clone(),
    })
}

/// `Sun 2026-12-06 03:00 Europe/Berlin (02:00 UTC)`; just `… 02:00 UTC` when the zone is UTC.
pub fn describe_local_and_utc(at: Timestamp, zone: &TimeZone) -> String {
    let utc = at.to_zoned(TimeZone::UTC);
    let local = at.to_zoned(zone.clone());
    let name = zone.iana_name().unwrap_or("UTC");
    if name == "UTC" || name == "Etc/UTC" {
        return format!("{} UTC", utc.strftime("%a %Y-%m-%d %H:%M"));
    }
    format!(
        "{} {name} ({} UTC)",
        local.strftime("%a %Y-%m-%d %H:%M"),
        utc.strftime("%H:%M")
    )
}

/// When the upgrade is meant to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// As soon as possible.
    Now,
    /// At (or after) this time.
    At(Timestamp),
    /// In the Platform's next maintenance window.
    NextWindow,
}

/// Why an upgrade does not run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the scheduled time {at} is in the past; schedule a time in the future (or upgrade now)"
    )]
    PastTime { at: Timestamp },
    #[error(
        "scheduled for the next maintenance window, but the Platform has none; set spec.maintenanceWindow or schedule a time"
    )]
    NoWindow,
    #[error("the Platform's maintenance window is invalid: {0}")]
    InvalidWindow(WindowError),
    #[error(
        "{from} → {to} is a major upgrade ({jump}); it runs only after a second confirmation: set spec.upgrade.confirmMajor to \"{jump}\""
    )]
    MajorNotConfirmed {
        from: String,
        to: String,
        jump: String,
    },
}

impl Refusal {
    /// Machine-readable reason for conditions and Events.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::PastTime { .. } => "ScheduledTimeInPast",
            Refusal::NoWindow => "NoMaintenanceWindow",
            Refusal::InvalidWindow(_) => "InvalidMaintenanceWindow",
            Refusal::MajorNotConfirmed { .. } => "MajorUpgradeNotConfirmed",
        }
    }
}

/// Whether an upgrade may start now, must wait, or is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timing {
    Due,
    /// Not before this time (the scheduled time, or the window's next opening).
    Wait {
        until: Timestamp,
    },
    Refused(Refusal),
}

/// How far in the past a scheduled time may be when the manager first sees it: the console's
/// clock and the reconcile delay, not an operator picking yesterday.
pub const PAST_GRACE: SignedDuration = SignedDuration::from_secs(120);

/// Decide whether an upgrade runs at `now`. `already_waiting` says the manager has already
/// recorded this exact schedule as waiting (so a time that passed while it waited is due, not
/// "in the past"). `window` is the Platform's maintenance window: `None` for no window, `Some(Err)`
/// when it does not validate. A Platform's window also holds upgrades that have no time: nothing
/// rolls out outside it.
pub fn upgrade_timing(
    when: When,
    window: Option<Result<&Window, &WindowError>>,
    now: Timestamp,
    already_waiting: bool,
) -> Timing {
    let opening = match window {
        None => None,
        Some(Err(e)) => return Timing::Refused(Refusal::InvalidWindow(e.clone())),
        Some(Ok(w)) => match next_window(w, now) {
            Ok(o) => Some(o),
            Err(e) => return Timing::Refused(Refusal::InvalidWindow(e)),
        },
    };
    let in_window = |at: Timestamp| -> Timing {
        match &opening {
            None => Timing::Due,
            Some(o) if o.contains(at) => Timing::Due,
            Some(o) => Timing::Wait { until: o.start },
        }
    };
    match when {
        When::Now => in_window(now),
        When::NextWindow => match &opening {
            None => Timing::Refused(Refusal::NoWindow),
            Some(o) if o.contains(now) => Timing::Due,
            Some(o) => Timing::Wait { until: o.start },
        },
        When::At(at) => {
            if !already_waiting && at.checked_add(PAST_GRACE).is_ok_and(|late| late < now) {
                return Timing::Refused(Refusal::PastTime { at });
            }
            if at > now {
                return Timing::Wait { until: at };
            }
            in_window(now)
        }
    }
}

/// The major-version jump of `from → to` (`"11→12"`), if it is one: a new semver major (below
/// 1.0, a new minor: `"0.9→0.10"`), or any version the catalog flags as major.
pub fn major_jump(from: &semver::Version, to: &semver::Version, flagged: bool) -> Option<String> {
    if to <= from {
        return None;
    }
    if from.major == 0 && to.major == 0 {
        if to.minor != from.minor {
            return Some(format!("0.{}→0.{}", from.minor, to.minor));
        }
    } else if to.major != from.major {
        return Some(format!("{}→{}", from.major, to.major));
    }
    flagged.then(|| {
        format!(
            "{}→{}",
            crate::domain::catalog::display_version(from),
            crate::domain::catalog::display_version(to)
        )
    })
}

/// The jump a change from `installed` to `wanted` makes when it is a major one: a semver major
/// (or 0.x minor) step, or a step to or past a version the catalog flags as major (`flagged`).
/// The console names this jump in its second confirmation and the manager refuses the change
/// without it, so both read it here. `None` for a minor change or a version that does not parse.
pub fn jump_of<'a>(
    installed: &str,
    wanted: &str,
    flagged: impl IntoIterator<Item = &'a semver::Version>,
) -> Option<String> {
    let (from, to) = (
        crate::domain::upgrade::parse(installed).ok()?,
        crate::domain::upgrade::parse(wanted).ok()?,
    );
    major_jump(&from, &to, flagged_between(flagged, &from, &to))
}

/// Whether a version the catalog flags as major lies on the way from `from` to `to`.
pub fn flagged_between<'a>(
    flagged: impl IntoIterator<Item = &'a semver::Version>,
    from: &semver::Version,
    to: &semver::Version,
) -> bool {
    flagged.into_iter().any(|v| v > from && v <= to)
}

/// Whether the operator's confirmation text names exactly `jump` (`→` or `->`, spaces ignored).
pub fn confirms(jump: &str, confirmation: Option<&str>) -> bool {
    let norm = |s: &str| s.replace("->", "→").replace(' ', "");
    confirmation.is_some_and(|c| norm(c) == norm(jump))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn sunday_3am(zone: Option<&str>) -> Window {
        Window {
            days: vec![Weekday::Sunday],
            start: "03:00".into(),
            duration_minutes: 120,
            time_zone: zone.map(str::to_string),
        }
    }

    #[test]
    fn next_window_sunday_3am_berlin_is_2am_utc_in_winter() {
        // Friday 2026-12-04.
        let o = next_window(
            &sunday_3am(Some("Europe/Berlin")),
            ts("2026-12-04T10:00:00Z"),
        )
        .expect("window");
        assert_eq!(o.start, ts("2026-12-06T02:00:00Z"));
        assert_eq!(o.end, ts("2026-12-06T04:00:00Z"));
        assert_eq!(
            o.describe(),
            "Sun 2026-12-06 03:00 Europe/Berlin (02:00 UTC)"
        );
        assert!(!o.contains(ts("2026-12-04T10:00:00Z")));
    }

    #[test]
    fn next_window_follows_local_time_across_daylight_saving() {
        // Summer: 03:00 in Berlin is 01:00 UTC.
        let o = next_window(
            &sunday_3am(Some("Europe/Berlin")),
            ts("2026-07-01T00:00:00Z"),
        )
        .expect("window");
        assert_eq!(o.start, ts("2026-07-05T01:00:00Z"));
    }

    #[test]
    fn next_window_open_now_returns_current_occurrence() {
        let w = sunday_3am(None);
        let o = next_window(&w, ts("2026-12-06T04:59:00Z")).expect("window");
        assert_eq!(o.start, ts("2026-12-06T03:00:00Z"));
        assert!(o.contains(ts("2026-12-06T04:59:00Z")));
        let after = next_window(&w, ts("2026-12-06T05:00:00Z")).expect("window");
        assert_eq!(after.start, ts("2026-12-13T03:00:00Z"));
        assert_eq!(after.describe(), "Sun 2026-12-13 03:00 UTC");
    }

    #[test]
    fn next_window_past_midnight_still_open_the_next_day() {
        let w = Window {
            days: vec![Weekday::Saturday],
            start: "23:00".into(),
            duration_minutes: 180,
            time_zone: None,
        };
        let o = next_window(&w, ts("2026-11-29T01:30:00Z")).expect("window");
        assert!(o.contains(ts("2026-11-29T01:30:00Z")));
    }

    #[test]
    fn validate_invalid_zone_zero_duration_and_bad_start_say_what() {
        let mut w = sunday_3am(Some("Mars/Olympus"));
        assert_eq!(
            validate(&w).expect_err("zone"),
            WindowError::UnknownZone {
                zone: "Mars/Olympus".into()
            }
        );
        w.time_zone = None;
        w.duration_minutes = 0;
        assert_eq!(validate(&w).expect_err("zero"), WindowError::ZeroDuration);
        w.duration_minutes = 60;
        w.start = "3:00".into();
        assert!(matches!(validate(&w), Err(WindowError::BadStart { .. })));
        w.start = "24:00".into();
        assert!(matches!(validate(&w), Err(WindowError::BadStart { .. })));
    }

    #[test]
    fn upgrade_timing_next_window_without_window_is_refused_never_due() {
        let t = upgrade_timing(When::NextWindow, None, ts("2026-12-04T10:00:00Z"), false);
        assert_eq!(t, Timing::Refused(Refusal::NoWindow));
    }

    #[test]
    fn upgrade_timing_past_time_is_refused_unless_it_passed_while_waiting() {
        let now = ts("2026-12-04T10:00:00Z");
        let at = When::At(ts("2026-12-03T10:00:00Z"));
        assert!(matches!(
            upgrade_timing(at, None, now, false),
            Timing::Refused(Refusal::PastTime { .. })
        ));
        assert_eq!(upgrade_timing(at, None, now, true), Timing::Due);
        // A minute late (clock skew, reconcile delay) is not "the past".
        let just = When::At(ts("2026-12-04T09:59:00Z"));
        assert_eq!(upgrade_timing(just, None, now, false), Timing::Due);
    }

    #[test]
    fn upgrade_timing_window_holds_a_due_time_until_it_opens() {
        let w = sunday_3am(Some("Europe/Berlin"));
        let now = ts("2026-12-04T10:00:00Z");
        assert_eq!(
            upgrade_timing(When::Now, Some(Ok(&w)), now, false),
            Timing::Wait {
                until: ts("2026-12-06T02:00:00Z")
            }
        );
        assert_eq!(
            upgrade_timing(
                When::NextWindow,
                Some(Ok(&w)),
                ts("2026-12-06T02:30:00Z"),
                true
            ),
            Timing::Due
        );
        let bad = WindowError::ZeroDuration;
        assert!(matches!(
            upgrade_timing(When::Now, Some(Err(&bad)), now, false),
            Timing::Refused(Refusal::InvalidWindow(_))
        ));
    }

    #[test]
    fn major_jump_semver_major_pre_one_minor_and_catalog_flag() {
        let v = |s: &str| semver::Version::parse(s).expect("version");
        assert_eq!(
            major_jump(&v("11.4.0"), &v("12.0.0"), false).as_deref(),
            Some("11→12")
        );
        assert_eq!(major_jump(&v("11.4.0"), &v("11.5.0"), false), None);
        assert_eq!(
            major_jump(&v("0.9.0"), &v("0.10.0"), false).as_deref(),
            Some("0.9→0.10")
        );
        assert_eq!(
            major_jump(&v("1.2.0"), &v("1.3.0"), true).as_deref(),
            Some("v1.2.0→v1.3.0")
        );
        assert_eq!(major_jump(&v("12.0.0"), &v("11.4.0"), false), None);
        assert!(confirms("11→12", Some("11 -> 12")));
        assert!(!confirms("11→12", Some("10→12")));
        assert!(!confirms("11→12", None));
    }
}
