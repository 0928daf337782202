//! Drives one reconciliation through every stage: open both sources, resolve the plan,
//! scan and digest both sides at once into partitions, compare partitions in parallel,
//! drill down into what differs, and compute the summary. It owns the order of stages
//! and the thread pool; the stages themselves live in their modules.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use crate::compare::{Comparison, Smallest};
use crate::digest::{Digester, ENTRY_BYTES};
use crate::drilldown::{DiffKind, DiffLine, Mask, attribute_and_mask, drill_down};
use crate::error::{Error, Result, Side};
use crate::metrics::{Criteria, Measurements, PhaseTimes, RunInfo, Summary};
use crate::normalize::{ColumnSelection, Plan};
use crate::partition::{PartitionedDigests, Scatter, partitions_for};
use crate::source::{self, SizeHint, Source, SourceOptions};

/// Everything one reconciliation needs to know.
#[derive(Debug, Clone)]
pub struct Job {
    /// Source location.
    pub source: String,
    /// Target location.
    pub target: String,
    /// How to read the source.
    pub source_options: SourceOptions,
    /// How to read the target.
    pub target_options: SourceOptions,
    /// Key and compared columns.
    pub selection: ColumnSelection,
    /// Rollback criteria.
    pub criteria: Criteria,
    /// Who owns the table: receives missing, extra, duplicate and NULL-key rows and the
    /// columns without an owner of their own.
    pub owner: Option<String>,
    /// How sensitive values are masked in reports.
    pub mask: Mask,
    /// Execution settings.
    pub engine: EngineOptions,
}

/// Execution settings; none of them changes a result.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Key-hash partitions (a power of two); chosen from the input size when `None`.
    pub partitions: Option<usize>,
    /// Worker threads; all cores when `None`.
    pub threads: Option<usize>,
    /// Bytes of digests kept in memory (both sides together) before spilling.
    pub memory_limit: usize,
    /// Where spill files go.
    pub spill_dir: PathBuf,
    /// Difference lines kept for reports.
    pub max_diff_rows: u64,
    /// Stop as soon as a criterion can no longer be met; counts are then lower bounds.
    pub fail_fast: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            partitions: None,
            threads: None,
            memory_limit: 768 << 20,
            spill_dir: std::env::temp_dir(),
            max_diff_rows: 10_000,
            fail_fast: false,
        }
    }
}

/// Told what the run is doing; a terminal progress display implements it.
pub trait Observer: Sync {
    /// Scanning starts; `hints` are the expected sizes of source and target.
    fn scan_started(&self, _hints: [SizeHint; 2]) {}
    /// `amount` more of a side was read (in its hint's unit).
    fn scanned(&self, _side: Side, _amount: u64) {}
    /// Scanning is over; `phase` names what comes next.
    fn phase(&self, _phase: &str) {}
    /// The run is over.
    fn finished(&self) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Counts, accuracy and verdict.
    pub summary: Summary,
    /// The kept difference lines.
    pub lines: Vec<DiffLine>,
}

/// When a run started: the wall-clock instant for reports, the monotonic one for its
/// duration.
#[derive(Clone, Copy)]
struct Started {
    at: std::time::SystemTime,
    clock: Instant,
}

/// What the scan leaves for the stages after it.
struct Scanned {
    stores: [PartitionedDigests; 2],
    rows: [u64; 2],
    null_keys: [u64; 2],
    unparseable_keys: [u64; 2],
    null_samples: [Vec<u64>; 2],
    spilled_bytes: u64,
}

/// What the join found.
struct Compared {
    comparison: Comparison,
    counts: crate::compare::Counts,
    complete: bool,
}

/// Rows read and NULL-key rows of one side.
struct SideTally {
    rows: AtomicU64,
    null_keys: AtomicU64,
    unparseable_keys: AtomicU64,
    null_key_sample: Mutex<Smallest<u64>>,
}

impl Job {
    /// Runs the reconciliation on a pool of its own (as many threads as
    /// [`EngineOptions::threads`] says).
    pub fn run(&self, observer: &dyn Observer) -> Result<Outcome> {
        self.run_on(&worker_pool(self.engine.threads)?, observer)
    }

    /// Runs the reconciliation on `pool`, within the job's memory limit: a suite runs
    /// several jobs on one pool, each with its share of the memory.
    pub fn run_on(&self, pool: &rayon::ThreadPool, observer: &dyn Observer) -> Result<Outcome> {
        let started = Started {
            at: std::time::SystemTime::now(),
            clock: Instant::now(),
        };
        pool.install(|| self.run_stages(observer, started, pool.current_num_threads()))
    }

    /// Opens both sources (reading headers and footers only) and resolves the plan.
    pub fn plan(&self) -> Result<Plan> {
        let sources = self.open_sources()?;
        self.resolve(&sources)
    }

    /// A fingerprint of what decides this job's results: the resolved plan (column pairs,
    /// comparison types, normalizers, tolerances, what is left out) and the criteria. It
    /// leaves out locations and credentials, and execution settings that change no
    /// result, so a run can be recognised as the same comparison as another.
    pub fn fingerprint(&self, plan: &Plan) -> String {
        let described = format!(
            "{}\n{:?}\n{:?}",
            serde_json::to_string(plan).unwrap_or_default(),
            self.criteria,
            self.owner
        );
        format!("{:032x}", xxhash_rust::xxh3::xxh3_128(described.as_bytes()))
    }

    fn open_sources(&self) -> Result<[Box<dyn Source>; 2]> {
        let (source, target) = rayon::join(
            || source::open(&self.source, &self.source_options),
            || source::open(&self.target, &self.target_options),
        );
        Ok([source?, target?])
    }

    fn resolve(&self, sources: &[Box<dyn Source>; 2]) -> Result<Plan> {
        let schemas = [sources[0].schema(), sources[1].schema()];
        let plan = Plan::resolve(
            [&schemas[0], &schemas[1]],
            [sources[0].uri(), sources[1].uri()],
            &self.selection,
        )?;
        for c in &self.criteria.columns {
            if !plan.columns.iter().any(|p| p.source == c.column) {
                let compared: Vec<&str> = plan.columns.iter().map(|p| p.source.as_str()).collect();
                return Err(Error::Config(format!(
                    "a criterion names column {:?}, which is not compared; compared columns: {}",
                    c.column,
                    if compared.is_empty() {
                        "none".to_string()
                    } else {
                        compared.join(", ")
                    }
                )));
            }
        }
        Ok(plan)
    }

    /// One function per stage, in order; each stage's own module does the work.
    fn run_stages(
        &self,
        observer: &dyn Observer,
        started: Started,
        threads: usize,
    ) -> Result<Outcome> {
        let sources = self.open_sources()?;
        let plan = self.resolve(&sources)?;
        let hints = [sources[0].size_hint(), sources[1].size_hint()];
        let partitions = self.partition_count(hints)?;
        let mut phase = Instant::now();
        let mut phase_ms = PhaseTimes::default();

        observer.scan_started(hints);
        let scanned = self.scan_sides(&plan, &sources, partitions, observer)?;
        phase_ms.scan = lap(&mut phase);

        observer.phase("comparing partitions");
        let compared = self.compare_partitions(&plan, &scanned, partitions)?;
        phase_ms.compare = lap(&mut phase);

        observer.phase("reading differing rows");
        let mut drilled = drill_down(
            &plan,
            [sources[0].as_ref(), sources[1].as_ref()],
            compared.comparison,
            scanned.null_samples,
            scanned.null_keys,
            self.engine.max_diff_rows,
        )?;
        attribute_and_mask(&mut drilled.lines, &plan, self.owner.as_deref(), &self.mask);
        phase_ms.drill_down = lap(&mut phase);
        observer.finished();

        // Rows whose digests differed only by tolerance buckets are matched after all.
        let mut counts = compared.counts;
        counts.changed -= drilled.columns.equal_rows;
        counts.matched += drilled.columns.equal_rows;
        let summary = Summary::new(
            Measurements {
                plan: &plan,
                // As the sources show them: passwords removed.
                uris: [sources[0].uri().to_string(), sources[1].uri().to_string()],
                rows: scanned.rows,
                null_keys: scanned.null_keys,
                unparseable_keys: scanned.unparseable_keys,
                table_owner: self.owner.as_deref(),
                complete: compared.complete,
                counts,
                one_sided_keys: [DiffKind::MissingInTarget, DiffKind::ExtraInTarget].map(|kind| {
                    drilled
                        .lines
                        .iter()
                        .filter(|l| l.kind == kind)
                        .map(|l| l.key.as_slice())
                        .collect()
                }),
                columns: &drilled.columns,
                kept_lines: drilled.lines.len() as u64,
                max_lines: self.engine.max_diff_rows,
                run: RunInfo {
                    partitions: partitions as u64,
                    identical_partitions: counts.identical_partitions,
                    spilled_bytes: scanned.spilled_bytes,
                    threads: threads as u64,
                    phase_ms,
                },
                started_at: started.at,
                fingerprint: self.fingerprint(&plan),
                elapsed_ms: started.clock.elapsed().as_millis() as u64,
            },
            &self.criteria,
        );
        Ok(Outcome {
            summary,
            lines: drilled.lines,
        })
    }

    fn partition_count(&self, hints: [SizeHint; 2]) -> Result<usize> {
        match self.engine.partitions {
            Some(p) if p.is_power_of_two() && p <= 1 << 20 => Ok(p),
            Some(p) => Err(Error::Config(format!(
                "partitions must be a power of two from 1 to 1048576, not {p}"
            ))),
            None => Ok(partitions_for(
                hints[0].estimated_rows.max(hints[1].estimated_rows),
            )),
        }
    }

    /// Scans and digests both sides into partitions, within the memory limit.
    fn scan_sides(
        &self,
        plan: &Plan,
        sources: &[Box<dyn Source>; 2],
        partitions: usize,
        observer: &dyn Observer,
    ) -> Result<Scanned> {
        let budget = (self.engine.memory_limit / 2).max(ENTRY_BYTES);
        let stores = [
            PartitionedDigests::new(partitions, budget, &self.engine.spill_dir),
            PartitionedDigests::new(partitions, budget, &self.engine.spill_dir),
        ];
        let tallies: [SideTally; 2] = std::array::from_fn(|_| SideTally {
            rows: AtomicU64::new(0),
            null_keys: AtomicU64::new(0),
            unparseable_keys: AtomicU64::new(0),
            null_key_sample: Mutex::new(Smallest::new(self.engine.max_diff_rows as usize)),
        });
        self.scan(plan, sources, &stores, &tallies, observer)?;
        let load = |count: fn(&SideTally) -> &AtomicU64| {
            tallies.each_ref().map(|t| count(t).load(Ordering::Relaxed))
        };
        Ok(Scanned {
            rows: load(|t| &t.rows),
            null_keys: load(|t| &t.null_keys),
            unparseable_keys: load(|t| &t.unparseable_keys),
            spilled_bytes: stores.iter().map(PartitionedDigests::spilled_bytes).sum(),
            null_samples: tallies.map(|t| {
                t.null_key_sample
                    .into_inner()
                    .expect("null key sample lock")
                    .into_sorted()
            }),
            stores,
        })
    }

    /// Joins the partitions of both sides by key, in parallel. With --fail-fast, a
    /// criterion already lost after the scan (row counts) stops the run before any join;
    /// during the join, partial counts are checked as they grow. Either way the counts
    /// reported are then lower bounds.
    fn compare_partitions(
        &self,
        plan: &Plan,
        scanned: &Scanned,
        partitions: usize,
    ) -> Result<Compared> {
        let rows = scanned.rows;
        let stopped = AtomicBool::new(
            self.engine.fail_fast && self.criteria.lost_after_scan(rows, scanned.null_keys),
        );
        let running = Mutex::new(crate::compare::Counts::default());
        let has_tolerance = plan
            .columns
            .iter()
            .any(|c| c.mapped.as_ref().is_some_and(|m| m.tolerance.is_some()));
        let sample_limit = self.engine.max_diff_rows as usize;
        let stores = &scanned.stores;
        let comparison = (0..partitions)
            .into_par_iter()
            .map(|p| -> Result<Comparison> {
                let mut c = Comparison::new(sample_limit);
                if stopped.load(Ordering::Relaxed) {
                    return Ok(c);
                }
                c.add_partition(stores[0].take(p)?, stores[1].take(p)?);
                if self.engine.fail_fast {
                    let mut total = running.lock().expect("running counts lock");
                    total.add(&c.counts);
                    if self.criteria.lost_during_join(&total, rows, !has_tolerance) {
                        stopped.store(true, Ordering::Relaxed);
                    }
                }
                Ok(c)
            })
            .try_reduce(|| Comparison::new(sample_limit), |a, b| Ok(a.merge(b)))?;
        Ok(Compared {
            counts: comparison.counts,
            comparison,
            complete: !stopped.load(Ordering::Relaxed),
        })
    }

    /// Scans both sides at once: each split of each side is a task on the pool. A reader
    /// hands its batches to other threads while fewer than two per thread are waiting, and
    /// digests them itself otherwise; so a side with one split (a CSV file) still uses
    /// idle cores, and memory stays bounded.
    fn scan(
        &self,
        plan: &Plan,
        sources: &[Box<dyn Source>; 2],
        stores: &[PartitionedDigests; 2],
        tallies: &[SideTally; 2],
        observer: &dyn Observer,
    ) -> Result<()> {
        let counts = [sources[0].splits(), sources[1].splits()];
        // Interleave the sides so both make progress from the start.
        let mut tasks = Vec::with_capacity(counts[0] + counts[1]);
        for i in 0..counts[0].max(counts[1]) {
            for side in Side::BOTH {
                if i < counts[side.index()] {
                    tasks.push((side, i));
                }
            }
        }
        let work = DigestWork {
            digesters: [
                Digester::new(plan, Side::Source),
                Digester::new(plan, Side::Target),
            ],
            stores,
            tallies,
            observer,
            in_flight: AtomicUsize::new(0),
            limit: 2 * rayon::current_num_threads(),
            failure: Mutex::new(None),
        };
        let read = rayon::scope(|scope| {
            tasks.into_par_iter().try_for_each(|(side, split)| {
                sources[side.index()].read_split(
                    split,
                    &plan.projections[side.index()],
                    &mut |batch| {
                        work.check_failure()?;
                        if work.in_flight.fetch_add(1, Ordering::AcqRel) < work.limit {
                            let work = &work;
                            scope.spawn(move |_| {
                                let done = SCRATCH
                                    .with_borrow_mut(|scratch| work.digest(side, batch, scratch));
                                work.in_flight.fetch_sub(1, Ordering::AcqRel);
                                if let Err(e) = done {
                                    work.fail(e);
                                }
                            });
                            Ok(())
                        } else {
                            work.in_flight.fetch_sub(1, Ordering::AcqRel);
                            SCRATCH.with_borrow_mut(|scratch| work.digest(side, batch, scratch))
                        }
                    },
                )
            })
        });
        // A digest failure is the cause; the reader only stopped because of it.
        match work.failure.into_inner().expect("failure lock") {
            Some(e) => Err(e),
            None => read,
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// Per-thread buffers for digesting batches.
#[derive(Default)]
struct Scratch {
    encoded: Vec<u8>,
    slots: Vec<u8>,
    entries: Vec<crate::digest::Entry>,
    null_keys: Vec<u64>,
    scatter: Scatter,
}

/// What digesting a batch needs, shared by every scan thread.
struct DigestWork<'a> {
    digesters: [Digester<'a>; 2],
    stores: &'a [PartitionedDigests; 2],
    tallies: &'a [SideTally; 2],
    observer: &'a dyn Observer,
    in_flight: AtomicUsize,
    limit: usize,
    failure: Mutex<Option<Error>>,
}

impl DigestWork<'_> {
    fn digest(&self, side: Side, batch: crate::source::Batch, s: &mut Scratch) -> Result<()> {
        s.entries.clear();
        s.null_keys.clear();
        let mut unparseable_keys = 0;
        self.digesters[side.index()].digest(
            &batch,
            &mut s.encoded,
            &mut s.slots,
            &mut s.entries,
            &mut s.null_keys,
            &mut unparseable_keys,
        );
        self.stores[side.index()].insert(&s.entries, &mut s.scatter)?;
        let tally = &self.tallies[side.index()];
        tally
            .unparseable_keys
            .fetch_add(unparseable_keys, Ordering::Relaxed);
        tally
            .rows
            .fetch_add(batch.locators.len() as u64, Ordering::Relaxed);
        if !s.null_keys.is_empty() {
            tally
                .null_keys
                .fetch_add(s.null_keys.len() as u64, Ordering::Relaxed);
            let mut sample = tally.null_key_sample.lock().expect("null key sample lock");
            for &locator in &s.null_keys {
                sample.push(locator);
            }
        }
        self.observer.scanned(side, batch.progress);
        Ok(())
    }

    fn fail(&self, error: Error) {
        let mut failure = self.failure.lock().expect("failure lock");
        failure.get_or_insert(error);
    }

    fn check_failure(&self) -> Result<()> {
        if self.failure.lock().expect("failure lock").is_some() {
            return Err(Error::Internal(
                "stopped after another thread failed".into(),
            ));
        }
        Ok(())
    }
}

/// A pool of `threads` worker threads (all cores when `None`).
pub fn worker_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("recon-{i}"))
        .build()
        .map_err(|e| Error::Internal(format!("starting worker threads: {e}")))
}

/// Milliseconds since `since`, restarting it.
fn lap(since: &mut Instant) -> u64 {
    let ms = since.elapsed().as_millis() as u64;
    *since = Instant::now();
    ms
}
