//! Why a Router Advertisement was rejected.
//!
//! Each variant is one reason with a stable short name ([`ParseError::reason`])
//! that the engine uses as a drop-counter key; names must never change once
//! released, and two variants must never share one.

use thiserror::Error;

/// A Router Advertisement that fails RFC 4861 6.1.2 (or an extension's
/// option-length rule). Offsets count from the start of the ICMPv6 header.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("message of {length} bytes is shorter than a router advertisement (16)")]
    TooShort { length: usize },
    #[error("ICMPv6 type {kind} is not a router advertisement (134)")]
    NotRouterAdvert { kind: u8 },
    #[error("ICMPv6 code {code} is not 0")]
    BadCode { code: u8 },
    #[error("option at offset {offset} has length zero")]
    OptionLengthZero { offset: usize },
    #[error("option at offset {offset} runs past the end of the message")]
    OptionTruncated { offset: usize },
    #[error("more than {limit} options")]
    TooManyOptions { limit: usize },
    #[error("prefix information option at offset {offset} has length {length}, not 4")]
    PrefixInformationLength { offset: usize, length: u8 },
    #[error("option at offset {offset} has prefix length {prefix_len}, more than 128")]
    PrefixLength { offset: usize, prefix_len: u8 },
    #[error("MTU option at offset {offset} has length {length}, not 1")]
    MtuLength { offset: usize, length: u8 },
    #[error("RDNSS option at offset {offset} has length {length}; it must be odd and at least 3")]
    RdnssLength { offset: usize, length: u8 },
    #[error(
        "route information option at offset {offset} has length {length}, which cannot hold prefix length {prefix_len}"
    )]
    RouteInformationLength {
        offset: usize,
        length: u8,
        prefix_len: u8,
    },
    #[error("DNSSL option at offset {offset} has length {length}, less than 2")]
    DnsslLength { offset: usize, length: u8 },
    #[error("DNSSL option at offset {offset} holds a malformed domain name")]
    DnsslMalformed { offset: usize },
    #[error("PREF64 option at offset {offset} has length {length}, not 2")]
    Pref64Length { offset: usize, length: u8 },
}

impl ParseError {
    /// A stable short name for the reason, used as a counter key.
    pub fn reason(&self) -> &'static str {
        match self {
            ParseError::TooShort { .. } => "too-short",
            ParseError::NotRouterAdvert { .. } => "not-router-advert",
            ParseError::BadCode { .. } => "bad-code",
            ParseError::OptionLengthZero { .. } => "option-length-zero",
            ParseError::OptionTruncated { .. } => "option-truncated",
            ParseError::TooManyOptions { .. } => "too-many-options",
            ParseError::PrefixInformationLength { .. } => "prefix-info-length",
            ParseError::PrefixLength { .. } => "prefix-length-invalid",
            ParseError::MtuLength { .. } => "mtu-length",
            ParseError::RdnssLength { .. } => "rdnss-length",
            ParseError::RouteInformationLength { .. } => "route-info-length",
            ParseError::DnsslLength { .. } => "dnssl-length",
            ParseError::DnsslMalformed { .. } => "dnssl-malformed",
            ParseError::Pref64Length { .. } => "pref64-length",
        }
    }
}
