//! Dropping to an unprivileged user, no_new_privs and resource limits, observed from inside a
//! process that did it. The user is Debian's `nobody`, which every test machine has.

mod child;

use std::fs::File;
use std::io::Write;

use nix::errno::Errno;
use nix::sys::resource::{Resource, getrlimit};
use nix::unistd::{self, Uid, User};
use slaacd_sandbox::{ResourceLimits, SandboxError, drop_privileges, limit_resources};

const UNPRIVILEGED: &str = "nobody";

/// Fails with a clear message when the test needs root and does not have it.
fn require_root(test: &str) {
    assert!(
        unistd::geteuid().is_root(),
        "{test} must run as root (it changes user ids); run the tests as root"
    );
}

#[test]
fn missing_user_says_how_to_create_it() {
    let error = drop_privileges("_slaacd_test_no_such_user").unwrap_err();
    assert!(matches!(error, SandboxError::UserMissing { .. }));
    assert_eq!(
        error.to_string(),
        "user _slaacd_test_no_such_user does not exist; create it with: useradd --system \
         --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin _slaacd_test_no_such_user"
    );
}

#[test]
fn refuses_a_user_with_uid_zero() {
    let error = drop_privileges("root").unwrap_err();
    assert!(
        matches!(error, SandboxError::UserIsPrivileged { uid: 0, .. }),
        "{error}"
    );
}

#[test]
fn drops_to_the_user_for_good() {
    const TEST: &str = "drops_to_the_user_for_good";
    if child::is_child_for(TEST) {
        let nobody = User::from_name(UNPRIVILEGED).unwrap().unwrap();
        drop_privileges(UNPRIVILEGED).unwrap();
        let uids = unistd::getresuid().unwrap();
        let gids = unistd::getresgid().unwrap();
        assert_eq!([uids.real, uids.effective, uids.saved], [nobody.uid; 3]);
        assert_eq!([gids.real, gids.effective, gids.saved], [nobody.gid; 3]);
        assert_eq!(unistd::getgroups().unwrap(), vec![nobody.gid]);
        assert_eq!(std::env::current_dir().unwrap(), std::path::Path::new("/"));
        assert_eq!(unistd::seteuid(Uid::from_raw(0)), Err(Errno::EPERM));
        assert_eq!(unistd::setuid(Uid::from_raw(0)), Err(Errno::EPERM));
        let shadow = File::open("/etc/shadow").unwrap_err();
        assert_eq!(shadow.raw_os_error(), Some(libc::EACCES), "{shadow}");
        return;
    }
    require_root(TEST);
    child::assert_passed(TEST, &child::run(TEST));
}

#[test]
fn no_processes_once_unprivileged() {
    const TEST: &str = "no_processes_once_unprivileged";
    if child::is_child_for(TEST) {
        drop_privileges(UNPRIVILEGED).unwrap();
        limit_resources(&ResourceLimits {
            processes: Some(0),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(getrlimit(Resource::RLIMIT_NPROC).unwrap(), (0, 0));
        let spawn = std::process::Command::new("/bin/true").spawn().unwrap_err();
        assert_eq!(spawn.raw_os_error(), Some(libc::EAGAIN), "{spawn}");
        return;
    }
    require_root(TEST);
    child::assert_passed(TEST, &child::run(TEST));
}

confined_test!(open_files_limit_is_enforced, {
    limit_resources(&ResourceLimits {
        open_files: Some(16),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(getrlimit(Resource::RLIMIT_NOFILE).unwrap(), (16, 16));
    let mut files = Vec::new();
    let error = loop {
        match File::open("/dev/null") {
            Ok(file) => files.push(file),
            Err(error) => break error,
        }
        assert!(
            files.len() < 16,
            "opened {} files under a limit of 16",
            files.len()
        );
    };
    assert_eq!(error.raw_os_error(), Some(libc::EMFILE), "{error}");
});

confined_test!(file_size_limit_stops_writes, {
    let path = std::env::temp_dir().join(format!("slaacd-sandbox-fsize-{}", std::process::id()));
    let mut file = File::create(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    // SAFETY: ignoring SIGXFSZ installs no handler code; the write then fails with EFBIG.
    unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::SIGXFSZ,
            nix::sys::signal::SigHandler::SigIgn,
        )
    }
    .unwrap();
    limit_resources(&ResourceLimits {
        file_size: Some(0),
        ..Default::default()
    })
    .unwrap();
    let error = file.write_all(b"x").unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::EFBIG), "{error}");
});

confined_test!(no_new_privs_is_set_and_stays, {
    assert!(!nix::sys::prctl::get_no_new_privs().unwrap());
    slaacd_sandbox::set_no_new_privs().unwrap();
    assert!(nix::sys::prctl::get_no_new_privs().unwrap());
});
