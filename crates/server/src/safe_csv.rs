//! CSV for spreadsheets: every cell a spreadsheet would read as a formula is neutralised
//! (OWASP, "CSV Injection": a cell that starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return is prefixed with `'`, which makes the spreadsheet show it as text).
//! A name, a title or a reason typed by a user could otherwise run `=HYPERLINK(…)` in the
//! office that opens the report.
//!
//! A cell that is a plain number (`-12`, `-0.5`) is left as it is: a number cannot run
//! anything, and a report's negative figures stay figures. Every report and export
//! written as CSV goes through [`rows`].

use serde::Serialize;

/// Whether a spreadsheet would read this cell as a formula (or as the start of one).
fn is_formula(cell: &str) -> bool {
    let Some(first) = cell.chars().next() else {
        return false;
    };
    matches!(first, '=' | '+' | '-' | '@' | '\t' | '\r') && !is_plain_number(cell)
}

/// `-12`, `+3`, `-0.5`: a sign, digits and at most one decimal point, nothing else.
fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let mut seen_digit = false;
    let mut seen_point = false;
    for c in digits.chars() {
        match c {
            '0'..='9' => seen_digit = true,
            '.' if !seen_point => seen_point = true,
            _ => return false,
        }
    }
    seen_digit
}

/// The cell as written: a formula prefixed with `'`, anything else unchanged.
pub fn cell(value: &str) -> std::borrow::Cow<'_, str> {
    if is_formula(value) {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// How the CSV is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
pub enum Dialect {
    /// RFC 4180: `,`, decimal point, UTF-8 without a byte-order mark.
    #[serde(rename = "rfc4180")]
    Rfc4180,
    /// What German Excel opens as columns: `;`, decimal comma, UTF-8 with a byte-order
    /// mark (without it Excel reads the umlauts as Windows-1252).
    #[serde(rename = "excel-de")]
    ExcelDe,
}

impl Dialect {
    /// The dialect a `dialect=` parameter of a media type names.
    pub fn from_media_type(accept: &str) -> Option<Dialect> {
        accept.split(',').find_map(|part| {
            let mut params = part.split(';').map(str::trim);
            let kind = params.next()?;
            if kind != "text/csv" {
                return None;
            }
            params.find_map(|p| match p.strip_prefix("dialect=")?.trim_matches('"') {
                "excel-de" => Some(Dialect::ExcelDe),
                "rfc4180" => Some(Dialect::Rfc4180),
                _ => None,
            })
        })
    }
}

/// A number with a decimal point, written with a decimal comma (`85.5` → `85,5`); other
/// cells unchanged.
fn decimal_comma(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.contains('.') && is_plain_number(cell) {
        std::borrow::Cow::Owned(cell.replace('.', ","))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The rows as CSV in `dialect`, with a header row, every cell neutralised.
pub fn rows_in<T: Serialize>(rows: &[T], dialect: Dialect) -> Result<Vec<u8>, csv::Error> {
    match dialect {
        Dialect::Rfc4180 => self::rows(rows, b','),
        Dialect::ExcelDe => {
            let plain = self::rows(rows, b',')?;
            let mut out = csv::WriterBuilder::new().delimiter(b';').from_writer(Vec::new());
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(plain.as_slice());
            for record in reader.records() {
                let record = record?;
                out.write_record(record.iter().map(decimal_comma).map(|c| c.into_owned()))?;
            }
            let mut body = "\u{feff}".as_bytes().to_vec();
            body.extend(out.into_inner().map_err(|e| e.into_error())?);
            Ok(body)
        }
    }
}

/// The rows as CSV with a header row (the field names of `T`), every cell neutralised.
pub fn rows<T: Serialize>(rows: &[T], delimiter: u8) -> Result<Vec<u8>, csv::Error> {
    // serialised once as the csv crate writes them (it flattens the row and names the
    // header), then read back cell by cell and written again, neutralised
    let mut plain = csv::WriterBuilder::new().from_writer(Vec::new());
    for r in rows {
        plain.serialize(r)?;
    }
    let plain = plain.into_inner().map_err(|e| e.into_error())?;
    let mut out = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(plain.as_slice());
    for record in reader.records() {
        let record = record?;
        out.write_record(record.iter().map(cell).map(|c| c.into_owned()))?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_numbers_stay_numbers() {
        for (given, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+1", "'+1+1"),
            ("-1+2", "'-1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-", "'-"),
            ("-12", "-12"),
            ("-0.5", "-0.5"),
            ("+3", "+3"),
            ("Müller", "Müller"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(cell(given), written, "{given:?}");
        }
    }

    #[test]
    fn excel_de_has_semicolons_decimal_commas_and_a_bom() {
        #[derive(Serialize)]
        struct R {
            label: &'static str,
            share: f64,
            n: i64,
            day: &'static str,
        }
        let csv = rows_in(
            &[R {
                label: "Förderung; beruflich",
                share: 85.5,
                n: -3,
                day: "2026-01-01",
            }],
            Dialect::ExcelDe,
        )
        .unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(
            text,
            "\u{feff}label;share;n;day\n\"Förderung; beruflich\";85,5;-3;2026-01-01\n"
        );
        assert_eq!(
            Dialect::from_media_type("text/csv; dialect=excel-de"),
            Some(Dialect::ExcelDe)
        );
        assert_eq!(
            Dialect::from_media_type("application/json, text/csv;dialect=\"excel-de\""),
            Some(Dialect::ExcelDe)
        );
        assert_eq!(Dialect::from_media_type("text/csv"), None);
    }

    #[derive(Serialize)]
    struct Row {
        name: &'static str,
        cents: i64,
    }

    #[test]
    fn rows_neutralise_every_cell_and_keep_the_header() {
        let csv = rows(
            &[
                Row {
                    name: "=cmd|' /C calc'!A0",
                    cents: -1200,
                },
                Row {
                    name: "Düsseldorf",
                    cents: 5,
                },
            ],
            b',',
        )
        .unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(text, "name,cents\n'=cmd|' /C calc'!A0,-1200\nDüsseldorf,5\n");
    }
}
