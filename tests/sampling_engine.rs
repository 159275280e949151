//! The sampling engine, as root in namespaces the tests create: the access
//! point's packet paths through a Linux bridge, sampling statistics at
//! 1-in-10 and 1-in-100, exact pools, ring overruns counted as drops, the
//! classic BPF fallback, and interfaces deleted and re-created.

mod common;

use std::net::UdpSocket;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use wsflowd::sflow::*;

/// A flow sample with what the tests look at.
#[derive(Debug, Clone)]
struct Flow {
    source: u32,
    rate: u32,
    pool: u32,
    drops: u32,
    input: Interface,
    output: Interface,
    header: Vec<u8>,
}

impl Flow {
    /// IPv4 protocol and UDP destination port of the sampled frame.
    fn udp_port(&self) -> Option<u16> {
        let h = &self.header;
        if h.len() < 38 || h[12..14] != [0x08, 0x00] || h[23] != 17 {
            return None;
        }
        let ihl = usize::from(h[14] & 0x0f) * 4;
        let at = 14 + ihl + 2;
        Some(u16::from_be_bytes([*h.get(at)?, *h.get(at + 1)?]))
    }

    fn icmp_type(&self) -> Option<u8> {
        let h = &self.header;
        if h.len() < 35 || h[12..14] != [0x08, 0x00] || h[23] != 1 {
            return None;
        }
        h.get(14 + usize::from(h[14] & 0x0f) * 4).copied()
    }
}

fn flows(datagrams: &Datagrams) -> Vec<Flow> {
    let mut out = Vec::new();
    for (_, bytes) in datagrams {
        let d = Datagram::parse(bytes).unwrap();
        for s in d.samples.iter() {
            if let Sample::Flow(_, f) = s.unwrap() {
                let header = f
                    .records
                    .iter()
                    .find_map(|r| match r.unwrap() {
                        FlowRecord::SampledHeader(h) => Some(h.header.to_vec()),
                        _ => None,
                    })
                    .unwrap_or_default();
                out.push(Flow {
                    source: f.source.index,
                    rate: f.sampling_rate,
                    pool: f.sample_pool,
                    drops: f.drops,
                    input: f.input,
                    output: f.output,
                    header,
                });
            }
        }
    }
    out
}

/// Sends `count` UDP datagrams from `ns`, bound to `from`, to `to:port`,
/// paced at about `rate` per second.
fn send(ns: &Netns, from: &str, to: &str, port: u16, count: u32, rate: u32) {
    let (from, to) = (format!("{from}:0"), format!("{to}:{port}"));
    ns.spawn(move || {
        let s = UdpSocket::bind(from).unwrap();
        let start = Instant::now();
        for i in 0..count {
            if i % 50 == 0 {
                let due = Duration::from_secs_f64(f64::from(i) / f64::from(rate));
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    thread::sleep(wait);
                }
            }
            s.send_to(&i.to_be_bytes(), &to).unwrap();
        }
    })
    .join()
    .unwrap();
}

fn agent_config(interfaces: &[&str], rate: u32, port: u16, extra: &str) -> String {
    let mut c = format!(
        "config agent 'agent'\n\toption sampling_rate '{rate}'\n\toption polling_interval '0'\n{extra}"
    );
    for i in interfaces {
        c += &format!("\tlist interface '{i}'\n");
    }
    c + &format!("\nconfig collector\n\toption address '127.0.0.1'\n\toption port '{port}'\n")
}

/// The access point: a bridge with a "wired" port and a "wireless" port
/// (in hairpin mode, as a radio relays between its stations), a wired
/// host, and two stations behind the wireless port (VEPA macvlans, so that
/// station-to-station traffic goes through the access point).
struct AccessPoint {
    ap: Netns,
    wired_host: Netns,
    /// The "air" between the radio and its stations; kept for its lifetime.
    _air: Netns,
    sta1: Netns,
    sta2: Netns,
}

impl AccessPoint {
    fn new() -> AccessPoint {
        let ap = Netns::new("wsfap");
        let wired_host = Netns::new("wsfwh");
        let air = Netns::new("wsfair");
        let sta1 = Netns::new("wsfs1");
        let sta2 = Netns::new("wsfs2");
        ap.exec(&["ip", "link", "add", "br-lan", "type", "bridge"]);
        // No STP delays: ports forward at once.
        ap.exec(&[
            "ip",
            "link",
            "set",
            "br-lan",
            "type",
            "bridge",
            "forward_delay",
            "0",
        ]);
        sh(&[
            "ip",
            "link",
            "add",
            "eth0",
            "netns",
            &ap.name,
            "type",
            "veth",
            "peer",
            "name",
            "h0",
            "netns",
            &wired_host.name,
        ]);
        sh(&[
            "ip", "link", "add", "wlan0", "netns", &ap.name, "type", "veth", "peer", "name",
            "air0", "netns", &air.name,
        ]);
        for port in ["eth0", "wlan0"] {
            ap.exec(&["ip", "link", "set", port, "master", "br-lan"]);
            ap.exec(&["ip", "link", "set", port, "up"]);
        }
        ap.exec(&[
            "ip",
            "link",
            "set",
            "dev",
            "wlan0",
            "type",
            "bridge_slave",
            "hairpin",
            "on",
        ]);
        ap.exec(&["ip", "addr", "add", "10.203.0.1/24", "dev", "br-lan"]);
        ap.exec(&["ip", "link", "set", "br-lan", "up"]);
        wired_host.exec(&["ip", "addr", "add", "10.203.0.10/24", "dev", "h0"]);
        wired_host.exec(&["ip", "link", "set", "h0", "up"]);
        air.exec(&["ip", "link", "set", "air0", "up"]);
        for (n, sta) in [(1, &sta1), (2, &sta2)] {
            let name = format!("sta{n}");
            air.exec(&[
                "ip", "link", "add", &name, "link", "air0", "type", "macvlan", "mode", "vepa",
            ]);
            air.exec(&["ip", "link", "set", &name, "netns", &sta.name]);
            sta.exec(&[
                "ip",
                "addr",
                "add",
                &format!("10.203.0.2{n}/24"),
                "dev",
                &name,
            ]);
            sta.exec(&["ip", "link", "set", &name, "up"]);
        }
        AccessPoint {
            ap,
            wired_host,
            _air: air,
            sta1,
            sta2,
        }
    }
}

#[test]
fn access_point_paths_through_a_bridge() {
    if !root_or_skip("access_point_paths_through_a_bridge") {
        return;
    }
    let net = AccessPoint::new();
    let collector = Collector::start(&net.ap);
    let cfg = TempConfig::new(&agent_config(&["eth0", "wlan0"], 1, collector.port, ""));
    let agent = AgentProcess::start(&net.ap, &cfg.path);
    assert!(agent.wait_for_log("sampling wlan0", Duration::from_secs(5)));
    assert!(agent.wait_for_log("sampling eth0", Duration::from_secs(5)));
    let eth0 = net.ap.if_index("eth0");
    let wlan0 = net.ap.if_index("wlan0");
    // Let every address be learned (and ARP resolved) before counting.
    for (ns, from) in [
        (&net.sta1, "10.203.0.21"),
        (&net.sta2, "10.203.0.22"),
        (&net.wired_host, "10.203.0.10"),
    ] {
        for to in ["10.203.0.1", "10.203.0.10", "10.203.0.21", "10.203.0.22"] {
            if to != from {
                send(ns, from, to, 9, 2, 1000);
            }
        }
    }
    thread::sleep(Duration::from_millis(300));

    const N: u32 = 50;
    // wired → wireless, wireless → wired, station → station on one radio.
    send(&net.wired_host, "10.203.0.10", "10.203.0.21", 5001, N, 2000);
    send(&net.sta1, "10.203.0.21", "10.203.0.10", 5002, N, 2000);
    send(&net.sta1, "10.203.0.21", "10.203.0.22", 5003, N, 2000);
    // To the access point itself (a UDP socket there), and its answers.
    let (bound_tx, bound) = std::sync::mpsc::channel();
    let ap_sink = net.ap.spawn(move || {
        let s = UdpSocket::bind("10.203.0.1:5004").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        bound_tx.send(()).unwrap();
        let mut buf = [0u8; 64];
        for _ in 0..N {
            let (n, from) = s.recv_from(&mut buf).unwrap();
            s.send_to(&buf[..n], (from.ip(), 5005)).unwrap();
        }
    });
    // Only once the socket exists (else: port unreachable, lost frames).
    bound.recv().unwrap();
    send(&net.sta2, "10.203.0.22", "10.203.0.1", 5004, N, 2000);
    ap_sink.join().unwrap();
    thread::sleep(Duration::from_millis(1_500));
    assert!(agent.stop().success());

    let all = flows(&collector.snapshot());
    let by_port =
        |port: u16| -> Vec<&Flow> { all.iter().filter(|f| f.udp_port() == Some(port)).collect() };
    let expect = |port: u16, source: u32, input: Interface, output: Interface, what: &str| {
        let f = by_port(port);
        // Each frame is a candidate once, where it entered the device.
        assert_eq!(
            f.len(),
            N as usize,
            "{what}: {} samples for {N} frames",
            f.len()
        );
        for s in f {
            assert_eq!(s.source, source, "{what}: data source");
            assert_eq!((s.input, s.output), (input, output), "{what}");
            assert_eq!(s.rate, 1);
        }
        println!("{what}: {N} frames, {N} samples on ifIndex {source}, input {input:?}, output {output:?}");
    };
    let (e, w) = (Interface::index(eth0), Interface::index(wlan0));
    expect(5001, eth0, e, w, "wired to wireless");
    expect(5002, wlan0, w, e, "wireless to wired");
    expect(5003, wlan0, w, w, "station to station on one radio");
    expect(5004, wlan0, w, Interface::INTERNAL, "to the access point");
    expect(5005, wlan0, Interface::INTERNAL, w, "from the access point");
    // Every sample's pool is the exact count of candidates (1-in-1).
    for source in [eth0, wlan0] {
        let f: Vec<&Flow> = all.iter().filter(|f| f.source == source).collect();
        for (i, s) in f.iter().enumerate() {
            assert_eq!(s.pool as usize, i + 1, "pool of sample {i} on {source}");
            assert_eq!(s.drops, 0);
        }
    }
}

/// Samples `count` packets at 1-in-`rate` on a veth and checks the count
/// is within 4 standard deviations and the pool exact to 0.1%.
fn sampling_statistics(rate: u32, count: u32) {
    let net = VethPair::new();
    let collector = Collector::start(&net.a);
    let cfg = TempConfig::new(&agent_config(&[&net.a_if], rate, collector.port, ""));
    let sink = net.a.spawn(|| {
        let s = UdpSocket::bind("0.0.0.0:9999").unwrap();
        thread::sleep(Duration::from_secs(30));
        drop(s);
    });
    let agent = AgentProcess::start(&net.a, &cfg.path);
    assert!(agent.wait_for_log("eBPF filter, exact pool", Duration::from_secs(5)));
    let before = net.a.stat(&net.a_if, "rx_packets") + net.a.stat(&net.a_if, "tx_packets");
    send(&net.b, &net.b_addr, &net.a_addr, 9999, count, 20_000);
    thread::sleep(Duration::from_millis(1_500));
    let after = net.a.stat(&net.a_if, "rx_packets") + net.a.stat(&net.a_if, "tx_packets");
    assert!(agent.stop().success());
    drop(sink);
    let f = flows(&collector.snapshot());
    let n = f.len() as f64;
    let p = 1.0 / f64::from(rate);
    let expected = f64::from(count) * p;
    let sigma = (f64::from(count) * p * (1.0 - p)).sqrt();
    let crossed = after - before;
    let pool = f.last().map_or(0, |s| s.pool);
    println!(
        "1-in-{rate}: {} samples for {count} packets (expected {expected:.0} ± {:.0} at 4σ); last pool {pool}, packets crossing {crossed}",
        f.len(),
        4.0 * sigma
    );
    assert!((n - expected).abs() <= 4.0 * sigma, "{} samples", f.len());
    // The last sample is at most a few frames before the end of the
    // traffic; the pool counts from when the socket opened.
    let error = (crossed as f64 - f64::from(pool)).abs() / crossed as f64;
    assert!(
        error <= 0.001 + f64::from(rate) * 4.0 / crossed as f64,
        "pool {pool} vs {crossed}"
    );
    assert!(f.iter().all(|s| s.rate == rate && s.drops == 0));
}

#[test]
fn one_in_ten_and_one_in_a_hundred() {
    if !root_or_skip("one_in_ten_and_one_in_a_hundred") {
        return;
    }
    sampling_statistics(10, 20_000);
    sampling_statistics(100, 40_000);
}

#[test]
fn an_overrun_ring_counts_drops() {
    if !root_or_skip("an_overrun_ring_counts_drops") {
        return;
    }
    let net = VethPair::new();
    let collector = Collector::start(&net.a);
    let extra = "\toption ring_kib '16'\n";
    let cfg = TempConfig::new(&agent_config(&[&net.a_if], 1, collector.port, extra));
    let sink = net.a.spawn(|| {
        let s = UdpSocket::bind("0.0.0.0:9999").unwrap();
        thread::sleep(Duration::from_secs(30));
        drop(s);
    });
    let agent = AgentProcess::start(&net.a, &cfg.path);
    assert!(agent.wait_for_log("16 KiB ring", Duration::from_secs(5)));
    // A stopped agent cannot empty its ring: the burst overruns it.
    agent.signal(libc::SIGSTOP);
    send(&net.b, &net.b_addr, &net.a_addr, 9999, 3_000, 100_000);
    agent.signal(libc::SIGCONT);
    // The next frames are sampled with the drops counted so far.
    send(&net.b, &net.b_addr, &net.a_addr, 9999, 10, 1_000);
    thread::sleep(Duration::from_millis(1_500));
    let agent_log = agent.log.clone();
    assert!(agent.stop().success());
    thread::sleep(Duration::from_millis(100));
    let agent_log = agent_log.lock().unwrap().clone();
    drop(sink);
    let f = flows(&collector.snapshot());
    let last = f.last().expect("samples");
    if std::env::var_os("WSFLOWD_TEST_VERBOSE").is_some() {
        for (i, s) in f.iter().enumerate() {
            println!(
                "sample {i}: pool {} drops {} port {:?} {:02x?}",
                s.pool,
                s.drops,
                s.udp_port(),
                &s.header[12..14]
            );
        }
    }
    println!(
        "overrun: {} samples received, last pool {}, drops {}",
        f.len(),
        last.pool,
        last.drops
    );
    assert!(last.drops > 0, "no drops reported");
    assert!(u64::from(last.pool) >= f.len() as u64 + u64::from(last.drops));
    // At exit the agent logs its final counts: every frame the filter
    // accepted was either read (a sample) or lost to the full ring (a
    // drop), and the pool counted each of them.
    let line = agent_log_line(&agent_log, "accepted by the filter");
    let count = |name: &str| -> u64 {
        let at = line
            .find(name)
            .unwrap_or_else(|| panic!("{name} in {line}"))
            + name.len();
        line[at..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap()
    };
    let (pool, samples, drops, accepted) = (
        count("pool"),
        count("frames read"),
        count("drops"),
        count("accepted by the filter"),
    );
    println!("final: pool {pool}, samples {samples}, drops {drops}, accepted {accepted}");
    assert_eq!(pool, accepted);
    assert_eq!(pool, samples + drops);
    assert_eq!(samples, f.len() as u64);
}

fn agent_log_line(log: &[String], needle: &str) -> String {
    log.iter()
        .find(|l| l.contains(needle))
        .cloned()
        .unwrap_or_else(|| panic!("no log line with {needle:?}"))
}

/// Pings the agent's side of `net` 20 times; false if ping is missing
/// (then UDP datagrams went one way instead).
fn ping_a(net: &VethPair) -> bool {
    let out = net
        .b
        .command("ping")
        .args(["-c", "20", "-i", "0.01", "-q", &net.a_addr])
        .output();
    let pinged = out.map(|o| o.status.success()).unwrap_or(false);
    if !pinged {
        send(&net.b, &net.b_addr, &net.a_addr, 9, 20, 1000);
    }
    pinged
}

/// With CAP_NET_RAW alone (classic BPF) on the only sampled interface:
/// both directions, each frame once (at 1-in-1 every frame the interface
/// received or sent is a sample), and the pool from the interface's
/// receive and transmit counters.
#[test]
fn classic_filter_alone_samples_both_directions_with_the_counters_as_pool() {
    if !root_or_skip("classic_filter_alone_samples_both_directions_with_the_counters_as_pool") {
        return;
    }
    let net = VethPair::new();
    let collector = Collector::start(&net.a);
    let extra = "\toption sampling_filter 'classic'\n";
    let cfg = TempConfig::new(&agent_config(&[&net.a_if], 1, collector.port, extra));
    let agent = AgentProcess::start(&net.a, &cfg.path);
    assert!(agent.wait_for_log(
        "classic BPF filter, both directions",
        Duration::from_secs(5)
    ));
    let counted = || net.a.stat(&net.a_if, "rx_packets") + net.a.stat(&net.a_if, "tx_packets");
    let before = counted();
    let pinged = ping_a(&net);
    thread::sleep(Duration::from_millis(500));
    let crossed = counted() - before;
    assert!(agent.stop().success());
    let f = flows(&collector.snapshot());
    let a = Interface::index(net.a.if_index(&net.a_if));
    let (requests, replies) = (
        f.iter().filter(|s| s.icmp_type() == Some(8)).count(),
        f.iter().filter(|s| s.icmp_type() == Some(0)).count(),
    );
    println!(
        "classic alone, 1-in-1: {} samples ({requests} echo requests, {replies} replies), {crossed} frames crossed, last pool {}",
        f.len(),
        f.last().map_or(0, |s| s.pool)
    );
    if pinged {
        assert_eq!((requests, replies), (20, 20));
    }
    for s in &f {
        let ingress = s.input == a;
        assert!(ingress || s.output == a, "{s:?}");
    }
    assert!(f.iter().any(|s| s.output == a), "no egress sample");
    // Every frame that crossed is a sample, and the pool counted each.
    assert_eq!(f.len() as u64, crossed);
    for (i, s) in f.iter().enumerate() {
        assert_eq!(u64::from(s.pool), i as u64 + 1, "pool of sample {i}");
    }
}

/// Classic BPF beside another sampled interface: a frame forwarded
/// between the two would be counted on both, and classic BPF cannot tell
/// where a frame entered: ingress only, the pool from the receive
/// counter, and the log says so.
#[test]
fn classic_filter_samples_ingress_only_beside_another_sampled_interface() {
    if !root_or_skip("classic_filter_samples_ingress_only_beside_another_sampled_interface") {
        return;
    }
    let net = VethPair::new();
    net.a.exec(&[
        "ip", "link", "add", "veth-x", "type", "veth", "peer", "name", "veth-y",
    ]);
    let collector = Collector::start(&net.a);
    let extra = "\toption sampling_filter 'classic'\n";
    let cfg = TempConfig::new(&agent_config(
        &[&net.a_if, "veth-x"],
        1,
        collector.port,
        extra,
    ));
    let agent = AgentProcess::start(&net.a, &cfg.path);
    assert!(agent.wait_for_log("sampling veth-x", Duration::from_secs(5)));
    assert!(agent.wait_for_log("veth-a (ifIndex", Duration::from_secs(5)));
    assert_eq!(agent.log_count("classic BPF filter, ingress only"), 2);
    let rx_before = net.a.stat(&net.a_if, "rx_packets");
    let pinged = ping_a(&net);
    thread::sleep(Duration::from_millis(500));
    let rx_after = net.a.stat(&net.a_if, "rx_packets");
    assert!(agent.stop().success());
    let source = net.a.if_index(&net.a_if);
    let f: Vec<Flow> = flows(&collector.snapshot())
        .into_iter()
        .filter(|s| s.source == source)
        .collect();
    assert!(!f.is_empty());
    assert!(f.iter().all(|s| s.input == Interface::index(source)));
    if pinged {
        assert!(
            f.iter().all(|s| s.icmp_type() != Some(0)),
            "echo replies are egress"
        );
    }
    let pool = f.last().unwrap().pool;
    assert_eq!(
        u64::from(pool),
        rx_after - rx_before,
        "pool = frames received"
    );
}

/// Sends frames out of `ifname` from a packet socket whose protocol is
/// `protocol` (what `skb->protocol` becomes): `count` of them to
/// `destination`, each carrying `tag`.
fn send_raw(ns: &Netns, ifname: &str, protocol: u16, destination: [u8; 6], tag: u8, count: u32) {
    use std::os::fd::AsFd;
    use wsflowd::sys::socket::{self, PacketAddr};
    let if_index = ns.if_index(ifname);
    ns.spawn(move || {
        let fd = socket::socket(libc::AF_PACKET, libc::SOCK_RAW, 0).unwrap();
        socket::bind(fd.as_fd(), &PacketAddr::new(if_index, protocol)).unwrap();
        let mut frame = [0u8; 60];
        frame[..6].copy_from_slice(&destination);
        frame[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x77]);
        // An 802.3 length and an LLC header (null SAPs), as mac80211's
        // relayed frames may be; the tag after it.
        frame[12..14].copy_from_slice(&6u16.to_be_bytes());
        frame[17] = tag;
        for _ in 0..count {
            socket::send(fd.as_fd(), &frame, 0).unwrap();
        }
    })
    .join()
    .unwrap();
}

/// mac80211 relays a group-addressed frame from a station back to the
/// BSS as a copy (`protocol` ETH_P_802_3, egress) while the frame itself
/// goes up the stack (ingress, a candidate): the copy is not a candidate
/// again. Other egress frames are, with that protocol (a unicast relay)
/// or to a group address (sent by the host). Both filters (classic on its
/// own interface), 1-in-1, frames made with a packet socket whose
/// protocol is ETH_P_802_3 as mac80211's copies are.
#[test]
fn relay_copies_of_group_addressed_frames_are_not_candidates() {
    if !root_or_skip("relay_copies_of_group_addressed_frames_are_not_candidates") {
        return;
    }
    for filter in ["ebpf", "classic"] {
        let net = VethPair::new();
        let collector = Collector::start(&net.a);
        let extra = format!("\toption sampling_filter '{filter}'\n");
        let cfg = TempConfig::new(&agent_config(&[&net.a_if], 1, collector.port, &extra));
        let agent = AgentProcess::start(&net.a, &cfg.path);
        assert!(agent.wait_for_log("sampling veth-a", Duration::from_secs(5)));
        let tx_before = net.a.stat(&net.a_if, "tx_packets");
        const BROADCAST: [u8; 6] = [0xff; 6];
        const IPV4_MULTICAST: [u8; 6] = [0x01, 0x00, 0x5e, 0, 0, 1];
        const UNICAST: [u8; 6] = [0x02, 0, 0, 0, 0, 0x42];
        send_raw(&net.a, &net.a_if, 0x0001, BROADCAST, 1, 5);
        send_raw(&net.a, &net.a_if, 0x0001, IPV4_MULTICAST, 2, 4);
        send_raw(&net.a, &net.a_if, 0x0001, UNICAST, 3, 7);
        send_raw(&net.a, &net.a_if, 0x0800, BROADCAST, 4, 3);
        thread::sleep(Duration::from_millis(300));
        let sent = net.a.stat(&net.a_if, "tx_packets") - tx_before;
        assert!(agent.stop().success());
        let f = flows(&collector.snapshot());
        let tagged = |tag: u8| {
            f.iter()
                .filter(|s| s.header.len() > 17 && s.header[6..12] == [2, 0, 0, 0, 0, 0x77])
                .filter(|s| s.header[17] == tag)
                .count()
        };
        let counts = [tagged(1), tagged(2), tagged(3), tagged(4)];
        println!(
            "{filter}: {sent} frames sent, samples of each kind: {counts:?} (relay copies to broadcast, to multicast; unicast relay; broadcast by the host)"
        );
        assert_eq!(sent, 19);
        assert_eq!(counts, [0, 0, 7, 3], "{filter}");
        if filter == "ebpf" {
            // The pool counted the candidates only (at 1-in-1: the samples).
            for (i, s) in f.iter().enumerate() {
                assert_eq!(s.pool as usize, i + 1, "{filter}: pool of sample {i}");
            }
        } else {
            // The interface's counters count the relay copies too: the
            // classic pool's known excess (docs/configuration.md).
            let last = f.last().map_or(0, |s| s.pool) as usize;
            assert_eq!(last, f.len() + 9, "classic: pool");
        }
    }
}

/// At 1-in-1 the pool is the samples, to the last frame: frames still in
/// the block the kernel was filling when the agent was told to stop are
/// read before it exits (it waits for the kernel to hand the block over),
/// and no batch's pool counts frames that come after it.
#[test]
fn at_one_in_one_the_pool_is_the_samples_to_the_last_frame() {
    if !root_or_skip("at_one_in_one_the_pool_is_the_samples_to_the_last_frame") {
        return;
    }
    let net = VethPair::new();
    let collector = Collector::start(&net.a);
    let cfg = TempConfig::new(&agent_config(&[&net.a_if], 1, collector.port, ""));
    let sink = net.a.spawn(|| {
        let s = UdpSocket::bind("0.0.0.0:9999").unwrap();
        thread::sleep(Duration::from_secs(20));
        drop(s);
    });
    let agent = AgentProcess::start(&net.a, &cfg.path);
    assert!(agent.wait_for_log("eBPF filter, exact pool", Duration::from_secs(5)));
    // Bursts that end in blocks the kernel still fills, read while the
    // next burst arrives.
    for _ in 0..5 {
        send(&net.b, &net.b_addr, &net.a_addr, 9999, 300, 30_000);
        thread::sleep(Duration::from_millis(30));
    }
    // The last burst, then stop at once: its frames are still in the
    // kernel's block (handed over after 100 to 200 ms).
    send(&net.b, &net.b_addr, &net.a_addr, 9999, 50, 50_000);
    let agent_log = agent.log.clone();
    assert!(agent.stop().success());
    thread::sleep(Duration::from_millis(100));
    drop(sink);
    let f = flows(&collector.snapshot());
    let datagrams = f.iter().filter(|s| s.udp_port() == Some(9999)).count();
    println!(
        "1-in-1: {} samples, {datagrams} of the 1,550 datagrams",
        f.len()
    );
    assert_eq!(datagrams, 1_550);
    for (i, s) in f.iter().enumerate() {
        assert_eq!(s.pool as usize, i + 1, "pool of sample {i}");
        assert_eq!(s.drops, 0);
    }
    let line = agent_log_line(&agent_log.lock().unwrap(), "accepted by the filter");
    let figures = exit_figures(&line);
    println!("exit: {line}");
    assert_eq!(
        figures,
        [f.len() as u64, f.len() as u64, 0, f.len() as u64],
        "pool, frames read, drops, accepted"
    );
}

/// A change of rate applies at once: the program gets a new map whose
/// countdowns are drawn for the new rate (an old countdown could hold
/// back the first sample by up to twice the old rate), and the pool goes
/// on exactly, across the old map and the new.
#[test]
fn a_new_rate_applies_at_once_with_the_pool_exact() {
    if !root_or_skip("a_new_rate_applies_at_once_with_the_pool_exact") {
        return;
    }
    let net = VethPair::new();
    let collector = Collector::start(&net.a);
    let cfg = TempConfig::new(&agent_config(&[&net.a_if], 20_000, collector.port, ""));
    let sink = net.a.spawn(|| {
        let s = UdpSocket::bind("0.0.0.0:9999").unwrap();
        thread::sleep(Duration::from_secs(30));
        drop(s);
    });
    let agent = AgentProcess::start(&net.a, &cfg.path);
    assert!(agent.wait_for_log("eBPF filter, exact pool", Duration::from_secs(5)));
    let counted = || net.a.stat(&net.a_if, "rx_packets") + net.a.stat(&net.a_if, "tx_packets");
    let start = counted();
    send(&net.b, &net.b_addr, &net.a_addr, 9999, 5_000, 20_000);
    cfg.rewrite(&agent_config(&[&net.a_if], 10, collector.port, ""));
    agent.signal(libc::SIGHUP);
    assert!(agent.wait_for_log("sampling rate now 1-in-10", Duration::from_secs(3)));
    let mark = collector.snapshot().len();
    let before = counted();
    const COUNT: u32 = 10_000;
    send(&net.b, &net.b_addr, &net.a_addr, 9999, COUNT, 20_000);
    thread::sleep(Duration::from_millis(300));
    let end = counted();
    assert!(agent.stop().success());
    drop(sink);
    let all = collector.snapshot();
    let after: Vec<Flow> = flows(&all[mark..].to_vec())
        .into_iter()
        .filter(|s| s.rate == 10)
        .collect();
    let crossed = end - before;
    let n = crossed as f64;
    let sigma = (n * 0.1 * 0.9).sqrt();
    println!(
        "1-in-20,000 then 1-in-10: {} samples at 1-in-10 for {crossed} frames (expected {:.0} ± {:.0}); last pool {}, {} frames since the agent started",
        after.len(),
        n / 10.0,
        4.0 * sigma,
        after.last().map_or(0, |s| s.pool),
        end - start
    );
    assert!((after.len() as f64 - n / 10.0).abs() <= 4.0 * sigma);
    // The pool is every frame since the socket opened, both maps'.
    let last = u64::from(after.last().unwrap().pool);
    assert!(last <= end - start && last + 40 >= end - start, "{last}");
    let pools: Vec<u32> = flows(&all).iter().map(|s| s.pool).collect();
    assert!(pools.windows(2).all(|w| w[0] < w[1]), "{pools:?}");
}

/// The exit log's pool, frames read, drops and accepted frames.
fn exit_figures(line: &str) -> [u64; 4] {
    ["pool", "frames read", "drops", "accepted by the filter"].map(|name| {
        let at = line
            .find(name)
            .unwrap_or_else(|| panic!("{name} in {line}"))
            + name.len();
        line[at..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap()
    })
}

#[test]
fn a_recreated_interface_is_sampled_again_at_once_without_spinning() {
    if !root_or_skip("a_recreated_interface_is_sampled_again_at_once_without_spinning") {
        return;
    }
    let ns = Netns::new("wsfrc");
    let collector = Collector::start(&ns);
    let cfg = TempConfig::new(&agent_config(&["wlan0", "eth9"], 1, collector.port, ""));
    ns.exec(&[
        "ip", "link", "add", "wlan0", "type", "veth", "peer", "name", "peer0",
    ]);
    ns.exec(&[
        "ip", "link", "add", "eth9", "type", "veth", "peer", "name", "peer9",
    ]);
    for i in ["wlan0", "peer0", "eth9", "peer9"] {
        ns.exec(&["ip", "link", "set", i, "up"]);
    }
    let agent = AgentProcess::start(&ns, &cfg.path);
    assert!(agent.wait_for_log("sampling wlan0", Duration::from_secs(5)));
    // `ip netns exec` execs the agent: the child is the agent.
    let pid = agent.child.id();
    let opened = |agent: &AgentProcess| {
        agent
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("sampling wlan0"))
            .count()
    };
    // A wifi reload: the interface goes away for a while.
    ns.exec(&["ip", "link", "del", "wlan0"]);
    let cpu_before = process::process_ticks(pid);
    thread::sleep(Duration::from_secs(2));
    let cpu_gone = process::process_ticks(pid) - cpu_before;
    ns.exec(&[
        "ip", "link", "add", "wlan0", "type", "veth", "peer", "name", "peer0",
    ]);
    let created = Instant::now();
    ns.exec(&["ip", "link", "set", "wlan0", "up"]);
    while opened(&agent) < 2 && created.elapsed() < Duration::from_secs(3) {
        thread::sleep(Duration::from_millis(5));
    }
    let delay = created.elapsed();
    println!(
        "re-created wlan0 sampled again after {} ms; CPU used while it was gone: {} ticks in 2 s",
        delay.as_millis(),
        cpu_gone
    );
    assert_eq!(opened(&agent), 2);
    assert!(delay < Duration::from_secs(1), "took {delay:?}");
    // No busy loop: a spinning agent would burn ~200 ticks in 2 s.
    assert!(
        cpu_gone <= 5,
        "{cpu_gone} ticks of CPU while the interface was gone"
    );
    // The other interface was never disturbed.
    let eth9_opened = agent
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("sampling eth9"))
        .count();
    assert_eq!(eth9_opened, 1);
    assert!(agent.stop().success());
}

#[test]
fn the_default_rate_follows_the_link_speed() {
    if !root_or_skip("the_default_rate_follows_the_link_speed") {
        return;
    }
    let net = VethPair::new();
    let speed: u64 = net
        .a
        .command("cat")
        .arg(format!("/sys/class/net/{}/speed", net.a_if))
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    let expected = wsflowd::config::sampling_rate_for_speed(speed * 1_000_000);
    let cfg = TempConfig::new(&format!(
        "config agent 'agent'\n\tlist interface '{}'\n\nconfig collector\n\toption address '127.0.0.1'\n",
        net.a_if
    ));
    let agent = AgentProcess::start(&net.a, &cfg.path);
    let line = format!("at 1-in-{expected}:");
    assert!(
        agent.wait_for_log(&line, Duration::from_secs(5)),
        "link speed {speed} Mbit/s: expected 1-in-{expected}"
    );
    println!("{} at {speed} Mbit/s: sampled 1-in-{expected}", net.a_if);
    assert!(agent.stop().success());
}
