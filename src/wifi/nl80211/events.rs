//! nl80211's notifications: stations joining and leaving the BSS of an AP
//! interface (the kernel announces them as hostapd adds and removes them),
//! interfaces created, changed and deleted, channel switches, APs stopped.
//! Read from a non-blocking socket joined to nl80211's `mlme` and `config`
//! multicast groups, on the event loop: reading never waits.

use crate::io_error::io_error;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use super::{
    attr_u32, genl_command, interface_attrs, parse_station, Error, InterfaceInfo, Nl80211, Station,
    NL80211_ATTR_IFINDEX, NL80211_ATTR_MAC, NL80211_ATTR_WIPHY_FREQ, NL80211_CMD_NEW_INTERFACE,
    NL80211_CMD_NEW_STATION,
};
use crate::mac::MacAddr;
use crate::netlink::{Attrs, EventsStatus, MulticastSocket};

const NL80211_CMD_SET_INTERFACE: u8 = 6;
const NL80211_CMD_DEL_INTERFACE: u8 = 8;
const NL80211_CMD_STOP_AP: u8 = 16;
const NL80211_CMD_DEL_STATION: u8 = 20;
const NL80211_CMD_CH_SWITCH_NOTIFY: u8 = 88;

/// The multicast groups read: station and AP events, interface changes.
const GROUPS: [&str; 2] = ["mlme", "config"];

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nl80211Event {
    /// A station was added to an AP interface (hostapd added it at its
    /// association), with what the kernel knows of it then.
    StationNew(Station),
    /// A station was removed.
    StationDel {
        if_index: u32,
        mac: MacAddr,
    },
    /// An interface was created, or its type or channel changed.
    Interface(InterfaceInfo),
    InterfaceDel {
        if_index: u32,
    },
    /// The AP interface moved to another channel.
    ChannelSwitch {
        if_index: u32,
        freq_mhz: u32,
    },
    /// The AP interface stopped beaconing: its BSS is down.
    ApStopped {
        if_index: u32,
    },
}

/// The attributes of an event that names an interface.
#[derive(Default)]
struct Named {
    if_index: Option<u32>,
    mac: Option<[u8; 6]>,
    freq: Option<u32>,
}

fn index_and_mac(attrs: &[u8]) -> Result<Named, Error> {
    let mut n = Named::default();
    for attr in Attrs(attrs) {
        let (kind, p) = attr?;
        match kind {
            NL80211_ATTR_IFINDEX => n.if_index = attr_u32(p),
            NL80211_ATTR_MAC => n.mac = <[u8; 6]>::try_from(p).ok(),
            NL80211_ATTR_WIPHY_FREQ => n.freq = attr_u32(p),
            _ => {}
        }
    }
    Ok(n)
}

/// Parses one notification, `nlmsghdr` included; `Ok(None)` for the
/// commands not followed.
pub fn parse_event(msg: &[u8]) -> Result<Option<Nl80211Event>, Error> {
    let (cmd, attrs) = genl_command(msg)?;
    let missing_index = Error::Missing("NL80211_ATTR_IFINDEX");
    Ok(match cmd {
        NL80211_CMD_NEW_STATION => Some(Nl80211Event::StationNew(parse_station(msg)?)),
        NL80211_CMD_DEL_STATION => {
            let n = index_and_mac(attrs)?;
            Some(Nl80211Event::StationDel {
                if_index: n.if_index.ok_or(missing_index)?,
                mac: MacAddr(n.mac.ok_or(Error::Missing("NL80211_ATTR_MAC"))?),
            })
        }
        NL80211_CMD_NEW_INTERFACE | NL80211_CMD_SET_INTERFACE => {
            Some(Nl80211Event::Interface(interface_attrs(attrs)?))
        }
        NL80211_CMD_DEL_INTERFACE => Some(Nl80211Event::InterfaceDel {
            if_index: index_and_mac(attrs)?.if_index.ok_or(missing_index)?,
        }),
        NL80211_CMD_CH_SWITCH_NOTIFY => {
            let n = index_and_mac(attrs)?;
            Some(Nl80211Event::ChannelSwitch {
                if_index: n.if_index.ok_or(missing_index)?,
                freq_mhz: n.freq.ok_or(Error::Missing("NL80211_ATTR_WIPHY_FREQ"))?,
            })
        }
        NL80211_CMD_STOP_AP => Some(Nl80211Event::ApStopped {
            if_index: index_and_mac(attrs)?.if_index.ok_or(missing_index)?,
        }),
        _ => None,
    })
}

/// nl80211's notifications, as they come.
pub struct Nl80211Events {
    sock: MulticastSocket,
    family: u16,
}

impl Nl80211Events {
    /// Joins the groups of nl80211 (resolved by `client`).
    pub fn open(client: &Nl80211) -> io::Result<Nl80211Events> {
        let mut groups = Vec::with_capacity(GROUPS.len());
        for name in GROUPS {
            groups.push(client.group(name).ok_or_else(|| {
                io_error(
                    io::ErrorKind::NotFound,
                    format!("nl80211 has no multicast group '{name}'"),
                )
            })?);
        }
        Ok(Nl80211Events {
            sock: MulticastSocket::open(libc::NETLINK_GENERIC, &groups)?,
            family: client.family(),
        })
    }

    /// Delivers every pending notification to `each`, without blocking.
    pub fn read(&mut self, mut each: impl FnMut(Nl80211Event)) -> io::Result<EventsStatus> {
        let family = self.family;
        self.sock.read(&mut |msg| {
            if crate::netlink::Header::parse(msg).is_ok_and(|h| h.kind == family) {
                match parse_event(msg) {
                    Ok(Some(e)) => each(e),
                    Ok(None) => {}
                    Err(e) => crate::debug_limited!("skipping nl80211 event: {e}"),
                }
            }
        })
    }
}

impl AsFd for Nl80211Events {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{attr, msg, nest, u32a};
    use super::*;

    const STA_INFO: u16 = 21;

    #[test]
    fn station_and_interface_events() {
        let mac = [2, 0, 0, 0, 1, 1];
        let new = msg(
            NL80211_CMD_NEW_STATION,
            &[
                u32a(NL80211_ATTR_IFINDEX, 4),
                attr(NL80211_ATTR_MAC, &mac),
                nest(STA_INFO, &[]),
            ],
        );
        let Some(Nl80211Event::StationNew(st)) = parse_event(&new).unwrap() else {
            panic!("a new station");
        };
        assert_eq!((st.if_index, st.mac), (Some(4), mac));
        let del = msg(
            NL80211_CMD_DEL_STATION,
            &[u32a(NL80211_ATTR_IFINDEX, 4), attr(NL80211_ATTR_MAC, &mac)],
        );
        assert_eq!(
            parse_event(&del).unwrap(),
            Some(Nl80211Event::StationDel {
                if_index: 4,
                mac: MacAddr(mac)
            })
        );
        let csa = msg(
            NL80211_CMD_CH_SWITCH_NOTIFY,
            &[
                u32a(NL80211_ATTR_IFINDEX, 4),
                u32a(NL80211_ATTR_WIPHY_FREQ, 2462),
            ],
        );
        assert_eq!(
            parse_event(&csa).unwrap(),
            Some(Nl80211Event::ChannelSwitch {
                if_index: 4,
                freq_mhz: 2462
            })
        );
        let stop = msg(NL80211_CMD_STOP_AP, &[u32a(NL80211_ATTR_IFINDEX, 4)]);
        assert_eq!(
            parse_event(&stop).unwrap(),
            Some(Nl80211Event::ApStopped { if_index: 4 })
        );
        let gone = msg(NL80211_CMD_DEL_INTERFACE, &[u32a(NL80211_ATTR_IFINDEX, 9)]);
        assert_eq!(
            parse_event(&gone).unwrap(),
            Some(Nl80211Event::InterfaceDel { if_index: 9 })
        );
        let set = msg(NL80211_CMD_SET_INTERFACE, &[u32a(NL80211_ATTR_IFINDEX, 9)]);
        assert!(matches!(
            parse_event(&set).unwrap(),
            Some(Nl80211Event::Interface(i)) if i.if_index == 9
        ));
        // Other commands are not followed; missing attributes are errors.
        assert_eq!(parse_event(&msg(33, &[])).unwrap(), None);
        assert!(parse_event(&msg(NL80211_CMD_DEL_STATION, &[])).is_err());
        // Truncations never panic.
        for n in 0..del.len() {
            let _ = parse_event(&del[..n]);
        }
    }
}
