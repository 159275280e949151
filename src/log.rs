//! Logging for a daemon under procd.
//!
//! In the foreground (how procd runs us) every line goes to stderr, which
//! procd forwards to logd, so `logread` shows it. When the daemon detaches
//! itself it has no stderr any more and logs to syslog instead, with the
//! priority of each line. A pulled-in logging framework would cost binary
//! size for nothing we need: four levels, one line each.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

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

    fn syslog_priority(self) -> libc::c_int {
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
    // openlog keeps the pointer: the identifier must live forever.
    static IDENT: &[u8] = b"wsflowd\0";
    unsafe { libc::openlog(IDENT.as_ptr().cast(), libc::LOG_PID, libc::LOG_DAEMON) };
    USE_SYSLOG.store(true, Ordering::Relaxed);
}

#[doc(hidden)]
pub fn write(level: Level, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    if USE_SYSLOG.load(Ordering::Relaxed) {
        let mut line = fmt::format(args).into_bytes();
        line.retain(|&b| b != 0);
        line.push(0);
        let fmt = b"%s\0";
        unsafe {
            libc::syslog(
                level.syslog_priority(),
                fmt.as_ptr().cast(),
                line.as_ptr() as *const libc::c_char,
            )
        };
    } else {
        // One write per line so that lines of concurrent writers never mix.
        let line = format!("{}: {}\n", level.name(), args);
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
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

#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log::enabled($crate::log::Level::Debug) {
            $crate::log::write($crate::log::Level::Debug, format_args!($($arg)*))
        }
    };
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
}
