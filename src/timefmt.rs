//! Owns how every driver writes instants and durations for people and scripts: run tables,
//! log lines and the wizard's progress screen agree on `1h02m`, `2026-02-08 10:30:00` (UTC) and
//! RFC 3339. Instants are Unix milliseconds, as the run store records them.

fn to_datetime(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// `2026-02-08T10:30:00Z`, for JSON output.
pub fn rfc3339(ms: i64) -> String {
    to_datetime(ms)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `2026-02-08 10:30:00` (UTC), for tables.
pub fn date_time(ms: i64) -> String {
    let d = to_datetime(ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        d.year(),
        d.month() as u8,
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// `10:30:00` (UTC), for log lines.
pub fn clock(ms: i64) -> String {
    let d = to_datetime(ms);
    format!("{:02}:{:02}:{:02}", d.hour(), d.minute(), d.second())
}

/// `1h02m`, `3m05s`, `12s`: the two largest units of a duration in milliseconds.
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_picks_largest_units() {
        assert_eq!(duration(12_400), "12s");
        assert_eq!(duration(185_000), "3m05s");
        assert_eq!(duration(3_720_000), "1h02m");
        assert_eq!(duration(-5), "0s");
    }

    #[test]
    fn instants_are_utc() {
        let ms = 1_770_546_600_000; // 2026-02-08 10:30:00 UTC
        assert_eq!(rfc3339(ms), "2026-02-08T10:30:00Z");
        assert_eq!(date_time(ms), "2026-02-08 10:30:00");
        assert_eq!(clock(ms + 5_000), "10:30:05");
    }
}
