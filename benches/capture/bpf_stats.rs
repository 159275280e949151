//! eBPF run-time statistics of the agent's socket filter: the kernel
//! charges the filter's run time to whoever runs the softirq, not to the
//! agent, so the benchmark reads it from the program's statistics.

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

/// Filter runs and their time over a window.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FilterCost {
    pub(crate) runs: u64,
    pub(crate) ns: u64,
}
