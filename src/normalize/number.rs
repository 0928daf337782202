//! Exact decimals of up to 38 digits (a mantissa and a scale) and where they meet floats:
//! the canonical form of a decimal, rounding and rescaling, exact "within" arithmetic for
//! tolerances, the shortest decimal a float prints as, the rule for when an exact number
//! equals a float, and how a decimal is written. It holds no values and encodes nothing;
//! wider decimals are `wide`'s, parsing text is `text`'s.

use super::text::{self, WideNumber};

/// The canonical (mantissa, scale) of a decimal: no negative scale, no trailing
/// fractional zeros, zero at scale 0.
#[inline(always)]
pub(super) fn normalize_number(mut mantissa: i128, mut scale: i8) -> (i128, i8) {
    while scale < 0 {
        match mantissa.checked_mul(10) {
            Some(m) => {
                mantissa = m;
                scale += 1;
            }
            None => break,
        }
    }
    if mantissa == 0 {
        return (0, 0);
    }
    if scale > 0 {
        // i128 division is slow; most mantissas fit in i64.
        if let Ok(mut small) = i64::try_from(mantissa) {
            while scale > 0 && small % 10 == 0 {
                small /= 10;
                scale -= 1;
            }
            mantissa = i128::from(small);
        } else {
            while scale > 0 && mantissa % 10 == 0 {
                mantissa /= 10;
                scale -= 1;
            }
        }
    }
    (mantissa, scale)
}

/// 10^n for n ≤ 38, from a table (this runs per value).
#[inline(always)]
pub(super) fn pow10(n: u32) -> Option<u128> {
    const TABLE: [u128; 39] = {
        let mut t = [1u128; 39];
        let mut i = 1;
        while i < 39 {
            t[i] = t[i - 1] * 10;
            i += 1;
        }
        t
    };
    TABLE.get(n as usize).copied()
}

/// The mantissa of `m` (at scale `from`) at the larger scale `to`; `None` when it does
/// not fit or `to` is smaller.
#[inline(always)]
pub(super) fn rescale(m: i128, from: i8, to: i8) -> Option<i128> {
    match to.checked_sub(from)? {
        0 => Some(m),
        d if d > 0 => m.checked_mul(i128::try_from(pow10(d as u32)?).ok()?),
        _ => None,
    }
}

/// Rounds a decimal to `places` decimals, halves away from zero.
pub fn round_decimal(m: i128, s: i8, places: i8) -> (i128, i8) {
    if s <= places {
        return (m, s);
    }
    let drop = (s - places) as u32;
    let Some(divisor) = 10i128.checked_pow(drop) else {
        return (0, places);
    };
    let quotient = m / divisor;
    let remainder = (m % divisor).abs();
    // At least half: remainder ≥ divisor − remainder (no overflow, unlike remainder * 2).
    let rounded = if remainder >= divisor - remainder {
        quotient + m.signum()
    } else {
        quotient
    };
    (rounded, places)
}

/// |a − b| ≤ t in exact decimal arithmetic; `None` when it does not fit in i128.
pub(super) fn exact_within(am: i128, as_: i8, bm: i128, bs: i8, tm: i128, ts: i8) -> Option<bool> {
    let scale = as_.max(bs).max(ts);
    let a = rescale(am, as_, scale)?;
    let b = rescale(bm, bs, scale)?;
    let t = rescale(tm, ts, scale)?;
    Some(a.checked_sub(b)?.checked_abs()? <= t)
}

/// |a − b| ≤ rel × max(|a|, |b|) in exact decimal arithmetic (rel read from its shortest
/// decimal form); `None` when it does not fit in i128.
pub(super) fn exact_rel_within(am: i128, as_: i8, bm: i128, bs: i8, rel: f64) -> Option<bool> {
    let (rm, rs) = text::parse_decimal(format!("{rel}").as_bytes())?;
    let scale = as_.max(bs);
    let a = rescale(am, as_, scale)?;
    let b = rescale(bm, bs, scale)?;
    let diff = a.checked_sub(b)?.checked_abs()?;
    let largest = a.checked_abs()?.max(b.checked_abs()?);
    // diff ≤ (rm / 10^rs) × largest  ⇔  diff × 10^rs ≤ rm × largest
    let lhs = diff.checked_mul(i128::try_from(pow10(rs.max(0) as u32)?).ok()?)?;
    let rhs = rm.checked_mul(largest)?;
    Some(lhs <= rhs)
}

/// The decimal a float prints as (shortest round trip; as a float32 when `float32`), when
/// it has at most 38 digits.
pub(super) fn shortest_decimal(x: f64, float32: bool) -> Option<(i128, i8)> {
    if !x.is_finite() {
        return None;
    }
    let printed = if float32 {
        (x as f32).to_string()
    } else {
        x.to_string()
    };
    text::parse_decimal(printed.as_bytes())
}

/// A decimal as the nearest float the same way everywhere (digest slots, tolerances).
pub(super) fn decimal_to_f64(mantissa: i128, scale: i8) -> f64 {
    if scale >= 0 {
        mantissa as f64 / 10f64.powi(i32::from(scale))
    } else {
        mantissa as f64 * 10f64.powi(-i32::from(scale))
    }
}

/// The float an exact number equals when compared with floats: the float whose shortest
/// decimal is that number (0.1, 2.5, any integer up to 2^53). `None` when no float is:
/// the nearest one would drop digits (9007199254740993 becomes …992, 12345678901234567.89
/// becomes …568), so it must not equal any float — that is a real loss of data.
pub(super) fn exact_as_float(mantissa: i128, scale: i8) -> Option<f64> {
    let (mantissa, scale) = normalize_number(mantissa, scale);
    // Up to 15 significant digits always survive the round trip (DBL_DIG), and for
    // these decimal_to_f64 rounds once, to the nearest float.
    if mantissa.unsigned_abs() < 1_000_000_000_000_000 && (0..=22).contains(&scale) {
        return Some(decimal_to_f64(mantissa, scale));
    }
    let nearest: f64 = format_decimal(mantissa, scale).parse().ok()?;
    // An integer the float holds exactly is that float, however long its shortest
    // decimal is shorter (2^60, i64::MIN).
    if scale == 0 && nearest.is_finite() && nearest as i128 == mantissa {
        return Some(nearest);
    }
    let back = text::parse_decimal(format!("{nearest}").as_bytes())?;
    (normalize_number(back.0, back.1) == (mantissa, scale)).then_some(nearest)
}

/// [`exact_as_float`] for NaN, the infinities and decimals beyond 38 digits: the float
/// that is exactly such a decimal (1e300 is), or none.
pub(super) fn wide_as_float(number: &WideNumber) -> Option<f64> {
    match number {
        WideNumber::NaN => Some(f64::NAN),
        WideNumber::Infinity => Some(f64::INFINITY),
        WideNumber::NegativeInfinity => Some(f64::NEG_INFINITY),
        WideNumber::Big(text) => {
            let nearest: f64 = text.parse().ok().filter(|x: &f64| x.is_finite())?;
            (text::big_decimal(nearest.to_string().as_bytes()).as_deref() == Some(text.as_str()))
                .then_some(nearest)
        }
    }
}

/// Formats a decimal mantissa at its scale, keeping the scale's digits (`12.50`).
pub fn format_decimal(mantissa: i128, scale: i8) -> String {
    if scale <= 0 {
        let mut s = mantissa.to_string();
        s.extend(std::iter::repeat_n('0', (-i32::from(scale)) as usize));
        return s;
    }
    let digits = mantissa.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = if digits.len() <= scale {
        format!("{}{}", "0".repeat(scale + 1 - digits.len()), digits)
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{}{int}.{frac}", if mantissa < 0 { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_numbers_equal_a_float_only_when_it_holds_them() {
        assert_eq!(exact_as_float(1, 1), Some(0.1));
        assert_eq!(exact_as_float(1999, 2), Some(19.99));
        assert_eq!(
            exact_as_float(9_007_199_254_740_992, 0),
            Some(9_007_199_254_740_992.0)
        );
        assert_eq!(exact_as_float(9_007_199_254_740_993, 0), None);
        assert_eq!(exact_as_float(1_234_567_890_123_456_789, 2), None);
        assert_eq!(exact_as_float(10_000_000_000_000_000_000_002, 2), None);
        assert_eq!(exact_as_float(12_345_678_901_234_567, 0), None);
        assert_eq!(exact_as_float(1, 30), Some(1e-30));
        // Integers a float holds exactly, however short the float's own decimal.
        assert_eq!(exact_as_float(1 << 60, 0), Some(2f64.powi(60)));
        assert_eq!(
            exact_as_float(i128::from(i64::MIN), 0),
            Some(i64::MIN as f64)
        );
        assert_eq!(
            wide_as_float(&WideNumber::Big(format!("1{}", "0".repeat(300)))),
            Some(1e300)
        );
        assert_eq!(
            wide_as_float(&WideNumber::Big(format!("1{}1", "0".repeat(299)))),
            None
        );
    }

    #[test]
    fn decimal_formatting() {
        assert_eq!(format_decimal(1250, 2), "12.50");
        assert_eq!(format_decimal(-5, 3), "-0.005");
        assert_eq!(format_decimal(12, -2), "1200");
    }
}
