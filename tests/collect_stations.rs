//! `wsflowd collect --stations`: a station seen by several agents, moving
//! from one AP (BSS) to another.
//!
//! - `roams_in_a_capture`: datagrams we encode from two AP agents and a
//!   monitor agent, replayed from a pcap file (its clock drives the TTL):
//!   new, roam, a late frame of the old BSS that is not a roam back, a
//!   monitor overhearing the station, gone; text and JSON lines.
//! - `roams_live`: the same logic over UDP, the output piped.
//! - `a_station_roams_between_two_real_agents` (root): two real agents,
//!   each with its own ubus broker and (fake) hostapd, in namespaces; the
//!   station's MAC address moves from one AP interface to the other.

mod common;

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use common::fake_hostapd::{mac_text, BssSpec, FakeHostapd, Mac};
use common::prometheus::CollectProcess;
use common::sflow_mix;
use common::ubusd::Broker;
use common::*;
use wsflowd::pcap::{ethernet_ipv4_udp, link_type, PcapWriter};
use wsflowd::sflow::*;

const STA: Mac = [0x02, 0x5a, 0, 0, 0, 0x01];
const BSS_A: Mac = [0x02, 0, 0, 0, 0x0a, 0x01];
const BSS_B: Mac = [0x02, 0, 0, 0, 0x0b, 0x01];

/// A datagram from agent 10.0.0.`agent` with one flow sample of an AP
/// interface: a frame from the station (`rx`) or to it.
fn ap_datagram(agent: u8, sequence: u32, bssid: Mac, rx: bool, rcpi: u32) -> Vec<u8> {
    let mut eth = [0u8; 64];
    let (dst, src) = if rx { (bssid, STA) } else { (STA, bssid) };
    eth[0..6].copy_from_slice(&dst);
    eth[6..12].copy_from_slice(&src);
    eth[12] = 0x08;
    let header = FlowRecord::SampledHeader(SampledHeader {
        protocol: HeaderProtocol::ETHERNET,
        frame_length: 68,
        stripped: 4,
        header: &eth,
    });
    let radio = if rx {
        FlowRecord::Extended80211Rx(Extended80211Rx {
            ssid: b"campus",
            bssid,
            version: Ieee80211Version::N,
            channel: 36,
            speed: 144_400_000,
            rsni: 255,
            rcpi,
            packet_duration: 0,
        })
    } else {
        FlowRecord::Extended80211Tx(Extended80211Tx {
            ssid: b"campus",
            bssid,
            version: Ieee80211Version::N,
            transmissions: 1,
            packet_duration: 0,
            retrans_duration: 0,
            channel: 36,
            speed: 130_000_000,
            power: 0,
        })
    };
    let records = [header, radio];
    encode(agent, sequence, &records)
}

/// A datagram from a monitor agent: an 802.11 data frame the station sent
/// to `bssid` (To DS), heard at `rcpi`.
fn monitor_datagram(agent: u8, sequence: u32, bssid: Mac, rcpi: u32) -> Vec<u8> {
    let mut frame = [0u8; 24];
    frame[0] = 0x08;
    frame[1] = 0x01;
    frame[4..10].copy_from_slice(&bssid);
    frame[10..16].copy_from_slice(&STA);
    frame[16..22].copy_from_slice(&[0x02, 9, 9, 9, 9, 9]);
    let records = [
        FlowRecord::SampledHeader(SampledHeader {
            protocol: HeaderProtocol::IEEE80211,
            frame_length: 100,
            stripped: 4,
            header: &frame,
        }),
        FlowRecord::Extended80211Rx(Extended80211Rx {
            ssid: b"campus",
            bssid,
            version: Ieee80211Version::N,
            channel: 36,
            speed: 54_000_000,
            rsni: 255,
            rcpi,
            packet_duration: 0,
        }),
    ];
    encode(agent, sequence, &records)
}

fn encode(agent: u8, sequence: u32, records: &[FlowRecord]) -> Vec<u8> {
    let samples = [Sample::Flow(
        SampleForm::Compact,
        FlowSample {
            sequence_number: sequence,
            source: DataSource::interface(3),
            sampling_rate: 10,
            sample_pool: sequence * 10,
            drops: 0,
            input: Interface::index(3),
            output: Interface::INTERNAL,
            records: List::Items(records),
        },
    )];
    let d = Datagram {
        agent_address: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, agent))),
        sub_agent_id: 0,
        sequence_number: sequence,
        uptime: sequence * 1000,
        samples: List::Items(&samples),
    };
    let mut buf = Vec::new();
    sflow_mix::encode(&d, &mut buf);
    buf
}

/// The story: (milliseconds, datagram).
fn story() -> Vec<(u64, Vec<u8>)> {
    vec![
        // Seen at AP A (agent 1), from and to it.
        (0, ap_datagram(1, 1, BSS_A, true, 2 * (110 - 50))),
        (300, ap_datagram(1, 2, BSS_A, false, 255)),
        // A monitor (agent 9) overhears it in A: no event.
        (600, monitor_datagram(9, 1, BSS_A, 2 * (110 - 75))),
        // It moves to AP B (agent 2).
        (5_000, ap_datagram(2, 1, BSS_B, true, 2 * (110 - 62))),
        // A late datagram of A: not a roam back.
        (5_400, ap_datagram(1, 3, BSS_A, true, 2 * (110 - 50))),
        (6_000, ap_datagram(2, 2, BSS_B, false, 255)),
        // The monitor hears it in B now: no event, B's figures kept.
        (6_500, monitor_datagram(9, 2, BSS_B, 2 * (110 - 80))),
        // Another datagram of agent 2 when the station is gone: the TTL
        // (10 s) ran out at 16.5 s.
        (20_000, encode(2, 3, &[])),
    ]
}

const T0_MS: u64 = 1_767_258_000_000; // 2026-01-01T09:00:00Z

fn write_capture(path: &std::path::Path) {
    let mut w = PcapWriter::new(Vec::new(), link_type::ETHERNET, 65535).unwrap();
    for (ms, d) in story() {
        let t = T0_MS + ms;
        let frame = ethernet_ipv4_udp(
            [192, 0, 2, 1].into(),
            40000,
            [192, 0, 2, 2].into(),
            6343,
            &d,
        );
        w.write((t / 1000) as u32, (t % 1000 * 1000) as u32, &frame)
            .unwrap();
    }
    std::fs::write(path, w.into_inner()).unwrap();
}

fn run_collect(args: &[&str]) -> String {
    stdout_of(
        std::process::Command::new(wsflowd())
            .arg("collect")
            .args(args),
    )
}

#[test]
fn roams_in_a_capture() {
    let dir = TempDir::new("stations");
    let pcap = dir.path().join("roam.pcap");
    write_capture(&pcap);
    let text = run_collect(&[
        "--stations",
        "--station-ttl",
        "10",
        "--read",
        pcap.to_str().unwrap(),
    ]);
    print!("{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "2026-01-01T09:00:00.000Z new station=02:5a:00:00:00:01 agent=10.0.0.1 ifindex=3 bssid=02:00:00:00:0a:01 ssid=\"campus\" via=ap signal=-50 rx_rate=144400000",
            "2026-01-01T09:00:05.000Z roam station=02:5a:00:00:00:01 from_agent=10.0.0.1 from_ifindex=3 from_bssid=02:00:00:00:0a:01 from_ssid=\"campus\" from_via=ap agent=10.0.0.2 ifindex=3 bssid=02:00:00:00:0b:01 ssid=\"campus\" via=ap signal=-62 rx_rate=144400000",
            "2026-01-01T09:00:20.000Z gone station=02:5a:00:00:00:01 agent=10.0.0.2 ifindex=3 bssid=02:00:00:00:0b:01 ssid=\"campus\" via=ap signal=-62 rx_rate=144400000 tx_rate=130000000 last_seen=2026-01-01T09:00:06.500Z",
        ]
    );
    // JSON lines: the same events.
    let json = run_collect(&[
        "--stations",
        "--json",
        "--station-ttl",
        "10",
        "--read",
        pcap.to_str().unwrap(),
    ]);
    let events: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 3);
    assert_eq!(events[1]["event"], "roam");
    assert_eq!(events[1]["from_agent"], "10.0.0.1");
    assert_eq!(events[1]["agent"], "10.0.0.2");
    assert_eq!(events[1]["bssid"], "02:00:00:00:0b:01");
    assert_eq!(events[1]["signal"], -62);
    assert_eq!(events[2]["event"], "gone");
}

#[test]
fn roams_live() {
    let c = CollectProcess::start(None, &["--stations", "--listen", "127.0.0.1:0"]);
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    for (_, d) in story().iter().take(7) {
        s.send_to(d, &c.sflow).unwrap();
        thread::sleep(Duration::from_millis(20));
    }
    let end = Instant::now() + Duration::from_secs(10);
    let lines = loop {
        let lines = c.stdout_lines();
        if lines.len() >= 2 || Instant::now() > end {
            break lines;
        }
        thread::sleep(Duration::from_millis(50));
    };
    println!("{lines:#?}");
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains(" new station=02:5a:00:00:00:01 agent=10.0.0.1 "));
    // Sent 20 ms apart: the late frame of A is within the hold, not a roam.
    assert!(lines[1].contains(" roam station=02:5a:00:00:00:01 from_agent=10.0.0.1 "));
    assert!(lines[1].contains(" agent=10.0.0.2 ifindex=3 bssid=02:00:00:00:0b:01 "));
}

fn udp_burst(ns: &Netns, from: &'static str, to: &'static str, count: u32) {
    ns.spawn(move || {
        let s = UdpSocket::bind(from).unwrap();
        for _ in 0..count {
            s.send_to(b"hello", to).unwrap();
            thread::sleep(Duration::from_millis(2));
        }
    })
    .join()
    .unwrap();
}

#[test]
fn a_station_roams_between_two_real_agents() {
    const TEST: &str = "a_station_roams_between_two_real_agents";
    if !root_or_skip(TEST) {
        return;
    }
    let (Some(broker_a), Some(broker_b)) =
        (Broker::start_or_skip(TEST), Broker::start_or_skip(TEST))
    else {
        return;
    };
    // One namespace with both APs' interfaces (wlan0 of AP A, wlan1 of AP
    // B); the station's two positions are two namespaces whose interfaces
    // have the same MAC address.
    let ap = Netns::new("wsfra");
    let here_a = Netns::new("wsfrs");
    let here_b = Netns::new("wsfrt");
    for (wlan, sta, ns, net) in [
        ("wlan0", "sta0", &here_a, 208),
        ("wlan1", "sta1", &here_b, 209),
    ] {
        veth(&ap, wlan, ns, sta);
        ns.exec(&["ip", "link", "set", sta, "address", &mac_text(&STA)]);
        ap.address_up(wlan, &format!("10.{net}.0.1/24"));
        ns.address_up(sta, &format!("10.{net}.0.2/24"));
    }
    let (bss_a, bss_b) = (ap.mac("wlan0"), ap.mac("wlan1"));
    let collect = CollectProcess::start(Some(&ap), &["--stations", "--listen", "127.0.0.1:6343"]);
    let mut fakes = Vec::new();
    let mut agents = Vec::new();
    let mut configs = Vec::new();
    // Two agents in one namespace: each its own sub-agent (a second one
    // with the same id would refuse to start).
    for (broker, wlan, bssid, address, sub_agent) in [
        (&broker_a, "wlan0", bss_a, "10.208.0.1", 1),
        (&broker_b, "wlan1", bss_b, "10.209.0.1", 2),
    ] {
        let fake = FakeHostapd::start(&broker.socket);
        fake.add_bss(BssSpec {
            ifname: wlan.into(),
            bssid,
            ssid: "campus".into(),
            freq: 5180,
            channel: 36,
            phy: format!("phy-{wlan}"),
        });
        fake.sync();
        let cfg = TempConfig::new(&format!(
            "config agent 'agent'
	option sampling_rate '1'
	option polling_interval '5'
	option agent_address '{address}'
	option sub_agent_id '{sub_agent}'
	option ubus_socket '{}'
	list interface '{wlan}'

config collector
	option address '127.0.0.1'
	option port '6343'
",
            broker.socket.display()
        ));
        let agent = AgentProcess::start(&ap, &cfg.path);
        assert!(agent.wait_for_log(&format!("sampling {wlan}"), Duration::from_secs(5)));
        assert!(fake.wait_subscribed(wlan, Duration::from_secs(5)));
        fakes.push(fake);
        agents.push(agent);
        configs.push(cfg);
    }
    // Associated with A; traffic there.
    fakes[0].associate("wlan0", STA, -48);
    fakes[0].sync();
    thread::sleep(Duration::from_millis(1_500));
    udp_burst(&here_a, "10.208.0.2:0", "10.208.0.1:9", 20);
    let wait_lines = |n: usize| {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            let lines = collect.stdout_lines();
            if lines.len() >= n || Instant::now() > end {
                return lines;
            }
            thread::sleep(Duration::from_millis(50));
        }
    };
    let lines = wait_lines(1);
    // Roams to B: leaves A, associates with B, sends there.
    fakes[0].leave("wlan0", STA, "disassoc");
    fakes[1].associate("wlan1", STA, -66);
    fakes[0].sync();
    fakes[1].sync();
    thread::sleep(Duration::from_millis(1_500));
    udp_burst(&here_b, "10.209.0.2:0", "10.209.0.1:9", 20);
    let lines = {
        let mut l = wait_lines(lines.len() + 1);
        l.retain(|l| !l.is_empty());
        l
    };
    println!("{lines:#?}");
    let sta = mac_text(&STA);
    assert!(
        lines[0].contains(&format!(" new station={sta} agent=10.208.0.1/1 "))
            && lines[0].contains(&format!(
                " bssid={} ssid=\"campus\" via=ap signal=-48",
                mac_text(&bss_a)
            )),
        "{lines:?}"
    );
    let roam = lines
        .iter()
        .find(|l| l.contains(" roam "))
        .unwrap_or_else(|| panic!("no roam in {lines:?}"));
    assert!(roam.contains(&format!(
        " roam station={sta} from_agent=10.208.0.1/1 from_ifindex="
    )));
    assert!(roam.contains(&format!(" from_bssid={} ", mac_text(&bss_a))));
    assert!(roam.contains(&format!(
        " agent=10.209.0.1/2 ifindex={} bssid={} ssid=\"campus\" via=ap signal=-66",
        ap.if_index("wlan1"),
        mac_text(&bss_b)
    )));
    assert_eq!(
        lines.iter().filter(|l| l.contains(" roam ")).count(),
        1,
        "{lines:?}"
    );
    for a in agents {
        assert!(a.stop().success());
    }
}
