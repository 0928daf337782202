//! Rollback criteria and their evaluation: every breached criterion becomes a [`Breach`]
//! with the measured value, the threshold and a sentence a person reads in a pipeline
//! log. Criteria decide the verdict; they never change a count.

use serde::Serialize;

use super::{Breach, Percent, Summary, format_percent};
use crate::error::{Error, Result};

/// A limit given as a count or as a rate (percent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    /// At most this many.
    Count(u64),
    /// At most this share of the base.
    Rate(Percent),
}

impl Amount {
    /// Parses `5` (a count) or `"0.5%"` (a rate).
    pub fn parse(text: &str) -> Result<Amount> {
        let t = text.trim();
        if t.ends_with('%') {
            return Ok(Amount::Rate(Percent::parse(t)?));
        }
        t.parse::<u64>().map(Amount::Count).map_err(|_| {
            Error::Config(format!(
                "{text:?} is not a limit; write a count like 5 or a rate like \"0.5%\" (negative limits make no sense)"
            ))
        })
    }

    /// Whether `value` out of `base` stays within the limit (any value over a base of
    /// 0 is an infinite rate).
    fn allows(&self, value: u64, base: u64) -> bool {
        match self {
            Amount::Count(max) => value <= *max,
            Amount::Rate(_) if base == 0 => value == 0,
            // value/base ≤ rate  ⇔  (base − value)/base ≥ 100% − rate
            Amount::Rate(rate) => rate.is_not_exceeded_by(value, base),
        }
    }

    fn describe(&self) -> String {
        match self {
            Amount::Count(n) => n.to_string(),
            Amount::Rate(p) => format!("{}%", p.value()),
        }
    }

    fn threshold(&self) -> f64 {
        match self {
            Amount::Count(n) => *n as f64,
            Amount::Rate(p) => p.value(),
        }
    }
}

/// A category of keys or rows a limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Keys on the source only.
    MissingInTarget,
    /// Keys on the target only.
    ExtraInTarget,
    /// Keys whose rows differ.
    Changed,
    /// Keys repeated on a side.
    DuplicateKeys,
    /// Rows with a NULL key.
    NullKeys,
}

impl Category {
    /// The criterion name in job files.
    pub fn criterion(self) -> &'static str {
        match self {
            Category::MissingInTarget => "max_missing_in_target",
            Category::ExtraInTarget => "max_extra_in_target",
            Category::Changed => "max_changed",
            Category::DuplicateKeys => "max_duplicate_keys",
            Category::NullKeys => "max_null_keys",
        }
    }

    fn words(self, n: u64) -> &'static str {
        match (self, n == 1) {
            (Category::MissingInTarget, true) => "key missing in target",
            (Category::MissingInTarget, false) => "keys missing in target",
            (Category::ExtraInTarget, true) => "key extra in target",
            (Category::ExtraInTarget, false) => "keys extra in target",
            (Category::Changed, true) => "changed key",
            (Category::Changed, false) => "changed keys",
            (Category::DuplicateKeys, true) => "repeated key",
            (Category::DuplicateKeys, false) => "repeated keys",
            (Category::NullKeys, true) => "row with a NULL key",
            (Category::NullKeys, false) => "rows with a NULL key",
        }
    }
}

/// Criteria for one compared column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnCriteria {
    /// Source name of the column.
    pub column: String,
    /// The column's accuracy must be at least this.
    pub min_accuracy: Option<Percent>,
    /// At most this many rows may differ in the column.
    pub max_mismatched: Option<u64>,
    /// Any mismatch breaches.
    pub critical: bool,
}

/// The rollback criteria of a run.
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    /// Overall accuracy must be at least this.
    pub min_accuracy: Option<Percent>,
    /// Limits on categories; rates are of the keys in the union (of rows read, for NULL keys).
    pub limits: Vec<(Category, Amount)>,
    /// Each side must have at least this many rows.
    pub min_rows: Option<u64>,
    /// |source rows − target rows| at most this (a rate is of the source rows).
    pub max_row_drift: Option<Amount>,
    /// Per-column criteria.
    pub columns: Vec<ColumnCriteria>,
}

impl Criteria {
    /// Whether any criterion is set.
    pub fn any(&self) -> bool {
        self.min_accuracy.is_some()
            || !self.limits.is_empty()
            || self.min_rows.is_some()
            || self.max_row_drift.is_some()
            || !self.columns.is_empty()
    }

    /// Takes every criterion this one leaves unset from `defaults` (a suite's shared
    /// criteria under a table's own): a limit on a category counts as set. Column
    /// criteria belong to a table's own columns and are never shared.
    pub fn fill_from(&mut self, defaults: &Criteria) {
        self.min_accuracy = self.min_accuracy.or(defaults.min_accuracy);
        self.min_rows = self.min_rows.or(defaults.min_rows);
        self.max_row_drift = self.max_row_drift.or(defaults.max_row_drift);
        for (category, amount) in &defaults.limits {
            if !self.limits.iter().any(|(c, _)| c == category) {
                self.limits.push((*category, *amount));
            }
        }
    }

    /// Whether a criterion on row counts is already breached when the scan is over.
    pub fn lost_after_scan(&self, rows: [u64; 2], null_keys: [u64; 2]) -> bool {
        let min_rows = self
            .min_rows
            .is_some_and(|min| rows.iter().any(|r| *r < min));
        let drift = self
            .max_row_drift
            .is_some_and(|max| !max.allows(rows[0].abs_diff(rows[1]), rows[0]));
        let nulls = self.limits.iter().any(|(c, max)| {
            *c == Category::NullKeys && !max.allows(null_keys[0] + null_keys[1], rows[0] + rows[1])
        });
        min_rows || drift || nulls
    }

    /// Whether partial join counts (lower bounds) already make a criterion impossible,
    /// whatever the rest of the join finds. The key union is at most the rows read. With
    /// tolerance columns, "changed" is not yet a lower bound (the drill-down may find rows
    /// equal within tolerance), so it is left out.
    pub fn lost_during_join(
        &self,
        partial: &crate::compare::Counts,
        rows: [u64; 2],
        changed_is_final: bool,
    ) -> bool {
        let changed = if changed_is_final { partial.changed } else { 0 };
        let most_keys = rows[0] + rows[1];
        let over = |value: u64, max: &Amount| match max {
            Amount::Count(n) => value > *n,
            // Even over the largest possible union the share is too high.
            Amount::Rate(rate) => !rate.is_not_exceeded_by(value, most_keys),
        };
        let limits = self.limits.iter().any(|(category, max)| match category {
            Category::MissingInTarget => over(partial.missing_in_target, max),
            Category::ExtraInTarget => over(partial.extra_in_target, max),
            Category::Changed => over(changed, max),
            Category::DuplicateKeys => over(partial.keys_with_duplicates, max),
            Category::NullKeys => false,
        });
        let unmatched = changed
            + partial.missing_in_target
            + partial.extra_in_target
            + partial.keys_with_duplicates;
        let accuracy = self
            .min_accuracy
            .is_some_and(|min| !min.is_met_by(most_keys.saturating_sub(unmatched), most_keys));
        limits || accuracy
    }

    /// Every breached criterion of a summary, in a fixed order.
    pub fn breaches(&self, s: &Summary) -> Vec<Breach> {
        let mut out = Vec::new();
        let union = s.keys_in_union;
        if let Some(min) = self.min_accuracy
            && !min.is_met_by(s.matched, union)
        {
            out.push(Breach {
                criterion: "min_accuracy".into(),
                measured: s.accuracy * 100.0,
                threshold: min.value(),
                message: format!(
                    "accuracy {} is below the rollback threshold {}%",
                    format_percent(s.matched, union),
                    min.value()
                ),
            });
        }
        for (category, max) in &self.limits {
            let (value, base, of) = match category {
                Category::MissingInTarget => (s.missing_in_target, union, "keys"),
                Category::ExtraInTarget => (s.extra_in_target, union, "keys"),
                Category::Changed => (s.changed, union, "keys"),
                Category::DuplicateKeys => (s.keys_with_duplicates, union, "keys"),
                Category::NullKeys => (
                    s.null_keys.source + s.null_keys.target,
                    s.source.rows + s.target.rows,
                    "rows",
                ),
            };
            if !max.allows(value, base) {
                let measured = match max {
                    Amount::Count(_) => value as f64,
                    Amount::Rate(_) => ratio(value, base) * 100.0,
                };
                let amount = match max {
                    Amount::Count(_) => value.to_string(),
                    Amount::Rate(_) => {
                        format!("{} ({value} of {base} {of})", format_percent(value, base))
                    }
                };
                out.push(Breach {
                    criterion: category.criterion().into(),
                    measured,
                    threshold: max.threshold(),
                    message: format!(
                        "{amount} {}; at most {} allowed",
                        category.words(value),
                        max.describe()
                    ),
                });
            }
        }
        if let Some(min) = self.min_rows {
            for (side, rows) in [("source", s.source.rows), ("target", s.target.rows)] {
                if rows < min {
                    out.push(Breach {
                        criterion: "min_rows".into(),
                        measured: rows as f64,
                        threshold: min as f64,
                        message: format!("the {side} has {rows} rows; at least {min} required"),
                    });
                }
            }
        }
        if let Some(max) = &self.max_row_drift {
            let drift = s.source.rows.abs_diff(s.target.rows);
            if !max.allows(drift, s.source.rows) {
                out.push(Breach {
                    criterion: "max_row_drift".into(),
                    measured: match max {
                        Amount::Count(_) => drift as f64,
                        Amount::Rate(_) => ratio(drift, s.source.rows) * 100.0,
                    },
                    threshold: max.threshold(),
                    message: format!(
                        "row counts differ by {drift} (source {}, target {}); at most {} allowed",
                        s.source.rows,
                        s.target.rows,
                        max.describe()
                    ),
                });
            }
        }
        for c in &self.columns {
            let Some(col) = s.columns.iter().find(|x| x.source == c.column) else {
                continue;
            };
            if c.critical && col.mismatched > 0 {
                out.push(Breach {
                    criterion: format!("columns.{}.critical", c.column),
                    measured: col.mismatched as f64,
                    threshold: 0.0,
                    message: format!(
                        "critical column {} differs on {}; it must match exactly",
                        c.column,
                        rows(col.mismatched)
                    ),
                });
            }
            if let Some(max) = c.max_mismatched
                && col.mismatched > max
            {
                out.push(Breach {
                    criterion: format!("columns.{}.max_mismatched", c.column),
                    measured: col.mismatched as f64,
                    threshold: max as f64,
                    message: format!(
                        "column {} differs on {}; at most {max} allowed",
                        c.column,
                        rows(col.mismatched)
                    ),
                });
            }
            if let Some(min) = c.min_accuracy
                && !min.is_met_by(col.compared - col.mismatched, col.compared)
            {
                out.push(Breach {
                    criterion: format!("columns.{}.min_accuracy", c.column),
                    measured: col.accuracy.unwrap_or(1.0) * 100.0,
                    threshold: min.value(),
                    message: format!(
                        "column {} accuracy {} is below its threshold {}%",
                        c.column,
                        format_percent(col.compared - col.mismatched, col.compared),
                        min.value()
                    ),
                });
            }
        }
        out
    }
}

fn rows(n: u64) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(Amount::parse("5").unwrap(), Amount::Count(5));
        assert!(matches!(Amount::parse("0.5%").unwrap(), Amount::Rate(_)));
        assert!(Amount::parse("-1").is_err());
        assert!(Amount::parse("101%").is_err());
        assert!(Amount::Count(3).allows(3, 10));
        assert!(!Amount::Count(3).allows(4, 10));
        let half = Amount::parse("0.5%").unwrap();
        assert!(half.allows(5, 1000));
        assert!(!half.allows(6, 1000));
        assert!(half.allows(0, 0));
        // Any drift over an empty base is an infinite rate.
        assert!(!half.allows(1000, 0));
    }

    #[test]
    fn changed_keys_are_not_a_lower_bound_under_a_tolerance() {
        let criteria = Criteria {
            limits: vec![(Category::Changed, Amount::Count(0))],
            ..Criteria::default()
        };
        let partial = crate::compare::Counts {
            changed: 3,
            ..Default::default()
        };
        assert!(criteria.lost_during_join(&partial, [10, 10], true));
        assert!(!criteria.lost_during_join(&partial, [10, 10], false));
    }
}
