//! Job files: a TOML description of one reconciliation (sources, key, column mappings,
//! criteria), read into a [`JobFile`]; [`super::build_job`] puts the overrides on top
//! and makes it a `Job`. This module owns the file's syntax and its error messages (the
//! file, and line and column for syntax errors, the entry otherwise); it runs nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::build::Notice;
use crate::error::{Error, Result};
use crate::metrics::{Amount, Category, ColumnCriteria, Criteria, Percent};
use crate::normalize::steps::{Step, TimeUnit, Tolerance, valid_timestamp_format};
use crate::normalize::text::parse_decimal;
use crate::normalize::{ColumnMapping, Declared};

/// A parsed job file, before command-line flags are applied.
#[derive(Debug, Clone, Default)]
pub struct JobFile {
    /// Source location and options.
    pub source: Option<SideFile>,
    /// Target location and options.
    pub target: Option<SideFile>,
    /// Key columns (source names).
    pub key: Vec<String>,
    /// Only these columns are compared, when given.
    pub include: Option<Vec<String>>,
    /// These columns are not compared.
    pub exclude: Vec<String>,
    /// Column mappings.
    pub mappings: Vec<ColumnMapping>,
    /// Rollback criteria.
    pub criteria: Criteria,
    /// Who owns the table (receives missing, extra, duplicate and NULL-key rows, and the
    /// columns without an owner of their own).
    pub owner: Option<String>,
    /// Cap on stored difference lines.
    pub max_diff_rows: Option<u64>,
    /// What a person should know about the file (a threshold that reads like a fraction).
    pub notices: Vec<Notice>,
}

/// One side of a job file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SideFile {
    /// Path of the data (relative paths are relative to the job file).
    pub uri: String,
    /// CSV delimiter.
    pub delimiter: Option<String>,
    /// PostgreSQL table (`schema.table`), instead of `?table=` in the uri.
    pub table: Option<String>,
    /// PostgreSQL query, instead of a table.
    pub query: Option<String>,
    /// PostgreSQL row filter (SQL).
    #[serde(rename = "where")]
    pub filter: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob {
    source: Option<SideFile>,
    target: Option<SideFile>,
    #[serde(default)]
    key: Option<OneOrMany>,
    include: Option<Vec<String>>,
    #[serde(default)]
    exclude: Vec<String>,
    max_diff_rows: Option<u64>,
    owner: Option<String>,
    criteria: Option<RawCriteria>,
    #[serde(default)]
    columns: Vec<RawColumn>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "a text or a list of texts")]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriteria {
    min_accuracy: Option<toml::Value>,
    max_missing_in_target: Option<toml::Value>,
    max_extra_in_target: Option<toml::Value>,
    max_changed: Option<toml::Value>,
    max_duplicate_keys: Option<toml::Value>,
    max_null_keys: Option<toml::Value>,
    min_rows: Option<toml::Value>,
    max_row_drift: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    source: String,
    target: Option<String>,
    #[serde(rename = "type")]
    declared: Option<String>,
    null_values: Option<Vec<String>>,
    #[serde(default)]
    normalize: Vec<toml::Value>,
    #[serde(default)]
    source_normalize: Vec<toml::Value>,
    #[serde(default)]
    target_normalize: Vec<toml::Value>,
    value_map: Option<BTreeMap<String, String>>,
    target_value_map: Option<BTreeMap<String, String>>,
    source_format: Option<OneOrMany>,
    target_format: Option<OneOrMany>,
    source_timezone: Option<String>,
    target_timezone: Option<String>,
    source_scale: Option<toml::Value>,
    target_scale: Option<toml::Value>,
    precision: Option<String>,
    rounding: Option<String>,
    tolerance: Option<RawTolerance>,
    owner: Option<String>,
    #[serde(default)]
    sensitive: bool,
    #[serde(default)]
    critical: bool,
    min_accuracy: Option<toml::Value>,
    max_mismatched: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table like { abs = 0.5 } or { rel = 0.001 }"
)]
struct RawTolerance {
    abs: Option<toml::Value>,
    rel: Option<f64>,
}

/// Every normalizer name a job file accepts, for suggestions.
const STEP_NAMES: &[&str] = &[
    "trim",
    "ltrim",
    "rtrim",
    "lower",
    "upper",
    "collapse_whitespace",
    "nfc",
    "uuid",
    "json",
    "date",
    "bool",
    "null_if",
    "map",
    "scale",
    "round",
    "format",
    "timezone",
    "truncate",
    "round_time",
];

impl JobFile {
    /// Reads and checks a job file.
    pub fn read(path: &Path) -> Result<JobFile> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses job file text; `path` names it in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<JobFile> {
        let raw: RawJob = parse_toml(text, path)?;
        Self::from_raw(raw, path, path.display().to_string())
    }

    /// Reads a job given as a TOML table inside another file (a suite's `[[tables]]`
    /// entry): `path` anchors relative paths, `label` names the entry in errors (e.g.
    /// `nightly.toml: [[tables]] "orders"`).
    pub fn from_table(table: toml::Table, path: &Path, label: &str) -> Result<JobFile> {
        let raw = RawJob::deserialize(toml::Value::Table(table))
            .map_err(|e| Error::Config(format!("{label}: {}", e.message().trim_end())))?;
        Self::from_raw(raw, path, label.to_string())
    }

    fn from_raw(raw: RawJob, path: &Path, label: String) -> Result<JobFile> {
        let base = path.parent().unwrap_or(Path::new(""));
        let locate = |side: Option<SideFile>| {
            side.map(|mut s| {
                s.uri = resolve(base, &s.uri);
                s
            })
        };
        let at = |what: String| Error::Config(format!("{label}: {what}"));
        let mut notices = Vec::new();
        let mut threshold = |value: &toml::Value, setting: String| {
            let text = scalar_text(value);
            if Percent::reads_as_fraction(&text) {
                notices.push(Notice::AccuracyLooksLikeFraction {
                    setting: format!("{label}: {setting}"),
                    text: text.clone(),
                });
            }
            Percent::parse(&text)
        };
        let mut mappings = Vec::new();
        let mut column_criteria = Vec::new();
        for (i, column) in raw.columns.into_iter().enumerate() {
            let label = format!("[[columns]] #{} ({:?})", i + 1, column.source);
            let criteria = ColumnCriteria {
                column: column.source.clone(),
                min_accuracy: column
                    .min_accuracy
                    .as_ref()
                    .map(|v| threshold(v, format!("{label}: min_accuracy")))
                    .transpose()
                    .map_err(|e| at(format!("{label}: min_accuracy: {e}")))?,
                max_mismatched: column
                    .max_mismatched
                    .as_ref()
                    .map(|v| count(v, "max_mismatched"))
                    .transpose()
                    .map_err(|e| at(format!("{label}: {e}")))?,
                critical: column.critical,
            };
            let unset = ColumnCriteria {
                column: column.source.clone(),
                ..Default::default()
            };
            if criteria != unset {
                column_criteria.push(criteria);
            }
            mappings.push(mapping(column).map_err(|e| at(format!("{label}: {e}")))?);
        }
        let mut criteria = Criteria {
            columns: column_criteria,
            ..Criteria::default()
        };
        if let Some(c) = raw.criteria {
            let check = |r: Result<Amount>, name: &str| {
                r.map_err(|e| at(format!("[criteria] {name}: {e}")))
            };
            if let Some(v) = &c.min_accuracy {
                criteria.min_accuracy = Some(
                    threshold(v, "[criteria] min_accuracy".into())
                        .map_err(|e| at(format!("[criteria] min_accuracy: {e}")))?,
                );
            }
            for (category, value) in [
                (Category::MissingInTarget, &c.max_missing_in_target),
                (Category::ExtraInTarget, &c.max_extra_in_target),
                (Category::Changed, &c.max_changed),
                (Category::DuplicateKeys, &c.max_duplicate_keys),
                (Category::NullKeys, &c.max_null_keys),
            ] {
                if let Some(v) = value {
                    let amount = check(Amount::parse(&scalar_text(v)), category.criterion())?;
                    criteria.limits.push((category, amount));
                }
            }
            if let Some(v) = &c.min_rows {
                criteria.min_rows =
                    Some(count(v, "min_rows").map_err(|e| at(format!("[criteria] {e}")))?);
            }
            if let Some(v) = &c.max_row_drift {
                criteria.max_row_drift =
                    Some(check(Amount::parse(&scalar_text(v)), "max_row_drift")?);
            }
        }
        Ok(JobFile {
            source: locate(raw.source),
            target: locate(raw.target),
            key: raw.key.map(OneOrMany::into_vec).unwrap_or_default(),
            include: raw.include,
            exclude: raw.exclude,
            mappings,
            criteria,
            owner: raw.owner,
            max_diff_rows: raw.max_diff_rows,
            notices,
        })
    }
}

fn resolve(base: &Path, uri: &str) -> String {
    let p = Path::new(uri);
    // A database location is not a path.
    if uri.contains("://") || p.is_absolute() || base.as_os_str().is_empty() {
        uri.to_string()
    } else {
        PathBuf::from(base).join(p).to_string_lossy().into_owned()
    }
}

/// Parses TOML text into `T`; a syntax or shape error names `path:line:column`.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, path: &Path) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|span| line_column(text, span.start))
            .unwrap_or((1, 1));
        Error::Config(format!(
            "{}:{line}:{column}: {}",
            path.display(),
            e.message().trim_end()
        ))
    })
}

/// The 1-based line and column of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A number or string as decimal text (TOML floats print in shortest round-trip form).
pub(crate) fn scalar_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => other.type_str().to_string(),
    }
}

fn count(value: &toml::Value, what: &str) -> std::result::Result<u64, String> {
    match value {
        toml::Value::Integer(i) if *i >= 0 => Ok(*i as u64),
        other => Err(format!(
            "{what} must be a whole number of at least 0, not {}",
            scalar_text(other)
        )),
    }
}

fn decimal(value: &toml::Value, what: &str) -> std::result::Result<(i128, i8), String> {
    let text = scalar_text(value);
    parse_decimal(text.as_bytes()).ok_or_else(|| format!("{what} {text} is not a decimal number"))
}

fn mapping(c: RawColumn) -> std::result::Result<ColumnMapping, String> {
    let declared = match &c.declared {
        None => None,
        Some(t) => Some(Declared::parse(t).ok_or_else(|| {
            format!("unknown type {t:?}; use int, decimal(p,s) (p at most 38, s at most p), float, text, bool, date, timestamp, timestamptz, uuid or json")
        })?),
    };
    let both = steps(&c.normalize)?;
    let mut sides: [Vec<Step>; 2] = [Vec::new(), Vec::new()];
    let side_lists = [steps(&c.source_normalize)?, steps(&c.target_normalize)?];
    let maps = [c.value_map, c.target_value_map];
    let formats = [c.source_format, c.target_format];
    let zones = [c.source_timezone, c.target_timezone];
    let scales = [c.source_scale, c.target_scale];
    let precision = match &c.precision {
        None => None,
        Some(p) => {
            let unit =
                TimeUnit::parse(p).ok_or_else(|| format!("precision {p:?} must be s, ms or us"))?;
            Some(match c.rounding.as_deref() {
                None | Some("truncate") => Step::Truncate(unit),
                Some("round") => Step::RoundTime(unit),
                Some(other) => return Err(format!("rounding {other:?} must be truncate or round")),
            })
        }
    };
    if c.rounding.is_some() && c.precision.is_none() {
        return Err("rounding needs a precision (s, ms or us)".into());
    }
    for (i, list) in sides.iter_mut().enumerate() {
        if let Some(nulls) = &c.null_values {
            list.push(Step::NullIf(nulls.clone()));
        }
        list.extend(both.iter().cloned());
        list.extend(side_lists[i].iter().cloned());
        if let Some(map) = &maps[i] {
            list.push(Step::Map(map.clone()));
        }
        if let Some(f) = &formats[i] {
            list.push(format_step(f)?);
        }
        if let Some(zone) = &zones[i] {
            list.push(Step::Timezone(timezone(zone)?));
        }
        if let Some(scale) = &scales[i] {
            list.push(scale_step(scale)?);
        }
        if let Some(p) = &precision {
            list.push(p.clone());
        }
    }
    let tolerance = match c.tolerance {
        None => None,
        Some(t) => {
            let abs = t
                .abs
                .as_ref()
                .map(|v| decimal(v, "tolerance abs"))
                .transpose()?;
            if abs.is_some_and(|(m, _)| m < 0) || t.rel.is_some_and(|r| !r.is_finite() || r < 0.0) {
                return Err("a tolerance must be a finite number of at least 0".into());
            }
            if abs.is_none() && t.rel.is_none() {
                return Err("a tolerance needs abs, rel or both".into());
            }
            Some(Tolerance { abs, rel: t.rel })
        }
    };
    Ok(ColumnMapping {
        target: c.target.unwrap_or_else(|| c.source.clone()),
        source: c.source,
        declared,
        steps: sides,
        tolerance,
        owner: c.owner,
        sensitive: c.sensitive,
    })
}

fn scale_step(value: &toml::Value) -> std::result::Result<Step, String> {
    let (m, s) = decimal(value, "scale")?;
    if m == 0 {
        return Err(
            "a scale of 0 would make every number equal; use a factor like 100 or 0.01".into(),
        );
    }
    Ok(Step::Scale(m, s))
}

fn timezone(zone: &str) -> std::result::Result<chrono_tz::Tz, String> {
    zone.parse().map_err(|_| {
        format!(
            "unknown time zone {zone:?}; use an IANA name such as \"America/New_York\" or \"UTC\""
        )
    })
}

fn format_step(formats: &OneOrMany) -> std::result::Result<Step, String> {
    let list = match formats {
        OneOrMany::One(f) => vec![f.clone()],
        OneOrMany::Many(v) => v.clone(),
    };
    if list.is_empty() {
        return Err("a timestamp format list is empty; give at least one format".into());
    }
    for f in &list {
        if !valid_timestamp_format(f) {
            return Err(format!(
                "invalid timestamp format {f:?} (strftime syntax, e.g. \"%Y-%m-%d %H:%M:%S\")"
            ));
        }
    }
    Ok(Step::ParseTimestamp(list))
}

fn steps(values: &[toml::Value]) -> std::result::Result<Vec<Step>, String> {
    values.iter().map(step).collect()
}

fn step(value: &toml::Value) -> std::result::Result<Step, String> {
    let unknown = |name: &str| {
        let near = STEP_NAMES
            .iter()
            .filter(|n| strsim_close(name, n))
            .map(|n| format!(" (did you mean `{n}`?)"))
            .next()
            .unwrap_or_default();
        format!(
            "unknown normalizer `{name}`{near}; known: {}",
            STEP_NAMES.join(", ")
        )
    };
    match value {
        toml::Value::String(name) => Ok(match name.as_str() {
            "trim" => Step::Trim,
            "ltrim" | "trim_left" => Step::TrimLeft,
            "rtrim" | "trim_right" => Step::TrimRight,
            "lower" => Step::Lower,
            "upper" => Step::Upper,
            "collapse_whitespace" => Step::CollapseWhitespace,
            "nfc" => Step::Nfc,
            "uuid" => Step::Uuid,
            "json" => Step::Json,
            "date" => Step::Date,
            "bool" => Step::Bool {
                truthy: ["t", "true", "1", "yes", "y"].map(String::from).to_vec(),
                falsy: ["f", "false", "0", "no", "n"].map(String::from).to_vec(),
            },
            other => return Err(unknown(other)),
        }),
        toml::Value::Table(table) if table.len() == 1 => {
            let (name, arg) = table.iter().next().expect("one entry");
            let strings = |v: &toml::Value| -> std::result::Result<Vec<String>, String> {
                match v {
                    toml::Value::String(s) => Ok(vec![s.clone()]),
                    toml::Value::Array(a) => a
                        .iter()
                        .map(|x| {
                            x.as_str()
                                .map(String::from)
                                .ok_or_else(|| format!("`{name}` takes text values"))
                        })
                        .collect(),
                    _ => Err(format!("`{name}` takes text or a list of text")),
                }
            };
            Ok(match name.as_str() {
                "null_if" => Step::NullIf(strings(arg)?),
                "map" => {
                    let table = arg
                        .as_table()
                        .ok_or("`map` takes a table like { \"A\" = \"active\" }")?;
                    Step::Map(
                        table
                            .iter()
                            .map(|(k, v)| {
                                Ok((
                                    k.clone(),
                                    v.as_str().ok_or("`map` values must be text")?.to_string(),
                                ))
                            })
                            .collect::<std::result::Result<_, String>>()?,
                    )
                }
                "scale" => scale_step(arg)?,
                "round" => Step::Round(
                    arg.as_integer()
                        .and_then(|i| u8::try_from(i).ok())
                        .filter(|i| *i <= 38)
                        .ok_or("`round` takes a number of decimal places (0 to 38)")?,
                ),
                "format" => format_step(&OneOrMany::Many(strings(arg)?))?,
                "timezone" => Step::Timezone(timezone(
                    arg.as_str().ok_or("`timezone` takes a zone name")?,
                )?),
                "truncate" | "round_time" => {
                    let unit = arg
                        .as_str()
                        .and_then(TimeUnit::parse)
                        .ok_or_else(|| format!("`{name}` takes s, ms or us"))?;
                    if name == "truncate" {
                        Step::Truncate(unit)
                    } else {
                        Step::RoundTime(unit)
                    }
                }
                "bool" => {
                    let table = arg
                        .as_table()
                        .ok_or("`bool` takes { true = [...], false = [...] }")?;
                    if let Some(other) = table.keys().find(|k| *k != "true" && *k != "false") {
                        return Err(format!(
                            "`bool` takes only `true` and `false` lists, not `{other}`"
                        ));
                    }
                    let get = |k: &str| {
                        table
                            .get(k)
                            .map(strings)
                            .transpose()
                            .map(Option::unwrap_or_default)
                    };
                    let (truthy, falsy) = (get("true")?, get("false")?);
                    if truthy.is_empty() || falsy.is_empty() {
                        return Err(
                            "`bool` needs at least one spelling for true and one for false".into(),
                        );
                    }
                    Step::Bool { truthy, falsy }
                }
                other => return Err(unknown(other)),
            })
        }
        other => Err(format!(
            "a normalizer is a name like \"trim\" or a one-entry table like {{ round = 2 }}, not {}",
            other.type_str()
        )),
    }
}

/// Names one or two edits apart count as a likely typo.
fn strsim_close(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()] <= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<JobFile> {
        JobFile::parse(text, Path::new("jobs/job.toml"))
    }

    #[test]
    fn a_full_job_file() {
        let job = parse(
            r#"
            key = ["customer_id"]
            exclude = ["etl_loaded_at"]
            [source]
            uri = "legacy.csv"
            [target]
            uri = "/data/new.parquet"
            [criteria]
            min_accuracy = "99.9%"
            [[columns]]
            source = "email_address"
            target = "email"
            normalize = ["trim", "lower"]
            [[columns]]
            source = "balance"
            target = "balance_cents"
            source_scale = 100
            tolerance = { abs = 0.5 }
            [[columns]]
            source = "signup_ts"
            target = "signed_up_at"
            source_timezone = "America/New_York"
            precision = "ms"
            [[columns]]
            source = "status"
            target = "state"
            value_map = { "A" = "active", "S" = "suspended" }
            "#,
        )
        .unwrap();
        assert_eq!(job.source.unwrap().uri, "jobs/legacy.csv");
        assert_eq!(job.target.unwrap().uri, "/data/new.parquet");
        assert_eq!(job.key, ["customer_id"]);
        assert!(job.criteria.min_accuracy.unwrap().is_met_by(999, 1000));
        let m = &job.mappings;
        assert_eq!(m[0].steps[0], vec![Step::Trim, Step::Lower]);
        assert_eq!(m[0].steps[1], vec![Step::Trim, Step::Lower]);
        assert_eq!(m[1].steps[0], vec![Step::Scale(100, 0)]);
        assert!(m[1].steps[1].is_empty());
        assert_eq!(
            m[1].tolerance,
            Some(Tolerance {
                abs: Some((5, 1)),
                rel: None
            })
        );
        assert!(matches!(m[2].steps[0][0], Step::Timezone(_)));
        assert_eq!(m[2].steps[0][1], Step::Truncate(TimeUnit::Millisecond));
        assert_eq!(m[2].steps[1], vec![Step::Truncate(TimeUnit::Millisecond)]);
        assert!(matches!(m[3].steps[0][0], Step::Map(_)));
        assert_eq!(m[3].target, "state");
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = parse("key = [\"id\"]\n[source]\nuri = \"a.csv\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("jobs/job.toml:3:"), "{err}");
    }

    #[test]
    fn bad_mappings_are_explained() {
        let cases = [
            (
                "normalize = [\"lowr\"]",
                "unknown normalizer `lowr` (did you mean `lower`?)",
            ),
            (
                "source_timezone = \"Mars/Olympus\"",
                "unknown time zone \"Mars/Olympus\"",
            ),
            ("source_format = \"%Y-%Q\"", "invalid timestamp format"),
            ("type = \"number\"", "unknown type \"number\""),
            ("tolerance = { abs = -1 }", "finite number of at least 0"),
            ("precision = \"ns\"", "precision \"ns\" must be s, ms or us"),
            ("colour = 1", "unknown field `colour`"),
        ];
        for (line, expected) in cases {
            let text = format!("[[columns]]\nsource = \"a\"\n{line}\n");
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains(expected), "{line}: {err}");
        }
    }
}
