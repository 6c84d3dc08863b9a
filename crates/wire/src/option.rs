//! Neighbor Discovery options carried by a Router Advertisement: decoding one
//! option whose outer length the RA parser has already checked, and encoding
//! it again.
//!
//! Every field offset is written once, in a `field` module per option, counted
//! from the option's type byte as in the RFC figures. Options this crate does
//! not understand are kept as [`NdOption::Unknown`] so nothing is lost. Decoding
//! must never read outside the option's bytes.

use std::net::Ipv6Addr;
use std::ops::Range;

use crate::error::ParseError;
use crate::preference::RouterPreference;

/// Option type numbers (IANA "IPv6 Neighbor Discovery Option Formats").
pub(crate) mod kind {
    pub const SOURCE_LINK_LAYER_ADDRESS: u8 = 1;
    pub const PREFIX_INFORMATION: u8 = 3;
    pub const MTU: u8 = 5;
    pub const ROUTE_INFORMATION: u8 = 24;
    pub const RDNSS: u8 = 25;
    pub const DNSSL: u8 = 31;
    pub const CAPTIVE_PORTAL: u8 = 37;
    pub const PREF64: u8 = 38;
}

/// Offsets shared by every option.
pub(crate) mod header {
    pub const KIND: usize = 0;
    /// Length in units of 8 bytes, header included.
    pub const LENGTH: usize = 1;
    pub const SIZE: usize = 2;
    pub const UNIT: usize = 8;
}

/// RFC 4861 4.6.2 Prefix Information.
mod pio {
    use std::ops::Range;
    pub const PREFIX_LEN: usize = 2;
    pub const FLAGS: usize = 3;
    pub const VALID_LIFETIME: Range<usize> = 4..8;
    pub const PREFERRED_LIFETIME: Range<usize> = 8..12;
    pub const PREFIX: Range<usize> = 16..32;
    pub const FLAG_ON_LINK: u8 = 0x80;
    pub const FLAG_AUTONOMOUS: u8 = 0x40;
    /// Option length in units of 8 bytes.
    pub const LENGTH: u8 = 4;
}

/// RFC 4861 4.6.4 MTU.
mod mtu {
    use std::ops::Range;
    pub const MTU: Range<usize> = 4..8;
    pub const LENGTH: u8 = 1;
}

/// RFC 4191 2.3 Route Information.
mod rio {
    use std::ops::Range;
    pub const PREFIX_LEN: usize = 2;
    pub const FLAGS: usize = 3;
    pub const PREFERENCE_SHIFT: u8 = 3;
    pub const LIFETIME: Range<usize> = 4..8;
    pub const PREFIX: usize = 8;
}

/// RFC 8106 5.1 RDNSS and 5.2 DNSSL share their first eight bytes.
mod dns {
    use std::ops::Range;
    pub const LIFETIME: Range<usize> = 4..8;
    pub const BODY: usize = 8;
    pub const ADDRESS_SIZE: usize = 16;
    pub const RDNSS_MIN_LENGTH: u8 = 3;
    pub const DNSSL_MIN_LENGTH: u8 = 2;
    pub const MAX_LABEL: usize = 63;
    pub const MAX_NAME: usize = 253;
}

/// RFC 8781 4 PREF64.
mod pref64 {
    use std::ops::Range;
    pub const LIFETIME_AND_PLC: Range<usize> = 2..4;
    pub const PREFIX: Range<usize> = 4..16;
    pub const LENGTH: u8 = 2;
    pub const PLC_MASK: u16 = 0b111;
    pub const LIFETIME_SHIFT: u16 = 3;
    /// The scaled lifetime counts units of 8 seconds.
    pub const LIFETIME_UNIT: u16 = 8;
    /// Prefix lengths indexed by the Prefix Length Code.
    pub const PREFIX_LENGTHS: [u8; 6] = [96, 64, 56, 48, 40, 32];
}

/// RFC 4861 4.6.2 Prefix Information option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixInformation {
    /// The prefix with every bit beyond `prefix_len` cleared.
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    pub on_link: bool,
    pub autonomous: bool,
    /// Seconds; `u32::MAX` is infinite.
    pub valid_lifetime: u32,
    /// Seconds; `u32::MAX` is infinite.
    pub preferred_lifetime: u32,
}

/// RFC 4191 2.3 Route Information option (one with the reserved preference is
/// kept as [`NdOption::Unknown`], since RFC 4191 says to ignore it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInformation {
    /// The prefix with every bit beyond `prefix_len` cleared.
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    pub preference: RouterPreference,
    /// Seconds; `u32::MAX` is infinite.
    pub lifetime: u32,
}

/// RFC 8781 PREF64 option: the NAT64 prefix of the network (one with an
/// unknown prefix length code is kept as [`NdOption::Unknown`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pref64 {
    /// The prefix with every bit beyond `prefix_len` cleared.
    pub prefix: Ipv6Addr,
    /// One of 32, 40, 48, 56, 64, 96.
    pub prefix_len: u8,
    /// Seconds, a multiple of 8 (the option carries units of 8 seconds).
    pub lifetime: u16,
}

/// One Neighbor Discovery option of a Router Advertisement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NdOption {
    /// The router's link-layer address (every byte after the option header,
    /// padding included, as the option does not say how long the address is).
    SourceLinkLayerAddress(Vec<u8>),
    PrefixInformation(PrefixInformation),
    /// The link MTU in bytes, as advertised (not range-checked).
    Mtu(u32),
    RouteInformation(RouteInformation),
    /// RFC 8106 recursive DNS servers; lifetime in seconds.
    Rdnss {
        lifetime: u32,
        servers: Vec<Ipv6Addr>,
    },
    /// RFC 8106 DNS search list; lifetime in seconds, names without the final dot.
    Dnssl {
        lifetime: u32,
        domains: Vec<String>,
    },
    Pref64(Pref64),
    /// RFC 8910 captive portal URI (without its NUL padding).
    CaptivePortal(String),
    /// Any other option, or one whose contents this crate does not accept but
    /// whose length is valid: `data` is every byte after the 2-byte header.
    Unknown {
        kind: u8,
        data: Vec<u8>,
    },
}

impl NdOption {
    /// Decodes one option. `bytes` is the whole option (type byte first), of
    /// `bytes[1] * 8` bytes, which the caller has checked; `offset` is its
    /// position in the message, for errors.
    pub(crate) fn parse(bytes: &[u8], offset: usize) -> Result<NdOption, ParseError> {
        let kind = bytes[header::KIND];
        let length = bytes[header::LENGTH];
        let data = || bytes[header::SIZE..].to_vec();
        let option = match kind {
            kind::SOURCE_LINK_LAYER_ADDRESS => NdOption::SourceLinkLayerAddress(data()),
            kind::PREFIX_INFORMATION => {
                if length != pio::LENGTH {
                    return Err(ParseError::PrefixInformationLength { offset, length });
                }
                let prefix_len = bytes[pio::PREFIX_LEN];
                let flags = bytes[pio::FLAGS];
                NdOption::PrefixInformation(PrefixInformation {
                    prefix: masked_prefix(&bytes[pio::PREFIX], prefix_len, offset)?,
                    prefix_len,
                    on_link: flags & pio::FLAG_ON_LINK != 0,
                    autonomous: flags & pio::FLAG_AUTONOMOUS != 0,
                    valid_lifetime: read_u32(bytes, pio::VALID_LIFETIME),
                    preferred_lifetime: read_u32(bytes, pio::PREFERRED_LIFETIME),
                })
            }
            kind::MTU => {
                if length != mtu::LENGTH {
                    return Err(ParseError::MtuLength { offset, length });
                }
                NdOption::Mtu(read_u32(bytes, mtu::MTU))
            }
            kind::ROUTE_INFORMATION => {
                let prefix_len = bytes[rio::PREFIX_LEN];
                let prefix_bytes = &bytes[rio::PREFIX..];
                let fits = match length {
                    1 => prefix_len == 0,
                    2 => prefix_len <= 64,
                    3 => true,
                    _ => false,
                };
                if !fits {
                    return Err(ParseError::RouteInformationLength {
                        offset,
                        length,
                        prefix_len,
                    });
                }
                let prefix = masked_prefix(prefix_bytes, prefix_len, offset)?;
                let preference_bits = bytes[rio::FLAGS] >> rio::PREFERENCE_SHIFT;
                if RouterPreference::is_reserved_bits(preference_bits) {
                    NdOption::Unknown { kind, data: data() }
                } else {
                    NdOption::RouteInformation(RouteInformation {
                        prefix,
                        prefix_len,
                        preference: RouterPreference::from_bits(preference_bits),
                        lifetime: read_u32(bytes, rio::LIFETIME),
                    })
                }
            }
            kind::RDNSS => {
                if length < dns::RDNSS_MIN_LENGTH || length.is_multiple_of(2) {
                    return Err(ParseError::RdnssLength { offset, length });
                }
                let servers = bytes[dns::BODY..]
                    .chunks_exact(dns::ADDRESS_SIZE)
                    .map(|chunk| Ipv6Addr::from(read_array::<16>(chunk)))
                    .collect();
                NdOption::Rdnss {
                    lifetime: read_u32(bytes, dns::LIFETIME),
                    servers,
                }
            }
            kind::DNSSL => {
                if length < dns::DNSSL_MIN_LENGTH {
                    return Err(ParseError::DnsslLength { offset, length });
                }
                let domains = parse_domain_names(&bytes[dns::BODY..])
                    .ok_or(ParseError::DnsslMalformed { offset })?;
                NdOption::Dnssl {
                    lifetime: read_u32(bytes, dns::LIFETIME),
                    domains,
                }
            }
            kind::PREF64 => {
                if length != pref64::LENGTH {
                    return Err(ParseError::Pref64Length { offset, length });
                }
                let word = u16::from_be_bytes(read_array::<2>(&bytes[pref64::LIFETIME_AND_PLC]));
                let code = usize::from(word & pref64::PLC_MASK);
                match pref64::PREFIX_LENGTHS.get(code) {
                    Some(&prefix_len) => {
                        let mut full = [0u8; 16];
                        full[..12].copy_from_slice(&bytes[pref64::PREFIX]);
                        NdOption::Pref64(Pref64 {
                            prefix: masked_prefix(&full, prefix_len, offset)?,
                            prefix_len,
                            lifetime: (word >> pref64::LIFETIME_SHIFT) * pref64::LIFETIME_UNIT,
                        })
                    }
                    None => NdOption::Unknown { kind, data: data() },
                }
            }
            kind::CAPTIVE_PORTAL => {
                let body = &bytes[header::SIZE..];
                let end = body
                    .iter()
                    .rposition(|&b| b != 0)
                    .map_or(0, |last| last + 1);
                match std::str::from_utf8(&body[..end]) {
                    Ok(uri) if !uri.contains('\0') => NdOption::CaptivePortal(uri.to_owned()),
                    _ => NdOption::Unknown { kind, data: data() },
                }
            }
            _ => NdOption::Unknown { kind, data: data() },
        };
        Ok(option)
    }

    /// Appends the option, padded with zeros to a multiple of 8 bytes. A body
    /// too long for the one-byte length field (over 2040 bytes) is cut.
    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        match self {
            NdOption::SourceLinkLayerAddress(address) => {
                out.extend_from_slice(&[kind::SOURCE_LINK_LAYER_ADDRESS, 0]);
                out.extend_from_slice(address);
            }
            NdOption::PrefixInformation(info) => {
                let mut flags = 0;
                if info.on_link {
                    flags |= pio::FLAG_ON_LINK;
                }
                if info.autonomous {
                    flags |= pio::FLAG_AUTONOMOUS;
                }
                out.extend_from_slice(&[kind::PREFIX_INFORMATION, 0, info.prefix_len, flags]);
                out.extend_from_slice(&info.valid_lifetime.to_be_bytes());
                out.extend_from_slice(&info.preferred_lifetime.to_be_bytes());
                out.extend_from_slice(&[0; 4]);
                out.extend_from_slice(&info.prefix.octets());
            }
            NdOption::Mtu(value) => {
                out.extend_from_slice(&[kind::MTU, 0, 0, 0]);
                out.extend_from_slice(&value.to_be_bytes());
            }
            NdOption::RouteInformation(route) => {
                let flags = route.preference.to_bits() << rio::PREFERENCE_SHIFT;
                out.extend_from_slice(&[kind::ROUTE_INFORMATION, 0, route.prefix_len, flags]);
                out.extend_from_slice(&route.lifetime.to_be_bytes());
                let prefix_bytes = match route.prefix_len {
                    0 => 0,
                    1..=64 => 8,
                    _ => 16,
                };
                out.extend_from_slice(&route.prefix.octets()[..prefix_bytes]);
            }
            NdOption::Rdnss { lifetime, servers } => {
                out.extend_from_slice(&[kind::RDNSS, 0, 0, 0]);
                out.extend_from_slice(&lifetime.to_be_bytes());
                for server in servers {
                    out.extend_from_slice(&server.octets());
                }
                pad_to_units(out, start, dns::RDNSS_MIN_LENGTH);
            }
            NdOption::Dnssl { lifetime, domains } => {
                out.extend_from_slice(&[kind::DNSSL, 0, 0, 0]);
                out.extend_from_slice(&lifetime.to_be_bytes());
                for domain in domains {
                    emit_domain_name(domain, out);
                }
                // An empty list still needs the minimum length to parse.
                pad_to_units(out, start, dns::DNSSL_MIN_LENGTH);
            }
            NdOption::Pref64(pref) => {
                let code = pref64::PREFIX_LENGTHS
                    .iter()
                    .position(|&len| len == pref.prefix_len)
                    .unwrap_or(0);
                let scaled = (pref.lifetime / pref64::LIFETIME_UNIT).min(0x1fff);
                let code = u16::try_from(code).unwrap_or(0);
                let word = (scaled << pref64::LIFETIME_SHIFT) | code;
                out.extend_from_slice(&[kind::PREF64, 0]);
                out.extend_from_slice(&word.to_be_bytes());
                out.extend_from_slice(&pref.prefix.octets()[..12]);
            }
            NdOption::CaptivePortal(uri) => {
                out.extend_from_slice(&[kind::CAPTIVE_PORTAL, 0]);
                out.extend_from_slice(uri.as_bytes());
            }
            NdOption::Unknown { kind, data } => {
                out.extend_from_slice(&[*kind, 0]);
                out.extend_from_slice(data);
            }
        }
        let max_size = usize::from(u8::MAX) * header::UNIT;
        out.truncate(start + max_size);
        while !(out.len() - start).is_multiple_of(header::UNIT) {
            out.push(0);
        }
        let units = (out.len() - start) / header::UNIT;
        out[start + header::LENGTH] = u8::try_from(units).unwrap_or(u8::MAX);
    }
}

/// Zero-pads the option that starts at `start` to at least `units` units.
fn pad_to_units(out: &mut Vec<u8>, start: usize, units: u8) {
    let size = usize::from(units) * header::UNIT;
    if out.len() - start < size {
        out.resize(start + size, 0);
    }
}

fn read_u32(bytes: &[u8], range: Range<usize>) -> u32 {
    u32::from_be_bytes(read_array::<4>(&bytes[range]))
}

/// Copies the first `N` bytes of `bytes`, zero-filling when it is shorter.
fn read_array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut array = [0u8; N];
    let n = bytes.len().min(N);
    array[..n].copy_from_slice(&bytes[..n]);
    array
}

/// Builds the prefix from up to 16 bytes and clears every bit beyond
/// `prefix_len`, which must be at most 128.
fn masked_prefix(bytes: &[u8], prefix_len: u8, offset: usize) -> Result<Ipv6Addr, ParseError> {
    if prefix_len > 128 {
        return Err(ParseError::PrefixLength { offset, prefix_len });
    }
    let value = u128::from_be_bytes(read_array::<16>(bytes));
    let mask = u128::MAX
        .checked_shl(128 - u32::from(prefix_len))
        .unwrap_or(0);
    Ok(Ipv6Addr::from(value & mask))
}

/// Reads RFC 1035 uncompressed domain names followed by zero padding. Labels
/// must be 1 to 63 printable ASCII bytes other than '.'; names at most 253
/// characters. Returns `None` for anything else (compression pointers too).
fn parse_domain_names(mut bytes: &[u8]) -> Option<Vec<String>> {
    let mut domains = Vec::new();
    while let Some(&first) = bytes.first() {
        if first == 0 {
            // Padding: only zeros may follow the last name.
            return bytes.iter().all(|&b| b == 0).then_some(domains);
        }
        let mut name = String::new();
        loop {
            let (&label_len, rest) = bytes.split_first()?;
            bytes = rest;
            let label_len = usize::from(label_len);
            if label_len == 0 {
                break;
            }
            if label_len > dns::MAX_LABEL {
                return None;
            }
            let label = bytes.get(..label_len)?;
            bytes = &bytes[label_len..];
            if !label.iter().all(|&b| b.is_ascii_graphic() && b != b'.') {
                return None;
            }
            if !name.is_empty() {
                name.push('.');
            }
            name.extend(label.iter().map(|&b| char::from(b)));
        }
        if name.len() > dns::MAX_NAME {
            return None;
        }
        domains.push(name);
    }
    Some(domains)
}

/// Writes a dotted name as labels and a terminating zero; empty labels are
/// skipped and labels longer than 63 bytes are cut.
fn emit_domain_name(name: &str, out: &mut Vec<u8>) {
    for label in name.split('.').filter(|label| !label.is_empty()) {
        let label = &label.as_bytes()[..label.len().min(dns::MAX_LABEL)];
        out.push(u8::try_from(label.len()).unwrap_or(0));
        out.extend_from_slice(label);
    }
    out.push(0);
}
