//! Bringing in people from another system (`api-contract.md`, "Finding and bringing in
//! people"; `docs/import.md`): what an import job reports.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an import job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    Queued,
    Running,
    /// Every line was read; rejected lines are listed.
    Done,
    /// The file could not be read to its end (`error` says why); the lines before were
    /// imported, each whole or not at all, and a second run picks up the rest.
    Failed,
}

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// One JSON object per line (`application/x-ndjson`).
    Ndjson,
    /// A header line, then one customer per line (`text/csv`, RFC 4180 without line
    /// breaks inside fields).
    Csv,
}

/// A line that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Rejection {
    /// 1-based line number in the file.
    pub line: u64,
    /// The field at fault (`contact.email`, `benefit_spells[0].to`), or `null` for the
    /// line as a whole.
    pub field: Option<String>,
    pub message: String,
}

/// What an import did with the lines it read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    /// Records that were new.
    pub imported: u64,
    /// Records that were there and changed.
    pub updated: u64,
    /// Records that were there as the line says: nothing written.
    pub unchanged: u64,
    /// Lines rejected (listed up to [`MAX_LISTED_REJECTIONS`]).
    pub rejected: u64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.imported += other.imported;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
    }
}

/// Rejected lines a job lists; beyond, only `Counts::rejected` counts them.
pub const MAX_LISTED_REJECTIONS: usize = 1_000;

/// Longest line read, in bytes; a longer line is rejected without being held in memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;
