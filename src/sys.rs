//! Thin, safe wrappers around the system calls the daemon needs beyond std:
//! signalfd, timerfd, poll, interface names and addresses, uname.
//!
//! Each wrapper owns its file descriptor (`OwnedFd`), so nothing leaks on
//! error paths and reloads.

use std::ffi::{CStr, CString};
use std::io;
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Turns a -1 return into the `errno` error.
pub fn cvt<T: PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

pub fn set_nonblocking(fd: BorrowedFd) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    let flags = cvt(unsafe { libc::fcntl(raw, libc::F_GETFL) })?;
    cvt(unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    Ok(())
}

/// Sets an integer socket option.
pub fn setsockopt_int(fd: BorrowedFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const i32).cast(),
            mem::size_of::<i32>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// Signals delivered through a file descriptor, so that the event loop
/// handles them like any other event (no async-signal-safety concerns).
pub struct SignalFd {
    fd: OwnedFd,
}

impl SignalFd {
    /// Blocks `signals` for the calling thread (call it before starting any
    /// other thread, which inherits the mask) and returns a descriptor
    /// that becomes readable when one is pending.
    pub fn new(signals: &[i32]) -> io::Result<SignalFd> {
        unsafe {
            let mut set: libc::sigset_t = mem::zeroed();
            libc::sigemptyset(&mut set);
            for &s in signals {
                libc::sigaddset(&mut set, s);
            }
            let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            let fd = cvt(libc::signalfd(
                -1,
                &set,
                libc::SFD_NONBLOCK | libc::SFD_CLOEXEC,
            ))?;
            Ok(SignalFd {
                fd: OwnedFd::from_raw_fd(fd),
            })
        }
    }

    /// The next pending signal, if any.
    pub fn read(&self) -> io::Result<Option<i32>> {
        let mut info: libc::signalfd_siginfo = unsafe { mem::zeroed() };
        let size = mem::size_of::<libc::signalfd_siginfo>();
        let n = unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                size,
            )
        };
        match n {
            n if n == size as isize => Ok(Some(info.ssi_signo as i32)),
            -1 if io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock => Ok(None),
            -1 => Err(io::Error::last_os_error()),
            _ => Ok(None),
        }
    }
}

impl AsFd for SignalFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A periodic timer on CLOCK_MONOTONIC.
pub struct TimerFd {
    fd: OwnedFd,
}

impl TimerFd {
    pub fn periodic(interval_ms: u64) -> io::Result<TimerFd> {
        let fd = cvt(unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        })?;
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let ts = libc::timespec {
            // `as _`: time_t is deprecated as a name in libc for musl
            // (its width changes with musl 1.2); the field's type is right.
            tv_sec: (interval_ms / 1000) as _,
            tv_nsec: ((interval_ms % 1000) * 1_000_000) as libc::c_long,
        };
        let spec = libc::itimerspec {
            it_interval: ts,
            it_value: ts,
        };
        cvt(unsafe { libc::timerfd_settime(fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) })?;
        Ok(TimerFd { fd })
    }

    /// Number of expirations since the last read (0 if none).
    pub fn read(&self) -> u64 {
        let mut n = 0u64;
        let r = unsafe { libc::read(self.fd.as_raw_fd(), (&mut n as *mut u64).cast(), 8) };
        if r == 8 {
            n
        } else {
            0
        }
    }
}

impl AsFd for TimerFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// `poll(2)`, retried on EINTR. Returns the number of ready descriptors.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    loop {
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

pub fn pollfd(fd: RawFd, events: i16) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// The index of the interface called `name`, if it exists.
pub fn if_nametoindex(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => None,
        i => Some(i),
    }
}

/// The name of the interface with index `index`, if it exists.
pub fn if_indextoname(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    let name = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

/// An address configured on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceAddress {
    pub interface: String,
    pub address: IpAddr,
}

/// Every IPv4 and IPv6 address configured on the host, in the kernel's order.
pub fn interface_addresses() -> io::Result<Vec<InterfaceAddress>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    cvt(unsafe { libc::getifaddrs(&mut head) })?;
    let mut out = Vec::new();
    let mut p = head;
    while !p.is_null() {
        let ifa = unsafe { &*p };
        p = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        let address = match family {
            libc::AF_INET => {
                let sa = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                IpAddr::V4(Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr)))
            }
            libc::AF_INET6 => {
                let sa = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
                IpAddr::V6(Ipv6Addr::from(sa.sin6_addr.s6_addr))
            }
            _ => continue,
        };
        let interface = unsafe { CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        out.push(InterfaceAddress { interface, address });
    }
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

/// What `uname(2)` says of the system.
#[derive(Debug, Clone, Default)]
pub struct Uname {
    pub nodename: String,
    pub release: String,
    pub machine: String,
}

pub fn uname() -> Uname {
    let mut u: libc::utsname = unsafe { mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return Uname::default();
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Uname {
        nodename: field(&u.nodename),
        release: field(&u.release),
        machine: field(&u.machine),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_known() {
        let lo = if_nametoindex("lo").expect("lo exists");
        assert_eq!(if_indextoname(lo).as_deref(), Some("lo"));
        assert_eq!(if_nametoindex("no-such-if0"), None);
        assert!(interface_addresses()
            .unwrap()
            .iter()
            .any(|a| a.interface == "lo" && a.address.is_loopback()));
        assert!(!uname().release.is_empty());
    }

    #[test]
    fn timer_fires() {
        let t = TimerFd::periodic(10).unwrap();
        let mut fds = [pollfd(t.as_fd().as_raw_fd(), libc::POLLIN)];
        assert_eq!(poll(&mut fds, 1000).unwrap(), 1);
        assert!(t.read() >= 1);
    }
}
