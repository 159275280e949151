//! MAC addresses: one type, one parser, one formatter for the whole agent
//! (configuration, hostapd's APIs, nl80211, the status output).

use std::fmt;

/// A 48-bit MAC address, as it is on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// Parses six pairs of hex digits separated by `:` or `-` (the same
    /// separator throughout), in any case: `aa:bb:cc:dd:ee:ff` (hostapd,
    /// iw, the kernel), `AA-BB-CC-DD-EE-FF` (Windows, some vendors).
    pub fn parse(text: &str) -> Option<MacAddr> {
        let bytes = text.as_bytes();
        if bytes.len() != 17 {
            return None;
        }
        let separator = bytes[2];
        if separator != b':' && separator != b'-' {
            return None;
        }
        let mut mac = [0u8; 6];
        for (i, byte) in mac.iter_mut().enumerate() {
            let at = i * 3;
            if i > 0 && bytes[at - 1] != separator {
                return None;
            }
            *byte = (hex_digit(bytes[at])? << 4) | hex_digit(bytes[at + 1])?;
        }
        Some(MacAddr(mac))
    }

    /// A group (multicast or broadcast) address: the I/G bit is set.
    pub fn is_group(&self) -> bool {
        self.0[0] & 1 != 0
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    pub fn octets(&self) -> [u8; 6] {
        self.0
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(octets: [u8; 6]) -> Self {
        MacAddr(octets)
    }
}

/// `aa:bb:cc:dd:ee:ff`, lower case, as hostapd and iw write it.
impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_separators_in_any_case_and_prints_one_way() {
        let m = MacAddr([0x02, 0xab, 0, 0xff, 0x10, 0x09]);
        for text in ["02:aB:00:ff:10:09", "02-AB-00-FF-10-09"] {
            assert_eq!(MacAddr::parse(text), Some(m), "{text}");
        }
        assert_eq!(m.to_string(), "02:ab:00:ff:10:09");
        for bad in [
            "",
            "02:ab:00:ff:10",
            "02:ab:00:ff:10:09:00",
            "02:ab-00:ff:10:09",
            "2:ab:00:ff:10:09",
            "zz:ab:00:ff:10:09",
            "02.ab.00.ff.10.09",
            "+2:ab:00:ff:10:09",
        ] {
            assert_eq!(MacAddr::parse(bad), None, "{bad}");
        }
        assert!(MacAddr([0xff; 6]).is_group() && !m.is_group());
        assert!(MacAddr::ZERO.is_zero());
    }
}
