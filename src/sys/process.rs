//! Detaching from the terminal.

use std::io;

/// Detaches from the terminal: fork (the parent exits at once), a new
/// session, stdio to /dev/null, the working directory `/`.
///
/// # Safety
///
/// No other thread may exist: the child of a fork has only the calling
/// thread, and a lock another thread held (the allocator's, stdio's) would
/// stay locked forever in it.
// SAFETY: callers keep the contract under `# Safety` above.
pub unsafe fn daemonize() -> io::Result<()> {
    // SAFETY: the caller guarantees this is the only thread.
    match unsafe { libc::fork() } {
        -1 => return Err(io::Error::last_os_error()),
        0 => {}
        // SAFETY: _exit ends the parent without running anything more.
        _ => unsafe { libc::_exit(0) },
    }
    // SAFETY: setsid takes no arguments; it fails only for a group leader,
    // which a fresh child is not.
    unsafe { libc::setsid() };
    // SAFETY: a NUL-terminated path literal.
    let null = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
    if null >= 0 {
        for fd in 0..3 {
            // std's handles keep referring to 0-2 by number: now /dev/null.
            // SAFETY: no Rust value owns a descriptor that dup2 replaces.
            unsafe { libc::dup2(null, fd) };
        }
        if null > 2 {
            // SAFETY: `null` was opened above and nothing else owns it.
            unsafe { libc::close(null) };
        }
    }
    // SAFETY: a NUL-terminated path literal.
    unsafe { libc::chdir(c"/".as_ptr()) };
    Ok(())
}
