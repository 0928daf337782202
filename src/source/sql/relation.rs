//! What a SQL source reads: a table or a query, and an optional row filter, taken from the
//! location or from the options (flags, job file) but never from both, and checked before
//! anything connects (a query must only read; neither may escape its bracket). It does not
//! connect or learn the relation's columns: each database's source does.

use super::dialect::Dialect;
use super::location::Location;
use crate::error::{Error, Result};
use crate::source::DatabaseOptions;

/// The rows a source reads, before any filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    /// A table (or view), its name quoted for the dialect.
    Table {
        /// The quoted, possibly qualified name.
        quoted: String,
    },
    /// A read-only query, its closing semicolon removed.
    Query {
        /// The query as given.
        sql: String,
    },
}

impl Relation {
    /// What goes after `FROM`.
    pub fn from_item(&self) -> String {
        match self {
            Relation::Table { quoted } => quoted.clone(),
            Relation::Query { sql } => format!("({sql}) AS recon_q"),
        }
    }
}

/// A source's relation and filter, with the location recon prints for it.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The location, password hidden, with the table, query or filter the options gave
    /// added, so every report and error says what was compared.
    pub shown: String,
    /// What is read.
    pub relation: Relation,
    /// The row filter (SQL), checked.
    pub filter: Option<String>,
}

/// The words a read-only statement may start with.
const READING_STATEMENTS: [&str; 4] = ["select", "with", "values", "table"];

/// The relation and filter `location` and `options` give together.
pub fn resolve(
    location: &Location,
    options: &DatabaseOptions,
    dialect: &Dialect,
) -> Result<Selection> {
    // A statement's closing semicolon is habit, not a second statement.
    let without_semicolon = |q: &String| q.trim_end().trim_end_matches(';').trim_end().to_string();
    let mut table = location.table.clone();
    let mut query = location.query.as_ref().map(without_semicolon);
    let mut filter = location.filter.clone();
    let option_query = options.query.as_ref().map(without_semicolon);
    let mut shown = location.shown.clone();
    let mut added = Vec::new();
    for (name, from_location, from_options) in [
        ("table", &mut table, &options.table),
        ("query", &mut query, &option_query),
        ("where", &mut filter, &options.filter),
    ] {
        match (&from_location, from_options) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::Config(format!(
                    "{shown} has {name}={a:?} and the options give {name} {b:?} (--source-where/--target-where or the job file); give it once"
                )));
            }
            (None, Some(b)) => {
                added.push(format!("{name}={b}"));
                *from_location = Some(b.clone());
            }
            _ => {}
        }
    }
    if !added.is_empty() {
        shown.push(if shown.contains('?') { '&' } else { '?' });
        shown.push_str(&added.join("&"));
    }
    if let Some(f) = &filter {
        if f.trim().is_empty() {
            return Err(Error::Config(format!(
                "{shown}: the row filter is empty; give a condition, or no filter"
            )));
        }
        dialect
            .check_embedded_sql(f)
            .map_err(|why| Error::Config(format!("row filter {f:?}: {why}")))?;
    }
    let relation = match (table, query) {
        (Some(_), Some(_)) => {
            return Err(Error::Config(format!(
                "{shown} names both a table and a query; give one"
            )));
        }
        (Some(t), None) => Relation::Table {
            quoted: dialect.quote_table(&t)?,
        },
        (None, Some(q)) => {
            check_query(&q, &shown, dialect)?;
            Relation::Query { sql: q }
        }
        (None, None) => {
            return Err(Error::Config(format!(
                "{shown} names no table: add ?table=schema.table (or ?query=…) to the location"
            )));
        }
    };
    Ok(Selection {
        shown,
        relation,
        filter,
    })
}

/// Refuses an empty query, one that could escape its bracket, and one that does not
/// start as a reading statement does.
fn check_query(query: &str, shown: &str, dialect: &Dialect) -> Result<()> {
    if query.trim().is_empty() {
        return Err(Error::Config(format!(
            "{shown}: the query is empty; give a SELECT"
        )));
    }
    dialect
        .check_embedded_sql(query)
        .map_err(|why| Error::Config(format!("query {query:?}: {why}")))?;
    let first = query
        .split(|c: char| !c.is_ascii_alphabetic())
        .find(|w| !w.is_empty())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !READING_STATEMENTS.contains(&first.as_str()) {
        return Err(Error::Config(format!(
            "query {query:?}: recon only reads; give a SELECT (or WITH … SELECT, VALUES, TABLE)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::sql::dialect::POSTGRES;

    fn selection(uri: &str, options: &DatabaseOptions) -> Result<Selection> {
        resolve(&Location::parse(uri)?, options, &POSTGRES)
    }

    #[test]
    fn the_options_add_what_the_location_lacks_and_the_shown_location_says_so() {
        let options = DatabaseOptions {
            filter: Some("id > 1".into()),
            ..DatabaseOptions::default()
        };
        let s = selection("postgres://u:pw@h/db?query=SELECT%201;", &options).unwrap();
        assert_eq!(
            s.shown,
            "postgres://u:***@h/db?query=SELECT%201;&where=id > 1"
        );
        assert_eq!(s.relation.from_item(), "(SELECT 1) AS recon_q");
        assert_eq!(s.filter.as_deref(), Some("id > 1"));
    }

    #[test]
    fn given_twice_differently_empty_or_writing_is_refused() {
        let table = DatabaseOptions {
            table: Some("b".into()),
            ..DatabaseOptions::default()
        };
        let none = DatabaseOptions::default();
        for (uri, options, expected) in [
            (
                "postgres://h/db?table=a",
                &table,
                "the options give table \"b\"",
            ),
            (
                "postgres://h/db?table=a&query=SELECT 1",
                &none,
                "names both a table and a query",
            ),
            (
                "postgres://h/db?table=a&where=%20",
                &none,
                "the row filter is empty",
            ),
            (
                "postgres://h/db?query=DELETE FROM t",
                &none,
                "recon only reads",
            ),
            ("postgres://h/db?query=", &none, "the query is empty"),
            ("postgres://h/db", &none, "names no table"),
        ] {
            let error = selection(uri, options).unwrap_err().to_string();
            assert!(error.contains(expected), "{uri}: {error}");
        }
        assert!(selection("postgres://h/db?table=b", &table).is_ok());
    }
}
