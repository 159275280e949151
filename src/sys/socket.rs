//! Sockets of the address families the daemon uses: netlink (the
//! kernel's routing and nl80211 messages), packet (sampling), Unix (ubus,
//! syslog) and IP (UDP to collectors and DNS servers). One wrapper per
//! system call, generic over the [`SockAddr`] of the family; descriptors
//! come back owned.

use std::io;
use std::mem;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

use super::{cvt, Plain};

// SAFETY: `struct sockaddr_nl`: integers (family, padding, port id,
// groups).
unsafe impl Plain for libc::sockaddr_nl {}
// SAFETY: `struct sockaddr_ll`: integers and a byte array.
unsafe impl Plain for libc::sockaddr_ll {}
// SAFETY: `struct sockaddr_un`: the family and a `char` array.
unsafe impl Plain for libc::sockaddr_un {}

mod sealed {
    pub trait Sealed {}
}

/// A socket address of one family, laid out as the kernel reads it.
/// Sealed: the wrappers hand [`SockAddr::as_raw`]'s pointer and length to
/// the kernel, so only the types here implement it.
pub trait SockAddr: sealed::Sealed {
    /// The `struct sockaddr_*` and how many of its bytes are the address.
    fn as_raw(&self) -> (*const libc::sockaddr, libc::socklen_t);
}

/// A netlink address (`struct sockaddr_nl`): a port id and multicast
/// groups. Port 0 is the kernel, or, to bind, "let the kernel choose".
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct NetlinkAddr(libc::sockaddr_nl);

// SAFETY: a transparent `sockaddr_nl`, which is `Plain`.
unsafe impl Plain for NetlinkAddr {}

impl NetlinkAddr {
    pub fn new(port_id: u32, groups: u32) -> NetlinkAddr {
        let mut addr = libc::sockaddr_nl::zeroed();
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        addr.nl_pid = port_id;
        addr.nl_groups = groups;
        NetlinkAddr(addr)
    }

    /// The kernel's address (port 0, no groups).
    pub fn kernel() -> NetlinkAddr {
        NetlinkAddr::new(0, 0)
    }

    pub fn port_id(&self) -> u32 {
        self.0.nl_pid
    }
}

impl sealed::Sealed for NetlinkAddr {}
impl SockAddr for NetlinkAddr {
    fn as_raw(&self) -> (*const libc::sockaddr, libc::socklen_t) {
        let len = mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        ((&self.0 as *const libc::sockaddr_nl).cast(), len)
    }
}

/// A link-layer address (`struct sockaddr_ll`) to bind a packet socket to
/// one interface and protocol.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct PacketAddr(libc::sockaddr_ll);

impl PacketAddr {
    /// Frames of `protocol` (an `ETH_P_*` value, host order) on the
    /// interface `if_index`.
    pub fn new(if_index: u32, protocol: u16) -> PacketAddr {
        PacketAddr(libc::sockaddr_ll {
            sll_family: libc::AF_PACKET as u16,
            sll_protocol: protocol.to_be(),
            sll_ifindex: if_index as i32,
            sll_hatype: 0,
            sll_pkttype: 0,
            sll_halen: 0,
            sll_addr: [0; 8],
        })
    }
}

impl sealed::Sealed for PacketAddr {}
impl SockAddr for PacketAddr {
    fn as_raw(&self) -> (*const libc::sockaddr, libc::socklen_t) {
        let len = mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        ((&self.0 as *const libc::sockaddr_ll).cast(), len)
    }
}

/// A Unix socket's file system path (`struct sockaddr_un`).
#[derive(Clone, Copy)]
pub struct UnixAddr {
    addr: libc::sockaddr_un,
    /// The family, the path and its NUL.
    len: libc::socklen_t,
}

impl UnixAddr {
    /// The address of the socket at `path` (bytes of a file name, without
    /// NUL); None if it does not fit or holds a NUL.
    pub fn new(path: &[u8]) -> Option<UnixAddr> {
        let mut addr = libc::sockaddr_un::zeroed();
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        if path.len() >= addr.sun_path.len() || path.contains(&0) {
            return None;
        }
        for (d, s) in addr.sun_path.iter_mut().zip(path) {
            *d = *s as libc::c_char;
        }
        let len = mem::offset_of!(libc::sockaddr_un, sun_path) + path.len() + 1;
        Some(UnixAddr {
            addr,
            len: len as libc::socklen_t,
        })
    }
}

impl sealed::Sealed for UnixAddr {}
impl SockAddr for UnixAddr {
    fn as_raw(&self) -> (*const libc::sockaddr, libc::socklen_t) {
        // `len` ≤ the structure's size: checked in `new`.
        ((&self.addr as *const libc::sockaddr_un).cast(), self.len)
    }
}

/// An IPv4 or IPv6 socket address (`struct sockaddr_in`/`sockaddr_in6`).
#[derive(Clone, Copy)]
pub enum InetAddr {
    V4(libc::sockaddr_in),
    V6(libc::sockaddr_in6),
}

impl From<SocketAddr> for InetAddr {
    fn from(addr: SocketAddr) -> InetAddr {
        match addr {
            SocketAddr::V4(a) => InetAddr::V4(libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            }),
            SocketAddr::V6(a) => InetAddr::V6(libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            }),
        }
    }
}

impl sealed::Sealed for InetAddr {}
impl SockAddr for InetAddr {
    fn as_raw(&self) -> (*const libc::sockaddr, libc::socklen_t) {
        match self {
            InetAddr::V4(a) => (
                (a as *const libc::sockaddr_in).cast(),
                mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            ),
            InetAddr::V6(a) => (
                (a as *const libc::sockaddr_in6).cast(),
                mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            ),
        }
    }
}

/// A non-blocking UDP socket connected to `target` (from an ephemeral
/// port of the address the route to it chooses, as binding to the
/// unspecified address and port 0 first would). With the system calls
/// themselves: std's `UdpSocket::bind`/`connect` go through its
/// `ToSocketAddrs` iteration (~1 KB of a mips binary).
pub fn udp_connected(target: SocketAddr) -> io::Result<UdpSocket> {
    let domain = if target.is_ipv6() {
        libc::AF_INET6
    } else {
        libc::AF_INET
    };
    let fd = socket(
        domain,
        libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        0,
    )?;
    connect(fd.as_fd(), &InetAddr::from(target))?;
    Ok(UdpSocket::from(fd))
}

/// `socket(2)`: a new socket, owned.
pub fn socket(
    domain: libc::c_int,
    kind: libc::c_int,
    protocol: libc::c_int,
) -> io::Result<OwnedFd> {
    // SAFETY: socket takes no pointers.
    let fd = cvt(unsafe { libc::socket(domain, kind, protocol) })?;
    // SAFETY: socket returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `bind(2)`.
pub fn bind(fd: BorrowedFd, addr: &impl SockAddr) -> io::Result<()> {
    let (ptr, len) = addr.as_raw();
    // SAFETY: `ptr` points to `len` bytes of an address that outlives the
    // call (`SockAddr`).
    cvt(unsafe { libc::bind(fd.as_raw_fd(), ptr, len) })?;
    Ok(())
}

/// `connect(2)`.
pub fn connect(fd: BorrowedFd, addr: &impl SockAddr) -> io::Result<()> {
    let (ptr, len) = addr.as_raw();
    // SAFETY: as for `bind`.
    cvt(unsafe { libc::connect(fd.as_raw_fd(), ptr, len) })?;
    Ok(())
}

/// `getsockname(2)`: the address the socket is bound to.
pub fn local_address<A: SockAddr + Plain>(fd: BorrowedFd) -> io::Result<A> {
    let mut addr = A::zeroed();
    let mut len = mem::size_of::<A>() as libc::socklen_t;
    // SAFETY: `addr` is valid for writes of `len` bytes, and any bytes
    // make a valid `A` (`Plain`); the kernel writes at most `len`.
    cvt(unsafe { libc::getsockname(fd.as_raw_fd(), (&mut addr as *mut A).cast(), &mut len) })?;
    Ok(addr)
}

/// `send(2)`: bytes sent.
pub fn send(fd: BorrowedFd, buf: &[u8], flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of its length.
    let n = cvt(unsafe { libc::send(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), flags) })?;
    Ok(n as usize)
}

/// `sendto(2)`: bytes sent.
pub fn send_to(
    fd: BorrowedFd,
    buf: &[u8],
    flags: libc::c_int,
    to: &impl SockAddr,
) -> io::Result<usize> {
    let (ptr, len) = to.as_raw();
    // SAFETY: `buf` is valid for reads of its length, `ptr` of `len`
    // bytes (`SockAddr`).
    let n = cvt(unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            flags,
            ptr,
            len,
        )
    })?;
    Ok(n as usize)
}

/// `recv(2)`: bytes received (with MSG_TRUNC, the datagram's length,
/// which may exceed `buf`).
pub fn recv(fd: BorrowedFd, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of its length; the kernel writes
    // at most that many bytes, whatever it returns.
    let n = cvt(unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), flags) })?;
    Ok(n as usize)
}

/// `recvfrom(2)`: bytes received (as for [`recv`]) and the sender.
pub fn recv_from<A: SockAddr + Plain>(
    fd: BorrowedFd,
    buf: &mut [u8],
    flags: libc::c_int,
) -> io::Result<(usize, A)> {
    let mut from = A::zeroed();
    let mut from_len = mem::size_of::<A>() as libc::socklen_t;
    // SAFETY: `buf` is valid for writes of its length, `from` of
    // `from_len` bytes, and any bytes make a valid `A` (`Plain`).
    let n = cvt(unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            flags,
            (&mut from as *mut A).cast(),
            &mut from_len,
        )
    })?;
    Ok((n as usize, from))
}

/// `recvmsg(2)` of bytes into `buf`, closing at once any descriptor the
/// peer passed along (SCM_RIGHTS): a peer must not make us hold
/// descriptors we never asked for. Returns the bytes received.
pub fn recv_closing_passed_fds(
    fd: BorrowedFd,
    buf: &mut [u8],
    flags: libc::c_int,
) -> io::Result<usize> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for a few descriptors; more are dropped by the kernel (the
    // message is flagged MSG_CTRUNC), which closes them itself.
    let mut control = [0u64; 16];
    // SAFETY: all zeros is a valid `struct msghdr`: null pointers with
    // zero lengths.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = mem::size_of_val(&control) as _;
    // SAFETY: `msg` points to one iovec describing `buf`, and to the
    // control buffer of the length given; all outlive the call.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, flags | libc::MSG_CMSG_CLOEXEC) };
    let n = cvt(n)?;
    close_passed_fds(&msg);
    Ok(n as usize)
}

/// Closes every descriptor an SCM_RIGHTS message carried.
fn close_passed_fds(msg: &libc::msghdr) {
    // The CMSG_ macros walk complete control messages within the buffer.
    // SAFETY: `msg` is what recvmsg filled in: its control buffer (8-byte
    // aligned) holds `msg_controllen` bytes of complete control messages.
    let mut c = unsafe { libc::CMSG_FIRSTHDR(msg) };
    while !c.is_null() {
        // SAFETY: a non-null header from CMSG_FIRSTHDR/CMSG_NXTHDR is a
        // complete, aligned `cmsghdr` inside the buffer.
        let header = unsafe { &*c };
        if header.cmsg_level == libc::SOL_SOCKET && header.cmsg_type == libc::SCM_RIGHTS {
            // SAFETY: the data of the message follows its header.
            let data = unsafe { libc::CMSG_DATA(c) }.cast::<libc::c_int>();
            // SAFETY: CMSG_LEN is arithmetic only.
            let header_len = unsafe { libc::CMSG_LEN(0) } as usize;
            let bytes = (header.cmsg_len as usize).saturating_sub(header_len);
            for i in 0..bytes / mem::size_of::<libc::c_int>() {
                // SAFETY: the kernel wrote `bytes` bytes of descriptors
                // after the header, inside the buffer.
                let passed = unsafe { std::ptr::read_unaligned(data.add(i)) };
                // SAFETY: a descriptor the kernel just installed in this
                // process for us; nothing else owns it.
                unsafe { libc::close(passed) };
            }
        }
        // SAFETY: as for CMSG_FIRSTHDR; null after the last message.
        c = unsafe { libc::CMSG_NXTHDR(msg, c) };
    }
}

/// `shutdown(2)`: `how` is SHUT_RD, SHUT_WR or SHUT_RDWR. Whether it
/// worked is all there is to know (ENOTCONN: the peer went first).
pub fn shutdown(fd: BorrowedFd, how: libc::c_int) -> bool {
    // SAFETY: shutdown takes no pointers.
    unsafe { libc::shutdown(fd.as_raw_fd(), how) == 0 }
}

/// `setsockopt(2)` with a value of plain data.
pub fn setsockopt<T: Plain>(
    fd: BorrowedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` is valid for reads of its size and holds no pointer
    // the kernel could follow (`Plain`).
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            mem::size_of::<T>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `getsockopt(2)` of a value of plain data.
pub fn getsockopt<T: Plain>(
    fd: BorrowedFd,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<T> {
    try_getsockopt(fd, level, name).ok_or_else(io::Error::last_os_error)
}

/// [`getsockopt`] for a caller that has no use for the error (it costs
/// the router binary bytes at every such call).
pub fn try_getsockopt<T: Plain>(
    fd: BorrowedFd,
    level: libc::c_int,
    name: libc::c_int,
) -> Option<T> {
    let mut value = T::zeroed();
    let mut len = mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `value` is valid for writes of `len` bytes and any bytes
    // make a valid `T` (`Plain`); the kernel writes at most `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut value as *mut T).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(value)
}

/// Sets an integer socket option.
pub fn setsockopt_int(fd: BorrowedFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    setsockopt(fd, level, name, &value)
}

/// Reads an integer socket option.
pub fn getsockopt_int(fd: BorrowedFd, level: i32, name: i32) -> io::Result<i32> {
    getsockopt(fd, level, name)
}

/// The socket's pending error, if any, cleared (SO_ERROR).
pub fn take_error(fd: BorrowedFd) -> io::Result<()> {
    match try_getsockopt::<i32>(fd, libc::SOL_SOCKET, libc::SO_ERROR) {
        Some(err) if err != 0 => Err(io::Error::from_raw_os_error(err)),
        _ => Ok(()),
    }
}

/// How long a blocking receive may wait (SO_RCVTIMEO).
pub fn set_receive_timeout(fd: BorrowedFd, timeout: Duration) -> io::Result<()> {
    let tv = libc::timeval {
        // `as _`: time_t's width depends on the libc (see TimerFd).
        tv_sec: timeout.as_secs() as _,
        tv_usec: timeout.subsec_micros() as _,
    };
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)
}

/// Attaches a classic BPF program to a socket (SO_ATTACH_FILTER),
/// replacing any filter.
pub fn attach_filter(fd: BorrowedFd, program: &[libc::sock_filter]) -> io::Result<()> {
    let prog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr().cast_mut(),
    };
    // A longer program is cut, never overread; the kernel copies, never writes.
    // SAFETY: `prog` points to the instructions of `program`, at least `len`
    // of them; both outlive the call.
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn netlink_sockets_bind_send_and_receive() {
        let fd = socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
        .unwrap();
        bind(fd.as_fd(), &NetlinkAddr::kernel()).unwrap();
        let me: NetlinkAddr = local_address(fd.as_fd()).unwrap();
        assert_ne!(me.port_id(), 0, "the kernel chose a port");
        set_receive_timeout(fd.as_fd(), Duration::from_secs(1)).unwrap();
        // RTM_GETLINK of lo (NLM_F_REQUEST | NLM_F_ACK): an answer from the
        // kernel, port 0.
        let index = crate::sys::if_nametoindex("lo").unwrap();
        let mut request = [0u8; 32];
        request[0..4].copy_from_slice(&32u32.to_ne_bytes());
        request[4..6].copy_from_slice(&18u16.to_ne_bytes());
        request[6..8].copy_from_slice(&5u16.to_ne_bytes());
        request[20..24].copy_from_slice(&(index as i32).to_ne_bytes());
        assert_eq!(
            send_to(fd.as_fd(), &request, 0, &NetlinkAddr::kernel()).unwrap(),
            32
        );
        let mut buf = [0u8; 8192];
        let (n, from): (usize, NetlinkAddr) = recv_from(fd.as_fd(), &mut buf, 0).unwrap();
        assert!(n >= 16);
        assert_eq!(from.port_id(), 0);
        assert_eq!(u16::from_ne_bytes([buf[4], buf[5]]), 16, "RTM_NEWLINK");
    }

    #[test]
    fn socket_options_round_trip() {
        let fd = socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0).unwrap();
        setsockopt_int(fd.as_fd(), libc::SOL_SOCKET, libc::SO_PASSCRED, 1).unwrap();
        assert_eq!(
            getsockopt_int(fd.as_fd(), libc::SOL_SOCKET, libc::SO_PASSCRED).unwrap(),
            1
        );
        take_error(fd.as_fd()).unwrap();
        let e = setsockopt_int(fd.as_fd(), libc::SOL_SOCKET, -1, 0).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOPROTOOPT));
    }

    #[test]
    fn unix_addresses_fit_or_are_refused() {
        assert!(UnixAddr::new(b"/var/run/ubus/ubus.sock").is_some());
        for bad in [&[b'x'; 108][..], b"a\0b"] {
            assert!(UnixAddr::new(bad).is_none());
        }
        let e = match connect(
            socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0)
                .unwrap()
                .as_fd(),
            &UnixAddr::new(b"/nonexistent/socket").unwrap(),
        ) {
            Err(e) => e,
            Ok(()) => panic!("connected to nothing"),
        };
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    /// Connected as std's bind-then-connect connects: to the target, from
    /// an ephemeral port of the loopback address, non-blocking.
    #[test]
    fn udp_sockets_connect_as_std_connects() {
        for listen in ["127.0.0.1:0", "[::1]:0"] {
            let Ok(server) = UdpSocket::bind(listen) else {
                continue; // no IPv6 here
            };
            let target = server.local_addr().unwrap();
            let ours = udp_connected(target).unwrap();
            assert_eq!(ours.peer_addr().unwrap(), target);
            let local = ours.local_addr().unwrap();
            assert_eq!(local.ip(), target.ip());
            assert_ne!(local.port(), 0);
            let mut buf = [0u8; 8];
            let e = ours.recv(&mut buf).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
            ours.send(b"sflow").unwrap();
            let (n, from) = server.recv_from(&mut buf).unwrap();
            assert_eq!((&buf[..n], from), (&b"sflow"[..], local));
        }
    }
}
