//! The library's one error type. Every variant names what the user has to look at (a file,
//! a line, a column) and the message says what to do about it. A breached criterion is not
//! an error: it is a [`crate::metrics::Verdict`].

use std::fmt;
use std::path::PathBuf;

/// Which of the two datasets something belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The system being migrated from (the reference).
    Source,
    /// The system being migrated to.
    Target,
}

impl Side {
    /// Both sides, source first.
    pub const BOTH: [Side; 2] = [Side::Source, Side::Target];

    /// 0 for the source, 1 for the target.
    pub fn index(self) -> usize {
        match self {
            Side::Source => 0,
            Side::Target => 1,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::Target => "target",
        })
    }
}

/// Everything that can stop a reconciliation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A CSV file is malformed at a given line.
    #[error("{}:{line}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based physical line.
        line: u64,
        /// What is wrong and what to do.
        message: String,
    },
    /// A Parquet file or directory cannot be used.
    #[error("{}: {message}", path.display())]
    Parquet {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// The two schemas and the requested columns do not fit together.
    #[error("{side} {uri}: {message}")]
    Schema {
        /// Which side.
        side: Side,
        /// The side's location.
        uri: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A database could not be read.
    #[error("{uri}: {message}")]
    Database {
        /// The database location, password removed.
        uri: String,
        /// What went wrong and what to do.
        message: String,
    },
    /// The options given do not make sense.
    #[error("{0}")]
    Config(String),
    /// Writing or reading the spill file failed.
    #[error("spill file in {}: {source}", dir.display())]
    Spill {
        /// The spill directory.
        dir: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A report could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The output file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A bug in recon: please report it.
    #[error("internal error (a bug in recon, please report it): {0}")]
    Internal(String),
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
