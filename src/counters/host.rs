//! The sFlow host structures: description, CPU, memory, network I/O and
//! adapters, from /proc, sysfs, uname and the rtnetlink link dump.
//!
//! The parsers are pure functions of the file's text, so they are tested
//! against captured files of the routers we run on; they accept any text
//! and give 0 (or -1.0 for load averages) for whatever they cannot find,
//! which are the unknown values of `sflow_host.txt`.

use std::path::{Path, PathBuf};

use super::interface::IFF_LOOPBACK;
use crate::netlink::Link;
use crate::sflow::{self, HostCpu, HostMemory, HostNetIo};
use crate::sys;

/// /proc/loadavg: "0.20 0.18 0.12 1/80 11206".
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LoadAvg {
    pub one: f32,
    pub five: f32,
    pub fifteen: f32,
    /// Runnable scheduling entities.
    pub running: u32,
    /// Scheduling entities (processes and threads).
    pub total: u32,
}

/// A non-negative decimal number ("0.20", "2394.456", "7") as
/// (digits without the point, number of fraction digits), or None.
/// Why not `str::parse::<f32>`: its exact algorithm (tables of powers of
/// five) is ~16 KB of a mips binary, for numbers the kernel prints with a
/// fixed number of decimals. At most 19 digits, so that they fit a u64.
fn parse_decimal(text: &str) -> Option<(u64, u32)> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || whole.len() + fraction.len() > 19 {
        return None;
    }
    let mut digits = 0u64;
    for b in whole.bytes().chain(fraction.bytes()) {
        if !b.is_ascii_digit() {
            return None;
        }
        digits = digits * 10 + u64::from(b - b'0');
    }
    Some((digits, fraction.len() as u32))
}

/// A load average as /proc/loadavg prints it ("%lu.%02lu"), as f32: the
/// digits divided by 10^decimals, correctly rounded, so "0.20" is exactly
/// what `"0.20".parse::<f32>()` gives.
fn parse_load(text: &str) -> Option<f32> {
    let (digits, decimals) = parse_decimal(text)?;
    // At most 19 digits reach here, and 10^19 < 2^64.
    Some(quotient_f32(digits, 10u64.pow(decimals)))
}

/// `num / den` (den > 0) as the nearest f32, ties to even, in integer
/// arithmetic: mips is soft-float, and dividing in f64 was the last use of
/// the soft-float division, multiplication and conversions on the router
/// (~4 KB of the binary). Every quotient of two u64 is a normal f32
/// (2^-64 to 2^64), so only the exponent and 24 significant bits are
/// needed.
fn quotient_f32(num: u64, den: u64) -> f32 {
    if num == 0 || den == 0 {
        return 0.0;
    }
    // num / den = (n / d) · 2^exp, scaled until 2^23 ≤ n / d < 2^24:
    // n < 2^88 and d < 2^65, exact in 128 bits.
    let (mut n, mut d, mut exp) = (u128::from(num), u128::from(den), 0i32);
    while n < d << 23 {
        n <<= 1;
        exp -= 1;
    }
    while n >= d << 24 {
        d <<= 1;
        exp += 1;
    }
    // The 24 bits of the quotient, by long division.
    let mut q = 0u32;
    for bit in (0..24).rev() {
        if n >= d << bit {
            n -= d << bit;
            q |= 1 << bit;
        }
    }
    // Round to nearest by the remainder, a tie to the even quotient.
    if 2 * n > d || (2 * n == d && q & 1 == 1) {
        q += 1;
        if q == 1 << 24 {
            q >>= 1;
            exp += 1;
        }
    }
    // q · 2^exp with q = 1.xxx · 2^23: biased exponent exp + 23 + 127.
    f32::from_bits(((exp + 150) as u32) << 23 | (q & 0x7f_ffff))
}

pub fn parse_loadavg(text: &str) -> Option<LoadAvg> {
    let mut fields = text.split_ascii_whitespace();
    let mut load = || parse_load(fields.next()?);
    let (one, five, fifteen) = (load()?, load()?, load()?);
    let (running, total) =
        fields
            .next()
            .and_then(|f| f.split_once('/'))
            .map_or((0, 0), |(r, t)| {
                // Through u64, whose parser the binary has anyway (a u32
                // one is ~400 bytes more of mips).
                let number = |s: &str| s.parse::<u64>().ok().and_then(|v| u32::try_from(v).ok());
                (number(r).unwrap_or(0), number(t).unwrap_or(0))
            });
    Some(LoadAvg {
        one,
        five,
        fifteen,
        running,
        total,
    })
}

/// The host-wide times of /proc/stat in milliseconds, and event counts.
/// Every value is the low 32 bits of the kernel's, as sFlow counters wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTimes {
    pub user: u32,
    pub nice: u32,
    pub system: u32,
    pub idle: u32,
    pub iowait: u32,
    pub irq: u32,
    pub softirq: u32,
    pub interrupts: u32,
    pub contexts: u32,
}

/// Parses /proc/stat, whose times are in `ticks_per_second` units
/// (`sysconf(_SC_CLK_TCK)`, USER_HZ: 100 on every Linux port).
pub fn parse_stat(text: &str, ticks_per_second: u64) -> CpuTimes {
    let hz = if (1..=1_000_000).contains(&ticks_per_second) {
        ticks_per_second
    } else {
        100
    };
    // Exact for any tick count, and wrapping modulo 2^64 (so modulo 2^32
    // too) where ticks × 1000 would overflow.
    let ms = |ticks: u64| ((ticks / hz).wrapping_mul(1000) + ticks % hz * 1000 / hz) as u32;
    let mut t = CpuTimes::default();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let key = fields.next();
        let mut number = || {
            fields
                .next()
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        match key {
            Some("cpu") => {
                // Older kernels have fewer columns: the rest stay 0.
                t.user = ms(number());
                t.nice = ms(number());
                t.system = ms(number());
                t.idle = ms(number());
                t.iowait = ms(number());
                t.irq = ms(number());
                t.softirq = ms(number());
            }
            // The total comes first; the per-IRQ counts after it are many.
            Some("intr") => t.interrupts = number() as u32,
            Some("ctxt") => t.contexts = number() as u32,
            _ => {}
        }
    }
    t
}

/// /proc/meminfo, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemInfo {
    pub total: u64,
    pub free: u64,
    pub shared: u64,
    pub buffers: u64,
    pub cached: u64,
    pub swap_total: u64,
    pub swap_free: u64,
}

pub fn parse_meminfo(text: &str) -> MemInfo {
    let mut m = MemInfo::default();
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let field = match key {
            "MemTotal" => &mut m.total,
            "MemFree" => &mut m.free,
            "Shmem" => &mut m.shared,
            "Buffers" => &mut m.buffers,
            "Cached" => &mut m.cached,
            "SwapTotal" => &mut m.swap_total,
            "SwapFree" => &mut m.swap_free,
            _ => continue,
        };
        let mut value = rest.split_ascii_whitespace();
        let n = value
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        // "kB" is the kernel's (binary) kibibyte.
        *field = match value.next() {
            Some("kB") => n.saturating_mul(1024),
            _ => n,
        };
    }
    m
}

/// Paging counters of /proc/vmstat (low 32 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VmStat {
    pub page_in: u32,
    pub page_out: u32,
    pub swap_in: u32,
    pub swap_out: u32,
}

pub fn parse_vmstat(text: &str) -> VmStat {
    let mut v = VmStat::default();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let field = match fields.next() {
            Some("pgpgin") => &mut v.page_in,
            Some("pgpgout") => &mut v.page_out,
            Some("pswpin") => &mut v.swap_in,
            Some("pswpout") => &mut v.swap_out,
            _ => continue,
        };
        *field = fields
            .next()
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0) as u32;
    }
    v
}

/// Whole seconds since boot, from /proc/uptime ("350735.47 234388.90").
pub fn parse_uptime(text: &str) -> Option<u32> {
    let first = text.split_ascii_whitespace().next()?;
    let seconds = first.split('.').next()?.parse::<u64>().ok()?;
    Some(seconds.min(u64::from(u32::MAX)) as u32)
}

/// The first "cpu MHz" of /proc/cpuinfo (x86 has it; MIPS and ARM do not,
/// and their BogoMIPS is no clock frequency).
pub fn parse_cpuinfo_mhz(text: &str) -> Option<u32> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(key, _)| key.trim() == "cpu MHz")
        .and_then(|(_, v)| parse_decimal(v.trim()))
        .map(|(digits, decimals)| {
            // Rounded to the nearest MHz, halves up.
            let unit = 10u64.pow(decimals);
            (digits + unit / 2) / unit
        })
        .filter(|&mhz| mhz >= 1)
        .map(|mhz| mhz.min(u64::from(u32::MAX)) as u32)
}

/// cpufreq's cpuinfo_max_freq (kHz) in MHz.
pub fn parse_cpufreq_mhz(text: &str) -> Option<u32> {
    let khz = text.trim().parse::<u64>().ok()?;
    Some((khz / 1000).min(u64::from(u32::MAX)) as u32).filter(|&mhz| mhz > 0)
}

/// A UUID written as 32 hex digits, with or without hyphens (DMI's
/// product_uuid, /etc/machine-id). All-zero and all-ones values are the
/// placeholders of firmware that has no UUID: `None`.
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let mut uuid = [0u8; 16];
    let mut digits = 0;
    for c in text.trim().chars().filter(|&c| c != '-') {
        let d = c.to_digit(16)? as u8;
        let byte = uuid.get_mut(digits / 2)?;
        *byte = *byte << 4 | d;
        digits += 1;
    }
    let placeholder = uuid == [0; 16] || uuid == [0xff; 16];
    (digits == 32 && !placeholder).then_some(uuid)
}

/// The sFlow `machine_type` of a uname machine string.
pub fn machine_type(machine: &str) -> u32 {
    use sflow::machine_type::*;
    let m = machine.trim();
    let is = |prefix: &str| m.starts_with(prefix);
    match m {
        "" => UNKNOWN,
        "x86_64" | "amd64" => X86_64,
        "i386" | "i486" | "i586" | "i686" | "x86" => X86,
        "ia64" => IA64,
        "alpha" => ALPHA,
        "m68k" => M68K,
        _ if is("mips") => MIPS,
        _ if is("arm") || is("aarch64") => ARM,
        _ if is("ppc") || is("powerpc") => POWERPC,
        _ if is("sparc") => SPARC,
        _ if is("parisc") => HPPA,
        _ if is("s390") => S390,
        _ => OTHER,
    }
}

/// `s` cut to at most `max` bytes without splitting a character.
fn truncate_utf8(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Reads a whole file into `buf` (reused: no allocation once it is large
/// enough); `None` if it cannot be read as text.
fn read_into<'a>(path: &Path, buf: &'a mut String) -> Option<&'a str> {
    crate::sys::file::read_into(path, buf).ok()?;
    Some(buf.as_str())
}

fn read_string(path: &Path) -> Option<String> {
    let mut s = String::new();
    read_into(path, &mut s)?;
    Some(s)
}

/// What `host_descr` says: read once at start and on reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDescription {
    pub hostname: String,
    /// All zeros when unknown (no DMI and no machine-id, as on OpenWrt).
    pub uuid: [u8; 16],
    pub machine_type: u32,
    pub os_name: u32,
    pub os_release: String,
}

impl HostDescription {
    pub fn read() -> HostDescription {
        HostDescription::read_in(Path::new("/"), &sys::uname())
    }

    fn read_in(root: &Path, uname: &sys::Uname) -> HostDescription {
        // /proc has the current name even if it changed after uname's
        // snapshot; both are the kernel's utsname.
        let hostname = read_string(&root.join("proc/sys/kernel/hostname"))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| uname.nodename.clone());
        // The DMI UUID identifies the hardware; machine-id, the OS install.
        let uuid = read_string(&root.join("sys/class/dmi/id/product_uuid"))
            .and_then(|s| parse_uuid(&s))
            .or_else(|| read_string(&root.join("etc/machine-id")).and_then(|s| parse_uuid(&s)))
            .unwrap_or([0; 16]);
        HostDescription {
            hostname: truncate_utf8(&hostname, sflow::HOSTNAME_MAX).to_owned(),
            uuid,
            machine_type: machine_type(&uname.machine),
            os_name: sflow::os_name::LINUX,
            os_release: truncate_utf8(&uname.release, sflow::OS_RELEASE_MAX).to_owned(),
        }
    }

    pub fn as_record(&self) -> sflow::HostDescr<'_> {
        sflow::HostDescr {
            hostname: self.hostname.as_bytes(),
            uuid: self.uuid,
            machine_type: self.machine_type,
            os_name: self.os_name,
            os_release: self.os_release.as_bytes(),
        }
    }
}

/// Reads the host CPU and memory records each polling round, reusing one
/// buffer for the files.
pub struct HostReader {
    buf: String,
    loadavg: PathBuf,
    stat: PathBuf,
    uptime: PathBuf,
    meminfo: PathBuf,
    vmstat: PathBuf,
    cpuinfo: PathBuf,
    cpufreq: PathBuf,
    ticks_per_second: u64,
    /// The CPU's nominal speed, read once: it does not change.
    cpu_speed: Option<u32>,
}

impl Default for HostReader {
    fn default() -> Self {
        HostReader::new()
    }
}

impl HostReader {
    pub fn new() -> HostReader {
        HostReader::with_root(PathBuf::from("/"))
    }

    /// Reads `proc/` and `sys/` under `root` instead of `/` (for tests).
    pub fn with_root(root: PathBuf) -> HostReader {
        HostReader {
            buf: String::with_capacity(4096),
            loadavg: root.join("proc/loadavg"),
            stat: root.join("proc/stat"),
            uptime: root.join("proc/uptime"),
            meminfo: root.join("proc/meminfo"),
            vmstat: root.join("proc/vmstat"),
            cpuinfo: root.join("proc/cpuinfo"),
            cpufreq: root.join("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"),
            ticks_per_second: sys::system::sysconf(libc::_SC_CLK_TCK).unwrap_or(100),
            cpu_speed: None,
        }
    }

    pub fn cpu(&mut self) -> HostCpu {
        let mut cpu = HostCpu {
            load_one: -1.0,
            load_five: -1.0,
            load_fifteen: -1.0,
            cpu_num: sys::system::sysconf(libc::_SC_NPROCESSORS_ONLN).map_or(0, |n| n as u32),
            cpu_speed: self.cpu_speed(),
            ..HostCpu::default()
        };
        if let Some(l) = read_into(&self.loadavg, &mut self.buf).and_then(parse_loadavg) {
            cpu.load_one = l.one;
            cpu.load_five = l.five;
            cpu.load_fifteen = l.fifteen;
            cpu.proc_run = l.running;
            cpu.proc_total = l.total;
        }
        if let Some(text) = read_into(&self.stat, &mut self.buf) {
            let t = parse_stat(text, self.ticks_per_second);
            cpu.cpu_user = t.user;
            cpu.cpu_nice = t.nice;
            cpu.cpu_system = t.system;
            cpu.cpu_idle = t.idle;
            cpu.cpu_wio = t.iowait;
            cpu.cpu_intr = t.irq;
            cpu.cpu_sintr = t.softirq;
            cpu.interrupts = t.interrupts;
            cpu.contexts = t.contexts;
        }
        cpu.uptime = read_into(&self.uptime, &mut self.buf)
            .and_then(parse_uptime)
            .unwrap_or(0);
        cpu
    }

    /// The maximum frequency from cpufreq, else "cpu MHz", else 0.
    fn cpu_speed(&mut self) -> u32 {
        if let Some(mhz) = self.cpu_speed {
            return mhz;
        }
        let mhz = read_into(&self.cpufreq, &mut self.buf)
            .and_then(parse_cpufreq_mhz)
            .or_else(|| read_into(&self.cpuinfo, &mut self.buf).and_then(parse_cpuinfo_mhz))
            .unwrap_or(0);
        self.cpu_speed = Some(mhz);
        mhz
    }

    pub fn memory(&mut self) -> HostMemory {
        let m = read_into(&self.meminfo, &mut self.buf)
            .map(parse_meminfo)
            .unwrap_or_default();
        let v = read_into(&self.vmstat, &mut self.buf)
            .map(parse_vmstat)
            .unwrap_or_default();
        HostMemory {
            mem_total: m.total,
            mem_free: m.free,
            mem_shared: m.shared,
            mem_buffers: m.buffers,
            mem_cached: m.cached,
            swap_total: m.swap_total,
            swap_free: m.swap_free,
            page_in: v.page_in,
            page_out: v.page_out,
            swap_in: v.swap_in,
            swap_out: v.swap_out,
        }
    }
}

fn is_loopback(link: &Link) -> bool {
    link.flags & IFF_LOOPBACK != 0 || link.hw_type == libc::ARPHRD_LOOPBACK
}

/// Whether `link`'s traffic is part of the host's network I/O.
///
/// Every frame is counted once, on the device nearest the wire: devices
/// stacked on another device of this host are left out, since the lower
/// device counts the same frames (or the same frames plus a tag):
/// bridges (counted on their ports, Wi-Fi included), bonds and teams (on
/// their slaves), VLANs, macvlan/macvtap/ipvlan (on their lower device),
/// DSA switch ports (on the CPU conduit, and their counters may include
/// frames switched in hardware that the host never saw), and ifb (SQM
/// redirects ingress traffic there, a second time). Loopback is not
/// network I/O. Tunnels and PPP stay in: they may be a host's only WAN
/// link (PPP over a serial modem), and their lower device is not known.
fn counts_in_net_io(link: &Link) -> bool {
    const STACKED: [&str; 9] = [
        "bridge", "bond", "team", "vlan", "macvlan", "macvtap", "ipvlan", "dsa", "ifb",
    ];
    !is_loopback(link) && !link.kind.as_deref().is_some_and(|k| STACKED.contains(&k))
}

/// The `host_net_io` record: the sum over the interfaces that
/// [`counts_in_net_io`] keeps, with the same mapping as `if_counters`.
pub fn net_io(links: &[Link]) -> HostNetIo {
    let mut sum = [0u64; 8];
    for link in links.iter().filter(|l| counts_in_net_io(l)) {
        let s = &link.stats;
        let values = [
            s.rx_bytes,
            s.rx_packets,
            s.rx_errors,
            s.rx_dropped.wrapping_add(s.rx_missed_errors),
            s.tx_bytes,
            s.tx_packets,
            s.tx_errors,
            s.tx_dropped,
        ];
        for (total, v) in sum.iter_mut().zip(values) {
            *total = total.wrapping_add(v);
        }
    }
    HostNetIo {
        bytes_in: sum[0],
        pkts_in: sum[1] as u32,
        errs_in: sum[2] as u32,
        drops_in: sum[3] as u32,
        bytes_out: sum[4],
        packets_out: sum[5] as u32,
        errs_out: sum[6] as u32,
        drops_out: sum[7] as u32,
    }
}

/// The `host_adapters` entries: (ifIndex, MAC) of every interface with a
/// MAC address except loopback and bridges (whose MAC is a port's), in
/// ifIndex order. All-zero MACs identify nothing and are left out.
pub fn adapters(links: &[Link]) -> Vec<(u32, [u8; 6])> {
    let mut list: Vec<(u32, [u8; 6])> = links
        .iter()
        .filter(|l| !is_loopback(l) && l.kind.as_deref() != Some("bridge"))
        .filter_map(|l| Some((l.if_index, l.mac.filter(|m| *m != [0; 6])?)))
        .collect();
    list.sort_unstable_by_key(|&(index, _)| index);
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::LinkStats;
    use crate::sflow::machine_type as mt;

    fn fixture_root(name: &str) -> PathBuf {
        crate::source_dir().join("tests/fixtures/proc").join(name)
    }

    fn fixture(name: &str, file: &str) -> String {
        std::fs::read_to_string(fixture_root(name).join("proc").join(file)).unwrap()
    }

    #[test]
    fn loadavg() {
        let l = parse_loadavg(&fixture("openwrt-mips", "loadavg")).unwrap();
        assert_eq!(
            l,
            LoadAvg {
                one: 0.08,
                five: 0.03,
                fifteen: 0.01,
                running: 1,
                total: 72
            }
        );
        let l = parse_loadavg("1.03 0.56 0.22\n").unwrap();
        assert_eq!((l.fifteen, l.running, l.total), (0.22, 0, 0));
        assert_eq!(parse_loadavg(""), None);
        assert_eq!(parse_loadavg("0.1 0.2"), None);
        assert_eq!(parse_loadavg("NaN 0.2 0.3 1/2 3"), None);
        assert_eq!(parse_loadavg("-1.00 0.2 0.3 1/2 3"), None);
        assert_eq!(parse_loadavg("1e3 0.2 0.3 1/2 3"), None);
        assert_eq!(parse_loadavg(".5 0.2 0.3 1/2 3"), None);
    }

    /// The kernel's "%lu.%02lu" load averages give the f32 that std's
    /// parser gives, for every value from 0.00 to 1000.00 and some larger.
    #[test]
    fn loads_parse_as_std_parses_them() {
        let values = (0..=100_000u64).chain([999_999, 12_345_678, 4_294_967_295]);
        for hundredths in values {
            let text = format!("{}.{:02}", hundredths / 100, hundredths % 100);
            assert_eq!(parse_load(&text), text.parse::<f32>().ok(), "{text}");
        }
        for text in ["0", "7", "0.5", "3.14159", "123456.7890123"] {
            assert_eq!(parse_load(text), text.parse::<f32>().ok(), "{text}");
        }
        // Ties to even (2^24 + 1 and 2^24 + 3 lie halfway between two
        // f32s), the largest and the smallest quotients.
        for text in [
            "16777217",
            "16777219",
            "1.6777217",
            "9999999999999999999",
            "0.000000000000000001",
            "0.00",
        ] {
            assert_eq!(parse_load(text), text.parse::<f32>().ok(), "{text}");
        }
        for text in [
            "",
            ".",
            "1.",
            "+1",
            "1,5",
            "0x10",
            "inf",
            "12345678901234567890",
        ] {
            let ours = parse_load(text);
            assert!(ours.is_none() || text == "1.", "{text}: {ours:?}");
        }
    }

    proptest::proptest! {
        /// Any decimal of up to 19 digits gives the f32 std's parser gives.
        #[test]
        fn decimals_parse_as_std_parses_them(whole in "[0-9]{1,10}", fraction in "[0-9]{0,9}") {
            let text = if fraction.is_empty() { whole } else { format!("{whole}.{fraction}") };
            proptest::prop_assert_eq!(parse_load(&text), text.parse::<f32>().ok(), "{}", text);
        }
    }

    #[test]
    fn stat() {
        let t = parse_stat(&fixture("openwrt-mips", "stat"), 100);
        assert_eq!(
            t,
            CpuTimes {
                user: 402_710,
                nice: 0,
                system: 985_320,
                idle: 572_314_080,
                iowait: 0,
                irq: 0,
                softirq: 4_174_550,
                interrupts: 86_712_301,
                // 5012837431 wrapped to 32 bits.
                contexts: 717_870_135,
            }
        );
        let t = parse_stat(&fixture("arm", "stat"), 100);
        assert_eq!((t.user, t.iowait, t.softirq), (88_130, 1_020, 33_440));
        assert_eq!((t.interrupts, t.contexts), (3_811_277, 6_190_514));
        let t = parse_stat(&fixture("x86-64", "stat"), 100);
        assert_eq!((t.user, t.system, t.idle), (121_880, 69_810, 1_356_950));

        // Other tick rates, and a 2.4 kernel's four columns.
        assert_eq!(parse_stat("cpu 250 1 2 3\n", 250).user, 1000);
        assert_eq!(parse_stat("cpu 1 1 2 3\n", 1000).user, 1);
        assert_eq!(parse_stat("cpu 1 1 2 3\n", 1000).iowait, 0);
        assert_eq!(parse_stat("cpu 150 1 2 3\n", 0).user, 1500);
        // ms wrap modulo 2^32 like the counter they are.
        let ticks = 500_000_000u64; // 5e9 ms
        let t = parse_stat(&format!("cpu {ticks}\n"), 100);
        assert_eq!(t.user, (ticks * 10) as u32);
        assert_eq!(parse_stat(&format!("cpu {}\n", u64::MAX), 100).user, {
            ((u64::MAX / 100).wrapping_mul(1000) + u64::MAX % 100 * 10) as u32
        });
        // Per-CPU lines are not the total.
        assert_eq!(parse_stat("cpu0 5 5 5 5\n", 100), CpuTimes::default());
    }

    #[test]
    fn meminfo() {
        let m = parse_meminfo(&fixture("openwrt-mips", "meminfo"));
        assert_eq!(
            m,
            MemInfo {
                total: 123_644 * 1024,
                free: 61_880 * 1024,
                shared: 840 * 1024,
                buffers: 4_128 * 1024,
                cached: 21_364 * 1024,
                swap_total: 0,
                swap_free: 0,
            }
        );
        let m = parse_meminfo(&fixture("arm", "meminfo"));
        assert_eq!((m.swap_total, m.swap_free), (65_532 * 1024, 65_020 * 1024));
        // SwapCached is not Cached.
        assert_eq!(parse_meminfo("SwapCached: 5 kB\n").cached, 0);
        assert_eq!(parse_meminfo("MemTotal: 7\n").total, 7);
        assert_eq!(parse_meminfo("MemTotal: lots kB\n").total, 0);
    }

    #[test]
    fn vmstat() {
        let v = parse_vmstat(&fixture("arm", "vmstat"));
        assert_eq!(
            v,
            VmStat {
                page_in: 22_716,
                page_out: 1_204,
                swap_in: 12,
                swap_out: 140
            }
        );
        assert_eq!(
            parse_vmstat(&fixture("openwrt-mips", "vmstat")).page_in,
            18_880
        );
        assert_eq!(parse_vmstat("pgpgin 4294967306\n").page_in, 10);
    }

    #[test]
    fn uptime() {
        assert_eq!(
            parse_uptime(&fixture("openwrt-mips", "uptime")),
            Some(1_296_402)
        );
        assert_eq!(parse_uptime("788.59 1356.95\n"), Some(788));
        assert_eq!(parse_uptime("12\n"), Some(12));
        assert_eq!(parse_uptime(""), None);
        assert_eq!(parse_uptime("-3.5 1"), None);
    }

    #[test]
    fn cpu_speed_sources() {
        assert_eq!(parse_cpuinfo_mhz(&fixture("openwrt-mips", "cpuinfo")), None);
        assert_eq!(parse_cpuinfo_mhz(&fixture("arm", "cpuinfo")), None);
        assert_eq!(parse_cpuinfo_mhz(&fixture("x86-64", "cpuinfo")), Some(2300));
        for (value, mhz) in [
            ("2394.456", Some(2394)),
            ("2394.5", Some(2395)),
            ("800", Some(800)),
            ("0.4", None),
            ("0.5", Some(1)),
            ("fast", None),
            ("-1", None),
        ] {
            assert_eq!(
                parse_cpuinfo_mhz(&format!("cpu MHz\t\t: {value}\n")),
                mhz,
                "{value}"
            );
        }
        assert_eq!(parse_cpufreq_mhz("716800\n"), Some(716));
        assert_eq!(parse_cpufreq_mhz("999\n"), None);
        assert_eq!(parse_cpufreq_mhz("x"), None);
    }

    #[test]
    fn uuids() {
        let dmi = parse_uuid("4c4c4544-0037-4610-8052-b4c04f564433\n").unwrap();
        assert_eq!(dmi[..4], [0x4c, 0x4c, 0x45, 0x44]);
        assert_eq!(dmi[15], 0x33);
        let id = parse_uuid("3d1219c7c4c5404aaa1f6d2a48adfda4\n").unwrap();
        assert_eq!(id[0], 0x3d);
        assert_eq!(id[15], 0xa4);
        assert_eq!(parse_uuid("00000000-0000-0000-0000-000000000000"), None);
        assert_eq!(parse_uuid("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"), None);
        assert_eq!(parse_uuid("3d1219c7c4c5404aaa1f6d2a48adfda"), None);
        assert_eq!(parse_uuid("3d1219c7c4c5404aaa1f6d2a48adfda4a"), None);
        assert_eq!(parse_uuid("3d1219c7c4c5404aaa1f6d2a48adfdag"), None);
        assert_eq!(parse_uuid(""), None);
    }

    #[test]
    fn machine_types() {
        for (machine, expected) in [
            ("x86_64", mt::X86_64),
            ("amd64", mt::X86_64),
            ("i686", mt::X86),
            ("i386", mt::X86),
            ("mips", mt::MIPS),
            ("mips64", mt::MIPS),
            ("armv7l", mt::ARM),
            ("aarch64", mt::ARM),
            ("ppc64le", mt::POWERPC),
            ("powerpc", mt::POWERPC),
            ("ia64", mt::IA64),
            ("sparc64", mt::SPARC),
            ("alpha", mt::ALPHA),
            ("m68k", mt::M68K),
            ("parisc64", mt::HPPA),
            ("s390x", mt::S390),
            ("riscv64", mt::OTHER),
            ("loongarch64", mt::OTHER),
            ("", mt::UNKNOWN),
        ] {
            assert_eq!(machine_type(machine), expected, "{machine}");
        }
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        assert_eq!(truncate_utf8("router", 64), "router");
        assert_eq!(truncate_utf8("abcdef", 3), "abc");
        assert_eq!(truncate_utf8("aé", 2), "a"); // é is two bytes
        assert_eq!(truncate_utf8("", 0), "");
    }

    fn uname(nodename: &str, release: &str, machine: &str) -> sys::Uname {
        sys::Uname {
            nodename: nodename.into(),
            release: release.into(),
            machine: machine.into(),
        }
    }

    #[test]
    fn host_description() {
        let release = "5.15.150 with a very long local version suffix";
        let d = HostDescription::read_in(
            &fixture_root("openwrt-mips"),
            &uname("ignored", release, "mips"),
        );
        assert_eq!(d.hostname, "OpenWrt");
        assert_eq!(d.uuid, [0; 16]);
        assert_eq!(d.machine_type, mt::MIPS);
        assert_eq!(d.os_name, sflow::os_name::LINUX);
        assert_eq!(d.os_release, &release[..32]);

        let d = HostDescription::read_in(&fixture_root("x86-64"), &uname("vm", "6.1", "x86_64"));
        assert_eq!(
            d.uuid,
            parse_uuid("4c4c4544-0037-4610-8052-b4c04f564433").unwrap()
        );
        let r = d.as_record();
        assert_eq!(
            (r.hostname, r.os_release, r.machine_type),
            (&b"vm"[..], &b"6.1"[..], mt::X86_64)
        );

        // No /proc: uname's name, cut to 64 bytes.
        let long = "h".repeat(70);
        let d = HostDescription::read_in(Path::new("/nonexistent"), &uname(&long, "6.1", ""));
        assert_eq!(d.hostname.len(), 64);
        assert_eq!(d.machine_type, mt::UNKNOWN);

        let live = HostDescription::read();
        assert!(!live.hostname.is_empty() && !live.os_release.is_empty());
        #[cfg(target_arch = "x86_64")]
        assert_eq!(live.machine_type, mt::X86_64);
    }

    #[test]
    fn reader_on_fixtures() {
        let mut r = HostReader::with_root(fixture_root("openwrt-mips"));
        r.ticks_per_second = 100;
        let cpu = r.cpu();
        assert_eq!((cpu.load_one, cpu.proc_run, cpu.proc_total), (0.08, 1, 72));
        assert_eq!(cpu.cpu_speed, 0); // neither cpufreq nor "cpu MHz"
        assert_eq!(cpu.uptime, 1_296_402);
        assert_eq!((cpu.cpu_user, cpu.cpu_sintr), (402_710, 4_174_550));
        assert_eq!(cpu.contexts, 717_870_135);
        assert!(cpu.cpu_num >= 1); // this machine's, from sysconf
        let mem = r.memory();
        assert_eq!(
            (mem.mem_total, mem.mem_shared),
            (123_644 * 1024, 840 * 1024)
        );
        assert_eq!(mem.page_in, 18_880);

        let mut r = HostReader::with_root(fixture_root("arm"));
        assert_eq!(r.cpu().cpu_speed, 716);
        assert_eq!(r.memory().swap_out, 140);
        let mut r = HostReader::with_root(fixture_root("x86-64"));
        assert_eq!(r.cpu().cpu_speed, 2300);

        // Nothing readable: the unknown values.
        let mut r = HostReader::with_root(PathBuf::from("/nonexistent"));
        let cpu = r.cpu();
        assert_eq!(
            (cpu.load_one, cpu.load_five, cpu.load_fifteen),
            (-1.0, -1.0, -1.0)
        );
        assert_eq!((cpu.uptime, cpu.cpu_user, cpu.cpu_speed), (0, 0, 0));
        assert_eq!(r.memory(), HostMemory::default());
    }

    #[test]
    fn reader_on_this_host() {
        let mut r = HostReader::new();
        let cpu = r.cpu();
        assert!(cpu.load_one >= 0.0 && cpu.cpu_num >= 1 && cpu.uptime > 0);
        assert!(cpu.proc_total >= 1 && cpu.cpu_idle > 0 && cpu.contexts > 0);
        let mem = r.memory();
        assert!(mem.mem_total > 0 && mem.mem_free <= mem.mem_total);
    }

    /// Every fixture cut at every character, and random text: no panic.
    #[test]
    fn parsers_accept_any_text() {
        let check = |text: &str| {
            let _ = parse_loadavg(text);
            let _ = parse_stat(text, 100);
            let _ = parse_meminfo(text);
            let _ = parse_vmstat(text);
            let _ = parse_uptime(text);
            let _ = parse_cpuinfo_mhz(text);
            let _ = parse_cpufreq_mhz(text);
            let _ = parse_uuid(text);
            let _ = machine_type(text);
            let _ = truncate_utf8(text, 7);
        };
        for root in ["openwrt-mips", "arm", "x86-64"] {
            for file in ["loadavg", "stat", "meminfo", "vmstat", "uptime", "cpuinfo"] {
                let text = fixture(root, file);
                for (i, _) in text.char_indices() {
                    check(&text[..i]);
                    check(&text[i..]);
                }
            }
        }
        let alphabet: Vec<char> = "cpu intrMHz:kB/.-0123456789\n\t é€ffx".chars().collect();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3000 {
            let text: String = (0..x % 60)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % alphabet.len() as u64) as usize]
                })
                .collect();
            check(&text);
        }
    }

    fn link(index: u32, name: &str, flags: u32, kind: Option<&str>, mac: Option<[u8; 6]>) -> Link {
        Link {
            if_index: index,
            name: name.into(),
            hw_type: 1,
            flags,
            kind: kind.map(Into::into),
            mac,
            stats: LinkStats {
                rx_bytes: 1000 * u64::from(index),
                rx_packets: 10 * u64::from(index),
                rx_errors: 1,
                rx_dropped: 2,
                rx_missed_errors: 1,
                tx_bytes: 2000 * u64::from(index),
                tx_packets: 20 * u64::from(index),
                tx_errors: 3,
                tx_dropped: 4,
                ..LinkStats::default()
            },
            ..Link::default()
        }
    }

    /// A typical OpenWrt AP: DSA switch, bridge, VLAN, Wi-Fi, SQM.
    fn openwrt_links() -> Vec<Link> {
        let mac = |n| Some([2, 0, 0, 0, 0, n]);
        vec![
            link(1, "lo", 0x49, None, Some([0; 6])),
            link(2, "eth0", 0x1043, None, mac(1)),
            link(3, "lan1", 0x1043, Some("dsa"), mac(1)),
            link(4, "wan", 0x1043, Some("dsa"), mac(2)),
            link(5, "br-lan", 0x1043, Some("bridge"), mac(1)),
            link(6, "br-lan.10", 0x1043, Some("vlan"), mac(1)),
            link(7, "phy0-ap0", 0x1043, None, mac(3)),
            link(8, "ifb4wan", 0x43, Some("ifb"), mac(4)),
            link(9, "wg0", 0xd1, Some("wireguard"), None),
        ]
    }

    #[test]
    fn net_io_counts_each_frame_once() {
        let io = net_io(&openwrt_links());
        // eth0 (2), phy0-ap0 (7), wg0 (9).
        let n = 2 + 7 + 9;
        assert_eq!(
            io,
            HostNetIo {
                bytes_in: 1000 * n,
                pkts_in: 10 * n as u32,
                errs_in: 3,
                drops_in: 9,
                bytes_out: 2000 * n,
                packets_out: 20 * n as u32,
                errs_out: 9,
                drops_out: 12,
            }
        );
        assert_eq!(net_io(&[]), HostNetIo::default());
        // 32-bit fields wrap; 64-bit ones do not.
        let mut big = link(2, "eth0", 0, None, None);
        big.stats.rx_packets = u64::from(u32::MAX);
        big.stats.rx_bytes = u64::from(u32::MAX);
        let io = net_io(&[big.clone(), big]);
        assert_eq!(io.pkts_in, u32::MAX - 1);
        assert_eq!(io.bytes_in, 2 * u64::from(u32::MAX));
    }

    #[test]
    fn adapter_list() {
        let mut links = openwrt_links();
        links.reverse();
        let list = adapters(&links);
        let indexes: Vec<u32> = list.iter().map(|a| a.0).collect();
        assert_eq!(indexes, [2, 3, 4, 6, 7, 8]);
        assert_eq!(list[0].1, [2, 0, 0, 0, 0, 1]);
    }
}
