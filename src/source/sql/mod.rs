//! SQL databases as sources. What every SQL source needs is here, one file per concern:
//! the location and its redaction (`location.rs`), each database's spelling rules and the
//! check on user SQL (`dialect.rs`), the table or query and filter read (`relation.rs`),
//! how rows are found again (`locate.rs`) and the faults reported (`fault.rs`). What is
//! one database's own is in its folder (`postgres/`, behind the `postgres` feature); a new
//! database is a new folder beside it that uses these files, and a line in [`open`].
//!
//! Location parsing and redaction compile without any database, so a build without one
//! still refuses a database location clearly and never prints its password.

pub mod dialect;
pub mod fault;
pub mod locate;
pub mod location;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod relation;

pub use self::location::{Database, redact};

use super::{Source, SourceOptions};
use crate::error::Result;

/// Opens the database `uri` names; `None` when it names none (it is a file).
pub fn open(uri: &str, options: &SourceOptions) -> Option<Result<Box<dyn Source>>> {
    Some(match Database::of(uri)? {
        Database::Postgres => open_postgres(uri, options),
    })
}

#[cfg(feature = "postgres")]
fn open_postgres(uri: &str, options: &SourceOptions) -> Result<Box<dyn Source>> {
    Ok(Box::new(postgres::PostgresSource::open(uri, options)?))
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(uri: &str, _: &SourceOptions) -> Result<Box<dyn Source>> {
    Err(crate::error::Error::Config(format!(
        "{}: this recon was built without {} support; install with the default features",
        redact(uri),
        Database::Postgres.name()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_names_no_database() {
        assert!(open("orders.csv", &SourceOptions::default()).is_none());
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn a_build_without_postgresql_refuses_its_locations_without_the_password() {
        let error = match open(
            "postgres://u:s3cret@h/db?table=t",
            &SourceOptions::default(),
        ) {
            Some(Err(error)) => error.to_string(),
            _ => panic!("a PostgreSQL location is refused"),
        };
        assert_eq!(
            error,
            "postgres://u:***@h/db?table=t: this recon was built without PostgreSQL support; install with the default features"
        );
    }
}
