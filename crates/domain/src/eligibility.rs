//! Eligibility: one rule set per instrument, evaluated as of a reference date from the
//! customer's history, each rule answering passed or failed with a reason a person can
//! read and the legal source that anyone can check.
//!
//! Rules carry the period they are valid for, so a decision can be recomputed as the law
//! stood on its date (§ 16i made permanent on 1.1.2023; FbW funded by the Agentur für
//! Arbeit from 1.1.2025). Figures that are administrative practice, not law, are
//! [`RuleParams`] and come from configuration.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::customer::{age_on, CustomerData, VocationalQualification};
use crate::household::{minor_children, HouseholdMember};
use crate::offer::{OfferData, OfferStatus};
use crate::provider::ProviderData;
use crate::spells::{covered_days, Spell};
use crate::target_groups::{self, unemployed_for_months, TargetGroup};

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
    /// A failed rule that an admin may override with a recorded reason (§ 16d Abs. 6
    /// Satz 2 SGB II for the AGH cap; the FbW three-year rule's exceptions).
    #[serde(default)]
    pub overridable: bool,
}

impl Reason {
    fn new(rule: &str, passed: bool, source: &str, detail: String) -> Self {
        Reason {
            rule: rule.to_string(),
            passed,
            detail,
            source: source.to_string(),
            overridable: false,
        }
    }

    fn overridable(mut self) -> Self {
        self.overridable = !self.passed;
        self
    }
}

/// Eligibility for one instrument (and, when checked for a placement, one offer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Eligibility {
    pub instrument_code: String,
    pub eligible: bool,
    pub reasons: Vec<Reason>,
}

impl Eligibility {
    fn from_reasons(code: &str, reasons: Vec<Reason>) -> Self {
        Eligibility {
            instrument_code: code.to_string(),
            eligible: reasons.iter().all(|r| r.passed),
            reasons,
        }
    }

    /// Whether every failed rule may be overridden (and at least one failed).
    pub fn overridable(&self) -> bool {
        !self.eligible && self.reasons.iter().filter(|r| !r.passed).all(|r| r.overridable)
    }
}

/// Administrative practice, configurable (domain rules: "parameters").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RuleParams {
    /// § 16i: employment in the qualifying period counts as "kurzzeitig" up to this many
    /// days in total (Fachliche Weisungen; practice).
    pub p16i_short_employment_max_days: i64,
    /// § 16d Abs. 6: months of AGH that an override may add beyond the 24-month cap.
    pub agh_extension_months: u32,
    /// § 45 Abs. 2 SGB III: MAG at an employer at most 6 weeks, 12 for LZA or severe
    /// barriers (the weeks are law; kept here so a change needs no release).
    pub mag_max_weeks: i64,
    pub mag_max_weeks_extended: i64,
}

impl Default for RuleParams {
    fn default() -> Self {
        RuleParams {
            p16i_short_employment_max_days: 183,
            agh_extension_months: 12,
            mag_max_weeks: 6,
            mag_max_weeks_extended: 12,
        }
    }
}

/// An earlier or running placement of the customer, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastPlacement {
    pub instrument_code: String,
    pub provider_id: Uuid,
    /// Entry date (*Eintritt*); `None` if the placement never started.
    pub started_on: Option<NaiveDate>,
    /// Exit date; `None` while running.
    pub ended_on: Option<NaiveDate>,
}

/// Whom the rules are evaluated for.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub customer_id: Uuid,
    pub customer: &'a CustomerData,
    pub household: &'a [HouseholdMember],
    pub history: &'a [PastPlacement],
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid constant date")
}

fn months_ago(on: NaiveDate, months: u32) -> NaiveDate {
    on.checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN)
}

fn fmt_date(date: NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

/// § 7a SGB II: the age limit is 65 for births before 1947, rising by one month per year
/// of birth to 66 (1958), then by two months to 67 for births from 1964; it is reached at
/// the end of the month in which that age is completed.
pub fn statutory_age_limit_date(date_of_birth: NaiveDate) -> NaiveDate {
    let y = date_of_birth.year();
    let months: u32 = match y {
        ..=1946 => 65 * 12,
        1947..=1958 => 65 * 12 + (y - 1946) as u32,
        1959..=1963 => 66 * 12 + 2 * (y - 1958) as u32,
        _ => 67 * 12,
    };
    let reached = date_of_birth
        .checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX);
    // end of that month
    let first_of_next = reached
        .with_day(1)
        .and_then(|f| f.checked_add_months(Months::new(1)))
        .unwrap_or(NaiveDate::MAX);
    first_of_next.pred_opt().unwrap_or(reached)
}

/// Calendar months in `[from, to)` (month by month back from `to`) with benefit receipt on
/// at least one day.
pub fn benefit_months(spells: &[Spell], to_exclusive: NaiveDate, months: u32) -> u32 {
    (0..months)
        .filter(|k| {
            let end = months_ago(to_exclusive, *k).pred_opt().unwrap_or(NaiveDate::MIN);
            let start = months_ago(to_exclusive, k + 1);
            covered_days(spells, start, end) > 0
        })
        .count() as u32
}

/// Length of `[from, to]` (inclusive) in calendar months: whole months first, the rest as
/// a fraction of the following month (1.1.–31.12. is exactly 12 months, § 188 BGB).
pub fn calendar_months(from: NaiveDate, to: NaiveDate) -> f64 {
    let Some(end) = to.succ_opt() else { return 0.0 };
    if end <= from {
        return 0.0;
    }
    let mut whole = 0u32;
    while from
        .checked_add_months(Months::new(whole + 1))
        .is_some_and(|m| m <= end)
    {
        whole += 1;
    }
    let anchor = from.checked_add_months(Months::new(whole)).unwrap_or(end);
    let next = anchor.checked_add_months(Months::new(1)).unwrap_or(end);
    let month_len = (next - anchor).num_days().max(1) as f64;
    whole as f64 + (end - anchor).num_days() as f64 / month_len
}

/// Months of participation in placements of `codes` within `[start, end]`.
fn participation_months(history: &[PastPlacement], codes: &[&str], start: NaiveDate, end: NaiveDate) -> f64 {
    history
        .iter()
        .filter(|p| codes.contains(&p.instrument_code.as_str()))
        .filter_map(|p| {
            p.started_on
                .map(|s| (s.max(start), p.ended_on.unwrap_or(end).min(end)))
        })
        .filter(|(a, b)| a <= b)
        .map(|(a, b)| calendar_months(a, b))
        .sum()
}

/// A rule that holds only between `from` and `until` (its period of validity).
#[allow(clippy::too_many_arguments)]
fn in_force(
    sink: &mut dyn RuleSink,
    rule: &str,
    source: &str,
    on: NaiveDate,
    from: NaiveDate,
    until: Option<NaiveDate>,
    what: &str,
    when_not: &str,
) -> bool {
    let ok = on >= from && until.is_none_or(|u| on <= u);
    sink.check(rule, ok, source, false, &|| {
        let period = match until {
            Some(u) => format!("{} to {}", fmt_date(from), fmt_date(u)),
            None => format!("since {}", fmt_date(from)),
        };
        if ok {
            format!("{what} is in force on {} ({period})", fmt_date(on))
        } else {
            format!(
                "{what} is not in force on {} (only {period}){when_not}",
                fmt_date(on)
            )
        }
    })
}

/// eLb (§ 7 Abs. 1 Nr. 1, § 7a SGB II): at least 15 and below the statutory age limit.
fn elb_age(sink: &mut dyn RuleSink, s: &Subject, on: NaiveDate) -> bool {
    let age = age_on(s.customer.date_of_birth, on);
    let limit = statutory_age_limit_date(s.customer.date_of_birth);
    let ok = age >= 15 && on <= limit;
    sink.check("elb.age", ok, "§ 7 Abs. 1 Nr. 1, § 7a SGB II", false, &|| {
        format!(
            "aged {age} on {}; eLb from 15 until the age limit ({})",
            fmt_date(on),
            fmt_date(limit)
        )
    })
}

fn age_at_least(
    sink: &mut dyn RuleSink,
    rule: &str,
    source: &str,
    s: &Subject,
    on: NaiveDate,
    min: i32,
) -> bool {
    let age = age_on(s.customer.date_of_birth, on);
    sink.check(rule, age >= min, source, false, &|| {
        format!("aged {age} on {} (at least {min} required)", fmt_date(on))
    })
}

fn age_below(
    sink: &mut dyn RuleSink,
    rule: &str,
    source: &str,
    s: &Subject,
    on: NaiveDate,
    max_exclusive: i32,
) -> bool {
    let age = age_on(s.customer.date_of_birth, on);
    sink.check(rule, age < max_exclusive, source, false, &|| {
        format!("aged {age} on {} (under {max_exclusive} required)", fmt_date(on))
    })
}

fn no_qualification(s: &Subject) -> bool {
    matches!(
        s.customer.vocational_qualification,
        VocationalQualification::None | VocationalQualification::Partial
    )
}

/// Continues with the next rule only while the sink wants more.
macro_rules! rule {
    ($e:expr) => {
        if !$e {
            return;
        }
    };
}

// ---- § 16i SGB II --------------------------------------------------------------------

/// § 16i Abs. 3 SGB II: lifetime cap of five years of subsidy (Abs. 2 Satz 2: "für bis zu
/// fünf Jahre"); earlier § 16i months count.
pub const P16I_LIFETIME_MONTHS: f64 = 60.0;

fn p16i(sink: &mut dyn RuleSink, s: &Subject, on: NaiveDate, params: &RuleParams) {
    const SRC: &str = "§ 16i Abs. 3 SGB II";
    rule!(in_force(
        sink,
        "p16i.in_force",
        "§ 16i SGB II (Teilhabechancengesetz; unbefristet seit 1.1.2023)",
        on,
        d(2019, 1, 1),
        None,
        "§ 16i SGB II",
        "",
    ));
    rule!(age_at_least(
        sink,
        "p16i.age_25",
        "§ 16i Abs. 3 Satz 1 Nr. 1 SGB II",
        s,
        on,
        25,
    ));
    // 6 of the last 7 years; 5 years with a minor child in the BG or a severe disability
    let children = minor_children(s.household, on);
    let reduced = children > 0 || s.customer.severely_disabled;
    let required = if reduced { 60 } else { 72 };
    let got = benefit_months(&s.customer.benefit_spells, on, 84);
    let why = if children > 0 {
        " (reduced: minor child in the Bedarfsgemeinschaft)"
    } else if s.customer.severely_disabled {
        " (reduced: severe disability)"
    } else {
        ""
    };
    rule!(sink.check(
        "p16i.benefit_years",
        got >= required,
        "§ 16i Abs. 3 Satz 1 Nr. 2, Satz 3 SGB II",
        false,
        &|| format!("benefits in {got} of the last 84 months; {required} required{why}"),
    ));
    let window_start = months_ago(on, 84);
    let yesterday = on.pred_opt().unwrap_or(on);
    let employed = covered_days(&s.customer.employment_spells, window_start, yesterday);
    rule!(sink.check(
        "p16i.short_employment_only",
        employed <= params.p16i_short_employment_max_days,
        "§ 16i Abs. 3 Satz 1 Nr. 3 SGB II; kurzzeitig: practice",
        false,
        &|| {
            format!(
                "{employed} days of employment in the last 84 months (at most {} count as short)",
                params.p16i_short_employment_max_days
            )
        },
    ));
    let used = participation_months(s.history, &["P16I"], NaiveDate::MIN, yesterday);
    sink.check(
        "p16i.lifetime_cap",
        used < P16I_LIFETIME_MONTHS,
        SRC,
        false,
        &|| format!("{used:.1} of {P16I_LIFETIME_MONTHS} months of § 16i subsidy used"),
    );
}

// ---- § 16e SGB II --------------------------------------------------------------------

fn p16e(sink: &mut dyn RuleSink, s: &Subject, on: NaiveDate) {
    rule!(in_force(
        sink,
        "p16e.in_force",
        "§ 16e SGB II i.d.F. des Teilhabechancengesetzes",
        on,
        d(2019, 1, 1),
        None,
        "§ 16e SGB II (new version)",
        "",
    ));
    sink.check(
        "p16e.unemployed_2_years",
        unemployed_for_months(s.customer, on, 24),
        "§ 16e Abs. 3 Nr. 1 SGB II; § 18 SGB III",
        false,
        &|| match target_groups::unemployed_since(s.customer, on) {
            Some(from) => format!("unemployed since {} (at least 2 years required)", fmt_date(from)),
            None => format!("not unemployed on {}", fmt_date(on)),
        },
    );
}

// ---- § 16d SGB II (AGH) --------------------------------------------------------------

/// § 16d Abs. 6 SGB II: at most 24 months within five years.
pub const AGH_CAP_MONTHS: f64 = 24.0;

fn agh(sink: &mut dyn RuleSink, s: &Subject, on: NaiveDate) {
    let start = months_ago(on, 60);
    let yesterday = on.pred_opt().unwrap_or(on);
    let used = participation_months(s.history, &["AGH"], start, yesterday);
    sink.check(
        "agh.cap_24_in_5_years",
        used < AGH_CAP_MONTHS,
        "§ 16d Abs. 6 SGB II",
        true,
        &|| format!("{used:.1} months of AGH in the last five years (cap {AGH_CAP_MONTHS}; up to 12 more by recorded exception)"),
    );
}

// ---- FbW -----------------------------------------------------------------------------

/// From 1.1.2025 the Agentur für Arbeit funds FbW for eLb (domain rules; Haushalts-
/// finanzierungsgesetz 2024): the Jobcenter refers instead of placing.
pub const FBW_JOBCENTER_UNTIL: (i32, u32, u32) = (2024, 12, 31);

fn fbw(sink: &mut dyn RuleSink, s: &Subject, on: NaiveDate) {
    let (y, m, dd) = FBW_JOBCENTER_UNTIL;
    rule!(in_force(
        sink,
        "fbw.jobcenter_funds",
        "§ 16 Abs. 1 SGB II i.V.m. §§ 81 ff. SGB III; ab 1.1.2025 Agentur für Arbeit",
        on,
        d(2005, 1, 1),
        Some(d(y, m, dd)),
        "FbW funding by the Jobcenter",
        ": refer the customer to the Agentur für Arbeit",
    ));
    // Missing vocational qualification (§ 81 Abs. 2 SGB III) and the three-year rule:
    // without a qualification and with less than three years of work experience, only if an
    // apprenticeship is impossible or unreasonable, or for a shortage occupation.
    if no_qualification(s) {
        let worked: i64 = covered_days(&s.customer.employment_spells, NaiveDate::MIN, on);
        let years = worked as f64 / 365.25;
        sink.check(
            "fbw.three_year_rule",
            years >= 3.0,
            "§ 81 Abs. 2 Satz 2 SGB III",
            true,
            &|| {
                format!(
                    "no vocational qualification and {years:.1} years of work experience; under 3 years only if an \
                     apprenticeship is impossible or unreasonable, or for a shortage occupation (record the reason)"
                )
            },
        );
    } else {
        sink.check("fbw.necessity", true, "§ 81 Abs. 1 SGB III", false, &|| {
            "vocational qualification present: necessity is decided in counselling".into()
        });
    }
}

// ---- others --------------------------------------------------------------------------

/// § 16b Abs. 2 SGB II: Einstiegsgeld for at most 24 months.
pub const ESG_MAX_MONTHS: f64 = 24.0;
/// §§ 88 ff. SGB III: EGZ up to 12 months (longer for disabled people, § 90).
pub const EGZ_MAX_MONTHS: f64 = 12.0;

fn esg(sink: &mut dyn RuleSink, s: &Subject, on: NaiveDate) {
    let unemployed = target_groups::unemployed_since(s.customer, on).is_some();
    rule!(sink.check(
        "esg.unemployed",
        unemployed,
        "§ 16b Abs. 1 SGB II",
        false,
        &|| {
            if unemployed {
                "unemployed: Einstiegsgeld may support taking up work".into()
            } else {
                format!("not unemployed on {}", fmt_date(on))
            }
        }
    ));
    let yesterday = on.pred_opt().unwrap_or(on);
    let used = participation_months(s.history, &["ESG"], NaiveDate::MIN, yesterday);
    sink.check(
        "esg.max_24_months",
        used < ESG_MAX_MONTHS,
        "§ 16b Abs. 2 SGB II",
        false,
        &|| format!("{used:.1} of {ESG_MAX_MONTHS} months of Einstiegsgeld used"),
    );
}

fn egz(sink: &mut dyn RuleSink, s: &Subject, on: NaiveDate) {
    let yesterday = on.pred_opt().unwrap_or(on);
    let start = months_ago(on, 48);
    let used = participation_months(s.history, &["EGZ"], start, yesterday);
    let max = if s.customer.severely_disabled {
        60.0
    } else {
        EGZ_MAX_MONTHS
    };
    sink.check(
        "egz.duration",
        used < max,
        "§§ 88, 89, 90 SGB III",
        false,
        &|| format!("{used:.1} months of EGZ in the last four years (up to {max} months)"),
    );
}

fn young_without_apprenticeship(
    sink: &mut dyn RuleSink,
    (age_rule, qualification_rule): (&str, &str),
    source: &str,
    s: &Subject,
    on: NaiveDate,
) {
    rule!(age_below(sink, age_rule, source, s, on, 25));
    sink.check(qualification_rule, no_qualification(s), source, false, &|| {
        format!(
            "vocational qualification: {}",
            crate::customer::qualification_label(s.customer.vocational_qualification)
        )
    });
}

/// The instrument rules (without offer properties) for one instrument code. Unknown
/// codes (admin additions) have only the general eLb rule.
pub fn instrument_rules(s: &Subject, code: &str, on: NaiveDate, params: &RuleParams) -> Vec<Reason> {
    let mut r = Vec::new();
    instrument_checks(s, code, on, params, &mut r);
    r
}

/// Whether every instrument rule passes; stops at the first failure and builds no text
/// (the ranking's hot path).
pub fn instrument_passes(s: &Subject, code: &str, on: NaiveDate, params: &RuleParams) -> bool {
    let mut all = AllPass(true);
    instrument_checks(s, code, on, params, &mut all);
    all.0
}

fn instrument_checks(s: &Subject, code: &str, on: NaiveDate, params: &RuleParams, sink: &mut dyn RuleSink) {
    rule!(elb_age(sink, s, on));
    match code {
        "P16I" => p16i(sink, s, on, params),
        "P16E" => p16e(sink, s, on),
        "AGH" => agh(sink, s, on),
        "FBW" => fbw(sink, s, on),
        "ESG" => esg(sink, s, on),
        "EGZ" => egz(sink, s, on),
        "ASA" => young_without_apprenticeship(
            sink,
            ("asa.age", "asa.no_qualification"),
            "§§ 74 ff. SGB III",
            s,
            on,
        ),
        "BAE" => {
            young_without_apprenticeship(sink, ("bae.age", "bae.no_qualification"), "§ 76 SGB III", s, on)
        }
        "EQ" => {
            age_below(sink, "eq.age", "§ 54a Abs. 4 SGB III", s, on, 25);
        }
        "P16H" => {
            age_below(sink, "p16h.age", "§ 16h Abs. 1 SGB II", s, on, 25);
        }
        "P16C" => {
            let ok = s.customer.solo_self_employed;
            sink.check("p16c.self_employed", ok, "§ 16c SGB II", false, &|| {
                if ok {
                    "self-employed".into()
                } else {
                    "not self-employed".into()
                }
            });
        }
        "REHA" => {
            let ok = s.customer.rehabilitant || s.customer.severely_disabled;
            sink.check(
                "reha.status",
                ok,
                "§ 16 Abs. 1 SGB II i.V.m. §§ 112 ff. SGB III; § 19 SGB III",
                false,
                &|| {
                    if ok {
                        "rehabilitant or severely disabled".into()
                    } else {
                        "neither rehabilitant nor severely disabled".into()
                    }
                },
            );
        }
        "AVGS_MAT" | "MAG" => {
            sink.check(
                "avgs.discretionary",
                true,
                "§ 16 Abs. 1 SGB II i.V.m. § 45 SGB III (Ermessen)",
                false,
                &|| "no entitlement: the specialist decides within discretion".into(),
            );
        }
        _ => {}
    }
}

/// Receives rule outcomes; the detail text is built only when the sink asks for it.
pub trait RuleSink {
    /// Returns `false` to stop evaluating further rules. `overridable`: a failure of
    /// this rule may be overridden with a recorded reason.
    fn check(
        &mut self,
        rule: &str,
        passed: bool,
        source: &str,
        overridable: bool,
        detail: &dyn Fn() -> String,
    ) -> bool;
}

impl RuleSink for Vec<Reason> {
    fn check(
        &mut self,
        rule: &str,
        passed: bool,
        source: &str,
        overridable: bool,
        detail: &dyn Fn() -> String,
    ) -> bool {
        let reason = Reason::new(rule, passed, source, detail());
        self.push(if overridable { reason.overridable() } else { reason });
        true
    }
}

/// Records whether all rules passed, stopping at the first failure.
struct AllPass(bool);

impl RuleSink for AllPass {
    fn check(&mut self, _: &str, passed: bool, _: &str, _: bool, _: &dyn Fn() -> String) -> bool {
        self.0 &= passed;
        passed
    }
}

macro_rules! emit {
    ($sink:expr, $rule:expr, $passed:expr, $source:expr, $detail:expr $(,)?) => {
        rule!($sink.check($rule, $passed, $source, false, &|| $detail))
    };
}

/// The rules of one offer: period and status, the offer's age and German limits and
/// target groups, the provider's AZAV approval where the instrument needs one, the
/// instrument's own duration limits, and no repeat EQ at the same firm. `groups` are the
/// customer's target groups as of `on` (derived once by the caller).
pub fn offer_rules(
    s: &Subject,
    groups: &[TargetGroup],
    offer: &OfferData,
    provider: &ProviderData,
    on: NaiveDate,
    params: &RuleParams,
) -> Vec<Reason> {
    let mut r = Vec::new();
    offer_checks(s, groups, offer, provider, on, params, &mut r);
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
    params: &RuleParams,
) -> bool {
    let mut all = AllPass(true);
    offer_checks(s, groups, offer, provider, on, params, &mut all);
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
        "offer.open",
        offer.status == OfferStatus::Open && on <= offer.ends_on,
        "offer",
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
        let age = age_on(s.customer.date_of_birth, on);
        let ok = offer.min_age.is_none_or(|m| age >= m) && offer.max_age.is_none_or(|m| age <= m);
        emit!(
            sink,
            "offer.age_limits",
            ok,
            "offer",
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
            "offer.german_level",
            s.customer.german_level >= min,
            "offer",
            format!(
                "German level {} (at least {} required)",
                crate::customer::german_label(s.customer.german_level),
                crate::customer::german_label(min)
            ),
        );
    }
    if !offer.target_groups.is_empty() {
        // the names of the matching groups are collected for the text only
        let hits = || offer.target_groups.iter().filter(|g| groups.contains(g));
        emit!(
            sink,
            "offer.target_groups",
            hits().next().is_some(),
            "offer (AMIP 2021 target groups)",
            if hits().next().is_none() {
                format!(
                    "the offer is for {}; the customer belongs to none of them",
                    offer
                        .target_groups
                        .iter()
                        .map(|g| g.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                let hit: Vec<&str> = hits().map(|g| g.as_str()).collect();
                format!("target group {}", hit.join(", "))
            },
        );
    }
    if matches!(offer.instrument_code.as_str(), "AVGS_MAT" | "FBW") {
        let start = offer.starts_on.max(on);
        emit!(
            sink,
            "provider.azav_valid",
            provider.azav_valid_on(start),
            "§ 45 Abs. 4, § 81 Abs. 1 Nr. 3 SGB III; §§ 176 ff. SGB III (AZAV)",
            match provider.azav_certified_until {
                Some(u) => format!(
                    "AZAV approval valid until {}; needed on {}",
                    fmt_date(u),
                    fmt_date(start)
                ),
                None => "the provider holds no AZAV approval".into(),
            },
        );
    }
    if offer.instrument_code == "MAG" {
        let weeks = ((offer.ends_on - offer.starts_on).num_days() + 1 + 6) / 7;
        let extended = unemployed_for_months(s.customer, on, 12) || s.customer.severely_disabled;
        let max = if extended {
            params.mag_max_weeks_extended
        } else {
            params.mag_max_weeks
        };
        emit!(
            sink,
            "mag.duration",
            weeks <= max,
            "§ 45 Abs. 2 Satz 2 SGB III",
            format!("{weeks} weeks at the employer (at most {max})"),
        );
    }
    if offer.instrument_code == "EQ" {
        let since = on.checked_sub_days(Days::new(3 * 365)).unwrap_or(NaiveDate::MIN);
        let before = s.history.iter().any(|p| {
            p.instrument_code == "EQ"
                && p.provider_id == offer.provider_id
                && p.started_on.is_some_and(|st| st >= since)
        });
        emit!(
            sink,
            "eq.same_firm_3_years",
            !before,
            "§ 54a Abs. 5 SGB III",
            if before {
                "an EQ with the same firm within the last three years".into()
            } else {
                "no EQ with this firm within the last three years".into()
            },
        );
    }
}

/// Eligibility for every instrument code given, as of `on`.
pub fn for_instruments<'c>(
    s: &Subject,
    codes: impl IntoIterator<Item = &'c str>,
    on: NaiveDate,
    params: &RuleParams,
) -> Vec<Eligibility> {
    codes
        .into_iter()
        .map(|code| Eligibility::from_reasons(code, instrument_rules(s, code, on, params)))
        .collect()
}

/// Eligibility for one offer: the instrument's rules and the offer's, as of `on`.
pub fn for_offer(
    s: &Subject,
    offer: &OfferData,
    provider: &ProviderData,
    on: NaiveDate,
    params: &RuleParams,
) -> Eligibility {
    let mut reasons = instrument_rules(s, &offer.instrument_code, on, params);
    let groups = target_groups::derive(s.customer_id, s.customer, s.household, on);
    reasons.extend(offer_rules(s, &groups, offer, provider, on, params));
    Eligibility::from_reasons(&offer.instrument_code, reasons)
}

/// The day a placement's eligibility is judged: the offer's start, or today for an offer
/// that is already running (rolling entry) or started in the past.
pub fn reference_day(offer: &OfferData, today: NaiveDate) -> NaiveDate {
    offer.starts_on.max(today)
}
