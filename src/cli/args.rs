//! Command-line flags, close to argv. Help text lives here and nowhere else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::DiffsFormat;

/// recon: prove that two copies of a dataset agree, or show exactly where they don't.
///
/// Exit status: 0 when the comparison ran and every criterion holds, 1 when a criterion
/// (e.g. --min-accuracy) is breached, 2 on an error (bad input, bad usage).
#[derive(Debug, Parser)]
#[command(name = "recon", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare a source and a target dataset row by row, by key.
    Diff(Box<DiffArgs>),
    /// Print the resolved comparison plan (column pairs, types, normalizers, what is
    /// left out and why) without reading any rows; given a suite file, list its resolved
    /// tables and what discovery left out.
    Explain(Box<ExplainArgs>),
    /// Run every table of a suite file (see docs/suite-file.md): tables in parallel, one
    /// verdict, the run kept in the suite's history.
    ///
    /// Exit status: 2 when any table is in error, else 1 when a table or suite criterion
    /// is breached, else 0.
    Suite(Box<SuiteArgs>),
    /// Show a suite's past runs from its history: accuracy per table over the last runs,
    /// the first run that breached, and which differences are new, fixed or persisting.
    History(Box<HistoryArgs>),
}

/// Flags of `recon explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A suite file: list its tables instead of one comparison's plan.
    #[arg(value_name = "SUITE")]
    pub suite: Option<PathBuf>,

    /// The comparison to explain (as for `recon diff`).
    #[command(flatten)]
    pub diff: DiffArgs,
}

/// Flags of `recon suite`.
#[derive(Debug, Args)]
pub struct SuiteArgs {
    /// The suite file (TOML).
    #[arg(value_name = "SUITE")]
    pub suite: PathBuf,

    /// Run only the tables whose names match GLOB (`*` and `?`); repeatable or
    /// comma-separated.
    #[arg(long, value_name = "GLOB", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Tables at a time (default: the suite file's [suite] jobs, else 2).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Write every table's reports under DIR/tables/NAME/, plus DIR/index.html and
    /// DIR/suite.json (written last).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,

    /// Write the suite summary JSON to FILE (layout: docs/suite-json.md).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Keep the run history here: a file (SQLite) or a postgres:// location (default: the
    /// suite file's `history`, else SUITE.history beside it).
    #[arg(long, value_name = "LOCATION", conflicts_with = "no_history")]
    pub history: Option<String>,

    /// Keep no history of this run.
    #[arg(long)]
    pub no_history: bool,

    /// The run's id (default: from the start time and the process).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,

    /// Continue an interrupted run (--run-id, else the suite's latest incomplete run)
    /// with the tables it had not recorded, under the same run id.
    #[arg(long, conflicts_with = "collect")]
    pub resume: bool,

    /// Run only share I of N (counting from 0) of the tables, balanced by size, under
    /// --run-id, into a history all shards share (default: JOB_COMPLETION_INDEX and
    /// JOB_COMPLETION_COUNT when both are set, as a Kubernetes indexed Job gives them).
    #[arg(long, value_name = "I/N", conflicts_with = "collect")]
    pub shard: Option<String>,

    /// Run no table: give the verdict, reports and exit status of run RUN_ID from the
    /// history once every shard has recorded its tables, naming those still missing.
    #[arg(long, value_name = "RUN_ID")]
    pub collect: Option<String>,

    /// Format of each table's diffs file in --report-dir.
    #[arg(long, value_enum)]
    pub diffs_format: Option<DiffsFormat>,

    /// Keep at most N difference lines per table; all counts stay exact.
    #[arg(long, value_name = "N")]
    pub max_diff_rows: Option<u64>,

    /// Stop each table as soon as one of its criteria can no longer be met.
    #[arg(long)]
    pub fail_fast: bool,

    /// Worker threads shared by all tables (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Memory for row digests, shared by the tables running at once (default 768MiB).
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,

    /// Directory for spill files (default: the system temporary directory).
    #[arg(long, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,

    /// Print nothing on stdout and no progress on stderr; the exit status and files remain.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags of `recon history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The suite file whose history to read.
    #[arg(value_name = "SUITE")]
    pub suite: PathBuf,

    /// Only this table (its runs, with new, fixed and persisting differences).
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,

    /// Only runs that started within this time: 7d, 24h, 90m, or an RFC 3339 instant.
    #[arg(long, value_name = "AGE")]
    pub since: Option<String>,

    /// At most N runs (default 10).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub runs: usize,

    /// Read the history here instead of where the suite file keeps it.
    #[arg(long, value_name = "LOCATION")]
    pub history: Option<String>,

    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `recon diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// A TOML job file (see docs/job-file.md); flags given as well override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The reference dataset: a CSV file, a Parquet file, a directory of Parquet files,
    /// or a PostgreSQL table or query (postgres://user@host/db?table=schema.table). `-`
    /// (standard input), pipes and gzip or zstd CSV files are copied (decompressed) into
    /// --spill-dir first.
    #[arg(long, value_name = "LOCATION")]
    pub source: Option<String>,

    /// The dataset to check against the source (same kinds of location).
    #[arg(long, value_name = "LOCATION")]
    pub target: Option<String>,

    /// Key column(s) that identify a row, comma-separated (e.g. region,order_id).
    #[arg(long, value_name = "COLUMNS")]
    pub key: Option<String>,

    /// Compare only these columns (besides the key), comma-separated.
    #[arg(long, value_name = "COLUMNS")]
    pub columns: Option<String>,

    /// Do not compare these columns, comma-separated.
    #[arg(long, value_name = "COLUMNS")]
    pub exclude: Option<String>,

    /// Write the JSON summary to FILE (layout: docs/summary-json.md); `-` is standard
    /// output (the terminal summary then goes to stderr). A symlink is followed and kept;
    /// a FIFO or device is written in place.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write row-level differences to FILE: Parquet for a .parquet name, JSON lines for
    /// .jsonl, else CSV (or as --diffs-format says); `-` is standard output, as for
    /// --json (not both).
    #[arg(long, value_name = "FILE")]
    pub diffs: Option<PathBuf>,

    /// Write every report into DIR: summary.json (written last), the diffs file,
    /// report.html, and owners/OWNER.md and OWNER.html.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,

    /// Format of the diffs file, for --diffs and --report-dir [default: by the --diffs
    /// file's extension; csv in --report-dir].
    #[arg(long, value_enum)]
    pub diffs_format: Option<DiffsFormat>,

    /// Keep at most N difference lines for --diffs (default 10000); all counts stay exact.
    #[arg(long, value_name = "N")]
    pub max_diff_rows: Option<u64>,

    /// Fail (exit 1) when accuracy is below this percentage, e.g. 99.9 or 99.9%.
    #[arg(long, value_name = "PERCENT")]
    pub min_accuracy: Option<String>,

    /// Fail (exit 1) when more keys than this are missing in the target: a count (0) or
    /// a rate of the keys ("0.1%").
    #[arg(long, value_name = "LIMIT")]
    pub max_missing: Option<String>,

    /// Fail (exit 1) when more keys than this are extra in the target (count or rate).
    #[arg(long, value_name = "LIMIT")]
    pub max_extra: Option<String>,

    /// Stop as soon as a criterion can no longer be met (exit 1; counts are then lower
    /// bounds). Without it, counts are always complete.
    #[arg(long)]
    pub fail_fast: bool,

    /// Fail (exit 1) when either side has fewer rows (catches an empty or truncated side).
    #[arg(long, value_name = "N")]
    pub min_rows: Option<u64>,

    /// SQL filter on a PostgreSQL source's rows, e.g. "created_at < '2026-11-01'".
    #[arg(long, value_name = "SQL")]
    pub source_where: Option<String>,

    /// SQL filter on a PostgreSQL target's rows.
    #[arg(long, value_name = "SQL")]
    pub target_where: Option<String>,

    /// Connections each PostgreSQL side is read over (one snapshot for all).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub pg_connections: usize,

    /// CSV field delimiter for both sides (one character; \t for tab; default: a tab for
    /// .tsv files, else a comma).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,

    /// CSV delimiter of the source, when it differs from --delimiter.
    #[arg(long, value_name = "CHAR")]
    pub source_delimiter: Option<String>,

    /// CSV delimiter of the target, when it differs from --delimiter.
    #[arg(long, value_name = "CHAR")]
    pub target_delimiter: Option<String>,

    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Key-hash partitions, a power of two (default: from the input size).
    #[arg(long, value_name = "N")]
    pub partitions: Option<usize>,

    /// Memory for row digests before they spill to disk, e.g. 512MiB (default 768MiB).
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,

    /// Directory for spill files (default: the system temporary directory).
    #[arg(long, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,

    /// Print nothing on stdout and no progress on stderr; the exit status and files remain.
    #[arg(long, short)]
    pub quiet: bool,

    /// Record this run in a history (a file, SQLite, or a postgres:// location), as a
    /// suite's runs are, and say which differences are new since the last recorded run.
    #[arg(long, value_name = "LOCATION")]
    pub history: Option<String>,

    /// The name this comparison is recorded under with --history (default: the job
    /// file's stem, else "diff").
    #[arg(long, value_name = "NAME", requires = "history")]
    pub name: Option<String>,
}
