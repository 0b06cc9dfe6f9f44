//! Who is asking: the caller of a request as the use cases see it, and the role sets the
//! routes require. Made by the token check (`auth`), known to every layer above the store.

use passgenau_domain::ids::ProviderId;
use passgenau_domain::user::Role;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub username: String,
    pub role: Role,
    pub provider_id: Option<ProviderId>,
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
}

/// The caller's role may not do this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forbidden;

/// Roles that work with customer and household records.
pub const CASEWORK: &[Role] = &[Role::Specialist, Role::Admin];
/// Every role.
pub const ANY_ROLE: &[Role] = &[Role::Admin, Role::Specialist, Role::Provider, Role::Reporting];
