//! A fake resolvconf(8) for the resolver's tests: a shell script written
//! into a private temporary directory that records its arguments and keeps
//! each added record as a file, as resolvconf keeps its interface records.
//! The real resolvconf is never run.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A directory of its own holding the fake program, its call log and its
/// records; removed when dropped.
pub struct FakeResolvconf {
    pub dir: PathBuf,
}

impl FakeResolvconf {
    /// `extra` runs first (e.g. to fail on purpose).
    pub fn new(extra: &str) -> Self {
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

    pub fn program(&self) -> PathBuf {
        self.dir.join("resolvconf")
    }

    pub fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.dir.join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub fn record(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.dir.join("records").join(name)).ok()
    }

    pub fn records(&self) -> usize {
        fs::read_dir(self.dir.join("records")).unwrap().count()
    }
}

impl Drop for FakeResolvconf {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}
