//! The privileged parent process of slaacd.

pub mod daemon;
pub mod kernel;
pub mod key;
pub mod lock;
pub mod sysctl;
