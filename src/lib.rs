//! Faultline: a self-hosted error tracker that speaks the Sentry protocol.
//!
//! The path of an event, and the module that owns each step:
//!
//! ```text
//! SDK ──POST /api/{project_id}/envelope/──▶ ingest    auth, size caps, decompression, CORS, rate limits
//!                                           protocol  envelope grammar, event normalization (pure)
//!                                           grouping  fingerprint → hashes + explanation (pure)
//!                                           pipeline  batching writers: one transaction per batch
//!                                           store     the only place SQL lives (SQLite or PostgreSQL)
//!                                           notify    alert rules after commit → outbox → Slack webhooks
//! ```
//!
//! `protocol` and `grouping` do no I/O; everything that touches the network, the clock or the database
//! lives in the other modules. [`app::router`] is the one routing table, used by `faultline serve` and by
//! the integration tests alike.

pub mod api;
pub mod app;
pub mod bench;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod grouping;
pub mod health;
pub mod ignore_sweep;
pub mod ingest;
pub mod notify;
pub mod pipeline;
pub mod projects;
pub mod protocol;
pub mod search;
pub mod secrets;
pub mod store;
pub mod telemetry;
pub mod web;
