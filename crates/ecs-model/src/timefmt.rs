//! The timestamp formats of the wire contract, each produced from one clock reading.
//!
//! Jobs use `2022-02-17T05:41:55.441Z`, servers `2019-07-15T11:30:52Z`, `launched_at`
//! `2019-07-15T11:31:09.000000` and key pairs `2014-05-07T12:06:13.681238`. We store
//! milliseconds since the epoch and format on the way out.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn format(ms: i64, f: &[BorrowedFormatItem<'static>]) -> String {
    // Formatting fails only for components a format asks for and a date lacks (an offset, say);
    // these formats ask for none.
    at(ms).format(f).unwrap_or_default()
}

/// Job times: `2022-02-17T05:41:55.441Z`.
pub fn job_time(ms: i64) -> String {
    format(ms, format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"))
}

/// Server `created`/`updated`: `2019-07-15T11:30:52Z`.
pub fn server_time(ms: i64) -> String {
    format(ms, format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
}

/// `launched_at` and key-pair times: `2019-07-15T11:31:09.000000`.
pub fn micro_time(ms: i64) -> String {
    format(ms, format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]"))
}

/// Milliseconds since the epoch of an ISO 8601 time as clients send them: RFC 3339
/// (`2026-12-02T08:00:00Z`, `...+08:00`, with or without a fraction), or without a zone, which
/// is taken as UTC (`2026-12-02T08:00:00`, as OpenStack's `changes-since` allows). `None` when
/// `s` is none of these.
pub fn parse_time(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let t = OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
        let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]");
        time::PrimitiveDateTime::parse(s, f).ok().map(|p| p.assume_utc())
    })?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Reads a time of the server form (`2020-09-25T12:05:00Z`, UTC) as milliseconds since the
/// epoch; `None` when it is not one.
pub fn parse_server_time(s: &str) -> Option<i64> {
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let t = time::PrimitiveDateTime::parse(s, f).ok()?.assume_utc();
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_time_reads_rfc3339_and_zoneless_times() {
        assert_eq!(parse_time("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_time("1970-01-01T01:00:01+01:00"), Some(1000));
        assert_eq!(parse_time("1970-01-01T00:00:01.5"), Some(1500));
        assert_eq!(parse_time("1970-01-01T00:00:02"), Some(2000));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn server_times_read_back() {
        let ms = 1_600_000_000_000;
        assert_eq!(parse_server_time(&server_time(ms)), Some(ms));
        assert_eq!(parse_server_time("2020-09-25T12:05:00Z"), Some(1_601_035_500_000));
        for bad in ["", "2020-09-25 12:05:00", "2020-09-25T12:05:00", "2020-13-25T12:05:00Z", "tomorrow"] {
            assert_eq!(parse_server_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_match_the_contract() {
        // 2022-02-17T05:41:55.441Z
        let ms = 1_645_076_515_441;
        assert_eq!(job_time(ms), "2022-02-17T05:41:55.441Z");
        assert_eq!(server_time(ms), "2022-02-17T05:41:55Z");
        assert_eq!(micro_time(ms), "2022-02-17T05:41:55.441000");
    }
}
