//! The command line: flags (clap), the progress display (indicatif), and the mapping of a
//! run to output files and an exit status. The only module that knows about the terminal.

mod args;
mod progress;

use std::io::Write;

pub use args::{Cli, Command, DiffArgs};

use crate::error::{Error, Result};
use crate::job::{EngineOptions, Job};
use crate::metrics::{Criteria, Percent};
use crate::normalize::ColumnSelection;
use crate::report::{self, DiffsCsv, JsonSummary, Report, TerminalSummary};
use crate::source::SourceOptions;

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
    }
}

fn diff(args: DiffArgs) -> Result<Status> {
    let job = job_from_args(&args)?;
    let show_progress = !args.quiet && std::env::var_os("CI").is_none();
    let observer = progress::Bars::new(show_progress);
    let outcome = job.run(&observer)?;
    if let Some(path) = &args.json {
        report::write_file(&JsonSummary, &outcome, path)?;
    }
    if let Some(path) = &args.diffs {
        report::write_file(&DiffsCsv, &outcome, path)?;
    }
    if !args.quiet {
        let mut stdout = std::io::stdout().lock();
        let written = TerminalSummary
            .write(&outcome, &mut stdout)
            .and_then(|_| stdout.flush());
        match written {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.map_err(|source| Error::Write {
                path: "standard output".into(),
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

/// Builds the job a `diff` command line describes.
pub fn job_from_args(args: &DiffArgs) -> Result<Job> {
    let delimiter = |specific: &Option<String>| -> Result<u8> {
        parse_delimiter(specific.as_deref().unwrap_or(&args.delimiter))
    };
    let source_options = SourceOptions {
        delimiter: delimiter(&args.source_delimiter)?,
        ..SourceOptions::default()
    };
    let target_options = SourceOptions {
        delimiter: delimiter(&args.target_delimiter)?,
        ..SourceOptions::default()
    };
    let min_accuracy = args
        .min_accuracy
        .as_deref()
        .map(Percent::parse)
        .transpose()?;
    let mut engine = EngineOptions {
        partitions: args.partitions,
        threads: args.threads,
        max_diff_rows: args.max_diff_rows,
        ..EngineOptions::default()
    };
    if let Some(limit) = &args.memory_limit {
        engine.memory_limit = parse_size(limit)?;
    }
    if let Some(dir) = &args.spill_dir {
        engine.spill_dir = dir.clone();
    }
    Ok(Job {
        source: args.source.clone(),
        target: args.target.clone(),
        source_options,
        target_options,
        selection: ColumnSelection {
            key: split_list(&args.key),
            columns: args.columns.as_deref().map(split_list),
            exclude: args.exclude.as_deref().map(split_list).unwrap_or_default(),
            mappings: Vec::new(),
        },
        criteria: Criteria { min_accuracy },
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
