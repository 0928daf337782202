//! Inputs that cannot be read where they are: standard input (`-`), pipes, process
//! substitution and other files that cannot seek, and gzip or zstd files (recognised by
//! their magic bytes, whatever their name). Sources read a file more than once (the scan,
//! then the drill-down by byte offset or row group), so such an input is copied once, as
//! a stream (memory stays bounded), into a temporary file in the spill directory and
//! read from there with exact locators. The copy lives as long as the source and is
//! removed when it is dropped, also when the run fails.
//!
//! A spooled source shows its location with what was done to it (`s.csv.gz (gzip,
//! decompressed)`), in the summary and in every error, whose line numbers count lines of
//! the decompressed text.

use std::io::{BufReader, Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::{Batch, SizeHint, Source, SourceOptions};
use crate::error::{Error, Result};

/// Bytes moved per read while spooling.
const COPY_BUFFER: usize = 1 << 20;

/// The compression formats recon undoes itself, by magic number.
const DECOMPRESSED: [(&[u8], Compression); 2] = [
    (b"\x1f\x8b", Compression::Gzip),
    (b"\x28\xb5\x2f\xfd", Compression::Zstd),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    Gzip,
    Zstd,
}

impl Compression {
    fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    fn of(bytes: &[u8]) -> Option<Compression> {
        DECOMPRESSED
            .iter()
            .find(|(magic, _)| bytes.starts_with(magic))
            .map(|&(_, c)| c)
    }
}

/// Pipes and devices already spooled in this process (device and inode): a second read
/// would see them empty, so it is refused with the reason instead.
static SPOOLED_STREAMS: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

/// Opens `uri` through a spool when it must be (see the module doc), with `open` reading
/// the spooled copy; `None` when the input can be read in place.
pub(super) fn open_spooled(
    uri: &str,
    options: &SourceOptions,
    open: impl FnOnce(&str) -> Result<Box<dyn Source>>,
) -> Result<Option<Box<dyn Source>>> {
    let Some(stream) = classify(uri)? else {
        return Ok(None);
    };
    let spill_dir = options
        .file
        .spill_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let (file, shown) = spool(uri, stream, &spill_dir)?;
    let spooled = file.to_str().ok_or_else(|| {
        Error::Config(format!(
            "the spill directory {} has a name that is not UTF-8; choose another with --spill-dir",
            spill_dir.display()
        ))
    })?;
    let inner = open(spooled).map_err(|e| renamed(e, &file, &shown))?;
    Ok(Some(Box::new(Spooled {
        inner,
        uri: shown,
        file,
    })))
}

/// Whether `uri` needs a spool, with the stream to read it from. Anything this does not
/// recognise (a missing file, a directory, plain CSV or Parquet) is left to `open`.
fn classify(uri: &str) -> Result<Option<Box<dyn Read + Send>>> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let file = if uri == "-" {
        if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            // Waiting for typed CSV would look like a hang.
            return Err(Error::Config(
                "- reads the data from standard input, which is a terminal here: pipe or redirect the data in (cat s.csv | recon diff --source - …)".into(),
            ));
        }
        let fd = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|source| read_error(uri, source))?;
        std::fs::File::from(fd)
    } else {
        let Ok(meta) = std::fs::metadata(uri) else {
            return Ok(None);
        };
        if meta.is_dir() {
            return Ok(None);
        }
        if meta.is_file() {
            let mut magic = Vec::with_capacity(4);
            let file = std::fs::File::open(uri).map_err(|source| read_error(uri, source))?;
            (&file)
                .take(4)
                .read_to_end(&mut magic)
                .map_err(|source| read_error(uri, source))?;
            if Compression::of(&magic).is_none() {
                return Ok(None);
            }
            // Read again from the start: the magic bytes are part of the stream.
            let file = std::fs::File::open(uri).map_err(|source| read_error(uri, source))?;
            return Ok(Some(Box::new(file)));
        }
        // A pipe or a device: it cannot seek, and reading it consumes it.
        std::fs::File::open(uri).map_err(|source| read_error(uri, source))?
    };
    if let Ok(meta) = file.metadata() {
        // Standard input redirected from a regular file can be read again: only a
        // stream is consumed by reading it.
        if !meta.is_file() {
            let identity = (meta.dev(), meta.ino());
            let mut spooled = SPOOLED_STREAMS.lock().unwrap_or_else(|e| e.into_inner());
            if spooled.contains(&identity) {
                return Err(Error::Config(format!(
                    "{}: this pipe was already read, by the other side (a pipe can be read only once): give each side its own input, or save it to a file first",
                    display_name(uri)
                )));
            }
            spooled.push(identity);
        }
    }
    Ok(Some(Box::new(file)))
}

/// Copies (decompressing when it must) `stream` into a new file in `spill_dir`, returning
/// the file and how the source is shown.
fn spool(
    uri: &str,
    mut stream: Box<dyn Read + Send>,
    spill_dir: &Path,
) -> Result<(tempfile::TempPath, String)> {
    // A stream's first bytes are read once: peek at them, then hand them on.
    let mut magic = Vec::with_capacity(4);
    (&mut stream)
        .take(4)
        .read_to_end(&mut magic)
        .map_err(|source| read_error(uri, source))?;
    let compression = Compression::of(&magic);
    let stream = Counted {
        inner: Cursor::new(magic).chain(stream),
        count: 0,
    };
    let name = display_name(uri);
    let shown = match compression {
        Some(c) => format!("{name} ({}, decompressed)", c.name()),
        None => format!("{name} (spooled)"),
    };
    let spill_error = |source| spill_error(spill_dir, source);
    // The spooled file keeps the name's extension (`s.tsv.gz` → `.tsv`): it chooses the
    // default delimiter.
    let suffix = inner_extension(uri, compression.is_some())
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let mut file = tempfile::Builder::new()
        .prefix(".recon-spool-")
        .suffix(&suffix)
        .tempfile_in(spill_dir)
        .map_err(spill_error)?;
    let mut reader = BufReader::with_capacity(COPY_BUFFER, stream);
    let mut out = std::io::BufWriter::with_capacity(COPY_BUFFER, file.as_file_mut());
    match compression {
        None => copy(&mut reader, &mut out, spill_dir).map_err(|e| match e {
            CopyError::Read(e) => read_error(uri, e),
            CopyError::Spill(e) => e,
        })?,
        Some(Compression::Gzip) => {
            // Several members (as `cat a.gz b.gz` or pigz write) are one stream.
            let mut decoder = flate2::bufread::MultiGzDecoder::new(reader);
            let result = copy(&mut decoder, &mut out, spill_dir);
            result.map_err(|e| corrupt(uri, "gzip", decoder.get_ref(), e))?;
        }
        Some(Compression::Zstd) => {
            let mut decoder = zstd::stream::read::Decoder::with_buffer(reader)
                .map_err(|source| read_error(uri, source))?;
            let result = copy(&mut decoder, &mut out, spill_dir);
            result.map_err(|e| corrupt(uri, "zstd", decoder.get_ref(), e))?;
        }
    }
    out.flush().map_err(spill_error)?;
    drop(out);
    Ok((file.into_temp_path(), shown))
}

/// Copies `from` into `to` in bounded pieces, telling read errors from write errors.
fn copy(
    from: &mut impl Read,
    to: &mut impl Write,
    spill_dir: &Path,
) -> std::result::Result<(), CopyError> {
    let mut buffer = vec![0u8; COPY_BUFFER];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        to.write_all(&buffer[..n])
            .map_err(|e| CopyError::Spill(spill_error(spill_dir, e)))?;
    }
}

fn spill_error(dir: &Path, source: std::io::Error) -> Error {
    Error::Spill {
        dir: dir.to_path_buf(),
        source,
    }
}

/// What a failed decompression reports: the file, the compressed byte it got to, and
/// what to do. A truncated stream must stop the run, never compare what came before.
fn corrupt<R: Read>(
    uri: &str,
    format: &str,
    reader: &BufReader<Counted<R>>,
    error: CopyError,
) -> Error {
    match error {
        CopyError::Spill(e) => e,
        CopyError::Read(e) => {
            let offset = reader.get_ref().count - reader.buffer().len() as u64;
            let what = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                "ends early (truncated)"
            } else {
                "is corrupt"
            };
            read_error(
                uri,
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "the {format} data {what} at compressed byte {offset} ({e}); nothing was compared: fetch or compress the file again"
                    ),
                ),
            )
        }
    }
}

/// A failure while decompressing: of the input, or of the spill file.
enum CopyError {
    Read(std::io::Error),
    Spill(Error),
}

/// A reader that counts the bytes it hands on: where a decoder stopped.
struct Counted<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// The extension of `uri` that says what the data is, under a compression suffix.
fn inner_extension(uri: &str, compressed: bool) -> Option<String> {
    let path = Path::new(uri);
    let extension = |p: &Path| p.extension()?.to_str().map(str::to_ascii_lowercase);
    match extension(path) {
        Some(e) if compressed && matches!(e.as_str(), "gz" | "gzip" | "zst" | "zstd") => {
            extension(&PathBuf::from(path.file_stem()?))
        }
        other => other,
    }
}

/// How the user named an input: `-` is standard input.
fn display_name(uri: &str) -> String {
    if uri == "-" {
        "standard input".to_string()
    } else {
        uri.to_string()
    }
}

fn read_error(uri: &str, source: std::io::Error) -> Error {
    Error::Read {
        path: display_name(uri).into(),
        source,
    }
}

/// `error` with the spooled file's name replaced by how the source is shown: the user
/// never named the temporary file.
fn renamed(error: Error, file: &Path, shown: &str) -> Error {
    let rename = |path: PathBuf| {
        if path == file {
            PathBuf::from(shown)
        } else {
            path
        }
    };
    match error {
        Error::Read { path, source } => Error::Read {
            path: rename(path),
            source,
        },
        Error::Csv {
            path,
            line,
            message,
        } => Error::Csv {
            path: rename(path),
            line,
            message,
        },
        Error::Parquet { path, message } => Error::Parquet {
            path: rename(path),
            message,
        },
        Error::Internal(message) => {
            Error::Internal(message.replace(&file.display().to_string(), shown))
        }
        other => other,
    }
}

/// A source read from its spooled copy, shown as the input the user named.
struct Spooled {
    // Dropped first: the reader lets go of the file before it is removed.
    inner: Box<dyn Source>,
    uri: String,
    file: tempfile::TempPath,
}

impl Spooled {
    fn named<T>(&self, result: Result<T>) -> Result<T> {
        result.map_err(|e| renamed(e, &self.file, &self.uri))
    }
}

impl Source for Spooled {
    fn uri(&self) -> &str {
        &self.uri
    }

    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }

    fn splits(&self) -> usize {
        self.inner.splits()
    }

    fn read_split(
        &self,
        split: usize,
        projection: &[usize],
        sink: &mut dyn FnMut(Batch) -> Result<()>,
    ) -> Result<()> {
        self.named(self.inner.read_split(split, projection, sink))
    }

    fn fetch(&self, projection: &[usize], locators: &[u64]) -> Result<RecordBatch> {
        self.named(self.inner.fetch(projection, locators))
    }

    fn fetch_rows(&self) -> usize {
        self.inner.fetch_rows()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_extension_is_under_the_compression_one() {
        assert_eq!(inner_extension("a/s.tsv.gz", true).as_deref(), Some("tsv"));
        assert_eq!(inner_extension("s.csv.zst", true).as_deref(), Some("csv"));
        assert_eq!(inner_extension("s.gz", true), None);
        assert_eq!(inner_extension("s.tsv", false).as_deref(), Some("tsv"));
        assert_eq!(inner_extension("-", false), None);
    }
}
