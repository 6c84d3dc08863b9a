//! The children's confinement, proven from outside. The real `slaacd-engine` and
//! `slaacd-frontend` binaries run their hidden self-test mode, which confines exactly as in
//! production and then attempts escapes: each must fail with EPERM (deny mode) or end the
//! process with SIGSYS (kill mode, the production default). Then the real daemon runs in a
//! namespace lab, and its running children's /proc entries show the confinement in force.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd, IntoRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::signal::Signal;
use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
use slaacd_tests::lab::Lab;
use slaacd_tests::process::{children_of, is_alive, name_of};
use slaacd_tests::radvd::{Radvd, single_prefix_config};
use slaacd_tests::slaacd::{Slaacd, binary, require_user};
use slaacd_tests::{require_root, wait_for};

/// The escapes both children must be unable to make, as the self-test names them.
const ESCAPES: [&str; 6] = [
    "open-file",
    "inet-socket",
    "inet6-socket",
    "exec",
    "ptrace",
    "proc-write",
];

/// A child binary in self-test mode, with a socket pair end on fd 3 as its channel; the test
/// keeps the other end to send it a descriptor.
struct SelfTest {
    program: &'static str,
    args: Vec<String>,
}

impl SelfTest {
    /// Logging to stderr (-d), as in the lab.
    fn new(program: &'static str, violation: &str, escapes: &str) -> Self {
        Self {
            program,
            args: vec![
                "-d".into(),
                format!("--sandbox-violation={violation}"),
                format!("--confinement-self-test={escapes}"),
            ],
        }
    }

    /// Logging to syslog, as in production.
    fn to_syslog(program: &'static str, violation: &str, escapes: &str) -> Self {
        let mut test = Self::new(program, violation, escapes);
        test.args.remove(0);
        test
    }

    fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Runs it to the end. With `send_descriptor`, one message carrying a descriptor is sent
    /// on the channel (the child's `receive-descriptor` escape waits for it).
    fn run(&self, send_descriptor: bool) -> Output {
        require_root();
        require_user();
        let (ours, theirs) = UnixStream::pair().expect("creating the channel");
        let channel: RawFd = theirs.as_raw_fd();
        let mut command = Command::new(binary(self.program));
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: the closure runs in the forked child and only calls dup2 or fcntl, which are
        // async-signal-safe, and allocates nothing.
        unsafe {
            command.pre_exec(move || place_on_fd_3(channel));
        }
        let child = command.spawn().expect("starting the self-test");
        drop(theirs);
        if send_descriptor {
            let passed = [std::io::stdin().as_raw_fd()];
            // A child killed before it reads makes this fail; its status tells why.
            let _ = sendmsg::<()>(
                ours.as_raw_fd(),
                &[IoSlice::new(b"x")],
                &[ControlMessage::ScmRights(&passed)],
                MsgFlags::empty(),
                None,
            );
        }
        let output = child.wait_with_output().expect("waiting for the self-test");
        drop(ours);
        output
    }
}

/// In the forked child: the channel on fd 3 without close-on-exec.
fn place_on_fd_3(channel: RawFd) -> std::io::Result<()> {
    const CHANNEL_FD: RawFd = 3;
    // SAFETY: `channel` is open in the child (inherited across fork) until exec.
    let borrowed = unsafe { BorrowedFd::borrow_raw(channel) };
    if channel == CHANNEL_FD {
        fcntl(borrowed, FcntlArg::F_SETFD(FdFlag::empty()))?;
    } else {
        // SAFETY: fd 3 is free for the taking in the child; the new descriptor must outlive
        // this closure, so it is released instead of closed.
        let placed = unsafe { nix::unistd::dup2_raw(borrowed, CHANNEL_FD) }?;
        let _ = placed.into_raw_fd();
    }
    Ok(())
}

fn report(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The outcome line the self-test printed for `escape`, e.g. "blocked exec EPERM".
fn outcome(output: &Output, escape: &str) -> Option<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find(|line| {
            let mut words = line.split(' ');
            matches!(words.next(), Some("blocked" | "allowed")) && words.next() == Some(escape)
        })
        .map(str::to_owned)
}

fn assert_all_blocked_with_eperm(program: &'static str, output: &Output) {
    assert!(output.status.success(), "{program}: {}", report(output));
    for escape in ESCAPES {
        assert_eq!(
            outcome(output, escape).as_deref(),
            Some(format!("blocked {escape} EPERM").as_str()),
            "{program}: {}",
            report(output)
        );
    }
}

#[test]
fn engine_escapes_fail_with_eperm_and_the_frontend_channel_still_arrives() {
    let list = format!("{},receive-descriptor", ESCAPES.join(","));
    let output = SelfTest::new("slaacd-engine", "deny", &list).run(true);
    assert_all_blocked_with_eperm("slaacd-engine", &output);
    // Its start-up budget leaves room for exactly the frontend's channel.
    assert_eq!(
        outcome(&output, "receive-descriptor").as_deref(),
        Some("allowed receive-descriptor"),
        "{}",
        report(&output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("confined") && stderr.contains("landlock=Full"),
        "the start-up log does not say what was enforced:\n{stderr}"
    );
}

#[test]
fn engine_narrowed_to_stdio_takes_no_descriptor() {
    let list = format!("{},receive-descriptor", ESCAPES.join(","));
    let output = SelfTest::new("slaacd-engine", "deny", &list)
        .arg("--self-test-after-narrowing")
        .run(true);
    assert_all_blocked_with_eperm("slaacd-engine", &output);
    assert_eq!(
        outcome(&output, "receive-descriptor").as_deref(),
        Some("blocked receive-descriptor EMFILE"),
        "{}",
        report(&output)
    );
}

#[test]
fn frontend_escapes_fail_with_eperm() {
    let output = SelfTest::new("slaacd-frontend", "deny", &ESCAPES.join(",")).run(false);
    assert_all_blocked_with_eperm("slaacd-frontend", &output);
}

#[test]
fn each_escape_kills_either_child_in_the_default_mode() {
    let stages: [(&'static str, Option<&str>); 3] = [
        ("slaacd-engine", None),
        ("slaacd-engine", Some("--self-test-after-narrowing")),
        ("slaacd-frontend", None),
    ];
    for (program, stage) in stages {
        for escape in ESCAPES {
            let mut test = SelfTest::new(program, "kill", escape);
            if let Some(stage) = stage {
                test = test.arg(stage);
            }
            let output = test.run(false);
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                stdout.contains(&format!("attempting {escape}")),
                "{program} did not reach {escape}: {}",
                report(&output)
            );
            assert_eq!(
                output.status.signal(),
                Some(Signal::SIGSYS as i32),
                "{program} survived {escape}: {}",
                report(&output)
            );
        }
    }
}

/// Each log line after confinement goes through glibc's syslog(3), which opens a new socket
/// whenever /dev/log is missing or syslogd was restarted; that must cost the line, not the
/// process. (Where /dev/log works this passes without the reopen being tried.)
#[test]
fn logging_to_syslog_after_confinement_kills_neither_child() {
    for program in ["slaacd-engine", "slaacd-frontend"] {
        let output = SelfTest::to_syslog(program, "kill", "open-file").run(false);
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("attempting open-file"),
            "{program} died before its self-test: {}",
            report(&output)
        );
        assert_eq!(
            output.status.signal(),
            Some(Signal::SIGSYS as i32),
            "{}",
            report(&output)
        );
    }
}

#[test]
fn violation_mode_is_checked() {
    let output = SelfTest::new("slaacd-engine", "trap", "exec").run(false);
    assert!(!output.status.success(), "{}", report(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("unknown seccomp violation mode"),
        "{}",
        report(&output)
    );
}

/// The "Key:" line of /proc/PID/status, split into words.
fn status_field(status: &str, key: &str) -> Vec<String> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in status:\n{status}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Each open descriptor of `pid` and what it refers to.
fn descriptors_of(pid: u32) -> Vec<(RawFd, String)> {
    let directory = format!("/proc/{pid}/fd");
    let mut found: Vec<(RawFd, String)> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("listing {directory}: {error}"))
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            Some((fd, target.display().to_string()))
        })
        .collect();
    found.sort();
    found
}

/// What fds 3 and up of a child must be, in order: its channel to the parent, tokio's epoll
/// and waker, the signal driver's epoll and socket pair (the driver comes with tokio's I/O
/// driver while the workspace enables the "signal" feature), then what start() passed.
fn expected_kinds(passed_sockets: usize) -> Vec<&'static str> {
    let mut kinds = vec![
        "socket:",                // 3: the parent's channel
        "anon_inode:[eventpoll]", // tokio's I/O driver
        "anon_inode:[eventfd]",   // its waker
        "anon_inode:[eventpoll]", // the signal driver's registry
        "socket:",                // the signal driver's socket pair
        "socket:",
        "socket:",
    ];
    kinds.extend(std::iter::repeat_n("socket:", passed_sockets));
    kinds
}

/// Checks `name` (`pid`) runs confined, holding the runtime's descriptors and the
/// `passed_sockets` its start call gave it, with room for `room` descriptors more.
fn assert_confined(name: &str, pid: u32, passed_sockets: usize, room: RawFd) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|error| panic!("reading the status of {name}: {error}"));
    assert_eq!(status_field(&status, "Seccomp"), ["2"], "{name}:\n{status}");
    assert_eq!(
        status_field(&status, "NoNewPrivs"),
        ["1"],
        "{name}:\n{status}"
    );
    for key in ["Uid", "Gid"] {
        let ids = status_field(&status, key);
        assert!(
            ids.len() == 4 && ids.iter().all(|id| id != "0"),
            "{name} runs with {key} {ids:?}"
        );
    }
    for key in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(
            status_field(&status, key),
            ["0000000000000000"],
            "{name}: {key}"
        );
    }
    assert_eq!(
        status_field(&status, "Groups").len(),
        1,
        "{name} keeps supplementary groups:\n{status}"
    );

    let descriptors = descriptors_of(pid);
    let beyond_stdio: Vec<&str> = descriptors
        .iter()
        .filter(|(fd, _)| *fd > 2)
        .map(|(_, target)| target.as_str())
        .collect();
    let expected = expected_kinds(passed_sockets);
    assert_eq!(
        beyond_stdio.len(),
        expected.len(),
        "{name} holds other descriptors than expected: {descriptors:?}"
    );
    for (target, kind) in beyond_stdio.iter().zip(&expected) {
        assert!(
            target.starts_with(kind),
            "{name}: {target} where {kind} was expected: {descriptors:?}"
        );
    }
    // No processes, and open files capped at what it holds plus `room` more.
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let soft_limit = |limit: &str| {
        let line = limits
            .lines()
            .find(|line| line.starts_with(limit))
            .unwrap_or_else(|| panic!("no {limit} for {name}:\n{limits}"));
        // "Max open files  11  11  files": soft limit, hard limit, unit.
        line.split_whitespace().rev().nth(2).map(str::to_owned)
    };
    assert_eq!(
        soft_limit("Max processes").as_deref(),
        Some("0"),
        "{name}:\n{limits}"
    );
    let highest = descriptors.last().map_or(0, |(fd, _)| *fd);
    assert_eq!(
        soft_limit("Max open files"),
        Some((highest + 1 + room).to_string()),
        "{name}: descriptors {descriptors:?}, limits:\n{limits}"
    );
}

#[test]
fn running_children_are_confined_and_hold_only_their_descriptors() {
    let lab = Lab::new();
    let config = single_prefix_config("r0", "2001:db8:1::/64", 3600, 1800, 1200);
    let _radvd = Radvd::start(&lab.router, lab.dir.path(), &config);
    let slaacd = Slaacd::start(&lab.host, lab.dir.path(), &["h0"]);
    lab.host.ip(&["link", "set", "h0", "up"]);
    // Both children started: confined, and holding what the parent passed them. (An address
    // alone would not tell: the kernel's own SLAAC may beat the parent to accept_ra=0.)
    wait_for("both children to start", Duration::from_secs(15), || {
        let log = slaacd.log();
        [
            "slaacd-engine: INFO started",
            "slaacd-frontend: INFO started",
        ]
        .iter()
        .all(|line| log.contains(line))
        .then_some(())
    });
    let children: Vec<(u32, String)> = children_of(slaacd.pid())
        .into_iter()
        .filter_map(|pid| Some((pid, name_of(pid)?)))
        .collect();
    let pid_of = |name: &str| {
        children
            .iter()
            .find(|(_, child)| child == name)
            .map(|(pid, _)| *pid)
            .unwrap_or_else(|| panic!("{name} is not running: {children:?}"))
    };
    // The engine got the frontend's channel and has room for nothing more; the frontend got
    // that channel's other end and the ICMPv6, packet, netlink and control sockets, and keeps
    // room for control connections.
    assert_confined("slaacd-engine", pid_of("slaacd-engine"), 1, 0);
    assert_confined("slaacd-frontend", pid_of("slaacd-frontend"), 5, 32);
    // Running in the default (kill) mode, they take in the router's advertisement and answer
    // on the control socket (accept, SO_PEERCRED, replies), and nobody is killed.
    wait_for("the prefix in slaacctl", Duration::from_secs(15), || {
        let shown = slaacd.ctl(&["show", "interface", "h0"]);
        String::from_utf8_lossy(&shown.stdout)
            .contains("2001:db8:1:")
            .then_some(())
    });
    for name in ["slaacd-engine", "slaacd-frontend"] {
        assert!(is_alive(pid_of(name)), "{name} died:\n{}", slaacd.log());
    }
    let log = slaacd.log();
    for child in ["slaacd-engine", "slaacd-frontend"] {
        assert!(
            log.lines()
                .any(|line| line.contains(&format!("{child}: INFO confined"))
                    && line.contains("landlock=Full")),
            "{child} did not log its confinement:\n{log}"
        );
    }
}
