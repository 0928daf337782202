//! The command line: flags (clap), the progress display (indicatif), and the mapping of a
//! run to output files and an exit status. The only module that knows about the terminal.

mod args;
mod progress;

use std::io::Write;

pub use args::{Cli, Command, DiffArgs};

use crate::config::{JobFile, SideFile};
use crate::drilldown::Mask;
use crate::error::{Error, Result};
use crate::job::{EngineOptions, Job};
use crate::metrics::{Amount, Category, Percent};
use crate::normalize::ColumnSelection;
use crate::report::{self, DiffsFormat, JsonSummary, Report, TerminalSummary};
use crate::source::{DatabaseOptions, FileOptions, SourceOptions};

/// How a completed run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Compared, and every criterion holds.
    Passed,
    /// Compared, and a criterion is breached.
    Breached,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<Status> {
    match cli.command {
        Command::Diff(args) => diff(*args),
        Command::Explain(args) => explain(*args),
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
    let show_progress = !args.quiet && std::env::var_os("CI").is_none();
    let observer = progress::Bars::new(show_progress);
    let outcome = job.run(&observer)?;
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
            .and_then(|_| out.flush());
        match written {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.map_err(|source| Error::Write {
                path: name.into(),
                source,
            })?,
        }
    }
    Ok(if outcome.summary.verdict.passed {
        Status::Passed
    } else {
        Status::Breached
    })
}

/// Builds the job a `diff` command line describes: the job file (if any), then the flags
/// over it.
pub fn job_from_args(args: &DiffArgs) -> Result<Job> {
    let file = match &args.config {
        Some(path) => JobFile::read(path)?,
        None => JobFile::default(),
    };
    let side = |flag: &Option<String>,
                file_side: &Option<SideFile>,
                name: &str|
     -> Result<(String, Option<String>)> {
        match (flag, file_side) {
            // A location from the flags brings no options from the job file's side.
            (Some(uri), _) => Ok((uri.clone(), None)),
            (None, Some(fs)) => Ok((fs.uri.clone(), fs.delimiter.clone())),
            (None, None) => Err(Error::Config(format!(
                "no {name} given: pass --{name} PATH or set [{name}] uri = \"...\" in a job file (--config)"
            ))),
        }
    };
    let (source, source_file_delimiter) = side(&args.source, &file.source, "source")?;
    let (target, target_file_delimiter) = side(&args.target, &file.target, "target")?;
    let database = |flag: &Option<String>, file_side: &Option<SideFile>, from_flag: bool, name| {
        if flag.is_some() && !from_flag && file_side.as_ref().is_some_and(|f| f.filter.is_some()) {
            eprintln!("recon: note: --{name}-where replaces the job file's [{name}] where");
        }
        if file_side.as_ref().is_some_and(|f| {
            from_flag && (f.table.is_some() || f.query.is_some() || f.filter.is_some())
        }) {
            // Said, not silent: a nightly job run with another location must not lose its
            // filter unnoticed.
            eprintln!(
                "recon: note: --{name} replaces the job file's [{name}] with its table, query and where"
            );
        }
        let file_side = file_side.as_ref().filter(|_| !from_flag);
        (
            flag.clone()
                .or_else(|| file_side.and_then(|f| f.filter.clone())),
            file_side.and_then(|f| f.table.clone()),
            file_side.and_then(|f| f.query.clone()),
        )
    };
    let (source_filter, source_table, source_query) = database(
        &args.source_where,
        &file.source,
        args.source.is_some(),
        "source",
    );
    let (target_filter, target_table, target_query) = database(
        &args.target_where,
        &file.target,
        args.target.is_some(),
        "target",
    );
    let delimiter = |specific: &Option<String>, from_file: Option<String>| -> Result<Option<u8>> {
        specific
            .clone()
            .or_else(|| args.delimiter.clone())
            .or(from_file)
            .map(|chosen| parse_delimiter(&chosen))
            .transpose()
    };
    let key = match &args.key {
        Some(k) => split_list(k),
        None => file.key.clone(),
    };
    // A query's rows are numbered by the key: the target's key names follow renames.
    let target_key: Vec<String> = key
        .iter()
        .map(|k| {
            file.mappings
                .iter()
                .find(|m| &m.source == k)
                .map_or_else(|| k.clone(), |m| m.target.clone())
        })
        .collect();
    let source_options = SourceOptions {
        file: FileOptions {
            delimiter: delimiter(&args.source_delimiter, source_file_delimiter)?,
            spill_dir: args.spill_dir.clone(),
        },
        database: DatabaseOptions {
            filter: source_filter,
            table: source_table,
            query: source_query,
            connections: args.pg_connections,
            order_by: key.clone(),
        },
        ..SourceOptions::default()
    };
    let target_options = SourceOptions {
        file: FileOptions {
            delimiter: delimiter(&args.target_delimiter, target_file_delimiter)?,
            spill_dir: args.spill_dir.clone(),
        },
        database: DatabaseOptions {
            filter: target_filter,
            table: target_table,
            query: target_query,
            connections: args.pg_connections,
            order_by: target_key,
        },
        ..SourceOptions::default()
    };
    let mut criteria = file.criteria;
    if let Some(text) = args.min_accuracy.as_deref() {
        criteria.min_accuracy = Some(Percent::parse(text)?);
        // A fraction where a percentage is meant would pass nearly any run.
        if !text.trim().ends_with('%')
            && text
                .trim()
                .parse::<f64>()
                .is_ok_and(|v| v > 0.0 && v <= 1.0)
        {
            eprintln!(
                "recon: note: --min-accuracy {text} means {text}%; for a fraction like 0.999 write 99.9"
            );
        }
    }
    for (flag, category) in [
        (&args.max_missing, Category::MissingInTarget),
        (&args.max_extra, Category::ExtraInTarget),
    ] {
        if let Some(text) = flag {
            criteria.limits.retain(|(c, _)| *c != category);
            criteria.limits.push((category, Amount::parse(text)?));
        }
    }
    if let Some(min) = args.min_rows {
        criteria.min_rows = Some(min);
    }
    let mut engine = EngineOptions {
        partitions: args.partitions,
        threads: args.threads,
        max_diff_rows: args.max_diff_rows.or(file.max_diff_rows).unwrap_or(10_000),
        fail_fast: args.fail_fast,
        ..EngineOptions::default()
    };
    if let Some(limit) = &args.memory_limit {
        engine.memory_limit = parse_size(limit)?;
    }
    if let Some(dir) = &args.spill_dir {
        // Checked now, not when the first partition spills in the middle of the scan.
        if !dir.is_dir() {
            return Err(Error::Config(format!(
                "--spill-dir {} is not a directory: create it, or leave the flag out to spill into {}",
                dir.display(),
                std::env::temp_dir().display()
            )));
        }
        engine.spill_dir = dir.clone();
    }
    Ok(Job {
        source,
        target,
        source_options,
        target_options,
        selection: ColumnSelection {
            key,
            columns: args.columns.as_deref().map(split_list).or(file.include),
            exclude: args
                .exclude
                .as_deref()
                .map(split_list)
                .unwrap_or(file.exclude),
            mappings: file.mappings,
        },
        criteria,
        owner: file.owner,
        mask: match std::env::var("RECON_MASK_KEY") {
            Ok(key) if !key.is_empty() => Mask::keyed(&key),
            _ => Mask::random(),
        },
        engine,
    })
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn parse_delimiter(text: &str) -> Result<u8> {
    match text {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() && !matches!(t, "\"" | "\n" | "\r") => {
            Ok(t.as_bytes()[0])
        }
        other => Err(Error::Config(format!(
            "delimiter {other:?} must be one ASCII character other than a quote or line break (use \\t for tab)"
        ))),
    }
}

/// Parses `512MiB`, `2GiB`, `1G`, `300M` or a plain byte count.
fn parse_size(text: &str) -> Result<usize> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let multiplier: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => 0,
    };
    match digits.parse::<usize>() {
        Ok(n) if multiplier > 0 && n > 0 => Ok(n.saturating_mul(multiplier)),
        _ => Err(Error::Config(format!(
            "memory limit {text:?} is not a size; write it like 512MiB or 2GiB"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_delimiters() {
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(parse_delimiter("\\t").unwrap(), b'\t');
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        assert!(parse_delimiter("ab").is_err());
        assert!(parse_delimiter("\"").is_err());
        assert_eq!(split_list(" a, b ,,c"), vec!["a", "b", "c"]);
    }
}
