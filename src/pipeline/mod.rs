//! The batching writers: many envelopes, one transaction.
//!
//! Handlers [`Pipeline::submit`] an [`EnvelopeWrite`] and wait; a writer task takes what is queued
//! for it (up to `batch_max_events` events, waiting at most `batch_max_wait_ms` for more once it has
//! one), commits it with [`Store::ingest_batch`], and only then answers each waiting handler. So an
//! SDK's `200` means committed, and throughput does not pay one fsync per event (group commit).
//!
//! ```text
//! handler ─submit─▶ lane by issue hash ─▶ [bounded queue] ─▶ writer: batch ─▶ BEGIN … COMMIT ─▶ 200 {"id"}
//!                                          full → 429          failed batch → retried one by one
//! ```
//!
//! SQLite runs one writer (it allows one write transaction at a time), on a thread of its own (see
//! [`on_own_thread`]). PostgreSQL runs several
//! (`ingest.writers`, see [`Store::writers`]): one writer's commit is mostly waiting — on round trips
//! and the WAL flush — which the others overlap. Each event goes to the writer its primary issue hash
//! picks, so one issue's rows are only ever written by one of this node's writers: with 50 busy
//! issues spread over all writers, two writers waiting on each other's row locks made their commits
//! twice as long and gained nothing (BENCHMARKS.md).
//!
//! Each queue is bounded (`queue_capacity` envelopes over all of them); a full queue is reported to
//! the SDK as 429 with `Retry-After`, never a silent drop. On shutdown the queues are closed to new
//! work and drained.
//!
//! After each commit the writer hands the touched issues to the alert evaluator ([`Touched`]), an
//! in-memory set: ingest never waits for alerting.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::config::IngestConfig;
use crate::notify::Touched;
use crate::store::{EnvelopeWrite, IngestOutcome, Store};

/// Why a submission was not committed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full: try again shortly.
    #[error("write queue is full")]
    QueueFull,
    /// The server is shutting down.
    #[error("server is shutting down")]
    Closed,
    /// The database refused the write; nothing was stored.
    #[error("database write failed")]
    WriteFailed,
}

struct Job {
    write: EnvelopeWrite,
    reply: oneshot::Sender<Result<Vec<IngestOutcome>, SubmitError>>,
    queued: Instant,
}

/// One writer's queue and stop signal.
struct Lane {
    queue: mpsc::Sender<Job>,
    shutdown: Arc<Notify>,
}

/// A handle to the writers; cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    lanes: Arc<[Lane]>,
    /// Envelopes queued and not yet taken by a writer, over all lanes.
    queued: Arc<AtomicUsize>,
}

impl Pipeline {
    /// Start the writer tasks over `store` (see [`Store::writers`]); committed batches are reported
    /// to `touched`. The handle ends once every writer has drained its queue.
    pub fn start(store: Store, config: &IngestConfig, touched: Arc<Touched>) -> (Self, JoinHandle<()>) {
        let count = store.writers(config.writers);
        let capacity = config.queue_capacity.div_ceil(count).max(1);
        let mut lanes = Vec::with_capacity(count);
        let mut writers = Vec::with_capacity(count);
        let queued = Arc::new(AtomicUsize::new(0));
        for _ in 0..count {
            let (queue, rx) = mpsc::channel(capacity);
            let shutdown = Arc::new(Notify::new());
            let writer = Writer {
                store: store.clone(),
                rx,
                max_events: config.batch_max_events,
                max_wait: Duration::from_millis(config.batch_max_wait_ms),
                shutdown: shutdown.clone(),
                touched: touched.clone(),
                queued: queued.clone(),
            };
            writers.push(writer);
            lanes.push(Lane { queue, shutdown });
        }
        let handle =
            if matches!(store, Store::Sqlite(_)) { on_own_thread(writers) } else { tokio::spawn(run_writers(writers)) };
        (Self { lanes: lanes.into(), queued }, handle)
    }

    /// Queue a write and wait until it is committed.
    pub async fn submit(&self, write: EnvelopeWrite) -> Result<Vec<IngestOutcome>, SubmitError> {
        let (reply, answer) = oneshot::channel();
        let lane = &self.lanes[lane_of(&write, self.lanes.len())];
        // Counted before it is sent, so that the writer taking it never counts below zero.
        let depth = self.queued.fetch_add(1, Ordering::Relaxed) + 1;
        lane.queue.try_send(Job { write, reply, queued: Instant::now() }).map_err(|e| {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            match e {
                mpsc::error::TrySendError::Full(_) => SubmitError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => SubmitError::Closed,
            }
        })?;
        metrics::gauge!("ingest_queue_depth").set(depth as f64);
        answer.await.map_err(|_| SubmitError::WriteFailed)?
    }

    /// Stop taking new work; the writers drain what is queued and end.
    pub fn close(&self) {
        for lane in self.lanes.iter() {
            lane.shutdown.notify_one();
        }
    }
}

/// Run the writers to the end, each as a task of the current runtime.
async fn run_writers(writers: Vec<Writer>) {
    let tasks: Vec<_> = writers.into_iter().map(|w| tokio::spawn(w.run())).collect();
    for task in tasks {
        if let Err(err) = task.await {
            tracing::error!(error = %err, "a batching writer failed");
        }
    }
}

/// SQLite's writer on a thread and runtime of its own. Each of a batch's ~20 statements is a round
/// trip to the connection's thread, whose answer wakes the writer from outside the runtime; on the
/// server's runtime such a wake-up waits in the shared queue behind the HTTP handlers' tasks (tokio
/// looks there about every 200 µs while busy). Here nothing else is queued. PostgreSQL's writers stay
/// on the server's runtime, whose I/O driver their sockets are registered with: on a thread of their
/// own they were 4–12% slower at concurrency 128 (BENCHMARKS.md).
fn on_own_thread(writers: Vec<Writer>) -> JoinHandle<()> {
    let (done, finished) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new().name("ingest-writer".into()).spawn(move || {
        match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime.block_on(run_writers(writers)),
            Err(err) => tracing::error!(error = %err, "cannot start the batching writer's runtime"),
        }
        drop(done);
    });
    if let Err(err) = thread {
        tracing::error!(error = %err, "cannot start the batching writer's thread");
    }
    tokio::spawn(async move {
        let _ = finished.await;
    })
}

/// Which of `lanes` writers takes `write`: the one its first issue hash picks, so that one issue's
/// rows (its counts, tag values, users) are written by one writer and concurrent transactions do
/// not wait on each other's row locks; writes without a grouped event go by project.
fn lane_of(write: &EnvelopeWrite, lanes: usize) -> usize {
    if lanes <= 1 {
        return 0;
    }
    let mut hasher = std::hash::DefaultHasher::new();
    write.project_id.hash(&mut hasher);
    if let Some(hash) = write.events.iter().find_map(|e| e.hashes.first()) {
        hash.hash(&mut hasher);
    }
    usize::try_from(hasher.finish() % lanes as u64).unwrap_or(0)
}

struct Writer {
    store: Store,
    rx: mpsc::Receiver<Job>,
    max_events: usize,
    max_wait: Duration,
    shutdown: Arc<Notify>,
    touched: Arc<Touched>,
    queued: Arc<AtomicUsize>,
}

impl Writer {
    async fn run(mut self) {
        loop {
            let first = tokio::select! {
                job = self.rx.recv() => job,
                () = self.shutdown.notified() => {
                    self.rx.close();
                    tracing::info!(queued = self.rx.len(), "draining the write queue");
                    continue;
                }
            };
            let Some(first) = first else { break };
            let batch = self.gather(first).await;
            let depth = self.queued.fetch_sub(batch.len(), Ordering::Relaxed).saturating_sub(batch.len());
            metrics::gauge!("ingest_queue_depth").set(depth as f64);
            self.commit(batch).await;
        }
        tracing::info!("write queue drained");
    }

    /// The first job plus whatever arrives within `max_wait`, up to `max_events` events.
    async fn gather(&mut self, first: Job) -> Vec<Job> {
        let mut events = first.write.events.len().max(1);
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + self.max_wait;
        while events < self.max_events {
            let next = match self.rx.try_recv() {
                Ok(job) => Some(job),
                Err(mpsc::error::TryRecvError::Empty) => {
                    tokio::time::timeout_at(deadline, self.rx.recv()).await.ok().flatten()
                }
                Err(mpsc::error::TryRecvError::Disconnected) => None,
            };
            let Some(job) = next else { break };
            events += job.write.events.len().max(1);
            batch.push(job);
        }
        batch
    }

    async fn commit(&self, batch: Vec<Job>) {
        let started = Instant::now();
        let (writes, waiters): (Vec<_>, Vec<_>) = batch.into_iter().map(|j| (j.write, (j.reply, j.queued))).unzip();
        let events: usize = writes.iter().map(|w| w.events.len()).sum();
        metrics::histogram!("ingest_batch_envelopes").record(writes.len() as f64);
        metrics::histogram!("ingest_batch_events").record(events as f64);
        let more_queued = || !self.rx.is_empty();
        match self.store.ingest_batch(&writes, &more_queued).await {
            Ok(outcomes) => {
                metrics::histogram!("ingest_commit_seconds").record(started.elapsed().as_secs_f64());
                self.touched.record(&writes, &outcomes);
                for ((reply, queued), outcome) in waiters.into_iter().zip(outcomes) {
                    metrics::histogram!("ingest_ack_seconds").record(queued.elapsed().as_secs_f64());
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(err) if writes.len() > 1 => {
                // One bad envelope must not sink the others: retry each on its own.
                tracing::warn!(error = %crate::telemetry::Chain(&err), envelopes = writes.len(), "batch commit failed; retrying one by one");
                for (write, (reply, _)) in writes.into_iter().zip(waiters) {
                    let result = self.store.ingest_batch(std::slice::from_ref(&write), &more_queued).await;
                    if let Ok(outcomes) = &result {
                        self.touched.record(std::slice::from_ref(&write), outcomes);
                    }
                    let _ = reply.send(match result {
                        Ok(mut outcomes) => outcomes.pop().ok_or(SubmitError::WriteFailed),
                        Err(err) => {
                            tracing::error!(error = %crate::telemetry::Chain(&err), project.id = write.project_id, "envelope write failed");
                            Err(SubmitError::WriteFailed)
                        }
                    });
                }
            }
            Err(err) => {
                tracing::error!(error = %crate::telemetry::Chain(&err), "envelope write failed");
                for (reply, _) in waiters {
                    let _ = reply.send(Err(SubmitError::WriteFailed));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Millis, NewEvent};

    fn write(project_id: i64, hashes: &[&str]) -> EnvelopeWrite {
        let event = NewEvent {
            event_id: "0".repeat(32),
            event_type: "error".into(),
            timestamp: Millis(0),
            level: "error".into(),
            platform: "python".into(),
            title: "t".into(),
            culprit: "c".into(),
            message: String::new(),
            environment: None,
            release: None,
            user_key: None,
            user_email: None,
            tags: Vec::new(),
            hashes: hashes.iter().map(|h| (*h).to_owned()).collect(),
            metadata: "{}".into(),
            payload: Vec::new(),
        };
        let events = if hashes.is_empty() { Vec::new() } else { vec![event] };
        EnvelopeWrite { project_id, events, ..EnvelopeWrite::default() }
    }

    #[test]
    fn one_issue_hash_always_goes_to_one_writer_and_many_spread_over_all() {
        assert_eq!(lane_of(&write(1, &["a"]), 1), 0);
        let lane = lane_of(&write(1, &["a", "b"]), 3);
        for _ in 0..5 {
            assert_eq!(lane_of(&write(1, &["a", "c"]), 3), lane, "the first (primary) hash decides");
        }
        assert_eq!(lane_of(&write(7, &[]), 3), lane_of(&write(7, &[]), 3), "no events: by project");
        let hashes: Vec<String> = (0..50).map(|n| format!("{n:032x}")).collect();
        let mut used = [0; 3];
        for hash in &hashes {
            used[lane_of(&write(1, &[hash]), 3)] += 1;
        }
        assert!(used.iter().all(|&n| n >= 8), "50 issues spread over 3 writers: {used:?}");
    }
}
