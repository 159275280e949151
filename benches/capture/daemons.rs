//! The agents of the capture benchmark: wsflowd and Debian's pmacctd as
//! processes in a namespace (their output, their process trees, their
//! configurations, the counts wsflowd logs at exit), and the sFlow
//! collector socket each sends to, which decodes what arrives with
//! wsflowd's decoder.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wsflowd::sflow::{Datagram, FlowRecord, Sample};

use crate::common::process::process_tree;
use crate::common::{os, Netns};
use crate::rig::{nap, set_int_option};
use crate::{Res, HEADER_BYTES};

// ---------------------------------------------------------------------
// Daemons: wsflowd and pmacctd, their output and their process trees
// ---------------------------------------------------------------------

/// A daemon started in a namespace (`ip netns exec` execs it, so the child
/// is the daemon); its output is kept. Killed with its whole process tree
/// on drop, and by the kernel if this process dies (PR_SET_PDEATHSIG).
pub(crate) struct Daemon {
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

    pub(crate) fn pid(&self) -> u32 {
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
    pub(crate) fn stop(mut self) -> Res<Vec<String>> {
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
pub(crate) struct ExitCounts {
    pub(crate) pool: u64,
    pub(crate) samples: u64,
    pub(crate) drops: u64,
    pub(crate) accepted: u64,
    pub(crate) rejected: Option<u64>,
}

pub(crate) fn exit_counts(log: &[String], device: &str) -> Option<ExitCounts> {
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
pub(crate) struct FlowStats {
    pub(crate) datagrams: u64,
    /// Datagrams missing from the sequence numbers.
    pub(crate) lost_datagrams: u64,
    pub(crate) flow_samples: u64,
    counter_samples: u64,
    /// Flow samples whose output is "discarded" (foreign BSS frames).
    pub(crate) discarded: u64,
    pub(crate) max_drops: u32,
    max_pool: u32,
    pub(crate) rates: BTreeSet<u32>,
    /// Sampled headers per header protocol.
    pub(crate) protocols: BTreeMap<u32, u64>,
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

pub(crate) struct SflowCollector {
    pub(crate) port: u16,
    stats: Arc<Mutex<FlowStats>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl SflowCollector {
    /// A UDP socket on 127.0.0.1 in `ns`, read by a thread that decodes
    /// every sample (`light`: counts them only).
    pub(crate) fn start(ns: &Netns, light: bool) -> Res<SflowCollector> {
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

    pub(crate) fn stats(&self) -> FlowStats {
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

// ---------------------------------------------------------------------
// The agents
// ---------------------------------------------------------------------

pub(crate) fn wsflowd_config(
    rate: u32,
    device: &str,
    port: u16,
    interface_section: &str,
) -> String {
    format!(
        "config agent 'agent'\n\toption sampling_rate '{rate}'\n\toption polling_interval '20'\n\toption header_bytes '{HEADER_BYTES}'\n\tlist interface '{device}'\n{interface_section}\nconfig collector\n\toption address '127.0.0.1'\n\toption port '{port}'\n"
    )
}

pub(crate) fn start_wsflowd(ns: &Netns, config: &Path, device: &str) -> Res<(Daemon, String)> {
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

pub(crate) fn pmacct_config(device: &str, rate: u32, port: u16) -> String {
    format!(
        "daemonize: false\npcap_interface: {device}\nplugins: sfprobe[sf]\nsampling_rate: {rate}\nsfprobe_receiver[sf]: 127.0.0.1:{port}\nsnaplen: {HEADER_BYTES}\n"
    )
}

/// Starts pmacctd and waits for its sfprobe plugin to be running.
/// Err(its output) when it does not come up.
pub(crate) fn start_pmacctd(
    ns: &Netns,
    pmacctd: &Path,
    config: &Path,
) -> Res<Result<Daemon, String>> {
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

pub(crate) fn find_pmacctd() -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"])
        .map(|d| Path::new(d).join("pmacctd"))
        .find(|p| p.is_file());
    found
}
