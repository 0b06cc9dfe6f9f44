//! Target groups (*Zielgruppen*) of the AMIP 2021, derived from a customer's records as of
//! a date. They are never stored: a stored flag goes stale the day a spell ends.

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::customer::{CustomerData, VocationalQualification};
use crate::household::{is_single_parent, HouseholdMember};
use crate::spells::{covered_days, merged};

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

/// U25 is not a legal term; the rules key on an age below 25.
pub const U25_AGE_LIMIT: i32 = 25;
/// LZB: in need for at least 21 of the last 24 months; the BA counts ≥ 638 of 730 days
/// (Kennzahlen regulation to § 48a SGB II, BA method notes). Valid since 2011.
pub const LZB_WINDOW_DAYS: u64 = 730;
pub const LZB_MIN_DAYS: i64 = 638;
/// LZA: unemployed for one year or more (§ 18 Abs. 1 SGB III), counted in calendar
/// months (§ 26 SGB X with §§ 187, 188 BGB).
pub const LZA_MIN_MONTHS: u32 = 12;
/// Interruptions that do not end unemployment (§ 18 Abs. 2 SGB III: e.g. illness up to
/// six weeks, § 45 measures). Without recorded reasons, a gap of up to six weeks between
/// two unemployment spells is treated as such an interruption.
pub const LZA_HARMLESS_GAP_DAYS: i64 = 42;

/// First day of the unemployment that is running on `as_of` (§ 18 SGB III counting,
/// harmless interruptions bridged); `None` when not unemployed on that day.
pub fn unemployed_since(customer: &CustomerData, as_of: NaiveDate) -> Option<NaiveDate> {
    merged(&customer.unemployment_spells, LZA_HARMLESS_GAP_DAYS)
        .iter()
        .find(|s| s.covers(as_of))
        .map(|s| s.from)
}

/// Whether the customer has been unemployed for at least `months` full calendar months on
/// `as_of`: a period starting on 1 January is a full year at the end of 31 December
/// (§ 188 Abs. 2 BGB).
pub fn unemployed_for_months(customer: &CustomerData, as_of: NaiveDate, months: u32) -> bool {
    unemployed_since(customer, as_of)
        .and_then(|from| from.checked_add_months(Months::new(months)))
        .is_some_and(|complete_after| as_of >= complete_after - Days::new(1))
}

/// Whether the customer was in need on at least 638 of the 730 days ending on `as_of`.
pub fn is_long_term_recipient(customer: &CustomerData, as_of: NaiveDate) -> bool {
    let start = as_of
        .checked_sub_days(Days::new(LZB_WINDOW_DAYS - 1))
        .unwrap_or(NaiveDate::MIN);
    covered_days(&customer.benefit_spells, start, as_of) >= LZB_MIN_DAYS
}

/// The target groups a customer belongs to on `as_of`, in a stable order.
pub fn derive(
    customer_id: Uuid,
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
        }
    }

    fn groups(c: &CustomerData, on: &str) -> Vec<TargetGroup> {
        derive(Uuid::nil(), c, &[], d(on))
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
        // window is 2020-01-01 ..= 2021-12-31 (731 days in a leap window: 730 days back)
        let start = as_of - chrono::Duration::days(729);
        c.benefit_spells = vec![Spell::new(start, Some(start + chrono::Duration::days(637)))];
        assert!(is_long_term_recipient(&c, as_of), "638 days count");
        c.benefit_spells = vec![Spell::new(start, Some(start + chrono::Duration::days(636)))];
        assert!(!is_long_term_recipient(&c, as_of), "637 days do not");
    }

    #[test]
    fn lza_counts_a_year_and_bridges_short_gaps() {
        let mut c = customer();
        c.unemployment_spells = vec![Spell::new(d("2020-01-01"), None)];
        assert!(!groups(&c, "2020-12-30").contains(&TargetGroup::LongTermUnemployed));
        assert!(groups(&c, "2020-12-31").contains(&TargetGroup::LongTermUnemployed));
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
        let id = Uuid::now_v7();
        let bg = vec![
            HouseholdMember {
                id: Uuid::now_v7(),
                customer_id: Some(id),
                role: HouseholdRole::Applicant,
                date_of_birth: c.date_of_birth,
            },
            HouseholdMember {
                id: Uuid::now_v7(),
                customer_id: None,
                role: HouseholdRole::Child,
                date_of_birth: d("2015-01-01"),
            },
        ];
        assert!(derive(id, &c, &bg, d("2021-01-01")).contains(&TargetGroup::SingleParent));
    }
}
