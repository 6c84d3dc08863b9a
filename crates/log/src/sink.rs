//! The writer behind the formatter: stderr or syslog, picked once at start-up. It must never
//! split one event across two writes, since syslog sends each write-and-flush as one message.

use std::io::{Stderr, stderr};

use syslog_tracing::{Syslog, SyslogWriter};
use tracing::Metadata;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::writer::EitherWriter;

pub(crate) enum Sink {
    Stderr,
    /// Holds syslog open (openlog) for the life of the process.
    Syslog(Syslog),
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = EitherWriter<Stderr, SyslogWriter>;

    fn make_writer(&'a self) -> Self::Writer {
        match self {
            Sink::Stderr => EitherWriter::A(stderr()),
            Sink::Syslog(syslog) => EitherWriter::B(syslog.make_writer()),
        }
    }

    // The level picks the syslog priority of the message.
    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        match self {
            Sink::Stderr => EitherWriter::A(stderr()),
            Sink::Syslog(syslog) => EitherWriter::B(syslog.make_writer_for(meta)),
        }
    }
}
