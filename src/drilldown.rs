//! Drill-down stage: reads the rows of differing keys again through their locators and
//! compares them column by column on canonical values. Every changed row is examined, so
//! per-column mismatch counts are exact; only the difference lines kept for reports are
//! capped. It does not decide categories (compare does) or format output (report does).

use std::cmp::Ordering;

use arrow_array::RecordBatch;
use rayon::prelude::*;

use crate::compare::{ChangedPair, Comparison, DuplicateKey, OneSided};
use crate::digest::{Digester, key_hash};
use crate::error::{Error, Result, Side};
use crate::normalize::Plan;
use crate::normalize::canonical::{Encoded, ValueEncoder, display_value};
use crate::normalize::steps::Value;
use crate::source::Source;

/// The kind of one difference line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    /// A column value differs between the two rows of a key.
    Changed,
    /// The key is on the source only.
    MissingInTarget,
    /// The key is on the target only.
    ExtraInTarget,
    /// The key occurs more than once on a side.
    DuplicateKey,
    /// A key column is NULL.
    NullKey,
}

impl DiffKind {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DiffKind::Changed => "changed",
            DiffKind::MissingInTarget => "missing_in_target",
            DiffKind::ExtraInTarget => "extra_in_target",
            DiffKind::DuplicateKey => "duplicate_key",
            DiffKind::NullKey => "null_key",
        }
    }
}

/// One difference line, as values a person reads (`None` is NULL).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DiffLine {
    /// What kind of difference.
    pub kind: DiffKind,
    /// Key values, one per key column.
    pub key: Vec<Option<String>>,
    /// The differing column (source name), for `changed` lines.
    pub column: Option<String>,
    /// The source value, or the source row count for duplicates.
    pub source_value: Option<String>,
    /// The target value, or the target row count for duplicates.
    pub target_value: Option<String>,
    /// Why, when the values alone do not say (e.g. an unparseable value).
    pub note: Option<String>,
    /// Who owns the difference: the column's owner for a changed value, else the
    /// table's owner.
    pub owner: Option<String>,
    /// For a changed value, its column's index in the plan; orders lines of one key.
    #[serde(skip)]
    column_position: usize,
}

/// Exact per-column results of the drill-down.
#[derive(Debug, Clone, Default)]
pub struct ColumnCounts {
    /// Rows whose value differs, per compared column.
    pub mismatched: Vec<u64>,
    /// Values that could not be read as the comparison type, per column and side.
    pub unparseable: Vec<[u64; 2]>,
    /// Difference lines for changed rows, all of them (written or not).
    pub changed_lines: u64,
    /// Rows whose digests differed but whose values are all equal within their
    /// tolerances: they are matched, not changed.
    pub equal_rows: u64,
    /// A few differing value pairs per column (as stored), for hints.
    pub samples: Vec<Vec<(Option<String>, Option<String>)>>,
}

/// Differing value pairs kept per column for hints.
const HINT_SAMPLES: usize = 24;

/// What the drill-down produced.
#[derive(Debug, Clone)]
pub struct DrillDown {
    /// Exact per-column counts.
    pub columns: ColumnCounts,
    /// The kept difference lines, sorted by kind, then key.
    pub lines: Vec<DiffLine>,
}

/// The rows at some locators of one side, fetched once.
struct Fetched {
    locators: Vec<u64>,
    batch: RecordBatch,
}

impl Fetched {
    fn read(source: &dyn Source, plan: &Plan, side: Side, mut locators: Vec<u64>) -> Result<Self> {
        locators.sort_unstable();
        locators.dedup();
        let batch = source.fetch(&plan.projections[side.index()], &locators)?;
        // Rows are found by their locator's position: a short answer would shift them.
        if batch.num_rows() != locators.len() {
            return Err(Error::Internal(format!(
                "{side} {}: asked to read {} rows again, it returned {}",
                source.uri(),
                locators.len(),
                batch.num_rows()
            )));
        }
        Ok(Fetched { locators, batch })
    }

    fn row(&self, locator: u64) -> usize {
        self.locators
            .binary_search(&locator)
            .expect("fetched every requested locator")
    }
}

/// Encoders over a fetched batch, for keys and compared columns.
struct RowView {
    keys: Vec<ValueEncoder>,
    values: Vec<ValueEncoder>,
    side: Side,
    key_sensitive: bool,
}

impl RowView {
    fn new(plan: &Plan, side: Side, fetched: &Fetched) -> Self {
        let digester = Digester::new(plan, side);
        RowView {
            keys: digester.key_encoders(&fetched.batch),
            values: digester.value_encoders(&fetched.batch),
            side,
            key_sensitive: plan.keys.iter().any(|k| k.sensitive),
        }
    }

    fn key(&self, row: usize) -> Vec<Option<String>> {
        self.keys.iter().map(|k| k.display(row)).collect()
    }

    /// The row of `locator`, checked to carry the key the scan saw there: a source whose
    /// rows moved between the scan and this read (a volatile view, a foreign table) must
    /// fail the run, not put another row's values in a report.
    fn row_with_key(
        &self,
        fetched: &Fetched,
        locator: u64,
        key: u128,
        source: &dyn Source,
        scratch: &mut Vec<u8>,
    ) -> Result<usize> {
        let row = fetched.row(locator);
        if key_hash(&self.keys, row, scratch).map(|(hash, _)| hash) == Some(key) {
            Ok(row)
        } else {
            // A sensitive key is never shown, not even in an error.
            let shown = if self.key_sensitive {
                " (masked)".to_string()
            } else {
                format!(" {:?}", self.key(row))
            };
            Err(Error::SourceChanged {
                uri: source.uri().to_string(),
                message: format!(
                    "a {} row read again for the drill-down no longer has the key the scan saw (it now has key{shown}): its rows changed or moved while recon read them (a view over volatile data, or a foreign table?); no result is reported — compare a stable copy",
                    self.side,
                ),
            })
        }
    }
}

/// Line budgets per kind that add up to at most `total`, shared fairly: kinds needing less
/// than an equal share give the rest to the others. `None` demand means "as many as allowed".
fn share_budget(total: u64, demands: &[Option<u64>]) -> Vec<u64> {
    let mut budget = vec![0u64; demands.len()];
    let mut open: Vec<usize> = (0..demands.len())
        .filter(|&i| demands[i] != Some(0))
        .collect();
    let mut left = total;
    while !open.is_empty() && left > 0 {
        let share = (left / open.len() as u64).max(1);
        let mut still_open = Vec::new();
        for &i in &open {
            if left == 0 {
                break;
            }
            let want = demands[i].map_or(u64::MAX, |d| d - budget[i]);
            let give = want.min(share).min(left);
            budget[i] += give;
            left -= give;
            if demands[i].is_none_or(|d| budget[i] < d) {
                still_open.push(i);
            }
        }
        open = still_open;
    }
    budget
}

/// Reads back and compares what the comparison found, keeping at most `max_lines` lines.
pub fn drill_down(
    plan: &Plan,
    sources: [&dyn Source; 2],
    comparison: Comparison,
    null_keys: [Vec<u64>; 2],
    null_key_counts: [u64; 2],
    max_lines: u64,
) -> Result<DrillDown> {
    let counts = comparison.counts;
    let mut changed = comparison.changed;
    // Key-hash order makes the kept sample independent of thread count and read order.
    changed.par_sort_unstable_by_key(|c| c.key);
    let cap = usize::try_from(max_lines).unwrap_or(usize::MAX);
    let (columns, mut lines) = drill_changed(plan, sources, &changed, cap)?;
    // Now that the changed lines are counted, share the cap among all kinds fairly.
    let budgets = share_budget(
        max_lines,
        &[
            Some(columns.changed_lines),
            Some(counts.missing_in_target),
            Some(counts.extra_in_target),
            Some(counts.keys_with_duplicates),
            Some(null_key_counts[0]),
            Some(null_key_counts[1]),
        ],
    );
    let take = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    lines.truncate(take(budgets[0]));
    let missing = comparison.missing.into_sorted();
    lines.extend(one_sided_lines(
        plan,
        sources[0],
        Side::Source,
        &missing[..missing.len().min(take(budgets[1]))],
        DiffKind::MissingInTarget,
    )?);
    let extra = comparison.extra.into_sorted();
    lines.extend(one_sided_lines(
        plan,
        sources[1],
        Side::Target,
        &extra[..extra.len().min(take(budgets[2]))],
        DiffKind::ExtraInTarget,
    )?);
    let duplicates = comparison.duplicates.into_sorted();
    lines.extend(duplicate_lines(
        plan,
        sources,
        &duplicates[..duplicates.len().min(take(budgets[3]))],
    )?);
    lines.extend(null_key_lines(
        plan,
        sources,
        null_keys,
        [take(budgets[4]), take(budgets[5])],
    )?);

    sort_lines(&mut lines);
    Ok(DrillDown { columns, lines })
}

/// Kind, then key, then column: the order of every difference listing.
fn sort_lines(lines: &mut [DiffLine]) {
    lines.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then_with(|| compare_keys(&a.key, &b.key))
            .then_with(|| a.column_position.cmp(&b.column_position))
    });
}

fn drill_changed(
    plan: &Plan,
    sources: [&dyn Source; 2],
    changed: &[ChangedPair],
    max_lines: usize,
) -> Result<(ColumnCounts, Vec<DiffLine>)> {
    let width = plan.columns.len();
    let mut counts = ColumnCounts {
        mismatched: vec![0; width],
        unparseable: vec![[0; 2]; width],
        changed_lines: 0,
        equal_rows: 0,
        samples: vec![Vec::new(); width],
    };
    let mut lines = Vec::new();
    let (mut left, mut right) = (Vec::new(), Vec::new());
    let mut scratch = Vec::new();
    // Changed rows read back per round trip: as many as the costlier source asks for.
    let chunk_rows = sources[0].fetch_rows().max(sources[1].fetch_rows()).max(1);
    for chunk in changed.chunks(chunk_rows) {
        let (source_rows, target_rows) = rayon::join(
            || {
                Fetched::read(
                    sources[0],
                    plan,
                    Side::Source,
                    chunk.iter().map(|c| c.source).collect(),
                )
            },
            || {
                Fetched::read(
                    sources[1],
                    plan,
                    Side::Target,
                    chunk.iter().map(|c| c.target).collect(),
                )
            },
        );
        let (source_rows, target_rows) = (source_rows?, target_rows?);
        let views = [
            RowView::new(plan, Side::Source, &source_rows),
            RowView::new(plan, Side::Target, &target_rows),
        ];
        for pair in chunk {
            let rows = [
                views[0].row_with_key(
                    &source_rows,
                    pair.source,
                    pair.key,
                    sources[0],
                    &mut scratch,
                )?,
                views[1].row_with_key(
                    &target_rows,
                    pair.target,
                    pair.key,
                    sources[1],
                    &mut scratch,
                )?,
            ];
            let mut key = None;
            let mut differing = 0;
            for (c, column) in plan.columns.iter().enumerate() {
                let (le, re) = (&views[0].values[c], &views[1].values[c]);
                let (l, r) = match le.tolerance() {
                    Some(tolerance) => {
                        let (lv, rv) = (le.value(rows[0]), re.value(rows[1]));
                        if tolerance.equal_as(&lv, &rv, column.compare_as) {
                            continue;
                        }
                        (state(&lv), state(&rv))
                    }
                    None => {
                        left.clear();
                        right.clear();
                        let l = le.encode(rows[0], &mut left);
                        let r = re.encode(rows[1], &mut right);
                        if left == right {
                            continue;
                        }
                        (l, r)
                    }
                };
                differing += 1;
                // Hints quote values, so sensitive columns give no samples.
                if !column.sensitive && counts.samples[c].len() < HINT_SAMPLES {
                    // Hints look at values after the normalizers already in force.
                    let sample = if le.is_mapped() {
                        (
                            display_value(&le.value(rows[0])),
                            display_value(&re.value(rows[1])),
                        )
                    } else {
                        (le.display(rows[0]), re.display(rows[1]))
                    };
                    counts.samples[c].push(sample);
                }
                counts.mismatched[c] += 1;
                counts.changed_lines += 1;
                counts.unparseable[c][0] += u64::from(l == Encoded::Unparseable);
                counts.unparseable[c][1] += u64::from(r == Encoded::Unparseable);
                if lines.len() >= max_lines {
                    continue;
                }
                let note = match (l, r) {
                    (Encoded::Unparseable, Encoded::Unparseable) => Some(format!(
                        "unparseable: neither value reads as {}",
                        column.compare_as
                    )),
                    (Encoded::Unparseable, _) => Some(format!(
                        "unparseable: the source value does not read as {}",
                        column.compare_as
                    )),
                    (_, Encoded::Unparseable) => Some(format!(
                        "unparseable: the target value does not read as {}",
                        column.compare_as
                    )),
                    _ => normalized_note(le, re, rows),
                };
                lines.push(DiffLine {
                    kind: DiffKind::Changed,
                    key: key.get_or_insert_with(|| views[0].key(rows[0])).clone(),
                    column: Some(column.source.clone()),
                    source_value: views[0].values[c].display(rows[0]),
                    target_value: views[1].values[c].display(rows[1]),
                    note,
                    owner: None,
                    column_position: c,
                });
            }
            if differing == 0 {
                counts.equal_rows += 1;
            }
        }
    }
    Ok((counts, lines))
}

fn state(value: &Value<'_>) -> Encoded {
    match value {
        Value::Null => Encoded::Null,
        Value::Unparseable(_) => Encoded::Unparseable,
        _ => Encoded::Value,
    }
}

/// For mapped columns, the values after normalizers when they read differently from
/// the stored ones, so nobody takes "differs after lower()" for the stored values.
fn normalized_note(le: &ValueEncoder, re: &ValueEncoder, rows: [usize; 2]) -> Option<String> {
    if !le.is_mapped() {
        return None;
    }
    let normalized = [
        display_value(&le.value(rows[0])),
        display_value(&re.value(rows[1])),
    ];
    let stored = [le.display(rows[0]), re.display(rows[1])];
    if normalized == stored {
        return None;
    }
    let show = |v: &Option<String>| {
        v.as_deref()
            .map_or("NULL".to_string(), |s| format!("{s:?}"))
    };
    Some(format!(
        "after normalizers: {} vs {}",
        show(&normalized[0]),
        show(&normalized[1])
    ))
}

fn one_sided_lines(
    plan: &Plan,
    source: &dyn Source,
    side: Side,
    items: &[OneSided],
    kind: DiffKind,
) -> Result<Vec<DiffLine>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let fetched = Fetched::read(
        source,
        plan,
        side,
        items.iter().map(|i| i.locator).collect(),
    )?;
    let view = RowView::new(plan, side, &fetched);
    let mut scratch = Vec::new();
    items
        .iter()
        .map(|item| {
            let row = view.row_with_key(&fetched, item.locator, item.key, source, &mut scratch)?;
            Ok(DiffLine {
                kind,
                key: view.key(row),
                column: None,
                source_value: None,
                target_value: None,
                note: None,
                owner: None,
                column_position: 0,
            })
        })
        .collect()
}

fn duplicate_lines(
    plan: &Plan,
    sources: [&dyn Source; 2],
    items: &[DuplicateKey],
) -> Result<Vec<DiffLine>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let mut fetched = Vec::new();
    for side in Side::BOTH {
        let locators = items
            .iter()
            .filter_map(|d| d.locators[side.index()])
            .collect();
        let rows = Fetched::read(sources[side.index()], plan, side, locators)?;
        let view = RowView::new(plan, side, &rows);
        fetched.push((rows, view));
    }
    Ok(items
        .iter()
        .map(|d| {
            let side = if d.locators[0].is_some() { 0 } else { 1 };
            let (rows, view) = &fetched[side];
            let locator = d.locators[side].expect("a side with the key");
            DiffLine {
                kind: DiffKind::DuplicateKey,
                key: view.key(rows.row(locator)),
                column: None,
                source_value: Some(format!("{} rows", d.rows[0])),
                target_value: Some(format!("{} rows", d.rows[1])),
                note: None,
                owner: None,
                column_position: 0,
            }
        })
        .collect())
}

fn null_key_lines(
    plan: &Plan,
    sources: [&dyn Source; 2],
    null_keys: [Vec<u64>; 2],
    budgets: [usize; 2],
) -> Result<Vec<DiffLine>> {
    let mut lines = Vec::new();
    for (side, mut locators) in Side::BOTH.into_iter().zip(null_keys) {
        // The first rows in file order: a stable sample.
        locators.sort_unstable();
        locators.truncate(budgets[side.index()]);
        if locators.is_empty() {
            continue;
        }
        let fetched = Fetched::read(sources[side.index()], plan, side, locators.clone())?;
        let view = RowView::new(plan, side, &fetched);
        for locator in locators {
            lines.push(DiffLine {
                kind: DiffKind::NullKey,
                key: view.key(fetched.row(locator)),
                column: None,
                source_value: None,
                target_value: None,
                note: Some(format!("row on the {side} has a NULL key column")),
                owner: None,
                column_position: side.index(),
            });
        }
    }
    Ok(lines)
}

/// Turns values of sensitive columns into stable tokens: the same value gives the same
/// token within a run (and across runs with the same key), so an owner can still see
/// that two values differ and follow one value across rows, without seeing it.
#[derive(Debug, Clone, Copy)]
pub struct Mask {
    seed: u64,
}

impl Mask {
    /// A mask keyed by `key` (e.g. from `RECON_MASK_KEY`).
    pub fn keyed(key: &str) -> Mask {
        Mask {
            seed: xxhash_rust::xxh3::xxh3_64(key.as_bytes()),
        }
    }

    /// A mask with a key of this run only.
    pub fn random() -> Mask {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let salt = format!("{nanos}:{}:{:p}", std::process::id(), &nanos);
        Mask::keyed(&salt)
    }

    /// The token of a value.
    pub fn token(&self, value: &str) -> String {
        format!(
            "masked:{:012x}",
            xxhash_rust::xxh3::xxh3_64_with_seed(value.as_bytes(), self.seed) >> 16
        )
    }
}

/// Gives every line its owner and masks the values of sensitive columns (keys included).
/// Lines with a sensitive key are ordered by its token, so their order reveals nothing.
pub fn attribute_and_mask(
    lines: &mut [DiffLine],
    plan: &Plan,
    table_owner: Option<&str>,
    mask: &Mask,
) {
    for line in lines.iter_mut() {
        for (value, pair) in line.key.iter_mut().zip(&plan.keys) {
            if pair.sensitive {
                *value = value.as_deref().map(|v| mask.token(v));
            }
        }
        let column = line
            .column
            .as_ref()
            .map(|_| &plan.columns[line.column_position]);
        line.owner = column
            .and_then(|c| c.owner.clone())
            .or_else(|| table_owner.map(String::from));
        if column.is_some_and(|c| c.sensitive) {
            line.source_value = line.source_value.as_deref().map(|v| mask.token(v));
            line.target_value = line.target_value.as_deref().map(|v| mask.token(v));
            if line
                .note
                .as_deref()
                .is_some_and(|n| n.starts_with("after normalizers"))
            {
                line.note = Some("after normalizers: the values differ (masked)".into());
            }
        }
    }
    if plan.keys.iter().any(|k| k.sensitive) {
        sort_lines(lines);
    }
}

/// Orders keys as a person expects, and totally: NULL first, then numbers by value, then
/// other text by bytes.
fn compare_keys(a: &[Option<String>], b: &[Option<String>]) -> Ordering {
    fn rank(v: &Option<String>) -> (u8, Option<i128>) {
        match v {
            None => (0, None),
            Some(s) => match s.parse::<i128>() {
                Ok(n) => (1, Some(n)),
                Err(_) => (2, None),
            },
        }
    }
    for (x, y) in a.iter().zip(b) {
        let ordering = rank(x).cmp(&rank(y)).then_with(|| x.cmp(y));
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source whose `fetch` answers with fewer rows than asked for.
    struct ShortSource(arrow_schema::SchemaRef);

    impl Source for ShortSource {
        fn uri(&self) -> &str {
            "short.csv"
        }
        fn schema(&self) -> arrow_schema::SchemaRef {
            self.0.clone()
        }
        fn size_hint(&self) -> crate::source::SizeHint {
            crate::source::SizeHint {
                total: 0,
                unit: crate::source::ProgressUnit::Rows,
                estimated_rows: 0,
            }
        }
        fn splits(&self) -> usize {
            1
        }
        fn read_split(
            &self,
            _: usize,
            _: &[usize],
            _: &mut dyn FnMut(crate::source::Batch) -> Result<()>,
        ) -> Result<()> {
            Ok(())
        }
        fn fetch(&self, projection: &[usize], locators: &[u64]) -> Result<RecordBatch> {
            let ids = arrow_array::StringArray::from_iter_values(
                locators.iter().skip(1).map(|l| l.to_string()),
            );
            let schema = std::sync::Arc::new(self.0.project(projection).unwrap());
            Ok(RecordBatch::try_new(schema, vec![std::sync::Arc::new(ids)]).unwrap())
        }
    }

    #[test]
    fn a_source_returning_too_few_rows_is_an_error_naming_it() {
        let schema =
            std::sync::Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
                "id",
                arrow_schema::DataType::Utf8,
                true,
            )]));
        let selection = crate::normalize::ColumnSelection {
            key: vec!["id".into()],
            columns: None,
            exclude: Vec::new(),
            mappings: Vec::new(),
        };
        let plan = Plan::resolve([&schema, &schema], ["short.csv", "t.csv"], &selection).unwrap();
        let source = ShortSource(schema);
        let error = Fetched::read(&source, &plan, Side::Source, vec![7, 3, 5])
            .err()
            .expect("a short answer is refused")
            .to_string();
        assert!(
            error.contains("source short.csv: asked to read 3 rows again, it returned 2"),
            "{error}"
        );
    }

    #[test]
    fn budgets_are_shared_fairly_and_never_exceed_the_total() {
        assert_eq!(
            share_budget(100, &[None, Some(3), Some(0), Some(500), Some(1)]),
            vec![48, 3, 0, 48, 1]
        );
        assert_eq!(share_budget(10, &[Some(2), Some(2)]), vec![2, 2]);
        assert_eq!(share_budget(0, &[None, Some(5)]), vec![0, 0]);
        assert_eq!(
            share_budget(3, &[None, Some(5), Some(5), Some(5), Some(5)])
                .iter()
                .sum::<u64>(),
            3
        );
    }

    #[test]
    fn keys_sort_numerically_when_numeric() {
        let k = |s: &str| vec![Some(s.to_string())];
        assert_eq!(compare_keys(&k("9"), &k("10")), Ordering::Less);
        assert_eq!(compare_keys(&k("b"), &k("a")), Ordering::Greater);
        assert_eq!(compare_keys(&[None], &k("a")), Ordering::Less);
        // Mixed numbers and text: a total order (a sort used to panic on this input).
        let mut keys: Vec<Vec<Option<String>>> = [
            "143", "146a", "15", "17", "148", "140", "108", "160", "11", "138", "111a", "18",
            "38a", "144", "12", "23", "149", "129", "95", "46", "9", "10", "1a",
        ]
        .iter()
        .map(|s| k(s))
        .collect();
        keys.sort_by(|a, b| compare_keys(a, b));
        assert_eq!(keys.first().unwrap(), &k("9"));
        assert_eq!(keys.last().unwrap(), &k("38a"));
        assert_eq!(compare_keys(&k("10"), &k("1a")), Ordering::Less);
        assert_eq!(compare_keys(&k("1a"), &k("9")), Ordering::Greater);
    }
}
