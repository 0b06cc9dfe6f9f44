//! The statuses of cohort runs, their proposals and waiting-list entries: stored as the
//! text `as_str` gives, read back with `parse`, so no code compares bare strings.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! status {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and serialised text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("not a {}: {other}", stringify!($name))),
                }
            }
        }
    };
}

status!(
    /// A cohort run's life: queued, claimed by a worker, then done or failed.
    RunStatus {
        Queued => "queued",
        Running => "running",
        Done => "done",
        Failed => "failed",
    }
);

status!(
    /// A proposal waits for a person's decision (DSGVO Art. 22: the engine proposes).
    ProposalDecision {
        Pending => "pending",
        Accepted => "accepted",
        Rejected => "rejected",
    }
);

status!(
    /// A waiting-list entry: waiting, promoted to a placement, or removed.
    WaitlistStatus {
        Waiting => "waiting",
        Promoted => "promoted",
        Removed => "removed",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_matches_serde() {
        for s in RunStatus::ALL {
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in ProposalDecision::ALL {
            assert_eq!(s.as_str().parse::<ProposalDecision>(), Ok(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in WaitlistStatus::ALL {
            assert_eq!(s.as_str().parse::<WaitlistStatus>(), Ok(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!("Done".parse::<RunStatus>().is_err());
    }
}
