//! hostapd over ubus, end to end, as root: the pure-Rust ubusd broker, a
//! fake hostapd that mirrors the real API (tests/common/fake_hostapd.rs),
//! and the agent sampling an "AP interface" (a veth) in a namespace.
//! Station counts, radio context on samples, BSSes coming and going,
//! ubusd restarting, notify_response answered at once, and our `wsflowd`
//! object's `status`.

mod common;

use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use common::ap_lab::ApLab;
use common::fake_hostapd::{mac_text, FakeHostapd, Mac};
use common::ubusd::{Broker, UbusError};
use common::*;
use wsflowd::sflow::*;

/// The associated-station counts of wlan0's counter samples that arrived
/// after `since`.
fn station_counts(collector: &Collector, if_index: u32, since: Instant) -> Vec<u32> {
    let mut out = Vec::new();
    for (t, bytes) in collector.snapshot() {
        if t < since {
            continue;
        }
        let d = Datagram::parse(&bytes).unwrap();
        for s in d.samples.iter() {
            if let Sample::Counters(_, c) = s.unwrap() {
                if c.source != DataSource::interface(if_index) {
                    continue;
                }
                for r in c.records.iter() {
                    if let CounterRecord::Ieee80211(x) = r.unwrap() {
                        out.push(x.associated_station_count);
                    }
                }
            }
        }
    }
    out
}

/// Waits for `n` counter samples after `since` and returns their counts.
fn next_counts(collector: &Collector, if_index: u32, since: Instant, n: usize) -> Vec<u32> {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let c = station_counts(collector, if_index, since);
        if c.len() >= n || Instant::now() > end {
            return c;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

fn station(i: u32) -> Mac {
    let b = i.to_be_bytes();
    [0x02, 0x5a, b[0], b[1], b[2], b[3]]
}

/// `ubus call <path> <method>`: the reply as JSON.
fn ubus_call(socket: &Path, path: &str, method: &str) -> serde_json::Value {
    common::ubusd::ubus_call(socket, path, method).expect("a reply")
}

struct Running {
    lab: ApLab,
    broker: Broker,
    fake: FakeHostapd,
    collector: Collector,
    agent: AgentProcess,
    _cfg: TempConfig,
    // Last, so dropped last: the next test starts once this one's rig is
    // gone.
    _serial: MutexGuard<'static, ()>,
}

/// One rig at a time: the tests of this file measure answer times, which
/// another agent and fake hostapd running beside them would disturb.
static SERIAL: Mutex<()> = Mutex::new(());

fn start(test: &str) -> Option<Running> {
    if !root_or_skip(test) {
        return None;
    }
    let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let broker = Broker::start_or_skip(test)?;
    let lab = ApLab::new("wsfha", "wsfhs", 204);
    let fake = FakeHostapd::start(&broker.socket);
    fake.add_bss(lab.bss("wsflowd-lab"));
    fake.sync();
    let collector = Collector::start(&lab.ap);
    let (agent, cfg) = lab.start_agent(&fake, &broker.socket, 1, collector.port);
    Some(Running {
        lab,
        broker,
        fake,
        collector,
        agent,
        _cfg: cfg,
        _serial: serial,
    })
}

/// ubusd may refuse our object (OpenWrt's C ubusd, to an unprivileged
/// agent whose ACL lacks `publish`, said "cannot publish 'wsflowd':
/// Invalid argument"); following hostapd does not depend on it. Here the
/// agent runs as nobody with an ACL that lets it follow hostapd but not
/// publish.
#[test]
fn hostapd_is_followed_when_our_object_cannot_be_published() {
    let test = "hostapd_is_followed_when_our_object_cannot_be_published";
    if !root_or_skip(test) {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let acl = TempDir::new("acl-no-publish");
    let ours =
        std::fs::read_to_string(source_dir().join("openwrt/files/wsflowd.acl.json")).unwrap();
    let theirs = ours
        .replace("\"user\": \"wsflowd\"", "\"user\": \"nobody\"")
        .replace("\"publish\": [ \"wsflowd\" ],", "");
    assert_ne!(ours.len() - theirs.len(), 0, "the ACL changed");
    std::fs::write(acl.path().join("wsflowd.json"), theirs).unwrap();
    let Some(broker) = Broker::start_with_acl_or_skip(test, Some(acl.path())) else {
        return;
    };
    let lab = ApLab::new("wsfha", "wsfhs", 204);
    let fake = FakeHostapd::start(&broker.socket);
    fake.add_bss(lab.bss("wsflowd-lab"));
    fake.sync();
    let collector = Collector::start(&lab.ap);
    let cfg = TempConfig::new(&common::ap_lab::ubus_ap_config(
        &broker.socket,
        1,
        collector.port,
    ));
    let agent = AgentProcess::start_as_nobody(&lab.ap, &cfg, Some("net_raw"));
    assert!(
        agent.wait_for_log("cannot publish 'wsflowd'", Duration::from_secs(10)),
        "the refusal is logged"
    );
    assert!(
        fake.wait_subscribed("wlan0", Duration::from_secs(5)),
        "hostapd followed all the same"
    );
    fake.associate("wlan0", lab.sta_mac, -57);
    fake.sync();
    thread::sleep(Duration::from_millis(300));
    let counts = next_counts(&collector, lab.wlan0, Instant::now(), 2);
    println!("our object refused; counter samples say {counts:?}");
    assert!(
        counts.len() >= 2 && counts.iter().all(|&n| n == 1),
        "{counts:?}"
    );
    assert!(agent.stop().success());
}

#[test]
fn a_thousand_stations_counted_at_every_polling_interval() {
    let Some(r) = start("a_thousand_stations_counted_at_every_polling_interval") else {
        return;
    };
    let mut associated = 0u32;
    let leave_kinds = ["disassoc", "deauth", "local-deauth", "inactive-deauth"];
    // Up by 250 to 1000, then down to 0; payloads alternately with and
    // without `ifname` (OpenWrt 23.05 has none).
    let steps: [u32; 8] = [250, 500, 750, 1000, 600, 300, 100, 0];
    for (k, &target) in steps.iter().enumerate() {
        r.fake.with_ifname(k % 2 == 1);
        while associated < target {
            r.fake
                .associate("wlan0", station(associated), -40 - (associated % 50) as i32);
            associated += 1;
        }
        while associated > target {
            associated -= 1;
            r.fake.leave(
                "wlan0",
                station(associated),
                leave_kinds[associated as usize % 4],
            );
        }
        r.fake.sync();
        // The agent reads them within milliseconds; every counter sample
        // from then on must say `target`.
        thread::sleep(Duration::from_millis(300));
        let since = Instant::now();
        let counts = next_counts(&r.collector, r.lab.wlan0, since, 2);
        println!("{target} stations: counter samples say {counts:?}");
        assert!(counts.len() >= 2, "counter samples every second");
        assert!(
            counts.iter().all(|&c| c == target),
            "{counts:?} != {target}"
        );
    }
    let stats = r.fake.stats();
    assert!(stats.get_clients > 0 && stats.get_status > 0, "{stats:?}");
    let status = ubus_call(&r.broker.socket, "wsflowd", "status");
    assert_eq!(status["bss"][0]["stations"], 0);
    assert!(r.agent.stop().success());
}

#[test]
fn samples_carry_the_radio_context_of_their_station() {
    let Some(r) = start("samples_carry_the_radio_context_of_their_station") else {
        return;
    };
    r.fake.associate("wlan0", r.lab.sta_mac, -57);
    r.fake.sync();
    // Rates come with the listing the agent asks for within a second of
    // a new station.
    thread::sleep(Duration::from_millis(1_500));
    // From the station (ingress: rx) and to it (egress: tx).
    let sink = r.lab.sta.spawn(|| {
        let s = UdpSocket::bind("10.204.0.2:7000").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = [0u8; 16];
        for _ in 0..20 {
            let _ = s.recv(&mut buf);
        }
    });
    thread::sleep(Duration::from_millis(100));
    r.lab
        .sta
        .spawn(|| {
            let s = UdpSocket::bind("10.204.0.2:0").unwrap();
            for _ in 0..20 {
                s.send_to(b"up", "10.204.0.1:7001").unwrap();
            }
        })
        .join()
        .unwrap();
    r.lab
        .ap
        .spawn(|| {
            let s = UdpSocket::bind("10.204.0.1:0").unwrap();
            for _ in 0..20 {
                s.send_to(b"down", "10.204.0.2:7000").unwrap();
            }
        })
        .join()
        .unwrap();
    sink.join().unwrap();
    thread::sleep(Duration::from_millis(1_500));
    assert!(r.agent.stop().success());

    let datagrams = r.collector.snapshot();
    let (mut rx_seen, mut tx_seen) = (0, 0);
    for (_, bytes) in &datagrams {
        let d = Datagram::parse(bytes).unwrap();
        for s in d.samples.iter() {
            let Sample::Flow(_, f) = s.unwrap() else {
                continue;
            };
            let records: Vec<FlowRecord> = f.records.iter().map(Result::unwrap).collect();
            let FlowRecord::SampledHeader(h) = records[0] else {
                panic!("header first")
            };
            let (dst, src) = (&h.header[0..6], &h.header[6..12]);
            match records.get(1) {
                Some(FlowRecord::Extended80211Rx(rx)) => {
                    assert_eq!(src, &r.lab.sta_mac[..]);
                    assert_eq!(rx.ssid, b"wsflowd-lab");
                    assert_eq!(rx.bssid, r.lab.ap_mac);
                    assert_eq!((rx.channel, rx.speed), (36, 144_400_000));
                    assert_eq!(rx.rcpi, 2 * (110 - 57));
                    assert_eq!(rx.version, Ieee80211Version::N);
                    rx_seen += 1;
                }
                Some(FlowRecord::Extended80211Tx(tx)) => {
                    assert_eq!(dst, &r.lab.sta_mac[..]);
                    assert_eq!((tx.channel, tx.speed), (36, 130_000_000));
                    assert_eq!(tx.ssid, b"wsflowd-lab");
                    tx_seen += 1;
                }
                _ => assert!(
                    src != r.lab.sta_mac && dst != r.lab.sta_mac,
                    "a frame of the station without radio context"
                ),
            }
        }
    }
    println!("flow samples with extended_80211_rx: {rx_seen}, with extended_80211_tx: {tx_seen}");
    assert!(rx_seen >= 20 && tx_seen >= 20);
    // wlan0's counter samples: if_counters, ieee80211_counters (one
    // station) and the radio's utilization from hostapd's air time.
    let mut radio_seen = 0;
    for (_, bytes) in &datagrams {
        let d = Datagram::parse(bytes).unwrap();
        for s in d.samples.iter() {
            let Sample::Counters(_, c) = s.unwrap() else {
                continue;
            };
            if c.source != DataSource::interface(r.lab.wlan0) {
                continue;
            }
            let formats: Vec<u32> = c.records.iter().map(|x| x.unwrap().format()).collect();
            // A veth is an Ethernet device: ethernet_counters too.
            assert_eq!(
                formats,
                [1, 2, 6, 1002],
                "if, ethernet, 802.11 and radio records"
            );
            for x in c.records.iter() {
                match x.unwrap() {
                    CounterRecord::Ieee80211(d) => assert_eq!(d.associated_station_count, 1),
                    CounterRecord::RadioUtilization(u) => {
                        assert_eq!(
                            (u.elapsed_time, u.on_channel_time, u.on_channel_busy_time),
                            (600_000, 600_000, 150_000)
                        );
                        radio_seen += 1;
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(radio_seen >= 1);

    // The same datagrams through tshark.
    if std::process::Command::new("tshark")
        .arg("-v")
        .output()
        .is_err()
    {
        assert_ne!(std::env::var("WSFLOWD_REQUIRE_TOOLS").as_deref(), Ok("1"));
        return;
    }
    let mut w =
        wsflowd::pcap::PcapWriter::new(Vec::new(), wsflowd::pcap::link_type::ETHERNET, 65535)
            .unwrap();
    for (i, (_, d)) in datagrams.iter().enumerate() {
        let frame = wsflowd::pcap::ethernet_ipv4_udp(
            [127, 0, 0, 1].into(),
            40000,
            [127, 0, 0, 1].into(),
            6343,
            d,
        );
        w.write(i as u32, 0, &frame).unwrap();
    }
    let path = r._cfg.dir.join("agent.pcap");
    std::fs::write(&path, w.into_inner()).unwrap();
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args([
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=|",
            "-e",
            "sflow_5.extended_80211.rx.ssid",
            "-e",
            "sflow_5.extended_80211.rx.channel",
            "-e",
            "sflow_5.extended_80211.tx.speed",
            "-e",
            "sflow_5.dot11AssociatedStationCount",
            "-e",
            "sflow_5.channel_busy_time",
            "-e",
            "_ws.malformed",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("Malformed"), "tshark: {text}");
    let ssids = text.matches("wsflowd-lab").count();
    let counts: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split('\t').nth(3))
        .filter(|v| !v.is_empty())
        .collect();
    let busy: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split('\t').nth(4))
        .filter(|v| !v.is_empty())
        .collect();
    println!(
        "tshark: {ssids} rx SSIDs, dot11AssociatedStationCount {counts:?}, channel busy {busy:?}"
    );
    assert!(ssids >= 20);
    assert!(!counts.is_empty() && counts.iter().flat_map(|c| c.split('|')).all(|c| c == "1"));
    assert!(!busy.is_empty() && busy.iter().all(|b| *b == "150000"));
}

#[test]
fn bsses_come_and_go() {
    let Some(r) = start("bsses_come_and_go") else {
        return;
    };
    let mut spec = r.lab.bss("wsflowd-lab");
    spec.ifname = "wlan1".into();
    spec.ssid = "guest".into();
    spec.bssid[5] ^= 1;
    r.fake.add_bss(spec);
    assert!(r.fake.wait_subscribed("wlan1", Duration::from_secs(5)));
    thread::sleep(Duration::from_millis(300));
    let status = ubus_call(&r.broker.socket, "wsflowd", "status");
    let names: Vec<&str> = status["bss"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["ifname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["wlan0", "wlan1"]);
    assert_eq!(status["bss"][1]["ssid"], "guest");
    r.fake.remove_bss("wlan1");
    r.fake.sync();
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let status = ubus_call(&r.broker.socket, "wsflowd", "status");
        if status["bss"].as_array().unwrap().len() == 1 {
            assert_eq!(status["bss"][0]["ifname"], "wlan0");
            break;
        }
        assert!(Instant::now() < end, "wlan1 still listed: {status}");
        thread::sleep(Duration::from_millis(100));
    }
    assert!(r.agent.stop().success());
}

#[test]
fn ubusd_restarting_and_hostapd_with_new_stations() {
    let Some(mut r) = start("ubusd_restarting_and_hostapd_with_new_stations") else {
        return;
    };
    for i in 0..40 {
        r.fake.associate("wlan0", station(i), -50);
    }
    r.fake.sync();
    thread::sleep(Duration::from_millis(300));
    assert!(next_counts(&r.collector, r.lab.wlan0, Instant::now(), 1)
        .iter()
        .all(|&c| c == 40));
    // ubusd dies; hostapd restarts meanwhile with other stations.
    r.broker = r.broker.restart();
    r.fake.forget_stations("wlan0");
    r.fake.reconnect();
    for i in 100..110 {
        r.fake.associate("wlan0", station(i), -50);
    }
    r.fake.sync();
    assert!(r
        .agent
        .wait_for_log("ubus connection", Duration::from_secs(5)));
    assert!(
        r.fake.wait_subscribed("wlan0", Duration::from_secs(10)),
        "the agent subscribed again"
    );
    // The stations associated before the subscription are listed by
    // get_clients: no stale ones, none missing.
    thread::sleep(Duration::from_millis(2_500));
    let counts = next_counts(&r.collector, r.lab.wlan0, Instant::now(), 2);
    println!("after the restart: {counts:?}");
    assert!(counts.iter().all(|&c| c == 10), "{counts:?}");
    let status = ubus_call(&r.broker.socket, "wsflowd", "status");
    assert_eq!(status["ubus"]["connected"], true);
    assert_eq!(status["bss"][0]["stations"], 10);
    assert!(r.agent.stop().success());
}

#[test]
fn notify_response_answered_at_once() {
    let Some(r) = start("notify_response_answered_at_once") else {
        return;
    };
    // A steering daemon asked hostapd to wait for its subscribers' answers.
    r.fake.notify_response("wlan0", true);
    for i in 0..500 {
        r.fake.associate("wlan0", station(i), -45);
    }
    r.fake.sync();
    let stats = r.fake.stats();
    let mut times: Vec<Duration> = stats.answer_times.clone();
    times.sort();
    let n = times.len();
    assert_eq!(n, 1000, "auth and assoc of 500 stations answered");
    let p99 = times[n * 99 / 100 - 1];
    let p50 = times[n / 2];
    let max = times[n - 1];
    println!(
        "notify_response: {n} answers, median {:?}, 99th percentile {:?}, max {:?}, timeouts {}",
        p50, p99, max, stats.timeouts
    );
    // What hostapd needs: every answer within its 100 ms wait. The times
    // are printed as figures, not asserted: on a loaded CI machine they
    // say more about the scheduler than about the agent.
    assert_eq!(stats.timeouts, 0);
    let status = ubus_call(&r.broker.socket, "wsflowd", "status");
    assert_eq!(status["bss"][0]["stations"], 500);
    assert!(r.agent.stop().success());
}

/// The agent's threads other than the main one: the kernel helper only
/// (names are resolved on the loop, by the agent's own DNS client).
fn helper_threads(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&tid| tid != pid)
        .collect()
}

/// The kernel stalls: every netlink answer the kernel helper reads is held
/// back 300 ms (strace's syscall delay injection on that thread alone),
/// while hostapd sends 1,000 notifications that wait for an answer. The
/// answers come as fast as without the stall: nothing on the event loop
/// waits for the kernel.
#[test]
fn notifications_are_answered_while_the_kernel_stalls() {
    let test = "notifications_are_answered_while_the_kernel_stalls";
    if !tool_or_skip("strace", test) {
        return;
    }
    let Some(r) = start(test) else {
        return;
    };
    r.fake.notify_response("wlan0", true);
    let answer_times = |first: u32| {
        let before = r.fake.stats().answer_times.len();
        for i in first..first + 500 {
            r.fake.associate("wlan0", station(i), -45);
        }
        r.fake.sync();
        let stats = r.fake.stats();
        assert_eq!(stats.timeouts, 0, "hostapd never waited 100 ms");
        let mut times: Vec<Duration> = stats.answer_times[before..].to_vec();
        times.sort();
        assert_eq!(times.len(), 1000, "auth and assoc answered");
        (times[500], times[989], times[999])
    };
    let (p50, p99, max) = answer_times(0);
    println!("without a stall: answers median {p50:?}, p99 {p99:?}, max {max:?}");

    let pid = r.agent.child.id();
    let helpers = helper_threads(pid);
    assert_eq!(helpers.len(), 1, "one kernel helper thread: {helpers:?}");
    let dir = TempDir::new("strace");
    let log = dir.path().join("strace.log");
    let mut strace = Command::new("strace")
        .args(["-qq", "-p", &helpers[0].to_string(), "-e", "trace=recvfrom"])
        .args(["-e", "inject=recvfrom:delay_exit=300000", "-o"])
        .arg(&log)
        .spawn()
        .unwrap();
    // Attached, and the helper is held in a query (counters every second).
    thread::sleep(Duration::from_millis(2_500));
    // Up to three rounds of 1,000 answers while stalled: a loaded machine
    // (the rest of the test suite, other jobs) only ever adds to a
    // round's times, so the best round says what the agent does; every
    // round must stay clear of the 300 ms stall.
    let bound = Duration::from_millis(2).max(p99 * 5);
    let stalled = Instant::now();
    let mut rounds = Vec::new();
    for first in [500, 1000, 1500] {
        let round = answer_times(first);
        assert!(round.2 < Duration::from_millis(100), "max {:?}", round.2);
        rounds.push(round);
        if round.1 < bound {
            break;
        }
    }
    let (s50, s99, smax) = *rounds.iter().min_by_key(|r| r.1).unwrap();
    let took = stalled.elapsed();
    let _ = strace.kill();
    let _ = strace.wait();
    let delayed = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("DELAYED"))
        .count();
    println!(
        "while the kernel helper's netlink reads were held 300 ms each ({delayed} held):          answers median {s50:?}, p99 {s99:?}, max {smax:?} (best of {} rounds of 1,000, {took:?} in all)",
        rounds.len()
    );
    assert!(delayed > 0, "the stall took effect");
    // The answers are not held by the stall (300 ms a read): within 1 ms
    // at the 99th percentile on a quiet machine (0.13-0.16 ms measured);
    // the bound leaves room for a loaded CI machine, where the scheduler
    // alone makes milliseconds.
    assert!(
        s99 < bound,
        "p99 {s99:?} while stalled, {p99:?} without: {rounds:?}"
    );
    assert!(r.agent.stop().success());
}

#[test]
fn status_reports_the_agent() {
    let Some(r) = start("status_reports_the_agent") else {
        return;
    };
    r.fake.associate("wlan0", station(1), -60);
    r.fake.sync();
    // Counter samples (and so datagrams) start within two seconds.
    thread::sleep(Duration::from_millis(2_500));
    let s = ubus_call(&r.broker.socket, "wsflowd", "status");
    println!("{}", serde_json::to_string_pretty(&s).unwrap());
    assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
    assert!(s["uptime"].as_i64().unwrap() >= 1);
    assert_eq!(s["config"]["sampling_rate"], 1);
    assert_eq!(s["config"]["polling_interval"], 1);
    assert_eq!(s["collectors"][0]["address"], "127.0.0.1");
    assert!(s["collectors"][0]["datagrams_sent"].as_i64().unwrap() > 0);
    assert_eq!(s["collectors"][0]["last_error"], "");
    let i = &s["interfaces"][0];
    assert_eq!(i["device"], "wlan0");
    assert_eq!(i["ifindex"], r.lab.wlan0);
    assert_eq!(i["sampling"], true);
    assert!(i["filter"].as_str().unwrap().contains("BPF"));
    assert!(i["sample_pool"].as_i64().unwrap() >= i["samples"].as_i64().unwrap());
    let b = &s["bss"][0];
    assert_eq!(
        (b["ifname"].as_str(), b["ssid"].as_str()),
        (Some("wlan0"), Some("wsflowd-lab"))
    );
    assert_eq!(b["bssid"], mac_text(&r.lab.ap_mac));
    assert_eq!(
        (b["channel"].as_i64(), b["stations"].as_i64()),
        (Some(36), Some(1))
    );
    assert_eq!(s["ubus"]["connected"], true);
    // reload through ubus, as through SIGHUP.
    let reply = ubus_call_status(&r.broker.socket, "wsflowd", "reload");
    assert_eq!(reply, 0);
    assert!(r
        .agent
        .wait_for_log("configuration reloaded", Duration::from_secs(3)));
    // The rate set per interface, none for the agent: the status says what
    // is in force (it once said "by link speed" while wlan0's own rate was
    // used).
    let text = std::fs::read_to_string(&r._cfg.path).unwrap();
    let per_interface = text.replace("\toption sampling_rate '1'\n", "")
        + "\nconfig interface\n\toption device 'wlan0'\n\toption sampling_rate '2'\n";
    std::fs::write(&r._cfg.path, per_interface).unwrap();
    assert_eq!(ubus_call_status(&r.broker.socket, "wsflowd", "reload"), 0);
    let end = Instant::now() + Duration::from_secs(3);
    let s = loop {
        let s = ubus_call(&r.broker.socket, "wsflowd", "status");
        if s["config"]["sampling_rate"] != 1 || Instant::now() > end {
            break s;
        }
        thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(s["config"]["sampling_rate"], "set per interface");
    assert_eq!(s["interfaces"][0]["sampling_rate"], 2);
    assert!(r.agent.stop().success());
}

/// The status code of `ubus call <path> <method>`.
fn ubus_call_status(socket: &Path, path: &str, method: &str) -> i32 {
    match common::ubusd::ubus_call(socket, path, method) {
        Ok(_) => 0,
        Err(UbusError::Status(code)) => code,
        Err(e) => panic!("ubus call {path} {method}: {e:?}"),
    }
}
