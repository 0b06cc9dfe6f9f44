//! What SQLite needs beyond the common code path: the writer queue of one instance and
//! the thread that checkpoints the write-ahead log. PostgreSQL needs neither.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;

use crate::audit_group::AuditGroup;
use crate::connection::{DbConnection, Manager};

/// SQLite admits one writer at a time; its busy handler makes the others sleep and
/// retry (1, 2, 5, … 100 ms), so a writer may sleep on well after the lock is free.
/// Writers of this instance queue here instead and enter SQLite one after the other
/// (a lower p99 than retrying, same throughput); the busy handler remains for writers
/// of other processes and for the audit group's batches. A writer takes its turn before
/// it takes a pooled connection, so no connection is held while waiting and the holder
/// of the turn always finds one once readers finish.
#[derive(Clone, Default)]
pub(crate) struct WriterQueue(Arc<Mutex<()>>);

impl WriterQueue {
    /// Waits for this instance's other writers. Never take a second turn while holding one.
    pub(crate) fn turn(&self) -> MutexGuard<'_, ()> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn downgrade(&self) -> Weak<Mutex<()>> {
        Arc::downgrade(&self.0)
    }
}

/// How often the checkpoint thread looks at the WAL.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);
/// WAL pages from which the checkpoint thread makes writers start the WAL afresh.
pub const WAL_RESTART_PAGES: i64 = 2_000;
/// Copy passes run beside the writers until at most this many pages are left for the
/// short exclusive step.
const TAIL_PAGES: i64 = 64;
/// Copy passes of one round at most.
const PASSES: usize = 8;
/// Attempts at the exclusive RESTART step before the round gives up (100 µs apart).
const RESTART_TRIES: usize = 20;

#[derive(diesel::QueryableByName)]
struct Checkpoint {
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

type Step<T> = Result<T, diesel::result::Error>;

fn checkpoint(c: &mut DbConnection, mode: &str) -> Step<Checkpoint> {
    diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})")).get_result(c)
}

/// Starts the thread that checkpoints the database while the store lives (it stops when
/// the audit group or the writer queue is gone). Each round copies the WAL into the
/// database beside readers and writers ([`copy_beside_writers`]); once the WAL is long,
/// it restarts it in a short exclusive step ([`restart_wal`]). Passive checkpoints alone
/// never find every page copied under steady writes, so the file would grow without bound.
/// SQLite's own checkpoints are off (`wal_autocheckpoint = 0`, [`Manager`]): they run
/// inside the commit that crosses the threshold, while its whole audit batch waits.
pub(crate) fn start_checkpoints(
    manager: Manager,
    audit: Weak<AuditGroup>,
    writers: &WriterQueue,
) -> std::io::Result<()> {
    let writers = writers.downgrade();
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let file = std::fs::File::open(manager.target()).ok();
            let mut conn: Option<DbConnection> = None;
            loop {
                std::thread::sleep(CHECKPOINT_EVERY);
                let (Some(audit), Some(writers)) = (audit.upgrade(), writers.upgrade()) else {
                    return;
                };
                let Some(c) = connected(&manager, &mut conn) else {
                    continue;
                };
                if let Err(e) = round(c, file.as_ref(), &audit, &writers) {
                    tracing::warn!(error = %e, "SQLite checkpoint failed; retrying");
                    conn = None;
                }
            }
        })
        .map(drop)
}

/// The thread's own connection, made again after a failure. It never waits for a lock:
/// a checkpoint that finds one taken tries again next round.
fn connected<'a>(manager: &Manager, conn: &'a mut Option<DbConnection>) -> Option<&'a mut DbConnection> {
    if conn.is_none() {
        *conn = manager
            .establish()
            .ok()
            .and_then(|mut c| c.batch_execute("PRAGMA busy_timeout = 0").ok().map(|_| c));
    }
    conn.as_mut()
}

fn round(
    c: &mut DbConnection,
    file: Option<&std::fs::File>,
    audit: &AuditGroup,
    writers: &Mutex<()>,
) -> Step<()> {
    let wal = copy_beside_writers(c)?;
    if wal.log >= WAL_RESTART_PAGES {
        // The copied pages reach the disk here, beside the writers: the RESTART syncs the
        // file too, and 8 MB of dirty pages make that exclusive step take 6–7 ms instead
        // of well under one.
        if let Some(f) = file {
            let _ = f.sync_data();
        }
        restart_wal(c, audit, writers)?;
    }
    Ok(())
}

/// PASSIVE checkpoints, repeated while writers add pages, until few are left to copy.
fn copy_beside_writers(c: &mut DbConnection) -> Step<Checkpoint> {
    let mut wal = checkpoint(c, "PASSIVE")?;
    for _ in 0..PASSES {
        if wal.log - wal.checkpointed <= TAIL_PAGES {
            break;
        }
        wal = checkpoint(c, "PASSIVE")?;
    }
    Ok(wal)
}

/// Holds back this instance's writers and audit batches for one RESTART checkpoint of
/// the last pages; the next writer then starts the WAL from its beginning.
fn restart_wal(c: &mut DbConnection, audit: &AuditGroup, writers: &Mutex<()>) -> Step<()> {
    let _turn = writers.lock().unwrap_or_else(PoisonError::into_inner);
    let wal = audit.exclusive(|| {
        // readers of older pages finish within microseconds: wait for them here rather
        // than in SQLite's busy handler (≥ 1 ms sleeps)
        let mut wal = checkpoint(c, "RESTART")?;
        for _ in 0..RESTART_TRIES {
            if wal.busy == 0 {
                break;
            }
            std::thread::sleep(Duration::from_micros(100));
            wal = checkpoint(c, "RESTART")?;
        }
        Ok::<_, diesel::result::Error>(wal)
    })?;
    if wal.busy != 0 {
        tracing::debug!("SQLite WAL restart deferred: readers still busy");
    }
    Ok(())
}
