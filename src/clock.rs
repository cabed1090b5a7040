//! Time at the edge: "now" comes from `FINCORE_NOW` when set (reproducible runs), else the
//! system clock. Inside the program instants are i64 microseconds since the Unix epoch (UTC).

use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

pub fn now_us() -> AppResult<i64> {
    match std::env::var("FINCORE_NOW") {
        Ok(text) if !text.is_empty() => {
            parse_instant(&text).map_err(|error| error.context("FINCORE_NOW"))
        }
        _ => Ok(Utc::now().timestamp_micros()),
    }
}

/// RFC 3339 instant (`2026-11-21T10:00:00Z`, offsets allowed) to microseconds.
pub fn parse_instant(text: &str) -> AppResult<i64> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|instant| instant.timestamp_micros())
        .map_err(|_| AppError::invalid_input(format!("'{text}' is not an RFC 3339 instant")))
}

/// A calendar date `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid_input(format!("'{text}' is not a date (YYYY-MM-DD)")))
}

/// Accept either a date (start of that day, UTC) or an RFC 3339 instant.
pub fn parse_date_or_instant(text: &str) -> AppResult<i64> {
    if let Ok(date) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Ok(date_start_us(date));
    }
    parse_instant(text)
}

/// Upper bound for `--to`: a bare date means the whole day (exclusive end of that day).
pub fn parse_date_or_instant_end(text: &str) -> AppResult<i64> {
    if let Ok(date) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Ok(date_start_us(date) + MICROS_PER_DAY - 1);
    }
    parse_instant(text)
}

pub fn date_start_us(date: NaiveDate) -> i64 {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .timestamp_micros()
}

pub fn date_of_us(instant_us: i64) -> NaiveDate {
    to_datetime(instant_us).date_naive()
}

pub fn to_datetime(instant_us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(instant_us)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

pub fn format_instant(instant_us: i64) -> String {
    to_datetime(instant_us).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_instants() {
        let micros = parse_instant("2026-11-21T10:00:00Z").unwrap();
        assert_eq!(format_instant(micros), "2026-11-21T10:00:00Z");
        assert_eq!(parse_instant("2026-11-21T12:00:00+02:00").unwrap(), micros);
        assert!(parse_instant("yesterday").is_err());
    }
}
