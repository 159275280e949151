//! Interoperability with Wireshark: the datagrams of `interop/mod.rs`, built
//! with our encoder, are written into a pcap file, dissected by tshark and
//! every value tshark shows is compared with the value we encoded. A value
//! shown in the sFlow tree that no check compared fails the test too, as
//! does any `_ws.malformed` or `_ws.expert` item (any severity).
//!
//! tshark 4.0 quirks taken into account (see `../shared/NOTES.md`):
//! - `extended_80211_tx.transmissions` is shown as "retransmissions",
//!   i.e. `transmissions - 1`; durations are labelled "(ms)" though the
//!   specification says microseconds (the values are shown unchanged).
//! - `extended_80211_payload` (1013) is shown as OUI + suite type + opaque.
//! - The bytes of a `sampled_header` are shown with their XDR padding.
//! - `extended_80211_aggregation` (1016) is not dissected, and the dissector
//!   consumes none of its bytes (`dissect_sflow_5_extended_80211_aggregation`
//!   returns the offset it was given), so a record after it in the same
//!   sample would be misread: the test datagram puts it last in its sample
//!   and checks the records before it and the next sample.
//! - No host structures (2000+): they are checked against sflow-parser in
//!   `interop_sflow_parser.rs`.
//!
//! When tshark is not installed the test is skipped, unless
//! `WSFLOWD_REQUIRE_TOOLS=1` (then it fails).

mod common;
mod interop;

use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use wsflowd::pcap::{ethernet_ipv4_udp, link_type, PcapWriter};
use wsflowd::sflow::{Interface, SampleForm};

use interop::{
    counter_data_len, datagram_len, ethernet_frame, flow_data_len, pad4, sample_data_len,
    wlanmon_data_frame, Case, Counter, DatagramM, Flow, SampleM,
};

const TSHARK: &str = "tshark";

/// Runs tshark on `file` with an empty configuration directory (so that no
/// user preference changes the dissection) and returns its standard output.
fn tshark(config: &Path, file: &Path, args: &[&str]) -> String {
    let out = Command::new(TSHARK)
        .env("WIRESHARK_CONFIG_DIR", config)
        .arg("-n")
        .arg("-r")
        .arg(file)
        .args(["-d", "udp.port==6343,sflow"])
        .args(args)
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark prints UTF-8")
}

/// `-T json --no-duplicate-keys` (duplicate keys in an object are merged
/// into one key whose value is an array, in order): one value per frame.
fn tshark_json(config: &Path, file: &Path) -> Vec<Value> {
    let text = tshark(config, file, &["-T", "json", "--no-duplicate-keys"]);
    match serde_json::from_str(&text).expect("tshark prints JSON") {
        Value::Array(frames) => frames,
        other => panic!("tshark JSON is not an array: {other}"),
    }
}

fn layers(frame: &Value) -> &Value {
    &frame["_source"]["layers"]
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Every key under `v` (at any depth) that starts with `prefix`.
fn keys_with_prefix(v: &Value, prefix: &str, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = format!("{path}/{k}");
                if k.starts_with(prefix) {
                    out.push(format!("{p} = {child}"));
                }
                keys_with_prefix(child, prefix, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                keys_with_prefix(child, prefix, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The `n`-th value of `key` in `obj`: with `--no-duplicate-keys` a key that
/// tshark shows more than once in a tree becomes an array.
fn nth<'a>(obj: &'a Value, key: &str, n: usize) -> Option<&'a Value> {
    match obj.get(key)? {
        Value::Array(items) => items.get(n),
        v if n == 0 => Some(v),
        _ => None,
    }
}

/// Number of leaves (shown values) of a JSON tree.
fn leaves(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.values().map(leaves).sum(),
        Value::Array(a) => a.iter().map(leaves).sum(),
        _ => 1,
    }
}

/// Collects comparisons: every field compared is counted, every mismatch is
/// kept with its context, and the test fails at the end listing them all.
#[derive(Default)]
struct Checker {
    fields: usize,
    errors: Vec<String>,
    /// The (object, key) pairs compared, to find values tshark shows that
    /// no check looked at.
    compared: HashSet<(usize, String)>,
}

impl Checker {
    /// Compares the value tshark shows for `field` in `obj` with `expected`.
    fn field(&mut self, ctx: &str, obj: &Value, field: &str, expected: impl Display) {
        self.fields += 1;
        self.compared
            .insert((obj as *const Value as usize, field.to_string()));
        let expected = expected.to_string();
        match obj.get(field) {
            Some(Value::String(shown)) if *shown == expected => {}
            Some(Value::String(shown)) => self.errors.push(format!(
                "{ctx}: {field}: expected {expected}, tshark shows {shown}"
            )),
            Some(other) => self.errors.push(format!(
                "{ctx}: {field}: expected {expected}, tshark shows {other}"
            )),
            None => self.errors.push(format!(
                "{ctx}: {field}: expected {expected}, tshark does not show the field"
            )),
        }
    }

    fn fail(&mut self, message: String) {
        self.errors.push(message);
    }

    /// Fails for every value shown in the sFlow tree `obj` that was not
    /// compared (the protocols dissected inside sampled headers excepted:
    /// they are checked on their own).
    fn all_compared(&mut self, ctx: &str, obj: &Value) {
        let Value::Object(map) = obj else { return };
        for (k, v) in map {
            match v {
                _ if k == "sflow_245.header_tree" => {}
                Value::Object(_) => self.all_compared(ctx, v),
                Value::Array(items) => {
                    for item in items {
                        if item.is_object() {
                            self.all_compared(ctx, item);
                        } else {
                            self.fail(format!("{ctx}: {k} = {item} shown but not compared"));
                        }
                    }
                }
                _ => {
                    if !self
                        .compared
                        .contains(&(obj as *const Value as usize, k.clone()))
                    {
                        self.fail(format!("{ctx}: {k} = {v} shown but not compared"));
                    }
                }
            }
        }
    }

    /// Compares two trees tshark produced for the same bytes.
    fn same_tree(&mut self, ctx: &str, name: &str, ours: Option<&Value>, original: Option<&Value>) {
        match (ours, original) {
            (Some(a), Some(b)) => {
                self.fields += leaves(b);
                if a != b {
                    self.fail(format!(
                        "{ctx}: {name}: tshark's dissection of our sampled header differs \
                         from its dissection of the original frame:\n  ours:     {a}\n  original: {b}"
                    ));
                }
            }
            (None, _) => self.fail(format!("{ctx}: {name}: missing in our sampled header")),
            (_, None) => self.fail(format!("{ctx}: {name}: missing in the original frame")),
        }
    }
}

fn sample_label(s: &SampleM, form: SampleForm) -> String {
    let (kind, seq) = match s {
        SampleM::Flow(f) => ("flow sample", f.sequence_number),
        SampleM::Counters(c) => ("counters sample", c.sequence_number),
    };
    match form {
        SampleForm::Compact => {
            let mut k = kind.to_string();
            k[..1].make_ascii_uppercase();
            format!("{k}, seq {seq}")
        }
        SampleForm::Expanded => format!("Expanded {kind}, seq {seq}"),
    }
}

fn sample_type(s: &SampleM, form: SampleForm) -> u32 {
    match (s, form) {
        (SampleM::Flow(_), SampleForm::Compact) => 1,
        (SampleM::Counters(_), SampleForm::Compact) => 2,
        (SampleM::Flow(_), SampleForm::Expanded) => 3,
        (SampleM::Counters(_), SampleForm::Expanded) => 4,
    }
}

fn flow_label(f: &Flow) -> &'static str {
    match f {
        Flow::Header(_) => "Raw packet header",
        Flow::Payload(_) => "Extended 802.11 payload",
        Flow::Rx(_) => "Extended 802.11 RX",
        Flow::Tx(_) => "Extended 802.11 TX",
        Flow::Aggregation(_) => "Extended 802.11 aggregation",
    }
}

fn counter_label(c: &Counter) -> &'static str {
    match c {
        Counter::If(_) => "Generic interface counters",
        Counter::Ethernet(_) => "Ethernet interface counters",
        Counter::Ieee80211(_) => "IEEE 802.11 counters",
        Counter::Radio(_) => "Radio utilization",
        _ => panic!("tshark 4.0 does not know the host structures"),
    }
}

/// What tshark showed for the 802.11 frame in the original capture.
struct Original80211<'a> {
    frame: &'a [u8],
    layers: &'a Value,
}

fn check_datagram(c: &mut Checker, ctx: &str, d: &DatagramM, sflow: &Value, orig: &Original80211) {
    c.field(ctx, sflow, "sflow_245.version", 5);
    match d.agent {
        IpAddr::V4(a) => {
            c.field(ctx, sflow, "sflow_245.agenttype", 1);
            c.field(ctx, sflow, "sflow_245.agent", a);
        }
        IpAddr::V6(a) => {
            c.field(ctx, sflow, "sflow_245.agenttype", 2);
            c.field(ctx, sflow, "sflow_245.agent.v6", a);
        }
    }
    c.field(ctx, sflow, "sflow_245.sub_agent_id", d.sub_agent_id);
    c.field(ctx, sflow, "sflow_245.sequence_number", d.sequence_number);
    c.field(ctx, sflow, "sflow_245.sysuptime", d.uptime);
    c.field(ctx, sflow, "sflow_245.numsamples", d.samples.len());

    let mut seen: HashMap<String, usize> = HashMap::new();
    for s in &d.samples {
        let label = sample_label(s, d.form);
        let n = seen.entry(label.clone()).or_default();
        let Some(obj) = nth(sflow, &label, *n) else {
            c.fail(format!(
                "{ctx}: no \"{label}\" (occurrence {}) in tshark's tree",
                *n + 1
            ));
            continue;
        };
        *n += 1;
        let ctx = format!("{ctx}, {label}");
        c.field(&ctx, obj, "sflow.enterprise", 0);
        c.field(&ctx, obj, "sflow_245.sampletype", sample_type(s, d.form));
        c.field(
            &ctx,
            obj,
            "sflow_5.sample_length",
            sample_data_len(s, d.form),
        );
        match s {
            SampleM::Flow(f) => {
                check_flow_sample_header(c, &ctx, d.form, f, obj);
                let mut seen: HashMap<&str, usize> = HashMap::new();
                for r in &f.records {
                    let label = flow_label(r);
                    let n = seen.entry(label).or_default();
                    let Some(rec) = nth(obj, label, *n) else {
                        c.fail(format!(
                            "{ctx}: no \"{label}\" (occurrence {}) in tshark's tree",
                            *n + 1
                        ));
                        continue;
                    };
                    *n += 1;
                    let ctx = format!("{ctx}, {label} #{n}");
                    check_flow_record(c, &ctx, r, rec, orig);
                }
            }
            SampleM::Counters(cs) => {
                c.field(
                    &ctx,
                    obj,
                    "sflow.counters_sample.sequence_number",
                    cs.sequence_number,
                );
                c.field(
                    &ctx,
                    obj,
                    "sflow.counters_sample.source_id_type",
                    cs.source.kind,
                );
                c.field(
                    &ctx,
                    obj,
                    "sflow.counters_sample.source_id_index",
                    cs.source.index,
                );
                c.field(
                    &ctx,
                    obj,
                    "sflow.counters_sample.counters_records",
                    cs.records.len(),
                );
                let mut seen: HashMap<&str, usize> = HashMap::new();
                for r in &cs.records {
                    let label = counter_label(r);
                    let n = seen.entry(label).or_default();
                    let Some(rec) = nth(obj, label, *n) else {
                        c.fail(format!(
                            "{ctx}: no \"{label}\" (occurrence {}) in tshark's tree",
                            *n + 1
                        ));
                        continue;
                    };
                    *n += 1;
                    let ctx = format!("{ctx}, {label} #{n}");
                    check_counter_record(c, &ctx, r, rec);
                }
            }
        }
    }
}

fn compact_interface(i: Interface) -> u32 {
    i.format << 30 | i.value
}

fn check_flow_sample_header(
    c: &mut Checker,
    ctx: &str,
    form: SampleForm,
    f: &interop::FlowSampleM,
    obj: &Value,
) {
    c.field(
        ctx,
        obj,
        "sflow.flow_sample.sequence_number",
        f.sequence_number,
    );
    match form {
        SampleForm::Compact => {
            c.field(ctx, obj, "sflow.flow_sample.source_id_class", f.source.kind);
            c.field(ctx, obj, "sflow.flow_sample.index", f.source.index);
        }
        SampleForm::Expanded => {
            c.field(ctx, obj, "sflow.flow_sample.source_id_type", f.source.kind);
            c.field(
                ctx,
                obj,
                "sflow.flow_sample.source_id_index",
                f.source.index,
            );
        }
    }
    c.field(ctx, obj, "sflow.flow_sample.sampling_rate", f.sampling_rate);
    c.field(ctx, obj, "sflow.flow_sample.sample_pool", f.sample_pool);
    c.field(ctx, obj, "sflow.flow_sample.dropped_packets", f.drops);
    match form {
        SampleForm::Compact => {
            // The input is shown as the raw 32-bit value; the output as hex,
            // with its format (top two bits) and value in a subtree.
            c.field(
                ctx,
                obj,
                "sflow.flow_sample.input_interface",
                compact_interface(f.input),
            );
            c.field(
                ctx,
                obj,
                "sflow.flow_sample.output_interface",
                format!("0x{:08x}", compact_interface(f.output)),
            );
            let tree = &obj["sflow.flow_sample.output_interface_tree"];
            c.field(
                ctx,
                tree,
                "sflow.flow_sample.output_interface_format",
                f.output.format,
            );
            c.field(
                ctx,
                tree,
                "sflow.flow_sample.output_interface_value",
                f.output.value,
            );
        }
        SampleForm::Expanded => {
            c.field(
                ctx,
                obj,
                "sflow.flow_sample.input_interface_format",
                f.input.format,
            );
            c.field(
                ctx,
                obj,
                "sflow.flow_sample.input_interface_value",
                f.input.value,
            );
            c.field(
                ctx,
                obj,
                "sflow.flow_sample.output_interface.format",
                f.output.format,
            );
            c.field(
                ctx,
                obj,
                "sflow.flow_sample.output_interface_value",
                f.output.value,
            );
        }
    }
    c.field(ctx, obj, "sflow.flow_sample.flow_record", f.records.len());
}

fn check_flow_record(c: &mut Checker, ctx: &str, r: &Flow, rec: &Value, orig: &Original80211) {
    c.field(ctx, rec, "sflow.enterprise", 0);
    c.field(ctx, rec, "sflow_245.flow_record_format", r.format());
    c.field(ctx, rec, "sflow_5.flow_data_length", flow_data_len(r));
    match r {
        Flow::Header(h) => {
            c.field(ctx, rec, "sflow_245.header_protocol", h.protocol);
            c.field(ctx, rec, "sflow_245.header.frame_length", h.frame_length);
            c.field(ctx, rec, "sflow_245.header.payload_stripped", h.stripped);
            c.field(
                ctx,
                rec,
                "sflow_245.header.sampled_header_length",
                h.header.len(),
            );
            // tshark shows the header bytes with their XDR padding (it
            // rounds the length up to a multiple of four before adding the
            // item); the padding must be zeros.
            let mut padded = h.header.clone();
            padded.resize(pad4(h.header.len()), 0);
            c.field(ctx, rec, "sflow_245.header", hex(&padded));
            let tree = &rec["sflow_245.header_tree"];
            match h.protocol {
                1 => check_ethernet_header(c, ctx, &h.header, tree),
                15 => check_80211_header(c, ctx, &h.header, tree, orig),
                p => panic!("no check written for header protocol {p}"),
            }
        }
        Flow::Payload(p) => {
            c.field(
                ctx,
                rec,
                "sflow_5.extended_80211.oui",
                format!("0x{:06x}", p.cipher_suite >> 8),
            );
            c.field(
                ctx,
                rec,
                "sflow_5.extended_80211.suite_type",
                p.cipher_suite & 0xff,
            );
            c.field(
                ctx,
                rec,
                "sflow_5.extended_80211.payload_length",
                p.data.len(),
            );
            c.field(ctx, rec, "sflow_5.extended_80211.payload", hex(&p.data));
        }
        Flow::Rx(x) => {
            let f = |n: &str| format!("sflow_5.extended_80211.rx.{n}");
            c.field(
                ctx,
                rec,
                &f("ssid"),
                String::from_utf8(x.ssid.clone()).unwrap(),
            );
            c.field(ctx, rec, &f("bssid"), hex(&x.bssid));
            c.field(ctx, rec, &f("version"), x.version);
            c.field(ctx, rec, &f("channel"), x.channel);
            c.field(ctx, rec, &f("speed"), x.speed);
            c.field(ctx, rec, &f("rsni"), x.rsni);
            c.field(ctx, rec, &f("rcpi"), x.rcpi);
            // Labelled "(ms)" by tshark; the value is our microseconds.
            c.field(ctx, rec, &f("packet_duration"), x.packet_duration);
        }
        Flow::Tx(x) => {
            let f = |n: &str| format!("sflow_5.extended_80211.tx.{n}");
            c.field(
                ctx,
                rec,
                &f("ssid"),
                String::from_utf8(x.ssid.clone()).unwrap(),
            );
            c.field(ctx, rec, &f("bssid"), hex(&x.bssid));
            c.field(ctx, rec, &f("version"), x.version);
            // tshark shows transmissions - 1 as "Retransmissions".
            assert!(x.transmissions > 0, "tshark shows 0 as unknown");
            c.field(ctx, rec, &f("retransmissions"), x.transmissions - 1);
            c.field(ctx, rec, &f("packet_duration"), x.packet_duration);
            c.field(ctx, rec, &f("retransmission_duration"), x.retrans_duration);
            c.field(ctx, rec, &f("channel"), x.channel);
            c.field(ctx, rec, &f("speed"), x.speed);
            c.field(ctx, rec, &f("power"), x.power);
        }
        Flow::Aggregation(_) => {
            // Not dissected by tshark 4.0: format and length only (checked
            // above); the next sample shows that the datagram stays framed.
        }
    }
}

/// The Ethernet, IPv4 and UDP fields tshark dissects in a protocol-1 header.
fn check_ethernet_header(c: &mut Checker, ctx: &str, header: &[u8], tree: &Value) {
    let e = ethernet_frame();
    assert_eq!(
        header,
        &e.frame[..header.len()],
        "test datagrams sample ethernet_frame()"
    );
    let eth = &tree["eth"];
    c.field(ctx, eth, "eth.dst", hex(&e.dst_mac));
    c.field(ctx, eth, "eth.src", hex(&e.src_mac));
    c.field(ctx, eth, "eth.type", "0x0800");
    if header.len() < 14 + 20 + 8 {
        return;
    }
    let ip = &tree["ip"];
    c.field(ctx, ip, "ip.version", 4);
    c.field(ctx, ip, "ip.hdr_len", 20);
    c.field(ctx, ip, "ip.dsfield", format!("0x{:02x}", e.frame[15]));
    c.field(ctx, ip, "ip.len", 20 + 8 + e.udp_payload_len);
    c.field(
        ctx,
        ip,
        "ip.id",
        format!("0x{:02x}{:02x}", e.frame[18], e.frame[19]),
    );
    c.field(ctx, ip, "ip.flags", format!("0x{:02x}", e.frame[20] >> 5));
    c.field(ctx, ip, "ip.frag_offset", 0);
    c.field(ctx, ip, "ip.ttl", e.frame[22]);
    c.field(ctx, ip, "ip.proto", 17);
    c.field(
        ctx,
        ip,
        "ip.checksum",
        format!("0x{:02x}{:02x}", e.frame[24], e.frame[25]),
    );
    c.field(ctx, ip, "ip.src", e.src_ip);
    c.field(ctx, ip, "ip.dst", e.dst_ip);
    let udp = &tree["udp"];
    c.field(ctx, udp, "udp.srcport", e.src_port);
    c.field(ctx, udp, "udp.dstport", e.dst_port);
    c.field(ctx, udp, "udp.length", 8 + e.udp_payload_len);
    c.field(ctx, udp, "udp.checksum", "0x0000");
    c.field(ctx, udp, "udp.payload", hex(&header[14 + 20 + 8..]));
}

/// The 802.11 frame in a protocol-15 header must be dissected as tshark
/// dissects the same frame in the original capture.
fn check_80211_header(
    c: &mut Checker,
    ctx: &str,
    header: &[u8],
    tree: &Value,
    orig: &Original80211,
) {
    assert_eq!(
        header, orig.frame,
        "test datagrams sample the wlanmon frame whole"
    );
    let ours = &tree["wlan"];
    let theirs = &orig.layers["wlan"];
    for f in [
        "wlan.fc.type_subtype",
        "wlan.fc",
        "wlan.duration",
        "wlan.bssid",
        "wlan.sa",
        "wlan.da",
        "wlan.ta",
        "wlan.ra",
        "wlan.frag",
        "wlan.seq",
        "wlan.qos",
    ] {
        match theirs.get(f) {
            Some(Value::String(v)) => c.field(ctx, ours, f, v),
            _ => c.fail(format!("{ctx}: {f}: not shown for the original frame")),
        }
    }
    // Everything else of the 802.11 and LLC headers, as whole trees.
    c.same_tree(ctx, "wlan", Some(ours), Some(theirs));
    c.same_tree(ctx, "llc", tree.get("llc"), orig.layers.get("llc"));
    // The IPv4 and UDP headers inside (udp.stream differs between files).
    for (layer, fields) in [
        (
            "ip",
            &[
                "ip.src",
                "ip.dst",
                "ip.len",
                "ip.id",
                "ip.ttl",
                "ip.proto",
                "ip.checksum",
            ][..],
        ),
        (
            "udp",
            &["udp.srcport", "udp.dstport", "udp.length", "udp.checksum"][..],
        ),
    ] {
        for f in fields {
            match orig.layers[layer].get(*f) {
                Some(Value::String(v)) => c.field(ctx, &tree[layer], f, v),
                _ => c.fail(format!("{ctx}: {f}: not shown for the original frame")),
            }
        }
    }
}

fn check_counter_record(c: &mut Checker, ctx: &str, r: &Counter, rec: &Value) {
    c.field(ctx, rec, "sflow.enterprise", 0);
    c.field(ctx, rec, "sflow_245.counters_record_format", r.format());
    // tshark names the length of counter records like that of flow records.
    c.field(ctx, rec, "sflow_5.flow_data_length", counter_data_len(r));
    match r {
        Counter::If(x) => {
            let mut f = |n: &str, v: u64| c.field(ctx, rec, &format!("sflow_245.{n}"), v);
            f("ifindex", x.if_index.into());
            f("iftype", x.if_type.into());
            f("ifspeed", x.speed);
            f("ifdirection", x.direction.into());
            // ifStatus: bit 0 admin up, bit 1 operationally up.
            f("ifadmin_status", (x.status & 1).into());
            f("ifoper_status", (x.status >> 1 & 1).into());
            f("ifinoct", x.in_octets);
            f("ifinpkt", x.in_ucast_pkts.into());
            f("ifinmcast", x.in_multicast_pkts.into());
            f("ifinbcast", x.in_broadcast_pkts.into());
            f("ifindisc", x.in_discards.into());
            f("ifinerr", x.in_errors.into());
            f("ifinunk", x.in_unknown_protos.into());
            f("ifoutoct", x.out_octets);
            f("ifoutpkt", x.out_ucast_pkts.into());
            f("ifoutmcast", x.out_multicast_pkts.into());
            f("ifoutbcast", x.out_broadcast_pkts.into());
            f("ifoutdisc", x.out_discards.into());
            f("ifouterr", x.out_errors.into());
            f("ifpromisc", x.promiscuous_mode.into());
        }
        Counter::Ethernet(x) => {
            let mut f = |n: &str, v: u32| c.field(ctx, rec, &format!("sflow_245.dot3Stats{n}"), v);
            f("AlignmentErrors", x.alignment_errors);
            f("FCSErrors", x.fcs_errors);
            f("SingleCollisionFrames", x.single_collision_frames);
            f("MultipleCollisionFrames", x.multiple_collision_frames);
            f("SQETestErrors", x.sqe_test_errors);
            f("DeferredTransmissions", x.deferred_transmissions);
            f("LateCollisions", x.late_collisions);
            f("ExcessiveCollisions", x.excessive_collisions);
            f("InternalMacTransmitErrors", x.internal_mac_transmit_errors);
            f("CarrierSenseErrors", x.carrier_sense_errors);
            f("FrameTooLongs", x.frame_too_longs);
            f("InternalMacReceiveErrors", x.internal_mac_receive_errors);
            f("SymbolErrors", x.symbol_errors);
        }
        Counter::Ieee80211(x) => {
            let mut f = |n: &str, v: u32| c.field(ctx, rec, &format!("sflow_5.dot11{n}"), v);
            f("TransmittedFragmentCount", x.transmitted_fragment_count);
            f(
                "MulticastTransmittedFrameCount",
                x.multicast_transmitted_frame_count,
            );
            f("FailedCount", x.failed_count);
            f("RetryCount", x.retry_count);
            f("MultipleRetryCount", x.multiple_retry_count);
            f("FrameDuplicateCount", x.frame_duplicate_count);
            f("RTSSuccessCount", x.rts_success_count);
            f("RTSFailureCount", x.rts_failure_count);
            f("ACKFailureCount", x.ack_failure_count);
            f("ReceivedFragmentCount", x.received_fragment_count);
            f(
                "MulticastReceivedFrameCount",
                x.multicast_received_frame_count,
            );
            f("FCSErrorCount", x.fcs_error_count);
            f("TransmittedFrameCount", x.transmitted_frame_count);
            f("WEPUndecryptableCount", x.wep_undecryptable_count);
            f("QoSDiscardedFragmentCount", x.qos_discarded_fragment_count);
            f("AssociatedStationCount", x.associated_station_count);
            f("QoSCFPollsReceivedCount", x.qos_cf_polls_received_count);
            f("QoSCFPollsUnusedCount", x.qos_cf_polls_unused_count);
            f("QoSCFPollsUnusableCount", x.qos_cf_polls_unusable_count);
            f("QoSCFPollsLostCount", x.qos_cf_polls_lost_count);
        }
        Counter::Radio(x) => {
            // Labelled "(ms)": the specification's unit here too.
            c.field(ctx, rec, "sflow_5.elapsed_time", x.elapsed_time);
            c.field(ctx, rec, "sflow_5.on_channel_time", x.on_channel_time);
            c.field(
                ctx,
                rec,
                "sflow_5.channel_busy_time",
                x.on_channel_busy_time,
            );
        }
        _ => unreachable!("host structures are not sent to tshark"),
    }
}

/// The order of samples and records, from `-T fields` (which lists every
/// occurrence of a field in order): the JSON tree groups repeated keys.
fn check_order(c: &mut Checker, cases: &[Case], fields_out: &str) {
    let lines: Vec<&str> = fields_out.lines().collect();
    if lines.len() != cases.len() {
        c.fail(format!(
            "tshark -T fields printed {} lines for {} frames",
            lines.len(),
            cases.len()
        ));
        return;
    }
    for (i, (case, line)) in cases.iter().zip(lines).enumerate() {
        let ctx = format!("frame {} ({})", i + 1, case.name);
        let d = &case.model;
        let cols: Vec<&str> = line.split('\t').collect();
        let join = |v: Vec<u32>| v.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let expected = [
            join(d.samples.iter().map(|s| sample_type(s, d.form)).collect()),
            join(
                d.samples
                    .iter()
                    .flat_map(|s| match s {
                        SampleM::Flow(f) => f.records.iter().map(Flow::format).collect(),
                        SampleM::Counters(_) => Vec::new(),
                    })
                    .collect(),
            ),
            join(
                d.samples
                    .iter()
                    .flat_map(|s| match s {
                        SampleM::Counters(cs) => cs.records.iter().map(Counter::format).collect(),
                        SampleM::Flow(_) => Vec::new(),
                    })
                    .collect(),
            ),
        ];
        for (k, name) in [
            "sflow_245.sampletype (in order)",
            "sflow_245.flow_record_format (in order)",
            "sflow_245.counters_record_format (in order)",
        ]
        .iter()
        .enumerate()
        {
            c.fields += 1;
            let shown = cols.get(k).copied().unwrap_or("");
            if shown != expected[k] {
                c.fail(format!(
                    "{ctx}: {name}: expected {}, tshark shows {shown}",
                    expected[k]
                ));
            }
        }
    }
}

#[test]
fn tshark_decodes_every_field_as_encoded() {
    if !common::tool_or_skip(TSHARK, "tshark_decodes_every_field_as_encoded") {
        return;
    }
    let cases = interop::tshark_cases();
    let dir = common::TempDir::new("interop-tshark");
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).unwrap();

    // One Ethernet/IPv4/UDP frame to port 6343 per datagram.
    let mut w = PcapWriter::new(Vec::new(), link_type::ETHERNET, 65535).unwrap();
    for (i, case) in cases.iter().enumerate() {
        assert_eq!(
            case.bytes.len(),
            datagram_len(&case.model),
            "{}: datagram length differs from the specification's",
            case.name
        );
        let frame = ethernet_ipv4_udp(
            Ipv4Addr::new(192, 0, 2, 1),
            40_000 + i as u16,
            Ipv4Addr::new(192, 0, 2, 250),
            6343,
            &case.bytes,
        );
        w.write(1_700_000_000 + i as u32, 0, &frame).unwrap();
    }
    let pcap = dir.path().join("datagrams.pcap");
    std::fs::write(&pcap, w.into_inner()).unwrap();

    // The real 802.11 frame as tshark dissects it in its own capture.
    let (wlan_no, wlan_frame, _) = wlanmon_data_frame();
    let wlanmon = tshark_json(&config, &interop::wlanmon_pcap(dir.path()));
    let wlan_layers = layers(&wlanmon[wlan_no - 1]);
    assert_eq!(wlan_layers["frame"]["frame.number"], wlan_no.to_string());
    let orig = Original80211 {
        frame: &wlan_frame,
        layers: wlan_layers,
    };

    let frames = tshark_json(&config, &pcap);
    assert_eq!(frames.len(), cases.len(), "one frame per datagram");
    let mut c = Checker::default();
    for (i, (case, frame)) in cases.iter().zip(&frames).enumerate() {
        let ctx = format!("frame {} ({})", i + 1, case.name);
        let all = layers(frame);
        let mut bad = Vec::new();
        keys_with_prefix(all, "_ws.malformed", "", &mut bad);
        keys_with_prefix(all, "_ws.expert", "", &mut bad);
        for b in bad {
            c.fail(format!("{ctx}: tshark reports {b}"));
        }
        match all.get("sflow") {
            Some(sflow) => {
                check_datagram(&mut c, &ctx, &case.model, sflow, &orig);
                c.all_compared(&ctx, sflow);
            }
            None => c.fail(format!("{ctx}: not dissected as sFlow")),
        }
    }
    let order = tshark(
        &config,
        &pcap,
        &[
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=,",
            "-e",
            "sflow_245.sampletype",
            "-e",
            "sflow_245.flow_record_format",
            "-e",
            "sflow_245.counters_record_format",
        ],
    );
    check_order(&mut c, &cases, &order);

    eprintln!(
        "tshark: {} frames, {} fields compared, {} mismatches",
        frames.len(),
        c.fields,
        c.errors.len()
    );
    assert!(
        c.errors.is_empty(),
        "tshark disagrees with what we encoded:\n{}",
        c.errors.join("\n")
    );
}
