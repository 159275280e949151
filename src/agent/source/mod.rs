//! A sampled and polled interface: one sFlow data source, with the role
//! its link gives it, and one sample builder per role:
//!
//! - [`Role::Wired`] (Ethernet, loopback, layer 3 links): the frame's
//!   header and its path through the bridge (`wired.rs`);
//! - [`Role::AccessPoint`]: the same, with the radio context of the
//!   station the frame comes from or goes to, and 802.11 counters
//!   (`access_point.rs`);
//! - [`Role::Monitor`]: radiotap + 802.11 frames, our BSSes' only or the
//!   others' as discards (`monitor.rs`).

pub mod access_point;
pub mod monitor;
pub mod wired;

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use crate::capture::{CaptureConfig, CaptureCounts, ClassicEgress, FilterChoice, PacketCapture};
use crate::config::{Bss, ForeignBss};
use crate::counters::dot11::Dot11Counters;
use crate::sflow::{
    DataSource as SflowSource, FlowRecord, FlowSample, Interface, List, SequenceNumber,
};
use crate::sys::socket;
use crate::{debug, error, info, warn};
use access_point::AccessPoint;
use libc::ARPHRD_IEEE80211_RADIOTAP;
use monitor::{Monitor, SsidTable};

use super::path::Topology;
use super::Output;
use crate::stations::StationTable;

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

/// What a data source is, from its link: what its samples carry and which
/// counters it has.
#[derive(Debug)]
pub enum Role {
    Wired,
    /// Boxed: its counters' state is large, and most sources are wired.
    AccessPoint(Box<AccessPoint>),
    Monitor(Monitor),
}

/// Which role a link calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKind {
    Wired,
    AccessPoint,
    Monitor,
}

impl RoleKind {
    /// For the log (`{:?}` would link Debug's machinery).
    pub fn name(self) -> &'static str {
        match self {
            RoleKind::Wired => "Wired",
            RoleKind::AccessPoint => "AccessPoint",
            RoleKind::Monitor => "Monitor",
        }
    }
}

impl Role {
    pub fn kind(&self) -> RoleKind {
        match self {
            Role::Wired => RoleKind::Wired,
            Role::AccessPoint(_) => RoleKind::AccessPoint,
            Role::Monitor(_) => RoleKind::Monitor,
        }
    }
}

/// What the sample builders read and where samples go.
pub struct Context<'a> {
    pub now_ms: u32,
    pub topology: &'a Topology,
    pub stations: &'a StationTable,
    /// SSIDs learned from beacons by every monitor.
    pub ssids: &'a mut SsidTable,
    /// Room for the header of an A-MPDU subframe sample.
    pub scratch: &'a mut Vec<u8>,
    pub out: &'a mut Output,
}

/// What every flow sample of a data source shares.
pub struct Sampler<'a> {
    pub if_index: u32,
    pub rate: u32,
    pub header_bytes: usize,
    pub sequence: &'a mut SequenceNumber,
}

impl Sampler<'_> {
    /// Encodes one flow sample into the pending datagram.
    pub fn emit(
        &mut self,
        out: &mut Output,
        now_ms: u32,
        counts: &CaptureCounts,
        (input, output): (Interface, Interface),
        records: &[FlowRecord],
    ) {
        let sample = FlowSample {
            sequence_number: self.sequence.advance(),
            source: SflowSource::interface(self.if_index),
            sampling_rate: self.rate,
            sample_pool: counts.pool as u32,
            drops: counts.drops as u32,
            input,
            output,
            records: List::Items(records),
        };
        out.flow(&sample, now_ms);
    }
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
    capture: Option<PacketCapture>,
    /// Counts kept while no socket is open.
    idle_counts: CaptureCounts,
    pub flow_sequence: SequenceNumber,
    pub counter_sequence: SequenceNumber,
    /// Agent uptime (ms) at which counters are next due.
    pub next_poll_ms: u64,
    reported_missing: bool,
    /// Why the socket could not be opened, while it cannot (for the log
    /// once, and the status).
    pub open_error: Option<String>,
    pub role: Role,
    /// The interface's traffic at its last counter sample (for the status
    /// page's graphs).
    pub traffic: Option<Traffic>,
}

/// An interface's traffic counters as the kernel gave them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Agent uptime when read, ms.
    pub at_ms: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_packets: u64,
    pub tx_packets: u64,
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
            open_error: None,
            role: Role::Wired,
            traffic: None,
        }
    }

    /// A monitor interface (radiotap frames), by its link type.
    pub fn is_monitor(&self) -> bool {
        self.hw_type == ARPHRD_IEEE80211_RADIOTAP
    }

    /// Takes the role `kind`, keeping the state of the one it has if it is
    /// the same.
    pub fn set_role(&mut self, kind: RoleKind) {
        if self.role.kind() == kind {
            return;
        }
        self.role = match kind {
            RoleKind::Wired => Role::Wired,
            RoleKind::AccessPoint => Role::AccessPoint(Box::new(AccessPoint {
                dot11: Dot11Counters::new(),
                tx_power_mw: 0,
                utilization: None,
                radio: None,
            })),
            RoleKind::Monitor => Role::Monitor(Monitor::default()),
        };
        debug!("{}: sampled as {}", self.device, kind.name());
    }

    /// Reads the sampled frames and encodes their samples, each by the
    /// builder of the source's role; returns how many frames it read.
    pub fn read(&mut self, revents: i16, ctx: &mut Context) -> usize {
        if revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
            // Read the error so poll does not report it again (no busy
            // loop); a socket that hangs up is closed and re-opened when
            // the interface comes back (netlink tells).
            if let Err(e) = self.clear_error() {
                debug!("{}: {}", self.device, e);
            }
            if revents & (libc::POLLHUP | libc::POLLNVAL) != 0 {
                self.close();
                return 0;
            }
        }
        let (Some(if_index), Some(capture)) = (self.if_index, &mut self.capture) else {
            return 0;
        };
        let mut sampler = Sampler {
            if_index,
            rate: self.sampling_rate,
            header_bytes: self.settings.header_bytes as usize,
            sequence: &mut self.flow_sequence,
        };
        let result = match &mut self.role {
            Role::Monitor(m) => {
                let foreign = self.settings.foreign_bss;
                capture.read_pending(|frame, counts| {
                    m.sample(frame, counts, foreign, &mut sampler, ctx)
                })
            }
            Role::AccessPoint(ap) => {
                let stations = ctx.stations;
                let bss = stations.by_ifname(&self.device);
                let power = ap.tx_power_mw;
                capture.read_pending(|frame, counts| {
                    access_point::sample(frame, counts, bss, power, &mut sampler, ctx)
                })
            }
            Role::Wired => capture
                .read_pending(|frame, counts| wired::sample(frame, counts, &mut sampler, ctx)),
        };
        match result {
            Ok(read) => read,
            // The interface went down: the socket stays bound and resumes
            // when it comes back up.
            Err(e) if e.raw_os_error() == Some(libc::ENETDOWN) => {
                debug!("{}: {}", self.device, e);
                0
            }
            Err(e) => {
                warn!("{}: capture failed: {}; closing", self.device, e);
                self.close();
                0
            }
        }
    }

    /// Stops sampling (the agent exits): the filter takes no more frames,
    /// so the pool stops moving and the frames sampled before can all be
    /// read (see [`InterfaceSource::frames_in_kernel`]).
    pub fn stop_sampling(&mut self) {
        if let Some(c) = &mut self.capture {
            if let Err(e) = c.stop_sampling() {
                debug!("{}: cannot stop the filter: {e}", self.device);
            }
        }
    }

    /// Sampled frames the kernel has not handed over yet (it will within
    /// two block timeouts).
    pub fn frames_in_kernel(&self) -> usize {
        self.capture.as_ref().map_or(0, |c| c.frames_in_kernel())
    }

    pub fn counts(&mut self) -> CaptureCounts {
        match &mut self.capture {
            Some(c) => c.counts(),
            None => self.idle_counts,
        }
    }

    /// How the open socket samples (its filter) and its ring's size.
    pub fn capture_info(&self) -> Option<(&'static str, usize)> {
        self.capture
            .as_ref()
            .map(|c| (c.method().describe(), c.ring_bytes()))
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
            classic_egress: self.classic_egress(excluded),
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
        let classic_egress = self.classic_egress(excluded);
        let Some(c) = &mut self.capture else {
            return;
        };
        let excluded = if monitor { &[][..] } else { excluded };
        let method = c.method();
        if let Err(e) = c.update_filter(rate, excluded, classic_egress) {
            warn!("{}: cannot update the sampling filter: {e}", self.device);
            self.close();
        } else if c.method() != method {
            info!("sampling {}: {}", self.device, c.method().describe());
        }
    }

    /// What a classic filter may sample of the interface's egress frames,
    /// `sampled` being the sampled interfaces (monitors aside): classic
    /// BPF cannot tell where a frame entered, so it samples them only when
    /// no other sampled interface can forward a frame out of this one
    /// (which would count the frame twice); a monitor's are injected.
    fn classic_egress(&self, sampled: &[u32]) -> ClassicEgress {
        let alone = self.if_index.is_some_and(|i| sampled == [i]);
        if alone && !self.is_monitor() {
            ClassicEgress::NotRelayCopies
        } else {
            ClassicEgress::None
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
