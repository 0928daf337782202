//! PostgreSQL as source and target, against a real server (see `pg_server.rs`): types, equality
//! with CSV, one snapshot across connections under a concurrent writer, read-only scans,
//! and errors that name the problem without showing a password.

use predicates::prelude::*;

use crate::pg_server;
use crate::util::*;

/// A schema of its own per test, so tests run in parallel.
fn schema(name: &str) -> String {
    let schema = format!("recon_{name}");
    pg_server::sql(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"
    ));
    schema
}

/// Runs `recon diff` with `extra` flags, checks its exit code and returns the summary.
fn summary_of(
    source: &str,
    target: &str,
    key: &str,
    extra: &[&str],
    code: i32,
) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.json");
    recon()
        .args([
            "diff", "--source", source, "--target", target, "--key", key, "-q",
        ])
        .args(extra)
        .arg("--json")
        .arg(&summary)
        .assert()
        .code(code);
    json(&summary)
}

fn load_orders(schema: &str, rows: u32) {
    pg_server::sql(&format!(
        "CREATE TABLE {schema}.orders(order_id bigint primary key, name text, note varchar(20), amount numeric(12,2), big numeric, qty int, small smallint, ratio double precision, r real, ts timestamptz, local_ts timestamp, ok boolean, d date, u uuid, j jsonb, c char(5), b bytea, t time, iv interval, tags text[]);
         INSERT INTO {schema}.orders SELECT i, 'n, \"'||i, CASE WHEN i % 5 = 0 THEN NULL WHEN i % 7 = 0 THEN '' ELSE 'v'||i END, i*1.25, CASE WHEN i % 11 = 0 THEN 'NaN'::numeric ELSE 123456789012345678901234567890.5 + i END, i%7, i%100, i/3.0, i/7.0, '2024-01-01'::timestamptz + i*interval '1 minute 7.123456 seconds', '2024-01-01'::timestamp + i*interval '1 second', i%2=0, '2024-01-01'::date + i%30, md5(i::text)::uuid, jsonb_build_object('k', i, 'a', ARRAY[1,2]), 'ab', decode(md5(i::text), 'hex'), '12:34:56.789'::time, make_interval(days => i), ARRAY['x', i::text] FROM generate_series(1, {rows}) i;
         ANALYZE {schema}.orders;"
    ));
}

#[test]
fn a_table_matches_itself_and_its_copy_over_several_connections() {
    let s = schema("self");
    load_orders(&s, 3000);
    pg_server::sql(&format!(
        "CREATE TABLE {s}.copy AS SELECT * FROM {s}.orders; ANALYZE {s}.copy;"
    ));
    let got = summary_of(
        &pg_server::table(&format!("{s}.orders")),
        &pg_server::table(&format!("{s}.copy")),
        "order_id",
        &["--pg-connections", "3", "--min-accuracy", "100"],
        0,
    );
    assert_eq!(got["matched"], 3000);
    // Every column, exotic types included, was compared.
    assert_eq!(got["columns"].as_array().unwrap().len(), 19);
    let amount = got["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"] == "amount")
        .unwrap()
        .clone();
    assert_eq!(amount["compare_as"], "number");
}

#[test]
fn differences_between_two_tables_are_exact() {
    let s = schema("diff");
    load_orders(&s, 2000);
    pg_server::sql(&format!(
        "CREATE TABLE {s}.new AS SELECT * FROM {s}.orders;
         UPDATE {s}.new SET amount = amount + 0.01 WHERE order_id % 100 = 0;
         UPDATE {s}.new SET note = NULL WHERE order_id % 7 = 0 AND order_id % 5 <> 0;
         DELETE FROM {s}.new WHERE order_id % 300 = 0;
         INSERT INTO {s}.new (order_id, name) VALUES (9001, 'extra'), (9002, 'extra');"
    ));
    let got = summary_of(
        &pg_server::table(&format!("{s}.orders")),
        &pg_server::table(&format!("{s}.new")),
        "order_id",
        &[],
        0,
    );
    let deleted = 2000 / 300;
    let amount_changed = 2000 / 100 - (1..=2000).filter(|i| i % 100 == 0 && i % 300 == 0).count();
    let note_changed = (1..=2000u32)
        .filter(|i| i % 7 == 0 && i % 5 != 0 && i % 300 != 0)
        .count();
    let both = (1..=2000u32)
        .filter(|i| i % 100 == 0 && i % 7 == 0 && i % 5 != 0 && i % 300 != 0)
        .count();
    assert_eq!(got["missing_in_target"], deleted);
    assert_eq!(got["extra_in_target"], 2);
    assert_eq!(
        got["changed"],
        (amount_changed + note_changed - both) as u64
    );
    let column = |name: &str| {
        got["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["source"] == name)
            .unwrap()["mismatched"]
            .clone()
    };
    assert_eq!(column("amount"), amount_changed as u64);
    assert_eq!(
        column("note"),
        note_changed as u64,
        "NULL and the empty string differ"
    );
}

#[test]
fn a_table_equals_its_csv_export() {
    let s = schema("csv");
    load_orders(&s, 500);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("orders.csv");
    // PostgreSQL's CSV: NULL unquoted empty, "" the empty string — recon's convention.
    let export = pg_server::copy_out(&format!(
        "COPY (SELECT order_id, name, note, amount, qty, ratio, ts, local_ts, ok::text AS ok, d, u, j, c FROM {s}.orders ORDER BY order_id DESC) TO STDOUT (FORMAT csv, HEADER, FORCE_QUOTE (name))"
    ));
    std::fs::write(&csv, export).unwrap();
    let got = summary_of(
        &pg_server::table(&format!("{s}.orders")),
        csv.to_str().unwrap(),
        "order_id",
        &["--min-accuracy", "100"],
        0,
    );
    assert_eq!(got["matched"], 500);
}

#[test]
fn one_snapshot_under_a_concurrent_writer() {
    let s = schema("snapshot");
    pg_server::sql(&format!(
        "CREATE TABLE {s}.t(id int primary key, v int); INSERT INTO {s}.t SELECT i, 0 FROM generate_series(1, 200000) i; ANALYZE {s}.t;
         CREATE TABLE {s}.before AS SELECT * FROM {s}.t; ANALYZE {s}.before;"
    ));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let s = s.clone();
        std::thread::spawn(move || {
            let mut round = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                round += 1;
                pg_server::sql(&format!(
                    "UPDATE {s}.t SET v = v + 1 WHERE id % 50 = {m}; INSERT INTO {s}.t VALUES ({id}, 1);",
                    m = round % 50,
                    id = 1_000_000 + round
                ));
            }
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("j.json");
    let run = recon()
        .args([
            "diff",
            "--source",
            &pg_server::table(&format!("{s}.before")),
            "--target",
            &pg_server::table(&format!("{s}.t")),
        ])
        .args(["--key", "id", "--pg-connections", "4", "--json"])
        .arg(&summary)
        .assert();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    run.code(0);
    let got = json(&summary);
    // Whatever the writer committed before the scan's snapshot counts; nothing after it.
    // Every row read comes from that one instant: keys and values agree with one state.
    let changed = got["changed"].as_u64().unwrap();
    let extra = got["extra_in_target"].as_u64().unwrap();
    assert_eq!(got["missing_in_target"], 0);
    assert_eq!(got["matched"].as_u64().unwrap() + changed, 200_000);
    assert_eq!(got["target"]["rows"].as_u64().unwrap(), 200_000 + extra);
}

#[test]
fn scans_are_read_only() {
    let s = schema("readonly");
    pg_server::sql(&format!(
        "CREATE TABLE {s}.t(id int); INSERT INTO {s}.t VALUES (1); CREATE SEQUENCE {s}.seq;"
    ));
    let location = format!(
        "{}&where=pg_catalog.setval('{s}.seq', 42) > 0",
        pg_server::table(&format!("{s}.t"))
    );
    recon()
        .args([
            "diff",
            "--source",
            &location,
            "--target",
            &pg_server::table(&format!("{s}.t")),
            "--key",
            "id",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("read-only transaction"));
    assert_eq!(
        pg_server::query(&format!("SELECT last_value FROM {s}.seq")),
        "1"
    );
}

#[test]
fn errors_name_the_problem_and_never_the_password() {
    let s = schema("errors");
    pg_server::sql(&format!("CREATE TABLE {s}.t(id int, v text);"));
    let with_password = pg_server::table(&format!("{s}.t"))
        .replacen("://", "://postgres:hunter2@", 1)
        .replacen("postgres:hunter2@postgres@", "postgres:hunter2@", 1);
    let cases = [
        (
            "postgres://postgres:hunter2@127.0.0.1:1/db?table=t".to_string(),
            "id",
            "Connection refused",
        ),
        (
            pg_server::table(&format!("{s}.nope")),
            "id",
            "does not exist",
        ),
        (
            pg_server::table(&format!("{s}.t")),
            "missing_key",
            "key column \"missing_key\" not found",
        ),
        (
            format!(
                "{}&where=v%20%3D%3D%20",
                pg_server::table(&format!("{s}.t"))
            ),
            "id",
            "syntax error",
        ),
        (pg_server::server().to_string(), "id", "names no table"),
        (
            format!(
                "{}?table=t",
                pg_server::server().rsplit_once('/').unwrap().0.to_string() + "/recon_no_such_db"
            ),
            "id",
            "database \"recon_no_such_db\" does not exist",
        ),
        (
            pg_server::table("recon_no_such_schema.t"),
            "id",
            "does not exist",
        ),
        (
            format!("{}?query=SELECT%20v%20FROM%20{s}.t", pg_server::server()),
            "id",
            "key column \"id\" not found",
        ),
        (
            format!(
                "{}?query=DELETE%20FROM%20{s}.t%20RETURNING%20*",
                pg_server::server()
            ),
            "id",
            "recon only reads; give a SELECT",
        ),
        (
            format!("{}&sslmod=disable", pg_server::table(&format!("{s}.t"))),
            "id",
            "unknown or invalid parameter \"sslmod\"",
        ),
        (
            format!("{}?query=%20", pg_server::server()),
            "id",
            "the query is empty",
        ),
        (
            format!("{}&table={s}.t", pg_server::table(&format!("{s}.other"))),
            "id",
            "gives table twice",
        ),
    ];
    for (location, key, expected) in cases {
        let run = recon()
            .args([
                "diff",
                "--source",
                &location,
                "--target",
                &with_password,
                "--key",
                key,
            ])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected));
        let output = run.get_output();
        for stream in [&output.stdout, &output.stderr] {
            assert!(
                !String::from_utf8_lossy(stream).contains("hunter2"),
                "password shown for {location}"
            );
        }
    }
}

#[test]
fn a_server_that_goes_away_mid_scan_fails_the_run() {
    let s = schema("away");
    pg_server::sql(&format!(
        "CREATE TABLE {s}.t(id int primary key, v int); INSERT INTO {s}.t SELECT i, i FROM generate_series(1, 20000) i;"
    ));
    // A slow filter keeps the scan running while another session ends it.
    let location = format!(
        "{}&where=pg_catalog.pg_sleep(0.0002)%20IS%20NOT%20NULL",
        pg_server::table(&format!("{s}.t"))
    );
    let killer = std::thread::spawn(|| {
        for _ in 0..100 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let killed = pg_server::query(
                // Only this test's scan: other tests scan the same server in parallel.
                "SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity WHERE application_name = 'recon' AND query ILIKE 'COPY%recon_away%pg_sleep%'",
            );
            if killed != "0" {
                return;
            }
        }
        panic!("the scan never showed up to be terminated");
    });
    let run = recon()
        .args([
            "diff",
            "--source",
            &location,
            "--target",
            &pg_server::table(&format!("{s}.t")),
            "--key",
            "id",
            "--json",
        ])
        .arg(std::env::temp_dir().join(format!("recon-away-{}.json", std::process::id())))
        .assert();
    killer.join().unwrap();
    run.code(2).stderr(
        predicate::str::contains("terminat").or(predicate::str::contains("ended the scan early")),
    );
}

#[test]
fn statement_timeout_is_respected_and_permissions_are_reported() {
    let s = schema("limits");
    pg_server::sql(&format!(
        "CREATE TABLE {s}.t(id int); INSERT INTO {s}.t VALUES (1), (2);
         DO $$ BEGIN CREATE ROLE recon_no_access LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         GRANT USAGE ON SCHEMA {s} TO recon_no_access;"
    ));
    let slow = format!(
        "{}&where=pg_catalog.pg_sleep(1)%20IS%20NOT%20NULL&options=-c%20statement_timeout%3D200",
        pg_server::table(&format!("{s}.t"))
    );
    recon()
        .args([
            "diff",
            "--source",
            &slow,
            "--target",
            &pg_server::table(&format!("{s}.t")),
            "--key",
            "id",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("statement timeout"));
    let as_role = pg_server::table(&format!("{s}.t"))
        .replacen("://postgres@", "://recon_no_access@", 1)
        .replacen("://root@", "://recon_no_access@", 1);
    if as_role.contains("recon_no_access") {
        recon()
            .args([
                "diff",
                "--source",
                &as_role,
                "--target",
                &pg_server::table(&format!("{s}.t")),
                "--key",
                "id",
            ])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("permission denied"));
    } else {
        panic!(
            "the test server URL names no user to replace: {}",
            pg_server::server()
        );
    }
}

#[test]
fn huge_and_infinite_numerics_equal_themselves() {
    let s = schema("numeric");
    pg_server::sql(&format!(
        "CREATE TABLE {s}.t(k numeric primary key, v numeric, d date, ts timestamptz);
         INSERT INTO {s}.t VALUES
           (1, 'NaN', 'infinity', 'infinity'),
           (2, 'Infinity', '-infinity', '-infinity'),
           (3, '-Infinity', '2024-01-01', '2024-01-01'),
           (123456789012345678901234567890123456789012345.5, 123456789012345678901234567890123456789012345678901234.25, NULL, NULL);"
    ));
    let t = pg_server::table(&format!("{s}.t"));
    let got = summary_of(&t, &t, "k", &["--min-accuracy", "100"], 0);
    assert_eq!(got["matched"], 4);
}

/// numeric travels in binary and recon writes its text itself: compared as text, it must
/// equal PostgreSQL's own output digit for digit (scale zeros, NaN, infinities, huge
/// values, negative weights).
#[test]
fn binary_numerics_equal_the_servers_own_text() {
    let s = schema("numeric_text");
    pg_server::sql(&format!(
        "CREATE TABLE {s}.t(k int primary key, v numeric, money numeric(12,2));
         INSERT INTO {s}.t VALUES
           (1, 0, 0), (2, 0.000, -0.5), (3, -0.5, 5), (4, 'NaN', NULL), (5, 'Infinity', 1),
           (6, '-Infinity', 2), (7, 0.00000000000000000001, 3), (8, 10000, 4),
           (9, 123456789.000100, 9999999999.99), (10, -700000001, -0.01),
           (11, 10::numeric ^ 200 + 0.5, 0.10), (12, NULL, 6);
         INSERT INTO {s}.t SELECT i, (i * 7919.123457)::numeric(30, 0) / 10 ^ (i % 23),
           ((i * 37) % 100000) / 100.0 FROM generate_series(13, 2000) i;"
    ));
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("t.csv");
    std::fs::write(
        &export,
        pg_server::copy_out(&format!(
            "COPY (SELECT k, v, money FROM {s}.t) TO STDOUT (FORMAT csv, HEADER)"
        )),
    )
    .unwrap();
    let job = dir.path().join("job.toml");
    std::fs::write(
        &job,
        "[[columns]]\nsource = \"v\"\ntype = \"text\"\n\n[[columns]]\nsource = \"money\"\ntype = \"text\"\n",
    )
    .unwrap();
    let got = summary_of(
        &pg_server::table(&format!("{s}.t")),
        export.to_str().unwrap(),
        "k",
        &["--config", job.to_str().unwrap(), "--min-accuracy", "100"],
        0,
    );
    assert_eq!(got["matched"], 2000, "{got:#}");
}

/// NaN, the infinities and decimals beyond 38 digits are numbers in a mapped column too
/// (a normalizer or a tolerance): equal to themselves, never "unparseable".
#[test]
fn wide_numerics_equal_themselves_in_mapped_columns() {
    let s = schema("numeric_mapped");
    pg_server::sql(&format!(
        "CREATE TABLE {s}.t(k int primary key, v numeric);
         INSERT INTO {s}.t VALUES (1, 'NaN'), (2, 'Infinity'), (3, '-Infinity'),
           (4, 10::numeric ^ 44 + 0.5), (5, 1.000000000000000000000000000000000000000000000),
           (6, 12.50), (7, 99.99);"
    ));
    let dir = tempfile::tempdir().unwrap();
    // The export, with one real difference (row 7) and one spelling (12.5 for 12.50).
    let export = pg_server::copy_out(&format!(
        "COPY (SELECT k, v FROM {s}.t ORDER BY k) TO STDOUT (FORMAT csv, HEADER)"
    ))
    .replace("12.50", "12.5")
    .replace("99.99", "99.97");
    let csv = dir.path().join("t.csv");
    std::fs::write(&csv, export).unwrap();
    for mapping in [
        "tolerance = { abs = 0.01 }",
        "source_normalize = [\"trim\"]",
    ] {
        let job = dir.path().join("job.toml");
        std::fs::write(&job, format!("[[columns]]\nsource = \"v\"\n{mapping}\n")).unwrap();
        let got = summary_of(
            csv.to_str().unwrap(),
            &pg_server::table(&format!("{s}.t")),
            "k",
            &["--config", job.to_str().unwrap()],
            0,
        );
        assert_eq!(
            (got["matched"].as_u64(), got["changed"].as_u64()),
            (Some(6), Some(1)),
            "{mapping}: {got:#}"
        );
    }
}

/// PostgreSQL writes infinite and BC dates and timestamps as `infinity`, `-infinity` and
/// `… BC`, and years past 9999 with five digits, in its own CSV export: a table equals
/// that export, and shows them so.
#[test]
fn infinite_and_bc_dates_and_timestamps_equal_their_export() {
    let s = schema("infinite_times");
    pg_server::sql(&format!(
        "CREATE TABLE {s}.t(k int primary key, d date, ts timestamp, tz timestamptz);
         INSERT INTO {s}.t VALUES
           (1, 'infinity', 'infinity', 'infinity'),
           (2, '-infinity', '-infinity', '-infinity'),
           (3, '0044-03-15 BC', '0044-03-15 12:30:00 BC', '4713-01-01 00:00:00+00 BC'),
           (4, '2024-02-29', '2024-02-29 23:59:59.999999', '2024-02-29 23:59:59.999999+00'),
           (5, '10000-01-01', '10000-01-01 00:00:00', '10000-01-01 00:00:00+00');"
    ));
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("t.csv");
    std::fs::write(
        &export,
        pg_server::copy_out(&format!("COPY {s}.t TO STDOUT (FORMAT csv, HEADER)")),
    )
    .unwrap();
    let table = pg_server::table(&format!("{s}.t"));
    let got = summary_of(
        &table,
        export.to_str().unwrap(),
        "k",
        &["--min-accuracy", "100"],
        0,
    );
    assert_eq!(got["matched"], 5, "{got:#}");
    // A real difference next to an infinity is shown with PostgreSQL's word for it.
    let changed = std::fs::read_to_string(&export).unwrap().replacen(
        "1,infinity,infinity,infinity",
        "1,infinity,infinity,2024-01-01 00:00:00+00",
        1,
    );
    std::fs::write(&export, changed).unwrap();
    let diffs = dir.path().join("d.csv");
    summary_of(
        &table,
        export.to_str().unwrap(),
        "k",
        &["--diffs", diffs.to_str().unwrap()],
        0,
    );
    let text = std::fs::read_to_string(&diffs).unwrap();
    assert!(
        text.contains("1,changed,tz,infinity,2024-01-01 00:00:00+00,"),
        "{text}"
    );
    // Past what an Arrow timestamp holds: a clear error naming the column, no garbling.
    pg_server::sql(&format!(
        "CREATE TABLE {s}.far(k int primary key, ts timestamptz);
         INSERT INTO {s}.far VALUES (1, '294276-12-31 23:59:59+00');"
    ));
    let far = pg_server::table(&format!("{s}.far"));
    recon()
        .args(["diff", "--source", &far, "--target", &far, "--key", "k"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "column \"ts\": a timestamp after the year 294246, the last recon holds",
        ));
}

/// Python's Decimal, Java's BigDecimal and Spark write decimals with exponents (`0E-8`):
/// read against a typed numeric, they are the same numbers.
#[test]
fn decimals_written_with_exponents_equal_the_typed_numbers() {
    let s = schema("exponents");
    pg_server::sql(&format!(
        "CREATE TABLE {s}.t(k int primary key, v numeric(20, 8));
         INSERT INTO {s}.t VALUES (1, 0), (2, 1500), (3, 2.5), (4, -0.00012);"
    ));
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    std::fs::write(&csv, "k,v\n1,0E-8\n2,1.5E+3\n3,2.5E0\n4,-1.2e-4\n").unwrap();
    let got = summary_of(
        &pg_server::table(&format!("{s}.t")),
        csv.to_str().unwrap(),
        "k",
        &["--min-accuracy", "100"],
        0,
    );
    assert_eq!(got["matched"], 4, "{got:#}");
}

/// A real compared with a double precision is widened, and shown widened: 0.1 as a real
/// is 0.10000000149011612, which is why it differs from the double 0.1.
#[test]
fn a_real_against_a_double_shows_the_widened_value() {
    let s = schema("real_double");
    pg_server::sql(&format!(
        "CREATE TABLE {s}.r(id int primary key, f real); INSERT INTO {s}.r VALUES (1, 0.1), (2, 0.5);
         CREATE TABLE {s}.d(id int primary key, f double precision); INSERT INTO {s}.d VALUES (1, 0.1), (2, 0.5);"
    ));
    let dir = tempfile::tempdir().unwrap();
    let diffs = dir.path().join("d.csv");
    let got = summary_of(
        &pg_server::table(&format!("{s}.r")),
        &pg_server::table(&format!("{s}.d")),
        "id",
        &["--diffs", diffs.to_str().unwrap()],
        0,
    );
    assert_eq!(
        (got["matched"].as_u64(), got["changed"].as_u64()),
        (Some(1), Some(1))
    );
    let text = std::fs::read_to_string(&diffs).unwrap();
    assert!(
        text.contains("1,changed,f,0.10000000149011612,0.1,"),
        "{text}"
    );
}

/// A char(n) key against a varchar key: every key is one-sided, and the summary says why.
#[test]
fn padded_char_keys_against_varchar_keys_get_a_hint() {
    let s = schema("char_keys");
    pg_server::sql(&format!(
        "CREATE TABLE {s}.a(code char(8) primary key, v int);
         CREATE TABLE {s}.b(code varchar(8) primary key, v int);
         INSERT INTO {s}.a SELECT 'c' || i, i FROM generate_series(1, 50) i;
         INSERT INTO {s}.b SELECT 'c' || i, i FROM generate_series(1, 50) i;"
    ));
    let got = summary_of(
        &pg_server::table(&format!("{s}.a")),
        &pg_server::table(&format!("{s}.b")),
        "code",
        &[],
        0,
    );
    assert_eq!(got["missing_in_target"], 50);
    let warnings = got["warnings"].to_string();
    assert!(
        warnings.contains("trailing blanks (char(n) padding?) — add `rtrim`"),
        "{got:#}"
    );
}

/// Exact numbers against floats: equal when the float is the number (0.1, 19.99, 2^53),
/// different when the float dropped digits (a bigint id or a long numeric copied into
/// float8) — and declared types and scale steps on a float side work exactly.
#[test]
fn exact_numbers_against_floats_catch_lost_digits() {
    let s = schema("exact_float");
    pg_server::sql(&format!(
        "CREATE TABLE {s}.n(id int primary key, v numeric, big bigint);
         INSERT INTO {s}.n VALUES (1, 12345678901234567.89, 9007199254740993), (2, 0.1, 1),
           (3, 100000000000000000000.02, 9223372036854775807), (4, 19.99, 9007199254740992);
         CREATE TABLE {s}.f AS SELECT id, v::float8 AS v, big::float8 AS big FROM {s}.n;
         CREATE TABLE {s}.cents(id int primary key, v bigint, big bigint);
         INSERT INTO {s}.cents VALUES (1, 1999, 1), (2, 29, 2);
         CREATE TABLE {s}.usd(id int primary key, v float8, big bigint);
         INSERT INTO {s}.usd VALUES (1, 19.99, 1), (2, 0.285, 2);"
    ));
    let table = |t: &str| pg_server::table(&format!("{s}.{t}"));
    let got = summary_of(&table("n"), &table("f"), "id", &[], 0);
    assert_eq!(
        (got["matched"].as_u64(), got["changed"].as_u64()),
        (Some(2), Some(2)),
        "{got:#}"
    );
    // Each column on its own: numeric v loses digits in rows 1 and 3; bigint big in row
    // 1 (9007199254740993) and row 3 (2^63 - 1 becomes 2^63, which bigint cannot hold).
    for (column, other) in [("v", "big"), ("big", "v")] {
        let got = summary_of(&table("n"), &table("f"), "id", &["--exclude", other], 0);
        assert_eq!(got["changed"], 2, "{column}: {got:#}");
    }
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.toml");
    // Dollars in a float against cents: scaled and rounded as decimals, exactly.
    std::fs::write(
        &job,
        "[[columns]]\nsource = \"v\"\nsource_normalize = [{ round = 2 }]\nsource_scale = 100\n",
    )
    .unwrap();
    let got = summary_of(
        &table("usd"),
        &table("cents"),
        "id",
        &["--config", job.to_str().unwrap(), "--exclude", "big"],
        0,
    );
    assert_eq!(got["matched"], 2, "{got:#}");
    // A declared decimal type with a float on one side.
    std::fs::write(
        &job,
        "[[columns]]\nsource = \"v\"\ntype = \"decimal(30,2)\"\n",
    )
    .unwrap();
    let got = summary_of(
        &table("n"),
        &table("f"),
        "id",
        &["--config", job.to_str().unwrap(), "--exclude", "big"],
        0,
    );
    assert_eq!(
        (got["matched"].as_u64(), got["changed"].as_u64()),
        (Some(2), Some(2)),
        "{got:#}"
    );
}

/// Text that is not UTF-8 (a SQL_ASCII database) stops the run with the server's own
/// words, never a panic or a silently skipped row.
#[test]
fn text_that_is_not_utf8_is_a_clear_error() {
    pg_server::sql("DROP DATABASE IF EXISTS recon_sql_ascii");
    pg_server::sql(
        "CREATE DATABASE recon_sql_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    );
    let base = pg_server::server().rsplit_once('/').unwrap().0.to_string();
    let url = format!("{base}/recon_sql_ascii");
    pg_server::sql_at(
        &url,
        "CREATE TABLE t(id int primary key, v text); INSERT INTO t VALUES (1, 'ok'), (2, E'caf\\xe9');",
    );
    let table = format!("{url}?table=t");
    recon()
        .args([
            "diff", "--source", &table, "--target", &table, "--key", "id",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid byte sequence for encoding \"UTF8\"",
        ));
}

/// ctid repeats across partitions and children and views have none: such relations are
/// read with their rows numbered by the key, and differing rows are still found again.
#[test]
fn partitioned_and_inherited_tables_and_views_are_read_by_key() {
    let s = schema("partitioned");
    pg_server::sql(&format!(
        "CREATE TABLE {s}.p(id int, v text) PARTITION BY RANGE (id);
         CREATE TABLE {s}.p1 PARTITION OF {s}.p FOR VALUES FROM (0) TO (1000);
         CREATE TABLE {s}.p2 PARTITION OF {s}.p FOR VALUES FROM (1000) TO (5000);
         INSERT INTO {s}.p SELECT i, 'v' || i FROM generate_series(1, 3000) i;
         CREATE TABLE {s}.parent(id int, v text);
         CREATE TABLE {s}.child() INHERITS ({s}.parent);
         INSERT INTO {s}.parent SELECT i, 'v' || i FROM generate_series(1, 1500) i;
         INSERT INTO {s}.child SELECT i, 'v' || i FROM generate_series(1501, 3000) i;
         CREATE VIEW {s}.changed AS SELECT id, CASE WHEN id = 2500 THEN 'other' ELSE v END AS v FROM {s}.p WHERE id <> 10;"
    ));
    let dir = tempfile::tempdir().unwrap();
    let diffs = dir.path().join("d.csv");
    let diff = |source: &str, target: &str, code: i32| {
        summary_of(
            source,
            target,
            "id",
            &["--diffs", diffs.to_str().unwrap()],
            code,
        )
    };
    let partitioned = pg_server::table(&format!("{s}.p"));
    let inherited = pg_server::table(&format!("{s}.parent"));
    let view = pg_server::table(&format!("{s}.changed"));
    let same = diff(&partitioned, &inherited, 0);
    assert_eq!(
        (same["matched"].as_u64(), same["changed"].as_u64()),
        (Some(3000), Some(0)),
        "{same}"
    );
    let changed = diff(&partitioned, &view, 0);
    assert_eq!(
        (
            changed["matched"].as_u64(),
            changed["changed"].as_u64(),
            changed["missing_in_target"].as_u64()
        ),
        (Some(2998), Some(1), Some(1)),
        "{changed}"
    );
    let lines = std::fs::read_to_string(&diffs).unwrap();
    assert!(
        lines.contains("2500") && lines.contains("v2500") && lines.contains("other"),
        "{lines}"
    );
    // A view whose keys change on every read: the drill-down finds other rows than the
    // scan saw, and the run fails instead of reporting them, naming no sensitive key.
    pg_server::sql(&format!(
        "CREATE VIEW {s}.volatile AS SELECT id::bigint * 1000000 + floor(random() * 1000000)::bigint AS id, v FROM {s}.p;"
    ));
    let volatile = pg_server::table(&format!("{s}.volatile"));
    recon()
        .args([
            "diff",
            "--source",
            &partitioned,
            "--target",
            &volatile,
            "--key",
            "id",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no longer has the key the scan saw (it now has key [Some(",
        ));
    let job = dir.path().join("job.toml");
    std::fs::write(
        &job,
        format!("key = \"id\"\n[source]\nuri = {partitioned:?}\n[target]\nuri = {volatile:?}\n[[columns]]\nsource = \"id\"\nsensitive = true\n"),
    )
    .unwrap();
    recon()
        .args(["diff", "--config"])
        .arg(&job)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("(it now has key (masked))"));
}

#[test]
fn postgres_values_equal_the_same_values_in_parquet() {
    use std::sync::Arc;

    use arrow_array::{
        ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
        RecordBatch, StringArray, TimestampMicrosecondArray,
    };
    use arrow_schema::{DataType, Field, Schema, TimeUnit};

    let s = schema("parquet");
    let rows = 300i64;
    pg_server::sql(&format!(
        "CREATE TABLE {s}.t(id bigint, amount numeric(12,2), ts timestamptz, u uuid, n int, t text, d date, f double precision, b boolean);
         INSERT INTO {s}.t SELECT i, i * 1.25 - 100, to_timestamp(1700000000 + i * 3600.5), md5(i::text)::uuid, i % 7, 'text ' || i,
                '2024-01-01'::date + i, i / 8.0, i % 2 = 0 FROM generate_series(1, {rows}) i;"
    ));
    let uuids: Vec<String> = pg_server::query(&format!("SELECT u FROM {s}.t ORDER BY id"))
        .lines()
        .map(String::from)
        .collect();
    let ids: Vec<i64> = (1..=rows).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.clone())),
        Arc::new(
            Decimal128Array::from(
                ids.iter()
                    .map(|i| i128::from(*i) * 125 - 10_000)
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(12, 2)
            .unwrap(),
        ),
        Arc::new(
            TimestampMicrosecondArray::from(
                ids.iter()
                    .map(|i| (1_700_000_000 + i * 3600) * 1_000_000 + i * 500_000)
                    .collect::<Vec<_>>(),
            )
            .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from(uuids)),
        Arc::new(Int32Array::from(
            ids.iter().map(|i| (*i % 7) as i32).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            ids.iter().map(|i| format!("text {i}")).collect::<Vec<_>>(),
        )),
        Arc::new(Date32Array::from(
            ids.iter().map(|i| 19_723 + *i as i32).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            ids.iter().map(|i| *i as f64 / 8.0).collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(
            ids.iter().map(|i| i % 2 == 0).collect::<Vec<_>>(),
        )),
    ];
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("amount", DataType::Decimal128(12, 2), false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("u", DataType::Utf8, false),
        Field::new("n", DataType::Int32, false),
        Field::new("t", DataType::Utf8, false),
        Field::new("d", DataType::Date32, false),
        Field::new("f", DataType::Float64, false),
        Field::new("b", DataType::Boolean, false),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("t.parquet");
    let mut writer = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&parquet).unwrap(),
        schema.clone(),
        None,
    )
    .unwrap();
    writer
        .write(&RecordBatch::try_new(schema, columns).unwrap())
        .unwrap();
    writer.close().unwrap();
    let got = summary_of(
        &pg_server::table(&format!("{s}.t")),
        parquet.to_str().unwrap(),
        "id",
        &["--min-accuracy", "100"],
        0,
    );
    assert_eq!(got["matched"], rows);
    assert_eq!(got["columns"].as_array().unwrap().len(), 8);
}

#[test]
fn a_query_is_a_source_too() {
    let s = schema("query");
    load_orders(&s, 1000);
    pg_server::sql(&format!(
        "CREATE TABLE {s}.new AS SELECT * FROM {s}.orders; UPDATE {s}.new SET qty = qty + 1 WHERE order_id % 100 = 0;"
    ));
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.toml");
    std::fs::write(
        &job,
        format!(
            "key = \"id\"\n[source]\nuri = {:?}\nquery = \"SELECT order_id AS id, qty, name FROM {s}.orders WHERE order_id <= 500\"\n[target]\nuri = {:?}\ntable = \"{s}.new\"\nwhere = \"order_id <= 500\"\n[[columns]]\nsource = \"id\"\ntarget = \"order_id\"\n",
            pg_server::server(),
            pg_server::server()
        ),
    )
    .unwrap();
    let summary = dir.path().join("j.json");
    let diffs = dir.path().join("d.csv");
    recon()
        .args(["diff", "--config"])
        .arg(&job)
        .args(["--json"])
        .arg(&summary)
        .arg("--diffs")
        .arg(&diffs)
        .assert()
        .code(0);
    let got = json(&summary);
    assert_eq!(got["changed"], 5);
    assert_eq!(got["matched"], 495);
    assert_eq!(got["only_in_target"].as_array().unwrap().len(), 17);
    // A key named in another letter case than the query's column still numbers its rows.
    let cased = format!(
        "{}?query=SELECT%20order_id%20AS%20%22Order_ID%22%2C%20qty%20FROM%20{s}.new",
        pg_server::server()
    );
    let same = summary_of(&cased, &cased, "order_id", &[], 0);
    assert_eq!(same["matched"], 1000, "{same:#}");
    // A query's closing semicolon is accepted.
    let with_semicolon = format!(
        "{}?query=SELECT%20order_id%20FROM%20{s}.new%3B%20",
        pg_server::server()
    );
    recon()
        .args([
            "diff",
            "--source",
            &with_semicolon,
            "--target",
            &with_semicolon,
        ])
        .args(["--key", "order_id", "-q"])
        .assert()
        .code(0);
    // The job file's query, table and filter are part of the location every report shows.
    let target_uri = got["target"]["uri"].as_str().unwrap();
    assert!(
        target_uri.ends_with(&format!("?table={s}.new&where=order_id <= 500")),
        "{target_uri}"
    );
    assert!(
        got["source"]["uri"]
            .as_str()
            .unwrap()
            .contains("query=SELECT order_id AS id"),
        "{got:#}"
    );
    // The plan shows them too.
    recon()
        .args(["explain", "--config"])
        .arg(&job)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(format!(
            "?table={s}.new&where=order_id <= 500"
        )));
    // So does a filter given as a flag.
    recon()
        .args(["diff", "--config"])
        .arg(&job)
        .args(["--target-where", "order_id <= 400", "-q"])
        .assert()
        .stderr(predicate::str::contains(
            "--target-where replaces the job file's [target] where",
        ));
    // A location given as a flag replaces the job file's side, and says so.
    recon()
        .args(["diff", "--config"])
        .arg(&job)
        .args(["--target", &pg_server::table(&format!("{s}.new")), "-q"])
        .assert()
        .stderr(predicate::str::contains(
            "--target replaces the job file's [target] with its table, query and where",
        ));
    // A filter in the location and another from a flag: refused, never one silently.
    let plain = pg_server::table(&format!("{s}.new"));
    let filtered = format!("{plain}&where=order_id%20%3C%2010");
    for (location, filter, message) in [
        (
            &filtered,
            "order_id > 5",
            "has where=\"order_id < 10\" and the options give where",
        ),
        (&plain, " ", "the row filter is empty"),
    ] {
        recon()
            .args([
                "diff", "--source", location, "--target", location, "--key", "order_id",
            ])
            .args(["--source-where", filter])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    // The changed rows were found again through the query's numbering.
    let text = std::fs::read_to_string(&diffs).unwrap();
    assert!(text.contains("\n100,changed,qty,2,3,"), "{text}");
    // A query that could escape its brackets is refused.
    let bad = format!(
        "{}&query=SELECT%201)%20x%3B%20SELECT%20(1",
        pg_server::server()
            .replace("/test", "/test?x=1")
            .split('?')
            .next()
            .unwrap()
    );
    recon()
        .args([
            "diff",
            "--source",
            &bad,
            "--target",
            &pg_server::table(&format!("{s}.new")),
            "--key",
            "id",
        ])
        .assert()
        .code(2);
}

#[test]
fn tls_modes_behave_as_in_libpq() {
    let (url, cert) = pg_server::tls_server();
    pg_server::sql_at(
        url,
        "CREATE TABLE IF NOT EXISTS tls_t(id int primary key); INSERT INTO tls_t VALUES (1), (2) ON CONFLICT DO NOTHING;",
    );
    let location = |mode: &str, extra: &str| format!("{url}?table=tls_t&sslmode={mode}{extra}");
    // A home without ~/.postgresql/root.crt, so libpq's default authority file is absent.
    let home = tempfile::tempdir().unwrap();
    let run = |source: String| {
        recon()
            .env("HOME", home.path())
            .args([
                "diff",
                "--source",
                &source,
                "--target",
                &location("require", ""),
                "--key",
                "id",
                "-q",
            ])
            .assert()
    };
    run(location("require", "")).code(0);
    run(location("prefer", "")).code(0);
    // The certificate is signed by a test authority: verification needs it as a root.
    run(location("verify-full", "")).code(2).stderr(
        predicate::str::contains("UnknownIssuer").and(predicate::str::contains("sslrootcert=")),
    );
    let root = format!("&sslrootcert={}", cert.display());
    run(location("verify-full", &root)).code(0);
    run(location("verify-ca", &root)).code(0);
    run(location("disable", "")).code(0);
    // As in libpq: require with a root certificate verifies the chain, verify-ca needs
    // one, and PGSSLMODE / PGSSLROOTCERT apply when the URI says nothing.
    let empty = std::env::temp_dir().join(format!("recon-empty-{}.crt", std::process::id()));
    std::fs::write(&empty, "").unwrap();
    run(location(
        "require",
        &format!("&sslrootcert={}", empty.display()),
    ))
    .code(2)
    .stderr(predicate::str::contains("holds no PEM certificate"));
    std::fs::remove_file(&empty).unwrap();
    run(location("verify-ca", ""))
        .code(2)
        .stderr(predicate::str::contains("verify-ca needs sslrootcert"));
    let unset = format!("{url}?table=tls_t");
    let with_env = |mode: &str, root: Option<&std::path::Path>| {
        let mut command = recon();
        command
            .args([
                "diff", "--source", &unset, "--target", &unset, "--key", "id", "-q",
            ])
            .env("PGSSLMODE", mode)
            .env("HOME", home.path())
            .env_remove("PGSSLROOTCERT");
        if let Some(root) = root {
            command.env("PGSSLROOTCERT", root);
        }
        command.assert()
    };
    with_env("verify-full", None)
        .code(2)
        .stderr(predicate::str::contains("UnknownIssuer"));
    with_env("verify-full", Some(cert)).code(0);
    // libpq's default authority file serves when nothing names one.
    std::fs::create_dir(home.path().join(".postgresql")).unwrap();
    std::fs::copy(cert, home.path().join(".postgresql/root.crt")).unwrap();
    run(location("verify-ca", "")).code(0);
    run(location("verify-full", "")).code(0);
}

/// A role admitted by client certificate only: the certificate comes from sslcert/sslkey
/// or, as in libpq, from ~/.postgresql/postgresql.crt and .key.
#[test]
fn client_certificates_log_in_from_the_uri_or_the_home_directory() {
    let (url, _) = pg_server::tls_server();
    pg_server::sql_at(
        url,
        "DO $$ BEGIN CREATE ROLE certuser LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         CREATE TABLE IF NOT EXISTS cert_t(id int primary key); GRANT SELECT ON cert_t TO certuser;",
    );
    let (cert, key) = pg_server::tls_client_cert();
    let table = format!("{}?table=cert_t", url.replacen("postgres@", "certuser@", 1));
    let home = tempfile::tempdir().unwrap();
    let run = |extra: &str| {
        recon()
            .env("HOME", home.path())
            .env_remove("PGSSLCERT")
            .env_remove("PGSSLKEY")
            .args([
                "diff",
                "--source",
                &format!("{table}{extra}"),
                "--target",
                &format!("{table}{extra}"),
                "--key",
                "id",
                "-q",
            ])
            .assert()
    };
    run("")
        .code(2)
        .stderr(predicate::str::contains("certificate"));
    run(&format!(
        "&sslcert={}&sslkey={}",
        cert.display(),
        key.display()
    ))
    .code(0);
    run(&format!("&sslcert={}", cert.display()))
        .code(2)
        .stderr(predicate::str::contains("has no key"));
    run(&format!(
        "&sslcert={}&sslkey={}",
        cert.display(),
        cert.display()
    ))
    .code(2)
    .stderr(predicate::str::contains("sslkey"));
    // A malformed key is named, never quoted.
    let bad_key = home.path().join("bad.key");
    std::fs::write(&bad_key, "-----BEGIN PRIVATE KEY-----S3CR3TB4SE64\n").unwrap();
    run(&format!(
        "&sslcert={}&sslkey={}",
        cert.display(),
        bad_key.display()
    ))
    .code(2)
    .stderr(predicate::str::contains("cannot read sslkey"))
    .stderr(predicate::str::contains("S3CR3T").not());
    // Without TLS, client certificate files are never looked at (as in libpq).
    let admin = format!("{url}?table=cert_t&sslmode=disable");
    std::fs::create_dir(home.path().join(".postgresql")).unwrap();
    std::fs::write(
        home.path().join(".postgresql/postgresql.crt"),
        "not a certificate",
    )
    .unwrap();
    recon()
        .env("HOME", home.path())
        .args([
            "diff", "--source", &admin, "--target", &admin, "--key", "id", "-q",
        ])
        .assert()
        .code(0);
    std::fs::copy(&cert, home.path().join(".postgresql/postgresql.crt")).unwrap();
    std::fs::copy(&key, home.path().join(".postgresql/postgresql.key")).unwrap();
    run("").code(0);
}

#[test]
fn passwords_come_from_the_uri_pgpassword_or_pgpass_and_a_wrong_one_is_named() {
    let admin = pg_server::password_server();
    let reader = |password: &str| {
        let at = if password.is_empty() {
            String::new()
        } else {
            format!(":{password}")
        };
        format!(
            "{}?table=t",
            admin.replacen("postgres@", &format!("reader{at}@"), 1)
        )
    };
    let diff = |source: &str| {
        let mut command = recon();
        command
            .args([
                "diff", "--source", source, "--target", source, "--key", "id", "-q",
            ])
            .env_remove("PGPASSWORD")
            .env("PGPASSFILE", "/nonexistent/recon-test-pgpass");
        command
    };

    let wrong = diff(&reader("wrong-horse-1"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "password authentication failed for user \"reader\"",
        ));
    let output = wrong.get_output();
    for stream in [&output.stdout, &output.stderr] {
        assert!(!String::from_utf8_lossy(stream).contains("wrong-horse-1"));
    }
    diff(&reader(""))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "asks for a password: put it in the URI, PGPASSWORD or ~/.pgpass",
        ));

    diff(&reader(pg_server::READER_PASSWORD)).assert().code(0);
    diff(&reader(""))
        .env("PGPASSWORD", pg_server::READER_PASSWORD)
        .assert()
        .code(0);
    let dir = tempfile::tempdir().unwrap();
    let pgpass = dir.path().join("pgpass");
    let port = admin.rsplit(':').next().unwrap().split('/').next().unwrap();
    std::fs::write(
        &pgpass,
        format!(
            "# host:port:db:user:password\nelsewhere:*:*:*:nope\n127.0.0.1:{port}:*:reader:{}\n",
            pg_server::READER_PASSWORD
        ),
    )
    .unwrap();
    diff(&reader(""))
        .env("PGPASSFILE", &pgpass)
        .assert()
        .code(0);
}

/// Every type the issue lists: a table equals its copy (NULL included), one changed value
/// is found as exactly one difference in that column, and the table equals its own CSV
/// export (PostgreSQL's text forms, as another system would write them).
#[test]
fn every_supported_type_round_trips() {
    let s = schema("types");
    pg_server::sql(&format!(
        "CREATE TYPE {s}.mood AS ENUM ('sad', 'ok', 'happy');
         CREATE DOMAIN {s}.positive AS int CHECK (VALUE > 0);
         CREATE DOMAIN {s}.label AS text CHECK (VALUE <> 'forbidden');"
    ));
    // (type, values, a value different from the first one)
    let cases: &[(&str, &[&str], &str)] = &[
        ("smallint", &["-32768", "0", "32767"], "1"),
        ("integer", &["-2147483648", "7", "2147483647"], "8"),
        (
            "bigint",
            &["-9223372036854775808", "0", "9223372036854775807"],
            "1",
        ),
        (
            "numeric",
            &[
                "'NaN'",
                "1.50",
                "123456789012345678901234567890.123456789",
                "-0.000001",
            ],
            "1.51",
        ),
        ("numeric(10,3)", &["1.5", "-2", "0"], "1.501"),
        (
            "real",
            &["1.5", "3.4028235e38", "1e-45", "'NaN'", "'-Infinity'"],
            "1.25",
        ),
        (
            "double precision",
            &["0.1", "1e308", "'-Infinity'", "'NaN'", "5e-324"],
            "0.2",
        ),
        (
            "text",
            &["'héllo, \"world\"'", "''", "E'line\\nbreak'", "' padded '"],
            "'x'",
        ),
        ("varchar(10)", &["'a'", "''", "'ten chars!'"], "'b'"),
        ("char(5)", &["'ab'", "''", "'abcde'"], "'abc'"),
        ("boolean", &["true", "false"], "false"),
        (
            "date",
            &["'2024-02-29'", "'0001-01-01'", "'9999-12-31'"],
            "'2024-03-01'",
        ),
        (
            "time",
            &["'00:00:00'", "'23:59:59.999999'", "'12:00:00.5'"],
            "'00:00:01'",
        ),
        (
            "timestamp",
            &[
                "'2024-01-01 12:34:56.789012'",
                "'1970-01-01'",
                "'1900-06-30 23:59:59'",
            ],
            "'2024-01-01 12:34:56.789013'",
        ),
        (
            "timestamptz",
            &[
                "'2024-03-31 01:30:00+01'",
                "'1900-01-01 00:00:00+00'",
                "'2038-01-19 03:14:08+00'",
            ],
            "'2024-03-31 01:30:00+02'",
        ),
        (
            "interval",
            &["'1 year 2 mons 3 days 04:05:06.7'", "'-1 day'", "'0'"],
            "'1 year 2 mons 3 days 04:05:06.8'",
        ),
        (
            "uuid",
            &[
                "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
                "'00000000-0000-0000-0000-000000000000'",
            ],
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'",
        ),
        (
            "json",
            &["'{\"b\": 1, \"a\": [1, 2]}'", "'[]'", "'\"text\"'"],
            "'{\"b\": 2, \"a\": [1, 2]}'",
        ),
        (
            "jsonb",
            &["'{\"b\": 1, \"a\": [1, 2]}'", "'null'", "'3.50'"],
            "'{\"b\": 1, \"a\": [2, 1]}'",
        ),
        ("bytea", &["'\\x00ff10'", "'\\x'", "'plain'"], "'\\x00ff11'"),
        (&format!("{s}.mood"), &["'sad'", "'happy'"], "'ok'"),
        (&format!("{s}.positive"), &["1", "2147483647"], "2"),
        (&format!("{s}.label"), &["'a label'", "''"], "'another'"),
        (
            "integer[]",
            &["'{1,2,3}'", "'{}'", "'{NULL,4}'"],
            "'{1,2,4}'",
        ),
        ("text[]", &["'{\"a,b\",c}'", "'{\"\"}'"], "'{\"a,b\",d}'"),
        (&format!("{s}.mood[]"), &["'{sad,happy}'"], "'{happy,sad}'"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let diff = |source: &str, target: &str, code: i32| summary_of(source, target, "id", &[], code);
    for (n, (sql_type, values, changed)) in cases.iter().enumerate() {
        let rows: Vec<String> = values
            .iter()
            .chain(&["NULL"])
            .enumerate()
            .map(|(i, v)| format!("({}, {v})", i + 1))
            .collect();
        pg_server::sql(&format!(
            "CREATE TABLE {s}.t{n}(id int PRIMARY KEY, v {sql_type});
             INSERT INTO {s}.t{n} VALUES {};
             CREATE TABLE {s}.c{n} AS SELECT * FROM {s}.t{n};",
            rows.join(", ")
        ));
        let table = pg_server::table(&format!("{s}.t{n}"));
        let copy = pg_server::table(&format!("{s}.c{n}"));
        let same = diff(&table, &copy, 0);
        assert_eq!(
            (same["matched"].as_u64(), same["changed"].as_u64()),
            (Some(rows.len() as u64), Some(0)),
            "{sql_type}: a table differs from its copy: {same}"
        );
        pg_server::sql(&format!("UPDATE {s}.c{n} SET v = {changed} WHERE id = 1;"));
        let one = diff(&table, &copy, 0);
        assert_eq!(
            (
                one["changed"].as_u64(),
                one["columns"][0]["mismatched"].as_u64()
            ),
            (Some(1), Some(1)),
            "{sql_type}: one changed value is not one difference: {one}"
        );
        let csv = dir.path().join(format!("t{n}.csv"));
        std::fs::write(
            &csv,
            pg_server::copy_out(&format!("COPY {s}.t{n} TO STDOUT (FORMAT csv, HEADER)")),
        )
        .unwrap();
        // bytea compares as bytes; its `\x…` hex export is text, so it is compared
        // through a query that casts it to that text (the README's advice).
        let source = if *sql_type == "bytea" {
            let query = format!("SELECT id, v::text AS v FROM {s}.t{n}")
                .replace(' ', "%20")
                .replace(':', "%3A");
            format!("{}?query={query}", pg_server::server())
        } else {
            table.clone()
        };
        let exported = diff(&source, csv.to_str().unwrap(), 0);
        assert_eq!(
            (exported["matched"].as_u64(), exported["changed"].as_u64()),
            (Some(rows.len() as u64), Some(0)),
            "{sql_type}: a table differs from its CSV export: {exported}"
        );
    }
}

#[test]
fn database_faults_say_what_failed_and_whether_a_retry_may_help() {
    use recon::error::DatabaseFault;
    let s = schema("faults");
    pg_server::sql(&format!("CREATE TABLE {s}.t(id int, v text);"));
    let wrong_password =
        pg_server::password_server().replacen("postgres@", "reader:wrong-horse-2@", 1) + "?table=t";
    let server = |sqlstate: &str| DatabaseFault::Server {
        sqlstate: sqlstate.into(),
    };
    let cases = [
        (
            "postgres://postgres@127.0.0.1:1/db?table=t".to_string(),
            DatabaseFault::Connect,
            true,
        ),
        (
            pg_server::table(&format!("{s}.nope")),
            server("42P01"),
            false,
        ),
        (
            format!(
                "{}?table=t",
                pg_server::server().rsplit_once('/').unwrap().0.to_string() + "/recon_no_such_db"
            ),
            server("3D000"),
            false,
        ),
        (
            format!("{}&sslmod=disable", pg_server::table(&format!("{s}.t"))),
            DatabaseFault::Setup,
            false,
        ),
        (wrong_password, DatabaseFault::Authentication, false),
    ];
    for (location, expected, retryable) in cases {
        let error = match recon::source::open(&location, &recon::source::SourceOptions::default()) {
            Ok(_) => panic!("{location} opened"),
            Err(error) => error,
        };
        match &error {
            recon::Error::Database { fault, .. } => assert_eq!(fault, &expected, "{error}"),
            other => panic!("{location}: not a database error: {other}"),
        }
        assert_eq!(error.is_retryable(), retryable, "{error}");
    }
}
