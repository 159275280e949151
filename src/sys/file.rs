//! Opening files for reading, with `open(2)` itself.
//!
//! std's `File::open` and `OpenOptions` carry checks of option
//! combinations (write, append, truncate, create) whose errors box a
//! `&str` message, and that boxing pulls in std's `StringError` with its
//! escaping `Debug` and the Unicode tables behind it (~4 KB of a mips
//! binary). The daemon only ever reads files, so [`open_read`] opens them
//! read-only, close-on-exec as std does, plus the caller's flags, and
//! [`read_to_string`] reads one whole. Errors are the same `io::Error`s
//! (the `errno`), so messages read as before.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::FromRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::io_error::io_error;

/// Opens `path` read-only and close-on-exec, with `flags` (such as
/// `O_NONBLOCK`) added; retried on EINTR.
pub fn open_read(path: impl AsRef<Path>, flags: libc::c_int) -> io::Result<File> {
    open(path.as_ref(), flags)
}

fn open(path: &Path, flags: libc::c_int) -> io::Result<File> {
    let path = CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io_error(
            io::ErrorKind::InvalidInput,
            "file name contained an unexpected NUL byte",
        )
    })?;
    loop {
        // SAFETY: `path` is a NUL-terminated string that outlives the
        // call; open(2) reads it and returns a new descriptor or -1.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC | flags) };
        match super::cvt(fd) {
            // SAFETY: `fd` was just opened and nothing else owns it: the
            // File closes it.
            Ok(fd) => return Ok(unsafe { File::from_raw_fd(fd) }),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The whole text of the file at `path`, as `std::fs::read_to_string`
/// reads it (an error if it is not UTF-8).
pub fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let mut text = String::new();
    read_into(path.as_ref(), &mut text)?;
    Ok(text)
}

/// Reads the whole text of the file at `path` into `text`, replacing what
/// it held and reusing its allocation; on an error `text` is left empty.
///
/// By `Take::read_to_end`, which the bounded reads of the configuration
/// and resolv.conf need anyway, rather than `File::read_to_string`: one
/// copy of std's read loop in the binary instead of two (~1.2 KB of mips).
pub fn read_into(path: &Path, text: &mut String) -> io::Result<()> {
    let mut bytes = std::mem::take(text).into_bytes();
    bytes.clear();
    let failure = match open(path, 0).and_then(|file| file.take(u64::MAX).read_to_end(&mut bytes)) {
        Err(e) => e,
        Ok(_) => match String::from_utf8(bytes) {
            Ok(read) => {
                *text = read;
                return Ok(());
            }
            Err(e) => {
                bytes = e.into_bytes();
                io_error(
                    io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                )
            }
        },
    };
    // Empty, with the allocation kept.
    bytes.clear();
    *text = String::from_utf8(bytes).unwrap_or_default();
    Err(failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_std_reads() {
        let path = "/proc/self/status";
        let ours = read_to_string(path).unwrap();
        assert!(ours.starts_with("Name:"), "{ours}");
        // Reused: replaced, not appended to.
        let mut text = String::from("before");
        read_into(Path::new("/proc/self/cmdline"), &mut text).unwrap_or_default();
        read_into(Path::new("/proc/self/stat"), &mut text).unwrap();
        assert_eq!(text, text.trim_end().to_owned() + "\n");
        assert!(
            text.starts_with(&format!("{} (", std::process::id())),
            "{text}"
        );
        // Not UTF-8, or not there: std's errors, and nothing kept.
        let dir = std::env::temp_dir().join(format!("wsflowd-file-{}", std::process::id()));
        std::fs::write(&dir, b"ok\xff").unwrap();
        let ours = read_into(&dir, &mut text).unwrap_err();
        let std = std::fs::read_to_string(&dir).unwrap_err();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(
            (ours.kind(), ours.to_string()),
            (std.kind(), std.to_string())
        );
        assert_eq!(text, "");
        let ours = read_to_string("/nonexistent/wsflowd").unwrap_err();
        let std = std::fs::read_to_string("/nonexistent/wsflowd").unwrap_err();
        assert_eq!(
            (ours.kind(), ours.to_string()),
            (std.kind(), std.to_string())
        );
        for missing in ["/nonexistent/wsflowd", ""] {
            let ours = open_read(missing, 0).unwrap_err();
            let std = File::open(missing).unwrap_err();
            assert_eq!(ours.kind(), std.kind());
            assert_eq!(ours.to_string(), std.to_string());
        }
        let ours = open_read("a\0b", 0).unwrap_err();
        let std = File::open("a\0b").unwrap_err();
        assert_eq!(
            (ours.kind(), ours.to_string()),
            (std.kind(), std.to_string())
        );
        // Close-on-exec, as std opens.
        let file = open_read("/proc/self/status", libc::O_NONBLOCK).unwrap();
        let flags = {
            use std::os::fd::AsRawFd;
            // SAFETY: F_GETFD on a descriptor the File owns reads its flags.
            unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFD) }
        };
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
    }
}
