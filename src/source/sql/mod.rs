//! SQL databases as sources. What every SQL source needs is here, one file per concern:
//! the location and its redaction (`location.rs`), each database's spelling rules and the
//! check on user SQL (`dialect.rs`), the table or query and filter read (`relation.rs`),
//! how rows are found again (`locate.rs`) and the faults reported (`fault.rs`). What is
//! one database's own is in its folder (`postgres/`); a new database is a new folder
//! beside it that uses these files, and a line in [`open`].

pub mod dialect;
pub mod fault;
pub mod locate;
pub mod location;
pub mod postgres;
pub mod relation;

pub use self::location::{Database, redact};

use super::{Source, SourceOptions};
use crate::error::Result;

/// Opens the database `uri` names; `None` when it names none (it is a file).
pub fn open(uri: &str, options: &SourceOptions) -> Option<Result<Box<dyn Source>>> {
    let database = Database::of(uri)?;
    Some(match database {
        Database::Postgres => postgres::PostgresSource::open(uri, options)
            .map(|source| Box::new(source) as Box<dyn Source>),
    })
}
