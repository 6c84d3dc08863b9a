//! `daemonize`, observed from outside: the starting process exits 0 only once the daemon
//! reports it started, or 1 when it gives up; the daemon is in its own session, is not a
//! session leader, runs in `/`, and has its standard descriptors on /dev/null.
//!
//! daemonize refuses to run in a threaded process, and the test runner has threads, so each
//! scenario runs in a copy of this test binary (alone) which forks a single-threaded process
//! to be the "starting command".

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};
use slaacd_parent::daemon;

const CHILD_TEST: &str = "SLAACD_DAEMON_CHILD_TEST";
const START_DELAY: Duration = Duration::from_millis(300);

fn is_copy_for(test: &str) -> bool {
    std::env::var(CHILD_TEST).as_deref() == Ok(test)
}

/// Runs `test` alone in a copy of this binary and checks that it ran and passed.
fn run_copy(test: &str) -> Output {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_TEST, test)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "copy running {test} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Forks a single-threaded process that runs `starter` (which daemonizes), and returns how
/// that process ended and how long it took.
fn start(starter: impl FnOnce()) -> (WaitStatus, Duration) {
    let begun = Instant::now();
    // SAFETY: the test runner's main thread is parked waiting for this test (the copy runs one
    // test), and glibc's fork keeps malloc usable in the child; the child only runs `starter`.
    match unsafe { fork() }.unwrap() {
        ForkResult::Child => {
            // A panic must end this process too, not unwind into the test runner's copy.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(starter));
            // SAFETY: leave the forked copy without running the test runner's exit path.
            unsafe { libc::_exit(if outcome.is_ok() { 0 } else { 2 }) }
        }
        ForkResult::Parent { child } => (waitpid(child, None).unwrap(), begun.elapsed()),
    }
}

fn report_path() -> PathBuf {
    std::env::temp_dir().join(format!("slaacd-daemon-report-{}", std::process::id()))
}

/// Waits for the daemon's report, which ends with "end".
fn read_report(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.ends_with("end\n")
        {
            let _ = std::fs::remove_file(path);
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "the daemon wrote no report to {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn link(fd: i32) -> String {
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .map_or_else(|error| error.to_string(), |path| path.display().to_string())
}

#[test]
fn starter_exits_zero_once_the_daemon_has_started() {
    const TEST: &str = "starter_exits_zero_once_the_daemon_has_started";
    if !is_copy_for(TEST) {
        run_copy(TEST);
        return;
    }
    let report = report_path();
    let daemon_report = report.clone();
    let (status, waited) = start(move || {
        let readiness = daemon::daemonize().unwrap();
        std::thread::sleep(START_DELAY);
        readiness.started().unwrap();
        let text = format!(
            "pid {}\nsid {}\ncwd {}\nfds {} {} {}\nend\n",
            std::process::id(),
            nix::unistd::getsid(None).unwrap(),
            std::env::current_dir().unwrap().display(),
            link(0),
            link(1),
            link(2),
        );
        std::fs::write(daemon_report, text).unwrap();
    });
    assert!(
        matches!(status, WaitStatus::Exited(_, 0)),
        "starter ended with {status:?}"
    );
    assert!(
        waited >= START_DELAY,
        "starter exited after {waited:?}, before the daemon started"
    );
    let text = read_report(&report);
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_default()
            .to_owned()
    };
    let pid: i32 = field("pid").parse().unwrap();
    let sid: i32 = field("sid").parse().unwrap();
    assert_ne!(
        sid,
        nix::unistd::getsid(None).unwrap().as_raw(),
        "the daemon stayed in our session"
    );
    assert_ne!(
        pid, sid,
        "the daemon is a session leader and could acquire a terminal"
    );
    assert_eq!(field("cwd"), "/");
    assert_eq!(field("fds"), "/dev/null /dev/null /dev/null");
}

#[test]
fn starter_exits_one_when_the_daemon_gives_up() {
    const TEST: &str = "starter_exits_one_when_the_daemon_gives_up";
    if !is_copy_for(TEST) {
        let output = run_copy(TEST);
        // The daemon's error reached the terminal (here: the copy's stderr).
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("slaacd: cannot start: test failure"),
            "{stderr}"
        );
        return;
    }
    let (status, _) = start(|| {
        let readiness = daemon::daemonize().unwrap();
        eprintln!("slaacd: cannot start: test failure");
        drop(readiness);
    });
    assert!(
        matches!(status, WaitStatus::Exited(_, 1)),
        "starter ended with {status:?}"
    );
}

#[test]
fn refuses_to_fork_a_threaded_process() {
    // The test runner itself has more than one thread.
    let error = daemon::daemonize().unwrap_err();
    assert!(
        matches!(error, daemon::DaemonError::Threads(n) if n >= 2),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("daemonize before starting any thread"),
        "{error}"
    );
}
