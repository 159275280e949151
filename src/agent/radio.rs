//! The radio context of frames sampled on an access point's interface:
//! hostapd knows the station a frame comes from or goes to, its signal and
//! rates, and the BSS's SSID, BSSID and channel.

use crate::capture::Direction;
use crate::hostapd::{Bss, Station};
use crate::sflow::{Extended80211Rx, Extended80211Tx, FlowRecord, Ieee80211Version};
use crate::wifi::{channel_number, rcpi, rsni};

/// The PHY a station uses: HT is 802.11n; VHT and HE have no code in the
/// sFlow 802.11 structures (unknown); legacy by band (5 GHz a, 2.4 GHz g).
fn version(station: &Station, freq: Option<u32>) -> Ieee80211Version {
    if station.vht || station.he {
        Ieee80211Version::UNKNOWN
    } else if station.ht {
        Ieee80211Version::N
    } else {
        match freq {
            Some(2400..=2500) => Ieee80211Version::G,
            Some(4900..=7125) => Ieee80211Version::A,
            _ => Ieee80211Version::UNKNOWN,
        }
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
    let channel = bss
        .channel
        .or_else(|| bss.freq.map(channel_number))
        .unwrap_or(0);
    let bssid = bss.bssid.unwrap_or([0; 6]);
    match direction {
        Direction::Ingress => {
            let st = bss.stations.get(source)?;
            Some(FlowRecord::Extended80211Rx(Extended80211Rx {
                ssid: &bss.ssid,
                bssid,
                version: version(st, bss.freq),
                channel,
                speed: st.rx_rate_kbps.map_or(0, |k| u64::from(k) * 1000),
                // hostapd reports no noise: the RSNI is not available.
                rsni: rsni(st.signal, None),
                rcpi: rcpi(st.signal),
                packet_duration: 0,
            }))
        }
        Direction::Egress => {
            let st = bss.stations.get(destination)?;
            Some(FlowRecord::Extended80211Tx(Extended80211Tx {
                ssid: &bss.ssid,
                bssid,
                version: version(st, bss.freq),
                // Not known per frame.
                transmissions: 0,
                packet_duration: 0,
                retrans_duration: 0,
                channel,
                speed: st.tx_rate_kbps.map_or(0, |k| u64::from(k) * 1000),
                power: power_mw,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostapd::Hostapd;
    use crate::ubus::blob::BlobBuf;

    #[test]
    fn records_for_stations_only() {
        let mut h = Hostapd::default();
        h.add_bss(1, "wlan0");
        let mut b = BlobBuf::new();
        b.string("address", "02:00:00:00:00:05");
        b.int32("signal", -60);
        h.notification(1, "assoc", b.attrs());
        let mut s = BlobBuf::new();
        s.string("ssid", "lab");
        s.string("bssid", "02:00:00:00:00:01");
        s.int32("freq", 5180);
        s.int32("channel", 36);
        h.status(1, s.attrs());
        let bss = h.by_ifname("wlan0").unwrap();
        let sta = [0x02, 0, 0, 0, 0, 5];
        let other = [0x02, 0, 0, 0, 0, 9];
        let Some(FlowRecord::Extended80211Rx(rx)) =
            record(bss, Direction::Ingress, &other, &sta, 0)
        else {
            panic!("rx record");
        };
        assert_eq!((rx.ssid, rx.channel, rx.rcpi), (&b"lab"[..], 36, 100));
        assert_eq!(rx.version, Ieee80211Version::A);
        let Some(FlowRecord::Extended80211Tx(tx)) =
            record(bss, Direction::Egress, &sta, &other, 20)
        else {
            panic!("tx record");
        };
        assert_eq!((tx.power, tx.transmissions), (20, 0));
        assert!(record(bss, Direction::Ingress, &sta, &other, 0).is_none());
    }
}
