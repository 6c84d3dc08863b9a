//! The pledge promise names slaacd's processes use, parsed from OpenBSD's space-separated
//! form ("stdio inet recvfd"). Only names that mean the same on OpenBSD and here are accepted;
//! this module must never silently ignore an unknown name, since that would widen nothing on
//! OpenBSD but hide a typo on Linux.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::SandboxError;

/// One capability a process keeps after `pledge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Promise {
    /// Memory, time, signals, and I/O on descriptors the process already holds.
    Stdio,
    /// Open files for reading and read file system metadata.
    Rpath,
    /// Open existing files for writing.
    Wpath,
    /// Create, rename and remove files and directories.
    Cpath,
    /// Change the mode, owner and times of files.
    Fattr,
    /// Lock files (flock, and fcntl's record locks).
    Flock,
    /// IPv4 and IPv6 sockets.
    Inet,
    /// Unix-domain sockets.
    Unix,
    /// Routing sockets (rtnetlink on Linux).
    Route,
    /// Receive descriptors over Unix sockets.
    Recvfd,
    /// Send descriptors over Unix sockets.
    Sendfd,
    /// Create processes and threads, and signal other processes.
    Proc,
    /// Wait for and signal the processes it already started, those whose pids the pledge
    /// names (`pledge_with_children`) and no other, and start threads (which share its
    /// confinement), but never a new process. A Linux refinement of "proc" for a process
    /// that keeps children it made before pledging: OpenBSD has no such promise and is given
    /// "proc" for it (its threads come with "stdio" there).
    Children,
    /// Execute programs.
    Exec,
}

impl Promise {
    /// The promise's name, as written in a promise string.
    pub fn name(self) -> &'static str {
        match self {
            Promise::Stdio => "stdio",
            Promise::Rpath => "rpath",
            Promise::Wpath => "wpath",
            Promise::Cpath => "cpath",
            Promise::Fattr => "fattr",
            Promise::Flock => "flock",
            Promise::Inet => "inet",
            Promise::Unix => "unix",
            Promise::Route => "route",
            Promise::Recvfd => "recvfd",
            Promise::Sendfd => "sendfd",
            Promise::Proc => "proc",
            Promise::Children => "children",
            Promise::Exec => "exec",
        }
    }

    const ALL: [Promise; 14] = [
        Promise::Stdio,
        Promise::Rpath,
        Promise::Wpath,
        Promise::Cpath,
        Promise::Fattr,
        Promise::Flock,
        Promise::Inet,
        Promise::Unix,
        Promise::Route,
        Promise::Recvfd,
        Promise::Sendfd,
        Promise::Proc,
        Promise::Children,
        Promise::Exec,
    ];
}

/// A set of promises, e.g. parsed from `"stdio inet"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Promises(BTreeSet<Promise>);

impl Promises {
    /// Whether `promise` is in the set.
    pub fn contains(&self, promise: Promise) -> bool {
        self.0.contains(&promise)
    }

    /// The promises in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = Promise> + '_ {
        self.0.iter().copied()
    }
}

impl FromStr for Promises {
    type Err = SandboxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split_ascii_whitespace()
            .map(|word| {
                Promise::ALL
                    .into_iter()
                    .find(|promise| promise.name() == word)
                    .ok_or_else(|| SandboxError::UnknownPromise(word.to_owned()))
            })
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Promises)
    }
}

impl fmt::Display for Promises {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Promise::name).collect();
        f.write_str(&names.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_in_a_stable_order() {
        let promises: Promises = "recvfd  stdio\tinet".parse().unwrap();
        assert!(promises.contains(Promise::Stdio));
        assert!(promises.contains(Promise::Inet));
        assert!(!promises.contains(Promise::Unix));
        assert_eq!(promises.to_string(), "stdio inet recvfd");
    }

    #[test]
    fn children_is_a_promise_of_its_own() {
        let promises: Promises = "children stdio".parse().unwrap();
        assert!(promises.contains(Promise::Children));
        assert!(!promises.contains(Promise::Proc));
        assert_eq!(promises.to_string(), "stdio children");
    }

    #[test]
    fn rejects_unknown_names() {
        let error = "stdio wroute".parse::<Promises>().unwrap_err();
        assert_eq!(error.to_string(), "unknown pledge promise \"wroute\"");
    }

    #[test]
    fn empty_string_is_the_empty_set() {
        assert_eq!("".parse::<Promises>().unwrap(), Promises::default());
    }
}
