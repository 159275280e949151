//! A last word on stderr when the daemon dies of SIGILL or SIGTRAP.

use std::mem;

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
        // The signal is blocked while this handler runs: it is delivered,
        // with the default action, as soon as the handler returns.
        // SAFETY: write, signal and raise are async-signal-safe; `line` is
        // valid for reads of its length.
        unsafe {
            libc::write(2, line.as_ptr().cast(), line.len());
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
    for signal in [libc::SIGILL, libc::SIGTRAP] {
        // SAFETY: all zeros is a valid `struct sigaction` (no handler, no
        // flags, an empty mask, no restorer).
        let mut action: libc::sigaction = unsafe { mem::zeroed() };
        action.sa_sigaction = report as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESETHAND;
        // SAFETY: `action` is a valid `struct sigaction` that outlives both
        // calls; the handler only makes async-signal-safe calls.
        unsafe {
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}
