//! Target groups (*Zielgruppen*) of the AMIP 2021, derived from a customer's records as of
//! a date. They are never stored: a stored flag goes stale the day a spell ends.

use crate::ids::CustomerId;
use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::customer::{CustomerData, VocationalQualification};
use crate::household::{is_single_parent, HouseholdMember};
use crate::spells::{covered_days, merged, Spell};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetGroup {
    U25,
    SingleParent,
    LongTermRecipient,
    LongTermUnemployed,
    Refugee,
    Health,
    RehabDisabled,
    SoloSelfEmployed,
    NoVocationalQualification,
    MigrationBackground,
}

impl TargetGroup {
    pub const ALL: [TargetGroup; 10] = [
        TargetGroup::U25,
        TargetGroup::SingleParent,
        TargetGroup::LongTermRecipient,
        TargetGroup::LongTermUnemployed,
        TargetGroup::Refugee,
        TargetGroup::Health,
        TargetGroup::RehabDisabled,
        TargetGroup::SoloSelfEmployed,
        TargetGroup::NoVocationalQualification,
        TargetGroup::MigrationBackground,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetGroup::U25 => "u25",
            TargetGroup::SingleParent => "single_parent",
            TargetGroup::LongTermRecipient => "long_term_recipient",
            TargetGroup::LongTermUnemployed => "long_term_unemployed",
            TargetGroup::Refugee => "refugee",
            TargetGroup::Health => "health",
            TargetGroup::RehabDisabled => "rehab_disabled",
            TargetGroup::SoloSelfEmployed => "solo_self_employed",
            TargetGroup::NoVocationalQualification => "no_vocational_qualification",
            TargetGroup::MigrationBackground => "migration_background",
        }
    }
}

impl TargetGroup {
    /// Whether the group may take part in a decision (gate an offer, add points).
    /// `migration_background` is derived from nationality: a proxy of it, counted in
    /// statistics only (Art. 3 Abs. 3 GG, § 1 AGG, Art. 9 DSGVO; domain rules, "Equal
    /// treatment").
    pub fn may_decide(self) -> bool {
        self != TargetGroup::MigrationBackground
    }
}

/// U25 is not a legal term; the rules key on an age below 25.
pub const U25_AGE_LIMIT: i32 = 25;
/// LZB (Verordnung zur Festlegung der Kennzahlen nach § 48a SGB II, Anlage, K3): an eLb
/// aged 17 or more, in need on at least 21 of the last 24 months — the BA counts 638 of 730
/// days — and eLb on the reference day. Valid since 1.1.2011.
pub const LZB_WINDOW_DAYS: u64 = 730;
pub const LZB_MIN_DAYS: i64 = 638;
pub const LZB_MIN_AGE: i32 = 17;
/// LZA: unemployed for one year or more (§ 18 Abs. 1 Satz 1 SGB III).
pub const LZA_MIN_MONTHS: u32 = 12;
/// § 18 Abs. 1 Satz 2 SGB III: a § 45 measure, illness and other non-employment of up to
/// six weeks do not interrupt the unemployment. Without a recorded reason, a gap of up to
/// six weeks between two unemployment spells is taken as such a period.
pub const LZA_HARMLESS_GAP_DAYS: i64 = 42;
/// § 18 Abs. 2 SGB III: for benefits that require long-term unemployment, interruptions of
/// up to six months within the last five years (among them employment and self-employment)
/// are left out: they neither count nor restart the period. Counted as 180 days (§ 191 BGB).
pub const LZA_IGNORED_INTERRUPTIONS_DAYS: i64 = 180;
pub const LZA_LOOKBACK_YEARS: u32 = 5;

/// How § 18 SGB III counts an unemployment for the question asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// § 18 Abs. 1: the statistical long-term unemployment (the target group).
    Statistical,
    /// § 18 Abs. 1 and 2: for a benefit that requires long-term unemployment (§ 16e SGB II,
    /// MAG for 12 weeks).
    ForBenefit,
}

/// The unemployment running on `as_of`, as § 18 SGB III counts it: its first day and the
/// days of interruptions left out (§ 18 Abs. 2), or `None` when not unemployed that day.
/// `measures` are the periods of § 45 measures (they do not interrupt, Abs. 1 Satz 2),
/// `work` the periods of employment and self-employment (Abs. 2 Nr. 4 when counting
/// `ForBenefit`).
pub fn unemployment_on(
    unemployment: &[Spell],
    measures: &[Spell],
    work: &[Spell],
    as_of: NaiveDate,
    counting: Counting,
) -> Option<(NaiveDate, i64)> {
    let spells = merged(unemployment, 0);
    let idx = spells.iter().position(|s| s.covers(as_of))?;
    let lookback = as_of
        .checked_sub_months(Months::new(12 * LZA_LOOKBACK_YEARS))
        .unwrap_or(NaiveDate::MIN);
    let mut start = spells[idx].from;
    let mut ignored = 0i64;
    let mut ignored_work = 0i64;
    let measures_and_work: Vec<Spell> = measures.iter().chain(work).copied().collect();
    for prev in spells[..idx].iter().rev() {
        let Some(prev_end) = prev.to else { break };
        let (Some(gap_from), Some(gap_to)) = (prev_end.succ_opt(), start.pred_opt()) else {
            start = prev.from;
            continue;
        };
        if gap_to < gap_from {
            start = prev.from;
            continue;
        }
        let gap = crate::dates::days_inclusive(gap_from, gap_to);
        let worked = covered_days(work, gap_from, gap_to);
        let measured = covered_days(measures, gap_from, gap_to);
        if worked == 0 && (gap <= LZA_HARMLESS_GAP_DAYS || measured == gap) {
            // Abs. 1 Satz 2: a § 45 measure, or illness and other non-employment of up to
            // six weeks, does not interrupt; the days count. A job in the gap is no
            // "Nicht-Erwerbstätigkeit".
            start = prev.from;
            continue;
        }
        let explained = covered_days(&measures_and_work, gap_from, gap_to) == gap;
        if counting == Counting::ForBenefit
            && explained
            && gap_from >= lookback
            && ignored_work + worked <= LZA_IGNORED_INTERRUPTIONS_DAYS
        {
            // Abs. 2 Nr. 1 (measures) and Nr. 5 (work up to six months in all): left out,
            // neither counted nor restarting the period
            ignored += gap;
            ignored_work += worked;
            start = prev.from;
            continue;
        }
        break;
    }
    Some((start, ignored))
}

/// Whether an unemployment found by [`unemployment_on`] has lasted `months` months by the
/// start of `as_of`: the period (moved on by the days left out) ended before that day
/// (§ 188 Abs. 2 BGB). Unemployed since 1 January, a year is complete at the end of
/// 31 December, so the customer counts as long-term unemployed from 1 January on.
pub fn lasted_months(found: Option<(NaiveDate, i64)>, as_of: NaiveDate, months: u32) -> bool {
    found.is_some_and(|(from, ignored)| {
        let from = from
            .checked_add_days(Days::new(ignored.max(0) as u64))
            .unwrap_or(NaiveDate::MAX);
        crate::dates::period_end(from, months) < as_of
    })
}

/// The periods of § 45 SGB III measures among `parts` (they do not interrupt
/// unemployment, § 18 Abs. 1 Satz 2 SGB III).
pub fn measure_spells<'a>(
    parts: impl Iterator<Item = crate::participation::Participation<'a>>,
) -> Vec<Spell> {
    parts
        .filter(|p| is_section_45_measure(p.instrument_code))
        .map(|p| p.spell())
        .collect()
}

/// The § 45 measures among the customer's prior participations (the rules add the
/// placements in the system; the target group knows the record alone).
fn prior_measures(customer: &CustomerData) -> Vec<Spell> {
    measure_spells(crate::participation::all(&[], &customer.prior_participations))
}

/// Measures of § 45 SGB III (AVGS at a provider or an employer).
pub fn is_section_45_measure(code: &str) -> bool {
    matches!(code, "AVGS_MAT" | "MAG")
}

/// The unemployment running on `as_of` as the statistics count it (§ 18 Abs. 1 SGB III;
/// the record's own § 45 participations bridge, work interrupts).
fn statistical_unemployment(customer: &CustomerData, as_of: NaiveDate) -> Option<(NaiveDate, i64)> {
    unemployment_on(
        &customer.unemployment_spells,
        &prior_measures(customer),
        &work_spells(customer),
        as_of,
        Counting::Statistical,
    )
}

/// First day of the unemployment that is running on `as_of` (§ 18 Abs. 1 SGB III
/// counting); `None` when not unemployed on that day.
pub fn unemployed_since(customer: &CustomerData, as_of: NaiveDate) -> Option<NaiveDate> {
    statistical_unemployment(customer, as_of).map(|(from, _)| from)
}

/// Employment and self-employment: work in a gap interrupts the unemployment (§ 18 Abs. 1
/// SGB III), unless § 18 Abs. 2 leaves it out.
pub fn work_spells(customer: &CustomerData) -> Vec<Spell> {
    customer
        .employment_spells
        .iter()
        .chain(&customer.self_employment_spells)
        .copied()
        .collect()
}

/// Whether the customer has been unemployed for at least `months` months by `as_of`
/// (§ 18 Abs. 1 SGB III, § 188 Abs. 2 BGB).
pub fn unemployed_for_months(customer: &CustomerData, as_of: NaiveDate, months: u32) -> bool {
    lasted_months(statistical_unemployment(customer, as_of), as_of, months)
}

/// LZB on `as_of`: aged 17 or more, eLb that day (a benefit spell running), and in need on
/// at least 638 of the 730 days ending that day.
pub fn is_long_term_recipient(customer: &CustomerData, as_of: NaiveDate) -> bool {
    // days of eLb status only: from the 15th birthday (§ 7 Abs. 1 Satz 1 Nr. 1 SGB II)
    let fifteen = crate::dates::age_completed_on(customer.date_of_birth, 15 * 12)
        .succ_opt()
        .unwrap_or(NaiveDate::MAX);
    let start = as_of
        .checked_sub_days(Days::new(LZB_WINDOW_DAYS - 1))
        .unwrap_or(NaiveDate::MIN)
        .max(fifteen);
    customer.age_on(as_of) >= LZB_MIN_AGE
        && customer.benefit_spells.iter().any(|s| s.covers(as_of))
        && covered_days(&customer.benefit_spells, start, as_of) >= LZB_MIN_DAYS
}

/// The target groups a customer belongs to on `as_of`, in a stable order.
pub fn derive(
    customer_id: CustomerId,
    customer: &CustomerData,
    household: &[HouseholdMember],
    as_of: NaiveDate,
) -> Vec<TargetGroup> {
    let mut groups = Vec::new();
    let age = customer.age_on(as_of);
    if (0..U25_AGE_LIMIT).contains(&age) {
        groups.push(TargetGroup::U25);
    }
    if is_single_parent(customer_id, household, as_of) {
        groups.push(TargetGroup::SingleParent);
    }
    if is_long_term_recipient(customer, as_of) {
        groups.push(TargetGroup::LongTermRecipient);
    }
    if unemployed_for_months(customer, as_of, LZA_MIN_MONTHS) {
        groups.push(TargetGroup::LongTermUnemployed);
    }
    if customer.refugee {
        groups.push(TargetGroup::Refugee);
    }
    if customer.health_restrictions {
        groups.push(TargetGroup::Health);
    }
    if customer.rehabilitant || customer.severely_disabled {
        groups.push(TargetGroup::RehabDisabled);
    }
    if customer.solo_self_employed {
        groups.push(TargetGroup::SoloSelfEmployed);
    }
    // The BA's "ohne abgeschlossene Berufsausbildung": none, or started but not completed.
    if matches!(
        customer.vocational_qualification,
        VocationalQualification::None | VocationalQualification::Partial
    ) {
        groups.push(TargetGroup::NoVocationalQualification);
    }
    // The record holds nationality only; the AMIP counts "andere Staatsangehörigkeit"
    // (seed, chapter 2). Refugees count as well, whatever their recorded nationality.
    // Counted in reports only: `may_decide` keeps it out of every decision.
    if customer.nationality != "DE" || customer.refugee {
        groups.push(TargetGroup::MigrationBackground);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{Gender, GermanLevel};
    use crate::household::HouseholdRole;
    use crate::spells::Spell;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn customer() -> CustomerData {
        CustomerData {
            customer_number: "K1".into(),
            first_name: "Erika".into(),
            last_name: "Muster".into(),
            date_of_birth: d("1990-03-15"),
            gender: Gender::Female,
            nationality: "DE".into(),
            postal_code: None,
            district: None,
            vocational_qualification: VocationalQualification::Vocational,
            german_level: GermanLevel::Native,
            health_restrictions: false,
            severely_disabled: false,
            rehabilitant: false,
            refugee: false,
            solo_self_employed: false,
            benefit_spells: vec![],
            unemployment_spells: vec![],
            employment_spells: vec![],
            self_employment_spells: vec![],
            prior_participations: vec![],
            job_ready: false,
            seriously_impeded_placement: false,
            contact: Default::default(),
            legal_hold: false,
        }
    }

    fn groups(c: &CustomerData, on: &str) -> Vec<TargetGroup> {
        derive(CustomerId::default(), c, &[], d(on))
    }

    #[test]
    fn u25_ends_on_the_25th_birthday() {
        let c = customer();
        assert!(groups(&c, "2015-03-14").contains(&TargetGroup::U25));
        assert!(!groups(&c, "2015-03-15").contains(&TargetGroup::U25));
    }

    #[test]
    fn lzb_needs_638_of_730_days() {
        let mut c = customer();
        let as_of = d("2021-12-31");
        // 638 days up to and including the day, eLb that day
        c.benefit_spells = vec![Spell::new(as_of - chrono::Duration::days(637), None)];
        assert!(is_long_term_recipient(&c, as_of), "638 days count");
        c.benefit_spells = vec![Spell::new(as_of - chrono::Duration::days(636), None)];
        assert!(!is_long_term_recipient(&c, as_of), "637 days do not");
        // in need on enough days, but not eLb on the reference day
        c.benefit_spells = vec![Spell::new(
            as_of - chrono::Duration::days(700),
            Some(as_of - chrono::Duration::days(1)),
        )];
        assert!(!is_long_term_recipient(&c, as_of), "not eLb on the day");
        // aged 17 or more (BA method): 16-year-olds are not counted
        let mut young = customer();
        young.date_of_birth = d("2005-01-01");
        young.benefit_spells = vec![Spell::new(d("2005-01-01"), None)];
        assert!(!is_long_term_recipient(&young, d("2021-12-31")));
        assert!(is_long_term_recipient(&young, d("2022-01-01")));
    }

    #[test]
    fn lza_counts_a_year_and_bridges_short_gaps() {
        let mut c = customer();
        c.unemployment_spells = vec![Spell::new(d("2020-01-01"), None)];
        // the year is complete at the end of 31 December (§ 188 Abs. 2 BGB)
        assert!(!groups(&c, "2020-12-31").contains(&TargetGroup::LongTermUnemployed));
        assert!(groups(&c, "2021-01-01").contains(&TargetGroup::LongTermUnemployed));
        // a six-week illness does not interrupt (§ 18 Abs. 2 SGB III)
        c.unemployment_spells = vec![
            Spell::new(d("2020-01-01"), Some(d("2020-06-30"))),
            Spell::new(d("2020-08-12"), None),
        ];
        assert!(groups(&c, "2021-01-15").contains(&TargetGroup::LongTermUnemployed));
        // a longer gap does
        c.unemployment_spells = vec![
            Spell::new(d("2020-01-01"), Some(d("2020-06-30"))),
            Spell::new(d("2020-09-01"), None),
        ];
        assert!(!groups(&c, "2021-01-15").contains(&TargetGroup::LongTermUnemployed));
    }

    #[test]
    fn flags_and_qualification_map_to_groups() {
        let mut c = customer();
        assert!(groups(&c, "2021-01-01").is_empty());
        c.vocational_qualification = VocationalQualification::Partial;
        c.nationality = "SY".into();
        c.refugee = true;
        c.health_restrictions = true;
        c.severely_disabled = true;
        c.solo_self_employed = true;
        let g = groups(&c, "2021-01-01");
        for tg in [
            TargetGroup::NoVocationalQualification,
            TargetGroup::MigrationBackground,
            TargetGroup::Refugee,
            TargetGroup::Health,
            TargetGroup::RehabDisabled,
            TargetGroup::SoloSelfEmployed,
        ] {
            assert!(g.contains(&tg), "{tg:?}");
        }
    }

    #[test]
    fn single_parent_comes_from_the_household() {
        let c = customer();
        let id = CustomerId::new();
        let bg = vec![
            HouseholdMember {
                id: crate::ids::MemberId::new(),
                customer_id: Some(id),
                role: HouseholdRole::Applicant,
                date_of_birth: c.date_of_birth,
            },
            HouseholdMember {
                id: crate::ids::MemberId::new(),
                customer_id: None,
                role: HouseholdRole::Child,
                date_of_birth: d("2015-01-01"),
            },
        ];
        assert!(derive(id, &c, &bg, d("2021-01-01")).contains(&TargetGroup::SingleParent));
    }
}
