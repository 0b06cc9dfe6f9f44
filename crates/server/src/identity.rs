//! Who is asking: the caller of a request as the use cases see it, and the role sets the
//! routes require. Made by the credential check (`auth`, `app::sessions`), known to every
//! layer above the store.

use passgenau_domain::ids::{ApiKeyId, ProviderId, UserId};
use passgenau_domain::user::Role;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The username, or `api-key:NAME` for a key: what the audit log names as the actor.
    pub username: String,
    pub role: Role,
    pub provider_id: Option<ProviderId>,
    pub principal: Principal,
}

/// The account behind a request and the credential it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A user with a token (local or single sign-on): `token_id` is what a logout ends.
    User {
        id: UserId,
        token_id: String,
        expires_at: i64,
    },
    /// A partner system or reporting job with an API key.
    ApiKey { id: ApiKeyId },
}

impl Caller {
    /// [`Forbidden`] (403) unless the caller has one of the roles.
    pub fn require(&self, roles: &[Role]) -> Result<(), Forbidden> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(Forbidden)
        }
    }

    /// Whether the caller sees the commercial terms and contact data of `provider`'s
    /// records: everyone but another provider.
    pub fn sees_terms_of(&self, provider: ProviderId) -> bool {
        self.role != Role::Provider || self.provider_id == Some(provider)
    }

    /// [`Forbidden`] unless the caller is a person (not an API key) with one of the roles:
    /// keys never manage accounts.
    pub fn require_person(&self, roles: &[Role]) -> Result<UserId, Forbidden> {
        self.require(roles)?;
        match self.principal {
            Principal::User { id, .. } => Ok(id),
            Principal::ApiKey { .. } => Err(Forbidden),
        }
    }
}

/// The caller's role may not do this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forbidden;

/// Roles that work with customer and household records.
pub const CASEWORK: &[Role] = &[Role::Specialist, Role::Admin];
/// Every role.
pub const ANY_ROLE: &[Role] = &[Role::Admin, Role::Specialist, Role::Provider, Role::Reporting];
