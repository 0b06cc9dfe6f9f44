//! Case closure and the retention period of a closed case.
//!
//! Case files are kept for a retention period after the case closes, then erased
//! (§ 84 Abs. 2 Satz 2 SGB X: social data are erased once they are no longer needed for
//! the task; Art. 17 Abs. 1 lit. a DSGVO; the period of 10 years is the Jobcenter's
//! retention rule, a parameter: `PASSGENAU_RETENTION_YEARS`; domain-rules.md, "Retention
//! and erasure", as corrected on 2026-12-01). A legal hold suspends erasure (§ 84 Abs. 3
//! SGB X: erasure is replaced by restriction while legitimate interests need the data).
//! Valid from 1.1.2021 (the AMIP 2021) with no end.
//!
//! Dates follow the BGB: the closure is an event during its day, so the period begins the
//! next day (§ 187 Abs. 1 BGB) and ends with the day of the last year that corresponds to
//! the closure day (§ 188 Abs. 2 BGB; a closure on 29 February ends on 28 February,
//! § 188 Abs. 3 BGB). The case may be erased from the day after.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dates::period_end;
use crate::validation::{Checker, FieldError};

/// Why and when a case was closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    /// The day the case closed (not in the future); the retention period begins the
    /// day after.
    pub closed_on: NaiveDate,
    /// Why (for example "Wegfall der Hilfebedürftigkeit"), 1–500 characters.
    pub reason: String,
}

impl Closure {
    /// The closure's field errors on `today`.
    pub fn errors(&self, today: NaiveDate) -> Vec<FieldError> {
        let mut c = Checker::default();
        if self.closed_on > today {
            c.fail("closed_on", "must not be in the future");
        }
        c.text("reason", &self.reason, 500);
        c.finish()
    }
}

/// The last day of the retention period of a case closed on `closed_on`.
pub fn retention_ends(closed_on: NaiveDate, years: u32) -> NaiveDate {
    match closed_on.succ_opt() {
        Some(begins) => period_end(begins, years.saturating_mul(12)),
        None => NaiveDate::MAX,
    }
}

/// Whether a case closed on `closed_on` may be erased on `today`: its period has ended
/// and no legal hold suspends it.
pub fn erasable(closed_on: NaiveDate, legal_hold: bool, years: u32, today: NaiveDate) -> bool {
    !legal_hold && today > retention_ends(closed_on, years)
}

/// The latest closure day whose period has ended by `today` (the retention job erases
/// every unheld case closed on or before it).
pub fn latest_erasable_closure(years: u32, today: NaiveDate) -> Option<NaiveDate> {
    // retention_ends grows with closed_on; go back the years, then step to the boundary
    let mut day = today.checked_sub_months(chrono::Months::new(years.saturating_mul(12)))?;
    while retention_ends(day, years) >= today {
        day = day.pred_opt()?;
    }
    while let Some(next) = day.succ_opt().filter(|n| retention_ends(*n, years) < today) {
        day = next;
    }
    Some(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_period_begins_the_day_after_the_closure() {
        // closed 15.3.2015: begins 16.3.2015, ends 15.3.2025; erasable from 16.3.2025
        assert_eq!(retention_ends(d("2015-03-15"), 10), d("2025-03-15"));
        assert!(!erasable(d("2015-03-15"), false, 10, d("2025-03-15")));
        assert!(erasable(d("2015-03-15"), false, 10, d("2025-03-16")));
        assert!(!erasable(d("2015-03-15"), true, 10, d("2030-01-01")), "held");
        // 29.2.2016 + 10 years: no 29.2.2026, so the period ends on 28.2.2026
        assert_eq!(retention_ends(d("2016-02-29"), 10), d("2026-02-28"));
        // 31.12.2015: begins 1.1.2016, ends 31.12.2025
        assert_eq!(retention_ends(d("2015-12-31"), 10), d("2025-12-31"));
    }

    #[test]
    fn the_latest_erasable_closure_is_the_boundary() {
        for today in [
            "2026-12-03",
            "2026-03-01",
            "2026-02-28",
            "2025-01-01",
            "2024-02-29",
        ] {
            let today = d(today);
            for years in [1, 10] {
                let last = latest_erasable_closure(years, today).unwrap();
                assert!(erasable(last, false, years, today), "{today} {years}");
                assert!(
                    !erasable(last.succ_opt().unwrap(), false, years, today),
                    "{today} {years}"
                );
            }
        }
    }

    #[test]
    fn a_closure_needs_a_past_day_and_a_reason() {
        let ok = Closure {
            closed_on: d("2026-12-03"),
            reason: "Umzug".into(),
        };
        assert!(ok.errors(d("2026-12-03")).is_empty());
        let bad = Closure {
            closed_on: d("2026-12-04"),
            reason: " ".into(),
        };
        let fields: Vec<_> = bad.errors(d("2026-12-03")).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["closed_on", "reason"]);
    }
}
