//! slaacd-frontend: the process between the network and the engine.
//!
//! Started by `slaacd` with its channel on fd 3, it confines itself at once
//! (see `confine`) and receives every socket it uses from the parent.

mod confine;

use std::os::fd::AsFd;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use slaacd_sandbox::Violation;
use slaacd_sandbox::escape::{attempt_escapes, parse_escapes};

/// slaacd's frontend process. It is started by slaacd, not by hand.
#[derive(Parser)]
#[command(name = "slaacd-frontend", version)]
struct Args {
    /// Log to stderr instead of syslog.
    #[arg(short = 'd')]
    foreground: bool,
    /// More detail in the log; repeat for more.
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    verbose: u8,
    /// The unprivileged user to run as.
    #[arg(long, default_value = "_slaacd")]
    user: String,
    /// Debugging: what a system call outside the allowlist does: kill the process (the
    /// default), deny it with EPERM, or log it to the kernel's audit log and let it through.
    #[arg(long, hide = true, default_value = "kill")]
    sandbox_violation: Violation,
    /// Testing: confine exactly as in production, then attempt these escapes ("all" or a
    /// comma-separated list), report each on stdout and exit.
    #[arg(long, hide = true, value_name = "ESCAPES")]
    confinement_self_test: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Before the log opens syslog: everything above the channel was inherited, not owned.
    let closed = slaacd_sandbox::close_descriptors_from(slaacd_ipc::child::CHANNEL_FD + 1);
    let log = slaacd_log::init("slaacd-frontend", args.foreground, args.verbose);
    match closed
        .map_err(anyhow::Error::from)
        .and_then(|()| run(&args, log))
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args, log: slaacd_log::LogHandle) -> anyhow::Result<()> {
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
    confine::confine(&args.user, args.sandbox_violation).context("confining the frontend")?;
    if let Some(escapes) = self_test {
        return attempt_escapes(&escapes, channel.as_fd()).context("reporting the self-test");
    }
    tokio::task::LocalSet::new().block_on(&runtime, slaacd_frontend::service::serve(channel, log))
}
