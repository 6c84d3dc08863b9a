//! Router Advertisements (RFC 4861 4.2): a checked view over received bytes
//! and the plain [`RouterAdvert`] representation with `parse` and `emit`.
//!
//! Parsing applies every RFC 4861 6.1.2 check that needs only the bytes (the
//! hop limit and source address are the receiver's job) plus each option's
//! length rule; one bad option rejects the whole advertisement. It must never
//! panic or read past the buffer, whatever the bytes.

use crate::error::ParseError;
use crate::option::{NdOption, header};
use crate::preference::RouterPreference;

/// ICMPv6 type of a Router Advertisement.
pub(crate) const ROUTER_ADVERT: u8 = 134;

/// The most options one advertisement may carry; more rejects it (an RA of
/// the 1500-byte link MTU holds at most 182, none of them useful past this).
pub const MAX_OPTIONS: usize = 128;

/// Header offsets, from the start of the ICMPv6 header.
mod field {
    use std::ops::Range;
    pub const KIND: usize = 0;
    pub const CODE: usize = 1;
    pub const CUR_HOP_LIMIT: usize = 4;
    pub const FLAGS: usize = 5;
    pub const ROUTER_LIFETIME: Range<usize> = 6..8;
    pub const REACHABLE_TIME: Range<usize> = 8..12;
    pub const RETRANS_TIMER: Range<usize> = 12..16;
    pub const OPTIONS: usize = 16;
    pub const FLAG_MANAGED: u8 = 0x80;
    pub const FLAG_OTHER: u8 = 0x40;
    pub const PREFERENCE_SHIFT: u8 = 3;
}

/// A view over a Router Advertisement whose header has been checked: type 134,
/// code 0, at least 16 bytes. Options are checked as they are iterated.
#[derive(Debug, Clone, Copy)]
pub struct RouterAdvertPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RouterAdvertPacket<T> {
    /// Checks the fixed header; `buffer` starts at the ICMPv6 header.
    pub fn new_checked(buffer: T) -> Result<Self, ParseError> {
        let bytes = buffer.as_ref();
        if bytes.len() < field::OPTIONS {
            return Err(ParseError::TooShort {
                length: bytes.len(),
            });
        }
        if bytes[field::KIND] != ROUTER_ADVERT {
            return Err(ParseError::NotRouterAdvert {
                kind: bytes[field::KIND],
            });
        }
        if bytes[field::CODE] != 0 {
            return Err(ParseError::BadCode {
                code: bytes[field::CODE],
            });
        }
        Ok(RouterAdvertPacket { buffer })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn cur_hop_limit(&self) -> u8 {
        self.bytes()[field::CUR_HOP_LIMIT]
    }

    pub fn managed(&self) -> bool {
        self.bytes()[field::FLAGS] & field::FLAG_MANAGED != 0
    }

    pub fn other(&self) -> bool {
        self.bytes()[field::FLAGS] & field::FLAG_OTHER != 0
    }

    pub fn preference(&self) -> RouterPreference {
        RouterPreference::from_bits(self.bytes()[field::FLAGS] >> field::PREFERENCE_SHIFT)
    }

    /// Seconds.
    pub fn router_lifetime(&self) -> u16 {
        let b = &self.bytes()[field::ROUTER_LIFETIME];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// Milliseconds.
    pub fn reachable_time(&self) -> u32 {
        self.read_u32(field::REACHABLE_TIME)
    }

    /// Milliseconds.
    pub fn retrans_timer(&self) -> u32 {
        self.read_u32(field::RETRANS_TIMER)
    }

    fn read_u32(&self, range: std::ops::Range<usize>) -> u32 {
        let b = &self.bytes()[range];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The options in order; an option whose length is zero or runs past the
    /// end is yielded as an error, after which iteration stops.
    pub fn options(&self) -> Options<'_> {
        Options {
            bytes: self.bytes(),
            offset: field::OPTIONS,
        }
    }
}

/// One option's bytes, header included, with its offset in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionView<'a> {
    pub offset: usize,
    pub bytes: &'a [u8],
}

impl OptionView<'_> {
    pub fn kind(&self) -> u8 {
        self.bytes[header::KIND]
    }

    /// Decodes the option, applying its own length rules.
    pub fn parse(&self) -> Result<NdOption, ParseError> {
        NdOption::parse(self.bytes, self.offset)
    }
}

/// Iterator over the options of a [`RouterAdvertPacket`].
#[derive(Debug, Clone)]
pub struct Options<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<OptionView<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let offset = self.offset;
        let rest = self.bytes.get(offset..).filter(|rest| !rest.is_empty())?;
        // Stop after an error: the message past it cannot be framed.
        self.offset = self.bytes.len();
        let Some(&units) = rest.get(header::LENGTH) else {
            return Some(Err(ParseError::OptionTruncated { offset }));
        };
        if units == 0 {
            return Some(Err(ParseError::OptionLengthZero { offset }));
        }
        let size = usize::from(units) * header::UNIT;
        let Some(bytes) = rest.get(..size) else {
            return Some(Err(ParseError::OptionTruncated { offset }));
        };
        self.offset = offset + size;
        Some(Ok(OptionView { offset, bytes }))
    }
}

/// A Router Advertisement as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterAdvert {
    pub cur_hop_limit: u8,
    pub managed: bool,
    pub other: bool,
    pub preference: RouterPreference,
    /// Seconds; 0 means "not a default router".
    pub router_lifetime: u16,
    /// Milliseconds; 0 means unspecified.
    pub reachable_time: u32,
    /// Milliseconds; 0 means unspecified.
    pub retrans_timer: u32,
    pub options: Vec<NdOption>,
}

impl RouterAdvert {
    /// `packet` starts at the ICMPv6 header (type 134). Checks type, code and
    /// length, that every option length is non-zero and inside the packet, at
    /// most [`MAX_OPTIONS`] options, and each option's own length rule (see
    /// [`ParseError`]); prefix bits beyond a prefix length are cleared.
    pub fn parse(packet: &[u8]) -> Result<RouterAdvert, ParseError> {
        let view = RouterAdvertPacket::new_checked(packet)?;
        let mut options = Vec::new();
        for raw in view.options() {
            if options.len() == MAX_OPTIONS {
                return Err(ParseError::TooManyOptions { limit: MAX_OPTIONS });
            }
            options.push(raw?.parse()?);
        }
        Ok(RouterAdvert {
            cur_hop_limit: view.cur_hop_limit(),
            managed: view.managed(),
            other: view.other(),
            preference: view.preference(),
            router_lifetime: view.router_lifetime(),
            reachable_time: view.reachable_time(),
            retrans_timer: view.retrans_timer(),
            options,
        })
    }

    /// The ICMPv6 message, checksum left 0 (the kernel fills it in on raw
    /// sockets).
    pub fn emit(&self) -> Vec<u8> {
        let mut out = vec![0u8; field::OPTIONS];
        out[field::KIND] = ROUTER_ADVERT;
        out[field::CUR_HOP_LIMIT] = self.cur_hop_limit;
        let mut flags = self.preference.to_bits() << field::PREFERENCE_SHIFT;
        if self.managed {
            flags |= field::FLAG_MANAGED;
        }
        if self.other {
            flags |= field::FLAG_OTHER;
        }
        out[field::FLAGS] = flags;
        out[field::ROUTER_LIFETIME].copy_from_slice(&self.router_lifetime.to_be_bytes());
        out[field::REACHABLE_TIME].copy_from_slice(&self.reachable_time.to_be_bytes());
        out[field::RETRANS_TIMER].copy_from_slice(&self.retrans_timer.to_be_bytes());
        for option in &self.options {
            option.emit(&mut out);
        }
        out
    }
}
