//! The `bpf(2)` commands wsflowd and its benchmarks use, each with its
//! part of `union bpf_attr` (linux/bpf.h) as a named `#[repr(C)]`
//! structure. A structure may stop after the last field used: the kernel
//! reads the size we pass and takes the fields beyond it as zero.
//!
//! The structures have no implicit padding (explicit `_pad` fields, all
//! zero): the kernel refuses a command whose bytes after its last field
//! are not zero, and Rust leaves padding bytes undefined.
//!
//! Maps know the size of their keys and values, so that a lookup can
//! never let the kernel write past the buffer it is given.

use std::ffi::CStr;
use std::io;
use std::marker::PhantomData;
use std::mem;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::{cvt, Plain};

/// `enum bpf_cmd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
enum Cmd {
    MapCreate = 0,
    MapLookupElem = 1,
    MapUpdateElem = 2,
    MapDeleteElem = 3,
    ProgLoad = 5,
    ProgTestRun = 10,
    ProgGetNextId = 11,
    ProgGetFdById = 13,
    ObjGetInfoByFd = 15,
    EnableStats = 32,
}

/// `bpf(2)` with the attributes of `cmd`; returns the kernel's result (a
/// descriptor for the commands that create one).
///
/// # Safety
///
/// `attr` must be the structure of `cmd`, and every address in it must be
/// valid for what the kernel does with it under `cmd` (read or write that
/// many bytes) for the duration of the call.
// SAFETY: callers keep the contract under `# Safety` above.
unsafe fn bpf<A>(cmd: Cmd, attr: &mut A) -> io::Result<i32> {
    // The kernel writes back only fields of `cmd`'s structure, which `A` is.
    // SAFETY: `attr` is valid for reads and writes of its size; the caller
    // vouches for the addresses inside it.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_int,
            (attr as *mut A).cast::<libc::c_void>(),
            mem::size_of::<A>() as libc::c_uint,
        )
    };
    cvt(r).map(|r| r as i32)
}

/// A user-space address as the kernel's `__aligned_u64` takes it.
fn addr<T>(p: *const T) -> u64 {
    p as usize as u64
}

/// A descriptor the kernel has just created.
fn owned(fd: i32) -> OwnedFd {
    // SAFETY: only called with what a creating command returned: a new
    // descriptor that nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// `enum bpf_map_type`: the kinds used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum MapType {
    Hash = 1,
    Array = 2,
    /// One value per possible CPU for each key.
    PerCpuArray = 6,
}

/// `enum bpf_prog_type`: the kinds used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ProgType {
    SocketFilter = 1,
}

/// BPF_MAP_CREATE.
#[repr(C, align(8))]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    _pad: u32,
}

/// BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM.
#[repr(C, align(8))]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

/// BPF_PROG_LOAD.
#[repr(C, align(8))]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
}

/// BPF_PROG_TEST_RUN (`test`), whole: the kernel writes results back
/// into it.
#[repr(C, align(8))]
#[derive(Default)]
struct TestRunAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
    ctx_size_in: u32,
    ctx_size_out: u32,
    ctx_in: u64,
    ctx_out: u64,
    flags: u32,
    cpu: u32,
    batch_size: u32,
    _pad: u32,
}

/// BPF_PROG_GET_NEXT_ID, BPF_PROG_GET_FD_BY_ID.
#[repr(C, align(8))]
struct GetIdAttr {
    /// `start_id` or `prog_id`.
    id: u32,
    next_id: u32,
    open_flags: u32,
    _pad: u32,
}

/// BPF_OBJ_GET_INFO_BY_FD (`info`).
#[repr(C, align(8))]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// BPF_ENABLE_STATS (`enable_stats`).
#[repr(C, align(8))]
struct EnableStatsAttr {
    stats_type: u32,
    _pad: u32,
}

/// One eBPF instruction (`struct bpf_insn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    pub code: u8,
    /// `dst_reg:4, src_reg:4` bit fields: which nibble holds which register
    /// depends on the target's byte order (the C compiler allocates bit
    /// fields from the most significant bit on big-endian targets).
    regs: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        #[cfg(target_endian = "little")]
        let regs = (src << 4) | (dst & 0x0f);
        #[cfg(target_endian = "big")]
        let regs = (dst << 4) | (src & 0x0f);
        Insn {
            code,
            regs,
            off,
            imm,
        }
    }

    pub fn dst(&self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs & 0x0f
        } else {
            self.regs >> 4
        }
    }

    pub fn src(&self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs >> 4
        } else {
            self.regs & 0x0f
        }
    }
}

/// Number of possible CPUs (what the kernel's `num_possible_cpus()`
/// counts): a per-CPU map's value has one slot each. An error if the
/// system does not say, as then no buffer size would be safe.
fn possible_cpus() -> io::Result<usize> {
    let text = super::file::read_to_string("/sys/devices/system/cpu/possible")?;
    count_cpus(&text).ok_or_else(|| io::ErrorKind::InvalidData.into())
}

/// The CPUs of a list such as "0-3", "0" or "0-1,4-5"; None if any part
/// is unreadable (a count could then be short).
fn count_cpus(text: &str) -> Option<usize> {
    let mut n = 0;
    for range in text.trim().split(',') {
        let (first, last) = range.split_once('-').unwrap_or((range, range));
        n += decimal(last)?.checked_sub(decimal(first)?)? + 1;
    }
    Some(n)
}

/// A decimal number of digits only (what `str::parse` would take, but a
/// third of its size in the router binary).
fn decimal(text: &str) -> Option<usize> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0usize, |n, b| {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n.checked_mul(10)?.checked_add(usize::from(digit))
    })
}

/// A buffer of the wrong size for a map: a mistake in the caller, so no
/// message (it would only cost the router binary bytes).
fn wrong_size() -> io::Error {
    io::ErrorKind::InvalidInput.into()
}

/// A length as the kernel's `__u32`. Cutting one that does not fit only
/// ever makes the kernel read or write less than the buffer holds.
fn len32(len: usize) -> u32 {
    len.min(u32::MAX as usize) as u32
}

/// An eBPF map of keys `K` and values `V`; for a per-CPU map, `V` is the
/// value of one CPU and a lookup fills one per possible CPU. The types
/// fix the sizes the kernel reads and writes.
pub struct Map<K, V> {
    fd: OwnedFd,
    /// Values of a whole entry: 1, or one per possible CPU.
    slots: usize,
    _types: PhantomData<fn(K) -> V>,
}

impl<K: Plain, V: Plain> Map<K, V> {
    pub fn create(map_type: MapType, max_entries: u32) -> io::Result<Map<K, V>> {
        let slots = match map_type {
            // The kernel lays per-CPU values out 8-byte aligned: a `V` of
            // another size would not match a slice of them.
            MapType::PerCpuArray if mem::size_of::<V>() % 8 != 0 => return Err(wrong_size()),
            MapType::PerCpuArray => possible_cpus()?,
            MapType::Hash | MapType::Array => 1,
        };
        let mut attr = MapCreateAttr {
            map_type: map_type as u32,
            key_size: mem::size_of::<K>() as u32,
            value_size: mem::size_of::<V>() as u32,
            max_entries,
            map_flags: 0,
            _pad: 0,
        };
        // SAFETY: MAP_CREATE's structure, holding no addresses.
        let fd = unsafe { bpf(Cmd::MapCreate, &mut attr) }?;
        Ok(Map {
            fd: owned(fd),
            slots,
            _types: PhantomData,
        })
    }

    /// Values of a whole entry: 1, or one per possible CPU.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// The descriptor, for a program's `ld_imm64` of this map.
    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn elem(&self, key: &K, value: *const V, flags: u64) -> MapElemAttr {
        MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            _pad: 0,
            key: addr(key),
            value: addr(value),
            flags,
        }
    }

    /// Reads the entry of `key` into `values`, which must hold at least
    /// [`Map::slots`] values.
    pub fn lookup(&self, key: &K, values: &mut [V]) -> io::Result<()> {
        if values.len() < self.slots {
            return Err(wrong_size());
        }
        let mut attr = self.elem(key, values.as_mut_ptr(), 0);
        // The values hold a whole entry: `slots` values of the map's value
        // size, checked above.
        // SAFETY: key valid for reads of a `K`, values for writes of the
        // entry; any bytes make valid `V`s (`Plain`).
        unsafe { bpf(Cmd::MapLookupElem, &mut attr) }?;
        Ok(())
    }

    /// Sets the entry of `key` (`flags`: BPF_ANY 0, BPF_NOEXIST 1,
    /// BPF_EXIST 2) from `values`, at least [`Map::slots`] of them.
    pub fn update(&self, key: &K, values: &[V], flags: u64) -> io::Result<()> {
        if values.len() < self.slots {
            return Err(wrong_size());
        }
        let mut attr = self.elem(key, values.as_ptr(), flags);
        // SAFETY: the key and the values are valid for reads of the sizes
        // the kernel reads (a `K`, a whole entry: checked above).
        unsafe { bpf(Cmd::MapUpdateElem, &mut attr) }?;
        Ok(())
    }

    /// Removes `key` (maps of the hash kind; arrays refuse with EINVAL).
    pub fn delete(&self, key: &K) -> io::Result<()> {
        let mut attr = self.elem(key, std::ptr::null(), 0);
        // SAFETY: the key is valid for reads of the map's key size (a
        // `K`); DELETE_ELEM reads no value.
        unsafe { bpf(Cmd::MapDeleteElem, &mut attr) }?;
        Ok(())
    }
}

/// Loads a program. `log` receives the verifier's messages on failure
/// (none asked for if it is empty).
pub fn prog_load(
    prog_type: ProgType,
    insns: &[Insn],
    license: &CStr,
    log: &mut [u8],
) -> io::Result<OwnedFd> {
    let mut attr = ProgLoadAttr {
        prog_type: prog_type as u32,
        insn_cnt: len32(insns.len()),
        insns: addr(insns.as_ptr()),
        license: addr(license.as_ptr()),
        log_level: u32::from(!log.is_empty()),
        log_size: len32(log.len()),
        // The kernel wants no address with no room (EINVAL).
        log_buf: if log.is_empty() {
            0
        } else {
            addr(log.as_mut_ptr())
        },
    };
    // The instructions, the license and the log all outlive the call.
    // SAFETY: the instructions are valid for reads of `insn_cnt`, the
    // license is NUL-terminated, the log valid for writes of `log_size`.
    let fd = unsafe { bpf(Cmd::ProgLoad, &mut attr) }?;
    Ok(owned(fd))
}

/// What a test run of a program returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestRun {
    /// The program's return value (of the last run).
    pub retval: u32,
    /// Mean time of one run, in ns, as the kernel measured it.
    pub duration_ns: u32,
}

/// Runs a loaded program `repeat` times over `data` (for a socket filter:
/// an Ethernet frame, at least 14 bytes), without attaching it anywhere
/// (BPF_PROG_TEST_RUN). The program's side effects (map updates) happen.
pub fn prog_test_run(prog: BorrowedFd, data: &[u8], repeat: u32) -> io::Result<TestRun> {
    let mut attr = TestRunAttr {
        prog_fd: prog.as_raw_fd() as u32,
        data_size_in: len32(data.len()),
        data_in: addr(data.as_ptr()),
        repeat,
        ..TestRunAttr::default()
    };
    // SAFETY: `data` is valid for reads of `data_size_in` bytes; no output
    // buffers are given (their addresses and sizes are zero).
    unsafe { bpf(Cmd::ProgTestRun, &mut attr) }?;
    Ok(TestRun {
        retval: attr.retval,
        duration_ns: attr.duration,
    })
}

/// Turns on the kernel's run-time statistics of every program (run count
/// and time, see [`ProgInfo`]) for as long as the returned descriptor is
/// open (BPF_ENABLE_STATS, BPF_STATS_RUN_TIME; root).
pub fn enable_stats() -> io::Result<OwnedFd> {
    let mut attr = EnableStatsAttr {
        stats_type: 0,
        _pad: 0,
    };
    // SAFETY: ENABLE_STATS's structure, holding no addresses.
    let fd = unsafe { bpf(Cmd::EnableStats, &mut attr) }?;
    Ok(owned(fd))
}

/// The id of the first loaded program after `id` (0: the first of all),
/// None after the last (root).
pub fn prog_next_id(id: u32) -> io::Result<Option<u32>> {
    let mut attr = GetIdAttr {
        id,
        next_id: 0,
        open_flags: 0,
        _pad: 0,
    };
    // SAFETY: GET_NEXT_ID's structure, holding no addresses.
    match unsafe { bpf(Cmd::ProgGetNextId, &mut attr) } {
        Ok(_) => Ok(Some(attr.next_id)),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A descriptor of the loaded program `id` (root).
pub fn prog_fd_by_id(id: u32) -> io::Result<OwnedFd> {
    let mut attr = GetIdAttr {
        id,
        next_id: 0,
        open_flags: 0,
        _pad: 0,
    };
    // SAFETY: GET_FD_BY_ID's structure, holding no addresses.
    let fd = unsafe { bpf(Cmd::ProgGetFdById, &mut attr) }?;
    Ok(owned(fd))
}

/// `struct bpf_prog_info` (linux/bpf.h), as of Linux 6.x; an older kernel
/// fills the fields it knows and leaves the others zero. The `u64`
/// address fields stay zero here: nothing asks for the arrays they point
/// to but `map_ids`.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(8))]
pub struct ProgInfo {
    pub prog_type: u32,
    pub id: u32,
    pub tag: [u8; 8],
    pub jited_prog_len: u32,
    pub xlated_prog_len: u32,
    jited_prog_insns: u64,
    xlated_prog_insns: u64,
    pub load_time: u64,
    pub created_by_uid: u32,
    /// How many maps the program uses (the ids asked for are written
    /// up to the room given).
    pub nr_map_ids: u32,
    map_ids: u64,
    pub name: [u8; 16],
    pub ifindex: u32,
    /// Bit 0: gpl_compatible.
    pub flags: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    nr_jited_ksyms: u32,
    nr_jited_func_lens: u32,
    jited_ksyms: u64,
    jited_func_lens: u64,
    pub btf_id: u32,
    func_info_rec_size: u32,
    func_info: u64,
    nr_func_info: u32,
    nr_line_info: u32,
    line_info: u64,
    jited_line_info: u64,
    nr_jited_line_info: u32,
    line_info_rec_size: u32,
    jited_line_info_rec_size: u32,
    nr_prog_tags: u32,
    prog_tags: u64,
    /// Time spent running, in ns, while statistics were on.
    pub run_time_ns: u64,
    /// Runs counted while statistics were on.
    pub run_cnt: u64,
    pub recursion_misses: u64,
    pub verified_insns: u32,
    pub attach_btf_obj_id: u32,
    pub attach_btf_id: u32,
    _pad: u32,
}

/// `BPF_OBJ_GET_INFO_BY_FD` of a program into `info`.
///
/// # Safety
///
/// Every non-zero address in `info` must be valid for writes of the length
/// it comes with (`map_ids`: `nr_map_ids` ids; `xlated_prog_insns`:
/// `xlated_prog_len` bytes), and any bytes must make valid values there.
// SAFETY: callers keep the contract under `# Safety` above.
unsafe fn prog_info_into(prog: BorrowedFd, info: &mut ProgInfo) -> io::Result<()> {
    let mut attr = InfoAttr {
        bpf_fd: prog.as_raw_fd() as u32,
        info_len: mem::size_of::<ProgInfo>() as u32,
        info: addr(info as *mut ProgInfo),
    };
    // SAFETY: `info` is valid for writes of `info_len` bytes (integers
    // only: any bytes are valid); its addresses are the caller's to vouch for.
    unsafe { bpf(Cmd::ObjGetInfoByFd, &mut attr) }?;
    Ok(())
}

/// What the kernel says of a loaded program; the ids of the maps it uses
/// are written into `map_ids` (as many as fit; see
/// [`ProgInfo::nr_map_ids`]).
pub fn prog_info(prog: BorrowedFd, map_ids: &mut [u32]) -> io::Result<ProgInfo> {
    let mut info = ProgInfo {
        nr_map_ids: len32(map_ids.len()),
        map_ids: addr(map_ids.as_mut_ptr()),
        ..ProgInfo::default()
    };
    // SAFETY: the only non-zero address, `map_ids`, is valid for writes of
    // `nr_map_ids` ids.
    unsafe { prog_info_into(prog, &mut info) }?;
    Ok(info)
}

/// The program as the kernel runs it after verifying it (its rewrites
/// done: inlined helpers, context accesses), as many instructions as fit
/// in `insns`; returns how many there are in all (root).
pub fn prog_translated(prog: BorrowedFd, insns: &mut [Insn]) -> io::Result<usize> {
    let mut info = ProgInfo {
        xlated_prog_len: len32(mem::size_of_val(insns)),
        xlated_prog_insns: addr(insns.as_mut_ptr()),
        ..ProgInfo::default()
    };
    // SAFETY: the only non-zero address, `xlated_prog_insns`, is valid for
    // writes of `xlated_prog_len` bytes (any bytes make a valid `Insn`).
    unsafe { prog_info_into(prog, &mut info) }?;
    Ok(info.xlated_prog_len as usize / mem::size_of::<Insn>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;
    use std::os::fd::AsFd;

    /// The structures match linux/bpf.h (offsets read from the header;
    /// checked against `offsetof` of a C compiler on x86_64).
    #[test]
    fn layouts_follow_the_kernel_header() {
        assert_eq!(mem::size_of::<Insn>(), 8);
        assert_eq!(mem::size_of::<MapCreateAttr>(), 24);
        assert_eq!(offset_of!(MapCreateAttr, map_flags), 16);
        assert_eq!(
            (offset_of!(MapElemAttr, key), offset_of!(MapElemAttr, value)),
            (8, 16)
        );
        assert_eq!(mem::size_of::<MapElemAttr>(), 32);
        assert_eq!(
            (
                offset_of!(ProgLoadAttr, insns),
                offset_of!(ProgLoadAttr, license),
                offset_of!(ProgLoadAttr, log_level),
                offset_of!(ProgLoadAttr, log_buf),
            ),
            (8, 16, 24, 32)
        );
        assert_eq!(
            (
                offset_of!(TestRunAttr, data_in),
                offset_of!(TestRunAttr, repeat),
                offset_of!(TestRunAttr, duration),
                offset_of!(TestRunAttr, ctx_in),
                offset_of!(TestRunAttr, batch_size),
            ),
            (16, 32, 36, 48, 72)
        );
        assert_eq!(offset_of!(InfoAttr, info), 8);
        assert_eq!(
            (
                offset_of!(ProgInfo, nr_map_ids),
                offset_of!(ProgInfo, map_ids),
                offset_of!(ProgInfo, ifindex),
                offset_of!(ProgInfo, netns_dev),
                offset_of!(ProgInfo, btf_id),
                offset_of!(ProgInfo, prog_tags),
                offset_of!(ProgInfo, run_time_ns),
                offset_of!(ProgInfo, run_cnt),
                offset_of!(ProgInfo, attach_btf_id),
            ),
            (52, 56, 80, 88, 128, 184, 192, 200, 224)
        );
        assert_eq!(mem::size_of::<ProgInfo>(), 232);
        // No implicit padding: each ends with its last field.
        let ends = [
            (
                mem::size_of::<MapCreateAttr>(),
                offset_of!(MapCreateAttr, _pad) + 4,
            ),
            (
                mem::size_of::<MapElemAttr>(),
                offset_of!(MapElemAttr, flags) + 8,
            ),
            (
                mem::size_of::<ProgLoadAttr>(),
                offset_of!(ProgLoadAttr, log_buf) + 8,
            ),
            (
                mem::size_of::<TestRunAttr>(),
                offset_of!(TestRunAttr, _pad) + 4,
            ),
            (mem::size_of::<GetIdAttr>(), offset_of!(GetIdAttr, _pad) + 4),
            (mem::size_of::<InfoAttr>(), offset_of!(InfoAttr, info) + 8),
            (
                mem::size_of::<EnableStatsAttr>(),
                offset_of!(EnableStatsAttr, _pad) + 4,
            ),
            (mem::size_of::<ProgInfo>(), offset_of!(ProgInfo, _pad) + 4),
        ];
        for (size, end) in ends {
            assert_eq!(size, end);
        }
    }

    #[test]
    fn registers_follow_the_byte_order() {
        let mov = Insn::new(0xbf, 6, 1, 0, 0);
        assert_eq!((mov.dst(), mov.src()), (6, 1));
        // SAFETY: `Insn` is 8 bytes of integers (asserted above), without
        // padding: every byte is initialized.
        let bytes: [u8; 8] = unsafe { mem::transmute(mov) };
        if cfg!(target_endian = "big") {
            assert_eq!(bytes[1], 0x61);
        } else {
            assert_eq!(bytes[1], 0x16);
        }
    }

    #[test]
    fn cpu_lists_are_counted() {
        for (text, n) in [("0-3\n", Some(4)), ("0", Some(1)), ("0-1,4-5", Some(4))] {
            assert_eq!(count_cpus(text), n, "{text:?}");
        }
        for bad in [
            "",
            "x",
            "3-1",
            "0-",
            "0-1,,2",
            "+1",
            "99999999999999999999999",
        ] {
            assert_eq!(count_cpus(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn possible_cpus_are_counted() {
        let n = possible_cpus().expect("sysfs tells");
        assert!(n >= 1);
        assert!(n >= std::thread::available_parallelism().map_or(1, |n| n.get()));
    }

    /// Needs the right to create maps and load programs (root); skipped
    /// otherwise.
    #[test]
    fn maps_and_a_test_run_through_the_kernel() {
        let Ok(hash) = Map::<u32, u64>::create(MapType::Hash, 4) else {
            eprintln!("skipped: cannot create BPF maps");
            return;
        };
        hash.update(&7, &[42], 0).unwrap();
        let mut v = [0u64];
        hash.lookup(&7, &mut v).unwrap();
        assert_eq!(v, [42]);
        hash.delete(&7).unwrap();
        let e = hash.lookup(&7, &mut v).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        // Too few values for a whole entry are refused before the kernel
        // sees them, and so is a per-CPU value it would pad.
        assert_eq!(
            hash.lookup(&7, &mut []).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        let e = Map::<u32, u32>::create(MapType::PerCpuArray, 1).map(|_| ());
        assert_eq!(e.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        let per_cpu = Map::<u32, u64>::create(MapType::PerCpuArray, 1).unwrap();
        assert_eq!(per_cpu.slots(), possible_cpus().unwrap());
        let mut small = vec![0u64; per_cpu.slots() - 1];
        assert_eq!(
            per_cpu.lookup(&0, &mut small).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        let array = Map::<u32, u64>::create(MapType::Array, 1).unwrap();
        let e = array.delete(&0).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EINVAL));

        // r0 = 99; exit: accepts 99 bytes of every frame.
        let program = [Insn::new(0xb7, 0, 0, 0, 99), Insn::new(0x95, 0, 0, 0, 0)];
        let prog = prog_load(ProgType::SocketFilter, &program, c"GPL", &mut []).unwrap();
        let run = prog_test_run(prog.as_fd(), &[0u8; 64], 10).unwrap();
        assert_eq!(run.retval, 99);
        let mut log = vec![0u8; 1024];
        // Falls off the end: the verifier refuses it and says why.
        let e = prog_load(ProgType::SocketFilter, &program[..1], c"GPL", &mut log);
        assert!(e.is_err());
        assert_ne!(log[0], 0, "the verifier wrote its log");

        let mut translated = [Insn::new(0, 0, 0, 0, 0); 8];
        let n = prog_translated(prog.as_fd(), &mut translated).unwrap();
        assert_eq!(&translated[..n], &program);
        let mut maps = [0u32; 4];
        let info = prog_info(prog.as_fd(), &mut maps).unwrap();
        assert_eq!(info.prog_type, ProgType::SocketFilter as u32);
        assert_eq!(info.nr_map_ids, 0);
        let by_id = prog_fd_by_id(info.id).unwrap();
        assert_eq!(prog_info(by_id.as_fd(), &mut []).unwrap().id, info.id);
        // The program is among the loaded ones.
        let mut id = 0;
        let mut found = false;
        while let Some(next) = prog_next_id(id).unwrap() {
            found |= next == info.id;
            id = next;
        }
        assert!(found);
        let _stats = enable_stats().unwrap();
    }
}
