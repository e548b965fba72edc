//! Embedded SQLite: the zero-setup default.
//!
//! One writer connection (SQLite allows one writer at a time; a single connection turns contention into
//! a queue instead of `SQLITE_BUSY` retries) and a pool of read connections. WAL lets readers run
//! while the writer commits; `synchronous=NORMAL` in WAL mode is durable against process crashes and
//! loses at most the last commits on power loss; foreign keys are on.
//!
//! Checkpoints (copying the WAL back into the database file) run on a connection of their own every
//! [`CHECKPOINT_EVERY`], not inside the writer's commits: SQLite's automatic checkpoint made the commit
//! that crossed 1,000 WAL pages copy and fsync them, and those commits were the ingest latency's tail.
//! A passive checkpoint copies while the writer goes on, but under steady load it never finishes
//! while no commit is under way, so the WAL never starts over; past [`WAL_RESTART_PAGES`] the
//! checkpointer restarts it on the writer's connection, between two batches, which holds the writer
//! back only for the few pages copied since. The writer still checkpoints by itself past
//! [`WAL_BACKSTOP_PAGES`], should the checkpointer stop.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};

use super::{Backend, ConnectOptions, PoolStats, StoreError, StoreResult, ops};
use crate::secrets::DatabaseUrl;

mod batch;

/// The SQLite migrations, embedded at compile time.
pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How often the background checkpoint runs.
pub const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);
/// WAL pages past which the checkpointer restarts the WAL (4 MiB of 4 KiB pages).
const WAL_RESTART_PAGES: i64 = 1024;
/// WAL pages past which the writer checkpoints itself (16 MiB of 4 KiB pages).
const WAL_BACKSTOP_PAGES: u32 = 4096;

/// The writer's page cache: negative means KiB (32 MiB).
const WRITER_CACHE_KIB: i32 = -32 * 1024;

/// The row-locking suffix of a claiming subquery. SQLite has no row locks; its one writer connection serializes claims.
const FOR_UPDATE_SKIP_LOCKED: &str = "";

/// The database type the shared operation bodies are compiled against.
type Db = Sqlite;

/// How a write transaction starts: with SQLite's write lock taken up front. A deferred `BEGIN` that
/// reads first fails with `SQLITE_BUSY` (no busy wait) if another connection — the CLI beside a
/// running server — committed in between; `BEGIN IMMEDIATE` waits for the lock instead.
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// A store on an SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: Pool<Db>,
    reader: Pool<Db>,
    checkpointer: Pool<Db>,
    /// The ingest writer's connection between busy batches.
    lease: std::sync::Arc<super::lease::Lease<Db>>,
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
            // For new databases (an existing file keeps its size): 4 KiB pages. With payload dictionaries an
            // event row is ~400 bytes, and every page a commit touches is written whole to the WAL and
            // copied back at the checkpoint: 16 KiB pages wrote ~2.5× the bytes and had a longer
            // latency tail at 1,000 events/s (p99 ~21 ms against ~15 ms).
            .page_size(4096)
            .statement_cache_capacity(500);
        if let Some(dir) = base.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| connect_err(sqlx::Error::Io(e)))?;
        }
        // No ping before a connection is handed out: an SQLite connection is a file handle in this
        // process and cannot have dropped, and each ping is a round trip to the connection's thread.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(
                base.clone()
                    .pragma("wal_autocheckpoint", WAL_BACKSTOP_PAGES.to_string())
                    // A multi-row upsert's statement journal in memory, not in a temporary file, and
                    // room for the pages of the events' random-keyed (event id) index, which outgrow
                    // SQLite's 2 MiB default cache early. With the smaller blocking pool (cli.rs), on
                    // two cores: 5,104–5,254 events/s at concurrency 128 against 4,675–4,770, p99 at
                    // 1,000 events/s of 13.5–14.6 ms in six runs against 10.5–20.0 ms in nine, for
                    // 11–31 MiB more RSS under load (BENCHMARKS.md).
                    .pragma("temp_store", "memory")
                    .pragma("cache_size", WRITER_CACHE_KIB.to_string()),
            )
            .await
            .map_err(connect_err)?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(base.clone())
            .await
            .map_err(connect_err)?;
        tokio::spawn(checkpoints(checkpointer.clone(), writer.clone()));
        let reader = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .test_before_acquire(false)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(base.read_only(true).create_if_missing(false))
            .await
            .map_err(connect_err)?;
        Ok(Self { writer, reader, checkpointer, lease: Default::default(), payloads: Default::default() })
    }

    /// Apply pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.writer).await.map_err(StoreError::Migrate)
    }

    /// Close the pools (which ends the background checkpoints). The writer goes last: the last
    /// connection to close checkpoints the whole WAL and deletes it, which a read-only one cannot.
    pub async fn close(&self) {
        self.reader.close().await;
        self.checkpointer.close().await;
        self.lease.release();
        self.writer.close().await;
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

    /// A write transaction (see [`BEGIN_WRITE`]).
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
        self.writer.begin_with(BEGIN_WRITE).await
    }
}

/// Every [`CHECKPOINT_EVERY`] until the pool is closed: a passive checkpoint, which copies what it can
/// without waiting for the writer or readers; then, if the WAL has grown past [`WAL_RESTART_PAGES`],
/// a restarting one, so that the next commit writes the WAL from its start again.
///
/// The restart runs on the writer's own connection, queued between two batches like any other write.
/// On a connection of its own it waits for the writer, and the next batch's `BEGIN` for it, through
/// SQLite's busy handler, which sleeps in steps of 1 to 100 ms; queued in the pool, each waits only as
/// long as the other runs. The move showed no gain of its own in single runs (`BEGIN` p90 5.1 ms
/// before, 5.6 ms after): the `BEGIN` tail of those runs came from the writer's hand-offs, not from
/// checkpoints (BENCHMARKS.md).
async fn checkpoints(pool: Pool<Db>, writer: Pool<Db>) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The WAL's size at the last restart: an idle WAL keeps reporting it until the next commit.
    let mut restarted_at = None;
    loop {
        every.tick().await;
        if pool.is_closed() {
            return;
        }
        let passive: Result<(i64, i64, i64), _> =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&pool).await;
        let restart = match passive {
            Ok((_, wal_pages, _)) if wal_pages >= WAL_RESTART_PAGES && restarted_at != Some(wal_pages) => {
                restarted_at = Some(wal_pages);
                let restart: Result<(i64, i64, i64), _> =
                    sqlx::query_as("PRAGMA wal_checkpoint(RESTART)").fetch_one(&writer).await;
                tracing::debug!(wal_pages, ?restart, "restarted the WAL");
                restart.map(drop)
            }
            other => other.map(drop),
        };
        if let Err(err) = restart {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %err, "WAL checkpoint failed");
        }
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

ops::payload_fns!(SqliteStore);
ops::push_issue_filter!();
ops::workflow_fns!();
ops::alert_fns!();
