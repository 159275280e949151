//! Signals delivered through a file descriptor.

use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::{cvt, Plain};

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
        let mut set = libc::sigset_t::zeroed();
        // SAFETY: `set` is a valid signal set for these calls to write.
        unsafe { libc::sigemptyset(&mut set) };
        for &s in signals {
            // SAFETY: as above; an invalid signal number is refused (EINVAL)
            // and leaves the set as it was.
            unsafe { libc::sigaddset(&mut set, s) };
        }
        // SAFETY: `set` is initialized; the old mask is not asked for.
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        // SAFETY: `set` is initialized and only read.
        let fd = cvt(unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) })?;
        // SAFETY: signalfd returned a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(SignalFd { fd })
    }

    /// The next pending signal, if any.
    pub fn read(&self) -> io::Result<Option<i32>> {
        let mut info = libc::signalfd_siginfo::zeroed();
        let size = mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: `info` is valid for writes of `size` bytes, and any bytes
        // are a valid `signalfd_siginfo` (`Plain`).
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
