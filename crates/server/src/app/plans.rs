//! Yearly plans: planned entries and budgets per instrument.

use passgenau_domain::FieldError;
use passgenau_store::plans::{self as repo, Plan, PlanLine};
use passgenau_store::{instruments, Store, StoreError};

use crate::app::error::{check_fields, missing, AppError, AppResult};

pub fn get(store: &Store, year: i32) -> AppResult<Plan> {
    store.read(|conn| repo::get(conn, year).map_err(missing("plan")))
}

/// Which stored plan a replacement may overwrite (`If-Match`).
pub enum Expect {
    /// Whatever is there, or nothing.
    Any,
    /// Only an existing plan (`*`).
    Existing,
    /// Only one of these versions.
    Versions(Vec<i64>),
}

/// The checks that need no database.
pub fn precheck(budget_cents: Option<i64>, lines: &[PlanLine]) -> AppResult<()> {
    let mut errors = Vec::new();
    if budget_cents.is_some_and(|b| b < 0) {
        errors.push(FieldError::new("budget_cents", "must not be negative"));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, l) in lines.iter().enumerate() {
        if !seen.insert(l.code.clone()) {
            errors.push(FieldError::new(format!("instruments[{i}].code"), "listed twice"));
        }
        if l.planned_entries < 0 {
            errors.push(FieldError::new(
                format!("instruments[{i}].planned_entries"),
                "must not be negative",
            ));
        }
        if l.previous_year_planned_entries.is_some_and(|p| p < 0) {
            errors.push(FieldError::new(
                format!("instruments[{i}].previous_year_planned_entries"),
                "must not be negative",
            ));
        }
        if l.budget_cents.is_some_and(|b| b < 0) {
            errors.push(FieldError::new(
                format!("instruments[{i}].budget_cents"),
                "must not be negative",
            ));
        }
    }
    check_fields(errors)
}

/// Replaces a year's plan with these lines of known instruments.
pub fn put(
    store: &Store,
    year: i32,
    budget_cents: Option<i64>,
    lines: Vec<PlanLine>,
    expect: Expect,
) -> AppResult<Plan> {
    store.write(|conn| {
        let mut unknown = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            match instruments::get(conn, &l.code) {
                Ok(_) => {}
                Err(StoreError::NotFound) => unknown.push(FieldError::new(
                    format!("instruments[{i}].code"),
                    "unknown instrument",
                )),
                Err(e) => return Err(e.into()),
            }
        }
        if !unknown.is_empty() {
            return Err(AppError::Invalid(unknown));
        }
        let current = repo::version(conn, year)?;
        let expected = match expect {
            Expect::Any => None,
            Expect::Existing => Some(current.ok_or(AppError::Stale)?),
            Expect::Versions(v) => Some(current.filter(|c| v.contains(c)).ok_or(AppError::Stale)?),
        };
        let now = passgenau_store::records::now();
        let plan = Plan {
            year,
            budget_cents,
            version: current.unwrap_or(0) + 1,
            created_at: now,
            updated_at: now,
            lines,
        };
        repo::put(conn, &plan, expected)?;
        Ok(repo::get(conn, year)?)
    })
}
