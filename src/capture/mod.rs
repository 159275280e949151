//! Frame capture on one interface and the 1-in-N sampling decision.
//!
//! [`PacketCapture`] reads every frame that crosses an interface, in both
//! directions, from an AF_PACKET socket and hands the sampled ones to its
//! caller as borrowed [`Frame`]s. The sampling decision is taken before a
//! frame is copied: a frame that is not sampled is dequeued with a
//! zero-length read, so only the sampled frames' headers are copied out of
//! the kernel. Every frame read, sampled or not, counts in the sample pool.

mod sampler;

pub use sampler::Sampler;

use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::rng::Rng;
use crate::sys::{cvt, set_nonblocking, setsockopt_int};

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

/// Whether a frame entered or left the device through the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

/// A sampled frame, borrowed from the capture's buffer.
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
    /// Frames that could have been sampled (read or lost before reading).
    pub pool: u64,
    /// Frames lost by the kernel before the agent could read them.
    pub drops: u64,
    /// Frames sampled.
    pub samples: u64,
}

/// What to capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureConfig {
    pub if_index: u32,
    pub sampling_rate: u32,
    /// Bytes of each sampled frame to keep.
    pub snap_len: u32,
}

/// Socket receive buffer: enough to ride out a scheduling delay of the
/// agent at a few thousand frames per second without losing frames.
const RECEIVE_BUFFER: i32 = 1 << 20;

/// Frames handled per wakeup before yielding to the other event sources.
pub const READ_BUDGET: usize = 512;

pub struct PacketCapture {
    fd: OwnedFd,
    config: CaptureConfig,
    sampler: Sampler,
    buf: Vec<u8>,
    counts: CaptureCounts,
}

impl PacketCapture {
    /// Opens a socket that sees every frame crossing `config.if_index`,
    /// continuing the counts in `carry`.
    pub fn open(config: CaptureConfig, carry: CaptureCounts, rng: Rng) -> io::Result<Self> {
        // Protocol 0 at creation: the socket receives nothing until it is
        // bound to the interface below, so no other interface's frames slip
        // into its queue.
        let fd = cvt(unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                0,
            )
        })?;
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // Root may exceed rmem_max; an unprivileged daemon with CAP_NET_RAW
        // only gets what the sysctl allows, which is also fine.
        if setsockopt_int(
            fd.as_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            RECEIVE_BUFFER,
        )
        .is_err()
        {
            setsockopt_int(
                fd.as_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                RECEIVE_BUFFER,
            )?;
        }
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
        set_nonblocking(fd.as_fd())?;
        Ok(PacketCapture {
            fd,
            sampler: Sampler::new(config.sampling_rate, rng),
            buf: vec![0; config.snap_len as usize],
            config,
            counts: carry,
        })
    }

    pub fn config(&self) -> &CaptureConfig {
        &self.config
    }

    /// Changes the sampling rate in place (no frame is lost).
    pub fn set_sampling_rate(&mut self, rate: u32) {
        self.config.sampling_rate = rate;
        self.sampler.set_rate(rate);
    }

    pub fn counts(&self) -> CaptureCounts {
        self.counts
    }

    /// Reads up to `budget` pending frames, calling `on_sample` for each one
    /// sampled with the counts at that frame. Returns the number of frames
    /// read; `Ok(0)` when none was pending. An error means the socket is
    /// unusable (for example the interface went away).
    pub fn read_pending(
        &mut self,
        budget: usize,
        mut on_sample: impl FnMut(&Frame, &CaptureCounts),
    ) -> io::Result<usize> {
        self.account_kernel_drops();
        let mut read = 0;
        while read < budget {
            // Peek at the decision: it is taken only for a frame actually read.
            let sampled = self.sampler.next_is_sampled();
            let len = if sampled { self.buf.len() } else { 0 };
            let mut sll: libc::sockaddr_ll = unsafe { mem::zeroed() };
            let mut sll_len = mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    len,
                    libc::MSG_TRUNC | libc::MSG_DONTWAIT,
                    (&mut sll as *mut libc::sockaddr_ll).cast(),
                    &mut sll_len,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                return match e.kind() {
                    io::ErrorKind::WouldBlock => Ok(read),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(e),
                };
            }
            read += 1;
            self.sampler.advance();
            self.counts.pool += 1;
            if sampled {
                self.counts.samples += 1;
                let length = n as usize;
                let frame = Frame {
                    data: &self.buf[..length.min(self.buf.len())],
                    length: length as u32,
                    if_index: sll.sll_ifindex as u32,
                    packet_type: sll.sll_pkttype,
                    hw_type: sll.sll_hatype,
                };
                on_sample(&frame, &self.counts);
            }
        }
        Ok(read)
    }

    /// Frames the kernel dropped because the socket's queue was full were
    /// candidates for sampling: they count in the pool, and as drops since
    /// samples may have been among them.
    fn account_kernel_drops(&mut self) {
        let mut stats: libc::tpacket_stats = unsafe { mem::zeroed() };
        let mut len = mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut stats as *mut libc::tpacket_stats).cast(),
                &mut len,
            )
        };
        if rc == 0 && stats.tp_drops > 0 {
            self.counts.pool += u64::from(stats.tp_drops);
            self.counts.drops += u64::from(stats.tp_drops);
        }
    }
}

impl AsFd for PacketCapture {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
