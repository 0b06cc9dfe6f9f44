//! Eligibility: one rule set per instrument, evaluated as of a reference date from the
//! customer's history, each rule answering passed or failed with a reason a person can
//! read, the legal source that anyone can check, and the period the rule is valid for.
//!
//! Every rule is a [`Rule`] constant below: its identifier, source, validity and what a
//! failure means ([`Kind`]): a legal limit nobody overrides, a discretion the law leaves
//! to the deciding specialist (who may decide otherwise with a recorded reason), or a
//! competence of another authority (the customer is referred). `docs/legal-rules.md`
//! lists them all with the sources that were read.
//!
//! Dates are counted as the BGB counts them ([`crate::dates`]). Figures that are
//! administrative practice are [`RuleParams`]; they are versioned with validity dates
//! ([`RuleBook`]), so a decision as of a past day uses the parameters of that day.

use crate::ids::{CustomerId, ProviderId};
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::customer::{CustomerData, VocationalQualification};
use crate::dates::{
    self, completed_years, day_before, days_inclusive, fmt_date, months_as_days, period_end,
    period_end_years, years_as_days,
};
use crate::household::{minor_children, HouseholdMember};
use crate::offer::{OfferData, OfferStatus};
pub use crate::participation::PastPlacement;
use crate::participation::{self, Participation};
use crate::provider::ProviderData;
use crate::spells::{covered_days, Spell};
use crate::target_groups::{self, Counting, TargetGroup};

/// The version of the rule set in this build. A stored verdict names it, so a later
/// reader knows which rules decided.
pub const RULES_VERSION: &str = "2026-12-01";

const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(day) => day,
        None => panic!("invalid constant date"),
    }
}

/// Haushaltsfinanzierungsgesetz 2024 (G v. 22.12.2023, BGBl. 2023 I Nr. 412): from this
/// day the Agentur für Arbeit, not the Jobcenter, decides FbW and Reha for eLb
/// (§ 16 Abs. 1 Satz 2 Nr. 4 SGB II a.F. repealed; § 5 Abs. 4, § 22 Abs. 4 SGB III).
pub const AGENTUR_DECIDES_FBW_REHA_FROM: NaiveDate = date(2025, 1, 1);
/// The placement-first rule of the 13. SGB II-Änderungsgesetz ("Neue Grundsicherung",
/// passed by the Bundestag on 5.3.2026) applies from this day.
pub const PLACEMENT_FIRST_FROM: NaiveDate = date(2026, 7, 1);
/// § 54a Abs. 2 SGB III: an EQ lasts 4 to 12 months from this day, 6 to 12 before.
pub const EQ_FOUR_MONTHS_FROM: NaiveDate = date(2024, 4, 1);

/// What a failed rule means for the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A legal prerequisite or limit: nobody may decide otherwise.
    Limit,
    /// A discretion the law leaves to the deciding specialist: they may decide
    /// otherwise with a recorded reason (an exception).
    Discretion,
    /// Another authority decides (FbW and Reha from 2025: the Agentur für Arbeit): the
    /// Jobcenter refers the customer.
    Competence,
}

/// One rule: what it is called, where it comes from, when it is valid, and what a failure
/// means. Its outcome for a customer is a [`Reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub source: &'static str,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub kind: Kind,
}

const fn rule(id: &'static str, source: &'static str, valid_from: Option<NaiveDate>, kind: Kind) -> Rule {
    Rule {
        id,
        source,
        valid_from,
        valid_until: None,
        kind,
    }
}

const SINCE_2005: Option<NaiveDate> = Some(date(2005, 1, 1));
const SINCE_2019: Option<NaiveDate> = Some(date(2019, 1, 1));
use Kind::{Competence, Discretion, Limit};

/// Every rule of this build, for the documentation and its test.
pub const RULES: &[Rule] = &[
    ELB_AGE,
    ELB_BENEFIT,
    PLACEMENT_FIRST,
    P16I_IN_FORCE,
    P16I_AGE,
    P16I_BENEFIT,
    P16I_SHORT_EMPLOYMENT,
    P16I_CAP,
    P16I_PLANNED_LENGTH,
    P16E_IN_FORCE,
    P16E_UNEMPLOYED,
    P16E_CONTRACT,
    FORMER_EMPLOYER,
    AGH_CAP,
    AGH_EXTENSION_LIMIT,
    AGH_PLANNED_CAP,
    AGH_PLANNED_LIMIT,
    AVGS_DISCRETION,
    AVGS_PROVIDER_APPROVED,
    AVGS_MEASURE_APPROVED,
    MAG_DURATION,
    FBW_COMPETENCE,
    FBW_NECESSITY,
    FBW_THREE_YEARS,
    FBW_PROVIDER_APPROVED,
    FBW_MEASURE_APPROVED,
    REHA_COMPETENCE,
    REHA_STATUS,
    ESG_WORK,
    ESG_DURATION,
    EGZ_DURATION,
    EGZ_SEVERELY_AFFECTED,
    EQ_DURATION,
    EQ_SAME_FIRM,
    ASA_AGE,
    ASA_QUALIFICATION,
    BAE_AGE,
    BAE_QUALIFICATION,
    P16H_AGE,
    P16C_SELF_EMPLOYED,
    P16F_HEALTH_SCOPE,
    OFFER_OPEN,
    OFFER_AGE,
    OFFER_GERMAN_MIN,
    OFFER_GERMAN_MAX,
    OFFER_TARGET_GROUPS,
];

// ---- general rules -------------------------------------------------------------------

pub const ELB_AGE: Rule = rule(
    "elb.age",
    "§ 7 Abs. 1 Satz 1 Nr. 1, § 7a SGB II; §§ 187 Abs. 2, 188 Abs. 2 BGB",
    SINCE_2005,
    Limit,
);
pub const ELB_BENEFIT: Rule = rule(
    "elb.benefit_on_day",
    "§ 7 Abs. 1 Satz 1 SGB II (eLb on the decision day: a benefit spell running)",
    SINCE_2005,
    Limit,
);
pub const PLACEMENT_FIRST: Rule = rule(
    "placement_first",
    "§ 3 Abs. 1 SGB II i.d.F. des 13. SGB II-Änderungsgesetzes (Vermittlungsvorrang; in force 1.7.2026)",
    Some(PLACEMENT_FIRST_FROM),
    Discretion,
);

// ---- § 16i SGB II --------------------------------------------------------------------

pub const P16I_IN_FORCE: Rule = rule(
    "p16i.in_force",
    "§ 16i SGB II (Teilhabechancengesetz v. 17.12.2018, BGBl. I S. 2583; unbefristet seit 1.1.2023, § 81 SGB II a.F. weggefallen)",
    SINCE_2019,
    Limit,
);
pub const P16I_AGE: Rule = rule(
    "p16i.age_25",
    "§ 16i Abs. 3 Satz 1 Nr. 1 SGB II",
    SINCE_2019,
    Limit,
);
pub const P16I_BENEFIT: Rule = rule(
    "p16i.benefit_years",
    "§ 16i Abs. 3 Satz 1 Nr. 2, Satz 3 SGB II; § 191 BGB",
    SINCE_2019,
    Limit,
);
pub const P16I_SHORT_EMPLOYMENT: Rule = rule(
    "p16i.short_employment_only",
    "§ 16i Abs. 3 Satz 1 Nr. 3 SGB II; 'kurzzeitig': practice (parameter)",
    SINCE_2019,
    Limit,
);
pub const P16I_CAP: Rule = rule(
    "p16i.cap_5_years",
    "§ 16i Abs. 3 Satz 1 Nr. 4, Abs. 2 Satz 1 SGB II; § 191 BGB",
    SINCE_2019,
    Limit,
);
pub const P16I_PLANNED_LENGTH: Rule = rule(
    "p16i.planned_length",
    "§ 16i Abs. 3 Satz 1 Nr. 4, Abs. 8 SGB II; §§ 188, 191 BGB",
    SINCE_2019,
    Limit,
);

// ---- § 16e SGB II --------------------------------------------------------------------

pub const P16E_IN_FORCE: Rule = rule(
    "p16e.in_force",
    "§ 16e SGB II i.d.F. des Teilhabechancengesetzes (seit 1.1.2019)",
    SINCE_2019,
    Limit,
);
pub const P16E_UNEMPLOYED: Rule = rule(
    "p16e.unemployed_2_years",
    "§ 16e Abs. 1 Satz 1, 2 SGB II i.V.m. § 18 SGB III",
    SINCE_2019,
    Limit,
);
pub const P16E_CONTRACT: Rule = rule(
    "p16e.contract_2_years",
    "§ 16e Abs. 1 Satz 1 SGB II (Arbeitsverhältnis für mindestens zwei Jahre)",
    SINCE_2019,
    Limit,
);
/// EGZ and § 16e: not at a former employer with more than three months of insured
/// employment in the four years before the start.
pub const FORMER_EMPLOYER: Rule = rule(
    "former_employer_4_years",
    "§ 92 Abs. 1 Nr. 2 SGB III (for § 16e: § 16e Abs. 3 Satz 1 SGB II); § 191 BGB",
    SINCE_2019,
    Limit,
);

// ---- § 16d SGB II (AGH) --------------------------------------------------------------

pub const AGH_CAP: Rule = rule(
    "agh.cap_24_months",
    "§ 16d Abs. 6 Satz 1, 2 SGB II (five years from the first entry); § 191 BGB",
    Some(date(2016, 8, 1)),
    Discretion,
);
pub const AGH_EXTENSION_LIMIT: Rule = rule(
    "agh.extension_limit",
    "§ 16d Abs. 6 Satz 3 SGB II (at most 12 more months)",
    Some(date(2016, 8, 1)),
    Limit,
);
/// An AGH with fixed entry: its own days count against the cap and the limit too.
pub const AGH_PLANNED_CAP: Rule = rule(
    "agh.planned_within_cap",
    "§ 16d Abs. 6 Satz 1, 2 SGB II; § 191 BGB",
    Some(date(2016, 8, 1)),
    Discretion,
);
pub const AGH_PLANNED_LIMIT: Rule = rule(
    "agh.planned_within_limit",
    "§ 16d Abs. 6 Satz 3 SGB II",
    Some(date(2016, 8, 1)),
    Limit,
);

// ---- § 16 Abs. 1 SGB II i.V.m. § 45 SGB III ------------------------------------------

pub const AVGS_DISCRETION: Rule = rule(
    "avgs.discretionary",
    "§ 16 Abs. 1 Satz 2 Nr. 2 SGB II i.V.m. § 45 Abs. 1 SGB III (Ermessen)",
    SINCE_2005,
    Limit,
);
pub const AVGS_PROVIDER_APPROVED: Rule = rule(
    "avgs.provider_approved",
    "§ 45 Abs. 4 Satz 3 Nr. 1, § 176 Abs. 1, § 178 SGB III (AZAV)",
    Some(date(2012, 4, 1)),
    Limit,
);
pub const AVGS_MEASURE_APPROVED: Rule = rule(
    "avgs.measure_approved",
    "§ 45 Abs. 4 Satz 3 Nr. 1, § 179 SGB III (AZAV)",
    Some(date(2012, 4, 1)),
    Limit,
);
pub const MAG_DURATION: Rule = rule(
    "mag.duration",
    "§ 45 Abs. 2 Satz 2, Abs. 8 SGB III",
    Some(date(2012, 4, 1)),
    Limit,
);

// ---- FbW and Reha --------------------------------------------------------------------

pub const FBW_COMPETENCE: Rule = rule(
    "fbw.competence",
    "§ 16 Abs. 1 SGB II i.d.F. des Haushaltsfinanzierungsgesetzes 2024 (BGBl. 2023 I Nr. 412); § 66a i.V.m. § 66 Abs. 1 SGB II",
    Some(AGENTUR_DECIDES_FBW_REHA_FROM),
    Competence,
);
pub const FBW_NECESSITY: Rule = rule(
    "fbw.necessity",
    "§ 81 Abs. 1 Satz 1 Nr. 1, 2 SGB III",
    SINCE_2005,
    Limit,
);
pub const FBW_THREE_YEARS: Rule = rule(
    "fbw.three_year_rule",
    "§ 81 Abs. 2 Satz 2 SGB III; § 191 BGB",
    SINCE_2005,
    Discretion,
);
pub const FBW_PROVIDER_APPROVED: Rule = rule(
    "fbw.provider_approved",
    "§ 81 Abs. 1 Satz 1 Nr. 3, § 176 Abs. 1, § 178 SGB III (AZAV)",
    Some(date(2012, 4, 1)),
    Limit,
);
pub const FBW_MEASURE_APPROVED: Rule = rule(
    "fbw.measure_approved",
    "§ 81 Abs. 1 Satz 1 Nr. 3, § 179 SGB III (AZAV)",
    Some(date(2012, 4, 1)),
    Limit,
);
pub const REHA_COMPETENCE: Rule = rule(
    "reha.competence",
    "§ 16 Abs. 1 Satz 3 SGB II a.F. (repealed by the Haushaltsfinanzierungsgesetz 2024); § 66a i.V.m. § 66 Abs. 1 SGB II",
    Some(AGENTUR_DECIDES_FBW_REHA_FROM),
    Competence,
);
pub const REHA_STATUS: Rule = rule(
    "reha.status",
    "§ 19 SGB III, §§ 112 ff. SGB III",
    SINCE_2005,
    Limit,
);

// ---- others --------------------------------------------------------------------------

pub const ESG_WORK: Rule = rule("esg.takes_up_work", "§ 16b Abs. 1 SGB II", SINCE_2005, Limit);
pub const ESG_DURATION: Rule = rule(
    "esg.max_24_months_per_job",
    "§ 16b Abs. 2 Satz 1 SGB II (höchstens 24 Monate, soweit eine Erwerbstätigkeit besteht)",
    SINCE_2005,
    Limit,
);
pub const EGZ_DURATION: Rule = rule(
    "egz.duration",
    "§ 89 Satz 2, 3, § 90 Abs. 1, 2 SGB III",
    Some(date(2012, 4, 1)),
    Limit,
);
pub const EGZ_SEVERELY_AFFECTED: Rule = rule(
    "egz.besonders_betroffen",
    "§ 90 Abs. 2 SGB III (besonders betroffene schwerbehinderte Menschen, § 187 Abs. 1 Nr. 3 SGB IX)",
    Some(date(2012, 4, 1)),
    Discretion,
);
pub const EQ_DURATION: Rule = rule(
    "eq.duration",
    "§ 54a Abs. 2 Satz 1 SGB III (4 to 12 months since 1.4.2024, 6 to 12 before)",
    Some(date(2012, 4, 1)),
    Limit,
);
pub const EQ_SAME_FIRM: Rule = rule(
    "eq.same_firm",
    "§ 54a Abs. 5 SGB III",
    Some(date(2012, 4, 1)),
    Limit,
);
pub const ASA_AGE: Rule = rule(
    "asa.age",
    "§§ 74 ff. SGB III; age limit: practice (parameter)",
    SINCE_2005,
    Limit,
);
pub const ASA_QUALIFICATION: Rule = rule("asa.no_qualification", "§ 74 Abs. 1 SGB III", SINCE_2005, Limit);
pub const BAE_AGE: Rule = rule(
    "bae.age",
    "§ 76 SGB III; age limit: practice (parameter)",
    SINCE_2005,
    Limit,
);
pub const BAE_QUALIFICATION: Rule = rule("bae.no_qualification", "§ 76 Abs. 1 SGB III", SINCE_2005, Limit);
pub const P16H_AGE: Rule = rule(
    "p16h.age",
    "§ 16h Abs. 1 Satz 1 SGB II (das 25. Lebensjahr noch nicht vollendet)",
    Some(date(2016, 8, 1)),
    Limit,
);
pub const P16C_SELF_EMPLOYED: Rule = rule("p16c.self_employed", "§ 16c Abs. 1 SGB II", SINCE_2005, Limit);
pub const P16F_HEALTH_SCOPE: Rule = rule(
    "p16f.health_scope",
    "§ 16f SGB II; health promotion and rehabilitation from 1.7.2026 (13. SGB II-Änderungsgesetz)",
    Some(date(2009, 1, 1)),
    Limit,
);

// ---- the offer's own properties ------------------------------------------------------

pub const OFFER_OPEN: Rule = rule("offer.open", "offer", None, Limit);
pub const OFFER_AGE: Rule = rule("offer.age_limits", "offer", None, Limit);
pub const OFFER_GERMAN_MIN: Rule = rule("offer.german_level", "offer", None, Limit);
pub const OFFER_GERMAN_MAX: Rule = rule(
    "offer.german_learners",
    "offer (people learning German)",
    None,
    Limit,
);
pub const OFFER_TARGET_GROUPS: Rule = rule(
    "offer.target_groups",
    "offer (AMIP 2021 target groups)",
    None,
    Limit,
);

/// The outcome of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    /// Stable rule identifier, e.g. `p16i.benefit_years`.
    pub rule: String,
    pub passed: bool,
    /// What was found, in words a person can check.
    pub detail: String,
    /// The legal source (or `practice` for configured administrative practice).
    pub source: String,
    /// A failed rule that the deciding specialist may decide otherwise, with a recorded
    /// reason (a discretion the law leaves, e.g. § 16d Abs. 6 Satz 3 SGB II).
    #[serde(default)]
    pub overridable: bool,
    /// What a failure means: `limit`, `discretion` or `competence` (referral).
    #[serde(default = "default_kind")]
    pub kind: Kind,
    /// The first day the rule is valid (`null`: as long as the record goes back).
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    /// The last day the rule is valid (`null`: no end known).
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
}

fn default_kind() -> Kind {
    Kind::Limit
}

impl Reason {
    fn of(rule: &Rule, passed: bool, detail: String) -> Self {
        Reason {
            rule: rule.id.to_string(),
            passed,
            detail,
            source: rule.source.to_string(),
            overridable: !passed && rule.kind == Kind::Discretion,
            kind: rule.kind,
            valid_from: rule.valid_from,
            valid_until: rule.valid_until,
        }
    }
}

/// Who decides on the instrument for this customer on the decision day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    Jobcenter,
    /// The Agentur für Arbeit (FbW and Reha from 1.1.2025): refer the customer.
    Agentur,
}

/// Eligibility for one instrument (and, when checked for a placement, one offer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Eligibility {
    pub instrument_code: String,
    /// Every rule passed and the Jobcenter decides.
    pub eligible: bool,
    /// `agentur`: not the Jobcenter's to grant — refer the customer (the reasons say why).
    pub decided_by: DecidedBy,
    pub reasons: Vec<Reason>,
}

impl Eligibility {
    fn from_reasons(code: &str, reasons: Vec<Reason>) -> Self {
        let referral = reasons.iter().any(|r| !r.passed && r.kind == Kind::Competence);
        Eligibility {
            instrument_code: code.to_string(),
            eligible: reasons.iter().all(|r| r.passed),
            decided_by: if referral {
                DecidedBy::Agentur
            } else {
                DecidedBy::Jobcenter
            },
            reasons,
        }
    }

    /// Whether every failed rule leaves the decision to the specialist's discretion (and
    /// at least one failed): an exception with a recorded reason may then place.
    pub fn overridable(&self) -> bool {
        !self.eligible && self.reasons.iter().filter(|r| !r.passed).all(|r| r.overridable)
    }
}

/// Administrative practice and legal figures that may change, configurable (domain
/// rules: "parameters").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RuleParams {
    /// § 16i Abs. 3 Satz 1 Nr. 3: employment and self-employment in the qualifying period
    /// count as "kurzzeitig" up to this many days in total (Fachliche Weisungen; practice).
    pub p16i_short_employment_max_days: i64,
    /// § 16d Abs. 6 Satz 3: months of AGH an exception may add beyond the 24 (at most 12).
    pub agh_extension_months: u32,
    /// § 45 Abs. 2 Satz 2 SGB III: MAG at an employer at most 6 weeks; § 45 Abs. 8: 12 for
    /// LZA or a recorded assessment of seriously impeded placement.
    pub mag_max_weeks: i64,
    pub mag_max_weeks_extended: i64,
    /// AsA and BaE: the age below which young people are admitted (practice, not law).
    pub youth_max_age_exclusive: i32,
}

impl Default for RuleParams {
    fn default() -> Self {
        RuleParams {
            p16i_short_employment_max_days: 183,
            agh_extension_months: 12,
            mag_max_weeks: 6,
            mag_max_weeks_extended: 12,
            youth_max_age_exclusive: 25,
        }
    }
}

impl RuleParams {
    /// The bounds the law sets on the parameters.
    pub fn check(&self) -> Result<(), String> {
        if self.agh_extension_months > 12 {
            return Err("agh_extension_months: at most 12 (§ 16d Abs. 6 Satz 3 SGB II)".into());
        }
        if !(1..=6).contains(&self.mag_max_weeks)
            || !(self.mag_max_weeks..=12).contains(&self.mag_max_weeks_extended)
        {
            return Err(
                "mag_max_weeks: 1 to 6, mag_max_weeks_extended: mag_max_weeks to 12 (§ 45 Abs. 2, 8 SGB III)"
                    .into(),
            );
        }
        if self.p16i_short_employment_max_days < 0 {
            return Err("p16i_short_employment_max_days: not negative".into());
        }
        if !(15..=35).contains(&self.youth_max_age_exclusive) {
            return Err("youth_max_age_exclusive: 15 to 35".into());
        }
        Ok(())
    }
}

/// One version of the parameters and the first day it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamVersion {
    pub valid_from: NaiveDate,
    pub params: RuleParams,
}

/// The parameters over time: each version applies from its `valid_from` until the next
/// one's. The rules of a day use the version in force that day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleBook {
    versions: Vec<ParamVersion>,
}

impl Default for RuleBook {
    fn default() -> Self {
        RuleBook::single(RuleParams::default())
    }
}

/// The first day the record knows: SGB II in force (1.1.2005). A single set of
/// parameters is dated from it.
pub const RECORD_START: NaiveDate = date(2005, 1, 1);

impl RuleBook {
    /// One set of parameters for every day.
    pub fn single(params: RuleParams) -> Self {
        RuleBook {
            versions: vec![ParamVersion {
                valid_from: RECORD_START,
                params,
            }],
        }
    }

    /// Versions in any order; the earliest also applies to every day before it (the
    /// record has nothing older). Refuses none, two on one day, or parameters out of the
    /// law's bounds.
    pub fn new(mut versions: Vec<ParamVersion>) -> Result<Self, String> {
        if versions.is_empty() {
            return Err("at least one parameter version".into());
        }
        versions.sort_by_key(|v| v.valid_from);
        if versions.windows(2).any(|w| w[0].valid_from == w[1].valid_from) {
            return Err("two parameter versions valid from the same day".into());
        }
        for v in &versions {
            v.params
                .check()
                .map_err(|e| format!("parameters valid from {}: {e}", v.valid_from))?;
        }
        Ok(RuleBook { versions })
    }

    /// The version in force on `day`.
    pub fn version_on(&self, day: NaiveDate) -> &ParamVersion {
        let i = self.versions.partition_point(|v| v.valid_from <= day);
        &self.versions[i.saturating_sub(1)]
    }

    /// The parameters in force on `day`.
    pub fn on(&self, day: NaiveDate) -> &RuleParams {
        &self.version_on(day).params
    }
}

/// Whom the rules are evaluated for, and when the decision is taken.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub customer_id: CustomerId,
    pub customer: &'a CustomerData,
    pub household: &'a [HouseholdMember],
    pub history: &'a [PastPlacement],
    /// The day the decision is taken (today, or the `as_of` of a look back). Who decides
    /// follows it (§ 66a with § 66 Abs. 1 SGB II: a benefit granted before the change
    /// stays with the Jobcenter); the prerequisites are judged on the reference day.
    pub decided_on: NaiveDate,
}

impl<'a> Subject<'a> {
    /// Every participation that started: placements in the system and prior ones.
    pub fn participations(&self) -> impl Iterator<Item = Participation<'a>> + 'a {
        participation::all(self.history, &self.customer.prior_participations)
    }

    fn age_on(&self, on: NaiveDate) -> i32 {
        completed_years(self.customer.date_of_birth, on)
    }

    /// The unemployment running on `on`, counted for a benefit that requires long-term
    /// unemployment (§ 18 Abs. 1 and 2 SGB III).
    fn unemployment_for_benefit(&self, on: NaiveDate) -> Option<(NaiveDate, i64)> {
        target_groups::unemployment_on(
            &self.customer.unemployment_spells,
            &target_groups::measure_spells(self.participations()),
            &target_groups::work_spells(self.customer),
            on,
            Counting::ForBenefit,
        )
    }
}

/// § 7a SGB II: the age limit is 65 for births before 1947, rising by one month per year
/// of birth to 66 (1958), then by two months to 67 for births from 1964. It is reached at
/// the end of the month in which that age is completed — and an age is completed at the
/// end of the day before the birthday (§ 187 Abs. 2 Satz 2, § 188 Abs. 2 BGB): born on
/// 1 May 1960, 65 + 16 months are completed on 31 August 2026, the limit is that day.
pub fn statutory_age_limit_date(date_of_birth: NaiveDate) -> NaiveDate {
    let y = date_of_birth.year();
    let months: u32 = match y {
        ..=1946 => 65 * 12,
        1947..=1958 => 65 * 12 + (y - 1946) as u32,
        1959..=1963 => 66 * 12 + 2 * (y - 1958) as u32,
        _ => 67 * 12,
    };
    dates::end_of_month(dates::age_completed_on(date_of_birth, months))
}

/// Receives rule outcomes; the detail text is built only when the sink asks for it.
pub trait RuleSink {
    /// Returns `false` to stop evaluating further rules.
    fn check(&mut self, rule: &Rule, passed: bool, detail: &dyn Fn() -> String) -> bool;
}

impl RuleSink for Vec<Reason> {
    fn check(&mut self, rule: &Rule, passed: bool, detail: &dyn Fn() -> String) -> bool {
        self.push(Reason::of(rule, passed, detail()));
        true
    }
}

/// Records whether all rules passed, stopping at the first failure.
struct AllPass(bool);

impl RuleSink for AllPass {
    fn check(&mut self, _: &Rule, passed: bool, _: &dyn Fn() -> String) -> bool {
        self.0 &= passed;
        passed
    }
}

/// Continues with the next rule only while the sink wants more.
macro_rules! rule {
    ($e:expr) => {
        if !$e {
            return;
        }
    };
}

macro_rules! emit {
    ($sink:expr, $rule:expr, $passed:expr, $detail:expr $(,)?) => {
        rule!($sink.check(&$rule, $passed, &|| $detail))
    };
}

/// A rule that holds only within its period of validity; `what` names the instrument.
fn in_force(sink: &mut dyn RuleSink, r: &Rule, on: NaiveDate, what: &str) -> bool {
    let ok = r.valid_from.is_none_or(|f| on >= f) && r.valid_until.is_none_or(|u| on <= u);
    sink.check(r, ok, &|| {
        let since = r.valid_from.map(fmt_date).unwrap_or_default();
        if ok {
            format!("{what} is in force on {} (since {since})", fmt_date(on))
        } else {
            format!("{what} is not in force on {} (only since {since})", fmt_date(on))
        }
    })
}

/// eLb (§ 7 Abs. 1 Satz 1 Nr. 1, § 7a SGB II): at least 15 and not past the age limit.
fn elb_age(sink: &mut dyn RuleSink, s: &Subject, on: NaiveDate) -> bool {
    let age = s.age_on(on);
    let limit = statutory_age_limit_date(s.customer.date_of_birth);
    let ok = age >= 15 && on <= limit;
    sink.check(&ELB_AGE, ok, &|| {
        format!(
            "aged {age} on {}; eLb from 15 until the age limit ({})",
            fmt_date(on),
            fmt_date(limit)
        )
    })
}

/// eLb on the decision day and on the reference day: in need, i.e. a benefit spell
/// running on both (they are one day for a decision as of a day, or a running offer).
fn elb_benefit(sink: &mut dyn RuleSink, s: &Subject, on: NaiveDate) -> bool {
    let running = |day: NaiveDate| s.customer.benefit_spells.iter().find(|sp| sp.covers(day));
    let missing = [s.decided_on, on].into_iter().find(|day| running(*day).is_none());
    sink.check(&ELB_BENEFIT, missing.is_none(), &|| match missing {
        None => {
            let since = running(on).map(|sp| fmt_date(sp.from)).unwrap_or_default();
            if s.decided_on == on {
                format!("receives benefits on {} (since {since})", fmt_date(on))
            } else {
                format!(
                    "receives benefits on the decision day {} and on the start {} (since {since})",
                    fmt_date(s.decided_on),
                    fmt_date(on)
                )
            }
        }
        Some(day) => {
            let last = s
                .customer
                .benefit_spells
                .iter()
                .filter_map(|sp| sp.to)
                .filter(|to| *to < day)
                .max();
            match last {
                Some(to) => format!(
                    "no benefits on {}: the last benefit spell before it ended on {}",
                    fmt_date(day),
                    fmt_date(to)
                ),
                None => format!("no benefit spell runs on {}", fmt_date(day)),
            }
        }
    })
}

/// Instruments of direct integration into work: the placement-first rule does not hold
/// them back (subsidies for work taken up).
pub fn is_work_instrument(code: &str) -> bool {
    matches!(code, "EGZ" | "ESG" | "P16E" | "P16I" | "P16C")
}

/// The placement-first rule (from 1.7.2026): a measure for a customer the specialist
/// assessed as able to take up work directly needs a recorded exception.
fn placement_first(sink: &mut dyn RuleSink, s: &Subject, code: &str, on: NaiveDate) -> bool {
    if on < PLACEMENT_FIRST_FROM || is_work_instrument(code) {
        return true;
    }
    let ok = !s.customer.job_ready;
    sink.check(&PLACEMENT_FIRST, ok, &|| placement_first_text(s, on))
}

fn placement_first_text(s: &Subject, on: NaiveDate) -> String {
    if !s.customer.job_ready {
        return "not assessed as job-ready: a measure may come first".into();
    }
    format!(
        "assessed as job-ready: placement into work comes first; a measure needs a recorded exception \
         (more promising for lasting integration, e.g. vocational training under 30; aged {})",
        s.age_on(on)
    )
}

/// What the placement-first rule says of the customer on `on`, when it holds measures back:
/// the recommendations show it, since the measures it holds back are not ranked. Offers are
/// judged on their start, so before 1.7.2026 the rule already holds back those starting
/// from then on.
pub fn placement_first_notice(s: &Subject, on: NaiveDate) -> Option<Reason> {
    if !s.customer.job_ready {
        return None;
    }
    let day = on.max(PLACEMENT_FIRST_FROM);
    let detail = format!(
        "{}. Ranked here: offers of direct integration (EGZ, ESG, § 16e, § 16i, § 16c); a measure can be \
         placed with a recorded exception.",
        placement_first_text(s, day)
    );
    Some(Reason::of(&PLACEMENT_FIRST, false, detail))
}

fn age_below(sink: &mut dyn RuleSink, r: &Rule, s: &Subject, on: NaiveDate, max_exclusive: i32) -> bool {
    let age = s.age_on(on);
    sink.check(r, age < max_exclusive, &|| {
        format!("aged {age} on {} (under {max_exclusive} required)", fmt_date(on))
    })
}

fn no_qualification(s: &Subject) -> bool {
    matches!(
        s.customer.vocational_qualification,
        VocationalQualification::None | VocationalQualification::Partial
    )
}

// ---- § 16i SGB II --------------------------------------------------------------------

/// § 16i Abs. 3 Satz 1 Nr. 2: six years within seven (§ 191 BGB: 2,190 of 2,555 days).
pub const P16I_BENEFIT_DAYS: i64 = years_as_days(6);
pub const P16I_WINDOW_DAYS: i64 = years_as_days(7);
/// § 16i Abs. 3 Satz 3: the last five years (1,825 days) for a person with a minor child
/// in the BG or a severe disability.
pub const P16I_REDUCED_DAYS: i64 = years_as_days(5);
/// § 16i Abs. 3 Satz 1 Nr. 4, Abs. 2: at most five years of subsidy (1,825 days).
pub const P16I_CAP_DAYS: i64 = years_as_days(5);

fn p16i(sink: &mut dyn RuleSink, s: &Subject, on: NaiveDate, params: &RuleParams) {
    rule!(in_force(sink, &P16I_IN_FORCE, on, "§ 16i SGB II"));
    rule!(sink.check(&P16I_AGE, s.age_on(on) >= 25, &|| format!(
        "aged {} on {} (at least 25 required)",
        s.age_on(on),
        fmt_date(on)
    )));
    let children = minor_children(s.household, on);
    let reduced = children > 0 || s.customer.severely_disabled;
    let full = dates::covered_days_before(&s.customer.benefit_spells, on, P16I_WINDOW_DAYS);
    let last_five = dates::covered_days_before(&s.customer.benefit_spells, on, P16I_REDUCED_DAYS);
    let ok = full >= P16I_BENEFIT_DAYS || (reduced && last_five >= P16I_REDUCED_DAYS);
    rule!(sink.check(&P16I_BENEFIT, ok, &|| {
        let why = if children > 0 {
            "a minor child in the Bedarfsgemeinschaft"
        } else {
            "a severe disability"
        };
        let alt = if reduced {
            format!("; or, with {why}, benefits throughout the last 1,825 days: {last_five} of 1,825")
        } else {
            String::new()
        };
        format!("benefits on {full} of the last 2,555 days (2,190 required){alt}")
    }));
    // the qualifying period: the seven years, or under Satz 3 the five, before the start;
    // short employment is judged in the period by which the customer qualifies
    let work = target_groups::work_spells(s.customer);
    let max = params.p16i_short_employment_max_days;
    let seven = full >= P16I_BENEFIT_DAYS;
    let five = reduced && last_five >= P16I_REDUCED_DAYS;
    let w7 = dates::covered_days_before(&work, on, P16I_WINDOW_DAYS);
    let w5 = dates::covered_days_before(&work, on, P16I_REDUCED_DAYS);
    let ok = if seven || five {
        (seven && w7 <= max) || (five && w5 <= max)
    } else {
        w7 <= max
    };
    rule!(sink.check(&P16I_SHORT_EMPLOYMENT, ok, &|| {
        let five_text = if five {
            format!("; {w5} days in the last five years (Satz 3)")
        } else {
            String::new()
        };
        format!(
            "{w7} days of employment or self-employment in the last seven years{five_text} (at most {max} count as short)"
        )
    }));
    let used = participation::days_in(s.participations(), &["P16I"], NaiveDate::MIN, day_before(on));
    sink.check(&P16I_CAP, used < P16I_CAP_DAYS, &|| {
        format!("{used} of {P16I_CAP_DAYS} days of § 16i subsidy used")
    });
}

/// The planned length of a § 16i job must fit in what is left of the five years: with no
/// earlier subsidy, five calendar years from the start (§ 188 Abs. 2 BGB); with one,
/// 1,825 days in all (§ 191 BGB).
fn p16i_planned<S: RuleSink + ?Sized>(sink: &mut S, s: &Subject, offer: &OfferData, on: NaiveDate) {
    let used = participation::days_in(s.participations(), &["P16I"], NaiveDate::MIN, day_before(on));
    let planned = days_inclusive(on, offer.ends_on);
    let ok = if used == 0 {
        offer.ends_on <= period_end_years(on, 5)
    } else {
        used + planned <= P16I_CAP_DAYS
    };
    emit!(
        sink,
        P16I_PLANNED_LENGTH,
        ok,
        format!(
            "the job runs {} to {} ({planned} days); {used} days of § 16i subsidy used, five years in all",
            fmt_date(on),
            fmt_date(offer.ends_on)
        ),
    );
}

// ---- § 16e SGB II --------------------------------------------------------------------

fn p16e(sink: &mut dyn RuleSink, s: &Subject, on: NaiveDate) {
    rule!(in_force(sink, &P16E_IN_FORCE, on, "§ 16e SGB II (new version)"));
    let found = s.unemployment_for_benefit(on);
    sink.check(
        &P16E_UNEMPLOYED,
        target_groups::lasted_months(found, on, 24),
        &|| match found {
            Some((from, 0)) => format!("unemployed since {} (at least 2 years required)", fmt_date(from)),
            Some((from, ignored)) => format!(
                "unemployed since {}, {ignored} days of interruptions left out (§ 18 Abs. 2 SGB III); at least 2 years required",
                fmt_date(from)
            ),
            None => format!("not unemployed on {}", fmt_date(on)),
        },
    );
}

/// § 92 Abs. 1 Nr. 2 SGB III: no subsidy for a former employer with more than three months
/// (90 days, § 191 BGB) of insured employment in the four years before the start.
fn former_employer<S: RuleSink + ?Sized>(sink: &mut S, s: &Subject, offer: &OfferData, on: NaiveDate) {
    let days = days_employed_at(s, offer.provider_id, on, 48);
    emit!(
        sink,
        FORMER_EMPLOYER,
        days <= months_as_days(3),
        format!(
            "{days} days employed by this employer in the four years before the start (more than 90 exclude)"
        ),
    );
}

/// Days the customer was employed by `employer` in the `months` months before `on` (the
/// same-firm exclusions: § 92 Abs. 1 Nr. 2, § 54a Abs. 5 SGB III).
fn days_employed_at(s: &Subject, employer: ProviderId, on: NaiveDate, months: u32) -> i64 {
    let spells: Vec<Spell> = s
        .customer
        .employment_spells
        .iter()
        .filter(|sp| sp.employer_id == Some(employer))
        .copied()
        .collect();
    let start = on
        .checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN);
    covered_days(&spells, start, day_before(on))
}

// ---- § 16d SGB II (AGH) --------------------------------------------------------------

/// § 16d Abs. 6 Satz 1: at most 24 months in all (720 days, § 191 BGB) within five years.
pub const AGH_CAP_DAYS: i64 = months_as_days(24);

/// The five-year period of § 16d Abs. 6 Satz 2 that `on` falls in: it begins with the
/// entry into the first AGH; after it ends, the next begins with the next entry (or with
/// `on`, when there is none before it).
pub fn agh_period(entries: &[NaiveDate], on: NaiveDate) -> (NaiveDate, NaiveDate) {
    let mut sorted: Vec<NaiveDate> = entries.iter().copied().filter(|e| *e <= on).collect();
    sorted.sort();
    let mut start = match sorted.first() {
        Some(first) => *first,
        None => return (on, period_end_years(on, 5)),
    };
    loop {
        let end = period_end_years(start, 5);
        if on <= end {
            return (start, end);
        }
        match sorted.iter().find(|e| **e > end) {
            Some(next) => start = *next,
            None => return (on, period_end_years(on, 5)),
        }
    }
}

/// The five-year period `on` falls in, and the days of AGH in it before `on`.
fn agh_used(s: &Subject, on: NaiveDate) -> (NaiveDate, NaiveDate, i64) {
    let entries: Vec<NaiveDate> = s
        .participations()
        .filter(|p| p.instrument_code == "AGH")
        .map(|p| p.from)
        .collect();
    let (start, end) = agh_period(&entries, on);
    let used = participation::days_in(s.participations(), &["AGH"], start, day_before(on).min(end));
    (start, end, used)
}

/// § 16d Abs. 6 Satz 3: the days an exception may add (at most 12 months).
fn agh_extension_days(params: &RuleParams) -> i64 {
    months_as_days(i64::from(params.agh_extension_months.min(12)))
}

fn agh(sink: &mut dyn RuleSink, s: &Subject, on: NaiveDate, params: &RuleParams) {
    let (start, end, used) = agh_used(s, on);
    let extension = agh_extension_days(params);
    rule!(sink.check(&AGH_CAP, used < AGH_CAP_DAYS, &|| {
        format!(
            "{used} days of AGH in the five years {} to {} (cap 720 days = 24 months; up to {extension} more \
             by the specialist's decision with a recorded reason while the prerequisites still hold)",
            fmt_date(start),
            fmt_date(end)
        )
    }));
    sink.check(&AGH_EXTENSION_LIMIT, used < AGH_CAP_DAYS + extension, &|| {
        format!(
            "{used} days of AGH in the five-year period; never beyond {} days",
            AGH_CAP_DAYS + extension
        )
    });
}

/// An AGH with fixed entry runs its offer's period: with the days used before it, it must
/// stay within the 720 days (or, by the specialist's decision, the extension) of the
/// five-year period. A rolling AGH's stay is not known in advance; its days count for the
/// next decision.
fn agh_planned<S: RuleSink + ?Sized>(
    sink: &mut S,
    s: &Subject,
    offer: &OfferData,
    on: NaiveDate,
    params: &RuleParams,
) {
    let (start, end, used) = agh_used(s, on);
    let planned = days_inclusive(on, offer.ends_on.min(end));
    let extension = agh_extension_days(params);
    emit!(
        sink,
        AGH_PLANNED_CAP,
        used + planned <= AGH_CAP_DAYS,
        format!(
            "{used} days of AGH used and {planned} planned in the five years {} to {} (cap 720 days; up to \
             {extension} more by the specialist's decision with a recorded reason)",
            fmt_date(start),
            fmt_date(end)
        ),
    );
    emit!(
        sink,
        AGH_PLANNED_LIMIT,
        used + planned <= AGH_CAP_DAYS + extension,
        format!(
            "{} days of AGH with this one; never beyond {} days",
            used + planned,
            AGH_CAP_DAYS + extension
        ),
    );
}

// ---- FbW and Reha: who decides -------------------------------------------------------

/// From 1.1.2025 the Agentur für Arbeit decides; a benefit granted before that day stays
/// with the Jobcenter (§ 66a with § 66 Abs. 1 SGB II). A decision taken on or after
/// 1.1.2025 is not granted before it, whatever the measure's start.
fn competence(sink: &mut dyn RuleSink, r: &Rule, s: &Subject, what: &str) -> bool {
    let ok = s.decided_on < AGENTUR_DECIDES_FBW_REHA_FROM;
    sink.check(r, ok, &|| {
        if ok {
            format!(
                "decided on {}, before 1.1.2025: the Jobcenter decides {what} (and finishes it, § 66a SGB II)",
                fmt_date(s.decided_on)
            )
        } else {
            format!(
                "from 1.1.2025 the Agentur für Arbeit decides {what} for eLb: refer the customer; the Jobcenter \
                 keeps supporting them during the measure and places them afterwards"
            )
        }
    })
}

fn fbw(sink: &mut dyn RuleSink, s: &Subject, on: NaiveDate) {
    rule!(sink.check(&FBW_NECESSITY, true, &|| {
        "necessity and counselling before the start are decided in the counselling interview".into()
    }));
    if no_qualification(s) {
        // § 81 Abs. 2 Satz 2: without a qualification and with less than three years of
        // work (1,095 days, § 191 BGB), only if an apprenticeship is impossible or
        // unreasonable, or for a shortage occupation
        let worked = covered_days(&s.customer.employment_spells, NaiveDate::MIN, day_before(on));
        sink.check(&FBW_THREE_YEARS, worked >= years_as_days(3), &|| {
            format!(
                "no vocational qualification and {worked} days of work (1,095 = three years); with less, only if an \
                 apprenticeship is impossible or unreasonable, or for a shortage occupation (record the reason)"
            )
        });
    }
}

fn reha(sink: &mut dyn RuleSink, s: &Subject) {
    let ok = s.customer.rehabilitant || s.customer.severely_disabled;
    sink.check(&REHA_STATUS, ok, &|| {
        if ok {
            "rehabilitant or severely disabled".into()
        } else {
            "neither rehabilitant nor severely disabled".into()
        }
    });
}

// ---- the instruments -----------------------------------------------------------------

/// The instrument rules (without offer properties) for one instrument code, as of `on`.
/// Unknown codes (admin additions) have only the general rules.
pub fn instrument_rules(s: &Subject, code: &str, on: NaiveDate, book: &RuleBook) -> Vec<Reason> {
    let mut r = Vec::new();
    instrument_checks(s, code, on, book.on(on), &mut r);
    r
}

/// Whether every instrument rule passes; stops at the first failure and builds no text
/// (the ranking's hot path).
pub fn instrument_passes(s: &Subject, code: &str, on: NaiveDate, book: &RuleBook) -> bool {
    let mut all = AllPass(true);
    instrument_checks(s, code, on, book.on(on), &mut all);
    all.0
}

fn instrument_checks(s: &Subject, code: &str, on: NaiveDate, params: &RuleParams, sink: &mut dyn RuleSink) {
    // who decides comes first: a referral is the answer, and no other rule is its reason
    let decides = match code {
        "FBW" => competence(sink, &FBW_COMPETENCE, s, "FbW"),
        "REHA" => competence(sink, &REHA_COMPETENCE, s, "vocational rehabilitation"),
        _ => true,
    };
    if !decides {
        return;
    }
    rule!(elb_age(sink, s, on));
    rule!(elb_benefit(sink, s, on));
    rule!(placement_first(sink, s, code, on));
    match code {
        "P16I" => p16i(sink, s, on, params),
        "P16E" => p16e(sink, s, on),
        "AGH" => agh(sink, s, on, params),
        "FBW" => fbw(sink, s, on),
        "REHA" => reha(sink, s),
        "ESG" => {
            sink.check(&ESG_WORK, true, &|| {
                "Einstiegsgeld supports taking up employment or self-employment (the offer's job)".into()
            });
        }
        "ASA" => {
            rule!(age_below(sink, &ASA_AGE, s, on, params.youth_max_age_exclusive));
            sink.check(&ASA_QUALIFICATION, no_qualification(s), &|| qualification_text(s));
        }
        "BAE" => {
            rule!(age_below(sink, &BAE_AGE, s, on, params.youth_max_age_exclusive));
            sink.check(&BAE_QUALIFICATION, no_qualification(s), &|| qualification_text(s));
        }
        "P16H" => {
            age_below(sink, &P16H_AGE, s, on, 25);
        }
        "P16C" => {
            let ok = s.customer.solo_self_employed;
            sink.check(&P16C_SELF_EMPLOYED, ok, &|| {
                if ok {
                    "self-employed".into()
                } else {
                    "not self-employed".into()
                }
            });
        }
        "AVGS_MAT" | "MAG" => {
            sink.check(&AVGS_DISCRETION, true, &|| {
                "no entitlement: the specialist decides within discretion".into()
            });
        }
        _ => {}
    }
}

fn qualification_text(s: &Subject) -> String {
    format!(
        "vocational qualification: {}",
        crate::customer::qualification_label(s.customer.vocational_qualification)
    )
}

// ---- the offer -----------------------------------------------------------------------

/// The rules of one offer: period and status, the offer's age and German limits and
/// target groups, the approvals the instrument needs, the instrument's duration limits
/// against the offer's period, and the same-firm exclusions. `groups` are the customer's
/// target groups as of `on` (derived once by the caller).
pub fn offer_rules(
    s: &Subject,
    groups: &[TargetGroup],
    offer: &OfferData,
    provider: &ProviderData,
    on: NaiveDate,
    book: &RuleBook,
) -> Vec<Reason> {
    let mut r = Vec::new();
    offer_checks(s, groups, offer, provider, on, book.on(on), &mut r);
    r
}

/// Whether every offer rule passes; stops at the first failure and builds no text (the
/// ranking's hot path).
pub fn offer_passes(
    s: &Subject,
    groups: &[TargetGroup],
    offer: &OfferData,
    provider: &ProviderData,
    on: NaiveDate,
    book: &RuleBook,
) -> bool {
    let mut all = AllPass(true);
    offer_checks(s, groups, offer, provider, on, book.on(on), &mut all);
    all.0
}

#[allow(clippy::too_many_arguments)]
fn offer_checks<S: RuleSink + ?Sized>(
    s: &Subject,
    groups: &[TargetGroup],
    offer: &OfferData,
    provider: &ProviderData,
    on: NaiveDate,
    params: &RuleParams,
    sink: &mut S,
) {
    emit!(
        sink,
        OFFER_OPEN,
        offer.is_open_on(on),
        format!(
            "offer is {} and runs {} to {}",
            if offer.status == OfferStatus::Open {
                "open"
            } else {
                "closed"
            },
            fmt_date(offer.starts_on),
            fmt_date(offer.ends_on)
        ),
    );
    if offer.min_age.is_some() || offer.max_age.is_some() {
        let age = s.age_on(on);
        let ok = offer.min_age.is_none_or(|m| age >= m) && offer.max_age.is_none_or(|m| age <= m);
        emit!(
            sink,
            OFFER_AGE,
            ok,
            format!(
                "aged {age} on {}; the offer admits {}–{}",
                fmt_date(on),
                offer.min_age.map(|a| a.to_string()).unwrap_or_default(),
                offer.max_age.map(|a| a.to_string()).unwrap_or_default()
            ),
        );
    }
    if let Some(min) = offer.min_german_level {
        emit!(
            sink,
            OFFER_GERMAN_MIN,
            s.customer.german_level >= min,
            format!(
                "German level {} (at least {} required)",
                crate::customer::german_label(s.customer.german_level),
                crate::customer::german_label(min)
            ),
        );
    }
    if let Some(max) = offer.max_german_level {
        emit!(
            sink,
            OFFER_GERMAN_MAX,
            s.customer.german_level <= max,
            format!(
                "German level {} (the offer is for people learning German, up to {})",
                crate::customer::german_label(s.customer.german_level),
                crate::customer::german_label(max)
            ),
        );
    }
    // a group that may not decide (migration_background) restricts nothing
    let deciding = || offer.target_groups.iter().filter(|g| g.may_decide());
    if deciding().next().is_some() {
        let hits = || deciding().filter(|g| groups.contains(g));
        emit!(
            sink,
            OFFER_TARGET_GROUPS,
            hits().next().is_some(),
            if hits().next().is_none() {
                format!(
                    "the offer is for {}; the customer belongs to none of them",
                    deciding().map(|g| g.as_str()).collect::<Vec<_>>().join(", ")
                )
            } else {
                let hit: Vec<&str> = hits().map(|g| g.as_str()).collect();
                format!("target group {}", hit.join(", "))
            },
        );
    }
    let start = offer.starts_on.max(on);
    match offer.instrument_code.as_str() {
        "AVGS_MAT" => approvals(
            sink,
            (&AVGS_PROVIDER_APPROVED, &AVGS_MEASURE_APPROVED),
            offer,
            provider,
            start,
        ),
        "FBW" => approvals(
            sink,
            (&FBW_PROVIDER_APPROVED, &FBW_MEASURE_APPROVED),
            offer,
            provider,
            start,
        ),
        "MAG" => {
            let days = days_inclusive(on, offer.ends_on);
            // the § 18 count only where the offer is longer than the six weeks
            let lza = || target_groups::lasted_months(s.unemployment_for_benefit(on), on, 12);
            let ok = days <= params.mag_max_weeks * 7
                || (days <= params.mag_max_weeks_extended * 7
                    && (s.customer.seriously_impeded_placement || lza()));
            emit!(sink, MAG_DURATION, ok, {
                let lza = lza();
                let extended = lza || s.customer.seriously_impeded_placement;
                let max = if extended {
                    params.mag_max_weeks_extended
                } else {
                    params.mag_max_weeks
                };
                format!(
                    "{days} days at the employer (at most {max} weeks{})",
                    if lza {
                        ": long-term unemployed"
                    } else if s.customer.seriously_impeded_placement {
                        ": placement seriously impeded (recorded assessment)"
                    } else {
                        ""
                    }
                )
            },);
        }
        "P16I" => p16i_planned(sink, s, offer, on),
        "P16E" => {
            let ok = offer.ends_on >= period_end_years(on, 2);
            emit!(
                sink,
                P16E_CONTRACT,
                ok,
                format!(
                    "the job runs {} to {} (at least two years required)",
                    fmt_date(on),
                    fmt_date(offer.ends_on)
                ),
            );
            former_employer(sink, s, offer, on);
        }
        "EGZ" => {
            egz_duration(sink, s, offer, on);
            former_employer(sink, s, offer, on);
        }
        "ESG" => {
            emit!(
                sink,
                ESG_DURATION,
                offer.ends_on <= period_end(on, 24),
                format!(
                    "Einstiegsgeld for this job {} to {} (at most 24 months per job taken up)",
                    fmt_date(on),
                    fmt_date(offer.ends_on)
                ),
            );
        }
        "EQ" => eq(sink, s, offer, provider, on),
        "AGH" if offer.entry == crate::offer::Entry::Fixed => agh_planned(sink, s, offer, on, params),
        "P16F" => {
            let health = offer
                .target_groups
                .iter()
                .any(|g| matches!(g, TargetGroup::Health | TargetGroup::RehabDisabled));
            if health {
                emit!(
                    sink,
                    P16F_HEALTH_SCOPE,
                    on >= PLACEMENT_FIRST_FROM,
                    format!(
                        "§ 16f support aimed at health promotion or rehabilitation is open from 1.7.2026; start {}",
                        fmt_date(on)
                    ),
                );
            }
        }
        _ => {}
    }
}

fn approvals<S: RuleSink + ?Sized>(
    sink: &mut S,
    (provider_rule, measure_rule): (&Rule, &Rule),
    offer: &OfferData,
    provider: &ProviderData,
    start: NaiveDate,
) {
    emit!(
        sink,
        *provider_rule,
        provider.azav_valid_on(start),
        match provider.azav_certified_until {
            Some(u) => format!(
                "the provider's AZAV approval is valid until {}; needed on {}",
                fmt_date(u),
                fmt_date(start)
            ),
            None => "the provider holds no AZAV approval".into(),
        },
    );
    emit!(
        sink,
        *measure_rule,
        offer.measure_approved_until.is_some_and(|u| start <= u),
        match offer.measure_approved_until {
            Some(u) => format!(
                "the measure's AZAV approval is valid until {}; needed on {}",
                fmt_date(u),
                fmt_date(start)
            ),
            None => "the measure holds no AZAV approval".into(),
        },
    );
}

/// EGZ: 12 months (§ 89 Satz 2; 36 from 55 when begun by 31.12.2028, Satz 3), 24 for
/// disabled people (§ 90 Abs. 1), 60 — 96 from 55 — for "besonders betroffene"
/// severely disabled people (§ 90 Abs. 2), which is the specialist's recorded assessment.
fn egz_duration<S: RuleSink + ?Sized>(sink: &mut S, s: &Subject, offer: &OfferData, on: NaiveDate) {
    let age = s.age_on(on);
    let disabled = s.customer.severely_disabled || s.customer.rehabilitant;
    let older = age >= 55 && on <= date(2028, 12, 31);
    let base: u32 = match (disabled, older) {
        (_, true) => 36,
        (true, false) => 24,
        (false, false) => 12,
    };
    let most: u32 = if s.customer.severely_disabled {
        if age >= 55 {
            96
        } else {
            60
        }
    } else {
        base
    };
    let fits = |months: u32| offer.ends_on <= period_end(on, months);
    emit!(
        sink,
        EGZ_DURATION,
        fits(most),
        format!(
            "EGZ {} to {}; at most {most} months for this customer (aged {age}{})",
            fmt_date(on),
            fmt_date(offer.ends_on),
            if disabled { ", disabled" } else { "" }
        ),
    );
    if s.customer.severely_disabled && fits(most) && !fits(base) {
        emit!(
            sink,
            EGZ_SEVERELY_AFFECTED,
            false,
            format!(
                "more than {base} months only for besonders betroffene schwerbehinderte Menschen: the specialist's \
                 assessment, recorded as the exception's reason"
            ),
        );
    }
}

/// EQ: 4 to 12 months (6 to 12 before 1.4.2024), and not at a firm where the customer had
/// an EQ before (any time) or insured employment in the last three years.
fn eq<S: RuleSink + ?Sized>(
    sink: &mut S,
    s: &Subject,
    offer: &OfferData,
    provider: &ProviderData,
    on: NaiveDate,
) {
    let min: u32 = if on >= EQ_FOUR_MONTHS_FROM { 4 } else { 6 };
    let ok = offer.ends_on >= period_end(on, min) && offer.ends_on <= period_end(on, 12);
    emit!(
        sink,
        EQ_DURATION,
        ok,
        format!(
            "EQ {} to {} ({min} to 12 months required)",
            fmt_date(on),
            fmt_date(offer.ends_on)
        ),
    );
    let earlier_eq = s
        .participations()
        .any(|p| p.instrument_code == "EQ" && p.firm.is(offer.provider_id, &provider.name));
    let employed = days_employed_at(s, offer.provider_id, on, 36) > 0;
    emit!(
        sink,
        EQ_SAME_FIRM,
        !earlier_eq && !employed,
        if earlier_eq {
            "an EQ at this firm before".into()
        } else if employed {
            "employed at this firm within the last three years".into()
        } else {
            "no EQ at this firm before and no employment there within the last three years".into()
        },
    );
}

/// Eligibility for every instrument code given, as of `on`.
pub fn for_instruments<'c>(
    s: &Subject,
    codes: impl IntoIterator<Item = &'c str>,
    on: NaiveDate,
    book: &RuleBook,
) -> Vec<Eligibility> {
    codes
        .into_iter()
        .map(|code| Eligibility::from_reasons(code, instrument_rules(s, code, on, book)))
        .collect()
}

/// Eligibility for one offer: the instrument's rules and the offer's, as of `on`.
pub fn for_offer(
    s: &Subject,
    offer: &OfferData,
    provider: &ProviderData,
    on: NaiveDate,
    book: &RuleBook,
) -> Eligibility {
    let mut reasons = instrument_rules(s, &offer.instrument_code, on, book);
    // a referral needs no offer rules: the Jobcenter does not book it
    if !reasons.iter().any(|r| !r.passed && r.kind == Kind::Competence) {
        let groups = target_groups::derive(s.customer_id, s.customer, s.household, on);
        reasons.extend(offer_rules(s, &groups, offer, provider, on, book));
    }
    Eligibility::from_reasons(&offer.instrument_code, reasons)
}

/// The day a placement's eligibility is judged: the offer's start, or today for an offer
/// that is already running (rolling entry) or started in the past.
pub fn reference_day(offer: &OfferData, today: NaiveDate) -> NaiveDate {
    offer.starts_on.max(today)
}

/// A discretionary decision against a failed rule: who took it and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Exception {
    /// The deciding specialist (username).
    pub by: String,
    pub reason: String,
    /// The rules decided otherwise.
    pub rules: Vec<String>,
}

/// The verdict a placement was made on: the rules' version, the parameters in force, every
/// reason, and the exception if one was made. Stored with the placement, never recomputed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Verdict {
    pub rules_version: String,
    /// The first day of the parameter version applied.
    pub parameters_valid_from: NaiveDate,
    /// The parameters applied, as they were named then (kept as an object, so a verdict
    /// stays readable after a parameter is renamed or retired).
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// The day the decision was taken.
    pub decided_on: NaiveDate,
    /// The day the prerequisites were judged (the offer's start, or the decision day).
    pub reference_day: NaiveDate,
    pub eligible: bool,
    pub decided_by: DecidedBy,
    pub reasons: Vec<Reason>,
    pub exception: Option<Exception>,
}

/// Why a verdict does not allow a placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Another authority decides: refer the customer.
    Referral(Vec<Reason>),
    /// A prerequisite failed, and no (allowed) exception was given.
    NotEligible(Vec<Reason>),
}

impl Verdict {
    /// The verdict on `eligibility`, judged on `reference_day` with the parameters of that
    /// day.
    pub fn new(
        eligibility: &Eligibility,
        book: &RuleBook,
        decided_on: NaiveDate,
        reference_day: NaiveDate,
    ) -> Self {
        let version = book.version_on(reference_day);
        Verdict {
            rules_version: RULES_VERSION.to_string(),
            parameters_valid_from: version.valid_from,
            parameters: match serde_json::to_value(&version.params) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            },
            decided_on,
            reference_day,
            eligible: eligibility.eligible,
            decided_by: eligibility.decided_by,
            reasons: eligibility.reasons.clone(),
            exception: None,
        }
    }

    /// Whether a placement may be made on this verdict, with `exception` (the deciding
    /// person and their reason) where the failed rules leave it to discretion. A limit of
    /// the law or a referral is never overridden; an exception where none is needed is
    /// not recorded.
    pub fn decide(mut self, exception: Option<(&str, &str)>) -> Result<Verdict, Refusal> {
        let failed = || self.reasons.iter().filter(|r| !r.passed);
        if failed().any(|r| r.kind == Kind::Competence) {
            return Err(Refusal::Referral(self.reasons));
        }
        if self.eligible {
            return Ok(self);
        }
        match exception {
            Some((by, reason)) if failed().all(|r| r.overridable) => {
                let rules = failed().map(|r| r.rule.clone()).collect();
                self.exception = Some(Exception {
                    by: by.to_string(),
                    reason: reason.to_string(),
                    rules,
                });
                Ok(self)
            }
            _ => Err(Refusal::NotEligible(self.reasons)),
        }
    }
}
