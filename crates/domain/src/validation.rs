//! Field-level validation shared by every record type.

use serde::Serialize;
use utoipa::ToSchema;

/// One problem with one field of a request, named by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A record that can check its own consistency before it is stored.
pub trait Validate {
    /// All problems found; empty when the record is valid.
    fn validate(&self) -> Vec<FieldError>;
}

/// Collects field errors with small helpers for the common checks.
#[derive(Debug, Default)]
pub struct Checker {
    pub errors: Vec<FieldError>,
}

impl Checker {
    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Text that must be present (not blank) and at most `max` characters long.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.fail(field, "must not be empty");
        }
        self.optional_text(field, Some(value), max);
    }

    /// Text that may be absent, but if present is at most `max` characters and holds no
    /// control characters (a NUL byte in a name is always a mistake or an attack).
    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            if v.chars().count() > max {
                self.fail(field, format!("must be at most {max} characters"));
            }
            if v.chars().any(|c| c.is_control()) {
                self.fail(field, "must not contain control characters");
            }
        }
    }

    pub fn finish(self) -> Vec<FieldError> {
        self.errors
    }
}

/// German postal code: five digits.
pub fn is_postal_code(s: &str) -> bool {
    s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A syntactically plausible e-mail address (one `@`, something on both sides, no spaces).
pub fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
        }
        _ => false,
    }
}
