//! Logging for a daemon under procd.
//!
//! In the foreground (how procd runs us) every line goes to stderr, which
//! procd forwards to logd, so `logread` shows it. When the daemon detaches
//! itself it has no stderr any more and logs to syslog instead, with the
//! priority of each line. A pulled-in logging framework would cost binary
//! size for nothing we need: four levels, one line each.
//!
//! The syslog client is ours (a datagram to /dev/log, as musl's does)
//! rather than libc's `syslog()`: that one formats through printf and
//! strftime, ~13 KB of a mips binary that nothing else needs.

use std::ffi::CStr;
use std::fmt;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::sync::Mutex;

use crate::calendar::DateTime;
use crate::sys;

/// Severity of a log line, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Error, Level::Warn, Level::Info, Level::Debug];

    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    /// Parses a level as written in the configuration or on the command line.
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "error" | "err" => Some(Level::Error),
            "warning" | "warn" => Some(Level::Warn),
            "info" | "notice" => Some(Level::Info),
            "debug" => Some(Level::Debug),
            _ => None,
        }
    }

    fn syslog_severity(self) -> libc::c_int {
        match self {
            Level::Error => libc::LOG_ERR,
            Level::Warn => libc::LOG_WARNING,
            Level::Info => libc::LOG_INFO,
            Level::Debug => libc::LOG_DEBUG,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

static MAX_LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static USE_SYSLOG: AtomicBool = AtomicBool::new(false);
static PINNED: AtomicBool = AtomicBool::new(false);

/// Sets the most verbose level that is written, unless the level was
/// pinned from the command line.
pub fn set_level(level: Level) {
    if !PINNED.load(Ordering::Relaxed) {
        MAX_LEVEL.store(level as u8, Ordering::Relaxed);
    }
}

/// Sets the level for good: later [`set_level`] calls (from the
/// configuration file, on reloads) are ignored.
pub fn pin_level(level: Level) {
    MAX_LEVEL.store(level as u8, Ordering::Relaxed);
    PINNED.store(true, Ordering::Relaxed);
}

pub fn level() -> Level {
    Level::ALL[usize::from(MAX_LEVEL.load(Ordering::Relaxed)).min(3)]
}

pub fn enabled(level: Level) -> bool {
    level as u8 <= MAX_LEVEL.load(Ordering::Relaxed)
}

/// Sends all further lines to syslog (facility daemon) instead of stderr.
pub fn use_syslog() {
    USE_SYSLOG.store(true, Ordering::Relaxed);
}

#[doc(hidden)]
pub fn write(level: Level, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    #[cfg(test)]
    if capture::take(level, args) {
        return;
    }
    if USE_SYSLOG.load(Ordering::Relaxed) {
        SYSLOG.send(level, args);
    } else {
        // One write per line so that lines of concurrent writers never mix.
        let line = format!("{}: {}\n", level.name(), args);
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

static SYSLOG: Syslog = Syslog::new(c"/dev/log");

/// A connection to the local syslog daemon: one datagram per line, in the
/// BSD format (RFC 3164) that logd, busybox syslogd, rsyslog and journald
/// all take: `<PRI>Mmm dd hh:mm:ss wsflowd[PID]: message`. The timestamp
/// matters even though logd replaces it: logd takes 16 characters ending
/// in a space after `<PRI>` for one, and would otherwise cut the tag.
/// Busybox's syslogd keeps it. It is local time by the kernel's time zone
/// ([`sys::system::kernel_utc_offset_s`]).
pub struct Syslog {
    path: &'static CStr,
    /// The connected socket, if any: (re)connected when a send fails, as
    /// the daemon may have restarted since.
    socket: Mutex<Option<OwnedFd>>,
}

impl Syslog {
    pub const fn new(path: &'static CStr) -> Self {
        Syslog {
            path,
            socket: Mutex::new(None),
        }
    }

    /// Sends one line; lost if no syslog daemon listens (as with libc's).
    pub fn send(&self, level: Level, args: fmt::Arguments<'_>) {
        let pid = std::process::id();
        let line = syslog_line(level, pid, local_now(), args);
        let mut socket = self.socket.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..2 {
            if socket.is_none() {
                *socket = connect_datagram(self.path);
            }
            let Some(fd) = socket.as_ref() else {
                return;
            };
            let flags = libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT;
            if sys::socket::send(fd.as_fd(), line.as_bytes(), flags).is_ok() {
                return;
            }
            // Closed: the next attempt connects afresh.
            *socket = None;
        }
    }
}

fn connect_datagram(path: &CStr) -> Option<OwnedFd> {
    let addr = sys::socket::UnixAddr::new(path.to_bytes())?;
    let fd = sys::socket::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0).ok()?;
    sys::socket::connect(fd.as_fd(), &addr).ok()?;
    Some(fd)
}

/// Now, in local time by the kernel's time zone.
fn local_now() -> DateTime {
    let utc = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    DateTime::from_unix(utc + sys::system::kernel_utc_offset_s())
}

/// `<PRI>Mmm dd hh:mm:ss wsflowd[PID]: message`, facility daemon, with no
/// newline (one datagram is one line) and no NUL.
fn syslog_line(level: Level, pid: u32, at: DateTime, args: fmt::Arguments<'_>) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS[usize::from(at.month.clamp(1, 12) - 1)];
    let mut line = format!(
        "<{}>{month} {:2} {:02}:{:02}:{:02} wsflowd[{pid}]: {args}",
        libc::LOG_DAEMON | level.syslog_severity(),
        at.day,
        at.hour,
        at.minute,
        at.second,
    );
    line.retain(|c| c != '\0' && c != '\n');
    line
}

#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Error, format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Warn, format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Info, format_args!($($arg)*)) };
}

/// Lines written per [`RATE_WINDOW_S`] from one call site of
/// [`debug_limited!`].
pub const RATE_LINES: u32 = 5;
pub const RATE_WINDOW_S: u32 = 10;

/// A budget of lines for one call site whose cause can repeat per packet
/// or per message (a malformed frame, a garbled ubus message): at most
/// [`RATE_LINES`] per [`RATE_WINDOW_S`] seconds, the next line after a
/// quiet spell telling how many were left out.
pub struct RateLimit {
    /// Seconds (32 bits: no 64-bit atomics on 32-bit MIPS).
    window_start_s: AtomicU32,
    written: AtomicU32,
    suppressed: AtomicU32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit::new()
    }
}

impl RateLimit {
    pub const fn new() -> RateLimit {
        RateLimit {
            window_start_s: AtomicU32::new(0),
            written: AtomicU32::new(0),
            suppressed: AtomicU32::new(0),
        }
    }

    /// Whether a line may be written at `now_s` (seconds on any monotonic
    /// clock), and how many were suppressed before it.
    pub fn admit_at(&self, now_s: u32) -> Option<u32> {
        let start = self.window_start_s.load(Ordering::Relaxed);
        if now_s >= start.saturating_add(RATE_WINDOW_S) || self.written.load(Ordering::Relaxed) == 0
        {
            self.window_start_s.store(now_s, Ordering::Relaxed);
            self.written.store(1, Ordering::Relaxed);
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        if self.written.load(Ordering::Relaxed) < RATE_LINES {
            self.written.fetch_add(1, Ordering::Relaxed);
            return Some(0);
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }

    /// [`Self::admit_at`] now.
    pub fn admit(&self) -> Option<u32> {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let start = START.get_or_init(std::time::Instant::now);
        self.admit_at(u32::try_from(start.elapsed().as_secs()).unwrap_or(u32::MAX))
    }
}

#[doc(hidden)]
pub fn write_limited(level: Level, limit: &RateLimit, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    match limit.admit() {
        Some(0) => write(level, args),
        Some(n) => write(
            level,
            format_args!("{args} ({n} similar lines suppressed before)"),
        ),
        None => {}
    }
}

/// A debug line whose cause can repeat per frame or per message: at most
/// [`RATE_LINES`] per [`RATE_WINDOW_S`] seconds from this call site.
#[macro_export]
macro_rules! debug_limited {
    ($($arg:tt)*) => {
        if $crate::log::enabled($crate::log::Level::Debug) {
            static LIMIT: $crate::log::RateLimit = $crate::log::RateLimit::new();
            $crate::log::write_limited($crate::log::Level::Debug, &LIMIT, format_args!($($arg)*))
        }
    };
}

#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log::enabled($crate::log::Level::Debug) {
            $crate::log::write($crate::log::Level::Debug, format_args!($($arg)*))
        }
    };
}

/// Unit tests read what their own thread logs.
#[cfg(test)]
pub mod capture {
    use super::Level;
    use std::cell::RefCell;
    use std::fmt;

    thread_local! {
        static LINES: RefCell<Option<Vec<(Level, String)>>> = const { RefCell::new(None) };
    }

    /// Runs `f`, returning what it logged on this thread (at the levels
    /// enabled) instead of writing it.
    pub fn lines<T>(f: impl FnOnce() -> T) -> (T, Vec<(Level, String)>) {
        LINES.with(|l| *l.borrow_mut() = Some(Vec::new()));
        let result = f();
        let lines = LINES.with(|l| l.borrow_mut().take()).unwrap_or_default();
        (result, lines)
    }

    pub(super) fn take(level: Level, args: fmt::Arguments<'_>) -> bool {
        LINES.with(|l| match &mut *l.borrow_mut() {
            Some(lines) => {
                lines.push((level, args.to_string()));
                true
            }
            None => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_order() {
        assert_eq!(Level::parse("warn"), Some(Level::Warn));
        assert_eq!(Level::parse("debug"), Some(Level::Debug));
        assert_eq!(Level::parse("loud"), None);
        assert!(Level::Error < Level::Debug);
        for l in Level::ALL {
            assert_eq!(Level::parse(l.name()), Some(l));
        }
    }

    #[test]
    fn syslog_lines_have_the_bsd_format() {
        let mut at = DateTime {
            year: 2026,
            month: 11,
            day: 2,
            hour: 4,
            minute: 6,
            second: 7,
        };
        let line = syslog_line(Level::Warn, 812, at, format_args!("a\nb{}", '\0'));
        assert_eq!(line, "<28>Nov  2 04:06:07 wsflowd[812]: ab");
        // logd takes the 16 characters after <PRI> for the timestamp.
        assert_eq!(&line[4..20], "Nov  2 04:06:07 ");
        at.day = 22;
        let line = syslog_line(Level::Error, 1, at, format_args!("x"));
        assert_eq!(line, "<27>Nov 22 04:06:07 wsflowd[1]: x");
    }

    #[test]
    fn syslog_sends_datagrams_and_reconnects() {
        use std::os::unix::net::UnixDatagram;
        let dir = std::env::temp_dir().join(format!("wsflowd-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        let syslog = Syslog::new(Box::leak(c_path.into_boxed_c_str()));
        // Nobody listens yet: lost, no error.
        syslog.send(Level::Info, format_args!("lost"));
        let receive = |socket: &UnixDatagram| {
            let mut buf = [0u8; 256];
            let n = socket.recv(&mut buf).unwrap();
            String::from_utf8(buf[..n].to_vec()).unwrap()
        };
        let socket = UnixDatagram::bind(&path).unwrap();
        syslog.send(Level::Info, format_args!("first {}", 1));
        let line = receive(&socket);
        assert!(line.starts_with("<30>"), "{line}");
        assert!(
            line.ends_with(&format!(" wsflowd[{}]: first 1", std::process::id())),
            "{line}"
        );
        // The daemon restarts: a new socket at the same path.
        drop(socket);
        std::fs::remove_file(&path).unwrap();
        let socket = UnixDatagram::bind(&path).unwrap();
        syslog.send(Level::Debug, format_args!("second"));
        assert!(receive(&socket).starts_with("<31>"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_rate_limit_lets_a_few_lines_through_per_window() {
        let limit = RateLimit::new();
        let admitted: Vec<_> = (0..20).map(|_| limit.admit_at(100)).collect();
        assert_eq!(
            admitted.iter().filter(|a| a.is_some()).count(),
            RATE_LINES as usize
        );
        assert_eq!(limit.admit_at(100 + RATE_WINDOW_S - 1), None);
        // The next window's first line tells how many were left out.
        assert_eq!(limit.admit_at(100 + RATE_WINDOW_S), Some(16));
        assert_eq!(limit.admit_at(100 + RATE_WINDOW_S), Some(0));
    }
}
