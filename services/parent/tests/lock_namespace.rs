//! The daemon lock: one holder per network namespace, a clear "already running" error naming
//! the file, release on drop, no collision between namespaces, and the pid it holds: the
//! taker's, then the daemon's once the daemon (a forked child holding the inherited
//! descriptor) records it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};
use slaacd_parent::lock::{self, LockError};

/// A directory private to one test, removed at the end.
struct TestDir(PathBuf);

impl TestDir {
    fn new() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let unique = format!(
            "slaacd-lock-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        TestDir(std::env::temp_dir().join(unique))
    }

    /// A lock directory that does not exist yet, two levels down.
    fn lock_dir(&self) -> PathBuf {
        self.0.join("run").join("slaacd")
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn creates_directory_and_file_named_for_the_namespace() {
    let dir = TestDir::new();
    let held = lock::acquire(&dir.lock_dir()).unwrap();
    let expected = dir
        .lock_dir()
        .join(format!("{}.lock", lock::netns_id().unwrap()));
    assert_eq!(held.path(), expected);
    assert_eq!(mode(&dir.lock_dir()), 0o755);
    assert_eq!(mode(&expected), 0o600);
    assert_eq!(
        std::fs::read_to_string(&expected).unwrap(),
        format!("{}\n", std::process::id())
    );
}

#[test]
fn second_start_is_already_running_naming_the_file() {
    let dir = TestDir::new();
    let held = lock::acquire(&dir.lock_dir()).unwrap();
    let error = lock::acquire(&dir.lock_dir()).unwrap_err();
    assert!(
        matches!(error, LockError::AlreadyRunning { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("already running"), "{message}");
    assert!(
        message.contains(&held.path().display().to_string()),
        "{message}"
    );
    // The loser did not disturb the holder's pid.
    assert_eq!(
        std::fs::read_to_string(held.path()).unwrap(),
        format!("{}\n", std::process::id())
    );
}

#[test]
fn dropping_the_lock_releases_it_and_keeps_the_file() {
    let dir = TestDir::new();
    let held = lock::acquire(&dir.lock_dir()).unwrap();
    let path = held.path().to_owned();
    drop(held);
    assert!(path.exists());
    lock::acquire(&dir.lock_dir()).unwrap();
}

#[test]
fn daemons_in_other_network_namespaces_do_not_collide() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test must run as root (it creates a network namespace)"
    );
    let dir = TestDir::new();
    let here = lock::acquire(&dir.lock_dir()).unwrap();
    let lock_dir = dir.lock_dir();
    let there = std::thread::spawn(move || {
        // This thread alone moves to a new, empty network namespace, gone when it ends.
        // SAFETY: unshare takes no pointers; it only changes this thread's namespace.
        let result = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(result, 0, "unshare: {}", std::io::Error::last_os_error());
        let there = lock::acquire(&lock_dir).unwrap();
        let second = lock::acquire(&lock_dir).unwrap_err();
        assert!(
            matches!(second, LockError::AlreadyRunning { .. }),
            "{second:?}"
        );
        there.path().to_owned()
    })
    .join()
    .unwrap();
    assert_ne!(here.path(), there);
}

#[test]
fn unusable_directory_is_named() {
    let dir = TestDir::new();
    std::fs::create_dir_all(&dir.0).unwrap();
    let not_a_dir = dir.0.join("file");
    std::fs::write(&not_a_dir, b"").unwrap();
    let error = lock::acquire(&not_a_dir).unwrap_err();
    assert!(matches!(error, LockError::Directory { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&not_a_dir.display().to_string()),
        "{error}"
    );
}

#[test]
fn a_longer_stale_pid_is_replaced_whole() {
    let dir = TestDir::new();
    std::fs::create_dir_all(dir.lock_dir()).unwrap();
    let path = dir
        .lock_dir()
        .join(format!("{}.lock", lock::netns_id().unwrap()));
    std::fs::write(&path, "4194304\n4194303\nleft by someone else\n").unwrap();
    let held = lock::acquire(&dir.lock_dir()).unwrap();
    assert_eq!(
        std::fs::read_to_string(held.path()).unwrap(),
        format!("{}\n", std::process::id())
    );
}

#[test]
fn a_forked_daemon_records_its_own_pid_without_nul_bytes() {
    let dir = TestDir::new();
    let held = lock::acquire(&dir.lock_dir()).unwrap();
    // The shared file offset stands past the first pid, so a write that does not start at
    // offset 0 would leave NUL bytes; the padding shows up if the tail is not cut off.
    std::fs::write(held.path(), "1\n".repeat(20)).unwrap();
    // SAFETY: the child only calls record_pid, which makes system calls and allocates nothing
    // until it fails, and then leaves with _exit, so the test runner's other threads (absent
    // in the child) are never needed.
    let daemon = match unsafe { fork() }.unwrap() {
        ForkResult::Child => {
            let code = if held.record_pid().is_ok() { 0 } else { 1 };
            // SAFETY: ends the forked copy without running the test runner's exit path.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => child,
    };
    assert_eq!(
        waitpid(daemon, None).unwrap(),
        WaitStatus::Exited(daemon, 0),
        "record_pid failed in the forked child"
    );
    let content = std::fs::read(held.path()).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&content),
        format!("{daemon}\n"),
        "the lock file must hold the daemon's pid alone"
    );
    // The pid went in through the descriptor the daemon inherited: the lock is still held.
    assert!(matches!(
        lock::acquire(&dir.lock_dir()),
        Err(LockError::AlreadyRunning { .. })
    ));
}
