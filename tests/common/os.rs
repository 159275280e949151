//! The system calls the test rigs and benchmarks make beyond std and
//! `wsflowd::sys`, behind safe wrappers: the test side's `unsafe` lives
//! here, each block with its `// SAFETY:` comment.

use std::fs::File;
use std::io;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;

/// Whether this process runs as root (effective uid 0).
pub fn is_root() -> bool {
    // SAFETY: geteuid takes no arguments and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Sends `signal` to the process `pid`.
pub fn kill(pid: u32, signal: i32) -> io::Result<()> {
    let pid = i32::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: kill takes no pointers; a positive pid names one process.
    if unsafe { libc::kill(pid, signal) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Moves the calling thread into the network namespace `ns` (a file of
/// /var/run/netns).
pub fn enter_netns(ns: &File) -> io::Result<()> {
    // SAFETY: setns takes a descriptor, which `ns` keeps open for the call.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Makes the kernel kill this child when the thread that forked it ends
/// (PR_SET_PDEATHSIG with SIGKILL): for `Command::pre_exec`.
pub fn die_with_parent() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only; async-signal-safe, as
    // pre_exec requires.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `TUNSETIFF`: makes the fresh /dev/net/tun descriptor `tun` the
/// interface `name` (at most 15 bytes are used) with `flags` (IFF_TAP...).
pub fn tun_set_iff(tun: &File, name: &str, flags: libc::c_short) -> io::Result<()> {
    const TUNSETIFF: u32 = 0x4004_54ca;
    // `struct ifreq`: the name (16 bytes with its NUL), then the flags.
    let mut ifr = [0u8; 40];
    let len = name.len().min(15);
    ifr[..len].copy_from_slice(&name.as_bytes()[..len]);
    ifr[16..18].copy_from_slice(&flags.to_ne_bytes());
    // The request's C type differs between libcs (c_ulong for glibc,
    // c_int for musl): `as _` fits either.
    // SAFETY: TUNSETIFF reads and writes a `struct ifreq` (40 bytes here,
    // its size on every target), which `ifr` is, valid for the call.
    if unsafe { libc::ioctl(tun.as_raw_fd(), TUNSETIFF as _, ifr.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `TUNSETLINK`: the link type (`ARPHRD_*`) of the TUN/TAP interface of
/// `tun`, before it is up.
pub fn tun_set_link(tun: &File, link_type: u16) -> io::Result<()> {
    const TUNSETLINK: u32 = 0x4004_54cd;
    // SAFETY: TUNSETLINK takes its argument by value, not as a pointer.
    let rc = unsafe {
        libc::ioctl(
            tun.as_raw_fd(),
            TUNSETLINK as _,
            libc::c_ulong::from(link_type),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends one payload many times per system call (`sendmmsg(2)`) on a
/// connected socket: the traffic generator of the benchmarks.
pub struct BatchSender {
    /// Each message points to `iov`, which points to `payload`: both are
    /// boxed so that their addresses stay put when the sender moves.
    msgs: Vec<libc::mmsghdr>,
    _iov: Box<libc::iovec>,
    _payload: Box<[u8]>,
}

impl BatchSender {
    /// Up to `batch` copies of `payload` per call.
    pub fn new(payload: &[u8], batch: usize) -> BatchSender {
        let mut payload: Box<[u8]> = payload.into();
        let mut iov = Box::new(libc::iovec {
            iov_base: payload.as_mut_ptr().cast(),
            iov_len: payload.len(),
        });
        let msgs = (0..batch)
            .map(|_| {
                // SAFETY: all zeros is a valid `struct mmsghdr` (null
                // pointers, zero lengths).
                let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
                m.msg_hdr.msg_iov = &mut *iov;
                m.msg_hdr.msg_iovlen = 1;
                m
            })
            .collect();
        BatchSender {
            msgs,
            _iov: iov,
            _payload: payload,
        }
    }

    /// Sends `n` copies (at most the batch size); returns how many went.
    pub fn send(&mut self, socket: &UdpSocket, n: usize) -> io::Result<usize> {
        let n = n.min(self.msgs.len()) as libc::c_uint;
        // SAFETY: `msgs` holds at least `n` headers, each pointing to the
        // boxed iovec and payload, which live as long as `self`.
        let rc = unsafe { libc::sendmmsg(socket.as_raw_fd(), self.msgs.as_mut_ptr(), n, 0) };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(rc as usize)
        }
    }
}
