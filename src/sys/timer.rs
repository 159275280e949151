//! A periodic timer as a file descriptor.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::cvt;

/// A periodic timer on CLOCK_MONOTONIC.
pub struct TimerFd {
    fd: OwnedFd,
}

impl TimerFd {
    pub fn periodic(interval_ms: u64) -> io::Result<TimerFd> {
        // SAFETY: timerfd_create takes no pointers.
        let fd = cvt(unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        })?;
        // SAFETY: timerfd_create returned a new descriptor that nothing
        // else owns.
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
        // SAFETY: `spec` is valid for reads; the old value is not asked for.
        cvt(unsafe { libc::timerfd_settime(fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) })?;
        Ok(TimerFd { fd })
    }

    /// Number of expirations since the last read (0 if none).
    pub fn read(&self) -> u64 {
        let mut n = 0u64;
        // SAFETY: `n` is valid for writes of its 8 bytes.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{poll, pollfd};

    #[test]
    fn timer_fires() {
        let t = TimerFd::periodic(10).unwrap();
        let mut fds = [pollfd(t.as_fd().as_raw_fd(), libc::POLLIN)];
        assert_eq!(poll(&mut fds, 1000).unwrap(), 1);
        assert!(t.read() >= 1);
    }
}
