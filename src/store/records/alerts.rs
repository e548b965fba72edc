//! Records of alert rules, their evaluation and the notification outbox.
//!
//! The store keeps a rule's conditions, filters and actions as JSON text; `notify::rules` parses them.
//! The store knows nothing of what they mean, only of rows: which facts await evaluation, when a rule
//! last fired for an issue, which messages are due, and what each delivery attempt did.

use super::Millis;

/// A stored alert rule (JSON columns unparsed).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertRuleRow {
    /// Database id.
    pub id: i64,
    /// The project whose issues it watches.
    pub project_id: i64,
    /// Display name.
    pub name: String,
    /// Disabled rules are kept but never evaluated.
    pub enabled: bool,
    /// Only events of this environment (any when `None`).
    pub environment: Option<String>,
    /// Per-issue action interval in minutes.
    pub frequency_minutes: i64,
    /// `all` or `any` of the conditions.
    pub action_match: String,
    /// `all`, `any` or `none` of the filters.
    pub filter_match: String,
    /// Conditions as a JSON array.
    pub conditions: String,
    /// Filters as a JSON array.
    pub filters: String,
    /// Actions as a JSON array (webhook URLs in clear: never log or return this).
    pub actions: String,
    /// When it was created.
    pub created_at: Millis,
    /// When it was last changed.
    pub updated_at: Millis,
}

/// What it takes to create or replace a rule.
#[derive(Debug, Clone)]
pub struct AlertRuleWrite {
    /// Display name.
    pub name: String,
    /// Enabled flag.
    pub enabled: bool,
    /// Environment, if any.
    pub environment: Option<String>,
    /// Per-issue action interval in minutes.
    pub frequency_minutes: i64,
    /// `all` or `any`.
    pub action_match: String,
    /// `all`, `any` or `none`.
    pub filter_match: String,
    /// JSON array.
    pub conditions: String,
    /// JSON array.
    pub filters: String,
    /// JSON array.
    pub actions: String,
}

/// What kind of fact the ingest transaction recorded for the evaluator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    /// The event opened a new issue.
    New,
    /// The event reopened a resolved issue.
    Regression,
    /// The event ended an ignored issue's ignore condition.
    Reappeared,
}

impl ActivityKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::New => "new",
            ActivityKind::Regression => "regression",
            ActivityKind::Reappeared => "reappeared",
        }
    }

    /// From the stored name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "new" => Some(ActivityKind::New),
            "regression" => Some(ActivityKind::Regression),
            "reappeared" => Some(ActivityKind::Reappeared),
            _ => None,
        }
    }
}

/// A fact awaiting evaluation, claimed by one evaluator.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertActivity {
    /// Database id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// Issue.
    pub issue_id: i64,
    /// `new`, `regression` or `reappeared` (see [`ActivityKind`]).
    pub kind: String,
    /// The event that caused it.
    pub event_id: Option<String>,
    /// That event's release.
    pub release: Option<String>,
    /// When it was recorded.
    pub created_at: Millis,
}

/// One rule's verdict on one issue, decided by the evaluator and applied by
/// [`crate::store::Store::commit_alert_evaluation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleVerdict {
    /// The rule.
    pub rule_id: i64,
    /// The issue.
    pub issue_id: i64,
    /// Why it fires or not, for the issue page.
    pub reason: String,
    /// Messages to queue if it fires; `None` when it does not.
    pub fire: Option<Fire>,
}

/// A decision to notify, applied only if the rule has not fired for the issue within its interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fire {
    /// The per-issue action interval, in minutes.
    pub interval_minutes: i64,
    /// One message per webhook: (webhook URL, JSON payload).
    pub messages: Vec<(String, String)>,
    /// Facts this decision rests on; if another evaluator took any of them, the fire is dropped.
    pub activity_ids: Vec<i64>,
}

/// The outcome of one evaluation pass, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct AlertCommit {
    /// Who evaluated (the lease holder of the facts).
    pub worker: String,
    /// Evaluation time.
    pub now: Millis,
    /// Facts consumed (deleted if still ours).
    pub activity_ids: Vec<i64>,
    /// Verdicts.
    pub verdicts: Vec<RuleVerdict>,
}

/// What a commit did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertCommitOutcome {
    /// Messages queued.
    pub queued: u64,
    /// Fires refused because the rule fired for the issue within its interval.
    pub suppressed: u64,
}

/// A message claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxMessage {
    /// Database id.
    pub id: i64,
    /// The rule.
    pub rule_id: i64,
    /// The issue (none for test messages).
    pub issue_id: Option<i64>,
    /// Why it was queued.
    pub reason: String,
    /// Where to post (a secret).
    pub webhook: String,
    /// The Slack JSON body.
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    /// Delivered.
    Sent,
    /// Failed; try again at this time.
    Retry(Millis),
    /// Failed for good (permanent error or attempts used up).
    Failed,
}

/// One attempt, as the sender reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The outbox row.
    pub outbox_id: i64,
    /// Who holds the claim; a report from a worker whose claim was taken over is ignored.
    pub worker: String,
    /// When the attempt ended.
    pub at: Millis,
    /// What happened.
    pub result: DeliveryResult,
    /// The HTTP status, if a response came.
    pub http_status: Option<i64>,
    /// The error, if any (never containing the webhook URL).
    pub error: Option<String>,
}

/// A line of a rule's delivery log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertDelivery {
    /// Database id.
    pub id: i64,
    /// The rule.
    pub rule_id: i64,
    /// The outbox row (none for test messages).
    pub outbox_id: Option<i64>,
    /// The issue (none for test messages).
    pub issue_id: Option<i64>,
    /// When.
    pub attempted_at: Millis,
    /// Which attempt (1-based).
    pub attempt: i64,
    /// `sent`, `retry`, `failed` or `test`/`test_failed`.
    pub status: String,
    /// HTTP status, if a response came.
    pub http_status: Option<i64>,
    /// What went wrong.
    pub error: Option<String>,
}

/// A test-message attempt, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The rule.
    pub rule_id: i64,
    /// When.
    pub attempted_at: Millis,
    /// `test` or `test_failed`.
    pub status: String,
    /// HTTP status, if any.
    pub http_status: Option<i64>,
    /// Error, if any.
    pub error: Option<String>,
}

/// A rule's latest verdict on an issue, for the issue page.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IssueRuleStatus {
    /// The rule.
    pub rule_id: i64,
    /// Its name.
    pub rule_name: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// When it last judged the issue (never, if `None`).
    pub evaluated_at: Option<Millis>,
    /// Whether that verdict fired.
    pub fired: Option<bool>,
    /// Why.
    pub reason: Option<String>,
    /// When the rule last fired for this issue.
    pub last_fired_at: Option<Millis>,
}

/// Outbox figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Messages waiting to be sent (including ones being retried).
    pub pending: i64,
    /// Messages given up on.
    pub failed: i64,
    /// Messages delivered.
    pub sent: i64,
}
