//! PostgreSQL: the production store and the path to scale (several stateless Faultline nodes on one
//! database). One pool serves reads and writes; the shared operation bodies in `ops/` are the same SQL
//! that SQLite runs.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, Pool, Postgres};

use super::{Backend, ConnectOptions, PoolStats, StoreError, StoreResult, ops};
use crate::secrets::DatabaseUrl;

/// The PostgreSQL migrations, embedded at compile time.
pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The row-locking suffix of a claiming subquery. Concurrent claimers (several Faultline processes) take disjoint rows.
const FOR_UPDATE_SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

/// The database type the shared operation bodies are compiled against.
type Db = Postgres;

/// How a write transaction starts (READ COMMITTED; conflicts are settled by unique keys and row locks).
const BEGIN_WRITE: &str = "BEGIN";

/// Set at the start of an ingest flush. Its multi-row `INSERT … VALUES … ON CONFLICT` statements have
/// one plan whatever their values, yet custom planning (the connection's mode, see [`PgStore::connect`])
/// copied and planned their hundreds of parameters on every batch: a quarter of PostgreSQL's CPU under
/// load (`perf record -a` while `tests/bench/throughput.sh postgres` ran: `GetCachedPlan` 10.7% of all
/// samples, PostgreSQL 43.5%). `SET LOCAL` ends with the transaction.
const GENERIC_PLANS: Option<&str> = Some("SET LOCAL plan_cache_mode = force_generic_plan");

/// Set before the flush's `UPDATE … FROM (VALUES …)`, whose join a stale generic plan could get wrong.
const CUSTOM_PLANS: Option<&str> = Some("SET LOCAL plan_cache_mode = force_custom_plan");

/// A store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: Pool<Db>,
    /// The ingest writers' connections between busy batches.
    lease: std::sync::Arc<super::lease::Lease<Db>>,
    pub(super) payloads: std::sync::Arc<super::payloads::PayloadCodec>,
}

impl PgStore {
    /// Connect to the database named by `url`.
    pub async fn connect(url: &DatabaseUrl, options: &ConnectOptions) -> StoreResult<Self> {
        let connect_err = |source| StoreError::Connect { url: url.redacted(), source };
        let connect: PgConnectOptions = url.expose().parse().map_err(connect_err)?;
        // Room for every shape of the batched statements (see store::rollup::pieces).
        let connect = connect
            .application_name("faultline")
            .statement_cache_capacity(500)
            // A prepared statement's generic plan is fixed once chosen: planned while `events` was
            // empty, the ingest lookups kept a sequential scan that took 300 ms per batch at 130k
            // events where autovacuum was off to refresh statistics. Custom plans cost ~0.1 ms each.
            .options([("plan_cache_mode", "force_custom_plan")]);
        // A TCP port to find the pool's sockets by (none for a Unix socket), see store::nodelay.
        let tcp_port = connect.get_socket().is_none().then(|| connect.get_port());
        // One direct connection first: a pool would hide "connection refused" behind a timeout.
        let probe = tokio::time::timeout(options.acquire_timeout, PgConnection::connect_with(&connect))
            .await
            .map_err(|_| connect_err(sqlx::Error::PoolTimedOut))?
            .map_err(connect_err)?;
        probe.close().await.map_err(connect_err)?;
        // A transaction dropped on an error path only queues its ROLLBACK; sqlx pings every connection
        // it takes back into the pool, which sends it (integration test
        // `a_failed_batch_releases_its_locks_and_stores_nothing`).
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(options.acquire_timeout)
            .after_connect(move |_, _| {
                Box::pin(async move {
                    if let Some(port) = tcp_port
                        && let Err(err) = super::nodelay::set_on_sockets_to(port)
                    {
                        tracing::warn!(error = %err, "could not set TCP_NODELAY on the database connection");
                    }
                    Ok(())
                })
            })
            .connect_with(connect)
            .await
            .map_err(connect_err)?;
        Ok(Self { pool, lease: Default::default(), payloads: Default::default() })
    }

    /// Apply pending migrations (sqlx takes an advisory lock, so concurrent nodes are safe).
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await.map_err(StoreError::Migrate)
    }

    /// Close the pool.
    pub async fn close(&self) {
        self.lease.release();
        self.pool.close().await;
    }

    /// Pool figures.
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats { size: self.pool.size(), idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX) }
    }

    fn writer(&self) -> &Pool<Db> {
        &self.pool
    }

    /// The most batching writers the pool carries while leaving a connection for reads.
    pub(super) fn max_writers(&self) -> usize {
        (self.pool.options().get_max_connections() as usize).saturating_sub(1).max(1)
    }

    fn reader(&self) -> &Pool<Db> {
        &self.pool
    }

    /// A write transaction (see [`BEGIN_WRITE`]).
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
        self.pool.begin_with(BEGIN_WRITE).await
    }
}

impl Backend for PgStore {
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

/// Which of `ids` are stored in `project_id` (SDK retries), in one statement whatever their number.
///
/// Each id is its own probe of the `(project_id, event_id)` unique index: the `LIMIT` keeps the
/// lateral subquery from being flattened into a join, so the plan does not hang on statistics. An
/// `IN` list did: before `events` was first analyzed, PostgreSQL guessed that 0.5% of its rows were the
/// project's and scanned all of them through another index (7 ms for 64 ids at 12,653 events; once
/// analyzed, 0.3 ms for 32 through the unique index; `EXPLAIN ANALYZE`). A fresh database runs a minute
/// or more on such guesses.
async fn stored_event_ids(conn: &mut PgConnection, project_id: i64, ids: &[&str]) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT e.event_id FROM unnest($2::text[]) AS k (id) \
         CROSS JOIN LATERAL (SELECT event_id FROM events WHERE project_id = $1 AND event_id = k.id LIMIT 1) AS e",
    )
    .bind(project_id)
    .bind(ids)
    .fetch_all(conn)
    .await
}
ops::payload_fns!(PgStore);
ops::push_issue_filter!();
ops::workflow_fns!();
ops::alert_fns!();
