//! Bedarfsgemeinschaften (§ 7 Abs. 3 SGB II): the people who live and are in need together.

use crate::ids::{CustomerId, MemberId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::customer::age_on;

/// A member's place in the Bedarfsgemeinschaft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdRole {
    /// The person who applied (*Antragsteller/in*).
    Applicant,
    /// Spouse, registered or presumed partner (§ 7 Abs. 3 Nr. 3, Abs. 3a SGB II).
    Partner,
    /// An unmarried child under 25 in the household (§ 7 Abs. 3 Nr. 4 SGB II).
    Child,
    /// Anyone else counted in the BG (e.g. parents of an employable child under 25).
    Other,
}

/// A member as the rules see them: role and date of birth, and the customer record if
/// the person has one (children usually do not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdMember {
    pub id: MemberId,
    pub customer_id: Option<CustomerId>,
    pub role: HouseholdRole,
    pub date_of_birth: NaiveDate,
}

/// Age of majority (§ 2 BGB).
pub const MAJORITY_AGE: i32 = 18;

/// Minor children of the BG on a date.
pub fn minor_children(members: &[HouseholdMember], on: NaiveDate) -> usize {
    members
        .iter()
        // born by then and not yet of age
        .filter(|m| {
            m.role == HouseholdRole::Child && (0..MAJORITY_AGE).contains(&age_on(m.date_of_birth, on))
        })
        .count()
}

/// Single parent (*alleinerziehend*): the customer is the one adult of the BG (applicant
/// or partner, and no other applicant or partner), and at least one minor child lives
/// there. (Domain rules, "Terms"; BA definition of *Alleinerziehende*.)
pub fn is_single_parent(customer_id: CustomerId, members: &[HouseholdMember], on: NaiveDate) -> bool {
    let adults: Vec<&HouseholdMember> = members
        .iter()
        .filter(|m| matches!(m.role, HouseholdRole::Applicant | HouseholdRole::Partner))
        .collect();
    adults.len() == 1
        && adults[0].customer_id == Some(customer_id)
        && age_on(adults[0].date_of_birth, on) >= MAJORITY_AGE
        && minor_children(members, on) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn member(customer: Option<CustomerId>, role: HouseholdRole, dob: &str) -> HouseholdMember {
        HouseholdMember {
            id: MemberId::new(),
            customer_id: customer,
            role,
            date_of_birth: d(dob),
        }
    }

    #[test]
    fn single_parent_needs_one_adult_and_a_minor_child() {
        let me = CustomerId::new();
        let on = d("2021-06-01");
        let mut bg = vec![
            member(Some(me), HouseholdRole::Applicant, "1985-01-01"),
            member(None, HouseholdRole::Child, "2010-01-01"),
        ];
        assert!(is_single_parent(me, &bg, on));
        // the child turns 18: no longer a single parent in the sense of the BA
        assert!(!is_single_parent(me, &bg, d("2028-01-01")));
        bg.push(member(None, HouseholdRole::Partner, "1984-01-01"));
        assert!(!is_single_parent(me, &bg, on));
    }
}

/// The household's own fields (members are managed through their own routes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdData {
    /// The BG number (*BG-Nummer*); unique.
    pub household_number: String,
    #[serde(default)]
    pub district: Option<String>,
}

impl crate::validation::Validate for HouseholdData {
    fn validate(&self) -> Vec<crate::validation::FieldError> {
        let mut c = crate::validation::Checker::default();
        c.text("household_number", &self.household_number, 32);
        c.optional_text("district", self.district.as_deref(), 100);
        c.finish()
    }
}

/// Most members a BG may hold; more is a data error.
pub const MAX_MEMBERS: usize = 30;
