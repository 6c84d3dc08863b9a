//! The resolvconf(8) backend: each interface's DNS entries become the record
//! `<interface>.slaacd`, added with `resolvconf -a` (the lines on standard
//! input) and deleted with `resolvconf -d`. Debian's resolvconf, openresolv
//! and systemd-resolved's resolvconf compatibility all take this form, and
//! all three accept `-d RECORD -f` for a record that may not exist (Debian's
//! ignores the `-f` and succeeds anyway; the other two need it).
//!
//! The parent asks; the resolvconf helper (`helper`) runs the program, so
//! the parent itself never executes anything. Running it ([`run`]) happens
//! in the helper only: the program it was given, with no shell, an
//! interface name it checked, and never waiting for it forever.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::helper::protocol::{Action, Answer, MAX_STDERR, Request};
use super::helper::{Helper, HelperError};

/// How long resolvconf may take before it is killed.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong running resolvconf.
#[derive(Debug, thiserror::Error)]
pub enum ResolvconfError {
    #[error("run {program}: {source}")]
    Spawn { program: PathBuf, source: io::Error },
    #[error("{program} {action} {record}: {status}: {stderr}")]
    Failed {
        program: PathBuf,
        action: &'static str,
        record: String,
        status: ExitStatus,
        stderr: String,
    },
    #[error("{program} {action} {record}: no answer within {TIMEOUT:?}")]
    TimedOut {
        program: PathBuf,
        action: &'static str,
        record: String,
    },
    #[error("{program} {action} {record}: refused by the resolvconf helper: {reason}")]
    Refused {
        program: PathBuf,
        action: &'static str,
        record: String,
        reason: String,
    },
    #[error("{program} {action} {record}: {source}")]
    Helper {
        program: PathBuf,
        action: &'static str,
        record: String,
        source: Box<HelperError>,
    },
}

/// The record name slaacd uses for an interface.
pub fn record(interface: &str) -> String {
    format!("{interface}.slaacd")
}

/// `resolvconf -a <interface>.slaacd` with `lines` on standard input.
pub async fn add(helper: &Helper, interface: &str, lines: &str) -> Result<(), ResolvconfError> {
    let request = request(Action::Add, interface, lines);
    let answer = helper.ask(request.clone()).await;
    outcome(helper.program(), &request, answer)
}

/// `resolvconf -d <interface>.slaacd`.
pub async fn delete(helper: &Helper, interface: &str) -> Result<(), ResolvconfError> {
    let request = request(Action::Delete, interface, "");
    let answer = helper.ask(request.clone()).await;
    outcome(helper.program(), &request, answer)
}

/// `resolvconf -d <interface>.slaacd -f`: deletes the record if a previous
/// run left one, and succeeds if there is none.
pub async fn delete_if_present(helper: &Helper, interface: &str) -> Result<(), ResolvconfError> {
    let request = request(Action::DeleteIfPresent, interface, "");
    let answer = helper.ask(request.clone()).await;
    outcome(helper.program(), &request, answer)
}

/// `resolvconf -d` without a runtime, for shutdown: waits at most a little
/// longer than [`TIMEOUT`] for the helper's answer.
pub fn delete_blocking(helper: &Helper, interface: &str) -> Result<(), ResolvconfError> {
    let request = request(Action::Delete, interface, "");
    let answer = helper.ask_blocking(&request);
    outcome(helper.program(), &request, answer)
}

fn request(action: Action, interface: &str, lines: &str) -> Request {
    Request {
        action,
        interface: interface.to_owned(),
        lines: lines.to_owned(),
    }
}

fn option(action: Action) -> &'static str {
    match action {
        Action::Add => "-a",
        Action::Delete | Action::DeleteIfPresent => "-d",
    }
}

/// The helper's answer as the backend's result.
fn outcome(
    program: &Path,
    request: &Request,
    answer: Result<Answer, HelperError>,
) -> Result<(), ResolvconfError> {
    let program = program.to_owned();
    let action = option(request.action);
    let record = record(&request.interface);
    match answer {
        Ok(Answer::Exited { status, .. }) if status.success() => Ok(()),
        Ok(Answer::Exited { status, stderr }) => Err(ResolvconfError::Failed {
            program,
            action,
            record,
            status,
            stderr: stderr.trim().to_owned(),
        }),
        Ok(Answer::NotStarted { errno }) => Err(ResolvconfError::Spawn {
            program,
            source: io::Error::from_raw_os_error(errno),
        }),
        Ok(Answer::TimedOut) => Err(ResolvconfError::TimedOut {
            program,
            action,
            record,
        }),
        Ok(Answer::Refused { reason }) => Err(ResolvconfError::Refused {
            program,
            action,
            record,
            reason,
        }),
        Err(source) => Err(ResolvconfError::Helper {
            program,
            action,
            record,
            source: Box::new(source),
        }),
    }
}

/// Whether Linux would accept `name` for an interface (dev_valid_name): 1 to
/// 15 bytes, not "." or "..", no '/', ':', whitespace or NUL. Only such a
/// name becomes part of a record name.
pub fn is_interface_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|byte| byte == b'/' || byte == b':' || byte == 0 || byte.is_ascii_whitespace())
}

/// In the helper: runs `program` as `request` says and reports how it ended,
/// with at most [`MAX_STDERR`] bytes of its standard error. It is killed
/// after [`TIMEOUT`]. A process it leaves holding its standard error does
/// not delay the answer once it has exited.
pub fn run(program: &Path, request: &Request) -> Answer {
    if !is_interface_name(&request.interface) {
        return Answer::Refused {
            reason: format!("{:?} is not an interface name", request.interface),
        };
    }
    let mut command = std::process::Command::new(program);
    command
        .arg(option(request.action))
        .arg(record(&request.interface));
    if request.action == Action::DeleteIfPresent {
        command.arg("-f");
    }
    let adding = request.action == Action::Add;
    command
        .stdin(if adding {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            return Answer::NotStarted {
                errno: error.raw_os_error().unwrap_or(libc::EIO),
            };
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // The lines fit in the pipe (MAX_LINES): this cannot block. A program that
        // exits without reading them is judged by its status, so the error is not ours.
        let _ = stdin.write_all(request.lines.as_bytes());
        // Dropped here: closing it lets resolvconf read to the end.
    }
    let deadline = Instant::now() + TIMEOUT;
    let mut stderr = child.stderr.take();
    let mut collected = Vec::new();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                if let Some(stream) = &mut stderr {
                    collect(stream, &mut collected, PollTimeout::ZERO);
                }
                return Answer::Exited {
                    status,
                    stderr: String::from_utf8_lossy(&collected).into_owned(),
                };
            }
            Ok(None) if Instant::now() < deadline => {}
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Answer::TimedOut;
            }
        }
        match &mut stderr {
            Some(stream) => {
                if !collect(stream, &mut collected, PollTimeout::from(10u16)) {
                    stderr = None;
                }
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Reads what `stream` has within `wait` into `collected`, keeping at most
/// [`MAX_STDERR`] bytes; false once it has ended.
fn collect(stream: &mut (impl Read + AsFd), collected: &mut Vec<u8>, wait: PollTimeout) -> bool {
    let mut buffer = [0u8; 4096];
    // A writer that never stops is read from no more than this per call.
    for _ in 0..16 {
        let mut fds = [PollFd::new(stream.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, wait) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return false,
            Ok(read) => {
                let room = MAX_STDERR.saturating_sub(collected.len());
                collected.extend_from_slice(&buffer[..read.min(room)]);
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_linux_interface_names_are_accepted() {
        for good in ["eth0", "wlp3s0", "veth-a.10", "a", "fifteen_chars_x"] {
            assert!(is_interface_name(good), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../etc",
            "a/b",
            "eth0:1",
            "eth 0",
            "sixteen_chars_xx",
        ] {
            assert!(!is_interface_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_program_runs_with_its_record_and_reports_stderr_and_status() {
        let request = Request {
            action: Action::DeleteIfPresent,
            interface: "eth0".into(),
            lines: String::new(),
        };
        let answer = run(Path::new("/bin/sh"), &request);
        // sh reads "-d" as an option it does not know: a status and a message.
        let Answer::Exited { status, stderr } = answer else {
            panic!("{answer:?}");
        };
        assert!(!status.success());
        assert!(!stderr.is_empty());
        assert_eq!(
            run(Path::new("/nonexistent/resolvconf"), &request),
            Answer::NotStarted {
                errno: libc::ENOENT
            }
        );
        let bad = Request {
            interface: "../x".into(),
            ..request
        };
        assert!(matches!(
            run(Path::new("/bin/true"), &bad),
            Answer::Refused { .. }
        ));
    }
}
