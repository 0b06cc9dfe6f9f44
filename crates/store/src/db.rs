//! The store: the pool of connections, the audit group commit and, on SQLite, the
//! writer queue and the checkpoint thread (`sqlite`).

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2;

use crate::connection::{
    run_migrations, write_tx, Backend, Conn, DbConnection, Manager, Pool, SQLITE_BUSY_TIMEOUT_MS,
};
use crate::error::{StoreError, StoreResult};

/// The database: a pool of connections to one SQLite file or one PostgreSQL database.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    backend: Backend,
    reads: std::sync::Arc<crate::audit_group::AuditGroup>,
    /// This instance's SQLite writers, one after the other ([`crate::sqlite`]); unused on
    /// PostgreSQL, whose row locks let writers of different offers proceed together.
    writers: crate::sqlite::WriterQueue,
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
    /// Idle connections the pool keeps ready, opening them in the background: 1 for a
    /// server; 0 for a command that exits when done, so no connection is being opened
    /// by the pool's thread while the process exits (libpq's TLS set-up on that thread
    /// then meets OpenSSL's clean-up at exit and crashes the process).
    pub min_idle: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            pool_size: 16,
            connect_timeout: Duration::from_secs(5),
            sqlite_busy_timeout_ms: SQLITE_BUSY_TIMEOUT_MS,
            min_idle: 1,
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
        let writers = crate::sqlite::WriterQueue::default();
        if backend == Backend::Sqlite {
            crate::sqlite::start_checkpoints(manager.clone(), std::sync::Arc::downgrade(&reads), &writers)
                .map_err(|e| StoreError::Unavailable(format!("no SQLite checkpoint thread: {e}")))?;
        }
        let pool = r2d2::Pool::builder()
            .max_size(options.pool_size)
            .min_idle(Some(options.min_idle.min(options.pool_size)))
            .connection_timeout(options.connect_timeout)
            .test_on_check_out(false)
            .build(manager)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Store {
            pool,
            backend,
            reads,
            writers,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A pooled connection, for the store's own steps only: everyone else goes through
    /// [`Store::read`] or [`Store::write`], so no write can bypass the transaction and the
    /// SQLite writer queue.
    fn conn(&self) -> StoreResult<Conn> {
        Ok(self.pool.get()?)
    }

    /// Runs pending migrations. On PostgreSQL an advisory lock keeps two instances that
    /// start together from migrating at the same time.
    pub fn migrate(&self) -> StoreResult<usize> {
        let mut conn = self.conn()?;
        run_migrations(&mut conn)
    }

    /// Reads without an explicit transaction (each statement sees committed data).
    pub fn read<T, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.conn().map_err(E::from)?;
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

    /// On SQLite: waits for this instance's other writers; on PostgreSQL: nothing. Never
    /// call [`Store::write`] while holding it.
    fn writer_turn(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        (self.backend == Backend::Sqlite).then(|| self.writers.turn())
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
    /// customer is then planned as a hash join over every offer (0.9 ms instead of
    /// 0.1 ms per recommendation). SQLite: nothing; its planner keeps no statistics unless
    /// asked, and its default estimates already use the indexes for these lookups.
    pub fn analyze(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        if let DbConnection::Postgresql(c) = &mut *conn {
            c.batch_execute("ANALYZE")?;
        }
        Ok(())
    }

    /// Writes a consistent copy of a live SQLite database to the new file `to`
    /// (`VACUUM INTO`: one read transaction, so the copy holds every commit before it
    /// began and none after, while writers go on; the copy is compacted and has no WAL).
    /// `Ok(false)` on PostgreSQL, whose standard tools do this (`pg_dump`,
    /// `pg_basebackup`: README). An existing file is never overwritten.
    pub fn backup_to(&self, to: &std::path::Path) -> StoreResult<bool> {
        if self.backend() == Backend::Postgres {
            return Ok(false);
        }
        if to.exists() {
            return Err(StoreError::Conflict {
                code: "backup_exists",
                message: format!("{} exists; a backup never overwrites a file", to.display()),
            });
        }
        let target = to
            .to_str()
            .ok_or_else(|| StoreError::Database("the backup's path is not UTF-8".into()))?;
        // a string literal: VACUUM INTO takes no bound parameter through diesel's batch API
        self.conn()?
            .batch_execute(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))?;
        Ok(true)
    }

    /// Whether the database answers (for `/readyz`).
    pub fn ping(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        conn.batch_execute("SELECT 1")?;
        Ok(())
    }
}
