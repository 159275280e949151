//! Kernel-side 1-in-N sampling: socket filters that let only the sampled
//! frames reach the ring, so that unsampled frames cost a few instructions
//! in the kernel and nothing in user space.
//!
//! Two programs, chosen at run time:
//!
//! - **eBPF** (needs `CONFIG_BPF_SYSCALL` and the right to load socket
//!   filters): counts every candidate frame in a per-CPU array (an exact
//!   `sample_pool`), leaves out egress frames that entered through another
//!   sampled interface (so a bridged or routed frame is a candidate once,
//!   where it entered), and samples with `bpf_get_prandom_u32() % N`.
//! - **Classic BPF** (every kernel): samples ingress frames with the
//!   random ancillary load (`ld rand; mod #N`). It cannot tell where an
//!   egress frame entered, so it samples ingress only, which still counts
//!   every forwarded frame once; the pool comes from the interface's
//!   receive counter.
//!
//! The eBPF program is assembled here (no compiler, no libbpf): a dozen
//! instructions whose encoding follows the target's byte order.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::sys::bpf::{self, Insn, Map, MapType, ProgType};
use crate::sys::socket;

/// `sll_pkttype` of frames the host sends.
const PACKET_OUTGOING: u32 = 4;

/// Classic BPF for ingress-only 1-in-`rate` sampling, keeping `snap_len`
/// bytes of each sampled frame.
pub fn classic_program(rate: u32, snap_len: u32) -> Vec<libc::sock_filter> {
    const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const MOD_K: u16 = 0x94; // BPF_ALU | BPF_MOD | BPF_K
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
    let ins = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    let ancillary = |what: i32| (libc::SKF_AD_OFF + what) as u32;
    let mut p = vec![
        ins(LD_W_ABS, 0, 0, ancillary(libc::SKF_AD_PKTTYPE)),
        // Outgoing: drop (jump to the last instruction, patched below).
        ins(JEQ_K, 0, 0, PACKET_OUTGOING),
    ];
    if rate > 1 {
        p.push(ins(LD_W_ABS, 0, 0, ancillary(libc::SKF_AD_RANDOM)));
        p.push(ins(MOD_K, 0, 0, rate));
        // Not zero: drop.
        p.push(ins(JEQ_K, 0, 0, 0));
    }
    p.push(ins(RET_K, 0, 0, snap_len));
    p.push(ins(RET_K, 0, 0, 0));
    let drop = p.len() - 1;
    p[1].jt = (drop - 2) as u8;
    if rate > 1 {
        // jeq #0: sampled falls through to `ret #snap_len`, else drop.
        p[4].jf = (drop - 5) as u8;
    }
    p
}

/// Attaches a classic BPF program to a socket.
pub fn attach_classic(fd: BorrowedFd, program: &[libc::sock_filter]) -> io::Result<()> {
    socket::attach_filter(fd, program)
}

/// eBPF opcodes used here (linux/bpf.h, linux/bpf_common.h).
mod op {
    pub const MOV64_X: u8 = 0xbf; // ALU64 | MOV | X
    pub const MOV64_K: u8 = 0xb7; // ALU64 | MOV | K
    pub const ADD64_K: u8 = 0x07; // ALU64 | ADD | K
    pub const MOD32_K: u8 = 0x94; // ALU | MOD | K
    pub const LDXW: u8 = 0x61; // LDX | MEM | W
    pub const STW: u8 = 0x62; // ST | MEM | W
    pub const XADD64: u8 = 0xdb; // STX | ATOMIC | DW, imm = BPF_ADD
    pub const LD_IMM64: u8 = 0x18; // LD | IMM | DW (two slots)
    pub const JEQ_K: u8 = 0x15;
    pub const JNE_K: u8 = 0x55;
    pub const CALL: u8 = 0x85;
    pub const EXIT: u8 = 0x95;
}

/// Offsets in `struct __sk_buff`.
const SKB_PKT_TYPE: i16 = 4;
const SKB_INGRESS_IFINDEX: i16 = 36;
/// Helper function numbers.
const FN_MAP_LOOKUP_ELEM: i32 = 1;
const FN_GET_PRANDOM_U32: i32 = 7;
/// `src_reg` of a `ld_imm64` that loads a map file descriptor.
const PSEUDO_MAP_FD: u8 = 1;

/// The eBPF sampling program: see the module documentation. `excluded`
/// lists the ifIndexes of the sampled interfaces (this one included).
pub fn ebpf_program(rate: u32, snap_len: u32, pool_map: i32, excluded: &[u32]) -> Vec<Insn> {
    use op::*;
    let mut p = vec![
        Insn::new(MOV64_X, 6, 1, 0, 0),
        Insn::new(LDXW, 0, 6, SKB_PKT_TYPE, 0),
    ];
    // Egress frames that entered through a sampled interface were
    // candidates there: skip over the exclusion tests unless outgoing.
    if !excluded.is_empty() {
        p.push(Insn::new(
            JNE_K,
            0,
            0,
            1 + excluded.len() as i16,
            PACKET_OUTGOING as i32,
        ));
        p.push(Insn::new(LDXW, 0, 6, SKB_INGRESS_IFINDEX, 0));
        for (i, &index) in excluded.iter().enumerate() {
            // Jump offsets to `drop` are patched once its place is known.
            let _ = i;
            p.push(Insn::new(JEQ_K, 0, 0, 0, index as i32));
        }
    }
    let exclusion_jumps: Vec<usize> = (p.len() - excluded.len()..p.len()).collect();
    // Count the candidate: pool[0] += 1 on this CPU.
    p.extend([
        Insn::new(STW, 10, 0, -4, 0),
        Insn::new(MOV64_X, 2, 10, 0, 0),
        Insn::new(ADD64_K, 2, 0, 0, -4),
        Insn::new(LD_IMM64, 1, PSEUDO_MAP_FD, 0, pool_map),
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
    // The verifier refuses unreachable code: `drop` only if jumped to.
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

/// The per-CPU counter of candidate frames.
pub struct PoolMap {
    map: Map<u32, u64>,
    /// One slot per possible CPU.
    values: Vec<u64>,
}

impl PoolMap {
    pub fn create() -> io::Result<PoolMap> {
        let map = Map::create(MapType::PerCpuArray, 1)?;
        let values = vec![0; map.slots()];
        Ok(PoolMap { map, values })
    }

    /// Candidates counted so far, summed over the CPUs.
    pub fn read(&mut self) -> io::Result<u64> {
        self.map.lookup(&0u32, &mut self.values)?;
        Ok(self.values.iter().copied().fold(0, u64::wrapping_add))
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
                Err(io::Error::new(e.kind(), format!("{e}: verifier: {last}")))
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

    /// Runs a classic BPF program over (pkttype, random) the way the
    /// kernel's interpreter would, for the instructions we generate.
    fn run_classic(p: &[libc::sock_filter], pkttype: u32, random: u32) -> u32 {
        let mut a = 0u32;
        let mut pc = 0;
        loop {
            let i = p[pc];
            match i.code {
                0x20 if i.k == (libc::SKF_AD_OFF + libc::SKF_AD_PKTTYPE) as u32 => a = pkttype,
                0x20 if i.k == (libc::SKF_AD_OFF + libc::SKF_AD_RANDOM) as u32 => a = random,
                0x94 => a %= i.k,
                0x15 => {
                    pc += if a == i.k { i.jt } else { i.jf } as usize;
                }
                0x06 => return i.k,
                c => panic!("unexpected opcode {c:#x}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn classic_program_samples_ingress_one_in_n() {
        let p = classic_program(10, 128);
        assert_eq!(run_classic(&p, 0, 20), 128);
        assert_eq!(run_classic(&p, 0, 21), 0);
        assert_eq!(run_classic(&p, PACKET_OUTGOING, 20), 0);
        assert_eq!(run_classic(&p, 3, 30), 128); // OTHERHOST: monitor frames
        let all = classic_program(1, 64);
        assert_eq!(run_classic(&all, 1, 7), 64);
        assert_eq!(run_classic(&all, PACKET_OUTGOING, 7), 0);
    }

    #[test]
    fn ebpf_jumps_land_on_drop() {
        let p = ebpf_program(400, 128, 5, &[3, 7]);
        let drop = p.len() - 2;
        for (at, i) in p.iter().enumerate() {
            let jumps = i.code == op::JEQ_K || i.code == op::JNE_K;
            if jumps && i.off != 0 {
                let target = at + 1 + i.off as usize;
                assert!(target <= drop, "jump at {at} past the end");
            }
        }
        // Exclusions jump to drop; so does the random test.
        assert!(p
            .iter()
            .enumerate()
            .any(|(at, i)| i.code == op::JEQ_K && i.imm == 7 && at + 1 + i.off as usize == drop));
    }

    #[test]
    fn the_kernel_verifier_accepts_every_variant() {
        // Needs the right to load BPF (root here); skipped otherwise.
        let Ok(mut map) = PoolMap::create() else {
            eprintln!("skipped: cannot create BPF maps");
            return;
        };
        for (rate, excluded) in [
            (1, vec![]),
            (1, vec![4]),
            (400, vec![]),
            (10, vec![2, 3, 9]),
        ] {
            let p = ebpf_program(rate, 128, map.raw_fd(), &excluded);
            if let Err(e) = load_ebpf(&p) {
                panic!("rate {rate}, excluded {excluded:?}: {e}");
            }
        }
        assert_eq!(map.read().unwrap(), 0);
    }

    /// The program run by the kernel on test frames (BPF_PROG_TEST_RUN):
    /// every run is a candidate counted in the pool, and at 1-in-1 every
    /// frame is kept to the snap length. Root only; skipped otherwise.
    #[test]
    fn the_kernel_runs_the_program_counting_every_candidate() {
        let Ok(mut map) = PoolMap::create() else {
            eprintln!("skipped: cannot create BPF maps");
            return;
        };
        let prog = load_ebpf(&ebpf_program(1, 128, map.raw_fd(), &[4])).unwrap();
        // A broadcast Ethernet frame: ingress (PACKET_BROADCAST).
        let mut frame = [0u8; 64];
        frame[..6].fill(0xff);
        frame[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        let run = bpf::prog_test_run(prog.as_fd(), &frame, 250).unwrap();
        assert_eq!(run.retval, 128);
        assert_eq!(map.read().unwrap(), 250);
        // 1-in-a-million: the pool still counts every run.
        let prog = load_ebpf(&ebpf_program(1_000_000, 128, map.raw_fd(), &[])).unwrap();
        bpf::prog_test_run(prog.as_fd(), &frame, 50).unwrap();
        assert_eq!(map.read().unwrap(), 300);
    }
}
