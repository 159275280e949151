//! A minimal nl80211 client over generic netlink: the stations of an
//! access point's interface, the channel survey of its radio, and the
//! interface itself (type, SSID, channel, transmit power).
//!
//! One `NETLINK_GENERIC` [`crate::netlink::RequestSocket`] is kept open
//! with its receive buffer (one exchange at a time, answers matched by
//! sequence number, a one-second receive timeout so that a silent kernel
//! cannot hang the event loop). The `nl80211` family id is resolved once, at [`Nl80211::open`],
//! through the generic netlink controller (`CTRL_CMD_GETFAMILY`); a kernel
//! without cfg80211 answers `ENOENT`, an ordinary error the caller handles
//! by reporting the 802.11 counters unavailable.
//!
//! Attribute numbers and types are those of the nl80211 UAPI,
//! `include/uapi/linux/nl80211.h` (the numbering is append-only, so one
//! table serves every kernel). Messages are parsed as untrusted bytes:
//! every length is checked, no input can make the parsers panic (see the
//! truncation and random-bytes tests), and attributes a kernel does not
//! send are `None` rather than errors.

pub mod events;

use crate::io_error::io_error;
use std::fmt;
use std::io;

use super::phy::{is_dsss_bps, Band, PhyType};
use crate::netlink::{
    attr_string, push_attr, u16_at, u32_at, Attrs, Header, RequestSocket, Truncated, NLMSG_HDRLEN,
    NLMSG_MIN_TYPE, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use crate::sflow::Ieee80211Version;

// Generic netlink (include/uapi/linux/genetlink.h).
/// `struct genlmsghdr { u8 cmd; u8 version; u16 reserved; }`
const GENL_HDRLEN: usize = 4;
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_NEWFAMILY: u8 = 1;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;
/// The controller's interface version (`CTRL_ATTR_VERSION` of "nlctrl").
const CTRL_VERSION: u8 = 2;

/// `NL80211_GENL_NAME`.
const NL80211_FAMILY: &str = "nl80211";
/// nl80211 ignores the generic netlink version; iw and hostapd send 0.
const NL80211_VERSION: u8 = 0;

// enum nl80211_commands
const NL80211_CMD_GET_INTERFACE: u8 = 5;
const NL80211_CMD_NEW_INTERFACE: u8 = 7;
const NL80211_CMD_GET_STATION: u8 = 17;
const NL80211_CMD_NEW_STATION: u8 = 19;
const NL80211_CMD_GET_SURVEY: u8 = 50;
const NL80211_CMD_NEW_SURVEY_RESULTS: u8 = 51;

// enum nl80211_attrs
const NL80211_ATTR_WIPHY: u16 = 1;
const NL80211_ATTR_IFINDEX: u16 = 3;
const NL80211_ATTR_IFNAME: u16 = 4;
const NL80211_ATTR_IFTYPE: u16 = 5;
const NL80211_ATTR_MAC: u16 = 6;
const NL80211_ATTR_STA_INFO: u16 = 21;
const NL80211_ATTR_WIPHY_FREQ: u16 = 38;
const NL80211_ATTR_SSID: u16 = 52;
const NL80211_ATTR_SURVEY_INFO: u16 = 84;
const NL80211_ATTR_WIPHY_TX_POWER_LEVEL: u16 = 98;
const NL80211_ATTR_CHANNEL_WIDTH: u16 = 159;
const NL80211_ATTR_CENTER_FREQ1: u16 = 160;
const NL80211_ATTR_MLO_LINKS: u16 = 312;

// enum nl80211_sta_info
const STA_INFO_INACTIVE_TIME: u16 = 1;
const STA_INFO_RX_BYTES: u16 = 2;
const STA_INFO_TX_BYTES: u16 = 3;
const STA_INFO_SIGNAL: u16 = 7;
const STA_INFO_TX_BITRATE: u16 = 8;
const STA_INFO_RX_PACKETS: u16 = 9;
const STA_INFO_TX_PACKETS: u16 = 10;
const STA_INFO_TX_RETRIES: u16 = 11;
const STA_INFO_TX_FAILED: u16 = 12;
const STA_INFO_SIGNAL_AVG: u16 = 13;
const STA_INFO_RX_BITRATE: u16 = 14;
const STA_INFO_STA_FLAGS: u16 = 17;
const STA_INFO_RX_BYTES64: u16 = 23;
const STA_INFO_TX_BYTES64: u16 = 24;

/// `NL80211_STA_FLAG_ASSOCIATED` (a bit number of `struct
/// nl80211_sta_flag_update`).
const STA_FLAG_ASSOCIATED: u32 = 7;

// enum nl80211_rate_info
const RATE_INFO_BITRATE: u16 = 1;
const RATE_INFO_MCS: u16 = 2;
const RATE_INFO_40_MHZ_WIDTH: u16 = 3;
const RATE_INFO_SHORT_GI: u16 = 4;
const RATE_INFO_BITRATE32: u16 = 5;
const RATE_INFO_VHT_MCS: u16 = 6;
const RATE_INFO_VHT_NSS: u16 = 7;
const RATE_INFO_80_MHZ_WIDTH: u16 = 8;
const RATE_INFO_80P80_MHZ_WIDTH: u16 = 9;
const RATE_INFO_160_MHZ_WIDTH: u16 = 10;
const RATE_INFO_10_MHZ_WIDTH: u16 = 11;
const RATE_INFO_5_MHZ_WIDTH: u16 = 12;
const RATE_INFO_HE_MCS: u16 = 13;
const RATE_INFO_HE_NSS: u16 = 14;
const RATE_INFO_HE_GI: u16 = 15;
const RATE_INFO_320_MHZ_WIDTH: u16 = 18;
const RATE_INFO_EHT_MCS: u16 = 19;
const RATE_INFO_EHT_NSS: u16 = 20;

// enum nl80211_survey_info. The old names (NL80211_SURVEY_INFO_CHANNEL_TIME,
// _CHANNEL_TIME_BUSY, ...) are #defines of these same numbers, 4..8.
const SURVEY_INFO_FREQUENCY: u16 = 1;
const SURVEY_INFO_NOISE: u16 = 2;
const SURVEY_INFO_IN_USE: u16 = 3;
const SURVEY_INFO_TIME: u16 = 4;
const SURVEY_INFO_TIME_BUSY: u16 = 5;
const SURVEY_INFO_TIME_EXT_BUSY: u16 = 6;
const SURVEY_INFO_TIME_RX: u16 = 7;
const SURVEY_INFO_TIME_TX: u16 = 8;
const SURVEY_INFO_TIME_SCAN: u16 = 9;
const SURVEY_INFO_TIME_BSS_RX: u16 = 11;

/// `enum nl80211_iftype` values of [`InterfaceInfo::if_type`].
pub mod iftype {
    pub const UNSPECIFIED: u32 = 0;
    pub const ADHOC: u32 = 1;
    pub const STATION: u32 = 2;
    pub const AP: u32 = 3;
    pub const AP_VLAN: u32 = 4;
    pub const WDS: u32 = 5;
    pub const MONITOR: u32 = 6;
    pub const MESH_POINT: u32 = 7;
    pub const P2P_CLIENT: u32 = 8;
    pub const P2P_GO: u32 = 9;
    pub const P2P_DEVICE: u32 = 10;
    pub const OCB: u32 = 11;
    pub const NAN: u32 = 12;
}

/// `enum nl80211_chan_width` values of [`InterfaceInfo::channel_width`].
pub mod chan_width {
    pub const W20_NOHT: u32 = 0;
    pub const W20: u32 = 1;
    pub const W40: u32 = 2;
    pub const W80: u32 = 3;
    pub const W80P80: u32 = 4;
    pub const W160: u32 = 5;
    pub const W5: u32 = 6;
    pub const W10: u32 = 7;
    pub const W320: u32 = 13;
}

/// Why an nl80211 or controller message could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// A length field points outside the message, or is too small.
    Truncated(&'static str),
    /// A netlink control message (NOOP, ERROR, DONE, OVERRUN) where a
    /// generic netlink message was expected.
    UnexpectedType(u16),
    /// Not the generic netlink command expected.
    UnexpectedCommand(u8),
    /// A mandatory attribute is absent.
    Missing(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated(what) => write!(f, "nl80211: truncated {what}"),
            Error::UnexpectedType(t) => write!(f, "nl80211: unexpected message type {t}"),
            Error::UnexpectedCommand(c) => write!(f, "nl80211: unexpected command {c}"),
            Error::Missing(what) => write!(f, "nl80211: missing {what}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<Truncated> for Error {
    fn from(e: Truncated) -> Error {
        Error::Truncated(e.0)
    }
}

impl From<Error> for io::Error {
    /// The message only: boxing the error itself would link its derived
    /// `Debug` (for the box's vtable) and Debug's machinery, ~1 KB of a
    /// mips binary that nothing prints.
    fn from(e: Error) -> io::Error {
        io_error(io::ErrorKind::InvalidData, e.to_string())
    }
}

/// An unsigned attribute of any width the kernel uses (1, 2, 4 or 8
/// bytes): the survey times, for one, are u64 today but a reader should
/// not depend on it. Other lengths are malformed: `None`.
fn uint(p: &[u8]) -> Option<u64> {
    Some(match p.len() {
        1 => u64::from(p[0]),
        2 => u64::from(u16::from_ne_bytes(p.try_into().ok()?)),
        4 => u64::from(u32::from_ne_bytes(p.try_into().ok()?)),
        8 => u64::from_ne_bytes(p.try_into().ok()?),
        _ => return None,
    })
}

/// A u32 attribute (the kernel's nla_get_u32 reads the first four bytes).
fn attr_u32(p: &[u8]) -> Option<u32> {
    u32_at(p, 0)
}

/// A u8 attribute holding a signed dBm value (as iw reads SIGNAL, NOISE).
fn attr_dbm(p: &[u8]) -> Option<i8> {
    p.first().map(|&b| b as i8)
}

/// The command and attributes of a generic netlink message (`nlmsghdr`,
/// `genlmsghdr`, attributes).
fn genl_command(msg: &[u8]) -> Result<(u8, &[u8]), Error> {
    let header = Header::parse(msg)?;
    if header.kind < NLMSG_MIN_TYPE {
        return Err(Error::UnexpectedType(header.kind));
    }
    let msg = &msg[..header.len];
    let genl = msg
        .get(NLMSG_HDRLEN..NLMSG_HDRLEN + GENL_HDRLEN)
        .ok_or(Error::Truncated("genlmsghdr"))?;
    Ok((genl[0], &msg[NLMSG_HDRLEN + GENL_HDRLEN..]))
}

/// Checks a generic netlink message (`nlmsghdr`, `genlmsghdr`, attributes)
/// for command `cmd` and returns its attributes.
fn genl_attrs(msg: &[u8], cmd: u8) -> Result<&[u8], Error> {
    let header = Header::parse(msg)?;
    if header.kind < NLMSG_MIN_TYPE {
        return Err(Error::UnexpectedType(header.kind));
    }
    let msg = &msg[..header.len];
    let genl = msg
        .get(NLMSG_HDRLEN..NLMSG_HDRLEN + GENL_HDRLEN)
        .ok_or(Error::Truncated("genlmsghdr"))?;
    if genl[0] != cmd {
        return Err(Error::UnexpectedCommand(genl[0]));
    }
    Ok(&msg[NLMSG_HDRLEN + GENL_HDRLEN..])
}

/// A generic netlink family: its id, name and multicast groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub id: u16,
    pub name: String,
    /// (name, group id) of each multicast group.
    pub groups: Vec<(String, u32)>,
}

impl Family {
    /// The id of multicast group `name`.
    pub fn group(&self, name: &str) -> Option<u32> {
        self.groups
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, id)| id)
    }
}

/// The controller's answer to `CTRL_CMD_GETFAMILY`.
pub fn parse_family(msg: &[u8]) -> Result<Family, Error> {
    let mut id = None;
    let mut name = None;
    let mut groups = Vec::new();
    for attr in Attrs(genl_attrs(msg, CTRL_CMD_NEWFAMILY)?) {
        let (kind, p) = attr?;
        match kind {
            CTRL_ATTR_FAMILY_ID => id = u16_at(p, 0),
            CTRL_ATTR_FAMILY_NAME => name = Some(attr_string(p)),
            CTRL_ATTR_MCAST_GROUPS => {
                // An array: one nest per group, with its name and id.
                for group in Attrs(p) {
                    let (_, g) = group?;
                    let (mut gname, mut gid) = (None, None);
                    for a in Attrs(g) {
                        let (k, v) = a?;
                        match k {
                            CTRL_ATTR_MCAST_GRP_NAME => gname = Some(attr_string(v)),
                            CTRL_ATTR_MCAST_GRP_ID => gid = attr_u32(v),
                            _ => {}
                        }
                    }
                    if let (Some(n), Some(i)) = (gname, gid) {
                        groups.push((n, i));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(Family {
        id: id.ok_or(Error::Missing("CTRL_ATTR_FAMILY_ID"))?,
        name: name.ok_or(Error::Missing("CTRL_ATTR_FAMILY_NAME"))?,
        groups,
    })
}

/// The modulation family of a rate, with its MCS and spatial streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RateMode {
    /// No MCS: a DSSS/CCK or OFDM (non-HT) rate.
    #[default]
    Legacy,
    /// HT (802.11n); the MCS index encodes the streams.
    Ht { mcs: u8 },
    /// VHT (802.11ac); `nss` 0 when the kernel did not say.
    Vht { mcs: u8, nss: u8 },
    /// HE (802.11ax); `nss` 0 when the kernel did not say.
    He { mcs: u8, nss: u8 },
    /// EHT (802.11be); `nss` 0 when the kernel did not say.
    Eht { mcs: u8, nss: u8 },
}

/// A station's last transmit or receive rate (`NL80211_STA_INFO_TX_BITRATE`
/// / `RX_BITRATE`, nested `enum nl80211_rate_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateInfo {
    /// Bit/s, from `BITRATE32` (100 kbit/s units) or else the 16-bit
    /// `BITRATE`; `None` when the kernel could not compute a rate (it then
    /// sends neither).
    pub bitrate_bps: Option<u64>,
    pub mode: RateMode,
    /// 5, 10, 20, 40, 80, 160 (80+80 too) or 320 MHz; 20 without a flag.
    pub width_mhz: u16,
    /// HT/VHT 400 ns guard interval.
    pub short_gi: bool,
    /// `NL80211_RATE_INFO_HE_GI_*`: 0 = 0.8 µs, 1 = 1.6 µs, 2 = 3.2 µs.
    pub he_gi: Option<u8>,
}

impl RateInfo {
    /// The PHY family of the rate. HT, VHT and HE rates say it by their
    /// MCS attribute; a legacy rate is DSSS (802.11b) by its value, else
    /// OFDM: ERP (802.11g) in 2.4 GHz, "a" in 4.9, 5 and 6 GHz, unknown
    /// when the band is unknown (`freq_mhz` is the channel of the
    /// interface, [`InterfaceInfo::frequency_mhz`]). EHT has no
    /// [`PhyType`]: `None`.
    pub fn phy_type(&self, freq_mhz: Option<u32>) -> Option<PhyType> {
        match self.mode {
            RateMode::Ht { .. } => Some(PhyType::Ht),
            RateMode::Vht { .. } => Some(PhyType::Vht),
            RateMode::He { .. } => Some(PhyType::He),
            RateMode::Eht { .. } => None,
            RateMode::Legacy => {
                let narrow = self.width_mhz == 5 || self.width_mhz == 10;
                let rate = self.bitrate_bps;
                if !narrow && rate.is_some_and(is_dsss_bps) {
                    return Some(PhyType::Dsss);
                }
                match freq_mhz.map_or(Band::Unknown, Band::from_mhz) {
                    // Without a rate, 2.4 GHz could be DSSS or ERP.
                    Band::Ghz2_4 if rate.is_some() || narrow => Some(PhyType::Erp),
                    Band::Ghz4_9 | Band::Ghz5 | Band::Ghz6 => Some(PhyType::Ofdm),
                    _ => None,
                }
            }
        }
    }

    /// The sFlow `ieee80211_version` of the rate, with the semantics of
    /// [`PhyType::sflow_version`]: a, b, g, n, and 0 (unknown) for VHT, HE,
    /// EHT and whatever cannot be told.
    pub fn sflow_version(&self, freq_mhz: Option<u32>) -> Ieee80211Version {
        self.phy_type(freq_mhz)
            .map_or(Ieee80211Version::UNKNOWN, PhyType::sflow_version)
    }
}

/// Parses a nested `enum nl80211_rate_info`.
fn parse_rate(b: &[u8]) -> Result<RateInfo, Error> {
    let mut rate = RateInfo {
        width_mhz: 20,
        ..RateInfo::default()
    };
    let (mut bitrate16, mut bitrate32) = (None, None);
    let (mut ht, mut vht, mut he, mut eht) = (None, None, None, None);
    let (mut vht_nss, mut he_nss, mut eht_nss) = (0, 0, 0);
    for attr in Attrs(b) {
        let (kind, p) = attr?;
        let byte = p.first().copied();
        match kind {
            RATE_INFO_BITRATE => bitrate16 = u16_at(p, 0),
            RATE_INFO_BITRATE32 => bitrate32 = attr_u32(p),
            RATE_INFO_MCS => ht = byte,
            RATE_INFO_VHT_MCS => vht = byte,
            RATE_INFO_VHT_NSS => vht_nss = byte.unwrap_or(0),
            RATE_INFO_HE_MCS => he = byte,
            RATE_INFO_HE_NSS => he_nss = byte.unwrap_or(0),
            RATE_INFO_HE_GI => rate.he_gi = byte,
            RATE_INFO_EHT_MCS => eht = byte,
            RATE_INFO_EHT_NSS => eht_nss = byte.unwrap_or(0),
            RATE_INFO_SHORT_GI => rate.short_gi = true,
            RATE_INFO_5_MHZ_WIDTH => rate.width_mhz = 5,
            RATE_INFO_10_MHZ_WIDTH => rate.width_mhz = 10,
            RATE_INFO_40_MHZ_WIDTH => rate.width_mhz = 40,
            RATE_INFO_80_MHZ_WIDTH => rate.width_mhz = 80,
            RATE_INFO_80P80_MHZ_WIDTH | RATE_INFO_160_MHZ_WIDTH => rate.width_mhz = 160,
            RATE_INFO_320_MHZ_WIDTH => rate.width_mhz = 320,
            _ => {}
        }
    }
    // BITRATE32 is preferred: the 16-bit BITRATE is left out above 6553.5
    // Mb/s.
    rate.bitrate_bps = bitrate32
        .or(bitrate16.map(u32::from))
        .filter(|&r| r != 0)
        .map(|r| u64::from(r) * 100_000);
    // One kind is sent per rate; should several be, the newest PHY wins.
    rate.mode = if let Some(mcs) = eht {
        RateMode::Eht { mcs, nss: eht_nss }
    } else if let Some(mcs) = he {
        RateMode::He { mcs, nss: he_nss }
    } else if let Some(mcs) = vht {
        RateMode::Vht { mcs, nss: vht_nss }
    } else if let Some(mcs) = ht {
        RateMode::Ht { mcs }
    } else {
        RateMode::Legacy
    };
    Ok(rate)
}

/// One station of an interface (`NL80211_CMD_NEW_STATION`). Every counter
/// is cumulative since the station associated; the ones a driver does not
/// report are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Station {
    /// `NL80211_ATTR_IFINDEX`: the interface the station belongs to.
    pub if_index: Option<u32>,
    pub mac: [u8; 6],
    /// Milliseconds since the station was last active.
    pub inactive_time_ms: Option<u32>,
    /// MPDU bytes received from the station (RX_BYTES64, else RX_BYTES).
    pub rx_bytes: Option<u64>,
    /// MPDU bytes transmitted to the station (TX_BYTES64, else TX_BYTES).
    pub tx_bytes: Option<u64>,
    /// MSDUs and MMPDUs received from the station.
    pub rx_packets: Option<u32>,
    /// MSDUs and MMPDUs transmitted to the station (mac80211 counts them
    /// when handed to the driver, acknowledged or not).
    pub tx_packets: Option<u32>,
    /// Retransmissions (MPDUs) to the station: one per retry, not one per
    /// frame retried.
    pub tx_retries: Option<u32>,
    /// MPDUs to the station dropped after the last retry.
    pub tx_failed: Option<u32>,
    /// Signal of the last received PPDU, dBm.
    pub signal_dbm: Option<i8>,
    /// Average signal, dBm.
    pub signal_avg_dbm: Option<i8>,
    /// Current unicast transmit rate to the station.
    pub tx_rate: Option<RateInfo>,
    /// Rate of the last unicast data frame received from the station.
    pub rx_rate: Option<RateInfo>,
    /// `NL80211_STA_FLAG_ASSOCIATED` from STA_FLAGS, when the kernel's
    /// mask covers it (an AP also lists stations only authenticated).
    pub associated: Option<bool>,
}

/// Parses one `NL80211_CMD_NEW_STATION` message, `nlmsghdr` included.
pub fn parse_station(msg: &[u8]) -> Result<Station, Error> {
    let mut station = Station::default();
    let mut mac = None;
    for attr in Attrs(genl_attrs(msg, NL80211_CMD_NEW_STATION)?) {
        let (kind, p) = attr?;
        match kind {
            NL80211_ATTR_IFINDEX => station.if_index = attr_u32(p),
            NL80211_ATTR_MAC => mac = <[u8; 6]>::try_from(p).ok(),
            NL80211_ATTR_STA_INFO => parse_sta_info(p, &mut station)?,
            _ => {}
        }
    }
    station.mac = mac.ok_or(Error::Missing("NL80211_ATTR_MAC"))?;
    Ok(station)
}

/// Parses the nested `enum nl80211_sta_info` into `s`.
fn parse_sta_info(b: &[u8], s: &mut Station) -> Result<(), Error> {
    let (mut rx32, mut tx32, mut rx64, mut tx64) = (None, None, None, None);
    for attr in Attrs(b) {
        let (kind, p) = attr?;
        match kind {
            STA_INFO_INACTIVE_TIME => s.inactive_time_ms = attr_u32(p),
            STA_INFO_RX_BYTES => rx32 = attr_u32(p),
            STA_INFO_TX_BYTES => tx32 = attr_u32(p),
            STA_INFO_RX_BYTES64 => rx64 = uint(p),
            STA_INFO_TX_BYTES64 => tx64 = uint(p),
            STA_INFO_RX_PACKETS => s.rx_packets = attr_u32(p),
            STA_INFO_TX_PACKETS => s.tx_packets = attr_u32(p),
            STA_INFO_TX_RETRIES => s.tx_retries = attr_u32(p),
            STA_INFO_TX_FAILED => s.tx_failed = attr_u32(p),
            STA_INFO_SIGNAL => s.signal_dbm = attr_dbm(p),
            STA_INFO_SIGNAL_AVG => s.signal_avg_dbm = attr_dbm(p),
            STA_INFO_TX_BITRATE => s.tx_rate = Some(parse_rate(p)?),
            STA_INFO_RX_BITRATE => s.rx_rate = Some(parse_rate(p)?),
            STA_INFO_STA_FLAGS => {
                // struct nl80211_sta_flag_update { u32 mask; u32 set; }
                if let (Some(mask), Some(set)) = (u32_at(p, 0), u32_at(p, 4)) {
                    let bit = 1 << STA_FLAG_ASSOCIATED;
                    s.associated = (mask & bit != 0).then_some(set & bit != 0);
                }
            }
            _ => {}
        }
    }
    s.rx_bytes = rx64.or(rx32.map(u64::from));
    s.tx_bytes = tx64.or(tx32.map(u64::from));
    Ok(())
}

/// The survey of one channel (`NL80211_CMD_NEW_SURVEY_RESULTS`). Times are
/// cumulative milliseconds kept by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Survey {
    /// Centre frequency of the channel; `None` for a radio-wide entry.
    pub frequency_mhz: Option<u32>,
    pub noise_dbm: Option<i8>,
    /// The channel the radio operates on.
    pub in_use: bool,
    /// Time the radio was on (on this channel, or in all for a radio-wide
    /// entry).
    pub time_ms: Option<u64>,
    /// Time the primary channel was sensed busy.
    pub time_busy_ms: Option<u64>,
    /// Time the extension channel was sensed busy.
    pub time_ext_busy_ms: Option<u64>,
    pub time_rx_ms: Option<u64>,
    pub time_tx_ms: Option<u64>,
    pub time_scan_ms: Option<u64>,
    /// Time receiving frames of the local BSS.
    pub time_bss_rx_ms: Option<u64>,
}

/// Parses one `NL80211_CMD_NEW_SURVEY_RESULTS` message, `nlmsghdr`
/// included.
pub fn parse_survey(msg: &[u8]) -> Result<Survey, Error> {
    let mut info = None;
    for attr in Attrs(genl_attrs(msg, NL80211_CMD_NEW_SURVEY_RESULTS)?) {
        let (kind, p) = attr?;
        if kind == NL80211_ATTR_SURVEY_INFO {
            info = Some(p);
        }
    }
    let info = info.ok_or(Error::Missing("NL80211_ATTR_SURVEY_INFO"))?;
    let mut s = Survey::default();
    for attr in Attrs(info) {
        let (kind, p) = attr?;
        match kind {
            SURVEY_INFO_FREQUENCY => s.frequency_mhz = attr_u32(p),
            SURVEY_INFO_NOISE => s.noise_dbm = attr_dbm(p),
            SURVEY_INFO_IN_USE => s.in_use = true,
            SURVEY_INFO_TIME => s.time_ms = uint(p),
            SURVEY_INFO_TIME_BUSY => s.time_busy_ms = uint(p),
            SURVEY_INFO_TIME_EXT_BUSY => s.time_ext_busy_ms = uint(p),
            SURVEY_INFO_TIME_RX => s.time_rx_ms = uint(p),
            SURVEY_INFO_TIME_TX => s.time_tx_ms = uint(p),
            SURVEY_INFO_TIME_SCAN => s.time_scan_ms = uint(p),
            SURVEY_INFO_TIME_BSS_RX => s.time_bss_rx_ms = uint(p),
            _ => {}
        }
    }
    Ok(s)
}

/// A wireless interface (`NL80211_CMD_NEW_INTERFACE`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InterfaceInfo {
    pub if_index: u32,
    pub name: Option<String>,
    /// `NL80211_IFTYPE_*`, see [`iftype`].
    pub if_type: Option<u32>,
    /// The radio (wiphy) index: `phy<N>` in sysfs and debugfs.
    pub wiphy: Option<u32>,
    pub mac: Option<[u8; 6]>,
    /// The SSID, 0 to 32 raw octets (not necessarily UTF-8). Recent kernels
    /// send it for AP and P2P GO interfaces once the BSS is started.
    pub ssid: Option<Vec<u8>>,
    /// The operating channel's centre frequency.
    pub frequency_mhz: Option<u32>,
    /// `NL80211_CHAN_WIDTH_*`, see [`chan_width`].
    pub channel_width: Option<u32>,
    pub center_freq1_mhz: Option<u32>,
    /// Transmit power in mBm (dBm × 100), a signed value.
    pub tx_power_mbm: Option<i32>,
}

impl InterfaceInfo {
    pub fn is_ap(&self) -> bool {
        self.if_type == Some(iftype::AP)
    }
}

/// Parses one `NL80211_CMD_NEW_INTERFACE` message, `nlmsghdr` included.
/// An MLO interface (Wi-Fi 7 multi-link) carries its channel and power per
/// link, in `NL80211_ATTR_MLO_LINKS`: the first link's stand in for the
/// interface's when those are absent.
pub fn parse_interface(msg: &[u8]) -> Result<InterfaceInfo, Error> {
    interface_attrs(genl_attrs(msg, NL80211_CMD_NEW_INTERFACE)?)
}

/// The attributes of an interface message (a dump answer, or an event).
fn interface_attrs(attrs: &[u8]) -> Result<InterfaceInfo, Error> {
    let mut info = InterfaceInfo::default();
    let mut if_index = None;
    let mut links = None;
    for attr in Attrs(attrs) {
        let (kind, p) = attr?;
        match kind {
            NL80211_ATTR_IFINDEX => if_index = attr_u32(p),
            NL80211_ATTR_IFNAME => info.name = Some(attr_string(p)),
            NL80211_ATTR_IFTYPE => info.if_type = attr_u32(p),
            NL80211_ATTR_WIPHY => info.wiphy = attr_u32(p),
            NL80211_ATTR_MAC => info.mac = <[u8; 6]>::try_from(p).ok(),
            NL80211_ATTR_SSID => info.ssid = (p.len() <= 32).then(|| p.to_vec()),
            NL80211_ATTR_MLO_LINKS => links = Some(p),
            _ => channel_attr(&mut info, kind, p),
        }
    }
    info.if_index = if_index.ok_or(Error::Missing("NL80211_ATTR_IFINDEX"))?;
    if let Some(links) = links {
        // A nested array: one nest per link, each with the link's
        // NL80211_ATTR_MLO_LINK_ID, MAC, channel and power.
        if let Some(link) = Attrs(links).next() {
            let (_, link) = link?;
            let mut first = InterfaceInfo::default();
            for attr in Attrs(link) {
                let (kind, p) = attr?;
                channel_attr(&mut first, kind, p);
            }
            info.frequency_mhz = info.frequency_mhz.or(first.frequency_mhz);
            info.channel_width = info.channel_width.or(first.channel_width);
            info.center_freq1_mhz = info.center_freq1_mhz.or(first.center_freq1_mhz);
            info.tx_power_mbm = info.tx_power_mbm.or(first.tx_power_mbm);
        }
    }
    Ok(info)
}

/// The channel and power attributes, at the top level or in an MLO link.
fn channel_attr(info: &mut InterfaceInfo, kind: u16, p: &[u8]) {
    match kind {
        NL80211_ATTR_WIPHY_FREQ => info.frequency_mhz = attr_u32(p),
        NL80211_ATTR_CHANNEL_WIDTH => info.channel_width = attr_u32(p),
        NL80211_ATTR_CENTER_FREQ1 => info.center_freq1_mhz = attr_u32(p),
        // A u32 carrying a signed mBm value (iw reads it as int32_t).
        NL80211_ATTR_WIPHY_TX_POWER_LEVEL => info.tx_power_mbm = attr_u32(p).map(|v| v as i32),
        _ => {}
    }
}

/// Writes a generic netlink request into `req`: `nlmsghdr` (its length
/// set, its sequence number left to [`RequestSocket::exchange`]),
/// `genlmsghdr` and `attrs`.
fn genl_request(
    req: &mut Vec<u8>,
    family: u16,
    flags: u16,
    cmd: u8,
    version: u8,
    attrs: &[(u16, &[u8])],
) {
    req.clear();
    req.extend_from_slice(&[0; 4]); // length, set below
    req.extend_from_slice(&family.to_ne_bytes());
    req.extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
    req.extend_from_slice(&0u32.to_ne_bytes()); // sequence number
    req.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it
    req.extend_from_slice(&[cmd, version, 0, 0]);
    for (kind, payload) in attrs {
        push_attr(req, *kind, payload);
    }
    let len = req.len() as u32;
    req[0..4].copy_from_slice(&len.to_ne_bytes());
}

/// A NETLINK_GENERIC socket, kept open across polling rounds.
struct GenlSocket {
    sock: RequestSocket,
    /// The request being built (kept to reuse its allocation).
    req: Vec<u8>,
}

impl GenlSocket {
    fn open() -> io::Result<GenlSocket> {
        Ok(GenlSocket {
            sock: RequestSocket::open(libc::NETLINK_GENERIC)?,
            req: Vec::with_capacity(64),
        })
    }

    /// Sends request `cmd` to `family` with `flags` (besides NLM_F_REQUEST)
    /// and `attrs`, then calls `each` with every answer of that family
    /// until the dump ends or the request is acknowledged. Returns whether
    /// the kernel flagged the dump as interrupted.
    fn request(
        &mut self,
        family: u16,
        flags: u16,
        cmd: u8,
        version: u8,
        attrs: &[(u16, &[u8])],
        each: &mut dyn FnMut(&[u8]),
    ) -> io::Result<bool> {
        genl_request(&mut self.req, family, flags, cmd, version, attrs);
        self.sock.exchange(&mut self.req, &mut |kind, msg| {
            if kind == family {
                each(msg)
            }
        })
    }

    /// The id of generic netlink family `name`; `NotFound` (ENOENT) when
    /// the kernel has no such family.
    fn resolve(&mut self, name: &str) -> io::Result<Family> {
        let mut attr = Vec::with_capacity(name.len() + 1);
        attr.extend_from_slice(name.as_bytes());
        attr.push(0);
        let mut found = None;
        self.request(
            GENL_ID_CTRL,
            NLM_F_ACK,
            CTRL_CMD_GETFAMILY,
            CTRL_VERSION,
            &[(CTRL_ATTR_FAMILY_NAME, &attr)],
            &mut |msg| match parse_family(msg) {
                Ok(family) if family.name == name => found = Some(family),
                Ok(_) => {}
                Err(e) => crate::debug!("skipping controller answer: {e}"),
            },
        )?;
        found.ok_or_else(|| Error::Missing("CTRL_ATTR_FAMILY_ID").into())
    }
}

/// An nl80211 client: one generic netlink socket and the family id.
pub struct Nl80211 {
    sock: GenlSocket,
    family: u16,
    /// nl80211's multicast groups, (name, id).
    groups: Vec<(String, u32)>,
}

impl Nl80211 {
    /// Opens the socket and resolves the nl80211 family. Fails with
    /// `NotFound` (ENOENT) when the kernel has no nl80211 (no cfg80211),
    /// and with the socket's error when there is no generic netlink.
    pub fn open() -> io::Result<Nl80211> {
        let mut sock = GenlSocket::open()?;
        let family = sock.resolve(NL80211_FAMILY)?;
        Ok(Nl80211 {
            sock,
            family: family.id,
            groups: family.groups,
        })
    }

    /// The nl80211 generic netlink family id.
    pub fn family(&self) -> u16 {
        self.family
    }

    /// The id of nl80211's multicast group `name` ("mlme", "config"...).
    pub fn group(&self, name: &str) -> Option<u32> {
        self.groups
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, id)| id)
    }

    /// Every station of interface `if_index` (for an AP: the stations
    /// authenticated or associated to its BSS).
    pub fn station_dump(&mut self, if_index: u32) -> io::Result<Vec<Station>> {
        self.dump(NL80211_CMD_GET_STATION, if_index, parse_station)
    }

    /// The survey of every channel of the radio of interface `if_index`
    /// (some drivers report only the channel in use).
    pub fn survey_dump(&mut self, if_index: u32) -> io::Result<Vec<Survey>> {
        self.dump(NL80211_CMD_GET_SURVEY, if_index, parse_survey)
    }

    /// Interface `if_index`: type, radio, SSID, channel, transmit power.
    /// Fails with the kernel's error (ENODEV and the like) for interfaces
    /// that are not wireless.
    pub fn interface_info(&mut self, if_index: u32) -> io::Result<InterfaceInfo> {
        let mut info = None;
        self.sock.request(
            self.family,
            NLM_F_ACK,
            NL80211_CMD_GET_INTERFACE,
            NL80211_VERSION,
            &[(NL80211_ATTR_IFINDEX, &if_index.to_ne_bytes())],
            &mut |msg| match parse_interface(msg) {
                Ok(i) if info.is_none() => info = Some(i),
                Ok(_) => {}
                Err(e) => crate::debug!("skipping nl80211 interface: {e}"),
            },
        )?;
        info.ok_or_else(|| Error::Missing("NL80211_CMD_NEW_INTERFACE").into())
    }

    /// Runs dump `cmd` for `if_index`, parsing every answer with `parse`.
    fn dump<T>(
        &mut self,
        cmd: u8,
        if_index: u32,
        parse: fn(&[u8]) -> Result<T, Error>,
    ) -> io::Result<Vec<T>> {
        let family = self.family;
        let sock = &mut self.sock;
        dump_retrying(parse, |each| {
            sock.request(
                family,
                NLM_F_DUMP,
                cmd,
                NL80211_VERSION,
                &[(NL80211_ATTR_IFINDEX, &if_index.to_ne_bytes())],
                each,
            )
        })
    }
}

/// Runs a dump (`run` calls its argument with every answer and returns
/// whether the kernel flagged the dump as interrupted) and parses the
/// answers; one odd message is skipped, not fatal. A dump interrupted
/// (its objects changed meanwhile: entries may be missing or repeated) is
/// run once more; a second interruption is an error.
fn dump_retrying<T>(
    parse: fn(&[u8]) -> Result<T, Error>,
    mut run: impl FnMut(&mut dyn FnMut(&[u8])) -> io::Result<bool>,
) -> io::Result<Vec<T>> {
    for _ in 0..2 {
        let mut items = Vec::new();
        let interrupted = run(&mut |msg| match parse(msg) {
            Ok(item) => items.push(item),
            Err(e) => crate::debug!("skipping nl80211 answer: {e}"),
        })?;
        if !interrupted {
            return Ok(items);
        }
    }
    Err(io_error(
        io::ErrorKind::Other,
        "nl80211: dump interrupted twice",
    ))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::netlink::{NLMSG_DONE, NLMSG_ERROR};

    const FAMILY: u16 = 0x1c;
    const NESTED: u16 = 0x8000;
    /// NL80211_STA_INFO_PAD / NL80211_SURVEY_INFO_PAD: what the kernel puts
    /// before a u64 to align it.
    const STA_INFO_PAD: u16 = 33;
    const SURVEY_INFO_PAD: u16 = 10;

    pub(super) fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
        let mut a = Vec::new();
        push_attr(&mut a, kind, payload);
        a
    }

    pub(super) fn nest(kind: u16, attrs: &[Vec<u8>]) -> Vec<u8> {
        attr(kind | NESTED, &attrs.concat())
    }

    pub(super) fn u32a(kind: u16, v: u32) -> Vec<u8> {
        attr(kind, &v.to_ne_bytes())
    }

    fn u64a(kind: u16, v: u64) -> Vec<u8> {
        attr(kind, &v.to_ne_bytes())
    }

    fn u8a(kind: u16, v: u8) -> Vec<u8> {
        attr(kind, &[v])
    }

    fn flag(kind: u16) -> Vec<u8> {
        attr(kind, &[])
    }

    /// A generic netlink message: nlmsghdr, genlmsghdr, attributes.
    fn genl(kind: u16, flags: u16, seq: u32, port: u32, cmd: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&[0; 4]);
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&port.to_ne_bytes());
        m.extend_from_slice(&[cmd, 1, 0, 0]);
        for a in attrs {
            m.extend_from_slice(a);
        }
        let len = m.len() as u32;
        m[0..4].copy_from_slice(&len.to_ne_bytes());
        m
    }

    pub(super) fn msg(cmd: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
        genl(FAMILY, 0x2, 1, 0, cmd, attrs) // NLM_F_MULTI, as in a dump
    }

    fn control(kind: u16, flags: u16, seq: u32, port: u32, errno: i32) -> Vec<u8> {
        let mut m = vec![0u8; NLMSG_HDRLEN];
        m.extend_from_slice(&errno.to_ne_bytes());
        if kind == NLMSG_ERROR {
            m.extend_from_slice(&[0; NLMSG_HDRLEN]); // the request's header
        }
        let len = m.len() as u32;
        m[0..4].copy_from_slice(&len.to_ne_bytes());
        m[4..6].copy_from_slice(&kind.to_ne_bytes());
        m[6..8].copy_from_slice(&flags.to_ne_bytes());
        m[8..12].copy_from_slice(&seq.to_ne_bytes());
        m[12..16].copy_from_slice(&port.to_ne_bytes());
        m
    }

    fn ht_rate() -> Vec<u8> {
        // What mac80211 sends for HT MCS 15, 40 MHz, short GI: 300 Mb/s.
        [
            u32a(RATE_INFO_BITRATE32, 3000),
            attr(RATE_INFO_BITRATE, &3000u16.to_ne_bytes()),
            u8a(RATE_INFO_MCS, 15),
            flag(RATE_INFO_40_MHZ_WIDTH),
            flag(RATE_INFO_SHORT_GI),
        ]
        .concat()
    }

    fn he_rate() -> Vec<u8> {
        // HE-MCS 11, 2 streams, 80 MHz, 0.8 µs GI: 1201 Mb/s.
        [
            u32a(RATE_INFO_BITRATE32, 12010),
            attr(RATE_INFO_BITRATE, &12010u16.to_ne_bytes()),
            flag(RATE_INFO_80_MHZ_WIDTH),
            u8a(RATE_INFO_HE_MCS, 11),
            u8a(RATE_INFO_HE_NSS, 2),
            u8a(RATE_INFO_HE_GI, 0),
            u8a(16, 0), // HE_DCM: ignored
        ]
        .concat()
    }

    fn sta_info_full() -> Vec<u8> {
        [
            u32a(STA_INFO_INACTIVE_TIME, 1230),
            u32a(STA_INFO_RX_BYTES, 0x2345_6789),
            attr(STA_INFO_PAD, &[]),
            u64a(STA_INFO_RX_BYTES64, 0x1_2345_6789),
            u32a(STA_INFO_TX_BYTES, 0x0bad_cafe),
            attr(STA_INFO_PAD, &[]),
            u64a(STA_INFO_TX_BYTES64, 0x2_0bad_cafe),
            u32a(STA_INFO_RX_PACKETS, 100_001),
            u32a(STA_INFO_TX_PACKETS, 200_002),
            u32a(STA_INFO_TX_RETRIES, 3_003),
            u32a(STA_INFO_TX_FAILED, 44),
            u8a(STA_INFO_SIGNAL, (-52i8) as u8),
            u8a(STA_INFO_SIGNAL_AVG, (-55i8) as u8),
            attr(STA_INFO_TX_BITRATE | NESTED, &he_rate()),
            attr(STA_INFO_RX_BITRATE | NESTED, &ht_rate()),
            // mask AUTHORIZED|AUTHENTICATED|ASSOCIATED, all set.
            attr(
                STA_INFO_STA_FLAGS,
                &[0xa2u32.to_ne_bytes(), 0xa2u32.to_ne_bytes()].concat(),
            ),
            u32a(16, 3600),           // CONNECTED_TIME: ignored
            u64a(19, (-5i64) as u64), // T_OFFSET: ignored
            nest(15, &[flag(1)]),     // BSS_PARAM: ignored
            u64a(28, 9),              // RX_DROP_MISC: ignored
            u32a(18, 0),              // BEACON_LOSS: ignored
        ]
        .concat()
    }

    fn station_msg() -> Vec<u8> {
        msg(
            NL80211_CMD_NEW_STATION,
            &[
                u32a(NL80211_ATTR_IFINDEX, 9),
                attr(NL80211_ATTR_MAC, &[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]),
                u32a(46, 77), // NL80211_ATTR_GENERATION
                attr(NL80211_ATTR_STA_INFO | NESTED, &sta_info_full()),
            ],
        )
    }

    fn survey_msg(freq: u32, in_use: bool, time: u64, busy: u64) -> Vec<u8> {
        let mut info = vec![
            u32a(SURVEY_INFO_FREQUENCY, freq),
            u8a(SURVEY_INFO_NOISE, (-95i8) as u8),
        ];
        if in_use {
            info.push(flag(SURVEY_INFO_IN_USE));
        }
        for (kind, v) in [
            (SURVEY_INFO_TIME, time),
            (SURVEY_INFO_TIME_BUSY, busy),
            (SURVEY_INFO_TIME_EXT_BUSY, busy / 2),
            (SURVEY_INFO_TIME_RX, busy / 3),
            (SURVEY_INFO_TIME_TX, busy / 4),
            (SURVEY_INFO_TIME_BSS_RX, busy / 5),
        ] {
            info.push(attr(SURVEY_INFO_PAD, &[]));
            info.push(u64a(kind, v));
        }
        msg(
            NL80211_CMD_NEW_SURVEY_RESULTS,
            &[
                u32a(NL80211_ATTR_IFINDEX, 9),
                nest(NL80211_ATTR_SURVEY_INFO, &info),
            ],
        )
    }

    fn interface_msg() -> Vec<u8> {
        msg(
            NL80211_CMD_NEW_INTERFACE,
            &[
                u32a(NL80211_ATTR_IFINDEX, 9),
                attr(NL80211_ATTR_IFNAME, b"phy0-ap0\0"),
                u32a(NL80211_ATTR_IFTYPE, iftype::AP),
                u32a(NL80211_ATTR_WIPHY, 0),
                u64a(153, 1), // NL80211_ATTR_WDEV
                attr(NL80211_ATTR_MAC, &[0x02, 0, 0, 0, 0, 0x01]),
                u32a(46, 5), // NL80211_ATTR_GENERATION
                u8a(83, 0),  // NL80211_ATTR_4ADDR
                attr(NL80211_ATTR_SSID, b"OpenWrt"),
                u32a(NL80211_ATTR_WIPHY_FREQ, 5180),
                u32a(290, 0), // NL80211_ATTR_WIPHY_FREQ_OFFSET
                u32a(NL80211_ATTR_CHANNEL_WIDTH, chan_width::W80),
                u32a(NL80211_ATTR_CENTER_FREQ1, 5210),
                u32a(NL80211_ATTR_WIPHY_TX_POWER_LEVEL, 2300),
            ],
        )
    }

    fn family_msg(id: u16, name: &[u8]) -> Vec<u8> {
        genl(
            GENL_ID_CTRL,
            0,
            1,
            0,
            CTRL_CMD_NEWFAMILY,
            &[
                attr(CTRL_ATTR_FAMILY_NAME, name),
                attr(CTRL_ATTR_FAMILY_ID, &id.to_ne_bytes()),
                u32a(3, 1),                                       // CTRL_ATTR_VERSION
                u32a(4, 0),                                       // CTRL_ATTR_HDRSIZE
                u32a(5, 330),                                     // CTRL_ATTR_MAXATTR
                nest(6, &[nest(1, &[u32a(1, 1), u32a(2, 0xe)])]), // CTRL_ATTR_OPS
            ],
        )
    }

    #[test]
    fn constants_match_the_uapi() {
        // Spot checks against include/uapi/linux/nl80211.h, counted from
        // the enums: the numbering is append-only.
        assert_eq!(NL80211_ATTR_STA_INFO, 21);
        assert_eq!(NL80211_ATTR_SURVEY_INFO, 84);
        assert_eq!(NL80211_ATTR_CHANNEL_WIDTH, 159);
        assert_eq!(STA_INFO_RX_BYTES64, 23);
        assert_eq!(RATE_INFO_HE_GI, 15);
        assert_eq!(SURVEY_INFO_TIME_BSS_RX, 11);
        assert_eq!(iftype::AP, 3);
        assert_eq!(iftype::MONITOR, 6);
    }

    #[test]
    fn parses_a_full_station() {
        let s = parse_station(&station_msg()).unwrap();
        assert_eq!(s.if_index, Some(9));
        assert_eq!(s.mac, [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
        assert_eq!(s.inactive_time_ms, Some(1230));
        // The 64-bit byte counters win over the 32-bit ones.
        assert_eq!(s.rx_bytes, Some(0x1_2345_6789));
        assert_eq!(s.tx_bytes, Some(0x2_0bad_cafe));
        assert_eq!((s.rx_packets, s.tx_packets), (Some(100_001), Some(200_002)));
        assert_eq!((s.tx_retries, s.tx_failed), (Some(3_003), Some(44)));
        assert_eq!((s.signal_dbm, s.signal_avg_dbm), (Some(-52), Some(-55)));
        assert_eq!(s.associated, Some(true));
        let tx = s.tx_rate.unwrap();
        assert_eq!(tx.bitrate_bps, Some(1_201_000_000));
        assert_eq!(tx.mode, RateMode::He { mcs: 11, nss: 2 });
        assert_eq!((tx.width_mhz, tx.he_gi, tx.short_gi), (80, Some(0), false));
        let rx = s.rx_rate.unwrap();
        assert_eq!(rx.bitrate_bps, Some(300_000_000));
        assert_eq!(rx.mode, RateMode::Ht { mcs: 15 });
        assert_eq!((rx.width_mhz, rx.short_gi), (40, true));
        assert_eq!(tx.sflow_version(Some(5180)), Ieee80211Version::UNKNOWN);
        assert_eq!(rx.sflow_version(Some(5180)), Ieee80211Version::N);
    }

    /// The same kind of message written out byte by byte, as a
    /// little-endian kernel sends it, so that the test helpers are not the
    /// only judge of the layout.
    #[cfg(target_endian = "little")]
    #[test]
    fn parses_a_literal_station_message() {
        #[rustfmt::skip]
        let m: [u8; 88] = [
            // nlmsghdr: len 88, type 0x1c, flags NLM_F_MULTI, seq 7, port 0x1234
            88, 0, 0, 0,  0x1c, 0,  2, 0,  7, 0, 0, 0,  0x34, 0x12, 0, 0,
            // genlmsghdr: cmd NEW_STATION (19), version 1
            19, 1, 0, 0,
            // NL80211_ATTR_IFINDEX = 4
            8, 0, 3, 0,  4, 0, 0, 0,
            // NL80211_ATTR_MAC (len 10, padded to 12)
            10, 0, 6, 0,  0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0,
            // NL80211_ATTR_STA_INFO | NLA_F_NESTED, 48 bytes
            48, 0, 21, 0x80,
                // INACTIVE_TIME = 10
                8, 0, 1, 0,  10, 0, 0, 0,
                // SIGNAL = -60 (u8 0xc4), padded
                5, 0, 7, 0,  0xc4, 0, 0, 0,
                // TX_FAILED = 2
                8, 0, 12, 0,  2, 0, 0, 0,
                // TX_BITRATE | NESTED: BITRATE (u16) = 540 (54 Mb/s)
                12, 0, 8, 0x80,  6, 0, 1, 0,  0x1c, 0x02, 0, 0,
                // TX_PACKETS = 0x01020304
                8, 0, 10, 0,  4, 3, 2, 1,
        ];
        let s = parse_station(&m).unwrap();
        assert_eq!(s.if_index, Some(4));
        assert_eq!(s.mac, [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
        assert_eq!(s.inactive_time_ms, Some(10));
        assert_eq!(s.signal_dbm, Some(-60));
        assert_eq!(s.tx_failed, Some(2));
        assert_eq!(s.tx_packets, Some(0x0102_0304));
        assert_eq!((s.tx_retries, s.rx_bytes, s.associated), (None, None, None));
        let rate = s.tx_rate.unwrap();
        assert_eq!(rate.bitrate_bps, Some(54_000_000));
        assert_eq!(rate.mode, RateMode::Legacy);
        assert_eq!(rate.sflow_version(Some(2437)), Ieee80211Version::G);
        assert_eq!(rate.sflow_version(Some(5500)), Ieee80211Version::A);
        assert_eq!(rate.sflow_version(None), Ieee80211Version::UNKNOWN);
    }

    #[test]
    fn station_optional_attributes() {
        // A station with nothing but its MAC, and one without STA_INFO
        // members the driver does not report; 32-bit byte counters only.
        let bare = msg(
            NL80211_CMD_NEW_STATION,
            &[attr(NL80211_ATTR_MAC, &[2, 0, 0, 0, 0, 7])],
        );
        let s = parse_station(&bare).unwrap();
        assert_eq!(
            s,
            Station {
                mac: [2, 0, 0, 0, 0, 7],
                ..Station::default()
            }
        );

        let old = msg(
            NL80211_CMD_NEW_STATION,
            &[
                attr(NL80211_ATTR_MAC, &[2, 0, 0, 0, 0, 8]),
                nest(
                    NL80211_ATTR_STA_INFO,
                    &[
                        u32a(STA_INFO_RX_BYTES, 1000),
                        u32a(STA_INFO_TX_BYTES, 2000),
                        // Flags whose mask leaves ASSOCIATED out.
                        attr(
                            STA_INFO_STA_FLAGS,
                            &[2u32.to_ne_bytes(), 2u32.to_ne_bytes()].concat(),
                        ),
                        nest(STA_INFO_TX_BITRATE, &[]),
                    ],
                ),
            ],
        );
        let s = parse_station(&old).unwrap();
        assert_eq!((s.rx_bytes, s.tx_bytes), (Some(1000), Some(2000)));
        assert_eq!(s.associated, None);
        // An empty rate: 20 MHz legacy, rate unknown.
        let rate = s.tx_rate.unwrap();
        assert_eq!(
            (rate.bitrate_bps, rate.mode, rate.width_mhz),
            (None, RateMode::Legacy, 20)
        );

        // Authenticated, not (yet) associated.
        let authed = msg(
            NL80211_CMD_NEW_STATION,
            &[
                attr(NL80211_ATTR_MAC, &[2, 0, 0, 0, 0, 9]),
                nest(
                    NL80211_ATTR_STA_INFO,
                    &[attr(
                        STA_INFO_STA_FLAGS,
                        &[0xa2u32.to_ne_bytes(), 0x20u32.to_ne_bytes()].concat(),
                    )],
                ),
            ],
        );
        assert_eq!(parse_station(&authed).unwrap().associated, Some(false));
    }

    #[test]
    fn rate_modes_and_versions() {
        let rate = |attrs: &[Vec<u8>]| parse_rate(&attrs.concat()).unwrap();
        // Legacy: DSSS rates are 802.11b in any band; OFDM is g or a.
        for (r, freq, version) in [
            (10u16, 2412, Ieee80211Version::B),
            (55, 2412, Ieee80211Version::B),
            (110, 2484, Ieee80211Version::B),
            (60, 2412, Ieee80211Version::G),
            (540, 2462, Ieee80211Version::G),
            (60, 5180, Ieee80211Version::A),
            (240, 5955, Ieee80211Version::A), // 6 GHz non-HT
            (120, 4940, Ieee80211Version::A),
            (60, 58320, Ieee80211Version::UNKNOWN), // 60 GHz: not a/b/g
        ] {
            let info = rate(&[attr(RATE_INFO_BITRATE, &r.to_ne_bytes())]);
            assert_eq!(info.sflow_version(Some(freq)), version, "{r} at {freq}");
        }
        // A 10 MHz channel's OFDM 3 Mb/s... and a rate nl80211 did not give.
        let narrow = rate(&[u32a(RATE_INFO_BITRATE32, 30), flag(RATE_INFO_10_MHZ_WIDTH)]);
        assert_eq!(narrow.width_mhz, 10);
        assert_eq!(narrow.phy_type(Some(2412)), Some(PhyType::Erp));
        let unknown = rate(&[]);
        assert_eq!(unknown.phy_type(Some(2412)), None);
        assert_eq!(unknown.phy_type(Some(5180)), Some(PhyType::Ofdm));

        // VHT and EHT.
        let vht = rate(&[
            u32a(RATE_INFO_BITRATE32, 8667),
            u8a(RATE_INFO_VHT_MCS, 9),
            u8a(RATE_INFO_VHT_NSS, 2),
            flag(RATE_INFO_80_MHZ_WIDTH),
            flag(RATE_INFO_SHORT_GI),
        ]);
        assert_eq!(vht.mode, RateMode::Vht { mcs: 9, nss: 2 });
        assert_eq!(vht.phy_type(None), Some(PhyType::Vht));
        assert_eq!(vht.sflow_version(Some(5180)), Ieee80211Version::UNKNOWN);
        let eht = rate(&[
            u32a(RATE_INFO_BITRATE32, 57647),
            u8a(RATE_INFO_EHT_MCS, 13),
            u8a(RATE_INFO_EHT_NSS, 2),
            flag(RATE_INFO_320_MHZ_WIDTH),
        ]);
        assert_eq!(eht.mode, RateMode::Eht { mcs: 13, nss: 2 });
        assert_eq!((eht.width_mhz, eht.bitrate_bps), (320, Some(5_764_700_000)));
        assert_eq!(eht.sflow_version(Some(5955)), Ieee80211Version::UNKNOWN);

        // BITRATE32 is preferred; a 0 rate is no rate; widths.
        let both = rate(&[
            attr(RATE_INFO_BITRATE, &100u16.to_ne_bytes()),
            u32a(RATE_INFO_BITRATE32, 70000),
        ]);
        assert_eq!(both.bitrate_bps, Some(7_000_000_000));
        assert_eq!(rate(&[u32a(RATE_INFO_BITRATE32, 0)]).bitrate_bps, None);
        for (flag_kind, width) in [
            (RATE_INFO_5_MHZ_WIDTH, 5),
            (RATE_INFO_160_MHZ_WIDTH, 160),
            (RATE_INFO_80P80_MHZ_WIDTH, 160),
        ] {
            assert_eq!(rate(&[flag(flag_kind)]).width_mhz, width);
        }
        // HT MCS 7 at 20 MHz, long GI.
        let ht = rate(&[
            attr(RATE_INFO_BITRATE, &650u16.to_ne_bytes()),
            u8a(RATE_INFO_MCS, 7),
        ]);
        assert_eq!(
            (ht.mode, ht.width_mhz, ht.short_gi),
            (RateMode::Ht { mcs: 7 }, 20, false)
        );
        assert_eq!(ht.sflow_version(Some(2437)), Ieee80211Version::N);
    }

    #[test]
    fn parses_surveys() {
        let s = parse_survey(&survey_msg(5180, true, 123_456_789_012, 23_456_789_012)).unwrap();
        assert_eq!(s.frequency_mhz, Some(5180));
        assert_eq!(s.noise_dbm, Some(-95));
        assert!(s.in_use);
        assert_eq!(s.time_ms, Some(123_456_789_012));
        assert_eq!(s.time_busy_ms, Some(23_456_789_012));
        assert_eq!(s.time_ext_busy_ms, Some(11_728_394_506));
        assert_eq!(s.time_rx_ms, Some(7_818_929_670));
        assert_eq!(s.time_tx_ms, Some(5_864_197_253));
        assert_eq!(s.time_bss_rx_ms, Some(4_691_357_802));
        assert_eq!(s.time_scan_ms, None);

        let idle = parse_survey(&survey_msg(5200, false, 0, 0)).unwrap();
        assert!(!idle.in_use);

        // The CHANNEL_TIME names of older kernels are the same numbers; a
        // 32-bit time is read too. A channel with only its noise.
        let old = msg(
            NL80211_CMD_NEW_SURVEY_RESULTS,
            &[nest(
                NL80211_ATTR_SURVEY_INFO,
                &[
                    u32a(SURVEY_INFO_FREQUENCY, 2412),
                    u32a(SURVEY_INFO_TIME, 5000),
                    u64a(SURVEY_INFO_TIME_BUSY, 700),
                    attr(SURVEY_INFO_TIME_RX, &[1, 2, 3]), // malformed: ignored
                ],
            )],
        );
        let s = parse_survey(&old).unwrap();
        assert_eq!(
            (s.time_ms, s.time_busy_ms, s.time_rx_ms),
            (Some(5000), Some(700), None)
        );
        assert_eq!(s.noise_dbm, None);

        let no_info = msg(
            NL80211_CMD_NEW_SURVEY_RESULTS,
            &[u32a(NL80211_ATTR_IFINDEX, 1)],
        );
        assert_eq!(
            parse_survey(&no_info),
            Err(Error::Missing("NL80211_ATTR_SURVEY_INFO"))
        );
        // A radio-wide entry: no frequency.
        let global = msg(
            NL80211_CMD_NEW_SURVEY_RESULTS,
            &[nest(NL80211_ATTR_SURVEY_INFO, &[u64a(SURVEY_INFO_TIME, 9)])],
        );
        assert_eq!(parse_survey(&global).unwrap().frequency_mhz, None);
    }

    #[test]
    fn parses_interfaces() {
        let i = parse_interface(&interface_msg()).unwrap();
        assert_eq!(i.if_index, 9);
        assert_eq!(i.name.as_deref(), Some("phy0-ap0"));
        assert!(i.is_ap());
        assert_eq!(i.wiphy, Some(0));
        assert_eq!(i.mac, Some([0x02, 0, 0, 0, 0, 0x01]));
        assert_eq!(i.ssid.as_deref(), Some(&b"OpenWrt"[..]));
        assert_eq!(i.frequency_mhz, Some(5180));
        assert_eq!(i.channel_width, Some(chan_width::W80));
        assert_eq!(i.center_freq1_mhz, Some(5210));
        assert_eq!(i.tx_power_mbm, Some(2300));

        // A monitor interface: no SSID, no power; a negative power.
        let mon = msg(
            NL80211_CMD_NEW_INTERFACE,
            &[
                u32a(NL80211_ATTR_IFINDEX, 12),
                u32a(NL80211_ATTR_IFTYPE, iftype::MONITOR),
                u32a(NL80211_ATTR_WIPHY_TX_POWER_LEVEL, (-300i32) as u32),
                attr(NL80211_ATTR_SSID, &[b'x'; 33]), // too long: dropped
            ],
        );
        let i = parse_interface(&mon).unwrap();
        assert!(!i.is_ap());
        assert_eq!(i.if_type, Some(iftype::MONITOR));
        assert_eq!((i.ssid, i.frequency_mhz), (None, None));
        assert_eq!(i.tx_power_mbm, Some(-300));

        // An empty (hidden) SSID is an SSID.
        let hidden = msg(
            NL80211_CMD_NEW_INTERFACE,
            &[u32a(NL80211_ATTR_IFINDEX, 3), attr(NL80211_ATTR_SSID, &[])],
        );
        assert_eq!(parse_interface(&hidden).unwrap().ssid, Some(vec![]));

        let anonymous = msg(NL80211_CMD_NEW_INTERFACE, &[u32a(NL80211_ATTR_IFTYPE, 3)]);
        assert_eq!(
            parse_interface(&anonymous),
            Err(Error::Missing("NL80211_ATTR_IFINDEX"))
        );
    }

    #[test]
    fn mlo_interfaces_use_their_first_link() {
        let link = |id: u8, freq: u32, mbm: u32| {
            nest(
                u16::from(id) + 1,
                &[
                    u8a(313, id), // NL80211_ATTR_MLO_LINK_ID
                    attr(NL80211_ATTR_MAC, &[2, 0, 0, 0, 1, id]),
                    u32a(NL80211_ATTR_WIPHY_FREQ, freq),
                    u32a(NL80211_ATTR_CHANNEL_WIDTH, chan_width::W160),
                    u32a(NL80211_ATTR_CENTER_FREQ1, freq + 70),
                    u32a(NL80211_ATTR_WIPHY_TX_POWER_LEVEL, mbm),
                ],
            )
        };
        let m = msg(
            NL80211_CMD_NEW_INTERFACE,
            &[
                u32a(NL80211_ATTR_IFINDEX, 20),
                u32a(NL80211_ATTR_IFTYPE, iftype::AP),
                nest(
                    NL80211_ATTR_MLO_LINKS,
                    &[link(0, 5955, 2000), link(1, 5180, 2300)],
                ),
            ],
        );
        let i = parse_interface(&m).unwrap();
        assert_eq!(i.frequency_mhz, Some(5955));
        assert_eq!(i.channel_width, Some(chan_width::W160));
        assert_eq!(i.center_freq1_mhz, Some(6025));
        assert_eq!(i.tx_power_mbm, Some(2000));
        // The interface's own attributes, when present, win.
        let m = msg(
            NL80211_CMD_NEW_INTERFACE,
            &[
                u32a(NL80211_ATTR_IFINDEX, 20),
                nest(NL80211_ATTR_MLO_LINKS, &[link(0, 5955, 2000)]),
                u32a(NL80211_ATTR_WIPHY_FREQ, 2412),
            ],
        );
        let i = parse_interface(&m).unwrap();
        assert_eq!((i.frequency_mhz, i.tx_power_mbm), (Some(2412), Some(2000)));
    }

    #[test]
    fn parses_the_controller_answer() {
        let f = parse_family(&family_msg(0x1c, b"nl80211\0")).unwrap();
        assert_eq!(
            (f.id, f.name.as_str(), f.groups.len()),
            (0x1c, "nl80211", 0)
        );
        // With its multicast groups, as the kernel nests them.
        let group = |i: u16, name: &[u8], id: u32| nest(i, &[attr(1, name), u32a(2, id)]);
        let with_groups = genl(
            GENL_ID_CTRL,
            0,
            1,
            0,
            CTRL_CMD_NEWFAMILY,
            &[
                attr(1, &0x1cu16.to_ne_bytes()),
                attr(2, b"nl80211\0"),
                nest(7, &[group(1, b"config\0", 4), group(2, b"mlme\0", 7)]),
            ],
        );
        let f = parse_family(&with_groups).unwrap();
        assert_eq!(
            (f.group("mlme"), f.group("config"), f.group("scan")),
            (Some(7), Some(4), None)
        );
        let nameless = genl(
            GENL_ID_CTRL,
            0,
            1,
            0,
            CTRL_CMD_NEWFAMILY,
            &[attr(1, &7u16.to_ne_bytes())],
        );
        assert_eq!(
            parse_family(&nameless),
            Err(Error::Missing("CTRL_ATTR_FAMILY_NAME"))
        );
    }

    #[test]
    fn rejects_malformed_messages() {
        let good = station_msg();
        assert!(parse_station(&good).is_ok());
        assert_eq!(parse_station(&[]), Err(Error::Truncated("nlmsghdr")));
        assert_eq!(
            parse_station(&good[..good.len() - 1]),
            Err(Error::Truncated("nlmsghdr"))
        );
        // Another command, a control message, no room for the genlmsghdr.
        assert_eq!(
            parse_station(&survey_msg(1, false, 0, 0)),
            Err(Error::UnexpectedCommand(NL80211_CMD_NEW_SURVEY_RESULTS))
        );
        assert_eq!(
            parse_station(&control(NLMSG_DONE, 0, 1, 0, 0)),
            Err(Error::UnexpectedType(NLMSG_DONE))
        );
        let mut tiny = good[..NLMSG_HDRLEN + 2].to_vec();
        tiny[0..4].copy_from_slice(&((NLMSG_HDRLEN + 2) as u32).to_ne_bytes());
        assert_eq!(parse_station(&tiny), Err(Error::Truncated("genlmsghdr")));
        // No MAC.
        let nomac = msg(NL80211_CMD_NEW_STATION, &[u32a(NL80211_ATTR_IFINDEX, 1)]);
        assert_eq!(
            parse_station(&nomac),
            Err(Error::Missing("NL80211_ATTR_MAC"))
        );
        // An attribute longer than the message, or shorter than its header.
        let first_attr = NLMSG_HDRLEN + GENL_HDRLEN;
        let mut long = good.clone();
        long[first_attr..first_attr + 2].copy_from_slice(&250u16.to_ne_bytes());
        assert_eq!(parse_station(&long), Err(Error::Truncated("attribute")));
        let mut short = good.clone();
        short[first_attr..first_attr + 2].copy_from_slice(&3u16.to_ne_bytes());
        assert_eq!(parse_station(&short), Err(Error::Truncated("attribute")));
        // A broken attribute inside the nest fails the message too.
        let bad_nest = msg(
            NL80211_CMD_NEW_STATION,
            &[
                attr(NL80211_ATTR_MAC, &[2, 0, 0, 0, 0, 1]),
                attr(NL80211_ATTR_STA_INFO | NESTED, &[8, 0, 1, 0, 1, 2]),
            ],
        );
        assert_eq!(parse_station(&bad_nest), Err(Error::Truncated("attribute")));
        // The message ends where its header says: bytes after it are not
        // attributes of it.
        let mut trailing = good.clone();
        trailing.extend_from_slice(&[0xff; 7]);
        assert!(parse_station(&trailing).is_ok());
    }

    #[test]
    fn interrupted_dumps_are_run_again_once() {
        let sta = |n: u8| {
            msg(
                NL80211_CMD_NEW_STATION,
                &[attr(NL80211_ATTR_MAC, &[2, 0, 0, 0, 0, n])],
            )
        };
        // Interrupted after one station, complete with two: the second
        // run's answers only.
        let mut runs = 0;
        let got = dump_retrying(parse_station, |each| {
            runs += 1;
            if runs == 1 {
                each(&sta(1));
                return Ok(true);
            }
            each(&sta(1));
            each(&[1, 2, 3]); // an odd message is skipped
            each(&sta(2));
            Ok(false)
        })
        .unwrap();
        assert_eq!(runs, 2);
        assert_eq!(got.iter().map(|s| s.mac[5]).collect::<Vec<_>>(), vec![1, 2]);
        // Interrupted twice: an error, after exactly two runs.
        let mut runs = 0;
        let err = dump_retrying(parse_station, |each| {
            runs += 1;
            each(&sta(1));
            Ok(true)
        })
        .unwrap_err();
        assert_eq!(runs, 2);
        assert!(err.to_string().contains("interrupted"), "{err}");
        // A failed run is not retried.
        let mut runs = 0;
        let err = dump_retrying(parse_station, |_| {
            runs += 1;
            Err(io::Error::from_raw_os_error(libc::ENODEV))
        })
        .unwrap_err();
        assert_eq!((runs, err.raw_os_error()), (1, Some(libc::ENODEV)));
    }

    #[test]
    fn requests_are_framed_like_the_kernel_expects() {
        // The bytes a GETFAMILY carries (the socket adds the sequence number).
        let build = |r: &mut Vec<u8>| {
            genl_request(
                r,
                GENL_ID_CTRL,
                NLM_F_ACK,
                CTRL_CMD_GETFAMILY,
                CTRL_VERSION,
                &[(CTRL_ATTR_FAMILY_NAME, b"nl80211\0")],
            )
        };
        let mut r = Vec::new();
        build(&mut r);
        assert_eq!(r.len(), NLMSG_HDRLEN + GENL_HDRLEN + 12);
        assert_eq!(u32_at(&r, 0), Some(r.len() as u32));
        assert_eq!(u16_at(&r, 4), Some(GENL_ID_CTRL));
        assert_eq!(u16_at(&r, 6), Some(NLM_F_REQUEST | NLM_F_ACK));
        assert_eq!(&r[16..20], &[CTRL_CMD_GETFAMILY, CTRL_VERSION, 0, 0]);
        assert_eq!(u16_at(&r, 20), Some(12)); // 4 + "nl80211\0"
        assert_eq!(u16_at(&r, 22), Some(CTRL_ATTR_FAMILY_NAME));
        assert_eq!(&r[24..32], b"nl80211\0");
        // Built again into the same buffer: the same bytes, no leftovers.
        let first = r.clone();
        build(&mut r);
        assert_eq!(r, first);
    }

    fn parse_all(m: &[u8]) {
        let _ = parse_station(m);
        let _ = parse_survey(m);
        let _ = parse_interface(m);
        let _ = parse_family(m);
        let _ = parse_rate(m);
        let _ = Attrs(m).count();
        let _ = crate::netlink::walk_answers(m, 1, 0, &mut false, &mut |_, _| {});
    }

    #[test]
    fn parsers_never_panic() {
        let corpus = [
            station_msg(),
            survey_msg(2412, true, 1 << 40, 1 << 39),
            interface_msg(),
            family_msg(0x1c, b"nl80211\0"),
            msg(
                NL80211_CMD_NEW_INTERFACE,
                &[
                    u32a(NL80211_ATTR_IFINDEX, 1),
                    nest(NL80211_ATTR_MLO_LINKS, &[nest(1, &[u32a(38, 5180)])]),
                ],
            ),
        ];
        let mut rng = crate::rng::Rng::from_seed(0x9e37_79b9_7f4a_7c15);
        for m in &corpus {
            // Truncated at every offset, with the header's length kept or
            // fixed up to the cut, so the attribute walks see every cut.
            for len in 0..=m.len() {
                parse_all(&m[..len]);
                let mut fixed = m[..len].to_vec();
                if len >= 4 {
                    fixed[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
                }
                parse_all(&fixed);
            }
            for _ in 0..3000 {
                let mut c = m.clone();
                for _ in 0..1 + rng.next_u32() % 4 {
                    let at = (rng.next_u32() as usize) % c.len();
                    c[at] = rng.next_u32() as u8;
                }
                let cut = (rng.next_u32() as usize) % (c.len() + 1);
                parse_all(&c);
                parse_all(&c[..cut]);
            }
        }
        for _ in 0..20_000 {
            let len = (rng.next_u32() % 160) as usize;
            let mut m: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
            if len >= NLMSG_HDRLEN + GENL_HDRLEN {
                // Mostly well-framed, so the attribute walks are reached.
                m[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
                m[4..6].copy_from_slice(&FAMILY.to_ne_bytes());
                let cmds = [
                    NL80211_CMD_NEW_STATION,
                    NL80211_CMD_NEW_SURVEY_RESULTS,
                    NL80211_CMD_NEW_INTERFACE,
                    CTRL_CMD_NEWFAMILY,
                ];
                m[16] = cmds[(rng.next_u32() % 4) as usize];
            }
            parse_all(&m);
        }
    }

    fn genl_or_skip() -> Option<GenlSocket> {
        match GenlSocket::open() {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("generic netlink unavailable, test skipped: {e}");
                None
            }
        }
    }

    #[test]
    fn resolves_families_live() {
        let Some(mut sock) = genl_or_skip() else {
            return;
        };
        // The controller resolves itself: GENL_ID_CTRL.
        assert_eq!(sock.resolve("nlctrl").unwrap().id, GENL_ID_CTRL);
        // An unknown family is ENOENT, and the socket stays usable.
        let err = sock.resolve("wsflowd-none").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(!sock.sock.needs_reopen());
        let ctrl = sock.resolve("nlctrl").unwrap();
        assert_eq!(ctrl.id, GENL_ID_CTRL);
        // The controller's own multicast group.
        assert!(ctrl.group("notify").is_some(), "{ctrl:?}");
        // A dump through the same path: every family, "nlctrl" among them,
        // into a buffer too small for the kernel's datagrams at first.
        sock.sock.set_buffer_len(64);
        let mut names = Vec::new();
        let interrupted = sock
            .request(
                GENL_ID_CTRL,
                NLM_F_DUMP,
                CTRL_CMD_GETFAMILY,
                CTRL_VERSION,
                &[],
                &mut |m| {
                    if let Ok(f) = parse_family(m) {
                        names.push(f.name);
                    }
                },
            )
            .unwrap();
        assert!(!interrupted);
        assert!(sock.sock.buffer_len() > 64);
        assert!(names.iter().any(|n| n == "nlctrl"), "{names:?}");
        // nl80211 is there exactly when the dump lists it.
        let has_nl80211 = names.iter().any(|n| n == NL80211_FAMILY);
        match Nl80211::open() {
            Ok(nl) => {
                assert!(has_nl80211);
                assert!(nl.family() >= NLMSG_MIN_TYPE);
            }
            Err(e) => {
                assert!(!has_nl80211);
                assert_eq!(e.kind(), io::ErrorKind::NotFound);
            }
        }
    }

    #[test]
    fn live_requests_for_a_wired_interface_fail_cleanly() {
        // Without cfg80211 there is nothing to ask; with it, loopback is
        // not wireless and the kernel says so.
        let Ok(mut nl) = Nl80211::open() else {
            eprintln!("no nl80211 here, test skipped");
            return;
        };
        let lo = crate::sys::if_nametoindex("lo").unwrap_or(1);
        assert!(nl.interface_info(lo).is_err());
        assert!(nl.station_dump(lo).is_err());
        assert!(!nl.sock.sock.needs_reopen());
    }
}
