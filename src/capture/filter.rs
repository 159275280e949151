//! Kernel-side 1-in-N sampling: socket filters that let only the sampled
//! frames reach the ring, so that unsampled frames cost a few instructions
//! in the kernel and nothing in user space.
//!
//! Two programs, chosen at run time:
//!
//! - **eBPF** (needs `CONFIG_BPF_SYSCALL` and the right to load socket
//!   filters): counts every candidate frame in a per-CPU map (an exact
//!   `sample_pool`), leaves out egress frames that entered through a
//!   sampled interface (so a bridged or routed frame is a candidate once,
//!   where it entered) and mac80211's relay copies of group-addressed
//!   frames (the frame was a candidate when it was received), and samples
//!   by skip counting: each CPU counts down the candidates to its next
//!   sample and draws the next skip (uniform in 1..=2N-1, mean N, the
//!   sFlow specification's random skip) only when it samples. The path
//!   every unsampled frame takes has no helper call but the map lookup
//!   (which kernels from 6.10 inline on x86-64 and arm64) and no division.
//! - **Classic BPF** (every kernel, CAP_NET_RAW alone): samples with the
//!   random ancillary load (`ld rand; mod #N`). It cannot tell where an
//!   egress frame entered, so it samples egress frames only where the
//!   caller says no other sampled interface can forward into this one
//!   (and never mac80211's relay copies); the pool then comes from the
//!   interface's counters (see `capture::PoolSource`).
//!
//! The eBPF program is assembled here (no compiler, no libbpf): a few
//! dozen instructions whose encoding follows the target's byte order.
//!
//! How a frame looks at the packet taps, for the tests below (Linux
//! net/core/dev.c, net/mac80211/rx.c): a frame the device receives has
//! `pkt_type` HOST, BROADCAST, MULTICAST or OTHERHOST and `ingress_ifindex`
//! = the device; a frame it transmits has `pkt_type` OUTGOING and
//! `ingress_ifindex` = where it entered the host (0 if the host made it).
//! mac80211 relays a station's group-addressed frame to the BSS as a copy
//! (`ieee80211_deliver_skb`: `skb_copy`, `protocol = htons(ETH_P_802_3)`,
//! `dev_queue_xmit`) while the frame itself goes up the stack, received:
//! the copy's `ingress_ifindex` is 0 (the copy has none), so only its
//! protocol tells it. Unicast relays between two stations go the same way
//! without the received copy: they stay candidates, once, as egress.

use crate::io_error::io_error;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::rng::Rng;
use crate::sys::bpf::{self, Insn, Map, MapType, ProgType};
use crate::sys::socket;

/// `sll_pkttype` of frames the host sends.
const PACKET_OUTGOING: u32 = 4;
/// `ETH_P_802_3`: the protocol mac80211 gives the frames it relays between
/// its stations.
const ETH_P_802_3: u16 = 0x0001;

/// Which egress frames the classic program samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassicEgress {
    /// None: ingress only.
    None,
    /// Every one but mac80211's relay copies of group-addressed frames
    /// (safe only where no other sampled interface forwards into this
    /// one: classic BPF cannot tell where a frame entered).
    NotRelayCopies,
}

/// Classic BPF for 1-in-`rate` sampling, keeping `snap_len` bytes of each
/// sampled frame: ingress frames, and egress ones as `egress` says.
pub fn classic_program(rate: u32, snap_len: u32, egress: ClassicEgress) -> Vec<libc::sock_filter> {
    const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const LD_B_ABS: u16 = 0x30; // BPF_LD | BPF_B | BPF_ABS
    const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const JSET_K: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
    const MOD_K: u16 = 0x94; // BPF_ALU | BPF_MOD | BPF_K
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
    let ins = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    let ancillary = |what: i32| (libc::SKF_AD_OFF + what) as u32;
    // Jump offsets to `sample` and `drop` are patched below: (instruction,
    // true branch?, to drop?).
    let mut p = vec![
        ins(LD_W_ABS, 0, 0, ancillary(libc::SKF_AD_PKTTYPE)),
        // Outgoing: to the egress tests, else (jf 0) on to `sample`.
        ins(JEQ_K, 0, 0, PACKET_OUTGOING),
    ];
    let mut to_drop = Vec::new();
    let mut to_sample = Vec::new();
    match egress {
        ClassicEgress::None => to_drop.push((1, true)),
        ClassicEgress::NotRelayCopies => {
            // Outgoing (jt 0): a relay copy if its protocol is 802.3
            // (the ancillary load gives it in host order) and its
            // destination a group address.
            p[1].jf = 4;
            p.push(ins(LD_W_ABS, 0, 0, ancillary(libc::SKF_AD_PROTOCOL)));
            p.push(ins(JEQ_K, 0, 0, u32::from(ETH_P_802_3)));
            to_sample.push((p.len() - 1, false));
            p.push(ins(LD_B_ABS, 0, 0, 0));
            p.push(ins(JSET_K, 0, 0, 1));
            to_drop.push((p.len() - 1, true));
        }
    }
    let sample = p.len();
    if rate > 1 {
        p.push(ins(LD_W_ABS, 0, 0, ancillary(libc::SKF_AD_RANDOM)));
        p.push(ins(MOD_K, 0, 0, rate));
        // Zero: sampled (falls through to `ret #snap_len`), else drop.
        p.push(ins(JEQ_K, 0, 0, 0));
        to_drop.push((p.len() - 1, false));
    }
    p.push(ins(RET_K, 0, 0, snap_len));
    let drop = p.len();
    p.push(ins(RET_K, 0, 0, 0));
    for (at, jt) in to_drop {
        let off = (drop - at - 1) as u8;
        if jt {
            p[at].jt = off;
        } else {
            p[at].jf = off;
        }
    }
    for (at, jt) in to_sample {
        let off = (sample - at - 1) as u8;
        if jt {
            p[at].jt = off;
        } else {
            p[at].jf = off;
        }
    }
    p
}

/// Attaches a classic BPF program to a socket.
pub fn attach_classic(fd: BorrowedFd, program: &[libc::sock_filter]) -> io::Result<()> {
    socket::attach_filter(fd, program)
}

/// A classic program that takes nothing: what a socket gets when its
/// counts are to stop moving (the agent's last read at exit).
pub fn attach_nothing(fd: BorrowedFd) -> io::Result<()> {
    attach_classic(
        fd,
        &[libc::sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: 0,
        }],
    )
}

/// eBPF opcodes used here (linux/bpf.h, linux/bpf_common.h).
pub mod op {
    pub const MOV64_X: u8 = 0xbf; // ALU64 | MOV | X
    pub const MOV64_K: u8 = 0xb7; // ALU64 | MOV | K
    pub const ADD64_K: u8 = 0x07; // ALU64 | ADD | K
    pub const ADD32_K: u8 = 0x04; // ALU | ADD | K
    pub const MOD32_K: u8 = 0x94; // ALU | MOD | K
    pub const LDXW: u8 = 0x61; // LDX | MEM | W
    pub const STXW: u8 = 0x63; // STX | MEM | W
    pub const STW: u8 = 0x62; // ST | MEM | W
    pub const LD_IMM64: u8 = 0x18; // LD | IMM | DW (two slots)
    pub const LD_ABS_B: u8 = 0x30; // LD | ABS | B: a byte of the frame, from r6 = the skb
    pub const JEQ_K: u8 = 0x15;
    pub const JNE_K: u8 = 0x55;
    pub const JLE_K: u8 = 0xb5;
    pub const JSET_K: u8 = 0x45;
    pub const CALL: u8 = 0x85;
    pub const EXIT: u8 = 0x95;
}

/// Offsets in `struct __sk_buff`.
pub const SKB_PKT_TYPE: i16 = 4;
pub const SKB_PROTOCOL: i16 = 16;
pub const SKB_INGRESS_IFINDEX: i16 = 36;
/// Helper function numbers.
pub const FN_MAP_LOOKUP_ELEM: i32 = 1;
pub const FN_GET_PRANDOM_U32: i32 = 7;
/// `src_reg` of a `ld_imm64` that loads a map file descriptor.
pub const PSEUDO_MAP_FD: u8 = 1;

/// Where the two 32-bit words of a CPU's state are in its map value: the
/// candidates it counted (wrapping) and the candidates left before its
/// next sample.
const POOL_WORD: i16 = 0;
const COUNTDOWN_WORD: i16 = 4;

/// Places in a program that jumps go to before their offset is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Count,
    Sample,
    Drop,
}

/// A program being assembled, with forward jumps to labels patched at the
/// end.
#[derive(Default)]
struct Asm {
    p: Vec<Insn>,
    jumps: Vec<(usize, Label)>,
    labels: Vec<(Label, usize)>,
}

impl Asm {
    fn push(&mut self, code: u8, dst: u8, src: u8, off: i16, imm: i32) {
        self.p.push(Insn::new(code, dst, src, off, imm));
    }

    fn jump(&mut self, code: u8, dst: u8, imm: i32, to: Label) {
        self.jumps.push((self.p.len(), to));
        self.push(code, dst, 0, 0, imm);
    }

    fn label(&mut self, l: Label) {
        self.labels.push((l, self.p.len()));
    }

    fn finish(mut self) -> Vec<Insn> {
        for (at, to) in self.jumps {
            let target = self
                .labels
                .iter()
                .find(|(l, _)| *l == to)
                .map_or(at + 1, |&(_, t)| t);
            self.p[at].off = (target - at - 1) as i16;
        }
        self.p
    }
}

/// The eBPF sampling program: see the module documentation. `excluded`
/// lists the ifIndexes of the sampled interfaces (this one included); when
/// it is empty (a monitor interface, whose egress frames are frames
/// injected there), every frame is a candidate. `pool_map` is the
/// descriptor of the [`PoolMap`] made for `rate`.
///
/// The state a CPU keeps is updated with plain loads and stores, not
/// atomics: a socket filter runs from the packet taps with bottom halves
/// disabled (the receive softirq, or `__dev_queue_xmit` under
/// `rcu_read_lock_bh`), never from a hard interrupt, so no other run on the
/// same CPU can come between its load and its store, and no other CPU
/// touches this CPU's value. (A PREEMPT_RT kernel runs softirqs in
/// threads, where two runs could interleave and lose a count; OpenWrt and
/// the distributions' kernels are not built so.)
pub fn ebpf_program(rate: u32, snap_len: u32, pool_map: i32, excluded: &[u32]) -> Vec<Insn> {
    use op::*;
    let mut a = Asm::default();
    // r6: the skb, kept across calls (and where LD_ABS reads the frame).
    a.push(MOV64_X, 6, 1, 0, 0);
    if !excluded.is_empty() {
        a.push(LDXW, 0, 6, SKB_PKT_TYPE, 0);
        a.jump(JNE_K, 0, PACKET_OUTGOING as i32, Label::Count);
        // Egress frames that entered through a sampled interface were
        // candidates there.
        a.push(LDXW, 0, 6, SKB_INGRESS_IFINDEX, 0);
        for &index in excluded {
            a.jump(JEQ_K, 0, index as i32, Label::Drop);
        }
        // mac80211's relay copy of a group-addressed frame: the frame was
        // a candidate as received. `protocol` is in network byte order.
        a.push(LDXW, 0, 6, SKB_PROTOCOL, 0);
        a.jump(JNE_K, 0, i32::from(ETH_P_802_3.to_be()), Label::Count);
        a.push(LD_ABS_B, 0, 0, 0, 0);
        a.jump(JSET_K, 0, 1, Label::Drop);
    }
    a.label(Label::Count);
    // r0 = this CPU's state (key 0 on the stack).
    a.push(STW, 10, 0, -4, 0);
    a.push(MOV64_X, 2, 10, 0, 0);
    a.push(ADD64_K, 2, 0, 0, -4);
    a.push(LD_IMM64, 1, PSEUDO_MAP_FD, 0, pool_map);
    a.push(0, 0, 0, 0, 0);
    a.push(CALL, 0, 0, 0, FN_MAP_LOOKUP_ELEM);
    a.jump(JEQ_K, 0, 0, Label::Drop);
    // One more candidate.
    a.push(LDXW, 1, 0, POOL_WORD, 0);
    a.push(ADD32_K, 1, 0, 0, 1);
    a.push(STXW, 0, 1, POOL_WORD, 0);
    if rate > 1 {
        // Not this one: one fewer to go.
        a.push(LDXW, 1, 0, COUNTDOWN_WORD, 0);
        a.jump(JLE_K, 1, 1, Label::Sample);
        a.push(ADD32_K, 1, 0, 0, -1);
        a.push(STXW, 0, 1, COUNTDOWN_WORD, 0);
        a.push(MOV64_K, 0, 0, 0, 0);
        a.push(EXIT, 0, 0, 0, 0);
        // This one, and the skip to the next: 1 + random % (2N - 1).
        a.label(Label::Sample);
        a.push(MOV64_X, 7, 0, 0, 0);
        a.push(CALL, 0, 0, 0, FN_GET_PRANDOM_U32);
        a.push(MOD32_K, 0, 0, 0, skip_span(rate) as i32);
        a.push(ADD32_K, 0, 0, 0, 1);
        a.push(STXW, 7, 0, COUNTDOWN_WORD, 0);
    }
    a.push(MOV64_K, 0, 0, 0, snap_len as i32);
    a.push(EXIT, 0, 0, 0, 0);
    a.label(Label::Drop);
    a.push(MOV64_K, 0, 0, 0, 0);
    a.push(EXIT, 0, 0, 0, 0);
    a.finish()
}

/// How many skips there are to draw from at 1-in-`rate`: 1..=2N-1.
fn skip_span(rate: u32) -> u32 {
    rate.saturating_mul(2).saturating_sub(1).max(1)
}

/// A random skip at 1-in-`rate`, as the program draws them: uniform in
/// 1..=2N-1, mean N.
pub fn random_skip(rng: &mut Rng, rate: u32) -> u32 {
    1 + rng.below(skip_span(rate))
}

/// The map of the eBPF program: per CPU, the candidates it counted (32
/// bits, wrapping) and its countdown to the next sample, as the two
/// 32-bit words of one 64-bit value.
pub struct PoolMap {
    map: Map<u32, u64>,
    /// One slot per possible CPU.
    values: Vec<u64>,
}

/// The two words of a CPU's value: (pool, countdown).
fn words(value: u64) -> (u32, u32) {
    let b = value.to_ne_bytes();
    let word = |at: usize| u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    (word(POOL_WORD as usize), word(COUNTDOWN_WORD as usize))
}

fn value(pool: u32, countdown: u32) -> u64 {
    let mut b = [0u8; 8];
    b[POOL_WORD as usize..][..4].copy_from_slice(&pool.to_ne_bytes());
    b[COUNTDOWN_WORD as usize..][..4].copy_from_slice(&countdown.to_ne_bytes());
    u64::from_ne_bytes(b)
}

impl PoolMap {
    /// A map for sampling at 1-in-`rate`: every CPU starts at a random
    /// skip, as if it had just sampled (so that the first frames are not
    /// sampled more often than the others).
    pub fn create(rate: u32, rng: &mut Rng) -> io::Result<PoolMap> {
        let map = Map::create(MapType::PerCpuArray, 1)?;
        let values: Vec<u64> = (0..map.slots())
            .map(|_| value(0, random_skip(rng, rate)))
            .collect();
        map.update(&0u32, &values, 0)?;
        Ok(PoolMap { map, values })
    }

    /// Candidates counted so far, summed over the CPUs, modulo 2^32
    /// (`capture::PoolSource` follows the wraps).
    pub fn read(&mut self) -> io::Result<u32> {
        self.map.lookup(&0u32, &mut self.values)?;
        Ok(self
            .values
            .iter()
            .map(|&v| words(v).0)
            .fold(0, u32::wrapping_add))
    }

    /// The countdown of each CPU (tests).
    pub fn countdowns(&mut self) -> io::Result<Vec<u32>> {
        self.map.lookup(&0u32, &mut self.values)?;
        Ok(self.values.iter().map(|&v| words(v).1).collect())
    }

    pub fn raw_fd(&self) -> RawFd {
        self.map.raw_fd()
    }
}

/// Loads an eBPF socket filter. On failure the error carries the start of
/// the verifier's log.
pub fn load_ebpf(program: &[Insn]) -> io::Result<OwnedFd> {
    let mut log = vec![0u8; 4096];
    match bpf::prog_load(ProgType::SocketFilter, program, c"Dual MIT/GPL", &mut log) {
        Ok(fd) => Ok(fd),
        Err(e) => {
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]);
            let text = text.trim();
            if text.is_empty() {
                Err(e)
            } else {
                let last = text.lines().last().unwrap_or("");
                Err(io_error(e.kind(), format!("{e}: verifier: {last}")))
            }
        }
    }
}

/// Attaches a loaded eBPF program to a socket, replacing any filter.
pub fn attach_ebpf(fd: BorrowedFd, program: BorrowedFd) -> io::Result<()> {
    socket::setsockopt_int(
        fd,
        libc::SOL_SOCKET,
        libc::SO_ATTACH_BPF,
        program.as_raw_fd(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    /// What a frame looks like to a filter, for the interpreters below.
    #[derive(Debug, Clone, Copy)]
    struct Seen {
        pkt_type: u32,
        /// `skb->protocol` as a number (host order).
        protocol: u16,
        ingress_ifindex: u32,
        /// First byte of the destination address.
        dst0: u8,
    }

    const fn ingress(pkt_type: u32) -> Seen {
        Seen {
            pkt_type,
            protocol: 0x0800,
            ingress_ifindex: 2,
            dst0: 0x02,
        }
    }

    const fn egress(protocol: u16, ingress_ifindex: u32, dst0: u8) -> Seen {
        Seen {
            pkt_type: PACKET_OUTGOING,
            protocol,
            ingress_ifindex,
            dst0,
        }
    }

    /// Runs a classic BPF program the way the kernel's interpreter would,
    /// for the instructions we generate; `random` is what `ld rand` loads.
    fn run_classic(p: &[libc::sock_filter], f: Seen, random: u32) -> u32 {
        let ad = |what: i32| (libc::SKF_AD_OFF + what) as u32;
        let mut a = 0u32;
        let mut pc = 0;
        loop {
            let i = p[pc];
            match i.code {
                0x20 if i.k == ad(libc::SKF_AD_PKTTYPE) => a = f.pkt_type,
                0x20 if i.k == ad(libc::SKF_AD_RANDOM) => a = random,
                0x20 if i.k == ad(libc::SKF_AD_PROTOCOL) => a = u32::from(f.protocol),
                0x30 if i.k == 0 => a = u32::from(f.dst0),
                0x94 => a %= i.k,
                0x15 => pc += if a == i.k { i.jt } else { i.jf } as usize,
                0x45 => pc += if a & i.k != 0 { i.jt } else { i.jf } as usize,
                0x06 => return i.k,
                c => panic!("unexpected opcode {c:#x}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn classic_program_samples_ingress_one_in_n() {
        let p = classic_program(10, 128, ClassicEgress::None);
        assert_eq!(run_classic(&p, ingress(0), 20), 128);
        assert_eq!(run_classic(&p, ingress(0), 21), 0);
        assert_eq!(run_classic(&p, egress(0x0800, 0, 2), 20), 0);
        assert_eq!(run_classic(&p, ingress(3), 30), 128); // OTHERHOST: monitor frames
        let all = classic_program(1, 64, ClassicEgress::None);
        assert_eq!(run_classic(&all, ingress(1), 7), 64);
        assert_eq!(run_classic(&all, egress(0x0800, 0, 2), 7), 0);
    }

    #[test]
    fn classic_program_samples_egress_but_relay_copies() {
        for rate in [1, 10] {
            let p = classic_program(rate, 128, ClassicEgress::NotRelayCopies);
            let kept = |f: Seen| run_classic(&p, f, 40) == 128;
            assert!(kept(ingress(0)) && kept(ingress(1)));
            assert_eq!(run_classic(&p, ingress(0), 41), u32::from(rate == 1) * 128);
            // Sent by the host, forwarded, relayed unicast: candidates.
            assert!(kept(egress(0x0800, 0, 0xff)));
            assert!(kept(egress(0x86dd, 3, 0x33)));
            assert!(kept(egress(ETH_P_802_3, 0, 0x02)));
            assert_eq!(
                run_classic(&p, egress(0x0800, 0, 2), 41),
                u32::from(rate == 1) * 128
            );
            // mac80211's copy of a group-addressed frame it received.
            assert!(!kept(egress(ETH_P_802_3, 0, 0xff)));
            assert!(!kept(egress(ETH_P_802_3, 0, 0x01)));
        }
    }

    /// The state an eBPF interpreter run leaves: this CPU's map value.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct CpuValue {
        pool: u32,
        countdown: u32,
    }

    /// Runs one of our eBPF programs the way the kernel would, for the
    /// instructions we generate: `random` is what the prandom helper
    /// returns.
    fn run_ebpf(p: &[Insn], f: Seen, value: &mut CpuValue, random: u32) -> u32 {
        const VALUE: u64 = 0xdead_0000_0000_0000;
        const CTX: u64 = 0xc7c7_0000_0000_0000;
        let mut r = [0u64; 11];
        r[1] = CTX;
        let mut pc = 0;
        loop {
            let i = p[pc];
            let (d, s) = (i.dst() as usize, i.src() as usize);
            let imm = i.imm as i64 as u64;
            let mut jump = |taken: bool| {
                if taken {
                    pc = (pc as isize + i.off as isize) as usize;
                }
            };
            match i.code {
                op::MOV64_X => r[d] = r[s],
                op::MOV64_K => r[d] = imm,
                op::ADD64_K => r[d] = r[d].wrapping_add(imm),
                op::ADD32_K => r[d] = u64::from((r[d] as u32).wrapping_add(i.imm as u32)),
                op::MOD32_K => r[d] = u64::from(r[d] as u32 % i.imm as u32),
                op::LDXW if r[s] == CTX => {
                    r[d] = match i.off {
                        SKB_PKT_TYPE => u64::from(f.pkt_type),
                        // The field as stored: network byte order.
                        SKB_PROTOCOL => u64::from(f.protocol.to_be()),
                        SKB_INGRESS_IFINDEX => u64::from(f.ingress_ifindex),
                        o => panic!("ctx offset {o}"),
                    }
                }
                op::LDXW if r[s] == VALUE => {
                    r[d] = u64::from(match i.off {
                        POOL_WORD => value.pool,
                        COUNTDOWN_WORD => value.countdown,
                        o => panic!("value offset {o}"),
                    })
                }
                op::STXW if r[d] == VALUE => match i.off {
                    POOL_WORD => value.pool = r[s] as u32,
                    COUNTDOWN_WORD => value.countdown = r[s] as u32,
                    o => panic!("value offset {o}"),
                },
                op::STW if d == 10 => {}
                op::LD_IMM64 => {
                    assert_eq!(i.src(), PSEUDO_MAP_FD);
                    r[d] = 0x3a9;
                    pc += 1;
                }
                op::LD_ABS_B => {
                    assert_eq!(r[6], CTX, "LD_ABS reads the skb in r6");
                    r[0] = u64::from(f.dst0);
                }
                op::JEQ_K => jump(r[d] == imm),
                op::JNE_K => jump(r[d] != imm),
                op::JLE_K => jump(r[d] <= imm),
                op::JSET_K => jump(r[d] & imm != 0),
                op::CALL => {
                    r[0] = match i.imm {
                        FN_MAP_LOOKUP_ELEM => {
                            assert_eq!(r[1], 0x3a9, "the map");
                            VALUE
                        }
                        FN_GET_PRANDOM_U32 => u64::from(random),
                        h => panic!("helper {h}"),
                    };
                    // The helpers clobber r1-r5.
                    r[1..6].fill(0x5a5a);
                }
                op::EXIT => return r[0] as u32,
                c => panic!("unexpected opcode {c:#x} at {pc}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn ebpf_program_counts_every_candidate_once() {
        // ifIndex 2 is this interface, 5 another sampled one.
        let p = ebpf_program(1, 128, 7, &[2, 5]);
        let mut v = CpuValue::default();
        let mut run = |f: Seen| (run_ebpf(&p, f, &mut v, 0), v.pool);
        for pkt_type in [0, 1, 2, 3] {
            assert_eq!(run(ingress(pkt_type)).0, 128);
        }
        // Sent by the host, forwarded from an interface not sampled, a
        // unicast relay between two stations: candidates.
        assert_eq!(run(egress(0x0800, 0, 0xff)).0, 128);
        assert_eq!(run(egress(0x0800, 9, 0x02)).0, 128);
        assert_eq!(run(egress(ETH_P_802_3, 0, 0x02)), (128, 7));
        // Entered through a sampled interface (this one too), or
        // mac80211's relay copy of a group-addressed frame: not again.
        for f in [
            egress(0x0800, 5, 0x02),
            egress(0x0800, 2, 0xff),
            egress(ETH_P_802_3, 0, 0xff),
            egress(ETH_P_802_3, 0, 0x33),
        ] {
            assert_eq!(run(f), (0, 7), "{f:?}");
        }
        // A monitor (nothing excluded): every frame, relay marker or not.
        let p = ebpf_program(1, 200, 7, &[]);
        let mut v = CpuValue::default();
        assert_eq!(run_ebpf(&p, egress(ETH_P_802_3, 2, 0xff), &mut v, 0), 200);
        assert_eq!(v.pool, 1);
    }

    #[test]
    fn ebpf_program_samples_by_skip_count() {
        let p = ebpf_program(10, 128, 7, &[2]);
        // Three candidates to go: the third is sampled, and the next skip
        // is 1 + random % 19.
        let mut v = CpuValue {
            pool: u32::MAX - 1,
            countdown: 3,
        };
        let mut runs = (0..3).map(|_| run_ebpf(&p, ingress(0), &mut v, 45));
        assert_eq!(runs.by_ref().collect::<Vec<_>>(), [0, 0, 128]);
        assert_eq!(
            v,
            CpuValue {
                pool: 1, // wrapped
                countdown: 1 + 45 % 19,
            }
        );
        // A countdown of 0 (never left by the program) samples at once.
        v.countdown = 0;
        assert_eq!(run_ebpf(&p, ingress(0), &mut v, 0), 128);
        assert_eq!(v.countdown, 1);
        // Skips span 1..=2N-1 with mean N.
        assert_eq!(skip_span(10), 19);
        assert_eq!(skip_span(1), 1);
        assert_eq!(skip_span(MAX_RATE), 2 * MAX_RATE - 1);
        let mut rng = Rng::from_seed(3);
        let skips: Vec<u32> = (0..20_000).map(|_| random_skip(&mut rng, 10)).collect();
        assert!(skips.iter().all(|s| (1..=19).contains(s)));
        let mean = skips.iter().sum::<u32>() as f64 / skips.len() as f64;
        assert!((mean - 10.0).abs() < 0.2, "{mean}");
    }

    /// The largest rate the configuration allows: its skips still fit the
    /// program's 32-bit immediate.
    const MAX_RATE: u32 = crate::config::MAX_SAMPLING_RATE;

    #[test]
    fn the_kernel_verifier_accepts_every_variant() {
        // Needs the right to load BPF (root here); skipped otherwise.
        let mut rng = Rng::from_seed(1);
        let Ok(mut map) = PoolMap::create(10, &mut rng) else {
            eprintln!("skipped: cannot create BPF maps");
            return;
        };
        for (rate, excluded) in [
            (1, vec![]),
            (1, vec![4]),
            (400, vec![]),
            (10, vec![2, 3, 9]),
            (MAX_RATE, vec![1]),
        ] {
            let p = ebpf_program(rate, 128, map.raw_fd(), &excluded);
            if let Err(e) = load_ebpf(&p) {
                panic!("rate {rate}, excluded {excluded:?}: {e}");
            }
        }
        assert_eq!(map.read().unwrap(), 0);
        // Every CPU starts at a skip drawn for the rate.
        let countdowns = map.countdowns().unwrap();
        assert!(countdowns.iter().all(|c| (1..=19).contains(c)));
    }

    /// A broadcast Ethernet frame: in a test run, ingress (BROADCAST).
    fn test_frame() -> [u8; 64] {
        let mut frame = [0u8; 64];
        frame[..6].fill(0xff);
        frame[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        frame
    }

    /// The program run by the kernel on test frames (BPF_PROG_TEST_RUN):
    /// every run is a candidate counted in the pool, and at 1-in-1 every
    /// frame is kept to the snap length. Root only; skipped otherwise.
    #[test]
    fn the_kernel_runs_the_program_counting_every_candidate() {
        let mut rng = Rng::from_seed(2);
        let Ok(mut map) = PoolMap::create(1, &mut rng) else {
            eprintln!("skipped: cannot create BPF maps");
            return;
        };
        let prog = load_ebpf(&ebpf_program(1, 128, map.raw_fd(), &[4])).unwrap();
        let run = bpf::prog_test_run(prog.as_fd(), &test_frame(), 250).unwrap();
        assert_eq!(run.retval, 128);
        assert_eq!(map.read().unwrap(), 250);
        // 1-in-a-million: the pool still counts every run.
        let mut map = PoolMap::create(1_000_000, &mut rng).unwrap();
        let prog = load_ebpf(&ebpf_program(1_000_000, 128, map.raw_fd(), &[])).unwrap();
        bpf::prog_test_run(prog.as_fd(), &test_frame(), 50).unwrap();
        assert_eq!(map.read().unwrap(), 50);
    }

    /// Samples drawn by the kernel, one test run at a time: their count
    /// is within 4σ of runs/N (σ of a binomial draw, which the skip
    /// sampler's is below: its gaps vary less) and the pool counts every
    /// run. Root only; skipped otherwise.
    #[test]
    fn the_kernel_samples_one_in_n() {
        const RATE: u32 = 50;
        const RUNS: u32 = 40_000;
        let mut rng = Rng::from_seed(4);
        let Ok(mut map) = PoolMap::create(RATE, &mut rng) else {
            eprintln!("skipped: cannot create BPF maps");
            return;
        };
        let prog = load_ebpf(&ebpf_program(RATE, 128, map.raw_fd(), &[4])).unwrap();
        let frame = test_frame();
        let mut samples = 0u32;
        for _ in 0..RUNS {
            if bpf::prog_test_run(prog.as_fd(), &frame, 1).unwrap().retval != 0 {
                samples += 1;
            }
        }
        let n = f64::from(RUNS);
        let p = 1.0 / f64::from(RATE);
        let sigma = (n * p * (1.0 - p)).sqrt();
        println!(
            "{samples} samples of {RUNS} runs at 1-in-{RATE} (expected {:.0} ± {:.0} at 4σ)",
            n * p,
            4.0 * sigma
        );
        assert!((f64::from(samples) - n * p).abs() <= 4.0 * sigma);
        assert_eq!(map.read().unwrap(), RUNS);
    }
}
