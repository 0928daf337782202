//! How a SQL source finds a row again for the drill-down: by the row's own address in
//! storage (PostgreSQL's `ctid`), or, for rows without a stable one (a query's, a view's,
//! a partitioned table's), by its number in key order on the same snapshot. It chooses
//! the order rows are numbered in; each database writes the SQL that numbers or addresses
//! them.

use super::dialect::Dialect;
use crate::error::{Error, Result};
use crate::source::FETCH_ROWS;

/// What a SQL source's locators are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowLocator {
    /// Each row's address in the relation's storage, unique and stable on one snapshot.
    Address,
    /// The row's 1-based number when the relation is sorted by `order` (the key, then any
    /// tie-break), the same on every read of one snapshot.
    Numbered {
        /// The `ORDER BY` list, quoted.
        order: String,
    },
}

impl RowLocator {
    /// Rows per fetch: rows numbered by key are found again by numbering the whole
    /// relation, one pass (and sort) per fetch, so they are fetched more at a time (the
    /// other side's rows are held too, so not without bound).
    pub fn fetch_rows(&self) -> usize {
        match self {
            RowLocator::Address => FETCH_ROWS,
            RowLocator::Numbered { .. } => 4 * FETCH_ROWS,
        }
    }
}

/// The `ORDER BY` list that numbers the rows of `what` (named in the error) by `keys`.
/// Keys are spelled as the relation spells them: an exact match, else the one column equal
/// ignoring case (keys match columns so everywhere else); `columns` may be empty before the
/// relation is known, to refuse a missing key before connecting.
pub fn key_order(
    dialect: &Dialect,
    keys: &[String],
    columns: &[&str],
    shown: &str,
    what: &str,
) -> Result<String> {
    if keys.is_empty() {
        return Err(Error::Config(format!(
            "{shown}: {what} needs the key, to number its rows the same way each time it is read"
        )));
    }
    let spelled: Vec<String> = keys
        .iter()
        .map(|k| {
            let mut folded = columns.iter().filter(|c| c.eq_ignore_ascii_case(k));
            let name = match (columns.iter().find(|c| **c == k), folded.next()) {
                (Some(exact), _) => exact,
                (None, Some(only)) if folded.next().is_none() => only,
                _ => k.as_str(),
            };
            dialect.quote_ident(name)
        })
        .collect();
    Ok(spelled.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::sql::dialect::POSTGRES;

    #[test]
    fn keys_take_the_relations_spelling_when_it_is_unambiguous() {
        let keys = ["ID".to_string(), "name".to_string()];
        let order = key_order(&POSTGRES, &keys, &["id", "Name", "NAME"], "l", "it").unwrap();
        assert_eq!(order, "\"id\", \"name\"");
        let order = key_order(&POSTGRES, &keys, &["id", "Name"], "l", "it").unwrap();
        assert_eq!(order, "\"id\", \"Name\"");
    }

    #[test]
    fn numbering_without_a_key_is_refused() {
        let error = key_order(&POSTGRES, &[], &[], "postgres://h/db", "a query source")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "postgres://h/db: a query source needs the key, to number its rows the same way each time it is read"
        );
    }
}
