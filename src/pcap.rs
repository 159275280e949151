//! Classic pcap files: a reader (never panics on any input) and a writer,
//! plus the extraction of UDP payloads from captured frames.
//!
//! `wsflowd collect --read FILE` uses them to decode sFlow captured with
//! tcpdump on an access point; the tests use them to replay real 802.11
//! captures and to hand our datagrams to tshark.

use std::fmt;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Link types (www.tcpdump.org/linktypes.html) we read or write.
pub mod link_type {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const RAW: u32 = 101;
    pub const IEEE802_11: u32 = 105;
    pub const LINUX_SLL: u32 = 113;
    pub const IEEE802_11_RADIOTAP: u32 = 127;
    pub const LINUX_SLL2: u32 = 276;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcapError {
    pub offset: usize,
    pub message: &'static str,
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for PcapError {}

/// One captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcapRecord<'a> {
    pub ts_sec: u32,
    /// Microseconds or nanoseconds, as the file says.
    pub ts_frac: u32,
    /// Length of the frame on the wire.
    pub orig_len: u32,
    /// The captured bytes (at most the snap length).
    pub data: &'a [u8],
}

/// Iterates the records of a classic pcap file held in memory.
pub struct PcapReader<'a> {
    data: &'a [u8],
    pos: usize,
    big_endian: bool,
    pub nanosecond: bool,
    pub link_type: u32,
    pub snaplen: u32,
}

impl<'a> PcapReader<'a> {
    pub fn new(data: &'a [u8]) -> Result<Self, PcapError> {
        let err = |message| PcapError { offset: 0, message };
        if data.len() < 24 {
            return Err(err("shorter than a pcap file header"));
        }
        let magic = [data[0], data[1], data[2], data[3]];
        let (big_endian, nanosecond) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (false, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (true, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (false, true),
            [0xa1, 0xb2, 0x3c, 0x4d] => (true, true),
            [0x0a, 0x0d, 0x0d, 0x0a] => {
                return Err(err("pcapng is not supported: convert with editcap -F pcap"))
            }
            _ => return Err(err("not a pcap file (bad magic number)")),
        };
        let mut r = PcapReader {
            data,
            pos: 0,
            big_endian,
            nanosecond,
            link_type: 0,
            snaplen: 0,
        };
        r.snaplen = r.u32_at(16);
        r.link_type = r.u32_at(20) & 0x0fff_ffff;
        r.pos = 24;
        Ok(r)
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = [
            self.data[at],
            self.data[at + 1],
            self.data[at + 2],
            self.data[at + 3],
        ];
        if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }
}

impl<'a> Iterator for PcapReader<'a> {
    type Item = Result<PcapRecord<'a>, PcapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.data.len() {
            return None;
        }
        let at = self.pos;
        let fail = |message| {
            Some(Err(PcapError {
                offset: at,
                message,
            }))
        };
        if self.data.len() - at < 16 {
            self.pos = self.data.len();
            return fail("truncated record header");
        }
        let incl = self.u32_at(at + 8) as usize;
        let record = PcapRecord {
            ts_sec: self.u32_at(at),
            ts_frac: self.u32_at(at + 4),
            orig_len: self.u32_at(at + 12),
            data: &[],
        };
        let start = at + 16;
        if incl > self.data.len() - start {
            self.pos = self.data.len();
            return fail("truncated record data");
        }
        self.pos = start + incl;
        Some(Ok(PcapRecord {
            data: &self.data[start..start + incl],
            ..record
        }))
    }
}

/// Writes a classic little-endian, microsecond pcap file.
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut out: W, link_type: u32, snaplen: u32) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&snaplen.to_le_bytes());
        h.extend_from_slice(&link_type.to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter { out })
    }

    pub fn write(&mut self, ts_sec: u32, ts_usec: u32, frame: &[u8]) -> io::Result<()> {
        let len = frame.len() as u32;
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&ts_sec.to_le_bytes());
        h[4..8].copy_from_slice(&ts_usec.to_le_bytes());
        h[8..12].copy_from_slice(&len.to_le_bytes());
        h[12..16].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(frame)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// A UDP datagram found in a captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpPayload<'a> {
    pub source: IpAddr,
    pub source_port: u16,
    pub destination: IpAddr,
    pub destination_port: u16,
    pub payload: &'a [u8],
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Extracts the UDP payload of an unfragmented IPv4 or IPv6 packet carried
/// in a frame of the given link type (Ethernet with up to two VLAN tags,
/// Linux cooked v1/v2, raw IP, BSD loopback). `None` for anything else.
pub fn udp_payload(link: u32, frame: &[u8]) -> Option<UdpPayload<'_>> {
    let (ethertype, ip) = match link {
        link_type::ETHERNET => {
            let mut at = 12;
            let mut ethertype = be16(frame, at)?;
            while ethertype == 0x8100 || ethertype == 0x88a8 {
                at += 4;
                ethertype = be16(frame, at)?;
            }
            (ethertype, frame.get(at + 2..)?)
        }
        link_type::LINUX_SLL => (be16(frame, 14)?, frame.get(16..)?),
        link_type::LINUX_SLL2 => (be16(frame, 0)?, frame.get(20..)?),
        link_type::RAW => match frame.first()? >> 4 {
            4 => (0x0800, frame),
            6 => (0x86dd, frame),
            _ => return None,
        },
        link_type::NULL => {
            let family = u32::from_le_bytes(frame.get(..4)?.try_into().ok()?);
            match family {
                2 => (0x0800, frame.get(4..)?),
                24 | 28 | 30 => (0x86dd, frame.get(4..)?),
                _ => return None,
            }
        }
        _ => return None,
    };
    let (source, destination, udp) = match ethertype {
        0x0800 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(be16(ip, 2)?);
            let fragment = be16(ip, 6)? & 0x3fff;
            if *ip.get(9)? != 17 || ihl < 20 || fragment != 0 || total < ihl {
                return None;
            }
            let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            let udp = ip.get(ihl..total.min(ip.len()))?;
            (Ipv4Addr::from(src).into(), Ipv4Addr::from(dst).into(), udp)
        }
        0x86dd => {
            // Extension headers are not followed: sFlow is sent without them.
            if *ip.get(6)? != 17 {
                return None;
            }
            let payload_len = usize::from(be16(ip, 4)?);
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            let udp = ip.get(40..(40 + payload_len).min(ip.len()))?;
            (Ipv6Addr::from(src).into(), Ipv6Addr::from(dst).into(), udp)
        }
        _ => return None,
    };
    let udp_len = usize::from(be16(udp, 4)?);
    if udp_len < 8 {
        return None;
    }
    Some(UdpPayload {
        source,
        source_port: be16(udp, 0)?,
        destination,
        destination_port: be16(udp, 2)?,
        payload: udp.get(8..udp_len.min(udp.len()))?,
    })
}

/// Builds an Ethernet/IPv4/UDP frame around `payload` (checksums left 0 for
/// UDP, computed for IPv4), for writing test captures.
pub fn ethernet_ipv4_udp(
    source: Ipv4Addr,
    source_port: u16,
    destination: Ipv4Addr,
    destination_port: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = Vec::with_capacity(42 + payload.len());
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let total = (20 + 8 + payload.len()) as u16;
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&source.octets());
    ip[16..20].copy_from_slice(&destination.octets());
    let mut sum: u32 = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&source_port.to_be_bytes());
    f.extend_from_slice(&destination_port.to_be_bytes());
    f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read() {
        let frame = ethernet_ipv4_udp(
            Ipv4Addr::new(10, 0, 0, 1),
            40000,
            Ipv4Addr::new(10, 0, 0, 2),
            6343,
            b"hello",
        );
        let mut w = PcapWriter::new(Vec::new(), link_type::ETHERNET, 65535).unwrap();
        w.write(1, 2, &frame).unwrap();
        let bytes = w.into_inner();
        let r = PcapReader::new(&bytes).unwrap();
        assert_eq!(r.link_type, link_type::ETHERNET);
        let recs: Vec<_> = r.map(Result::unwrap).collect();
        assert_eq!(recs.len(), 1);
        let udp = udp_payload(link_type::ETHERNET, recs[0].data).unwrap();
        assert_eq!(udp.payload, b"hello");
        assert_eq!(udp.destination_port, 6343);
        assert_eq!(udp.source, IpAddr::from([10, 0, 0, 1]));
    }

    #[test]
    fn truncation_is_an_error_not_a_panic() {
        let mut w = PcapWriter::new(Vec::new(), link_type::ETHERNET, 65535).unwrap();
        w.write(1, 2, &[1, 2, 3, 4, 5, 6]).unwrap();
        let bytes = w.into_inner();
        for cut in 0..bytes.len() {
            if let Ok(r) = PcapReader::new(&bytes[..cut]) {
                for rec in r {
                    let _ = rec;
                }
            }
        }
        for cut in 0..60 {
            let frame = ethernet_ipv4_udp(
                Ipv4Addr::LOCALHOST,
                1,
                Ipv4Addr::LOCALHOST,
                2,
                b"0123456789",
            );
            let _ = udp_payload(link_type::ETHERNET, &frame[..cut.min(frame.len())]);
            let _ = udp_payload(link_type::LINUX_SLL2, &frame[..cut.min(frame.len())]);
            let _ = udp_payload(link_type::RAW, &frame[14..cut.clamp(14, frame.len())]);
        }
    }
}
