//! SQL databases as sources.

pub mod postgres;
