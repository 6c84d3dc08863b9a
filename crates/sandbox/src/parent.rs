//! Confining slaacd's privileged parent once its children run and it holds every socket it
//! hands out: it stays root but keeps only the capabilities it names, sees only the paths it
//! unveils (Landlock), and makes only the system calls its promises allow. The order matters:
//! capabilities first (capset is in no promise), then Landlock (its system calls are in no
//! promise either), then pledge. It must never return success with a step left out; what it
//! reports rather than refuses is a kernel without Landlock, logged as a warning naming what is
//! then unprotected.

use crate::{Enforcement, SandboxError, Unveil, Violation, pledge_with_children};

/// What the parent keeps after confinement.
#[derive(Debug)]
pub struct ParentProfile {
    /// The pledge promises, OpenBSD syntax.
    pub promises: String,
    /// The only paths it still sees, with their permissions.
    pub unveil: Unveil,
    /// The capabilities it keeps; every other one leaves every set, the bounding set included.
    #[cfg(target_os = "linux")]
    pub capabilities: Vec<crate::Capability>,
}

/// What `confine_parent` put in force, for the start-up log and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentConfinement {
    /// The Landlock ABI the ruleset was written for.
    pub landlock_abi: &'static str,
    /// How much of the file system restriction the kernel enforces.
    pub landlock: Enforcement,
}

/// Confines the calling process as `profile` says. Call it on the only thread (checked: a
/// Landlock ruleset restricts the calling thread alone), once every descriptor the process
/// hands out is open and handed out.
pub fn confine_parent(
    profile: ParentProfile,
    violation: Violation,
) -> Result<ParentConfinement, SandboxError> {
    confine_parent_with_children(profile, &[], violation)
}

/// `confine_parent` for a parent whose promises include "children": it may then wait for and
/// signal exactly the processes `children` names (their pids), started before, and no other
/// (see `pledge_with_children`). Seccomp alone holds signals to those pids: the Landlock
/// domain leaves signals unscoped, since its scope would stop signals to the children too
/// (they run outside the domain, which is made after them).
pub fn confine_parent_with_children(
    mut profile: ParentProfile,
    children: &[u32],
    violation: Violation,
) -> Result<ParentConfinement, SandboxError> {
    // Before any step: a list the pledge would refuse must not change the Landlock domain.
    crate::pledge::check_children(&profile.promises.parse()?, children)?;
    let threads = thread_count()?;
    if threads != 1 {
        return Err(SandboxError::Threads(threads));
    }
    if !children.is_empty() {
        profile.unveil.leave_signals_to_seccomp();
    }
    #[cfg(target_os = "linux")]
    crate::keep_only_capabilities(&profile.capabilities)?;
    let paths = profile.unveil.describe();
    let landlock = profile.unveil.lock()?;
    pledge_with_children(&profile.promises, &[], children, violation)?;
    let confinement = ParentConfinement {
        landlock_abi: crate::unveil::pinned_abi_name(),
        landlock,
    };
    #[cfg(target_os = "linux")]
    let capabilities = format!("{:?}", profile.capabilities);
    #[cfg(not(target_os = "linux"))]
    let capabilities = "root";
    tracing::info!(
        promises = %profile.promises,
        ?violation,
        landlock_abi = confinement.landlock_abi,
        landlock = ?confinement.landlock,
        unveiled = %paths,
        capabilities = %capabilities,
        ?children,
        "confined"
    );
    if landlock == Enforcement::None {
        tracing::warn!(
            "without Landlock only seccomp restricts this root process's file system access: \
             its promises ({}) let it open, create and remove any file root may, not just {paths}",
            profile.promises
        );
    }
    Ok(confinement)
}

/// The threads of this process, counted while /proc is still visible.
fn thread_count() -> Result<usize, SandboxError> {
    let entries = std::fs::read_dir("/proc/self/task").map_err(SandboxError::ThreadCount)?;
    let mut count = 0;
    for entry in entries {
        entry.map_err(SandboxError::ThreadCount)?;
        count += 1;
    }
    Ok(count)
}
