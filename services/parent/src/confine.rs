//! The parent's confinement, applied once both children run and every socket they get has
//! been handed out. The parent stays root, because what it still does needs it; everything
//! else goes. What it still does after start-up, and what each thing needs:
//!
//! - netlink route writes (addresses, routes, nexthops) on the socket it holds: CAP_NET_ADMIN;
//!   "route" should it open another rtnetlink socket, and for the interface name lookups
//!   (`interface_names`, RTM_GETLINK: no ioctl);
//! - sysctl reads and writes (accept_ra, MTU, hop limit, neighbour timers), also to restore
//!   them at exit: "rpath wpath" beneath /proc/sys/net/ipv6/conf and .../neigh. Root owns those
//!   files and the kernel lets the network administrator write them, so no CAP_DAC_OVERRIDE;
//! - the resolver backend: whatever the backend describes (`ResolverNeeds`, from
//!   `resolver::Backend::confinement_needs`), added here without knowing which backend it is;
//! - waiting for its children (and the resolvconf helper) and signalling them, who run as
//!   another user: "children", CAP_KILL. Not "proc": it never starts a process once confined.
//!   CAP_KILL would let it signal any process; "children" names their pids, so seccomp lets
//!   kill and wait through for those pids only (`confine`'s `children`). Landlock's signal
//!   scope is left off: the children run outside the parent's domain (made after them), and
//!   it would refuse every signal to them;
//!   "children" lets it start a thread, which nothing does in normal operation (one runtime
//!   thread), but the resolver's clean-up after a panic talks to systemd-resolved from one;
//! - logging to stderr, or to syslog over an AF_UNIX datagram socket it may have to reopen:
//!   "unix";
//! - at exit: unlocking its lock file ("flock") and removing the control socket ("cpath" on
//!   the socket's directory);
//! - telling the command that daemonized it that it started, which points stdout and stderr
//!   at /dev/null: /dev/null, read and write;
//! - what std reads about the process itself: /proc/self, read only.
//!
//! It must never grant exec, the right to execute a file or to start a process ("proc"),
//! whatever the backend asks (a backend that runs a program, resolvconf, runs it from a helper
//! process with a confinement of its own, started before: `resolver::helper`), a socket family
//! other than netlink-route and Unix, or a path beyond these unless the resolver backend asks
//! for it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use slaacd_sandbox::escape::{Escape, attempt_escapes_reporting_to, parse_escapes};
use slaacd_sandbox::{Capability, ParentProfile, SandboxError, Unveil, Violation};

/// The promises the parent keeps whatever the resolver backend.
const PROMISES: &str = "stdio rpath wpath cpath flock route unix children";

/// The capabilities the parent keeps: netlink writes, and signals to its unprivileged children.
const CAPABILITIES: [Capability; 2] = [Capability::CAP_NET_ADMIN, Capability::CAP_KILL];

/// Where the managed interface settings live (per interface beneath them). Whole directories,
/// not one per interface: an interface deleted and created again gets a new directory there.
const SYSCTL_DIRECTORIES: [&str; 2] = ["/proc/sys/net/ipv6/conf", "/proc/sys/net/ipv6/neigh"];

/// The resolver backend's needs once the parent is confined, as the backend describes them:
/// this module grants exactly these on top of the parent's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolverNeeds {
    /// Existing paths it reads or writes, with unveil letters ("r", "rw"; never "x").
    pub paths: Vec<(PathBuf, &'static str)>,
    /// Directories it creates, replaces and removes files in ("rwc"); made (mode 0755) before
    /// confinement if missing, because Landlock can only grant what exists.
    pub directories: Vec<PathBuf>,
    /// Pledge promises beyond the parent's own, e.g. "fattr" to set a file's mode or "unix" for a
    /// D-Bus connection; never "exec" or "proc".
    pub promises: &'static str,
}

/// The parent's hidden debugging and testing options.
#[derive(clap::Args, Debug, Clone)]
pub struct ConfinementOptions {
    /// Debugging: what a system call outside the allowlist does: kill the process (the
    /// default), deny it with EPERM, or log it to the kernel's audit log and let it through.
    #[arg(long, hide = true, default_value = "kill")]
    pub sandbox_violation: Violation,
    /// Testing: once started and confined, attempt these escapes ("all" or a comma-separated
    /// list), report each on stderr and stop.
    #[arg(long, hide = true, value_name = "ESCAPES")]
    pub confinement_self_test: Option<String>,
}

impl Default for ConfinementOptions {
    fn default() -> Self {
        Self {
            sandbox_violation: Violation::Kill,
            confinement_self_test: None,
        }
    }
}

impl ConfinementOptions {
    /// The escapes the self-test asks for, if it is on; fails on an unknown name.
    pub fn self_test(&self) -> Result<Option<Vec<Escape>>, SandboxError> {
        self.confinement_self_test
            .as_deref()
            .map(parse_escapes)
            .transpose()
    }
}

/// The parent's profile: its own needs, the control socket's directory (the socket is
/// removed at exit), and what the resolver backend describes. Makes the backend's missing
/// directories.
pub fn profile(control_socket: &Path, resolver: &ResolverNeeds) -> anyhow::Result<ParentProfile> {
    let mut unveil = Unveil::new();
    for directory in SYSCTL_DIRECTORIES {
        unveil.allow(directory, "rw")?;
    }
    unveil.allow("/proc/self", "r")?;
    unveil.allow("/dev/null", "rw")?;
    unveil.allow(directory_of(control_socket), "c")?;
    for directory in &resolver.directories {
        make_directory(directory)?;
        unveil.allow(directory, "rwc")?;
    }
    for (path, letters) in &resolver.paths {
        if letters.contains('x') {
            anyhow::bail!(
                "the resolver backend asks to execute {}, which the parent never may",
                path.display()
            );
        }
        unveil.allow(path, letters)?;
    }
    let promises = if resolver.promises.is_empty() {
        PROMISES.to_owned()
    } else {
        format!("{PROMISES} {}", resolver.promises)
    };
    // Checked now, so that a backend's typo is reported as its own.
    let parsed = promises
        .parse::<slaacd_sandbox::Promises>()
        .context("the resolver backend's promises")?;
    if parsed.contains(slaacd_sandbox::Promise::Exec) {
        anyhow::bail!("the resolver backend asks for exec, which the parent never keeps");
    }
    if parsed.contains(slaacd_sandbox::Promise::Proc) {
        anyhow::bail!(
            "the resolver backend asks for proc, which the parent never keeps: it starts no \
             process once confined"
        );
    }
    Ok(ParentProfile {
        promises,
        unveil,
        capabilities: CAPABILITIES.to_vec(),
    })
}

/// Confines the parent as `profile` says; `children` are the pids of the processes it started
/// (the engine, the frontend, the resolvconf helper if any), the only ones it may still signal
/// and wait for. Call it on the only thread, once both children run and hold their sockets.
pub fn confine(
    profile: ParentProfile,
    children: &[u32],
    options: &ConfinementOptions,
) -> anyhow::Result<()> {
    slaacd_sandbox::confine_parent_with_children(profile, children, options.sandbox_violation)
        .context("confining slaacd")?;
    Ok(())
}

/// The self-test: attempts `escapes` after confinement and reports each on stderr.
pub fn attempt_escapes(escapes: &[Escape]) -> std::io::Result<()> {
    attempt_escapes_reporting_to(&mut std::io::stderr().lock(), escapes, None)
}

/// The directory a file is in; "." for a bare file name.
fn directory_of(path: &Path) -> &Path {
    path.parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn make_directory(directory: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(directory)
        .with_context(|| format!("creating {}", directory.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(profile: &ParentProfile) -> String {
        profile.unveil.describe()
    }

    #[test]
    fn the_parent_alone_gets_no_exec_and_only_its_paths() {
        let profile = profile(
            Path::new("/run/slaacd/slaacd.sock"),
            &ResolverNeeds::default(),
        )
        .unwrap();
        assert_eq!(profile.promises, PROMISES);
        assert!(!profile.promises.contains("exec"));
        assert!(!profile.promises.contains("inet"));
        assert!(!profile.promises.contains("proc"));
        assert_eq!(
            described(&profile),
            "/proc/sys/net/ipv6/conf:rw /proc/sys/net/ipv6/neigh:rw /proc/self:r /dev/null:rw \
             /run/slaacd:c"
        );
        assert_eq!(
            profile.capabilities,
            [Capability::CAP_NET_ADMIN, Capability::CAP_KILL]
        );
    }

    #[test]
    fn the_resolver_backend_adds_what_it_describes() {
        let scratch = std::env::temp_dir().join(format!("slaacd-confine-{}", std::process::id()));
        let needs = ResolverNeeds {
            paths: vec![(PathBuf::from("/etc/hosts"), "r")],
            directories: vec![scratch.join("dns")],
            promises: "fattr unix",
        };
        let profile = profile(Path::new("slaacd.sock"), &needs);
        let made = scratch.join("dns").is_dir();
        let _ = std::fs::remove_dir_all(&scratch);
        let profile = profile.unwrap();
        assert!(made, "the backend's directory was not made");
        assert_eq!(profile.promises, format!("{PROMISES} fattr unix"));
        assert!(
            described(&profile).ends_with(&format!(
                " .:c {}:rwc /etc/hosts:r",
                scratch.join("dns").display()
            )),
            "{}",
            described(&profile)
        );
    }

    #[test]
    fn no_backend_gets_exec() {
        let socket = Path::new("/run/slaacd/slaacd.sock");
        let exec = ResolverNeeds {
            promises: "proc exec",
            ..ResolverNeeds::default()
        };
        let error = profile(socket, &exec).unwrap_err();
        assert!(format!("{error:#}").contains("exec"), "{error:#}");
        let fork = ResolverNeeds {
            promises: "unix proc",
            ..ResolverNeeds::default()
        };
        let error = profile(socket, &fork).unwrap_err();
        assert!(format!("{error:#}").contains("asks for proc"), "{error:#}");
        let execute = ResolverNeeds {
            paths: vec![(PathBuf::from("/bin/true"), "rx")],
            ..ResolverNeeds::default()
        };
        let error = profile(socket, &execute).unwrap_err();
        assert!(format!("{error:#}").contains("/bin/true"), "{error:#}");
        for backend in [
            crate::resolver::Backend::Resolvconf(PathBuf::from("/usr/sbin/resolvconf")),
            crate::resolver::Backend::File(PathBuf::from("/run/slaacd/resolv.conf")),
        ] {
            let needs = backend.confinement_needs();
            assert!(!needs.promises.contains("exec"), "{backend}");
            assert!(!needs.promises.contains("proc"), "{backend}");
            assert!(
                needs
                    .paths
                    .iter()
                    .all(|(_, letters)| !letters.contains('x'))
            );
        }
    }

    #[test]
    fn a_misspelt_backend_promise_is_refused() {
        let needs = ResolverNeeds {
            promises: "exce",
            ..ResolverNeeds::default()
        };
        let error = profile(Path::new("/run/slaacd/slaacd.sock"), &needs).unwrap_err();
        assert!(
            format!("{error:#}").contains("unknown pledge promise \"exce\""),
            "{error:#}"
        );
    }

    #[test]
    fn self_test_names_are_checked() {
        let options = ConfinementOptions {
            confinement_self_test: Some("exec,open-shadow".into()),
            ..ConfinementOptions::default()
        };
        assert_eq!(
            options.self_test().unwrap(),
            Some(vec![Escape::Exec, Escape::ReadShadow])
        );
        let options = ConfinementOptions {
            confinement_self_test: Some("exec,fly".into()),
            ..ConfinementOptions::default()
        };
        assert!(options.self_test().is_err());
        assert_eq!(ConfinementOptions::default().self_test().unwrap(), None);
    }
}
