//! The unprivileged frontend process of slaacd: it moves packets and kernel
//! events between the network and the engine.

pub mod control;
pub mod drop_report;
pub mod icmp6;
pub mod interfaces;
pub mod netlink;
pub mod packet;
pub mod relay_queue;
pub mod service;
#[cfg(test)]
mod test_runtime;
