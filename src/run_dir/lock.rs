//! One writer per directory: a process that writes a run, a comparison or a
//! cross-validation holds an advisory lock on `DIR/.lock` until it is done, so a second
//! writer is refused (naming the first one's pid) instead of silently overwriting its work.
//! The operating system drops the lock when its holder dies, so a killed run never blocks
//! the next one. Readers (`predict`, `eval`, `info`) take no lock: saves are atomic.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The lock file inside a locked directory.
pub const LOCK: &str = ".lock";

/// A held lock; dropping it releases it. A directory this lock created, left holding only
/// the lock file (the command failed before writing anything), is removed again.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    created: Option<PathBuf>,
}

/// Takes the write lock on `dir`, creating the directory if needed.
pub fn lock(dir: &Path) -> Result<DirLock> {
    let created = (!dir.exists()).then(|| dir.to_path_buf());
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join(LOCK);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            return Err(Error::checkpoint(
                dir,
                format!(
                    "is being written by another nnlab process (pid {}); wait for it to finish, \
                     or write elsewhere with --out",
                    pid.trim()
                ),
            ));
        }
        Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
    }
    // Who holds it, for the message above; a failure here costs only that message.
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| write!(file, "{}", std::process::id()))
        .and_then(|()| file.flush());
    Ok(DirLock {
        _file: file,
        created,
    })
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let Some(dir) = &self.created else { return };
        let only_lock = std::fs::read_dir(dir)
            .map(|entries| entries.flatten().all(|e| e.file_name() == LOCK))
            .unwrap_or(false);
        if only_lock {
            let _ = std::fs::remove_file(dir.join(LOCK));
            let _ = std::fs::remove_dir(dir);
        }
    }
}
