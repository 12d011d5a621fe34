//! The one reader of durations written by people: "90s", "10m", "48h",
//! "365d", "2w", "1500ms" (a bare number is seconds), for the command
//! line's `--timeout` and `--older-than` and for config values like
//! `[meetings] nudge_after`.

use std::time::Duration;

const DAY: f64 = 86_400.0;

/// `text` as a duration within `min..=max`; the error says what to write.
pub(crate) fn duration(text: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let bad = || {
        format!(
            "{text:?} is not a duration: give a number with ms, s, m, h, d or w, like 90s, 10m, 48h or 7d ({} to {})",
            shown(min),
            shown(max)
        )
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit.trim() {
        "" | "s" | "sec" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * DAY,
        "w" => value * 7.0 * DAY,
        _ => return Err(bad()),
    };
    if !(secs.is_finite() && secs > 0.0) || secs < min.as_secs_f64() || secs > max.as_secs_f64() {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A bound as people say it: "365 days", "a minute", "100ms".
pub(crate) fn shown(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0 if d.is_zero() => "more than 0".into(),
        0 => format!("{}ms", d.as_millis()),
        60 => "a minute".into(),
        3600 => "an hour".into(),
        86_400 => "a day".into(),
        s if s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_bounds_and_the_message() {
        let year = Duration::from_secs(365 * 86_400);
        let any = |t: &str| duration(t, Duration::ZERO, year);
        assert_eq!(any("90").unwrap(), Duration::from_secs(90));
        assert_eq!(any("1500ms").unwrap(), Duration::from_millis(1500));
        assert_eq!(any("2w").unwrap(), Duration::from_secs(14 * 86_400));
        assert_eq!(any("1.5h").unwrap(), Duration::from_secs(5400));
        let err = any("400d").unwrap_err();
        assert!(err.contains("more than 0 to 365 days"), "{err}");
        let minute = duration("10s", Duration::from_secs(60), year).unwrap_err();
        assert!(minute.contains("a minute to 365 days"), "{minute}");
        for bad in ["", "abc", "10x", "-5s", "0", "nan", "1e3"] {
            assert!(any(bad).is_err(), "{bad}");
        }
    }
}
