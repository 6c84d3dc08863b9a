//! `pledge(promises, violation)`: the one call a service makes to keep only the system calls
//! its promises name. On OpenBSD it is the real pledge(2); on Linux it sets no_new_privs and
//! installs a seccomp allowlist. It must never widen what an earlier call allowed: each call
//! stacks a new filter on top of the previous ones.

use std::str::FromStr;

use crate::{Promises, SandboxError};

/// A call on a socket the process already holds (received from a more privileged process)
/// that OpenBSD grants with a socket promise ("unix", "inet") but that on Linux must not bring
/// the right to create sockets along with it. A process names these beside its promises; on
/// OpenBSD each adds its promise, which there also allows creating sockets of that family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldSocketCall {
    /// `accept`/`accept4` on a listening socket (OpenBSD: "unix").
    Accept,
    /// `setsockopt` of exactly this level and option name (OpenBSD: "inet").
    SetOption { level: i32, name: i32 },
}

/// What happens when a confined process makes a call its promises do not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// The call fails with EPERM and the process goes on (and should log the error).
    Deny,
    /// The kernel kills the whole process (SIGSYS on Linux, SIGABRT on OpenBSD).
    Kill,
    /// Debugging aid: the call is allowed and the kernel logs it (on Linux to the audit log /
    /// dmesg as "type=1326 ... syscall=N"). Use it to find a call missing from a promise.
    /// OpenBSD has no such mode and treats it as `Kill`.
    Log,
}

impl FromStr for Violation {
    type Err = SandboxError;

    /// "deny", "kill" or "log", e.g. from a debugging option of a service.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "deny" => Ok(Violation::Deny),
            "kill" => Ok(Violation::Kill),
            "log" => Ok(Violation::Log),
            _ => Err(SandboxError::UnknownViolation(text.to_owned())),
        }
    }
}

/// Restricts the process to `promises` (OpenBSD syntax, e.g. `"stdio inet recvfd"`).
///
/// On Linux the filter covers every thread of the process. Call it once the process holds
/// every descriptor it will need and before it reads untrusted input.
pub fn pledge(promises: &str, violation: Violation) -> Result<(), SandboxError> {
    pledge_with(promises, &[], violation)
}

/// `pledge`, plus the `held` socket calls the process needs on sockets it was given.
pub fn pledge_with(
    promises: &str,
    held: &[HeldSocketCall],
    violation: Violation,
) -> Result<(), SandboxError> {
    pledge_with_children(promises, held, &[], violation)
}

/// `pledge_with` for a process that keeps processes it started before: with "children" among
/// `promises` it may wait for and signal exactly `children` (their pids, each above 0), and no
/// other process; without pids "children" lets it signal and wait for none but itself. Pids
/// without "children" are refused, as is a pid that names no single process (0, or above
/// `i32::MAX`: a process group or every process to kill(2)). On OpenBSD, which has no such
/// promise, "children" is "proc" and the pids are not checked.
pub fn pledge_with_children(
    promises: &str,
    held: &[HeldSocketCall],
    children: &[u32],
    violation: Violation,
) -> Result<(), SandboxError> {
    let promises: Promises = promises.parse()?;
    check_children(&promises, children)?;
    apply(&promises, held, children, violation)?;
    match (held.is_empty(), children.is_empty()) {
        (true, true) => tracing::info!(promises = %promises, ?violation, "pledged"),
        (false, true) => tracing::info!(promises = %promises, ?held, ?violation, "pledged"),
        (_, false) => {
            tracing::info!(promises = %promises, ?held, ?children, ?violation, "pledged")
        }
    }
    Ok(())
}

/// Refuses pids without the "children" promise, and a pid that names no single process.
pub(crate) fn check_children(promises: &Promises, children: &[u32]) -> Result<(), SandboxError> {
    if !children.is_empty() && !promises.contains(crate::Promise::Children) {
        return Err(SandboxError::ChildrenWithoutPromise {
            promises: promises.to_string(),
        });
    }
    match children
        .iter()
        .find(|&&pid| pid == 0 || i32::try_from(pid).is_err())
    {
        Some(&pid) => Err(SandboxError::InvalidChild(pid)),
        None => Ok(()),
    }
}

#[cfg(target_os = "linux")]
fn apply(
    promises: &Promises,
    held: &[HeldSocketCall],
    children: &[u32],
    violation: Violation,
) -> Result<(), SandboxError> {
    crate::set_no_new_privs()?;
    crate::seccomp::install(promises, held, children, violation)
}

#[cfg(target_os = "openbsd")]
fn apply(
    promises: &Promises,
    held: &[HeldSocketCall],
    _children: &[u32],
    violation: Violation,
) -> Result<(), SandboxError> {
    // OpenBSD's "error" promise turns violations into ENOSYS/EPERM instead of SIGABRT.
    // "children" is a Linux refinement of "proc"; OpenBSD is given "proc" for it, which
    // lets it signal any process its user may (pledge(2) has no list of pids).
    let mut text = promises
        .iter()
        .filter(|promise| {
            !(*promise == crate::Promise::Children && promises.contains(crate::Promise::Proc))
        })
        .map(|promise| match promise {
            crate::Promise::Children => "proc",
            other => other.name(),
        })
        .collect::<Vec<_>>()
        .join(" ");
    for call in held {
        // OpenBSD grants these with the socket promise itself.
        let promise = match call {
            HeldSocketCall::Accept => "unix",
            HeldSocketCall::SetOption { .. } => "inet",
        };
        if !text.split(' ').any(|word| word == promise) {
            text.push(' ');
            text.push_str(promise);
        }
    }
    if violation == Violation::Deny {
        text.push_str(" error");
    }
    let failed = |detail: String| SandboxError::Seccomp {
        promises: promises.to_string(),
        detail,
    };
    let text = std::ffi::CString::new(text).map_err(|e| failed(e.to_string()))?;
    // SAFETY: `text` is a valid NUL-terminated string that outlives the call; a null
    // execpromises pointer leaves the exec promises unchanged.
    let result = unsafe { libc::pledge(text.as_ptr(), std::ptr::null()) };
    if result == -1 {
        return Err(failed(std::io::Error::last_os_error().to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_violation_modes() {
        assert_eq!("deny".parse::<Violation>().unwrap(), Violation::Deny);
        assert_eq!("kill".parse::<Violation>().unwrap(), Violation::Kill);
        assert_eq!("log".parse::<Violation>().unwrap(), Violation::Log);
        let error = "trap".parse::<Violation>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown seccomp violation mode \"trap\" (use deny, kill or log)"
        );
    }
}
