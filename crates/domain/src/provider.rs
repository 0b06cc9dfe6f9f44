//! Providers (*Träger*) of measures.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::{is_email, Checker, FieldError, Validate};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderData {
    pub name: String,
    /// Last day the provider's AZAV certificate (§§ 176 ff. SGB III) is valid; `null`
    /// when it holds none.
    #[serde(default)]
    pub azav_certified_until: Option<NaiveDate>,
    /// `null` to another provider: providers do not see each other's contact data.
    #[serde(default)]
    pub contact_email: Option<String>,
}

impl ProviderData {
    /// Whether the AZAV approval is valid on `day` (§ 176 SGB III).
    pub fn azav_valid_on(&self, day: NaiveDate) -> bool {
        self.azav_certified_until.is_some_and(|until| day <= until)
    }
}

impl Validate for ProviderData {
    fn validate(&self) -> Vec<FieldError> {
        let mut c = Checker::default();
        c.text("name", &self.name, 200);
        c.optional_text("contact_email", self.contact_email.as_deref(), 254);
        if let Some(e) = &self.contact_email {
            if !is_email(e) {
                c.fail("contact_email", "must be an e-mail address");
            }
        }
        c.finish()
    }
}
