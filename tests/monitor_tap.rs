//! Monitor mode end to end, as root: a TAP device whose link type is 803
//! (radiotap) stands for a monitor interface; every frame of every real
//! radiotap and 802.11 capture is written into it and the agent samples it
//! at 1-in-1. Each well-formed frame must give a flow sample whose 802.11
//! header bytes and `extended_80211_rx` fields agree with what tshark reads
//! from the same capture; malformed frames are counted as rejected.

mod common;

use std::io::Write;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::*;
use wsflowd::pcap::{link_type, PcapReader, PcapWriter};
use wsflowd::sflow::*;
use wsflowd::wifi::MonitorFrame;

/// A frame to replay, with what tshark says of it.
struct Replayed {
    file: String,
    number: usize,
    /// Radiotap + 802.11 (+ FCS), as written into the TAP.
    bytes: Vec<u8>,
    /// tshark's channel, data rate (Mbit/s), signal (dBm) and SNR (dB),
    /// when shown.
    tshark: (Option<u32>, Option<f64>, Option<i32>, Option<i32>),
}

/// What the agent's sample of a replayed frame says.
struct MonitorSample {
    output: Interface,
    protocol: HeaderProtocol,
    frame_length: u32,
    stripped: u32,
    header: Vec<u8>,
    channel: u32,
    speed: u64,
    /// 255 (unknown) for a frame the radio sent.
    rcpi: u32,
    rsni: u32,
    duration: u32,
    bssid: [u8; 6],
    /// The radio sent the frame (`extended_80211_tx`, no signal).
    sent: bool,
}

/// A radiotap header for raw 802.11 frames (link type 105): only the
/// Flags field, saying whether the frame ends with its FCS.
fn radiotap_for_raw(fcs: bool) -> [u8; 9] {
    [0, 0, 9, 0, 2, 0, 0, 0, if fcs { 0x10 } else { 0 }]
}

/// tshark's channel, data rate and (first) signal of every frame of a pcap.
type Radio = (Option<u32>, Option<f64>, Option<i32>, Option<i32>);

fn tshark_radio(path: &std::path::Path) -> Vec<Radio> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args([
            "-T",
            "fields",
            "-E",
            "occurrence=f",
            "-e",
            "wlan_radio.channel",
            "-e",
            "wlan_radio.data_rate",
            // The first occurrence: the combined signal (tshark's radio
            // summary keeps the last, a per-antenna value).
            "-e",
            "radiotap.dbm_antsignal",
            "-e",
            "wlan_radio.snr",
        ])
        .output()
        .expect("tshark");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (
                c.first().and_then(|v| v.parse().ok()),
                c.get(1).and_then(|v| v.parse().ok()),
                c.get(2).and_then(|v| v.parse().ok()),
                c.get(3).and_then(|v| v.parse().ok()),
            )
        })
        .collect()
}

/// Every frame of every radiotap and raw 802.11 capture, as a monitor
/// interface would deliver it (raw frames get a radiotap header), with
/// tshark's reading of exactly those bytes (one tshark run over a pcap of
/// them all).
fn frames_to_replay(dir: &std::path::Path, scratch: &std::path::Path) -> Vec<Replayed> {
    let mut out = Vec::new();
    for sub in ["tcpdump", "zeek"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
            .collect();
        files.sort();
        for path in files {
            let data = std::fs::read(&path).unwrap();
            let Ok(reader) = PcapReader::new(&data) else {
                continue;
            };
            let link = reader.link_type;
            // The FCS bits of the link type (0x3 = 4 bytes of FCS follow).
            let raw_link = u32::from_le_bytes([data[20], data[21], data[22], data[23]]);
            let fcs = raw_link >> 28 == 0x3;
            if link != link_type::IEEE802_11_RADIOTAP && link != link_type::IEEE802_11 {
                continue;
            }
            for (i, rec) in reader.flatten().enumerate() {
                let mut bytes = Vec::new();
                if link == link_type::IEEE802_11 {
                    bytes.extend_from_slice(&radiotap_for_raw(fcs));
                }
                bytes.extend_from_slice(rec.data);
                // A TAP refuses writes shorter than an Ethernet header;
                // such frames are covered by tests/wifi_captures.rs.
                if bytes.len() < 14 {
                    continue;
                }
                out.push(Replayed {
                    file: path.file_name().unwrap().to_string_lossy().into(),
                    number: i + 1,
                    bytes,
                    tshark: (None, None, None, None),
                });
            }
        }
    }
    let mut w = PcapWriter::new(Vec::new(), link_type::IEEE802_11_RADIOTAP, 65535).unwrap();
    for (i, f) in out.iter().enumerate() {
        w.write(i as u32, 0, &f.bytes).unwrap();
    }
    let merged = scratch.join("monitor.pcap");
    std::fs::write(&merged, w.into_inner()).unwrap();
    let radio = tshark_radio(&merged);
    assert_eq!(radio.len(), out.len(), "tshark read every frame");
    for (f, r) in out.iter_mut().zip(radio) {
        f.tshark = r;
    }
    out
}

#[test]
fn monitor_frames_of_real_captures() {
    if !root_or_skip("monitor_frames_of_real_captures") {
        return;
    }
    let Some(dir) = captures_dir() else {
        eprintln!("skipped: ../shared/captures not found");
        return;
    };
    if Command::new("tshark").arg("-v").output().is_err() {
        assert_ne!(std::env::var("WSFLOWD_REQUIRE_TOOLS").as_deref(), Ok("1"));
        eprintln!("skipped: tshark not installed");
        return;
    }
    let ns = Netns::new("wsfmon");
    let collector = Collector::start(&ns);
    // Every frame is reported: ours or not (foreign ones as discards).
    let cfg = TempConfig::new(&format!(
        "config agent 'agent'\n\toption sampling_rate '1'\n\toption polling_interval '0'\n\toption header_bytes '256'\n\toption datagram_bytes '1400'\n\tlist interface 'mon0'\n\nconfig interface\n\toption device 'mon0'\n\toption foreign_bss 'discard'\n\nconfig collector\n\toption address '127.0.0.1'\n\toption port '{}'\n",
        collector.port
    ));
    let frames = frames_to_replay(&dir, &cfg.dir);
    assert!(frames.len() > 150, "{} frames", frames.len());
    // The TAP lives as long as its file descriptor, held by this thread
    // until the test says (after the agent has read every frame).
    let (to_tap, from_test) = mpsc::channel::<Option<Vec<u8>>>();
    let (ready_tx, ready_rx) = mpsc::channel();
    let tap = ns.spawn(move || {
        let mut tap = monitor_tap("mon0").expect("radiotap TAP");
        ready_tx.send(()).unwrap();
        while let Ok(Some(frame)) = from_test.recv() {
            tap.write_all(&frame).unwrap();
            // Paced: well below what the ring can hold.
            thread::sleep(Duration::from_micros(300));
        }
    });
    ready_rx.recv().unwrap();
    ns.exec(&["ip", "link", "set", "mon0", "up"]);
    let agent = AgentProcess::start(&ns, &cfg.path);
    assert!(agent.wait_for_log("sampling mon0", Duration::from_secs(5)));
    assert!(agent.log_contains("monitor"));
    thread::sleep(Duration::from_millis(200));

    let mut expected = Vec::new();
    let mut rejected = 0;
    for f in &frames {
        match MonitorFrame::parse(&f.bytes) {
            Ok(_) => expected.push(f),
            Err(_) => rejected += 1,
        }
        to_tap.send(Some(f.bytes.clone())).unwrap();
    }
    thread::sleep(Duration::from_millis(1_500));
    let log = agent.log.clone();
    assert!(agent.stop().success());
    to_tap.send(None).unwrap();
    tap.join().unwrap();
    thread::sleep(Duration::from_millis(100));
    let final_line = log
        .lock()
        .unwrap()
        .iter()
        .find(|l| l.contains("mon0: pool"))
        .cloned()
        .expect("final counts");

    let snapshot = collector.snapshot();
    let mut samples = Vec::new();
    for (_, d) in &snapshot {
        let d = Datagram::parse(d).unwrap();
        for s in d.samples.iter() {
            if let Sample::Flow(_, f) = s.unwrap() {
                let records: Vec<FlowRecord> = f.records.iter().map(Result::unwrap).collect();
                let FlowRecord::SampledHeader(h) = records[0] else {
                    panic!("a monitor sample starts with sampled_header");
                };
                // A frame the radio received, or one it sent (radiotap has
                // TX flags: its transmit status), which has no signal.
                let (channel, speed, rcpi, rsni, duration, bssid, sent) = match records[1] {
                    FlowRecord::Extended80211Rx(rx) => (
                        rx.channel,
                        rx.speed,
                        rx.rcpi,
                        rx.rsni,
                        rx.packet_duration,
                        rx.bssid,
                        false,
                    ),
                    FlowRecord::Extended80211Tx(tx) => (
                        tx.channel,
                        tx.speed,
                        255,
                        255,
                        tx.packet_duration,
                        tx.bssid,
                        true,
                    ),
                    r => panic!("a monitor sample's radio record: {r:?}"),
                };
                samples.push(MonitorSample {
                    output: f.output,
                    protocol: h.protocol,
                    frame_length: h.frame_length,
                    stripped: h.stripped,
                    header: h.header.to_vec(),
                    channel,
                    speed,
                    rcpi,
                    rsni,
                    duration,
                    bssid,
                    sent,
                });
            }
        }
    }
    println!(
        "monitor: {} frames written ({} rejected by our parser), {} samples; agent: {final_line}",
        frames.len(),
        rejected,
        samples.len()
    );
    assert!(
        final_line.contains(&format!("rejected {rejected}")),
        "{final_line}"
    );
    assert_eq!(
        samples.len(),
        expected.len(),
        "one sample per well-formed frame"
    );

    let mut tshark_checks = 0;
    let mut transmitted = 0;
    for (f, s) in expected.iter().zip(&samples) {
        let m = MonitorFrame::parse(&f.bytes).unwrap();
        assert_eq!(s.sent, m.transmitted(), "{} frame {}", f.file, f.number);
        if s.sent {
            transmitted += 1;
        }
        let at = format!("{} frame {}", f.file, f.number);
        // The 802.11 bytes, radiotap and FCS removed (behind the MPDU
        // delimiter for an A-MPDU subframe).
        let mpdu = m.header_bytes();
        if m.ampdu.is_some() {
            assert_eq!(s.protocol, HeaderProtocol::IEEE80211_AMPDU, "{at}");
            assert_eq!(
                &s.header[4..],
                &mpdu[..s.header.len() - 4],
                "{at}: header bytes"
            );
            assert_eq!(s.header[3], 0x4e, "{at}: delimiter signature");
            assert_eq!(s.frame_length, m.frame_length() + 4, "{at}");
        } else {
            assert_eq!(s.protocol, HeaderProtocol::IEEE80211, "{at}");
            assert_eq!(
                &s.header[..],
                &mpdu[..mpdu.len().min(256)],
                "{at}: header bytes"
            );
            assert_eq!(s.frame_length, m.frame_length(), "{at}");
        }
        assert_eq!(s.stripped, 4, "{at}: the FCS");
        assert_eq!(s.bssid, m.bssid().map_or([0; 6], |b| b.0), "{at}");
        assert_eq!(s.output, Interface::discarded(263), "{at}: not our BSS");
        if s.sent {
            assert_eq!(s.duration, m.packet_duration(), "{at}");
        } else {
            assert_eq!(
                (s.rcpi, s.rsni, s.duration),
                (m.rcpi, m.rsni, m.packet_duration()),
                "{at}"
            );
        }
        // What tshark reads from the same capture.
        let (t_channel, t_rate, t_signal, t_snr) = f.tshark;
        if let Some(c) = t_channel {
            assert_eq!(s.channel, c, "{at}: channel, tshark");
            tshark_checks += 1;
        }
        if let Some(r) = t_rate {
            let ours = s.speed as f64 / 1e6;
            assert!(
                (ours - r).abs() < 0.051,
                "{at}: rate {ours} Mbit/s, tshark {r}"
            );
            tshark_checks += 1;
        }
        if let (Some(dbm), false) = (t_signal, s.sent) {
            // RCPI = 2 × (dBm + 110), IEEE 802.11k.
            assert_eq!(
                s.rcpi as i32,
                (2 * (dbm + 110)).clamp(0, 220),
                "{at}: RCPI from tshark's signal"
            );
            tshark_checks += 1;
        }
        if let (Some(snr), false) = (t_snr, s.sent) {
            // RSNI = 2 × (SNR + 10), IEEE 802.11k.
            assert_eq!(
                s.rsni as i32,
                (2 * (snr + 10)).clamp(0, 254),
                "{at}: RSNI from tshark's SNR"
            );
            tshark_checks += 1;
        }
    }
    println!(
        "monitor: {} samples compared ({transmitted} of frames the radio sent, with extended_80211_tx), {tshark_checks} fields checked against tshark",
        expected.len()
    );
    assert!(tshark_checks > 100);
}
