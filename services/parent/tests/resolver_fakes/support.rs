//! What the resolver's tests share besides the fakes: a private temporary
//! directory, the header slaacd writes first in what it writes, the server
//! and domain lists a test configures, and a read of the machine's
//! /etc/resolv.conf to compare before and after. It never writes outside
//! its own temporary directories.

// Each test binary that includes this uses a part of it.
#![allow(dead_code)]

use std::fs;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The first line of every file and record the resolver writes.
pub const HEADER: &str = "# Written by slaacd from Router Advertisements (RDNSS, DNSSL).\n";

/// A directory of its own under the system's temporary directory, named
/// after `role`, the process and a counter; removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(role: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "slaacd-{role}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub fn servers(list: &[&str]) -> Vec<Ipv6Addr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

pub fn domains(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The machine's /etc/resolv.conf as it is now, which no test may change.
pub fn machine_resolv_conf() -> Option<Vec<u8>> {
    fs::read("/etc/resolv.conf").ok()
}
