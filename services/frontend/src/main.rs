//! slaacd-frontend: the process between the network and the engine.
//!
//! Started by `slaacd` with its channel on fd 3, it drops to the unprivileged
//! user at once and receives every socket it uses from the parent.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

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
}

fn main() -> ExitCode {
    let args = Args::parse();
    slaacd_log::init("slaacd-frontend", args.foreground, args.verbose);
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let channel = slaacd_ipc::child::take_channel_fd().context("taking the parent's channel")?;
    slaacd_ipc::child::ignore_terminal_signals().context("setting up signals")?;
    slaacd_sandbox::drop_privileges(&args.user)?;
    slaacd_sandbox::set_no_new_privs()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building the runtime")?;
    tokio::task::LocalSet::new().block_on(&runtime, slaacd_frontend::service::serve(channel))
}
