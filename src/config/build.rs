//! A job file plus the overrides a caller gives on top of it, resolved into a [`Job`]: what
//! `recon diff` runs, and what a suite runs for each of its tables. Everything a run needs
//! from outside (the masking key, the spill directory) is decided here, once, with a
//! [`Notice`] where a person should know what was decided for them.

use std::fmt;
use std::path::{Path, PathBuf};

use super::job_file::{JobFile, SideFile};
use super::mask_key;
use crate::drilldown::Mask;
use crate::error::{Error, Result, Side};
use crate::job::{EngineOptions, Job};
use crate::metrics::{Amount, Category, Percent};
use crate::normalize::ColumnSelection;
use crate::source::{DatabaseOptions, FileOptions, SourceOptions};

/// What a caller sets on top of a job file (or instead of one): every `Some` replaces the
/// job file's value. Values are already parsed, with the same parsers a job file's text
/// goes through ([`Percent::parse`], [`Amount::parse`], [`parse_delimiter`], [`parse_size`]).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Source location; replaces the job file's `[source]` with its table, query and where.
    pub source: Option<String>,
    /// Target location; likewise for `[target]`.
    pub target: Option<String>,
    /// Row filter of a database source, replacing `[source] where`.
    pub source_filter: Option<String>,
    /// Row filter of a database target, replacing `[target] where`.
    pub target_filter: Option<String>,
    /// Key columns (source names).
    pub key: Option<Vec<String>>,
    /// Only these columns are compared.
    pub columns: Option<Vec<String>>,
    /// These columns are not compared.
    pub exclude: Option<Vec<String>>,
    /// CSV delimiter of the source and of the target.
    pub delimiters: [Option<u8>; 2],
    /// Overall accuracy threshold.
    pub min_accuracy: Option<Percent>,
    /// Limits on categories; each replaces the job file's limit on the same category.
    pub limits: Vec<(Category, Amount)>,
    /// Each side must have at least this many rows.
    pub min_rows: Option<u64>,
    /// Cap on stored difference lines.
    pub max_diff_rows: Option<u64>,
    /// Connections each database side is read over.
    pub connections: Option<usize>,
    /// Key-hash partitions (a power of two).
    pub partitions: Option<usize>,
    /// Worker threads.
    pub threads: Option<usize>,
    /// Bytes of digests kept in memory before spilling.
    pub memory_limit: Option<usize>,
    /// Where spill files go.
    pub spill_dir: Option<PathBuf>,
    /// Stop as soon as a criterion can no longer be met.
    pub fail_fast: bool,
}

/// What a run takes from the process environment, gathered in one place so a library
/// caller (a suite, a test) decides it instead of the process's variables.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// A masking key given outright (`RECON_MASK_KEY`).
    pub mask_key: Option<String>,
    /// The user's configuration directory (`$XDG_CONFIG_HOME`, else `~/.config`), where
    /// the masking key is created once and kept.
    pub config_dir: Option<PathBuf>,
    /// The system's temporary directory, where spill files go by default.
    pub temp_dir: PathBuf,
}

impl Environment {
    /// The environment of this process.
    pub fn from_process() -> Environment {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        Environment {
            mask_key: std::env::var("RECON_MASK_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
            config_dir: var("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".config"))),
            temp_dir: std::env::temp_dir(),
        }
    }
}

/// Something a person should know about how the job was built; never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// A location given as an override replaced the job file's side, and with it the
    /// side's table, query and where.
    LocationReplacesSide {
        /// The side.
        side: Side,
    },
    /// A row filter given as an override replaced the job file's `where`.
    FilterReplacesWhere {
        /// The side.
        side: Side,
    },
    /// An accuracy threshold in a job file reads like a fraction where a percentage is
    /// meant (0.999 is 0.999%, which nearly any run passes).
    AccuracyLooksLikeFraction {
        /// Where it was written: the file and entry.
        setting: String,
        /// The threshold as written.
        text: String,
    },
    /// No masking key could be kept, so tokens of sensitive values hold for this run only
    /// and will not match another run's.
    MaskKeyForThisRunOnly {
        /// Why none could be kept.
        reason: String,
    },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::LocationReplacesSide { side } => write!(
                f,
                "the {side} location given replaces the job file's [{side}] with its table, query and where"
            ),
            Notice::FilterReplacesWhere { side } => {
                write!(
                    f,
                    "the {side} filter given replaces the job file's [{side}] where"
                )
            }
            Notice::AccuracyLooksLikeFraction { setting, text } => write!(
                f,
                "{setting} = {text} means {text}%; for a fraction like 0.999 write 99.9"
            ),
            Notice::MaskKeyForThisRunOnly { reason } => write!(
                f,
                "masked values get tokens of this run only ({reason}); set RECON_MASK_KEY so tokens stay the same across runs"
            ),
        }
    }
}

/// Builds the job that `file` (when given) and `overrides` describe, with the notices a
/// person should read.
pub fn build_job(
    file: Option<&Path>,
    overrides: &Overrides,
    environment: &Environment,
) -> Result<(Job, Vec<Notice>)> {
    match file {
        Some(path) => build_job_from(JobFile::read(path)?, Some(path), overrides, environment),
        None => build_job_from(JobFile::default(), None, overrides, environment),
    }
}

/// Builds the job that an already read job file (named `file_name` in messages, when it
/// has a name) and `overrides` describe: a suite's table entries come this way.
pub fn build_job_from(
    file: JobFile,
    file_name: Option<&Path>,
    overrides: &Overrides,
    environment: &Environment,
) -> Result<(Job, Vec<Notice>)> {
    let mut notices = file.notices.clone();
    let source = side_options(&file, file_name, overrides, Side::Source, &mut notices)?;
    let target = side_options(&file, file_name, overrides, Side::Target, &mut notices)?;
    let key = overrides.key.clone().unwrap_or_else(|| file.key.clone());
    // Rows without a stable position (a query's) are numbered by the key; the target's
    // key names follow renames.
    let target_key: Vec<String> = key
        .iter()
        .map(|k| {
            file.mappings
                .iter()
                .find(|m| &m.source == k)
                .map_or_else(|| k.clone(), |m| m.target.clone())
        })
        .collect();
    let connections = overrides.connections.unwrap_or(2).max(1);
    let engine = engine(&file, overrides, environment)?;
    let options = |side: SideOptions, order_by: Vec<String>| SourceOptions {
        file: FileOptions {
            delimiter: side.delimiter,
            spill_dir: Some(engine.spill_dir.clone()),
        },
        database: DatabaseOptions {
            filter: side.filter,
            table: side.table,
            query: side.query,
            order_by,
            connections,
        },
        ..SourceOptions::default()
    };

    let mut criteria = file.criteria;
    if let Some(min) = overrides.min_accuracy {
        criteria.min_accuracy = Some(min);
    }
    for (category, amount) in &overrides.limits {
        criteria.limits.retain(|(c, _)| c != category);
        criteria.limits.push((*category, *amount));
    }
    if let Some(min) = overrides.min_rows {
        criteria.min_rows = Some(min);
    }

    let mask = mask(environment, &mut notices);
    let job = Job {
        source: source.uri.clone(),
        target: target.uri.clone(),
        source_options: options(source, key.clone()),
        target_options: options(target, target_key),
        selection: ColumnSelection {
            key,
            columns: overrides.columns.clone().or(file.include),
            exclude: overrides.exclude.clone().unwrap_or(file.exclude),
            mappings: file.mappings,
        },
        criteria,
        owner: file.owner,
        mask,
        engine,
    };
    Ok((job, notices))
}

/// One side's location and options after the overrides.
struct SideOptions {
    uri: String,
    delimiter: Option<u8>,
    filter: Option<String>,
    table: Option<String>,
    query: Option<String>,
}

fn side_options(
    file: &JobFile,
    file_name: Option<&Path>,
    overrides: &Overrides,
    side: Side,
    notices: &mut Vec<Notice>,
) -> Result<SideOptions> {
    let (location, filter, delimiter, from_file) = match side {
        Side::Source => (
            &overrides.source,
            &overrides.source_filter,
            overrides.delimiters[0],
            &file.source,
        ),
        Side::Target => (
            &overrides.target,
            &overrides.target_filter,
            overrides.delimiters[1],
            &file.target,
        ),
    };
    let file_delimiter = |f: &SideFile| {
        f.delimiter
            .as_deref()
            .map(parse_delimiter)
            .transpose()
            .map_err(|e| in_file(file_name, &format!("[{side}] delimiter: {e}")))
    };
    match (location, from_file) {
        // A location given on top brings none of the job file side's options with it;
        // said, not silent: a nightly job run against another location must not lose
        // its filter unnoticed.
        (Some(uri), from_file) => {
            if from_file
                .as_ref()
                .is_some_and(|f| f.table.is_some() || f.query.is_some() || f.filter.is_some())
            {
                notices.push(Notice::LocationReplacesSide { side });
            }
            Ok(SideOptions {
                uri: uri.clone(),
                delimiter,
                filter: filter.clone(),
                table: None,
                query: None,
            })
        }
        (None, Some(f)) => {
            if filter.is_some() && f.filter.is_some() {
                notices.push(Notice::FilterReplacesWhere { side });
            }
            Ok(SideOptions {
                uri: f.uri.clone(),
                delimiter: match delimiter {
                    Some(d) => Some(d),
                    None => file_delimiter(f)?,
                },
                filter: filter.clone().or_else(|| f.filter.clone()),
                table: f.table.clone(),
                query: f.query.clone(),
            })
        }
        (None, None) => Err(Error::Config(match file_name {
            Some(path) => format!(
                "{}: no {side} given: set [{side}] uri = \"...\" in the job file, or give a {side} location",
                path.display()
            ),
            None => format!(
                "no {side} given: give a {side} location, or a job file with [{side}] uri = \"...\""
            ),
        })),
    }
}

fn in_file(file_name: Option<&Path>, what: &str) -> Error {
    Error::Config(match file_name {
        Some(path) => format!("{}: {what}", path.display()),
        None => what.to_string(),
    })
}

fn engine(
    file: &JobFile,
    overrides: &Overrides,
    environment: &Environment,
) -> Result<EngineOptions> {
    let defaults = EngineOptions::default();
    if let Some(p) = overrides.partitions
        && !(p.is_power_of_two() && p <= 1 << 20)
    {
        return Err(Error::Config(format!(
            "partitions must be a power of two from 1 to 1048576, not {p}"
        )));
    }
    let spill_dir = match &overrides.spill_dir {
        // Checked now, not when the first partition spills in the middle of the scan.
        Some(dir) if !dir.is_dir() => {
            return Err(Error::Config(format!(
                "spill directory {} is not a directory: create it, or leave it unset to spill into {}",
                dir.display(),
                environment.temp_dir.display()
            )));
        }
        Some(dir) => dir.clone(),
        None => environment.temp_dir.clone(),
    };
    Ok(EngineOptions {
        partitions: overrides.partitions,
        threads: overrides.threads,
        memory_limit: overrides.memory_limit.unwrap_or(defaults.memory_limit),
        spill_dir,
        max_diff_rows: overrides
            .max_diff_rows
            .or(file.max_diff_rows)
            .unwrap_or(defaults.max_diff_rows),
        fail_fast: overrides.fail_fast,
    })
}

/// The masking key: given outright, else the one kept in the user's configuration
/// directory (created on first use), so the same sensitive value gets the same token in
/// every run and a history can tell a persisting difference from a new one.
fn mask(environment: &Environment, notices: &mut Vec<Notice>) -> Mask {
    if let Some(key) = &environment.mask_key {
        return Mask::keyed(key);
    }
    let Some(dir) = &environment.config_dir else {
        notices.push(Notice::MaskKeyForThisRunOnly {
            reason: "no configuration directory: neither XDG_CONFIG_HOME nor HOME is set".into(),
        });
        return Mask::random();
    };
    match mask_key::load_or_create(dir) {
        Ok(key) => Mask::keyed(&key),
        Err(reason) => {
            notices.push(Notice::MaskKeyForThisRunOnly { reason });
            Mask::random()
        }
    }
}

/// Reads a CSV delimiter: one ASCII character other than a quote or line break; `\t` or
/// `tab` for a tab.
pub fn parse_delimiter(text: &str) -> Result<u8> {
    match text {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() && !matches!(t, "\"" | "\n" | "\r") => {
            Ok(t.as_bytes()[0])
        }
        other => Err(Error::Config(format!(
            "delimiter {other:?} must be one ASCII character other than a quote or line break (use \\t for tab)"
        ))),
    }
}

/// Reads a memory size: `512MiB`, `2GiB`, `1G`, `300M` or a plain byte count.
pub fn parse_size(text: &str) -> Result<usize> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let multiplier: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => 0,
    };
    match digits.parse::<usize>() {
        Ok(n) if multiplier > 0 && n > 0 => Ok(n.saturating_mul(multiplier)),
        _ => Err(Error::Config(format!(
            "memory limit {text:?} is not a size; write it like 512MiB or 2GiB"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(dir: &Path) -> Environment {
        Environment {
            mask_key: None,
            config_dir: Some(dir.join("config")),
            temp_dir: dir.to_path_buf(),
        }
    }

    #[test]
    fn sizes_and_delimiters() {
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(parse_delimiter("\\t").unwrap(), b'\t');
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        assert!(parse_delimiter("ab").is_err());
        assert!(parse_delimiter("\"").is_err());
    }

    #[test]
    fn overrides_replace_the_job_file_and_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.toml");
        std::fs::write(
            &path,
            "key = \"id\"\n[source]\nuri = \"a.csv\"\ndelimiter = \";\"\n[target]\nuri = \"postgres://u@h/db\"\ntable = \"t\"\nwhere = \"x > 1\"\n[criteria]\nmin_accuracy = 0.999\nmax_changed = 5\n",
        )
        .unwrap();
        let overrides = Overrides {
            target: Some("b.csv".into()),
            limits: vec![(Category::Changed, Amount::Count(7))],
            ..Overrides::default()
        };
        let (job, notices) = build_job(Some(&path), &overrides, &environment(dir.path())).unwrap();
        assert_eq!(job.target, "b.csv");
        assert!(!job.target_options.database.selects_rows());
        assert_eq!(job.source_options.file.delimiter, Some(b';'));
        assert_eq!(
            job.criteria.limits,
            vec![(Category::Changed, Amount::Count(7))]
        );
        assert_eq!(
            notices,
            vec![
                Notice::AccuracyLooksLikeFraction {
                    setting: format!("{}: [criteria] min_accuracy", path.display()),
                    text: "0.999".into()
                },
                Notice::LocationReplacesSide { side: Side::Target }
            ]
        );
    }

    #[test]
    fn a_missing_location_and_bad_engine_settings_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let env = environment(dir.path());
        let err = build_job(None, &Overrides::default(), &env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no source given"), "{err}");
        let with_sides = Overrides {
            source: Some("a.csv".into()),
            target: Some("b.csv".into()),
            ..Overrides::default()
        };
        let err = build_job(
            None,
            &Overrides {
                partitions: Some(3),
                ..with_sides.clone()
            },
            &env,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("power of two"), "{err}");
        let err = build_job(
            None,
            &Overrides {
                spill_dir: Some(dir.path().join("nowhere")),
                ..with_sides
            },
            &env,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("is not a directory"), "{err}");
    }

    #[test]
    fn masking_tokens_stay_the_same_across_runs() {
        let dir = tempfile::tempdir().unwrap();
        let env = environment(dir.path());
        let overrides = Overrides {
            source: Some("a.csv".into()),
            target: Some("b.csv".into()),
            ..Overrides::default()
        };
        let (first, notices) = build_job(None, &overrides, &env).unwrap();
        assert!(notices.is_empty(), "{notices:?}");
        let (second, _) = build_job(None, &overrides, &env).unwrap();
        assert_eq!(first.mask.token("x"), second.mask.token("x"));
        let given = Environment {
            mask_key: Some("k".into()),
            ..env.clone()
        };
        let (keyed, _) = build_job(None, &overrides, &given).unwrap();
        assert_ne!(keyed.mask.token("x"), first.mask.token("x"));
        let nowhere = Environment {
            config_dir: None,
            ..env
        };
        let (_, notices) = build_job(None, &overrides, &nowhere).unwrap();
        assert!(matches!(
            notices[..],
            [Notice::MaskKeyForThisRunOnly { .. }]
        ));
    }
}
