//! RFC 4191 router preference, as carried in two bits of the Router
//! Advertisement header and of the Route Information option.
//!
//! Decoding never fails: the reserved value is read as medium, as RFC 4191
//! asks for the RA header. Callers that must ignore it (Route Information)
//! check [`RouterPreference::is_reserved_bits`] first.

/// RFC 4191 router preference; the reserved value is read as medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RouterPreference {
    #[default]
    Medium,
    High,
    Low,
}

impl RouterPreference {
    /// Reads the two-bit field value (already shifted down to bits 0..2).
    pub fn from_bits(bits: u8) -> RouterPreference {
        match bits & 0b11 {
            0b01 => RouterPreference::High,
            0b11 => RouterPreference::Low,
            // 0b00 is medium; 0b10 is reserved and read as medium.
            _ => RouterPreference::Medium,
        }
    }

    /// The two-bit field value (not shifted into place).
    pub fn to_bits(self) -> u8 {
        match self {
            RouterPreference::Medium => 0b00,
            RouterPreference::High => 0b01,
            RouterPreference::Low => 0b11,
        }
    }

    /// Whether the two-bit field value is the reserved one (binary 10).
    pub fn is_reserved_bits(bits: u8) -> bool {
        bits & 0b11 == 0b10
    }
}
