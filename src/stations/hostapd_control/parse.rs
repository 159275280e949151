//! What stock hostapd writes on its control socket, read without a socket:
//! every function here takes the bytes of one datagram and never panics
//! (fuzzed: `fuzz/fuzz_targets/hostapd_control.rs`).
//!
//! The formats, as hostapd 2.10 writes them (`hostapd/ctrl_iface.c`,
//! `src/ap/ctrl_iface_ap.c`, `src/common/wpa_ctrl.h`; the transcripts of
//! Debian's hostapd 2.10 in `tests/fixtures/hostapd_control/` show the
//! same):
//!
//! - An *event* (sent to every `ATTACH`ed monitor) is `<level>` and a text:
//!   `<3>AP-STA-CONNECTED 02:00:00:00:01:00 keyid=…`, level 3 being
//!   `MSG_INFO`. Event names end with a space even when nothing follows
//!   (`<3>AP-ENABLED `).
//! - Anything else is the *reply* to the request that was sent: `PONG\n`,
//!   `OK\n`, `FAIL\n`, `UNKNOWN COMMAND\n`, a text, or nothing at all (an
//!   empty datagram: `STA-FIRST` with no station, `STA-NEXT` of the last
//!   one).
//! - A station block (`STA-FIRST`, `STA-NEXT <mac>`, `STA <mac>`): the MAC
//!   address on the first line, then `key=value` lines (`flags=[AUTH]
//!   [ASSOC][AUTHORIZED][WMM][HT]…`, `aid=`, `signal=` in dBm, 0 when the
//!   driver gave none, `rx_rate_info=`/`tx_rate_info=` in 100 kbit/s with
//!   ` mcs N`, ` vhtmcs N`, ` vhtnss N`, ` shortGI` after the number,
//!   `rx_bytes=`, `connected_time=` in seconds, …).
//! - `STATUS`: `key=value` lines for the radio (`state=ENABLED`, `phy=`,
//!   `freq=`, `channel=`, …) then, for each BSS of the radio, `bss[i]=`
//!   (its interface), `bssid[i]=`, `ssid[i]=` (escaped as hostapd's
//!   `printf_encode` does: `\\`, `\"`, `\e`, `\n`, `\r`, `\t`, `\xHH`),
//!   `num_sta[i]=`.

use std::fmt;

use crate::mac::MacAddr;
use crate::stations::{BssReport, StationPhy, StationReport};

/// The largest datagram hostapd sends: its reply buffer is 4096 bytes.
pub const MAX_DATAGRAM: usize = 4096;

/// The longest SSID (IEEE 802.11: 0 to 32 octets).
pub const MAX_SSID: usize = 32;

/// Why a datagram could not be read, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// What the datagram was read as: "station block", "STATUS", "event".
    pub what: &'static str,
    /// The line (from 1) where reading stopped.
    pub line: usize,
    /// What was wrong there.
    pub why: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hostapd control socket: {} line {}: {}",
            self.what, self.line, self.why
        )
    }
}

impl std::error::Error for ParseError {}

/// A datagram, told apart by its `<level>` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datagram<'a> {
    /// An unsolicited event, at a `wpa_debug` level (3 = `MSG_INFO`).
    Event { level: u8, text: &'a [u8] },
    /// The reply to the request in flight.
    Reply(&'a [u8]),
}

/// Tells an event (`<N>text`, N one to three digits) from a reply.
pub fn datagram(bytes: &[u8]) -> Datagram<'_> {
    if bytes.first() == Some(&b'<') {
        let digits = bytes[1..]
            .iter()
            .take(4)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if (1..=3).contains(&digits) && bytes.get(1 + digits) == Some(&b'>') {
            let level = bytes[1..1 + digits]
                .iter()
                .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
            return Datagram::Event {
                level: u8::try_from(level).unwrap_or(u8::MAX),
                text: &bytes[2 + digits..],
            };
        }
    }
    Datagram::Reply(bytes)
}

/// What an event says, for the events a station source follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// `AP-STA-CONNECTED <mac> [p2p_dev_addr=…] [ip_addr=…] [keyid=…]`:
    /// the station is authorized (open network: associated; WPA: the
    /// 4-way handshake is done).
    StationConnected(MacAddr),
    /// `AP-STA-DISCONNECTED <mac>`: an authorized station is no more
    /// (left, deauthenticated, timed out).
    StationDisconnected(MacAddr),
    /// `AP-ENABLED`: the BSS beacons (again): its stations and status are
    /// worth asking.
    Enabled,
    /// `AP-DISABLED`: the BSS stopped; its stations are gone.
    Disabled,
    /// `CTRL-EVENT-TERMINATING`: hostapd is removing the BSS and its
    /// control socket.
    Terminating,
    /// `AP-CSA-FINISHED freq=…` or `CTRL-EVENT-CHANNEL-SWITCH freq=…`:
    /// the BSS moved to another channel.
    ChannelSwitched { freq_mhz: u32 },
    /// Any other event, by name (not followed here).
    Other(&'a [u8]),
}

/// Reads the text of an event (what follows `<level>`).
pub fn event(text: &[u8]) -> Result<Event<'_>, ParseError> {
    let err = |why| ParseError {
        what: "event",
        line: 1,
        why,
    };
    let text = trim_end(text);
    let (name, rest) = split_word(text);
    let args = rest;
    match as_str(name) {
        kind @ ("AP-STA-CONNECTED" | "AP-STA-DISCONNECTED") => {
            let (mac, _) = split_word(args);
            let mac = parse_mac(mac).ok_or(err("no station address after the event name"))?;
            Ok(if kind == "AP-STA-CONNECTED" {
                Event::StationConnected(mac)
            } else {
                Event::StationDisconnected(mac)
            })
        }
        "AP-ENABLED" => Ok(Event::Enabled),
        "AP-DISABLED" => Ok(Event::Disabled),
        "CTRL-EVENT-TERMINATING" => Ok(Event::Terminating),
        "AP-CSA-FINISHED" | "CTRL-EVENT-CHANNEL-SWITCH" => {
            let freq = words(args)
                .find_map(|w| w.strip_prefix(b"freq="))
                .ok_or(err("no freq= in a channel switch event"))?;
            let freq_mhz = parse_u64(freq)
                .and_then(|f| u32::try_from(f).ok())
                .filter(|f| *f > 0)
                .ok_or(err("freq= is not a frequency in MHz"))?;
            Ok(Event::ChannelSwitched { freq_mhz })
        }
        _ => Ok(Event::Other(name)),
    }
}

/// The reply to a request, as far as the kind goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply<'a> {
    /// `PONG`: the answer to `PING`.
    Pong,
    /// `OK`: `ATTACH`, `DETACH` and other commands that did their work.
    Ok,
    /// `FAIL`: the command failed (`STA-NEXT` of a station that has left).
    Fail,
    /// `UNKNOWN COMMAND`: not a hostapd control socket we can use (the
    /// global one, another daemon).
    UnknownCommand,
    /// Nothing: the end of a station listing.
    Empty,
    /// Something else: a station block, a STATUS text.
    Text(&'a [u8]),
}

pub fn reply(bytes: &[u8]) -> Reply<'_> {
    match as_str(trim_end(bytes)) {
        _ if bytes.is_empty() => Reply::Empty,
        "PONG" => Reply::Pong,
        "OK" => Reply::Ok,
        "FAIL" => Reply::Fail,
        "UNKNOWN COMMAND" => Reply::UnknownCommand,
        _ => Reply::Text(bytes),
    }
}

/// A station block, as far as this agent uses it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StationInfo {
    pub mac: MacAddr,
    /// Associated (`[ASSOC]`), authorized (`[AUTHORIZED]`), signal, last
    /// rates, PHY (`[HT]`, `[VHT]`, `[HE]`, `[EHT]`); `None` where the block
    /// says nothing (a driver that reports no signal or rate: hostapd
    /// writes 0 then).
    pub report: StationReport,
    pub aid: Option<u16>,
    pub rx_bytes: Option<u64>,
    pub tx_bytes: Option<u64>,
    pub rx_packets: Option<u64>,
    pub tx_packets: Option<u64>,
    pub inactive_ms: Option<u64>,
    pub connected_s: Option<u64>,
}

/// Reads a station block (`STA-FIRST`, `STA-NEXT`, `STA` replies).
pub fn station(block: &[u8]) -> Result<StationInfo, ParseError> {
    let what = "station block";
    let mut lines = lines(block);
    let (first, mac_line) = lines.next().ok_or(ParseError {
        what,
        line: 1,
        why: "empty",
    })?;
    let mac = parse_mac(mac_line).ok_or(ParseError {
        what,
        line: first,
        why: "the first line is not a station address",
    })?;
    let mut info = StationInfo {
        mac,
        ..StationInfo::default()
    };
    for (line, text) in lines {
        let Some((key, value)) = split_once(text, b'=') else {
            // hostapd's blocks are key=value lines only; skip what is not
            // (a future format) rather than lose the station.
            continue;
        };
        let bad = |why| ParseError { what, line, why };
        match as_str(key) {
            "flags" => {
                let mut report = StationReport {
                    associated: Some(false),
                    authorized: Some(false),
                    phy: Some(StationPhy::Legacy),
                    ..info.report
                };
                for flag in flags(value) {
                    match as_str(flag) {
                        "ASSOC" => report.associated = Some(true),
                        "AUTHORIZED" => report.authorized = Some(true),
                        "HT" => report.phy = Some(higher(report.phy, StationPhy::Ht)),
                        "VHT" => report.phy = Some(higher(report.phy, StationPhy::Vht)),
                        "HE" => report.phy = Some(higher(report.phy, StationPhy::He)),
                        "EHT" => report.phy = Some(higher(report.phy, StationPhy::Eht)),
                        _ => {}
                    }
                }
                info.report = report;
            }
            "aid" => {
                info.aid = Some(
                    parse_u64(value)
                        .and_then(|v| u16::try_from(v).ok())
                        .ok_or(bad("aid= is not a number"))?,
                )
            }
            "signal" => {
                let dbm = parse_i64(value)
                    .and_then(|v| i8::try_from(v).ok())
                    .ok_or(bad("signal= is not a dBm value"))?;
                // hostapd writes 0 when the driver reported no signal.
                info.report.signal_dbm = (dbm != 0).then_some(dbm);
            }
            "rx_rate_info" | "tx_rate_info" => {
                let (number, _) = split_word(value);
                let kbps = parse_u64(number)
                    .map(|units| units.saturating_mul(100).min(u64::from(u32::MAX)) as u32)
                    .ok_or(bad("a rate is not a number of 100 kbit/s"))?;
                let kbps = (kbps != 0).then_some(kbps);
                if key == b"rx_rate_info" {
                    info.report.rx_rate_kbps = kbps;
                } else {
                    info.report.tx_rate_kbps = kbps;
                }
            }
            "rx_bytes" => {
                info.rx_bytes = Some(number(value, bad)?);
                info.report.rx_bytes = info.rx_bytes;
            }
            "tx_bytes" => {
                info.tx_bytes = Some(number(value, bad)?);
                info.report.tx_bytes = info.tx_bytes;
            }
            "rx_packets" => info.rx_packets = Some(number(value, bad)?),
            "tx_packets" => info.tx_packets = Some(number(value, bad)?),
            "inactive_msec" => info.inactive_ms = Some(number(value, bad)?),
            "connected_time" => info.connected_s = Some(number(value, bad)?),
            _ => {}
        }
    }
    Ok(info)
}

fn number(value: &[u8], bad: impl Fn(&'static str) -> ParseError) -> Result<u64, ParseError> {
    parse_u64(value).ok_or(bad("a counter is not a number"))
}

fn higher(now: Option<StationPhy>, flag: StationPhy) -> StationPhy {
    let rank = |p: StationPhy| match p {
        StationPhy::Legacy => 0,
        StationPhy::Ht => 1,
        StationPhy::Vht => 2,
        StationPhy::He => 3,
        StationPhy::Eht => 4,
    };
    match now {
        Some(p) if rank(p) >= rank(flag) => p,
        _ => flag,
    }
}

/// The words of a `flags=` value: `[AUTH][ASSOC]…` → `AUTH`, `ASSOC`, …
/// (hostapd 2.10 writes `[PENDING_POLL` without its closing bracket: the
/// words are cut at `[`, not at `]`).
fn flags(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|b| *b == b'[')
        .map(|w| w.strip_suffix(b"]").unwrap_or(w))
        .filter(|w| !w.is_empty())
}

/// What `STATUS` says of one BSS of the radio.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusInfo {
    /// `state=ENABLED` (else DISABLED, COUNTRY_UPDATE, ACS, HT_SCAN, DFS,
    /// UNINITIALIZED: not beaconing).
    pub enabled: bool,
    /// SSID, BSSID (the interface's own address), frequency and channel
    /// (when the radio has one: 0 is left out), radio (`phy=`).
    pub report: BssReport,
    /// `num_sta[i]=`: the stations hostapd has for the BSS.
    pub num_sta: Option<u32>,
}

/// Reads a `STATUS` reply for the BSS on interface `ifname` (the reply
/// lists every BSS of the radio; the one whose `bss[i]` is `ifname` is
/// taken). `Ok(None)`: a STATUS of a radio without that BSS.
pub fn status(text: &[u8], ifname: &str) -> Result<Option<StatusInfo>, ParseError> {
    let what = "STATUS";
    let mut info = StatusInfo::default();
    // The index of our BSS, once its `bss[i]=` line is seen (it comes
    // first of the BSS's lines).
    let mut ours: Option<&[u8]> = None;
    let mut any = false;
    for (line, text) in lines(text) {
        let Some((key, value)) = split_once(text, b'=') else {
            return Err(ParseError {
                what,
                line,
                why: "not a key=value line",
            });
        };
        any = true;
        let bad = |why| ParseError { what, line, why };
        if let Some((name, index)) = indexed(key) {
            if name == b"bss" {
                if value == ifname.as_bytes() {
                    ours = Some(index);
                }
                continue;
            }
            if ours != Some(index) {
                continue;
            }
            match as_str(name) {
                "bssid" => {
                    info.report.bssid =
                        Some(parse_mac(value).ok_or(bad("bssid[] is not a MAC address"))?)
                }
                "ssid" => {
                    info.report.ssid =
                        Some(decode_ssid(value).ok_or(bad("ssid[] is longer than 32 octets"))?)
                }
                "num_sta" => {
                    info.num_sta = Some(
                        parse_u64(value)
                            .and_then(|v| u32::try_from(v).ok())
                            .ok_or(bad("num_sta[] is not a number"))?,
                    )
                }
                _ => {}
            }
            continue;
        }
        match as_str(key) {
            "state" => info.enabled = value == b"ENABLED",
            "phy" if !value.is_empty() => {
                info.report.radio = std::str::from_utf8(value).ok().map(str::to_owned)
            }
            "freq" => {
                let f = parse_u64(value)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or(bad("freq= is not a number"))?;
                info.report.freq_mhz = (f != 0).then_some(f);
            }
            "channel" => {
                let c = parse_u64(value)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or(bad("channel= is not a number"))?;
                info.report.channel = (c != 0).then_some(c);
            }
            _ => {}
        }
    }
    if !any {
        return Err(ParseError {
            what,
            line: 1,
            why: "empty",
        });
    }
    Ok(ours.map(|_| info))
}

/// A word of hostapd's text as `str`, for `match`: rustc compares a
/// byte-string pattern byte by byte (16 bytes of mips code per
/// character), a `str` pattern with one call. A word that is not UTF-8
/// matches none of the names looked for here.
fn as_str(word: &[u8]) -> &str {
    std::str::from_utf8(word).unwrap_or_default()
}

/// `name[index]` → (`name`, `index`).
fn indexed(key: &[u8]) -> Option<(&[u8], &[u8])> {
    let open = key.iter().position(|b| *b == b'[')?;
    let index = key[open + 1..].strip_suffix(b"]")?;
    (!index.is_empty() && index.iter().all(u8::is_ascii_digit)).then_some((&key[..open], index))
}

/// Undoes hostapd's `printf_encode` of an SSID (what its `printf_decode`
/// reads: `\\`, `\"`, `\e`, `\n`, `\r`, `\t`, `\xHH` or `\xH`, octal
/// `\NNN`; an unknown escape is dropped, as there). `None` when longer
/// than 32 octets.
pub fn decode_ssid(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len().min(MAX_SSID));
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        i += 1;
        if b != b'\\' {
            out.push(b);
        } else {
            let Some(&e) = text.get(i) else { break };
            i += 1;
            match e {
                b'\\' | b'"' => out.push(e),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'e' => out.push(0x1b),
                b'x' => {
                    let digits = text[i..]
                        .iter()
                        .take(2)
                        .take_while(|d| d.is_ascii_hexdigit())
                        .count();
                    if digits > 0 {
                        let v = text[i..i + digits]
                            .iter()
                            .fold(0u8, |v, d| (v << 4) | hex(*d));
                        out.push(v);
                        i += digits;
                    }
                }
                b'0'..=b'7' => {
                    let mut v = u32::from(e - b'0');
                    for _ in 0..2 {
                        match text.get(i) {
                            Some(d @ b'0'..=b'7') => {
                                v = v * 8 + u32::from(d - b'0');
                                i += 1;
                            }
                            _ => break,
                        }
                    }
                    out.push(v as u8);
                }
                _ => {}
            }
        }
        if out.len() > MAX_SSID {
            return None;
        }
    }
    Some(out)
}

fn hex(d: u8) -> u8 {
    match d {
        b'0'..=b'9' => d - b'0',
        b'a'..=b'f' => d - b'a' + 10,
        b'A'..=b'F' => d - b'A' + 10,
        _ => 0,
    }
}

/// Lines (from 1) of a text, without their `\n` (or `\r\n`); empty lines
/// skipped.
fn lines(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    text.split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix(b"\r").unwrap_or(l)))
        .filter(|(_, l)| !l.is_empty())
}

fn split_once(text: &[u8], at: u8) -> Option<(&[u8], &[u8])> {
    let i = text.iter().position(|b| *b == at)?;
    Some((&text[..i], &text[i + 1..]))
}

/// The first word (up to a space) and the rest after the spaces.
fn split_word(text: &[u8]) -> (&[u8], &[u8]) {
    match text.iter().position(|b| *b == b' ') {
        Some(i) => {
            let rest = &text[i..];
            let spaces = rest.iter().take_while(|b| **b == b' ').count();
            (&text[..i], &rest[spaces..])
        }
        None => (text, &[]),
    }
}

fn words(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|b| *b == b' ').filter(|w| !w.is_empty())
}

fn trim_end(text: &[u8]) -> &[u8] {
    let keep = text
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &text[..keep]
}

fn parse_mac(text: &[u8]) -> Option<MacAddr> {
    MacAddr::parse(std::str::from_utf8(text).ok()?)
}

/// A decimal number, digits only (at most 20: what fits `u64`).
pub fn parse_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 20 {
        return None;
    }
    text.iter().try_fold(0u64, |n, d| {
        if d.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
}

fn parse_i64(text: &[u8]) -> Option<i64> {
    match text.strip_prefix(b"-") {
        Some(digits) => parse_u64(digits)
            .and_then(|n| i64::try_from(n).ok())
            .map(|n| -n),
        None => parse_u64(text).and_then(|n| i64::try_from(n).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STA: MacAddr = MacAddr([0x02, 0, 0, 0, 0x01, 0x00]);

    #[test]
    fn events_and_replies_are_told_apart_by_the_level() {
        assert_eq!(
            datagram(b"<3>AP-STA-CONNECTED 02:00:00:00:01:00"),
            Datagram::Event {
                level: 3,
                text: b"AP-STA-CONNECTED 02:00:00:00:01:00"
            }
        );
        assert_eq!(
            datagram(b"<255>X"),
            Datagram::Event {
                level: 255,
                text: b"X"
            }
        );
        assert_eq!(
            datagram(b"<999>X"),
            Datagram::Event {
                level: 255,
                text: b"X"
            }
        );
        for reply in [
            &b""[..],
            b"<",
            b"<>x",
            b"<1234>x",
            b"<3",
            b"PONG\n",
            b"02:00:00:00:01:00\nflags=[AUTH]\n",
        ] {
            assert_eq!(datagram(reply), Datagram::Reply(reply));
        }
        assert_eq!(reply(b"PONG\n"), Reply::Pong);
        assert_eq!(reply(b"OK\n"), Reply::Ok);
        assert_eq!(reply(b"FAIL\n"), Reply::Fail);
        assert_eq!(reply(b"UNKNOWN COMMAND\n"), Reply::UnknownCommand);
        assert_eq!(reply(b""), Reply::Empty);
        assert_eq!(reply(b"\n"), Reply::Text(b"\n"));
        assert_eq!(reply(b"state=ENABLED\n"), Reply::Text(b"state=ENABLED\n"));
    }

    #[test]
    fn events() {
        assert_eq!(
            event(b"AP-STA-CONNECTED 02:00:00:00:01:00"),
            Ok(Event::StationConnected(STA))
        );
        assert_eq!(
            event(b"AP-STA-CONNECTED 02:00:00:00:01:00 keyid=guests dpp_pkhash=00ff"),
            Ok(Event::StationConnected(STA))
        );
        assert_eq!(
            event(b"AP-STA-DISCONNECTED 02:00:00:00:01:00"),
            Ok(Event::StationDisconnected(STA))
        );
        assert_eq!(event(b"AP-ENABLED "), Ok(Event::Enabled));
        assert_eq!(event(b"AP-DISABLED "), Ok(Event::Disabled));
        assert_eq!(event(b"CTRL-EVENT-TERMINATING "), Ok(Event::Terminating));
        assert_eq!(
            event(b"AP-CSA-FINISHED freq=5180 dfs=0"),
            Ok(Event::ChannelSwitched { freq_mhz: 5180 })
        );
        assert_eq!(
            event(b"CTRL-EVENT-CHANNEL-SWITCH freq=2437 ht_enabled=1 ch_offset=0 ch_width=20 MHz cf1=2437 cf2=0 dfs=0"),
            Ok(Event::ChannelSwitched { freq_mhz: 2437 })
        );
        assert_eq!(
            event(b"AP-STA-POLL-OK 02:00:00:00:01:00"),
            Ok(Event::Other(b"AP-STA-POLL-OK"))
        );
        let e = event(b"AP-STA-CONNECTED nonsense").unwrap_err();
        assert_eq!(
            e.to_string(),
            "hostapd control socket: event line 1: no station address after the event name"
        );
        assert!(event(b"AP-STA-DISCONNECTED").is_err());
        assert!(event(b"AP-CSA-FINISHED dfs=0").is_err());
        assert!(event(b"AP-CSA-FINISHED freq=0").is_err());
        assert!(event(b"AP-CSA-FINISHED freq=99999999999").is_err());
    }

    #[test]
    fn station_blocks() {
        let block = b"02:00:00:00:01:00\nflags=[AUTH][ASSOC][AUTHORIZED][WMM][HT][VHT]\n\
aid=1\ncapability=0x411\nlisten_interval=5\nsupported_rates=82 84 8b 96\n\
timeout_next=NULLFUNC POLL\nrx_packets=12\ntx_packets=9\nrx_bytes=1583\ntx_bytes=1440\n\
inactive_msec=310\nsignal=-30\nrx_rate_info=540\ntx_rate_info=1300 mcs 15 shortGI\n\
connected_time=7\n";
        let info = station(block).unwrap();
        assert_eq!(
            info,
            StationInfo {
                mac: STA,
                report: StationReport {
                    associated: Some(true),
                    authorized: Some(true),
                    signal_dbm: Some(-30),
                    rx_rate_kbps: Some(54_000),
                    tx_rate_kbps: Some(130_000),
                    phy: Some(StationPhy::Vht),
                    rx_bytes: Some(1583),
                    tx_bytes: Some(1440),
                },
                aid: Some(1),
                rx_bytes: Some(1583),
                tx_bytes: Some(1440),
                rx_packets: Some(12),
                tx_packets: Some(9),
                inactive_ms: Some(310),
                connected_s: Some(7),
            }
        );
        // Only authenticated; no signal or rate from the driver (0).
        let info = station(
            b"02:00:00:00:01:00\nflags=[AUTH][PENDING_POLL[WMM]\nsignal=0\nrx_rate_info=0\n",
        )
        .unwrap();
        assert_eq!(
            info.report,
            StationReport {
                associated: Some(false),
                authorized: Some(false),
                phy: Some(StationPhy::Legacy),
                ..StationReport::default()
            }
        );
        // [AUTH] is not [AUTHORIZED]; [HE] wins over [HT] whatever the order.
        let info = station(b"02:00:00:00:01:00\nflags=[HE][AUTH][HT]").unwrap();
        assert_eq!(info.report.authorized, Some(false));
        assert_eq!(info.report.phy, Some(StationPhy::He));
        let e = station(b"FAIL\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "hostapd control socket: station block line 1: the first line is not a station address"
        );
        let e = station(b"02:00:00:00:01:00\naid=1\nsignal=-300\n").unwrap_err();
        assert_eq!((e.line, e.why), (3, "signal= is not a dBm value"));
        assert!(station(b"").is_err());
        assert!(station(b"02:00:00:00:01:00\nrx_rate_info=fast\n").is_err());
    }

    #[test]
    fn status_of_one_bss_of_the_radio() {
        let text = b"state=ENABLED\nphy=phy0\nfreq=2412\nnum_sta_non_erp=0\n\
cac_time_left_seconds=N/A\nchannel=1\nbeacon_int=100\n\
bss[0]=wlan0\nbssid[0]=02:00:00:00:00:00\nssid[0]=lab \\\"one\\\"\\xff\nnum_sta[0]=1\n\
bss[1]=wlan0_1\nbssid[1]=02:00:00:00:00:01\nssid[1]=guests\nnum_sta[1]=0\n";
        let s = status(text, "wlan0_1").unwrap().unwrap();
        assert_eq!(
            s,
            StatusInfo {
                enabled: true,
                report: BssReport {
                    ssid: Some(b"guests".to_vec()),
                    bssid: Some(MacAddr([2, 0, 0, 0, 0, 1])),
                    freq_mhz: Some(2412),
                    channel: Some(1),
                    radio: Some("phy0".into()),
                    airtime: None,
                },
                num_sta: Some(0),
            }
        );
        let s = status(text, "wlan0").unwrap().unwrap();
        assert_eq!(s.report.ssid.as_deref(), Some(&b"lab \"one\"\xff"[..]));
        assert_eq!(s.num_sta, Some(1));
        assert_eq!(status(text, "wlan1"), Ok(None));
        // Not beaconing: no frequency or channel.
        let s = status(
            b"state=DISABLED\nphy=phy0\nfreq=0\nchannel=0\nbss[0]=wlan0\n",
            "wlan0",
        )
        .unwrap()
        .unwrap();
        assert!(!s.enabled);
        assert_eq!((s.report.freq_mhz, s.report.channel), (None, None));
        let e = status(b"state=ENABLED\nPONG\n", "wlan0").unwrap_err();
        assert_eq!((e.what, e.line), ("STATUS", 2));
        assert!(status(b"", "wlan0").is_err());
        assert!(status(b"bss[0]=wlan0\nbssid[0]=nonsense\n", "wlan0").is_err());
    }

    #[test]
    fn ssids_decode_as_hostapd_encodes_them() {
        for (text, ssid) in [
            (&br"plain"[..], &b"plain"[..]),
            (br#"a\\b\"c\e\n\r\t"#, b"a\\b\"c\x1b\n\r\t"),
            (br"\x00\xfF\x7", b"\x00\xff\x07"),
            (br"\101\0", b"A\x00"),
            (br"\q", b""),
            (br"end\", b"end"),
            (b"", b""),
        ] {
            assert_eq!(decode_ssid(text).as_deref(), Some(ssid), "{text:?}");
        }
        assert_eq!(decode_ssid(&[b'x'; 33]), None);
        assert_eq!(decode_ssid(&br"\x41".repeat(32)), Some(vec![b'A'; 32]));
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = crate::source_dir()
            .join("tests/fixtures/hostapd_control")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Replies of Debian's hostapd 2.10, recorded in the VM (see the
    /// fixtures' README.md).
    #[test]
    fn real_replies() {
        for (file, kind) in [
            ("idle/00-PING.txt", Reply::Pong),
            ("idle/02-STA-FIRST.txt", Reply::Empty),
            ("idle/03-STA_02_00_00_00_09_09.txt", Reply::Fail),
            ("idle/04-STA-NEXT_02_00_00_00_09_09.txt", Reply::Fail),
            ("idle/05-ATTACH.txt", Reply::Ok),
            ("idle/06-DETACH.txt", Reply::Ok),
            ("idle/07-NONSENSE.txt", Reply::UnknownCommand),
            ("list-wlan0/01-STA-NEXT_02_00_00_00_01_00.txt", Reply::Empty),
            ("joined/01-PING.txt", Reply::Pong),
        ] {
            let bytes = fixture(file);
            assert_eq!(datagram(&bytes), Datagram::Reply(&bytes), "{file}");
            assert_eq!(reply(&bytes), kind, "{file}");
        }
    }

    #[test]
    fn real_station_blocks() {
        // WPA2, HT; `iw station dump` in the same run said signal -30 dBm,
        // rx 13.0 MBit/s MCS 1 a second later, tx 1.0 MBit/s.
        let block = fixture("list-wlan0/00-STA-FIRST.txt");
        assert!(matches!(reply(&block), Reply::Text(_)));
        let info = station(&block).unwrap();
        assert_eq!(
            info,
            StationInfo {
                mac: MacAddr([2, 0, 0, 0, 1, 0]),
                report: StationReport {
                    associated: Some(true),
                    authorized: Some(true),
                    signal_dbm: Some(-30),
                    rx_rate_kbps: Some(19_500),
                    tx_rate_kbps: Some(1_000),
                    phy: Some(StationPhy::Ht),
                    rx_bytes: Some(1205),
                    tx_bytes: Some(524),
                },
                aid: Some(1),
                rx_bytes: Some(1205),
                tx_bytes: Some(524),
                rx_packets: Some(12),
                tx_packets: Some(5),
                inactive_ms: Some(2912),
                connected_s: Some(4),
            }
        );
        // The open BSS's station; `STA <mac>` gives the same block.
        let info = station(&fixture("list-wlan0_1/00-STA-FIRST.txt")).unwrap();
        assert_eq!(info.mac, MacAddr([2, 0, 0, 0, 2, 0]));
        assert_eq!(info.report.rx_rate_kbps, Some(26_000));
        // Two stations: the newest first, then the other, then nothing.
        let first = station(&fixture("list-two-wlan0/00-STA-FIRST.txt")).unwrap();
        let next = station(&fixture("list-two-wlan0/01-STA-NEXT_02_00_00_00_03_00.txt")).unwrap();
        assert_eq!(
            (first.mac, next.mac),
            (MacAddr([2, 0, 0, 0, 3, 0]), MacAddr([2, 0, 0, 0, 1, 0]))
        );
        assert_eq!(
            reply(&fixture("list-two-wlan0/02-STA-NEXT_02_00_00_00_01_00.txt")),
            Reply::Empty
        );
        let info = station(&fixture("joined/02-STA_02_00_00_00_01_00.txt")).unwrap();
        assert_eq!(info.mac, MacAddr([2, 0, 0, 0, 1, 0]));
        assert_eq!(info.connected_s, Some(5));
    }

    #[test]
    fn real_status() {
        let text = fixture("joined/00-STATUS.txt");
        let wlan0 = status(&text, "wlan0").unwrap().unwrap();
        assert_eq!(
            wlan0,
            StatusInfo {
                enabled: true,
                report: BssReport {
                    ssid: Some(b"wsflowd-lab".to_vec()),
                    bssid: Some(MacAddr([2, 0, 0, 0, 0, 0])),
                    freq_mhz: Some(2412),
                    channel: Some(1),
                    radio: Some("phy0".into()),
                    airtime: None,
                },
                num_sta: Some(1),
            }
        );
        // The second BSS's SSID is `gu"est` and a 0x01 octet
        // (`ssid2=P"gu\"est\x01"` in hostapd.conf).
        for file in ["joined/00-STATUS.txt", "joined-wlan0_1/00-STATUS.txt"] {
            let wlan0_1 = status(&fixture(file), "wlan0_1").unwrap().unwrap();
            assert_eq!(wlan0_1.report.ssid.as_deref(), Some(&b"gu\"est\x01"[..]));
            assert_eq!(wlan0_1.report.bssid, Some(MacAddr([2, 0, 0, 0, 0, 1])));
        }
        let idle = status(&fixture("idle/01-STATUS.txt"), "wlan0")
            .unwrap()
            .unwrap();
        assert_eq!(idle.num_sta, Some(0));
        // After `chan_switch 5 2437`.
        let moved = status(&fixture("after-csa/00-STATUS.txt"), "wlan0")
            .unwrap()
            .unwrap();
        assert_eq!(
            (moved.report.freq_mhz, moved.report.channel),
            (Some(2437), Some(6))
        );
    }

    #[test]
    fn real_events() {
        // One datagram a line, as an ATTACHed monitor received them while
        // stations joined and left, the AP was disabled and enabled,
        // switched channel and was stopped.
        let mut connected = 0;
        let mut disconnected = 0;
        let mut other = Vec::new();
        let mut seen = Vec::new();
        for file in ["events-wlan0.txt", "events-wlan0_1.txt"] {
            for line in fixture(file)
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
            {
                let Datagram::Event { level, text } = datagram(line) else {
                    panic!("{line:?} is not an event");
                };
                assert_eq!(level, 3);
                match event(text).unwrap() {
                    Event::StationConnected(_) => connected += 1,
                    Event::StationDisconnected(_) => disconnected += 1,
                    Event::Other(name) => other.push(String::from_utf8_lossy(name).into_owned()),
                    e => seen.push(format!("{e:?}")),
                }
            }
        }
        assert!(
            connected >= 3 && disconnected >= 3,
            "{connected} {disconnected}"
        );
        for e in [
            "Enabled",
            "Disabled",
            "Terminating",
            "ChannelSwitched { freq_mhz: 2437 }",
        ] {
            assert!(seen.iter().any(|s| s == e), "{e} not in {seen:?}");
        }
        other.sort();
        other.dedup();
        assert_eq!(
            other,
            [
                "CTRL-EVENT-STARTED-CHANNEL-SWITCH",
                "EAPOL-4WAY-HS-COMPLETED"
            ]
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"+1"), None);
        assert_eq!(parse_i64(b"-128"), Some(-128));
        assert_eq!(parse_i64(b"-"), None);
    }
}
