//! The output formats of slaacctl: `show interface` in OpenBSD's text layout
//! and as JSON, and `monitor`'s events as text lines and JSON lines.
//!
//! Each formats a plain model (`report`, `event`) into a string; none writes
//! to a stream nor talks to the daemon.

pub mod event_json;
pub mod event_text;
pub mod json;
pub mod text;
