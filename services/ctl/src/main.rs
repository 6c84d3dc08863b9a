//! slaacctl: the control tool of slaacd. It shows what the daemon knows about
//! interfaces, asks it to send Router Solicitations, switches its logging and
//! prints its events as they happen, over the daemon's control socket.
//!
//! `slaacctl [-s socket] [--json] command [argument ...]`; exit status 0 on
//! success, 1 on any error, with the message on standard error. It must never
//! change anything itself: every action is a request to the daemon.

mod client;
mod completion;
mod convert;
mod error;
mod event;
mod parser;
mod print;
mod report;
mod walltime;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::error::CtlError;
use crate::parser::Command;
use crate::walltime::WallClock;

const DEFAULT_SOCKET: &str = "/run/slaacd/slaacd.sock";
const USAGE: &str = "slaacctl [-s socket] [--json] command [argument ...]";
/// The verbosities of `log verbose` (debug) and `log brief` (info).
const VERBOSE: u8 = 1;
const BRIEF: u8 = 0;

/// Control the slaacd IPv6 SLAAC daemon.
///
/// Commands: show interface [IF], send solicitation IF, log verbose, log brief,
/// monitor [IF].
/// Keywords may be abbreviated to any unique prefix (sh int eth0).
#[derive(Debug, Parser)]
#[command(name = "slaacctl", override_usage = USAGE)]
struct Options {
    /// The daemon's control socket.
    #[arg(short = 's', value_name = "socket", default_value = DEFAULT_SOCKET)]
    socket: PathBuf,
    /// Print `show interface` as JSON, and `monitor` as one JSON object per
    /// line.
    #[arg(long)]
    json: bool,
    /// Print the completion script for a shell and exit.
    #[arg(long, value_name = "shell", hide = true)]
    completions: Option<clap_complete::Shell>,
    /// The command and its arguments. Options may follow it; words after
    /// `--` are never options.
    #[arg(value_name = "command")]
    words: Vec<String>,
}

fn main() -> ExitCode {
    let options = match Options::try_parse() {
        Ok(options) => options,
        Err(error) if error.use_stderr() => {
            let message = error.render().to_string();
            let first = message.lines().next().unwrap_or_default();
            eprintln!("slaacctl: {}", first.trim_start_matches("error: "));
            eprintln!("usage: {USAGE}");
            return ExitCode::FAILURE;
        }
        // --help: clap prints it on standard output.
        Err(help) => {
            let _ = help.print();
            return ExitCode::SUCCESS;
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("slaacctl: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), CtlError> {
    if let Some(shell) = options.completions {
        let script = completion::script(shell, Options::command());
        return std::io::stdout()
            .lock()
            .write_all(&script)
            .map_err(CtlError::Output);
    }
    match parser::parse(&options.words)? {
        Command::ShowInterface(name) => {
            let reply = match name {
                Some(name) => client::show_interface(
                    &options.socket,
                    interface_index(&options.socket, &name)?,
                )?,
                None => client::show_all(&options.socket)?,
            };
            let text = if options.json {
                print::json::render(&reply)?
            } else {
                print::text::render(&reply, &WallClock::local_now())
            };
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .map_err(CtlError::Output)
        }
        Command::SendSolicitation(name) => {
            let if_index = interface_index(&options.socket, &name)?;
            if client::send_solicitation(&options.socket, if_index)? {
                Ok(())
            } else {
                Err(CtlError::NotManaged(name))
            }
        }
        Command::LogVerbose => set_verbosity(&options.socket, VERBOSE),
        Command::LogBrief => set_verbosity(&options.socket, BRIEF),
        Command::Monitor(name) => {
            let if_index = match name {
                Some(name) => interface_index(&options.socket, &name)?,
                None => 0,
            };
            monitor(&options.socket, if_index, options.json)
        }
    }
}

/// `monitor [IF]`: prints every batch of events as it comes, until
/// interrupted. A reader that goes away (`slaacctl monitor | head`) ends it
/// quietly.
fn monitor(socket: &Path, if_index: u32, json: bool) -> Result<(), CtlError> {
    let clock = WallClock::local_now();
    let result = client::monitor(socket, if_index, move |batch| {
        let text = if json {
            print::event_json::render(&batch)?
        } else {
            print::event_text::render(&batch, &clock)
        };
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(CtlError::Output)
    });
    match result {
        Err(CtlError::Output(error)) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}

/// `log verbose|brief`; like OpenBSD's slaacctl, it says so when done.
fn set_verbosity(socket: &Path, verbosity: u8) -> Result<(), CtlError> {
    client::set_verbosity(socket, verbosity)?;
    println!("logging request sent.");
    Ok(())
}

/// The index of the interface `name`. A name no interface has is one the
/// daemon manages but that is not there now (a USB adapter not plugged in, a
/// veth not made yet), or else unknown: the daemon says which.
fn interface_index(socket: &Path, name: &str) -> Result<u32, CtlError> {
    if let Ok(index) = nix::net::if_::if_nametoindex(name) {
        return Ok(index);
    }
    if client::absent_interfaces(socket)?
        .iter()
        .any(|absent| absent == name)
    {
        Err(CtlError::NotPresent(name.to_owned()))
    } else {
        Err(CtlError::UnknownInterface(name.to_owned()))
    }
}
