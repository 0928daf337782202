//! Report stage: renders an [`Outcome`] for people and programs. Each format is one file
//! implementing [`Report`]; files are written under a temporary name and renamed, so a
//! half-written report never looks complete, and anything that is not a regular file is
//! written as it is ([`Output`]). Reports never change a result.

mod diffs_csv;
mod diffs_jsonl;
mod diffs_parquet;
mod html;
mod json;
mod output;
mod owners;
mod plan;
mod suite;
mod terminal;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use diffs_csv::DiffsCsv;
pub use diffs_jsonl::DiffsJsonl;
pub use diffs_parquet::DiffsParquet;
pub use html::HtmlReport;
pub use json::JsonSummary;
pub use output::{Output, refuse_shared};
pub use plan::write_plan;
pub use suite::{SUITE_FORMAT_VERSION, SuiteIndex, SuiteJson, SuiteReport, SuiteTerminal};
pub use terminal::TerminalSummary;

use crate::error::{Error, Result};
use crate::job::Outcome;
use output::parent_dir;

/// The columns of a difference line after the key columns, in every diffs format.
pub(crate) const DIFF_FIELDS: [&str; 6] = [
    "kind",
    "column",
    "source_value",
    "target_value",
    "note",
    "owner",
];

/// A list of names for a person: comma-separated, or "-" when empty.
pub(crate) fn name_list(names: &[String]) -> String {
    if names.is_empty() {
        "-".to_string()
    } else {
        names.join(", ")
    }
}

/// A way of writing an outcome.
pub trait Report {
    /// Writes the report for `outcome` to `out`.
    fn write(&self, outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()>;
}

/// Writes `report` to `output` (a regular file through a temporary file beside it).
pub fn write_file(report: &dyn Report, outcome: &Outcome, output: &Output) -> Result<()> {
    let mut bytes = Vec::new();
    report
        .write(outcome, &mut bytes)
        .map_err(|source| Error::Write {
            path: output.name(),
            source,
        })?;
    output.write(&bytes)
}

/// Resolves, before any work, where `path` given to `flag` is written: its directory
/// exists, and neither it nor what its links point at is one of the inputs (a typo must
/// not overwrite the data being reconciled).
pub fn check_output(path: &Path, flag: &str, inputs: &[&str]) -> Result<Output> {
    let output = Output::resolve(path, flag)?;
    output.check_not_input(path, flag, inputs)?;
    Ok(output)
}

/// The format of the row-level differences file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DiffsFormat {
    /// `diffs.csv`
    #[default]
    Csv,
    /// `diffs.parquet`
    Parquet,
    /// `diffs.jsonl`
    Jsonl,
}

impl DiffsFormat {
    /// The format a diffs file's name asks for: `.parquet`, `.jsonl` (or `.ndjson`), else
    /// CSV.
    pub fn for_path(path: &Path) -> DiffsFormat {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("parquet") => DiffsFormat::Parquet,
            Some("jsonl" | "ndjson") => DiffsFormat::Jsonl,
            _ => DiffsFormat::Csv,
        }
    }

    /// Writes the differences of `outcome` to `output` in this format.
    pub fn write(self, outcome: &Outcome, output: &Output) -> Result<()> {
        write_file(self.report(), outcome, output)
    }

    fn file_name(self) -> &'static str {
        match self {
            DiffsFormat::Csv => "diffs.csv",
            DiffsFormat::Parquet => "diffs.parquet",
            DiffsFormat::Jsonl => "diffs.jsonl",
        }
    }

    fn report(self) -> &'static dyn Report {
        match self {
            DiffsFormat::Csv => &DiffsCsv,
            DiffsFormat::Parquet => &DiffsParquet,
            DiffsFormat::Jsonl => &DiffsJsonl,
        }
    }
}

/// Writes the report directory: the diffs file, `report.html`, `owners/<owner>.md` and
/// `.html`, and `summary.json` last, each under a temporary name first, so a directory
/// with a `summary.json` is complete.
pub fn write_report_dir(outcome: &Outcome, dir: &Path, format: DiffsFormat) -> Result<()> {
    let create = |path: &Path| {
        std::fs::create_dir_all(path).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    create(dir)?;
    // Files of an earlier run must not mix with this one: remove everything recon writes
    // here, the summary first (its presence marks a complete directory).
    let summary = dir.join("summary.json");
    for name in [
        "summary.json",
        "diffs.csv",
        "diffs.parquet",
        "diffs.jsonl",
        "report.html",
    ] {
        let path = dir.join(name);
        // Only recon's own plain files go: a symlink or a FIFO placed here is kept and
        // written through, as --json and --diffs do.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
            std::fs::remove_file(&path).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
        }
    }
    let in_dir = |name: &str| Output::resolve(&dir.join(name), "--report-dir");
    write_file(format.report(), outcome, &in_dir(format.file_name())?)?;
    write_file(&HtmlReport, outcome, &in_dir("report.html")?)?;
    let reports: Vec<OwnerReport> = outcome
        .summary
        .owners
        .iter()
        .map(|owner| OwnerReport {
            owner: owner.owner.clone(),
            markdown: owners::markdown(outcome, owner),
            html: owners::html(outcome, owner),
        })
        .collect();
    write_owner_reports(dir, &reports)?;
    write_file(
        &JsonSummary,
        outcome,
        &Output::resolve(&summary, "--report-dir")?,
    )
}

/// One owner's reports, as Markdown and HTML.
pub(crate) struct OwnerReport {
    owner: String,
    markdown: String,
    html: String,
}

/// Replaces the owner reports in `dir/owners/`: those recon wrote before go, nothing else
/// there is touched (and check_report_dir refused a folder holding anything else before
/// the run began), the list of what recon writes goes down first, then each owner's
/// `<owner>.md` and `.html`.
fn write_owner_reports(dir: &Path, reports: &[OwnerReport]) -> Result<()> {
    let (ours, _) = owner_entries(dir)?;
    for path in ours {
        std::fs::remove_file(&path).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    }
    if reports.is_empty() {
        // An owners/ folder left empty by the removal above goes too.
        let _ = std::fs::remove_dir(dir.join("owners"));
        return Ok(());
    }
    let owners_dir = dir.join("owners");
    std::fs::create_dir_all(&owners_dir).map_err(|source| Error::Write {
        path: owners_dir.clone(),
        source,
    })?;
    let stems: Vec<String> = reports
        .iter()
        .map(|r| owners::file_stem(&r.owner))
        .collect();
    // Two owners whose names map to one file name get a suffix each.
    let stems: Vec<String> = reports
        .iter()
        .zip(&stems)
        .map(|(report, stem)| {
            if stems.iter().filter(|s| *s == stem).count() > 1 {
                format!(
                    "{stem}-{:08x}",
                    xxhash_rust::xxh3::xxh3_64(report.owner.as_bytes()) as u32
                )
            } else {
                stem.clone()
            }
        })
        .collect();
    // The list first: should a write below fail, the next run still knows these files
    // are recon's.
    let mut listed: Vec<String> = stems
        .iter()
        .flat_map(|stem| [format!("{stem}.md"), format!("{stem}.html")])
        .collect();
    listed.push(String::new());
    write_text(&listed.join("\n"), &owners_dir.join(OWNERS_WRITTEN))?;
    for (report, stem) in reports.iter().zip(&stems) {
        write_text(&report.markdown, &owners_dir.join(format!("{stem}.md")))?;
        write_text(&report.html, &owners_dir.join(format!("{stem}.html")))?;
    }
    Ok(())
}

fn write_text(text: &str, path: &Path) -> Result<()> {
    Output::resolve(path, "--report-dir")?.write(text.as_bytes())
}

/// The list, one name a line, of the owner reports recon last wrote into `owners/`: a
/// rerun removes exactly those.
const OWNERS_WRITTEN: &str = ".recon-written";

/// The entries of `dir/owners` recon may replace (the reports and list it wrote, and
/// its temporary files) and those it must leave alone (everything else, also anything
/// that is not a plain file).
fn owner_entries(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let list = dir.join("owners").join(OWNERS_WRITTEN);
    let listed: Vec<String> = match std::fs::symlink_metadata(&list) {
        Ok(m) if m.file_type().is_file() => std::fs::read_to_string(&list)
            .map_err(|source| Error::Read {
                path: list.clone(),
                source,
            })?
            .lines()
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let (mut ours, mut foreign) = (Vec::new(), Vec::new());
    for path in owner_files(dir)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let plain_file = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file());
        // Output::write's temporary files: ".recon-" and six random letters or digits.
        let temporary = name
            .strip_prefix(".recon-")
            .is_some_and(|rest| rest.len() == 6 && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
        if plain_file && (name == OWNERS_WRITTEN || temporary || listed.contains(&name)) {
            ours.push(path);
        } else {
            foreign.push(path);
        }
    }
    Ok((ours, foreign))
}

/// The entries of `dir/owners`, none when it does not exist.
fn owner_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let owners_dir = dir.join("owners");
    if !owners_dir.is_dir() {
        return Ok(Vec::new());
    }
    let read_error = |source| Error::Read {
        path: owners_dir.clone(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(&owners_dir).map_err(read_error)? {
        paths.push(entry.map_err(read_error)?.path());
    }
    paths.sort();
    Ok(paths)
}

/// Checks before any work that `dir` can become the report directory.
pub fn check_report_dir(dir: &Path, inputs: &[&str]) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Config(format!(
            "--report-dir {} is a file, not a directory",
            dir.display()
        )));
    }
    let parent = parent_dir(dir);
    if !dir.exists() && !parent.is_dir() {
        return Err(Error::Config(format!(
            "cannot create --report-dir {}: {} does not exist",
            dir.display(),
            parent.display()
        )));
    }
    if let Some(foreign) = owner_entries(dir)?.1.first() {
        return Err(Error::Config(format!(
            "--report-dir {}: {} was not written by recon (it is not in owners/{OWNERS_WRITTEN}, the list of what recon wrote; a folder from a recon older than that list has none), and recon replaces owners/ on every run: move it, or write reports elsewhere",
            dir.display(),
            foreign.display()
        )));
    }
    // Only files canonicalize: a database location never matches.
    if let Ok(canonical_dir) = dir.canonicalize() {
        for input in inputs {
            if Path::new(input)
                .canonicalize()
                .is_ok_and(|i| i.starts_with(&canonical_dir))
            {
                return Err(Error::Config(format!(
                    "--report-dir {} holds the input {input}; write reports elsewhere",
                    dir.display()
                )));
            }
        }
    }
    Ok(())
}

/// The folder name of a suite's table under `tables/`: the name itself when it is safe in
/// a path, else a safe spelling of it with a hash of the name (so two names never share a
/// folder).
pub fn suite_dir_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe == name && !name.starts_with('.') && !name.is_empty() {
        safe
    } else {
        format!(
            "{safe}-{:08x}",
            xxhash_rust::xxh3::xxh3_64(name.as_bytes()) as u32
        )
    }
}

/// Writes a suite's report directory: each compared table's reports under
/// `tables/<name>/` (as [`write_report_dir`] writes them), `index.html`, and `suite.json`
/// last, so a directory with a `suite.json` is complete.
pub fn write_suite_report_dir(
    outcome: &crate::suite::SuiteOutcome,
    trends: &[(String, Vec<crate::history::TablePoint>)],
    dir: &Path,
    format: DiffsFormat,
) -> Result<()> {
    let create = |path: &Path| {
        std::fs::create_dir_all(path).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    create(dir)?;
    let summary = dir.join("suite.json");
    if summary.is_file() {
        std::fs::remove_file(&summary).map_err(|source| Error::Write {
            path: summary.clone(),
            source,
        })?;
    }
    for table in &outcome.tables {
        if let Some(table_outcome) = &table.outcome {
            let table_dir = dir.join("tables").join(suite_dir_name(&table.name));
            create(&dir.join("tables"))?;
            check_report_dir(&table_dir, &[])?;
            write_report_dir(table_outcome, &table_dir, format)?;
        }
    }
    let owners: Vec<OwnerReport> = suite::owner_reports(outcome)
        .into_iter()
        .map(|(owner, markdown, html)| OwnerReport {
            owner,
            markdown,
            html,
        })
        .collect();
    write_owner_reports(dir, &owners)?;
    let output = |name: &str| Output::resolve(&dir.join(name), "--report-dir");
    write_suite_file(&SuiteIndex, outcome, trends, &output("index.html")?)?;
    write_suite_file(&SuiteJson, outcome, trends, &output("suite.json")?)
}

/// Writes a suite report to `output` (a regular file through a temporary file beside it).
pub fn write_suite_file(
    report: &dyn SuiteReport,
    outcome: &crate::suite::SuiteOutcome,
    trends: &[(String, Vec<crate::history::TablePoint>)],
    output: &Output,
) -> Result<()> {
    let mut bytes = Vec::new();
    report
        .write(outcome, trends, &mut bytes)
        .map_err(|source| Error::Write {
            path: output.name(),
            source,
        })?;
    output.write(&bytes)
}
