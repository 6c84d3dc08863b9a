//! Runs one test of this binary in a fresh copy of itself, so that a test can confine its
//! whole process (seccomp, Landlock, user ids and limits cannot be undone) without touching
//! the test runner or the other tests. The confined copy asserts from inside; the outer test
//! checks that the copy really ran that one test and how it ended.

use std::process::{Command, Output};

/// Set in the copy's environment to the name of the test it must run confined.
pub const CHILD_TEST: &str = "SLAACD_SANDBOX_CHILD_TEST";

/// Whether this process is the copy started for `test`.
pub fn is_child_for(test: &str) -> bool {
    std::env::var(CHILD_TEST).as_deref() == Ok(test)
}

/// Starts a copy of this test binary that runs only `test`, and waits for it.
pub fn run(test: &str) -> Output {
    let exe = std::env::current_exe().expect("path of the running test binary");
    Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_TEST, test)
        .output()
        .expect("start a copy of the test binary")
}

/// Asserts the copy ran exactly one test and passed.
pub fn assert_passed(test: &str, output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "confined copy of {test} did not pass ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

/// Declares a test whose body runs in a confined copy of the test binary.
#[macro_export]
macro_rules! confined_test {
    ($name:ident, $body:block) => {
        #[test]
        fn $name() {
            if child::is_child_for(stringify!($name)) {
                $body
                return;
            }
            let output = child::run(stringify!($name));
            child::assert_passed(stringify!($name), &output);
        }
    };
}
