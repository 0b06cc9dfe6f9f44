//! Periods in a customer's history (benefit receipt, unemployment, employment).

use crate::ids::ProviderId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A period `[from, to]`, both days inclusive; `to: null` means still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Spell {
    pub from: NaiveDate,
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// Employment spells only: the employer, when it is recorded as a provider. The
    /// same-firm exclusions read it (EQ: § 54a Abs. 5 SGB III; EGZ and § 16e: § 92 Abs. 1
    /// Nr. 2 SGB III); a spell without it excludes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employer_id: Option<ProviderId>,
}

impl Spell {
    pub fn new(from: NaiveDate, to: Option<NaiveDate>) -> Self {
        Self {
            from,
            to,
            employer_id: None,
        }
    }

    /// An employment spell at a recorded employer.
    pub fn at(from: NaiveDate, to: Option<NaiveDate>, employer_id: ProviderId) -> Self {
        Self {
            from,
            to,
            employer_id: Some(employer_id),
        }
    }

    /// Number of days of this spell that fall inside `[start, end]` (inclusive).
    pub fn days_within(&self, start: NaiveDate, end: NaiveDate) -> i64 {
        let lo = self.from.max(start);
        let hi = self.to.unwrap_or(end).min(end);
        if hi < lo {
            0
        } else {
            (hi - lo).num_days() + 1
        }
    }

    /// Whether the spell covers the given day.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.from <= day && self.to.is_none_or(|to| day <= to)
    }
}

/// Days in `[start, end]` covered by at least one of the spells (overlaps count once).
pub fn covered_days(spells: &[Spell], start: NaiveDate, end: NaiveDate) -> i64 {
    merged(spells, 0).iter().map(|s| s.days_within(start, end)).sum()
}

/// Spells sorted and merged; gaps of at most `max_gap_days` days between two spells are
/// bridged (a gap of 0 merges only touching or overlapping spells).
pub fn merged(spells: &[Spell], max_gap_days: i64) -> Vec<Spell> {
    let mut sorted: Vec<Spell> = spells.to_vec();
    sorted.sort_by_key(|s| s.from);
    let mut out: Vec<Spell> = Vec::with_capacity(sorted.len());
    for s in sorted {
        if let Some(last) = out.last_mut() {
            match last.to {
                None => continue,
                Some(to) if (s.from - to).num_days() <= max_gap_days + 1 => {
                    last.to = s.to.map(|sto| sto.max(to));
                    last.employer_id = None;
                    continue;
                }
                _ => {}
            }
        }
        out.push(Spell {
            employer_id: None,
            ..s
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn days_within_clips_to_window() {
        let s = Spell::new(d("2020-01-01"), Some(d("2020-01-10")));
        assert_eq!(s.days_within(d("2020-01-05"), d("2020-02-01")), 6);
        assert_eq!(s.days_within(d("2020-02-01"), d("2020-03-01")), 0);
        let open = Spell::new(d("2020-01-01"), None);
        assert_eq!(open.days_within(d("2020-01-01"), d("2020-01-31")), 31);
    }

    #[test]
    fn overlapping_spells_count_once() {
        let spells = [
            Spell::new(d("2020-01-01"), Some(d("2020-01-10"))),
            Spell::new(d("2020-01-05"), Some(d("2020-01-20"))),
        ];
        assert_eq!(covered_days(&spells, d("2019-01-01"), d("2021-01-01")), 20);
    }

    #[test]
    fn merge_bridges_short_gaps_only() {
        let spells = [
            Spell::new(d("2020-01-01"), Some(d("2020-01-31"))),
            Spell::new(d("2020-03-01"), None),
        ];
        assert_eq!(merged(&spells, 0).len(), 2);
        let m = merged(&spells, 42);
        assert_eq!(m, vec![Spell::new(d("2020-01-01"), None)]);
    }
}
