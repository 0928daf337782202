//! The [`Value`] a stored value becomes where values are read one at a time (mapped
//! columns through their steps, exact numbers held as text against floats, the
//! drill-down), the [`CompareAs`] types values are compared as, and how a value is
//! written for people: decimals at their scale, dates and instants as PostgreSQL writes
//! them (BC years, infinity), bytes in hex. It decides no equality and encodes nothing.

use std::borrow::Cow;
use std::fmt;

use super::number::format_decimal;
use super::text::{self, WideNumber};

/// The type two columns are compared as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareAs {
    /// Exact bytes of UTF-8 text.
    Text,
    /// Exact decimal value (integers and decimals of any scale).
    Number,
    /// 64-bit floating point value.
    Float64,
    /// 32-bit floating point value.
    Float32,
    /// `true` / `false`.
    Bool,
    /// Calendar date.
    Date,
    /// Instant, to the nanosecond.
    Timestamp,
    /// Raw bytes.
    Binary,
}

impl fmt::Display for CompareAs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompareAs::Text => "text",
            CompareAs::Number => "number",
            CompareAs::Float64 => "float64",
            CompareAs::Float32 => "float32",
            CompareAs::Bool => "bool",
            CompareAs::Date => "date",
            CompareAs::Timestamp => "timestamp",
            CompareAs::Binary => "binary",
        })
    }
}

/// One value on its way to the canonical encoding.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// NULL.
    Null,
    /// Text.
    Text(Cow<'a, str>),
    /// Raw bytes.
    Bytes(&'a [u8]),
    /// Exact decimal: mantissa and scale.
    Number(i128, i8),
    /// NaN, ±Infinity, or a decimal of more than 38 digits (PostgreSQL numeric).
    Wide(WideNumber),
    /// Floating point.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// Days since 1970-01-01.
    Date(i32),
    /// Seconds and nanoseconds since the epoch; `zoned` when it names an instant (it came
    /// with a zone), not a wall-clock time.
    Timestamp {
        /// Seconds since the epoch.
        seconds: i64,
        /// Nanoseconds within the second.
        nanos: u32,
        /// Whether the value is an instant.
        zoned: bool,
    },
    /// Text that could not be read as what a step or the comparison type needs.
    Unparseable(Cow<'a, str>),
}

/// Displays a value after normalization, `None` for NULL.
pub fn display_value(value: &Value<'_>) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::Text(t) | Value::Unparseable(t) => t.to_string(),
        Value::Bytes(b) => hex(b),
        Value::Number(m, s) => format_decimal(*m, *s),
        Value::Wide(w) => w.text().to_string(),
        Value::Float(v) => v.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => format_date(i64::from(*d)),
        Value::Timestamp {
            seconds,
            nanos,
            zoned,
        } => format_timestamp(*seconds, *nanos, *zoned),
    })
}

/// Formats days since the epoch as `YYYY-MM-DD`.
pub fn format_date(days: i64) -> String {
    if days == i64::from(text::DATE_INFINITY) {
        return "infinity".into();
    }
    if days == i64::from(text::DATE_NEG_INFINITY) {
        return "-infinity".into();
    }
    let (date, bc) = calendar_date(days);
    if bc { format!("{date} BC") } else { date }
}

/// `YYYY-MM-DD` of a day, and whether it is before Christ: then the year is written as
/// PostgreSQL writes it (44 BC, the astronomical year -43, is `0044-… BC`).
fn calendar_date(days: i64) -> (String, bool) {
    let (y, m, d) = text::civil_from_days(days);
    if y <= 0 {
        (format!("{:04}-{m:02}-{d:02}", 1 - y), true)
    } else {
        (format!("{y:04}-{m:02}-{d:02}"), false)
    }
}

/// Formats an instant as ISO 8601, with `Z` for time-zone-aware values.
pub fn format_timestamp(seconds: i64, nanos: u32, zoned: bool) -> String {
    if (seconds, nanos) == text::TIMESTAMP_INFINITY {
        return "infinity".into();
    }
    if (seconds, nanos) == text::TIMESTAMP_NEG_INFINITY {
        return "-infinity".into();
    }
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (date, bc) = calendar_date(days);
    let mut s = format!(
        "{date}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    if zoned {
        s.push('Z');
    }
    if bc {
        s.push_str(" BC");
    }
    s
}

/// Bytes as `0x` and two hex digits each.
pub(super) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_before_christ_and_infinities_read_back_as_written() {
        let bc = text::days_from_civil_checked(-43, 3, 15).unwrap();
        assert_eq!(format_date(bc), "0044-03-15 BC");
        assert_eq!(
            format_timestamp(bc * 86_400 + 45_000, 0, true),
            "0044-03-15T12:30:00Z BC"
        );
        for text in [
            "0044-03-15 BC",
            "0001-01-01 BC",
            "0001-01-01",
            "infinity",
            "-infinity",
        ] {
            let days = text::parse_date(text.as_bytes()).unwrap();
            assert_eq!(format_date(i64::from(days)), text);
        }
    }

    #[test]
    fn timestamp_formatting() {
        assert_eq!(
            format_timestamp(-1, 500_000_000, false),
            "1969-12-31T23:59:59.5"
        );
    }
}
