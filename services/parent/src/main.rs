//! slaacd: the privileged parent of the IPv6 SLAAC daemon.
//!
//! It takes the lock, reads the secret key, daemonizes, starts the frontend
//! and the engine, hands them the sockets and channels they may not open
//! themselves, and then only applies what the engine proposes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use slaacd_parent::{daemon, key, lock, supervisor};

/// IPv6 stateless address autoconfiguration (SLAAC) daemon.
#[derive(Parser)]
#[command(name = "slaacd", version, about)]
struct Args {
    /// Stay in the foreground and log to stderr.
    #[arg(short = 'd')]
    foreground: bool,
    /// More detail in the log; repeat for more.
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    verbose: u8,
    /// The control socket slaacctl talks to.
    #[arg(short = 's', value_name = "socket", default_value = "/run/slaacd.sock")]
    socket: PathBuf,
    /// The file holding the secret key for stable addresses (RFC 7217);
    /// created with a random key if it does not exist.
    #[arg(short = 'K', value_name = "file", default_value = key::DEFAULT_KEY_PATH)]
    key_file: PathBuf,
    /// The unprivileged user the frontend and the engine run as.
    #[arg(short = 'u', value_name = "user", default_value = "_slaacd")]
    user: String,
    /// The interfaces to configure.
    #[arg(value_name = "interface", required = true)]
    interfaces: Vec<String>,
}

fn main() -> ExitCode {
    // Before anything else: no inherited descriptor may reach the children.
    let args = Args::parse();
    if let Err(error) = slaacd_ipc::child::close_inherited_fds() {
        eprintln!("slaacd: marking inherited descriptors close-on-exec: {error}");
        return ExitCode::FAILURE;
    }
    match start(args) {
        Ok(code) => code,
        Err(error) => {
            // Until logging is set up, and for whoever started us, stderr.
            eprintln!("slaacd: {error:#}");
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

fn start(args: Args) -> anyhow::Result<ExitCode> {
    if !nix::unistd::geteuid().is_root() {
        anyhow::bail!("need root privileges");
    }
    let lock = lock::acquire(std::path::Path::new(lock::DEFAULT_LOCK_DIR))?;
    slaacd_sandbox::check_user(&args.user)?;
    let secret_key = key::load_or_create(&args.key_file)?;
    // Before any thread or runtime exists.
    let readiness = if args.foreground {
        None
    } else {
        Some(daemon::daemonize()?)
    };
    let log = slaacd_log::init("slaacd", args.foreground, args.verbose);
    let config = supervisor::Config {
        socket: args.socket,
        interfaces: args.interfaces,
        user: args.user,
        foreground: args.foreground,
        verbose: args.verbose,
        secret_key: secret_key.as_bytes().to_vec(),
    };
    let code = supervisor::run(config, readiness)?;
    drop(log);
    drop(lock);
    Ok(code)
}
