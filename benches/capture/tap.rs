//! Part 2 of the capture benchmark: frames of the shared radiotap
//! captures, cycled, written into a TAP with link type 803 that the agent
//! samples as a monitor interface.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use wsflowd::mac::MacAddr;
use wsflowd::pcap::{link_type, PcapReader};
use wsflowd::wifi::MonitorFrame;

use crate::bpf_stats::{self, FilterCost};
use crate::common::process::{cpu_between, read_tree};
use crate::common::{self, Netns, TempConfig};
use crate::daemons::{
    exit_counts, pmacct_config, start_pmacctd, start_wsflowd, wsflowd_config, SflowCollector,
};
use crate::rig::{nap, new_netns, Sent, STOP};
use crate::veth_comparison::AgentFigures;
use crate::{Res, FLUSH_WAIT, IDLE_WINDOW};

pub(crate) const MON_IF: &str = "mon0";

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
pub(crate) struct Frames {
    pub(crate) frames: Arc<Vec<Vec<u8>>>,
    pub(crate) files: usize,
    /// The BSSIDs listed as ours, and how many frames carry each.
    pub(crate) ours: Vec<(MacAddr, usize)>,
    /// Frames skipped: malformed, or too short for a TAP.
    pub(crate) skipped: usize,
}

pub(crate) fn load_frames(dir: &Path) -> Res<Frames> {
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

pub(crate) struct TapRun {
    pub(crate) rate: u32,
    pub(crate) written: Sent,
    /// Frames the TAP counted as received, and dropped.
    pub(crate) rx: u64,
    pub(crate) rx_dropped: u64,
    pub(crate) method: String,
    pub(crate) window: Duration,
    pub(crate) wsflowd: AgentFigures,
    pub(crate) filter: Option<FilterCost>,
    /// pmacctd on the TAP: its figures, or what it said.
    pub(crate) pmacctd: Option<Result<AgentFigures, String>>,
}

pub(crate) fn tap_run(
    frames: &Frames,
    rate: u32,
    count: u64,
    pmacctd: Option<&Path>,
) -> Res<TapRun> {
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
    let program = bpf_stats::agent_program(agent.pid());
    let filter0 = program.and_then(bpf_stats::run_stats);
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
    let filter1 = program.and_then(bpf_stats::run_stats);
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
