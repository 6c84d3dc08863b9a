//! The control socket slaacctl connects to: created and bound here, as root,
//! then handed to the frontend, which accepts on it.
//!
//! The file is owned by root and by the control group, mode 0660: only root
//! and members of that group can connect at all. Which of them may change
//! things (root, or a process running as the group) is the frontend's check,
//! at accept time. This module must never
//! leave the socket reachable by anyone else, not even for a moment.

use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use anyhow::Context;
use nix::sys::stat::{Mode, umask};
use nix::unistd::{Gid, Group, Uid, chown};

/// Owner and group may connect; nobody else.
const MODE: u32 = 0o660;

/// The group of the socket when none is configured: root's, so only root.
pub const DEFAULT_GROUP: &str = "0";

/// The socket's file; removed when dropped, at exit, unless another file has
/// taken its place meanwhile (it then belongs to someone else).
#[derive(Debug)]
pub struct ControlSocketFile {
    path: PathBuf,
    identity: FileIdentity,
}

impl Drop for ControlSocketFile {
    fn drop(&mut self) {
        if file_identity(&self.path).is_some_and(|identity| identity == self.identity) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Device, inode and change time of a file (the inode number of a removed
/// file may be given to the next one at once; the change time makes that
/// less likely to pass unnoticed).
type FileIdentity = (u64, u64, i64, i64);

fn file_identity(path: &Path) -> Option<FileIdentity> {
    let metadata = std::fs::symlink_metadata(path).ok()?;
    Some((
        metadata.dev(),
        metadata.ino(),
        metadata.ctime(),
        metadata.ctime_nsec(),
    ))
}

/// The id of the control group `name`: a group name, or a numeric id that
/// needs no entry in the group database.
pub fn group_id(name: &str) -> anyhow::Result<Gid> {
    if let Ok(id) = name.parse::<u32>() {
        return Ok(Gid::from_raw(id));
    }
    match Group::from_name(name) {
        Ok(Some(group)) => Ok(group.gid),
        Ok(None) => anyhow::bail!("control socket group {name} does not exist"),
        Err(error) => Err(error).with_context(|| format!("looking up the group {name}")),
    }
}

/// Binds and listens on `path`, owned by root and `group`, mode 0660,
/// replacing a stale socket file left by a daemon that did not exit cleanly.
/// The lock only says no daemon runs in this network namespace: a socket
/// that still accepts connections belongs to a daemon in another one, and is
/// left alone.
pub fn bind(path: &Path, group: Gid) -> anyhow::Result<(ControlSocketFile, OwnedFd)> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_socket() => {
            if UnixStream::connect(path).is_ok() {
                anyhow::bail!(
                    "the control socket {} is in use by another slaacd (in another network \
                     namespace?); give this one its own socket with -s",
                    path.display()
                );
            }
            std::fs::remove_file(path)
                .with_context(|| format!("removing the stale control socket {}", path.display()))?
        }
        Ok(_) => anyhow::bail!("{} exists and is not a socket", path.display()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error).with_context(|| format!("checking {}", path.display())),
    }
    // The file is created with the final mode, so that it is never open to
    // others between bind and chmod. Nothing else creates files meanwhile:
    // the parent does this before it starts its children.
    let previous = umask(Mode::from_bits_truncate(0o777 & !MODE));
    let bound = UnixListener::bind(path);
    umask(previous);
    let listener =
        bound.with_context(|| format!("binding the control socket {}", path.display()))?;
    let mut file = ControlSocketFile {
        path: path.to_path_buf(),
        identity: bound_identity(path)?,
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(MODE))
        .with_context(|| format!("setting the mode of {}", path.display()))?;
    chown(path, Some(Uid::from_raw(0)), Some(group)).with_context(|| {
        format!(
            "giving {} to root and group {}",
            path.display(),
            group.as_raw()
        )
    })?;
    // The mode and owner changes moved the change time.
    file.identity = bound_identity(path)?;
    Ok((file, OwnedFd::from(listener)))
}

fn bound_identity(path: &Path) -> anyhow::Result<FileIdentity> {
    file_identity(path).with_context(|| format!("{} vanished after bind", path.display()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    #[test]
    fn numeric_groups_need_no_database_entry() {
        assert_eq!(group_id("4242").unwrap(), Gid::from_raw(4242));
        assert_eq!(group_id(DEFAULT_GROUP).unwrap(), Gid::from_raw(0));
    }

    #[test]
    fn group_names_are_looked_up() {
        assert_eq!(group_id("root").unwrap(), Gid::from_raw(0));
        let error = group_id("no-such-group-slaacd").unwrap_err().to_string();
        assert_eq!(
            error,
            "control socket group no-such-group-slaacd does not exist"
        );
    }

    #[test]
    fn the_socket_is_root_and_group_only() {
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test gives a socket to root and needs root"
        );
        let dir = scratch_dir("mode");
        let path = dir.join("slaacd.sock");
        // A stale socket from an earlier run is replaced.
        drop(UnixListener::bind(&path).unwrap());
        let (file, _listener) = bind(&path, Gid::from_raw(4242)).unwrap();
        let metadata = std::fs::metadata(&path).unwrap();
        assert!(metadata.file_type().is_socket());
        assert_eq!(metadata.mode() & 0o7777, 0o660);
        assert_eq!((metadata.uid(), metadata.gid()), (0, 4242));
        drop(file);
        assert!(!path.exists(), "the socket file is removed at drop");
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn a_socket_in_use_is_left_to_its_daemon() {
        let dir = scratch_dir("in-use");
        let path = dir.join("slaacd.sock");
        let _other_daemon = UnixListener::bind(&path).unwrap();
        let error = bind(&path, Gid::from_raw(0)).unwrap_err().to_string();
        assert!(
            error.contains("is in use by another slaacd") && error.contains("-s"),
            "{error}"
        );
        assert!(path.exists(), "the other daemon's socket stays");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_that_replaced_ours_is_not_removed_at_exit() {
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test gives a socket to root and needs root"
        );
        let dir = scratch_dir("replaced");
        let path = dir.join("slaacd.sock");
        let (file, _listener) = bind(&path, Gid::from_raw(0)).unwrap();
        let successor_path = dir.join("successor.sock");
        let _successor = UnixListener::bind(&successor_path).unwrap();
        std::fs::rename(&successor_path, &path).unwrap();
        drop(file);
        assert!(path.exists(), "the successor's socket stays");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// An empty directory of this test process's own.
    fn scratch_dir(test: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("slaacd-control-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
