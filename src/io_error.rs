//! `io::Error`s with a message of ours (the place that failed and why).
//!
//! `io::Error::new(kind, String)` boxes the message as std's private
//! `StringError`, whose `Debug` escapes the text as `str`'s `Debug` does:
//! that pulls in the Unicode tables of printable and grapheme-extending
//! characters and the escaping code (~4 KB of a mips binary), for a
//! representation nothing here prints. [`io_error`] boxes a [`Message`]
//! instead: the same `Display` (the message), and a `Debug` that quotes
//! it without escaping.

use std::fmt;
use std::io;

/// The message of an `io::Error` made by [`io_error`].
pub struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        f.write_str(&self.0)?;
        f.write_str("\"")
    }
}

impl std::error::Error for Message {}

/// An `io::Error` of `kind` whose `Display` is `message`, as
/// `io::Error::new(kind, message)` makes.
pub fn io_error(kind: io::ErrorKind, message: impl Into<String>) -> io::Error {
    boxed(kind, message.into())
}

fn boxed(kind: io::ErrorKind, message: String) -> io::Error {
    io::Error::new(kind, Message(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_as_std_shows_a_message() {
        let ours = io_error(io::ErrorKind::InvalidData, "netlink: bad \"reply\"");
        let std = io::Error::new(io::ErrorKind::InvalidData, "netlink: bad \"reply\"");
        assert_eq!(ours.to_string(), std.to_string());
        assert_eq!(ours.kind(), std.kind());
        assert_eq!(
            format!("{ours:?}"),
            "Custom { kind: InvalidData, error: \"netlink: bad \"reply\"\" }"
        );
        let formatted = io_error(io::ErrorKind::Other, format!("{} frames", 3));
        assert_eq!(formatted.to_string(), "3 frames");
        assert_eq!(formatted.kind(), io::ErrorKind::Other);
    }
}
