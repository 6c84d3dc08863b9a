//! What a slaacd process uses to give up privilege: switch to the unprivileged user, lower
//! resource limits, and confine itself with OpenBSD-style `pledge` and `unveil` (the real
//! system calls on OpenBSD; no_new_privs, seccomp-bpf and Landlock on Linux). Every function
//! either confines as documented or returns an error; none of them may report success for a
//! restriction that is not in force.
//!
//! The order a child follows, each step needing what the previous ones still allow:
//! `drop_privileges` (reads the user database), `limit_resources`, `Unveil::lock` (Landlock's
//! system calls are not in any promise), then `pledge`, narrowed later by further `pledge` calls.
//! The parent, which stays root, follows `confine_parent`: capabilities, `Unveil::lock`, `pledge`.

#[cfg(target_os = "linux")]
mod capabilities;
mod child;
mod descriptors;
mod error;
pub mod escape;
#[cfg(target_os = "linux")]
mod landlock_unveil;
mod limits;
#[cfg(target_os = "linux")]
mod no_new_privs;
mod parent;
mod pledge;
mod promises;
#[cfg(target_os = "linux")]
mod seccomp;
mod unveil;
mod user;

#[cfg(target_os = "linux")]
pub use capabilities::{Capability, keep_only_capabilities};
pub use child::{ChildProfile, Confinement, confine_child, stop_receiving_descriptors};
pub use descriptors::{close_descriptors_from, open_descriptors};
pub use error::SandboxError;
pub use limits::{ResourceLimits, limit_resources};
#[cfg(target_os = "linux")]
pub use no_new_privs::set_no_new_privs;
pub use parent::{ParentConfinement, ParentProfile, confine_parent, confine_parent_with_children};
pub use pledge::{HeldSocketCall, Violation, pledge, pledge_with, pledge_with_children};
pub use promises::{Promise, Promises};
pub use unveil::{Enforcement, Permissions, Unveil};
pub use user::{check_user, drop_privileges};

/// The unprivileged user slaacd's children run as unless configured otherwise.
pub const DEFAULT_USER: &str = "_slaacd";
