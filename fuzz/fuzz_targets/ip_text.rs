//! Fuzzes the IP address text parser (configuration values, resolv.conf,
//! /etc/hosts) on arbitrary bytes, with core's parser and formatter as the
//! oracle: nothing may panic, both must accept the same texts as the same
//! addresses, and what `Text` writes must be what core writes and read
//! back as the same address.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use wsflowd::ip::{self, Text};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert_eq!(ip::parse_v4(text), text.parse::<Ipv4Addr>().ok());
    assert_eq!(ip::parse_v6(text), text.parse::<Ipv6Addr>().ok());
    let parsed = ip::parse(text);
    assert_eq!(parsed, text.parse::<IpAddr>().ok());
    if let Some(addr) = parsed {
        let shown = Text(addr).to_string();
        assert_eq!(shown, addr.to_string());
        assert_eq!(ip::parse(&shown), Some(addr));
        let socket = SocketAddr::new(addr, 6343);
        assert_eq!(Text(socket).to_string(), socket.to_string());
    }
    // The bytes as an address, whatever the text was.
    if data.len() >= 16 {
        let v6 = Ipv6Addr::from(<[u8; 16]>::try_from(&data[..16]).unwrap());
        let shown = Text(IpAddr::V6(v6)).to_string();
        assert_eq!(shown, v6.to_string());
        assert_eq!(ip::parse_v6(&shown), Some(v6));
    }
});
