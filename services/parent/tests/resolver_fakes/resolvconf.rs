//! A fake resolvconf(8) for the resolver's tests: a shell script written
//! into a private directory that records its arguments and keeps each added
//! record as a file, as resolvconf keeps its interface records. The real
//! resolvconf is never run. The directory is beneath /run/resolvconf, where
//! resolvconf implementations keep their state: the only place the confined
//! resolvconf helper may write, as the real program does.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Where resolvconf implementations keep their state.
const RESOLVCONF_STATE: &str = "/run/resolvconf";

/// Whether [`RESOLVCONF_STATE`] was there before the first fake of this
/// test process.
static MACHINE_HAS_STATE: OnceLock<bool> = OnceLock::new();

/// A directory of its own beneath [`RESOLVCONF_STATE`], named after the
/// process and a counter; removed when dropped, with [`RESOLVCONF_STATE`]
/// when the machine had none and nothing else is left there.
struct StateDir {
    path: PathBuf,
}

impl StateDir {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        MACHINE_HAS_STATE.get_or_init(|| Path::new(RESOLVCONF_STATE).exists());
        let path = Path::new(RESOLVCONF_STATE).join(format!(
            "slaacd-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&path).unwrap();
        Self { path }
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
        if MACHINE_HAS_STATE.get() == Some(&false) {
            // Fails, as it should, while another test still has a directory there.
            let _ = fs::remove_dir(RESOLVCONF_STATE);
        }
    }
}

/// A directory of its own holding the fake program, its call log and its
/// records; removed when dropped.
pub struct FakeResolvconf {
    dir: StateDir,
}

impl FakeResolvconf {
    /// `extra` runs first (e.g. to fail on purpose).
    pub fn new(extra: &str) -> Self {
        let dir = StateDir::new();
        fs::create_dir_all(dir.path().join("records")).unwrap();
        let script = format!(
            "#!/bin/sh\n\
             {extra}\n\
             echo \"$*\" >> '{dir}/calls'\n\
             case \"$1\" in\n\
             -a) cat > '{dir}/records/'\"$2\" ;;\n\
             -d) rm -f '{dir}/records/'\"$2\" ;;\n\
             *) echo \"unknown option $1\" >&2; exit 99 ;;\n\
             esac\n",
            dir = dir.path().display()
        );
        let program = dir.path().join("resolvconf");
        fs::write(&program, script).unwrap();
        fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
        Self { dir }
    }

    /// Where the program, its call log and its records are.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn program(&self) -> PathBuf {
        self.dir().join("resolvconf")
    }

    pub fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.dir().join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub fn record(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.dir().join("records").join(name)).ok()
    }

    pub fn records(&self) -> usize {
        fs::read_dir(self.dir().join("records")).unwrap().count()
    }
}
