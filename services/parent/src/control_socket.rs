//! The control socket slaacctl connects to: created and bound here, as root,
//! then handed to the frontend, which accepts on it.

use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Owner and group may connect; nobody else.
const MODE: u32 = 0o660;

/// The socket's file; removed when dropped, at exit.
pub struct ControlSocketFile(PathBuf);

impl Drop for ControlSocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Binds and listens on `path`, replacing a stale socket file left by a
/// daemon that did not exit cleanly (the lock says none is running).
pub fn bind(path: &Path) -> anyhow::Result<(ControlSocketFile, OwnedFd)> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_socket() => std::fs::remove_file(path)
            .with_context(|| format!("removing the stale control socket {}", path.display()))?,
        Ok(_) => anyhow::bail!("{} exists and is not a socket", path.display()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error).with_context(|| format!("checking {}", path.display())),
    }
    let listener = UnixListener::bind(path)
        .with_context(|| format!("binding the control socket {}", path.display()))?;
    let file = ControlSocketFile(path.to_path_buf());
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(MODE))
        .with_context(|| format!("setting the mode of {}", path.display()))?;
    Ok((file, OwnedFd::from(listener)))
}
