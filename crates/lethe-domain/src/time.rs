//! Time as epoch milliseconds, the unit every backend stores.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, TimeZone, Utc};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// Formats as RFC 3339 UTC with milliseconds (`2018-01-04T14:07:32.000Z`).
pub fn to_rfc3339(ms: Millis) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => String::new(),
    }
}

/// Parses an RFC 3339 timestamp into epoch milliseconds.
pub fn parse_rfc3339(value: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(value).ok().map(|t| t.timestamp_millis())
}

/// Parses `YYYY-MM-DD` as the start of that UTC day.
pub fn parse_date(value: &str) -> Option<Millis> {
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// One UTC day in milliseconds.
pub const DAY_MS: Millis = 86_400_000;

/// The UTC month `ms` falls in (`2026-11`) and the instant the next one starts.
pub fn utc_month(ms: Millis) -> (String, Millis) {
    let t = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    let (year, month) = (t.year(), t.month());
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    let next = NaiveDate::from_ymd_opt(next_year, next_month, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(Millis::MAX, |d| d.and_utc().timestamp_millis());
    (format!("{year:04}-{month:02}"), next)
}

/// The current time.
pub fn now() -> Millis {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc3339() {
        let ms = parse_rfc3339("2018-01-04T14:07:32.000Z").unwrap();
        assert_eq!(to_rfc3339(ms), "2018-01-04T14:07:32.000Z");
        assert_eq!(parse_date("2018-01-04"), parse_rfc3339("2018-01-04T00:00:00Z"));
        assert!(parse_date("2018-13-01").is_none());
        let (month, next) = utc_month(parse_rfc3339("2026-12-31T23:59:59.999Z").unwrap());
        assert_eq!(
            (month.as_str(), to_rfc3339(next).as_str()),
            ("2026-12", "2027-01-01T00:00:00.000Z")
        );
    }
}
