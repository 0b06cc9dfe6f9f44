//! Users and their roles.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Users, catalogue, yearly plans and budgets.
    Admin,
    /// Integration specialist (*Integrationsfachkraft*): records, eligibility, placements.
    Specialist,
    /// A partner provider, bound to one provider record.
    Provider,
    /// Automated reporting jobs: aggregated figures, no names.
    Reporting,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Specialist => "specialist",
            Role::Provider => "provider",
            Role::Reporting => "reporting",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "specialist" => Some(Role::Specialist),
            "provider" => Some(Role::Provider),
            "reporting" => Some(Role::Reporting),
            _ => None,
        }
    }
}

/// A username: 3–64 characters of letters, digits, `.`, `_`, `-`, `@`.
pub fn valid_username(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}

/// Minimum password length (BSI IT-Grundschutz ORP.4.A8 recommends long passwords).
pub const MIN_PASSWORD_LEN: usize = 10;
/// Maximum, so hashing cannot be made expensive by a huge password.
pub const MAX_PASSWORD_LEN: usize = 256;
