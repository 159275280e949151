//! The command line: `collect`, `--check-config`, `--version`, `--help`,
//! and what the daemon leaves in the log when it dies of a trap.

mod common;

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{wsflowd, TempConfig};
use wsflowd::pcap::{ethernet_ipv4_udp, link_type, PcapWriter};
use wsflowd::sflow::*;

fn datagram(sequence: u32) -> Vec<u8> {
    let header = [0x02u8, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
    let records = [
        FlowRecord::SampledHeader(SampledHeader {
            protocol: HeaderProtocol::ETHERNET,
            frame_length: 64,
            stripped: 4,
            header: &header,
        }),
        FlowRecord::Extended80211Rx(Extended80211Rx {
            ssid: b"Lab \"AP\"",
            bssid: [0x02, 0x11, 0x22, 0x33, 0x44, 0x55],
            version: Ieee80211Version::N,
            channel: 11,
            speed: 72_200_000,
            rsni: 50,
            rcpi: 140,
            packet_duration: 90,
        }),
    ];
    let samples = [
        Sample::Flow(
            SampleForm::Compact,
            FlowSample {
                sequence_number: sequence,
                source: DataSource::interface(4),
                sampling_rate: 256,
                sample_pool: 1000 * sequence,
                drops: 1,
                input: Interface::index(4),
                output: Interface::INTERNAL,
                records: List::Items(&records),
            },
        ),
        Sample::Counters(
            SampleForm::Compact,
            CountersSample {
                sequence_number: sequence,
                source: DataSource::interface(4),
                records: List::Items(&[CounterRecord::RadioUtilization(RadioUtilization {
                    elapsed_time: 10,
                    on_channel_time: 9,
                    on_channel_busy_time: 3,
                })]),
            },
        ),
    ];
    let d = Datagram {
        agent_address: Some("192.0.2.7".parse().unwrap()),
        sub_agent_id: 0,
        sequence_number: sequence,
        uptime: 5000,
        samples: List::Items(&samples),
    };
    let mut buf = vec![0u8; 1500];
    let mut w = Writer::new(&mut buf);
    d.encode(&mut w).unwrap();
    w.written().to_vec()
}

fn check_json_lines(lines: &[String]) {
    assert_eq!(lines.len(), 4, "{lines:?}");
    let flow: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(flow["agent"], "192.0.2.7");
    assert_eq!(flow["type"], "flow_sample");
    assert_eq!(flow["datagram_sequence_number"], 1);
    assert_eq!(flow["sampling_rate"], 256);
    assert_eq!(flow["sample_pool"], 1000);
    assert_eq!(flow["output"], 0x3fff_ffff);
    let rx = &flow["records"][1];
    assert_eq!(rx["type"], "extended_80211_rx");
    assert_eq!(rx["ssid"], "Lab \"AP\"");
    assert_eq!(rx["bssid"], "02:11:22:33:44:55");
    assert_eq!(rx["speed"], 72_200_000);
    assert_eq!(flow["records"][0]["header"], "0200000000010200000000020800");
    let counters: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(counters["type"], "counters_sample");
    assert_eq!(counters["records"][0]["on_channel_busy_time"], 3);
    let second: serde_json::Value = serde_json::from_str(&lines[2]).unwrap();
    assert_eq!(second["datagram_sequence_number"], 2);
}

#[test]
fn collect_prints_one_json_line_per_sample() {
    // Find a free port, then let the collector take it.
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(wsflowd())
        .args(["collect", "--json", "--count", "4", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for it to listen (it says so on stderr).
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("listening on 127.0.0.1"), "{line}");
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    sender
        .send_to(b"not sflow at all", ("127.0.0.1", port))
        .unwrap();
    for seq in 1..=2 {
        sender.send_to(&datagram(seq), ("127.0.0.1", port)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    check_json_lines(&lines);
    // The bad datagram was reported on stderr, naming the sender.
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(rest.contains("from 127.0.0.1:"), "{rest}");
    assert!(rest.contains("sFlow version"), "{rest}");
}

#[test]
fn collect_reads_a_capture_file() {
    let cfg = TempConfig::new("");
    let path = cfg.dir.join("sflow.pcap");
    let mut w = PcapWriter::new(Vec::new(), link_type::ETHERNET, 65535).unwrap();
    for seq in 1..=2 {
        let frame = ethernet_ipv4_udp(
            [192, 0, 2, 7].into(),
            50000,
            [192, 0, 2, 9].into(),
            6343,
            &datagram(seq),
        );
        w.write(seq, 0, &frame).unwrap();
    }
    std::fs::write(&path, w.into_inner()).unwrap();
    let out = Command::new(wsflowd())
        .args(["collect", "--json", "--read"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    check_json_lines(&lines);
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["peer"], "192.0.2.7:50000");
    // Text output: one line per sample too, the record type bare.
    let out = Command::new(wsflowd())
        .args(["collect", "--read"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 4);
    assert!(text
        .lines()
        .next()
        .unwrap()
        .contains(" flow_sample sequence_number=1 "));
    assert!(text.contains("{extended_80211_rx enterprise=0 format=1014 ssid=\"Lab \\\"AP\\\"\""));
}

#[test]
fn check_config_exit_status_and_messages() {
    let good = TempConfig::new(
        "config agent 'agent'\n\toption sampling_rate '400'\n\tlist interface 'eth0'\n\nconfig collector\n\toption address '192.0.2.10'\n",
    );
    let out = Command::new(wsflowd())
        .args(["--check-config", "--config"])
        .arg(&good.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let bad = TempConfig::new(
        "config agent 'agent'\n\toption polling_interval 'soon'\n\nconfig collector\n\toption address '192.0.2.10'\n",
    );
    let out = Command::new(wsflowd())
        .args(["--check-config", "-c"])
        .arg(&bad.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let expected = format!("{}:2:", bad.path.display());
    assert!(err.contains(&expected), "{err}");
    assert!(
        err.contains("polling_interval") && err.contains("'agent'"),
        "{err}"
    );

    let out = Command::new(wsflowd())
        .args(["--check-config", "-c", "/nonexistent/wsflowd"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/wsflowd"));
}

#[test]
fn version_help_and_usage_errors() {
    let out = Command::new(wsflowd()).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("wsflowd {}", env!("CARGO_PKG_VERSION"))
    );
    let out = Command::new(wsflowd()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for word in [
        "--config",
        "--foreground",
        "--check-config",
        "collect",
        "--json",
        "SIGHUP",
    ] {
        assert!(help.contains(word), "help lacks {word}");
    }
    let out = Command::new(wsflowd()).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown option '--bogus'"));
}

/// The OpenWrt builds stop at a panic with a trap instruction (SIGILL or
/// SIGTRAP) and no message: the daemon says so on stderr, which procd
/// sends to logd, and still dies of the signal (procd restarts it).
#[test]
fn a_fatal_trap_leaves_a_log_line() {
    use std::os::unix::process::ExitStatusExt;
    // An agent with no interface (host counters only) runs unprivileged.
    // Its own sub-agent id: other agents may run in this namespace.
    let config = TempConfig::new(&format!(
        "config agent 'main'\n\toption polling_interval '1'\n\toption sub_agent_id '{}'\n\
         config collector\n\toption address '127.0.0.1'\n\toption port '9'\n",
        std::process::id()
    ));
    for (signal, name) in [(libc::SIGILL, "SIGILL"), (libc::SIGTRAP, "SIGTRAP")] {
        let mut child = Command::new(wsflowd())
            .args(["--foreground", "--config"])
            .arg(&config.path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        // Running once it has read its configuration.
        while !line.contains("nothing will be sampled") {
            line.clear();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "agent exited early"
            );
        }
        common::os::kill(child.id(), signal).unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signal), "{rest}");
        assert!(rest.contains(&format!("wsflowd: fatal: {name}")), "{rest}");
    }
}
