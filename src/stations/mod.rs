//! What the agent knows of the access point's BSSes and their stations:
//! one table, fed by typed updates from up to three sources, and knowing
//! which source said what.
//!
//! ```text
//!  nl80211 (the kernel)    hostapd's control socket    hostapd over ubus
//!  stations, signal,       (stock hostapd: events,      (OpenWrt: events,
//!  rates, SSID/BSSID/      STA-FIRST/NEXT, STATUS)      clients, status,
//!  channel                                              air time)
//!        \                          |                          /
//!         `---- Update::{Bss, BssGone, Station, StationGone, Listed, SourceLost}
//!                                   |
//!                       StationTable (this module)
//!                 /                                       \
//!   AP-interface samples: extended_80211_rx/tx    counter samples: association
//!                                                 counts, radio utilization
//! ```
//!
//! Each source is a module that owns its connection and turns what it
//! reads into [`Update`]s keyed by interface name (never by a transport's
//! object ids); the table knows nothing of transports. A BSS or station
//! exists while at least one source reports it; each source's report is
//! kept apart, so that a source going away takes only what it said.
//!
//! # Which source wins, field by field
//!
//! When several sources report the same field, the first of this list
//! that has a value is used (see [`Bss`] and [`Station`]):
//!
//! | field | order | why |
//! | --- | --- | --- |
//! | station present, associated | any source | each sees (re)associations at the same moment; the union counts a station once |
//! | signal, rx/tx rate, bytes | nl80211, ubus, control socket | the kernel's figures are per frame and fresh at every dump; hostapd relays the driver's, less often |
//! | PHY (HT/VHT/HE) | ubus, control socket, nl80211 | hostapd knows the negotiated capabilities; the kernel only the last rate's |
//! | SSID | ubus, control socket, nl80211 | hostapd's configuration is the SSID; older kernels do not report it |
//! | BSSID | nl80211, control socket, ubus | the interface's address is the BSSID; hostapd's `get_status` reports the *configured* `bssid`, all zeros when none is set (all-zero values are ignored) |
//! | frequency, channel, radio | nl80211, ubus, control socket | the kernel follows channel switches at once |
//! | air time | ubus | only OpenWrt's hostapd reports it |

pub mod hostapd_control;
pub mod nl80211;
pub mod ubus;

use crate::mac::MacAddr;
use crate::sorted_map::SortedMap;

/// Stations kept per BSS (hostapd's own default limit is 2007).
pub const MAX_STATIONS_PER_BSS: usize = 2048;
/// BSSes kept: a client registering fake ones cannot make the table grow
/// without bound.
pub const MAX_BSSES: usize = 64;

/// Where a report comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// The kernel (nl80211): always there on mac80211 drivers.
    Nl80211 = 0,
    /// Stock hostapd's control socket (`/var/run/hostapd/<ifname>`).
    HostapdControl = 1,
    /// OpenWrt's hostapd over ubus.
    Ubus = 2,
}

impl Source {
    pub const ALL: [Source; 3] = [Source::Nl80211, Source::HostapdControl, Source::Ubus];
    /// The words that name them (configuration, status).
    pub const WORDS: [&'static str; 3] = ["nl80211", "hostapd", "ubus"];

    pub fn name(self) -> &'static str {
        Self::WORDS[self as usize]
    }
}

/// A set of sources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sources(u8);

impl Sources {
    pub const NONE: Sources = Sources(0);
    pub const ALL: Sources = Sources(0b111);

    pub fn contains(self, s: Source) -> bool {
        self.0 & (1 << s as u8) != 0
    }

    pub fn insert(&mut self, s: Source) {
        self.0 |= 1 << s as u8;
    }

    pub fn remove(&mut self, s: Source) {
        self.0 &= !(1 << s as u8);
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Source> {
        Source::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    pub fn from_sources(sources: impl IntoIterator<Item = Source>) -> Sources {
        let mut set = Sources::NONE;
        for s in sources {
            set.insert(s);
        }
        set
    }
}

/// The PHY a station uses: what an `ieee80211_version` is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StationPhy {
    /// No HT: 802.11a/b/g, told apart by the band.
    Legacy,
    Ht,
    Vht,
    He,
    Eht,
}

/// What one source says of a station; `None`: it does not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StationReport {
    pub associated: Option<bool>,
    pub authorized: Option<bool>,
    /// dBm.
    pub signal_dbm: Option<i8>,
    /// The last rate of frames from the station, kbit/s.
    pub rx_rate_kbps: Option<u32>,
    /// The last rate of frames to the station, kbit/s.
    pub tx_rate_kbps: Option<u32>,
    pub phy: Option<StationPhy>,
    /// Bytes received from the station since it associated.
    pub rx_bytes: Option<u64>,
    /// Bytes sent to the station since it associated.
    pub tx_bytes: Option<u64>,
}

impl StationReport {
    /// `other`'s values where it has some, ours elsewhere (a partial
    /// report, such as a notification, keeps what a listing said).
    fn merge(&mut self, other: &StationReport) {
        self.associated = other.associated.or(self.associated);
        self.authorized = other.authorized.or(self.authorized);
        self.signal_dbm = other.signal_dbm.or(self.signal_dbm);
        self.rx_rate_kbps = other.rx_rate_kbps.or(self.rx_rate_kbps);
        self.tx_rate_kbps = other.tx_rate_kbps.or(self.tx_rate_kbps);
        self.phy = other.phy.or(self.phy);
        self.rx_bytes = other.rx_bytes.or(self.rx_bytes);
        self.tx_bytes = other.tx_bytes.or(self.tx_bytes);
    }
}

/// Air time figures of a radio (hostapd's `get_status`), milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Airtime {
    pub time_ms: u64,
    pub busy_ms: u64,
}

/// What one source says of a BSS; `None`: it does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BssReport {
    /// 0 to 32 octets, not necessarily UTF-8.
    pub ssid: Option<Vec<u8>>,
    pub bssid: Option<MacAddr>,
    pub freq_mhz: Option<u32>,
    pub channel: Option<u32>,
    /// The radio: `phy0`...
    pub radio: Option<String>,
    pub airtime: Option<Airtime>,
}

impl BssReport {
    fn merge(&mut self, other: BssReport) {
        if other.ssid.is_some() {
            self.ssid = other.ssid;
        }
        // hostapd's configured BSSID is all zeros when none is set: it
        // says nothing then.
        if other.bssid.is_some_and(|b| !b.is_zero()) {
            self.bssid = other.bssid;
        }
        self.freq_mhz = other.freq_mhz.or(self.freq_mhz);
        self.channel = other.channel.or(self.channel);
        if other.radio.is_some() {
            self.radio = other.radio;
        }
        self.airtime = other.airtime.or(self.airtime);
    }
}

/// A change one source reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update<'a> {
    /// A BSS on interface `ifname`, with what the source knows of it.
    Bss { ifname: &'a str, report: BssReport },
    /// The BSS is gone (for this source), and its stations with it.
    BssGone { ifname: &'a str },
    /// A station of the BSS, new or changed: what the report says is
    /// merged with what the source said before.
    Station {
        ifname: &'a str,
        mac: MacAddr,
        report: StationReport,
    },
    /// A station left the BSS.
    StationGone { ifname: &'a str, mac: MacAddr },
    /// The source listed every station of the BSS (after their
    /// [`Update::Station`]s): those it had reported and are not in
    /// `stations` are gone.
    Listed {
        ifname: &'a str,
        stations: &'a [MacAddr],
    },
    /// The source lost its connection: everything it said is void.
    SourceLost,
}

/// A station, as its sources report it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Station {
    sources: Sources,
    reports: [StationReport; 3],
}

/// Field precedence: the sources in the order they are asked.
const RADIO_FIRST: [Source; 3] = [Source::Nl80211, Source::Ubus, Source::HostapdControl];
const HOSTAPD_FIRST: [Source; 3] = [Source::Ubus, Source::HostapdControl, Source::Nl80211];
const KERNEL_FIRST_CONTROL_NEXT: [Source; 3] =
    [Source::Nl80211, Source::HostapdControl, Source::Ubus];

impl Station {
    /// The sources that report the station.
    pub fn sources(&self) -> Sources {
        self.sources
    }

    /// What `source` says (default when it says nothing).
    pub fn report(&self, source: Source) -> &StationReport {
        &self.reports[source as usize]
    }

    fn first<T>(&self, order: [Source; 3], get: impl Fn(&StationReport) -> Option<T>) -> Option<T> {
        order
            .into_iter()
            .filter(|s| self.sources.contains(*s))
            .find_map(|s| get(&self.reports[s as usize]))
    }

    /// Associated, as any of its sources says (counted in
    /// dot11AssociatedStationCount).
    pub fn associated(&self) -> bool {
        self.sources
            .iter()
            .any(|s| self.reports[s as usize].associated == Some(true))
    }

    pub fn signal_dbm(&self) -> Option<i8> {
        self.first(RADIO_FIRST, |r| r.signal_dbm)
    }

    pub fn rx_rate_kbps(&self) -> Option<u32> {
        self.first(RADIO_FIRST, |r| r.rx_rate_kbps)
    }

    pub fn tx_rate_kbps(&self) -> Option<u32> {
        self.first(RADIO_FIRST, |r| r.tx_rate_kbps)
    }

    pub fn phy(&self) -> Option<StationPhy> {
        self.first(HOSTAPD_FIRST, |r| r.phy)
    }

    /// Bytes from and to the station since it associated.
    pub fn bytes(&self) -> (Option<u64>, Option<u64>) {
        (
            self.first(RADIO_FIRST, |r| r.rx_bytes),
            self.first(RADIO_FIRST, |r| r.tx_bytes),
        )
    }
}

/// One BSS: its reports and its stations, bounded.
#[derive(Debug, Clone)]
pub struct Bss {
    ifname: String,
    sources: Sources,
    reports: [BssReport; 3],
    stations: SortedMap<MacAddr, Station>,
    /// Stations not added because the table was full.
    pub refused: u64,
}

impl Bss {
    fn new(ifname: &str) -> Bss {
        Bss {
            ifname: ifname.to_owned(),
            sources: Sources::NONE,
            reports: Default::default(),
            stations: SortedMap::new(),
            refused: 0,
        }
    }

    pub fn ifname(&self) -> &str {
        &self.ifname
    }

    /// The sources that report the BSS.
    pub fn sources(&self) -> Sources {
        self.sources
    }

    /// What `source` says of the BSS.
    pub fn report(&self, source: Source) -> &BssReport {
        &self.reports[source as usize]
    }

    /// The first source in `order` with a value, and the value.
    fn first<'a, T>(
        &'a self,
        order: [Source; 3],
        get: impl Fn(&'a BssReport) -> Option<T>,
    ) -> Option<(Source, T)> {
        order
            .into_iter()
            .filter(|s| self.sources.contains(*s))
            .find_map(|s| get(&self.reports[s as usize]).map(|v| (s, v)))
    }

    pub fn ssid(&self) -> Option<(Source, &[u8])> {
        self.first(HOSTAPD_FIRST, |r| r.ssid.as_deref())
    }

    pub fn bssid(&self) -> Option<(Source, MacAddr)> {
        self.first(KERNEL_FIRST_CONTROL_NEXT, |r| r.bssid)
    }

    pub fn freq_mhz(&self) -> Option<(Source, u32)> {
        self.first(RADIO_FIRST, |r| r.freq_mhz)
    }

    /// The channel number: reported, else from the frequency.
    pub fn channel(&self) -> Option<(Source, u32)> {
        self.first(RADIO_FIRST, |r| r.channel).or_else(|| {
            self.freq_mhz()
                .map(|(s, f)| (s, crate::wifi::channel_number(f)))
        })
    }

    pub fn radio(&self) -> Option<(Source, &str)> {
        self.first(RADIO_FIRST, |r| r.radio.as_deref())
    }

    pub fn airtime(&self) -> Option<(Source, Airtime)> {
        self.first([Source::Ubus; 3], |r| r.airtime)
    }

    pub fn station(&self, mac: &MacAddr) -> Option<&Station> {
        self.stations.get(mac)
    }

    pub fn stations(&self) -> impl Iterator<Item = (&MacAddr, &Station)> {
        self.stations.iter()
    }

    /// Stations associated now: dot11AssociatedStationCount.
    pub fn associated(&self) -> u32 {
        self.stations.values().filter(|s| s.associated()).count() as u32
    }

    /// Forgets what `source` said of the stations.
    fn drop_stations_of(&mut self, source: Source) {
        self.stations.retain(|_, st| {
            st.sources.remove(source);
            st.reports[source as usize] = StationReport::default();
            !st.sources.is_empty()
        });
    }
}

/// Every BSS known, by interface name.
#[derive(Debug, Default)]
pub struct StationTable {
    bsses: SortedMap<String, Bss>,
    /// BSSes not added because the table was full.
    pub refused_bsses: u64,
}

impl StationTable {
    pub fn by_ifname(&self, ifname: &str) -> Option<&Bss> {
        self.bsses.get(ifname)
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

    /// The BSS of `ifname`, added (for `source`) if new and there is room.
    fn bss_for(&mut self, ifname: &str, source: Source) -> Option<&mut Bss> {
        if !self.bsses.contains_key(ifname) {
            if self.bsses.len() >= MAX_BSSES || ifname.is_empty() {
                self.refused_bsses += 1;
                return None;
            }
            self.bsses.insert(ifname.to_owned(), Bss::new(ifname));
        }
        let bss = self.bsses.get_mut(ifname)?;
        bss.sources.insert(source);
        Some(bss)
    }

    /// Applies what `source` reports. Returns whether the stations
    /// changed (a count or a station's presence).
    pub fn apply(&mut self, source: Source, update: Update<'_>) -> bool {
        match update {
            Update::Bss { ifname, report } => {
                if let Some(bss) = self.bss_for(ifname, source) {
                    bss.reports[source as usize].merge(report);
                }
                false
            }
            Update::BssGone { ifname } => {
                let Some(bss) = self.bsses.get_mut(ifname) else {
                    return false;
                };
                bss.sources.remove(source);
                bss.reports[source as usize] = BssReport::default();
                let before = bss.stations.len();
                bss.drop_stations_of(source);
                let changed = before != bss.stations.len();
                if bss.sources.is_empty() {
                    self.bsses.remove(ifname);
                }
                changed
            }
            Update::Station {
                ifname,
                mac,
                report,
            } => {
                let Some(bss) = self.bss_for(ifname, source) else {
                    return false;
                };
                let known = bss.stations.contains_key(&mac);
                if !known && bss.stations.len() >= MAX_STATIONS_PER_BSS {
                    bss.refused += 1;
                    return false;
                }
                let st = bss.stations.get_or_insert_with(mac, Station::default);
                let was = st.associated();
                let rates = (st.rx_rate_kbps(), st.tx_rate_kbps());
                st.sources.insert(source);
                st.reports[source as usize].merge(&report);
                if !known {
                    crate::debug!("{ifname}: station {mac} ({})", source.name());
                } else if rates != (st.rx_rate_kbps(), st.tx_rate_kbps()) {
                    // Not `{:?}` of the options: Debug's machinery is ~1 KB
                    // of a mips binary.
                    let rate = |r: Option<u32>| r.map_or("unknown".into(), |r| r.to_string());
                    crate::debug_limited!(
                        "{ifname}: station {mac}: rates {}/{} kbit/s (rx/tx, {})",
                        rate(st.rx_rate_kbps()),
                        rate(st.tx_rate_kbps()),
                        source.name()
                    );
                }
                !known || was != st.associated()
            }
            Update::StationGone { ifname, mac } => {
                let Some(bss) = self.bsses.get_mut(ifname) else {
                    return false;
                };
                let Some(st) = bss.stations.get_mut(&mac) else {
                    return false;
                };
                st.sources.remove(source);
                st.reports[source as usize] = StationReport::default();
                if st.sources.is_empty() {
                    bss.stations.remove(&mac);
                    crate::debug!("{ifname}: station {mac} gone ({})", source.name());
                    return true;
                }
                false
            }
            Update::Listed { ifname, stations } => {
                let Some(bss) = self.bsses.get_mut(ifname) else {
                    return false;
                };
                // `stations` comes unsorted from the source: a sorted copy
                // keeps the check O(n log n) for thousands of stations.
                let mut listed: Vec<MacAddr> = stations.to_vec();
                listed.sort_unstable();
                let before = bss.stations.len();
                bss.stations.retain(|mac, st| {
                    if st.sources.contains(source) && listed.binary_search(mac).is_err() {
                        st.sources.remove(source);
                        st.reports[source as usize] = StationReport::default();
                    }
                    !st.sources.is_empty()
                });
                before != bss.stations.len()
            }
            Update::SourceLost => {
                let mut changed = false;
                self.bsses.retain(|_, bss| {
                    let before = bss.stations.len();
                    bss.drop_stations_of(source);
                    changed |= before != bss.stations.len();
                    bss.sources.remove(source);
                    bss.reports[source as usize] = BssReport::default();
                    !bss.sources.is_empty()
                });
                changed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STA1: MacAddr = MacAddr([2, 0, 0, 0, 1, 1]);
    const STA2: MacAddr = MacAddr([2, 0, 0, 0, 1, 2]);

    fn associated() -> StationReport {
        StationReport {
            associated: Some(true),
            ..StationReport::default()
        }
    }

    #[test]
    fn a_station_is_counted_once_whatever_reports_it() {
        let mut t = StationTable::default();
        for source in Source::ALL {
            t.apply(
                source,
                Update::Station {
                    ifname: "wlan0",
                    mac: STA1,
                    report: associated(),
                },
            );
        }
        let bss = t.by_ifname("wlan0").unwrap();
        assert_eq!(bss.associated(), 1);
        assert_eq!(bss.sources(), Sources::ALL);
        // One source's departure leaves it to the others...
        assert!(!t.apply(
            Source::Ubus,
            Update::StationGone {
                ifname: "wlan0",
                mac: STA1
            }
        ));
        assert_eq!(t.by_ifname("wlan0").unwrap().associated(), 1);
        // ...until the last one says so.
        t.apply(
            Source::HostapdControl,
            Update::StationGone {
                ifname: "wlan0",
                mac: STA1,
            },
        );
        assert!(t.apply(
            Source::Nl80211,
            Update::StationGone {
                ifname: "wlan0",
                mac: STA1
            }
        ));
        assert_eq!(t.by_ifname("wlan0").unwrap().associated(), 0);
    }

    #[test]
    fn fields_come_from_the_source_that_knows_best() {
        let mut t = StationTable::default();
        let kernel = StationReport {
            associated: Some(true),
            signal_dbm: Some(-40),
            rx_rate_kbps: Some(54_000),
            tx_rate_kbps: Some(48_000),
            phy: Some(StationPhy::Legacy),
            ..StationReport::default()
        };
        let hostapd = StationReport {
            associated: Some(true),
            signal_dbm: Some(-45),
            rx_rate_kbps: Some(1_000),
            phy: Some(StationPhy::Ht),
            ..StationReport::default()
        };
        for (source, report) in [(Source::Ubus, hostapd), (Source::Nl80211, kernel)] {
            t.apply(
                source,
                Update::Station {
                    ifname: "wlan0",
                    mac: STA1,
                    report,
                },
            );
        }
        let st = t
            .by_ifname("wlan0")
            .unwrap()
            .station(&STA1)
            .unwrap()
            .clone();
        assert_eq!(
            (
                st.signal_dbm(),
                st.rx_rate_kbps(),
                st.tx_rate_kbps(),
                st.phy()
            ),
            (Some(-40), Some(54_000), Some(48_000), Some(StationPhy::Ht))
        );
        // The BSS: hostapd's SSID, the kernel's BSSID and channel; a
        // configured all-zero BSSID says nothing.
        t.apply(
            Source::Ubus,
            Update::Bss {
                ifname: "wlan0",
                report: BssReport {
                    ssid: Some(b"lab".to_vec()),
                    bssid: Some(MacAddr::ZERO),
                    freq_mhz: Some(2412),
                    channel: Some(1),
                    ..BssReport::default()
                },
            },
        );
        let bss = t.by_ifname("wlan0").unwrap();
        assert_eq!(bss.bssid(), None);
        assert_eq!(bss.channel(), Some((Source::Ubus, 1)));
        t.apply(
            Source::Nl80211,
            Update::Bss {
                ifname: "wlan0",
                report: BssReport {
                    ssid: Some(b"lab-kernel".to_vec()),
                    bssid: Some(MacAddr([2, 0, 0, 0, 0, 1])),
                    freq_mhz: Some(2437),
                    radio: Some("phy0".into()),
                    ..BssReport::default()
                },
            },
        );
        let bss = t.by_ifname("wlan0").unwrap();
        assert_eq!(bss.ssid(), Some((Source::Ubus, &b"lab"[..])));
        assert_eq!(
            bss.bssid(),
            Some((Source::Nl80211, MacAddr([2, 0, 0, 0, 0, 1])))
        );
        // A channel switch the kernel saw wins over hostapd's older word;
        // the number comes from the frequency.
        assert_eq!(bss.freq_mhz(), Some((Source::Nl80211, 2437)));
        assert_eq!(bss.channel(), Some((Source::Ubus, 1)));
    }

    #[test]
    fn a_listing_replaces_what_its_source_said_and_nothing_else() {
        let mut t = StationTable::default();
        for (source, mac) in [
            (Source::Nl80211, STA1),
            (Source::Nl80211, STA2),
            (Source::Ubus, STA2),
        ] {
            t.apply(
                source,
                Update::Station {
                    ifname: "wlan0",
                    mac,
                    report: associated(),
                },
            );
        }
        // The kernel lists STA1 only: STA2 stays, through ubus.
        assert!(!t.apply(
            Source::Nl80211,
            Update::Listed {
                ifname: "wlan0",
                stations: &[STA1]
            }
        ));
        let bss = t.by_ifname("wlan0").unwrap();
        assert_eq!(bss.associated(), 2);
        assert_eq!(
            bss.station(&STA2).unwrap().sources(),
            Sources::from_sources([Source::Ubus])
        );
        // ubus lists nobody: STA2 is gone.
        assert!(t.apply(
            Source::Ubus,
            Update::Listed {
                ifname: "wlan0",
                stations: &[]
            }
        ));
        assert_eq!(t.by_ifname("wlan0").unwrap().associated(), 1);
    }

    #[test]
    fn a_lost_source_takes_what_it_said_with_it() {
        let mut t = StationTable::default();
        t.apply(
            Source::Ubus,
            Update::Bss {
                ifname: "wlan1",
                report: BssReport::default(),
            },
        );
        t.apply(
            Source::Ubus,
            Update::Station {
                ifname: "wlan0",
                mac: STA1,
                report: associated(),
            },
        );
        t.apply(
            Source::Nl80211,
            Update::Station {
                ifname: "wlan0",
                mac: STA2,
                report: associated(),
            },
        );
        assert!(t.apply(Source::Ubus, Update::SourceLost));
        assert!(t.by_ifname("wlan1").is_none(), "only ubus knew it");
        let bss = t.by_ifname("wlan0").unwrap();
        assert_eq!(bss.associated(), 1);
        assert!(bss.station(&STA1).is_none());
        // A BSS gone for the kernel goes with its stations.
        assert!(t.apply(Source::Nl80211, Update::BssGone { ifname: "wlan0" }));
        assert!(t.is_empty());
    }

    #[test]
    fn bounded() {
        let mut t = StationTable::default();
        for i in 0..(MAX_STATIONS_PER_BSS + 5) {
            let mac = MacAddr([2, 0, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
            t.apply(
                Source::Nl80211,
                Update::Station {
                    ifname: "wlan0",
                    mac,
                    report: associated(),
                },
            );
        }
        let bss = t.by_ifname("wlan0").unwrap();
        assert_eq!(bss.associated() as usize, MAX_STATIONS_PER_BSS);
        assert_eq!(bss.refused, 5);
        for i in 0..(MAX_BSSES + 3) {
            t.apply(
                Source::Ubus,
                Update::Bss {
                    ifname: &format!("w{i}"),
                    report: BssReport::default(),
                },
            );
        }
        assert_eq!(t.len(), MAX_BSSES);
        assert_eq!(t.refused_bsses, 4);
    }
}
