//! The text of one log line: `<time> <process>: <LEVEL> <spans>: <message and fields>` on a
//! terminal, `<N><process>: ...` for the journal (N is the syslog severity), and the bare
//! message for syslog, which adds ident, pid and priority itself. It must never emit ANSI
//! colours or more than one line per event of its own making.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use crate::Destination;

pub(crate) struct LineFormat {
    process: &'static str,
    destination: Destination,
}

impl LineFormat {
    pub(crate) fn new(process: &'static str, destination: Destination) -> Self {
        Self {
            process,
            destination,
        }
    }
}

/// syslog(3) severities, which the journal also reads from a `<N>` line prefix.
fn severity(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = *event.metadata().level();
        match self.destination {
            Destination::Terminal => {
                SystemTime.format_time(&mut writer)?;
                write!(writer, " {}: {level} ", self.process)?;
            }
            Destination::Journal => write!(writer, "<{}>{}: ", severity(level), self.process)?,
            Destination::Syslog => {}
        }
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                write!(writer, "{}", span.name())?;
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(writer, "{{{fields}}}")?;
                }
                write!(writer, ": ")?;
            }
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        // syslog takes one message per call; a newline would end up inside it.
        if self.destination != Destination::Syslog {
            writeln!(writer)?;
        }
        Ok(())
    }
}
