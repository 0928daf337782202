//! Metrics stage: turns exact counts into the [`Summary`] (accuracy, per-column rates)
//! and checks the configured [`Criteria`], giving a [`Verdict`]. A breached criterion is
//! a result, not an error. It does no I/O.

pub mod criteria;
mod hints;

pub use criteria::{Amount, Category, ColumnCriteria, Criteria};

use serde::Serialize;

use crate::compare::Counts;
use crate::drilldown::ColumnCounts;
use crate::error::{Error, Result};
use crate::normalize::text::parse_decimal;
use crate::normalize::{CompareAs, Plan, SideLists};

/// Version of the JSON summary layout; bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// A percentage threshold kept exactly as written (`99.9` is 999/1000, not a float).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent {
    mantissa: i128,
    scale: i8,
}

impl Percent {
    /// Parses `99.9` or `99.9%`; it must lie in [0, 100] and have at most 9 decimals.
    pub fn parse(text: &str) -> Result<Percent> {
        let trimmed = text.trim();
        let bare = trimmed.strip_suffix('%').unwrap_or(trimmed).trim_end();
        let (mantissa, scale) = parse_decimal(bare.as_bytes())
            .filter(|(_, scale)| *scale <= 9)
            .ok_or_else(|| {
                Error::Config(format!(
                    "{text:?} is not a percentage; write it like 99.9 or 99.9% (at most 9 decimals)"
                ))
            })?;
        if mantissa < 0 || mantissa > 100 * 10i128.pow(scale as u32) {
            return Err(Error::Config(format!(
                "accuracy threshold {text} is outside 0..100%"
            )));
        }
        Ok(Percent { mantissa, scale })
    }

    /// Whether a threshold written without `%` lies in (0, 1]: most likely a fraction
    /// (0.999) where a percentage (99.9) is meant, which nearly any run would pass.
    pub fn reads_as_fraction(text: &str) -> bool {
        let t = text.trim();
        !t.ends_with('%') && t.parse::<f64>().is_ok_and(|v| v > 0.0 && v <= 1.0)
    }

    /// The percentage as a float, for display.
    pub fn value(&self) -> f64 {
        self.mantissa as f64 / 10f64.powi(i32::from(self.scale))
    }

    /// Whether `numerator / denominator` (a fraction) is at least this percentage,
    /// decided in exact integer arithmetic (counts below 2^64 and 9 decimals cannot
    /// overflow 128 bits).
    pub fn is_met_by(&self, numerator: u64, denominator: u64) -> bool {
        if denominator == 0 {
            return true;
        }
        // numerator/denominator >= mantissa / (100 * 10^scale)
        let lhs = u128::from(numerator) * 100 * 10u128.pow(self.scale as u32);
        let rhs = self.mantissa as u128 * u128::from(denominator);
        lhs >= rhs
    }

    /// Whether `part / whole` is at most this percentage (exact, like `is_met_by`): a
    /// share held to this percentage as its limit.
    pub fn is_not_exceeded_by(&self, part: u64, whole: u64) -> bool {
        if whole == 0 {
            return true;
        }
        let lhs = u128::from(part) * 100 * 10u128.pow(self.scale as u32);
        let rhs = self.mantissa as u128 * u128::from(whole);
        lhs <= rhs
    }
}

/// One criterion that was not met.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Breach {
    /// The criterion's name, as in the job file and flags.
    pub criterion: String,
    /// What was measured.
    pub measured: f64,
    /// The limit it was held to.
    pub threshold: f64,
    /// The breach in plain words.
    pub message: String,
}

/// How a run ended, for a scheduler: the exit status of `recon diff` and each table's
/// status in a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Compared, and every criterion holds.
    Passed,
    /// Compared, and a criterion is breached.
    Breached,
    /// Not compared: the run stopped on an error.
    Error,
}

impl Status {
    /// The process exit status that stands for it: 0, 1 or 2.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Passed => 0,
            Status::Breached => 1,
            Status::Error => 2,
        }
    }
}

/// `at` in UTC as RFC 3339 with milliseconds, e.g. `2026-12-04T21:05:44.123Z`.
pub fn rfc3339(at: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Pass or fail, with every breached criterion.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Verdict {
    /// True when no criterion is breached (or none was given).
    pub passed: bool,
    /// Every breached criterion.
    pub breaches: Vec<Breach>,
    /// Whether any criterion was given at all.
    pub criteria_given: bool,
    /// The overall accuracy threshold in percent, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_accuracy: Option<f64>,
}

impl Verdict {
    /// Passed or breached.
    pub fn status(&self) -> Status {
        if self.passed {
            Status::Passed
        } else {
            Status::Breached
        }
    }
}

impl ColumnSummary {
    /// The column's accuracy as a percentage for a person, or `-` when no row was
    /// compared (an empty side): every report shows it so.
    pub fn accuracy_text(&self) -> String {
        if self.compared == 0 {
            "-".to_string()
        } else {
            format_percent(self.compared - self.mismatched, self.compared)
        }
    }
}

/// One side of the run.
#[derive(Debug, Clone, Serialize)]
pub struct SideSummary {
    /// Where the data came from.
    pub uri: String,
    /// Rows read, including rows with NULL or repeated keys.
    pub rows: u64,
}

/// A count per side.
#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq, Eq)]
pub struct PerSide {
    /// On the source.
    pub source: u64,
    /// On the target.
    pub target: u64,
}

impl From<[u64; 2]> for PerSide {
    fn from(v: [u64; 2]) -> Self {
        PerSide {
            source: v[0],
            target: v[1],
        }
    }
}

/// A key column pair and how its values were read.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeyColumn {
    /// Source column name.
    pub source: String,
    /// Target column name.
    pub target: String,
    /// The type both sides' keys are compared as.
    pub compare_as: CompareAs,
    /// Normalizers applied to each side's key, in order.
    pub normalizers: SideLists,
    /// How values are read to make them comparable.
    pub notes: Vec<String>,
}

/// What one owner is answerable for: the table's owner gets the rows (missing, extra,
/// repeated and NULL keys) and the columns without an owner of their own.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OwnerSummary {
    /// The owner, as the job file names them.
    pub owner: String,
    /// Whether this is the table's owner.
    pub table: bool,
    /// Compared columns they own (source names).
    pub columns: Vec<String>,
    /// Differing values in their columns.
    pub changed_values: u64,
    /// Keys missing in the target (table owner only).
    pub missing_in_target: u64,
    /// Keys extra in the target (table owner only).
    pub extra_in_target: u64,
    /// Repeated keys (table owner only).
    pub keys_with_duplicates: u64,
    /// Rows with NULL keys (table owner only).
    pub null_keys: u64,
}

/// Per-column results.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnSummary {
    /// Source column name.
    pub source: String,
    /// Target column name.
    pub target: String,
    /// The type both sides were compared as.
    pub compare_as: CompareAs,
    /// How values were read to make them comparable.
    pub notes: Vec<String>,
    /// Rows compared on both sides (keys present once on each side).
    pub compared: u64,
    /// Compared rows whose values differ.
    pub mismatched: u64,
    /// Values that could not be read as `compare_as`.
    pub unparseable: PerSide,
    /// (compared − mismatched) / compared; null when nothing was compared.
    pub accuracy: Option<f64>,
    /// The comparison type the job file declared, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_type: Option<String>,
    /// Normalizers applied to each side, in order.
    pub normalizers: SideLists,
    /// The tolerance values were compared with, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<String>,
    /// A likely cause when the column differs on (nearly) every row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Who owns the column's data, when the job file says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Whether the column's values are masked in every report.
    pub sensitive: bool,
}

/// How the stored difference lines relate to all of them.
#[derive(Debug, Clone, Serialize)]
pub struct DiffLines {
    /// Difference lines that exist (one per changed value, per one-sided, duplicate or
    /// NULL key).
    pub total: u64,
    /// Lines kept in reports.
    pub kept: u64,
    /// The cap on kept lines.
    pub max: u64,
    /// Whether lines were left out because of the cap.
    pub capped: bool,
}

/// Execution facts.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// Key-hash partitions used.
    pub partitions: u64,
    /// Partitions matched by fingerprint without a row-level join.
    pub identical_partitions: u64,
    /// Bytes of digests spilled to disk.
    pub spilled_bytes: u64,
    /// Worker threads.
    pub threads: u64,
    /// Wall time of each phase: scan (read, digest, partition), compare, drill-down.
    pub phase_ms: PhaseTimes,
}

/// Wall time per phase, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PhaseTimes {
    /// Reading, digesting and partitioning both sides.
    pub scan: u64,
    /// Joining partitions.
    pub compare: u64,
    /// Reading differing rows again and comparing them column by column.
    pub drill_down: u64,
}

/// The result of a reconciliation: the versioned JSON summary's content.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Layout version.
    pub format_version: u32,
    /// The version of recon that ran.
    pub recon_version: String,
    /// When the run started, in UTC (RFC 3339).
    pub started_at: String,
    /// A fingerprint of the resolved plan and criteria (see [`crate::Job::fingerprint`]):
    /// two runs with the same fingerprint compared the same way.
    pub fingerprint: String,
    /// The source.
    pub source: SideSummary,
    /// The target.
    pub target: SideSummary,
    /// Key columns (source names).
    pub key: Vec<String>,
    /// How each key column was paired and read.
    pub key_columns: Vec<KeyColumn>,
    /// Distinct non-NULL keys on either side.
    pub keys_in_union: u64,
    /// Keys once on each side with equal rows.
    pub matched: u64,
    /// Keys once on each side with different rows.
    pub changed: u64,
    /// Keys only on the source.
    pub missing_in_target: u64,
    /// Keys only on the target.
    pub extra_in_target: u64,
    /// Distinct keys that repeat, per side.
    pub duplicate_keys: PerSide,
    /// Rows carrying a repeated key, per side.
    pub duplicate_key_rows: PerSide,
    /// Keys repeated on at least one side (their own category).
    pub keys_with_duplicates: u64,
    /// Rows with a NULL in a key column, per side (not part of the key union).
    pub null_keys: PerSide,
    /// Rows whose key did not read as the key's comparison type, per side.
    pub unparseable_keys: PerSide,
    /// matched / keys_in_union (1 when both sides are empty).
    pub accuracy: f64,
    /// Per-column results.
    pub columns: Vec<ColumnSummary>,
    /// Columns only the source has (not compared).
    pub only_in_source: Vec<String>,
    /// Columns only the target has (not compared).
    pub only_in_target: Vec<String>,
    /// Columns on both sides left out on purpose.
    pub excluded: Vec<String>,
    /// Stored difference lines versus all of them.
    pub diff_lines: DiffLines,
    /// Execution facts.
    pub run: RunInfo,
    /// Pass or fail.
    pub verdict: Verdict,
    /// False when --fail-fast stopped the run as soon as a criterion was lost: every
    /// count is then a lower bound.
    pub complete: bool,
    /// Things a reader of the result should not miss (e.g. rows outside the accuracy).
    pub warnings: Vec<String>,
    /// What each owner named in the job file is answerable for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<OwnerSummary>,
    /// Wall time of the whole run.
    pub elapsed_ms: u64,
}

/// Everything the summary is computed from.
pub struct Measurements<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// Source and target locations.
    pub uris: [String; 2],
    /// Rows read per side.
    pub rows: [u64; 2],
    /// Rows with NULL keys per side.
    pub null_keys: [u64; 2],
    /// Rows whose key text did not read as the key's type, per side.
    pub unparseable_keys: [u64; 2],
    /// The table's owner.
    pub table_owner: Option<&'a str>,
    /// False when --fail-fast stopped the join early.
    pub complete: bool,
    /// Comparison counts.
    pub counts: Counts,
    /// Sampled keys missing in the target and extra in it (as shown: masked when
    /// sensitive), for a hint when nearly every key is on one side only.
    pub one_sided_keys: [Vec<&'a [Option<String>]>; 2],
    /// Drill-down counts.
    pub columns: &'a ColumnCounts,
    /// Lines kept.
    pub kept_lines: u64,
    /// The cap on kept lines.
    pub max_lines: u64,
    /// Execution facts.
    pub run: RunInfo,
    /// When the run started.
    pub started_at: std::time::SystemTime,
    /// The job's fingerprint.
    pub fingerprint: String,
    /// Wall time.
    pub elapsed_ms: u64,
}

impl Summary {
    /// Computes the summary and verdict.
    pub fn new(m: Measurements<'_>, criteria: &Criteria) -> Summary {
        let counts = m.counts;
        let compared = counts.matched + counts.changed;
        let union = counts.keys_in_union();
        let accuracy = fraction(counts.matched, union).unwrap_or(1.0);
        let columns = m
            .plan
            .columns
            .iter()
            .enumerate()
            .map(|(i, pair)| ColumnSummary {
                source: pair.source.clone(),
                target: pair.target.clone(),
                compare_as: pair.compare_as,
                notes: pair.notes.clone(),
                compared,
                mismatched: m.columns.mismatched[i],
                unparseable: m.columns.unparseable[i].into(),
                accuracy: fraction(compared - m.columns.mismatched[i], compared),
                declared_type: pair.declared_type.clone(),
                normalizers: pair.normalizers.clone(),
                tolerance: pair.tolerance.clone(),
                hint: hints::hint(compared, m.columns.mismatched[i], &m.columns.samples[i]),
                owner: pair.owner.clone(),
                sensitive: pair.sensitive,
            })
            .collect();
        let total_lines = m.columns.changed_lines
            + counts.missing_in_target
            + counts.extra_in_target
            + counts.keys_with_duplicates
            + m.null_keys[0]
            + m.null_keys[1];
        let mut warnings = Vec::new();
        if !m.complete {
            warnings.push(
                "stopped early (fail fast) once a criterion could no longer be met: every count is a lower bound".into(),
            );
        }
        if m.null_keys.iter().any(|n| *n > 0) {
            warnings.push(format!(
                "{} source and {} target rows have a NULL key: they are outside the key union and the accuracy",
                m.null_keys[0], m.null_keys[1]
            ));
        }
        if m.unparseable_keys.iter().any(|n| *n > 0) {
            warnings.push(format!(
                "{} source and {} target keys do not read as the key's type: such rows can only be missing or extra",
                m.unparseable_keys[0], m.unparseable_keys[1]
            ));
        }
        if let Some(hint) = hints::key_hint(
            union,
            counts.missing_in_target + counts.extra_in_target,
            &m.one_sided_keys,
        ) {
            warnings.push(hint);
        }
        if union > 0 && m.plan.columns.is_empty() {
            warnings
                .push("no column besides the key was compared: only presence is checked".into());
        }
        let owners = owners(&m, &counts);
        let [source_uri, target_uri] = m.uris;
        let mut summary = Summary {
            format_version: FORMAT_VERSION,
            recon_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: rfc3339(m.started_at),
            fingerprint: m.fingerprint.clone(),
            source: SideSummary {
                uri: source_uri,
                rows: m.rows[0],
            },
            target: SideSummary {
                uri: target_uri,
                rows: m.rows[1],
            },
            key: m.plan.keys.iter().map(|k| k.source.clone()).collect(),
            key_columns: m
                .plan
                .keys
                .iter()
                .map(|k| KeyColumn {
                    source: k.source.clone(),
                    target: k.target.clone(),
                    compare_as: k.compare_as,
                    normalizers: k.normalizers.clone(),
                    notes: k.notes.clone(),
                })
                .collect(),
            keys_in_union: union,
            matched: counts.matched,
            changed: counts.changed,
            missing_in_target: counts.missing_in_target,
            extra_in_target: counts.extra_in_target,
            duplicate_keys: counts.duplicate_keys.into(),
            duplicate_key_rows: counts.duplicate_key_rows.into(),
            keys_with_duplicates: counts.keys_with_duplicates,
            null_keys: m.null_keys.into(),
            unparseable_keys: m.unparseable_keys.into(),
            accuracy,
            columns,
            only_in_source: m.plan.only_in_source.clone(),
            only_in_target: m.plan.only_in_target.clone(),
            excluded: m.plan.excluded.clone(),
            diff_lines: DiffLines {
                total: total_lines,
                kept: m.kept_lines,
                max: m.max_lines,
                capped: m.kept_lines < total_lines,
            },
            run: m.run,
            verdict: Verdict {
                passed: true,
                breaches: Vec::new(),
                criteria_given: criteria.any(),
                min_accuracy: criteria.min_accuracy.map(|p| p.value()),
            },
            complete: m.complete,
            warnings,
            owners,
            elapsed_ms: m.elapsed_ms,
        };
        summary.verdict.breaches = criteria.breaches(&summary);
        summary.verdict.passed = summary.verdict.breaches.is_empty();
        summary
    }
}

fn owners(m: &Measurements<'_>, counts: &Counts) -> Vec<OwnerSummary> {
    fn entry(out: &mut Vec<OwnerSummary>, name: &str, table: bool) -> usize {
        if let Some(i) = out.iter().position(|o| o.owner == name) {
            return i;
        }
        out.push(OwnerSummary {
            owner: name.to_string(),
            table,
            columns: Vec::new(),
            changed_values: 0,
            missing_in_target: 0,
            extra_in_target: 0,
            keys_with_duplicates: 0,
            null_keys: 0,
        });
        out.len() - 1
    }
    let mut out = Vec::new();
    if let Some(name) = m.table_owner {
        let i = entry(&mut out, name, true);
        let o = &mut out[i];
        o.missing_in_target = counts.missing_in_target;
        o.extra_in_target = counts.extra_in_target;
        o.keys_with_duplicates = counts.keys_with_duplicates;
        o.null_keys = m.null_keys[0] + m.null_keys[1];
    }
    for (c, pair) in m.plan.columns.iter().enumerate() {
        let Some(name) = pair.owner.as_deref().or(m.table_owner) else {
            continue;
        };
        let i = entry(&mut out, name, m.table_owner == Some(name));
        out[i].columns.push(pair.source.clone());
        out[i].changed_values += m.columns.mismatched[c];
    }
    out
}

fn fraction(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// A fraction as a percentage with enough digits that a breach never prints as equal to
/// its threshold (99.995% is not shown as 100.00%).
pub fn format_percent(numerator: u64, denominator: u64) -> String {
    if denominator == 0 || numerator == denominator {
        return "100%".into();
    }
    let value = numerator as f64 / denominator as f64 * 100.0;
    for digits in 2..=9 {
        let text = format!("{value:.digits$}");
        // Neither a breach shown as 100% nor a few differences shown as 0.00%.
        let shows_zero = numerator > 0 && text.bytes().all(|b| b == b'0' || b == b'.');
        if !text.starts_with("100") && !shows_zero {
            return format!("{text}%");
        }
    }
    if numerator < denominator - numerator {
        "<0.000000001%".into()
    } else {
        "99.999999999%".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_exact() {
        let p = Percent::parse("99.9%").unwrap();
        assert!(p.is_met_by(999, 1000));
        assert!(!p.is_met_by(998_999, 1_000_000));
        assert!(Percent::parse("100").unwrap().is_met_by(5, 5));
        assert!(!Percent::parse("100").unwrap().is_met_by(4, 5));
        assert!(Percent::parse("100.1").is_err());
        assert!(Percent::parse("-1").is_err());
        assert!(Percent::parse("abc").is_err());
        assert!(Percent::parse("0").unwrap().is_met_by(0, 10));
        assert!(Percent::parse("100.0000000000000000001").is_err());
        assert!(Percent::parse("99.9%%").is_err());
        assert!(
            Percent::parse("0.000000001")
                .unwrap()
                .is_met_by(1, 100_000_000_000)
        );
        assert!(
            !Percent::parse("0.000000001")
                .unwrap()
                .is_met_by(1, 100_000_000_001)
        );
        assert!(Percent::parse("0.0000000001").is_err());
        let p = Percent::parse("99.999999999").unwrap();
        assert!(!p.is_met_by(999_999, 1_000_000));
        assert!(p.is_met_by(u64::MAX - 1, u64::MAX));
    }

    #[test]
    fn a_few_differences_never_show_as_zero_percent() {
        assert_eq!(format_percent(5, 199_743), "0.003%");
        assert_eq!(format_percent(0, 10), "0.00%");
        assert_eq!(format_percent(1, 1_000_000_000_000), "<0.000000001%");
    }

    #[test]
    fn percent_text_never_rounds_up_to_whole() {
        assert!(!format_percent(99_995, 100_000).starts_with("100"));
        assert_eq!(format_percent(9_999_999, 10_000_000), "99.99999%");
        assert_eq!(format_percent(1, 2), "50.00%");
        assert_eq!(format_percent(0, 0), "100%");
    }
}
