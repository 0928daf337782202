//! The versioned JSON summary (`--json`); its layout is documented in docs/summary-json.md.

use std::io::Write;

use super::Report;
use crate::job::Outcome;

/// The summary as pretty-printed JSON.
pub struct JsonSummary;

impl Report for JsonSummary {
    fn write(&self, outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &outcome.summary)?;
        out.write_all(b"\n")
    }
}
