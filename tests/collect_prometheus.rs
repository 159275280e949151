//! `wsflowd collect --prometheus`: the exporter scraped by Debian's real
//! Prometheus server (started by the test with its own configuration,
//! storage and loopback port), checked through PromQL over its HTTP API;
//! its text output checked by `promtool check metrics`.
//!
//! - `exporter_formats_pass_promtool`: both formats, content negotiation,
//!   the HTTP edges; the Prometheus text linted by promtool.
//! - `prometheus_scrapes_a_simulated_fleet`: datagrams we encode (so every
//!   value is known exactly): loss, restarts, counters, BSS joins.
//! - `prometheus_sees_a_real_agent` (root): the real agent in namespaces
//!   with hostapd over ubus (the fake hostapd of tests/common over the
//!   pure-Rust ubusd) sampling known traffic at 1-in-10; the estimates
//!   checked against the traffic within 4 standard deviations of the
//!   sampling.

mod common;

use std::io::Write;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::ap_lab::ApLab;
use common::fake_hostapd::{mac_text, FakeHostapd};
use common::prometheus::*;
use common::sflow_mix::SimAgent;
use common::ubusd::Broker;
use common::*;

const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Sends every datagram of `agents`' traffic: `flows` flow datagrams and
/// `counters` counter datagrams each.
fn send_fleet(to: &str, agents: &mut [SimAgent], flows: usize, counters: usize) -> u64 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut buf = Vec::new();
    let mut sent = 0;
    for a in agents.iter_mut() {
        for _ in 0..flows {
            a.flow_datagram(&mut buf, 64);
            s.send_to(&buf, to).unwrap();
            sent += 1;
        }
        for _ in 0..counters {
            a.counter_datagram(&mut buf);
            s.send_to(&buf, to).unwrap();
            sent += 1;
        }
        // Paced, so that the loopback socket never overflows.
        thread::sleep(Duration::from_millis(2));
    }
    sent
}

/// The value of an unlabelled series in a text exposition.
fn value_of(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn wait_datagrams(metrics: &str, n: u64) -> String {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let r = http_get(metrics, "/metrics", Some("text/plain")).unwrap();
        if value_of(&r.body, "wsflowd_collector_datagrams_total") == Some(n as f64) {
            return r.body;
        }
        assert!(
            Instant::now() < end,
            "datagrams not all counted:\n{}",
            r.body
        );
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn exporter_formats_pass_promtool() {
    let c = CollectProcess::start(
        None,
        &[
            "--listen",
            "127.0.0.1:0",
            "--prometheus",
            "127.0.0.1:0",
            "--prometheus-stations",
        ],
    );
    let metrics = c.metrics.clone().unwrap();
    let mut agents: Vec<SimAgent> = (1..=3).map(|n| SimAgent::new(n, 10, n * 100, 4)).collect();
    let sent = send_fleet(&c.sflow, &mut agents, 20, 2);
    let text = wait_datagrams(&metrics, sent);

    let r = http_get(&metrics, "/metrics", Some("text/plain")).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(!r.body.contains("# EOF"));
    let om = http_get(&metrics, "/metrics", Some(PROMETHEUS_ACCEPT)).unwrap();
    assert_eq!(
        om.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(om.body.ends_with("# EOF\n"));
    assert!(om.body.contains("# TYPE wsflowd_agent_datagrams counter\n"));
    assert!(om.body.contains("# TYPE wsflowd_bss info\n"));
    // The HTTP edges.
    let head = http_request("HEAD", &metrics, "/metrics", None).unwrap();
    assert_eq!((head.status, head.body.as_str()), (200, ""));
    assert_eq!(http_get(&metrics, "/nothing", None).unwrap().status, 404);
    assert_eq!(
        http_request("POST", &metrics, "/metrics", None)
            .unwrap()
            .status,
        405
    );
    assert_eq!(http_get(&metrics, "/", None).unwrap().status, 200);

    // What the agents sent, as series.
    let a = &agents[0];
    let labels = format!("agent=\"{}\",sub_agent=\"0\",ifindex=\"3\"", a.address);
    assert_eq!(
        value_of(
            &text,
            &format!("wsflowd_dot11_associated_stations{{{labels}}}")
        ),
        Some(4.0)
    );
    assert_eq!(
        value_of(
            &text,
            &format!(
                "wsflowd_agent_datagrams_total{{agent=\"{}\",sub_agent=\"0\"}}",
                a.address
            )
        ),
        Some(22.0)
    );
    assert_eq!(value_of(&text, "wsflowd_collector_stations"), Some(12.0));
    // Each encoded sample stood for exactly its sampling rate.
    let rx = format!(
        "wsflowd_traffic_packets_total{{{labels},direction=\"rx\",bssid=\"{}\",ssid=\"wsflowd-fleet\"}}",
        mac_text(&a.bssid)
    );
    let samples = value_of(&text, &format!("wsflowd_flow_samples_total{{{labels}}}")).unwrap();
    assert_eq!(value_of(&text, &rx), Some(samples / 2.0 * 10.0), "{rx}");

    if !tool_or_skip("promtool", "exporter_formats_pass_promtool") {
        return;
    }
    let mut lint = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    lint.stdin
        .take()
        .unwrap()
        .write_all(r.body.as_bytes())
        .unwrap();
    let out = lint.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("promtool check metrics: {} {report}", out.status);
    assert!(out.status.success(), "promtool: {report}");
    assert!(report.trim().is_empty(), "promtool: {report}");
}

#[test]
fn prometheus_scrapes_a_simulated_fleet() {
    if !tool_or_skip("prometheus", "prometheus_scrapes_a_simulated_fleet") {
        return;
    }
    let c = CollectProcess::start(
        None,
        &["--listen", "127.0.0.1:0", "--prometheus", "127.0.0.1:0"],
    );
    let metrics = c.metrics.clone().unwrap();
    let p = Prometheus::start(None, free_port(), std::slice::from_ref(&metrics));

    // Two APs of one SSID; the second loses two datagrams, then restarts.
    let mut agents = vec![SimAgent::new(1, 10, 0, 3), SimAgent::new(2, 20, 100, 5)];
    let sent = send_fleet(&c.sflow, &mut agents, 10, 2);
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut buf = Vec::new();
    let b = &mut agents[1];
    b.counter_datagram(&mut buf);
    b.counter_datagram(&mut buf);
    b.counter_datagram(&mut buf);
    s.send_to(&buf, &c.sflow).unwrap();
    // A new process: sequence and uptime start again.
    *b = SimAgent::new(2, 20, 100, 5);
    b.uptime_ms = 300;
    b.counter_datagram(&mut buf);
    s.send_to(&buf, &c.sflow).unwrap();
    wait_datagrams(&metrics, sent + 2);

    let wait = |q: &str, want: f64| {
        let got = p.wait_value(q, Duration::from_secs(15), |v| (v - want).abs() < 1e-9);
        assert_eq!(got, Some(want), "{q}");
        println!("{q} = {want}");
    };
    wait("up{job=\"wsflowd\"}", 1.0);
    wait("wsflowd_collector_agents", 2.0);
    wait(
        "wsflowd_agent_datagrams_lost_total{agent=\"10.100.0.2\"}",
        2.0,
    );
    wait("wsflowd_agent_restarts_total{agent=\"10.100.0.2\"}", 1.0);
    wait("sum(wsflowd_agent_restarts_total)", 1.0);
    // Associated stations per SSID, through the BSS join.
    wait(
        "sum by (ssid) (wsflowd_dot11_associated_stations * on (agent, sub_agent, ifindex) group_left (ssid) wsflowd_bss_info)",
        8.0,
    );
    // Every encoded sample stood for its rate: 5 samples a datagram, 10
    // datagrams, half of them rx.
    wait(
        "sum by (ssid) (wsflowd_traffic_packets_total{direction=\"rx\"})",
        25.0 * 10.0 + 25.0 * 20.0,
    );
    wait(
        "sum(wsflowd_traffic_bytes_total{direction=\"tx\",agent=\"10.100.0.1\"})",
        25.0 * 10.0 * 1504.0,
    );
    wait(
        "wsflowd_radio_channel_busy_ratio{agent=\"10.100.0.1\"}",
        0.25,
    );
    wait("count(wsflowd_agent_info{os_release=\"6.6.73\"})", 2.0);
    // Unavailable 802.11 counters have no series; available ones do.
    wait("absent(wsflowd_dot11_retried_frames_total)", 1.0);
    wait("count(wsflowd_dot11_transmitted_frames_total)", 2.0);
    wait("wsflowd_sampling_rate{agent=\"10.100.0.2\"}", 20.0);
}

/// Sends `count` UDP datagrams of `payload` bytes from `ns`, paced at
/// about `rate` per second, on a thread of its own.
fn send_udp(
    ns: &Netns,
    from: &'static str,
    to: &'static str,
    count: u32,
    payload: usize,
    rate: u32,
) -> thread::JoinHandle<()> {
    let due = move |i| Duration::from_secs_f64(f64::from(i) / f64::from(rate));
    send_udp_paced(ns, from, to, count, vec![0x5a; payload], due)
}

#[test]
fn prometheus_sees_a_real_agent() {
    const TEST: &str = "prometheus_sees_a_real_agent";
    if !root_or_skip(TEST) || !tool_or_skip("prometheus", TEST) {
        return;
    }
    let Some(broker) = Broker::start_or_skip(TEST) else {
        return;
    };
    let lab = ApLab::new("wsfpa", "wsfps", 207);
    // Static neighbours: no ARP frames among the counted ones.
    lab.static_neighbours("10.207.0.1", &["10.207.0.2"]);
    let fake = FakeHostapd::start(&broker.socket);
    fake.add_bss(lab.bss("wsflowd-lab"));
    fake.sync();
    let collect = CollectProcess::start(
        Some(&lab.ap),
        &[
            "--listen",
            "127.0.0.1:6343",
            "--prometheus",
            "127.0.0.1:9106",
            "--prometheus-stations",
        ],
    );
    let prometheus = Prometheus::start(Some(&lab.ap), 9090, &["127.0.0.1:9106".into()]);
    let (mut agent, cfg) = lab.start_agent(&fake, &broker.socket, 10, 6343);
    fake.associate("wlan0", lab.sta_mac, -57);
    fake.sync();
    // The agent lists the new station's rates within a second.
    thread::sleep(Duration::from_millis(1_500));
    let before_rx = lab.ap.stat("wlan0", "rx_packets");
    let before_tx = lab.ap.stat("wlan0", "tx_packets");

    // Known traffic: 20,000 packets up (from the station), 10,000 down.
    const UP: u32 = 20_000;
    const DOWN: u32 = 10_000;
    let (up_payload, down_payload) = (200usize, 1000usize);
    let sink_ap = udp_sink(&lab.ap, "10.207.0.1:7001");
    let sink_sta = udp_sink(&lab.sta, "10.207.0.2:7000");
    thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    // Both directions at once, over the same two seconds, as an AP's
    // traffic goes (docs/collect.md, "Traffic estimates", says why a mix
    // that changes suddenly moves up to a batch of packets between them).
    let up_sender = send_udp(
        &lab.sta,
        "10.207.0.2:0",
        "10.207.0.1:7001",
        UP,
        up_payload,
        10_000,
    );
    let down_sender = send_udp(
        &lab.ap,
        "10.207.0.1:0",
        "10.207.0.2:7000",
        DOWN,
        down_payload,
        5_000,
    );
    up_sender.join().unwrap();
    down_sender.join().unwrap();
    println!("traffic sent in {:?}", t0.elapsed());
    sink_ap.join().unwrap();
    sink_sta.join().unwrap();
    let rx_packets = lab.ap.stat("wlan0", "rx_packets") - before_rx;
    let tx_packets = lab.ap.stat("wlan0", "tx_packets") - before_tx;
    println!("wlan0 counted rx {rx_packets} tx {tx_packets} packets");
    // Prometheus has the first channel figures before they move (an
    // increase needs two scrapes of different values).
    let first = prometheus.wait_value(
        &format!(
            "wsflowd_radio_on_channel_seconds_total{{agent=\"10.207.0.1\",ifindex=\"{}\"}}",
            lab.wlan0
        ),
        Duration::from_secs(20),
        |v| v == 600.0,
    );
    assert_eq!(first, Some(600.0), "the first on-channel time scraped");
    // Hostapd's channel figures move on: 4 s busy out of 10.
    fake.set_airtime("wlan0", 610_000, 154_000);
    fake.sync();

    let sel = format!(
        "agent=\"10.207.0.1\",ifindex=\"{}\",bssid=\"{}\",ssid=\"wsflowd-lab\"",
        lab.wlan0,
        mac_text(&lab.ap_mac)
    );
    // Frames on the medium: Ethernet + IPv4 + UDP headers and the FCS.
    let (up_frame, down_frame) = (46.0 + up_payload as f64, 46.0 + down_payload as f64);
    let rate = 10.0f64;
    let sigma = |n: f64| (n * rate * (1.0 - 1.0 / rate)).sqrt();
    let report = |what: &str, q: &str, got: Option<f64>, want: f64, tolerance: f64| {
        println!(
            "{what}: {q} = {got:?}, expected {want} ± {tolerance:.0} ({:+.2} %)",
            got.map_or(f64::NAN, |g| (g / want - 1.0) * 100.0)
        );
        let got = got.unwrap_or_else(|| panic!("{what}: no value for {q}"));
        assert!(
            (got - want).abs() <= tolerance,
            "{what}: {got} vs {want} ± {tolerance}"
        );
    };
    // Values that get there: waits until they do (or 20 s).
    let check = |what: &str, q: &str, want: f64, tolerance: f64| {
        let got = prometheus.wait_value(q, Duration::from_secs(20), |v| {
            (v - want).abs() <= tolerance
        });
        report(what, q, got, want, tolerance);
    };
    // Estimates: read once, after every sample arrived.
    let check_final = |what: &str, q: &str, want: f64, tolerance: f64| {
        let got = prometheus.wait_value(q, Duration::from_secs(5), |_| true);
        report(what, q, got, want, tolerance);
    };
    let samples = prometheus.wait_stable(
        "sum(wsflowd_flow_samples_total{agent=\"10.207.0.1\"})",
        Duration::from_millis(2_500),
        Duration::from_secs(30),
    );
    let per_direction: Vec<(String, f64)> = prometheus
        .query("sum by (direction) (wsflowd_traffic_samples_total{agent=\"10.207.0.1\"})")
        .into_iter()
        .map(|(l, v)| (l["direction"].as_str().unwrap_or("").to_string(), v))
        .collect();
    println!("flow samples received: {samples}, by direction: {per_direction:?}");
    let (up, down) = (f64::from(UP), f64::from(DOWN));
    // 4 standard deviations of 1-in-10 sampling, and a few packets the
    // namespaces send on their own.
    check_final(
        "uplink packets",
        &format!("wsflowd_traffic_packets_total{{{sel},direction=\"rx\"}}"),
        up,
        4.0 * sigma(up) + 20.0,
    );
    check_final(
        "downlink packets",
        &format!("wsflowd_traffic_packets_total{{{sel},direction=\"tx\"}}"),
        down,
        4.0 * sigma(down) + 20.0,
    );
    check_final(
        "uplink bytes",
        &format!("wsflowd_traffic_bytes_total{{{sel},direction=\"rx\"}}"),
        up * up_frame,
        (4.0 * sigma(up) + 20.0) * up_frame,
    );
    check_final(
        "downlink bytes",
        &format!("wsflowd_traffic_bytes_total{{{sel},direction=\"tx\"}}"),
        down * down_frame,
        (4.0 * sigma(down) + 20.0) * down_frame,
    );
    check_final(
        "per SSID, both directions",
        "sum by (ssid) (wsflowd_traffic_packets_total{ssid=\"wsflowd-lab\"})",
        up + down,
        4.0 * sigma(up + down) + 40.0,
    );
    let station = format!("station=\"{}\"", mac_text(&lab.sta_mac));
    check_final(
        "packets from the station",
        &format!("wsflowd_station_packets_total{{{station},direction=\"rx\"}}"),
        up,
        4.0 * sigma(up) + 20.0,
    );
    check_final(
        "packets to the station",
        &format!("wsflowd_station_packets_total{{{station},direction=\"tx\"}}"),
        down,
        4.0 * sigma(down) + 20.0,
    );
    check(
        "station signal",
        &format!("wsflowd_station_signal_dbm{{{station}}}"),
        -57.0,
        0.0,
    );
    check(
        "station rate up",
        &format!("wsflowd_station_phy_rate_bytes_per_second{{{station},direction=\"rx\"}}"),
        144.4e6 / 8.0,
        0.0,
    );
    check(
        "station rate down",
        &format!("wsflowd_station_phy_rate_bytes_per_second{{{station},direction=\"tx\"}}"),
        130e6 / 8.0,
        0.0,
    );
    // The pool counts every packet the interface saw; the estimates add
    // up to it (the first sample stands for the sampling rate, the others
    // share the pool from there on).
    check_final(
        "sample pool",
        "sum(wsflowd_sample_pool_packets_total{agent=\"10.207.0.1\"})",
        up + down,
        40.0,
    );
    let pool =
        prometheus.query("sum(wsflowd_sample_pool_packets_total{agent=\"10.207.0.1\"})")[0].1;
    check_final(
        "estimates against the pool",
        "sum(wsflowd_traffic_packets_total{agent=\"10.207.0.1\"})",
        pool,
        3.0 * rate,
    );
    check(
        "sampling rate",
        "max(wsflowd_sampling_rate{agent=\"10.207.0.1\"})",
        10.0,
        0.0,
    );
    // Counters.
    let wlan0 = format!("agent=\"10.207.0.1\",ifindex=\"{}\"", lab.wlan0);
    check(
        "associated stations",
        &format!("wsflowd_dot11_associated_stations{{{wlan0}}}"),
        1.0,
        0.0,
    );
    check(
        "stations per SSID",
        "sum by (ssid) (wsflowd_dot11_associated_stations * on (agent, sub_agent, ifindex) group_left (ssid) wsflowd_bss_info)",
        1.0,
        0.0,
    );
    check(
        "on-channel time",
        &format!("wsflowd_radio_on_channel_seconds_total{{{wlan0}}}"),
        610.0,
        0.0,
    );
    check(
        "channel busy ratio",
        &format!("wsflowd_radio_channel_busy_ratio{{{wlan0}}}"),
        0.4,
        1e-9,
    );
    check(
        "busy ratio in PromQL",
        &format!(
            "increase(wsflowd_radio_on_channel_busy_seconds_total{{{wlan0}}}[1m]) / increase(wsflowd_radio_on_channel_seconds_total{{{wlan0}}}[1m])"
        ),
        0.4,
        1e-9,
    );
    // A veth has no 802.11 statistics: those counters are unavailable,
    // so absent.
    check(
        "no ACK failures series",
        "absent(wsflowd_dot11_ack_failures_total)",
        1.0,
        0.0,
    );
    // The interface counters are the kernel's.
    let kernel_rx_bytes = lab.ap.stat("wlan0", "rx_bytes") as f64;
    check(
        "interface bytes received",
        &format!("wsflowd_interface_receive_bytes_total{{{wlan0}}}"),
        kernel_rx_bytes,
        0.0,
    );
    check(
        "no datagram lost",
        "wsflowd_agent_datagrams_lost_total{agent=\"10.207.0.1\"}",
        0.0,
        0.0,
    );
    check("scrapes succeed", "up{job=\"wsflowd\"}", 1.0, 0.0);

    // The agent restarts: counted, and its pool is a counter reset.
    assert!(agent.stop().success());
    thread::sleep(Duration::from_millis(2_500));
    agent = AgentProcess::start(&lab.ap, &cfg.path);
    assert!(agent.wait_for_log("sampling wlan0", Duration::from_secs(5)));
    send_udp(
        &lab.sta,
        "10.207.0.2:0",
        "10.207.0.1:7001",
        200,
        100,
        10_000,
    )
    .join()
    .unwrap();
    check(
        "restarts",
        "wsflowd_agent_restarts_total{agent=\"10.207.0.1\"}",
        1.0,
        0.0,
    );
    check(
        "uptime since the restart",
        "count(wsflowd_agent_uptime_seconds{agent=\"10.207.0.1\"} < 30)",
        1.0,
        0.0,
    );
    check(
        "the pool restarted",
        "sum(resets(wsflowd_sample_pool_packets_total{agent=\"10.207.0.1\"}[2m]))",
        1.0,
        0.0,
    );
    assert!(agent.stop().success());
    drop(collect);
}
