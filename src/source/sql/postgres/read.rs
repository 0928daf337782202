//! Reading a PostgreSQL source: a split streamed through binary COPY on its own connection
//! joined to the snapshot, and rows fetched again on the anchor connection, by `ctid` or
//! by their number in key order. It does not open the source (`mod.rs`) or decode values
//! (`wire.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::{Buf, BytesMut};
use futures_util::StreamExt;
use tokio_postgres::Client;

use super::PostgresSource;
use super::connect::{self, connect, session_settings};
use super::copy::{CopyParser, FieldRanges};
use super::ctid::{self, PageRange};
use super::fault::database_error;
use super::wire::{Builders, Raw, Wire};
use crate::error::{Error, Result};
use crate::source::sql::dialect::POSTGRES;
use crate::source::sql::fault;
use crate::source::sql::locate::RowLocator;
use crate::source::{Batch, ProgressUnit, SizeHint, Source};

impl PostgresSource {
    /// The locator of a row from its first column: a `ctid`, or the row's number.
    fn locator_of(&self, raw: &[u8]) -> Option<u64> {
        match self.locator {
            RowLocator::Address => ctid::locator(raw),
            RowLocator::Numbered { .. } => Some(i64::from_be_bytes(raw.try_into().ok()?) as u64),
        }
    }

    /// The schema of the columns in `projection` and builders for `rows` rows of them.
    fn builders(&self, projection: &[usize], rows: usize) -> Result<(SchemaRef, Builders)> {
        let schema = self
            .schema
            .project(projection)
            .map_err(|e| Error::Internal(format!("projecting a PostgreSQL schema: {e}")))?;
        let wires: Vec<Wire> = projection.iter().map(|&i| self.columns[i].wire).collect();
        Ok((Arc::new(schema), Builders::new(&wires, rows)))
    }

    /// The locator, then the columns of `projection` (cast to text where they travel so).
    fn select_list(&self, projection: &[usize]) -> String {
        let locator = match &self.locator {
            RowLocator::Address => "ctid".to_string(),
            RowLocator::Numbered { order } => {
                format!("row_number() OVER (ORDER BY {order})::bigint AS recon_row")
            }
        };
        let mut list = vec![locator];
        for &i in projection {
            let c = &self.columns[i];
            let name = POSTGRES.quote_ident(&c.name);
            list.push(if c.wire == Wire::AsText {
                format!("{name}::text")
            } else {
                name
            });
        }
        list.join(", ")
    }

    /// The page range's conditions and the row filter, as a `WHERE` clause (or nothing).
    fn where_clause(&self, range: Option<PageRange>) -> String {
        let mut conditions = range.map(ctid::range_conditions).unwrap_or_default();
        if let Some(f) = &self.filter {
            conditions.push(format!("({f})"));
        }
        if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        }
    }

    /// The rows at `locators`, in any order, on the anchor connection.
    fn query_again(
        &self,
        projection: &[usize],
        locators: &[u64],
    ) -> Result<Vec<tokio_postgres::Row>> {
        let client = self.anchor.lock().expect("anchor connection");
        let select = self.select_list(projection);
        let rows = match self.locator {
            RowLocator::Numbered { .. } => {
                // The same numbering as the scan's finds the rows again.
                let numbers: Vec<i64> = locators.iter().map(|l| *l as i64).collect();
                let sql = format!(
                    "SELECT * FROM (SELECT {select} FROM {}{}) AS recon_x WHERE recon_row = ANY($1::bigint[])",
                    self.from_item,
                    self.where_clause(None)
                );
                self.runtime
                    .block_on(async { client.query(sql.as_str(), &[&numbers]).await })
            }
            RowLocator::Address => {
                let tids: Vec<String> = locators.iter().map(|&l| ctid::tid_text(l)).collect();
                let sql = format!(
                    "SELECT {select} FROM {} WHERE ctid = ANY($1::text[]::tid[])",
                    self.from_item
                );
                self.runtime
                    .block_on(async { client.query(sql.as_str(), &[&tids]).await })
            }
        };
        rows.map_err(|e| database_error(&self.uri, e))
    }
}

/// Streams `sql` (a `COPY … TO STDOUT (FORMAT binary)`) on `client` through `parser`,
/// inside a transaction on `snapshot`; the scan must end as the format says it ends.
async fn copy_on_snapshot(
    client: &Client,
    snapshot: &str,
    sql: &str,
    uri: &str,
    parser: &mut CopyParser,
    on_tuple: &mut dyn FnMut(&[u8], &FieldRanges) -> Result<()>,
) -> Result<()> {
    let db = |e: tokio_postgres::Error| database_error(uri, e);
    client
        .batch_execute(&connect::join_snapshot(snapshot))
        .await
        .map_err(db)?;
    session_settings(client).await.map_err(db)?;
    let stream = client.copy_out(sql).await.map_err(db)?;
    futures_util::pin_mut!(stream);
    // The start of a tuple whose end has not arrived yet. The server sends a row per
    // message, so most messages are parsed where they lie.
    let mut pending = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(db)?;
        if pending.is_empty() {
            let consumed = parser.feed(&chunk, on_tuple)?;
            pending.extend_from_slice(&chunk[consumed..]);
        } else {
            pending.extend_from_slice(&chunk);
            let consumed = parser.feed(&pending, on_tuple)?;
            pending.advance(consumed);
        }
    }
    if !parser.finished {
        return Err(fault::ended_early(uri));
    }
    if !pending.is_empty() {
        return Err(fault::bytes_after_end(uri, pending.len()));
    }
    client.batch_execute("COMMIT").await.map_err(db)?;
    Ok(())
}

impl Source for PostgresSource {
    fn uri(&self) -> &str {
        &self.uri
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint {
            total: self.estimated_rows,
            unit: ProgressUnit::Rows,
            estimated_rows: self.estimated_rows,
        }
    }

    fn splits(&self) -> usize {
        self.splits.len()
    }

    fn read_split(
        &self,
        split: usize,
        projection: &[usize],
        sink: &mut dyn FnMut(Batch) -> Result<()>,
    ) -> Result<()> {
        // A runtime of the reading thread's own: the connection is driven where its rows
        // are parsed, with no hand-off between threads for every message.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Error::Internal(format!("starting a runtime to read {}: {e}", self.uri))
            })?;
        let client = connect(&runtime, &self.connector, &self.uri)?;
        let sql = format!(
            "COPY (SELECT {} FROM {}{}) TO STDOUT (FORMAT binary)",
            self.select_list(projection),
            self.from_item,
            self.where_clause(Some(self.splits[split]))
        );
        let (schema, mut builders) = self.builders(projection, self.batch_size)?;
        let mut on_tuple = |tuple: &[u8], fields: &FieldRanges| -> Result<()> {
            let locator = fields[0]
                .and_then(|(a, b)| self.locator_of(&tuple[a..b]))
                .ok_or_else(|| fault::no_locator(&self.uri))?;
            for (c, range) in fields[1..].iter().enumerate() {
                builders
                    .append(c, range.map(|(a, b)| &tuple[a..b]))
                    .map_err(|what| fault::bad_value(&self.uri, schema.field(c).name(), &what))?;
            }
            builders.locators.push(locator);
            if builders.len() == self.batch_size {
                sink(builders.finish(schema.clone(), &self.uri)?)?;
            }
            Ok(())
        };
        let mut parser = CopyParser::new(&self.uri, projection.len() + 1);
        runtime.block_on(copy_on_snapshot(
            &client,
            &self.snapshot,
            &sql,
            &self.uri,
            &mut parser,
            &mut on_tuple,
        ))?;
        if builders.len() > 0 {
            sink(builders.finish(schema.clone(), &self.uri)?)?;
        }
        Ok(())
    }

    fn fetch_rows(&self) -> usize {
        self.locator.fetch_rows()
    }

    fn fetch(&self, projection: &[usize], locators: &[u64]) -> Result<RecordBatch> {
        let rows = self.query_again(projection, locators)?;
        let mut by_locator: HashMap<u64, usize> = HashMap::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let raw: Raw = row.get(0);
            if let Some(l) = self.locator_of(raw.0) {
                by_locator.insert(l, i);
            }
        }
        let (schema, mut builders) = self.builders(projection, locators.len())?;
        for &locator in locators {
            let i = *by_locator.get(&locator).ok_or_else(|| {
                Error::Internal(format!(
                    "row {locator:#x} vanished from the snapshot of {}",
                    self.uri
                ))
            })?;
            let row = &rows[i];
            for c in 0..projection.len() {
                let value: Option<Raw> = row.get(c + 1);
                builders
                    .append(c, value.map(|r| r.0))
                    .map_err(|what| fault::bad_value(&self.uri, schema.field(c).name(), &what))?;
            }
            builders.locators.push(locator);
        }
        Ok(builders.finish(schema, &self.uri)?.columns)
    }
}
