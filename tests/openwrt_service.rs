//! The daemon as the OpenWrt service runs it, as root in namespaces the
//! tests create: a live reload that moves the collector and changes a
//! sampling rate while traffic flows, and the daemon running as an
//! unprivileged user with CAP_NET_RAW only.

mod common;

use std::process::Command;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use wsflowd::sflow::*;

fn config(collector_port: u16, rate_a: u32, rate_c: u32) -> String {
    format!(
        "config agent 'agent'
	option polling_interval '0'
	list interface 'veth-a'
	list interface 'veth-c'

config interface
	option device 'veth-a'
	option sampling_rate '{rate_a}'

config interface
	option device 'veth-c'
	option sampling_rate '{rate_c}'

config collector 'main'
	option address '127.0.0.1'
	option port '{collector_port}'
"
    )
}

#[test]
fn reload_moves_the_collector_and_the_rate_while_traffic_flows() {
    if !root_or_skip("reload_moves_the_collector_and_the_rate_while_traffic_flows") {
        return;
    }
    // The AP namespace with two sampled interfaces: veth-a (to the
    // station namespace) and veth-c (a second link to it).
    let net = VethPair::new();
    veth(&net.a, "veth-c", &net.b, "veth-d");
    net.a.address_up("veth-c", "10.202.0.1/24");
    net.b.address_up("veth-d", "10.202.0.2/24");
    let index_a = net.a.if_index("veth-a");
    let index_c = net.a.if_index("veth-c");

    let old = Collector::start(&net.a);
    let new = Collector::start(&net.a);
    let cfg = TempConfig::new(&config(old.port, 2, 3));
    let agent = AgentProcess::start(&net.a, &cfg.path);
    assert!(agent.wait_for_log("sampling veth-a", Duration::from_secs(5)));
    assert!(agent.wait_for_log("sampling veth-c", Duration::from_secs(5)));
    let (stop_a, sender_a) = traffic(&net.b, "10.201.0.1");
    let (stop_c, sender_c) = traffic(&net.b, "10.202.0.1");
    thread::sleep(Duration::from_millis(1_500));

    // While the traffic flows: the collector moves, veth-a's rate changes,
    // veth-c's settings stay.
    cfg.rewrite(&config(new.port, 4, 3));
    let reload = Instant::now();
    agent.signal(libc::SIGHUP);
    assert!(agent.wait_for_log("configuration reloaded", Duration::from_secs(3)));
    assert!(agent.wait_for_log("veth-a: sampling rate now 1-in-4", Duration::from_secs(3)));
    thread::sleep(Duration::from_millis(2_000));

    // An invalid file: refused, the option named, sampling goes on.
    cfg.rewrite(&config(new.port, 4, 3).replace("option port", "option port '70000' #"));
    let invalid = Instant::now();
    agent.signal(libc::SIGHUP);
    assert!(agent.wait_for_log("reload refused", Duration::from_secs(3)));
    let refusal = agent
        .log
        .lock()
        .unwrap()
        .iter()
        .find(|l| l.contains("reload refused"))
        .cloned()
        .unwrap();
    println!("{refusal}");
    assert!(refusal.contains("port"), "{refusal}");
    thread::sleep(Duration::from_millis(2_000));
    let end = Instant::now();
    stop_a.store(true, Ordering::Relaxed);
    stop_c.store(true, Ordering::Relaxed);
    let sent = sender_a.join().unwrap() + sender_c.join().unwrap();
    // Each interface was opened once: neither was re-opened, veth-c's
    // settings did not change and veth-a's rate changed in place.
    assert_eq!(agent.log_count("sampling veth-a"), 1, "veth-a re-opened");
    assert_eq!(agent.log_count("sampling veth-c"), 1, "veth-c re-opened");
    assert!(agent.stop().success());

    let old_all = old.snapshot();
    let new_all = new.snapshot();
    let start = reload - Duration::from_secs(60);
    let before = flow_samples(&old_all, start, reload);
    // A datagram being filled at the reload may still reach the old
    // collector; nothing after that.
    let grace = reload + Duration::from_millis(500);
    let old_after = flow_samples(&old_all, grace, end + Duration::from_secs(1));
    let new_before = flow_samples(&new_all, start, reload);
    let new_after = flow_samples(&new_all, grace, invalid);
    let new_after_invalid = flow_samples(&new_all, invalid, end + Duration::from_secs(1));
    println!(
        "{sent} packets sent; old collector: {} samples before the reload, {} after; \
         new collector: {} before, {} after, {} after the refused reload",
        before.len(),
        old_after.len(),
        new_before.len(),
        new_after.len(),
        new_after_invalid.len()
    );
    let rates = |s: &[(u32, u32)], index| {
        s.iter()
            .filter(|(i, _)| *i == index)
            .map(|(_, r)| *r)
            .collect::<Vec<_>>()
    };
    // Before: the old collector, veth-a at 1-in-2, veth-c at 1-in-3.
    assert!(!rates(&before, index_a).is_empty());
    assert!(rates(&before, index_a).iter().all(|&r| r == 2));
    assert!(rates(&before, index_c).iter().all(|&r| r == 3));
    assert!(new_before.is_empty(), "the new collector got samples early");
    // After: only the new collector, veth-a at 1-in-4, veth-c unchanged.
    assert!(old_after.is_empty(), "the old collector still receives");
    assert!(!rates(&new_after, index_a).is_empty());
    assert!(rates(&new_after, index_a).iter().all(|&r| r == 4));
    assert!(!rates(&new_after, index_c).is_empty());
    assert!(rates(&new_after, index_c).iter().all(|&r| r == 3));
    // After the refused reload: the same, still flowing.
    assert!(!rates(&new_after_invalid, index_a).is_empty());
    assert!(rates(&new_after_invalid, index_a).iter().all(|&r| r == 4));
    assert!(rates(&new_after_invalid, index_c).iter().all(|&r| r == 3));
}

/// CapEff of a process, from /proc.
fn effective_caps(pid: u32) -> Option<u64> {
    u64::from_str_radix(&process::status_field(pid, "CapEff:")?, 16).ok()
}

/// The effective uid of a process (the second of the four).
fn uid(pid: u32) -> Option<u32> {
    process::status_field(pid, "Uid:")?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn samples_and_sends_as_an_unprivileged_user_with_cap_net_raw_only() {
    if !root_or_skip("samples_and_sends_as_an_unprivileged_user_with_cap_net_raw_only") {
        return;
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        assert_ne!(std::env::var("WSFLOWD_REQUIRE_TOOLS").as_deref(), Ok("1"));
        eprintln!("setpriv missing: skipped");
        return;
    }
    let net = VethPair::new();
    let collector = Collector::start(&net.a);
    let cfg = TempConfig::new(&format!(
        "config agent 'agent'
	option sampling_rate '4'
	option polling_interval '1'
	list interface 'veth-a'

config collector
	option address '127.0.0.1'
	option port '{}'
",
        collector.port
    ));
    // nobody, no supplementary groups, CAP_NET_RAW as the only capability.
    let agent = AgentProcess::start_as_nobody(&net.a, &cfg, Some("net_raw"));
    assert!(
        agent.wait_for_log("sampling veth-a", Duration::from_secs(5)),
        "the agent could not open its socket"
    );
    let pid = agent.child.id();
    const CAP_NET_RAW: u64 = 1 << 13;
    assert_eq!(uid(pid), Some(65534), "runs as nobody");
    assert_eq!(effective_caps(pid), Some(CAP_NET_RAW), "CAP_NET_RAW only");

    let start = Instant::now();
    let (stop, sender) = traffic(&net.b, "10.201.0.1");
    thread::sleep(Duration::from_millis(2_500));
    stop.store(true, Ordering::Relaxed);
    let sent = sender.join().unwrap();
    thread::sleep(Duration::from_millis(1_200));
    let opened = agent
        .log
        .lock()
        .unwrap()
        .iter()
        .find(|l| l.contains("sampling veth-a"))
        .cloned()
        .unwrap();
    assert!(agent.stop().success());

    let all = collector.snapshot();
    let index = net.a.if_index("veth-a");
    let samples = flow_samples(&all, start, Instant::now());
    let mine: Vec<_> = samples.iter().filter(|(i, _)| *i == index).collect();
    let counters = all
        .iter()
        .filter_map(|(_, b)| Datagram::parse(b).ok())
        .map(|d| {
            d.samples
                .iter()
                .filter(|s| matches!(s, Ok(Sample::Counters(..))))
                .count()
        })
        .sum::<usize>();
    println!(
        "as uid 65534 with CAP_NET_RAW only: {opened:?}; {sent} packets sent, \
         {} flow samples at 1-in-4, {counters} counter samples",
        mine.len()
    );
    // About sent/4 (received ones only with a classic filter): well
    // above zero either way.
    assert!(mine.len() as u64 > sent / 20, "{} samples", mine.len());
    assert!(mine.iter().all(|(_, r)| *r == 4));
    assert!(counters >= 2, "counter samples sent");
}
