//! Whole-process tests of `slaacd_ipc::child`: children started with their
//! channel on fd 3 see exactly fds 0-3, and `take_channel_fd` accepts only
//! the parent's channel.
//!
//! It has its own `main` (harness = false) because two tests need this
//! process's fd 3 and none may run in parallel with another test's fds; the
//! same binary re-executed with `--take-channel` plays the child. It must
//! never leave a child running: every child is waited for.

use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use slaacd_ipc::child::{
    CHANNEL_FD, close_inherited_fds, socketpair, spawn_child, take_channel_fd,
};

const TAKE_CHANNEL_ROLE: &str = "--take-channel";

/// A shell that points its stdin and stdout at fd 3, says "ready" and waits
/// for a line: while it waits it holds no fd but 0-3.
const SHELL_ON_CHANNEL: &str = "exec <&3 >&3; echo ready; read line";

fn main() {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|role| role == TAKE_CHANNEL_ROLE)
    {
        take_channel_role();
        return;
    }
    let tests: [(&str, fn()); 5] = [
        (
            "a_channel_already_on_fd_3_survives_exec",
            a_channel_already_on_fd_3_survives_exec,
        ),
        (
            "a_child_sees_exactly_fds_0_to_3",
            a_child_sees_exactly_fds_0_to_3,
        ),
        (
            "a_child_takes_its_channel_once",
            a_child_takes_its_channel_once,
        ),
        (
            "a_child_rejects_anything_else_on_fd_3",
            a_child_rejects_anything_else_on_fd_3,
        ),
        (
            "inherited_fds_become_close_on_exec",
            inherited_fds_become_close_on_exec,
        ),
    ];
    for (name, test) in tests {
        test();
        println!("test {name} ... ok");
    }
    println!("\ntest result: ok. {} passed", tests.len());
}

/// The child: takes fd 3 twice and reports both outcomes through the channel
/// if it got it, or on stdout if not.
fn take_channel_role() {
    match take_channel_fd() {
        Ok(channel) => {
            let second = match take_channel_fd() {
                Ok(_) => "a second take succeeded".to_owned(),
                Err(error) => error.to_string(),
            };
            let report = format!("cloexec={}\nsecond take: {second}\n", has_cloexec(&channel));
            UnixStream::from(channel)
                .write_all(report.as_bytes())
                .expect("writing the report");
        }
        Err(error) => println!("{error}"),
    }
}

fn has_cloexec(fd: &impl AsFd) -> bool {
    let flags = fcntl(fd.as_fd(), FcntlArg::F_GETFD).expect("F_GETFD");
    FdFlag::from_bits_truncate(flags).contains(FdFlag::FD_CLOEXEC)
}

fn socket_inode(fd: &impl AsFd) -> u64 {
    nix::sys::stat::fstat(fd.as_fd()).expect("fstat").st_ino
}

fn shell() -> &'static Path {
    Path::new("/bin/sh")
}

fn shell_args() -> Vec<OsString> {
    vec!["-c".into(), SHELL_ON_CHANNEL.into()]
}

/// Waits for the shell's "ready", returns the fds it holds, then lets it exit.
fn fds_of_waiting_shell(mut child: Child, ours: OwnedFd) -> Vec<(RawFd, String)> {
    let mut channel = BufReader::new(UnixStream::from(ours));
    let mut line = String::new();
    channel
        .read_line(&mut line)
        .expect("reading the child's greeting");
    assert_eq!(line, "ready\n", "the child did not greet through fd 3");

    let dir = format!("/proc/{}/fd", child.id());
    let mut fds: Vec<(RawFd, String)> = fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("listing {dir}: {error}"))
        .map(|entry| {
            let entry = entry.expect("reading a /proc fd entry");
            let fd = entry
                .file_name()
                .to_string_lossy()
                .parse()
                .expect("fd number");
            let target = fs::read_link(entry.path()).map(|t| t.display().to_string());
            (fd, target.unwrap_or_default())
        })
        .collect();
    fds.sort();

    channel
        .get_mut()
        .write_all(b"bye\n")
        .expect("telling the child to exit");
    let status = child.wait().expect("waiting for the child");
    assert!(status.success(), "the child failed: {status}");
    fds
}

fn assert_only_fds_0_to_3(fds: &[(RawFd, String)], channel_inode: u64) {
    let numbers: Vec<RawFd> = fds.iter().map(|(fd, _)| *fd).collect();
    assert_eq!(numbers, [0, 1, 2, 3], "the child holds other fds: {fds:?}");
    assert_eq!(
        fds[3].1,
        format!("socket:[{channel_inode}]"),
        "fd 3 is not the channel"
    );
}

fn a_channel_already_on_fd_3_survives_exec() {
    // Nothing in this program owns fd 3 yet; if it is open, it was inherited
    // from whoever ran us. Keep it taken so the socketpair lands above it.
    if fcntl_fails(CHANNEL_FD) {
        let placeholder = fs::File::open("/dev/null").expect("opening /dev/null");
        assert_eq!(
            placeholder.as_raw_fd(),
            CHANNEL_FD,
            "the lowest free fd is not 3"
        );
        // dup3 below replaces it; it must not be closed again.
        let _placeholder_fd = std::os::fd::IntoRawFd::into_raw_fd(placeholder);
    }
    let (ours, theirs) = socketpair().expect("socketpair");
    // SAFETY: dup3 on fd numbers; fd 3 holds nothing this program owns.
    let placed = unsafe { libc::dup3(theirs.as_raw_fd(), CHANNEL_FD, libc::O_CLOEXEC) };
    assert_eq!(
        placed,
        CHANNEL_FD,
        "dup3 to fd 3: {}",
        std::io::Error::last_os_error()
    );
    drop(theirs);
    // SAFETY: fd 3 now holds our duplicate; this OwnedFd is its only owner.
    let on_fd_3 = unsafe { OwnedFd::from_raw_fd(CHANNEL_FD) };
    let inode = socket_inode(&on_fd_3);

    let child = spawn_child(shell(), &shell_args(), on_fd_3).expect("spawning the shell");
    assert_only_fds_0_to_3(&fds_of_waiting_shell(child, ours), inode);
}

fn a_child_sees_exactly_fds_0_to_3() {
    // Fds without close-on-exec, as a careless environment passes them.
    let (leaked_read, leaked_write) = nix::unistd::pipe().expect("pipe");
    assert!(!has_cloexec(&leaked_read) && !has_cloexec(&leaked_write));

    let (ours, theirs) = socketpair().expect("socketpair");
    let inode = socket_inode(&theirs);
    let theirs_raw = theirs.as_raw_fd();
    let child = spawn_child(shell(), &shell_args(), theirs).expect("spawning the shell");
    // spawn_child closed the parent's copy of the child's end.
    assert!(fcntl_fails(theirs_raw) || socket_inode_of_raw(theirs_raw) != Some(inode));
    assert_only_fds_0_to_3(&fds_of_waiting_shell(child, ours), inode);
}

fn fcntl_fails(raw: RawFd) -> bool {
    // SAFETY: F_GETFD only reads flags of an fd number.
    unsafe { libc::fcntl(raw, libc::F_GETFD) < 0 }
}

fn socket_inode_of_raw(raw: RawFd) -> Option<u64> {
    let target = fs::read_link(format!("/proc/self/fd/{raw}")).ok()?;
    let target = target.to_string_lossy();
    target
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

fn a_child_takes_its_channel_once() {
    let (ours, theirs) = socketpair().expect("socketpair");
    let me = std::env::current_exe().expect("this test's executable");
    let mut child = spawn_child(&me, &[TAKE_CHANNEL_ROLE.into()], theirs).expect("spawning myself");
    let mut report = String::new();
    UnixStream::from(ours)
        .read_to_string(&mut report)
        .expect("reading the child's report");
    assert!(child.wait().expect("waiting for the child").success());
    assert_eq!(
        report,
        "cloexec=true\nsecond take: fd 3, the parent's channel, was already taken\n"
    );
}

fn a_child_rejects_anything_else_on_fd_3() {
    let me = std::env::current_exe().expect("this test's executable");
    let program = me
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    let expected = format!("fd 3 is not the parent's channel; {program} is started by slaacd\n");

    let (pipe_read, _pipe_write) = nix::unistd::pipe().expect("pipe");
    let pipe_raw = pipe_read.as_raw_fd();
    let mut on_pipe = Command::new(&me);
    on_pipe.arg(TAKE_CHANNEL_ROLE).stdout(Stdio::piped());
    // SAFETY: dup2 is async-signal-safe.
    unsafe {
        on_pipe.pre_exec(move || match libc::dup2(pipe_raw, CHANNEL_FD) {
            CHANNEL_FD => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        });
    }
    assert_eq!(run_for_stdout(on_pipe), expected, "with a pipe on fd 3");

    let mut closed = Command::new(&me);
    closed.arg(TAKE_CHANNEL_ROLE).stdout(Stdio::piped());
    // SAFETY: close is async-signal-safe; fd 3 in the child is ours to close.
    unsafe {
        closed.pre_exec(|| {
            libc::close(CHANNEL_FD);
            Ok(())
        });
    }
    assert_eq!(run_for_stdout(closed), expected, "with fd 3 closed");
}

fn run_for_stdout(mut command: Command) -> String {
    let output = command.output().expect("running the child");
    assert!(
        output.status.success(),
        "the child failed: {}",
        output.status
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn inherited_fds_become_close_on_exec() {
    let (leaked_read, leaked_write) = nix::unistd::pipe().expect("pipe");
    assert!(!has_cloexec(&leaked_read) && !has_cloexec(&leaked_write));
    close_inherited_fds().expect("close_range");
    assert!(has_cloexec(&leaked_read) && has_cloexec(&leaked_write));
}
