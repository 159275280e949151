//! A sampled and polled interface: one sFlow data source.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use super::monitor::OurBsses;
use crate::capture::{CaptureConfig, CaptureCounts, FilterChoice, Frame, PacketCapture};
use crate::config::{Bss, ForeignBss};
use crate::counters::dot11::Dot11Counters;
use crate::sflow::{HeaderProtocol, SampledHeader, SequenceNumber};
use crate::sys::socket;
use crate::{error, info, warn};
use libc::ARPHRD_IEEE80211_RADIOTAP;

const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;

/// Length of the FCS, which the kernel removes before capture on Ethernet
/// and which is on the air for every 802.11 frame.
pub const FCS_LEN: u32 = 4;

/// Extra snap length for monitor interfaces: the radiotap header comes
/// before the 802.11 bytes that `header_bytes` counts.
pub const RADIOTAP_ALLOWANCE: u32 = 128;

/// What the configuration says about one interface; a change of these is
/// what a reload compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Set in the configuration; `None`: chosen from the link speed.
    pub sampling_rate: Option<u32>,
    /// Seconds between counter samples; 0 = no counter polling.
    pub polling_interval: u32,
    pub header_bytes: u32,
    pub ring_bytes: u32,
    pub filter: FilterChoice,
    /// For monitor interfaces: our BSSes, and what to do with the others.
    pub bss: Vec<Bss>,
    pub foreign_bss: ForeignBss,
}

pub struct InterfaceSource {
    pub device: String,
    pub settings: Settings,
    /// The rate in force (configured, or chosen from the link speed).
    pub sampling_rate: u32,
    /// The interface's current index, if it exists.
    pub if_index: Option<u32>,
    /// Its link type, once known (monitor interfaces are 803).
    pub hw_type: u16,
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
    /// For a monitor: the BSSes it reports as ours.
    pub ours: OurBsses,
    /// For a monitor: frames that could not be parsed.
    pub rejected: u64,
    /// The 802.11 counters of an AP interface, kept monotonic.
    pub dot11: Dot11Counters,
    /// Transmit power of an AP interface, mW (0 = unknown).
    pub tx_power_mw: u32,
    /// Why the socket could not be opened, while it cannot (for the log
    /// once, and the status).
    pub open_error: Option<String>,
}

impl InterfaceSource {
    pub fn new(device: String, settings: Settings) -> Self {
        InterfaceSource {
            device,
            sampling_rate: settings.sampling_rate.unwrap_or(0),
            settings,
            if_index: None,
            hw_type: 0,
            counted_index: None,
            capture: None,
            idle_counts: CaptureCounts::default(),
            flow_sequence: SequenceNumber::default(),
            counter_sequence: SequenceNumber::default(),
            next_poll_ms: 0,
            reported_missing: false,
            ours: OurBsses::default(),
            rejected: 0,
            dot11: Dot11Counters::new(),
            tx_power_mw: 0,
            open_error: None,
        }
    }

    pub fn is_monitor(&self) -> bool {
        self.hw_type == ARPHRD_IEEE80211_RADIOTAP
    }

    pub fn counts(&mut self) -> CaptureCounts {
        match &mut self.capture {
            Some(c) => c.counts(),
            None => self.idle_counts,
        }
    }

    pub fn capture_fd(&self) -> Option<RawFd> {
        self.capture.as_ref().map(|c| c.as_fd().as_raw_fd())
    }

    pub fn is_open(&self) -> bool {
        self.capture.is_some()
    }

    /// Closes the socket, keeping the counts.
    pub fn close(&mut self) {
        if let Some(mut c) = self.capture.take() {
            self.idle_counts = c.counts();
        }
    }

    /// Notes the interface's current index (`None`: it does not exist).
    /// A different index closes the socket; a new ifIndex is a new data
    /// source, whose counts and sample sequence numbers start again, as
    /// the specification asks when counts reset. Returns true when the
    /// interface is found missing and was not reported so yet (the caller
    /// reports all of them in one line).
    pub fn set_index(&mut self, index: Option<u32>, hw_type: u16) -> bool {
        if index != self.if_index {
            self.close();
            self.if_index = index;
        }
        self.hw_type = hw_type;
        match index {
            Some(new) => {
                if self.counted_index.is_some_and(|old| old != new) {
                    info!("interface {} was re-created (ifIndex {new})", self.device);
                    self.flow_sequence = SequenceNumber::default();
                    self.counter_sequence = SequenceNumber::default();
                    self.idle_counts = CaptureCounts::default();
                }
                self.counted_index = Some(new);
                false
            }
            None => !std::mem::replace(&mut self.reported_missing, true),
        }
    }

    /// Opens the socket if the interface exists and none is open.
    /// `excluded` are the sampled interfaces; `speed_rate` the rate
    /// chosen from the link speed, used when none is configured.
    pub fn open(&mut self, excluded: &[u32], speed_rate: u32) {
        let Some(if_index) = self.if_index else {
            return;
        };
        if self.capture.is_some() {
            return;
        }
        self.sampling_rate = self.settings.sampling_rate.unwrap_or(speed_rate);
        let snap_len = if self.is_monitor() {
            self.settings.header_bytes + RADIOTAP_ALLOWANCE
        } else {
            self.settings.header_bytes
        };
        let config = CaptureConfig {
            if_index,
            device: self.device.clone(),
            sampling_rate: self.sampling_rate,
            snap_len,
            ring_bytes: self.settings.ring_bytes,
            excluded: if self.is_monitor() {
                Vec::new()
            } else {
                excluded.to_vec()
            },
            filter: self.settings.filter,
        };
        match PacketCapture::open(config, self.idle_counts) {
            Ok(c) => {
                info!(
                    "sampling {} (ifIndex {}{}) at 1-in-{}: {}, {} KiB ring",
                    self.device,
                    if_index,
                    if self.is_monitor() { ", monitor" } else { "" },
                    self.sampling_rate,
                    c.method().describe(),
                    c.ring_bytes() / 1024
                );
                self.capture = Some(c);
                self.reported_missing = false;
                self.open_error = None;
            }
            Err(e) => {
                let denied = matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES));
                let message = if denied {
                    format!(
                        "cannot capture on {}: {e}: wsflowd needs CAP_NET_RAW (run it as \
                         root, or grant the capability, as the OpenWrt service does)",
                        self.device
                    )
                } else {
                    format!("cannot capture on {}: {e}", self.device)
                };
                if !self.reported_missing {
                    if denied {
                        error!("{message}");
                    } else {
                        warn!("{message}");
                    }
                    self.reported_missing = true;
                }
                self.open_error = Some(message);
            }
        }
    }

    /// Applies a sampling rate and exclusion list to the open socket, in
    /// place. On failure the socket is closed (and re-opened later).
    pub fn update_filter(&mut self, excluded: &[u32]) {
        let rate = self.sampling_rate;
        let monitor = self.is_monitor();
        let Some(c) = &mut self.capture else {
            return;
        };
        let excluded = if monitor { &[][..] } else { excluded };
        if let Err(e) = c.update_filter(rate, excluded) {
            warn!("{}: cannot update the sampling filter: {e}", self.device);
            self.close();
        }
    }

    /// Reads and clears a pending socket error (reported by poll), so that
    /// poll does not report it again.
    pub fn clear_error(&mut self) -> io::Result<()> {
        match &self.capture {
            Some(c) => socket::take_error(c.as_fd()),
            None => Ok(()),
        }
    }
}

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
