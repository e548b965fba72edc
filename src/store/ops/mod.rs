//! Operation bodies shared by both backends.
//!
//! Each file holds one macro that expands to associated functions inside `impl Backend for …` of
//! [`super::SqliteStore`] and [`super::PgStore`]. The SQL is the common dialect of SQLite and
//! PostgreSQL: `$n` placeholders, `INSERT … ON CONFLICT … DO UPDATE`, `RETURNING`, integers for time and
//! no vendor functions (`CASE` instead of `GREATEST`/`MAX`, explicit `CAST(… AS BIGINT)` on sums).
//! Inside the macros, `self.writer()` is the pool for writes, `self.reader()` the one for reads,
//! `self.begin_write()` opens a write transaction, and `Db` names the backend's database type.
//! `FOR_UPDATE_SKIP_LOCKED` is the one dialect difference: the row-locking suffix of a claiming
//! subquery (empty on SQLite, whose single writer serializes claims).
//!
//! The one place the backends part ways is the ingest batch's lookups and flush, where the number of
//! statements is the cost: SQLite writes multi-row `VALUES` lists, PostgreSQL one statement of arrays
//! (`sqlite/batch.rs`, `postgres/batch.rs`).

mod accounts;
mod alerts;
mod grouping;
mod ingest;
mod issues;
mod outbox;
mod payloads;
mod projects;
mod unmerge;
mod web;
mod workflow;

pub(crate) use accounts::accounts;
pub(crate) use alerts::{alert_fns, alerts, rule_columns};
pub(crate) use grouping::grouping;
pub(crate) use ingest::{ingest, ingest_fns};
pub(crate) use issues::{event_columns, issue_columns, issues, push_issue_filter};
pub(crate) use outbox::outbox;
pub(crate) use payloads::{payload_fns, payloads};
pub(crate) use projects::{key_columns, project_select, projects};
pub(crate) use unmerge::unmerge;
pub(crate) use web::web;
pub(crate) use workflow::{workflow, workflow_fns, workflow_write_fns};
