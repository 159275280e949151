//! Part 3 of the capture benchmark: the sample rate the agent sustains
//! before its ring drops samples, the sender unpaced and the 1-in-N
//! lowered step by step.

use std::time::Duration;

use crate::common::process::{cpu_between, read_tree};
use crate::common::TempConfig;
use crate::daemons::{
    exit_counts, start_wsflowd, wsflowd_config, ExitCounts, FlowStats, SflowCollector,
};
use crate::rig::{nap, send_udp, Sent, VethRig, AP_ADDR, AP_IF, STA_ADDR};
use crate::{Res, HEADER_BYTES, PAYLOAD};

pub(crate) struct SweepStep {
    pub(crate) rate: u32,
    /// "256 KiB" (from the agent's log).
    pub(crate) ring: String,
    /// Set when the step overrides the default ring.
    pub(crate) ring_kib: Option<u32>,
    pub(crate) sent: Sent,
    pub(crate) packets: u64,
    pub(crate) cpu_ns: u64,
    pub(crate) stats: FlowStats,
    pub(crate) exit: ExitCounts,
}

/// How many of the sender's frames a ring of `kib` holds, laid out as
/// TPACKET_V3 does (linux/net/packet/af_packet.c): a 48-byte block header,
/// then per frame the 48-byte tpacket3_hdr and the sockaddr_ll, the frame
/// at a 16-byte aligned network offset, each frame 16-byte aligned.
pub(crate) fn ring_frames(kib: u32) -> u64 {
    let align = |n: u32| n.next_multiple_of(16);
    let page = wsflowd::sys::system::page_size();
    let g = wsflowd::capture::ring::RingGeometry::new(kib * 1024, HEADER_BYTES, page);
    let frame = (14 + 20 + 8 + PAYLOAD) as u32;
    let mac = align(48 + 20 + 16) - 14;
    let per_frame = align(mac + frame.min(HEADER_BYTES));
    u64::from((g.block_size - 48) / per_frame) * u64::from(g.block_count)
}

impl SweepStep {
    pub(crate) fn samples_per_s(&self) -> f64 {
        self.exit.samples as f64 / self.sent.elapsed.as_secs_f64().max(1e-9)
    }
    pub(crate) fn drops(&self) -> u64 {
        self.exit.drops.max(u64::from(self.stats.max_drops))
    }
}

pub(crate) fn sweep_step(
    rig: &VethRig,
    rate: u32,
    packets: u64,
    ring_kib: Option<u32>,
) -> Res<SweepStep> {
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
