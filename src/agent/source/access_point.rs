//! Samples of an access point's interface: what a wired interface's carry
//! (the frame's Ethernet header, as the 802.11 stack hands it over, and its
//! path), with the radio context of the station the frame comes from or
//! goes to: the station table knows its signal and rates, and the BSS's
//! SSID, BSSID and channel, from whichever sources report them (see
//! `stations`).

use super::wired::{ethernet_addresses, sampled_header};
use super::{Context, Sampler};
use crate::capture::{CaptureCounts, Direction, Frame};
use crate::counters::dot11::Dot11Counters;
use crate::mac::MacAddr;
use crate::sflow::{
    Extended80211Rx, Extended80211Tx, FlowRecord, HeaderProtocol, Ieee80211Version, Interface,
};
use crate::stations::{Bss, Station, StationPhy};
use crate::wifi::phy::is_dsss_bps;
use crate::wifi::{rcpi, rsni};

/// What an access point's data source keeps.
#[derive(Debug)]
pub struct AccessPoint {
    /// Its 802.11 counters, kept monotonic.
    pub dot11: Dot11Counters,
    /// Its transmit power, mW (0 = unknown).
    pub tx_power_mw: u32,
    /// Where its radio's utilization came from at the last poll
    /// ("survey", "hostapd", or "unavailable"), when it reports it.
    pub utilization: Option<&'static str>,
    /// Its radio's utilization as last sent.
    pub radio: Option<crate::sflow::RadioUtilization>,
}

/// Samples a frame of an access point's interface.
pub fn sample(
    frame: &Frame,
    counts: &CaptureCounts,
    bss: Option<&Bss>,
    power_mw: u32,
    sampler: &mut Sampler,
    ctx: &mut Context,
) {
    let Some(header) = sampled_header(frame) else {
        return;
    };
    let Some((dst, src)) =
        ethernet_addresses(frame.data).filter(|_| header.protocol == HeaderProtocol::ETHERNET)
    else {
        let path = super::super::path::layer3(sampler.if_index, frame.direction());
        let records = [FlowRecord::SampledHeader(header)];
        sampler.emit(ctx.out, ctx.now_ms, counts, path, &records);
        return;
    };
    let header = FlowRecord::SampledHeader(header);
    if is_layer2_update(frame.data) {
        // The Layer-2 Update of a station that just associated: made by
        // the access point on its behalf (mac80211 injects it as received
        // on this interface, hostapd may send its own) so that bridges
        // learn where the station is; it never crossed the air. It is
        // told apart by its content only: the station table may not know
        // the station yet, the frame comes at the moment it associates.
        let path = (Interface::INTERNAL, Interface::index(sampler.if_index));
        sampler.emit(ctx.out, ctx.now_ms, counts, path, &[header]);
        return;
    }
    let mut path = ctx
        .topology
        .path(sampler.if_index, frame.direction(), &dst, &src);
    if frame.direction() == Direction::Egress {
        if let Some(input) = egress_input(bss, sampler.if_index, &src) {
            path.0 = input;
        }
    }
    match bss.and_then(|b| record(b, frame.direction(), &dst, &src, power_mw)) {
        Some(radio) => sampler.emit(ctx.out, ctx.now_ms, counts, path, &[header, radio]),
        None => sampler.emit(ctx.out, ctx.now_ms, counts, path, &[header]),
    }
}

/// Where a frame leaving the access point's interface came from, when the
/// station table knows better than the bridge (or there is no bridge): a
/// frame from a station of this BSS to another one, relayed by the 802.11
/// stack without going through a bridge (`ap_isolate` off), entered and
/// left through this interface ("packets relayed by the wireless interface
/// have both source and destination ifIndex = the wireless interface").
///
/// `None`: the bridge's forwarding database said, or nothing is known.
pub fn egress_input(bss: Option<&Bss>, if_index: u32, source: &[u8; 6]) -> Option<Interface> {
    bss?.station(&MacAddr(*source))?;
    Some(Interface::index(if_index))
}

/// An IEEE 802.2 XID frame as mac80211 and hostapd send for a station that
/// associated (IEEE 802.11F "Layer 2 Update"): broadcast, an 802.3 length
/// field, LLC null DSAP, SSAP 0x01, control XID (0xAF, poll/final bit
/// either way).
pub fn is_layer2_update(frame: &[u8]) -> bool {
    let Some(h) = frame.get(..17) else {
        return false;
    };
    let length = u16::from_be_bytes([h[12], h[13]]);
    h[..6] == [0xff; 6] && length <= 1500 && h[14] == 0x00 && h[15] == 0x01 && h[16] & 0xef == 0xaf
}

/// The sFlow version of a frame to or from a station at `speed_bps` (the
/// station's last rate in that direction, 0 when not known): HT is
/// 802.11n; VHT, HE and EHT have no code in the sFlow 802.11 structures
/// (unknown); a legacy rate is 802.11b when it is a DSSS one
/// ([`is_dsss_bps`]: a g station sends its management frames, and often
/// its first data, at 1 Mbit/s), else by band (5 GHz a, 2.4 GHz g).
fn version(station: &Station, freq: Option<u32>, speed_bps: u64) -> Ieee80211Version {
    match station.phy() {
        Some(StationPhy::Ht) => Ieee80211Version::N,
        Some(StationPhy::Vht | StationPhy::He | StationPhy::Eht) => Ieee80211Version::UNKNOWN,
        Some(StationPhy::Legacy) | None if is_dsss_bps(speed_bps) => Ieee80211Version::B,
        Some(StationPhy::Legacy) | None => match freq {
            Some(2400..=2500) => Ieee80211Version::G,
            Some(4900..=7125) => Ieee80211Version::A,
            _ => Ieee80211Version::UNKNOWN,
        },
    }
}

/// `extended_80211_rx` for a frame received from a station of `bss`, or
/// `extended_80211_tx` for one sent to a station; `None` when neither end
/// is a known station.
pub fn record<'a>(
    bss: &'a Bss,
    direction: Direction,
    destination: &[u8; 6],
    source: &[u8; 6],
    power_mw: u32,
) -> Option<FlowRecord<'a>> {
    let channel = bss.channel().map_or(0, |(_, c)| c);
    let freq = bss.freq_mhz().map(|(_, f)| f);
    let bssid = bss.bssid().map_or([0; 6], |(_, b)| b.0);
    let ssid = bss.ssid().map_or(&[][..], |(_, s)| s);
    match direction {
        Direction::Ingress => {
            let st = bss.station(&MacAddr(*source))?;
            let signal = st.signal_dbm();
            let speed = st.rx_rate_kbps().map_or(0, |k| u64::from(k) * 1000);
            Some(FlowRecord::Extended80211Rx(Extended80211Rx {
                ssid,
                bssid,
                version: version(st, freq, speed),
                channel,
                speed,
                // No source reports the noise per station: the RSNI is not
                // available.
                rsni: rsni(signal, None),
                rcpi: rcpi(signal),
                packet_duration: 0,
            }))
        }
        Direction::Egress => {
            let st = bss.station(&MacAddr(*destination))?;
            let speed = st.tx_rate_kbps().map_or(0, |k| u64::from(k) * 1000);
            Some(FlowRecord::Extended80211Tx(Extended80211Tx {
                ssid,
                bssid,
                version: version(st, freq, speed),
                // Not known per frame.
                transmissions: 0,
                packet_duration: 0,
                retrans_duration: 0,
                channel,
                speed,
                power: power_mw,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stations::{BssReport, Source, StationReport, StationTable, Update};

    /// `report` of station `mac` on wlan0, associated, from `source`.
    fn associated(t: &mut StationTable, source: Source, mac: [u8; 6], report: StationReport) {
        t.apply(
            source,
            Update::Station {
                ifname: "wlan0",
                mac: MacAddr(mac),
                report: StationReport {
                    associated: Some(true),
                    ..report
                },
            },
        );
    }

    #[test]
    fn records_for_stations_only() {
        let mut t = StationTable::default();
        let report = StationReport {
            signal_dbm: Some(-60),
            ..StationReport::default()
        };
        associated(&mut t, Source::Ubus, [0x02, 0, 0, 0, 0, 5], report);
        t.apply(
            Source::Ubus,
            Update::Bss {
                ifname: "wlan0",
                report: BssReport {
                    ssid: Some(b"lab".to_vec()),
                    bssid: MacAddr::parse("02:00:00:00:00:01"),
                    freq_mhz: Some(5180),
                    channel: Some(36),
                    ..BssReport::default()
                },
            },
        );
        let bss = t.by_ifname("wlan0").unwrap();
        let sta = [0x02, 0, 0, 0, 0, 5];
        let other = [0x02, 0, 0, 0, 0, 9];
        let Some(FlowRecord::Extended80211Rx(rx)) =
            record(bss, Direction::Ingress, &other, &sta, 0)
        else {
            panic!("rx record");
        };
        assert_eq!((rx.ssid, rx.channel, rx.rcpi), (&b"lab"[..], 36, 100));
        assert_eq!(rx.version, Ieee80211Version::A);
        assert_eq!(rx.bssid, [0x02, 0, 0, 0, 0, 1]);
        let Some(FlowRecord::Extended80211Tx(tx)) =
            record(bss, Direction::Egress, &sta, &other, 20)
        else {
            panic!("tx record");
        };
        assert_eq!((tx.power, tx.transmissions), (20, 0));
        assert!(record(bss, Direction::Ingress, &sta, &other, 0).is_none());
    }

    #[test]
    fn legacy_versions_follow_the_rate_of_each_direction() {
        let mut t = StationTable::default();
        let sta = [0x02, 0, 0, 0, 0, 5];
        let other = [0x02, 0, 0, 0, 0, 9];
        let bss_at = |t: &mut StationTable, freq_mhz| {
            t.apply(
                Source::Nl80211,
                Update::Bss {
                    ifname: "wlan0",
                    report: BssReport {
                        freq_mhz: Some(freq_mhz),
                        ..BssReport::default()
                    },
                },
            )
        };
        let station = |t: &mut StationTable, rx, tx| {
            let report = StationReport {
                rx_rate_kbps: rx,
                tx_rate_kbps: tx,
                phy: Some(StationPhy::Legacy),
                ..StationReport::default()
            };
            associated(t, Source::Nl80211, sta, report)
        };
        let versions = |t: &StationTable| {
            let bss = t.by_ifname("wlan0").unwrap();
            let Some(FlowRecord::Extended80211Rx(rx)) =
                record(bss, Direction::Ingress, &other, &sta, 0)
            else {
                panic!("rx record");
            };
            let Some(FlowRecord::Extended80211Tx(tx)) =
                record(bss, Direction::Egress, &sta, &other, 0)
            else {
                panic!("tx record");
            };
            (rx.version, rx.speed, tx.version, tx.speed)
        };
        bss_at(&mut t, 2412);
        // A g station heard at 1 Mbit/s, sent to at 54: b one way, g the
        // other.
        station(&mut t, Some(1_000), Some(54_000));
        assert_eq!(
            versions(&t),
            (
                Ieee80211Version::B,
                1_000_000,
                Ieee80211Version::G,
                54_000_000
            )
        );
        station(&mut t, Some(5_500), Some(11_000));
        assert_eq!(
            versions(&t),
            (
                Ieee80211Version::B,
                5_500_000,
                Ieee80211Version::B,
                11_000_000
            )
        );
        // No rate yet: the band's OFDM PHY.
        let mut fresh = StationTable::default();
        bss_at(&mut fresh, 2437);
        station(&mut fresh, None, None);
        assert_eq!(
            versions(&fresh),
            (Ieee80211Version::G, 0, Ieee80211Version::G, 0)
        );
        let mut five = StationTable::default();
        bss_at(&mut five, 5180);
        station(&mut five, Some(6_000), None);
        assert_eq!(
            versions(&five),
            (Ieee80211Version::A, 6_000_000, Ieee80211Version::A, 0)
        );
    }

    #[test]
    fn frames_relayed_between_stations_and_layer2_updates() {
        let mut t = StationTable::default();
        let sta = [0x02, 0, 0, 0, 0, 5];
        associated(&mut t, Source::Nl80211, sta, StationReport::default());
        let bss = t.by_ifname("wlan0");
        // From a station of this BSS: entered through this interface.
        let mut unicast = vec![0x02, 0, 0, 0, 0, 6];
        unicast.extend_from_slice(&sta);
        unicast.extend_from_slice(&[0x08, 0x00, 0x45]);
        assert_eq!(egress_input(bss, 3, &sta), Some(Interface::index(3)));
        // The Layer-2 Update for it (made by the access point).
        let mut xid = vec![0xff; 6];
        xid.extend_from_slice(&sta);
        xid.extend_from_slice(&[0x00, 0x06, 0x00, 0x01, 0xaf, 0x81, 0x01, 0x00]);
        assert!(is_layer2_update(&xid));
        // Not a station of ours: the bridge decides.
        assert_eq!(egress_input(bss, 3, &[0x02, 0, 0, 0, 0, 7]), None);
        assert_eq!(egress_input(None, 3, &sta), None);
        assert!(!is_layer2_update(&unicast));
    }
}
