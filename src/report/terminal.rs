//! The terminal summary printed on stdout: counts per category, accuracy, a per-column
//! table and the verdict, laid out for a person reading a terminal.

use std::io::Write;

use super::Report;
use crate::job::Outcome;
use crate::metrics::{Summary, format_percent};

/// A plain-text summary.
pub struct TerminalSummary;

impl Report for TerminalSummary {
    fn write(&self, outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
        let s = &outcome.summary;
        writeln!(out, "recon  {}  →  {}", s.source.uri, s.target.uri)?;
        let keys: Vec<String> = s
            .key_columns
            .iter()
            .map(|k| {
                let mut text = if k.source == k.target {
                    k.source.clone()
                } else {
                    format!("{} → {}", k.source, k.target)
                };
                let mut how = vec![format!("compared as {}", k.compare_as)];
                how.extend(k.notes.iter().cloned());
                for (side, steps) in [
                    ("source", &k.normalizers.source),
                    ("target", &k.normalizers.target),
                ] {
                    if !steps.is_empty() {
                        how.push(format!("{side}: {}", steps.join(" → ")));
                    }
                }
                text.push_str(&format!(" ({})", how.join("; ")));
                text
            })
            .collect();
        writeln!(out, "key    {}", keys.join(", "))?;
        writeln!(out)?;
        writeln!(out, "  rows read            {:>12}  source", s.source.rows)?;
        writeln!(out, "                       {:>12}  target", s.target.rows)?;
        writeln!(out, "  keys (union)         {:>12}", s.keys_in_union)?;
        let share = |n: u64| {
            if s.keys_in_union == 0 {
                String::new()
            } else {
                format!("  {:>8}", format_percent(n, s.keys_in_union))
            }
        };
        let categories = [
            ("matched", s.matched),
            ("changed", s.changed),
            ("missing in target", s.missing_in_target),
            ("extra in target", s.extra_in_target),
            ("duplicate keys", s.keys_with_duplicates),
        ];
        for (name, n) in categories {
            writeln!(out, "    {name:<18} {n:>12}{}", share(n))?;
        }
        if s.keys_with_duplicates > 0 {
            writeln!(
                out,
                "      repeated keys: source {} ({} rows), target {} ({} rows)",
                s.duplicate_keys.source,
                s.duplicate_key_rows.source,
                s.duplicate_keys.target,
                s.duplicate_key_rows.target
            )?;
        }
        if s.null_keys.source + s.null_keys.target > 0 {
            writeln!(
                out,
                "  NULL keys            source {}, target {} (rows outside the key union)",
                s.null_keys.source, s.null_keys.target
            )?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "  accuracy             {}  (matched / keys in union)",
            format_percent(s.matched, s.keys_in_union)
        )?;
        writeln!(out)?;
        write_columns(s, out)?;
        writeln!(out)?;
        let d = &s.diff_lines;
        if d.capped {
            writeln!(
                out,
                "  difference lines: {} in all, {} kept (--max-diff-rows {}){}",
                d.total,
                d.kept,
                d.max,
                // After --fail-fast the counts are lower bounds (said below), not exact.
                if s.complete {
                    "; counts above are exact"
                } else {
                    ""
                }
            )?;
        } else {
            writeln!(out, "  difference lines: {} (all kept)", d.total)?;
        }
        writeln!(out)?;
        for warning in &s.warnings {
            writeln!(out, "  warning: {warning}")?;
        }
        if !s.warnings.is_empty() {
            writeln!(out)?;
        }
        if s.verdict.passed && !s.verdict.criteria_given {
            writeln!(
                out,
                "verdict: PASS (no criteria given; set --min-accuracy to gate on the result)"
            )?;
        } else if s.verdict.passed {
            writeln!(out, "verdict: PASS")?;
        } else {
            writeln!(out, "verdict: FAIL")?;
            for breach in &s.verdict.breaches {
                writeln!(out, "  - {}", breach.message)?;
            }
        }
        Ok(())
    }
}

fn write_columns(s: &Summary, out: &mut dyn Write) -> std::io::Result<()> {
    if s.columns.is_empty() {
        writeln!(out, "  no columns compared besides the key")?;
    } else {
        let name = |c: &crate::metrics::ColumnSummary| {
            if c.source == c.target {
                c.source.clone()
            } else {
                format!("{} → {}", c.source, c.target)
            }
        };
        let width = s
            .columns
            .iter()
            .map(|c| name(c).chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        writeln!(
            out,
            "  {:<width$}  {:<11}  {:>10} {:>10}  notes",
            "column", "compared as", "mismatched", "accuracy"
        )?;
        for c in &s.columns {
            let accuracy = c.accuracy_text();
            let mut notes = c.notes.clone();
            let (ns, nt) = (&c.normalizers.source, &c.normalizers.target);
            if ns == nt && !ns.is_empty() {
                notes.push(format!("both: {}", ns.join(" → ")));
            } else {
                if !ns.is_empty() {
                    notes.push(format!("source: {}", ns.join(" → ")));
                }
                if !nt.is_empty() {
                    notes.push(format!("target: {}", nt.join(" → ")));
                }
            }
            if let Some(t) = &c.tolerance {
                notes.push(format!("equal {t}"));
            }
            let unparseable = c.unparseable.source + c.unparseable.target;
            if unparseable > 0 {
                notes.insert(
                    0,
                    format!(
                        "{unparseable} unparseable (source {}, target {})",
                        c.unparseable.source, c.unparseable.target
                    ),
                );
            }
            let line = format!(
                "  {:<width$}  {:<11}  {:>10} {:>10}  {}",
                name(c),
                c.compare_as.to_string(),
                c.mismatched,
                accuracy,
                notes.join("; ")
            );
            writeln!(out, "{}", line.trim_end())?;
            if let Some(hint) = &c.hint {
                writeln!(out, "  {:<width$}  hint: {hint}", "")?;
            }
        }
    }
    let list = super::name_list;
    writeln!(out)?;
    writeln!(
        out,
        "  only in source (not compared): {}",
        list(&s.only_in_source)
    )?;
    writeln!(
        out,
        "  only in target (not compared): {}",
        list(&s.only_in_target)
    )?;
    writeln!(
        out,
        "  excluded:                      {}",
        list(&s.excluded)
    )?;
    Ok(())
}
