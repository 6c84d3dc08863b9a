//! `unveil` on Linux (Landlock), observed from inside a confined process: nothing unveiled
//! hides everything; an unveiled directory is visible with exactly the letters given.

mod child;

use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::PathBuf;

use slaacd_sandbox::{Enforcement, Unveil};

/// A directory private to one run of one test, removed by the outer process.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(test: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("slaacd-sandbox-{test}-{}", std::process::id()));
        fs::create_dir_all(&path).unwrap();
        fs::write(path.join("visible"), b"seen").unwrap();
        ScratchDir(path)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

confined_test!(nothing_unveiled_hides_the_file_system, {
    assert_eq!(
        Unveil::new().lock().unwrap(),
        Enforcement::Full,
        "kernel lacks Landlock ABI v6"
    );
    let error = File::open("/etc/hostname").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error}");
    let error = fs::read_dir("/").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error}");
});

#[test]
fn unveiled_directory_keeps_exactly_its_letters() {
    const TEST: &str = "unveiled_directory_keeps_exactly_its_letters";
    if child::is_child_for(TEST) {
        let dir = PathBuf::from(std::env::var("SCRATCH").unwrap());
        let mut unveil = Unveil::new();
        unveil.allow(&dir, "r").unwrap();
        assert_eq!(
            unveil.lock().unwrap(),
            Enforcement::Full,
            "kernel lacks Landlock ABI v6"
        );
        assert_eq!(fs::read(dir.join("visible")).unwrap(), b"seen");
        let create = File::create(dir.join("new")).unwrap_err();
        assert_eq!(create.kind(), ErrorKind::PermissionDenied, "{create}");
        let write = File::options()
            .append(true)
            .open(dir.join("visible"))
            .unwrap_err();
        assert_eq!(write.kind(), ErrorKind::PermissionDenied, "{write}");
        let outside = File::open("/etc/hostname").unwrap_err();
        assert_eq!(outside.kind(), ErrorKind::PermissionDenied, "{outside}");
        return;
    }
    let scratch = ScratchDir::new(TEST);
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new(exe)
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(child::CHILD_TEST, TEST)
        .env("SCRATCH", &scratch.0)
        .output()
        .unwrap();
    child::assert_passed(TEST, &output);
    assert!(!scratch.0.join("new").exists());
}

#[test]
fn unveiling_a_missing_path_names_it() {
    const TEST: &str = "unveiling_a_missing_path_names_it";
    if child::is_child_for(TEST) {
        let mut unveil = Unveil::new();
        unveil.allow("/nonexistent/slaacd", "r").unwrap();
        let error = unveil.lock().unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot unveil /nonexistent/slaacd: "),
            "{error}"
        );
        // The failed lock restricted nothing.
        File::open("/etc/hostname").unwrap();
        return;
    }
    child::assert_passed(TEST, &child::run(TEST));
}
