//! The messages between the parent and its resolvconf helper, over their socket pair: a
//! greeting from the helper once it is confined, then one request from the parent and one
//! answer from the helper at a time. Each frame is a version byte, a kind byte, a big-endian
//! u32 body length and the body; every field is bounded, so neither side ever reads or buffers
//! more than [`MAX_BODY`] bytes for one frame.
//!
//! It only encodes and decodes: it must never run anything, and never accept a frame of
//! another version (the helper is the parent's own executable, but a package upgrade can
//! replace the file between the parent's start and the helper's).

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// The version of this format; both sides must use the same.
pub const VERSION: u8 = 1;

/// The header: version, kind, body length.
pub const HEADER_LEN: usize = 6;

/// The longest interface name Linux allows (IFNAMSIZ - 1).
pub const MAX_INTERFACE: usize = 15;

/// The most resolv.conf lines one request carries: far above what 64 servers and 64 domains
/// take, and below a pipe's capacity, so writing them to resolvconf never blocks.
pub const MAX_LINES: usize = 32 * 1024;

/// The most of resolvconf's standard error an answer carries; the rest is dropped.
pub const MAX_STDERR: usize = 2048;

/// The largest body of any frame.
pub const MAX_BODY: usize = 2 + MAX_INTERFACE + MAX_LINES;

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("message of version {found}, expected {VERSION}")]
    Version { found: u8 },
    #[error("unexpected message kind {found} (expected {expected})")]
    Kind { found: u8, expected: u8 },
    #[error("message body of {0} bytes, more than {MAX_BODY}")]
    TooLong(usize),
    #[error("malformed {0}")]
    Malformed(&'static str),
}

/// What a frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// The helper is confined and waits for requests; no body.
    Ready = 1,
    Request = 2,
    Answer = 3,
}

/// What resolvconf is asked to do with an interface's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `-a RECORD`, the lines on standard input.
    Add,
    /// `-d RECORD`.
    Delete,
    /// `-d RECORD -f`: no error if there is no such record.
    DeleteIfPresent,
}

impl Action {
    fn code(self) -> u8 {
        match self {
            Action::Add => 1,
            Action::Delete => 2,
            Action::DeleteIfPresent => 3,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Action::Add),
            2 => Some(Action::Delete),
            3 => Some(Action::DeleteIfPresent),
            _ => None,
        }
    }
}

/// One request: an action on the record of `interface`, with `lines` for `Add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub action: Action,
    pub interface: String,
    pub lines: String,
}

/// How resolvconf ended, as the helper saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// It ran and exited (or was killed by a signal): its status and its standard error.
    Exited { status: ExitStatus, stderr: String },
    /// It could not be started: the error number.
    NotStarted { errno: i32 },
    /// It did not finish in time and was killed.
    TimedOut,
    /// The helper refused the request (an interface name it does not accept).
    Refused { reason: String },
}

/// The header of a frame of `kind` with a body of `len` bytes.
fn header(kind: Kind, len: usize) -> [u8; HEADER_LEN] {
    // Every body is built below MAX_BODY, which fits in a u32.
    let len = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    [VERSION, kind as u8, len[0], len[1], len[2], len[3]]
}

/// Checks a received header against the `expected` kind and returns the body's length.
pub fn parse_header(bytes: [u8; HEADER_LEN], expected: Kind) -> Result<usize, ProtocolError> {
    if bytes[0] != VERSION {
        return Err(ProtocolError::Version { found: bytes[0] });
    }
    if bytes[1] != expected as u8 {
        return Err(ProtocolError::Kind {
            found: bytes[1],
            expected: expected as u8,
        });
    }
    let len = u32::from_be_bytes([bytes[2], bytes[3], bytes[4], bytes[5]]) as usize;
    if len > MAX_BODY {
        return Err(ProtocolError::TooLong(len));
    }
    Ok(len)
}

/// The helper's greeting.
pub fn encode_ready() -> Vec<u8> {
    header(Kind::Ready, 0).to_vec()
}

/// A request frame; fails on an interface name or lines beyond the bounds.
pub fn encode_request(request: &Request) -> Result<Vec<u8>, ProtocolError> {
    let interface = request.interface.as_bytes();
    if interface.is_empty() || interface.len() > MAX_INTERFACE {
        return Err(ProtocolError::Malformed("interface name"));
    }
    if request.lines.len() > MAX_LINES {
        return Err(ProtocolError::TooLong(request.lines.len()));
    }
    let body_len = 2 + interface.len() + request.lines.len();
    let mut frame = header(Kind::Request, body_len).to_vec();
    // Bounded above: the length fits in a byte.
    frame.push(request.action.code());
    frame.push(interface.len() as u8);
    frame.extend_from_slice(interface);
    frame.extend_from_slice(request.lines.as_bytes());
    Ok(frame)
}

/// A request from its body.
pub fn decode_request(body: &[u8]) -> Result<Request, ProtocolError> {
    let [code, len, rest @ ..] = body else {
        return Err(ProtocolError::Malformed("request"));
    };
    let action = Action::from_code(*code).ok_or(ProtocolError::Malformed("request action"))?;
    let len = usize::from(*len);
    if len == 0 || len > MAX_INTERFACE || rest.len() < len {
        return Err(ProtocolError::Malformed("interface name"));
    }
    let (interface, lines) = rest.split_at(len);
    let text = |bytes: &[u8], what| {
        String::from_utf8(bytes.to_vec()).map_err(|_| ProtocolError::Malformed(what))
    };
    Ok(Request {
        action,
        interface: text(interface, "interface name")?,
        lines: text(lines, "resolv.conf lines")?,
    })
}

/// An answer frame; standard error and reasons are cut to [`MAX_STDERR`] bytes.
pub fn encode_answer(answer: &Answer) -> Vec<u8> {
    let (code, number, text): (u8, i32, &str) = match answer {
        Answer::Exited { status, stderr } => (1, status.into_raw(), stderr),
        Answer::NotStarted { errno } => (2, *errno, ""),
        Answer::TimedOut => (3, 0, ""),
        Answer::Refused { reason } => (4, 0, reason),
    };
    let text = truncate(text, MAX_STDERR);
    let mut frame = header(Kind::Answer, 5 + text.len()).to_vec();
    frame.push(code);
    frame.extend_from_slice(&number.to_be_bytes());
    frame.extend_from_slice(text.as_bytes());
    frame
}

/// An answer from its body.
pub fn decode_answer(body: &[u8]) -> Result<Answer, ProtocolError> {
    let [code, n0, n1, n2, n3, text @ ..] = body else {
        return Err(ProtocolError::Malformed("answer"));
    };
    if text.len() > MAX_STDERR {
        return Err(ProtocolError::TooLong(text.len()));
    }
    let number = i32::from_be_bytes([*n0, *n1, *n2, *n3]);
    let text = String::from_utf8_lossy(text).into_owned();
    match code {
        1 => Ok(Answer::Exited {
            status: ExitStatus::from_raw(number),
            stderr: text,
        }),
        2 => Ok(Answer::NotStarted { errno: number }),
        3 => Ok(Answer::TimedOut),
        4 => Ok(Answer::Refused { reason: text }),
        _ => Err(ProtocolError::Malformed("answer kind")),
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(frame: &[u8], kind: Kind) -> &[u8] {
        let len = parse_header(frame[..HEADER_LEN].try_into().unwrap(), kind).unwrap();
        assert_eq!(frame.len(), HEADER_LEN + len);
        &frame[HEADER_LEN..]
    }

    #[test]
    fn requests_round_trip() {
        for action in [Action::Add, Action::Delete, Action::DeleteIfPresent] {
            let request = Request {
                action,
                interface: "eth0".into(),
                lines: if action == Action::Add {
                    "nameserver 2001:db8::53\n".into()
                } else {
                    String::new()
                },
            };
            let frame = encode_request(&request).unwrap();
            assert_eq!(
                decode_request(body(&frame, Kind::Request)).unwrap(),
                request
            );
        }
    }

    #[test]
    fn answers_round_trip() {
        for answer in [
            Answer::Exited {
                status: ExitStatus::from_raw(3 << 8),
                stderr: "no space left".into(),
            },
            Answer::Exited {
                status: ExitStatus::from_raw(9),
                stderr: String::new(),
            },
            Answer::NotStarted { errno: 2 },
            Answer::TimedOut,
            Answer::Refused {
                reason: "bad name".into(),
            },
        ] {
            let frame = encode_answer(&answer);
            assert_eq!(decode_answer(body(&frame, Kind::Answer)).unwrap(), answer);
        }
        assert_eq!(body(&encode_ready(), Kind::Ready), b"");
    }

    #[test]
    fn bounds_are_kept() {
        let long = Request {
            action: Action::Add,
            interface: "eth0".into(),
            lines: "x".repeat(MAX_LINES + 1),
        };
        assert!(encode_request(&long).is_err());
        let long_name = Request {
            action: Action::Delete,
            interface: "a".repeat(MAX_INTERFACE + 1),
            lines: String::new(),
        };
        assert!(encode_request(&long_name).is_err());
        let answer = encode_answer(&Answer::Exited {
            status: ExitStatus::from_raw(1 << 8),
            stderr: "é".repeat(MAX_STDERR),
        });
        let Answer::Exited { stderr, .. } = decode_answer(body(&answer, Kind::Answer)).unwrap()
        else {
            panic!("not an exit");
        };
        assert!(stderr.len() <= MAX_STDERR && stderr.len() > MAX_STDERR - 2);
    }

    #[test]
    fn foreign_or_oversized_frames_are_refused() {
        let mut frame = encode_ready();
        frame[0] = VERSION + 1;
        let header: [u8; HEADER_LEN] = frame[..HEADER_LEN].try_into().unwrap();
        assert_eq!(
            parse_header(header, Kind::Ready),
            Err(ProtocolError::Version { found: VERSION + 1 })
        );
        let ready: [u8; HEADER_LEN] = encode_ready().try_into().unwrap();
        assert!(matches!(
            parse_header(ready, Kind::Answer),
            Err(ProtocolError::Kind { .. })
        ));
        let mut huge = ready;
        huge[1] = Kind::Request as u8;
        huge[2..].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            parse_header(huge, Kind::Request),
            Err(ProtocolError::TooLong(_))
        ));
        assert!(decode_request(&[9, 1, b'x']).is_err());
        assert!(decode_request(&[1, 5, b'x']).is_err());
        assert!(decode_answer(&[1, 0, 0]).is_err());
    }
}
