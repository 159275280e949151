//! Every option of every section type, in one table: the kind of value it
//! takes (with its limits), whether it is a list and how long one may be,
//! whether it is required, its default, and where its value goes. The
//! checker (`check.rs`) reads a file by this table alone, the defaults of
//! [`AgentConfig`] are this table's, and the LuCI page and the init
//! script's validation are compared with it by tests.
//!
//! Adding an option: a field in the model (`model.rs`) and in [`Draft`]
//! when it belongs to an `interface` or `collector` section, one entry in
//! [`SCHEMA`] with the setter that puts the value there, and its line in
//! docs/configuration.md, the LuCI page and the init script (the tests say
//! which are missing).

use std::path::PathBuf;

use super::model::{AgentAddress, AgentConfig, Bss, ForeignBss, SamplingFilter};
use super::values::{
    is_valid_interface_name, parse_bool, parse_decimal, parse_domain, parse_host, parse_mac,
};
use crate::log::Level;
use crate::stations::{Source, Sources};

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

/// Interfaces sampled at most (listed in the agent section or in their
/// own sections): an access point with four radios of sixteen BSSes each,
/// its monitor and wired ports fit; each costs a socket and its ring.
pub const MAX_INTERFACES: usize = 64;
/// Collectors at most.
pub const MAX_COLLECTORS: usize = 16;
/// BSSes in one monitor interface's `bss` list at most (mac80211 radios
/// serve up to 16).
pub const MAX_BSS: usize = 32;
/// The receive rings of all sampled interfaces together, in KiB (twice the
/// largest one): the kernel memory the agent asks for, whatever the file
/// says.
pub const MAX_RING_TOTAL_KIB: u64 = 131_072;

/// What the options of the section being read set: the agent section in
/// place, an `interface` or `collector` section as read, before the
/// checker looks at it as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub agent: AgentConfig,
    /// The agent section's `interface` list, in order, without repeats.
    pub listed: Vec<String>,
    /// The agent section's `station_source` list.
    pub station_sources: Sources,
    pub interface: InterfaceDraft,
    pub collector: CollectorDraft,
}

/// An `interface` section as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceDraft {
    pub device: Option<String>,
    pub enabled: bool,
    pub sampling_rate: Option<u32>,
    pub polling_interval: Option<u32>,
    pub ring_kib: Option<u32>,
    pub bss: Vec<Bss>,
    pub foreign_bss: ForeignBss,
}

/// A `collector` section as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorDraft {
    pub enabled: bool,
    pub address: Option<String>,
    pub port: u16,
}

/// The values an option takes, how they are read, and the setter that
/// puts one into the [`Draft`]. Parsing and setting sit in one variant,
/// so an option's kind and the type of its field cannot disagree.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `1/0`, `yes/no`, `on/off`, `true/false`, `enabled/disabled`, in any
    /// case; see [`parse_bool`].
    Bool(fn(&mut Draft, bool)),
    /// Decimal digits only, from `min` to `max`; messages say "`what` from
    /// `min` to `max`".
    Integer {
        min: u64,
        max: u64,
        what: &'static str,
        set: fn(&mut Draft, u32),
    },
    /// One of `words`, in any case, or one of the `aliases` (an alias and
    /// the word it stands for); the setter gets the word's index.
    Word {
        words: &'static [&'static str],
        aliases: &'static [(&'static str, &'static str)],
        set: fn(&mut Draft, usize),
    },
    /// An IPv4 or IPv6 address or a DNS host name, without a port; see
    /// [`parse_host`].
    Host(fn(&mut Draft, String)),
    /// An IPv4 or IPv6 address, or an interface name that is not all
    /// digits and dots.
    AgentAddress(fn(&mut Draft, AgentAddress)),
    /// A Linux interface name; see [`is_valid_interface_name`].
    Interface(fn(&mut Draft, String)),
    /// An interface name or a unicast BSSID; see [`parse_mac`].
    Bss(fn(&mut Draft, Bss)),
    /// An absolute path of at most 107 bytes (a Unix socket's path).
    SocketPath(fn(&mut Draft, PathBuf)),
    /// A DNS domain name, without a final dot once read; see
    /// [`parse_domain`].
    Domain(fn(&mut Draft, String)),
}

/// Why a value was refused: what it was taken for and what was expected,
/// for "invalid `noun` 'x': expected `expected`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub noun: &'static str,
    pub expected: String,
}

/// Something to say about a value that was accepted.
pub type Remark = Option<String>;

const BOOL_EXPECTED: &str = "a boolean: 1/0, yes/no, on/off, true/false or enabled/disabled";
const AGENT_ADDRESS_EXPECTED: &str = "an IPv4 or IPv6 address, or an interface name";
const INTERFACE_EXPECTED: &str = "1 to 15 characters without '/', ':' or spaces";
const BSS_EXPECTED: &str =
    "an interface name or a BSSID written as a MAC address (aa:bb:cc:dd:ee:ff)";
const UNICAST_EXPECTED: &str =
    "a unicast BSSID (an even first byte), not a group or all-zero address";
const SOCKET_PATH_EXPECTED: &str = "an absolute path of at most 107 bytes";

fn refused(expected: impl Into<String>) -> Refused {
    Refused {
        noun: "value",
        expected: expected.into(),
    }
}

/// The agent address: an IP literal (IPv6 may be bracketed) or an
/// interface name that is not a mistyped IPv4 address.
fn agent_address(text: &str) -> Option<AgentAddress> {
    let unbracketed = text
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .filter(|v| v.contains(':'))
        .unwrap_or(text);
    if let Some(ip) = crate::ip::parse(unbracketed) {
        return Some(AgentAddress::Fixed(ip));
    }
    // Digits and dots are a mistyped IPv4 address, not a device.
    let ipv4_like = text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    (!ipv4_like && is_valid_interface_name(text)).then(|| AgentAddress::Interface(text.to_owned()))
}

/// A `bss` item: a unicast BSSID, else an interface name.
fn bss(text: &str) -> Result<Bss, Refused> {
    if let Some(mac) = parse_mac(text) {
        if mac[0] & 1 != 0 || mac == [0; 6] {
            return Err(refused(UNICAST_EXPECTED));
        }
        return Ok(Bss::Bssid(mac));
    }
    if !is_valid_interface_name(text) {
        return Err(refused(BSS_EXPECTED));
    }
    Ok(Bss::Interface(text.to_owned()))
}

impl Kind {
    /// Reads `text` as a value of this kind: its canonical form (repeats
    /// in a list are found by it) and a remark, or why it is refused.
    pub fn check(&self, text: &str) -> Result<(String, Remark), Refused> {
        let canonical =
            match *self {
                Kind::Bool(_) => parse_bool(text)
                    .ok_or_else(|| refused(BOOL_EXPECTED))?
                    .to_string(),
                Kind::Integer { min, max, what, .. } => match parse_decimal(text) {
                    Some(n) if (min..=max).contains(&n) => n.to_string(),
                    _ => return Err(refused(format!("{what} from {min} to {max}"))),
                },
                Kind::Word { words, aliases, .. } => word(words, aliases, text)
                    .map(|i| words[i].to_owned())
                    .ok_or_else(|| refused(format!("one of {}", words.join(", "))))?,
                Kind::Host(_) => parse_host(text)
                    .map_err(|e| refused(e.strip_prefix("expected ").unwrap_or(e)))?,
                Kind::AgentAddress(_) => match agent_address(text) {
                    Some(_) => text.to_owned(),
                    None => return Err(refused(AGENT_ADDRESS_EXPECTED)),
                },
                Kind::Interface(_) => {
                    if !is_valid_interface_name(text) {
                        return Err(Refused {
                            noun: "interface name",
                            expected: INTERFACE_EXPECTED.to_owned(),
                        });
                    }
                    text.to_owned()
                }
                Kind::Bss(_) => {
                    let b = bss(text)?;
                    if let Bss::Interface(name) = &b {
                        if name.len() == 12 && name.bytes().all(|c| c.is_ascii_hexdigit()) {
                            let remark =
                            "is taken for an interface name; write a BSSID as aa:bb:cc:dd:ee:ff"
                                .to_owned();
                            return Ok((b.to_string(), Some(remark)));
                        }
                    }
                    b.to_string()
                }
                Kind::SocketPath(_) => {
                    // sun_path holds 108 bytes with the NUL.
                    if !(text.starts_with('/') && text.len() < 108 && !text.contains('\0')) {
                        return Err(refused(SOCKET_PATH_EXPECTED));
                    }
                    text.to_owned()
                }
                Kind::Domain(_) => parse_domain(text)
                    .map_err(|e| refused(e.strip_prefix("expected ").unwrap_or(e)))?,
            };
        Ok((canonical, None))
    }

    /// Sets `text`, a value that [`Kind::check`] accepted, in `draft`.
    pub fn set(&self, draft: &mut Draft, text: &str) {
        match *self {
            Kind::Bool(set) => {
                if let Some(v) = parse_bool(text) {
                    set(draft, v)
                }
            }
            Kind::Integer { min, max, set, .. } => {
                if let Some(n) = parse_decimal(text).filter(|n| (min..=max).contains(n)) {
                    set(draft, n as u32)
                }
            }
            Kind::Word {
                words,
                aliases,
                set,
                ..
            } => {
                if let Some(i) = word(words, aliases, text) {
                    set(draft, i)
                }
            }
            Kind::Host(set) => {
                if let Ok(host) = parse_host(text) {
                    set(draft, host)
                }
            }
            Kind::AgentAddress(set) => {
                if let Some(a) = agent_address(text) {
                    set(draft, a)
                }
            }
            Kind::Interface(set) => set(draft, text.to_owned()),
            Kind::Bss(set) => {
                if let Ok(b) = bss(text) {
                    set(draft, b)
                }
            }
            Kind::SocketPath(set) => set(draft, PathBuf::from(text)),
            Kind::Domain(set) => {
                if let Ok(domain) = parse_domain(text) {
                    set(draft, domain)
                }
            }
        }
    }
}

/// The index of the word `text` is, or stands for.
fn word(words: &[&str], aliases: &[(&str, &str)], text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let canonical = aliases
        .iter()
        .find(|&&(a, _)| a == lower)
        .map_or(lower.as_str(), |&(_, w)| w);
    words.iter().position(|&w| w == canonical)
}

/// One option of one section type.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    /// The section type: `agent`, `interface` or `collector`.
    pub section: &'static str,
    pub name: &'static str,
    pub kind: Kind,
    /// Set with `list` (each item may also hold several words separated by
    /// spaces); the other options take one value, and `list` is an error.
    pub list: bool,
    /// Values a list takes at most, repeats left out.
    pub max_items: usize,
    /// The section is refused without it.
    pub required: bool,
    /// The value in force when the option is not set, as it would be
    /// written; `None` when there is none (required, a list, or chosen at
    /// run time, like the sampling rate from the link speed).
    pub default: Option<&'static str>,
    /// A value that is refused with a hint of what to do instead.
    pub hint: Option<(&'static str, &'static str)>,
}

/// One section type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionSpec {
    pub kind: &'static str,
    /// Sections of this type at most.
    pub max: usize,
}

/// The section types, in the order the checker reads them.
pub const SECTIONS: &[SectionSpec] = &[
    SectionSpec {
        kind: "agent",
        max: 1,
    },
    SectionSpec {
        kind: "interface",
        max: MAX_INTERFACES,
    },
    SectionSpec {
        kind: "collector",
        max: MAX_COLLECTORS,
    },
];

const fn spec(section: &'static str, name: &'static str, kind: Kind) -> OptionSpec {
    OptionSpec {
        section,
        name,
        kind,
        list: false,
        max_items: 1,
        required: false,
        default: None,
        hint: None,
    }
}

const fn with_default(spec: OptionSpec, default: &'static str) -> OptionSpec {
    OptionSpec {
        default: Some(default),
        ..spec
    }
}

const fn list(spec: OptionSpec, max_items: usize) -> OptionSpec {
    OptionSpec {
        list: true,
        max_items,
        ..spec
    }
}

const fn required(spec: OptionSpec) -> OptionSpec {
    OptionSpec {
        required: true,
        ..spec
    }
}

const fn integer(min: u32, max: u32, what: &'static str, set: fn(&mut Draft, u32)) -> Kind {
    Kind::Integer {
        min: min as u64,
        max: max as u64,
        what,
        set,
    }
}

const SECONDS: &str = "a whole number of seconds";
const RATE: &str = "a 1-in-N rate";
const KIB: &str = "a whole number of KiB";
const BYTES: &str = "a whole number of bytes";
const LOG_LEVEL_WORDS: [&str; 4] = ["error", "warning", "info", "debug"];
const _: () = assert!(LOG_LEVEL_WORDS.len() == Level::ALL.len());
const SAMPLING_RATE_HINT: (&str, &str) = (
    "0",
    "to stop sampling an interface, set 'enabled' to '0' in its interface section",
);

/// Every option of every section type, with its values, limits, default
/// and field.
pub static SCHEMA: &[OptionSpec] = &[
    with_default(
        spec("agent", "enabled", Kind::Bool(|d, v| d.agent.enabled = v)),
        "1",
    ),
    spec(
        "agent",
        "agent_address",
        Kind::AgentAddress(|d, v| d.agent.agent_address = v),
    ),
    with_default(
        spec(
            "agent",
            "sub_agent_id",
            integer(0, u32::MAX, "a whole number", |d, v| {
                d.agent.sub_agent_id = v
            }),
        ),
        "0",
    ),
    with_default(
        spec(
            "agent",
            "polling_interval",
            integer(0, MAX_POLLING_INTERVAL, SECONDS, |d, v| {
                d.agent.polling_interval = v
            }),
        ),
        "20",
    ),
    OptionSpec {
        hint: Some(SAMPLING_RATE_HINT),
        ..spec(
            "agent",
            "sampling_rate",
            integer(1, MAX_SAMPLING_RATE, RATE, |d, v| {
                d.agent.sampling_rate = Some(v)
            }),
        )
    },
    with_default(
        spec(
            "agent",
            "header_bytes",
            integer(MIN_HEADER_BYTES, MAX_HEADER_BYTES, BYTES, |d, v| {
                d.agent.header_bytes = v
            }),
        ),
        "128",
    ),
    with_default(
        spec(
            "agent",
            "datagram_bytes",
            integer(MIN_DATAGRAM_BYTES, MAX_DATAGRAM_BYTES, BYTES, |d, v| {
                d.agent.datagram_bytes = v
            }),
        ),
        "1400",
    ),
    with_default(
        spec(
            "agent",
            "log_level",
            Kind::Word {
                words: &LOG_LEVEL_WORDS,
                aliases: &[("err", "error"), ("warn", "warning"), ("notice", "info")],
                set: |d, i| d.agent.log_level = Level::ALL[i],
            },
        ),
        "info",
    ),
    with_default(
        spec(
            "agent",
            "ring_kib",
            integer(MIN_RING_KIB, MAX_RING_KIB, KIB, |d, v| d.agent.ring_kib = v),
        ),
        "256",
    ),
    with_default(
        spec(
            "agent",
            "sampling_filter",
            Kind::Word {
                words: &SamplingFilter::WORDS,
                aliases: &[],
                set: |d, i| d.agent.sampling_filter = SamplingFilter::ALL[i],
            },
        ),
        "auto",
    ),
    spec(
        "agent",
        "ubus_socket",
        Kind::SocketPath(|d, v| d.agent.ubus_socket = Some(v)),
    ),
    list(
        spec(
            "agent",
            "interface",
            Kind::Interface(|d, v| d.listed.push(v)),
        ),
        MAX_INTERFACES,
    ),
    OptionSpec {
        // Not set: every source. Set: those listed, and no other.
        default: Some("nl80211 hostapd ubus"),
        ..list(
            spec(
                "agent",
                "station_source",
                Kind::Word {
                    words: &Source::WORDS,
                    aliases: &[],
                    set: |d, i| d.station_sources.insert(Source::ALL[i]),
                },
            ),
            Source::ALL.len(),
        )
    },
    with_default(
        spec(
            "agent",
            "hostapd_control_dir",
            Kind::SocketPath(|d, v| d.agent.hostapd_control_dir = v),
        ),
        "/var/run/hostapd",
    ),
    with_default(
        spec("agent", "dns_sd", Kind::Bool(|d, v| d.agent.dns_sd = v)),
        "0",
    ),
    spec(
        "agent",
        "dns_sd_domain",
        Kind::Domain(|d, v| d.agent.dns_sd_domain = Some(v)),
    ),
    required(spec(
        "interface",
        "device",
        Kind::Interface(|d, v| d.interface.device = Some(v)),
    )),
    with_default(
        spec(
            "interface",
            "enabled",
            Kind::Bool(|d, v| d.interface.enabled = v),
        ),
        "1",
    ),
    OptionSpec {
        hint: Some(SAMPLING_RATE_HINT),
        ..spec(
            "interface",
            "sampling_rate",
            integer(1, MAX_SAMPLING_RATE, RATE, |d, v| {
                d.interface.sampling_rate = Some(v)
            }),
        )
    },
    spec(
        "interface",
        "polling_interval",
        integer(0, MAX_POLLING_INTERVAL, SECONDS, |d, v| {
            d.interface.polling_interval = Some(v)
        }),
    ),
    spec(
        "interface",
        "ring_kib",
        integer(MIN_RING_KIB, MAX_RING_KIB, KIB, |d, v| {
            d.interface.ring_kib = Some(v)
        }),
    ),
    list(
        spec(
            "interface",
            "bss",
            Kind::Bss(|d, v| d.interface.bss.push(v)),
        ),
        MAX_BSS,
    ),
    with_default(
        spec(
            "interface",
            "foreign_bss",
            Kind::Word {
                words: &ForeignBss::WORDS,
                aliases: &[],
                set: |d, i| d.interface.foreign_bss = ForeignBss::ALL[i],
            },
        ),
        "ignore",
    ),
    with_default(
        spec(
            "collector",
            "enabled",
            Kind::Bool(|d, v| d.collector.enabled = v),
        ),
        "1",
    ),
    required(spec(
        "collector",
        "address",
        Kind::Host(|d, v| d.collector.address = Some(v)),
    )),
    with_default(
        spec(
            "collector",
            "port",
            integer(1, 65535, "a port number", |d, v| {
                d.collector.port = v as u16
            }),
        ),
        "6343",
    ),
];

/// The option `name` of sections of type `section`.
pub fn option_spec(section: &str, name: &str) -> Option<&'static OptionSpec> {
    SCHEMA
        .iter()
        .find(|o| o.section == section && o.name == name)
}

/// The options of a section type.
pub fn options_of(section: &str) -> impl Iterator<Item = &'static OptionSpec> + '_ {
    SCHEMA.iter().filter(move |o| o.section == section)
}

/// The section types' names.
pub fn section_types() -> impl Iterator<Item = &'static str> {
    SECTIONS.iter().map(|s| s.kind)
}

impl Draft {
    /// Every value unset, before the defaults.
    fn unset() -> Draft {
        Draft {
            agent: AgentConfig::unset(),
            listed: Vec::new(),
            station_sources: Sources::NONE,
            interface: InterfaceDraft {
                device: None,
                enabled: false,
                sampling_rate: None,
                polling_interval: None,
                ring_kib: None,
                bss: Vec::new(),
                foreign_bss: ForeignBss::Ignore,
            },
            collector: CollectorDraft {
                enabled: false,
                address: None,
                port: 0,
            },
        }
    }
}

/// Every section with the schema's defaults (and nothing else) set. A
/// list's default is what an absent list means; it is not set here, so
/// that a list in the file replaces it rather than adds to it (see
/// [`Draft::finish_agent`]).
pub fn defaults() -> Draft {
    let mut draft = Draft::unset();
    for o in SCHEMA.iter().filter(|o| !o.list) {
        if let Some(value) = o.default {
            o.kind.set(&mut draft, value);
        }
    }
    draft.finish_agent();
    draft
}

impl Draft {
    /// Settles what an agent section's lists say: an absent
    /// `station_source` list means every source.
    pub fn finish_agent(&mut self) {
        self.agent.station_sources = if self.station_sources.is_empty() {
            Sources::ALL
        } else {
            self.station_sources
        };
    }
}
