//! Reading an import file line by line (`docs/import.md`): NDJSON (one object per line,
//! `"kind": "household"` or `"customer"`) or CSV (a header, then one customer per line).
//! A line is read whole into memory only up to [`MAX_LINE_BYTES`]; a longer one is
//! skipped to its end and rejected, so a file of any size needs the memory of one line.
//! What a line means for the records is `app::imports`' to decide.

use std::io::BufRead;

use chrono::NaiveDate;
use passgenau_domain::household::{HouseholdData, HouseholdRole};
use passgenau_domain::import::{ImportFormat, Rejection, MAX_LINE_BYTES};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A line as read: its bytes, or that it was longer than [`MAX_LINE_BYTES`].
pub enum RawLine {
    Bytes(Vec<u8>),
    TooLong,
}

/// Lines of a reader, each at most [`MAX_LINE_BYTES`] held, with the bytes consumed.
pub struct Lines<R> {
    inner: R,
    pub consumed: u64,
    pub number: u64,
    max: usize,
}

impl<R: BufRead> Lines<R> {
    pub fn new(inner: R) -> Self {
        Lines {
            inner,
            consumed: 0,
            number: 0,
            max: MAX_LINE_BYTES,
        }
    }

    /// The next line without its `\n` (and `\r`), or `None` at the end.
    pub fn next_line(&mut self) -> std::io::Result<Option<RawLine>> {
        let mut line = Vec::new();
        let mut too_long = false;
        let mut any = false;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                if !any {
                    return Ok(None);
                }
                break;
            }
            any = true;
            let (piece, used, end) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], i + 1, true),
                None => (buf, buf.len(), false),
            };
            if !too_long {
                if line.len() + piece.len() > self.max {
                    too_long = true;
                    line = Vec::new();
                } else {
                    line.extend_from_slice(piece);
                }
            }
            self.inner.consume(used);
            self.consumed += used as u64;
            if end {
                break;
            }
        }
        self.number += 1;
        if too_long {
            return Ok(Some(RawLine::TooLong));
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(RawLine::Bytes(line)))
    }
}

/// A person without a customer record in a household line (a child, say).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberLine {
    pub role: HouseholdRole,
    pub date_of_birth: NaiveDate,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HouseholdLine {
    household_number: String,
    #[serde(default)]
    district: Option<String>,
    #[serde(default)]
    members: Vec<MemberLine>,
}

/// The household a customer line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdRef {
    pub number: String,
    pub role: HouseholdRole,
    /// The district, if the import creates the household.
    pub district: Option<String>,
}

/// What one line asks for.
#[derive(Debug, Clone)]
pub enum Row {
    Household {
        data: HouseholdData,
        members: Vec<MemberLine>,
    },
    Customer {
        /// `customer_number`, to find the record by.
        number: String,
        /// The fields of `POST /customers` the line gives: all of a new record; for a
        /// recorded one, a merge patch (what is left out stays).
        fields: Map<String, Value>,
        household: Option<HouseholdRef>,
        confirm_distinct: bool,
    },
}

fn reject(line: u64, field: Option<&str>, message: impl Into<String>) -> Rejection {
    Rejection {
        line,
        field: field.map(str::to_string),
        message: message.into(),
    }
}

/// How a serde error names the field at fault and what is wrong, without serde's line
/// and column (the line is ours to report).
pub fn serde_rejection(
    line: u64,
    prefix: &str,
    e: serde_path_to_error::Error<serde_json::Error>,
) -> Rejection {
    let path = e.path().to_string();
    let msg = e.into_inner().to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    let field = match (prefix, path.as_str()) {
        (p, "." | "") => (!p.is_empty()).then(|| p.to_string()),
        ("", f) => Some(f.to_string()),
        (p, f) => Some(format!("{p}.{f}")),
    };
    Rejection {
        line,
        field,
        message: msg,
    }
}

/// The line's text, or why it is none.
fn text(line: u64, raw: RawLine) -> Result<String, Rejection> {
    match raw {
        RawLine::TooLong => Err(reject(
            line,
            None,
            format!("the line is longer than {MAX_LINE_BYTES} bytes"),
        )),
        RawLine::Bytes(b) => String::from_utf8(b).map_err(|e| {
            reject(
                line,
                None,
                format!(
                    "the line is not UTF-8 (byte {})",
                    e.utf8_error().valid_up_to() + 1
                ),
            )
        }),
    }
}

fn take_string(line: u64, map: &mut Map<String, Value>, key: &str) -> Result<Option<String>, Rejection> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(reject(line, Some(key), "must be a string")),
    }
}

/// A customer line's object: the record's fields and the import's own keys beside them.
fn customer_row(line: u64, mut map: Map<String, Value>) -> Result<Row, Rejection> {
    let confirm_distinct = match map.remove("confirm_distinct_person") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(_) => {
            return Err(reject(
                line,
                Some("confirm_distinct_person"),
                "must be true or false",
            ))
        }
    };
    let household_number = take_string(line, &mut map, "household_number")?;
    let role = map.remove("household_role");
    let district = take_string(line, &mut map, "household_district")?;
    let household = match (household_number, role) {
        (None, None | Some(Value::Null)) => None,
        (None, Some(_)) => {
            return Err(reject(
                line,
                Some("household_number"),
                "required with household_role",
            ))
        }
        (Some(_), None | Some(Value::Null)) => {
            return Err(reject(
                line,
                Some("household_role"),
                "required with household_number",
            ))
        }
        (Some(number), Some(role)) => {
            let role: HouseholdRole = serde_path_to_error::deserialize(role)
                .map_err(|e| serde_rejection(line, "household_role", e))?;
            Some(HouseholdRef {
                number,
                role,
                district,
            })
        }
    };
    let number = match map.get("customer_number") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(reject(line, Some("customer_number"), "must not be empty")),
        Some(_) => return Err(reject(line, Some("customer_number"), "must be a string")),
        None => {
            return Err(reject(
                line,
                Some("customer_number"),
                "missing field `customer_number`",
            ))
        }
    };
    Ok(Row::Customer {
        number,
        fields: map,
        household,
        confirm_distinct,
    })
}

/// One NDJSON line: `None` for a blank line.
pub fn ndjson_row(line: u64, raw: RawLine) -> Result<Option<Row>, Rejection> {
    let text = text(line, raw)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let value: Value =
        serde_json::from_str(&text).map_err(|e| reject(line, None, format!("not a JSON object: {e}")))?;
    let Value::Object(mut map) = value else {
        return Err(reject(line, None, "not a JSON object"));
    };
    match map.remove("kind") {
        Some(Value::String(k)) if k == "customer" => customer_row(line, map).map(Some),
        Some(Value::String(k)) if k == "household" => {
            let h: HouseholdLine = serde_path_to_error::deserialize(Value::Object(map))
                .map_err(|e| serde_rejection(line, "", e))?;
            Ok(Some(Row::Household {
                data: HouseholdData {
                    household_number: h.household_number,
                    district: h.district,
                },
                members: h.members,
            }))
        }
        Some(_) => Err(reject(
            line,
            Some("kind"),
            "must be \"household\" or \"customer\"",
        )),
        None => Err(reject(
            line,
            Some("kind"),
            "missing: \"household\" or \"customer\"",
        )),
    }
}

/// How a CSV column becomes a field of the customer line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Text,
    Bool,
    /// A JSON array (spells, prior participations).
    Json,
    /// A part of `contact`.
    Contact(&'static str),
}

/// The CSV columns, and how each is read.
const COLUMNS: &[(&str, Cell)] = &[
    ("customer_number", Cell::Text),
    ("first_name", Cell::Text),
    ("last_name", Cell::Text),
    ("date_of_birth", Cell::Text),
    ("gender", Cell::Text),
    ("nationality", Cell::Text),
    ("postal_code", Cell::Text),
    ("district", Cell::Text),
    ("vocational_qualification", Cell::Text),
    ("german_level", Cell::Text),
    ("health_restrictions", Cell::Bool),
    ("severely_disabled", Cell::Bool),
    ("rehabilitant", Cell::Bool),
    ("refugee", Cell::Bool),
    ("solo_self_employed", Cell::Bool),
    ("job_ready", Cell::Bool),
    ("seriously_impeded_placement", Cell::Bool),
    ("benefit_spells", Cell::Json),
    ("unemployment_spells", Cell::Json),
    ("employment_spells", Cell::Json),
    ("self_employment_spells", Cell::Json),
    ("prior_participations", Cell::Json),
    ("contact_street", Cell::Contact("street")),
    ("contact_city", Cell::Contact("city")),
    ("contact_phone", Cell::Contact("phone")),
    ("contact_email", Cell::Contact("email")),
    ("contact_preferred_channel", Cell::Contact("preferred_channel")),
    ("household_number", Cell::Text),
    ("household_role", Cell::Text),
    ("household_district", Cell::Text),
    ("confirm_distinct_person", Cell::Bool),
];

/// The columns a CSV file must have.
pub const REQUIRED_COLUMNS: &[&str] = &[
    "customer_number",
    "first_name",
    "last_name",
    "date_of_birth",
    "gender",
    "nationality",
    "vocational_qualification",
    "german_level",
];

/// The columns of a CSV file, in its order.
#[derive(Debug, Clone)]
pub struct Header(Vec<(&'static str, Cell)>);

fn csv_fields(bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    match reader.records().next() {
        Some(Ok(r)) => Ok(r.iter().map(str::to_string).collect()),
        Some(Err(e)) => Err(e.to_string()),
        None => Ok(Vec::new()),
    }
}

/// The header line: every column known, none twice, the required ones there. An error
/// here refuses the whole file before any line is imported.
pub fn csv_header(raw: RawLine) -> Result<Header, String> {
    let text = text(1, raw).map_err(|r| r.message)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let names = csv_fields(text.as_bytes()).map_err(|e| format!("the header is not CSV: {e}"))?;
    let mut columns = Vec::with_capacity(names.len());
    for name in &names {
        let name = name.trim();
        let Some(&(known, cell)) = COLUMNS.iter().find(|(c, _)| *c == name) else {
            return Err(format!(
                "unknown column {name:?}; the columns are {}",
                COLUMNS.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
            ));
        };
        if columns.iter().any(|(c, _)| *c == known) {
            return Err(format!("the column {known:?} appears twice"));
        }
        columns.push((known, cell));
    }
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .filter(|r| !columns.iter().any(|(c, _)| c == *r))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(format!("the header lacks the column(s) {}", missing.join(", ")));
    }
    Ok(Header(columns))
}

/// One CSV line: `None` for a blank line. An empty cell leaves its field out.
pub fn csv_row(header: &Header, line: u64, raw: RawLine) -> Result<Option<Row>, Rejection> {
    let text = text(line, raw)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let cells = csv_fields(text.as_bytes()).map_err(|e| reject(line, None, format!("not CSV: {e}")))?;
    if cells.len() != header.0.len() {
        return Err(reject(
            line,
            None,
            format!("{} fields; the header has {}", cells.len(), header.0.len()),
        ));
    }
    let mut map = Map::new();
    let mut contact = Map::new();
    for ((name, cell), value) in header.0.iter().zip(cells) {
        if value.is_empty() {
            continue;
        }
        let v = match cell {
            Cell::Text | Cell::Contact(_) => Value::String(value),
            Cell::Bool => match value.trim() {
                "true" | "1" => Value::Bool(true),
                "false" | "0" => Value::Bool(false),
                _ => return Err(reject(line, Some(name), "must be true or false")),
            },
            Cell::Json => serde_json::from_str(&value)
                .map_err(|e| reject(line, Some(name), format!("must be a JSON array: {e}")))?,
        };
        match cell {
            Cell::Contact(part) => {
                contact.insert((*part).to_string(), v);
            }
            _ => {
                map.insert((*name).to_string(), v);
            }
        }
    }
    if !contact.is_empty() {
        map.insert("contact".into(), Value::Object(contact));
    }
    customer_row(line, map).map(Some)
}

/// The format a file's name suggests (`.csv`; anything else is NDJSON).
pub fn format_of(path: &std::path::Path) -> ImportFormat {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("csv") => ImportFormat::Csv,
        _ => ImportFormat::Ndjson,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<Option<Vec<u8>>> {
        let mut l = Lines::new(std::io::BufReader::with_capacity(4, input));
        l.max = max;
        let mut out = Vec::new();
        while let Some(raw) = l.next_line().unwrap() {
            out.push(match raw {
                RawLine::Bytes(b) => Some(b),
                RawLine::TooLong => None,
            });
        }
        assert_eq!(l.consumed, input.len() as u64);
        out
    }

    #[test]
    fn long_lines_are_skipped_whole_and_the_next_is_read() {
        let got = lines(b"ab\r\n0123456789\ncd", 5);
        assert_eq!(got, vec![Some(b"ab".to_vec()), None, Some(b"cd".to_vec())]);
        assert_eq!(lines(b"", 5), Vec::<Option<Vec<u8>>>::new());
        assert_eq!(lines(b"\n\n", 5), vec![Some(vec![]), Some(vec![])]);
    }

    #[test]
    fn a_header_without_a_required_column_is_refused() {
        let raw = |s: &str| RawLine::Bytes(s.as_bytes().to_vec());
        let e = csv_header(raw("customer_number,first_name,last_name")).unwrap_err();
        assert!(e.contains("date_of_birth"), "{e}");
        assert!(csv_header(raw("customer_number,shoe_size"))
            .unwrap_err()
            .contains("unknown column"));
        let all = REQUIRED_COLUMNS.join(",");
        assert!(csv_header(raw(&format!("\u{feff}{all}"))).is_ok());
    }
}
