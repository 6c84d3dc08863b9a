//! The engine's confinement: the unprivileged user, no file system (Landlock with nothing
//! unveiled), no new processes, no sockets, no exec, and room for exactly one more descriptor,
//! the frontend's channel. Once the engine holds that channel it narrows to "stdio" and takes
//! no descriptor at all any more. This module must never widen what an earlier step allowed.

use std::sync::OnceLock;

use slaacd_sandbox::{ChildProfile, Confinement, SandboxError, Violation};

/// What the engine keeps from start-up until it holds the frontend's channel.
const START_UP: ChildProfile = ChildProfile {
    promises: "stdio recvfd",
    held_sockets: &[],
    // The frontend's end of the direct channel, passed by the parent in `EngineMain.start`.
    descriptors_to_come: 1,
};

/// The violation mode chosen at start-up, reused when narrowing.
static VIOLATION: OnceLock<Violation> = OnceLock::new();

/// Confines the engine as `user`. Call on the only thread, before serving the parent.
pub fn confine(user: &str, violation: Violation) -> Result<Confinement, SandboxError> {
    let confinement = slaacd_sandbox::confine_child(&START_UP, user, violation)?;
    // Only the first confinement sets the mode; a second call is refused above anyway
    // (the user switch fails without root).
    let _ = VIOLATION.set(violation);
    Ok(confinement)
}

/// Narrows the engine to "stdio" once it holds the frontend's channel: no descriptor can be
/// received any more, and the seccomp filter drops "recvfd". Call after `confine`.
pub fn narrow_to_stdio() -> Result<(), SandboxError> {
    let violation = VIOLATION.get().copied().unwrap_or(Violation::Kill);
    let limit = slaacd_sandbox::stop_receiving_descriptors()?;
    slaacd_sandbox::pledge("stdio", violation)?;
    tracing::info!(open_files_limit = limit, "narrowed to stdio");
    Ok(())
}
