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
//!
//! This file holds the plan and runs the parts; the parts live in
//! `benches/capture/`: `rig.rs` (namespaces, the veth pair, the UDP
//! sender, Ctrl-C), `daemons.rs` (wsflowd and pmacctd as processes, their
//! configurations, the sFlow collector), `bpf_stats.rs` (the filter's
//! run-time statistics), `filter_cost.rs` (part 0),
//! `veth_comparison.rs` (part 1), `tap.rs` (part 2), `sweep.rs` (part 3)
//! and `report.rs` (tables and the printing of each part).

#[path = "../tests/common/mod.rs"]
mod common;

#[path = "capture/bpf_stats.rs"]
mod bpf_stats;
#[path = "capture/daemons.rs"]
mod daemons;
#[path = "capture/filter_cost.rs"]
mod filter_cost;
#[path = "capture/report.rs"]
mod report;
#[path = "capture/rig.rs"]
mod rig;
#[path = "capture/sweep.rs"]
mod sweep;
#[path = "capture/tap.rs"]
mod tap;
#[path = "capture/veth_comparison.rs"]
mod veth_comparison;

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::captures_dir;
use common::os;
use common::process::OtherLoad;
use daemons::find_pmacctd;
use report::{
    expectation, print_goals, print_sweep, print_tap, print_veth, thousands, within, Goal, Table,
};
use rig::{install_signal_handlers, new_netns, remove_stale_namespaces, VethRig, AP_IF};
use sweep::sweep_step;
use tap::{load_frames, tap_run};
use veth_comparison::veth_compare;

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
    let stats = bpf_stats::enable_stats();

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
