//! Collector benchmark: one `wsflowd collect --prometheus
//! --prometheus-stations` process (the release build) fed over loopback
//! UDP with the datagrams of N simulated access-point agents, 10 stations
//! each: flow samples of a 128-byte header with `extended_80211_rx`/`_tx`
//! (5 to a datagram), and every tenth datagram a counter sample with
//! `if_counters`, `ethernet_counters`, `ieee80211_counters` and
//! `radio_utilization` plus the host's `host_descr` (encoded with our
//! library, tests/common/sflow_mix.rs, once per agent; each send copies
//! one and gives it the agent's next datagram, sample sequence numbers and
//! sample pool, so the collector sees N live agents).
//!
//! For N = 100 and N = 1,000 it offers rising rates and prints, per step,
//! what was sent and received, the datagrams lost (sent − received, and
//! the kernel's count of socket drops) and the CPU time of the collector's
//! receive thread per sample (from /proc: the figure holds whatever else
//! runs on the machine); then the highest rate received without loss,
//! samples per CPU-second of the receive thread, the collector's memory
//! with 10,000 stations tracked, the scrape time and size for 1,000
//! agents, and loss while /metrics is scraped back to back.
//!
//! Figures, not a test: nothing fails on a number. `WSFLOWD_BENCH_QUICK=1`
//! (as `make test` runs it) makes it a smoke run of a few seconds.

#[path = "../tests/common/sflow_mix.rs"]
mod sflow_mix;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use sflow_mix::SimAgent;

/// Stations each simulated agent serves.
const STATIONS_PER_AGENT: u32 = 10;
/// Every this many datagrams of an agent, one is a counter datagram.
const COUNTERS_EVERY: u32 = 10;
/// The simulated agents' sampling rate.
const RATE: u32 = 400;

/// User + system CPU seconds in a /proc `stat` file.
fn cpu_seconds(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap();
    // Fields after the command name, which is in parentheses.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    // USER_HZ, 100 wherever Linux runs, if sysconf does not say.
    let hz = wsflowd::sys::system::sysconf(libc::_SC_CLK_TCK).unwrap_or(100);
    ticks / hz as f64
}

/// The sum of the series of `metric` in a text exposition.
fn sum_of(body: &str, metric: &str) -> f64 {
    body.lines()
        .filter(|l| {
            l.strip_prefix(metric)
                .is_some_and(|r| r.starts_with(' ') || r.starts_with('{'))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

struct Collector {
    child: Child,
    sflow: String,
    metrics: String,
}

impl Collector {
    fn start() -> Collector {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wsflowd"))
            .args([
                "collect",
                "--listen",
                "127.0.0.1:0",
                "--prometheus",
                "127.0.0.1:0",
                "--prometheus-stations",
                "--max-stations",
                "20000",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start wsflowd collect");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let (mut sflow, mut metrics) = (String::new(), String::new());
        while sflow.is_empty() || metrics.is_empty() {
            let line = lines.next().expect("collect's banner").unwrap();
            if let Some(a) = line.strip_prefix("wsflowd collect: listening on ") {
                sflow = a.to_string();
            }
            if let Some(a) = line.split("metrics at http://").nth(1) {
                metrics = a.trim_end_matches("/metrics").to_string();
            }
        }
        // Keep reading stderr so that the collector never blocks on it.
        thread::spawn(move || for _ in lines {});
        Collector {
            child,
            sflow,
            metrics,
        }
    }

    /// CPU seconds of the receive thread (the main thread; scrapes are
    /// rendered on others).
    fn receive_cpu(&self) -> f64 {
        let id = self.child.id();
        cpu_seconds(&format!("/proc/{id}/task/{id}/stat"))
    }

    /// CPU seconds of the whole process, scrapes included.
    fn process_cpu(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }

    /// Bytes waiting in the collector's socket (/proc/net/udp).
    fn rx_queue(&self) -> u64 {
        let port: u16 = self.sflow.rsplit(':').next().unwrap().parse().unwrap();
        let local = format!("0100007F:{port:04X}");
        let table = std::fs::read_to_string("/proc/net/udp").unwrap();
        table
            .lines()
            .skip(1)
            .find_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                if f.get(1) != Some(&local.as_str()) {
                    return None;
                }
                u64::from_str_radix(f.get(4)?.split(':').nth(1)?, 16).ok()
            })
            .unwrap_or(0)
    }

    /// Waits until the socket is empty (every datagram read and handled).
    fn drain(&self) {
        let mut empty = 0;
        while empty < 3 {
            thread::sleep(Duration::from_millis(20));
            empty = if self.rx_queue() == 0 { empty + 1 } else { 0 };
        }
    }

    /// (VmRSS, VmHWM) in KiB.
    fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// One scrape: its time and body.
    fn scrape(&self, accept: &str) -> (Duration, String) {
        let start = Instant::now();
        let mut s = TcpStream::connect(&self.metrics).unwrap();
        write!(
            s,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let elapsed = start.elapsed();
        let text = String::from_utf8(raw).unwrap();
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        (elapsed, body)
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A datagram encoded once, with the offsets of what changes per send.
struct Template {
    bytes: Vec<u8>,
    /// Offsets of the flow samples' sequence numbers (the pool is 12
    /// bytes further).
    flows: Vec<usize>,
    /// Offsets of the counter samples' sequence numbers.
    counters: Vec<usize>,
}

impl Template {
    fn new(bytes: Vec<u8>) -> Template {
        // IPv4 agent: the datagram header is 28 bytes; each sample is
        // format, length, then (compact) its sequence number.
        let (mut flows, mut counters) = (Vec::new(), Vec::new());
        let mut at = 28;
        while at + 8 <= bytes.len() {
            let format = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
            let length = u32::from_be_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
            match format {
                1 => flows.push(at + 8),
                2 => counters.push(at + 8),
                _ => {}
            }
            at += 8 + length;
        }
        Template {
            bytes,
            flows,
            counters,
        }
    }
}

/// One simulated agent: its datagrams and its sequences.
struct Agent {
    /// Two datagrams of flow samples, for its 10 stations.
    flow: [Template; 2],
    counters: Template,
    sequence: u32,
    uptime_ms: u32,
    flow_sequence: u32,
    counter_sequence: u32,
    pool: u32,
}

fn put(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// The simulated fleet and its sender.
struct Fleet {
    agents: Vec<Agent>,
    socket: UdpSocket,
    next: usize,
    buf: Vec<u8>,
    sent_datagrams: u64,
    sent_samples: u64,
}

impl Fleet {
    fn new(n: u32, collector: &str) -> Fleet {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.connect(collector).unwrap();
        let mut buf = Vec::new();
        let agents = (1..=n)
            .map(|i| {
                let mut sim = SimAgent::new(i, RATE, i * STATIONS_PER_AGENT, STATIONS_PER_AGENT);
                sim.flow_datagram(&mut buf, 64);
                let first = Template::new(buf.clone());
                sim.flow_datagram(&mut buf, 64);
                let flow = [first, Template::new(buf.clone())];
                sim.counter_datagram(&mut buf);
                let counters = Template::new(buf.clone());
                Agent {
                    flow,
                    counters,
                    sequence: 0,
                    uptime_ms: 10_000,
                    flow_sequence: 0,
                    counter_sequence: 0,
                    pool: 0,
                }
            })
            .collect();
        Fleet {
            agents,
            socket,
            next: 0,
            buf: Vec::with_capacity(2048),
            sent_datagrams: 0,
            sent_samples: 0,
        }
    }

    /// Sends the next datagram (round robin over the agents).
    fn send_one(&mut self) {
        let a = &mut self.agents[self.next];
        a.sequence += 1;
        a.uptime_ms += 100;
        let counters = a.sequence % COUNTERS_EVERY == 0;
        let t = if counters {
            &a.counters
        } else {
            &a.flow[(a.sequence % 2) as usize]
        };
        self.buf.clear();
        self.buf.extend_from_slice(&t.bytes);
        put(&mut self.buf, 16, a.sequence);
        put(&mut self.buf, 20, a.uptime_ms);
        for &at in &t.flows {
            a.flow_sequence += 1;
            a.pool += RATE;
            put(&mut self.buf, at, a.flow_sequence);
            put(&mut self.buf, at + 12, a.pool);
        }
        if !t.counters.is_empty() {
            a.counter_sequence += 1;
        }
        for &at in &t.counters {
            put(&mut self.buf, at, a.counter_sequence);
        }
        let samples = (t.flows.len() + t.counters.len()) as u64;
        // A full socket buffer on our side: wait, never drop here.
        while self.socket.send(&self.buf).is_err() {
            thread::sleep(Duration::from_micros(50));
        }
        self.sent_datagrams += 1;
        self.sent_samples += samples;
        self.next = (self.next + 1) % self.agents.len();
    }

    /// Offers `rate` datagrams per second for `duration`; returns the rate
    /// reached.
    fn offer(&mut self, rate: f64, duration: Duration) -> f64 {
        let start = Instant::now();
        let mut sent = 0u64;
        while start.elapsed() < duration {
            let due = (start.elapsed().as_secs_f64() * rate) as u64;
            while sent < due {
                self.send_one();
                sent += 1;
            }
            thread::sleep(Duration::from_micros(100));
        }
        sent as f64 / start.elapsed().as_secs_f64()
    }

    /// Every agent sends ten datagrams (counters included), slowly: all
    /// agents and stations are known before the measures.
    fn introduce(&mut self) {
        for k in 0..self.agents.len() * COUNTERS_EVERY as usize {
            self.send_one();
            if k % 100 == 99 {
                thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

struct Step {
    offered: f64,
    reached: f64,
    sent: u64,
    received: u64,
    samples: u64,
    receive_cpu: f64,
    socket_drops: f64,
}

impl Step {
    fn lost(&self) -> u64 {
        self.sent.saturating_sub(self.received)
    }

    fn samples_per_second(&self) -> f64 {
        self.reached * self.samples as f64 / self.sent.max(1) as f64
    }
}

fn step(c: &Collector, fleet: &mut Fleet, rate: f64, duration: Duration, n: u32) -> Step {
    let before = c.scrape("text/plain").1;
    c.drain();
    let (d0, s0) = (fleet.sent_datagrams, fleet.sent_samples);
    let cpu0 = c.receive_cpu();
    let reached = fleet.offer(rate, duration);
    c.drain();
    let receive_cpu = c.receive_cpu() - cpu0;
    let after = c.scrape("text/plain").1;
    let delta = |m: &str| sum_of(&after, m) - sum_of(&before, m);
    let s = Step {
        offered: rate,
        reached,
        sent: fleet.sent_datagrams - d0,
        received: delta("wsflowd_collector_datagrams_total") as u64,
        samples: fleet.sent_samples - s0,
        receive_cpu,
        socket_drops: delta("wsflowd_collector_socket_drops_total"),
    };
    println!(
        "  {n:>5} agents  offered {:>7.0} datagrams/s  sent {:>7.0}/s ({:>7.0} samples/s)  received {:>7} of {:<7} lost {:>6} ({:>5.2} %, socket drops {:.0})  receive thread {:.2} s CPU, {:.2} µs/sample",
        s.offered,
        s.reached,
        s.samples_per_second(),
        s.received,
        s.sent,
        s.lost(),
        s.lost() as f64 * 100.0 / s.sent.max(1) as f64,
        s.socket_drops,
        s.receive_cpu,
        s.receive_cpu * 1e6 / s.samples.max(1) as f64,
    );
    s
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this
    // binary too, without it, in the debug profile: nothing to do there
    // (`make test` runs the benchmark itself, briefly).
    if !std::env::args().any(|a| a == "--bench") {
        println!("collect benchmark: run it with `make bench` (cargo bench --bench collect)");
        return;
    }
    let quick = std::env::var_os("WSFLOWD_BENCH_QUICK").is_some_and(|v| v != "0");
    let duration = Duration::from_millis(if quick { 300 } else { 3_000 });
    // Datagrams per second offered.
    let rates: &[f64] = if quick {
        &[10_000.0, 40_000.0]
    } else {
        &[10_000.0, 25_000.0, 50_000.0, 75_000.0, 100_000.0, 150_000.0]
    };
    println!(
        "wsflowd collect benchmark{}: {}",
        if quick { " (QUICK)" } else { "" },
        env!("CARGO_BIN_EXE_wsflowd")
    );
    println!(
        "datagrams of at most 1,400 bytes: 5 flow samples (128-byte header + extended_80211_rx/tx), \
         every {COUNTERS_EVERY}th 2 counter samples (if, ethernet, 802.11, radio; host_descr); \
         {STATIONS_PER_AGENT} stations per agent; --prometheus --prometheus-stations"
    );
    let mut summary = Vec::new();
    for n in [100u32, 1_000] {
        println!("{n} agents:");
        let c = Collector::start();
        let mut fleet = Fleet::new(n, &c.sflow);
        fleet.introduce();
        c.drain();
        let steps: Vec<Step> = rates
            .iter()
            .map(|&r| step(&c, &mut fleet, r, duration, n))
            .collect();
        let lossless = steps
            .iter()
            .filter(|s| s.lost() == 0)
            .map(Step::samples_per_second)
            .fold(0.0, f64::max);
        let (samples, cpu) = steps
            .iter()
            .filter(|s| s.lost() == 0)
            .fold((0, 0.0), |(n, t), s| (n + s.samples, t + s.receive_cpu));
        let loss = |s: &Step| s.lost() as f64 * 100.0 / s.sent.max(1) as f64;
        summary.push(format!(
            "{n:>5} agents: up to {lossless:.0} samples/s received without loss; {:.0} samples per receive-thread CPU-second; loss at the highest rate offered ({:.0} samples/s): {:.2} %",
            if cpu > 0.0 { samples as f64 / cpu } else { 0.0 },
            steps.last().map_or(0.0, Step::samples_per_second),
            steps.last().map_or(0.0, loss),
        ));
        if n != 1_000 {
            continue;
        }
        let (rss, hwm) = c.memory_kib();
        let after = c.scrape("text/plain").1;
        summary.push(format!(
            "memory with {} agents and {} stations tracked: VmRSS {:.1} MiB (VmHWM {:.1} MiB) before the scrape measures",
            sum_of(&after, "wsflowd_collector_agents"),
            sum_of(&after, "wsflowd_collector_stations"),
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        ));
        for (name, accept) in [
            ("text", "text/plain"),
            ("OpenMetrics", "application/openmetrics-text;version=1.0.0"),
        ] {
            let cpu0 = c.process_cpu();
            let rounds = if quick { 2 } else { 7 };
            let mut times: Vec<Duration> = (0..rounds).map(|_| c.scrape(accept).0).collect();
            let cpu = (c.process_cpu() - cpu0) / f64::from(rounds);
            times.sort();
            let body = c.scrape(accept).1;
            let series = body.lines().filter(|l| !l.starts_with('#')).count();
            summary.push(format!(
                "scrape ({name}) of 1000 agents: median {:.0} ms, max {:.0} ms, {:.0} ms CPU; {:.1} MB, {series} series",
                times[times.len() / 2].as_secs_f64() * 1e3,
                times[times.len() - 1].as_secs_f64() * 1e3,
                cpu * 1e3,
                body.len() as f64 / 1e6
            ));
        }
        let (rss, hwm) = c.memory_kib();
        summary.push(format!(
            "memory after the scrapes: VmRSS {:.1} MiB (VmHWM {:.1} MiB)",
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        ));
        // Loss while /metrics is scraped back to back.
        println!("1000 agents, /metrics scraped back to back meanwhile:");
        let hammer = Arc::new(AtomicBool::new(true));
        let scrapes = Arc::new(AtomicU64::new(0));
        let scraper = {
            let (addr, hammer, scrapes) = (c.metrics.clone(), hammer.clone(), scrapes.clone());
            thread::spawn(move || {
                while hammer.load(Ordering::Relaxed) {
                    let mut s = TcpStream::connect(&addr).unwrap();
                    let _ = write!(
                        s,
                        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    );
                    let _ = std::io::copy(&mut s, &mut std::io::sink());
                    scrapes.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        let scraped_rates: &[f64] = if quick {
            &[10_000.0]
        } else {
            &[25_000.0, 50_000.0]
        };
        for &r in scraped_rates {
            let s = step(&c, &mut fleet, r, duration, n);
            summary.push(format!(
                "with /metrics scraped back to back: {:.0} samples/s offered, {} of {} datagrams lost",
                s.samples_per_second(),
                s.lost(),
                s.sent
            ));
        }
        hammer.store(false, Ordering::Relaxed);
        let _ = scraper.join();
        summary.push(format!(
            "({} scrapes of 1000 agents during those steps)",
            scrapes.load(Ordering::Relaxed)
        ));
    }
    println!("summary (a shared 2-core machine, the sender on it too: orders of magnitude):");
    for line in summary {
        println!("  {line}");
    }
}
