//! Exponential backoff with jitter between attempts.
//!
//! The delay after attempt `n` is `BASE · 2^(n-1)`, capped at `CAP`, then
//! spread by up to ±25 %. The spread comes from a hash of the job id and
//! the attempt rather than a clock or a global generator: jobs that failed
//! together (a registry that went down) come back at different times, and
//! the same job and attempt always wait the same, which tests can check.

/// The delay after the first failed attempt.
pub(crate) const BASE_MS: i64 = 2_000;
/// No wait is longer than this.
pub(crate) const CAP_MS: i64 = 5 * 60_000;

/// How long to wait after attempt `attempt` (1-based) of job `seed`.
pub(crate) fn delay_ms(attempt: u32, seed: i64) -> i64 {
    let exp = attempt.saturating_sub(1).min(20);
    let plain = BASE_MS.saturating_mul(1 << exp).min(CAP_MS);
    // splitmix64 of (seed, attempt): a well-spread value in 0..1.
    let mut x = (seed as u64) ^ (u64::from(attempt) << 32) ^ 0x9E37_79B9_7F4A_7C15;
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    let unit = (x >> 11) as f64 / (1u64 << 53) as f64;
    let factor = 0.75 + unit * 0.5;
    (plain as f64 * factor) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_the_jitter_and_stop_at_the_cap() {
        for seed in 0..200 {
            for attempt in 1..12u32 {
                let plain = (BASE_MS << (attempt - 1)).min(CAP_MS);
                let d = delay_ms(attempt, seed);
                assert!(
                    d >= plain * 3 / 4 && d <= plain * 5 / 4,
                    "{attempt} {seed} {d}"
                );
            }
            assert!(delay_ms(u32::MAX, seed) <= CAP_MS * 5 / 4);
        }
    }

    #[test]
    fn jitter_spreads_jobs_that_failed_together() {
        let delays: std::collections::HashSet<i64> = (0..100).map(|id| delay_ms(3, id)).collect();
        assert!(delays.len() > 90);
        assert_eq!(delay_ms(3, 42), delay_ms(3, 42));
    }
}
