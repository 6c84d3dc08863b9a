//! The file backend of the resolver against the real file system, in a
//! private temporary directory: contents, atomic replacement, withdrawal,
//! refusal of invalid entries, what is left when the resolver goes, and what
//! the next start clears after a run was killed. Never touches
//! /etc/resolv.conf (compared before and after) or /run/slaacd.

#[path = "resolver_fakes/support.rs"]
mod support;

use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use slaacd_parent::resolver::{Backend, Bus, Resolver, ResolverError};
use support::{HEADER, TempDir, domains, machine_resolv_conf, servers};

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn every_interface_lands_in_one_file_and_withdrawals_remove_them() {
    let dir = TempDir::new("resolver-file");
    // The directory does not exist yet: the backend makes it.
    let path = dir.path().join("run/slaacd/resolv.conf");
    let resolver = Resolver::new(Backend::File(path.clone()));

    resolver
        .configure(
            2,
            "eth0",
            &servers(&["2001:db8::53", "fe80::53"]),
            &domains(&["Example.COM."]),
        )
        .await
        .unwrap();
    assert_eq!(
        read(&path),
        format!("{HEADER}nameserver 2001:db8::53\nnameserver fe80::53%eth0\nsearch example.com\n")
    );
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);

    resolver
        .configure(
            3,
            "eth1",
            &servers(&["2001:db8:1::53", "2001:db8::53"]),
            &domains(&["lab.example", "example.com"]),
        )
        .await
        .unwrap();
    assert_eq!(
        read(&path),
        format!(
            "{HEADER}nameserver 2001:db8::53\nnameserver fe80::53%eth0\n\
             nameserver 2001:db8:1::53\nsearch example.com lab.example\n"
        )
    );

    // Everything on eth0 expired: the engine sends empty lists.
    resolver.configure(2, "eth0", &[], &[]).await.unwrap();
    assert_eq!(
        read(&path),
        format!(
            "{HEADER}nameserver 2001:db8:1::53\nnameserver 2001:db8::53\n\
             search lab.example example.com\n"
        )
    );
    // Only the file itself is left in the directory: no temporary files.
    assert_eq!(entries(path.parent().unwrap()), vec!["resolv.conf"]);

    // The daemon stops: what is left is withdrawn.
    drop(resolver);
    assert_eq!(read(&path), HEADER);
}

#[tokio::test]
async fn the_file_is_replaced_not_rewritten_in_place() {
    let dir = TempDir::new("resolver-file");
    let path = dir.path().join("resolv.conf");
    let resolver = Resolver::new(Backend::File(path.clone()));
    resolver
        .configure(2, "eth0", &servers(&["2001:db8::1"]), &[])
        .await
        .unwrap();
    let mut reader = fs::File::open(&path).unwrap();
    let old_inode = fs::metadata(&path).unwrap().ino();

    resolver
        .configure(2, "eth0", &servers(&["2001:db8::2"]), &[])
        .await
        .unwrap();
    assert_ne!(fs::metadata(&path).unwrap().ino(), old_inode);
    // A reader that opened the old file still reads it whole.
    let mut old = String::new();
    reader.read_to_string(&mut old).unwrap();
    assert_eq!(old, format!("{HEADER}nameserver 2001:db8::1\n"));
    assert_eq!(read(&path), format!("{HEADER}nameserver 2001:db8::2\n"));
}

#[tokio::test]
async fn invalid_entries_are_refused_and_change_nothing() {
    let dir = TempDir::new("resolver-file");
    let path = dir.path().join("resolv.conf");
    let resolver = Resolver::new(Backend::File(path.clone()));
    resolver
        .configure(
            2,
            "eth0",
            &servers(&["2001:db8::53"]),
            &domains(&["a.example"]),
        )
        .await
        .unwrap();
    let before = read(&path);

    let injected = resolver
        .configure(
            2,
            "eth0",
            &servers(&["2001:db8::53"]),
            &domains(&["a.example\nnameserver 192.0.2.66"]),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(injected, ResolverError::Invalid { .. }),
        "{injected}"
    );
    assert!(injected.to_string().contains("eth0"), "{injected}");

    let multicast = resolver
        .configure(2, "eth0", &servers(&["ff02::1"]), &[])
        .await
        .unwrap_err();
    assert!(multicast.to_string().contains("ff02::1"), "{multicast}");
    assert_eq!(read(&path), before);
}

#[tokio::test]
async fn an_unwritable_location_is_an_error_naming_the_path() {
    let dir = TempDir::new("resolver-file");
    // A regular file where the directory should be.
    let blocker = dir.path().join("not-a-dir");
    fs::write(&blocker, "").unwrap();
    let path = blocker.join("resolv.conf");
    let resolver = Resolver::new(Backend::File(path));
    let error = resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap_err();
    assert!(matches!(error, ResolverError::File { .. }), "{error}");
    assert!(error.to_string().contains("not-a-dir"), "{error}");
}

#[test]
fn detection_prefers_an_executable_resolvconf() {
    // No systemd-resolved on a bus that does not exist.
    let no_resolved = Bus::Address("unix:path=/nonexistent/slaacd-test-bus".to_owned());
    let dir = TempDir::new("resolver-file");
    let program = dir.path().join("resolvconf");
    let fallback = dir.path().join("resolv.conf");
    let candidates = [dir.path().join("missing"), program.clone()];
    let candidates: Vec<&Path> = candidates.iter().map(PathBuf::as_path).collect();

    assert_eq!(
        Backend::detect_in(&no_resolved, &candidates, &fallback),
        Backend::File(fallback.clone())
    );
    fs::write(&program, "#!/bin/sh\n").unwrap();
    fs::set_permissions(&program, fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(
        Backend::detect_in(&no_resolved, &candidates, &fallback),
        Backend::File(fallback.clone()),
        "a non-executable file is not resolvconf"
    );
    fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        Backend::detect_in(&no_resolved, &candidates, &fallback),
        Backend::Resolvconf(program)
    );
}

#[tokio::test]
async fn a_killed_runs_entries_are_cleared_at_the_next_start() {
    let machine_before = machine_resolv_conf();
    let dir = TempDir::new("resolver-file");
    let path = dir.path().join("resolv.conf");
    let previous = Resolver::new(Backend::File(path.clone()));
    previous
        .configure(
            2,
            "eth0",
            &servers(&["2001:db8::53", "fe80::53"]),
            &domains(&["example.com"]),
        )
        .await
        .unwrap();
    previous
        .configure(3, "eth1", &servers(&["2001:db8:1::53"]), &[])
        .await
        .unwrap();
    // SIGKILL: nothing is withdrawn.
    std::mem::forget(previous);
    assert_ne!(read(&path), HEADER);

    // The next run manages only eth0, yet eth1's entries are as stale: the
    // file holds nothing but what the killed daemon wrote.
    let next = Resolver::new(Backend::File(path.clone()));
    next.clear_stale(&["eth0".to_owned()]).await.unwrap();
    assert_eq!(read(&path), HEADER);

    // What this run configured itself is kept by a later clearing.
    next.configure(2, "eth0", &servers(&["2001:db8::1"]), &[])
        .await
        .unwrap();
    next.clear_stale(&["eth0".to_owned()]).await.unwrap();
    assert_eq!(read(&path), format!("{HEADER}nameserver 2001:db8::1\n"));
    // An orderly stop withdraws it.
    next.withdraw_all().await;
    assert_eq!(read(&path), HEADER);
    assert_eq!(
        machine_resolv_conf(),
        machine_before,
        "the machine's /etc/resolv.conf changed"
    );
}

#[tokio::test]
async fn clearing_leaves_a_file_slaacd_did_not_write_and_creates_none() {
    let dir = TempDir::new("resolver-file");
    let foreign = dir.path().join("resolv.conf");
    fs::write(&foreign, "nameserver 192.0.2.53\n").unwrap();
    let resolver = Resolver::new(Backend::File(foreign.clone()));
    resolver.clear_stale(&["eth0".to_owned()]).await.unwrap();
    assert_eq!(read(&foreign), "nameserver 192.0.2.53\n");

    let missing = dir.path().join("run/slaacd/resolv.conf");
    let resolver = Resolver::new(Backend::File(missing.clone()));
    resolver.clear_stale(&["eth0".to_owned()]).await.unwrap();
    assert!(!missing.exists());
    assert!(!missing.parent().unwrap().exists());
}

#[tokio::test]
async fn an_unreadable_file_is_an_error_naming_it() {
    let dir = TempDir::new("resolver-file");
    // A directory where the file should be.
    let path = dir.path().join("resolv.conf");
    fs::create_dir(&path).unwrap();
    let resolver = Resolver::new(Backend::File(path));
    let error = resolver
        .clear_stale(&["eth0".to_owned()])
        .await
        .unwrap_err();
    assert!(matches!(error, ResolverError::StaleFile { .. }), "{error}");
    assert!(error.to_string().contains("resolv.conf"), "{error}");
}
