//! Offers: places of one instrument at one provider over one period.

use crate::ids::ProviderId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::customer::GermanLevel;
use crate::target_groups::TargetGroup;
use crate::validation::{is_postal_code, Checker, FieldError, Validate};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// All participants start together on `starts_on`.
    Fixed,
    /// Participants enter continuously between `starts_on` and `ends_on`.
    Rolling,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Open,
    Closed,
}

/// Framework contracts buy places with an option of about 20 % more (the seed's corridor
/// of 70–120 %): without an explicit `max_places`, an offer admits 120 % of its planned
/// places, rounded down.
pub const DEFAULT_MAX_PLACES_PERCENT: i64 = 120;
/// Upper bound for places in one offer; anything larger is a typing error.
pub const MAX_PLACES_LIMIT: i32 = 100_000;
/// Upper bound for the cost of one place (10 Mio €), against typing errors.
pub const MAX_COST_PER_PLACE_CENTS: i64 = 1_000_000_000;

/// `max_places` when none is given: 120 % of the planned places, rounded down.
pub fn default_max_places(planned_places: i32) -> i32 {
    ((i64::from(planned_places) * DEFAULT_MAX_PLACES_PERCENT) / 100) as i32
}

/// An offer as stored. `max_places` is always set here; the API fills the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferData {
    pub instrument_code: String,
    pub provider_id: ProviderId,
    pub title: String,
    pub district: String,
    #[serde(default)]
    pub postal_code: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub entry: Entry,
    pub planned_places: i32,
    pub max_places: i32,
    /// The price per place. Left out when a provider reads another provider's offer:
    /// providers compete for the Jobcenter's purchases (the API is required to answer it
    /// to everyone else).
    #[schema(required = false)]
    pub cost_per_place_cents: i64,
    #[serde(default)]
    pub target_groups: Vec<TargetGroup>,
    #[serde(default)]
    pub min_age: Option<i32>,
    #[serde(default)]
    pub max_age: Option<i32>,
    #[serde(default)]
    pub min_german_level: Option<GermanLevel>,
    /// The offer is for people still learning German: at most this level. Offers for
    /// people learning German gate on the level, never on nationality or a proxy of it.
    #[serde(default)]
    pub max_german_level: Option<GermanLevel>,
    /// Last day the measure's own AZAV approval (§§ 176, 179 SGB III) is valid; AVGS-MAT
    /// and FbW need it on the start day besides the provider's (§ 45 Abs. 4 Satz 3 Nr. 1,
    /// § 81 Abs. 1 Satz 1 Nr. 3 SGB III).
    #[serde(default)]
    pub measure_approved_until: Option<NaiveDate>,
    pub status: OfferStatus,
    /// The provider's steering of its intake: set only through
    /// `POST /offers/{id}/intake` (read-only here).
    #[serde(default)]
    pub intake: Intake,
}

/// Whether the provider takes new participants now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntakeStatus {
    #[default]
    Open,
    /// No new reservation (409 `intake_paused`); placements made stay.
    Paused,
}

/// A provider's intake of an offer: paused or open, and how many places it can fill now.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Intake {
    pub status: IntakeStatus,
    /// Why it was paused (or opened again), as the provider said.
    #[serde(default)]
    pub reason: Option<String>,
    /// Places the provider can fill now (at most `max_places`); `null`: `max_places`.
    #[serde(default)]
    pub places_now: Option<i32>,
    #[serde(default)]
    pub changed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who changed it last (username).
    #[serde(default)]
    pub changed_by: Option<String>,
}

impl OfferData {
    /// Open for placements on `day`: not closed, and not over.
    pub fn is_open_on(&self, day: NaiveDate) -> bool {
        self.status == OfferStatus::Open && day <= self.ends_on
    }

    /// The places active placements may hold now: `max_places`, capped by what the
    /// provider can fill (`places_now`); none while intake is paused. Availability,
    /// ranking, cohort runs and placements count against this (invariant 1 holds a
    /// fortiori: it is never above `max_places`).
    pub fn places_open(&self) -> i64 {
        match self.intake.status {
            IntakeStatus::Paused => 0,
            IntakeStatus::Open => i64::from(
                self.intake
                    .places_now
                    .map_or(self.max_places, |p| p.min(self.max_places))
                    .max(0),
            ),
        }
    }
}

impl Validate for OfferData {
    fn validate(&self) -> Vec<FieldError> {
        let mut c = Checker::default();
        c.text("instrument_code", &self.instrument_code, 32);
        c.text("title", &self.title, 200);
        c.text("district", &self.district, 100);
        if let Some(pc) = &self.postal_code {
            if !is_postal_code(pc) {
                c.fail("postal_code", "must be five digits");
            }
        }
        if self.ends_on < self.starts_on {
            c.fail("ends_on", "must not be before starts_on");
        }
        if !(0..=MAX_PLACES_LIMIT).contains(&self.planned_places) {
            c.fail(
                "planned_places",
                format!("must be between 0 and {MAX_PLACES_LIMIT}"),
            );
        }
        if !(0..=MAX_PLACES_LIMIT).contains(&self.max_places) {
            c.fail("max_places", format!("must be between 0 and {MAX_PLACES_LIMIT}"));
        }
        if !(0..=MAX_COST_PER_PLACE_CENTS).contains(&self.cost_per_place_cents) {
            c.fail(
                "cost_per_place_cents",
                format!("must be between 0 and {MAX_COST_PER_PLACE_CENTS}"),
            );
        }
        for (field, age) in [("min_age", self.min_age), ("max_age", self.max_age)] {
            if let Some(a) = age {
                if !(15..=67).contains(&a) {
                    // eLb are 15 up to the statutory age limit (§ 7 Abs. 1, § 7a SGB II)
                    c.fail(field, "must be between 15 and 67");
                }
            }
        }
        if let (Some(lo), Some(hi)) = (self.min_age, self.max_age) {
            if lo > hi {
                c.fail("max_age", "must not be below min_age");
            }
        }
        if let (Some(lo), Some(hi)) = (self.min_german_level, self.max_german_level) {
            if lo > hi {
                c.fail("max_german_level", "must not be below min_german_level");
            }
        }
        if self.target_groups.iter().any(|g| !g.may_decide()) {
            // Art. 3 Abs. 3 GG, § 1 AGG, Art. 9 DSGVO: a proxy of nationality gates nothing
            c.fail(
                "target_groups",
                "migration_background is derived from nationality and may not restrict an offer; \
                 gate on max_german_level (people learning German) or refugee (legal status)",
            );
        }
        let mut tgs = self.target_groups.clone();
        tgs.sort();
        tgs.dedup();
        if tgs.len() != self.target_groups.len() {
            c.fail("target_groups", "must not repeat a target group");
        }
        c.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_max_places_is_120_percent_rounded_down() {
        assert_eq!(default_max_places(10), 12);
        assert_eq!(default_max_places(7), 8); // 8.4
        assert_eq!(default_max_places(0), 0);
        assert_eq!(default_max_places(MAX_PLACES_LIMIT), 120_000);
    }
}
