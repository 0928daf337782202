//! Parquet as a [`Source`]: one file or a directory of part files with one schema. Each
//! row group is a split, so row groups decode in parallel. Locators pack the file's
//! position in the directory listing and the row's position in the file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection,
    RowSelector,
};

use super::{Batch, ProgressUnit, SizeHint, Source, SourceOptions};
use crate::error::{Error, Result};

/// Bits of a locator that hold the row's position inside its file.
const ROW_BITS: u32 = 40;

/// A Parquet file, or a directory of Parquet files sharing one schema.
#[derive(Debug)]
pub struct ParquetSource {
    uri: String,
    files: Vec<PartFile>,
    /// (file, row group) for each split.
    splits: Vec<(usize, usize)>,
    schema: SchemaRef,
    batch_size: usize,
    rows: u64,
}

#[derive(Debug)]
struct PartFile {
    path: PathBuf,
    metadata: ArrowReaderMetadata,
    /// First row of each row group, within the file.
    group_starts: Vec<u64>,
}

impl ParquetSource {
    /// Opens a file or a directory of part files and reads their footers.
    pub fn open(uri: &str, options: &SourceOptions) -> Result<Self> {
        let root = PathBuf::from(uri);
        let paths = part_files(&root)?;
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let file = open_file(&path)?;
            let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
                .map_err(|e| parquet_error(&path, e))?;
            // Dictionary-encoded columns (a pandas `category`) are read as their values.
            let metadata = match plain_schema(metadata.schema()) {
                Some(plain) => ArrowReaderMetadata::try_new(
                    metadata.metadata().clone(),
                    ArrowReaderOptions::new().with_schema(plain),
                )
                .map_err(|e| parquet_error(&path, e))?,
                None => metadata,
            };
            let mut group_starts = Vec::new();
            let mut next = 0u64;
            for group in metadata.metadata().row_groups() {
                group_starts.push(next);
                next += group.num_rows().max(0) as u64;
            }
            if next >= 1 << ROW_BITS {
                return Err(Error::Parquet {
                    path,
                    message: format!(
                        "holds {next} rows; recon reads at most 2^{ROW_BITS} rows per file"
                    ),
                });
            }
            files.push(PartFile {
                path,
                metadata,
                group_starts,
            });
        }
        let schema = files[0].metadata.schema().clone();
        let first = files[0].path.clone();
        for part in &mut files[1..] {
            let Some(difference) = schema_difference(&schema, part.metadata.schema()) else {
                continue;
            };
            // Parts written by different tools may store text or bytes a little
            // differently (string vs large_string): read them as the first part's types.
            // Only then: the reader would also accept, say, nanoseconds as microseconds
            // and change every value.
            let as_first = same_but_offsets(&schema, part.metadata.schema())
                .then(|| {
                    ArrowReaderMetadata::try_new(
                        part.metadata.metadata().clone(),
                        ArrowReaderOptions::new().with_schema(schema.clone()),
                    )
                    .ok()
                })
                .flatten();
            match as_first {
                Some(metadata) => {
                    part.metadata = metadata;
                }
                _ => {
                    return Err(Error::Parquet {
                        path: part.path.clone(),
                        message: format!(
                            "its schema differs from {}'s: {difference}; all part files of a directory must share one schema (same columns, order and types)",
                            first.display()
                        ),
                    });
                }
            }
        }
        let splits = files
            .iter()
            .enumerate()
            .flat_map(|(f, part)| (0..part.group_starts.len()).map(move |g| (f, g)))
            .collect();
        let rows = files
            .iter()
            .map(|f| f.metadata.metadata().file_metadata().num_rows().max(0) as u64)
            .sum();
        Ok(ParquetSource {
            uri: uri.to_string(),
            files,
            splits,
            schema,
            batch_size: options.batch_size.max(1),
            rows,
        })
    }

    fn builder(
        &self,
        file: usize,
        projection: &[usize],
    ) -> Result<ParquetRecordBatchReaderBuilder<File>> {
        let part = &self.files[file];
        let handle = open_file(&part.path)?;
        let builder =
            ParquetRecordBatchReaderBuilder::new_with_metadata(handle, part.metadata.clone());
        let mask = ProjectionMask::roots(builder.parquet_schema(), projection.iter().copied());
        Ok(builder
            .with_projection(mask)
            .with_batch_size(self.batch_size))
    }
}

/// `schema` with every dictionary column as its value type; `None` when it has none.
fn plain_schema(schema: &Schema) -> Option<SchemaRef> {
    use arrow_schema::{DataType, Field};
    if !schema
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Dictionary(..)))
    {
        return None;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Dictionary(_, values) => f.as_ref().clone().with_data_type(*values.clone()),
            _ => f.as_ref().clone(),
        })
        .collect();
    Some(Arc::new(Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    )))
}

/// Whether two schemas name the same columns in the same order with the same types, but
/// for how text and bytes are laid out (Utf8, LargeUtf8 or Utf8View; Binary, LargeBinary
/// or BinaryView): the values read are the same either way.
fn same_but_offsets(first: &Schema, other: &Schema) -> bool {
    use arrow_schema::DataType::*;
    let family = |t: &arrow_schema::DataType| match t {
        Utf8 | LargeUtf8 | Utf8View => Some(0),
        Binary | LargeBinary | BinaryView => Some(1),
        _ => None,
    };
    first.fields().len() == other.fields().len()
        && first.fields().iter().zip(other.fields()).all(|(a, b)| {
            a.name() == b.name()
                && (a.data_type() == b.data_type()
                    || family(a.data_type()).is_some_and(|f| family(b.data_type()) == Some(f)))
        })
}

/// The first way `other` differs from `first` (column names, order and types), if any.
fn schema_difference(first: &Schema, other: &Schema) -> Option<String> {
    for (i, field) in first.fields().iter().enumerate() {
        let Some(theirs) = other.fields().get(i) else {
            return Some(format!(
                "it has no column {:?} (column {})",
                field.name(),
                i + 1
            ));
        };
        if theirs.name() != field.name() {
            return Some(format!(
                "column {} is {:?} there, {:?} here",
                i + 1,
                field.name(),
                theirs.name()
            ));
        }
        if theirs.data_type() != field.data_type() {
            return Some(format!(
                "column {:?} is {} there, {} here",
                field.name(),
                field.data_type(),
                theirs.data_type()
            ));
        }
    }
    other
        .fields()
        .get(first.fields().len())
        .map(|extra| format!("it has an extra column {:?}", extra.name()))
}

impl Source for ParquetSource {
    fn uri(&self) -> &str {
        &self.uri
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint {
            total: self.rows,
            unit: ProgressUnit::Rows,
            estimated_rows: self.rows,
        }
    }

    fn splits(&self) -> usize {
        self.splits.len()
    }

    fn read_split(
        &self,
        split: usize,
        projection: &[usize],
        sink: &mut dyn FnMut(Batch) -> Result<()>,
    ) -> Result<()> {
        let (file, group) = self.splits[split];
        let part = &self.files[file];
        let reader = self
            .builder(file, projection)?
            .with_row_groups(vec![group])
            .build()
            .map_err(|e| parquet_error(&part.path, e))?;
        let mut next_row = part.group_starts[group];
        let base = (file as u64) << ROW_BITS;
        for batch in reader {
            let columns = batch.map_err(|e| parquet_error(&part.path, e.into()))?;
            let rows = columns.num_rows() as u64;
            let locators = (next_row..next_row + rows).map(|r| base | r).collect();
            next_row += rows;
            sink(Batch {
                columns,
                locators,
                progress: rows,
            })?;
        }
        Ok(())
    }

    fn fetch(&self, projection: &[usize], locators: &[u64]) -> Result<RecordBatch> {
        let mut batches = Vec::new();
        let mut output_schema = None;
        let mut rest = locators;
        while let Some(&first) = rest.first() {
            let file = (first >> ROW_BITS) as usize;
            let in_file = rest.partition_point(|&l| (l >> ROW_BITS) as usize == file);
            let (these, after) = rest.split_at(in_file);
            rest = after;
            let part = self.files.get(file).ok_or_else(|| {
                Error::Internal(format!("locator {first:#x} names no file of {}", self.uri))
            })?;
            let rows: Vec<u64> = these.iter().map(|l| l & ((1 << ROW_BITS) - 1)).collect();
            // Read only the row groups that hold a wanted row, selecting just those rows.
            let mut groups = Vec::new();
            let mut selectors = Vec::new();
            let mut cursor = 0usize;
            for (g, &start) in part.group_starts.iter().enumerate() {
                let end = part.group_starts.get(g + 1).copied().unwrap_or(u64::MAX);
                let from = cursor;
                while cursor < rows.len() && rows[cursor] < end {
                    cursor += 1;
                }
                if from == cursor {
                    continue;
                }
                groups.push(g);
                let mut position = start;
                for &row in &rows[from..cursor] {
                    if row > position {
                        selectors.push(RowSelector::skip((row - position) as usize));
                    }
                    selectors.push(RowSelector::select(1));
                    position = row + 1;
                }
                let group_rows = part.metadata.metadata().row_group(g).num_rows() as u64;
                if start + group_rows > position {
                    selectors.push(RowSelector::skip((start + group_rows - position) as usize));
                }
            }
            let reader = self
                .builder(file, projection)?
                .with_row_groups(groups)
                .with_row_selection(RowSelection::from(selectors))
                .build()
                .map_err(|e| parquet_error(&part.path, e))?;
            output_schema.get_or_insert_with(|| reader_schema(&reader));
            for batch in reader {
                batches.push(batch.map_err(|e| parquet_error(&part.path, e.into()))?);
            }
        }
        let schema = match output_schema {
            Some(s) => s,
            None => Arc::new(
                self.schema
                    .project(projection)
                    .map_err(|e| Error::Internal(format!("projecting Parquet schema: {e}")))?,
            ),
        };
        arrow_select::concat::concat_batches(&schema, &batches)
            .map_err(|e| Error::Internal(format!("joining fetched Parquet rows: {e}")))
    }
}

fn reader_schema(reader: &parquet::arrow::arrow_reader::ParquetRecordBatchReader) -> SchemaRef {
    use arrow_array::RecordBatchReader;
    reader.schema()
}

/// The Parquet files behind `root`: itself, or the part files of a directory in name order.
fn part_files(root: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(root).map_err(|source| Error::Read {
        path: root.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Ok(vec![root.to_path_buf()]);
    }
    let entries = std::fs::read_dir(root).map_err(|source| Error::Read {
        path: root.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    let mut others = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Read {
            path: root.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Spark and friends leave _SUCCESS, _metadata and .crc files beside the parts.
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let is_part =
            name.ends_with(".parquet") || name.ends_with(".parq") || name.ends_with(".pq");
        if is_part && path.is_file() {
            files.push(path);
        } else {
            others.push(name.into_owned());
        }
    }
    // Reading only some of a directory would silently drop rows: refuse instead.
    if !others.is_empty() {
        others.sort();
        return Err(Error::Parquet {
            path: root.to_path_buf(),
            message: format!(
                "the directory holds entries recon does not read: {} (subdirectories such as hive-style partitions, or files without a .parquet name); point recon at a directory of .parquet part files only",
                others.join(", ")
            ),
        });
    }
    if files.is_empty() {
        return Err(Error::Parquet {
            path: root.to_path_buf(),
            message: "the directory holds no Parquet files (*.parquet); point --source/--target at a file or a directory of part files".into(),
        });
    }
    files.sort();
    Ok(files)
}

fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn parquet_error(path: &Path, error: parquet::errors::ParquetError) -> Error {
    let detail = error.to_string();
    let message = if detail.contains("codec") || detail.contains("Codec") {
        format!(
            "uses a compression codec this build of recon cannot read ({detail}); recon reads snappy, zstd, gzip and lz4"
        )
    } else {
        format!("not a readable Parquet file: {detail}; is it truncated or corrupt?")
    };
    Error::Parquet {
        path: path.to_path_buf(),
        message,
    }
}
