//! Connections of either backend: the one connection type, establishing them for the
//! pool, migrations, and the write transaction. `Store` (`db`) is built from these.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{StoreError, StoreResult};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Runs one expression on the concrete connection of either backend: the same generic
/// diesel expression, compiled once per backend. A macro rather than a generic function,
/// because `as_select()` fixes the backend of the expression it is part of.
///
/// **The rule.** Every query goes through `MultiConnection` unless one of three reasons holds,
/// and each use is listed here with its reason (`scripts/check-layers.sh` fails when the
/// code and this list differ):
/// - *SQL* — `MultiConnection` cannot express the query (`ON CONFLICT`, multi-row
///   inserts) or the SQL differs between the backends (`FOR UPDATE`, placeholders).
/// - *rows* — many rows inserted at once, through [`insert_rows!`]: multi-row statements
///   on PostgreSQL, one cached single-row statement per row on SQLite.
/// - *hot* — a measured hot path: `MultiConnection` renders a query's whole SQL text on
///   every execution, even for a statement it has cached (≈ 10 % of a recommendation's CPU
///   in profiles), while the concrete connection finds its cached statement by type.
///
/// | use | reason |
/// |---|---|
/// | `allocations::count_active` | hot: every placement and availability answer |
/// | `allocations::history` | hot: every eligibility, recommendation and placement |
/// | `allocations::insert_many` | rows: demo seed |
/// | `audit::append` | rows: every audited write and read batch |
/// | `customers::get` | hot: every customer read and placement |
/// | `customers::insert_many` | rows: demo seed, import |
/// | `customer_search::insert` | rows: the name index of many customers |
/// | `households::insert_many` | rows: demo seed, import |
/// | `households::members` | hot: every eligibility and placement |
/// | `instruments::ensure_builtin` | SQL: `ON CONFLICT DO NOTHING` |
/// | `offers::get` | hot: every placement |
/// | `plans::read_budget_line` | SQL: `FOR UPDATE` on PostgreSQL only |
/// | `providers::get` | hot: every placement |
/// | `runs::insert_proposals` | rows: a cohort run's proposals |
/// | `settings::get_or_insert` | SQL: `ON CONFLICT DO NOTHING` |
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::connection::DbConnection::Postgresql($c) => $body,
            $crate::connection::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// From how many rows [`insert_rows!`] sends them to PostgreSQL as one `COPY … FROM STDIN
/// (FORMAT binary)`: a cohort run's 45,000 audit entries took 0.93–1.07 s in INSERTs of
/// 500 rows (docs/benchmarks.md, "audit per person").
pub const COPY_FROM_ROWS: usize = 2_000;

/// Inserts the rows of the slice `$rows` into `$table` and answers the number inserted:
/// on PostgreSQL in multi-row statements of `$per` rows (one round trip each), or (with
/// `copy`) one COPY beyond [`COPY_FROM_ROWS`] rows; on SQLite
/// one row per execution of one cached statement. SQLite has no round trip to save, and
/// diesel builds, parses and plans a multi-row statement anew on every execution (a
/// statement with a bound list is not cached): in an import of 200,000 customers that
/// cost more than the B-tree inserts themselves (`docs/benchmarks.md`). Its uses are in
/// the list of [`on_backend!`] (reason: *rows*).
#[macro_export]
macro_rules! insert_rows {
    // `copy`: rows whose Insertable binds every column (`treat_none_as_default_value =
    // false`), which COPY needs; many of them go as one COPY (binary) on PostgreSQL
    ($conn:expr, $table:expr, $rows:expr, $per:expr, copy) => {{
        let rows = $rows;
        match $conn {
            $crate::connection::DbConnection::Postgresql(c)
                if rows.len() > $crate::connection::COPY_FROM_ROWS =>
            {
                diesel::copy_from($table).from_insertable(rows).execute(&mut *c)
            }
            conn => $crate::insert_rows!(conn, $table, rows, $per),
        }
    }};
    ($conn:expr, $table:expr, $rows:expr, $per:expr) => {{
        use diesel::RunQueryDsl as _;
        let rows = $rows;
        match $conn {
            $crate::connection::DbConnection::Postgresql(c) => {
                rows.chunks($per).try_fold(0usize, |n, chunk| {
                    diesel::insert_into($table)
                        .values(chunk)
                        .execute(&mut *c)
                        .map(|k| n + k)
                })
            }
            $crate::connection::DbConnection::Sqlite(c) => rows.iter().try_fold(0usize, |n, row| {
                diesel::insert_into($table)
                    .values(row)
                    .execute(&mut *c)
                    .map(|k| n + k)
            }),
        }
    }};
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
    pub(crate) backend: Backend,
    pub(crate) target: String,
    pub(crate) busy_timeout_ms: u32,
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

    /// The file (SQLite) or URL (PostgreSQL) connected to.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    pub fn establish(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.target).map(DbConnection::Postgresql),
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(&self.target)?;
                // WAL lets readers run beside the one writer; foreign keys are off by
                // default in SQLite. FULL syncs the WAL at every commit, so what the API
                // answered as done survives a power cut (NORMAL may lose the last
                // commits). Audited reads share one commit per batch (`audit_group`);
                // each change waits for its own sync, measured in `docs/benchmarks.md`
                // ("durable commits").
                // Checkpoints run on a thread of their own (`crate::sqlite`), not inside
                // the commit that crosses the WAL's threshold: that commit would copy
                // ≈ 1,000 pages while every request of its audit batch waits, and that wait
                // sets the p99 of recommendations at any load.
                c.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
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
