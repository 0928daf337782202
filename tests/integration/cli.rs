//! The command line end to end: exit codes, summary contents, output files.

use predicates::prelude::*;

use crate::util::*;

fn fixture_args(cmd: &mut assert_cmd::Command) -> &mut assert_cmd::Command {
    cmd.args(["diff", "--source"])
        .arg(fixture("orders/orders_legacy.csv"))
        .arg("--target")
        .arg(fixture("orders/orders_new.parquet"))
        .args(["--key", "order_id"])
}

#[test]
fn fixture_counts_equal_the_generators_truth() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.json");
    fixture_args(&mut recon())
        .arg("--json")
        .arg(&summary)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("verdict: PASS"));
    let got = json(&summary);
    let truth = json(&fixture("orders/truth.json"));
    for field in [
        "matched",
        "changed",
        "missing_in_target",
        "extra_in_target",
        "keys_with_duplicates",
    ] {
        assert_eq!(got[field], truth[field], "{field}");
    }
    assert_eq!(got["duplicate_keys"], truth["duplicate_keys"]);
    assert_eq!(got["null_keys"], truth["null_keys"]);
    assert_eq!(got["source"]["rows"], truth["rows"]["source"]);
    assert_eq!(got["target"]["rows"], truth["rows"]["target"]);
    assert_eq!(got["format_version"], 1);
    let by_column = truth["changed_by_column"].as_object().unwrap();
    for column in got["columns"].as_array().unwrap() {
        let name = column["source"].as_str().unwrap();
        let expected = by_column.get(name).and_then(|v| v.as_u64()).unwrap_or(0);
        assert_eq!(
            column["mismatched"].as_u64().unwrap(),
            expected,
            "column {name}"
        );
    }
    let union = got["keys_in_union"].as_u64().unwrap();
    let matched = got["matched"].as_u64().unwrap();
    assert!((got["accuracy"].as_f64().unwrap() - matched as f64 / union as f64).abs() < 1e-12);
    assert_eq!(got["only_in_source"], serde_json::json!(["legacy_region"]));
    assert_eq!(got["only_in_target"], serde_json::json!(["etl_loaded_at"]));
    assert_eq!(got["verdict"]["passed"], true);
}

#[test]
fn breached_accuracy_exits_1_and_still_writes_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, diffs) = (dir.path().join("s.json"), dir.path().join("d.csv"));
    fixture_args(&mut recon())
        .args(["--min-accuracy", "99.9%", "--json"])
        .arg(&summary)
        .arg("--diffs")
        .arg(&diffs)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "accuracy 92.74% is below the rollback threshold 99.9%",
        ));
    let got = json(&summary);
    assert_eq!(got["verdict"]["passed"], false);
    assert_eq!(got["verdict"]["breaches"][0]["criterion"], "min_accuracy");
    assert!(
        std::fs::read_to_string(&diffs)
            .unwrap()
            .contains("missing_in_target")
    );
}

#[test]
fn accuracy_threshold_met_exactly_passes() {
    fixture_args(&mut recon())
        .args(["--min-accuracy", "92", "-q"])
        .assert()
        .code(0)
        .stdout("");
}

#[test]
fn invalid_threshold_is_a_usage_error() {
    fixture_args(&mut recon())
        .args(["--min-accuracy", "101"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("outside 0..100%"));
}

#[test]
fn diffs_file_lists_every_kind_and_marks_unparseable_values() {
    let dir = tempfile::tempdir().unwrap();
    let diffs = dir.path().join("d.csv");
    fixture_args(&mut recon())
        .arg("--diffs")
        .arg(&diffs)
        .arg("-q")
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&diffs).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "order_id,kind,column,source_value,target_value,note,owner"
    );
    for kind in [
        "changed",
        "missing_in_target",
        "extra_in_target",
        "duplicate_key",
        "null_key",
    ] {
        assert!(
            text.contains(&format!(",{kind},")),
            "{kind} missing from\n{text}"
        );
    }
    assert!(
        text.contains(
            "\"62207,76\",62207.76,unparseable: the source value does not read as number"
        )
    );
    let truth = json(&fixture("orders/truth.json"));
    let changed_lines: u64 = truth["changed_by_column"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(
        text.lines().filter(|l| l.contains(",changed,")).count() as u64,
        changed_lines
    );
}

/// The --diffs file's name picks its format (a .parquet name got CSV before);
/// --diffs-format overrides it.
#[test]
fn the_diffs_file_is_written_in_the_format_its_name_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    for (name, extra, starts) in [
        ("d.parquet", None, &b"PAR1"[..]),
        ("d.jsonl", None, &b"{"[..]),
        ("d.txt", None, &b"order_id,kind"[..]),
        ("d.out", Some("jsonl"), &b"{"[..]),
    ] {
        let path = dir.path().join(name);
        let mut command = recon();
        fixture_args(&mut command)
            .arg("--diffs")
            .arg(&path)
            .arg("-q");
        if let Some(format) = extra {
            command.args(["--diffs-format", format]);
        }
        command.assert().code(0);
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            bytes.starts_with(starts),
            "{name}: {:?}",
            &bytes[..8.min(bytes.len())]
        );
    }
}

#[test]
fn capped_diffs_keep_counts_exact_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, diffs) = (dir.path().join("s.json"), dir.path().join("d.csv"));
    fixture_args(&mut recon())
        .args(["--max-diff-rows", "5", "--json"])
        .arg(&summary)
        .arg("--diffs")
        .arg(&diffs)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "5 kept (--max-diff-rows 5); counts above are exact",
        ));
    let got = json(&summary);
    assert_eq!(got["diff_lines"]["kept"], 5);
    assert_eq!(got["diff_lines"]["capped"], true);
    assert!(got["diff_lines"]["total"].as_u64().unwrap() > 5);
    assert_eq!(
        got["changed"],
        json(&fixture("orders/truth.json"))["changed"]
    );
    assert_eq!(std::fs::read_to_string(&diffs).unwrap().lines().count(), 6);
}

#[test]
fn a_dataset_against_itself_differs_only_by_its_repeated_keys() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("s.json");
    let legacy = fixture("orders/orders_legacy.csv");
    recon()
        .args(["diff", "--source"])
        .arg(&legacy)
        .arg("--target")
        .arg(&legacy)
        .args(["--key", "order_id", "--min-accuracy", "100", "--json"])
        .arg(&summary)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "accuracy 99.67% is below the rollback threshold 100%",
        ));
    let got = json(&summary);
    for field in ["changed", "missing_in_target", "extra_in_target"] {
        assert_eq!(got[field], 0, "{field}");
    }
    // A repeated key is reported on both sides, never silently collapsed into a match.
    assert_eq!(got["keys_with_duplicates"], 1);
    assert_eq!(
        got["duplicate_keys"],
        serde_json::json!({"source": 1, "target": 1})
    );
    assert_eq!(
        got["null_keys"],
        serde_json::json!({"source": 1, "target": 1})
    );
    assert_eq!(got["matched"], got["keys_in_union"].as_u64().unwrap() - 1);
}

#[test]
fn columns_and_exclude_narrow_the_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("s.json");
    fixture_args(&mut recon())
        .args(["--exclude", "quantity,amount", "-q", "--json"])
        .arg(&summary)
        .assert()
        .code(0);
    let got = json(&summary);
    assert_eq!(got["excluded"], serde_json::json!(["amount", "quantity"]));
    assert!(
        got["columns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["source"] != "amount")
    );

    fixture_args(&mut recon())
        .args(["--columns", "status", "-q", "--json"])
        .arg(&summary)
        .assert()
        .code(0);
    let got = json(&summary);
    assert_eq!(got["columns"].as_array().unwrap().len(), 1);
    // With only `status` compared, rows that differ elsewhere count as matched.
    assert_eq!(got["changed"], 0);
}

#[test]
fn thread_and_partition_counts_change_no_result() {
    let dir = tempfile::tempdir().unwrap();
    let mut summaries = Vec::new();
    for (threads, partitions) in [("1", "16"), ("2", "1024"), ("3", "64")] {
        let summary = dir.path().join(format!("s{threads}.json"));
        let diffs = dir.path().join(format!("d{threads}.csv"));
        fixture_args(&mut recon())
            .args([
                "--threads",
                threads,
                "--partitions",
                partitions,
                "-q",
                "--json",
            ])
            .arg(&summary)
            .arg("--diffs")
            .arg(&diffs)
            .assert()
            .code(0);
        let mut s = json(&summary);
        for varying in ["elapsed_ms", "run", "started_at"] {
            s.as_object_mut().unwrap().remove(varying);
        }
        summaries.push((s, std::fs::read_to_string(&diffs).unwrap()));
    }
    assert_eq!(summaries[0], summaries[1]);
    assert_eq!(summaries[0], summaries[2]);
}

#[test]
fn spilling_to_disk_changes_no_result() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    fixture_args(&mut recon())
        .args(["-q", "--json"])
        .arg(&a)
        .assert()
        .code(0);
    fixture_args(&mut recon())
        .args([
            "-q",
            "--memory-limit",
            "4KiB",
            "--partitions",
            "16",
            "--spill-dir",
        ])
        .arg(dir.path())
        .arg("--json")
        .arg(&b)
        .assert()
        .code(0);
    let (a, b) = (json(&a), json(&b));
    assert!(b["run"]["spilled_bytes"].as_u64().unwrap() > 0);
    for field in [
        "matched",
        "changed",
        "missing_in_target",
        "extra_in_target",
        "columns",
    ] {
        assert_eq!(a[field], b[field], "{field}");
    }
}

#[test]
fn help_names_the_exit_codes() {
    recon()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("1 when a criterion"));
}

#[test]
fn every_json_field_is_documented() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("s.json");
    fixture_args(&mut recon())
        .args(["-q", "--min-accuracy", "99", "--json"])
        .arg(&summary)
        .assert()
        .code(1);
    assert_documented(&json(&summary), "docs/summary-json.md");
}

/// `recon diff --key id` of two locations; checks exit code 0 and returns the summary.
fn diff_summary(source: &std::path::Path, target: &std::path::Path) -> serde_json::Value {
    let summary = tempfile::NamedTempFile::new().unwrap();
    recon()
        .args(["diff", "--key", "id", "-q", "--source"])
        .arg(source)
        .arg("--target")
        .arg(target)
        .arg("--json")
        .arg(summary.path())
        .assert()
        .code(0);
    json(summary.path())
}

/// A dictionary-encoded Parquet column (what pandas writes for a `category`) is read as
/// its values.
#[test]
fn dictionary_encoded_parquet_columns_compare_as_their_values() {
    use arrow_array::types::Int8Type;
    use arrow_array::{DictionaryArray, Int64Array, LargeStringArray};
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let status: DictionaryArray<Int8Type> = DictionaryArray::try_new(
        vec![Some(0i8), Some(1), None, Some(0)].into(),
        Arc::new(LargeStringArray::from(vec!["active", "closed"])),
    )
    .unwrap();
    let parquet = dir.path().join("t.parquet");
    write_columns(
        &parquet,
        vec![
            ("id", Arc::new(Int64Array::from(vec![1, 2, 3, 4]))),
            ("status", Arc::new(status)),
        ],
    );
    let csv = dir.path().join("t.csv");
    std::fs::write(&csv, "id,status\n1,active\n2,closed\n3,\n4,closed\n").unwrap();
    let s = diff_summary(&parquet, &csv);
    assert_eq!(
        (s["matched"].as_u64(), s["changed"].as_u64()),
        (Some(3), Some(1)),
        "{s:#}"
    );
}

/// Part files written by different tools (pyarrow's string, pandas 3's large_string) are
/// read as the first part's types.
#[test]
fn part_files_with_compatible_types_read_as_one_schema() {
    use arrow_array::{Int64Array, LargeStringArray};
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    let rows: Vec<Row> = (1..=2)
        .map(|id| Row {
            id,
            values: vec![Some(format!("v{id}"))],
        })
        .collect();
    write_parquet(&parts.join("part-0.parquet"), &rows, 1, 10);
    write_columns(
        &parts.join("part-1.parquet"),
        vec![
            ("id", Arc::new(Int64Array::from(vec![3, 4]))),
            ("c0", Arc::new(LargeStringArray::from(vec!["v3", "v4"]))),
        ],
    );
    let csv = dir.path().join("all.csv");
    std::fs::write(&csv, "id,c0\n1,v1\n2,v2\n3,v3\n4,v4\n").unwrap();
    assert_eq!(diff_summary(&parts, &csv)["matched"], 4);
}

/// A fraction given where a percentage is meant would pass nearly any run: said.
#[test]
fn a_fraction_as_min_accuracy_is_pointed_out() {
    fixture_args(&mut recon())
        .args(["--min-accuracy", "0.9999", "-q"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "--min-accuracy 0.9999 means 0.9999%; for a fraction like 0.999 write 99.9",
        ));
}
