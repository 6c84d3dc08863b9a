//! Logging for every slaacd process: where lines go (the terminal, the systemd journal or
//! syslog), how each line names its process, and a handle that changes the verbosity while the
//! process runs (`slaacctl log verbose|brief`). It must never write anywhere but the chosen
//! destination, and never log through more than one global subscriber per process.

mod destination;
mod format;
mod sink;

use std::ffi::CString;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use syslog_tracing::{Facility, Options, Syslog};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Registry, reload};

pub use destination::Destination;
use sink::Sink;

/// Why logging could not be set up or changed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("logging for {process} is already set up in this process")]
    AlreadyInitialized { process: &'static str },
    #[error("process name {process:?} cannot be a syslog ident (it contains a NUL byte)")]
    BadIdent { process: &'static str },
    #[error("cannot change the log verbosity of {process}: {reason}")]
    Reload {
        process: &'static str,
        reason: String,
    },
}

/// The maximum level logged at a verbosity: 0 is info, 1 debug (`-v`), 2 and more trace (`-vv`).
pub fn level_for(verbosity: u8) -> LevelFilter {
    match verbosity {
        0 => LevelFilter::INFO,
        1 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// Changes the verbosity of the process's logging while it runs. Cheap to clone.
#[derive(Clone)]
pub struct LogHandle {
    process: &'static str,
    filter: reload::Handle<LevelFilter, Registry>,
    verbosity: Arc<AtomicU8>,
}

impl LogHandle {
    /// Logs from now on at `verbosity` (see [`level_for`]).
    pub fn set_verbosity(&self, verbosity: u8) -> Result<(), LogError> {
        self.filter
            .reload(level_for(verbosity))
            .map_err(|error| LogError::Reload {
                process: self.process,
                reason: error.to_string(),
            })?;
        self.verbosity.store(verbosity, Ordering::Relaxed);
        Ok(())
    }

    /// The verbosity in force.
    pub fn verbosity(&self) -> u8 {
        self.verbosity.load(Ordering::Relaxed)
    }
}

/// Sets up logging for `process` (e.g. "slaacd-engine") and returns the verbosity handle.
///
/// `foreground` (`-d`) logs to stderr; then, when stderr is the systemd journal
/// (`JOURNAL_STREAM` names it), lines carry a `<N>` priority prefix instead of a timestamp.
/// Otherwise it logs to syslog, facility daemon, ident `process`, with the pid; the syslog
/// socket is opened here, so call this before the process confines itself. Records of the
/// `log` crate (used by netlink libraries) are forwarded too.
///
/// # Panics
/// If logging was already set up in this process: that is a bug in the caller, use
/// [`try_init`] where a second call is possible.
pub fn init(process: &'static str, foreground: bool, verbosity: u8) -> LogHandle {
    match try_init(process, foreground, verbosity) {
        Ok(handle) => handle,
        Err(error) => panic!("{error}"),
    }
}

/// Like [`init`], but reports a second call (or an unusable name) as an error.
pub fn try_init(
    process: &'static str,
    foreground: bool,
    verbosity: u8,
) -> Result<LogHandle, LogError> {
    let destination = Destination::choose(foreground);
    let (filter, filter_handle) = reload::Layer::new(level_for(verbosity));
    let sink = match destination {
        Destination::Syslog => {
            let ident = CString::new(process).map_err(|_| LogError::BadIdent { process })?;
            let options = Options::LOG_PID | Options::LOG_NDELAY;
            let syslog = Syslog::new(ident, options, Facility::Daemon)
                .ok_or(LogError::AlreadyInitialized { process })?;
            load_time_zone();
            Sink::Syslog(syslog)
        }
        Destination::Terminal | Destination::Journal => Sink::Stderr,
    };
    let output = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .event_format(format::LineFormat::new(process, destination))
        .with_writer(sink);
    tracing_subscriber::registry()
        .with(filter)
        .with(output)
        .try_init()
        .map_err(|_| LogError::AlreadyInitialized { process })?;
    Ok(LogHandle {
        process,
        filter: filter_handle,
        verbosity: Arc::new(AtomicU8::new(verbosity)),
    })
}

/// syslog(3) stamps each message with the local time, and libc reads the time zone file the
/// first time it converts a time. Do that now: once the process is confined it can no longer
/// open the file, and under a Kill pledge the attempt would end the process.
fn load_time_zone() {
    let epoch: libc::time_t = 0;
    let mut converted = std::mem::MaybeUninit::<libc::tm>::uninit();
    // SAFETY: both pointers are valid for the call; the result is not read.
    unsafe { libc::localtime_r(&epoch, converted.as_mut_ptr()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_maps_to_levels() {
        assert_eq!(level_for(0), LevelFilter::INFO);
        assert_eq!(level_for(1), LevelFilter::DEBUG);
        assert_eq!(level_for(2), LevelFilter::TRACE);
        assert_eq!(level_for(9), LevelFilter::TRACE);
    }
}
