//! Run history: every suite run (and every `recon diff --history`) is recorded — the run,
//! each table's counts, accuracy, per-column mismatches, verdict and duration, and the
//! differing keys themselves — so that `recon history` can show a trend and say which
//! differences are new since the previous run, which were fixed and which persist.
//!
//! This module owns the record types and the questions a history answers; each store is
//! one file (`sqlite.rs`: the default, a file beside the suite). It never runs a
//! comparison and never formats output for a person.

pub mod sqlite;

pub use sqlite::SqliteHistory;

use crate::drilldown::DiffLine;
use crate::error::{Error, Result};
use crate::metrics::{Status, Summary};

/// Opens the history at `location`: a `postgres://` (or `postgresql://`) URL names a
/// PostgreSQL database, anything else a SQLite file (created when missing).
pub fn open(location: &str) -> Result<Box<dyn HistoryStore>> {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        // Library errors name no flag: the caller words where the location came from.
        return Err(Error::Config(format!(
            "{}: a run history in PostgreSQL is not available yet; use a file path (a \
             SQLite history) instead",
            redact_password(location)
        )));
    }
    Ok(Box::new(SqliteHistory::open(std::path::Path::new(
        location,
    ))?))
}

/// `location` with the password of a `scheme://user:password@host` URL left out.
fn redact_password(location: &str) -> String {
    let Some((scheme, rest)) = location.split_once("://") else {
        return location.to_string();
    };
    match rest.rsplit_once('@') {
        Some((user, host)) if user.contains(':') => {
            let user = user.split_once(':').map_or(user, |(u, _)| u);
            format!("{scheme}://{user}@{host}")
        }
        _ => location.to_string(),
    }
}

/// A run as it starts: recorded first, marked complete at the end, so a run that dies
/// stays incomplete and never reads as complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    /// Unique id of the run (shards of one run share it).
    pub run_id: String,
    /// The suite's name (for `recon diff --history`: the job's name).
    pub suite: String,
    /// When the run started, RFC 3339 UTC.
    pub started_at: String,
    /// The recon version that ran.
    pub recon_version: String,
    /// Which share of the tables this process runs (`i/N`), when sharded.
    pub shard: Option<(u32, u32)>,
    /// A fingerprint of the suite's settings that change results (not its paths or
    /// credentials): a run is resumed only under the same settings.
    pub settings: String,
}

/// One table's result in a run.
#[derive(Debug, Clone, Copy)]
pub struct TableRecord<'a> {
    /// The table's name in the suite.
    pub name: &'a str,
    /// Passed, breached, or error.
    pub status: Status,
    /// The error's message, when the table is in error.
    pub error: Option<&'a str>,
    /// The table's summary, when it was compared.
    pub summary: Option<&'a Summary>,
    /// The kept difference lines (values already masked where sensitive).
    pub lines: &'a [DiffLine],
    /// Wall time of the table's run.
    pub duration_ms: u64,
}

/// What changed in a table since the previous complete run that recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Changes {
    /// Differing keys now that did not differ then.
    pub new: u64,
    /// Keys that differed then and match now.
    pub fixed: u64,
    /// Keys that differ now and did then.
    pub persisting: u64,
    /// False when either run kept only some of its differing keys (a cap): the three
    /// counts are then those of the kept keys.
    pub exact: bool,
}

/// One table in one past run, for trends.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TablePoint {
    /// The run.
    pub run_id: String,
    /// When the run started.
    pub started_at: String,
    /// Passed, breached, or error.
    pub status: Status,
    /// Accuracy as a fraction in 0..1, when compared.
    pub accuracy: Option<f64>,
    /// Keys in the union, when compared.
    pub keys_in_union: Option<u64>,
    /// Changes against the run before it.
    pub changes: Option<Changes>,
}

/// A past run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunRecord {
    /// The run's id.
    pub run_id: String,
    /// The suite.
    pub suite: String,
    /// When it started.
    pub started_at: String,
    /// When it finished; `None` while running, or when it died.
    pub finished_at: Option<String>,
    /// Whether every table it ran was recorded and the run was marked complete.
    pub complete: bool,
    /// The suite verdict, when complete.
    pub passed: Option<bool>,
    /// Tables recorded.
    pub tables: u64,
    /// The fingerprint of the suite's settings the run began with.
    pub settings: String,
}

/// A place runs are recorded: one SQLite file or one PostgreSQL database. Safe to share
/// between threads of one run and between concurrent runs (two schedulers, or shards).
pub trait HistoryStore: Send + Sync {
    /// Where the history is, for messages (password removed).
    fn location(&self) -> &str;
    /// Records a run as started (incomplete).
    fn begin_run(&self, run: &RunStart) -> Result<()>;
    /// Records one table of a run, in one transaction, and says what changed since the
    /// previous complete run that compared the table; `None` when there is none (the
    /// table's first run, or a table in error).
    fn record_table(&self, run_id: &str, table: &TableRecord<'_>) -> Result<Option<Changes>>;
    /// Marks a run complete with its verdict.
    fn finish_run(&self, run_id: &str, passed: bool, finished_at: &str) -> Result<()>;
    /// The tables a run has recorded (for `--resume` and collecting shards).
    fn recorded_tables(&self, run_id: &str) -> Result<Vec<String>>;
    /// The latest runs of a suite, newest first, started at or after `since` (RFC 3339)
    /// when given.
    fn runs(&self, suite: &str, since: Option<&str>, limit: usize) -> Result<Vec<RunRecord>>;
    /// One table's results over the latest runs of a suite, newest first.
    fn table_trend(
        &self,
        suite: &str,
        table: &str,
        since: Option<&str>,
        limit: usize,
    ) -> Result<Vec<TablePoint>>;
}
