//! The metrics `wsflowd collect --prometheus` exports: one table ([`METRICS`])
//! that gives each its name, type, labels and help, used to render a
//! [`Snapshot`] in the Prometheus text format (version 0.0.4) or in
//! OpenMetrics 1.0, and to print the list in `wsflowd collect --help`.
//!
//! Names follow Prometheus' conventions: `wsflowd_` prefix, base units
//! (seconds, bytes; ratios 0–1), `_total` for counters, `_info` for
//! label-only series whose value is 1.

use std::fmt::Write;
use std::io;
use std::net::IpAddr;

use super::fleet::{Agent, Bss, Snapshot, Source, StationKey, StationSeries, Traffic};
use super::sighting::Mac;
use crate::mac::MacAddr;

/// A metric's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    /// Labels only, value 1 (a gauge in the Prometheus text format).
    Info,
}

impl Kind {
    /// Its name in OpenMetrics' TYPE lines and in `--help`.
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Info => "info",
        }
    }
}

/// Which series a metric has, and so its labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Collector,
    /// One series per reason, label `what`.
    CollectorDropped,
    Agent,
    /// `agent_info`: adds `hostname` and `os_release`.
    AgentInfo,
    Source,
    Traffic,
    Bss,
    Station,
    /// Per station and direction.
    StationDirection,
}

impl Scope {
    pub fn labels(self) -> &'static str {
        match self {
            Scope::Collector => "",
            Scope::CollectorDropped => "what",
            Scope::Agent => "agent, sub_agent",
            Scope::AgentInfo => "agent, sub_agent, hostname, os_release",
            Scope::Source => "agent, sub_agent, ifindex",
            Scope::Traffic => "agent, sub_agent, ifindex, direction, bssid, ssid",
            Scope::Bss => "agent, sub_agent, ifindex, bssid, ssid, channel",
            Scope::Station => "agent, sub_agent, ifindex, bssid, ssid, station",
            Scope::StationDirection => "agent, sub_agent, ifindex, bssid, ssid, station, direction",
        }
    }
}

enum Value {
    Collector(fn(&Snapshot) -> Option<f64>),
    Dropped,
    Agent(fn(&Agent) -> Option<f64>),
    AgentInfo,
    Source(fn(&Source) -> Option<f64>),
    Traffic(fn(&Traffic) -> f64),
    Bss,
    Station(fn(&StationSeries) -> Option<f64>),
    StationDirection(fn(&StationSeries, usize) -> Option<f64>),
}

/// One metric.
pub struct Metric {
    /// The name of its samples.
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    value: Value,
}

impl Metric {
    pub fn scope(&self) -> Scope {
        match self.value {
            Value::Collector(_) => Scope::Collector,
            Value::Dropped => Scope::CollectorDropped,
            Value::Agent(_) => Scope::Agent,
            Value::AgentInfo => Scope::AgentInfo,
            Value::Source(_) => Scope::Source,
            Value::Traffic(_) => Scope::Traffic,
            Value::Bss => Scope::Bss,
            Value::Station(_) => Scope::Station,
            Value::StationDirection(_) => Scope::StationDirection,
        }
    }

    /// Only with `--prometheus-stations`.
    pub fn per_station(&self) -> bool {
        matches!(self.scope(), Scope::Station | Scope::StationDirection)
    }

    /// The metric family's name: in OpenMetrics without the `_total` of a
    /// counter or the `_info` of an info metric.
    fn family(&self, openmetrics: bool) -> &'static str {
        let suffix = match (openmetrics, self.kind) {
            (true, Kind::Counter) => "_total",
            (true, Kind::Info) => "_info",
            _ => "",
        };
        self.name.strip_suffix(suffix).unwrap_or(self.name)
    }
}

const fn m(name: &'static str, kind: Kind, help: &'static str, value: Value) -> Metric {
    Metric {
        name,
        kind,
        help,
        value,
    }
}

use Kind::{Counter, Gauge, Info};

fn n(v: u64) -> Option<f64> {
    Some(v as f64)
}

fn if_packets(s: &Source, i: usize) -> Option<f64> {
    n(s.interface.as_ref()?.packets[i]?.value())
}

fn ethernet(s: &Source, i: usize) -> Option<f64> {
    n(s.ethernet.as_ref()?[i]?.value())
}

fn dot11(s: &Source, i: usize) -> Option<f64> {
    n(s.dot11.as_ref()?[i]?.value())
}

fn radio_seconds(c: Option<super::fleet::Counter32>) -> Option<f64> {
    Some(c?.value() as f64 / 1000.0)
}

/// Every metric, in the order they are rendered.
pub static METRICS: &[Metric] = &[
    // The collector itself.
    m("wsflowd_collector_datagrams_total", Counter,
      "sFlow datagrams received.",
      Value::Collector(|s| n(s.datagrams))),
    m("wsflowd_collector_decode_errors_total", Counter,
      "Datagrams that did not decode as sFlow v5.",
      Value::Collector(|s| n(s.decode_errors))),
    m("wsflowd_collector_socket_drops_total", Counter,
      "Datagrams the kernel dropped because the collector's receive buffer was full.",
      Value::Collector(|s| n(s.socket_drops?))),
    m("wsflowd_collector_dropped_total", Counter,
      "What did not fit in the collector's limits: what=\"agents\": datagrams of agents beyond --max-agents; \
       what=\"series\": samples whose data source, BSS or traffic class did not fit in --max-series \
       (their traffic is counted without BSS labels); what=\"stations\": station sightings beyond --max-stations.",
      Value::Dropped),
    m("wsflowd_collector_agents", Gauge,
      "Agents tracked (address and sub-agent).",
      Value::Collector(|s| n(s.agents.len() as u64))),
    m("wsflowd_collector_series", Gauge,
      "Data sources, BSSes and per-BSS traffic classes tracked (bounded by --max-series).",
      Value::Collector(|s| n(s.series as u64))),
    m("wsflowd_collector_stations", Gauge,
      "Per-station series tracked (with --prometheus-stations; bounded by --max-stations).",
      Value::Collector(|s| n(s.stations.len() as u64))),
    // Agents.
    m("wsflowd_agent_info", Info,
      "The agent's host name and OS release, from its host_descr structure.",
      Value::AgentInfo),
    m("wsflowd_agent_datagrams_total", Counter,
      "Datagrams received from the agent.",
      Value::Agent(|a| n(a.datagrams))),
    m("wsflowd_agent_datagram_bytes_total", Counter,
      "Bytes of sFlow datagrams received from the agent (UDP payload).",
      Value::Agent(|a| n(a.bytes))),
    m("wsflowd_agent_datagrams_lost_total", Counter,
      "Datagrams missing from the agent's sequence numbers when a later one arrived (loss on the way or in the collector's socket).",
      Value::Agent(|a| n(a.lost))),
    m("wsflowd_agent_datagrams_out_of_order_total", Counter,
      "Datagrams that arrived after a later one (already counted as lost) or twice.",
      Value::Agent(|a| n(a.out_of_order))),
    m("wsflowd_agent_restarts_total", Counter,
      "Agent restarts seen: its uptime went back, or its datagram sequence started again.",
      Value::Agent(|a| n(a.restarts))),
    m("wsflowd_agent_decode_errors_total", Counter,
      "Samples or records of the agent that did not decode.",
      Value::Agent(|a| n(a.decode_errors))),
    m("wsflowd_agent_uptime_seconds", Gauge,
      "The agent's uptime, from its latest datagram.",
      Value::Agent(|a| Some(a.uptime_seconds()))),
    m("wsflowd_agent_last_datagram_timestamp_seconds", Gauge,
      "Unix time the latest datagram of the agent arrived.",
      Value::Agent(|a| Some(a.last_seen_unix_ms as f64 / 1000.0))),
    // Flow samples per data source.
    m("wsflowd_flow_samples_total", Counter,
      "Flow samples received for the data source.",
      Value::Source(|s| n(s.flow.as_ref()?.samples))),
    m("wsflowd_flow_samples_lost_total", Counter,
      "Flow samples missing from the data source's sample sequence numbers (lost on the way).",
      Value::Source(|s| n(s.flow.as_ref()?.lost))),
    m("wsflowd_sampling_rate", Gauge,
      "The data source's sampling rate: one packet in N is sampled (from its latest flow sample).",
      Value::Source(|s| n(u64::from(s.flow.as_ref()?.sampling_rate)))),
    m("wsflowd_sample_pool_packets_total", Counter,
      "Packets that could have been sampled on the data source (the agent's sample_pool).",
      Value::Source(|s| n(s.flow.as_ref()?.pool?.value()))),
    m("wsflowd_sample_drops_total", Counter,
      "Samples the agent lost for lack of resources (its drops field).",
      Value::Source(|s| n(s.flow.as_ref()?.drops?.value()))),
    m("wsflowd_counters_samples_total", Counter,
      "Counter samples received for the data source.",
      Value::Source(|s| (s.counter_samples > 0).then_some(s.counter_samples as f64))),
    m("wsflowd_counters_samples_lost_total", Counter,
      "Counter samples missing from the data source's sample sequence numbers.",
      Value::Source(|s| (s.counter_samples > 0).then_some(s.counter_lost as f64))),
    // if_counters.
    m("wsflowd_interface_speed_bytes", Gauge,
      "The interface's speed in bytes per second (ifSpeed / 8); 0 = unknown.",
      Value::Source(|s| Some(s.interface.as_ref()?.speed as f64 / 8.0))),
    m("wsflowd_interface_up", Gauge,
      "1 if the interface is operationally up (ifOperStatus), else 0.",
      Value::Source(|s| n(u64::from(s.interface.as_ref()?.status >> 1 & 1)))),
    m("wsflowd_interface_admin_up", Gauge,
      "1 if the interface is administratively up (ifAdminStatus), else 0.",
      Value::Source(|s| n(u64::from(s.interface.as_ref()?.status & 1)))),
    m("wsflowd_interface_receive_bytes_total", Counter,
      "Bytes received on the interface (ifInOctets).",
      Value::Source(|s| n(s.interface.as_ref()?.in_octets?))),
    m("wsflowd_interface_receive_unicast_packets_total", Counter,
      "Unicast packets received (ifInUcastPkts).",
      Value::Source(|s| if_packets(s, 0))),
    m("wsflowd_interface_receive_multicast_packets_total", Counter,
      "Multicast packets received (ifInMulticastPkts).",
      Value::Source(|s| if_packets(s, 1))),
    m("wsflowd_interface_receive_broadcast_packets_total", Counter,
      "Broadcast packets received (ifInBroadcastPkts).",
      Value::Source(|s| if_packets(s, 2))),
    m("wsflowd_interface_receive_discards_total", Counter,
      "Received packets discarded (ifInDiscards).",
      Value::Source(|s| if_packets(s, 3))),
    m("wsflowd_interface_receive_errors_total", Counter,
      "Received packets with errors (ifInErrors).",
      Value::Source(|s| if_packets(s, 4))),
    m("wsflowd_interface_receive_unknown_protocol_packets_total", Counter,
      "Received packets of an unknown protocol (ifInUnknownProtos).",
      Value::Source(|s| if_packets(s, 5))),
    m("wsflowd_interface_transmit_bytes_total", Counter,
      "Bytes transmitted on the interface (ifOutOctets).",
      Value::Source(|s| n(s.interface.as_ref()?.out_octets?))),
    m("wsflowd_interface_transmit_unicast_packets_total", Counter,
      "Unicast packets transmitted (ifOutUcastPkts).",
      Value::Source(|s| if_packets(s, 6))),
    m("wsflowd_interface_transmit_multicast_packets_total", Counter,
      "Multicast packets transmitted (ifOutMulticastPkts).",
      Value::Source(|s| if_packets(s, 7))),
    m("wsflowd_interface_transmit_broadcast_packets_total", Counter,
      "Broadcast packets transmitted (ifOutBroadcastPkts).",
      Value::Source(|s| if_packets(s, 8))),
    m("wsflowd_interface_transmit_discards_total", Counter,
      "Packets discarded instead of transmitted (ifOutDiscards).",
      Value::Source(|s| if_packets(s, 9))),
    m("wsflowd_interface_transmit_errors_total", Counter,
      "Packets not transmitted because of errors (ifOutErrors).",
      Value::Source(|s| if_packets(s, 10))),
    // ethernet_counters.
    m("wsflowd_ethernet_alignment_errors_total", Counter, "dot3StatsAlignmentErrors.", Value::Source(|s| ethernet(s, 0))),
    m("wsflowd_ethernet_fcs_errors_total", Counter, "dot3StatsFCSErrors.", Value::Source(|s| ethernet(s, 1))),
    m("wsflowd_ethernet_single_collision_frames_total", Counter, "dot3StatsSingleCollisionFrames.", Value::Source(|s| ethernet(s, 2))),
    m("wsflowd_ethernet_multiple_collision_frames_total", Counter, "dot3StatsMultipleCollisionFrames.", Value::Source(|s| ethernet(s, 3))),
    m("wsflowd_ethernet_sqe_test_errors_total", Counter, "dot3StatsSQETestErrors.", Value::Source(|s| ethernet(s, 4))),
    m("wsflowd_ethernet_deferred_transmissions_total", Counter, "dot3StatsDeferredTransmissions.", Value::Source(|s| ethernet(s, 5))),
    m("wsflowd_ethernet_late_collisions_total", Counter, "dot3StatsLateCollisions.", Value::Source(|s| ethernet(s, 6))),
    m("wsflowd_ethernet_excessive_collisions_total", Counter, "dot3StatsExcessiveCollisions.", Value::Source(|s| ethernet(s, 7))),
    m("wsflowd_ethernet_internal_mac_transmit_errors_total", Counter, "dot3StatsInternalMacTransmitErrors.", Value::Source(|s| ethernet(s, 8))),
    m("wsflowd_ethernet_carrier_sense_errors_total", Counter, "dot3StatsCarrierSenseErrors.", Value::Source(|s| ethernet(s, 9))),
    m("wsflowd_ethernet_frame_too_longs_total", Counter, "dot3StatsFrameTooLongs.", Value::Source(|s| ethernet(s, 10))),
    m("wsflowd_ethernet_internal_mac_receive_errors_total", Counter, "dot3StatsInternalMacReceiveErrors.", Value::Source(|s| ethernet(s, 11))),
    m("wsflowd_ethernet_symbol_errors_total", Counter, "dot3StatsSymbolErrors.", Value::Source(|s| ethernet(s, 12))),
    // ieee80211_counters (IEEE802dot11-MIB dot11CountersTable); a counter the
    // agent reports unavailable has no series.
    m("wsflowd_dot11_transmitted_fragments_total", Counter,
      "dot11TransmittedFragmentCount: fragments (or unfragmented MSDUs/MMPDUs) transmitted and acknowledged.",
      Value::Source(|s| dot11(s, 0))),
    m("wsflowd_dot11_multicast_transmitted_frames_total", Counter,
      "dot11MulticastTransmittedFrameCount: group-addressed frames transmitted.",
      Value::Source(|s| dot11(s, 1))),
    m("wsflowd_dot11_failed_frames_total", Counter,
      "dot11FailedCount: MSDUs not transmitted because the retry limit was exceeded.",
      Value::Source(|s| dot11(s, 2))),
    m("wsflowd_dot11_retried_frames_total", Counter,
      "dot11RetryCount: MSDUs transmitted successfully after one or more retransmissions.",
      Value::Source(|s| dot11(s, 3))),
    m("wsflowd_dot11_multiple_retried_frames_total", Counter,
      "dot11MultipleRetryCount: MSDUs transmitted successfully after more than one retransmission.",
      Value::Source(|s| dot11(s, 4))),
    m("wsflowd_dot11_duplicate_frames_total", Counter,
      "dot11FrameDuplicateCount: duplicate frames received.",
      Value::Source(|s| dot11(s, 5))),
    m("wsflowd_dot11_rts_successes_total", Counter,
      "dot11RTSSuccessCount: CTS received in response to an RTS.",
      Value::Source(|s| dot11(s, 6))),
    m("wsflowd_dot11_rts_failures_total", Counter,
      "dot11RTSFailureCount: RTS without a CTS in response.",
      Value::Source(|s| dot11(s, 7))),
    m("wsflowd_dot11_ack_failures_total", Counter,
      "dot11ACKFailureCount: frames without the expected ACK.",
      Value::Source(|s| dot11(s, 8))),
    m("wsflowd_dot11_received_fragments_total", Counter,
      "dot11ReceivedFragmentCount: data and management fragments received.",
      Value::Source(|s| dot11(s, 9))),
    m("wsflowd_dot11_multicast_received_frames_total", Counter,
      "dot11MulticastReceivedFrameCount: group-addressed MSDUs received.",
      Value::Source(|s| dot11(s, 10))),
    m("wsflowd_dot11_fcs_errors_total", Counter,
      "dot11FCSErrorCount: frames received with an FCS error.",
      Value::Source(|s| dot11(s, 11))),
    m("wsflowd_dot11_transmitted_frames_total", Counter,
      "dot11TransmittedFrameCount: MSDUs transmitted successfully.",
      Value::Source(|s| dot11(s, 12))),
    m("wsflowd_dot11_wep_undecryptable_frames_total", Counter,
      "dot11WEPUndecryptableCount: frames discarded because they could not be decrypted.",
      Value::Source(|s| dot11(s, 13))),
    m("wsflowd_dot11_qos_discarded_fragments_total", Counter,
      "dot11QoSDiscardedFragmentCount: QoS data frames discarded.",
      Value::Source(|s| dot11(s, 14))),
    m("wsflowd_dot11_associated_stations", Gauge,
      "dot11AssociatedStationCount: stations associated now.",
      Value::Source(|s| n(u64::from(s.associated_stations?)))),
    m("wsflowd_dot11_qos_cf_polls_received_total", Counter,
      "dot11QoSCFPollsReceivedCount.",
      Value::Source(|s| dot11(s, 16))),
    m("wsflowd_dot11_qos_cf_polls_unused_total", Counter,
      "dot11QoSCFPollsUnusedCount.",
      Value::Source(|s| dot11(s, 17))),
    m("wsflowd_dot11_qos_cf_polls_unusable_total", Counter,
      "dot11QoSCFPollsUnusableCount.",
      Value::Source(|s| dot11(s, 18))),
    m("wsflowd_dot11_qos_cf_polls_lost_total", Counter,
      "dot11QoSCFPollsLostCount.",
      Value::Source(|s| dot11(s, 19))),
    // radio_utilization, on the interface that reports its radio's.
    m("wsflowd_radio_elapsed_seconds_total", Counter,
      "radio_utilization elapsed_time: time the radio's figures cover.",
      Value::Source(|s| radio_seconds(s.radio.as_ref()?.elapsed))),
    m("wsflowd_radio_on_channel_seconds_total", Counter,
      "radio_utilization on_channel_time: time the radio spent on its channel.",
      Value::Source(|s| radio_seconds(s.radio.as_ref()?.on_channel))),
    m("wsflowd_radio_on_channel_busy_seconds_total", Counter,
      "radio_utilization on_channel_busy_time: time the channel was sensed busy.",
      Value::Source(|s| radio_seconds(s.radio.as_ref()?.busy))),
    m("wsflowd_radio_channel_busy_ratio", Gauge,
      "Busy time / on-channel time between the radio's last two different readings (0-1).",
      Value::Source(|s| s.radio.as_ref()?.busy_ratio)),
    // BSSes and traffic estimates.
    m("wsflowd_bss_info", Info,
      "A BSS the data source's 802.11 records name (on an AP interface, the BSS it serves).",
      Value::Bss),
    m("wsflowd_traffic_packets_total", Counter,
      "Packets estimated from flow samples (each stands for the pool packets since the previous sample, \
       about sampling_rate), by direction (rx: received on the data source, from a station on an AP \
       interface; tx: transmitted, to a station) and BSS.",
      Value::Traffic(|t| t.packets)),
    m("wsflowd_traffic_bytes_total", Counter,
      "Bytes estimated from flow samples (each sample's weight times its frame length), by direction and BSS.",
      Value::Traffic(|t| t.bytes)),
    m("wsflowd_traffic_samples_total", Counter,
      "Flow samples behind the estimates, by direction and BSS: an estimate's relative error is about 1/sqrt(samples).",
      Value::Traffic(|t| t.samples as f64)),
    // Stations (--prometheus-stations).
    m("wsflowd_station_signal_dbm", Gauge,
      "The station's signal in dBm, from the RCPI of its latest sampled frame that carried one.",
      Value::Station(|s| s.signal_dbm.map(f64::from))),
    m("wsflowd_station_phy_rate_bytes_per_second", Gauge,
      "PHY rate of the station's latest sampled frame, in bytes per second (bit/s / 8): direction=\"rx\" from it, \"tx\" to it.",
      Value::StationDirection(|s, d| s.bitrate[d].map(|v| v as f64 / 8.0))),
    m("wsflowd_station_packets_total", Counter,
      "Packets from (rx) and to (tx) the station, estimated from flow samples.",
      Value::StationDirection(|s, d| Some(s.packets[d]))),
    m("wsflowd_station_bytes_total", Counter,
      "Bytes from (rx) and to (tx) the station, estimated from flow samples.",
      Value::StationDirection(|s, d| Some(s.bytes[d]))),
    m("wsflowd_station_last_seen_timestamp_seconds", Gauge,
      "Unix time the station was last seen in a sample.",
      Value::Station(|s| Some(s.last_seen_unix_ms as f64 / 1000.0))),
];

/// The metric list for `--help`.
pub fn help_text() -> String {
    let mut out = String::new();
    for m in METRICS {
        let labels = m.scope().labels();
        let _ = write!(out, "  {} ({}", m.name, m.kind.name());
        if !labels.is_empty() {
            let _ = write!(out, "; {labels}");
        }
        out.push_str(")\n");
        wrap(&mut out, m.help, "      ", 78);
    }
    out
}

fn wrap(out: &mut String, text: &str, indent: &str, width: usize) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
}

/// Content types of the two formats.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Appends `text` with backslash and newline escaped, and double quotes
/// when `quotes`: label values always, HELP text in OpenMetrics only.
fn push_escaped(out: &mut String, text: &str, quotes: bool) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quotes => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

fn push_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Label text shared by the series of one agent or source.
struct Labels {
    agent: String,
}

fn labels_of(address: Option<IpAddr>, sub_agent: u32) -> Labels {
    let mut s = String::from("agent=\"");
    if let Some(a) = address {
        let _ = write!(s, "{a}");
    }
    let _ = write!(s, "\",sub_agent=\"{sub_agent}\"");
    Labels { agent: s }
}

/// Writes one series: `name{labels} value`; `extra` appends labels.
fn series(out: &mut String, name: &str, labels: &str, extra: impl FnOnce(&mut String), v: f64) {
    out.push_str(name);
    let start = out.len();
    out.push('{');
    out.push_str(labels);
    extra(out);
    if out.len() == start + 1 {
        out.truncate(start);
    } else {
        out.push('}');
    }
    out.push(' ');
    push_value(out, v);
    out.push('\n');
}

/// Appends `,name="` (no comma right after the opening brace).
fn label_name(out: &mut String, name: &str) {
    if !out.ends_with('{') {
        out.push(',');
    }
    out.push_str(name);
    out.push_str("=\"");
}

/// Appends `,name="value"` unless the value is empty.
fn label(out: &mut String, name: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    label_name(out, name);
    push_escaped(out, value, true);
    out.push('"');
}

fn label_mac(out: &mut String, name: &str, mac: Option<&Mac>) {
    if let Some(mac) = mac {
        label_name(out, name);
        let _ = write!(out, "{}\"", MacAddr(*mac));
    }
}

fn label_ssid(out: &mut String, ssid: &[u8]) {
    label(out, "ssid", &String::from_utf8_lossy(ssid));
}

fn bss_labels(out: &mut String, b: &Bss) {
    label_mac(out, "bssid", Some(&b.bssid));
    label_ssid(out, &b.ssid);
    label(out, "channel", &b.channel.to_string());
}

/// The labels a station's series has after `ifindex`.
fn station_labels(out: &mut String, k: &StationKey, st: &StationSeries) {
    label_mac(out, "bssid", Some(&k.bssid));
    label_ssid(out, &st.ssid);
    label_mac(out, "station", Some(&k.station));
}

/// `scratch` set to an agent's labels and `ifindex`: the labels every
/// series of a data source (or a station seen on it) starts with.
fn with_if_index<'s>(scratch: &'s mut String, agent: &Labels, if_index: u32) -> &'s str {
    scratch.clear();
    let _ = write!(scratch, "{},ifindex=\"{if_index}\"", agent.agent);
    scratch
}

/// The series of a collector-wide metric.
fn collector_series(out: &mut String, m: &Metric, snapshot: &Snapshot) {
    match &m.value {
        Value::Collector(f) => {
            if let Some(v) = f(snapshot) {
                series(out, m.name, "", |_| {}, v);
            }
        }
        Value::Dropped => {
            let d = snapshot.dropped;
            for (what, v) in [
                ("agents", d.agents),
                ("series", d.series),
                ("stations", d.stations),
            ] {
                series(out, m.name, "", |o| label(o, "what", what), v as f64);
            }
        }
        _ => {}
    }
}

/// The series of a per-agent metric for agent `a`, labelled `labels`.
fn agent_series(out: &mut String, m: &Metric, labels: &str, a: &Agent) {
    match &m.value {
        Value::Agent(f) => {
            if let Some(v) = f(a) {
                series(out, m.name, labels, |_| {}, v);
            }
        }
        Value::AgentInfo => {
            if let Some(h) = &a.host {
                let extra = |o: &mut String| {
                    label(o, "hostname", &h.hostname);
                    label(o, "os_release", &h.os_release);
                };
                series(out, m.name, labels, extra, 1.0);
            }
        }
        _ => {}
    }
}

/// The series of a per-source metric (the source's own, its traffic
/// classes' or its BSSes') for source `s`, labelled `labels`.
fn source_series(out: &mut String, m: &Metric, labels: &str, s: &Source) {
    match &m.value {
        Value::Source(f) => {
            if let Some(v) = f(s) {
                series(out, m.name, labels, |_| {}, v);
            }
        }
        Value::Traffic(f) => {
            for t in &s.traffic {
                let extra = |o: &mut String| {
                    label(o, "direction", t.direction.label());
                    label_mac(o, "bssid", t.bssid.as_ref());
                    label_ssid(o, &t.ssid);
                };
                series(out, m.name, labels, extra, f(t));
            }
        }
        Value::Bss => {
            for b in &s.bsses {
                series(out, m.name, labels, |o| bss_labels(o, b), 1.0);
            }
        }
        _ => {}
    }
}

/// The series of a per-station metric for station `k`, labelled `labels`
/// (its agent and ifindex).
fn station_series(out: &mut String, m: &Metric, labels: &str, k: &StationKey, st: &StationSeries) {
    match &m.value {
        Value::Station(f) => {
            if let Some(v) = f(st) {
                series(out, m.name, labels, |o| station_labels(o, k, st), v);
            }
        }
        Value::StationDirection(f) => {
            for (d, direction) in ["rx", "tx"].into_iter().enumerate() {
                if let Some(v) = f(st, d) {
                    let extra = |o: &mut String| {
                        station_labels(o, k, st);
                        label(o, "direction", direction);
                    };
                    series(out, m.name, labels, extra, v);
                }
            }
        }
        _ => {}
    }
}

/// Renders a snapshot into a string (see [`render_to`]).
pub fn render(snapshot: &mut Snapshot, openmetrics: bool) -> String {
    let mut out = Vec::new();
    render_to(snapshot, openmetrics, &mut out).expect("writing to a Vec");
    String::from_utf8(out).expect("UTF-8 exposition")
}

/// Text is handed to the sink in pieces of about this size.
const CHUNK_BYTES: usize = 64 * 1024;

/// Hands `out` to `sink` once it holds a chunk.
fn spill(out: &mut String, sink: &mut impl io::Write) -> io::Result<()> {
    if out.len() >= CHUNK_BYTES {
        sink.write_all(out.as_bytes())?;
        out.clear();
    }
    Ok(())
}

/// Renders a snapshot (sorted here, off the receive path) into `sink`, a
/// chunk at a time: a scrape of a thousand agents is megabytes of text
/// that need not be held at once.
pub fn render_to(
    snapshot: &mut Snapshot,
    openmetrics: bool,
    sink: &mut impl io::Write,
) -> io::Result<()> {
    snapshot.agents.sort_unstable_by_key(|(k, _)| *k);
    snapshot.stations.sort_unstable_by_key(|(k, _)| *k);
    let agent_labels: Vec<Labels> = snapshot
        .agents
        .iter()
        .map(|(k, _)| labels_of(k.address, k.sub_agent))
        .collect();
    let station_agent_labels: Vec<Labels> = snapshot
        .stations
        .iter()
        .map(|(k, _)| labels_of(k.agent.address, k.agent.sub_agent))
        .collect();
    let mut out = String::with_capacity(CHUNK_BYTES + 4096);
    let mut scratch = String::new();
    for m in METRICS {
        if m.per_station() && !snapshot.limits.station_series {
            continue;
        }
        let family = m.family(openmetrics);
        // The text format has no info type: an info metric is a gauge.
        let kind = match (m.kind, openmetrics) {
            (Kind::Info, false) => Kind::Gauge.name(),
            (kind, _) => kind.name(),
        };
        let _ = write!(out, "# HELP {family} ");
        push_escaped(&mut out, m.help, openmetrics);
        out.push('\n');
        let _ = writeln!(out, "# TYPE {family} {kind}");
        match m.scope() {
            Scope::Collector | Scope::CollectorDropped => {
                collector_series(&mut out, m, snapshot);
            }
            Scope::Agent | Scope::AgentInfo => {
                for ((_, a), l) in snapshot.agents.iter().zip(&agent_labels) {
                    agent_series(&mut out, m, &l.agent, a);
                    spill(&mut out, sink)?;
                }
            }
            Scope::Source | Scope::Traffic | Scope::Bss => {
                for ((_, a), l) in snapshot.agents.iter().zip(&agent_labels) {
                    for s in &a.sources {
                        let labels = with_if_index(&mut scratch, l, s.if_index);
                        source_series(&mut out, m, labels, s);
                    }
                    spill(&mut out, sink)?;
                }
            }
            Scope::Station | Scope::StationDirection => {
                for ((k, st), l) in snapshot.stations.iter().zip(&station_agent_labels) {
                    let labels = with_if_index(&mut scratch, l, k.if_index);
                    station_series(&mut out, m, labels, k, st);
                    spill(&mut out, sink)?;
                }
            }
        }
    }
    if openmetrics {
        out.push_str("# EOF\n");
    }
    sink.write_all(out.as_bytes())
}

/// Whether an `Accept` header prefers OpenMetrics to the text format (as
/// Prometheus' does: `application/openmetrics-text;version=1.0.0,...,
/// text/plain;version=0.0.4;q=0.5,*/*;q=0.1`).
pub fn prefers_openmetrics(accept: &str) -> bool {
    let mut openmetrics = -1.0f32;
    let mut text = -1.0f32;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut q = 1.0f32;
        let mut version = None;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "q" => q = v.trim().parse().unwrap_or(0.0),
                    "version" => version = Some(v.trim().to_string()),
                    _ => {}
                }
            }
        }
        match media.as_str() {
            // We speak OpenMetrics 1.0.0 (0.0.1 is its draft, the same text).
            "application/openmetrics-text"
                if version
                    .as_deref()
                    .is_none_or(|v| v == "1.0.0" || v == "0.0.1") =>
            {
                openmetrics = openmetrics.max(q)
            }
            "text/plain" | "text/*" | "*/*" => text = text.max(q),
            _ => {}
        }
    }
    openmetrics > 0.0 && openmetrics >= text
}

#[cfg(test)]
mod tests {
    use super::super::fleet::{Fleet, Limits, Now};
    use super::super::testing::{datagram, ethernet_header, flow, rx_record, AP, STA};
    use super::*;
    use crate::sflow::*;

    fn fleet(station_series: bool) -> Snapshot {
        let mut f = Fleet::new(Limits {
            station_series,
            ..Limits::default()
        });
        let records = [
            ethernet_header(AP, STA, 100),
            FlowRecord::Extended80211Rx(Extended80211Rx {
                ssid: b"caf\xc3\xa9 \"x\"\\",
                ..match rx_record(AP, 106) {
                    FlowRecord::Extended80211Rx(r) => r,
                    _ => unreachable!(),
                }
            }),
        ];
        let mut dot11 = Ieee80211Counters::UNAVAILABLE;
        dot11.associated_station_count = 2;
        dot11.failed_count = 7;
        let counter_records = [CounterRecord::Ieee80211(dot11)];
        let host = [CounterRecord::HostDescr(HostDescr {
            hostname: b"ap-1",
            uuid: [0; 16],
            machine_type: 0,
            os_name: 2,
            os_release: b"6.6",
        })];
        let samples = [
            flow(3, 1, 10, 10, &records),
            Sample::Counters(
                SampleForm::Compact,
                CountersSample {
                    sequence_number: 1,
                    source: DataSource::interface(3),
                    records: List::Items(&counter_records),
                },
            ),
            Sample::Counters(
                SampleForm::Compact,
                CountersSample {
                    sequence_number: 1,
                    source: DataSource::HOST,
                    records: List::Items(&host),
                },
            ),
        ];
        let now = Now {
            mono_ms: 1000,
            unix_ms: 1_700_000_000_500,
        };
        f.datagram(&datagram(1, 1, 5000, &samples), now).unwrap();
        f.snapshot(now, Some(4))
    }

    #[test]
    fn prometheus_text() {
        let text = render(&mut fleet(false), false);
        for line in [
            "# HELP wsflowd_collector_datagrams_total sFlow datagrams received.",
            "# TYPE wsflowd_collector_datagrams_total counter",
            "wsflowd_collector_datagrams_total 1",
            "wsflowd_collector_socket_drops_total 4",
            "wsflowd_collector_dropped_total{what=\"stations\"} 0",
            "# TYPE wsflowd_agent_info gauge",
            "wsflowd_agent_info{agent=\"10.0.0.1\",sub_agent=\"0\",hostname=\"ap-1\",os_release=\"6.6\"} 1",
            "wsflowd_agent_uptime_seconds{agent=\"10.0.0.1\",sub_agent=\"0\"} 5",
            "wsflowd_agent_last_datagram_timestamp_seconds{agent=\"10.0.0.1\",sub_agent=\"0\"} 1700000000.5",
            "wsflowd_dot11_associated_stations{agent=\"10.0.0.1\",sub_agent=\"0\",ifindex=\"3\"} 2",
            "wsflowd_dot11_failed_frames_total{agent=\"10.0.0.1\",sub_agent=\"0\",ifindex=\"3\"} 7",
            "wsflowd_bss_info{agent=\"10.0.0.1\",sub_agent=\"0\",ifindex=\"3\",bssid=\"02:00:00:00:00:a1\",ssid=\"café \\\"x\\\"\\\\\",channel=\"36\"} 1",
            "wsflowd_traffic_packets_total{agent=\"10.0.0.1\",sub_agent=\"0\",ifindex=\"3\",direction=\"rx\",bssid=\"02:00:00:00:00:a1\",ssid=\"café \\\"x\\\"\\\\\"} 10",
            "wsflowd_traffic_bytes_total{agent=\"10.0.0.1\",sub_agent=\"0\",ifindex=\"3\",direction=\"rx\",bssid=\"02:00:00:00:00:a1\",ssid=\"café \\\"x\\\"\\\\\"} 1000",
            "wsflowd_sampling_rate{agent=\"10.0.0.1\",sub_agent=\"0\",ifindex=\"3\"} 10",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        // Unavailable counters have no series; no station series unless asked.
        assert!(!text.contains("wsflowd_dot11_retried_frames_total{"));
        assert!(!text.contains("wsflowd_station_"));
        assert!(!text.contains("# EOF"));
        // Every family's samples follow its own TYPE line.
        let mut family = "";
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                family = rest.split(' ').next().unwrap();
            } else if !line.starts_with('#') {
                assert!(line.starts_with(family), "{line} outside {family}");
            }
        }
    }

    #[test]
    fn openmetrics() {
        let text = render(&mut fleet(true), true);
        for line in [
            "# TYPE wsflowd_collector_datagrams counter",
            "# HELP wsflowd_collector_datagrams sFlow datagrams received.",
            "wsflowd_collector_datagrams_total 1",
            "# TYPE wsflowd_agent info",
            "wsflowd_agent_info{agent=\"10.0.0.1\",sub_agent=\"0\",hostname=\"ap-1\",os_release=\"6.6\"} 1",
            "# TYPE wsflowd_station_signal_dbm gauge",
            "wsflowd_station_signal_dbm{agent=\"10.0.0.1\",sub_agent=\"0\",ifindex=\"3\",bssid=\"02:00:00:00:00:a1\",ssid=\"café \\\"x\\\"\\\\\",station=\"02:00:00:00:00:51\"} -57",
            "wsflowd_station_packets_total{agent=\"10.0.0.1\",sub_agent=\"0\",ifindex=\"3\",bssid=\"02:00:00:00:00:a1\",ssid=\"café \\\"x\\\"\\\\\",station=\"02:00:00:00:00:51\",direction=\"rx\"} 10",
            "wsflowd_station_phy_rate_bytes_per_second{agent=\"10.0.0.1\",sub_agent=\"0\",ifindex=\"3\",bssid=\"02:00:00:00:00:a1\",ssid=\"café \\\"x\\\"\\\\\",station=\"02:00:00:00:00:51\",direction=\"rx\"} 18050000",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        assert!(
            text.contains("\\\"agents\\\""),
            "quotes escaped in OpenMetrics HELP"
        );
        assert!(text.ends_with("\n# EOF\n"));
    }

    #[test]
    fn names_follow_the_conventions() {
        let mut names = std::collections::BTreeSet::new();
        for m in METRICS {
            assert!(names.insert(m.name), "{} twice", m.name);
            assert!(m.name.starts_with("wsflowd_"));
            assert!(m
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
            assert_eq!(
                m.kind == Kind::Counter,
                m.name.ends_with("_total"),
                "{}",
                m.name
            );
            assert_eq!(
                m.kind == Kind::Info,
                m.name.ends_with("_info"),
                "{}",
                m.name
            );
            assert!(!m.help.is_empty());
            for unit in ["_milliseconds", "_ms", "_kbit", "_mbit", "_percent"] {
                assert!(!m.name.contains(unit), "{}: base units", m.name);
            }
        }
        let help = help_text();
        assert!(METRICS.iter().all(|m| help.contains(m.name)));
    }

    #[test]
    fn every_metric_is_documented() {
        let doc = include_str!("../../docs/collect.md");
        for m in METRICS {
            assert!(
                doc.contains(&format!("`{}`", m.name)),
                "docs/collect.md lacks {}",
                m.name
            );
        }
    }
}
