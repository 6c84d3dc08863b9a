//! slaacctl against the real daemon: `log verbose|brief` switches the logging
//! of all three processes while they run, the control socket lets its
//! group `show` but only root or a process running as the group change
//! anything, and a managed interface that does not exist yet is named as
//! such, not as an unknown interface, until it does. Other users are run
//! with setpriv(1) under made-up ids, so the tests need no entry in the user
//! or group database.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Output;
use std::time::{Duration, Instant};

use slaacd_tests::lab::{Lab, router_namespace};
use slaacd_tests::netns::Netns;
use slaacd_tests::radvd::{Radvd, single_prefix_config};
use slaacd_tests::slaacd::{Slaacd, binary};
use slaacd_tests::{poll_until, wait_for};

/// The three processes, as each names itself at the start of its log lines.
const PROCESSES: [&str; 3] = ["slaacd", "slaacd-frontend", "slaacd-engine"];

/// Ids no account on the machine is expected to have.
const USER: u32 = 4242;
const CONTROL_GROUP: u32 = 4243;

fn start_lab() -> (Lab, Radvd) {
    let lab = Lab::new();
    let config = single_prefix_config("r0", "2001:db8:1::/64", 3600, 1800, 1200);
    let radvd = Radvd::start(&lab.router, lab.dir.path(), &config);
    (lab, radvd)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs slaacctl and expects it to succeed.
fn ctl_ok(slaacd: &Slaacd, args: &[&str]) -> String {
    let output = slaacd.ctl(args);
    assert!(
        output.status.success(),
        "slaacctl {args:?}: {}\ndaemon log:\n{}",
        stderr(&output),
        slaacd.log()
    );
    stdout(&output)
}

/// The processes that logged a DEBUG line in `log`.
fn debugging(log: &str) -> Vec<&'static str> {
    PROCESSES
        .into_iter()
        .filter(|process| log.contains(&format!(" {process}: DEBUG ")))
        .collect()
}

#[test]
fn log_verbose_and_brief_switch_all_three_processes() {
    let (lab, radvd) = start_lab();
    // No -v: the daemon starts brief.
    let slaacd = Slaacd::start_with(&lab.host, lab.dir.path(), &[], &["h0"]);
    wait_for("the control socket", Duration::from_secs(10), || {
        slaacd.socket.exists().then_some(())
    });
    let before = slaacd.log();
    assert_eq!(debugging(&before), Vec::<&str>::new(), "{before}");

    assert_eq!(
        ctl_ok(&slaacd, &["log", "verbose"]),
        "logging request sent.\n"
    );
    let verbose_from = before.len();
    // Each process says so at once, before slaacctl gets its answer.
    let switched = slaacd.log();
    for process in PROCESSES {
        assert!(
            switched[verbose_from..].contains(&format!(" {process}: INFO logging at verbosity 1")),
            "{process} did not switch:\n{switched}"
        );
    }
    // h0 comes up only now, so the parent's first change (adding the
    // address) is made at debug level whenever radvd's answer comes: an RA
    // that only repeats what is configured makes no kernel change to log.
    // Solicitations make the frontend send and the engine decide: each of the
    // three processes logs at debug level.
    lab.host.ip(&["link", "set", "h0", "up"]);
    let mut last_solicitation = Instant::now() - Duration::from_secs(2);
    let all_debugging = poll_until(Duration::from_secs(20), || {
        if last_solicitation.elapsed() >= Duration::from_secs(2) {
            ctl_ok(&slaacd, &["send", "solicitation", "h0"]);
            last_solicitation = Instant::now();
        }
        let log = slaacd.log();
        (debugging(&log[verbose_from..]).len() == PROCESSES.len()).then_some(())
    });
    assert!(
        all_debugging.is_some(),
        "no debug lines from all three processes in 20 s; daemon log:\n{}\nslaacctl show:\n{}\nradvd log:\n{}",
        slaacd.log(),
        stdout(&slaacd.ctl(&["show", "interface"])),
        radvd.log()
    );

    assert_eq!(ctl_ok(&slaacd, &["l", "b"]), "logging request sent.\n");
    // Everything logged before the answer is in the file already.
    let brief_from = slaacd.log().len();
    for _ in 0..3 {
        ctl_ok(&slaacd, &["send", "solicitation", "h0"]);
        std::thread::sleep(Duration::from_secs(2));
    }
    let log = slaacd.log();
    assert_eq!(
        debugging(&log[brief_from..]),
        Vec::<&str>::new(),
        "debug lines after log brief:\n{}",
        &log[brief_from..]
    );
}

/// Runs slaacctl in the daemon's namespace as `uid`, with effective group
/// `gid` and only `groups` besides.
fn ctl_as(
    lab: &Lab,
    slaacd: &Slaacd,
    (uid, gid, groups): (u32, u32, &[u32]),
    args: &[&str],
) -> Output {
    let mut command = lab.host.command("setpriv");
    command
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"));
    if groups.is_empty() {
        command.arg("--clear-groups");
    } else {
        let list: Vec<String> = groups.iter().map(u32::to_string).collect();
        command.arg(format!("--groups={}", list.join(",")));
    }
    command
        .arg(binary("slaacctl"))
        .arg("-s")
        .arg(&slaacd.socket)
        .args(args)
        .output()
        .expect("running slaacctl under setpriv")
}

#[test]
fn the_control_group_may_show_and_only_root_or_the_group_itself_may_change() {
    let (lab, _radvd) = start_lab();
    // Others must reach the socket inside the lab's private directory.
    std::fs::set_permissions(lab.dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("opening the lab directory to other users");
    let group = CONTROL_GROUP.to_string();
    let slaacd = Slaacd::start_with(&lab.host, lab.dir.path(), &["-g", &group], &["h0"]);
    lab.host.ip(&["link", "set", "h0", "up"]);
    wait_for("the control socket", Duration::from_secs(10), || {
        slaacd.socket.exists().then_some(())
    });

    let metadata = std::fs::metadata(&slaacd.socket).expect("the control socket");
    assert_eq!(metadata.mode() & 0o7777, 0o660);
    assert_eq!((metadata.uid(), metadata.gid()), (0, CONTROL_GROUP));

    // A member of the group: may look, may not touch.
    let member = (USER, USER, &[CONTROL_GROUP][..]);
    let shown = ctl_as(&lab, &slaacd, member, &["show", "interface", "h0"]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert!(stdout(&shown).starts_with("h0:\n"), "{}", stdout(&shown));
    for (args, command) in [
        (&["send", "solicitation", "h0"][..], "send solicitation"),
        (&["log", "verbose"], "log"),
    ] {
        let refused = ctl_as(&lab, &slaacd, member, args);
        assert_eq!(
            stderr(&refused),
            format!(
                "slaacctl: permission denied: {command} needs uid 0 or gid {CONTROL_GROUP} \
                 (this is uid {USER} gid {USER})\n"
            )
        );
        assert_eq!(refused.status.code(), Some(1));
        assert_eq!(stdout(&refused), "");
    }

    // Running as the group: may change things.
    let as_group = (USER, CONTROL_GROUP, &[][..]);
    let sent = ctl_as(&lab, &slaacd, as_group, &["send", "solicitation", "h0"]);
    assert!(sent.status.success(), "{}", stderr(&sent));

    // Root, in no group at all: may change things.
    let root = (0, 0, &[][..]);
    let sent = ctl_as(&lab, &slaacd, root, &["send", "solicitation", "h0"]);
    assert!(sent.status.success(), "{}", stderr(&sent));

    // Outside the group: cannot even connect.
    let outsider = (USER, USER, &[][..]);
    let refused = ctl_as(&lab, &slaacd, outsider, &["show", "interface"]);
    assert_eq!(
        stderr(&refused),
        format!(
            "slaacctl: connect {}: Permission denied\n",
            slaacd.socket.display()
        )
    );
    assert_eq!(refused.status.code(), Some(1));

    let log = slaacd.log();
    for command in ["send solicitation", "log"] {
        assert!(
            log.contains(&format!("refused {command} to pid "))
                && log.contains(&format!(
                    "uid {USER} gid {USER}: not root nor group {CONTROL_GROUP}"
                )),
            "the daemon logs each refusal:\n{log}"
        );
    }
}

/// The directory of the committed completion scripts.
fn completions_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/completions")
}

#[test]
fn the_committed_completion_scripts_are_what_the_programs_print() {
    for program in ["slaacd", "slaacctl"] {
        for (shell, file) in [
            ("bash", format!("bash/{program}")),
            ("zsh", format!("zsh/_{program}")),
            ("fish", format!("fish/{program}.fish")),
        ] {
            let printed = std::process::Command::new(binary(program))
                .args(["--completions", shell])
                .output()
                .expect("running the program");
            assert!(printed.status.success(), "{}", stderr(&printed));
            let path = completions_dir().join(&file);
            let committed = std::fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
            assert!(
                stdout(&printed) == committed,
                "{} is stale: regenerate it with `{program} --completions {shell} > {}`",
                path.display(),
                path.display()
            );
        }
    }
}

/// What bash offers after `line` (the last word being completed), with the
/// committed slaacctl script loaded.
fn bash_completions(line: &[&str]) -> String {
    let script = completions_dir().join("bash/slaacctl");
    let words: Vec<String> = line.iter().map(|word| format!("'{word}'")).collect();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; \
         _slaacctl slaacctl \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
         echo \"${{COMPREPLY[*]}}\"",
        script.display(),
        words.join(" "),
        line.len() - 1
    );
    let output = std::process::Command::new("bash")
        .args(["-c", &program])
        .output()
        .expect("running bash");
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output).trim().to_string()
}

#[test]
fn bash_completes_the_command_grammar() {
    assert_eq!(bash_completions(&["slaacctl", "l"]), "log");
    assert_eq!(bash_completions(&["slaacctl", "log", ""]), "verbose brief");
    assert_eq!(bash_completions(&["slaacctl", "send", ""]), "solicitation");
    assert_eq!(bash_completions(&["slaacctl", "show", "i"]), "interface");
    assert_eq!(bash_completions(&["slaacctl", "--json", "sh"]), "show");
}

#[test]
fn a_managed_interface_that_does_not_exist_is_named_as_such_until_it_does() {
    let lab = Lab::around(router_namespace(), Netns::new("h"));
    let slaacd = Slaacd::start_with(&lab.host, lab.dir.path(), &[], &["h0"]);
    slaacd.wait_answering(&[]);

    let not_present = "slaacctl: interface h0 is managed by slaacd but not present\n";
    for args in [
        &["show", "interface", "h0"][..],
        &["--json", "show", "interface", "h0"],
        &["send", "solicitation", "h0"],
        &["monitor", "h0"],
    ] {
        let refused = slaacd.ctl(args);
        assert_eq!(stderr(&refused), not_present, "slaacctl {args:?}");
        assert_eq!(stdout(&refused), "", "slaacctl {args:?}");
        assert_eq!(refused.status.code(), Some(1), "slaacctl {args:?}");
    }
    let unknown = slaacd.ctl(&["show", "interface", "h9"]);
    assert_eq!(stderr(&unknown), "slaacctl: unknown interface h9\n");
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(
        ctl_ok(&slaacd, &["show", "interface"]),
        "h0: managed, not present\n"
    );
    let listed: serde_json::Value =
        serde_json::from_str(&ctl_ok(&slaacd, &["--json", "show", "interface"]))
            .expect("slaacctl's JSON");
    assert_eq!(
        listed,
        serde_json::json!({"interfaces": [], "absent": ["h0"]})
    );

    // h0 appears: the same commands show it as any other.
    lab.add_link("r0", "h0", "02:00:00:00:00:01", "02:00:00:00:00:02");
    let shown = poll_until(Duration::from_secs(5), || {
        let output = slaacd.ctl(&["show", "interface", "h0"]);
        (output.status.success() && stdout(&output).starts_with("h0:\n")).then_some(())
    });
    assert!(
        shown.is_some(),
        "h0 was not shown once it existed: {:?}\ndaemon log:\n{}",
        slaacd.ctl(&["show", "interface", "h0"]),
        slaacd.log()
    );
    let all = ctl_ok(&slaacd, &["show", "interface"]);
    assert!(all.starts_with("h0:\n"), "{all}");
    assert!(!all.contains("not present"), "{all}");
    let listed: serde_json::Value =
        serde_json::from_str(&ctl_ok(&slaacd, &["--json", "show", "interface"]))
            .expect("slaacctl's JSON");
    assert_eq!(listed["interfaces"][0]["name"], "h0", "{listed}");
    assert_eq!(listed["absent"], serde_json::json!([]), "{listed}");
    ctl_ok(&slaacd, &["send", "solicitation", "h0"]);
}
