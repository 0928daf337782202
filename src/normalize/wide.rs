//! Exact arithmetic on decimals too wide for 128 bits (PostgreSQL numeric allows
//! thousands of digits), just enough to decide whether two of them are within a
//! tolerance. It reads plain decimal text (as `text::big_decimal` and
//! `number::format_decimal` write it) and owns nothing else: no parsing of other
//! spellings, no encoding.

use std::cmp::Ordering;

/// A decimal: its sign, its digits as one integer (most significant first, no leading
/// zeros, empty for zero) and how many of them are after the point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WideDecimal {
    negative: bool,
    digits: Vec<u8>,
    scale: usize,
}

impl WideDecimal {
    /// Reads a plain decimal (`-12.50`, `+3`, `.5`); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let digits = trimmed(int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect());
        Some(WideDecimal {
            negative: negative && !digits.is_empty(),
            digits,
            scale: frac.len(),
        })
    }

    /// A 128-bit decimal (mantissa and scale, as `Value::Number` holds it).
    pub fn from_decimal(mantissa: i128, scale: i8) -> Self {
        let magnitude = trimmed(
            mantissa
                .unsigned_abs()
                .to_string()
                .bytes()
                .map(|b| b - b'0')
                .collect(),
        );
        // A negative scale is a whole number with zeros to append.
        let (digits, scale) = if scale < 0 {
            let mut digits = magnitude;
            if !digits.is_empty() {
                digits.extend(std::iter::repeat_n(0, scale.unsigned_abs() as usize));
            }
            (digits, 0)
        } else {
            (magnitude, scale as usize)
        };
        WideDecimal {
            negative: mantissa < 0,
            digits,
            scale,
        }
    }

    /// The magnitude as an integer at `scale` (at least the decimal's own).
    fn magnitude_at(&self, scale: usize) -> Vec<u8> {
        let mut digits = self.digits.clone();
        if !digits.is_empty() {
            digits.extend(std::iter::repeat_n(0, scale - self.scale));
        }
        digits
    }
}

/// Whether |a − b| ≤ `abs`, or |a − b| ≤ `rel` × max(|a|, |b|), decided exactly; a bound
/// not given never makes a pair equal.
pub fn within(
    a: &WideDecimal,
    b: &WideDecimal,
    abs: Option<&WideDecimal>,
    rel: Option<&WideDecimal>,
) -> bool {
    let scale = a.scale.max(b.scale);
    let (x, y) = (a.magnitude_at(scale), b.magnitude_at(scale));
    let difference = if a.negative == b.negative {
        match compare(&x, &y) {
            Ordering::Less => subtract(&y, &x),
            _ => subtract(&x, &y),
        }
    } else {
        add(&x, &y)
    };
    let within_abs = abs.is_some_and(|t| {
        let common = scale.max(t.scale);
        let difference = shifted(&difference, common - scale);
        compare(&difference, &t.magnitude_at(common)) != Ordering::Greater
    });
    // |a − b| ≤ (R / 10^r) × max  ⇔  |a − b| × 10^r ≤ R × max, all at `scale`.
    let within_rel = rel.is_some_and(|r| {
        let largest = if compare(&x, &y) == Ordering::Less {
            &y
        } else {
            &x
        };
        let lhs = shifted(&difference, r.scale);
        let rhs = multiply(&r.digits, largest);
        compare(&lhs, &rhs) != Ordering::Greater
    });
    within_abs || within_rel
}

/// `digits` without leading zeros.
fn trimmed(mut digits: Vec<u8>) -> Vec<u8> {
    let zeros = digits.iter().take_while(|d| **d == 0).count();
    digits.drain(..zeros);
    digits
}

/// `digits` × 10^`places`.
fn shifted(digits: &[u8], places: usize) -> Vec<u8> {
    let mut out = digits.to_vec();
    if !out.is_empty() {
        out.extend(std::iter::repeat_n(0, places));
    }
    out
}

/// Compares two magnitudes without leading zeros.
fn compare(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn add(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0u8);
    while i > 0 || j > 0 || carry > 0 {
        let mut sum = carry;
        if i > 0 {
            i -= 1;
            sum += a[i];
        }
        if j > 0 {
            j -= 1;
            sum += b[j];
        }
        out.push(sum % 10);
        carry = sum / 10;
    }
    out.reverse();
    trimmed(out)
}

/// `a` − `b` for `a` ≥ `b`.
fn subtract(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let (mut j, mut borrow) = (b.len(), 0i8);
    for i in (0..a.len()).rev() {
        let mut digit = a[i] as i8 - borrow;
        if j > 0 {
            j -= 1;
            digit -= b[j] as i8;
        }
        borrow = i8::from(digit < 0);
        out.push((digit + 10 * borrow) as u8);
    }
    out.reverse();
    trimmed(out)
}

fn multiply(a: &[u8], b: &[u8]) -> Vec<u8> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0u32; a.len() + b.len()];
    for (i, &x) in a.iter().enumerate().rev() {
        for (j, &y) in b.iter().enumerate().rev() {
            out[i + j + 1] += u32::from(x) * u32::from(y);
        }
    }
    for k in (1..out.len()).rev() {
        out[k - 1] += out[k] / 10;
        out[k] %= 10;
    }
    trimmed(out.into_iter().map(|d| d as u8).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn big(text: &str) -> WideDecimal {
        WideDecimal::parse(text).unwrap()
    }

    #[test]
    fn wide_decimals_are_within_a_tolerance_exactly() {
        let a = big("100000000000000000000000000000000000000000000.5");
        let b = big("100000000000000000000000000000000000000000001.5");
        assert!(!within(&a, &b, Some(&big("0.01")), None));
        assert!(within(&a, &b, Some(&big("1")), None));
        assert!(within(&a, &b, None, Some(&big("0.001"))));
        let long = big(&format!("0.{}", "1".repeat(45)));
        // 0.111… − 0.1 = 0.0111…
        let tenth = WideDecimal::from_decimal(1, 1);
        assert!(within(&long, &tenth, Some(&big("0.02")), None));
        assert!(!within(&long, &tenth, Some(&big("0.011")), None));
        assert!(within(&long, &tenth, Some(&big("0.0112")), None));
        // Opposite signs add up; zero has no sign.
        assert!(!within(&big("-0.5"), &big("0.5"), Some(&big("0.99")), None));
        assert!(within(&big("-0.5"), &big("0.5"), Some(&big("1")), None));
        assert!(!big("-0.000").negative);
        assert!(!within(&a, &b, None, None));
    }

    proptest! {
        /// Where 128 bits suffice, the wide arithmetic agrees with plain integers.
        #[test]
        fn agrees_with_i128(
            am in -10_000_000i64..10_000_000, as_ in 0i8..6,
            bm in -10_000_000i64..10_000_000, bs in 0i8..6,
            tm in 0i64..1_000_000, ts in 0i8..6,
            rm in 0i64..1_000, rs in 0i8..4,
        ) {
            let value = |m: i64, s: i8| m as f64 / 10f64.powi(i32::from(s));
            let (a, b) = (WideDecimal::from_decimal(am.into(), as_), WideDecimal::from_decimal(bm.into(), bs));
            // Exact reference: everything at scale 12 as integers.
            let at12 = |m: i64, s: i8| i128::from(m) * 10i128.pow(12 - s as u32);
            let difference = (at12(am, as_) - at12(bm, bs)).abs();
            let largest = at12(am, as_).abs().max(at12(bm, bs).abs());
            let abs_expected = difference <= at12(tm, ts);
            let rel_expected = difference * 10i128.pow(rs as u32) <= i128::from(rm) * largest;
            let t = WideDecimal::from_decimal(tm.into(), ts);
            let r = WideDecimal::from_decimal(rm.into(), rs);
            prop_assert_eq!(within(&a, &b, Some(&t), None), abs_expected, "{} {} {}", value(am, as_), value(bm, bs), value(tm, ts));
            prop_assert_eq!(within(&a, &b, None, Some(&r)), rel_expected);
        }
    }
}
