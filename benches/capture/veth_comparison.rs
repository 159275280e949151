//! Part 1 of the capture benchmark: wsflowd and pmacctd side by side on
//! the AP's veth end, sampling the same paced traffic at the same 1-in-N.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::bpf_stats::{self, FilterCost};
use crate::common::process::{cpu_between, read_tree, ProcessMemory};
use crate::common::TempConfig;
use crate::daemons::{
    exit_counts, pmacct_config, start_pmacctd, start_wsflowd, wsflowd_config, ExitCounts,
    FlowStats, SflowCollector,
};
use crate::report::mib;
use crate::rig::{nap, send_udp, Sent, VethRig, AP_ADDR, AP_IF, STA_ADDR};
use crate::{Res, FLUSH_WAIT, IDLE_WINDOW, PACED_PPS};

#[derive(Debug, Clone, Default)]
pub(crate) struct AgentFigures {
    pub(crate) cpu_ns: u64,
    /// CPU per second while no traffic flowed (timers, counter polling).
    pub(crate) idle_ns_per_s: Option<f64>,
    pub(crate) processes: Vec<ProcessMemory>,
    pub(crate) stats: FlowStats,
    pub(crate) exit: Option<ExitCounts>,
}

impl AgentFigures {
    pub(crate) fn hwm_kib(&self) -> u64 {
        self.processes.iter().map(|p| p.hwm).sum()
    }
    /// Resident at the end: "anon + file" of the first process.
    pub(crate) fn resident(&self) -> String {
        self.processes
            .first()
            .map_or("?".into(), |p| format!("{} + {}", mib(p.anon), mib(p.file)))
    }
    /// µs per sample without what the agent spends idle over `window`.
    pub(crate) fn us_per_sample_net(&self, window: Duration) -> Option<f64> {
        let idle = self.idle_ns_per_s? * window.as_secs_f64();
        Some((self.cpu_ns as f64 - idle).max(0.0) / 1e3 / self.stats.flow_samples.max(1) as f64)
    }
    pub(crate) fn cpu_s(&self) -> f64 {
        self.cpu_ns as f64 / 1e9
    }
    pub(crate) fn us_per_sample(&self) -> f64 {
        self.cpu_ns as f64 / 1e3 / self.stats.flow_samples.max(1) as f64
    }
}

#[derive(Debug, Clone)]
pub(crate) struct VethRun {
    pub(crate) rate: u32,
    pub(crate) sent: Sent,
    /// Packets the kernel counted on the AP's veth end during the run.
    pub(crate) packets: u64,
    pub(crate) method: String,
    /// From the first to the last reading (traffic and flush wait).
    pub(crate) window: Duration,
    pub(crate) wsflowd: AgentFigures,
    pub(crate) pmacctd: Option<AgentFigures>,
    pub(crate) filter: Option<FilterCost>,
}

pub(crate) fn veth_compare(
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
    let program = bpf_stats::agent_program(agent.pid());
    let filter0 = program.and_then(bpf_stats::run_stats);
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
    let filter1 = program.and_then(bpf_stats::run_stats);
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
