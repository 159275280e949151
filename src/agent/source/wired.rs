//! Samples of wired and layer 3 interfaces: the frame's header and its
//! path (input and output interfaces) through the bridge.

use super::{Context, Sampler};
use crate::capture::{CaptureCounts, Frame};
use crate::sflow::{FlowRecord, HeaderProtocol, SampledHeader};
use libc::ARPHRD_IEEE80211_RADIOTAP;

const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;

/// Length of the FCS, which the kernel removes before capture on Ethernet
/// and which is on the air for every 802.11 frame.
pub const FCS_LEN: u32 = 4;

/// The `sampled_header` record of a frame captured on a wired or layer 3
/// interface: its protocol from the link type, the frame length on the
/// medium and the bytes removed before capture. `None` for link types not
/// reported this way (monitor interfaces have their own path).
pub fn sampled_header<'a>(frame: &Frame<'a>) -> Option<SampledHeader<'a>> {
    let (protocol, fcs) = match frame.hw_type {
        // The kernel strips the FCS: it is added back to the frame length
        // and counted as stripped, as the specification asks.
        ARPHRD_ETHER => (HeaderProtocol::ETHERNET, FCS_LEN),
        ARPHRD_LOOPBACK => (HeaderProtocol::ETHERNET, 0),
        ARPHRD_IEEE80211_RADIOTAP => return None,
        // Layer 3 links (tun, ppp, wireguard): the IP version says which.
        _ => match frame.data.first().map(|b| b >> 4) {
            Some(4) => (HeaderProtocol::IPV4, 0),
            Some(6) => (HeaderProtocol::IPV6, 0),
            _ => return None,
        },
    };
    Some(SampledHeader {
        protocol,
        frame_length: frame.length.saturating_add(fcs),
        stripped: fcs,
        header: frame.data,
    })
}

/// The destination and source MAC addresses of an Ethernet frame.
pub fn ethernet_addresses(data: &[u8]) -> Option<([u8; 6], [u8; 6])> {
    let dst = data.get(0..6)?.try_into().ok()?;
    let src = data.get(6..12)?.try_into().ok()?;
    Some((dst, src))
}

/// Samples a frame of a wired or layer 3 interface.
pub fn sample(frame: &Frame, counts: &CaptureCounts, sampler: &mut Sampler, ctx: &mut Context) {
    let Some(header) = sampled_header(frame) else {
        return;
    };
    let path = match ethernet_addresses(frame.data)
        .filter(|_| header.protocol == HeaderProtocol::ETHERNET)
    {
        Some((dst, src)) => ctx
            .topology
            .path(sampler.if_index, frame.direction(), &dst, &src),
        None => super::super::path::layer3(sampler.if_index, frame.direction()),
    };
    sampler.emit(
        ctx.out,
        ctx.now_ms,
        counts,
        path,
        &[FlowRecord::SampledHeader(header)],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::packet_type;

    fn frame(hw_type: u16, packet_type: u8, data: &[u8]) -> Frame<'_> {
        Frame {
            data,
            length: 100,
            if_index: 7,
            packet_type,
            hw_type,
        }
    }

    #[test]
    fn ethernet_frames_count_their_fcs() {
        let f = frame(ARPHRD_ETHER, packet_type::HOST, &[0; 14]);
        let h = sampled_header(&f).unwrap();
        assert_eq!(h.protocol, HeaderProtocol::ETHERNET);
        assert_eq!((h.frame_length, h.stripped), (104, 4));
    }

    #[test]
    fn layer3_links_report_ip() {
        let f = frame(0xfffe, packet_type::HOST, &[0x45, 0]);
        assert_eq!(sampled_header(&f).unwrap().protocol, HeaderProtocol::IPV4);
        let f = frame(0xfffe, packet_type::HOST, &[0x60, 0]);
        assert_eq!(sampled_header(&f).unwrap().protocol, HeaderProtocol::IPV6);
        assert!(sampled_header(&frame(0xfffe, 0, &[0x10])).is_none());
        assert!(sampled_header(&frame(ARPHRD_IEEE80211_RADIOTAP, 3, &[0])).is_none());
    }

    #[test]
    fn addresses_of_short_frames() {
        assert!(ethernet_addresses(&[0; 11]).is_none());
        let mut f = [0u8; 14];
        f[0] = 0xff;
        f[6] = 0x02;
        let (d, s) = ethernet_addresses(&f).unwrap();
        assert_eq!((d[0], s[0]), (0xff, 0x02));
    }
}
