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
use std::mem;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::sys::cvt;

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
    let prog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&prog as *const libc::sock_fprog).cast(),
            mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// One eBPF instruction (`struct bpf_insn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    code: u8,
    /// `dst_reg:4, src_reg:4` bit fields: which nibble holds which register
    /// depends on the target's byte order (the C compiler allocates bit
    /// fields from the most significant bit on big-endian targets).
    regs: u8,
    off: i16,
    imm: i32,
}

impl Insn {
    const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        #[cfg(target_endian = "little")]
        let regs = (src << 4) | (dst & 0x0f);
        #[cfg(target_endian = "big")]
        let regs = (dst << 4) | (src & 0x0f);
        Insn {
            code,
            regs,
            off,
            imm,
        }
    }

    pub fn dst(&self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs & 0x0f
        } else {
            self.regs >> 4
        }
    }

    pub fn src(&self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs >> 4
        } else {
            self.regs & 0x0f
        }
    }
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

/// `bpf(2)` commands and types.
const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_LOOKUP_ELEM: libc::c_long = 1;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
const BPF_PROG_TYPE_SOCKET_FILTER: u32 = 1;

/// `union bpf_attr`, as bytes: large enough for the commands used, zeroed
/// beyond what we set, as the kernel requires.
#[repr(C, align(8))]
struct Attr([u8; 128]);

impl Attr {
    fn new() -> Attr {
        Attr([0; 128])
    }
    fn u32(&mut self, at: usize, v: u32) -> &mut Self {
        self.0[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn u64(&mut self, at: usize, v: u64) -> &mut Self {
        self.0[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn call(&mut self, cmd: libc::c_long) -> io::Result<i32> {
        let r = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                cmd,
                self.0.as_mut_ptr(),
                mem::size_of::<Attr>() as libc::c_uint,
            )
        };
        cvt(r).map(|r| r as i32)
    }
}

/// Number of possible CPUs: the per-CPU map's value has one slot each.
fn possible_cpus() -> usize {
    // "0-3", "0", "0-1,4-5": count every CPU in every range.
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible").unwrap_or_default();
    let mut n = 0;
    for part in text.trim().split(',') {
        let mut ends = part.split('-').map(|v| v.trim().parse::<usize>().ok());
        match (ends.next().flatten(), ends.next().flatten()) {
            (Some(a), Some(b)) if b >= a => n += b - a + 1,
            (Some(_), None) => n += 1,
            _ => {}
        }
    }
    if n == 0 {
        n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) }.max(1) as usize;
    }
    n
}

/// The per-CPU counter of candidate frames.
pub struct PoolMap {
    fd: OwnedFd,
    cpus: usize,
    values: Vec<u64>,
}

impl PoolMap {
    pub fn create() -> io::Result<PoolMap> {
        let fd = Attr::new()
            .u32(0, BPF_MAP_TYPE_PERCPU_ARRAY)
            .u32(4, 4)
            .u32(8, 8)
            .u32(12, 1)
            .call(BPF_MAP_CREATE)?;
        let cpus = possible_cpus();
        Ok(PoolMap {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            cpus,
            values: vec![0; cpus],
        })
    }

    /// Candidates counted so far, summed over the CPUs.
    pub fn read(&mut self) -> io::Result<u64> {
        let key = 0u32;
        Attr::new()
            .u32(0, self.fd.as_raw_fd() as u32)
            .u64(8, &key as *const u32 as u64)
            .u64(16, self.values.as_mut_ptr() as u64)
            .call(BPF_MAP_LOOKUP_ELEM)?;
        Ok(self.values[..self.cpus]
            .iter()
            .copied()
            .fold(0, u64::wrapping_add))
    }

    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

/// Loads an eBPF socket filter. On failure the error carries the start of
/// the verifier's log.
pub fn load_ebpf(program: &[Insn]) -> io::Result<OwnedFd> {
    static LICENSE: &[u8] = b"Dual MIT/GPL\0";
    let mut log = vec![0u8; 4096];
    let mut attr = Attr::new();
    attr.u32(0, BPF_PROG_TYPE_SOCKET_FILTER)
        .u32(4, program.len() as u32)
        .u64(8, program.as_ptr() as u64)
        .u64(16, LICENSE.as_ptr() as u64)
        .u32(24, 1)
        .u32(28, log.len() as u32)
        .u64(32, log.as_mut_ptr() as u64);
    match attr.call(BPF_PROG_LOAD) {
        Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
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
    crate::sys::setsockopt_int(
        fd,
        libc::SOL_SOCKET,
        libc::SO_ATTACH_BPF,
        program.as_raw_fd(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn ebpf_jumps_land_on_drop_and_registers_follow_byte_order() {
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
        let mov = Insn::new(op::MOV64_X, 6, 1, 0, 0);
        assert_eq!((mov.dst(), mov.src()), (6, 1));
        let bytes: [u8; 8] = unsafe { std::mem::transmute(mov) };
        if cfg!(target_endian = "big") {
            assert_eq!(bytes[1], 0x61);
        } else {
            assert_eq!(bytes[1], 0x16);
        }
        assert_eq!(std::mem::size_of::<Insn>(), 8);
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
}
