//! A detached helper thread without std's bookkeeping; a thread's
//! priority.

use std::io;
use std::mem;

/// The work of a thread, boxed twice: a thin pointer crosses the C API.
type Work = Box<dyn FnOnce() + Send>;

/// Runs `work` on a detached POSIX thread with a `stack_bytes` stack.
///
/// Why not `std::thread`: its spawn names threads through musl's
/// `pthread_setname_np`, which formats a /proc path with `snprintf` and so
/// links all of printf, and it keeps per-thread bookkeeping for join and
/// stack overflow reports; with those, ~17 KB of a mips binary for the one
/// helper the daemon has (the kernel helper, `agent::kernel`).
/// The thread inherits the caller's signal mask, as std's do: signals stay
/// with the event loop's signalfd.
pub fn spawn_detached(stack_bytes: usize, work: Work) -> io::Result<()> {
    extern "C" fn start(arg: *mut libc::c_void) -> *mut libc::c_void {
        // A started thread takes it back exactly once, here.
        // SAFETY: `arg` is the `Box<Work>` that `spawn_detached` leaked
        // into pthread_create's argument.
        let work = unsafe { Box::from_raw(arg.cast::<Work>()) };
        work();
        std::ptr::null_mut()
    }
    let stack_bytes = stack_bytes.max(libc::PTHREAD_STACK_MIN);
    // SAFETY: an all-zero `pthread_attr_t` is only storage here:
    // pthread_attr_init initializes it before any other use.
    let mut attr: libc::pthread_attr_t = unsafe { mem::zeroed() };
    // SAFETY: `attr` is valid for writes.
    let r = unsafe { libc::pthread_attr_init(&mut attr) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    // SAFETY: `attr` was initialized above.
    let mut r = unsafe { libc::pthread_attr_setstacksize(&mut attr, stack_bytes) };
    if r == 0 {
        // SAFETY: as above.
        r = unsafe { libc::pthread_attr_setdetachstate(&mut attr, libc::PTHREAD_CREATE_DETACHED) };
    }
    if r == 0 {
        let arg = Box::into_raw(Box::new(work));
        // SAFETY: pthread_t is an integer (or an opaque pointer) that
        // pthread_create only writes.
        let mut thread: libc::pthread_t = unsafe { mem::zeroed() };
        // SAFETY: `attr` is initialized; `start` has the signature
        // pthread_create expects and takes ownership of `arg`.
        r = unsafe { libc::pthread_create(&mut thread, &attr, start, arg.cast()) };
        if r != 0 {
            // SAFETY: the thread did not start, so `arg` was not taken:
            // the work is still ours to drop, once.
            drop(unsafe { Box::from_raw(arg) });
        }
    }
    // SAFETY: `attr` was initialized and is no longer used.
    unsafe { libc::pthread_attr_destroy(&mut attr) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    Ok(())
}

/// Sets the calling thread's nice value (higher: the scheduler favours
/// the process's other threads); false if it could not (lowering it needs
/// CAP_SYS_NICE).
///
/// On Linux, `setpriority(PRIO_PROCESS, tid)` sets the nice value of the
/// thread `tid` alone, not the whole process as POSIX would have it.
pub fn set_nice(nice: i32) -> bool {
    // SAFETY: gettid takes no arguments and cannot fail.
    let tid = unsafe { libc::gettid() };
    // SAFETY: setpriority takes integers only.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) == 0 }
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

    #[test]
    fn a_thread_lowers_its_own_priority_only() {
        // The nice value, field 19 of a task's stat (after the command
        // name in parentheses, field 3 on).
        let nice = |path: &str| -> i32 {
            let stat = std::fs::read_to_string(path).unwrap();
            let fields = &stat[stat.rfind(')').unwrap() + 2..];
            fields.split(' ').nth(19 - 3).unwrap().parse().unwrap()
        };
        // The process's main thread (the test harness's), not this one.
        let main_before = nice("/proc/self/stat");
        let (own, main_after) = std::thread::spawn(move || {
            let wanted = (main_before + 5).min(19);
            assert!(super::set_nice(wanted));
            (
                nice("/proc/thread-self/stat") - wanted,
                nice("/proc/self/stat"),
            )
        })
        .join()
        .unwrap();
        assert_eq!((own, main_after), (0, main_before));
    }
}
