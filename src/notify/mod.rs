//! Alerts: rules per project, evaluated after commit, delivered to Slack through an outbox.
//!
//! ```text
//! ingest transaction ──▶ alert_activity (new issue, regression, reappeared)      ← facts, same transaction
//! batching writer ─after commit─▶ Touched (issues that got events, in memory)    ← for frequency conditions
//!        │
//!        ▼
//! evaluator ──one transaction per pass──▶ alert_rule_fires (interval), alert_evaluations (why / why not),
//!        │                                notification_outbox (one row per webhook)
//!        ▼
//! sender ──claim (lease; SKIP LOCKED on PostgreSQL)──▶ POST webhook ──▶ outbox status + alert_deliveries
//! ```
//!
//! Ingest never waits on any of this: it only inserts a fact row for the rare new issue or regression,
//! and hands touched issue ids to an in-memory set. The evaluator ([`evaluate`]) and the sender
//! ([`sender`]) run as two background tasks started by `faultline serve` ([`spawn`]); tests drive them
//! deterministically with [`evaluate_now`] and [`deliver_now`] (or [`run_once`]).
//!
//! Exactly once, with several Faultline processes on one PostgreSQL: each fact is consumed by the one
//! evaluator whose lease still holds it when it commits; the per-issue interval is a conditional upsert
//! that two evaluators cannot both win; each outbox row is claimed by one sender (`FOR UPDATE SKIP
//! LOCKED` plus a lease that outlasts the request timeout), and only that sender may record its outcome.

pub mod evaluate;
pub mod rules;
pub mod sender;
pub mod slack;
pub mod ssrf;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::store::{EnvelopeWrite, IngestOutcome, Millis, StoreResult};
pub use evaluate::EvaluationStats;
pub use sender::{DeliveryStats, Sender};

/// How often the tasks look for work when nobody wakes them (facts left by a crashed process, retries).
const POLL: Duration = Duration::from_secs(2);
/// The least time between two evaluation passes.
const MIN_GAP: Duration = Duration::from_millis(250);
/// Sent and failed messages and the delivery log are kept this long.
pub const HISTORY_DAYS: i64 = 30;
const PRUNE_EVERY: Duration = Duration::from_secs(3_600);

/// An issue that received events since the last evaluation, and its latest event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    /// The issue's project.
    pub project_id: i64,
    /// The latest event's id (32 hex).
    pub event_id: String,
}

/// Issues touched by committed batches, waiting for the evaluator; bounded by the number of issues.
#[derive(Debug, Default)]
pub struct Touched {
    issues: Mutex<HashMap<i64, Touch>>,
    wake: Notify,
}

impl Touched {
    /// Note the issues of a committed batch (called by the batching writer after commit).
    pub fn record(&self, writes: &[EnvelopeWrite], outcomes: &[Vec<IngestOutcome>]) {
        let Ok(mut issues) = self.issues.lock() else { return };
        let before = issues.len();
        for (write, outcomes) in writes.iter().zip(outcomes) {
            for outcome in outcomes.iter().filter(|o| !o.duplicate) {
                if let Some(issue_id) = outcome.issue_id {
                    let touch = Touch { project_id: write.project_id, event_id: outcome.event_id.clone() };
                    issues.insert(issue_id, touch);
                }
            }
        }
        if issues.len() > before || outcomes.iter().flatten().any(|o| o.is_new || o.is_regression) {
            self.wake.notify_one();
        }
    }

    fn take(&self) -> HashMap<i64, Touch> {
        self.issues.lock().map(|mut issues| std::mem::take(&mut *issues)).unwrap_or_default()
    }

    fn restore(&self, touched: HashMap<i64, Touch>) {
        if let Ok(mut issues) = self.issues.lock() {
            for (id, touch) in touched {
                issues.entry(id).or_insert(touch);
            }
        }
    }
}

/// The alerting side of the application state: cheap to clone.
#[derive(Debug, Clone)]
pub struct Notifier {
    /// Issues awaiting evaluation.
    pub touched: Arc<Touched>,
    /// The webhook client.
    pub sender: Sender,
    /// This process's name in leases (`claimed_by`).
    pub worker: String,
    sent_wake: Arc<Notify>,
}

impl Notifier {
    /// A notifier; `allow_private` lets webhooks reach internal addresses.
    pub fn new(allow_private: bool) -> Self {
        Self {
            touched: Arc::default(),
            sender: Sender::new(allow_private),
            worker: format!("faultline-{}", crate::secrets::random_hex(6)),
            sent_wake: Arc::default(),
        }
    }
}

/// One evaluation pass at `now`.
pub async fn evaluate_now(state: &AppState, now: Millis) -> StoreResult<EvaluationStats> {
    let notifier = &state.notifier;
    let touched = notifier.touched.take();
    let kept = touched.clone();
    let result = evaluate::run(&state.store, &state.config.public_url(), touched, &notifier.worker, now).await;
    if result.is_err() {
        notifier.touched.restore(kept);
    }
    result
}

/// One delivery round at `now`.
pub async fn deliver_now(state: &AppState, now: Millis) -> StoreResult<DeliveryStats> {
    sender::run(&state.store, &state.notifier.sender, &state.notifier.worker, now).await
}

/// Evaluate, then deliver what is due, now.
pub async fn run_once(state: &AppState) -> StoreResult<(EvaluationStats, DeliveryStats)> {
    let evaluated = evaluate_now(state, Millis::now()).await?;
    let delivered = deliver_now(state, Millis::now()).await?;
    Ok((evaluated, delivered))
}

/// The running evaluator and sender.
pub struct Tasks {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Tasks {
    /// Ask both tasks to stop and wait for them (a send in progress finishes first).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            if let Err(err) = handle.await {
                tracing::error!(error = %err, "an alert task failed");
            }
        }
    }
}

/// Start the evaluator and the sender in the background.
pub fn spawn(state: AppState) -> Tasks {
    let (stop, stopped) = watch::channel(false);
    let evaluator = {
        let state = state.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = state.notifier.touched.wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                    _ = stopped.changed() => break,
                }
                match evaluate_now(&state, Millis::now()).await {
                    Ok(stats) if stats.queued > 0 => state.notifier.sent_wake.notify_one(),
                    Ok(_) => {}
                    Err(err) => tracing::error!(error = %err, "alert evaluation failed"),
                }
                // Let touches accumulate: under a steady stream one pass covers many batches.
                tokio::time::sleep(MIN_GAP).await;
            }
            // A last pass for what the final batches recorded (facts are durable either way).
            if let Err(err) = evaluate_now(&state, Millis::now()).await {
                tracing::error!(error = %err, "final alert evaluation failed");
            }
        })
    };
    let sender = {
        let mut stopped = stopped;
        tokio::spawn(async move {
            let mut pruned = tokio::time::Instant::now();
            loop {
                tokio::select! {
                    () = state.notifier.sent_wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                    _ = stopped.changed() => break,
                }
                if let Err(err) = deliver_now(&state, Millis::now()).await {
                    tracing::error!(error = %err, "alert delivery round failed");
                }
                if pruned.elapsed() >= PRUNE_EVERY {
                    pruned = tokio::time::Instant::now();
                    let before = Millis::now().plus_secs(-HISTORY_DAYS * 86_400);
                    if let Err(err) = state.store.prune_alert_history(before).await {
                        tracing::error!(error = %err, "pruning the alert history failed");
                    }
                }
            }
        })
    };
    Tasks { stop, handles: vec![evaluator, sender] }
}
