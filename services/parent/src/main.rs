//! slaacd: the privileged parent of the IPv6 SLAAC daemon.
//!
//! It reads its configuration (`-n` stops there), takes the lock, reads the
//! secret key, daemonizes, starts the frontend and the engine, hands them the
//! sockets and channels they may not open themselves, and then only applies
//! what the engine proposes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use slaacd_parent::config::{CommandLine, Configuration};
use slaacd_parent::{control_socket, daemon, key, lock, supervisor};

/// IPv6 stateless address autoconfiguration (SLAAC) daemon.
#[derive(Parser)]
#[command(name = "slaacd", version, about)]
struct Args {
    /// Stay in the foreground and log to stderr.
    #[arg(short = 'd')]
    foreground: bool,
    /// Check the configuration (file and command line) and exit: 0 when it
    /// is valid, 1 with the problem on stderr; with -v, print it.
    #[arg(short = 'n')]
    check: bool,
    /// More detail in the log; repeat for more.
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    verbose: u8,
    /// The configuration file (slaacd.conf(5)); /etc/slaacd.conf by default,
    /// which may be missing.
    #[arg(short = 'f', value_name = "file")]
    file: Option<PathBuf>,
    /// Set an option of slaacd.conf(5), for one interface with the
    /// "interface:" prefix (e.g. eth0:identifier=eui64, eth0:metric=512,
    /// max-routers=4); repeat for more. Beats the file.
    #[arg(short = 'o', value_name = "[interface:]option=value")]
    options: Vec<String>,
    /// The control socket slaacctl talks to (default /run/slaacd/slaacd.sock).
    #[arg(short = 's', value_name = "socket")]
    socket: Option<String>,
    /// The control socket's group (name or number); root's by default.
    ///
    /// Its members may connect and `show`; `send` and `log` need a process
    /// running as root or as this group (e.g. under sg(1)).
    #[arg(short = 'g', value_name = "group")]
    group: Option<String>,
    /// The file holding the secret key for stable addresses (RFC 7217);
    /// created with a random key if it does not exist (default
    /// /var/lib/slaacd/soii.key).
    #[arg(short = 'K', value_name = "file")]
    key_file: Option<String>,
    /// Where DNS servers and search domains go: auto (the default), or a
    /// backend as slaacd(8) lists them, e.g. file[=PATH].
    #[arg(short = 'r', value_name = "resolver")]
    resolver: Option<String>,
    /// No temporary addresses (RFC 8981) on any interface: by default the
    /// kernel makes them from the stable addresses and prefers them for
    /// outgoing connections.
    #[arg(short = 'T')]
    no_temporary_addresses: bool,
    /// The unprivileged user the frontend and the engine run as (default
    /// _slaacd).
    #[arg(short = 'u', value_name = "user")]
    user: Option<String>,
    /// The interfaces to configure, besides those of the configuration file.
    #[arg(value_name = "interface")]
    interfaces: Vec<String>,
    /// Print the completion script for a shell and exit.
    #[arg(long, value_name = "shell", hide = true)]
    completions: Option<clap_complete::Shell>,
    #[command(flatten)]
    confinement: slaacd_parent::confine::ConfinementOptions,
    #[command(flatten)]
    helper: slaacd_parent::resolver::helper::process::HelperMode,
}

fn main() -> ExitCode {
    // Before anything else: no inherited descriptor may reach the children.
    let args = Args::parse();
    // The parent started this process to run resolvconf for it: nothing else applies.
    if let Some(program) = &args.helper.resolvconf_helper {
        return slaacd_parent::resolver::helper::process::run(
            program,
            args.foreground,
            args.verbose,
            args.confinement.sandbox_violation,
        );
    }
    if let Some(shell) = args.completions {
        clap_complete::generate(
            shell,
            &mut completion_command(),
            "slaacd",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
    let configuration = match load_configuration(&args) {
        Ok(configuration) => configuration,
        Err(error) => {
            eprintln!("slaacd: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    if args.check {
        if args.verbose > 0 {
            print!("{}", configuration.render());
        }
        return ExitCode::SUCCESS;
    }
    if let Err(error) = slaacd_ipc::child::close_inherited_fds() {
        eprintln!("slaacd: marking inherited descriptors close-on-exec: {error}");
        return ExitCode::FAILURE;
    }
    match start(args, configuration) {
        Ok(code) => code,
        Err(error) => {
            // Until logging is set up, and for whoever started us, stderr.
            eprintln!("slaacd: {error:#}");
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

/// slaacd's command line as its shell completions offer it: what `--help`
/// lists, and `--completions`. clap_complete would offer the hidden options
/// too; the internal ones (`--sandbox-violation`, `--confinement-self-test`,
/// `--resolvconf-helper`: debugging, testing, and the mode slaacd starts its
/// own helper in) are for no one to type.
fn completion_command() -> clap::Command {
    let full = Args::command();
    let offered = full
        .get_arguments()
        .filter(|arg| !arg.is_hide_set() || arg.get_id() == "completions")
        .cloned();
    clap::Command::new("slaacd")
        .version(env!("CARGO_PKG_VERSION"))
        .args(offered)
}

/// The configuration of the file and the command line, with its user and
/// group checked: everything `-n` checks.
fn load_configuration(args: &Args) -> anyhow::Result<Configuration> {
    let configuration = Configuration::load(&CommandLine {
        file: args.file.clone(),
        interfaces: args.interfaces.clone(),
        options: args.options.clone(),
        user: args.user.clone(),
        group: args.group.clone(),
        socket: args.socket.clone(),
        key_file: args.key_file.clone(),
        resolver: args.resolver.clone(),
        no_temporary_addresses: args.no_temporary_addresses,
    })?;
    slaacd_sandbox::check_user(&configuration.user)?;
    control_socket::group_id(&configuration.group)?;
    Ok(configuration)
}

fn start(args: Args, configuration: Configuration) -> anyhow::Result<ExitCode> {
    if !nix::unistd::geteuid().is_root() {
        anyhow::bail!("need root privileges");
    }
    let lock = lock::acquire(std::path::Path::new(lock::DEFAULT_LOCK_DIR))?;
    let control_group = control_socket::group_id(&configuration.group)?;
    let secret_key = key::load_or_create(&configuration.key_file)?;
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
    let interfaces = configuration.interface_names();
    let config = supervisor::Config {
        socket: configuration.socket,
        resolver: configuration.resolver,
        interfaces,
        interface_settings: configuration
            .interfaces
            .into_iter()
            .map(|interface| (interface.name, interface.settings))
            .collect(),
        limits: configuration.limits,
        user: configuration.user,
        foreground: args.foreground,
        verbose: args.verbose,
        secret_key: secret_key.as_bytes().to_vec(),
        control_group,
        log: log.clone(),
        confinement: args.confinement,
    };
    let code = supervisor::run(config, readiness)?;
    drop(log);
    drop(lock);
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The script clap_complete writes for `shell`.
    fn script(shell: clap_complete::Shell) -> String {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut completion_command(), "slaacd", &mut script);
        String::from_utf8(script).expect("a UTF-8 script")
    }

    #[test]
    fn completions_offer_the_documented_options_and_none_of_the_internal_ones() {
        use clap_complete::Shell;
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = script(shell);
            for internal in [
                "sandbox-violation",
                "confinement-self-test",
                "resolvconf-helper",
            ] {
                assert!(!script.contains(internal), "{shell} offers --{internal}");
            }
            for option in ["completions", "help", "version"] {
                assert!(script.contains(option), "{shell} lacks --{option}");
            }
        }
        // Each short option, in the one form every shell's script shares.
        let bash = script(Shell::Bash);
        let offered = bash
            .lines()
            .find_map(|line| line.trim().strip_prefix("opts=\"-"))
            .expect("bash's list of options");
        assert_eq!(
            offered,
            "d -n -v -f -o -s -g -K -r -T -u -h -V --completions --help --version\""
        );
    }

    #[test]
    fn the_internal_options_still_parse() {
        let args = Args::try_parse_from([
            "slaacd",
            "--sandbox-violation=deny",
            "--confinement-self-test=all",
            "--resolvconf-helper=/sbin/resolvconf",
            "eth0",
        ])
        .expect("the internal options");
        assert_eq!(args.interfaces, ["eth0"]);
        assert!(args.helper.resolvconf_helper.is_some());
    }
}
