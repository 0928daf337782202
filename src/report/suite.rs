//! Suite reports: the versioned suite JSON (`suite.json`, documented in
//! docs/suite-json.md), the terminal summary (one line per table and the verdict), and
//! `index.html`, the page a migration lead opens first (the verdict, one row per table
//! with its status, accuracy against its threshold and a trend over the last runs,
//! sortable without scripts' help beyond a few lines, linking to each table's report).
//! They render a [`SuiteOutcome`]; they never change a result.

use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use super::html::escape;
use crate::history::{Changes, TablePoint};
use crate::metrics::{Breach, PerSide, Status, format_percent};
use crate::suite::{SuiteOutcome, TableOutcome};

/// Version of the suite JSON layout; bumped on any incompatible change.
pub const SUITE_FORMAT_VERSION: u32 = 1;

/// A way of writing a suite's outcome.
pub trait SuiteReport {
    /// Writes the report for `outcome` to `out`; `trends` are each table's past results
    /// from the history, newest first (empty without a history).
    fn write(
        &self,
        outcome: &SuiteOutcome,
        trends: &[(String, Vec<TablePoint>)],
        out: &mut dyn Write,
    ) -> std::io::Result<()>;
}

#[derive(Serialize)]
struct SuiteJsonDocument<'a> {
    format_version: u32,
    recon_version: &'static str,
    run_id: &'a str,
    suite: &'a str,
    started_at: &'a str,
    elapsed_ms: u64,
    history: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    history_errors: &'a [String],
    status: Status,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    missing: &'a [String],
    tables: Vec<TableJson<'a>>,
    verdict: VerdictJson<'a>,
}

#[derive(Serialize)]
struct VerdictJson<'a> {
    passed: bool,
    breaches: &'a [Breach],
    tables: StatusCounts,
}

#[derive(Serialize, Default)]
struct StatusCounts {
    passed: u64,
    breached: u64,
    error: u64,
}

#[derive(Serialize)]
struct TableJson<'a> {
    name: &'a str,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    duration_ms: u64,
    #[serde(flatten)]
    compared: Option<ComparedJson<'a>>,
    changes: Option<Changes>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notices: &'a [String],
}

#[derive(Serialize)]
struct ComparedJson<'a> {
    source: &'a str,
    target: &'a str,
    rows: PerSide,
    accuracy: f64,
    min_accuracy: Option<f64>,
    keys_in_union: u64,
    matched: u64,
    changed: u64,
    missing_in_target: u64,
    extra_in_target: u64,
    keys_with_duplicates: u64,
    null_keys: &'a PerSide,
    complete: bool,
    fingerprint: &'a str,
    breaches: &'a [Breach],
}

fn table_json(t: &TableOutcome) -> TableJson<'_> {
    TableJson {
        name: &t.name,
        status: t.status,
        error: t.error.as_deref(),
        duration_ms: t.duration_ms,
        compared: t.outcome.as_ref().map(|o| {
            let s = &o.summary;
            ComparedJson {
                source: &s.source.uri,
                target: &s.target.uri,
                rows: PerSide {
                    source: s.source.rows,
                    target: s.target.rows,
                },
                accuracy: s.accuracy,
                min_accuracy: s.verdict.min_accuracy,
                keys_in_union: s.keys_in_union,
                matched: s.matched,
                changed: s.changed,
                missing_in_target: s.missing_in_target,
                extra_in_target: s.extra_in_target,
                keys_with_duplicates: s.keys_with_duplicates,
                null_keys: &s.null_keys,
                complete: s.complete,
                fingerprint: &s.fingerprint,
                breaches: &s.verdict.breaches,
            }
        }),
        changes: t.changes,
        notices: &t.notices,
    }
}

fn status_counts(outcome: &SuiteOutcome) -> StatusCounts {
    let mut counts = StatusCounts::default();
    for t in &outcome.tables {
        match t.status {
            Status::Passed => counts.passed += 1,
            Status::Breached => counts.breached += 1,
            Status::Error => counts.error += 1,
        }
    }
    counts
}

/// The suite summary as pretty-printed JSON.
pub struct SuiteJson;

impl SuiteReport for SuiteJson {
    fn write(
        &self,
        outcome: &SuiteOutcome,
        _trends: &[(String, Vec<TablePoint>)],
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let document = SuiteJsonDocument {
            format_version: SUITE_FORMAT_VERSION,
            recon_version: env!("CARGO_PKG_VERSION"),
            run_id: &outcome.run_id,
            suite: &outcome.suite,
            started_at: &outcome.started_at,
            elapsed_ms: outcome.elapsed_ms,
            history: outcome.history.as_deref(),
            history_errors: &outcome.history_errors,
            status: outcome.status(),
            missing: &outcome.missing,
            tables: outcome.tables.iter().map(table_json).collect(),
            verdict: VerdictJson {
                passed: outcome.verdict.passed,
                breaches: &outcome.verdict.breaches,
                tables: status_counts(outcome),
            },
        };
        serde_json::to_writer_pretty(&mut *out, &document)?;
        out.write_all(b"\n")
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Passed => "PASS",
        Status::Breached => "BREACH",
        Status::Error => "ERROR",
    }
}

/// Accuracy of a compared table for a person: `99.95%`, or `-` with nothing compared.
fn accuracy_text(t: &TableOutcome) -> String {
    match &t.outcome {
        Some(o) if o.summary.keys_in_union > 0 => {
            format_percent(o.summary.matched, o.summary.keys_in_union)
        }
        Some(_) => "-".into(),
        None => String::new(),
    }
}

/// The first thing to say about a table after its numbers: its error, its first breach.
fn reason(t: &TableOutcome) -> String {
    if let Some(e) = &t.error {
        return e.clone();
    }
    t.outcome
        .as_ref()
        .and_then(|o| o.summary.verdict.breaches.first())
        .map(|b| {
            let more = t
                .outcome
                .as_ref()
                .map_or(0, |o| o.summary.verdict.breaches.len() - 1);
            if more > 0 {
                format!("{} (+{more} more)", b.message)
            } else {
                b.message.clone()
            }
        })
        .unwrap_or_default()
}

/// One line per table and the verdict, for a terminal.
pub struct SuiteTerminal;

impl SuiteReport for SuiteTerminal {
    fn write(
        &self,
        outcome: &SuiteOutcome,
        _trends: &[(String, Vec<TablePoint>)],
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        writeln!(
            out,
            "recon suite {}  run {}  ({} tables, {:.1} s)",
            outcome.suite,
            outcome.run_id,
            outcome.tables.len(),
            outcome.elapsed_ms as f64 / 1000.0
        )?;
        let width = outcome
            .tables
            .iter()
            .map(|t| t.name.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(
            out,
            "  {:<6}  {:<width$}  {:>12} {:>12}  {:>9}  {:<30}  reason",
            "status", "table", "source rows", "target rows", "accuracy", "since last run"
        )?;
        for t in &outcome.tables {
            let (source, target) = t
                .outcome
                .as_ref()
                .map_or((String::new(), String::new()), |o| {
                    (
                        o.summary.source.rows.to_string(),
                        o.summary.target.rows.to_string(),
                    )
                });
            writeln!(
                out,
                "  {:<6}  {:<width$}  {:>12} {:>12}  {:>9}  {:<30}  {}",
                status_word(t.status),
                t.name,
                source,
                target,
                accuracy_text(t),
                changes_line(&t.changes),
                reason(t)
            )?;
        }
        let counts = status_counts(outcome);
        writeln!(out)?;
        for b in &outcome.verdict.breaches {
            writeln!(out, "  suite criterion breached: {}", b.message)?;
        }
        for e in &outcome.history_errors {
            writeln!(out, "  history not written: {e}")?;
        }
        if !outcome.missing.is_empty() {
            writeln!(
                out,
                "  not recorded yet (other shards still running, or failed): {}",
                outcome.missing.join(", ")
            )?;
        }
        writeln!(
            out,
            "verdict: {} ({} passed, {} breached, {} in error)",
            match outcome.status() {
                Status::Passed => "PASS",
                Status::Breached => "FAIL",
                Status::Error => "ERROR",
            },
            counts.passed,
            counts.breached,
            counts.error
        )
    }
}

/// New, fixed and persisting differing keys since the last run, for a person.
fn changes_line(changes: &Option<Changes>) -> String {
    match changes {
        Some(c) => {
            let at_least = if c.exact { "" } else { "≥" };
            format!(
                "{at_least}{} new, {at_least}{} fixed, {at_least}{} persisting",
                c.new, c.fixed, c.persisting
            )
        }
        None => "-".into(),
    }
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
main{max-width:1200px;margin:0 auto;padding:16px}
h1{font-size:22px;margin:0 0 4px} .sub{color:#52606d;font-size:14px;margin-bottom:12px;overflow-wrap:anywhere}
.verdict{border-radius:8px;padding:14px 18px;color:#fff;margin:12px 0}
.pass{background:#2f855a} .fail{background:#c53030} .error{background:#9b2c2c} .verdict b{font-size:20px}
.verdict ul{margin:8px 0 0 18px;padding:0}
.wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{background:#f0f4f8;cursor:pointer;white-space:nowrap} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.reason{overflow-wrap:anywhere;min-width:12em}
.s{font-weight:600;border-radius:4px;padding:1px 6px;color:#fff;white-space:nowrap}
.s.Passed{background:#2f855a} .s.Breached{background:#c53030} .s.Error{background:#9b2c2c}
.muted{color:#7b8794}
";

/// Sorting by a column header's click: a few lines of inline script; the page reads the
/// same without it.
const SORT_SCRIPT: &str = "document.querySelectorAll('th[data-k]').forEach(function(th,i){th.addEventListener('click',function(){var tb=th.closest('table').tBodies[0];var rows=Array.prototype.slice.call(tb.rows);var asc=th.dataset.o!=='a';th.dataset.o=asc?'a':'d';rows.sort(function(a,b){var x=a.cells[i].dataset.v||a.cells[i].textContent,y=b.cells[i].dataset.v||b.cells[i].textContent;var nx=parseFloat(x),ny=parseFloat(y);var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?c:-c;});rows.forEach(function(r){tb.appendChild(r);});});});";

/// `index.html`: the suite's first page.
pub struct SuiteIndex;

impl SuiteReport for SuiteIndex {
    fn write(
        &self,
        outcome: &SuiteOutcome,
        trends: &[(String, Vec<TablePoint>)],
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        out.write_all(index_page(outcome, trends).as_bytes())
    }
}

fn index_page(outcome: &SuiteOutcome, trends: &[(String, Vec<TablePoint>)]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>recon suite: {}</title><style>{STYLE}</style></head><body><main>",
        escape(&outcome.suite)
    );
    let _ = write!(
        h,
        "<h1>Suite {}</h1><div class=\"sub\">run {} &middot; started {} UTC &middot; {:.1} s &middot; recon {}</div>",
        escape(&outcome.suite),
        escape(&outcome.run_id),
        escape(&outcome.started_at.replace('T', " ").replace('Z', "")),
        outcome.elapsed_ms as f64 / 1000.0,
        env!("CARGO_PKG_VERSION")
    );
    let counts = status_counts(outcome);
    let (class, word) = match outcome.status() {
        Status::Passed => ("pass", "PASS"),
        Status::Breached => ("fail", "FAIL"),
        Status::Error => ("error", "ERROR"),
    };
    let _ = write!(
        h,
        "<div class=\"verdict {class}\"><b>{word}</b> &nbsp;{} passed, {} breached, {} in error",
        counts.passed, counts.breached, counts.error
    );
    if !outcome.verdict.breaches.is_empty() {
        h.push_str("<ul>");
        for b in &outcome.verdict.breaches {
            let _ = write!(h, "<li>{}</li>", escape(&b.message));
        }
        h.push_str("</ul>");
    }
    h.push_str("</div>");
    h.push_str("<div class=\"wrap\"><table><thead><tr><th data-k>status</th><th data-k>table</th><th data-k>accuracy</th><th data-k>threshold</th><th data-k>mismatch rate</th><th>trend</th><th data-k>new</th><th data-k>fixed</th><th data-k>persisting</th><th data-k>rows (source / target)</th><th>reason</th></tr></thead><tbody>");
    for t in &outcome.tables {
        let summary = t.outcome.as_ref().map(|o| &o.summary);
        let name = match summary {
            Some(_) => format!(
                "<a href=\"tables/{}/report.html\">{}</a>",
                escape(&super::suite_dir_name(&t.name)),
                escape(&t.name)
            ),
            None => escape(&t.name),
        };
        let rate = summary.map(|s| {
            if s.keys_in_union == 0 {
                0.0
            } else {
                1.0 - s.matched as f64 / s.keys_in_union as f64
            }
        });
        let trend = trends
            .iter()
            .find(|(n, _)| *n == t.name)
            .map(|(_, points)| sparkline(points))
            .unwrap_or_default();
        let change = |pick: fn(&Changes) -> u64| {
            t.changes
                .as_ref()
                .map(|c| pick(c).to_string())
                .unwrap_or_default()
        };
        let _ = write!(
            h,
            "<tr><td data-v=\"{}\"><span class=\"s {:?}\">{}</span></td><td>{name}</td><td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\">{}</td><td class=\"num\" data-v=\"{}\">{}</td><td>{trend}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"reason\">{}</td></tr>",
            t.status.exit_code(),
            t.status,
            status_word(t.status),
            summary.map_or(-1.0, |s| s.accuracy),
            escape(&accuracy_text(t)),
            summary
                .and_then(|s| s.verdict.min_accuracy)
                .map(|m| format!("{m}%"))
                .unwrap_or_else(|| "-".into()),
            rate.unwrap_or(-1.0),
            rate.map(|r| mismatch_bar(r, summary.and_then(|s| s.verdict.min_accuracy)))
                .unwrap_or_default(),
            change(|c| c.new),
            change(|c| c.fixed),
            change(|c| c.persisting),
            summary
                .map(|s| format!("{} / {}", s.source.rows, s.target.rows))
                .unwrap_or_default(),
            escape(&reason(t)),
        );
    }
    h.push_str("</tbody></table></div>");
    if !outcome.history_errors.is_empty() {
        h.push_str("<p class=\"muted\">History not written: ");
        h.push_str(&escape(&outcome.history_errors.join("; ")));
        h.push_str("</p>");
    }
    let _ = write!(h, "<script>{SORT_SCRIPT}</script></main></body></html>");
    h
}

/// The mismatch rate on a log scale from 0.001% to 100%, so 0.01% and 1% look different
/// (on a linear accuracy bar 99.99% and 99% are the same bar), with the figure beside it
/// and the rate the threshold allows marked as a tick.
fn mismatch_bar(rate: f64, min_accuracy: Option<f64>) -> String {
    let width = 80.0;
    // log10 of a rate from 1e-5 (0.001%) to 1 (100%) over the bar's width.
    let position = |rate: f64| {
        if rate <= 0.0 {
            0.0
        } else {
            ((rate.log10() + 5.0) / 5.0).clamp(0.02, 1.0) * width
        }
    };
    let filled = position(rate);
    let tick = min_accuracy
        .map(|min| {
            let x = position((100.0 - min) / 100.0).max(1.0);
            format!("<rect x=\"{:.1}\" y=\"0\" width=\"2\" height=\"12\" fill=\"#1f2933\"><title>allowed: {:.4}%</title></rect>", x - 1.0, 100.0 - min)
        })
        .unwrap_or_default();
    let figure = if rate <= 0.0 {
        "0".to_string()
    } else if rate * 100.0 < 0.001 {
        "<0.001%".to_string()
    } else {
        format!("{:.3}%", rate * 100.0)
    };
    format!(
        "<svg width=\"{width}\" height=\"12\" role=\"img\" aria-label=\"mismatch rate {figure}\"><rect y=\"1\" width=\"{width}\" height=\"10\" fill=\"#e4e7eb\"/><rect y=\"1\" width=\"{filled:.1}\" height=\"10\" fill=\"#c53030\"/>{tick}</svg> {}",
        escape(&figure)
    )
}

/// A small line of accuracy over the last runs (oldest left), inline SVG.
fn sparkline(points: &[TablePoint]) -> String {
    let values: Vec<f64> = points.iter().rev().filter_map(|p| p.accuracy).collect();
    if values.len() < 2 {
        return String::new();
    }
    let (w, h) = (80.0, 18.0);
    let lowest = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let span = (1.0 - lowest).max(1e-9);
    let step = w / (values.len() - 1) as f64;
    let path: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let y = 1.0 + (1.0 - (v - lowest) / span) * (h - 2.0);
            format!("{:.1},{:.1}", i as f64 * step, y)
        })
        .collect();
    format!(
        "<svg width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"accuracy over {} runs\"><polyline fill=\"none\" stroke=\"#3e4c59\" stroke-width=\"1.5\" points=\"{}\"/></svg>",
        values.len(),
        path.join(" ")
    )
}

/// Each owner's suite reports, `(owner, markdown, html)`: every table they answer for in
/// one file — its status and what of theirs differs — with each table's own owner report
/// after it (Markdown) or linked (HTML).
pub(crate) fn owner_reports(outcome: &SuiteOutcome) -> Vec<(String, String, String)> {
    let mut owners: Vec<&str> = outcome
        .tables
        .iter()
        .filter_map(|t| t.outcome.as_ref())
        .flat_map(|o| o.summary.owners.iter().map(|w| w.owner.as_str()))
        .collect();
    owners.sort_unstable();
    owners.dedup();
    owners
        .into_iter()
        .map(|owner| {
            let theirs: Vec<(&TableOutcome, &crate::job::Outcome, &crate::metrics::OwnerSummary)> =
                outcome
                    .tables
                    .iter()
                    .filter_map(|t| {
                        let o = t.outcome.as_ref()?;
                        let w = o.summary.owners.iter().find(|w| w.owner == owner)?;
                        Some((t, o, w))
                    })
                    .collect();
            let mut m = String::new();
            let _ = writeln!(
                m,
                "# Suite {}: report for {}\n\nRun {} started {} UTC. Tables you answer for: {}.\n",
                super::owners::md(&outcome.suite),
                super::owners::md(owner),
                super::owners::md(&outcome.run_id),
                outcome.started_at,
                theirs.len()
            );
            let _ = writeln!(
                m,
                "| table | status | accuracy | your columns | differing values | missing | extra |\n|---|---|---|---|---|---|---|"
            );
            for (t, _, w) in &theirs {
                let rows = |n: u64| if w.table { n.to_string() } else { "-".into() };
                let _ = writeln!(
                    m,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    super::owners::md(&t.name),
                    status_word(t.status),
                    accuracy_text(t),
                    if w.columns.is_empty() {
                        "-".to_string()
                    } else {
                        super::owners::md(&w.columns.join(", "))
                    },
                    w.changed_values,
                    rows(w.missing_in_target),
                    rows(w.extra_in_target)
                );
            }
            for (t, o, w) in &theirs {
                let table_report = super::owners::markdown(o, w);
                let _ = writeln!(m, "\n## Table {}\n", super::owners::md(&t.name));
                // The table's report, its headings one level down.
                for line in table_report.lines() {
                    if line.starts_with('#') {
                        let _ = writeln!(m, "#{line}");
                    } else {
                        let _ = writeln!(m, "{line}");
                    }
                }
            }
            let mut h = String::new();
            let _ = write!(
                h,
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>recon suite {}: {}</title><style>{STYLE}</style></head><body><main><h1>Suite {}: report for {}</h1><div class=\"sub\">run {} &middot; started {} UTC</div><div class=\"wrap\"><table><thead><tr><th>status</th><th>table</th><th>accuracy</th><th>your columns</th><th>differing values</th><th>missing</th><th>extra</th><th>breaches</th></tr></thead><tbody>",
                escape(&outcome.suite),
                escape(owner),
                escape(&outcome.suite),
                escape(owner),
                escape(&outcome.run_id),
                escape(&outcome.started_at)
            );
            for (t, o, w) in &theirs {
                let rows = |n: u64| if w.table { n.to_string() } else { "-".into() };
                let link = format!(
                    "../tables/{}/owners/{}.html",
                    super::suite_dir_name(&t.name),
                    super::owners::file_stem(owner)
                );
                let _ = write!(
                    h,
                    "<tr><td><span class=\"s {:?}\">{}</span></td><td><a href=\"{}\">{}</a></td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"reason\">{}</td></tr>",
                    t.status,
                    status_word(t.status),
                    escape(&link),
                    escape(&t.name),
                    escape(&accuracy_text(t)),
                    escape(&w.columns.join(", ")),
                    w.changed_values,
                    rows(w.missing_in_target),
                    rows(w.extra_in_target),
                    escape(
                        &o.summary
                            .verdict
                            .breaches
                            .iter()
                            .map(|b| b.message.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                );
            }
            h.push_str("</tbody></table></div></main></body></html>");
            (owner.to_string(), m, h)
        })
        .collect()
}
