//! The user's time zone, and instants shown in it.
//!
//! `TZ` is honoured first (`Europe/Stockholm` or `:Europe/Stockholm`),
//! then `/etc/localtime` (the zone named by its link) or `/etc/timezone`,
//! else UTC. Floating and all-day calendar times are taken in this zone.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The user's zone, as described in the module doc.
pub(crate) fn user_zone() -> Tz {
    from_tz_var(std::env::var("TZ").ok().as_deref())
        .or_else(from_localtime)
        .unwrap_or(Tz::UTC)
}

fn from_tz_var(value: Option<&str>) -> Option<Tz> {
    let name = value?.trim().trim_start_matches(':');
    // A path to a zone file names the zone after "zoneinfo/".
    let name = name.rsplit_once("zoneinfo/").map_or(name, |(_, n)| n);
    name.parse().ok()
}

fn from_localtime() -> Option<Tz> {
    if let Ok(target) = std::fs::read_link("/etc/localtime")
        && let Some((_, name)) = target.to_string_lossy().rsplit_once("zoneinfo/")
        && let Ok(tz) = name.parse()
    {
        return Some(tz);
    }
    std::fs::read_to_string("/etc/timezone")
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// Unix milliseconds as a time in `zone`.
pub(crate) fn local(ms: i64, zone: Tz) -> DateTime<Tz> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .with_timezone(&zone)
}

/// Unix milliseconds as RFC 3339 with `zone`'s offset, whole seconds.
pub(crate) fn rfc3339(ms: i64, zone: Tz) -> String {
    local(ms, zone).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The Unix milliseconds of midnight starting `date` in `zone` (the
/// first instant of the day where midnight falls in a DST gap).
pub(crate) fn midnight(date: chrono::NaiveDate, zone: Tz) -> i64 {
    let naive = date.and_time(chrono::NaiveTime::MIN);
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|d| d.timestamp_millis())
        .unwrap_or_else(|| naive.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tz_variable_names_a_zone_with_or_without_colon_or_path() {
        assert_eq!(
            from_tz_var(Some("Europe/Stockholm")),
            Some(chrono_tz::Europe::Stockholm)
        );
        assert_eq!(
            from_tz_var(Some(":America/New_York")),
            Some(chrono_tz::America::New_York)
        );
        assert_eq!(
            from_tz_var(Some("/usr/share/zoneinfo/Asia/Tokyo")),
            Some(chrono_tz::Asia::Tokyo)
        );
        assert_eq!(from_tz_var(Some("Not/AZone")), None);
        assert_eq!(from_tz_var(None), None);
    }

    #[test]
    fn rfc3339_carries_the_zone_offset_across_dst() {
        let zone = chrono_tz::Europe::Stockholm;
        // 2026-10-20 07:00Z is 09:00 CEST; 2026-10-27 08:00Z is 09:00 CET.
        assert_eq!(
            rfc3339(1_792_479_600_000, zone),
            "2026-10-20T09:00:00+02:00"
        );
        assert_eq!(
            rfc3339(1_793_088_000_000, zone),
            "2026-10-27T09:00:00+01:00"
        );
    }
}
