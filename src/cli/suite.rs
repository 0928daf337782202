//! `recon suite`, `recon history` and `recon explain SUITE`: flags into the library's
//! suite options, the history opened where the suite keeps it, outputs written, and the
//! suite's status as the exit status.

use std::io::Write;

use super::args::{HistoryArgs, SuiteArgs};
use super::progress::SuiteBars;
use super::{Status, write_stdout};
use crate::config::{Environment, Overrides, parse_size};
use crate::error::{Error, Result};
use crate::history::{self, HistoryStore, TablePoint};
use crate::report::{self, SuiteJson, SuiteTerminal};
use crate::suite::{self, SuiteFile, SuiteOptions};

/// Runs a suite.
pub fn run_suite(args: SuiteArgs) -> Result<Status> {
    let file = SuiteFile::read(&args.suite)?;
    // Checked before any table runs: a typo in --only must not run nothing quietly.
    suite::selected(&file, &args.only)?;
    let json = args
        .json
        .as_deref()
        .map(|path| report::check_output(path, "--json", &[]))
        .transpose()?;
    if let Some(dir) = &args.report_dir {
        report::check_report_dir(dir, &[])?;
    }
    let history_location = match (&args.history, args.no_history) {
        (_, true) => None,
        (Some(location), false) => Some(location.clone()),
        (None, false) => file.history.clone(),
    };
    let store = history_location.as_deref().map(history::open).transpose()?;
    let options = SuiteOptions {
        only: args.only.clone(),
        jobs: args.jobs,
        run_id: args.run_id.clone(),
        resume: args.resume,
        shard: shard(&args)?,
        collect: args.collect.clone(),
        overrides: Overrides {
            max_diff_rows: args.max_diff_rows,
            threads: args.threads,
            memory_limit: args
                .memory_limit
                .as_deref()
                .map(parse_size)
                .transpose()
                .map_err(|e| Error::Config(format!("--memory-limit: {e}")))?,
            spill_dir: args.spill_dir.clone(),
            fail_fast: args.fail_fast,
            ..Overrides::default()
        },
    };
    let show_progress = !args.quiet && std::env::var_os("CI").is_none();
    let bars = SuiteBars::new(show_progress);
    let outcome = suite::run(
        &file,
        &options,
        &Environment::from_process(),
        store.as_deref(),
        &bars,
    )?;
    bars.finish();
    let trends = match &store {
        Some(store) => outcome
            .tables
            .iter()
            .map(|t| {
                Ok((
                    t.name.clone(),
                    store.table_trend(&file.name, &t.name, None, 20)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    if let Some(output) = &json {
        report::write_suite_file(&SuiteJson, &outcome, &trends, output)?;
    }
    if let Some(dir) = &args.report_dir {
        report::write_suite_report_dir(
            &outcome,
            &trends,
            dir,
            args.diffs_format.unwrap_or_default(),
        )?;
    }
    if !args.quiet {
        let terminal = |out: &mut dyn Write| {
            report::SuiteReport::write(&SuiteTerminal, &outcome, &trends, out)
        };
        // With the JSON on standard output, the summary goes to stderr so the JSON stays
        // parseable.
        if json.as_ref().is_some_and(|o| o.is_stdout()) {
            terminal(&mut std::io::stderr().lock()).map_err(|source| Error::Write {
                path: "standard error".into(),
                source,
            })?;
        } else {
            write_stdout(terminal)?;
        }
    }
    Ok(outcome.status())
}

/// The share of the tables this process runs: --shard, else a Kubernetes indexed Job's
/// JOB_COMPLETION_INDEX with JOB_COMPLETION_COUNT.
fn shard(args: &SuiteArgs) -> Result<Option<(u32, u32)>> {
    let (text, origin) = match &args.shard {
        Some(text) => (text.clone(), "--shard"),
        None => match (
            std::env::var("JOB_COMPLETION_INDEX"),
            std::env::var("JOB_COMPLETION_COUNT"),
        ) {
            (Ok(i), Ok(n)) if args.collect.is_none() => (
                format!("{i}/{n}"),
                "JOB_COMPLETION_INDEX/JOB_COMPLETION_COUNT",
            ),
            _ => return Ok(None),
        },
    };
    let parsed = text
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?)))
        .filter(|(i, n)| *n > 0 && i < n);
    parsed.map(Some).ok_or_else(|| {
        Error::Config(format!(
            "{origin} {text:?} is not a share: write I/N with 0 <= I < N, e.g. 0/4"
        ))
    })
}

/// Lists a suite's resolved tables and what discovery left out, reading no rows.
pub fn explain_suite(path: &std::path::Path) -> Result<Status> {
    let file = SuiteFile::read(path)?;
    write_stdout(|out| {
        writeln!(out, "suite {}  ({} tables)", file.name, file.tables.len())?;
        writeln!(
            out,
            "history: {}",
            file.history.as_deref().unwrap_or("none (history = false)")
        )?;
        for table in &file.tables {
            writeln!(out)?;
            writeln!(
                out,
                "{}{}",
                table.name,
                if table.critical {
                    "  (critical: must be exact)"
                } else {
                    ""
                }
            )?;
            match &table.job {
                Ok(job) => {
                    for (side, location) in [("source", &job.source), ("target", &job.target)] {
                        if let Some(l) = location {
                            let mut shown = crate::source::sql::redact(&l.uri);
                            for (name, part) in [
                                ("table", &l.table),
                                ("query", &l.query),
                                ("where", &l.filter),
                            ] {
                                if let Some(p) = part {
                                    shown.push_str(&format!("  {name}: {p}"));
                                }
                            }
                            writeln!(out, "  {side}: {shown}")?;
                        }
                    }
                    writeln!(out, "  key: {}", super::super::report::name_list(&job.key))?;
                    if let Some(min) = job.criteria.min_accuracy {
                        writeln!(out, "  accuracy at least {}%", min.value())?;
                    }
                }
                Err(why) => writeln!(out, "  in error: {why}")?,
            }
        }
        if !file.left_out.is_empty() {
            writeln!(out)?;
            writeln!(out, "left out by discovery:")?;
            for (name, why) in &file.left_out {
                writeln!(out, "  {name}: {why}")?;
            }
        }
        Ok(())
    })?;
    Ok(Status::Passed)
}

/// Shows a suite's history.
pub fn show_history(args: HistoryArgs) -> Result<Status> {
    let file = SuiteFile::read(&args.suite)?;
    let location = args
        .history
        .clone()
        .or_else(|| file.history.clone())
        .ok_or_else(|| {
            Error::Config(format!(
                "{}: the suite keeps no history (history = false); pass --history LOCATION",
                args.suite.display()
            ))
        })?;
    let store = history::open(&location)?;
    let since = args.since.as_deref().map(since_instant).transpose()?;
    let tables: Vec<String> = match &args.table {
        Some(name) => vec![name.clone()],
        None => file.tables.iter().map(|t| t.name.clone()).collect(),
    };
    let runs = store.runs(&file.name, since.as_deref(), args.runs)?;
    let mut trends: Vec<(String, Vec<TablePoint>)> = Vec::new();
    for name in &tables {
        trends.push((
            name.clone(),
            store.table_trend(&file.name, name, since.as_deref(), args.runs)?,
        ));
    }
    if let Some(name) = &args.table
        && trends[0].1.is_empty()
        && !file.tables.iter().any(|t| &t.name == name)
    {
        return Err(Error::Config(format!(
            "{}: no table {name:?} in the suite or its history",
            args.suite.display()
        )));
    }
    if args.json {
        let document = serde_json::json!({
            "suite": file.name,
            "history": store.location(),
            "runs": runs,
            "tables": trends.iter().map(|(name, points)| serde_json::json!({
                "name": name,
                "first_breach": first_breach(points),
                "runs": points,
            })).collect::<Vec<_>>(),
        });
        write_stdout(|out| {
            serde_json::to_writer_pretty(&mut *out, &document)?;
            writeln!(out)
        })?;
        return Ok(Status::Passed);
    }
    write_stdout(|out| write_history(out, &file.name, store.as_ref(), &runs, &trends))?;
    Ok(Status::Passed)
}

fn write_history(
    out: &mut dyn Write,
    suite: &str,
    store: &dyn HistoryStore,
    runs: &[history::RunRecord],
    trends: &[(String, Vec<TablePoint>)],
) -> std::io::Result<()> {
    writeln!(out, "history of suite {suite}  ({})", store.location())?;
    if runs.is_empty() {
        writeln!(out, "no runs recorded yet")?;
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "runs (newest first):")?;
    for run in runs {
        let state = match (run.complete, run.passed) {
            (false, _) => "INCOMPLETE",
            (true, Some(true)) => "PASS",
            (true, _) => "FAIL",
        };
        writeln!(
            out,
            "  {}  {:<10}  {:>3} tables  {}",
            run.started_at, state, run.tables, run.run_id
        )?;
    }
    for (name, points) in trends {
        writeln!(out)?;
        let accuracies: Vec<String> = points
            .iter()
            .rev()
            .map(|p| match p.accuracy {
                Some(a) => format!("{:.4}%", a * 100.0),
                None => format!("{:?}", p.status).to_lowercase(),
            })
            .collect();
        writeln!(
            out,
            "{name}: accuracy, oldest to newest: {}",
            accuracies.join("  ")
        )?;
        if let Some(first) = first_breach(points) {
            writeln!(out, "  first breach in this window: run {first}")?;
        }
        if let Some(latest) = points.first() {
            match latest.changes {
                Some(c) => writeln!(
                    out,
                    "  since the run before: {} new, {} fixed, {} persisting{}",
                    c.new,
                    c.fixed,
                    c.persisting,
                    if c.exact {
                        ""
                    } else {
                        " (of the kept differences only)"
                    }
                )?,
                None => writeln!(out, "  since the run before: nothing to compare with")?,
            }
        }
    }
    Ok(())
}

/// The run in which a table last started breaching (or failing): the oldest of the
/// newest unbroken series of breached runs.
fn first_breach(points: &[TablePoint]) -> Option<String> {
    points
        .iter()
        .take_while(|p| p.status != Status::Passed)
        .last()
        .map(|p| p.run_id.clone())
}

/// `7d`, `24h`, `90m`, `30s` before now, or an RFC 3339 instant, as RFC 3339 UTC.
fn since_instant(text: &str) -> Result<String> {
    let t = text.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(crate::metrics::rfc3339(
            at.with_timezone(&chrono::Utc).into(),
        ));
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let seconds: u64 = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => 0,
    };
    match digits.parse::<u64>() {
        Ok(n) if seconds > 0 => {
            let at = std::time::SystemTime::now()
                - std::time::Duration::from_secs(n.saturating_mul(seconds));
            Ok(crate::metrics::rfc3339(at))
        }
        _ => Err(Error::Config(format!(
            "--since {text:?} is not an age or instant; write it like 7d, 24h, 90m or 2026-12-01T00:00:00Z"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_instants() {
        assert!(since_instant("7d").unwrap().ends_with('Z'));
        assert_eq!(
            since_instant("2026-12-01T00:00:00+01:00").unwrap(),
            "2026-11-30T23:00:00.000Z"
        );
        assert!(since_instant("soon").is_err());
    }
}
