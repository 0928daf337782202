//! The integration test binary: CLI behaviour, bad input, and properties of whole runs.

mod bad_input;
mod cli;
mod mapping;
#[cfg(feature = "postgres")]
mod pg_server;
#[cfg(feature = "postgres")]
mod postgres_source;
mod properties;
mod reports;
mod util;
