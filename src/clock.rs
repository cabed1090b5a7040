//! Time at the edge: "now" comes from `FINCORE_NOW` when set (reproducible runs), else the
//! system clock. Inside the program instants are i64 microseconds since the Unix epoch (UTC).

use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Timelike, Utc};

pub(crate) const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;
/// chrono marks a leap second by a nanosecond field of a whole second or more.
const NANOS_PER_SECOND: u32 = 1_000_000_000;

pub(crate) fn now_us() -> AppResult<i64> {
    match std::env::var("FINCORE_NOW") {
        Ok(text) if !text.is_empty() => {
            parse_instant(&text).map_err(|error| error.context("FINCORE_NOW"))
        }
        _ => Ok(Utc::now().timestamp_micros()),
    }
}

/// RFC 3339 instant (`2026-11-21T10:00:00Z`, offsets allowed) to microseconds; the one
/// reader of instants (flags, import rows, `FINCORE_NOW`). Surrounding spaces are removed
/// (`crate::text::trim`); empty is "required". A leap second (`23:59:60`) is refused: chrono
/// accepts it as second 59 plus a whole second of nanoseconds, which in microseconds is the
/// next minute — at 23:59:60 the next day. Digits beyond microseconds are dropped (towards
/// the past, so never across a second or a day).
pub fn parse_instant(text: &str) -> AppResult<i64> {
    let text = crate::text::trim(text);
    if text.is_empty() {
        return Err(AppError::invalid_input(
            "required (an RFC 3339 instant such as 2026-11-20T10:00:00Z)",
        ));
    }
    let instant = DateTime::parse_from_rfc3339(text)
        .map_err(|_| AppError::invalid_input(format!("'{text}' is not an RFC 3339 instant")))?;
    if instant.nanosecond() >= NANOS_PER_SECOND {
        return Err(AppError::invalid_input(format!(
            "'{text}' is a leap second, which the ledger cannot store; write :59 of that minute"
        )));
    }
    Ok(instant.timestamp_micros())
}

/// A calendar date, exactly `YYYY-MM-DD` (surrounding spaces removed): `2026-1-5` and
/// `+2026-01-05`, which chrono's `%Y-%m-%d` would take, are refused.
pub fn parse_date(text: &str) -> AppResult<NaiveDate> {
    let text = crate::text::trim(text);
    iso_date(text)
        .ok_or_else(|| AppError::invalid_input(format!("'{text}' is not a date (YYYY-MM-DD)")))
}

/// `YYYY-MM-DD`, four, two and two ASCII digits, a real calendar day; `None` otherwise. Built
/// by hand: chrono's format machinery is a sixth of a million-line statement's read time.
pub(crate) fn iso_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|index| bytes[*index].is_ascii_digit());
    if !shaped {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .fold(0u32, |value, digit| value * 10 + u32::from(digit - b'0'))
    };
    NaiveDate::from_ymd_opt(number(0..4) as i32, number(5..7), number(8..10))
}

/// Accept either a date (start of that day, UTC) or an RFC 3339 instant.
pub(crate) fn parse_date_or_instant(text: &str) -> AppResult<i64> {
    if let Some(date) = iso_date(crate::text::trim(text)) {
        return Ok(date_start_us(date));
    }
    parse_instant(text)
}

/// Upper bound for `--to`: a bare date means the whole day (exclusive end of that day).
pub(crate) fn parse_date_or_instant_end(text: &str) -> AppResult<i64> {
    if let Some(date) = iso_date(crate::text::trim(text)) {
        return Ok(date_start_us(date) + MICROS_PER_DAY - 1);
    }
    parse_instant(text)
}

/// The largest `-Nd` a relative date may go back (about 300 years): beyond it is a typo.
const RELATIVE_DAYS_MAX: u32 = 100_000;

/// A relative date against `today`: `today`, `yesterday`, or `-Nd` (N days before today,
/// `-0d` is today). `None` for any other text (an absolute date or instant, or a mistake the
/// absolute readers report). Pure: the caller supplies today, read from the clock at the edge.
pub(crate) fn relative_date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    let text = crate::text::trim(text).to_ascii_lowercase();
    let days_back = match text.as_str() {
        "today" => 0,
        "yesterday" => 1,
        other => {
            let digits = other.strip_prefix('-')?.strip_suffix('d')?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits
                .parse::<u32>()
                .ok()
                .filter(|days| *days <= RELATIVE_DAYS_MAX)?
        }
    };
    today.checked_sub_days(chrono::Days::new(u64::from(days_back)))
}

pub fn date_start_us(date: NaiveDate) -> i64 {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .timestamp_micros()
}

pub fn date_of_us(instant_us: i64) -> NaiveDate {
    to_datetime(instant_us).date_naive()
}

pub(crate) fn to_datetime(instant_us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(instant_us)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

pub(crate) fn format_instant(instant_us: i64) -> String {
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
        assert_eq!(parse_instant(" 2026-11-21T10:00:00Z\t").unwrap(), micros);
        assert!(parse_instant("").is_err());
    }

    #[test]
    fn refuses_leap_seconds_instead_of_moving_the_date() {
        for text in [
            "2016-12-31T23:59:60Z",
            "2026-11-20T23:59:60.5Z",
            "2026-11-20T10:59:60+02:00",
        ] {
            let error = parse_instant(text).unwrap_err();
            assert!(error.message.contains("leap second"), "{text}: {error}");
            assert!(parse_date_or_instant(text).is_err());
        }
        assert_eq!(
            format_instant(parse_instant("2026-11-20T23:59:59.999999Z").unwrap()),
            "2026-11-20T23:59:59.999999Z"
        );
    }

    #[test]
    fn relative_dates_count_back_from_today() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(relative_date("today", today), day(2026, 3, 1));
        assert_eq!(relative_date(" Yesterday ", today), day(2026, 2, 28));
        assert_eq!(relative_date("-7d", today), day(2026, 2, 22));
        assert_eq!(relative_date("-0d", today), day(2026, 3, 1));
        assert_eq!(relative_date("-365d", today), day(2025, 3, 1));
        for text in [
            "-d",
            "7d",
            "-7",
            "-7w",
            "+7d",
            "-1.5d",
            "2026-03-01",
            "tomorrow",
            "-999999d",
        ] {
            assert_eq!(relative_date(text, today), None, "{text}");
        }
    }

    #[test]
    fn dates_are_exactly_iso() {
        assert_eq!(
            parse_date(" 2026-11-20 ").unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
        );
        for text in ["2026-1-5", "+2026-01-05", "2026-02-30", "20261120", ""] {
            assert!(parse_date(text).is_err(), "{text}");
        }
    }
}
