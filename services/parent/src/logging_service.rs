//! The `Logging` capability the parent hands the frontend: `slaacctl log
//! verbose|brief` changes the parent's own log verbosity through it.
//!
//! It only sets the verbosity of this process's logging. It must never decide
//! who may ask: the frontend checks the slaacctl peer before it calls.

use std::future::Future;
use std::rc::Rc;

use futures::future;
use slaacd_ipc::slaacd_capnp::logging;
use slaacd_log::LogHandle;

/// Serves `Logging` with the parent's log handle.
pub struct LoggingService {
    log: LogHandle,
}

impl LoggingService {
    pub fn new(log: LogHandle) -> Self {
        Self { log }
    }
}

impl logging::Server for LoggingService {
    fn set_verbosity(
        self: Rc<Self>,
        params: logging::SetVerbosityParams,
        _: logging::SetVerbosityResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        future::ready((|| {
            let verbosity = params.get()?.get_verbosity();
            self.log
                .set_verbosity(verbosity)
                .map_err(|error| capnp::Error::failed(error.to_string()))?;
            tracing::info!("logging at verbosity {verbosity}");
            Ok(())
        })())
    }
}
