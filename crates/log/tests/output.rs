//! What the log lines look like at each destination, observed from a fresh copy of this test
//! binary (logging is process-global, so every case gets its own process): the terminal,
//! the systemd journal, and syslog (through a private /dev/log in a private mount namespace).

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Output, Stdio};

use nix::sys::stat::fstat;

const CHILD_TEST: &str = "SLAACD_LOG_CHILD_TEST";

fn is_child_for(test: &str) -> bool {
    std::env::var(CHILD_TEST).as_deref() == Ok(test)
}

fn child_command(test: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_TEST, test)
        .env_remove("JOURNAL_STREAM");
    command
}

fn assert_passed(test: &str, output: &Output, stderr: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "copy running {test} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

/// The lines the copy logged, without libtest's own output.
fn logged_lines(stderr: &str, process: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|line| line.contains(process))
        .map(str::to_owned)
        .collect()
}

/// The events every child logs: one per level, and debug/trace again after raising verbosity.
fn log_sample(handle: &slaacd_log::LogHandle) {
    tracing::info!(interface = "eth0", "hello");
    tracing::warn!("careful");
    tracing::debug!("hidden debug");
    handle.set_verbosity(1).unwrap();
    assert_eq!(handle.verbosity(), 1);
    tracing::debug!("shown debug");
    tracing::trace!("hidden trace");
    handle.set_verbosity(2).unwrap();
    let span = tracing::info_span!("router", address = "fe80::1");
    span.in_scope(|| tracing::trace!("shown trace"));
    handle.set_verbosity(0).unwrap();
    tracing::debug!("hidden again");
}

#[test]
fn foreground_terminal_lines_name_the_process_with_timestamps() {
    const TEST: &str = "foreground_terminal_lines_name_the_process_with_timestamps";
    if is_child_for(TEST) {
        let handle = slaacd_log::try_init("slaacd-engine", true, 0).unwrap();
        log_sample(&handle);
        assert!(slaacd_log::try_init("slaacd-engine", true, 0).is_err());
        return;
    }
    let output = child_command(TEST).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_passed(TEST, &output, &stderr);
    let lines = logged_lines(&stderr, "slaacd-engine: ");
    let without_time: Vec<&str> = lines
        .iter()
        .map(|line| line.split_once(' ').map_or("", |(_, rest)| rest))
        .collect();
    assert_eq!(
        without_time,
        [
            "slaacd-engine: INFO hello interface=\"eth0\"",
            "slaacd-engine: WARN careful",
            "slaacd-engine: DEBUG shown debug",
            "slaacd-engine: TRACE router{address=\"fe80::1\"}: shown trace",
        ]
    );
    for line in &lines {
        let time = line.split_once(' ').unwrap().0;
        assert!(
            time.starts_with("20") && time.ends_with('Z'),
            "no timestamp in {line:?}"
        );
    }
}

#[test]
fn journal_lines_carry_priorities_and_no_timestamps() {
    const TEST: &str = "journal_lines_carry_priorities_and_no_timestamps";
    if is_child_for(TEST) {
        let handle = slaacd_log::try_init("slaacd-frontend", true, 0).unwrap();
        assert_eq!(
            slaacd_log::Destination::choose(true),
            slaacd_log::Destination::Journal
        );
        log_sample(&handle);
        return;
    }
    // Stand in for journald: a pipe whose identity goes into JOURNAL_STREAM.
    let (mut reader, writer): (std::fs::File, OwnedFd) = {
        let (read_end, write_end) = nix::unistd::pipe().unwrap();
        (read_end.into(), write_end)
    };
    let stat = fstat(writer.as_fd()).unwrap();
    let child = child_command(TEST)
        .env("JOURNAL_STREAM", format!("{}:{}", stat.st_dev, stat.st_ino))
        .stdout(Stdio::piped())
        .stderr(Stdio::from(writer))
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    reader.read_to_string(&mut stderr).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_passed(TEST, &output, &stderr);
    assert_eq!(
        logged_lines(&stderr, "slaacd-frontend: "),
        [
            "<6>slaacd-frontend: hello interface=\"eth0\"",
            "<4>slaacd-frontend: careful",
            "<7>slaacd-frontend: shown debug",
            "<7>slaacd-frontend: router{address=\"fe80::1\"}: shown trace",
        ]
    );
}

#[test]
fn a_journal_stream_that_is_not_stderr_is_ignored() {
    const TEST: &str = "a_journal_stream_that_is_not_stderr_is_ignored";
    if is_child_for(TEST) {
        assert_eq!(
            slaacd_log::Destination::choose(true),
            slaacd_log::Destination::Terminal
        );
        return;
    }
    let output = child_command(TEST)
        .env("JOURNAL_STREAM", "1:1")
        .output()
        .unwrap();
    assert_passed(TEST, &output, &String::from_utf8_lossy(&output.stderr));
}

#[test]
fn background_logs_go_to_syslog_as_daemon_with_ident_and_pid() {
    const TEST: &str = "background_logs_go_to_syslog_as_daemon_with_ident_and_pid";
    if is_child_for(TEST) {
        let log = private_dev_log();
        let handle = slaacd_log::try_init("slaacd-engine", false, 0).unwrap();
        // Logging must keep working once the process is confined as the services are.
        slaacd_sandbox::pledge("stdio", slaacd_sandbox::Violation::Kill).unwrap();
        tracing::info!("to syslog");
        tracing::debug!("not sent");
        handle.set_verbosity(1).unwrap();
        tracing::error!(interface = "eth0", "broken");
        let pid = std::process::id();
        // LOG_DAEMON is 3 << 3; info maps to LOG_NOTICE (5), error to LOG_ERR (3).
        let sent = [
            (29, "pledged promises=stdio violation=Kill"),
            (29, "to syslog"),
            (27, "broken interface=\"eth0\""),
        ];
        for (priority, text) in sent {
            let mut buffer = [0u8; 1024];
            let length = log.recv(&mut buffer).unwrap();
            let message = String::from_utf8_lossy(&buffer[..length]).into_owned();
            assert!(message.starts_with(&format!("<{priority}>")), "{message:?}");
            assert!(
                message.ends_with(&format!(" slaacd-engine[{pid}]: {text}")),
                "{message:?}"
            );
        }
        return;
    }
    assert!(
        nix::unistd::geteuid().is_root(),
        "{TEST} must run as root (it mounts a private /dev in its own mount namespace)"
    );
    let output = child_command(TEST).output().unwrap();
    assert_passed(TEST, &output, &String::from_utf8_lossy(&output.stderr));
}

/// Gives this thread its own mount namespace with an empty /dev holding a /dev/log socket
/// that this test reads, so nothing reaches the machine's syslog.
fn private_dev_log() -> UnixDatagram {
    use nix::mount::{MsFlags, mount};
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).unwrap();
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .unwrap();
    mount(
        Some("tmpfs"),
        "/dev",
        Some("tmpfs"),
        MsFlags::empty(),
        None::<&str>,
    )
    .unwrap();
    let socket = UnixDatagram::bind("/dev/log").unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    socket
}
