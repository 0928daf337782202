//! Settings: job files (TOML, [`JobFile`]) and the [`Overrides`] a caller puts on top of
//! one, resolved by [`build_job`] into a [`Job`](crate::Job) and the [`Notice`]s a person
//! should read. This module owns the meaning of every setting, the one parser of each
//! criterion, and the error messages that name the file, line and entry; it names no
//! command-line flag (the command line words notices in its own terms) and runs nothing.

mod build;
mod job_file;
pub mod mask_key;

pub use build::{
    Environment, Notice, Overrides, build_job, build_job_from, parse_delimiter, parse_size,
};
pub use job_file::{JobFile, SideFile};
pub(crate) use job_file::{line_column, parse_toml, scalar_text};
