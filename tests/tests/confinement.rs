//! Confinement, proven from outside. The real `slaacd-engine` and `slaacd-frontend` binaries
//! run their hidden self-test mode, which confines exactly as in production and then attempts
//! escapes: each must fail with EPERM (deny mode) or end the process with SIGSYS (kill mode, the
//! production default). The parent does the same after a real start in a namespace lab, where
//! Landlock's EACCES shows for the paths seccomp lets through. Then the real daemon runs, and
//! the /proc entries of all three processes show the confinement in force.

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
use slaacd_tests::process::{Guarded, children_of, is_alive, name_of};
use slaacd_tests::radvd::{Radvd, single_prefix_config};
use slaacd_tests::slaacd::{Slaacd, binary, require_user};
use slaacd_tests::{require_root, wait_for};

/// The escapes both children must be unable to make, as the self-test names them.
const ESCAPES: [&str; 10] = [
    "open-file",
    "inet-socket",
    "inet6-socket",
    "packet-socket",
    "socket-pair",
    "exec",
    "fork",
    "signal-other",
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

/// The frontend creates no socket of any kind: every family but AF_UNIX kills it (above), and
/// AF_UNIX fails with EPERM even in the default mode, so that glibc's syslog reconnect costs a
/// log line, not the process.
#[test]
fn frontend_creates_no_unix_socket_either() {
    let output = SelfTest::new("slaacd-frontend", "kill", "unix-socket").run(false);
    assert!(output.status.success(), "{}", report(&output));
    assert_eq!(
        outcome(&output, "unix-socket").as_deref(),
        Some("blocked unix-socket EPERM"),
        "{}",
        report(&output)
    );
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

/// The escapes the confined parent must be unable to make, and how each fails in deny mode:
/// seccomp refuses the system call (EPERM), or, for a path the promises let through, Landlock
/// refuses the path (EACCES).
const PARENT_ESCAPES: [(&str, &str); 10] = [
    ("exec", "EPERM"),
    // It waits for and signals the children it has ("children"), but starts no process.
    ("fork", "EPERM"),
    // With CAP_KILL the kernel would let it signal any process: seccomp lets kill through only
    // for its children's pids, so not to its own parent, not even signal 0.
    ("signal-other", "EPERM"),
    // Interface names come from rtnetlink: the AF_UNIX socket is allowed ("unix"), the
    // SIOCGIFINDEX ioctl glibc's if_nametoindex would make on it is not.
    ("interface-ioctl", "EPERM"),
    ("open-shadow", "EACCES"),
    ("write-etc", "EACCES"),
    ("inet-socket", "EPERM"),
    ("inet6-socket", "EPERM"),
    ("packet-socket", "EPERM"),
    ("ptrace", "EPERM"),
];

/// The parent's capabilities once confined: CAP_KILL (5) and CAP_NET_ADMIN (12).
const PARENT_CAPABILITIES: &str = "0000000000001020";

/// Starts the real daemon for h0 with the parent's hidden self-test, waits for it to end and
/// returns how it ended and what it logged.
fn parent_self_test(
    lab: &Lab,
    violation: &str,
    escapes: &str,
) -> (std::process::ExitStatus, String) {
    let violation = format!("--sandbox-violation={violation}");
    let self_test = format!("--confinement-self-test={escapes}");
    let mut slaacd = Slaacd::start_with(
        &lab.host,
        lab.dir.path(),
        &[&violation, &self_test],
        &["h0"],
    );
    let status = slaacd
        .process
        .wait_timeout(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("the self-test did not end:\n{}", slaacd.log()));
    (status, slaacd.log())
}

/// The outcome line the parent's self-test logged for `escape`.
fn logged_outcome(log: &str, escape: &str) -> Option<String> {
    log.lines()
        .find(|line| {
            let mut words = line.split(' ');
            matches!(words.next(), Some("blocked" | "allowed")) && words.next() == Some(escape)
        })
        .map(str::to_owned)
}

#[test]
fn parent_escapes_fail_after_start() {
    let lab = Lab::new();
    let list: Vec<&str> = PARENT_ESCAPES.iter().map(|(escape, _)| *escape).collect();
    let (status, log) = parent_self_test(&lab, "deny", &list.join(","));
    assert!(status.success(), "status {status}:\n{log}");
    assert!(
        log.contains("slaacd: INFO started; managing h0"),
        "the self-test ran before the start:\n{log}"
    );
    for (escape, errno) in PARENT_ESCAPES {
        assert_eq!(
            logged_outcome(&log, escape).as_deref(),
            Some(format!("blocked {escape} {errno}").as_str()),
            "{log}"
        );
    }
    assert!(
        !std::path::Path::new("/etc/slaacd-confinement-self-test").exists(),
        "the parent created a file in /etc"
    );
}

#[test]
fn each_escape_kills_the_parent_in_the_default_mode() {
    for (escape, errno) in PARENT_ESCAPES {
        // A lab each: the children of a killed parent may still hold the last one's socket.
        let lab = Lab::new();
        let (status, log) = parent_self_test(&lab, "kill", escape);
        assert!(
            log.contains(&format!("attempting {escape}")),
            "{escape}:\n{log}"
        );
        if errno == "EPERM" {
            assert_eq!(
                status.signal(),
                Some(Signal::SIGSYS as i32),
                "the parent survived {escape}:\n{log}"
            );
        } else {
            // Landlock's refusal is an error the process sees, not a violation.
            assert!(status.success(), "{escape}: status {status}:\n{log}");
            assert_eq!(
                logged_outcome(&log, escape),
                Some(format!("blocked {escape} {errno}")),
                "{log}"
            );
        }
    }
}

/// The socket inodes a process holds.
fn socket_inodes(pid: u32) -> Vec<String> {
    descriptors_of(pid)
        .into_iter()
        .filter_map(|(_, target)| {
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')
                .map(str::to_owned)
        })
        .collect()
}

/// The inodes of the sockets listed in /proc/PID/net/FILE (the namespace's raw or packet
/// sockets); the inode column is named "Inode" (packet) or "inode" (raw6).
fn namespace_socket_inodes(pid: u32, file: &str) -> Vec<String> {
    let table = std::fs::read_to_string(format!("/proc/{pid}/net/{file}"))
        .unwrap_or_else(|error| panic!("reading /proc/{pid}/net/{file}: {error}"));
    let mut lines = table.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let column = header
        .iter()
        .position(|name| name.eq_ignore_ascii_case("inode"))
        .unwrap_or_else(|| panic!("no inode column in /proc/{pid}/net/{file}:\n{table}"));
    // raw6 headers name the queues and timers in more words than the rows fill ("tx_queue
    // rx_queue" is one "00000000:00000000" field): count from the end, where both agree.
    let from_end = header.len() - column;
    lines
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields
                .len()
                .checked_sub(from_end)
                .map(|i| fields[i].to_owned())
        })
        .collect()
}

#[test]
fn running_parent_keeps_only_its_capabilities_and_holds_no_socket_it_handed_out() {
    let lab = Lab::new();
    let config = single_prefix_config("r0", "2001:db8:1::/64", 3600, 1800, 1200);
    let _radvd = Radvd::start(&lab.router, lab.dir.path(), &config);
    let slaacd = Slaacd::start(&lab.host, lab.dir.path(), &["h0"]);
    lab.host.ip(&["link", "set", "h0", "up"]);
    wait_for("the daemon to start", Duration::from_secs(15), || {
        slaacd.log().contains("slaacd: INFO started").then_some(())
    });
    let pid = slaacd.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert_eq!(status_field(&status, "Seccomp"), ["2"], "{status}");
    assert_eq!(status_field(&status, "NoNewPrivs"), ["1"], "{status}");
    assert_eq!(
        status_field(&status, "Uid"),
        ["0", "0", "0", "0"],
        "{status}"
    );
    for key in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(
            status_field(&status, key),
            [PARENT_CAPABILITIES],
            "{key}:\n{status}"
        );
    }
    for key in ["CapInh", "CapAmb"] {
        assert_eq!(
            status_field(&status, key),
            ["0000000000000000"],
            "{key}:\n{status}"
        );
    }
    // The ICMPv6 and packet sockets went to the frontend and are closed here.
    let held = socket_inodes(pid);
    for table in ["raw6", "packet"] {
        let listed = namespace_socket_inodes(pid, table);
        assert!(
            !listed.is_empty(),
            "the frontend's {table} socket is not listed"
        );
        assert!(
            held.iter().all(|inode| !listed.contains(inode)),
            "the parent still holds a {table} socket: {held:?} among {listed:?}"
        );
    }
    // Confined in the default (kill) mode, it still applies what the engine proposes.
    wait_for("the SLAAC address", Duration::from_secs(15), || {
        let shown = lab
            .host
            .ip(&["-6", "addr", "show", "dev", "h0", "scope", "global"]);
        shown.contains("2001:db8:1:").then_some(())
    });
    assert!(is_alive(pid), "the parent died:\n{}", slaacd.log());
    let log = slaacd.log();
    let confined = log
        .lines()
        .find(|line| line.contains("slaacd: INFO confined"))
        .unwrap_or_else(|| panic!("the parent did not log its confinement:\n{log}"));
    for part in [
        "landlock_abi=\"v6\"",
        "landlock=Full",
        "capabilities=[CAP_NET_ADMIN, CAP_KILL]",
        "/proc/sys/net/ipv6/conf:rw",
    ] {
        assert!(confined.contains(part), "{part} missing from: {confined}");
    }
    assert!(!confined.contains("exec"), "{confined}");
}

/// A child that does not exit when its channel closes (stopped here) is killed once the grace
/// period is over: the confined parent can still signal its children. Seccomp lets kill through
/// for their pids; Landlock's signal scope, which would refuse it (the children run outside
/// the parent's domain), is left off for the parent.
#[test]
fn a_stopped_child_is_killed_after_the_grace_period() {
    let lab = Lab::new();
    let mut slaacd = Slaacd::start(&lab.host, lab.dir.path(), &["h0"]);
    wait_for("the daemon to start", Duration::from_secs(15), || {
        slaacd.log().contains("slaacd: INFO started").then_some(())
    });
    let engine = children_of(slaacd.pid())
        .into_iter()
        .find(|pid| name_of(*pid).as_deref() == Some("slaacd-engine"))
        .unwrap_or_else(|| panic!("no engine:\n{}", slaacd.log()));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(engine as i32), Signal::SIGSTOP).unwrap();
    // The parent waits 5 s for the engine, then kills it; stop_with waits 10 s.
    let status = slaacd.stop_with(Signal::SIGTERM);
    let log = slaacd.log();
    assert!(status.success(), "status {status}:\n{log}");
    assert!(
        log.contains("slaacd-engine did not exit; killing it"),
        "{log}"
    );
    assert!(!is_alive(engine), "the stopped engine outlived the parent");
}

/// Where resolvconf implementations keep their state, which the backend lets its helper write.
const RESOLVCONF_STATE: &str = "/run/resolvconf";

/// Whether /run/resolvconf was there before the first test of this process made its own.
static MACHINE_HAS_RESOLVCONF_STATE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// A directory of the test's own in /run/resolvconf, and one in /run for the fake program;
/// removed when dropped, with /run/resolvconf when the machine had none and no other test
/// still uses it.
struct ResolvconfDirectories {
    program_dir: std::path::PathBuf,
    state: std::path::PathBuf,
}

impl ResolvconfDirectories {
    fn new() -> Self {
        // Tests run in parallel: a directory pair each.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let id = format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        MACHINE_HAS_RESOLVCONF_STATE
            .get_or_init(|| std::path::Path::new(RESOLVCONF_STATE).exists());
        let program_dir = std::path::PathBuf::from(format!("/run/slaacd-confinement-{id}"));
        let state = std::path::Path::new(RESOLVCONF_STATE).join(format!("slaacd-confinement-{id}"));
        std::fs::create_dir_all(&program_dir).expect("creating a directory in /run");
        std::fs::create_dir_all(state.join("records")).expect("creating a directory in /run");
        Self { program_dir, state }
    }
}

impl Drop for ResolvconfDirectories {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.program_dir);
        let _ = std::fs::remove_dir_all(&self.state);
        if MACHINE_HAS_RESOLVCONF_STATE.get() == Some(&false) {
            // Fails, as it should, while another test still has a directory there.
            let _ = std::fs::remove_dir(RESOLVCONF_STATE);
        }
    }
}

/// The daemon for h0 with the resolvconf backend and a fake resolvconf in `directories`, a shell
/// script that runs `cat` and `rm` as resolvconf implementations do; logging to `log_path`.
fn start_with_resolvconf(
    lab: &Lab,
    directories: &ResolvconfDirectories,
    options: &[&str],
    log_path: &std::path::Path,
) -> Guarded {
    use std::os::unix::fs::PermissionsExt;

    let program = directories.program_dir.join("resolvconf");
    let script = format!(
        "#!/bin/sh\n\
         echo \"$*\" >> '{dir}/calls'\n\
         case \"$1\" in\n\
         -a) cat > '{dir}/records/'\"$2\" ;;\n\
         -d) rm -f '{dir}/records/'\"$2\" ;;\n\
         esac\n",
        dir = directories.state.display()
    );
    std::fs::write(&program, script).unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    require_user();
    let mut command = lab.host.command(binary("slaacd").to_str().unwrap());
    command
        .arg("-d")
        .arg("-v")
        .args(options)
        .arg("-s")
        .arg(lab.dir.path().join("slaacd.sock"))
        .arg("-K")
        .arg(lab.dir.path().join("soii.key"))
        .arg("-r")
        .arg(format!("resolvconf={}", program.display()))
        .arg("h0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log_path).unwrap());
    Guarded::new(command.spawn().expect("starting slaacd"))
}

/// The parent's child that runs as its resolvconf helper (slaacd in its hidden helper mode).
fn resolvconf_helper_of(parent: u32) -> Option<u32> {
    children_of(parent).into_iter().find(|child| {
        std::fs::read(format!("/proc/{child}/cmdline"))
            .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains("--resolvconf-helper"))
    })
}

/// With the resolvconf backend the confined parent may not execute anything: resolvconf runs in
/// the helper it started before confining itself, which is root without any capability,
/// confined with exec but no socket family. The record still comes and goes.
#[test]
fn resolvconf_runs_in_its_helper_and_the_parent_keeps_no_exec() {
    let lab = Lab::new();
    let directories = ResolvconfDirectories::new();
    let config = single_prefix_config("r0", "2001:db8:1::/64", 3600, 1800, 1200);
    let _radvd = Radvd::start(&lab.router, lab.dir.path(), &config);
    let log_path = lab.dir.path().join("slaacd.log");
    let mut slaacd = start_with_resolvconf(&lab, &directories, &[], &log_path);
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    lab.host.ip(&["link", "set", "h0", "up"]);

    let record = directories.state.join("records").join("h0.slaacd");
    wait_for("the resolvconf record", Duration::from_secs(20), || {
        std::fs::read_to_string(&record)
            .ok()
            .filter(|lines| lines.contains("nameserver 2001:db8:1::53"))
    });
    // Stopped only once the change is complete: one cut off by the stop stays for the next
    // start to clear (the resolver's tests show that).
    wait_for("the DNS change to finish", Duration::from_secs(10), || {
        log()
            .contains("slaacd: DEBUG DNS configuration applied")
            .then_some(())
    });
    assert!(is_alive(slaacd.pid()), "the parent died:\n{}", log());
    let logged = log();
    let confined = |process: &str| {
        logged
            .lines()
            .find(|line| line.contains(&format!("{process}: INFO confined")))
            .unwrap_or_else(|| panic!("{process} did not log its confinement:\n{logged}"))
    };
    let parent = confined("slaacd");
    assert!(!parent.contains("exec"), "{parent}");
    assert!(!parent.contains(":rx"), "the parent may execute: {parent}");
    assert!(!parent.contains("resolvconf"), "{parent}");
    let helper_line = confined("slaacd-resolvconf");
    for part in ["exec", "capabilities=[]", "/run/resolvconf:rwc"] {
        assert!(
            helper_line.contains(part),
            "{part} missing from: {helper_line}"
        );
    }
    for socket in ["inet", "unix", "route"] {
        assert!(!helper_line.contains(socket), "{socket} in: {helper_line}");
    }

    let helper = resolvconf_helper_of(slaacd.pid())
        .unwrap_or_else(|| panic!("no resolvconf helper among the parent's children"));
    let status = std::fs::read_to_string(format!("/proc/{helper}/status")).unwrap();
    assert_eq!(status_field(&status, "Seccomp"), ["2"], "{status}");
    assert_eq!(status_field(&status, "NoNewPrivs"), ["1"], "{status}");
    assert_eq!(
        status_field(&status, "Uid"),
        ["0", "0", "0", "0"],
        "{status}"
    );
    for key in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(
            status_field(&status, key),
            ["0000000000000000"],
            "{key}:\n{status}"
        );
    }

    slaacd.signal(Signal::SIGTERM);
    let status = slaacd
        .wait_timeout(Duration::from_secs(15))
        .unwrap_or_else(|| panic!("slaacd did not stop:\n{}", log()));
    assert!(status.success(), "status {status}:\n{}", log());
    let calls = std::fs::read_to_string(directories.state.join("calls")).unwrap_or_default();
    assert_eq!(
        calls.lines().last(),
        Some("-d h0.slaacd"),
        "the withdrawal at exit did not run: {calls}\n{}",
        log()
    );
    assert!(
        !record.exists(),
        "the record outlived the daemon:\n{}",
        log()
    );
    assert!(!is_alive(helper), "the helper outlived the daemon");
}

/// The parent's own exec escape fails with the resolvconf backend too.
#[test]
fn the_parent_cannot_exec_with_the_resolvconf_backend() {
    let lab = Lab::new();
    let directories = ResolvconfDirectories::new();
    let log_path = lab.dir.path().join("slaacd.log");
    let mut slaacd = start_with_resolvconf(
        &lab,
        &directories,
        &["--sandbox-violation=deny", "--confinement-self-test=exec"],
        &log_path,
    );
    let status = slaacd
        .wait_timeout(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("the self-test did not end"));
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(status.success(), "status {status}:\n{log}");
    assert_eq!(
        logged_outcome(&log, "exec").as_deref(),
        Some("blocked exec EPERM"),
        "{log}"
    );
    // The helper ran resolvconf for the parent before: the start clears a killed run's record.
    let calls = std::fs::read_to_string(directories.state.join("calls")).unwrap_or_default();
    assert_eq!(calls.lines().next(), Some("-d h0.slaacd -f"), "{log}");
}

/// A helper that dies stops the daemon, which names it, as when a child dies.
#[test]
fn the_daemon_stops_when_its_resolvconf_helper_dies() {
    let lab = Lab::new();
    let directories = ResolvconfDirectories::new();
    let log_path = lab.dir.path().join("slaacd.log");
    let mut slaacd = start_with_resolvconf(&lab, &directories, &[], &log_path);
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    wait_for("the daemon to start", Duration::from_secs(15), || {
        log().contains("slaacd: INFO started").then_some(())
    });
    let helper = resolvconf_helper_of(slaacd.pid())
        .unwrap_or_else(|| panic!("no resolvconf helper among the parent's children"));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(helper as i32), Signal::SIGKILL).unwrap();
    let status = slaacd
        .wait_timeout(Duration::from_secs(15))
        .unwrap_or_else(|| panic!("slaacd did not stop:\n{}", log()));
    assert_eq!(status.code(), Some(1), "status {status}:\n{}", log());
    let expected = format!(
        "slaacd: ERROR the resolvconf helper (pid {helper}) was killed by SIGKILL; stopping"
    );
    assert!(
        log().contains(&expected),
        "{expected} missing from:\n{}",
        log()
    );
}

/// A daemonized slaacd, which is not the test's child: killed by pid if a test fails.
struct Daemon(u32);

impl Drop for Daemon {
    fn drop(&mut self) {
        if is_alive(self.0) {
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.0 as i32), Signal::SIGKILL);
        }
    }
}

/// Without -d the command that starts slaacd returns only once the daemon says it started,
/// which it says after confining itself (pointing its output at /dev/null on the way).
#[test]
fn a_daemonized_parent_reports_its_start_once_confined() {
    use std::os::unix::fs::MetadataExt;

    let lab = Lab::new();
    require_user();
    let dir = lab.dir.path();
    // A file, not a pipe: the children keep the stderr they were started with, so a pipe
    // would not reach its end while they run.
    let log_path = dir.join("slaacd.log");
    let status = lab
        .host
        .command(binary("slaacd").to_str().unwrap())
        .arg("-v")
        .arg("-s")
        .arg(dir.join("slaacd.sock"))
        .arg("-K")
        .arg(dir.join("soii.key"))
        .arg("-r")
        .arg(format!("file={}", dir.join("resolv.conf").display()))
        .arg("h0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .status()
        .expect("starting slaacd");
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    // The lock file in the namespace's name names the daemon.
    let netns = std::fs::metadata(format!("/run/netns/{}", lab.host.name()))
        .expect("finding the namespace")
        .ino();
    let lock = format!("/run/slaacd/{netns}.lock");
    let pid: Option<u32> = std::fs::read_to_string(&lock)
        .ok()
        .and_then(|text| text.trim().parse().ok());
    let _daemon = pid.map(Daemon);
    assert!(status.success(), "status {status}:\n{}", log());
    let pid = pid.unwrap_or_else(|| panic!("no pid in {lock}"));
    let proc_status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert_eq!(
        status_field(&proc_status, "Seccomp"),
        ["2"],
        "{proc_status}"
    );
    assert_eq!(
        status_field(&proc_status, "CapBnd"),
        [PARENT_CAPABILITIES],
        "{proc_status}"
    );

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), Signal::SIGTERM).unwrap();
    wait_for("the daemon to stop", Duration::from_secs(15), || {
        (!is_alive(pid)).then_some(())
    });
}
