//! The `X-Sdk-Date` timestamp format, `YYYYMMDDTHHMMSSZ` in UTC.
//!
//! Formatting and parsing go through the `time` crate's calendar; parsing is strict about the
//! fixed 16-character layout (ASCII digits in their places, a `T` and a final `Z`).

use std::time::{SystemTime, UNIX_EPOCH};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// `YYYYMMDDTHHMMSSZ`.
const FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year][month][day]T[hour][minute][second]Z");

/// Formats a SystemTime as the X-Sdk-Date value, e.g. `20240101T120000Z`.
///
/// Sub-second precision is dropped, as the SDKs do. A time outside the years 1-9999 (no clock
/// shows one) is formatted as the nearest representable second.
pub fn sdk_date(t: SystemTime) -> String {
    let first = PrimitiveDateTime::MIN.assume_utc().unix_timestamp();
    let last = PrimitiveDateTime::MAX.assume_utc().unix_timestamp();
    let at =
        OffsetDateTime::from_unix_timestamp(unix_seconds(t).clamp(first, last)).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    at.format(FORMAT).unwrap_or_default()
}

/// Seconds since the Unix epoch, negative before it, saturating far outside any real clock.
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Parses an `X-Sdk-Date` value into Unix seconds; `None` unless it is exactly
/// `YYYYMMDDTHHMMSSZ` with a real calendar date and time of day.
pub(crate) fn parse_sdk_date(s: &str) -> Option<i64> {
    // The layout is checked first: the calendar parser would also take a sign before the year.
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 16 || !digits(0..8) || b[8] != b'T' || !digits(9..15) || b[15] != b'Z' {
        return None;
    }
    PrimitiveDateTime::parse(s, FORMAT).ok().map(|t| t.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// 2024-01-01T12:00:00Z, the time used by the spec's test vectors.
    const VECTOR_TIME: u64 = 1_704_110_400;

    #[test]
    fn formats_the_vector_time() {
        let t = UNIX_EPOCH + Duration::from_secs(VECTOR_TIME);
        assert_eq!(sdk_date(t), "20240101T120000Z");
    }

    #[test]
    fn formats_epoch_leap_day_and_drops_subseconds() {
        assert_eq!(sdk_date(UNIX_EPOCH), "19700101T000000Z");
        // 2024-02-29T23:59:59.999Z
        let t = UNIX_EPOCH + Duration::from_millis(1_709_251_199_999);
        assert_eq!(sdk_date(t), "20240229T235959Z");
        assert_eq!(sdk_date(UNIX_EPOCH - Duration::from_secs(1)), "19691231T235959Z");
    }

    #[test]
    fn parses_the_vector_time() {
        assert_eq!(parse_sdk_date("20240101T120000Z"), Some(VECTOR_TIME as i64));
        assert_eq!(parse_sdk_date("19700101T000000Z"), Some(0));
    }

    #[test]
    fn parse_and_format_round_trip_across_years() {
        // Step by an odd number of seconds so every field value gets exercised.
        let mut secs: i64 = -5_000_000_000;
        while secs < 10_000_000_000 {
            let t = if secs >= 0 {
                UNIX_EPOCH + Duration::from_secs(secs as u64)
            } else {
                UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
            };
            assert_eq!(parse_sdk_date(&sdk_date(t)), Some(secs), "{}", sdk_date(t));
            secs += 7_777_777;
        }
    }

    #[test]
    fn rejects_malformed_dates() {
        for bad in [
            "",
            "20240101T120000",
            "20240101T120000z",
            "20240101 120000Z",
            "2024-01-01T12:00:00Z",
            "20241301T120000Z",
            "20240100T120000Z",
            "20230229T120000Z",
            "20240431T120000Z",
            "20240101T240000Z",
            "20240101T126000Z",
            "20240101T120060Z",
            "+0240101T120000Z",
            "20240101T12000０Z",
        ] {
            assert_eq!(parse_sdk_date(bad), None, "{bad:?}");
        }
        assert!(parse_sdk_date("20240229T120000Z").is_some());
        assert!(parse_sdk_date("20000229T120000Z").is_some());
        assert!(parse_sdk_date("21000229T120000Z").is_none());
    }
}
