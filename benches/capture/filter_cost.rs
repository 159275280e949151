//! Part 0 of the capture benchmark: what the socket filter costs every
//! packet, the sampled and the unsampled alike (issue 13.7).
//!
//! The kernel runs the filter in the softirq of every frame that crosses
//! the interface, so its cost is paid per packet by whoever forwards, not
//! by the agent. Three ways to see it:
//!
//! 1. **BPF_PROG_TEST_RUN** with a repeat count: the kernel runs a loaded
//!    program `repeat` times over one test frame. Timed here with the
//!    calling thread's CPU clock (CLOCK_THREAD_CPUTIME_ID, ns) over
//!    millions of runs, minus an empty program's time (the loop's own
//!    cost): ns per run of the program itself, the least of several
//!    trials (what else runs on a shared machine only adds time). Programs: wsflowd's filter
//!    before this change ("old": map lookup, atomic add, `prandom % N`
//!    every packet), today's ("new": plain per-CPU count and countdown,
//!    the random skip drawn only when a frame is sampled), and a classic
//!    random filter like hsflowd's (`ld rand; mod #N; jneq #1, drop; ret
//!    #-1; drop: ret #0`), which the kernel cannot test-run itself: it
//!    runs classic filters as eBPF it translates them into
//!    (`bpf_convert_filter`), and that translation, built here
//!    instruction for instruction (its `w0 ^= w0` prologue as `w0 = 0`,
//!    the same cost, which the verifier of loaded programs wants), is what
//!    is timed. A test run's frame is never outgoing (`pkt_type` comes
//!    from its destination address), so the egress path is timed with
//!    the program's direction test turned round.
//! 2. **Through the packet taps**: 128 packet sockets on a TAP in a
//!    namespace of their own, each with the filter, and frames sent out of
//!    it by a packet socket (its descriptor is never read: each frame
//!    passes the taps, egress, then is dropped when the TAP's queue is
//!    full, all in the sender's context); the sender's
//!    CPU per frame, minus the same with an empty filter of the same kind
//!    (classic `ret #0`, eBPF `r0 = 0; exit`), over the 128 runs. This is the path of the real classic
//!    filter (attached with SO_ATTACH_FILTER), which checks that its
//!    eBPF translation in part 1 costs what it does.
//! 3. **End to end** (`end_to_end`): traffic across a veth into an
//!    "AP" namespace, sampled there by nothing, by wsflowd (eBPF, then
//!    classic) and by the classic random filter on a socket of the
//!    benchmark's own; the sender's CPU (the receive softirq runs in its
//!    context), the softirq threads' and the agent's, per packet, over
//!    the run without a sampler.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use wsflowd::capture::filter::{self, op, PoolMap};
use wsflowd::rng::Rng;
use wsflowd::sys::bpf::{self, Insn, Map, MapType};
use wsflowd::sys::socket;

use crate::common::process::{cpu_between, read_tree};
use crate::common::{os, run, Netns, TempConfig};
use crate::daemons::{exit_counts, start_wsflowd, wsflowd_config};
use crate::rig::{check_stop, nap, VethRig, AP_ADDR, AP_IF, SINK_PORT, STA_ADDR};
use crate::{Res, PAYLOAD};

/// The calling thread's CPU time so far, ns (CLOCK_THREAD_CPUTIME_ID:
/// the scheduler's runtime up to now, not only up to its last tick as
/// /proc's schedstat; it includes the softirqs run in the thread's
/// context).
pub fn thread_cpu_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is valid for writes of one `timespec` for the call.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    if r != 0 {
        return 0;
    }
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

// ---------------------------------------------------------------------
// The programs
// ---------------------------------------------------------------------

/// Offsets in `struct __sk_buff`, helper numbers (linux/bpf.h).
const SKB_PKT_TYPE: i16 = 4;
const SKB_INGRESS_IFINDEX: i16 = 36;
const FN_MAP_LOOKUP_ELEM: i32 = 1;
const FN_GET_PRANDOM_U32: i32 = 7;
const PACKET_OUTGOING: i32 = 4;
const XADD64: u8 = 0xdb; // STX | ATOMIC | DW, imm = BPF_ADD
const MOV32_K: u8 = 0xb4;

/// wsflowd's eBPF filter before skip-count sampling (main at 55d8d72,
/// `capture::filter::ebpf_program`), kept here to be compared: per
/// packet, a map lookup, an atomic add to a per-CPU u64, and
/// `bpf_get_prandom_u32() % N`.
pub fn old_program(rate: u32, snap_len: u32, pool_map: i32, excluded: &[u32]) -> Vec<Insn> {
    use op::*;
    let mut p = vec![
        Insn::new(MOV64_X, 6, 1, 0, 0),
        Insn::new(LDXW, 0, 6, SKB_PKT_TYPE, 0),
    ];
    if !excluded.is_empty() {
        p.push(Insn::new(
            JNE_K,
            0,
            0,
            1 + excluded.len() as i16,
            PACKET_OUTGOING,
        ));
        p.push(Insn::new(LDXW, 0, 6, SKB_INGRESS_IFINDEX, 0));
        for &index in excluded {
            p.push(Insn::new(JEQ_K, 0, 0, 0, index as i32));
        }
    }
    let exclusion_jumps: Vec<usize> = (p.len() - excluded.len()..p.len()).collect();
    p.extend([
        Insn::new(STW, 10, 0, -4, 0),
        Insn::new(MOV64_X, 2, 10, 0, 0),
        Insn::new(ADD64_K, 2, 0, 0, -4),
        Insn::new(LD_IMM64, 1, filter::PSEUDO_MAP_FD, 0, pool_map),
        Insn::new(0, 0, 0, 0, 0),
        Insn::new(CALL, 0, 0, 0, FN_MAP_LOOKUP_ELEM),
        Insn::new(JEQ_K, 0, 0, 2, 0),
        Insn::new(MOV64_K, 1, 0, 0, 1),
        Insn::new(XADD64, 0, 1, 0, 0),
    ]);
    let mut sample_jump = None;
    if rate > 1 {
        p.push(Insn::new(CALL, 0, 0, 0, FN_GET_PRANDOM_U32));
        p.push(Insn::new(MOD32_K, 0, 0, 0, rate as i32));
        sample_jump = Some(p.len());
        p.push(Insn::new(JNE_K, 0, 0, 0, 0));
    }
    p.push(Insn::new(MOV64_K, 0, 0, 0, snap_len as i32));
    p.push(Insn::new(EXIT, 0, 0, 0, 0));
    let jumps: Vec<usize> = exclusion_jumps.into_iter().chain(sample_jump).collect();
    if !jumps.is_empty() {
        let drop = p.len();
        p.push(Insn::new(MOV64_K, 0, 0, 0, 0));
        p.push(Insn::new(EXIT, 0, 0, 0, 0));
        for at in jumps {
            p[at].off = (drop - at - 1) as i16;
        }
    }
    p
}

/// hsflowd's classic filter (`ld rand; mod #N; jneq #1, drop; ret #-1;
/// drop: ret #0`, host-sflow's mod_pcap.c) as classic BPF.
pub fn classic_peer(rate: u32) -> Vec<libc::sock_filter> {
    let ins = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    vec![
        ins(0x20, 0, 0, (libc::SKF_AD_OFF + libc::SKF_AD_RANDOM) as u32),
        ins(0x94, 0, 0, rate),
        ins(0x15, 0, 1, 1),
        ins(0x06, 0, 0, u32::MAX),
        ins(0x06, 0, 0, 0),
    ]
}

/// The eBPF the kernel translates [`classic_peer`] into
/// (net/core/filter.c, `bpf_convert_filter`): A and X zeroed, the context
/// kept in r6, `ld rand` a call of the prandom helper's function, `mod`
/// as is, the jump with its false branch next turned into `jne`, `ret #k`
/// a move and an exit. The zeroing is `w = 0` rather than `w ^= w`: the
/// verifier of loaded programs refuses to read a register never written,
/// and the JIT makes both the same one instruction.
pub fn classic_peer_translated(rate: u32) -> Vec<Insn> {
    use op::*;
    vec![
        Insn::new(MOV32_K, 0, 0, 0, 0),
        Insn::new(MOV32_K, 7, 0, 0, 0),
        Insn::new(MOV64_X, 6, 1, 0, 0),
        Insn::new(CALL, 0, 0, 0, FN_GET_PRANDOM_U32),
        Insn::new(MOD32_K, 0, 0, 0, rate as i32),
        Insn::new(JNE_K, 0, 0, 2, 1),
        Insn::new(MOV32_K, 0, 0, 0, -1),
        Insn::new(EXIT, 0, 0, 0, 0),
        Insn::new(MOV32_K, 0, 0, 0, 0),
        Insn::new(EXIT, 0, 0, 0, 0),
    ]
}

/// The program with one direct helper call more (`bpf_get_numa_node_id`,
/// a one-line function) at its start: what a kernel that does not inline
/// the per-CPU array lookup pays on top (it calls
/// `percpu_array_map_lookup_elem` directly, whose body is the few loads
/// the inlined code does). Kernels before 6.10 and JITs without per-CPU
/// addressing (mips) do not inline it.
fn with_a_call(mut p: Vec<Insn>) -> Vec<Insn> {
    const FN_GET_NUMA_NODE_ID: i32 = 42;
    // After `r6 = r1`; the call clobbers r0-r5, which are loaded anew
    // after it. No jump crosses the start.
    p.insert(1, Insn::new(op::CALL, 0, 0, 0, FN_GET_NUMA_NODE_ID));
    p
}

/// `r0 = 0; exit`: what a test run costs without a program.
fn empty_program() -> Vec<Insn> {
    vec![
        Insn::new(op::MOV64_K, 0, 0, 0, 0),
        Insn::new(op::EXIT, 0, 0, 0, 0),
    ]
}

/// The program with its direction test turned round: in a test run (whose
/// frames are never outgoing) it takes the path of egress frames.
fn egress_path(mut p: Vec<Insn>) -> Vec<Insn> {
    let test = p
        .iter()
        .position(|i| (i.code == op::JNE_K || i.code == op::JEQ_K) && i.imm == PACKET_OUTGOING);
    if let Some(at) = test {
        p[at].code = if p[at].code == op::JNE_K {
            op::JEQ_K
        } else {
            op::JNE_K
        };
    }
    p
}

// ---------------------------------------------------------------------
// 1. BPF_PROG_TEST_RUN
// ---------------------------------------------------------------------

/// A loaded program and its name.
struct Loaded {
    name: String,
    prog: OwnedFd,
}

fn load(name: impl Into<String>, p: &[Insn]) -> Res<Loaded> {
    let name = name.into();
    let prog = filter::load_ebpf(p).map_err(|e| format!("{name}: {e}"))?;
    Ok(Loaded { name, prog })
}

/// ns per run of `prog` over `frame`: the thread's CPU time over `repeat`
/// runs, and the kernel's own figure (whole ns).
fn time_runs(prog: BorrowedFd, frame: &[u8], repeat: u32) -> Res<(f64, u32)> {
    let before = thread_cpu_ns();
    let run = bpf::prog_test_run(prog, frame, repeat).map_err(|e| format!("test run: {e}"))?;
    let cpu = thread_cpu_ns() - before;
    Ok((cpu as f64 / f64::from(repeat), run.duration_ns))
}

/// An Ethernet frame of `len` bytes to a unicast address that is not the
/// test device's (a test run's `pkt_type` OTHERHOST: an ingress frame).
fn frame(len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len.max(60)];
    f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
    f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x02]);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    f[14] = 0x45;
    f
}

/// The least of `v`: on a shared machine, what else runs only ever adds
/// time, so the fastest of several trials is the closest to the
/// program's own cost.
fn least(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// One column of the table: a path (ingress, egress) and a frame size.
struct Column {
    title: String,
    frame: Vec<u8>,
    egress: bool,
}

/// A row: one program in every column, ns per run net of the empty
/// program's, and the kernel's whole-ns figure of the first column.
pub struct Row {
    pub name: String,
    pub ns: Vec<f64>,
    pub kernel_ns: u32,
}

pub struct TestRunFigures {
    pub columns: Vec<String>,
    pub empty_ns: f64,
    pub rows: Vec<Row>,
    /// Whether this kernel inlines the per-CPU array lookup (the new
    /// program's translation has one call fewer than it has calls and
    /// LD_ABS loads, which become calls).
    pub lookup_inlined: Option<bool>,
    /// JIT-compiled size of each program, bytes: (name, ingress path).
    pub jited: Vec<(String, u32)>,
}

/// Calls in a program: its own, and its LD_ABS loads, which the kernel
/// turns into calls.
fn calls_in(p: &[Insn]) -> usize {
    p.iter()
        .filter(|i| i.code == op::CALL || i.code == op::LD_ABS_B)
        .count()
}

/// Calls left in a loaded program as the kernel runs it.
fn calls(prog: BorrowedFd) -> Option<usize> {
    let mut insns = vec![Insn::new(0, 0, 0, 0, 0); 256];
    let n = bpf::prog_translated(prog, &mut insns).ok()?;
    Some(
        insns[..n.min(insns.len())]
            .iter()
            .filter(|i| i.code == op::CALL)
            .count(),
    )
}

/// Times the old, new and classic programs at 1-in-`rate` with
/// `excluded` sampled interfaces, ingress and egress, two frame sizes.
pub fn test_runs(rate: u32, excluded: &[u32], repeat: u32, trials: usize) -> Res<TestRunFigures> {
    let mut rng = Rng::from_entropy();
    let snap = 128;
    let new_map = PoolMap::create(rate, &mut rng).map_err(|e| format!("map: {e}"))?;

    let old_map: Map<u32, u64> =
        Map::create(MapType::PerCpuArray, 1).map_err(|e| format!("map: {e}"))?;
    let new = filter::ebpf_program(rate, snap, new_map.raw_fd(), excluded);
    let called = with_a_call(new.clone());
    let old = old_program(rate, snap, old_map.raw_fd(), excluded);
    let peer = classic_peer_translated(rate);
    let n = excluded.len();
    let programs = [
        ("wsflowd old (lookup, atomic add, prandom % N)", old, true),
        ("wsflowd new (per-CPU count and countdown)", new, true),
        ("  the same + a direct helper call", called, true),
        ("classic random filter (hsflowd's), translated", peer, false),
    ];
    let columns = vec![
        Column {
            title: "ingress 64 B".into(),
            frame: frame(64),
            egress: false,
        },
        Column {
            title: "ingress 1514 B".into(),
            frame: frame(1514),
            egress: false,
        },
        Column {
            title: format!("egress, {n} sampled if."),
            frame: frame(64),
            egress: true,
        },
    ];
    // Every program of every column, loaded once (the maps live until
    // the end of this function, and the programs hold them too).
    let empty = load("empty", &empty_program())?;
    let mut loaded: Vec<Vec<Loaded>> = Vec::new();
    let mut jited = Vec::new();
    for (name, p, directional) in &programs {
        let mut row = Vec::new();
        for c in &columns {
            let p = if c.egress && *directional {
                egress_path(p.clone())
            } else {
                p.clone()
            };
            row.push(load(*name, &p)?);
        }
        let info = bpf::prog_info(row[0].prog.as_fd(), &mut []).map_err(|e| e.to_string())?;
        jited.push((name.to_string(), info.jited_prog_len));
        loaded.push(row);
    }
    let lookup_inlined = calls(loaded[1][0].prog.as_fd()).map(|c| c < calls_in(&programs[1].1));
    // Trials interleaved, so that what else runs on the machine touches
    // every program alike; the median of each.
    let mut empty_ns = Vec::new();
    let mut ns: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); columns.len()]; loaded.len()];
    let mut kernel = vec![Vec::new(); loaded.len()];
    for _ in 0..trials {
        empty_ns.push(time_runs(empty.prog.as_fd(), &columns[0].frame, repeat)?.0);
        for (r, row) in loaded.iter().enumerate() {
            for (c, l) in row.iter().enumerate() {
                let (t, k) = time_runs(l.prog.as_fd(), &columns[c].frame, repeat)?;
                ns[r][c].push(t);
                if c == 0 {
                    kernel[r].push(f64::from(k));
                }
            }
        }
    }
    let empty_ns = least(&empty_ns);
    let rows = loaded
        .iter()
        .zip(ns)
        .zip(kernel)
        .map(|((row, cols), k)| Row {
            name: row[0].name.clone(),
            ns: cols.into_iter().map(|t| least(&t) - empty_ns).collect(),
            kernel_ns: least(&k) as u32,
        })
        .collect();
    drop((new_map, old_map));
    Ok(TestRunFigures {
        columns: columns.into_iter().map(|c| c.title).collect(),
        empty_ns,
        rows,
        lookup_inlined,
        jited,
    })
}

// ---------------------------------------------------------------------
// 2. Through the packet taps
// ---------------------------------------------------------------------

/// Sockets per filter: each frame sent passes this many filter runs.
pub const TAPS: usize = 128;

/// A filter for the taps loop.
pub enum TapFilter {
    Classic(Vec<libc::sock_filter>),
    Ebpf(Vec<Insn>),
}

/// The interface of the taps loop: a TAP whose descriptor is never read,
/// so that what is sent out of it passes the packet taps and is then
/// dropped (its queue full), all in the sender's own context (no
/// softirq, which could run elsewhere).
const TAP_IF: &str = "taps0";

/// For each filter of `filters`, ns of the sender's CPU per frame over
/// `count` frames sent out of a TAP [`TAP_IF`] in `ns` (from a packet
/// socket: a 64-byte IPv4 frame), with [`TAPS`] packet sockets on it
/// carrying the filter; `trials` rounds, every filter in each, on the same
/// sockets (their memory, and so the caches, stay the same).
pub fn taps_runs(
    ns: &Netns,
    filters: Vec<TapFilter>,
    count: u32,
    trials: usize,
) -> Res<Vec<Vec<f64>>> {
    let ns_name = ns.name.clone();
    ns.spawn(move || -> Res<Vec<Vec<f64>>> {
        const IFF_TAP: libc::c_short = 0x0002;
        const IFF_NO_PI: libc::c_short = 0x1000;
        let tun = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun")
            .map_err(|e| format!("/dev/net/tun: {e}"))?;
        os::tun_set_iff(&tun, TAP_IF, IFF_TAP | IFF_NO_PI)
            .map_err(|e| format!("TUNSETIFF: {e}"))?;
        run(&[
            "ip", "netns", "exec", &ns_name, "ip", "link", "set", TAP_IF, "up",
        ])?;
        // (This thread's sysfs is the namespace's that mounted it: ask in
        // the TAP's.)
        let out = std::process::Command::new("ip")
            .args(["netns", "exec", &ns_name, "cat"])
            .arg(format!("/sys/class/net/{TAP_IF}/ifindex"))
            .output()
            .map_err(|e| e.to_string())?;
        let if_index: u32 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| "ifindex of the TAP")?;
        // One program per socket, as each socket of a classic filter has
        // its own copy (SO_ATTACH_FILTER translates and compiles it for
        // that socket): the same amount of code in the caches either way.
        let mut loaded: Vec<Vec<OwnedFd>> = Vec::new();
        for f in &filters {
            let mut copies = Vec::new();
            if let TapFilter::Ebpf(p) = f {
                for _ in 0..TAPS {
                    copies.push(filter::load_ebpf(p).map_err(|e| e.to_string())?);
                }
            }
            loaded.push(copies);
        }
        let mut sockets = Vec::new();
        for _ in 0..TAPS {
            let fd = socket::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0)
                .map_err(|e| e.to_string())?;
            // Small receive buffers: a sampled frame is dropped there at
            // once, as the queue stays full.
            let _ = socket::setsockopt_int(fd.as_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, 1);
            socket::bind(
                fd.as_fd(),
                &socket::PacketAddr::new(if_index, libc::ETH_P_ALL as u16),
            )
            .map_err(|e| e.to_string())?;
            sockets.push(fd);
        }
        let sender = socket::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0)
            .map_err(|e| e.to_string())?;
        socket::bind(
            sender.as_fd(),
            &socket::PacketAddr::new(if_index, libc::ETH_P_IP as u16),
        )
        .map_err(|e| e.to_string())?;
        let frame = frame(64);
        let send = || socket::send(sender.as_fd(), &frame, 0).map(|_| ());
        let mut times = vec![Vec::new(); filters.len()];
        for _ in 0..trials {
            for (i, f) in filters.iter().enumerate() {
                for (k, fd) in sockets.iter().enumerate() {
                    match f {
                        TapFilter::Classic(c) => filter::attach_classic(fd.as_fd(), c),
                        TapFilter::Ebpf(_) => filter::attach_ebpf(fd.as_fd(), loaded[i][k].as_fd()),
                    }
                    .map_err(|e| format!("attach: {e}"))?;
                }
                // Warm up (and keep the TAP's queue full), then time.
                for _ in 0..2_000 {
                    send().map_err(|e| format!("send: {e}"))?;
                }
                let before = thread_cpu_ns();
                for _ in 0..count {
                    send().map_err(|e| format!("send: {e}"))?;
                }
                times[i].push((thread_cpu_ns() - before) as f64 / f64::from(count));
            }
        }
        drop(sockets);
        drop(tun);
        Ok(times)
    })
    .join()
    .map_err(|_| "taps thread panicked".to_string())?
}

/// What the taps loop found: ns per filter run of each filter over an
/// empty filter of its own kind, and what an empty classic filter costs
/// per run over an empty eBPF one.
pub struct TapsFigures {
    pub filters: Vec<(String, f64)>,
    pub classic_over_ebpf: f64,
}

/// The taps loop for each filter, trials interleaved; ns per filter run
/// over the empty filter of its kind (classic `ret #0`, eBPF `r0 = 0`).
pub fn taps(ns: &Netns, rate: u32, count: u32, trials: usize) -> Res<TapsFigures> {
    // The TAP's ifIndex in a fresh namespace: after lo's. Only frames
    // that entered through it would be excluded; none here did.
    let if_index = 2;
    let mut rng = Rng::from_entropy();
    let new_map = PoolMap::create(rate, &mut rng).map_err(|e| format!("map: {e}"))?;
    let old_map: Map<u32, u64> =
        Map::create(MapType::PerCpuArray, 1).map_err(|e| format!("map: {e}"))?;
    let ret0 = libc::sock_filter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: 0,
    };
    let filters = vec![
        TapFilter::Classic(vec![ret0]),
        TapFilter::Ebpf(empty_program()),
        TapFilter::Ebpf(old_program(rate, 128, old_map.raw_fd(), &[if_index])),
        TapFilter::Ebpf(filter::ebpf_program(
            rate,
            128,
            new_map.raw_fd(),
            &[if_index],
        )),
        TapFilter::Classic(classic_peer(rate)),
        TapFilter::Ebpf(classic_peer_translated(rate)),
    ];
    let per = taps_runs(ns, filters, count, trials)?;
    let runs = TAPS as f64;
    let (classic0, ebpf0) = (least(&per[0]), least(&per[1]));
    let over = |t: &[f64], base: f64| (least(t) - base) / runs;
    Ok(TapsFigures {
        filters: vec![
            ("wsflowd old".into(), over(&per[2], ebpf0)),
            ("wsflowd new".into(), over(&per[3], ebpf0)),
            (
                "classic random filter (SO_ATTACH_FILTER)".into(),
                over(&per[4], classic0),
            ),
            (
                "classic random filter's eBPF translation".into(),
                over(&per[5], ebpf0),
            ),
        ],
        classic_over_ebpf: (classic0 - ebpf0) / runs,
    })
}

// ---------------------------------------------------------------------
// 3. End to end: a veth, the sender's softirq and the sampler's CPU
// ---------------------------------------------------------------------

/// CPU of the softirq threads (`ksoftirqd/N`), ns: the receive softirq
/// runs there when the sender's context cannot take it all.
fn softirq_threads_ns() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm"))
                .is_ok_and(|c| c.starts_with("ksoftirqd/"))
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// What samples the veth in one end-to-end run.
#[derive(Clone)]
pub enum Sampler {
    /// Nothing: the baseline.
    Nothing,
    /// A packet socket of the benchmark's own on the AP's end with this
    /// filter, its samples read by a thread of ours (`recv`).
    Socket(&'static str, TapFilter),
    /// The wsflowd agent (its own filter: eBPF where it can).
    Wsflowd,
}

impl Clone for TapFilter {
    fn clone(&self) -> Self {
        match self {
            TapFilter::Classic(c) => TapFilter::Classic(c.clone()),
            TapFilter::Ebpf(p) => TapFilter::Ebpf(p.clone()),
        }
    }
}

impl Sampler {
    pub fn name(&self) -> &str {
        match self {
            Sampler::Nothing => "no sampler",
            Sampler::Socket(name, _) => name,
            Sampler::Wsflowd => "wsflowd (eBPF)",
        }
    }
}

/// One end-to-end run: CPU in ns of the sender thread (its softirqs
/// included), of the softirq threads and of the sampler, and the packets
/// and samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct EndToEnd {
    pub packets: u64,
    pub sender_ns: u64,
    pub softirq_ns: u64,
    pub sampler_ns: u64,
    pub samples: u64,
}

impl EndToEnd {
    pub fn total_ns(&self) -> u64 {
        self.sender_ns + self.softirq_ns + self.sampler_ns
    }
}

/// A thread reading a packet socket on `ifname` in `ns` until `stop`,
/// returning (its CPU ns, frames read).
fn socket_sampler(
    ns: &Netns,
    ifname: &str,
    filter: TapFilter,
    ready: std::sync::mpsc::Sender<Res<()>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Res<(u64, u64)>> {
    use std::sync::atomic::Ordering;
    let if_index = ns.if_index(ifname);
    ns.spawn(move || -> Res<(u64, u64)> {
        let start = thread_cpu_ns();
        let setup = || -> Res<OwnedFd> {
            let fd = socket::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0)
                .map_err(|e| e.to_string())?;
            // Woken by each sample only (and to look at `stop`).
            socket::set_receive_timeout(fd.as_fd(), Duration::from_millis(50))
                .map_err(|e| e.to_string())?;
            match &filter {
                TapFilter::Classic(c) => filter::attach_classic(fd.as_fd(), c),
                TapFilter::Ebpf(p) => {
                    let prog = filter::load_ebpf(p).map_err(|e| e.to_string())?;
                    filter::attach_ebpf(fd.as_fd(), prog.as_fd())
                }
            }
            .map_err(|e| format!("attach: {e}"))?;
            socket::bind(
                fd.as_fd(),
                &socket::PacketAddr::new(if_index, libc::ETH_P_ALL as u16),
            )
            .map_err(|e| e.to_string())?;
            Ok(fd)
        };
        let fd = match setup() {
            Ok(fd) => {
                let _ = ready.send(Ok(()));
                fd
            }
            Err(e) => {
                let _ = ready.send(Err(e.clone()));
                return Err(e);
            }
        };
        let mut buf = [0u8; 256];
        let mut frames = 0u64;
        while !stop.load(Ordering::Relaxed) {
            if socket::recv(fd.as_fd(), &mut buf, 0).is_ok() {
                frames += 1;
            }
        }
        Ok((thread_cpu_ns() - start, frames))
    })
}

/// Sends `count` UDP packets from the rig's sender paced at `pps`,
/// returning the sender thread's CPU time (ns).
fn paced_sender(rig: &VethRig, count: u64, pps: f64) -> Res<u64> {
    let (from, to) = (
        format!("{}:0", STA_ADDR),
        format!("{}:{}", AP_ADDR, SINK_PORT),
    );
    rig.sta
        .spawn(move || -> Res<u64> {
            let s = std::net::UdpSocket::bind(&from).map_err(|e| format!("bind {from}: {e}"))?;
            s.connect(&to).map_err(|e| format!("connect {to}: {e}"))?;
            const BATCH: usize = 32;
            let payload = [0u8; PAYLOAD];
            let mut batch = os::BatchSender::new(&payload, BATCH);
            let start = std::time::Instant::now();
            let cpu = thread_cpu_ns();
            let mut sent = 0u64;
            while sent < count {
                check_stop()?;
                let due = start + Duration::from_secs_f64(sent as f64 / pps);
                let now = std::time::Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                let n = (count - sent).min(BATCH as u64) as usize;
                match batch.send(&s, n) {
                    Ok(n) => sent += n as u64,
                    Err(e) => match e.raw_os_error() {
                        Some(libc::ENOBUFS | libc::EAGAIN | libc::EINTR) => {
                            std::thread::sleep(Duration::from_micros(50))
                        }
                        _ => return Err(format!("sendmmsg: {e}")),
                    },
                }
            }
            Ok(thread_cpu_ns() - cpu)
        })
        .join()
        .map_err(|_| "sender thread panicked".to_string())?
}

/// One run of `count` packets at `pps` across the rig's veth with
/// `sampler` on the AP's end, 1-in-`rate`.
pub fn end_to_end(
    rig: &VethRig,
    sampler: &Sampler,
    rate: u32,
    count: u64,
    pps: f64,
) -> Res<EndToEnd> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    let mut reader = None;
    let mut agent = None;
    let mut config = None;
    match sampler {
        Sampler::Nothing => {}
        Sampler::Socket(_, f) => {
            let (tx, rx) = std::sync::mpsc::channel();
            reader = Some(socket_sampler(&rig.ap, AP_IF, f.clone(), tx, stop.clone()));
            rx.recv().map_err(|_| "sampler thread")??;
        }
        Sampler::Wsflowd => {
            let cfg = TempConfig::new(&wsflowd_config(rate, AP_IF, 9, ""));
            let (d, _) = start_wsflowd(&rig.ap, &cfg.path, AP_IF)?;
            agent = Some(d);
            config = Some(cfg);
        }
    }
    nap(Duration::from_millis(300))?;
    let k0 = rig.packets()?;
    let soft0 = softirq_threads_ns();
    let a0 = agent.as_ref().map(|a| read_tree(a.pid()));
    let sender_ns = paced_sender(rig, count, pps)?;
    // The last frames through the softirq.
    nap(Duration::from_millis(100))?;
    let soft1 = softirq_threads_ns();
    let a1 = agent.as_ref().map(|a| read_tree(a.pid()));
    let packets = rig.packets()? - k0;
    stop.store(true, Ordering::Relaxed);
    let (mut sampler_ns, mut samples) = (0, 0);
    if let Some(r) = reader {
        (sampler_ns, samples) = r.join().map_err(|_| "sampler thread panicked")??;
    }
    if let (Some(a0), Some(a1)) = (a0, a1) {
        sampler_ns = cpu_between(&a0, &a1);
    }
    if let Some(a) = agent {
        let log = a.stop()?;
        samples = exit_counts(&log, AP_IF).map_or(0, |e| e.samples);
    }
    drop(config);
    Ok(EndToEnd {
        packets,
        sender_ns,
        softirq_ns: soft1.saturating_sub(soft0),
        sampler_ns,
        samples,
    })
}

/// The samplers of the end-to-end comparison at 1-in-`rate`, the maps
/// they need kept alive by the caller.
pub fn end_to_end_samplers(
    rate: u32,
    ap_ifindex: u32,
) -> Res<(Vec<Sampler>, PoolMap, Map<u32, u64>)> {
    let mut rng = Rng::from_entropy();
    let new_map = PoolMap::create(rate, &mut rng).map_err(|e| format!("map: {e}"))?;
    let old_map: Map<u32, u64> =
        Map::create(MapType::PerCpuArray, 1).map_err(|e| format!("map: {e}"))?;
    // One sampled interface: the AP's veth end.
    let excluded = [ap_ifindex];
    let samplers = vec![
        Sampler::Nothing,
        Sampler::Socket(
            "wsflowd old filter (socket of ours)",
            TapFilter::Ebpf(old_program(rate, 128, old_map.raw_fd(), &excluded)),
        ),
        Sampler::Socket(
            "wsflowd new filter (socket of ours)",
            TapFilter::Ebpf(filter::ebpf_program(rate, 128, new_map.raw_fd(), &excluded)),
        ),
        Sampler::Socket(
            "classic random filter (socket of ours)",
            TapFilter::Classic(classic_peer(rate)),
        ),
        Sampler::Wsflowd,
    ];
    Ok((samplers, new_map, old_map))
}
