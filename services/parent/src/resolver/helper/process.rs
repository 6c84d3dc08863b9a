//! The resolvconf helper process: slaacd's executable started by the parent
//! with the hidden `--resolvconf-helper=PROGRAM` option and its channel on
//! fd 3. It confines itself at once (root, but no capability at all; only the
//! promises a shell script needs, with exec; Landlock limited to the program,
//! the directories of the tools it runs, /etc to read, /etc/resolv.conf and
//! resolvconf's state in /run/resolvconf), says it is ready, and then runs
//! the program once per request until the parent closes the channel.
//!
//! It must never open a socket (no network, no netlink: its promises have
//! no socket family), never run anything but its program, and never read a
//! frame beyond the protocol's bounds.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use slaacd_sandbox::{ParentProfile, Unveil, Violation};

use super::protocol::{
    HEADER_LEN, Kind, decode_request, encode_answer, encode_ready, parse_header,
};
use crate::resolver::resolvconf;

/// Its name in the log.
pub const NAME: &str = "slaacd-resolvconf";

/// Where resolvconf implementations keep their records (Debian's resolvconf and openresolv).
pub const RESOLVCONF_STATE: &str = "/run/resolvconf";

/// What a shell script and the tools it runs need: reading, writing, creating and replacing
/// files and setting their mode, locks, processes and executing programs. No socket family.
const PROMISES: &str = "stdio rpath wpath cpath fattr flock proc exec";

/// Where the script's interpreter, tools and libraries are.
const PROGRAM_DIRECTORIES: [&str; 5] = ["/usr", "/bin", "/sbin", "/lib", "/lib64"];

/// The hidden option that selects the helper mode.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct HelperMode {
    /// Internal: run as the resolvconf helper of a slaacd parent, for this program, with the
    /// parent's channel on fd 3.
    #[arg(long, hide = true, value_name = "PROGRAM")]
    pub resolvconf_helper: Option<PathBuf>,
}

/// Runs the helper for `program` to the end: success when the parent closed the channel.
pub fn run(program: &Path, foreground: bool, verbose: u8, violation: Violation) -> ExitCode {
    // Before the log opens syslog: everything above the channel was inherited, not owned.
    let closed = slaacd_sandbox::close_descriptors_from(slaacd_ipc::child::CHANNEL_FD + 1);
    let _log = slaacd_log::init(NAME, foreground, verbose);
    match closed
        .map_err(anyhow::Error::from)
        .and_then(|()| serve(program, violation))
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(program: &Path, violation: Violation) -> anyhow::Result<()> {
    let channel = slaacd_ipc::child::take_channel_fd().context("taking the parent's channel")?;
    slaacd_ipc::child::ignore_terminal_signals().context("setting up signals")?;
    let mut channel = UnixStream::from(channel);
    make_state_directory()?;
    slaacd_sandbox::confine_parent(profile(program)?, violation)
        .context("confining the resolvconf helper")?;
    channel
        .write_all(&encode_ready())
        .context("telling the parent the helper is ready")?;
    loop {
        let mut header = [0u8; HEADER_LEN];
        match channel.read_exact(&mut header) {
            Ok(()) => {}
            // The parent closed the channel: it is stopping.
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(error) => return Err(error).context("reading a request"),
        }
        let mut body = vec![0u8; parse_header(header, Kind::Request)?];
        channel.read_exact(&mut body).context("reading a request")?;
        let request = decode_request(&body)?;
        let answer = resolvconf::run(program, &request);
        tracing::debug!(?request.action, interface = %request.interface, ?answer, "ran resolvconf");
        channel
            .write_all(&encode_answer(&answer))
            .context("answering the parent")?;
    }
}

/// Makes [`RESOLVCONF_STATE`] (mode 0755) if it is missing: Landlock can only grant what exists.
fn make_state_directory() -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(RESOLVCONF_STATE)
        .with_context(|| format!("creating {RESOLVCONF_STATE}"))
}

/// The helper's confinement: no capability, [`PROMISES`], and the paths resolvconf uses.
pub fn profile(program: &Path) -> anyhow::Result<ParentProfile> {
    let mut unveil = Unveil::new();
    // A program that is missing is reported by each request ("No such file or directory").
    if program.exists() {
        unveil.allow(program, "rx")?;
    }
    for directory in PROGRAM_DIRECTORIES.map(Path::new) {
        if directory.exists() {
            unveil.allow(directory, "rx")?;
        }
    }
    unveil.allow("/etc", "r")?;
    unveil.allow("/dev/null", "rw")?;
    // openresolv rewrites it in place; Debian's resolvconf points it at its own file.
    let resolv_conf = Path::new("/etc/resolv.conf");
    if resolv_conf.exists() {
        unveil.allow(resolv_conf, "rw")?;
    }
    unveil.allow(RESOLVCONF_STATE, "rwc")?;
    Ok(ParentProfile {
        promises: PROMISES.to_owned(),
        unveil,
        capabilities: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use slaacd_sandbox::Promise;

    use super::*;

    #[test]
    fn the_helper_keeps_no_capability_and_no_socket_family() {
        let profile = profile(Path::new("/nonexistent/resolvconf")).unwrap();
        assert!(profile.capabilities.is_empty());
        let promises: slaacd_sandbox::Promises = profile.promises.parse().unwrap();
        for socket in [Promise::Inet, Promise::Unix, Promise::Route] {
            assert!(!promises.contains(socket), "{socket:?}");
        }
        assert!(promises.contains(Promise::Exec));
        let described = profile.unveil.describe();
        assert!(!described.contains("/nonexistent"), "{described}");
        assert!(described.ends_with("/run/resolvconf:rwc"), "{described}");
        assert!(described.contains("/usr:rx"), "{described}");
    }
}
