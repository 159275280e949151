//! The system calls the daemon needs beyond std, behind safe wrappers.
//!
//! This module is where the crate's `unsafe` lives: everything else calls
//! the functions here and needs no `unsafe` of its own. Each wrapper owns
//! what it creates (descriptors as `OwnedFd`, the packet ring as [`Mmap`]),
//! so nothing leaks on error paths and reloads, and each `unsafe` block
//! says, in a `// SAFETY:` comment, why what it does is sound. A function
//! whose soundness depends on its caller is an `unsafe fn` with a
//! `# Safety` section.
//!
//! - [`socket`]: sockets of the three address families used (netlink,
//!   packet, Unix), their options, sending and receiving.
//! - [`mmap`]: a shared mapping owned by a value (the TPACKET_V3 ring).
//! - [`bpf`]: the `bpf(2)` commands used, each with its `bpf_attr` laid
//!   out as a named structure.
//! - [`signal`], [`timer`], [`poll()`]: the event loop's descriptors.
//! - [`thread`], [`channel`]: a detached helper thread (and a thread's
//!   priority), owned values handed between threads without a lock.
//! - [`file`]: opening files for reading, without std's `OpenOptions`.
//! - [`fatal`], [`process`], [`system`]: a last word on a fatal signal,
//!   daemonizing, facts about the system (uname, interface names,
//!   sysconf, random seed, the kernel's time zone, the terminal's size).

pub mod bpf;
pub mod channel;
pub mod fatal;
pub mod file;
pub mod lock;
pub mod mmap;
mod poll;
pub mod process;
pub mod signal;
pub mod socket;
pub mod system;
pub mod thread;
pub mod timer;

use std::io;
use std::mem;

pub use fatal::report_fatal_signals;
pub use lock::InstanceLock;
pub use mmap::Mmap;
pub use poll::{poll, pollfd};
pub use signal::SignalFd;
pub use socket::{getsockopt_int, setsockopt_int};
pub use system::{if_indextoname, if_nametoindex, uname, Uname};
pub use thread::spawn_detached;
pub use timer::TimerFd;

/// Turns a -1 return into the `errno` error. Always inlined: the caller
/// then sees that the error is an OS error, which needs no drop (a
/// difference of bytes in the router binary).
#[inline(always)]
pub(crate) fn cvt<T: PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Plain old data the kernel reads and writes as bytes: C structures of
/// integers (and arrays of them), such as socket addresses and socket
/// options.
///
/// # Safety
///
/// Implement it only for `Copy` types for which every bit pattern, all
/// zeros included, is a valid value, and which hold no pointer the kernel
/// could follow: the wrappers here let the kernel write any bytes into
/// them and read any of their bytes.
// SAFETY: a contract for implementors; each `unsafe impl` below says why
// its type keeps it.
pub unsafe trait Plain: Copy {
    /// The value with every byte zero.
    fn zeroed() -> Self {
        // SAFETY: all zeros is a valid value of a `Plain` type (its
        // contract).
        unsafe { mem::zeroed() }
    }
}

// SAFETY: integers: every bit pattern is a value, no pointers.
unsafe impl Plain for i32 {}
// SAFETY: as above.
unsafe impl Plain for u16 {}
// SAFETY: as above.
unsafe impl Plain for u32 {}
// SAFETY: as above.
unsafe impl Plain for u64 {}
// SAFETY: `struct timeval`: two integers.
unsafe impl Plain for libc::timeval {}
// SAFETY: `struct tpacket_req3`: seven `unsigned int`s.
unsafe impl Plain for libc::tpacket_req3 {}
// SAFETY: `struct tpacket_stats_v3`: three `unsigned int`s.
unsafe impl Plain for libc::tpacket_stats_v3 {}
// SAFETY: `struct signalfd_siginfo`: integers and padding bytes only.
unsafe impl Plain for libc::signalfd_siginfo {}
// SAFETY: `sigset_t`: an array of integers (a bit set).
unsafe impl Plain for libc::sigset_t {}
// SAFETY: `struct utsname`: arrays of `char`.
unsafe impl Plain for libc::utsname {}
// SAFETY: `struct winsize`: four `unsigned short`s.
unsafe impl Plain for libc::winsize {}
