//! What hostapd tells us over ubus: its BSSes (one ubus object
//! `hostapd.<ifname>` each), their stations, SSID, BSSID, channel and air
//! time. Pure state, fed by the ubus glue in the agent
//! (`agent::ubus`), so that every rule here is tested without a socket.
//!
//! hostapd's API (OpenWrt `hostapd/src/ap/ubus.c`):
//! - methods `get_clients` → `{freq, clients: {"aa:bb:..": {auth, assoc,
//!   authorized, ht, vht, he, ..., rate: {rx, tx} (kbit/s), signal}}}`,
//!   `get_status` → `{bssid, ssid, freq, channel, phy, airtime: {time,
//!   time_busy, utilization}, ...}`;
//! - notifications to subscribers: `probe`, `auth`, `assoc` (requests: with
//!   `notify_response` set, hostapd waits up to 100 ms for the answers and a
//!   non-zero one refuses the station), `sta-authorized`, `disassoc`,
//!   `deauth`, `local-deauth`, `inactive-deauth`, with `{address, [ifname],
//!   [signal], [freq]}` (`ifname` only since late 2024);
//! - the `hostapd` object notifies `bss.add`, `bss.reload`, `bss.remove`
//!   `{name}`.

pub mod stations;

use crate::sorted_map::SortedMap;

use crate::ubus::blob::Attrs;
pub use stations::{parse_mac, Mac, Station, StationTable};

/// Stations kept per BSS.
pub const MAX_STATIONS_PER_BSS: usize = 2048;
/// BSS objects tracked: a client registering fake `hostapd.*` objects
/// cannot make the table grow without bound.
pub const MAX_BSSES: usize = 64;

/// The prefix of hostapd's per-BSS ubus objects.
pub const BSS_PREFIX: &str = "hostapd.";

/// The interface name of a BSS object path (`hostapd.wlan0` → `wlan0`).
pub fn bss_ifname(path: &str) -> Option<&str> {
    path.strip_prefix(BSS_PREFIX).filter(|n| !n.is_empty())
}

/// Air time figures of a radio, from `get_status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Airtime {
    pub time_ms: u64,
    pub busy_ms: u64,
}

/// One BSS.
#[derive(Debug, Clone)]
pub struct Bss {
    /// Its ubus object id.
    pub object: u32,
    pub ifname: String,
    pub ssid: Vec<u8>,
    pub bssid: Option<Mac>,
    pub freq: Option<u32>,
    pub channel: Option<u32>,
    /// The radio (`phy0`...), to group BSSes of one radio.
    pub phy: Option<String>,
    pub airtime: Option<Airtime>,
    pub stations: StationTable,
    /// Our subscription to its notifications is in place.
    pub subscribed: bool,
    /// `get_clients` answered at least once.
    pub listed: bool,
    /// A station associated since the last listing: list again soon, for
    /// its rates (notifications carry none).
    pub stale: bool,
}

impl Bss {
    fn new(object: u32, ifname: &str) -> Bss {
        Bss {
            object,
            ifname: ifname.to_string(),
            ssid: Vec::new(),
            bssid: None,
            freq: None,
            channel: None,
            phy: None,
            airtime: None,
            stations: StationTable::new(MAX_STATIONS_PER_BSS),
            subscribed: false,
            listed: false,
            stale: false,
        }
    }
}

/// What a notification changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing we track.
    None,
    /// A station of a BSS was added, changed or removed.
    Stations,
    /// hostapd announced a new (or reloaded) BSS: look it up.
    BssAdded(String),
    /// hostapd announced that a BSS went away.
    BssRemoved(String),
}

/// Every BSS known, by ubus object id.
#[derive(Debug, Default)]
pub struct Hostapd {
    bsses: SortedMap<u32, Bss>,
    /// The `hostapd` object itself (BSS additions and removals).
    pub main_object: Option<u32>,
}

impl Hostapd {
    /// Takes note of a BSS object; returns whether it is new.
    pub fn add_bss(&mut self, object: u32, ifname: &str) -> bool {
        if self.bsses.contains_key(&object) {
            return false;
        }
        // The same interface under a new object (hostapd restarted): the
        // old object and its stations are gone.
        self.bsses.retain(|_, b| b.ifname != ifname);
        if self.bsses.len() >= MAX_BSSES {
            return false;
        }
        self.bsses.insert(object, Bss::new(object, ifname));
        true
    }

    /// Forgets a BSS object (and its stations).
    pub fn remove_bss(&mut self, object: u32) -> Option<Bss> {
        if self.main_object == Some(object) {
            self.main_object = None;
        }
        self.bsses.remove(&object)
    }

    pub fn remove_ifname(&mut self, ifname: &str) {
        self.bsses.retain(|_, b| b.ifname != ifname);
    }

    /// Forgets everything (the ubus connection was lost: nothing is known
    /// any more, and stale stations must not be counted).
    pub fn clear(&mut self) {
        self.bsses.clear();
        self.main_object = None;
    }

    pub fn bss(&self, object: u32) -> Option<&Bss> {
        self.bsses.get(&object)
    }

    pub fn bss_mut(&mut self, object: u32) -> Option<&mut Bss> {
        self.bsses.get_mut(&object)
    }

    pub fn by_ifname(&self, ifname: &str) -> Option<&Bss> {
        self.bsses.values().find(|b| b.ifname == ifname)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Bss> {
        self.bsses.values()
    }

    pub fn len(&self) -> usize {
        self.bsses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bsses.is_empty()
    }

    /// Applies a notification that object `from` sent to our subscriber.
    pub fn notification(&mut self, from: u32, kind: &str, data: Attrs) -> Change {
        if Some(from) == self.main_object {
            let name = data.get_str("name").unwrap_or("").to_string();
            return match kind {
                "bss.add" | "bss.reload" if !name.is_empty() => Change::BssAdded(name),
                "bss.remove" if !name.is_empty() => {
                    self.remove_ifname(&name);
                    Change::BssRemoved(name)
                }
                _ => Change::None,
            };
        }
        // The notifying object says which BSS; `ifname` (newer hostapd) is
        // only a fallback for when it is not one we know.
        let object = if self.bsses.contains_key(&from) {
            Some(from)
        } else {
            data.get_str("ifname")
                .and_then(|n| self.by_ifname(n))
                .map(|b| b.object)
        };
        let Some(bss) = object.and_then(|o| self.bsses.get_mut(&o)) else {
            return Change::None;
        };
        let Some(mac) = data.get_str("address").and_then(parse_mac) else {
            return Change::None;
        };
        let signal = data.get_i64("signal").and_then(|s| i8::try_from(s).ok());
        match kind {
            "auth" => {
                if let Some(s) = bss.stations.upsert(mac) {
                    s.signal = signal.or(s.signal);
                }
            }
            // A request: hostapd associates the station unless a steering
            // daemon refuses it; the next listing corrects that case.
            "assoc" => {
                if let Some(s) = bss.stations.upsert(mac) {
                    s.associated = true;
                    s.signal = signal.or(s.signal);
                }
                bss.stale = true;
            }
            "sta-authorized" => {
                if let Some(s) = bss.stations.upsert(mac) {
                    s.associated = true;
                    s.authorized = true;
                }
            }
            "disassoc" | "deauth" | "local-deauth" | "inactive-deauth" => {
                bss.stations.remove(&mac);
            }
            _ => return Change::None,
        }
        Change::Stations
    }

    /// Replaces the stations of a BSS with a `get_clients` answer.
    pub fn clients(&mut self, object: u32, answer: Attrs) {
        let Some(bss) = self.bsses.get_mut(&object) else {
            return;
        };
        if let Some(freq) = answer.get_u32("freq") {
            bss.freq = Some(freq);
        }
        let Some(clients) = answer.get_table("clients") else {
            return;
        };
        let mut seen: Vec<Mac> = Vec::new();
        for field in clients.fields().flatten() {
            let (Some(mac), Some(c)) = (parse_mac(field.name), field.value.as_table()) else {
                continue;
            };
            let Some(s) = bss.stations.upsert(mac) else {
                continue;
            };
            seen.push(mac);
            s.associated = c.get_bool("assoc").unwrap_or(false);
            s.authorized = c.get_bool("authorized").unwrap_or(false);
            s.ht = c.get_bool("ht").unwrap_or(false);
            s.vht = c.get_bool("vht").unwrap_or(false);
            s.he = c.get_bool("he").unwrap_or(false);
            if let Some(signal) = c.get_i64("signal").and_then(|v| i8::try_from(v).ok()) {
                s.signal = Some(signal);
            }
            if let Some(rate) = c.get_table("rate") {
                s.rx_rate_kbps = rate.get_u32("rx").or(s.rx_rate_kbps);
                s.tx_rate_kbps = rate.get_u32("tx").or(s.tx_rate_kbps);
            }
        }
        bss.stations.retain(|m| seen.contains(m));
        bss.listed = true;
        bss.stale = false;
    }

    /// Takes the SSID, BSSID, channel, radio and air time of a
    /// `get_status` answer.
    pub fn status(&mut self, object: u32, answer: Attrs) {
        let Some(bss) = self.bsses.get_mut(&object) else {
            return;
        };
        if let Some(ssid) = answer.get_str("ssid") {
            bss.ssid = ssid.as_bytes()[..ssid.len().min(32)].to_vec();
        }
        if let Some(bssid) = answer.get_str("bssid").and_then(parse_mac) {
            bss.bssid = Some(bssid);
        }
        if let Some(freq) = answer.get_u32("freq") {
            bss.freq = Some(freq);
        }
        if let Some(channel) = answer.get_u32("channel") {
            bss.channel = Some(channel);
        }
        if let Some(phy) = answer.get_str("phy") {
            bss.phy = Some(phy.to_string());
        }
        if let Some(a) = answer.get_table("airtime") {
            if let (Some(time), Some(busy)) = (a.get_u64("time"), a.get_u64("time_busy")) {
                bss.airtime = Some(Airtime {
                    time_ms: time,
                    busy_ms: busy,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ubus::blob::BlobBuf;

    fn table(build: impl FnOnce(&mut BlobBuf)) -> BlobBuf {
        let mut b = BlobBuf::new();
        build(&mut b);
        b
    }

    fn event(address: &str, ifname: Option<&str>, signal: Option<i32>) -> BlobBuf {
        table(|b| {
            b.string("address", address);
            if let Some(n) = ifname {
                b.string("ifname", n);
            }
            if let Some(s) = signal {
                b.int32("signal", s);
            }
            b.int32("freq", 5180);
        })
    }

    const STA: &str = "02:00:00:00:01:01";

    #[test]
    fn stations_follow_notifications_with_and_without_ifname() {
        let mut h = Hostapd::default();
        assert!(h.add_bss(10, "wlan0"));
        assert!(!h.add_bss(10, "wlan0"));
        let e = event(STA, None, Some(-52));
        assert_eq!(h.notification(10, "auth", e.attrs()), Change::Stations);
        assert_eq!(h.by_ifname("wlan0").unwrap().stations.associated(), 0);
        assert_eq!(h.notification(10, "assoc", e.attrs()), Change::Stations);
        let bss = h.by_ifname("wlan0").unwrap();
        assert_eq!(bss.stations.associated(), 1);
        let mac = parse_mac(STA).unwrap();
        assert_eq!(bss.stations.get(&mac).unwrap().signal, Some(-52));
        // A notification naming the BSS by ifname (23.05 lacks it) from an
        // object we do not know yet is still placed.
        let e = event("02:00:00:00:01:02", Some("wlan0"), None);
        assert_eq!(h.notification(99, "assoc", e.attrs()), Change::Stations);
        assert_eq!(h.by_ifname("wlan0").unwrap().stations.associated(), 2);
        for kind in ["disassoc", "deauth"] {
            let e = event(STA, None, None);
            assert_eq!(h.notification(10, kind, e.attrs()), Change::Stations);
        }
        assert_eq!(h.by_ifname("wlan0").unwrap().stations.associated(), 1);
        // Probes and unknown kinds change nothing; a bad address neither.
        assert_eq!(
            h.notification(10, "probe", event(STA, None, None).attrs()),
            Change::None
        );
        assert_eq!(
            h.notification(10, "assoc", event("nonsense", None, None).attrs()),
            Change::None
        );
    }

    #[test]
    fn listing_replaces_the_table() {
        let mut h = Hostapd::default();
        h.add_bss(10, "wlan0");
        h.notification(10, "assoc", event("02:00:00:00:00:99", None, None).attrs());
        let answer = table(|b| {
            b.int32("freq", 2437);
            let clients = b.table_start("clients");
            for (mac, assoc) in [(STA, true), ("02:00:00:00:01:02", false)] {
                let c = b.table_start(mac);
                b.bool("auth", true);
                b.bool("assoc", assoc);
                b.bool("authorized", assoc);
                b.bool("ht", true);
                let r = b.table_start("rate");
                b.int32("rx", 144_400);
                b.int32("tx", 72_200);
                b.table_end(r);
                b.int32("signal", -61);
                b.table_end(c);
            }
            b.table_end(clients);
        });
        h.clients(10, answer.attrs());
        let bss = h.by_ifname("wlan0").unwrap();
        assert_eq!(bss.stations.len(), 2, "the stale station is gone");
        assert_eq!(bss.stations.associated(), 1);
        assert_eq!(bss.freq, Some(2437));
        let s = bss.stations.get(&parse_mac(STA).unwrap()).unwrap();
        assert_eq!(
            (s.rx_rate_kbps, s.tx_rate_kbps, s.signal, s.ht),
            (Some(144_400), Some(72_200), Some(-61), true)
        );
    }

    #[test]
    fn status_and_bss_announcements() {
        let mut h = Hostapd::default();
        h.add_bss(10, "wlan0");
        h.main_object = Some(1);
        let status = table(|b| {
            b.string("ssid", "OpenWrt");
            b.string("bssid", "02:aa:bb:cc:dd:ee");
            b.int32("freq", 5180);
            b.int32("channel", 36);
            b.string("phy", "phy1");
            let a = b.table_start("airtime");
            b.int32("time", 120_000);
            b.int32("time_busy", 30_000);
            b.int32("utilization", 25);
            b.table_end(a);
        });
        h.status(10, status.attrs());
        let bss = h.bss(10).unwrap();
        assert_eq!(bss.ssid, b"OpenWrt");
        assert_eq!(bss.bssid, Some([0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]));
        assert_eq!((bss.channel, bss.phy.as_deref()), (Some(36), Some("phy1")));
        assert_eq!(
            bss.airtime,
            Some(Airtime {
                time_ms: 120_000,
                busy_ms: 30_000
            })
        );
        let name = table(|b| b.string("name", "wlan1"));
        assert_eq!(
            h.notification(1, "bss.add", name.attrs()),
            Change::BssAdded("wlan1".into())
        );
        let name = table(|b| b.string("name", "wlan0"));
        assert_eq!(
            h.notification(1, "bss.remove", name.attrs()),
            Change::BssRemoved("wlan0".into())
        );
        assert!(h.is_empty());
    }

    #[test]
    fn a_restarted_hostapd_replaces_the_old_object() {
        let mut h = Hostapd::default();
        h.add_bss(10, "wlan0");
        h.notification(10, "assoc", event(STA, None, None).attrs());
        assert!(h.add_bss(20, "wlan0"));
        assert_eq!(h.len(), 1);
        assert!(h.by_ifname("wlan0").unwrap().stations.is_empty());
        assert_eq!(bss_ifname("hostapd.wlan0"), Some("wlan0"));
        assert_eq!(bss_ifname("hostapd"), None);
        assert_eq!(bss_ifname("hostapd."), None);
        for i in 0..(MAX_BSSES as u32 + 5) {
            h.add_bss(100 + i, &format!("w{i}"));
        }
        assert_eq!(h.len(), MAX_BSSES);
    }
}
