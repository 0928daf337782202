//! One report per owner (`owners/<owner>.md` and `.html`): only their columns and, for
//! the table's owner, the rows; what is wrong, how many, sample keys and values, and the
//! mapping rule each column was compared under.

use std::fmt::Write as _;

use super::html::{escape, samples};
use crate::drilldown::DiffLine;
use crate::job::Outcome;
use crate::metrics::{ColumnSummary, OwnerSummary};

/// Lines shown per owner in Markdown.
const SAMPLES: usize = 50;

/// A file name for an owner: letters, digits and `@._-` kept, anything else `_`.
pub fn file_stem(owner: &str) -> String {
    let stem: String = owner
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() || stem.starts_with('.') {
        format!("owner_{stem}")
    } else {
        stem
    }
}

fn their_columns<'a>(outcome: &'a Outcome, owner: &OwnerSummary) -> Vec<&'a ColumnSummary> {
    outcome
        .summary
        .columns
        .iter()
        .filter(|c| owner.columns.contains(&c.source))
        .collect()
}

fn their_lines<'a>(outcome: &'a Outcome, owner: &OwnerSummary) -> Vec<&'a DiffLine> {
    outcome
        .lines
        .iter()
        .filter(|l| l.owner.as_deref() == Some(owner.owner.as_str()))
        .collect()
}

fn rule(c: &ColumnSummary) -> String {
    let steps = |v: &[String]| {
        if v.is_empty() {
            "as stored".to_string()
        } else {
            v.join(" → ")
        }
    };
    let mut rule = format!("compared as {}", c.compare_as);
    if let Some(d) = &c.declared_type {
        let _ = write!(rule, " (declared {d})");
    }
    if c.normalizers.source == c.normalizers.target {
        let _ = write!(rule, "; both sides {}", steps(&c.normalizers.source));
    } else {
        let _ = write!(
            rule,
            "; source {}; target {}",
            steps(&c.normalizers.source),
            steps(&c.normalizers.target)
        );
    }
    if let Some(t) = &c.tolerance {
        let _ = write!(rule, "; equal {t}");
    }
    rule
}

/// How every owner report recon writes begins: Markdown, then HTML.
const MARKDOWN_START: &str = "# Reconciliation report for ";
const HTML_START: &str =
    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>recon: ";

/// The Markdown report for one owner.
pub fn markdown(outcome: &Outcome, owner: &OwnerSummary) -> String {
    let s = &outcome.summary;
    let mut m = String::new();
    let _ = writeln!(m, "{MARKDOWN_START}{}\n", md(&owner.owner));
    let _ = writeln!(
        m,
        "- source: `{}`\n- target: `{}`\n- key: {}",
        s.source.uri.replace('`', "'"),
        s.target.uri.replace('`', "'"),
        md(&s.key.join(", "))
    );
    let _ = writeln!(
        m,
        "- verdict of the whole run: {}\n",
        if s.verdict.passed { "PASS" } else { "FAIL" }
    );
    if owner.table {
        let _ = writeln!(m, "## Rows (you own the table)\n");
        let _ = writeln!(m, "| what | count |\n|---|---|");
        let _ = writeln!(
            m,
            "| keys missing in target | {} |",
            owner.missing_in_target
        );
        let _ = writeln!(m, "| keys extra in target | {} |", owner.extra_in_target);
        let _ = writeln!(m, "| repeated keys | {} |", owner.keys_with_duplicates);
        let _ = writeln!(m, "| rows with a NULL key | {} |\n", owner.null_keys);
    }
    let columns = their_columns(outcome, owner);
    if !columns.is_empty() {
        let _ = writeln!(m, "## Your columns\n");
        let _ = writeln!(
            m,
            "| column | mismatched | accuracy | rule |\n|---|---|---|---|"
        );
        for c in columns {
            let name = if c.source == c.target {
                c.source.clone()
            } else {
                format!("{} → {}", c.source, c.target)
            };
            let accuracy = c.accuracy_text();
            let _ = writeln!(
                m,
                "| {name} | {} | {accuracy} | {} |",
                c.mismatched,
                md(&rule(c))
            );
        }
        m.push('\n');
    }
    let lines = their_lines(outcome, owner);
    let _ = writeln!(m, "## Samples\n");
    if lines.is_empty() {
        let _ = writeln!(m, "Nothing of yours differs among the kept lines.");
        return m;
    }
    let _ = writeln!(
        m,
        "| {} | kind | column | source value | target value | note |",
        name_list_md(&outcome.summary.key)
    );
    let _ = writeln!(
        m,
        "|{}---|---|---|---|---|",
        "---|".repeat(outcome.summary.key.len())
    );
    for line in lines.iter().take(SAMPLES) {
        let keys: Vec<String> = line.key.iter().map(|k| value(k.as_deref())).collect();
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} |",
            keys.join(" | "),
            line.kind.as_str(),
            md(line.column.as_deref().unwrap_or("")),
            value(line.source_value.as_deref()),
            value(line.target_value.as_deref()),
            md(line.note.as_deref().unwrap_or(""))
        );
    }
    if lines.len() > SAMPLES {
        let _ = writeln!(
            m,
            "\n{} more lines are in the diffs file.",
            lines.len() - SAMPLES
        );
    }
    m
}

/// The HTML report for one owner.
pub fn html(outcome: &Outcome, owner: &OwnerSummary) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "{HTML_START}{}</title><style>body{{font-family:system-ui,sans-serif;margin:24px;color:#1f2933}}table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #e4e7eb;padding:4px 8px;text-align:left;font-size:13px}}.muted{{color:#7b8794}}</style></head><body>",
        escape(&owner.owner)
    );
    let _ = write!(
        h,
        "<h1>Reconciliation report for {}</h1>",
        escape(&owner.owner)
    );
    let s = &outcome.summary;
    let _ = write!(
        h,
        "<p>{} &rarr; {} &middot; verdict of the whole run: <b>{}</b></p>",
        escape(&s.source.uri),
        escape(&s.target.uri),
        if s.verdict.passed { "PASS" } else { "FAIL" }
    );
    if owner.table {
        let _ = write!(
            h,
            "<h2>Rows (you own the table)</h2><table><tr><td>keys missing in target</td><td>{}</td></tr><tr><td>keys extra in target</td><td>{}</td></tr><tr><td>repeated keys</td><td>{}</td></tr><tr><td>rows with a NULL key</td><td>{}</td></tr></table>",
            owner.missing_in_target,
            owner.extra_in_target,
            owner.keys_with_duplicates,
            owner.null_keys
        );
    }
    let columns = their_columns(outcome, owner);
    if !columns.is_empty() {
        h.push_str("<h2>Your columns</h2><table><tr><th>column</th><th>mismatched</th><th>accuracy</th><th>rule</th></tr>");
        for c in columns {
            let accuracy = c.accuracy_text();
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{accuracy}</td><td>{}</td></tr>",
                escape(&c.source),
                c.mismatched,
                escape(&rule(c))
            );
        }
        h.push_str("</table>");
    }
    samples(
        &mut h,
        &outcome.summary.key,
        &outcome.lines,
        Some(&owner.owner),
    );
    h.push_str("</body></html>");
    h
}

fn value(v: Option<&str>) -> String {
    match v {
        None => "NULL".into(),
        Some("") => "(empty)".into(),
        Some(v) => md(v),
    }
}

/// Text safe in a Markdown table cell.
fn name_list_md(names: &[String]) -> String {
    names.iter().map(|n| md(n)).collect::<Vec<_>>().join(" | ")
}

pub(crate) fn md(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_break_a_markdown_table() {
        let names = ["order|id".to_string(), "<b>".to_string()];
        assert_eq!(name_list_md(&names), "order\\|id | &lt;b&gt;");
    }
}
