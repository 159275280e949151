//! Frame sampling on one interface: an AF_PACKET socket whose filter
//! samples 1-in-N in the kernel ([`filter`]) and a TPACKET_V3 ring through
//! which the sampled frames arrive ([`ring`]).
//!
//! Unsampled frames never reach user space. The sample pool is counted
//! exactly by the eBPF program where it can be loaded, otherwise taken from
//! the interface's counters. Samples lost because the ring was full are
//! counted as drops.

pub mod filter;
pub mod ring;

use crate::io_error::io_error;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use crate::rng::Rng;
use crate::sys::socket::{self, PacketAddr};
pub use filter::ClassicEgress;
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

/// Default ring size per interface: small, a router has little memory.
pub const DEFAULT_RING_BYTES: u32 = 256 * 1024;

/// Whether a frame entered or left the device through the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

/// A sampled frame, borrowed from the ring, as the kernel described it.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// The first bytes of the frame (at most the snap length).
    pub data: &'a [u8],
    /// Length of the whole frame as the kernel saw it.
    pub length: u32,
    pub if_index: u32,
    pub packet_type: u8,
    /// ARPHRD_* link type of the interface (`libc::ARPHRD_*`; 803,
    /// `ARPHRD_IEEE80211_RADIOTAP`, for a monitor interface).
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
    /// Classic BPF, both directions (no other sampled interface can
    /// forward frames out of this one), pool from the interface's
    /// counters.
    Classic,
    /// Classic BPF, ingress only: another sampled interface could forward
    /// frames out of this one, and classic BPF cannot tell them.
    ClassicIngress,
}

impl Method {
    pub fn describe(self) -> &'static str {
        match self {
            Method::Ebpf => "eBPF filter, exact pool",
            Method::Classic => "classic BPF filter, both directions, pool from rx+tx packets",
            Method::ClassicIngress => {
                "classic BPF filter, ingress only (other sampled interfaces could forward \
                 into it), pool from rx_packets"
            }
        }
    }
}

/// What to capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureConfig {
    pub if_index: u32,
    /// Interface name (for its counters in sysfs).
    pub device: String,
    pub sampling_rate: u32,
    /// Bytes of each sampled frame to keep.
    pub snap_len: u32,
    pub ring_bytes: u32,
    /// The sampled interfaces, this one included: a frame leaving through
    /// this one that entered through one of them was a candidate there.
    /// Empty for a monitor interface (every frame is a candidate).
    pub excluded: Vec<u32>,
    /// What a classic filter takes of the egress frames (it cannot read
    /// where a frame entered): all but relay copies only where no other
    /// sampled interface forwards into this one.
    pub classic_egress: ClassicEgress,
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

/// How long a replaced eBPF program may still be running: the RCU grace
/// period before the kernel frees it, with a wide margin.
const RETIRED_MAP_GRACE: Duration = Duration::from_secs(1);

/// A map's 32-bit count (the sum over the CPUs, wrapping) followed as a
/// 64-bit one: it is read at least once per 2^32 candidates (at every
/// batch and every counter sample), so no wrap is missed.
struct MapCount {
    map: PoolMap,
    last: u32,
}

impl MapCount {
    fn new(mut map: PoolMap) -> io::Result<MapCount> {
        let last = map.read()?;
        Ok(MapCount { map, last })
    }

    /// The candidates counted since the last call.
    fn advance(&mut self) -> io::Result<u64> {
        let now = self.map.read()?;
        let delta = now.wrapping_sub(self.last);
        self.last = now;
        Ok(u64::from(delta))
    }
}

/// Where the pool comes from: a count of candidates since the socket
/// opened, never decreasing.
enum PoolSource {
    /// The eBPF program's map (exact). After a change of rate the program
    /// has a new map, with countdowns drawn for the new rate; the old one
    /// is read on for as long as a run of the old program might still
    /// count in it.
    Map {
        current: MapCount,
        retired: Option<(MapCount, Instant)>,
        since_open: u64,
    },
    /// The interface's counters (classic BPF): rx_packets, plus tx_packets
    /// when egress frames are sampled.
    Counters {
        rx: File,
        tx: Option<File>,
        last: u64,
        since_open: u64,
    },
}

impl PoolSource {
    fn map(map: PoolMap) -> io::Result<PoolSource> {
        Ok(PoolSource::Map {
            current: MapCount::new(map)?,
            retired: None,
            since_open: 0,
        })
    }

    /// The interface's counters (`tx_packets` too if `egress`), counting
    /// on from `since_open`.
    fn counters(device: &str, egress: bool, since_open: u64) -> io::Result<PoolSource> {
        let open = |name: &str| {
            let path = format!("/sys/class/net/{device}/statistics/{name}");
            crate::sys::file::open_read(&path, 0)
                .map_err(|e| io_error(e.kind(), format!("{path}: {e}")))
        };
        let rx = open("rx_packets")?;
        let tx = if egress {
            Some(open("tx_packets")?)
        } else {
            None
        };
        let last = read_counter(&rx)? + tx.as_ref().map_or(Ok(0), read_counter)?;
        Ok(PoolSource::Counters {
            rx,
            tx,
            last,
            since_open,
        })
    }

    /// Makes the interface's counters count from now on.
    fn start_counters_here(&mut self) -> io::Result<()> {
        self.read()?;
        if let PoolSource::Counters { since_open, .. } = self {
            *since_open = 0;
        }
        Ok(())
    }

    /// Candidates since the socket opened.
    fn read(&mut self) -> io::Result<u64> {
        match self {
            PoolSource::Map {
                current,
                retired,
                since_open,
            } => {
                *since_open += current.advance()?;
                if let Some((old, at)) = retired {
                    *since_open += old.advance()?;
                    if at.elapsed() > RETIRED_MAP_GRACE {
                        *retired = None;
                    }
                }
                Ok(*since_open)
            }
            PoolSource::Counters {
                rx,
                tx,
                last,
                since_open,
            } => {
                let now = read_counter(rx)? + tx.as_ref().map_or(Ok(0), read_counter)?;
                // A counter that went back (a driver's reset) adds nothing.
                *since_open += now.saturating_sub(*last);
                *last = now;
                Ok(*since_open)
            }
        }
    }

    /// Puts `map` in the place of the current one, which is read on until
    /// the old program is surely gone.
    fn replace_map(&mut self, map: PoolMap) -> io::Result<()> {
        // What the maps counted up to now, the retired one included for
        // the last time (a program replaced before the previous one is
        // long gone).
        self.read()?;
        if let PoolSource::Map {
            current, retired, ..
        } = self
        {
            let old = std::mem::replace(current, MapCount::new(map)?);
            *retired = Some((old, Instant::now()));
        }
        Ok(())
    }
}

/// A sysfs counter's number.
fn read_counter(f: &File) -> io::Result<u64> {
    let mut buf = [0u8; 24];
    let n = f.read_at(&mut buf, 0)?;
    std::str::from_utf8(&buf[..n])
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| io_error(io::ErrorKind::InvalidData, "bad interface counter"))
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
    /// Draws the countdowns of new eBPF maps.
    rng: Rng,
    /// Counts carried from earlier sockets of the same data source.
    carry: CaptureCounts,
    /// The counts now, `pool` as the kernel last told it.
    counts: CaptureCounts,
    /// The pool given to the last sample: behind `counts.pool` by the
    /// candidates after it (frames not read yet, unsampled ones).
    sampled_pool: u64,
}

impl PacketCapture {
    /// Opens a sampling socket on `config.if_index`, continuing the counts
    /// in `carry`.
    pub fn open(config: CaptureConfig, carry: CaptureCounts) -> io::Result<Self> {
        // Protocol 0 at creation: the socket receives nothing until it is
        // bound below, after its filter and ring are in place.
        let fd = socket::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )?;
        let mut rng = Rng::from_entropy();
        let (method, pool) = attach_filter(fd.as_fd(), &config, &mut rng)?;
        let page = crate::sys::system::page_size();
        let ring = Ring::new(
            fd.as_fd(),
            RingGeometry::new(config.ring_bytes, config.snap_len, page),
        )?;
        socket::bind(
            fd.as_fd(),
            &PacketAddr::new(config.if_index, libc::ETH_P_ALL as u16),
        )?;
        let mut capture = PacketCapture {
            ring,
            fd,
            config,
            method,
            pool,
            rng,
            carry,
            counts: carry,
            sampled_pool: carry.pool,
        };
        // What the interface's counters counted before the socket was
        // bound is not ours. (A map starts at zero.)
        capture.pool.start_counters_here()?;
        Ok(capture)
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

    /// Changes the sampling rate, the excluded interfaces and what a
    /// classic filter takes of the egress frames, in place: a new filter
    /// replaces the old one atomically, no frame is lost and the ring
    /// stays.
    pub fn update_filter(
        &mut self,
        rate: u32,
        excluded: &[u32],
        classic_egress: ClassicEgress,
    ) -> io::Result<()> {
        let c = &self.config;
        if rate == c.sampling_rate && excluded == c.excluded && classic_egress == c.classic_egress {
            return Ok(());
        }
        let snap_len = c.snap_len;
        if self.method == Method::Ebpf {
            // A new rate: a new map, whose countdowns are drawn for it (the
            // old ones could be up to twice the old rate away).
            let new_map = if rate != c.sampling_rate {
                Some(PoolMap::create(rate, &mut self.rng)?)
            } else {
                None
            };
            let map_fd = match (&new_map, &self.pool) {
                (Some(m), _) => m.raw_fd(),
                (None, PoolSource::Map { current, .. }) => current.map.raw_fd(),
                (None, PoolSource::Counters { .. }) => return Err(io::ErrorKind::Other.into()),
            };
            let program = filter::ebpf_program(rate, snap_len, map_fd, excluded);
            let prog = filter::load_ebpf(&program)?;
            filter::attach_ebpf(self.fd.as_fd(), prog.as_fd())?;
            if let Some(map) = new_map {
                self.pool.replace_map(map)?;
            }
        } else {
            let method = classic_method(classic_egress);
            filter::attach_classic(
                self.fd.as_fd(),
                &filter::classic_program(rate, snap_len, classic_egress),
            )?;
            if method != self.method {
                // The pool counts other frames now: what was counted so
                // far, then the new counters.
                let so_far = self.pool.read()?;
                let egress = method == Method::Classic;
                self.pool = PoolSource::counters(&self.config.device, egress, so_far)?;
                self.method = method;
            }
        }
        self.config.sampling_rate = rate;
        self.config.excluded = excluded.to_vec();
        self.config.classic_egress = classic_egress;
        Ok(())
    }

    /// The counts now, pool read from the kernel.
    pub fn counts(&mut self) -> CaptureCounts {
        self.account_drops();
        if let Ok(now) = self.pool.read() {
            self.counts.pool = self.counts.pool.max(self.carry.pool + now);
        }
        self.counts
    }

    /// Reads the sampled frames the kernel has handed over (at most
    /// [`BLOCK_BUDGET`] blocks), calling `on_sample` for each with the
    /// counts at that frame. Returns the number of frames read.
    ///
    /// The pool is read once per batch, after the kernel wrote the frames
    /// of the batch. It then also counts the candidates of the frames in
    /// the blocks after the batch (the one the kernel is filling, and
    /// those beyond the budget): the batch gets the share of the increase
    /// that its frames are of all these frames, counted after the pool was
    /// read (at 1-in-1, exactly the candidates up to its last frame; the
    /// rest goes to the next batches). That share is spread evenly over
    /// the batch's k frames (the i-th gets `start + ⌈i·share/k⌉`), so the
    /// pool is strictly increasing and each sample stands for about N
    /// candidates: a collector that takes `Δpool / Δsequence` sample by
    /// sample (sfacctd, sflowtool's users) sees each sample as N packets,
    /// not the first of a batch as the whole batch and the others as one.
    pub fn read_pending(
        &mut self,
        mut on_sample: impl FnMut(&Frame, &CaptureCounts),
    ) -> io::Result<usize> {
        self.read_pending_into(&mut on_sample)
    }

    // One copy for all the callers' closures (one per role of the
    // interface: three copies were ~4 KB of a mips binary), for the price
    // of an indirect call per sampled frame.
    #[inline(never)]
    fn read_pending_into(
        &mut self,
        on_sample: &mut dyn FnMut(&Frame, &CaptureCounts),
    ) -> io::Result<usize> {
        let (blocks, pending) = self.ring.ready(BLOCK_BUDGET);
        self.account_drops();
        if pending == 0 {
            return Ok(0);
        }
        let now = self.carry.pool + self.pool.read()?;
        self.counts.pool = self.counts.pool.max(now);
        // After the pool: frames that arrive in between make the share
        // smaller, never larger than the batch's.
        let later = self.ring.frames_after(blocks);
        let start = self.sampled_pool;
        let share = batch_share(now.saturating_sub(start), pending as u64, later as u64);
        let mut spread = PoolSpread::new(start, start + share, pending as u64);
        let mut at_sample = self.counts;
        let read = self.ring.drain(blocks, |frame| {
            at_sample.pool = spread.next();
            at_sample.samples += 1;
            on_sample(frame, &at_sample);
        });
        self.counts.samples = at_sample.samples;
        self.sampled_pool = spread.last;
        Ok(read)
    }

    /// Stops sampling: the filter takes no frame from now on, so the pool
    /// stops moving and what was sampled can be read to the last frame
    /// (the agent's exit).
    pub fn stop_sampling(&mut self) -> io::Result<()> {
        filter::attach_nothing(self.fd.as_fd())
    }

    /// Frames in the block the kernel is filling: readable once it hands
    /// the block over (when full, or at the latest two block timeouts,
    /// [`ring::BLOCK_TIMEOUT_MS`], after its first frame).
    pub fn frames_in_kernel(&self) -> usize {
        self.ring.frames_in_kernel()
    }

    /// Sampled frames the kernel could not put in the full ring.
    fn account_drops(&mut self) {
        let stats = socket::try_getsockopt::<libc::tpacket_stats_v3>(
            self.fd.as_fd(),
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
        );
        if let Some(stats) = stats {
            // tp_packets includes the drops.
            self.counts.drops += u64::from(stats.tp_drops);
            self.counts.accepted += u64::from(stats.tp_packets);
        }
    }
}

/// The part of a pool increase that belongs to a batch of `batch` frames
/// when `later` frames were written after them: its share of the frames
/// (the candidates of all of them and the unsampled ones after the last
/// counted in the increase).
fn batch_share(increase: u64, batch: u64, later: u64) -> u64 {
    // Frame counts never come near 2^64; if their sum did not fit, half
    // of each keeps the ratio.
    let (batch, all) = match batch.checked_add(later) {
        Some(all) => (batch, all),
        None => (batch / 2, batch / 2 + later / 2),
    };
    if all == 0 {
        return increase;
    }
    // batch ≤ all: the quotient fits.
    mul_div(increase, batch, all).0
}

/// `(a · b / c, a · b % c)` for `b ≤ c` (so the quotient fits 64 bits),
/// exact. The 128-bit product is divided by long division, one bit at a
/// time, when it does not fit 64 bits, rather than by a u128 division:
/// that is ~2 KB of a 32-bit binary (compiler_builtins' u128_div_rem),
/// for pools that fit 64 bits in practice.
fn mul_div(a: u64, b: u64, c: u64) -> (u64, u64) {
    debug_assert!(b <= c && c > 0);
    let product = u128::from(a) * u128::from(b);
    if let Ok(p) = u64::try_from(product) {
        return (p / c, p % c);
    }
    // hi < c since the quotient fits 64 bits; shift the 128-bit
    // remainder:quotient pair left, subtracting c whenever it fits.
    let (mut rem, mut quot) = ((product >> 64) as u64, product as u64);
    for _ in 0..64 {
        let carry = rem >> 63;
        rem = (rem << 1) | (quot >> 63);
        quot <<= 1;
        if carry == 1 || rem >= c {
            rem = rem.wrapping_sub(c);
            quot |= 1;
        }
    }
    (quot, rem)
}

/// The pools of the k samples of one batch: the batch's share of the
/// increase, from the pool of the sample before it, spread evenly over
/// them.
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
        // ⌈i·increase/k⌉ without overflow: i ≤ k, so the quotient fits.
        let (share, rest) = mul_div(self.increase, i, self.k);
        let pool = self.start + share + u64::from(rest > 0);
        self.last = pool.max(self.last + 1);
        self.last
    }
}

/// How a classic filter that takes `egress` samples.
fn classic_method(egress: ClassicEgress) -> Method {
    match egress {
        ClassicEgress::NotRelayCopies => Method::Classic,
        ClassicEgress::None => Method::ClassicIngress,
    }
}

/// Attaches the best filter the kernel accepts.
fn attach_filter(
    fd: BorrowedFd,
    config: &CaptureConfig,
    rng: &mut Rng,
) -> io::Result<(Method, PoolSource)> {
    if config.filter != FilterChoice::ClassicOnly {
        match try_ebpf(fd, config, rng) {
            Ok(map) => return Ok((Method::Ebpf, PoolSource::map(map)?)),
            Err(e) if config.filter == FilterChoice::EbpfOnly => {
                return Err(io_error(e.kind(), format!("eBPF sampling filter: {e}")))
            }
            Err(e) => {
                crate::debug!(
                    "{}: eBPF sampling unavailable ({e}): using classic BPF",
                    config.device
                )
            }
        }
    }
    let egress = config.classic_egress;
    filter::attach_classic(
        fd,
        &filter::classic_program(config.sampling_rate, config.snap_len, egress),
    )?;
    let method = classic_method(egress);
    let pool = PoolSource::counters(&config.device, method == Method::Classic, 0)?;
    Ok((method, pool))
}

fn try_ebpf(fd: BorrowedFd, config: &CaptureConfig, rng: &mut Rng) -> io::Result<PoolMap> {
    let map = PoolMap::create(config.sampling_rate, rng)?;
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

#[cfg(test)]
mod tests {
    use super::{batch_share, mul_div, PoolSpread};
    use proptest::prelude::*;

    proptest! {
        /// The long division gives what u128 arithmetic gives.
        #[test]
        fn mul_div_is_exact(a in any::<u64>(), b in any::<u64>(), c in any::<u64>()) {
            let (b, c) = (b.min(c), b.max(c).max(1));
            let product = u128::from(a) * u128::from(b);
            let (q, r) = mul_div(a, b, c);
            prop_assert_eq!(u128::from(q), product / u128::from(c));
            prop_assert_eq!(u128::from(r), product % u128::from(c));
        }
    }

    #[test]
    fn batch_shares() {
        assert_eq!(batch_share(400, 4, 0), 400);
        assert_eq!(batch_share(400, 3, 1), 300);
        assert_eq!(batch_share(7, 0, 0), 7);
        assert_eq!(batch_share(u64::MAX, 1, 1), u64::MAX / 2);
        assert_eq!(batch_share(u64::MAX, 3, 1), u64::MAX / 4 * 3 + 2);
        assert_eq!(batch_share(1000, u64::MAX, u64::MAX), 500);
    }

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
