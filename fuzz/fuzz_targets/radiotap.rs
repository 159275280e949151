//! Fuzzes the 802.11 parsers on arbitrary bytes: as a monitor frame
//! (radiotap + 802.11 + FCS, whole and as if cut by a snap length), as a
//! bare 802.11 frame, and as a list of information elements. Nothing may
//! panic; what parses must hold together; the rate and air-time functions
//! run on every PHY that parses, with extreme lengths.
//!
//! Seed corpus: the frames of the radiotap (127) and 802.11 (105) captures
//! in `../shared/captures/` (one file per frame in `corpus/radiotap/`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use wsflowd::wifi::phy::{self, Phy, PhyType};
use wsflowd::wifi::radiotap::{Fields, Namespace, MAX_ANTENNAS};
use wsflowd::wifi::{Elements, ErrorKind, MacHeader, MonitorFrame, Radiotap, RadiotapPacket};

fn exercise_phy(phy: &Phy) {
    if let Some(bps) = phy.speed_bps() {
        // Nothing goes faster than 8-stream HE at 160 MHz (9.6 Gb/s).
        assert!(bps > 0 && bps < 10_000_000_000, "{phy:?}: {bps}");
    }
    let _ = phy.phy_type();
    let mut last = 0;
    for len in [0, 1, 14, 1500, 7935, 65_535, 1 << 23] {
        if let Some(us) = phy.duration_us(len) {
            assert!(us >= last, "{phy:?}: air time shrinks with length");
            last = us;
        }
    }
    assert_eq!(phy.duration_us(usize::MAX), None);
}

fn exercise_elements(elements: Elements<'_>, end: usize) {
    for e in elements.clone() {
        match e {
            Ok(e) => assert!(e.offset + 2 + e.data.len() <= end),
            Err(err) => {
                let _ = err.to_string();
            }
        }
    }
    let _ = (
        elements.ssid(),
        elements.ds_channel(),
        elements.ht_primary_channel(),
    );
    let _ = (
        elements.vht_operation(),
        elements.he_capabilities(),
        elements.he_operation(),
    );
    let _ = elements.check();
}

fuzz_target!(|data: &[u8]| {
    // Radiotap alone.
    match Radiotap::parse(data) {
        Ok(rt) => {
            let len = rt.header_len();
            assert!(len >= 8 && len <= data.len());
            assert!(rt.antennas().len() <= MAX_ANTENNAS);
            let packet = RadiotapPacket::new_checked(data).expect("parsed, so it checks");
            assert_eq!(packet.header_len(), len);
            assert_eq!(
                packet.header_bytes().len() + packet.payload().len(),
                data.len()
            );
            assert!(packet.present_words().count() >= 1);
            for field in Fields::new(data).expect("parsed, so it walks") {
                let field = field.expect("parsed, so every field fits");
                assert!(field.offset + field.data.len() <= len);
                if let Namespace::Radiotap { .. } = field.namespace {
                    assert!(field.bit < 28);
                }
            }
            let _ = PhyType::from_radiotap(&rt).map(PhyType::sflow_version);
            if let Some(phy) = Phy::from_radiotap(&rt) {
                exercise_phy(&phy);
            }
            if let Some(f) = rt.frequency_mhz() {
                let _ = phy::channel_number(u32::from(f));
            }
            assert!(phy::rcpi(rt.signal_dbm) <= 255);
            assert!(phy::rsni(rt.signal_dbm, rt.noise_dbm) <= 255);
        }
        Err(e) => {
            let _ = e.to_string();
            // Header errors fail the view's check too; field errors do not.
            let header_error = matches!(
                e.kind,
                ErrorKind::RadiotapTruncated
                    | ErrorKind::RadiotapVersion(_)
                    | ErrorKind::RadiotapLength(_)
                    | ErrorKind::RadiotapBeyondBuffer { .. }
            );
            assert_eq!(RadiotapPacket::new_checked(data).is_err(), header_error);
        }
    }

    // A whole monitor frame, and the same bytes as the head of longer ones.
    for wire_len in [
        data.len(),
        data.len() + 2,
        data.len() + 4,
        data.len() + 100_000,
    ] {
        match MonitorFrame::parse_with_wire_len(data, wire_len) {
            Ok(f) => {
                let rt_len = f.radiotap.header_len();
                assert_eq!(rt_len + f.mpdu.len() + f.fcs_captured, data.len());
                assert!(f.fcs_captured <= 4);
                assert!(f.mpdu.len() >= f.header.header_len);
                assert!(f.body_offset <= f.mpdu.len());
                assert!(
                    f.frame_length() as usize >= f.mpdu.len() + 4 || f.frame_length() == u32::MAX
                );
                assert_eq!(f.header_bytes(), f.mpdu);
                assert!(f.rcpi <= 220 || f.rcpi == 255);
                assert!(f.rsni <= 255);
                assert_eq!(f.speed(), f.speed_bps.unwrap_or(0));
                let _ = (
                    f.bssid(),
                    f.ssid(),
                    f.bad_fcs(),
                    f.ampdu_reference(),
                    f.body(),
                );
                let _ = (f.header.receiver(), f.header.transmitter());
                let _ = (f.header.source(), f.header.destination());
                if let Some(elements) = f.elements() {
                    exercise_elements(elements, data.len());
                }
                if let Some(phy) = f.phy {
                    exercise_phy(&phy);
                }
            }
            Err(e) => {
                let _ = e.to_string();
                assert!(e.offset <= data.len());
            }
        }
    }

    // A bare 802.11 frame (link type 105).
    if let Ok(h) = MacHeader::parse(data) {
        assert!(h.header_len <= data.len());
        let _ = (
            h.receiver(),
            h.transmitter(),
            h.source(),
            h.destination(),
            h.bssid(),
        );
        let _ = (
            h.sequence_number(),
            h.fragment_number(),
            h.tid(),
            h.amsdu_present(),
        );
        let body = &data[h.header_len..];
        if let Some(elements) = Elements::of_management_body(h.subtype(), body, h.header_len) {
            exercise_elements(elements, data.len());
        }
    }

    // Elements from the first byte.
    exercise_elements(Elements::new(data), data.len());
});
