//! The faults every SQL source reports in the same words: what the server sent cannot be
//! read (a value, a row, the stream's framing), a scan that ended early, and the hint for
//! a server that cannot be reached. Each is an [`Error::Database`] whose
//! [`DatabaseFault`] tells a caller whether to retry. How a database client's own errors
//! map to faults is that database's business (its folder's `fault.rs`).

use crate::error::{DatabaseFault, Error};

/// Appended to a failure to reach the server.
pub const UNREACHABLE_HINT: &str = " (is the server running, and are host and port right?)";

/// A database error of `fault` at `uri` (password hidden).
pub fn error(uri: &str, fault: DatabaseFault, message: impl Into<String>) -> Error {
    Error::Database {
        uri: uri.to_string(),
        fault,
        message: message.into(),
    }
}

/// What the server sent cannot be read.
pub fn undecodable(uri: &str, message: impl Into<String>) -> Error {
    error(uri, DatabaseFault::Decode, message)
}

/// A value of `column` cannot be read: `what` says how.
pub fn bad_value(uri: &str, column: &str, what: &str) -> Error {
    undecodable(uri, format!("column {column:?}: {what}"))
}

/// A text column holds bytes that are not UTF-8.
pub fn not_utf8(uri: &str, column: &str) -> Error {
    undecodable(
        uri,
        format!(
            "column {column:?} holds text that is not UTF-8: set the database's encoding, or cast the column in a query"
        ),
    )
}

/// A row came without the locator asked for first.
pub fn no_locator(uri: &str) -> Error {
    undecodable(uri, "a row without a locator")
}

/// The scan's result ended before the server said it was complete.
pub fn ended_early(uri: &str) -> Error {
    undecodable(
        uri,
        "the server ended the scan early; the result would be partial, so the run stops",
    )
}

/// Bytes came after the scan's end.
pub fn bytes_after_end(uri: &str, bytes: usize) -> Error {
    undecodable(
        uri,
        format!(
            "the server sent {bytes} bytes after the end of the scan; the run stops rather than guess what they hold"
        ),
    )
}
