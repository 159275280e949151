//! Samples and datagrams for the collector's unit tests: an AP agent's
//! flow samples of a station's frames, as wsflowd sends them.

use std::net::IpAddr;

use super::sighting::Mac;
use crate::sflow::*;

pub const AP: Mac = [2, 0, 0, 0, 0, 0xa1];
pub const STA: Mac = [2, 0, 0, 0, 0, 0x51];

/// Encodes a datagram of `samples` from agent 10.0.0.`agent`.
pub fn datagram(agent: u8, sequence: u32, uptime: u32, samples: &[Sample]) -> Vec<u8> {
    let d = Datagram {
        agent_address: Some(IpAddr::from([10, 0, 0, agent])),
        sub_agent_id: 0,
        sequence_number: sequence,
        uptime,
        samples: List::Items(samples),
    };
    let mut buf = vec![0u8; 65536];
    let mut w = Writer::new(&mut buf);
    d.encode(&mut w).unwrap();
    w.written().to_vec()
}

/// The `sampled_header` of an IPv4 Ethernet frame from `src` to `dst`,
/// `frame_length` bytes on the wire.
pub fn ethernet_header(dst: Mac, src: Mac, frame_length: u32) -> FlowRecord<'static> {
    let mut h = [0u8; 14];
    h[0..6].copy_from_slice(&dst);
    h[6..12].copy_from_slice(&src);
    h[12] = 0x08;
    FlowRecord::SampledHeader(SampledHeader {
        protocol: HeaderProtocol::ETHERNET,
        frame_length,
        stripped: 4,
        header: Box::leak(Box::new(h)),
    })
}

/// `extended_80211_rx` of a frame received in BSS `bssid` ("lab", channel
/// 36) at 144.4 Mb/s.
pub fn rx_record(bssid: Mac, rcpi: u32) -> FlowRecord<'static> {
    FlowRecord::Extended80211Rx(Extended80211Rx {
        ssid: b"lab",
        bssid,
        version: Ieee80211Version::N,
        channel: 36,
        speed: 144_400_000,
        rsni: 255,
        rcpi,
        packet_duration: 0,
    })
}

/// The records of a 100-byte frame station `station` sent to [`AP`], as
/// the AP's agent samples it: received at RCPI 106 (-57 dBm).
pub fn uplink(station: Mac) -> [FlowRecord<'static>; 2] {
    [ethernet_header(AP, station, 100), rx_record(AP, 106)]
}

/// A flow sample of data source `if_index`, received on it.
pub fn flow_sample<'a>(
    if_index: u32,
    sequence: u32,
    rate: u32,
    pool: u32,
    records: &'a [FlowRecord<'a>],
) -> FlowSample<'a> {
    FlowSample {
        sequence_number: sequence,
        source: DataSource::interface(if_index),
        sampling_rate: rate,
        sample_pool: pool,
        drops: 0,
        input: Interface::index(if_index),
        output: Interface::INTERNAL,
        records: List::Items(records),
    }
}

/// [`flow_sample`] as a sample of a datagram.
pub fn flow<'a>(
    if_index: u32,
    sequence: u32,
    rate: u32,
    pool: u32,
    records: &'a [FlowRecord<'a>],
) -> Sample<'a> {
    Sample::Flow(
        SampleForm::Compact,
        flow_sample(if_index, sequence, rate, pool, records),
    )
}
