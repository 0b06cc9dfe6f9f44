//! The instrument catalogue of the AMIP 2021 (chapter 4, "Kennzahlen"), built in so that a
//! new installation knows every instrument the Jobcenter plans with. Admins may edit names
//! and add instruments; the codes are what the clients use.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::{Checker, FieldError, Validate};

/// Zweckbestimmung (purpose group) of the Eingliederungstitel, I–VIII.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub enum PurposeGroup {
    I,
    II,
    III,
    IV,
    V,
    VI,
    VII,
    VIII,
}

impl PurposeGroup {
    pub const ALL: [PurposeGroup; 8] = [
        PurposeGroup::I,
        PurposeGroup::II,
        PurposeGroup::III,
        PurposeGroup::IV,
        PurposeGroup::V,
        PurposeGroup::VI,
        PurposeGroup::VII,
        PurposeGroup::VIII,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PurposeGroup::I => "I",
            PurposeGroup::II => "II",
            PurposeGroup::III => "III",
            PurposeGroup::IV => "IV",
            PurposeGroup::V => "V",
            PurposeGroup::VI => "VI",
            PurposeGroup::VII => "VII",
            PurposeGroup::VIII => "VIII",
        }
    }

    /// The label of the Zweckbestimmung as the AMIP 2021 prints it.
    pub fn label(self) -> &'static str {
        match self {
            PurposeGroup::I => "Aktivierung und berufliche Eingliederung",
            PurposeGroup::II => "berufliche Weiterbildung",
            PurposeGroup::III => "Aufnahme einer Erwerbstätigkeit",
            PurposeGroup::IV => "Berufswahl und Berufsbildung",
            PurposeGroup::V => "Teilhabe behinderter Menschen am Arbeitsleben",
            PurposeGroup::VI => "Öffentlich geförderte Beschäftigung",
            PurposeGroup::VII => "Freie Förderung nach § 16f SGB II",
            PurposeGroup::VIII => "§ 16h Förderung schwer zu erreichender junger Menschen",
        }
    }
}

/// Who pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Funding {
    /// Eingliederungstitel (EGT) of the federal budget: counted against the yearly plan.
    Egt,
    /// Municipal services (§ 16a SGB II): recorded, not allocated against the EGT budget.
    Municipal,
}

/// An instrument (*Produkt*) of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    /// Stable code used by the clients, e.g. `AVGS_MAT`.
    pub code: String,
    pub name: String,
    pub legal_basis: String,
    pub purpose_group: PurposeGroup,
    pub funding: Funding,
}

impl Validate for Instrument {
    fn validate(&self) -> Vec<FieldError> {
        let mut c = Checker::default();
        c.text("code", &self.code, 32);
        if !self
            .code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            c.fail("code", "must consist of A-Z, 0-9 and _");
        }
        c.text("name", &self.name, 200);
        c.text("legal_basis", &self.legal_basis, 200);
        c.finish()
    }
}

fn instrument(code: &str, name: &str, legal_basis: &str, pg: PurposeGroup, funding: Funding) -> Instrument {
    Instrument {
        code: code.into(),
        name: name.into(),
        legal_basis: legal_basis.into(),
        purpose_group: pg,
        funding,
    }
}

/// The built-in catalogue (AMIP 2021, chapter 4, and the codes of the API contract).
pub fn builtin() -> Vec<Instrument> {
    use Funding::*;
    use PurposeGroup::*;
    vec![
        instrument(
            "AVGS_MAT",
            "Maßnahme bei einem Träger (Aktivierung und berufliche Eingliederung)",
            "§ 16 Abs. 1 SGB II i.V.m. § 45 Abs. 1 Satz 1 Nr. 1, 3, 4 SGB III",
            I,
            Egt,
        ),
        instrument(
            "MAG",
            "Maßnahme bei einem Arbeitgeber (Aktivierung und berufliche Eingliederung)",
            "§ 16 Abs. 1 SGB II i.V.m. § 45 Abs. 1 Satz 1 Nr. 2 SGB III",
            I,
            Egt,
        ),
        instrument(
            "FBW",
            "Förderung der beruflichen Weiterbildung (Bildungsgutschein)",
            "§ 16 Abs. 1 SGB II i.V.m. §§ 81 ff. SGB III",
            II,
            Egt,
        ),
        instrument(
            "EGZ",
            "Eingliederungszuschuss (betriebliche Eingliederungshilfen)",
            "§ 16 Abs. 1 SGB II i.V.m. §§ 88 ff. SGB III",
            III,
            Egt,
        ),
        instrument("ESG", "Einstiegsgeld", "§ 16b SGB II", III, Egt),
        instrument(
            "P16C",
            "Begleitende Hilfen für Selbständigkeit",
            "§ 16c SGB II",
            III,
            Egt,
        ),
        instrument(
            "ASA",
            "Assistierte Ausbildung (AsA flex)",
            "§ 16 Abs. 1 SGB II i.V.m. §§ 74 ff. SGB III",
            IV,
            Egt,
        ),
        instrument(
            "BAE",
            "Außerbetriebliche Berufsausbildung (BaE)",
            "§ 16 Abs. 1 SGB II i.V.m. § 76 SGB III",
            IV,
            Egt,
        ),
        instrument(
            "EQ",
            "Einstiegsqualifizierung",
            "§ 16 Abs. 1 SGB II i.V.m. § 54a SGB III",
            IV,
            Egt,
        ),
        instrument(
            "REHA",
            "Teilhabe behinderter Menschen am Arbeitsleben",
            "§ 16 Abs. 1 SGB II i.V.m. §§ 112 ff. SGB III",
            V,
            Egt,
        ),
        instrument(
            "AGH",
            "Arbeitsgelegenheiten mit Mehraufwandsentschädigung (MAE)",
            "§ 16d SGB II",
            VI,
            Egt,
        ),
        instrument(
            "P16E",
            "Eingliederung von Langzeitarbeitslosen",
            "§ 16e SGB II",
            VI,
            Egt,
        ),
        instrument("P16I", "Teilhabe am Arbeitsmarkt", "§ 16i SGB II", VI, Egt),
        instrument("P16F", "Freie Förderung", "§ 16f SGB II", VII, Egt),
        instrument(
            "P16H",
            "Förderung schwer zu erreichender junger Menschen",
            "§ 16h SGB II",
            VIII,
            Egt,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_is_valid_and_has_the_contract_codes() {
        let cat = builtin();
        for i in &cat {
            assert!(i.validate().is_empty(), "{}", i.code);
        }
        for code in [
            "AVGS_MAT", "FBW", "AGH", "P16I", "P16E", "EGZ", "ESG", "MAG", "EQ", "BAE", "ASA",
        ] {
            assert!(cat.iter().any(|i| i.code == code), "{code}");
        }
        let mut codes: Vec<_> = cat.iter().map(|i| &i.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), cat.len(), "codes are unique");
    }
}
