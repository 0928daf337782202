//! Scan stage: the `Source` trait and the readers behind it. A source yields Arrow record
//! batches of the columns asked for, each row with a locator, and fetches rows again by
//! locator for the drill-down. Sources know nothing about keys, mappings or hashing.
//!
//! A new format is one new file here plus a line in [`open`].

mod csv;
pub mod csv_records;
mod parquet;
mod spool;
pub mod sql;

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::error::Result;

pub use self::csv::CsvSource;
pub use self::parquet::ParquetSource;

/// A batch of rows as read, with where each row came from.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The projected columns, in ascending schema order.
    pub columns: RecordBatch,
    /// One locator per row: what [`Source::fetch`] takes to read that row again.
    pub locators: Vec<u64>,
    /// Input consumed by this batch, in the unit of [`SizeHint::unit`].
    pub progress: u64,
}

/// What a progress display can count for a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressUnit {
    /// Bytes of input.
    Bytes,
    /// Rows.
    Rows,
}

/// The expected size of a scan.
#[derive(Debug, Clone, Copy)]
pub struct SizeHint {
    /// The total, in `unit`.
    pub total: u64,
    /// What `total` counts.
    pub unit: ProgressUnit,
    /// An estimate of the number of rows.
    pub estimated_rows: u64,
}

/// Rows per `fetch` for a source that can read any rows again cheaply.
pub const FETCH_ROWS: usize = 16_384;

/// A dataset that can be scanned in independent parts and read again row by row.
pub trait Source: Send + Sync {
    /// Where the data comes from, as the user named it.
    fn uri(&self) -> &str;

    /// All columns the source has.
    fn schema(&self) -> SchemaRef;

    /// The expected size of a full scan.
    fn size_hint(&self) -> SizeHint;

    /// How many independent parts a scan can be split into.
    fn splits(&self) -> usize;

    /// Reads split `split`, handing batches of the columns in `projection` (schema
    /// indices, ascending) to `sink`.
    fn read_split(
        &self,
        split: usize,
        projection: &[usize],
        sink: &mut dyn FnMut(Batch) -> Result<()>,
    ) -> Result<()>;

    /// Reads the rows at `locators` (ascending, without repeats) again, returning them in
    /// that order with the columns in `projection`.
    fn fetch(&self, projection: &[usize], locators: &[u64]) -> Result<RecordBatch>;

    /// How many rows one `fetch` should ask for: a source whose every fetch costs a full
    /// pass asks for more at a time.
    fn fetch_rows(&self) -> usize {
        FETCH_ROWS
    }
}

/// How to read a source: what every source takes, what files take, and what databases
/// take. [`open`] refuses database options for a file in one place, so a new format or a
/// new database adds its options to one of these and nowhere else.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Rows per batch.
    pub batch_size: usize,
    /// How to read a file source.
    pub file: FileOptions,
    /// How to read a database source.
    pub database: DatabaseOptions,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            batch_size: 8192,
            file: FileOptions::default(),
            database: DatabaseOptions::default(),
        }
    }
}

/// Options of file sources.
#[derive(Debug, Clone, Default)]
pub struct FileOptions {
    /// CSV field delimiter; `None` means a tab for `.tsv`/`.tab` files, else a comma.
    pub delimiter: Option<u8>,
    /// Where an input read from a pipe or decompressed is spooled; `None` means the
    /// system temporary directory.
    pub spill_dir: Option<PathBuf>,
}

/// Options of database sources.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// A row filter (SQL), e.g. the dual-write window.
    pub filter: Option<String>,
    /// The table (`schema.table`), when not in the location.
    pub table: Option<String>,
    /// A query, instead of a table.
    pub query: Option<String>,
    /// Key columns of this side, in order: rows without a stable position of their own
    /// (a query's, a view's) are numbered by them.
    pub order_by: Vec<String>,
    /// Connections the source is read over.
    pub connections: usize,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        DatabaseOptions {
            filter: None,
            table: None,
            query: None,
            order_by: Vec::new(),
            connections: 2,
        }
    }
}

impl DatabaseOptions {
    /// Whether these options choose rows (a table, a query or a filter): meaningless for
    /// a file, so a file given them is refused rather than read whole.
    pub fn selects_rows(&self) -> bool {
        self.filter.is_some() || self.table.is_some() || self.query.is_some()
    }
}

/// The field metadata key that marks a text column as holding exact numbers (a
/// PostgreSQL `numeric` travels as its decimal text). Any source may set it through
/// [`exact_number_text`]; the plan reads it through [`holds_exact_number_text`].
const EXACT_NUMBER_TEXT: &str = "recon.exact_number_text";

/// Marks `field` (a text column) as holding exact numbers, to be compared as numbers.
pub fn exact_number_text(field: arrow_schema::Field) -> arrow_schema::Field {
    let mut metadata = field.metadata().clone();
    metadata.insert(EXACT_NUMBER_TEXT.to_string(), "true".to_string());
    field.with_metadata(metadata)
}

/// Whether a source marked `field` as text that holds exact numbers.
pub fn holds_exact_number_text(field: &arrow_schema::Field) -> bool {
    field
        .metadata()
        .get(EXACT_NUMBER_TEXT)
        .is_some_and(|v| v == "true")
}

/// Opens a source by its location: a `.csv`/`.tsv`/`.txt` file, a `.parquet` file, or a
/// directory of Parquet part files; `-`, pipes and gzip or zstd files through a spooled
/// copy ([`spool`]).
pub fn open(uri: &str, options: &SourceOptions) -> Result<Box<dyn Source>> {
    if let Some(database) = sql::open(uri, options) {
        return database;
    }
    if options.database.selects_rows() {
        return Err(crate::Error::Config(format!(
            "{}: a table or a row filter (--source-where / --target-where, or table/where in a job file) applies to PostgreSQL sources only",
            sql::redact(uri)
        )));
    }
    if let Some(spooled) = spool::open_spooled(uri, options, |file| open(file, options))? {
        return Ok(spooled);
    }
    let path = Path::new(uri);
    let meta = std::fs::metadata(path).map_err(|source| crate::Error::Read {
        // A mistyped database location may hold a password: never echo it.
        path: sql::redact(uri).into(),
        source,
    })?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if meta.is_dir() {
        return Ok(Box::new(ParquetSource::open(uri, options)?));
    }
    let magic = leading_bytes(path);
    if matches!(extension.as_deref(), Some("parquet" | "parq" | "pq")) || magic.starts_with(b"PAR1")
    {
        return Ok(Box::new(ParquetSource::open(uri, options)?));
    }
    if let Some(format) = compression(&magic) {
        return Err(crate::Error::Csv {
            path: path.to_path_buf(),
            line: 1,
            message: format!(
                "the file is {format}-compressed; recon reads CSV (plain, gzip or zstd) and Parquet: decompress it first"
            ),
        });
    }
    Ok(Box::new(CsvSource::open(uri, options)?))
}

fn leading_bytes(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(8);
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.take(8).read_to_end(&mut bytes);
    }
    bytes
}

/// The compression format whose magic number starts `bytes`, if any.
fn compression(bytes: &[u8]) -> Option<&'static str> {
    [
        (&b"\x1f\x8b"[..], "gzip"),
        (&b"\x28\xb5\x2f\xfd"[..], "zstd"),
        (&b"BZh"[..], "bzip2"),
        (&b"\xfd7zXZ\x00"[..], "xz"),
        (&b"PK\x03\x04"[..], "zip"),
    ]
    .into_iter()
    .find(|(magic, _)| bytes.starts_with(magic))
    .map(|(_, name)| name)
}
