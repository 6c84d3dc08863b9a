//! Choosing where log lines go. Foreground processes write to stderr, which is either a
//! terminal (or a file) or, under systemd, the journal; everything else goes to syslog. It
//! must never take stderr for the journal on the word of an inherited environment variable
//! alone: `JOURNAL_STREAM` must name the very file stderr is.

use std::os::fd::AsRawFd;

/// Where a process's log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// stderr, each line with a timestamp.
    Terminal,
    /// stderr connected to the systemd journal, which timestamps lines itself; each line
    /// starts with a `<N>` priority the journal understands.
    Journal,
    /// syslog(3), facility daemon.
    Syslog,
}

impl Destination {
    /// The destination for a process started with (`foreground`) or without `-d`.
    pub fn choose(foreground: bool) -> Self {
        if !foreground {
            return Destination::Syslog;
        }
        let journal = std::env::var("JOURNAL_STREAM").ok();
        match (
            journal.as_deref().and_then(parse_journal_stream),
            stderr_identity(),
        ) {
            (Some(stream), Some(stderr)) if stream == stderr => Destination::Journal,
            _ => Destination::Terminal,
        }
    }
}

/// `JOURNAL_STREAM` is "<device>:<inode>" of the journal's stream socket, in decimal.
fn parse_journal_stream(value: &str) -> Option<(u64, u64)> {
    let (device, inode) = value.split_once(':')?;
    Some((device.parse().ok()?, inode.parse().ok()?))
}

fn stderr_identity() -> Option<(u64, u64)> {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    let fd = std::io::stderr().as_raw_fd();
    // SAFETY: fstat writes a whole `struct stat` into the buffer it is given and nothing
    // else; the buffer is read only when the call succeeded.
    let stat = unsafe {
        if libc::fstat(fd, stat.as_mut_ptr()) != 0 {
            return None;
        }
        stat.assume_init()
    };
    Some((stat.st_dev, stat.st_ino))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_journal_stream() {
        assert_eq!(parse_journal_stream("8:123456"), Some((8, 123456)));
        assert_eq!(parse_journal_stream("8"), None);
        assert_eq!(parse_journal_stream("x:1"), None);
        assert_eq!(parse_journal_stream("1:"), None);
    }

    #[test]
    fn background_always_goes_to_syslog() {
        assert_eq!(Destination::choose(false), Destination::Syslog);
    }
}
