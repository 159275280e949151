//! Simulated access-point agents: datagrams as wsflowd sends them from an
//! AP interface with hostapd (flow samples of a 128-byte Ethernet header
//! with `extended_80211_rx` from a station or `extended_80211_tx` to it;
//! counter samples with `if_counters`, `ethernet_counters`,
//! `ieee80211_counters` and `radio_utilization`; the host's `host_descr`),
//! encoded with our library. Used by the collector tests and by
//! `benches/collect.rs` (which includes this file by path).

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};

use wsflowd::sflow::*;

pub type Mac = [u8; 6];

/// The largest datagram, as the agent's default `datagram_bytes`.
pub const DATAGRAM_BYTES: usize = 1400;

/// One simulated agent with one AP interface.
pub struct SimAgent {
    pub address: Ipv4Addr,
    pub if_index: u32,
    pub bssid: Mac,
    pub ssid: Vec<u8>,
    pub rate: u32,
    pub stations: Vec<Mac>,
    pub sequence: u32,
    pub uptime_ms: u32,
    pub flow_sequence: u32,
    pub counter_sequence: u32,
    pub pool: u32,
    next_station: usize,
    /// Frames counted by the interface counters.
    in_packets: u32,
    out_packets: u32,
    in_octets: u64,
    out_octets: u64,
    frame: Vec<u8>,
}

/// A station MAC address from a number.
pub fn station_mac(n: u32) -> Mac {
    let b = n.to_be_bytes();
    [0x02, 0x5a, b[0], b[1], b[2], b[3]]
}

impl SimAgent {
    /// Agent `n` (address 10.x.y.z from n), serving `stations` stations
    /// numbered from `first_station`, sampling 1-in-`rate`.
    pub fn new(n: u32, rate: u32, first_station: u32, stations: u32) -> SimAgent {
        let b = n.to_be_bytes();
        let address = Ipv4Addr::new(10, b[1].wrapping_add(100), b[2], b[3]);
        SimAgent {
            address,
            if_index: 3,
            bssid: [0x02, 0xa0, b[0], b[1], b[2], b[3]],
            ssid: b"wsflowd-fleet".to_vec(),
            rate,
            stations: (first_station..first_station + stations)
                .map(station_mac)
                .collect(),
            sequence: 0,
            uptime_ms: 10_000,
            flow_sequence: 0,
            counter_sequence: 0,
            pool: 0,
            next_station: 0,
            in_packets: 0,
            out_packets: 0,
            in_octets: 0,
            out_octets: 0,
            frame: vec![0u8; 128],
        }
    }

    /// The next datagram's sequence number and uptime.
    fn next_header(&mut self) -> (u32, u32) {
        self.sequence = self.sequence.wrapping_add(1);
        (self.sequence, self.uptime_ms)
    }

    fn datagram_with<'a>(
        &self,
        sequence: u32,
        uptime: u32,
        samples: &'a [Sample<'a>],
    ) -> Datagram<'a> {
        Datagram {
            agent_address: Some(IpAddr::V4(self.address)),
            sub_agent_id: 0,
            sequence_number: sequence,
            uptime,
            samples: List::Items(samples),
        }
    }

    /// Encodes a datagram of flow samples into `buf` (as many as fit in
    /// [`DATAGRAM_BYTES`], at most `max`); returns how many samples.
    /// Even samples come from a station (rx), odd ones go to it (tx).
    pub fn flow_datagram(&mut self, buf: &mut Vec<u8>, max: usize) -> usize {
        let mut samples: Vec<(Mac, bool, u32, u32)> = Vec::new();
        let mut size = 28;
        while samples.len() < max && size + 260 <= DATAGRAM_BYTES {
            let station = self.stations[self.next_station % self.stations.len().max(1)];
            self.next_station += 1;
            self.flow_sequence = self.flow_sequence.wrapping_add(1);
            self.pool = self.pool.wrapping_add(self.rate);
            let rx = self.flow_sequence % 2 == 0;
            if rx {
                self.in_packets = self.in_packets.wrapping_add(self.rate);
                self.in_octets += u64::from(self.rate) * 120;
            } else {
                self.out_packets = self.out_packets.wrapping_add(self.rate);
                self.out_octets += u64::from(self.rate) * 1500;
            }
            samples.push((station, rx, self.flow_sequence, self.pool));
            size += 260;
        }
        self.uptime_ms = self.uptime_ms.wrapping_add(100);
        let (sequence, uptime) = self.next_header();
        let ssid = self.ssid.clone();
        let frames: Vec<Vec<u8>> = samples
            .iter()
            .map(|(station, rx, _, _)| {
                let mut f = self.frame.clone();
                let (dst, src) = if *rx {
                    (self.bssid, *station)
                } else {
                    (*station, self.bssid)
                };
                f[0..6].copy_from_slice(&dst);
                f[6..12].copy_from_slice(&src);
                f[12] = 0x08;
                f
            })
            .collect();
        let records: Vec<[FlowRecord; 2]> = samples
            .iter()
            .zip(&frames)
            .map(|((_, rx, _, _), frame)| {
                let h = FlowRecord::SampledHeader(SampledHeader {
                    protocol: HeaderProtocol::ETHERNET,
                    frame_length: if *rx { 124 } else { 1504 },
                    stripped: 4,
                    header: frame,
                });
                let radio = if *rx {
                    FlowRecord::Extended80211Rx(Extended80211Rx {
                        ssid: &ssid,
                        bssid: self.bssid,
                        version: Ieee80211Version::N,
                        channel: 36,
                        speed: 144_400_000,
                        rsni: 255,
                        rcpi: 2 * (110 - 55),
                        packet_duration: 0,
                    })
                } else {
                    FlowRecord::Extended80211Tx(Extended80211Tx {
                        ssid: &ssid,
                        bssid: self.bssid,
                        version: Ieee80211Version::N,
                        transmissions: 1,
                        packet_duration: 0,
                        retrans_duration: 0,
                        channel: 36,
                        speed: 130_000_000,
                        power: 100,
                    })
                };
                [h, radio]
            })
            .collect();
        let flow_samples: Vec<Sample> = samples
            .iter()
            .zip(&records)
            .map(|((_, rx, seq, pool), r)| {
                Sample::Flow(
                    SampleForm::Compact,
                    FlowSample {
                        sequence_number: *seq,
                        source: DataSource::interface(self.if_index),
                        sampling_rate: self.rate,
                        sample_pool: *pool,
                        drops: 0,
                        input: if *rx {
                            Interface::index(self.if_index)
                        } else {
                            Interface::index(2)
                        },
                        output: if *rx {
                            Interface::index(2)
                        } else {
                            Interface::index(self.if_index)
                        },
                        records: List::Items(r),
                    },
                )
            })
            .collect();
        let n = flow_samples.len();
        encode(&self.datagram_with(sequence, uptime, &flow_samples), buf);
        n
    }

    /// Encodes a datagram with the interface's counter sample (if, ethernet,
    /// 802.11 and radio records) and the host's (host_descr).
    pub fn counter_datagram(&mut self, buf: &mut Vec<u8>) {
        self.counter_sequence = self.counter_sequence.wrapping_add(1);
        self.uptime_ms = self.uptime_ms.wrapping_add(100);
        let (sequence, uptime) = self.next_header();
        let ifc = IfCounters {
            if_index: self.if_index,
            if_type: 71,
            speed: 0,
            direction: 1,
            status: 3,
            in_octets: self.in_octets,
            in_ucast_pkts: self.in_packets,
            out_octets: self.out_octets,
            out_ucast_pkts: self.out_packets,
            ..IfCounters::default()
        };
        let mut dot11 = Ieee80211Counters::UNAVAILABLE;
        dot11.transmitted_frame_count = self.out_packets;
        dot11.failed_count = self.out_packets / 100;
        dot11.associated_station_count = self.stations.len() as u32;
        let elapsed = self.uptime_ms;
        let radio = RadioUtilization {
            elapsed_time: elapsed,
            on_channel_time: elapsed,
            on_channel_busy_time: elapsed / 4,
        };
        let records = [
            CounterRecord::Interface(ifc),
            CounterRecord::Ethernet(EthernetCounters::UNAVAILABLE),
            CounterRecord::Ieee80211(dot11),
            CounterRecord::RadioUtilization(radio),
        ];
        let hostname = format!("ap-{}", self.address);
        let host = [CounterRecord::HostDescr(HostDescr {
            hostname: hostname.as_bytes(),
            uuid: [0; 16],
            machine_type: machine_type::MIPS,
            os_name: os_name::LINUX,
            os_release: b"6.6.73",
        })];
        let samples = [
            Sample::Counters(
                SampleForm::Compact,
                CountersSample {
                    sequence_number: self.counter_sequence,
                    source: DataSource::interface(self.if_index),
                    records: List::Items(&records),
                },
            ),
            Sample::Counters(
                SampleForm::Compact,
                CountersSample {
                    sequence_number: self.counter_sequence,
                    source: DataSource::HOST,
                    records: List::Items(&host),
                },
            ),
        ];
        encode(&self.datagram_with(sequence, uptime, &samples), buf);
    }
}

pub fn encode(d: &Datagram, buf: &mut Vec<u8>) {
    buf.resize(65536, 0);
    let mut w = Writer::new(buf);
    d.encode(&mut w).expect("datagram encodes");
    let n = w.written().len();
    buf.truncate(n);
}
