//! The 802.11 MAC header and information elements (IEEE Std 802.11-2020,
//! clause 9.2 "MAC frame formats", 9.3 "Format of individual frame types"
//! and 9.4.2 "Elements").
//!
//! [`Frame`] is a zero-copy view; [`MacHeader`] the parsed header with the
//! roles of its addresses (receiver, transmitter, source, destination,
//! BSSID); [`Elements`] iterates the information elements of a management
//! frame body without ever reading past its end. Protocol version 1 frames
//! (802.11ah "PV1") have another layout and are refused. Nothing here
//! allocates or panics, whatever the bytes.

use super::error::{Error, ErrorKind, Result};
use crate::mac::MacAddr;

/// The two-bit frame type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameType {
    Management,
    Control,
    Data,
    /// Type 3: DMG beacon, S1G beacon.
    Extension,
}

/// Subtypes, per frame type.
pub mod subtype {
    /// Management frame subtypes.
    pub mod mgmt {
        pub const ASSOC_REQ: u8 = 0;
        pub const ASSOC_RESP: u8 = 1;
        pub const REASSOC_REQ: u8 = 2;
        pub const REASSOC_RESP: u8 = 3;
        pub const PROBE_REQ: u8 = 4;
        pub const PROBE_RESP: u8 = 5;
        pub const TIMING_ADVERTISEMENT: u8 = 6;
        pub const BEACON: u8 = 8;
        pub const ATIM: u8 = 9;
        pub const DISASSOC: u8 = 10;
        pub const AUTH: u8 = 11;
        pub const DEAUTH: u8 = 12;
        pub const ACTION: u8 = 13;
        pub const ACTION_NO_ACK: u8 = 14;
    }
    /// Control frame subtypes.
    pub mod ctrl {
        pub const TRIGGER: u8 = 2;
        pub const TACK: u8 = 3;
        pub const BEAMFORMING_REPORT_POLL: u8 = 4;
        pub const NDP_ANNOUNCEMENT: u8 = 5;
        pub const CONTROL_FRAME_EXTENSION: u8 = 6;
        pub const CONTROL_WRAPPER: u8 = 7;
        pub const BLOCK_ACK_REQ: u8 = 8;
        pub const BLOCK_ACK: u8 = 9;
        pub const PS_POLL: u8 = 10;
        pub const RTS: u8 = 11;
        pub const CTS: u8 = 12;
        pub const ACK: u8 = 13;
        pub const CF_END: u8 = 14;
        pub const CF_END_CF_ACK: u8 = 15;
    }
    /// Data subtypes are bit fields: QoS (8) and "no data" (4).
    pub mod data {
        pub const DATA: u8 = 0;
        pub const NULL: u8 = 4;
        pub const QOS_DATA: u8 = 8;
        pub const QOS_NULL: u8 = 12;
        pub const QOS_BIT: u8 = 0x08;
        pub const NO_DATA_BIT: u8 = 0x04;
    }
}

/// The Frame Control field, as the little-endian 16-bit value of its two
/// bytes (protocol version in bits 0-1, type 2-3, subtype 4-7, flags 8-15).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameControl(pub u16);

impl FrameControl {
    pub const TO_DS: u16 = 0x0100;
    pub const FROM_DS: u16 = 0x0200;
    pub const MORE_FRAGMENTS: u16 = 0x0400;
    pub const RETRY: u16 = 0x0800;
    pub const POWER_MANAGEMENT: u16 = 0x1000;
    pub const MORE_DATA: u16 = 0x2000;
    pub const PROTECTED: u16 = 0x4000;
    /// +HTC in QoS data and management frames of HT and later stations,
    /// "Order" otherwise.
    pub const ORDER: u16 = 0x8000;

    pub fn from_bytes(b: [u8; 2]) -> FrameControl {
        FrameControl(u16::from_le_bytes(b))
    }

    pub fn protocol_version(self) -> u8 {
        (self.0 & 0x3) as u8
    }

    pub fn frame_type(self) -> FrameType {
        match (self.0 >> 2) & 0x3 {
            0 => FrameType::Management,
            1 => FrameType::Control,
            2 => FrameType::Data,
            _ => FrameType::Extension,
        }
    }

    /// The type as its 2-bit number.
    pub fn type_number(self) -> u8 {
        ((self.0 >> 2) & 0x3) as u8
    }

    pub fn subtype(self) -> u8 {
        ((self.0 >> 4) & 0xf) as u8
    }

    fn flag(self, bit: u16) -> bool {
        self.0 & bit != 0
    }

    pub fn to_ds(self) -> bool {
        self.flag(Self::TO_DS)
    }

    pub fn from_ds(self) -> bool {
        self.flag(Self::FROM_DS)
    }

    pub fn more_fragments(self) -> bool {
        self.flag(Self::MORE_FRAGMENTS)
    }

    pub fn retry(self) -> bool {
        self.flag(Self::RETRY)
    }

    pub fn power_management(self) -> bool {
        self.flag(Self::POWER_MANAGEMENT)
    }

    pub fn more_data(self) -> bool {
        self.flag(Self::MORE_DATA)
    }

    pub fn protected(self) -> bool {
        self.flag(Self::PROTECTED)
    }

    /// The +HTC/Order bit.
    pub fn order(self) -> bool {
        self.flag(Self::ORDER)
    }

    pub fn is_management(self) -> bool {
        self.frame_type() == FrameType::Management
    }

    pub fn is_control(self) -> bool {
        self.frame_type() == FrameType::Control
    }

    pub fn is_data(self) -> bool {
        self.frame_type() == FrameType::Data
    }

    /// A QoS data subtype (QoS Data, QoS Null, ...): has a QoS Control field.
    pub fn is_qos_data(self) -> bool {
        self.is_data() && self.subtype() & subtype::data::QOS_BIT != 0
    }

    /// Whether an HT Control field follows: +HTC set on a QoS data or a
    /// management frame.
    pub fn has_ht_control(self) -> bool {
        self.order() && (self.is_qos_data() || self.is_management())
    }

    /// Length of the MAC header this frame control announces: addresses,
    /// sequence control, QoS control and HT control included; FCS and the
    /// optional mesh control (which is in the body) excluded.
    pub fn header_len(self) -> usize {
        use subtype::ctrl;
        match self.frame_type() {
            FrameType::Management => 24 + if self.order() { 4 } else { 0 },
            FrameType::Control => match self.subtype() {
                // Frame Control, Duration, RA.
                ctrl::CTS | ctrl::ACK | 0 | 1 => 10,
                // Frame Control, Duration, RA, Carried Frame Control, HT Control.
                ctrl::CONTROL_WRAPPER => 16,
                // Frame Control, Duration/ID, RA, TA (then frame-specific fields).
                _ => 16,
            },
            FrameType::Data => {
                let mut len = 24;
                if self.to_ds() && self.from_ds() {
                    len += 6;
                }
                if self.is_qos_data() {
                    len += 2;
                    if self.order() {
                        len += 4;
                    }
                }
                len
            }
            // Frame Control, Duration, one address (DMG beacon: BSSID; S1G
            // beacon: SA); the rest is body.
            FrameType::Extension => 10,
        }
    }
}

fn addr_at(d: &[u8], at: usize) -> MacAddr {
    let mut a = [0u8; 6];
    if let Some(s) = d.get(at..at + 6) {
        a.copy_from_slice(s);
    }
    MacAddr(a)
}

fn u16_at(d: &[u8], at: usize) -> u16 {
    match d.get(at..at + 2) {
        Some(&[a, b]) => u16::from_le_bytes([a, b]),
        _ => 0,
    }
}

fn u32_at(d: &[u8], at: usize) -> u32 {
    match d.get(at..at + 4) {
        Some(&[a, b, c, e]) => u32::from_le_bytes([a, b, c, e]),
        _ => 0,
    }
}

/// A zero-copy view of an 802.11 frame (MAC header first, no radiotap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking it; the accessors read zeros past
    /// its end instead of panicking.
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// Wraps a buffer after [`check`](Self::check).
    pub fn new_checked(buffer: T) -> Result<Frame<T>> {
        let frame = Frame::new_unchecked(buffer);
        frame.check()?;
        Ok(frame)
    }

    /// Checks the protocol version and that the whole header is there.
    pub fn check(&self) -> Result<()> {
        let d = self.buffer.as_ref();
        if d.len() < 2 {
            return Err(Error::new(
                ErrorKind::MacTruncated {
                    needed: 10,
                    available: d.len(),
                },
                0,
            ));
        }
        let fc = self.frame_control();
        if fc.protocol_version() != 0 {
            return Err(Error::new(ErrorKind::MacVersion(fc.protocol_version()), 0));
        }
        let needed = fc.header_len();
        if d.len() < needed {
            return Err(Error::new(
                ErrorKind::MacTruncated {
                    needed,
                    available: d.len(),
                },
                d.len(),
            ));
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn frame_control(&self) -> FrameControl {
        FrameControl(u16_at(self.buffer.as_ref(), 0))
    }

    pub fn duration_id(&self) -> u16 {
        u16_at(self.buffer.as_ref(), 2)
    }

    pub fn addr1(&self) -> MacAddr {
        addr_at(self.buffer.as_ref(), 4)
    }

    pub fn addr2(&self) -> MacAddr {
        addr_at(self.buffer.as_ref(), 10)
    }

    pub fn addr3(&self) -> MacAddr {
        addr_at(self.buffer.as_ref(), 16)
    }

    pub fn sequence_control(&self) -> u16 {
        u16_at(self.buffer.as_ref(), 22)
    }

    pub fn header_len(&self) -> usize {
        self.frame_control().header_len()
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Frame<&'a T> {
    /// The MAC header bytes (fewer if the buffer is shorter).
    pub fn header(&self) -> &'a [u8] {
        let d = self.buffer.as_ref();
        &d[..self.header_len().min(d.len())]
    }

    /// What follows the MAC header (an FCS, if captured, included).
    pub fn body(&self) -> &'a [u8] {
        let d = self.buffer.as_ref();
        &d[self.header_len().min(d.len())..]
    }
}

/// A parsed 802.11 MAC header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MacHeader {
    pub frame_control: FrameControl,
    pub duration_id: u16,
    /// Always present (for extension frames it is not a receiver address).
    pub addr1: MacAddr,
    pub addr2: Option<MacAddr>,
    pub addr3: Option<MacAddr>,
    pub sequence_control: Option<u16>,
    /// Data frames with both To DS and From DS.
    pub addr4: Option<MacAddr>,
    pub qos_control: Option<u16>,
    pub ht_control: Option<u32>,
    /// Control Wrapper frames: the frame control of the carried frame.
    pub carried_frame_control: Option<FrameControl>,
    pub header_len: usize,
}

impl MacHeader {
    /// Parses the MAC header at the start of `frame`.
    pub fn parse(frame: &[u8]) -> Result<MacHeader> {
        let view = Frame::new_checked(frame)?;
        Ok(MacHeader::parse_frame(&view))
    }

    /// Reads the header of a checked [`Frame`].
    pub fn parse_frame<T: AsRef<[u8]>>(frame: &Frame<T>) -> MacHeader {
        use subtype::ctrl;
        let d = frame.buffer.as_ref();
        let fc = frame.frame_control();
        let mut h = MacHeader {
            frame_control: fc,
            duration_id: frame.duration_id(),
            addr1: frame.addr1(),
            header_len: fc.header_len(),
            ..MacHeader::default()
        };
        match fc.frame_type() {
            FrameType::Management | FrameType::Data => {
                h.addr2 = Some(frame.addr2());
                h.addr3 = Some(frame.addr3());
                h.sequence_control = Some(frame.sequence_control());
                let mut at = 24;
                if fc.is_data() && fc.to_ds() && fc.from_ds() {
                    h.addr4 = Some(addr_at(d, at));
                    at += 6;
                }
                if fc.is_qos_data() {
                    h.qos_control = Some(u16_at(d, at));
                    at += 2;
                }
                if fc.has_ht_control() {
                    h.ht_control = Some(u32_at(d, at));
                }
            }
            FrameType::Control => match fc.subtype() {
                ctrl::CTS | ctrl::ACK | 0 | 1 => {}
                ctrl::CONTROL_WRAPPER => {
                    h.carried_frame_control = Some(FrameControl(u16_at(d, 10)));
                    h.ht_control = Some(u32_at(d, 12));
                }
                _ => h.addr2 = Some(frame.addr2()),
            },
            FrameType::Extension => {}
        }
        h
    }

    pub fn frame_type(&self) -> FrameType {
        self.frame_control.frame_type()
    }

    pub fn subtype(&self) -> u8 {
        self.frame_control.subtype()
    }

    /// Sequence number (12 bits).
    pub fn sequence_number(&self) -> Option<u16> {
        self.sequence_control.map(|s| s >> 4)
    }

    /// Fragment number (4 bits).
    pub fn fragment_number(&self) -> Option<u8> {
        self.sequence_control.map(|s| (s & 0xf) as u8)
    }

    /// Traffic identifier of a QoS data frame.
    pub fn tid(&self) -> Option<u8> {
        self.qos_control.map(|q| (q & 0xf) as u8)
    }

    /// The body of this QoS data frame is an A-MSDU.
    pub fn amsdu_present(&self) -> bool {
        self.qos_control.is_some_and(|q| q & 0x0080 != 0)
    }

    pub fn is_beacon(&self) -> bool {
        self.frame_control.is_management() && self.subtype() == subtype::mgmt::BEACON
    }

    pub fn is_probe_response(&self) -> bool {
        self.frame_control.is_management() && self.subtype() == subtype::mgmt::PROBE_RESP
    }

    /// Beacons and probe responses name their BSS: the frames to learn
    /// BSSID → SSID from.
    pub fn is_beacon_or_probe_response(&self) -> bool {
        self.is_beacon() || self.is_probe_response()
    }

    /// RA: the station that receives the frame on this hop (address 1).
    pub fn receiver(&self) -> Option<MacAddr> {
        match self.frame_type() {
            FrameType::Extension => None,
            _ => Some(self.addr1),
        }
    }

    /// TA: the station that sent the frame on this hop.
    pub fn transmitter(&self) -> Option<MacAddr> {
        match self.frame_type() {
            FrameType::Extension => Some(self.addr1),
            _ => self.addr2,
        }
    }

    /// DA: the final destination (the address field contents table of
    /// IEEE 802.11-2020 9.3.2.1 for data
    /// frames; address 1 for management frames). None when it is not in
    /// the MAC header (A-MSDU subframes carry it).
    pub fn destination(&self) -> Option<MacAddr> {
        match self.frame_type() {
            FrameType::Management => Some(self.addr1),
            FrameType::Data => match (self.frame_control.to_ds(), self.frame_control.from_ds()) {
                (false, _) => Some(self.addr1),
                (true, _) if self.amsdu_present() => None,
                (true, _) => self.addr3,
            },
            _ => None,
        }
    }

    /// SA: the original source (see [`destination`](Self::destination)).
    pub fn source(&self) -> Option<MacAddr> {
        match self.frame_type() {
            FrameType::Management => self.addr2,
            FrameType::Data => match (self.frame_control.to_ds(), self.frame_control.from_ds()) {
                (_, false) => self.addr2,
                (_, true) if self.amsdu_present() => None,
                (false, true) => self.addr3,
                (true, true) => self.addr4,
            },
            FrameType::Extension if self.subtype() == 1 => Some(self.addr1),
            _ => None,
        }
    }

    /// The BSSID: address 3 of management frames; for data frames address
    /// 3, 2 or 1 by To/From DS (address 3 again in A-MSDU frames); none for
    /// 4-address (mesh, WDS) MSDU frames; for control frames only PS-Poll
    /// (address 1) and CF-End (address 2) name it.
    pub fn bssid(&self) -> Option<MacAddr> {
        use subtype::ctrl;
        let fc = self.frame_control;
        match self.frame_type() {
            FrameType::Management => self.addr3,
            FrameType::Data => match (fc.to_ds(), fc.from_ds()) {
                (false, false) => self.addr3,
                _ if self.amsdu_present() => self.addr3,
                (false, true) => self.addr2,
                (true, false) => Some(self.addr1),
                (true, true) => None,
            },
            FrameType::Control => match self.subtype() {
                ctrl::PS_POLL => Some(self.addr1),
                ctrl::CF_END | ctrl::CF_END_CF_ACK => self.addr2,
                _ => None,
            },
            FrameType::Extension if self.subtype() == 0 => Some(self.addr1),
            FrameType::Extension => None,
        }
    }
}

/// Element IDs (IEEE 802.11-2020 9.4.2.1, "Element IDs" table).
pub mod element_id {
    pub const SSID: u8 = 0;
    pub const SUPPORTED_RATES: u8 = 1;
    pub const DS_PARAMETER_SET: u8 = 3;
    pub const TIM: u8 = 5;
    pub const COUNTRY: u8 = 7;
    pub const HT_CAPABILITIES: u8 = 45;
    pub const RSN: u8 = 48;
    pub const EXTENDED_SUPPORTED_RATES: u8 = 50;
    pub const HT_OPERATION: u8 = 61;
    pub const MESH_ID: u8 = 114;
    pub const VHT_CAPABILITIES: u8 = 191;
    pub const VHT_OPERATION: u8 = 192;
    pub const VENDOR_SPECIFIC: u8 = 221;
    /// The first data byte is an Element ID Extension.
    pub const EXTENSION: u8 = 255;
}

/// Element ID Extensions (with [`element_id::EXTENSION`]).
pub mod element_ext_id {
    pub const HE_CAPABILITIES: u8 = 35;
    pub const HE_OPERATION: u8 = 36;
    pub const EHT_OPERATION: u8 = 106;
    pub const EHT_CAPABILITIES: u8 = 108;
}

/// One information element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    pub id: u8,
    /// Offset of the element (its ID byte) in the buffer the iterator
    /// reports offsets against.
    pub offset: usize,
    pub data: &'a [u8],
}

impl<'a> Element<'a> {
    /// The Element ID Extension of an extension element.
    pub fn ext_id(&self) -> Option<u8> {
        if self.id == element_id::EXTENSION {
            self.data.first().copied()
        } else {
            None
        }
    }

    /// The data after the Element ID Extension byte.
    pub fn ext_data(&self) -> &'a [u8] {
        self.data.get(1..).unwrap_or(&[])
    }
}

/// Iterator over information elements (ID, length, data). A truncated
/// element yields one `Err` and ends the iteration: nothing past the end
/// is read.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
    done: bool,
}

impl<'a> Elements<'a> {
    /// Elements starting at the first byte of `data`.
    pub fn new(data: &'a [u8]) -> Elements<'a> {
        Elements::with_offset(data, 0)
    }

    /// Same, reporting offsets (of elements and errors) plus `base`.
    pub fn with_offset(data: &'a [u8], base: usize) -> Elements<'a> {
        Elements {
            data,
            pos: 0,
            base,
            done: false,
        }
    }

    /// The elements of a management frame body (the bytes after the MAC
    /// header, no FCS), after the fixed fields of its subtype. None for
    /// frames whose body is not fixed fields + elements (action frames,
    /// authentication other than open system / shared key, ATIM) or whose
    /// fixed fields are cut short.
    pub fn of_management_body(subtype: u8, body: &'a [u8], base: usize) -> Option<Elements<'a>> {
        use subtype::mgmt;
        let fixed = match subtype {
            mgmt::ASSOC_REQ => 4,
            mgmt::ASSOC_RESP | mgmt::REASSOC_RESP => 6,
            mgmt::REASSOC_REQ => 10,
            mgmt::PROBE_REQ => 0,
            mgmt::PROBE_RESP | mgmt::BEACON => 12,
            mgmt::TIMING_ADVERTISEMENT => 10,
            mgmt::DISASSOC | mgmt::DEAUTH => 2,
            // Open system (0) and shared key (1): algorithm, transaction
            // sequence, status, then elements. SAE and FILS bodies are not
            // elements.
            mgmt::AUTH if body.len() >= 6 && u16_at(body, 0) <= 1 => 6,
            _ => return None,
        };
        let rest = body.get(fixed..)?;
        Some(Elements::with_offset(rest, base + fixed))
    }

    /// Data of the first element `id` before any truncated element.
    pub fn find(&self, id: u8) -> Option<&'a [u8]> {
        self.clone()
            .map_while(|e| e.ok())
            .find(|e| e.id == id)
            .map(|e| e.data)
    }

    /// Data (after the extension byte) of the first extension element
    /// `ext_id`.
    pub fn find_ext(&self, ext_id: u8) -> Option<&'a [u8]> {
        self.clone()
            .map_while(|e| e.ok())
            .find(|e| e.ext_id() == Some(ext_id))
            .map(|e| e.ext_data())
    }

    /// The first SSID element (0 to 32 bytes; empty = wildcard / hidden).
    pub fn ssid(&self) -> Option<&'a [u8]> {
        self.find(element_id::SSID)
    }

    /// Current channel from the DS Parameter Set element.
    pub fn ds_channel(&self) -> Option<u8> {
        self.find(element_id::DS_PARAMETER_SET)?.first().copied()
    }

    pub fn ht_capabilities(&self) -> Option<&'a [u8]> {
        self.find(element_id::HT_CAPABILITIES)
    }

    pub fn ht_operation(&self) -> Option<&'a [u8]> {
        self.find(element_id::HT_OPERATION)
    }

    /// Primary channel from the HT Operation element.
    pub fn ht_primary_channel(&self) -> Option<u8> {
        self.ht_operation()?.first().copied()
    }

    pub fn vht_capabilities(&self) -> Option<&'a [u8]> {
        self.find(element_id::VHT_CAPABILITIES)
    }

    pub fn vht_operation(&self) -> Option<&'a [u8]> {
        self.find(element_id::VHT_OPERATION)
    }

    pub fn he_capabilities(&self) -> Option<&'a [u8]> {
        self.find_ext(element_ext_id::HE_CAPABILITIES)
    }

    pub fn he_operation(&self) -> Option<&'a [u8]> {
        self.find_ext(element_ext_id::HE_OPERATION)
    }

    pub fn mesh_id(&self) -> Option<&'a [u8]> {
        self.find(element_id::MESH_ID)
    }

    /// Checks that every element fits in the buffer.
    pub fn check(&self) -> Result<()> {
        for e in self.clone() {
            e?;
        }
        Ok(())
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<Element<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let at = self.pos;
        let id = self.data[at];
        let Some(&len) = self.data.get(at + 1) else {
            self.done = true;
            return Some(Err(Error::new(
                ErrorKind::ElementTruncated { id, len: 0 },
                self.base + at,
            )));
        };
        let start = at + 2;
        let end = start + usize::from(len);
        let Some(data) = self.data.get(start..end) else {
            self.done = true;
            return Some(Err(Error::new(
                ErrorKind::ElementTruncated { id, len },
                self.base + at,
            )));
        };
        self.pos = end;
        Some(Ok(Element {
            id,
            offset: self.base + at,
            data,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: MacAddr = MacAddr([0xa0, 0, 0, 0, 0, 1]);
    const B: MacAddr = MacAddr([0xb0, 0, 0, 0, 0, 2]);
    const C: MacAddr = MacAddr([0xc0, 0, 0, 0, 0, 3]);
    const D: MacAddr = MacAddr([0xd0, 0, 0, 0, 0, 4]);

    fn header(fc: [u8; 2], len: usize) -> Vec<u8> {
        let mut v = vec![fc[0], fc[1], 0x2c, 0x00];
        for a in [A, B, C] {
            v.extend_from_slice(&a.0);
        }
        v.extend_from_slice(&[0x10, 0x00]); // sequence 1, fragment 0
        v.extend_from_slice(&D.0);
        v.extend_from_slice(&[0x06, 0x00, 0x11, 0x22, 0x33, 0x44]);
        v.resize(len, 0xee);
        v
    }

    #[test]
    fn frame_control_fields() {
        // zeek radiotap.pcap frame 1: QoS data, To DS.
        let fc = FrameControl::from_bytes([0x88, 0x01]);
        assert_eq!(fc.protocol_version(), 0);
        assert_eq!(fc.frame_type(), FrameType::Data);
        assert_eq!((fc.type_number(), fc.subtype()), (2, 8));
        assert!(fc.to_ds() && !fc.from_ds() && fc.is_qos_data());
        assert!(!fc.retry() && !fc.protected() && !fc.order());
        let all = FrameControl::from_bytes([0x08, 0xff]);
        assert!(all.to_ds() && all.from_ds() && all.more_fragments() && all.retry());
        assert!(all.power_management() && all.more_data() && all.protected() && all.order());
        assert!(!all.has_ht_control(), "+HTC means Order on non-QoS data");
    }

    #[test]
    fn header_lengths() {
        let len = |b0: u8, b1: u8| FrameControl::from_bytes([b0, b1]).header_len();
        assert_eq!(len(0x80, 0x00), 24, "beacon");
        assert_eq!(len(0x80, 0x80), 28, "beacon +HTC");
        assert_eq!(len(0xd4, 0x00), 10, "ACK");
        assert_eq!(len(0xc4, 0x00), 10, "CTS");
        assert_eq!(len(0xb4, 0x00), 16, "RTS");
        assert_eq!(len(0x94, 0x00), 16, "BlockAck");
        assert_eq!(len(0xa4, 0x00), 16, "PS-Poll");
        assert_eq!(len(0x74, 0x00), 16, "Control Wrapper");
        assert_eq!(len(0x08, 0x01), 24, "data To DS");
        assert_eq!(len(0x08, 0x03), 30, "data 4 addresses");
        assert_eq!(len(0x88, 0x01), 26, "QoS data");
        assert_eq!(len(0x88, 0x83), 36, "QoS data 4 addresses +HTC");
        assert_eq!(len(0x08, 0x80), 24, "non-QoS data with Order: no HTC");
        assert_eq!(len(0xc8, 0x00), 26, "QoS null");
        assert_eq!(len(0x0c, 0x00), 10, "DMG beacon");
    }

    #[test]
    fn management_roles() {
        let h = MacHeader::parse(&header([0x80, 0x00], 24)).unwrap();
        assert!(h.is_beacon() && h.is_beacon_or_probe_response() && !h.is_probe_response());
        assert_eq!(h.receiver(), Some(A));
        assert_eq!(h.transmitter(), Some(B));
        assert_eq!(
            (h.destination(), h.source(), h.bssid()),
            (Some(A), Some(B), Some(C))
        );
        assert_eq!(
            (h.sequence_number(), h.fragment_number()),
            (Some(1), Some(0))
        );
        assert_eq!(h.duration_id, 44);
        assert_eq!((h.addr4, h.qos_control, h.ht_control), (None, None, None));
        let h = MacHeader::parse(&header([0x50, 0x80], 28)).unwrap();
        assert!(h.is_probe_response());
        assert_eq!(h.ht_control, Some(u32::from_le_bytes([0xd0, 0, 0, 0])));
        assert_eq!(h.header_len, 28);
    }

    #[test]
    fn data_roles_follow_the_ds_bits() {
        // (To DS, From DS) -> (DA, SA, BSSID), IEEE 802.11-2020 9.3.2.1.
        let cases = [
            (0x00, Some(A), Some(B), Some(C)),
            (0x01, Some(C), Some(B), Some(A)),
            (0x02, Some(A), Some(C), Some(B)),
            (0x03, Some(C), Some(D), None),
        ];
        for (ds, da, sa, bssid) in cases {
            let h = MacHeader::parse(&header([0x08, ds], 30)).unwrap();
            assert_eq!(h.destination(), da, "ds {ds}");
            assert_eq!(h.source(), sa, "ds {ds}");
            assert_eq!(h.bssid(), bssid, "ds {ds}");
            assert_eq!(h.receiver(), Some(A));
            assert_eq!(h.transmitter(), Some(B));
            assert_eq!(h.addr4.is_some(), ds == 3);
        }
        // QoS data, 4 addresses, +HTC: QoS control after address 4.
        let h = MacHeader::parse(&header([0x88, 0x83], 36)).unwrap();
        assert_eq!(h.addr4, Some(D));
        assert_eq!(h.qos_control, Some(0x0006));
        assert_eq!(h.tid(), Some(6));
        assert_eq!(h.ht_control, Some(0x4433_2211));
        assert_eq!(h.header_len, 36);
    }

    #[test]
    fn amsdu_moves_the_bssid_to_address_3() {
        let mut f = header([0x88, 0x02], 26);
        f[24] = 0x80; // A-MSDU present
        let h = MacHeader::parse(&f).unwrap();
        assert!(h.amsdu_present());
        assert_eq!(
            (h.destination(), h.source(), h.bssid()),
            (Some(A), None, Some(C))
        );
        f[1] = 0x01;
        let h = MacHeader::parse(&f).unwrap();
        assert_eq!(
            (h.destination(), h.source(), h.bssid()),
            (None, Some(B), Some(C))
        );
    }

    #[test]
    fn control_frames_have_one_or_two_addresses() {
        let ack = MacHeader::parse(&header([0xd4, 0x00], 10)).unwrap();
        assert_eq!(
            (ack.receiver(), ack.transmitter(), ack.bssid()),
            (Some(A), None, None)
        );
        assert_eq!((ack.addr3, ack.sequence_control), (None, None));
        let cts = MacHeader::parse(&header([0xc4, 0x00], 10)).unwrap();
        assert_eq!(cts.transmitter(), None);
        let rts = MacHeader::parse(&header([0xb4, 0x00], 16)).unwrap();
        assert_eq!((rts.transmitter(), rts.bssid()), (Some(B), None));
        let ps_poll = MacHeader::parse(&header([0xa4, 0x00], 16)).unwrap();
        assert_eq!(ps_poll.bssid(), Some(A));
        let cf_end = MacHeader::parse(&header([0xe4, 0x00], 16)).unwrap();
        assert_eq!(cf_end.bssid(), Some(B));
        let mut wrapper = header([0x74, 0x00], 16);
        wrapper[10..12].copy_from_slice(&[0xb4, 0x00]);
        let w = MacHeader::parse(&wrapper).unwrap();
        assert_eq!(w.carried_frame_control, Some(FrameControl(0x00b4)));
        assert_eq!((w.addr2, w.transmitter()), (None, None));
        assert!(w.ht_control.is_some());
    }

    #[test]
    fn errors() {
        assert_eq!(
            MacHeader::parse(&[0x80]).unwrap_err().kind,
            ErrorKind::MacTruncated {
                needed: 10,
                available: 1
            }
        );
        // ieee802.11_tim_ie_oobr.pcap frame 3: a 10-byte reassociation response.
        let e = MacHeader::parse(&[0x30; 10]).unwrap_err();
        assert_eq!(
            e,
            Error::new(
                ErrorKind::MacTruncated {
                    needed: 24,
                    available: 10
                },
                10
            )
        );
        // ieee802.11_rates_oobr.pcap: protocol version 1.
        assert_eq!(
            MacHeader::parse(&[0x81, 0x30, 0, 0]).unwrap_err().kind,
            ErrorKind::MacVersion(1)
        );
        let ack = header([0xd4, 0x00], 9);
        assert!(MacHeader::parse(&ack).is_err());
    }

    #[test]
    fn frame_view() {
        let mut f = header([0x80, 0x00], 24);
        f.extend_from_slice(&[1, 2, 3]);
        let v = Frame::new_checked(&f[..]).unwrap();
        assert_eq!(v.header().len(), 24);
        assert_eq!(v.body(), &[1, 2, 3]);
        assert_eq!(v.addr3(), C);
        let short = Frame::new_unchecked(&[0x80u8][..]);
        assert_eq!((short.addr1(), short.body().len()), (MacAddr::ZERO, 0));
        assert!(short.check().is_err());
    }

    #[test]
    fn elements_iterate_and_stop_at_truncation() {
        let body = [
            0, 4, b'o', b'm', b'u', b's', // SSID
            1, 2, 0x82, 0x84, // rates
            3, 1, 6, // DS: channel 6
            45, 2, 0xce, 0x11, // HT capabilities (short)
            61, 1, 36, // HT operation
            255, 3, 35, 0xaa, 0xbb, // HE capabilities
            255, 2, 36, 0xcc, // HE operation
            221, 9, 1, // vendor, truncated: length 9, 1 byte left
        ];
        let elements = Elements::with_offset(&body, 100);
        let items: Vec<_> = elements.clone().collect();
        assert_eq!(items.len(), 8);
        assert_eq!(
            items[0],
            Ok(Element {
                id: 0,
                offset: 100,
                data: b"omus"
            })
        );
        assert_eq!(
            items[7],
            Err(Error::new(
                ErrorKind::ElementTruncated { id: 221, len: 9 },
                129
            ))
        );
        assert_eq!(elements.ssid(), Some(&b"omus"[..]));
        assert_eq!(elements.ds_channel(), Some(6));
        assert_eq!(elements.ht_capabilities(), Some(&[0xce, 0x11][..]));
        assert_eq!(elements.ht_primary_channel(), Some(36));
        assert_eq!(elements.he_capabilities(), Some(&[0xaa, 0xbb][..]));
        assert_eq!(elements.he_operation(), Some(&[0xcc][..]));
        assert_eq!(elements.vht_capabilities(), None);
        assert_eq!(elements.mesh_id(), None);
        assert!(elements.check().is_err());
        // An ID without its length byte.
        let mut e = Elements::new(&[0, 0, 7]);
        assert_eq!(
            e.next(),
            Some(Ok(Element {
                id: 0,
                offset: 0,
                data: &[]
            }))
        );
        assert_eq!(
            e.next(),
            Some(Err(Error::new(
                ErrorKind::ElementTruncated { id: 7, len: 0 },
                2
            )))
        );
        assert_eq!(e.next(), None);
        assert_eq!(Elements::new(&[]).next(), None);
    }

    #[test]
    fn management_bodies() {
        let mut beacon = vec![0u8; 12];
        beacon.extend_from_slice(&[0, 3, b'a', b'b', b'c']);
        let e = Elements::of_management_body(subtype::mgmt::BEACON, &beacon, 24).unwrap();
        assert_eq!(e.ssid(), Some(&b"abc"[..]));
        assert_eq!(e.clone().next().unwrap().unwrap().offset, 36);
        assert!(Elements::of_management_body(subtype::mgmt::BEACON, &beacon[..5], 24).is_none());
        assert!(Elements::of_management_body(subtype::mgmt::ACTION, &beacon, 24).is_none());
        let sae = [3, 0, 1, 0, 0, 0, 0x13, 0x00];
        assert!(Elements::of_management_body(subtype::mgmt::AUTH, &sae, 24).is_none());
        let open = [0, 0, 2, 0, 0, 0, 221, 0];
        let mut e = Elements::of_management_body(subtype::mgmt::AUTH, &open, 24).unwrap();
        assert_eq!(e.next().unwrap().unwrap().id, 221);
        let probe_req = [0, 0];
        assert_eq!(
            Elements::of_management_body(subtype::mgmt::PROBE_REQ, &probe_req, 24)
                .unwrap()
                .ssid(),
            Some(&[][..])
        );
    }
}
