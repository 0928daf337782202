//! Progress bars on stderr while both sides are scanned (indicatif): bytes and MB/s for
//! CSV, rows for Parquet, percent and ETA where the size is known.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::Side;
use crate::job::Observer;
use crate::metrics::Status;
use crate::source::{ProgressUnit, SizeHint};
use crate::suite::SuiteObserver;

/// Stderr when `visible` (indicatif draws only on a terminal), else nowhere.
fn draw_target(visible: bool) -> ProgressDrawTarget {
    if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// One bar per side, plus a line for the phases after the scan.
pub struct Bars {
    multi: MultiProgress,
    bars: [ProgressBar; 2],
    status: ProgressBar,
}

impl Bars {
    /// Bars drawn on stderr when `visible` and stderr is a terminal; hidden otherwise.
    pub fn new(visible: bool) -> Self {
        let multi = MultiProgress::with_draw_target(draw_target(visible));
        let bars = [
            multi.add(ProgressBar::new(0)),
            multi.add(ProgressBar::new(0)),
        ];
        for (bar, side) in bars.iter().zip(Side::BOTH) {
            bar.set_prefix(side.to_string());
        }
        let status = multi.add(ProgressBar::new_spinner());
        Bars {
            multi,
            bars,
            status,
        }
    }
}

impl Observer for Bars {
    fn scan_started(&self, hints: [SizeHint; 2]) {
        for (bar, hint) in self.bars.iter().zip(hints) {
            let template = match hint.unit {
                ProgressUnit::Bytes => {
                    "{prefix:>6} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}"
                }
                ProgressUnit::Rows => {
                    "{prefix:>6} [{bar:30}] {human_pos}/{human_len} rows {rows_per_sec} eta {eta}"
                }
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("valid template")
                    // Whole rows a second ({per_sec} shows four decimals).
                    .with_key(
                        "rows_per_sec",
                        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ =
                                write!(w, "{}/s", indicatif::HumanCount(state.per_sec() as u64));
                        },
                    )
                    .progress_chars("=> "),
            );
            bar.set_length(hint.total);
        }
    }

    fn scanned(&self, side: Side, amount: u64) {
        self.bars[side.index()].inc(amount);
    }

    fn phase(&self, phase: &str) {
        for bar in &self.bars {
            bar.finish();
        }
        self.status.set_message(phase.to_string());
        self.status.tick();
    }

    fn finished(&self) {
        self.status.finish_and_clear();
        let _ = self.multi.clear();
    }
}

/// A suite's display: tables done out of all, and a line per table running, with what it
/// is doing.
pub struct SuiteBars {
    multi: MultiProgress,
    overall: ProgressBar,
}

impl SuiteBars {
    /// Drawn on stderr when `visible` and stderr is a terminal; hidden otherwise.
    pub fn new(visible: bool) -> Self {
        let multi = MultiProgress::with_draw_target(draw_target(visible));
        // Drawn once the run knows how many tables it has: never a bar of 0/0.
        let overall = ProgressBar::hidden();
        SuiteBars { multi, overall }
    }

    /// Clears the display.
    pub fn finish(&self) {
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

impl SuiteObserver for SuiteBars {
    fn suite_started(&self, tables: usize) {
        let overall = self.multi.add(self.overall.clone());
        overall.set_length(tables as u64);
        overall.set_style(
            ProgressStyle::with_template("tables [{bar:30}] {pos}/{len} done, {elapsed} elapsed")
                .expect("valid template")
                .progress_chars("=> "),
        );
        overall.tick();
    }

    fn table_started(&self, name: &str) -> Box<dyn Observer + '_> {
        let line = self.multi.add(ProgressBar::new_spinner());
        line.set_style(
            ProgressStyle::with_template("  {spinner} {prefix}: {msg}").expect("valid template"),
        );
        line.set_prefix(name.to_string());
        line.set_message("opening");
        line.enable_steady_tick(std::time::Duration::from_millis(200));
        Box::new(TableLine {
            line,
            units: std::sync::Mutex::new([ProgressUnit::Rows; 2]),
            read: [
                std::sync::atomic::AtomicU64::new(0),
                std::sync::atomic::AtomicU64::new(0),
            ],
        })
    }

    fn table_finished(&self, _name: &str, _status: Status) {
        self.overall.inc(1);
    }
}

/// One running table's line in the suite display.
struct TableLine {
    line: ProgressBar,
    units: std::sync::Mutex<[ProgressUnit; 2]>,
    read: [std::sync::atomic::AtomicU64; 2],
}

impl Observer for TableLine {
    fn scan_started(&self, hints: [SizeHint; 2]) {
        *self.units.lock().expect("units lock") = hints.map(|h| h.unit);
        self.line.set_message("scanning");
    }

    fn scanned(&self, side: Side, amount: u64) {
        let read = &self.read[side.index()];
        read.fetch_add(amount, std::sync::atomic::Ordering::Relaxed);
        let units = *self.units.lock().expect("units lock");
        let shown: Vec<String> = Side::BOTH
            .iter()
            .map(|s| {
                let n = self.read[s.index()].load(std::sync::atomic::Ordering::Relaxed);
                match units[s.index()] {
                    ProgressUnit::Bytes => format!("{s} {}", indicatif::BinaryBytes(n)),
                    ProgressUnit::Rows => format!("{s} {} rows", indicatif::HumanCount(n)),
                }
            })
            .collect();
        self.line
            .set_message(format!("scanning: {}", shown.join(", ")));
    }

    fn phase(&self, phase: &str) {
        self.line.set_message(phase.to_string());
    }

    fn finished(&self) {
        self.line.finish_and_clear();
    }
}

impl Drop for TableLine {
    fn drop(&mut self) {
        // A table that failed never calls finished: its line goes all the same.
        self.line.finish_and_clear();
    }
}
