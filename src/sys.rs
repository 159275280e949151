//! Thin, safe wrappers around the system calls the daemon needs beyond std:
//! signalfd, timerfd, poll, interface names, uname, a detached helper
//! thread.
//!
//! Each wrapper owns its file descriptor (`OwnedFd`), so nothing leaks on
//! error paths and reloads.

use std::ffi::{CStr, CString};
use std::io;
use std::mem;
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

/// Leaves a line on stderr (logd under procd) when the daemon dies of
/// SIGILL or SIGTRAP, then dies of it as it would have.
///
/// Why: the OpenWrt builds are built to stop at a panic without a message
/// (`-Cpanic=immediate-abort`, ~85 KB less on mips: no formatting of panic
/// messages, no unwinder), which executes a trap instruction: SIGILL on
/// x86 and ARM, SIGTRAP on MIPS and AArch64. Without this, `logread` would
/// only show procd restarting the service. SIGILL is also what a binary
/// built for another CPU gets, so the line says both. Only async-signal-
/// safe calls: write, signal, raise.
pub fn report_fatal_signals() {
    extern "C" fn report(signal: libc::c_int) {
        let line: &[u8] = if signal == libc::SIGILL {
            b"wsflowd: fatal: SIGILL (illegal instruction): an internal error (builds for \
OpenWrt stop at a panic without a message) or a binary for another CPU\n"
        } else {
            b"wsflowd: fatal: SIGTRAP: an internal error (builds for OpenWrt stop at a \
panic without a message)\n"
        };
        unsafe {
            libc::write(2, line.as_ptr().cast(), line.len());
            // Blocked while this handler runs: delivered, with the default
            // action, as soon as it returns.
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
    for signal in [libc::SIGILL, libc::SIGTRAP] {
        unsafe {
            let mut action: libc::sigaction = mem::zeroed();
            action.sa_sigaction = report as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Runs `work` on a detached POSIX thread with a `stack_bytes` stack.
///
/// Why not `std::thread`: its spawn names threads through musl's
/// `pthread_setname_np`, which formats a /proc path with `snprintf` and so
/// links all of printf, and it keeps per-thread bookkeeping for join and
/// stack overflow reports; with those, ~17 KB of a mips binary for the one
/// short-lived helper the daemon has (name resolution, which may block).
/// The thread inherits the caller's signal mask, as std's do: signals stay
/// with the event loop's signalfd.
pub fn spawn_detached(stack_bytes: usize, work: Box<dyn FnOnce() + Send>) -> io::Result<()> {
    extern "C" fn start(arg: *mut libc::c_void) -> *mut libc::c_void {
        // Ownership comes back from pthread_create's argument, exactly once.
        let work = unsafe { Box::from_raw(arg.cast::<Box<dyn FnOnce() + Send>>()) };
        work();
        std::ptr::null_mut()
    }
    let stack_bytes = stack_bytes.max(libc::PTHREAD_STACK_MIN);
    unsafe {
        let mut attr: libc::pthread_attr_t = mem::zeroed();
        let r = libc::pthread_attr_init(&mut attr);
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        let mut r = libc::pthread_attr_setstacksize(&mut attr, stack_bytes);
        if r == 0 {
            r = libc::pthread_attr_setdetachstate(&mut attr, libc::PTHREAD_CREATE_DETACHED);
        }
        if r == 0 {
            let arg = Box::into_raw(Box::new(work));
            let mut thread: libc::pthread_t = mem::zeroed();
            r = libc::pthread_create(&mut thread, &attr, start, arg.cast());
            if r != 0 {
                // Not started: the work is ours to drop.
                drop(Box::from_raw(arg));
            }
        }
        libc::pthread_attr_destroy(&mut attr);
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
    }
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

/// Reads an integer socket option.
pub fn getsockopt_int(fd: BorrowedFd, level: i32, name: i32) -> io::Result<i32> {
    let mut value: i32 = 0;
    let mut len = mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: `value` and `len` outlive the call, and `len` says how many
    // bytes `value` has room for; the kernel writes at most that many.
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut value as *mut i32).cast(),
            &mut len,
        )
    })?;
    Ok(value)
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

/// Proof that this process is the only agent of its kind in this network
/// namespace: an abstract Unix socket bound under a name, which the kernel
/// gives to one socket at a time and frees when the process ends, however
/// it ends (no stale lock file, nothing to clean up, nothing to write:
/// the daemon runs in a jail without a writable /var/run). Abstract names
/// belong to the network namespace, as the interfaces an agent samples do.
#[derive(Debug)]
pub struct InstanceLock {
    _socket: std::os::unix::net::UnixDatagram,
    name: String,
}

impl InstanceLock {
    /// Takes `name`; `Ok(None)` when another process holds it.
    pub fn acquire(name: &str) -> io::Result<Option<InstanceLock>> {
        use std::os::linux::net::SocketAddrExt;
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        match std::os::unix::net::UnixDatagram::bind_addr(&address) {
            Ok(socket) => Ok(Some(InstanceLock {
                _socket: socket,
                name: name.to_owned(),
            })),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The abstract socket name (shown by `ss -xlp` as `@name`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn detached_threads_run_their_work() {
        use std::sync::{mpsc, Arc, Mutex};
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Mutex::new(0u32));
        for i in 1..=8u32 {
            let (tx, shared) = (tx.clone(), Arc::clone(&shared));
            super::spawn_detached(
                64 * 1024,
                Box::new(move || {
                    *shared.lock().unwrap() += i;
                    tx.send(i).unwrap();
                }),
            )
            .unwrap();
        }
        let mut got: Vec<u32> = (0..8).map(|_| rx.recv().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, (1..=8).collect::<Vec<_>>());
        assert_eq!(*shared.lock().unwrap(), 36);
        // A tiny stack request is raised to the minimum rather than refused.
        let (tx, rx) = mpsc::channel();
        super::spawn_detached(1, Box::new(move || tx.send(()).unwrap())).unwrap();
        rx.recv().unwrap();
    }

    use super::*;

    #[test]
    fn loopback_is_known() {
        let lo = if_nametoindex("lo").expect("lo exists");
        assert_eq!(if_indextoname(lo).as_deref(), Some("lo"));
        assert_eq!(if_nametoindex("no-such-if0"), None);
        assert!(!uname().release.is_empty());
    }

    #[test]
    fn timer_fires() {
        let t = TimerFd::periodic(10).unwrap();
        let mut fds = [pollfd(t.as_fd().as_raw_fd(), libc::POLLIN)];
        assert_eq!(poll(&mut fds, 1000).unwrap(), 1);
        assert!(t.read() >= 1);
    }

    #[test]
    fn an_instance_lock_is_held_once_and_freed_with_its_owner() {
        let name = format!("wsflowd-test-lock-{}", std::process::id());
        let held = InstanceLock::acquire(&name).unwrap().expect("free");
        assert_eq!(held.name(), name);
        assert!(InstanceLock::acquire(&name).unwrap().is_none(), "taken");
        drop(held);
        assert!(InstanceLock::acquire(&name).unwrap().is_some(), "freed");
    }
}
