//! Linux capabilities for the one process that stays root, the parent: every capability it
//! does not name is dropped from the bounding set (so no program it executes can regain it)
//! and from the permitted, effective, inheritable and ambient sets, and the result is read
//! back. It must never return success while a set still holds a capability outside the list.

use std::collections::HashSet;

use caps::{CapSet, CapsHashSet};

pub use caps::Capability;

use crate::SandboxError;

/// Keeps exactly `keep` (those of them the thread has) and drops every other capability.
/// The bounding set goes first: dropping from it needs CAP_SETPCAP, which the permitted set
/// loses last. Root keeps its user id; what root may do is then what `keep` says.
///
/// Capability sets belong to each thread: this changes the calling thread's, and the threads
/// and processes it starts afterwards inherit them. Call it while the process has one thread.
pub fn keep_only_capabilities(keep: &[Capability]) -> Result<(), SandboxError> {
    let failed = |step: &'static str| {
        move |error: caps::errors::CapsError| SandboxError::Capabilities {
            step,
            detail: error.to_string(),
        }
    };
    let keep: CapsHashSet = keep.iter().copied().collect();
    let bounding = caps::read(None, CapSet::Bounding).map_err(failed("read the bounding set"))?;
    for &capability in bounding.difference(&keep) {
        caps::drop(None, CapSet::Bounding, capability)
            .map_err(failed("drop from the bounding set"))?;
    }
    caps::clear(None, CapSet::Ambient).map_err(failed("clear the ambient set"))?;
    caps::clear(None, CapSet::Inheritable).map_err(failed("clear the inheritable set"))?;
    let permitted =
        caps::read(None, CapSet::Permitted).map_err(failed("read the permitted set"))?;
    let kept: CapsHashSet = permitted.intersection(&keep).copied().collect();
    caps::set(None, CapSet::Effective, &kept).map_err(failed("set the effective set"))?;
    caps::set(None, CapSet::Permitted, &kept).map_err(failed("set the permitted set"))?;
    verify(&keep)
}

/// Reads every set back: a capability outside `keep` anywhere is an error.
fn verify(keep: &CapsHashSet) -> Result<(), SandboxError> {
    for (set, name) in [
        (CapSet::Bounding, "bounding"),
        (CapSet::Permitted, "permitted"),
        (CapSet::Effective, "effective"),
        (CapSet::Inheritable, "inheritable"),
        (CapSet::Ambient, "ambient"),
    ] {
        let held = caps::read(None, set).map_err(|error| SandboxError::Capabilities {
            step: "read the capability sets back",
            detail: error.to_string(),
        })?;
        let extra: HashSet<_> = held.difference(keep).collect();
        if !extra.is_empty() {
            let mut names: Vec<String> = extra.iter().map(ToString::to_string).collect();
            names.sort();
            return Err(SandboxError::Capabilities {
                step: "verify the capability sets",
                detail: format!("the {name} set still holds {}", names.join(", ")),
            });
        }
    }
    Ok(())
}
