//! Processes seen through /proc: CPU time and memory of a process and its
//! descendants, and how busy other processes keep the machine (the tests
//! and benchmarks run on shared machines).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

/// The fields of /proc/PID/stat after the command name.
pub fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(
        s.rsplit_once(')')?
            .1
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    )
}

/// `pid` and all its descendants.
pub fn process_tree(pid: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(ppid) = stat_fields(p).and_then(|f| f.get(1)?.parse::<u32>().ok()) {
                children.entry(ppid).or_default().push(p);
            }
        }
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        if let Some(c) = children.get(&out[i]) {
            out.extend(c);
        }
        i += 1;
    }
    out
}

/// CPU time of every thread of a process, in ns (user + system: the
/// scheduler's sum_exec_runtime).
pub fn process_cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// utime + stime of a process (its dead threads included), clock ticks.
pub fn process_ticks(pid: u32) -> u64 {
    stat_fields(pid).map_or(0, |f| {
        f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
            + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
    })
}

/// The value of the line of /proc/PID/status that starts with `key`
/// (`"VmHWM:"`, `"CapEff:"`...), trimmed.
pub fn status_field(pid: u32, key: &str) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| Some(l.strip_prefix(key)?.trim().to_string()))
}

/// A memory figure of /proc/PID/status (`"VmHWM:"`...), in KiB; 0 if
/// unknown.
pub fn status_kib(pid: u32, key: &str) -> u64 {
    status_field(pid, key)
        .and_then(|v| v.strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or(0)
}

pub fn process_title(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let s: String = raw
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    s.trim().to_string()
}

/// Memory of one process, KiB.
#[derive(Debug, Clone, Default)]
pub struct ProcessMemory {
    pub pid: u32,
    pub title: String,
    /// Peak resident set.
    pub hwm: u64,
    /// Resident now: private anonymous pages, and file pages (the binary,
    /// shared libraries, mapped sockets such as a packet ring).
    pub anon: u64,
    pub file: u64,
}

/// One reading of a process tree.
#[derive(Debug, Clone, Default)]
pub struct TreeReading {
    pub cpu_ns: u64,
    pub ticks: u64,
    pub processes: Vec<ProcessMemory>,
}

pub fn read_tree(pid: u32) -> TreeReading {
    let mut r = TreeReading::default();
    for p in process_tree(pid) {
        r.cpu_ns += process_cpu_ns(p);
        r.ticks += process_ticks(p);
        r.processes.push(ProcessMemory {
            pid: p,
            title: process_title(p),
            hwm: status_kib(p, "VmHWM:"),
            anon: status_kib(p, "RssAnon:"),
            file: status_kib(p, "RssFile:") + status_kib(p, "RssShmem:"),
        });
    }
    r
}

pub fn clock_tick_ns() -> u64 {
    1_000_000_000 / wsflowd::sys::system::sysconf(libc::_SC_CLK_TCK).unwrap_or(100)
}

/// CPU used between two readings, in ns: the schedstat sum, unless the
/// tick count (which keeps the time of threads that ended) says more.
pub fn cpu_between(a: &TreeReading, b: &TreeReading) -> u64 {
    let precise = b.cpu_ns.saturating_sub(a.cpu_ns);
    let coarse = b.ticks.saturating_sub(a.ticks) * clock_tick_ns();
    if coarse > precise + 3 * clock_tick_ns() {
        coarse
    } else {
        precise
    }
}

/// CPU of the processes that are not ours (this benchmark and its
/// children) nor kernel threads, over a part of the benchmark: the
/// machine may be shared, and what others run changes the figures.
pub struct OtherLoad {
    start: Instant,
    ticks: HashMap<u32, u64>,
}

impl OtherLoad {
    fn others() -> HashMap<u32, (u64, String)> {
        let mine: BTreeSet<u32> = process_tree(std::process::id()).into_iter().collect();
        let mut out = HashMap::new();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return out;
        };
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let Some(f) = stat_fields(pid) else {
                continue;
            };
            let kernel_thread = pid == 2 || f.get(1).is_some_and(|p| p == "2");
            if mine.contains(&pid) || kernel_thread {
                continue;
            }
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            out.insert(pid, (process_ticks(pid), comm.trim().to_string()));
        }
        out
    }

    pub fn start() -> OtherLoad {
        OtherLoad {
            start: Instant::now(),
            ticks: Self::others()
                .into_iter()
                .map(|(p, (t, _))| (p, t))
                .collect(),
        }
    }

    /// "0.97 CPUs (qemu-mips-stati 0.96, ...)" since `start`.
    pub fn report(&self) -> String {
        let seconds = self.start.elapsed().as_secs_f64().max(1e-3);
        let tick = clock_tick_ns() as f64 / 1e9;
        let mut by_name: BTreeMap<String, f64> = BTreeMap::new();
        for (pid, (ticks, comm)) in Self::others() {
            let used = ticks.saturating_sub(*self.ticks.get(&pid).unwrap_or(&0));
            if used > 0 {
                *by_name.entry(comm).or_default() += used as f64 * tick / seconds;
            }
        }
        let total: f64 = by_name.values().sum();
        let mut top: Vec<(String, f64)> = by_name.into_iter().collect();
        top.sort_by(|a, b| b.1.total_cmp(&a.1));
        let names: Vec<String> = top
            .iter()
            .take(3)
            .filter(|(_, c)| *c >= 0.01)
            .map(|(n, c)| format!("{n} {c:.2}"))
            .collect();
        let mut line = format!("{total:.2} CPUs busy with other processes");
        if !names.is_empty() {
            line += &format!(" ({})", names.join(", "));
        }
        if total >= 0.1 {
            line += ": the machine is shared, figures are disturbed";
        }
        line
    }
}
