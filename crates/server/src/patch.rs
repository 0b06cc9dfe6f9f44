//! The body of every `PATCH`: a JSON merge patch (RFC 7396) of a record's writable form.
//! Its schema is made from that form's, so the two cannot drift: every field optional,
//! `null` allowed exactly where the form allows `null` (it clears the field), unknown
//! fields refused. The patched result is parsed strictly, so a PATCH is validated exactly
//! like a create.

use std::borrow::Cow;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use passgenau_domain::FieldError;

/// A patched record that is not of the record's shape: the field and why.
#[derive(Debug)]
pub struct Malformed(pub FieldError);

/// A merge patch of `T`. The routes document it by an alias without generics
/// (`CustomerPatch`), because utoipa's path macro composes generic bodies itself.
#[derive(Debug)]
pub struct MergePatch<T> {
    fields: Map<String, Value>,
    form: PhantomData<T>,
}

impl<'de, T> Deserialize<'de> for MergePatch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // a patch is an object; anything else would replace the whole record (RFC 7396 § 2)
        let fields = Map::deserialize(d).map_err(|_| {
            serde::de::Error::custom("a PATCH body must be a JSON object of the fields to change")
        })?;
        Ok(MergePatch {
            fields,
            form: PhantomData,
        })
    }
}

impl<T> MergePatch<T> {
    /// The patch of these fields (an import line for a recorded record).
    pub fn from_fields(fields: Map<String, Value>) -> Self {
        MergePatch {
            fields,
            form: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned> MergePatch<T> {
    /// `current` with the patch applied, parsed as strictly as a create; a result that
    /// is not of the record's shape names the field (`AppError::Malformed`, 400).
    pub fn apply(self, current: &T) -> Result<T, Malformed> {
        let mut doc = serde_json::to_value(current).expect("records serialise");
        merge(&mut doc, Value::Object(self.fields));
        serde_path_to_error::deserialize(doc).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." || path.is_empty() {
                "body".to_string()
            } else {
                path
            };
            Malformed(FieldError::new(field, e.into_inner().to_string()))
        })
    }
}

fn merge(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.insert(k, Value::Null);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other,
    }
}

impl<T: ToSchema> PartialSchema for MergePatch<T> {
    fn schema() -> RefOr<Schema> {
        let mut schema = T::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.required.clear();
            object.description = Some(format!(
                "A JSON merge patch (RFC 7396) of `{}`: send only the fields to change; \
                 `null` clears a field that may be empty. The result is validated as a whole.",
                T::name()
            ));
        }
        schema
    }
}

impl<T: ToSchema> ToSchema for MergePatch<T> {
    fn name() -> Cow<'static, str> {
        // `CustomerData` → `CustomerPatch`, as the aliases the routes document are named
        let form = T::name();
        Cow::Owned(format!("{}Patch", form.strip_suffix("Data").unwrap_or(&form)))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        T::schemas(schemas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_replaces_sets_null_and_recurses() {
        let mut doc = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge(&mut doc, json!({"a": 5, "b": {"d": null}, "e": [2, 3]}));
        assert_eq!(doc, json!({"a": 5, "b": {"c": 2, "d": null}, "e": [2, 3]}));
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    struct Form {
        name: String,
        note: Option<String>,
    }

    #[test]
    fn the_schema_is_the_forms_with_every_field_optional() {
        let RefOr::T(Schema::Object(o)) = MergePatch::<Form>::schema() else {
            panic!("an object schema");
        };
        assert!(o.required.is_empty());
        assert_eq!(o.properties.len(), 2);
        assert_eq!(MergePatch::<Form>::name(), "FormPatch");
        assert_eq!(
            MergePatch::<passgenau_domain::customer::CustomerData>::name(),
            "CustomerPatch"
        );
    }

    #[test]
    fn apply_validates_the_result() {
        let current = Form {
            name: "a".into(),
            note: Some("n".into()),
        };
        let patch: MergePatch<Form> = serde_json::from_value(json!({"note": null})).unwrap();
        assert_eq!(
            patch.apply(&current).unwrap(),
            Form {
                name: "a".into(),
                note: None
            }
        );
        let patch: MergePatch<Form> = serde_json::from_value(json!({"name": null})).unwrap();
        assert!(
            patch.apply(&current).is_err(),
            "a required field cannot be cleared"
        );
        let patch: MergePatch<Form> = serde_json::from_value(json!({"other": 1})).unwrap();
        assert!(patch.apply(&current).is_err(), "unknown fields are refused");
        assert!(serde_json::from_value::<MergePatch<Form>>(json!([1])).is_err());
    }
}
