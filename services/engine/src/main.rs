//! slaacd-engine: the process that owns every SLAAC decision.
//!
//! Started by `slaacd` with its channel on fd 3, it confines itself (see
//! `confine`) before it reads a byte, holds no sockets but its two channels,
//! and touches no file.

mod confine;
mod monitor;
mod proposal_schema;
mod report;
mod service;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use slaacd_child::{Child, ChildArgs};

/// slaacd's engine process. It is started by slaacd, not by hand.
#[derive(Parser)]
#[command(name = "slaacd-engine", version)]
struct Args {
    #[command(flatten)]
    child: ChildArgs,
    /// Testing: with --confinement-self-test, narrow to "stdio" as once the frontend's
    /// channel is held, before the attempts.
    #[arg(long, hide = true, requires = "confinement_self_test")]
    self_test_after_narrowing: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let narrow = args.self_test_after_narrowing;
    slaacd_child::run(
        &args.child,
        Child {
            name: "slaacd-engine",
            confine: confine::confine,
            prepare_self_test: move || {
                if narrow {
                    confine::narrow_to_stdio().context("narrowing the engine")?;
                }
                Ok(())
            },
            serve: service::serve,
        },
    )
}
