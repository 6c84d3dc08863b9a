//! The daemon lock: one holder per network namespace, a clear "already running" error naming
//! the file, release on drop, and no collision between namespaces.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

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
