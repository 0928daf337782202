//! The canonical value encoding: typed, length-prefixed, with an explicit NULL tag. Two
//! values are equal exactly when their encodings are equal bytes; the digest stage hashes
//! the key columns' encodings, and the drill-down compares each column's. No sentinel
//! strings and no separators, so `("ab","c")` never equals `("a","bc")`. It also writes
//! each compared column's fixed-width digest slots, column at a time: a function of the
//! canonical value (text of up to 12 bytes enters as itself, longer text, bytes and wide
//! decimals as their xxh3-64 and length), which the digest stage hashes per row. The [`ValueEncoder`] reads one column
//! of a batch, directly or through a mapped pair's steps; it chooses no comparison type
//! (the plan does) and hashes no row or key.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, PrimitiveArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, TimeUnit};

use xxhash_rust::xxh3::xxh3_64;

use std::borrow::Cow;
use std::sync::Arc;

use super::number::{
    decimal_to_f64, exact_as_float, format_decimal, normalize_number, wide_as_float,
};
use super::steps::{self, Input, Mapped, Step};
use super::text::{self, Number, WideNumber};
use super::value::{CompareAs, Value, hex};

// Where the drill-down and reports have always found them.
pub use super::value::{display_value, format_date, format_timestamp};

const TAG_NULL: u8 = 0;
const TAG_TEXT: u8 = 1;
const TAG_NUMBER: u8 = 2;
const TAG_FLOAT: u8 = 3;
const TAG_BOOL: u8 = 4;
const TAG_DATE: u8 = 5;
const TAG_TIMESTAMP: u8 = 6;
const TAG_BYTES: u8 = 7;
const TAG_UNPARSEABLE: u8 = 0xFF;
/// Unparseable values of the target: a tag of their own, so the same unreadable text on
/// both sides never compares equal (a value that cannot be read is always a mismatch).
const TAG_UNPARSEABLE_TARGET: u8 = 0xFE;

/// What encoding one value produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoded {
    /// The value is NULL.
    Null,
    /// A typed value.
    Value,
    /// Text that could not be read as the comparison type; encoded as raw text under its
    /// own tag, so it never equals a typed value.
    Unparseable,
}

/// One column of one batch, ready to encode row by row.
///
/// The match on the column's physical type happens per value; it is a predictable
/// branch, not dynamic dispatch, and no value allocates.
pub struct ValueEncoder {
    values: Values,
    nulls: Option<NullBuffer>,
    compare_as: CompareAs,
    /// The pair's mapping and this side's index, for mapped columns.
    mapping: Option<(Arc<Mapped>, usize)>,
    /// 0 for the source, 1 for the target.
    side: usize,
    /// Text that holds exact numbers (PostgreSQL numeric): read as decimals, never
    /// through a float.
    exact_text: bool,
}

enum Values {
    Utf8(arrow_array::StringArray),
    LargeUtf8(arrow_array::LargeStringArray),
    Utf8View(arrow_array::StringViewArray),
    Binary(arrow_array::BinaryArray),
    LargeBinary(arrow_array::LargeBinaryArray),
    FixedBinary(arrow_array::FixedSizeBinaryArray),
    I8(PrimitiveArray<Int8Type>),
    I16(PrimitiveArray<Int16Type>),
    I32(PrimitiveArray<Int32Type>),
    I64(PrimitiveArray<Int64Type>),
    U8(PrimitiveArray<UInt8Type>),
    U16(PrimitiveArray<UInt16Type>),
    U32(PrimitiveArray<UInt32Type>),
    U64(PrimitiveArray<UInt64Type>),
    Decimal(PrimitiveArray<Decimal128Type>, i8),
    F32(PrimitiveArray<Float32Type>),
    F64(PrimitiveArray<Float64Type>),
    Bool(arrow_array::BooleanArray),
    Date32(PrimitiveArray<Date32Type>),
    Date64(PrimitiveArray<Date64Type>),
    /// Any timestamp unit, as raw i64 counts of `unit` since the epoch.
    Timestamp(PrimitiveArray<Int64Type>, TimeUnit, bool),
}

/// Whether recon can compare columns of this Arrow type.
pub fn supported(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::FixedSizeBinary(_)
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Decimal128(_, _)
            | DataType::Float32
            | DataType::Float64
            | DataType::Boolean
            | DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(_, _)
    )
}

impl ValueEncoder {
    /// Prepares `array` for encoding as `compare_as`. The type must be [`supported`].
    pub fn new(array: &ArrayRef, compare_as: CompareAs) -> Self {
        let values = match array.data_type() {
            DataType::Utf8 => Values::Utf8(array.as_string::<i32>().clone()),
            DataType::LargeUtf8 => Values::LargeUtf8(array.as_string::<i64>().clone()),
            DataType::Utf8View => Values::Utf8View(array.as_string_view().clone()),
            DataType::Binary => Values::Binary(array.as_binary::<i32>().clone()),
            DataType::LargeBinary => Values::LargeBinary(array.as_binary::<i64>().clone()),
            DataType::FixedSizeBinary(_) => {
                Values::FixedBinary(array.as_fixed_size_binary().clone())
            }
            DataType::Int8 => Values::I8(array.as_primitive().clone()),
            DataType::Int16 => Values::I16(array.as_primitive().clone()),
            DataType::Int32 => Values::I32(array.as_primitive().clone()),
            DataType::Int64 => Values::I64(array.as_primitive().clone()),
            DataType::UInt8 => Values::U8(array.as_primitive().clone()),
            DataType::UInt16 => Values::U16(array.as_primitive().clone()),
            DataType::UInt32 => Values::U32(array.as_primitive().clone()),
            DataType::UInt64 => Values::U64(array.as_primitive().clone()),
            DataType::Decimal128(_, scale) => Values::Decimal(array.as_primitive().clone(), *scale),
            DataType::Float32 => Values::F32(array.as_primitive().clone()),
            DataType::Float64 => Values::F64(array.as_primitive().clone()),
            DataType::Boolean => Values::Bool(array.as_boolean().clone()),
            DataType::Date32 => Values::Date32(array.as_primitive().clone()),
            DataType::Date64 => Values::Date64(array.as_primitive().clone()),
            DataType::Timestamp(unit, tz) => {
                let raw = match unit {
                    TimeUnit::Second => array.as_primitive::<TimestampSecondType>().values(),
                    TimeUnit::Millisecond => {
                        array.as_primitive::<TimestampMillisecondType>().values()
                    }
                    TimeUnit::Microsecond => {
                        array.as_primitive::<TimestampMicrosecondType>().values()
                    }
                    TimeUnit::Nanosecond => {
                        array.as_primitive::<TimestampNanosecondType>().values()
                    }
                };
                Values::Timestamp(
                    PrimitiveArray::new(raw.clone(), array.nulls().cloned()),
                    *unit,
                    tz.is_some(),
                )
            }
            other => unreachable!("unsupported type {other} passed the plan"),
        };
        ValueEncoder {
            values,
            nulls: array.logical_nulls(),
            compare_as,
            mapping: None,
            side: 0,
            exact_text: false,
        }
    }

    /// Marks a text column as holding exact numbers (PostgreSQL numeric): compared with
    /// floats, they follow the exact-number rule (`number::exact_as_float`).
    pub fn with_exact_text(mut self, exact: bool) -> Self {
        self.exact_text = exact
            && matches!(
                self.values,
                Values::Utf8(_) | Values::LargeUtf8(_) | Values::Utf8View(_)
            );
        self
    }

    /// Exact numbers held as text, compared with floats: read through [`Value`]s so the
    /// exact-number rule applies.
    fn exact_float(&self) -> bool {
        self.exact_text && self.compare_as == CompareAs::Float64
    }

    /// Runs values of side `side` (0 source, 1 target) through a mapped pair's steps.
    pub fn with_mapping(mut self, mapped: Option<&Arc<Mapped>>, side: usize) -> Self {
        self.mapping = mapped.map(|m| (m.clone(), side));
        self.side = side;
        self
    }

    /// The value of row `row` as stored, before any normalizer.
    pub fn raw_value(&self, row: usize) -> Value<'_> {
        if self.is_null(row) {
            return Value::Null;
        }
        // Compared with floats, exact numbers held as text are read as decimals here
        // (other comparison types read the text as before).
        if self.exact_float() {
            let text = match &self.values {
                Values::Utf8(a) => a.value(row),
                Values::LargeUtf8(a) => a.value(row),
                Values::Utf8View(a) => a.value(row),
                _ => unreachable!("exact_text is set for text only"),
            };
            return match text::parse_number(text.as_bytes()) {
                Some(Number::Decimal(m, s)) => Value::Number(m, s),
                Some(Number::Wide(w)) => Value::Wide(w),
                None => Value::Text(Cow::Borrowed(text)),
            };
        }
        fn text(t: &str) -> Value<'_> {
            Value::Text(Cow::Borrowed(t))
        }
        match &self.values {
            Values::Utf8(a) => text(a.value(row)),
            Values::LargeUtf8(a) => text(a.value(row)),
            Values::Utf8View(a) => text(a.value(row)),
            Values::Binary(a) => Value::Bytes(a.value(row)),
            Values::LargeBinary(a) => Value::Bytes(a.value(row)),
            Values::FixedBinary(a) => Value::Bytes(a.value(row)),
            Values::I8(a) => Value::Number(i128::from(a.value(row)), 0),
            Values::I16(a) => Value::Number(i128::from(a.value(row)), 0),
            Values::I32(a) => Value::Number(i128::from(a.value(row)), 0),
            Values::I64(a) => Value::Number(i128::from(a.value(row)), 0),
            Values::U8(a) => Value::Number(i128::from(a.value(row)), 0),
            Values::U16(a) => Value::Number(i128::from(a.value(row)), 0),
            Values::U32(a) => Value::Number(i128::from(a.value(row)), 0),
            Values::U64(a) => Value::Number(i128::from(a.value(row)), 0),
            Values::Decimal(a, scale) => Value::Number(a.value(row), *scale),
            Values::F32(a) => Value::Float(f64::from(a.value(row))),
            Values::F64(a) => Value::Float(a.value(row)),
            Values::Bool(a) => Value::Bool(a.value(row)),
            Values::Date32(a) => Value::Date(a.value(row)),
            Values::Date64(a) => Value::Date(a.value(row).div_euclid(86_400_000) as i32),
            Values::Timestamp(a, unit, zoned) => {
                let (seconds, nanos) = split_timestamp(a.value(row), *unit);
                Value::Timestamp {
                    seconds,
                    nanos,
                    zoned: *zoned,
                }
            }
        }
    }

    /// The value of row `row` after the mapping's normalizers and the cast to the
    /// comparison type: what a mapped column compares.
    pub fn value(&self, row: usize) -> Value<'_> {
        let mut value = self.raw_value(row);
        let Some((mapped, side)) = &self.mapping else {
            return steps::cast(value, self.compare_as);
        };
        for step in &mapped.steps[*side] {
            if matches!(value, Value::Text(_)) {
                match step.input() {
                    Input::Text => {}
                    Input::Number => value = steps::cast(value, self.number_type()),
                    Input::Timestamp => value = steps::cast(value, CompareAs::Timestamp),
                }
            }
            value = step.apply(value);
        }
        value = steps::cast(value, self.compare_as);
        for step in &mapped.post {
            value = step.apply(value);
        }
        value
    }

    fn number_type(&self) -> CompareAs {
        match self.compare_as {
            CompareAs::Float64 | CompareAs::Float32 => self.compare_as,
            _ => CompareAs::Number,
        }
    }

    fn has_numbers(&self) -> bool {
        matches!(
            self.values,
            Values::Utf8(_)
                | Values::LargeUtf8(_)
                | Values::Utf8View(_)
                | Values::I8(_)
                | Values::I16(_)
                | Values::I32(_)
                | Values::I64(_)
                | Values::U8(_)
                | Values::U16(_)
                | Values::U32(_)
                | Values::U64(_)
                | Values::Decimal(..)
        )
    }

    fn has_times(&self) -> bool {
        matches!(
            self.values,
            Values::Utf8(_) | Values::LargeUtf8(_) | Values::Utf8View(_) | Values::Timestamp(..)
        )
    }

    /// The decimal at a non-NULL row of a numeric or text column; `None` for text that
    /// is not a decimal of at most 38 digits.
    #[inline]
    fn number_at(&self, row: usize) -> Option<(i128, i8)> {
        match &self.values {
            Values::Utf8(a) => text::parse_decimal(a.value(row).as_bytes()),
            Values::LargeUtf8(a) => text::parse_decimal(a.value(row).as_bytes()),
            Values::Utf8View(a) => text::parse_decimal(a.value(row).as_bytes()),
            Values::I8(a) => Some((i128::from(a.value(row)), 0)),
            Values::I16(a) => Some((i128::from(a.value(row)), 0)),
            Values::I32(a) => Some((i128::from(a.value(row)), 0)),
            Values::I64(a) => Some((i128::from(a.value(row)), 0)),
            Values::U8(a) => Some((i128::from(a.value(row)), 0)),
            Values::U16(a) => Some((i128::from(a.value(row)), 0)),
            Values::U32(a) => Some((i128::from(a.value(row)), 0)),
            Values::U64(a) => Some((i128::from(a.value(row)), 0)),
            Values::Decimal(a, scale) => Some((a.value(row), *scale)),
            _ => unreachable!("has_numbers was checked"),
        }
    }

    /// The instant at a non-NULL row of a timestamp or text column; `Err` holds text
    /// that does not read as a timestamp.
    #[inline]
    fn time_at(&self, row: usize) -> Result<(i64, u32), &[u8]> {
        let text = |t: &[u8]| text::parse_timestamp(t);
        match &self.values {
            Values::Utf8(a) => text(a.value(row).as_bytes()).ok_or(a.value(row).as_bytes()),
            Values::LargeUtf8(a) => text(a.value(row).as_bytes()).ok_or(a.value(row).as_bytes()),
            Values::Utf8View(a) => text(a.value(row).as_bytes()).ok_or(a.value(row).as_bytes()),
            Values::Timestamp(a, unit, _) => Ok(split_timestamp(a.value(row), *unit)),
            _ => unreachable!("has_times was checked"),
        }
    }

    /// The mapped pair's tolerance, if any.
    pub fn tolerance(&self) -> Option<&steps::Tolerance> {
        self.mapping
            .as_ref()
            .and_then(|(m, _)| m.tolerance.as_ref())
    }

    /// Whether this column goes through a mapping.
    pub fn is_mapped(&self) -> bool {
        self.mapping.is_some()
    }

    /// Whether row `row` is NULL.
    #[inline]
    pub fn is_null(&self, row: usize) -> bool {
        self.nulls.as_ref().is_some_and(|n| n.is_null(row))
    }

    /// Appends the canonical encoding of row `row` to `out`.
    #[inline]
    pub fn encode(&self, row: usize, out: &mut Vec<u8>) -> Encoded {
        let start = out.len();
        let encoded = self.encode_any_side(row, out);
        if encoded == Encoded::Unparseable && self.side == 1 {
            out[start] = TAG_UNPARSEABLE_TARGET;
        }
        encoded
    }

    #[inline]
    fn encode_any_side(&self, row: usize, out: &mut Vec<u8>) -> Encoded {
        if self.mapping.is_some() || self.exact_float() {
            return encode_value(&self.value(row), self.compare_as, out);
        }
        if self.is_null(row) {
            out.push(TAG_NULL);
            return Encoded::Null;
        }
        match &self.values {
            Values::Utf8(a) => encode_text(a.value(row).as_bytes(), self.compare_as, out),
            Values::LargeUtf8(a) => encode_text(a.value(row).as_bytes(), self.compare_as, out),
            Values::Utf8View(a) => encode_text(a.value(row).as_bytes(), self.compare_as, out),
            Values::Binary(a) => put_bytes(TAG_BYTES, a.value(row), out),
            Values::LargeBinary(a) => put_bytes(TAG_BYTES, a.value(row), out),
            Values::FixedBinary(a) => put_bytes(TAG_BYTES, a.value(row), out),
            Values::I8(a) => self.encode_integer(i128::from(a.value(row)), out),
            Values::I16(a) => self.encode_integer(i128::from(a.value(row)), out),
            Values::I32(a) => self.encode_integer(i128::from(a.value(row)), out),
            Values::I64(a) => self.encode_integer(i128::from(a.value(row)), out),
            Values::U8(a) => self.encode_integer(i128::from(a.value(row)), out),
            Values::U16(a) => self.encode_integer(i128::from(a.value(row)), out),
            Values::U32(a) => self.encode_integer(i128::from(a.value(row)), out),
            Values::U64(a) => self.encode_integer(i128::from(a.value(row)), out),
            Values::Decimal(a, scale) => {
                let mantissa = a.value(row);
                if self.compare_as == CompareAs::Float64 {
                    put_exact_float(mantissa, *scale, out)
                } else {
                    put_number(mantissa, *scale, out)
                }
            }
            Values::F32(a) => put_float(f64::from(a.value(row)), out),
            Values::F64(a) => put_float(a.value(row), out),
            Values::Bool(a) => {
                out.extend_from_slice(&[TAG_BOOL, u8::from(a.value(row))]);
                Encoded::Value
            }
            Values::Date32(a) => put_date(a.value(row), out),
            Values::Date64(a) => put_date(a.value(row).div_euclid(86_400_000) as i32, out),
            Values::Timestamp(a, unit, _) => {
                let (seconds, nanos) = split_timestamp(a.value(row), *unit);
                put_timestamp(seconds, nanos, out)
            }
        }
    }

    #[inline]
    fn encode_integer(&self, value: i128, out: &mut Vec<u8>) -> Encoded {
        if self.compare_as == CompareAs::Float64 {
            put_exact_float(value, 0, out)
        } else {
            put_number(value, 0, out)
        }
    }

    /// Writes this column's digest slot for every row of the batch: `SLOT` bytes at
    /// `offset` within each `stride`-byte row of `rows`. A slot is a fixed-width function
    /// of the canonical value (text and bytes enter as their xxh3 and length), so equal
    /// values give equal slots; NULL leaves the slot zero, and every value's tag is not.
    /// Column at a time, so each loop is specialised to one type.
    pub fn fill_slots(&self, rows: &mut [u8], stride: usize, offset: usize) {
        self.fill_slots_any_side(rows, stride, offset);
        if self.side == 1 {
            for row in rows.chunks_exact_mut(stride) {
                if row[offset] == TAG_UNPARSEABLE {
                    row[offset] = TAG_UNPARSEABLE_TARGET;
                }
            }
        }
    }

    fn fill_slots_any_side(&self, rows: &mut [u8], stride: usize, offset: usize) {
        let slots = rows
            .chunks_exact_mut(stride)
            .map(|row| &mut row[offset..offset + SLOT]);
        if self.mapping.is_none() && self.exact_float() {
            for (row, slot) in slots.enumerate() {
                if !self.is_null(row) {
                    value_slot(&self.value(row), self.compare_as, None, slot);
                }
            }
            return;
        }
        if let Some((mapped, side)) = &self.mapping {
            let steps = &mapped.steps[*side];
            let text_only = self.compare_as == CompareAs::Text
                && mapped.post.is_empty()
                && steps.iter().all(Step::text_to_text);
            let numbers_only = self.compare_as == CompareAs::Number
                && steps.iter().chain(&mapped.post).all(Step::is_number_step);
            let times_only = self.compare_as == CompareAs::Timestamp
                && mapped.post.is_empty()
                && steps
                    .iter()
                    .all(|s| matches!(s, Step::Truncate(_) | Step::RoundTime(_)));
            match (&self.values, text_only) {
                // Text in, text out: no Value per row, no casts.
                (Values::Utf8View(a), true) => self.fill(slots, |r, s| {
                    text_steps_slot(a.value(r), steps, s);
                }),
                (Values::Utf8(a), true) => self.fill(slots, |r, s| {
                    text_steps_slot(a.value(r), steps, s);
                }),
                // Numbers or timestamps through their own steps only: no Value per row.
                _ if numbers_only && self.has_numbers() => {
                    let tolerance = self.tolerance();
                    let post = &mapped.post;
                    self.fill(slots, |r, s| match self.number_at(r) {
                        Some((m, sc)) => number_steps_slot(m, sc, steps, post, tolerance, s),
                        // NaN, infinities, wide decimals, or not a number at all.
                        None => value_slot(&self.value(r), self.compare_as, tolerance, s),
                    })
                }
                _ if times_only && self.has_times() => {
                    self.fill(slots, |r, s| match self.time_at(r) {
                        Ok((mut seconds, mut nanos)) => {
                            for step in steps {
                                (seconds, nanos) = step.apply_time(seconds, nanos);
                            }
                            timestamp_slot(seconds, nanos, s)
                        }
                        Err(text) => hashed_slot(TAG_UNPARSEABLE, text, s),
                    })
                }
                _ => {
                    let tolerance = self.tolerance();
                    for (row, slot) in slots.enumerate() {
                        value_slot(&self.value(row), self.compare_as, tolerance, slot);
                    }
                }
            }
            return;
        }
        let as_float = self.compare_as == CompareAs::Float64;
        match &self.values {
            Values::Utf8(a) => self.fill(slots, |r, s| {
                text_slot(a.value(r).as_bytes(), self.compare_as, s)
            }),
            Values::LargeUtf8(a) => self.fill(slots, |r, s| {
                text_slot(a.value(r).as_bytes(), self.compare_as, s)
            }),
            Values::Utf8View(a) => self.fill(slots, |r, s| {
                text_slot(a.value(r).as_bytes(), self.compare_as, s)
            }),
            Values::Binary(a) => self.fill(slots, |r, s| hashed_slot(TAG_BYTES, a.value(r), s)),
            Values::LargeBinary(a) => {
                self.fill(slots, |r, s| hashed_slot(TAG_BYTES, a.value(r), s))
            }
            Values::FixedBinary(a) => {
                self.fill(slots, |r, s| hashed_slot(TAG_BYTES, a.value(r), s))
            }
            Values::I8(a) => self.fill(slots, |r, s| {
                integer_slot(i128::from(a.value(r)), as_float, s)
            }),
            Values::I16(a) => self.fill(slots, |r, s| {
                integer_slot(i128::from(a.value(r)), as_float, s)
            }),
            Values::I32(a) => self.fill(slots, |r, s| {
                integer_slot(i128::from(a.value(r)), as_float, s)
            }),
            Values::I64(a) => self.fill(slots, |r, s| {
                integer_slot(i128::from(a.value(r)), as_float, s)
            }),
            Values::U8(a) => self.fill(slots, |r, s| {
                integer_slot(i128::from(a.value(r)), as_float, s)
            }),
            Values::U16(a) => self.fill(slots, |r, s| {
                integer_slot(i128::from(a.value(r)), as_float, s)
            }),
            Values::U32(a) => self.fill(slots, |r, s| {
                integer_slot(i128::from(a.value(r)), as_float, s)
            }),
            Values::U64(a) => self.fill(slots, |r, s| {
                integer_slot(i128::from(a.value(r)), as_float, s)
            }),
            Values::Decimal(a, scale) if as_float => {
                self.fill(slots, |r, s| exact_float_slot(a.value(r), *scale, s))
            }
            Values::Decimal(a, scale) => {
                self.fill(slots, |r, s| number_slot(a.value(r), *scale, s))
            }
            Values::F32(a) => self.fill(slots, |r, s| float_slot(f64::from(a.value(r)), s)),
            Values::F64(a) => self.fill(slots, |r, s| float_slot(a.value(r), s)),
            Values::Bool(a) => self.fill(slots, |r, s| {
                s[0] = TAG_BOOL;
                s[1] = u8::from(a.value(r));
            }),
            Values::Date32(a) => self.fill(slots, |r, s| date_slot(a.value(r), s)),
            Values::Date64(a) => self.fill(slots, |r, s| {
                date_slot(a.value(r).div_euclid(86_400_000) as i32, s)
            }),
            Values::Timestamp(a, unit, _) => self.fill(slots, |r, s| {
                let (seconds, nanos) = split_timestamp(a.value(r), *unit);
                timestamp_slot(seconds, nanos, s)
            }),
        }
    }

    #[inline(always)]
    fn fill<'s>(
        &self,
        slots: impl Iterator<Item = &'s mut [u8]>,
        mut write: impl FnMut(usize, &mut [u8]),
    ) {
        match &self.nulls {
            None => slots.enumerate().for_each(|(r, s)| write(r, s)),
            Some(nulls) => slots.enumerate().for_each(|(r, s)| {
                if nulls.is_valid(r) {
                    write(r, s)
                }
            }),
        }
    }

    /// The value of row `row` as a person reads it, `None` for NULL.
    pub fn display(&self, row: usize) -> Option<String> {
        if self.is_null(row) {
            return None;
        }
        Some(match &self.values {
            Values::Utf8(a) => a.value(row).to_string(),
            Values::LargeUtf8(a) => a.value(row).to_string(),
            Values::Utf8View(a) => a.value(row).to_string(),
            Values::Binary(a) => hex(a.value(row)),
            Values::LargeBinary(a) => hex(a.value(row)),
            Values::FixedBinary(a) => hex(a.value(row)),
            Values::I8(a) => a.value(row).to_string(),
            Values::I16(a) => a.value(row).to_string(),
            Values::I32(a) => a.value(row).to_string(),
            Values::I64(a) => a.value(row).to_string(),
            Values::U8(a) => a.value(row).to_string(),
            Values::U16(a) => a.value(row).to_string(),
            Values::U32(a) => a.value(row).to_string(),
            Values::U64(a) => a.value(row).to_string(),
            Values::Decimal(a, scale) => format_decimal(a.value(row), *scale),
            // Compared widened to f64, shown so: 0.1f32 is 0.10000000149011612, which is
            // why it differs from a float64 0.1.
            Values::F32(a) if self.compare_as == CompareAs::Float64 => {
                f64::from(a.value(row)).to_string()
            }
            Values::F32(a) => a.value(row).to_string(),
            Values::F64(a) => a.value(row).to_string(),
            Values::Bool(a) => a.value(row).to_string(),
            Values::Date32(a) => format_date(i64::from(a.value(row))),
            Values::Date64(a) => format_date(a.value(row).div_euclid(86_400_000)),
            Values::Timestamp(a, unit, zoned) => {
                let (seconds, nanos) = split_timestamp(a.value(row), *unit);
                format_timestamp(seconds, nanos, *zoned)
            }
        })
    }
}

#[inline]
fn encode_text(text: &[u8], compare_as: CompareAs, out: &mut Vec<u8>) -> Encoded {
    let parsed = match compare_as {
        CompareAs::Text => return put_bytes(TAG_TEXT, text, out),
        CompareAs::Binary => return put_bytes(TAG_BYTES, text, out),
        // NaN and ±Infinity are numbers in PostgreSQL's numeric: each equals itself only.
        CompareAs::Number => text::parse_number(text).map(|number| match number {
            Number::Decimal(m, s) => put_number(m, s, out),
            Number::Wide(wide) => put_wide(&wide, out),
        }),
        CompareAs::Float64 => std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .map(|v| put_float(v, out)),
        CompareAs::Float32 => std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<f32>().ok())
            .map(|v| put_float(f64::from(v), out)),
        CompareAs::Bool => text::parse_bool(text).map(|v| {
            out.extend_from_slice(&[TAG_BOOL, u8::from(v)]);
            Encoded::Value
        }),
        CompareAs::Date => text::parse_date(text).map(|d| put_date(d, out)),
        CompareAs::Timestamp => text::parse_timestamp(text).map(|(s, n)| put_timestamp(s, n, out)),
    };
    match parsed {
        Some(encoded) => encoded,
        None => {
            put_bytes(TAG_UNPARSEABLE, text, out);
            Encoded::Unparseable
        }
    }
}

#[inline]
fn put_bytes(tag: u8, bytes: &[u8], out: &mut Vec<u8>) -> Encoded {
    out.push(tag);
    // Arrow values are at most 4 GiB long (32-bit view lengths), so 32 bits suffice.
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
    Encoded::Value
}

/// Exact numbers compare by value: trailing fractional zeros are dropped, so `12.50`,
/// `12.5` and a decimal(10,3) `12.500` encode alike, and the integer `7` equals `7.00`.
#[inline]
fn put_number(mantissa: i128, scale: i8, out: &mut Vec<u8>) -> Encoded {
    let (mantissa, scale) = normalize_number(mantissa, scale);
    out.push(TAG_NUMBER);
    out.extend_from_slice(&mantissa.to_le_bytes());
    out.push(scale as u8);
    Encoded::Value
}

/// Floats compare by value: `-0.0` equals `0.0` and every NaN equals every other NaN.
#[inline]
fn put_float(value: f64, out: &mut Vec<u8>) -> Encoded {
    out.push(TAG_FLOAT);
    out.extend_from_slice(&canonical_float(value).to_bits().to_le_bytes());
    Encoded::Value
}

#[inline(always)]
fn canonical_float(value: f64) -> f64 {
    if value == 0.0 {
        0.0
    } else if value.is_nan() {
        f64::NAN
    } else {
        value
    }
}

#[inline]
fn put_date(days: i32, out: &mut Vec<u8>) -> Encoded {
    out.push(TAG_DATE);
    out.extend_from_slice(&days.to_le_bytes());
    Encoded::Value
}

#[inline]
fn put_timestamp(seconds: i64, nanos: u32, out: &mut Vec<u8>) -> Encoded {
    out.push(TAG_TIMESTAMP);
    out.extend_from_slice(&seconds.to_le_bytes());
    out.extend_from_slice(&nanos.to_le_bytes());
    Encoded::Value
}

#[inline]
fn split_timestamp(value: i64, unit: TimeUnit) -> (i64, u32) {
    let per_second: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let nanos_per_unit = 1_000_000_000 / per_second;
    (
        value.div_euclid(per_second),
        (value.rem_euclid(per_second) * nanos_per_unit) as u32,
    )
}

/// Encodes a mapped column's value: the same bytes the direct path writes for the same
/// canonical value.
pub fn encode_value(value: &Value<'_>, compare_as: CompareAs, out: &mut Vec<u8>) -> Encoded {
    match value {
        Value::Null => {
            out.push(TAG_NULL);
            Encoded::Null
        }
        Value::Text(t) if compare_as == CompareAs::Binary => {
            put_bytes(TAG_BYTES, t.as_bytes(), out)
        }
        Value::Text(t) => put_bytes(TAG_TEXT, t.as_bytes(), out),
        Value::Bytes(b) => put_bytes(TAG_BYTES, b, out),
        Value::Number(m, s) if compare_as == CompareAs::Float64 => put_exact_float(*m, *s, out),
        Value::Number(m, s) if compare_as == CompareAs::Float32 => {
            put_float(decimal_to_f64(*m, *s), out)
        }
        Value::Number(m, s) => put_number(*m, *s, out),
        Value::Wide(w) if compare_as == CompareAs::Float64 => match wide_as_float(w) {
            Some(x) => put_float(x, out),
            None => put_wide(w, out),
        },
        Value::Wide(w) if compare_as == CompareAs::Float32 => put_float(w.to_f64(), out),
        Value::Wide(w) => put_wide(w, out),
        Value::Float(v) => put_float(*v, out),
        Value::Bool(b) => {
            out.extend_from_slice(&[TAG_BOOL, u8::from(*b)]);
            Encoded::Value
        }
        Value::Date(d) => put_date(*d, out),
        Value::Timestamp { seconds, nanos, .. } => put_timestamp(*seconds, *nanos, out),
        Value::Unparseable(t) => {
            put_bytes(TAG_UNPARSEABLE, t.as_bytes(), out);
            Encoded::Unparseable
        }
    }
}

/// A mapped column's digest slot. Under a tolerance, numbers enter as their tolerance
/// bucket (see [`steps::Tolerance::bucket`]).
fn value_slot(
    value: &Value<'_>,
    compare_as: CompareAs,
    tolerance: Option<&steps::Tolerance>,
    slot: &mut [u8],
) {
    if let Some(bucket) = tolerance.and_then(|t| t.bucket(value)) {
        slot[0] = TAG_BUCKET;
        slot[1..17].copy_from_slice(&bucket.to_le_bytes());
        return;
    }
    match value {
        Value::Null => {}
        Value::Text(t) if compare_as == CompareAs::Binary => {
            hashed_slot(TAG_BYTES, t.as_bytes(), slot)
        }
        Value::Text(t) => text_slot(t.as_bytes(), CompareAs::Text, slot),
        Value::Bytes(b) => hashed_slot(TAG_BYTES, b, slot),
        Value::Number(m, s) if compare_as == CompareAs::Float64 => exact_float_slot(*m, *s, slot),
        Value::Number(m, s) if compare_as == CompareAs::Float32 => {
            float_slot(decimal_to_f64(*m, *s), slot)
        }
        Value::Number(m, s) => number_slot(*m, *s, slot),
        Value::Wide(w) if compare_as == CompareAs::Float64 => match wide_as_float(w) {
            Some(x) => float_slot(x, slot),
            None => wide_slot(w, slot),
        },
        Value::Wide(w) if compare_as == CompareAs::Float32 => float_slot(w.to_f64(), slot),
        Value::Wide(w) => wide_slot(w, slot),
        Value::Float(v) => float_slot(*v, slot),
        Value::Bool(b) => {
            slot[0] = TAG_BOOL;
            slot[1] = u8::from(*b);
        }
        Value::Date(d) => date_slot(*d, slot),
        Value::Timestamp { seconds, nanos, .. } => timestamp_slot(*seconds, *nanos, slot),
        Value::Unparseable(t) => hashed_slot(TAG_UNPARSEABLE, t.as_bytes(), slot),
    }
}

/// The slot of a decimal after number steps (see [`Step::is_number_step`]): the same
/// bytes [`value_slot`] writes for the same value.
#[inline]
fn number_steps_slot(
    mut m: i128,
    mut sc: i8,
    steps: &[Step],
    post: &[Step],
    tolerance: Option<&steps::Tolerance>,
    slot: &mut [u8],
) {
    for step in steps.iter().chain(post) {
        match step.apply_number(m, sc) {
            Some((nm, ns)) => (m, sc) = (nm, ns),
            None => return hashed_slot(TAG_UNPARSEABLE, format_decimal(m, sc).as_bytes(), slot),
        }
    }
    value_slot(&Value::Number(m, sc), CompareAs::Number, tolerance, slot)
}

/// The slot of text after text-only steps (see [`Step::text_to_text`]).
#[inline]
fn text_steps_slot(text: &str, steps: &[Step], slot: &mut [u8]) {
    let mut value = Cow::Borrowed(text);
    for step in steps {
        match step.apply_text(value) {
            Ok(Some(t)) => value = t,
            Ok(None) => return,
            Err(t) => return hashed_slot(TAG_UNPARSEABLE, t.as_bytes(), slot),
        }
    }
    text_slot(value.as_bytes(), CompareAs::Text, slot)
}

/// Bytes of one column's digest slot (see [`ValueEncoder::fill_slots`]).
pub const SLOT: usize = 18;
/// Text up to this many bytes enters a slot as itself (length, bytes, zero padding), the
/// layout of an inline Arrow string view; longer text as its xxh3 and length.
const SHORT_TEXT: u32 = 12;
/// Slot tag of short text.
const TAG_SHORT_TEXT: u8 = 8;
/// Slot tag of a number's tolerance bucket.
const TAG_BUCKET: u8 = 9;
/// NaN among exact numbers (PostgreSQL numeric).
const TAG_NUMBER_NAN: u8 = 10;
/// +Infinity and -Infinity among exact numbers.
const TAG_NUMBER_INFINITY: u8 = 11;
const TAG_NUMBER_NEG_INFINITY: u8 = 12;
/// An exact number too long for 128 bits, as its canonical text.
const TAG_NUMBER_BIG: u8 = 13;

/// Encodes a number too wide for 128 bits.
fn put_wide(number: &WideNumber, out: &mut Vec<u8>) -> Encoded {
    match number {
        WideNumber::NaN => out.push(TAG_NUMBER_NAN),
        WideNumber::Infinity => out.push(TAG_NUMBER_INFINITY),
        WideNumber::NegativeInfinity => out.push(TAG_NUMBER_NEG_INFINITY),
        WideNumber::Big(text) => return put_bytes(TAG_NUMBER_BIG, text.as_bytes(), out),
    }
    Encoded::Value
}

/// The digest slot of a number too wide for 128 bits: the same for the same value
/// however it arrived (text, a mapped column, PostgreSQL numeric).
fn wide_slot(number: &WideNumber, slot: &mut [u8]) {
    match number {
        WideNumber::NaN => slot[0] = TAG_NUMBER_NAN,
        WideNumber::Infinity => slot[0] = TAG_NUMBER_INFINITY,
        WideNumber::NegativeInfinity => slot[0] = TAG_NUMBER_NEG_INFINITY,
        WideNumber::Big(text) => hashed_slot(TAG_NUMBER_BIG, text.as_bytes(), slot),
    }
}

#[inline(always)]
fn text_slot(text: &[u8], compare_as: CompareAs, slot: &mut [u8]) {
    let parsed = match compare_as {
        CompareAs::Text if text.len() <= SHORT_TEXT as usize => {
            slot[0] = TAG_SHORT_TEXT;
            slot[1..5].copy_from_slice(&(text.len() as u32).to_le_bytes());
            slot[5..5 + text.len()].copy_from_slice(text);
            return;
        }
        CompareAs::Text => return hashed_slot(TAG_TEXT, text, slot),
        CompareAs::Binary => return hashed_slot(TAG_BYTES, text, slot),
        CompareAs::Number => text::parse_number(text).map(|number| match number {
            Number::Decimal(m, sc) => number_slot(m, sc, slot),
            Number::Wide(wide) => wide_slot(&wide, slot),
        }),
        CompareAs::Float64 => std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .map(|v| float_slot(v, slot)),
        CompareAs::Float32 => std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<f32>().ok())
            .map(|v| float_slot(f64::from(v), slot)),
        CompareAs::Bool => text::parse_bool(text).map(|v| {
            slot[0] = TAG_BOOL;
            slot[1] = u8::from(v);
        }),
        CompareAs::Date => text::parse_date(text).map(|d| date_slot(d, slot)),
        CompareAs::Timestamp => {
            text::parse_timestamp(text).map(|(sec, n)| timestamp_slot(sec, n, slot))
        }
    };
    if parsed.is_none() {
        hashed_slot(TAG_UNPARSEABLE, text, slot);
    }
}

#[inline(always)]
fn hashed_slot(tag: u8, bytes: &[u8], slot: &mut [u8]) {
    slot[0] = tag;
    slot[1..9].copy_from_slice(&xxh3_64(bytes).to_le_bytes());
    slot[9..13].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
}

#[inline(always)]
fn integer_slot(value: i128, as_float: bool, slot: &mut [u8]) {
    if as_float {
        exact_float_slot(value, 0, slot)
    } else {
        number_slot(value, 0, slot)
    }
}

#[inline(always)]
fn number_slot(mantissa: i128, scale: i8, slot: &mut [u8]) {
    let (mantissa, scale) = normalize_number(mantissa, scale);
    slot[0] = TAG_NUMBER;
    slot[1..17].copy_from_slice(&mantissa.to_le_bytes());
    slot[17] = scale as u8;
}

#[inline(always)]
fn float_slot(value: f64, slot: &mut [u8]) {
    slot[0] = TAG_FLOAT;
    slot[1..9].copy_from_slice(&canonical_float(value).to_bits().to_le_bytes());
}

#[inline(always)]
fn date_slot(days: i32, slot: &mut [u8]) {
    slot[0] = TAG_DATE;
    slot[1..5].copy_from_slice(&days.to_le_bytes());
}

#[inline(always)]
fn timestamp_slot(seconds: i64, nanos: u32, slot: &mut [u8]) {
    slot[0] = TAG_TIMESTAMP;
    slot[1..9].copy_from_slice(&seconds.to_le_bytes());
    slot[9..13].copy_from_slice(&nanos.to_le_bytes());
}

/// The slot of an exact number compared as float64: the float's, or the exact number's
/// own (which no float slot equals) when no float holds it.
fn exact_float_slot(mantissa: i128, scale: i8, slot: &mut [u8]) {
    match exact_as_float(mantissa, scale) {
        Some(x) => float_slot(x, slot),
        None => number_slot(mantissa, scale, slot),
    }
}

/// [`exact_float_slot`]'s encoding.
fn put_exact_float(mantissa: i128, scale: i8, out: &mut Vec<u8>) -> Encoded {
    match exact_as_float(mantissa, scale) {
        Some(x) => put_float(x, out),
        None => put_number(mantissa, scale, out),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Decimal128Array, Int64Array, StringArray, TimestampMicrosecondArray};

    use super::*;

    fn encode_one(array: ArrayRef, compare_as: CompareAs) -> (Vec<u8>, Encoded) {
        let encoder = ValueEncoder::new(&array, compare_as);
        let mut out = Vec::new();
        let e = encoder.encode(0, &mut out);
        (out, e)
    }

    fn text(s: Option<&str>) -> ArrayRef {
        Arc::new(StringArray::from(vec![s]))
    }

    #[test]
    fn text_decimal_equals_typed_decimal_of_any_scale() {
        let typed: ArrayRef = Arc::new(
            Decimal128Array::from(vec![12500])
                .with_precision_and_scale(10, 3)
                .unwrap(),
        );
        let (a, _) = encode_one(typed, CompareAs::Number);
        assert_eq!(encode_one(text(Some("12.50")), CompareAs::Number).0, a);
        assert_eq!(encode_one(text(Some("12.5")), CompareAs::Number).0, a);
        assert_ne!(encode_one(text(Some("12.51")), CompareAs::Number).0, a);
    }

    #[test]
    fn integers_equal_integral_decimals() {
        let int: ArrayRef = Arc::new(Int64Array::from(vec![7]));
        assert_eq!(
            encode_one(int, CompareAs::Number).0,
            encode_one(text(Some("7.00")), CompareAs::Number).0
        );
    }

    #[test]
    fn null_and_empty_string_differ_and_null_equals_null() {
        let (null, e) = encode_one(text(None), CompareAs::Text);
        assert_eq!(e, Encoded::Null);
        let (empty, _) = encode_one(text(Some("")), CompareAs::Text);
        assert_ne!(null, empty);
        assert_eq!(null, encode_one(text(None), CompareAs::Number).0);
    }

    #[test]
    fn unparseable_text_is_flagged_and_never_equals_a_value() {
        let (bad, e) = encode_one(text(Some("12,50")), CompareAs::Number);
        assert_eq!(e, Encoded::Unparseable);
        assert_ne!(bad, encode_one(text(Some("12,50")), CompareAs::Text).0);
    }

    #[test]
    fn encoding_is_length_prefixed() {
        let mut ab_c = Vec::new();
        let mut a_bc = Vec::new();
        let pair = |x: &str, y: &str, out: &mut Vec<u8>| {
            put_bytes(TAG_TEXT, x.as_bytes(), out);
            put_bytes(TAG_TEXT, y.as_bytes(), out);
        };
        pair("ab", "c", &mut ab_c);
        pair("a", "bc", &mut a_bc);
        assert_ne!(ab_c, a_bc);
    }

    #[test]
    fn text_timestamp_equals_typed_instant() {
        let typed: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from(vec![1_704_448_800_000_000]).with_timezone("UTC"),
        );
        let (a, _) = encode_one(typed.clone(), CompareAs::Timestamp);
        assert_eq!(
            encode_one(text(Some("2024-01-05T10:00:00Z")), CompareAs::Timestamp).0,
            a
        );
        let encoder = ValueEncoder::new(&typed, CompareAs::Timestamp);
        assert_eq!(encoder.display(0).unwrap(), "2024-01-05T10:00:00Z");
    }

    #[test]
    fn floats_canonicalise_zero_and_nan() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        put_float(-0.0, &mut a);
        put_float(0.0, &mut b);
        assert_eq!(a, b);
        a.clear();
        b.clear();
        put_float(f64::NAN, &mut a);
        put_float(-f64::NAN, &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn slots_of_equal_text_agree_across_string_layouts() {
        let values = vec![
            Some(""),
            None,
            Some("short"),
            Some("exactly12byt"),
            Some("longer than twelve bytes"),
        ];
        let plain: ArrayRef = Arc::new(StringArray::from(values.clone()));
        let views: ArrayRef = Arc::new(arrow_array::StringViewArray::from(values.clone()));
        let slots = |array: &ArrayRef| {
            let mut rows = vec![0u8; values.len() * SLOT];
            ValueEncoder::new(array, CompareAs::Text).fill_slots(&mut rows, SLOT, 0);
            rows
        };
        let (a, b) = (slots(&plain), slots(&views));
        assert_eq!(a, b);
        let distinct: std::collections::HashSet<&[u8]> = a.chunks(SLOT).collect();
        assert_eq!(
            distinct.len(),
            values.len(),
            "NULL, empty and each text differ"
        );
    }

    /// The number and timestamp fast paths write the same slots as the general path.
    #[test]
    fn mapped_fast_paths_agree_with_the_general_path() {
        use crate::normalize::steps::{Step, TimeUnit, Tolerance};
        let text: ArrayRef = Arc::new(arrow_array::StringViewArray::from(vec![
            Some("12.345"),
            None,
            Some("abc"),
            Some("-0.5"),
            Some("99999999999999"),
            Some("2024-01-05T10:00:00.123456Z"),
        ]));
        let cases: Vec<(CompareAs, Mapped)> = vec![
            (
                CompareAs::Number,
                Mapped {
                    steps: [vec![Step::Scale(100, 0)], vec![]],
                    post: vec![Step::Round(2), Step::Precision(12, 2)],
                    tolerance: Some(Tolerance {
                        abs: Some((5, 1)),
                        rel: None,
                    }),
                },
            ),
            (
                CompareAs::Number,
                Mapped {
                    steps: [vec![], vec![]],
                    post: vec![Step::Integral],
                    tolerance: None,
                },
            ),
            (
                CompareAs::Timestamp,
                Mapped {
                    steps: [vec![Step::Truncate(TimeUnit::Millisecond)], vec![]],
                    post: vec![],
                    tolerance: None,
                },
            ),
        ];
        for (compare_as, mapped) in cases {
            let encoder =
                ValueEncoder::new(&text, compare_as).with_mapping(Some(&Arc::new(mapped)), 0);
            let mut fast = vec![0u8; 6 * SLOT];
            encoder.fill_slots(&mut fast, SLOT, 0);
            let mut general = vec![0u8; 6 * SLOT];
            for (row, slot) in general.chunks_exact_mut(SLOT).enumerate() {
                value_slot(&encoder.value(row), compare_as, encoder.tolerance(), slot);
            }
            assert_eq!(fast, general, "{compare_as}");
        }
    }
}
