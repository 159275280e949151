//! The output of the capture benchmark: number formats, the statistical
//! check of a sample count, a table printer, and the printing of each
//! part's figures and of the goals.

use crate::sweep::{ring_frames, SweepStep};
use crate::tap::{Frames, TapRun, MON_IF};
use crate::veth_comparison::{AgentFigures, VethRun};
use crate::{Plan, FLUSH_WAIT, HEADER_BYTES, PACED_PPS};

/// 1234567 → "1,234,567".
pub(crate) fn thousands(n: u64) -> String {
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

pub(crate) fn mib(kib: u64) -> String {
    format!("{:.2} MiB", kib as f64 / 1024.0)
}

/// Expected samples and 4 standard deviations for `packets` at 1-in-`n`.
pub(crate) fn expectation(packets: u64, n: u32) -> (f64, f64) {
    let p = 1.0 / f64::from(n);
    let e = packets as f64 * p;
    (e, 4.0 * (packets as f64 * p * (1.0 - p)).sqrt())
}

pub(crate) fn within(samples: u64, packets: u64, n: u32) -> &'static str {
    let (e, four_sigma) = expectation(packets, n);
    if (samples as f64 - e).abs() <= four_sigma.max(1.0) {
        "within 4σ"
    } else {
        "OUTSIDE 4σ"
    }
}

/// A table: a label column and one column per run.
pub(crate) struct Table {
    head: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

impl Table {
    pub(crate) fn new(label: &str, columns: impl IntoIterator<Item = String>) -> Table {
        let mut head = vec![label.to_string()];
        head.extend(columns);
        Table {
            head,
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, label: &str, cells: impl IntoIterator<Item = String>) {
        self.rows
            .push((label.to_string(), cells.into_iter().collect()));
    }

    /// Labels left-aligned, figures right-aligned.
    pub(crate) fn print(&self) {
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

pub(crate) fn print_veth(runs: &[VethRun], plan: &Plan, pmacct_conf: Option<&str>) {
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

pub(crate) fn print_tap(r: &TapRun, frames: &Frames) {
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

pub(crate) fn print_sweep(steps: &[SweepStep]) {
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

pub(crate) struct Goal {
    pub(crate) name: String,
    pub(crate) figure: Option<f64>,
    pub(crate) unit: &'static str,
    pub(crate) limit: f64,
}

pub(crate) fn print_goals(goals: &[Goal]) {
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
