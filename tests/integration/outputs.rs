//! Where reports go: a symlink is followed and kept, a FIFO is written in place for its
//! reader, `-` is standard output. Every test writes only inside its own temporary
//! directory.

use std::io::Read;
use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::util::*;

/// A source and a target of three rows, one value changed, in `dir`.
fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let (s, t) = (dir.join("s.csv"), dir.join("t.csv"));
    std::fs::write(&s, "id,v\n1,a\n2,b\n3,c\n").unwrap();
    std::fs::write(&t, "id,v\n1,a\n2,x\n3,c\n").unwrap();
    (s, t)
}

fn diff(dir: &Path) -> assert_cmd::Command {
    let (s, t) = inputs(dir);
    let mut cmd = recon();
    cmd.current_dir(dir)
        .args(["diff", "--source"])
        .arg(s)
        .arg("--target")
        .arg(t)
        .args(["--key", "id"]);
    cmd
}

/// Makes a FIFO at `path` and starts a thread reading it to the end; what it read
/// arrives on the channel (a test that broke the FIFO fails on a timeout, never hangs).
fn fifo_reader(path: &Path) -> std::sync::mpsc::Receiver<Vec<u8>> {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success());
    let path = path.to_path_buf();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        let _ = send.send(bytes);
    });
    receive
}

fn read(reader: std::sync::mpsc::Receiver<Vec<u8>>) -> Vec<u8> {
    reader
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the FIFO's reader got the report")
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .file_type()
        .is_fifo()
}

#[test]
fn a_symlink_is_followed_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    std::os::unix::fs::symlink("real.json", dir.path().join("link.json")).unwrap();
    // Two levels, the outer one relative to the working directory.
    std::os::unix::fs::symlink("link.json", dir.path().join("outer.json")).unwrap();
    diff(dir.path())
        .args(["--json", "outer.json", "-q"])
        .assert()
        .code(0);
    for link in ["link.json", "outer.json"] {
        let meta = std::fs::symlink_metadata(dir.path().join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} was replaced");
    }
    assert_eq!(json(&real)["changed"], 1);
    // The temporary file went where the target is, and is gone.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".recon-"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn a_symlink_to_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("t.csv", dir.path().join("out.json")).unwrap();
    diff(dir.path())
        .args(["--json", "out.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--json out.json is one of the inputs",
        ));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("t.csv")).unwrap(),
        "id,v\n1,a\n2,x\n3,c\n"
    );
}

#[test]
fn a_fifo_is_written_for_its_reader_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("summary.pipe");
    let reader = fifo_reader(&pipe);
    diff(dir.path())
        .arg("--json")
        .arg(&pipe)
        .arg("-q")
        .assert()
        .code(0);
    let got: serde_json::Value = serde_json::from_slice(&read(reader)).unwrap();
    assert_eq!(got["changed"], 1);
    assert_eq!(got["matched"], 2);
    assert!(is_fifo(&pipe));
}

#[test]
fn diffs_to_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("diffs.pipe");
    let reader = fifo_reader(&pipe);
    diff(dir.path())
        .arg("--diffs")
        .arg(&pipe)
        .arg("-q")
        .assert()
        .code(0);
    let text = String::from_utf8(read(reader)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("id,kind,"), "{text}");
    assert!(lines[1].starts_with("2,changed,v,b,x"), "{text}");
    assert!(is_fifo(&pipe));
}

#[test]
fn json_on_stdout_moves_the_summary_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = diff(dir.path()).args(["--json", "-"]).assert().code(0);
    let output = out.get_output();
    let got: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(got["changed"], 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("verdict: PASS"), "{stderr}");
    assert!(!dir.path().join("-").exists());
}

#[test]
fn diffs_on_stdout_with_json_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = diff(dir.path())
        .args(["--diffs", "-", "--json", "j.json"])
        .assert()
        .code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.starts_with("id,kind,"), "{stdout}");
    assert!(!stdout.contains("verdict"), "{stdout}");
    assert_eq!(json(&dir.path().join("j.json"))["changed"], 1);
    assert!(!dir.path().join("-").exists());
}

#[test]
fn two_outputs_on_stdout_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    diff(dir.path())
        .args(["--json", "-", "--diffs", "-"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "--json and --diffs both write to standard output",
        ));
}

#[test]
fn a_link_to_recons_own_stdout_is_standard_output() {
    // What `--diffs /dev/stdout` does, through a link of the test's own: should it ever be
    // renamed over, only this link is lost.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("stdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &link).unwrap();
    let out = diff(dir.path())
        .args(["--diffs", "stdout"])
        .assert()
        .code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.starts_with("id,kind,"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(stderr.contains("verdict: PASS"), "{stderr}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // With a second output there, the two are refused.
    diff(dir.path())
        .args(["--diffs", "stdout", "--json", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("both write to standard output"));
}
