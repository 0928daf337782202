//! Inputs that cannot be read in place: standard input, pipes, process substitution,
//! gzip and zstd files. Each gives the counts of the plain file, and its spooled copy is
//! gone after the run (also after a failed one). Every test writes only inside its own
//! temporary directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::util::*;

/// A source and a target CSV in `dir`: 200 keys, some changed, missing and extra.
fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let (s, t) = (dir.join("s.csv"), dir.join("t.csv"));
    let mut source = String::from("id,name,amount\n");
    let mut target = source.clone();
    for i in 0..200 {
        source.push_str(&format!("{i},\"name, {i}\",{}.50\n", i * 3));
        if i % 17 != 0 {
            let amount = if i % 11 == 0 { i * 3 + 1 } else { i * 3 };
            target.push_str(&format!("{i},\"name, {i}\",{amount}.50\n"));
        }
    }
    target.push_str("900,extra,1\n");
    std::fs::write(&s, source).unwrap();
    std::fs::write(&t, target).unwrap();
    (s, t)
}

/// `recon diff` of `source` against `target` by `id`, spilling into `spill`.
fn diff(source: &str, target: &Path, spill: &Path) -> assert_cmd::Command {
    let mut cmd = recon();
    cmd.args(["diff", "--source", source, "--target"])
        .arg(target)
        .args(["--key", "id", "--spill-dir"])
        .arg(spill);
    cmd
}

/// The counts a run reports, and its source's location as shown.
fn counts(mut cmd: assert_cmd::Command, dir: &Path) -> (Vec<serde_json::Value>, String) {
    let summary = dir.join("summary.json");
    cmd.arg("--json").arg(&summary).arg("-q").assert().code(0);
    let got = json(&summary);
    let counts = ["matched", "changed", "missing_in_target", "extra_in_target"]
        .iter()
        .map(|f| got[f].clone())
        .chain([got["source"]["rows"].clone(), got["columns"].clone()])
        .collect();
    (counts, got["source"]["uri"].as_str().unwrap().to_string())
}

/// A spill directory that must be left empty.
fn spill_dir(dir: &Path) -> PathBuf {
    let spill = dir.join("spill");
    std::fs::create_dir(&spill).unwrap();
    spill
}

fn assert_empty(spill: &Path) {
    let left: Vec<_> = std::fs::read_dir(spill).unwrap().collect();
    assert!(left.is_empty(), "spool files left behind: {left:?}");
}

fn plain_counts(dir: &Path, s: &Path, t: &Path) -> Vec<serde_json::Value> {
    let (counts, uri) = counts(diff(s.to_str().unwrap(), t, dir), dir);
    assert_eq!(uri, s.to_str().unwrap(), "a plain file is read in place");
    assert_eq!(counts[1], 17, "the fixture has changed rows");
    counts
}

#[test]
fn standard_input_as_dash_and_as_dev_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = inputs(dir.path());
    let spill = spill_dir(dir.path());
    let plain = plain_counts(dir.path(), &s, &t);
    let bytes = std::fs::read(&s).unwrap();
    for name in ["-", "/dev/stdin"] {
        let mut cmd = diff(name, &t, &spill);
        cmd.write_stdin(bytes.clone());
        let (got, uri) = counts(cmd, dir.path());
        assert_eq!(got, plain, "{name}");
        assert!(uri.ends_with("(spooled)"), "{uri}");
        assert_empty(&spill);
    }
}

#[test]
fn both_sides_on_one_pipe_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = inputs(dir.path());
    let spill = spill_dir(dir.path());
    diff("-", Path::new("-"), &spill)
        .write_stdin(std::fs::read(&s).unwrap())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("a pipe can be read only once"));
    assert_empty(&spill);
}

#[test]
fn process_substitution() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = inputs(dir.path());
    let spill = spill_dir(dir.path());
    let plain = plain_counts(dir.path(), &s, &t);
    let summary = dir.path().join("p.json");
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#""$0" diff --source <(cat "$1") --target "$2" --key id --spill-dir "$3" --json "$4" -q"#)
        .arg(assert_cmd::cargo::cargo_bin("recon"))
        .args([&s, &t, &spill, &summary])
        .env("CI", "1")
        .status()
        .unwrap();
    assert!(status.success());
    let got = json(&summary);
    assert_eq!(got["changed"], plain[1]);
    assert_eq!(got["missing_in_target"], plain[2]);
    assert_eq!(got["source"]["rows"], plain[4]);
    assert!(
        got["source"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("(spooled)")
    );
    assert_empty(&spill);
}

/// Writes `bytes` gzip-compressed, as two members (as `cat a.gz b.gz` makes).
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let (head, tail) = bytes.split_at(bytes.len() / 2);
    let mut out = Vec::new();
    for part in [head, tail] {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(part).unwrap();
        out.extend(encoder.finish().unwrap());
    }
    out
}

#[test]
fn gzip_and_zstd_files_give_the_plain_files_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = inputs(dir.path());
    let spill = spill_dir(dir.path());
    let plain = plain_counts(dir.path(), &s, &t);
    let bytes = std::fs::read(&s).unwrap();
    // Detected by their magic bytes: the last one's name says nothing.
    let files = [
        ("s.csv.gz", gzip(&bytes), "(gzip, decompressed)"),
        (
            "s.csv.zst",
            zstd::encode_all(&bytes[..], 3).unwrap(),
            "(zstd, decompressed)",
        ),
        ("export.csv", gzip(&bytes), "(gzip, decompressed)"),
    ];
    for (name, compressed, note) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, compressed).unwrap();
        let (got, uri) = counts(diff(path.to_str().unwrap(), &t, &spill), dir.path());
        assert_eq!(got, plain, "{name}");
        assert_eq!(uri, format!("{} {note}", path.display()));
        assert_empty(&spill);
    }
    // A compressed stream on a pipe is decompressed too.
    let mut cmd = diff("-", &t, &spill);
    cmd.write_stdin(zstd::encode_all(&bytes[..], 3).unwrap());
    let (got, uri) = counts(cmd, dir.path());
    assert_eq!(got, plain);
    assert_eq!(uri, "standard input (zstd, decompressed)");
}

#[test]
fn a_tsv_keeps_its_delimiter_under_gz() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = inputs(dir.path());
    let spill = spill_dir(dir.path());
    let plain = plain_counts(dir.path(), &s, &t);
    let mut tsv = String::new();
    for record in csv::Reader::from_path(&s).unwrap().into_records() {
        tsv.push_str(&record.unwrap().iter().collect::<Vec<_>>().join("\t"));
        tsv.push('\n');
    }
    let path = dir.path().join("s.tsv.gz");
    std::fs::write(&path, gzip(format!("id\tname\tamount\n{tsv}").as_bytes())).unwrap();
    let (got, _) = counts(diff(path.to_str().unwrap(), &t, &spill), dir.path());
    assert_eq!(got, plain);
}

#[test]
fn a_truncated_or_corrupt_stream_fails_naming_the_file_and_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = inputs(dir.path());
    let spill = spill_dir(dir.path());
    let bytes = std::fs::read(&s).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&bytes).unwrap();
    let whole = encoder.finish().unwrap();
    let truncated = dir.path().join("cut.csv.gz");
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    diff(truncated.to_str().unwrap(), &t, &spill)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "cannot read {}: the gzip data ends early (truncated) at compressed byte {}",
            truncated.display(),
            whole.len() / 2
        )));
    assert_empty(&spill);
    let zstd = zstd::encode_all(&bytes[..], 3).unwrap();
    let cut_zstd = dir.path().join("cut.csv.zst");
    std::fs::write(&cut_zstd, &zstd[..zstd.len() - 3]).unwrap();
    diff(cut_zstd.to_str().unwrap(), &t, &spill)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("cut.csv.zst: the zstd data")
                .and(predicate::str::contains("at compressed byte")),
        );
    assert_empty(&spill);
    // Bytes changed in the middle: the checksum or the deflate stream says so.
    let mut corrupt = whole.clone();
    let middle = corrupt.len() / 2;
    for b in &mut corrupt[middle..middle + 8] {
        *b ^= 0x55;
    }
    let damaged = dir.path().join("bad.csv.gz");
    std::fs::write(&damaged, corrupt).unwrap();
    diff(damaged.to_str().unwrap(), &t, &spill)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("bad.csv.gz: the gzip data")
                .and(predicate::str::contains("at compressed byte")),
        );
    assert_empty(&spill);
}

#[test]
fn a_failing_run_removes_its_spool() {
    let dir = tempfile::tempdir().unwrap();
    let (_, t) = inputs(dir.path());
    let spill = spill_dir(dir.path());
    // The third line has a field too many: found while scanning the spooled copy, and
    // named by the input, not by the temporary file.
    diff("-", &t, &spill)
        .write_stdin("id,name,amount\n1,a,1\n2,b,2,3\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "standard input (spooled):3: expected 3 fields",
        ));
    assert_empty(&spill);
}

#[test]
fn parquet_on_a_pipe_is_spooled_too() {
    let dir = tempfile::tempdir().unwrap();
    let spill = spill_dir(dir.path());
    let rows: Vec<Row> = (0..50)
        .map(|id| Row {
            id,
            values: vec![Some(format!("v{id}"))],
        })
        .collect();
    let (p, c) = (dir.path().join("t.parquet"), dir.path().join("s.csv"));
    write_parquet(&p, &rows, 1, 16);
    write_csv(&c, &rows, 1);
    let mut cmd = recon();
    cmd.args(["diff", "--source"])
        .arg(&c)
        .args([
            "--target",
            "-",
            "--key",
            "id",
            "--min-accuracy",
            "100",
            "--spill-dir",
        ])
        .arg(&spill)
        .write_stdin(std::fs::read(&p).unwrap())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("standard input (spooled)"));
    assert_empty(&spill);
}
