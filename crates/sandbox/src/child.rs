//! Confining one of slaacd's unprivileged children (the engine, the frontend) in one call, in
//! the documented order: note the descriptors it holds, switch to the unprivileged user, cap
//! open files at what it holds plus what it will still receive and forbid new processes, hide
//! the whole file system (Landlock), then pledge. It must never return success with a step left
//! out; the one thing it reports rather than refuses is a kernel without Landlock, which it
//! logs as a warning naming the protection that is then missing.

use std::os::fd::RawFd;

use crate::descriptors::{next_above, open_descriptors, probe_every_number};
use crate::{
    Enforcement, HeldSocketCall, ResourceLimits, SandboxError, Unveil, Violation, drop_privileges,
    limit_resources, pledge_with,
};

/// What one child keeps after confinement.
#[derive(Debug, Clone, Copy)]
pub struct ChildProfile {
    /// The pledge promises, OpenBSD syntax.
    pub promises: &'static str,
    /// Calls on sockets it is given, beside the promises.
    pub held_sockets: &'static [HeldSocketCall],
    /// Descriptors it still receives or makes after confinement (sockets passed by the parent,
    /// accepted connections); the open-files limit leaves room for exactly these.
    pub descriptors_to_come: u64,
}

/// What `confine_child` put in force, for the start-up log and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confinement {
    /// Descriptors held when confinement began.
    pub held_descriptors: Vec<RawFd>,
    /// The RLIMIT_NOFILE now in force (soft and hard).
    pub open_files_limit: u64,
    /// The Landlock ABI the ruleset was written for.
    pub landlock_abi: &'static str,
    /// How much of the file system restriction the kernel enforces.
    pub landlock: Enforcement,
}

/// Confines the calling process as `profile` says, running as `user`. Call it on the only
/// thread, once every descriptor the process opens itself is open, before any untrusted input.
pub fn confine_child(
    profile: &ChildProfile,
    user: &str,
    violation: Violation,
) -> Result<Confinement, SandboxError> {
    let held_descriptors = open_descriptors()?;
    drop_privileges(user)?;
    let open_files_limit = next_above(&held_descriptors) + profile.descriptors_to_come;
    limit_resources(&ResourceLimits {
        open_files: Some(open_files_limit),
        processes: Some(0),
        // Not zero: a child started with -d logs to a stderr that may be a regular file.
        file_size: None,
    })?;
    let landlock = Unveil::new().lock()?;
    pledge_with(profile.promises, profile.held_sockets, violation)?;
    let confinement = Confinement {
        held_descriptors,
        open_files_limit,
        landlock_abi: crate::unveil::pinned_abi_name(),
        landlock,
    };
    tracing::info!(
        user,
        promises = profile.promises,
        ?violation,
        landlock_abi = confinement.landlock_abi,
        landlock = ?confinement.landlock,
        descriptors = ?confinement.held_descriptors,
        open_files_limit,
        "confined"
    );
    if landlock == Enforcement::None {
        tracing::warn!(
            "without Landlock only seccomp keeps this process from the file system: \
             a path-based call that a promise allows would reach any file {user} may open"
        );
    }
    Ok(confinement)
}

/// Lowers the open-files limit to just above the highest descriptor held, so that no
/// descriptor can arrive any more: one passed with SCM_RIGHTS is dropped by the kernel (the
/// receiver sees MSG_CTRUNC). Seccomp cannot look inside `recvmsg`, so on Linux this is what
/// giving up "recvfd" means. Returns the new limit.
pub fn stop_receiving_descriptors() -> Result<u64, SandboxError> {
    // Confined by now: /proc is out of reach, and trying it would be a violation.
    let limit = next_above(&probe_every_number()?);
    limit_resources(&ResourceLimits {
        open_files: Some(limit),
        ..ResourceLimits::default()
    })?;
    Ok(limit)
}
