//! PostgreSQL values as they travel and as Arrow holds them: the wire form of each column
//! type (binary for the native types, `numeric` decoded to its exact text, the rest cast
//! to text in the SELECT), and builders that fill Arrow arrays from a row's field bytes.
//! It does not read the stream: `copy.rs` cuts it, and `read.rs` drives both.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Float32Builder, Float64Builder, Int16Builder,
    Int32Builder, Int64Builder, PrimitiveBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, ArrowPrimitiveType, RecordBatch, RecordBatchOptions, StringArray};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use tokio_postgres::types::{FromSql, Type};

use super::numeric::numeric_text;
use crate::error::{Error, Result};
use crate::source::Batch;
use crate::source::sql::fault;

/// Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_SECONDS: i64 = 946_684_800;
/// Days from 1970-01-01 to 2000-01-01.
const PG_EPOCH_DAYS: i32 = 10_957;

/// How a column travels from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wire {
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
    /// How a column of type `ty` travels.
    pub(super) fn of(ty: &Type) -> Wire {
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

    /// The Arrow type a column of this wire form is read into.
    pub(super) fn data_type(self) -> DataType {
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

/// A column of the relation read.
#[derive(Debug, Clone)]
pub(super) struct Column {
    /// Its name, as the relation spells it.
    pub(super) name: String,
    /// How it travels.
    pub(super) wire: Wire,
    /// Whether it is a `numeric`: exact numbers held as text.
    pub(super) numeric: bool,
}

/// The raw bytes of a value, whatever its type.
pub(super) struct Raw<'a>(pub(super) &'a [u8]);

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

/// Arrow builders for the projected columns, filled from wire bytes.
pub(super) struct Builders {
    wires: Vec<Wire>,
    /// Rows per batch: every builder starts with room for them.
    capacity: usize,
    columns: Vec<ColumnBuilder>,
    /// One locator per row so far.
    pub(super) locators: Vec<u64>,
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
    /// Builders of `wires` columns for batches of `capacity` rows.
    pub(super) fn new(wires: &[Wire], capacity: usize) -> Self {
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

    /// Rows so far.
    pub(super) fn len(&self) -> usize {
        self.locators.len()
    }

    /// Appends a value (`None` for NULL) to `column`; a malformed one is described.
    pub(super) fn append(
        &mut self,
        column: usize,
        value: Option<&[u8]>,
    ) -> std::result::Result<(), String> {
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
    pub(super) fn finish(&mut self, schema: SchemaRef, uri: &str) -> Result<Batch> {
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
                    StringArray::try_from_binary(b.finish())
                        .map_err(|_| fault::not_utf8(uri, schema.field(c).name()))?,
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
