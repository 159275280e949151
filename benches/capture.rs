//! Capture benchmark: what the agent costs while it samples real traffic.
//! It prints figures; it is not a timed test and exits 0 whatever they
//! are (non-zero only on a real error: not root, a tool missing, a rig
//! that cannot be built).
//!
//! Run as root with `make bench-capture` (installs Debian's `pmacct` when
//! missing), or `cargo bench --bench capture`. Three parts:
//!
//! 1. **veth**: a sender namespace pushes UDP packets (sendmmsg, paced at
//!    150,000 packets/s) through a veth pair into an "AP" namespace, where
//!    wsflowd and Debian's pmacctd (`sfprobe` plugin) sample the same veth
//!    end at the same 1-in-N, each sending sFlow to its own collector on
//!    the AP's loopback. Measured over the traffic window: CPU of each
//!    (every thread of every process of its tree, pmacctd's core and
//!    plugin processes included, from `/proc/PID/task/TID/schedstat`,
//!    nanoseconds), peak RSS (`VmHWM`), the flow samples each collector
//!    decoded (with wsflowd's own decoder), and the packets the kernel
//!    counted on the interface.
//! 2. **radiotap TAP**: frames of the shared radiotap captures, cycled,
//!    written into a TAP with link type 803 that the agent samples as a
//!    monitor interface.
//! 3. **Sustained sample rate**: the sender unpaced (as fast as it goes),
//!    1-in-N lowered step by step with the default 256 KiB ring, then
//!    1-in-1 with a 2 MiB ring; samples per second and ring drops.
//!
//! Each part also says how busy other processes kept the CPUs (the
//! machine may be shared: figures from a busy machine are disturbed), and
//! each run measures the agents idle for a second first, to tell their
//! per-sample cost from their fixed cost (timers, counter polling).
//!
//! The 1-in-N choice of wsflowd happens in the kernel (its socket filter);
//! the filter's own run time is charged to whoever runs the softirq (here
//! the sender), not to the agent, and is reported apart from eBPF run-time
//! statistics. pmacctd gets every packet through libpcap and samples in
//! user space.
//!
//! `WSFLOWD_BENCH_QUICK=1`: a smoke run (50,000 packets at 1-in-100 only,
//! 200,000 TAP frames, no sweep; pmacctd skipped if not installed).
//!
//! Everything runs in network namespaces created here (named
//! `wsfbench-PID-ROLE`) and removed at the end, on error and on Ctrl-C;
//! namespaces left by a killed run are removed by the next one.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "capture/filter_cost.rs"]
mod filter_cost;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, UdpSocket};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::process::{cpu_between, process_tree, read_tree, OtherLoad, ProcessMemory};
use common::{captures_dir, os, run, Netns, TempConfig};
use wsflowd::mac::MacAddr;
use wsflowd::pcap::{link_type, PcapReader};
use wsflowd::sflow::{Datagram, FlowRecord, Sample};
use wsflowd::wifi::MonitorFrame;

type Res<T> = Result<T, String>;

// ---------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------

/// Paced rate of the comparison runs (the issue: at most 150k packets/s).
const PACED_PPS: f64 = 150_000.0;
/// UDP payload of each packet: 106-byte Ethernet frames.
const PAYLOAD: usize = 64;
/// wsflowd's `header_bytes` and pmacctd's `snaplen`.
const HEADER_BYTES: u32 = 128;
/// Seconds between the end of the traffic and the last reading: wsflowd
/// flushes every second; its ring hands over a block within 100 ms.
const FLUSH_WAIT: Duration = Duration::from_millis(2_500);
/// Before the traffic, the agents run this long idle: their CPU per
/// second without traffic (timers, counter polling) is reported apart.
const IDLE_WINDOW: Duration = Duration::from_secs(1);
/// Namespaces of this benchmark: `wsfbench-PID-ROLE`.
const NS_PREFIX: &str = "wsfbench-";
const AP_IF: &str = "veth-ap";
const STA_IF: &str = "veth-sta";
const AP_ADDR: &str = "10.77.0.1";
const STA_ADDR: &str = "10.77.0.2";
/// Where the sender's packets go: a UDP socket that is never read (full
/// at once, so packets are dropped there without ICMP answers).
const SINK_PORT: u16 = 9;
const MON_IF: &str = "mon0";

struct Plan {
    quick: bool,
    /// Packets per comparison run and the 1-in-N of each run.
    veth_packets: u64,
    veth_rates: Vec<u32>,
    tap_frames: u64,
    tap_rate: u32,
    /// Packets per sweep step and the 1-in-N of each step (default ring),
    /// then steps with a bigger ring: (1-in-N, KiB).
    sweep_packets: u64,
    sweep_rates: Vec<u32>,
    sweep_big_ring: Vec<(u32, u32)>,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                veth_packets: 50_000,
                veth_rates: vec![100],
                tap_frames: 200_000,
                tap_rate: 100,
                sweep_packets: 0,
                sweep_rates: vec![],
                sweep_big_ring: vec![],
            }
        } else {
            Plan {
                quick,
                veth_packets: 1_000_000,
                veth_rates: vec![100, 10, 1000],
                tap_frames: 5_000_000,
                tap_rate: 100,
                sweep_packets: 1_500_000,
                sweep_rates: vec![100, 20, 10, 5, 2, 1],
                sweep_big_ring: vec![(1, 2048)],
            }
        }
    }
}

// ---------------------------------------------------------------------
// Interruption (Ctrl-C): every wait checks the flag, so that the guards
// are dropped and the namespaces removed.
// ---------------------------------------------------------------------

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    // SAFETY: all zeros is a valid `struct sigaction` (no handler, no
    // flags, an empty mask, no restorer).
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
    // SAFETY: `sa` is valid for the calls to read and write; the handler
    // only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::sigemptyset(&mut sa.sa_mask);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaction(s, &sa, std::ptr::null_mut());
        }
    }
}

fn check_stop() -> Res<()> {
    if STOP.load(Ordering::SeqCst) {
        Err("interrupted".into())
    } else {
        Ok(())
    }
}

/// Sleeps, waking every 50 ms to see whether we were interrupted.
fn nap(d: Duration) -> Res<()> {
    let end = Instant::now() + d;
    loop {
        check_stop()?;
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

// ---------------------------------------------------------------------
// Commands and namespaces
// ---------------------------------------------------------------------

/// A namespace of this run (deleted when the `Netns` drops), without IPv6
/// (no router solicitations or MLD reports among the counted packets).
fn new_netns(role: &str) -> Res<Netns> {
    Netns::create(&format!("{NS_PREFIX}{}-{role}", std::process::id()))
}

/// Removes the namespaces of earlier runs that were killed before they
/// could clean up (their process is gone), and the processes left in them
/// (a pmacctd plugin outlives its killed parent).
fn remove_stale_namespaces() {
    let Ok(dir) = std::fs::read_dir("/var/run/netns") else {
        return;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(NS_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if !comm.starts_with("capture") {
            eprintln!("removing namespace {name}, left by an earlier run");
            let pids = Command::new("ip")
                .args(["netns", "pids", &name])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            for pid in pids
                .split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok())
            {
                let _ = os::kill(pid, libc::SIGKILL);
            }
            let _ = run(&["ip", "netns", "del", &name]);
        }
    }
}

// ---------------------------------------------------------------------
// Daemons: wsflowd and pmacctd, their output and their process trees
// ---------------------------------------------------------------------

/// A daemon started in a namespace (`ip netns exec` execs it, so the child
/// is the daemon); its output is kept. Killed with its whole process tree
/// on drop, and by the kernel if this process dies (PR_SET_PDEATHSIG).
struct Daemon {
    what: String,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    readers: Vec<thread::JoinHandle<()>>,
}

impl Daemon {
    /// Must be called from the main thread: the death signal follows the
    /// thread that forked.
    fn start(ns: &Netns, what: &str, program: &Path, args: &[&str]) -> Res<Daemon> {
        let mut cmd = ns.command(program.to_str().ok_or("program path")?);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: the closure runs in the child between fork and exec and
        // makes one async-signal-safe call (prctl), allocating nothing.
        unsafe {
            cmd.pre_exec(|| {
                let _ = os::die_with_parent();
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("{}: {e}", program.display()))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let stdout = child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        let stderr = child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        let mut readers = Vec::new();
        for stream in [stdout, stderr].into_iter().flatten() {
            let sink = log.clone();
            readers.push(thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    sink.lock().unwrap().push(line);
                }
            }));
        }
        Ok(Daemon {
            what: what.to_string(),
            child,
            log,
            readers,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits until a line of its output contains `needle`; false if it
    /// exited or the time ran out.
    fn wait_for(&mut self, needle: &str, timeout: Duration) -> Res<bool> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.log.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return Ok(true);
            }
            if self.exited().is_some() {
                // Let the readers collect its last words.
                thread::sleep(Duration::from_millis(100));
                return Ok(self.log.lock().unwrap().iter().any(|l| l.contains(needle)));
            }
            nap(Duration::from_millis(20))?;
        }
        Ok(false)
    }

    fn kill_tree(&mut self) {
        for p in process_tree(self.pid()).into_iter().rev() {
            let _ = os::kill(p, libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then up to 5 s for a clean exit (SIGKILL after that).
    /// Returns its output.
    fn stop(mut self) -> Res<Vec<String>> {
        let tree = process_tree(self.pid());
        let _ = os::kill(self.pid(), libc::SIGTERM);
        let end = Instant::now() + Duration::from_secs(5);
        let clean = loop {
            if let Some(status) = self.exited() {
                break status.success();
            }
            if Instant::now() >= end {
                eprintln!("{} did not stop on SIGTERM: killed", self.what);
                self.kill_tree();
                break false;
            }
            thread::sleep(Duration::from_millis(20));
        };
        // Plugin processes that outlive their parent.
        let end = Instant::now() + Duration::from_secs(2);
        while tree[1..]
            .iter()
            .any(|p| Path::new(&format!("/proc/{p}")).exists())
            && Instant::now() < end
        {
            thread::sleep(Duration::from_millis(20));
        }
        for &p in &tree[1..] {
            let _ = os::kill(p, libc::SIGKILL);
        }
        // Its last lines: the readers end when every process holding the
        // pipes is gone.
        let end = Instant::now() + Duration::from_secs(1);
        while self.readers.iter().any(|r| !r.is_finished()) && Instant::now() < end {
            thread::sleep(Duration::from_millis(10));
        }
        let lines = self.lines();
        if !clean && self.what == "wsflowd" {
            return Err(format!(
                "wsflowd did not exit cleanly:\n{}",
                lines.join("\n")
            ));
        }
        Ok(lines)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.exited().is_none() {
            self.kill_tree();
        }
    }
}

/// The counts wsflowd logs per interface at exit.
#[derive(Debug, Clone, Copy, Default)]
struct ExitCounts {
    pool: u64,
    samples: u64,
    drops: u64,
    accepted: u64,
    rejected: Option<u64>,
}

fn exit_counts(log: &[String], device: &str) -> Option<ExitCounts> {
    let line = log
        .iter()
        .find(|l| l.contains(&format!("{device}: pool ")))?;
    let count = |name: &str| -> Option<u64> {
        let at = line.find(name)? + name.len();
        line[at..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    Some(ExitCounts {
        pool: count("pool")?,
        samples: count("frames read")?,
        drops: count("drops")?,
        accepted: count("accepted by the filter")?,
        rejected: count("rejected"),
    })
}

// ---------------------------------------------------------------------
// Collector: counts what arrives, decoding with wsflowd's decoder
// ---------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
struct FlowStats {
    datagrams: u64,
    /// Datagrams missing from the sequence numbers.
    lost_datagrams: u64,
    flow_samples: u64,
    counter_samples: u64,
    /// Flow samples whose output is "discarded" (foreign BSS frames).
    discarded: u64,
    max_drops: u32,
    max_pool: u32,
    rates: BTreeSet<u32>,
    /// Sampled headers per header protocol.
    protocols: BTreeMap<u32, u64>,
    errors: u64,
}

impl FlowStats {
    /// Counts a datagram. `light`: only its header (samples counted, not
    /// decoded), to leave the CPUs to the agent at high sample rates.
    fn account(
        &mut self,
        bytes: &[u8],
        light: bool,
        last: &mut HashMap<(Option<IpAddr>, u32), u32>,
    ) {
        let Ok(d) = Datagram::parse(bytes) else {
            self.errors += 1;
            return;
        };
        self.datagrams += 1;
        let key = (d.agent_address, d.sub_agent_id);
        if let Some(prev) = last.insert(key, d.sequence_number) {
            if d.sequence_number > prev + 1 {
                self.lost_datagrams += u64::from(d.sequence_number - prev - 1);
            }
        }
        for s in d.samples.iter() {
            if light {
                // The samples, not their records.
                match s {
                    Ok(Sample::Flow(..)) => self.flow_samples += 1,
                    Ok(Sample::Counters(..)) => self.counter_samples += 1,
                    Ok(_) => {}
                    Err(_) => self.errors += 1,
                }
                continue;
            }
            match s {
                Ok(Sample::Flow(_, f)) => {
                    self.flow_samples += 1;
                    if f.output.format == 1 {
                        self.discarded += 1;
                    }
                    self.max_drops = self.max_drops.max(f.drops);
                    self.max_pool = self.max_pool.max(f.sample_pool);
                    self.rates.insert(f.sampling_rate);
                    for r in f.records.iter() {
                        match r {
                            Ok(FlowRecord::SampledHeader(h)) => {
                                *self.protocols.entry(h.protocol.0).or_default() += 1
                            }
                            Ok(_) => {}
                            Err(_) => self.errors += 1,
                        }
                    }
                }
                Ok(Sample::Counters(..)) => self.counter_samples += 1,
                Ok(Sample::Unknown { .. }) => {}
                Err(_) => self.errors += 1,
            }
        }
    }
}

struct SflowCollector {
    port: u16,
    stats: Arc<Mutex<FlowStats>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl SflowCollector {
    /// A UDP socket on 127.0.0.1 in `ns`, read by a thread that decodes
    /// every sample (`light`: counts them only).
    fn start(ns: &Netns, light: bool) -> Res<SflowCollector> {
        let socket = ns
            .spawn(|| UdpSocket::bind("127.0.0.1:0"))
            .join()
            .map_err(|_| "collector thread")?
            .map_err(|e| format!("collector socket: {e}"))?;
        // Room for bursts (the agents send up to a datagram per sample
        // batch): lost datagrams would look like missing samples.
        let _ = set_int_option(&socket, libc::SO_RCVBUFFORCE, 16 << 20);
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .map_err(|e| e.to_string())?;
        let port = socket.local_addr().map_err(|e| e.to_string())?.port();
        let stats = Arc::new(Mutex::new(FlowStats::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (sink, flag) = (stats.clone(), stop.clone());
        let thread = thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            let mut last = HashMap::new();
            while !flag.load(Ordering::SeqCst) {
                if let Ok(n) = socket.recv(&mut buf) {
                    sink.lock().unwrap().account(&buf[..n], light, &mut last);
                }
            }
        });
        Ok(SflowCollector {
            port,
            stats,
            stop,
            thread: Some(thread),
        })
    }

    fn stats(&self) -> FlowStats {
        self.stats.lock().unwrap().clone()
    }
}

impl Drop for SflowCollector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn set_int_option(socket: &UdpSocket, option: libc::c_int, value: libc::c_int) -> Res<()> {
    wsflowd::sys::setsockopt_int(socket.as_fd(), libc::SOL_SOCKET, option, value)
        .map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------
// Traffic: a UDP sender with sendmmsg, paced or not
// ---------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct Sent {
    packets: u64,
    elapsed: Duration,
}

impl Sent {
    fn pps(&self) -> f64 {
        self.packets as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Sends `count` UDP packets from `from` to `to` on a thread in `ns`, in
/// batches of `sendmmsg`, paced at `rate` packets/s (None: as fast as the
/// sender goes).
fn send_udp(ns: &Netns, from: &str, to: &str, count: u64, rate: Option<f64>) -> Res<Sent> {
    let (from, to) = (format!("{from}:0"), format!("{to}:{SINK_PORT}"));
    ns.spawn(move || -> Res<Sent> {
        let s = UdpSocket::bind(&from).map_err(|e| format!("bind {from}: {e}"))?;
        s.connect(&to).map_err(|e| format!("connect {to}: {e}"))?;
        const BATCH: usize = 32;
        let mut payload = [0u8; PAYLOAD];
        payload[..8].copy_from_slice(b"wsfbench");
        let mut batch = os::BatchSender::new(&payload, BATCH);
        let start = Instant::now();
        let mut sent = 0u64;
        while sent < count {
            if STOP.load(Ordering::Relaxed) {
                return Err("interrupted".into());
            }
            if let Some(rate) = rate {
                let due = start + Duration::from_secs_f64(sent as f64 / rate);
                let now = Instant::now();
                if due > now {
                    thread::sleep(due - now);
                }
            }
            let n = (count - sent).min(BATCH as u64) as usize;
            match batch.send(&s, n) {
                Ok(n) => sent += n as u64,
                Err(e) => match e.raw_os_error() {
                    Some(libc::ENOBUFS | libc::EAGAIN | libc::EINTR | libc::ECONNREFUSED) => {
                        thread::sleep(Duration::from_micros(50));
                        continue;
                    }
                    _ => return Err(format!("sendmmsg: {e}")),
                },
            }
        }
        Ok(Sent {
            packets: sent,
            elapsed: start.elapsed(),
        })
    })
    .join()
    .map_err(|_| "sender thread panicked".to_string())?
}

/// The sender and AP namespaces joined by a veth pair, and the sink.
struct VethRig {
    ap: Netns,
    sta: Netns,
    _sink: UdpSocket,
}

impl VethRig {
    fn new() -> Res<VethRig> {
        let ap = new_netns("ap")?;
        let sta = new_netns("sta")?;
        run(&[
            "ip", "link", "add", AP_IF, "netns", &ap.name, "type", "veth", "peer", "name", STA_IF,
            "netns", &sta.name,
        ])?;
        ap.try_exec(&["ip", "addr", "add", &format!("{AP_ADDR}/24"), "dev", AP_IF])?;
        sta.try_exec(&[
            "ip",
            "addr",
            "add",
            &format!("{STA_ADDR}/24"),
            "dev",
            STA_IF,
        ])?;
        ap.try_exec(&["ip", "link", "set", AP_IF, "up"])?;
        sta.try_exec(&["ip", "link", "set", STA_IF, "up"])?;
        let sink = ap
            .spawn(|| UdpSocket::bind((AP_ADDR, SINK_PORT)))
            .join()
            .map_err(|_| "sink thread")?
            .map_err(|e| format!("sink socket: {e}"))?;
        let _ = set_int_option(&sink, libc::SO_RCVBUF, 4096);
        // A permanent neighbour entry: no ARP among the counted packets.
        let out = ap
            .command("cat")
            .arg(format!("/sys/class/net/{AP_IF}/address"))
            .output()
            .map_err(|e| e.to_string())?;
        let mac = String::from_utf8_lossy(&out.stdout).trim().to_string();
        sta.try_exec(&[
            "ip",
            "neigh",
            "replace",
            AP_ADDR,
            "lladdr",
            &mac,
            "dev",
            STA_IF,
            "nud",
            "permanent",
        ])?;
        Ok(VethRig {
            ap,
            sta,
            _sink: sink,
        })
    }

    /// Packets that crossed the AP's veth end (both directions).
    fn packets(&self) -> Res<u64> {
        Ok(self.ap.try_stat(AP_IF, "rx_packets")? + self.ap.try_stat(AP_IF, "tx_packets")?)
    }
}

// ---------------------------------------------------------------------
// The agents
// ---------------------------------------------------------------------

fn wsflowd_config(rate: u32, device: &str, port: u16, interface_section: &str) -> String {
    format!(
        "config agent 'agent'\n\toption sampling_rate '{rate}'\n\toption polling_interval '20'\n\toption header_bytes '{HEADER_BYTES}'\n\tlist interface '{device}'\n{interface_section}\nconfig collector\n\toption address '127.0.0.1'\n\toption port '{port}'\n"
    )
}

fn start_wsflowd(ns: &Netns, config: &Path, device: &str) -> Res<(Daemon, String)> {
    let program = PathBuf::from(env!("CARGO_BIN_EXE_wsflowd"));
    let mut agent = Daemon::start(
        ns,
        "wsflowd",
        &program,
        &["-f", "-c", config.to_str().ok_or("config path")?],
    )?;
    if !agent.wait_for(&format!("sampling {device} "), Duration::from_secs(5))? {
        return Err(format!(
            "wsflowd did not start sampling {device}:\n{}",
            agent.lines().join("\n")
        ));
    }
    let line = agent
        .lines()
        .into_iter()
        .find(|l| l.contains(&format!("sampling {device} ")))
        .unwrap_or_default();
    // "info: sampling veth-ap (ifIndex 2) at 1-in-100: eBPF filter, exact
    // pool, 256 KiB ring"
    let how = line
        .find(" at 1-in-")
        .and_then(|at| line[at..].split_once(": "))
        .map_or(line.clone(), |(_, rest)| rest.to_string());
    Ok((agent, how))
}

fn pmacct_config(device: &str, rate: u32, port: u16) -> String {
    format!(
        "daemonize: false\npcap_interface: {device}\nplugins: sfprobe[sf]\nsampling_rate: {rate}\nsfprobe_receiver[sf]: 127.0.0.1:{port}\nsnaplen: {HEADER_BYTES}\n"
    )
}

/// Starts pmacctd and waits for its sfprobe plugin to be running.
/// Err(its output) when it does not come up.
fn start_pmacctd(ns: &Netns, pmacctd: &Path, config: &Path) -> Res<Result<Daemon, String>> {
    let mut d = Daemon::start(
        ns,
        "pmacctd",
        pmacctd,
        &["-f", config.to_str().ok_or("config path")?],
    )?;
    let up = d.wait_for("Sampling at", Duration::from_secs(5))?;
    // The plugin is a child process; give the core a moment to open its
    // capture too.
    nap(Duration::from_millis(500))?;
    if !up || d.exited().is_some() || process_tree(d.pid()).len() < 2 {
        let lines = d.lines();
        drop(d);
        return Ok(Err(lines.join("\n")));
    }
    Ok(Ok(d))
}

fn find_pmacctd() -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"])
        .map(|d| Path::new(d).join("pmacctd"))
        .find(|p| p.is_file());
    found
}

// ---------------------------------------------------------------------
// eBPF run-time statistics of the agent's socket filter
// ---------------------------------------------------------------------

mod bpf {
    use std::os::fd::{AsFd, OwnedFd};
    use wsflowd::sys::bpf::{self, ProgType};

    /// Run-time statistics are collected while this is held (the kernel
    /// stops when the descriptor closes, even if we crash).
    pub struct StatsEnabled {
        _fd: OwnedFd,
    }

    pub fn enable_stats() -> Option<StatsEnabled> {
        bpf::enable_stats().ok().map(|fd| StatsEnabled { _fd: fd })
    }

    /// The socket filter of the agent `pid`: the program that uses the
    /// eBPF map the agent holds open.
    pub fn agent_program(pid: u32) -> Option<u32> {
        let mut maps = Vec::new();
        for e in std::fs::read_dir(format!("/proc/{pid}/fdinfo"))
            .ok()?
            .flatten()
        {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            maps.extend(
                text.lines()
                    .filter_map(|l| l.strip_prefix("map_id:")?.trim().parse::<u32>().ok()),
            );
        }
        if maps.is_empty() {
            return None;
        }
        let mut id = 0u32;
        loop {
            id = bpf::prog_next_id(id).ok()??;
            let Ok(prog) = bpf::prog_fd_by_id(id) else {
                continue;
            };
            let mut prog_maps = [0u32; 8];
            let Ok(info) = bpf::prog_info(prog.as_fd(), &mut prog_maps) else {
                continue;
            };
            let n = (info.nr_map_ids as usize).min(prog_maps.len());
            if info.prog_type == ProgType::SocketFilter as u32
                && prog_maps[..n].iter().any(|m| maps.contains(m))
            {
                return Some(id);
            }
        }
    }

    /// (run_time_ns, run_cnt) of a program.
    pub fn run_stats(id: u32) -> Option<(u64, u64)> {
        let prog = bpf::prog_fd_by_id(id).ok()?;
        let info = bpf::prog_info(prog.as_fd(), &mut []).ok()?;
        Some((info.run_time_ns, info.run_cnt))
    }
}

/// Filter runs and their time over a window.
#[derive(Debug, Clone, Copy, Default)]
struct FilterCost {
    runs: u64,
    ns: u64,
}

// ---------------------------------------------------------------------
// Part 1: veth, wsflowd and pmacctd side by side
// ---------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
struct AgentFigures {
    cpu_ns: u64,
    /// CPU per second while no traffic flowed (timers, counter polling).
    idle_ns_per_s: Option<f64>,
    processes: Vec<ProcessMemory>,
    stats: FlowStats,
    exit: Option<ExitCounts>,
}

impl AgentFigures {
    fn hwm_kib(&self) -> u64 {
        self.processes.iter().map(|p| p.hwm).sum()
    }
    /// Resident at the end: "anon + file" of the first process.
    fn resident(&self) -> String {
        self.processes
            .first()
            .map_or("?".into(), |p| format!("{} + {}", mib(p.anon), mib(p.file)))
    }
    /// µs per sample without what the agent spends idle over `window`.
    fn us_per_sample_net(&self, window: Duration) -> Option<f64> {
        let idle = self.idle_ns_per_s? * window.as_secs_f64();
        Some((self.cpu_ns as f64 - idle).max(0.0) / 1e3 / self.stats.flow_samples.max(1) as f64)
    }
    fn cpu_s(&self) -> f64 {
        self.cpu_ns as f64 / 1e9
    }
    fn us_per_sample(&self) -> f64 {
        self.cpu_ns as f64 / 1e3 / self.stats.flow_samples.max(1) as f64
    }
}

#[derive(Debug, Clone)]
struct VethRun {
    rate: u32,
    sent: Sent,
    /// Packets the kernel counted on the AP's veth end during the run.
    packets: u64,
    method: String,
    /// From the first to the last reading (traffic and flush wait).
    window: Duration,
    wsflowd: AgentFigures,
    pmacctd: Option<AgentFigures>,
    filter: Option<FilterCost>,
}

fn veth_compare(
    rig: &VethRig,
    rate: u32,
    packets: u64,
    pmacctd: Option<&Path>,
    pmacct_conf_shown: &mut Option<String>,
) -> Res<VethRun> {
    let ours = SflowCollector::start(&rig.ap, false)?;
    let theirs = SflowCollector::start(&rig.ap, false)?;
    let cfg = TempConfig::new(&wsflowd_config(rate, AP_IF, ours.port, ""));
    let (agent, method) = start_wsflowd(&rig.ap, &cfg.path, AP_IF)?;
    let mut peer = None;
    if let Some(pmacctd) = pmacctd {
        let text = pmacct_config(AP_IF, rate, theirs.port);
        let path = cfg.dir.join("pmacctd.conf");
        std::fs::write(&path, &text).map_err(|e| e.to_string())?;
        match start_pmacctd(&rig.ap, pmacctd, &path)? {
            Ok(d) => peer = Some(d),
            Err(out) => return Err(format!("pmacctd did not start on {AP_IF}:\n{out}")),
        }
        pmacct_conf_shown.get_or_insert(text);
    }
    nap(Duration::from_millis(500))?;
    let idle0 = (
        read_tree(agent.pid()),
        peer.as_ref().map(|p| read_tree(p.pid())),
    );
    nap(IDLE_WINDOW)?;
    let program = bpf::agent_program(agent.pid());
    let filter0 = program.and_then(bpf::run_stats);
    let k0 = rig.packets()?;
    let a0 = read_tree(agent.pid());
    let p0 = peer.as_ref().map(|p| read_tree(p.pid()));
    let s0 = (ours.stats(), theirs.stats());
    let t0 = Instant::now();

    let sent = send_udp(&rig.sta, STA_ADDR, AP_ADDR, packets, Some(PACED_PPS))?;
    nap(FLUSH_WAIT)?;

    let k1 = rig.packets()?;
    let a1 = read_tree(agent.pid());
    let p1 = peer.as_ref().map(|p| read_tree(p.pid()));
    let window = t0.elapsed();
    let filter1 = program.and_then(bpf::run_stats);
    let log = agent.stop()?;
    if let Some(p) = peer {
        p.stop()?;
    }
    // The datagrams flushed at exit.
    nap(Duration::from_millis(300))?;
    let (s1, t1) = (ours.stats(), theirs.stats());
    if s0.0.flow_samples != 0 || s0.1.flow_samples != 0 {
        eprintln!(
            "note: {} / {} flow samples before the traffic started",
            s0.0.flow_samples, s0.1.flow_samples
        );
    }
    let filter = match (filter0, filter1) {
        (Some(a), Some(b)) => Some(FilterCost {
            ns: b.0 - a.0,
            runs: b.1 - a.1,
        }),
        _ => None,
    };
    Ok(VethRun {
        rate,
        sent,
        packets: k1 - k0,
        method,
        window,
        wsflowd: AgentFigures {
            cpu_ns: cpu_between(&a0, &a1),
            idle_ns_per_s: Some(cpu_between(&idle0.0, &a0) as f64 / IDLE_WINDOW.as_secs_f64()),
            processes: a1.processes,
            stats: s1,
            exit: exit_counts(&log, AP_IF),
        },
        pmacctd: p0.zip(p1).map(|(p0, p1)| AgentFigures {
            cpu_ns: cpu_between(&p0, &p1),
            idle_ns_per_s: idle0
                .1
                .map(|i| cpu_between(&i, &p0) as f64 / IDLE_WINDOW.as_secs_f64()),
            processes: p1.processes,
            stats: t1,
            exit: None,
        }),
        filter,
    })
}

// ---------------------------------------------------------------------
// Part 2: a radiotap TAP
// ---------------------------------------------------------------------

enum TapCommand {
    Write(Arc<Vec<Vec<u8>>>, u64),
    Close,
}

/// A thread in the namespace holding the TAP (it lives as long as its
/// descriptor) and writing frames into it on request.
struct TapWriter {
    commands: mpsc::Sender<TapCommand>,
    results: mpsc::Receiver<Res<Sent>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl TapWriter {
    fn start(ns: &Netns, name: &str) -> Res<TapWriter> {
        let (commands, inbox) = mpsc::channel::<TapCommand>();
        let (report, results) = mpsc::channel::<Res<Sent>>();
        let name = name.to_string();
        let thread = ns.spawn(move || {
            let mut tap = match common::monitor_tap(&name).map_err(|e| format!("radiotap TAP: {e}"))
            {
                Ok(t) => {
                    let _ = report.send(Ok(Sent {
                        packets: 0,
                        elapsed: Duration::ZERO,
                    }));
                    t
                }
                Err(e) => {
                    let _ = report.send(Err(e));
                    return;
                }
            };
            while let Ok(TapCommand::Write(frames, count)) = inbox.recv() {
                let start = Instant::now();
                let mut written = 0u64;
                let mut result = Ok(());
                for frame in frames.iter().cycle().take(count as usize) {
                    if written % 1024 == 0 && STOP.load(Ordering::Relaxed) {
                        result = Err("interrupted".to_string());
                        break;
                    }
                    if let Err(e) = tap.write_all(frame) {
                        result = Err(format!("writing into the TAP: {e}"));
                        break;
                    }
                    written += 1;
                }
                let _ = report.send(result.map(|_| Sent {
                    packets: written,
                    elapsed: start.elapsed(),
                }));
            }
        });
        let w = TapWriter {
            commands,
            results,
            thread: Some(thread),
        };
        w.results
            .recv()
            .map_err(|_| "TAP thread ended".to_string())??;
        Ok(w)
    }

    fn write(&self, frames: Arc<Vec<Vec<u8>>>, count: u64) -> Res<Sent> {
        self.commands
            .send(TapCommand::Write(frames, count))
            .map_err(|_| "TAP thread ended")?;
        self.results
            .recv()
            .map_err(|_| "TAP thread ended".to_string())?
    }
}

impl Drop for TapWriter {
    fn drop(&mut self) {
        let _ = self.commands.send(TapCommand::Close);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The frames to replay: every well-formed frame of the radiotap captures
/// (link type 127) that a TAP accepts (14 bytes or more).
struct Frames {
    frames: Arc<Vec<Vec<u8>>>,
    files: usize,
    /// The BSSIDs listed as ours, and how many frames carry each.
    ours: Vec<(MacAddr, usize)>,
    /// Frames skipped: malformed, or too short for a TAP.
    skipped: usize,
}

fn load_frames(dir: &Path) -> Res<Frames> {
    let mut frames = Vec::new();
    let mut files = 0;
    let mut skipped = 0;
    for sub in ["tcpdump", "zeek"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
            .collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let Ok(reader) = PcapReader::new(&data) else {
                continue;
            };
            if reader.link_type != link_type::IEEE802_11_RADIOTAP {
                continue;
            }
            files += 1;
            for rec in reader.flatten() {
                if rec.data.len() >= 14 && MonitorFrame::parse(rec.data).is_ok() {
                    frames.push(rec.data.to_vec());
                } else {
                    skipped += 1;
                }
            }
        }
    }
    if frames.is_empty() {
        return Err(format!("no radiotap frames in {}", dir.display()));
    }
    let mut by_bssid: HashMap<MacAddr, usize> = HashMap::new();
    for f in &frames {
        let bssid = MonitorFrame::parse(f).ok().and_then(|m| m.bssid());
        // A BSS list takes unicast BSSIDs only.
        if let Some(b) = bssid.filter(|b| !b.is_group() && !b.is_zero()) {
            *by_bssid.entry(b).or_default() += 1;
        }
    }
    let mut ours: Vec<(MacAddr, usize)> = by_bssid.into_iter().collect();
    ours.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ours.truncate(4);
    Ok(Frames {
        frames: Arc::new(frames),
        files,
        ours,
        skipped,
    })
}

struct TapRun {
    rate: u32,
    written: Sent,
    /// Frames the TAP counted as received, and dropped.
    rx: u64,
    rx_dropped: u64,
    method: String,
    window: Duration,
    wsflowd: AgentFigures,
    filter: Option<FilterCost>,
    /// pmacctd on the TAP: its figures, or what it said.
    pmacctd: Option<Result<AgentFigures, String>>,
}

fn tap_run(frames: &Frames, rate: u32, count: u64, pmacctd: Option<&Path>) -> Res<TapRun> {
    let ns = new_netns("mon")?;
    let tap = TapWriter::start(&ns, MON_IF)?;
    ns.try_exec(&["ip", "link", "set", MON_IF, "up"])?;
    let ours = SflowCollector::start(&ns, false)?;
    let theirs = SflowCollector::start(&ns, false)?;
    let mut section = format!("\nconfig interface\n\toption device '{MON_IF}'\n");
    for (b, _) in &frames.ours {
        let _ = writeln!(section, "\tlist bss '{}'", b);
    }
    section += "\toption foreign_bss 'discard'\n";
    let cfg = TempConfig::new(&wsflowd_config(rate, MON_IF, ours.port, &section));
    let (agent, method) = start_wsflowd(&ns, &cfg.path, MON_IF)?;
    let mut peer = None;
    let mut peer_failed = None;
    if let Some(pmacctd) = pmacctd {
        let path = cfg.dir.join("pmacctd.conf");
        std::fs::write(&path, pmacct_config(MON_IF, rate, theirs.port))
            .map_err(|e| e.to_string())?;
        match start_pmacctd(&ns, pmacctd, &path)? {
            Ok(d) => peer = Some(d),
            Err(out) => peer_failed = Some(out),
        }
    }
    nap(Duration::from_millis(500))?;
    let idle0 = read_tree(agent.pid());
    nap(IDLE_WINDOW)?;
    let program = bpf::agent_program(agent.pid());
    let filter0 = program.and_then(bpf::run_stats);
    let rx0 = ns.try_stat(MON_IF, "rx_packets")?;
    let dropped0 = ns.try_stat(MON_IF, "rx_dropped")?;
    let a0 = read_tree(agent.pid());
    let p0 = peer.as_ref().map(|p| read_tree(p.pid()));
    let t0 = Instant::now();

    let written = tap.write(frames.frames.clone(), count)?;
    nap(FLUSH_WAIT)?;

    let rx = ns.try_stat(MON_IF, "rx_packets")? - rx0;
    let rx_dropped = ns.try_stat(MON_IF, "rx_dropped")? - dropped0;
    let a1 = read_tree(agent.pid());
    let p1 = peer.as_ref().map(|p| read_tree(p.pid()));
    let window = t0.elapsed();
    let filter1 = program.and_then(bpf::run_stats);
    let log = agent.stop()?;
    let mut peer_log = None;
    if let Some(p) = peer {
        peer_log = Some(p.stop()?);
    }
    nap(Duration::from_millis(300))?;
    drop(tap);
    let filter = match (filter0, filter1) {
        (Some(a), Some(b)) => Some(FilterCost {
            ns: b.0 - a.0,
            runs: b.1 - a.1,
        }),
        _ => None,
    };
    let pmacctd = match (p0.zip(p1), peer_failed) {
        (Some((p0, p1)), _) => {
            let stats = theirs.stats();
            if stats.flow_samples == 0 {
                Some(Err(format!(
                    "ran but exported no flow sample; its output:\n{}",
                    peer_log.unwrap_or_default().join("\n")
                )))
            } else {
                Some(Ok(AgentFigures {
                    cpu_ns: cpu_between(&p0, &p1),
                    idle_ns_per_s: None,
                    processes: p1.processes,
                    stats,
                    exit: None,
                }))
            }
        }
        (None, Some(out)) => Some(Err(out)),
        (None, None) => None,
    };
    Ok(TapRun {
        rate,
        written,
        rx,
        rx_dropped,
        method,
        window,
        wsflowd: AgentFigures {
            cpu_ns: cpu_between(&a0, &a1),
            idle_ns_per_s: Some(cpu_between(&idle0, &a0) as f64 / IDLE_WINDOW.as_secs_f64()),
            processes: a1.processes,
            stats: ours.stats(),
            exit: exit_counts(&log, MON_IF),
        },
        filter,
        pmacctd,
    })
}

// ---------------------------------------------------------------------
// Part 3: the sample rate sustained before drops
// ---------------------------------------------------------------------

struct SweepStep {
    rate: u32,
    /// "256 KiB" (from the agent's log).
    ring: String,
    /// Set when the step overrides the default ring.
    ring_kib: Option<u32>,
    sent: Sent,
    packets: u64,
    cpu_ns: u64,
    stats: FlowStats,
    exit: ExitCounts,
}

/// How many of the sender's frames a ring of `kib` holds, laid out as
/// TPACKET_V3 does (linux/net/packet/af_packet.c): a 48-byte block header,
/// then per frame the 48-byte tpacket3_hdr and the sockaddr_ll, the frame
/// at a 16-byte aligned network offset, each frame 16-byte aligned.
fn ring_frames(kib: u32) -> u64 {
    let align = |n: u32| n.next_multiple_of(16);
    let page = wsflowd::sys::system::page_size();
    let g = wsflowd::capture::ring::RingGeometry::new(kib * 1024, HEADER_BYTES, page);
    let frame = (14 + 20 + 8 + PAYLOAD) as u32;
    let mac = align(48 + 20 + 16) - 14;
    let per_frame = align(mac + frame.min(HEADER_BYTES));
    u64::from((g.block_size - 48) / per_frame) * u64::from(g.block_count)
}

impl SweepStep {
    fn samples_per_s(&self) -> f64 {
        self.exit.samples as f64 / self.sent.elapsed.as_secs_f64().max(1e-9)
    }
    fn drops(&self) -> u64 {
        self.exit.drops.max(u64::from(self.stats.max_drops))
    }
}

fn sweep_step(rig: &VethRig, rate: u32, packets: u64, ring_kib: Option<u32>) -> Res<SweepStep> {
    let ours = SflowCollector::start(&rig.ap, true)?;
    let section = ring_kib.map_or(String::new(), |k| {
        format!("\nconfig interface\n\toption device '{AP_IF}'\n\toption ring_kib '{k}'\n")
    });
    let cfg = TempConfig::new(&wsflowd_config(rate, AP_IF, ours.port, &section));
    let (agent, method) = start_wsflowd(&rig.ap, &cfg.path, AP_IF)?;
    nap(Duration::from_millis(300))?;
    let k0 = rig.packets()?;
    let a0 = read_tree(agent.pid());
    let sent = send_udp(&rig.sta, STA_ADDR, AP_ADDR, packets, None)?;
    nap(Duration::from_millis(1_500))?;
    let k1 = rig.packets()?;
    let a1 = read_tree(agent.pid());
    let log = agent.stop()?;
    nap(Duration::from_millis(300))?;
    let exit = exit_counts(&log, AP_IF).ok_or("no exit counts in wsflowd's log")?;
    let ring = method
        .split(", ")
        .find_map(|p| p.strip_suffix(" ring"))
        .unwrap_or("?")
        .to_string();
    Ok(SweepStep {
        rate,
        ring_kib,
        sent,
        packets: k1 - k0,
        cpu_ns: cpu_between(&a0, &a1),
        stats: ours.stats(),
        exit,
        ring,
    })
}

// ---------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------

/// 1234567 → "1,234,567".
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kib: u64) -> String {
    format!("{:.2} MiB", kib as f64 / 1024.0)
}

/// Expected samples and 4 standard deviations for `packets` at 1-in-`n`.
fn expectation(packets: u64, n: u32) -> (f64, f64) {
    let p = 1.0 / f64::from(n);
    let e = packets as f64 * p;
    (e, 4.0 * (packets as f64 * p * (1.0 - p)).sqrt())
}

fn within(samples: u64, packets: u64, n: u32) -> &'static str {
    let (e, four_sigma) = expectation(packets, n);
    if (samples as f64 - e).abs() <= four_sigma.max(1.0) {
        "within 4σ"
    } else {
        "OUTSIDE 4σ"
    }
}

/// A table: a label column and one column per run.
struct Table {
    head: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

impl Table {
    fn new(label: &str, columns: impl IntoIterator<Item = String>) -> Table {
        let mut head = vec![label.to_string()];
        head.extend(columns);
        Table {
            head,
            rows: Vec::new(),
        }
    }

    fn row(&mut self, label: &str, cells: impl IntoIterator<Item = String>) {
        self.rows
            .push((label.to_string(), cells.into_iter().collect()));
    }

    /// Labels left-aligned, figures right-aligned.
    fn print(&self) {
        let lines: Vec<Vec<&str>> = std::iter::once(&self.head)
            .map(|h| h.iter().map(String::as_str).collect())
            .chain(self.rows.iter().map(|(label, cells)| {
                std::iter::once(label.as_str())
                    .chain(cells.iter().map(String::as_str))
                    .collect()
            }))
            .collect();
        let mut width = vec![0usize; self.head.len()];
        for line in &lines {
            for (w, cell) in width.iter_mut().zip(line) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for line in &lines {
            let mut out = String::from(" ");
            for (i, (w, cell)) in width.iter().zip(line).enumerate() {
                let fill = " ".repeat(w - cell.chars().count());
                if i == 0 {
                    out += &format!(" {cell}{fill}");
                } else {
                    out += &format!("  {fill}{cell}");
                }
            }
            println!("{}", out.trim_end());
        }
    }
}

fn print_veth(runs: &[VethRun], plan: &Plan, pmacct_conf: Option<&str>) {
    println!(
        "\n== 1. veth: {} packets per run at ≤ {} packets/s, {} ==",
        thousands(plan.veth_packets),
        thousands(PACED_PPS as u64),
        if pmacct_conf.is_some() {
            "wsflowd and pmacctd on the same interface"
        } else {
            "wsflowd alone"
        }
    );
    if let Some(r) = runs.first() {
        println!("  wsflowd: {}; header_bytes {HEADER_BYTES}", r.method);
    }
    match pmacct_conf {
        Some(c) => {
            println!("  pmacctd configuration (port and rate per run):");
            for l in c.lines() {
                println!("    {l}");
            }
        }
        None => println!("  pmacctd: not installed, skipped (quick mode)"),
    }
    println!(
        "  CPU: user + system of every thread of the process tree during the run (traffic + {:.1} s), \
         from /proc/PID/task/*/schedstat",
        FLUSH_WAIT.as_secs_f64()
    );
    let mut t = Table::new("", runs.iter().map(|r| format!("1-in-{}", r.rate)));
    let col = |f: &dyn Fn(&VethRun) -> String| runs.iter().map(f).collect::<Vec<_>>();
    t.row(
        "sender, packets/s achieved",
        col(&|r| thousands(r.sent.pps() as u64)),
    );
    t.row("packets sent", col(&|r| thousands(r.sent.packets)));
    t.row(
        "packets on veth-ap (kernel rx+tx)",
        col(&|r| thousands(r.packets)),
    );
    t.row(
        "wsflowd pool (exit log)",
        col(&|r| r.wsflowd.exit.map_or("?".into(), |e| thousands(e.pool))),
    );
    t.row(
        "wsflowd samples read (exit log)",
        col(&|r| r.wsflowd.exit.map_or("?".into(), |e| thousands(e.samples))),
    );
    t.row(
        "wsflowd accepted by the filter",
        col(&|r| r.wsflowd.exit.map_or("?".into(), |e| thousands(e.accepted))),
    );
    t.row(
        "wsflowd samples received",
        col(&|r| thousands(r.wsflowd.stats.flow_samples)),
    );
    t.row(
        "  expected ± 4σ",
        col(&|r| {
            let (e, s) = expectation(r.packets, r.rate);
            format!("{:.0} ± {:.0}", e, s)
        }),
    );
    t.row(
        "  check",
        col(&|r| within(r.wsflowd.stats.flow_samples, r.packets, r.rate).into()),
    );
    t.row(
        "wsflowd drops",
        col(&|r| {
            let d = r.wsflowd.exit.map_or(0, |e| e.drops);
            thousands(d.max(u64::from(r.wsflowd.stats.max_drops)))
        }),
    );
    t.row(
        "wsflowd datagrams (lost)",
        col(&|r| {
            format!(
                "{} ({})",
                thousands(r.wsflowd.stats.datagrams),
                r.wsflowd.stats.lost_datagrams
            )
        }),
    );
    t.row(
        "wsflowd CPU s",
        col(&|r| format!("{:.4}", r.wsflowd.cpu_s())),
    );
    t.row(
        "wsflowd CPU s per M packets",
        col(&|r| format!("{:.4}", r.wsflowd.cpu_s() / (r.packets as f64 / 1e6))),
    );
    t.row(
        "wsflowd CPU µs per sample",
        col(&|r| format!("{:.2}", r.wsflowd.us_per_sample())),
    );
    t.row(
        "wsflowd idle CPU, µs per second",
        col(&|r| {
            r.wsflowd
                .idle_ns_per_s
                .map_or("?".into(), |i| format!("{:.0}", i / 1e3))
        }),
    );
    t.row(
        "  µs per sample without idle",
        col(&|r| {
            r.wsflowd
                .us_per_sample_net(r.window)
                .map_or("?".into(), |u| format!("{u:.2}"))
        }),
    );
    t.row(
        "wsflowd peak RSS (VmHWM)",
        col(&|r| mib(r.wsflowd.hwm_kib())),
    );
    t.row(
        "  at the end: anon + file (ring incl.)",
        col(&|r| r.wsflowd.resident()),
    );
    t.row(
        "kernel filter ns/packet (eBPF)",
        col(&|r| match r.filter {
            Some(f) if f.runs > 0 => format!("{:.0}", f.ns as f64 / f.runs as f64),
            _ => "n/a".into(),
        }),
    );
    t.row(
        "kernel filter runs",
        col(&|r| r.filter.map_or("n/a".into(), |f| thousands(f.runs))),
    );
    t.row(
        "wsflowd CPU + kernel filter s",
        col(&|r| match r.filter {
            Some(f) => format!("{:.4}", (r.wsflowd.cpu_ns + f.ns) as f64 / 1e9),
            None => "n/a".into(),
        }),
    );
    if runs.iter().any(|r| r.pmacctd.is_some()) {
        let pm = |f: &dyn Fn(&AgentFigures, &VethRun) -> String| {
            col(&|r| r.pmacctd.as_ref().map_or("-".into(), |p| f(p, r)))
        };
        t.row(
            "pmacctd samples received",
            pm(&|p, _| thousands(p.stats.flow_samples)),
        );
        t.row(
            "  check",
            pm(&|p, r| within(p.stats.flow_samples, r.packets, r.rate).into()),
        );
        t.row(
            "pmacctd sampling_rate in samples",
            pm(&|p, _| {
                p.stats
                    .rates
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            }),
        );
        t.row(
            "pmacctd datagrams (lost)",
            pm(&|p, _| {
                format!(
                    "{} ({})",
                    thousands(p.stats.datagrams),
                    p.stats.lost_datagrams
                )
            }),
        );
        t.row(
            "pmacctd CPU s (core + plugin)",
            pm(&|p, _| format!("{:.4}", p.cpu_s())),
        );
        t.row(
            "pmacctd CPU s per M packets",
            pm(&|p, r| format!("{:.4}", p.cpu_s() / (r.packets as f64 / 1e6))),
        );
        t.row(
            "pmacctd CPU µs per sample",
            pm(&|p, _| format!("{:.2}", p.us_per_sample())),
        );
        t.row(
            "pmacctd peak RSS, sum of processes",
            pm(&|p, _| mib(p.hwm_kib())),
        );
        t.row(
            "pmacctd idle CPU, µs per second",
            pm(&|p, _| {
                p.idle_ns_per_s
                    .map_or("?".into(), |i| format!("{:.0}", i / 1e3))
            }),
        );
        t.row(
            "CPU ratio wsflowd / pmacctd",
            col(&|r| match &r.pmacctd {
                Some(p) if p.cpu_ns > 0 => {
                    format!("{:.3}", r.wsflowd.cpu_ns as f64 / p.cpu_ns as f64)
                }
                _ => "-".into(),
            }),
        );
        t.row(
            "  with wsflowd's kernel filter added",
            col(&|r| match (&r.pmacctd, r.filter) {
                (Some(p), Some(f)) if p.cpu_ns > 0 => {
                    format!("{:.3}", (r.wsflowd.cpu_ns + f.ns) as f64 / p.cpu_ns as f64)
                }
                _ => "-".into(),
            }),
        );
    }
    t.print();
    if let Some(p) = runs.iter().find_map(|r| r.pmacctd.as_ref()) {
        println!("  pmacctd processes (peak RSS each, first run):");
        for m in &p.processes {
            println!("    {} {}: {}", m.pid, m.title, mib(m.hwm));
        }
    }
}

fn print_tap(r: &TapRun, frames: &Frames) {
    println!(
        "\n== 2. radiotap TAP: {} frames written into {MON_IF} (link type 803), sampled at 1-in-{} ==",
        thousands(r.written.packets),
        r.rate
    );
    println!(
        "  frames: {} well-formed radiotap frames from {} captures, cycled ({} malformed or short ones left out)",
        frames.frames.len(),
        frames.files,
        frames.skipped
    );
    let ours: Vec<String> = frames
        .ours
        .iter()
        .map(|(b, n)| format!("{} ({n} frames)", b))
        .collect();
    println!(
        "  wsflowd: {}; list bss {}; foreign_bss discard",
        r.method,
        ours.join(", ")
    );
    let w = &r.wsflowd;
    let mut t = Table::new("", ["wsflowd".to_string()]);
    t.row(
        "writer, frames/s achieved",
        [thousands(r.written.pps() as u64)],
    );
    t.row("frames received by mon0 (kernel)", [thousands(r.rx)]);
    t.row(
        "  dropped by the kernel (rx_dropped)",
        [thousands(r.rx_dropped)],
    );
    t.row(
        "pool (exit log)",
        [w.exit.map_or("?".into(), |e| thousands(e.pool))],
    );
    t.row("samples received", [thousands(w.stats.flow_samples)]);
    t.row(
        "  expected ± 4σ",
        [{
            let (e, s) = expectation(r.rx, r.rate);
            format!("{e:.0} ± {s:.0}")
        }],
    );
    t.row(
        "  check",
        [within(w.stats.flow_samples, r.rx, r.rate).into()],
    );
    t.row(
        "  of our BSSes / foreign (discard)",
        [format!(
            "{} / {}",
            thousands(w.stats.flow_samples - w.stats.discarded),
            thousands(w.stats.discarded)
        )],
    );
    t.row(
        "  header protocol 15 / 16",
        [format!(
            "{} / {}",
            thousands(*w.stats.protocols.get(&15).unwrap_or(&0)),
            thousands(*w.stats.protocols.get(&16).unwrap_or(&0))
        )],
    );
    t.row(
        "rejected (exit log)",
        [w.exit
            .and_then(|e| e.rejected)
            .map_or("?".into(), thousands)],
    );
    t.row(
        "drops",
        [thousands(
            w.exit
                .map_or(0, |e| e.drops)
                .max(u64::from(w.stats.max_drops)),
        )],
    );
    t.row("CPU s", [format!("{:.4}", w.cpu_s())]);
    t.row(
        "CPU s per M frames",
        [format!("{:.4}", w.cpu_s() / (r.rx as f64 / 1e6))],
    );
    t.row("CPU µs per sample", [format!("{:.2}", w.us_per_sample())]);
    t.row(
        "idle CPU, µs per second",
        [w.idle_ns_per_s
            .map_or("?".into(), |i| format!("{:.0}", i / 1e3))],
    );
    t.row(
        "  µs per sample without idle",
        [w.us_per_sample_net(r.window)
            .map_or("?".into(), |u| format!("{u:.2}"))],
    );
    t.row("peak RSS (VmHWM)", [mib(w.hwm_kib())]);
    t.row("  at the end: anon + file (ring incl.)", [w.resident()]);
    t.row(
        "kernel filter ns/frame (eBPF)",
        [match r.filter {
            Some(f) if f.runs > 0 => format!("{:.0}", f.ns as f64 / f.runs as f64),
            _ => "n/a".into(),
        }],
    );
    t.print();
    match &r.pmacctd {
        None => println!("  pmacctd on the TAP: not run (not installed)"),
        Some(Ok(p)) => println!(
            "  pmacctd on the TAP: {} samples, {:.4} CPU s, ratio wsflowd/pmacctd {:.3}",
            thousands(p.stats.flow_samples),
            p.cpu_s(),
            w.cpu_ns as f64 / p.cpu_ns.max(1) as f64
        ),
        Some(Err(out)) => {
            println!("  pmacctd on the TAP: no comparison possible; what it said:");
            for l in out.lines().filter(|l| !l.contains("'--")).take(12) {
                println!("    {l}");
            }
        }
    }
}

fn print_sweep(steps: &[SweepStep]) {
    let Some(first) = steps.first() else {
        return;
    };
    println!(
        "\n== 3. Sustained sample rate: {} packets per step, sender unpaced on the veth, wsflowd alone ==",
        thousands(first.sent.packets)
    );
    println!("  packets: counted by the kernel on veth-ap; CPU % of a core: agent CPU over the sending time");
    println!("  drops: sampled frames lost to a full ring (exit log, = sFlow `drops`)");
    println!(
        "  ring lasts: how long the ring holds samples at that rate ({} of these frames in 256 KiB)",
        thousands(ring_frames(256))
    );
    let mut t = Table::new(
        "",
        [
            "ring",
            "packets/s",
            "packets",
            "samples",
            "samples/s",
            "drops",
            "CPU s",
            "ring lasts",
            "CPU % of a core",
            "µs/sample",
        ]
        .map(String::from),
    );
    for s in steps {
        t.row(
            &format!("1-in-{}", s.rate),
            [
                s.ring.clone(),
                thousands(s.sent.pps() as u64),
                thousands(s.packets),
                thousands(s.exit.samples),
                thousands(s.samples_per_s() as u64),
                thousands(s.drops()),
                format!("{:.3}", s.cpu_ns as f64 / 1e9),
                s.ring
                    .split(' ')
                    .next()
                    .and_then(|k| k.parse::<u32>().ok())
                    .map_or("?".into(), |kib| {
                        let ms = ring_frames(kib) as f64 * 1e3 / s.samples_per_s().max(1.0);
                        format!("{ms:.1} ms")
                    }),
                format!(
                    "{:.1}",
                    100.0 * s.cpu_ns as f64 / 1e9 / s.sent.elapsed.as_secs_f64()
                ),
                format!(
                    "{:.2}",
                    s.cpu_ns as f64 / 1e3 / s.exit.samples.max(1) as f64
                ),
            ],
        );
    }
    t.print();
    let lost: Vec<String> = steps
        .iter()
        .filter(|s| s.stats.flow_samples != s.exit.samples || s.stats.lost_datagrams > 0)
        .map(|s| {
            format!(
                "1-in-{}: collector got {} of {} samples",
                s.rate,
                thousands(s.stats.flow_samples),
                thousands(s.exit.samples)
            )
        })
        .collect();
    if !lost.is_empty() {
        println!(
            "  note: the collector missed datagrams (its socket, not the agent): {}",
            lost.join("; ")
        );
    }
    let default: Vec<&SweepStep> = steps.iter().filter(|s| s.ring_kib.is_none()).collect();
    let rate = |s: &&SweepStep| s.samples_per_s();
    let dropped: Vec<&SweepStep> = default.iter().copied().filter(|s| s.drops() > 0).collect();
    let lowest_drop = dropped.iter().map(rate).fold(f64::INFINITY, f64::min);
    // The highest rate below which no step dropped.
    let clean = default
        .iter()
        .map(rate)
        .filter(|&r| r < lowest_drop)
        .fold(0.0, f64::max);
    if dropped.is_empty() {
        println!(
            "  default ring: no drops at any step, up to {} samples/s (the sender, not the agent, is the limit)",
            thousands(clean as u64)
        );
        return;
    }
    println!(
        "  default ring: no drops up to {} samples/s; drops at {}",
        thousands(clean as u64),
        dropped
            .iter()
            .map(|s| format!("{} samples/s (1-in-{})", thousands(rate(s) as u64), s.rate))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let highest_clean = default
        .iter()
        .filter(|s| s.drops() == 0)
        .map(rate)
        .fold(0.0, f64::max);
    if highest_clean > lowest_drop {
        println!(
            "  drops do not grow with the rate ({} samples/s without any): they come from moments the agent \
             was not scheduled (the ring holds a few ms of samples at these rates), not from its CPU (see CPU %)",
            thousands(highest_clean as u64)
        );
    }
}

struct Goal {
    name: String,
    figure: Option<f64>,
    unit: &'static str,
    limit: f64,
}

fn print_goals(goals: &[Goal]) {
    println!("\n== Goals (figures, not a test: a miss does not fail the run) ==");
    let mut t = Table::new("goal", ["figure", "target", "result"].map(String::from));
    for g in goals {
        let (figure, result) = match g.figure {
            Some(f) => (
                format!("{f:.3} {}", g.unit).trim_end().to_string(),
                if f <= g.limit { "PASS" } else { "MISS" },
            ),
            None => ("-".to_string(), "not measured"),
        };
        t.row(
            &g.name,
            [
                figure,
                format!("≤ {} {}", g.limit, g.unit).trim_end().to_string(),
                result.to_string(),
            ],
        );
    }
    t.print();
}

// ---------------------------------------------------------------------

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this
    // binary too, without it: nothing to do there (root, minutes, and a
    // machine kept quiet are what the figures need).
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "capture benchmark: run it with `make bench-capture` (cargo bench --bench capture)"
        );
        return;
    }
    install_signal_handlers();
    let started = Instant::now();
    let code = match run_benchmark() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("capture benchmark: {e}");
            1
        }
    };
    eprintln!(
        "capture benchmark: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    std::process::exit(code);
}

/// Part 0: the filter every packet pays.
fn filter_part(plan: &Plan) -> Res<()> {
    let (repeat, trials) = if plan.quick {
        (1_000_000, 5)
    } else {
        (4_000_000, 11)
    };
    println!(
        "\n== 0. The filter every packet pays: ns per run, BPF_PROG_TEST_RUN ×{}, least of {trials} trials (thread CPU time, minus an empty program's) ==",
        thousands(u64::from(repeat))
    );
    for (rate, excluded) in [(100, vec![2]), (400, vec![2, 3, 4, 5])] {
        eprintln!("filter test runs at 1-in-{rate}...");
        let f = filter_cost::test_runs(rate, &excluded, repeat, trials)?;
        println!(
            "  1-in-{rate}, {} sampled interface(s); the empty program: {:.2} ns per run (subtracted)",
            excluded.len(),
            f.empty_ns
        );
        let mut t = Table::new(
            "",
            f.columns
                .iter()
                .cloned()
                .chain(["kernel's ns".into(), "JIT bytes".into()]),
        );
        for (row, (_, jited)) in f.rows.iter().zip(&f.jited) {
            t.row(
                &row.name,
                row.ns
                    .iter()
                    .map(|n| format!("{n:.2}"))
                    .chain([row.kernel_ns.to_string(), jited.to_string()])
                    .collect::<Vec<_>>(),
            );
        }
        t.print();
        if let [old, new, called, peer] = &f.rows[..] {
            println!(
                "  new vs old: {:+.2} ns, new vs classic peer: {:+.2} ns; with a call more (a kernel that does not inline the lookup): {:+.2} ns, {:+.2} ns (ingress 64 B)",
                new.ns[0] - old.ns[0],
                new.ns[0] - peer.ns[0],
                called.ns[0] - old.ns[0],
                called.ns[0] - peer.ns[0]
            );
        }
        println!(
            "  per-CPU array lookup inlined by this kernel: {}",
            match f.lookup_inlined {
                Some(true) => "yes (the new program's common path has no call)",
                Some(false) => "no (a call to percpu_array_map_lookup_elem on every packet)",
                None => "unknown (the translated program could not be read)",
            }
        );
    }
    let ns = new_netns("taps")?;
    let (count, trials) = if plan.quick {
        (30_000, 5)
    } else {
        (100_000, 9)
    };
    eprintln!("filter taps loop...");
    let taps = filter_cost::taps(&ns, 100, count, trials)?;
    println!(
        "\n  Through the packet taps (egress): {} sockets on a TAP, {} frames sent ({} filter runs each), sender CPU, least of {trials} trials, minus an empty filter of the same kind; 1-in-100",
        filter_cost::TAPS,
        thousands(u64::from(count)),
        filter_cost::TAPS
    );
    let mut t = Table::new("", ["ns per filter run".to_string()]);
    for (name, ns) in &taps.filters {
        t.row(name, vec![format!("{ns:.2}")]);
    }
    t.print();
    println!(
        "  an empty classic filter over an empty eBPF one, per run: {:.2} ns",
        taps.classic_over_ebpf
    );
    Ok(())
}

/// Part 0, end to end: the veth with each sampler, the sender's CPU
/// (the receive softirq runs in its context), the softirq threads' and
/// the sampler's, per packet, over the run without a sampler.
fn end_to_end_part(plan: &Plan, rig: &VethRig) -> Res<()> {
    const RATE: u32 = 100;
    const PPS: f64 = 100_000.0;
    let (packets, rounds) = if plan.quick {
        (100_000, 2)
    } else {
        (150_000, 10)
    };
    let ap_ifindex = rig.ap.if_index(AP_IF);
    let (samplers, _new_map, _old_map) = filter_cost::end_to_end_samplers(RATE, ap_ifindex)?;
    let mut runs: Vec<Vec<filter_cost::EndToEnd>> = vec![Vec::new(); samplers.len()];
    for round in 0..rounds {
        eprintln!(
            "end to end, round {}/{rounds}: {} packets at 1-in-{RATE} with each sampler...",
            round + 1,
            thousands(packets),
        );
        for (i, s) in samplers.iter().enumerate() {
            runs[i].push(filter_cost::end_to_end(rig, s, RATE, packets, PPS)?);
        }
    }
    println!(
        "\n  End to end: {} UDP packets at {} packets/s across a veth per run, 1-in-{RATE}, {rounds} rounds alternating the samplers; CPU per packet, ns: the sender's (the receive softirq runs in its context), the softirq threads', the sampler's",
        thousands(packets),
        thousands(PPS as u64)
    );
    let per = |ns: u64, e: &filter_cost::EndToEnd| ns as f64 / e.packets.max(1) as f64;
    let totals: Vec<Vec<f64>> = runs
        .iter()
        .map(|r| r.iter().map(|e| per(e.total_ns(), e)).collect())
        .collect();
    let stat = |v: &[f64], least: bool| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        if least {
            v[0]
        } else {
            v[v.len() / 2]
        }
    };
    let mean = |r: &[filter_cost::EndToEnd], f: &dyn Fn(&filter_cost::EndToEnd) -> u64| {
        r.iter().map(|e| per(f(e), e)).sum::<f64>() / r.len() as f64
    };
    let (base_least, base_median) = (stat(&totals[0], true), stat(&totals[0], false));
    let mut t = Table::new(
        "",
        [
            "sender",
            "softirq thr.",
            "sampler",
            "total, least",
            "over none",
            "total, median",
            "over none",
            "samples (±4σ)",
        ]
        .map(String::from),
    );
    for ((s, r), tot) in samplers.iter().zip(&runs).zip(&totals) {
        let samples: u64 = r.iter().map(|e| e.samples).sum();
        let crossed: u64 = r.iter().map(|e| e.packets).sum();
        let (expected, sigma4) = expectation(crossed, RATE);
        t.row(
            s.name(),
            vec![
                format!("{:.0}", mean(r, &|e| e.sender_ns)),
                format!("{:.0}", mean(r, &|e| e.softirq_ns)),
                format!("{:.1}", mean(r, &|e| e.sampler_ns)),
                format!("{:.0}", stat(tot, true)),
                format!("{:+.1}", stat(tot, true) - base_least),
                format!("{:.0}", stat(tot, false)),
                format!("{:+.1}", stat(tot, false) - base_median),
                match s {
                    filter_cost::Sampler::Nothing => "-".into(),
                    _ => format!(
                        "{} ({:.0} ± {:.0}, {})",
                        thousands(samples),
                        expected,
                        sigma4,
                        within(samples, crossed, RATE)
                    ),
                },
            ],
        );
    }
    t.print();
    let spread: Vec<String> = totals[0].iter().map(|t| format!("{t:.0}")).collect();
    let (lo, hi) = totals[0]
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
    println!(
        "  the runs without a sampler, ns per packet: {} (this machine's noise: {:.0} ns between them; a filter's few ns per packet show in part 0, not here)",
        spread.join(", "),
        hi - lo
    );
    Ok(())
}

fn run_benchmark() -> Res<()> {
    if !os::is_root() {
        return Err("needs root (network namespaces, AF_PACKET, TAP)".into());
    }
    let quick = std::env::var_os("WSFLOWD_BENCH_QUICK").is_some_and(|v| v != "0");
    let plan = Plan::new(quick);
    remove_stale_namespaces();
    let pmacctd = find_pmacctd();
    if pmacctd.is_none() && !quick {
        return Err(
            "pmacctd not found: install Debian's pmacct (`make bench-capture` does), \
             or set WSFLOWD_BENCH_QUICK=1 to skip the comparison"
                .into(),
        );
    }
    let captures = captures_dir();

    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!(
        "wsflowd capture benchmark{} — {} ({} CPUs, kernel {})",
        if quick { " (QUICK)" } else { "" },
        env!("CARGO_BIN_EXE_wsflowd"),
        cpus,
        kernel.trim()
    );
    if let Some(p) = &pmacctd {
        let v = Command::new(p)
            .arg("-V")
            .output()
            .map_or(String::new(), |o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string()
            });
        println!("peer: {} ({})", p.display(), v.trim());
    }
    // 0. The filter alone, then end to end.
    filter_part(&plan)?;
    {
        let load = OtherLoad::start();
        let rig = VethRig::new()?;
        end_to_end_part(&plan, &rig)?;
        println!("  machine during this part: {}", load.report());
    }
    if std::env::var_os("WSFLOWD_BENCH_FILTER_ONLY").is_some_and(|v| v != "0") {
        return Ok(());
    }

    // Filter run times are measured while this is held (and only then).
    let stats = bpf::enable_stats();

    // 1. veth comparison.
    let load = OtherLoad::start();
    let rig = VethRig::new()?;
    let mut veth = Vec::new();
    let mut pmacct_conf = None;
    for &rate in &plan.veth_rates {
        eprintln!(
            "veth: {} packets at 1-in-{rate}...",
            thousands(plan.veth_packets)
        );
        veth.push(veth_compare(
            &rig,
            rate,
            plan.veth_packets,
            pmacctd.as_deref(),
            &mut pmacct_conf,
        )?);
    }
    print_veth(&veth, &plan, pmacct_conf.as_deref());
    println!("  machine during this part: {}", load.report());

    // 2. TAP.
    let mut tap = None;
    match &captures {
        Some(dir) => {
            let load = OtherLoad::start();
            let frames = load_frames(dir)?;
            eprintln!(
                "TAP: {} frames at 1-in-{}...",
                thousands(plan.tap_frames),
                plan.tap_rate
            );
            let r = tap_run(&frames, plan.tap_rate, plan.tap_frames, pmacctd.as_deref())?;
            print_tap(&r, &frames);
            println!("  machine during this part: {}", load.report());
            tap = Some(r);
        }
        None => println!(
            "\n== 2. radiotap TAP: skipped, ../shared/captures not found (WSFLOWD_CAPTURES) =="
        ),
    }
    drop(stats);

    // 3. Sweep.
    let load = OtherLoad::start();
    let mut steps = Vec::new();
    for &rate in &plan.sweep_rates {
        eprintln!(
            "sweep: {} packets unpaced at 1-in-{rate}...",
            thousands(plan.sweep_packets)
        );
        steps.push(sweep_step(&rig, rate, plan.sweep_packets, None)?);
    }
    for &(rate, kib) in &plan.sweep_big_ring {
        eprintln!(
            "sweep: {} packets unpaced at 1-in-{rate}, {kib} KiB ring...",
            thousands(plan.sweep_packets)
        );
        steps.push(sweep_step(&rig, rate, plan.sweep_packets, Some(kib))?);
    }
    if plan.quick {
        println!("\n== 3. Sustained sample rate: skipped (quick mode) ==");
    }
    print_sweep(&steps);
    if !steps.is_empty() {
        println!("  machine during this part: {}", load.report());
    }

    // Goals.
    let at100 = veth.iter().find(|r| r.rate == 100);
    let mut goals = vec![
        Goal {
            name: "CPU ratio wsflowd/pmacctd, veth 1-in-100".into(),
            figure: at100.and_then(|r| {
                r.pmacctd
                    .as_ref()
                    .map(|p| r.wsflowd.cpu_ns as f64 / p.cpu_ns.max(1) as f64)
            }),
            unit: "",
            limit: 0.25,
        },
        Goal {
            name: "  the same, wsflowd's kernel filter time added".into(),
            figure: at100.and_then(|r| {
                let p = r.pmacctd.as_ref()?;
                let f = r.filter?;
                Some((r.wsflowd.cpu_ns + f.ns) as f64 / p.cpu_ns.max(1) as f64)
            }),
            unit: "",
            limit: 0.25,
        },
        Goal {
            name: "agent CPU per sample, veth 1-in-100".into(),
            figure: at100.map(|r| r.wsflowd.us_per_sample()),
            unit: "µs",
            limit: 5.0,
        },
    ];
    if let Some(t) = &tap {
        goals.push(Goal {
            name: format!("agent CPU per sample, TAP 1-in-{}", t.rate),
            figure: Some(t.wsflowd.us_per_sample()),
            unit: "µs",
            limit: 5.0,
        });
    }
    let peak = veth
        .iter()
        .map(|r| r.wsflowd.hwm_kib())
        .chain(tap.iter().map(|t| t.wsflowd.hwm_kib()))
        .max();
    goals.push(Goal {
        name: "agent peak RSS (VmHWM), largest of parts 1-2".into(),
        figure: peak.map(|k| k as f64 / 1024.0),
        unit: "MiB",
        limit: 4.0,
    });
    print_goals(&goals);
    drop(rig);
    Ok(())
}
