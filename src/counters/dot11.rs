//! The sFlow 802.11 counters (`ieee80211_counters`, format 6) of one BSS,
//! and the radio's utilization (`radio_utilization`, format 1002).
//!
//! # Where each `ieee80211_counters` field comes from
//!
//! The record carries the dot11CountersTable of IEEE802dot11-MIB (IEEE Std
//! 802.11, Annex C). Three sources have parts of it:
//!
//! - **mac80211 debugfs**, `/sys/kernel/debug/ieee80211/<phy>/statistics/`
//!   ([`read_debugfs`]): per radio, kept with the MIB's own definitions.
//!   `dot11ACKFailureCount`, `dot11RTSFailureCount`, `dot11FCSErrorCount`
//!   and `dot11RTSSuccessCount` come from the driver (`get_stats`; reading
//!   fails when it has none); the nine others exist only in kernels built
//!   with `CONFIG_MAC80211_DEBUG_COUNTERS` (off unless asked for), counted
//!   by mac80211 from the drivers' transmit status and in its receive path.
//!   Older kernels had those nine always, in lower case (`failed_count`...):
//!   both names are read. Preferred whenever present. On a radio with
//!   several BSSes each BSS reports its radio's figures.
//! - **nl80211 station statistics** ([`Station`], per BSS), summed over the
//!   stations and kept monotonic across departures by [`StationTotals`]:
//!   - dot11TransmittedFrameCount, "incremented for each successfully
//!     transmitted MSDU": the sum of `tx_packets`, "MSDUs and MMPDUs
//!     transmitted" to each station. Reported, with known differences:
//!     mac80211 counts a frame when it hands it to the driver, so frames
//!     later dropped at the retry limit are included; group-addressed
//!     frames (sent to no station) and frames to stations gone before the
//!     next poll are not; MMPDUs are. A unicast data count close to the
//!     MIB's, the denominator collectors need for failure ratios.
//!   - dot11FailedCount, "incremented when an MSDU is not transmitted
//!     successfully due to the number of transmit attempts exceeding
//!     either the dot11ShortRetryLimit or dot11LongRetryLimit": the sum of
//!     `tx_failed`, "MPDUs failed" (mac80211: not acknowledged after the
//!     last attempt). The same event; it counts MPDUs where the MIB counts
//!     MSDUs, which differ only for A-MSDUs and fragments. Group-addressed
//!     frames are never retried, so the station sum misses nothing there.
//!     Reported.
//!   - dot11RetryCount, "incremented when an MSDU is successfully
//!     transmitted after one or more retransmissions" (and
//!     dot11MultipleRetryCount, "after more than one retransmission"):
//!     `tx_retries` counts retransmissions, one per retry, of frames
//!     delivered or not. An MSDU sent on its fourth attempt adds 3 to it and
//!     1 to the MIB counter, so the sum can exceed even
//!     dot11TransmittedFrameCount, and no ratio of the two estimates the
//!     other. Not close enough: **unavailable** unless debugfs has it.
//! - **hostapd** (the `associated` argument, from its station table):
//!   dot11AssociatedStationCount, which "shall increment when a station
//!   associates or reassociates. This counter shall decrement when a station
//!   disassociates", i.e. the number of stations associated now.
//!   [`associated_count`] gives the same figure from nl80211's station
//!   flags when hostapd does not answer.
//!
//! dot11WEPUndecryptableCount, dot11QoSDiscardedFragmentCount and the four
//! QoS CF-Poll counters (HCCA, which Linux does not implement) have no
//! source: always unavailable (0xFFFFFFFF), like everything not found.
//!
//! # One answer for the whole session
//!
//! A collector computes rates from successive values, so a counter must
//! not come and go. [`Availability`] remembers, per counter, what the
//! first poll found (and from which source):
//!
//! - unavailable at the first poll: unavailable for the whole session,
//!   even if a source appears later;
//! - available at the first poll: taken from that same source only (a
//!   counter never switches from debugfs to nl80211, whose scales differ);
//!   when the source is missing at a later poll the last value is
//!   repeated. Each source is cumulative, so when it is back the value
//!   catches up with nothing lost. Reporting 0xFFFFFFFF instead, even for
//!   good, would give collectors that do not special-case it a giant false
//!   delta, and would lose a counter for the session to one failed read
//!   (the driver's debugfs statistics can fail transiently);
//! - dot11AssociatedStationCount is a gauge, not a counter: no delta is
//!   taken from it, so it may become available after the first poll
//!   (hostapd often starts after the agent) and then holds its last value
//!   while hostapd does not answer.
//!
//! A new session (a new [`Dot11Counters`]) starts with each new data
//! source, e.g. when the interface is re-created.
//!
//! # radio_utilization
//!
//! [`radio_utilization`] maps nl80211's survey of the channel in use;
//! [`radio_utilization_hostapd`] maps the `airtime` table of hostapd's ubus
//! `get_status`, which holds the same survey counters as last read by
//! hostapd (see there).

use crate::sorted_map::SortedMap;
use std::io::{self, Read};
use std::path::Path;

use crate::sflow::{Ieee80211Counters, RadioUtilization, COUNTER32_UNAVAILABLE};
use crate::wifi::nl80211::{Station, Survey};

/// Where debugfs is mounted.
pub const DEBUGFS_ROOT: &str = "/sys/kernel/debug";

/// The mac80211 debugfs statistics of one radio; `None` for a file that is
/// absent or could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dot11Stats {
    pub transmitted_fragment_count: Option<u32>,
    pub multicast_transmitted_frame_count: Option<u32>,
    pub failed_count: Option<u32>,
    pub retry_count: Option<u32>,
    pub multiple_retry_count: Option<u32>,
    pub frame_duplicate_count: Option<u32>,
    pub rts_success_count: Option<u32>,
    pub rts_failure_count: Option<u32>,
    pub ack_failure_count: Option<u32>,
    pub received_fragment_count: Option<u32>,
    pub multicast_received_frame_count: Option<u32>,
    pub fcs_error_count: Option<u32>,
    pub transmitted_frame_count: Option<u32>,
}

type Slot = fn(&mut Dot11Stats) -> &mut Option<u32>;

/// The statistics files: today's name (the MIB's), the name older
/// kernels gave it if it differed, and the field.
const DEBUGFS_FILES: [(&str, Option<&str>, Slot); 13] = [
    (
        "dot11TransmittedFragmentCount",
        Some("transmitted_fragment_count"),
        |s| &mut s.transmitted_fragment_count,
    ),
    (
        "dot11MulticastTransmittedFrameCount",
        Some("multicast_transmitted_frame_count"),
        |s| &mut s.multicast_transmitted_frame_count,
    ),
    ("dot11FailedCount", Some("failed_count"), |s| {
        &mut s.failed_count
    }),
    ("dot11RetryCount", Some("retry_count"), |s| {
        &mut s.retry_count
    }),
    (
        "dot11MultipleRetryCount",
        Some("multiple_retry_count"),
        |s| &mut s.multiple_retry_count,
    ),
    (
        "dot11FrameDuplicateCount",
        Some("frame_duplicate_count"),
        |s| &mut s.frame_duplicate_count,
    ),
    ("dot11RTSSuccessCount", None, |s| &mut s.rts_success_count),
    ("dot11RTSFailureCount", None, |s| &mut s.rts_failure_count),
    ("dot11ACKFailureCount", None, |s| &mut s.ack_failure_count),
    (
        "dot11ReceivedFragmentCount",
        Some("received_fragment_count"),
        |s| &mut s.received_fragment_count,
    ),
    (
        "dot11MulticastReceivedFrameCount",
        Some("multicast_received_frame_count"),
        |s| &mut s.multicast_received_frame_count,
    ),
    ("dot11FCSErrorCount", None, |s| &mut s.fcs_error_count),
    (
        "dot11TransmittedFrameCount",
        Some("transmitted_frame_count"),
        |s| &mut s.transmitted_frame_count,
    ),
];

/// Reads the statistics of radio `phy` ("phy0") from debugfs mounted at
/// `root` (normally [`DEBUGFS_ROOT`]). Each file is read once; `None` when
/// not one counter could be read (debugfs not mounted, no such radio, or a
/// driver without statistics in a kernel without debug counters).
pub fn read_debugfs(root: &Path, phy: &str) -> Option<Dot11Stats> {
    // The radio name is one path component.
    if phy.is_empty() || phy == "." || phy == ".." || phy.contains('/') {
        return None;
    }
    let dir = root.join("ieee80211").join(phy).join("statistics");
    let mut stats = Dot11Stats::default();
    let mut any = false;
    for (name, old_name, slot) in DEBUGFS_FILES {
        let value = match read_counter(&dir.join(name)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                old_name.and_then(|old| read_counter(&dir.join(old)).ok())
            }
            r => r.ok(),
        };
        any |= value.is_some();
        *slot(&mut stats) = value;
    }
    any.then_some(stats)
}

/// Reads one statistics file: a decimal number and a newline.
fn read_counter(path: &Path) -> io::Result<u32> {
    let mut file = crate::sys::file::open_read(path, 0)?;
    // "%u\n" of a u32 (debugfs_create_u32 prints "%llu\n"): 11 bytes.
    let mut buf = [0u8; 32];
    let mut len = 0;
    loop {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                if len == buf.len() {
                    return Err(io::ErrorKind::InvalidData.into());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    parse_counter(&buf[..len]).ok_or_else(|| io::ErrorKind::InvalidData.into())
}

/// A decimal counter, surrounding white space allowed. Values beyond 32
/// bits keep their low 32 bits, as a 32-bit sFlow counter wraps.
fn parse_counter(text: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(text).ok()?.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>().ok().map(|v| v as u32)
}

/// Where a counter's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// mac80211 debugfs statistics of the radio.
    Debugfs,
    /// nl80211 station statistics of the BSS.
    Stations,
    /// The station table of hostapd (or nl80211's station flags).
    Association,
}

/// The number of fields of `ieee80211_counters`.
const FIELDS: usize = 20;

// Field positions, in the record's order.
const TRANSMITTED_FRAGMENT: usize = 0;
const MULTICAST_TRANSMITTED_FRAME: usize = 1;
const FAILED: usize = 2;
const RETRY: usize = 3;
const MULTIPLE_RETRY: usize = 4;
const FRAME_DUPLICATE: usize = 5;
const RTS_SUCCESS: usize = 6;
const RTS_FAILURE: usize = 7;
const ACK_FAILURE: usize = 8;
const RECEIVED_FRAGMENT: usize = 9;
const MULTICAST_RECEIVED_FRAME: usize = 10;
const FCS_ERROR: usize = 11;
const TRANSMITTED_FRAME: usize = 12;
const ASSOCIATED_STATION: usize = 15;

/// What one poll found for one field, in each source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Found {
    debugfs: Option<u32>,
    stations: Option<u32>,
    association: Option<u32>,
}

impl Found {
    fn from(&self, source: Source) -> Option<u32> {
        match source {
            Source::Debugfs => self.debugfs,
            Source::Stations => self.stations,
            Source::Association => self.association,
        }
    }

    /// The preferred source that has a value: debugfs, then stations.
    fn preferred(&self) -> Option<(Source, u32)> {
        [Source::Debugfs, Source::Stations, Source::Association]
            .into_iter()
            .find_map(|source| Some((source, self.from(source)?)))
    }
}

type Candidates = [Found; FIELDS];

/// Totals of the station counters this module uses; `None` for a counter
/// the stations do not report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct StationSums {
    tx_packets: Option<u64>,
    tx_failed: Option<u64>,
}

/// Whether the stations report a counter: yes when one of them has it, and
/// when there are none (an empty BSS has sent nothing: 0 is true).
fn reported(stations: &[Station], counter: fn(&Station) -> Option<u32>) -> bool {
    stations.is_empty() || stations.iter().any(|s| counter(s).is_some())
}

impl StationSums {
    fn of(stations: &[Station]) -> StationSums {
        let sum = |counter: fn(&Station) -> Option<u32>| {
            reported(stations, counter).then(|| {
                stations
                    .iter()
                    .filter_map(counter)
                    .map(u64::from)
                    .sum::<u64>()
            })
        };
        StationSums {
            tx_packets: sum(|s| s.tx_packets),
            tx_failed: sum(|s| s.tx_failed),
        }
    }
}

/// Each field's value from what this poll found, debugfs first.
fn candidates(
    sums: Option<&StationSums>,
    associated: Option<u32>,
    debugfs: Option<&Dot11Stats>,
) -> Candidates {
    let mut c: Candidates = [Found::default(); FIELDS];
    if let Some(d) = debugfs {
        for (i, v) in [
            (TRANSMITTED_FRAGMENT, d.transmitted_fragment_count),
            (
                MULTICAST_TRANSMITTED_FRAME,
                d.multicast_transmitted_frame_count,
            ),
            (FAILED, d.failed_count),
            (RETRY, d.retry_count),
            (MULTIPLE_RETRY, d.multiple_retry_count),
            (FRAME_DUPLICATE, d.frame_duplicate_count),
            (RTS_SUCCESS, d.rts_success_count),
            (RTS_FAILURE, d.rts_failure_count),
            (ACK_FAILURE, d.ack_failure_count),
            (RECEIVED_FRAGMENT, d.received_fragment_count),
            (MULTICAST_RECEIVED_FRAME, d.multicast_received_frame_count),
            (FCS_ERROR, d.fcs_error_count),
            (TRANSMITTED_FRAME, d.transmitted_frame_count),
        ] {
            c[i].debugfs = v;
        }
    }
    if let Some(s) = sums {
        // The low 32 bits: sFlow's counters wrap like the kernel's.
        c[FAILED].stations = s.tx_failed.map(|v| v as u32);
        c[TRANSMITTED_FRAME].stations = s.tx_packets.map(|v| v as u32);
        // tx_retries counts retransmissions, not MSDUs retransmitted: no
        // dot11RetryCount from it (see the module's documentation).
    }
    c[ASSOCIATED_STATION].association = associated;
    c
}

/// The `ieee80211_counters` of one BSS from one poll, without memory:
/// debugfs statistics of its radio where present, else the sums over
/// `stations` (see the module's documentation for each mapping), the
/// number of `associated` stations from hostapd, and 0xFFFFFFFF for the
/// rest. The sums fall back when a station leaves: for the counters sent
/// to collectors, use [`Dot11Counters`], which keeps them monotonic and
/// each counter's availability fixed for the session.
pub fn ieee80211_counters(
    stations: &[Station],
    associated: Option<u32>,
    debugfs: Option<&Dot11Stats>,
) -> Ieee80211Counters {
    let c = candidates(Some(&StationSums::of(stations)), associated, debugfs);
    Ieee80211Counters::from_array(
        c.map(|f| f.preferred().map_or(COUNTER32_UNAVAILABLE, |(_, v)| v)),
    )
}

/// The number of stations nl80211 says are associated, for when hostapd
/// does not answer. `None` when the kernel's station flags do not cover
/// association (then only hostapd knows).
pub fn associated_count(stations: &[Station]) -> Option<u32> {
    if !reported(stations, |s| s.associated.map(u32::from)) {
        return None;
    }
    Some(
        stations
            .iter()
            .filter(|s| s.associated == Some(true))
            .count() as u32,
    )
}

/// What a field is, after the first poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Undecided,
    Unavailable,
    Available { source: Source, last: u32 },
}

/// The per-counter memory that keeps each counter available or
/// unavailable for the whole session (see the module's documentation).
#[derive(Debug, Clone)]
pub struct Availability {
    fields: [Field; FIELDS],
}

impl Default for Availability {
    fn default() -> Self {
        Availability {
            fields: [Field::Undecided; FIELDS],
        }
    }
}

impl Availability {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the first poll was made.
    pub fn decided(&self) -> bool {
        self.fields[0] != Field::Undecided
    }

    /// The source a counter was found in at the first poll, by the
    /// counter's position in the record (0 = dot11TransmittedFragmentCount,
    /// ... 19 = dot11QoSCFPollsLostCount); `None` while undecided or when
    /// unavailable.
    pub fn source(&self, field: usize) -> Option<Source> {
        match self.fields.get(field)? {
            Field::Available { source, .. } => Some(*source),
            _ => None,
        }
    }

    /// The record for this poll's candidates.
    fn apply(&mut self, candidates: Candidates) -> Ieee80211Counters {
        let first = !self.decided();
        let mut values = [COUNTER32_UNAVAILABLE; FIELDS];
        for (i, found) in candidates.into_iter().enumerate() {
            let field = &mut self.fields[i];
            // The gauge may appear late; counters only at the first poll.
            if first || (i == ASSOCIATED_STATION && *field == Field::Unavailable) {
                *field = match found.preferred() {
                    Some((source, last)) => Field::Available { source, last },
                    None => Field::Unavailable,
                };
            }
            if let Field::Available { source, last } = field {
                // From the first poll's source only; missing there: hold.
                if let Some(v) = found.from(*source) {
                    *last = v;
                }
                values[i] = *last;
            }
        }
        Ieee80211Counters::from_array(values)
    }
}

/// Per-station counters made monotonic across the life of a BSS.
///
/// A station's counters start at 0 when it associates and disappear with
/// it: their sum over the current stations falls whenever one leaves, and
/// a falling counter reads as a wrap to a collector. The totals here keep
/// what every station had sent when last seen: a station that left, or
/// whose counter went down (it re-associated: a new entry, counting from
/// 0), adds its last values to a base. What a station sends between the
/// last poll and its departure is not counted: the totals may lag, never
/// fall.
#[derive(Debug, Clone, Default)]
pub struct StationTotals {
    /// Last values seen per station: [tx_packets, tx_failed], and the
    /// round they were seen in.
    stations: SortedMap<[u8; 6], ([u32; 2], u64)>,
    /// Contributions of departed stations and of counters that restarted.
    base: [u64; 2],
    round: u64,
    /// Which counters the stations reported at the last update.
    reported: Option<[bool; 2]>,
}

impl StationTotals {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one station dump of the BSS.
    pub fn update(&mut self, stations: &[Station]) {
        self.round += 1;
        let round = self.round;
        for s in stations {
            let now = [s.tx_packets.unwrap_or(0), s.tx_failed.unwrap_or(0)];
            match self.stations.get_mut(&s.mac) {
                // Listed twice in one dump: the first entry counts.
                Some((_, seen)) if *seen == round => {}
                Some((last, seen)) => {
                    for i in 0..2 {
                        if now[i] < last[i] {
                            self.base[i] += u64::from(last[i]);
                        }
                    }
                    *last = now;
                    *seen = round;
                }
                None => {
                    self.stations.insert(s.mac, (now, round));
                }
            }
        }
        let base = &mut self.base;
        self.stations.retain(|_, (last, seen)| {
            if *seen != round {
                base[0] += u64::from(last[0]);
                base[1] += u64::from(last[1]);
            }
            *seen == round
        });
        self.reported = Some([
            reported(stations, |s| s.tx_packets),
            reported(stations, |s| s.tx_failed),
        ]);
    }

    fn total(&self, i: usize) -> Option<u64> {
        let reported = self.reported?[i];
        let current: u64 = self.stations.values().map(|(v, _)| u64::from(v[i])).sum();
        reported.then_some(self.base[i] + current)
    }

    /// Packets transmitted to the BSS's stations, since the first update.
    pub fn tx_packets(&self) -> Option<u64> {
        self.total(0)
    }

    /// Frames to the BSS's stations dropped after the last retry.
    pub fn tx_failed(&self) -> Option<u64> {
        self.total(1)
    }

    fn sums(&self) -> Option<StationSums> {
        self.reported?;
        Some(StationSums {
            tx_packets: self.tx_packets(),
            tx_failed: self.tx_failed(),
        })
    }
}

/// The `ieee80211_counters` of one BSS over a session: monotonic station
/// totals ([`StationTotals`]) and fixed availability ([`Availability`]).
#[derive(Debug, Clone, Default)]
pub struct Dot11Counters {
    availability: Availability,
    totals: StationTotals,
}

impl Dot11Counters {
    pub fn new() -> Self {
        Self::default()
    }

    /// The record for this poll. `stations`: the BSS's station dump, `None`
    /// when it failed (the station totals are then held: the next dump
    /// brings what happened meanwhile). `associated`: hostapd's count of
    /// associated stations (or [`associated_count`]). `debugfs`: the
    /// radio's statistics ([`read_debugfs`]).
    pub fn update(
        &mut self,
        stations: Option<&[Station]>,
        associated: Option<u32>,
        debugfs: Option<&Dot11Stats>,
    ) -> Ieee80211Counters {
        if let Some(stations) = stations {
            self.totals.update(stations);
        }
        let sums = self.totals.sums();
        self.availability
            .apply(candidates(sums.as_ref(), associated, debugfs))
    }

    pub fn availability(&self) -> &Availability {
        &self.availability
    }
}

/// `radio_utilization` from nl80211's survey: the entry of the channel in
/// use. elapsed_time = on_channel_time = its TIME ("time the radio was
/// turned on", on this channel), on_channel_busy_time = its TIME_BUSY
/// ("time the primary channel was sensed busy"), in milliseconds, the low
/// 32 bits (the record's counters wrap after 49.7 days). The survey gives
/// no total apart from the time on channel, so time spent scanning other
/// channels is missing from elapsed_time too (an AP rarely scans). `None`
/// without an in-use entry with both times.
pub fn radio_utilization(surveys: &[Survey]) -> Option<RadioUtilization> {
    let s = surveys.iter().find(|s| s.in_use)?;
    let (time, busy) = (s.time_ms?, s.time_busy_ms?);
    Some(RadioUtilization {
        elapsed_time: time as u32,
        on_channel_time: time as u32,
        on_channel_busy_time: busy as u32,
    })
}

/// `radio_utilization` from the `airtime` table of hostapd's ubus
/// `get_status` (`hostapd_bss_get_status` in OpenWrt's hostapd `ubus.c`):
/// `time` and `time_busy` are `iface->last_channel_time` and
/// `last_channel_time_busy`, the cumulative TIME and TIME_BUSY (ms) of
/// nl80211's survey of the operating channel as hostapd last read it.
/// They are counters, mapped like [`radio_utilization`]'s, but refreshed
/// only when hostapd updates its BSS Load element (every
/// `bss_load_update_period` beacon intervals: OpenWrt's default of 60 × 100
/// TU is about 6.1 s), and stay 0 when that is disabled: then `None`.
/// `utilization` is not used: it is the busy fraction (0..255) of the last
/// such period, not a counter. Prefer [`radio_utilization`] where nl80211
/// answers.
pub fn radio_utilization_hostapd(time_ms: u64, time_busy_ms: u64) -> Option<RadioUtilization> {
    if time_ms == 0 {
        return None;
    }
    Some(RadioUtilization {
        elapsed_time: time_ms as u32,
        on_channel_time: time_ms as u32,
        on_channel_busy_time: time_busy_ms as u32,
    })
}

/// Transmit power in mW, rounded, for `extended_80211_tx.power`, from mBm
/// (dBm × 100) as `NL80211_ATTR_WIPHY_TX_POWER_LEVEL` carries it: a u32
/// holding a signed value. mW = 10^(mBm / 1000); below 0.5 mW (about
/// −3 dBm) that rounds to 0.
///
/// Computed as 10^B · 10^(a/10) · 10^(b/100) · 10^(c/1000), B the whole
/// bels (mBm / 1000) and a, b, c the digits of the rest, from three tables
/// of ten factors in fixed point with 60 fraction bits, rather than with
/// `powf` (libm's pow is ~9 KB of a mips binary) or even f64 products
/// (mips is soft-float: the f64 routines are ~3 KB more). Each factor is
/// the exact power rounded to 2^-60, so the product is within ~10^-17 of
/// the exact one and the rounded mW agree with `powf`'s (tested from -40
/// to +100 dBm).
pub fn channel_power_mw(mbm: u32) -> u32 {
    /// 1.0 in the tables' fixed point.
    const ONE: u64 = 1 << 60;
    /// a · b in that fixed point; a, b < 10 · 2^60, so the product fits
    /// 128 bits and (when below 16) the result 64.
    fn times(a: u64, b: u64) -> u64 {
        ((u128::from(a) * u128::from(b)) >> 60) as u64
    }
    // 10^(k/10), 10^(k/100), 10^(k/1000) for k = 0..9, times 2^60 and
    // rounded.
    const DECI: [u64; 10] = [
        0x1000000000000000,
        0x14248ef8fc2603ae,
        0x195bb8f6d460527e,
        0x1fec982d5bb8af65,
        0x2830afd3a998bde9,
        0x3298b075b4b6a524,
        0x3fb2783ea4dbbf2a,
        0x5030a10c004b9bda,
        0x64f40348d22657fe,
        0x7f17af3b04d5048b,
    ];
    const CENTI: [u64; 10] = [
        0x1000000000000000,
        0x105f687901262c25,
        0x10c109dd49629fa8,
        0x1124f16d50735906,
        0x118b2cb8936491a6,
        0x11f3c99f6bc4366c,
        0x125ed654f1cf26aa,
        0x12cc6160e9d9ac19,
        0x133c79a1bd3624d0,
        0x13af2e4e7ede67a0,
    ];
    const MILLI: [u64; 10] = [
        0x1000000000000000,
        0x10097137a277153e,
        0x1012e801c4a788b9,
        0x101c6461b06738ef,
        0x1025e65ab17cd191,
        0x102f6df015a0f0b2,
        0x1038fb252c7f4ca2,
        0x10428dfd47b7da77,
        0x104c267bbadff545,
        0x1055c4a3db838605,
    ];
    let mbm = i64::from(mbm as i32);
    // 10^(mbm/1000) = 10^bels · 10^(rest/1000), rest in 0..1000.
    let (bels, rest) = (mbm.div_euclid(1000), mbm.rem_euclid(1000) as usize);
    if bels >= 10 {
        return u32::MAX; // ≥ 10^10 mW: saturate
    }
    if bels < -1 {
        return 0; // < 0.1 mW
    }
    // 10^(rest/1000) · 2^60, in [2^60, 10 · 2^60).
    let power = times(
        times(DECI[rest / 100], CENTI[rest / 10 % 10]),
        MILLI[rest % 10],
    );
    if bels < 0 {
        // A tenth of [1, 10): rounds to 1 mW from 0.5 on.
        return u32::from(power >= 5 * ONE);
    }
    // Times 10^bels (< 2^30): below 2^94. Rounded, saturated at u32::MAX.
    let mw = (u128::from(power) * u128::from(10u64.pow(bels as u32)) + u128::from(ONE / 2)) >> 60;
    u32::try_from(mw).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const MAX: u32 = COUNTER32_UNAVAILABLE;

    fn fixture_root(name: &str) -> PathBuf {
        crate::source_dir()
            .join("tests/fixtures/debugfs")
            .join(name)
    }

    fn sta(n: u8, tx_packets: u32, tx_failed: u32, tx_retries: u32) -> Station {
        Station {
            mac: [2, 0, 0, 0, 0, n],
            tx_packets: Some(tx_packets),
            tx_failed: Some(tx_failed),
            tx_retries: Some(tx_retries),
            associated: Some(true),
            ..Station::default()
        }
    }

    fn full_stats() -> Dot11Stats {
        Dot11Stats {
            transmitted_fragment_count: Some(1),
            multicast_transmitted_frame_count: Some(2),
            failed_count: Some(3),
            retry_count: Some(4),
            multiple_retry_count: Some(5),
            frame_duplicate_count: Some(6),
            rts_success_count: Some(7),
            rts_failure_count: Some(8),
            ack_failure_count: Some(9),
            received_fragment_count: Some(10),
            multicast_received_frame_count: Some(11),
            fcs_error_count: Some(12),
            transmitted_frame_count: Some(13),
        }
    }

    #[test]
    fn debugfs_with_debug_counters() {
        let s = read_debugfs(&fixture_root("debug-counters"), "phy0").unwrap();
        assert_eq!(
            s,
            Dot11Stats {
                transmitted_fragment_count: Some(48_207_713),
                multicast_transmitted_frame_count: Some(1_204_332),
                failed_count: Some(5_871),
                retry_count: Some(2_114_096),
                multiple_retry_count: Some(611_203),
                frame_duplicate_count: Some(18_045),
                rts_success_count: Some(0),
                rts_failure_count: Some(0),
                ack_failure_count: Some(3_480_117),
                received_fragment_count: Some(61_930_452),
                multicast_received_frame_count: Some(402_118),
                fcs_error_count: Some(9_731_554),
                transmitted_frame_count: Some(47_003_381),
            }
        );
        // Another radio of the same host is not there.
        assert_eq!(read_debugfs(&fixture_root("debug-counters"), "phy1"), None);
    }

    #[test]
    fn debugfs_without_debug_counters() {
        // OpenWrt's default kernel: only the driver's four.
        let s = read_debugfs(&fixture_root("driver-only"), "phy0").unwrap();
        assert_eq!(
            s,
            Dot11Stats {
                rts_success_count: Some(1_523),
                rts_failure_count: Some(12),
                ack_failure_count: Some(86_410),
                fcs_error_count: Some(4_019_772),
                ..Dot11Stats::default()
            }
        );
        // A driver without get_stats: files there, reads fail (simulated by
        // directories), and a kernel without debug counters: nothing.
        assert_eq!(read_debugfs(&fixture_root("unreadable"), "phy0"), None);
        assert_eq!(read_debugfs(&fixture_root("empty"), "phy0"), None);
        assert_eq!(
            read_debugfs(Path::new("/nonexistent/debugfs"), "phy0"),
            None
        );
    }

    #[test]
    fn debugfs_of_old_kernels() {
        let s = read_debugfs(&fixture_root("legacy-names"), "phy0").unwrap();
        assert_eq!(s.transmitted_fragment_count, Some(1_000_001));
        assert_eq!(s.multicast_transmitted_frame_count, Some(2_002));
        assert_eq!(s.failed_count, Some(303));
        assert_eq!(s.retry_count, Some(40_004));
        assert_eq!(s.multiple_retry_count, Some(5_005));
        assert_eq!(s.frame_duplicate_count, Some(66));
        assert_eq!(s.received_fragment_count, Some(7_000_007));
        assert_eq!(s.multicast_received_frame_count, Some(8_008));
        assert_eq!(s.transmitted_frame_count, Some(999_009));
        assert_eq!(s.ack_failure_count, Some(10_010));
        assert_eq!(
            (s.rts_success_count, s.rts_failure_count),
            (Some(0), Some(0))
        );
        assert_eq!(s.fcs_error_count, Some(123));
    }

    #[test]
    fn debugfs_malformed_files() {
        let s = read_debugfs(&fixture_root("malformed"), "phy0").unwrap();
        // " 42 \n": white space is fine.
        assert_eq!(s.failed_count, Some(42));
        // 2^32 + 5: the low 32 bits, as the counter wraps.
        assert_eq!(s.retry_count, Some(5));
        // u32::MAX itself is a value (a wrapping counter passes it).
        assert_eq!(s.transmitted_frame_count, Some(u32::MAX));
        // Empty, "abc", "-1", "0x10", "12 34", a number too long for the
        // buffer, a directory: unreadable.
        assert_eq!(s.transmitted_fragment_count, None);
        assert_eq!(s.multicast_transmitted_frame_count, None);
        assert_eq!(s.multiple_retry_count, None);
        assert_eq!(s.frame_duplicate_count, None);
        assert_eq!(s.received_fragment_count, None);
        assert_eq!(s.multicast_received_frame_count, None);
        assert_eq!(s.ack_failure_count, None);
        // Absent.
        assert_eq!(s.rts_success_count, None);
    }

    #[test]
    fn debugfs_phy_names_are_one_component() {
        let root = fixture_root("debug-counters");
        for phy in ["", ".", "..", "../debug-counters/ieee80211/phy0", "phy0/"] {
            assert_eq!(read_debugfs(&root, phy), None, "{phy:?}");
        }
    }

    #[test]
    fn counter_text() {
        assert_eq!(parse_counter(b"0\n"), Some(0));
        assert_eq!(parse_counter(b"4294967295\n"), Some(u32::MAX));
        assert_eq!(parse_counter(b"4294967296\n"), Some(0));
        assert_eq!(parse_counter(b"\t17\r\n"), Some(17));
        for bad in [
            &b""[..],
            b"\n",
            b"+5",
            b"-5",
            b"1e3",
            b"5 5",
            b"\xff",
            b"99999999999999999999999",
        ] {
            assert_eq!(parse_counter(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn counters_from_debugfs_win() {
        let stations = [sta(1, 100, 10, 50)];
        let c = ieee80211_counters(&stations, Some(1), Some(&full_stats()));
        assert_eq!(c.transmitted_fragment_count, 1);
        assert_eq!(c.multicast_transmitted_frame_count, 2);
        assert_eq!(c.failed_count, 3);
        assert_eq!(c.retry_count, 4);
        assert_eq!(c.multiple_retry_count, 5);
        assert_eq!(c.frame_duplicate_count, 6);
        assert_eq!(c.rts_success_count, 7);
        assert_eq!(c.rts_failure_count, 8);
        assert_eq!(c.ack_failure_count, 9);
        assert_eq!(c.received_fragment_count, 10);
        assert_eq!(c.multicast_received_frame_count, 11);
        assert_eq!(c.fcs_error_count, 12);
        assert_eq!(c.transmitted_frame_count, 13);
        assert_eq!(c.associated_station_count, 1);
        // No source for these, ever.
        assert_eq!(c.wep_undecryptable_count, MAX);
        assert_eq!(c.qos_discarded_fragment_count, MAX);
        assert_eq!(c.qos_cf_polls_received_count, MAX);
        assert_eq!(c.qos_cf_polls_unused_count, MAX);
        assert_eq!(c.qos_cf_polls_unusable_count, MAX);
        assert_eq!(c.qos_cf_polls_lost_count, MAX);
    }

    #[test]
    fn counters_from_stations() {
        let stations = [sta(1, 100, 10, 50), sta(2, 1000, 1, 400)];
        let c = ieee80211_counters(&stations, Some(2), None);
        assert_eq!(c.transmitted_frame_count, 1100);
        assert_eq!(c.failed_count, 11);
        // tx_retries is not dot11RetryCount.
        assert_eq!(c.retry_count, MAX);
        assert_eq!(c.multiple_retry_count, MAX);
        assert_eq!(c.associated_station_count, 2);
        // Everything else is debugfs-only.
        let only_stations = Ieee80211Counters {
            transmitted_frame_count: 1100,
            failed_count: 11,
            associated_station_count: 2,
            ..Ieee80211Counters::UNAVAILABLE
        };
        assert_eq!(c, only_stations);

        // Driver-only debugfs adds its four; station sums fill the gaps.
        let driver = read_debugfs(&fixture_root("driver-only"), "phy0").unwrap();
        let c = ieee80211_counters(&stations, None, Some(&driver));
        assert_eq!(c.failed_count, 11);
        assert_eq!(c.ack_failure_count, 86_410);
        assert_eq!(c.fcs_error_count, 4_019_772);
        assert_eq!(c.associated_station_count, MAX);

        // An empty BSS has sent nothing; stations without the counters
        // (a driver that does not report them) leave them unavailable.
        let c = ieee80211_counters(&[], None, None);
        assert_eq!((c.transmitted_frame_count, c.failed_count), (0, 0));
        let bare = [Station::default()];
        let c = ieee80211_counters(&bare, None, None);
        assert_eq!((c.transmitted_frame_count, c.failed_count), (MAX, MAX));
        // Sums wrap to 32 bits.
        let big = [sta(1, u32::MAX, 0, 0), sta(2, 3, 0, 0)];
        assert_eq!(
            ieee80211_counters(&big, None, None).transmitted_frame_count,
            2
        );
    }

    #[test]
    fn associated_stations_from_flags() {
        let mut authed = sta(3, 0, 0, 0);
        authed.associated = Some(false);
        assert_eq!(
            associated_count(&[sta(1, 0, 0, 0), sta(2, 0, 0, 0), authed]),
            Some(2)
        );
        assert_eq!(associated_count(&[]), Some(0));
        assert_eq!(associated_count(&[Station::default()]), None);
    }

    #[test]
    fn station_totals_survive_departures_and_reassociations() {
        let mut t = StationTotals::new();
        assert_eq!(t.tx_packets(), None);
        t.update(&[sta(1, 100, 1, 0), sta(2, 50, 0, 0)]);
        assert_eq!((t.tx_packets(), t.tx_failed()), (Some(150), Some(1)));
        t.update(&[sta(1, 120, 2, 0), sta(2, 70, 0, 0)]);
        assert_eq!(t.tx_packets(), Some(190));
        // Station 2 leaves: its 70 stay.
        t.update(&[sta(1, 130, 2, 0)]);
        assert_eq!((t.tx_packets(), t.tx_failed()), (Some(200), Some(2)));
        // Station 1 re-associates (counting from 0 again), 2 returns.
        t.update(&[sta(1, 5, 0, 0), sta(2, 1, 0, 0)]);
        assert_eq!((t.tx_packets(), t.tx_failed()), (Some(206), Some(2)));
        // Listed twice in one dump: counted once.
        t.update(&[sta(1, 6, 0, 0), sta(1, 6, 0, 0), sta(2, 1, 0, 0)]);
        assert_eq!(t.tx_packets(), Some(207));
        // Everyone gone: nothing is lost, and 0 stations report 0 more.
        t.update(&[]);
        assert_eq!((t.tx_packets(), t.tx_failed()), (Some(207), Some(2)));
        // A station without the counters.
        t.update(&[Station::default()]);
        assert_eq!((t.tx_packets(), t.tx_failed()), (None, None));

        // Monotonic over any sequence of dumps (a property check).
        let mut t = StationTotals::new();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut counts = [0u32; 8];
        let mut last = 0;
        for _ in 0..2000 {
            let mut dump = Vec::new();
            for (n, c) in counts.iter_mut().enumerate() {
                match next() % 10 {
                    0 => *c = 0,   // leaves (and comes back from 0)
                    1 => continue, // absent this round
                    _ => *c = c.saturating_add((next() % 100) as u32),
                }
                dump.push(sta(n as u8, *c, *c / 10, 0));
            }
            t.update(&dump);
            let now = t.tx_packets().unwrap();
            assert!(now >= last);
            last = now;
        }
    }

    #[test]
    fn availability_is_decided_by_the_first_poll() {
        let mut d = Dot11Counters::new();
        assert!(!d.availability().decided());
        let stations = [sta(1, 100, 1, 9)];
        // First poll: driver-only debugfs, stations, no hostapd yet.
        let driver = Dot11Stats {
            ack_failure_count: Some(10),
            fcs_error_count: Some(20),
            ..Dot11Stats::default()
        };
        let c = d.update(Some(&stations), None, Some(&driver));
        assert!(d.availability().decided());
        assert_eq!((c.ack_failure_count, c.fcs_error_count), (10, 20));
        assert_eq!((c.transmitted_frame_count, c.failed_count), (100, 1));
        assert_eq!(c.retry_count, MAX);
        assert_eq!(c.associated_station_count, MAX);
        assert_eq!(d.availability().source(FAILED), Some(Source::Stations));
        assert_eq!(d.availability().source(ACK_FAILURE), Some(Source::Debugfs));
        assert_eq!(d.availability().source(RETRY), None);

        // Later every debugfs counter appears: those unavailable at the
        // first poll stay so, and dot11FailedCount keeps its source.
        let mut full = full_stats();
        full.ack_failure_count = Some(15);
        let stations = [sta(1, 150, 2, 9)];
        let c = d.update(Some(&stations), None, Some(&full));
        assert_eq!(c.retry_count, MAX);
        assert_eq!(c.transmitted_fragment_count, MAX);
        assert_eq!(c.failed_count, 2);
        assert_eq!(c.transmitted_frame_count, 150);
        assert_eq!(c.ack_failure_count, 15);

        // hostapd answers late: the gauge becomes available, then holds.
        let c = d.update(Some(&stations), Some(1), Some(&full));
        assert_eq!(c.associated_station_count, 1);
        let c = d.update(Some(&stations), None, Some(&full));
        assert_eq!(c.associated_station_count, 1);

        // debugfs vanishes and the dump fails: every value holds, nothing
        // turns 0xFFFFFFFF.
        let c = d.update(None, Some(0), None);
        assert_eq!((c.ack_failure_count, c.fcs_error_count), (15, 12));
        assert_eq!((c.transmitted_frame_count, c.failed_count), (150, 2));
        assert_eq!(c.associated_station_count, 0);
        // ...and they catch up when the sources are back.
        let stations = [sta(1, 170, 3, 9)];
        full.ack_failure_count = Some(18);
        let c = d.update(Some(&stations), Some(1), Some(&full));
        assert_eq!(
            (
                c.ack_failure_count,
                c.transmitted_frame_count,
                c.failed_count
            ),
            (18, 170, 3)
        );
        // The station leaves: the totals do not fall.
        let c = d.update(Some(&[]), Some(0), Some(&full));
        assert_eq!((c.transmitted_frame_count, c.failed_count), (170, 3));
    }

    #[test]
    fn availability_of_a_session_without_sources() {
        // No nl80211, no debugfs, no hostapd at the first poll: everything
        // unavailable, and it stays so, except the gauge.
        let mut d = Dot11Counters::new();
        assert_eq!(d.update(None, None, None), Ieee80211Counters::UNAVAILABLE);
        let c = d.update(Some(&[sta(1, 5, 5, 5)]), Some(1), Some(&full_stats()));
        assert_eq!(
            c,
            Ieee80211Counters {
                associated_station_count: 1,
                ..Ieee80211Counters::UNAVAILABLE
            }
        );
    }

    #[test]
    fn availability_tells_a_wrapped_value_from_a_missing_one() {
        // A counter reading exactly 0xFFFFFFFF is a value, not "vanished".
        let mut d = Dot11Counters::new();
        let mut s = full_stats();
        s.failed_count = Some(u32::MAX);
        assert_eq!(d.update(None, None, Some(&s)).failed_count, u32::MAX);
        s.failed_count = Some(3);
        assert_eq!(d.update(None, None, Some(&s)).failed_count, 3);
        assert_eq!(d.availability().source(FAILED), Some(Source::Debugfs));
        assert_eq!(d.availability().source(99), None);
    }

    #[test]
    fn radio_utilization_from_survey() {
        let surveys = [
            Survey {
                frequency_mhz: Some(5180),
                time_ms: Some(999),
                time_busy_ms: Some(1),
                ..Survey::default()
            },
            Survey {
                frequency_mhz: Some(5200),
                in_use: true,
                noise_dbm: Some(-92),
                time_ms: Some(86_400_000),
                time_busy_ms: Some(12_345_678),
                ..Survey::default()
            },
        ];
        assert_eq!(
            radio_utilization(&surveys),
            Some(RadioUtilization {
                elapsed_time: 86_400_000,
                on_channel_time: 86_400_000,
                on_channel_busy_time: 12_345_678,
            })
        );
        // Wrapping to 32 bits.
        let long = [Survey {
            in_use: true,
            time_ms: Some((1 << 32) + 10),
            time_busy_ms: Some((1 << 32) + 4),
            ..Survey::default()
        }];
        let r = radio_utilization(&long).unwrap();
        assert_eq!((r.elapsed_time, r.on_channel_busy_time), (10, 4));
        // No channel in use, or no busy time: nothing.
        assert_eq!(radio_utilization(&surveys[..1]), None);
        let mut no_busy = surveys;
        no_busy[1].time_busy_ms = None;
        assert_eq!(radio_utilization(&no_busy), None);
        assert_eq!(radio_utilization(&[]), None);
    }

    #[test]
    fn radio_utilization_from_hostapd() {
        assert_eq!(
            radio_utilization_hostapd(3_600_000, 900_000),
            Some(RadioUtilization {
                elapsed_time: 3_600_000,
                on_channel_time: 3_600_000,
                on_channel_busy_time: 900_000,
            })
        );
        // BSS load updates disabled (or not run yet).
        assert_eq!(radio_utilization_hostapd(0, 0), None);
        let r = radio_utilization_hostapd(u64::from(u32::MAX) + 2, 7).unwrap();
        assert_eq!((r.elapsed_time, r.on_channel_busy_time), (1, 7));
    }

    #[test]
    fn power_in_milliwatts() {
        for (mbm, mw) in [
            (0, 1),
            (1000, 10),
            (2000, 100),
            (2300, 200), // 199.5 mW
            (1700, 50),  // 50.1 mW
            (3000, 1000),
            (3300, 1995), // 1995.3 mW
            (100, 1),     // 1.26 mW
            (-300, 1),    // 0.50 mW
            (-400, 0),    // 0.40 mW
            (-10000, 0),
        ] {
            assert_eq!(channel_power_mw(mbm as u32), mw, "{mbm} mBm");
        }
        // Absurd values neither panic nor overflow.
        assert_eq!(channel_power_mw(i32::MAX as u32), u32::MAX);
        // The same as powf, rounded, from -40 dBm to +100 dBm.
        for mbm in -4000..=10_000i32 {
            let expected = 10f64.powf(f64::from(mbm) / 1000.0).round() as u32;
            assert_eq!(channel_power_mw(mbm as u32), expected, "{mbm} mBm");
        }
        assert_eq!(channel_power_mw(i32::MIN as u32), 0);
    }
}
