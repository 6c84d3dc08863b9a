//! Starting the two unprivileged children and telling how they ended.
//!
//! The children are separate executables, found in the libexec directory set
//! at build time (`SLAACD_LIBEXECDIR`) or, failing that, next to `slaacd`.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ExitStatus};
use std::time::Duration;

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Which child a process is, for logs and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Engine,
    Frontend,
}

impl Role {
    pub fn program(self) -> &'static str {
        match self {
            Role::Engine => "slaacd-engine",
            Role::Frontend => "slaacd-frontend",
        }
    }
}

/// How a child is started: the options it shares with the parent.
pub struct ChildOptions {
    pub foreground: bool,
    pub verbose: u8,
    pub user: String,
}

/// A running child process.
pub struct RunningChild {
    pub role: Role,
    child: Child,
}

/// Starts `role` with `channel` as its fd 3.
pub fn spawn(role: Role, options: &ChildOptions, channel: OwnedFd) -> anyhow::Result<RunningChild> {
    let program = locate(role)?;
    let mut args: Vec<OsString> = Vec::new();
    if options.foreground {
        args.push("-d".into());
    }
    for _ in 0..options.verbose {
        args.push("-v".into());
    }
    args.push("--user".into());
    args.push(options.user.clone().into());
    let child = slaacd_ipc::child::spawn_child(&program, &args, channel)
        .with_context(|| format!("starting {}", program.display()))?;
    tracing::debug!("started {} as pid {}", role.program(), child.id());
    Ok(RunningChild { role, child })
}

fn locate(role: Role) -> anyhow::Result<PathBuf> {
    let directory = match option_env!("SLAACD_LIBEXECDIR") {
        Some(directory) => PathBuf::from(directory),
        None => std::env::current_exe()
            .context("finding slaacd's own executable")?
            .parent()
            .context("finding slaacd's directory")?
            .to_path_buf(),
    };
    let program = directory.join(role.program());
    if !program.is_file() {
        bail!("{} not found (expected beside slaacd)", program.display());
    }
    Ok(program)
}

impl RunningChild {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `grace` for the child to exit, then kills it.
    pub async fn finish(&mut self, grace: Duration) -> ExitStatus {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Ok(None) | Err(_) => {
                    tracing::warn!("{} did not exit; killing it", self.role.program());
                    let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL);
                    // After SIGKILL the wait cannot block for long.
                    return self
                        .child
                        .wait()
                        .unwrap_or_else(|_| ExitStatus::from_raw(0));
                }
            }
        }
    }

    /// Asks the child to stop.
    pub fn terminate(&self) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
    }
}

/// True when the process ended by the SIGTERM the parent sends to stop it.
pub fn was_terminated(status: ExitStatus) -> bool {
    status.signal() == Some(Signal::SIGTERM as i32)
}

/// Says how a process ended, e.g. "exited with status 1" or "was killed by SIGKILL".
pub fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        format!("exited with status {code}")
    } else if let Some(signal) = status.signal() {
        match Signal::try_from(signal) {
            Ok(signal) => format!("was killed by {signal}"),
            Err(_) => format!("was killed by signal {signal}"),
        }
    } else {
        format!("ended ({status})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_read_well() {
        assert_eq!(
            describe(ExitStatus::from_raw(1 << 8)),
            "exited with status 1"
        );
        assert_eq!(describe(ExitStatus::from_raw(9)), "was killed by SIGKILL");
    }
}
