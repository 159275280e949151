//! The configuration as the agent uses it: typed, validated, complete.
//! Values that are not set have their defaults, which come from the
//! schema (`schema.rs`) and nowhere else.

use std::fmt;
use std::net::IpAddr;

use super::schema;
use crate::log::Level;
use crate::stations::Sources;

/// 1-in-N packet sampling rate of an interface whose link speed is unknown
/// (Wi-Fi interfaces usually report none), when neither the interface nor
/// the agent set one. See [`sampling_rate_for_speed`].
pub const UNKNOWN_SPEED_SAMPLING_RATE: u32 = 400;
/// Smallest 1-in-N rate chosen from a link speed: links of 100 Mbit/s and
/// slower are sampled 1 in 100.
pub const MIN_SPEED_SAMPLING_RATE: u32 = 100;
/// Link speed per unit of the 1-in-N rate chosen from it: one in N frames
/// with N the speed in Mbit/s, as hsflowd does.
pub const SPEED_BPS_PER_SAMPLING_RATE: u64 = 1_000_000;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    pub agent: AgentConfig,
    /// The interfaces to sample and poll, in order, without duplicates or
    /// disabled ones.
    pub interfaces: Vec<InterfaceConfig>,
    /// The enabled collectors, in file order.
    pub collectors: Vec<CollectorConfig>,
}

/// The `agent` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// When false the daemon idles: no sampling, no polling, nothing sent.
    pub enabled: bool,
    pub agent_address: AgentAddress,
    pub sub_agent_id: u32,
    /// Seconds between counter samples; 0 disables counter polling.
    pub polling_interval: u32,
    /// Default 1-in-N sampling rate of the interfaces; `None` means one
    /// chosen for each interface from its link speed, see
    /// [`sampling_rate_for_speed`].
    pub sampling_rate: Option<u32>,
    pub header_bytes: u32,
    pub datagram_bytes: u32,
    pub log_level: Level,
    /// Default receive ring size of the interfaces, in KiB.
    pub ring_kib: u32,
    /// Which kernel socket filter samples the frames.
    pub sampling_filter: SamplingFilter,
    /// ubusd's socket; `None`: OpenWrt's default (`/var/run/ubus/ubus.sock`,
    /// else the older `/var/run/ubus.sock`).
    pub ubus_socket: Option<std::path::PathBuf>,
    /// Where stations and BSSes are learnt from (`list station_source`):
    /// the kernel (nl80211), hostapd's control sockets, hostapd over ubus.
    pub station_sources: Sources,
    /// The directory of hostapd's control sockets.
    pub hostapd_control_dir: std::path::PathBuf,
    /// Collectors (and the agent-wide sampling rate and polling interval)
    /// also from DNS-SD: the SRV and TXT records of `_sflow._udp.DOMAIN`
    /// (`agent/discovery.rs`).
    pub dns_sd: bool,
    /// The DOMAIN of DNS-SD, without a final dot; `None`: the search
    /// domains of /etc/resolv.conf.
    pub dns_sd_domain: Option<String>,
}

impl AgentConfig {
    /// Every field at its "not set" value, before the schema's defaults
    /// are applied: only for [`Default`].
    pub(super) fn unset() -> AgentConfig {
        AgentConfig {
            enabled: false,
            agent_address: AgentAddress::Auto,
            sub_agent_id: 0,
            polling_interval: 0,
            sampling_rate: None,
            header_bytes: 0,
            datagram_bytes: 0,
            log_level: Level::Info,
            ring_kib: 0,
            sampling_filter: SamplingFilter::Auto,
            ubus_socket: None,
            station_sources: Sources::NONE,
            hostapd_control_dir: std::path::PathBuf::new(),
            dns_sd: false,
            dns_sd_domain: None,
        }
    }
}

/// The schema's defaults.
impl Default for AgentConfig {
    fn default() -> Self {
        schema::defaults().agent
    }
}

/// The kernel-side sampling filter (`option sampling_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplingFilter {
    /// eBPF when the kernel allows it, else classic BPF.
    Auto,
    /// eBPF only: an interface where the kernel refuses it is not sampled.
    Ebpf,
    /// Classic BPF only: ingress frames, pool from the receive counter.
    Classic,
}

/// The agent address that identifies this agent in every datagram.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AgentAddress {
    /// Chosen at run time from the configured interfaces.
    #[default]
    Auto,
    /// Set in the configuration.
    Fixed(IpAddr),
    /// The address of this interface.
    Interface(String),
}

/// One interface to sample and poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceConfig {
    /// Linux network device name.
    pub device: String,
    /// Per-interface override of the agent's sampling rate.
    pub sampling_rate: Option<u32>,
    /// Per-interface override of the agent's polling interval.
    pub polling_interval: Option<u32>,
    /// Per-interface override of the agent's receive ring size, in KiB.
    pub ring_kib: Option<u32>,
    /// Monitor interfaces only: the BSSes whose frames are ours, in file
    /// order without repeats. Empty means the BSSIDs of the configured AP
    /// interfaces on the monitor's radio.
    pub bss: Vec<Bss>,
    /// Monitor interfaces only: what to do with frames of other BSSes.
    pub foreign_bss: ForeignBss,
    /// Display name of the section that configured it (`@interface[0]`, or
    /// the agent section for an interface only listed there), for messages.
    pub section: String,
}

/// One item of an interface's `bss` list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bss {
    /// An AP interface whose MAC address is the BSSID.
    Interface(String),
    /// A BSSID given as a MAC address.
    Bssid([u8; 6]),
}

/// What a monitor interface does with frames of BSSes that are not ours
/// (`option foreign_bss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForeignBss {
    /// Not sampled.
    #[default]
    Ignore,
    /// Reported as discarded, reason 263 (promiscuously received packet
    /// not intended for this device).
    Discard,
}

/// One collector to send datagrams to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorConfig {
    /// IP literal (IPv6 without brackets) or DNS host name.
    pub address: String,
    pub port: u16,
    /// Display name of its section, e.g. `@collector[0]`.
    pub section: String,
}

impl AgentConfig {
    /// The configured sampling rate of `interface`: its own, else the
    /// agent's; `None` when neither is set and the rate is to be chosen
    /// from the interface's link speed with [`sampling_rate_for_speed`].
    pub fn sampling_rate_for(&self, interface: &InterfaceConfig) -> Option<u32> {
        interface.sampling_rate.or(self.sampling_rate)
    }

    /// The sampling rate of `interface` given its link speed in bit/s (0
    /// when unknown): [`AgentConfig::sampling_rate_for`], else
    /// [`sampling_rate_for_speed`].
    pub fn sampling_rate_at_speed(&self, interface: &InterfaceConfig, speed_bps: u64) -> u32 {
        self.sampling_rate_for(interface)
            .unwrap_or_else(|| sampling_rate_for_speed(speed_bps))
    }

    /// The polling interval of `interface`: its own, else the agent's.
    pub fn polling_interval_for(&self, interface: &InterfaceConfig) -> u32 {
        interface.polling_interval.unwrap_or(self.polling_interval)
    }

    /// The receive ring size of `interface` in KiB: its own, else the
    /// agent's.
    pub fn ring_kib_for(&self, interface: &InterfaceConfig) -> u32 {
        interface.ring_kib.unwrap_or(self.ring_kib)
    }
}

/// The 1-in-N sampling rate of an interface that neither it nor the agent
/// sets, from its link speed in bit/s, as hsflowd chooses it: N is the
/// speed in Mbit/s (1 Gbit/s: 1-in-1000, 10 Gbit/s: 1-in-10000), at least
/// [`MIN_SPEED_SAMPLING_RATE`] and at most [`schema::MAX_SAMPLING_RATE`];
/// [`UNKNOWN_SPEED_SAMPLING_RATE`] when the speed is unknown (0).
pub fn sampling_rate_for_speed(speed_bps: u64) -> u32 {
    if speed_bps == 0 {
        return UNKNOWN_SPEED_SAMPLING_RATE;
    }
    let rate = (speed_bps / SPEED_BPS_PER_SAMPLING_RATE).clamp(
        u64::from(MIN_SPEED_SAMPLING_RATE),
        u64::from(schema::MAX_SAMPLING_RATE),
    );
    u32::try_from(rate).unwrap_or(schema::MAX_SAMPLING_RATE)
}

impl SamplingFilter {
    /// Every filter, in the order of [`Self::WORDS`].
    pub const ALL: [SamplingFilter; 3] = [
        SamplingFilter::Auto,
        SamplingFilter::Ebpf,
        SamplingFilter::Classic,
    ];
    /// The words that select them in the configuration.
    pub const WORDS: [&'static str; 3] = ["auto", "ebpf", "classic"];

    /// The word that selects it in the configuration.
    pub fn name(self) -> &'static str {
        Self::WORDS[self as usize]
    }
}

impl fmt::Display for SamplingFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl ForeignBss {
    /// Every choice, in the order of [`Self::WORDS`].
    pub const ALL: [ForeignBss; 2] = [ForeignBss::Ignore, ForeignBss::Discard];
    /// The words that select them in the configuration.
    pub const WORDS: [&'static str; 2] = ["ignore", "discard"];

    /// The word that selects it in the configuration.
    pub fn name(self) -> &'static str {
        Self::WORDS[self as usize]
    }
}

impl fmt::Display for ForeignBss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An interface name as it is, a BSSID as `aa:bb:cc:dd:ee:ff`.
impl fmt::Display for Bss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bss::Interface(name) => f.write_str(name),
            Bss::Bssid(mac) => write!(
                f,
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
            ),
        }
    }
}

impl InterfaceConfig {
    /// An interface with every setting the agent's (the interface is only
    /// listed in the agent section `section`).
    pub fn new(device: &str, section: &str) -> Self {
        InterfaceConfig {
            device: device.to_owned(),
            sampling_rate: None,
            polling_interval: None,
            ring_kib: None,
            bss: Vec::new(),
            foreign_bss: ForeignBss::Ignore,
            section: section.to_owned(),
        }
    }

    /// See [`AgentConfig::polling_interval_for`].
    pub fn effective_polling_interval(&self, agent: &AgentConfig) -> u32 {
        agent.polling_interval_for(self)
    }
}
