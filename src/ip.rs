//! IP addresses as text: one parser and one formatter for the whole agent
//! (configuration, resolv.conf and hosts, the status output, logs).
//!
//! The same text as `core::net`'s `FromStr` and `Display` (the tests
//! compare the two), but ours: core's parser is generic over the four
//! address types and its formatter goes through a buffer type per width
//! for padding nothing here uses: 5.3 KB of a mips binary where these
//! take 3.0 KB. Nothing in the agent should format an `IpAddr` or a
//! `SocketAddr` with `{}` or `to_string()`: wrap it in [`Text`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Parses an IPv4 or IPv6 address, as `text.parse::<IpAddr>()` does.
pub fn parse(text: &str) -> Option<IpAddr> {
    match parse_v4(text) {
        Some(v4) => Some(IpAddr::V4(v4)),
        None => parse_v6(text).map(IpAddr::V6),
    }
}

/// Four decimal octets separated by dots, none with a leading zero (which
/// some libcs read as octal).
pub fn parse_v4(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut rest = text.as_bytes();
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            rest = rest.strip_prefix(b".")?;
        }
        let digits = rest
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || digits > 3 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        let value = rest[..digits]
            .iter()
            .fold(0u16, |v, c| v * 10 + u16::from(c - b'0'));
        *octet = u8::try_from(value).ok()?;
        rest = &rest[digits..];
    }
    rest.is_empty().then_some(Ipv4Addr::from(octets))
}

/// RFC 4291's text: eight groups of one to four hex digits, a `::` for a
/// run of one or more zero groups, and an IPv4 address for the last two
/// groups. No zone (`%eth0`).
pub fn parse_v6(text: &str) -> Option<Ipv6Addr> {
    let bytes = text.as_bytes();
    let mut groups = [0u16; 8];
    let mut count = 0;
    // Where the `::` is, in groups.
    let mut gap = None;
    let mut i = 0;
    if bytes.starts_with(b"::") {
        gap = Some(0);
        i = 2;
    }
    while i < bytes.len() {
        let start = i;
        let mut group = 0u16;
        while i < bytes.len() && i - start < 5 {
            let Some(digit) = (bytes[i] as char).to_digit(16) else {
                break;
            };
            group = group << 4 | digit as u16;
            i += 1;
        }
        if bytes.get(i) == Some(&b'.') {
            // An IPv4 address ends the text.
            let [a, b, c, d] = parse_v4(&text[start..])?.octets();
            groups
                .get_mut(count..count + 2)?
                .copy_from_slice(&[u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])]);
            count += 2;
            break;
        }
        if i == start || i - start > 4 || count == 8 {
            return None;
        }
        groups[count] = group;
        count += 1;
        if i == bytes.len() {
            break;
        }
        if bytes[i] != b':' || i + 1 == bytes.len() {
            return None;
        }
        i += 1;
        if bytes[i] == b':' {
            if gap.is_some() {
                return None;
            }
            gap = Some(count);
            i += 1;
        }
    }
    match gap {
        None if count == 8 => {}
        // The `::` stands for one group at least.
        Some(at) if count < 8 => {
            groups.copy_within(at..count, at + 8 - count);
            groups[at..at + 8 - count].fill(0);
        }
        _ => return None,
    }
    Some(Ipv6Addr::from(groups))
}

/// An address or socket address shown as its text: what `core::net`'s
/// `Display` writes (without its padding: `{:>15}` is not padded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text<T>(pub T);

fn write_v4(f: &mut fmt::Formatter<'_>, ip: Ipv4Addr) -> fmt::Result {
    let [a, b, c, d] = ip.octets();
    write!(f, "{a}.{b}.{c}.{d}")
}

fn write_v6(f: &mut fmt::Formatter<'_>, ip: Ipv6Addr) -> fmt::Result {
    if let Some(v4) = ip.to_ipv4_mapped() {
        f.write_str("::ffff:")?;
        return write_v4(f, v4);
    }
    let groups = ip.segments();
    // The first longest run of two or more zero groups is written `::`
    // (RFC 5952, section 4.2).
    let (mut run_start, mut run_len) = (0, 0);
    let mut i = 0;
    while i < 8 {
        let start = i;
        while i < 8 && groups[i] == 0 {
            i += 1;
        }
        if i - start > run_len {
            (run_start, run_len) = (start, i - start);
        }
        i += 1;
    }
    let run = if run_len >= 2 {
        run_start..run_start + run_len
    } else {
        8..8
    };
    for (i, group) in groups.iter().enumerate() {
        if i == run.start {
            f.write_str("::")?;
        }
        if run.contains(&i) {
            continue;
        }
        if i > 0 && i != run.end {
            f.write_str(":")?;
        }
        write!(f, "{group:x}")?;
    }
    Ok(())
}

impl fmt::Display for Text<IpAddr> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write_v4(f, v4),
            IpAddr::V6(v6) => write_v6(f, v6),
        }
    }
}

impl fmt::Display for Text<SocketAddr> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            SocketAddr::V4(a) => write_v4(f, *a.ip())?,
            SocketAddr::V6(a) => {
                f.write_str("[")?;
                write_v6(f, *a.ip())?;
                if a.scope_id() != 0 {
                    write!(f, "%{}", a.scope_id())?;
                }
                f.write_str("]")?;
            }
        }
        write!(f, ":{}", self.0.port())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::SocketAddrV6;

    #[test]
    fn parses_what_core_parses() {
        for text in [
            "0.0.0.0",
            "255.255.255.255",
            "192.0.2.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1..2.3",
            "1.2.3.4 ",
            "+1.2.3.4",
            "",
            ".",
            "::",
            ":::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::8",
            "1::2::3",
            "2001:DB8::a",
            "2001:db8::00001",
            "::ffff:192.0.2.1",
            "::192.0.2.1",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1.2.3.4::",
            "1.2.3.4::5",
            "::1.2.3.4:5",
            "fe80::1%eth0",
            "[::1]",
            ":1::",
            "1::2:",
            "g::1",
            "::01.2.3.4",
        ] {
            assert_eq!(parse(text), text.parse::<IpAddr>().ok(), "{text:?}");
            assert_eq!(parse_v4(text), text.parse::<Ipv4Addr>().ok(), "{text:?}");
            assert_eq!(parse_v6(text), text.parse::<Ipv6Addr>().ok(), "{text:?}");
        }
    }

    #[test]
    fn shows_what_core_shows() {
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let cases: [SocketAddr; 3] = [
            "192.0.2.1:6343".parse().unwrap(),
            "[2001:db8::1]:53".parse().unwrap(),
            SocketAddr::V6(SocketAddrV6::new(v6, 6343, 0, 7)),
        ];
        for addr in cases {
            assert_eq!(Text(addr).to_string(), addr.to_string());
            assert_eq!(Text(addr.ip()).to_string(), addr.ip().to_string());
        }
        let widest = SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::from([0xffff; 8]),
            65535,
            0,
            u32::MAX,
        ));
        assert_eq!(Text(widest).to_string(), widest.to_string());
    }

    /// Groups with many zeros, so that runs of every length and place and
    /// the IPv4-mapped form come up.
    fn v6() -> impl Strategy<Value = Ipv6Addr> {
        prop::array::uniform8(prop_oneof![
            3 => Just(0u16),
            1 => Just(0xffff),
            2 => any::<u16>(),
        ])
        .prop_map(Ipv6Addr::from)
    }

    proptest! {
        #[test]
        fn formats_and_reparses_as_core_does(ip in v6(), v4 in any::<u32>(), port in any::<u16>()) {
            let v4 = IpAddr::V4(Ipv4Addr::from(v4));
            prop_assert_eq!(Text(IpAddr::V6(ip)).to_string(), ip.to_string());
            prop_assert_eq!(Text(v4).to_string(), v4.to_string());
            prop_assert_eq!(parse_v6(&ip.to_string()), Some(ip));
            prop_assert_eq!(parse(&v4.to_string()), Some(v4));
            let s = SocketAddr::new(IpAddr::V6(ip), port);
            prop_assert_eq!(Text(s).to_string(), s.to_string());
        }

        #[test]
        fn parses_any_text_as_core_does(text in "[0-9a-fA-F:.]{0,24}") {
            prop_assert_eq!(parse(&text), text.parse::<IpAddr>().ok());
            prop_assert_eq!(parse_v6(&text), text.parse::<Ipv6Addr>().ok());
        }

        #[test]
        fn parses_near_misses_as_core_does(ip in v6(), cut in 0usize..40, insert in "[0-9a-f:.]{0,3}") {
            // A valid address with a few characters put in somewhere.
            let mut text = ip.to_string();
            let at = cut.min(text.len());
            text.insert_str(at, &insert);
            prop_assert_eq!(parse(&text), text.parse::<IpAddr>().ok());
        }
    }
}
