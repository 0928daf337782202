//! PostgreSQL's binary `numeric` written out as the server's own text (`numeric_out`): the
//! exact digits, the display scale's zeros, `NaN` and `±Infinity`. It does not decide how
//! the text compares: the source marks the column as exact numbers held as text.

/// Writes a binary `numeric` (`numeric_send`: digit count, weight, sign and display
/// scale, then base-10000 digits) as `numeric_out` would: the same digits, the display
/// scale's zeros, `NaN` and `±Infinity`. `None` for bytes that are not such a value.
pub(super) fn numeric_text(wire: &[u8], out: &mut Vec<u8>) -> Option<()> {
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
}
