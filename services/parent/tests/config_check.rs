//! `slaacd -n`: checks the configuration file and the command line, prints
//! nothing but the problem (or, with -v, the configuration it would run
//! with) and exits 0 or 1, without root and without starting anything.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A directory of the test's own, removed when dropped.
struct TestDir(PathBuf);

impl TestDir {
    fn new(name: &str) -> TestDir {
        let path =
            std::env::temp_dir().join(format!("slaacd-config-check-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).expect("creating the test directory");
        TestDir(path)
    }

    /// Writes `text` to the file `name` in the directory.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("writing the configuration");
        path
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A user and group that exist on every Debian system, for the checks of
/// `user` and `group`: the checks do not depend on the test's privileges.
const USER: &str = "nobody";

fn slaacd(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slaacd"));
    command.args(args);
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("running slaacd")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `slaacd -n ARGS` and returns stdout, failing the test if it did not
/// exit 0 or said anything on stderr.
fn check_ok(args: &[&str]) -> String {
    let output = run(slaacd(&["-n"]).args(args));
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "slaacd -n {args:?}: {}\n{}",
        output.status,
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Runs `slaacd -n ARGS` and returns what it said on stderr, failing the
/// test unless it exited 1 with nothing on stdout.
fn check_fails(args: &[&str]) -> String {
    let output = run(slaacd(&["-n"]).args(args));
    assert_eq!(
        output.status.code(),
        Some(1),
        "slaacd -n {args:?}: {}\n{}",
        output.status,
        text(&output.stderr)
    );
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    text(&output.stderr)
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

const VALID: &str = "\
# comments and blank lines are fine

user nobody
max-routers 4
interface \"veth7\" {
\tidentifier eui64
\tmetric 512
}
";

#[test]
fn a_valid_configuration_prints_nothing_and_exits_0() {
    let dir = TestDir::new("valid");
    let file = dir.file("slaacd.conf", VALID);
    assert_eq!(check_ok(&["-f", path(&file)]), "");
    assert_eq!(
        check_ok(&["-f", path(&file), "-o", "veth7:metric=9", "eth0"]),
        ""
    );
}

#[test]
fn with_v_it_prints_the_effective_configuration_which_reads_back_the_same() {
    let dir = TestDir::new("verbose");
    let file = dir.file("slaacd.conf", VALID);
    let printed = check_ok(&[
        "-v",
        "-f",
        path(&file),
        "-T",
        "-g",
        "7",
        "-r",
        "file=/tmp/x",
        "-o",
        "eth0:identifier=eui64",
        "eth1",
    ]);
    let expected = "\
user nobody
group 7
socket /run/slaacd/slaacd.sock
key-file /var/lib/slaacd/soii.key
resolver file=/tmp/x
max-routers 4
max-prefixes 16
max-addresses 16
max-routes 64
max-dns-servers 8
max-search-domains 8

interface eth1 {
\tidentifier stable
\ttemporary-addresses no
\tmetric 1024
\tmax-routers 4
\tmax-prefixes 16
\tmax-addresses 16
\tmax-routes 64
\tmax-dns-servers 8
\tmax-search-domains 8
}

interface veth7 {
\tidentifier eui64
\ttemporary-addresses no
\tmetric 512
\tmax-routers 4
\tmax-prefixes 16
\tmax-addresses 16
\tmax-routes 64
\tmax-dns-servers 8
\tmax-search-domains 8
}

interface eth0 {
\tidentifier eui64
\ttemporary-addresses no
\tmetric 1024
\tmax-routers 4
\tmax-prefixes 16
\tmax-addresses 16
\tmax-routes 64
\tmax-dns-servers 8
\tmax-search-domains 8
}
";
    assert_eq!(printed, expected);
    let again = dir.file("printed.conf", &printed);
    assert_eq!(check_ok(&["-v", "-f", path(&again)]), expected);
}

#[test]
fn caps_are_set_per_interface_and_printed_in_each_block() {
    let dir = TestDir::new("caps");
    let file = dir.file(
        "slaacd.conf",
        "max-routers 3\nmax-dns-servers 2\n\
         interface h0 {\n\tmax-routers 1\n\tmax-routes 5\n}\n\
         interface h1 {\n\tmax-prefixes 4\n}\n",
    );
    let printed = check_ok(&[
        "-v",
        "-u",
        USER,
        "-f",
        path(&file),
        "-o",
        "h1:max-routers=2",
        "-o",
        "max-routes=7",
        "h2",
    ]);
    let expected = "\
user nobody
group 0
socket /run/slaacd/slaacd.sock
key-file /var/lib/slaacd/soii.key
resolver auto
max-routers 3
max-prefixes 16
max-addresses 16
max-routes 7
max-dns-servers 2
max-search-domains 8

interface h2 {
\tidentifier stable
\ttemporary-addresses yes
\tmetric 1024
\tmax-routers 3
\tmax-prefixes 16
\tmax-addresses 16
\tmax-routes 7
\tmax-dns-servers 2
\tmax-search-domains 8
}

interface h0 {
\tidentifier stable
\ttemporary-addresses yes
\tmetric 1024
\tmax-routers 1
\tmax-prefixes 16
\tmax-addresses 16
\tmax-routes 7
\tmax-dns-servers 2
\tmax-search-domains 8
}

interface h1 {
\tidentifier stable
\ttemporary-addresses yes
\tmetric 1024
\tmax-routers 2
\tmax-prefixes 4
\tmax-addresses 16
\tmax-routes 7
\tmax-dns-servers 2
\tmax-search-domains 8
}
";
    assert_eq!(printed, expected);
    let again = dir.file("printed.conf", &printed);
    assert_eq!(check_ok(&["-v", "-u", USER, "-f", path(&again)]), expected);
    assert_eq!(
        check_fails(&["-f", path(&file), "-o", "h0:max-routers=2000"]),
        "slaacd: -o h0:max-routers=2000: max-routers must be a number from 1 to 1024, \
         not \"2000\"\n"
    );
}

#[test]
fn problems_in_the_file_name_file_line_and_column() {
    let dir = TestDir::new("problems");
    let cases = [
        (
            "metric 5\ninterface eth0 {\n\tmetrik 7\n}\n",
            ":3:2: unknown option \"metrik\"; expected one of identifier, \
             temporary-addresses, metric, max-routers, max-prefixes, max-addresses, max-routes, \
             max-dns-servers, max-search-domains",
        ),
        (
            "interface eth0 {\n\tmetric 0\n}\n",
            ":2:9: metric must be a number from 1 to 4294967295, not \"0\"",
        ),
        (
            "interface eth0 {\n\tsocket /run/s\n}\n",
            ":2:2: socket applies to the whole daemon, not to one interface; \
             set it outside interface blocks",
        ),
        (
            "interface eth0 {\n\tmax-routes 0\n}\n",
            ":2:13: max-routes must be a number from 1 to 1024, not \"0\"",
        ),
        (
            "interface eth0 {\n\tidentifier eui64\n",
            ":2:18: the block of interface \"eth0\" (line 1) is not closed with \"}\"",
        ),
    ];
    for (i, (content, problem)) in cases.into_iter().enumerate() {
        let file = dir.file(&format!("case{i}.conf"), content);
        assert_eq!(
            check_fails(&["-f", path(&file)]),
            format!("slaacd: {}{problem}\n", file.display()),
            "{content}"
        );
    }
}

#[test]
fn problems_on_the_command_line_name_the_argument() {
    let dir = TestDir::new("command-line");
    let file = dir.file("empty.conf", "");
    let file = path(&file);
    assert_eq!(
        check_fails(&["-f", file, "-o", "eth0:metric=-1", "eth0"]),
        "slaacd: -o eth0:metric=-1: metric must be a number from 1 to 4294967295, not \"-1\"\n"
    );
    assert_eq!(
        check_fails(&["-f", file, "-o", "eth0:identifier", "eth0"]),
        "slaacd: -o eth0:identifier: expected [interface:]option=value, e.g. eth0:metric=512\n"
    );
    assert_eq!(
        check_fails(&["-f", file, "-K", "soii.key", "eth0"]),
        "slaacd: -K soii.key: key-file must be an absolute path, not \"soii.key\"\n"
    );
    assert_eq!(
        check_fails(&["-f", file, "eth0/1"]),
        "slaacd: eth0/1: invalid interface name \"eth0/1\": it may not hold '/', ':', blanks \
         or control characters\n"
    );
    assert_eq!(
        check_fails(&["-f", file]),
        format!(
            "slaacd: no interface to manage: name one on the command line or in an interface \
             block of {file}\n"
        )
    );
}

#[test]
fn a_missing_named_file_is_an_error() {
    let dir = TestDir::new("missing");
    let missing = dir.0.join("nothing.conf");
    assert_eq!(
        check_fails(&["-f", path(&missing), "eth0"]),
        format!(
            "slaacd: {}: No such file or directory (os error 2)\n",
            missing.display()
        )
    );
}

#[test]
fn the_user_and_group_must_exist() {
    let dir = TestDir::new("user");
    let file = dir.file(
        "slaacd.conf",
        "user no-such-user-slaacd\ninterface eth0 {}\n",
    );
    let stderr = check_fails(&["-f", path(&file)]);
    assert!(stderr.contains("no-such-user-slaacd"), "{stderr}");
    let file = dir.file(
        "group.conf",
        "group no-such-group-slaacd\ninterface eth0 {}\n",
    );
    let stderr = check_fails(&["-f", path(&file), "-u", USER]);
    assert_eq!(
        stderr,
        "slaacd: control socket group no-such-group-slaacd does not exist\n"
    );
}

#[test]
fn the_check_needs_no_root() {
    let dir = TestDir::new("unprivileged");
    let file = dir.file("slaacd.conf", VALID);
    let nobody = nix::unistd::User::from_name(USER)
        .expect("reading the user database")
        .expect("the nobody user exists");
    let mut command = slaacd(&["-n", "-f", path(&file)]);
    if nix::unistd::geteuid().is_root() {
        command.uid(nobody.uid.as_raw()).gid(nobody.gid.as_raw());
    }
    let output = run(&mut command);
    assert!(
        output.status.success() && output.stderr.is_empty() && output.stdout.is_empty(),
        "{}: {}",
        output.status,
        text(&output.stderr)
    );
    // Without -n, the same user is refused: the check really ran unprivileged.
    let mut command = slaacd(&["-f", path(&file)]);
    if nix::unistd::geteuid().is_root() {
        command.uid(nobody.uid.as_raw()).gid(nobody.gid.as_raw());
    }
    let output = run(&mut command);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stderr), "slaacd: need root privileges\n");
}

#[test]
fn the_example_configuration_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/slaacd.conf");
    let printed = check_ok(&["-v", "-u", USER, "-f", path(&example)]);
    assert!(
        printed.contains(
            "interface eth0 {\n\tidentifier eui64\n\ttemporary-addresses no\n\tmetric 2048\n\
             \tmax-routers 2\n\tmax-prefixes 16\n"
        ),
        "{printed}"
    );
}
