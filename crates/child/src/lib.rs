//! The start of slaacd's two unprivileged processes, the same for both: close
//! every inherited descriptor above the channel, open the log, take the
//! channel on fd 3, build the single-threaded runtime, confine, then serve —
//! or, for the confinement tests, attempt the escapes instead of serving.
//!
//! Nothing here may run after confinement except the process's own service.

use std::future::Future;
use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;

use anyhow::Context;
use slaacd_log::LogHandle;
use slaacd_sandbox::escape::{attempt_escapes, parse_escapes};
use slaacd_sandbox::{Confinement, SandboxError, Violation};

/// The options the parent passes to both children.
#[derive(clap::Args, Debug)]
pub struct ChildArgs {
    /// Log to stderr instead of syslog.
    #[arg(short = 'd')]
    pub foreground: bool,
    /// More detail in the log; repeat for more.
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The unprivileged user to run as.
    #[arg(long, default_value = "_slaacd")]
    pub user: String,
    /// Debugging: what a system call outside the allowlist does: kill the process (the
    /// default), deny it with EPERM, or log it to the kernel's audit log and let it through.
    #[arg(long, hide = true, default_value = "kill")]
    pub sandbox_violation: Violation,
    /// Testing: confine exactly as in production, then attempt these escapes ("all" or a
    /// comma-separated list), report each on stdout and exit.
    #[arg(long, hide = true, value_name = "ESCAPES")]
    pub confinement_self_test: Option<String>,
}

/// What differs between the two children.
pub struct Child<Confine, Prepare, Serve> {
    /// The process name, for the log.
    pub name: &'static str,
    pub confine: Confine,
    /// Runs after confinement and before a self-test's attempts.
    pub prepare_self_test: Prepare,
    /// The process's service, given its channel to the parent.
    pub serve: Serve,
}

/// Runs a child to the end and says how it ended.
pub fn run<Confine, Prepare, Serve, Served>(
    args: &ChildArgs,
    child: Child<Confine, Prepare, Serve>,
) -> ExitCode
where
    Confine: FnOnce(&str, Violation) -> Result<Confinement, SandboxError>,
    Prepare: FnOnce() -> anyhow::Result<()>,
    Serve: FnOnce(OwnedFd, LogHandle) -> Served,
    Served: Future<Output = anyhow::Result<()>>,
{
    // Before the log opens syslog: everything above the channel was inherited, not owned.
    let closed = slaacd_sandbox::close_descriptors_from(slaacd_ipc::child::CHANNEL_FD + 1);
    let log = slaacd_log::init(child.name, args.foreground, args.verbose);
    match closed
        .map_err(anyhow::Error::from)
        .and_then(|()| start(args, child, log))
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

fn start<Confine, Prepare, Serve, Served>(
    args: &ChildArgs,
    child: Child<Confine, Prepare, Serve>,
    log: LogHandle,
) -> anyhow::Result<()>
where
    Confine: FnOnce(&str, Violation) -> Result<Confinement, SandboxError>,
    Prepare: FnOnce() -> anyhow::Result<()>,
    Serve: FnOnce(OwnedFd, LogHandle) -> Served,
    Served: Future<Output = anyhow::Result<()>>,
{
    let self_test = args
        .confinement_self_test
        .as_deref()
        .map(parse_escapes)
        .transpose()?;
    let channel = slaacd_ipc::child::take_channel_fd().context("taking the parent's channel")?;
    slaacd_ipc::child::ignore_terminal_signals().context("setting up signals")?;
    // The runtime's descriptors are open before confinement counts them: epoll, its waker
    // (eventfd), and the socket pair of tokio's signal driver, which comes with the I/O driver
    // when the "signal" feature is on (it is, for the parent).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .context("building the runtime")?;
    (child.confine)(&args.user, args.sandbox_violation)
        .with_context(|| format!("confining {}", child.name))?;
    if let Some(escapes) = self_test {
        (child.prepare_self_test)()?;
        return attempt_escapes(&escapes, channel.as_fd()).context("reporting the self-test");
    }
    tokio::task::LocalSet::new().block_on(&runtime, (child.serve)(channel, log))
}
