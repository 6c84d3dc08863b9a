//! The resolvconf(8) backend of the resolver against a fake `resolvconf`: a
//! shell script written into a private temporary directory that records its
//! arguments and keeps each added record as a file, as resolvconf keeps its
//! interface records. The real resolvconf is never run, so the machine's
//! /etc/resolv.conf cannot change.

use std::fs;
use std::net::Ipv6Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use slaacd_parent::resolver::{Backend, Resolver, ResolverError};

const HEADER: &str = "# Written by slaacd from Router Advertisements (RDNSS, DNSSL).\n";

/// A directory of its own holding the fake program, its call log and its
/// records; removed when dropped.
struct FakeResolvconf {
    dir: PathBuf,
}

impl FakeResolvconf {
    /// `extra` runs first (e.g. to fail on purpose).
    fn new(extra: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "slaacd-resolvconf-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(dir.join("records")).unwrap();
        let script = format!(
            "#!/bin/sh\n\
             {extra}\n\
             echo \"$*\" >> '{dir}/calls'\n\
             case \"$1\" in\n\
             -a) cat > '{dir}/records/'\"$2\" ;;\n\
             -d) rm -f '{dir}/records/'\"$2\" ;;\n\
             *) echo \"unknown option $1\" >&2; exit 99 ;;\n\
             esac\n",
            dir = dir.display()
        );
        let program = dir.join("resolvconf");
        fs::write(&program, script).unwrap();
        fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
        Self { dir }
    }

    fn program(&self) -> PathBuf {
        self.dir.join("resolvconf")
    }

    fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.dir.join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn record(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.dir.join("records").join(name)).ok()
    }

    fn records(&self) -> usize {
        fs::read_dir(self.dir.join("records")).unwrap().count()
    }
}

impl Drop for FakeResolvconf {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn servers(list: &[&str]) -> Vec<Ipv6Addr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

fn domains(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn resolver(fake: &FakeResolvconf) -> Resolver {
    Resolver::new(Backend::Resolvconf(fake.program()))
}

#[tokio::test]
async fn each_interface_is_one_record_added_and_deleted() {
    let fake = FakeResolvconf::new("");
    let resolver = resolver(&fake);
    resolver
        .configure(
            2,
            "eth0",
            &servers(&["2001:db8::53", "fe80::53"]),
            &domains(&["example.com"]),
        )
        .await
        .unwrap();
    assert_eq!(fake.calls(), vec!["-a eth0.slaacd"]);
    assert_eq!(
        fake.record("eth0.slaacd").unwrap(),
        format!("{HEADER}nameserver 2001:db8::53\nnameserver fe80::53%eth0\nsearch example.com\n")
    );

    // The same configuration again runs nothing.
    resolver
        .configure(
            2,
            "eth0",
            &servers(&["2001:db8::53", "fe80::53"]),
            &domains(&["example.com"]),
        )
        .await
        .unwrap();
    assert_eq!(fake.calls().len(), 1);

    resolver
        .configure(3, "eth1", &[], &domains(&["lab.example"]))
        .await
        .unwrap();
    assert_eq!(
        fake.record("eth1.slaacd").unwrap(),
        format!("{HEADER}search lab.example\n")
    );

    // Expiry on eth0: empty lists delete its record only.
    resolver.configure(2, "eth0", &[], &[]).await.unwrap();
    assert_eq!(fake.calls().last().unwrap(), "-d eth0.slaacd");
    assert_eq!(fake.record("eth0.slaacd"), None);
    assert!(fake.record("eth1.slaacd").is_some());
    // Nothing to withdraw: nothing runs.
    resolver.configure(2, "eth0", &[], &[]).await.unwrap();
    assert_eq!(fake.calls().len(), 3);

    // The daemon stops: every remaining record is deleted.
    drop(resolver);
    assert_eq!(fake.calls().last().unwrap(), "-d eth1.slaacd");
    assert_eq!(fake.records(), 0);
}

#[tokio::test]
async fn a_renamed_interface_moves_its_record() {
    let fake = FakeResolvconf::new("");
    let resolver = resolver(&fake);
    resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    resolver
        .configure(2, "lan0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    assert_eq!(
        fake.calls(),
        vec!["-a eth0.slaacd", "-d eth0.slaacd", "-a lan0.slaacd"]
    );
    assert_eq!(fake.records(), 1);
    assert!(fake.record("lan0.slaacd").is_some());
}

#[tokio::test]
async fn a_failing_resolvconf_is_reported_and_retried() {
    let fake = FakeResolvconf::new(
        "if [ -e \"$(dirname \"$0\")/fail\" ]; then echo 'no space left' >&2; exit 3; fi",
    );
    fs::write(fake.dir.join("fail"), "").unwrap();
    let resolver = resolver(&fake);
    let error = resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap_err();
    assert!(matches!(error, ResolverError::Resolvconf { .. }), "{error}");
    let message = error.to_string();
    for part in ["eth0", "no space left", "-a", "resolvconf"] {
        assert!(message.contains(part), "{part} missing from: {message}");
    }
    // Not recorded as applied: the next identical call tries again.
    fs::remove_file(fake.dir.join("fail")).unwrap();
    resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    assert!(fake.record("eth0.slaacd").is_some());
}

#[tokio::test]
async fn a_missing_program_is_an_error_naming_it() {
    let resolver = Resolver::new(Backend::Resolvconf(
        Path::new("/nonexistent/resolvconf").into(),
    ));
    let error = resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/resolvconf"),
        "{error}"
    );
}
