//! The unprivileged frontend process of slaacd: it moves packets and kernel
//! events between the network and the engine.

pub mod icmp6;
pub mod netlink;
pub mod packet;
