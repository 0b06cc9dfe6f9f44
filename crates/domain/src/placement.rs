//! Placements (*Zuweisungen*) and their state machine (API contract, "Placements").

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::user::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlacementStatus {
    /// A place is held for the customer.
    Reserved,
    /// The provider accepted the customer.
    Confirmed,
    /// The customer entered the measure (*Eintritt*).
    Started,
    /// The measure ended as planned.
    Completed,
    /// The measure was broken off after the start (*Abbruch*).
    Aborted,
    /// The provider declined the customer.
    Declined,
    /// The customer did not turn up (*Nicht-Antritt*).
    NoShow,
    /// The specialist withdrew the reservation.
    Cancelled,
}

impl PlacementStatus {
    pub const ALL: [PlacementStatus; 8] = [
        PlacementStatus::Reserved,
        PlacementStatus::Confirmed,
        PlacementStatus::Started,
        PlacementStatus::Completed,
        PlacementStatus::Aborted,
        PlacementStatus::Declined,
        PlacementStatus::NoShow,
        PlacementStatus::Cancelled,
    ];
    pub const ACTIVE: [PlacementStatus; 3] = [
        PlacementStatus::Reserved,
        PlacementStatus::Confirmed,
        PlacementStatus::Started,
    ];

    /// Active placements hold a place and count against `max_places` (invariant 1).
    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }

    /// Placements whose cost is committed against the budget: active ones and those that
    /// ran (completed, aborted). Declined, no-show and cancelled release their cost.
    pub fn commits_budget(self) -> bool {
        self.is_active() || matches!(self, PlacementStatus::Completed | PlacementStatus::Aborted)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PlacementStatus::Reserved => "reserved",
            PlacementStatus::Confirmed => "confirmed",
            PlacementStatus::Started => "started",
            PlacementStatus::Completed => "completed",
            PlacementStatus::Aborted => "aborted",
            PlacementStatus::Declined => "declined",
            PlacementStatus::NoShow => "no_show",
            PlacementStatus::Cancelled => "cancelled",
        }
    }
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// The state machine has no such edge.
    Invalid {
        from: PlacementStatus,
        to: PlacementStatus,
    },
    /// The edge exists but belongs to another role.
    WrongRole {
        to: PlacementStatus,
        allowed: &'static [Role],
    },
}

const PROVIDER: &[Role] = &[Role::Provider, Role::Admin];
const SPECIALIST: &[Role] = &[Role::Specialist, Role::Admin];

/// The roles that may move a placement from `from` to `to`, or why not. Admins may do
/// what providers and specialists may (they act for either in support cases).
pub fn transition_roles(
    from: PlacementStatus,
    to: PlacementStatus,
) -> Result<&'static [Role], TransitionError> {
    use PlacementStatus::*;
    match (from, to) {
        (Reserved, Confirmed) => Ok(PROVIDER),
        (Confirmed, Started) => Ok(PROVIDER),
        (Started, Completed) | (Started, Aborted) => Ok(PROVIDER),
        (Reserved | Confirmed, Declined) | (Reserved | Confirmed, NoShow) => Ok(PROVIDER),
        (Reserved | Confirmed, Cancelled) => Ok(SPECIALIST),
        // a correction of a wrongly recorded entry or exit day: recorded, with a reason
        (Started, Started) | (Completed, Completed) | (Aborted, Aborted) => Ok(PROVIDER),
        _ => Err(TransitionError::Invalid { from, to }),
    }
}

/// A transition to the state the placement is in corrects the day of its entry (`started`)
/// or exit (`completed`, `aborted`): the old day stays in the change feed, the new one
/// needs a reason.
pub fn is_correction(from: PlacementStatus, to: PlacementStatus) -> bool {
    from == to
}

/// Checks one transition for a role.
pub fn check_transition(
    from: PlacementStatus,
    to: PlacementStatus,
    role: Role,
) -> Result<(), TransitionError> {
    let roles = transition_roles(from, to)?;
    if roles.contains(&role) {
        Ok(())
    } else {
        Err(TransitionError::WrongRole { to, allowed: roles })
    }
}

#[cfg(test)]
mod tests {
    use super::PlacementStatus::*;
    use super::*;

    #[test]
    fn every_pair_is_decided() {
        let allowed = [
            (Reserved, Confirmed),
            (Confirmed, Started),
            (Started, Completed),
            (Started, Aborted),
            (Reserved, Declined),
            (Confirmed, Declined),
            (Reserved, NoShow),
            (Confirmed, NoShow),
            (Reserved, Cancelled),
            (Confirmed, Cancelled),
            (Started, Started),
            (Completed, Completed),
            (Aborted, Aborted),
        ];
        for from in PlacementStatus::ALL {
            for to in PlacementStatus::ALL {
                let ok = transition_roles(from, to).is_ok();
                assert_eq!(ok, allowed.contains(&(from, to)), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn roles_are_checked() {
        assert!(check_transition(Reserved, Confirmed, Role::Provider).is_ok());
        assert!(check_transition(Reserved, Confirmed, Role::Specialist).is_err());
        assert!(check_transition(Reserved, Cancelled, Role::Specialist).is_ok());
        assert!(check_transition(Reserved, Cancelled, Role::Provider).is_err());
        assert!(check_transition(Started, Completed, Role::Reporting).is_err());
    }
}
