//! Identifiers. Every record is identified by a UUIDv7 (time-ordered, so keyset
//! pagination by ID is also pagination by creation time). Each kind of record has its own
//! ID type, so a customer's ID cannot be passed where an offer's is meant.
//!
//! On the wire an ID is the UUID's text (`serde(transparent)`); in the OpenAPI document
//! each is a component of its own (`CustomerId`: a string of format `uuid`). The store
//! keeps IDs as text on both backends and converts them through [`Id`], in one place
//! (`passgenau_store::codec`); diesel is no concern of this crate.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// A fresh, time-ordered identifier for a new record, of the type the context asks for.
pub fn new_id<I: Id>() -> I {
    I::from_uuid(Uuid::now_v7())
}

/// What every ID type is: a UUID with a name.
pub trait Id: Copy + Eq + std::hash::Hash + Ord + fmt::Display + FromStr + Send + Sync + 'static {
    fn from_uuid(uuid: Uuid) -> Self;
    fn uuid(self) -> Uuid;
    /// A fresh, time-ordered ID.
    fn new() -> Self {
        Self::from_uuid(Uuid::now_v7())
    }
}

/// IDs of rows that have no type of their own (audit entries, change events).
impl Id for Uuid {
    fn from_uuid(uuid: Uuid) -> Self {
        uuid
    }
    fn uuid(self) -> Uuid {
        self
    }
}

macro_rules! id_types {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl Id for $name {
            fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl $name {
            /// A fresh, time-ordered ID.
            pub fn new() -> Self {
                <Self as Id>::new()
            }
            /// The ID of this UUID (tests, and IDs read back from text).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            /// The nil ID, for test fixtures; no stored record has it.
            fn default() -> Self {
                Self(Uuid::nil())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Uuid,
                    )))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    )*};
}

id_types! {
    /// A customer (*Kunde*).
    CustomerId;
    /// A Bedarfsgemeinschaft.
    HouseholdId;
    /// A member row of a household.
    MemberId;
    /// A provider (*Träger*), also an employer of record in employment spells.
    ProviderId;
    /// An offer of a provider.
    OfferId;
    /// A placement (*Zuweisung*, `/allocations`).
    PlacementId;
    /// A waiting-list entry.
    WaitlistEntryId;
    /// A cohort run.
    RunId;
    /// A proposal of a cohort run.
    ProposalId;
    /// A user (staff or partner login).
    UserId;
    /// An API key of a partner system or reporting job.
    ApiKeyId;
    /// An import job (`/imports`).
    ImportId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_their_uuids_on_the_wire() {
        let id = CustomerId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", id.uuid()));
        assert_eq!(serde_json::from_str::<CustomerId>(&json).unwrap(), id);
        assert_eq!(id.to_string().parse::<CustomerId>().unwrap(), id);
        assert!("not-a-uuid".parse::<OfferId>().is_err());
    }
}
