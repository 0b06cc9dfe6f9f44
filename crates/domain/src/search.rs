//! Finding people by name: the keys a name is found by, and how well a query matches
//! them (`api-contract.md`, "Finding and bringing in people").
//!
//! A name is *folded* to lower-case ASCII letters and digits, words separated by one
//! space: case is ignored, `ä`/`ö`/`ü` become `ae`/`oe`/`ue` and `ß` becomes `ss` (the German
//! transliteration, so that `Müller` and `Mueller` are one), other accents are dropped
//! (`é` → `e`). Its *sound* is the Kölner Phonetik (Postel, H. J.: Die Kölner Phonetik.
//! IBM-Nachrichten 19 (1969), S. 925–931), word by word, so that `Meyer` finds `Maier`.
//! Both keys are stored with the record and indexed.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;

/// `s` folded: lower-case ASCII letters and digits, words separated by one space.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let push = |piece: &str, out: &mut String| {
        for c in piece.nfkd() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if (c.is_whitespace() || matches!(c, '-' | '\'' | '.' | ',' | '’')) && !out.ends_with(' ')
            {
                out.push(' ');
            }
        }
    };
    for c in s.chars() {
        let piece = match c {
            'ä' | 'Ä' => "ae",
            'ö' | 'Ö' => "oe",
            'ü' | 'Ü' => "ue",
            'ß' | 'ẞ' => "ss",
            'ø' | 'Ø' => "o",
            'ł' | 'Ł' => "l",
            'đ' | 'Đ' => "d",
            'æ' | 'Æ' => "ae",
            'œ' | 'Œ' => "oe",
            'þ' | 'Þ' => "th",
            _ => {
                let mut buf = [0u8; 4];
                push(c.encode_utf8(&mut buf), &mut out);
                continue;
            }
        };
        push(piece, &mut out);
    }
    out.trim().to_string()
}

/// The Kölner Phonetik of one folded word (letters `a`–`z`; anything else is skipped).
fn cologne_word(word: &str) -> String {
    let letters: Vec<u8> = word.bytes().filter(u8::is_ascii_lowercase).collect();
    let mut codes: Vec<u8> = Vec::with_capacity(letters.len() + 1);
    for (i, &c) in letters.iter().enumerate() {
        let prev = if i > 0 { letters[i - 1] } else { 0 };
        let next = letters.get(i + 1).copied().unwrap_or(0);
        let code: &[u8] = match c {
            b'a' | b'e' | b'i' | b'j' | b'o' | b'u' | b'y' => b"0",
            b'h' => b"",
            b'b' => b"1",
            b'p' if next == b'h' => b"3",
            b'p' => b"1",
            b'd' | b't' if matches!(next, b'c' | b's' | b'z') => b"8",
            b'd' | b't' => b"2",
            b'f' | b'v' | b'w' => b"3",
            b'g' | b'k' | b'q' => b"4",
            b'c' if i == 0 => {
                if matches!(next, b'a' | b'h' | b'k' | b'l' | b'o' | b'q' | b'r' | b'u' | b'x') {
                    b"4"
                } else {
                    b"8"
                }
            }
            b'c' if matches!(prev, b's' | b'z') => b"8",
            b'c' if matches!(next, b'a' | b'h' | b'k' | b'o' | b'q' | b'u' | b'x') => b"4",
            b'c' => b"8",
            b'x' if matches!(prev, b'c' | b'k' | b'q') => b"8",
            b'x' => b"48",
            b'l' => b"5",
            b'm' | b'n' => b"6",
            b'r' => b"7",
            b's' | b'z' => b"8",
            _ => b"",
        };
        codes.extend_from_slice(code);
    }
    codes.dedup();
    let mut out = String::with_capacity(codes.len());
    for (i, &c) in codes.iter().enumerate() {
        if c != b'0' || i == 0 {
            out.push(c as char);
        }
    }
    out
}

/// The Kölner Phonetik of a folded name, word by word.
pub fn cologne(folded: &str) -> String {
    folded
        .split(' ')
        .map(cologne_word)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The keys a person is found by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameKeys {
    pub first: String,
    pub last: String,
    pub first_sound: String,
    pub last_sound: String,
}

pub fn name_keys(first_name: &str, last_name: &str) -> NameKeys {
    let first = fold(first_name);
    let last = fold(last_name);
    NameKeys {
        first_sound: cologne(&first),
        last_sound: cologne(&last),
        first,
        last,
    }
}

/// How a result matched a query, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The customer number, exactly (ignoring case).
    Number,
    /// Every word of the query is a name of the person (folded).
    Exact,
    /// Every word begins a name of the person.
    Prefix,
    /// Every word sounds like a name of the person (Kölner Phonetik).
    Phonetic,
}

/// A search query: its words folded and their sounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The query as typed, trimmed, for the customer number.
    pub raw: String,
    /// Folded words, at most [`MAX_WORDS`].
    pub words: Vec<String>,
    pub sounds: Vec<String>,
}

/// Words of a query that count; more are ignored.
pub const MAX_WORDS: usize = 4;
/// Longest query accepted, in characters.
pub const MAX_QUERY_LEN: usize = 100;

impl Query {
    /// The query, or what is wrong with it.
    pub fn parse(q: &str) -> Result<Query, &'static str> {
        let raw = q.trim();
        if raw.is_empty() {
            return Err("must not be empty");
        }
        if raw.chars().count() > MAX_QUERY_LEN {
            return Err("at most 100 characters");
        }
        let words: Vec<String> = fold(raw)
            .split(' ')
            .filter(|w| !w.is_empty())
            .take(MAX_WORDS)
            .map(str::to_string)
            .collect();
        let sounds = words.iter().map(|w| cologne_word(w)).collect();
        Ok(Query {
            raw: raw.to_string(),
            words,
            sounds,
        })
    }

    /// How the person with `customer_number` and `keys` matches, if at all. Each word of
    /// the query must match a word of the first or last name; the weakest word decides.
    pub fn matches(&self, customer_number: &str, keys: &NameKeys) -> Option<MatchKind> {
        if customer_number.eq_ignore_ascii_case(&self.raw) {
            return Some(MatchKind::Number);
        }
        if self.words.is_empty() {
            return None;
        }
        let names: Vec<&str> = keys.first.split(' ').chain(keys.last.split(' ')).collect();
        let sounds: Vec<&str> = keys
            .first_sound
            .split(' ')
            .chain(keys.last_sound.split(' '))
            .collect();
        let mut worst = MatchKind::Exact;
        for (word, sound) in self.words.iter().zip(&self.sounds) {
            let kind = if names.iter().any(|n| n == word) {
                MatchKind::Exact
            } else if names.iter().any(|n| n.starts_with(word.as_str())) {
                MatchKind::Prefix
            } else if !sound.is_empty() && sounds.iter().any(|s| s == sound) {
                MatchKind::Phonetic
            } else {
                return None;
            };
            worst = worst.max(kind);
        }
        Some(worst)
    }
}

/// The keys under which a record is compared with others for duplicates: its date of
/// birth with the sound of each word of its last name (or the word, where it has no
/// sound). Two records [`probably_same`] with one date of birth share at least one.
pub fn birth_keys(date_of_birth: chrono::NaiveDate, last_name: &str) -> Vec<String> {
    let mut keys: Vec<String> = fold(last_name)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let sound = cologne_word(w);
            if sound.is_empty() {
                format!("{date_of_birth}|w:{w}")
            } else {
                format!("{date_of_birth}|{sound}")
            }
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Whether two records with the same date of birth probably name one person (a
/// create or an import row answers `possible_duplicate` then, until someone confirms they
/// are two): the last names share a word or sound alike, and so do the first names. Folding
/// and sound catch the usual variants of one name in two offices (`Müller`/`Mueller`,
/// `Meier`/`Meyer`, a double name and one of its parts). Only the names count: the
/// date of birth is the caller's to compare, nothing else of the person is looked at.
pub fn probably_same(a: &NameKeys, b: &NameKeys) -> bool {
    fn alike(names_a: &str, sounds_a: &str, names_b: &str, sounds_b: &str) -> bool {
        let shares = |x: &str, y: &str| {
            x.split(' ')
                .filter(|w| !w.is_empty())
                .any(|w| y.split(' ').any(|v| v == w))
        };
        shares(names_a, names_b) || (!sounds_a.is_empty() && shares(sounds_a, sounds_b))
    }
    alike(&a.last, &a.last_sound, &b.last, &b.last_sound)
        && alike(&a.first, &a.first_sound, &b.first, &b.first_sound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probable_duplicates_share_or_sound_like_both_names() {
        let same =
            |a: (&str, &str), b: (&str, &str)| probably_same(&name_keys(a.0, a.1), &name_keys(b.0, b.1));
        assert!(same(("Erika", "Müller"), ("ERIKA", "Mueller")));
        assert!(same(("Erika", "Meyer"), ("Erika", "Maier")));
        assert!(same(("Anna Lena", "Schmidt-Weber"), ("Anna", "Weber")));
        assert!(!same(("Erika", "Schneider"), ("Erika", "Schmidt")));
        assert!(!same(("Erika", "Müller"), ("Hans", "Müller")));
    }

    #[test]
    fn folding_treats_spellings_of_one_name_alike() {
        for s in ["Müller", "MÜLLER", "Mueller", "müller"] {
            assert_eq!(fold(s), "mueller", "{s}");
        }
        assert_eq!(fold("Groß"), "gross");
        assert_eq!(fold("GROSS"), "gross");
        assert_eq!(fold("José  Núñez-García"), "jose nunez garcia");
        assert_eq!(fold("Łukasz Øster"), "lukasz oster");
    }

    #[test]
    fn the_koelner_phonetik_of_known_words() {
        // the examples of the method's usual description
        assert_eq!(cologne("wikipedia"), "3412");
        assert_eq!(cologne(&fold("Müller-Lüdenscheidt")), "657 52682");
        assert_eq!(
            cologne_word(&fold("Müller-Lüdenscheidt").replace(' ', "")),
            "65752682"
        );
        assert_eq!(cologne("meyer"), cologne("maier"));
        assert_eq!(cologne("meyer"), "67");
        assert_ne!(cologne("schmidt"), cologne("schneider"));
        assert_eq!(cologne("schmidt"), cologne("schmitt"));
    }

    fn keys(first: &str, last: &str) -> NameKeys {
        name_keys(first, last)
    }

    #[test]
    fn queries_match_by_number_name_prefix_and_sound() {
        let erika = keys("Erika", "Müller");
        let q = |s: &str| Query::parse(s).unwrap();
        assert_eq!(q("K-1").matches("k-1", &erika), Some(MatchKind::Number));
        assert_eq!(q("Mueller").matches("K-2", &erika), Some(MatchKind::Exact));
        assert_eq!(q("MÜLLER erika").matches("K-2", &erika), Some(MatchKind::Exact));
        assert_eq!(q("Mül").matches("K-2", &erika), Some(MatchKind::Prefix));
        assert_eq!(q("Miller").matches("K-2", &erika), Some(MatchKind::Phonetic));
        assert_eq!(q("Mueller Anna").matches("K-2", &erika), None);
        let maier = keys("Hans", "Maier");
        assert_eq!(q("Meyer").matches("K-3", &maier), Some(MatchKind::Phonetic));
        let schneider = keys("Ute", "Schneider");
        assert_eq!(q("Schmidt").matches("K-4", &schneider), None);
        assert!(Query::parse("   ").is_err());
        assert!(MatchKind::Number < MatchKind::Exact && MatchKind::Prefix < MatchKind::Phonetic);
    }
}
