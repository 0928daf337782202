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
        /// What kind of failure it was: what a caller acts on (see [`Error::is_retryable`]).
        fault: DatabaseFault,
        /// What went wrong and what to do.
        message: String,
    },
    /// A source's rows changed or moved while recon read them (a file rewritten during the
    /// run, a view over volatile data): no result can be reported for it.
    #[error("{uri}: {message}")]
    SourceChanged {
        /// The source's location, password removed.
        uri: String,
        /// What was found changed, and what to do.
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

impl Error {
    /// Whether running the same job again may succeed without anyone changing anything:
    /// the database could not be reached ([`DatabaseFault::Connect`]), the connection
    /// dropped mid-read ([`DatabaseFault::ConnectionLost`]), or the server refused for a
    /// passing reason ([`DatabaseFault::Server`] with one of [`RETRYABLE_SQLSTATES`]:
    /// a serialization failure or deadlock, a shutdown or restart, too many connections, a
    /// connection failure it reported). Everything else needs a person: wrong credentials,
    /// an unknown table, a value recon cannot hold, a source that changed under the run.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Database { fault, .. } => fault.is_retryable(),
            _ => false,
        }
    }
}

/// The SQLSTATE codes after which a retry may succeed: connection exceptions the server
/// reports (08000, 08001, 08003, 08004, 08006), serialization failure (40001), deadlock
/// (40P01), too many connections (53300), administrator or crash shutdown (57P01, 57P02),
/// and a server still starting (57P03).
pub const RETRYABLE_SQLSTATES: &[&str] = &[
    "08000", "08001", "08003", "08004", "08006", "40001", "40P01", "53300", "57P01", "57P02",
    "57P03",
];

/// What kind of database failure stopped a run. The message says what to do; this says
/// what a program can do (retry, or report and move on).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatabaseFault {
    /// The connection cannot be set up from what was given: an invalid connection
    /// parameter, an unreadable certificate or key.
    Setup,
    /// The server could not be reached: refused, unreachable, or no answer in time.
    Connect,
    /// The TLS session could not be set up, or the server's certificate is not trusted.
    Tls,
    /// The server refused the credentials, or asked for a password recon was not given.
    Authentication,
    /// The server reported an error.
    Server {
        /// Its SQLSTATE code, e.g. `42P01` for an unknown table.
        sqlstate: String,
    },
    /// The connection was lost while recon read.
    ConnectionLost,
    /// What the server sent cannot be read: a malformed or out-of-range value, text that is
    /// not UTF-8, a broken or incomplete stream.
    Decode,
}

impl DatabaseFault {
    /// Whether a retry may help: see [`Error::is_retryable`].
    pub fn is_retryable(&self) -> bool {
        match self {
            DatabaseFault::Connect | DatabaseFault::ConnectionLost => true,
            DatabaseFault::Server { sqlstate } => RETRYABLE_SQLSTATES.contains(&sqlstate.as_str()),
            DatabaseFault::Setup
            | DatabaseFault::Tls
            | DatabaseFault::Authentication
            | DatabaseFault::Decode => false,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn database(fault: DatabaseFault) -> Error {
        Error::Database {
            uri: "postgres://h/db".into(),
            fault,
            message: "m".into(),
        }
    }

    #[test]
    fn only_passing_database_faults_are_retryable() {
        let server = |code: &str| {
            database(DatabaseFault::Server {
                sqlstate: code.into(),
            })
        };
        for retryable in [
            database(DatabaseFault::Connect),
            database(DatabaseFault::ConnectionLost),
            server("40001"),
            server("57P01"),
            server("53300"),
        ] {
            assert!(retryable.is_retryable(), "{retryable:?}");
        }
        for final_ in [
            database(DatabaseFault::Setup),
            database(DatabaseFault::Tls),
            database(DatabaseFault::Authentication),
            database(DatabaseFault::Decode),
            server("42P01"),
            server("28P01"),
            Error::SourceChanged {
                uri: "a.csv".into(),
                message: "m".into(),
            },
            Error::Config("c".into()),
        ] {
            assert!(!final_.is_retryable(), "{final_:?}");
        }
    }

    #[test]
    fn the_fault_is_not_part_of_the_message() {
        assert_eq!(
            database(DatabaseFault::Decode).to_string(),
            "postgres://h/db: m"
        );
    }
}
