//! Connections, the pool, migrations and transactions.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{StoreError, StoreResult};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Runs one expression on the concrete connection of either backend. For the few query
/// forms `MultiConnection` cannot express (`ON CONFLICT`, multi-row inserts) the same
/// generic diesel expression is compiled once per backend. The reads on hot paths
/// (recommendations, placements) run this way too: `MultiConnection` renders a query's
/// whole SQL text on every execution, even for a statement it has cached (≈ 10 % of a
/// recommendation's CPU in profiles), while the concrete connection finds its cached
/// statement by the query's type. A macro rather than a generic function, because
/// `as_select()` fixes the backend of the expression it is part of.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgresql($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

// Point lookups use `get_result`, never `first`: `first` adds `LIMIT ?`, and SQLite reads a
// bound LIMIT while planning, so every execution re-binds it and re-prepares the whole
// statement (≈ 10 % of a read request's CPU in profiles). A key matches one row anyway.

/// One connection type over both backends: the same queries run on either.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How long SQLite waits for a competing writer before it reports busy (→ 503).
pub const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Which backend a URL names: `postgres://`/`postgresql://` select PostgreSQL; anything
/// else is an SQLite file (`sqlite://path`, `sqlite:path` or a plain path).
pub fn parse_url(url: &str) -> (Backend, String) {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        (Backend::Postgres, url.to_string())
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        (Backend::Sqlite, path.to_string())
    } else if let Some(path) = url.strip_prefix("sqlite:") {
        (Backend::Sqlite, path.to_string())
    } else {
        (Backend::Sqlite, url.to_string())
    }
}

/// Establishes connections for the pool. Unlike `MultiConnection::establish`, which tries
/// every backend and loses the real error, it picks the backend from the URL scheme.
#[derive(Debug, Clone)]
pub struct Manager {
    backend: Backend,
    target: String,
    busy_timeout_ms: u32,
}

impl Manager {
    pub fn new(url: &str) -> Self {
        let (backend, target) = parse_url(url);
        Self {
            backend,
            target,
            busy_timeout_ms: SQLITE_BUSY_TIMEOUT_MS,
        }
    }

    pub fn establish(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.target).map(DbConnection::Postgresql),
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(&self.target)?;
                // WAL lets readers run beside the one writer; foreign keys are off by
                // default in SQLite; NORMAL is durable in WAL mode except on power loss.
                // Checkpoints run on a thread of their own (`checkpoints`), not inside
                // the commit that crosses the WAL's threshold: that commit copied ≈ 1,000
                // pages while every request of its audit batch waited (p99 of
                // recommendations 8–11 ms at 500–2,500 req/s instead of 2–3 ms).
                c.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = 0;",
                    self.busy_timeout_ms
                ))
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                Ok(DbConnection::Sqlite(c))
            }
        }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.establish().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || r2d2::R2D2Connection::is_broken(conn)
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type Conn = PooledConnection<Manager>;

/// The database: a pool of connections to one SQLite file or one PostgreSQL database.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    backend: Backend,
    reads: std::sync::Arc<crate::audit_group::AuditGroup>,
    /// SQLite admits one writer at a time; its busy handler makes the others sleep and
    /// retry (1, 2, 5, … 100 ms), which gave placements a p99 of 470 ms at 64 clients.
    /// Writers of this instance queue here instead and enter SQLite one after the other
    /// (p99 150 ms, same throughput); the busy handler remains for writers of other
    /// processes and for the audit group's batches. A writer takes its turn before it
    /// takes a pooled connection, so no connection is held while waiting and the holder
    /// of the turn always finds one once readers finish. Unused on PostgreSQL, whose row
    /// locks let writers of different offers proceed together.
    writer: std::sync::Arc<std::sync::Mutex<()>>,
}

/// How often the SQLite checkpoint thread looks at the WAL.
pub const SQLITE_CHECKPOINT_EVERY: Duration = Duration::from_millis(50);
/// WAL pages from which the checkpoint thread makes writers start the WAL afresh.
pub const SQLITE_WAL_RESTART_PAGES: i64 = 2_000;
/// Copy passes run beside the writers until at most this many pages are left for the
/// short exclusive step.
const SQLITE_CHECKPOINT_TAIL_PAGES: i64 = 64;

/// Attempts at the exclusive RESTART step before the round gives up (100 µs apart).
const RESTART_TRIES: usize = 20;

#[derive(diesel::QueryableByName)]
struct CheckpointRow {
    /// 1 when the checkpoint could not finish (a reader or writer was in the way).
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    busy: i64,
    /// Pages in the WAL.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    log: i64,
    /// Pages of it already copied into the database.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    checkpointed: i64,
}

/// Starts the thread that checkpoints an SQLite database while the store lives (it stops
/// when `reads` can no longer be upgraded). Each round copies the WAL into the database
/// with PASSIVE checkpoints beside readers and writers, repeating while writers add
/// pages, until few are left; then, once the WAL is long, it holds back this instance's
/// writers and audit batches for one RESTART checkpoint of those last pages, after which
/// the next writer starts the WAL from its beginning. Passive checkpoints alone never
/// find every page copied under steady writes, and the file grew without bound.
fn checkpoints(
    manager: Manager,
    reads: std::sync::Weak<crate::audit_group::AuditGroup>,
    writer: std::sync::Weak<std::sync::Mutex<()>>,
) -> std::io::Result<()> {
    use diesel::RunQueryDsl;
    fn pass(c: &mut DbConnection, mode: &str) -> Result<CheckpointRow, diesel::result::Error> {
        diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})")).get_result(c)
    }
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut conn: Option<DbConnection> = None;
            let file = std::fs::File::open(&manager.target).ok();
            loop {
                std::thread::sleep(SQLITE_CHECKPOINT_EVERY);
                let (Some(reads), Some(writer)) = (reads.upgrade(), writer.upgrade()) else {
                    return;
                };
                if conn.is_none() {
                    conn = manager
                        .establish()
                        .ok()
                        .and_then(|mut c| c.batch_execute("PRAGMA busy_timeout = 0").ok().map(|_| c));
                }
                let Some(c) = conn.as_mut() else { continue };
                let round = (|| {
                    let mut row = pass(c, "PASSIVE")?;
                    for _ in 0..8 {
                        if row.log - row.checkpointed <= SQLITE_CHECKPOINT_TAIL_PAGES {
                            break;
                        }
                        row = pass(c, "PASSIVE")?;
                    }
                    if row.log >= SQLITE_WAL_RESTART_PAGES {
                        // The copied pages reach the disk here, beside the writers: the
                        // RESTART below syncs the file too, and 8 MB of dirty pages made
                        // that exclusive step take 6–7 ms instead of well under one.
                        if let Some(f) = &file {
                            let _ = f.sync_data();
                        }
                        let _turn = writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        let r = reads.exclusive(|| {
                            // readers of older pages finish within microseconds: wait for
                            // them here rather than in SQLite's busy handler (≥ 1 ms sleeps)
                            let mut r = pass(c, "RESTART")?;
                            for _ in 0..RESTART_TRIES {
                                if r.busy == 0 {
                                    break;
                                }
                                std::thread::sleep(Duration::from_micros(100));
                                r = pass(c, "RESTART")?;
                            }
                            Ok::<_, diesel::result::Error>(r)
                        })?;
                        if r.busy != 0 {
                            tracing::debug!("SQLite WAL restart deferred: readers still busy");
                        }
                    }
                    Ok::<_, diesel::result::Error>(())
                })();
                if let Err(e) = round {
                    tracing::warn!(error = %e, "SQLite checkpoint failed; retrying");
                    conn = None;
                }
            }
        })
        .map(drop)
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish()
    }
}

/// Options for [`Store::open`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub pool_size: u32,
    pub connect_timeout: Duration,
    /// How long an SQLite writer waits for another before the request fails with 503.
    pub sqlite_busy_timeout_ms: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            pool_size: 16,
            connect_timeout: Duration::from_secs(5),
            sqlite_busy_timeout_ms: SQLITE_BUSY_TIMEOUT_MS,
        }
    }
}

impl Store {
    /// Opens the pool. Fails when the first connection cannot be made, with the real
    /// reason (bad URL, server down, unwritable file).
    pub fn open(url: &str, options: &StoreOptions) -> StoreResult<Store> {
        let mut manager = Manager::new(url);
        manager.busy_timeout_ms = options.sqlite_busy_timeout_ms;
        let backend = manager.backend;
        if backend == Backend::Sqlite && (manager.target.is_empty() || manager.target == ":memory:") {
            return Err(StoreError::Unavailable(
                "an SQLite database needs a file path (in-memory databases are not shared between connections)"
                    .into(),
            ));
        }
        // Fail fast with the real error instead of r2d2's generic timeout.
        manager
            .establish()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let reads = crate::audit_group::start(manager.clone())
            .map_err(|e| StoreError::Unavailable(format!("no audit writer thread: {e}")))?;
        let writer: std::sync::Arc<std::sync::Mutex<()>> = Default::default();
        if backend == Backend::Sqlite {
            checkpoints(
                manager.clone(),
                std::sync::Arc::downgrade(&reads),
                std::sync::Arc::downgrade(&writer),
            )
            .map_err(|e| StoreError::Unavailable(format!("no SQLite checkpoint thread: {e}")))?;
        }
        let pool = r2d2::Pool::builder()
            .max_size(options.pool_size)
            .min_idle(Some(1))
            .connection_timeout(options.connect_timeout)
            .test_on_check_out(false)
            .build(manager)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Store {
            pool,
            backend,
            reads,
            writer,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn conn(&self) -> StoreResult<Conn> {
        Ok(self.pool.get()?)
    }

    /// Runs pending migrations. On PostgreSQL an advisory lock keeps two instances that
    /// start together from migrating at the same time.
    pub fn migrate(&self) -> StoreResult<usize> {
        let mut conn = self.conn()?;
        run_migrations(&mut conn)
    }

    /// Reads without an explicit transaction (each statement sees committed data).
    pub fn read<T>(&self, f: impl FnOnce(&mut DbConnection) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.conn()?;
        f(&mut conn)
    }

    /// Runs `f` in one write transaction: all of it or nothing.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        // the turn first: a writer waiting for it holds no pooled connection
        let _turn = self.writer_turn();
        let mut conn = self.conn().map_err(E::from)?;
        write_tx(&mut conn, f)
    }

    /// On SQLite: waits for this instance's other writers (see [`Store`]); on PostgreSQL:
    /// nothing. Never call [`Store::write`] while holding it.
    fn writer_turn(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        (self.backend == Backend::Sqlite).then(|| {
            self.writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
    }

    /// Hands the audit entries of a read to the group commit (see
    /// [`crate::audit_group`]) and returns at once: the caller does its other work while
    /// the batch is written, and answers only once the ticket says it is committed.
    /// Writes keep their entries in their own transaction ([`crate::audit::append`]).
    pub fn audit_reads(&self, entries: Vec<crate::audit::AuditEntry>) -> crate::audit_group::Ticket {
        self.reads.submit(entries)
    }

    /// Refreshes the planner's statistics after a bulk load. PostgreSQL: `ANALYZE`.
    /// Without it, a freshly seeded database keeps the statistics of its empty tables
    /// until autovacuum analyses them (never, where autovacuum is off): the history of one
    /// customer was then planned as a hash join over every offer (0.9 ms instead of
    /// 0.1 ms per recommendation). SQLite: nothing; its planner keeps no statistics unless
    /// asked, and its default estimates already use the indexes for these lookups.
    pub fn analyze(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        if let DbConnection::Postgresql(c) = &mut *conn {
            c.batch_execute("ANALYZE")?;
        }
        Ok(())
    }

    /// Whether the database answers (for `/readyz`).
    pub fn ping(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        conn.batch_execute("SELECT 1")?;
        Ok(())
    }
}

const MIGRATION_LOCK_KEY: i64 = 0x7061_7373_6765_6e61; // "passgena"

pub fn run_migrations(conn: &mut DbConnection) -> StoreResult<usize> {
    let result = match conn {
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len())
            .map_err(|e| StoreError::Database(e.to_string())),
        DbConnection::Postgresql(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let r = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len())
                .map_err(|e| StoreError::Database(e.to_string()));
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            r
        }
    };
    result
}

/// Reverts every migration (used by the tests that prove each `down.sql` works).
pub fn revert_all_migrations(conn: &mut DbConnection) -> StoreResult<()> {
    match conn {
        DbConnection::Sqlite(c) => c
            .revert_all_migrations(SQLITE_MIGRATIONS)
            .map(|_| ())
            .map_err(|e| StoreError::Database(e.to_string())),
        DbConnection::Postgresql(c) => c
            .revert_all_migrations(POSTGRES_MIGRATIONS)
            .map(|_| ())
            .map_err(|e| StoreError::Database(e.to_string())),
    }
}

/// One write transaction on a connection; see the crate docs for why SQLite begins
/// IMMEDIATE. Nested `conn.transaction(…)` calls inside `f` become savepoints.
pub fn write_tx<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
        }
        DbConnection::Postgresql(c) => {
            AnsiTransactionManager::begin_transaction(c)?;
        }
    }
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // A failed rollback leaves the connection broken; the pool then discards it.
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}
