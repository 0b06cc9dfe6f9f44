//! Counting rules of the reports (BA statistics, AMIP 2021 chapter 4): entries count
//! cases, not persons; changes are rounded to whole percent as the seed prints them; the
//! framework contracts' corridor is 70–120 % of the planned places.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Change from `previous` to `current` in whole percent, rounded half away from zero
/// (the seed's "Vergleich" column); `None` without a previous figure.
pub fn change_percent(current: i64, previous: i64) -> Option<i64> {
    if previous == 0 {
        return None;
    }
    Some(((current - previous) as f64 * 100.0 / previous as f64).round() as i64)
}

/// Share in percent with one decimal; `None` for an empty base.
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// Where an offer's take-up lies relative to the 70–120 % corridor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Corridor {
    Below,
    Within,
    Above,
}

pub const CORRIDOR_LOW: f64 = 0.70;
pub const CORRIDOR_HIGH: f64 = 1.20;

/// Take-up of planned places as a ratio (0.85 = 85 %), rounded to three decimals.
pub fn utilisation(taken: i64, planned: i64) -> Option<f64> {
    (planned > 0).then(|| (taken as f64 * 1000.0 / planned as f64).round() / 1000.0)
}

pub fn corridor(utilisation: Option<f64>) -> Option<Corridor> {
    utilisation.map(|u| {
        if u < CORRIDOR_LOW {
            Corridor::Below
        } else if u > CORRIDOR_HIGH {
            Corridor::Above
        } else {
            Corridor::Within
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_rounds_like_the_seed() {
        assert_eq!(change_percent(11_797, 13_921), Some(-15));
        assert_eq!(change_percent(6_392, 8_480), Some(-25));
        assert_eq!(change_percent(1_460, 1_400), Some(4));
        assert_eq!(change_percent(195, 266), Some(-27));
        assert_eq!(change_percent(1_000, 940), Some(6));
        assert_eq!(change_percent(120, 191), Some(-37));
        assert_eq!(change_percent(0, 25), Some(-100));
        assert_eq!(change_percent(5, 0), None);
    }

    #[test]
    fn corridor_edges() {
        assert_eq!(corridor(utilisation(70, 100)), Some(Corridor::Within));
        assert_eq!(corridor(utilisation(69, 100)), Some(Corridor::Below));
        assert_eq!(corridor(utilisation(120, 100)), Some(Corridor::Within));
        assert_eq!(corridor(utilisation(121, 100)), Some(Corridor::Above));
        assert_eq!(corridor(utilisation(1, 0)), None);
    }
}
