//! Hints for columns that mismatch on (nearly) every row: a look at a few differing value
//! pairs for a systematic cause (letter case, whitespace, a scale factor, a time zone
//! shift, precision, NULL vs empty, re-spelled values). A hint is advice only; it never
//! changes a result.

use crate::normalize::text::{parse_decimal, parse_timestamp};

/// A share of compared rows from which a column counts as mismatching on nearly every row.
const NEARLY_ALL: f64 = 0.9;
/// A share of sampled pairs that must fit a cause before it is suggested.
const FITS: f64 = 0.8;

type Pair = (Option<String>, Option<String>);

/// A hint for a column with `mismatched` of `compared` rows differing, from sampled
/// differing pairs (source value, target value), or `None`.
pub fn hint(compared: u64, mismatched: u64, samples: &[Pair]) -> Option<String> {
    if compared < 3 || (mismatched as f64) < NEARLY_ALL * compared as f64 || samples.is_empty() {
        return None;
    }
    let fits = |test: &dyn Fn(&str, &str) -> bool| {
        let hits = samples
            .iter()
            .filter(|(a, b)| matches!((a, b), (Some(a), Some(b)) if test(a, b)))
            .count();
        hits as f64 >= FITS * samples.len() as f64
    };
    let null_vs_empty = samples
        .iter()
        .filter(|p| matches!(p, (None, Some(s)) | (Some(s), None) if s.trim().is_empty()))
        .count();
    if null_vs_empty as f64 >= FITS * samples.len() as f64 {
        return Some(
            "NULL on one side, empty text on the other — add null_values = [\"\"]?".into(),
        );
    }
    let null_vs_backslash_n = samples
        .iter()
        .filter(|p| matches!(p, (None, Some(s)) | (Some(s), None) if s == "\\N"))
        .count();
    if null_vs_backslash_n as f64 >= FITS * samples.len() as f64 {
        return Some(
            "NULL on one side, \\N on the other (PostgreSQL's text-format NULL) — add null_values = [\"\\\\N\"]?".into(),
        );
    }
    if fits(&|a, b| a.to_lowercase() == b.to_lowercase()) {
        return Some("every sampled value differs only in letter case — add `lower`?".into());
    }
    if fits(&|a, b| a.trim_end_matches(' ') == b.trim_end_matches(' ')) {
        return Some(
            "values differ only in trailing blanks (char(n) padding?) — add `rtrim`?".into(),
        );
    }
    if fits(&|a, b| collapse(a) == collapse(b)) {
        return Some("values differ only in surrounding or repeated whitespace — add `trim` (or `collapse_whitespace`)?".into());
    }
    if fits(&|a, b| collapse(&a.to_lowercase()) == collapse(&b.to_lowercase())) {
        return Some("values differ only in letter case and whitespace — add `trim` and `lower` (or `collapse_whitespace`)?".into());
    }
    if let Some(factor) = common_factor(samples) {
        return Some(format!(
            "target values are {factor} times the source values — add source_scale = {factor}?"
        ));
    }
    if let Some(seconds) = common_shift(samples) {
        let sign = if seconds < 0 { "-" } else { "+" };
        let (h, m) = (seconds.abs() / 3600, seconds.abs() % 3600 / 60);
        let shift = if m == 0 {
            format!("{sign}{h} h")
        } else {
            format!("{sign}{h} h {m} min")
        };
        return Some(format!(
            "target timestamps are {shift} from the source's — a time zone shift? set source_timezone (or target_timezone)"
        ));
    }
    if fits(&|a, b| {
        let (Some(x), Some(y)) = (parse_timestamp(a.as_bytes()), parse_timestamp(b.as_bytes()))
        else {
            return false;
        };
        x.0 == y.0 && x.1 != y.1
    }) {
        return Some(
            "timestamps differ only below the second — set precision = \"s\" or \"ms\"?".into(),
        );
    }
    if fits(&|a, b| match (to_f64(a), to_f64(b)) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * x.abs().max(y.abs()).max(1e-300),
        _ => false,
    }) {
        return Some("numbers differ only in the last digits — add a tolerance?".into());
    }
    // A consistent re-spelling: most source values always map to one target value.
    let mut seen: std::collections::BTreeMap<&str, std::collections::BTreeMap<&str, usize>> =
        Default::default();
    for (a, b) in samples {
        if let (Some(a), Some(b)) = (a, b) {
            *seen.entry(a).or_default().entry(b).or_default() += 1;
        }
    }
    let majority: Vec<(&str, &str, usize)> = seen
        .iter()
        .filter_map(|(a, targets)| {
            targets
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(b, n)| (*a, *b, *n))
        })
        .collect();
    let agreeing: usize = majority.iter().map(|(_, _, n)| n).sum();
    if !majority.is_empty()
        && majority.len() <= samples.len().div_ceil(2)
        && agreeing as f64 >= FITS * samples.len() as f64
    {
        if majority
            .iter()
            .all(|(_, b, _)| matches!(*b, "true" | "false"))
        {
            let spell = |v: &str| {
                majority
                    .iter()
                    .filter(|(_, b, _)| *b == v)
                    .map(|(a, _, _)| format!("{a:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Some(format!(
                "booleans are spelled differently — add source_normalize = [{{ bool = {{ true = [{}], false = [{}] }} }}]?",
                spell("true"),
                spell("false")
            ));
        }
        let (a, b, _) = majority[0];
        return Some(format!(
            "values are consistently re-spelled (e.g. {a:?} → {b:?}) — add a value_map?"
        ));
    }
    None
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn to_f64(s: &str) -> Option<f64> {
    let (m, scale) = parse_decimal(s.as_bytes())?;
    Some(m as f64 / 10f64.powi(i32::from(scale)))
}

fn common_factor(samples: &[Pair]) -> Option<String> {
    let ratios: Vec<f64> = samples
        .iter()
        .filter_map(|(a, b)| Some((to_f64(a.as_deref()?)?, to_f64(b.as_deref()?)?)))
        .filter(|(a, _)| *a != 0.0)
        .map(|(a, b)| b / a)
        .collect();
    if ratios.len() < samples.len().div_ceil(2) {
        return None;
    }
    for factor in [
        100.0,
        1000.0,
        10.0,
        0.01,
        0.001,
        0.1,
        1_000_000.0,
        0.000_001,
    ] {
        let close = ratios
            .iter()
            .filter(|r| ((*r / factor) - 1.0).abs() < 0.01)
            .count();
        if close as f64 >= FITS * ratios.len() as f64 {
            return Some(factor.to_string());
        }
    }
    None
}

/// A hint when nearly every key of the union is on one side only, from sampled keys
/// missing in the target and extra in it: keys that differ only in trailing blanks
/// (char(n) against varchar), surrounding whitespace or letter case.
pub fn key_hint(union: u64, one_sided: u64, keys: &[Vec<&[Option<String>]>; 2]) -> Option<String> {
    let [missing, extra] = keys;
    if union < 3
        || (one_sided as f64) < NEARLY_ALL * union as f64
        || missing.is_empty()
        || extra.is_empty()
    {
        return None;
    }
    let fits = |normalize: &dyn Fn(&str) -> String| {
        let spelled = |key: &&[Option<String>]| -> Vec<Option<String>> {
            key.iter()
                .map(|part| part.as_deref().map(normalize))
                .collect()
        };
        let extra: std::collections::HashSet<Vec<Option<String>>> =
            extra.iter().map(spelled).collect();
        let hits = missing
            .iter()
            .filter(|k| extra.contains(&spelled(k)))
            .count();
        hits as f64 >= FITS * missing.len() as f64
    };
    let cause = if fits(&|k| k.trim_end_matches(' ').to_string()) {
        "trailing blanks (char(n) padding?) — add `rtrim`"
    } else if fits(&|k| k.trim().to_string()) {
        "surrounding whitespace — add `trim`"
    } else if fits(&str::to_lowercase) {
        "letter case — add `lower`"
    } else {
        return None;
    };
    Some(format!(
        "nearly every key is on one side only, and the keys differ only in {cause} to the key column's normalizers in a job file?"
    ))
}

/// A constant shift in whole quarter hours (time zones), in seconds.
fn common_shift(samples: &[Pair]) -> Option<i64> {
    let shifts: Vec<i64> = samples
        .iter()
        .filter_map(|(a, b)| {
            let x = parse_timestamp(a.as_deref()?.as_bytes())?;
            let y = parse_timestamp(b.as_deref()?.as_bytes())?;
            Some(y.0 - x.0)
        })
        .collect();
    let first = *shifts.first()?;
    let same = shifts.iter().filter(|s| **s == first).count();
    (first != 0 && first % 900 == 0 && same as f64 >= FITS * samples.len() as f64).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<Pair> {
        v.iter()
            .map(|(a, b)| (Some(a.to_string()), Some(b.to_string())))
            .collect()
    }

    #[test]
    fn one_sided_keys_that_differ_only_in_blanks_get_a_hint() {
        let key = |k: &str| vec![Some(k.to_string())];
        let missing = [key("ab    "), key("cd    "), key("ef    ")];
        let extra = [key("ab"), key("cd"), key("ef")];
        let keys = [
            missing.iter().map(Vec::as_slice).collect(),
            extra.iter().map(Vec::as_slice).collect(),
        ];
        assert!(key_hint(6, 6, &keys).unwrap().contains("add `rtrim`"));
        // Not when most keys match.
        assert_eq!(key_hint(100, 6, &keys), None);
        let unrelated = [key("x"), key("y"), key("z")];
        let keys = [
            keys[0].clone(),
            unrelated.iter().map(Vec::as_slice).collect(),
        ];
        assert_eq!(key_hint(6, 6, &keys), None);
    }

    #[test]
    fn suggests_the_systematic_cause() {
        let h = |p: &[(&str, &str)]| hint(10, 10, &pairs(p)).unwrap_or_default();
        assert!(h(&[("Ann@X.com", "ann@x.com"), ("BOB", "bob")]).contains("lower"));
        assert!(h(&[(" a", "a"), ("b  ", "b")]).contains("trim"));
        assert!(h(&[("ab    ", "ab"), ("c   ", "c")]).contains("add `rtrim`"));
        assert!(
            hint(
                10,
                10,
                &[(None, Some("\\N".into())), (None, Some("\\N".into()))]
            )
            .unwrap_or_default()
            .contains(r#"null_values = ["\\N"]"#)
        );
        assert!(h(&[("12.50", "1250"), ("1.00", "100")]).contains("source_scale = 100"));
        assert!(
            h(&[
                ("2024-01-01T09:00:00", "2024-01-01T14:00:00Z"),
                ("2024-02-01T10:30:00", "2024-02-01T15:30:00Z")
            ])
            .contains("+5 h")
        );
        assert!(
            h(&[
                ("2024-01-01T09:00:00Z", "2024-01-01T14:30:00Z"),
                ("2024-02-01T10:30:00Z", "2024-02-01T16:00:00Z")
            ])
            .contains("+5 h 30 min")
        );
        assert!(
            h(&[
                ("A", "active"),
                ("S", "suspended"),
                ("A", "active"),
                ("A", "active")
            ])
            .contains("value_map")
        );
        assert!(
            hint(
                10,
                10,
                &[(None, Some(String::new())), (Some(String::new()), None)]
            )
            .unwrap()
            .contains("null_values")
        );
    }

    #[test]
    fn stays_quiet_for_scattered_or_unexplained_differences() {
        assert_eq!(hint(100, 5, &pairs(&[("a", "A")])), None);
        assert_eq!(hint(10, 10, &pairs(&[("x", "y"), ("x", "z")])), None);
    }
}
