//! `pledge` on Linux, observed from inside a confined process: what a promise set leaves
//! possible and what fails, in the Deny (EPERM) and Kill (SIGSYS) modes.

mod child;

use std::fs::File;
use std::os::unix::process::ExitStatusExt;

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::sys::socket::{
    AddressFamily, SockFlag, SockProtocol, SockType, setsockopt, socket, sockopt,
};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::{Pid, getppid};
use slaacd_sandbox::{
    HeldSocketCall, SandboxError, Violation, pledge, pledge_with, pledge_with_children,
};

fn socket_errno(
    family: AddressFamily,
    kind: SockType,
    protocol: Option<SockProtocol>,
) -> Option<Errno> {
    socket(family, kind, SockFlag::SOCK_CLOEXEC, protocol).err()
}

confined_test!(stdio_denies_sockets_files_and_exec, {
    pledge("stdio", Violation::Deny).unwrap();
    assert_eq!(
        socket_errno(AddressFamily::Inet, SockType::Datagram, None),
        Some(Errno::EPERM)
    );
    assert_eq!(
        socket_errno(AddressFamily::Unix, SockType::Stream, None),
        Some(Errno::EPERM)
    );
    let open = File::open("/etc/hostname").unwrap_err();
    assert_eq!(open.raw_os_error(), Some(libc::EPERM), "{open}");
    let exec = nix::unistd::execv(c"/bin/true", &[c"true"]).unwrap_err();
    assert_eq!(exec, Errno::EPERM);
    let spawn = std::process::Command::new("/bin/true").spawn().unwrap_err();
    assert_eq!(spawn.raw_os_error(), Some(libc::EPERM), "{spawn}");
    // Unlike OpenBSD's stdio, no socket pairs: those come with "unix".
    assert_eq!(socket_pair(), Some(Errno::EPERM));
    // What stdio keeps: pipes for plumbing, memory, time.
    let (read_end, write_end) = nix::unistd::pipe().unwrap();
    assert_eq!(nix::unistd::write(&write_end, b"ok").unwrap(), 2);
    let mut buffer = [0u8; 2];
    assert_eq!(nix::unistd::read(&read_end, &mut buffer).unwrap(), 2);
    assert!(socket_errno(AddressFamily::Unix, SockType::Stream, None).is_some());
    assert!(std::time::Instant::now().elapsed().as_secs() < 1);
});

fn socket_pair() -> Option<Errno> {
    nix::sys::socket::socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .err()
}

confined_test!(unix_allows_unix_sockets_and_pairs_only, {
    pledge("stdio unix", Violation::Deny).unwrap();
    assert_eq!(socket_pair(), None);
    assert_eq!(
        socket_errno(AddressFamily::Unix, SockType::Datagram, None),
        None
    );
    assert_eq!(
        socket_errno(AddressFamily::Inet, SockType::Datagram, None),
        Some(Errno::EPERM)
    );
});

confined_test!(stdio_alone_changes_no_mode_and_takes_no_lock, {
    let file = unlinked_file();
    pledge("stdio", Violation::Deny).unwrap();
    assert_eq!(
        chmod_and_lock(&file),
        (Some(libc::EPERM), Some(Errno::EPERM))
    );
});

confined_test!(fattr_and_flock_allow_modes_and_locks, {
    let file = unlinked_file();
    pledge("stdio fattr flock", Violation::Deny).unwrap();
    assert_eq!(chmod_and_lock(&file), (None, None));
});

/// What setting the mode of `file` and locking it failed with.
fn chmod_and_lock(file: &File) -> (Option<i32>, Option<Errno>) {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::PermissionsExt;
    let chmod = file
        .set_permissions(std::fs::Permissions::from_mode(0o600))
        .err()
        .and_then(|error| error.raw_os_error());
    // SAFETY: flock only changes the lock of a descriptor this test owns.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    (chmod, (locked == -1).then(Errno::last))
}

/// A file in the temporary directory, already unlinked.
fn unlinked_file() -> File {
    let path = std::env::temp_dir().join(format!("slaacd-fattr-{}", std::process::id()));
    let file = File::create(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    file
}

confined_test!(inet_allows_ip_sockets_only, {
    pledge("stdio inet", Violation::Deny).unwrap();
    assert_eq!(
        socket_errno(AddressFamily::Inet6, SockType::Datagram, None),
        None
    );
    assert_eq!(
        socket_errno(AddressFamily::Inet, SockType::Stream, None),
        None
    );
    assert_eq!(
        socket_errno(AddressFamily::Unix, SockType::Datagram, None),
        Some(Errno::EPERM)
    );
    assert_eq!(
        socket_errno(
            AddressFamily::Netlink,
            SockType::Raw,
            Some(SockProtocol::NetlinkRoute)
        ),
        Some(Errno::EPERM)
    );
});

confined_test!(route_allows_rtnetlink_only, {
    pledge("stdio route", Violation::Deny).unwrap();
    assert_eq!(
        socket_errno(
            AddressFamily::Netlink,
            SockType::Raw,
            Some(SockProtocol::NetlinkRoute)
        ),
        None
    );
    assert_eq!(
        socket_errno(
            AddressFamily::Netlink,
            SockType::Raw,
            Some(SockProtocol::NetlinkAudit)
        ),
        Some(Errno::EPERM)
    );
    assert_eq!(
        socket_errno(AddressFamily::Inet6, SockType::Datagram, None),
        Some(Errno::EPERM)
    );
});

confined_test!(a_second_pledge_only_narrows, {
    pledge("stdio inet", Violation::Deny).unwrap();
    pledge("stdio", Violation::Deny).unwrap();
    assert_eq!(
        socket_errno(AddressFamily::Inet6, SockType::Datagram, None),
        Some(Errno::EPERM)
    );
    // Asking for inet again cannot bring it back.
    pledge("stdio inet", Violation::Deny).unwrap();
    assert_eq!(
        socket_errno(AddressFamily::Inet6, SockType::Datagram, None),
        Some(Errno::EPERM)
    );
});

confined_test!(rpath_opens_for_reading_only, {
    pledge("stdio rpath", Violation::Deny).unwrap();
    File::open("/etc/hostname").unwrap();
    let write = File::options()
        .append(true)
        .open("/etc/hostname")
        .unwrap_err();
    assert_eq!(write.raw_os_error(), Some(libc::EPERM), "{write}");
});

confined_test!(unknown_promise_is_refused_before_anything_changes, {
    let error = pledge("stdio inet6", Violation::Deny).unwrap_err();
    assert_eq!(error.to_string(), "unknown pledge promise \"inet6\"");
    assert_eq!(
        socket_errno(AddressFamily::Unix, SockType::Stream, None),
        None
    );
});

/// Asserts the confined copy was killed by SIGSYS (a call its filter ends the process for).
fn assert_killed_by_sigsys(output: &std::process::Output) {
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGSYS),
        "expected death by SIGSYS, got {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn kill_mode_ends_the_process_with_sigsys() {
    const TEST: &str = "kill_mode_ends_the_process_with_sigsys";
    if child::is_child_for(TEST) {
        pledge("stdio", Violation::Kill).unwrap();
        let _ = socket(
            AddressFamily::Inet,
            SockType::Datagram,
            SockFlag::empty(),
            None,
        );
        // Reaching this line means the kernel let the call through.
        std::process::exit(3);
    }
    assert_killed_by_sigsys(&child::run(TEST));
}

confined_test!(syslog_reconnect_fails_softly_even_in_kill_mode, {
    pledge("stdio", Violation::Kill).unwrap();
    // What glibc's syslog(3) tries after syslogd went away: EPERM, not SIGSYS.
    assert_eq!(
        socket_errno(AddressFamily::Unix, SockType::Datagram, None),
        Some(Errno::EPERM)
    );
});

confined_test!(held_socket_calls_allow_named_options_and_no_sockets, {
    let held = socket(
        AddressFamily::Inet6,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .unwrap();
    let path = std::env::temp_dir().join(format!("slaacd-held-{}.sock", std::process::id()));
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    pledge_with(
        "stdio",
        &[
            HeldSocketCall::Accept,
            HeldSocketCall::SetOption {
                level: libc::IPPROTO_IPV6,
                name: libc::IPV6_UNICAST_HOPS,
            },
        ],
        Violation::Deny,
    )
    .unwrap();
    setsockopt(&held, sockopt::Ipv6Ttl, &255).unwrap();
    assert_eq!(
        setsockopt(&held, sockopt::Ipv6V6Only, &true),
        Err(Errno::EPERM)
    );
    // Accepting is allowed: nobody is connecting, so it would block.
    let accepted = listener.accept().unwrap_err();
    assert_eq!(
        accepted.kind(),
        std::io::ErrorKind::WouldBlock,
        "{accepted}"
    );
    assert_eq!(
        socket_errno(AddressFamily::Inet6, SockType::Datagram, None),
        Some(Errno::EPERM)
    );
});

/// The index of "lo" by SIOCGIFINDEX on a new AF_UNIX socket (what glibc's if_nametoindex does),
/// or the errno of whichever call failed.
fn interface_index_by_ioctl() -> Result<libc::c_int, Errno> {
    use std::os::fd::AsRawFd;
    let held = socket(
        AddressFamily::Unix,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is plain data, for which all zero bytes are a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo") {
        *slot = *byte as libc::c_char;
    }
    // SAFETY: SIOCGIFINDEX reads the name and writes the index into `request`, which outlives
    // the call; the descriptor is open.
    let result = unsafe { libc::ioctl(held.as_raw_fd(), libc::SIOCGIFINDEX, &mut request) };
    Errno::result(result)?;
    // SAFETY: a successful SIOCGIFINDEX filled the index member.
    Ok(unsafe { request.ifr_ifru.ifru_ifindex })
}

confined_test!(route_names_no_interface_by_ioctl, {
    assert!(interface_index_by_ioctl().is_ok_and(|index| index > 0));
    pledge("stdio route unix", Violation::Deny).unwrap();
    // The socket is allowed ("unix"): the ioctl is what fails.
    assert_eq!(interface_index_by_ioctl(), Err(Errno::EPERM));
});

/// Starts `sleep 30` before any pledge: the process the tests then wait for and signal.
fn sleeper() -> std::process::Child {
    std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("starting sleep")
}

/// fork(), the copy exiting at once; the errno when it fails.
fn fork_errno() -> Option<Errno> {
    // SAFETY: the copy calls only _exit; the test runs alone in its copy of the binary.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Child) => {
            // SAFETY: _exit ends the copy without unwinding or running any handler.
            unsafe { libc::_exit(0) }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            nix::sys::wait::waitpid(child, None).unwrap();
            None
        }
        Err(errno) => Some(errno),
    }
}

confined_test!(children_waits_signals_and_threads_but_starts_no_process, {
    let mut child = sleeper();
    pledge_with_children("stdio children", &[], &[child.id()], Violation::Deny).unwrap();
    // A thread, named (prctl) like std names its threads, that runs and is joined.
    let thread = std::thread::Builder::new()
        .name("confined".into())
        .spawn(|| 6 * 7)
        .expect("a thread under \"children\"");
    assert_eq!(thread.join().unwrap(), 42);
    // No new process by any route: fork, posix_spawn (clone3, then clone without CLONE_THREAD).
    assert_eq!(fork_errno(), Some(Errno::EPERM));
    let spawn = std::process::Command::new("/bin/true").spawn().unwrap_err();
    assert_eq!(spawn.raw_os_error(), Some(libc::EPERM), "{spawn}");
    // clone3's flags are out of seccomp's sight: ENOSYS, so that glibc falls back to clone.
    // SAFETY: clone3 with a null argument and size 0 creates nothing even where allowed (EINVAL).
    let clone3 = unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0usize) };
    assert_eq!((clone3, Errno::last()), (-1, Errno::ENOSYS));
    // The process it already had: signalled and waited for.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
});

confined_test!(children_signals_and_waits_for_no_other_process, {
    let mut child = sleeper();
    let pid = Pid::from_raw(child.id() as i32);
    pledge_with_children("stdio children", &[], &[child.id()], Violation::Deny).unwrap();
    // The test runner, this copy's parent: never its child. Signal 0 only asks whether a
    // process exists, which root may ask of any; the pledge does not let it ask either.
    assert_eq!(kill(getppid(), None), Err(Errno::EPERM));
    // Its own process group, every process, the child's pid as a group.
    for target in [
        Pid::from_raw(0),
        Pid::from_raw(-1),
        Pid::from_raw(-pid.as_raw()),
    ] {
        assert_eq!(kill(target, None), Err(Errno::EPERM), "{target}");
    }
    // Waiting for anyone but the child (the kernel alone would say ECHILD or wait for any).
    for target in [getppid(), Pid::from_raw(-1)] {
        assert_eq!(
            waitpid(target, Some(WaitPidFlag::WNOHANG)),
            Err(Errno::EPERM),
            "{target}"
        );
    }
    // Itself (stdio's own pid) and its child, signal 0 too.
    assert_eq!(kill(Pid::this(), None), Ok(()));
    assert_eq!(kill(pid, None), Ok(()));
    child.kill().unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
});

confined_test!(children_without_pids_signal_and_wait_for_none, {
    // Short: it outlives this copy, which cannot stop it.
    let mut child = std::process::Command::new("sleep")
        .arg("1")
        .spawn()
        .expect("starting sleep");
    pledge("stdio children", Violation::Deny).unwrap();
    assert_eq!(child.kill().unwrap_err().raw_os_error(), Some(libc::EPERM));
    assert_eq!(
        child.try_wait().unwrap_err().raw_os_error(),
        Some(libc::EPERM)
    );
});

confined_test!(pids_need_the_children_promise_and_name_one_process, {
    // Refused before anything is installed: the later pledge still works.
    let error = pledge_with_children("stdio proc", &[], &[4000], Violation::Deny).unwrap_err();
    assert!(
        matches!(error, SandboxError::ChildrenWithoutPromise { .. }),
        "{error}"
    );
    for pid in [0, 1 << 31] {
        let error =
            pledge_with_children("stdio children", &[], &[pid], Violation::Deny).unwrap_err();
        assert!(
            matches!(error, SandboxError::InvalidChild(refused) if refused == pid),
            "{error}"
        );
    }
    pledge("stdio", Violation::Deny).unwrap();
    assert_eq!(kill(getppid(), None), Err(Errno::EPERM));
});

#[test]
fn children_kill_mode_ends_a_signal_to_another_process_with_sigsys() {
    const TEST: &str = "children_kill_mode_ends_a_signal_to_another_process_with_sigsys";
    if child::is_child_for(TEST) {
        let mut child = sleeper();
        pledge_with_children("stdio children", &[], &[child.id()], Violation::Kill).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let _ = kill(getppid(), None);
        // Reaching this line means the kernel let the signal through.
        std::process::exit(3);
    }
    assert_killed_by_sigsys(&child::run(TEST));
}

confined_test!(proc_still_forks, {
    pledge("stdio proc", Violation::Deny).unwrap();
    assert_eq!(fork_errno(), None);
});

#[test]
fn children_kill_mode_ends_a_fork_with_sigsys() {
    const TEST: &str = "children_kill_mode_ends_a_fork_with_sigsys";
    if child::is_child_for(TEST) {
        pledge("stdio children", Violation::Kill).unwrap();
        // SAFETY: clone3 with a null argument creates nothing; under "children" it fails with
        // ENOSYS even in kill mode.
        let clone3 = unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0usize) };
        assert_eq!((clone3, Errno::last()), (-1, Errno::ENOSYS));
        let _ = fork_errno();
        // Reaching this line means the kernel let the fork through.
        std::process::exit(3);
    }
    assert_killed_by_sigsys(&child::run(TEST));
}

confined_test!(children_threads_run_a_runtime_in_kill_mode, {
    // What the parent's resolver does to reach systemd-resolved after a panic: a named thread
    // with a runtime of its own. Any call "children" lacks would end the process with SIGSYS.
    // As in the parent, a runtime with signal handling exists before the pledge: tokio makes
    // its process-wide signal socket pair then, not in the thread.
    let _main = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    pledge("stdio children", Violation::Kill).unwrap();
    let answer = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("slaacd-dbus".into())
            .spawn_scoped(scope, || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    42
                })
            })
            .unwrap()
            .join()
            .unwrap()
    });
    assert_eq!(answer, 42);
});
