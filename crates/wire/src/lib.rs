//! Neighbor Discovery packets (RFC 4861 and extensions): parsing and building.

/// RFC 4191 router preference; the reserved value is read as medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RouterPreference {
    #[default]
    Medium,
    High,
    Low,
}
