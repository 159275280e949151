//! A sampled and polled interface: one sFlow data source.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use crate::capture::{
    CaptureConfig, CaptureCounts, Direction, Frame, PacketCapture, ARPHRD_IEEE80211_RADIOTAP,
};
use crate::rng::Rng;
use crate::sflow::{DataSource, HeaderProtocol, Interface, SampledHeader, SequenceNumber};
use crate::sys::if_nametoindex;
use crate::{info, warn};

const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;

/// Length of the Ethernet FCS, which the kernel removes before capture.
const ETHERNET_FCS: u32 = 4;

pub struct InterfaceSource {
    pub device: String,
    pub sampling_rate: u32,
    /// Seconds between counter samples; 0 = no counter polling.
    pub polling_interval: u32,
    pub snap_len: u32,
    /// The interface's current index, if it exists.
    pub if_index: Option<u32>,
    /// The ifIndex that the counts and sequence numbers belong to.
    counted_index: Option<u32>,
    pub(crate) capture: Option<PacketCapture>,
    /// Counts kept while no socket is open.
    idle_counts: CaptureCounts,
    pub flow_sequence: SequenceNumber,
    pub counter_sequence: SequenceNumber,
    /// Agent uptime (ms) at which counters are next due.
    pub next_poll_ms: u64,
    reported_missing: bool,
}

impl InterfaceSource {
    pub fn new(device: String, sampling_rate: u32, polling_interval: u32, snap_len: u32) -> Self {
        InterfaceSource {
            device,
            sampling_rate,
            polling_interval,
            snap_len,
            if_index: None,
            counted_index: None,
            capture: None,
            idle_counts: CaptureCounts::default(),
            flow_sequence: SequenceNumber::default(),
            counter_sequence: SequenceNumber::default(),
            next_poll_ms: 0,
            reported_missing: false,
        }
    }

    pub fn data_source(&self) -> Option<DataSource> {
        self.if_index.map(DataSource::interface)
    }

    pub fn counts(&self) -> CaptureCounts {
        self.capture
            .as_ref()
            .map_or(self.idle_counts, PacketCapture::counts)
    }

    pub fn capture_fd(&self) -> Option<RawFd> {
        self.capture.as_ref().map(|c| c.as_fd().as_raw_fd())
    }

    pub fn is_open(&self) -> bool {
        self.capture.is_some()
    }

    /// Closes the socket, keeping the counts.
    pub fn close(&mut self) {
        if let Some(c) = self.capture.take() {
            self.idle_counts = c.counts();
        }
    }

    /// Changes the sampling rate without re-opening the socket.
    pub fn set_sampling_rate(&mut self, rate: u32) {
        self.sampling_rate = rate;
        if let Some(c) = &mut self.capture {
            c.set_sampling_rate(rate);
        }
    }

    /// Makes sure the socket is open on the interface's current index:
    /// opens it when the interface appears, re-opens it when the interface
    /// was re-created with a new index, closes it when it is gone.
    pub fn refresh(&mut self, rng: &mut Rng) {
        let index = if_nametoindex(&self.device);
        if index != self.if_index {
            self.close();
            self.if_index = index;
        }
        // A new ifIndex is a new data source: its counts and sample
        // sequence numbers start again, as the specification asks when
        // counts reset.
        if let Some(new) = index {
            if self.counted_index.is_some_and(|old| old != new) {
                info!("interface {} was re-created (ifIndex {new})", self.device);
                self.flow_sequence = SequenceNumber::default();
                self.counter_sequence = SequenceNumber::default();
                self.idle_counts = CaptureCounts::default();
            }
            self.counted_index = Some(new);
        }
        let Some(if_index) = self.if_index else {
            if !self.reported_missing {
                warn!(
                    "interface {} does not exist (yet): waiting for it",
                    self.device
                );
                self.reported_missing = true;
            }
            return;
        };
        if self.capture.is_some() {
            return;
        }
        let config = CaptureConfig {
            if_index,
            sampling_rate: self.sampling_rate,
            snap_len: self.snap_len,
        };
        let seed = Rng::from_seed(u128::from(rng.next_u32()) << 64 | u128::from(rng.next_u32()));
        match PacketCapture::open(config, self.idle_counts, seed) {
            Ok(c) => {
                info!(
                    "sampling {} (ifIndex {}) at 1-in-{}",
                    self.device, if_index, self.sampling_rate
                );
                self.capture = Some(c);
                self.reported_missing = false;
            }
            Err(e) => {
                if !self.reported_missing {
                    warn!("cannot capture on {}: {}", self.device, e);
                    self.reported_missing = true;
                }
            }
        }
    }

    /// Handles an error condition reported by poll on the socket: reads and
    /// clears the pending socket error so poll does not report it again.
    pub fn clear_error(&mut self) -> io::Result<()> {
        let Some(c) = &self.capture else {
            return Ok(());
        };
        let mut err: i32 = 0;
        let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
        let rc = unsafe {
            libc::getsockopt(
                c.as_fd().as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut err as *mut i32).cast(),
                &mut len,
            )
        };
        if rc == 0 && err != 0 {
            return Err(io::Error::from_raw_os_error(err));
        }
        Ok(())
    }
}

/// The `sampled_header` record of a captured frame: its protocol from the
/// interface's link type, the frame length on the medium and the bytes
/// removed before capture. `None` for link types not reported here.
pub fn sampled_header<'a>(frame: &Frame<'a>) -> Option<SampledHeader<'a>> {
    let (protocol, fcs) = match frame.hw_type {
        // The kernel strips the FCS: it is added back to the frame length
        // and counted as stripped, as the specification asks.
        ARPHRD_ETHER => (HeaderProtocol::ETHERNET, ETHERNET_FCS),
        ARPHRD_LOOPBACK => (HeaderProtocol::ETHERNET, 0),
        // Monitor interfaces need the radiotap parser (802.11 sampling).
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

/// The input and output interfaces of a frame sampled on `if_index`.
pub fn path(frame: &Frame, if_index: u32) -> (Interface, Interface) {
    match frame.direction() {
        Direction::Ingress => (Interface::index(if_index), Interface::UNKNOWN),
        Direction::Egress => (Interface::UNKNOWN, Interface::index(if_index)),
    }
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
    fn direction_gives_the_path() {
        let f = frame(ARPHRD_ETHER, packet_type::OUTGOING, &[]);
        assert_eq!(path(&f, 7), (Interface::UNKNOWN, Interface::index(7)));
        let f = frame(ARPHRD_ETHER, packet_type::BROADCAST, &[]);
        assert_eq!(path(&f, 7), (Interface::index(7), Interface::UNKNOWN));
    }
}
