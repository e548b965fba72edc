//! PostgreSQL: the production store and the path to scale (several stateless Faultline nodes on one
//! database). One pool serves reads and writes; the shared operation bodies in `ops/` are the same SQL
//! that SQLite runs.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, Pool, Postgres};

use super::{Backend, ConnectOptions, PoolStats, StoreError, StoreResult, ops};
use crate::secrets::DatabaseUrl;

mod batch;

/// The PostgreSQL migrations, embedded at compile time.
pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The row-locking suffix of a claiming subquery. Concurrent claimers (several Faultline processes) take disjoint rows.
const FOR_UPDATE_SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

/// The database type the shared operation bodies are compiled against.
type Db = Postgres;

/// How a write transaction starts (READ COMMITTED; conflicts are settled by unique keys and row locks).
const BEGIN_WRITE: &str = "BEGIN";

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

ops::payload_fns!(PgStore);
ops::push_issue_filter!();
ops::workflow_fns!();
ops::alert_fns!();
