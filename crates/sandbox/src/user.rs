//! Switching a child process from root to its unprivileged user (`_slaacd` by default): groups,
//! real/effective/saved ids, and a check that root cannot be regained. It must never return
//! success while any id of the process still differs from the target user's.

use nix::unistd::{self, Gid, Uid, User};

use crate::SandboxError;

/// Runs the rest of the process as `user`: looks the user up, changes to `/`, sets the
/// supplementary groups to the user's primary group only, sets the real, effective and saved
/// group and user ids, and then verifies that none of the former ids can be taken back.
///
/// Call it after everything that needs root is open and before reading untrusted input. It
/// changes the ids of every thread (glibc broadcasts set*id calls), but keep it early anyway.
pub fn drop_privileges(user: &str) -> Result<(), SandboxError> {
    let (uid, gid) = check_user(user)?;
    let step = |step: &'static str| {
        move |source| SandboxError::DropStep {
            user: user.to_owned(),
            step,
            source,
        }
    };
    let before_uid = unistd::getresuid().map_err(step("read the user ids"))?;
    let before_gid = unistd::getresgid().map_err(step("read the group ids"))?;

    unistd::chdir("/").map_err(step("change directory to /"))?;
    unistd::setgroups(&[gid]).map_err(step("set the supplementary groups"))?;
    unistd::setresgid(gid, gid, gid).map_err(step("set the group ids"))?;
    unistd::setresuid(uid, uid, uid).map_err(step("set the user ids"))?;

    verify(user, uid, gid)?;
    let former_uids = [before_uid.real, before_uid.effective, before_uid.saved];
    let former_gids = [before_gid.real, before_gid.effective, before_gid.saved];
    for former in former_uids.into_iter().filter(|&id| id != uid) {
        if unistd::seteuid(former).is_ok() {
            return Err(not_dropped(
                user,
                format!("could switch back to uid {former}"),
            ));
        }
    }
    for former in former_gids.into_iter().filter(|&id| id != gid) {
        if unistd::setegid(former).is_ok() {
            return Err(not_dropped(
                user,
                format!("could switch back to gid {former}"),
            ));
        }
    }
    Ok(())
}

/// Checks that `user` exists and is unprivileged, and returns its uid and gid. The parent calls
/// it before it daemonizes, so a missing user is reported where the operator can see it.
pub fn check_user(user: &str) -> Result<(Uid, Gid), SandboxError> {
    let entry = lookup(user)?;
    let (uid, gid) = (entry.uid, entry.gid);
    if uid.is_root() || gid.as_raw() == 0 {
        return Err(SandboxError::UserIsPrivileged {
            user: user.to_owned(),
            uid: uid.as_raw(),
            gid: gid.as_raw(),
        });
    }
    Ok((uid, gid))
}

fn lookup(user: &str) -> Result<User, SandboxError> {
    match User::from_name(user) {
        Ok(Some(entry)) => Ok(entry),
        Ok(None) => Err(SandboxError::UserMissing {
            user: user.to_owned(),
        }),
        Err(source) => Err(SandboxError::UserLookup {
            user: user.to_owned(),
            source,
        }),
    }
}

/// Reads every id back: a kernel or libc that silently ignored one of the calls above must not
/// leave the process half-privileged.
fn verify(user: &str, uid: Uid, gid: Gid) -> Result<(), SandboxError> {
    let read_err = |source| SandboxError::DropStep {
        user: user.to_owned(),
        step: "read back the ids",
        source,
    };
    let uids = unistd::getresuid().map_err(read_err)?;
    let gids = unistd::getresgid().map_err(read_err)?;
    let groups = unistd::getgroups().map_err(read_err)?;
    if [uids.real, uids.effective, uids.saved] != [uid; 3] {
        return Err(not_dropped(
            user,
            format!(
                "user ids are {}/{}/{}, want {uid}",
                uids.real, uids.effective, uids.saved
            ),
        ));
    }
    if [gids.real, gids.effective, gids.saved] != [gid; 3] {
        return Err(not_dropped(
            user,
            format!(
                "group ids are {}/{}/{}, want {gid}",
                gids.real, gids.effective, gids.saved
            ),
        ));
    }
    if groups.iter().any(|&group| group != gid) {
        return Err(not_dropped(
            user,
            format!("supplementary groups are {groups:?}, want [{gid}]"),
        ));
    }
    Ok(())
}

fn not_dropped(user: &str, detail: String) -> SandboxError {
    SandboxError::NotDropped {
        user: user.to_owned(),
        detail,
    }
}
