//! Row-level differences as CSV (`--diffs`): the key columns, then `kind`, `column`,
//! `source_value`, `target_value`, `note`. NULL is an unquoted empty field and the empty
//! string is `""`, the same convention recon reads CSV with.

use std::io::Write;

use super::Report;
use crate::job::Outcome;

/// The kept difference lines as CSV.
pub struct DiffsCsv;

impl Report for DiffsCsv {
    fn write(&self, outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
        let mut header: Vec<Option<&str>> = outcome
            .summary
            .key
            .iter()
            .map(|k| Some(k.as_str()))
            .collect();
        header.extend(super::DIFF_FIELDS.map(Some));
        write_record(out, &header)?;
        for line in &outcome.lines {
            let mut fields: Vec<Option<&str>> = line.key.iter().map(|k| k.as_deref()).collect();
            fields.push(Some(line.kind.as_str()));
            fields.push(line.column.as_deref());
            fields.push(line.source_value.as_deref());
            fields.push(line.target_value.as_deref());
            fields.push(line.note.as_deref());
            fields.push(line.owner.as_deref());
            write_record(out, &fields)?;
        }
        Ok(())
    }
}

fn write_record(out: &mut dyn Write, fields: &[Option<&str>]) -> std::io::Result<()> {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if let Some(value) = field {
            let needs_quotes = value.is_empty()
                || value
                    .bytes()
                    .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
                || value.starts_with(' ')
                || value.ends_with(' ');
            if needs_quotes {
                out.write_all(b"\"")?;
                out.write_all(value.replace('"', "\"\"").as_bytes())?;
                out.write_all(b"\"")?;
            } else {
                out.write_all(value.as_bytes())?;
            }
        }
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_empty_and_special_characters() {
        let mut out = Vec::new();
        write_record(
            &mut out,
            &[
                None,
                Some(""),
                Some("a,b"),
                Some("say \"x\""),
                Some("plain"),
            ],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            ",\"\",\"a,b\",\"say \"\"x\"\"\",plain\n"
        );
    }
}
