//! The typed, validated configuration of wsflowd.
//!
//! The configuration is a UCI file, `/etc/config/wsflowd` by default, read
//! with [`uci::parse`] and checked here into a [`Config`]:
//!
//! ```text
//! config agent 'agent'
//!     option polling_interval '20'
//!     option sampling_rate '400'
//!     list interface 'wlan0'
//!
//! config interface
//!     option device 'wlan0'
//!     option sampling_rate '100'
//!
//! config interface
//!     option device 'mon0'
//!     list bss 'wlan0'
//!
//! config collector
//!     option address '192.0.2.10'
//! ```
//!
//! Validation fails on the first error in file order, with the file, the
//! line, the section as `uci show` names it and the option, so that a typo
//! can be found at once. Unknown options and section types are only
//! warnings, so that an older agent still starts with a newer file.
//! `docs/configuration.md` is the reference for users.

pub mod uci;

pub use self::uci::{Package, ParseError, Section, UciOption, Value};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;

use crate::log::Level;

/// Where the daemon reads its configuration unless told otherwise.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/config/wsflowd";
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
/// Seconds between counter samples of a data source.
pub const DEFAULT_POLLING_INTERVAL: u32 = 20;
/// Bytes of each sampled frame that are exported.
pub const DEFAULT_HEADER_BYTES: u32 = 128;
/// Largest UDP payload sent to a collector.
pub const DEFAULT_DATAGRAM_BYTES: u32 = 1400;
/// Receive ring of each sampled interface, in KiB.
pub const DEFAULT_RING_KIB: u32 = 256;
/// The IANA port for sFlow.
pub const DEFAULT_COLLECTOR_PORT: u16 = 6343;

/// Largest 1-in-N sampling rate accepted (2^24 - 1).
pub const MAX_SAMPLING_RATE: u32 = 16_777_215;
/// Longest polling interval, one day.
pub const MAX_POLLING_INTERVAL: u32 = 86_400;
pub const MIN_HEADER_BYTES: u32 = 16;
pub const MAX_HEADER_BYTES: u32 = 512;
pub const MIN_DATAGRAM_BYTES: u32 = 256;
pub const MAX_DATAGRAM_BYTES: u32 = 9000;
pub const MIN_RING_KIB: u32 = 16;
/// 64 MiB.
pub const MAX_RING_KIB: u32 = 65_536;
/// Room that a datagram must keep beyond one sampled header, for the
/// datagram, sample and record headers.
pub const DATAGRAM_HEADROOM: u32 = 256;
/// Configuration files larger than this are refused.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

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
}

/// The kernel-side sampling filter (`option sampling_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SamplingFilter {
    /// eBPF when the kernel allows it, else classic BPF.
    #[default]
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

/// A validated configuration and the warnings found on the way, each one
/// formatted like an error (`file:line: message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    /// 1-based line, or 0 when the error is not about one line.
    pub line: usize,
    /// Display name of the section (`'agent'`, `@collector[1]`).
    pub section: Option<String>,
    pub option: Option<String>,
    pub message: String,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            enabled: true,
            agent_address: AgentAddress::Auto,
            sub_agent_id: 0,
            polling_interval: DEFAULT_POLLING_INTERVAL,
            sampling_rate: None,
            header_bytes: DEFAULT_HEADER_BYTES,
            datagram_bytes: DEFAULT_DATAGRAM_BYTES,
            log_level: Level::Info,
            ring_kib: DEFAULT_RING_KIB,
            sampling_filter: SamplingFilter::Auto,
            ubus_socket: None,
        }
    }
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
/// [`MIN_SPEED_SAMPLING_RATE`] and at most [`MAX_SAMPLING_RATE`];
/// [`UNKNOWN_SPEED_SAMPLING_RATE`] when the speed is unknown (0).
pub fn sampling_rate_for_speed(speed_bps: u64) -> u32 {
    if speed_bps == 0 {
        return UNKNOWN_SPEED_SAMPLING_RATE;
    }
    let rate = (speed_bps / SPEED_BPS_PER_SAMPLING_RATE).clamp(
        u64::from(MIN_SPEED_SAMPLING_RATE),
        u64::from(MAX_SAMPLING_RATE),
    );
    u32::try_from(rate).unwrap_or(MAX_SAMPLING_RATE)
}

impl SamplingFilter {
    /// The word that selects it in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            SamplingFilter::Auto => "auto",
            SamplingFilter::Ebpf => "ebpf",
            SamplingFilter::Classic => "classic",
        }
    }
}

impl fmt::Display for SamplingFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl ForeignBss {
    /// The word that selects it in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            ForeignBss::Ignore => "ignore",
            ForeignBss::Discard => "discard",
        }
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

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: ", self.file)?;
        } else {
            write!(f, "{}:{}: ", self.file, self.line)?;
        }
        match (&self.option, &self.section) {
            (Some(option), Some(section)) => write!(f, "option '{option}' in section {section}: ")?,
            (Some(option), None) => write!(f, "option '{option}': ")?,
            (None, Some(section)) => write!(f, "section {section}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn from_parse(file: &str, error: ParseError) -> Self {
        ConfigError {
            file: file.to_owned(),
            line: error.line,
            section: None,
            option: None,
            message: error.message,
        }
    }

    fn from_io(file: &str, what: &str, error: &std::io::Error) -> Self {
        // "No such file or directory (os error 2)": the number is noise.
        let text = error.to_string();
        let text = match text.rfind(" (os error ") {
            Some(at) => &text[..at],
            None => &text[..],
        };
        ConfigError {
            file: file.to_owned(),
            line: 0,
            section: None,
            option: None,
            message: format!("{what}: {text}"),
        }
    }
}

/// Reads and validates the configuration file at `path`.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let file = path.display().to_string();
    let mut text = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut text))
        .map_err(|e| ConfigError::from_io(&file, "cannot read", &e))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigError {
            file,
            line: 0,
            section: None,
            option: None,
            message: format!("file too large (more than {MAX_FILE_BYTES} bytes)"),
        });
    }
    parse(&text, &file)
}

/// Parses and validates configuration text; `file` names it in messages.
pub fn parse(text: &[u8], file: &str) -> Result<Loaded, ConfigError> {
    let package = uci::parse(text).map_err(|e| ConfigError::from_parse(file, e))?;
    from_uci(&package, file)
}

/// Validates a parsed UCI package into a [`Config`].
pub fn from_uci(package: &Package, file: &str) -> Result<Loaded, ConfigError> {
    let mut check = Checker {
        file,
        error: None,
        warnings: Vec::new(),
    };
    let config = check.config(package);
    if let Some(error) = check.error {
        return Err(error);
    }
    let mut warnings = check.warnings;
    // File order, with the warnings about the whole file last.
    warnings.sort_by_key(|&(line, _)| if line == 0 { usize::MAX } else { line });
    let warnings = warnings
        .into_iter()
        .map(|(line, message)| match line {
            0 => format!("{file}: {message}"),
            _ => format!("{file}:{line}: {message}"),
        })
        .collect();
    Ok(Loaded { config, warnings })
}

/// Parses a UCI boolean: `1/0`, `yes/no`, `on/off`, `true/false` or
/// `enabled/disabled`, in any case.
pub fn parse_bool(text: &str) -> Option<bool> {
    const TRUE: [&str; 5] = ["1", "yes", "on", "true", "enabled"];
    const FALSE: [&str; 5] = ["0", "no", "off", "false", "disabled"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

/// Whether Linux accepts `name` as a network device name (the kernel's
/// `dev_valid_name`): 1 to 15 bytes, not `.` or `..`, without `/`, `:` or
/// whitespace.
pub fn is_valid_interface_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name != "."
        && name != ".."
        // The kernel's isspace() also counts 0xA0 (Latin-1 no-break space).
        && !name
            .bytes()
            .any(|b| matches!(b, b'/' | b':' | b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0xa0))
}

/// Checks a collector address: an IPv4 or IPv6 literal (IPv6 may be in
/// brackets, which are removed) or a DNS host name. Returns the address to
/// use, or what is wrong with it.
pub fn parse_host(text: &str) -> Result<String, &'static str> {
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return match inner.parse::<Ipv6Addr>() {
            Ok(_) => Ok(inner.to_owned()),
            Err(_) => Err("expected an IPv6 address inside the brackets"),
        };
    }
    if text.parse::<IpAddr>().is_ok() {
        return Ok(text.to_owned());
    }
    if text.contains(':') {
        let port_like = text
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        return Err(if port_like {
            "expected an IP address or host name without a port (set the port with option 'port')"
        } else {
            "expected an IPv4 address, an IPv6 address or a host name"
        });
    }
    if is_dns_name(text) {
        Ok(text.to_owned())
    } else {
        Err("expected an IPv4 address, an IPv6 address or a host name")
    }
}

/// Parses a MAC address written as six pairs of hex digits separated by
/// `:` or `-` (the same separator throughout), in any case:
/// `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF`.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let bytes = text.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let separator = bytes[2];
    if separator != b':' && separator != b'-' {
        return None;
    }
    let mut mac = [0u8; 6];
    for (i, byte) in mac.iter_mut().enumerate() {
        let at = i * 3;
        if i > 0 && bytes[at - 1] != separator {
            return None;
        }
        *byte = (hex_digit(bytes[at])? << 4) | hex_digit(bytes[at + 1])?;
    }
    Some(mac)
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Labels of 1 to 63 letters, digits and `-` (not first or last), 253
/// characters in all, with an optional final dot. A name whose last label
/// is all digits is taken for a mistyped IPv4 address and refused.
fn is_dns_name(text: &str) -> bool {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    let numeric_tail = name
        .rsplit('.')
        .next()
        .is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()));
    labels_ok && !numeric_tail
}

/// What values an option takes: the checks below and the LuCI page
/// (`luci-app-wsflowd/`, compared with this table by `tests/luci_app.rs`) follow
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `1/0`, `yes/no`, `on/off`, `true/false`, `enabled/disabled`, in any
    /// case; see [`parse_bool`].
    Bool,
    /// Decimal digits only, from `min` to `max`; messages say "`what` from
    /// `min` to `max`".
    Integer {
        min: u64,
        max: u64,
        what: &'static str,
    },
    /// One of `words`, in any case, or one of the `aliases` (an alias and
    /// the word it stands for).
    Word {
        words: &'static [&'static str],
        aliases: &'static [(&'static str, &'static str)],
    },
    /// An IPv4 or IPv6 address or a DNS host name, without a port; see
    /// [`parse_host`].
    Host,
    /// An IPv4 or IPv6 address, or an interface name that is not all
    /// digits and dots.
    AgentAddress,
    /// A Linux interface name; see [`is_valid_interface_name`].
    Interface,
    /// An interface name or a unicast BSSID; see [`parse_mac`].
    Bss,
    /// An absolute path of at most 107 bytes (a Unix socket's path).
    SocketPath,
}

/// One option of one section type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// The section type: `agent`, `interface` or `collector`.
    pub section: &'static str,
    pub name: &'static str,
    pub kind: Kind,
    /// Set with `list` (each item may also hold several words separated by
    /// spaces); the other options take one value, and `list` is an error.
    pub list: bool,
    /// The section is refused without it.
    pub required: bool,
    /// The value in force when the option is not set, as it would be
    /// written; `None` when there is none (required, a list, or chosen at
    /// run time, like the sampling rate from the link speed).
    pub default: Option<&'static str>,
}

const fn spec(section: &'static str, name: &'static str, kind: Kind) -> OptionSpec {
    OptionSpec {
        section,
        name,
        kind,
        list: false,
        required: false,
        default: None,
    }
}

const fn with_default(spec: OptionSpec, default: &'static str) -> OptionSpec {
    OptionSpec {
        default: Some(default),
        ..spec
    }
}

const fn integer(min: u32, max: u32, what: &'static str) -> Kind {
    Kind::Integer {
        min: min as u64,
        max: max as u64,
        what,
    }
}

const SECONDS: Kind = integer(0, MAX_POLLING_INTERVAL, "a whole number of seconds");
const RATE: Kind = integer(1, MAX_SAMPLING_RATE, "a 1-in-N rate");
const RING: Kind = integer(MIN_RING_KIB, MAX_RING_KIB, "a whole number of KiB");
const LOG_LEVELS: Kind = Kind::Word {
    words: &["error", "warning", "info", "debug"],
    aliases: &[("err", "error"), ("warn", "warning"), ("notice", "info")],
};
const SAMPLING_FILTER_WORDS: Kind = Kind::Word {
    words: &["auto", "ebpf", "classic"],
    aliases: &[],
};
const FOREIGN_BSS_WORDS: Kind = Kind::Word {
    words: &["ignore", "discard"],
    aliases: &[],
};

/// Every option of every section type, with its values, limits and
/// default. The checks take their ranges and words from here.
pub const SCHEMA: &[OptionSpec] = &[
    with_default(spec("agent", "enabled", Kind::Bool), "1"),
    spec("agent", "agent_address", Kind::AgentAddress),
    with_default(
        spec(
            "agent",
            "sub_agent_id",
            integer(0, u32::MAX, "a whole number"),
        ),
        "0",
    ),
    with_default(spec("agent", "polling_interval", SECONDS), "20"),
    spec("agent", "sampling_rate", RATE),
    with_default(
        spec(
            "agent",
            "header_bytes",
            integer(
                MIN_HEADER_BYTES,
                MAX_HEADER_BYTES,
                "a whole number of bytes",
            ),
        ),
        "128",
    ),
    with_default(
        spec(
            "agent",
            "datagram_bytes",
            integer(
                MIN_DATAGRAM_BYTES,
                MAX_DATAGRAM_BYTES,
                "a whole number of bytes",
            ),
        ),
        "1400",
    ),
    with_default(spec("agent", "log_level", LOG_LEVELS), "info"),
    with_default(spec("agent", "ring_kib", RING), "256"),
    with_default(
        spec("agent", "sampling_filter", SAMPLING_FILTER_WORDS),
        "auto",
    ),
    spec("agent", "ubus_socket", Kind::SocketPath),
    OptionSpec {
        list: true,
        ..spec("agent", "interface", Kind::Interface)
    },
    OptionSpec {
        required: true,
        ..spec("interface", "device", Kind::Interface)
    },
    with_default(spec("interface", "enabled", Kind::Bool), "1"),
    spec("interface", "sampling_rate", RATE),
    spec("interface", "polling_interval", SECONDS),
    spec("interface", "ring_kib", RING),
    OptionSpec {
        list: true,
        ..spec("interface", "bss", Kind::Bss)
    },
    with_default(
        spec("interface", "foreign_bss", FOREIGN_BSS_WORDS),
        "ignore",
    ),
    with_default(spec("collector", "enabled", Kind::Bool), "1"),
    OptionSpec {
        required: true,
        ..spec("collector", "address", Kind::Host)
    },
    with_default(
        spec("collector", "port", integer(1, 65535, "a port number")),
        "6343",
    ),
];

/// The section types, in the order the checks read them.
pub const SECTION_TYPES: &[&str] = &["agent", "interface", "collector"];

/// The option `name` of sections of type `section`.
pub fn option_spec(section: &str, name: &str) -> Option<&'static OptionSpec> {
    SCHEMA
        .iter()
        .find(|o| o.section == section && o.name == name)
}

/// The names of the options of a section type.
fn options_of(kind: &str) -> Vec<&'static str> {
    SCHEMA
        .iter()
        .filter(|o| o.section == kind)
        .map(|o| o.name)
        .collect()
}

const SAMPLING_FILTERS: &[(&str, SamplingFilter)] = &[
    ("auto", SamplingFilter::Auto),
    ("ebpf", SamplingFilter::Ebpf),
    ("classic", SamplingFilter::Classic),
];
const FOREIGN_BSS: &[(&str, ForeignBss)] = &[
    ("ignore", ForeignBss::Ignore),
    ("discard", ForeignBss::Discard),
];

/// The options of a section in the order of their lines, so that the first
/// error reported is the first in the file.
fn by_line(section: &Section) -> Vec<&UciOption> {
    let mut options: Vec<&UciOption> = section.options.iter().collect();
    options.sort_by_key(|o| o.line);
    options
}

/// A value quoted for a message: at most 64 characters, control
/// characters escaped.
fn quoted(value: &str) -> String {
    let mut out = String::from("'");
    for (i, c) in value.chars().enumerate() {
        if i == 64 {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Decimal digits only: no sign, no spaces, no `0x`.
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.bytes().try_fold(0u64, |n, b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// Edit distance, for "did you mean" hints on short names.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The known name closest to a misspelt one, if close enough.
fn suggestion(unknown: &str, known: &[&'static str]) -> Option<&'static str> {
    if unknown.len() > 64 {
        return None;
    }
    let lower = unknown.to_ascii_lowercase();
    known
        .iter()
        .map(|&k| (distance(&lower, k), k))
        .filter(|&(d, k)| d <= 2.max(k.len() / 4))
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

/// A section of type `interface` as read, before merging with the agent's
/// list.
struct InterfaceSection {
    device: Option<(String, usize)>,
    enabled: bool,
    sampling_rate: Option<u32>,
    polling_interval: Option<u32>,
    ring_kib: Option<u32>,
    bss: Vec<Bss>,
    foreign_bss: ForeignBss,
}

struct Checker<'a> {
    file: &'a str,
    /// The error with the lowest line so far.
    error: Option<ConfigError>,
    warnings: Vec<(usize, String)>,
}

impl Checker<'_> {
    fn fail(&mut self, line: usize, section: &Section, option: Option<&str>, message: String) {
        if self.error.as_ref().is_some_and(|e| e.line <= line) {
            return;
        }
        self.error = Some(ConfigError {
            file: self.file.to_owned(),
            line,
            section: Some(section.display_name()),
            option: option.map(str::to_owned),
            message,
        });
    }

    fn invalid(
        &mut self,
        section: &Section,
        option: &UciOption,
        line: usize,
        value: &str,
        expected: &str,
    ) {
        let message = format!("invalid value {}: expected {expected}", quoted(value));
        self.fail(line, section, Some(&option.name), message);
    }

    fn warn(&mut self, line: usize, message: String) {
        self.warnings.push((line, message));
    }

    fn unknown_option(&mut self, section: &Section, option: &UciOption) {
        let mut message = format!(
            "unknown option '{}' in section {}, ignored",
            option.name,
            section.display_name()
        );
        let own = options_of(&section.kind);
        if let Some(hint) = suggestion(&option.name, &own) {
            message.push_str(&format!(" (did you mean '{hint}'?)"));
        } else if let Some(kind) = SECTION_TYPES
            .iter()
            .find(|&&k| k != section.kind && options_of(k).contains(&option.name.as_str()))
        {
            let article = if kind.starts_with(['a', 'i']) {
                "an"
            } else {
                "a"
            };
            message.push_str(&format!(" (it belongs in {article} '{kind}' section)"));
        }
        self.warn(option.line, message);
    }

    /// The value of an option that takes one value; a list is an error.
    fn single<'o>(&mut self, section: &Section, option: &'o UciOption) -> Option<&'o str> {
        match &option.value {
            Value::Single(value) => Some(value),
            Value::List(_) => {
                let message = format!(
                    "expected a single value, not a list: set it with 'option {}', not 'list'",
                    option.name
                );
                self.fail(option.line, section, Some(&option.name), message);
                None
            }
        }
    }

    fn boolean(&mut self, section: &Section, option: &UciOption) -> Option<bool> {
        let value = self.single(section, option)?;
        let parsed = parse_bool(value);
        if parsed.is_none() {
            let expected = "a boolean: 1/0, yes/no, on/off, true/false or enabled/disabled";
            self.invalid(section, option, option.line, value, expected);
        }
        parsed
    }

    /// An integer option, with the range and message of its [`SCHEMA`]
    /// entry.
    fn integer(&mut self, section: &Section, option: &UciOption) -> Option<u32> {
        let Some(&OptionSpec {
            kind: Kind::Integer { min, max, what },
            ..
        }) = option_spec(&section.kind, &option.name)
        else {
            unreachable!("{} is not an integer option", option.name)
        };
        let value = self.single(section, option)?;
        match parse_decimal(value) {
            Some(n) if (min..=max).contains(&n) => u32::try_from(n).ok(),
            _ => {
                let mut expected = format!("{what} from {min} to {max}");
                if option.name == "sampling_rate" && value == "0" {
                    expected.push_str(" (to stop sampling an interface, set 'enabled' to '0' in its interface section)");
                }
                self.invalid(section, option, option.line, value, &expected);
                None
            }
        }
    }

    /// A word option: one of the words of its [`SCHEMA`] entry or an
    /// alias, in any case, as the canonical word.
    fn word(&mut self, section: &Section, option: &UciOption) -> Option<&'static str> {
        let Some(&OptionSpec {
            kind: Kind::Word { words, aliases },
            ..
        }) = option_spec(&section.kind, &option.name)
        else {
            unreachable!("{} is not a word option", option.name)
        };
        let value = self.single(section, option)?;
        let lower = value.to_ascii_lowercase();
        if let Some(&word) = words.iter().find(|&&w| w == lower) {
            return Some(word);
        }
        if let Some(&(_, word)) = aliases.iter().find(|&&(a, _)| a == lower) {
            return Some(word);
        }
        let expected = format!("one of {}", words.join(", "));
        self.invalid(section, option, option.line, value, &expected);
        None
    }

    /// A word option mapped to its value.
    fn choice<T: Copy>(
        &mut self,
        section: &Section,
        option: &UciOption,
        choices: &[(&str, T)],
    ) -> Option<T> {
        let word = self.word(section, option)?;
        choices
            .iter()
            .find(|&&(w, _)| w == word)
            .map(|&(_, value)| value)
    }

    fn interface_name(
        &mut self,
        section: &Section,
        option: &UciOption,
        line: usize,
        name: &str,
    ) -> bool {
        if is_valid_interface_name(name) {
            return true;
        }
        let message = format!(
            "invalid interface name {}: expected 1 to 15 characters without '/', ':' or spaces",
            quoted(name)
        );
        self.fail(line, section, Some(&option.name), message);
        false
    }

    fn config(&mut self, package: &Package) -> Config {
        let mut config = Config::default();
        let mut listed: Vec<(String, usize)> = Vec::new();
        let mut agent_section: Option<&Section> = None;
        for section in package.sections_of("agent") {
            if let Some(first) = agent_section {
                let message = format!(
                    "only one 'agent' section is allowed, the first is {} (line {})",
                    first.display_name(),
                    first.line
                );
                self.fail(section.line, section, None, message);
                continue;
            }
            agent_section = Some(section);
            config.agent = self.agent(section, &mut listed);
        }

        // The agent's list, then the interface sections' own devices.
        let agent_name = agent_section.map(Section::display_name).unwrap_or_default();
        let mut interfaces: Vec<Option<InterfaceConfig>> = Vec::new();
        let mut position: BTreeMap<String, usize> = BTreeMap::new();
        for (device, _) in listed {
            position.insert(device.clone(), interfaces.len());
            interfaces.push(Some(InterfaceConfig::new(&device, &agent_name)));
        }
        let mut configured: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for section in package.sections_of("interface") {
            let read = self.interface(section);
            let Some((device, line)) = read.device else {
                continue;
            };
            if let Some((other, other_line)) = configured.get(&device) {
                let message = format!(
                    "device '{device}' is already configured in section {other} (line {other_line})"
                );
                self.fail(line, section, Some("device"), message);
                continue;
            }
            configured.insert(device.clone(), (section.display_name(), line));
            let entry = InterfaceConfig {
                device: device.clone(),
                sampling_rate: read.sampling_rate,
                polling_interval: read.polling_interval,
                ring_kib: read.ring_kib,
                bss: read.bss,
                foreign_bss: read.foreign_bss,
                section: section.display_name(),
            };
            match position.get(&device) {
                Some(&at) => interfaces[at] = read.enabled.then_some(entry),
                None if read.enabled => {
                    position.insert(device, interfaces.len());
                    interfaces.push(Some(entry));
                }
                None => {}
            }
        }
        config.interfaces = interfaces.into_iter().flatten().collect();

        let mut seen: BTreeSet<(String, u16)> = BTreeSet::new();
        for section in package.sections_of("collector") {
            if let Some(collector) = self.collector(section) {
                let key = (collector.address.to_ascii_lowercase(), collector.port);
                if seen.insert(key) {
                    config.collectors.push(collector);
                } else {
                    let message = format!(
                        "collector {} port {} in section {} is configured twice, ignored",
                        collector.address, collector.port, collector.section
                    );
                    self.warn(section.line, message);
                }
            }
        }

        for section in &package.sections {
            if !SECTION_TYPES.contains(&section.kind.as_str()) {
                let mut message = format!(
                    "unknown section type '{}' ({}), ignored",
                    section.kind,
                    section.display_name()
                );
                if let Some(hint) = suggestion(&section.kind, SECTION_TYPES) {
                    message.push_str(&format!(" (did you mean '{hint}'?)"));
                }
                self.warn(section.line, message);
            }
        }

        if config.agent.enabled {
            if config.collectors.is_empty() {
                let message = "no collector configured: samples will not be sent anywhere";
                self.warn(0, message.to_owned());
            }
            if config.interfaces.is_empty() {
                let message = "no interface configured: nothing will be sampled or polled";
                self.warn(0, message.to_owned());
            }
        }
        config
    }

    /// Reads the agent section; the devices of its `interface` option, each
    /// with its line, go to `listed`.
    fn agent(&mut self, section: &Section, listed: &mut Vec<(String, usize)>) -> AgentConfig {
        let mut agent = AgentConfig::default();
        let mut datagram_line = None;
        let mut header_line = None;
        for option in by_line(section) {
            match option.name.as_str() {
                "enabled" => {
                    if let Some(v) = self.boolean(section, option) {
                        agent.enabled = v;
                    }
                }
                "agent_address" => {
                    if let Some(v) = self.agent_address(section, option) {
                        agent.agent_address = v;
                    }
                }
                "sub_agent_id" => {
                    if let Some(v) = self.integer(section, option) {
                        agent.sub_agent_id = v;
                    }
                }
                "polling_interval" => {
                    if let Some(v) = self.integer(section, option) {
                        agent.polling_interval = v;
                    }
                }
                "sampling_rate" => {
                    if let Some(v) = self.integer(section, option) {
                        agent.sampling_rate = Some(v);
                    }
                }
                "header_bytes" => {
                    if let Some(v) = self.integer(section, option) {
                        agent.header_bytes = v;
                        header_line = Some(option.line);
                    }
                }
                "datagram_bytes" => {
                    if let Some(v) = self.integer(section, option) {
                        agent.datagram_bytes = v;
                        datagram_line = Some(option.line);
                    }
                }
                "log_level" => {
                    if let Some(level) = self.word(section, option).and_then(Level::parse) {
                        agent.log_level = level;
                    }
                }
                "ring_kib" => {
                    if let Some(v) = self.integer(section, option) {
                        agent.ring_kib = v;
                    }
                }
                "sampling_filter" => {
                    if let Some(v) = self.choice(section, option, SAMPLING_FILTERS) {
                        agent.sampling_filter = v;
                    }
                }
                "ubus_socket" => {
                    if let Some(value) = self.single(section, option) {
                        // sun_path holds 108 bytes with the NUL.
                        if value.starts_with('/') && value.len() < 108 && !value.contains('\0') {
                            agent.ubus_socket = Some(value.into());
                        } else {
                            let expected = "an absolute path of at most 107 bytes";
                            self.invalid(section, option, option.line, value, expected);
                        }
                    }
                }
                "interface" => self.agent_interfaces(section, option, listed),
                _ => self.unknown_option(section, option),
            }
        }
        let needed = agent.header_bytes + DATAGRAM_HEADROOM;
        if agent.datagram_bytes < needed {
            // datagram_bytes can only be too small if it was set.
            let line = datagram_line.or(header_line).unwrap_or(section.line);
            let message = format!(
                "invalid value '{}': must be at least header_bytes + {DATAGRAM_HEADROOM} = {needed} bytes (header_bytes is {})",
                agent.datagram_bytes, agent.header_bytes
            );
            self.fail(line, section, Some("datagram_bytes"), message);
        }
        agent
    }

    fn agent_address(&mut self, section: &Section, option: &UciOption) -> Option<AgentAddress> {
        let value = self.single(section, option)?;
        let unbracketed = value
            .strip_prefix('[')
            .and_then(|v| v.strip_suffix(']'))
            .filter(|v| v.contains(':'))
            .unwrap_or(value);
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Some(AgentAddress::Fixed(ip));
        }
        // Digits and dots are a mistyped IPv4 address, not a device.
        let ipv4_like = value.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if !ipv4_like && is_valid_interface_name(value) {
            return Some(AgentAddress::Interface(value.to_owned()));
        }
        let expected = "an IPv4 or IPv6 address, or an interface name";
        self.invalid(section, option, option.line, value, expected);
        None
    }

    fn agent_interfaces(
        &mut self,
        section: &Section,
        option: &UciOption,
        listed: &mut Vec<(String, usize)>,
    ) {
        // `option interface 'wlan0 eth0'` is a list in OpenWrt's shell
        // style; list items are split the same way.
        let mut seen: BTreeSet<String> = listed.iter().map(|(d, _)| d.clone()).collect();
        for (item, &line) in option.value.items().iter().zip(&option.item_lines) {
            let mut names = item.split_ascii_whitespace().peekable();
            if names.peek().is_none() {
                self.interface_name(section, option, line, item);
            }
            for name in names {
                if !self.interface_name(section, option, line, name) {
                    continue;
                }
                if !seen.insert(name.to_owned()) {
                    let message = format!(
                        "interface '{name}' is listed more than once in section {}, the repeat is ignored",
                        section.display_name()
                    );
                    self.warn(line, message);
                    continue;
                }
                listed.push((name.to_owned(), line));
            }
        }
    }

    /// The items of a `bss` list, each an interface name or a BSSID, split
    /// on whitespace like the agent's `interface` list; each error and
    /// warning is on the line of its item.
    fn bss_list(&mut self, section: &Section, option: &UciOption) -> Vec<Bss> {
        let mut list = Vec::new();
        let mut seen: BTreeSet<Bss> = BTreeSet::new();
        for (item, &line) in option.value.items().iter().zip(&option.item_lines) {
            let mut words = item.split_ascii_whitespace().peekable();
            if words.peek().is_none() {
                self.bss_item(section, option, line, item);
            }
            for word in words {
                let Some(bss) = self.bss_item(section, option, line, word) else {
                    continue;
                };
                if seen.insert(bss.clone()) {
                    list.push(bss);
                } else {
                    let message = format!(
                        "BSS {} is listed more than once in section {}, the repeat is ignored",
                        quoted(word),
                        section.display_name()
                    );
                    self.warn(line, message);
                }
            }
        }
        list
    }

    fn bss_item(
        &mut self,
        section: &Section,
        option: &UciOption,
        line: usize,
        text: &str,
    ) -> Option<Bss> {
        if let Some(mac) = parse_mac(text) {
            if mac[0] & 1 != 0 || mac == [0; 6] {
                let expected =
                    "a unicast BSSID (an even first byte), not a group or all-zero address";
                self.invalid(section, option, line, text, expected);
                return None;
            }
            return Some(Bss::Bssid(mac));
        }
        if !is_valid_interface_name(text) {
            let expected =
                "an interface name or a BSSID written as a MAC address (aa:bb:cc:dd:ee:ff)";
            self.invalid(section, option, line, text, expected);
            return None;
        }
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let message = format!(
                "{} in option 'bss' of section {} is taken for an interface name; write a BSSID as aa:bb:cc:dd:ee:ff",
                quoted(text),
                section.display_name()
            );
            self.warn(line, message);
        }
        Some(Bss::Interface(text.to_owned()))
    }

    fn interface(&mut self, section: &Section) -> InterfaceSection {
        let mut read = InterfaceSection {
            device: None,
            enabled: true,
            sampling_rate: None,
            polling_interval: None,
            ring_kib: None,
            bss: Vec::new(),
            foreign_bss: ForeignBss::Ignore,
        };
        for option in by_line(section) {
            match option.name.as_str() {
                "device" => {
                    if let Some(value) = self.single(section, option) {
                        if self.interface_name(section, option, option.line, value) {
                            read.device = Some((value.to_owned(), option.line));
                        }
                    }
                }
                "enabled" => {
                    if let Some(v) = self.boolean(section, option) {
                        read.enabled = v;
                    }
                }
                "sampling_rate" => read.sampling_rate = self.integer(section, option),
                "polling_interval" => read.polling_interval = self.integer(section, option),
                "ring_kib" => read.ring_kib = self.integer(section, option),
                "bss" => read.bss = self.bss_list(section, option),
                "foreign_bss" => {
                    if let Some(v) = self.choice(section, option, FOREIGN_BSS) {
                        read.foreign_bss = v;
                    }
                }
                _ => self.unknown_option(section, option),
            }
        }
        if section.get("device").is_none() {
            let message = "missing required option 'device'".to_owned();
            self.fail(section.line, section, Some("device"), message);
        }
        read
    }

    fn collector(&mut self, section: &Section) -> Option<CollectorConfig> {
        let mut enabled = true;
        let mut address = None;
        let mut port = DEFAULT_COLLECTOR_PORT;
        for option in by_line(section) {
            match option.name.as_str() {
                "enabled" => {
                    if let Some(v) = self.boolean(section, option) {
                        enabled = v;
                    }
                }
                "address" => {
                    if let Some(value) = self.single(section, option) {
                        match parse_host(value) {
                            Ok(host) => address = Some(host),
                            Err(expected) => {
                                let expected = expected.trim_start_matches("expected ");
                                self.invalid(section, option, option.line, value, expected);
                            }
                        }
                    }
                }
                "port" => {
                    if let Some(v) = self.integer(section, option) {
                        port = u16::try_from(v).unwrap_or(DEFAULT_COLLECTOR_PORT);
                    }
                }
                _ => self.unknown_option(section, option),
            }
        }
        if section.get("address").is_none() {
            let message = "missing required option 'address'".to_owned();
            self.fail(section.line, section, Some("address"), message);
        }
        let address = address?;
        enabled.then(|| CollectorConfig {
            address,
            port,
            section: section.display_name(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "/etc/config/wsflowd";
    const EXAMPLE: &[u8] = include_bytes!("../../tests/config_files/example.uci");
    const FULL: &[u8] = include_bytes!("../../tests/config_files/full.uci");

    fn ok(text: &str) -> Loaded {
        match parse(text.as_bytes(), FILE) {
            Ok(loaded) => loaded,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn err(text: &str) -> ConfigError {
        match parse(text.as_bytes(), FILE) {
            Ok(loaded) => panic!("{text:?} accepted: {loaded:?}"),
            Err(e) => e,
        }
    }

    /// The agent section with one option set to `value`.
    fn agent_with(option: &str, value: &str) -> String {
        format!("config agent 'agent'\n\toption {option} '{value}'\n")
    }

    fn agent(option: &str, value: &str) -> AgentConfig {
        ok(&agent_with(option, value)).config.agent
    }

    /// Checks the error about `option` of the agent section on line 2.
    fn agent_err(option: &str, value: &str) -> ConfigError {
        let e = err(&agent_with(option, value));
        assert_eq!(e.file, FILE);
        assert_eq!(e.line, 2, "{e}");
        assert_eq!(e.section.as_deref(), Some("'agent'"), "{e}");
        assert_eq!(e.option.as_deref(), Some(option), "{e}");
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("{FILE}:2: option '{option}' in section 'agent': ")),
            "{text}"
        );
        e
    }

    fn iface(
        device: &str,
        sampling_rate: Option<u32>,
        polling_interval: Option<u32>,
        section: &str,
    ) -> InterfaceConfig {
        InterfaceConfig {
            sampling_rate,
            polling_interval,
            ..InterfaceConfig::new(device, section)
        }
    }

    fn collector(address: &str, port: u16, section: &str) -> CollectorConfig {
        CollectorConfig {
            address: address.to_owned(),
            port,
            section: section.to_owned(),
        }
    }

    fn devices(loaded: &Loaded) -> Vec<&str> {
        loaded
            .config
            .interfaces
            .iter()
            .map(|i| i.device.as_str())
            .collect()
    }

    #[test]
    fn example_file() {
        let loaded = parse(EXAMPLE, FILE).unwrap();
        assert_eq!(loaded.warnings, Vec::<String>::new());
        let expected = Config {
            agent: AgentConfig {
                enabled: true,
                agent_address: AgentAddress::Auto,
                sub_agent_id: 0,
                polling_interval: 20,
                sampling_rate: None,
                header_bytes: 128,
                datagram_bytes: 1400,
                log_level: Level::Info,
                ring_kib: 256,
                sampling_filter: SamplingFilter::Auto,
                ubus_socket: None,
            },
            interfaces: vec![
                InterfaceConfig {
                    ring_kib: Some(512),
                    ..iface("wlan0", Some(100), Some(10), "@interface[0]")
                },
                iface("eth0", None, None, "'agent'"),
            ],
            collectors: vec![collector("192.0.2.10", 6343, "@collector[0]")],
        };
        assert_eq!(loaded.config, expected);
        let agent = &loaded.config.agent;
        let [wlan0, eth0] = &loaded.config.interfaces[..] else {
            panic!()
        };
        assert_eq!(agent.sampling_rate_for(wlan0), Some(100));
        assert_eq!(agent.sampling_rate_at_speed(wlan0, 1_000_000_000), 100);
        assert_eq!(agent.polling_interval_for(wlan0), 10);
        assert_eq!(agent.ring_kib_for(wlan0), 512);
        assert_eq!(agent.sampling_rate_for(eth0), None);
        assert_eq!(agent.sampling_rate_at_speed(eth0, 1_000_000_000), 1000);
        assert_eq!(agent.sampling_rate_at_speed(eth0, 0), 400);
        assert_eq!(eth0.effective_polling_interval(agent), 20);
        assert_eq!(agent.ring_kib_for(eth0), 256);
    }

    #[test]
    fn full_example_file() {
        let loaded = parse(FULL, "full.uci").unwrap();
        assert_eq!(loaded.warnings, Vec::<String>::new());
        let config = loaded.config;
        assert_eq!(
            config.agent,
            AgentConfig {
                enabled: true,
                agent_address: AgentAddress::Interface("br-lan".into()),
                sub_agent_id: 3,
                polling_interval: 30,
                sampling_rate: Some(256),
                header_bytes: 160,
                datagram_bytes: 1452,
                log_level: Level::Warn,
                ring_kib: 512,
                sampling_filter: SamplingFilter::Ebpf,
                ubus_socket: None,
            }
        );
        assert_eq!(
            config.interfaces,
            [
                iface("phy0-ap0", None, None, "'agent'"),
                InterfaceConfig {
                    ring_kib: Some(1024),
                    ..iface("phy1-ap0", Some(512), None, "'radio5'")
                },
                iface("phy0-ap1", Some(1024), Some(60), "@interface[1]"),
                InterfaceConfig {
                    bss: vec![
                        Bss::Interface("phy1-ap0".into()),
                        Bss::Bssid([0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]),
                    ],
                    foreign_bss: ForeignBss::Discard,
                    ..iface("phy1-mon0", Some(2000), None, "'monitor5'")
                },
            ]
        );
        let rings: Vec<u32> = config
            .interfaces
            .iter()
            .map(|i| config.agent.ring_kib_for(i))
            .collect();
        assert_eq!(rings, [512, 1024, 512, 512]);
        assert_eq!(
            config.collectors,
            [
                collector("2001:db8::10", 6343, "'noc'"),
                collector("sflow.example.net.", 9995, "@collector[1]"),
            ]
        );
    }

    #[test]
    fn empty_file_gives_defaults_and_warnings() {
        let loaded = ok("");
        assert_eq!(loaded.config, Config::default());
        let agent = &loaded.config.agent;
        assert!(agent.enabled);
        assert_eq!(agent.agent_address, AgentAddress::Auto);
        assert_eq!(agent.sub_agent_id, 0);
        assert_eq!(agent.polling_interval, DEFAULT_POLLING_INTERVAL);
        assert_eq!(agent.sampling_rate, None);
        assert_eq!(agent.header_bytes, DEFAULT_HEADER_BYTES);
        assert_eq!(agent.datagram_bytes, DEFAULT_DATAGRAM_BYTES);
        assert_eq!(agent.log_level, Level::Info);
        assert_eq!(agent.ring_kib, DEFAULT_RING_KIB);
        assert_eq!(agent.sampling_filter, SamplingFilter::Auto);
        assert_eq!(
            loaded.warnings,
            [
                format!("{FILE}: no collector configured: samples will not be sent anywhere"),
                format!("{FILE}: no interface configured: nothing will be sampled or polled"),
            ]
        );
    }

    #[test]
    fn agent_section_without_options_gives_defaults() {
        for text in [
            "config agent 'agent'\n",
            "config agent\n",
            "config agent main\n",
        ] {
            assert_eq!(ok(text).config.agent, AgentConfig::default(), "{text}");
        }
    }

    #[test]
    fn disabled_agent_has_no_warnings_about_missing_parts() {
        let loaded = ok(&agent_with("enabled", "0"));
        assert!(!loaded.config.agent.enabled);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn only_one_agent_section() {
        let e = err("config agent 'agent'\n\nconfig collector\n\toption address x\nconfig agent\n");
        assert_eq!(e.line, 5);
        assert_eq!(e.section.as_deref(), Some("@agent[1]"));
        assert_eq!(e.option, None);
        assert_eq!(
            e.to_string(),
            format!("{FILE}:5: section @agent[1]: only one 'agent' section is allowed, the first is 'agent' (line 1)")
        );
        let e = err("config agent\nconfig agent two\n");
        assert_eq!(e.section.as_deref(), Some("'two'"));
        assert!(e.message.contains("@agent[0]"), "{e}");
    }

    #[test]
    fn booleans() {
        for (text, value) in [
            ("1", true),
            ("0", false),
            ("yes", true),
            ("no", false),
            ("on", true),
            ("off", false),
            ("true", true),
            ("false", false),
            ("enabled", true),
            ("disabled", false),
            ("YES", true),
            ("Off", false),
            ("True", true),
            ("DISABLED", false),
        ] {
            assert_eq!(parse_bool(text), Some(value), "{text}");
            assert_eq!(agent("enabled", text).enabled, value, "{text}");
        }
        for text in ["2", "y", "n", "enable", " 1", "1 ", "-1", "tru"] {
            assert_eq!(parse_bool(text), None, "{text}");
            let e = agent_err("enabled", text);
            assert!(e.message.contains("expected a boolean"), "{e}");
        }
    }

    #[test]
    fn polling_interval_range() {
        assert_eq!(agent("polling_interval", "0").polling_interval, 0);
        assert_eq!(agent("polling_interval", "1").polling_interval, 1);
        assert_eq!(agent("polling_interval", "86400").polling_interval, 86400);
        for bad in [
            "86401",
            "-1",
            "abc",
            "4294967296",
            "99999999999999999999999",
        ] {
            let e = agent_err("polling_interval", bad);
            assert_eq!(
                e.message,
                format!(
                    "invalid value '{bad}': expected a whole number of seconds from 0 to 86400"
                )
            );
        }
    }

    #[test]
    fn documented_error_shape() {
        let text = "config agent 'agent'\n\toption enabled '1'\n\n\t# counters\n\toption polling_interval 'abc'\n";
        let e = err(text);
        assert_eq!(
            e.to_string(),
            "/etc/config/wsflowd:5: option 'polling_interval' in section 'agent': invalid value 'abc': expected a whole number of seconds from 0 to 86400"
        );
        assert_eq!(e.line, 5);
        assert_eq!(e.section.as_deref(), Some("'agent'"));
        assert_eq!(e.option.as_deref(), Some("polling_interval"));
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(boxed.to_string().contains("abc"));
    }

    #[test]
    fn parse_error_shape() {
        let e = err("config agent 'agent'\n\n\toption bad-name 1\n");
        assert_eq!(
            e.to_string(),
            "/etc/config/wsflowd:3: invalid character in name field"
        );
        assert_eq!((e.line, e.section, e.option), (3, None, None));
    }

    #[test]
    fn sampling_rate_range() {
        assert_eq!(agent("sampling_rate", "1").sampling_rate, Some(1));
        assert_eq!(
            agent("sampling_rate", "16777215").sampling_rate,
            Some(16_777_215)
        );
        let e = agent_err("sampling_rate", "0");
        assert!(e.message.contains("1 to 16777215"), "{e}");
        assert!(e.message.contains("'enabled'"), "{e}");
        let e = agent_err("sampling_rate", "16777216");
        assert!(e.message.contains("1 to 16777215"), "{e}");
    }

    #[test]
    fn sampling_rate_from_link_speed() {
        const MBIT: u64 = 1_000_000;
        const GBIT: u64 = 1_000 * MBIT;
        for (speed, rate) in [
            (0, UNKNOWN_SPEED_SAMPLING_RATE),
            (1, MIN_SPEED_SAMPLING_RATE),
            (MBIT - 1, 100),
            (MBIT, 100),
            (10 * MBIT, 100),
            (100 * MBIT, 100),
            (101 * MBIT - 1, 100),
            (101 * MBIT, 101),
            (866_700_000, 866),
            (GBIT, 1000),
            (2_500 * MBIT, 2500),
            (10 * GBIT, 10_000),
            (400 * GBIT, 400_000),
            (u64::from(MAX_SAMPLING_RATE) * MBIT, MAX_SAMPLING_RATE),
            (u64::from(MAX_SAMPLING_RATE + 1) * MBIT, MAX_SAMPLING_RATE),
            (u64::MAX, MAX_SAMPLING_RATE),
        ] {
            assert_eq!(sampling_rate_for_speed(speed), rate, "{speed} bit/s");
        }
        assert_eq!(UNKNOWN_SPEED_SAMPLING_RATE, 400);
    }

    #[test]
    fn sampling_rate_unset_is_chosen_by_speed() {
        let loaded = ok("config agent\n\tlist interface eth0\nconfig interface\n\toption device wlan0\n\toption sampling_rate 50\n");
        let agent = &loaded.config.agent;
        let [eth0, wlan0] = &loaded.config.interfaces[..] else {
            panic!("{loaded:?}")
        };
        assert_eq!(agent.sampling_rate_for(eth0), None);
        assert_eq!(agent.sampling_rate_at_speed(eth0, 10_000_000_000), 10_000);
        assert_eq!(agent.sampling_rate_at_speed(eth0, 0), 400);
        assert_eq!(agent.sampling_rate_for(wlan0), Some(50));
        assert_eq!(agent.sampling_rate_at_speed(wlan0, 10_000_000_000), 50);
        // The agent's rate comes before the speed, the interface's first.
        let agent = AgentConfig {
            sampling_rate: Some(2000),
            ..AgentConfig::default()
        };
        assert_eq!(agent.sampling_rate_for(eth0), Some(2000));
        assert_eq!(agent.sampling_rate_at_speed(eth0, 0), 2000);
        assert_eq!(agent.sampling_rate_for(wlan0), Some(50));
    }

    #[test]
    fn ring_kib_range() {
        assert_eq!(AgentConfig::default().ring_kib, DEFAULT_RING_KIB);
        assert_eq!(DEFAULT_RING_KIB, 256);
        assert_eq!(agent("ring_kib", "16").ring_kib, MIN_RING_KIB);
        assert_eq!(agent("ring_kib", "65536").ring_kib, MAX_RING_KIB);
        assert_eq!(agent("ring_kib", "1024").ring_kib, 1024);
        for bad in ["15", "65537", "0", "256k", "-256", "4294967296"] {
            let e = agent_err("ring_kib", bad);
            assert_eq!(
                e.message,
                format!("invalid value '{bad}': expected a whole number of KiB from 16 to 65536")
            );
        }
    }

    #[test]
    fn interface_ring_kib_overrides_the_agent() {
        let text = concat!(
            "config agent\n",
            "\toption ring_kib 128\n",
            "\tlist interface wlan0\n",
            "\tlist interface eth0\n",
            "config interface\n",
            "\toption device eth0\n",
            "\toption ring_kib 65536\n",
            "config interface\n",
            "\toption device wlan1\n",
            "\toption ring_kib 16\n",
        );
        let loaded = ok(text);
        let agent = &loaded.config.agent;
        let rings: Vec<(Option<u32>, u32)> = loaded
            .config
            .interfaces
            .iter()
            .map(|i| (i.ring_kib, agent.ring_kib_for(i)))
            .collect();
        assert_eq!(rings, [(None, 128), (Some(65536), 65536), (Some(16), 16)]);
        let no_agent = ok("config interface\n\toption device wlan0\n");
        let i = &no_agent.config.interfaces[0];
        assert_eq!(no_agent.config.agent.ring_kib_for(i), DEFAULT_RING_KIB);
        for bad in ["15", "65537", "0", "x"] {
            let e = err(&format!(
                "config interface 'w'\n\toption device wlan0\n\toption ring_kib '{bad}'\n"
            ));
            assert_eq!(
                e.to_string(),
                format!("{FILE}:3: option 'ring_kib' in section 'w': invalid value '{bad}': expected a whole number of KiB from 16 to 65536")
            );
        }
    }

    #[test]
    fn sampling_filters() {
        assert_eq!(SamplingFilter::default(), SamplingFilter::Auto);
        for (text, filter) in [
            ("auto", SamplingFilter::Auto),
            ("ebpf", SamplingFilter::Ebpf),
            ("classic", SamplingFilter::Classic),
            ("eBPF", SamplingFilter::Ebpf),
            ("CLASSIC", SamplingFilter::Classic),
        ] {
            assert_eq!(agent("sampling_filter", text).sampling_filter, filter);
        }
        for filter in [
            SamplingFilter::Auto,
            SamplingFilter::Ebpf,
            SamplingFilter::Classic,
        ] {
            assert_eq!(
                agent("sampling_filter", filter.name()).sampling_filter,
                filter
            );
            assert_eq!(filter.to_string(), filter.name());
        }
        for bad in ["bpf", "cbpf", "e-bpf", "auto ", "1"] {
            let e = agent_err("sampling_filter", bad);
            assert_eq!(
                e.message,
                format!("invalid value '{bad}': expected one of auto, ebpf, classic")
            );
        }
    }

    #[test]
    fn sampling_filter_belongs_in_the_agent_section() {
        let text =
            "config interface 'w'\n\toption device wlan0\n\toption sampling_filter classic\n";
        let loaded = ok(text);
        assert_eq!(loaded.config.agent.sampling_filter, SamplingFilter::Auto);
        assert_eq!(
            loaded.warnings[0],
            format!("{FILE}:3: unknown option 'sampling_filter' in section 'w', ignored (it belongs in an 'agent' section)")
        );
    }

    #[test]
    fn header_bytes_range() {
        assert_eq!(agent("header_bytes", "16").header_bytes, 16);
        assert_eq!(agent("header_bytes", "512").header_bytes, 512);
        for bad in ["15", "513", "0", "128 "] {
            let e = agent_err("header_bytes", bad);
            assert!(
                e.message
                    .ends_with("expected a whole number of bytes from 16 to 512"),
                "{e}"
            );
        }
    }

    #[test]
    fn datagram_bytes_range() {
        assert_eq!(agent("datagram_bytes", "9000").datagram_bytes, 9000);
        assert_eq!(agent("datagram_bytes", "384").datagram_bytes, 384);
        for bad in ["255", "9001", "0"] {
            let e = agent_err("datagram_bytes", bad);
            assert!(e.message.ends_with("from 256 to 9000"), "{e}");
        }
        // 256 is in range, but too small for the default header_bytes.
        let e = agent_err("datagram_bytes", "256");
        assert!(e.message.contains("header_bytes + 256 = 384"), "{e}");
        let e = agent_err("datagram_bytes", "383");
        assert!(e.message.contains("at least"), "{e}");
    }

    #[test]
    fn datagram_bytes_must_leave_room_for_a_header() {
        let ok_text = "config agent\n\toption header_bytes 16\n\toption datagram_bytes 272\n";
        assert_eq!(ok(ok_text).config.agent.datagram_bytes, 272);
        let text = "config agent\n\toption datagram_bytes 700\n\toption header_bytes 512\n";
        let e = err(text);
        assert_eq!(e.line, 2);
        assert_eq!(e.option.as_deref(), Some("datagram_bytes"));
        assert_eq!(e.section.as_deref(), Some("@agent[0]"));
        assert!(e.message.contains("768"), "{e}");
        let text = "config agent\n\toption header_bytes 512\n\toption datagram_bytes 768\n";
        assert_eq!(ok(text).config.agent.datagram_bytes, 768);
    }

    #[test]
    fn sub_agent_id_range() {
        assert_eq!(agent("sub_agent_id", "0").sub_agent_id, 0);
        assert_eq!(agent("sub_agent_id", "4294967295").sub_agent_id, u32::MAX);
        let e = agent_err("sub_agent_id", "4294967296");
        assert!(e.message.contains("0 to 4294967295"), "{e}");
    }

    #[test]
    fn integers_are_plain_decimal() {
        assert_eq!(agent("polling_interval", "007").polling_interval, 7);
        for bad in [
            "+5", "-5", " 5", "5 ", "0x10", "1e3", "5s", "1_000", "\u{663}", "5.0",
        ] {
            agent_err("polling_interval", bad);
        }
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal("18446744073709551616"), None);
        assert_eq!(parse_decimal(""), None);
    }

    #[test]
    fn log_levels() {
        for (text, level) in [
            ("error", Level::Error),
            ("warning", Level::Warn),
            ("info", Level::Info),
            ("debug", Level::Debug),
            ("DEBUG", Level::Debug),
            ("warn", Level::Warn),
        ] {
            assert_eq!(agent("log_level", text).log_level, level, "{text}");
        }
        let e = agent_err("log_level", "verbose");
        assert!(e.message.contains("error, warning, info, debug"), "{e}");
    }

    #[test]
    fn agent_addresses() {
        let addr = |v: &str| agent("agent_address", v).agent_address;
        assert_eq!(
            addr("192.0.2.1"),
            AgentAddress::Fixed("192.0.2.1".parse().unwrap())
        );
        assert_eq!(
            addr("2001:db8::1"),
            AgentAddress::Fixed("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            addr("[2001:db8::1]"),
            AgentAddress::Fixed("2001:db8::1".parse().unwrap())
        );
        assert_eq!(addr("br-lan"), AgentAddress::Interface("br-lan".into()));
        assert_eq!(addr("eth0.1"), AgentAddress::Interface("eth0.1".into()));
        // Empty deletes the option: automatic.
        assert_eq!(addr(""), AgentAddress::Auto);
        for bad in [
            "192.168.1.300",
            "10.0.0.1/24",
            "fe80::1%eth0",
            "a-very-long-interface-name",
            "1.2.3",
            "[eth0:1]",
        ] {
            let e = agent_err("agent_address", bad);
            assert!(
                e.message
                    .contains("an IPv4 or IPv6 address, or an interface name"),
                "{e}"
            );
        }
    }

    #[test]
    fn interface_names() {
        for good in [
            "wlan0",
            "a",
            "phy0-ap0",
            "br-lan",
            "eth0.100",
            "123456789012345",
            "wlan@x",
        ] {
            assert!(is_valid_interface_name(good), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "1234567890123456",
            "a/b",
            "a:b",
            "a b",
            "a\tb",
            "a\u{a0}",
        ] {
            assert!(!is_valid_interface_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn host_names() {
        for (text, host) in [
            ("192.0.2.10", "192.0.2.10"),
            ("2001:db8::10", "2001:db8::10"),
            ("[2001:db8::10]", "2001:db8::10"),
            ("::1", "::1"),
            ("collector", "collector"),
            ("sflow.example.net", "sflow.example.net"),
            ("sflow.example.net.", "sflow.example.net."),
            ("a-b.c-d9", "a-b.c-d9"),
            ("9gag.com", "9gag.com"),
        ] {
            assert_eq!(parse_host(text).as_deref(), Ok(host), "{text}");
        }
        let label63 = "a".repeat(63);
        assert!(parse_host(&label63).is_ok());
        assert!(parse_host(&"a".repeat(64)).is_err());
        let name253 = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
        assert_eq!(name253.len(), 253);
        assert!(parse_host(&name253).is_ok());
        assert!(parse_host(&format!("{name253}.")).is_ok());
        assert!(parse_host(&format!("{name253}b")).is_err());
        for bad in [
            "",
            ".",
            "-a",
            "a-",
            "a..b",
            "a_b",
            "a b",
            "[192.0.2.1]",
            "192.0.2.300",
            "192.0.2",
            "2001:db8::g",
            "host:6343",
            "[::1]:6343",
            "h\u{e9}.net",
        ] {
            assert!(parse_host(bad).is_err(), "{bad:?}");
        }
        assert!(parse_host("192.0.2.1:6343")
            .unwrap_err()
            .contains("option 'port'"));
    }

    #[test]
    fn interface_list_from_agent_list_and_option() {
        let loaded = ok(
            "config agent\n\tlist interface wlan0\n\tlist interface eth0\n\tlist interface wlan1\n",
        );
        assert_eq!(devices(&loaded), ["wlan0", "eth0", "wlan1"]);
        let loaded = ok("config agent\n\toption interface 'wlan0  eth0\twlan1'\n");
        assert_eq!(devices(&loaded), ["wlan0", "eth0", "wlan1"]);
        let loaded = ok("config agent\n\toption interface wlan0\n\tlist interface 'eth0 wlan1'\n");
        assert_eq!(devices(&loaded), ["wlan0", "eth0", "wlan1"]);
        for i in &loaded.config.interfaces {
            assert_eq!(i.section, "@agent[0]");
            assert_eq!((i.sampling_rate, i.polling_interval), (None, None));
        }
    }

    #[test]
    fn duplicate_interfaces_in_agent_list_are_merged() {
        let loaded = ok("config agent 'agent'\n\tlist interface wlan0\n\tlist interface eth0\n\tlist interface wlan0\nconfig collector\n\toption address c\n");
        assert_eq!(devices(&loaded), ["wlan0", "eth0"]);
        assert_eq!(
            loaded.warnings,
            [format!("{FILE}:4: interface 'wlan0' is listed more than once in section 'agent', the repeat is ignored")]
        );
        let loaded = ok("config agent\n\toption interface 'a a'\n");
        assert_eq!(devices(&loaded), ["a"]);
        assert!(loaded.warnings[0].starts_with(&format!("{FILE}:2: interface 'a'")));
    }

    #[test]
    fn invalid_interface_names_are_errors_on_their_line() {
        let e = err("config agent 'agent'\n\tlist interface wlan0\n\tlist interface 'a/b'\n\tlist interface eth0\n");
        assert_eq!(e.line, 3);
        assert_eq!(e.option.as_deref(), Some("interface"));
        assert_eq!(e.section.as_deref(), Some("'agent'"));
        assert!(e.message.contains("invalid interface name 'a/b'"), "{e}");
        let e = err("config agent\n\tlist interface ''\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("invalid interface name ''"), "{e}");
        let e = err("config agent\n\toption interface 'wlan0 0123456789abcdef'\n");
        assert!(e.message.contains("0123456789abcdef"), "{e}");
        let e = err("config interface\n\toption device 'a:1'\n");
        assert_eq!((e.line, e.option.as_deref()), (2, Some("device")));
        assert_eq!(e.section.as_deref(), Some("@interface[0]"));
    }

    #[test]
    fn interface_sections_override_and_extend() {
        let text = concat!(
            "config agent\n",
            "\toption sampling_rate 1000\n",
            "\toption polling_interval 30\n",
            "\tlist interface wlan0\n",
            "\tlist interface eth0\n",
            "config interface\n",
            "\toption device phy1\n",
            "config interface 'w'\n",
            "\toption device eth0\n",
            "\toption sampling_rate 50\n",
            "\toption polling_interval 0\n",
            "config interface\n",
            "\toption device phy0\n",
            "\toption polling_interval 5\n",
        );
        let loaded = ok(text);
        assert_eq!(
            loaded.config.interfaces,
            [
                iface("wlan0", None, None, "@agent[0]"),
                iface("eth0", Some(50), Some(0), "'w'"),
                iface("phy1", None, None, "@interface[0]"),
                iface("phy0", None, Some(5), "@interface[2]"),
            ]
        );
        let agent = &loaded.config.agent;
        let rates: Vec<(Option<u32>, u32)> = loaded
            .config
            .interfaces
            .iter()
            .map(|i| (agent.sampling_rate_for(i), agent.polling_interval_for(i)))
            .collect();
        assert_eq!(
            rates,
            [
                (Some(1000), 30),
                (Some(50), 0),
                (Some(1000), 30),
                (Some(1000), 5)
            ]
        );
        // The agent's rate applies whatever the link speed.
        let wlan0 = &loaded.config.interfaces[0];
        assert_eq!(agent.sampling_rate_at_speed(wlan0, 10_000_000_000), 1000);
    }

    #[test]
    fn interface_sections_without_agent() {
        let loaded = ok("config interface\n\toption device wlan0\n\toption sampling_rate 64\n");
        let i = &loaded.config.interfaces[0];
        assert_eq!(i, &iface("wlan0", Some(64), None, "@interface[0]"));
        assert_eq!(loaded.config.agent.sampling_rate_for(i), Some(64));
        let plain = iface("x", None, None, "");
        assert_eq!(loaded.config.agent.sampling_rate_for(&plain), None);
        assert_eq!(
            loaded.config.agent.sampling_rate_at_speed(&plain, 0),
            UNKNOWN_SPEED_SAMPLING_RATE
        );
        assert_eq!(loaded.config.agent.ring_kib_for(&plain), DEFAULT_RING_KIB);
        assert_eq!(
            loaded.config.agent.polling_interval_for(&plain),
            DEFAULT_POLLING_INTERVAL
        );
    }

    #[test]
    fn disabled_interface_sections_remove_devices() {
        let text = concat!(
            "config agent\n",
            "\tlist interface wlan0\n",
            "\tlist interface eth0\n",
            "config interface\n",
            "\toption device eth0\n",
            "\toption enabled 0\n",
            "config interface\n",
            "\toption device wlan1\n",
            "\toption enabled off\n",
            "config interface\n",
            "\toption device wlan2\n",
            "\toption enabled 1\n",
        );
        assert_eq!(devices(&ok(text)), ["wlan0", "wlan2"]);
    }

    #[test]
    fn interface_section_errors() {
        let e = err("config agent\nconfig interface\n\toption sampling_rate 10\n");
        assert_eq!(e.line, 2);
        assert_eq!(e.section.as_deref(), Some("@interface[0]"));
        assert_eq!(e.option.as_deref(), Some("device"));
        assert_eq!(
            e.to_string(),
            format!("{FILE}:2: option 'device' in section @interface[0]: missing required option 'device'")
        );
        let e =
            err("config interface\n\toption device a\nconfig interface 'b'\n\toption device a\n");
        assert_eq!(e.line, 4);
        assert_eq!(e.section.as_deref(), Some("'b'"));
        assert!(
            e.message
                .contains("already configured in section @interface[0] (line 2)"),
            "{e}"
        );
        let e = err("config interface\n\toption device a\n\toption sampling_rate 0\n");
        assert_eq!((e.line, e.option.as_deref()), (3, Some("sampling_rate")));
        assert!(e.message.contains("'enabled'"), "{e}");
        let e = err("config interface\n\toption device a\n\toption polling_interval 86401\n");
        assert_eq!((e.line, e.option.as_deref()), (3, Some("polling_interval")));
        let e = err("config interface\n\toption device a\n\toption enabled maybe\n");
        assert_eq!((e.line, e.option.as_deref()), (3, Some("enabled")));
        let ok_text = "config interface\n\toption device a\n\toption sampling_rate 16777215\n\toption polling_interval 86400\n";
        assert_eq!(
            ok(ok_text).config.interfaces,
            [iface("a", Some(16_777_215), Some(86_400), "@interface[0]")]
        );
    }

    #[test]
    fn monitor_options_default_to_none() {
        let text = "config agent\n\tlist interface mon0\nconfig interface\n\toption device mon1\n";
        for i in &ok(text).config.interfaces {
            assert_eq!(i.bss, []);
            assert_eq!(i.foreign_bss, ForeignBss::Ignore);
            assert_eq!(i.ring_kib, None);
        }
        assert_eq!(ForeignBss::default(), ForeignBss::Ignore);
    }

    #[test]
    fn bss_lists() {
        let text = concat!(
            "config interface 'mon'\n",
            "\toption device mon0\n",
            "\tlist bss wlan0\n",
            "\tlist bss 'AA:BB:CC:DD:EE:F0'\n",
            "\tlist bss '02-00-5e-10-00-01 phy1-ap0'\n",
            "\tlist bss 'aa:bb:cc:dd:ee:f0'\n",
            "\tlist bss wlan0\n",
            "\tlist bss 'AA-BB-CC-DD-EE-F0'\n",
        );
        let loaded = ok(text);
        let i = &loaded.config.interfaces[0];
        assert_eq!(
            i.bss,
            [
                Bss::Interface("wlan0".into()),
                Bss::Bssid([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0]),
                Bss::Bssid([0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]),
                Bss::Interface("phy1-ap0".into()),
            ]
        );
        assert_eq!(
            loaded.warnings,
            [
                format!("{FILE}:6: BSS 'aa:bb:cc:dd:ee:f0' is listed more than once in section 'mon', the repeat is ignored"),
                format!("{FILE}:7: BSS 'wlan0' is listed more than once in section 'mon', the repeat is ignored"),
                format!("{FILE}:8: BSS 'AA-BB-CC-DD-EE-F0' is listed more than once in section 'mon', the repeat is ignored"),
                format!("{FILE}: no collector configured: samples will not be sent anywhere"),
            ]
        );
        // One option, split on whitespace.
        let loaded = ok("config interface\n\toption device mon0\n\toption bss 'wlan0  wlan1\t02:00:00:00:00:01'\n");
        assert_eq!(
            loaded.config.interfaces[0].bss,
            [
                Bss::Interface("wlan0".into()),
                Bss::Interface("wlan1".into()),
                Bss::Bssid([2, 0, 0, 0, 0, 1]),
            ]
        );
        // An empty option changes nothing; an option replaces the list.
        let loaded = ok("config interface\n\toption device mon0\n\toption bss ''\n");
        assert_eq!(loaded.config.interfaces[0].bss, []);
        let loaded =
            ok("config interface\n\toption device mon0\n\tlist bss wlan0\n\toption bss wlan1\n");
        assert_eq!(
            loaded.config.interfaces[0].bss,
            [Bss::Interface("wlan1".into())]
        );
    }

    #[test]
    fn invalid_bss_items_are_errors_on_their_line() {
        // The section is reopened: each item keeps its own line.
        let text = concat!(
            "config interface 'mon'\n",
            "\toption device mon0\n",
            "\tlist bss wlan0\n",
            "config collector\n",
            "\toption address c\n",
            "config interface 'mon'\n",
            "\tlist bss 'aa:bb:cc:dd:ee'\n",
            "\tlist bss 'a/b'\n",
        );
        let e = err(text);
        assert_eq!(e.file, FILE);
        assert_eq!(e.line, 7);
        assert_eq!(e.section.as_deref(), Some("'mon'"));
        assert_eq!(e.option.as_deref(), Some("bss"));
        assert_eq!(
            e.to_string(),
            format!("{FILE}:7: option 'bss' in section 'mon': invalid value 'aa:bb:cc:dd:ee': expected an interface name or a BSSID written as a MAC address (aa:bb:cc:dd:ee:ff)")
        );
        for (bad, what) in [
            ("", "an interface name or a BSSID"),
            ("0123456789abcdef", "an interface name or a BSSID"),
            ("aa:bb:cc:dd:ee:fg", "an interface name or a BSSID"),
            ("aa:bb:cc:dd:ee:ff:00", "an interface name or a BSSID"),
            ("aa:bb-cc:dd:ee:ff", "an interface name or a BSSID"),
            ("aa.bb.cc.dd.ee.ff", "an interface name or a BSSID"),
            ("a:bb:cc:dd:ee:fff", "an interface name or a BSSID"),
            ("ff:ff:ff:ff:ff:ff", "a unicast BSSID"),
            ("01:00:5e:00:00:01", "a unicast BSSID"),
            ("00:00:00:00:00:00", "a unicast BSSID"),
        ] {
            let text = format!(
                "config interface\n\toption device mon0\n\tlist bss wlan0\n\tlist bss '{bad}'\n\tlist bss wlan1\n"
            );
            let e = err(&text);
            assert_eq!(
                (e.line, e.option.as_deref(), e.section.as_deref()),
                (4, Some("bss"), Some("@interface[0]")),
                "{e}"
            );
            assert!(
                e.message
                    .starts_with(&format!("invalid value '{bad}': expected {what}")),
                "{e}"
            );
        }
        // In one option split on whitespace: the option's line.
        let e = err("config interface\n\toption device mon0\n\n\toption bss 'wlan0 x:y'\n");
        assert_eq!((e.line, e.option.as_deref()), (4, Some("bss")));
        assert!(e.message.contains("'x:y'"), "{e}");
    }

    #[test]
    fn documented_monitor_example() {
        let text = "config interface\n\toption device 'mon0'\n\tlist bss 'wlan0'\n\toption foreign_bss 'ignore'\n";
        let loaded = ok(text);
        assert_eq!(
            loaded.config.interfaces,
            [InterfaceConfig {
                bss: vec![Bss::Interface("wlan0".into())],
                ..iface("mon0", None, None, "@interface[0]")
            }]
        );
        let agent = &loaded.config.agent;
        let mon0 = &loaded.config.interfaces[0];
        assert_eq!(agent.sampling_rate_at_speed(mon0, 0), 400);
        assert_eq!(agent.ring_kib_for(mon0), DEFAULT_RING_KIB);
    }

    #[test]
    fn bssid_like_interface_names_are_warned_about() {
        let loaded = ok("config interface\n\toption device mon0\n\tlist bss aabbccddeeff\n");
        assert_eq!(
            loaded.config.interfaces[0].bss,
            [Bss::Interface("aabbccddeeff".into())]
        );
        assert_eq!(
            loaded.warnings[0],
            format!("{FILE}:3: 'aabbccddeeff' in option 'bss' of section @interface[0] is taken for an interface name; write a BSSID as aa:bb:cc:dd:ee:ff")
        );
    }

    #[test]
    fn foreign_bss_values() {
        for (text, value) in [
            ("ignore", ForeignBss::Ignore),
            ("discard", ForeignBss::Discard),
            ("Discard", ForeignBss::Discard),
            ("IGNORE", ForeignBss::Ignore),
        ] {
            let loaded = ok(&format!(
                "config interface\n\toption device mon0\n\toption foreign_bss '{text}'\n"
            ));
            assert_eq!(loaded.config.interfaces[0].foreign_bss, value, "{text}");
        }
        assert_eq!(ForeignBss::Discard.to_string(), "discard");
        assert_eq!(ForeignBss::Ignore.name(), "ignore");
        for bad in ["drop", "report", "0", "discarded"] {
            let e = err(&format!(
                "config interface 'm'\n\toption device mon0\n\toption foreign_bss '{bad}'\n"
            ));
            assert_eq!(
                e.to_string(),
                format!("{FILE}:3: option 'foreign_bss' in section 'm': invalid value '{bad}': expected one of ignore, discard")
            );
        }
    }

    #[test]
    fn monitor_options_belong_in_an_interface_section() {
        let text = "config agent 'agent'\n\tlist bss wlan0\n\toption foreign_bss discard\n\tlist interface mon0\n";
        let loaded = ok(text);
        assert_eq!(loaded.config.interfaces[0].bss, []);
        assert_eq!(loaded.config.interfaces[0].foreign_bss, ForeignBss::Ignore);
        assert_eq!(
            &loaded.warnings[..2],
            [
                format!("{FILE}:2: unknown option 'bss' in section 'agent', ignored (it belongs in an 'interface' section)"),
                format!("{FILE}:3: unknown option 'foreign_bss' in section 'agent', ignored (it belongs in an 'interface' section)"),
            ]
        );
        // Not checked there: a bad value is only ignored.
        let loaded = ok("config agent\n\tlist bss 'a/b'\n");
        assert!(
            loaded.warnings[0].contains("'bss'"),
            "{:?}",
            loaded.warnings
        );
    }

    #[test]
    fn mac_addresses() {
        assert_eq!(
            parse_mac("aa:bb:cc:dd:ee:ff"),
            Some([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        );
        assert_eq!(
            parse_mac("AA-bB-0c-DD-ee-09"),
            Some([0xaa, 0xbb, 0x0c, 0xdd, 0xee, 0x09])
        );
        for bad in [
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:",
            "aa:bb:cc:dd:ee-ff",
            "aa-bb-cc-dd-ee:ff",
            "aabb.ccdd.eeff",
            "aa bb cc dd ee ff",
            "+a:bb:cc:dd:ee:ff",
            "a:bbb:cc:dd:ee:ff",
            "gg:bb:cc:dd:ee:ff",
            "\u{e9}:bb:cc:dd:ee:ff",
            "ab:c\u{e9}dd:ee:ff:00",
            "ab:cd:ef:01:23:\u{663}",
        ] {
            assert_eq!(parse_mac(bad), None, "{bad:?}");
        }
        let mac = Bss::Bssid([0x02, 0, 0x5e, 0x10, 0xab, 0x01]);
        assert_eq!(mac.to_string(), "02:00:5e:10:ab:01");
        assert_eq!(Bss::Interface("wlan0".into()).to_string(), "wlan0");
    }

    #[test]
    fn collectors() {
        let text = concat!(
            "config collector\n",
            "\toption address 192.0.2.1\n",
            "config collector 'v6'\n",
            "\toption address '[2001:db8::1]'\n",
            "\toption port 1\n",
            "config collector\n",
            "\toption address 192.0.2.2\n",
            "\toption enabled 0\n",
            "config collector\n",
            "\toption address sflow.example.com\n",
            "\toption port 65535\n",
        );
        let loaded = ok(text);
        assert_eq!(
            loaded.config.collectors,
            [
                collector("192.0.2.1", DEFAULT_COLLECTOR_PORT, "@collector[0]"),
                collector("2001:db8::1", 1, "'v6'"),
                collector("sflow.example.com", 65535, "@collector[3]"),
            ]
        );
        // Interfaces missing, collectors present.
        assert_eq!(
            loaded.warnings,
            [format!(
                "{FILE}: no interface configured: nothing will be sampled or polled"
            )]
        );
    }

    #[test]
    fn collector_errors() {
        let e = err("config collector\n\toption port 6343\n");
        assert_eq!((e.line, e.option.as_deref()), (1, Some("address")));
        assert_eq!(e.section.as_deref(), Some("@collector[0]"));
        assert!(e.message.contains("missing required option 'address'"));
        // A disabled collector is still checked.
        let e = err("config collector\n\toption enabled 0\n");
        assert_eq!(e.option.as_deref(), Some("address"));
        for (port, line) in [("0", 3), ("65536", 3), ("http", 3)] {
            let e = err(&format!(
                "config collector\n\toption address c\n\toption port {port}\n"
            ));
            assert_eq!((e.line, e.option.as_deref()), (line, Some("port")), "{e}");
            assert!(e.message.contains("from 1 to 65535"), "{e}");
        }
        let e = err("config collector\n\toption address '192.0.2.1:6343'\n");
        assert_eq!((e.line, e.option.as_deref()), (2, Some("address")));
        assert_eq!(
            e.to_string(),
            format!("{FILE}:2: option 'address' in section @collector[0]: invalid value '192.0.2.1:6343': expected an IP address or host name without a port (set the port with option 'port')")
        );
        let e = err("config collector\n\toption address 'bad_host'\n");
        assert!(e.message.contains("host name"), "{e}");
    }

    #[test]
    fn duplicate_collectors_are_dropped_with_a_warning() {
        let text = "config collector\n\toption address C\nconfig collector\n\toption address c\n\toption port 6343\nconfig collector\n\toption address c\n\toption port 1\n";
        let loaded = ok(text);
        assert_eq!(loaded.config.collectors.len(), 2);
        assert!(
            loaded.warnings[0].starts_with(&format!(
                "{FILE}:3: collector c port 6343 in section @collector[1]"
            )),
            "{:?}",
            loaded.warnings
        );
    }

    #[test]
    fn lists_where_a_single_value_is_expected() {
        for (section, option) in [
            ("agent", "enabled"),
            ("agent", "sampling_rate"),
            ("agent", "log_level"),
            ("agent", "agent_address"),
            ("agent", "ring_kib"),
            ("agent", "sampling_filter"),
            ("interface", "device"),
            ("interface", "polling_interval"),
            ("interface", "ring_kib"),
            ("interface", "foreign_bss"),
            ("collector", "address"),
            ("collector", "port"),
        ] {
            let required = match (section, option) {
                ("interface", "device") => "",
                ("interface", _) => "\toption device d\n",
                ("collector", "port") => "\toption address c\n",
                _ => "",
            };
            let text =
                format!("config {section}\n\tlist {option} 1\n\tlist {option} 2\n{required}");
            let e = err(&text);
            assert_eq!(e.line, 3, "{e}");
            assert_eq!(e.option.as_deref(), Some(option));
            assert!(e.message.contains("not a list"), "{e}");
        }
        // A single-item list is still a list.
        let e = err("config agent\n\tlist polling_interval 10\n");
        assert!(e.message.contains("option polling_interval"), "{e}");
    }

    #[test]
    fn unknown_options_are_warnings() {
        let text = concat!(
            "config agent 'agent'\n",
            "\tlist interface wlan0\n",
            "\toption future_thing 1\n",
            "\toption polling_interval 10\n",
            "\n",
            "\n",
            "\toption sampling_rat 7\n",
            "\toption port 6343\n",
            "config collector\n",
            "\toption adress x\n",
            "\toption address x\n",
            "\toption device x\n",
        );
        let loaded = ok(text);
        assert_eq!(loaded.config.agent.sampling_rate, None);
        assert_eq!(
            loaded.warnings,
            [
                format!("{FILE}:3: unknown option 'future_thing' in section 'agent', ignored"),
                format!("{FILE}:7: unknown option 'sampling_rat' in section 'agent', ignored (did you mean 'sampling_rate'?)"),
                format!("{FILE}:8: unknown option 'port' in section 'agent', ignored (it belongs in a 'collector' section)"),
                format!("{FILE}:10: unknown option 'adress' in section @collector[0], ignored (did you mean 'address'?)"),
                format!("{FILE}:12: unknown option 'device' in section @collector[0], ignored (it belongs in an 'interface' section)"),
            ]
        );
    }

    #[test]
    fn unknown_section_types_are_warnings() {
        let text = "config colector\n\toption address x\nconfig future 'f'\n\toption a b\n";
        let loaded = ok(text);
        assert!(loaded.config.collectors.is_empty());
        assert_eq!(
            &loaded.warnings[..2],
            [
                format!("{FILE}:1: unknown section type 'colector' (@colector[0]), ignored (did you mean 'collector'?)"),
                format!("{FILE}:3: unknown section type 'future' ('f'), ignored"),
            ]
        );
    }

    #[test]
    fn the_first_error_in_the_file_is_reported() {
        // The named section is reopened after the collector: its bad
        // option is on the last line.
        let text = concat!(
            "config agent 'agent'\n",
            "\toption polling_interval 10\n",
            "config collector\n",
            "\toption port 0\n",
            "\toption address c\n",
            "config agent 'agent'\n",
            "\toption sampling_rate 0\n",
        );
        let e = err(text);
        assert_eq!((e.line, e.option.as_deref()), (4, Some("port")));
        // A missing option is reported at the line of its section.
        let text = "config collector\n\toption port 0\n";
        assert_eq!(err(text).option.as_deref(), Some("address"));
        let text = "config collector\n\toption address c\n\toption port x\nconfig agent\n\toption enabled x\n";
        assert_eq!(err(text).line, 3);
        let text = "config agent\n\toption log_level x\n\toption enabled x\n";
        assert_eq!(err(text).option.as_deref(), Some("log_level"));
    }

    #[test]
    fn values_in_messages_are_escaped_and_shortened() {
        let e = err("config agent\n\toption enabled 'a\nb'\n");
        assert!(e.message.contains("'a\\nb'"), "{e}");
        let long = "x".repeat(100);
        let e = err(&agent_with("enabled", &long));
        assert!(
            e.message.contains(&format!("'{}...'", "x".repeat(64))),
            "{e}"
        );
    }

    #[test]
    fn load_reads_files() {
        let dir = std::env::temp_dir().join(format!("wsflowd-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wsflowd");
        std::fs::write(&path, EXAMPLE).unwrap();
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.config, parse(EXAMPLE, FILE).unwrap().config);
        std::fs::write(&path, "config agent\n\toption header_bytes 1\n").unwrap();
        let e = load(&path).unwrap_err();
        assert_eq!(e.file, path.display().to_string());
        assert!(
            e.to_string()
                .starts_with(&format!("{}:2: ", path.display())),
            "{e}"
        );
        std::fs::write(&path, vec![b'#'; MAX_FILE_BYTES as usize + 1]).unwrap();
        let e = load(&path).unwrap_err();
        assert!(e.message.contains("too large"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn load_reports_io_errors() {
        let e = load(Path::new("/nonexistent/wsflowd")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/nonexistent/wsflowd: cannot read: No such file or directory"
        );
        assert_eq!((e.line, e.section, e.option), (0, None, None));
    }

    /// A section of type `kind` with one option set to `value` (written
    /// with `list` for list options), and what is needed besides.
    fn with_option(spec: &OptionSpec, value: &str) -> String {
        let keyword = if spec.list { "list" } else { "option" };
        let required = match spec.section {
            "interface" if spec.name != "device" => "\toption device 'eth0'\n",
            "collector" if spec.name != "address" => "\toption address '192.0.2.1'\n",
            _ => "",
        };
        let value = value.replace('\'', "'\\''");
        format!(
            "config {} 's'\n{required}\t{keyword} {} '{value}'\n",
            spec.section, spec.name
        )
    }

    #[test]
    fn schema_covers_every_option_the_checks_read() {
        assert_eq!(SECTION_TYPES, ["agent", "interface", "collector"]);
        for spec in SCHEMA {
            assert!(SECTION_TYPES.contains(&spec.section), "{spec:?}");
            assert_eq!(option_spec(spec.section, spec.name), Some(spec));
            // Known (no "unknown option" warning) and its default valid.
            let value = spec.default.unwrap_or_else(|| match spec.kind {
                Kind::Integer { min, .. } => {
                    ["1", "16", "256"][usize::from(min > 1) + usize::from(min > 16)]
                }
                Kind::Host => "192.0.2.7",
                Kind::AgentAddress | Kind::Interface | Kind::Bss => "eth1",
                Kind::SocketPath => "/var/run/ubus/ubus.sock",
                _ => unreachable!("{spec:?} has no default"),
            });
            let text = with_option(spec, value);
            let loaded = ok(&text);
            assert!(
                loaded.warnings.iter().all(|w| !w.contains("unknown")),
                "{text}: {:?}",
                loaded.warnings
            );
            if spec.required {
                let without = text
                    .lines()
                    .filter(|l| !l.contains(spec.name))
                    .collect::<Vec<_>>()
                    .join("\n");
                assert!(
                    err(&without).message.contains("missing required option"),
                    "{spec:?}"
                );
            }
        }
        // The defaults are the ones in force.
        let defaults = AgentConfig::default();
        let default_of =
            |section: &str, name: &str| option_spec(section, name).unwrap().default.unwrap();
        assert_eq!(
            default_of("agent", "polling_interval"),
            defaults.polling_interval.to_string()
        );
        assert_eq!(
            default_of("agent", "header_bytes"),
            defaults.header_bytes.to_string()
        );
        assert_eq!(
            default_of("agent", "datagram_bytes"),
            defaults.datagram_bytes.to_string()
        );
        assert_eq!(
            default_of("agent", "ring_kib"),
            defaults.ring_kib.to_string()
        );
        assert_eq!(
            default_of("agent", "sub_agent_id"),
            defaults.sub_agent_id.to_string()
        );
        assert_eq!(default_of("agent", "log_level"), defaults.log_level.name());
        assert_eq!(
            default_of("agent", "sampling_filter"),
            defaults.sampling_filter.name()
        );
        assert_eq!(
            default_of("interface", "foreign_bss"),
            ForeignBss::default().name()
        );
        assert_eq!(
            default_of("collector", "port"),
            DEFAULT_COLLECTOR_PORT.to_string()
        );
        assert_eq!(option_spec("agent", "sampling_rate").unwrap().default, None);
    }

    #[test]
    fn schema_limits_are_the_limits_in_force() {
        for spec in SCHEMA {
            match spec.kind {
                Kind::Integer { min, max, what } => {
                    for n in [min, max] {
                        let text = with_option(spec, &n.to_string());
                        if spec.name == "datagram_bytes" && n == min {
                            // Below the smallest header + 256: in range,
                            // but never valid (see the next test).
                            assert!(err(&text).message.contains("header_bytes + 256"));
                            continue;
                        }
                        ok(&text);
                    }
                    let mut outside = vec![max + 1, u64::MAX];
                    if min > 0 {
                        outside.push(min - 1);
                    }
                    for n in outside {
                        let e = err(&with_option(spec, &n.to_string()));
                        assert!(
                            e.message.contains(&format!("{what} from {min} to {max}")),
                            "{e}"
                        );
                    }
                }
                Kind::Word { words, aliases } => {
                    for w in words.iter().chain(aliases.iter().map(|(a, _)| a)) {
                        ok(&with_option(spec, w));
                        ok(&with_option(spec, &w.to_ascii_uppercase()));
                    }
                    let e = err(&with_option(spec, "nonsense"));
                    assert!(
                        e.message.contains(&format!("one of {}", words.join(", "))),
                        "{e}"
                    );
                }
                _ => {}
            }
        }
        // The log level words are the ones Level::parse reads.
        let Kind::Word { words, aliases } = option_spec("agent", "log_level").unwrap().kind else {
            panic!()
        };
        for w in words {
            assert_eq!(Level::parse(w).map(Level::name), Some(*w));
        }
        for (alias, word) in aliases {
            assert_eq!(Level::parse(alias).map(Level::name), Some(*word));
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggestion("sampling_rat", &options_of("agent")),
            Some("sampling_rate")
        );
        assert_eq!(
            suggestion("Polling_Interval", &options_of("agent")),
            Some("polling_interval")
        );
        assert_eq!(
            suggestion("interfaces", &options_of("agent")),
            Some("interface")
        );
        assert_eq!(suggestion("zzz", &options_of("agent")), None);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }

    fn check_never_panics(input: &[u8]) {
        match parse(input, FILE) {
            Ok(loaded) => {
                let agent = &loaded.config.agent;
                assert!(agent.header_bytes + DATAGRAM_HEADROOM <= agent.datagram_bytes);
                for i in &loaded.config.interfaces {
                    assert!(is_valid_interface_name(&i.device));
                    if let Some(rate) = agent.sampling_rate_for(i) {
                        assert!((1..=MAX_SAMPLING_RATE).contains(&rate));
                    }
                    assert!((MIN_RING_KIB..=MAX_RING_KIB).contains(&agent.ring_kib_for(i)));
                    assert!(agent.polling_interval_for(i) <= MAX_POLLING_INTERVAL);
                    for bss in &i.bss {
                        match bss {
                            Bss::Interface(name) => assert!(is_valid_interface_name(name)),
                            Bss::Bssid(mac) => assert_eq!(mac[0] & 1, 0),
                        }
                    }
                }
                for c in &loaded.config.collectors {
                    assert!(c.port >= 1);
                    assert!(parse_host(&c.address).is_ok());
                }
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = crate::rng::Rng::from_seed(0x2545_f491_4f6c_dd1d);
        for _ in 0..5_000 {
            let len = rng.index(200);
            let input: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
            check_never_panics(&input);
        }
    }

    #[test]
    fn mutations_of_the_examples_never_panic() {
        const PIECES: &[&[u8]] = &[
            b"'",
            b"\"",
            b"\\",
            b"\n",
            b"\r\n",
            b";",
            b"#",
            b" ",
            b"\t",
            b"0",
            b"9999999999",
            b"option ",
            b"list ",
            b"config ",
            b"agent",
            b"interface",
            b"collector",
            b"enabled",
            b"\xff",
            b"\0",
            b"-",
            b":",
            b"[",
            b"]",
            b"\xc3\xa9",
            b"bss",
            b"ring_kib",
            b"foreign_bss",
            b"sampling_filter",
            b"02:00:5e:10:00:01",
        ];
        let mut rng = crate::rng::Rng::from_seed(0x9e37_79b9_7f4a_7c15);
        for round in 0..4_000 {
            let mut input = if round % 2 == 0 {
                EXAMPLE.to_vec()
            } else {
                FULL.to_vec()
            };
            for _ in 0..1 + rng.index(6) {
                let at = rng.index(input.len() + 1);
                match rng.index(4) {
                    0 if at < input.len() => {
                        let end = (at + 1 + rng.index(16)).min(input.len());
                        input.drain(at..end);
                    }
                    1 if at < input.len() => input[at] = rng.next_u32() as u8,
                    2 => {
                        let piece = PIECES[rng.index(PIECES.len())];
                        input.splice(at..at, piece.iter().copied());
                    }
                    _ => {
                        // Duplicate a random line somewhere else.
                        let lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
                        let line = lines[rng.index(lines.len())].to_vec();
                        let at = at.min(input.len());
                        input.splice(at..at, line.into_iter().chain([b'\n']));
                    }
                }
            }
            check_never_panics(&input);
        }
    }
}
