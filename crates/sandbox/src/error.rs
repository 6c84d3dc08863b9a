//! The one error type of the sandbox crate. Every variant names what failed (the user, the
//! limit, the promise, the path); it must never hide the operating system's error code.

use std::path::PathBuf;

/// Why giving up a privilege failed. A process that gets one of these must not go on to read
/// untrusted input: it was not confined as designed.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "user {user} does not exist; create it with: useradd --system --no-create-home \
         --home-dir /nonexistent --shell /usr/sbin/nologin {user}"
    )]
    UserMissing { user: String },
    #[error("cannot look up user {user}: {source}")]
    UserLookup { user: String, source: nix::Error },
    #[error(
        "user {user} has uid {uid} and gid {gid}; refusing to run an unprivileged process with uid or gid 0"
    )]
    UserIsPrivileged { user: String, uid: u32, gid: u32 },
    #[error("cannot {step} while dropping privileges to user {user}: {source}")]
    DropStep {
        user: String,
        step: &'static str,
        source: nix::Error,
    },
    #[error("privileges not fully dropped to user {user}: {detail}")]
    NotDropped { user: String, detail: String },
    #[error("cannot set the {resource} limit to {value}: {source}")]
    ResourceLimit {
        resource: &'static str,
        value: u64,
        source: nix::Error,
    },
    #[error("cannot set no_new_privs: {0}")]
    NoNewPrivs(nix::Error),
    #[error("unknown pledge promise {0:?}")]
    UnknownPromise(String),
    #[error("unknown seccomp violation mode {0:?} (use deny, kill or log)")]
    UnknownViolation(String),
    #[error(
        "pids of children given to a pledge of \"{promises}\", which lacks the children promise"
    )]
    ChildrenWithoutPromise { promises: String },
    #[error("{0} is not the pid of one child process")]
    InvalidChild(u32),
    #[error("cannot install the seccomp filter for promises \"{promises}\": {detail}")]
    Seccomp { promises: String, detail: String },
    #[error("cannot unveil {}: {detail}", path.display())]
    Unveil { path: PathBuf, detail: String },
    #[error("invalid unveil permissions {0:?} (use letters from \"rwxc\")")]
    UnveilPermissions(String),
    #[error("cannot lock the unveiled view of the file system: {0}")]
    UnveilLock(String),
    #[error("cannot list the open file descriptors: {0}")]
    Descriptors(nix::Error),
    #[error("unknown escape {0:?}")]
    UnknownEscape(String),
    #[error("cannot {step} while dropping capabilities: {detail}")]
    Capabilities { step: &'static str, detail: String },
    #[error(
        "cannot confine with {0} threads running: Landlock would restrict only the calling one"
    )]
    Threads(usize),
    #[error("cannot count this process's threads in /proc/self/task: {0}")]
    ThreadCount(std::io::Error),
}
