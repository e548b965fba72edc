//! The storage seam: the only place SQL lives.
//!
//! [`Store`] is an enum over [`SqliteStore`] and [`PgStore`]. Both implement one [`Backend`] trait of
//! use-case operations (`create_project`, `find_project_key`, `ingest_batch`, …), so the compiler keeps
//! the two complete. Records ([`records`]) are plain Rust types; no SQL type crosses the seam.
//!
//! The operations are declared once, in the [`backend_api!`] list below, which generates both the trait
//! and `Store`'s forwarding methods. Their bodies are written once too: each file in `ops/` holds a macro
//! whose SQL is portable between SQLite and PostgreSQL (`$1` placeholders, `ON CONFLICT`, `RETURNING`,
//! integers for time), expanded inside each backend's `impl Backend`. Each expansion is type-checked
//! against its own driver, so nothing goes through `sqlx::Any`.
//!
//! The backend is picked by the URL scheme: `sqlite:` or `postgres:`/`postgresql:`; anything else is an
//! error. Migrations live in `migrations/sqlite` and `migrations/postgres` with the same version numbers.

pub mod lease;
mod nodelay;
mod ops;
pub mod payloads;
mod postgres;
pub mod records;
pub mod rollup;
mod sqlite;

use std::time::Duration;

pub use postgres::PgStore;
pub use records::*;
pub use sqlite::SqliteStore;

use crate::secrets::DatabaseUrl;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names a database Faultline does not speak.
    #[error("unsupported database URL scheme {0:?} (expected sqlite: or postgres:)")]
    UnsupportedScheme(String),
    /// The database could not be reached or opened.
    #[error("cannot connect to database {url}")]
    Connect {
        /// The URL, password masked.
        url: String,
        /// The driver's reason.
        #[source]
        source: sqlx::Error,
    },
    /// Applying migrations failed.
    #[error("database migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// A unique constraint refused the write (duplicate slug, e-mail, …).
    #[error("already exists")]
    Conflict,
    /// The thing to change does not exist.
    #[error("not found")]
    NotFound,
    /// Any other database error.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// A stored value could not be decoded (corrupt payload).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            sqlx::Error::RowNotFound => StoreError::NotFound,
            _ => StoreError::Database(err),
        }
    }
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// How to open a store.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Most pooled (read) connections.
    pub max_connections: u32,
    /// How long to wait for a connection, and for the first connect.
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { max_connections: 8, acquire_timeout: Duration::from_secs(10) }
    }
}

/// The database behind Faultline.
#[derive(Debug, Clone)]
pub enum Store {
    /// Embedded SQLite (the default).
    Sqlite(SqliteStore),
    /// PostgreSQL (production, several nodes).
    Postgres(PgStore),
}

impl Store {
    /// Open the database named by `url`; the scheme picks the backend.
    pub async fn connect(url: &DatabaseUrl, options: &ConnectOptions) -> StoreResult<Self> {
        match url.scheme().as_str() {
            "sqlite" => Ok(Store::Sqlite(SqliteStore::connect(url, options).await?)),
            "postgres" | "postgresql" => Ok(Store::Postgres(PgStore::connect(url, options).await?)),
            other => Err(StoreError::UnsupportedScheme(other.to_owned())),
        }
    }

    /// Apply pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Store::Sqlite(s) => s.migrate().await,
            Store::Postgres(p) => p.migrate().await,
        }
    }

    /// Close every connection, waiting for in-flight queries.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(s) => s.close().await,
            Store::Postgres(p) => p.close().await,
        }
    }

    /// Pool figures for `/metrics`.
    pub fn pool_stats(&self) -> PoolStats {
        match self {
            Store::Sqlite(s) => s.pool_stats(),
            Store::Postgres(p) => p.pool_stats(),
        }
    }

    /// A stored payload as JSON.
    pub async fn payload_json(&self, payload: &[u8]) -> StoreResult<serde_json::Value> {
        let json = self.decompress_payload(payload).await?;
        serde_json::from_slice(&json).map_err(|e| StoreError::Corrupt(format!("event payload: {e}")))
    }

    /// Count events compressed for a project with `current` as its dictionary; true once when a new
    /// dictionary should be trained ([`Store::train_payload_dictionary`]).
    pub fn payload_training_due(
        &self,
        project_id: i64,
        current: Option<&payloads::PayloadDictionary>,
        events: u64,
    ) -> bool {
        let codec = match self {
            Store::Sqlite(s) => &s.payloads,
            Store::Postgres(p) => &p.payloads,
        };
        codec.due_for_training(project_id, current, events, Millis::now())
    }

    /// How many batching writers to run for `configured` (0 = the default): SQLite takes one
    /// writer at a time, so more would only queue; PostgreSQL commits concurrent transactions. Two
    /// there: at concurrency 128 on two cores, 1 writer gave 2,830–2,879 events/s, 2 gave
    /// 3,169–3,248, 3 and 4 no more (3,009–3,205) for more of PostgreSQL's CPU per event, as the
    /// batches get smaller (BENCHMARKS.md). Never all of the pool's connections: reads need one.
    pub fn writers(&self, configured: usize) -> usize {
        match self {
            Store::Sqlite(_) => 1,
            Store::Postgres(p) if configured == 0 => p.max_writers().min(2),
            Store::Postgres(p) => p.max_writers().min(configured),
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }
}

/// Declares the use-case operations once: the [`Backend`] trait and `Store`'s forwarding methods.
macro_rules! backend_api {
    ($( $(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty; )*) => {
        /// The use-case operations every database backend provides.
        pub trait Backend: Send + Sync {
            $( $(#[$doc])* fn $name(&self $(, $arg: $ty)*) -> impl Future<Output = StoreResult<$ret>> + Send; )*
        }

        impl Store {
            $(
                $(#[$doc])*
                pub async fn $name(&self $(, $arg: $ty)*) -> StoreResult<$ret> {
                    match self {
                        Store::Sqlite(s) => s.$name($($arg),*).await,
                        Store::Postgres(p) => p.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

backend_api! {
    /// Run a trivial query (readiness).
    fn ping(&self) -> ();

    /// Create an organization; `Conflict` if the slug is taken.
    fn create_organization(&self, slug: &str, name: &str) -> Organization;
    /// Find an organization by slug.
    fn find_organization(&self, slug: &str) -> Option<Organization>;
    /// All organizations, by slug.
    fn list_organizations(&self) -> Vec<Organization>;

    /// Create a project; `Conflict` if the slug is taken in its organization.
    fn create_project(&self, project: &NewProject) -> Project;
    /// Find a project by organization and project slug.
    fn find_project(&self, org_slug: &str, slug: &str) -> Option<Project>;
    /// Find a project by id.
    fn find_project_by_id(&self, id: i64) -> Option<Project>;
    /// An organization's projects, by slug.
    fn list_projects(&self, organization_id: i64) -> Vec<Project>;

    /// Add a DSN key to a project.
    fn create_project_key(&self, project_id: i64, public_key: &str, label: &str) -> ProjectKey;
    /// Find a key by its public part (enabled or not).
    fn find_project_key(&self, public_key: &str) -> Option<ProjectKey>;
    /// A project's keys, oldest first.
    fn list_project_keys(&self, project_id: i64) -> Vec<ProjectKey>;
    /// Enable or disable a key and set its rate limit; `NotFound` if it does not exist.
    fn update_project_key(&self, id: i64, enabled: bool, rate_limit_per_minute: Option<i64>) -> ProjectKey;

    /// Create a user; `Conflict` if the e-mail is taken.
    fn create_user(&self, user: &NewUser) -> User;
    /// Find a user by id.
    fn find_user(&self, id: i64) -> Option<User>;
    /// Find a user and their password hash by e-mail (for login).
    fn find_user_credentials(&self, email: &str) -> Option<(User, Option<String>)>;
    /// How many users exist.
    fn count_users(&self) -> i64;

    /// Store a login session.
    fn create_session(&self, session: &NewSession) -> ();
    /// Find an unexpired session and its user.
    fn find_session(&self, token_hash: &str, now: Millis) -> Option<(User, Session)>;
    /// End a session.
    fn delete_session(&self, token_hash: &str) -> ();

    /// Store an API token.
    fn create_api_token(&self, token: &NewApiToken) -> ApiToken;
    /// Find a token and its user by the token's hash, and note that it was used now.
    fn use_api_token(&self, token_hash: &str, now: Millis) -> Option<(User, ApiToken)>;
    /// A user's tokens, newest first.
    fn list_api_tokens(&self, user_id: i64) -> Vec<ApiToken>;
    /// Delete one of a user's tokens; `NotFound` if it is not theirs.
    fn revoke_api_token(&self, user_id: i64, token_id: i64) -> ();

    /// Store a one-time setup token (first-start admin creation).
    fn create_setup_token(&self, token_hash: &str, expires_at: Millis) -> ();
    /// Whether an unexpired setup token exists (without using it up).
    fn check_setup_token(&self, token_hash: &str, now: Millis) -> bool;
    /// Use up a setup token and create the first admin in one transaction; `NotFound` if the token is
    /// unknown, expired or already used.
    fn complete_setup(&self, token_hash: &str, now: Millis, admin: &NewUser) -> User;

    /// Store a batch of accepted envelopes in one transaction; one outcome list per envelope.
    /// `more_queued`, asked after the commit: whether the writer has the next batch waiting, so that
    /// the store keeps its connection for it (see [`lease`]).
    fn ingest_batch(&self, batch: &[EnvelopeWrite], more_queued: &(dyn Fn() -> bool + Sync)) -> Vec<Vec<IngestOutcome>>;

    // --- stored payloads and their zstd dictionaries (ops/payloads.rs, payloads.rs) ---
    /// A stored payload's JSON bytes, decompressed with the dictionary its frame names.
    fn decompress_payload(&self, payload: &[u8]) -> Vec<u8>;
    /// The project's newest dictionary, for compressing new payloads (cached per node for a minute).
    fn payload_dictionary(&self, project_id: i64) -> Option<std::sync::Arc<payloads::PayloadDictionary>>;
    /// Train a dictionary on the project's newest payloads and store it; its id, or `None` if there was
    /// too little to learn from.
    fn train_payload_dictionary(&self, project_id: i64) -> Option<u32>;

    /// A page of a project's issues.
    fn list_issues(&self, query: &IssueQuery) -> Vec<Issue>;
    /// One issue.
    fn find_issue(&self, id: i64) -> Option<Issue>;
    /// Delete an issue with its events, hashes and rollups; `NotFound` if it does not exist.
    fn delete_issue(&self, id: i64) -> ();
    /// Set an issue's status and substatus; `NotFound` if it does not exist.
    fn set_issue_status(&self, id: i64, status: &str, substatus: Option<&str>) -> ();
    /// An issue's events, newest first.
    fn list_issue_events(&self, issue_id: i64, limit: i64, offset: i64) -> Vec<StoredEvent>;
    /// An event by its 32-hex id.
    fn find_event(&self, project_id: i64, event_id: &str) -> Option<StoredEvent>;
    /// The most frequent values of one tag on an issue.
    fn issue_tag_values(&self, issue_id: i64, key: &str, limit: i64) -> Vec<TagValueCount>;
    /// Events carrying the tag and distinct values, for one tag key of an issue.
    fn issue_tag_totals(&self, issue_id: i64, key: &str) -> (i64, i64);
    /// Hourly event counts of an issue since a time.
    fn issue_hourly_counts(&self, issue_id: i64, since: Millis) -> Vec<(Millis, i64)>;
    /// Attachments of an event.
    fn list_attachments(&self, project_id: i64, event_id: &str) -> Vec<StoredAttachment>;
    /// Counts of a project's non-event items.
    fn project_item_counts(&self, project_id: i64) -> ItemCounts;

    // --- web UI: accounts, membership, settings (ops/web.rs) ---
    /// All users, by e-mail.
    fn list_users(&self) -> Vec<User>;
    /// Replace a user's password hash; `NotFound` if there is no such user.
    fn set_user_password(&self, user_id: i64, password_hash: &str) -> ();
    /// Make a user a member of a project (idempotent).
    fn add_project_member(&self, project_id: i64, user_id: i64) -> ();
    /// Remove a user from a project (idempotent).
    fn remove_project_member(&self, project_id: i64, user_id: i64) -> ();
    /// A project's members, by e-mail.
    fn list_project_members(&self, project_id: i64) -> Vec<User>;
    /// The projects a user is a member of.
    fn member_project_ids(&self, user_id: i64) -> Vec<i64>;
    /// Rename a project and set its platform; `NotFound` if it does not exist.
    fn update_project(&self, id: i64, name: &str, platform: Option<&str>) -> ();
    /// Revoke (delete) a DSN key of a project; `NotFound` if it is not the project's.
    fn delete_project_key(&self, project_id: i64, key_id: i64) -> ();
    /// Environments of some projects, by name.
    fn list_environments(&self, project_ids: &[i64]) -> Vec<Environment>;
    /// Hide or show an environment in the selectors; `NotFound` if it does not exist.
    fn set_environment_hidden(&self, project_id: i64, name: &str, hidden: bool) -> ();
    /// A project's inbound filters, if any were saved.
    fn find_project_filters(&self, project_id: i64) -> Option<ProjectFilters>;
    /// Save a project's inbound filters.
    fn save_project_filters(&self, filters: &ProjectFilters) -> ();
    /// A project's grouping rules, if any were saved (ops/grouping.rs).
    fn find_project_grouping(&self, project_id: i64) -> Option<ProjectGrouping>;
    /// Save a project's grouping rules (validated by the caller).
    fn save_project_grouping(&self, grouping: &ProjectGrouping) -> ();
    /// An issue's grouping hashes with how many events each is the primary hash of.
    fn list_issue_hashes(&self, issue_id: i64) -> Vec<IssueHash>;

    // --- web UI: read models (ops/web.rs) ---
    /// Hourly counts `(issue, hour, count)` of several issues since a time (sparklines).
    fn hourly_counts_of(&self, issue_ids: &[i64], since: Millis) -> Vec<(i64, Millis, i64)>;
    /// Which of these issues the user bookmarked.
    fn bookmarked_among(&self, user_id: i64, issue_ids: &[i64]) -> Vec<i64>;
    /// The top `per_key` values of every tag key of an issue, with each key's total.
    fn issue_tag_tops(&self, issue_id: i64, per_key: i64) -> Vec<TagTop>;
    /// The oldest, previous, next and latest events of an issue around one of its events.
    fn event_neighbors(&self, issue_id: i64, event: &StoredEvent) -> EventNeighbors;
    /// Releases of an organization that some of these projects have, newest first.
    fn list_releases(&self, organization_id: i64, project_ids: &[i64], limit: i64) -> Vec<ReleaseSummary>;
    /// The latest events of a release in some projects.
    fn list_release_events(&self, project_ids: &[i64], version: &str, limit: i64) -> Vec<StoredEvent>;

    // --- issue workflow, shared by the UI and the API (ops/workflow.rs) ---
    /// Apply status, assignment and bookmark changes to issues, with activity entries; `NotFound` if
    /// one does not exist (nothing changes then).
    fn update_issues(&self, ids: &[i64], update: &IssueUpdate, actor: Option<i64>) -> ();
    /// Add a comment to an issue's activity.
    fn add_comment(&self, issue_id: i64, user_id: i64, text: &str) -> ();
    /// An issue's activity, newest first.
    fn list_activity(&self, issue_id: i64) -> Vec<Activity>;
    /// Whether the user bookmarked the issue.
    fn is_bookmarked(&self, issue_id: i64, user_id: i64) -> bool;
    /// Merge issues of one project into the one with the most events (hashes, events and counts
    /// move); returns it. `NotFound` for an unknown id, `Conflict` across projects.
    fn merge_issues(&self, ids: &[i64], actor: Option<i64>) -> i64;
    /// Move one hash of an issue, with the events whose primary hash it is and their counts, into a new
    /// issue; returns it. `NotFound` if the issue does not have the hash, `Conflict` if it is its only one.
    fn unmerge_hash(&self, issue_id: i64, hash: &str, actor: Option<i64>) -> i64;
    /// Delete issues with their events; with `discard`, later events with their hashes are dropped.
    fn delete_issues(&self, ids: &[i64], discard: bool) -> ();
    /// Wake up to `limit` ignored issues whose ignore time has passed (`ignore_until <= now`): back to
    /// unresolved (escalating) with their ignore conditions cleared, an activity entry and a
    /// `reappeared` alert fact each. A conditional update flips each row, and only the caller that
    /// flipped it writes the rest, so several processes sweeping one database wake each issue once.
    /// Returns the issues woken.
    fn wake_expired_ignores(&self, now: Millis, limit: i64) -> Vec<i64>;
    /// Create an alert rule.
    fn create_alert_rule(&self, project_id: i64, rule: &AlertRuleWrite, now: Millis) -> AlertRuleRow;
    /// A project's alert rules, oldest first.
    fn list_alert_rules(&self, project_id: i64) -> Vec<AlertRuleRow>;
    /// One alert rule.
    fn find_alert_rule(&self, id: i64) -> Option<AlertRuleRow>;
    /// Replace an alert rule; `NotFound` if it does not exist.
    fn update_alert_rule(&self, id: i64, rule: &AlertRuleWrite, now: Millis) -> AlertRuleRow;
    /// Delete an alert rule with its bookkeeping, queue and log; `NotFound` if it does not exist.
    fn delete_alert_rule(&self, id: i64) -> ();
    /// Record an alert fact outside ingest (e.g. an ignore that ends by time); `NotFound` without the issue.
    fn record_alert_activity(
        &self,
        issue_id: i64,
        kind: ActivityKind,
        event_id: Option<&str>,
        release: Option<&str>,
        now: Millis,
    ) -> ();
    /// Lease up to `limit` unevaluated alert facts to `worker` until `lease_until`.
    fn claim_alert_activity(&self, worker: &str, now: Millis, lease_until: Millis, limit: i64) -> Vec<AlertActivity>;
    /// When each rule last fired for an issue: `(rule_id, last_fired_at)`.
    fn alert_fires_for_issue(&self, issue_id: i64) -> Vec<(i64, Millis)>;
    /// An issue's events since a time, counted up to `cap`.
    fn count_issue_events_since(&self, issue_id: i64, since: Millis, cap: i64) -> i64;
    /// An issue's distinct users seen since a time, counted up to `cap`.
    fn count_issue_users_since(&self, issue_id: i64, since: Millis, cap: i64) -> i64;
    /// An issue's most frequent tag values over all keys.
    fn issue_top_tags(&self, issue_id: i64, limit: i64) -> Vec<TagValueCount>;
    /// Apply an evaluation pass in one transaction: consume facts, respect intervals, queue messages.
    fn commit_alert_evaluation(&self, commit: &AlertCommit) -> AlertCommitOutcome;
    /// When each rule of a project last fired for any issue: `(rule_id, last_fired_at)`.
    fn alert_rules_last_fired(&self, project_id: i64) -> Vec<(i64, Millis)>;
    /// Every rule of an issue's project with its latest verdict on the issue.
    fn issue_rule_statuses(&self, issue_id: i64) -> Vec<IssueRuleStatus>;

    /// Lease up to `limit` due notifications to `worker` until `lease_until` (counts an attempt).
    fn claim_notifications(&self, worker: &str, now: Millis, lease_until: Millis, limit: i64) -> Vec<OutboxMessage>;
    /// Record an attempt's outcome and log it, if `worker` still holds the claim; whether it did.
    fn finish_delivery(&self, report: &DeliveryReport) -> bool;
    /// Log an attempt that did not go through the outbox (test messages).
    fn record_delivery(&self, delivery: &NewDelivery) -> ();
    /// A rule's delivery log, newest first.
    fn list_alert_deliveries(&self, rule_id: i64, limit: i64) -> Vec<AlertDelivery>;
    /// Outbox counts by status.
    fn outbox_stats(&self) -> OutboxStats;
    /// Forget finished messages and delivery-log lines older than `before`; how many rows went.
    fn prune_alert_history(&self, before: Millis) -> u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_trees_have_the_same_versions() {
        let lite: Vec<i64> = sqlite::MIGRATOR.iter().map(|m| m.version).collect();
        let pg: Vec<i64> = postgres::MIGRATOR.iter().map(|m| m.version).collect();
        assert!(!lite.is_empty());
        assert_eq!(lite, pg, "migrations/sqlite and migrations/postgres must carry the same versions");
        let lite: Vec<_> = sqlite::MIGRATOR.iter().map(|m| m.description.clone()).collect();
        let pg: Vec<_> = postgres::MIGRATOR.iter().map(|m| m.description.clone()).collect();
        assert_eq!(lite, pg, "migration names must match too");
    }

    #[tokio::test]
    async fn unknown_scheme_is_a_clear_error() {
        let err = Store::connect(&DatabaseUrl::new("mysql://x/y"), &ConnectOptions::default())
            .await
            .expect_err("mysql is not supported");
        assert_eq!(err.to_string(), "unsupported database URL scheme \"mysql\" (expected sqlite: or postgres:)");
    }
}
