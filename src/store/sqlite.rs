//! Embedded SQLite: the zero-setup default.
//!
//! One writer connection (SQLite allows one writer at a time; a single connection turns contention into
//! a queue instead of `SQLITE_BUSY` retries) and a pool of read connections. WAL lets readers run
//! while the writer commits; `synchronous=NORMAL` in WAL mode is durable against process crashes and
//! loses at most the last commits on power loss; foreign keys are on.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};

use super::{Backend, ConnectOptions, PoolStats, StoreError, StoreResult, ops};
use crate::secrets::DatabaseUrl;

/// The SQLite migrations, embedded at compile time.
pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The row-locking suffix of a claiming subquery. SQLite has no row locks; its one writer connection serializes claims.
const FOR_UPDATE_SKIP_LOCKED: &str = "";

/// The database type the shared operation bodies are compiled against.
type Db = Sqlite;

/// A store on an SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: Pool<Db>,
    reader: Pool<Db>,
    pub(super) payloads: std::sync::Arc<super::payloads::PayloadCodec>,
}

impl SqliteStore {
    /// Open (creating if needed) the database file named by `url`.
    pub async fn connect(url: &DatabaseUrl, options: &ConnectOptions) -> StoreResult<Self> {
        let connect_err = |source| StoreError::Connect { url: url.redacted(), source };
        let base = SqliteConnectOptions::from_str(url.expose())
            .map_err(connect_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(10))
            .foreign_keys(true)
            // For new databases: an event row (its compressed payload) is about 1.5 KB, so 4 KiB pages
            // hold two and leave 29% empty; 16 KiB pages hold ten (an existing file keeps its size).
            .page_size(16384)
            .statement_cache_capacity(500);
        if let Some(dir) = base.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| connect_err(sqlx::Error::Io(e)))?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(base.clone())
            .await
            .map_err(connect_err)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(base.read_only(true).create_if_missing(false))
            .await
            .map_err(connect_err)?;
        Ok(Self { writer, reader, payloads: Default::default() })
    }

    /// Apply pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.writer).await.map_err(StoreError::Migrate)
    }

    /// Close both pools.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    /// Pool figures.
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.writer.size() + self.reader.size(),
            idle: u32::try_from(self.writer.num_idle() + self.reader.num_idle()).unwrap_or(u32::MAX),
        }
    }

    fn writer(&self) -> &Pool<Db> {
        &self.writer
    }

    fn reader(&self) -> &Pool<Db> {
        &self.reader
    }

    /// A write transaction that takes SQLite's write lock up front. A deferred `BEGIN` that reads
    /// first fails with `SQLITE_BUSY` (no busy wait) if another connection — the CLI beside a running
    /// server — committed in between; `BEGIN IMMEDIATE` waits for the lock instead.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }
}

impl Backend for SqliteStore {
    ops::accounts!();
    ops::projects!();
    ops::ingest!();
    ops::issues!();
    ops::web!();
    ops::workflow!();
    ops::alerts!();
    ops::outbox!();
    ops::grouping!();
    ops::unmerge!();
    ops::payloads!();
}

ops::ingest_fns!();
ops::push_issue_filter!();
ops::workflow_fns!();
ops::alert_fns!();
