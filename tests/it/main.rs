//! The one integration-test binary: boots the real router on a real database.
//!
//! `TEST_DATABASE_URL` picks the backend: unset → a temporary SQLite file per test;
//! `postgres://…` → a fresh database per test on that server, dropped afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod alerts;
mod alerts_api;
mod api;
mod api_membership;
mod cli;
mod grouping_corpus;
mod health;
mod ignore_sweep;
mod ingest;
mod ingest_bad_input;
mod payload_dictionaries;
mod sdk_rust;
mod setup;
mod shutdown;
mod store_contract;
mod store_ingest;
mod web_alerts;
mod web_auth;
mod web_grouping;
mod web_issues;
mod web_settings;
