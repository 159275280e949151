//! Fuzzes the reader of hostapd's control socket on arbitrary bytes:
//! datagrams, events, replies, station blocks, STATUS texts and SSIDs.
//! Nothing may panic; what reads must hold together (an event's text is the
//! end of the datagram, a station's figures are in range, an SSID is at
//! most 32 octets and any SSID survives hostapd's escaping and our
//! unescaping). The same bytes, cut at NUL, also drive the client's state
//! machine as replies and events of one BSS.
//!
//! Run with `cargo +nightly fuzz run hostapd_control`; the recordings of a
//! real hostapd in `tests/fixtures/hostapd_control/` make a good seed
//! corpus (scripts/fuzz_seeds.py copies them).

#![no_main]

use libfuzzer_sys::fuzz_target;
use wsflowd::stations::hostapd_control::{fuzz_link, parse};
use wsflowd::stations::StationTable;

/// hostapd's `printf_encode`, as its source describes it: `\"`, `\\`,
/// `\e`, `\n`, `\r`, `\t`, printable ASCII as is, other octets `\xHH`.
fn printf_encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in data {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x1b => out.extend_from_slice(b"\\e"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            32..=126 => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    match parse::datagram(data) {
        parse::Datagram::Event { text, .. } => {
            assert!(data.ends_with(text) && text.len() + 3 <= data.len());
            match parse::event(text) {
                Ok(parse::Event::ChannelSwitched { freq_mhz }) => assert!(freq_mhz > 0),
                Ok(_) => {}
                Err(e) => {
                    let _ = e.to_string();
                }
            }
        }
        parse::Datagram::Reply(r) => assert_eq!(r, data),
    }
    let _ = parse::reply(data);
    match parse::station(data) {
        Ok(info) => {
            assert!(info.report.signal_dbm != Some(0));
            for rate in [info.report.rx_rate_kbps, info.report.tx_rate_kbps].into_iter().flatten() {
                assert!(rate > 0 && (rate % 100 == 0 || rate == u32::MAX));
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    for ifname in ["wlan0", "wlan0_1"] {
        if let Ok(Some(s)) = parse::status(data, ifname) {
            assert!(s.report.ssid.map_or(0, |s| s.len()) <= parse::MAX_SSID);
            assert!(s.report.freq_mhz != Some(0) && s.report.channel != Some(0));
        }
    }
    if let Some(ssid) = parse::decode_ssid(data) {
        assert!(ssid.len() <= parse::MAX_SSID);
    }
    let ssid = &data[..data.len().min(parse::MAX_SSID)];
    assert_eq!(parse::decode_ssid(&printf_encode(ssid)).as_deref(), Some(ssid));

    let mut table = StationTable::default();
    fuzz_link(data, &mut table);
    assert!(table.len() <= 1);
});
