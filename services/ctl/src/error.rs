//! Every way a slaacctl run can fail, each message naming what failed (the
//! socket, the interface, the command). `main` prints them after `slaacctl: `.
//!
//! It must never decide exit codes or print anything itself.

use std::io;
use std::path::PathBuf;

use nix::errno::Errno;

use crate::parser::ParseError;

#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    #[error("{0}")]
    Parse(#[from] ParseError),
    #[error("unknown interface {0}")]
    UnknownInterface(String),
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    #[error("connect {}: {}", path.display(), describe(source))]
    Connect { path: PathBuf, source: io::Error },
    #[error("request to slaacd on {}: {source}", path.display())]
    Request { path: PathBuf, source: capnp::Error },
    #[error("too many monitors: {0}")]
    TooManyMonitors(String),
    #[error("slaacd closed the connection on {}", .0.display())]
    Closed(PathBuf),
    #[error("reading an event from slaacd: {source}")]
    Event { source: capnp::Error },
    #[error("interface {0} is not managed by slaacd")]
    NotManaged(String),
    #[error("interface {0} is managed by slaacd but not present")]
    NotPresent(String),
    #[error("start the I/O runtime: {}", describe(.0))]
    Runtime(io::Error),
    #[error("encode the reply as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("write standard output: {}", describe(.0))]
    Output(io::Error),
}

/// An I/O error as the C library words it ("No such file or directory"),
/// without Rust's "(os error 2)" suffix.
fn describe(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => Errno::from_raw(code).desc().to_owned(),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_error_names_the_socket_in_c_library_words() {
        let error = CtlError::Connect {
            path: "/run/slaacd.sock".into(),
            source: io::Error::from_raw_os_error(libc::ECONNREFUSED),
        };
        assert_eq!(
            error.to_string(),
            "connect /run/slaacd.sock: Connection refused"
        );
    }
}
