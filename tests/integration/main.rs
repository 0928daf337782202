//! The integration test binary: CLI behaviour, bad input, and properties of whole runs.

mod bad_input;
mod cli;
mod inputs;
mod mapping;
mod outputs;
mod pg;
mod postgres;
mod properties;
mod reports;
mod suites;
mod util;
