//! Lowering resource limits (open files, processes, file size) for a confined process. Soft and
//! hard limits are set together, so an unprivileged process cannot raise them again; it must
//! never raise a limit the caller did not name.

use nix::sys::resource::{Resource, setrlimit};

use crate::SandboxError;

/// The limits a process wants; `None` leaves that limit as it is.
///
/// Beware of what each limit means once set: `processes: Some(0)` makes `fork` fail for every
/// process of the same real user (it is not enforced while the process is root), and
/// `file_size: Some(0)` makes any write to a regular file raise SIGXFSZ, which kills the process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceLimits {
    /// RLIMIT_NOFILE: one more than the highest file descriptor number that can be opened.
    pub open_files: Option<u64>,
    /// RLIMIT_NPROC: processes (threads included) the real user may have.
    pub processes: Option<u64>,
    /// RLIMIT_FSIZE: the largest file, in bytes, the process may write.
    pub file_size: Option<u64>,
}

/// Sets each limit that `limits` names, soft and hard alike.
pub fn limit_resources(limits: &ResourceLimits) -> Result<(), SandboxError> {
    let wanted = [
        ("RLIMIT_NOFILE", Resource::RLIMIT_NOFILE, limits.open_files),
        ("RLIMIT_NPROC", Resource::RLIMIT_NPROC, limits.processes),
        ("RLIMIT_FSIZE", Resource::RLIMIT_FSIZE, limits.file_size),
    ];
    for (name, resource, value) in wanted {
        if let Some(value) = value {
            setrlimit(resource, value, value).map_err(|source| SandboxError::ResourceLimit {
                resource: name,
                value,
                source,
            })?;
        }
    }
    Ok(())
}
