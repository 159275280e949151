//! Stock hostapd's control sockets, as a station source: what Debian,
//! Ubuntu and Raspberry Pi OS access points run (no ubus), also present on
//! OpenWrt.
//!
//! hostapd makes one UNIX datagram socket per BSS, `<dir>/<ifname>`
//! (`ctrl_interface=/var/run/hostapd`). A client sends a command as one
//! datagram and hostapd answers with `sendto` to the address it came from;
//! after `ATTACH`, hostapd also sends it every event (`<3>AP-STA-CONNECTED
//! <mac>`...). [`parse`] reads what hostapd sends; this module is the
//! client the agent's poll loop drives:
//!
//! - every [`HostapdControl::tick`] (once a second) reads the directory:
//!   a new socket is opened, `ATTACH`ed, asked `STATUS` and its stations
//!   listed (`STA-FIRST`, `STA-NEXT <mac>`... until an empty reply); a
//!   socket whose file vanished is closed and its BSS reported gone; a
//!   socket file with another inode is a restarted hostapd: its BSS is
//!   reported gone, the socket re-opened and re-attached;
//! - [`HostapdControl::handle`] reads every datagram that arrived and
//!   applies it to the [`StationTable`] at once: events become station
//!   updates, replies answer the one request in flight on that socket
//!   (replies have no `<N>` prefix). A station that connects is counted at
//!   the event and then asked for (`STA <mac>`): its signal, rates and PHY
//!   are known a round trip later, not at the next listing;
//! - a request unanswered after [`REQUEST_TIMEOUT_MS`] is dropped, its
//!   socket re-opened (a late reply then goes to the old address, never
//!   mistaken for the answer to another request) and the requests asked
//!   again; after [`TIMEOUTS_BEFORE_GONE`] in a row the BSS is reported
//!   gone until hostapd answers again;
//! - a socket silent for [`PING_IDLE_MS`] is `PING`ed: a SIGKILLed
//!   hostapd leaves its socket file behind and tells nobody, and the send
//!   to its closed socket is refused.
//!
//! `ATTACH` is sent once per socket, not again as a keep-alive: older
//! hostapd releases added a monitor per `ATTACH`, duplicates included
//! (2.10's `ctrl_iface_attach` updates an existing one). hostapd
//! only drops a monitor that it failed to send to 11 times in a row, which
//! a connected, living socket never makes it do (see below).
//!
//! # Never delaying hostapd
//!
//! hostapd 2.10 writes events with a *blocking* `sendmsg` to each monitor.
//! The kernel makes a sender to a UNIX datagram socket wait while the
//! receiver has more than `net.unix.max_dgram_qlen` (10) datagrams queued
//! — unless the receiver is `connect`ed to the sender, as hostapd_cli's
//! `wpa_ctrl` is. So each socket here is `connect`ed to hostapd's: then
//! hostapd can only be made to wait when our unread datagrams fill its
//! socket's send buffer (`net.core.wmem_default`, about 270 events), and
//! [`HostapdControl::handle`] reads everything queued each time poll says
//! so. `connect` also means that only hostapd's socket can send to ours.
//! (Seen with Debian's hostapd in a VM, `tests/fixtures/hostapd_control/
//! stall/`: an unconnected monitor that did not read stopped hostapd for
//! five seconds, stations could not authenticate; a connected one did
//! not.)
//!
//! # Addresses
//!
//! A client must have an address for hostapd to answer. The daemon runs
//! with no writable directory, so each socket is bound to an abstract
//! address (`\0wsflowd-hostapd-<pid>-<n>`), which hostapd stores and
//! answers like any other (its `sockaddr_compare` compares the address
//! bytes and length; checked with Debian's hostapd 2.10). hostapd's socket
//! files are `0770` (group `ctrl_interface_group`): the daemon needs write
//! access to them; without it a warning says so, once per BSS.

mod link;
pub mod parse;

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{DirEntryExt, FileTypeExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use self::link::{on_datagram, Link, Request};
use self::parse::MAX_DATAGRAM;
use super::{StationTable, MAX_BSSES, MAX_STATIONS_PER_BSS};
use crate::mac::MacAddr;

/// Where Debian's, Ubuntu's, Raspberry Pi OS's and OpenWrt's hostapd put
/// their control sockets.
pub const DEFAULT_DIR: &str = "/var/run/hostapd";

/// A request unanswered for this long is given up (hostapd answers in
/// microseconds unless it is stuck in a long operation).
pub const REQUEST_TIMEOUT_MS: u64 = 2000;

/// Requests timed out in a row after which the BSS's stations are no
/// longer believed (reported gone until hostapd answers).
pub const TIMEOUTS_BEFORE_GONE: u32 = 3;

/// With nothing heard from a socket for this long, hostapd is `PING`ed
/// (a SIGKILLed hostapd leaves its socket file behind and tells nobody).
pub const PING_IDLE_MS: u64 = 5_000;

/// Stations asked one by one (`STA <mac>`, for the rates and PHY of a
/// station that just connected) before a whole listing is cheaper.
const MAX_STATION_QUERIES: usize = 16;

/// Times a listing is started again when a station it was walking through
/// left (`STA-NEXT` of it fails), before waiting for the next refresh.
const MAX_LISTING_RESTARTS: u8 = 3;

/// Datagrams read from one socket per [`HostapdControl::handle`]: poll
/// reports the rest at once, and the other sockets get their turn.
const MAX_DATAGRAMS_PER_HANDLE: usize = 1024;

/// Abstract addresses are per network namespace: make ours unlikely to
/// meet another process's (and step past one that does).
const ADDRESS_ATTEMPTS: u32 = 8;

/// How long each datagram took to handle (from `recv` returning to the
/// table updated), as a histogram with power-of-two bounds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HandlingTimes {
    pub count: u64,
    pub max_ns: u64,
    /// `buckets[0]`: under 1 µs; `buckets[i]`: from 2^(i-1) to 2^i µs; the
    /// last one: everything longer.
    pub buckets: [u64; 12],
}

impl HandlingTimes {
    pub fn record(&mut self, ns: u64) {
        self.count += 1;
        self.max_ns = self.max_ns.max(ns);
        let us = ns / 1000;
        let bucket = if us == 0 {
            0
        } else {
            (64 - us.leading_zeros()) as usize
        };
        self.buckets[bucket.min(self.buckets.len() - 1)] += 1;
    }

    /// An upper bound of the `percent` percentile (1 to 100), µs: the
    /// bound of the bucket that holds it, or the maximum when that is
    /// lower (a p99 above the max, as "p99 1024 µs, max 691 µs", would be
    /// true but absurd).
    /// In whole percent rather than an f64 fraction: mips is soft-float,
    /// and this was the only multiplication in f64 left on the router.
    pub fn percentile_us(&self, percent: u64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        // ⌈count · percent / 100⌉, at least the first.
        let rank = self.count.saturating_mul(percent).div_ceil(100).max(1);
        let max_us = self.max_ns.div_ceil(1000);
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank && i + 1 < self.buckets.len() {
                return Some(max_us.min(1 << i));
            }
        }
        Some(max_us)
    }
}

/// What the source did, for `ubus call wsflowd status` and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ControlStats {
    /// Sockets attached now (BSSes followed).
    pub attached: u32,
    /// Control sockets seen in the directory.
    pub sockets: u32,
    /// Requests waiting for their answer now.
    pub in_flight: u32,
    /// Events read (all of them, followed or not).
    pub events: u64,
    /// Replies read.
    pub replies: u64,
    /// Datagrams that could not be read (malformed, too long, unexpected).
    pub malformed: u64,
    /// Requests sent.
    pub requests: u64,
    /// Requests unanswered after [`REQUEST_TIMEOUT_MS`].
    pub timed_out: u64,
    /// Requests not sent because hostapd's queue was full (it is busy).
    pub send_busy: u64,
    /// `ATTACH`es hostapd accepted (one per socket opened, when all goes
    /// well).
    pub attaches: u64,
    /// Sockets opened again: after a hostapd restart, a timeout, an error.
    pub reconnects: u64,
    /// Socket files not followed: beyond [`MAX_BSSES`].
    pub refused: u64,
    /// Station listings completed.
    pub listings: u64,
    pub handling: HandlingTimes,
}

/// Whether a socket file's name can be a BSS's interface (hostapd names
/// the socket after it); `global` is hostapd's global control interface.
fn is_bss_socket_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() < libc::IFNAMSIZ
        && name != "global"
        && !name.starts_with('.')
        && !name.contains(['/', ':'])
}

/// The hostapd control-socket station source.
pub struct HostapdControl {
    dir: PathBuf,
    links: Vec<Link>,
    /// One datagram: hostapd sends at most [`MAX_DATAGRAM`] bytes; one
    /// byte more tells a longer (cut) one.
    buf: Box<[u8; MAX_DATAGRAM + 1]>,
    serial: u32,
    stats: ControlStats,
    dir_error_logged: bool,
}

impl HostapdControl {
    pub fn new(dir: PathBuf) -> HostapdControl {
        HostapdControl {
            dir,
            links: Vec::new(),
            buf: Box::new([0; MAX_DATAGRAM + 1]),
            serial: 0,
            stats: ControlStats::default(),
            dir_error_logged: false,
        }
    }

    /// The directory of the control sockets.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The descriptors to poll (one per open BSS socket), with the events
    /// wanted.
    pub fn poll_fds(&self, out: &mut Vec<(RawFd, i16)>) {
        for link in &self.links {
            if let Some(sock) = &link.sock {
                out.push((sock.as_raw_fd(), libc::POLLIN));
            }
        }
    }

    /// Reads what arrived on `fd` (a descriptor [`Self::poll_fds`] gave)
    /// and applies it to the table; returns whether the stations changed.
    pub fn handle(&mut self, fd: RawFd, now_ms: u64, table: &mut StationTable) -> bool {
        let Some(i) = self
            .links
            .iter()
            .position(|l| l.sock.as_ref().is_some_and(|s| s.as_raw_fd() == fd))
        else {
            return false;
        };
        let HostapdControl {
            links, buf, stats, ..
        } = self;
        let link = &mut links[i];
        let mut changed = false;
        for _ in 0..MAX_DATAGRAMS_PER_HANDLE {
            let Some(sock) = link.sock.as_ref() else {
                break;
            };
            let n = match sock.recv(&mut buf[..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    crate::debug_limited!("hostapd control {}: recv: {e}", link.ifname);
                    link.close();
                    break;
                }
            };
            let started = Instant::now();
            link.last_heard_ms = now_ms;
            if n > MAX_DATAGRAM {
                stats.malformed += 1;
            } else {
                changed |= on_datagram(link, &buf[..n], now_ms, table, stats);
            }
            stats
                .handling
                .record(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
        }
        link.pump(now_ms, stats);
        changed
    }

    /// Once a second: discover sockets, (re)attach, time out requests;
    /// list the stations and ask STATUS of every BSS when `refresh`.
    pub fn tick(&mut self, now_ms: u64, refresh: bool, table: &mut StationTable) {
        self.scan(now_ms, table);
        let HostapdControl {
            links,
            serial,
            stats,
            ..
        } = self;
        for link in links.iter_mut() {
            if link.shunned {
                continue;
            }
            if let Some((_, sent)) = link.in_flight {
                if now_ms.saturating_sub(sent) >= REQUEST_TIMEOUT_MS {
                    stats.timed_out += 1;
                    link.timeouts_in_a_row += 1;
                    crate::debug_limited!(
                        "hostapd control {}: no answer in {REQUEST_TIMEOUT_MS} ms",
                        link.ifname
                    );
                    if link.timeouts_in_a_row >= TIMEOUTS_BEFORE_GONE {
                        link.gone(table);
                    }
                    // A late answer must not be taken for the answer to
                    // the next request: a new socket, a new address.
                    link.open(now_ms, serial, stats, table);
                    continue;
                }
            }
            if link.sock.is_none() {
                link.open(now_ms, serial, stats, table);
                continue;
            }
            if refresh {
                link.wants.status = true;
                if link.listing.is_none() {
                    link.wants.list = true;
                }
            }
            if link.attached && now_ms.saturating_sub(link.last_heard_ms) >= PING_IDLE_MS {
                link.wants.ping = true;
            }
            link.pump(now_ms, stats);
        }
    }

    /// Figures for `ubus call wsflowd status` and the tests.
    pub fn stats(&self) -> ControlStats {
        let mut stats = self.stats;
        stats.attached = self.links.iter().filter(|l| l.attached).count() as u32;
        stats.sockets = self.links.len() as u32;
        stats.in_flight = self.links.iter().filter(|l| l.in_flight.is_some()).count() as u32;
        stats
    }

    /// The BSSes attached now, by interface name.
    pub fn attached(&self) -> impl Iterator<Item = &str> {
        self.links
            .iter()
            .filter(|l| l.attached)
            .map(|l| l.ifname.as_str())
    }

    /// Reads the directory: new sockets are opened, vanished ones closed
    /// (their BSS reported gone), replaced ones (a restarted hostapd)
    /// re-opened.
    fn scan(&mut self, now_ms: u64, table: &mut StationTable) {
        for link in &mut self.links {
            link.seen = false;
        }
        match std::fs::read_dir(&self.dir) {
            Ok(entries) => {
                self.dir_error_logged = false;
                for entry in entries.flatten() {
                    let Ok(file_type) = entry.file_type() else {
                        continue;
                    };
                    let name = entry.file_name();
                    let Some(name) = name.to_str() else {
                        continue;
                    };
                    if !file_type.is_socket() || !is_bss_socket_name(name) {
                        continue;
                    }
                    self.found(name, entry.ino(), now_ms, table);
                }
            }
            Err(e) => {
                if !self.dir_error_logged {
                    self.dir_error_logged = true;
                    if e.kind() == io::ErrorKind::PermissionDenied {
                        crate::warn!(
                            "hostapd control sockets: {}: {e} (hostapd's ctrl_interface_group \
must be a group of this daemon's user)",
                            self.dir.display()
                        );
                    } else {
                        // No hostapd running (it removes the directory
                        // when it stops).
                        crate::debug!("hostapd control sockets: {}: {e}", self.dir.display());
                    }
                }
            }
        }
        let HostapdControl { links, .. } = self;
        links.retain_mut(|link| {
            if link.seen {
                return true;
            }
            link.close();
            link.gone(table);
            false
        });
    }

    fn found(&mut self, name: &str, ino: u64, now_ms: u64, table: &mut StationTable) {
        let HostapdControl {
            dir,
            links,
            serial,
            stats,
            ..
        } = self;
        if let Some(link) = links.iter_mut().find(|l| l.ifname == name) {
            link.seen = true;
            if link.ino != ino {
                // Another hostapd (or the same one restarted): what the
                // old one said is void; its stations had to leave anyway.
                link.ino = ino;
                link.shunned = false;
                link.timeouts_in_a_row = 0;
                link.gone(table);
                link.open(now_ms, serial, stats, table);
            }
            return;
        }
        if links.len() >= MAX_BSSES {
            stats.refused += 1;
            return;
        }
        let mut link = Link::new(name, dir.join(name), ino);
        link.open(now_ms, serial, stats, table);
        // Kept in name order: the same order in every listing.
        let at = links.partition_point(|l| l.ifname.as_str() < name);
        links.insert(at, link);
    }
}

impl Drop for HostapdControl {
    fn drop(&mut self) {
        for link in &mut self.links {
            link.close();
        }
    }
}

/// Feeds datagrams to a BSS link that has no socket, each as the answer to
/// the request its first byte names (chunks of `data` split at NUL): the
/// fuzz target's way into the state machine. Not for the agent.
#[doc(hidden)]
pub fn fuzz_link(data: &[u8], table: &mut StationTable) -> ControlStats {
    let mut link = Link::new("wlan0", PathBuf::from("/nonexistent/wlan0"), 1);
    link.attached = true;
    let mut stats = ControlStats::default();
    for chunk in data.split(|b| *b == 0) {
        let Some((&selector, bytes)) = chunk.split_first() else {
            continue;
        };
        let mac = MacAddr([2, 0, 0, 0, 0, selector >> 3]);
        link.attached = selector & 0x80 == 0;
        link.in_flight = match selector & 7 {
            1 => Some(Request::Attach),
            2 => Some(Request::Ping),
            3 => Some(Request::Status),
            4 => Some(Request::StaFirst),
            5 => Some(Request::StaNext(mac)),
            6 => Some(Request::Sta(mac)),
            _ => None,
        }
        .map(|r| (r, 0));
        if matches!(
            link.in_flight,
            Some((Request::StaFirst | Request::StaNext(_), _))
        ) && link.listing.is_none()
        {
            link.start_listing();
        }
        on_datagram(
            &mut link,
            &bytes[..bytes.len().min(MAX_DATAGRAM)],
            0,
            table,
            &mut stats,
        );
        assert!(link.listing.as_ref().map_or(0, Vec::len) <= MAX_STATIONS_PER_BSS);
        assert!(link.queries.len() <= MAX_STATION_QUERIES);
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handling_times_histogram() {
        let mut h = HandlingTimes::default();
        assert_eq!(h.percentile_us(99), None);
        for _ in 0..98 {
            h.record(500); // < 1 µs
        }
        h.record(3_000); // 3 µs: the bucket up to 4 µs
        h.record(5_000_000); // 5 ms: the last bucket
        assert_eq!(h.count, 100);
        assert_eq!(h.percentile_us(50), Some(1));
        assert_eq!(h.percentile_us(99), Some(4));
        assert_eq!(h.percentile_us(100), Some(5000));
        assert_eq!(h.buckets[0], 98);
        assert_eq!(h.buckets[2], 1);
        assert_eq!(h.buckets[11], 1);
        // The bucket's bound (1,024 µs) above the slowest (691 µs): the
        // slowest.
        let mut h = HandlingTimes::default();
        for ns in [300_000, 691_000] {
            h.record(ns);
        }
        assert_eq!(h.percentile_us(99), Some(691));
        assert_eq!(h.percentile_us(50), Some(512));
    }

    #[test]
    fn requests_are_written_without_allocating() {
        let mut buf = [0u8; 32];
        let mac = MacAddr([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
        assert_eq!(
            Request::StaNext(mac).write(&mut buf),
            b"STA-NEXT aa:bb:cc:dd:ee:ff"
        );
        assert_eq!(Request::Sta(mac).write(&mut buf), b"STA aa:bb:cc:dd:ee:ff");
        assert_eq!(Request::Attach.write(&mut buf), b"ATTACH");
        assert_eq!(Request::StaFirst.write(&mut buf), b"STA-FIRST");
    }

    #[test]
    fn socket_names() {
        for name in ["wlan0", "wlan0_1", "phy0-ap0", "a234567890abcde"] {
            assert!(is_bss_socket_name(name), "{name}");
        }
        for name in ["", "global", ".hidden", "a234567890abcdef", "a:b"] {
            assert!(!is_bss_socket_name(name), "{name}");
        }
    }

    #[test]
    fn the_state_machine_takes_anything() {
        // The recorded replies and events, in any role: nothing panics,
        // the table stays bounded.
        let mut table = StationTable::default();
        let mut data = Vec::new();
        for selector in 0u8..8 {
            for reply in [
                &b"02:00:00:00:01:00\nflags=[AUTH][ASSOC][AUTHORIZED][HT]\nsignal=-40\n"[..],
                b"",
                b"FAIL\n",
                b"OK\n",
                b"PONG\n",
                b"UNKNOWN COMMAND\n",
                b"state=ENABLED\nfreq=2412\nbss[0]=wlan0\nssid[0]=x\n",
                b"<3>AP-STA-CONNECTED 02:00:00:00:02:00",
                b"<3>AP-STA-DISCONNECTED 02:00:00:00:01:00",
                b"<3>AP-DISABLED ",
                b"<3>CTRL-EVENT-TERMINATING ",
            ] {
                data.push(selector);
                data.extend_from_slice(reply);
                data.push(0);
            }
        }
        let stats = fuzz_link(&data, &mut table);
        assert!(stats.events > 0 && stats.replies > 0);
        assert!(table.len() <= 1);
    }
}
