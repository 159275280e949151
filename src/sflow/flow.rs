//! Flow records: the packet header and the 802.11 extended flow data.

use super::list::List;
use super::xdr::{DecodeError, DecodeErrorKind, EncodeError, Reader, Writer};
use super::{record_enum, Decode, Encode, RecordBody, Visit, Visitor};

/// `header_protocol` of a `sampled_header` (sFlow v5 and 802.11 values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HeaderProtocol(pub u32);

impl HeaderProtocol {
    pub const ETHERNET: Self = Self(1);
    pub const IPV4: Self = Self(11);
    pub const IPV6: Self = Self(12);
    /// 802.11 MAC frame.
    pub const IEEE80211: Self = Self(15);
    /// 802.11n A-MPDU, starting with the MPDU delimiter.
    pub const IEEE80211_AMPDU: Self = Self(16);
    /// An MSDU of an A-MSDU, starting with the A-MSDU subframe header.
    pub const IEEE80211_AMSDU_SUBFRAME: Self = Self(17);
}

/// `ieee80211_version` of the extended 802.11 records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ieee80211Version(pub u32);

impl Ieee80211Version {
    /// Not one of the versions the specification names (it has codes for
    /// a, b, g and n only).
    pub const UNKNOWN: Self = Self(0);
    pub const A: Self = Self(1);
    pub const B: Self = Self(2);
    pub const G: Self = Self(3);
    pub const N: Self = Self(4);
}

/// Raw packet header (format 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampledHeader<'a> {
    pub protocol: HeaderProtocol,
    /// Length of the frame on the medium, including its FCS.
    pub frame_length: u32,
    /// Bytes removed before `header` was taken (an FCS counts here).
    pub stripped: u32,
    pub header: &'a [u8],
}

impl<'a> RecordBody<'a> for SampledHeader<'a> {
    const FORMAT: u32 = 1;
    const NAME: &'static str = "sampled_header";

    fn encode_body(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u32(self.protocol.0)?;
        w.u32(self.frame_length)?;
        w.u32(self.stripped)?;
        w.opaque(self.header, usize::MAX)
    }

    fn decode_body(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(SampledHeader {
            protocol: HeaderProtocol(r.u32("sampled_header.protocol")?),
            frame_length: r.u32("sampled_header.frame_length")?,
            stripped: r.u32("sampled_header.stripped")?,
            header: r.opaque(usize::MAX, "sampled_header.header")?,
        })
    }

    fn visit_body(&self, v: &mut dyn Visitor) {
        v.u32("protocol", self.protocol.0);
        v.u32("frame_length", self.frame_length);
        v.u32("stripped", self.stripped);
        v.bytes("header", self.header);
    }
}

/// Unencrypted payload of an encrypted 802.11 frame (format 1013).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extended80211Payload<'a> {
    /// Cipher suite selector: OUI in the top three bytes, suite type below.
    pub cipher_suite: u32,
    /// Decrypted bytes from the start of the 802.2 LLC header.
    pub data: &'a [u8],
}

impl<'a> RecordBody<'a> for Extended80211Payload<'a> {
    const FORMAT: u32 = 1013;
    const NAME: &'static str = "extended_80211_payload";

    fn encode_body(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u32(self.cipher_suite)?;
        w.opaque(self.data, usize::MAX)
    }

    fn decode_body(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(Extended80211Payload {
            cipher_suite: r.u32("extended_80211_payload.ciphersuite")?,
            data: r.opaque(usize::MAX, "extended_80211_payload.data")?,
        })
    }

    fn visit_body(&self, v: &mut dyn Visitor) {
        v.u32("ciphersuite", self.cipher_suite);
        v.bytes("data", self.data);
    }
}

/// Maximum SSID length (`string ssid<32>`).
pub const SSID_MAX: usize = 32;

/// Radio context of a received 802.11 frame (format 1014).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extended80211Rx<'a> {
    pub ssid: &'a [u8],
    pub bssid: [u8; 6],
    pub version: Ieee80211Version,
    pub channel: u32,
    /// Bit rate in bit/s.
    pub speed: u64,
    /// Received signal to noise indicator (dot11FrameRprtRSNI).
    pub rsni: u32,
    /// Received channel power indicator (dot11FrameRprtLastRCPI).
    pub rcpi: u32,
    /// Air time of the frame in microseconds; 0 = unknown.
    pub packet_duration: u32,
}

impl<'a> RecordBody<'a> for Extended80211Rx<'a> {
    const FORMAT: u32 = 1014;
    const NAME: &'static str = "extended_80211_rx";

    fn encode_body(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(self.ssid, SSID_MAX)?;
        w.mac(&self.bssid)?;
        w.u32(self.version.0)?;
        w.u32(self.channel)?;
        w.u64(self.speed)?;
        w.u32(self.rsni)?;
        w.u32(self.rcpi)?;
        w.u32(self.packet_duration)
    }

    fn decode_body(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(Extended80211Rx {
            ssid: r.opaque(SSID_MAX, "extended_80211_rx.ssid")?,
            bssid: r.mac("extended_80211_rx.bssid")?,
            version: Ieee80211Version(r.u32("extended_80211_rx.version")?),
            channel: r.u32("extended_80211_rx.channel")?,
            speed: r.u64("extended_80211_rx.speed")?,
            rsni: r.u32("extended_80211_rx.rsni")?,
            rcpi: r.u32("extended_80211_rx.rcpi")?,
            packet_duration: r.u32("extended_80211_rx.packet_duration")?,
        })
    }

    fn visit_body(&self, v: &mut dyn Visitor) {
        v.text("ssid", self.ssid);
        v.mac("bssid", &self.bssid);
        v.u32("version", self.version.0);
        v.u32("channel", self.channel);
        v.u64("speed", self.speed);
        v.u32("rsni", self.rsni);
        v.u32("rcpi", self.rcpi);
        v.u32("packet_duration", self.packet_duration);
    }
}

/// Radio context of a transmitted 802.11 frame (format 1015).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extended80211Tx<'a> {
    pub ssid: &'a [u8],
    pub bssid: [u8; 6],
    pub version: Ieee80211Version,
    /// 0 = unknown, 1 = sent at the first attempt, n = n - 1 retransmissions.
    pub transmissions: u32,
    /// Air time of the successful transmission in microseconds.
    pub packet_duration: u32,
    /// Air time of the failed attempts in microseconds.
    pub retrans_duration: u32,
    pub channel: u32,
    /// Bit rate in bit/s.
    pub speed: u64,
    /// Transmit power in mW.
    pub power: u32,
}

impl<'a> RecordBody<'a> for Extended80211Tx<'a> {
    const FORMAT: u32 = 1015;
    const NAME: &'static str = "extended_80211_tx";

    fn encode_body(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(self.ssid, SSID_MAX)?;
        w.mac(&self.bssid)?;
        w.u32(self.version.0)?;
        w.u32(self.transmissions)?;
        w.u32(self.packet_duration)?;
        w.u32(self.retrans_duration)?;
        w.u32(self.channel)?;
        w.u64(self.speed)?;
        w.u32(self.power)
    }

    fn decode_body(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(Extended80211Tx {
            ssid: r.opaque(SSID_MAX, "extended_80211_tx.ssid")?,
            bssid: r.mac("extended_80211_tx.bssid")?,
            version: Ieee80211Version(r.u32("extended_80211_tx.version")?),
            transmissions: r.u32("extended_80211_tx.transmissions")?,
            packet_duration: r.u32("extended_80211_tx.packet_duration")?,
            retrans_duration: r.u32("extended_80211_tx.retrans_duration")?,
            channel: r.u32("extended_80211_tx.channel")?,
            speed: r.u64("extended_80211_tx.speed")?,
            power: r.u32("extended_80211_tx.power")?,
        })
    }

    fn visit_body(&self, v: &mut dyn Visitor) {
        v.text("ssid", self.ssid);
        v.mac("bssid", &self.bssid);
        v.u32("version", self.version.0);
        v.u32("transmissions", self.transmissions);
        v.u32("packet_duration", self.packet_duration);
        v.u32("retrans_duration", self.retrans_duration);
        v.u32("channel", self.channel);
        v.u64("speed", self.speed);
        v.u32("power", self.power);
    }
}

/// The flow records describing one PDU of an aggregate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pdu<'a> {
    pub records: List<'a, FlowRecord<'a>>,
}

impl Encode for Pdu<'_> {
    fn encode(&self, w: &mut Writer) -> Result<(), EncodeError> {
        if let List::Items(records) = self.records {
            if records
                .iter()
                .any(|r| matches!(r, FlowRecord::Extended80211Aggregation(_)))
            {
                return Err(EncodeError::Invalid("aggregation nested in an aggregation"));
            }
        }
        self.records.encode(w)
    }
}

impl<'a> Decode<'a> for Pdu<'a> {
    const NAME: &'static str = "pdu";

    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        // Walk the records by their framing, refusing a nested aggregation:
        // it has no meaning, and refusing it bounds the nesting depth that a
        // decoder (or a printer walking the lists) can be led into.
        let mut walk = *r;
        let count = walk.u32("pdu.flow_records")?;
        if count as usize > walk.remaining() / 8 {
            return Err(walk.error(
                "pdu.flow_records",
                DecodeErrorKind::Invalid("array count larger than the data that follows"),
            ));
        }
        for _ in 0..count {
            let at = walk;
            let format = walk.u32("pdu.flow_record.flow_format")?;
            if format == Extended80211Aggregation::FORMAT {
                return Err(at.error(
                    "pdu.flow_record",
                    DecodeErrorKind::Invalid("extended_80211_aggregation nested in a pdu"),
                ));
            }
            walk.nested("pdu.flow_record.flow_data")?;
        }
        Ok(Pdu {
            records: List::decode(r)?,
        })
    }
}

impl Visit for Pdu<'_> {
    fn visit(&self, v: &mut dyn Visitor) {
        self.records.visit_as("flow_records", v);
    }
}

/// One flow sample for a whole aggregate, with a list of per-PDU records
/// (format 1016). Put it last in its flow sample, as the specification
/// describes: Wireshark 4.0 does not skip it by its length, so any record
/// after it would be misread there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extended80211Aggregation<'a> {
    pub pdus: List<'a, Pdu<'a>>,
}

impl<'a> RecordBody<'a> for Extended80211Aggregation<'a> {
    const FORMAT: u32 = 1016;
    const NAME: &'static str = "extended_80211_aggregation";

    fn encode_body(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.pdus.encode(w)
    }

    fn decode_body(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(Extended80211Aggregation {
            pdus: List::decode(r)?,
        })
    }

    fn visit_body(&self, v: &mut dyn Visitor) {
        self.pdus.visit_as("pdus", v);
    }
}

record_enum! {
    /// A flow record: `flow_format` and the `flow_data` it identifies.
    pub enum FlowRecord<'a>, "flow_record", "flow_record.flow_format", "flow_record.flow_data" {
        SampledHeader(SampledHeader<'a>),
        Extended80211Payload(Extended80211Payload<'a>),
        Extended80211Rx(Extended80211Rx<'a>),
        Extended80211Tx(Extended80211Tx<'a>),
        Extended80211Aggregation(Extended80211Aggregation<'a>),
    }
}
