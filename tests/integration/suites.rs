//! `recon suite`, `recon explain SUITE` and `recon history`: many tables in one run, each
//! with its own status, one verdict and exit status, and the suite's reports.

use std::path::Path;

use predicates::prelude::*;

#[cfg(feature = "postgres")]
use crate::pg_server as pg;
use crate::util::*;

fn rows(n: i64, changed: &[i64]) -> Vec<Row> {
    (1..=n)
        .map(|id| Row {
            id,
            values: vec![Some(if changed.contains(&id) {
                format!("changed {id}")
            } else {
                format!("value {id}")
            })],
        })
        .collect()
}

/// A suite over files and PostgreSQL tables: `good` (CSV vs Parquet, equal), `drifted`
/// (a PostgreSQL table with 3 of 50 rows changed, against a CSV, held to 99%), `broken`
/// (its target file is malformed CSV) and `pg_same` (two equal PostgreSQL tables).
#[cfg(feature = "postgres")]
fn mixed_suite(dir: &Path, schema: &str) -> std::path::PathBuf {
    write_csv(&dir.join("good_a.csv"), &rows(20, &[]), 1);
    write_parquet(&dir.join("good_b.parquet"), &rows(20, &[]), 1, 7);
    write_csv(&dir.join("drifted.csv"), &rows(50, &[]), 1);
    std::fs::write(dir.join("broken_a.csv"), "id,c0\n1,x\n").unwrap();
    std::fs::write(dir.join("broken_b.csv"), "id,c0\n1,\"unterminated\n").unwrap();
    pg::sql(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};
         CREATE TABLE {schema}.drifted(id bigint primary key, c0 text);
         INSERT INTO {schema}.drifted SELECT i, CASE WHEN i IN (4, 5, 6) THEN 'changed ' ELSE 'value ' END || i FROM generate_series(1, 50) i;
         CREATE TABLE {schema}.same_a(id bigint primary key, c0 text);
         INSERT INTO {schema}.same_a SELECT i, 'v' || i FROM generate_series(1, 30) i;
         CREATE TABLE {schema}.same_b AS SELECT * FROM {schema}.same_a;"
    ));
    let suite = dir.join("mixed.toml");
    std::fs::write(
        &suite,
        format!(
            r#"
            history = false
            [defaults]
            key = "id"
            [defaults.criteria]
            min_accuracy = 99
            [[tables]]
            name = "good"
            source = "good_a.csv"
            target = "good_b.parquet"
            [[tables]]
            name = "drifted"
            source = {{ uri = "{url}", table = "{schema}.drifted" }}
            target = "drifted.csv"
            [[tables]]
            name = "broken"
            source = "broken_a.csv"
            target = "broken_b.csv"
            [[tables]]
            name = "pg_same"
            source = {{ uri = "{url}", table = "{schema}.same_a" }}
            target = {{ uri = "{url}", table = "{schema}.same_b" }}
            "#,
            url = pg::server()
        ),
    )
    .unwrap();
    suite
}

#[test]
#[cfg(feature = "postgres")]
fn a_suite_gives_each_table_its_status_and_exits_2_when_one_is_in_error() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mixed_suite(dir.path(), "recon_suite_statuses");
    let json = dir.path().join("suite.json");
    recon()
        .arg("suite")
        .arg(&suite)
        .arg("--json")
        .arg(&json)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("ERROR   broken"))
        .stdout(predicate::str::contains("BREACH  drifted"))
        .stdout(predicate::str::contains(
            "verdict: ERROR (2 passed, 1 breached, 1 in error)",
        ));
    let s = crate::util::json(&json);
    assert_eq!(s["format_version"], 1);
    assert_eq!(s["status"], "error");
    let status = |name: &str| {
        s["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(status("good")["status"], "passed");
    assert_eq!(status("good")["matched"], 20);
    assert_eq!(status("pg_same")["status"], "passed");
    assert_eq!(status("pg_same")["matched"], 30);
    let drifted = status("drifted");
    assert_eq!(drifted["status"], "breached");
    assert_eq!(drifted["changed"], 3);
    assert_eq!(drifted["breaches"][0]["criterion"], "min_accuracy");
    let broken = status("broken");
    assert_eq!(broken["status"], "error");
    assert!(
        broken["error"].as_str().unwrap().contains("broken_b.csv"),
        "{broken}"
    );
    assert_eq!(s["verdict"]["passed"], false);
    assert_eq!(s["verdict"]["tables"]["error"], 1);
}

#[test]
#[cfg(feature = "postgres")]
fn only_runs_the_matching_tables_and_a_glob_matching_none_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mixed_suite(dir.path(), "recon_suite_only");
    recon()
        .arg("suite")
        .arg(&suite)
        .args(["--only", "pg_*,good"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "verdict: PASS (2 passed, 0 breached, 0 in error)",
        ))
        .stdout(predicate::str::contains("broken").not());
    recon()
        .arg("suite")
        .arg(&suite)
        .args(["--only", "billing.*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no table matches billing.*"));
}

#[test]
fn the_bundled_suite_runs_and_explains() {
    let suite = fixture("suite/nightly.toml");
    recon()
        .arg("suite")
        .arg(&suite)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("PASS    orders"))
        .stdout(predicate::str::contains("PASS    customers"));
    recon()
        .arg("explain")
        .arg(&suite)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("suite nightly  (2 tables)"))
        .stdout(predicate::str::contains("key: order_id"));
}

#[test]
fn bad_suite_files_stop_before_any_row_is_read() {
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("a.csv"), &rows(3, &[]), 1);
    let cases = [
        (
            "[[tables]]\nname = \"t\"\nsource = \"a.csv\"\ntarget = \"a.csv\"\n[[tables]]\nname = \"t\"\nsource = \"a.csv\"\ntarget = \"a.csv\"\n",
            "two tables are named \"t\"",
        ),
        (
            "[[tables]]\nname = \"t\"\nsource = \"a.csv\"\ntarget = \"a.csv\"\nkye = \"id\"\n",
            "unknown field `kye`",
        ),
        ("[[tables]]\njob = \"missing.toml\"\n", "job file"),
        (
            "[defaults]\nsource = \".\"\ntarget = \"other\"\n[discover]\ninclude = [\"zzz*\"]\n",
            "[discover]",
        ),
    ];
    std::fs::create_dir(dir.path().join("other")).unwrap();
    for (text, expected) in cases {
        let suite = dir.path().join("bad.toml");
        std::fs::write(&suite, format!("history = false\n{text}")).unwrap();
        recon()
            .arg("suite")
            .arg(&suite)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("bad.toml"))
            .stderr(predicate::str::contains(expected));
    }
}

#[test]
fn the_suite_index_page_renders_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    recon()
        .arg("suite")
        .arg(fixture("suite/nightly.toml"))
        .arg("--report-dir")
        .arg(&out)
        .assert()
        .code(0);
    assert!(out.join("tables/orders/report.html").is_file());
    assert!(out.join("tables/customers/summary.json").is_file());
    let (dom, log) = render_in_chromium(&out.join("index.html"));
    for text in [
        "Suite nightly",
        "PASS",
        "orders",
        "customers",
        "92.74%",
        "tables/orders/report.html",
    ] {
        assert!(dom.contains(text), "the index page lacks {text:?}");
    }
    assert_no_console_errors(&log);
    let suite = json(&out.join("suite.json"));
    assert_eq!(suite["tables"].as_array().unwrap().len(), 2);
    // One report per owner covers all of their tables.
    let owner = std::fs::read_to_string(out.join("owners/data-platform@example.com.md")).unwrap();
    assert!(owner.contains("| orders | PASS | 92.74%"), "{owner}");
    assert!(owner.contains("| customers | PASS | 85.37%"), "{owner}");
    assert!(owner.contains("## Table orders"), "{owner}");
    let (dom, log) = render_in_chromium(&out.join("owners/data-platform@example.com.html"));
    assert!(dom.contains("tables/customers/owners/data-platform@example.com.html"));
    assert_no_console_errors(&log);
}

#[test]
#[cfg(feature = "postgres")]
fn every_suite_json_field_is_documented() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mixed_suite(dir.path(), "recon_suite_documented");
    let json = dir.path().join("suite.json");
    recon()
        .arg("suite")
        .arg(&suite)
        .arg("--json")
        .arg(&json)
        .assert()
        .code(2);
    assert_documented(&crate::util::json(&json), "docs/suite-json.md");
}

/// A two-table file suite in `dir` keeping its history beside it; `orders_b.csv` is
/// written by the caller.
fn history_suite(dir: &Path) -> std::path::PathBuf {
    write_csv(&dir.join("orders_a.csv"), &rows(100, &[]), 1);
    write_csv(&dir.join("same_a.csv"), &rows(10, &[]), 1);
    write_csv(&dir.join("same_b.csv"), &rows(10, &[]), 1);
    let suite = dir.join("nightly.toml");
    std::fs::write(
        &suite,
        r#"
        [defaults]
        key = "id"
        [[tables]]
        name = "orders"
        source = "orders_a.csv"
        target = "orders_b.csv"
        [[tables]]
        name = "same"
        source = "same_a.csv"
        target = "same_b.csv"
        "#,
    )
    .unwrap();
    suite
}

#[test]
fn the_history_says_which_differences_are_new_fixed_and_persisting() {
    let dir = tempfile::tempdir().unwrap();
    let suite = history_suite(dir.path());
    // Night 1: keys 1-5 differ. Night 2: 1-3 still differ, 4-5 fixed, 7-8 new.
    for (night, changed) in [(1, vec![1, 2, 3, 4, 5]), (2, vec![1, 2, 3, 7, 8])] {
        write_csv(&dir.path().join("orders_b.csv"), &rows(100, &changed), 1);
        let json = dir.path().join(format!("night{night}.json"));
        recon()
            .arg("suite")
            .arg(&suite)
            .arg("--json")
            .arg(&json)
            .assert()
            .code(0);
        let s = crate::util::json(&json);
        let orders = &s["tables"][0];
        assert_eq!(orders["name"], "orders");
        assert_eq!(orders["changed"], 5);
        if night == 2 {
            assert_eq!(orders["changes"]["new"], 2, "{orders}");
            assert_eq!(orders["changes"]["fixed"], 2, "{orders}");
            assert_eq!(orders["changes"]["persisting"], 3, "{orders}");
            assert_eq!(orders["changes"]["exact"], true);
            assert_eq!(s["tables"][1]["changes"]["new"], 0);
        }
    }
    assert!(dir.path().join("nightly.history").is_file());
    recon()
        .arg("history")
        .arg(&suite)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "orders: accuracy, oldest to newest: 95.0000%  95.0000%",
        ))
        .stdout(predicate::str::contains(
            "since the run before: 2 new, 2 fixed, 3 persisting",
        ));
    let out = recon()
        .arg("history")
        .arg(&suite)
        .args(["--table", "orders", "--since", "7d", "--json"])
        .assert()
        .code(0);
    let h: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(h["runs"].as_array().unwrap().len(), 2);
    assert!(
        h["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["complete"] == true)
    );
    assert_eq!(h["tables"][0]["runs"][0]["changes"]["persisting"], 3);
}

#[test]
fn two_concurrent_runs_share_one_history() {
    let dir = tempfile::tempdir().unwrap();
    let suite = history_suite(dir.path());
    write_csv(&dir.path().join("orders_b.csv"), &rows(100, &[9]), 1);
    let runs: Vec<_> = (0..2)
        .map(|i| {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("recon"));
            cmd.arg("suite")
                .arg(&suite)
                .args(["-q", "--run-id", &format!("run-{i}")])
                .env("XDG_CONFIG_HOME", dir.path().join("config"));
            cmd.spawn().unwrap()
        })
        .collect();
    for mut run in runs {
        assert!(run.wait().unwrap().success());
    }
    let out = recon()
        .arg("history")
        .arg(&suite)
        .arg("--json")
        .assert()
        .code(0);
    let h: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let mut ids: Vec<&str> = h["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["complete"], true, "{r}");
            assert_eq!(r["tables"], 2, "{r}");
            r["run_id"].as_str().unwrap()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, ["run-0", "run-1"]);
}

#[test]
fn a_file_that_is_not_a_recon_history_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let suite = history_suite(dir.path());
    write_csv(&dir.path().join("orders_b.csv"), &rows(100, &[]), 1);
    std::fs::write(dir.path().join("nightly.history"), "not a database").unwrap();
    recon()
        .arg("suite")
        .arg(&suite)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nightly.history"));
    recon()
        .arg("suite")
        .arg(&suite)
        .args(["--history", "postgres://nobody:secret@127.0.0.1:1/none"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("secret").not());
}

#[test]
fn resume_finishes_the_tables_a_killed_run_left() {
    let dir = tempfile::tempdir().unwrap();
    let suite = history_suite(dir.path());
    // `same` (the smaller table) runs second with one job; its target is a FIFO nobody
    // writes, so the run hangs there, after `orders` was recorded.
    write_csv(&dir.path().join("orders_b.csv"), &rows(100, &[3]), 1);
    std::fs::remove_file(dir.path().join("same_b.csv")).unwrap();
    let fifo = dir.path().join("same_b.csv");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let mut run = std::process::Command::new(assert_cmd::cargo::cargo_bin("recon"))
        .arg("suite")
        .arg(&suite)
        .args(["-q", "--jobs", "1", "--run-id", "night-1"])
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .spawn()
        .unwrap();
    let recorded = || {
        let out = recon()
            .arg("history")
            .arg(&suite)
            .arg("--json")
            .output()
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|h| h["runs"][0]["tables"].as_u64())
            .unwrap_or(0)
    };
    let waited = std::time::Instant::now();
    while recorded() < 1 {
        assert!(
            waited.elapsed().as_secs() < 60,
            "the first table was never recorded"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    run.kill().unwrap();
    run.wait().unwrap();
    let out = recon()
        .arg("history")
        .arg(&suite)
        .arg("--json")
        .assert()
        .code(0);
    let h: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(h["runs"][0]["complete"], false, "{h}");
    // The data is back; the run goes on with the table it had not finished.
    std::fs::remove_file(&fifo).unwrap();
    write_csv(&fifo, &rows(10, &[]), 1);
    let json = dir.path().join("resumed.json");
    recon()
        .arg("suite")
        .arg(&suite)
        .arg("--resume")
        .arg("--json")
        .arg(&json)
        .assert()
        .code(0);
    let s = crate::util::json(&json);
    assert_eq!(s["run_id"], "night-1");
    let tables = s["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 2);
    assert_eq!(tables[0]["name"], "orders");
    assert!(
        tables[0]["notices"][0]
            .as_str()
            .unwrap()
            .contains("recorded by another process of this run")
    );
    assert_eq!(tables[1]["matched"], 10);
    let out = recon()
        .arg("history")
        .arg(&suite)
        .arg("--json")
        .assert()
        .code(0);
    let h: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{h}");
    assert_eq!(runs[0]["complete"], true);
    assert_eq!(runs[0]["tables"], 2);
    // Nothing is left to resume.
    recon()
        .arg("suite")
        .arg(&suite)
        .arg("--resume")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no interrupted run"));
}

#[test]
fn a_diff_can_be_recorded_in_a_history_too() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("adhoc.history");
    write_csv(&dir.path().join("a.csv"), &rows(20, &[]), 1);
    for (changed, expected) in [
        (
            vec![1, 2],
            "history: the first recorded run of this comparison",
        ),
        (
            vec![2, 3],
            "since the last recorded run: 1 new, 1 fixed, 1 persisting",
        ),
    ] {
        write_csv(&dir.path().join("b.csv"), &rows(20, &changed), 1);
        recon()
            .args(["diff", "--key", "id", "--name", "adhoc"])
            .arg("--source")
            .arg(dir.path().join("a.csv"))
            .arg("--target")
            .arg(dir.path().join("b.csv"))
            .arg("--history")
            .arg(&history)
            .assert()
            .stdout(predicate::str::contains(expected))
            .code(0);
    }
}

#[test]
fn shards_share_a_run_and_collect_gives_the_verdict_once_all_are_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut entries = String::from("[defaults]\nkey = \"id\"\n");
    for (i, size) in [40, 30, 20, 10].into_iter().enumerate() {
        write_csv(&dir.path().join(format!("t{i}_a.csv")), &rows(size, &[]), 1);
        write_csv(&dir.path().join(format!("t{i}_b.csv")), &rows(size, &[]), 1);
        entries.push_str(&format!(
            "[[tables]]\nname = \"t{i}\"\nsource = \"t{i}_a.csv\"\ntarget = \"t{i}_b.csv\"\n"
        ));
    }
    let suite = dir.path().join("sharded.toml");
    std::fs::write(&suite, entries).unwrap();
    let shard = |index: &str| {
        recon()
            .arg("suite")
            .arg(&suite)
            .args(["--run-id", "night-7"])
            .env("JOB_COMPLETION_INDEX", index)
            .env("JOB_COMPLETION_COUNT", "2")
            .assert()
    };
    let first = shard("0");
    let out = String::from_utf8_lossy(&first.get_output().stdout).into_owned();
    assert_eq!(out.matches("PASS  ").count(), 2, "{out}");
    first
        .code(2)
        .stdout(predicate::str::contains("not recorded yet"));
    recon()
        .arg("suite")
        .arg(&suite)
        .args(["--collect", "night-7"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("not recorded yet"));
    shard("1").code(0);
    recon()
        .arg("suite")
        .arg(&suite)
        .args(["--collect", "night-7"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "verdict: PASS (4 passed, 0 breached, 0 in error)",
        ));
    let out = recon()
        .arg("history")
        .arg(&suite)
        .arg("--json")
        .assert()
        .code(0);
    let h: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(h["runs"].as_array().unwrap().len(), 1, "{h}");
    assert_eq!(h["runs"][0]["complete"], true);
    assert_eq!(h["runs"][0]["tables"], 4);
    recon()
        .arg("suite")
        .arg(&suite)
        .args(["--shard", "2/2", "--run-id", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a share"));
}
