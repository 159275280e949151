//! Datagrams for the interoperability tests (`interop_tshark.rs`,
//! `interop_sflow_parser.rs`), built with our encoder from an owned model of
//! every value, so that each decoder's output can be compared field by field
//! with what was encoded.
//!
//! Every field gets a distinctive, non-zero value that is not a default, so a
//! swapped or shifted field shows up as a mismatch.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use wsflowd::mac::MacAddr;
use wsflowd::pcap::{ethernet_ipv4_udp, link_type, PcapReader};
use wsflowd::sflow::*;

// ---------------------------------------------------------------------------
// The model: owned copies of every value we encode.

/// `sampled_header` (flow format 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub protocol: u32,
    pub frame_length: u32,
    pub stripped: u32,
    pub header: Vec<u8>,
}

/// `extended_80211_payload` (flow format 1013).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub cipher_suite: u32,
    pub data: Vec<u8>,
}

/// `extended_80211_rx` (1014) and `extended_80211_tx` (1015).
pub use crate::common::owned_80211::{Rx, Tx};

/// A flow record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    Header(Header),
    Payload(Payload),
    Rx(Rx),
    Tx(Tx),
    /// `extended_80211_aggregation` (1016): the flow records of each PDU.
    Aggregation(Vec<Vec<Flow>>),
}

impl Flow {
    pub fn format(&self) -> u32 {
        match self {
            Flow::Header(_) => 1,
            Flow::Payload(_) => 1013,
            Flow::Rx(_) => 1014,
            Flow::Tx(_) => 1015,
            Flow::Aggregation(_) => 1016,
        }
    }
}

/// `host_descr` (counter format 2000).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDescrM {
    pub hostname: Vec<u8>,
    pub uuid: [u8; 16],
    pub machine_type: u32,
    pub os_name: u32,
    pub os_release: Vec<u8>,
}

/// One `host_adapter`: ifIndex and MAC addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterM {
    pub if_index: u32,
    pub macs: Vec<[u8; 6]>,
}

/// A counter record.
#[derive(Debug, Clone, PartialEq)]
pub enum Counter {
    If(IfCounters),
    Ethernet(EthernetCounters),
    Ieee80211(Ieee80211Counters),
    Radio(RadioUtilization),
    HostDescr(HostDescrM),
    HostAdapters(Vec<AdapterM>),
    HostCpu(HostCpu),
    HostMemory(HostMemory),
    HostNetIo(HostNetIo),
}

impl Counter {
    pub fn format(&self) -> u32 {
        match self {
            Counter::If(_) => 1,
            Counter::Ethernet(_) => 2,
            Counter::Ieee80211(_) => 6,
            Counter::Radio(_) => 1002,
            Counter::HostDescr(_) => 2000,
            Counter::HostAdapters(_) => 2001,
            Counter::HostCpu(_) => 2003,
            Counter::HostMemory(_) => 2004,
            Counter::HostNetIo(_) => 2006,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlowSampleM {
    pub sequence_number: u32,
    pub source: DataSource,
    pub sampling_rate: u32,
    pub sample_pool: u32,
    pub drops: u32,
    pub input: Interface,
    pub output: Interface,
    pub records: Vec<Flow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CountersSampleM {
    pub sequence_number: u32,
    pub source: DataSource,
    pub records: Vec<Counter>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SampleM {
    Flow(FlowSampleM),
    Counters(CountersSampleM),
}

/// A datagram; all its samples use `form` (an agent never mixes forms).
#[derive(Debug, Clone, PartialEq)]
pub struct DatagramM {
    pub agent: IpAddr,
    pub sub_agent_id: u32,
    pub sequence_number: u32,
    pub uptime: u32,
    pub form: SampleForm,
    pub samples: Vec<SampleM>,
}

/// One test datagram: its name, its bytes and what was encoded into them.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub model: DatagramM,
}

// ---------------------------------------------------------------------------
// Model -> our encoder.

fn leaf_record(f: &Flow) -> FlowRecord<'_> {
    match f {
        Flow::Header(h) => FlowRecord::SampledHeader(SampledHeader {
            protocol: HeaderProtocol(h.protocol),
            frame_length: h.frame_length,
            stripped: h.stripped,
            header: &h.header,
        }),
        Flow::Payload(p) => FlowRecord::Extended80211Payload(Extended80211Payload {
            cipher_suite: p.cipher_suite,
            data: &p.data,
        }),
        Flow::Rx(r) => FlowRecord::Extended80211Rx(Extended80211Rx {
            ssid: &r.ssid,
            bssid: r.bssid,
            version: Ieee80211Version(r.version),
            channel: r.channel,
            speed: r.speed,
            rsni: r.rsni,
            rcpi: r.rcpi,
            packet_duration: r.packet_duration,
        }),
        Flow::Tx(t) => FlowRecord::Extended80211Tx(Extended80211Tx {
            ssid: &t.ssid,
            bssid: t.bssid,
            version: Ieee80211Version(t.version),
            transmissions: t.transmissions,
            packet_duration: t.packet_duration,
            retrans_duration: t.retrans_duration,
            channel: t.channel,
            speed: t.speed,
            power: t.power,
        }),
        Flow::Aggregation(_) => panic!("an aggregation cannot be nested in a PDU"),
    }
}

fn fixed_counter(c: &Counter) -> Option<CounterRecord<'static>> {
    Some(match c {
        Counter::If(x) => CounterRecord::Interface(*x),
        Counter::Ethernet(x) => CounterRecord::Ethernet(*x),
        Counter::Ieee80211(x) => CounterRecord::Ieee80211(*x),
        Counter::Radio(x) => CounterRecord::RadioUtilization(*x),
        Counter::HostCpu(x) => CounterRecord::HostCpu(*x),
        Counter::HostMemory(x) => CounterRecord::HostMemory(*x),
        Counter::HostNetIo(x) => CounterRecord::HostNetIo(*x),
        Counter::HostDescr(_) | Counter::HostAdapters(_) => return None,
    })
}

/// Builds the wire-side values of every sample of `d` (borrowing from `d`)
/// and hands them to `f`.
pub fn with_wire_samples<R>(d: &DatagramM, f: impl FnOnce(&[Sample<'_>]) -> R) -> R {
    // Flow samples: the records of each PDU of each aggregation record.
    let pdu_records: Vec<Vec<Vec<Vec<FlowRecord>>>> = d
        .samples
        .iter()
        .map(|s| match s {
            SampleM::Flow(s) => s
                .records
                .iter()
                .map(|r| match r {
                    Flow::Aggregation(pdus) => pdus
                        .iter()
                        .map(|p| p.iter().map(leaf_record).collect())
                        .collect(),
                    _ => Vec::new(),
                })
                .collect(),
            SampleM::Counters(_) => Vec::new(),
        })
        .collect();
    let pdus: Vec<Vec<Vec<Pdu>>> = pdu_records
        .iter()
        .map(|s| {
            s.iter()
                .map(|r| {
                    r.iter()
                        .map(|recs| Pdu {
                            records: List::Items(recs),
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let flow_records: Vec<Vec<FlowRecord>> = d
        .samples
        .iter()
        .zip(&pdus)
        .map(|(s, pdus)| match s {
            SampleM::Flow(s) => s
                .records
                .iter()
                .zip(pdus)
                .map(|(r, p)| match r {
                    Flow::Aggregation(_) => {
                        FlowRecord::Extended80211Aggregation(Extended80211Aggregation {
                            pdus: List::Items(p),
                        })
                    }
                    other => leaf_record(other),
                })
                .collect(),
            SampleM::Counters(_) => Vec::new(),
        })
        .collect();
    // Counter samples: the MAC lists and adapters of host_adapters.
    let macs: Vec<Vec<Vec<Vec<MacAddr>>>> = d
        .samples
        .iter()
        .map(|s| match s {
            SampleM::Counters(s) => s
                .records
                .iter()
                .map(|r| match r {
                    Counter::HostAdapters(a) => a
                        .iter()
                        .map(|a| a.macs.iter().copied().map(MacAddr).collect())
                        .collect(),
                    _ => Vec::new(),
                })
                .collect(),
            SampleM::Flow(_) => Vec::new(),
        })
        .collect();
    let adapters: Vec<Vec<Vec<HostAdapter>>> = d
        .samples
        .iter()
        .zip(&macs)
        .map(|(s, macs)| match s {
            SampleM::Counters(s) => s
                .records
                .iter()
                .zip(macs)
                .map(|(r, macs)| match r {
                    Counter::HostAdapters(a) => a
                        .iter()
                        .zip(macs)
                        .map(|(a, m)| HostAdapter {
                            if_index: a.if_index,
                            mac_addresses: List::Items(m),
                        })
                        .collect(),
                    _ => Vec::new(),
                })
                .collect(),
            SampleM::Flow(_) => Vec::new(),
        })
        .collect();
    let counter_records: Vec<Vec<CounterRecord>> = d
        .samples
        .iter()
        .zip(&adapters)
        .map(|(s, adapters)| match s {
            SampleM::Counters(s) => s
                .records
                .iter()
                .zip(adapters)
                .map(|(r, a)| match r {
                    Counter::HostDescr(h) => CounterRecord::HostDescr(HostDescr {
                        hostname: &h.hostname,
                        uuid: h.uuid,
                        machine_type: h.machine_type,
                        os_name: h.os_name,
                        os_release: &h.os_release,
                    }),
                    Counter::HostAdapters(_) => CounterRecord::HostAdapters(HostAdapters {
                        adapters: List::Items(a),
                    }),
                    other => fixed_counter(other).expect("a fixed-size record"),
                })
                .collect(),
            SampleM::Flow(_) => Vec::new(),
        })
        .collect();
    let samples: Vec<Sample> = d
        .samples
        .iter()
        .zip(flow_records.iter().zip(&counter_records))
        .map(|(s, (fr, cr))| match s {
            SampleM::Flow(s) => Sample::Flow(
                d.form,
                FlowSample {
                    sequence_number: s.sequence_number,
                    source: s.source,
                    sampling_rate: s.sampling_rate,
                    sample_pool: s.sample_pool,
                    drops: s.drops,
                    input: s.input,
                    output: s.output,
                    records: List::Items(fr),
                },
            ),
            SampleM::Counters(s) => Sample::Counters(
                d.form,
                CountersSample {
                    sequence_number: s.sequence_number,
                    source: s.source,
                    records: List::Items(cr),
                },
            ),
        })
        .collect();
    f(&samples)
}

/// Encodes a datagram with `Datagram::encode`.
pub fn encode_datagram(d: &DatagramM) -> Vec<u8> {
    with_wire_samples(d, |samples| {
        let datagram = Datagram {
            agent_address: Some(d.agent),
            sub_agent_id: d.sub_agent_id,
            sequence_number: d.sequence_number,
            uptime: d.uptime,
            samples: List::Items(samples),
        };
        let mut buf = vec![0u8; 65536];
        let mut w = Writer::new(&mut buf);
        datagram.encode(&mut w).expect("the datagram encodes");
        w.written().to_vec()
    })
}

/// Encodes a datagram with the `DatagramPacker`: empty datagrams are never
/// sent, so `d.sequence_number - 1` one-sample datagrams are flushed (and
/// dropped) first to bring the packer's sequence number to the model's.
pub fn encode_with_packer(d: &DatagramM) -> Vec<u8> {
    assert!(d.sequence_number >= 1 && d.sequence_number < 100);
    let mut packer = DatagramPacker::new(PackerConfig {
        agent_address: Some(d.agent),
        sub_agent_id: d.sub_agent_id,
        max_datagram_bytes: 1400,
        form: d.form,
    });
    let mut sent: Vec<Vec<u8>> = Vec::new();
    let mut sink = |b: &[u8]| sent.push(b.to_vec());
    let filler = CountersSample {
        sequence_number: 1,
        source: DataSource::interface(1),
        records: List::Items(&[]),
    };
    for _ in 1..d.sequence_number {
        packer.push_counters(&filler, 1, &mut sink).unwrap();
        packer.flush(1, &mut sink);
    }
    with_wire_samples(d, |samples| {
        for s in samples {
            match s {
                Sample::Flow(_, s) => packer.push_flow(s, d.uptime, &mut sink).unwrap(),
                Sample::Counters(_, s) => packer.push_counters(s, d.uptime, &mut sink).unwrap(),
                Sample::Unknown { .. } => unreachable!(),
            }
        }
    });
    packer.flush(d.uptime, &mut sink);
    assert_eq!(
        sent.len() as u32,
        d.sequence_number,
        "one datagram per flush"
    );
    sent.pop().unwrap()
}

// ---------------------------------------------------------------------------
// Our decoder -> model.

fn flow_from_wire(r: &FlowRecord) -> Flow {
    match r {
        FlowRecord::SampledHeader(h) => Flow::Header(Header {
            protocol: h.protocol.0,
            frame_length: h.frame_length,
            stripped: h.stripped,
            header: h.header.to_vec(),
        }),
        FlowRecord::Extended80211Payload(p) => Flow::Payload(Payload {
            cipher_suite: p.cipher_suite,
            data: p.data.to_vec(),
        }),
        FlowRecord::Extended80211Rx(r) => Flow::Rx(r.into()),
        FlowRecord::Extended80211Tx(t) => Flow::Tx(t.into()),
        FlowRecord::Extended80211Aggregation(a) => Flow::Aggregation(
            a.pdus
                .iter()
                .map(|p| {
                    p.expect("pdu decodes")
                        .records
                        .iter()
                        .map(|r| flow_from_wire(&r.expect("pdu record decodes")))
                        .collect()
                })
                .collect(),
        ),
        FlowRecord::Unknown { format, .. } => {
            panic!("our decoder did not know flow format {format}")
        }
    }
}

fn counter_from_wire(r: &CounterRecord) -> Counter {
    match r {
        CounterRecord::Interface(x) => Counter::If(*x),
        CounterRecord::Ethernet(x) => Counter::Ethernet(*x),
        CounterRecord::Ieee80211(x) => Counter::Ieee80211(*x),
        CounterRecord::RadioUtilization(x) => Counter::Radio(*x),
        CounterRecord::HostDescr(h) => Counter::HostDescr(HostDescrM {
            hostname: h.hostname.to_vec(),
            uuid: h.uuid,
            machine_type: h.machine_type,
            os_name: h.os_name,
            os_release: h.os_release.to_vec(),
        }),
        CounterRecord::HostAdapters(a) => Counter::HostAdapters(
            a.adapters
                .iter()
                .map(|a| {
                    let a = a.expect("adapter decodes");
                    AdapterM {
                        if_index: a.if_index,
                        macs: a
                            .mac_addresses
                            .iter()
                            .map(|m| m.expect("mac decodes").0)
                            .collect(),
                    }
                })
                .collect(),
        ),
        CounterRecord::HostCpu(x) => Counter::HostCpu(*x),
        CounterRecord::HostMemory(x) => Counter::HostMemory(*x),
        CounterRecord::HostNetIo(x) => Counter::HostNetIo(*x),
        CounterRecord::Unknown { format, .. } => {
            panic!("our decoder did not know counter format {format}")
        }
    }
}

/// Decodes a datagram with our decoder into the model.
pub fn decode_with_ours(bytes: &[u8]) -> DatagramM {
    let d = Datagram::parse(bytes).expect("our decoder accepts the datagram");
    let mut form = None;
    let samples = d
        .samples
        .iter()
        .map(|s| match s.expect("sample decodes") {
            Sample::Flow(f, s) => {
                assert!(form.is_none() || form == Some(f), "mixed sample forms");
                form = Some(f);
                SampleM::Flow(FlowSampleM {
                    sequence_number: s.sequence_number,
                    source: s.source,
                    sampling_rate: s.sampling_rate,
                    sample_pool: s.sample_pool,
                    drops: s.drops,
                    input: s.input,
                    output: s.output,
                    records: s
                        .records
                        .iter()
                        .map(|r| flow_from_wire(&r.expect("flow record decodes")))
                        .collect(),
                })
            }
            Sample::Counters(f, s) => {
                assert!(form.is_none() || form == Some(f), "mixed sample forms");
                form = Some(f);
                SampleM::Counters(CountersSampleM {
                    sequence_number: s.sequence_number,
                    source: s.source,
                    records: s
                        .records
                        .iter()
                        .map(|r| counter_from_wire(&r.expect("counter record decodes")))
                        .collect(),
                })
            }
            Sample::Unknown { format, .. } => panic!("unknown sample format {format}"),
        })
        .collect();
    DatagramM {
        agent: d.agent_address.expect("an agent address"),
        sub_agent_id: d.sub_agent_id,
        sequence_number: d.sequence_number,
        uptime: d.uptime,
        form: form.unwrap_or(SampleForm::Compact),
        samples,
    }
}

// ---------------------------------------------------------------------------
// The sampled frames.

/// The Ethernet/IPv4/UDP frame sampled with protocol 1 (without its FCS).
pub struct EthernetFrame {
    pub frame: Vec<u8>,
    pub dst_mac: [u8; 6],
    pub src_mac: [u8; 6],
    pub src_ip: Ipv4Addr,
    pub dst_ip: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub udp_payload_len: usize,
}

/// A realistic frame: station -> server, UDP 51413 -> 3478 (STUN port, but
/// the payload is opaque bytes), 1358 bytes of UDP payload.
pub fn ethernet_frame() -> EthernetFrame {
    let dst_mac = [0x00, 0x1b, 0x21, 0x3a, 0x4c, 0x5e];
    let src_mac = [0xa4, 0x67, 0x06, 0xf7, 0xec, 0x54];
    let src_ip = Ipv4Addr::new(172, 17, 156, 76);
    let dst_ip = Ipv4Addr::new(198, 18, 7, 201);
    let (src_port, dst_port) = (51413, 40123);
    let payload: Vec<u8> = (0..1358u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut frame = ethernet_ipv4_udp(src_ip, src_port, dst_ip, dst_port, &payload);
    frame[0..6].copy_from_slice(&dst_mac);
    frame[6..12].copy_from_slice(&src_mac);
    EthernetFrame {
        frame,
        dst_mac,
        src_mac,
        src_ip,
        dst_ip,
        src_port,
        dst_port,
        udp_payload_len: payload.len(),
    }
}

/// Bytes of a frame kept in a `sampled_header` (a typical snap length).
pub const SNAP: usize = 128;

/// The `sampled_header` of [`ethernet_frame`]: first 128 bytes, the 4-byte
/// FCS counted in `frame_length` and in `stripped`.
pub fn ethernet_header_record() -> Header {
    let f = ethernet_frame().frame;
    Header {
        protocol: HeaderProtocol::ETHERNET.0,
        frame_length: f.len() as u32 + 4,
        stripped: 4,
        header: f[..SNAP].to_vec(),
    }
}

/// Path of a capture under `../shared/captures/` (or `WSFLOWD_CAPTURES`).
pub fn capture_path(rel: &str) -> PathBuf {
    std::env::var_os("WSFLOWD_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::common::source_dir().join("../shared/captures"))
        .join(rel)
}

pub const WLANMON: &str = "zeek/wlanmon.pcap";

/// Frame 1 of Zeek's `testing/btest/Traces/wlanmon.pcap` (BSD licence, see
/// `../shared/captures/zeek/COPYING`): a QoS data frame carrying a DNS
/// query. Used only when the shared captures are not available.
const WLANMON_FRAME_1: &str =
    "88012c008a15149b5ae090724097b6f5442b03aaab8d10000600aaaa030000000800\
    4500003fd68d00004011aea2ac119c4cd043dcdcf12a0035002bc5dfa72f01000001000000000000076361\
    7074697665056170706c6503636f6d0000010001 0312c6a7";

/// The wlanmon capture: the shared one, else a one-frame pcap built from
/// the embedded copy of its first frame.
pub fn wlanmon_pcap_bytes() -> Vec<u8> {
    let real = capture_path(WLANMON);
    if real.is_file() {
        return std::fs::read(real).expect("read wlanmon.pcap");
    }
    let hex: String = WLANMON_FRAME_1
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect();
    let frame: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let mut w = wsflowd::pcap::PcapWriter::new(Vec::new(), link_type::IEEE802_11, 65535).unwrap();
    w.write(1, 0, &frame).unwrap();
    eprintln!("../shared/captures not found: using the embedded copy of wlanmon.pcap frame 1");
    w.into_inner()
}

/// The wlanmon capture as a file: the shared one, else the embedded frame
/// written into `dir` (the caller's temporary directory).
pub fn wlanmon_pcap(dir: &Path) -> PathBuf {
    let real = capture_path(WLANMON);
    if real.is_file() {
        return real;
    }
    let path = dir.join("wlanmon.pcap");
    std::fs::write(&path, wlanmon_pcap_bytes()).unwrap();
    path
}

/// The first data or QoS data frame of `zeek/wlanmon.pcap` (raw 802.11,
/// link type 105, no FCS): (1-based frame number, frame bytes, orig_len).
pub fn wlanmon_data_frame() -> (usize, Vec<u8>, u32) {
    let bytes = wlanmon_pcap_bytes();
    let r = PcapReader::new(&bytes).expect("a pcap file");
    assert_eq!(r.link_type, link_type::IEEE802_11);
    for (i, rec) in r.enumerate() {
        let rec = rec.expect("a pcap record");
        let fc = rec.data[0];
        // Frame control: type in bits 2-3 (2 = data), subtype in bits 4-7
        // (0 = data, 8 = QoS data).
        let (ty, subtype) = ((fc >> 2) & 3, fc >> 4);
        if ty == 2 && (subtype == 0 || subtype == 8) {
            return (i + 1, rec.data.to_vec(), rec.orig_len);
        }
    }
    panic!("no data frame in wlanmon.pcap");
}

// ---------------------------------------------------------------------------
// The test datagrams.

pub const BSSID_RX: [u8; 6] = [0x02, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5];
pub const BSSID_TX: [u8; 6] = [0x06, 0xf1, 0xe2, 0xd3, 0xc4, 0xb5];

pub fn rx_a() -> Rx {
    Rx {
        ssid: b"wsflowd-rx".to_vec(),
        bssid: BSSID_RX,
        version: Ieee80211Version::N.0,
        channel: 149,
        // 4.8039 Gbit/s: above 2^32, so both halves of the hyper matter.
        speed: 4_803_900_000,
        rsni: 37,
        rcpi: 141,
        packet_duration: 1234,
    }
}

pub fn rx_b() -> Rx {
    Rx {
        ssid: b"Cafe Free WiFi 2.4".to_vec(),
        bssid: [0x8a, 0x15, 0x14, 0x9b, 0x5a, 0xe0],
        version: Ieee80211Version::G.0,
        channel: 6,
        speed: 54_000_000,
        rsni: 22,
        rcpi: 97,
        packet_duration: 212,
    }
}

pub fn tx_a() -> Tx {
    Tx {
        ssid: b"OpenWrt-5G-Guest".to_vec(),
        bssid: BSSID_TX,
        version: Ieee80211Version::A.0,
        transmissions: 4,
        packet_duration: 321,
        retrans_duration: 987,
        channel: 44,
        speed: 6_000_000_123,
        power: 63,
    }
}

pub fn tx_b() -> Tx {
    Tx {
        ssid: b"x".to_vec(),
        bssid: [0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f],
        version: Ieee80211Version::B.0,
        transmissions: 2,
        packet_duration: 4567,
        retrans_duration: 8910,
        channel: 13,
        speed: 11_000_000,
        power: 17,
    }
}

pub fn payload_a() -> Payload {
    // Decrypted bytes from the LLC header: SNAP, IPv4 ethertype, the start
    // of an IPv4 header; 27 bytes, so the opaque needs padding.
    Payload {
        cipher_suite: 0x000f_ac04,
        data: vec![
            0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x45, 0x00, 0x00, 0x54, 0x1c, 0x46,
            0x40, 0x00, 0x40, 0x01, 0xb1, 0xe6, 0xac, 0x11, 0x9c, 0x4c, 0xc6, 0x12, 0x07,
        ],
    }
}

pub fn if_counters_compact() -> IfCounters {
    IfCounters {
        if_index: 167,
        if_type: 71, // ieee80211
        speed: 2_402_000_000,
        direction: 2,
        status: 3,
        in_octets: 0x0000_0012_3456_789a,
        in_ucast_pkts: 1_048_577,
        in_multicast_pkts: COUNTER32_UNAVAILABLE,
        in_broadcast_pkts: 4_321,
        in_discards: 17,
        in_errors: COUNTER32_UNAVAILABLE,
        in_unknown_protos: 5,
        out_octets: COUNTER64_UNAVAILABLE,
        out_ucast_pkts: 2_097_153,
        out_multicast_pkts: 8_765,
        out_broadcast_pkts: COUNTER32_UNAVAILABLE,
        out_discards: 23,
        out_errors: 29,
        promiscuous_mode: 1,
    }
}

pub fn if_counters_expanded() -> IfCounters {
    IfCounters {
        if_index: 0x0100_0203,
        if_type: 6,
        speed: 1_000_000_000,
        direction: 1,
        status: 1,
        in_octets: 0x0000_00ab_cdef_0123,
        in_ucast_pkts: 31,
        in_multicast_pkts: 37,
        in_broadcast_pkts: 41,
        in_discards: 43,
        in_errors: 47,
        in_unknown_protos: 53,
        out_octets: 0x0000_0001_0000_0003,
        out_ucast_pkts: 59,
        out_multicast_pkts: 61,
        out_broadcast_pkts: 67,
        out_discards: 71,
        out_errors: 73,
        promiscuous_mode: 2,
    }
}

pub fn ethernet_counters() -> EthernetCounters {
    EthernetCounters {
        alignment_errors: 101,
        fcs_errors: 102,
        single_collision_frames: COUNTER32_UNAVAILABLE,
        multiple_collision_frames: 104,
        sqe_test_errors: COUNTER32_UNAVAILABLE,
        deferred_transmissions: 106,
        late_collisions: 107,
        excessive_collisions: 108,
        internal_mac_transmit_errors: 109,
        carrier_sense_errors: COUNTER32_UNAVAILABLE,
        frame_too_longs: 111,
        internal_mac_receive_errors: 112,
        symbol_errors: 113,
    }
}

pub fn ieee80211_counters_a() -> Ieee80211Counters {
    Ieee80211Counters {
        transmitted_fragment_count: 1_000_001,
        multicast_transmitted_frame_count: 1_000_002,
        failed_count: 1_000_003,
        retry_count: 1_000_004,
        multiple_retry_count: COUNTER32_UNAVAILABLE,
        frame_duplicate_count: 1_000_006,
        rts_success_count: COUNTER32_UNAVAILABLE,
        rts_failure_count: COUNTER32_UNAVAILABLE,
        ack_failure_count: 1_000_009,
        received_fragment_count: 1_000_010,
        multicast_received_frame_count: 1_000_011,
        fcs_error_count: 1_000_012,
        transmitted_frame_count: 1_000_013,
        wep_undecryptable_count: 1_000_014,
        qos_discarded_fragment_count: COUNTER32_UNAVAILABLE,
        associated_station_count: 16,
        qos_cf_polls_received_count: 1_000_017,
        qos_cf_polls_unused_count: 1_000_018,
        qos_cf_polls_unusable_count: COUNTER32_UNAVAILABLE,
        qos_cf_polls_lost_count: 1_000_020,
    }
}

pub fn ieee80211_counters_b() -> Ieee80211Counters {
    Ieee80211Counters {
        transmitted_fragment_count: 201,
        multicast_transmitted_frame_count: 202,
        failed_count: 203,
        retry_count: 204,
        multiple_retry_count: 205,
        frame_duplicate_count: 206,
        rts_success_count: 207,
        rts_failure_count: 208,
        ack_failure_count: 209,
        received_fragment_count: 210,
        multicast_received_frame_count: 211,
        fcs_error_count: 212,
        transmitted_frame_count: 213,
        wep_undecryptable_count: 214,
        qos_discarded_fragment_count: 215,
        associated_station_count: 3,
        qos_cf_polls_received_count: 217,
        qos_cf_polls_unused_count: 218,
        qos_cf_polls_unusable_count: 219,
        qos_cf_polls_lost_count: 220,
    }
}

pub fn radio_a() -> RadioUtilization {
    RadioUtilization {
        elapsed_time: 30_017,
        on_channel_time: 29_411,
        on_channel_busy_time: 7_919,
    }
}

pub fn radio_b() -> RadioUtilization {
    RadioUtilization {
        elapsed_time: 20_011,
        on_channel_time: 19_997,
        on_channel_busy_time: 12_343,
    }
}

/// IPv4 agent; a compact flow sample with an Ethernet sampled header and
/// the three per-packet 802.11 records; multiple output interfaces.
pub fn compact_flow_80211() -> DatagramM {
    DatagramM {
        agent: "192.0.2.77".parse().unwrap(),
        sub_agent_id: 2577,
        sequence_number: 16_909_060,
        uptime: 168_496_141,
        form: SampleForm::Compact,
        samples: vec![SampleM::Flow(FlowSampleM {
            sequence_number: 23_041,
            source: DataSource::interface(0x0a_1b2c),
            sampling_rate: 1_600,
            sample_pool: 9_991_764,
            drops: 33,
            input: Interface::index(0x0a_1b2c),
            output: Interface::multiple(3),
            records: vec![
                Flow::Header(ethernet_header_record()),
                Flow::Payload(payload_a()),
                Flow::Rx(rx_a()),
                Flow::Tx(tx_a()),
            ],
        })],
    }
}

/// IPv6 agent; a flow sample with a real 802.11 frame (protocol 15),
/// discarded as promiscuous (compact output format 1), and a counters
/// sample.
pub fn ipv6_80211_mac() -> DatagramM {
    let (_, frame, orig_len) = wlanmon_data_frame();
    DatagramM {
        agent: "2001:db8:5f::a".parse().unwrap(),
        sub_agent_id: 3,
        sequence_number: 77_777,
        // Above 2^31: read as unsigned.
        uptime: 4_000_000_001,
        form: SampleForm::Compact,
        samples: vec![
            SampleM::Flow(FlowSampleM {
                sequence_number: 918_273,
                source: DataSource::interface(19),
                sampling_rate: 257,
                sample_pool: 2_000_000_003,
                drops: 1,
                input: Interface::index(19),
                output: Interface::discarded(discard_reason::PROMISCUOUS),
                records: vec![
                    Flow::Header(Header {
                        protocol: HeaderProtocol::IEEE80211.0,
                        // The frame was captured without its FCS.
                        frame_length: orig_len + 4,
                        stripped: 4,
                        header: frame,
                    }),
                    Flow::Rx(rx_b()),
                ],
            }),
            SampleM::Counters(CountersSampleM {
                sequence_number: 4_242,
                source: DataSource::interface(19),
                records: vec![
                    Counter::Radio(radio_b()),
                    Counter::Ieee80211(ieee80211_counters_b()),
                ],
            }),
        ],
    }
}

/// IPv4 agent with an ifIndex >= 2^24: expanded flow samples (output
/// discarded with reason 263; output to several interfaces) and an expanded
/// counters sample.
pub fn expanded() -> DatagramM {
    DatagramM {
        agent: "198.51.100.200".parse().unwrap(),
        sub_agent_id: 9,
        sequence_number: 5_551_212,
        uptime: 86_400_123,
        form: SampleForm::Expanded,
        samples: vec![
            SampleM::Flow(FlowSampleM {
                sequence_number: 700_001,
                source: DataSource::interface(0x0100_0203),
                sampling_rate: 2_048,
                sample_pool: 14_680_064,
                drops: 77,
                input: Interface::index(0x0100_0203),
                output: Interface::discarded(discard_reason::PROMISCUOUS),
                records: vec![Flow::Header(ethernet_header_record()), Flow::Rx(rx_a())],
            }),
            SampleM::Flow(FlowSampleM {
                sequence_number: 700_002,
                source: DataSource {
                    kind: source_kind::LOGICAL_ENTITY,
                    index: 0x0200_0001,
                },
                sampling_rate: 4_096,
                sample_pool: 29_360_131,
                drops: 78,
                input: Interface::index(0x0123_4567),
                output: Interface::multiple(5),
                records: vec![Flow::Header(ethernet_header_record()), Flow::Tx(tx_b())],
            }),
            SampleM::Counters(CountersSampleM {
                sequence_number: 800_003,
                source: DataSource::interface(0x0100_0203),
                records: vec![
                    Counter::If(if_counters_expanded()),
                    Counter::Ieee80211(ieee80211_counters_b()),
                    Counter::Radio(radio_a()),
                ],
            }),
        ],
    }
}

/// IPv4 agent; one compact counters sample with every interface and radio
/// counter structure; some counters unavailable (all ones). Packed with the
/// `DatagramPacker`.
pub fn compact_counters() -> DatagramM {
    DatagramM {
        agent: "203.0.113.9".parse().unwrap(),
        sub_agent_id: 66,
        sequence_number: 3,
        uptime: 16_702_650,
        form: SampleForm::Compact,
        samples: vec![SampleM::Counters(CountersSampleM {
            sequence_number: 31_337,
            source: DataSource::interface(167),
            records: vec![
                Counter::If(if_counters_compact()),
                Counter::Ethernet(ethernet_counters()),
                Counter::Ieee80211(ieee80211_counters_a()),
                Counter::Radio(radio_a()),
            ],
        })],
    }
}

/// The records of the two PDUs of [`aggregation`].
pub fn aggregation_pdus() -> Vec<Vec<Flow>> {
    let f = ethernet_frame().frame;
    vec![
        vec![
            Flow::Header(Header {
                protocol: HeaderProtocol::ETHERNET.0,
                frame_length: 98,
                stripped: 4,
                header: f[..64].to_vec(),
            }),
            Flow::Tx(tx_b()),
        ],
        vec![Flow::Header(Header {
            protocol: HeaderProtocol::ETHERNET.0,
            frame_length: 1_522,
            stripped: 4,
            header: f[..96].to_vec(),
        })],
    ]
}

/// IPv4 agent; a flow sample of an aggregate (sampled header and rx, then
/// an `extended_80211_aggregation` with two PDUs as its last record), and a
/// second flow sample after it.
///
/// The aggregation is the last record of its sample because tshark 4.0
/// consumes none of the bytes of a 1016 record (its
/// `dissect_sflow_5_extended_80211_aggregation` returns the offset it was
/// given), so it misreads any record that follows it in the same sample; the
/// next sample is found by the sample length. [`aggregation_mid`] has a
/// record after the aggregation, for the decoders that read it.
pub fn aggregation() -> DatagramM {
    DatagramM {
        agent: "192.0.2.78".parse().unwrap(),
        sub_agent_id: 12,
        sequence_number: 424_242,
        uptime: 3_000_000_007,
        form: SampleForm::Compact,
        samples: vec![
            SampleM::Flow(FlowSampleM {
                sequence_number: 55_555,
                source: DataSource::interface(21),
                sampling_rate: 333,
                sample_pool: 666_667,
                drops: 9,
                input: Interface::index(21),
                output: Interface::index(0x00_3f0f),
                records: vec![
                    Flow::Header(ethernet_header_record()),
                    Flow::Rx(rx_b()),
                    Flow::Aggregation(aggregation_pdus()),
                ],
            }),
            SampleM::Flow(FlowSampleM {
                sequence_number: 55_556,
                source: DataSource::interface(22),
                sampling_rate: 334,
                sample_pool: 666_999,
                drops: 10,
                input: Interface::INTERNAL,
                output: Interface::index(22),
                records: vec![Flow::Header(ethernet_header_record()), Flow::Tx(tx_a())],
            }),
        ],
    }
}

/// IPv4 agent; a flow sample with records on both sides of an
/// `extended_80211_aggregation` (not for tshark 4.0, see [`aggregation`]).
pub fn aggregation_mid() -> DatagramM {
    DatagramM {
        agent: "192.0.2.80".parse().unwrap(),
        sub_agent_id: 13,
        sequence_number: 424_243,
        uptime: 3_000_000_011,
        form: SampleForm::Compact,
        samples: vec![SampleM::Flow(FlowSampleM {
            sequence_number: 55_557,
            source: DataSource::interface(23),
            sampling_rate: 335,
            sample_pool: 667_001,
            drops: 11,
            input: Interface::index(23),
            output: Interface::index(24),
            records: vec![
                Flow::Header(ethernet_header_record()),
                Flow::Aggregation(aggregation_pdus()),
                Flow::Rx(rx_a()),
                Flow::Tx(tx_b()),
            ],
        })],
    }
}

/// The host structures, in their own counters sample (source HOST), as
/// hsflowd sends them. Not for tshark 4.0 (it does not know them and then
/// misreads the rest of the sample).
pub fn host() -> DatagramM {
    DatagramM {
        agent: "192.0.2.79".parse().unwrap(),
        sub_agent_id: 1,
        sequence_number: 999,
        uptime: 123_456_789,
        form: SampleForm::Compact,
        samples: vec![SampleM::Counters(CountersSampleM {
            sequence_number: 321,
            source: DataSource::HOST,
            records: vec![
                Counter::HostDescr(HostDescrM {
                    hostname: b"ap-lobby-2".to_vec(),
                    uuid: [
                        0x5f, 0x3a, 0x21, 0x9c, 0x0d, 0x4e, 0x4b, 0x11, 0x8a, 0x6e, 0x02, 0xc3,
                        0x7d, 0x19, 0xe8, 0xf4,
                    ],
                    machine_type: machine_type::MIPS,
                    os_name: os_name::LINUX,
                    os_release: b"5.15.150".to_vec(),
                }),
                Counter::HostAdapters(vec![
                    AdapterM {
                        if_index: 7,
                        macs: vec![
                            [0x94, 0x83, 0xc4, 0x01, 0x02, 0x03],
                            [0x96, 0x83, 0xc4, 0x01, 0x02, 0x04],
                        ],
                    },
                    AdapterM {
                        if_index: 11,
                        macs: vec![[0x94, 0x83, 0xc4, 0x0a, 0x0b, 0x0c]],
                    },
                ]),
                Counter::HostCpu(HostCpu {
                    load_one: 0.73,
                    load_five: 1.125,
                    load_fifteen: 2.09,
                    proc_run: 3,
                    proc_total: 87,
                    cpu_num: 2,
                    cpu_speed: 880,
                    uptime: 1_209_601,
                    cpu_user: 450_001,
                    cpu_nice: 1_203,
                    cpu_system: 230_007,
                    cpu_idle: 9_000_011,
                    cpu_wio: 4_013,
                    cpu_intr: 17,
                    cpu_sintr: 60_019,
                    interrupts: 123_456_023,
                    contexts: 987_654_029,
                }),
                Counter::HostMemory(HostMemory {
                    mem_total: 259_276_800,
                    mem_free: 97_021_952,
                    mem_shared: 1_212_416,
                    mem_buffers: 4_194_304,
                    mem_cached: 31_457_280,
                    swap_total: 0x0000_0001_2000_0000,
                    swap_free: 0x0000_0001_1fff_f000,
                    page_in: 4_001,
                    page_out: 4_003,
                    swap_in: 4_007,
                    swap_out: 4_013,
                }),
                Counter::HostNetIo(HostNetIo {
                    bytes_in: 0x0000_0003_0000_0005,
                    pkts_in: 5_000_011,
                    errs_in: 13,
                    drops_in: 19,
                    bytes_out: 0x0000_0007_0000_0011,
                    packets_out: 6_000_023,
                    errs_out: 29,
                    drops_out: 31,
                }),
            ],
        })],
    }
}

/// The datagrams that tshark 4.0 can decode entirely.
pub fn tshark_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (name, model) in [
        ("compact_flow_80211", compact_flow_80211()),
        ("ipv6_80211_mac", ipv6_80211_mac()),
        ("expanded", expanded()),
        ("aggregation", aggregation()),
    ] {
        let bytes = encode_datagram(&model);
        cases.push(Case { name, bytes, model });
    }
    let model = compact_counters();
    let bytes = encode_with_packer(&model);
    cases.push(Case {
        name: "compact_counters",
        bytes,
        model,
    });
    cases
}

/// Every test datagram: tshark's, plus the host structures and an
/// aggregation followed by more records.
pub fn all_cases() -> Vec<Case> {
    let mut cases = tshark_cases();
    for (name, model) in [("host", host()), ("aggregation_mid", aggregation_mid())] {
        let bytes = encode_datagram(&model);
        cases.push(Case { name, bytes, model });
    }
    cases
}

// ---------------------------------------------------------------------------
// Lengths computed from the specification's XDR (independently of the
// encoder): each decoder's view of a length is checked against these.

/// `n` rounded up to a multiple of four (XDR padding).
pub fn pad4(n: usize) -> usize {
    (n + 3) & !3
}

/// Length of a flow record's `flow_data`.
pub fn flow_data_len(f: &Flow) -> usize {
    match f {
        // protocol, frame_length, stripped, header<>
        Flow::Header(h) => 12 + 4 + pad4(h.header.len()),
        // ciphersuite, data<>
        Flow::Payload(p) => 4 + 4 + pad4(p.data.len()),
        // ssid<32>, mac (8), version, channel, speed (8), rsni, rcpi, duration
        Flow::Rx(r) => 4 + pad4(r.ssid.len()) + 8 + 4 + 4 + 8 + 4 + 4 + 4,
        // ssid<32>, mac (8), version, transmissions, 2 durations, channel,
        // speed (8), power
        Flow::Tx(t) => 4 + pad4(t.ssid.len()) + 8 + 4 + 4 + 4 + 4 + 4 + 8 + 4,
        // pdus<>, each a flow_records<>
        Flow::Aggregation(pdus) => {
            4 + pdus
                .iter()
                .map(|p| 4 + p.iter().map(|r| 8 + flow_data_len(r)).sum::<usize>())
                .sum::<usize>()
        }
    }
}

/// Length of a counter record's `counter_data`.
pub fn counter_data_len(c: &Counter) -> usize {
    match c {
        Counter::If(_) => 88,
        Counter::Ethernet(_) => 13 * 4,
        Counter::Ieee80211(_) => 20 * 4,
        Counter::Radio(_) => 12,
        // hostname<64>, uuid (16 fixed), machine_type, os_name, os_release<32>
        Counter::HostDescr(h) => {
            4 + pad4(h.hostname.len()) + 16 + 4 + 4 + 4 + pad4(h.os_release.len())
        }
        // adapters<>, each ifIndex + mac_address<> of 8-byte macs
        Counter::HostAdapters(a) => 4 + a.iter().map(|a| 8 + 8 * a.macs.len()).sum::<usize>(),
        Counter::HostCpu(_) => 17 * 4,
        Counter::HostMemory(_) => 7 * 8 + 4 * 4,
        Counter::HostNetIo(_) => 8 + 3 * 4 + 8 + 3 * 4,
    }
}

/// Length of a sample's `sample_data`.
pub fn sample_data_len(s: &SampleM, form: SampleForm) -> usize {
    // source_id and each interface: one word compact, two expanded.
    let w = match form {
        SampleForm::Compact => 4,
        SampleForm::Expanded => 8,
    };
    match s {
        // sequence_number, source_id, sampling_rate, sample_pool, drops,
        // input, output, flow_records<>
        SampleM::Flow(f) => {
            4 + w
                + 12
                + 2 * w
                + 4
                + f.records
                    .iter()
                    .map(|r| 8 + flow_data_len(r))
                    .sum::<usize>()
        }
        // sequence_number, source_id, counters<>
        SampleM::Counters(c) => {
            4 + w
                + 4
                + c.records
                    .iter()
                    .map(|r| 8 + counter_data_len(r))
                    .sum::<usize>()
        }
    }
}

/// Length of the whole datagram.
pub fn datagram_len(d: &DatagramM) -> usize {
    let address = match d.agent {
        IpAddr::V4(_) => 4,
        IpAddr::V6(_) => 16,
    };
    // version, address type, address, sub_agent_id, sequence_number,
    // uptime, samples<>
    4 + 4
        + address
        + 4
        + 4
        + 4
        + 4
        + d.samples
            .iter()
            .map(|s| 8 + sample_data_len(s, d.form))
            .sum::<usize>()
}
