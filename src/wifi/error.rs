//! The one error type of the radiotap and 802.11 parsers: what went wrong
//! and at which byte of the buffer that was given to the parser.

use std::fmt;

/// What made a frame unparseable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Fewer bytes than the 8-byte radiotap header.
    RadiotapTruncated,
    /// `it_version` is not 0 (the only version radiotap defines).
    RadiotapVersion(u8),
    /// `it_len` is below 8, or too small for the present words it announces.
    RadiotapLength(u16),
    /// `it_len` is larger than the bytes captured.
    RadiotapBeyondBuffer { len: u16, available: usize },
    /// A field runs past `it_len`; `bit` is its index in its namespace.
    RadiotapFieldTruncated { bit: u16 },
    /// A vendor namespace header, or the vendor data it announces, runs
    /// past `it_len`.
    RadiotapVendorTruncated,
    /// The 802.11 protocol version is not 0 (PV1 frames are not parsed).
    MacVersion(u8),
    /// Fewer bytes than the 802.11 header of this frame type needs.
    MacTruncated { needed: usize, available: usize },
    /// The radiotap flags announce an FCS but the frame is shorter than it.
    FcsTruncated,
    /// An information element runs past the end of the frame body.
    ElementTruncated { id: u8, len: u8 },
}

/// A parse error: its kind and the byte offset where it was found,
/// counted from the start of the buffer given to the parser (for
/// [`MonitorFrame`](super::MonitorFrame), the start of the radiotap header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub offset: usize,
}

impl Error {
    pub(crate) const fn new(kind: ErrorKind, offset: usize) -> Error {
        Error { kind, offset }
    }

    /// The same error, seen from a buffer that starts `by` bytes earlier.
    pub(crate) const fn shifted(self, by: usize) -> Error {
        Error {
            kind: self.kind,
            offset: self.offset.saturating_add(by),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::RadiotapTruncated => f.write_str("shorter than a radiotap header (8 bytes)"),
            ErrorKind::RadiotapVersion(v) => write!(f, "radiotap version {v} (only 0 exists)"),
            ErrorKind::RadiotapLength(len) => write!(
                f,
                "radiotap length {len} is too small for the header and its present words"
            ),
            ErrorKind::RadiotapBeyondBuffer { len, available } => write!(
                f,
                "radiotap length {len} is larger than the {available} bytes captured"
            ),
            ErrorKind::RadiotapFieldTruncated { bit } => {
                write!(f, "radiotap field {bit} runs past the radiotap length")
            }
            ErrorKind::RadiotapVendorTruncated => {
                f.write_str("radiotap vendor namespace runs past the radiotap length")
            }
            ErrorKind::MacVersion(v) => write!(f, "802.11 protocol version {v} (only 0 is parsed)"),
            ErrorKind::MacTruncated { needed, available } => write!(
                f,
                "802.11 header needs {needed} bytes, {available} captured"
            ),
            ErrorKind::FcsTruncated => f.write_str("frame shorter than its FCS"),
            ErrorKind::ElementTruncated { id, len } => write!(
                f,
                "information element {id} of length {len} runs past the frame body"
            ),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for Error {}

/// Result of the parsers in [`wifi`](super).
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_offset_and_cause() {
        let e = Error::new(ErrorKind::RadiotapFieldTruncated { bit: 21 }, 36);
        assert_eq!(
            e.to_string(),
            "byte 36: radiotap field 21 runs past the radiotap length"
        );
        assert_eq!(e.shifted(10).offset, 46);
        assert_eq!(
            Error::new(
                ErrorKind::MacTruncated {
                    needed: 24,
                    available: 10
                },
                4
            )
            .to_string(),
            "byte 4: 802.11 header needs 24 bytes, 10 captured"
        );
    }
}
