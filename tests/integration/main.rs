//! The integration test binary: CLI behaviour, bad input, and properties of whole runs.

mod bad_input;
mod cli;
mod mapping;
mod pg_server;
mod postgres_source;
mod properties;
mod reports;
mod util;
