//! The privileged parent process of slaacd.

pub mod daemon;
pub mod key;
pub mod kernel;
pub mod lock;
pub mod sysctl;
