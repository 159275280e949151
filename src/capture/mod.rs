//! Frame sampling on one interface: an AF_PACKET socket whose filter
//! samples 1-in-N in the kernel ([`filter`]) and a TPACKET_V3 ring through
//! which the sampled frames arrive ([`ring`]).
//!
//! Unsampled frames never reach user space. The sample pool is counted
//! exactly: by the eBPF program where it can be loaded, otherwise from the
//! interface's receive counter (the classic filter samples ingress only).
//! Samples lost because the ring was full are counted as drops.

pub mod filter;
pub mod ring;

use std::fs::File;
use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::fs::FileExt;

use crate::sys::cvt;
use filter::PoolMap;
use ring::{Ring, RingGeometry};

/// `sll_pkttype` values (linux/if_packet.h).
pub mod packet_type {
    pub const HOST: u8 = 0;
    pub const BROADCAST: u8 = 1;
    pub const MULTICAST: u8 = 2;
    pub const OTHERHOST: u8 = 3;
    pub const OUTGOING: u8 = 4;
}

/// Link-layer type of a monitor interface (radiotap + 802.11).
pub const ARPHRD_IEEE80211_RADIOTAP: u16 = 803;

/// Default ring size per interface: small, a router has little memory.
pub const DEFAULT_RING_BYTES: u32 = 256 * 1024;

/// Whether a frame entered or left the device through the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

/// A sampled frame, borrowed from the ring.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// The first bytes of the frame (at most the snap length).
    pub data: &'a [u8],
    /// Length of the whole frame as the kernel saw it.
    pub length: u32,
    pub if_index: u32,
    pub packet_type: u8,
    /// ARPHRD_* link type of the interface.
    pub hw_type: u16,
}

impl Frame<'_> {
    pub fn direction(&self) -> Direction {
        if self.packet_type == packet_type::OUTGOING {
            Direction::Egress
        } else {
            Direction::Ingress
        }
    }
}

/// Cumulative counts of a data source, carried over when its socket is
/// re-opened so that collectors see monotonic figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureCounts {
    /// Frames that could have been sampled.
    pub pool: u64,
    /// Sampled frames lost because the ring was full.
    pub drops: u64,
    /// Frames sampled and read.
    pub samples: u64,
    /// Frames the filter accepted (read or dropped), as the kernel counts.
    pub accepted: u64,
}

/// How the kernel samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// eBPF: both directions, each frame once, exact pool.
    Ebpf,
    /// Classic BPF: ingress only, pool from the receive counter.
    Classic,
}

impl Method {
    pub fn describe(self) -> &'static str {
        match self {
            Method::Ebpf => "eBPF filter, exact pool",
            Method::Classic => "classic BPF filter, ingress only, pool from rx_packets",
        }
    }
}

/// What to capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureConfig {
    pub if_index: u32,
    /// Interface name (for its receive counter in sysfs).
    pub device: String,
    pub sampling_rate: u32,
    /// Bytes of each sampled frame to keep.
    pub snap_len: u32,
    pub ring_bytes: u32,
    /// The sampled interfaces, this one included: a frame leaving through
    /// this one that entered through one of them was a candidate there.
    pub excluded: Vec<u32>,
    pub filter: FilterChoice,
}

/// Which filters may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FilterChoice {
    /// eBPF if the kernel allows it, else classic BPF.
    #[default]
    Auto,
    /// eBPF or nothing.
    EbpfOnly,
    /// Classic BPF only.
    ClassicOnly,
}

/// Where the pool comes from.
enum PoolSource {
    Map(PoolMap),
    RxPackets(File),
}

impl PoolSource {
    fn read(&mut self) -> io::Result<u64> {
        match self {
            PoolSource::Map(m) => m.read(),
            PoolSource::RxPackets(f) => {
                let mut buf = [0u8; 24];
                let n = f.read_at(&mut buf, 0)?;
                std::str::from_utf8(&buf[..n])
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad rx_packets"))
            }
        }
    }
}

/// Blocks handled per wakeup before yielding to the other event sources.
pub const BLOCK_BUDGET: u32 = 4;

pub struct PacketCapture {
    // Field order matters for drop: the ring is unmapped before the socket
    // closes.
    ring: Ring,
    fd: OwnedFd,
    config: CaptureConfig,
    method: Method,
    pool: PoolSource,
    /// Pool source reading when the socket opened.
    pool_origin: u64,
    /// Counts carried from earlier sockets of the same data source.
    carry: CaptureCounts,
    counts: CaptureCounts,
}

impl PacketCapture {
    /// Opens a sampling socket on `config.if_index`, continuing the counts
    /// in `carry`.
    pub fn open(config: CaptureConfig, carry: CaptureCounts) -> io::Result<Self> {
        // Protocol 0 at creation: the socket receives nothing until it is
        // bound below, after its filter and ring are in place.
        let fd = cvt(unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                0,
            )
        })?;
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let (method, pool) = attach_filter(fd.as_fd(), &config)?;
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u32;
        let ring = Ring::new(
            fd.as_fd(),
            RingGeometry::new(config.ring_bytes, config.snap_len, page),
        )?;
        let mut sll: libc::sockaddr_ll = unsafe { mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        sll.sll_ifindex = config.if_index as i32;
        cvt(unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        })?;
        let mut pool = pool;
        let pool_origin = pool.read()?;
        Ok(PacketCapture {
            ring,
            fd,
            config,
            method,
            pool,
            pool_origin,
            carry,
            counts: carry,
        })
    }

    pub fn config(&self) -> &CaptureConfig {
        &self.config
    }

    pub fn method(&self) -> Method {
        self.method
    }

    pub fn ring_bytes(&self) -> usize {
        self.ring.geometry().bytes()
    }

    /// Changes the sampling rate and the excluded interfaces in place: a new
    /// filter replaces the old one atomically, no frame is lost and the
    /// ring stays.
    pub fn update_filter(&mut self, rate: u32, excluded: &[u32]) -> io::Result<()> {
        if rate == self.config.sampling_rate && excluded == self.config.excluded {
            return Ok(());
        }
        self.config.sampling_rate = rate;
        self.config.excluded = excluded.to_vec();
        match (&self.pool, self.method) {
            (PoolSource::Map(map), Method::Ebpf) => {
                let program = filter::ebpf_program(
                    rate,
                    self.config.snap_len,
                    map.raw_fd(),
                    &self.config.excluded,
                );
                let prog = filter::load_ebpf(&program)?;
                filter::attach_ebpf(self.fd.as_fd(), prog.as_fd())
            }
            _ => filter::attach_classic(
                self.fd.as_fd(),
                &filter::classic_program(rate, self.config.snap_len),
            ),
        }
    }

    /// The counts now, pool read from the kernel.
    pub fn counts(&mut self) -> CaptureCounts {
        self.account_drops();
        if let Ok(now) = self.pool.read() {
            let pool = self.carry.pool + now.wrapping_sub(self.pool_origin);
            self.counts.pool = self.counts.pool.max(pool);
        }
        self.counts
    }

    /// Reads the sampled frames the kernel has handed over (at most
    /// [`BLOCK_BUDGET`] blocks), calling `on_sample` for each with the
    /// counts at that frame. Returns the number of frames read.
    ///
    /// The pool is read once per batch, after the frames of the batch were
    /// written by the kernel: the batch's increase is spread evenly over
    /// its k frames (the i-th gets `start + ⌈i·(end − start)/k⌉`), so the
    /// pool is exact at the end of each batch, strictly increasing, and
    /// each sample stands for about N candidates. A collector that takes
    /// `Δpool / Δsequence` sample by sample (sfacctd, sflowtool's users)
    /// then sees each sample as N packets, not the first of a batch as the
    /// whole batch and the others as one.
    pub fn read_pending(
        &mut self,
        mut on_sample: impl FnMut(&Frame, &CaptureCounts),
    ) -> io::Result<usize> {
        let (blocks, pending) = self.ring.ready(BLOCK_BUDGET);
        self.account_drops();
        if pending == 0 {
            return Ok(0);
        }
        let now = self.pool.read()?;
        let batch_end = self.carry.pool + now.wrapping_sub(self.pool_origin);
        let counts = &mut self.counts;
        let mut spread = PoolSpread::new(counts.pool, batch_end, pending as u64);
        let read = self.ring.drain(blocks, |f| {
            counts.pool = spread.next();
            counts.samples += 1;
            let frame = Frame {
                data: f.data,
                length: f.length,
                if_index: f.if_index,
                packet_type: f.packet_type,
                hw_type: f.hw_type,
            };
            on_sample(&frame, counts);
        });
        Ok(read)
    }

    /// Sampled frames the kernel could not put in the full ring.
    fn account_drops(&mut self) {
        let mut stats: libc::tpacket_stats_v3 = unsafe { mem::zeroed() };
        let mut len = mem::size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut stats as *mut libc::tpacket_stats_v3).cast(),
                &mut len,
            )
        };
        if rc == 0 {
            // tp_packets includes the drops.
            self.counts.drops += u64::from(stats.tp_drops);
            self.counts.accepted += u64::from(stats.tp_packets);
        }
    }
}

/// The pools of the k samples of one batch: the batch's increase, from the
/// pool before it to the pool read after it, spread evenly over them.
#[derive(Debug, Clone, Copy)]
struct PoolSpread {
    start: u64,
    increase: u64,
    k: u64,
    i: u64,
    last: u64,
}

impl PoolSpread {
    fn new(start: u64, end: u64, k: u64) -> PoolSpread {
        PoolSpread {
            start,
            increase: end.saturating_sub(start),
            k: k.max(1),
            i: 0,
            last: start,
        }
    }

    /// The next sample's pool. Strictly increasing even when the kernel's
    /// count is behind (more frames than the increase, or more frames read
    /// than announced): every sample was a candidate.
    fn next(&mut self) -> u64 {
        self.i += 1;
        let i = self.i.min(self.k);
        // ⌈i·increase/k⌉ without overflow: increase < 2^64 and i ≤ k, so
        // the 128-bit product is exact.
        let share = (u128::from(i) * u128::from(self.increase)).div_ceil(u128::from(self.k));
        let pool = self.start + share as u64;
        self.last = pool.max(self.last + 1);
        self.last
    }
}

/// Attaches the best filter the kernel accepts.
fn attach_filter(fd: BorrowedFd, config: &CaptureConfig) -> io::Result<(Method, PoolSource)> {
    if config.filter != FilterChoice::ClassicOnly {
        match try_ebpf(fd, config) {
            Ok(map) => return Ok((Method::Ebpf, PoolSource::Map(map))),
            Err(e) if config.filter == FilterChoice::EbpfOnly => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("eBPF sampling filter: {e}"),
                ))
            }
            Err(e) => {
                crate::debug!(
                    "{}: eBPF sampling unavailable ({e}): using classic BPF",
                    config.device
                )
            }
        }
    }
    filter::attach_classic(
        fd,
        &filter::classic_program(config.sampling_rate, config.snap_len),
    )?;
    let path = format!("/sys/class/net/{}/statistics/rx_packets", config.device);
    let counter =
        File::open(&path).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
    Ok((Method::Classic, PoolSource::RxPackets(counter)))
}

fn try_ebpf(fd: BorrowedFd, config: &CaptureConfig) -> io::Result<PoolMap> {
    let map = PoolMap::create()?;
    let program = filter::ebpf_program(
        config.sampling_rate,
        config.snap_len,
        map.raw_fd(),
        &config.excluded,
    );
    let prog = filter::load_ebpf(&program)?;
    filter::attach_ebpf(fd, prog.as_fd())?;
    Ok(map)
}

impl AsFd for PacketCapture {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Also used by the agent: whether a socket error is pending, cleared.
pub fn take_socket_error(fd: BorrowedFd) -> io::Result<()> {
    let mut err: i32 = 0;
    let mut len = mem::size_of::<i32>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut err as *mut i32).cast(),
            &mut len,
        )
    };
    if rc == 0 && err != 0 {
        return Err(io::Error::from_raw_os_error(err));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::PoolSpread;

    fn spread(start: u64, end: u64, k: u64) -> Vec<u64> {
        let mut s = PoolSpread::new(start, end, k);
        (0..k).map(|_| s.next()).collect()
    }

    #[test]
    fn a_batch_increase_is_spread_evenly() {
        // 1-in-100: 4 samples over 400 candidates stand for 100 each.
        assert_eq!(spread(1000, 1400, 4), [1100, 1200, 1300, 1400]);
        // Uneven: shares differ by at most one, the last is exact.
        let p = spread(0, 10, 3);
        assert_eq!(p, [4, 7, 10]);
        let mut prev = 0;
        for pool in spread(7, 100_007, 97) {
            let d = pool - prev;
            assert!(prev == 0 || (1030..=1031).contains(&d), "{d}");
            prev = pool;
        }
        assert_eq!(prev, 100_007);
    }

    #[test]
    fn pools_increase_even_when_the_count_is_behind() {
        // More frames than the increase, or a count that did not move.
        assert_eq!(spread(50, 52, 4), [51, 52, 53, 54]);
        assert_eq!(spread(50, 40, 3), [51, 52, 53]);
        // More frames read than announced: each one more.
        let mut s = PoolSpread::new(0, 20, 2);
        assert_eq!([s.next(), s.next(), s.next()], [10, 20, 21]);
        // No overflow near the top.
        assert_eq!(
            spread(u64::MAX - 10, u64::MAX - 1, 3),
            [u64::MAX - 7, u64::MAX - 4, u64::MAX - 1]
        );
    }
}
