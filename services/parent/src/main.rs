//! slaacd: the privileged parent of the IPv6 SLAAC daemon.
//!
//! It takes the lock, reads the secret key, daemonizes, starts the frontend
//! and the engine, hands them the sockets and channels they may not open
//! themselves, and then only applies what the engine proposes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use slaacd_parent::sysctl::TemporaryAddresses;
use slaacd_parent::{control_socket, daemon, key, lock, resolver, supervisor};

/// Beside the lock files, in the directory the lock creates before the socket is bound.
const DEFAULT_SOCKET: &str = "/run/slaacd/slaacd.sock";

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
    #[arg(short = 's', value_name = "socket", default_value = DEFAULT_SOCKET)]
    socket: PathBuf,
    /// The control socket's group (name or number); root's by default.
    ///
    /// Its members may connect and `show`; `send` and `log` need a process
    /// running as root or as this group (e.g. under sg(1)).
    #[arg(short = 'g', value_name = "group", default_value = control_socket::DEFAULT_GROUP)]
    group: String,
    /// The file holding the secret key for stable addresses (RFC 7217);
    /// created with a random key if it does not exist.
    #[arg(short = 'K', value_name = "file", default_value = key::DEFAULT_KEY_PATH)]
    key_file: PathBuf,
    /// Where DNS servers and search domains go: auto (resolvconf when
    /// installed, else the file), resolvconf[=PATH], or file[=PATH]
    /// (default file: /run/slaacd/resolv.conf).
    #[arg(short = 'r', value_name = "resolver", default_value = "auto")]
    resolver: resolver::Backend,
    /// No temporary addresses (RFC 8981): by default the kernel makes them
    /// from the stable addresses and prefers them for outgoing connections.
    #[arg(short = 'T')]
    no_temporary_addresses: bool,
    /// The unprivileged user the frontend and the engine run as.
    #[arg(short = 'u', value_name = "user", default_value = "_slaacd")]
    user: String,
    /// The interfaces to configure.
    #[arg(value_name = "interface", required_unless_present = "completions")]
    interfaces: Vec<String>,
    /// Print the completion script for a shell and exit.
    #[arg(long, value_name = "shell", hide = true)]
    completions: Option<clap_complete::Shell>,
}

fn main() -> ExitCode {
    // Before anything else: no inherited descriptor may reach the children.
    let args = Args::parse();
    if let Some(shell) = args.completions {
        clap_complete::generate(
            shell,
            &mut Args::command(),
            "slaacd",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
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
    let control_group = control_socket::group_id(&args.group)?;
    let secret_key = key::load_or_create(&args.key_file)?;
    // Before any thread or runtime exists.
    let readiness = if args.foreground {
        None
    } else {
        let readiness = daemon::daemonize()?;
        // The lock file still names the process that exited to let the daemon detach.
        lock.record_pid()?;
        Some(readiness)
    };
    let log = slaacd_log::init("slaacd", args.foreground, args.verbose);
    let config = supervisor::Config {
        socket: args.socket,
        resolver: args.resolver,
        temporary_addresses: if args.no_temporary_addresses {
            TemporaryAddresses::Off
        } else {
            TemporaryAddresses::Kernel
        },
        interfaces: args.interfaces,
        user: args.user,
        foreground: args.foreground,
        verbose: args.verbose,
        secret_key: secret_key.as_bytes().to_vec(),
        control_group,
        log: log.clone(),
    };
    let code = supervisor::run(config, readiness)?;
    drop(log);
    drop(lock);
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_socket_lives_in_the_directory_the_lock_creates() {
        let args = Args::try_parse_from(["slaacd", "eth0"]).unwrap();
        assert_eq!(args.socket, PathBuf::from("/run/slaacd/slaacd.sock"));
        assert_eq!(
            args.socket.parent(),
            Some(std::path::Path::new(lock::DEFAULT_LOCK_DIR))
        );
    }
}
