//! The `X-Sdk-Date` timestamp format, `YYYYMMDDTHHMMSSZ` in UTC.
//!
//! Conversions are done by hand (Howard Hinnant's civil-date algorithms) so that formatting is
//! total over every `SystemTime` and parsing is strict about the fixed 16-character layout.

use std::time::{SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: i64 = 86_400;

/// Formats a SystemTime as the X-Sdk-Date value, e.g. `20240101T120000Z`.
///
/// Sub-second precision is dropped, as the SDKs do.
pub fn sdk_date(t: SystemTime) -> String {
    let secs = unix_seconds(t);
    let days = secs.div_euclid(SECONDS_PER_DAY);
    let of_day = secs.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", of_day / 3600, of_day / 60 % 60, of_day % 60)
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
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        b[range].iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
    };
    let year = num(0..4)?;
    let month = num(4..6)?;
    let day = num(6..8)?;
    let hour = num(9..11)?;
    let minute = num(11..13)?;
    let second = num(13..15)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date. Eras of 400 years keep the arithmetic
/// branch-free; the year is shifted so that March starts it and leap days fall at the end.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
