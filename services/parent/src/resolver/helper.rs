//! The parent's side of the resolvconf helper: a process started, before the
//! parent confines itself, from slaacd's own executable in its hidden helper
//! mode (`process`), which alone may execute resolvconf(8). The parent asks it
//! over a socket pair (`protocol`), one request at a time, and watches it:
//! a helper that ends is reported like a child, and the daemon stops.
//!
//! With the helper the confined parent keeps no right to execute anything.
//! This module must never run resolvconf itself, and never leave the socket
//! out of step with the helper: an exchange runs to its end even when its
//! caller gives up, and one that fails puts the helper out of service (it is
//! killed, so that the daemon notices).

pub mod process;
pub mod protocol;

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use slaacd_sandbox::Violation;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use self::protocol::{
    Answer, HEADER_LEN, Kind, ProtocolError, Request, decode_answer, encode_request, parse_header,
};
use super::resolvconf::TIMEOUT;

/// How long the helper may take to start and confine itself.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long past resolvconf's own [`TIMEOUT`] the helper may take to answer.
const ANSWER_GRACE: Duration = Duration::from_secs(5);

/// How long the helper may take to exit once its channel is closed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// How the helper is started: slaacd's executable, and the options it shares with the parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperCommand {
    /// slaacd itself; the helper mode is a hidden option of it.
    pub executable: PathBuf,
    /// Log to stderr (`-d`) instead of syslog.
    pub foreground: bool,
    pub verbose: u8,
    /// What a system call outside the helper's allowlist does.
    pub violation: Violation,
}

impl HelperCommand {
    /// The running executable, logging to syslog, killed by a violation: what a resolver made
    /// without saying how gets.
    pub fn this_executable() -> io::Result<Self> {
        Ok(Self {
            executable: std::env::current_exe()?,
            foreground: false,
            verbose: 0,
            violation: Violation::Kill,
        })
    }

    fn args(&self, program: &Path) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if self.foreground {
            args.push("-d".into());
        }
        for _ in 0..self.verbose {
            args.push("-v".into());
        }
        let violation = match self.violation {
            Violation::Deny => "deny",
            Violation::Kill => "kill",
            Violation::Log => "log",
        };
        args.push(format!("--sandbox-violation={violation}").into());
        let mut helper = OsString::from("--resolvconf-helper=");
        helper.push(program);
        args.push(helper);
        args
    }
}

/// Why the helper could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    #[error("starting the resolvconf helper {}: {source}", executable.display())]
    Start {
        executable: PathBuf,
        source: io::Error,
    },
    #[error("talking to the resolvconf helper: {0}")]
    Io(#[from] io::Error),
    #[error("the resolvconf helper: {0}")]
    Protocol(#[from] ProtocolError),
    #[error("the resolvconf helper closed its channel (it exited)")]
    Closed,
    #[error("the resolvconf helper gave no answer within {0:?}")]
    NoAnswer(Duration),
    #[error("the resolvconf helper is out of service: {0}")]
    OutOfService(String),
    #[error("the resolvconf helper is busy")]
    Busy,
}

/// How the helper ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelperExit {
    pub pid: u32,
    pub status: ExitStatus,
}

impl std::fmt::Display for HelperExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the resolvconf helper (pid {}) {}",
            self.pid,
            crate::children::describe(self.status)
        )
    }
}

/// The helper process: signalled and reaped only through this, so that a signal never reaches
/// a process that reused its pid.
struct Process {
    pid: u32,
    /// Readable once it has exited.
    pidfd: OwnedFd,
    /// The child until it is reaped, then how it ended.
    child: Mutex<Result<Child, HelperExit>>,
}

/// The socket to the helper, and whether it is still in step with it.
struct Connection {
    socket: UnixStream,
    process: Process,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    ready: bool,
    /// An exchange started and has not finished (its task was cancelled): what the socket
    /// holds next is not the answer to a new request.
    in_flight: bool,
    /// Why it may no longer be used.
    broken: Option<String>,
}

/// A started helper for one resolvconf program, or why none could be started.
pub struct Helper {
    program: PathBuf,
    running: Result<Arc<Connection>, String>,
}

impl Helper {
    /// Starts the helper for `program` as `command` says; it confines itself and then says it is
    /// ready, which [`Helper::ready`] waits for.
    pub fn spawn(program: &Path, command: &HelperCommand) -> Result<Self, HelperError> {
        let start_failed = |source| HelperError::Start {
            executable: command.executable.clone(),
            source,
        };
        let (ours, theirs) = slaacd_ipc::child::socketpair().map_err(start_failed)?;
        let socket = UnixStream::from(ours);
        socket.set_nonblocking(true).map_err(start_failed)?;
        let child =
            slaacd_ipc::child::spawn_child(&command.executable, &command.args(program), theirs)
                .map_err(start_failed)?;
        let pid = child.id();
        let pidfd = match pidfd_open(pid) {
            Ok(pidfd) => pidfd,
            Err(error) => {
                let mut child = child;
                let _ = child.kill();
                let _ = child.wait();
                return Err(start_failed(error));
            }
        };
        tracing::debug!(pid, program = %program.display(), "started the resolvconf helper");
        let connection = Connection {
            socket,
            process: Process {
                pid,
                pidfd,
                child: Mutex::new(Ok(child)),
            },
            state: tokio::sync::Mutex::new(State::default()),
        };
        Ok(Self {
            program: program.to_owned(),
            running: Ok(Arc::new(connection)),
        })
    }

    /// A helper that could not be started: every request fails, naming `reason`.
    pub fn unavailable(program: &Path, reason: String) -> Self {
        Self {
            program: program.to_owned(),
            running: Err(reason),
        }
    }

    /// The resolvconf program it runs.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The helper process's pid; none for a helper that could not be started.
    pub fn pid(&self) -> Option<u32> {
        self.running
            .as_ref()
            .ok()
            .map(|connection| connection.process.pid)
    }

    fn connection(&self) -> Result<&Arc<Connection>, HelperError> {
        match &self.running {
            Ok(connection) => Ok(connection),
            Err(reason) => Err(HelperError::OutOfService(reason.clone())),
        }
    }

    /// Waits until the helper says it is confined and ready.
    pub async fn ready(&self) -> Result<(), HelperError> {
        let connection = self.connection()?;
        let mut state = connection.state.lock().await;
        connection.greeted(&mut state).await
    }

    /// Asks the helper to run resolvconf as `request` says. The exchange runs as a task of its
    /// own, so a caller that gives up cannot leave the socket half-way through a message.
    pub async fn ask(&self, request: Request) -> Result<Answer, HelperError> {
        let connection = self.connection()?.clone();
        let exchange = tokio::spawn(async move { connection.exchange(&request).await });
        exchange.await.map_err(|error| {
            HelperError::OutOfService(format!("the exchange did not finish: {error}"))
        })?
    }

    /// [`Helper::ask`] without a runtime, for a resolver dropped before it withdrew.
    pub fn ask_blocking(&self, request: &Request) -> Result<Answer, HelperError> {
        let connection = self.connection()?;
        // A request that cannot be sent leaves the socket in step.
        let frame = encode_request(request)?;
        let mut state = connection.state.try_lock().map_err(|_| HelperError::Busy)?;
        if let Some(reason) = &state.broken {
            return Err(HelperError::OutOfService(reason.clone()));
        }
        connection.begin(&mut state)?;
        let deadline = Instant::now() + TIMEOUT + ANSWER_GRACE;
        let socket = &connection.socket;
        let greet = !state.ready;
        let exchange = || {
            if greet {
                let mut header = [0u8; HEADER_LEN];
                read_exact_blocking(socket, &mut header, deadline)?;
                parse_header(header, Kind::Ready)?;
            }
            write_all_blocking(socket, &frame, deadline)?;
            let mut header = [0u8; HEADER_LEN];
            read_exact_blocking(socket, &mut header, deadline)?;
            let mut body = vec![0u8; parse_header(header, Kind::Answer)?];
            read_exact_blocking(socket, &mut body, deadline)?;
            Ok(decode_answer(&body)?)
        };
        match exchange() {
            Ok(answer) => {
                state.ready = true;
                state.in_flight = false;
                Ok(answer)
            }
            Err(error) => Err(connection.put_out_of_service(&mut state, error)),
        }
    }

    /// Waits until the helper process ends and says how; never, for a helper that was not
    /// started.
    pub async fn exited(&self) -> HelperExit {
        let Ok(connection) = &self.running else {
            return std::future::pending().await;
        };
        let process = &connection.process;
        match register(process.pidfd.as_fd(), Interest::READABLE) {
            Ok(pidfd) => {
                // Only an error of the reactor ends this early: then ask the process itself.
                let _ = pidfd.readable().await.map(|mut guard| guard.retain_ready());
            }
            Err(error) => tracing::warn!("watching the resolvconf helper: {error}"),
        }
        loop {
            if let Some(exit) = process.reap() {
                return exit;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Process {
    fn child(&self) -> std::sync::MutexGuard<'_, Result<Child, HelperExit>> {
        self.child
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// How it ended, once it has.
    fn reap(&self) -> Option<HelperExit> {
        let mut child = self.child();
        let status = match &mut *child {
            Ok(running) => running.try_wait().ok()??,
            Err(exit) => return Some(*exit),
        };
        let exit = HelperExit {
            pid: self.pid,
            status,
        };
        *child = Err(exit);
        Some(exit)
    }

    /// SIGKILL, unless it was reaped already.
    fn kill(&self) {
        if let Ok(running) = &mut *self.child() {
            let _ = running.kill();
        }
    }

    /// Waits up to [`EXIT_GRACE`] for it to exit, then kills it.
    fn stop(&self) {
        let deadline = Instant::now() + EXIT_GRACE;
        while Instant::now() < deadline {
            if let Some(exit) = self.reap() {
                if !exit.status.success() {
                    tracing::warn!("{exit}");
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        tracing::warn!("the resolvconf helper did not exit; killing it");
        if let Ok(running) = &mut *self.child() {
            let _ = running.kill();
            let _ = running.wait();
        }
    }
}

impl Drop for Helper {
    /// Closing the channel tells the helper to exit; one that does not is killed.
    fn drop(&mut self) {
        if let Ok(connection) = &self.running {
            let _ = connection.socket.shutdown(std::net::Shutdown::Both);
            connection.process.stop();
        }
    }
}

impl Connection {
    /// Reads the helper's greeting if it has not been read yet.
    async fn greeted(&self, state: &mut State) -> Result<(), HelperError> {
        if let Some(reason) = &state.broken {
            return Err(HelperError::OutOfService(reason.clone()));
        }
        if state.ready {
            return Ok(());
        }
        let greeting = async {
            let socket = self.register()?;
            let mut header = [0u8; HEADER_LEN];
            read_exact(&socket, &self.socket, &mut header).await?;
            parse_header(header, Kind::Ready)?;
            Ok(())
        };
        match tokio::time::timeout(START_TIMEOUT, greeting).await {
            Ok(Ok(())) => {
                state.ready = true;
                Ok(())
            }
            Ok(Err(error)) => Err(self.put_out_of_service(state, error)),
            Err(_) => Err(self.put_out_of_service(state, HelperError::NoAnswer(START_TIMEOUT))),
        }
    }

    /// One request and its answer.
    async fn exchange(&self, request: &Request) -> Result<Answer, HelperError> {
        // A request that cannot be sent leaves the socket in step.
        let frame = encode_request(request)?;
        let mut state = self.state.lock().await;
        self.greeted(&mut state).await?;
        self.begin(&mut state)?;
        let exchange = async {
            let socket = self.register()?;
            write_all(&socket, &self.socket, &frame).await?;
            let mut header = [0u8; HEADER_LEN];
            read_exact(&socket, &self.socket, &mut header).await?;
            let mut body = vec![0u8; parse_header(header, Kind::Answer)?];
            read_exact(&socket, &self.socket, &mut body).await?;
            Ok(decode_answer(&body)?)
        };
        let patience = TIMEOUT + ANSWER_GRACE;
        match tokio::time::timeout(patience, exchange).await {
            Ok(Ok(answer)) => {
                state.in_flight = false;
                Ok(answer)
            }
            Ok(Err(error)) => Err(self.put_out_of_service(&mut state, error)),
            Err(_) => Err(self.put_out_of_service(&mut state, HelperError::NoAnswer(patience))),
        }
    }

    /// Marks an exchange as started; fails, putting the helper out of service, if the previous
    /// one never finished.
    fn begin(&self, state: &mut State) -> Result<(), HelperError> {
        if state.in_flight {
            let error = HelperError::OutOfService("an earlier exchange was cut short".into());
            return Err(self.put_out_of_service(state, error));
        }
        state.in_flight = true;
        Ok(())
    }

    /// The socket, registered with the runtime for the length of one exchange.
    fn register(&self) -> io::Result<AsyncFd<Borrowed<'_>>> {
        register(self.socket.as_fd(), Interest::READABLE | Interest::WRITABLE)
    }

    /// After `error` the socket may be out of step with the helper: no one may use it again,
    /// and the helper is killed, which tells the daemon. Returns `error`.
    fn put_out_of_service(&self, state: &mut State, error: HelperError) -> HelperError {
        state.broken = Some(error.to_string());
        self.process.kill();
        error
    }
}

/// A descriptor owned elsewhere, registered with the runtime for the length of a call.
struct Borrowed<'fd>(BorrowedFd<'fd>);

impl AsRawFd for Borrowed<'_> {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

fn register(fd: BorrowedFd<'_>, interest: Interest) -> io::Result<AsyncFd<Borrowed<'_>>> {
    // SAFETY: the borrow keeps the descriptor open, and the same, for as long as the AsyncFd
    // (which cannot outlive it) holds it.
    unsafe { AsyncFd::register_with_interest(Borrowed(fd), interest) }.map_err(io::Error::from)
}

async fn write_all(
    registered: &AsyncFd<Borrowed<'_>>,
    mut socket: &UnixStream,
    mut bytes: &[u8],
) -> Result<(), HelperError> {
    while !bytes.is_empty() {
        let mut guard = registered.writable().await?;
        match guard.try_io(|_| socket.write(bytes)) {
            Ok(Ok(0)) => return Err(HelperError::Closed),
            Ok(Ok(written)) => bytes = &bytes[written..],
            Ok(Err(error)) if error.kind() == io::ErrorKind::BrokenPipe => {
                return Err(HelperError::Closed);
            }
            Ok(Err(error)) => return Err(error.into()),
            Err(_would_block) => {}
        }
    }
    Ok(())
}

async fn read_exact(
    registered: &AsyncFd<Borrowed<'_>>,
    mut socket: &UnixStream,
    buffer: &mut [u8],
) -> Result<(), HelperError> {
    let mut filled = 0;
    while filled < buffer.len() {
        let mut guard = registered.readable().await?;
        match guard.try_io(|_| socket.read(&mut buffer[filled..])) {
            Ok(Ok(0)) => return Err(HelperError::Closed),
            Ok(Ok(read)) => filled += read,
            Ok(Err(error)) if error.kind() == io::ErrorKind::ConnectionReset => {
                return Err(HelperError::Closed);
            }
            Ok(Err(error)) => return Err(error.into()),
            Err(_would_block) => {}
        }
    }
    Ok(())
}

/// Waits until `socket` is ready for `events` or `deadline` passes.
fn wait_blocking(
    socket: &UnixStream,
    events: PollFlags,
    deadline: Instant,
) -> Result<(), HelperError> {
    let left = deadline.saturating_duration_since(Instant::now());
    let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(socket.as_fd(), events)];
    match poll(&mut fds, timeout) {
        Ok(0) => Err(HelperError::NoAnswer(TIMEOUT + ANSWER_GRACE)),
        Ok(_) => Ok(()),
        Err(errno) => Err(io::Error::from(errno).into()),
    }
}

fn write_all_blocking(
    mut socket: &UnixStream,
    mut bytes: &[u8],
    deadline: Instant,
) -> Result<(), HelperError> {
    while !bytes.is_empty() {
        wait_blocking(socket, PollFlags::POLLOUT, deadline)?;
        match socket.write(bytes) {
            Ok(0) => return Err(HelperError::Closed),
            Ok(written) => bytes = &bytes[written..],
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
                return Err(HelperError::Closed);
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

fn read_exact_blocking(
    mut socket: &UnixStream,
    buffer: &mut [u8],
    deadline: Instant,
) -> Result<(), HelperError> {
    let mut filled = 0;
    while filled < buffer.len() {
        wait_blocking(socket, PollFlags::POLLIN, deadline)?;
        match socket.read(&mut buffer[filled..]) {
            Ok(0) => return Err(HelperError::Closed),
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// pidfd_open(2): a descriptor that becomes readable when process `pid` exits.
fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    // SAFETY: pidfd_open takes a pid and flags and touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = RawFd::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the kernel just returned this new descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
