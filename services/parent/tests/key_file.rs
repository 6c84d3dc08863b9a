//! The RFC 7217 key file: created when missing (0600 file, 0700 directory, 64 hex digits and
//! a newline), read back unchanged, refused with a reason when malformed or too permissive,
//! and created once when several processes race.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use slaacd_parent::key::{self, KeyError};

struct TestDir(PathBuf);

impl TestDir {
    fn new() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let unique = format!(
            "slaacd-key-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&path).unwrap();
        TestDir(path)
    }

    /// Writes `content` as the key file with `mode` and returns its path.
    fn key_file(&self, content: &str, mode: u32) -> PathBuf {
        let path = self.0.join("soii.key");
        std::fs::write(&path, content).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
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

const VALID: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

#[test]
fn missing_file_is_created_private_and_read_back_unchanged() {
    let dir = TestDir::new();
    let path = dir.0.join("var/lib/slaacd/soii.key");
    let created = key::load_or_create(&path).unwrap();
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(&path), 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.len(), 65);
    assert!(text.ends_with('\n'));
    assert!(text[..64].bytes().all(|byte| byte.is_ascii_hexdigit()));
    assert_ne!(created.as_bytes(), &[0; key::KEY_LEN]);
    assert_eq!(key::load_or_create(&path).unwrap(), created);
    // Nothing but the key is left in the directory.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn existing_file_is_used_as_is() {
    let dir = TestDir::new();
    let path = dir.key_file(VALID, 0o600);
    let expected: Vec<u8> = (0..32).collect();
    assert_eq!(
        key::load_or_create(&path).unwrap().as_bytes().as_slice(),
        expected
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), VALID);
}

#[test]
fn malformed_files_are_refused_naming_file_and_problem() {
    let cases = [
        (
            "",
            "it has 0 characters before the newline; want 64 hex digits",
        ),
        (
            "0123\n",
            "it has 4 characters before the newline; want 64 hex digits",
        ),
        (&VALID.replace('a', "z"), "byte 21 ('z') is not a hex digit"),
        (
            &format!("{VALID}{VALID}"),
            "it is longer than 65 bytes; want 64 hex digits and a newline",
        ),
    ];
    for (content, problem) in cases {
        let dir = TestDir::new();
        let path = dir.key_file(content, 0o600);
        let error = key::load_or_create(&path).unwrap_err();
        assert!(matches!(error, KeyError::Malformed { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            format!("key file {} is malformed: {problem}", path.display())
        );
        // A bad file is never replaced.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), content);
    }
}

#[test]
fn group_or_other_access_is_refused() {
    for mode in [0o640, 0o604, 0o660, 0o602] {
        let dir = TestDir::new();
        let path = dir.key_file(VALID, mode);
        let error = key::load_or_create(&path).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "key file {} has mode {mode:04o}: group and others must have no access (chmod 600 it)",
                path.display()
            )
        );
    }
}

#[test]
fn a_symlink_or_directory_is_not_a_key_file() {
    let dir = TestDir::new();
    let target = dir.key_file(VALID, 0o600);
    let link = dir.0.join("link.key");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert!(matches!(
        key::load_or_create(&link).unwrap_err(),
        KeyError::Read { .. }
    ));
    let subdir = dir.0.join("subdir");
    std::fs::create_dir(&subdir).unwrap();
    std::fs::set_permissions(&subdir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(matches!(
        key::load_or_create(&subdir).unwrap_err(),
        KeyError::NotRegular { .. }
    ));
}

#[test]
fn racing_creators_all_get_the_first_key() {
    let dir = TestDir::new();
    let path = dir.0.join("keys/soii.key");
    let keys: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || key::load_or_create(&path).unwrap())
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect();
    let on_disk = key::load_or_create(&path).unwrap();
    assert!(keys.iter().all(|key| *key == on_disk));
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(names.len(), 1, "temporary files left behind: {names:?}");
}

#[test]
fn a_file_owned_by_someone_else_is_refused() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test must run as root (it chowns a file)"
    );
    let dir = TestDir::new();
    let path = dir.key_file(VALID, 0o600);
    std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
    let error = key::load_or_create(&path).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "key file {} is owned by uid 65534, not by uid 0",
            path.display()
        )
    );
}
