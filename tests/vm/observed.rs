//! What the guest recorded, parsed: its events, the outputs of iw,
//! hostapd_cli and tcpdump (the independent truth the samples are checked
//! against), the monitor captures, and the sFlow datagrams decoded with our
//! decoder into owned samples.
//!
//! The formats parsed here are those of the Debian 12 tools in the image:
//! iw 5.19, hostapd 2.10, tcpdump 4.99.

use std::collections::BTreeMap;

use wsflowd::pcap::{link_type, udp_payload, PcapReader};
use wsflowd::sflow::{
    CounterRecord, Datagram, FlowRecord, Ieee80211Counters, IfCounters, Interface,
    RadioUtilization, Sample,
};

use super::rig::ScenarioOut;

pub type Mac = [u8; 6];

pub fn parse_mac(s: &str) -> Option<Mac> {
    let mut mac = [0u8; 6];
    let mut parts = s.trim().split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

pub fn fmt_mac(m: &Mac) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

// ---------------------------------------------------------------------------
// events.log and facts.log

/// `<unix time> <name> key=value...`
#[derive(Debug, Clone)]
pub struct Event {
    pub time: f64,
    pub name: String,
    pub fields: BTreeMap<String, String>,
    /// Everything after the name, as written.
    pub text: String,
}

impl Event {
    pub fn get(&self, key: &str) -> &str {
        self.fields.get(key).map_or("", String::as_str)
    }

    pub fn num(&self, key: &str) -> u64 {
        self.get(key).parse().unwrap_or(0)
    }
}

pub fn events(out: &ScenarioOut) -> Vec<Event> {
    let mut v: Vec<Event> = out
        .text("events.log")
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let time = words.next()?.parse().ok()?;
            let name = words.next()?.to_string();
            let text = words.clone().collect::<Vec<_>>().join(" ");
            let fields = words
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Some(Event {
                time,
                name,
                fields,
                text,
            })
        })
        .collect();
    v.sort_by(|a, b| a.time.total_cmp(&b.time));
    v
}

/// A command's output recorded at a time: `=== <time> <name>` and the
/// lines up to the next header.
#[derive(Debug, Clone)]
pub struct Fact {
    pub time: f64,
    pub name: String,
    pub text: String,
}

pub fn facts_in(text: &str) -> Vec<Fact> {
    let mut out: Vec<Fact> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("=== ") {
            if let Some((t, name)) = rest.split_once(' ') {
                if let Ok(time) = t.parse() {
                    out.push(Fact {
                        time,
                        name: name.to_string(),
                        text: String::new(),
                    });
                    continue;
                }
            }
        }
        if let Some(f) = out.last_mut() {
            f.text.push_str(line);
            f.text.push('\n');
        }
    }
    out
}

pub fn facts(out: &ScenarioOut) -> Vec<Fact> {
    facts_in(&out.text("facts.log"))
}

/// The facts of stations.log (every second) and facts.log together, in
/// time order.
pub fn all_facts(out: &ScenarioOut) -> Vec<Fact> {
    let mut v = facts(out);
    v.extend(facts_in(&out.text("stations.log")));
    v.sort_by(|a, b| a.time.total_cmp(&b.time));
    v
}

// ---------------------------------------------------------------------------
// iw

/// `iw dev X info`.
#[derive(Debug, Clone, Default)]
pub struct DevInfo {
    pub name: String,
    pub ifindex: u32,
    pub addr: Mac,
    pub ssid: Option<String>,
    pub kind: String,
    pub channel: Option<u32>,
    pub freq: Option<u32>,
    pub txpower_dbm: Option<f64>,
}

pub fn parse_dev_info(text: &str) -> Option<DevInfo> {
    let mut d = DevInfo::default();
    for line in text.lines() {
        let line = line.trim();
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "Interface" => d.name = rest.trim().to_string(),
            "ifindex" => d.ifindex = rest.trim().parse().ok()?,
            "addr" => d.addr = parse_mac(rest)?,
            "ssid" => d.ssid = Some(rest.trim().to_string()),
            "type" => d.kind = rest.trim().to_string(),
            "channel" => {
                // "channel 1 (2412 MHz), width: ..."
                let mut w = rest.split_whitespace();
                d.channel = w.next().and_then(|c| c.parse().ok());
                d.freq = w
                    .next()
                    .and_then(|f| f.trim_start_matches('(').parse().ok());
            }
            "txpower" => d.txpower_dbm = rest.split_whitespace().next()?.parse().ok(),
            _ => {}
        }
    }
    (!d.name.is_empty()).then_some(d)
}

/// Every `dev_info NAME` fact, in time order.
pub fn dev_infos(facts: &[Fact]) -> Vec<(f64, DevInfo)> {
    facts
        .iter()
        .filter(|f| f.name.starts_with("dev_info "))
        .filter_map(|f| Some((f.time, parse_dev_info(&f.text)?)))
        .collect()
}

/// The last recorded `iw dev info` of interface `name`.
pub fn dev_info(facts: &[Fact], name: &str) -> Option<DevInfo> {
    dev_infos(facts)
        .into_iter()
        .rev()
        .find(|(_, d)| d.name == name)
        .map(|(_, d)| d)
}

/// One station of `iw dev X station dump`.
#[derive(Debug, Clone, Default)]
pub struct StationInfo {
    pub mac: Mac,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub tx_retries: u64,
    pub tx_failed: u64,
    pub signal_dbm: Option<i32>,
    /// bit/s
    pub tx_bitrate: Option<u64>,
    pub rx_bitrate: Option<u64>,
    pub associated: bool,
    pub authorized: bool,
}

/// "54.0 MBit/s ..." -> bit/s.
fn bitrate(rest: &str) -> Option<u64> {
    let mbit: f64 = rest.split_whitespace().next()?.parse().ok()?;
    Some((mbit * 1_000_000.0).round() as u64)
}

pub fn parse_station_dump(text: &str) -> Vec<StationInfo> {
    let mut out: Vec<StationInfo> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Station ") {
            if let Some(mac) = rest.split_whitespace().next().and_then(parse_mac) {
                out.push(StationInfo {
                    mac,
                    ..Default::default()
                });
            }
            continue;
        }
        let Some(s) = out.last_mut() else { continue };
        let Some((key, value)) = line.trim().split_once(':') else {
            continue;
        };
        let value = value.trim();
        let num = || value.split_whitespace().next().and_then(|v| v.parse().ok());
        match key {
            "rx packets" => s.rx_packets = num().unwrap_or(0),
            "tx packets" => s.tx_packets = num().unwrap_or(0),
            "tx retries" => s.tx_retries = num().unwrap_or(0),
            "tx failed" => s.tx_failed = num().unwrap_or(0),
            "signal" => s.signal_dbm = value.split_whitespace().next().and_then(|v| v.parse().ok()),
            "tx bitrate" => s.tx_bitrate = bitrate(value),
            "rx bitrate" => s.rx_bitrate = bitrate(value),
            "associated" => s.associated = value == "yes",
            "authorized" => s.authorized = value == "yes",
            _ => {}
        }
    }
    out
}

/// A station dump of one interface at a time.
#[derive(Debug, Clone)]
pub struct StationDump {
    pub time: f64,
    pub stations: Vec<StationInfo>,
}

impl StationDump {
    pub fn associated(&self) -> usize {
        self.stations.iter().filter(|s| s.associated).count()
    }
}

/// Every `stations IFNAME` fact (stations.log and the final facts) of
/// interface `ifname`, in time order. A dump that failed (the interface
/// did not exist at that moment) has no stations.
pub fn station_dumps(facts: &[Fact], ifname: &str) -> Vec<StationDump> {
    let name = format!("stations {ifname}");
    facts
        .iter()
        .filter(|f| f.name == name)
        .map(|f| StationDump {
            time: f.time,
            stations: parse_station_dump(&f.text),
        })
        .collect()
}

/// The stations `hostapd_cli all_sta` lists as associated (`[ASSOC]` in
/// their flags: hostapd keeps an entry for a while after a station left or
/// failed its handshake).
pub fn parse_all_sta(text: &str) -> Vec<Mac> {
    let mut out = Vec::new();
    let mut current = None;
    for line in text.lines() {
        if let Some(mac) = parse_mac(line) {
            current = Some(mac);
        } else if let (Some(mac), Some(flags)) = (current, line.strip_prefix("flags=")) {
            if flags.contains("[ASSOC]") {
                out.push(mac);
            }
            current = None;
        }
    }
    out
}

/// `iw dev X survey dump`: (frequency MHz, in use, noise dBm, active ms,
/// busy ms) for each channel listed.
#[derive(Debug, Clone, Default)]
pub struct SurveyEntry {
    pub freq: u32,
    pub in_use: bool,
    pub noise: Option<i32>,
    pub active_ms: Option<u64>,
    pub busy_ms: Option<u64>,
}

pub fn parse_survey(text: &str) -> Vec<SurveyEntry> {
    let mut out: Vec<SurveyEntry> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("Survey data from") {
            out.push(SurveyEntry::default());
            continue;
        }
        let Some(e) = out.last_mut() else { continue };
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let first = value.split_whitespace().next().unwrap_or("");
        match key {
            "frequency" => {
                e.freq = first.parse().unwrap_or(0);
                e.in_use = value.contains("[in use]");
            }
            "noise" => e.noise = first.parse().ok(),
            "channel active time" => e.active_ms = first.parse().ok(),
            "channel busy time" => e.busy_ms = first.parse().ok(),
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Monitor captures and what tcpdump decodes of them

/// A frame captured on a monitor interface: the 802.11 frame (radiotap
/// removed) and its time.
#[derive(Debug, Clone)]
pub struct MonitorCapture {
    pub time: f64,
    pub dot11: Vec<u8>,
}

pub fn monitor_captures(bytes: &[u8]) -> Vec<MonitorCapture> {
    let Ok(reader) = PcapReader::new(bytes) else {
        return Vec::new();
    };
    let nano = reader.nanosecond;
    assert_eq!(reader.link_type, link_type::IEEE802_11_RADIOTAP);
    reader
        .filter_map(Result::ok)
        .filter_map(|r| {
            let len = usize::from(u16::from_le_bytes([*r.data.get(2)?, *r.data.get(3)?]));
            let frac = if nano { 1e-9 } else { 1e-6 };
            Some(MonitorCapture {
                time: f64::from(r.ts_sec) + f64::from(r.ts_frac) * frac,
                dot11: r.data.get(len..)?.to_vec(),
            })
        })
        .collect()
}

/// The frames of an Ethernet capture (tcpdump -w on an AP interface) with
/// their times.
pub fn ethernet_captures(bytes: &[u8]) -> Vec<(f64, Vec<u8>)> {
    let Ok(reader) = PcapReader::new(bytes) else {
        return Vec::new();
    };
    let frac = if reader.nanosecond { 1e-9 } else { 1e-6 };
    reader
        .filter_map(Result::ok)
        .map(|r| {
            (
                f64::from(r.ts_sec) + f64::from(r.ts_frac) * frac,
                r.data.to_vec(),
            )
        })
        .collect()
}

/// Lines up the samples of a 1-in-1 data source with the frames a capture
/// of the same interface saw: the frames that were not sampled, and the
/// samples no captured frame matches (a sample matches a frame whose bytes
/// start with its header). The alignment starts at the first sample that
/// matches exactly one captured frame (a mac80211 transmit-status beacon,
/// with its timestamp and sequence number still 0, looks like every
/// other): frames before that one are from before sampling started (or not
/// judged), samples before it likewise. The frame and the sample right
/// before the anchor take part all the same, unjudged, so that a swap
/// across the anchor matches (seen in CI: the agent's first sample on mon1
/// was the AP's own beacon, mon0 had it after the neighbour's beacon of
/// the same TBTT, which was the anchor).
///
/// From there it is the longest common subsequence of the two, in which
/// two neighbours swapped also match: two interfaces of one radio need not
/// see two frames of one instant in the same order (mac80211 hands
/// received frames and its own transmit-status frames to the monitors
/// from two paths; seen in CI: mon0 had the two BSSes' beacons of one TBTT
/// one way round, mon1 the other). With identical frames (those beacons)
/// a greedy walk would drift from one to the next and call every later
/// frame missing; the longest match cannot.
pub fn align_with_capture<'a>(
    frames: &'a [(f64, Vec<u8>)],
    samples: &[&'a Flow],
) -> (Vec<&'a (f64, Vec<u8>)>, Vec<usize>) {
    let headers: Vec<&[u8]> = samples.iter().map(|s| &s.header[..]).collect();
    align_headers(frames, &headers)
}

/// [`align_with_capture`] on the samples' headers.
fn align_headers<'a>(
    frames: &'a [(f64, Vec<u8>)],
    samples: &[&[u8]],
) -> (Vec<&'a (f64, Vec<u8>)>, Vec<usize>) {
    let matches =
        |i: usize, j: usize| !samples[j].is_empty() && frames[i].1.starts_with(samples[j]);
    let unique = |j: usize| {
        let mut found = (0..frames.len()).filter(|&i| matches(i, j));
        match (found.next(), found.next()) {
            (Some(i), None) => Some((i, j)),
            _ => None,
        }
    };
    let Some((anchor_frame, anchor_sample)) = (0..samples.len()).find_map(unique) else {
        return (Vec::new(), (0..samples.len()).collect());
    };
    // One of each before the anchor, in the window but not judged.
    let (first, start) = (
        anchor_frame.saturating_sub(1),
        anchor_sample.saturating_sub(1),
    );
    // best[i][j]: frames matched among frames[first..first + i] and
    // samples[start..start + j].
    let (n, m) = (frames.len() - first, samples.len() - start);
    let fm = |i: usize, j: usize| matches(first + i, start + j);
    let mut best = vec![vec![0u32; m + 1]; n + 1];
    for i in 1..=n {
        for j in 1..=m {
            let mut b = best[i - 1][j].max(best[i][j - 1]);
            if fm(i - 1, j - 1) {
                b = b.max(best[i - 1][j - 1] + 1);
            }
            if i >= 2 && j >= 2 && fm(i - 2, j - 1) && fm(i - 1, j - 2) {
                b = b.max(best[i - 2][j - 2] + 2);
            }
            best[i][j] = b;
        }
    }
    let mut frame_used = vec![false; n];
    let mut sample_used = vec![false; m];
    let (mut i, mut j) = (n, m);
    while i > 0 && j > 0 {
        if fm(i - 1, j - 1) && best[i][j] == best[i - 1][j - 1] + 1 {
            frame_used[i - 1] = true;
            sample_used[j - 1] = true;
            i -= 1;
            j -= 1;
        } else if i >= 2
            && j >= 2
            && fm(i - 2, j - 1)
            && fm(i - 1, j - 2)
            && best[i][j] == best[i - 2][j - 2] + 2
        {
            frame_used[i - 1] = true;
            frame_used[i - 2] = true;
            sample_used[j - 1] = true;
            sample_used[j - 2] = true;
            i -= 2;
            j -= 2;
        } else if best[i][j] == best[i - 1][j] {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    let missing = (0..n)
        .filter(|&k| !frame_used[k] && first + k >= anchor_frame)
        .map(|k| &frames[first + k])
        .collect();
    let extra = (0..m)
        .filter(|&k| !sample_used[k] && start + k >= anchor_sample)
        .map(|k| start + k)
        .collect();
    (missing, extra)
}

#[test]
fn alignment_matches_a_swap_across_the_anchor() {
    // b: identical beacons; [1, n]: unique frames. The first sample is a
    // beacon the capture has right after the anchor ([1, 1]).
    let frames: Vec<(f64, Vec<u8>)> = vec![
        (0.0, vec![0xbb]),
        (0.0, vec![1, 0]),
        (1.0, vec![1, 1]),
        (1.0, vec![0xbb]),
        (2.0, vec![0xbb]),
        (2.0, vec![1, 2]),
    ];
    let samples: [&[u8]; 4] = [&[0xbb], &[1, 1], &[0xbb], &[1, 2]];
    let (missing, extra) = align_headers(&frames, &samples);
    assert!(missing.is_empty(), "{missing:?}");
    assert!(extra.is_empty(), "{extra:?}");
    // The other way round: the capture has the beacon right before the
    // anchor, the samples right after it.
    let frames: Vec<(f64, Vec<u8>)> = vec![
        (0.0, vec![1, 0]),
        (1.0, vec![0xbb]),
        (1.0, vec![1, 1]),
        (2.0, vec![1, 2]),
    ];
    let samples: [&[u8]; 3] = [&[1, 1], &[0xbb], &[1, 2]];
    let (missing, extra) = align_headers(&frames, &samples);
    assert!(missing.is_empty(), "{missing:?}");
    assert!(extra.is_empty(), "{extra:?}");
    // A frame after the anchor that no sample has is still missing.
    let samples: [&[u8]; 2] = [&[1, 1], &[0xbb]];
    let (missing, _) = align_headers(&frames, &samples);
    assert_eq!(missing, [&(2.0, vec![1, 2])]);
}

#[test]
fn alignment_tolerates_swaps_identical_frames_and_long_gaps() {
    // Frames: a unique one, then identical beacons (b) among unique
    // frames 1..; the samples see two of them swapped, 20 frames in a
    // row not sampled, and one sample no frame matches.
    let mut frames: Vec<(f64, Vec<u8>)> = vec![(0.0, vec![0xaa])];
    for n in 1..60u8 {
        frames.push((f64::from(n), vec![1, n]));
        frames.push((f64::from(n), vec![0xbb]));
    }
    let mut samples: Vec<Vec<u8>> = vec![vec![0xaa]];
    for n in 1..60u8 {
        if (20..30).contains(&n) {
            continue; // 20 frames not sampled (10 unique, 10 beacons)
        }
        if n == 5 || n == 45 {
            samples.push(vec![0xbb]); // swapped with the frame before it
            samples.push(vec![1, n]);
        } else {
            samples.push(vec![1, n]);
            samples.push(vec![0xbb]);
        }
        if n == 40 {
            samples.push(vec![9, 9]); // not captured
        }
    }
    let headers: Vec<&[u8]> = samples.iter().map(|s| &s[..]).collect();
    let (missing, extra) = align_headers(&frames, &headers);
    // Which of the identical beacons were not sampled cannot be told; how
    // many can, and which of the others.
    let unique: Vec<f64> = missing
        .iter()
        .filter(|f| f.1 != [0xbb])
        .map(|f| f.0)
        .collect();
    let expected: Vec<f64> = (20..30).map(f64::from).collect();
    assert_eq!(unique, expected);
    assert_eq!(missing.iter().filter(|f| f.1 == [0xbb]).count(), 10);
    assert_eq!(extra.len(), 1);
    assert_eq!(samples[extra[0]], vec![9, 9]);
}

/// What `tcpdump -e` prints of a frame's radiotap header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TcpdumpRadio {
    /// Mbit/s x 10 ("1.0 Mb/s" -> 10).
    pub rate_x10: Option<u32>,
    pub freq: Option<u32>,
    pub signal_dbm: Option<i32>,
    /// The radiotap TX flags field is present ("[bit 15]"): a frame the
    /// radio sent (mac80211's transmit status).
    pub tx_flags: bool,
    /// "11b", "11g", "11a" as tcpdump names the channel flags.
    pub phy: Option<String>,
    pub short_preamble: bool,
    pub line: String,
}

/// One entry per frame, in capture order (tcpdump -r -e -tt).
pub fn parse_tcpdump_radio(text: &str) -> Vec<TcpdumpRadio> {
    text.lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let mut r = TcpdumpRadio {
                line: line.to_string(),
                ..Default::default()
            };
            for (i, w) in words.iter().enumerate() {
                let next = words.get(i + 1).copied().unwrap_or("");
                if next == "Mb/s" {
                    r.rate_x10 = w.parse::<f64>().ok().map(|v| (v * 10.0).round() as u32);
                } else if next == "MHz" {
                    r.freq = w.parse().ok();
                } else if let Some(v) = w.strip_suffix("dBm") {
                    if next == "signal" {
                        r.signal_dbm = v.parse().ok();
                    }
                }
            }
            r.tx_flags = line.contains("[bit 15]");
            r.phy = words
                .iter()
                .find(|w| matches!(**w, "11a" | "11b" | "11g" | "11n"))
                .map(|w| w.to_string());
            r.short_preamble = line.contains("short preamble");
            r
        })
        .collect()
}

// ---------------------------------------------------------------------------
// sFlow, decoded with our decoder

pub use crate::common::owned_80211::{Rx, Tx};

/// A flow sample with the datagram's capture time and destination port.
#[derive(Debug, Clone)]
pub struct Flow {
    pub time: f64,
    pub port: u16,
    pub datagram: usize,
    pub sequence: u32,
    pub source: u32,
    pub rate: u32,
    pub pool: u32,
    pub drops: u32,
    pub input: Interface,
    pub output: Interface,
    pub protocol: u32,
    pub frame_length: u32,
    pub stripped: u32,
    pub header: Vec<u8>,
    pub rx: Option<Rx>,
    pub tx: Option<Tx>,
    pub record_formats: Vec<u32>,
}

#[derive(Debug, Clone)]
pub struct Counters {
    pub time: f64,
    pub port: u16,
    pub datagram: usize,
    pub sequence: u32,
    pub source_type: u32,
    pub source: u32,
    pub ifc: Option<IfCounters>,
    pub dot11: Option<Ieee80211Counters>,
    pub radio: Option<RadioUtilization>,
    pub record_formats: Vec<u32>,
}

/// Every sFlow datagram of a capture on lo, decoded.
#[derive(Debug, Clone, Default)]
pub struct Sflow {
    pub datagrams: usize,
    pub flows: Vec<Flow>,
    pub counters: Vec<Counters>,
    /// Datagrams or samples that did not decode.
    pub errors: Vec<String>,
    /// Per datagram (in capture order): destination port, agent uptime.
    pub headers: Vec<(u16, u32)>,
}

impl Sflow {
    pub fn flows_of(&self, port: u16, source: u32) -> Vec<&Flow> {
        self.flows
            .iter()
            .filter(|f| f.port == port && f.source == source)
            .collect()
    }

    pub fn counters_of(&self, port: u16, source: u32) -> Vec<&Counters> {
        self.counters
            .iter()
            .filter(|c| c.port == port && c.source_type == 0 && c.source == source)
            .collect()
    }
}

pub fn decode_sflow(pcap: &[u8]) -> Sflow {
    let mut out = Sflow::default();
    let Ok(reader) = PcapReader::new(pcap) else {
        if !pcap.is_empty() {
            out.errors.push("sflow.pcap is not a pcap file".into());
        }
        return out;
    };
    let link = reader.link_type;
    let nano = reader.nanosecond;
    for (n, record) in reader.enumerate() {
        let Ok(record) = record else {
            out.errors.push(format!("capture record {n} is truncated"));
            break;
        };
        let Some(udp) = udp_payload(link, record.data) else {
            continue;
        };
        let time =
            f64::from(record.ts_sec) + f64::from(record.ts_frac) * if nano { 1e-9 } else { 1e-6 };
        let port = udp.destination_port;
        let d = match Datagram::parse(udp.payload) {
            Ok(d) => d,
            Err(e) => {
                out.errors.push(format!("datagram {n}: {e}"));
                continue;
            }
        };
        let index = out.datagrams;
        out.datagrams += 1;
        out.headers.push((port, d.uptime));
        for s in d.samples.iter() {
            match s {
                Ok(Sample::Flow(_, f)) => {
                    let mut flow = Flow {
                        time,
                        port,
                        datagram: index,
                        sequence: f.sequence_number,
                        source: f.source.index,
                        rate: f.sampling_rate,
                        pool: f.sample_pool,
                        drops: f.drops,
                        input: f.input,
                        output: f.output,
                        protocol: 0,
                        frame_length: 0,
                        stripped: 0,
                        header: Vec::new(),
                        rx: None,
                        tx: None,
                        record_formats: Vec::new(),
                    };
                    for r in f.records.iter() {
                        match r {
                            Ok(r) => {
                                flow.record_formats.push(r.format());
                                match r {
                                    FlowRecord::SampledHeader(h) => {
                                        flow.protocol = h.protocol.0;
                                        flow.frame_length = h.frame_length;
                                        flow.stripped = h.stripped;
                                        flow.header = h.header.to_vec();
                                    }
                                    FlowRecord::Extended80211Rx(x) => flow.rx = Some((&x).into()),
                                    FlowRecord::Extended80211Tx(x) => flow.tx = Some((&x).into()),
                                    _ => {}
                                }
                            }
                            Err(e) => out.errors.push(format!("datagram {n}: flow record: {e}")),
                        }
                    }
                    out.flows.push(flow);
                }
                Ok(Sample::Counters(_, c)) => {
                    let mut counters = Counters {
                        time,
                        port,
                        datagram: index,
                        sequence: c.sequence_number,
                        source_type: c.source.kind,
                        source: c.source.index,
                        ifc: None,
                        dot11: None,
                        radio: None,
                        record_formats: Vec::new(),
                    };
                    for r in c.records.iter() {
                        match r {
                            Ok(r) => {
                                counters.record_formats.push(r.format());
                                match r {
                                    CounterRecord::Interface(i) => counters.ifc = Some(i),
                                    CounterRecord::Ieee80211(x) => counters.dot11 = Some(x),
                                    CounterRecord::RadioUtilization(x) => counters.radio = Some(x),
                                    _ => {}
                                }
                            }
                            Err(e) => out
                                .errors
                                .push(format!("datagram {n}: counter record: {e}")),
                        }
                    }
                    out.counters.push(counters);
                }
                Ok(Sample::Unknown { format, .. }) => out
                    .errors
                    .push(format!("datagram {n}: unknown sample format {format}")),
                Err(e) => out.errors.push(format!("datagram {n}: sample: {e}")),
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Sampled Ethernet frames (AP interfaces)

/// What a sampled Ethernet header is, as far as the checks care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    IcmpEcho {
        request: bool,
        src: [u8; 4],
        dst: [u8; 4],
    },
    Arp {
        request: bool,
        sender_ip: [u8; 4],
        target_ip: [u8; 4],
    },
    /// IEEE 802.2 LLC XID, as hostapd's Layer-2 Update frame (source = the
    /// station that just associated).
    LlcXid,
    Eapol,
    OtherIpv4(u8),
    Other(u16),
}

#[derive(Debug, Clone)]
pub struct Ethernet {
    pub dst: Mac,
    pub src: Mac,
    pub frame: Frame,
}

pub fn parse_ethernet(h: &[u8]) -> Option<Ethernet> {
    let dst: Mac = h.get(0..6)?.try_into().ok()?;
    let src: Mac = h.get(6..12)?.try_into().ok()?;
    let ethertype = u16::from_be_bytes([*h.get(12)?, *h.get(13)?]);
    let body = h.get(14..)?;
    let frame = match ethertype {
        0x0800 => {
            let ihl = usize::from(body.first()? & 0x0f) * 4;
            let proto = *body.get(9)?;
            let src_ip: [u8; 4] = body.get(12..16)?.try_into().ok()?;
            let dst_ip: [u8; 4] = body.get(16..20)?.try_into().ok()?;
            match (proto, body.get(ihl)) {
                (1, Some(0)) => Frame::IcmpEcho {
                    request: false,
                    src: src_ip,
                    dst: dst_ip,
                },
                (1, Some(8)) => Frame::IcmpEcho {
                    request: true,
                    src: src_ip,
                    dst: dst_ip,
                },
                _ => Frame::OtherIpv4(proto),
            }
        }
        0x0806 => Frame::Arp {
            request: u16::from_be_bytes([*body.get(6)?, *body.get(7)?]) == 1,
            sender_ip: body.get(14..18)?.try_into().ok()?,
            target_ip: body.get(24..28)?.try_into().ok()?,
        },
        0x888e => Frame::Eapol,
        len if len < 0x0600 && body.get(0..3) == Some(&[0x00, 0x01, 0xaf][..]) => Frame::LlcXid,
        other => Frame::Other(other),
    };
    Some(Ethernet { dst, src, frame })
}

pub fn ipv4(s: &str) -> [u8; 4] {
    s.parse::<std::net::Ipv4Addr>()
        .map(|a| a.octets())
        .unwrap_or([0; 4])
}

// ---------------------------------------------------------------------------
// 802.11 headers (monitor samples)

/// The addresses and type of an 802.11 MAC header.
#[derive(Debug, Clone)]
pub struct Dot11 {
    pub frame_type: u8,
    pub subtype: u8,
    pub to_ds: bool,
    pub from_ds: bool,
    pub addr1: Mac,
    pub addr2: Option<Mac>,
    pub addr3: Option<Mac>,
}

pub fn parse_dot11(h: &[u8]) -> Option<Dot11> {
    let fc0 = *h.first()?;
    let fc1 = *h.get(1)?;
    Some(Dot11 {
        frame_type: (fc0 >> 2) & 3,
        subtype: fc0 >> 4,
        to_ds: fc1 & 1 != 0,
        from_ds: fc1 & 2 != 0,
        addr1: h.get(4..10)?.try_into().ok()?,
        addr2: h.get(10..16).and_then(|a| a.try_into().ok()),
        addr3: h.get(16..22).and_then(|a| a.try_into().ok()),
    })
}

impl Dot11 {
    /// The BSSID as the frame gives it (data frames by their DS bits,
    /// management frames: addr3); control frames have none.
    pub fn bssid(&self) -> Option<Mac> {
        match (self.frame_type, self.to_ds, self.from_ds) {
            (1, _, _) => None,
            (2, true, false) => Some(self.addr1),
            (2, false, true) => self.addr2,
            (2, true, true) => None,
            _ => self.addr3,
        }
    }

    pub fn kind(&self) -> &'static str {
        match (self.frame_type, self.subtype) {
            (0, 8) => "beacon",
            (0, 4) => "probe request",
            (0, 5) => "probe response",
            (0, 11) => "authentication",
            (0, 0) => "association request",
            (0, 1) => "association response",
            (0, 10) => "disassociation",
            (0, 12) => "deauthentication",
            (0, 13) => "action",
            (0, _) => "management",
            (1, 13) => "ack",
            (1, _) => "control",
            (2, 4) | (2, 12) => "null data",
            (2, _) => "data",
            _ => "other",
        }
    }
}

/// RCPI (IEEE 802.11-2016 9.4.2.38) of a signal in dBm: (dBm + 110) x 2,
/// 0 at -110 dBm or below, 220 at 0 dBm or above.
pub fn rcpi_of_dbm(dbm: i32) -> u32 {
    ((dbm.clamp(-110, 0) + 110) * 2) as u32
}

/// The sFlow 802.11 version (1 a, 2 b, 3 g) of a legacy rate on a band.
pub fn version_of_rate(rate_x10: u32, freq: u32) -> u32 {
    match (rate_x10, freq >= 5000) {
        (_, true) => 1,
        (10 | 20 | 55 | 110, false) => 2,
        _ => 3,
    }
}

/// Air time in microseconds of a `len`-byte PPDU payload (FCS included)
/// at a legacy rate (IEEE 802.11-2016 15.3.3 (DSSS/CCK, long or short
/// preamble: 192 / 96 us) and 17.4.3 (OFDM: 20 us of preamble and SIGNAL,
/// 4 us symbols of 4 x rate bits with 16 SERVICE and 6 tail bits), plus
/// the 6 us signal extension of ERP-OFDM at 2.4 GHz (18.3.2.4)). `None`
/// for a rate that is not a legacy one.
pub fn legacy_duration_us(rate_x10: u32, len: u32, short_preamble: bool, freq: u32) -> Option<u32> {
    match rate_x10 {
        10 | 20 | 55 | 110 => {
            let preamble = if short_preamble && rate_x10 != 10 {
                96
            } else {
                192
            };
            // bits / (rate Mbit/s) = 8 * len * 10 / rate_x10 us, rounded up.
            Some(preamble + (80 * len).div_ceil(rate_x10))
        }
        60 | 90 | 120 | 180 | 240 | 360 | 480 | 540 => {
            let bits_per_symbol = 4 * rate_x10 / 10;
            let symbols = (16 + 8 * len + 6).div_ceil(bits_per_symbol);
            let extension = if freq < 5000 { 6 } else { 0 };
            Some(20 + 4 * symbols + extension)
        }
        _ => None,
    }
}

/// Channel number of a 2.4/5 GHz frequency.
pub fn channel_of(freq: u32) -> u32 {
    match freq {
        2484 => 14,
        2412..=2472 => (freq - 2407) / 5,
        5000..=5900 => (freq - 5000) / 5,
        _ => 0,
    }
}
