//! The integration test binary: CLI behaviour, bad input, and properties of whole runs.

mod bad_input;
mod cli;
mod inputs;
mod mapping;
mod outputs;
#[cfg(feature = "postgres")]
mod pg_server;
#[cfg(feature = "postgres")]
mod postgres_source;
mod properties;
mod reports;
mod suites;
mod util;
