//! The sweep that ends timed ignores: an issue ignored "for 30 minutes" comes back when the time is up,
//! whether or not another event arrives (ingest wakes it too, if an event comes first).
//!
//! ```text
//! every SWEEP_EVERY:  issues WHERE status = 'ignored' AND ignore_until <= now
//!                     ──conditional UPDATE──▶ unresolved (escalating), ignore conditions cleared
//!                     ──same transaction───▶ issue_activity `set_escalating`, alert_activity `reappeared`
//! ```
//!
//! Each pass is [`Backend::wake_expired_ignores`] in batches of [`BATCH`]: one conditional update per
//! batch, so with several Faultline processes on one PostgreSQL each issue is woken, and its activity
//! and alert fact written, exactly once. `faultline serve` runs the sweep as a background task
//! ([`spawn`]); tests call [`sweep_now`] with the clock value of their choosing.
//!
//! [`Backend::wake_expired_ignores`]: crate::store::Backend::wake_expired_ignores

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::store::{Millis, Store, StoreResult};

/// How often the background task sweeps. An ignore ends at most this long after its time.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Issues woken per transaction.
pub const BATCH: i64 = 500;

/// Wake every issue whose ignore ended at or before `now`; returns how many were woken.
pub async fn sweep_now(store: &Store, now: Millis) -> StoreResult<u64> {
    let mut woken = 0;
    loop {
        let batch = store.wake_expired_ignores(now, BATCH).await?;
        woken += batch.len() as u64;
        if (batch.len() as i64) < BATCH {
            break;
        }
    }
    if woken > 0 {
        tracing::info!(issues = woken, "ignored issues are back: their ignore time is up");
        metrics::counter!("issues_ignore_expired_total").increment(woken);
    }
    Ok(woken)
}

/// The running sweep.
pub struct Sweeper {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl Sweeper {
    /// Ask the task to stop and wait for it (a pass in progress finishes first).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(err) = self.handle.await {
            tracing::error!(error = %err, "the ignore sweep failed");
        }
    }
}

/// Start the sweep in the background: a pass now (ignores that ended while the server was down), then
/// one every [`SWEEP_EVERY`].
pub fn spawn(store: Store) -> Sweeper {
    let (stop, mut stopped) = watch::channel(false);
    let handle = tokio::spawn(async move {
        loop {
            if let Err(err) = sweep_now(&store, Millis::now()).await {
                tracing::error!(error = %crate::telemetry::Chain(&err), "the ignore sweep failed; retrying later");
            }
            tokio::select! {
                () = tokio::time::sleep(SWEEP_EVERY) => {}
                _ = stopped.changed() => break,
            }
        }
    });
    Sweeper { stop, handle }
}
