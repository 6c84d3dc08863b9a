//! The IPC layer shared by slaacd's processes: the Cap'n Proto schema and the
//! transport that carries file descriptors beside the RPC bytes.

#[allow(clippy::all, clippy::pedantic, unsafe_op_in_unsafe_fn)]
pub mod slaacd_capnp {
    include!(concat!(env!("OUT_DIR"), "/slaacd_capnp.rs"));
}

pub mod channel;
pub mod child;
pub mod convert;
pub mod fdstream;
pub mod network;
mod socket_kind;
#[cfg(test)]
mod test_support;

pub use capnp_rpc::rpc_twoparty_capnp::Side;
pub use channel::{Channel, send_fd, take_fd};
pub use fdstream::{FdQueues, OpenError, ProtocolError, TakeFdError};
