//! Group commit of the audit entries of read requests.
//!
//! Every read of social data is audited before its answer leaves the server (§ 35 SGB I,
//! § 67b SGB X). Writing each entry in its own transaction makes concurrent readers queue
//! for the database's write lock (on SQLite: one writer at a time; on PostgreSQL: one WAL
//! flush per entry), and every SQLite commit also empties the page cache of every other
//! connection. Here requests hand their entries to one writer thread of the store, which
//! writes everything pending in one statement (one transaction), then the next batch,
//! which has gathered meanwhile: the busier the server, the larger the batches and the
//! fewer the commits. A request receives a [`Ticket`] and does its other work while the
//! batch is written; it answers only once the ticket says its entries are committed.
//! When a batch fails, every request in it fails (503) and none of its entries is written.
//! Writes that change records keep their audit entry inside their own transaction and do
//! not come here.
//!
//! The writer is a thread of its own, not the first request to find no batch being
//! written: that request would write the batch on its own pooled connection while the
//! others block their database threads, so a batch could hold only as many entries as
//! there are such threads, and they would sit idle meanwhile.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::audit::{self, AuditEntry};
use crate::connection::{write_tx, DbConnection, Manager};
use crate::error::{StoreError, StoreResult};

type Outcome = Result<(), String>;

#[derive(Default)]
struct Pending {
    entries: Vec<AuditEntry>,
    /// One per request whose entries are in `entries`.
    waiting: Vec<oneshot::Sender<Outcome>>,
    /// Whether the writer (writing a batch) or an exclusive step holds the group now.
    writing: bool,
}

#[derive(Default)]
pub struct AuditGroup {
    pending: Mutex<Pending>,
    /// Signalled when entries arrive and when a hold on the group ends.
    changed: Condvar,
}

/// The promise that a request's audit entries will be committed, or its batch failed.
#[must_use = "an answer may leave only once its audit entries are committed"]
pub struct Ticket(Option<oneshot::Receiver<Outcome>>);

fn outcome(r: Result<Outcome, oneshot::error::RecvError>) -> StoreResult<()> {
    match r {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(StoreError::Unavailable(e)),
        Err(_) => Err(StoreError::Unavailable("the audit writer stopped".into())),
    }
}

impl Ticket {
    /// Waits for the commit on this thread (not on an async runtime's worker).
    pub fn wait(self) -> StoreResult<()> {
        match self.0 {
            None => Ok(()),
            Some(rx) => outcome(rx.blocking_recv()),
        }
    }

    /// Waits for the commit without holding a thread.
    pub async fn committed(self) -> StoreResult<()> {
        match self.0 {
            None => Ok(()),
            Some(rx) => outcome(rx.await),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep going.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Ends a batch's (or an exclusive step's) hold on the group when dropped.
struct Release<'a>(&'a AuditGroup);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        lock(&self.0.pending).writing = false;
        self.0.changed.notify_all();
    }
}

/// How long the writer sleeps between looks at whether its store still exists.
const IDLE_CHECK: Duration = Duration::from_millis(50);

impl AuditGroup {
    /// Runs `f` while no batch is written; batches that arrive meanwhile wait and are
    /// written after it (the SQLite checkpoint thread's short exclusive step).
    pub(crate) fn exclusive<T>(&self, f: impl FnOnce() -> T) -> T {
        let mut st = lock(&self.pending);
        while st.writing {
            st = self.changed.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
        st.writing = true;
        drop(st);
        let _release = Release(self);
        f()
    }

    /// Hands `entries` to the writer; the ticket tells when they are committed.
    pub fn submit(&self, entries: Vec<AuditEntry>) -> Ticket {
        if entries.is_empty() {
            return Ticket(None);
        }
        let (tx, rx) = oneshot::channel();
        let mut st = lock(&self.pending);
        st.entries.extend(entries);
        st.waiting.push(tx);
        drop(st);
        self.changed.notify_all();
        Ticket(Some(rx))
    }

    /// Waits up to [`IDLE_CHECK`] for a batch and takes it (holding the group), or None.
    fn take(&self) -> Option<(Vec<AuditEntry>, Vec<oneshot::Sender<Outcome>>)> {
        let mut st = lock(&self.pending);
        if st.entries.is_empty() || st.writing {
            st = self
                .changed
                .wait_timeout_while(st, IDLE_CHECK, |st| st.entries.is_empty() || st.writing)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        if st.entries.is_empty() || st.writing {
            return None;
        }
        st.writing = true;
        Some((std::mem::take(&mut st.entries), std::mem::take(&mut st.waiting)))
    }
}

/// Writes one batch on `conn`: atomic, one statement up to [`audit::ROWS_PER_INSERT`] rows
/// (one INSERT on PostgreSQL without BEGIN/COMMIT round trips; diesel's own transaction of
/// row inserts on SQLite), larger batches in a transaction of ours.
fn write_batch(conn: &mut DbConnection, batch: &[AuditEntry]) -> Outcome {
    if batch.len() <= audit::ROWS_PER_INSERT {
        audit::append(conn, batch)
    } else {
        write_tx(conn, |c| audit::append(c, batch))
    }
    .map_err(|e| e.to_string())
}

/// Starts the writer thread of `group`, with a connection of its own (made again after an
/// error, so a restarted PostgreSQL is used again); it ends once the store is gone.
fn start_writer(manager: Manager, group: Weak<AuditGroup>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("audit-writer".into())
        .spawn(move || {
            let mut conn: Option<DbConnection> = None;
            loop {
                let Some(group) = group.upgrade() else { return };
                let Some((batch, waiting)) = group.take() else { continue };
                let result = {
                    // however the write ends (even by a panic), the next batch may follow
                    let _release = Release(&group);
                    let t0 = std::time::Instant::now();
                    // the connection is kept only while batches succeed
                    let result = match conn.take().map_or_else(|| manager.establish(), Ok) {
                        Ok(mut c) => {
                            let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                write_batch(&mut c, &batch)
                            }))
                            .unwrap_or_else(|_| Err("the audit batch could not be written".into()));
                            conn = written.is_ok().then_some(c);
                            written
                        }
                        Err(e) => Err(format!("no database connection for the audit log: {e}")),
                    };
                    tracing::debug!(entries = batch.len(), us = t0.elapsed().as_micros() as u64, "audit batch");
                    if let Err(e) = &result {
                        tracing::warn!(error = %e, entries = batch.len(), "audit batch failed; its requests fail");
                    }
                    result
                };
                for tx in waiting {
                    // a request that gave up waiting has dropped its receiver: nothing to tell
                    let _ = tx.send(result.clone());
                }
            }
        })
        .map(drop)
}

/// The group and its writer for a store. One writer: SQLite admits one at a time, and on
/// PostgreSQL a second one halves the batches and doubles the commits: fewer answers per
/// second at 64 clients and a higher p99.
pub(crate) fn start(manager: Manager) -> std::io::Result<Arc<AuditGroup>> {
    let group: Arc<AuditGroup> = Default::default();
    start_writer(manager, Arc::downgrade(&group))?;
    Ok(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic inside a hold on the group (a batch's write or an exclusive step) must not
    /// leave it held: every later read would wait for ever.
    #[test]
    fn a_panic_releases_the_group() {
        let group = AuditGroup::default();
        let hit = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            group.exclusive(|| panic!("in the exclusive step"))
        }));
        assert!(hit.is_err());
        assert!(!lock(&group.pending).writing);
        assert_eq!(group.exclusive(|| 7), 7);
    }

    /// Entries submitted during an exclusive step wait for it, then are taken together.
    #[test]
    fn batches_wait_for_an_exclusive_step_and_gather() {
        let group = AuditGroup::default();
        let entry = || AuditEntry {
            id: uuid::Uuid::nil(),
            at: chrono::Utc::now(),
            actor: "a".into(),
            role: "admin".into(),
            action: audit::Action::Read,
            route: "GET /x".into(),
            customer_id: None,
            household_id: None,
            fields: None,
            account_id: None,
        };
        let tickets = group.exclusive(|| {
            let t = vec![group.submit(vec![entry()]), group.submit(vec![entry(), entry()])];
            assert!(group.take().is_none(), "taken during the exclusive step");
            t
        });
        let (batch, waiting) = group.take().expect("a batch");
        assert_eq!((batch.len(), waiting.len()), (3, 2));
        assert!(group.submit(Vec::new()).wait().is_ok());
        for tx in waiting {
            tx.send(Err("down".into())).unwrap();
        }
        for t in tickets {
            assert!(matches!(t.wait(), Err(StoreError::Unavailable(e)) if e == "down"));
        }
    }
}
