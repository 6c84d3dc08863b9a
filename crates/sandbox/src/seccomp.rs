//! The Linux side of `pledge`: a seccomp-bpf allowlist built from a promise set. Each promise
//! adds system calls, some only with given arguments (the socket family, open flags, the ioctl
//! request), and a process may name single calls on sockets it holds (`HeldSocketCall`). It
//! must never allow a call that neither a promise nor a held-socket call asks for; a call
//! outside the list gets the caller's `Violation` action, except glibc's syslog reconnect under
//! "stdio", which always gets EPERM (see `syslog_reconnect_denial`), and clone3 under
//! "children", which always gets ENOSYS (see `clone3_denial`). "children" comes with the pids
//! of the processes it covers: kill and wait are allowed for those pids only.
//!
//! What seccomp cannot see is documented rather than pretended: it cannot read memory, so
//! `recvfd`/`sendfd` (SCM_RIGHTS inside `sendmsg`/`recvmsg`) and file paths are not filtered
//! here; paths are Landlock's job (`unveil`).

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::{HeldSocketCall, Promise, Promises, SandboxError, Violation};

/// One argument test. `Equals` and `Masked` compare the low 32 bits (every argument tested
/// that way is a C `int` or a small request number); `Null` compares a whole pointer.
#[derive(Clone, Copy)]
enum ArgTest {
    Equals { arg: u8, value: u64 },
    Masked { arg: u8, mask: u64, value: u64 },
    Null { arg: u8 },
}

/// System call number to the argument tests under which it is allowed. `None` means always
/// allowed; `Some(alternatives)` allows it when every test of any one alternative holds.
#[derive(Default)]
struct Allowlist(BTreeMap<i64, Option<Vec<Vec<ArgTest>>>>);

impl Allowlist {
    fn always(&mut self, calls: &[libc::c_long]) {
        for &call in calls {
            self.0.insert(call, None);
        }
    }

    fn when(&mut self, call: libc::c_long, tests: Vec<ArgTest>) {
        // An unconditional entry already allows every argument: keep it.
        if let Some(alternatives) = self.0.entry(call).or_insert_with(|| Some(Vec::new())) {
            alternatives.push(tests);
        }
    }

    fn into_rules(self) -> Result<BTreeMap<i64, Vec<SeccompRule>>, seccompiler::BackendError> {
        self.0
            .into_iter()
            .map(|(call, alternatives)| {
                let rules = alternatives
                    .unwrap_or_default()
                    .into_iter()
                    .map(|tests| {
                        let conditions = tests
                            .into_iter()
                            .map(condition)
                            .collect::<Result<Vec<_>, _>>()?;
                        SeccompRule::new(conditions)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((call, rules))
            })
            .collect()
    }
}

fn condition(test: ArgTest) -> Result<SeccompCondition, seccompiler::BackendError> {
    match test {
        ArgTest::Equals { arg, value } => {
            SeccompCondition::new(arg, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, value)
        }
        ArgTest::Masked { arg, mask, value } => SeccompCondition::new(
            arg,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::MaskedEq(mask),
            value,
        ),
        ArgTest::Null { arg } => {
            SeccompCondition::new(arg, SeccompCmpArgLen::Qword, SeccompCmpOp::Eq, 0)
        }
    }
}

// Every constant passed to these two is a non-negative flag or number. Were a conversion to
// fail, the value becomes one no 32-bit argument can equal: the test gets narrower, never wider.
fn equals(arg: u8, value: impl TryInto<u64>) -> ArgTest {
    ArgTest::Equals {
        arg,
        value: value.try_into().unwrap_or(u64::MAX),
    }
}

fn masked(arg: u8, mask: impl TryInto<u64>, value: impl TryInto<u64>) -> ArgTest {
    ArgTest::Masked {
        arg,
        mask: mask.try_into().unwrap_or(u64::MAX),
        value: value.try_into().unwrap_or(u64::MAX),
    }
}

/// Installs the allowlist for `promises` (with `children`, the pids "children" covers) and the
/// `held` socket calls on every thread of the process (TSYNC). A second call stacks a second
/// filter, so promises can only shrink, as with OpenBSD's pledge.
pub(crate) fn install(
    promises: &Promises,
    held: &[HeldSocketCall],
    children: &[u32],
    violation: Violation,
) -> Result<(), SandboxError> {
    let failed = |detail: String| SandboxError::Seccomp {
        promises: promises.to_string(),
        detail,
    };
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(|e| failed(e.to_string()))?;
    let mut list = allowlist(promises, children);
    held_socket_calls(&mut list, held);
    let soften_syslog = promises.contains(Promise::Stdio) && !promises.contains(Promise::Unix);
    if soften_syslog {
        // Installed first: were the second filter to fail, nothing would be allowed yet.
        let soft = syslog_reconnect_denial().map_err(|e| failed(e.to_string()))?;
        apply(
            soft,
            SeccompAction::Allow,
            SeccompAction::Errno(EPERM),
            arch,
        )
        .map_err(failed)?;
        list.when(libc::SYS_socket, vec![equals(0, libc::AF_UNIX)]);
    }
    if promises.contains(Promise::Children) && !promises.contains(Promise::Proc) {
        // As above: the soft filter first, then the main one lets clone3 through to it.
        let soft = clone3_denial().map_err(|e| failed(e.to_string()))?;
        apply(
            soft,
            SeccompAction::Allow,
            SeccompAction::Errno(ENOSYS),
            arch,
        )
        .map_err(failed)?;
        list.always(&[libc::SYS_clone3]);
    }
    let rules = list.into_rules().map_err(|e| failed(e.to_string()))?;
    let mismatch = match violation {
        Violation::Deny => SeccompAction::Errno(EPERM),
        Violation::Kill => SeccompAction::KillProcess,
        Violation::Log => SeccompAction::Log,
    };
    apply(rules, mismatch, SeccompAction::Allow, arch).map_err(failed)
}

const EPERM: u32 = libc::EPERM as u32;
const ENOSYS: u32 = libc::ENOSYS as u32;

/// glibc's syslog(3) opens a new AF_UNIX socket when the one it holds stops working (syslogd
/// was restarted). Under "stdio" without "unix" that attempt fails with EPERM in every
/// violation mode, in a filter of its own: seccomp applies the strictest answer of all filters,
/// so the main filter lets AF_UNIX `socket` through to this one. The process loses log lines,
/// not its life; every other family still gets the violation action.
fn syslog_reconnect_denial() -> Result<BTreeMap<i64, Vec<SeccompRule>>, seccompiler::BackendError> {
    let mut list = Allowlist::default();
    list.when(libc::SYS_socket, vec![equals(0, libc::AF_UNIX)]);
    list.into_rules()
}

/// clone3 passes its flags in memory, where seccomp cannot tell a thread from a process. Under
/// "children" it fails with ENOSYS in every violation mode, in a filter of its own (as the
/// syslog reconnect above): glibc then starts threads with clone, whose flags "children" checks.
fn clone3_denial() -> Result<BTreeMap<i64, Vec<SeccompRule>>, seccompiler::BackendError> {
    let mut list = Allowlist::default();
    list.always(&[libc::SYS_clone3]);
    list.into_rules()
}

fn apply(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    mismatch: SeccompAction,
    matched: SeccompAction,
    arch: TargetArch,
) -> Result<(), String> {
    let filter = SeccompFilter::new(rules, mismatch, matched, arch).map_err(|e| e.to_string())?;
    let program = BpfProgram::try_from(filter).map_err(|e| e.to_string())?;
    seccompiler::apply_filter_all_threads(&program).map_err(|e| e.to_string())
}

fn allowlist(promises: &Promises, children: &[u32]) -> Allowlist {
    let mut list = Allowlist::default();
    for promise in promises.iter() {
        match promise {
            Promise::Stdio => stdio(&mut list),
            Promise::Rpath => rpath(&mut list),
            Promise::Wpath => wpath(&mut list),
            Promise::Cpath => cpath(&mut list, promises.contains(Promise::Wpath)),
            Promise::Fattr => fattr(&mut list),
            Promise::Flock => flock(&mut list),
            Promise::Inet => {
                socket_calls(&mut list);
                list.when(libc::SYS_socket, vec![equals(0, libc::AF_INET)]);
                list.when(libc::SYS_socket, vec![equals(0, libc::AF_INET6)]);
            }
            // Unlike OpenBSD's "stdio", which has socketpair: no slaacd process makes a pair
            // once confined, so a new pair of sockets comes with "unix" only.
            Promise::Unix => {
                socket_calls(&mut list);
                list.when(libc::SYS_socket, vec![equals(0, libc::AF_UNIX)]);
                list.when(libc::SYS_socketpair, vec![equals(0, libc::AF_UNIX)]);
            }
            Promise::Route => {
                socket_calls(&mut list);
                // Interface names and indexes too come from rtnetlink (RTM_GETLINK): no
                // SIOCGIFNAME/SIOCGIFINDEX ioctl, which is what glibc's if_indextoname and
                // if_nametoindex would make on an AF_UNIX socket.
                list.when(
                    libc::SYS_socket,
                    vec![equals(0, libc::AF_NETLINK), equals(2, libc::NETLINK_ROUTE)],
                );
            }
            // Descriptors travel inside sendmsg/recvmsg, which stdio allows; seccomp cannot
            // look into the message, so these promises add nothing on Linux.
            Promise::Recvfd | Promise::Sendfd => {}
            Promise::Proc => proc(&mut list),
            Promise::Children => own_children(&mut list, children),
            Promise::Exec => exec(&mut list),
        }
    }
    list
}

/// Calls on sockets the process already holds, each narrowed as far as its arguments allow:
/// seccomp cannot see which socket an fd is, but it can pin a socket option's level and name.
fn held_socket_calls(list: &mut Allowlist, held: &[HeldSocketCall]) {
    for call in held {
        match *call {
            HeldSocketCall::Accept => list.always(&[libc::SYS_accept, libc::SYS_accept4]),
            HeldSocketCall::SetOption { level, name } => list.when(
                libc::SYS_setsockopt,
                vec![equals(1, level), equals(2, name)],
            ),
        }
    }
}

fn stdio(list: &mut Allowlist) {
    list.always(&[
        // I/O on descriptors already held.
        libc::SYS_read,
        libc::SYS_readv,
        libc::SYS_pread64,
        libc::SYS_preadv,
        libc::SYS_write,
        libc::SYS_writev,
        libc::SYS_pwrite64,
        libc::SYS_pwritev,
        libc::SYS_close,
        libc::SYS_lseek,
        libc::SYS_fstat,
        libc::SYS_fsync,
        libc::SYS_fdatasync,
        libc::SYS_ftruncate,
        libc::SYS_dup,
        libc::SYS_dup3,
        libc::SYS_pipe2,
        libc::SYS_recvmsg,
        libc::SYS_recvmmsg,
        libc::SYS_recvfrom,
        libc::SYS_sendmsg,
        libc::SYS_sendmmsg,
        libc::SYS_sendto,
        libc::SYS_shutdown,
        libc::SYS_getsockopt,
        libc::SYS_getsockname,
        libc::SYS_getpeername,
        // Memory.
        libc::SYS_brk,
        libc::SYS_munmap,
        libc::SYS_mremap,
        libc::SYS_madvise,
        // Waiting and time.
        libc::SYS_futex,
        libc::SYS_sched_yield,
        libc::SYS_epoll_create1,
        libc::SYS_epoll_ctl,
        libc::SYS_epoll_pwait,
        libc::SYS_epoll_pwait2,
        libc::SYS_eventfd2,
        libc::SYS_ppoll,
        libc::SYS_pselect6,
        libc::SYS_clock_gettime,
        libc::SYS_clock_getres,
        libc::SYS_clock_nanosleep,
        libc::SYS_nanosleep,
        libc::SYS_gettimeofday,
        // Signals and process state.
        libc::SYS_rt_sigreturn,
        libc::SYS_rt_sigprocmask,
        libc::SYS_rt_sigaction,
        libc::SYS_sigaltstack,
        libc::SYS_restart_syscall,
        libc::SYS_exit,
        libc::SYS_exit_group,
        libc::SYS_getpid,
        libc::SYS_gettid,
        libc::SYS_getppid,
        libc::SYS_getuid,
        libc::SYS_geteuid,
        libc::SYS_getgid,
        libc::SYS_getegid,
        libc::SYS_getresuid,
        libc::SYS_getresgid,
        libc::SYS_getgroups,
        libc::SYS_getrandom,
        libc::SYS_sched_getaffinity,
    ]);
    #[cfg(target_arch = "x86_64")]
    list.always(&[libc::SYS_epoll_wait, libc::SYS_poll, libc::SYS_dup2]);

    // Signals only to this process (abort(), raise()); other processes need "proc", or
    // "children" for the pids it names.
    let own_pid = std::process::id();
    list.when(libc::SYS_kill, vec![equals(0, own_pid)]);
    list.when(libc::SYS_tgkill, vec![equals(0, own_pid)]);
    // Reading any process's limits: prlimit64(pid, resource, NULL, old).
    list.when(libc::SYS_prlimit64, vec![ArgTest::Null { arg: 2 }]);
    // Setting the own limits, so a later step can lower them (setrlimit is prlimit64 with pid
    // 0). An unprivileged process cannot raise a hard limit, so for it this only narrows.
    list.when(libc::SYS_prlimit64, vec![equals(0, 0u64)]);
    // No executable mappings: loaded code stays all the code there is.
    list.when(libc::SYS_mmap, vec![masked(2, libc::PROT_EXEC, 0u64)]);
    list.when(libc::SYS_mprotect, vec![masked(2, libc::PROT_EXEC, 0u64)]);
    // std and glibc stat descriptors with AT_EMPTY_PATH; stat by path needs "rpath".
    list.when(
        libc::SYS_statx,
        vec![masked(2, libc::AT_EMPTY_PATH, libc::AT_EMPTY_PATH)],
    );
    list.when(
        libc::SYS_newfstatat,
        vec![masked(3, libc::AT_EMPTY_PATH, libc::AT_EMPTY_PATH)],
    );
    // A later pledge may narrow further (OpenBSD allows pledge under any promises): setting
    // no_new_privs and stacking one more filter can only take rights away.
    list.when(libc::SYS_prctl, vec![equals(0, libc::PR_SET_NO_NEW_PRIVS)]);
    list.when(libc::SYS_prctl, vec![equals(0, libc::PR_GET_NO_NEW_PRIVS)]);
    list.when(
        libc::SYS_seccomp,
        vec![equals(0, libc::SECCOMP_SET_MODE_FILTER)],
    );
    for command in [
        libc::F_GETFD,
        libc::F_SETFD,
        libc::F_GETFL,
        libc::F_SETFL,
        libc::F_DUPFD_CLOEXEC,
    ] {
        list.when(libc::SYS_fcntl, vec![equals(1, command)]);
    }
    for request in [libc::FIONBIO, libc::FIOCLEX, libc::FIONCLEX, libc::FIONREAD] {
        list.when(libc::SYS_ioctl, vec![equals(1, request)]);
    }
}

fn socket_calls(list: &mut Allowlist) {
    list.always(&[
        libc::SYS_bind,
        libc::SYS_connect,
        libc::SYS_listen,
        libc::SYS_accept,
        libc::SYS_accept4,
        libc::SYS_setsockopt,
    ]);
}

fn rpath(list: &mut Allowlist) {
    list.always(&[
        libc::SYS_statx,
        libc::SYS_newfstatat,
        libc::SYS_readlinkat,
        libc::SYS_getdents64,
        libc::SYS_faccessat,
        libc::SYS_faccessat2,
        libc::SYS_getcwd,
        libc::SYS_chdir,
        libc::SYS_fchdir,
    ]);
    let mode_bits = libc::O_ACCMODE | libc::O_CREAT | libc::O_TRUNC;
    list.when(libc::SYS_openat, vec![masked(2, mode_bits, libc::O_RDONLY)]);
    // glibc on x86_64 still makes the old path calls for some functions.
    #[cfg(target_arch = "x86_64")]
    {
        list.always(&[
            libc::SYS_stat,
            libc::SYS_lstat,
            libc::SYS_access,
            libc::SYS_readlink,
        ]);
        list.when(libc::SYS_open, vec![masked(1, mode_bits, libc::O_RDONLY)]);
    }
}

fn wpath(list: &mut Allowlist) {
    let mode_bits = libc::O_ACCMODE | libc::O_CREAT;
    list.when(libc::SYS_openat, vec![masked(2, mode_bits, libc::O_WRONLY)]);
    list.when(libc::SYS_openat, vec![masked(2, mode_bits, libc::O_RDWR)]);
    #[cfg(target_arch = "x86_64")]
    {
        list.when(libc::SYS_open, vec![masked(1, mode_bits, libc::O_WRONLY)]);
        list.when(libc::SYS_open, vec![masked(1, mode_bits, libc::O_RDWR)]);
    }
}

/// Creating a file with `open(O_CREAT)` needs "wpath" as well, as on OpenBSD.
fn cpath(list: &mut Allowlist, with_wpath: bool) {
    list.always(&[
        libc::SYS_mkdirat,
        libc::SYS_unlinkat,
        libc::SYS_renameat,
        libc::SYS_renameat2,
        libc::SYS_linkat,
        libc::SYS_symlinkat,
    ]);
    #[cfg(target_arch = "x86_64")]
    list.always(&[
        libc::SYS_mkdir,
        libc::SYS_rmdir,
        libc::SYS_unlink,
        libc::SYS_rename,
        libc::SYS_link,
        libc::SYS_symlink,
    ]);
    if with_wpath {
        list.when(
            libc::SYS_openat,
            vec![masked(2, libc::O_CREAT, libc::O_CREAT)],
        );
        #[cfg(target_arch = "x86_64")]
        list.when(
            libc::SYS_open,
            vec![masked(1, libc::O_CREAT, libc::O_CREAT)],
        );
    }
}

/// Modes, owners and times, as OpenBSD's "fattr"; which files, Landlock decides.
fn fattr(list: &mut Allowlist) {
    list.always(&[
        libc::SYS_fchmod,
        libc::SYS_fchmodat,
        libc::SYS_fchown,
        libc::SYS_fchownat,
        libc::SYS_utimensat,
    ]);
    #[cfg(target_arch = "x86_64")]
    list.always(&[libc::SYS_chmod, libc::SYS_chown, libc::SYS_lchown]);
}

/// Whole-file and record locks on descriptors already open.
fn flock(list: &mut Allowlist) {
    list.always(&[libc::SYS_flock]);
    for command in [
        libc::F_GETLK,
        libc::F_SETLK,
        libc::F_SETLKW,
        libc::F_OFD_GETLK,
        libc::F_OFD_SETLK,
        libc::F_OFD_SETLKW,
    ] {
        list.when(libc::SYS_fcntl, vec![equals(1, command)]);
    }
}

fn proc(list: &mut Allowlist) {
    list.always(&[
        libc::SYS_clone,
        libc::SYS_clone3,
        libc::SYS_wait4,
        libc::SYS_waitid,
        // tokio waits for a child it spawned through a pidfd where the kernel has them.
        libc::SYS_pidfd_open,
        libc::SYS_kill,
        libc::SYS_tgkill,
        libc::SYS_set_robust_list,
        libc::SYS_rseq,
        libc::SYS_setsid,
        libc::SYS_setpgid,
        libc::SYS_getpgid,
    ]);
    #[cfg(target_arch = "x86_64")]
    list.always(&[libc::SYS_fork, libc::SYS_vfork]);
}

/// The processes the caller already has, named by pid: signalling them (kill, any signal)
/// and waiting for them (wait4, and waitid by P_PID), each by its own pid. Not by the kernel's
/// permission check alone: a root process with CAP_KILL passes it for every process. No
/// process group, no -1, no other pid, not even with signal 0 (which would tell it which pids
/// exist; it never needs to ask). Threads, because a clean-up may need one (they inherit every
/// restriction, seccomp and Landlock alike): clone only with CLONE_THREAD, which the kernel
/// accepts only with CLONE_SIGHAND and CLONE_VM, so never a new process; the thread's start-up
/// (robust futex list, rseq, its name). Never fork or vfork.
fn own_children(list: &mut Allowlist, pids: &[u32]) {
    for &pid in pids {
        list.when(libc::SYS_kill, vec![equals(0, pid)]);
        list.when(libc::SYS_wait4, vec![equals(0, pid)]);
        list.when(
            libc::SYS_waitid,
            vec![equals(0, libc::P_PID), equals(1, pid)],
        );
    }
    list.always(&[libc::SYS_set_robust_list, libc::SYS_rseq]);
    list.when(
        libc::SYS_clone,
        vec![masked(0, libc::CLONE_THREAD, libc::CLONE_THREAD)],
    );
    list.when(libc::SYS_prctl, vec![equals(0, libc::PR_SET_NAME)]);
}

/// Executing programs. The filter stays in force across execve, so this also admits what a
/// new program image needs to start and run as a small tool: mapping its code (PROT_EXEC,
/// which "stdio" forbids), its thread and TLS set-up, and the classic calls of shells and
/// coreutils. OpenBSD splits this into "exec" and "prot_exec"; here one cannot execute a
/// dynamically linked program without the other.
fn exec(list: &mut Allowlist) {
    list.always(&[
        libc::SYS_execve,
        libc::SYS_execveat,
        libc::SYS_mmap,
        libc::SYS_mprotect,
        libc::SYS_set_tid_address,
        libc::SYS_set_robust_list,
        libc::SYS_rseq,
        libc::SYS_prlimit64,
        libc::SYS_uname,
        libc::SYS_umask,
        libc::SYS_getcwd,
        libc::SYS_getpgid,
        libc::SYS_setpgid,
        libc::SYS_sysinfo,
        libc::SYS_fadvise64,
        libc::SYS_fstatfs,
        libc::SYS_statfs,
    ]);
    #[cfg(target_arch = "x86_64")]
    list.always(&[
        libc::SYS_arch_prctl,
        libc::SYS_getpgrp,
        libc::SYS_pipe,
        libc::SYS_getdents,
        libc::SYS_getrlimit,
    ]);
    list.when(libc::SYS_fcntl, vec![equals(1, libc::F_DUPFD)]);
    list.when(libc::SYS_ioctl, vec![equals(1, libc::TCGETS)]);
    list.when(libc::SYS_ioctl, vec![equals(1, libc::TIOCGPGRP)]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(promises: &str, call: libc::c_long) -> Option<Option<usize>> {
        entry_with_children(promises, &[], call)
    }

    fn entry_with_children(
        promises: &str,
        children: &[u32],
        call: libc::c_long,
    ) -> Option<Option<usize>> {
        let list = allowlist(&promises.parse().unwrap(), children);
        list.0
            .get(&call)
            .map(|alternatives| alternatives.as_ref().map(Vec::len))
    }

    #[test]
    fn stdio_alone_has_no_socket_creation_and_no_open() {
        assert_eq!(entry("stdio", libc::SYS_openat), None);
        assert_eq!(entry("stdio", libc::SYS_socket), None);
        assert_eq!(entry("stdio", libc::SYS_socketpair), None);
        assert_eq!(entry("stdio unix", libc::SYS_socketpair), Some(Some(1)));
        assert_eq!(entry("stdio", libc::SYS_execve), None);
        assert_eq!(entry("stdio", libc::SYS_read), Some(None));
    }

    #[test]
    fn socket_families_accumulate_as_alternatives() {
        assert_eq!(entry("stdio inet unix", libc::SYS_socket), Some(Some(3)));
        assert_eq!(entry("stdio route", libc::SYS_socket), Some(Some(1)));
    }

    #[test]
    fn unconditional_entry_wins_over_conditional_ones() {
        // stdio allows statx only on descriptors; rpath allows it on paths too.
        assert_eq!(entry("stdio", libc::SYS_statx), Some(Some(1)));
        assert_eq!(entry("stdio rpath", libc::SYS_statx), Some(None));

        let mut list = Allowlist::default();
        list.always(&[libc::SYS_statx]);
        list.when(libc::SYS_statx, vec![equals(2, 1u64)]);
        assert!(matches!(list.0.get(&libc::SYS_statx), Some(None)));
    }

    #[test]
    fn open_for_creation_needs_wpath_and_cpath() {
        assert_eq!(entry("stdio cpath", libc::SYS_openat), None);
        assert_eq!(entry("stdio wpath cpath", libc::SYS_openat), Some(Some(3)));
    }

    #[test]
    fn held_socket_calls_add_no_socket_creation() {
        let mut list = allowlist(&"stdio".parse().unwrap(), &[]);
        held_socket_calls(
            &mut list,
            &[
                HeldSocketCall::Accept,
                HeldSocketCall::SetOption {
                    level: libc::IPPROTO_IPV6,
                    name: libc::IPV6_RECVPKTINFO,
                },
                HeldSocketCall::SetOption {
                    level: libc::IPPROTO_IPV6,
                    name: libc::IPV6_UNICAST_HOPS,
                },
            ],
        );
        assert!(!list.0.contains_key(&libc::SYS_socket));
        assert!(!list.0.contains_key(&libc::SYS_bind));
        assert!(!list.0.contains_key(&libc::SYS_connect));
        assert!(matches!(list.0.get(&libc::SYS_accept4), Some(None)));
        let setsockopt = list.0.get(&libc::SYS_setsockopt);
        assert!(
            matches!(setsockopt, Some(Some(alternatives)) if alternatives.len() == 2),
            "each option is one alternative"
        );
    }

    #[test]
    fn only_exec_maps_code_and_no_promise_names_interfaces_by_ioctl() {
        // "stdio" maps memory only without PROT_EXEC; a program executed under "exec" needs it.
        assert_eq!(entry("stdio", libc::SYS_mmap), Some(Some(1)));
        assert_eq!(entry("stdio exec", libc::SYS_mmap), Some(None));
        // FIONBIO, FIOCLEX, FIONCLEX, FIONREAD; "route" adds no ioctl (names come by netlink).
        assert_eq!(entry("stdio", libc::SYS_ioctl), Some(Some(4)));
        assert_eq!(entry("stdio route", libc::SYS_ioctl), Some(Some(4)));
        assert_eq!(entry("stdio", libc::SYS_fchmod), None);
        assert_eq!(entry("stdio fattr", libc::SYS_fchmod), Some(None));
        assert_eq!(entry("stdio", libc::SYS_flock), None);
        assert_eq!(entry("stdio flock", libc::SYS_flock), Some(None));
    }

    #[test]
    fn children_waits_for_and_signals_its_pids_only_and_clones_only_threads() {
        let pids = [4000, 4001];
        // One alternative per pid; kill also keeps stdio's own pid.
        assert_eq!(
            entry_with_children("stdio children", &pids, libc::SYS_kill),
            Some(Some(3))
        );
        for call in [libc::SYS_wait4, libc::SYS_waitid] {
            assert_eq!(
                entry_with_children("stdio children", &pids, call),
                Some(Some(2)),
                "{call}"
            );
            assert_eq!(entry("stdio children", call), None, "{call}");
        }
        assert_eq!(entry("stdio children", libc::SYS_kill), Some(Some(1)));
        assert_eq!(entry("stdio proc", libc::SYS_kill), Some(None));
        // One alternative: the CLONE_THREAD flag test.
        assert_eq!(entry("stdio children", libc::SYS_clone), Some(Some(1)));
        assert_eq!(entry("stdio proc", libc::SYS_clone), Some(None));
        #[cfg(target_arch = "x86_64")]
        for call in [libc::SYS_fork, libc::SYS_vfork] {
            assert_eq!(entry("stdio children", call), None, "{call}");
            assert_eq!(entry("stdio proc", call), Some(None), "{call}");
        }
        for call in [libc::SYS_setsid, libc::SYS_setpgid, libc::SYS_pidfd_open] {
            assert_eq!(entry("stdio children", call), None, "{call}");
        }
    }

    #[test]
    fn every_promise_set_compiles_to_bpf() {
        let promises =
            "stdio rpath wpath cpath fattr flock inet unix route recvfd sendfd proc children exec";
        let rules = allowlist(&promises.parse().unwrap(), &[4000, 4001])
            .into_rules()
            .unwrap();
        let arch = TargetArch::try_from(std::env::consts::ARCH).unwrap();
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::KillProcess,
            SeccompAction::Allow,
            arch,
        )
        .unwrap();
        assert!(!BpfProgram::try_from(filter).unwrap().is_empty());
    }
}
