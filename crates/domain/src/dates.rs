//! Dates and periods as the BGB counts them (§§ 186–193 BGB, applied to social law by
//! § 26 Abs. 1 SGB X). Every rule that counts an age, a period or a cumulative duration
//! uses these functions, so a boundary is decided in one place.
//!
//! - **Age** (§ 187 Abs. 2 Satz 2, § 188 Abs. 2 BGB): the day of birth counts in full; a
//!   year of life is completed at the end of the day before the birthday. Someone born on
//!   1 May completes the 25th year at the end of 30 April and is 25 from 1 May on. Born on
//!   29 February, the year is completed at the end of 28 February in a common year
//!   (§ 188 Abs. 3 BGB).
//! - **Periods that run without a break** (§ 188 Abs. 2, Abs. 3 BGB): a period of months or
//!   years beginning on a day ends with the day before the corresponding day; where the
//!   corresponding day is missing in the last month, with that month's last day.
//! - **Cumulative periods** that need not run without a break ("insgesamt", "innerhalb
//!   von", § 191 BGB): a month counts 30 days, a year 365 days.

use chrono::{Datelike, Days, Months, NaiveDate};

use crate::spells::Spell;

/// § 191 BGB: a year of a cumulative period counts 365 days.
pub const DAYS_PER_YEAR: i64 = 365;
/// § 191 BGB: a month of a cumulative period counts 30 days.
pub const DAYS_PER_MONTH: i64 = 30;

/// Days of a cumulative period of `years` years (§ 191 BGB).
pub const fn years_as_days(years: i64) -> i64 {
    years * DAYS_PER_YEAR
}

/// Days of a cumulative period of `months` months (§ 191 BGB).
pub const fn months_as_days(months: i64) -> i64 {
    months * DAYS_PER_MONTH
}

/// The day `months` months after `start` that corresponds to it, or `None` where that month
/// has no such day (31 January + 1 month).
fn corresponding_day(start: NaiveDate, months: u32) -> Option<NaiveDate> {
    let target = start.with_day(1)?.checked_add_months(Months::new(months))?;
    target.with_day(start.day())
}

/// Last day of the month of `day`.
pub fn end_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1)
        .and_then(|f| f.checked_add_months(Months::new(1)))
        .and_then(|n| n.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

/// The last day of a period of `months` months that begins with the whole day `start`
/// (§ 187 Abs. 2, § 188 Abs. 2 and 3 BGB): 1 January + 12 months ends on 31 December;
/// 31 January + 1 month ends on the last day of February.
pub fn period_end(start: NaiveDate, months: u32) -> NaiveDate {
    match corresponding_day(start, months) {
        Some(day) => day.pred_opt().unwrap_or(day),
        None => start
            .with_day(1)
            .and_then(|f| f.checked_add_months(Months::new(months)))
            .map(end_of_month)
            .unwrap_or(NaiveDate::MAX),
    }
}

/// The last day of a period of `years` years that begins with `start` (§ 188 Abs. 2 BGB).
pub fn period_end_years(start: NaiveDate, years: u32) -> NaiveDate {
    period_end(start, years.saturating_mul(12))
}

/// The day at whose end a person born on `date_of_birth` completes an age of `months`
/// months (§ 187 Abs. 2 Satz 2, § 188 Abs. 2 BGB): the day before the birthday of that age.
pub fn age_completed_on(date_of_birth: NaiveDate, months: u32) -> NaiveDate {
    period_end(date_of_birth, months)
}

/// Completed years of life on `on` (the person's age that day): a person has age `n` from
/// the day after the `n`th year is completed, i.e. from the birthday on.
pub fn completed_years(date_of_birth: NaiveDate, on: NaiveDate) -> i32 {
    if on < date_of_birth {
        return -1;
    }
    let mut years = on.year() - date_of_birth.year();
    // the year is completed at the end of the day before the birthday (or of 28 February
    // for a birthday on 29 February in a common year)
    while years > 0 && age_completed_on(date_of_birth, years as u32 * 12) >= on {
        years -= 1;
    }
    years
}

/// The last day before `on`, saturating.
pub fn day_before(on: NaiveDate) -> NaiveDate {
    on.pred_opt().unwrap_or(on)
}

/// The window of `days` days that ends with the day before `on`: `[on - days, on - 1]`.
pub fn window_before(on: NaiveDate, days: i64) -> (NaiveDate, NaiveDate) {
    let start = on
        .checked_sub_days(Days::new(days.max(0) as u64))
        .unwrap_or(NaiveDate::MIN);
    (start, day_before(on))
}

/// Days in `[start, end]`, both inclusive (0 when `end` is before `start`).
pub fn days_inclusive(start: NaiveDate, end: NaiveDate) -> i64 {
    if end < start {
        0
    } else {
        (end - start).num_days() + 1
    }
}

/// Days covered by `spells` in the `window_days` days before `on` (§ 191 BGB counting;
/// overlapping spells count once).
pub fn covered_days_before(spells: &[Spell], on: NaiveDate, window_days: i64) -> i64 {
    let (start, end) = window_before(on, window_days);
    crate::spells::covered_days(spells, start, end)
}

/// Formats a date as German readers expect it (`31.12.2024`).
pub fn fmt_date(date: NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_end_the_day_before_the_corresponding_day() {
        assert_eq!(period_end(d("2020-01-01"), 12), d("2020-12-31"));
        assert_eq!(period_end(d("2021-03-15"), 1), d("2021-04-14"));
        // the corresponding day is missing: the last day of that month (§ 188 Abs. 3 BGB)
        assert_eq!(period_end(d("2021-01-31"), 1), d("2021-02-28"));
        assert_eq!(period_end(d("2024-01-30"), 1), d("2024-02-29"));
        assert_eq!(period_end(d("2023-01-29"), 1), d("2023-02-28"));
        assert_eq!(period_end_years(d("2020-02-29"), 1), d("2021-02-28"));
    }

    #[test]
    fn age_is_completed_at_the_end_of_the_day_before_the_birthday() {
        assert_eq!(completed_years(d("2000-05-01"), d("2025-04-30")), 24);
        assert_eq!(completed_years(d("2000-05-01"), d("2025-05-01")), 25);
        assert_eq!(age_completed_on(d("1960-05-01"), 65 * 12), d("2025-04-30"));
        // 29 February: the year is completed at the end of 28 February in a common year
        assert_eq!(completed_years(d("2004-02-29"), d("2029-02-28")), 24);
        assert_eq!(completed_years(d("2004-02-29"), d("2029-03-01")), 25);
        assert_eq!(completed_years(d("2004-02-29"), d("2028-02-29")), 24);
        assert_eq!(completed_years(d("2010-06-15"), d("2010-06-15")), 0);
        assert_eq!(completed_years(d("2010-06-15"), d("2010-06-14")), -1);
    }

    #[test]
    fn cumulative_years_count_365_days() {
        assert_eq!(years_as_days(6), 2_190);
        assert_eq!(years_as_days(7), 2_555);
        assert_eq!(months_as_days(24), 720);
        let on = d("2026-07-01");
        let (start, end) = window_before(on, 2_555);
        assert_eq!(end, d("2026-06-30"));
        assert_eq!(days_inclusive(start, end), 2_555);
    }
}
