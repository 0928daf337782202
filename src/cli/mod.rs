//! The command line: flags (clap), the progress display (indicatif), and the mapping of a
//! run to output files and an exit status. The only module that knows about the terminal.

mod args;
mod progress;
mod suite;

use std::io::Write;

pub use args::{Cli, Command, DiffArgs, ExplainArgs, HistoryArgs, SuiteArgs};

use crate::config::{Environment, Notice, Overrides, build_job, parse_delimiter, parse_size};
use crate::error::{Error, Result};
use crate::history;
use crate::job::Job;
use crate::metrics::Status;
use crate::metrics::{Amount, Category, Percent};
use crate::report::{self, DiffsFormat, JsonSummary, Report, TerminalSummary};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<Status> {
    match cli.command {
        Command::Diff(args) => diff(*args),
        Command::Explain(args) => match &args.suite {
            Some(path) => suite::explain_suite(path),
            None => explain(args.diff),
        },
        Command::Suite(args) => suite::run_suite(*args),
        Command::History(args) => suite::show_history(*args),
    }
}

/// Writes to standard output through `write`; a closed pipe (`| head`) is not an error.
fn write_stdout(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match write(&mut stdout).and_then(|_| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|source| Error::Write {
            path: "standard output".into(),
            source,
        }),
    }
}

fn explain(args: DiffArgs) -> Result<Status> {
    let job = job_from_args(&args)?;
    let plan = job.plan()?;
    let mut stdout = std::io::stdout().lock();
    report::write_plan(&job, &plan, &mut stdout)
        .and_then(|_| stdout.flush())
        .or_else(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|source| Error::Write {
            path: "standard output".into(),
            source,
        })?;
    Ok(Status::Passed)
}

fn diff(args: DiffArgs) -> Result<Status> {
    let job = job_from_args(&args)?;
    let inputs = [job.source.as_str(), job.target.as_str()];
    let resolve = |path: &Option<std::path::PathBuf>, flag| {
        path.as_deref()
            .map(|p| report::check_output(p, flag, &inputs))
            .transpose()
    };
    let (json, diffs) = (
        resolve(&args.json, "--json")?,
        resolve(&args.diffs, "--diffs")?,
    );
    let outputs: Vec<(&str, &report::Output)> = [("--json", &json), ("--diffs", &diffs)]
        .into_iter()
        .filter_map(|(flag, output)| Some((flag, output.as_ref()?)))
        .collect();
    report::refuse_shared(&outputs)?;
    // The summary must not corrupt a report read from standard output.
    let summary_to_stderr = outputs.iter().any(|(_, o)| o.is_stdout());
    if let Some(dir) = &args.report_dir {
        report::check_report_dir(dir, &inputs)?;
    }
    // Opened before the run: an unreachable history is an error before any row is read.
    let history = args.history.as_deref().map(history::open).transpose()?;
    let show_progress = !args.quiet && std::env::var_os("CI").is_none();
    let observer = progress::Bars::new(show_progress);
    let started = std::time::Instant::now();
    let outcome = job.run(&observer)?;
    let changes = match &history {
        Some(store) => Some(record_diff(&args, store.as_ref(), &outcome, started)?),
        None => None,
    };
    if let Some(output) = &json {
        report::write_file(&JsonSummary, &outcome, output)?;
    }
    if let (Some(path), Some(output)) = (&args.diffs, &diffs) {
        args.diffs_format
            .unwrap_or_else(|| DiffsFormat::for_path(path))
            .write(&outcome, output)?;
    }
    if let Some(dir) = &args.report_dir {
        report::write_report_dir(&outcome, dir, args.diffs_format.unwrap_or_default())?;
    }
    if !args.quiet {
        let (mut out, name): (Box<dyn Write>, _) = if summary_to_stderr {
            (Box::new(std::io::stderr().lock()), "standard error")
        } else {
            (Box::new(std::io::stdout().lock()), "standard output")
        };
        let written = TerminalSummary
            .write(&outcome, &mut out)
            .and_then(|_| match &changes {
                Some(None) => writeln!(out, "history: the first recorded run of this comparison"),
                Some(Some(c)) => writeln!(
                    out,
                    "since the last recorded run: {} new, {} fixed, {} persisting{}",
                    c.new,
                    c.fixed,
                    c.persisting,
                    if c.exact {
                        ""
                    } else {
                        " (of the kept differences)"
                    }
                ),
                None => Ok(()),
            })
            .and_then(|_| out.flush());
        match written {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.map_err(|source| Error::Write {
                path: name.into(),
                source,
            })?,
        }
    }
    Ok(outcome.summary.verdict.status())
}

/// Records a `recon diff` as a run of one table in `store`, named by --name, else the job
/// file's stem, else "diff".
fn record_diff(
    args: &DiffArgs,
    store: &dyn history::HistoryStore,
    outcome: &crate::job::Outcome,
    started: std::time::Instant,
) -> Result<Option<history::Changes>> {
    let name = args.name.clone().unwrap_or_else(|| {
        args.config
            .as_deref()
            .and_then(|p| p.file_stem())
            .map_or_else(|| "diff".into(), |s| s.to_string_lossy().into_owned())
    });
    let summary = &outcome.summary;
    let run_id = crate::suite::new_run_id(std::time::SystemTime::now());
    store.begin_run(&history::RunStart {
        run_id: run_id.clone(),
        suite: name.clone(),
        started_at: summary.started_at.clone(),
        recon_version: summary.recon_version.clone(),
        shard: None,
        settings: summary.fingerprint.clone(),
    })?;
    let changes = store.record_table(
        &run_id,
        &history::TableRecord {
            name: &name,
            status: summary.verdict.status(),
            error: None,
            summary: Some(summary),
            lines: &outcome.lines,
            duration_ms: started.elapsed().as_millis() as u64,
        },
    )?;
    store.finish_run(
        &run_id,
        summary.verdict.passed,
        &crate::metrics::rfc3339(std::time::SystemTime::now()),
    )?;
    Ok(changes)
}

/// Builds the job a `diff` command line describes: the job file (if any), then the flags
/// over it. Notices are printed on stderr in the command line's own terms.
pub fn job_from_args(args: &DiffArgs) -> Result<Job> {
    let (job, notices) = build_job(
        args.config.as_deref(),
        &overrides(args)?,
        &Environment::from_process(),
    )?;
    for notice in notices {
        eprintln!("recon: note: {}", describe(&notice));
    }
    Ok(job)
}

/// The flags as overrides of a job file, each parsed by the parser its job-file entry
/// goes through, with errors naming the flag.
fn overrides(args: &DiffArgs) -> Result<Overrides> {
    let flag = |name: &str, e: Error| Error::Config(format!("--{name}: {e}"));
    if args.config.is_none() {
        for (given, side) in [(&args.source, "source"), (&args.target, "target")] {
            if given.is_none() {
                return Err(Error::Config(format!(
                    "no {side} given: pass --{side} PATH or set [{side}] uri = \"...\" in a job file (--config)"
                )));
            }
        }
    }
    let delimiter = |specific: &Option<String>, name: &str| -> Result<Option<u8>> {
        match (specific, &args.delimiter) {
            (Some(d), _) => parse_delimiter(d).map(Some).map_err(|e| flag(name, e)),
            (None, Some(d)) => parse_delimiter(d)
                .map(Some)
                .map_err(|e| flag("delimiter", e)),
            (None, None) => Ok(None),
        }
    };
    let mut limits = Vec::new();
    for (text, category, name) in [
        (&args.max_missing, Category::MissingInTarget, "max-missing"),
        (&args.max_extra, Category::ExtraInTarget, "max-extra"),
    ] {
        if let Some(text) = text {
            limits.push((category, Amount::parse(text).map_err(|e| flag(name, e))?));
        }
    }
    let min_accuracy = match args.min_accuracy.as_deref() {
        Some(text) => {
            if Percent::reads_as_fraction(text) {
                // A fraction where a percentage is meant would pass nearly any run.
                eprintln!(
                    "recon: note: --min-accuracy {text} means {text}%; for a fraction like 0.999 write 99.9"
                );
            }
            Some(Percent::parse(text)?)
        }
        None => None,
    };
    Ok(Overrides {
        source: args.source.clone(),
        target: args.target.clone(),
        source_filter: args.source_where.clone(),
        target_filter: args.target_where.clone(),
        key: args.key.as_deref().map(split_list),
        columns: args.columns.as_deref().map(split_list),
        exclude: args.exclude.as_deref().map(split_list),
        delimiters: [
            delimiter(&args.source_delimiter, "source-delimiter")?,
            delimiter(&args.target_delimiter, "target-delimiter")?,
        ],
        min_accuracy,
        limits,
        min_rows: args.min_rows,
        max_diff_rows: args.max_diff_rows,
        connections: Some(args.pg_connections),
        partitions: args.partitions,
        threads: args.threads,
        memory_limit: args
            .memory_limit
            .as_deref()
            .map(parse_size)
            .transpose()
            .map_err(|e| flag("memory-limit", e))?,
        spill_dir: args.spill_dir.clone(),
        fail_fast: args.fail_fast,
    })
}

/// A notice in the command line's words: what the library calls a location or filter
/// given on top of the job file is a flag here.
fn describe(notice: &Notice) -> String {
    match notice {
        Notice::LocationReplacesSide { side } => {
            format!("--{side} replaces the job file's [{side}] with its table, query and where")
        }
        Notice::FilterReplacesWhere { side } => {
            format!("--{side}-where replaces the job file's [{side}] where")
        }
        other => other.to_string(),
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_commas() {
        assert_eq!(split_list(" a, b ,,c"), vec!["a", "b", "c"]);
    }
}
