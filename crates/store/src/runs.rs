//! Cohort runs and their proposals.

use diesel::prelude::*;
use passgenau_domain::ids::{CustomerId, HouseholdId, OfferId, PlacementId, ProposalId, RunId};
use uuid::Uuid;

use passgenau_domain::status::{ProposalDecision, RunStatus};

use crate::codec::{enum_from_str, id_from_str, opt_id};
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::personal::{Personal, Subjects};
use crate::records::{from_db_time, now, to_db_time, Page, PageOf};
use crate::schema::{allocation_runs, run_proposals};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = allocation_runs)]
pub struct RunRow {
    pub id: String,
    pub status: String,
    pub request: String,
    pub created_by: String,
    pub created_at: chrono::NaiveDateTime,
    pub started_at: Option<chrono::NaiveDateTime>,
    pub finished_at: Option<chrono::NaiveDateTime>,
    pub heartbeat_at: Option<chrono::NaiveDateTime>,
    pub progress_done: i64,
    pub progress_total: i64,
    pub customers: Option<i64>,
    pub offers: Option<i64>,
    pub arcs: Option<i64>,
    pub objective: Option<i64>,
    pub assigned: Option<i64>,
    pub optimal: Option<bool>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    /// The claim of the worker running it (see [`claim`]); none while queued.
    pub claim: Option<String>,
    /// JSON: how many customers got no proposal, and why.
    pub left_out: Option<String>,
}

impl RunRow {
    /// The run's status (stored as its text).
    pub fn status(&self) -> StoreResult<RunStatus> {
        enum_from_str(&self.status)
    }
}

pub fn create(conn: &mut DbConnection, id: RunId, request: &str, created_by: &str) -> StoreResult<()> {
    diesel::insert_into(allocation_runs::table)
        .values((
            allocation_runs::id.eq(id.to_string()),
            allocation_runs::status.eq(RunStatus::Queued.as_str()),
            allocation_runs::request.eq(request),
            allocation_runs::created_by.eq(created_by),
            allocation_runs::created_at.eq(to_db_time(now())),
            allocation_runs::progress_done.eq(0i64),
            allocation_runs::progress_total.eq(0i64),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: RunId) -> StoreResult<RunRow> {
    Ok(allocation_runs::table
        .find(id.to_string())
        .select(RunRow::as_select())
        .get_result(conn)?)
}

/// Claims the oldest queued run for this worker: a conditional update, so of several
/// instances exactly one wins. Also takes back runs whose worker stopped sending
/// heartbeats (`stale_before`), so a crashed instance's run resumes elsewhere. The row
/// returned carries a fresh `claim`: [`progress`], [`finish`], [`fail`] and [`release`]
/// act only while it is still the run's claim.
pub fn claim(
    conn: &mut DbConnection,
    stale_before: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Option<RunRow>> {
    diesel::update(
        allocation_runs::table
            .filter(allocation_runs::status.eq(RunStatus::Running.as_str()))
            .filter(allocation_runs::heartbeat_at.lt(to_db_time(stale_before))),
    )
    .set((
        allocation_runs::status.eq(RunStatus::Queued.as_str()),
        allocation_runs::claim.eq(None::<String>),
    ))
    .execute(conn)?;
    let candidates: Vec<String> = allocation_runs::table
        .filter(allocation_runs::status.eq(RunStatus::Queued.as_str()))
        .order(allocation_runs::id.asc())
        .select(allocation_runs::id)
        .limit(5)
        .load(conn)?;
    for id in candidates {
        if let Some(run) = take(conn, &id)? {
            return Ok(Some(run));
        }
    }
    Ok(None)
}

/// Marks a run as running in this process (the CLI plans its own run directly) and
/// returns its claim. The run was queued a moment before: should a server's worker have
/// claimed it meanwhile, that worker runs it and this fails with `run_claimed`.
pub fn mark_running(conn: &mut DbConnection, id: RunId) -> StoreResult<String> {
    take(conn, &id.to_string())?
        .and_then(|run| run.claim)
        .ok_or_else(|| StoreError::Conflict {
            code: "run_claimed",
            message: format!(
                "a server's worker has taken run {id}: follow it with GET /api/v1/allocation-runs/{id}"
            ),
        })
}

/// Sets a queued run running under a new claim; `None` if it is not queued (any more).
fn take(conn: &mut DbConnection, id: &str) -> StoreResult<Option<RunRow>> {
    let t = to_db_time(now());
    let claim = Uuid::now_v7().to_string();
    let n = diesel::update(
        allocation_runs::table
            .filter(allocation_runs::id.eq(id))
            .filter(allocation_runs::status.eq(RunStatus::Queued.as_str())),
    )
    .set((
        allocation_runs::status.eq(RunStatus::Running.as_str()),
        allocation_runs::started_at.eq(t),
        allocation_runs::heartbeat_at.eq(t),
        allocation_runs::progress_done.eq(0i64),
        allocation_runs::claim.eq(&claim),
    ))
    .execute(conn)?;
    if n == 1 {
        get(conn, id_from_str(id)?).map(Some)
    } else {
        Ok(None)
    }
}

/// The run `id` while it is running under `claim`.
fn claimed(id: String, claim: &str) -> claimed_by<'_> {
    claimed_by(id, claim, RunStatus::Running.as_str())
}

/// `running`: the text of [`RunStatus::Running`] (the query type needs it as an argument).
#[diesel::dsl::auto_type]
fn claimed_by<'a>(id: String, claim: &'a str, running: &'static str) -> _ {
    allocation_runs::table
        .filter(allocation_runs::id.eq(id))
        .filter(allocation_runs::claim.eq(claim))
        .filter(allocation_runs::status.eq(running))
}

fn lost_claim() -> StoreError {
    StoreError::Conflict {
        code: "run_claim_lost",
        message: "the run was handed to another worker".into(),
    }
}

/// Records progress and the heartbeat. `Ok(false)`: the claim is no longer this
/// worker's (the run was taken over or handed back), so it should stop.
pub fn progress(conn: &mut DbConnection, id: RunId, claim: &str, done: i64, total: i64) -> StoreResult<bool> {
    let n = diesel::update(claimed(id.to_string(), claim))
        .set((
            allocation_runs::progress_done.eq(done),
            allocation_runs::progress_total.eq(total),
            allocation_runs::heartbeat_at.eq(to_db_time(now())),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Hands a run back to the queue (its worker is stopping): the next worker that looks,
/// in this instance after a restart or in another, starts it again at once. `Ok(false)`:
/// it was no longer this worker's.
pub fn release(conn: &mut DbConnection, id: RunId, claim: &str) -> StoreResult<bool> {
    let n = diesel::update(claimed(id.to_string(), claim))
        .set((
            allocation_runs::status.eq(RunStatus::Queued.as_str()),
            allocation_runs::claim.eq(None::<String>),
            allocation_runs::started_at.eq(None::<chrono::NaiveDateTime>),
            allocation_runs::heartbeat_at.eq(None::<chrono::NaiveDateTime>),
            allocation_runs::progress_done.eq(0i64),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// The figures of a finished run.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub customers: i64,
    pub offers: i64,
    pub arcs: i64,
    pub objective: i64,
    pub assigned: i64,
    pub optimal: bool,
    pub duration_ms: i64,
    /// JSON: how many customers got no proposal, and why.
    pub left_out: Option<String>,
}

/// Marks the run done. Fails with `run_claim_lost` (and, inside the transaction that
/// stores the proposals, undoes them) when the claim is no longer this worker's.
pub fn finish(conn: &mut DbConnection, id: RunId, claim: &str, o: &Outcome) -> StoreResult<()> {
    let n = diesel::update(claimed(id.to_string(), claim))
        .set((
            allocation_runs::status.eq(RunStatus::Done.as_str()),
            allocation_runs::finished_at.eq(to_db_time(now())),
            allocation_runs::customers.eq(o.customers),
            allocation_runs::offers.eq(o.offers),
            allocation_runs::arcs.eq(o.arcs),
            allocation_runs::objective.eq(o.objective),
            allocation_runs::assigned.eq(o.assigned),
            allocation_runs::optimal.eq(o.optimal),
            allocation_runs::duration_ms.eq(o.duration_ms),
            allocation_runs::left_out.eq(o.left_out.as_deref()),
        ))
        .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(lost_claim())
    }
}

/// Marks the run failed, if the claim is still this worker's.
pub fn fail(conn: &mut DbConnection, id: RunId, claim: &str, error: &str) -> StoreResult<bool> {
    let n = diesel::update(claimed(id.to_string(), claim))
        .set((
            allocation_runs::status.eq(RunStatus::Failed.as_str()),
            allocation_runs::finished_at.eq(to_db_time(now())),
            allocation_runs::error.eq(error),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProposalRecord {
    pub id: ProposalId,
    pub run_id: RunId,
    pub customer_id: CustomerId,
    pub offer_id: OfferId,
    pub score: i64,
    /// JSON of the explanation (score items and the next best offer).
    pub explanation: String,
    pub decision: ProposalDecision,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    pub allocation_id: Option<PlacementId>,
}

impl Subjects for ProposalRecord {
    fn subjects(&self) -> Vec<(Option<CustomerId>, Option<HouseholdId>)> {
        vec![(Some(self.customer_id), None)]
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = run_proposals)]
struct ProposalRow {
    id: String,
    run_id: String,
    customer_id: String,
    offer_id: String,
    score: i64,
    explanation: String,
    decision: String,
    reason: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<chrono::NaiveDateTime>,
    allocation_id: Option<String>,
}

fn record(r: ProposalRow) -> StoreResult<ProposalRecord> {
    Ok(ProposalRecord {
        id: id_from_str(&r.id)?,
        run_id: id_from_str(&r.run_id)?,
        customer_id: id_from_str(&r.customer_id)?,
        offer_id: id_from_str(&r.offer_id)?,
        score: r.score,
        explanation: r.explanation,
        decision: enum_from_str(&r.decision)?,
        reason: r.reason,
        decided_by: r.decided_by,
        decided_at: r.decided_at.map(from_db_time),
        allocation_id: opt_id(r.allocation_id.as_deref())?,
    })
}

pub fn insert_proposals(conn: &mut DbConnection, proposals: &[ProposalRecord]) -> StoreResult<()> {
    let rows: Vec<ProposalRow> = proposals
        .iter()
        .map(|p| ProposalRow {
            id: p.id.to_string(),
            run_id: p.run_id.to_string(),
            customer_id: p.customer_id.to_string(),
            offer_id: p.offer_id.to_string(),
            score: p.score,
            explanation: p.explanation.clone(),
            decision: p.decision.as_str().to_string(),
            reason: None,
            decided_by: None,
            decided_at: None,
            allocation_id: None,
        })
        .collect();
    crate::insert_rows!(&mut *conn, run_proposals::table, &rows, 2_000)?;
    Ok(())
}

/// A page of a run's proposals; sealed: they name their customers.
pub fn proposals(
    conn: &mut DbConnection,
    run_id: RunId,
    page: &Page,
) -> StoreResult<Personal<PageOf<ProposalRecord>>> {
    let mut q = run_proposals::table
        .filter(run_proposals::run_id.eq(run_id.to_string()))
        .select(ProposalRow::as_select())
        .into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(run_proposals::id.gt(after.clone()));
    }
    let rows = q
        .order(run_proposals::id.asc())
        .limit(page.limit + 1)
        .load(conn)?;
    let recs = rows.into_iter().map(record).collect::<StoreResult<Vec<_>>>()?;
    Ok(Personal::seal(PageOf::from_rows(recs, page.limit, |r| {
        r.id.to_string()
    })))
}

/// One proposal of a run; sealed: it names its customer.
pub fn proposal(
    conn: &mut DbConnection,
    run_id: RunId,
    id: ProposalId,
) -> StoreResult<Personal<ProposalRecord>> {
    let row = run_proposals::table
        .filter(run_proposals::id.eq(id.to_string()))
        .filter(run_proposals::run_id.eq(run_id.to_string()))
        .select(ProposalRow::as_select())
        .get_result(conn)?;
    Ok(Personal::seal(record(row)?))
}

/// Records a decision on `p` if it is still pending (else `Conflict`); the decided
/// proposal as stored.
pub fn decide(
    conn: &mut DbConnection,
    p: &ProposalRecord,
    decision: ProposalDecision,
    reason: Option<&str>,
    by: &str,
    allocation_id: Option<PlacementId>,
) -> StoreResult<ProposalRecord> {
    let at = now();
    let n = diesel::update(
        run_proposals::table
            .filter(run_proposals::id.eq(p.id.to_string()))
            .filter(run_proposals::decision.eq(ProposalDecision::Pending.as_str())),
    )
    .set((
        run_proposals::decision.eq(decision.as_str()),
        run_proposals::reason.eq(reason),
        run_proposals::decided_by.eq(by),
        run_proposals::decided_at.eq(to_db_time(at)),
        run_proposals::allocation_id.eq(allocation_id.map(|a| a.to_string())),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::Conflict {
            code: "already_decided",
            message: "this proposal was decided already".into(),
        });
    }
    Ok(ProposalRecord {
        decision,
        reason: reason.map(str::to_string),
        decided_by: Some(by.to_string()),
        decided_at: Some(at),
        allocation_id,
        ..p.clone()
    })
}

/// Every cohort proposal for a customer, in every run (the access export).
pub fn proposals_of(
    conn: &mut DbConnection,
    customer: CustomerId,
) -> StoreResult<Personal<Vec<ProposalRecord>>> {
    run_proposals::table
        .filter(run_proposals::customer_id.eq(customer.to_string()))
        .order(run_proposals::id.asc())
        .select(ProposalRow::as_select())
        .load(conn)?
        .into_iter()
        .map(record)
        .collect::<StoreResult<Vec<_>>>()
        .map(Personal::seal)
}

/// Filters of the list of runs.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub status: Option<RunStatus>,
    pub created_by: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

/// Runs, newest first; `page.after` continues after (older than) that run.
pub fn list(conn: &mut DbConnection, f: &RunFilter, page: &Page) -> StoreResult<PageOf<RunRow>> {
    let mut q = allocation_runs::table.select(RunRow::as_select()).into_boxed();
    if let Some(s) = f.status {
        q = q.filter(allocation_runs::status.eq(s.as_str()));
    }
    if let Some(c) = &f.created_by {
        q = q.filter(allocation_runs::created_by.eq(c.clone()));
    }
    if let Some(since) = f.since {
        q = q.filter(allocation_runs::created_at.ge(to_db_time(since)));
    }
    if let Some(after) = &page.after {
        q = q.filter(allocation_runs::id.lt(after.clone()));
    }
    let rows = q
        .order(allocation_runs::id.desc())
        .limit(page.limit + 1)
        .load(conn)?;
    Ok(PageOf::from_rows(rows, page.limit, |r| r.id.clone()))
}
