//! Records of ingest and of the issue read models.
//!
//! One [`EnvelopeWrite`] is everything one accepted envelope stores; the batching writer commits many
//! of them in one transaction and gets one [`IngestOutcome`] per event back.

use super::Millis;

/// Everything one envelope stores, committed together.
#[derive(Debug, Clone, Default)]
pub struct EnvelopeWrite {
    /// The project the DSN key belongs to.
    pub project_id: i64,
    /// Its organization (releases are per organization).
    pub organization_id: i64,
    /// When the request arrived.
    pub received_at: Millis,
    /// Error, default and transaction events.
    pub events: Vec<NewEvent>,
    /// Attachments.
    pub attachments: Vec<NewAttachment>,
    /// User feedback.
    pub user_reports: Vec<NewUserReport>,
    /// Session counts to add.
    pub sessions: Vec<SessionCounts>,
    /// Cron check-ins.
    pub check_ins: Vec<NewCheckIn>,
    /// What the SDK says it dropped.
    pub client_outcomes: Vec<ClientOutcome>,
}

/// A normalized, grouped event ready to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// 32 lowercase hex digits.
    pub event_id: String,
    /// `error`, `default`, `transaction`, `csp`, …
    pub event_type: String,
    /// When it happened (after clock-drift correction).
    pub timestamp: Millis,
    /// `fatal`, `error`, `warning`, `info`, `debug`.
    pub level: String,
    /// SDK platform.
    pub platform: String,
    /// Issue title as Sentry computes it.
    pub title: String,
    /// Where it happened (function, module or transaction).
    pub culprit: String,
    /// The message or exception value, for search.
    pub message: String,
    /// Environment, if any.
    pub environment: Option<String>,
    /// Release, if any.
    pub release: Option<String>,
    /// `id:…`, `username:…`, `email:…` or `ip:…`, for unique-user counts.
    pub user_key: Option<String>,
    /// The user's e-mail, if sent (for `user.email:` search).
    pub user_email: Option<String>,
    /// Tags, for the per-issue value rollups.
    pub tags: Vec<(String, String)>,
    /// Grouping hashes, primary first; empty for events that form no issue (transactions).
    pub hashes: Vec<String>,
    /// Issue metadata as JSON (`{"type": …, "value": …}`).
    pub metadata: String,
    /// The normalized payload, zstd-compressed JSON.
    pub payload: Vec<u8>,
}

/// An attachment of an event.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    /// The event it belongs to.
    pub event_id: String,
    /// File name.
    pub name: String,
    /// MIME type, if sent.
    pub content_type: Option<String>,
    /// `event.attachment`, `event.minidump`, …
    pub attachment_type: Option<String>,
    /// The bytes.
    pub data: Vec<u8>,
}

/// User feedback on an event.
#[derive(Debug, Clone)]
pub struct NewUserReport {
    /// The event it is about, if any.
    pub event_id: Option<String>,
    /// Reporter's name.
    pub name: Option<String>,
    /// Reporter's e-mail.
    pub email: Option<String>,
    /// What they wrote.
    pub comments: String,
}

/// Session counts for one release, environment and hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCounts {
    /// Release.
    pub release: String,
    /// Environment (`""` when none).
    pub environment: String,
    /// Start of the hour.
    pub hour: Millis,
    /// Sessions started.
    pub started: i64,
    /// Sessions that had errors.
    pub errored: i64,
    /// Sessions that crashed.
    pub crashed: i64,
    /// Sessions that ended abnormally.
    pub abnormal: i64,
    /// Sessions that ended normally.
    pub exited: i64,
    /// A session id to count as errored once, however many updates report its errors.
    pub errored_session: Option<String>,
}

/// A cron monitor check-in.
#[derive(Debug, Clone)]
pub struct NewCheckIn {
    /// The SDK's check-in id.
    pub check_in_id: String,
    /// Monitor slug.
    pub monitor_slug: String,
    /// `in_progress`, `ok`, `error`, …
    pub status: String,
    /// Seconds, when finished.
    pub duration: Option<f64>,
    /// Environment.
    pub environment: Option<String>,
}

/// Items an SDK reports it discarded.
#[derive(Debug, Clone)]
pub struct ClientOutcome {
    /// Start of the hour.
    pub hour: Millis,
    /// `ratelimit_backoff`, `queue_overflow`, …
    pub reason: String,
    /// `error`, `transaction`, …
    pub category: String,
    /// How many.
    pub quantity: i64,
}

/// What became of one stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOutcome {
    /// The event id.
    pub event_id: String,
    /// The issue it joined or opened.
    pub issue_id: Option<i64>,
    /// It opened a new issue.
    pub is_new: bool,
    /// It reopened a resolved issue.
    pub is_regression: bool,
    /// An event with this id was already stored; nothing changed.
    pub duplicate: bool,
    /// Its issue was deleted with "discard future events": the event was dropped.
    pub discarded: bool,
}

/// An issue: events grouped by fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Issue {
    /// Database id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// Per-project counter for `PROJECT-12` short ids.
    pub short_id: i64,
    /// Title of the latest event.
    pub title: String,
    /// Culprit of the latest event.
    pub culprit: String,
    /// Level of the latest event.
    pub level: String,
    /// Event type (`error`, `default`, `csp`, …).
    pub event_type: String,
    /// Issue metadata JSON.
    pub metadata: String,
    /// `unresolved`, `resolved` or `ignored`.
    pub status: String,
    /// `new`, `regressed`, `ongoing`, …
    pub substatus: Option<String>,
    /// First event's time.
    pub first_seen: Millis,
    /// Latest event's time.
    pub last_seen: Millis,
    /// Events.
    pub times_seen: i64,
    /// Distinct users.
    pub users_seen: i64,
    /// Release of the first event that had one.
    pub first_release: Option<String>,
    /// Release of the latest event that had one.
    pub last_release: Option<String>,
    /// Who owns the issue.
    pub assignee_id: Option<i64>,
    /// With `resolved_mode`: the release the resolution is tied to.
    pub resolved_release: Option<String>,
    /// `next` (resolved in the release after `resolved_release`) or `release` (resolved in it).
    pub resolved_mode: Option<String>,
    /// Ignored until this time.
    pub ignore_until: Option<Millis>,
    /// Ignored until `times_seen` reaches this.
    pub ignore_count: Option<i64>,
    /// Ignored until `users_seen` reaches this.
    pub ignore_users: Option<i64>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredEvent {
    /// Database id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// Issue, if grouped.
    pub issue_id: Option<i64>,
    /// 32 hex digits.
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// When it happened.
    pub timestamp: Millis,
    /// When it arrived.
    pub received_at: Millis,
    /// Level.
    pub level: String,
    /// Platform.
    pub platform: String,
    /// Title.
    pub title: String,
    /// Message or exception value.
    pub message: String,
    /// Environment.
    pub environment: Option<String>,
    /// Release.
    pub release: Option<String>,
    /// Unique-user key.
    pub user_key: Option<String>,
    /// zstd-compressed normalized JSON.
    pub payload: Vec<u8>,
}

/// How to order an issue list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IssueSort {
    /// Last seen, newest first (Sentry's `date`).
    #[default]
    LastSeen,
    /// First seen, newest first (`new`).
    FirstSeen,
    /// Most events (`freq`).
    Events,
    /// Most users (`user`).
    Users,
    /// Most events in the last 24 hours (`trends`).
    Trend,
}

/// A comparison in a search term (`timesSeen:>10`, `age:-24h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `=`
    Eq,
}

impl Cmp {
    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            Cmp::Gt => " > ",
            Cmp::Ge => " >= ",
            Cmp::Lt => " < ",
            Cmp::Le => " <= ",
            Cmp::Eq => " = ",
        }
    }
}

/// Whom `assigned:` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// `assigned:me`: the viewer ([`IssueQuery::viewer_id`]).
    Me,
    /// `assigned:<email>`.
    Email(String),
    /// `assigned:none` / `is:unassigned`.
    Nobody,
    /// `is:assigned`.
    Anyone,
}

/// One condition on issues (all of a query's conditions must hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueFilter {
    /// `status = …` (`unresolved`, `resolved`, `ignored`).
    Status(String),
    /// `substatus = …` (`new`, `regressed`, `ongoing`).
    Substatus(String),
    /// `level = …`.
    Level(String),
    /// Some event of the issue carried this tag value.
    Tag {
        /// Tag key.
        key: String,
        /// Tag value.
        value: String,
    },
    /// Case-insensitive text in the title, culprit or message (metadata).
    Text(String),
    /// `firstRelease:`: the release of the issue's first event.
    FirstRelease(String),
    /// `assigned:`.
    Assigned(AssigneeFilter),
    /// `is:bookmarked`: bookmarked by the viewer.
    Bookmarked,
    /// `has:key`: some event carried the tag.
    Has(String),
    /// `timesSeen:>N`.
    TimesSeen(Cmp, i64),
    /// `age:` / `firstSeen:` compared with a time.
    FirstSeen(Cmp, Millis),
    /// `lastSeen:` compared with a time.
    LastSeen(Cmp, Millis),
    /// `user.email:`: a user with this e-mail was affected.
    UserEmail(String),
    /// The issue is in one of these projects (cross-project lists).
    Projects(Vec<i64>),
    /// Resolved in this release (`resolved_release`), for release pages.
    ResolvedIn(String),
    /// The condition does not hold.
    Not(Box<IssueFilter>),
}

/// Which issues to list.
#[derive(Debug, Clone, Default)]
pub struct IssueQuery {
    /// The project; `0` lists across projects (restrict them with [`IssueFilter::Projects`]).
    pub project_id: i64,
    /// Conditions, all of which must hold.
    pub filters: Vec<IssueFilter>,
    /// Order.
    pub sort: IssueSort,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
    /// Who is asking (`assigned:me`, `is:bookmarked`).
    pub viewer_id: Option<i64>,
    /// The time `trends` counts back from (unset: now).
    pub now: Option<Millis>,
}

/// How often one tag value was seen on an issue.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TagValueCount {
    /// Tag key.
    pub key: String,
    /// Tag value.
    pub value: String,
    /// Events with this value.
    pub times_seen: i64,
    /// First event with it.
    pub first_seen: Millis,
    /// Latest event with it.
    pub last_seen: Millis,
}

/// An attachment's metadata (its bytes are fetched separately).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredAttachment {
    /// Database id.
    pub id: i64,
    /// The event.
    pub event_id: String,
    /// File name.
    pub name: String,
    /// MIME type.
    pub content_type: Option<String>,
    /// Attachment type.
    pub attachment_type: Option<String>,
    /// Size in bytes.
    pub size: i64,
    /// When it arrived.
    pub created_at: Millis,
}

/// How many non-event items a project has stored (for tests and the project page).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ItemCounts {
    /// User reports.
    pub user_reports: i64,
    /// Sessions started.
    pub sessions: i64,
    /// Sessions counted as errored.
    pub sessions_errored: i64,
    /// Sessions that crashed.
    pub sessions_crashed: i64,
    /// Sessions that ended abnormally.
    pub sessions_abnormal: i64,
    /// Sessions that ended cleanly.
    pub sessions_exited: i64,
    /// Check-ins.
    pub check_ins: i64,
    /// Items SDKs reported as discarded.
    pub client_discards: i64,
    /// Transactions stored.
    pub transactions: i64,
    /// Environments seen.
    pub environments: i64,
}
