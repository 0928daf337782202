//! Strict parsers from text to typed values (decimals, wide numbers, booleans, dates,
//! timestamps), the calendar arithmetic they share with formatting, and the infinity
//! markers of dates and timestamps. Used wherever text is read as a type: a text column
//! (CSV, PostgreSQL numeric) compared with a typed one, casts of mapped values, job-file
//! tolerances. They accept one canonical spelling per type and nothing else: any
//! leniency (trimming, other spellings) is a normalizer the user asks for, never a default.

/// Parses a decimal (`-12.50`, `+3`, `.5`, `7.`, also with an exponent as Python's
/// `Decimal`, Java's `BigDecimal` and Spark write them: `0E-8`, `1.5E+3`) into a mantissa
/// and a scale of at least 0. Spaces, thousands separators and more than 38 digits are
/// refused.
pub fn parse_decimal(text: &[u8]) -> Option<(i128, i8)> {
    let (negative, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let mut mantissa: i128 = 0;
    let mut scale: i32 = 0;
    let mut seen_digit = false;
    let mut seen_point = false;
    let mut count = 0;
    let mut exponent = None;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                seen_digit = true;
                if count > 0 || b != b'0' {
                    count += 1;
                }
                if count > 38 {
                    return None;
                }
                mantissa = mantissa * 10 + i128::from(b - b'0');
                if seen_point {
                    scale += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            b'e' | b'E' if seen_digit => {
                exponent = Some(parse_exponent(&digits[i + 1..])?);
                break;
            }
            _ => return None,
        }
    }
    if !seen_digit {
        return None;
    }
    if let Some(exponent) = exponent {
        scale -= exponent;
        if mantissa == 0 {
            // 0E+9999 is 0.
            scale = scale.max(0);
        }
        // A scale of at least 0: 1.5E+3 is 1500.
        while scale < 0 {
            if mantissa != 0 {
                count += 1;
                if count > 38 {
                    return None;
                }
            }
            mantissa *= 10;
            scale += 1;
        }
    }
    if scale > i32::from(i8::MAX) {
        return None;
    }
    Some((if negative { -mantissa } else { mantissa }, scale as i8))
}

/// The exponent after an `E`: an optional sign and at most four digits.
fn parse_exponent(text: &[u8]) -> Option<i32> {
    let (negative, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 4 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits
        .iter()
        .fold(0i32, |v, &d| v * 10 + i32::from(d - b'0'));
    Some(if negative { -value } else { value })
}

/// The canonical text of a plain decimal too long for 128 bits (PostgreSQL numeric allows
/// thousands of digits): no sign for zero or plus, no leading zeros, no trailing
/// fractional zeros. `None` when the text is not a plain decimal.
pub fn big_decimal(text: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(text).ok()?;
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    if int.is_empty() && frac.is_empty() {
        return Some("0".into());
    }
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

/// A number too wide for a 128-bit decimal: PostgreSQL numeric's NaN and infinities, or
/// a decimal of more than 38 significant digits, held as its canonical text (see
/// [`big_decimal`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WideNumber {
    /// Not a number; equal only to itself, as in PostgreSQL.
    NaN,
    /// +Infinity.
    Infinity,
    /// -Infinity.
    NegativeInfinity,
    /// A plain decimal beyond 38 digits.
    Big(String),
}

impl WideNumber {
    /// The value as PostgreSQL writes it.
    pub fn text(&self) -> &str {
        match self {
            WideNumber::NaN => "NaN",
            WideNumber::Infinity => "Infinity",
            WideNumber::NegativeInfinity => "-Infinity",
            WideNumber::Big(text) => text,
        }
    }

    /// The nearest float: NaN and ±∞ for the special values, and for a decimal too
    /// large for a float.
    pub fn to_f64(&self) -> f64 {
        match self {
            WideNumber::NaN => f64::NAN,
            WideNumber::Infinity => f64::INFINITY,
            WideNumber::NegativeInfinity => f64::NEG_INFINITY,
            WideNumber::Big(text) => text.parse().unwrap_or(f64::NAN),
        }
    }
}

/// A number read from text: every value PostgreSQL's numeric can hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Number {
    /// Mantissa and scale.
    Decimal(i128, i8),
    /// NaN, ±Infinity or more than 38 digits.
    Wide(WideNumber),
}

/// Reads a plain decimal of any length, `NaN`, `Infinity` or `-Infinity` (PostgreSQL's
/// spellings); `None` for anything else.
pub fn parse_number(text: &[u8]) -> Option<Number> {
    if let Some((m, s)) = parse_decimal(text) {
        return Some(Number::Decimal(m, s));
    }
    Some(Number::Wide(match text {
        b"NaN" => WideNumber::NaN,
        b"Infinity" => WideNumber::Infinity,
        b"-Infinity" => WideNumber::NegativeInfinity,
        _ => {
            let big = big_decimal(text)?;
            // Zeros past 38 digits ("1.000…0" at a wide scale) still leave a number that
            // fits: it must encode like the same number written short.
            if let Some((m, s)) = parse_decimal(big.as_bytes()) {
                return Some(Number::Decimal(m, s));
            }
            WideNumber::Big(big)
        }
    }))
}

/// Parses `true` / `false` and `t` / `f` (how PostgreSQL writes a boolean in text and
/// CSV), in any letter case. Other spellings (1/0, yes/no) need a `bool` normalizer, so
/// a column of counts is never silently read as flags.
pub fn parse_bool(text: &[u8]) -> Option<bool> {
    if text.eq_ignore_ascii_case(b"true") || text.eq_ignore_ascii_case(b"t") {
        Some(true)
    } else if text.eq_ignore_ascii_case(b"false") || text.eq_ignore_ascii_case(b"f") {
        Some(false)
    } else {
        None
    }
}

/// PostgreSQL's `infinity` and `-infinity` dates: the extremes of the day count, as the
/// PostgreSQL source reads them.
pub const DATE_INFINITY: i32 = i32::MAX;
/// See [`DATE_INFINITY`].
pub const DATE_NEG_INFINITY: i32 = i32::MIN;
/// PostgreSQL's `infinity` and `-infinity` timestamps: the extremes of 64-bit
/// microseconds, as the PostgreSQL source reads them, in seconds and nanoseconds.
pub const TIMESTAMP_INFINITY: (i64, u32) = (
    i64::MAX.div_euclid(1_000_000),
    (i64::MAX.rem_euclid(1_000_000) * 1_000) as u32,
);
/// See [`TIMESTAMP_INFINITY`].
pub const TIMESTAMP_NEG_INFINITY: (i64, u32) = (
    i64::MIN.div_euclid(1_000_000),
    (i64::MIN.rem_euclid(1_000_000) * 1_000) as u32,
);

/// Whether an instant is PostgreSQL's `infinity` or `-infinity`: time steps leave it be.
pub fn is_infinite_time(seconds: i64, nanos: u32) -> bool {
    (seconds, nanos) == TIMESTAMP_INFINITY || (seconds, nanos) == TIMESTAMP_NEG_INFINITY
}

/// Splits PostgreSQL's era suffix off: `0044-03-15 BC` is the year -43.
fn strip_bc(text: &[u8]) -> (&[u8], bool) {
    match text.strip_suffix(b" BC") {
        Some(rest) => (rest, true),
        None => (text, false),
    }
}

/// Parses `YYYY-MM-DD` into days since 1970-01-01; also `infinity`, `-infinity` and a
/// ` BC` suffix, as PostgreSQL writes them.
pub fn parse_date(text: &[u8]) -> Option<i32> {
    match text {
        b"infinity" => return Some(DATE_INFINITY),
        b"-infinity" => return Some(DATE_NEG_INFINITY),
        _ => {}
    }
    let (text, bc) = strip_bc(text);
    parse_ymd(text, bc)
}

/// The length of the `Y…Y-MM-DD` at the start of `text`: a year of four to seven digits
/// (PostgreSQL dates reach the year 5874897).
fn date_len(text: &[u8]) -> Option<usize> {
    let year = text
        .iter()
        .take(8)
        .take_while(|b| b.is_ascii_digit())
        .count();
    ((4..=7).contains(&year) && text.get(year) == Some(&b'-') && text.get(year + 3) == Some(&b'-'))
        .then_some(year + 6)
        .filter(|&len| len <= text.len())
}

fn parse_ymd(text: &[u8], bc: bool) -> Option<i32> {
    let year_digits = date_len(text).filter(|&len| len == text.len())? - 6;
    let year = digits(&text[..year_digits])? as i64;
    // There is no year 0 before Christ: 1 BC is the year 0.
    let year = if bc { 1 - year } else { year };
    let month = digits(&text[year_digits + 1..year_digits + 3])? as u32;
    let day = digits(&text[year_digits + 4..])? as u32;
    days_from_civil_checked(year, month, day)
        .and_then(|d| i32::try_from(d).ok())
        // The extremes stand for infinity.
        .filter(|&d| d != DATE_INFINITY && d != DATE_NEG_INFINITY)
}

/// Parses an ISO 8601 timestamp: `YYYY-MM-DD[T or space]HH:MM[:SS[.fraction]]`, then an
/// optional `Z` or UTC offset (`+02:00`, `+0200`, `+02`). Returns seconds and nanoseconds
/// since the epoch in UTC; text without an offset is read as UTC.
pub fn parse_timestamp(text: &[u8]) -> Option<(i64, u32)> {
    parse_timestamp_zoned(text).map(|(s, n, _)| (s, n))
}

/// Like [`parse_timestamp`], also telling whether the text carried a zone (`Z` or an
/// offset), i.e. names an instant rather than a wall-clock time.
pub fn parse_timestamp_zoned(text: &[u8]) -> Option<(i64, u32, bool)> {
    // Infinities are instants, left alone by time-zone steps.
    match text {
        b"infinity" => return Some((TIMESTAMP_INFINITY.0, TIMESTAMP_INFINITY.1, true)),
        b"-infinity" => {
            return Some((TIMESTAMP_NEG_INFINITY.0, TIMESTAMP_NEG_INFINITY.1, true));
        }
        _ => {}
    }
    let (text, bc) = strip_bc(text);
    let date = date_len(text)?;
    if text.len() < date + 6 || !matches!(text[date], b'T' | b't' | b' ') {
        return None;
    }
    let days = parse_ymd(&text[..date], bc)? as i64;
    let rest = &text[date + 1..];
    if rest.len() < 5 || rest[2] != b':' {
        return None;
    }
    let hour = digits(&rest[0..2])? as i64;
    let minute = digits(&rest[3..5])? as i64;
    let mut i = 5;
    let mut second = 0i64;
    let mut nanos = 0u32;
    if rest.get(i) == Some(&b':') {
        second = digits(rest.get(i + 1..i + 3)?)? as i64;
        i += 3;
        if rest.get(i) == Some(&b'.') || rest.get(i) == Some(&b',') {
            i += 1;
            let start = i;
            while i < rest.len() && rest[i].is_ascii_digit() {
                i += 1;
            }
            let fraction = &rest[start..i];
            if fraction.is_empty() || fraction.len() > 9 {
                return None;
            }
            nanos = digits(fraction)? as u32 * 10u32.pow(9 - fraction.len() as u32);
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let zoned = !rest[i..].is_empty();
    let offset_seconds = match &rest[i..] {
        [] => 0,
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (h, m) = match tail {
                [a, b] => (digits(&[*a, *b])?, 0),
                [a, b, b':', c, d] => (digits(&[*a, *b])?, digits(&[*c, *d])?),
                [a, b, c, d] => (digits(&[*a, *b])?, digits(&[*c, *d])?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let magnitude = (h * 3600 + m * 60) as i64;
            if *sign == b'+' { magnitude } else { -magnitude }
        }
        _ => return None,
    };
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    // Only instants strictly inside 64-bit microseconds: the extremes stand for infinity,
    // and a real timestamp must never read as one.
    let micros = i128::from(seconds) * 1_000_000 + i128::from(nanos / 1_000);
    (micros > i128::from(i64::MIN) && micros < i128::from(i64::MAX))
        .then_some((seconds, nanos, zoned))
}

fn digits(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 18 {
        return None;
    }
    let mut value = 0u64;
    for &b in text {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(b - b'0');
    }
    Some(value)
}

/// Days since 1970-01-01 of a valid calendar date.
pub fn days_from_civil_checked(year: i64, month: u32, day: u32) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// The two calendar conversions follow Howard Hinnant's public-domain algorithms.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar date (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal(b"12.50"), Some((1250, 2)));
        assert_eq!(parse_decimal(b"-0.5"), Some((-5, 1)));
        assert_eq!(parse_decimal(b"+7"), Some((7, 0)));
        assert_eq!(parse_decimal(b".5"), Some((5, 1)));
        assert_eq!(parse_decimal(b"7."), Some((7, 0)));
        assert_eq!(parse_decimal(b"0E-8"), Some((0, 8)));
        assert_eq!(parse_decimal(b"1.5E+3"), Some((1500, 0)));
        assert_eq!(parse_decimal(b"-2.50e-1"), Some((-250, 3)));
        assert_eq!(parse_decimal(b"5e0"), Some((5, 0)));
        assert_eq!(parse_decimal(b"1E+38"), None);
        for bad in [&b"1E"[..], b"E5", b"1E+", b"1.5E+3.2", b"1E5E5", b"1e99999"] {
            assert_eq!(parse_decimal(bad), None, "{:?}", std::str::from_utf8(bad));
        }
        for bad in [
            &b""[..],
            b"-",
            b".",
            b" 1",
            b"1 ",
            b"1,000",
            b"1.2.3",
            b"abc",
        ] {
            assert_eq!(
                parse_decimal(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(parse_decimal(&[b'9'; 38]).is_some());
        assert!(parse_decimal(&[b'9'; 39]).is_none());
        assert!(parse_decimal(format!("0000{}", "9".repeat(38)).as_bytes()).is_some());
    }

    #[test]
    fn dates_and_timestamps_read_postgresql_infinities_and_eras() {
        assert_eq!(parse_date(b"infinity"), Some(DATE_INFINITY));
        assert_eq!(parse_date(b"-infinity"), Some(DATE_NEG_INFINITY));
        // 1 BC is the year 0, 44 BC the year -43.
        assert_eq!(
            parse_date(b"0001-01-01 BC"),
            Some(days_from_civil_checked(0, 1, 1).unwrap() as i32)
        );
        assert_eq!(
            parse_date(b"0044-03-15 BC"),
            Some(days_from_civil_checked(-43, 3, 15).unwrap() as i32)
        );
        assert_eq!(
            parse_timestamp(b"0044-03-15 12:00:00+01 BC"),
            Some((
                days_from_civil_checked(-43, 3, 15).unwrap() * 86_400 + 11 * 3_600,
                0
            ))
        );
        assert_eq!(parse_timestamp(b"infinity"), Some(TIMESTAMP_INFINITY));
        assert_eq!(parse_date(b"Infinity"), None);
        // Years past 9999, as PostgreSQL writes them.
        assert_eq!(
            parse_date(b"10000-01-01"),
            Some(days_from_civil_checked(10_000, 1, 1).unwrap() as i32)
        );
        assert_eq!(
            parse_timestamp(b"10000-01-01 00:00:00+00"),
            Some((days_from_civil_checked(10_000, 1, 1).unwrap() * 86_400, 0))
        );
        assert!(parse_date(b"5874897-12-31").is_some());
        // The instant recon's infinity stands on is not a timestamp text can name.
        assert_eq!(parse_timestamp(b"294247-01-10T04:00:54.775807Z"), None);
        assert!(parse_timestamp(b"294247-01-10T04:00:54.775806Z").is_some());
        assert_eq!(parse_date(b"12345678-01-01"), None);
        assert_eq!(parse_date(b"202-01-01"), None);
    }

    #[test]
    fn numbers_of_any_width_read_as_postgresql_writes_them() {
        assert_eq!(parse_number(b"12.50"), Some(Number::Decimal(1250, 2)));
        assert_eq!(parse_number(b"NaN"), Some(Number::Wide(WideNumber::NaN)));
        assert_eq!(
            parse_number(b"-Infinity"),
            Some(Number::Wide(WideNumber::NegativeInfinity))
        );
        assert_eq!(parse_number(b"nan"), None);
        let wide_zeros = format!("1.{}", "0".repeat(45));
        assert_eq!(
            parse_number(wide_zeros.as_bytes()),
            Some(Number::Decimal(1, 0))
        );
        let big = format!("-{}.5", "9".repeat(45));
        assert_eq!(
            parse_number(big.as_bytes()),
            Some(Number::Wide(WideNumber::Big(big.clone())))
        );
        assert_eq!(WideNumber::Big(big).to_f64(), -1e45);
        assert_eq!(parse_number(b"1x5"), None);
    }

    #[test]
    fn big_decimals_have_one_spelling() {
        let big = "123456789012345678901234567890123456789012345.5";
        assert_eq!(
            big_decimal(format!("+000{big}000").as_bytes()).unwrap(),
            big
        );
        assert_eq!(big_decimal(b"-0.000").unwrap(), "0");
        assert_eq!(big_decimal(b"-.50").unwrap(), "-0.5");
        assert_eq!(big_decimal(b"1e5"), None);
        assert_eq!(big_decimal(b"."), None);
    }

    #[test]
    fn booleans_are_strict() {
        assert_eq!(parse_bool(b"TRUE"), Some(true));
        assert_eq!(parse_bool(b"false"), Some(false));
        assert_eq!(parse_bool(b"1"), None);
        assert_eq!(parse_bool(b"yes"), None);
        assert_eq!(parse_bool(b"t"), Some(true));
        assert_eq!(parse_bool(b"f"), Some(false));
        assert_eq!(parse_bool(b"T"), Some(true));
        assert_eq!(parse_bool(b"F"), Some(false));
    }

    #[test]
    fn dates_round_trip_through_the_calendar() {
        assert_eq!(parse_date(b"1970-01-01"), Some(0));
        assert_eq!(parse_date(b"2000-03-01"), Some(11017));
        assert_eq!(parse_date(b"1969-12-31"), Some(-1));
        assert_eq!(parse_date(b"2024-02-29"), Some(19782));
        assert_eq!(parse_date(b"2023-02-29"), None);
        assert_eq!(parse_date(b"2023-13-01"), None);
        assert_eq!(parse_date(b"2023-1-01"), None);
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil_checked(y, m, d), Some(days));
        }
    }

    #[test]
    fn timestamps_with_and_without_offsets() {
        let utc = parse_timestamp(b"2024-01-05T10:00:00Z").unwrap();
        assert_eq!(utc, (1_704_448_800, 0));
        assert_eq!(parse_timestamp(b"2024-01-05 10:00:00"), Some(utc));
        assert_eq!(parse_timestamp(b"2024-01-05T11:30:00+01:30"), Some(utc));
        assert_eq!(parse_timestamp(b"2024-01-05T05:00:00-0500"), Some(utc));
        assert_eq!(parse_timestamp(b"2024-01-05T12:00:00+02"), Some(utc));
        assert_eq!(parse_timestamp(b"2024-01-05T10:00"), Some(utc));
        assert_eq!(
            parse_timestamp(b"2024-01-05T10:00:00.123456789Z"),
            Some((1_704_448_800, 123_456_789))
        );
        assert_eq!(
            parse_timestamp(b"2024-01-05T10:00:00.5"),
            Some((1_704_448_800, 500_000_000))
        );
        for bad in [
            &b"2024-01-05"[..],
            b"2024-01-05T25:00:00",
            b"2024-01-05T10:00:00.",
            b"2024-01-05T10:00:00.1234567890",
            b"2024-01-05T10:00:00 UTC",
            b"2024-01-05X10:00:00",
        ] {
            assert_eq!(
                parse_timestamp(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
