//! Progress bars on stderr while both sides are scanned (indicatif): bytes and MB/s for
//! CSV, rows for Parquet, percent and ETA where the size is known.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::Side;
use crate::job::Observer;
use crate::source::{ProgressUnit, SizeHint};

/// One bar per side, plus a line for the phases after the scan.
pub struct Bars {
    multi: MultiProgress,
    bars: [ProgressBar; 2],
    status: ProgressBar,
}

impl Bars {
    /// Bars drawn on stderr when `visible` and stderr is a terminal; hidden otherwise.
    pub fn new(visible: bool) -> Self {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
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
