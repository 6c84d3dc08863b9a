//! The file backend: every interface's DNS entries in one resolv.conf(5)
//! format file (by default /run/slaacd/resolv.conf), which an administrator
//! can link /etc/resolv.conf to or feed to another resolver.
//!
//! The file is replaced atomically (a temporary file in the same directory,
//! synced, then renamed over it), so a reader sees the old or the new
//! contents, never a mix. It must never write anywhere but that file and its
//! temporary sibling.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What failed while replacing the file.
#[derive(Debug, thiserror::Error)]
#[error("write {path}: {source}")]
pub struct FileError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// Replaces `path` with `contents` (mode 0644), creating its directory (mode
/// 0755) if missing.
pub fn replace(path: &Path, contents: &str) -> Result<(), FileError> {
    let failed = |path: &Path| {
        let path = path.to_owned();
        move |source| FileError { path, source }
    };
    let directory = path.parent().unwrap_or(Path::new("."));
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(directory)
        .map_err(failed(directory))?;
    let file_name = path
        .file_name()
        .ok_or_else(|| failed(path)(io::Error::other("the path names no file")))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(file_name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = directory.join(temporary_name);

    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&temporary)?;
        // Readable by every resolver user, whatever the daemon's umask.
        file.set_permissions(fs::Permissions::from_mode(0o644))?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&temporary);
        return Err(failed(&temporary)(source));
    }
    fs::rename(&temporary, path).map_err(|source| {
        let _ = fs::remove_file(&temporary);
        failed(path)(source)
    })
}
