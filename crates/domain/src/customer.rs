//! Customers (*Kundinnen und Kunden*): the eLb the Jobcenter supports.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::participation::PriorParticipation;
use crate::spells::Spell;
use crate::validation::{is_email, is_postal_code, Checker, FieldError, Validate};

/// Gender as recorded (§ 22 PStG knows `divers` and no entry). Never a scoring factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
    Diverse,
    Unspecified,
}

/// Highest completed vocational qualification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VocationalQualification {
    /// No vocational qualification.
    None,
    /// Training started or partly completed, no recognised qualification.
    Partial,
    /// Completed vocational training (≥ 2 years).
    Vocational,
    /// University degree.
    Academic,
}

/// Command of German on the CEFR scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub enum GermanLevel {
    #[serde(rename = "none")]
    None,
    A1,
    A2,
    B1,
    B2,
    C1,
    C2,
    #[serde(rename = "native")]
    Native,
}

/// Everything a specialist records about a customer. This is both the body of
/// `POST /customers` and the stored state; derived values (target groups) are computed
/// from it, never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerData {
    /// The Jobcenter's customer number (*Kundennummer*); unique.
    pub customer_number: String,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: NaiveDate,
    pub gender: Gender,
    /// ISO 3166-1 alpha-2, upper case (`DE`, `SY`, …).
    pub nationality: String,
    #[serde(default)]
    pub postal_code: Option<String>,
    /// City district (*Stadtbezirk*), used for distance in recommendations.
    #[serde(default)]
    pub district: Option<String>,
    pub vocational_qualification: VocationalQualification,
    pub german_level: GermanLevel,
    #[serde(default)]
    pub health_restrictions: bool,
    #[serde(default)]
    pub severely_disabled: bool,
    #[serde(default)]
    pub rehabilitant: bool,
    #[serde(default)]
    pub refugee: bool,
    #[serde(default)]
    pub solo_self_employed: bool,
    /// Periods of benefit receipt (in need, SGB II).
    #[serde(default)]
    pub benefit_spells: Vec<Spell>,
    /// Periods of registered unemployment (§ 16 SGB III).
    #[serde(default)]
    pub unemployment_spells: Vec<Spell>,
    /// Periods of employment (subject to social insurance or marginal); each may name its
    /// employer (`employer_id`, a provider) for the same-firm exclusions.
    #[serde(default)]
    pub employment_spells: Vec<Spell>,
    /// Periods of self-employment (§ 16i Abs. 3 Satz 1 Nr. 3 SGB II counts them like
    /// employment).
    #[serde(default)]
    pub self_employment_spells: Vec<Spell>,
    /// Participations from before the system, counted by the rules like placements.
    #[serde(default)]
    pub prior_participations: Vec<PriorParticipation>,
    /// The specialist's recorded assessment that the customer can take up work directly.
    /// From 1.7.2026 a measure for such a customer needs a recorded exception
    /// (Vermittlungsvorrang, § 3 Abs. 1 SGB II i.d.F. des 13. SGB II-ÄndG).
    #[serde(default)]
    pub job_ready: bool,
    /// The specialist's recorded assessment that the customer's placement is seriously
    /// impeded (§ 45 Abs. 2 Satz 2 SGB III: MAG up to 12 weeks).
    #[serde(default)]
    pub seriously_impeded_placement: bool,
    /// How to reach the person. The postal address is `contact.street`, `postal_code` and
    /// `contact.city`.
    #[serde(default)]
    pub contact: Contact,
    /// A legal hold suspends the erasure of the closed case (§ 84 Abs. 3 SGB X): while
    /// litigation, an audit or a claim needs the file. Only an admin sets or lifts it.
    #[serde(default)]
    pub legal_hold: bool,
}

/// The way a customer chose to be contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    /// Letter to the postal address.
    Post,
    Phone,
    Email,
}

/// How to reach a customer; every part optional, the chosen channel must be complete.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Street and house number (*Straße und Hausnummer*).
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    /// As dialled: digits, spaces and `+ ( ) / -`; 6 to 20 digits.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// The channel the customer chose; a provider of an active placement sees the name and
    /// this channel's data only (§ 69 Abs. 1 Nr. 1 SGB X).
    #[serde(default)]
    pub preferred_channel: Option<ContactChannel>,
}

/// What the chosen channel reaches: the address, the number or the mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChannelData {
    pub channel: ContactChannel,
    /// `post`: street, postal code and city on one line; `phone`: the number; `email`:
    /// the address.
    pub reach: String,
}

impl Contact {
    /// The data of the chosen channel, if one is chosen (and complete, as validation
    /// ensures).
    pub fn chosen(&self, postal_code: Option<&str>) -> Option<ChannelData> {
        let channel = self.preferred_channel?;
        let reach = match channel {
            ContactChannel::Post => format!(
                "{}, {} {}",
                self.street.as_deref()?,
                postal_code?,
                self.city.as_deref()?
            ),
            ContactChannel::Phone => self.phone.clone()?,
            ContactChannel::Email => self.email.clone()?,
        };
        Some(ChannelData { channel, reach })
    }

    fn check(&self, c: &mut Checker, postal_code: Option<&str>) {
        c.optional_text("contact.street", self.street.as_deref(), 200);
        c.optional_text("contact.city", self.city.as_deref(), 100);
        for (field, v) in [("contact.street", &self.street), ("contact.city", &self.city)] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                c.fail(field, "must not be blank; leave it out instead");
            }
        }
        if let Some(phone) = &self.phone {
            let digits = phone.bytes().filter(u8::is_ascii_digit).count();
            let allowed = phone
                .bytes()
                .enumerate()
                .all(|(i, b)| b.is_ascii_digit() || b" ()/-".contains(&b) || (b == b'+' && i == 0));
            if !allowed || !(6..=20).contains(&digits) {
                c.fail(
                    "contact.phone",
                    "must be 6 to 20 digits, with spaces and + ( ) / - as dialled",
                );
            }
        }
        if let Some(email) = &self.email {
            if email.len() > 254 || !is_email(email) {
                c.fail("contact.email", "must be an e-mail address (name@example.de)");
            }
        }
        let missing: &[&str] = match self.preferred_channel {
            None => &[],
            Some(ContactChannel::Post) => match (&self.street, postal_code, &self.city) {
                (Some(_), Some(_), Some(_)) => &[],
                _ => &["contact.street, postal_code and contact.city"],
            },
            Some(ContactChannel::Phone) if self.phone.is_none() => &["contact.phone"],
            Some(ContactChannel::Email) if self.email.is_none() => &["contact.email"],
            Some(_) => &[],
        };
        for m in missing {
            c.fail(
                "contact.preferred_channel",
                format!("the chosen channel needs {m}"),
            );
        }
    }
}

/// German level as people write it (`B1`, `keine`, `Muttersprache`).
pub fn german_label(level: GermanLevel) -> &'static str {
    match level {
        GermanLevel::None => "none",
        GermanLevel::A1 => "A1",
        GermanLevel::A2 => "A2",
        GermanLevel::B1 => "B1",
        GermanLevel::B2 => "B2",
        GermanLevel::C1 => "C1",
        GermanLevel::C2 => "C2",
        GermanLevel::Native => "native",
    }
}

/// Qualification as people write it.
pub fn qualification_label(q: VocationalQualification) -> &'static str {
    match q {
        VocationalQualification::None => "none",
        VocationalQualification::Partial => "partial (not completed)",
        VocationalQualification::Vocational => "vocational training",
        VocationalQualification::Academic => "academic degree",
    }
}

/// Most spells a history may hold; more is a data error, not a life.
pub const MAX_SPELLS: usize = 200;

/// Age in completed years on `on` (§ 187 Abs. 2 Satz 2, § 188 Abs. 2 BGB; see
/// [`crate::dates::completed_years`]).
pub fn age_on(date_of_birth: NaiveDate, on: NaiveDate) -> i32 {
    crate::dates::completed_years(date_of_birth, on)
}

impl CustomerData {
    pub fn age_on(&self, on: NaiveDate) -> i32 {
        age_on(self.date_of_birth, on)
    }
}

fn check_spells(c: &mut Checker, field: &str, spells: &[Spell], employer_allowed: bool) {
    if spells.len() > MAX_SPELLS {
        c.fail(field, format!("at most {MAX_SPELLS} spells"));
    }
    for (i, s) in spells.iter().enumerate() {
        if let Some(to) = s.to {
            if to < s.from {
                c.fail(&format!("{field}[{i}].to"), "must not be before `from`");
            }
        }
        if s.employer_id.is_some() && !employer_allowed {
            c.fail(
                &format!("{field}[{i}].employer_id"),
                "only employment spells name an employer",
            );
        }
    }
}

impl Validate for CustomerData {
    fn validate(&self) -> Vec<FieldError> {
        let mut c = Checker::default();
        c.text("customer_number", &self.customer_number, 32);
        c.text("first_name", &self.first_name, 100);
        c.text("last_name", &self.last_name, 100);
        if self.date_of_birth.year() < 1900 {
            c.fail("date_of_birth", "must not be before 1900");
        }
        if !(self.nationality.len() == 2 && self.nationality.bytes().all(|b| b.is_ascii_uppercase())) {
            c.fail(
                "nationality",
                "must be an ISO 3166-1 alpha-2 code in upper case, e.g. DE",
            );
        }
        c.optional_text("postal_code", self.postal_code.as_deref(), 5);
        if let Some(pc) = &self.postal_code {
            if !is_postal_code(pc) {
                c.fail("postal_code", "must be five digits");
            }
        }
        c.optional_text("district", self.district.as_deref(), 100);
        self.contact.check(&mut c, self.postal_code.as_deref());
        check_spells(&mut c, "benefit_spells", &self.benefit_spells, false);
        check_spells(&mut c, "unemployment_spells", &self.unemployment_spells, false);
        check_spells(&mut c, "employment_spells", &self.employment_spells, true);
        check_spells(
            &mut c,
            "self_employment_spells",
            &self.self_employment_spells,
            false,
        );
        for (field, spells) in [
            ("benefit_spells", &self.benefit_spells),
            ("unemployment_spells", &self.unemployment_spells),
            ("employment_spells", &self.employment_spells),
            ("self_employment_spells", &self.self_employment_spells),
        ] {
            if spells.iter().any(|s| s.from < self.date_of_birth) {
                c.fail(field, "a spell cannot start before the date of birth");
            }
        }
        c.finish()
    }
}

impl CustomerData {
    /// What only the day of recording can tell: a date of birth and prior participations
    /// not in the future, and prior participations of known instruments (`known`).
    pub fn validate_on(&self, today: NaiveDate, known: &dyn Fn(&str) -> bool) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = check_not_future("date_of_birth", self.date_of_birth, today)
            .into_iter()
            .collect();
        errors.extend(crate::participation::check_prior(
            &self.prior_participations,
            self.date_of_birth,
            today,
            known,
        ));
        errors
    }
}

/// A date of birth must not lie in the future of the day it is recorded.
pub fn check_not_future(field: &str, date: NaiveDate, today: NaiveDate) -> Option<FieldError> {
    (date > today).then(|| FieldError::new(field, "must not be in the future"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn age_counts_completed_years() {
        assert_eq!(age_on(d("2000-05-10"), d("2025-05-09")), 24);
        assert_eq!(age_on(d("2000-05-10"), d("2025-05-10")), 25);
        // born on 29 February: a year older on 1 March in a common year
        assert_eq!(age_on(d("2004-02-29"), d("2029-02-28")), 24);
        assert_eq!(age_on(d("2004-02-29"), d("2029-03-01")), 25);
    }

    #[test]
    fn german_levels_are_ordered() {
        assert!(GermanLevel::None < GermanLevel::A1);
        assert!(GermanLevel::B2 < GermanLevel::C1);
        assert!(GermanLevel::C2 < GermanLevel::Native);
    }
}
