//! Suites: many tables in one run and one verdict. A [`SuiteFile`] lists the tables; the
//! runner builds each table's [`Job`](crate::Job), runs them a few at a time on one
//! thread pool (the largest first, so a wide table does not start last and hold up the
//! end), records each in the run history as it finishes, and judges the whole run
//! against the suite's criteria. One table's failure is that table's `error`; the others
//! still run.
//!
//! It owns the scheduling, the per-table statuses and the suite verdict; what a table's
//! comparison is lives in [`crate::job`], what a history is in [`crate::history`], and how
//! a suite is shown in [`crate::report`].

mod file;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

pub use file::{SuiteCriteria, SuiteFile, TableEntry, glob_match};

use crate::config::{Environment, Notice, Overrides, build_job_from};
use crate::error::{Error, Result};
use crate::history::{Changes, HistoryStore, RunStart, TableRecord};
use crate::job::{Observer, Outcome, Silent};
use crate::metrics::{Amount, Breach, Category, Percent, Status, rfc3339};

/// How to run a suite.
#[derive(Debug, Clone, Default)]
pub struct SuiteOptions {
    /// Only tables whose names match one of these globs (all when empty).
    pub only: Vec<String>,
    /// Tables at a time (default: the suite file's `jobs`, else 2).
    pub jobs: Option<usize>,
    /// The run's id (default: made from the start time and the process).
    pub run_id: Option<String>,
    /// Continue an interrupted run (`run_id`, else the suite's latest incomplete run in
    /// the history) with the tables it had not recorded.
    pub resume: bool,
    /// Run only share `i` of `n` (from 0) of the tables, under `run_id`, recording into a
    /// history the other shards share; the run is complete when every share is recorded.
    pub shard: Option<(u32, u32)>,
    /// Run no table: gather the verdict of run `collect` from the history, naming the
    /// tables no shard has recorded yet.
    pub collect: Option<String>,
    /// What every table's job takes on top of its entry (engine settings, the cap on
    /// difference lines); the memory limit is shared out between the tables running at
    /// once.
    pub overrides: Overrides,
}

/// Told what a suite run is doing; a terminal display implements it.
pub trait SuiteObserver: Sync {
    /// The run starts with `tables` tables.
    fn suite_started(&self, _tables: usize) {}
    /// A table starts; what it returns observes the table's own run.
    fn table_started(&self, _name: &str) -> Box<dyn Observer + '_> {
        Box::new(Silent)
    }
    /// A table is done.
    fn table_finished(&self, _name: &str, _status: Status) {}
}

/// A suite observer that ignores everything.
pub struct SilentSuite;
impl SuiteObserver for SilentSuite {}

/// One table's result in a suite run.
#[derive(Debug, Clone)]
pub struct TableOutcome {
    /// The table's name.
    pub name: String,
    /// Passed, breached or error.
    pub status: Status,
    /// The error, when the table is in error.
    pub error: Option<String>,
    /// The comparison, when it ran.
    pub outcome: Option<Outcome>,
    /// Wall time of the table.
    pub duration_ms: u64,
    /// What changed since the previous run, when a history is kept.
    pub changes: Option<Changes>,
    /// Notices about how its job was built.
    pub notices: Vec<String>,
}

/// The verdict over the whole suite.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SuiteVerdict {
    /// True when no table is in error or breached and no suite criterion is breached.
    pub passed: bool,
    /// The suite's own breached criteria; each table's breaches are in its summary.
    pub breaches: Vec<Breach>,
}

/// The result of a suite run.
#[derive(Debug, Clone)]
pub struct SuiteOutcome {
    /// The run's id.
    pub run_id: String,
    /// The suite's name.
    pub suite: String,
    /// When the run started, RFC 3339 UTC.
    pub started_at: String,
    /// Every table that ran, in the suite file's order.
    pub tables: Vec<TableOutcome>,
    /// The suite verdict.
    pub verdict: SuiteVerdict,
    /// Wall time of the run.
    pub elapsed_ms: u64,
    /// Where the history was kept, when one was.
    pub history: Option<String>,
    /// Problems writing the history (the run's results stand; the history lacks them).
    pub history_errors: Vec<String>,
    /// Tables of a sharded run that no shard has recorded yet: the verdict is then over
    /// the recorded tables only, and the run is not complete.
    pub missing: Vec<String>,
}

impl SuiteOutcome {
    /// 2 when a table is in error, else 1 when a table or suite criterion is breached,
    /// else 0.
    pub fn status(&self) -> Status {
        if !self.missing.is_empty() || self.tables.iter().any(|t| t.status == Status::Error) {
            Status::Error
        } else if !self.verdict.passed {
            Status::Breached
        } else {
            Status::Passed
        }
    }
}

/// The tables of `suite` that `only` selects; an error when globs were given and none
/// matched.
pub fn selected<'a>(suite: &'a SuiteFile, only: &[String]) -> Result<Vec<&'a TableEntry>> {
    let tables: Vec<&TableEntry> = suite
        .tables
        .iter()
        .filter(|t| only.is_empty() || only.iter().any(|g| glob_match(g, &t.name)))
        .collect();
    if tables.is_empty() {
        return Err(Error::Config(format!(
            "{}: no table matches {}; tables: {}",
            suite.path.display(),
            only.join(", "),
            suite
                .tables
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(tables)
}

/// A run id: the start time and the process, unique enough across schedulers.
pub fn new_run_id(at: std::time::SystemTime) -> String {
    let stamp = chrono::DateTime::<chrono::Utc>::from(at).format("%Y%m%dT%H%M%S%.3fZ");
    format!("{stamp}-{:x}", std::process::id())
}

/// Runs the tables of `suite` that `options` select, recording them in `history`.
pub fn run(
    suite: &SuiteFile,
    options: &SuiteOptions,
    environment: &Environment,
    history: Option<&dyn HistoryStore>,
    observer: &dyn SuiteObserver,
) -> Result<SuiteOutcome> {
    let started_at = std::time::SystemTime::now();
    let clock = Instant::now();
    let settings = settings_fingerprint(suite);
    let all_tables = selected(suite, &options.only)?;
    let mut tables = match options.shard {
        Some((index, count)) => shard_of(&all_tables, index, count),
        None => all_tables.clone(),
    };
    let needs_history = |what: &str| {
        history.ok_or_else(|| {
            Error::Config(format!(
                "{}: {what} needs the run history, and this suite keeps none",
                suite.path.display()
            ))
        })
    };
    let (run_id, earlier) = if let Some(run_id) = &options.collect {
        let store = needs_history("collecting a run")?;
        find_run(suite, store, run_id, &settings)?;
        tables.clear();
        (run_id.clone(), recorded_outcomes(suite, store, run_id)?)
    } else if options.resume {
        let store = needs_history("resuming a run")?;
        let run_id = match &options.run_id {
            Some(id) => id.clone(),
            None => store
                .runs(&suite.name, None, 1000)?
                .into_iter()
                .find(|r| !r.complete)
                .map(|r| r.run_id)
                .ok_or_else(|| {
                    Error::Config(format!(
                        "{}: the history {} holds no interrupted run of suite {} to resume",
                        suite.path.display(),
                        store.location(),
                        suite.name
                    ))
                })?,
        };
        if find_run(suite, store, &run_id, &settings)?.complete {
            return Err(Error::Config(format!(
                "run {run_id} of suite {} is complete; there is nothing to resume",
                suite.name
            )));
        }
        let earlier = recorded_outcomes(suite, store, &run_id)?;
        tables.retain(|t| !earlier.iter().any(|e| e.name == t.name));
        (run_id, earlier)
    } else if options.shard.is_some() {
        let store = needs_history("running a shard")?;
        let run_id = options.run_id.clone().ok_or_else(|| {
            Error::Config(
                "a shard runs under the run id all shards share: give it (--run-id)".into(),
            )
        })?;
        // A shard joining a run others began must compare what they compare.
        if store
            .runs(&suite.name, None, 1000)?
            .iter()
            .any(|r| r.run_id == run_id)
        {
            find_run(suite, store, &run_id, &settings)?;
        }
        (run_id, Vec::new())
    } else {
        let run_id = options
            .run_id
            .clone()
            .unwrap_or_else(|| new_run_id(started_at));
        (run_id, Vec::new())
    };
    // The largest first: the run ends soonest when the long tables are not left for last.
    tables.sort_by_key(|t| std::cmp::Reverse(t.size_hint));
    let jobs = options
        .jobs
        .or(suite.jobs)
        .unwrap_or(2)
        .clamp(1, tables.len().max(1));
    let pool = crate::job::worker_pool(options.overrides.threads)?;
    let history_errors = Mutex::new(Vec::new());
    if let Some(store) = history {
        store.begin_run(&RunStart {
            run_id: run_id.clone(),
            suite: suite.name.clone(),
            started_at: rfc3339(started_at),
            recon_version: env!("CARGO_PKG_VERSION").to_string(),
            shard: options.shard,
            settings: settings.clone(),
        })?;
    }
    observer.suite_started(tables.len());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<TableOutcome>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(table) = tables.get(i) else { break };
                    let table_observer = observer.table_started(&table.name);
                    let mut done = run_table(
                        suite,
                        table,
                        options,
                        jobs,
                        environment,
                        &pool,
                        &*table_observer,
                    );
                    drop(table_observer);
                    if let Some(store) = history {
                        let record = TableRecord {
                            name: &done.name,
                            status: done.status,
                            error: done.error.as_deref(),
                            summary: done.outcome.as_ref().map(|o| &o.summary),
                            lines: done.outcome.as_ref().map_or(&[], |o| &o.lines[..]),
                            duration_ms: done.duration_ms,
                        };
                        match store.record_table(&run_id, &record) {
                            Ok(changes) => done.changes = changes,
                            Err(e) => history_errors
                                .lock()
                                .expect("history errors lock")
                                .push(format!("table {}: {e}", done.name)),
                        }
                    }
                    observer.table_finished(&done.name, done.status);
                    results.lock().expect("results lock").push(done);
                }
            });
        }
    });
    let mut outcomes = results.into_inner().expect("results lock");
    outcomes.extend(earlier);
    // The run is complete when every table is recorded: this process ran them all, or, in
    // shards, the others have recorded theirs.
    let mut history_errors = history_errors.into_inner().expect("history errors lock");
    let mut missing = Vec::new();
    if (options.shard.is_some() || options.collect.is_some())
        && let Some(store) = history
    {
        let recorded = store.recorded_tables(&run_id)?;
        missing = all_tables
            .iter()
            .filter(|t| !recorded.contains(&t.name))
            .map(|t| t.name.clone())
            .collect();
        if missing.is_empty() && options.shard.is_some() {
            let others: Vec<TableOutcome> = recorded_outcomes(suite, store, &run_id)?
                .into_iter()
                .filter(|o| !outcomes.iter().any(|t| t.name == o.name))
                .collect();
            outcomes.extend(others);
        }
    }
    let order = |name: &str| suite.tables.iter().position(|t| t.name == name);
    outcomes.sort_by_key(|t| order(&t.name));
    let verdict = judge(&suite.criteria, &outcomes);
    if let Some(store) = history
        && missing.is_empty()
        && let Err(e) = store.finish_run(
            &run_id,
            verdict.passed,
            &rfc3339(std::time::SystemTime::now()),
        )
    {
        history_errors.push(format!("finishing the run: {e}"));
    }
    Ok(SuiteOutcome {
        run_id,
        suite: suite.name.clone(),
        started_at: rfc3339(started_at),
        tables: outcomes,
        verdict,
        elapsed_ms: clock.elapsed().as_millis() as u64,
        history: history.map(|h| h.location().to_string()),
        history_errors,
        missing,
    })
}

/// Builds and runs one table; any error is the table's.
fn run_table(
    suite: &SuiteFile,
    table: &TableEntry,
    options: &SuiteOptions,
    jobs: usize,
    environment: &Environment,
    pool: &rayon::ThreadPool,
    observer: &dyn Observer,
) -> TableOutcome {
    let clock = Instant::now();
    let mut notices = Vec::new();
    let result = table_job(suite, table, options, jobs, environment).and_then(|(job, built)| {
        notices = built.iter().map(Notice::to_string).collect();
        job.run_on(pool, observer)
    });
    let duration_ms = clock.elapsed().as_millis() as u64;
    match result {
        Ok(outcome) => TableOutcome {
            name: table.name.clone(),
            status: outcome.summary.verdict.status(),
            error: None,
            outcome: Some(outcome),
            duration_ms,
            changes: None,
            notices,
        },
        Err(e) => TableOutcome {
            name: table.name.clone(),
            status: Status::Error,
            error: Some(e.to_string()),
            outcome: None,
            duration_ms,
            changes: None,
            notices,
        },
    }
}

/// The job of one table: its entry, the run's overrides, its share of the memory and of
/// the connections, and exactness when the table is critical.
fn table_job(
    suite: &SuiteFile,
    table: &TableEntry,
    options: &SuiteOptions,
    jobs: usize,
    environment: &Environment,
) -> Result<(crate::Job, Vec<Notice>)> {
    let entry = table.job.clone().map_err(Error::Config)?;
    let mut overrides = options.overrides.clone();
    let memory = overrides
        .memory_limit
        .unwrap_or(crate::EngineOptions::default().memory_limit);
    overrides.memory_limit = Some((memory / jobs).max(1 << 20));
    let mut connections = table.connections.unwrap_or(2);
    if let Some(max) = suite.max_connections {
        // Each table reads two sides that may be one server: keep all tables running at
        // once within the budget.
        connections = connections.min((max / (2 * jobs)).max(1));
    }
    overrides.connections = Some(connections);
    let (mut job, notices) = build_job_from(entry, Some(&suite.path), &overrides, environment)?;
    if table.critical {
        job.criteria.min_accuracy = Some(Percent::parse("100").expect("100 is a percentage"));
        job.criteria
            .limits
            .retain(|(c, _)| *c != Category::NullKeys);
        job.criteria
            .limits
            .push((Category::NullKeys, Amount::Count(0)));
    }
    Ok((job, notices))
}

/// The suite verdict: every table compared without breach, and the suite's criteria.
fn judge(criteria: &SuiteCriteria, tables: &[TableOutcome]) -> SuiteVerdict {
    let mut breaches = Vec::new();
    if let Some(floor) = criteria.min_table_accuracy {
        for t in tables {
            if let Some(o) = &t.outcome
                && !floor.is_met_by(o.summary.matched, o.summary.keys_in_union)
            {
                breaches.push(Breach {
                    criterion: "min_table_accuracy".into(),
                    measured: o.summary.accuracy * 100.0,
                    threshold: floor.value(),
                    message: format!(
                        "table {}: accuracy {} is below the suite's floor of {}%",
                        t.name,
                        crate::metrics::format_percent(o.summary.matched, o.summary.keys_in_union),
                        floor.value()
                    ),
                });
            }
        }
    }
    let in_error = tables.iter().filter(|t| t.status == Status::Error).count() as u64;
    let allowed_errors = criteria.max_tables_in_error.unwrap_or(0);
    if criteria.max_tables_in_error.is_some() && in_error > allowed_errors {
        breaches.push(Breach {
            criterion: "max_tables_in_error".into(),
            measured: in_error as f64,
            threshold: allowed_errors as f64,
            message: format!("{in_error} tables in error, at most {allowed_errors} allowed"),
        });
    }
    // Tables in error within the allowance do not fail the verdict; the exit status still
    // says an error happened.
    let tables_pass =
        tables.iter().all(|t| t.status != Status::Breached) && in_error <= allowed_errors;
    SuiteVerdict {
        passed: tables_pass && breaches.is_empty(),
        breaches,
    }
}

/// A fingerprint of what in `suite` changes results — each table's name, key, columns,
/// mappings, criteria, owner, criticality and the table, query and filter it reads — and
/// the suite's own criteria; not paths, locations or credentials, so a run moved to
/// another machine or given another password still resumes.
pub fn settings_fingerprint(suite: &SuiteFile) -> String {
    let mut described = format!("{:?}\n", suite.criteria);
    let mut tables: Vec<&TableEntry> = suite.tables.iter().collect();
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    for t in tables {
        described.push_str(&format!("{}|{}|", t.name, t.critical));
        match &t.job {
            Ok(job) => {
                let side = |s: &Option<crate::config::SideFile>| {
                    s.as_ref()
                        .map(|s| format!("{:?}{:?}{:?}", s.table, s.query, s.filter))
                };
                described.push_str(&format!(
                    "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}\n",
                    job.key,
                    job.include,
                    job.exclude,
                    job.mappings,
                    job.criteria,
                    job.owner,
                    side(&job.source),
                    side(&job.target)
                ));
            }
            Err(_) => described.push_str("unlocated\n"),
        }
    }
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(described.as_bytes()))
}

/// The run `run_id` of `suite` in `store`, when it began under the same settings.
fn find_run(
    suite: &SuiteFile,
    store: &dyn HistoryStore,
    run_id: &str,
    settings: &str,
) -> Result<crate::history::RunRecord> {
    let run = store
        .runs(&suite.name, None, 1000)?
        .into_iter()
        .find(|r| r.run_id == run_id)
        .ok_or_else(|| {
            Error::Config(format!(
                "{}: run {run_id} of suite {} is not in the history {}",
                suite.path.display(),
                suite.name,
                store.location()
            ))
        })?;
    if run.settings != settings {
        return Err(Error::Config(format!(
            "{}: the suite's tables, keys, mappings or criteria differ from those run {run_id} began with, so its results would not be one comparison: start a new run",
            suite.path.display()
        )));
    }
    Ok(run)
}

/// The tables run `run_id` recorded, as they were recorded (their full results are in
/// the history and in the reports of the process that ran them).
fn recorded_outcomes(
    suite: &SuiteFile,
    store: &dyn HistoryStore,
    run_id: &str,
) -> Result<Vec<TableOutcome>> {
    let mut earlier = Vec::new();
    for name in store.recorded_tables(run_id)? {
        let point = store
            .table_trend(&suite.name, &name, None, 1000)?
            .into_iter()
            .find(|p| p.run_id == run_id);
        if let Some(point) = point {
            earlier.push(TableOutcome {
                name,
                status: point.status,
                error: None,
                outcome: None,
                duration_ms: 0,
                changes: point.changes,
                notices: vec![format!(
                    "recorded by another process of this run, or before it was interrupted (accuracy {}); its reports are that process's",
                    point
                        .accuracy
                        .map_or("-".to_string(), |a| format!("{:.4}%", a * 100.0))
                )],
            });
        }
    }
    Ok(earlier)
}

/// Share `index` of `count` of `tables`: the largest table goes to the share with the
/// least so far (ties to the lowest share), so shares are balanced by size and every
/// process that is given the same tables computes the same shares.
pub fn shard_of<'a>(tables: &[&'a TableEntry], index: u32, count: u32) -> Vec<&'a TableEntry> {
    let mut sorted: Vec<&TableEntry> = tables.to_vec();
    sorted.sort_by(|a, b| b.size_hint.cmp(&a.size_hint).then(a.name.cmp(&b.name)));
    let mut loads = vec![0u64; count.max(1) as usize];
    let mut mine = Vec::new();
    for table in sorted {
        let lightest = (0..loads.len())
            .min_by_key(|&i| (loads[i], i))
            .expect("at least one share");
        // A table of unknown size (a database table) weighs as one byte more than none.
        loads[lightest] += table.size_hint.max(1);
        if lightest == index as usize {
            mine.push(table);
        }
    }
    mine
}
