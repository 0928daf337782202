//! A streaming RFC 4180 record scanner that keeps what recon needs and the `csv` crate
//! does not expose: whether a field was quoted (an unquoted empty field is NULL, a quoted
//! `""` is the empty string), the byte offset where each record starts (the locator used
//! to fetch a row again), and the physical line number (for error messages).
//!
//! [`scan_record`] finds the fields of one record in a buffer without copying them (only
//! fields with doubled quotes are unescaped into a side buffer), so the CSV source can
//! point Arrow string views straight into the bytes it read. [`RecordReader`] wraps it
//! for record-at-a-time reading with seeks (the header, and fetching rows again).
//!
//! It owns splitting bytes into records and fields. It does not know about columns,
//! types or Arrow.

use std::io::{self, Read, Seek, SeekFrom};

const INITIAL_BUFFER: usize = 1 << 20;
const QUOTE: u8 = b'"';

/// Where one field's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpan {
    /// Start of the bytes: in the scanned buffer, or in the unescape buffer if `escaped`.
    pub start: usize,
    /// End of the bytes (exclusive).
    pub end: usize,
    /// Whether the field was enclosed in quotes.
    pub quoted: bool,
    /// Whether the bytes live in the unescape buffer (the field had doubled quotes).
    pub escaped: bool,
}

/// Outcome of scanning one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// A record ended; the next one starts at `next`. `newlines` counts line breaks
    /// consumed, including the terminator.
    Complete {
        /// Index of the first byte after the record and its terminator.
        next: usize,
        /// Line breaks inside the record and its terminator.
        newlines: u64,
    },
    /// The buffer ended before the record did: scan again with more input. Spans and
    /// unescaped bytes added by this call must be discarded.
    NeedMore,
}

/// A malformed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line where the problem is.
    pub line: u64,
    /// What is wrong, in words.
    pub message: String,
}

/// Scans the record starting at `buf[start]` (which must not be a line break), appending
/// one span per field. `eof` says no bytes follow `buf`. `line` is the record's first line.
pub fn scan_record(
    buf: &[u8],
    start: usize,
    eof: bool,
    delimiter: u8,
    line: u64,
    spans: &mut Vec<FieldSpan>,
    unescaped: &mut Vec<u8>,
) -> Result<Scan, SyntaxError> {
    let mut i = start;
    let mut newlines = 0u64;
    let end_at_cr = |i: usize, newlines: u64| -> Scan {
        if i + 1 < buf.len() {
            let next = if buf[i + 1] == b'\n' { i + 2 } else { i + 1 };
            Scan::Complete {
                next,
                newlines: newlines + 1,
            }
        } else if eof {
            Scan::Complete {
                next: i + 1,
                newlines: newlines + 1,
            }
        } else {
            Scan::NeedMore
        }
    };
    loop {
        if i < buf.len() && buf[i] == QUOTE {
            // A quoted field: runs to the next quote that is not doubled.
            i += 1;
            let content = i;
            let mut escaped_from: Option<usize> = None;
            loop {
                let Some(rel) = memchr::memchr(QUOTE, &buf[i..]) else {
                    if !eof {
                        return Ok(Scan::NeedMore);
                    }
                    return Err(SyntaxError {
                        line,
                        message: "a quoted field is never closed (missing closing quote)".into(),
                    });
                };
                newlines += memchr::memchr_iter(b'\n', &buf[i..i + rel]).count() as u64;
                if escaped_from.is_some() {
                    unescaped.extend_from_slice(&buf[i..i + rel]);
                }
                i += rel + 1;
                if i == buf.len() && !eof {
                    return Ok(Scan::NeedMore);
                }
                if i < buf.len() && buf[i] == QUOTE {
                    // A doubled quote: the field needs unescaping.
                    if escaped_from.is_none() {
                        escaped_from = Some(unescaped.len());
                        unescaped.extend_from_slice(&buf[content..i - 1]);
                    }
                    unescaped.push(QUOTE);
                    i += 1;
                    continue;
                }
                break;
            }
            spans.push(match escaped_from {
                Some(from) => FieldSpan {
                    start: from,
                    end: unescaped.len(),
                    quoted: true,
                    escaped: true,
                },
                None => FieldSpan {
                    start: content,
                    end: i - 1,
                    quoted: true,
                    escaped: false,
                },
            });
            if i == buf.len() {
                return Ok(Scan::Complete { next: i, newlines });
            }
            match buf[i] {
                b if b == delimiter => {
                    i += 1;
                    if i == buf.len() {
                        if !eof {
                            return Ok(Scan::NeedMore);
                        }
                        spans.push(FieldSpan {
                            start: i,
                            end: i,
                            quoted: false,
                            escaped: false,
                        });
                        return Ok(Scan::Complete { next: i, newlines });
                    }
                }
                b'\n' => {
                    return Ok(Scan::Complete {
                        next: i + 1,
                        newlines: newlines + 1,
                    });
                }
                b'\r' => return Ok(end_at_cr(i, newlines)),
                other => {
                    return Err(SyntaxError {
                        line: line + newlines,
                        message: format!(
                            "unexpected character {:?} after a closing quote (a quote inside a quoted field must be doubled; if a quote opened earlier was never closed, look at the record that starts on line {line})",
                            other as char
                        ),
                    });
                }
            }
        } else {
            match memchr::memchr3(delimiter, b'\n', b'\r', &buf[i..]) {
                Some(rel) => {
                    spans.push(FieldSpan {
                        start: i,
                        end: i + rel,
                        quoted: false,
                        escaped: false,
                    });
                    i += rel;
                    match buf[i] {
                        b'\n' => {
                            return Ok(Scan::Complete {
                                next: i + 1,
                                newlines: newlines + 1,
                            });
                        }
                        b'\r' => return Ok(end_at_cr(i, newlines)),
                        _ => {
                            i += 1;
                            if i == buf.len() {
                                if !eof {
                                    return Ok(Scan::NeedMore);
                                }
                                spans.push(FieldSpan {
                                    start: i,
                                    end: i,
                                    quoted: false,
                                    escaped: false,
                                });
                                return Ok(Scan::Complete { next: i, newlines });
                            }
                        }
                    }
                }
                None => {
                    if !eof {
                        return Ok(Scan::NeedMore);
                    }
                    spans.push(FieldSpan {
                        start: i,
                        end: buf.len(),
                        quoted: false,
                        escaped: false,
                    });
                    return Ok(Scan::Complete {
                        next: buf.len(),
                        newlines,
                    });
                }
            }
        }
    }
}

/// Skips blank lines at `buf[pos..]`. Returns the new position and lines skipped, or
/// `None` when a lone `\r` at the end needs the next byte to decide.
pub fn skip_blank_lines(buf: &[u8], mut pos: usize, eof: bool) -> Option<(usize, u64)> {
    let mut lines = 0;
    while pos < buf.len() {
        match buf[pos] {
            b'\n' => pos += 1,
            b'\r' => {
                if pos + 1 == buf.len() && !eof {
                    return None;
                }
                pos += 1;
                if pos < buf.len() && buf[pos] == b'\n' {
                    pos += 1;
                }
            }
            _ => break,
        }
        lines += 1;
    }
    Some((pos, lines))
}

/// One record read by [`RecordReader`], holding its own copy of the bytes.
#[derive(Debug, Default, Clone)]
pub struct Record {
    raw: Vec<u8>,
    spans: Vec<FieldSpan>,
    unescaped: Vec<u8>,
    /// Byte offset of the record's first byte in the file.
    pub offset: u64,
    /// 1-based physical line on which the record starts.
    pub line: u64,
}

impl Record {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The unescaped bytes of field `i`.
    pub fn field(&self, i: usize) -> &[u8] {
        let span = self.spans[i];
        if span.escaped {
            &self.unescaped[span.start..span.end]
        } else {
            &self.raw[span.start..span.end]
        }
    }

    /// Whether field `i` was enclosed in quotes in the file.
    pub fn is_quoted(&self, i: usize) -> bool {
        self.spans[i].quoted
    }

    /// The record's bytes as in the file (without its terminator's tail), the spans of
    /// its fields relative to them, and the unescape buffer escaped spans point into.
    pub fn parts(&self) -> (&[u8], &[FieldSpan], &[u8]) {
        (&self.raw, &self.spans, &self.unescaped)
    }
}

/// Why reading a record failed.
#[derive(Debug)]
pub enum ReadError {
    /// The underlying reader failed.
    Io(io::Error),
    /// The bytes are not valid CSV.
    Syntax(SyntaxError),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Reads records one at a time from any byte stream.
pub struct RecordReader<R> {
    inner: R,
    buf: Vec<u8>,
    cursor: usize,
    filled: usize,
    eof: bool,
    buf_offset: u64,
    line: u64,
    delimiter: u8,
    first_read: bool,
}

impl<R: Read> RecordReader<R> {
    /// A reader positioned at the start of a file (a UTF-8 byte order mark is skipped).
    pub fn new(inner: R, delimiter: u8) -> Self {
        Self::with_capacity(inner, delimiter, INITIAL_BUFFER)
    }

    /// Like [`RecordReader::new`], with the size of the read buffer.
    pub fn with_capacity(inner: R, delimiter: u8, capacity: usize) -> Self {
        RecordReader {
            inner,
            buf: vec![0; capacity.max(64)],
            cursor: 0,
            filled: 0,
            eof: false,
            buf_offset: 0,
            line: 1,
            delimiter,
            first_read: true,
        }
    }

    /// Byte offset of the next unread byte.
    pub fn position(&self) -> u64 {
        self.buf_offset + self.cursor as u64
    }

    /// The line number of the next unread byte.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Reads the next record into `record`. Returns `Ok(false)` at end of input.
    /// Blank lines are skipped.
    pub fn read_record(&mut self, record: &mut Record) -> Result<bool, ReadError> {
        loop {
            if self.cursor == self.filled {
                if !self.refill()? {
                    return Ok(false);
                }
                continue;
            }
            let buf = &self.buf[..self.filled];
            let Some((pos, skipped)) = skip_blank_lines(buf, self.cursor, self.eof) else {
                self.refill()?;
                continue;
            };
            self.cursor = pos;
            self.line += skipped;
            if pos == self.filled {
                continue;
            }
            record.spans.clear();
            record.unescaped.clear();
            let scanned = scan_record(
                buf,
                pos,
                self.eof,
                self.delimiter,
                self.line,
                &mut record.spans,
                &mut record.unescaped,
            )
            .map_err(ReadError::Syntax)?;
            match scanned {
                Scan::Complete { next, newlines } => {
                    record.raw.clear();
                    record.raw.extend_from_slice(&buf[pos..next]);
                    for span in record.spans.iter_mut().filter(|s| !s.escaped) {
                        span.start -= pos;
                        span.end -= pos;
                    }
                    record.offset = self.buf_offset + pos as u64;
                    record.line = self.line;
                    self.line += newlines;
                    self.cursor = next;
                    return Ok(true);
                }
                Scan::NeedMore => {
                    self.refill()?;
                }
            }
        }
    }

    /// Moves unread bytes to the front and reads more. Returns false when nothing was
    /// added because the input is exhausted.
    fn refill(&mut self) -> Result<bool, ReadError> {
        if self.eof {
            return Ok(false);
        }
        if self.cursor > 0 {
            self.buf.copy_within(self.cursor..self.filled, 0);
            self.buf_offset += self.cursor as u64;
            self.filled -= self.cursor;
            self.cursor = 0;
        }
        if self.filled == self.buf.len() {
            // One record is larger than the buffer: grow it.
            let len = self.buf.len();
            self.buf.resize(len * 2, 0);
        }
        let mut added = false;
        while self.filled < self.buf.len() {
            let n = match self.inner.read(&mut self.buf[self.filled..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                self.eof = true;
                break;
            }
            self.filled += n;
            added = true;
            if self.filled >= self.buf.len() / 2 {
                break;
            }
        }
        if self.first_read {
            self.first_read = false;
            if self.buf[..self.filled].starts_with(b"\xEF\xBB\xBF") {
                self.cursor = 3;
            }
        }
        Ok(added || self.eof)
    }
}

impl<R: Read + Seek> RecordReader<R> {
    /// Positions the reader at byte `offset` (a record start) with `line` as its line
    /// number. Forward moves inside the buffered window cost no system call.
    pub fn seek_to(&mut self, offset: u64, line: u64) -> io::Result<()> {
        let window = self.buf_offset..self.buf_offset + self.filled as u64;
        self.first_read = false;
        self.line = line;
        if window.contains(&offset) {
            self.cursor = (offset - self.buf_offset) as usize;
            return Ok(());
        }
        self.inner.seek(SeekFrom::Start(offset))?;
        self.buf_offset = offset;
        self.cursor = 0;
        self.filled = 0;
        self.eof = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields (text, quoted), offset and line of each record.
    type Parsed = Vec<(Vec<(String, bool)>, u64, u64)>;

    fn records(input: &[u8], capacity: usize) -> Parsed {
        let mut reader = RecordReader::with_capacity(input, b',', capacity);
        let mut rec = Record::default();
        let mut out = Vec::new();
        while reader.read_record(&mut rec).unwrap() {
            let fields = (0..rec.len())
                .map(|i| {
                    (
                        String::from_utf8(rec.field(i).to_vec()).unwrap(),
                        rec.is_quoted(i),
                    )
                })
                .collect();
            out.push((fields, rec.offset, rec.line));
        }
        out
    }

    fn plain(input: &[u8], capacity: usize) -> Vec<Vec<String>> {
        records(input, capacity)
            .into_iter()
            .map(|(f, _, _)| f.into_iter().map(|(s, _)| s).collect())
            .collect()
    }

    #[test]
    fn simple_records_with_offsets_and_lines() {
        let got = records(b"a,b\n1,2\r\n3,4", 64);
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].1, 4);
        assert_eq!(got[2].1, 9);
        assert_eq!(got[2].2, 3);
        assert_eq!(got[2].0[1].0, "4");
    }

    #[test]
    fn quoted_fields_keep_delimiters_quotes_and_newlines() {
        let input = b"id,text\n1,\"a,b\"\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\"\n4,x\n";
        let got = records(input, 64);
        assert_eq!(got[1].0[1], ("a,b".to_string(), true));
        assert_eq!(got[2].0[1].0, "say \"hi\"");
        assert_eq!(got[3].0[1].0, "two\nlines");
        assert_eq!(got[4].2, 6, "line numbers count newlines inside quotes");
    }

    #[test]
    fn empty_unquoted_and_quoted_fields_are_told_apart() {
        let got = records(b"a,b,c\n,\"\",\n", 64);
        assert_eq!(
            got[1].0,
            vec![("".into(), false), ("".into(), true), ("".into(), false)]
        );
    }

    #[test]
    fn bom_and_blank_lines_are_skipped() {
        let got = plain(b"\xEF\xBB\xBFa,b\n\n1,2\n\r\n", 64);
        assert_eq!(got, vec![vec!["a", "b"], vec!["1", "2"]]);
    }

    #[test]
    fn records_spanning_buffer_refills_parse_identically() {
        let mut input = b"id,text,n\n".to_vec();
        for i in 0..200 {
            input.extend_from_slice(format!("{i},\"x,\"\"{i}\"\"\ny\",{}\r\n", i * 7).as_bytes());
        }
        let big = plain(&input, 1 << 20);
        for cap in [64, 65, 100, 333] {
            assert_eq!(plain(&input, cap), big, "capacity {cap}");
        }
        assert_eq!(big.len(), 201);
        assert_eq!(big[200][1], "x,\"199\"\ny");
    }

    #[test]
    fn trailing_delimiter_gives_an_empty_last_field() {
        assert_eq!(plain(b"a,\n", 64), vec![vec!["a", ""]]);
        assert_eq!(plain(b"a,", 64), vec![vec!["a", ""]]);
    }

    #[test]
    fn unterminated_quote_is_an_error_with_its_line() {
        let mut reader = RecordReader::new(&b"a\n\"open\n"[..], b',');
        let mut rec = Record::default();
        assert!(reader.read_record(&mut rec).unwrap());
        match reader.read_record(&mut rec) {
            Err(ReadError::Syntax(e)) => assert_eq!(e.line, 2),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn garbage_after_closing_quote_is_an_error() {
        let mut reader = RecordReader::new(&b"\"a\"b,c\n"[..], b',');
        let mut rec = Record::default();
        assert!(matches!(
            reader.read_record(&mut rec),
            Err(ReadError::Syntax(_))
        ));
    }

    #[test]
    fn seek_to_rereads_a_record_at_its_offset() {
        let input = b"a,b\n1,2\n3,\"x\ny\"\n5,6\n".to_vec();
        let mut reader = RecordReader::with_capacity(std::io::Cursor::new(input), b',', 64);
        let mut rec = Record::default();
        let mut offsets = Vec::new();
        while reader.read_record(&mut rec).unwrap() {
            offsets.push((rec.offset, rec.line));
        }
        reader.seek_to(offsets[2].0, offsets[2].1).unwrap();
        assert!(reader.read_record(&mut rec).unwrap());
        assert_eq!(rec.field(1), b"x\ny");
        reader.seek_to(offsets[1].0, offsets[1].1).unwrap();
        assert!(reader.read_record(&mut rec).unwrap());
        assert_eq!(rec.field(0), b"1");
    }

    #[test]
    fn custom_delimiter() {
        let mut reader = RecordReader::new(&b"a;b\n1;\"2;3\"\n"[..], b';');
        let mut rec = Record::default();
        reader.read_record(&mut rec).unwrap();
        reader.read_record(&mut rec).unwrap();
        assert_eq!(rec.field(1), b"2;3");
    }
}
