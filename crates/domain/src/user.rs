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

/// Whether an account may act. A disabled account's tokens and keys are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<UserStatus> {
        match s {
            "active" => Some(UserStatus::Active),
            "disabled" => Some(UserStatus::Disabled),
            _ => None,
        }
    }
}

/// Where an account's identity comes from: a local password, or single sign-on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserSource {
    Local,
    Oidc,
}

impl UserSource {
    pub fn as_str(self) -> &'static str {
        match self {
            UserSource::Local => "local",
            UserSource::Oidc => "oidc",
        }
    }

    pub fn parse(s: &str) -> Option<UserSource> {
        match s {
            "local" => Some(UserSource::Local),
            "oidc" => Some(UserSource::Oidc),
            _ => None,
        }
    }
}

/// What is wrong with a role and provider together: only the role `provider` has, and
/// must have, a provider.
pub fn role_provider_problem(role: Role, has_provider: bool) -> Option<&'static str> {
    match (role, has_provider) {
        (Role::Provider, false) => Some("required for the role provider"),
        (r, true) if r != Role::Provider => Some("only the role provider has one"),
        _ => None,
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

/// What is wrong with `password` for the user `username`, if anything: its length in
/// characters outside [`MIN_PASSWORD_LEN`]..=[`MAX_PASSWORD_LEN`], only blanks, one
/// character repeated, or the username itself (ignoring case and surrounding blanks).
pub fn password_problem(password: &str, username: &str) -> Option<String> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&chars) {
        return Some(format!(
            "must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"
        ));
    }
    if password.trim().is_empty() {
        return Some("must not be only blanks".into());
    }
    let mut distinct = password.chars();
    let first = distinct.next();
    if distinct.all(|c| Some(c) == first) {
        return Some("must not be one character repeated".into());
    }
    if password.trim().eq_ignore_ascii_case(username.trim()) {
        return Some("must not be the username".into());
    }
    None
}

#[cfg(test)]
mod password_tests {
    use super::password_problem;

    #[test]
    fn weak_passwords_are_named() {
        assert!(password_problem("a long enough one", "ifk").is_none());
        assert!(password_problem("short", "ifk").is_some());
        assert!(password_problem("            ", "ifk").is_some());
        assert!(password_problem("aaaaaaaaaaaa", "ifk").is_some());
        assert!(password_problem("Traeger.Rhein", "traeger.rhein").is_some());
        assert!(password_problem(&"x".repeat(257), "ifk").is_some());
    }
}
