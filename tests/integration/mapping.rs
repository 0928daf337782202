//! Field mappings end to end: the CRM fixture with and without its mapping, explain, bad
//! job files, keys that are mapped, and tolerance exactness.

use std::path::Path;

use predicates::prelude::*;
use proptest::prelude::*;

use crate::util::*;

fn config(path: &Path) -> assert_cmd::Command {
    let mut cmd = recon();
    cmd.args(["diff", "--config"]).arg(path);
    cmd
}

/// Writes `job` as `dir/job.toml` (its files relative to `dir`), runs it, checks exit
/// code 0 and returns the JSON summary.
fn job_summary(dir: &Path, job: &str) -> serde_json::Value {
    let path = dir.join("job.toml");
    std::fs::write(&path, job).unwrap();
    let summary = dir.join("j.json");
    config(&path)
        .args(["-q", "--json"])
        .arg(&summary)
        .assert()
        .code(0);
    json(&summary)
}

#[test]
fn with_its_mapping_the_crm_pair_differs_exactly_where_the_data_does() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, diffs) = (dir.path().join("s.json"), dir.path().join("d.csv"));
    config(&fixture("crm/job.toml"))
        .arg("--json")
        .arg(&summary)
        .arg("--diffs")
        .arg(&diffs)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("both: trim → lower"));
    let s = json(&summary);
    assert_eq!(s["matched"], 35);
    assert_eq!(s["changed"], 4);
    assert_eq!(s["missing_in_target"], 1);
    assert_eq!(s["extra_in_target"], 1);
    let mismatched: Vec<(String, u64)> = s["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["target"].as_str().unwrap().to_string(),
                c["mismatched"].as_u64().unwrap(),
            )
        })
        .collect();
    for (column, expected) in [
        ("email", 1),
        ("full_name", 0),
        ("balance_cents", 1),
        ("signed_up_at", 1),
        ("state", 1),
        ("newsletter", 0),
    ] {
        assert!(
            mismatched.contains(&(column.to_string(), expected)),
            "{column}: {mismatched:?}"
        );
    }
    assert_eq!(s["excluded"], serde_json::json!(["etl_loaded_at"]));
    let balance = s["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"] == "balance")
        .unwrap();
    assert_eq!(
        balance["normalizers"]["source"],
        serde_json::json!(["scale x100"])
    );
    assert_eq!(balance["tolerance"], "within abs 0.5 (inclusive)");
    let text = std::fs::read_to_string(&diffs).unwrap();
    let keys: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(keys, ["00007", "00011", "00013", "00017", "00023", "41"]);
    // Row 19's balance is 0.5 cent off: exactly the tolerance, so equal.
    assert!(!text.contains("00019"));
    assert!(text.contains("after normalizers: \"\"suspended\"\" vs \"\"closed\"\""));
}

#[test]
fn without_normalizers_every_format_difference_shows_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("s.json");
    config(&fixture("crm/job_renames_only.toml"))
        .arg("--json")
        .arg(&summary)
        .assert()
        .code(0);
    let s = json(&summary);
    assert_eq!(s["matched"], 0);
    let hint = |column: &str| {
        s["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["source"] == column)
            .and_then(|c| c["hint"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(hint("email").contains("`trim` and `lower`"));
    assert!(hint("balance").contains("source_scale = 100"));
    assert!(hint("signup_ts").contains("+5 h"));
    assert!(hint("status").contains("value_map"));
    assert!(hint("newsletter").contains("bool"));
}

#[test]
fn flags_override_the_job_file() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("s.json");
    config(&fixture("crm/job.toml"))
        .args([
            "--min-accuracy",
            "99",
            "--exclude",
            "etl_loaded_at,legacy_segment",
            "-q",
            "--json",
        ])
        .arg(&summary)
        .assert()
        .code(1);
    let s = json(&summary);
    assert_eq!(s["verdict"]["breaches"][0]["threshold"], 99.0);
    assert_eq!(
        s["excluded"],
        serde_json::json!(["legacy_segment", "etl_loaded_at"])
    );
    // Both a mapped column and an exclusion of it: refused rather than guessed.
    config(&fixture("crm/job.toml"))
        .args(["--exclude", "email"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "column \"email\" is both excluded and mapped",
        ));
}

#[test]
fn explain_prints_the_plan_without_reading_rows() {
    let dir = tempfile::tempdir().unwrap();
    // A malformed row far down: a scan would fail on it, explain never reaches it.
    let source = dir.path().join("s.csv");
    std::fs::write(&source, "id,Name,amount\n1,a,1.00\n2,b\n").unwrap();
    let job = dir.path().join("job.toml");
    std::fs::write(
        &job,
        "key = \"id\"\n[source]\nuri = \"s.csv\"\n[target]\nuri = \"s.csv\"\n[[columns]]\nsource = \"Name\"\nnormalize = [\"trim\", \"upper\"]\n[[columns]]\nsource = \"amount\"\ntype = \"decimal(10,1)\"\ntolerance = { abs = 0.05 }\n",
    )
    .unwrap();
    recon()
        .args(["explain", "--config"])
        .arg(&job)
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("Name: Utf8View vs Utf8View, compared as text")
                .and(predicate::str::contains("source normalizers: trim → upper"))
                .and(predicate::str::contains("declared type: decimal(10,1)"))
                .and(predicate::str::contains(
                    "tolerance: within abs 0.05 (inclusive)",
                )),
        );
    config(&job)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("s.csv:3: expected 3 fields"));
}

fn bad_job(body: &str) -> assert_cmd::assert::Assert {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.toml");
    let legacy = fixture("crm/customers_legacy.csv");
    let parquet = fixture("crm/customers.parquet");
    std::fs::write(
        &job,
        format!(
            "key = [\"cust_id\"]\n[source]\nuri = {:?}\n[target]\nuri = {:?}\n[[columns]]\nsource = \"cust_id\"\ntarget = \"customer_id\"\n{body}",
            legacy.to_str().unwrap(),
            parquet.to_str().unwrap()
        ),
    )
    .unwrap();
    config(&job).assert()
}

#[test]
fn bad_job_files_are_clear_errors() {
    let cases = [
        (
            "[[columns]]\nsource = \"emial\"\n",
            "mapped column \"emial\" not found (did you mean \"email\"?)",
        ),
        (
            "[[columns]]\nsource = \"email\"\nnormalize = [\"lowercase\"]\n",
            "unknown normalizer `lowercase`",
        ),
        (
            "[[columns]]\nsource = \"email\"\nsource_timezone = \"Europe/Atlantis\"\n",
            "unknown time zone \"Europe/Atlantis\"",
        ),
        (
            "[[columns]]\nsource = \"signup_ts\"\ntarget = \"signed_up_at\"\nsource_format = \"%Y-%m-%d %Q\"\n",
            "invalid timestamp format",
        ),
        (
            "[[columns]]\nsource = \"balance\"\ntarget = \"balance_cents\"\ntarget_normalize = [\"lower\"]\n",
            "normalizer `lower` works on text, but target column \"balance_cents\" holds integers",
        ),
        (
            "[[columns]]\nsource = \"email\"\n[[columns]]\nsource = \"email\"\nnormalize = [\"trim\"]\n",
            "two mappings for one column",
        ),
        ("exclude = [\"cust_id\"]\n", "unknown field"),
        (
            "[[columns]]\nsource = \"email\"\ntolerance = { abs = 1 }\n",
            "tolerances apply to numbers",
        ),
        (
            "[[columns]]\nsource = \"email\"\ntype = \"integer64\"\n",
            "unknown type \"integer64\"",
        ),
        (
            "[[columns]]\nsource = \"newsletter\"\ntype = \"date\"\n",
            "target column \"newsletter\" holds booleans (after its normalizers), which cannot be compared as date",
        ),
    ];
    for (body, expected) in cases {
        bad_job(body).code(2).stderr(
            predicate::str::contains(expected).and(predicate::str::contains("panicked").not()),
        );
    }
}

#[test]
fn excluding_a_key_and_syntax_errors() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.toml");
    std::fs::write(
        &job,
        "key = [\"cust_id\"]\nexclude = [\"cust_id\"]\n[source]\nuri = \"../x.csv\"\n",
    )
    .unwrap();
    std::fs::copy(
        fixture("crm/customers_legacy.csv"),
        dir.path().join("x.csv"),
    )
    .unwrap();
    config(&job)
        .args(["--source"])
        .arg(fixture("crm/customers_legacy.csv"))
        .arg("--target")
        .arg(fixture("crm/customers_legacy.csv"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the excluded columns include key column \"cust_id\"",
        ));
    std::fs::write(&job, "key = [\"id\"\n[source]\nuri = \"a.csv\"\n").unwrap();
    config(&job)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "job.toml:2:1: missing comma between array elements",
        ));
    config(&dir.path().join("missing.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.toml"));
}

#[test]
fn a_key_stored_as_padded_text_matches_an_integer_key() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = (dir.path().join("s.csv"), dir.path().join("t.csv"));
    std::fs::write(&s, "id,v\n\" 7\",x\n\"8 \",y\n").unwrap();
    std::fs::write(&t, "ID,v\n7,x\n8,y\n").unwrap();
    let s = job_summary(
        dir.path(),
        "key = \"id\"\n[source]\nuri = \"s.csv\"\n[target]\nuri = \"t.csv\"\n[[columns]]\nsource = \"id\"\ntarget = \"ID\"\ntype = \"int\"\nsource_normalize = [\"trim\"]\n",
    );
    assert_eq!(s["matched"], 2);
}

/// Writes a one-column pair and diffs it with a tolerance; returns (changed, matched).
fn with_tolerance(pairs: &[(String, String)], tolerance: &str) -> (u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = String::from("id,v\n");
    let mut t = String::from("id,v\n");
    for (i, (a, b)) in pairs.iter().enumerate() {
        s.push_str(&format!("{i},{a}\n"));
        t.push_str(&format!("{i},{b}\n"));
    }
    std::fs::write(dir.path().join("s.csv"), s).unwrap();
    std::fs::write(dir.path().join("t.csv"), t).unwrap();
    let s = job_summary(
        dir.path(),
        &format!(
            "key = \"id\"\n[source]\nuri = \"s.csv\"\n[target]\nuri = \"t.csv\"\n[[columns]]\nsource = \"v\"\ntype = \"decimal(38,6)\"\ntolerance = {{ {tolerance} }}\n"
        ),
    );
    (
        s["changed"].as_u64().unwrap(),
        s["matched"].as_u64().unwrap(),
    )
}

fn decimal_text(units: i64) -> String {
    let sign = if units < 0 { "-" } else { "" };
    format!("{sign}{}.{:03}", units.abs() / 1000, units.abs() % 1000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Within the tolerance (inclusive) never changed; beyond it always changed; values
    /// are in thousandths, so many pairs sit exactly on the boundary or straddle a bucket.
    #[test]
    fn tolerance_decides_exactly(
        values in prop::collection::vec((-5_000i64..5_000, -600i64..600), 1..40),
        tolerance in 1i64..500,
    ) {
        let pairs: Vec<(String, String)> = values
            .iter()
            .map(|(a, d)| (decimal_text(*a), decimal_text(a + d)))
            .collect();
        let beyond = values.iter().filter(|(_, d)| d.abs() > tolerance).count() as u64;
        let (changed, matched) = with_tolerance(&pairs, &format!("abs = \"{}\"", decimal_text(tolerance)));
        prop_assert_eq!(changed, beyond);
        prop_assert_eq!(matched, values.len() as u64 - beyond);
    }
}

#[test]
fn relative_tolerance_is_inclusive() {
    let pairs = [
        ("100", "101"),
        ("100", "101.5"),
        ("-200", "-202"),
        ("0", "0"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(with_tolerance(&pairs, "rel = 0.01"), (1, 3));
}

#[test]
fn the_same_unreadable_value_on_both_sides_is_still_a_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s.csv");
    std::fs::write(
        &s,
        "id,qty,ts\n1,1.5,not a time\n2,7,2024-01-05T10:00:00Z\n",
    )
    .unwrap();
    let s = job_summary(
        dir.path(),
        "key = \"id\"\n[source]\nuri = \"s.csv\"\n[target]\nuri = \"s.csv\"\n[[columns]]\nsource = \"qty\"\ntype = \"int\"\n[[columns]]\nsource = \"ts\"\nprecision = \"s\"\n",
    );
    assert_eq!(s["matched"], 1);
    assert_eq!(s["changed"], 1);
    for column in s["columns"].as_array().unwrap() {
        assert_eq!(column["mismatched"], 1, "{column}");
        assert_eq!(
            column["unparseable"],
            serde_json::json!({"source": 1, "target": 1})
        );
    }
}

#[test]
fn nonsense_options_are_refused() {
    for (body, expected) in [
        (
            "[[columns]]\nsource = \"balance\"\ntarget = \"balance_cents\"\nsource_scale = 0\n",
            "a scale of 0",
        ),
        (
            "[[columns]]\nsource = \"newsletter\"\nsource_normalize = [{ bool = { true = [\"Y\"], flase = [\"N\"] } }]\n",
            "not `flase`",
        ),
        (
            "[[columns]]\nsource = \"signup_ts\"\ntarget = \"signed_up_at\"\nsource_format = \"%Y-%m-%d %H:%M:%S %Z\"\n",
            "invalid timestamp format",
        ),
        (
            "[[columns]]\nsource = \"balance\"\ntarget = \"balance_cents\"\ntolerance = \"x\"\n",
            "a table like { abs = 0.5 }",
        ),
        (
            "[[columns]]\nsource = \"signup_ts\"\ntarget = \"signed_up_at\"\ntarget_timezone = \"Asia/Tokyo\"\n",
            "already holds instants",
        ),
    ] {
        bad_job(body)
            .code(2)
            .stderr(predicate::str::contains(expected));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.csv"), "id,v\n1,a\n").unwrap();
    let job = dir.path().join("job.toml");
    std::fs::write(
        &job,
        "key = \"id\"\n[source]\nuri = \"s.csv\"\n[target]\nuri = \"s.csv\"\n[[columns]]\nsource = \"v\"\ntarget = \"id\"\n",
    )
    .unwrap();
    config(&job)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "points at the target column of key \"id\"",
        ));
}

/// ∞ − x ≤ rel × ∞ holds in float arithmetic; an infinity must still differ from every
/// finite value under a relative tolerance, while equal infinities and NaNs match.
#[test]
fn an_infinity_is_within_no_tolerance_of_a_finite_value() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.csv"),
        "id,v\n1,Infinity\n2,inf\n3,NaN\n4,1.0\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("t.csv"),
        "id,v\n1,1e300\n2,inf\n3,NaN\n4,1.0005\n",
    )
    .unwrap();
    let s = job_summary(
        dir.path(),
        "key = \"id\"\n[source]\nuri = \"s.csv\"\n[target]\nuri = \"t.csv\"\n[[columns]]\nsource = \"v\"\ntype = \"float\"\ntolerance = { rel = 0.001 }\n",
    );
    assert_eq!(
        (s["changed"].as_u64(), s["matched"].as_u64()),
        (Some(1), Some(3)),
        "{s:#}"
    );
}
