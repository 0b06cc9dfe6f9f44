//! Conversions between domain values and their stored text form.

use passgenau_domain::ids::Id;
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::error::StoreError;

/// A unit enum as its serde name (`"snake_case"` or `"B2"`), the form stored in text
/// columns and sent over the API, so both always agree.
pub fn enum_to_str<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => panic!("not a unit enum: {other:?}"),
    }
}

pub fn enum_from_str<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|e| StoreError::corrupt(format!("{s:?}: {e}")))
}

pub fn json_to_str<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain values serialise")
}

pub fn json_from_str<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(StoreError::corrupt)
}

/// An ID from its stored text. IDs are text on both backends (`passgenau_domain::ids`), so
/// this and `to_string()` are the only conversions.
pub fn id_from_str<I: Id>(s: &str) -> Result<I, StoreError> {
    Uuid::parse_str(s).map(I::from_uuid).map_err(StoreError::corrupt)
}

pub fn opt_id<I: Id>(s: Option<&str>) -> Result<Option<I>, StoreError> {
    s.map(id_from_str).transpose()
}
