//! PostgreSQL tables as a [`Source`]. Every connection reads inside
//! `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` on one exported snapshot, so a scan
//! split over several connections still sees one instant, and recon never writes. Rows
//! stream through `COPY (SELECT …) TO STDOUT (FORMAT binary)` straight into Arrow
//! builders; a table is split into `ctid` page ranges read in parallel; locators are
//! `ctid`s, so differing rows are fetched again by `ctid = ANY(…)` on the same snapshot.
//!
//! Native types: smallint, integer, bigint, real, double precision, boolean, text,
//! varchar, char(n) (blank padding kept, as PostgreSQL stores it), name, bytea, date,
//! timestamp, timestamptz. `numeric` travels in binary, is written out as the exact text
//! PostgreSQL itself would print, and compares as a number; every other type (uuid, json, jsonb, time, interval, enums, arrays, …) is read as its
//! text form under fixed session settings (UTC, ISO dates, full float precision).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Float32Builder, Float64Builder, Int16Builder,
    Int32Builder, Int64Builder, PrimitiveBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, ArrowPrimitiveType, RecordBatch, RecordBatchOptions, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::{Buf, BytesMut};
use futures_util::StreamExt;
use tokio_postgres::Client;
use tokio_postgres::types::{FromSql, Type};

use crate::error::{Error, Result};
use crate::source::{Batch, ProgressUnit, SizeHint, Source, SourceOptions};

/// Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_SECONDS: i64 = 946_684_800;
/// Days from 1970-01-01 to 2000-01-01.
const PG_EPOCH_DAYS: i32 = 10_957;

/// How a column travels from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    I16,
    I32,
    I64,
    F32,
    F64,
    Bool,
    Text,
    Bytes,
    Date,
    Timestamp,
    TimestampTz,
    /// `numeric` in its binary form, written out as PostgreSQL's own text would be.
    Numeric,
    /// Cast to text in the SELECT.
    AsText,
}

impl Wire {
    fn of(ty: &Type) -> Wire {
        match *ty {
            Type::INT2 => Wire::I16,
            Type::INT4 => Wire::I32,
            Type::INT8 => Wire::I64,
            Type::FLOAT4 => Wire::F32,
            Type::FLOAT8 => Wire::F64,
            Type::BOOL => Wire::Bool,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => Wire::Text,
            Type::BYTEA => Wire::Bytes,
            Type::DATE => Wire::Date,
            Type::TIMESTAMP => Wire::Timestamp,
            Type::TIMESTAMPTZ => Wire::TimestampTz,
            Type::NUMERIC => Wire::Numeric,
            _ => Wire::AsText,
        }
    }

    fn data_type(self) -> DataType {
        match self {
            Wire::I16 => DataType::Int16,
            Wire::I32 => DataType::Int32,
            Wire::I64 => DataType::Int64,
            Wire::F32 => DataType::Float32,
            Wire::F64 => DataType::Float64,
            Wire::Bool => DataType::Boolean,
            Wire::Text | Wire::Numeric | Wire::AsText => DataType::Utf8,
            Wire::Bytes => DataType::Binary,
            Wire::Date => DataType::Date32,
            Wire::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Wire::TimestampTz => DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
        }
    }
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    wire: Wire,
    numeric: bool,
}

/// A PostgreSQL table (optionally filtered) on one snapshot.
pub struct PostgresSource {
    uri: String,
    runtime: Arc<tokio::runtime::Runtime>,
    config: tokio_postgres::Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    /// The FROM item: a quoted table name, or `(query) AS recon_q`.
    table: String,
    /// For a query: the key columns its rows are numbered by (the locators).
    query_order: Option<String>,
    filter: Option<String>,
    columns: Vec<Column>,
    schema: SchemaRef,
    snapshot: String,
    /// Holds the snapshot's transaction open for the whole run; also fetches rows again.
    anchor: Mutex<Client>,
    splits: Vec<(u32, Option<u32>)>,
    estimated_rows: u64,
    batch_size: usize,
}

impl std::fmt::Debug for PostgresSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSource")
            .field("uri", &self.uri)
            .field("table", &self.table)
            .finish()
    }
}

/// Whether a location names a PostgreSQL table.
pub fn is_postgres(uri: &str) -> bool {
    let lower = uri.get(..13).unwrap_or(uri).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The location with any password replaced: what recon prints. Credentials end at the
/// first `@` (as the connection parser reads them, so a `/` or `?` in a password is still
/// hidden); a `password` parameter is hidden too.
pub fn redact(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_string();
    };
    let rest = match rest.split_once('@') {
        Some((user_info, after)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{after}"),
            None => rest.to_string(),
        },
        None => rest.to_string(),
    };
    let rest = match rest.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|part| match part.split_once('=') {
                    // `password`, and `sslpassword` (a client key's passphrase).
                    Some((k, _))
                        if percent_decode(k).to_ascii_lowercase().ends_with("password") =>
                    {
                        format!("{k}=***")
                    }
                    _ => part.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => rest,
    };
    format!("{scheme}://{rest}")
}

/// Quotes a possibly schema-qualified table name; already quoted parts are kept.
fn quote_table(name: &str) -> Result<String> {
    let mut parts = Vec::new();
    let mut rest = name.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('"') {
            // A quoted identifier: up to the closing quote that is not doubled.
            let mut end = None;
            let bytes = after.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'"' {
                    if bytes.get(i + 1) == Some(&b'"') {
                        i += 2;
                        continue;
                    }
                    end = Some(i);
                    break;
                }
                i += 1;
            }
            let end = end.ok_or_else(|| {
                Error::Config(format!("table name {name:?} has an unclosed quote"))
            })?;
            parts.push(format!("\"{}\"", &after[..end]));
            rest = after[end + 1..].trim_start();
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            parts.push(quote_ident(rest[..end].trim()));
            rest = &rest[end..];
        }
        if let Some(after) = rest.strip_prefix('.') {
            rest = after.trim_start();
        } else if !rest.is_empty() {
            return Err(Error::Config(format!(
                "cannot read table name {name:?}; write schema.table"
            )));
        }
    }
    if parts.is_empty() || parts.len() > 3 {
        return Err(Error::Config(format!(
            "cannot read table name {name:?}; write schema.table"
        )));
    }
    Ok(parts.join("."))
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The raw bytes of a value, whatever its type.
struct Raw<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(
        _: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

impl PostgresSource {
    /// Connects, opens the snapshot and reads the table's columns.
    pub fn open(uri: &str, options: &SourceOptions) -> Result<Self> {
        let shown = redact(uri);
        let (connection_string, params) = match uri.split_once('?') {
            Some((base, query)) => (base.to_string(), query),
            None => (uri.to_string(), ""),
        };
        let mut table = None;
        let mut query = None;
        let mut filter = None;
        let mut tls_mode = None;
        let mut root_cert = None;
        let mut client_cert = None;
        let mut client_key = None;
        let mut libpq = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for pair in params.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            // A repeated parameter would silently be the last one: `table=a&table=b`
            // compared only b.
            if !seen.insert(k) {
                return Err(Error::Config(format!(
                    "{shown} gives {k} twice; give it once"
                )));
            }
            let v = percent_decode(v);
            match k {
                "table" => table = Some(v),
                "query" => query = Some(v),
                "where" => filter = Some(v),
                "sslmode" => tls_mode = Some(v),
                "sslrootcert" => root_cert = Some(std::path::PathBuf::from(v)),
                "sslcert" => client_cert = Some(std::path::PathBuf::from(v)),
                "sslkey" => client_key = Some(std::path::PathBuf::from(v)),
                "sslpassword" => {
                    return Err(Error::Config(format!(
                        "{shown}: sslpassword (an encrypted client key) is not supported; decrypt the key (openssl pkey -in key.enc -out key) and keep it readable only by you"
                    )));
                }
                _ => libpq.push(pair.to_string()),
            }
        }
        // The table, query and filter may come from the location or from the options
        // (flags, job file), never both: one would silently replace the other. Those from
        // the options are added to the location shown in every report and error, so a
        // report always says what was compared.
        // A statement's closing semicolon is habit, not a second statement.
        let without_semicolon =
            |q: String| q.trim_end().trim_end_matches(';').trim_end().to_string();
        query = query.map(without_semicolon);
        let option_query = options.database.query.clone().map(without_semicolon);
        let mut shown = shown;
        let mut added = Vec::new();
        for (name, from_location, from_options) in [
            ("table", &mut table, &options.database.table),
            ("query", &mut query, &option_query),
            ("where", &mut filter, &options.database.filter),
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
            check_filter(f).map_err(|why| Error::Config(format!("row filter {f:?}: {why}")))?;
        }
        // Rows without a ctid of their own are numbered by the key, the same on every read.
        // Keys are spelled as the relation spells them: an exact match, else the one column
        // equal ignoring case (keys match columns so everywhere else).
        let key_order = |what: &str, columns: &[Column]| -> Result<String> {
            if options.database.order_by.is_empty() {
                return Err(Error::Config(format!(
                    "{shown}: {what} needs the key, to number its rows the same way each time it is read"
                )));
            }
            let keys: Vec<String> = options
                .database
                .order_by
                .iter()
                .map(|k| {
                    let mut folded = columns.iter().filter(|c| c.name.eq_ignore_ascii_case(k));
                    let name = match (columns.iter().find(|c| c.name == *k), folded.next()) {
                        (Some(exact), _) => &exact.name,
                        (None, Some(only)) if folded.next().is_none() => &only.name,
                        _ => k,
                    };
                    quote_ident(name)
                })
                .collect();
            Ok(keys.join(", "))
        };
        let (table, query_order) = match (table, query) {
            (Some(_), Some(_)) => {
                return Err(Error::Config(format!(
                    "{shown} names both a table and a query; give one"
                )));
            }
            (Some(t), None) => (quote_table(&t)?, None),
            (None, Some(q)) => {
                if q.trim().is_empty() {
                    return Err(Error::Config(format!(
                        "{shown}: the query is empty; give a SELECT"
                    )));
                }
                check_filter(&q).map_err(|why| Error::Config(format!("query {q:?}: {why}")))?;
                let first = q
                    .split(|c: char| !c.is_ascii_alphabetic())
                    .find(|w| !w.is_empty())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if !["select", "with", "values", "table"].contains(&first.as_str()) {
                    return Err(Error::Config(format!(
                        "query {q:?}: recon only reads; give a SELECT (or WITH … SELECT, VALUES, TABLE)"
                    )));
                }
                (
                    format!("({q}) AS recon_q"),
                    Some(key_order("a query source", &[])?),
                )
            }
            (None, None) => {
                return Err(Error::Config(format!(
                    "{shown} names no table: add ?table=schema.table (or ?query=…) to the location"
                )));
            }
        };
        let full = if libpq.is_empty() {
            connection_string.clone()
        } else {
            format!("{connection_string}?{}", libpq.join("&"))
        };
        let mut config: tokio_postgres::Config = full.parse().map_err(|e| {
            // Name the parameter at fault when one alone is refused.
            let base_parses = connection_string.parse::<tokio_postgres::Config>().is_ok();
            let culprit = libpq.iter().filter(|_| base_parses).find(|pair| {
                format!("{connection_string}?{pair}")
                    .parse::<tokio_postgres::Config>()
                    .is_err()
            });
            Error::Database {
                uri: shown.clone(),
                message: match culprit {
                    Some(pair) => format!(
                        "not a valid connection location: unknown or invalid parameter {:?} (besides libpq's connection parameters, recon reads table, query, where, sslmode, sslrootcert, sslcert and sslkey)",
                        pair.split_once('=').map_or(pair.as_str(), |(k, _)| k)
                    ),
                    None => format!("not a valid connection location: {e}"),
                },
            }
        })?;
        // As in libpq: the URI, else PGSSLMODE / PGSSLROOTCERT, else prefer; `require`
        // with a root certificate verifies the chain.
        let tls_mode = match tls_mode.or_else(|| std::env::var("PGSSLMODE").ok()) {
            None => TlsMode::Prefer,
            Some(text) => TlsMode::parse(&text).ok_or_else(|| {
                Error::Config(format!(
                    "{shown}: sslmode {text:?} must be disable, prefer, require, verify-ca or verify-full"
                ))
            })?,
        };
        let root_cert = root_cert
            .or_else(|| std::env::var_os("PGSSLROOTCERT").map(Into::into))
            .or_else(default_root_cert);
        let tls_mode = match (tls_mode, &root_cert) {
            (TlsMode::Require, Some(_)) => TlsMode::VerifyCa,
            (TlsMode::VerifyCa, None) => {
                return Err(Error::Config(format!(
                    "{shown}: sslmode=verify-ca needs sslrootcert=/path/to/root.crt, or ~/.postgresql/root.crt (the authority that signed the server's certificate); verify-full without it trusts the public web authorities"
                )));
            }
            (mode, _) => mode,
        };
        config.ssl_mode(match tls_mode {
            TlsMode::Disable => tokio_postgres::config::SslMode::Disable,
            TlsMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        // As in libpq: the URI, else PGSSLCERT / PGSSLKEY, else ~/.postgresql/postgresql.crt
        // and .key when they exist; presented only when the server asks for one, and never
        // looked at without TLS.
        let client = if tls_mode == TlsMode::Disable {
            None
        } else {
            let from = |given: Option<std::path::PathBuf>, variable: &str, file: &str| {
                given
                    .or_else(|| std::env::var_os(variable).map(Into::into))
                    .or_else(|| home_file(file))
            };
            match (
                from(client_cert, "PGSSLCERT", "postgresql.crt"),
                from(client_key, "PGSSLKEY", "postgresql.key"),
            ) {
                (Some(cert), Some(key)) => Some((cert, key)),
                (None, None) => None,
                (Some(cert), None) => {
                    return Err(Error::Config(format!(
                        "{shown}: the client certificate {} (from sslcert, PGSSLCERT or ~/.postgresql) has no key: give sslkey=/path/to/postgresql.key",
                        cert.display()
                    )));
                }
                (None, Some(key)) => {
                    return Err(Error::Config(format!(
                        "{shown}: the client key {} (from sslkey, PGSSLKEY or ~/.postgresql) has no certificate: give sslcert=/path/to/postgresql.crt",
                        key.display()
                    )));
                }
            }
        };
        let tls =
            tls_connector(tls_mode, root_cert.as_deref(), client.as_ref()).map_err(|message| {
                Error::Database {
                    uri: shown.clone(),
                    message,
                }
            })?;
        config.application_name("recon");
        if config.get_password().is_none()
            && let Some(password) = password_from_environment(&config)
        {
            config.password(password);
        }
        let runtime = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .map_err(|e| Error::Internal(format!("starting the database runtime: {e}")))?,
        );
        let anchor = connect(&runtime, &config, &tls, &shown)?;
        let db = |e: tokio_postgres::Error| database_error(&shown, e);
        let (columns, snapshot, pages, tuples, numbered) = runtime.block_on(async {
            anchor
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await
                .map_err(db)?;
            session_settings(&anchor).await.map_err(db)?;
            let snapshot: String = anchor
                .query_one("SELECT pg_export_snapshot()", &[])
                .await
                .map_err(db)?
                .get(0);
            let probe = format!(
                "SELECT * FROM {table}{}",
                filter.as_ref().map(|f| format!(" WHERE ({f})")).unwrap_or_default()
            );
            let statement = anchor.prepare(&probe).await.map_err(db)?;
            let columns: Vec<Column> = statement
                .columns()
                .iter()
                .map(|c| Column {
                    name: c.name().to_string(),
                    wire: Wire::of(c.type_()),
                    numeric: *c.type_() == Type::NUMERIC,
                })
                .collect();
            let size = if query_order.is_some() {
                None
            } else {
                anchor
                .query_opt(
                    &format!(
                        "SELECT relpages::bigint, reltuples::bigint, relkind::text, relhassubclass FROM pg_class WHERE oid = '{}'::regclass",
                        table.replace('\'', "''")
                    ),
                    &[],
                )
                .await
                .map_err(db)?
            };
            let (pages, tuples, kind, children): (i64, i64, String, bool) = size
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .unwrap_or((0, 0, "r".into(), false));
            // Rows are located by ctid, which is unique only within one heap: partitioned
            // and inherited tables repeat it, and views have none. Those are read like a
            // query instead, their rows numbered by the key.
            let numbered = match kind.as_str() {
                "v" | "f" => Some(""),
                // Ties (repeated keys, or keys equal under a collation) are broken by the
                // row's own address, so the numbering is the same on every read.
                "p" => Some(", tableoid, ctid"),
                _ if children => Some(", tableoid, ctid"),
                _ => None,
            };
            Ok::<_, Error>((columns, snapshot, pages.max(0) as u32, tuples.max(0) as u64, numbered))
        })?;
        let query_order = match query_order {
            Some(_) => Some(key_order("a query source", &columns)?),
            None => match numbered {
                Some(tie_break) => Some(
                    key_order(
                        &format!(
                            "{table} (a partitioned or inherited table, view or foreign table)"
                        ),
                        &columns,
                    )? + tie_break,
                ),
                None => None,
            },
        };
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
        let connections = options.database.connections.max(1) as u32;
        let splits = if pages < 64 || connections == 1 || query_order.is_some() {
            vec![(0, None)]
        } else {
            let step = pages.div_ceil(connections);
            (0..connections)
                .map(|i| {
                    let from = i * step;
                    let to = (i + 1 < connections).then_some((i + 1) * step);
                    (from, to)
                })
                .collect()
        };
        Ok(PostgresSource {
            uri: shown,
            runtime,
            config,
            tls,
            table,
            query_order,
            filter,
            columns,
            schema: Arc::new(Schema::new(fields)),
            snapshot,
            anchor: Mutex::new(anchor),
            splits,
            estimated_rows: tuples,
            batch_size: options.batch_size.max(1),
        })
    }

    /// The locator of a row from its first column: a ctid, or a query's row number.
    fn locator(&self, raw: &[u8]) -> Option<u64> {
        match self.query_order {
            None => ctid_locator(raw),
            Some(_) => Some(i64::from_be_bytes(raw.try_into().ok()?) as u64),
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

    fn select_list(&self, projection: &[usize]) -> String {
        let locator = match &self.query_order {
            None => "ctid".to_string(),
            Some(order) => format!("row_number() OVER (ORDER BY {order})::bigint AS recon_row"),
        };
        let mut list = vec![locator];
        for &i in projection {
            let c = &self.columns[i];
            let name = quote_ident(&c.name);
            list.push(if c.wire == Wire::AsText {
                format!("{name}::text")
            } else {
                name
            });
        }
        list.join(", ")
    }

    fn where_clause(&self, range: Option<(u32, Option<u32>)>) -> String {
        let mut conditions = Vec::new();
        if let Some((from, to)) = range {
            if from > 0 {
                conditions.push(format!("ctid >= '({from},0)'::tid"));
            }
            if let Some(to) = to {
                conditions.push(format!("ctid < '({to},0)'::tid"));
            }
        }
        if let Some(f) = &self.filter {
            conditions.push(format!("({f})"));
        }
        if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        }
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Refuses SQL that could end the bracket or statement it is placed in (a filter goes in
/// `WHERE (…)`, a query in `(…) AS recon_q`): unbalanced brackets or a `;` outside quotes
/// and quoted names, and comments.
fn check_filter(filter: &str) -> std::result::Result<(), &'static str> {
    let bytes = filter.as_bytes();
    let mut depth = 0i32;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                let quote = bytes[i];
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Err("a quote is never closed"),
                        Some(&b) if b == quote && bytes.get(i + 1) == Some(&quote) => i += 2,
                        Some(&b) if b == quote => break,
                        Some(_) => i += 1,
                    }
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                return Err("comments are not allowed here; remove them");
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                return Err("comments are not allowed here; remove them");
            }
            b'$' => return Err("dollar quoting is not allowed here; use '…' strings"),
            b';' => return Err("';' is not allowed: give one condition or one SELECT"),
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("a ')' closes a bracket that was never opened");
                }
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 {
        return Err("brackets are not balanced");
    }
    Ok(())
}

/// PGPASSWORD, else the matching line of ~/.pgpass (or PGPASSFILE).
fn password_from_environment(config: &tokio_postgres::Config) -> Option<String> {
    if let Ok(p) = std::env::var("PGPASSWORD") {
        return Some(p);
    }
    let path = std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pgpass")))?;
    let text = std::fs::read_to_string(path).ok()?;
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let db = config.get_dbname().unwrap_or("").to_string();
    let user = config.get_user().unwrap_or("").to_string();
    for line in text.lines() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let fields = split_pgpass(line);
        if fields.len() != 5 {
            continue;
        }
        let fits = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        if fits(&fields[0], &host)
            && fits(&fields[1], &port)
            && fits(&fields[2], &db)
            && fits(&fields[3], &user)
        {
            return Some(fields[4].clone());
        }
    }
    None
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("a field").push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("a field").push(c),
        }
    }
    fields
}

fn connect(
    runtime: &tokio::runtime::Runtime,
    config: &tokio_postgres::Config,
    tls: &tokio_postgres_rustls::MakeRustlsConnect,
    shown: &str,
) -> Result<Client> {
    runtime.block_on(async {
        let attempt = config.connect(tls.clone()).await;
        // libpq's `prefer`: a server whose TLS set-up fails is spoken to in plain text.
        let attempt = match attempt {
            Err(e)
                if config.get_ssl_mode() == tokio_postgres::config::SslMode::Prefer
                    && e.to_string().contains("TLS handshake") =>
            {
                let mut plain = config.clone();
                plain.ssl_mode(tokio_postgres::config::SslMode::Disable);
                plain.connect(tls.clone()).await
            }
            other => other,
        };
        let (client, connection) = attempt.map_err(|e| database_error(shown, e))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    })
}

async fn session_settings(client: &Client) -> std::result::Result<(), tokio_postgres::Error> {
    client
        .batch_execute(
            "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'",
        )
        .await
}

fn database_error(shown: &str, error: tokio_postgres::Error) -> Error {
    let message = match error.as_db_error() {
        Some(db) => {
            let mut m = format!("the server says: {}", db.message());
            if let Some(detail) = db.detail() {
                m.push_str(&format!(" ({detail})"));
            }
            if let Some(hint) = db.hint() {
                m.push_str(&format!("; hint: {hint}"));
            }
            m
        }
        None => {
            let mut m = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(s) = source {
                m.push_str(&format!(": {s}"));
                source = s.source();
            }
            if m.contains("Connection refused") || m.contains("error connecting") {
                m.push_str(" (is the server running, and are host and port right?)");
            } else if m.contains("password missing") {
                m.push_str(
                    " (the server asks for a password: put it in the URI, PGPASSWORD or ~/.pgpass)",
                );
            } else if m.contains("invalid peer certificate") {
                m.push_str(" (with sslmode=verify-ca or verify-full, pass the authority that signed the server's certificate as sslrootcert=/path/to/root.crt)");
            } else if m.contains("server does not support TLS") {
                m.push_str(" (the server has ssl=off: use sslmode=prefer or disable on a trusted network, or turn TLS on at the server)");
            }
            m
        }
    };
    Error::Database {
        uri: shown.to_string(),
        message,
    }
}

/// Arrow builders for the projected columns, filled from wire bytes.
struct Builders {
    wires: Vec<Wire>,
    /// Rows per batch: every builder starts with room for them.
    capacity: usize,
    columns: Vec<ColumnBuilder>,
    locators: Vec<u64>,
    /// A value being written out as text.
    scratch: Vec<u8>,
}

enum ColumnBuilder {
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    Bool(BooleanBuilder),
    /// Text as bytes: one UTF-8 check per batch in `finish` costs far less than one per
    /// value.
    Text(BinaryBuilder),
    /// Binary `numeric` values decoded to text (always ASCII).
    Numeric(BinaryBuilder),
    Bytes(BinaryBuilder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
}

impl ColumnBuilder {
    /// An empty builder for `wire` with room for `rows` rows and `bytes` bytes of values.
    fn new(wire: Wire, rows: usize, bytes: usize) -> Self {
        match wire {
            Wire::I16 => ColumnBuilder::I16(Int16Builder::with_capacity(rows)),
            Wire::I32 => ColumnBuilder::I32(Int32Builder::with_capacity(rows)),
            Wire::I64 => ColumnBuilder::I64(Int64Builder::with_capacity(rows)),
            Wire::F32 => ColumnBuilder::F32(Float32Builder::with_capacity(rows)),
            Wire::F64 => ColumnBuilder::F64(Float64Builder::with_capacity(rows)),
            Wire::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(rows)),
            Wire::Text | Wire::AsText => {
                ColumnBuilder::Text(BinaryBuilder::with_capacity(rows, bytes))
            }
            Wire::Numeric => ColumnBuilder::Numeric(BinaryBuilder::with_capacity(rows, bytes)),
            Wire::Bytes => ColumnBuilder::Bytes(BinaryBuilder::with_capacity(rows, bytes)),
            Wire::Date => ColumnBuilder::Date(Date32Builder::with_capacity(rows)),
            Wire::Timestamp => {
                ColumnBuilder::Timestamp(TimestampMicrosecondBuilder::with_capacity(rows))
            }
            Wire::TimestampTz => ColumnBuilder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("+00:00"),
            ),
        }
    }

    /// Bytes of variable-width values held, to size the next batch's builder.
    fn value_bytes(&self) -> usize {
        match self {
            ColumnBuilder::Text(b) | ColumnBuilder::Numeric(b) | ColumnBuilder::Bytes(b) => {
                b.values_slice().len()
            }
            _ => 0,
        }
    }
}

impl Builders {
    fn new(wires: &[Wire], capacity: usize) -> Self {
        Builders {
            wires: wires.to_vec(),
            capacity,
            columns: wires
                .iter()
                .map(|&w| ColumnBuilder::new(w, capacity, capacity * 8))
                .collect(),
            locators: Vec::with_capacity(capacity),
            scratch: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.locators.len()
    }

    fn append(&mut self, column: usize, value: Option<&[u8]>) -> std::result::Result<(), String> {
        // Called lazily: a message is built only for a malformed value.
        let bad = |what: &str| format!("a {what} value of {} bytes", value.map_or(0, <[u8]>::len));
        fn be<const N: usize>(v: &[u8]) -> Option<[u8; N]> {
            v.try_into().ok()
        }
        // A fixed-width big-endian value, or NULL.
        fn fixed<T: ArrowPrimitiveType, const N: usize>(
            builder: &mut PrimitiveBuilder<T>,
            value: Option<&[u8]>,
            decode: fn([u8; N]) -> T::Native,
            bad: impl Fn() -> String,
        ) -> std::result::Result<(), String> {
            builder.append_option(
                value
                    .map(|v| be(v).map(decode).ok_or_else(&bad))
                    .transpose()?,
            );
            Ok(())
        }
        match (&mut self.columns[column], value) {
            (ColumnBuilder::I16(b), v) => fixed(b, v, i16::from_be_bytes, || bad("smallint"))?,
            (ColumnBuilder::I32(b), v) => fixed(b, v, i32::from_be_bytes, || bad("integer"))?,
            (ColumnBuilder::I64(b), v) => fixed(b, v, i64::from_be_bytes, || bad("bigint"))?,
            (ColumnBuilder::F32(b), v) => fixed(b, v, f32::from_be_bytes, || bad("real"))?,
            (ColumnBuilder::F64(b), v) => fixed(b, v, f64::from_be_bytes, || bad("double"))?,
            (ColumnBuilder::Bool(b), v) => b.append_option(
                v.map(|v| v.first().map(|x| *x != 0).ok_or_else(|| bad("boolean")))
                    .transpose()?,
            ),
            (ColumnBuilder::Text(b) | ColumnBuilder::Bytes(b), v) => b.append_option(v),
            (ColumnBuilder::Numeric(b), None) => b.append_null(),
            (ColumnBuilder::Numeric(b), Some(v)) => {
                self.scratch.clear();
                numeric_text(v, &mut self.scratch).ok_or_else(|| bad("numeric"))?;
                b.append_value(&self.scratch);
            }
            (ColumnBuilder::Date(b), v) => b.append_option(
                v.map(|v| {
                    let d = i32::from_be_bytes(be::<4>(v).ok_or_else(|| bad("date"))?);
                    match d {
                        // ±infinity keep the extreme values, distinct from any real date.
                        i32::MAX | i32::MIN => Ok(d),
                        d => d
                            .checked_add(PG_EPOCH_DAYS)
                            .ok_or_else(|| {
                                "a date beyond the range recon holds: filter it out or cast it in a query".to_string()
                            }),
                    }
                })
                .transpose()?,
            ),
            (ColumnBuilder::Timestamp(b), v) => b.append_option(
                v.map(|v| {
                    let t = i64::from_be_bytes(be::<8>(v).ok_or_else(|| bad("timestamp"))?);
                    match t {
                        // ±infinity keep the extreme values, distinct from any real instant.
                        i64::MAX | i64::MIN => Ok(t),
                        t => t
                            .checked_add(PG_EPOCH_SECONDS * 1_000_000)
                            .filter(|x| *x != i64::MAX)
                            .ok_or_else(|| {
                                "a timestamp after the year 294246, the last recon holds (PostgreSQL goes to 294276): filter it out or cast it in a query".to_string()
                            }),
                    }
                })
                .transpose()?,
            ),
        }
        Ok(())
    }

    /// The rows so far as a batch; `uri` names the source in errors.
    fn finish(&mut self, schema: SchemaRef, uri: &str) -> Result<Batch> {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for (c, wire) in self.wires.iter().enumerate() {
            let next = ColumnBuilder::new(*wire, self.capacity, self.columns[c].value_bytes());
            arrays.push(match std::mem::replace(&mut self.columns[c], next) {
                ColumnBuilder::I16(mut b) => Arc::new(b.finish()),
                ColumnBuilder::I32(mut b) => Arc::new(b.finish()),
                ColumnBuilder::I64(mut b) => Arc::new(b.finish()),
                ColumnBuilder::F32(mut b) => Arc::new(b.finish()),
                ColumnBuilder::F64(mut b) => Arc::new(b.finish()),
                ColumnBuilder::Bool(mut b) => Arc::new(b.finish()),
                ColumnBuilder::Text(mut b) | ColumnBuilder::Numeric(mut b) => Arc::new(
                    StringArray::try_from_binary(b.finish()).map_err(|_| Error::Database {
                        uri: uri.to_string(),
                        message: format!(
                            "column {:?} holds text that is not UTF-8: set the database's encoding, or cast the column in a query",
                            schema.field(c).name()
                        ),
                    })?,
                ),
                ColumnBuilder::Bytes(mut b) => Arc::new(b.finish()),
                ColumnBuilder::Date(mut b) => Arc::new(b.finish()),
                ColumnBuilder::Timestamp(mut b) => Arc::new(b.finish()),
            });
        }
        let rows = self.locators.len();
        let columns = RecordBatch::try_new_with_options(
            schema,
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map_err(|e| Error::Internal(format!("building a PostgreSQL batch: {e}")))?;
        Ok(Batch {
            columns,
            locators: std::mem::replace(&mut self.locators, Vec::with_capacity(self.capacity)),
            progress: rows as u64,
        })
    }
}

/// Writes a binary `numeric` (`numeric_send`: digit count, weight, sign and display
/// scale, then base-10000 digits) as `numeric_out` would: the same digits, the display
/// scale's zeros, `NaN` and `±Infinity`. `None` for bytes that are not such a value.
fn numeric_text(wire: &[u8], out: &mut Vec<u8>) -> Option<()> {
    const NEGATIVE: u16 = 0x4000;
    const NAN: u16 = 0xC000;
    const INFINITY: u16 = 0xD000;
    const NEGATIVE_INFINITY: u16 = 0xF000;
    let word = |i: usize| -> Option<u16> {
        Some(u16::from_be_bytes(
            wire.get(2 * i..2 * i + 2)?.try_into().ok()?,
        ))
    };
    let count = word(0)? as usize;
    let weight = word(1)? as i16 as i32;
    let sign = word(2)?;
    let scale = word(3)? as usize;
    if wire.len() != 8 + 2 * count {
        return None;
    }
    match sign {
        NAN => out.extend_from_slice(b"NaN"),
        INFINITY => out.extend_from_slice(b"Infinity"),
        NEGATIVE_INFINITY => out.extend_from_slice(b"-Infinity"),
        0 | NEGATIVE => {
            let digit = |d: i32| -> Option<u16> {
                if d < 0 || d as usize >= count {
                    return Some(0);
                }
                let value = word(4 + d as usize)?;
                (value < 10_000).then_some(value)
            };
            let group = |value: u16| {
                [
                    b'0' + (value / 1000) as u8,
                    b'0' + (value / 100 % 10) as u8,
                    b'0' + (value / 10 % 10) as u8,
                    b'0' + (value % 10) as u8,
                ]
            };
            if sign == NEGATIVE {
                out.push(b'-');
            }
            if weight < 0 {
                out.push(b'0');
            } else {
                // The first group without its leading zeros, the others in full.
                let first = digit(0)?;
                let significant = match first {
                    1000.. => 4,
                    100.. => 3,
                    10.. => 2,
                    _ => 1,
                };
                out.extend_from_slice(&group(first)[4 - significant..]);
                for d in 1..=weight {
                    out.extend_from_slice(&group(digit(d)?));
                }
            }
            if scale > 0 {
                out.push(b'.');
                let end = out.len() + scale;
                let mut d = weight + 1;
                while out.len() < end {
                    out.extend_from_slice(&group(digit(d)?));
                    d += 1;
                }
                out.truncate(end);
            }
        }
        _ => return None,
    }
    Some(())
}

fn ctid_locator(raw: &[u8]) -> Option<u64> {
    // tid on the wire: u32 block, u16 offset.
    let block = u32::from_be_bytes(raw.get(0..4)?.try_into().ok()?);
    let offset = u16::from_be_bytes(raw.get(4..6)?.try_into().ok()?);
    Some((u64::from(block) << 16) | u64::from(offset))
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
        let db = |e: tokio_postgres::Error| database_error(&self.uri, e);
        // A runtime of the reading thread's own: the connection is driven where its rows
        // are parsed, with no hand-off between threads for every message.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Error::Internal(format!("starting a runtime to read {}: {e}", self.uri))
            })?;
        let client = connect(&runtime, &self.config, &self.tls, &self.uri)?;
        let sql = format!(
            "COPY (SELECT {} FROM {}{}) TO STDOUT (FORMAT binary)",
            self.select_list(projection),
            self.table,
            self.where_clause(Some(self.splits[split]))
        );
        let (schema, mut builders) = self.builders(projection, self.batch_size)?;
        let bad = |what: String| Error::Database {
            uri: self.uri.clone(),
            message: what,
        };
        let mut on_tuple = |tuple: &[u8], fields: &FieldRanges| -> Result<()> {
            let ctid = fields[0]
                .and_then(|(a, b)| self.locator(&tuple[a..b]))
                .ok_or_else(|| bad("a row without a locator".into()))?;
            for (c, range) in fields[1..].iter().enumerate() {
                builders
                    .append(c, range.map(|(a, b)| &tuple[a..b]))
                    .map_err(|what| bad(format!("column {:?}: {what}", schema.field(c).name())))?;
            }
            builders.locators.push(ctid);
            if builders.len() == self.batch_size {
                sink(builders.finish(schema.clone(), &self.uri)?)?;
            }
            Ok(())
        };
        let mut parser = CopyParser::new(&self.uri, projection.len() + 1);
        runtime.block_on(async {
            client
                .batch_execute(&format!(
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{}'",
                    self.snapshot
                ))
                .await
                .map_err(db)?;
            session_settings(&client).await.map_err(db)?;
            let stream = client.copy_out(sql.as_str()).await.map_err(db)?;
            futures_util::pin_mut!(stream);
            // The start of a tuple whose end has not arrived yet. The server sends a row
            // per message, so most messages are parsed where they lie.
            let mut pending = BytesMut::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(db)?;
                if pending.is_empty() {
                    let consumed = parser.feed(&chunk, &mut on_tuple)?;
                    pending.extend_from_slice(&chunk[consumed..]);
                } else {
                    pending.extend_from_slice(&chunk);
                    let consumed = parser.feed(&pending, &mut on_tuple)?;
                    pending.advance(consumed);
                }
            }
            if !parser.finished {
                return Err(bad("the server ended the scan early; the result would be partial, so the run stops".into()));
            }
            if !pending.is_empty() {
                return Err(bad(format!(
                    "the server sent {} bytes after the end of the scan; the run stops rather than guess what they hold",
                    pending.len()
                )));
            }
            client.batch_execute("COMMIT").await.map_err(db)?;
            Ok(())
        })?;
        if builders.len() > 0 {
            sink(builders.finish(schema.clone(), &self.uri)?)?;
        }
        Ok(())
    }

    fn fetch_rows(&self) -> usize {
        match self.query_order {
            // Rows numbered by key are found again by numbering the whole relation: one
            // pass (and sort) per fetch, so fetch more at a time (the other side's rows
            // are held too, so not without bound).
            Some(_) => 4 * crate::source::FETCH_ROWS,
            None => crate::source::FETCH_ROWS,
        }
    }

    fn fetch(&self, projection: &[usize], locators: &[u64]) -> Result<RecordBatch> {
        let db = |e: tokio_postgres::Error| database_error(&self.uri, e);
        let client = self.anchor.lock().expect("anchor connection");
        let rows = if self.query_order.is_some() {
            // Rows of a query are numbered by key; the same numbering finds them again.
            let numbers: Vec<i64> = locators.iter().map(|l| *l as i64).collect();
            let sql = format!(
                "SELECT * FROM (SELECT {} FROM {}{}) AS recon_x WHERE recon_row = ANY($1::bigint[])",
                self.select_list(projection),
                self.table,
                self.where_clause(None)
            );
            self.runtime
                .block_on(async { client.query(sql.as_str(), &[&numbers]).await })
        } else {
            let tids: Vec<String> = locators
                .iter()
                .map(|l| format!("({},{})", l >> 16, l & 0xffff))
                .collect();
            let sql = format!(
                "SELECT {} FROM {} WHERE ctid = ANY($1::text[]::tid[])",
                self.select_list(projection),
                self.table
            );
            self.runtime
                .block_on(async { client.query(sql.as_str(), &[&tids]).await })
        }
        .map_err(db)?;
        drop(client);
        let mut by_locator: HashMap<u64, usize> = HashMap::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let raw: Raw = row.get(0);
            if let Some(l) = self.locator(raw.0) {
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
                    .map_err(|what| Error::Database {
                        uri: self.uri.clone(),
                        message: format!("column {:?}: {what}", schema.field(c).name()),
                    })?;
            }
            builders.locators.push(locator);
        }
        Ok(builders.finish(schema, &self.uri)?.columns)
    }
}

/// libpq's default authority file, `~/.postgresql/root.crt`, when it exists.
fn default_root_cert() -> Option<std::path::PathBuf> {
    home_file("root.crt")
}

/// `~/.postgresql/<name>`, when it exists.
fn home_file(name: &str) -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(&std::env::var_os("HOME")?)
        .join(".postgresql")
        .join(name);
    path.is_file().then_some(path)
}

/// How a connection uses TLS, with libpq's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    /// Never.
    Disable,
    /// When the server offers it, without checking its certificate.
    Prefer,
    /// Always, without checking the certificate.
    Require,
    /// Always, with a certificate signed by a trusted authority.
    VerifyCa,
    /// Always, with a trusted certificate for the host connected to.
    VerifyFull,
}

impl TlsMode {
    fn parse(text: &str) -> Option<TlsMode> {
        Some(match text {
            "disable" => TlsMode::Disable,
            "allow" | "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            _ => return None,
        })
    }
}

/// The rustls connector for a mode; trusted roots come from `sslrootcert` or, without
/// it, the Mozilla root set.
fn tls_connector(
    mode: TlsMode,
    root_cert: Option<&std::path::Path>,
    client: Option<&(std::path::PathBuf, std::path::PathBuf)>,
) -> std::result::Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    use rustls_pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
            for cert in certs {
                let cert =
                    cert.map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
                roots.add(cert).map_err(|e| {
                    format!(
                        "sslrootcert {} holds an unusable certificate: {e}",
                        path.display()
                    )
                })?;
            }
            if roots.is_empty() {
                return Err(format!(
                    "sslrootcert {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    path.display()
                ));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?;
    let builder = match mode {
        TlsMode::VerifyFull => builder.with_root_certificates(roots),
        TlsMode::VerifyCa => {
            let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| format!("TLS set-up failed: {e}"))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(IgnoreHostName(inner)))
        }
        TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider))),
    };
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = rustls_pki_types::CertificateDer::pem_file_iter(cert)
                .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read sslcert {}: {e}", cert.display()))?;
            if chain.is_empty() {
                return Err(format!(
                    "sslcert {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    cert.display()
                ));
            }
            // The parser's own message may quote the file's lines: it is not shown.
            let key_der = rustls_pki_types::PrivateKeyDer::from_pem_file(key).map_err(|_| {
                format!(
                    "cannot read sslkey {} as an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC); an encrypted key can be decrypted with openssl pkey -in key.enc -out key",
                    key.display()
                )
            })?;
            builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                format!(
                    "cannot use the client certificate sslcert {} with sslkey {}: {e}",
                    cert.display(),
                    key.display()
                )
            })?
        }
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// `sslmode=prefer/require`: encrypted, but the certificate is not checked (libpq's
/// meaning of these modes). Signatures are still verified.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls_pki_types::CertificateDer<'_>,
        _: &[rustls_pki_types::CertificateDer<'_>],
        _: &rustls_pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls_pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: a certificate chain to a trusted root, for any host name.
#[derive(Debug)]
struct IgnoreHostName(Arc<rustls::client::WebPkiServerVerifier>);

impl rustls::client::danger::ServerCertVerifier for IgnoreHostName {
    fn verify_server_cert(
        &self,
        end_entity: &rustls_pki_types::CertificateDer<'_>,
        intermediates: &[rustls_pki_types::CertificateDer<'_>],
        server_name: &rustls_pki_types::ServerName<'_>,
        ocsp: &[u8],
        now: rustls_pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Splits a binary COPY stream into tuples. Bytes arrive in arbitrary pieces; `feed`
/// takes what is complete and says how much it consumed, so the caller keeps only the
/// tail of a tuple that is still arriving.
struct CopyParser {
    /// The source's redacted location, for errors.
    uri: String,
    width: usize,
    header_done: bool,
    finished: bool,
    /// Byte ranges of the current tuple's fields, `None` for NULL.
    fields: Vec<Option<(usize, usize)>>,
}

/// The byte ranges of a tuple's fields, `None` for NULL.
type FieldRanges = [Option<(usize, usize)>];

/// Signature, flags and header-extension length of a binary COPY stream.
const COPY_HEADER: usize = 19;

impl CopyParser {
    fn new(uri: &str, width: usize) -> Self {
        CopyParser {
            uri: uri.to_string(),
            width,
            header_done: false,
            finished: false,
            fields: Vec::with_capacity(width),
        }
    }

    /// Hands every complete tuple in `data` to `on_tuple` (the tuple's bytes and its
    /// field ranges) and returns the bytes consumed.
    fn feed(
        &mut self,
        data: &[u8],
        on_tuple: &mut dyn FnMut(&[u8], &FieldRanges) -> Result<()>,
    ) -> Result<usize> {
        let mut at = 0;
        if !self.header_done {
            let Some(extension) = data.get(15..COPY_HEADER) else {
                return Ok(0);
            };
            let extension = u32::from_be_bytes(extension.try_into().expect("4 bytes")) as usize;
            if data.len() < COPY_HEADER + extension {
                return Ok(0);
            }
            at = COPY_HEADER + extension;
            self.header_done = true;
        }
        while !self.finished {
            let rest = &data[at..];
            let Some(count) = rest.get(0..2) else { break };
            let count = i16::from_be_bytes(count.try_into().expect("2 bytes"));
            if count == -1 {
                self.finished = true;
                at += 2;
                break;
            }
            if count as usize != self.width {
                return Err(Error::Database {
                    uri: self.uri.clone(),
                    message: format!(
                        "the server sent a row of {count} fields where {} were asked for",
                        self.width
                    ),
                });
            }
            self.fields.clear();
            let mut end = 2;
            for _ in 0..self.width {
                let Some(len) = rest.get(end..end + 4) else {
                    break;
                };
                let len = i32::from_be_bytes(len.try_into().expect("4 bytes"));
                end += 4;
                if len == -1 {
                    self.fields.push(None);
                } else if len < 0 {
                    return Err(Error::Database {
                        uri: self.uri.clone(),
                        message: format!("the server sent a field of length {len}"),
                    });
                } else {
                    self.fields.push(Some((end, end + len as usize)));
                    end += len as usize;
                }
            }
            if self.fields.len() < self.width || end > rest.len() {
                break;
            }
            on_tuple(&rest[..end], &self.fields)?;
            at += end;
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `numeric_send`'s layout: digit count, weight, sign, display scale, digits.
    fn numeric_wire(weight: i16, sign: u16, scale: u16, digits: &[u16]) -> Vec<u8> {
        let mut wire = Vec::new();
        for word in [digits.len() as u16, weight as u16, sign, scale]
            .into_iter()
            .chain(digits.iter().copied())
        {
            wire.extend_from_slice(&word.to_be_bytes());
        }
        wire
    }

    #[test]
    fn binary_numerics_read_as_postgresql_writes_them() {
        let cases: &[(i16, u16, u16, &[u16], &str)] = &[
            (0, 0, 0, &[], "0"),
            (0, 0, 2, &[], "0.00"),
            (0, 0, 2, &[123, 4500], "123.45"),
            (-1, 0x4000, 1, &[5000], "-0.5"),
            (1, 0, 0, &[1], "10000"),
            (1, 0, 3, &[1, 2], "10002.000"),
            (-1, 0, 5, &[1, 2000], "0.00012"),
            (-2, 0, 5, &[1000], "0.00001"),
            (1, 0, 1, &[1234, 5678, 9000], "12345678.9"),
            (2, 0x4000, 0, &[7, 0, 1], "-700000001"),
            (0, 0xC000, 0, &[], "NaN"),
            (0, 0xD000, 0, &[], "Infinity"),
            (0, 0xF000, 0, &[], "-Infinity"),
        ];
        for &(weight, sign, scale, digits, text) in cases {
            let mut out = Vec::new();
            numeric_text(&numeric_wire(weight, sign, scale, digits), &mut out)
                .unwrap_or_else(|| panic!("{text} refused"));
            assert_eq!(String::from_utf8(out).unwrap(), text);
        }
        // A digit out of range, a wrong length, an unknown sign: refused, never misread.
        for wire in [
            numeric_wire(0, 0, 0, &[10_000]),
            numeric_wire(0, 0, 0, &[1])[..9].to_vec(),
            numeric_wire(0, 0x1234, 0, &[1]),
            vec![0, 1],
        ] {
            assert_eq!(numeric_text(&wire, &mut Vec::new()), None, "{wire:?}");
        }
    }

    /// A binary COPY stream: header, then rows of (ctid-like locator, value or NULL).
    fn copy_stream(rows: &[Option<&str>]) -> Vec<u8> {
        let mut stream = b"PGCOPY\n\xff\r\n\0".to_vec();
        stream.extend_from_slice(&0u32.to_be_bytes());
        stream.extend_from_slice(&4u32.to_be_bytes());
        stream.extend_from_slice(b"ext!");
        for (i, row) in rows.iter().enumerate() {
            stream.extend_from_slice(&2i16.to_be_bytes());
            stream.extend_from_slice(&6i32.to_be_bytes());
            stream.extend_from_slice(&[0, 0, 0, i as u8, 0, 1]);
            match row {
                None => stream.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    stream.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    stream.extend_from_slice(v.as_bytes());
                }
            }
        }
        stream.extend_from_slice(&(-1i16).to_be_bytes());
        stream
    }

    #[test]
    fn copy_streams_parse_the_same_however_they_are_cut() {
        let rows = [
            Some("a"),
            None,
            Some(""),
            Some("a longer value, with ünïcode"),
        ];
        let stream = copy_stream(&rows);
        let expected: Vec<(u64, Option<String>)> = rows
            .iter()
            .enumerate()
            .map(|(i, v)| (((i as u64) << 16) | 1, v.map(str::to_string)))
            .collect();
        for cut in 0..stream.len() {
            for piece in [1, 3, 7, stream.len()] {
                let mut parser = CopyParser::new("pg", 2);
                let mut got = Vec::new();
                let mut pending: Vec<u8> = Vec::new();
                let mut on_tuple = |tuple: &[u8], fields: &[Option<(usize, usize)>]| {
                    let (a, b) = fields[0].unwrap();
                    let value =
                        fields[1].map(|(a, b)| String::from_utf8(tuple[a..b].to_vec()).unwrap());
                    got.push((ctid_locator(&tuple[a..b]).unwrap(), value));
                    Ok(())
                };
                // The first piece ends at `cut`, the rest come `piece` bytes at a time.
                let pieces = std::iter::once(&stream[..cut]).chain(stream[cut..].chunks(piece));
                for chunk in pieces {
                    pending.extend_from_slice(chunk);
                    let consumed = parser.feed(&pending, &mut on_tuple).unwrap();
                    pending.drain(..consumed);
                }
                assert!(parser.finished, "cut at {cut}, pieces of {piece}");
                assert!(pending.is_empty());
                assert_eq!(got, expected, "cut at {cut}, pieces of {piece}");
            }
        }
    }

    #[test]
    fn a_negative_length_other_than_null_is_an_error() {
        let mut stream = copy_stream(&[None]);
        let null = stream.len() - 6;
        stream[null..null + 4].copy_from_slice(&(-2i32).to_be_bytes());
        let error = CopyParser::new("pg", 2)
            .feed(&stream, &mut |_, _| Ok(()))
            .unwrap_err();
        assert!(
            error.to_string().contains("a field of length -2"),
            "{error}"
        );
    }

    #[test]
    fn a_row_of_the_wrong_width_is_an_error() {
        let stream = copy_stream(&[Some("a")]);
        let mut parser = CopyParser::new("pg", 3);
        let error = parser.feed(&stream, &mut |_, _| Ok(())).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("a row of 2 fields where 3 were asked for"),
            "{error}"
        );
    }

    #[test]
    fn a_query_without_a_key_is_refused_before_connecting() {
        let error = match PostgresSource::open(
            "postgres://u@127.0.0.1:1/db?query=SELECT%201",
            &SourceOptions::default(),
        ) {
            Ok(_) => panic!("a query source needs the key"),
            Err(error) => error.to_string(),
        };
        assert!(error.contains("a query source needs the key"), "{error}");
    }

    #[test]
    fn tls_modes_parse_as_in_libpq_and_unknown_ones_are_refused() {
        assert_eq!(TlsMode::parse("verify-full"), Some(TlsMode::VerifyFull));
        assert_eq!(TlsMode::parse("allow"), Some(TlsMode::Prefer));
        assert_eq!(TlsMode::parse("Require"), None);
        let error = match PostgresSource::open(
            "postgres://u:pw@127.0.0.1:1/db?table=t&sslmode=strict",
            &SourceOptions::default(),
        ) {
            Ok(_) => panic!("an unknown sslmode is refused before connecting"),
            Err(error) => error.to_string(),
        };
        assert!(
            error.contains("sslmode \"strict\" must be disable, prefer"),
            "{error}"
        );
        assert!(!error.contains("pw"), "{error}");
    }

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/crm?table=t"),
            "postgres://app:***@db:5432/crm?table=t"
        );
        assert_eq!(
            redact("postgresql://db/crm?password=s3cret&table=t"),
            "postgresql://db/crm?password=***&table=t"
        );
        assert_eq!(redact("postgres://app@db/crm"), "postgres://app@db/crm");
        assert_eq!(
            redact("postgres://db/crm?sslpassword=k3y&table=t"),
            "postgres://db/crm?sslpassword=***&table=t"
        );
        assert_eq!(
            redact("postgres://u:Sup3r/Secret+k=@h:5432/db?table=t"),
            "postgres://u:***@h:5432/db?table=t"
        );
        assert_eq!(redact("postgres://u:a?b@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact("postgres://h/db?pass%77ord=x"),
            "postgres://h/db?pass%77ord=***"
        );
        assert!(is_postgres("Postgres://h/db"));
    }

    #[test]
    fn table_names_are_quoted_safely() {
        assert_eq!(
            quote_table("public.customers").unwrap(),
            "\"public\".\"customers\""
        );
        assert_eq!(
            quote_table("\"My Schema\".\"Big \"\"T\"\"\"").unwrap(),
            "\"My Schema\".\"Big \"\"T\"\"\""
        );
        assert_eq!(
            quote_table("x\"; DROP TABLE y; --").unwrap(),
            "\"x\"\"; DROP TABLE y; --\""
        );
        assert!(quote_table("\"open").is_err());
        assert!(quote_table("").is_err());
    }

    #[test]
    fn filters_cannot_escape_their_brackets() {
        assert!(check_filter("created_at >= '2026-11-01' AND (a = 1 OR b = ')')").is_ok());
        assert!(check_filter("\"Odd ) name\" = 1").is_ok());
        assert!(check_filter("id < 0) OR (id > 0").is_err());
        assert!(check_filter("1 = 1; DROP TABLE t").is_err());
        assert!(check_filter("a = 1 -- )").is_err());
        assert!(check_filter("a = 'open").is_err());
        assert!(check_filter("(a = 1").is_err());
    }

    #[test]
    fn pgpass_lines_split_with_escapes() {
        assert_eq!(
            split_pgpass("h:5432:db:u:p\\:w"),
            vec!["h", "5432", "db", "u", "p:w"]
        );
    }
}
