//! Properties of whole runs over random data: a dataset matches itself; row order, thread
//! count and partition count change nothing; every injected difference is found, exactly;
//! CSV text equals the same data in Parquet.

use proptest::prelude::*;
use recon::job::{EngineOptions, Job, Silent};
use recon::metrics::{Criteria, Summary};
use recon::normalize::ColumnSelection;
use recon::source::SourceOptions;

use crate::util::*;

const WIDTH: usize = 3;

fn value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(String::new())),
        4 => "[a-c ,\"\n]{0,6}".prop_map(Some),
        2 => (0i64..1000).prop_map(|n| Some(n.to_string())),
    ]
}

fn table() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(prop::collection::vec(value(), WIDTH), 0..60).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, values)| Row {
                id: i as i64 * 3 + 1,
                values,
            })
            .collect()
    })
}

fn run(
    source: &std::path::Path,
    target: &std::path::Path,
    threads: usize,
    partitions: usize,
) -> Summary {
    let job = Job {
        source: source.to_string_lossy().into_owned(),
        target: target.to_string_lossy().into_owned(),
        source_options: SourceOptions {
            batch_size: 7,
            ..SourceOptions::default()
        },
        target_options: SourceOptions {
            batch_size: 5,
            ..SourceOptions::default()
        },
        selection: ColumnSelection {
            key: vec!["id".into()],
            ..Default::default()
        },
        criteria: Criteria::default(),
        owner: None,
        mask: recon::drilldown::Mask::keyed("test"),
        engine: EngineOptions {
            threads: Some(threads),
            partitions: Some(partitions),
            ..EngineOptions::default()
        },
    };
    job.run(&Silent).unwrap().summary
}

fn counts(s: &Summary) -> (u64, u64, u64, u64, u64, Vec<u64>) {
    (
        s.matched,
        s.changed,
        s.missing_in_target,
        s.extra_in_target,
        s.keys_with_duplicates,
        s.columns.iter().map(|c| c.mismatched).collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_table_matches_itself_in_any_order(rows in table(), seed in any::<u64>()) {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        write_csv(&a, &rows, WIDTH);
        let mut shuffled = rows.clone();
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = (seed.wrapping_mul(i as u64 + 7) >> 7) as usize % (i + 1);
            shuffled.swap(i, j);
        }
        write_csv(&b, &shuffled, WIDTH);
        let s = run(&a, &b, 2, 16);
        prop_assert_eq!(s.matched, rows.len() as u64);
        prop_assert_eq!(s.keys_in_union, rows.len() as u64);
        prop_assert_eq!(s.accuracy, 1.0);
    }

    #[test]
    fn injected_differences_are_found_exactly(
        rows in table(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, 0..WIDTH, value()), 0..12),
    ) {
        let mut target = rows.clone();
        let mut changed_cells = vec![std::collections::BTreeSet::new(); WIDTH];
        let mut deleted = std::collections::BTreeSet::new();
        let mut inserted = 0u64;
        let mut next_new_id = -1i64;
        for (index, action, column, new_value) in edits {
            match action {
                0 if !target.is_empty() => {
                    let i = index.index(target.len());
                    if target[i].id < 0 {
                        inserted -= 1;
                    } else {
                        deleted.insert(target[i].id);
                    }
                    for c in &mut changed_cells { c.remove(&target[i].id); }
                    target.remove(i);
                }
                1 => {
                    inserted += 1;
                    target.push(Row { id: next_new_id, values: vec![new_value; WIDTH] });
                    next_new_id -= 1;
                }
                _ if !target.is_empty() => {
                    let i = index.index(target.len());
                    target[i].values[column] = new_value;
                    let Some(original) = rows.iter().find(|r| r.id == target[i].id) else {
                        continue; // an inserted row: still just extra
                    };
                    if original.values[column] != target[i].values[column] {
                        changed_cells[column].insert(target[i].id);
                    } else {
                        changed_cells[column].remove(&target[i].id);
                    }
                }
                _ => {}
            }
        }
        let changed_rows: std::collections::BTreeSet<i64> =
            changed_cells.iter().flatten().copied().collect();
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        write_csv(&a, &rows, WIDTH);
        write_csv(&b, &target, WIDTH);
        let expected = (
            rows.len() as u64 - deleted.len() as u64 - changed_rows.len() as u64,
            changed_rows.len() as u64,
            deleted.len() as u64,
            inserted,
            0,
            changed_cells.iter().map(|c| c.len() as u64).collect::<Vec<_>>(),
        );
        let one = run(&a, &b, 1, 16);
        prop_assert_eq!(counts(&one), expected);
        let other = run(&a, &b, 3, 256);
        prop_assert_eq!(counts(&other), counts(&one));
    }

    #[test]
    fn csv_equals_the_same_rows_in_parquet(rows in table(), row_group in 1usize..20) {
        let dir = tempfile::tempdir().unwrap();
        let (csv, parquet) = (dir.path().join("a.csv"), dir.path().join("b.parquet"));
        write_csv(&csv, &rows, WIDTH);
        write_parquet(&parquet, &rows, WIDTH, row_group);
        let s = run(&csv, &parquet, 2, 32);
        prop_assert_eq!(s.matched, rows.len() as u64);
        prop_assert_eq!(s.changed, 0);
    }

    #[test]
    fn repeated_keys_are_counted_never_collapsed(rows in table(), copies in 1usize..4) {
        prop_assume!(!rows.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        let mut doubled = rows.clone();
        for _ in 0..copies {
            doubled.push(rows[0].clone());
        }
        write_csv(&a, &doubled, WIDTH);
        write_csv(&b, &rows, WIDTH);
        let s = run(&a, &b, 2, 16);
        prop_assert_eq!(s.keys_with_duplicates, 1);
        prop_assert_eq!(s.duplicate_key_rows.source, copies as u64 + 1);
        prop_assert_eq!(s.matched, rows.len() as u64 - 1);
    }
}
