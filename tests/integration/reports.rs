//! Criteria, owners and reports end to end, on the CRM fixture with two owners, two
//! sensitive columns and a breached critical column.

use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::util::*;

fn run_owners_job(dir: &Path, format: &str) -> assert_cmd::assert::Assert {
    recon()
        .env("RECON_MASK_KEY", "snapshot-key")
        .args(["diff", "--config"])
        .arg(fixture("crm/job_owners.toml"))
        .args(["--diffs-format", format, "--report-dir"])
        .arg(dir)
        .assert()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn the_verdict_names_exactly_the_breaches() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    run_owners_job(&out, "csv")
        .code(1)
        .stdout(predicate::str::contains(
            "1 key missing in target; at most 0 allowed",
        ))
        .stdout(predicate::str::contains(
            "critical column balance differs on 1 row; it must match exactly",
        ));
    let s = json(&out.join("summary.json"));
    let criteria: Vec<&str> = s["verdict"]["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["criterion"].as_str().unwrap())
        .collect();
    assert_eq!(
        criteria,
        ["max_missing_in_target", "columns.balance.critical"]
    );
    let names: Vec<&str> = files_under(&out)
        .iter()
        .map(|p| p.strip_prefix(&out).unwrap().to_str().unwrap())
        .map(|p| Box::leak(p.to_string().into_boxed_str()) as &str)
        .collect();
    assert_eq!(
        names,
        [
            "diffs.csv",
            "owners/.recon-written",
            "owners/crm-team@example.com.html",
            "owners/crm-team@example.com.md",
            "owners/finance@example.com.html",
            "owners/finance@example.com.md",
            "report.html",
            "summary.json"
        ]
    );
}

/// A rerun replaces the owner reports of the last run (an owner gone from the job leaves
/// no stale file), and never deletes a file recon did not write: it refuses to start.
#[test]
fn reruns_replace_owner_reports_and_keep_everything_else() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_owners_job(&out, "csv").code(1);
    let owners = out.join("owners");
    assert!(owners.join("finance@example.com.md").exists());
    // The same job without the finance owner (its files beside the fixture's data).
    let job = std::fs::read_to_string(fixture("crm/job_owners.toml"))
        .unwrap()
        .replace("owner = \"finance@example.com\"\n", "")
        .replace(
            "uri = \"customers_legacy.csv\"",
            &format!("uri = {:?}", fixture("crm/customers_legacy.csv")),
        )
        .replace(
            "uri = \"customers.parquet\"",
            &format!("uri = {:?}", fixture("crm/customers.parquet")),
        );
    let without_finance = dir.path().join("job.toml");
    std::fs::write(&without_finance, job).unwrap();
    let rerun = || {
        recon()
            .args(["diff", "--config"])
            .arg(&without_finance)
            .arg("--report-dir")
            .arg(&out)
            .assert()
    };
    rerun().code(1);
    assert!(!owners.join("finance@example.com.md").exists());
    assert!(!owners.join("finance@example.com.html").exists());
    assert!(owners.join("crm-team@example.com.md").exists());

    // Files recon did not write, even one that looks like its own report: refused.
    std::fs::copy(
        owners.join("crm-team@example.com.md"),
        owners.join("crm-team-reviewed.md"),
    )
    .unwrap();
    for foreign in ["notes.md", "todo.txt", ".recon-my-notes"] {
        std::fs::write(owners.join(foreign), "my own notes").unwrap();
    }
    std::fs::create_dir(owners.join("archive")).unwrap();
    // Refused one at a time, in name order, until none is left.
    for foreign in [
        ".recon-my-notes",
        "archive",
        "crm-team-reviewed.md",
        "notes.md",
        "todo.txt",
    ] {
        rerun()
            .code(2)
            .stderr(predicate::str::contains(foreign))
            .stderr(predicate::str::contains("was not written by recon"));
        // Refused before anything was removed: the last run's reports are all there.
        assert!(out.join("summary.json").exists());
        assert!(owners.join("crm-team@example.com.html").exists());
        let path = owners.join(foreign);
        if path.is_dir() {
            std::fs::remove_dir(&path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
    }
    rerun().code(1);
}

#[test]
fn each_owner_sees_only_their_items() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_owners_job(&out, "jsonl").code(1);
    let finance = std::fs::read_to_string(out.join("owners/finance@example.com.md")).unwrap();
    assert!(finance.contains("| 00011 | changed | balance |"));
    assert!(finance.contains("| 00013 | changed | status |"));
    for other in [
        "email",
        "signup_ts",
        "missing_in_target",
        "extra_in_target",
        "You own the table",
    ] {
        assert!(
            !finance.contains(other),
            "finance report mentions {other}:\n{finance}"
        );
    }
    let crm = std::fs::read_to_string(out.join("owners/crm-team@example.com.md")).unwrap();
    for mine in [
        "keys missing in target | 1",
        "| 00007 | changed | email |",
        "| 00017 | changed | signup_ts |",
        "missing_in_target",
        "extra_in_target",
    ] {
        assert!(crm.contains(mine), "crm report lacks {mine}:\n{crm}");
    }
    assert!(!crm.contains("| changed | balance |") && !crm.contains("| changed | status |"));
    // Every difference line names its owner.
    let lines = std::fs::read_to_string(out.join("diffs.jsonl")).unwrap();
    for line in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let expected = match v["column"].as_str() {
            Some("balance") | Some("status") => "finance@example.com",
            _ => "crm-team@example.com",
        };
        assert_eq!(v["owner"], expected, "{line}");
    }
}

#[test]
fn no_sensitive_value_appears_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let run = run_owners_job(&out, "parquet").code(1);
    let stdout = String::from_utf8(run.get_output().stdout.clone()).unwrap();
    // Every email and name on either side, raw and normalized.
    let legacy = std::fs::read_to_string(fixture("crm/customers_legacy.csv")).unwrap();
    let mut secrets = Vec::new();
    for line in legacy.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        for value in [fields[1], fields[2]] {
            secrets.push(value.trim().to_string());
            secrets.push(value.trim().to_lowercase());
            secrets.push(value.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    secrets.push("hana.novak.new@example.com".into());
    let mut outputs = vec![("stdout".to_string(), stdout.into_bytes())];
    for path in files_under(&out) {
        outputs.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    assert!(outputs.len() >= 7);
    for (name, bytes) in &outputs {
        let text = String::from_utf8_lossy(bytes);
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{secret:?} appears in {name}"
            );
        }
    }
    // The changed email is still visible as a difference, through stable tokens.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("masked:"));
}

#[test]
fn report_html_loads_in_a_real_browser_without_console_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_owners_job(&out, "csv").code(1);
    let (dom, log) = render_in_chromium(&out.join("report.html"));
    for text in [
        "Verdict: FAIL",
        "1 key missing in target; at most 0 allowed",
        "critical column balance",
        ">35<",
        ">4<",
        "finance@example.com",
    ] {
        assert!(dom.contains(text), "the rendered page lacks {text:?}");
    }
    assert_no_console_errors(&log);
}

#[test]
fn summary_and_owner_markdown_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_owners_job(&out, "csv").code(1);
    let summary = json(&out.join("summary.json"));
    insta::assert_json_snapshot!("owners_summary", summary, {
        ".elapsed_ms" => "[ms]",
        ".started_at" => "[time]",
        ".recon_version" => "[version]",
        ".fingerprint" => "[fingerprint]",
        ".run.phase_ms" => "[ms]",
        ".run.threads" => "[threads]",
        ".source.uri" => "[uri]",
        ".target.uri" => "[uri]",
    });
    let finance = std::fs::read_to_string(out.join("owners/finance@example.com.md")).unwrap();
    let finance = finance.replace(fixture("crm").to_str().unwrap(), "[fixtures]/crm");
    insta::assert_snapshot!("finance_markdown", finance);
}

#[test]
fn bad_criteria_and_unwritable_report_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.toml");
    let legacy = fixture("crm/customers_legacy.csv");
    let base = format!(
        "key = \"cust_id\"\n[source]\nuri = {:?}\n[target]\nuri = {:?}\n",
        legacy.to_str().unwrap(),
        legacy.to_str().unwrap()
    );
    for (body, expected) in [
        ("[criteria]\nmin_accuracy = 100.5\n", "outside 0..100%"),
        ("[criteria]\nmax_missing_in_target = -1\n", "not a limit"),
        (
            "[criteria]\nmin_rows = -3\n",
            "min_rows must be a whole number",
        ),
        (
            "[[columns]]\nsource = \"emial\"\ncritical = true\n",
            "did you mean \"email\"",
        ),
        (
            "[[columns]]\nsource = \"legacy_segment\"\ntarget = \"email\"\n[[columns]]\nsource = \"email\"\ntarget = \"full_name\"\ncritical = true\nmin_accuracy = \"101%\"\n",
            "outside 0..100%",
        ),
    ] {
        std::fs::write(&job, format!("{base}{body}")).unwrap();
        recon()
            .args(["diff", "--config"])
            .arg(&job)
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains(expected).and(predicate::str::contains("panicked").not()),
            );
    }
    // A criterion on a column that exists but is not compared.
    std::fs::write(
        &job,
        format!("exclude = [\"email\"]\n{base}[criteria]\nmin_accuracy = 50\n"),
    )
    .unwrap();
    recon()
        .args(["diff", "--config"])
        .arg(&job)
        .assert()
        .code(0);
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    recon()
        .args(["diff", "--config"])
        .arg(fixture("crm/job_owners.toml"))
        .arg("--report-dir")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a file, not a directory"));
    recon()
        .args(["diff", "--config"])
        .arg(fixture("crm/job_owners.toml"))
        .arg("--report-dir")
        .arg(dir.path().join("missing/parent/out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not exist"));
}

#[test]
fn fail_fast_stops_once_a_criterion_is_lost_and_says_counts_are_lower_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = (dir.path().join("s.csv"), dir.path().join("t.csv"));
    let mut text = String::from("id,v\n");
    for i in 0..2000 {
        text.push_str(&format!("{i},x\n"));
    }
    std::fs::write(&s, &text).unwrap();
    std::fs::write(&t, "id,v\n").unwrap();
    let summary = dir.path().join("j.json");
    let run = |extra: &[&str]| {
        recon()
            .args(["diff", "--source"])
            .arg(&s)
            .arg("--target")
            .arg(&t)
            .args([
                "--key",
                "id",
                "--max-missing",
                "0",
                "--threads",
                "1",
                "--partitions",
                "64",
                "--json",
            ])
            .arg(&summary)
            .args(extra)
            .assert()
    };
    run(&["--fail-fast"])
        .code(1)
        .stdout(predicate::str::contains("every count is a lower bound"));
    let early = json(&summary);
    assert_eq!(early["complete"], false);
    let missing = early["missing_in_target"].as_u64().unwrap();
    assert!((1..2000).contains(&missing), "{missing}");
    run(&[]).code(1);
    let full = json(&summary);
    assert_eq!(full["complete"], true);
    assert_eq!(full["missing_in_target"], 2000);

    // A row-count criterion is lost after the scan: no join at all.
    recon()
        .args(["diff", "--source"])
        .arg(&t)
        .arg("--target")
        .arg(&s)
        .args(["--key", "id", "--min-rows", "1", "--fail-fast", "--json"])
        .arg(&summary)
        .assert()
        .code(1);
    let s = json(&summary);
    assert_eq!(s["complete"], false);
    assert_eq!(s["extra_in_target"], 0);
    assert_eq!(
        s["verdict"]["breaches"][0]["message"],
        "the source has 0 rows; at least 1 required"
    );
}

#[test]
fn the_order_of_difference_lines_does_not_reveal_a_sensitive_key() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (dir.path().join("s.csv"), dir.path().join("t.csv"));
    let rows = |changed: bool| {
        let mut text = String::from("id,v\n");
        for id in 1..=40 {
            text.push_str(&format!("{id},{}\n", if changed { id + 1 } else { id }));
        }
        text
    };
    std::fs::write(&source, rows(false)).unwrap();
    std::fs::write(&target, rows(true)).unwrap();
    let job = dir.path().join("job.toml");
    std::fs::write(
        &job,
        format!(
            "key = \"id\"\n[source]\nuri = {:?}\n[target]\nuri = {:?}\n[[columns]]\nsource = \"id\"\nsensitive = true\n",
            source.display().to_string(),
            target.display().to_string()
        ),
    )
    .unwrap();
    let diffs = dir.path().join("d.csv");
    recon()
        .args(["diff", "-q", "--config"])
        .arg(&job)
        .arg("--diffs")
        .arg(&diffs)
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&diffs).unwrap();
    let keys: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(keys.len(), 40, "{text}");
    assert!(keys.iter().all(|k| k.starts_with("masked:")), "{text}");
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "lines follow the tokens, not the hidden values"
    );
}
