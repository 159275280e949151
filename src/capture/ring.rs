//! A TPACKET_V3 receive ring: the kernel writes the frames its socket filter
//! accepts into blocks of a memory area shared with us, and hands over a
//! block when it is full or after a timeout. Reading a frame is a pointer
//! walk, not a system call, and nothing is copied.

use std::io;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU32, Ordering};

use super::Frame;
use crate::sys::socket;
use crate::sys::{Mmap, Plain};

/// Layout of `struct tpacket_block_desc` / `tpacket_hdr_v1`
/// (linux/if_packet.h): offsets of the fields we use.
const BLOCK_STATUS: usize = 8;
const BLOCK_NUM_PKTS: usize = 12;
const BLOCK_FIRST_PKT: usize = 16;
const BLOCK_LEN: usize = 20;

/// Layout of `struct tpacket3_hdr`.
const PKT_NEXT_OFFSET: usize = 0;
const PKT_SNAPLEN: usize = 12;
const PKT_LEN: usize = 16;
const PKT_MAC: usize = 24;
/// `TPACKET_ALIGN(sizeof(struct tpacket3_hdr))`: where the kernel puts the
/// `sockaddr_ll` of each frame.
const PKT_SOCKADDR: usize = 48;
/// Offsets in `struct sockaddr_ll`.
const SLL_IFINDEX: usize = 4;
const SLL_HATYPE: usize = 8;
const SLL_PKTTYPE: usize = 10;

/// Size of the ring and of its blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingGeometry {
    pub block_size: u32,
    pub block_count: u32,
    pub frame_size: u32,
}

impl RingGeometry {
    /// Blocks of a quarter of the ring (between one page and 32 KiB, whole
    /// pages) adding up to at most `ring_bytes`, at least two blocks so the
    /// kernel can fill one while we read the other; frames sized for
    /// `snap_len` bytes.
    pub fn new(ring_bytes: u32, snap_len: u32, page_size: u32) -> RingGeometry {
        let page = page_size.max(4096);
        let block_size = (ring_bytes / 4 / page * page).clamp(page, (32 * 1024u32).max(page));
        let block_count = (ring_bytes / block_size).max(2);
        // Header, sockaddr_ll and the captured bytes, 16-byte aligned. The
        // frame size only constrains the kernel's bookkeeping in V3: frames
        // are packed back to back in a block.
        let frame_size = (PKT_SOCKADDR as u32 + 32 + snap_len)
            .next_multiple_of(16)
            .min(block_size);
        RingGeometry {
            block_size,
            block_count,
            frame_size,
        }
    }

    pub fn bytes(&self) -> usize {
        self.block_size as usize * self.block_count as usize
    }
}

/// How long the kernel may keep a partly filled block before handing it
/// over. Bounds the delay between a sample and its datagram: the kernel's
/// timer hands over a block that had frames for a whole period, so a
/// frame waits at most twice this.
pub const BLOCK_TIMEOUT_MS: u32 = 100;

pub struct Ring {
    map: Mmap,
    geometry: RingGeometry,
    /// The block to read next.
    next_block: u32,
}

impl Ring {
    /// Sets up a TPACKET_V3 ring on a packet socket (before it is bound).
    pub fn new(fd: BorrowedFd, geometry: RingGeometry) -> io::Result<Ring> {
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        socket::setsockopt_int(fd, libc::SOL_PACKET, libc::PACKET_VERSION, version)?;
        let mut req = libc::tpacket_req3::zeroed();
        req.tp_block_size = geometry.block_size;
        req.tp_block_nr = geometry.block_count;
        req.tp_frame_size = geometry.frame_size;
        req.tp_frame_nr = geometry.block_size / geometry.frame_size * geometry.block_count;
        req.tp_retire_blk_tov = BLOCK_TIMEOUT_MS;
        socket::setsockopt(fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        Ok(Ring {
            map: Mmap::shared(fd, geometry.bytes())?,
            geometry,
            next_block: 0,
        })
    }

    pub fn geometry(&self) -> RingGeometry {
        self.geometry
    }

    /// Where block `index` starts in the mapping.
    fn block(&self, index: u32) -> usize {
        index as usize * self.geometry.block_size as usize
    }

    /// The word at `offset` of the block starting at `block`, shared with
    /// the kernel. Always there: blocks start at whole pages inside the
    /// mapping, and the header words are 4-byte aligned in them.
    fn word(&self, block: usize, offset: usize) -> Option<&AtomicU32> {
        self.map.atomic_u32s().get((block + offset) / 4)
    }

    /// Whether the kernel has handed the block over (its status word:
    /// `TP_STATUS_USER` until we write `TP_STATUS_KERNEL`). Acquire: the
    /// frames it wrote are visible after this.
    fn ours(&self, block: usize) -> bool {
        self.word(block, BLOCK_STATUS)
            .is_some_and(|s| s.load(Ordering::Acquire) & libc::TP_STATUS_USER != 0)
    }

    /// The frames in a block. In a block the kernel is filling the count
    /// moves, and it is raised before the frame is copied in: it may count
    /// a frame not there yet.
    fn frames(&self, block: usize) -> usize {
        self.word(block, BLOCK_NUM_PKTS)
            .map_or(0, |n| n.load(Ordering::Relaxed) as usize)
    }

    /// How many blocks (at most `max_blocks`) the kernel has handed over,
    /// and how many frames they hold.
    pub fn ready(&self, max_blocks: u32) -> (u32, usize) {
        let mut frames = 0;
        let mut index = self.next_block;
        for n in 0..max_blocks.min(self.geometry.block_count) {
            let block = self.block(index);
            if !self.ours(block) {
                return (n, frames);
            }
            frames += self.frames(block);
            index = (index + 1) % self.geometry.block_count;
        }
        (max_blocks.min(self.geometry.block_count), frames)
    }

    /// The frames written after the first `skip` blocks that are ready:
    /// in the other blocks handed over, and in the block the kernel is
    /// filling.
    pub fn frames_after(&self, skip: u32) -> usize {
        let count = self.geometry.block_count;
        let mut frames = 0;
        for n in skip..count {
            let block = self.block((self.next_block + n) % count);
            frames += self.frames(block);
            if !self.ours(block) {
                // The kernel's: the one it fills (or, if it has not opened
                // it again since we handed it back, zero: see
                // `release_next`). The blocks after it are empty.
                break;
            }
        }
        frames
    }

    /// The frames in the block the kernel is filling (none while every
    /// block is ours: the ring is full).
    pub fn frames_in_kernel(&self) -> usize {
        let count = self.geometry.block_count;
        (0..count)
            .map(|n| self.block((self.next_block + n) % count))
            .find(|&block| !self.ours(block))
            .map_or(0, |block| self.frames(block))
    }

    /// Calls `each` for every frame of every block the kernel has handed
    /// over, at most `max_blocks` blocks, returning each block to the
    /// kernel after its frames were seen. Returns the number of frames.
    pub fn drain(&mut self, max_blocks: u32, mut each: impl FnMut(&Frame)) -> usize {
        let mut frames = 0;
        for _ in 0..max_blocks.min(self.geometry.block_count) {
            let Some(bytes) = self.next_ready() else {
                break;
            };
            frames += walk_block(bytes, &mut each);
            self.release_next();
        }
        frames
    }

    /// The bytes of the next block, if the kernel has handed it over
    /// (Acquire: the frames it wrote are visible after this). The borrow
    /// of `self` keeps the block ours: it goes back to the kernel only
    /// through [`Ring::release_next`], which needs `&mut self`.
    ///
    /// Not generic and not inlined, as `release_next`: `drain` is
    /// instantiated once per sample builder, and these are the same for
    /// all.
    #[inline(never)]
    fn next_ready(&self) -> Option<&[u8]> {
        let block = self.block(self.next_block);
        if !self.ours(block) {
            return None;
        }
        // The block is ours (TP_STATUS_USER, loaded with Acquire above),
        // and the kernel writes it again only after `release_next`, which
        // needs `&mut self`, so after the slice is gone.
        // SAFETY: user-owned block as above, inside the mapping.
        let bytes = unsafe { self.map.bytes(block, self.geometry.block_size as usize) };
        Some(bytes.unwrap_or_default())
    }

    /// Hands the next block back to the kernel and moves on to the one
    /// after it.
    #[inline(never)]
    fn release_next(&mut self) {
        let block = self.block(self.next_block);
        // Its count back to zero first, so that until the kernel opens the
        // block again `frames_after` does not count its old frames.
        if let Some(frames) = self.word(block, BLOCK_NUM_PKTS) {
            frames.store(0, Ordering::Relaxed);
        }
        // Release: we are done reading (and writing) before the kernel may
        // rewrite.
        if let Some(status) = self.word(block, BLOCK_STATUS) {
            status.store(libc::TP_STATUS_KERNEL, Ordering::Release);
        }
        self.next_block = (self.next_block + 1) % self.geometry.block_count;
    }
}

/// Walks the frames of one block (the kernel's `tpacket_block_desc` and
/// `tpacket3_hdr`s). Offsets come from the kernel, but are still checked
/// against the block so that nothing is read outside it.
fn walk_block(bytes: &[u8], each: &mut impl FnMut(&Frame)) -> usize {
    let size = bytes.len();
    let u32_at = |at: usize| -> Option<u32> {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u16_at = |at: usize| -> Option<u16> {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_ne_bytes([b[0], b[1]]))
    };
    let count = u32_at(BLOCK_NUM_PKTS).unwrap_or(0);
    let block_len = (u32_at(BLOCK_LEN).unwrap_or(0) as usize).min(size);
    let mut at = u32_at(BLOCK_FIRST_PKT).unwrap_or(0) as usize;
    let mut seen = 0;
    for _ in 0..count {
        if at + PKT_SOCKADDR + 12 > block_len {
            break;
        }
        let (Some(snaplen), Some(len), Some(mac), Some(next)) = (
            u32_at(at + PKT_SNAPLEN),
            u32_at(at + PKT_LEN),
            u16_at(at + PKT_MAC),
            u32_at(at + PKT_NEXT_OFFSET),
        ) else {
            break;
        };
        let sll = at + PKT_SOCKADDR;
        let start = at + mac as usize;
        let Some(data) = bytes.get(start..start + snaplen as usize) else {
            break;
        };
        let frame = Frame {
            data,
            length: len,
            if_index: u32_at(sll + SLL_IFINDEX).unwrap_or(0),
            packet_type: bytes.get(sll + SLL_PKTTYPE).copied().unwrap_or(0),
            hw_type: u16_at(sll + SLL_HATYPE).unwrap_or(0),
        };
        each(&frame);
        seen += 1;
        if next == 0 {
            break;
        }
        at += next as usize;
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_respects_the_budget() {
        let g = RingGeometry::new(256 * 1024, 128, 4096);
        assert_eq!(g.block_size, 32 * 1024);
        assert_eq!(g.block_count, 8);
        assert!(g.bytes() <= 256 * 1024);
        assert_eq!(g.frame_size % 16, 0);
        assert!(g.frame_size >= 48 + 128);
        // Small rings get smaller blocks; tiny budgets still two blocks; big
        // pages are honoured.
        let g = RingGeometry::new(16 * 1024, 640, 4096);
        assert_eq!((g.block_size, g.block_count), (4096, 4));
        assert!(g.frame_size <= g.block_size);
        let g = RingGeometry::new(4096, 64, 16384);
        assert_eq!((g.block_size, g.block_count), (16384, 2));
        let g = RingGeometry::new(1 << 20, 512, 65536);
        assert_eq!(g.block_size, 65536);
    }
}
