//! The default history store: one SQLite file (bundled SQLite, nothing to install).
//!
//! This file owns the schema (documented in `docs/history.md`), its version check and
//! forward migrations, and the SQL that records runs and answers the trait's questions.
//! It does not decide what a run is or when it is complete: the suite runner does.
//!
//! Concurrency: the file is in WAL mode with a busy timeout, every write is one
//! `IMMEDIATE` transaction (the write lock is taken up front, so two writers queue
//! instead of failing on a lock upgrade), and one store serialises its threads on a
//! mutex around its connection.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{Changes, HistoryStore, RunRecord, RunStart, TablePoint, TableRecord};
use crate::drilldown::DiffLine;
use crate::error::{Error, Result};
use crate::metrics::Status;

/// The schema version this recon writes; see `docs/history.md`.
pub const SCHEMA_VERSION: u32 = 1;

/// The value of `recon_meta.application`: tells a recon history from any other SQLite file.
pub const APPLICATION: &str = "recon-history";

/// How long a writer waits for another run's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// `MIGRATIONS[v]` takes a history from schema version `v` to `v + 1`. Version 0 is a
/// file without tables (new), or one holding only `recon_meta` at version 0.
const MIGRATIONS: &[&str] = &[MIGRATE_0_TO_1];

const MIGRATE_0_TO_1: &str = "
CREATE TABLE IF NOT EXISTS recon_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE runs (
    run_id        TEXT PRIMARY KEY,
    suite         TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    complete      INTEGER NOT NULL DEFAULT 0,
    passed        INTEGER,
    recon_version TEXT NOT NULL,
    shard         TEXT,
    settings      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_suite ON runs (suite, started_at);
CREATE TABLE table_results (
    run_id               TEXT NOT NULL REFERENCES runs (run_id),
    table_name           TEXT NOT NULL,
    status               TEXT NOT NULL,
    error                TEXT,
    source_rows          INTEGER,
    target_rows          INTEGER,
    keys_in_union        INTEGER,
    matched              INTEGER,
    changed              INTEGER,
    missing_in_target    INTEGER,
    extra_in_target      INTEGER,
    keys_with_duplicates INTEGER,
    source_null_keys     INTEGER,
    target_null_keys     INTEGER,
    accuracy             REAL,
    duration_ms          INTEGER NOT NULL,
    fingerprint          TEXT,
    breaches             TEXT,
    diff_lines_total     INTEGER,
    diff_lines_kept      INTEGER,
    differing_keys_total INTEGER,
    differing_keys_kept  INTEGER NOT NULL,
    previous_run_id      TEXT,
    changes_new          INTEGER,
    changes_fixed        INTEGER,
    changes_persisting   INTEGER,
    changes_exact        INTEGER,
    PRIMARY KEY (run_id, table_name)
);
CREATE INDEX table_results_by_table ON table_results (table_name, run_id);
CREATE TABLE column_results (
    run_id        TEXT NOT NULL,
    table_name    TEXT NOT NULL,
    source_column TEXT NOT NULL,
    target_column TEXT NOT NULL,
    compared      INTEGER NOT NULL,
    mismatched    INTEGER NOT NULL,
    PRIMARY KEY (run_id, table_name, source_column)
);
CREATE TABLE differing_keys (
    run_id        TEXT NOT NULL,
    table_name    TEXT NOT NULL,
    key           TEXT NOT NULL,
    kind          TEXT NOT NULL,
    columns       TEXT NOT NULL,
    first_seen_run TEXT NOT NULL,
    first_seen_at  TEXT NOT NULL,
    last_seen_run  TEXT NOT NULL,
    last_seen_at   TEXT NOT NULL,
    PRIMARY KEY (run_id, table_name, key, kind)
);
CREATE INDEX differing_keys_by_key ON differing_keys (table_name, key);
";

const SELECT_TABLE_NAMES: &str = "SELECT name FROM sqlite_master WHERE type = 'table'";
const SELECT_META: &str = "SELECT value FROM recon_meta WHERE key = ?1";
const UPSERT_META: &str = "INSERT INTO recon_meta (key, value) VALUES (?1, ?2)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value";

// Shards of one run share its id: the first to start creates the row.
const INSERT_RUN: &str =
    "INSERT INTO runs (run_id, suite, started_at, recon_version, shard, settings)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (run_id) DO NOTHING";
const SELECT_RUN: &str = "SELECT suite, started_at FROM runs WHERE run_id = ?1";
const FINISH_RUN: &str =
    "UPDATE runs SET complete = 1, passed = ?2, finished_at = ?3 WHERE run_id = ?1";

// The previous complete run of the suite in which the table was compared (an errored
// table has no keys to compare with).
const SELECT_PREVIOUS: &str = "SELECT r.run_id, t.diff_lines_total, t.diff_lines_kept
    FROM runs r JOIN table_results t ON t.run_id = r.run_id AND t.table_name = ?2
    WHERE r.suite = ?1 AND r.complete = 1 AND r.run_id <> ?3 AND t.status <> 'error'
    ORDER BY r.started_at DESC, r.rowid DESC LIMIT 1";
const SELECT_PREVIOUS_KEYS: &str = "SELECT key, first_seen_run, first_seen_at
    FROM differing_keys WHERE run_id = ?1 AND table_name = ?2";

// A table recorded again in the same run (a retry) replaces its earlier record.
const DELETE_TABLE_RESULT: &str = "DELETE FROM table_results WHERE run_id = ?1 AND table_name = ?2";
const DELETE_COLUMN_RESULTS: &str =
    "DELETE FROM column_results WHERE run_id = ?1 AND table_name = ?2";
const DELETE_DIFFERING_KEYS: &str =
    "DELETE FROM differing_keys WHERE run_id = ?1 AND table_name = ?2";
const INSERT_TABLE_RESULT: &str = "INSERT INTO table_results (
    run_id, table_name, status, error, source_rows, target_rows, keys_in_union, matched,
    changed, missing_in_target, extra_in_target, keys_with_duplicates, source_null_keys,
    target_null_keys, accuracy, duration_ms, fingerprint, breaches, diff_lines_total,
    diff_lines_kept, differing_keys_total, differing_keys_kept, previous_run_id,
    changes_new, changes_fixed, changes_persisting, changes_exact)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
    ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)";
const INSERT_COLUMN_RESULT: &str = "INSERT INTO column_results
    (run_id, table_name, source_column, target_column, compared, mismatched)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const INSERT_DIFFERING_KEY: &str = "INSERT INTO differing_keys
    (run_id, table_name, key, kind, columns, first_seen_run, first_seen_at,
     last_seen_run, last_seen_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?1, ?8)";

const SELECT_RECORDED_TABLES: &str =
    "SELECT table_name FROM table_results WHERE run_id = ?1 ORDER BY table_name";
const SELECT_RUNS: &str = "SELECT r.run_id, r.suite, r.started_at, r.finished_at, r.complete,
    r.passed, (SELECT count(*) FROM table_results t WHERE t.run_id = r.run_id), r.settings
    FROM runs r WHERE r.suite = ?1 AND (?2 IS NULL OR r.started_at >= ?2)
    ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?3";
const SELECT_TREND: &str = "SELECT r.run_id, r.started_at, t.status, t.accuracy,
    t.keys_in_union, t.changes_new, t.changes_fixed, t.changes_persisting, t.changes_exact
    FROM runs r JOIN table_results t ON t.run_id = r.run_id AND t.table_name = ?2
    WHERE r.suite = ?1 AND (?3 IS NULL OR r.started_at >= ?3)
    ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?4";

/// A run history in one SQLite file.
pub struct SqliteHistory {
    path: PathBuf,
    location: String,
    connection: Mutex<Connection>,
}

impl SqliteHistory {
    /// Opens the history at `path`, creating the file and its schema when missing and
    /// migrating an older schema forward. Refuses a file that is not a recon history and
    /// one written by a newer recon.
    pub fn open(path: &Path) -> Result<SqliteHistory> {
        let location = path.display().to_string();
        let mut connection = Connection::open(path).map_err(|e| {
            Error::Config(format!(
                "{location}: cannot open the run history: {e}; check the directory exists \
                 and is writable"
            ))
        })?;
        let store = |e| sqlite_error(&location, "opening the run history", e);
        connection.busy_timeout(BUSY_TIMEOUT).map_err(store)?;
        prepare_schema(&mut connection, &location)?;
        // WAL lets readers (`recon history`) run beside a writer; it is a property of the
        // file, so set once the file is known to be ours.
        connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
            .map_err(store)?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(store)?;
        Ok(SqliteHistory {
            path: path.to_path_buf(),
            location,
            connection: Mutex::new(connection),
        })
    }

    /// The history file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connection(&self) -> Result<MutexGuard<'_, Connection>> {
        self.connection
            .lock()
            .map_err(|_| Error::Internal(format!("{}: a writer panicked", self.location)))
    }

    fn err(&self, what: &str) -> impl Fn(rusqlite::Error) -> Error + '_ {
        let what = what.to_string();
        move |e| sqlite_error(&self.location, &what, e)
    }
}

/// A SQLite error as the library's error, naming the file and what to do.
fn sqlite_error(location: &str, what: &str, e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Config(format!(
            "{location}: database is locked for {} s by another run ({what}); try again \
             when it has finished",
            BUSY_TIMEOUT.as_secs()
        )),
        Some(ErrorCode::NotADatabase) => not_a_history(location, "it is not a SQLite database"),
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
            Error::Config(format!(
                "{location}: cannot write the run history ({what}): {e}; check the file and \
                 its directory are writable"
            ))
        }
        _ => Error::Write {
            path: PathBuf::from(location),
            source: std::io::Error::other(format!("run history, {what}: {e}")),
        },
    }
}

fn not_a_history(location: &str, why: &str) -> Error {
    Error::Config(format!(
        "{location}: not a recon run history ({why}); give the history a new file or an \
         existing recon history"
    ))
}

/// Checks the file is a recon history this recon can read and brings its schema to
/// [`SCHEMA_VERSION`], all in one write transaction so two runs opening a new file at once
/// do not both create it.
fn prepare_schema(connection: &mut Connection, location: &str) -> Result<()> {
    let err = |e| sqlite_error(location, "reading the schema", e);
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    let tables: Vec<String> = {
        let mut statement = tx.prepare(SELECT_TABLE_NAMES).map_err(err)?;
        statement
            .query_map([], |row| row.get(0))
            .map_err(err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(err)?
    };
    let version = if tables.is_empty() {
        0
    } else if !tables.iter().any(|t| t == "recon_meta") {
        return Err(not_a_history(
            location,
            "it holds other tables and no recon_meta",
        ));
    } else {
        let application: Option<String> = tx
            .query_row(SELECT_META, ["application"], |row| row.get(0))
            .optional()
            .map_err(err)?;
        if application.as_deref() != Some(APPLICATION) {
            return Err(not_a_history(
                location,
                "its recon_meta does not name it a recon history",
            ));
        }
        let version: Option<String> = tx
            .query_row(SELECT_META, ["schema_version"], |row| row.get(0))
            .optional()
            .map_err(err)?;
        match version.as_deref().map(str::parse::<u32>) {
            Some(Ok(v)) => v,
            _ => {
                return Err(not_a_history(
                    location,
                    "its schema_version is not a number",
                ));
            }
        }
    };
    if version > SCHEMA_VERSION {
        return Err(Error::Config(format!(
            "{location}: this run history has schema version {version}, written by a newer \
             recon; this recon knows version {SCHEMA_VERSION}: upgrade recon to read it"
        )));
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    let migrate = |e| sqlite_error(location, "migrating the schema", e);
    for step in &MIGRATIONS[version as usize..SCHEMA_VERSION as usize] {
        tx.execute_batch(step).map_err(migrate)?;
    }
    tx.execute(UPSERT_META, ["application", APPLICATION])
        .map_err(migrate)?;
    tx.execute(
        UPSERT_META,
        params!["schema_version", SCHEMA_VERSION.to_string()],
    )
    .map_err(migrate)?;
    tx.commit().map_err(migrate)
}

fn status_text(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Breached => "breached",
        Status::Error => "error",
    }
}

fn status_from_text(text: &str) -> rusqlite::Result<Status> {
    match text {
        "passed" => Ok(Status::Passed),
        "breached" => Ok(Status::Breached),
        "error" => Ok(Status::Error),
        other => Err(rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown table status {other:?}").into(),
        )),
    }
}

/// SQLite integers are signed 64-bit; counts beyond that do not occur in practice.
fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// One differing key of a table: its lines grouped by key and kind.
struct KeyRow {
    key: String,
    kind: &'static str,
    columns: Vec<serde_json::Value>,
}

/// Groups the lines of one key and kind, in the order they came.
fn group_lines(lines: &[DiffLine]) -> Result<Vec<KeyRow>> {
    let mut rows: Vec<KeyRow> = Vec::new();
    let mut index: HashMap<(String, &'static str), usize> = HashMap::new();
    for line in lines {
        let key = serde_json::to_string(&line.key)
            .map_err(|e| Error::Internal(format!("a key as JSON: {e}")))?;
        let kind = line.kind.as_str();
        let value = serde_json::json!({
            "column": line.column,
            "source": line.source_value,
            "target": line.target_value,
            "note": line.note,
            "owner": line.owner,
        });
        match index.get(&(key.clone(), kind)) {
            Some(&i) => rows[i].columns.push(value),
            None => {
                index.insert((key.clone(), kind), rows.len());
                rows.push(KeyRow {
                    key,
                    kind,
                    columns: vec![value],
                });
            }
        }
    }
    Ok(rows)
}

impl HistoryStore for SqliteHistory {
    fn location(&self) -> &str {
        &self.location
    }

    fn begin_run(&self, run: &RunStart) -> Result<()> {
        let connection = self.connection()?;
        let shard = run.shard.map(|(i, n)| format!("{i}/{n}"));
        connection
            .execute(
                INSERT_RUN,
                params![
                    run.run_id,
                    run.suite,
                    run.started_at,
                    run.recon_version,
                    shard,
                    run.settings
                ],
            )
            .map_err(self.err("recording the start of a run"))?;
        Ok(())
    }

    fn record_table(&self, run_id: &str, table: &TableRecord<'_>) -> Result<Option<Changes>> {
        let keys = group_lines(table.lines)?;
        let mut connection = self.connection()?;
        let err = self.err(&format!("recording table {}", table.name));
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let (suite, started_at): (String, String) = tx
            .query_row(SELECT_RUN, [run_id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .map_err(&err)?
            .ok_or_else(|| {
                Error::Internal(format!(
                    "{}: table {} recorded for run {run_id}, which was never begun",
                    self.location, table.name
                ))
            })?;
        for delete in [
            DELETE_DIFFERING_KEYS,
            DELETE_COLUMN_RESULTS,
            DELETE_TABLE_RESULT,
        ] {
            tx.execute(delete, params![run_id, table.name])
                .map_err(&err)?;
        }

        let compared = table.summary.is_some() && table.status != Status::Error;
        let previous: Option<(String, Option<i64>, Option<i64>)> = if compared {
            tx.query_row(SELECT_PREVIOUS, params![suite, table.name, run_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()
            .map_err(&err)?
        } else {
            None
        };
        // Previous keys (by key, whatever their kind): when each first differed.
        let mut before: BTreeMap<String, (String, String)> = BTreeMap::new();
        if let Some((previous_run, _, _)) = &previous {
            let mut statement = tx.prepare(SELECT_PREVIOUS_KEYS).map_err(&err)?;
            let rows = statement
                .query_map(params![previous_run, table.name], |row| {
                    Ok((row.get::<_, String>(0)?, (row.get(1)?, row.get(2)?)))
                })
                .map_err(&err)?;
            for row in rows {
                let (key, seen): (String, (String, String)) = row.map_err(&err)?;
                // A key of two kinds then: the earlier first sighting wins.
                let entry = before.entry(key).or_insert_with(|| seen.clone());
                if seen.1 < entry.1 {
                    *entry = seen;
                }
            }
        }

        let now: std::collections::BTreeSet<&str> = keys.iter().map(|k| k.key.as_str()).collect();
        let persisting = now.iter().filter(|k| before.contains_key(**k)).count() as u64;
        let lines_complete = |total: Option<i64>, kept: Option<i64>| total == kept;
        let this_complete = table
            .summary
            .is_none_or(|s| s.diff_lines.kept >= s.diff_lines.total);
        let changes = Changes {
            new: now.len() as u64 - persisting,
            fixed: before.len() as u64 - persisting,
            persisting,
            exact: compared
                && this_complete
                && previous
                    .as_ref()
                    .is_none_or(|(_, total, kept)| lines_complete(*total, *kept)),
        };

        let s = table.summary;
        let differing_total = s.map(|s| {
            s.changed
                + s.missing_in_target
                + s.extra_in_target
                + s.keys_with_duplicates
                + s.null_keys.source
                + s.null_keys.target
        });
        let breaches = s
            .map(|s| serde_json::to_string(&s.verdict.breaches))
            .transpose()
            .map_err(|e| Error::Internal(format!("breaches as JSON: {e}")))?;
        let stored_changes = previous.as_ref().map(|_| changes);
        tx.execute(
            INSERT_TABLE_RESULT,
            params![
                run_id,
                table.name,
                status_text(table.status),
                table.error,
                s.map(|s| int(s.source.rows)),
                s.map(|s| int(s.target.rows)),
                s.map(|s| int(s.keys_in_union)),
                s.map(|s| int(s.matched)),
                s.map(|s| int(s.changed)),
                s.map(|s| int(s.missing_in_target)),
                s.map(|s| int(s.extra_in_target)),
                s.map(|s| int(s.keys_with_duplicates)),
                s.map(|s| int(s.null_keys.source)),
                s.map(|s| int(s.null_keys.target)),
                s.map(|s| s.accuracy),
                int(table.duration_ms),
                s.map(|s| s.fingerprint.as_str()),
                breaches,
                s.map(|s| int(s.diff_lines.total)),
                s.map(|s| int(s.diff_lines.kept)),
                differing_total.map(int),
                int(keys.len() as u64),
                previous.as_ref().map(|p| p.0.as_str()),
                stored_changes.map(|c| int(c.new)),
                stored_changes.map(|c| int(c.fixed)),
                stored_changes.map(|c| int(c.persisting)),
                stored_changes.map(|c| c.exact),
            ],
        )
        .map_err(&err)?;
        if let Some(s) = s {
            let mut statement = tx.prepare(INSERT_COLUMN_RESULT).map_err(&err)?;
            for c in &s.columns {
                statement
                    .execute(params![
                        run_id,
                        table.name,
                        c.source,
                        c.target,
                        int(c.compared),
                        int(c.mismatched)
                    ])
                    .map_err(&err)?;
            }
        }
        {
            let mut statement = tx.prepare(INSERT_DIFFERING_KEY).map_err(&err)?;
            for k in &keys {
                let columns = serde_json::Value::Array(k.columns.clone()).to_string();
                let (first_run, first_at) = before
                    .get(&k.key)
                    .map_or((run_id, started_at.as_str()), |(r, at)| {
                        (r.as_str(), at.as_str())
                    });
                statement
                    .execute(params![
                        run_id, table.name, k.key, k.kind, columns, first_run, first_at, started_at
                    ])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)?;
        Ok(stored_changes)
    }

    fn finish_run(&self, run_id: &str, passed: bool, finished_at: &str) -> Result<()> {
        let connection = self.connection()?;
        let updated = connection
            .execute(FINISH_RUN, params![run_id, passed, finished_at])
            .map_err(self.err("marking a run complete"))?;
        if updated == 0 {
            return Err(Error::Internal(format!(
                "{}: run {run_id} finished but was never begun",
                self.location
            )));
        }
        Ok(())
    }

    fn recorded_tables(&self, run_id: &str) -> Result<Vec<String>> {
        let connection = self.connection()?;
        let err = self.err("reading a run's tables");
        let mut statement = connection.prepare(SELECT_RECORDED_TABLES).map_err(&err)?;
        let names = statement
            .query_map([run_id], |row| row.get(0))
            .map_err(&err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(&err)?;
        Ok(names)
    }

    fn runs(&self, suite: &str, since: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        let connection = self.connection()?;
        let err = self.err("reading runs");
        let mut statement = connection.prepare(SELECT_RUNS).map_err(&err)?;
        let runs = statement
            .query_map(params![suite, since, int(limit as u64)], |row| {
                let complete: bool = row.get(4)?;
                Ok(RunRecord {
                    run_id: row.get(0)?,
                    suite: row.get(1)?,
                    started_at: row.get(2)?,
                    finished_at: row.get(3)?,
                    complete,
                    passed: if complete { row.get(5)? } else { None },
                    tables: row.get::<_, i64>(6)? as u64,
                    settings: row.get(7)?,
                })
            })
            .map_err(&err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(&err)?;
        Ok(runs)
    }

    fn table_trend(
        &self,
        suite: &str,
        table: &str,
        since: Option<&str>,
        limit: usize,
    ) -> Result<Vec<TablePoint>> {
        let connection = self.connection()?;
        let err = self.err("reading a table's trend");
        let mut statement = connection.prepare(SELECT_TREND).map_err(&err)?;
        let points = statement
            .query_map(params![suite, table, since, int(limit as u64)], |row| {
                let status: String = row.get(2)?;
                let new: Option<i64> = row.get(5)?;
                let changes = match new {
                    Some(new) => Some(Changes {
                        new: new as u64,
                        fixed: row.get::<_, i64>(6)? as u64,
                        persisting: row.get::<_, i64>(7)? as u64,
                        exact: row.get(8)?,
                    }),
                    None => None,
                };
                Ok(TablePoint {
                    run_id: row.get(0)?,
                    started_at: row.get(1)?,
                    status: status_from_text(&status)?,
                    accuracy: row.get(3)?,
                    keys_in_union: row.get::<_, Option<i64>>(4)?.map(|n| n as u64),
                    changes,
                })
            })
            .map_err(&err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(&err)?;
        Ok(points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{EngineOptions, Job, Outcome, Silent};
    use crate::metrics::Criteria;
    use crate::normalize::ColumnSelection;
    use crate::source::SourceOptions;

    fn start(run_id: &str, started_at: &str) -> RunStart {
        RunStart {
            run_id: run_id.into(),
            suite: "nightly".into(),
            started_at: started_at.into(),
            recon_version: "test".into(),
            shard: None,
            settings: String::new(),
        }
    }

    /// Compares two CSV files (`id,v` rows) written into `dir`.
    fn compare(dir: &Path, name: &str, source: &str, target: &str, max: u64) -> Outcome {
        let s = dir.join(format!("{name}-source.csv"));
        let t = dir.join(format!("{name}-target.csv"));
        std::fs::write(&s, format!("id,v\n{source}")).unwrap();
        std::fs::write(&t, format!("id,v\n{target}")).unwrap();
        let job = Job {
            source: s.to_string_lossy().into_owned(),
            target: t.to_string_lossy().into_owned(),
            source_options: SourceOptions::default(),
            target_options: SourceOptions::default(),
            selection: ColumnSelection {
                key: vec!["id".into()],
                ..Default::default()
            },
            criteria: Criteria::default(),
            owner: None,
            mask: crate::drilldown::Mask::keyed("test"),
            engine: EngineOptions {
                threads: Some(1),
                spill_dir: dir.to_path_buf(),
                max_diff_rows: max,
                ..EngineOptions::default()
            },
        };
        job.run(&Silent).unwrap()
    }

    fn record(
        store: &SqliteHistory,
        run_id: &str,
        name: &str,
        outcome: &Outcome,
    ) -> Option<Changes> {
        store
            .record_table(
                run_id,
                &TableRecord {
                    name,
                    status: outcome.summary.verdict.status(),
                    error: None,
                    summary: Some(&outcome.summary),
                    lines: &outcome.lines,
                    duration_ms: 5,
                },
            )
            .unwrap()
    }

    fn error_record<'a>(name: &'a str) -> TableRecord<'a> {
        TableRecord {
            name,
            status: Status::Error,
            error: Some("cannot read x.csv"),
            summary: None,
            lines: &[],
            duration_ms: 1,
        }
    }

    fn message(e: Error) -> String {
        e.to_string()
    }

    #[test]
    fn a_new_file_gets_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nightly.history");
        drop(SqliteHistory::open(&path).unwrap());
        let c = Connection::open(&path).unwrap();
        let version: String = c
            .query_row(SELECT_META, ["schema_version"], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION.to_string());
        let app: String = c
            .query_row(SELECT_META, ["application"], |r| r.get(0))
            .unwrap();
        assert_eq!(app, APPLICATION);
        let mode: String = c
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        // Opening again leaves it as it is.
        drop(SqliteHistory::open(&path).unwrap());
        assert!(super::super::open(path.to_str().unwrap()).is_ok());
    }

    #[test]
    fn other_files_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE customers (id INTEGER)")
            .unwrap();
        let e = message(SqliteHistory::open(&other).err().unwrap());
        assert!(
            e.contains("other.db") && e.contains("not a recon run history"),
            "{e}"
        );

        let text = dir.path().join("notes.txt");
        std::fs::write(
            &text,
            "this is not a database at all, just some text\n".repeat(40),
        )
        .unwrap();
        let e = message(SqliteHistory::open(&text).err().unwrap());
        assert!(
            e.contains("notes.txt") && e.contains("not a recon run history"),
            "{e}"
        );

        let foreign = dir.path().join("foreign.db");
        Connection::open(&foreign)
            .unwrap()
            .execute_batch(
                "CREATE TABLE recon_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 INSERT INTO recon_meta VALUES ('application', 'something-else');",
            )
            .unwrap();
        let e = message(SqliteHistory::open(&foreign).err().unwrap());
        assert!(
            e.contains("foreign.db") && e.contains("not a recon run history"),
            "{e}"
        );

        let e = message(
            super::super::open("postgres://u:secret@h/db")
                .err()
                .unwrap(),
        );
        assert!(
            e.contains("not available yet") && e.contains("postgres://u@h/db"),
            "{e}"
        );
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn a_newer_schema_is_refused_saying_to_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nightly.history");
        drop(SqliteHistory::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute(UPSERT_META, ["schema_version", "7"])
            .unwrap();
        let e = message(SqliteHistory::open(&path).err().unwrap());
        assert!(
            e.contains("nightly.history") && e.contains("version 7") && e.contains("upgrade recon"),
            "{e}"
        );
    }

    #[test]
    fn an_older_schema_is_migrated_forward() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.history");
        // Version 0: the metadata table alone, as a recon that reserved the file wrote it.
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE recon_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 INSERT INTO recon_meta VALUES ('application', 'recon-history');
                 INSERT INTO recon_meta VALUES ('schema_version', '0');",
            )
            .unwrap();
        let store = SqliteHistory::open(&path).unwrap();
        store
            .begin_run(&start("r1", "2026-12-01T00:00:00.000Z"))
            .unwrap();
        store.record_table("r1", &error_record("orders")).unwrap();
        drop(store);
        let version: String = Connection::open(&path)
            .unwrap()
            .query_row(SELECT_META, ["schema_version"], |r| r.get(0))
            .unwrap();
        assert_eq!(version, "1");
    }

    #[test]
    fn two_runs_give_new_fixed_and_persisting_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteHistory::open(&dir.path().join("nightly.history")).unwrap();
        // Run 1: 2 changed, 3 missing.
        let one = compare(
            dir.path(),
            "a",
            "1,a\n2,b\n3,c\n4,d\n",
            "1,a\n2,x\n3,y\n",
            1000,
        );
        store
            .begin_run(&start("r1", "2026-12-01T00:00:00.000Z"))
            .unwrap();
        // The table's first run: nothing to compare with.
        assert_eq!(record(&store, "r1", "orders", &one), None);
        store
            .finish_run("r1", false, "2026-12-01T00:01:00.000Z")
            .unwrap();

        // Run 2: 2 still changed, 3 fixed, 4 changed → missing (persisting for the key),
        // 5 extra (new).
        let two = compare(
            dir.path(),
            "b",
            "1,a\n2,b\n3,c\n4,d\n",
            "1,a\n2,z\n3,c\n5,e\n",
            1000,
        );
        store
            .begin_run(&start("r2", "2026-12-02T00:00:00.000Z"))
            .unwrap();
        let second = record(&store, "r2", "orders", &two).unwrap();
        assert_eq!(
            second,
            Changes {
                new: 1,
                fixed: 1,
                persisting: 2,
                exact: true
            }
        );
        store
            .finish_run("r2", false, "2026-12-02T00:01:00.000Z")
            .unwrap();

        let c = store.connection().unwrap();
        let seen = |key: &str| -> (String, String) {
            c.query_row(
                "SELECT first_seen_run, last_seen_run FROM differing_keys
                 WHERE run_id = 'r2' AND key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        };
        assert_eq!(seen(r#"["2"]"#), ("r1".into(), "r2".into()));
        assert_eq!(seen(r#"["4"]"#), ("r1".into(), "r2".into()));
        assert_eq!(seen(r#"["5"]"#), ("r2".into(), "r2".into()));
        let columns: String = c
            .query_row(
                "SELECT columns FROM differing_keys WHERE run_id = 'r2' AND key = '[\"2\"]'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let columns: serde_json::Value = serde_json::from_str(&columns).unwrap();
        assert_eq!(columns[0]["column"], "v");
        assert_eq!(columns[0]["source"], "b");
        assert_eq!(columns[0]["target"], "z");
        let mismatched: i64 = c
            .query_row(
                "SELECT mismatched FROM column_results WHERE run_id = 'r2' AND source_column = 'v'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(mismatched, 1);
        drop(c);

        let trend = store.table_trend("nightly", "orders", None, 10).unwrap();
        assert_eq!(trend.len(), 2);
        assert_eq!(trend[0].run_id, "r2");
        assert_eq!(trend[0].changes, Some(second));
        assert_eq!(trend[0].keys_in_union, Some(5));
        assert_eq!(trend[1].changes, None);
        let since = store
            .table_trend("nightly", "orders", Some("2026-12-02T00:00:00.000Z"), 10)
            .unwrap();
        assert_eq!(since.len(), 1);
    }

    #[test]
    fn capped_keys_make_the_changes_inexact() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteHistory::open(&dir.path().join("h.history")).unwrap();
        let one = compare(dir.path(), "a", "1,a\n2,b\n3,c\n", "", 1);
        assert!(one.summary.diff_lines.kept < one.summary.diff_lines.total);
        store
            .begin_run(&start("r1", "2026-12-01T00:00:00.000Z"))
            .unwrap();
        record(&store, "r1", "t", &one);
        store
            .finish_run("r1", true, "2026-12-01T00:01:00.000Z")
            .unwrap();
        let two = compare(dir.path(), "b", "1,a\n", "1,a\n", 1000);
        store
            .begin_run(&start("r2", "2026-12-02T00:00:00.000Z"))
            .unwrap();
        let changes = record(&store, "r2", "t", &two).unwrap();
        assert_eq!((changes.fixed, changes.exact), (1, false));
        let total: i64 = store
            .connection()
            .unwrap()
            .query_row(
                "SELECT missing_in_target FROM table_results WHERE run_id = 'r1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(total, 3, "the counts stay exact");
    }

    #[test]
    fn an_incomplete_run_reads_incomplete_and_is_not_the_previous_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteHistory::open(&dir.path().join("h.history")).unwrap();
        let one = compare(dir.path(), "a", "1,a\n2,b\n", "1,x\n2,b\n", 1000);
        store
            .begin_run(&start("r1", "2026-12-01T00:00:00.000Z"))
            .unwrap();
        record(&store, "r1", "t", &one);
        store
            .finish_run("r1", false, "2026-12-01T00:01:00.000Z")
            .unwrap();
        // r2 dies after recording its table: everything differs in it.
        let died = compare(dir.path(), "b", "1,a\n2,b\n", "1,y\n2,y\n", 1000);
        store
            .begin_run(&start("r2", "2026-12-02T00:00:00.000Z"))
            .unwrap();
        record(&store, "r2", "t", &died);
        store.record_table("r2", &error_record("other")).unwrap();
        assert_eq!(store.recorded_tables("r2").unwrap(), ["other", "t"]);

        store
            .begin_run(&start("r3", "2026-12-03T00:00:00.000Z"))
            .unwrap();
        let changes = record(&store, "r3", "t", &one).unwrap();
        assert_eq!((changes.new, changes.fixed, changes.persisting), (0, 0, 1));

        let runs = store.runs("nightly", None, 10).unwrap();
        let ids: Vec<_> = runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["r3", "r2", "r1"]);
        assert!(!runs[1].complete && runs[1].passed.is_none() && runs[1].finished_at.is_none());
        assert_eq!(runs[1].tables, 2);
        assert!(runs[2].complete && runs[2].passed == Some(false));
        assert_eq!(store.runs("nightly", None, 1).unwrap().len(), 1);
        assert!(store.runs("weekly", None, 10).unwrap().is_empty());
    }

    #[test]
    fn a_table_recorded_again_in_a_run_replaces_its_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteHistory::open(&dir.path().join("h.history")).unwrap();
        store
            .begin_run(&start("r1", "2026-12-01T00:00:00.000Z"))
            .unwrap();
        store.record_table("r1", &error_record("t")).unwrap();
        let outcome = compare(dir.path(), "a", "1,a\n2,b\n", "1,x\n", 1000);
        record(&store, "r1", "t", &outcome);
        assert_eq!(store.recorded_tables("r1").unwrap(), ["t"]);
        let trend = store.table_trend("nightly", "t", None, 10).unwrap();
        assert_eq!(trend.len(), 1);
        assert_eq!(trend[0].status, Status::Passed, "no criteria given");
        assert_eq!(trend[0].accuracy, Some(0.0));
        let e = store.record_table("r9", &error_record("t")).err().unwrap();
        assert!(e.to_string().contains("never begun"), "{e}");
    }

    fn write_run(store: &SqliteHistory, run_id: &str, outcome: &Outcome, tables: usize) {
        store
            .begin_run(&start(run_id, "2026-12-01T00:00:00.000Z"))
            .unwrap();
        for t in 0..tables {
            record(store, run_id, &format!("t{t}"), outcome);
        }
        store
            .finish_run(run_id, true, "2026-12-01T00:01:00.000Z")
            .unwrap();
    }

    fn check_whole(store: &SqliteHistory, run_ids: &[&str], tables: usize) {
        for run_id in run_ids {
            assert_eq!(store.recorded_tables(run_id).unwrap().len(), tables);
            let keys: i64 = store
                .connection()
                .unwrap()
                .query_row(
                    "SELECT count(*) FROM differing_keys WHERE run_id = ?1",
                    [run_id],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(keys, 2 * tables as i64, "{run_id}");
        }
        let runs = store.runs("nightly", None, 100).unwrap();
        assert_eq!(runs.len(), run_ids.len());
        assert!(runs.iter().all(|r| r.complete));
    }

    #[test]
    fn concurrent_threads_and_connections_keep_every_run_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.history");
        let outcome = compare(dir.path(), "a", "1,a\n2,b\n3,c\n", "1,a\n2,x\n", 1000);
        let tables = 20;

        // Threads of one store, each its own run.
        let store = SqliteHistory::open(&path).unwrap();
        std::thread::scope(|s| {
            for run_id in ["t1", "t2"] {
                let (store, outcome) = (&store, &outcome);
                s.spawn(move || write_run(store, run_id, outcome, tables));
            }
        });
        check_whole(&store, &["t1", "t2"], tables);

        // Two stores (two connections, as two processes would have) on one file.
        let a = SqliteHistory::open(&path).unwrap();
        let b = SqliteHistory::open(&path).unwrap();
        std::thread::scope(|s| {
            let outcome = &outcome;
            s.spawn(|| write_run(&a, "c1", outcome, tables));
            s.spawn(|| write_run(&b, "c2", outcome, tables));
        });
        check_whole(&a, &["t1", "t2", "c1", "c2"], tables);
    }
}
