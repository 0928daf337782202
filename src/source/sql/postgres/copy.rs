//! PostgreSQL's binary COPY stream (`COPY … TO STDOUT (FORMAT binary)`) cut into tuples
//! and their fields' byte ranges, however the bytes arrive. It does not decode values:
//! `wire.rs` does.

use crate::error::Result;
use crate::source::sql::fault;

/// Splits a binary COPY stream into tuples. Bytes arrive in arbitrary pieces; `feed`
/// takes what is complete and says how much it consumed, so the caller keeps only the
/// tail of a tuple that is still arriving.
pub(super) struct CopyParser {
    /// The source's redacted location, for errors.
    uri: String,
    width: usize,
    header_done: bool,
    /// Whether the stream's trailer has arrived: without it, the result is partial.
    pub(super) finished: bool,
    /// Byte ranges of the current tuple's fields, `None` for NULL.
    fields: Vec<Option<(usize, usize)>>,
}

/// The byte ranges of a tuple's fields, `None` for NULL.
pub(super) type FieldRanges = [Option<(usize, usize)>];

/// Signature, flags and header-extension length of a binary COPY stream.
const COPY_HEADER: usize = 19;

impl CopyParser {
    /// A parser for tuples of `width` fields; `uri` names the source in errors.
    pub(super) fn new(uri: &str, width: usize) -> Self {
        CopyParser {
            uri: uri.to_string(),
            width,
            header_done: false,
            finished: false,
            fields: Vec::with_capacity(width),
        }
    }

    /// Hands every complete tuple in `data` to `on_tuple` (the tuple's bytes and its
    /// field ranges) and returns the bytes consumed.
    pub(super) fn feed(
        &mut self,
        data: &[u8],
        on_tuple: &mut dyn FnMut(&[u8], &FieldRanges) -> Result<()>,
    ) -> Result<usize> {
        let mut at = 0;
        if !self.header_done {
            let Some(extension) = data.get(15..COPY_HEADER) else {
                return Ok(0);
            };
            let extension = u32::from_be_bytes(extension.try_into().expect("4 bytes")) as usize;
            if data.len() < COPY_HEADER + extension {
                return Ok(0);
            }
            at = COPY_HEADER + extension;
            self.header_done = true;
        }
        while !self.finished {
            let rest = &data[at..];
            let Some(count) = rest.get(0..2) else { break };
            let count = i16::from_be_bytes(count.try_into().expect("2 bytes"));
            if count == -1 {
                self.finished = true;
                at += 2;
                break;
            }
            if count as usize != self.width {
                return Err(fault::undecodable(
                    &self.uri,
                    format!(
                        "the server sent a row of {count} fields where {} were asked for",
                        self.width
                    ),
                ));
            }
            self.fields.clear();
            let mut end = 2;
            for _ in 0..self.width {
                let Some(len) = rest.get(end..end + 4) else {
                    break;
                };
                let len = i32::from_be_bytes(len.try_into().expect("4 bytes"));
                end += 4;
                if len == -1 {
                    self.fields.push(None);
                } else if len < 0 {
                    return Err(fault::undecodable(
                        &self.uri,
                        format!("the server sent a field of length {len}"),
                    ));
                } else {
                    self.fields.push(Some((end, end + len as usize)));
                    end += len as usize;
                }
            }
            if self.fields.len() < self.width || end > rest.len() {
                break;
            }
            on_tuple(&rest[..end], &self.fields)?;
            at += end;
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::sql::postgres::ctid;

    /// A binary COPY stream: header, then rows of (ctid-like locator, value or NULL).
    fn copy_stream(rows: &[Option<&str>]) -> Vec<u8> {
        let mut stream = b"PGCOPY\n\xff\r\n\0".to_vec();
        stream.extend_from_slice(&0u32.to_be_bytes());
        stream.extend_from_slice(&4u32.to_be_bytes());
        stream.extend_from_slice(b"ext!");
        for (i, row) in rows.iter().enumerate() {
            stream.extend_from_slice(&2i16.to_be_bytes());
            stream.extend_from_slice(&6i32.to_be_bytes());
            stream.extend_from_slice(&[0, 0, 0, i as u8, 0, 1]);
            match row {
                None => stream.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    stream.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    stream.extend_from_slice(v.as_bytes());
                }
            }
        }
        stream.extend_from_slice(&(-1i16).to_be_bytes());
        stream
    }

    #[test]
    fn copy_streams_parse_the_same_however_they_are_cut() {
        let rows = [
            Some("a"),
            None,
            Some(""),
            Some("a longer value, with ünïcode"),
        ];
        let stream = copy_stream(&rows);
        let expected: Vec<(u64, Option<String>)> = rows
            .iter()
            .enumerate()
            .map(|(i, v)| (((i as u64) << 16) | 1, v.map(str::to_string)))
            .collect();
        for cut in 0..stream.len() {
            for piece in [1, 3, 7, stream.len()] {
                let mut parser = CopyParser::new("pg", 2);
                let mut got = Vec::new();
                let mut pending: Vec<u8> = Vec::new();
                let mut on_tuple = |tuple: &[u8], fields: &[Option<(usize, usize)>]| {
                    let (a, b) = fields[0].unwrap();
                    let value =
                        fields[1].map(|(a, b)| String::from_utf8(tuple[a..b].to_vec()).unwrap());
                    got.push((ctid::locator(&tuple[a..b]).unwrap(), value));
                    Ok(())
                };
                // The first piece ends at `cut`, the rest come `piece` bytes at a time.
                let pieces = std::iter::once(&stream[..cut]).chain(stream[cut..].chunks(piece));
                for chunk in pieces {
                    pending.extend_from_slice(chunk);
                    let consumed = parser.feed(&pending, &mut on_tuple).unwrap();
                    pending.drain(..consumed);
                }
                assert!(parser.finished, "cut at {cut}, pieces of {piece}");
                assert!(pending.is_empty());
                assert_eq!(got, expected, "cut at {cut}, pieces of {piece}");
            }
        }
    }

    #[test]
    fn a_negative_length_other_than_null_is_an_error() {
        let mut stream = copy_stream(&[None]);
        let null = stream.len() - 6;
        stream[null..null + 4].copy_from_slice(&(-2i32).to_be_bytes());
        let error = CopyParser::new("pg", 2)
            .feed(&stream, &mut |_, _| Ok(()))
            .unwrap_err();
        assert!(
            error.to_string().contains("a field of length -2"),
            "{error}"
        );
    }

    #[test]
    fn a_row_of_the_wrong_width_is_an_error() {
        let stream = copy_stream(&[Some("a")]);
        let mut parser = CopyParser::new("pg", 3);
        let error = parser.feed(&stream, &mut |_, _| Ok(())).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("a row of 2 fields where 3 were asked for"),
            "{error}"
        );
    }
}
