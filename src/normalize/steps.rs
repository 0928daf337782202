//! The normalizer [`Step`]s of a column mapping, the cast of a value to its comparison
//! type ([`cast`]), the [`Tolerance`] numbers are compared within (and its digest
//! buckets), and [`Mapped`]: what a mapped pair runs on each side. A mapped column's
//! values go through its steps in the order written, are cast to the comparison type,
//! and only then encoded; the tolerance decides equality in the drill-down. It works on
//! one [`Value`] at a time: it reads no arrays and encodes nothing (unmapped columns take
//! the direct path in `canonical`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use chrono::{NaiveDateTime, TimeZone};
use unicode_normalization::UnicodeNormalization;

use super::number::{
    decimal_to_f64, exact_as_float, exact_rel_within, exact_within, format_decimal, pow10, rescale,
    round_decimal, shortest_decimal, wide_as_float,
};
use super::text::{self, Number, WideNumber};
use super::value::{CompareAs, format_date, format_timestamp};
use super::wide::WideDecimal;

// What steps work on; callers have always found it here.
pub use super::value::Value;

/// The runtime form of a mapped column pair.
#[derive(Debug)]
pub struct Mapped {
    /// Normalizers per side, in order (declared-type text steps included).
    pub steps: [Vec<Step>; 2],
    /// Steps after the cast to the comparison type (rounding of a declared decimal,
    /// the integer check of a declared int).
    pub post: Vec<Step>,
    /// Equality within a tolerance, for numbers.
    pub tolerance: Option<Tolerance>,
}

/// A unit of time for truncation and rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Whole seconds.
    Second,
    /// Milliseconds.
    Millisecond,
    /// Microseconds.
    Microsecond,
}

impl TimeUnit {
    /// Parses `s`, `ms` or `us` (also `µs`).
    pub fn parse(text: &str) -> Option<TimeUnit> {
        match text {
            "s" => Some(TimeUnit::Second),
            "ms" => Some(TimeUnit::Millisecond),
            "us" | "µs" => Some(TimeUnit::Microsecond),
            _ => None,
        }
    }

    fn nanos(self) -> u32 {
        match self {
            TimeUnit::Second => 1_000_000_000,
            TimeUnit::Millisecond => 1_000_000,
            TimeUnit::Microsecond => 1_000,
        }
    }

    fn name(self) -> &'static str {
        match self {
            TimeUnit::Second => "s",
            TimeUnit::Millisecond => "ms",
            TimeUnit::Microsecond => "us",
        }
    }
}

/// One normalizer.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Remove leading and trailing whitespace.
    Trim,
    /// Remove leading whitespace.
    TrimLeft,
    /// Remove trailing whitespace.
    TrimRight,
    /// Lower-case.
    Lower,
    /// Upper-case.
    Upper,
    /// Replace each run of whitespace inside the text by one space.
    CollapseWhitespace,
    /// Unicode normalization form C.
    Nfc,
    /// Text equal to one of these is NULL.
    NullIf(Vec<String>),
    /// Replace text found in the map (enum re-spelling); other text is kept.
    Map(BTreeMap<String, String>),
    /// Read text as a boolean from these spellings (compared ignoring letter case).
    Bool {
        /// Spellings of true.
        truthy: Vec<String>,
        /// Spellings of false.
        falsy: Vec<String>,
    },
    /// Canonical UUID text: lower case, hyphenated, no braces.
    Uuid,
    /// Canonical JSON text: keys sorted, no whitespace.
    Json,
    /// Read text as a timestamp with these strftime formats, tried in order.
    ParseTimestamp(Vec<String>),
    /// Read wall-clock timestamps as local time in this zone and convert them to UTC.
    Timezone(chrono_tz::Tz),
    /// Truncate timestamps to the unit.
    Truncate(TimeUnit),
    /// Round timestamps to the nearest unit (halves away from zero).
    RoundTime(TimeUnit),
    /// Keep the date of a timestamp.
    Date,
    /// Multiply numbers by an exact decimal factor.
    Scale(i128, i8),
    /// Round numbers to this many decimal places (halves away from zero).
    Round(u8),
    /// A number with a fractional part is unparseable (the check of a declared `int`).
    Integral,
    /// A number that needs more than `p` digits at `s` decimal places is unparseable (the
    /// check of a declared `decimal(p,s)`, after rounding to `s`).
    Precision(u8, u8),
}

/// What a step reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Text.
    Text,
    /// Numbers (exact or float).
    Number,
    /// Timestamps.
    Timestamp,
}

impl Step {
    /// Whether the step reads text and writes text (or NULL, or unparseable text).
    pub fn text_to_text(&self) -> bool {
        matches!(
            self,
            Step::Trim
                | Step::TrimLeft
                | Step::TrimRight
                | Step::Lower
                | Step::Upper
                | Step::CollapseWhitespace
                | Step::Nfc
                | Step::NullIf(_)
                | Step::Map(_)
                | Step::Uuid
                | Step::Json
        )
    }

    /// What the step reads.
    pub fn input(&self) -> Input {
        match self {
            Step::Timezone(_) | Step::Truncate(_) | Step::RoundTime(_) | Step::Date => {
                Input::Timestamp
            }
            Step::Scale(..) | Step::Round(_) | Step::Integral | Step::Precision(..) => {
                Input::Number
            }
            _ => Input::Text,
        }
    }

    /// The comparison type the step's output has, when it is no longer text.
    pub fn output(&self) -> Option<CompareAs> {
        match self {
            Step::Bool { .. } => Some(CompareAs::Bool),
            Step::ParseTimestamp(_)
            | Step::Timezone(_)
            | Step::Truncate(_)
            | Step::RoundTime(_) => Some(CompareAs::Timestamp),
            Step::Date => Some(CompareAs::Date),
            _ => None,
        }
    }

    /// Applies a number step (scale, round, integer and precision checks) to a decimal;
    /// `None` when the value does not fit (it is then unparseable, shown as the input).
    #[inline]
    pub fn apply_number(&self, m: i128, s: i8) -> Option<(i128, i8)> {
        match self {
            Step::Scale(fm, fs) => m.checked_mul(*fm).map(|p| (p, s.saturating_add(*fs))),
            Step::Round(places) => Some(round_decimal(m, s, *places as i8)),
            Step::Integral if s <= 0 => Some((m, s)),
            Step::Integral => {
                let (rounded, _) = round_decimal(m, s, 0);
                if rescale(rounded, 0, s) == Some(m) {
                    Some((rounded, 0))
                } else {
                    None
                }
            }
            Step::Precision(p, places) => {
                // Digits at the declared scale: |m| × 10^(places − s) < 10^p.
                let widen = u32::from(*places).saturating_sub(s.max(0) as u32);
                let at_scale = pow10(widen).and_then(|w| m.unsigned_abs().checked_mul(w));
                match (at_scale, pow10(u32::from(*p))) {
                    (Some(v), Some(limit)) if v < limit => Some((m, s)),
                    _ => None,
                }
            }
            _ => Some((m, s)),
        }
    }

    /// Whether the step is one [`Step::apply_number`] handles.
    pub fn is_number_step(&self) -> bool {
        matches!(
            self,
            Step::Scale(..) | Step::Round(_) | Step::Integral | Step::Precision(..)
        )
    }

    /// Applies a precision step (truncate or round) to a timestamp.
    #[inline]
    pub fn apply_time(&self, seconds: i64, nanos: u32) -> (i64, u32) {
        if text::is_infinite_time(seconds, nanos) {
            return (seconds, nanos);
        }
        match self {
            Step::Truncate(unit) => (seconds, nanos - nanos % unit.nanos()),
            Step::RoundTime(unit) => {
                let step = unit.nanos();
                let rounded = (nanos + step / 2) / step * step;
                if rounded >= 1_000_000_000 {
                    (seconds + 1, rounded - 1_000_000_000)
                } else {
                    (seconds, rounded)
                }
            }
            _ => (seconds, nanos),
        }
    }

    /// Applies a [`Step::text_to_text`] step to text, without a [`Value`] around it;
    /// `None` is NULL, `Err` unparseable text.
    #[inline]
    pub fn apply_text<'a>(&self, t: Cow<'a, str>) -> Result<Option<Cow<'a, str>>, Cow<'a, str>> {
        match self.apply_to_text(t) {
            Value::Text(t) => Ok(Some(t)),
            Value::Null => Ok(None),
            Value::Unparseable(t) => Err(t),
            other => Err(Cow::Owned(format!("{other:?}"))),
        }
    }

    /// Applies the step. Values of a kind the step does not read pass unchanged (NULL,
    /// unparseable); the plan has already refused steps that never fit.
    #[inline]
    pub fn apply<'a>(&self, value: Value<'a>) -> Value<'a> {
        match value {
            Value::Text(t) => self.apply_to_text(t),
            Value::Timestamp {
                seconds,
                nanos,
                zoned,
            } => self.apply_to_timestamp(seconds, nanos, zoned),
            Value::Number(m, s) if self.is_number_step() => self.apply_to_decimal(m, s),
            Value::Wide(w) if self.is_number_step() => self.apply_to_wide(w),
            Value::Float(v) if self.is_number_step() => self.apply_to_float(v),
            other => other,
        }
    }

    /// The text steps: whitespace, letter case and Unicode form, NULL spellings, value
    /// maps, booleans, canonical UUID and JSON text, timestamp formats. Any other step
    /// leaves text as it is (a number or time step reads text only after a cast).
    #[inline]
    fn apply_to_text<'a>(&self, t: Cow<'a, str>) -> Value<'a> {
        match self {
            Step::Trim | Step::TrimLeft | Step::TrimRight | Step::CollapseWhitespace => {
                Value::Text(self.respace(t))
            }
            Step::Lower | Step::Upper | Step::Nfc => Value::Text(self.respell(t)),
            Step::NullIf(values) => {
                if values.iter().any(|v| v == t.as_ref()) {
                    Value::Null
                } else {
                    Value::Text(t)
                }
            }
            Step::Map(map) => match map.get(t.as_ref()) {
                Some(to) => Value::Text(Cow::Owned(to.clone())),
                None => Value::Text(t),
            },
            Step::Bool { truthy, falsy } => {
                if truthy.iter().any(|s| s.eq_ignore_ascii_case(&t)) {
                    Value::Bool(true)
                } else if falsy.iter().any(|s| s.eq_ignore_ascii_case(&t)) {
                    Value::Bool(false)
                } else {
                    Value::Unparseable(t)
                }
            }
            Step::Uuid => match canonical_uuid(&t) {
                Some(u) => Value::Text(Cow::Owned(u)),
                None => Value::Unparseable(t),
            },
            Step::Json => match serde_json::from_str::<serde_json::Value>(&t) {
                Ok(v) => Value::Text(Cow::Owned(v.to_string())),
                Err(_) => Value::Unparseable(t),
            },
            Step::ParseTimestamp(formats) => {
                match formats.iter().find_map(|f| parse_with_format(&t, f)) {
                    Some((seconds, nanos, zoned)) => Value::Timestamp {
                        seconds,
                        nanos,
                        zoned,
                    },
                    None => Value::Unparseable(t),
                }
            }
            _ => Value::Text(t),
        }
    }

    /// Trimming and collapsing whitespace; text that needs neither is not copied.
    #[inline]
    fn respace<'a>(&self, t: Cow<'a, str>) -> Cow<'a, str> {
        match self {
            Step::Trim if starts_with_space(&t) || ends_with_space(&t) => map_cow(t, str::trim),
            Step::TrimLeft if starts_with_space(&t) => map_cow(t, str::trim_start),
            Step::TrimRight if ends_with_space(&t) => map_cow(t, str::trim_end),
            Step::CollapseWhitespace if !is_collapsed(&t) => {
                Cow::Owned(t.split_whitespace().collect::<Vec<_>>().join(" "))
            }
            _ => t,
        }
    }

    /// Lower or upper case and Unicode form C; text already so is not copied.
    #[inline]
    fn respell<'a>(&self, t: Cow<'a, str>) -> Cow<'a, str> {
        match self {
            Step::Lower if has_letters(&t, u8::is_ascii_uppercase, char::is_uppercase) => {
                Cow::Owned(t.to_lowercase())
            }
            Step::Upper if has_letters(&t, u8::is_ascii_lowercase, char::is_lowercase) => {
                Cow::Owned(t.to_uppercase())
            }
            Step::Nfc if !unicode_normalization::is_nfc(&t) => Cow::Owned(t.nfc().collect()),
            _ => t,
        }
    }

    /// The time steps: a wall-clock time's zone, truncation and rounding, the date. An
    /// infinity stays infinite through each.
    #[inline]
    fn apply_to_timestamp<'a>(&self, seconds: i64, nanos: u32, zoned: bool) -> Value<'a> {
        let timestamp = |seconds, nanos, zoned| Value::Timestamp {
            seconds,
            nanos,
            zoned,
        };
        match self {
            // Infinity is the same in every zone.
            Step::Timezone(_) if text::is_infinite_time(seconds, nanos) => {
                timestamp(seconds, nanos, true)
            }
            Step::Timezone(tz) if !zoned => match local_to_utc(*tz, seconds, nanos) {
                Some(seconds) => timestamp(seconds, nanos, true),
                None => Value::Unparseable(Cow::Owned(format!(
                    "{} does not exist in {tz} (a daylight-saving gap)",
                    format_timestamp(seconds, nanos, false)
                ))),
            },
            Step::Truncate(_) | Step::RoundTime(_) => {
                let (seconds, nanos) = self.apply_time(seconds, nanos);
                timestamp(seconds, nanos, zoned)
            }
            Step::Date => date_of(seconds, nanos),
            _ => timestamp(seconds, nanos, zoned),
        }
    }

    /// A number step on a decimal of at most 38 digits.
    #[inline]
    fn apply_to_decimal(&self, m: i128, s: i8) -> Value<'static> {
        match self.apply_number(m, s) {
            Some((m, s)) => Value::Number(m, s),
            None => Value::Unparseable(Cow::Owned(format_decimal(m, s))),
        }
    }

    /// A number step on NaN, an infinity or a decimal beyond 38 digits.
    fn apply_to_wide(&self, w: WideNumber) -> Value<'static> {
        match (self, w) {
            // NaN stays NaN through every step, as in PostgreSQL (numeric(p,s) holds
            // it); an infinity keeps its size (numeric(p,s) refuses it, but two equal
            // infinities must not become a difference).
            (_, WideNumber::NaN) => Value::Wide(WideNumber::NaN),
            (
                Step::Round(_) | Step::Integral | Step::Precision(..),
                w @ (WideNumber::Infinity | WideNumber::NegativeInfinity),
            ) => Value::Wide(w),
            (Step::Scale(factor, _), w @ (WideNumber::Infinity | WideNumber::NegativeInfinity)) => {
                match factor.signum() {
                    0 => Value::Wide(WideNumber::NaN),
                    1 => Value::Wide(w),
                    _ if w == WideNumber::Infinity => Value::Wide(WideNumber::NegativeInfinity),
                    _ => Value::Wide(WideNumber::Infinity),
                }
            }
            // Decimals beyond 38 digits are not scaled or rounded: they are reported,
            // never silently approximated.
            (_, w) => Value::Unparseable(Cow::Owned(w.text().to_string())),
        }
    }

    /// A number step on a float: as the decimal it prints as, exactly, so 19.99 × 100 is
    /// 1999 (not 1998.9999999999998) and 0.285 rounds to 0.29.
    #[inline]
    fn apply_to_float(&self, v: f64) -> Value<'static> {
        let Some((m, s)) = shortest_decimal(v, false) else {
            // Not finite, or beyond 38 digits: float arithmetic.
            return float_step(self, v);
        };
        match self.apply_number(m, s) {
            // Exact when a float holds the result; else the nearest float, as the other
            // side's float arithmetic would have it.
            Some((m, s)) => match exact_as_float(m, s) {
                Some(_) => Value::Number(m, s),
                None => Value::Float(
                    format_decimal(m, s)
                        .parse()
                        .unwrap_or_else(|_| decimal_to_f64(m, s)),
                ),
            },
            None => Value::Unparseable(Cow::Owned(v.to_string())),
        }
    }
}

/// The date of an instant; unparseable (shown as the instant) when the day does not fit
/// a date or would read as a date's infinity.
fn date_of(seconds: i64, nanos: u32) -> Value<'static> {
    if (seconds, nanos) == text::TIMESTAMP_INFINITY {
        return Value::Date(text::DATE_INFINITY);
    }
    if (seconds, nanos) == text::TIMESTAMP_NEG_INFINITY {
        return Value::Date(text::DATE_NEG_INFINITY);
    }
    match i32::try_from(seconds.div_euclid(86_400)) {
        Ok(day) if day != text::DATE_INFINITY && day != text::DATE_NEG_INFINITY => Value::Date(day),
        _ => Value::Unparseable(Cow::Owned(format_timestamp(seconds, nanos, true))),
    }
}

/// Whether text has letters a case step changes, found by `ascii` on ASCII text and by
/// `unicode` otherwise.
#[inline(always)]
fn has_letters(text: &str, ascii: impl Fn(&u8) -> bool, unicode: impl Fn(char) -> bool) -> bool {
    if text.is_ascii() {
        text.bytes().any(|b| ascii(&b))
    } else {
        text.chars().any(unicode)
    }
}

/// A number step on a float that has no decimal of at most 38 digits (huge, tiny or not
/// finite), in float arithmetic.
fn float_step(step: &Step, v: f64) -> Value<'static> {
    match step {
        Step::Scale(m, s) => Value::Float(v * (*m as f64) / 10f64.powi(i32::from(*s))),
        Step::Integral if v.fract() != 0.0 => Value::Unparseable(Cow::Owned(v.to_string())),
        Step::Round(places) => {
            let factor = 10f64.powi(i32::from(*places));
            Value::Float((v * factor).round() / factor)
        }
        _ => Value::Float(v),
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Trim => f.write_str("trim"),
            Step::TrimLeft => f.write_str("ltrim"),
            Step::TrimRight => f.write_str("rtrim"),
            Step::Lower => f.write_str("lower"),
            Step::Upper => f.write_str("upper"),
            Step::CollapseWhitespace => f.write_str("collapse_whitespace"),
            Step::Nfc => f.write_str("nfc"),
            Step::NullIf(v) => write!(f, "null_if {v:?}"),
            Step::Map(m) => write!(f, "value_map ({} values)", m.len()),
            Step::Bool { truthy, falsy } => write!(
                f,
                "bool (true: {}; false: {})",
                truthy.join("/"),
                falsy.join("/")
            ),
            Step::Uuid => f.write_str("uuid"),
            Step::Json => f.write_str("json"),
            Step::ParseTimestamp(formats) => write!(f, "timestamp_format {formats:?}"),
            Step::Timezone(tz) => write!(f, "timezone {tz} to UTC"),
            Step::Truncate(u) => write!(f, "truncate to {}", u.name()),
            Step::RoundTime(u) => write!(f, "round to {}", u.name()),
            Step::Date => f.write_str("date"),
            Step::Scale(m, s) => write!(f, "scale x{}", format_decimal(*m, *s)),
            Step::Round(p) => write!(f, "round to {p} decimals"),
            Step::Integral => f.write_str("whole numbers only"),
            Step::Precision(p, places) => write!(f, "fits decimal({p},{places})"),
        }
    }
}

/// Equality within a tolerance, for numbers. Both bounds are inclusive; a pair is equal
/// when it is within either.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// |a − b| ≤ abs, as an exact decimal (mantissa, scale).
    pub abs: Option<(i128, i8)>,
    /// |a − b| ≤ rel × max(|a|, |b|).
    pub rel: Option<f64>,
}

impl Tolerance {
    /// Whether `a` and `b` are equal within the tolerance. NULL equals only NULL.
    pub fn equal(&self, a: &Value<'_>, b: &Value<'_>) -> bool {
        self.equal_as(a, b, CompareAs::Number)
    }

    /// [`Tolerance::equal`] for a column compared as `compare_as`: float32 values are
    /// judged as the decimals they print as in float32 (1.1, not 1.100000023841858).
    pub fn equal_as(&self, a: &Value<'_>, b: &Value<'_>, compare_as: CompareAs) -> bool {
        let float32 = compare_as == CompareAs::Float32;
        match (a, b) {
            // A value that cannot be read is never equal to anything.
            (Value::Unparseable(_), _) | (_, Value::Unparseable(_)) => false,
            (Value::Null, Value::Null) => true,
            // NaN and the infinities equal only themselves, whatever the tolerance.
            (Value::Wide(a), Value::Wide(b)) if a == b => true,
            (Value::Wide(w), _) | (_, Value::Wide(w)) if !matches!(w, WideNumber::Big(_)) => false,
            // Decimals beyond 38 digits, against each other or a shorter one: exactly.
            (Value::Wide(WideNumber::Big(x)), Value::Wide(WideNumber::Big(y))) => {
                match (WideDecimal::parse(x), WideDecimal::parse(y)) {
                    (Some(x), Some(y)) => self.wide_equal(&x, &y),
                    _ => x == y,
                }
            }
            (Value::Wide(WideNumber::Big(x)), Value::Number(m, s))
            | (Value::Number(m, s), Value::Wide(WideNumber::Big(x))) => WideDecimal::parse(x)
                .is_some_and(|x| self.wide_equal(&x, &WideDecimal::from_decimal(*m, *s))),
            (Value::Number(am, as_), Value::Number(bm, bs)) => {
                match self.decimal_equal((*am, *as_), (*bm, *bs)) {
                    Some(equal) => equal,
                    // Too large for exact arithmetic: floats.
                    None => {
                        self.float_equal(decimal_to_f64(*am, *as_), decimal_to_f64(*bm, *bs), false)
                    }
                }
            }
            // An exact number against a float: against the decimal the float prints as,
            // exactly (100000000000000000000.02 is not within 0.01 of 1e20).
            (Value::Number(m, s), Value::Float(f)) | (Value::Float(f), Value::Number(m, s)) => {
                if !f.is_finite() {
                    return false;
                }
                match shortest_decimal(*f, float32).and_then(|d| self.decimal_equal((*m, *s), d)) {
                    Some(equal) => equal,
                    None => self.float_equal(decimal_to_f64(*m, *s), *f, float32),
                }
            }
            _ => match (as_float(a), as_float(b)) {
                (Some(x), Some(y)) => self.float_equal(x, y, float32),
                _ => a == b,
            },
        }
    }

    /// Whether two decimals of any width are within the tolerance, decided exactly.
    fn wide_equal(&self, a: &WideDecimal, b: &WideDecimal) -> bool {
        let abs = self.abs.map(|(tm, ts)| WideDecimal::from_decimal(tm, ts));
        let rel = self
            .rel
            .and_then(|rel| text::parse_decimal(format!("{rel}").as_bytes()))
            .map(|(rm, rs)| WideDecimal::from_decimal(rm, rs));
        super::wide::within(a, b, abs.as_ref(), rel.as_ref())
    }

    /// Whether two decimals are within the tolerance, decided exactly; `None` when they
    /// are too large for exact arithmetic.
    fn decimal_equal(&self, (am, as_): (i128, i8), (bm, bs): (i128, i8)) -> Option<bool> {
        let abs = self
            .abs
            .map(|(tm, ts)| exact_within(am, as_, bm, bs, tm, ts));
        let rel = self.rel.map(|rel| exact_rel_within(am, as_, bm, bs, rel));
        match (abs, rel) {
            (Some(None), _) | (_, Some(None)) => None,
            _ => Some(abs.flatten().unwrap_or(false) || rel.flatten().unwrap_or(false)),
        }
    }

    fn float_equal(&self, a: f64, b: f64, float32: bool) -> bool {
        if a == b || (a.is_nan() && b.is_nan()) {
            return true;
        }
        // An infinity is within no tolerance of anything else (∞ − x ≤ rel × ∞ would say
        // it is), and NaN is equal only to NaN.
        if !a.is_finite() || !b.is_finite() {
            return false;
        }
        // The decimals the floats print as (1.1, not 1.100000000000000088…) are what a
        // tolerance written in decimal is about: 1.0 and 1.1 are within abs = 0.1.
        if let (Some(x), Some(y)) = (shortest_decimal(a, float32), shortest_decimal(b, float32))
            && let Some(equal) = self.decimal_equal(x, y)
        {
            return equal;
        }
        let diff = (a - b).abs();
        self.abs.is_some_and(|(m, s)| diff <= decimal_to_f64(m, s))
            || self.rel.is_some_and(|rel| float_rel_within(a, b, rel))
    }

    /// The digest slot of a value under this tolerance: values farther apart than the
    /// tolerance always get different buckets, so a real difference always reaches the
    /// drill-down; close values may share a bucket (then they are equal) or not (then the
    /// drill-down finds them equal). `None` means "use the exact value".
    pub fn bucket(&self, value: &Value<'_>) -> Option<i128> {
        let (tm, ts) = self.abs?;
        // Half the tolerance as the bucket width: one bucket never spans more than it,
        // even with rounding in the float path.
        match value {
            Value::Number(m, s) => {
                let scale = (*s).max(ts);
                let v = rescale(*m, *s, scale)?.checked_mul(2)?;
                let w = rescale(tm, ts, scale)?;
                if w <= 0 {
                    return None;
                }
                // i128 division is slow; most values fit in i64.
                match (i64::try_from(v), i64::try_from(w)) {
                    (Ok(v), Ok(w)) => Some(i128::from(v.div_euclid(w))),
                    _ => Some(v.div_euclid(w)),
                }
            }
            Value::Float(x) => {
                let w = decimal_to_f64(tm, ts) / 2.0;
                let q = x / w;
                // Far from 2^52, so float rounding moves a value by well under a bucket.
                (w > 0.0 && q.is_finite() && q.abs() < 2f64.powi(50)).then(|| q.floor() as i128)
            }
            _ => None,
        }
    }
}

fn float_rel_within(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs())
}

fn as_float(v: &Value<'_>) -> Option<f64> {
    match v {
        Value::Float(x) => Some(*x),
        Value::Number(m, s) => Some(decimal_to_f64(*m, *s)),
        // A decimal beyond 38 digits is never read as a float: two that differ in a digit
        // a float cannot hold would look equal. They compare exactly (see `equal`).
        _ => None,
    }
}

/// Whether text has no leading, trailing or repeated whitespace and no whitespace but
/// plain spaces: then collapsing changes nothing and nothing is allocated.
#[inline]
fn is_collapsed(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.is_ascii() {
        // Plain spaces only, never two in a row, none at either end.
        let mut previous_space = true;
        for &b in bytes {
            let space = b == b' ';
            if (space && previous_space) || (b.is_ascii_whitespace() && !space) || b == 0x0b {
                return false;
            }
            previous_space = space;
        }
        return !previous_space || bytes.is_empty();
    }
    let mut previous_space = true;
    for c in text.chars() {
        let space = c.is_whitespace();
        if space && (c != ' ' || previous_space) {
            return false;
        }
        previous_space = space;
    }
    !previous_space
}

/// Whether text starts with whitespace (ASCII checked first, Unicode when needed).
#[inline(always)]
fn starts_with_space(text: &str) -> bool {
    match text.as_bytes().first() {
        None => false,
        Some(b) if b.is_ascii() => b.is_ascii_whitespace() || *b == 0x0b,
        Some(_) => text.chars().next().is_some_and(char::is_whitespace),
    }
}

/// Whether text ends with whitespace.
#[inline(always)]
fn ends_with_space(text: &str) -> bool {
    match text.as_bytes().last() {
        None => false,
        Some(b) if b.is_ascii() => b.is_ascii_whitespace() || *b == 0x0b,
        Some(_) => text.chars().next_back().is_some_and(char::is_whitespace),
    }
}

fn map_cow<'a>(t: Cow<'a, str>, f: impl Fn(&str) -> &str) -> Cow<'a, str> {
    match t {
        Cow::Borrowed(b) => Cow::Borrowed(f(b)),
        Cow::Owned(o) => {
            let trimmed = f(&o);
            if trimmed.len() == o.len() {
                Cow::Owned(o)
            } else {
                Cow::Owned(trimmed.to_string())
            }
        }
    }
}

fn canonical_uuid(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(t);
    let t = match t.get(..9) {
        Some(prefix) if prefix.eq_ignore_ascii_case("urn:uuid:") => &t[9..],
        _ => t,
    };
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// Parses `text` with a strftime format; with `%z`/`%:z` in it the value is an instant.
fn parse_with_format(text: &str, format: &str) -> Option<(i64, u32, bool)> {
    if format.contains("%z") || format.contains("%:z") || format.contains("%#z") {
        let dt = chrono::DateTime::parse_from_str(text, format).ok()?;
        return Some((dt.timestamp(), dt.timestamp_subsec_nanos(), true));
    }
    let naive = NaiveDateTime::parse_from_str(text, format)
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(text, format)
                .ok()
                .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight"))
        })?;
    let utc = naive.and_utc();
    Some((utc.timestamp(), utc.timestamp_subsec_nanos(), false))
}

/// Whether a strftime format is one chrono understands.
pub fn valid_timestamp_format(format: &str) -> bool {
    use chrono::format::{Item, StrftimeItems};
    // %Z (a zone abbreviation like CET) cannot be resolved to an offset: it would be
    // read and ignored. Use %z, or a timezone normalizer.
    !format.contains("%Z") && !StrftimeItems::new(format).any(|item| matches!(item, Item::Error))
}

/// The UTC seconds of a wall-clock time in `tz`; the earlier instant when the wall clock
/// repeats (daylight saving ends), `None` when it never happens (daylight saving starts).
fn local_to_utc(tz: chrono_tz::Tz, seconds: i64, nanos: u32) -> Option<i64> {
    let naive = chrono::DateTime::from_timestamp(seconds, nanos)?.naive_utc();
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|dt| dt.timestamp())
}

/// Reads a text value as the comparison type (the end of every mapped column's steps).
#[inline]
pub fn cast<'a>(value: Value<'a>, to: CompareAs) -> Value<'a> {
    match (value, to) {
        (Value::Null, _) => Value::Null,
        (Value::Unparseable(t), _) => Value::Unparseable(t),
        (Value::Text(t), CompareAs::Text) => Value::Text(t),
        (Value::Text(t), CompareAs::Number) => match text::parse_number(t.as_bytes()) {
            Some(Number::Decimal(m, s)) => Value::Number(m, s),
            Some(Number::Wide(w)) => Value::Wide(w),
            None => Value::Unparseable(t),
        },
        (Value::Text(t), CompareAs::Float64) => match t.parse::<f64>() {
            Ok(v) => Value::Float(v),
            Err(_) => Value::Unparseable(t),
        },
        (Value::Text(t), CompareAs::Float32) => match t.parse::<f32>() {
            Ok(v) => Value::Float(f64::from(v)),
            Err(_) => Value::Unparseable(t),
        },
        (Value::Text(t), CompareAs::Bool) => match text::parse_bool(t.as_bytes()) {
            Some(b) => Value::Bool(b),
            None => Value::Unparseable(t),
        },
        (Value::Text(t), CompareAs::Date) => match text::parse_date(t.as_bytes()) {
            Some(d) => Value::Date(d),
            None => Value::Unparseable(t),
        },
        (Value::Text(t), CompareAs::Timestamp) => match text::parse_timestamp_zoned(t.as_bytes()) {
            Some((seconds, nanos, zoned)) => Value::Timestamp {
                seconds,
                nanos,
                zoned,
            },
            None => Value::Unparseable(t),
        },
        // Kept exact when no float holds it (see `exact_as_float`): it must then differ
        // from every float.
        (Value::Number(m, s), CompareAs::Float64) => match exact_as_float(m, s) {
            Some(x) => Value::Float(x),
            None => Value::Number(m, s),
        },
        (Value::Number(m, s), CompareAs::Float32) => Value::Float(decimal_to_f64(m, s)),
        // A float read as a number is the decimal it prints as.
        (Value::Float(v), CompareAs::Number) => {
            if v.is_nan() {
                Value::Wide(WideNumber::NaN)
            } else if v == f64::INFINITY {
                Value::Wide(WideNumber::Infinity)
            } else if v == f64::NEG_INFINITY {
                Value::Wide(WideNumber::NegativeInfinity)
            } else {
                match text::parse_number(v.to_string().as_bytes()) {
                    Some(Number::Decimal(m, s)) => Value::Number(m, s),
                    Some(Number::Wide(w)) => Value::Wide(w),
                    None => Value::Float(v),
                }
            }
        }
        (Value::Number(m, s), CompareAs::Text) => Value::Text(Cow::Owned(format_decimal(m, s))),
        (Value::Wide(w), CompareAs::Float64) => match wide_as_float(&w) {
            Some(x) => Value::Float(x),
            None => Value::Wide(w),
        },
        (Value::Wide(w), CompareAs::Float32) => Value::Float(w.to_f64()),
        (Value::Wide(w), CompareAs::Text) => Value::Text(Cow::Owned(w.text().to_string())),
        (Value::Float(v), CompareAs::Text) => Value::Text(Cow::Owned(v.to_string())),
        (Value::Bool(b), CompareAs::Text) => {
            Value::Text(Cow::Borrowed(if b { "true" } else { "false" }))
        }
        (Value::Date(d), CompareAs::Text) => Value::Text(Cow::Owned(format_date(i64::from(d)))),
        (
            Value::Timestamp {
                seconds,
                nanos,
                zoned,
            },
            CompareAs::Text,
        ) => Value::Text(Cow::Owned(format_timestamp(seconds, nanos, zoned))),
        (Value::Bytes(b), CompareAs::Text) => match std::str::from_utf8(b) {
            Ok(t) => Value::Text(Cow::Borrowed(t)),
            Err(_) => Value::Bytes(b),
        },
        (Value::Text(t), CompareAs::Binary) => Value::Text(t),
        (other, _) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value<'_> {
        Value::Text(Cow::Borrowed(s))
    }

    #[test]
    fn text_steps() {
        assert_eq!(Step::Trim.apply(text("  a b  ")), text("a b"));
        assert_eq!(Step::TrimLeft.apply(text("  a ")), text("a "));
        assert_eq!(Step::TrimRight.apply(text("  a ")), text("  a"));
        assert_eq!(Step::Lower.apply(text("ÄbC")), text("äbc"));
        assert_eq!(Step::Upper.apply(text("äbc")), text("ÄBC"));
        assert_eq!(
            Step::CollapseWhitespace.apply(text(" a \t\n b ")),
            text("a b")
        );
        assert_eq!(Step::CollapseWhitespace.apply(text("a  b")), text("a b"));
        assert_eq!(Step::CollapseWhitespace.apply(text("a b ")), text("a b"));
        assert_eq!(
            Step::CollapseWhitespace.apply(text("a\u{a0}b")),
            text("a b")
        );
        assert!(matches!(
            Step::CollapseWhitespace.apply(text("a b")),
            Value::Text(Cow::Borrowed(_))
        ));
        assert!(matches!(
            Step::CollapseWhitespace.apply(text("")),
            Value::Text(Cow::Borrowed(_))
        ));
        assert_eq!(Step::Nfc.apply(text("e\u{301}")), text("\u{e9}"));
        assert_eq!(
            Step::NullIf(vec!["".into(), "N/A".into()]).apply(text("N/A")),
            Value::Null
        );
        assert_eq!(
            Step::NullIf(vec!["N/A".into()]).apply(text("n/a")),
            text("n/a")
        );
        let map = Step::Map([("A".to_string(), "active".to_string())].into());
        assert_eq!(map.apply(text("A")), text("active"));
        assert_eq!(map.apply(text("Z")), text("Z"));
        assert_eq!(Step::Lower.apply(Value::Null), Value::Null);
    }

    #[test]
    fn booleans_uuids_and_json() {
        let b = Step::Bool {
            truthy: vec!["t".into(), "yes".into(), "1".into()],
            falsy: vec!["f".into(), "no".into(), "0".into()],
        };
        assert_eq!(b.apply(text("YES")), Value::Bool(true));
        assert_eq!(b.apply(text("0")), Value::Bool(false));
        assert!(matches!(b.apply(text("maybe")), Value::Unparseable(_)));
        let want = text("123e4567-e89b-12d3-a456-426614174000");
        assert_eq!(
            Step::Uuid.apply(text("{123E4567-E89B-12D3-A456-426614174000}")),
            want
        );
        assert_eq!(
            Step::Uuid.apply(text("123e4567e89b12d3a456426614174000")),
            want
        );
        assert!(matches!(
            Step::Uuid.apply(text("123")),
            Value::Unparseable(_)
        ));
        assert_eq!(
            Step::Json.apply(text("{ \"b\": 1,\n \"a\": [1, 2] }")),
            text("{\"a\":[1,2],\"b\":1}")
        );
        assert!(matches!(Step::Json.apply(text("{")), Value::Unparseable(_)));
    }

    #[test]
    fn timestamps_formats_zones_and_precision() {
        let parse = Step::ParseTimestamp(vec!["%d/%m/%Y %H:%M".into(), "%Y-%m-%d %H:%M:%S".into()]);
        let local = parse.apply(text("2024-03-01 09:30:00"));
        assert_eq!(
            local,
            Value::Timestamp {
                seconds: 1_709_285_400,
                nanos: 0,
                zoned: false
            }
        );
        assert_eq!(parse.apply(text("01/03/2024 09:30")), local);
        let ny = Step::Timezone("America/New_York".parse().unwrap());
        // 09:30 in New York in March (EST, UTC-5) is 14:30 UTC.
        assert_eq!(
            ny.apply(local.clone()),
            Value::Timestamp {
                seconds: 1_709_285_400 + 5 * 3600,
                nanos: 0,
                zoned: true
            }
        );
        // A value that already names an instant is left alone.
        let instant = Value::Timestamp {
            seconds: 5,
            nanos: 0,
            zoned: true,
        };
        assert_eq!(ny.apply(instant.clone()), instant);
        // 02:30 on 2024-03-10 does not exist in New York.
        let gap =
            Step::ParseTimestamp(vec!["%Y-%m-%d %H:%M".into()]).apply(text("2024-03-10 02:30"));
        assert!(matches!(ny.apply(gap), Value::Unparseable(_)));
        let t = Value::Timestamp {
            seconds: 10,
            nanos: 123_456_789,
            zoned: true,
        };
        assert_eq!(
            Step::Truncate(TimeUnit::Millisecond).apply(t.clone()),
            Value::Timestamp {
                seconds: 10,
                nanos: 123_000_000,
                zoned: true
            }
        );
        assert_eq!(
            Step::RoundTime(TimeUnit::Microsecond).apply(t.clone()),
            Value::Timestamp {
                seconds: 10,
                nanos: 123_457_000,
                zoned: true
            }
        );
        let late = Value::Timestamp {
            seconds: 10,
            nanos: 999_999_999,
            zoned: true,
        };
        assert_eq!(
            Step::RoundTime(TimeUnit::Second).apply(late),
            Value::Timestamp {
                seconds: 11,
                nanos: 0,
                zoned: true
            }
        );
        assert_eq!(
            Step::Date.apply(Value::Timestamp {
                seconds: -1,
                nanos: 0,
                zoned: false
            }),
            Value::Date(-1)
        );
        assert!(valid_timestamp_format("%Y-%m-%d"));
        assert!(!valid_timestamp_format("%Y-%Q"));
    }

    #[test]
    fn numbers_scale_and_round() {
        assert_eq!(
            Step::Scale(100, 0).apply(Value::Number(1250, 2)),
            Value::Number(125000, 2)
        );
        assert_eq!(
            Step::Scale(1, 2).apply(Value::Number(1250, 0)),
            Value::Number(1250, 2)
        );
        assert_eq!(
            Step::Round(1).apply(Value::Number(125, 2)),
            Value::Number(13, 1)
        );
        assert_eq!(
            Step::Round(1).apply(Value::Number(-125, 2)),
            Value::Number(-13, 1)
        );
        assert_eq!(
            Step::Round(2).apply(Value::Number(125, 2)),
            Value::Number(125, 2)
        );
        // Floats go through number steps as the decimals they print as, exactly.
        assert_eq!(Step::Round(0).apply(Value::Float(2.5)), Value::Number(3, 0));
        assert_eq!(
            Step::Round(2).apply(Value::Float(0.285)),
            Value::Number(29, 2)
        );
        assert_eq!(
            Step::Scale(100, 0).apply(Value::Float(19.99)),
            Value::Number(199900, 2)
        );
        assert_eq!(
            cast(
                Step::Scale(100, 0).apply(Value::Float(19.99)),
                CompareAs::Float64
            ),
            Value::Float(1999.0)
        );
        // Read as a number, a float is the decimal it prints as.
        assert_eq!(
            cast(Value::Float(19.99), CompareAs::Number),
            Value::Number(1999, 2)
        );
        // An exact number no float holds stays exact, so it differs from every float.
        assert_eq!(
            cast(Value::Number(9_007_199_254_740_993, 0), CompareAs::Float64),
            Value::Number(9_007_199_254_740_993, 0)
        );
        assert_eq!(
            cast(Value::Number(1, 1), CompareAs::Float64),
            Value::Float(0.1)
        );
        assert_eq!(
            Step::Integral.apply(Value::Number(1200, 2)),
            Value::Number(12, 0)
        );
        assert!(matches!(
            Step::Integral.apply(Value::Number(1250, 2)),
            Value::Unparseable(_)
        ));
        assert_eq!(
            Step::Integral.apply(Value::Number(-7, 0)),
            Value::Number(-7, 0)
        );
        assert_eq!(
            Step::Precision(3, 2).apply(Value::Number(-999, 2)),
            Value::Number(-999, 2)
        );
        assert!(matches!(
            Step::Precision(3, 2).apply(Value::Number(1000, 2)),
            Value::Unparseable(_)
        ));
        assert_eq!(
            Step::Precision(1, 0).apply(Value::Number(0, 0)),
            Value::Number(0, 0)
        );
    }

    #[test]
    fn declared_precision_counts_digits_at_the_declared_scale() {
        // decimal(4,2) holds 99.99 at most: 100 (scale 0) and 9999 do not fit.
        let fits = |m, s| {
            !matches!(
                Step::Precision(4, 2).apply(Value::Number(m, s)),
                Value::Unparseable(_)
            )
        };
        assert!(!fits(100, 0));
        assert!(!fits(9999, 0));
        assert!(fits(9999, 2));
        assert!(fits(-9999, 2));
        assert!(fits(995, 1));
        // Rounding near the top of i128 does not overflow.
        let huge = Value::Number(99_999_999_999_999_999_999_999_999_999_999_999_999, 38);
        assert_eq!(Step::Round(0).apply(huge), Value::Number(1, 0));
        assert!(!valid_timestamp_format("%Y-%m-%d %H:%M:%S %Z"));
    }

    #[test]
    fn time_steps_leave_infinite_instants_alone() {
        let (s, n) = text::TIMESTAMP_INFINITY;
        let infinite = |zoned| Value::Timestamp {
            seconds: s,
            nanos: n,
            zoned,
        };
        for step in [
            Step::Truncate(TimeUnit::Second),
            Step::RoundTime(TimeUnit::Millisecond),
        ] {
            assert_eq!(step.apply(infinite(true)), infinite(true));
        }
        let berlin = Step::Timezone("Europe/Berlin".parse().unwrap());
        assert_eq!(berlin.apply(infinite(false)), infinite(true));
        assert_eq!(
            Step::Date.apply(infinite(true)),
            Value::Date(text::DATE_INFINITY)
        );
    }

    #[test]
    fn nan_infinities_and_wide_decimals_keep_postgresql_meanings() {
        let wide = |w: WideNumber| Value::Wide(w);
        let big = |digits: usize| WideNumber::Big(format!("1{}", "0".repeat(digits)));
        assert_eq!(
            Step::Scale(100, 0).apply(wide(WideNumber::NaN)),
            wide(WideNumber::NaN)
        );
        assert_eq!(
            Step::Scale(-1, 0).apply(wide(WideNumber::Infinity)),
            wide(WideNumber::NegativeInfinity)
        );
        assert_eq!(
            Step::Round(2).apply(wide(WideNumber::Infinity)),
            wide(WideNumber::Infinity)
        );
        assert_eq!(
            Step::Integral.apply(wide(WideNumber::Infinity)),
            wide(WideNumber::Infinity)
        );
        assert_eq!(
            Step::Precision(38, 2).apply(wide(WideNumber::NaN)),
            wide(WideNumber::NaN)
        );
        assert!(matches!(
            Step::Round(0).apply(wide(big(40))),
            Value::Unparseable(_)
        ));
        assert_eq!(
            cast(Value::Text(Cow::Borrowed("-Infinity")), CompareAs::Number),
            wide(WideNumber::NegativeInfinity)
        );

        let t = Tolerance {
            abs: Some((5, 1)),
            rel: None,
        };
        assert!(t.equal(&wide(WideNumber::NaN), &wide(WideNumber::NaN)));
        assert!(!t.equal(
            &wide(WideNumber::Infinity),
            &wide(WideNumber::NegativeInfinity)
        ));
        assert!(!t.equal(&wide(WideNumber::Infinity), &Value::Number(1, 0)));
        assert!(!t.equal(&wide(WideNumber::NaN), &Value::Float(f64::NAN)));
        // Beyond 38 digits: within the tolerance exactly, never through a float that
        // cannot hold the digit where they differ.
        assert!(t.equal(&wide(big(400)), &wide(big(400))));
        assert!(!t.equal(&wide(big(400)), &wide(big(401))));
        let near = |last: &str| wide(WideNumber::Big(format!("1{}{last}", "0".repeat(43))));
        assert!(!t.equal(&near("0.5"), &near("1.5")));
        assert!(t.equal(&near("0.5"), &near("0.9")));
        let long = wide(WideNumber::Big(format!("0.{}", "1".repeat(45))));
        assert!(t.equal(&long, &Value::Number(1, 1)));
        assert!(!t.equal(&long, &Value::Number(7, 1)));
        // An infinity is within no relative tolerance of a finite value.
        let rel = Tolerance {
            abs: None,
            rel: Some(0.001),
        };
        assert!(!rel.equal(&Value::Float(f64::INFINITY), &Value::Float(1e300)));
        // Floats are within a tolerance as the decimals they print as.
        let tenth = Tolerance {
            abs: Some((1, 1)),
            rel: None,
        };
        assert!(tenth.equal(&Value::Float(1.0), &Value::Float(1.1)));
        assert!(tenth.equal(&Value::Float(-1.0), &Value::Float(-1.1)));
        assert!(!tenth.equal(&Value::Float(1.0), &Value::Float(1.1000001)));
        let widened = |x: f32| Value::Float(f64::from(x));
        assert!(tenth.equal_as(&widened(1.0), &widened(1.1), CompareAs::Float32));
        assert!(!tenth.equal_as(&widened(1.0), &widened(1.2), CompareAs::Float32));
        assert!(rel.equal(&Value::Float(f64::INFINITY), &Value::Float(f64::INFINITY)));
        // An exact number against a float: against the float's decimal, exactly.
        let cent = Tolerance {
            abs: Some((1, 2)),
            rel: None,
        };
        let wide_of_float = Value::Number(10_000_000_000_000_000_000_002, 2);
        assert!(!cent.equal(&wide_of_float, &Value::Float(1e20)));
        assert!(cent.equal(&Value::Number(1999, 2), &Value::Float(19.99)));
    }

    #[test]
    fn tolerance_is_inclusive_and_exact_for_decimals() {
        let t = Tolerance {
            abs: Some((5, 1)),
            rel: None,
        };
        assert!(t.equal(&Value::Number(100, 0), &Value::Number(1005, 1)));
        assert!(!t.equal(&Value::Number(100, 0), &Value::Number(10051, 2)));
        assert!(t.equal(&Value::Null, &Value::Null));
        assert!(!t.equal(&Value::Null, &Value::Number(0, 0)));
        let r = Tolerance {
            abs: None,
            rel: Some(0.01),
        };
        // Exactly on the relative bound, in decimals: equal (floats would say otherwise).
        for (a, b) in [(99, 100), (198, 200), (693, 700)] {
            assert!(
                r.equal(&Value::Number(a, 2), &Value::Number(b, 2)),
                "{a} {b}"
            );
        }
        assert!(!r.equal(&Value::Number(98, 2), &Value::Number(100, 2)));
        assert!(!r.equal(
            &Value::Unparseable(Cow::Borrowed("x")),
            &Value::Unparseable(Cow::Borrowed("x"))
        ));
        assert!(r.equal(&Value::Float(100.0), &Value::Float(101.0)));
        assert!(!r.equal(&Value::Float(100.0), &Value::Float(101.5)));
    }

    #[test]
    fn buckets_separate_values_outside_the_tolerance() {
        let t = Tolerance {
            abs: Some((5, 1)),
            rel: None,
        };
        for (a, b) in [
            (0i128, 6i128),
            (-3, 3),
            (99, 105),
            (1_000_000_000_000, 1_000_000_000_006),
        ] {
            let (va, vb) = (Value::Number(a, 1), Value::Number(b, 1));
            assert!(!t.equal(&va, &vb));
            assert_ne!(t.bucket(&va), t.bucket(&vb), "{a} {b}");
        }
    }
}
