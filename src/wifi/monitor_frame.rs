//! One call per sampled frame of a monitor interface (radiotap header,
//! 802.11 frame, FCS if the driver keeps it): everything the sFlow
//! `sampled_header` (protocol 15) and `extended_80211_rx` records need,
//! borrowed from the frame, without allocating.

use super::error::{Error, ErrorKind, Result};
use super::ieee80211::{Elements, MacHeader};
use super::phy::{self, Mode, Phy, PhyType};
use super::radiotap::{Ampdu, Radiotap};
use crate::mac::MacAddr;
use crate::sflow::Ieee80211Version;

/// Length of the 802.11 FCS.
pub const FCS_LEN: usize = 4;
/// Length of the MPDU delimiter before each frame of an A-MPDU.
pub const AMPDU_DELIMITER_LEN: usize = 4;

/// What a monitor frame says, for one sFlow flow sample.
///
/// Lengths: the sampled header should carry [`header_bytes`] (the 802.11
/// frame as captured, never its FCS) with `frame_length` =
/// [`frame_length`] (the MPDU on the air, FCS included) and `stripped` =
/// [`stripped`] (the 4 FCS bytes, removed by us or already by the driver,
/// as hsflowd reports Ethernet frames whose FCS the NIC dropped).
///
/// Air time of A-MPDU subframes: `packet_duration_us` is the air time of
/// a PPDU carrying this MPDU alone (with its 4-byte delimiter): preamble
/// and the data symbols of its bytes. The subframes of one aggregate
/// share one preamble, so summing it over every subframe overcounts; the
/// A-MPDU reference number ([`ampdu`](Self::ampdu)) lets a collector
/// group them.
///
/// [`header_bytes`]: MonitorFrame::header_bytes
/// [`frame_length`]: MonitorFrame::frame_length
/// [`stripped`]: MonitorFrame::stripped
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorFrame<'a> {
    pub radiotap: Radiotap,
    /// The 802.11 frame after the radiotap header, as captured, without
    /// its FCS.
    pub mpdu: &'a [u8],
    /// FCS bytes at the end of the captured data (0 when the driver
    /// dropped the FCS or the capture was cut before it).
    pub fcs_captured: usize,
    /// Length of the MPDU on the air, FCS included (from the wire length,
    /// so a capture cut short does not shorten it).
    pub frame_length: u32,
    pub header: MacHeader,
    /// Where the frame body starts in `mpdu`: after the MAC header and,
    /// when radiotap says so, the padding to a multiple of 4 bytes.
    pub body_offset: usize,
    pub phy_type: Option<PhyType>,
    pub phy: Option<Phy>,
    pub frequency_mhz: Option<u16>,
    /// Channel number, 0 = unknown.
    pub channel: u32,
    pub speed_bps: Option<u64>,
    pub version: Ieee80211Version,
    /// RCPI, 255 = unknown.
    pub rcpi: u32,
    /// RSNI, 255 = unknown.
    pub rsni: u32,
    pub packet_duration_us: Option<u32>,
    /// Set when the frame was received in an A-MPDU (radiotap A-MPDU
    /// status present).
    pub ampdu: Option<Ampdu>,
}

impl<'a> MonitorFrame<'a> {
    /// Parses a whole frame as read from a monitor interface.
    pub fn parse(data: &'a [u8]) -> Result<MonitorFrame<'a>> {
        MonitorFrame::parse_with_wire_len(data, data.len())
    }

    /// Parses the first bytes of a frame whose full length (radiotap
    /// included) was `wire_len` (a snap length cut the rest; a
    /// `wire_len` below `data.len()` counts as `data.len()`).
    pub fn parse_with_wire_len(data: &'a [u8], wire_len: usize) -> Result<MonitorFrame<'a>> {
        MonitorFrame::parse_on_channel(data, wire_len, None)
    }

    /// [`MonitorFrame::parse_with_wire_len`], for a radio operating on
    /// `operating_mhz`: a frame whose radiotap header names no channel (as
    /// mac80211 writes the transmit status of the frames it sent: rate
    /// and TX flags only) is on that one, which gives its channel number,
    /// its band (and so the PHY of a legacy rate and the 2.4 GHz signal
    /// extension of its air time).
    pub fn parse_on_channel(
        data: &'a [u8],
        wire_len: usize,
        operating_mhz: Option<u16>,
    ) -> Result<MonitorFrame<'a>> {
        let mut radiotap = Radiotap::parse(data)?;
        if radiotap.frequency_mhz().is_none() {
            if let Some(freq_mhz) = operating_mhz.filter(|&f| f != 0) {
                radiotap.channel = Some(super::radiotap::Channel {
                    freq_mhz,
                    flags: radiotap.channel_flags().unwrap_or(0),
                });
            }
        }
        let rt_len = radiotap.header_len();
        let wire_len = wire_len.max(data.len());
        let captured = data.get(rt_len..).unwrap_or(&[]);
        let wire_mpdu = wire_len - rt_len;
        let (without_fcs, on_air) = if radiotap.fcs_at_end() {
            if wire_mpdu < FCS_LEN {
                return Err(Error::new(ErrorKind::FcsTruncated, rt_len));
            }
            (wire_mpdu - FCS_LEN, wire_mpdu)
        } else {
            (wire_mpdu, wire_mpdu.saturating_add(FCS_LEN))
        };
        let mpdu = &captured[..without_fcs.min(captured.len())];
        let fcs_captured = captured.len() - mpdu.len();
        let header = MacHeader::parse(mpdu).map_err(|e| e.shifted(rt_len))?;
        let body_offset = if radiotap.data_pad() {
            header.header_len.next_multiple_of(4)
        } else {
            header.header_len
        }
        .min(mpdu.len());

        let phy = Phy::from_radiotap(&radiotap);
        let phy_type = PhyType::from_radiotap(&radiotap);
        let frequency_mhz = radiotap.frequency_mhz();
        let channel = match frequency_mhz {
            Some(f) => phy::channel_number(u32::from(f)),
            None => radiotap.xchannel.map_or(0, |x| u32::from(x.channel)),
        };
        let in_ampdu = radiotap.ampdu.is_some()
            || matches!(phy.map(|p| p.mode), Some(Mode::Vht(_) | Mode::He(_)));
        let psdu = if in_ampdu {
            on_air.saturating_add(AMPDU_DELIMITER_LEN)
        } else {
            on_air
        };
        Ok(MonitorFrame {
            mpdu,
            fcs_captured,
            frame_length: u32::try_from(on_air).unwrap_or(u32::MAX),
            header,
            body_offset,
            phy_type,
            phy,
            frequency_mhz,
            channel,
            speed_bps: phy.and_then(|p| p.speed_bps()),
            version: phy_type.map_or(Ieee80211Version::UNKNOWN, PhyType::sflow_version),
            rcpi: phy::rcpi(radiotap.signal_dbm),
            rsni: phy::rsni(radiotap.signal_dbm, radiotap.noise_dbm),
            packet_duration_us: phy.and_then(|p| p.duration_us(psdu)),
            ampdu: radiotap.ampdu,
            radiotap,
        })
    }

    /// The bytes for a `sampled_header` of protocol 15: the 802.11 frame as
    /// captured, without radiotap and FCS.
    pub fn header_bytes(&self) -> &'a [u8] {
        self.mpdu
    }

    /// `sampled_header.frame_length`: the MPDU on the air, FCS included.
    pub fn frame_length(&self) -> u32 {
        self.frame_length
    }

    /// `sampled_header.stripped`: the FCS, never in the header bytes.
    pub fn stripped(&self) -> u32 {
        FCS_LEN as u32
    }

    /// A frame this radio sent (the transmit status mac80211 reports on
    /// its monitor interfaces: radiotap has TX flags), not one it received.
    pub fn transmitted(&self) -> bool {
        self.radiotap.tx_flags.is_some()
    }

    /// Attempts of a frame this radio sent: 1 + the retries radiotap
    /// reports; 0 = unknown.
    pub fn transmissions(&self) -> u32 {
        self.radiotap.data_retries.map_or(0, |r| 1 + u32::from(r))
    }

    /// The BSSID named by the MAC header, if any.
    pub fn bssid(&self) -> Option<MacAddr> {
        self.header.bssid()
    }

    /// The frame body as captured (no FCS).
    pub fn body(&self) -> &'a [u8] {
        self.mpdu.get(self.body_offset..).unwrap_or(&[])
    }

    /// Information elements of an unprotected management frame whose body
    /// holds them (offsets count from the start of the radiotap header).
    pub fn elements(&self) -> Option<Elements<'a>> {
        let fc = self.header.frame_control;
        if !fc.is_management() || fc.protected() {
            return None;
        }
        Elements::of_management_body(
            fc.subtype(),
            self.body(),
            self.radiotap.header_len() + self.body_offset,
        )
    }

    /// The SSID of a beacon or probe response (to learn BSSID → SSID).
    pub fn ssid(&self) -> Option<&'a [u8]> {
        if !self.header.is_beacon_or_probe_response() {
            return None;
        }
        self.elements()?.ssid()
    }

    /// The frame failed its FCS check (its contents are not to be trusted).
    pub fn bad_fcs(&self) -> bool {
        self.radiotap.bad_fcs()
    }

    /// The A-MPDU reference number, when received in an A-MPDU.
    pub fn ampdu_reference(&self) -> Option<u32> {
        self.ampdu.map(|a| a.reference)
    }

    /// `extended_80211_rx.speed`: bit/s, 0 = unknown.
    pub fn speed(&self) -> u64 {
        self.speed_bps.unwrap_or(0)
    }

    /// `extended_80211_rx.packet_duration`: µs, 0 = unknown.
    pub fn packet_duration(&self) -> u32 {
        self.packet_duration_us.unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// zeek radiotap.pcap frame 1 (BSD licence, ../shared/captures/zeek):
    /// QoS data, MCS 7 40 MHz, A-MPDU, FCS at the end.
    const ZEEK_1: &[u8] = &[
        0x00, 0x00, 0x30, 0x00, 0x6b, 0x08, 0x1c, 0x00, 0xe1, 0x61, 0x56, 0x56, 0x00, 0x00, 0x00,
        0x00, 0x10, 0x00, 0xa4, 0x15, 0x40, 0x01, 0xb6, 0xa3, 0x01, 0x4e, 0x34, 0x97, 0x40, 0x01,
        0x01, 0x00, 0xa4, 0x15, 0x6c, 0x22, 0x1f, 0x01, 0x07, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, // radiotap (48)
        0x88, 0x01, 0x2c, 0x00, 0x8a, 0x15, 0x14, 0x9b, 0x5a, 0xe0, 0x90, 0x72, 0x40, 0x97, 0xb6,
        0xf5, 0x44, 0x2b, 0x03, 0xaa, 0xab, 0x8d, 0x10, 0x00, 0x06,
        0x00, // QoS data header (26)
        0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, // LLC/SNAP
        0x03, 0x12, 0xc6, 0xa7, // FCS
    ];

    #[test]
    fn zeek_like_frame() {
        // The real frame is 101 bytes after radiotap; keep its length for
        // the air time by saying so.
        let f = MonitorFrame::parse_with_wire_len(ZEEK_1, 149).unwrap();
        assert_eq!(f.radiotap.header_len, 48);
        assert_eq!(f.frame_length(), 101);
        assert_eq!(f.stripped(), 4);
        assert_eq!(
            f.mpdu.len(),
            ZEEK_1.len() - 48,
            "cut short: no FCS byte captured"
        );
        assert_eq!(f.fcs_captured, 0);
        assert_eq!(
            f.bssid(),
            Some(MacAddr([0x8a, 0x15, 0x14, 0x9b, 0x5a, 0xe0]))
        );
        assert_eq!(f.header.sequence_number(), Some(1));
        assert_eq!(f.header.tid(), Some(6));
        assert_eq!((f.channel, f.frequency_mhz), (108, Some(5540)));
        assert_eq!(f.speed(), 135_000_000);
        assert_eq!(f.version, Ieee80211Version::N);
        assert_eq!(f.phy_type, Some(PhyType::Ht));
        assert_eq!((f.rcpi, f.rsni), (72, 58));
        // 101 + 4 delimiter bytes: ⌈(840 + 22) / 540⌉ = 2 symbols + 36 µs.
        assert_eq!(f.packet_duration(), 44);
        assert_eq!(f.ampdu_reference(), Some(1));
        // Cut short, the last captured bytes are body, not FCS.
        assert_eq!(f.body(), &ZEEK_1[48 + 26..]);
        assert!(f.elements().is_none());
        assert_eq!(f.ssid(), None);
        assert!(!f.bad_fcs());

        // Whole: the FCS is captured and cut off the header bytes.
        let f = MonitorFrame::parse(ZEEK_1).unwrap();
        assert_eq!(f.fcs_captured, 4);
        assert_eq!(f.frame_length(), (ZEEK_1.len() - 48) as u32);
        assert_eq!(f.header_bytes(), &ZEEK_1[48..ZEEK_1.len() - 4]);
        assert_eq!(f.body(), &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        // Cut inside the FCS.
        let f =
            MonitorFrame::parse_with_wire_len(&ZEEK_1[..ZEEK_1.len() - 2], ZEEK_1.len()).unwrap();
        assert_eq!((f.fcs_captured, f.mpdu.len()), (2, ZEEK_1.len() - 52));
    }

    fn beacon(flags: u8, ssid: &[u8]) -> Vec<u8> {
        // Radiotap (15 bytes): flags, rate 1 Mb/s, channel 2437 (CCK,
        // 2 GHz), dBm signal -60.
        let mut v = vec![
            0, 0, 15, 0, 0x2e, 0, 0, 0, flags, 2, 0x85, 0x09, 0xa0, 0x00, 0xc4,
        ];
        v.extend_from_slice(&[0x80, 0x00, 0, 0]);
        v.extend_from_slice(&[0xff; 6]);
        v.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
        v.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
        v.extend_from_slice(&[0x30, 0x00]);
        v.extend_from_slice(&[0; 8]); // timestamp
        v.extend_from_slice(&[0x64, 0, 0x01, 0x04]); // interval, capabilities
        v.push(0);
        v.push(ssid.len() as u8);
        v.extend_from_slice(ssid);
        v.extend_from_slice(&[3, 1, 6]);
        if flags & 0x10 != 0 {
            v.extend_from_slice(&[1, 2, 3, 4]);
        }
        v
    }

    #[test]
    fn beacon_learns_the_ssid() {
        let frame = beacon(0x10, b"wsflowd");
        let f = MonitorFrame::parse(&frame).unwrap();
        assert!(f.header.is_beacon());
        assert_eq!(f.ssid(), Some(&b"wsflowd"[..]));
        assert_eq!(f.elements().unwrap().ds_channel(), Some(6));
        assert_eq!(f.bssid(), Some(MacAddr([2, 0, 0, 0, 0, 1])));
        assert_eq!(f.header.sequence_number(), Some(3));
        assert_eq!((f.channel, f.version), (6, Ieee80211Version::B));
        assert_eq!((f.rcpi, f.rsni), (100, 255));
        assert_eq!(f.speed(), 1_000_000);
        // 24 + 12 + 9 + 3 + 4 (FCS) = 52 bytes at 1 Mb/s, long preamble.
        assert_eq!(f.frame_length(), 52);
        assert_eq!(f.packet_duration(), 192 + 416);
        // Without FCS in the capture, the frame on the air still has one.
        let frame = beacon(0x00, b"wsflowd");
        let f = MonitorFrame::parse(&frame).unwrap();
        assert_eq!((f.frame_length(), f.fcs_captured), (52, 0));
        assert_eq!(f.packet_duration(), 192 + 416);
        // Bad FCS is reported.
        let frame = beacon(0x50, b"x");
        assert!(MonitorFrame::parse(&frame).unwrap().bad_fcs());
    }

    #[test]
    fn data_pad_moves_the_body() {
        // QoS data (26-byte header) with radiotap's DATA_PAD: body at 28.
        let mut v = vec![0, 0, 9, 0, 0x02, 0, 0, 0, 0x20];
        v.extend_from_slice(&[0x88, 0x01, 0, 0]);
        v.extend_from_slice(&[1; 18]);
        v.extend_from_slice(&[0, 0, 0x05, 0x00, 0xee, 0xee, 0xaa, 0xaa]);
        let f = MonitorFrame::parse(&v).unwrap();
        assert_eq!(f.body_offset, 28);
        assert_eq!(f.body(), &[0xaa, 0xaa]);
        assert_eq!(f.header.tid(), Some(5));
        assert_eq!(
            (f.speed_bps, f.phy, f.version),
            (None, None, Ieee80211Version::UNKNOWN)
        );
        assert_eq!(f.packet_duration(), 0);
    }

    #[test]
    fn errors_carry_offsets_from_the_radiotap_start() {
        // FCS announced, 2 bytes of frame.
        let v = [0, 0, 9, 0, 0x02, 0, 0, 0, 0x10, 0xd4, 0x00];
        assert_eq!(
            MonitorFrame::parse(&v).unwrap_err(),
            Error::new(ErrorKind::FcsTruncated, 9)
        );
        // A truncated 802.11 header: offset counted from the radiotap start.
        let v = [0, 0, 8, 0, 0, 0, 0, 0, 0x80, 0x00, 0, 0, 1, 2];
        let e = MonitorFrame::parse(&v).unwrap_err();
        assert_eq!(
            e,
            Error::new(
                ErrorKind::MacTruncated {
                    needed: 24,
                    available: 6
                },
                14
            )
        );
        assert_eq!(
            MonitorFrame::parse(&[0x30, 0x30, 0x08, 0x00, 0x30, 0x30, 0x30, 0xfa])
                .unwrap_err()
                .kind,
            ErrorKind::RadiotapVersion(0x30)
        );
        assert!(MonitorFrame::parse(&[]).is_err());
    }

    proptest::proptest! {
        /// Arbitrary bytes behind a plausible radiotap header (version 0,
        /// a length inside the buffer) never panic, and what parses holds
        /// together.
        #[test]
        fn arbitrary_frames_never_panic(
            mut data in proptest::collection::vec(proptest::prelude::any::<u8>(), 8..400),
            extra in 0usize..5000,
        ) {
            data[0] = 0;
            let len = 8 + usize::from(data[2]) % (data.len() - 7);
            data[2..4].copy_from_slice(&(len as u16).to_le_bytes());
            if let Ok(f) = MonitorFrame::parse_with_wire_len(&data, data.len() + extra) {
                proptest::prop_assert_eq!(
                    f.radiotap.header_len() + f.mpdu.len() + f.fcs_captured,
                    data.len()
                );
                proptest::prop_assert!(f.body_offset <= f.mpdu.len());
                let _ = (f.ssid(), f.bssid(), f.elements().map(|e| e.check()));
            }
        }
    }
}
