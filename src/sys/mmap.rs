//! A shared memory mapping owned by a value: the packet ring, which the
//! kernel writes and we read.

use crate::io_error::io_error;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::AtomicU32;

/// `len` bytes of a descriptor mapped read-write and shared, unmapped on
/// drop. The memory may change under us (the kernel writes it): it is
/// handed out as atomics, which tolerate that, or, by an `unsafe fn`, as
/// bytes for the caller to prove stable.
///
/// Mixing the two is sound as long as nobody writes while bytes are
/// borrowed: the packet ring writes a block's status word (an atomic)
/// only after the bytes of the block were given up.
pub struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping belongs to this value alone (nothing else holds its
// address), so moving it to another thread moves all access with it.
unsafe impl Send for Mmap {}

impl Mmap {
    /// Maps `len` bytes of `fd` from offset 0 (`mmap(2)` with MAP_SHARED,
    /// at an address the kernel chooses).
    pub fn shared(fd: BorrowedFd, len: usize) -> io::Result<Mmap> {
        // SAFETY: a new mapping at an address the kernel chooses overlaps
        // no memory in use; nothing is read or written here.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast())
            .ok_or_else(|| io_error(io::ErrorKind::Other, "mmap returned null"))?;
        Ok(Mmap { ptr, len })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The mapping as 32-bit words, for atomic access shared with the
    /// kernel (word `i` is at byte offset `4 * i`).
    pub fn atomic_u32s(&self) -> &[AtomicU32] {
        // An atomic may be written by others (the kernel) at any time.
        // SAFETY: the mapping is page-aligned, so aligned for `AtomicU32`,
        // and valid for `len / 4` words for as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast(), self.len / 4) }
    }

    /// `len` bytes at `offset`, or None if they are not all inside the
    /// mapping.
    ///
    /// # Safety
    ///
    /// Nobody (the kernel included) may write these bytes while the slice
    /// lives: for the packet ring, the block they are in must be owned by
    /// user space (`TP_STATUS_USER`) and not handed back before then.
    // SAFETY: callers keep the contract under `# Safety` above.
    pub unsafe fn bytes(&self, offset: usize, len: usize) -> Option<&[u8]> {
        if len > self.len || offset > self.len - len {
            return None;
        }
        // SAFETY: in bounds (checked) and valid for as long as `self`; the
        // caller guarantees nothing writes them meanwhile.
        Some(unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(offset), len) })
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `shared` with this length, and no
        // reference into it outlives `self` (they all borrow it).
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::sync::atomic::Ordering;

    #[test]
    fn a_mapping_is_shared_with_its_file_and_bounds_are_checked() {
        let path = std::env::temp_dir().join(format!("wsflowd-mmap-{}", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        file.set_len(8192).unwrap();
        let map = Mmap::shared(file.as_fd(), 8192).unwrap();
        assert_eq!(map.len(), 8192);
        map.atomic_u32s()[1].store(0x0102_0304, Ordering::Release);
        use std::os::unix::fs::FileExt;
        let mut word = [0u8; 4];
        file.read_at(&mut word, 4).unwrap();
        assert_eq!(u32::from_ne_bytes(word), 0x0102_0304);
        assert_eq!(map.atomic_u32s().len(), 2048);
        // SAFETY: nothing else writes the file while the slices live.
        unsafe {
            assert_eq!(map.bytes(4, 4), Some(&word[..]));
            assert!(map.bytes(8190, 4).is_none());
            assert!(map.bytes(usize::MAX, 2).is_none());
        }
    }
}
