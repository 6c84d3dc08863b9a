//! Linux's no_new_privs flag: once set, execve can never grant privileges (set-id bits, file
//! capabilities). It is a prerequisite of seccomp for unprivileged processes and of Landlock.
//! It must never be cleared, and the kernel offers no way to clear it.

use crate::SandboxError;

/// Sets no_new_privs for this process and its future children, and checks it is set.
pub fn set_no_new_privs() -> Result<(), SandboxError> {
    nix::sys::prctl::set_no_new_privs().map_err(SandboxError::NoNewPrivs)?;
    match nix::sys::prctl::get_no_new_privs() {
        Ok(true) => Ok(()),
        Ok(false) => Err(SandboxError::NoNewPrivs(nix::Error::EPERM)),
        Err(error) => Err(SandboxError::NoNewPrivs(error)),
    }
}
