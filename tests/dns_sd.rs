//! DNS-SD end to end: the agent finds its collectors, sampling rate and
//! polling interval in the SRV and TXT records of `_sflow._udp.test.lan`,
//! served by Debian's real dnsmasq in the agent's network namespace.
//!
//! The agent runs in namespace A (sampling `veth-a`, traffic from B), with
//! its own resolv.conf: `ip netns exec` bind-mounts
//! `/etc/netns/<ns>/resolv.conf` over `/etc/resolv.conf`, which the test
//! writes and removes. dnsmasq listens on 10.207.0.53:53 in A (`--local`
//! makes it answer NXDOMAIN for names of test.lan it has no record of);
//! the collectors are UDP sockets on A's 127.0.0.1, named `cN.test.lan`
//! by `--host-record`. dnsmasq cannot change records while it runs: a
//! change is a restart with other records.
//!
//! - records added, changed (SRV target and port, TXT sampling), removed,
//!   each picked up at a reload (SIGHUP asks the DNS again at once);
//! - TTL expiry: nothing else happens, the change is picked up when the
//!   TTL (1 s, so the 1-minute floor) ends, about 60 s after the first
//!   answer; names from the search list of resolv.conf, the first one
//!   NXDOMAIN;
//! - server down: the lookup fails, the status says why, the last answer
//!   (and its collector) stays, and LuCI's status page (in headless
//!   Chromium, as in tests/luci_app.rs) shows where each collector came
//!   from and the DNS-SD state; back when the server is, after the retry
//!   delay.
//!
//! Each test prints the times it measured. They run in parallel (each has
//! its namespaces); the TTL test takes about 70 s, the others 15-25 s.

mod common;
// The LuCI test's server and browser; not all of them is used here.
#[allow(dead_code)]
#[path = "luci/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "luci/webdriver.rs"]
mod webdriver;

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use common::ubusd::{ubus_call, Broker};
use common::*;
use wsflowd::dns::message::{rtype, write_query, Message, Name, MAX_QUERY_LEN};

/// dnsmasq's address in namespace A.
const DNS: &str = "10.207.0.53";
const DOMAIN: &str = "test.lan";
const SERVICE: &str = "_sflow._udp.test.lan";

/// The agent's namespace with its resolv.conf, the traffic namespace, the
/// ubus broker.
struct Lab {
    net: VethPair,
    broker: Broker,
    /// `/etc/netns/<A>`, removed on drop.
    etc: PathBuf,
}

impl Lab {
    fn new(test: &str, resolv_conf: &str) -> Option<Lab> {
        if !root_or_skip(test) || !tool_with_or_skip("dnsmasq", "--version", test) {
            return None;
        }
        let broker = Broker::start_or_skip(test)?;
        let net = VethPair::new();
        net.a
            .exec(&["ip", "addr", "add", &format!("{DNS}/32"), "dev", "lo"]);
        let etc = PathBuf::from("/etc/netns").join(&net.a.name);
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(etc.join("resolv.conf"), resolv_conf).unwrap();
        Some(Lab { net, broker, etc })
    }

    fn config(&self, extra_agent: &str, uci_collector: u16) -> String {
        format!(
            "config agent 'agent'
	option sampling_rate '1000'
	option polling_interval '20'
	option dns_sd '1'
	option ubus_socket '{}'
	list interface 'veth-a'
{extra_agent}
config collector
	option address '127.0.0.1'
	option port '{uci_collector}'
",
            self.broker.socket.display()
        )
    }

    fn status(&self) -> Json {
        ubus_call(&self.broker.socket, "wsflowd", "status").unwrap_or(Json::Null)
    }

    /// Polls the status until `ok` holds; panics after `timeout`.
    fn wait_status(&self, what: &str, timeout: Duration, ok: impl Fn(&Json) -> bool) -> Json {
        let end = Instant::now() + timeout;
        loop {
            let s = self.status();
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < end,
                "{what}: not within {timeout:?}: {s:#}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.etc);
    }
}

/// Records for dnsmasq: SRV targets (name, port), TXT strings.
struct Records<'a> {
    srv: &'a [(&'a str, u16)],
    txt: &'a [&'a str],
    ttl: u32,
}

/// Debian's dnsmasq, answering for test.lan (and nothere.lan) from the
/// records it was started with; killed on drop.
struct Dnsmasq {
    child: Child,
}

impl Dnsmasq {
    fn start(ns: &Netns, records: &Records) -> Dnsmasq {
        let mut args: Vec<String> = [
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            "--pid-file=",
            "--port=53",
            "--log-facility=-",
            "--local=/test.lan/",
            "--local=/nothere.lan/",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--listen-address={DNS}"));
        args.push(format!("--local-ttl={}", records.ttl));
        for (target, port) in records.srv {
            args.push(format!("--srv-host={SERVICE},{target}.{DOMAIN},{port},0,0"));
            args.push(format!("--host-record={target}.{DOMAIN},127.0.0.1"));
        }
        if !records.txt.is_empty() {
            args.push(format!("--txt-record={SERVICE},{}", records.txt.join(",")));
        }
        let child = ns
            .command("dnsmasq")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dnsmasq");
        let d = Dnsmasq { child };
        assert!(answers(ns), "dnsmasq does not answer: {args:?}");
        d
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether something answers DNS at 10.207.0.53 in `ns` (within 5 s).
fn answers(ns: &Netns) -> bool {
    ns.spawn(|| {
        let end = Instant::now() + Duration::from_secs(5);
        let mut query = [0u8; MAX_QUERY_LEN];
        let name = Name::from_text(SERVICE).unwrap();
        let n = write_query(&mut query, 0x5151, &name, rtype::TXT, None);
        while Instant::now() < end {
            let s = UdpSocket::bind("0.0.0.0:0").unwrap();
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let _ = s.send_to(&query[..n], (DNS, 53));
            let mut buf = [0u8; 1500];
            if let Ok(len) = s.recv(&mut buf) {
                if Message::new_checked(&buf[..len]).is_ok_and(|m| m.id() == 0x5151) {
                    return true;
                }
            }
            thread::sleep(Duration::from_millis(50));
        }
        false
    })
    .join()
    .unwrap()
}

/// Waits until `collector` received a datagram after `since`: when.
fn first_datagram(collector: &Collector, since: Instant, timeout: Duration) -> Option<Instant> {
    let end = Instant::now() + timeout;
    loop {
        if let Some((at, _)) = collector.snapshot().iter().find(|(at, _)| *at >= since) {
            return Some(*at);
        }
        if Instant::now() >= end {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The collectors of a status: (address, port, source).
fn collectors(s: &Json) -> Vec<(String, u64, String)> {
    s["collectors"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|c| {
                    (
                        c["address"].as_str().unwrap_or("").to_owned(),
                        c["port"].as_u64().unwrap_or(0),
                        c["source"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The sampling rate in force on veth-a.
fn rate_in_force(s: &Json) -> u64 {
    s["interfaces"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["device"] == "veth-a"))
        .and_then(|i| i["sampling_rate"].as_u64())
        .unwrap_or(0)
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// LuCI's status page of the running agent, in a browser: the text of the
/// collectors' "From" cells by row key, and of the DNS-SD facts by field.
fn status_page(lab: &Lab, cfg: &TempConfig, agent: &AgentProcess, shot: &str) -> Json {
    let server = server::LuciServer::start(server::Settings {
        config: cfg.path.clone(),
        ubus_socket: lab.broker.socket.clone(),
        agent_pid: Some(agent.child.id()),
        netns: Some(lab.net.a.name.clone()),
        devices: None,
        luci_root: None,
    });
    let b = webdriver::Browser::start(1280, 1400);
    b.goto(&server.url("/?view=wsflowd/status"));
    b.wait(
        "the status view",
        "return document.body.getAttribute('data-view-ready') == 'true' && !!document.querySelector('#wsflowd-dns-sd');",
        Duration::from_secs(20),
    );
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| source_dir().join("target"))
        .join("luci-artifacts");
    std::fs::create_dir_all(&target).unwrap();
    b.screenshot(&target.join(shot));
    b.js(
        "const from = {}; for (const r of document.querySelectorAll('#wsflowd-collectors tr[data-key]')) from[r.dataset.key] = r.querySelector('[data-field=\"source\"]').textContent;\
         const dns = {}; for (const td of document.querySelectorAll('#wsflowd-dns-sd [data-field]')) dns[td.dataset.field] = td.textContent;\
         return { from: from, dns: dns };",
        json!([]),
    )
}

#[test]
fn dns_sd_records_added_changed_and_removed() {
    let test = "dns_sd_records_added_changed_and_removed";
    let Some(lab) = Lab::new(test, &format!("nameserver {DNS}\n")) else {
        return;
    };
    let started = Instant::now();
    let uci = Collector::start(&lab.net.a);
    let c1 = Collector::start(&lab.net.a);
    let c2 = Collector::start(&lab.net.a);
    let c2_other_port = Collector::start(&lab.net.a);
    // ---- Added: SRV c1, TXT sampling 5, polling 2.
    let dns = Dnsmasq::start(
        &lab.net.a,
        &Records {
            srv: &[("c1", c1.port)],
            txt: &["txtvers=1", "sampling=5", "polling=2"],
            ttl: 600,
        },
    );
    let cfg =
        TempConfig::new(&lab.config(&format!("\toption dns_sd_domain '{DOMAIN}'\n"), uci.port));
    let (stop, traffic) = traffic(&lab.net.b, "10.201.0.1");
    let t0 = Instant::now();
    let agent = AgentProcess::start(&lab.net.a, &cfg.path);
    let got = first_datagram(&c1, t0, Duration::from_secs(10)).expect("c1 receives datagrams");
    let added = got - t0;
    let s = lab.wait_status("c1 from DNS-SD, rate 5", Duration::from_secs(5), |s| {
        rate_in_force(s) == 5
    });
    assert_eq!(
        collectors(&s),
        [
            (
                "127.0.0.1".to_owned(),
                u64::from(uci.port),
                "uci".to_owned()
            ),
            (
                "c1.test.lan".to_owned(),
                u64::from(c1.port),
                "dns-sd".to_owned()
            )
        ]
    );
    let d = &s["dns_sd"];
    assert_eq!(d["enabled"], true);
    assert_eq!(d["domain"], DOMAIN);
    assert_eq!(d["names"][0], SERVICE);
    assert_eq!(d["error"], "");
    assert_eq!(d["answer"]["ttl"], 600);
    assert_eq!(d["answer"]["refresh"], 600);
    assert_eq!(d["answer"]["sampling_rate"], 5);
    assert_eq!(d["answer"]["polling_interval"], 2);
    assert_eq!(d["answer"]["server"], format!("{DNS}:53"));
    assert!(d["next_query"].as_u64().unwrap() > 590, "{d}");
    assert_eq!(s["config"]["polling_interval"], 2, "TXT polling in force");
    // The samples c1 receives carry the rate from TXT.
    thread::sleep(Duration::from_millis(1500));
    let samples = flow_samples(
        &c1.snapshot(),
        got + Duration::from_millis(500),
        Instant::now(),
    );
    assert!(!samples.is_empty());
    assert!(samples.iter().all(|&(_, rate)| rate == 5), "{samples:?}");
    // The file's collector gets the same datagrams.
    assert!(!uci.snapshot().is_empty());
    println!(
        "added: first datagram at the collector from DNS-SD {} ms after the agent started",
        ms(added)
    );

    // ---- Changed: SRV target c1 -> c2, then the port; TXT sampling 7.
    drop(dns);
    let dns = Dnsmasq::start(
        &lab.net.a,
        &Records {
            srv: &[("c2", c2.port)],
            txt: &["txtvers=1", "sampling=7"],
            ttl: 600,
        },
    );
    let t1 = Instant::now();
    agent.signal(libc::SIGHUP);
    let got = first_datagram(&c2, t1, Duration::from_secs(10)).expect("c2 receives datagrams");
    let changed = got - t1;
    let s = lab.wait_status("c2, rate 7", Duration::from_secs(5), |s| {
        rate_in_force(s) == 7
    });
    let t_rate = Instant::now();
    let found = collectors(&s);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        found[1],
        (
            "c2.test.lan".to_owned(),
            u64::from(c2.port),
            "dns-sd".to_owned()
        )
    );
    // No TXT polling any more: the file's 20 s.
    assert_eq!(s["config"]["polling_interval"], 20);
    assert!(agent.wait_for_log("veth-a: sampling rate now 1-in-7", Duration::from_secs(2)));
    thread::sleep(Duration::from_millis(1500));
    let samples = flow_samples(
        &c2.snapshot(),
        t_rate + Duration::from_millis(500),
        Instant::now(),
    );
    assert!(!samples.is_empty());
    assert!(samples.iter().all(|&(_, rate)| rate == 7), "{samples:?}");
    // c1 gets nothing more.
    let c1_count = c1.snapshot().len();
    thread::sleep(Duration::from_millis(1200));
    assert_eq!(c1.snapshot().len(), c1_count, "c1 is no longer a collector");
    println!(
        "changed (SRV target, TXT sampling): new collector's first datagram {} ms after the reload",
        ms(changed)
    );
    // The port of the same target.
    drop(dns);
    let dns = Dnsmasq::start(
        &lab.net.a,
        &Records {
            srv: &[("c2", c2_other_port.port)],
            txt: &["txtvers=1", "sampling=7"],
            ttl: 600,
        },
    );
    let t2 = Instant::now();
    agent.signal(libc::SIGHUP);
    let got = first_datagram(&c2_other_port, t2, Duration::from_secs(10))
        .expect("the new port receives datagrams");
    println!(
        "changed (SRV port): first datagram at the new port {} ms after the reload",
        ms(got - t2)
    );
    let s = lab.status();
    assert_eq!(
        collectors(&s)[1],
        (
            "c2.test.lan".to_owned(),
            u64::from(c2_other_port.port),
            "dns-sd".to_owned()
        )
    );

    // ---- Removed: NXDOMAIN. The DNS-SD collector goes, the file's rate
    // is back, the file's collector stays.
    drop(dns);
    let _dns = Dnsmasq::start(
        &lab.net.a,
        &Records {
            srv: &[],
            txt: &[],
            ttl: 600,
        },
    );
    let t3 = Instant::now();
    agent.signal(libc::SIGHUP);
    let s = lab.wait_status("no DNS-SD collector", Duration::from_secs(10), |s| {
        collectors(s).len() == 1
    });
    let removed = t3.elapsed();
    assert_eq!(collectors(&s)[0].2, "uci");
    assert_eq!(rate_in_force(&s), 1000);
    assert_eq!(s["dns_sd"]["error"], "", "NXDOMAIN is an answer");
    assert_eq!(
        s["dns_sd"]["answer"]["collectors"].as_array().map(Vec::len),
        Some(0)
    );
    // No TTL without an SOA: asked again after 300 s.
    assert_eq!(s["dns_sd"]["answer"]["ttl"], Json::Null);
    assert_eq!(s["dns_sd"]["answer"]["refresh"], 300);
    let before = uci.snapshot().len();
    thread::sleep(Duration::from_millis(1500));
    assert!(
        uci.snapshot().len() > before,
        "the file's collector still receives"
    );
    println!(
        "removed: the DNS-SD collector gone {} ms after the reload",
        ms(removed)
    );
    stop.store(true, Ordering::Relaxed);
    traffic.join().unwrap();
    assert!(agent.stop().success());
    println!("{test}: {:?}", started.elapsed());
}

#[test]
fn dns_sd_server_down_keeps_the_last_answer() {
    let test = "dns_sd_server_down_keeps_the_last_answer";
    let Some(lab) = Lab::new(test, &format!("nameserver {DNS}\noptions timeout:2\n")) else {
        return;
    };
    let started = Instant::now();
    let uci = Collector::start(&lab.net.a);
    let c1 = Collector::start(&lab.net.a);
    let records = Records {
        srv: &[("c1", c1.port)],
        txt: &["txtvers=1", "sampling=5"],
        ttl: 600,
    };
    let dns = Dnsmasq::start(&lab.net.a, &records);
    let cfg =
        TempConfig::new(&lab.config(&format!("\toption dns_sd_domain '{DOMAIN}'\n"), uci.port));
    let (stop, traffic) = traffic(&lab.net.b, "10.201.0.1");
    let agent = AgentProcess::start(&lab.net.a, &cfg.path);
    lab.wait_status("c1 from DNS-SD", Duration::from_secs(10), |s| {
        collectors(s).len() == 2 && rate_in_force(s) == 5
    });
    // ---- The server goes: the next lookup fails at once (nothing
    // listens: ICMP port unreachable).
    drop(dns);
    let t0 = Instant::now();
    agent.signal(libc::SIGHUP);
    let s = lab.wait_status("the failure shown", Duration::from_secs(10), |s| {
        s["dns_sd"]["error"].as_str().is_some_and(|e| !e.is_empty())
    });
    let shown = t0.elapsed();
    let d = &s["dns_sd"];
    let error = d["error"].as_str().unwrap();
    assert!(error.contains("nothing listens"), "{error}");
    assert!(error.contains(SERVICE), "{error}");
    assert_eq!(d["failures"], 1);
    // Retried after 10 s; the last answer stays in force.
    assert!(d["next_query"].as_u64().unwrap() <= 10, "{d}");
    assert_eq!(collectors(&s).len(), 2, "the last answer's collector stays");
    assert_eq!(rate_in_force(&s), 5, "and its sampling rate");
    assert_eq!(d["answer"]["sampling_rate"], 5);
    assert!(agent.wait_for_log(
        "keeping the last answer (collectors c1.test.lan",
        Duration::from_secs(2)
    ));
    let after = Instant::now();
    assert!(
        first_datagram(&c1, after, Duration::from_secs(3)).is_some(),
        "c1 still receives datagrams"
    );
    println!(
        "server down: the error in the status {} ms after the reload",
        ms(shown)
    );
    // The LuCI status page says the same.
    if webdriver::tools_or_skip(test) {
        let page = status_page(&lab, &cfg, &agent, "status-dns-sd.png");
        println!("status page: {page:#}");
        assert_eq!(page["from"][format!("127.0.0.1:{}", uci.port)], "settings");
        assert_eq!(page["from"][format!("c1.test.lan:{}", c1.port)], "DNS-SD");
        let dns = &page["dns"];
        assert_eq!(dns["state"], "on");
        assert_eq!(dns["names"], format!("{SERVICE} SRV, TXT"));
        assert_eq!(dns["collectors"], format!("c1.test.lan:{}", c1.port));
        assert_eq!(dns["settings"], "sampling rate 1 in 5");
        assert_eq!(dns["ttl"], "600 s");
        assert!(
            dns["answer"]
                .as_str()
                .unwrap()
                .ends_with(&format!("ago, from {DNS}:53")),
            "{dns}"
        );
        let error = dns["error"].as_str().unwrap();
        assert!(
            error.contains("nothing listens") && error.contains("the last answer stays in force"),
            "{error}"
        );
    }
    // ---- The server is back: the retry (10 s after the failure) answers.
    let _dns = Dnsmasq::start(&lab.net.a, &records);
    let s = lab.wait_status("the error cleared", Duration::from_secs(20), |s| {
        s["dns_sd"]["error"] == ""
    });
    let back = t0.elapsed();
    assert_eq!(s["dns_sd"]["failures"], Json::Null);
    assert_eq!(collectors(&s).len(), 2);
    assert!(
        back >= Duration::from_secs(9),
        "not before the retry delay: {back:?}"
    );
    println!(
        "server back: answered again {} ms after the failure (retry delay 10 s)",
        ms(back)
    );
    stop.store(true, Ordering::Relaxed);
    traffic.join().unwrap();
    assert!(agent.stop().success());
    println!("{test}: {:?}", started.elapsed());
}

#[test]
fn dns_sd_requeries_when_the_ttl_ends() {
    let test = "dns_sd_requeries_when_the_ttl_ends";
    // No dns_sd_domain: the search list, whose first domain has no
    // records (NXDOMAIN).
    let Some(lab) = Lab::new(
        test,
        &format!("search nothere.lan {DOMAIN}\nnameserver {DNS}\n"),
    ) else {
        return;
    };
    let started = Instant::now();
    let uci = Collector::start(&lab.net.a);
    let c1 = Collector::start(&lab.net.a);
    let c2 = Collector::start(&lab.net.a);
    let dns = Dnsmasq::start(
        &lab.net.a,
        &Records {
            srv: &[("c1", c1.port)],
            txt: &["txtvers=1", "sampling=5"],
            ttl: 1,
        },
    );
    let cfg = TempConfig::new(&lab.config("", uci.port));
    let (stop, traffic) = traffic(&lab.net.b, "10.201.0.1");
    let agent = AgentProcess::start(&lab.net.a, &cfg.path);
    assert!(agent.wait_for_log(
        &format!("DNS-SD {SERVICE}: collectors c1.test.lan:{}", c1.port),
        Duration::from_secs(10)
    ));
    let first_answer = Instant::now();
    let s = lab.status();
    let d = &s["dns_sd"];
    assert_eq!(d["domain"], "");
    assert_eq!(
        d["names"],
        serde_json::json!(["_sflow._udp.nothere.lan", SERVICE])
    );
    assert_eq!(d["answer"]["name"], SERVICE);
    assert_eq!(d["answer"]["ttl"], 1);
    assert_eq!(
        d["answer"]["refresh"], 60,
        "a TTL of 1 s is asked again after the 1-minute floor"
    );
    assert!(
        (58..=60).contains(&d["next_query"].as_u64().unwrap()),
        "{d}"
    );
    // The records change; nothing tells the agent.
    drop(dns);
    let _dns = Dnsmasq::start(
        &lab.net.a,
        &Records {
            srv: &[("c2", c2.port)],
            txt: &["txtvers=1", "sampling=9"],
            ttl: 1,
        },
    );
    let got = first_datagram(&c2, first_answer, Duration::from_secs(80))
        .expect("c2 receives datagrams once the TTL ended");
    let picked_up = got - first_answer;
    assert!(
        picked_up >= Duration::from_secs(58) && picked_up <= Duration::from_secs(68),
        "picked up {picked_up:?} after the first answer"
    );
    let s = lab.wait_status("rate 9", Duration::from_secs(3), |s| rate_in_force(s) == 9);
    assert_eq!(collectors(&s)[1].0, "c2.test.lan");
    assert_eq!(s["dns_sd"]["error"], "");
    println!(
        "TTL expiry: the changed records picked up {} ms after the first answer (TTL 1 s, floor 60 s)",
        ms(picked_up)
    );
    stop.store(true, Ordering::Relaxed);
    traffic.join().unwrap();
    assert!(agent.stop().success());
    println!("{test}: {:?}", started.elapsed());
}
