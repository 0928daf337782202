//! CSV files as a [`Source`]: every column is text (Arrow `Utf8View`). An unquoted empty
//! field is NULL; a quoted empty field (`""`) is the empty string. The file is read as
//! UTF-8; the header names the columns. Locators are byte offsets of record starts.
//!
//! The file is read in chunks of a few MiB; string views point straight into each chunk,
//! so a field is never copied on its way into a batch (only fields with doubled quotes are
//! unescaped into a side buffer).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, StringViewArray};
use arrow_buffer::{Buffer, NullBufferBuilder, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::csv_records::{
    FieldSpan, ReadError, Record, RecordReader, Scan, scan_record, skip_blank_lines,
};
use super::{Batch, ProgressUnit, SizeHint, Source, SourceOptions};
use crate::error::{Error, Result};

/// Bytes a record is assumed to take when estimating row counts from file size.
const ESTIMATED_RECORD_BYTES: u64 = 100;
/// Bytes read per chunk while scanning.
const CHUNK_BYTES: usize = 4 << 20;
/// Read buffer when fetching rows again: they are usually far apart, and each refill
/// reads at least half a buffer.
const FETCH_BUFFER: usize = 8 << 10;
/// The most bytes one buffer behind string views may hold: a view stores its offset and
/// length in 32 bits each.
const VIEW_BUFFER_LIMIT: usize = u32::MAX as usize;

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
        // Without --delimiter: a tab for .tsv and .tab files, else a comma.
        let tabbed = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("tsv") || e.eq_ignore_ascii_case("tab"));
        let delimiter = options
            .file
            .delimiter
            .unwrap_or(if tabbed { b'\t' } else { b',' });
        let mut reader = RecordReader::with_capacity(file, delimiter, 1 << 16);
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
            fields.push(Field::new(name, DataType::Utf8View, true));
        }
        let data_offset = reader.position();
        let estimated_rows = file_len
            .saturating_sub(data_offset)
            .div_ceil(ESTIMATED_RECORD_BYTES.max(data_offset / 2));
        Ok(CsvSource {
            uri: uri.to_string(),
            path,
            delimiter,
            batch_size: options.batch_size.max(1),
            schema: Arc::new(Schema::new(fields)),
            data_offset,
            data_line: reader.line(),
            file_len,
            estimated_rows,
        })
    }

    fn width_error(&self, found: usize, line: u64) -> Error {
        let expected = self.schema.fields().len();
        Error::Csv {
            path: self.path.clone(),
            line,
            message: format!(
                "expected {expected} fields (as in the header), found {found}; check the delimiter and quoting on that line"
            ),
        }
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
        let mut file = open_file(&self.path)?;
        file.seek(SeekFrom::Start(self.data_offset))
            .map_err(|e| read_error(&self.path, ReadError::Io(e)))?;
        let width = self.schema.fields().len();
        let mut carry: Vec<u8> = Vec::new();
        let mut chunk_offset = self.data_offset;
        let mut line = self.data_line;
        let mut eof = false;
        let mut want = CHUNK_BYTES;
        let mut spans = Vec::with_capacity(width);
        while !(eof && carry.is_empty()) {
            let mut chunk = Vec::with_capacity(want.max(carry.len() + CHUNK_BYTES / 2));
            chunk.append(&mut carry);
            while chunk.len() < want && !eof {
                let before = chunk.len();
                let n = (&mut file)
                    .take((want - before) as u64)
                    .read_to_end(&mut chunk)
                    .map_err(|e| read_error(&self.path, ReadError::Io(e)))?;
                eof = n == 0;
            }
            let mut unescaped = Vec::new();
            let mut batches: Vec<ViewBatch> = Vec::new();
            let mut current = ViewBatch::new(projection, self.batch_size);
            let mut pos = 0;
            while let Some((start, skipped)) = skip_blank_lines(&chunk, pos, eof) {
                pos = start;
                line += skipped;
                if pos == chunk.len() {
                    break;
                }
                spans.clear();
                let mark = unescaped.len();
                let scanned = scan_record(
                    &chunk,
                    pos,
                    eof,
                    self.delimiter,
                    line,
                    &mut spans,
                    &mut unescaped,
                )
                .map_err(|e| read_error(&self.path, ReadError::Syntax(e)))?;
                match scanned {
                    Scan::NeedMore => {
                        unescaped.truncate(mark);
                        break;
                    }
                    Scan::Complete { next, newlines } => {
                        if spans.len() != width {
                            return Err(self.width_error(spans.len(), line));
                        }
                        current.push(&chunk, &unescaped, &spans, chunk_offset + pos as u64, line);
                        line += newlines;
                        pos = next;
                        if current.len() == self.batch_size {
                            batches.push(std::mem::replace(
                                &mut current,
                                ViewBatch::new(projection, self.batch_size),
                            ));
                        }
                    }
                }
            }
            if current.len() > 0 {
                batches.push(current);
            }
            if batches.is_empty() && pos < chunk.len() && !eof {
                // One record is longer than the chunk: read a larger one, up to what
                // the views can address.
                if chunk.len() >= VIEW_BUFFER_LIMIT {
                    return Err(self.oversized(chunk_offset + pos as u64, line));
                }
                want = (chunk.len() * 2).min(VIEW_BUFFER_LIMIT);
            } else {
                want = CHUNK_BYTES;
            }
            carry.extend_from_slice(&chunk[pos..]);
            chunk.truncate(pos);
            let consumed = pos as u64;
            self.check_utf8(&chunk, &unescaped, &batches)?;
            let buffers: Arc<[Buffer]> =
                Arc::new([Buffer::from_vec(chunk), Buffer::from_vec(unescaped)]);
            let count = batches.len();
            for (i, batch) in batches.into_iter().enumerate() {
                let mut batch = batch.finish(&self.schema, projection, &buffers)?;
                batch.progress = if i + 1 == count { consumed } else { 0 };
                sink(batch)?;
            }
            chunk_offset += consumed;
        }
        Ok(())
    }

    fn fetch(&self, projection: &[usize], locators: &[u64]) -> Result<RecordBatch> {
        self.fetch_bounded(projection, locators, VIEW_BUFFER_LIMIT)
    }
}

impl CsvSource {
    /// [`Source::fetch`], gathering the records into buffers of at most `limit` bytes
    /// each (the views' 32-bit offsets must reach every byte); a test lowers the limit.
    fn fetch_bounded(
        &self,
        projection: &[usize],
        locators: &[u64],
        limit: usize,
    ) -> Result<RecordBatch> {
        let file = open_file(&self.path)?;
        let mut reader = RecordReader::with_capacity(file, self.delimiter, FETCH_BUFFER);
        let mut record = Record::default();
        let mut raw = Vec::new();
        let mut unescaped = Vec::new();
        let mut batch = ViewBatch::new(projection, locators.len());
        let mut spans = Vec::new();
        let mut parts = Vec::new();
        for &offset in locators {
            // Line numbers are not known after a seek; 0 marks them as unknown.
            reader
                .seek_to(offset, 0)
                .map_err(|e| read_error(&self.path, ReadError::Io(e)))?;
            let found = reader
                .read_record(&mut record)
                .map_err(|e| read_error(&self.path, e))?;
            if !found || record.offset != offset {
                return Err(Error::SourceChanged {
                    uri: self.path.display().to_string(),
                    message: format!(
                        "no record starts at byte {offset}; was the file changed during the run?"
                    ),
                });
            }
            if record.len() != self.schema.fields().len() {
                return Err(self.width_error(record.len(), record.line));
            }
            // Gather the fetched records into one buffer, rebasing their spans; a buffer
            // about to pass the limit is finished first and a new one begun.
            let (bytes, record_spans, record_unescaped) = record.parts();
            if bytes.len().max(record_unescaped.len()) > limit {
                return Err(self.oversized(offset, record.line));
            }
            if raw.len() + bytes.len() > limit || unescaped.len() + record_unescaped.len() > limit {
                let full = std::mem::replace(&mut batch, ViewBatch::new(projection, 0));
                parts.push(self.finish_fetched(
                    projection,
                    std::mem::take(&mut raw),
                    std::mem::take(&mut unescaped),
                    full,
                )?);
            }
            let (base, escape_base) = (raw.len(), unescaped.len());
            raw.extend_from_slice(bytes);
            unescaped.extend_from_slice(record_unescaped);
            spans.clear();
            spans.extend(record_spans.iter().map(|s| {
                let shift = if s.escaped { escape_base } else { base };
                FieldSpan {
                    start: s.start + shift,
                    end: s.end + shift,
                    ..*s
                }
            }));
            batch.push(&raw, &unescaped, &spans, offset, 0);
        }
        let last = self.finish_fetched(projection, raw, unescaped, batch)?;
        if parts.is_empty() {
            return Ok(last);
        }
        parts.push(last);
        arrow_select::concat::concat_batches(&parts[0].schema(), &parts)
            .map_err(|e| Error::Internal(format!("joining fetched CSV rows: {e}")))
    }

    /// The fetched records whose views point into `raw` and `unescaped`, as a batch.
    fn finish_fetched(
        &self,
        projection: &[usize],
        raw: Vec<u8>,
        unescaped: Vec<u8>,
        batch: ViewBatch,
    ) -> Result<RecordBatch> {
        self.check_utf8(&raw, &unescaped, std::slice::from_ref(&batch))?;
        let buffers: Arc<[Buffer]> = Arc::new([Buffer::from_vec(raw), Buffer::from_vec(unescaped)]);
        Ok(batch.finish(&self.schema, projection, &buffers)?.columns)
    }

    /// The error for a record too long for string views to address (`line` 0: not
    /// known, as after a seek).
    fn oversized(&self, offset: u64, line: u64) -> Error {
        let message = format!(
            "the record at byte {offset} is longer than {VIEW_BUFFER_LIMIT} bytes, more than recon can hold in one buffer; check the quoting (an unclosed quote makes the rest of the file one field)"
        );
        if line == 0 {
            Error::Read {
                path: self.path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, message),
            }
        } else {
            Error::Csv {
                path: self.path.clone(),
                line,
                message,
            }
        }
    }

    /// Checks that the bytes behind a chunk's views are UTF-8. The delimiter, quotes and
    /// line breaks are ASCII, so every field of a valid chunk is valid on its own; when
    /// the chunk is not, each projected field is checked on its own (a column that is
    /// not compared may hold anything).
    fn check_utf8(&self, chunk: &[u8], unescaped: &[u8], batches: &[ViewBatch]) -> Result<()> {
        if std::str::from_utf8(chunk).is_ok() && std::str::from_utf8(unescaped).is_ok() {
            return Ok(());
        }
        // Some bytes are not UTF-8: fine if they are only in columns recon does not read.
        // Check each projected field; the first bad one names line and column.
        for batch in batches {
            for (row, line) in batch.lines.iter().enumerate() {
                for (views, &index) in batch.views.iter().zip(&batch.projection) {
                    let view = views[row];
                    let len = view as u32 as usize;
                    let inline = view.to_le_bytes();
                    let bytes = if len <= 12 {
                        &inline[4..4 + len]
                    } else {
                        let offset = (view >> 96) as u32 as usize;
                        let buffer = if (view >> 64) as u32 == 0 {
                            chunk
                        } else {
                            unescaped
                        };
                        &buffer[offset..offset + len]
                    };
                    if std::str::from_utf8(bytes).is_err() {
                        return Err(Error::Csv {
                            path: self.path.clone(),
                            line: *line,
                            message: format!(
                                "column {:?} holds bytes that are not valid UTF-8; recon reads CSV as UTF-8: convert the file (e.g. iconv -f LATIN1 -t UTF-8)",
                                self.schema.field(index).name()
                            ),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// Views of the projected fields of some records, waiting for their buffers.
struct ViewBatch {
    projection: Vec<usize>,
    views: Vec<Vec<u128>>,
    nulls: Vec<NullBufferBuilder>,
    locators: Vec<u64>,
    lines: Vec<u64>,
}

impl ViewBatch {
    fn new(projection: &[usize], capacity: usize) -> Self {
        ViewBatch {
            projection: projection.to_vec(),
            views: projection
                .iter()
                .map(|_| Vec::with_capacity(capacity))
                .collect(),
            nulls: projection
                .iter()
                .map(|_| NullBufferBuilder::new(capacity))
                .collect(),
            locators: Vec::with_capacity(capacity),
            lines: Vec::with_capacity(capacity),
        }
    }

    fn len(&self) -> usize {
        self.locators.len()
    }

    /// Adds one record whose spans point into `chunk` (buffer 0) or `unescaped` (buffer 1).
    #[inline]
    fn push(
        &mut self,
        chunk: &[u8],
        unescaped: &[u8],
        spans: &[FieldSpan],
        locator: u64,
        line: u64,
    ) {
        for ((views, nulls), &index) in self
            .views
            .iter_mut()
            .zip(&mut self.nulls)
            .zip(&self.projection)
        {
            let span = spans[index];
            views.push(if span.escaped {
                view_at(unescaped, span.start, span.end, 1)
            } else {
                view_at(chunk, span.start, span.end, 0)
            });
            if span.start == span.end && !span.quoted {
                nulls.append_null();
            } else {
                nulls.append_non_null();
            }
        }
        self.locators.push(locator);
        self.lines.push(line);
    }

    fn finish(
        self,
        schema: &SchemaRef,
        projection: &[usize],
        buffers: &Arc<[Buffer]>,
    ) -> Result<Batch> {
        let projected = Arc::new(
            schema
                .project(projection)
                .map_err(|e| Error::Internal(format!("projecting CSV schema: {e}")))?,
        );
        let rows = self.locators.len();
        let arrays: Vec<ArrayRef> = self
            .views
            .into_iter()
            .zip(self.nulls)
            .map(|(views, mut nulls)| {
                // SAFETY: every view was made by `view_at` from a span inside
                // `buffers[block]`, at its offset, with its length; no buffer is longer
                // than VIEW_BUFFER_LIMIT (read_split's chunks and fetch_bounded's gathers
                // stop there), so offset and length fit the view's 32 bits. Both buffers
                // were checked to be UTF-8 (`check_utf8`) and spans start and end next to
                // ASCII delimiters, quotes or line breaks, so each view is valid UTF-8 —
                // exactly what `StringViewArray::try_new` would verify, view by view.
                let array = unsafe {
                    StringViewArray::new_unchecked(
                        ScalarBuffer::from(views),
                        buffers.clone(),
                        nulls.finish(),
                    )
                };
                Arc::new(array) as ArrayRef
            })
            .collect();
        let columns = RecordBatch::try_new_with_options(
            projected,
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map_err(|e| Error::Internal(format!("building a CSV batch: {e}")))?;
        Ok(Batch {
            columns,
            locators: self.locators,
            progress: 0,
        })
    }
}

/// The Arrow string view of `buffer[start..end]`, stored in buffer `block`: the layout of
/// `arrow_array::builder::make_view`, with the short-string case done by one fixed-size
/// load and a mask instead of a variable-length copy (this runs for every CSV field).
#[inline(always)]
fn view_at(buffer: &[u8], start: usize, end: usize, block: u32) -> u128 {
    debug_assert!(
        end <= VIEW_BUFFER_LIMIT,
        "a view's offset and length are 32 bits"
    );
    let len = end - start;
    if len > 12 {
        let prefix = u32::from_le_bytes([
            buffer[start],
            buffer[start + 1],
            buffer[start + 2],
            buffer[start + 3],
        ]);
        return len as u128
            | (u128::from(prefix) << 32)
            | (u128::from(block) << 64)
            | ((start as u128) << 96);
    }
    if len == 0 {
        return 0;
    }
    let data = match buffer.get(start..start + 16) {
        Some(window) => {
            let raw = u128::from_le_bytes(window.try_into().expect("16 bytes"));
            raw & (u128::MAX >> (128 - 8 * len))
        }
        None => {
            let mut inline = [0u8; 16];
            inline[..len].copy_from_slice(&buffer[start..end]);
            u128::from_le_bytes(inline)
        }
    };
    len as u128 | (data << 32)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetched_rows_split_into_buffers_at_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let mut text = String::from("id,v\n");
        for i in 0..40 {
            text.push_str(&format!(
                "{i},\"value \"\"{i}\"\" is longer than twelve bytes\"\n"
            ));
        }
        std::fs::write(&path, text).unwrap();
        let source = CsvSource::open(path.to_str().unwrap(), &SourceOptions::default()).unwrap();
        let mut locators = Vec::new();
        source
            .read_split(0, &[0, 1], &mut |batch| {
                locators.extend(batch.locators);
                Ok(())
            })
            .unwrap();
        assert_eq!(locators.len(), 40);
        let whole = source.fetch(&[0, 1], &locators).unwrap();
        // About three records a buffer: many buffers, the same rows.
        let split = source.fetch_bounded(&[0, 1], &locators, 150).unwrap();
        assert_eq!(split, whole);
        let values = split
            .column(1)
            .as_any()
            .downcast_ref::<StringViewArray>()
            .unwrap();
        assert_eq!(values.value(39), "value \"39\" is longer than twelve bytes");
        // A record longer than the bound is refused, never packed into a wrong view.
        let error = source.fetch_bounded(&[0, 1], &locators, 20).unwrap_err();
        assert!(error.to_string().contains("is longer than"), "{error}");
    }

    #[test]
    fn views_match_arrows_own_layout() {
        let buffer = b"xx,a,twelve bytes,thirteen byte,a much longer string here,end";
        let mut start = 0;
        for field in buffer.split(|&b| b == b',') {
            let end = start + field.len();
            for block in [0, 1] {
                assert_eq!(
                    view_at(buffer, start, end, block),
                    arrow_array::builder::make_view(field, block, start as u32),
                    "{:?}",
                    String::from_utf8_lossy(field)
                );
            }
            start = end + 1;
        }
        assert_eq!(
            view_at(b"ab", 1, 1, 0),
            arrow_array::builder::make_view(b"", 0, 1)
        );
    }
}
