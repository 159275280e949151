//! Samples from monitor interfaces (radiotap + 802.11): which BSS a frame
//! belongs to, the SSIDs learned from beacons, and the records of a
//! sample: `sampled_header` with the 802.11 frame (protocol 15, or 16 with
//! its MPDU delimiter for an A-MPDU subframe) and `extended_80211_rx`.

use crate::sorted_map::SortedMap;

use super::{Context, Sampler};
use crate::capture::{CaptureCounts, Frame};
use crate::config::{Bss, ForeignBss};
use crate::netlink::Link;
use crate::sflow::{
    discard_reason, Extended80211Rx, Extended80211Tx, FlowRecord, HeaderProtocol, Interface,
    SampledHeader, SSID_MAX,
};
use crate::wifi::ampdu::mpdu_delimiter;
use crate::wifi::monitor::MonitorFrame;

/// What a monitor data source keeps.
#[derive(Debug, Default)]
pub struct Monitor {
    /// The BSSes it reports as ours.
    pub ours: OurBsses,
    /// Frames that could not be parsed.
    pub rejected: u64,
    /// The channel its radio operates on (nl80211), for the frames whose
    /// radiotap header names none.
    pub operating_mhz: Option<u16>,
}

impl Monitor {
    /// Samples a radiotap frame: our BSSes' (or, with `foreign` =
    /// discard, the others' as discards).
    pub fn sample(
        &mut self,
        frame: &Frame,
        counts: &CaptureCounts,
        foreign: ForeignBss,
        sampler: &mut Sampler,
        ctx: &mut Context,
    ) {
        let m = match MonitorFrame::parse_on_channel(
            frame.data,
            frame.length as usize,
            self.operating_mhz,
        ) {
            Ok(m) => m,
            Err(e) => {
                self.rejected += 1;
                crate::debug_limited!("monitor frame rejected: {e}");
                return;
            }
        };
        ctx.ssids.learn(&m);
        let Some(path) = path(&m, &self.ours, foreign, sampler.if_index) else {
            return;
        };
        let ssid = ctx.ssids.get(&m.bssid().unwrap_or([0; 6]));
        let (header, radio) = records(&m, ssid, sampler.header_bytes, ctx.scratch);
        let records = [FlowRecord::SampledHeader(header), radio];
        sampler.emit(ctx.out, ctx.now_ms, counts, path, &records);
    }
}

/// SSIDs kept (BSSID → SSID): bounded so that a flood of fake beacons
/// cannot exhaust memory. Our own BSSes are learned first in practice.
pub const MAX_SSIDS: usize = 256;

/// The BSSIDs a monitor reports as its own, with the AP interface of each
/// (the frame's input interface) when known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OurBsses(Vec<([u8; 6], Option<u32>)>);

impl OurBsses {
    /// Resolves the configured `bss` items against the links; with no item,
    /// the wireless AP interfaces among `ap_interfaces` that share the
    /// monitor's radio (`phy` gives an interface's phy name).
    pub fn resolve(
        configured: &[Bss],
        monitor: &str,
        ap_interfaces: &[String],
        links: &[Link],
        phy: impl Fn(&str) -> Option<String>,
    ) -> OurBsses {
        let by_name = |name: &str| {
            links
                .iter()
                .find(|l| l.name == name)
                .and_then(|l| l.mac.map(|m| (m, Some(l.if_index))))
        };
        let mut out = Vec::new();
        if configured.is_empty() {
            if let Some(radio) = phy(monitor) {
                for name in ap_interfaces {
                    if name != monitor && phy(name).as_deref() == Some(radio.as_str()) {
                        out.extend(by_name(name));
                    }
                }
            }
        }
        for b in configured {
            match b {
                Bss::Interface(name) => out.extend(by_name(name)),
                Bss::Bssid(mac) => {
                    // A BSSID that is one of our interfaces' MAC: that one.
                    let l = links.iter().find(|l| l.mac == Some(*mac));
                    out.push((*mac, l.map(|l| l.if_index)));
                }
            }
        }
        OurBsses(out)
    }

    /// Whether the frame belongs to one of our BSSes: its BSSID, or for
    /// frames without one (ACK, CTS...), its receiver or transmitter.
    fn find(&self, frame: &MonitorFrame) -> Option<Option<u32>> {
        let h = &frame.header;
        let candidates = [h.bssid(), h.receiver(), h.transmitter()];
        self.0
            .iter()
            .find(|(mac, _)| candidates.contains(&Some(*mac)))
            .map(|(_, index)| *index)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// SSIDs learned from beacons and probe responses.
#[derive(Debug, Default)]
pub struct SsidTable(SortedMap<[u8; 6], ([u8; SSID_MAX], u8)>);

impl SsidTable {
    pub fn learn(&mut self, frame: &MonitorFrame) {
        let (Some(bssid), Some(ssid)) = (frame.bssid(), frame.ssid()) else {
            return;
        };
        if frame.bad_fcs() || ssid.len() > SSID_MAX {
            return;
        }
        if self.0.len() >= MAX_SSIDS && !self.0.contains_key(&bssid) {
            return;
        }
        let mut bytes = [0u8; SSID_MAX];
        bytes[..ssid.len()].copy_from_slice(ssid);
        self.0.insert(bssid, (bytes, ssid.len() as u8));
    }

    pub fn get(&self, bssid: &[u8; 6]) -> &[u8] {
        self.0
            .get(bssid)
            .map_or(&[][..], |(b, len)| &b[..usize::from(*len)])
    }
}

/// Decides about one monitor frame: `None` when it is not reported (a
/// frame of another BSS, with `foreign` = ignore); otherwise its input and
/// output interfaces: a frame of our BSS that the radio received entered
/// through the BSS's interface; one it sent left through it.
pub fn path(
    frame: &MonitorFrame,
    ours: &OurBsses,
    foreign: ForeignBss,
    monitor_index: u32,
) -> Option<(Interface, Interface)> {
    match ours.find(frame) {
        Some(ap) => {
            let ap = Interface::index(ap.unwrap_or(monitor_index));
            Some(if frame.transmitted() {
                (Interface::UNKNOWN, ap)
            } else {
                (ap, Interface::UNKNOWN)
            })
        }
        None => match foreign {
            ForeignBss::Ignore => None,
            ForeignBss::Discard => Some((
                Interface::index(monitor_index),
                Interface::discarded(discard_reason::PROMISCUOUS),
            )),
        },
    }
}

/// The records of a monitor sample: the frame's header, and
/// `extended_80211_rx` for a frame the radio received or
/// `extended_80211_tx` for one it sent. `scratch` holds the header of an
/// A-MPDU subframe (its delimiter and the frame bytes).
pub fn records<'a>(
    frame: &MonitorFrame<'a>,
    ssid: &'a [u8],
    header_bytes: usize,
    scratch: &'a mut Vec<u8>,
) -> (SampledHeader<'a>, FlowRecord<'a>) {
    let mpdu = frame.header_bytes();
    let mpdu = &mpdu[..mpdu.len().min(header_bytes)];
    let header = match &frame.ampdu {
        Some(ampdu) => {
            // Reported as an A-MPDU subframe: protocol 16 starts with the
            // MPDU delimiter, rebuilt from what radiotap says.
            scratch.clear();
            scratch.extend_from_slice(&mpdu_delimiter(frame.frame_length(), ampdu));
            scratch.extend_from_slice(&mpdu[..mpdu.len().min(header_bytes.saturating_sub(4))]);
            SampledHeader {
                protocol: HeaderProtocol::IEEE80211_AMPDU,
                frame_length: frame.frame_length().saturating_add(4),
                stripped: frame.stripped(),
                header: &scratch[..],
            }
        }
        None => SampledHeader {
            protocol: HeaderProtocol::IEEE80211,
            frame_length: frame.frame_length(),
            stripped: frame.stripped(),
            header: mpdu,
        },
    };
    let bssid = frame.bssid().unwrap_or([0; 6]);
    let radio = if frame.transmitted() {
        FlowRecord::Extended80211Tx(Extended80211Tx {
            ssid,
            bssid,
            version: frame.version,
            transmissions: frame.transmissions(),
            packet_duration: frame.packet_duration(),
            // The failed attempts' rates are not reported.
            retrans_duration: 0,
            channel: frame.channel,
            speed: frame.speed(),
            power: frame.radiotap.tx_power_dbm.map_or(0, |dbm| {
                crate::counters::dot11::channel_power_mw(dbm.max(0) as u32 * 100)
            }),
        })
    } else {
        FlowRecord::Extended80211Rx(Extended80211Rx {
            ssid,
            bssid,
            version: frame.version,
            channel: frame.channel,
            speed: frame.speed(),
            rsni: frame.rsni,
            rcpi: frame.rcpi,
            packet_duration: frame.packet_duration(),
        })
    };
    (header, radio)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A beacon of BSSID `bssid` with SSID "lab", behind an empty radiotap.
    fn beacon(bssid: [u8; 6], ssid: &[u8]) -> Vec<u8> {
        let mut f = vec![0, 0, 8, 0, 0, 0, 0, 0];
        f.extend_from_slice(&[0x80, 0x00, 0, 0]); // beacon, duration
        f.extend_from_slice(&[0xff; 6]); // addr1: broadcast
        f.extend_from_slice(&bssid); // addr2: transmitter
        f.extend_from_slice(&bssid); // addr3: BSSID
        f.extend_from_slice(&[0x10, 0x00]); // sequence
        f.extend_from_slice(&[0; 8]); // timestamp
        f.extend_from_slice(&[0x64, 0x00, 0x01, 0x04]); // interval, capabilities
        f.push(0);
        f.push(ssid.len() as u8);
        f.extend_from_slice(ssid);
        f
    }

    fn link(name: &str, if_index: u32, mac: [u8; 6]) -> Link {
        Link {
            name: name.into(),
            if_index,
            mac: Some(mac),
            ..Link::default()
        }
    }

    #[test]
    fn our_bsses_and_foreign_frames() {
        const OURS: [u8; 6] = [0x02, 0, 0, 0, 0, 5];
        const OTHER: [u8; 6] = [0x02, 0, 0, 0, 0, 9];
        let links = [
            link("wlan0", 5, OURS),
            link("mon0", 7, [0x02, 0, 0, 0, 0, 7]),
        ];
        // By interface name, and by the radio they share.
        let named = OurBsses::resolve(
            &[Bss::Interface("wlan0".into())],
            "mon0",
            &[],
            &links,
            |_| None,
        );
        let phy = |n: &str| (n == "wlan0" || n == "mon0").then(|| "phy0".to_string());
        let by_radio = OurBsses::resolve(&[], "mon0", &["wlan0".into()], &links, phy);
        assert_eq!(named, by_radio);
        assert!(OurBsses::resolve(&[], "mon0", &["wlan0".into()], &links, |_| None).is_empty());

        let ours = beacon(OURS, b"lab");
        let other = beacon(OTHER, b"cafe");
        let ours = MonitorFrame::parse(&ours).unwrap();
        let other = MonitorFrame::parse(&other).unwrap();
        // Our frames come in through the AP interface of their BSS.
        assert_eq!(
            path(&ours, &named, ForeignBss::Ignore, 7),
            Some((Interface::index(5), Interface::UNKNOWN))
        );
        assert_eq!(path(&other, &named, ForeignBss::Ignore, 7), None);
        assert_eq!(
            path(&other, &named, ForeignBss::Discard, 7),
            Some((Interface::index(7), Interface::discarded(263)))
        );
        // SSIDs are learned from beacons.
        let mut ssids = SsidTable::default();
        ssids.learn(&ours);
        ssids.learn(&other);
        assert_eq!(ssids.get(&OURS), b"lab");
        assert_eq!(ssids.get(&OTHER), b"cafe");
        assert_eq!(ssids.get(&[1, 2, 3, 4, 5, 6]), b"");
        let mut scratch = Vec::new();
        let (h, rx) = records(&ours, ssids.get(&OURS), 128, &mut scratch);
        assert_eq!(h.protocol, HeaderProtocol::IEEE80211);
        let FlowRecord::Extended80211Rx(rx) = rx else {
            panic!("a received frame: {rx:?}");
        };
        assert_eq!(rx.ssid, b"lab");
        assert_eq!(rx.bssid, OURS);

        // The same beacon as mac80211 reports it sent: radiotap with the
        // rate (24 Mb/s), TX flags and retries, no channel. On a radio
        // operating on 2437 MHz: channel 6, ERP (g), the signal extension
        // in its air time; transmitted, so it left through wlan0.
        let mut sent = vec![0u8, 0, 14, 0];
        // present: rate (2), TX flags (15), data retries (17)
        sent.extend_from_slice(&((1u32 << 2) | (1 << 15) | (1 << 17)).to_le_bytes());
        sent.extend_from_slice(&[48, 0]); // rate, pad to align TX flags
        sent.extend_from_slice(&[0x00, 0x00]); // TX flags
        sent.extend_from_slice(&[2, 0]); // data retries, pad
        sent.extend_from_slice(&beacon(OURS, b"lab")[8..]);
        let tx = MonitorFrame::parse_on_channel(&sent, sent.len(), Some(2437)).unwrap();
        assert!(tx.transmitted() && !ours.transmitted());
        assert_eq!(
            path(&tx, &named, ForeignBss::Ignore, 7),
            Some((Interface::UNKNOWN, Interface::index(5)))
        );
        let (_, radio) = records(&tx, ssids.get(&OURS), 128, &mut scratch);
        let FlowRecord::Extended80211Tx(tx_record) = radio else {
            panic!("a transmitted frame: {radio:?}");
        };
        assert_eq!(
            (
                tx_record.channel,
                tx_record.version,
                tx_record.transmissions
            ),
            (6, crate::sflow::Ieee80211Version::G, 3)
        );
        assert_eq!(tx_record.speed, 24_000_000);
        let without = MonitorFrame::parse(&sent).unwrap();
        assert_eq!(without.channel, 0, "no channel known without the radio's");
        assert_eq!(
            tx_record.packet_duration,
            without.packet_duration() + 6,
            "2.4 GHz OFDM: 6 µs of signal extension"
        );
    }

    #[test]
    fn ssid_table_is_bounded() {
        let mut t = SsidTable::default();
        for i in 0..(MAX_SSIDS as u32 + 10) {
            let b = i.to_be_bytes();
            let f = beacon([0x02, 0x10, b[0], b[1], b[2], b[3]], b"x");
            t.learn(&MonitorFrame::parse(&f).unwrap());
        }
        assert_eq!(t.0.len(), MAX_SSIDS);
    }
}
