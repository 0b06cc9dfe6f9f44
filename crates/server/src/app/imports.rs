//! Bringing in people from another system (`docs/import.md`): households and customers
//! with their spells, prior participations and contact data, read line by line.
//!
//! Each line is one record and is written whole or not at all. The records are found by
//! the source's numbers (`customer_number`, `household_number`): a line for a record not
//! yet here creates it; for one that is, it is a merge patch (the fields it gives replace
//! the recorded ones, what it leaves out stays), so a second run of the same file
//! changes nothing and says so (`unchanged`). A line that probably duplicates a recorded
//! person who has another number is rejected like a create (`possible_duplicate`) unless
//! it says `confirm_distinct_person`. An import adds household memberships; it never
//! changes or removes one (that stays a specialist's decision in the application).
//!
//! Lines are taken in chunks: the chunk's records are looked up in a few queries, each
//! line is decided in memory, and the chunk's writes go in one transaction. If that
//! transaction fails (another instance recorded one of the numbers meanwhile), the chunk
//! is written again line by line, each in its own transaction, so only the line at fault
//! is rejected. Memory stays that of one chunk, whatever the file's size.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;

use chrono::NaiveDate;
use passgenau_domain::household::{HouseholdMember, MAX_MEMBERS};
use passgenau_domain::ids::{CustomerId, HouseholdId, ImportId};
use passgenau_domain::import::{Counts, ImportFormat, ImportStatus, Rejection, MAX_LISTED_REJECTIONS};
use passgenau_domain::search::{birth_keys, name_keys, probably_same, NameKeys};
use passgenau_domain::{CustomerData, FieldError, Validate};
use passgenau_store::audit::{self, Action, AuditEntry};
use passgenau_store::customers::{self, CustomerRecord};
use passgenau_store::households::{self, HouseholdRecord};
use passgenau_store::imports::{self as repo, ImportJob};
use passgenau_store::{
    customer_search, instruments, Access, DbConnection, Meta, Page, PageOf, Store, StoreError,
};

use crate::app::import_format::{self as format, Header, Lines, RawLine, Row};
use crate::app::{AppError, AppResult};
use crate::patch::MergePatch;

/// Lines written in one transaction, at most.
pub const CHUNK_LINES: usize = 1_000;
/// Bytes of lines held for one transaction, at most (a chunk of long lines is shorter).
pub const CHUNK_BYTES: usize = 4 << 20;

/// Whom the audit names for the import's reads and writes, and the route it names.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub role: String,
    pub route: String,
}

impl Actor {
    fn access(&self, action: Action) -> Access {
        Access {
            actor: self.name.clone(),
            role: self.role.clone(),
            action,
            route: self.route.clone(),
        }
    }
}

/// A new job, queued, for a file of `bytes_total` bytes.
pub fn create(
    store: &Store,
    format: ImportFormat,
    bytes_total: u64,
    created_by: &str,
) -> AppResult<ImportJob> {
    let job = ImportJob {
        id: ImportId::new(),
        status: ImportStatus::Queued,
        format,
        created_by: created_by.to_string(),
        created_at: passgenau_store::records::now(),
        started_at: None,
        finished_at: None,
        heartbeat_at: None,
        bytes_total: i64::try_from(bytes_total).unwrap_or(i64::MAX),
        bytes_read: 0,
        lines: 0,
        counts: Counts::default(),
        rejected: Vec::new(),
        error: None,
    };
    store.write(|conn| repo::create(conn, &job))?;
    Ok(job)
}

/// A job that has not reported for this long stopped with its instance.
pub const STALE_AFTER_SECONDS: i64 = 120;

/// The job as it stands; a running job whose instance stopped reporting is shown
/// failed (its lines so far are imported; run the file again for the rest).
pub fn get(store: &Store, id: ImportId) -> AppResult<ImportJob> {
    let job = store
        .read(|conn| repo::get(conn, id))
        .map_err(crate::app::error::missing("import"))?;
    Ok(stale_shown(job))
}

pub fn list(store: &Store, page: &Page) -> AppResult<PageOf<ImportJob>> {
    let mut page = store.read(|conn| repo::list(conn, page))?;
    page.items = page.items.into_iter().map(stale_shown).collect();
    Ok(page)
}

fn stale_shown(mut job: ImportJob) -> ImportJob {
    let now = passgenau_store::records::now();
    let last = job.heartbeat_at.or(job.started_at).unwrap_or(job.created_at);
    if matches!(job.status, ImportStatus::Queued | ImportStatus::Running)
        && (now - last).num_seconds() > STALE_AFTER_SECONDS
    {
        job.status = ImportStatus::Failed;
        job.error =
            Some("the instance running the import stopped; run the file again to import the rest".into());
    }
    job
}

/// Why a file cannot be imported at all (nothing of it is).
pub fn check_header(format: ImportFormat, first_line: RawLine) -> Result<Option<Header>, String> {
    match format {
        ImportFormat::Ndjson => Ok(None),
        ImportFormat::Csv => format::csv_header(first_line).map(Some),
    }
}

/// Runs the job over `input` to its end, saving its progress after every chunk (and
/// telling `on_progress`); the job as it ended. A file whose CSV header is unusable
/// fails before any line is written.
pub fn run(
    store: &Store,
    mut job: ImportJob,
    input: impl BufRead,
    actor: &Actor,
    today: NaiveDate,
    on_progress: &mut dyn FnMut(&ImportJob),
) -> ImportJob {
    let now = passgenau_store::records::now();
    job.status = ImportStatus::Running;
    job.started_at = Some(now);
    job.heartbeat_at = Some(now);
    let mut importer = Importer {
        store,
        actor,
        today,
        known: HashMap::new(),
    };
    let result = importer.all(&mut job, input, on_progress);
    job.finished_at = Some(passgenau_store::records::now());
    match result {
        Ok(()) => job.status = ImportStatus::Done,
        Err(why) => {
            job.status = ImportStatus::Failed;
            job.error = Some(why);
        }
    }
    if let Err(e) = store.write(|conn| repo::save(conn, &job)) {
        tracing::error!(error = %e, "the import's end could not be saved");
    }
    on_progress(&job);
    tracing::info!(
        import = %job.id,
        status = ?job.status,
        lines = job.lines,
        imported = job.counts.imported,
        updated = job.counts.updated,
        unchanged = job.counts.unchanged,
        rejected = job.counts.rejected,
        "import finished"
    );
    job
}

struct Importer<'a> {
    store: &'a Store,
    actor: &'a Actor,
    today: NaiveDate,
    /// Instrument codes looked up so far, and whether each is in the catalogue.
    known: HashMap<String, bool>,
}

/// What a chunk did.
#[derive(Debug, Default)]
struct Outcome {
    counts: Counts,
    rejected: Vec<Rejection>,
}

impl Outcome {
    fn reject(&mut self, r: Vec<Rejection>) {
        self.counts.rejected += 1;
        self.rejected.extend(r);
    }
}

fn note(job: &mut ImportJob, outcome: Outcome) {
    job.counts.add(outcome.counts);
    for r in outcome.rejected {
        if job.rejected.len() < MAX_LISTED_REJECTIONS {
            job.rejected.push(r);
        }
    }
}

impl Importer<'_> {
    fn all(
        &mut self,
        job: &mut ImportJob,
        input: impl BufRead,
        on_progress: &mut dyn FnMut(&ImportJob),
    ) -> Result<(), String> {
        let mut lines = Lines::new(input);
        let read_error = |e: std::io::Error| format!("the file could not be read: {e}");
        let header = if job.format == ImportFormat::Csv {
            match lines.next_line().map_err(read_error)? {
                None => return Err("the file is empty: a CSV file starts with its header".into()),
                Some(raw) => Some(format::csv_header(raw)?),
            }
        } else {
            None
        };
        let mut chunk: Vec<(u64, Row)> = Vec::new();
        let mut held = 0usize;
        let mut early = Outcome::default();
        loop {
            let raw = lines.next_line().map_err(read_error)?;
            let done = raw.is_none();
            if let Some(raw) = raw {
                let n = lines.number;
                let size = match &raw {
                    RawLine::Bytes(b) => b.len(),
                    RawLine::TooLong => 0,
                };
                let row = match &header {
                    Some(h) => format::csv_row(h, n, raw),
                    None => format::ndjson_row(n, raw),
                };
                match row {
                    Ok(Some(row)) => {
                        chunk.push((n, row));
                        held += size;
                    }
                    Ok(None) => {}
                    Err(r) => early.reject(vec![r]),
                }
            }
            if done || chunk.len() >= CHUNK_LINES || held >= CHUNK_BYTES {
                let outcome = self.chunk(&chunk)?;
                chunk.clear();
                held = 0;
                let mut outcome = outcome;
                outcome.counts.add(early.counts);
                outcome.rejected.append(&mut early.rejected);
                early = Outcome::default();
                // by line, as the file has them (a stable sort keeps a line's fields in order)
                outcome.rejected.sort_by_key(|r| r.line);
                note(job, outcome);
                job.lines = i64::try_from(lines.number).unwrap_or(i64::MAX);
                job.bytes_read = i64::try_from(lines.consumed).unwrap_or(i64::MAX);
                job.heartbeat_at = Some(passgenau_store::records::now());
                self.store
                    .write(|conn| repo::save(conn, job))
                    .map_err(|e| format!("the import's progress could not be saved: {e}"))?;
                on_progress(job);
            }
            if done {
                return Ok(());
            }
        }
    }

    /// Writes a chunk in one transaction, or line by line if that fails.
    fn chunk(&mut self, rows: &[(u64, Row)]) -> Result<Outcome, String> {
        if rows.is_empty() {
            return Ok(Outcome::default());
        }
        self.learn_codes(rows).map_err(|e| e.to_string())?;
        let (actor, today, known) = (self.actor, self.today, &self.known);
        match self
            .store
            .write(|conn| write_rows(conn, actor, today, known, rows))
        {
            Ok(out) => Ok(out),
            Err(e) if rows.len() > 1 && line_level(&e) => {
                let mut out = Outcome::default();
                for row in rows {
                    let one = self.chunk(std::slice::from_ref(row))?;
                    out.counts.add(one.counts);
                    out.rejected.extend(one.rejected);
                }
                Ok(out)
            }
            Err(e) if line_level(&e) => {
                let mut out = Outcome::default();
                out.reject(vec![Rejection {
                    line: rows[0].0,
                    field: None,
                    message: e.to_string(),
                }]);
                Ok(out)
            }
            Err(e) => Err(format!(
                "the database failed: {e}; the lines before were imported"
            )),
        }
    }

    /// Looks up the instrument codes of prior participations not yet known.
    fn learn_codes(&mut self, rows: &[(u64, Row)]) -> AppResult<()> {
        let mut codes: HashSet<String> = HashSet::new();
        for (_, row) in rows {
            if let Row::Customer { fields, .. } = row {
                if let Some(serde_json::Value::Array(ps)) = fields.get("prior_participations") {
                    for p in ps {
                        if let Some(code) = p.get("instrument_code").and_then(|c| c.as_str()) {
                            if !self.known.contains_key(code) {
                                codes.insert(code.to_string());
                            }
                        }
                    }
                }
            }
        }
        if codes.is_empty() {
            return Ok(());
        }
        let found = self.store.read(|conn| {
            let mut found = Vec::new();
            for code in &codes {
                match instruments::get(conn, code) {
                    Ok(_) => found.push((code.clone(), true)),
                    Err(StoreError::NotFound) => found.push((code.clone(), false)),
                    Err(e) => return Err(e),
                }
            }
            Ok(found)
        })?;
        self.known.extend(found);
        Ok(())
    }
}

/// Whether a failed chunk may be retried line by line: a conflict with what another
/// writer recorded meanwhile, not a database that is down.
fn line_level(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Store(StoreError::Conflict { .. } | StoreError::Reference { .. })
            | AppError::Conflict { .. }
    )
}

/// The rejection of a line that would give a household more than [`MAX_MEMBERS`].
fn household_full(line: u64, field: &str) -> Rejection {
    Rejection {
        line,
        field: Some(field.into()),
        message: format!("a household has at most {MAX_MEMBERS} members"),
    }
}

fn field_rejections(line: u64, errors: Vec<FieldError>) -> Vec<Rejection> {
    errors
        .into_iter()
        .map(|e| Rejection {
            line,
            field: Some(e.field),
            message: e.message,
        })
        .collect()
}

/// A customer of the chunk as it will be written.
struct Slot {
    rec: CustomerRecord,
    /// Recorded before this chunk (else the chunk creates it).
    recorded: bool,
    /// The version the record had when the chunk read it.
    read_version: i64,
    /// Fields changed by the chunk's lines (for the audit).
    changed: Vec<String>,
}

/// A household of the chunk as it will be written. Of a household only customer lines
/// name, `rec.members` stays empty (they are not read) and `members` counts them.
struct HouseSlot {
    rec: HouseholdRecord,
    members: usize,
    recorded: bool,
    read_version: i64,
    changed: bool,
}

/// Decides every line of a chunk and writes what they ask in the caller's transaction.
fn write_rows(
    conn: &mut DbConnection,
    actor: &Actor,
    today: NaiveDate,
    known: &HashMap<String, bool>,
    rows: &[(u64, Row)],
) -> AppResult<Outcome> {
    let read = actor.access(Action::Read);
    let now = passgenau_store::records::now();
    let mut numbers: Vec<String> = Vec::new();
    // households of household lines (read whole: their members are compared) and those
    // only customer lines name (only their size is read)
    let mut house_numbers: Vec<String> = Vec::new();
    let mut named: Vec<String> = Vec::new();
    for (_, row) in rows {
        match row {
            Row::Customer {
                number, household, ..
            } => {
                numbers.push(number.clone());
                if let Some(h) = household {
                    named.push(h.number.clone());
                }
            }
            Row::Household { data, .. } => house_numbers.push(data.household_number.clone()),
        }
    }
    numbers.sort_unstable();
    numbers.dedup();
    house_numbers.sort_unstable();
    house_numbers.dedup();
    named.sort_unstable();
    named.dedup();
    named.retain(|n| house_numbers.binary_search(n).is_err());

    let (sealed, merged) = repo::customers_by_number(conn, &numbers)?;
    let merged: HashMap<String, CustomerId> = merged.into_iter().collect();
    let mut people: HashMap<String, Slot> = sealed
        .open_in(conn, &read)?
        .into_iter()
        .map(|rec| {
            let version = rec.meta.version;
            (
                rec.data.customer_number.clone(),
                Slot {
                    rec,
                    recorded: true,
                    read_version: version,
                    changed: Vec::new(),
                },
            )
        })
        .collect();
    let mut houses: HashMap<String, HouseSlot> = repo::households_by_number(conn, &house_numbers)?
        .open_in(conn, &read)?
        .into_iter()
        .map(|rec| {
            let version = rec.meta.version;
            (
                rec.data.household_number.clone(),
                HouseSlot {
                    members: rec.members.len(),
                    rec,
                    recorded: true,
                    read_version: version,
                    changed: false,
                },
            )
        })
        .collect();
    for (id, number, district, members) in repo::household_sizes(conn, &named)? {
        houses.insert(
            number.clone(),
            HouseSlot {
                rec: HouseholdRecord {
                    meta: Meta::new(id, now),
                    data: passgenau_domain::household::HouseholdData {
                        household_number: number,
                        district,
                    },
                    members: Vec::new(),
                },
                members,
                recorded: true,
                read_version: 0,
                changed: false,
            },
        );
    }

    // whom the new people are compared with: the recorded ones under their birth keys
    let mut keys: Vec<String> = Vec::new();
    let mut dobs: Vec<NaiveDate> = Vec::new();
    for (_, row) in rows {
        if let Row::Customer { number, fields, .. } = row {
            if people.contains_key(number) {
                continue;
            }
            let last = fields.get("last_name").and_then(|v| v.as_str());
            let dob = fields
                .get("date_of_birth")
                .and_then(|v| v.as_str())
                .and_then(|d| d.parse::<NaiveDate>().ok());
            if let (Some(last), Some(dob)) = (last, dob) {
                keys.extend(birth_keys(dob, last));
                dobs.push(dob);
            }
        }
    }
    customer_search::lock_birthdays(conn, &dobs)?;
    keys.sort_unstable();
    keys.dedup();
    let under = customer_search::under_birth_keys(conn, &keys)?;
    let mut ids: Vec<CustomerId> = under.iter().map(|(_, id)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut recorded_keys = customer_search::keys_of(conn, &ids)?;
    let mut by_key: HashMap<String, Vec<(CustomerId, String, NameKeys)>> = HashMap::new();
    for (key, id) in under {
        if let Some((number, k)) = recorded_keys.get(&id) {
            by_key
                .entry(key)
                .or_default()
                .push((id, number.clone(), k.clone()));
        }
    }
    recorded_keys.clear();

    let mut out = Outcome::default();
    let mut new_members: Vec<(HouseholdId, HouseholdMember)> = Vec::new();
    let mut order: Vec<String> = Vec::new();
    let mut house_order: Vec<String> = Vec::new();
    for (line, row) in rows {
        let line = *line;
        match row {
            Row::Household { data, members } => {
                let mut errors = data.validate();
                for (i, m) in members.iter().enumerate() {
                    errors.extend(passgenau_domain::customer::check_not_future(
                        &format!("members[{i}].date_of_birth"),
                        m.date_of_birth,
                        today,
                    ));
                }
                if !errors.is_empty() {
                    out.reject(field_rejections(line, errors));
                    continue;
                }
                let created_now = !houses.contains_key(&data.household_number);
                if created_now {
                    house_order.push(data.household_number.clone());
                    houses.insert(
                        data.household_number.clone(),
                        HouseSlot {
                            rec: HouseholdRecord {
                                meta: Meta::new(HouseholdId::new(), now),
                                data: data.clone(),
                                members: Vec::new(),
                            },
                            members: 0,
                            recorded: false,
                            read_version: 0,
                            changed: true,
                        },
                    );
                }
                let slot = houses.get_mut(&data.household_number).expect("inserted above");
                // the members without a record the line names and the household lacks
                let mut have: Vec<(passgenau_domain::HouseholdRole, NaiveDate)> = slot
                    .rec
                    .members
                    .iter()
                    .filter(|m| m.customer_id.is_none())
                    .map(|m| (m.role, m.date_of_birth))
                    .collect();
                let mut add = Vec::new();
                for m in members {
                    match have.iter().position(|h| *h == (m.role, m.date_of_birth)) {
                        Some(i) => {
                            have.remove(i);
                        }
                        None => add.push(m),
                    }
                }
                if slot.members + add.len() > MAX_MEMBERS {
                    out.reject(vec![household_full(line, "members")]);
                    continue;
                }
                let district_changes = slot.rec.data.district != data.district;
                for m in add.iter() {
                    let member = HouseholdMember {
                        id: passgenau_domain::ids::new_id(),
                        customer_id: None,
                        role: m.role,
                        date_of_birth: m.date_of_birth,
                    };
                    slot.rec.members.push(member.clone());
                    slot.members += 1;
                    new_members.push((slot.rec.meta.id, member));
                }
                slot.rec.data.district = data.district.clone();
                if created_now {
                    out.counts.imported += 1;
                } else if district_changes || !add.is_empty() {
                    slot.changed = true;
                    out.counts.updated += 1;
                } else {
                    out.counts.unchanged += 1;
                }
            }
            Row::Customer {
                number,
                fields,
                household,
                confirm_distinct,
            } => {
                if let Some(into) = merged.get(number) {
                    out.reject(vec![Rejection {
                        line,
                        field: Some("customer_number".into()),
                        message: format!(
                            "this record was merged into {into}: import it under the surviving record's number"
                        ),
                    }]);
                    continue;
                }
                let current = people.get(number);
                let data: CustomerData = match current {
                    Some(slot) => {
                        match MergePatch::<CustomerData>::from_fields(fields.clone()).apply(&slot.rec.data) {
                            Ok(d) => d,
                            Err(m) => {
                                out.reject(field_rejections(line, vec![m.0]));
                                continue;
                            }
                        }
                    }
                    None => match serde_path_to_error::deserialize(serde_json::Value::Object(fields.clone()))
                    {
                        Ok(d) => d,
                        Err(e) => {
                            out.reject(vec![format::serde_rejection(line, "", e)]);
                            continue;
                        }
                    },
                };
                let mut errors = data.validate();
                errors.extend(data.validate_on(today, &|code| known.get(code).copied().unwrap_or(false)));
                if !errors.is_empty() {
                    out.reject(field_rejections(line, errors));
                    continue;
                }
                // the household the line names, as the chunk has it (made if new)
                let home = match household {
                    None => None,
                    Some(h) => {
                        if !houses.contains_key(&h.number) {
                            let data = passgenau_domain::household::HouseholdData {
                                household_number: h.number.clone(),
                                district: h.district.clone(),
                            };
                            let errors: Vec<FieldError> = data
                                .validate()
                                .into_iter()
                                .map(|e| {
                                    let field = if e.field == "district" {
                                        "household_district".to_string()
                                    } else {
                                        e.field
                                    };
                                    FieldError::new(field, e.message)
                                })
                                .collect();
                            if !errors.is_empty() {
                                out.reject(field_rejections(line, errors));
                                continue;
                            }
                            house_order.push(h.number.clone());
                            houses.insert(
                                h.number.clone(),
                                HouseSlot {
                                    rec: HouseholdRecord {
                                        meta: Meta::new(HouseholdId::new(), now),
                                        data,
                                        members: Vec::new(),
                                    },
                                    members: 0,
                                    recorded: false,
                                    read_version: 0,
                                    changed: true,
                                },
                            );
                        }
                        let slot = &houses[&h.number];
                        Some((slot.rec.meta.id, h.role, slot.members, h.number.as_str()))
                    }
                };
                match current {
                    Some(slot) => {
                        let joins = match (slot.rec.household_id, home) {
                            (_, None) => None,
                            (Some(now_in), Some((h, _, _, _))) if now_in == h => None,
                            (Some(_), Some(_)) => {
                                out.reject(vec![Rejection {
                                    line,
                                    field: Some("household_number".into()),
                                    message: "the customer belongs to another household; an import adds memberships, it does not move them".into(),
                                }]);
                                continue;
                            }
                            (None, Some(joins)) => Some(joins),
                        };
                        if let Some((_, _, count, _)) = joins {
                            if count >= MAX_MEMBERS {
                                out.reject(vec![household_full(line, "household_number")]);
                                continue;
                            }
                        }
                        let slot = people.get_mut(number).expect("looked up above");
                        if data == slot.rec.data && joins.is_none() {
                            out.counts.unchanged += 1;
                            continue;
                        }
                        for f in crate::app::customers::changed_fields(&slot.rec.data, &data)
                            .split(',')
                            .filter(|f| !f.is_empty())
                        {
                            if !slot.changed.iter().any(|c| c == f) {
                                slot.changed.push(f.to_string());
                            }
                        }
                        slot.rec.data = data;
                        if let Some((h, role, _, house)) = joins {
                            join(&mut houses, &mut new_members, &mut slot.rec, (h, house), role);
                            slot.changed.push("household_id".into());
                        }
                        out.counts.updated += 1;
                    }
                    None => {
                        if let Some((_, _, count, _)) = home {
                            if count >= MAX_MEMBERS {
                                out.reject(vec![household_full(line, "household_number")]);
                                continue;
                            }
                        }
                        if !confirm_distinct {
                            let names = name_keys(&data.first_name, &data.last_name);
                            let mut alike: Vec<String> = Vec::new();
                            for key in birth_keys(data.date_of_birth, &data.last_name) {
                                for (id, number, k) in by_key.get(&key).into_iter().flatten() {
                                    let label = format!("{number} ({id})");
                                    if probably_same(&names, k) && !alike.contains(&label) {
                                        alike.push(label);
                                    }
                                }
                            }
                            if !alike.is_empty() {
                                out.reject(vec![Rejection {
                                    line,
                                    field: None,
                                    message: format!(
                                        "possible_duplicate: probably the recorded {}; set confirm_distinct_person to record another person",
                                        alike.join(", ")
                                    ),
                                }]);
                                continue;
                            }
                        }
                        let mut rec = CustomerRecord {
                            meta: Meta::new(CustomerId::new(), now),
                            household_id: None,
                            data,
                            closure: None,
                        };
                        if let Some((h, role, _, house)) = home {
                            join(&mut houses, &mut new_members, &mut rec, (h, house), role);
                        }
                        // later lines of the file are compared with this one
                        let names = name_keys(&rec.data.first_name, &rec.data.last_name);
                        for key in birth_keys(rec.data.date_of_birth, &rec.data.last_name) {
                            by_key.entry(key).or_default().push((
                                rec.meta.id,
                                rec.data.customer_number.clone(),
                                names.clone(),
                            ));
                        }
                        order.push(number.clone());
                        people.insert(
                            number.clone(),
                            Slot {
                                rec,
                                recorded: false,
                                read_version: 0,
                                changed: Vec::new(),
                            },
                        );
                        out.counts.imported += 1;
                    }
                }
            }
        }
    }

    // the writes: households, then customers (they name their household), then the
    // member rows (they name both), then the audit
    let new_houses: Vec<(Meta<HouseholdId>, passgenau_domain::household::HouseholdData)> = house_order
        .iter()
        .filter_map(|n| houses.get(n))
        .filter(|s| !s.recorded)
        .map(|s| (s.rec.meta.clone(), s.rec.data.clone()))
        .collect();
    households::insert_many(conn, &new_houses, &[], now)?;
    let new_people: Vec<CustomerRecord> = order
        .iter()
        .filter_map(|n| people.get(n))
        .filter(|s| !s.recorded)
        .map(|s| s.rec.clone())
        .collect();
    customers::insert_many(conn, &new_people)?;
    let mut entries: Vec<AuditEntry> = Vec::new();
    let create = actor.access(Action::Create);
    let update = actor.access(Action::Update);
    for s in people.values().filter(|s| s.recorded && !s.changed.is_empty()) {
        let mut rec = s.rec.clone();
        rec.meta.version = s.read_version + 1;
        rec.meta.updated_at = now;
        customers::update(conn, &rec, s.read_version)?;
        let mut e = update.entries([(Some(rec.meta.id), rec.household_id)]);
        for x in &mut e {
            x.fields = Some(s.changed.join(","));
        }
        entries.extend(e);
    }
    for s in houses.values().filter(|s| s.recorded && s.changed) {
        let mut meta = s.rec.meta.clone();
        meta.version = s.read_version + 1;
        meta.updated_at = now;
        households::update(conn, &meta, &s.rec.data, s.read_version)?;
        entries.extend(update.entries([(None, Some(meta.id))]));
    }
    households::insert_many(conn, &[], &new_members, now)?;
    entries.extend(create.entries(new_houses.iter().map(|(m, _)| (None, Some(m.id)))));
    entries.extend(create.entries(new_people.iter().map(|r| (Some(r.meta.id), r.household_id))));
    audit::append(conn, &entries)?;
    Ok(out)
}

/// Makes `rec` a member of household `h` in the chunk (the member row is written with
/// the chunk).
fn join(
    houses: &mut HashMap<String, HouseSlot>,
    new_members: &mut Vec<(HouseholdId, HouseholdMember)>,
    rec: &mut CustomerRecord,
    (h, number): (HouseholdId, &str),
    role: passgenau_domain::HouseholdRole,
) {
    let member = HouseholdMember {
        id: passgenau_domain::ids::new_id(),
        customer_id: Some(rec.meta.id),
        role,
        date_of_birth: rec.data.date_of_birth,
    };
    rec.household_id = Some(h);
    if let Some(slot) = houses.get_mut(number) {
        slot.rec.members.push(member.clone());
        slot.members += 1;
    }
    new_members.push((h, member));
}

/// Runs the job over the spooled file `path` on a thread of its own (a file of a million
/// lines takes a minute; the instance answers others meanwhile) and removes the file at
/// the end.
pub fn start(store: Store, job: ImportJob, path: std::path::PathBuf, actor: Actor, today: NaiveDate) {
    let spawned = std::thread::Builder::new()
        .name(format!("import-{}", job.id))
        .spawn(move || {
            let id = job.id;
            match std::fs::File::open(&path) {
                Ok(file) => {
                    run(
                        &store,
                        job,
                        std::io::BufReader::with_capacity(1 << 20, file),
                        &actor,
                        today,
                        &mut |_| {},
                    );
                }
                Err(e) => {
                    let mut job = job;
                    job.status = ImportStatus::Failed;
                    job.error = Some(format!("the uploaded file could not be read: {e}"));
                    job.finished_at = Some(passgenau_store::records::now());
                    if let Err(e) = store.write(|conn| repo::save(conn, &job)) {
                        tracing::error!(import = %id, error = %e, "the import's end could not be saved");
                    }
                }
            }
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(import = %id, error = %e, "the spooled import file could not be removed");
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "no thread for the import");
    }
}
