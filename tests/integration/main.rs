//! The integration test binary: CLI behaviour, bad input, and properties of whole runs.

mod bad_input;
mod cli;
mod mapping;
mod properties;
mod reports;
mod util;
