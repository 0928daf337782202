//! Row-level differences as Parquet (`--diffs-format parquet`): the key columns, then
//! `kind`, `column`, `source_value`, `target_value`, `note`, `owner`, all text, NULL as NULL.

use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;

use super::Report;
use crate::job::Outcome;

/// The kept difference lines as a Parquet file.
pub struct DiffsParquet;

impl Report for DiffsParquet {
    fn write(&self, outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
        let other = |e: parquet::errors::ParquetError| std::io::Error::other(e.to_string());
        let mut fields: Vec<Field> = outcome
            .summary
            .key
            .iter()
            .map(|k| Field::new(k, DataType::Utf8, true))
            .collect();
        for name in super::DIFF_FIELDS {
            // A key column named like one of these gets a prefix to stay unique.
            let name = if outcome.summary.key.iter().any(|k| k == name) {
                format!("diff_{name}")
            } else {
                name.to_string()
            };
            fields.push(Field::new(name, DataType::Utf8, true));
        }
        let lines = &outcome.lines;
        let mut columns: Vec<ArrayRef> = (0..outcome.summary.key.len())
            .map(|i| {
                Arc::new(StringArray::from_iter(
                    lines.iter().map(|l| l.key[i].clone()),
                )) as ArrayRef
            })
            .collect();
        columns.push(Arc::new(StringArray::from_iter_values(
            lines.iter().map(|l| l.kind.as_str()),
        )));
        columns.push(Arc::new(StringArray::from_iter(
            lines.iter().map(|l| l.column.clone()),
        )));
        columns.push(Arc::new(StringArray::from_iter(
            lines.iter().map(|l| l.source_value.clone()),
        )));
        columns.push(Arc::new(StringArray::from_iter(
            lines.iter().map(|l| l.target_value.clone()),
        )));
        columns.push(Arc::new(StringArray::from_iter(
            lines.iter().map(|l| l.note.clone()),
        )));
        columns.push(Arc::new(StringArray::from_iter(
            lines.iter().map(|l| l.owner.clone()),
        )));
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), columns)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        // ArrowWriter needs an owned, Send writer: build the file in memory (the lines are
        // capped by --max-diff-rows), then copy it out.
        let mut buffer = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut buffer, schema, None).map_err(other)?;
        writer.write(&batch).map_err(other)?;
        writer.close().map_err(other)?;
        out.write_all(&buffer)
    }
}
