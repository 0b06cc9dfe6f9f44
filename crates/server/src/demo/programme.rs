//! The AMIP 2021 as data: the plan of chapter 4 ("Kennzahlen") and the products of the
//! tables of chapter 5, from `shared/seed/000_8b98367bcefd8ce9.txt`. The plan is checked
//! against the seed's printed sums by a test.

use passgenau_domain::catalogue::PurposeGroup;
use passgenau_domain::{GermanLevel, TargetGroup};

/// One line of the chapter-4 table: planned entries 2021 and 2020 ("Ansatz 2020").
pub struct PlanLine {
    pub code: &'static str,
    pub purpose_group: PurposeGroup,
    pub planned_2021: i32,
    pub planned_2020: i32,
    /// Average cost of one place in euro cents (planning figure of the demo).
    pub cost_per_place_cents: i64,
}

/// The chapter-4 table. Group I is one line in the seed ("Aktivierung und berufliche
/// Eingliederung"), planned here under AVGS_MAT; "darunter" lines of FbW are part of FBW.
pub const PLAN_2021: &[PlanLine] = &[
    PlanLine {
        code: "AVGS_MAT",
        purpose_group: PurposeGroup::I,
        planned_2021: 6_392,
        planned_2020: 8_480,
        cost_per_place_cents: 180_000,
    },
    PlanLine {
        code: "FBW",
        purpose_group: PurposeGroup::II,
        planned_2021: 1_800,
        planned_2020: 1_800,
        cost_per_place_cents: 900_000,
    },
    PlanLine {
        code: "EGZ",
        purpose_group: PurposeGroup::III,
        planned_2021: 450,
        planned_2020: 450,
        cost_per_place_cents: 600_000,
    },
    PlanLine {
        code: "ESG",
        purpose_group: PurposeGroup::III,
        planned_2021: 1_000,
        planned_2020: 940,
        cost_per_place_cents: 240_000,
    },
    PlanLine {
        code: "P16C",
        purpose_group: PurposeGroup::III,
        planned_2021: 10,
        planned_2020: 10,
        cost_per_place_cents: 150_000,
    },
    PlanLine {
        code: "ASA",
        purpose_group: PurposeGroup::IV,
        planned_2021: 120,
        planned_2020: 191,
        cost_per_place_cents: 300_000,
    },
    PlanLine {
        code: "EQ",
        purpose_group: PurposeGroup::IV,
        planned_2021: 75,
        planned_2020: 75,
        cost_per_place_cents: 200_000,
    },
    PlanLine {
        code: "REHA",
        purpose_group: PurposeGroup::V,
        planned_2021: 50,
        planned_2020: 50,
        cost_per_place_cents: 800_000,
    },
    PlanLine {
        code: "AGH",
        purpose_group: PurposeGroup::VI,
        planned_2021: 1_500,
        planned_2020: 1_500,
        cost_per_place_cents: 250_000,
    },
    PlanLine {
        code: "P16E",
        purpose_group: PurposeGroup::VI,
        planned_2021: 100,
        planned_2020: 100,
        cost_per_place_cents: 1_200_000,
    },
    PlanLine {
        code: "P16I",
        purpose_group: PurposeGroup::VI,
        planned_2021: 250,
        planned_2020: 250,
        cost_per_place_cents: 3_000_000,
    },
    PlanLine {
        code: "P16F",
        purpose_group: PurposeGroup::VII,
        planned_2021: 50,
        planned_2020: 50,
        cost_per_place_cents: 100_000,
    },
    PlanLine {
        code: "P16H",
        purpose_group: PurposeGroup::VIII,
        planned_2021: 0,
        planned_2020: 25,
        cost_per_place_cents: 500_000,
    },
];

/// The seed's sums per Zweckbestimmung (2021, 2020) and in total.
pub const SEED_GROUP_SUMS: &[(PurposeGroup, i32, i32)] = &[
    (PurposeGroup::I, 6_392, 8_480),
    (PurposeGroup::II, 1_800, 1_800),
    (PurposeGroup::III, 1_460, 1_400),
    (PurposeGroup::IV, 195, 266),
    (PurposeGroup::V, 50, 50),
    (PurposeGroup::VI, 1_850, 1_850),
    (PurposeGroup::VII, 50, 50),
    (PurposeGroup::VIII, 0, 25),
];
pub const SEED_TOTAL: (i32, i32) = (11_797, 13_921);

/// The EGT of 2021: "rd. 47,56 Mio. € im Eingliederungstitel" (seed, chapter 2).
pub const BUDGET_2021_CENTS: i64 = 4_756_000_000;

/// A product of a chapter-5 table, offered as one or more offers.
pub struct Product {
    pub section: &'static str,
    pub title: &'static str,
    pub code: &'static str,
    /// "Eintritte 2021" of the table.
    pub entries_2021: i32,
    pub target_groups: &'static [TargetGroup],
    pub min_age: Option<i32>,
    pub max_age: Option<i32>,
    /// Weeks a participant stays (for dates and fixed-entry cohorts).
    pub weeks: i64,
    pub rolling: bool,
    /// For people learning German: at most this level (the gate such offers use; never
    /// nationality or a proxy of it).
    pub german_up_to: Option<GermanLevel>,
}

impl Product {
    /// The product is for people learning German, up to `level`.
    const fn for_german_learners(mut self, level: GermanLevel) -> Product {
        self.german_up_to = Some(level);
        self
    }
}

#[allow(clippy::too_many_arguments)]
const fn p(
    section: &'static str,
    title: &'static str,
    code: &'static str,
    entries_2021: i32,
    target_groups: &'static [TargetGroup],
    ages: (Option<i32>, Option<i32>),
    weeks: i64,
    rolling: bool,
) -> Product {
    Product {
        section,
        title,
        code,
        entries_2021,
        target_groups,
        min_age: ages.0,
        max_age: ages.1,
        weeks,
        rolling,
        german_up_to: None,
    }
}

use TargetGroup as T;
const ANY: (Option<i32>, Option<i32>) = (None, None);
const U25: (Option<i32>, Option<i32>) = (None, Some(24));
const O25: (Option<i32>, Option<i32>) = (Some(25), None);

/// The tables of chapter 5 (5.1 Integration, 5.2 Qualifizierung, 5.5 Langzeitbezug,
/// 5.5.1 Teilhabechancengesetz, Alleinerziehende, U 25 with the Job AG, Flüchtlinge).
/// Products listed in two tables (BaE, AsA, "Stark im Beruf") appear once.
pub const PRODUCTS: &[Product] = &[
    p(
        "Integration",
        "Maßnahmen beim Arbeitgeber (MAG)",
        "MAG",
        920,
        &[],
        ANY,
        4,
        // a MAG runs at most six weeks (§ 45 Abs. 2 Satz 2 SGB III): fixed four-week
        // offers through the year, not one offer over the whole year
        false,
    ),
    p(
        "Integration",
        "Eingliederungszuschüsse (EGZ)",
        "EGZ",
        450,
        &[],
        ANY,
        52,
        true,
    ),
    p(
        "Integration",
        "Einstiegsgeld (ESG)",
        "ESG",
        1_000,
        &[],
        ANY,
        52,
        true,
    ),
    p("Integration", "Talentcenter", "AVGS_MAT", 792, &[], ANY, 8, true),
    p(
        "Qualifizierung",
        "Fort- und Weiterbildung (FbW)",
        "FBW",
        1_656,
        &[T::NoVocationalQualification],
        ANY,
        40,
        false,
    ),
    p(
        "Qualifizierung",
        "Zukunftsstarter",
        "FBW",
        144,
        &[T::NoVocationalQualification],
        ANY,
        26,
        false,
    ),
    p(
        "Langzeitbezug",
        "Aktivcenter",
        "AVGS_MAT",
        280,
        &[T::LongTermRecipient],
        ANY,
        26,
        true,
    ),
    p(
        "Langzeitbezug",
        "Vermittlung intensiv",
        "AVGS_MAT",
        675,
        &[T::LongTermRecipient, T::LongTermUnemployed],
        ANY,
        16,
        true,
    ),
    p(
        "Langzeitbezug",
        "Arbeitsgelegenheiten",
        "AGH",
        1_500,
        &[],
        ANY,
        40,
        true,
    ),
    p(
        "Langzeitbezug",
        "Fit for Job I und II",
        "AVGS_MAT",
        375,
        &[T::Health],
        ANY,
        26,
        true,
    ),
    p(
        "Langzeitbezug",
        "Startschuss (aufsuchendes Angebot)",
        "AVGS_MAT",
        240,
        &[],
        O25,
        26,
        true,
    ),
    p(
        "Langzeitbezug",
        "Individuelle Förderungen über AVGS-MAT",
        "AVGS_MAT",
        1_000,
        &[],
        ANY,
        12,
        true,
    ),
    p(
        "Teilhabechancengesetz",
        "§ 16e SGB II",
        "P16E",
        100,
        &[T::LongTermUnemployed],
        ANY,
        104,
        true,
    ),
    p(
        "Teilhabechancengesetz",
        "§ 16i SGB II",
        "P16I",
        250,
        &[T::LongTermRecipient],
        O25,
        104,
        true,
    ),
    p(
        "Alleinerziehende",
        "KENNE gute Arbeit für Alleinerziehende",
        "AVGS_MAT",
        60,
        &[T::SingleParent],
        ANY,
        12,
        true,
    ),
    p(
        "Alleinerziehende",
        "Zielgruppenspezifische Angebote über AVGS-MAT",
        "AVGS_MAT",
        500,
        &[T::SingleParent],
        ANY,
        12,
        true,
    ),
    p(
        "Alleinerziehende",
        "„Stark im Beruf“ – Mütter mit Migrationshintergrund steigen ein",
        "AVGS_MAT",
        50,
        &[],
        ANY,
        26,
        false,
    )
    .for_german_learners(GermanLevel::B1),
    p(
        "Alleinerziehende",
        "TEP: Teilzeitberufsausbildung – Einstieg begleiten",
        "AVGS_MAT",
        10,
        &[T::SingleParent],
        ANY,
        26,
        false,
    ),
    p("U 25", "Job AG", "AVGS_MAT", 200, &[T::U25], U25, 26, true),
    p(
        "U 25",
        "Kooperationsprojekte mit dem Jugendamt",
        "AVGS_MAT",
        50,
        &[T::U25],
        U25,
        26,
        true,
    ),
    p(
        "U 25",
        "Aufsuchendes Angebot U 25",
        "AVGS_MAT",
        120,
        &[T::U25],
        U25,
        26,
        true,
    ),
    p(
        "U 25",
        "Angebot für Jugendliche mit psychischen Problemlagen",
        "AVGS_MAT",
        25,
        &[T::U25],
        U25,
        26,
        true,
    ),
    p(
        "U 25",
        "Aktivierungshilfe",
        "AVGS_MAT",
        65,
        &[T::U25],
        U25,
        26,
        true,
    ),
    p(
        "U 25",
        "Produktionsschule.2.0",
        "AVGS_MAT",
        60,
        &[T::U25],
        U25,
        40,
        false,
    ),
    p(
        "U 25",
        "Praxiscenter U 25",
        "AVGS_MAT",
        85,
        &[T::U25],
        U25,
        26,
        true,
    ),
    p(
        "U 25",
        "Vermittlung intensiv mit Betreuung",
        "AVGS_MAT",
        45,
        &[T::U25],
        U25,
        16,
        true,
    ),
    p(
        "U 25",
        "Jugend in Arbeit 4.0",
        "AVGS_MAT",
        100,
        &[T::U25],
        U25,
        26,
        true,
    ),
    p(
        "U 25",
        "Einstiegsqualifizierung (EQ)",
        "EQ",
        75,
        &[T::U25],
        U25,
        40,
        false,
    ),
    p(
        "U 25",
        "Außerbetriebliche Ausbildung / „Dritter Weg“",
        "BAE",
        100,
        &[T::U25],
        U25,
        104,
        false,
    ),
    p(
        "U 25",
        "Assistierte Ausbildung einschl. abH",
        "ASA",
        20,
        &[T::U25],
        U25,
        52,
        true,
    ),
    p(
        "Flüchtlinge",
        "Arbeiten und Lernen",
        "AGH",
        25,
        &[T::Refugee],
        ANY,
        40,
        false,
    ),
    p(
        "Flüchtlinge",
        "Förderzentrum Flüchtlinge",
        "AVGS_MAT",
        140,
        &[T::Refugee],
        ANY,
        26,
        true,
    ),
    p(
        "Flüchtlinge",
        "Perspektive Handwerk",
        "AVGS_MAT",
        60,
        &[T::Refugee],
        ANY,
        12,
        true,
    ),
    p(
        "Flüchtlinge",
        "Chance Handwerk",
        "AVGS_MAT",
        80,
        &[T::Refugee],
        ANY,
        26,
        true,
    ),
    p(
        "Flüchtlinge",
        "Spezifische Angebote über AVGS-MAT",
        "AVGS_MAT",
        300,
        &[T::Refugee],
        ANY,
        12,
        true,
    ),
];

/// Providers of the demo (synthetic names; the seed names no providers but the AWO).
pub const PROVIDERS: &[&str] = &[
    "Job AG Düsseldorf gGmbH",
    "Bildungswerk Rhein gGmbH",
    "AWO Düsseldorf – Arbeit und Qualifizierung",
    "Zukunftswerkstatt Düsseldorf gGmbH",
    "Handwerkskammer Bildungszentrum",
    "Praxiscenter Flingern e. V.",
    "Diakonie – Beschäftigung und Integration",
    "Caritas Jugendberufshilfe",
    "Rheinische Qualifizierungsgesellschaft mbH",
    "Integrationswerk Nord gGmbH",
    "Gesundheitsbrücke e. V.",
    "Arbeitgeberservice-Netzwerk Düsseldorf",
];

/// The ten Stadtbezirke of Düsseldorf with a postal code each.
pub const DISTRICTS: &[(&str, &str)] = &[
    ("Stadtbezirk 1", "40213"),
    ("Stadtbezirk 2", "40233"),
    ("Stadtbezirk 3", "40227"),
    ("Stadtbezirk 4", "40547"),
    ("Stadtbezirk 5", "40474"),
    ("Stadtbezirk 6", "40472"),
    ("Stadtbezirk 7", "40627"),
    ("Stadtbezirk 8", "40597"),
    ("Stadtbezirk 9", "40589"),
    ("Stadtbezirk 10", "40595"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan reproduces the seed's table: every group sum and the total.
    #[test]
    fn plan_matches_the_seed_sums() {
        for (group, y2021, y2020) in SEED_GROUP_SUMS {
            let lines = PLAN_2021.iter().filter(|l| l.purpose_group == *group);
            let (a, b) = lines.fold((0, 0), |(a, b), l| (a + l.planned_2021, b + l.planned_2020));
            assert_eq!((a, b), (*y2021, *y2020), "{group:?}");
        }
        let total = PLAN_2021
            .iter()
            .fold((0, 0), |(a, b), l| (a + l.planned_2021, b + l.planned_2020));
        assert_eq!(total, SEED_TOTAL);
        let catalogue = passgenau_domain::catalogue::builtin();
        for l in PLAN_2021 {
            let i = catalogue.iter().find(|i| i.code == l.code).expect(l.code);
            assert_eq!(i.purpose_group, l.purpose_group, "{}", l.code);
        }
        for p in PRODUCTS {
            assert!(catalogue.iter().any(|i| i.code == p.code), "{}", p.code);
        }
    }

    #[test]
    fn planned_budget_is_close_to_the_egt() {
        let planned: i64 = PLAN_2021
            .iter()
            .map(|l| i64::from(l.planned_2021) * l.cost_per_place_cents)
            .sum();
        assert!(planned <= BUDGET_2021_CENTS, "{planned}");
        assert!(planned * 100 / BUDGET_2021_CENTS >= 90, "{planned}");
    }
}
