//! End to end, as root: the agent samples real traffic on a veth in a
//! namespace the test creates and sends datagrams to a collector there.

mod common;

use std::net::UdpSocket;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use wsflowd::sflow::*;

/// Every sample the collector received, decoded, with the datagram's
/// uptime and arrival time.
struct Received<'a> {
    uptime: u32,
    arrived: Instant,
    sample: Sample<'a>,
}

fn decode(datagrams: &[(Instant, Vec<u8>)]) -> Vec<Received<'_>> {
    let mut out = Vec::new();
    for (arrived, bytes) in datagrams {
        let d = Datagram::parse(bytes).expect("the agent's datagrams decode");
        assert!(bytes.len() <= 1400, "datagram of {} bytes", bytes.len());
        for s in d.samples.iter() {
            out.push(Received {
                uptime: d.uptime,
                arrived: *arrived,
                sample: s.expect("sample decodes"),
            });
        }
    }
    out
}

/// Sends `count` UDP datagrams from namespace `from` to `to:port`, paced at
/// about `rate` per second.
fn send_udp(from: &Netns, to: &str, port: u16, count: u32, rate: u32) {
    let target = format!("{to}:{port}");
    from.spawn(move || {
        let s = UdpSocket::bind("0.0.0.0:0").unwrap();
        let start = Instant::now();
        for i in 0..count {
            // Pace in bursts of 100 so the agent's socket never overflows.
            if i % 100 == 0 {
                let due = Duration::from_secs_f64(f64::from(i) / f64::from(rate));
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    thread::sleep(wait);
                }
            }
            s.send_to(&i.to_be_bytes(), &target).unwrap();
        }
    })
    .join()
    .unwrap();
}

/// The data sources of the counter samples in one datagram.
fn decode_owned_counter_sources(bytes: &[u8]) -> Vec<DataSource> {
    let d = Datagram::parse(bytes).unwrap();
    d.samples
        .iter()
        .filter_map(|s| match s.unwrap() {
            Sample::Counters(_, c) => Some(c.source),
            _ => None,
        })
        .collect()
}

fn config(interface: &str, rate: u32, polling: u32, port: u16) -> String {
    format!(
        "config agent 'agent'
	option polling_interval '{polling}'
	option sampling_rate '{rate}'
	option header_bytes '128'
	list interface '{interface}'

config collector
	option address '127.0.0.1'
	option port '{port}'
"
    )
}

#[test]
fn samples_and_counters_match_the_kernel() {
    if !root_or_skip("samples_and_counters_match_the_kernel") {
        return;
    }
    let net = VethPair::new();
    let collector = Collector::start(&net.a);
    let cfg = TempConfig::new(&config(&net.a_if, 10, 2, collector.port));
    // A socket that takes the traffic (and never answers with ICMP).
    let sink_ns = net.a.spawn(|| {
        let s = UdpSocket::bind("0.0.0.0:9999").unwrap();
        thread::sleep(Duration::from_secs(60));
        drop(s);
    });
    thread::sleep(Duration::from_millis(100));
    let agent = AgentProcess::start(&net.a, &cfg.path);
    assert!(
        agent.wait_for_log("sampling veth-a", Duration::from_secs(5)),
        "agent did not start sampling"
    );
    let if_index = net.a.if_index(&net.a_if);
    let packets_before = net.a.stat(&net.a_if, "rx_packets") + net.a.stat(&net.a_if, "tx_packets");

    const SENT: u32 = 20_000;
    send_udp(&net.b, &net.a_addr, 9999, SENT, 10_000);
    // Traffic has stopped: wait until two counter samples were taken after
    // it, so the last one shows the final, now static, counters.
    let sent_at = Instant::now();
    let deadline = sent_at + Duration::from_secs(10);
    loop {
        let mine = |(t, d): &(Instant, Vec<u8>)| {
            decode_owned_counter_sources(d)
                .into_iter()
                .filter(|s| *s == DataSource::interface(if_index))
                .map(|_| *t)
                .collect::<Vec<_>>()
        };
        let times: Vec<Instant> = collector.snapshot().iter().flat_map(mine).collect();
        let after = times.iter().filter(|t| **t > sent_at).count();
        if after >= 2 && times.len() >= 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no counter samples after the traffic"
        );
        thread::sleep(Duration::from_millis(100));
    }
    let rx_packets = net.a.stat(&net.a_if, "rx_packets");
    let tx_packets = net.a.stat(&net.a_if, "tx_packets");
    let rx_bytes = net.a.stat(&net.a_if, "rx_bytes");
    let tx_bytes = net.a.stat(&net.a_if, "tx_bytes");
    let status = agent.stop();
    assert!(status.success(), "agent exit status {status}");
    thread::sleep(Duration::from_millis(200));
    drop(sink_ns);

    let datagrams = collector.snapshot();
    let received = decode(&datagrams);

    // --- Flow samples: count within 4 standard deviations of N/10. ---
    let flows: Vec<&FlowSample> = received
        .iter()
        .filter_map(|r| match &r.sample {
            Sample::Flow(SampleForm::Compact, f) if f.source == DataSource::interface(if_index) => {
                Some(f)
            }
            _ => None,
        })
        .collect();
    let crossed = rx_packets + tx_packets - packets_before;
    let n = flows.len() as f64;
    let expected = f64::from(SENT) / 10.0;
    let sigma = (f64::from(SENT) * 0.1 * 0.9).sqrt();
    println!(
        "flow samples: {} (expected {expected} +- {:.0} at 4 sigma); packets crossing veth-a: {crossed}",
        flows.len(),
        4.0 * sigma
    );
    assert!(
        (n - expected).abs() <= 4.0 * sigma,
        "{} flow samples for {SENT} packets at 1-in-10",
        flows.len()
    );

    // --- Each sample's rate and pool are consistent. ---
    let mut last_pool = 0u32;
    let mut last_seq = 0u32;
    for f in &flows {
        assert_eq!(f.sampling_rate, 10);
        assert!(f.sample_pool > last_pool, "sample_pool must grow");
        assert_eq!(
            f.sequence_number,
            last_seq + 1,
            "sequence numbers without gaps"
        );
        assert_eq!(f.drops, 0);
        last_pool = f.sample_pool;
        last_seq = f.sequence_number;
        let records: Vec<_> = f.records.iter().map(Result::unwrap).collect();
        let FlowRecord::SampledHeader(h) = records[0] else {
            panic!("first record is not sampled_header");
        };
        assert_eq!(h.protocol, HeaderProtocol::ETHERNET);
        assert_eq!(h.stripped, 4);
        // Our UDP datagrams: 14 + 20 + 8 + 4 bytes, plus the FCS.
        if h.header.len() >= 36 && h.header[12..14] == [0x08, 0x00] && h.header[23] == 17 {
            assert_eq!(h.frame_length, 14 + 20 + 8 + 4 + 4);
            assert_eq!(f.input, Interface::index(if_index), "ingress on veth-a");
            // Addressed to veth-a's own MAC: the agent's device itself.
            assert_eq!(f.output, Interface::INTERNAL);
        }
    }
    // The pool counted every packet that crossed the interface while the
    // agent ran: the last sample's pool is within the packets that crossed.
    let pool = f64::from(last_pool);
    let total = (rx_packets + tx_packets) as f64;
    println!("last sample_pool {last_pool}, packets seen by the kernel {total}");
    assert!(pool <= total && pool >= f64::from(SENT) * 0.999);
    let ratio = pool / n;
    assert!(
        (ratio - 10.0).abs() < 1.0,
        "pool/samples = {ratio:.2}, expected about 10"
    );

    // --- Counter samples: every polling interval, equal to the kernel's. ---
    let counters: Vec<(&Received, IfCounters)> = received
        .iter()
        .filter_map(|r| match &r.sample {
            Sample::Counters(_, c) if c.source == DataSource::interface(if_index) => {
                c.records.iter().find_map(|rec| match rec {
                    Ok(CounterRecord::Interface(i)) => Some((r, i)),
                    _ => None,
                })
            }
            _ => None,
        })
        .collect();
    assert!(counters.len() >= 3, "{} counter samples", counters.len());
    for pair in counters.windows(2) {
        let gap = pair[1].0.uptime.wrapping_sub(pair[0].0.uptime);
        assert!(
            (1_000..=3_000).contains(&gap),
            "counter samples {gap} ms apart, polling interval 2 s"
        );
        let arrival_gap = pair[1].0.arrived - pair[0].0.arrived;
        assert!(arrival_gap < Duration::from_millis(3_100));
    }
    let (_, last) = counters.last().unwrap();
    assert_eq!(last.if_index, if_index);
    assert_eq!(last.in_ucast_pkts as u64, rx_packets & 0xffff_ffff);
    assert_eq!(last.out_ucast_pkts as u64, tx_packets & 0xffff_ffff);
    assert_eq!(last.in_octets, rx_bytes);
    assert_eq!(last.out_octets, tx_bytes);
    assert_eq!(last.status & 3, 3, "admin and oper up");
    assert_eq!(last.if_type, 6, "ethernetCsmacd");

    // --- Host structures in their own counter sample. ---
    let host = received
        .iter()
        .find_map(|r| match &r.sample {
            Sample::Counters(_, c) if c.source == DataSource::HOST => Some(c),
            _ => None,
        })
        .expect("a host counter sample");
    let formats: Vec<u32> = host.records.iter().map(|r| r.unwrap().format()).collect();
    assert_eq!(formats, [2000, 2001, 2003, 2004, 2006]);
}

#[test]
fn reload_applies_a_valid_config_and_refuses_an_invalid_one() {
    if !root_or_skip("reload_applies_a_valid_config_and_refuses_an_invalid_one") {
        return;
    }
    let net = VethPair::new();
    let collector = Collector::start(&net.a);
    let cfg = TempConfig::new(&config(&net.a_if, 2, 0, collector.port));
    let agent = AgentProcess::start(&net.a, &cfg.path);
    assert!(agent.wait_for_log("sampling veth-a", Duration::from_secs(5)));
    send_udp(&net.b, &net.a_addr, 9, 400, 10_000);
    thread::sleep(Duration::from_millis(1_500));

    // A valid change of rate is applied without re-opening the socket.
    cfg.rewrite(&config(&net.a_if, 4, 0, collector.port));
    agent.signal(libc::SIGHUP);
    assert!(agent.wait_for_log("sampling rate now 1-in-4", Duration::from_secs(3)));
    let mark = collector.snapshot().len();
    send_udp(&net.b, &net.a_addr, 9, 400, 10_000);
    thread::sleep(Duration::from_millis(1_500));

    // An invalid file is refused with the option named; sampling goes on.
    cfg.rewrite(&config(&net.a_if, 0, 0, collector.port));
    agent.signal(libc::SIGHUP);
    assert!(agent.wait_for_log("reload refused", Duration::from_secs(3)));
    assert!(agent.log_contains("sampling_rate"));
    let mark2 = collector.snapshot().len();
    send_udp(&net.b, &net.a_addr, 9, 400, 10_000);
    thread::sleep(Duration::from_millis(1_500));
    let opened = agent
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("sampling veth-a"))
        .count();
    assert_eq!(opened, 1, "the socket was not re-opened");
    assert!(agent.stop().success());

    let all = collector.snapshot();
    let rates = |range: &[(Instant, Vec<u8>)]| -> Vec<u32> {
        decode(range)
            .iter()
            .filter_map(|r| match &r.sample {
                Sample::Flow(_, f) => Some(f.sampling_rate),
                _ => None,
            })
            .collect()
    };
    let before = rates(&all[..mark]);
    let after = rates(&all[mark..mark2]);
    let after_invalid = rates(&all[mark2..]);
    assert!(!before.is_empty() && before.iter().all(|&r| r == 2));
    assert!(!after.is_empty() && after.iter().all(|&r| r == 4));
    assert!(!after_invalid.is_empty() && after_invalid.iter().all(|&r| r == 4));
    // Sequence numbers continue across reloads.
    let seqs: Vec<u32> = decode(&all)
        .iter()
        .filter_map(|r| match &r.sample {
            Sample::Flow(_, f) => Some(f.sequence_number),
            _ => None,
        })
        .collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
}

#[test]
fn missing_interface_is_picked_up_when_it_appears() {
    if !root_or_skip("missing_interface_is_picked_up_when_it_appears") {
        return;
    }
    let ns = Netns::new("wsfm");
    let collector = Collector::start(&ns);
    let cfg = TempConfig::new(&config("late0", 1, 0, collector.port));
    let agent = AgentProcess::start(&ns, &cfg.path);
    assert!(agent.wait_for_log("late0 does not exist", Duration::from_secs(3)));
    ns.exec(&[
        "ip", "link", "add", "late0", "type", "veth", "peer", "name", "late1",
    ]);
    ns.exec(&["ip", "link", "set", "late0", "up"]);
    ns.exec(&["ip", "link", "set", "late1", "up"]);
    assert!(agent.wait_for_log("sampling late0", Duration::from_secs(3)));
    // Deleted and created again (as a wifi reload does): a new ifIndex, a
    // new data source, sampled again within a second or two.
    ns.exec(&["ip", "link", "del", "late0"]);
    thread::sleep(Duration::from_millis(1_500));
    ns.exec(&[
        "ip", "link", "add", "late0", "type", "veth", "peer", "name", "late1",
    ]);
    ns.exec(&["ip", "link", "set", "late0", "up"]);
    assert!(agent.wait_for_log("late0 was re-created", Duration::from_secs(3)));
    let opened = || {
        agent
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("sampling late0"))
            .count()
    };
    let end = Instant::now() + Duration::from_secs(3);
    while opened() < 2 && Instant::now() < end {
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(opened(), 2);
    assert!(agent.stop().success());
}
