//! Records of the web UI: issue workflow changes, activity, releases, environments, inbound filters.

use super::Millis;

/// A status change, as the UI buttons and Sentry's `PUT …/issues/` bodies express it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusChange {
    /// Resolved; any later event regresses it.
    Resolved,
    /// Resolved in the release after the issue's latest one; only events of a newer release regress it.
    ResolvedInNextRelease,
    /// Resolved in this release; events of it or a newer one regress it.
    ResolvedInRelease(String),
    /// Back to unresolved.
    Unresolved,
    /// Ignored (archived), forever or until a condition.
    Ignored(IgnoreCondition),
}

/// When an ignored issue comes back by itself (all `None`: ignored forever).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IgnoreCondition {
    /// For this many minutes.
    pub minutes: Option<i64>,
    /// Until this many more events.
    pub count: Option<i64>,
    /// Until this many more distinct users.
    pub users: Option<i64>,
}

/// Changes to apply to one or more issues; `None` fields are left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueUpdate {
    /// New status.
    pub status: Option<StatusChange>,
    /// New assignee (`Some(None)` unassigns).
    pub assignee: Option<Option<i64>>,
    /// Bookmark (`true`) or un-bookmark for the acting user.
    pub bookmark: Option<bool>,
}

/// One entry of an issue's activity log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Activity {
    /// Database id.
    pub id: i64,
    /// The issue.
    pub issue_id: i64,
    /// Who did it; `None` for Faultline itself.
    pub user_id: Option<i64>,
    /// Their e-mail, if the user still exists.
    pub user_email: Option<String>,
    /// `note`, `set_resolved`, `set_resolved_in_release`, `set_unresolved`, `set_ignored`, `assigned`,
    /// `unassigned`, `merge`, `set_regression`, `set_escalating`.
    pub kind: String,
    /// Details as JSON (`{"text": …}` for notes, `{"version": …}`, …).
    pub data: String,
    /// When.
    pub created_at: Millis,
}

/// The events around one event of an issue, by time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventNeighbors {
    /// The oldest event's id.
    pub oldest: Option<String>,
    /// The previous (older) event's id.
    pub previous: Option<String>,
    /// The next (newer) event's id.
    pub next: Option<String>,
    /// The latest event's id.
    pub latest: Option<String>,
}

/// The top values of one tag key of an issue.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TagTop {
    /// Tag key.
    pub key: String,
    /// Tag value.
    pub value: String,
    /// Events with this value.
    pub count: i64,
    /// Events with any value of the key.
    pub total: i64,
}

/// A release as the releases page lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReleaseSummary {
    /// Version string.
    pub version: String,
    /// When Faultline first heard of it.
    pub created_at: Millis,
    /// Its first event.
    pub first_event: Option<Millis>,
    /// Its latest event.
    pub last_event: Option<Millis>,
    /// Issues first seen in it (among the listed projects).
    pub new_issues: i64,
}

/// An environment of a project.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Environment {
    /// The project.
    pub project_id: i64,
    /// Name.
    pub name: String,
    /// First event in it.
    pub first_seen: Millis,
    /// Latest event in it.
    pub last_seen: Millis,
    /// Hidden from the selectors.
    pub hidden: bool,
}

/// A project's inbound filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ProjectFilters {
    /// The project.
    pub project_id: i64,
    /// Drop events from `localhost`, `127.0.0.1` and `::1`.
    pub localhost: bool,
    /// Drop errors caused by browser extensions.
    pub browser_extensions: bool,
    /// Globs over the error message, one per line.
    pub error_messages: String,
    /// Globs over the exception type, one per line.
    pub error_types: String,
    /// Globs over the release, one per line.
    pub releases: String,
}

/// A project's grouping rules in Sentry's text syntax (empty: built-in rules only).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ProjectGrouping {
    /// The project.
    pub project_id: i64,
    /// Fingerprint rules, one per line (`error.type:KeyError -> keys`).
    pub fingerprint_rules: String,
    /// Stack-trace rules, one per line (`stack.module:vendor.* -app`).
    pub stacktrace_rules: String,
}

/// One grouping hash of an issue, with the events stored under it as their primary hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueHash {
    /// The hash (32 hex digits).
    pub hash: String,
    /// Events whose primary hash it is, counted up to [`IssueHash::COUNT_CAP`] + 1.
    pub events: i64,
}

impl IssueHash {
    /// Counting stops past this many events: the issue page reads the hashes on every view, and an
    /// exact count walks every event of the hash (on PostgreSQL without a recent VACUUM, every row
    /// of the heap too: 140 ms for an issue with 20,000 events).
    pub const COUNT_CAP: i64 = 1000;

    /// Whether there are more events than [`IssueHash::events`] says.
    pub fn capped(&self) -> bool {
        self.events > Self::COUNT_CAP
    }
}
