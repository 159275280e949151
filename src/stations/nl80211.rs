//! The kernel as a station source: what nl80211 knows of the AP
//! interfaces (SSID, BSSID, channel, radio) and their stations (signal,
//! rates, association), with no hostapd API at all. Every mac80211 driver
//! has it.
//!
//! Stations are followed from the kernel's notifications (a station added
//! or removed, an AP stopped, a channel switch: read on the event loop,
//! never waiting) and listed in full at start and every refresh: the
//! listing brings the rates and signal, and corrects anything a lost
//! notification left behind.

use crate::agent::kernel::Listing;
use crate::mac::MacAddr;
use crate::sorted_map::SortedMap;
use crate::stations::{BssReport, Source, StationPhy, StationReport, StationTable, Update};
use crate::wifi::nl80211::events::Nl80211Event;
use crate::wifi::nl80211::{InterfaceInfo, RateInfo, RateMode, Station};

/// An interface nl80211 is asked about.
#[derive(Debug, Clone)]
struct Followed {
    ifname: String,
    /// nl80211 says it is an AP interface with its BSS up.
    ap: bool,
    /// A station joined since the last listing: list again soon, for its
    /// rates (the kernel's notification carries none yet).
    stale: bool,
    /// Listings left in which a station without a signal yet (nothing
    /// received from it since it joined) makes the interface stale again:
    /// listed every tick for a few seconds after a station joins, so that
    /// its first samples soon carry its signal, and never forever for a
    /// station that stays silent.
    settling: u8,
}

/// Ticks (seconds) after a station joined in which its interface is listed
/// again while a station has no signal yet.
const SETTLING_LISTINGS: u8 = 5;

/// The AP interfaces followed through nl80211.
#[derive(Debug, Default)]
pub struct KernelStations {
    /// By interface index.
    followed: SortedMap<u32, Followed>,
    /// Reused for listings.
    listed: Vec<MacAddr>,
}

/// The PHY of a rate.
fn phy(rate: &RateInfo) -> StationPhy {
    match rate.mode {
        RateMode::Legacy => StationPhy::Legacy,
        RateMode::Ht { .. } => StationPhy::Ht,
        RateMode::Vht { .. } => StationPhy::Vht,
        RateMode::He { .. } => StationPhy::He,
        RateMode::Eht { .. } => StationPhy::Eht,
    }
}

fn kbps(rate: &Option<RateInfo>) -> Option<u32> {
    rate.and_then(|r| r.bitrate_bps)
        .map(|b| u32::try_from(b / 1000).unwrap_or(u32::MAX))
}

/// What the kernel says of a station. A station of an AP interface that
/// the kernel lists without its flags is associated: hostapd adds a
/// station to the kernel when it associates.
pub fn station_report(st: &Station) -> StationReport {
    StationReport {
        associated: Some(st.associated.unwrap_or(true)),
        authorized: None,
        // mac80211 reports the signal of the last frame received, 0 until
        // there is one (just associated): unknown, not 0 dBm.
        signal_dbm: st.signal_dbm.filter(|&dbm| dbm != 0),
        rx_rate_kbps: kbps(&st.rx_rate),
        tx_rate_kbps: kbps(&st.tx_rate),
        // The rate it is sent at says what it negotiated; the received
        // one only when nothing was sent yet.
        phy: st.tx_rate.or(st.rx_rate).map(|r| phy(&r)),
        rx_bytes: st.rx_bytes,
        tx_bytes: st.tx_bytes,
    }
}

/// What the kernel says of an AP interface's BSS. The interface's address
/// is its BSSID; the radio is named as sysfs named it (`radio`), else by
/// its index.
pub fn bss_report(info: &InterfaceInfo, radio: Option<&str>) -> BssReport {
    let radio = radio
        .map(str::to_owned)
        .or_else(|| info.wiphy.map(|w| format!("phy{w}")));
    BssReport {
        ssid: info.ssid.clone(),
        bssid: info.mac.map(MacAddr),
        freq_mhz: info.frequency_mhz,
        channel: info.frequency_mhz.map(crate::wifi::channel_number),
        radio,
        airtime: None,
    }
}

impl KernelStations {
    /// Follows exactly `interfaces` (index, name): those sampled that are
    /// not monitors. What is gone is forgotten, and its BSS with it;
    /// returns the new ones, to be listed.
    pub fn set_interfaces(
        &mut self,
        interfaces: &[(u32, String)],
        table: &mut StationTable,
    ) -> Vec<(u32, String)> {
        self.followed.retain(|i, f| {
            let keep = interfaces.iter().any(|(k, n)| k == i && *n == f.ifname);
            if !keep {
                table.apply(Source::Nl80211, Update::BssGone { ifname: &f.ifname });
            }
            keep
        });
        let mut new = Vec::new();
        for (if_index, ifname) in interfaces {
            if !self.followed.contains_key(if_index) {
                self.followed.insert(
                    *if_index,
                    Followed {
                        ifname: ifname.clone(),
                        ap: false,
                        stale: false,
                        settling: 0,
                    },
                );
                new.push((*if_index, ifname.clone()));
            }
        }
        new
    }

    /// The AP interfaces found, by index (for the radio context of their
    /// samples and for their 802.11 counters).
    pub fn is_ap(&self, if_index: u32) -> bool {
        self.followed.get(&if_index).is_some_and(|f| f.ap)
    }

    /// The interfaces to list now: all of them, or only those with new
    /// stations (their rates come with a listing).
    pub fn due(&mut self, all: bool) -> Vec<(u32, String)> {
        self.followed
            .iter_mut()
            .filter(|(_, f)| all || f.stale)
            .map(|(&i, f)| {
                f.stale = false;
                (i, f.ifname.clone())
            })
            .collect()
    }

    /// Applies what nl80211 said of an interface: its BSS and its
    /// stations, in full.
    pub fn listed(&mut self, listing: &Listing, table: &mut StationTable) {
        let Some(f) = self.followed.get_mut(&listing.if_index) else {
            return;
        };
        if f.ifname != listing.ifname {
            return;
        }
        let ap = listing.info.as_ref().is_some_and(InterfaceInfo::is_ap);
        if !ap {
            // Not (or no longer) an AP: nothing of it is a BSS of ours.
            if f.ap {
                f.ap = false;
                table.apply(Source::Nl80211, Update::BssGone { ifname: &f.ifname });
            }
            return;
        }
        f.ap = true;
        if let Some(info) = &listing.info {
            table.apply(
                Source::Nl80211,
                Update::Bss {
                    ifname: &listing.ifname,
                    report: bss_report(info, listing.radio.as_deref()),
                },
            );
        }
        let Some(stations) = &listing.stations else {
            return;
        };
        self.listed.clear();
        if f.settling > 0 {
            f.settling -= 1;
            if stations
                .iter()
                .any(|st| station_report(st).signal_dbm.is_none())
            {
                f.stale = true;
            }
        }
        for st in stations {
            let mac = MacAddr(st.mac);
            self.listed.push(mac);
            table.apply(
                Source::Nl80211,
                Update::Station {
                    ifname: &listing.ifname,
                    mac,
                    report: station_report(st),
                },
            );
        }
        table.apply(
            Source::Nl80211,
            Update::Listed {
                ifname: &listing.ifname,
                stations: &self.listed,
            },
        );
    }

    /// Applies a notification; returns whether the stations changed.
    pub fn event(&mut self, event: Nl80211Event, table: &mut StationTable) -> bool {
        let ifname_of = |followed: &SortedMap<u32, Followed>, i: u32| {
            followed.get(&i).filter(|f| f.ap).map(|f| f.ifname.clone())
        };
        match event {
            Nl80211Event::StationNew(st) => {
                let Some(ifname) = st.if_index.and_then(|i| ifname_of(&self.followed, i)) else {
                    return false;
                };
                if let Some(f) = st.if_index.and_then(|i| self.followed.get_mut(&i)) {
                    f.stale = true;
                    f.settling = SETTLING_LISTINGS;
                }
                table.apply(
                    Source::Nl80211,
                    Update::Station {
                        ifname: &ifname,
                        mac: MacAddr(st.mac),
                        report: station_report(&st),
                    },
                )
            }
            Nl80211Event::StationDel { if_index, mac } => {
                let Some(ifname) = ifname_of(&self.followed, if_index) else {
                    return false;
                };
                table.apply(
                    Source::Nl80211,
                    Update::StationGone {
                        ifname: &ifname,
                        mac,
                    },
                )
            }
            Nl80211Event::ChannelSwitch { if_index, freq_mhz } => {
                if let Some(ifname) = ifname_of(&self.followed, if_index) {
                    table.apply(
                        Source::Nl80211,
                        Update::Bss {
                            ifname: &ifname,
                            report: BssReport {
                                freq_mhz: Some(freq_mhz),
                                channel: Some(crate::wifi::channel_number(freq_mhz)),
                                ..BssReport::default()
                            },
                        },
                    );
                }
                false
            }
            Nl80211Event::ApStopped { if_index } | Nl80211Event::InterfaceDel { if_index } => {
                let Some(f) = self.followed.get_mut(&if_index).filter(|f| f.ap) else {
                    return false;
                };
                f.ap = false;
                table.apply(Source::Nl80211, Update::BssGone { ifname: &f.ifname })
            }
            Nl80211Event::Interface(info) => {
                // A type or channel change: read it again at the next
                // refresh (soon).
                if let Some(f) = self.followed.get_mut(&info.if_index) {
                    f.stale = true;
                }
                false
            }
        }
    }

    /// Notifications were lost: everything is listed again.
    pub fn lost(&mut self) {
        for f in self.followed.values_mut() {
            f.stale = true;
        }
    }

    /// Forgets everything (nl80211 went away, or the source was turned
    /// off).
    pub fn clear(&mut self, table: &mut StationTable) {
        self.followed.clear();
        table.apply(Source::Nl80211, Update::SourceLost);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wifi::nl80211::iftype;

    fn followed(ifname: &str, ap: bool) -> Followed {
        Followed {
            ifname: ifname.into(),
            ap,
            stale: false,
            settling: 0,
        }
    }

    fn rate(kbps: u64, mode: RateMode) -> Option<RateInfo> {
        Some(RateInfo {
            bitrate_bps: Some(kbps * 1000),
            mode,
            width_mhz: 20,
            ..RateInfo::default()
        })
    }

    #[test]
    fn what_the_kernel_says_of_stations_and_bsses() {
        let st = Station {
            if_index: Some(3),
            mac: [2, 0, 0, 0, 1, 1],
            signal_dbm: Some(-42),
            tx_rate: rate(54_000, RateMode::Legacy),
            rx_rate: rate(65_000, RateMode::Ht { mcs: 7 }),
            ..Station::default()
        };
        assert_eq!(
            station_report(&st),
            StationReport {
                associated: Some(true),
                authorized: None,
                signal_dbm: Some(-42),
                rx_rate_kbps: Some(65_000),
                tx_rate_kbps: Some(54_000),
                phy: Some(StationPhy::Legacy),
                rx_bytes: None,
                tx_bytes: None,
            }
        );
        let only_authenticated = Station {
            associated: Some(false),
            ..st
        };
        assert_eq!(station_report(&only_authenticated).associated, Some(false));
        let info = InterfaceInfo {
            if_index: 3,
            name: Some("wsflowd-none0".into()),
            if_type: Some(iftype::AP),
            wiphy: Some(2),
            mac: Some([2, 0, 0, 0, 0, 1]),
            ssid: Some(b"lab".to_vec()),
            frequency_mhz: Some(2437),
            ..InterfaceInfo::default()
        };
        let r = bss_report(&info, None);
        assert_eq!(r.bssid, Some(MacAddr([2, 0, 0, 0, 0, 1])));
        assert_eq!((r.freq_mhz, r.channel), (Some(2437), Some(6)));
        assert_eq!(r.radio.as_deref(), Some("phy2"), "no sysfs entry: by index");
        assert_eq!(r.ssid.as_deref(), Some(&b"lab"[..]));
    }

    #[test]
    fn notifications_of_followed_ap_interfaces() {
        let mut k = KernelStations::default();
        let mut t = StationTable::default();
        k.followed.insert(3, followed("wlan0", true));
        k.followed.insert(4, followed("eth0", false));
        let st = |if_index| Station {
            if_index: Some(if_index),
            mac: [2, 0, 0, 0, 1, 1],
            ..Station::default()
        };
        assert!(k.event(Nl80211Event::StationNew(st(3)), &mut t));
        assert!(
            !k.event(Nl80211Event::StationNew(st(4)), &mut t),
            "not an AP"
        );
        assert!(
            !k.event(Nl80211Event::StationNew(st(9)), &mut t),
            "not followed"
        );
        assert_eq!(t.by_ifname("wlan0").unwrap().associated(), 1);
        assert!(
            k.followed.get(&3).unwrap().stale,
            "listed again for its rates"
        );
        k.event(
            Nl80211Event::ChannelSwitch {
                if_index: 3,
                freq_mhz: 5180,
            },
            &mut t,
        );
        assert_eq!(
            t.by_ifname("wlan0").unwrap().channel(),
            Some((Source::Nl80211, 36))
        );
        assert!(k.event(
            Nl80211Event::StationDel {
                if_index: 3,
                mac: MacAddr([2, 0, 0, 0, 1, 1])
            },
            &mut t
        ));
        assert_eq!(t.by_ifname("wlan0").unwrap().associated(), 0);
        k.event(Nl80211Event::StationNew(st(3)), &mut t);
        assert!(k.event(Nl80211Event::ApStopped { if_index: 3 }, &mut t));
        assert!(t.by_ifname("wlan0").is_none());
        assert!(!k.is_ap(3));
    }

    #[test]
    fn a_station_just_joined_is_listed_until_it_has_a_signal() {
        let mut k = KernelStations::default();
        let mut t = StationTable::default();
        k.followed.insert(3, followed("wlan0", true));
        let joined = Station {
            if_index: Some(3),
            mac: [2, 0, 0, 0, 1, 1],
            // mac80211 before the first frame from the station.
            signal_dbm: Some(0),
            ..Station::default()
        };
        assert_eq!(station_report(&joined).signal_dbm, None, "0: unknown");
        k.event(Nl80211Event::StationNew(joined), &mut t);
        let listing = |st: &Station| Listing {
            if_index: 3,
            ifname: "wlan0".into(),
            info: Some(InterfaceInfo {
                if_index: 3,
                if_type: Some(iftype::AP),
                ..InterfaceInfo::default()
            }),
            radio: None,
            stations: Some(vec![*st]),
        };
        // Listed at once, then every tick while it has no signal, for
        // SETTLING_LISTINGS listings at most.
        let mut listings = 0;
        while !k.due(false).is_empty() {
            listings += 1;
            k.listed(&listing(&joined), &mut t);
            assert!(listings <= 10, "never forever");
        }
        assert_eq!(listings, usize::from(SETTLING_LISTINGS) + 1);
        // A signal ends it.
        k.event(Nl80211Event::StationNew(joined), &mut t);
        assert_eq!(k.due(false).len(), 1);
        let heard = Station {
            signal_dbm: Some(-30),
            ..joined
        };
        k.listed(&listing(&heard), &mut t);
        assert!(k.due(false).is_empty());
        assert_eq!(t.by_ifname("wlan0").unwrap().stations().count(), 1);
    }
}
