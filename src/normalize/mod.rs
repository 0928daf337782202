//! Map-and-normalize stage. This module builds the [`Plan`] from the two schemas and a
//! [`ColumnSelection`]: which source column is compared with which target column and as
//! what [`CompareAs`] type, what is left out and why, and which columns each side reads.
//! What a source marks on a field (text holding exact numbers) is resolved here, once,
//! into the [`ColumnPair`]. The submodules make values comparable, each using only those
//! before it: `text` (strict parsers) and `wide` (decimals beyond 128 bits), `number`
//! (exact decimals and where they meet floats), `value` ([`value::Value`], [`CompareAs`],
//! values written for people), `steps` (normalizers, casts, tolerances), `canonical`
//! (the canonical encoding and digest slots of a batch's column; slots hash long text).
//! The plan reads schemas, never rows; no part of the stage reads a source, computes a
//! key or row hash (the digest stage does), partitions, compares entries or reports.

pub mod canonical;
pub mod number;
pub mod steps;
pub mod text;
pub mod value;
pub mod wide;

use std::fmt;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};

use self::steps::{Input, Step, Tolerance};
// Where callers have always found them.
pub use self::steps::Mapped;
pub use self::value::CompareAs;
use crate::error::{Error, Result, Side};

/// One source column and the target column it is compared with.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ColumnPair {
    /// Column name on the source.
    pub source: String,
    /// Column name on the target.
    pub target: String,
    /// Position in the source schema.
    #[serde(skip)]
    pub source_index: usize,
    /// Position in the target schema.
    #[serde(skip)]
    pub target_index: usize,
    /// Source type, as Arrow names it.
    pub source_type: String,
    /// Target type, as Arrow names it.
    pub target_type: String,
    /// The type both sides are compared as.
    pub compare_as: CompareAs,
    /// How values are read to make them comparable, in words.
    pub notes: Vec<String>,
    /// The comparison type the mapping declared, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_type: Option<String>,
    /// Normalizers applied to each side, in order.
    pub normalizers: SideLists,
    /// The tolerance values are compared with, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<String>,
    /// What a mapped pair runs on its values; `None` for plain pairs.
    #[serde(skip)]
    pub mapped: Option<Arc<Mapped>>,
    /// Who owns the column's data, when the job file says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Whether values are masked in reports.
    pub sensitive: bool,
    /// Per side: whether the column is text a source marked as holding exact numbers
    /// (PostgreSQL numeric), resolved once here so no batch reads field metadata.
    #[serde(skip)]
    exact_number_text: [bool; 2],
}

/// One list per side.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
pub struct SideLists {
    /// For the source.
    pub source: Vec<String>,
    /// For the target.
    pub target: Vec<String>,
}

/// A comparison type a mapping declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// Whole numbers.
    Int,
    /// Exact decimals, rounded to `scale` places.
    Decimal {
        /// Total digits.
        precision: u8,
        /// Decimal places.
        scale: u8,
    },
    /// 64-bit floats.
    Float,
    /// Text.
    Text,
    /// Booleans.
    Bool,
    /// Dates.
    Date,
    /// Timestamps without a zone (wall-clock).
    Timestamp,
    /// Instants.
    TimestampTz,
    /// UUIDs (compared in canonical text form).
    Uuid,
    /// JSON (compared in canonical text form).
    Json,
}

impl Declared {
    /// Parses `int`, `decimal(p,s)`, `float`, `text`, `bool`, `date`, `timestamp`,
    /// `timestamptz`, `uuid` or `json`.
    pub fn parse(text: &str) -> Option<Declared> {
        let t = text.trim().to_ascii_lowercase();
        Some(match t.as_str() {
            "int" | "integer" | "bigint" => Declared::Int,
            "float" | "double" => Declared::Float,
            "text" | "string" => Declared::Text,
            "bool" | "boolean" => Declared::Bool,
            "date" => Declared::Date,
            "timestamp" => Declared::Timestamp,
            "timestamptz" => Declared::TimestampTz,
            "uuid" => Declared::Uuid,
            "json" => Declared::Json,
            other => {
                let inner = other.strip_prefix("decimal(")?.strip_suffix(')')?;
                let (p, s) = inner.split_once(',')?;
                let (precision, scale) = (p.trim().parse().ok()?, s.trim().parse().ok()?);
                if precision == 0 || precision > 38 || scale > precision {
                    return None;
                }
                Declared::Decimal { precision, scale }
            }
        })
    }

    /// The step that writes the declared type's canonical text, run after the user's.
    fn text_step(self) -> Option<Step> {
        match self {
            Declared::Uuid => Some(Step::Uuid),
            Declared::Json => Some(Step::Json),
            _ => None,
        }
    }

    /// The steps after the cast: rounding and the precision check of a declared decimal,
    /// the whole-number check of a declared int.
    fn post_steps(self) -> Vec<Step> {
        match self {
            Declared::Decimal { precision, scale } => {
                vec![Step::Round(scale), Step::Precision(precision, scale)]
            }
            Declared::Int => vec![Step::Integral],
            _ => Vec::new(),
        }
    }

    fn compare_as(self) -> CompareAs {
        match self {
            Declared::Int | Declared::Decimal { .. } => CompareAs::Number,
            Declared::Float => CompareAs::Float64,
            Declared::Text | Declared::Uuid | Declared::Json => CompareAs::Text,
            Declared::Bool => CompareAs::Bool,
            Declared::Date => CompareAs::Date,
            Declared::Timestamp | Declared::TimestampTz => CompareAs::Timestamp,
        }
    }
}

impl fmt::Display for Declared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Declared::Int => f.write_str("int"),
            Declared::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            Declared::Float => f.write_str("float"),
            Declared::Text => f.write_str("text"),
            Declared::Bool => f.write_str("bool"),
            Declared::Date => f.write_str("date"),
            Declared::Timestamp => f.write_str("timestamp"),
            Declared::TimestampTz => f.write_str("timestamptz"),
            Declared::Uuid => f.write_str("uuid"),
            Declared::Json => f.write_str("json"),
        }
    }
}

/// A column mapping as written in a job file, before it meets the schemas.
#[derive(Debug, Clone, Default)]
pub struct ColumnMapping {
    /// Column name on the source.
    pub source: String,
    /// Column name on the target.
    pub target: String,
    /// The comparison type, when declared.
    pub declared: Option<Declared>,
    /// Normalizers for the source and the target, in order.
    pub steps: [Vec<Step>; 2],
    /// Equality within a tolerance.
    pub tolerance: Option<Tolerance>,
    /// Who owns the column's data (receives its mismatches).
    pub owner: Option<String>,
    /// The column's values are masked in every report.
    pub sensitive: bool,
}

impl ColumnPair {
    /// The schema index of this column on `side`.
    pub fn index(&self, side: Side) -> usize {
        match side {
            Side::Source => self.source_index,
            Side::Target => self.target_index,
        }
    }

    /// The column's name on `side`.
    pub fn name(&self, side: Side) -> &str {
        match side {
            Side::Source => &self.source,
            Side::Target => &self.target,
        }
    }

    /// Whether the column on `side` is text holding exact numbers: read as decimals,
    /// never through a float, so they meet floats by the exact-number rule.
    pub(crate) fn holds_exact_number_text(&self, side: Side) -> bool {
        self.exact_number_text[side.index()]
    }
}

/// Which columns to compare.
#[derive(Debug, Clone, Default)]
pub struct ColumnSelection {
    /// Key columns, by name.
    pub key: Vec<String>,
    /// Only these columns are compared (besides the key), when given.
    pub columns: Option<Vec<String>>,
    /// These columns are not compared.
    pub exclude: Vec<String>,
    /// Renames, types, normalizers and tolerances per column.
    pub mappings: Vec<ColumnMapping>,
}

/// The resolved comparison: key columns, compared columns, and what was left out.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    /// Key column pairs, in the order given.
    pub keys: Vec<ColumnPair>,
    /// Compared column pairs, in source order.
    pub columns: Vec<ColumnPair>,
    /// Columns that exist only on the source.
    pub only_in_source: Vec<String>,
    /// Columns that exist only on the target.
    pub only_in_target: Vec<String>,
    /// Columns on both sides that were left out (by `--exclude` or `--columns`).
    pub excluded: Vec<String>,
    /// Schema indices each side must read, ascending.
    #[serde(skip)]
    pub projections: [Vec<usize>; 2],
    /// Where each side is read from, as every report shows it (password hidden, a
    /// database source's table, query and filter included).
    #[serde(skip)]
    pub locations: [String; 2],
}

impl Plan {
    /// Matches the two schemas according to `selection`.
    pub fn resolve(
        schemas: [&Schema; 2],
        uris: [&str; 2],
        selection: &ColumnSelection,
    ) -> Result<Plan> {
        if selection.key.is_empty() {
            return Err(Error::Config(
                "no key given: name the column(s) that identify a row (key = [\"order_id\"] in a job file or --key order_id; several: key = [\"region\", \"id\"] or --key region,id)".into(),
            ));
        }
        let resolver = Resolver::locate_mappings(schemas, uris, selection)?;
        resolver.check_no_mapping_takes_a_key_target()?;
        let keys = resolver.key_pairs()?;
        resolver.check_exclusions(&keys)?;
        let chosen = resolver.chosen_columns(&keys)?;
        let mut target_used = resolver.targets_taken(&keys);
        let by_name = resolver.pair_by_name(&keys, &mut target_used);
        let mut compared = resolver.compared_pairs(&keys, &by_name, chosen.as_deref())?;
        let mut only_in_target: Vec<String> = resolver
            .target
            .fields()
            .iter()
            .zip(&target_used)
            .filter(|(_, used)| !**used)
            .map(|(f, _)| f.name().clone())
            .collect();
        resolver.report_one_sided_exclusions(
            [&mut compared.only_in_source, &mut only_in_target],
            &mut compared.excluded,
        );
        let projections = projections(&keys, &compared.columns);
        Ok(Plan {
            keys,
            columns: compared.columns,
            only_in_source: compared.only_in_source,
            only_in_target,
            excluded: compared.excluded,
            projections,
            locations: uris.map(str::to_string),
        })
    }

    /// Where schema column `index` of `side` sits in a projected batch.
    pub fn position(&self, side: Side, index: usize) -> usize {
        self.projections[side.index()]
            .binary_search(&index)
            .expect("column is in the projection")
    }
}

/// The schema indices each side reads, ascending: the key and compared columns.
fn projections(keys: &[ColumnPair], columns: &[ColumnPair]) -> [Vec<usize>; 2] {
    Side::BOTH.map(|side| {
        let mut p: Vec<usize> = keys.iter().chain(columns).map(|c| c.index(side)).collect();
        p.sort_unstable();
        p.dedup();
        p
    })
}

/// What [`Plan::resolve`] works from: both schemas, where they come from, the selection,
/// and each mapping's source and target column.
struct Resolver<'a> {
    source: &'a Schema,
    target: &'a Schema,
    uris: [&'a str; 2],
    selection: &'a ColumnSelection,
    mapped: Vec<(usize, usize, &'a ColumnMapping)>,
}

/// The non-key source columns sorted into compared pairs, excluded and one-sided names.
struct Compared {
    columns: Vec<ColumnPair>,
    only_in_source: Vec<String>,
    excluded: Vec<String>,
}

impl<'a> Resolver<'a> {
    /// Finds each mapping's columns; each column may be mapped once.
    fn locate_mappings(
        [source, target]: [&'a Schema; 2],
        uris: [&'a str; 2],
        selection: &'a ColumnSelection,
    ) -> Result<Self> {
        let mut mapped: Vec<(usize, usize, &ColumnMapping)> = Vec::new();
        for m in &selection.mappings {
            let s = find_column(source, &m.source, Side::Source, uris[0], "mapped column")?;
            let t = find_column(target, &m.target, Side::Target, uris[1], "mapped column")?;
            if let Some((_, _, other)) = mapped.iter().find(|(ms, mt, _)| *ms == s || *mt == t) {
                return Err(Error::Config(format!(
                    "two mappings for one column: {:?} → {:?} and {:?} → {:?}; map each column once",
                    other.source, other.target, m.source, m.target
                )));
            }
            mapped.push((s, t, m));
        }
        Ok(Resolver {
            source,
            target,
            uris,
            selection,
            mapped,
        })
    }

    /// The mapping of source column `s`, with its target column.
    fn mapping_of(&self, s: usize) -> Option<(usize, &'a ColumnMapping)> {
        self.mapped
            .iter()
            .find(|(ms, _, _)| *ms == s)
            .map(|&(_, t, m)| (t, m))
    }

    /// Whether source column `s` is a key column.
    fn is_key(keys: &[ColumnPair], s: usize) -> bool {
        keys.iter().any(|k| k.source_index == s)
    }

    /// A mapping onto a key's target column from another source column would take that
    /// column away from the key.
    fn check_no_mapping_takes_a_key_target(&self) -> Result<()> {
        for name in &self.selection.key {
            let Ok(Some(s)) = lookup(self.source, name) else {
                continue;
            };
            let key_target = match self.mapping_of(s) {
                Some((t, _)) => Some(t),
                None => lookup(self.target, name).ok().flatten(),
            };
            if let Some((_, _, m)) = self
                .mapped
                .iter()
                .find(|(ms, mt, _)| *ms != s && Some(*mt) == key_target)
            {
                return Err(Error::Config(format!(
                    "mapping {:?} → {:?} points at the target column of key {name:?}; map another column",
                    m.source, m.target
                )));
            }
        }
        Ok(())
    }

    /// The key pairs, in the order given: each key column once, with no tolerance.
    fn key_pairs(&self) -> Result<Vec<ColumnPair>> {
        let mut keys: Vec<ColumnPair> = Vec::new();
        for name in &self.selection.key {
            let s = find_column(self.source, name, Side::Source, self.uris[0], "key column")?;
            let (t, mapping) = match self.mapping_of(s) {
                Some((t, m)) => (t, Some(m)),
                None => (
                    find_column(self.target, name, Side::Target, self.uris[1], "key column")?,
                    None,
                ),
            };
            if keys
                .iter()
                .any(|k| k.source_index == s || k.target_index == t)
            {
                return Err(Error::Config(format!(
                    "the key names column {name:?} twice; give each key column once"
                )));
            }
            if mapping.is_some_and(|m| m.tolerance.is_some()) {
                return Err(Error::Config(format!(
                    "key column {name:?} has a tolerance; keys compare exactly (normalizers are allowed)"
                )));
            }
            keys.push(pair(self.source, self.target, s, t, mapping)?);
        }
        Ok(keys)
    }

    /// Each excluded name is a column of some side, neither a key nor mapped.
    fn check_exclusions(&self, keys: &[ColumnPair]) -> Result<()> {
        for name in &self.selection.exclude {
            let in_source = lookup(self.source, name).ok().flatten();
            let in_target = lookup(self.target, name).ok().flatten();
            if in_source.is_none() && in_target.is_none() {
                return Err(Error::Config(format!(
                    "the excluded columns include {name:?}, which neither side has{}",
                    suggestion(name, [self.source, self.target])
                )));
            }
            if keys
                .iter()
                .any(|k| Some(k.source_index) == in_source || Some(k.target_index) == in_target)
            {
                return Err(Error::Config(format!(
                    "the excluded columns include key column {name:?}; a key column is always compared"
                )));
            }
            if let Some((_, _, m)) = self
                .mapped
                .iter()
                .find(|(s, t, _)| Some(*s) == in_source || Some(*t) == in_target)
            {
                return Err(Error::Config(format!(
                    "column {name:?} is both excluded and mapped ({:?} → {:?}); drop one of the two",
                    m.source, m.target
                )));
            }
        }
        Ok(())
    }

    /// The source columns the selection names to compare, when it names some; they must
    /// include one besides the key.
    fn chosen_columns(&self, keys: &[ColumnPair]) -> Result<Option<Vec<usize>>> {
        let Some(names) = &self.selection.columns else {
            return Ok(None);
        };
        let mut chosen = Vec::new();
        for name in names {
            chosen.push(find_column(
                self.source,
                name,
                Side::Source,
                self.uris[0],
                "column",
            )?);
        }
        if chosen.iter().all(|s| Self::is_key(keys, *s)) {
            return Err(Error::Config(
                "the columns to compare name none besides the key (the key is always compared); name the columns to compare, or leave the list out (include in a job file or --columns) to compare all".into(),
            ));
        }
        Ok(Some(chosen))
    }

    /// Which target columns the keys and mappings take.
    fn targets_taken(&self, keys: &[ColumnPair]) -> Vec<bool> {
        let mut taken = vec![false; self.target.fields().len()];
        for t in keys.iter().map(|k| k.target_index) {
            taken[t] = true;
        }
        for (_, t, _) in &self.mapped {
            taken[*t] = true;
        }
        taken
    }

    /// The target column each unmapped, non-key source column pairs with by name, taking
    /// it in `target_used`. Exact names pair first, so "amount" meets "amount" even when
    /// a source "Amount" comes earlier; letter case is ignored only for what is left, and
    /// only when one target column is left to match.
    fn pair_by_name(&self, keys: &[ColumnPair], target_used: &mut [bool]) -> Vec<Option<usize>> {
        let fields = self.source.fields();
        let unpaired = |s: usize| !Self::is_key(keys, s) && self.mapping_of(s).is_none();
        let mut by_name: Vec<Option<usize>> = vec![None; fields.len()];
        for (s, field) in fields.iter().enumerate() {
            if !unpaired(s) {
                continue;
            }
            if let Some(t) = self
                .target
                .fields()
                .iter()
                .position(|f| f.name() == field.name())
                && !target_used[t]
            {
                target_used[t] = true;
                by_name[s] = Some(t);
            }
        }
        for (s, field) in fields.iter().enumerate() {
            if by_name[s].is_some() || !unpaired(s) {
                continue;
            }
            let matches: Vec<usize> = self
                .target
                .fields()
                .iter()
                .enumerate()
                .filter(|(t, f)| !target_used[*t] && f.name().eq_ignore_ascii_case(field.name()))
                .map(|(t, _)| t)
                .collect();
            if let [t] = matches.as_slice() {
                target_used[*t] = true;
                by_name[s] = Some(*t);
            }
        }
        by_name
    }

    /// A one-sided column the user excluded by name is reported as excluded.
    fn report_one_sided_exclusions(
        &self,
        one_sided: [&mut Vec<String>; 2],
        excluded: &mut Vec<String>,
    ) {
        for list in one_sided {
            list.retain(|name| {
                let named = self
                    .selection
                    .exclude
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(name));
                if named {
                    excluded.push(name.clone());
                }
                !named
            });
        }
    }

    /// The non-key source columns, in source order: compared (mapped, or paired by name
    /// and neither excluded nor left out of the chosen columns), excluded, or one-sided.
    fn compared_pairs(
        &self,
        keys: &[ColumnPair],
        by_name: &[Option<usize>],
        chosen: Option<&[usize]>,
    ) -> Result<Compared> {
        let mut compared = Compared {
            columns: Vec::new(),
            only_in_source: Vec::new(),
            excluded: Vec::new(),
        };
        for (s, field) in self.source.fields().iter().enumerate() {
            if Self::is_key(keys, s) {
                continue;
            }
            let (t, mapping) = match (self.mapping_of(s), by_name[s]) {
                (Some((t, m)), _) => (t, Some(m)),
                (None, Some(t)) => (t, None),
                (None, None) => {
                    compared.only_in_source.push(field.name().clone());
                    continue;
                }
            };
            let is_excluded = self.selection.exclude.iter().any(|e| {
                e == field.name()
                    || e == self.target.field(t).name()
                    || (lookup(self.source, e).ok().flatten() == Some(s))
            });
            let not_chosen = chosen.is_some_and(|c| !c.contains(&s));
            if is_excluded || (not_chosen && mapping.is_none()) {
                compared.excluded.push(field.name().clone());
                continue;
            }
            compared
                .columns
                .push(pair(self.source, self.target, s, t, mapping)?);
        }
        Ok(compared)
    }
}

/// Finds `name` in `schema`: exactly, else case-insensitively when that is unambiguous.
fn lookup(schema: &Schema, name: &str) -> Result<Option<usize>, Vec<String>> {
    if let Some(i) = schema.fields().iter().position(|f| f.name() == name) {
        return Ok(Some(i));
    }
    let folded: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.name().eq_ignore_ascii_case(name))
        .map(|(i, _)| i)
        .collect();
    match folded.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many => Err(many
            .iter()
            .map(|&i| schema.field(i).name().clone())
            .collect()),
    }
}

/// A file read with the wrong delimiter has one column whose name holds the real one.
fn delimiter_hint(schema: &Schema) -> String {
    let [only] = schema.fields().as_ref() else {
        return String::new();
    };
    [
        (';', "';'", ";"),
        ('\t', "tab", "\\t"),
        ('|', "'|'", "|"),
        (',', "','", ","),
    ]
    .iter()
    .find(|(c, _, _)| only.name().contains(*c))
    .map(|(_, name, written)| {
        format!(
            " (one column whose name holds {name}: is the file delimited by {name}? set the delimiter: delimiter = \"{written}\" under [source] or [target] in a job file or --delimiter '{written}')"
        )
    })
        .unwrap_or_default()
}

fn find_column(schema: &Schema, name: &str, side: Side, uri: &str, what: &str) -> Result<usize> {
    match lookup(schema, name) {
        Ok(Some(i)) => Ok(i),
        Ok(None) => Err(Error::Schema {
            side,
            uri: uri.to_string(),
            message: format!(
                "{what} {name:?} not found{}; its columns are: {}{}",
                suggestion(name, [schema, schema]),
                column_list(schema),
                delimiter_hint(schema)
            ),
        }),
        Err(candidates) => Err(Error::Schema {
            side,
            uri: uri.to_string(),
            message: format!(
                "{what} {name:?} matches several columns when letter case is ignored ({}); write the name exactly",
                candidates.join(", ")
            ),
        }),
    }
}

fn column_list(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// ` (did you mean "x"?)` for the closest existing name, when one is close.
fn suggestion(name: &str, schemas: [&Schema; 2]) -> String {
    let lower = name.to_lowercase();
    schemas
        .iter()
        .flat_map(|s| s.fields().iter())
        .map(|f| (edit_distance(&lower, &f.name().to_lowercase()), f.name()))
        .filter(|(d, _)| {
            let allowed = match lower.chars().count() {
                0..=3 => 1,
                4..=8 => 2,
                n => n / 4 + 1,
            };
            *d < lower.chars().count() && *d <= allowed
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!(" (did you mean {c:?}?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// What kind of values an Arrow type holds, for choosing a comparison type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Integer,
    Decimal,
    Float32,
    Float64,
    Bool,
    Date,
    Timestamp { zoned: bool },
    Binary,
}

fn kind_of(data_type: &DataType) -> Option<Kind> {
    if !canonical::supported(data_type) {
        return None;
    }
    Some(match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Kind::Text,
        DataType::Binary | DataType::LargeBinary | DataType::FixedSizeBinary(_) => Kind::Binary,
        DataType::Decimal128(_, _) => Kind::Decimal,
        DataType::Float32 => Kind::Float32,
        DataType::Float64 => Kind::Float64,
        DataType::Boolean => Kind::Bool,
        DataType::Date32 | DataType::Date64 => Kind::Date,
        DataType::Timestamp(_, tz) => Kind::Timestamp {
            zoned: tz.is_some(),
        },
        _ => Kind::Integer,
    })
}

fn pair(
    source: &Schema,
    target: &Schema,
    s: usize,
    t: usize,
    mapping: Option<&ColumnMapping>,
) -> Result<ColumnPair> {
    let fields = [source.field(s), target.field(t)];
    let (source_kind, source_exact_text) = field_kind(Side::Source, fields[0])?;
    let (target_kind, target_exact_text) = field_kind(Side::Target, fields[1])?;
    let kinds = [source_kind, target_kind];
    let mut pair = ColumnPair {
        source: fields[0].name().clone(),
        target: fields[1].name().clone(),
        source_index: s,
        target_index: t,
        source_type: fields[0].data_type().to_string(),
        target_type: fields[1].data_type().to_string(),
        compare_as: CompareAs::Text,
        notes: Vec::new(),
        declared_type: None,
        normalizers: SideLists::default(),
        tolerance: None,
        mapped: None,
        owner: mapping.and_then(|m| m.owner.clone()),
        sensitive: mapping.is_some_and(|m| m.sensitive),
        exact_number_text: [source_exact_text, target_exact_text],
    };
    // A mapping that only renames compares like a plain pair (the direct, faster path).
    let mapping = mapping.filter(|m| {
        m.declared.is_some() || m.tolerance.is_some() || m.steps.iter().any(|s| !s.is_empty())
    });
    match mapping {
        None => {
            let (compare_as, notes) =
                compare_as(kinds[0], kinds[1]).ok_or_else(|| incomparable_types(fields))?;
            pair.compare_as = compare_as;
            pair.notes = notes;
        }
        Some(m) => apply_mapping(&mut pair, m, kinds, fields)?,
    }
    Ok(pair)
}

/// The kind of values a field holds, and whether it is text holding exact numbers (a
/// source marks such text, as PostgreSQL numeric): those compare as numbers.
fn field_kind(side: Side, field: &Field) -> Result<(Kind, bool)> {
    let kind = kind_of(field.data_type()).ok_or_else(|| {
        Error::Config(format!(
            "{side} column {:?} has type {}, which recon cannot compare yet; leave it out (exclude = [{:?}] in a job file or --exclude {}; for a key column: choose another key, or store the column as text or integers)",
            field.name(),
            field.data_type(),
            field.name(),
            field.name()
        ))
    })?;
    if kind == Kind::Text && crate::source::holds_exact_number_text(field) {
        Ok((Kind::Decimal, true))
    } else {
        Ok((kind, false))
    }
}

fn incomparable_types([source, target]: [&Field; 2]) -> Error {
    Error::Config(format!(
        "column {:?} is {} on the source and {} on the target, which cannot be compared; leave it out (exclude = [{:?}] in a job file or --exclude {}), or declare a comparison type in a job file",
        source.name(),
        source.data_type(),
        target.data_type(),
        source.name(),
        source.name()
    ))
}

/// Fills in a mapped pair: its steps per side, the comparison type (declared, else from
/// what the steps leave), the checks a declared type makes after the cast, its tolerance,
/// and notes on how text is read.
fn apply_mapping(
    pair: &mut ColumnPair,
    m: &ColumnMapping,
    kinds: [Kind; 2],
    fields: [&Field; 2],
) -> Result<()> {
    // Declared text steps (uuid, json) run after the user's steps.
    let mut steps = m.steps.clone();
    if let Some(extra) = m.declared.and_then(Declared::text_step) {
        for side_steps in &mut steps {
            side_steps.push(extra.clone());
        }
    }
    let after = [
        kind_after(kinds[0], &steps[0], Side::Source, fields[0])?,
        kind_after(kinds[1], &steps[1], Side::Target, fields[1])?,
    ];
    let (compare_as, mut notes) = match m.declared {
        Some(declared) => declared_comparison(declared, after, fields)?,
        None => compare_as(after[0], after[1]).ok_or_else(|| {
            Error::Config(format!(
                "column {:?} → {:?} holds {} on the source and {} on the target (after normalizers), which cannot be compared; declare a type or add normalizers",
                fields[0].name(),
                fields[1].name(),
                kind_name(after[0]),
                kind_name(after[1])
            ))
        })?,
    };
    if m.tolerance.is_some()
        && !matches!(
            compare_as,
            CompareAs::Number | CompareAs::Float64 | CompareAs::Float32
        )
    {
        return Err(Error::Config(format!(
            "column {:?} has a tolerance but is compared as {compare_as}; tolerances apply to numbers",
            fields[0].name()
        )));
    }
    for (side, start, end) in [
        (Side::Source, kinds[0], after[0]),
        (Side::Target, kinds[1], after[1]),
    ] {
        if start == Kind::Text && compare_as != CompareAs::Text && compare_as != CompareAs::Binary {
            let how = if end == Kind::Text {
                "after its normalizers"
            } else {
                "by its normalizers"
            };
            notes.push(format!("{side} text read as {compare_as} {how}"));
        }
    }
    pair.compare_as = compare_as;
    pair.notes = notes;
    pair.declared_type = m.declared.map(|d| d.to_string());
    pair.normalizers = SideLists {
        source: steps[0].iter().map(ToString::to_string).collect(),
        target: steps[1].iter().map(ToString::to_string).collect(),
    };
    pair.tolerance = m.tolerance.as_ref().map(describe_tolerance);
    pair.mapped = Some(Arc::new(Mapped {
        steps,
        post: m.declared.map(Declared::post_steps).unwrap_or_default(),
        tolerance: m.tolerance,
    }));
    Ok(())
}

/// The declared comparison type, when what each side holds after its steps can be cast
/// to it.
fn declared_comparison(
    declared: Declared,
    after: [Kind; 2],
    fields: [&Field; 2],
) -> Result<(CompareAs, Vec<String>)> {
    let compare_as = declared.compare_as();
    for (side, kind, field) in [
        (Side::Source, after[0], fields[0]),
        (Side::Target, after[1], fields[1]),
    ] {
        if !castable(kind, compare_as) {
            return Err(Error::Config(format!(
                "{side} column {:?} holds {} (after its normalizers), which cannot be compared as {declared}",
                field.name(),
                kind_name(kind)
            )));
        }
    }
    Ok((
        compare_as,
        vec![format!("compared as declared type {declared}")],
    ))
}

fn describe_tolerance(t: &Tolerance) -> String {
    let mut parts = Vec::new();
    if let Some((m, s)) = t.abs {
        parts.push(format!("abs {}", number::format_decimal(m, s)));
    }
    if let Some(rel) = t.rel {
        parts.push(format!("rel {rel}"));
    }
    format!("within {} (inclusive)", parts.join(" or "))
}

/// The kind of a side's values after its steps; refuses a step that does not fit.
fn kind_after(start: Kind, steps: &[Step], side: Side, field: &Field) -> Result<Kind> {
    let mut kind = start;
    for step in steps {
        if matches!(step, Step::Timezone(_)) && kind == (Kind::Timestamp { zoned: true }) {
            return Err(Error::Config(format!(
                "normalizer `{step}`: {side} column {:?} already holds instants (a time-zone-aware type); a time zone applies to wall-clock times only, so drop it",
                field.name()
            )));
        }
        let fits = match step.input() {
            Input::Text => kind == Kind::Text,
            Input::Number => matches!(
                kind,
                Kind::Text | Kind::Integer | Kind::Decimal | Kind::Float32 | Kind::Float64
            ),
            Input::Timestamp => matches!(kind, Kind::Text | Kind::Timestamp { .. }),
        };
        if !fits {
            let wants = match step.input() {
                Input::Text => "text",
                Input::Number => "numbers",
                Input::Timestamp => "timestamps",
            };
            return Err(Error::Config(format!(
                "normalizer `{step}` works on {wants}, but {side} column {:?} holds {} at that point; drop it or declare a type that fits",
                field.name(),
                kind_name(kind)
            )));
        }
        kind = match (step, step.output()) {
            (_, Some(CompareAs::Bool)) => Kind::Bool,
            (_, Some(CompareAs::Date)) => Kind::Date,
            (Step::ParseTimestamp(_), _) => Kind::Timestamp { zoned: false },
            (Step::Timezone(_), _) => Kind::Timestamp { zoned: true },
            (_, Some(CompareAs::Timestamp)) => match kind {
                Kind::Timestamp { zoned } => Kind::Timestamp { zoned },
                _ => Kind::Timestamp { zoned: false },
            },
            _ if step.input() == Input::Number => match kind {
                Kind::Float32 | Kind::Float64 => kind,
                _ => Kind::Decimal,
            },
            _ => kind,
        };
    }
    Ok(kind)
}

fn castable(kind: Kind, to: CompareAs) -> bool {
    matches!(
        (kind, to),
        (Kind::Text, _)
            | (_, CompareAs::Text)
            | (
                Kind::Integer | Kind::Decimal | Kind::Float32 | Kind::Float64,
                CompareAs::Number | CompareAs::Float64 | CompareAs::Float32
            )
            | (Kind::Bool, CompareAs::Bool)
            | (Kind::Date, CompareAs::Date)
            | (Kind::Timestamp { .. }, CompareAs::Timestamp)
            | (Kind::Binary, CompareAs::Binary)
    )
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "text",
        Kind::Integer => "integers",
        Kind::Decimal => "decimals",
        Kind::Float32 | Kind::Float64 => "floats",
        Kind::Bool => "booleans",
        Kind::Date => "dates",
        Kind::Timestamp { .. } => "timestamps",
        Kind::Binary => "bytes",
    }
}

/// The comparison type of two kinds, and notes on any reading that is not plain equality.
fn compare_as(a: Kind, b: Kind) -> Option<(CompareAs, Vec<String>)> {
    use Kind::*;
    let typed = |k: Kind| -> (CompareAs, Vec<String>) {
        match k {
            Text => (CompareAs::Text, vec![]),
            Integer | Decimal => (
                CompareAs::Number,
                vec!["text read as an exact decimal".into()],
            ),
            Float32 => (CompareAs::Float32, vec!["text read as float32".into()]),
            Float64 => (CompareAs::Float64, vec!["text read as float64".into()]),
            Bool => (
                CompareAs::Bool,
                vec!["text read as true/false or t/f".into()],
            ),
            Date => (CompareAs::Date, vec!["text read as YYYY-MM-DD".into()]),
            Timestamp { zoned } => (
                CompareAs::Timestamp,
                vec![if zoned {
                    "text read as ISO 8601; an offset is converted to UTC, no offset means UTC"
                        .into()
                } else {
                    "text read as ISO 8601; an offset is converted to UTC".into()
                }],
            ),
            Binary => (
                CompareAs::Binary,
                vec!["text compared as its UTF-8 bytes".into()],
            ),
        }
    };
    Some(match (a, b) {
        (Text, other) | (other, Text) => typed(other),
        (Integer | Decimal, Integer | Decimal) => (CompareAs::Number, vec![]),
        (Float32, Float32) => (CompareAs::Float32, vec![]),
        (Float64, Float64) => (CompareAs::Float64, vec![]),
        (Float32 | Float64, Float32 | Float64) => (
            CompareAs::Float64,
            vec!["float32 widened to float64".into()],
        ),
        (Float32 | Float64, Integer | Decimal) | (Integer | Decimal, Float32 | Float64) => (
            CompareAs::Float64,
            vec!["exact number equal to a float64 only if the float is that number (its shortest decimal), so dropped digits show".into()],
        ),
        (Bool, Bool) => (CompareAs::Bool, vec![]),
        (Date, Date) => (CompareAs::Date, vec![]),
        (Timestamp { zoned: x }, Timestamp { zoned: y }) => (
            CompareAs::Timestamp,
            if x == y {
                vec![]
            } else {
                vec!["a timestamp without time zone is read as UTC".into()]
            },
        ),
        (Binary, Binary) => (CompareAs::Binary, vec![]),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use arrow_schema::{Field, TimeUnit};

    use super::*;

    fn schema(fields: &[(&str, DataType)]) -> Schema {
        Schema::new(
            fields
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect::<Vec<_>>(),
        )
    }

    fn selection(key: &[&str]) -> ColumnSelection {
        ColumnSelection {
            key: key.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn matches_by_name_case_insensitively_and_lists_one_sided_columns() {
        let s = schema(&[
            ("id", DataType::Utf8),
            ("Amount", DataType::Utf8),
            ("old", DataType::Utf8),
        ]);
        let t = schema(&[
            ("ID", DataType::Int64),
            ("amount", DataType::Decimal128(10, 2)),
            ("new", DataType::Utf8),
        ]);
        let plan = Plan::resolve([&s, &t], ["s", "t"], &selection(&["id"])).unwrap();
        assert_eq!(plan.keys[0].compare_as, CompareAs::Number);
        assert_eq!(plan.columns.len(), 1);
        assert_eq!(plan.columns[0].target, "amount");
        assert_eq!(plan.only_in_source, vec!["old"]);
        assert_eq!(plan.only_in_target, vec!["new"]);
        assert_eq!(plan.projections, [vec![0, 1], vec![0, 1]]);
    }

    #[test]
    fn missing_key_lists_columns_and_suggests() {
        let s = schema(&[("order_id", DataType::Utf8)]);
        let t = schema(&[("orderid", DataType::Utf8), ("x", DataType::Utf8)]);
        let err = Plan::resolve([&s, &t], ["s.csv", "t.csv"], &selection(&["order_id"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("target t.csv"), "{err}");
        assert!(err.contains("did you mean \"orderid\""), "{err}");
        assert!(err.contains("orderid, x"), "{err}");
    }

    #[test]
    fn repeated_key_and_excluded_key_are_errors() {
        let s = schema(&[("id", DataType::Utf8), ("v", DataType::Utf8)]);
        let err = Plan::resolve([&s, &s], ["s", "t"], &selection(&["id", "ID"])).unwrap_err();
        assert!(err.to_string().contains("twice"));
        let mut sel = selection(&["id"]);
        sel.exclude = vec!["id".into()];
        assert!(Plan::resolve([&s, &s], ["s", "t"], &sel).is_err());
        sel.exclude = vec!["nope".into()];
        assert!(Plan::resolve([&s, &s], ["s", "t"], &sel).is_err());
    }

    #[test]
    fn columns_and_exclude_narrow_the_set() {
        let s = schema(&[
            ("id", DataType::Utf8),
            ("a", DataType::Utf8),
            ("b", DataType::Utf8),
            ("c", DataType::Utf8),
        ]);
        let mut sel = selection(&["id"]);
        sel.exclude = vec!["b".into()];
        let plan = Plan::resolve([&s, &s], ["s", "t"], &sel).unwrap();
        assert_eq!(
            plan.columns
                .iter()
                .map(|c| c.source.as_str())
                .collect::<Vec<_>>(),
            ["a", "c"]
        );
        assert_eq!(plan.excluded, ["b"]);
        sel.exclude.clear();
        sel.columns = Some(vec!["c".into()]);
        let plan = Plan::resolve([&s, &s], ["s", "t"], &sel).unwrap();
        assert_eq!(plan.columns.len(), 1);
        assert_eq!(plan.excluded, ["a", "b"]);
    }

    #[test]
    fn exact_number_text_is_resolved_into_the_pair_per_side() {
        let numeric = crate::source::exact_number_text(Field::new("amount", DataType::Utf8, true));
        let s = Schema::new(vec![
            Field::new("id", DataType::Utf8, true),
            numeric,
            Field::new("note", DataType::Utf8, true),
        ]);
        let t = schema(&[
            ("id", DataType::Utf8),
            ("amount", DataType::Float64),
            ("note", DataType::Utf8),
        ]);
        let plan = Plan::resolve([&s, &t], ["s", "t"], &selection(&["id"])).unwrap();
        let [amount, note] = plan.columns.as_slice() else {
            panic!("two compared columns");
        };
        assert_eq!(amount.compare_as, CompareAs::Float64);
        assert!(amount.holds_exact_number_text(Side::Source));
        assert!(!amount.holds_exact_number_text(Side::Target));
        assert_eq!(note.compare_as, CompareAs::Text);
        assert!(!note.holds_exact_number_text(Side::Source));
    }

    #[test]
    fn incompatible_types_are_refused_with_advice() {
        let s = schema(&[("id", DataType::Utf8), ("d", DataType::Date32)]);
        let t = schema(&[("id", DataType::Utf8), ("d", DataType::Boolean)]);
        let err = Plan::resolve([&s, &t], ["s", "t"], &selection(&["id"])).unwrap_err();
        assert!(
            err.to_string()
                .contains("leave it out (exclude = [\"d\"] in a job file or --exclude d)"),
            "{err}"
        );
        let t = schema(&[
            ("id", DataType::Utf8),
            ("d", DataType::Timestamp(TimeUnit::Microsecond, None)),
        ]);
        assert!(Plan::resolve([&s, &t], ["s", "t"], &selection(&["id"])).is_err());
    }
}
