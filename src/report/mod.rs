//! Report stage: renders an [`Outcome`] for people and programs. Each format is one file
//! implementing [`Report`]; files are written under a temporary name and renamed, so a
//! half-written report never looks complete. Reports never change a result.

mod diffs_csv;
mod json;
mod plan;
mod terminal;

use std::io::Write;
use std::path::Path;

pub use diffs_csv::DiffsCsv;
pub use json::JsonSummary;
pub use plan::write_plan;
pub use terminal::TerminalSummary;

use crate::error::{Error, Result};
use crate::job::Outcome;

/// A way of writing an outcome.
pub trait Report {
    /// Writes the report for `outcome` to `out`.
    fn write(&self, outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()>;
}

/// Writes `report` to `path` through a temporary file in the same directory.
pub fn write_file(report: &dyn Report, outcome: &Outcome, path: &Path) -> Result<()> {
    let write_error = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // 0666 before the umask, like any file a command creates (tempfile's default is 0600).
    let mut file = tempfile::Builder::new()
        .prefix(".recon-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(write_error)?;
    {
        let mut out = std::io::BufWriter::new(file.as_file_mut());
        report.write(outcome, &mut out).map_err(write_error)?;
        out.flush().map_err(write_error)?;
    }
    file.persist(path).map_err(|e| write_error(e.error))?;
    Ok(())
}

/// Checks before any work that `path` can take a report: its directory exists, and it is
/// not one of the inputs (a typo must not overwrite the data being reconciled).
pub fn check_output(path: &Path, flag: &str, inputs: &[&str]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::Config(format!(
            "cannot write {flag} {}: the directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    if let Ok(output) = path.canonicalize() {
        for input in inputs {
            if Path::new(input).canonicalize().is_ok_and(|i| i == output) {
                return Err(Error::Config(format!(
                    "{flag} {} is one of the inputs; recon never overwrites the data it compares",
                    path.display()
                )));
            }
        }
    }
    Ok(())
}
