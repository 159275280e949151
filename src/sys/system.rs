//! Facts about the system: uname, interface names, sysconf values, a
//! random seed, the kernel's time zone, a terminal's size.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd};

use super::Plain;

/// The index of the interface called `name`, if it exists.
pub fn if_nametoindex(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: `c` is a NUL-terminated string that outlives the call.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => None,
        i => Some(i),
    }
}

/// The name of the interface with index `index`, if it exists.
pub fn if_indextoname(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has the IF_NAMESIZE bytes the call may write.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: on success the name in `buf` is NUL-terminated.
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
    let mut u = libc::utsname::zeroed();
    // SAFETY: `u` is valid for writes of a whole `struct utsname`.
    if unsafe { libc::uname(&mut u) } != 0 {
        return Uname::default();
    }
    let field = |f: &[libc::c_char]| {
        // SAFETY: uname NUL-terminates every field inside its array.
        let text = unsafe { CStr::from_ptr(f.as_ptr()) };
        text.to_string_lossy().into_owned()
    };
    Uname {
        nodename: field(&u.nodename),
        release: field(&u.release),
        machine: field(&u.machine),
    }
}

/// A positive `sysconf(3)` value (`_SC_*`), if the system has one.
pub fn sysconf(name: libc::c_int) -> Option<u64> {
    // SAFETY: sysconf takes no pointers; an unknown name is -1 (EINVAL).
    let v = unsafe { libc::sysconf(name) };
    u64::try_from(v).ok().filter(|&v| v > 0)
}

/// The memory page size (at least 4 KiB).
pub fn page_size() -> u32 {
    sysconf(libc::_SC_PAGESIZE).map_or(4096, |p| p.max(4096) as u32)
}

/// Fills `buf` from the kernel's random source; false if it could not.
///
/// The raw system call, not libc's getrandom(): std declares that one
/// weak, and a static musl link under LTO can leave the reference at
/// address 0 (the MIPS builds crashed at start-up).
pub fn getrandom(buf: &mut [u8]) -> bool {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes; no flags.
    let n = unsafe { libc::syscall(libc::SYS_getrandom, buf.as_mut_ptr(), buf.len(), 0) };
    n == buf.len() as libc::c_long
}

/// The offset of local time from UTC, in seconds east, as the kernel
/// keeps it: the `struct timezone` of gettimeofday(2). OpenWrt's `system`
/// service sets it from its time zone (`date -k`), as busybox's
/// `hwclock -s` and systemd (with the RTC in local time) do elsewhere; 0
/// where nothing set it.
///
/// Not libc's localtime_r: that is ~6 KB of a mips binary (TZ strings,
/// zoneinfo files), and a static upstream musl reads neither OpenWrt's
/// /etc/TZ (an OpenWrt patch to its own musl) nor anything else there, so
/// it gave UTC on OpenWrt. The raw system call, because musl's
/// gettimeofday() ignores its `tz` argument.
pub fn kernel_utc_offset_s() -> i64 {
    #[repr(C)]
    struct Timezone {
        minutes_west: libc::c_int,
        dst_time: libc::c_int,
    }
    let mut tz = Timezone {
        minutes_west: 0,
        dst_time: 0,
    };
    // SAFETY: with a null `timeval`, gettimeofday(2) writes only the
    // `struct timezone` (two ints, as `Timezone`), which `tz` is valid for.
    let r = unsafe {
        libc::syscall(
            libc::SYS_gettimeofday,
            std::ptr::null_mut::<libc::timeval>(),
            &mut tz as *mut Timezone,
        )
    };
    if r != 0 {
        return 0;
    }
    -i64::from(tz.minutes_west) * 60
}

/// The size (rows, columns) of the terminal `fd` is, if it is one and
/// says (a terminal that was never sized says 0 × 0).
pub fn terminal_size(fd: BorrowedFd) -> Option<(u16, u16)> {
    let mut ws = libc::winsize::zeroed();
    // SAFETY: TIOCGWINSZ writes one `struct winsize`, which `ws` is,
    // valid for the call; on failure (not a terminal) it writes nothing.
    let ok = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) } == 0;
    (ok && ws.ws_row > 0 && ws.ws_col > 0).then_some((ws.ws_row, ws.ws_col))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_time_zone_is_what_the_vdso_says() {
        let offset = kernel_utc_offset_s();
        assert_eq!(offset % 60, 0);
        assert!(offset.abs() <= 24 * 3600, "{offset}");
        // glibc's gettimeofday fills `tz` from the vDSO's copy of the
        // kernel's time zone, another path to the same value (musl's
        // leaves it alone).
        #[cfg(target_env = "gnu")]
        {
            let mut tv = libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            };
            let mut tz = [-1 as libc::c_int; 2];
            // SAFETY: `tv` and `tz` (a `struct timezone`: two ints) are
            // valid for gettimeofday to write.
            let r = unsafe { libc::gettimeofday(&mut tv, tz.as_mut_ptr().cast()) };
            assert_eq!(r, 0);
            assert_eq!(offset, -i64::from(tz[0]) * 60);
        }
    }

    #[test]
    fn loopback_is_known() {
        let lo = if_nametoindex("lo").expect("lo exists");
        assert_eq!(if_indextoname(lo).as_deref(), Some("lo"));
        assert_eq!(if_nametoindex("no-such-if0"), None);
        assert!(!uname().release.is_empty());
    }

    #[test]
    fn system_facts() {
        assert!(page_size() >= 4096 && page_size().is_power_of_two());
        assert!(sysconf(libc::_SC_CLK_TCK).is_some());
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        assert!(getrandom(&mut a) && getrandom(&mut b));
        assert_ne!(a, b);
    }

    #[test]
    fn a_file_is_not_a_terminal() {
        use std::os::fd::AsFd;
        let f = std::fs::File::open("/proc/self/stat").unwrap();
        assert_eq!(terminal_size(f.as_fd()), None);
    }
}
