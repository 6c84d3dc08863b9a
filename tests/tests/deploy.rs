//! The install step and the service files: the man pages pass `mandoc -T lint`,
//! `make install` puts every file where it belongs with its paths rewritten,
//! `systemd-analyze verify` accepts the installed unit, and the Debian init
//! script starts, reports and stops the installed daemon in a network
//! namespace, which finds its children relative to itself.
//!
//! `make install CARGO_PROFILE=dev` installs the binaries the other tests run
//! (`cargo build --workspace --bins` builds them first) and must not rebuild
//! them: with the default directories nothing is compiled into slaacd. The
//! one case that is, a LIBEXECDIR elsewhere, is checked with `make -n`.
//! Nothing is installed outside temporary directories, and the init script's
//! /etc/default/slaacd is a bind mount seen only inside the namespace's
//! private mount namespace.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use slaacd_tests::netns::{Netns, run};
use slaacd_tests::process::{children_of, is_alive, name_of};
use slaacd_tests::slaacd::{binary, require_user};
use slaacd_tests::{require_root, wait_for};
use tempfile::TempDir;

/// The workspace root, where the Makefile is.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

/// Runs a tool the deployment needs, failing with the package to install when
/// it is missing.
fn tool(program: &str, package: &str) -> Command {
    let found = Command::new("sh")
        .args(["-c", "command -v \"$1\"", "sh", program])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(found, "{program} is missing: apt-get install {package}");
    Command::new(program)
}

/// `make install PREFIX=prefix [DESTDIR=destdir]` of the dev-profile build,
/// which must find everything built already.
fn make_install(prefix: &Path, destdir: Option<&Path>) {
    let mut make = tool("make", "make");
    make.current_dir(workspace())
        .arg("install")
        .arg(format!("PREFIX={}", prefix.display()))
        .arg("CARGO_PROFILE=dev");
    if let Some(destdir) = destdir {
        make.arg(format!("DESTDIR={}", destdir.display()));
    }
    let output = make.output().expect("running make");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{make:?} failed ({}):\n{stderr}",
        output.status
    );
    // cargo says "Compiling" for each crate it builds, and nothing for one it
    // finds fresh.
    let compiled: Vec<&str> = stderr
        .lines()
        .filter(|line| line.trim_start().starts_with("Compiling "))
        .collect();
    assert!(
        compiled.is_empty(),
        "make install compiled what `cargo build --workspace --bins` should have built \
         (run that first; if it was, the Makefile builds differently):\n{}",
        compiled.join("\n")
    );
}

/// The build command `make -n all ARGS` would run.
fn planned_build(args: &[&str]) -> String {
    let mut make = tool("make", "make");
    make.current_dir(workspace()).args(["-n", "all"]).args(args);
    run(&mut make)
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|error| panic!("{} was not installed: {error}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// The messages of `mandoc -T lint` at level warning and above.
fn mandoc_lint(page: &Path) -> String {
    let output = tool("mandoc", "mandoc")
        .args(["-T", "lint", "-W", "warning"])
        .arg(page)
        .output()
        .expect("running mandoc");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn man_pages_pass_mandoc_lint() {
    for name in ["slaacd.8", "slaacctl.8", "slaacd.conf.5"] {
        let page = workspace().join("man").join(name);
        let messages = mandoc_lint(&page);
        assert!(messages.is_empty(), "mandoc -T lint {name}:\n{messages}");
    }
}

#[test]
fn make_install_puts_every_file_in_the_system_paths_for_prefix_usr() {
    let destdir = tempfile::tempdir().expect("creating DESTDIR");
    make_install(Path::new("/usr"), Some(destdir.path()));
    let root = destdir.path();

    let expected = [
        ("usr/sbin/slaacd", 0o755),
        ("usr/bin/slaacctl", 0o755),
        ("usr/libexec/slaacd/slaacd-frontend", 0o755),
        ("usr/libexec/slaacd/slaacd-engine", 0o755),
        ("usr/share/man/man8/slaacd.8", 0o644),
        ("usr/share/man/man8/slaacctl.8", 0o644),
        ("usr/share/man/man5/slaacd.conf.5", 0o644),
        ("usr/share/doc/slaacd/slaacd.conf", 0o644),
        ("usr/lib/systemd/system/slaacd.service", 0o644),
        ("etc/init.d/slaacd", 0o755),
        ("etc/default/slaacd", 0o644),
        ("usr/share/doc/slaacd/openbsd/slaacd", 0o755),
    ];
    for (path, mode) in expected {
        assert_eq!(mode_of(&root.join(path)), mode, "mode of {path}");
    }

    // What cargo built, unchanged: slaacd finds its children relative to
    // itself, so nothing had to be compiled in for this PREFIX.
    for (name, installed) in [
        ("slaacd", "usr/sbin/slaacd"),
        ("slaacctl", "usr/bin/slaacctl"),
        ("slaacd-frontend", "usr/libexec/slaacd/slaacd-frontend"),
        ("slaacd-engine", "usr/libexec/slaacd/slaacd-engine"),
    ] {
        let built = fs::read(binary(name)).expect("reading the built executable");
        let copy = fs::read(root.join(installed)).expect("reading the installed executable");
        assert!(built == copy, "{installed} is not the {name} cargo built");
    }

    // Every /usr/local path of the sources is rewritten for PREFIX=/usr.
    let unit = read(&root.join("usr/lib/systemd/system/slaacd.service"));
    assert!(unit.contains("\nExecStart=/usr/sbin/slaacd -d "), "{unit}");
    // The default control socket is in the one directory of /run the unit may write.
    assert!(unit.contains("\nRuntimeDirectory=slaacd\n"), "{unit}");
    assert!(
        !unit.contains(" -s "),
        "the unit moves the control socket:\n{unit}"
    );
    let init = read(&root.join("etc/init.d/slaacd"));
    assert!(init.contains("\nDAEMON=/usr/sbin/slaacd\n"), "{init}");
    let page = root.join("usr/share/man/man8/slaacd.8");
    assert!(read(&page).contains("/usr/libexec/slaacd/slaacd-frontend"));
    for path in [
        "usr/lib/systemd/system/slaacd.service",
        "etc/init.d/slaacd",
        "usr/share/man/man8/slaacd.8",
        "usr/share/man/man5/slaacd.conf.5",
        "usr/share/doc/slaacd/openbsd/slaacd",
    ] {
        let text = read(&root.join(path));
        assert!(
            !text.contains("/usr/local"),
            "{path} still names /usr/local"
        );
    }
    let messages = mandoc_lint(&page);
    assert!(messages.is_empty(), "installed slaacd.8:\n{messages}");
    let page = root.join("usr/share/man/man5/slaacd.conf.5");
    assert!(read(&page).contains("/usr/share/doc/slaacd/slaacd.conf"));
    let messages = mandoc_lint(&page);
    assert!(messages.is_empty(), "installed slaacd.conf.5:\n{messages}");

    // The shell completions, as committed, where each shell looks for them.
    for (committed, installed) in [
        (
            "bash/slaacd",
            "usr/share/bash-completion/completions/slaacd",
        ),
        (
            "bash/slaacctl",
            "usr/share/bash-completion/completions/slaacctl",
        ),
        ("zsh/_slaacd", "usr/share/zsh/site-functions/_slaacd"),
        ("zsh/_slaacctl", "usr/share/zsh/site-functions/_slaacctl"),
        (
            "fish/slaacd.fish",
            "usr/share/fish/vendor_completions.d/slaacd.fish",
        ),
        (
            "fish/slaacctl.fish",
            "usr/share/fish/vendor_completions.d/slaacctl.fish",
        ),
    ] {
        let path = root.join(installed);
        assert_eq!(mode_of(&path), 0o644, "mode of {installed}");
        assert_eq!(
            read(&path),
            read(&workspace().join("deploy/completions").join(committed)),
            "{installed}"
        );
    }
    // The example configuration, unchanged.
    assert_eq!(
        read(&root.join("usr/share/doc/slaacd/slaacd.conf")),
        read(&workspace().join("deploy/slaacd.conf"))
    );

    // A second install keeps the administrator's settings.
    let settings = root.join("etc/default/slaacd");
    fs::write(&settings, "SLAACD_INTERFACES=\"eth7\"\n").expect("editing the settings");
    make_install(Path::new("/usr"), Some(destdir.path()));
    assert_eq!(read(&settings), "SLAACD_INTERFACES=\"eth7\"\n");
}

#[test]
fn make_install_puts_the_service_files_in_the_documentation_for_other_prefixes() {
    let destdir = tempfile::tempdir().expect("creating DESTDIR");
    make_install(Path::new("/usr/local"), Some(destdir.path()));
    let doc = destdir.path().join("usr/local/share/doc/slaacd");
    for (path, mode) in [
        ("systemd/slaacd.service", 0o644),
        ("debian/slaacd.init", 0o755),
        ("debian/slaacd.default", 0o644),
        ("openbsd/slaacd", 0o755),
    ] {
        assert_eq!(mode_of(&doc.join(path)), mode, "mode of {path}");
    }
    assert_eq!(
        mode_of(&destdir.path().join("usr/local/sbin/slaacd")),
        0o755
    );
    for outside in ["etc", "usr/lib"] {
        assert!(
            !destdir.path().join(outside).exists(),
            "PREFIX=/usr/local installed into /{outside}"
        );
    }
}

#[test]
fn make_compiles_in_only_a_libexecdir_slaacd_cannot_find_by_itself() {
    for args in [
        &["PREFIX=/usr"][..],
        &[
            "PREFIX=/opt/slaacd",
            "LIBEXECDIR=/opt/slaacd/sbin/../libexec/slaacd/",
        ],
        &["PREFIX=/usr", "SBINDIR=/usr/bin"],
    ] {
        let plan = planned_build(args);
        assert!(
            plan.contains("cargo build"),
            "make -n all {args:?}:\n{plan}"
        );
        assert!(
            !plan.contains("SLAACD_LIBEXECDIR"),
            "make -n all {args:?} compiles in a directory slaacd finds by itself:\n{plan}"
        );
    }
    for (args, libexec) in [
        (
            &["PREFIX=/usr", "LIBEXECDIR=/usr/lib/slaacd"][..],
            "/usr/lib/slaacd",
        ),
        (&["PREFIX=/usr", "SBINDIR=/sbin"][..], "/usr/libexec/slaacd"),
    ] {
        let plan = planned_build(args);
        assert!(
            plan.contains(&format!("SLAACD_LIBEXECDIR='{libexec}' ")),
            "make -n all {args:?} does not compile in {libexec}:\n{plan}"
        );
    }
}

#[test]
fn systemd_analyze_verify_accepts_the_installed_unit() {
    let stage = tempfile::tempdir().expect("creating the installation directory");
    let prefix = stage.path().join("prefix");
    make_install(&prefix, None);
    let unit = prefix.join("share/doc/slaacd/systemd/slaacd.service");
    assert!(
        read(&unit).contains(&format!("\nExecStart={}/sbin/slaacd -d ", prefix.display())),
        "the unit does not start the installed slaacd"
    );
    // The man pages are not in MANPATH here; mandoc checks them above.
    let output = tool("systemd-analyze", "systemd")
        .args(["verify", "--man=no"])
        .arg(&unit)
        .output()
        .expect("running systemd-analyze");
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "systemd-analyze verify ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The Debian init script of the installation in `prefix`, run in a network
/// namespace with its own /etc/default/slaacd; `dir` holds the settings, the
/// daemon's socket and key, and the script's output.
struct InitScript {
    netns: Netns,
    prefix: PathBuf,
    script: PathBuf,
    dir: PathBuf,
}

impl InitScript {
    /// Runs `action` and asserts its exit status; returns what it printed.
    fn expect(&self, action: &str, status: i32) -> String {
        // A file, not a pipe: a daemon that never detaches from the pipe would
        // keep the test waiting for its end.
        let log_path = self.dir.join(format!("init-{action}.log"));
        let log = fs::File::create(&log_path).expect("creating the script's log");
        let mut command = self.netns.command("sh");
        // `ip netns exec` gives the command a private mount namespace: the bind
        // mount hides the machine's /etc/default from this command alone.
        command.args([
            "-c",
            r#"mount --bind "$1" /etc/default && exec timeout 60 sh "$2" "$3""#,
            "sh",
        ]);
        command
            .arg(self.dir.join("default"))
            .arg(&self.script)
            .arg(action)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("sharing the script's log"))
            .stderr(log);
        let code = command.status().expect("running the init script").code();
        let text = read(&log_path);
        assert_eq!(code, Some(status), "slaacd.init {action}:\n{text}");
        text
    }

    /// The pid in this namespace's lock file, which the script uses as pidfile.
    fn locked_pid(&self) -> u32 {
        let mut stat = self.netns.command("stat");
        stat.args(["-L", "-c", "%i", "/proc/self/ns/net"]);
        let inode = run(&mut stat);
        let lock = format!("/run/slaacd/{}.lock", inode.trim());
        read(Path::new(&lock))
            .trim()
            .parse()
            .unwrap_or_else(|error| panic!("no pid in {lock}: {error}"))
    }

    /// The running slaacd parents started with this test's socket.
    fn daemons(&self) -> Vec<u32> {
        let marker = self.dir.join("slaacd.sock");
        let marker = marker.as_os_str().as_encoded_bytes();
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| is_alive(pid) && name_of(pid).as_deref() == Some("slaacd"))
            .filter(|pid| {
                fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                    cmdline.windows(marker.len()).any(|window| window == marker)
                })
            })
            .collect()
    }

    /// The one daemon running, its two children, and the check that the lock
    /// file names it.
    fn running_daemon(&self) -> (u32, Vec<u32>) {
        let pid = wait_for("the daemon", Duration::from_secs(10), || {
            match self.daemons()[..] {
                [pid] => Some(pid),
                _ => None,
            }
        });
        let children = wait_for("the daemon's two children", Duration::from_secs(10), || {
            let children = children_of(pid);
            (children.len() == 2).then_some(children)
        });
        // The installed slaacd found them in the installation, not in the build.
        let libexec = self.prefix.join("libexec/slaacd");
        for child in &children {
            let program = fs::read_link(format!("/proc/{child}/exe"))
                .unwrap_or_else(|error| panic!("reading the program of pid {child}: {error}"));
            assert_eq!(
                program.parent(),
                Some(libexec.as_path()),
                "child {child} runs {}",
                program.display()
            );
        }
        assert_eq!(
            self.locked_pid(),
            pid,
            "the lock file does not name the running daemon: slaacd must write \
             its pid there after it daemonized"
        );
        (pid, children)
    }
}

impl Drop for InitScript {
    /// Kills, by pid, what a failed test left running.
    fn drop(&mut self) {
        for pid in self.daemons() {
            for child in children_of(pid) {
                let _ = kill(Pid::from_raw(child as i32), Signal::SIGKILL);
            }
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
    }
}

#[test]
fn init_script_starts_reports_and_stops_the_daemon_in_a_namespace() {
    require_root();
    require_user();
    let stage: TempDir = tempfile::tempdir().expect("creating the installation directory");
    let prefix = stage.path().join("prefix");
    make_install(&prefix, None);

    let netns = Netns::new("init");
    netns.ip(&["link", "add", "d0", "type", "veth", "peer", "name", "d1"]);
    netns.ip(&["link", "set", "d0", "up"]);
    netns.ip(&["link", "set", "d1", "up"]);
    let defaults = stage.path().join("default");
    fs::create_dir(&defaults).expect("creating the settings directory");
    // The socket and key stay in the test's directory, away from the machine's.
    fs::write(
        defaults.join("slaacd"),
        format!(
            "SLAACD_INTERFACES=\"d0\"\nSLAACD_OPTIONS=\"-s {dir}/slaacd.sock -K {dir}/soii.key -r file={dir}/resolv.conf\"\n",
            dir = stage.path().display()
        ),
    )
    .expect("writing the settings");
    let init = InitScript {
        netns,
        script: prefix.join("share/doc/slaacd/debian/slaacd.init"),
        prefix,
        dir: stage.path().to_path_buf(),
    };

    let status = init.expect("status", 3);
    assert!(status.contains("not running"), "{status}");

    // Without interfaces (none in the settings, no /etc/slaacd.conf) the
    // script refuses with slaacd -n's message and LSB's "not configured".
    let settings = defaults.join("slaacd");
    let configured = read(&settings);
    fs::write(&settings, configured.replace("\"d0\"", "\"\"")).expect("editing the settings");
    let refusal = init.expect("start", 6);
    assert!(refusal.contains("no interface to manage"), "{refusal}");
    assert!(
        init.daemons().is_empty(),
        "a daemon started without interfaces"
    );
    fs::write(&settings, configured).expect("restoring the settings");

    init.expect("start", 0);
    let (pid, children) = init.running_daemon();
    let status = init.expect("status", 0);
    assert!(status.contains(&format!("running (pid {pid})")), "{status}");

    // Starting a running daemon succeeds and leaves it alone.
    init.expect("start", 0);
    assert_eq!(init.running_daemon().0, pid);

    init.expect("restart", 0);
    let (new_pid, new_children) = init.running_daemon();
    assert_ne!(new_pid, pid, "restart kept the old daemon");
    for old in children.iter().chain([&pid]) {
        assert!(!is_alive(*old), "pid {old} outlived the restart");
    }

    init.expect("stop", 0);
    for gone in new_children.iter().chain([&new_pid]) {
        assert!(!is_alive(*gone), "pid {gone} outlived the stop");
    }
    let status = init.expect("status", 3);
    assert!(status.contains("not running"), "{status}");
    // Stopping a stopped daemon succeeds too.
    init.expect("stop", 0);
}
