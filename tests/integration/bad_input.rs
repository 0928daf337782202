//! Bad input: every case exits 2 with a message naming the file (and line or column), and
//! edge cases that are valid input give exact results. None may panic.

use std::path::Path;

use predicates::prelude::*;

use crate::util::*;

fn diff(source: &Path, target: &Path, key: &str) -> assert_cmd::Command {
    let mut cmd = recon();
    cmd.args(["diff", "--source"])
        .arg(source)
        .arg("--target")
        .arg(target)
        .args(["--key", key]);
    cmd
}

/// Runs `command` with `--json` into `dir`, checks exit code 0 and returns the summary.
fn summary_of(mut command: assert_cmd::Command, dir: &Path) -> serde_json::Value {
    let path = dir.join("j.json");
    command.arg("--json").arg(&path).assert().code(0);
    json(&path)
}

fn no_panic() -> impl Predicate<str> {
    predicate::str::contains("panicked").not()
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    diff(&missing, &fixture("orders/orders_legacy.csv"), "order_id")
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("cannot read")
                .and(predicate::str::contains("nope.csv"))
                .and(no_panic()),
        );
}

#[test]
fn key_column_missing_on_one_side_lists_the_columns_there() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t.csv");
    std::fs::write(&target, "orderid,status\n1,new\n").unwrap();
    diff(&fixture("orders/orders_legacy.csv"), &target, "order_id")
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("target")
                .and(predicate::str::contains(
                    "key column \"order_id\" not found",
                ))
                .and(predicate::str::contains("did you mean \"orderid\""))
                .and(predicate::str::contains("orderid, status")),
        );
}

#[test]
fn wrong_number_of_fields_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "id,a,b\n1,x,y\n2,\"multi\nline\",z\n3,only-two\n").unwrap();
    diff(&bad, &bad, "id").assert().code(2).stderr(
        predicate::str::contains("bad.csv:5: expected 3 fields (as in the header), found 2")
            .and(no_panic()),
    );
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("latin1.csv");
    std::fs::write(&bad, b"id,name\n1,ok\n2,caf\xe9\n".as_slice()).unwrap();
    diff(&bad, &bad, "id").assert().code(2).stderr(
        predicate::str::contains(
            "latin1.csv:3: column \"name\" holds bytes that are not valid UTF-8",
        )
        .and(predicate::str::contains("iconv")),
    );
}

#[test]
fn unterminated_quote_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("q.csv");
    std::fs::write(&bad, "id,a\n1,x\n2,\"never closed\n3,y\n").unwrap();
    diff(&bad, &bad, "id")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "q.csv:3: a quoted field is never closed",
        ));
}

#[test]
fn truncated_parquet_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("orders/orders_new.parquet")).unwrap();
    let truncated = dir.path().join("cut.parquet");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    diff(&fixture("orders/orders_legacy.csv"), &truncated, "order_id")
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("cut.parquet: not a readable Parquet file")
                .and(predicate::str::contains("truncated or corrupt"))
                .and(no_panic()),
        );
}

#[test]
fn corrupt_parquet_body_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(fixture("orders/orders_new.parquet")).unwrap();
    // Scribble over the data pages, keeping the footer intact.
    let end = bytes.len() / 2;
    for b in &mut bytes[8..end] {
        *b = 0xAB;
    }
    let corrupt = dir.path().join("corrupt.parquet");
    std::fs::write(&corrupt, &bytes).unwrap();
    diff(&fixture("orders/orders_legacy.csv"), &corrupt, "order_id")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("corrupt.parquet").and(no_panic()));
}

#[test]
fn header_only_files_are_a_valid_empty_result() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "id,a\n").unwrap();
    let summary = dir.path().join("s.json");
    diff(&empty, &empty, "id")
        .args(["--min-accuracy", "100", "--json"])
        .arg(&summary)
        .assert()
        .code(0);
    let got = json(&summary);
    assert_eq!(got["source"]["rows"], 0);
    assert_eq!(got["keys_in_union"], 0);
    assert_eq!(got["accuracy"], 1.0);
}

#[test]
fn empty_target_against_data_is_all_missing() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "order_id\n").unwrap();
    let summary = dir.path().join("s.json");
    diff(&fixture("orders/orders_legacy.csv"), &empty, "order_id")
        .args(["--min-accuracy", "0.1", "--json"])
        .arg(&summary)
        .assert()
        .code(1);
    let got = json(&summary);
    assert_eq!(got["matched"], 0);
    assert_eq!(got["accuracy"], 0.0);
}

#[test]
fn zero_byte_file_needs_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("zero.csv");
    std::fs::write(&empty, "").unwrap();
    diff(&empty, &empty, "id")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("zero.csv:1: the file is empty"));
}

#[test]
fn directory_without_parquet_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("_SUCCESS"), "").unwrap();
    diff(
        dir.path(),
        &fixture("orders/orders_new.parquet"),
        "order_id",
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains("holds no Parquet files"));
}

#[test]
fn same_key_column_twice() {
    let f = fixture("orders/orders_legacy.csv");
    diff(&f, &f, "order_id,order_id")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the key names column \"order_id\" twice",
        ));
}

#[test]
fn unknown_excluded_column_is_an_error_with_a_suggestion() {
    let f = fixture("orders/orders_legacy.csv");
    diff(&f, &f, "order_id")
        .args(["--exclude", "amount_x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean \"amount\""));
}

#[test]
fn duplicate_header_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("dup.csv");
    std::fs::write(&bad, "id,a,a\n1,2,3\n").unwrap();
    diff(&bad, &bad, "id")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("names column \"a\" twice"));
}

#[test]
fn null_and_empty_string_are_different_values() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = (dir.path().join("s.csv"), dir.path().join("t.csv"));
    std::fs::write(&s, "id,a\n1,\n2,\"\"\n3,\n").unwrap();
    std::fs::write(&t, "id,a\n1,\"\"\n2,\n3,\n").unwrap();
    let got = summary_of(diff(&s, &t, "id"), dir.path());
    assert_eq!(got["changed"], 2);
    assert_eq!(got["matched"], 1);
}

#[test]
fn field_boundaries_are_never_ambiguous() {
    // ("1","23") vs ("12","3") as a composite key, and ("ab","c") vs ("a","bc") as values.
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = (dir.path().join("s.csv"), dir.path().join("t.csv"));
    std::fs::write(&s, "k1,k2,x,y\n1,23,ab,c\n").unwrap();
    std::fs::write(&t, "k1,k2,x,y\n12,3,ab,c\n").unwrap();
    let summary = dir.path().join("j.json");
    diff(&s, &t, "k1,k2")
        .arg("--json")
        .arg(&summary)
        .assert()
        .code(0);
    assert_eq!(json(&summary)["missing_in_target"], 1);
    std::fs::write(&t, "k1,k2,x,y\n1,23,a,bc\n").unwrap();
    diff(&s, &t, "k1,k2")
        .arg("--json")
        .arg(&summary)
        .assert()
        .code(0);
    assert_eq!(json(&summary)["changed"], 1);
}

#[test]
fn csv_dialect_quotes_newlines_crlf_bom_and_delimiter() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = (dir.path().join("s.csv"), dir.path().join("t.tsv"));
    std::fs::write(
        &s,
        "\u{feff}id,text\r\n1,\"a,b\"\r\n2,\"say \"\"hi\"\"\"\r\n3,\"two\r\nlines\"\r\n",
    )
    .unwrap();
    std::fs::write(&t, "id\ttext\n1\ta,b\n2\tsay \"hi\"\n3\t\"two\r\nlines\"\n").unwrap();
    let summary = dir.path().join("j.json");
    diff(&s, &t, "id")
        .args([
            "--target-delimiter",
            "\\t",
            "--min-accuracy",
            "100",
            "--json",
        ])
        .arg(&summary)
        .assert()
        .code(0);
    assert_eq!(json(&summary)["matched"], 3);
}

#[test]
fn text_is_cast_to_the_typed_side_and_unparseable_values_are_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("j.json");
    let csv = dir.path().join("s.csv");
    let rows: Vec<Row> = (1..=3)
        .map(|id| Row {
            id,
            values: vec![Some(format!("v{id}"))],
        })
        .collect();
    let parquet = dir.path().join("t.parquet");
    write_parquet(&parquet, &rows, 1, 2);
    // Keys as text "01", "2.0" are the same numbers as the Parquet int64 keys 1 and 2.
    std::fs::write(&csv, "id,c0\n01,v1\n2.0,v2\nthree,v3\n").unwrap();
    diff(&csv, &parquet, "id")
        .arg("--json")
        .arg(&summary)
        .assert()
        .code(0);
    let got = json(&summary);
    assert_eq!(got["matched"], 2);
    assert_eq!(
        got["missing_in_target"], 1,
        "an unparseable key matches nothing"
    );
    assert_eq!(got["extra_in_target"], 1);
    assert_eq!(got["unparseable_keys"]["source"], 1);
}

#[test]
fn parquet_directory_of_parts_equals_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<Row> = (1..=50)
        .map(|id| Row {
            id,
            values: vec![Some(id.to_string()), None],
        })
        .collect();
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    write_parquet(&parts.join("part-0.parquet"), &rows[..20], 2, 7);
    write_parquet(&parts.join("part-1.parquet"), &rows[20..], 2, 7);
    std::fs::write(parts.join("_SUCCESS"), "").unwrap();
    let single = dir.path().join("one.parquet");
    write_parquet(&single, &rows, 2, 1000);
    let summary = dir.path().join("j.json");
    diff(&parts, &single, "id")
        .args(["--min-accuracy", "100", "--json"])
        .arg(&summary)
        .assert()
        .code(0);
    assert_eq!(json(&summary)["matched"], 50);
}

#[test]
fn bad_delimiter_and_partitions_are_usage_errors() {
    let f = fixture("orders/orders_legacy.csv");
    diff(&f, &f, "order_id")
        .args(["--delimiter", ";;"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("delimiter"));
    diff(&f, &f, "order_id")
        .args(["--partitions", "3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("power of two"));
    recon().args(["diff", "--source", "x"]).assert().code(2);
    // A spill directory that does not exist is refused before the scan, not during it.
    diff(&f, &f, "order_id")
        .args(["--spill-dir", "/nonexistent/recon-spill"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "spill directory /nonexistent/recon-spill is not a directory",
        ));
    // A file read with the wrong delimiter: the error says which one it seems to use.
    let dir = tempfile::tempdir().unwrap();
    let semicolons = dir.path().join("s.csv");
    std::fs::write(&semicolons, "order_id;amount\n1;2\n").unwrap();
    diff(&semicolons, &semicolons, "order_id")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is the file delimited by ';'? set the delimiter: delimiter = \";\" under [source] or [target] in a job file or --delimiter ';'",
        ));
}

#[test]
fn directory_entries_that_would_be_skipped_are_refused() {
    // Reading the parts and skipping hive-style subdirectories would drop rows silently.
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<Row> = (1..=4)
        .map(|id| Row {
            id,
            values: vec![None],
        })
        .collect();
    write_parquet(&dir.path().join("part-0.parquet"), &rows[..2], 1, 10);
    std::fs::create_dir(dir.path().join("dt=2024-01-01")).unwrap();
    write_parquet(
        &dir.path().join("dt=2024-01-01/part-1.parquet"),
        &rows[2..],
        1,
        10,
    );
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    diff(
        dir.path(),
        &fixture("orders/orders_new.parquet"),
        "order_id",
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains(
        "does not read: dt=2024-01-01, notes.txt",
    ));
}

#[test]
fn part_files_with_different_schemas_name_the_difference() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<Row> = (1..=4)
        .map(|id| Row {
            id,
            values: vec![Some("x".into()), None],
        })
        .collect();
    write_parquet(&dir.path().join("part-0.parquet"), &rows[..2], 1, 10);
    write_parquet(&dir.path().join("part-1.parquet"), &rows[2..], 2, 10);
    diff(dir.path(), dir.path(), "id")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("part-1.parquet"))
        .stderr(predicate::str::contains("its schema differs from"))
        .stderr(predicate::str::contains("it has an extra column \"c1\""));

    // Microseconds in one part, nanoseconds in the other: refused, never reinterpreted
    // (read with the first part's type, every value of the second would be 1000x off).
    use arrow_array::{ArrayRef, TimestampMicrosecondArray, TimestampNanosecondArray};
    use std::sync::Arc;
    let units = tempfile::tempdir().unwrap();
    for (name, column) in [
        (
            "part-0.parquet",
            Arc::new(TimestampMicrosecondArray::from(vec![1_700_000_000_000_000])) as ArrayRef,
        ),
        (
            "part-1.parquet",
            Arc::new(TimestampNanosecondArray::from(vec![
                1_700_000_000_000_000_000,
            ])) as ArrayRef,
        ),
    ] {
        write_columns(&units.path().join(name), vec![("ts", column)]);
    }
    diff(units.path(), units.path(), "ts")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "column \"ts\" is Timestamp(µs) there",
        ));
}

#[test]
fn mixed_numeric_and_text_keys_are_ordered_without_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = (dir.path().join("k.csv"), dir.path().join("e.csv"));
    let keys = "143 146a 15 17 148 140 108 160 11 138 111a 18 38a 144 12 23 149 129 95 46 9";
    std::fs::write(&s, format!("id\n{}\n", keys.replace(' ', "\n"))).unwrap();
    std::fs::write(&t, "id\n").unwrap();
    let diffs = dir.path().join("d.csv");
    diff(&s, &t, "id")
        .arg("--diffs")
        .arg(&diffs)
        .arg("-q")
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&diffs).unwrap();
    let order: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(&order[..3], ["9", "11", "12"]);
    assert_eq!(&order[order.len() - 3..], ["111a", "146a", "38a"]);
}

#[test]
fn exact_column_names_pair_before_case_insensitive_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = (dir.path().join("s.csv"), dir.path().join("t.csv"));
    std::fs::write(&s, "id,Amount,amount\n1,100,5\n").unwrap();
    std::fs::write(&t, "id,amount\n1,5\n").unwrap();
    let got = summary_of(diff(&s, &t, "id"), dir.path());
    assert_eq!(got["matched"], 1);
    assert_eq!(got["only_in_source"], serde_json::json!(["Amount"]));
}

#[test]
fn huge_numeric_options_are_refused_or_survived() {
    let f = fixture("orders/orders_legacy.csv");
    diff(&f, &f, "order_id")
        .args([
            "--min-accuracy",
            "0.00000000000000000000000000000000000000001",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at most 9 decimals"));
    diff(&f, &f, "order_id")
        .args(["--max-diff-rows", "18446744073709551615", "-q"])
        .assert()
        .code(0);
    diff(&f, &f, "order_id")
        .args(["--partitions", "1099511627776"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("power of two from 1 to 1048576"));
}

#[test]
fn outputs_are_checked_before_any_work_and_never_overwrite_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("s.csv");
    std::fs::write(&source, "id\n1\n").unwrap();
    diff(&source, &source, "id")
        .arg("--json")
        .arg(&source)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is one of the inputs"));
    assert_eq!(std::fs::read_to_string(&source).unwrap(), "id\n1\n");
    diff(&source, &source, "id")
        .arg("--diffs")
        .arg(dir.path().join("no/such/dir/d.csv"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not exist"));
}

#[test]
fn rows_outside_the_accuracy_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = (dir.path().join("s.csv"), dir.path().join("t.csv"));
    std::fs::write(&s, "id,v\n1,a\n,b\n,c\n").unwrap();
    std::fs::write(&t, "id,v\n1,a\n").unwrap();
    let summary = dir.path().join("j.json");
    diff(&s, &t, "id")
        .arg("--json")
        .arg(&summary)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "warning: 2 source and 0 target rows have a NULL key",
        ))
        .stdout(predicate::str::contains("verdict: PASS (no criteria given"));
    let got = json(&summary);
    assert_eq!(got["warnings"].as_array().unwrap().len(), 1);
    assert_eq!(got["verdict"]["criteria_given"], false);
}

#[test]
fn tsv_files_default_to_tabs_and_compressed_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (tsv, csv) = (dir.path().join("a.tsv"), dir.path().join("b.csv"));
    std::fs::write(&tsv, "id\tv\n1\tx,y\n").unwrap();
    std::fs::write(&csv, "id,v\n1,\"x,y\"\n").unwrap();
    diff(&tsv, &csv, "id")
        .args(["--min-accuracy", "100", "-q"])
        .assert()
        .code(0);
    let gz = dir.path().join("c.csv.gz");
    std::fs::write(&gz, b"\x1f\x8b\x08\x00rest").unwrap();
    diff(&gz, &csv, "id")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "c.csv.gz: the gzip data ends early (truncated)",
        ));
}

#[test]
fn invalid_utf8_in_a_column_not_compared_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = (dir.path().join("s.csv"), dir.path().join("t.csv"));
    std::fs::write(&s, b"id,v,legacy\n1,a,caf\xe9\n2,b,x\n".as_slice()).unwrap();
    std::fs::write(&t, "id,v\n1,a\n2,b\n").unwrap();
    diff(&s, &t, "id")
        .args(["--min-accuracy", "100", "-q"])
        .assert()
        .code(0);
    // Compared, the same bytes are an error naming the column.
    std::fs::write(&t, "id,v,legacy\n1,a,x\n2,b,x\n").unwrap();
    diff(&s, &t, "id")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "s.csv:2: column \"legacy\" holds bytes that are not valid UTF-8",
        ));
}
