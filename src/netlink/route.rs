//! A minimal rtnetlink client: link, address and bridge forwarding
//! database dumps, and the link and neighbour events that keep them current.
//!
//! Netlink gives every link's 64-bit counters, flags, operational state,
//! master and kind in one request, where sysfs would cost a dozen file reads
//! per interface. The socket and its receive buffer are kept between rounds,
//! so a round allocates only the returned `Vec` and its strings. A second
//! socket ([`EventSocket`]) receives link and bridge FDB changes as they
//! happen, so interfaces that come and go are noticed without polling.
//!
//! Messages are parsed as untrusted bytes: every length is checked, nothing
//! here can panic on any input.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, BorrowedFd};

use super::{
    attr_string, u16_at, u32_at, Attrs, EventsStatus, Header, MulticastSocket, RequestSocket,
    Truncated, NLMSG_HDRLEN, NLM_F_DUMP, NLM_F_REQUEST,
};

// Kernel ABI constants (include/uapi/linux/rtnetlink.h, if_link.h,
// neighbour.h), defined here rather than taken from `libc` so that they
// are the same on every target (some are missing for musl/MIPS).
const IFINFOMSG_LEN: usize = 16;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const IFADDRMSG_LEN: usize = 8;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const RTM_NEWNEIGH: u16 = 28;
const RTM_DELNEIGH: u16 = 29;
const RTM_GETNEIGH: u16 = 30;
const NDMSG_LEN: usize = 12;
const NDA_LLADDR: u16 = 2;
const NDA_MASTER: u16 = 9;
const NUD_PERMANENT: u16 = 0x80;
const AF_BRIDGE: u8 = 7;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_STATS: u16 = 7;
const IFLA_MASTER: u16 = 10;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKINFO: u16 = 18;
const IFLA_STATS64: u16 = 23;
const IFLA_INFO_KIND: u16 = 1;

/// `IF_OPER_*` values of [`Link::oper_state`] (RFC 2863 operStatus).
pub const IF_OPER_UNKNOWN: u8 = 0;
pub const IF_OPER_DOWN: u8 = 2;
pub const IF_OPER_UP: u8 = 6;

macro_rules! link_stats {
    ($($field:ident),* $(,)?) => {
        /// `struct rtnl_link_stats64`, every field in kernel order. Fields a
        /// kernel does not have yet (its struct is shorter) read as 0.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct LinkStats {
            $(pub $field: u64,)*
        }

        impl LinkStats {
            /// Builds the structure from its words in kernel order, each
            /// `size` bytes (8, or 4 in the 32-bit IFLA_STATS); words
            /// missing at the end read as 0. One loop for both sizes, not a
            /// generic reader per size (1.7 KB of a mips binary each).
            fn from_words(bytes: &[u8], size: usize) -> LinkStats {
                let mut words = [0u64; [$(stringify!($field)),*].len()];
                for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(size)) {
                    *word = match *chunk {
                        [a, b, c, d] => u64::from(u32::from_ne_bytes([a, b, c, d])),
                        [a, b, c, d, e, f, g, h] => u64::from_ne_bytes([a, b, c, d, e, f, g, h]),
                        _ => 0,
                    };
                }
                let [$($field),*] = words;
                LinkStats { $($field),* }
            }
        }
    };
}

link_stats!(
    rx_packets,
    tx_packets,
    rx_bytes,
    tx_bytes,
    rx_errors,
    tx_errors,
    rx_dropped,
    tx_dropped,
    multicast,
    collisions,
    rx_length_errors,
    rx_over_errors,
    rx_crc_errors,
    rx_frame_errors,
    rx_fifo_errors,
    rx_missed_errors,
    tx_aborted_errors,
    tx_carrier_errors,
    tx_fifo_errors,
    tx_heartbeat_errors,
    tx_window_errors,
    rx_compressed,
    tx_compressed,
    rx_nohandler,
    rx_otherhost_dropped,
);

/// One network interface as the kernel describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Link {
    pub if_index: u32,
    pub name: String,
    /// `ARPHRD_*`.
    pub hw_type: u16,
    /// `IFF_*`.
    pub flags: u32,
    /// `IF_OPER_*`.
    pub oper_state: u8,
    /// The link-layer address, when it is six bytes long.
    pub mac: Option<[u8; 6]>,
    /// The ifIndex of the bridge or bond this interface is enslaved to.
    pub master: Option<u32>,
    /// `IFLA_INFO_KIND`: "bridge", "vlan", "veth"... `None` for plain
    /// hardware interfaces.
    pub kind: Option<String>,
    pub stats: LinkStats,
}

/// Why a netlink message could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetlinkError {
    /// A length field points outside the message, or is too small.
    Truncated(&'static str),
    /// Not the message type expected.
    UnexpectedType(u16),
    /// A mandatory attribute is absent.
    Missing(&'static str),
}

impl fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetlinkError::Truncated(what) => write!(f, "netlink: truncated {what}"),
            NetlinkError::UnexpectedType(t) => write!(f, "netlink: unexpected message type {t}"),
            NetlinkError::Missing(what) => write!(f, "netlink: missing {what}"),
        }
    }
}

impl std::error::Error for NetlinkError {}

impl From<NetlinkError> for io::Error {
    fn from(e: NetlinkError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

impl From<Truncated> for NetlinkError {
    fn from(e: Truncated) -> NetlinkError {
        NetlinkError::Truncated(e.0)
    }
}

/// Parses one `RTM_NEWLINK` message, `nlmsghdr` included.
pub fn parse_link(msg: &[u8]) -> Result<Link, NetlinkError> {
    let header = Header::parse(msg)?;
    if header.kind != RTM_NEWLINK && header.kind != RTM_DELLINK {
        return Err(NetlinkError::UnexpectedType(header.kind));
    }
    let msg = &msg[..header.len];
    let ifi = msg
        .get(NLMSG_HDRLEN..NLMSG_HDRLEN + IFINFOMSG_LEN)
        .ok_or(NetlinkError::Truncated("ifinfomsg"))?;
    // struct ifinfomsg { u8 family, pad; u16 type; i32 index; u32 flags, change; }
    let mut link = Link {
        hw_type: u16_at(ifi, 2).unwrap_or(0),
        if_index: u32_at(ifi, 4).unwrap_or(0),
        flags: u32_at(ifi, 8).unwrap_or(0),
        ..Link::default()
    };
    let mut name = None;
    let mut stats32 = None;
    let mut stats64 = None;
    for attr in Attrs(&msg[NLMSG_HDRLEN + IFINFOMSG_LEN..]) {
        let (kind, payload) = attr?;
        match kind {
            IFLA_IFNAME => name = Some(attr_string(payload)),
            IFLA_ADDRESS => link.mac = payload.try_into().ok(),
            IFLA_MASTER => link.master = u32_at(payload, 0).filter(|&m| m != 0),
            IFLA_OPERSTATE => link.oper_state = payload.first().copied().unwrap_or(0),
            IFLA_STATS64 => stats64 = Some(payload),
            IFLA_STATS => stats32 = Some(payload),
            IFLA_LINKINFO => {
                for info in Attrs(payload) {
                    let (kind, payload) = info?;
                    if kind == IFLA_INFO_KIND {
                        link.kind = Some(attr_string(payload));
                    }
                }
            }
            _ => {}
        }
    }
    link.name = name.ok_or(NetlinkError::Missing("IFLA_IFNAME"))?;
    // Older kernels have a shorter struct (no rx_nohandler before 4.6): the
    // words present are taken, the rest read as 0. IFLA_STATS (32-bit, same
    // order) only for kernels older than 2.6.35 that lack IFLA_STATS64.
    link.stats = match (stats64, stats32) {
        (Some(b), _) => LinkStats::from_words(b, 8),
        (None, Some(b)) => LinkStats::from_words(b, 4),
        (None, None) => LinkStats::default(),
    };
    Ok(link)
}

/// An IPv4 or IPv6 address of an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    pub if_index: u32,
    pub address: IpAddr,
}

/// Parses one `RTM_NEWADDR` message; `Ok(None)` for families other than
/// IPv4 and IPv6. The interface's own address is `IFA_LOCAL` where present
/// (on a point-to-point link `IFA_ADDRESS` is the peer's), else
/// `IFA_ADDRESS`, as getifaddrs takes them.
pub fn parse_addr(msg: &[u8]) -> Result<Option<Address>, NetlinkError> {
    let header = Header::parse(msg)?;
    if header.kind != RTM_NEWADDR {
        return Err(NetlinkError::UnexpectedType(header.kind));
    }
    let msg = &msg[..header.len];
    // struct ifaddrmsg { u8 family, prefixlen, flags, scope; u32 index; }
    let ifa = msg
        .get(NLMSG_HDRLEN..NLMSG_HDRLEN + IFADDRMSG_LEN)
        .ok_or(NetlinkError::Truncated("ifaddrmsg"))?;
    let family = i32::from(ifa[0]);
    let ip = |payload: &[u8]| -> Option<IpAddr> {
        match family {
            libc::AF_INET => <[u8; 4]>::try_from(payload)
                .ok()
                .map(|a| Ipv4Addr::from(a).into()),
            libc::AF_INET6 => <[u8; 16]>::try_from(payload)
                .ok()
                .map(|a| Ipv6Addr::from(a).into()),
            _ => None,
        }
    };
    let (mut address, mut local) = (None, None);
    for attr in Attrs(&msg[NLMSG_HDRLEN + IFADDRMSG_LEN..]) {
        let (kind, payload) = attr?;
        match kind {
            IFA_ADDRESS => address = ip(payload),
            IFA_LOCAL => local = ip(payload),
            _ => {}
        }
    }
    Ok(local.or(address).map(|address| Address {
        if_index: u32_at(ifa, 4).unwrap_or(0),
        address,
    }))
}

/// An entry of a bridge's forwarding database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdbEntry {
    pub mac: [u8; 6],
    /// The bridge port (or device) the address is behind.
    pub port: u32,
    /// The bridge, when the entry is the bridge's own (NDA_MASTER).
    pub bridge: Option<u32>,
    /// A permanent entry: the address of the device itself.
    pub local: bool,
}

/// Parses one `RTM_NEWNEIGH`/`RTM_DELNEIGH` message of the `AF_BRIDGE`
/// family; `Ok(None)` for other families (ARP and NDP neighbours) and for
/// entries without a MAC address.
pub fn parse_neigh(msg: &[u8]) -> Result<Option<FdbEntry>, NetlinkError> {
    let header = Header::parse(msg)?;
    if header.kind != RTM_NEWNEIGH && header.kind != RTM_DELNEIGH {
        return Err(NetlinkError::UnexpectedType(header.kind));
    }
    let msg = &msg[..header.len];
    // struct ndmsg { u8 family, pad1; u16 pad2; i32 ifindex; u16 state; u8 flags, type; }
    let nd = msg
        .get(NLMSG_HDRLEN..NLMSG_HDRLEN + NDMSG_LEN)
        .ok_or(NetlinkError::Truncated("ndmsg"))?;
    if nd[0] != AF_BRIDGE {
        return Ok(None);
    }
    let port = u32_at(nd, 4).unwrap_or(0);
    let state = u16_at(nd, 8).unwrap_or(0);
    let mut mac = None;
    let mut bridge = None;
    for attr in Attrs(&msg[NLMSG_HDRLEN + NDMSG_LEN..]) {
        let (kind, payload) = attr?;
        match kind {
            NDA_LLADDR => mac = <[u8; 6]>::try_from(payload).ok(),
            NDA_MASTER => bridge = u32_at(payload, 0).filter(|&m| m != 0),
            _ => {}
        }
    }
    Ok(mac.map(|mac| FdbEntry {
        mac,
        port,
        bridge,
        local: state & NUD_PERMANENT != 0,
    }))
}

/// A change the kernel announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A link appeared or changed (name, flags, master...).
    LinkNew(Box<Link>),
    /// A link went away.
    LinkDel {
        if_index: u32,
        name: String,
    },
    FdbNew(FdbEntry),
    FdbDel(FdbEntry),
}

/// Parses one event message; `Ok(None)` for messages of no interest.
pub fn parse_event(msg: &[u8]) -> Result<Option<Event>, NetlinkError> {
    let header = Header::parse(msg)?;
    Ok(match header.kind {
        RTM_NEWLINK => Some(Event::LinkNew(Box::new(parse_link(msg)?))),
        RTM_DELLINK => {
            let link = parse_link(msg)?;
            Some(Event::LinkDel {
                if_index: link.if_index,
                name: link.name,
            })
        }
        RTM_NEWNEIGH => parse_neigh(msg)?.map(Event::FdbNew),
        RTM_DELNEIGH => parse_neigh(msg)?.map(Event::FdbDel),
        _ => None,
    })
}

/// rtnetlink's notifications of links and neighbours (the bridges'
/// forwarding entries): a non-blocking socket joined to `RTNLGRP_LINK` and
/// `RTNLGRP_NEIGH`.
pub struct EventSocket {
    sock: MulticastSocket,
}

/// `RTNLGRP_LINK`, `RTNLGRP_NEIGH` (linux/rtnetlink.h).
const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_NEIGH: u32 = 3;

impl EventSocket {
    pub fn open() -> io::Result<EventSocket> {
        Ok(EventSocket {
            sock: MulticastSocket::open(libc::NETLINK_ROUTE, &[RTNLGRP_LINK, RTNLGRP_NEIGH])?,
        })
    }

    /// Delivers every pending event to `each`, without blocking.
    pub fn read(&mut self, mut each: impl FnMut(Event)) -> io::Result<EventsStatus> {
        self.sock.read(&mut |msg| match parse_event(msg) {
            Ok(Some(event)) => each(event),
            Ok(None) => {}
            Err(e) => crate::debug_limited!("skipping netlink event: {e}"),
        })
    }
}

impl AsFd for EventSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

/// A NETLINK_ROUTE socket for dumps, kept open across polling rounds.
pub struct RouteSocket {
    sock: RequestSocket,
    /// Links found by the last dump, to size the next result at once.
    last_count: usize,
}

impl RouteSocket {
    pub fn open() -> io::Result<RouteSocket> {
        Ok(RouteSocket {
            sock: RequestSocket::open(libc::NETLINK_ROUTE)?,
            last_count: 0,
        })
    }

    /// Every link of the network namespace, in the kernel's order.
    pub fn links(&mut self) -> io::Result<Vec<Link>> {
        let mut links = Vec::with_capacity(self.last_count);
        self.dump(RTM_GETLINK, 0, IFINFOMSG_LEN, &mut |kind, msg| {
            if kind != RTM_NEWLINK {
                return;
            }
            match parse_link(msg) {
                Ok(link) => links.push(link),
                // One odd message should not cost the counters of every link.
                Err(e) => crate::debug!("skipping link: {e}"),
            }
        })?;
        self.last_count = links.len();
        Ok(links)
    }

    /// Every IPv4 and IPv6 address of every interface, in the kernel's order
    /// (IPv4 first, primary addresses before secondary ones).
    pub fn addresses(&mut self) -> io::Result<Vec<Address>> {
        let mut addresses = Vec::new();
        self.dump(RTM_GETADDR, 0, IFADDRMSG_LEN, &mut |kind, msg| {
            if kind != RTM_NEWADDR {
                return;
            }
            match parse_addr(msg) {
                Ok(Some(a)) => addresses.push(a),
                Ok(None) => {}
                Err(e) => crate::debug!("skipping address: {e}"),
            }
        })?;
        Ok(addresses)
    }

    /// Every entry of every bridge's forwarding database.
    pub fn fdb(&mut self) -> io::Result<Vec<FdbEntry>> {
        let mut entries = Vec::new();
        self.dump(RTM_GETNEIGH, AF_BRIDGE, NDMSG_LEN, &mut |kind, msg| {
            if kind != RTM_NEWNEIGH {
                return;
            }
            match parse_neigh(msg) {
                Ok(Some(e)) => entries.push(e),
                Ok(None) => {}
                Err(e) => crate::debug!("skipping FDB entry: {e}"),
            }
        })?;
        Ok(entries)
    }

    /// Runs one dump of `request` for address family `family` (the family
    /// is the first byte of the request's fixed part, `body_len` bytes,
    /// the rest zero: no filter), calling `each` with the type and bytes
    /// of every answer.
    fn dump(
        &mut self,
        request: u16,
        family: u8,
        body_len: usize,
        each: &mut dyn FnMut(u16, &[u8]),
    ) -> io::Result<()> {
        let mut req = [0u8; NLMSG_HDRLEN + IFINFOMSG_LEN];
        let req = &mut req[..NLMSG_HDRLEN + body_len.min(IFINFOMSG_LEN)];
        req[4..6].copy_from_slice(&request.to_ne_bytes());
        req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        req[NLMSG_HDRLEN] = family;
        // An interrupted dump (links or entries changed meanwhile) may miss
        // or repeat some; the change itself arrives as an event, and the
        // next round reads them all again, so its answers are kept.
        self.sock.exchange(req, each).map(drop)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::netlink::{push_attr, walk_answers, NLMSG_DONE};
    use crate::rng::Rng;

    /// Builds an RTM_NEWLINK message from its parts (test helper).
    pub(crate) fn message(hw_type: u16, index: u32, flags: u32, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut m = vec![0u8; NLMSG_HDRLEN + IFINFOMSG_LEN];
        m[4..6].copy_from_slice(&RTM_NEWLINK.to_ne_bytes());
        m[NLMSG_HDRLEN + 2..NLMSG_HDRLEN + 4].copy_from_slice(&hw_type.to_ne_bytes());
        m[NLMSG_HDRLEN + 4..NLMSG_HDRLEN + 8].copy_from_slice(&index.to_ne_bytes());
        m[NLMSG_HDRLEN + 8..NLMSG_HDRLEN + 12].copy_from_slice(&flags.to_ne_bytes());
        for (kind, payload) in attrs {
            push_attr(&mut m, *kind, payload);
        }
        let len = m.len() as u32;
        m[0..4].copy_from_slice(&len.to_ne_bytes());
        m
    }

    pub(crate) fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
        let mut a = Vec::new();
        push_attr(&mut a, kind, payload);
        a
    }

    fn words(values: impl IntoIterator<Item = u64>) -> Vec<u8> {
        values.into_iter().flat_map(u64::to_ne_bytes).collect()
    }

    pub(crate) fn linkinfo(kind: &str) -> Vec<u8> {
        attr(IFLA_INFO_KIND, format!("{kind}\0").as_bytes())
    }

    #[test]
    fn parses_every_attribute() {
        let stats = words(1..=25);
        let info = linkinfo("bridge");
        let msg = message(
            1,
            7,
            0x1043,
            &[
                (IFLA_IFNAME, b"br-lan\0"),
                (IFLA_ADDRESS, &[2, 0, 0, 0, 0, 9]),
                (IFLA_MASTER, &3u32.to_ne_bytes()),
                (IFLA_OPERSTATE, &[IF_OPER_UP]),
                (IFLA_LINKINFO | 0x8000, &info), // NLA_F_NESTED set, as the kernel does
                (IFLA_STATS64, &stats),
                (999, b"ignored"),
            ],
        );
        let link = parse_link(&msg).unwrap();
        assert_eq!(link.name, "br-lan");
        assert_eq!((link.if_index, link.hw_type, link.flags), (7, 1, 0x1043));
        assert_eq!(link.mac, Some([2, 0, 0, 0, 0, 9]));
        assert_eq!(link.master, Some(3));
        assert_eq!(link.oper_state, IF_OPER_UP);
        assert_eq!(link.kind.as_deref(), Some("bridge"));
        let s = link.stats;
        assert_eq!(
            (s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes),
            (1, 2, 3, 4)
        );
        assert_eq!((s.multicast, s.collisions), (9, 10));
        assert_eq!((s.rx_crc_errors, s.rx_frame_errors), (13, 14));
        assert_eq!((s.tx_window_errors, s.rx_nohandler), (21, 24));
        assert_eq!(s.rx_otherhost_dropped, 25);
    }

    #[test]
    fn accepts_shorter_stats_and_odd_addresses() {
        // A 4.x kernel: 23 words, no rx_nohandler.
        let stats = words(100..123);
        let msg = message(
            768,
            2,
            0,
            &[
                (IFLA_STATS64, &stats),
                (IFLA_ADDRESS, &[0, 0, 0, 0]), // ipip: a 4-byte address
                (IFLA_IFNAME, b"tunl0"),       // no NUL
                (IFLA_MASTER, &0u32.to_ne_bytes()),
            ],
        );
        let link = parse_link(&msg).unwrap();
        assert_eq!(link.name, "tunl0");
        assert_eq!(link.mac, None);
        assert_eq!(link.master, None);
        assert_eq!(link.kind, None);
        assert_eq!(link.stats.rx_packets, 100);
        assert_eq!(link.stats.tx_compressed, 122);
        assert_eq!(link.stats.rx_nohandler, 0);
    }

    #[test]
    fn falls_back_to_32_bit_stats() {
        let stats: Vec<u8> = (1u32..=23).flat_map(u32::to_ne_bytes).collect();
        let msg = message(1, 2, 0, &[(IFLA_IFNAME, b"eth0\0"), (IFLA_STATS, &stats)]);
        let link = parse_link(&msg).unwrap();
        assert_eq!(link.stats.rx_packets, 1);
        assert_eq!(link.stats.tx_compressed, 23);
    }

    #[test]
    fn rejects_malformed_messages() {
        let good = message(1, 2, 0, &[(IFLA_IFNAME, b"eth0\0")]);
        assert!(parse_link(&good).is_ok());
        assert_eq!(parse_link(&[]), Err(NetlinkError::Truncated("nlmsghdr")));
        assert_eq!(
            parse_link(&good[..good.len() - 1]),
            Err(NetlinkError::Truncated("nlmsghdr"))
        );

        let mut other = good.clone();
        other[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
        assert_eq!(
            parse_link(&other),
            Err(NetlinkError::UnexpectedType(NLMSG_DONE))
        );

        let unnamed = message(1, 2, 0, &[]);
        assert_eq!(
            parse_link(&unnamed),
            Err(NetlinkError::Missing("IFLA_IFNAME"))
        );

        // An attribute claiming more bytes than there are.
        let mut long = good.clone();
        let at = NLMSG_HDRLEN + IFINFOMSG_LEN;
        long[at..at + 2].copy_from_slice(&200u16.to_ne_bytes());
        assert_eq!(parse_link(&long), Err(NetlinkError::Truncated("attribute")));

        // An attribute shorter than its own header.
        let mut short = good.clone();
        short[at..at + 2].copy_from_slice(&2u16.to_ne_bytes());
        assert_eq!(
            parse_link(&short),
            Err(NetlinkError::Truncated("attribute"))
        );

        // No room for the ifinfomsg.
        let mut tiny = good[..NLMSG_HDRLEN + 4].to_vec();
        let len = tiny.len() as u32;
        tiny[0..4].copy_from_slice(&len.to_ne_bytes());
        assert_eq!(parse_link(&tiny), Err(NetlinkError::Truncated("ifinfomsg")));
    }

    fn open_or_skip() -> Option<RouteSocket> {
        match RouteSocket::open() {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("netlink unavailable, test skipped: {e}");
                None
            }
        }
    }

    /// The raw RTM_NEWLINK messages of one dump.
    fn raw_dump(sock: &mut RouteSocket) -> Vec<Vec<u8>> {
        let mut msgs = Vec::new();
        sock.dump(RTM_GETLINK, 0, IFINFOMSG_LEN, &mut |_, m| {
            msgs.push(m.to_vec())
        })
        .unwrap();
        msgs
    }

    #[test]
    fn parse_link_never_panics() {
        let info = linkinfo("veth");
        let mut corpus = vec![message(
            1,
            3,
            0x1003,
            &[
                (IFLA_IFNAME, b"veth0\0"),
                (IFLA_LINKINFO, &info),
                (IFLA_STATS64, &words(0..25)),
            ],
        )];
        if let Some(mut sock) = open_or_skip() {
            corpus.extend(raw_dump(&mut sock));
        }
        let mut rng = Rng::from_seed(0x9e37_79b9_7f4a_7c15);
        for msg in &corpus {
            for len in 0..=msg.len() {
                let _ = parse_link(&msg[..len]);
            }
            for _ in 0..2000 {
                let mut m = msg.clone();
                for _ in 0..1 + rng.next_u32() % 4 {
                    let at = (rng.next_u32() as usize) % m.len();
                    m[at] = rng.next_u32() as u8;
                }
                let cut = (rng.next_u32() as usize) % (m.len() + 1);
                let _ = parse_link(&m);
                let _ = parse_link(&m[..cut]);
                let _ = walk_answers(&m, 0, 0, &mut false, &mut |_, _| {});
            }
        }
        for _ in 0..5000 {
            let len = (rng.next_u32() % 128) as usize;
            let mut m: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
            if len >= 6 {
                // Mostly well-framed, so the attribute walk is reached.
                m[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
                m[4..6].copy_from_slice(&RTM_NEWLINK.to_ne_bytes());
            }
            let _ = parse_link(&m);
        }
    }

    fn sysfs_stat(name: &str) -> u64 {
        let path = format!("/sys/class/net/lo/statistics/{name}");
        std::fs::read_to_string(path)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    #[test]
    fn loopback_addresses_are_listed() {
        let Some(mut sock) = open_or_skip() else {
            return;
        };
        let lo = crate::sys::if_nametoindex("lo").expect("lo exists");
        let addresses = sock.addresses().unwrap();
        let v4: IpAddr = Ipv4Addr::LOCALHOST.into();
        assert!(
            addresses.contains(&Address {
                if_index: lo,
                address: v4
            }),
            "{addresses:?}"
        );
        // Every address is on an existing interface.
        for a in &addresses {
            assert!(crate::sys::if_indextoname(a.if_index).is_some(), "{a:?}");
        }
    }

    fn address_message(family: u8, index: u32, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut m = vec![0u8; NLMSG_HDRLEN + IFADDRMSG_LEN];
        m[4..6].copy_from_slice(&RTM_NEWADDR.to_ne_bytes());
        m[NLMSG_HDRLEN] = family;
        m[NLMSG_HDRLEN + 4..NLMSG_HDRLEN + 8].copy_from_slice(&index.to_ne_bytes());
        for (kind, payload) in attrs {
            push_attr(&mut m, *kind, payload);
        }
        let len = m.len() as u32;
        m[0..4].copy_from_slice(&len.to_ne_bytes());
        m
    }

    #[test]
    fn addresses_parse() {
        let v4 = [192, 0, 2, 1];
        let peer = [192, 0, 2, 2];
        let m = address_message(libc::AF_INET as u8, 7, &[(IFA_ADDRESS, &v4), (99, b"x")]);
        let expected = Address {
            if_index: 7,
            address: Ipv4Addr::from(v4).into(),
        };
        assert_eq!(parse_addr(&m), Ok(Some(expected)));
        // Point-to-point: IFA_ADDRESS is the peer, IFA_LOCAL ours.
        let m = address_message(
            libc::AF_INET as u8,
            7,
            &[(IFA_ADDRESS, &peer), (IFA_LOCAL, &v4)],
        );
        assert_eq!(parse_addr(&m), Ok(Some(expected)));
        let v6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
        let m = address_message(libc::AF_INET6 as u8, 3, &[(IFA_ADDRESS, &v6.octets())]);
        assert_eq!(
            parse_addr(&m),
            Ok(Some(Address {
                if_index: 3,
                address: v6.into()
            }))
        );
        // Other families, no address, an address of the wrong length: none.
        let m = address_message(libc::AF_PACKET as u8, 3, &[(IFA_ADDRESS, &v4)]);
        assert_eq!(parse_addr(&m), Ok(None));
        assert_eq!(
            parse_addr(&address_message(libc::AF_INET as u8, 3, &[])),
            Ok(None)
        );
        let m = address_message(libc::AF_INET6 as u8, 3, &[(IFA_ADDRESS, &v4)]);
        assert_eq!(parse_addr(&m), Ok(None));
        // Truncated fixed part, and every prefix of a valid message: errors, no panic.
        let m = address_message(libc::AF_INET as u8, 7, &[(IFA_ADDRESS, &v4)]);
        for n in 0..m.len() {
            let mut cut = m[..n].to_vec();
            if n >= 4 {
                cut[0..4].copy_from_slice(&(n as u32).to_ne_bytes());
            }
            let _ = parse_addr(&cut);
        }
        let mut short = m[..NLMSG_HDRLEN + 4].to_vec();
        let len = short.len() as u32;
        short[0..4].copy_from_slice(&len.to_ne_bytes());
        assert_eq!(
            parse_addr(&short),
            Err(NetlinkError::Truncated("ifaddrmsg"))
        );
    }

    #[test]
    fn loopback_matches_sysfs() {
        let Some(mut sock) = open_or_skip() else {
            return;
        };
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let me = udp.local_addr().unwrap();
        for _ in 0..5 {
            udp.send_to(b"wsflowd test", me).unwrap();
        }
        let names = ["rx_packets", "tx_packets", "rx_bytes", "tx_bytes"];
        let before = names.map(sysfs_stat);
        let links = sock.links().unwrap();
        let after = names.map(sysfs_stat);
        let lo = links.iter().find(|l| l.name == "lo").expect("lo is listed");
        let s = &lo.stats;
        let got = [s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes];
        for i in 0..names.len() {
            assert!(
                before[i] <= got[i] && got[i] <= after[i],
                "{}: {} <= {} <= {}",
                names[i],
                before[i],
                got[i],
                after[i]
            );
        }
        assert!(s.rx_packets >= 5);
        assert_eq!(Some(lo.if_index), crate::sys::if_nametoindex("lo"));
        assert_eq!(lo.hw_type, 772); // ARPHRD_LOOPBACK
        assert!(lo.flags & libc::IFF_LOOPBACK as u32 != 0);

        // The socket is reused: a second round works and finds the same links.
        let again = sock.links().unwrap();
        assert_eq!(again.len(), links.len());
        assert!(links.iter().all(|l| l.if_index > 0 && !l.name.is_empty()));
    }
}
