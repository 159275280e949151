//! What one flow sample says about the traffic and the station it belongs
//! to: its direction, its BSS, and (when the frame is a station's) the
//! station's MAC address, signal and bit rate.
//!
//! Two kinds of samples carry 802.11 context:
//!
//! - **AP-interface samples** (`sampled_header` protocol 1, Ethernet, with
//!   `extended_80211_rx` or `extended_80211_tx`): an agent adds the rx
//!   record to frames it received from an associated station and the tx
//!   record to frames it sent to one. The station is the Ethernet source of
//!   an rx frame and the destination of a tx frame; the record names the
//!   BSS, the signal (rx: RCPI) and the PHY rate.
//! - **Monitor samples** (`sampled_header` protocol 15, an 802.11 MAC
//!   frame, or 16, the same after a 4-byte A-MPDU delimiter, with
//!   `extended_80211_rx`: the radio context of the frame as heard). The
//!   station and its BSS come from the MAC header's addresses: a data frame
//!   to the DS (To DS set, From DS clear) was sent by the station (address
//!   2) to its BSS (address 1); a data frame from the DS (From DS only) was
//!   sent by the BSS (address 2) to the station (address 1); an
//!   (re)association request was sent by the station (address 2) to the
//!   BSS it joins (address 3). Other frames (beacons, probes, control
//!   frames, 4-address frames) say nothing about membership and are not
//!   sightings. The signal of a monitor sample is the transmitter's, so only
//!   frames sent by the station give the station's signal.
//!
//! Nothing here allocates; every input is handled (short or malformed
//! headers give no sighting).

use crate::sflow::{
    Extended80211Rx, Extended80211Tx, FlowRecord, FlowSample, HeaderProtocol, SampledHeader,
};
use crate::wifi::ieee80211::{subtype, FrameType, MacHeader};

/// A MAC address.
pub type Mac = [u8; 6];

/// Which way a sampled frame crossed its data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Received on the interface: on an AP interface, sent by a station
    /// (uplink); on a monitor interface, every frame heard.
    Rx,
    /// Transmitted on the interface: on an AP interface, sent to a station
    /// (downlink).
    Tx,
    /// Neither the 802.11 records nor the input/output interfaces say.
    Unknown,
}

impl Direction {
    pub fn label(self) -> &'static str {
        match self {
            Direction::Rx => "rx",
            Direction::Tx => "tx",
            Direction::Unknown => "unknown",
        }
    }
}

/// The records of a flow sample this module reads, found in one pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlowView<'a> {
    pub header: Option<SampledHeader<'a>>,
    pub rx: Option<Extended80211Rx<'a>>,
    pub tx: Option<Extended80211Tx<'a>>,
    /// A record did not decode (the ones before it are kept).
    pub error: bool,
}

impl<'a> FlowView<'a> {
    pub fn of(sample: &FlowSample<'a>) -> FlowView<'a> {
        let mut view = FlowView::default();
        for record in sample.records.iter() {
            match record {
                Ok(FlowRecord::SampledHeader(h)) => view.header = view.header.or(Some(h)),
                Ok(FlowRecord::Extended80211Rx(r)) => view.rx = view.rx.or(Some(r)),
                Ok(FlowRecord::Extended80211Tx(t)) => view.tx = view.tx.or(Some(t)),
                Ok(_) => {}
                Err(_) => {
                    view.error = true;
                    break;
                }
            }
        }
        view
    }

    /// The frame's direction on the data source `if_index`: from the
    /// 802.11 records first (rx/tx), then from the sample's input and
    /// output interfaces.
    pub fn direction(&self, sample: &FlowSample, if_index: u32) -> Direction {
        if self.rx.is_some() {
            Direction::Rx
        } else if self.tx.is_some() {
            Direction::Tx
        } else if sample.input.format == 0 && sample.input.value == if_index {
            Direction::Rx
        } else if sample.output.format == 0 && sample.output.value == if_index {
            Direction::Tx
        } else {
            Direction::Unknown
        }
    }

    /// The BSSID and SSID the 802.11 record names, if any.
    pub fn bss(&self) -> Option<(Mac, &'a [u8])> {
        match (self.rx, self.tx) {
            (Some(r), _) => Some((r.bssid, r.ssid)),
            (None, Some(t)) => Some((t.bssid, t.ssid)),
            _ => None,
        }
    }

    /// Bytes of the frame on the medium, 0 without a `sampled_header`.
    pub fn frame_length(&self) -> u32 {
        self.header.map_or(0, |h| h.frame_length)
    }
}

/// A station seen in a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sighting<'a> {
    pub station: Mac,
    pub bssid: Mac,
    /// From the 802.11 record (empty when it names another BSS).
    pub ssid: &'a [u8],
    /// Rx: the station sent the frame; Tx: it was sent to the station.
    pub direction: Direction,
    /// The station's signal in dBm, from the RCPI of a frame it sent.
    pub signal_dbm: Option<i32>,
    /// The PHY rate of the frame in bit/s (rx: the station's transmit
    /// rate; tx: the rate used to reach it).
    pub bitrate: Option<u64>,
    /// Seen by a monitor interface (not by the AP serving it).
    pub monitor: bool,
}

/// dBm from an RCPI (IEEE 802.11-2020: RCPI = 2 × (P + 110), 255 = not
/// available, 221..=254 reserved).
pub fn rcpi_dbm(rcpi: u32) -> Option<i32> {
    (rcpi <= 220).then(|| rcpi as i32 / 2 - 110)
}

fn unicast(mac: &Mac) -> bool {
    mac[0] & 1 == 0 && *mac != [0; 6]
}

fn nonzero(v: u64) -> Option<u64> {
    (v != 0).then_some(v)
}

impl<'a> FlowView<'a> {
    /// The station this sample shows, if it shows one.
    pub fn sighting(&self) -> Option<Sighting<'a>> {
        let header = self.header?;
        match header.protocol {
            HeaderProtocol::ETHERNET => self.ap_sighting(header.header),
            HeaderProtocol::IEEE80211 => self.monitor_sighting(header.header),
            HeaderProtocol::IEEE80211_AMPDU => self.monitor_sighting(header.header.get(4..)?),
            _ => None,
        }
    }

    fn ap_sighting(&self, ethernet: &[u8]) -> Option<Sighting<'a>> {
        let dst: Mac = ethernet.get(0..6)?.try_into().ok()?;
        let src: Mac = ethernet.get(6..12)?.try_into().ok()?;
        let sighting = if let Some(rx) = self.rx {
            Sighting {
                station: src,
                bssid: rx.bssid,
                ssid: rx.ssid,
                direction: Direction::Rx,
                signal_dbm: rcpi_dbm(rx.rcpi),
                bitrate: nonzero(rx.speed),
                monitor: false,
            }
        } else if let Some(tx) = self.tx {
            Sighting {
                station: dst,
                bssid: tx.bssid,
                ssid: tx.ssid,
                direction: Direction::Tx,
                signal_dbm: None,
                bitrate: nonzero(tx.speed),
                monitor: false,
            }
        } else {
            return None;
        };
        unicast(&sighting.station).then_some(sighting)
    }

    fn monitor_sighting(&self, frame: &[u8]) -> Option<Sighting<'a>> {
        let rx = self.rx?;
        let h = MacHeader::parse(frame).ok()?;
        let fc = h.frame_control;
        let (station, bssid, direction) = match h.frame_type() {
            FrameType::Data => match (fc.to_ds(), fc.from_ds()) {
                (true, false) => (h.addr2?, h.addr1, Direction::Rx),
                (false, true) => (h.addr1, h.addr2?, Direction::Tx),
                _ => return None,
            },
            FrameType::Management
                if matches!(
                    h.subtype(),
                    subtype::mgmt::ASSOC_REQ | subtype::mgmt::REASSOC_REQ
                ) =>
            {
                (h.addr2?, h.addr3?, Direction::Rx)
            }
            _ => return None,
        };
        let (station, bssid) = (station.0, bssid.0);
        if !unicast(&station) || !unicast(&bssid) || station == bssid {
            return None;
        }
        Some(Sighting {
            station,
            bssid,
            // The agent's record names the BSS it learned for the frame;
            // its SSID only belongs to this BSSID when the two agree.
            ssid: if rx.bssid == bssid { rx.ssid } else { &[] },
            direction,
            signal_dbm: match direction {
                Direction::Rx => rcpi_dbm(rx.rcpi),
                _ => None,
            },
            bitrate: nonzero(rx.speed),
            monitor: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ethernet_header, flow_sample, rx_record, AP, STA};
    use super::*;
    use crate::sflow::*;

    fn sample<'a>(records: &'a [FlowRecord<'a>]) -> FlowSample<'a> {
        flow_sample(3, 1, 10, 10, records)
    }

    /// The records of a monitor sample of `frame` (an 802.11 MAC header),
    /// heard in AP's BSS at RCPI 100.
    fn monitor_records(frame: &[u8]) -> [FlowRecord<'_>; 2] {
        [
            FlowRecord::SampledHeader(SampledHeader {
                protocol: HeaderProtocol::IEEE80211,
                frame_length: 100,
                stripped: 4,
                header: frame,
            }),
            rx_record(AP, 100),
        ]
    }

    #[test]
    fn ap_rx_names_the_ethernet_source() {
        let records = [ethernet_header(AP, STA, 100), rx_record(AP, 2 * (110 - 57))];
        let s = sample(&records);
        let v = FlowView::of(&s);
        assert_eq!(v.direction(&s, 3), Direction::Rx);
        let x = v.sighting().unwrap();
        assert_eq!((x.station, x.bssid, x.ssid), (STA, AP, &b"lab"[..]));
        assert_eq!((x.signal_dbm, x.bitrate), (Some(-57), Some(144_400_000)));
        assert!(!x.monitor);
    }

    #[test]
    fn monitor_data_frames_name_station_and_bss() {
        // To DS: addr1 = BSSID, addr2 = station, addr3 = destination.
        let mut frame = [0u8; 24];
        frame[0] = 0x08;
        frame[1] = 0x01;
        frame[4..10].copy_from_slice(&AP);
        frame[10..16].copy_from_slice(&STA);
        frame[16..22].copy_from_slice(&[0x02, 9, 9, 9, 9, 9]);
        let records = monitor_records(&frame);
        let s = sample(&records);
        let x = FlowView::of(&s).sighting().unwrap();
        assert_eq!((x.station, x.bssid, x.direction), (STA, AP, Direction::Rx));
        assert_eq!(x.signal_dbm, Some(-60));
        assert!(x.monitor);
        // From DS to a group address: no station.
        frame[1] = 0x02;
        frame[4..10].copy_from_slice(&[0xff; 6]);
        frame[10..16].copy_from_slice(&AP);
        let records = monitor_records(&frame);
        assert_eq!(FlowView::of(&sample(&records)).sighting(), None);
        // Beacons are not sightings; short frames neither.
        frame[0] = 0x80;
        frame[1] = 0;
        for header in [&frame[..], &frame[..7], &[][..]] {
            assert_eq!(
                FlowView::of(&sample(&monitor_records(header))).sighting(),
                None
            );
        }
    }

    #[test]
    fn rcpi_maps_to_dbm() {
        assert_eq!(rcpi_dbm(0), Some(-110));
        assert_eq!(rcpi_dbm(106), Some(-57));
        assert_eq!(rcpi_dbm(220), Some(0));
        assert_eq!(rcpi_dbm(255), None);
    }
}
