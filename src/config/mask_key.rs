//! The masking key kept in the user's configuration directory (`<dir>/recon/mask.key`):
//! created once from the system's random source, readable by its owner only (mode 0600),
//! and read by every later run, so a sensitive value gets the same token tonight as last
//! night. It owns the file; what a token is lives in [`crate::drilldown::Mask`].

use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Bytes of randomness in a new key (written as hex).
const KEY_BYTES: usize = 32;

/// Where the key of configuration directory `config_dir` lives.
pub fn path(config_dir: &Path) -> PathBuf {
    config_dir.join("recon").join("mask.key")
}

/// The key kept under `config_dir`, created when there is none yet. The error says, for a
/// person, why no key could be kept.
pub fn load_or_create(config_dir: &Path) -> Result<String, String> {
    let file = path(config_dir);
    match read(&file) {
        Ok(Some(key)) => return Ok(key),
        Ok(None) => {}
        Err(e) => return Err(e),
    }
    let dir = file.parent().expect("the key file is inside a directory");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let key = random_key().map_err(|e| format!("cannot read the system's random source: {e}"))?;
    // create_new: when two runs start at once, one writes the key and the other reads it.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&file)
    {
        Ok(mut out) => {
            out.write_all(format!("{key}\n").as_bytes())
                .and_then(|_| out.sync_all())
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match read(&file)? {
            Some(key) => Ok(key),
            None => Err(format!("{} is empty", file.display())),
        },
        Err(e) => Err(format!("cannot create {}: {e}", file.display())),
    }
}

/// The key in `file`; `None` when there is no such file. A key others can read is refused:
/// with it, anyone could test guesses of a masked value against its token.
fn read(file: &Path) -> Result<Option<String>, String> {
    let meta = match std::fs::metadata(file) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
    };
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{} can be read by others; make it private (chmod 600) or remove it",
            file.display()
        ));
    }
    let mut text = String::new();
    std::fs::File::open(file)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let key = text.trim();
    if key.is_empty() {
        // Another run is writing it right now.
        std::thread::sleep(std::time::Duration::from_millis(50));
        let again = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        return match again.trim() {
            "" => Err(format!("{} is empty; remove it", file.display())),
            key => Ok(Some(key.to_string())),
        };
    }
    Ok(Some(key.to_string()))
}

fn random_key() -> std::io::Result<String> {
    let mut bytes = [0u8; KEY_BYTES];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_once_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        assert_eq!(first.len(), 2 * KEY_BYTES);
        let mode = std::fs::metadata(path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create(dir.path()).unwrap(), first);
    }

    #[test]
    fn a_key_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path()).unwrap();
        let file = path(dir.path());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create(dir.path()).unwrap_err();
        assert!(err.contains("chmod 600"), "{err}");
    }
}
