//! `faultline bench`: a load generator that talks to a DSN like real SDKs do, so operators can
//! stress-test their Faultline and we can measure ours.
//!
//! It sends envelopes ([`events`]) at a fixed concurrency (closed loop) or a fixed rate (open loop),
//! for a duration or a count; prints progress every second on stderr; and reports counts per HTTP
//! status and latency percentiles. With `--verify` and an API token it asks the server how many
//! events were digested (stored and grouped: the sum of issue counts) and how many issues exist, and
//! reports digested events per second.
//!
//! ```text
//! faultline bench --dsn http://KEY@127.0.0.1:9000/1 --concurrency 32 --duration 30s --verify --token T
//! ```

pub mod events;
mod stats;
mod verify;

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::sync::{Semaphore, mpsc};

use crate::protocol::Dsn;
use crate::secrets::random_hex;
pub use stats::Stats;

/// What to send and how.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Target DSN.
    pub dsn: String,
    /// Requests in flight (closed loop), or the cap on in-flight requests at a fixed rate.
    pub concurrency: usize,
    /// Events per second (open loop); `None` sends as fast as `concurrency` allows.
    pub rate: Option<f64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop after this many events.
    pub count: Option<u64>,
    /// Event shape.
    pub shape: events::Shape,
    /// gzip request bodies.
    pub gzip: bool,
    /// API token for `--verify`.
    pub verify_token: Option<String>,
    /// Organization slug for `--verify`.
    pub org: String,
    /// No progress lines.
    pub quiet: bool,
}

/// Run a benchmark and print its report on stdout.
pub async fn run(options: BenchOptions) -> anyhow::Result<Stats> {
    let dsn = Dsn::parse(&options.dsn).with_context(|| format!("invalid DSN {:?}", options.dsn))?;
    if options.duration.is_none() && options.count.is_none() {
        bail!("give --duration or --count");
    }
    let base = format!(
        "{}://{}{}{}",
        dsn.scheme,
        dsn.host,
        dsn.port.map(|p| format!(":{p}")).unwrap_or_default(),
        dsn.path_prefix.trim_end_matches('/')
    );
    let url = format!("{base}/api/{}/envelope/", dsn.project_id);
    let auth = format!("Sentry sentry_key={}, sentry_version=7, sentry_client=faultline-bench/1.0", dsn.public_key);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(options.concurrency.max(1))
        .build()
        .context("cannot build the HTTP client")?;
    let verifier = match &options.verify_token {
        Some(token) => Some(verify::Verifier::new(client.clone(), &base, token, &options.org, &dsn.project_id).await?),
        None => None,
    };
    let before = match &verifier {
        Some(v) => Some(v.snapshot().await?),
        None => None,
    };

    let (tx, rx) = mpsc::unbounded_channel::<(Option<u16>, Duration)>();
    let collector = tokio::spawn(stats::collect(rx, options.quiet));
    let started = Instant::now();
    let deadline = options.duration.map(|d| started + d);
    let next = Arc::new(AtomicU64::new(0));
    let generator = events::Generator::new(options.shape.clone());
    let job = Arc::new(Job { client, url, auth, generator, options: options.clone() });
    let limit = Arc::new(Semaphore::new(options.concurrency.max(1)));

    match options.rate {
        None => {
            let mut workers = Vec::new();
            for _ in 0..options.concurrency.max(1) {
                let (job, next, tx) = (job.clone(), next.clone(), tx.clone());
                workers.push(tokio::spawn(async move {
                    while let Some(n) = take(&next, job.options.count, deadline) {
                        let _ = tx.send(job.send(n).await);
                    }
                }));
            }
            for worker in workers {
                worker.await.context("a bench worker failed")?;
            }
        }
        Some(rate) if rate > 0.0 => {
            let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut inflight = Vec::new();
            while let Some(n) = take(&next, options.count, deadline) {
                ticker.tick().await;
                let permit = limit.clone().acquire_owned().await.context("semaphore closed")?;
                let (job, tx) = (job.clone(), tx.clone());
                inflight.push(tokio::spawn(async move {
                    let _ = tx.send(job.send(n).await);
                    drop(permit);
                }));
            }
            for task in inflight {
                task.await.context("a bench request failed")?;
            }
        }
        Some(_) => bail!("--rate must be positive"),
    }
    let elapsed = started.elapsed();
    drop(tx);
    let mut stats = collector.await.context("the collector failed")?;
    stats.elapsed = elapsed;
    let mut out = std::io::stdout().lock();
    stats.report(&mut out)?;
    if let (Some(verifier), Some(before)) = (verifier, before) {
        let ok = stats.ok();
        let digested = verifier.wait_for(before.events + ok, Duration::from_secs(60)).await?;
        let events = digested.events - before.events;
        let secs = digested.at.duration_since(started).as_secs_f64().max(elapsed.as_secs_f64());
        writeln!(
            out,
            "verify: {events} of {ok} acknowledged events digested in {secs:.1} s ({:.0} events/s), {} issues",
            events as f64 / secs,
            digested.issues
        )?;
        stats.digested_per_sec = Some(events as f64 / secs);
        stats.issues = Some(digested.issues);
    }
    Ok(stats)
}

/// The next event number, or `None` when the count or the time is up.
fn take(next: &AtomicU64, count: Option<u64>, deadline: Option<Instant>) -> Option<u64> {
    if deadline.is_some_and(|d| Instant::now() >= d) {
        return None;
    }
    let n = next.fetch_add(1, Ordering::Relaxed);
    if count.is_some_and(|c| n >= c) { None } else { Some(n) }
}

struct Job {
    client: reqwest::Client,
    url: String,
    auth: String,
    generator: events::Generator,
    options: BenchOptions,
}

impl Job {
    async fn send(&self, n: u64) -> (Option<u16>, Duration) {
        let body = self.generator.envelope(n, &random_hex(16));
        let mut request = self.client.post(&self.url).header("x-sentry-auth", &self.auth);
        let body = if self.options.gzip {
            request = request.header("content-encoding", "gzip");
            gzip(&body)
        } else {
            body
        };
        let started = Instant::now();
        let status = request.body(body).send().await.ok().map(|r| r.status().as_u16());
        (status, started.elapsed())
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}
