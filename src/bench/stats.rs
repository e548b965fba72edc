//! Counting answers and latencies while a benchmark runs, and the final report.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

/// What a benchmark measured.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Answers per HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer (connection errors, timeouts).
    pub errors: u64,
    /// Latency of every answered request, sorted at the end.
    pub latencies: Vec<Duration>,
    /// Wall time of the sending phase.
    pub elapsed: Duration,
    /// Digested events per second, with `--verify`.
    pub digested_per_sec: Option<f64>,
    /// Issues in the project afterwards, with `--verify`.
    pub issues: Option<u64>,
}

impl Stats {
    /// Requests answered 200.
    pub fn ok(&self) -> u64 {
        self.statuses.get(&200).copied().unwrap_or(0)
    }

    /// The `p`-th latency percentile (0–100).
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies[rank.min(self.latencies.len() - 1)]
    }

    /// Write the human report.
    pub fn report(&self, out: &mut impl Write) -> std::io::Result<()> {
        let total: u64 = self.statuses.values().sum::<u64>() + self.errors;
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        writeln!(out, "requests: {total} in {secs:.1} s ({:.0}/s)", total as f64 / secs)?;
        for (status, n) in &self.statuses {
            writeln!(out, "status {status}: {n}")?;
        }
        writeln!(out, "errors: {}", self.errors)?;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        writeln!(
            out,
            "latency ms: p50 {:.2}, p95 {:.2}, p99 {:.2}, max {:.2}",
            ms(self.percentile(50.0)),
            ms(self.percentile(95.0)),
            ms(self.percentile(99.0)),
            ms(self.latencies.last().copied().unwrap_or_default())
        )
    }
}

/// Gather results until the channel closes, printing a progress line every second unless `quiet`.
pub async fn collect(mut rx: mpsc::UnboundedReceiver<(Option<u16>, Duration)>, quiet: bool) -> Stats {
    let mut stats = Stats::default();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let mut last = 0u64;
    loop {
        tokio::select! {
            result = rx.recv() => match result {
                Some((Some(status), latency)) => {
                    *stats.statuses.entry(status).or_default() += 1;
                    stats.latencies.push(latency);
                }
                Some((None, _)) => stats.errors += 1,
                None => break,
            },
            _ = tick.tick(), if !quiet => {
                let done: u64 = stats.statuses.values().sum::<u64>() + stats.errors;
                eprintln!(
                    "[{:>4.0}s] sent {done:>8}  ok {:>8}  other {:>6}  errors {:>5}  {:>6}/s",
                    started.elapsed().as_secs_f64(),
                    stats.ok(),
                    done - stats.ok() - stats.errors,
                    stats.errors,
                    done - last
                );
                last = done;
            }
        }
    }
    stats.latencies.sort_unstable();
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_from_sorted_latencies() {
        let stats = Stats { latencies: (1..=100).map(Duration::from_millis).collect(), ..Stats::default() };
        assert_eq!(stats.percentile(50.0), Duration::from_millis(51));
        assert_eq!(stats.percentile(99.0), Duration::from_millis(99));
        assert_eq!(stats.percentile(100.0), Duration::from_millis(100));
        assert_eq!(Stats::default().percentile(99.0), Duration::ZERO);
    }
}
