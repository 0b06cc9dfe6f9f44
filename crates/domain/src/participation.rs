//! Participations in instruments: the placements made in Passgenau and the ones a customer
//! took part in before the Jobcenter used it (`prior_participations`). The caps and
//! exclusions of the rules (AGH months, § 16i years, an EQ at the same firm, § 45 measures
//! that do not interrupt unemployment) read both alike, through [`Participation`].

use crate::ids::ProviderId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::spells::{covered_days, Spell};
use crate::validation::FieldError;

/// Most prior participations a record may hold; more is a data error.
pub const MAX_PRIOR_PARTICIPATIONS: usize = 200;

/// A participation from before the system (contract: "Finding and bringing in people").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorParticipation {
    /// An instrument code of the catalogue (`AGH`, `P16I`, `EQ`, …).
    pub instrument_code: String,
    /// The day of entry.
    pub from: NaiveDate,
    /// The day of exit; `null` while it still runs.
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// The provider or employer: a provider's ID, or a name as recorded elsewhere. The
    /// same-firm rules compare it with the offer's provider (ID, or name ignoring case).
    #[serde(default)]
    pub provider_or_employer: Option<String>,
}

/// An earlier or running placement of the customer in Passgenau, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastPlacement {
    pub instrument_code: String,
    pub provider_id: ProviderId,
    /// Entry date (*Eintritt*); `None` if the placement never started.
    pub started_on: Option<NaiveDate>,
    /// Exit date; `None` while running.
    pub ended_on: Option<NaiveDate>,
    /// Whether the placement holds a place now (reserved, confirmed or started).
    pub active: bool,
    /// The offer's period, for the overlap of active placements (cohort runs).
    pub offer_period: (NaiveDate, NaiveDate),
    /// The day the placement was made.
    pub reserved_on: NaiveDate,
}

impl PastPlacement {
    /// The days the placement holds: from its entry to its exit (`None` while it runs); one
    /// reserved or confirmed but not started holds its offer's period from the day it was
    /// made; one that ended without a start (declined, no-show, cancelled) holds none.
    pub fn held(&self) -> Option<(NaiveDate, Option<NaiveDate>)> {
        match self.started_on {
            Some(from) => Some((from, self.ended_on)),
            None if self.active => Some((
                self.offer_period.0.max(self.reserved_on),
                Some(self.offer_period.1),
            )),
            None => None,
        }
    }
}

/// Who ran a participation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firm<'a> {
    Provider(ProviderId),
    Named(&'a str),
    Unknown,
}

impl Firm<'_> {
    /// Whether this is the provider `id` named `name` (a recorded name matches ignoring
    /// case and surrounding blanks; a recorded ID matches the ID).
    pub fn is(&self, id: ProviderId, name: &str) -> bool {
        match *self {
            Firm::Provider(p) => p == id,
            Firm::Named(text) => {
                let text = text.trim();
                text.parse::<ProviderId>().is_ok_and(|u| u == id)
                    || text.to_lowercase() == name.trim().to_lowercase()
            }
            Firm::Unknown => false,
        }
    }
}

/// One participation that started, from either source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Participation<'a> {
    pub instrument_code: &'a str,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub firm: Firm<'a>,
}

impl Participation<'_> {
    pub fn spell(&self) -> Spell {
        Spell::new(self.from, self.to)
    }
}

/// Every participation that started or holds a place ([`PastPlacement::held`]: a decided
/// placement counts before it starts, so the next decision does not ignore it), then the
/// prior ones.
pub fn all<'a>(
    history: &'a [PastPlacement],
    prior: &'a [PriorParticipation],
) -> impl Iterator<Item = Participation<'a>> + 'a {
    let placed = history.iter().filter_map(|p| {
        let (from, to) = p.held()?;
        Some(Participation {
            instrument_code: &p.instrument_code,
            from,
            to,
            firm: Firm::Provider(p.provider_id),
        })
    });
    let before = prior.iter().map(|p| Participation {
        instrument_code: &p.instrument_code,
        from: p.from,
        to: p.to,
        firm: p
            .provider_or_employer
            .as_deref()
            .map_or(Firm::Unknown, Firm::Named),
    });
    placed.chain(before)
}

/// Days of participation in `codes` within `[start, end]`; overlapping participations
/// count once (§ 191 BGB: cumulative periods are counted in days).
pub fn days_in<'a>(
    parts: impl Iterator<Item = Participation<'a>>,
    codes: &[&str],
    start: NaiveDate,
    end: NaiveDate,
) -> i64 {
    let spells: Vec<Spell> = parts
        .filter(|p| codes.contains(&p.instrument_code))
        .map(|p| p.spell())
        .collect();
    covered_days(&spells, start, end)
}

/// Checks prior participations as spells are checked, plus what only they have: a known
/// instrument code (`known(code)`), not after `today`, not before the date of birth.
pub fn check_prior(
    prior: &[PriorParticipation],
    date_of_birth: NaiveDate,
    today: NaiveDate,
    known: &dyn Fn(&str) -> bool,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if prior.len() > MAX_PRIOR_PARTICIPATIONS {
        errors.push(FieldError::new(
            "prior_participations",
            format!("at most {MAX_PRIOR_PARTICIPATIONS} participations"),
        ));
    }
    for (i, p) in prior.iter().enumerate() {
        let field = |f: &str| format!("prior_participations[{i}].{f}");
        if !known(&p.instrument_code) {
            errors.push(FieldError::new(
                field("instrument_code"),
                format!("unknown instrument code `{}`", p.instrument_code.escape_debug()),
            ));
        }
        if p.to.is_some_and(|to| to < p.from) {
            errors.push(FieldError::new(field("to"), "must not be before `from`"));
        }
        if p.from > today {
            errors.push(FieldError::new(
                field("from"),
                "must not be in the future (a participation from before the system)",
            ));
        }
        if p.to.is_some_and(|to| to > today) {
            errors.push(FieldError::new(field("to"), "must not be in the future"));
        }
        if p.from < date_of_birth {
            errors.push(FieldError::new(
                field("from"),
                "must not be before the date of birth",
            ));
        }
        if let Some(text) = &p.provider_or_employer {
            if text.trim().is_empty() || text.chars().count() > 200 || text.contains('\0') {
                errors.push(FieldError::new(
                    field("provider_or_employer"),
                    "1 to 200 characters, no NUL",
                ));
            }
        }
    }
    errors
}
