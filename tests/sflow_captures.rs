//! Real sFlow datagrams from other agents (tcpdump's test captures in
//! `../shared/captures/`) decode completely, agree with tshark's sample
//! counts, and the malformed one yields an error, not a panic.

mod common;

use std::process::Command;

use wsflowd::collect::render_datagram;
use wsflowd::pcap::{udp_payload, PcapReader};
use wsflowd::sflow::*;

struct Decoded {
    datagrams: usize,
    /// UDP payloads on port 6343 that are not sFlow v5 at all.
    not_sflow: usize,
    samples: usize,
    records: usize,
    errors: Vec<String>,
}

fn decode_file(path: &std::path::Path) -> Decoded {
    let data = std::fs::read(path).unwrap();
    let reader = PcapReader::new(&data).unwrap();
    let link = reader.link_type;
    let mut d = Decoded {
        datagrams: 0,
        not_sflow: 0,
        samples: 0,
        records: 0,
        errors: Vec::new(),
    };
    for rec in reader {
        let rec = rec.unwrap();
        let Some(udp) = udp_payload(link, rec.data) else {
            continue;
        };
        if udp.destination_port != 6343 {
            continue;
        }
        d.datagrams += 1;
        let datagram = match Datagram::parse(udp.payload) {
            Ok(x) => x,
            Err(DecodeError {
                kind: DecodeErrorKind::Version(_),
                ..
            }) => {
                d.not_sflow += 1;
                continue;
            }
            Err(e) => {
                d.errors.push(e.to_string());
                continue;
            }
        };
        for s in datagram.samples.iter() {
            match s {
                Ok(Sample::Flow(_, f)) => {
                    d.samples += 1;
                    for r in f.records.iter() {
                        match r {
                            Ok(_) => d.records += 1,
                            Err(e) => d.errors.push(e.to_string()),
                        }
                    }
                }
                Ok(Sample::Counters(_, c)) => {
                    d.samples += 1;
                    for r in c.records.iter() {
                        match r {
                            Ok(_) => d.records += 1,
                            Err(e) => d.errors.push(e.to_string()),
                        }
                    }
                }
                Ok(Sample::Unknown { .. }) => d.samples += 1,
                Err(e) => d.errors.push(e.to_string()),
            }
        }
        // The printers walk every field too.
        let _ = render_datagram(None, udp.payload, true, |_| {});
    }
    d
}

/// tshark's total of `numsamples` over a file, if tshark is installed.
fn tshark_samples(path: &std::path::Path) -> Option<usize> {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(path)
        .args(["-T", "fields", "-e", "sflow_245.numsamples"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse::<usize>().ok())
            .sum(),
    )
}

#[test]
fn real_sflow_captures_decode() {
    let Some(dir) = common::captures_dir() else {
        eprintln!("skipped: ../shared/captures not found (set WSFLOWD_CAPTURES)");
        return;
    };
    let dir = dir.join("tcpdump");
    let good = [
        "sflow-print-v6.pcap",
        "sflow_expanded.pcap",
        "sflow_multiple_counter_30_pdus.pcap",
    ];
    for name in good {
        let path = dir.join(name);
        let d = decode_file(&path);
        println!(
            "{name}: {} datagrams ({} not sFlow v5), {} samples, {} records",
            d.datagrams, d.not_sflow, d.samples, d.records
        );
        assert!(d.errors.is_empty(), "{name}: {:?}", d.errors);
        assert!(d.samples > 0 && d.records > 0);
        // That capture also holds five NetFlow v5 packets sent to port
        // 6343 (16-bit version 5, count 1 or 2): tshark shows them as data.
        let expected_not_sflow = if name.contains("30_pdus") { 5 } else { 0 };
        assert_eq!(d.not_sflow, expected_not_sflow, "{name}");
        if let Some(expected) = tshark_samples(&path) {
            assert_eq!(d.samples, expected, "{name}: samples, ours vs tshark");
        }
    }
    // A truncated datagram from tcpdump's crash regressions: an error.
    let d = decode_file(&dir.join("sflow_print-segv.pcap"));
    assert_eq!(d.datagrams, 1);
    assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
    assert!(d.errors[0].contains("truncated"), "{:?}", d.errors);
}

#[test]
fn every_captured_frame_fed_to_the_decoder_is_harmless() {
    let Some(dir) = common::captures_dir() else {
        eprintln!("skipped: ../shared/captures not found");
        return;
    };
    let mut frames = 0;
    for sub in ["tcpdump", "zeek"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "pcap") {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            let Ok(reader) = PcapReader::new(&data) else {
                continue;
            };
            for rec in reader.flatten() {
                frames += 1;
                // Not sFlow at all: must be rejected cleanly, at any offset.
                for start in [0, 4, 8, 14, 24, 42] {
                    if let Some(bytes) = rec.data.get(start..) {
                        let _ = render_datagram(None, bytes, false, |_| {});
                    }
                }
            }
        }
    }
    assert!(frames > 100, "{frames} frames");
}
