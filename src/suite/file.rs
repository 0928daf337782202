//! Suite files: a TOML description of a nightly reconciliation over many tables — shared
//! `[defaults]` (locations, connections, criteria, owner), `[[tables]]` entries that are
//! jobs as a job file describes them (or point at one with `job = "…"`), `[discover]`
//! to pair every file of one folder with the same-named file of another, and `[suite]`
//! criteria over the whole run — read into a [`SuiteFile`] whose tables each hold a
//! [`JobFile`]. It owns the file's syntax and its messages (file, line, table); it reads
//! no rows (a folder is listed, nothing more) and runs nothing.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{JobFile, SideFile, line_column, parse_toml, scalar_text};
use crate::error::{Error, Result, Side};
use crate::metrics::Percent;

/// A parsed suite file.
#[derive(Debug, Clone)]
pub struct SuiteFile {
    /// The file.
    pub path: PathBuf,
    /// The suite's name: `name = "…"`, else the file's stem.
    pub name: String,
    /// Where the run history is kept: a path (SQLite) or a `postgres://` location;
    /// `None` when the file says `history = false`.
    pub history: Option<String>,
    /// Every table, in the file's order (discovered ones after the listed ones).
    pub tables: Vec<TableEntry>,
    /// What the file's discovery left out, and why (for `recon explain`).
    pub left_out: Vec<(String, String)>,
    /// Criteria over the whole run.
    pub criteria: SuiteCriteria,
    /// How many tables run at once, when the file says.
    pub jobs: Option<usize>,
    /// At most this many connections to one database server, across the tables running at
    /// once.
    pub max_connections: Option<usize>,
}

/// One table of a suite.
#[derive(Debug, Clone)]
pub struct TableEntry {
    /// Its name in the suite (unique).
    pub name: String,
    /// Its job; an error when its data cannot be located (then the table is in error
    /// without being read, and the other tables still run).
    pub job: std::result::Result<JobFile, String>,
    /// Connections each database side is read over.
    pub connections: Option<usize>,
    /// Must be exact: any difference breaches.
    pub critical: bool,
    /// The size of its files, when they are files: larger tables start first.
    pub size_hint: u64,
}

/// Criteria over a whole suite run, on top of each table's own.
#[derive(Debug, Clone, Default)]
pub struct SuiteCriteria {
    /// Every table's accuracy must be at least this, whatever the table's own criteria.
    pub min_table_accuracy: Option<Percent>,
    /// At most this many tables may be in error for the verdict to pass (default 0; the
    /// run still exits 2 when any table is in error).
    pub max_tables_in_error: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    name: Option<String>,
    history: Option<toml::Value>,
    defaults: Option<RawDefaults>,
    suite: Option<RawSuiteSettings>,
    #[serde(default)]
    tables: Vec<toml::Spanned<toml::Table>>,
    discover: Option<RawDiscover>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    source: Option<RawSide>,
    target: Option<RawSide>,
    key: Option<toml::Value>,
    exclude: Option<Vec<String>>,
    owner: Option<String>,
    max_diff_rows: Option<u64>,
    connections: Option<usize>,
    criteria: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuiteSettings {
    jobs: Option<usize>,
    max_connections: Option<usize>,
    #[serde(default)]
    critical: Vec<String>,
    min_table_accuracy: Option<toml::Value>,
    max_tables_in_error: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscover {
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    /// Target names from source names: `{ prefix = "…", suffix = "…", strip_prefix = "…",
    /// strip_suffix = "…", lower = true }`.
    rename: Option<RawRename>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawRename {
    strip_prefix: Option<String>,
    strip_suffix: Option<String>,
    prefix: Option<String>,
    suffix: Option<String>,
    #[serde(default)]
    lower: bool,
}

/// A side as a suite file gives it: a location, or a table of its parts.
#[derive(Debug, Deserialize, Clone)]
#[serde(
    untagged,
    expecting = "a location (text) or a table like { table = \"…\" }"
)]
enum RawSide {
    Location(String),
    Parts(RawSideParts),
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct RawSideParts {
    uri: Option<String>,
    file: Option<String>,
    table: Option<String>,
    query: Option<String>,
    #[serde(rename = "where")]
    filter: Option<String>,
    delimiter: Option<String>,
}

impl RawSide {
    fn parts(&self) -> RawSideParts {
        match self {
            RawSide::Location(uri) => RawSideParts {
                uri: Some(uri.clone()),
                ..RawSideParts::default()
            },
            RawSide::Parts(parts) => parts.clone(),
        }
    }
}

/// Keys of a `[[tables]]` entry that are the suite's, not the job's.
const ENTRY_KEYS: [&str; 6] = ["name", "job", "source", "target", "critical", "connections"];

/// File endings a folder's data files may have, in the order a name is looked up.
const DATA_ENDINGS: [&str; 9] = [
    ".csv", ".tsv", ".parquet", ".csv.gz", ".csv.zst", ".tsv.gz", ".txt", ".parq", ".pq",
];

impl SuiteFile {
    /// Reads and checks a suite file.
    pub fn read(path: &Path) -> Result<SuiteFile> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses suite file text; `path` names it in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<SuiteFile> {
        let raw: RawSuite = parse_toml(text, path)?;
        let shown = path.display().to_string();
        let at = |what: String| Error::Config(format!("{shown}: {what}"));
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let defaults = raw.defaults.unwrap_or_default();
        let shared = shared_job(&defaults, path, &shown)?;
        let settings = raw.suite;
        let mut tables = Vec::new();
        for spanned in raw.tables {
            let line = line_column(text, spanned.span().start).0;
            let entry = spanned.into_inner();
            let label = |name: &str| format!("{shown}:{line}: [[tables]] {name:?}");
            tables.push(table_entry(entry, &base, &defaults, &shared, path, &label)?);
        }
        let mut left_out = Vec::new();
        if let Some(discover) = &raw.discover {
            let found = discover_files(discover, &defaults, &base, &shown)?;
            if found.tables.is_empty() && found.left_out.is_empty() {
                return Err(at(
                    "[discover] found no file in the source folder: check [defaults] source and target".into(),
                ));
            }
            if found.tables.is_empty() {
                return Err(at(format!(
                    "[discover] matched no table; left out: {}",
                    found
                        .left_out
                        .iter()
                        .map(|(name, why)| format!("{name} ({why})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            for (name, source, target, size) in found.tables {
                // A listed table with the same name wins over a discovered one.
                if tables.iter().any(|t: &TableEntry| t.name == name) {
                    continue;
                }
                let mut job = shared.clone();
                job.source = Some(file_side(source));
                job.target = Some(file_side(target));
                tables.push(TableEntry {
                    name,
                    job: Ok(job),
                    connections: defaults.connections,
                    critical: false,
                    size_hint: size,
                });
            }
            left_out = found.left_out;
        }
        if tables.is_empty() {
            return Err(at(
                "no tables: add [[tables]] entries (name, key, and where the data is) or a [discover] section".into(),
            ));
        }
        for (i, table) in tables.iter().enumerate() {
            if tables[..i].iter().any(|t| t.name == table.name) {
                return Err(at(format!(
                    "two tables are named {:?}; give each table its own name",
                    table.name
                )));
            }
        }
        let mut criteria = SuiteCriteria::default();
        let (mut jobs, mut max_connections) = (None, None);
        if let Some(s) = settings {
            for name in &s.critical {
                match tables.iter_mut().find(|t| &t.name == name) {
                    Some(table) => table.critical = true,
                    None => {
                        return Err(at(format!(
                            "[suite] critical names table {name:?}, which the suite does not have; tables: {}",
                            names(&tables)
                        )));
                    }
                }
            }
            criteria.min_table_accuracy = s
                .min_table_accuracy
                .as_ref()
                .map(|v| Percent::parse(&scalar_text(v)))
                .transpose()
                .map_err(|e| at(format!("[suite] min_table_accuracy: {e}")))?;
            criteria.max_tables_in_error = s.max_tables_in_error;
            if s.jobs == Some(0) || s.max_connections == Some(0) {
                return Err(at(
                    "[suite] jobs and max_connections must be at least 1".into()
                ));
            }
            jobs = s.jobs;
            max_connections = s.max_connections;
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "suite".into());
        let history = match raw.history {
            None => Some(
                base.join(format!("{stem}.history"))
                    .to_string_lossy()
                    .into_owned(),
            ),
            Some(toml::Value::Boolean(false)) => None,
            Some(toml::Value::String(location)) => Some(resolve(&base, &location)),
            Some(other) => {
                return Err(at(format!(
                    "history must be a path, a postgres:// location or false, not {}",
                    other.type_str()
                )));
            }
        };
        Ok(SuiteFile {
            path: path.to_path_buf(),
            name: raw.name.unwrap_or(stem),
            history,
            tables,
            left_out,
            criteria,
            jobs,
            max_connections,
        })
    }
}

/// The names of `tables`, for messages.
fn names(tables: &[TableEntry]) -> String {
    tables
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The job settings `[defaults]` gives every table: key, exclude, owner, cap, criteria.
fn shared_job(defaults: &RawDefaults, path: &Path, shown: &str) -> Result<JobFile> {
    let mut table = toml::Table::new();
    if let Some(key) = &defaults.key {
        table.insert("key".into(), key.clone());
    }
    if let Some(criteria) = &defaults.criteria {
        table.insert("criteria".into(), toml::Value::Table(criteria.clone()));
    }
    let mut job = JobFile::from_table(table, path, &format!("{shown}: [defaults]"))?;
    job.exclude = defaults.exclude.clone().unwrap_or_default();
    job.owner = defaults.owner.clone();
    job.max_diff_rows = defaults.max_diff_rows;
    Ok(job)
}

fn table_entry(
    mut entry: toml::Table,
    base: &Path,
    defaults: &RawDefaults,
    shared: &JobFile,
    path: &Path,
    label: &dyn Fn(&str) -> String,
) -> Result<TableEntry> {
    let text_of = |entry: &toml::Table, key: &str| -> Result<Option<String>> {
        match entry.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(Error::Config(format!(
                "{}: {key} must be text, not {}",
                label("?"),
                other.type_str()
            ))),
        }
    };
    let job_path = text_of(&entry, "job")?.map(|p| base.join(p));
    let name = match (text_of(&entry, "name")?, &job_path) {
        (Some(name), _) => name,
        (None, Some(job)) => job
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        (None, None) => {
            return Err(Error::Config(format!(
                "{}: a table needs a name (name = \"orders\")",
                label("?")
            )));
        }
    };
    let label = label(&name);
    let side_of = |entry: &mut toml::Table, key: &str| -> Result<Option<RawSide>> {
        entry
            .remove(key)
            .map(|v| {
                RawSide::deserialize(v)
                    .map_err(|e| Error::Config(format!("{label}: {key}: {}", e.message())))
            })
            .transpose()
    };
    let sides = [
        side_of(&mut entry, "source")?,
        side_of(&mut entry, "target")?,
    ];
    let critical = match entry.get("critical") {
        None => false,
        Some(toml::Value::Boolean(b)) => *b,
        Some(other) => {
            return Err(Error::Config(format!(
                "{label}: critical must be true or false, not {}",
                other.type_str()
            )));
        }
    };
    let connections = match entry.get("connections") {
        None => defaults.connections,
        Some(toml::Value::Integer(n)) if *n >= 1 => Some(*n as usize),
        Some(other) => {
            return Err(Error::Config(format!(
                "{label}: connections must be a whole number of at least 1, not {}",
                scalar_text(other)
            )));
        }
    };
    let mut job = match &job_path {
        Some(file) => {
            if let Some(extra) = entry.keys().find(|k| !ENTRY_KEYS.contains(&k.as_str())) {
                return Err(Error::Config(format!(
                    "{label}: a table with job = \"…\" takes its settings from that file; move {extra} there"
                )));
            }
            if !file.is_file() {
                return Err(Error::Config(format!(
                    "{label}: job file {} does not exist",
                    file.display()
                )));
            }
            JobFile::read(file)?
        }
        None => {
            for key in ENTRY_KEYS {
                entry.remove(key);
            }
            JobFile::from_table(entry, path, &label)?
        }
    };
    if job.key.is_empty() {
        job.key = shared.key.clone();
    }
    if job.exclude.is_empty() {
        job.exclude = shared.exclude.clone();
    }
    job.owner = job.owner.or_else(|| shared.owner.clone());
    job.max_diff_rows = job.max_diff_rows.or(shared.max_diff_rows);
    job.criteria.fill_from(&shared.criteria);
    job.notices.extend(shared.notices.iter().cloned());
    let mut size_hint = 0;
    let mut located = Ok(());
    for (side, given) in Side::BOTH.into_iter().zip(sides) {
        let from_job = match side {
            Side::Source => &mut job.source,
            Side::Target => &mut job.target,
        };
        let default = match side {
            Side::Source => defaults.source.as_ref(),
            Side::Target => defaults.target.as_ref(),
        };
        if given.is_none() && from_job.is_some() {
            continue;
        }
        match locate(&name, side, given.as_ref(), default, base) {
            Ok(Some((side_file, size))) => {
                size_hint += size;
                *from_job = Some(side_file);
            }
            Ok(None) => {
                return Err(Error::Config(format!(
                    "{label}: no {side} given: set {side} = \"…\" in the entry, or [defaults] {side}"
                )));
            }
            Err(why) => located = located.and(Err(format!("{label}: {why}"))),
        }
    }
    Ok(TableEntry {
        name,
        job: located.map(|_| job),
        connections,
        critical,
        size_hint,
    })
}

/// Where one side of table `name` is: the entry's own location (relative to the default
/// folder when there is one, else to the suite file), else the default's — a database
/// with the table of the same name, or a folder with the file of the same stem. `None`
/// when neither gives a location; an error when the data is not where it should be.
fn locate(
    name: &str,
    side: Side,
    given: Option<&RawSide>,
    default: Option<&RawSide>,
    base: &Path,
) -> std::result::Result<Option<(SideFile, u64)>, String> {
    let given = given.map(RawSide::parts).unwrap_or_default();
    let default = default.map(RawSide::parts).unwrap_or_default();
    let default_uri = default.uri.as_deref().map(|u| resolve(base, u));
    let uri = match (&given.uri, &default_uri) {
        (Some(uri), Some(folder)) if !is_database(uri) && Path::new(folder).is_dir() => {
            resolve(Path::new(folder), uri)
        }
        (Some(uri), _) => resolve(base, uri),
        (None, Some(uri)) => uri.clone(),
        (None, None) => return Ok(None),
    };
    let delimiter = given.delimiter.or(default.delimiter);
    if is_database(&uri) {
        let table = match (&given.table, &given.query) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(_)) => None,
            // The location may name its table itself (`?table=`, `?query=`).
            (None, None) if uri.contains("table=") || uri.contains("query=") => None,
            (None, None) => Some(name.to_string()),
        };
        return Ok(Some((
            SideFile {
                uri,
                delimiter,
                table,
                query: given.query,
                filter: given.filter,
            },
            0,
        )));
    }
    if given.table.is_some() || given.query.is_some() || given.filter.is_some() {
        return Err(format!(
            "{side}: table, query and where apply to database locations, and {uri} is a path"
        ));
    }
    let path = PathBuf::from(&uri);
    let file = if path.is_dir() {
        match &given.file {
            Some(file) => path.join(file),
            None => find_data_file(&path, name).ok_or_else(|| {
                format!(
                    "no {side} file for {name} in {}: looked for {}; give the file (file = \"…\")",
                    path.display(),
                    DATA_ENDINGS
                        .iter()
                        .map(|e| format!("{name}{e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?,
        }
    } else {
        path
    };
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    Ok(Some((
        SideFile {
            uri: file.to_string_lossy().into_owned(),
            delimiter,
            ..SideFile::default()
        },
        size,
    )))
}

/// The data file of table `name` in `folder`: `name` with a known ending, or a
/// directory `name` of Parquet parts.
fn find_data_file(folder: &Path, name: &str) -> Option<PathBuf> {
    DATA_ENDINGS
        .iter()
        .map(|ending| folder.join(format!("{name}{ending}")))
        .find(|p| p.is_file())
        .or_else(|| Some(folder.join(name)).filter(|p| p.is_dir()))
}

/// What discovery found: (table name, source file, target file, bytes) and what it left
/// out with why.
struct Discovered {
    tables: Vec<(String, PathBuf, PathBuf, u64)>,
    left_out: Vec<(String, String)>,
}

/// Pairs every data file of the source folder with the target folder's file whose stem is
/// the source stem after the rename rule.
fn discover_files(
    discover: &RawDiscover,
    defaults: &RawDefaults,
    base: &Path,
    shown: &str,
) -> Result<Discovered> {
    let folder = |side: Side, given: Option<&RawSide>| -> Result<PathBuf> {
        let uri = given.and_then(|s| s.parts().uri).ok_or_else(|| {
            Error::Config(format!(
                "{shown}: [discover] needs [defaults] {side} = \"folder/\""
            ))
        })?;
        if is_database(&uri) {
            return Err(Error::Config(format!(
                "{shown}: [discover] pairs the files of two folders; listing the tables of a database ({side}) is not supported yet: list them as [[tables]]"
            )));
        }
        let path = PathBuf::from(resolve(base, &uri));
        if !path.is_dir() {
            return Err(Error::Config(format!(
                "{shown}: [discover] {side} folder {} is not a directory",
                path.display()
            )));
        }
        Ok(path)
    };
    let source_dir = folder(Side::Source, defaults.source.as_ref())?;
    let target_dir = folder(Side::Target, defaults.target.as_ref())?;
    let mut stems: Vec<(String, PathBuf)> = Vec::new();
    let entries = std::fs::read_dir(&source_dir).map_err(|source| Error::Read {
        path: source_dir.clone(),
        source,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with('.') {
            continue;
        }
        let stem = DATA_ENDINGS
            .iter()
            .find_map(|e| file_name.strip_suffix(e))
            .map(str::to_string)
            .or_else(|| path.is_dir().then(|| file_name.clone()));
        if let Some(stem) = stem {
            stems.push((stem, path));
        }
    }
    stems.sort();
    let rename = discover.rename.clone().unwrap_or_default();
    let mut found = Discovered {
        tables: Vec::new(),
        left_out: Vec::new(),
    };
    for (stem, source) in stems {
        let included =
            discover.include.is_empty() || discover.include.iter().any(|g| glob_match(g, &stem));
        if !included {
            found
                .left_out
                .push((stem, "not matched by [discover] include".into()));
            continue;
        }
        if let Some(pattern) = discover.exclude.iter().find(|g| glob_match(g, &stem)) {
            found
                .left_out
                .push((stem, format!("excluded by [discover] exclude {pattern:?}")));
            continue;
        }
        let target_name = rename.apply(&stem);
        match find_data_file(&target_dir, &target_name) {
            Some(target) => {
                let size = [&source, &target]
                    .iter()
                    .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
                    .sum();
                found.tables.push((stem, source, target, size));
            }
            None => found.left_out.push((
                stem,
                format!("no target file {target_name}.* in {}", target_dir.display()),
            )),
        }
    }
    Ok(found)
}

impl RawRename {
    fn apply(&self, name: &str) -> String {
        let mut out = name;
        if let Some(p) = &self.strip_prefix {
            out = out.strip_prefix(p.as_str()).unwrap_or(out);
        }
        if let Some(s) = &self.strip_suffix {
            out = out.strip_suffix(s.as_str()).unwrap_or(out);
        }
        let mut out = format!(
            "{}{out}{}",
            self.prefix.as_deref().unwrap_or(""),
            self.suffix.as_deref().unwrap_or("")
        );
        if self.lower {
            out = out.to_lowercase();
        }
        out
    }
}

fn file_side(path: PathBuf) -> SideFile {
    SideFile {
        uri: path.to_string_lossy().into_owned(),
        ..SideFile::default()
    }
}

/// Whether a location is a database's rather than a path.
fn is_database(uri: &str) -> bool {
    uri.contains("://")
}

fn resolve(base: &Path, uri: &str) -> String {
    let p = Path::new(uri);
    if is_database(uri) || p.is_absolute() || base.as_os_str().is_empty() {
        uri.to_string()
    } else {
        base.join(p).to_string_lossy().into_owned()
    }
}

/// Whether `name` matches a glob of `*` (any run of characters) and `?` (one character).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Iterative matching with one backtrack point: linear in practice, no recursion.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_shells_do() {
        assert!(glob_match("billing.*", "billing.invoices"));
        assert!(!glob_match("billing.*", "crm.billing"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("*orders*", "old_orders_2024"));
        assert!(!glob_match("orders", "orders2"));
    }

    #[test]
    fn renames_apply_in_order() {
        let rename = RawRename {
            strip_prefix: Some("legacy_".into()),
            suffix: Some("_v2".into()),
            lower: true,
            ..RawRename::default()
        };
        assert_eq!(rename.apply("legacy_Orders"), "orders_v2");
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn tables_take_defaults_and_locate_their_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "old/orders.csv", "id\n1\n");
        write(dir.path(), "new/orders.parquet", "x");
        let suite = write(
            dir.path(),
            "nightly.toml",
            r#"
            [defaults]
            source = "old"
            target = "new"
            key = "id"
            owner = "team@example.com"
            [defaults.criteria]
            min_accuracy = 99.9
            [[tables]]
            name = "orders"
            [tables.criteria]
            max_changed = 3
            [[tables]]
            name = "ghost"
            [[tables]]
            name = "pg"
            source = "postgres://u@h/db"
            target = { uri = "postgres://u@h/db2", table = "public.pg2", where = "x > 1" }
            [suite]
            critical = ["orders"]
            "#,
        );
        let file = SuiteFile::read(&suite).unwrap();
        assert_eq!(file.name, "nightly");
        assert_eq!(
            file.history.as_deref(),
            Some(dir.path().join("nightly.history").to_str().unwrap())
        );
        let orders = file.tables[0].job.as_ref().unwrap();
        assert!(
            orders
                .source
                .as_ref()
                .unwrap()
                .uri
                .ends_with("old/orders.csv")
        );
        assert!(
            orders
                .target
                .as_ref()
                .unwrap()
                .uri
                .ends_with("new/orders.parquet")
        );
        assert_eq!(orders.key, ["id"]);
        assert_eq!(orders.owner.as_deref(), Some("team@example.com"));
        assert!(orders.criteria.min_accuracy.is_some());
        assert_eq!(orders.criteria.limits.len(), 1);
        assert!(file.tables[0].critical);
        let ghost = file.tables[1].job.as_ref().unwrap_err();
        assert!(ghost.contains("no source file for ghost"), "{ghost}");
        let pg = file.tables[2].job.as_ref().unwrap();
        assert_eq!(pg.source.as_ref().unwrap().table.as_deref(), Some("pg"));
        let target = pg.target.as_ref().unwrap();
        assert_eq!(target.table.as_deref(), Some("public.pg2"));
        assert_eq!(target.filter.as_deref(), Some("x > 1"));
    }

    #[test]
    fn bad_suite_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "[[tables]]\nname = \"a\"\nsource = \"a.csv\"\ntarget = \"b.csv\"\n[[tables]]\nname = \"a\"\nsource = \"a.csv\"\ntarget = \"b.csv\"\n",
                "two tables are named \"a\"",
            ),
            ("colour = 1\n", "unknown field `colour`"),
            ("[[tables]]\njob = \"nope.toml\"\n", "job file"),
            ("", "no tables"),
            (
                "[[tables]]\nname = \"a\"\nsource = \"a.csv\"\ntarget = \"b.csv\"\ncolour = 2\n",
                ":1: [[tables]] \"a\": unknown field `colour`",
            ),
            (
                "[[tables]]\nname = \"a\"\nsource = \"a.csv\"\ntarget = \"b.csv\"\n[suite]\ncritical = [\"b\"]\n",
                "critical names table \"b\"",
            ),
        ];
        for (text, expected) in cases {
            let path = write(dir.path(), "s.toml", text);
            let err = SuiteFile::read(&path).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn discovery_pairs_files_and_names_what_it_left_out() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "legacy_a.csv",
            "legacy_b.csv",
            "legacy_tmp.csv",
            "legacy_c.csv",
        ] {
            write(dir.path(), &format!("src/{name}"), "id\n1\n");
        }
        write(dir.path(), "dst/a.parquet", "x");
        write(dir.path(), "dst/b.csv", "id\n1\n");
        let suite = write(
            dir.path(),
            "d.toml",
            r#"
            [defaults]
            source = "src"
            target = "dst"
            key = "id"
            [discover]
            exclude = ["*tmp*"]
            rename = { strip_prefix = "legacy_" }
            "#,
        );
        let file = SuiteFile::read(&suite).unwrap();
        let names: Vec<&str> = file.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["legacy_a", "legacy_b"]);
        assert_eq!(file.left_out.len(), 2);
        assert!(
            file.left_out[0].1.contains("no target file c.*"),
            "{:?}",
            file.left_out
        );
        assert!(
            file.left_out[1].1.contains("excluded"),
            "{:?}",
            file.left_out
        );
    }
}
