//! `[meetings]`: when action items are nudged and where, how long meetings
//! are kept, and how many daily backups of the store are kept.
//!
//! ```toml
//! [meetings]
//! nudge_after = "48h"      # an open action item untouched this long is nudged
//! nudge_webhook = "https://hooks.example/kollega"   # or KOLLEGA_NUDGE_WEBHOOK
//! retention = "365d"       # meetings that ended longer ago are purged
//! backups_keep = 30        # daily copies of the store under backups/
//! ```

use std::time::Duration;

use serde::Deserialize;

/// The environment variable over `nudge_webhook`.
pub(super) const WEBHOOK_ENV: &str = "KOLLEGA_NUDGE_WEBHOOK";

/// The `[meetings]` values in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingsConfig {
    pub nudge_after: Duration,
    /// Where a nudge is POSTed as JSON, if anywhere.
    pub nudge_webhook: Option<String>,
    pub retention: Duration,
    pub backups_keep: usize,
}

impl Default for MeetingsConfig {
    fn default() -> MeetingsConfig {
        MeetingsConfig {
            nudge_after: Duration::from_secs(48 * 3600),
            nudge_webhook: None,
            retention: Duration::from_secs(365 * 86_400),
            backups_keep: 30,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MeetingsSection {
    nudge_after: Option<String>,
    nudge_webhook: Option<String>,
    retention: Option<String>,
    backups_keep: Option<usize>,
}

/// "30m", "48h", "365d", "2w" as a duration of a minute to 100 years.
fn span(text: &str) -> Result<Duration, String> {
    super::duration(
        text,
        Duration::from_secs(60),
        Duration::from_secs(100 * 365 * 86_400),
    )
}

fn webhook(url: &str) -> Result<String, String> {
    let url = url.trim();
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.to_string())
    } else {
        Err(format!("{url:?} is not an http(s) URL"))
    }
}

impl MeetingsConfig {
    /// The section's values over these; an error names the key.
    pub(super) fn apply(&mut self, s: MeetingsSection) -> Result<(), String> {
        let at = |key: &str, e: String| format!("`meetings.{key}`: {e}");
        if let Some(v) = s.nudge_after {
            self.nudge_after = span(&v).map_err(|e| at("nudge_after", e))?;
        }
        if let Some(v) = s.retention {
            self.retention = span(&v).map_err(|e| at("retention", e))?;
        }
        if let Some(v) = s.nudge_webhook {
            self.nudge_webhook = Some(webhook(&v).map_err(|e| at("nudge_webhook", e))?);
        }
        if let Some(n) = s.backups_keep {
            if !(1..=1000).contains(&n) {
                return Err(at("backups_keep", format!("{n}: keep 1 to 1000 copies")));
            }
            self.backups_keep = n;
        }
        Ok(())
    }

    /// `KOLLEGA_NUDGE_WEBHOOK`'s value over the file's webhook (empty
    /// leaves the file's).
    pub(super) fn apply_webhook_env(&mut self, value: &str) -> Result<(), String> {
        if !value.trim().is_empty() {
            self.nudge_webhook = Some(webhook(value)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_the_section_read_with_clear_errors() {
        assert_eq!(span("48h").unwrap(), Duration::from_secs(172_800));
        assert_eq!(span("2w").unwrap(), Duration::from_secs(1_209_600));
        assert!(span("10s").unwrap_err().contains("a minute to 36500 days"));
        assert!(span("0d").is_err());
        let mut c = MeetingsConfig::default();
        let section: MeetingsSection =
            toml::from_str("nudge_after = \"1d\"\nretention = \"30d\"\nbackups_keep = 7").unwrap();
        c.apply(section).unwrap();
        assert_eq!(c.nudge_after, Duration::from_secs(86_400));
        assert_eq!(c.backups_keep, 7);
        let bad: MeetingsSection = toml::from_str("nudge_webhook = \"ftp://x\"").unwrap();
        assert!(
            c.apply(bad)
                .unwrap_err()
                .contains("`meetings.nudge_webhook`")
        );
        c.apply_webhook_env("http://127.0.0.1:9/hook").unwrap();
        assert!(c.apply_webhook_env("hook").is_err());
        assert_eq!(c.nudge_webhook.as_deref(), Some("http://127.0.0.1:9/hook"));
    }
}
