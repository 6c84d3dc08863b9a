//! `unveil`: the part of the file system a process may still see. Paths are collected with
//! `Unveil::allow` and made the only visible ones by `Unveil::lock`; locking with no path hides
//! the whole file system, which is what the frontend and the engine do. On OpenBSD this is
//! unveil(2); on Linux a Landlock ruleset. It must never report the file system as restricted
//! when the kernel did not restrict it: `lock` returns what was enforced.

use std::path::{Path, PathBuf};

use crate::SandboxError;

/// Access to an unveiled path, as OpenBSD's permission letters "rwxc".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions {
    /// "r": read files, list directories.
    pub read: bool,
    /// "w": write (and truncate) existing files.
    pub write: bool,
    /// "x": execute files.
    pub execute: bool,
    /// "c": create and remove files, directories, sockets and links.
    pub create: bool,
}

impl Permissions {
    /// Parses OpenBSD's letters; "" means visible to nobody, which Landlock expresses by
    /// granting nothing.
    pub fn parse(letters: &str) -> Result<Self, SandboxError> {
        let mut permissions = Permissions::default();
        for letter in letters.chars() {
            let flag = match letter {
                'r' => &mut permissions.read,
                'w' => &mut permissions.write,
                'x' => &mut permissions.execute,
                'c' => &mut permissions.create,
                _ => return Err(SandboxError::UnveilPermissions(letters.to_owned())),
            };
            *flag = true;
        }
        Ok(permissions)
    }

    /// OpenBSD's letters for these permissions, in "rwxc" order.
    pub fn letters(self) -> String {
        [
            (self.read, 'r'),
            (self.write, 'w'),
            (self.execute, 'x'),
            (self.create, 'c'),
        ]
        .iter()
        .filter_map(|&(on, letter)| on.then_some(letter))
        .collect()
    }
}

/// How much of the requested file system restriction the kernel enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    /// Everything requested is enforced.
    Full,
    /// The kernel's Landlock is older than the pinned ABI; part of the rights are enforced.
    Partial,
    /// The kernel has no Landlock (or it is disabled): the file system is not restricted.
    None,
}

/// Paths to keep visible; nothing changes until `lock`.
#[derive(Debug, Default)]
pub struct Unveil {
    rules: Vec<(PathBuf, Permissions)>,
    /// On Linux, leave signals out of the Landlock domain's scopes (see
    /// `leave_signals_to_seccomp`).
    signals_unscoped: bool,
}

impl Unveil {
    /// An empty set: locking it hides the whole file system.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `path` (and, for a directory, everything beneath it) visible with `permissions`
    /// letters ("r", "rw", "rwc", ...). Fails at once on bad letters.
    pub fn allow(
        &mut self,
        path: impl AsRef<Path>,
        permissions: &str,
    ) -> Result<&mut Self, SandboxError> {
        let permissions = Permissions::parse(permissions)?;
        self.rules.push((path.as_ref().to_owned(), permissions));
        Ok(self)
    }

    /// Lets signals leave the Landlock domain (Linux): only for a process whose seccomp filter
    /// names the processes it may signal (`confine_parent_with_children`). Landlock's signal
    /// scope would stop every signal to a process outside the domain, its own children started
    /// before it too. The abstract Unix socket scope stays.
    pub(crate) fn leave_signals_to_seccomp(&mut self) {
        self.signals_unscoped = true;
    }

    /// The allowed paths and their letters, e.g. "/run/slaacd:rwc /proc/self:r", for the log.
    pub fn describe(&self) -> String {
        let rules: Vec<String> = self
            .rules
            .iter()
            .map(|(path, permissions)| format!("{}:{}", path.display(), permissions.letters()))
            .collect();
        rules.join(" ")
    }

    /// Makes the allowed paths the only visible ones, for good. On Linux this restricts the
    /// calling thread and the threads and processes it creates afterwards (Landlock is per
    /// thread): call it while the process has one thread. Logs what was enforced.
    pub fn lock(self) -> Result<Enforcement, SandboxError> {
        let enforcement = platform::lock(&self.rules, !self.signals_unscoped)?;
        match enforcement {
            Enforcement::Full => tracing::info!(
                paths = self.rules.len(),
                landlock_abi = platform::PINNED_ABI_NAME,
                "file system unveiled"
            ),
            Enforcement::Partial => tracing::warn!(
                paths = self.rules.len(),
                "file system only partly restricted: the kernel's Landlock is older than ABI {}",
                platform::PINNED_ABI_NAME
            ),
            Enforcement::None => tracing::warn!(
                "file system NOT restricted: the kernel does not support Landlock \
                 (enable CONFIG_SECURITY_LANDLOCK and lsm=landlock)"
            ),
        }
        Ok(enforcement)
    }
}

/// The Landlock ABI the rulesets are written for (a note on OpenBSD, where unveil is native).
pub(crate) fn pinned_abi_name() -> &'static str {
    platform::PINNED_ABI_NAME
}

#[cfg(target_os = "linux")]
use crate::landlock_unveil as platform;

#[cfg(target_os = "openbsd")]
mod platform {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::path::PathBuf;

    use super::{Enforcement, Permissions};
    use crate::SandboxError;

    pub(crate) const PINNED_ABI_NAME: &str = "(not applicable on OpenBSD)";

    /// OpenBSD's unveil does not restrict signals: `_scope_signals` has nothing to turn off.
    pub(crate) fn lock(
        rules: &[(PathBuf, Permissions)],
        _scope_signals: bool,
    ) -> Result<Enforcement, SandboxError> {
        for (path, permissions) in rules {
            let failed = |detail: String| SandboxError::Unveil {
                path: path.clone(),
                detail,
            };
            let letters = permissions.letters();
            let c_path =
                CString::new(path.as_os_str().as_bytes()).map_err(|e| failed(e.to_string()))?;
            let c_letters = CString::new(letters).map_err(|e| failed(e.to_string()))?;
            // SAFETY: both pointers are valid NUL-terminated strings for the whole call.
            if unsafe { libc::unveil(c_path.as_ptr(), c_letters.as_ptr()) } == -1 {
                return Err(failed(std::io::Error::last_os_error().to_string()));
            }
        }
        // SAFETY: two null pointers are unveil's documented "lock" request.
        if unsafe { libc::unveil(std::ptr::null(), std::ptr::null()) } == -1 {
            return Err(SandboxError::UnveilLock(
                std::io::Error::last_os_error().to_string(),
            ));
        }
        Ok(Enforcement::Full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_permission_letters() {
        let all = Permissions::parse("rwxc").unwrap();
        assert!(all.read && all.write && all.execute && all.create);
        assert_eq!(Permissions::parse("").unwrap(), Permissions::default());
        let read = Permissions::parse("r").unwrap();
        assert!(read.read && !read.write && !read.execute && !read.create);
        assert_eq!(Permissions::parse("cwr").unwrap().letters(), "rwc");
    }

    #[test]
    fn describes_the_allowed_paths_for_the_log() {
        let mut unveil = Unveil::new();
        unveil.allow("/run/slaacd", "rwc").unwrap();
        unveil.allow("/proc/self", "r").unwrap();
        assert_eq!(unveil.describe(), "/run/slaacd:rwc /proc/self:r");
    }

    #[test]
    fn rejects_unknown_letters_naming_them() {
        let error = Unveil::new().allow("/tmp", "rq").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid unveil permissions \"rq\" (use letters from \"rwxc\")"
        );
    }
}
