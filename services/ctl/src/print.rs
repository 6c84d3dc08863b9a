//! The two output formats of `show interface`: OpenBSD's text layout and JSON.
//!
//! Both format the plain model of `report` into a string; neither writes to a
//! stream nor talks to the daemon.

pub mod json;
pub mod text;
