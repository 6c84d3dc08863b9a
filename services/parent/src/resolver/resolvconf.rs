//! The resolvconf(8) backend: each interface's DNS entries become the record
//! `<interface>.slaacd`, added with `resolvconf -a` (the lines on standard
//! input) and deleted with `resolvconf -d`. Debian's resolvconf, openresolv
//! and systemd-resolved's resolvconf compatibility all take this form, and
//! all three accept `-d RECORD -f` for a record that may not exist (Debian's
//! ignores the `-f` and succeeds anyway; the other two need it).
//!
//! It runs only the program it was given, with no shell, and never waits for
//! it forever.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::AsyncWriteExt;

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
}

/// The record name slaacd uses for an interface.
pub fn record(interface: &str) -> String {
    format!("{interface}.slaacd")
}

/// `resolvconf -a <interface>.slaacd` with `lines` on standard input.
pub async fn add(program: &Path, interface: &str, lines: &str) -> Result<(), ResolvconfError> {
    run(program, "-a", &record(interface), &[], Some(lines)).await
}

/// `resolvconf -d <interface>.slaacd`.
pub async fn delete(program: &Path, interface: &str) -> Result<(), ResolvconfError> {
    run(program, "-d", &record(interface), &[], None).await
}

/// `resolvconf -d <interface>.slaacd -f`: deletes the record if a previous
/// run left one, and succeeds if there is none.
pub async fn delete_if_present(program: &Path, interface: &str) -> Result<(), ResolvconfError> {
    run(program, "-d", &record(interface), &["-f"], None).await
}

async fn run(
    program: &Path,
    action: &'static str,
    record: &str,
    options: &[&str],
    input: Option<&str>,
) -> Result<(), ResolvconfError> {
    let spawn_failed = |source| ResolvconfError::Spawn {
        program: program.to_owned(),
        source,
    };
    let mut child = tokio::process::Command::new(program)
        .arg(action)
        .arg(record)
        .args(options)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(spawn_failed)?;
    let finished = async {
        if let (Some(mut stdin), Some(lines)) = (child.stdin.take(), input) {
            stdin.write_all(lines.as_bytes()).await?;
            // Dropping stdin closes it: resolvconf reads to the end.
        }
        child.wait_with_output().await
    };
    let output = match tokio::time::timeout(TIMEOUT, finished).await {
        Ok(output) => output.map_err(spawn_failed)?,
        Err(_) => {
            return Err(ResolvconfError::TimedOut {
                program: program.to_owned(),
                action,
                record: record.to_owned(),
            });
        }
    };
    if output.status.success() {
        Ok(())
    } else {
        Err(ResolvconfError::Failed {
            program: program.to_owned(),
            action,
            record: record.to_owned(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// `resolvconf -d` without a runtime, for shutdown: waits at most
/// [`TIMEOUT`], then kills the program.
pub fn delete_blocking(program: &Path, interface: &str) -> Result<(), ResolvconfError> {
    let record = record(interface);
    let mut child = std::process::Command::new(program)
        .arg("-d")
        .arg(&record)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| ResolvconfError::Spawn {
            program: program.to_owned(),
            source,
        })?;
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(ResolvconfError::Failed {
                    program: program.to_owned(),
                    action: "-d",
                    record,
                    status,
                    stderr: String::new(),
                });
            }
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ResolvconfError::TimedOut {
                    program: program.to_owned(),
                    action: "-d",
                    record,
                });
            }
        }
    }
}
