//! Starting the two unprivileged children and telling how they ended.
//!
//! The children are separate executables. They are looked for, in order, in
//! the libexec directory set at build time (`SLAACD_LIBEXECDIR`, if it was
//! set), in `../libexec/slaacd/` from the directory of `slaacd` (an
//! installation under any prefix), and beside `slaacd` (a cargo build). This
//! module never runs a program from anywhere else.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
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
    let own = std::env::current_exe().context("finding slaacd's own executable")?;
    let own_dir = own.parent().context("finding slaacd's directory")?;
    let places = search_path(option_env!("SLAACD_LIBEXECDIR"), own_dir);
    find_program(role.program(), &places)
}

/// The directories a child is looked for in, in order: the build-time libexec directory if
/// any, then the installed layout relative to `own_dir` (the directory of slaacd), then
/// `own_dir` itself.
fn search_path(build_time: Option<&str>, own_dir: &Path) -> Vec<PathBuf> {
    let mut places = Vec::with_capacity(3);
    if let Some(directory) = build_time.filter(|directory| !directory.is_empty()) {
        places.push(PathBuf::from(directory));
    }
    if let Some(prefix) = own_dir.parent() {
        places.push(prefix.join("libexec").join("slaacd"));
    }
    places.push(own_dir.to_path_buf());
    places
}

/// The first `<place>/<program>` that is a file; the error lists every place looked at.
fn find_program(program: &str, places: &[PathBuf]) -> anyhow::Result<PathBuf> {
    if let Some(found) = places
        .iter()
        .map(|place| place.join(program))
        .find(|candidate| candidate.is_file())
    {
        return Ok(found);
    }
    let looked_at: Vec<String> = places
        .iter()
        .map(|place| place.display().to_string())
        .collect();
    bail!("{program} not found in {}", looked_at.join(", "))
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
    fn search_path_puts_the_build_time_directory_first_then_the_installed_layout() {
        let places = search_path(Some("/opt/slaacd/lib"), Path::new("/usr/local/sbin"));
        assert_eq!(
            places,
            [
                PathBuf::from("/opt/slaacd/lib"),
                PathBuf::from("/usr/local/libexec/slaacd"),
                PathBuf::from("/usr/local/sbin"),
            ]
        );
        let places = search_path(None, Path::new("/work/target/debug"));
        assert_eq!(
            places,
            [
                PathBuf::from("/work/target/libexec/slaacd"),
                PathBuf::from("/work/target/debug"),
            ]
        );
        // An empty variable names no directory (it would mean the current one).
        assert_eq!(search_path(Some(""), Path::new("/")), [PathBuf::from("/")]);
    }

    #[test]
    fn the_first_place_holding_the_program_wins() {
        let root = std::env::temp_dir().join(format!("slaacd-children-{}", std::process::id()));
        let places = [root.join("a"), root.join("b"), root.join("c")];
        for place in &places {
            std::fs::create_dir_all(place).unwrap();
        }
        std::fs::write(places[1].join("slaacd-engine"), b"").unwrap();
        std::fs::write(places[2].join("slaacd-engine"), b"").unwrap();
        // A directory of the program's name is not the program.
        std::fs::create_dir_all(places[0].join("slaacd-engine")).unwrap();
        let found = find_program("slaacd-engine", &places);
        let missing = find_program("slaacd-frontend", &places);
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(found.unwrap(), places[1].join("slaacd-engine"));
        let message = missing.unwrap_err().to_string();
        for place in &places {
            assert!(message.contains(&place.display().to_string()), "{message}");
        }
        assert!(
            message.starts_with("slaacd-frontend not found in "),
            "{message}"
        );
    }

    #[test]
    fn exit_statuses_read_well() {
        assert_eq!(
            describe(ExitStatus::from_raw(1 << 8)),
            "exited with status 1"
        );
        assert_eq!(describe(ExitStatus::from_raw(9)), "was killed by SIGKILL");
    }
}
