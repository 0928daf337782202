//! Scan stage: the `Source` trait and the readers behind it. A source yields Arrow record
//! batches of the columns asked for, each row with a locator, and fetches rows again by
//! locator for the drill-down. Sources know nothing about keys, mappings or hashing.
//!
//! A new format is one new file here plus a line in [`open`].

mod csv;
pub mod csv_records;
mod parquet;
pub mod postgres;

use std::path::Path;

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

/// How to read a source.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// CSV field delimiter; `None` means a tab for `.tsv`/`.tab` files, else a comma.
    pub delimiter: Option<u8>,
    /// Rows per batch.
    pub batch_size: usize,
    /// A database source's row filter (SQL), e.g. the dual-write window.
    pub filter: Option<String>,
    /// A database source's table (`schema.table`), when not in the location.
    pub table: Option<String>,
    /// A database source's query, instead of a table.
    pub query: Option<String>,
    /// Key columns of this side, in order (a query's rows are numbered by them).
    pub order_by: Vec<String>,
    /// Connections a database source reads over.
    pub connections: usize,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            delimiter: None,
            batch_size: 8192,
            filter: None,
            table: None,
            query: None,
            order_by: Vec::new(),
            connections: 2,
        }
    }
}

/// Opens a source by its location: a `.csv`/`.tsv`/`.txt` file, a `.parquet` file, or a
/// directory of Parquet part files.
pub fn open(uri: &str, options: &SourceOptions) -> Result<Box<dyn Source>> {
    if postgres::is_postgres(uri) {
        return Ok(Box::new(postgres::PostgresSource::open(uri, options)?));
    }
    if options.filter.is_some() || options.table.is_some() || options.query.is_some() {
        return Err(crate::Error::Config(format!(
            "{}: a table or a row filter (--source-where / --target-where, or table/where in a job file) applies to PostgreSQL sources only",
            postgres::redact(uri)
        )));
    }
    let path = Path::new(uri);
    let meta = std::fs::metadata(path).map_err(|source| crate::Error::Read {
        // A mistyped database location may hold a password: never echo it.
        path: postgres::redact(uri).into(),
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
                "the file is {format}-compressed; recon reads uncompressed CSV and Parquet: decompress it first"
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
