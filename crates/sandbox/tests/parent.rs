//! What the parent's confinement leaves a root process, observed from inside a copy of this
//! test binary that did it: only the named capabilities in every set, and no confinement at
//! all while a second thread runs (Landlock would restrict only the calling one).

mod child;

use std::os::unix::fs::MetadataExt;

use nix::errno::Errno;
use slaacd_sandbox::{
    Capability, ParentProfile, SandboxError, Unveil, Violation, confine_parent,
    keep_only_capabilities,
};

/// The "Key:" value of the calling thread's status: capability sets belong to threads, and the
/// test runs on one the test harness started.
fn status_field(key: &str) -> String {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in:\n{status}"))
        .trim()
        .to_owned()
}

fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the capability tests must run as root"
    );
}

confined_test!(only_the_named_capabilities_stay_in_every_set, {
    require_root();
    keep_only_capabilities(&[Capability::CAP_NET_ADMIN, Capability::CAP_KILL]).unwrap();
    for key in ["CapPrm", "CapEff", "CapBnd"] {
        // CAP_KILL is bit 5, CAP_NET_ADMIN bit 12.
        assert_eq!(status_field(key), "0000000000001020", "{key}");
    }
    for key in ["CapInh", "CapAmb"] {
        assert_eq!(status_field(key), "0000000000000000", "{key}");
    }
    // Still root, but giving a file away needs CAP_CHOWN, which is gone.
    let path = std::env::temp_dir().join(format!("slaacd-caps-{}", std::process::id()));
    std::fs::write(&path, b"").unwrap();
    let chown = nix::unistd::chown(&path, Some(nix::unistd::Uid::from_raw(1)), None);
    let owner = std::fs::metadata(&path).unwrap().uid();
    std::fs::remove_file(&path).unwrap();
    assert_eq!((chown, owner), (Err(Errno::EPERM), 0));
});

confined_test!(
    a_second_thread_stops_the_parent_confinement_before_any_step,
    {
        require_root();
        let (started, wait) = std::sync::mpsc::channel::<()>();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            started.send(()).unwrap();
            let _ = stopped.recv();
        });
        wait.recv().unwrap();
        let profile = ParentProfile {
            promises: "stdio".into(),
            unveil: Unveil::new(),
            capabilities: Vec::new(),
        };
        let error = confine_parent(profile, Violation::Deny).unwrap_err();
        assert!(
            matches!(error, SandboxError::Threads(threads) if threads >= 2),
            "{error}"
        );
        // Nothing was dropped: the bounding set is still full.
        assert_ne!(status_field("CapBnd"), "0000000000000000");
        assert_eq!(status_field("Seccomp"), "0");
        stop.send(()).unwrap();
        thread.join().unwrap();
    }
);
