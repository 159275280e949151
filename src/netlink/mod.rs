//! Netlink: the plumbing shared by the rtnetlink client ([`route`]: links,
//! bridge forwarding database, change events) and the nl80211 client
//! ([`crate::wifi::nl80211`]): message and attribute walking, and a
//! request socket that runs one exchange with the kernel at a time.
//!
//! Messages are parsed as untrusted bytes: every length is checked, nothing
//! here can panic on any input.
//!
//! A [`RequestSocket`] is kept open across polling rounds with its receive
//! buffer: requests carry a sequence number, only the kernel's answers to
//! the current request are taken, the buffer grows to whatever datagram the
//! kernel sends (`MSG_PEEK | MSG_TRUNC`), and a one-second receive timeout
//! keeps a silent kernel from hanging the event loop.

pub mod route;

pub use route::{
    parse_addr, parse_event, parse_link, parse_neigh, Address, Event, EventSocket, FdbEntry, Link,
    LinkStats, NetlinkError, RouteSocket, IF_OPER_DOWN, IF_OPER_UNKNOWN, IF_OPER_UP,
};

use crate::io_error::io_error;
use std::fmt;
use std::io;
use std::mem;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use crate::sys::socket::{self, NetlinkAddr};

// Kernel ABI constants (include/uapi/linux/netlink.h), defined here rather
// than taken from `libc` so that they are the same on every target (some
// are missing for musl/MIPS).
pub(crate) const NLMSG_HDRLEN: usize = 16;
pub(crate) const NLMSG_NOOP: u16 = 1;
pub(crate) const NLMSG_ERROR: u16 = 2;
pub(crate) const NLMSG_DONE: u16 = 3;
pub(crate) const NLMSG_OVERRUN: u16 = 4;
/// Types below this are netlink's own control messages.
pub(crate) const NLMSG_MIN_TYPE: u16 = 0x10;
pub(crate) const NLM_F_REQUEST: u16 = 0x1;
pub(crate) const NLM_F_ACK: u16 = 0x4;
/// The dump was interrupted by a change: entries may be missing or repeated.
pub(crate) const NLM_F_DUMP_INTR: u16 = 0x10;
pub(crate) const NLM_F_DUMP: u16 = 0x300;
pub(crate) const NLA_HDRLEN: usize = 4;
/// Masks NLA_F_NESTED and NLA_F_NET_BYTEORDER out of an attribute's type.
pub(crate) const NLA_TYPE_MASK: u16 = 0x3fff;

/// Initial receive buffer; the kernel sizes dump datagrams after the
/// reader's buffer (at most 32 KiB), and larger ones grow it.
pub(crate) const RECV_BUF: usize = 32 * 1024;

/// A length field points outside the message, or is too small: names the
/// structure. Each client turns it into its own error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated(pub &'static str);

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "netlink: truncated {}", self.0)
    }
}

pub(crate) const fn align4(len: usize) -> usize {
    (len + 3) & !3
}

pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The fixed header of a netlink message (`struct nlmsghdr`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub len: usize,
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    pub port_id: u32,
}

impl Header {
    /// Reads the header at the start of `b`, checking that the message's
    /// length is sane and within `b`.
    pub fn parse(b: &[u8]) -> Result<Header, Truncated> {
        let truncated = Truncated("nlmsghdr");
        let len = u32_at(b, 0).ok_or(truncated)? as usize;
        if len < NLMSG_HDRLEN || len > b.len() {
            return Err(truncated);
        }
        Ok(Header {
            len,
            kind: u16_at(b, 4).ok_or(truncated)?,
            flags: u16_at(b, 6).ok_or(truncated)?,
            seq: u32_at(b, 8).ok_or(truncated)?,
            port_id: u32_at(b, 12).ok_or(truncated)?,
        })
    }
}

/// Iterates over the attributes (`struct nlattr`) packed in `b`, yielding
/// (type without flags, payload). A malformed attribute ends the walk with
/// one error.
pub(crate) struct Attrs<'a>(pub &'a [u8]);

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<(u16, &'a [u8]), Truncated>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let b = mem::take(&mut self.0);
        let len = u16_at(b, 0).map_or(0, usize::from);
        let (Some(kind), Some(payload)) = (u16_at(b, 2), b.get(NLA_HDRLEN..len)) else {
            return Some(Err(Truncated("attribute")));
        };
        // The last attribute's padding may be absent: then nothing is left.
        self.0 = b.get(align4(len)..).unwrap_or(&[]);
        Some(Ok((kind & NLA_TYPE_MASK, payload)))
    }
}

/// A NUL-terminated string attribute (the NUL is optional here).
pub(crate) fn attr_string(payload: &[u8]) -> String {
    let end = payload
        .iter()
        .position(|&c| c == 0)
        .unwrap_or(payload.len());
    String::from_utf8_lossy(&payload[..end]).into_owned()
}

/// Appends one attribute, padded to four bytes.
pub(crate) fn push_attr(m: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = (NLA_HDRLEN + payload.len()) as u16;
    m.extend_from_slice(&len.to_ne_bytes());
    m.extend_from_slice(&kind.to_ne_bytes());
    m.extend_from_slice(payload);
    m.resize(align4(m.len()), 0);
}

/// How an exchange stands after one datagram of answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// More datagrams to read.
    More,
    /// NLMSG_DONE, or the acknowledgement of a request.
    Done,
    /// The kernel refused the request or failed the dump: its errno. The
    /// exchange is over, the socket is clean.
    Failed(i32),
}

/// Walks the messages of one datagram answering request `seq` from port
/// `port_id`, calling `each` with the type and bytes of every answer that
/// is not a control message. Sets `interrupted` when one of them carries
/// NLM_F_DUMP_INTR.
pub(crate) fn walk_answers(
    mut data: &[u8],
    seq: u32,
    port_id: u32,
    interrupted: &mut bool,
    each: &mut dyn FnMut(u16, &[u8]),
) -> Result<Outcome, Truncated> {
    while !data.is_empty() {
        let header = Header::parse(data)?;
        let msg = &data[..header.len];
        data = data.get(align4(header.len)..).unwrap_or(&[]);
        // Leftovers of an earlier, abandoned request, or not for us.
        if header.seq != seq || header.port_id != port_id {
            continue;
        }
        if header.flags & NLM_F_DUMP_INTR != 0 {
            *interrupted = true;
        }
        match header.kind {
            NLMSG_NOOP => {}
            // The payload of both is an int errno (0 or negative); an
            // error's is followed by the request's header.
            NLMSG_ERROR | NLMSG_DONE => {
                let errno = match u32_at(msg, NLMSG_HDRLEN) {
                    Some(e) => e as i32,
                    // A DONE without payload (very old kernels) is a success.
                    None if header.kind == NLMSG_DONE => 0,
                    None => return Err(Truncated("nlmsgerr")),
                };
                return Ok(if errno == 0 {
                    Outcome::Done
                } else {
                    Outcome::Failed(errno.saturating_abs())
                });
            }
            NLMSG_OVERRUN => return Ok(Outcome::Failed(libc::ENOBUFS)),
            kind => each(kind, msg),
        }
    }
    Ok(Outcome::More)
}

/// A netlink socket for requests and their answers, one exchange at a time.
pub(crate) struct RequestSocket {
    protocol: i32,
    fd: OwnedFd,
    /// Our netlink port id, assigned by the kernel at bind time.
    port_id: u32,
    seq: u32,
    buf: Vec<u8>,
    /// An exchange failed half way (timeout, malformed answer): its remains
    /// may still be queued or running in the kernel (a new dump would get
    /// EBUSY), so start afresh.
    reopen: bool,
}

impl RequestSocket {
    /// Opens a socket of `protocol` (`NETLINK_ROUTE`, `NETLINK_GENERIC`).
    pub fn open(protocol: i32) -> io::Result<RequestSocket> {
        let (fd, port_id) = open_bound(protocol)?;
        Ok(RequestSocket {
            protocol,
            fd,
            port_id,
            seq: 0,
            buf: vec![0; RECV_BUF],
            reopen: false,
        })
    }

    /// Sends `request` (a whole message; its length and sequence number
    /// are filled in here) and calls `each` with the type and bytes of
    /// every answer until the dump ends or the request is acknowledged.
    /// Returns whether the kernel flagged the dump as interrupted.
    pub fn exchange(
        &mut self,
        request: &mut [u8],
        each: &mut dyn FnMut(u16, &[u8]),
    ) -> io::Result<bool> {
        if self.reopen {
            (self.fd, self.port_id) = open_bound(self.protocol)?;
            self.reopen = false;
        }
        // Marked broken until the exchange completes, whatever way it fails.
        self.reopen = true;
        self.seq = self.seq.wrapping_add(1);
        self.send(request)?;
        let mut interrupted = false;
        loop {
            let n = self.recv()?;
            let outcome = walk_answers(
                &self.buf[..n],
                self.seq,
                self.port_id,
                &mut interrupted,
                each,
            )
            .map_err(|e| io_error(io::ErrorKind::InvalidData, e.to_string()))?;
            match outcome {
                Outcome::More => {}
                Outcome::Done => {
                    self.reopen = false;
                    return Ok(interrupted);
                }
                Outcome::Failed(errno) => {
                    // The exchange is over and the socket clean, unless
                    // the kernel is still running an earlier, abandoned
                    // dump on it (EBUSY): that one is left behind.
                    self.reopen = errno == libc::EBUSY;
                    return Err(io::Error::from_raw_os_error(errno));
                }
            }
        }
    }

    /// Frames `request` with its length and the current sequence number,
    /// and sends it to the kernel.
    fn send(&self, request: &mut [u8]) -> io::Result<()> {
        let len = request.len() as u32;
        if request.len() < NLMSG_HDRLEN {
            return Err(io_error(
                io::ErrorKind::InvalidInput,
                "netlink: request shorter than its header",
            ));
        }
        request[0..4].copy_from_slice(&len.to_ne_bytes());
        request[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        let n = socket::send_to(self.fd.as_fd(), request, 0, &NetlinkAddr::kernel())?;
        if n != request.len() {
            return Err(io_error(io::ErrorKind::WriteZero, "netlink: short send"));
        }
        Ok(())
    }

    /// Receives the next datagram from the kernel into `self.buf`, growing
    /// it first if the datagram would not fit.
    fn recv(&mut self) -> io::Result<usize> {
        loop {
            // With MSG_TRUNC, netlink returns the datagram's real length;
            // with MSG_PEEK it stays queued for the read below.
            let size = self.recv_from(0, libc::MSG_PEEK | libc::MSG_TRUNC)?.0;
            if size > self.buf.len() {
                self.buf.resize(size, 0);
            }
            let (n, sender) = self.recv_from(self.buf.len(), 0)?;
            // Only the kernel (port 0) answers our requests.
            if sender == 0 {
                return Ok(n);
            }
        }
    }

    /// recvfrom(2) into the first `len` bytes of the buffer; returns the
    /// length and the sender's port id. EINTR is retried; the receive
    /// timeout becomes `TimedOut`.
    fn recv_from(&mut self, len: usize, flags: i32) -> io::Result<(usize, u32)> {
        let len = len.min(self.buf.len());
        loop {
            let e = match socket::recv_from::<NetlinkAddr>(
                self.fd.as_fd(),
                &mut self.buf[..len],
                flags,
            ) {
                Ok((n, from)) => return Ok((n, from.port_id())),
                Err(e) => e,
            };
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    return Err(io_error(
                        io::ErrorKind::TimedOut,
                        "netlink: no answer from the kernel",
                    ))
                }
                _ => return Err(e),
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn set_seq(&mut self, seq: u32) {
        self.seq = seq;
    }

    /// Whether the next exchange starts on a fresh socket (test helper).
    #[cfg(test)]
    pub(crate) fn needs_reopen(&self) -> bool {
        self.reopen
    }

    /// Shrinks or grows the receive buffer (test helper).
    #[cfg(test)]
    pub(crate) fn set_buffer_len(&mut self, len: usize) {
        self.buf = vec![0; len];
    }

    #[cfg(test)]
    pub(crate) fn buffer_len(&self) -> usize {
        self.buf.len()
    }
}

/// Opens and binds a blocking netlink socket of `protocol` with a one
/// second receive timeout; returns it with its port id.
fn open_bound(protocol: i32) -> io::Result<(OwnedFd, u32)> {
    let fd = socket::socket(
        libc::AF_NETLINK,
        libc::SOCK_RAW | libc::SOCK_CLOEXEC,
        protocol,
    )?;
    // An exchange must never hang the event loop.
    socket::set_receive_timeout(fd.as_fd(), Duration::from_secs(1))?;
    // Port id 0 asks the kernel to choose a unique one.
    socket::bind(fd.as_fd(), &NetlinkAddr::kernel())?;
    let bound: NetlinkAddr = socket::local_address(fd.as_fd())?;
    Ok((fd, bound.port_id()))
}

/// What reading the pending notifications found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventsStatus {
    /// Every pending notification was delivered.
    Ok,
    /// The kernel dropped notifications (the socket's queue overflowed):
    /// the reader must read afresh the state it tracks.
    Lost,
}

/// A non-blocking netlink socket joined to multicast groups: the kernel's
/// notifications, read without ever waiting (on the event loop).
pub(crate) struct MulticastSocket {
    fd: OwnedFd,
    buf: Vec<u8>,
}

impl MulticastSocket {
    /// Opens a socket of `protocol` and joins `groups` (group ids, as the
    /// generic netlink controller reports them or `RTNLGRP_*`).
    pub fn open(protocol: i32, groups: &[u32]) -> io::Result<MulticastSocket> {
        let fd = socket::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            protocol,
        )?;
        socket::bind(fd.as_fd(), &NetlinkAddr::kernel())?;
        for &group in groups {
            socket::setsockopt_int(
                fd.as_fd(),
                SOL_NETLINK,
                NETLINK_ADD_MEMBERSHIP,
                group as i32,
            )?;
        }
        Ok(MulticastSocket {
            fd,
            buf: vec![0; RECV_BUF],
        })
    }

    /// Delivers every message of every pending datagram to `each`, without
    /// blocking.
    pub fn read(&mut self, each: &mut dyn FnMut(&[u8])) -> io::Result<EventsStatus> {
        let mut status = EventsStatus::Ok;
        loop {
            let n = match socket::recv(self.fd.as_fd(), &mut self.buf, libc::MSG_DONTWAIT) {
                Ok(n) => n,
                Err(e) => match e.raw_os_error() {
                    Some(libc::EAGAIN) => return Ok(status),
                    Some(libc::EINTR) => continue,
                    Some(libc::ENOBUFS) => {
                        status = EventsStatus::Lost;
                        continue;
                    }
                    _ => return Err(e),
                },
            };
            let mut data = &self.buf[..n];
            while !data.is_empty() {
                let Ok(header) = Header::parse(data) else {
                    break;
                };
                each(&data[..header.len]);
                data = data.get(align4(header.len)..).unwrap_or(&[]);
            }
        }
    }
}

impl std::os::fd::AsFd for MulticastSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// `SOL_NETLINK` and `NETLINK_ADD_MEMBERSHIP` (linux/netlink.h), the same
/// on every architecture.
const SOL_NETLINK: i32 = 270;
const NETLINK_ADD_MEMBERSHIP: i32 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    /// A message of type `kind` with `flags`, `seq`, `port` and a body.
    fn message(kind: u16, flags: u16, seq: u32, port: u32, body: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; NLMSG_HDRLEN];
        m.extend_from_slice(body);
        let len = m.len() as u32;
        m[0..4].copy_from_slice(&len.to_ne_bytes());
        m[4..6].copy_from_slice(&kind.to_ne_bytes());
        m[6..8].copy_from_slice(&flags.to_ne_bytes());
        m[8..12].copy_from_slice(&seq.to_ne_bytes());
        m[12..16].copy_from_slice(&port.to_ne_bytes());
        m
    }

    /// NLMSG_DONE / NLMSG_ERROR carrying `errno` (an error also carries
    /// the request's header).
    fn control(kind: u16, flags: u16, seq: u32, port: u32, errno: i32) -> Vec<u8> {
        let mut body = errno.to_ne_bytes().to_vec();
        if kind == NLMSG_ERROR {
            body.extend_from_slice(&[0; NLMSG_HDRLEN]);
        }
        message(kind, flags, seq, port, &body)
    }

    const ANSWER: u16 = 0x1c;

    #[test]
    fn walks_answers() {
        let answer = |seq, port, flags| message(ANSWER, flags, seq, port, &[1, 2, 3, 4]);
        let mut seen = Vec::new();
        let mut interrupted = false;
        // A stale message (old seq), one for another port, a NOOP, then
        // two of ours, of two types.
        let mut d = answer(4, 77, 2);
        d.extend(answer(5, 99, 2));
        d.extend(control(NLMSG_NOOP, 0, 5, 77, 0));
        d.extend(answer(5, 77, 2));
        d.extend(message(ANSWER + 1, 2, 5, 77, &[]));
        let out = walk_answers(&d, 5, 77, &mut interrupted, &mut |k, m| {
            seen.push((k, m.len()))
        });
        assert_eq!(out, Ok(Outcome::More));
        assert_eq!(seen, [(ANSWER, 20), (ANSWER + 1, 16)]);
        assert!(!interrupted);
        // A stale DONE does not end our dump; ours does, and DUMP_INTR on
        // any of our messages is noticed.
        seen.clear();
        let mut d = control(NLMSG_DONE, 0, 4, 77, 0);
        d.extend(answer(5, 77, 2 | NLM_F_DUMP_INTR));
        d.extend(control(NLMSG_DONE, 2, 5, 77, 0));
        d.extend(answer(5, 77, 2)); // after DONE: not read
        let out = walk_answers(&d, 5, 77, &mut interrupted, &mut |k, m| {
            seen.push((k, m.len()))
        });
        assert_eq!((out, seen.len(), interrupted), (Ok(Outcome::Done), 1, true));

        let walk = |d: &[u8]| walk_answers(d, 5, 77, &mut false, &mut |_, _| {});
        // An acknowledgement, an error, a dump failing in its DONE, an
        // overrun.
        assert_eq!(walk(&control(NLMSG_ERROR, 0, 5, 77, 0)), Ok(Outcome::Done));
        assert_eq!(
            walk(&control(NLMSG_ERROR, 0, 5, 77, -libc::ENODEV)),
            Ok(Outcome::Failed(libc::ENODEV))
        );
        assert_eq!(
            walk(&control(NLMSG_DONE, 2, 5, 77, -libc::EOPNOTSUPP)),
            Ok(Outcome::Failed(libc::EOPNOTSUPP))
        );
        assert_eq!(
            walk(&control(NLMSG_OVERRUN, 0, 5, 77, 0)),
            Ok(Outcome::Failed(libc::ENOBUFS))
        );
        // A DONE without payload (old kernels); an ERROR without one is
        // malformed.
        assert_eq!(walk(&message(NLMSG_DONE, 0, 5, 77, &[])), Ok(Outcome::Done));
        assert_eq!(
            walk(&message(NLMSG_ERROR, 0, 5, 77, &[])),
            Err(Truncated("nlmsgerr"))
        );
        // A length running past the datagram, or below the header's.
        let mut bad = answer(5, 77, 2);
        bad[0..4].copy_from_slice(&250u32.to_ne_bytes());
        assert_eq!(walk(&bad), Err(Truncated("nlmsghdr")));
        bad[0..4].copy_from_slice(&8u32.to_ne_bytes());
        assert_eq!(walk(&bad), Err(Truncated("nlmsghdr")));
        assert_eq!(walk(&[]), Ok(Outcome::More));
    }

    #[test]
    fn walks_attributes() {
        let mut b = Vec::new();
        push_attr(&mut b, 3, b"eth0\0");
        push_attr(&mut b, 0x8000 | 18, &[]);
        push_attr(&mut b, 7, &[9]);
        let got: Vec<_> = Attrs(&b).collect();
        assert_eq!(
            got,
            [
                Ok((3, &b"eth0\0"[..])),
                Ok((18, &[][..])),
                Ok((7, &[9][..]))
            ]
        );
        assert_eq!(attr_string(b"eth0\0junk"), "eth0");
        assert_eq!(attr_string(b"eth0"), "eth0");
        // The last attribute's padding may be missing.
        let unpadded = &b[..b.len() - 3];
        assert_eq!(Attrs(unpadded).count(), 3);
        // A length beyond the buffer, or shorter than the header.
        assert_eq!(
            Attrs(&[200, 0, 1, 0, 0]).collect::<Vec<_>>(),
            [Err(Truncated("attribute"))]
        );
        assert_eq!(
            Attrs(&[2, 0, 1, 0]).collect::<Vec<_>>(),
            [Err(Truncated("attribute"))]
        );
    }

    #[test]
    fn never_panics_on_random_bytes() {
        let mut rng = crate::rng::Rng::from_seed(7);
        for _ in 0..20_000 {
            let len = (rng.next_u32() % 96) as usize;
            let mut m: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
            if len >= NLMSG_HDRLEN && rng.next_u32() % 2 == 0 {
                m[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
            }
            let _ = walk_answers(&m, 0, 0, &mut false, &mut |_, b| {
                let _ = Attrs(b.get(NLMSG_HDRLEN..).unwrap_or(&[])).count();
            });
            let _ = Attrs(&m).count();
        }
    }

    #[test]
    fn frames_requests_and_talks_to_the_kernel() {
        let mut sock = match RequestSocket::open(libc::NETLINK_ROUTE) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("netlink unavailable, test skipped: {e}");
                return;
            }
        };
        // RTM_GETLINK dump with an empty ifinfomsg; the socket sets the
        // length and the sequence number.
        let mut req = vec![0u8; NLMSG_HDRLEN + 16];
        req[4..6].copy_from_slice(&18u16.to_ne_bytes());
        req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        sock.set_seq(0x0102_0303);
        let mut links = 0;
        let interrupted = sock
            .exchange(&mut req, &mut |kind, _| links += usize::from(kind == 16))
            .unwrap();
        assert_eq!(u32_at(&req, 0), Some(req.len() as u32));
        assert_eq!(u32_at(&req, 8), Some(0x0102_0304));
        assert!(links >= 1, "at least the loopback interface");
        assert!(!interrupted);
        // A request the kernel refuses: its errno, and the socket stays
        // usable.
        let mut bad = vec![0u8; NLMSG_HDRLEN];
        bad[4..6].copy_from_slice(&0x7ffu16.to_ne_bytes());
        bad[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        assert!(sock.exchange(&mut bad, &mut |_, _| {}).is_err());
        let mut again = 0;
        sock.exchange(&mut req, &mut |kind, _| again += usize::from(kind == 16))
            .unwrap();
        assert_eq!(again, links);
        // Too short to be a request.
        assert_eq!(
            sock.exchange(&mut [0u8; 4], &mut |_, _| {})
                .unwrap_err()
                .kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn abandoned_dumps_are_skipped_or_reopened() {
        let Ok(mut sock) = RequestSocket::open(libc::NETLINK_ROUTE) else {
            eprintln!("netlink unavailable, test skipped");
            return;
        };
        let mut dump = vec![0u8; NLMSG_HDRLEN + 16];
        dump[4..6].copy_from_slice(&18u16.to_ne_bytes()); // RTM_GETLINK
        dump[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        let count_links = |sock: &mut RequestSocket| {
            let mut n = 0;
            sock.exchange(&mut dump.clone(), &mut |_, _| n += 1)
                .map(|_| n)
        };
        let count = count_links(&mut sock).unwrap();
        // A dump abandoned half way (as after a timeout) keeps running in
        // the kernel: a new request on the same socket would get EBUSY...
        sock.seq += 1;
        sock.send(&mut dump.clone()).unwrap();
        sock.reopen = true;
        // ...so after a failure the next dump starts on a fresh socket.
        assert_eq!(count_links(&mut sock).unwrap(), count);
        // The failure itself is what marks the socket for reopening.
        sock.seq += 1;
        sock.send(&mut dump.clone()).unwrap();
        if let Err(e) = count_links(&mut sock) {
            assert_eq!(e.raw_os_error(), Some(libc::EBUSY));
            assert!(sock.reopen);
        }
        assert_eq!(count_links(&mut sock).unwrap(), count);
        assert!(!sock.reopen);
        // Datagrams larger than the buffer grow it.
        sock.set_buffer_len(64);
        assert_eq!(count_links(&mut sock).unwrap(), count);
        assert!(sock.buffer_len() > 64);
    }
}
