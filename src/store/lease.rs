//! The batching writers' connections, kept from one batch to the next while ingest is busy.
//!
//! A transaction on a pooled connection costs more round trips than its statements: sqlx pings the
//! connection when it is taken from the pool, and hands it back from a task of its own that pings it
//! again first. Under load each of those waits for a core shared with event processing, so the SQLite
//! writer's `BEGIN` took 1.6 ms at the median and 8 ms at p90 of a 9 ms batch
//! (`tests/bench/throughput.sh`, concurrency 128).
//!
//! So a writer keeps its connection for the next batch when more work is already queued, for at most
//! [`MAX_HOLD`]: SQLite has one write connection, and the web UI's and the alert evaluator's writes
//! queue for it in the pool, so a busy ingest must still hand it over that often. An idle writer gives
//! its connection back at once, and one that no batch takes goes back when its time is up.
//!
//! ```text
//! batch 1: pool → conn ─ commit ─ more queued ─┐
//! batch 2:          conn ◄──────────────────────┘ ─ commit ─ queue empty → pool
//! ```

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};

/// The longest a writer keeps one connection out of the pool across batches.
pub const MAX_HOLD: Duration = Duration::from_millis(50);

/// Connections kept between batches, with when each was taken from the pool.
pub struct Lease<DB: Database> {
    kept: Mutex<Vec<(PoolConnection<DB>, Instant)>>,
}

impl<DB: Database> Default for Lease<DB> {
    fn default() -> Self {
        Self { kept: Mutex::new(Vec::new()) }
    }
}

impl<DB: Database> std::fmt::Debug for Lease<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").field("kept", &self.lock().len()).finish()
    }
}

impl<DB: Database> Lease<DB> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(PoolConnection<DB>, Instant)>> {
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A kept connection held for less than [`MAX_HOLD`], else one from `pool` (behind whoever is
    /// already waiting for it). Returns the connection and when it left the pool.
    pub async fn take(&self, pool: &Pool<DB>) -> Result<(PoolConnection<DB>, Instant), sqlx::Error> {
        let kept = self.lock().pop();
        match kept {
            Some((conn, since)) if since.elapsed() < MAX_HOLD => return Ok((conn, since)),
            // Held long enough: back to the pool, so that a waiting writer gets it first.
            Some((conn, _)) => drop(conn),
            None => {}
        }
        Ok((pool.acquire().await?, Instant::now()))
    }

    /// After a committed batch: keep the connection if `more_queued` and it has not been out of the
    /// pool for [`MAX_HOLD`]; otherwise it goes back. A kept connection that no batch takes goes back
    /// once its time is up.
    pub fn put_back(self: &Arc<Self>, conn: PoolConnection<DB>, since: Instant, more_queued: bool) {
        let Some(left) = MAX_HOLD.checked_sub(since.elapsed()).filter(|_| more_queued) else { return };
        self.lock().push((conn, since));
        let lease = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(left).await;
            lease.lock().retain(|(_, since)| since.elapsed() < MAX_HOLD);
        });
    }

    /// Hand every kept connection back (before the pool closes, which waits for them).
    pub fn release(&self) {
        self.lock().clear();
    }
}
