//! tshark, an independent sFlow decoder, reads the same capture as our
//! decoder: every value listed here must be the same in both, datagram by
//! datagram, in order.
//!
//! `-T fields -E occurrence=a` lists every occurrence of a field in a
//! frame, in order, so each field is compared as the sequence of its
//! values across the datagram's samples (a record present in some samples
//! only still lines up). tshark 4.0 shows `extended_80211_tx.transmissions`
//! minus one as "retransmissions" (and nothing useful for 0, unknown), and
//! the `sampled_header` bytes with their XDR padding.

use std::path::Path;
use std::process::Command;

use super::observed::{fmt_mac, Sflow};

/// Our value of each compared field, per datagram, in order.
fn ours(s: &Sflow, field: &str) -> Vec<Vec<String>> {
    let mut v: Vec<Vec<String>> = vec![Vec::new(); s.datagrams];
    let iface = |i: &wsflowd::sflow::Interface| (i.format << 30 | i.value).to_string();
    for f in &s.flows {
        let d = &mut v[f.datagram];
        let push = |d: &mut Vec<String>, x: String| d.push(x);
        match field {
            "sflow.flow_sample.sequence_number" => push(d, f.sequence.to_string()),
            "sflow.flow_sample.index" => push(d, f.source.to_string()),
            "sflow.flow_sample.sampling_rate" => push(d, f.rate.to_string()),
            "sflow.flow_sample.sample_pool" => push(d, f.pool.to_string()),
            "sflow.flow_sample.dropped_packets" => push(d, f.drops.to_string()),
            "sflow.flow_sample.input_interface" => push(d, iface(&f.input)),
            "sflow.flow_sample.output_interface" => push(d, iface(&f.output)),
            "sflow_245.header_protocol" => push(d, f.protocol.to_string()),
            "sflow_245.header.frame_length" => push(d, f.frame_length.to_string()),
            "sflow_245.header.payload_stripped" => push(d, f.stripped.to_string()),
            "sflow_245.header" => push(d, f.header.iter().map(|b| format!("{b:02x}")).collect()),
            _ => {}
        }
        if let Some(x) = &f.rx {
            match field {
                "sflow_5.extended_80211.rx.ssid" => {
                    push(d, String::from_utf8_lossy(&x.ssid).into())
                }
                "sflow_5.extended_80211.rx.bssid" => push(d, fmt_mac(&x.bssid)),
                "sflow_5.extended_80211.rx.version" => push(d, x.version.to_string()),
                "sflow_5.extended_80211.rx.channel" => push(d, x.channel.to_string()),
                "sflow_5.extended_80211.rx.speed" => push(d, x.speed.to_string()),
                "sflow_5.extended_80211.rx.rsni" => push(d, x.rsni.to_string()),
                "sflow_5.extended_80211.rx.rcpi" => push(d, x.rcpi.to_string()),
                "sflow_5.extended_80211.rx.packet_duration" => {
                    push(d, x.packet_duration.to_string())
                }
                _ => {}
            }
        }
        if let Some(x) = &f.tx {
            match field {
                "sflow_5.extended_80211.tx.ssid" => {
                    push(d, String::from_utf8_lossy(&x.ssid).into())
                }
                "sflow_5.extended_80211.tx.bssid" => push(d, fmt_mac(&x.bssid)),
                "sflow_5.extended_80211.tx.version" => push(d, x.version.to_string()),
                "sflow_5.extended_80211.tx.packet_duration" => {
                    push(d, x.packet_duration.to_string())
                }
                "sflow_5.extended_80211.tx.retransmission_duration" => {
                    push(d, x.retrans_duration.to_string())
                }
                "sflow_5.extended_80211.tx.channel" => push(d, x.channel.to_string()),
                "sflow_5.extended_80211.tx.speed" => push(d, x.speed.to_string()),
                "sflow_5.extended_80211.tx.power" => push(d, x.power.to_string()),
                _ => {}
            }
        }
    }
    for c in &s.counters {
        let d = &mut v[c.datagram];
        match field {
            "sflow.counters_sample.sequence_number" => d.push(c.sequence.to_string()),
            "sflow.counters_sample.source_id_index" => d.push(c.source.to_string()),
            _ => {}
        }
        if let Some(i) = &c.ifc {
            if field == "sflow_245.ifindex" {
                d.push(i.if_index.to_string());
            }
        }
        if let Some(x) = &c.dot11 {
            let value = match field {
                "sflow_5.dot11TransmittedFragmentCount" => Some(x.transmitted_fragment_count),
                "sflow_5.dot11MulticastTransmittedFrameCount" => {
                    Some(x.multicast_transmitted_frame_count)
                }
                "sflow_5.dot11FailedCount" => Some(x.failed_count),
                "sflow_5.dot11RetryCount" => Some(x.retry_count),
                "sflow_5.dot11FrameDuplicateCount" => Some(x.frame_duplicate_count),
                "sflow_5.dot11ACKFailureCount" => Some(x.ack_failure_count),
                "sflow_5.dot11FCSErrorCount" => Some(x.fcs_error_count),
                "sflow_5.dot11TransmittedFrameCount" => Some(x.transmitted_frame_count),
                "sflow_5.dot11AssociatedStationCount" => Some(x.associated_station_count),
                _ => None,
            };
            if let Some(value) = value {
                d.push(value.to_string());
            }
        }
        if let Some(r) = &c.radio {
            match field {
                "sflow_5.elapsed_time" => d.push(r.elapsed_time.to_string()),
                "sflow_5.on_channel_time" => d.push(r.on_channel_time.to_string()),
                "sflow_5.channel_busy_time" => d.push(r.on_channel_busy_time.to_string()),
                _ => {}
            }
        }
    }
    v
}

const FIELDS: &[&str] = &[
    "sflow_245.sysuptime",
    "sflow.flow_sample.sequence_number",
    "sflow.flow_sample.index",
    "sflow.flow_sample.sampling_rate",
    "sflow.flow_sample.sample_pool",
    "sflow.flow_sample.dropped_packets",
    "sflow.flow_sample.input_interface",
    "sflow.flow_sample.output_interface",
    "sflow_245.header_protocol",
    "sflow_245.header.frame_length",
    "sflow_245.header.payload_stripped",
    "sflow_245.header",
    "sflow_5.extended_80211.rx.ssid",
    "sflow_5.extended_80211.rx.bssid",
    "sflow_5.extended_80211.rx.version",
    "sflow_5.extended_80211.rx.channel",
    "sflow_5.extended_80211.rx.speed",
    "sflow_5.extended_80211.rx.rsni",
    "sflow_5.extended_80211.rx.rcpi",
    "sflow_5.extended_80211.rx.packet_duration",
    "sflow_5.extended_80211.tx.ssid",
    "sflow_5.extended_80211.tx.bssid",
    "sflow_5.extended_80211.tx.version",
    "sflow_5.extended_80211.tx.packet_duration",
    "sflow_5.extended_80211.tx.retransmission_duration",
    "sflow_5.extended_80211.tx.channel",
    "sflow_5.extended_80211.tx.speed",
    "sflow_5.extended_80211.tx.power",
    "sflow.counters_sample.sequence_number",
    "sflow.counters_sample.source_id_index",
    "sflow_245.ifindex",
    "sflow_5.dot11TransmittedFragmentCount",
    "sflow_5.dot11MulticastTransmittedFrameCount",
    "sflow_5.dot11FailedCount",
    "sflow_5.dot11RetryCount",
    "sflow_5.dot11FrameDuplicateCount",
    "sflow_5.dot11ACKFailureCount",
    "sflow_5.dot11FCSErrorCount",
    "sflow_5.dot11TransmittedFrameCount",
    "sflow_5.dot11AssociatedStationCount",
    "sflow_5.elapsed_time",
    "sflow_5.on_channel_time",
    "sflow_5.channel_busy_time",
];

fn normalise(field: &str, value: &str) -> String {
    let v = value.trim();
    if field == "sflow_245.header" {
        return v.replace(':', "");
    }
    if field.ends_with("_interface") {
        if let Some(hex) = v.strip_prefix("0x") {
            return u32::from_str_radix(hex, 16).map_or(v.to_string(), |n| n.to_string());
        }
    }
    v.to_string()
}

/// The values of one field in one of tshark's cells (occurrences joined
/// by `|`), normalised.
fn occurrences(field: &str, cell: &str) -> Vec<String> {
    if cell.is_empty() {
        return Vec::new();
    }
    cell.split('|').map(|v| normalise(field, v)).collect()
}

/// Whether tshark's cell for a field of one datagram shows our values.
fn cell_agrees(field: &str, cell: &str, mine: &[String]) -> bool {
    let theirs = occurrences(field, cell);
    if field == "sflow_245.header" {
        // tshark shows the XDR padding too.
        return theirs.len() == mine.len()
            && theirs
                .iter()
                .zip(mine)
                .all(|(t, m)| t.starts_with(m.as_str()));
    }
    // An empty cell is either no occurrence or one empty value (the
    // wildcard SSID of a probe request): tshark's text cannot tell them
    // apart.
    theirs == mine || (cell.is_empty() && matches!(mine, [only] if only.is_empty()))
}

/// Runs tshark on `pcap` (sFlow on UDP ports 6343-6349) and compares
/// every field above with our decoding. Returns (values compared,
/// problems).
pub fn compare(pcap: &Path, s: &Sflow) -> (usize, Vec<String>) {
    let config = std::env::temp_dir().join(format!("wsflowd-vm-tshark-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&config);
    let mut cmd = Command::new("tshark");
    cmd.env("WIRESHARK_CONFIG_DIR", &config)
        .args(["-n", "-r"])
        .arg(pcap);
    for port in 6343..=6349 {
        cmd.args(["-d", &format!("udp.port=={port},sflow")]);
    }
    cmd.args([
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=|",
        "-E",
        "separator=/t",
    ]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = match cmd.output() {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            return (
                0,
                vec![format!(
                    "tshark failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                )],
            )
        }
        Err(e) => return (0, vec![format!("cannot run tshark: {e}")]),
    };
    let _ = std::fs::remove_dir_all(&config);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let mut problems = Vec::new();
    if lines.len() != s.datagrams {
        problems.push(format!(
            "tshark shows {} frames, our decoder {} datagrams",
            lines.len(),
            s.datagrams
        ));
        return (0, problems);
    }
    let mut compared = 0;
    for (i, field) in FIELDS.iter().enumerate() {
        let mine = if *field == "sflow_245.sysuptime" {
            s.headers
                .iter()
                .map(|(_, up)| vec![up.to_string()])
                .collect()
        } else {
            ours(s, field)
        };
        for (n, line) in lines.iter().enumerate() {
            let cell = line.split('\t').nth(i).unwrap_or("");
            let mine = &mine[n];
            if cell_agrees(field, cell, mine) {
                compared += mine.len();
            } else {
                let theirs = occurrences(field, cell);
                problems.push(format!(
                    "datagram {n}, {field}: tshark {theirs:?}, our decoder {mine:?}"
                ));
                if problems.len() > 20 {
                    return (compared, problems);
                }
            }
        }
    }
    (compared, problems)
}

#[test]
fn an_empty_cell_is_no_value_or_one_empty_value() {
    let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let ssid = "sflow_5.extended_80211.rx.ssid";
    assert!(cell_agrees(ssid, "", &v(&[])));
    assert!(cell_agrees(ssid, "", &v(&[""])));
    assert!(cell_agrees(ssid, "|wsf-n", &v(&["", "wsf-n"])));
    assert!(!cell_agrees(ssid, "", &v(&["", ""])));
    assert!(!cell_agrees(ssid, "", &v(&["wsf-n"])));
    assert!(!cell_agrees(ssid, "wsf-n", &v(&[""])));
    let header = "sflow_245.header";
    assert!(cell_agrees(header, "aa:bb:00:00", &v(&["aabb"])));
    assert!(!cell_agrees(header, "aa:bc:00:00", &v(&["aabb"])));
}
