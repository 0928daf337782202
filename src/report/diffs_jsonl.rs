//! Row-level differences as JSON lines (`--diffs-format jsonl`): one object per line with
//! the key as an object of column → value, and `null` for NULL.

use std::io::Write;

use super::Report;
use crate::job::Outcome;

/// The kept difference lines as JSON lines.
pub struct DiffsJsonl;

impl Report for DiffsJsonl {
    fn write(&self, outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
        for line in &outcome.lines {
            let key: serde_json::Map<String, serde_json::Value> = outcome
                .summary
                .key
                .iter()
                .zip(&line.key)
                .map(|(name, value)| (name.clone(), value.clone().into()))
                .collect();
            let record = serde_json::json!({
                "key": key,
                "kind": line.kind.as_str(),
                "column": line.column,
                "source_value": line.source_value,
                "target_value": line.target_value,
                "note": line.note,
                "owner": line.owner,
            });
            serde_json::to_writer(&mut *out, &record)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}
