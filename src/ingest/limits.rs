//! Per-key rate limits: a fixed one-minute window per DSN key, counted in memory.
//!
//! A key's own `rate_limit_per_minute` wins over the configured default; 0 or none means unlimited.
//! Over the limit, the SDK gets 429 with `Retry-After` set to the seconds left in the window.

use std::collections::HashMap;
use std::sync::Mutex;

/// Counts events per key and minute.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<i64, (i64, i64)>>,
}

impl RateLimiter {
    /// Count `n` events for `key_id` at `now_ms`; `Err(seconds_to_wait)` when over `limit` per minute.
    pub fn check(&self, key_id: i64, limit: i64, n: i64, now_ms: i64) -> Result<(), u64> {
        if limit <= 0 || n == 0 {
            return Ok(());
        }
        let minute = now_ms.div_euclid(60_000);
        let Ok(mut windows) = self.windows.lock() else { return Ok(()) };
        if windows.len() > 100_000 {
            windows.retain(|_, (m, _)| *m == minute);
        }
        let entry = windows.entry(key_id).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        if entry.1 + n > limit {
            let left_ms = 60_000 - now_ms.rem_euclid(60_000);
            return Err(u64::try_from((left_ms + 999) / 1000).unwrap_or(60).max(1));
        }
        entry.1 += n;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_limit_waits_for_the_next_minute() {
        let limiter = RateLimiter::default();
        let t = 120_000 + 15_000;
        assert!(limiter.check(1, 2, 1, t).is_ok());
        assert!(limiter.check(1, 2, 1, t).is_ok());
        assert_eq!(limiter.check(1, 2, 1, t), Err(45));
        assert!(limiter.check(2, 2, 1, t).is_ok(), "other keys are independent");
        assert!(limiter.check(1, 2, 1, t + 45_000).is_ok(), "a new minute starts fresh");
        assert!(limiter.check(1, 0, 100, t).is_ok(), "0 is unlimited");
    }
}
