//! Helpers: a scratch directory, the recon command, and dataset writers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

pub fn recon() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("recon").unwrap();
    cmd.env("CI", "1");
    // The masking key is kept in the user's configuration directory: tests keep theirs
    // under the build's temporary directory, never in the home of whoever runs them.
    cmd.env(
        "XDG_CONFIG_HOME",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("config-home"),
    );
    cmd.env_remove("RECON_MASK_KEY");
    cmd
}

pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A row of a test table: an integer key and text columns (None is NULL).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: i64,
    pub values: Vec<Option<String>>,
}

pub fn column_names(width: usize) -> Vec<String> {
    (0..width).map(|i| format!("c{i}")).collect()
}

/// Writes rows as CSV: NULL is an unquoted empty field, the empty string is `""`.
pub fn write_csv(path: &Path, rows: &[Row], width: usize) {
    let mut out = String::from("id");
    for name in column_names(width) {
        out.push(',');
        out.push_str(&name);
    }
    out.push('\n');
    for row in rows {
        out.push_str(&row.id.to_string());
        for value in &row.values {
            out.push(',');
            if let Some(v) = value {
                if v.is_empty() || v.contains([',', '"', '\n', '\r']) {
                    out.push('"');
                    out.push_str(&v.replace('"', "\"\""));
                    out.push('"');
                } else {
                    out.push_str(v);
                }
            }
        }
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

/// Writes rows as Parquet with an Int64 key and Utf8 columns.
pub fn write_parquet(path: &Path, rows: &[Row], width: usize, row_group: usize) {
    let mut fields = vec![Field::new("id", DataType::Int64, true)];
    fields.extend(
        column_names(width)
            .into_iter()
            .map(|n| Field::new(n, DataType::Utf8, true)),
    );
    let schema = Arc::new(Schema::new(fields));
    let mut columns: Vec<ArrayRef> = vec![Arc::new(Int64Array::from_iter_values(
        rows.iter().map(|r| r.id),
    ))];
    for c in 0..width {
        columns.push(Arc::new(StringArray::from_iter(
            rows.iter().map(|r| r.values[c].clone()),
        )));
    }
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(row_group.max(1)))
        .build();
    let mut writer = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(path).unwrap(),
        schema,
        Some(props),
    )
    .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// Writes named Arrow columns (all nullable, their own types) as one Parquet file.
pub fn write_columns(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None)
            .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// Opens `page` in a headless Chromium and returns the rendered DOM and the browser's log
/// (console messages included); fails the test, saying how to install one, without it.
pub fn render_in_chromium(page: &Path) -> (String, String) {
    use std::process::Command;
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
        .expect(
            "this test needs a headless Chromium: install it with `apt-get install chromium` (.ci/run does)",
        );
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Fails the test on any console error or uncaught exception in a browser log.
pub fn assert_no_console_errors(log: &str) {
    for line in log.lines() {
        assert!(
            !(line.contains("CONSOLE") && (line.contains("ERROR") || line.contains("Uncaught"))),
            "console error: {line}"
        );
    }
}

/// Fails the test for any field of `value` (at any depth) that the document `doc` (a path
/// in the repository) does not name, as `` `field` `` or inside a `{a, b}` list.
pub fn assert_documented(value: &serde_json::Value, doc: &str) {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap();
    fn walk(value: &serde_json::Value, text: &str, doc: &str, path: &str) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    let documented = [
                        format!("`{key}`"),
                        format!("{{{key}"),
                        format!(" {key},"),
                        format!(" {key}}}"),
                        format!(" {key}{{"),
                    ]
                    .iter()
                    .any(|form| text.contains(form.as_str()));
                    assert!(documented, "{path}.{key} is not documented in {doc}");
                    walk(inner, text, doc, &format!("{path}.{key}"));
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, text, doc, path)),
            _ => {}
        }
    }
    walk(value, &text, doc, "");
}
