//! PostgreSQL relations as a [`Source`]: what is PostgreSQL's own. Every connection reads
//! inside `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` on one exported snapshot, so a
//! scan split over several connections still sees one instant, and recon never writes.
//! Rows stream through `COPY (SELECT …) TO STDOUT (FORMAT binary)` straight into Arrow
//! builders. A plain table is split into `ctid` page ranges read in parallel, and its
//! locators are `ctid`s, fetched again by `ctid = ANY(…)`; the rows of a query, a view, a
//! foreign table or a partitioned or inherited table (whose `ctid`s are missing or repeat)
//! are numbered by the key instead and read over one connection. Differing rows are
//! fetched again on the same snapshot.
//!
//! Native types: smallint, integer, bigint, real, double precision, boolean, text,
//! varchar, char(n) (blank padding kept, as PostgreSQL stores it), name, bytea, date,
//! timestamp, timestamptz. `numeric` travels in binary, is written out as the exact text
//! PostgreSQL itself would print, and compares as a number; every other type (uuid, json,
//! jsonb, time, interval, enums, arrays, …) is read as its text form under fixed session
//! settings (UTC, ISO dates, full float precision).
//!
//! This file opens a source (location, connection, snapshot, relation, splits); reading
//! is `read.rs`'s. The location, quoting, relation and locator rules every SQL source
//! shares are in `sql/`.

mod connect;
mod copy;
mod ctid;
mod fault;
mod numeric;
mod password;
mod read;
mod tls;
mod wire;

use std::sync::{Arc, Mutex};

use arrow_schema::{Field, Schema, SchemaRef};
use tokio_postgres::Client;
use tokio_postgres::types::Type;

use self::connect::{ConnectParameters, Connector, connect, session_settings};
use self::ctid::PageRange;
use self::fault::database_error;
use self::wire::{Column, Wire};
use crate::error::{Error, Result};
use crate::source::SourceOptions;
use crate::source::sql::dialect::POSTGRES;
use crate::source::sql::locate::{self, RowLocator};
use crate::source::sql::location::Location;
use crate::source::sql::relation::{self, Relation, Selection};

/// How the error that needs a query's key names the source.
const QUERY_SOURCE: &str = "a query source";

/// A PostgreSQL table, view or query (optionally filtered) on one snapshot.
pub struct PostgresSource {
    uri: String,
    runtime: Arc<tokio::runtime::Runtime>,
    connector: Connector,
    /// What goes after `FROM`: a quoted table name, or `(query) AS recon_q`.
    from_item: String,
    /// How a row is found again.
    locator: RowLocator,
    filter: Option<String>,
    columns: Vec<Column>,
    schema: SchemaRef,
    snapshot: String,
    /// Holds the snapshot's transaction open for the whole run; also fetches rows again.
    anchor: Mutex<Client>,
    splits: Vec<PageRange>,
    estimated_rows: u64,
    batch_size: usize,
}

impl std::fmt::Debug for PostgresSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSource")
            .field("uri", &self.uri)
            .field("from_item", &self.from_item)
            .finish()
    }
}

/// What the anchor connection learnt of the relation on the snapshot.
struct Probe {
    columns: Vec<Column>,
    snapshot: String,
    pages: u32,
    tuples: u64,
    addresses: Addresses,
}

/// Whether a relation's rows can be found again by `ctid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Addresses {
    /// A plain table (or a query, whose rows are numbered anyway).
    Unique,
    /// Views and foreign tables have none.
    Missing,
    /// Partitioned and inherited tables repeat them: a `ctid` is unique in one heap only.
    Repeated,
}

impl PostgresSource {
    /// Reads and checks the location (before anything connects), connects, opens the
    /// snapshot, reads the relation's columns and plans the splits.
    pub fn open(uri: &str, options: &SourceOptions) -> Result<Self> {
        let location = Location::parse(uri)?;
        let parameters = ConnectParameters::take(&location)?;
        let selection = relation::resolve(&location, &options.database, &POSTGRES)?;
        let shown = selection.shown.clone();
        if matches!(selection.relation, Relation::Query { .. }) {
            // A query's rows can only be numbered by the key: refuse without one now.
            locate::key_order(
                &POSTGRES,
                &options.database.order_by,
                &[],
                &shown,
                QUERY_SOURCE,
            )?;
        }
        let connector = parameters.connector(&location.base, &shown)?;
        let runtime = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .map_err(|e| Error::Internal(format!("starting the database runtime: {e}")))?,
        );
        let anchor = connect(&runtime, &connector, &shown)?;
        let from_item = selection.relation.from_item();
        let probe = runtime.block_on(probe(&anchor, &selection, &from_item))?;
        let locator = row_locator(&selection, &probe, &from_item, &options.database.order_by)?;
        let splits = match locator {
            RowLocator::Address => {
                ctid::page_ranges(probe.pages, options.database.connections.max(1) as u32)
            }
            RowLocator::Numbered { .. } => vec![(0, None)],
        };
        Ok(PostgresSource {
            uri: shown,
            runtime,
            connector,
            from_item,
            locator,
            filter: selection.filter,
            schema: schema_of(&probe.columns),
            columns: probe.columns,
            snapshot: probe.snapshot,
            anchor: Mutex::new(anchor),
            splits,
            estimated_rows: probe.tuples,
            batch_size: options.batch_size.max(1),
        })
    }
}

/// Opens the snapshot's transaction on `anchor`, exports the snapshot, and learns the
/// relation's columns and (for a table) its size and kind.
async fn probe(anchor: &Client, selection: &Selection, from_item: &str) -> Result<Probe> {
    let db = |e: tokio_postgres::Error| database_error(&selection.shown, e);
    anchor.batch_execute(connect::BEGIN).await.map_err(db)?;
    session_settings(anchor).await.map_err(db)?;
    let snapshot: String = anchor
        .query_one("SELECT pg_export_snapshot()", &[])
        .await
        .map_err(db)?
        .get(0);
    let filter = selection.filter.as_ref();
    let columns_probe = format!(
        "SELECT * FROM {from_item}{}",
        filter.map(|f| format!(" WHERE ({f})")).unwrap_or_default()
    );
    let statement = anchor.prepare(&columns_probe).await.map_err(db)?;
    let columns: Vec<Column> = statement
        .columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_string(),
            wire: Wire::of(c.type_()),
            numeric: *c.type_() == Type::NUMERIC,
        })
        .collect();
    let size = match selection.relation {
        Relation::Query { .. } => None,
        Relation::Table { .. } => anchor
            .query_opt(
                &format!(
                    "SELECT relpages::bigint, reltuples::bigint, relkind::text, relhassubclass FROM pg_class WHERE oid = '{}'::regclass",
                    from_item.replace('\'', "''")
                ),
                &[],
            )
            .await
            .map_err(db)?,
    };
    let (pages, tuples, kind, children): (i64, i64, String, bool) = size
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .unwrap_or((0, 0, "r".into(), false));
    let addresses = match kind.as_str() {
        "v" | "f" => Addresses::Missing,
        "p" => Addresses::Repeated,
        _ if children => Addresses::Repeated,
        _ => Addresses::Unique,
    };
    Ok(Probe {
        columns,
        snapshot,
        pages: pages.max(0) as u32,
        tuples: tuples.max(0) as u64,
        addresses,
    })
}

/// How the rows of the relation probed are found again: by `ctid` where each row has its
/// own, else numbered by `keys`.
fn row_locator(
    selection: &Selection,
    probe: &Probe,
    from_item: &str,
    keys: &[String],
) -> Result<RowLocator> {
    let columns: Vec<&str> = probe.columns.iter().map(|c| c.name.as_str()).collect();
    let numbered = |what: &str, tie_break: &str| -> Result<RowLocator> {
        let order = locate::key_order(&POSTGRES, keys, &columns, &selection.shown, what)?;
        Ok(RowLocator::Numbered {
            order: order + tie_break,
        })
    };
    let relation_kind =
        || format!("{from_item} (a partitioned or inherited table, view or foreign table)");
    match (&selection.relation, probe.addresses) {
        (Relation::Query { .. }, _) => numbered(QUERY_SOURCE, ""),
        (Relation::Table { .. }, Addresses::Unique) => Ok(RowLocator::Address),
        (Relation::Table { .. }, Addresses::Missing) => numbered(&relation_kind(), ""),
        // Ties (repeated keys, or keys equal under a collation) are broken by the row's own
        // address in its heap, so the numbering is the same on every read.
        (Relation::Table { .. }, Addresses::Repeated) => {
            numbered(&relation_kind(), ", tableoid, ctid")
        }
    }
}

/// The Arrow schema of the relation's columns.
fn schema_of(columns: &[Column]) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| {
            let field = Field::new(&c.name, c.wire.data_type(), true);
            if c.numeric {
                // Exact numbers as text: compared as numbers, not as text.
                crate::source::exact_number_text(field)
            } else {
                field
            }
        })
        .collect();
    Arc::new(Schema::new(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_error(uri: &str) -> String {
        match PostgresSource::open(uri, &SourceOptions::default()) {
            Ok(_) => panic!("{uri} is refused before connecting"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_query_without_a_key_is_refused_before_connecting() {
        let error = open_error("postgres://u@127.0.0.1:1/db?query=SELECT%201");
        assert!(error.contains("a query source needs the key"), "{error}");
    }

    #[test]
    fn an_unknown_sslmode_is_refused_before_connecting_without_the_password() {
        let error = open_error("postgres://u:pw@127.0.0.1:1/db?table=t&sslmode=strict");
        assert!(
            error.contains("sslmode \"strict\" must be disable, prefer"),
            "{error}"
        );
        assert!(!error.contains("pw"), "{error}");
    }

    #[test]
    fn an_encrypted_client_key_is_refused() {
        let error = open_error("postgres://u@127.0.0.1:1/db?table=t&sslpassword=k");
        assert!(
            error.contains("sslpassword (an encrypted client key) is not supported"),
            "{error}"
        );
        assert!(!error.contains("=k"), "{error}");
    }
}
