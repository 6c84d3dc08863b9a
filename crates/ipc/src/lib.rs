//! The IPC layer shared by slaacd's processes: the Cap'n Proto schema and the
//! transport that carries file descriptors beside the RPC bytes.

#[allow(clippy::all, clippy::pedantic, unsafe_op_in_unsafe_fn)]
pub mod slaacd_capnp {
    include!(concat!(env!("OUT_DIR"), "/slaacd_capnp.rs"));
}
