//! slaacd-frontend: the process between the network and the engine.
//!
//! Started by `slaacd` with its channel on fd 3, it confines itself at once
//! (see `confine`) and receives every socket it uses from the parent.

mod confine;

use std::process::ExitCode;

use clap::Parser;
use slaacd_child::{Child, ChildArgs};

/// slaacd's frontend process. It is started by slaacd, not by hand.
#[derive(Parser)]
#[command(name = "slaacd-frontend", version)]
struct Args {
    #[command(flatten)]
    child: ChildArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    slaacd_child::run(
        &args.child,
        Child {
            name: "slaacd-frontend",
            confine: confine::confine,
            prepare_self_test: || Ok(()),
            serve: slaacd_frontend::service::serve,
        },
    )
}
