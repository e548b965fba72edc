//! The batching writer: many envelopes, one transaction.
//!
//! Handlers [`Pipeline::submit`] an [`EnvelopeWrite`] and wait; a single writer task takes what is
//! queued (up to `batch_max_events` events, waiting at most `batch_max_wait_ms` for more once it has
//! one), commits it with [`Store::ingest_batch`], and only then answers each waiting handler. So an
//! SDK's `200` means committed, and throughput does not pay one fsync per event (group commit).
//!
//! ```text
//! handler ─submit─▶ [bounded queue] ─▶ writer: batch ─▶ BEGIN … COMMIT ─▶ replies ─▶ 200 {"id"}
//!                    full → 429                          failed batch → retried one by one
//! ```
//!
//! The queue is bounded (`queue_capacity` envelopes); a full queue is reported to the SDK as 429 with
//! `Retry-After`, never a silent drop. On shutdown the queue is closed to new work and drained.
//!
//! After each commit the writer hands the touched issues to the alert evaluator ([`Touched`]), an
//! in-memory set: ingest never waits for alerting.

use std::sync::Arc;
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

/// A handle to the writer; cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    queue: mpsc::Sender<Job>,
    shutdown: Arc<Notify>,
}

impl Pipeline {
    /// Start the writer task over `store`; committed batches are reported to `touched`.
    pub fn start(store: Store, config: &IngestConfig, touched: Arc<Touched>) -> (Self, JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(config.queue_capacity);
        let shutdown = Arc::new(Notify::new());
        let writer = Writer {
            store,
            rx,
            max_events: config.batch_max_events,
            max_wait: Duration::from_millis(config.batch_max_wait_ms),
            shutdown: shutdown.clone(),
            touched,
        };
        let handle = tokio::spawn(writer.run());
        (Self { queue, shutdown }, handle)
    }

    /// Queue a write and wait until it is committed.
    pub async fn submit(&self, write: EnvelopeWrite) -> Result<Vec<IngestOutcome>, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.queue.try_send(Job { write, reply, queued: Instant::now() }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SubmitError::QueueFull,
            mpsc::error::TrySendError::Closed(_) => SubmitError::Closed,
        })?;
        metrics::gauge!("ingest_queue_depth").set(self.depth() as f64);
        answer.await.map_err(|_| SubmitError::WriteFailed)?
    }

    /// Envelopes waiting for the writer.
    pub fn depth(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// Stop taking new work; the writer drains what is queued and ends.
    pub fn close(&self) {
        self.shutdown.notify_one();
    }
}

struct Writer {
    store: Store,
    rx: mpsc::Receiver<Job>,
    max_events: usize,
    max_wait: Duration,
    shutdown: Arc<Notify>,
    touched: Arc<Touched>,
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
        match self.store.ingest_batch(&writes).await {
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
                    let result = self.store.ingest_batch(std::slice::from_ref(&write)).await;
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
        metrics::gauge!("ingest_queue_depth").set(self.rx.len() as f64);
    }
}
