//! The Linux side of `unveil`: a Landlock ruleset pinned to one ABI, handling every file
//! system right of that ABI plus the abstract-socket and signal scopes (the signal scope left
//! out only when the caller asks, for a process whose seccomp filter limits signals to named
//! pids), so that whatever is not allowed is denied. It must never fall back silently: the
//! caller learns from `Enforcement` (and the log) whether the kernel enforced all, part or none
//! of it.

use std::path::PathBuf;

use landlock::{
    ABI, Access, AccessFs, BitFlags, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr,
    RulesetStatus, Scope,
};

use crate::SandboxError;
use crate::unveil::{Enforcement, Permissions};

/// The ABI this crate is tested against (Linux 6.12+: file rights, truncate, ioctl on
/// devices, and scopes). Newer kernels enforce exactly this; older ones enforce less.
const PINNED_ABI: ABI = ABI::V6;
pub(crate) const PINNED_ABI_NAME: &str = "v6";

fn rights(permissions: Permissions) -> BitFlags<AccessFs> {
    let mut rights = BitFlags::empty();
    if permissions.read {
        rights |= AccessFs::from_read(PINNED_ABI) & !AccessFs::Execute;
    }
    if permissions.write {
        rights |= AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev;
    }
    if permissions.execute {
        rights |= AccessFs::Execute;
    }
    if permissions.create {
        let writing = AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev;
        rights |= AccessFs::from_write(PINNED_ABI) & !writing;
    }
    rights
}

pub(crate) fn lock(
    rules: &[(PathBuf, Permissions)],
    scope_signals: bool,
) -> Result<Enforcement, SandboxError> {
    let lock_failed = |error: landlock::RulesetError| SandboxError::UnveilLock(error.to_string());
    let mut scopes = Scope::from_all(PINNED_ABI);
    if !scope_signals {
        scopes &= !Scope::Signal;
    }
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(PINNED_ABI))
        .map_err(lock_failed)?
        .scope(scopes)
        .map_err(lock_failed)?
        .create()
        .map_err(lock_failed)?;
    for (path, permissions) in rules {
        let failed = |detail: String| SandboxError::Unveil {
            path: path.clone(),
            detail,
        };
        let fd = PathFd::new(path).map_err(|e| failed(e.to_string()))?;
        let mut access = rights(*permissions);
        // Directory-only rights cannot be granted on a file; keep the ones that apply.
        if !path.is_dir() {
            access &= AccessFs::from_file(PINNED_ABI);
        }
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|e| failed(e.to_string()))?;
    }
    let status = ruleset.restrict_self().map_err(lock_failed)?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => Enforcement::Full,
        RulesetStatus::PartiallyEnforced => Enforcement::Partial,
        RulesetStatus::NotEnforced => Enforcement::None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_map_to_disjoint_rights() {
        let read = rights(Permissions::parse("r").unwrap());
        let write = rights(Permissions::parse("w").unwrap());
        let execute = rights(Permissions::parse("x").unwrap());
        let create = rights(Permissions::parse("c").unwrap());
        assert!(read.contains(AccessFs::ReadFile | AccessFs::ReadDir));
        assert_eq!(
            write,
            AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev
        );
        assert_eq!(execute, BitFlags::from(AccessFs::Execute));
        assert!(create.contains(AccessFs::MakeReg | AccessFs::RemoveFile | AccessFs::MakeSock));
        for (a, b) in [
            (read, write),
            (read, execute),
            (read, create),
            (write, create),
        ] {
            assert!((a & b).is_empty());
        }
        let all = rights(Permissions::parse("rwxc").unwrap());
        assert_eq!(all, AccessFs::from_all(PINNED_ABI));
    }

    #[test]
    fn nothing_unveiled_grants_nothing() {
        assert!(rights(Permissions::default()).is_empty());
    }
}
