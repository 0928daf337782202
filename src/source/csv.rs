//! CSV files as a [`Source`]: every column is text (Arrow `Utf8`). An unquoted empty field
//! is NULL; a quoted empty field (`""`) is the empty string. The file is read as UTF-8;
//! the header names the columns. Locators are byte offsets of record starts.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_buffer::{Buffer, NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::csv_records::{ReadError, Record, RecordReader};
use super::{Batch, ProgressUnit, SizeHint, Source, SourceOptions};
use crate::error::{Error, Result};

/// Bytes a record is assumed to take when estimating row counts from file size.
const ESTIMATED_RECORD_BYTES: u64 = 100;
const SCAN_BUFFER: usize = 1 << 20;
const FETCH_BUFFER: usize = 8 << 10;

/// A CSV file with a header row.
#[derive(Debug)]
pub struct CsvSource {
    uri: String,
    path: PathBuf,
    delimiter: u8,
    batch_size: usize,
    schema: SchemaRef,
    data_offset: u64,
    data_line: u64,
    file_len: u64,
    estimated_rows: u64,
}

impl CsvSource {
    /// Opens `uri` and reads its header.
    pub fn open(uri: &str, options: &SourceOptions) -> Result<Self> {
        let path = PathBuf::from(uri);
        let file = open_file(&path)?;
        let file_len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut reader = RecordReader::with_capacity(file, options.delimiter, 1 << 16);
        let mut header = Record::default();
        let has_header = reader
            .read_record(&mut header)
            .map_err(|e| read_error(&path, e))?;
        if !has_header {
            return Err(Error::Csv {
                path,
                line: 1,
                message: "the file is empty; recon needs at least a header row naming the columns"
                    .into(),
            });
        }
        let mut fields = Vec::with_capacity(header.len());
        let mut seen = std::collections::HashSet::new();
        for i in 0..header.len() {
            let name = std::str::from_utf8(header.field(i)).map_err(|_| Error::Csv {
                path: path.clone(),
                line: header.line,
                message: format!(
                    "header field {} is not valid UTF-8; convert the file to UTF-8 (e.g. with iconv)",
                    i + 1
                ),
            })?;
            if !seen.insert(name.to_string()) {
                return Err(Error::Csv {
                    path: path.clone(),
                    line: header.line,
                    message: format!(
                        "the header names column {name:?} twice; column names must be unique"
                    ),
                });
            }
            fields.push(Field::new(name, DataType::Utf8, true));
        }
        let data_offset = reader.position();
        let header_bytes = data_offset.max(1);
        let estimated_rows = file_len
            .saturating_sub(header_bytes)
            .div_ceil(ESTIMATED_RECORD_BYTES.max(header_bytes / 2));
        Ok(CsvSource {
            uri: uri.to_string(),
            path,
            delimiter: options.delimiter,
            batch_size: options.batch_size.max(1),
            schema: Arc::new(Schema::new(fields)),
            data_offset,
            data_line: header.line + 1,
            file_len,
            estimated_rows,
        })
    }

    fn reader_at_data(&self, buffer: usize) -> Result<RecordReader<File>> {
        let file = open_file(&self.path)?;
        let mut reader = RecordReader::with_capacity(file, self.delimiter, buffer);
        reader
            .seek_to(self.data_offset, self.data_line)
            .map_err(|source| Error::Read {
                path: self.path.clone(),
                source,
            })?;
        Ok(reader)
    }

    fn check_width(&self, record: &Record) -> Result<()> {
        let expected = self.schema.fields().len();
        if record.len() != expected {
            return Err(Error::Csv {
                path: self.path.clone(),
                line: record.line,
                message: format!(
                    "expected {expected} fields (as in the header), found {}; check the delimiter and quoting on that line",
                    record.len()
                ),
            });
        }
        Ok(())
    }
}

impl Source for CsvSource {
    fn uri(&self) -> &str {
        &self.uri
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint {
            total: self.file_len,
            unit: ProgressUnit::Bytes,
            estimated_rows: self.estimated_rows,
        }
    }

    fn splits(&self) -> usize {
        1
    }

    fn read_split(
        &self,
        _split: usize,
        projection: &[usize],
        sink: &mut dyn FnMut(Batch) -> Result<()>,
    ) -> Result<()> {
        let mut reader = self.reader_at_data(SCAN_BUFFER)?;
        let mut record = Record::default();
        let mut builder = BatchBuilder::new(self, projection);
        let mut consumed = reader.position();
        loop {
            let more = reader
                .read_record(&mut record)
                .map_err(|e| read_error(&self.path, e))?;
            if more {
                self.check_width(&record)?;
                builder.push(&record);
            }
            if builder.len() == self.batch_size || (!more && builder.len() > 0) {
                let position = reader.position();
                let mut batch = builder.finish(self)?;
                batch.progress = position - consumed;
                consumed = position;
                sink(batch)?;
            }
            if !more {
                return Ok(());
            }
        }
    }

    fn fetch(&self, projection: &[usize], locators: &[u64]) -> Result<RecordBatch> {
        // A small buffer: fetched rows are usually far apart, and each refill reads at
        // least half a buffer.
        let mut reader = self.reader_at_data(FETCH_BUFFER)?;
        let mut record = Record::default();
        let mut builder = BatchBuilder::new(self, projection);
        for &offset in locators {
            // Line numbers are not known after a seek; 0 marks them as unknown.
            reader.seek_to(offset, 0).map_err(|source| Error::Read {
                path: self.path.clone(),
                source,
            })?;
            let found = reader
                .read_record(&mut record)
                .map_err(|e| read_error(&self.path, e))?;
            if !found || record.offset != offset {
                return Err(Error::Internal(format!(
                    "{}: no record starts at byte {offset}; was the file changed during the run?",
                    self.path.display()
                )));
            }
            self.check_width(&record)?;
            builder.push(&record);
        }
        Ok(builder.finish(self)?.columns)
    }
}

/// Accumulates projected fields of records into Arrow string columns.
struct BatchBuilder {
    projection: Vec<usize>,
    columns: Vec<ColumnBuilder>,
    locators: Vec<u64>,
    lines: Vec<u64>,
}

struct ColumnBuilder {
    values: Vec<u8>,
    offsets: Vec<i32>,
    nulls: NullBufferBuilder,
}

impl BatchBuilder {
    fn new(source: &CsvSource, projection: &[usize]) -> Self {
        let columns = projection
            .iter()
            .map(|_| ColumnBuilder {
                values: Vec::with_capacity(source.batch_size * 8),
                offsets: {
                    let mut o = Vec::with_capacity(source.batch_size + 1);
                    o.push(0);
                    o
                },
                nulls: NullBufferBuilder::new(source.batch_size),
            })
            .collect();
        BatchBuilder {
            projection: projection.to_vec(),
            columns,
            locators: Vec::with_capacity(source.batch_size),
            lines: Vec::with_capacity(source.batch_size),
        }
    }

    fn len(&self) -> usize {
        self.locators.len()
    }

    fn push(&mut self, record: &Record) {
        for (column, &index) in self.columns.iter_mut().zip(&self.projection) {
            let value = record.field(index);
            column.values.extend_from_slice(value);
            column.offsets.push(column.values.len() as i32);
            if value.is_empty() && !record.is_quoted(index) {
                column.nulls.append_null();
            } else {
                column.nulls.append_non_null();
            }
        }
        self.locators.push(record.offset);
        self.lines.push(record.line);
    }

    fn finish(&mut self, source: &CsvSource) -> Result<Batch> {
        let schema = Arc::new(
            source
                .schema
                .project(&self.projection)
                .map_err(|e| Error::Internal(format!("projecting CSV schema: {e}")))?,
        );
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for (position, column) in self.columns.iter_mut().enumerate() {
            if column.values.len() > i32::MAX as usize {
                return Err(Error::Csv {
                    path: source.path.clone(),
                    line: self.lines.first().copied().unwrap_or(0),
                    message: "a batch of this column holds more than 2 GiB of text; use a smaller --batch-size".into(),
                });
            }
            let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(
                &mut column.offsets,
                vec![0],
            )));
            let values = Buffer::from_vec(std::mem::take(&mut column.values));
            let nulls = column.nulls.finish();
            match StringArray::try_new(offsets.clone(), values.clone(), nulls) {
                Ok(array) => arrays.push(Arc::new(array)),
                Err(_) => {
                    let index = self.projection[position];
                    let row = first_invalid_utf8(&offsets, &values).unwrap_or(0);
                    return Err(Error::Csv {
                        path: source.path.clone(),
                        line: self.lines.get(row).copied().unwrap_or(0),
                        message: format!(
                            "column {:?} holds bytes that are not valid UTF-8; recon reads CSV as UTF-8: convert the file (e.g. iconv -f LATIN1 -t UTF-8)",
                            source.schema.field(index).name()
                        ),
                    });
                }
            }
        }
        let columns = RecordBatch::try_new_with_options(
            schema,
            arrays,
            &arrow_array::RecordBatchOptions::new().with_row_count(Some(self.locators.len())),
        )
        .map_err(|e| Error::Internal(format!("building a CSV batch: {e}")))?;
        self.lines.clear();
        Ok(Batch {
            columns,
            locators: std::mem::take(&mut self.locators),
            progress: 0,
        })
    }
}

fn first_invalid_utf8(offsets: &OffsetBuffer<i32>, values: &Buffer) -> Option<usize> {
    offsets.windows(2).position(|w| {
        std::str::from_utf8(&values.as_slice()[w[0] as usize..w[1] as usize]).is_err()
    })
}

fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_error(path: &Path, error: ReadError) -> Error {
    match error {
        ReadError::Io(source) => Error::Read {
            path: path.to_path_buf(),
            source,
        },
        ReadError::Syntax(e) => Error::Csv {
            path: path.to_path_buf(),
            line: e.line,
            message: e.message,
        },
    }
}
