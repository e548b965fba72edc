//! A fresh, migrated database per test on the backend `TEST_DATABASE_URL` names.
//!
//! - unset: a SQLite file in a temporary directory, deleted with it;
//! - `postgres://user@host:port/db`: a fresh schema `faultline_test_<random>` in that database (CI gives
//!   each run a fresh database), used through `search_path`, migrated, and dropped with everything in it
//!   when the guard drops — also when the test panics. A schema costs a few milliseconds; a database
//!   costs a checkpoint and an fsync of its files.
//!
//! Under CI an unreachable PostgreSQL fails the test; nothing is skipped.

use faultline::secrets::{DatabaseUrl, random_hex};
use faultline::store::{ConnectOptions, Store};
use sqlx::Connection;

/// A test database; dropping it removes the database.
pub struct TestDb {
    /// The migrated store.
    pub store: Store,
    /// The URL of this test's own database.
    pub url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// Create and migrate a fresh database.
    pub async fn new() -> Self {
        let (url, cleanup) = match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                let name = format!("faultline_test_{}", random_hex(6));
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is not reachable: {e}"));
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("create test schema");
                admin.close().await.ok();
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.query_pairs_mut().append_pair("options", &format!("-c search_path={name}"));
                (DatabaseUrl::new(url.to_string()), Cleanup::Postgres { admin_url, name })
            }
            Ok(other) if !other.is_empty() => {
                panic!("TEST_DATABASE_URL must be postgres://…, got {other}")
            }
            _ => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = DatabaseUrl::new(format!("sqlite://{}", dir.path().join("test.db").display()));
                (url, Cleanup::Sqlite(dir))
            }
        };
        let options = ConnectOptions { max_connections: 4, ..ConnectOptions::default() };
        let store = Store::connect(&url, &options).await.expect("connect test database");
        store.migrate().await.expect("migrate test database");
        Self { store, url, cleanup }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Cleanup::Postgres { admin_url, name } = &self.cleanup else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop runs inside the test's runtime, which is blocked here; the cleanup runs on a thread with
        // its own runtime and must not touch the test's pool (its I/O belongs to the blocked runtime).
        // Dropping the schema does not wait for the pool's idle connections.
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let sql = format!("DROP SCHEMA IF EXISTS {name} CASCADE");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = done.join();
    }
}
