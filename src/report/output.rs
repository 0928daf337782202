//! Where an output goes, resolved once before the run. A report must never replace the
//! thing its path points at: renaming a temporary file over a symlink, a FIFO or
//! `/dev/stdout` would destroy the link, starve the reader or break the system. So only
//! regular files (and new paths) get the temporary-then-rename write; a symlink is
//! followed to its target, which gets that write in its own directory; anything else is
//! written in place, in one stream.

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Symlinks followed before giving up, as the kernel's own limit (`ELOOP`).
const MAX_LINKS: usize = 40;

/// A resolved output destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Standard output: `-`, or a path naming the file recon's standard output is.
    Stdout,
    /// A regular file or a new path (symlinks already followed): written under a
    /// temporary name in its directory, then renamed over it.
    File {
        /// The file to replace or create.
        path: PathBuf,
    },
    /// A FIFO, character device, socket or other special file: written directly.
    Special {
        /// The path as given (the kernel follows its links on open).
        path: PathBuf,
    },
}

impl Output {
    /// Resolves `path` given to `flag`: what it is now decides how it is written.
    pub fn resolve(path: &Path, flag: &str) -> Result<Output> {
        if path.as_os_str() == "-" {
            return Ok(Output::Stdout);
        }
        let config = |what: String| Error::Config(format!("{flag} {}: {what}", path.display()));
        match std::fs::metadata(path) {
            Ok(meta) => {
                // `/dev/stdout` on a pipe or a file is recon's own standard output: the
                // summary must then move aside. A terminal or `/dev/null` is a device,
                // shared harmlessly, and stays one.
                let device = meta.file_type().is_char_device();
                if !device && Some(identity(&meta)) == stdout_identity() {
                    Ok(Output::Stdout)
                } else if meta.is_dir() {
                    Err(config(
                        "is a directory; name a file (or use --report-dir for a directory of reports)"
                            .into(),
                    ))
                } else if meta.is_file() {
                    let target = path.canonicalize().map_err(|source| Error::Write {
                        path: path.to_path_buf(),
                        source,
                    })?;
                    Ok(Output::File { path: target })
                } else {
                    Ok(Output::Special {
                        path: path.to_path_buf(),
                    })
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A new file, or a symlink to one not yet there: created where the last
                // link points, as the shell's `>` would.
                let target = follow_links(path).map_err(|source| Error::Write {
                    path: path.to_path_buf(),
                    source,
                })?;
                let dir = parent_dir(&target);
                if !dir.is_dir() {
                    return Err(config(format!(
                        "cannot be written: the directory {} does not exist",
                        dir.display()
                    )));
                }
                Ok(Output::File { path: target })
            }
            Err(source) => Err(Error::Write {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Whether this is standard output (the terminal summary then goes to stderr).
    pub fn is_stdout(&self) -> bool {
        matches!(self, Output::Stdout)
    }

    /// Whether this is a character device, which any number of writers may share.
    fn is_device(&self) -> bool {
        matches!(self, Output::Special { path }
            if std::fs::metadata(path).is_ok_and(|m| m.file_type().is_char_device()))
    }

    /// The path written, or "standard output".
    pub fn name(&self) -> PathBuf {
        match self {
            Output::Stdout => "standard output".into(),
            Output::File { path } | Output::Special { path } => path.clone(),
        }
    }

    /// Writes `bytes` as this output's whole content.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        let write_error = |source| Error::Write {
            path: self.name(),
            source,
        };
        match self {
            Output::Stdout => {
                let mut out = std::io::stdout().lock();
                match out.write_all(bytes).and_then(|_| out.flush()) {
                    // A reader that stopped early (`| head`) chose to.
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                    other => other.map_err(write_error),
                }
            }
            Output::Special { path } => {
                // Never created, truncated or renamed: it is someone else's.
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(write_error)?;
                file.write_all(bytes)
                    .and_then(|_| file.flush())
                    .map_err(write_error)
            }
            Output::File { path } => {
                let mut file = tempfile::Builder::new()
                    .prefix(".recon-")
                    .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
                    .tempfile_in(parent_dir(path))
                    .map_err(write_error)?;
                file.as_file_mut().write_all(bytes).map_err(write_error)?;
                file.persist(path).map_err(|e| write_error(e.error))?;
                Ok(())
            }
        }
    }

    /// Refuses an output that is one of `inputs` (a typo must not overwrite the data
    /// being reconciled), also through a symlink or another name for the same file.
    pub fn check_not_input(&self, given: &Path, flag: &str, inputs: &[&str]) -> Result<()> {
        let Ok(meta) = std::fs::metadata(match self {
            Output::Stdout => return Ok(()),
            Output::File { path } | Output::Special { path } => path,
        }) else {
            return Ok(());
        };
        // Database locations and `-` have no metadata: they never match.
        if inputs
            .iter()
            .any(|input| std::fs::metadata(input).is_ok_and(|i| identity(&i) == identity(&meta)))
        {
            return Err(Error::Config(format!(
                "{flag} {} is one of the inputs; recon never overwrites the data it compares",
                given.display()
            )));
        }
        Ok(())
    }
}

/// Refuses two outputs that would write the same place (both on standard output, both
/// one file, both one FIFO): one would silently destroy or mix with the other, or wait
/// for a second reader. A device (`/dev/null`, a terminal) takes both.
pub fn refuse_shared(outputs: &[(&str, &Output)]) -> Result<()> {
    for (i, (flag, output)) in outputs.iter().enumerate() {
        for (other_flag, other) in &outputs[..i] {
            if output == other && !output.is_device() {
                let what = if output.is_stdout() {
                    "standard output".to_string()
                } else {
                    output.name().display().to_string()
                };
                return Err(Error::Config(format!(
                    "{other_flag} and {flag} both write to {what}; give one of them a file"
                )));
            }
        }
    }
    Ok(())
}

/// Follows `path` through symlinks to what they finally name (which need not exist).
fn follow_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&path)?;
                // A relative target is relative to the link's directory; `join` keeps an
                // absolute one as it is.
                path = parent_dir(&path).join(target);
            }
            _ => return Ok(path),
        }
    }
    Err(std::io::Error::other(format!(
        "more than {MAX_LINKS} levels of symbolic links"
    )))
}

/// What identifies a file whatever its name: device and inode.
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

/// The identity of the file recon's standard output is, when it has one.
fn stdout_identity() -> Option<(u64, u64)> {
    use std::os::fd::AsFd;
    let fd = std::io::stdout().as_fd().try_clone_to_owned().ok()?;
    Some(identity(&std::fs::File::from(fd).metadata().ok()?))
}

/// The directory `path` is in; `.` for a bare file name.
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_followed_to_their_target() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        let chain = dir.path().join("chain.json");
        std::os::unix::fs::symlink(&link, &chain).unwrap();
        let output = Output::resolve(&chain, "--json").unwrap();
        assert_eq!(
            output,
            Output::File {
                path: real.canonicalize().unwrap()
            }
        );
        output.write(b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        // A dangling link creates its target.
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink("later.json", &dangling).unwrap();
        Output::resolve(&dangling, "--json")
            .unwrap()
            .write(b"x")
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("later.json")).unwrap(),
            "x"
        );
        assert!(
            std::fs::symlink_metadata(&dangling)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn a_link_loop_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        assert!(Output::resolve(&a, "--json").is_err());
    }

    #[test]
    fn two_outputs_on_one_place_are_refused() {
        let file = Output::File {
            path: "/x/a".into(),
        };
        assert!(refuse_shared(&[("--json", &Output::Stdout), ("--diffs", &file)]).is_ok());
        let e = refuse_shared(&[("--json", &Output::Stdout), ("--diffs", &Output::Stdout)])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--json and --diffs both write to standard output"),
            "{e}"
        );
        assert!(refuse_shared(&[("--json", &file), ("--diffs", &file.clone())]).is_err());
    }
}
