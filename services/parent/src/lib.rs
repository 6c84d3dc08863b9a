//! The privileged parent process of slaacd.

pub mod children;
pub mod config;
pub mod confine;
pub mod control_socket;
pub mod daemon;
pub mod interface_names;
pub mod kernel;
pub mod kernel_service;
pub mod key;
pub mod lock;
pub mod logging_service;
pub mod resolver;
pub mod supervisor;
pub mod sysctl;
