//! Where a sampled frame came from and where it went: the input and output
//! interfaces of a flow sample, following the sFlow 802.11 reference model
//! (wired↔wireless, station to station on one radio, to and from the
//! access point itself).
//!
//! The access point normally bridges its wired and wireless ports, so the
//! bridge's forwarding database says behind which port a MAC address is.
//! It is kept current from netlink events (and a dump at start or after
//! lost events), never polled. Addresses of the device's own interfaces
//! mean the frame is to or from the access point itself.

use crate::sorted_map::{SortedMap, SortedSet};

use crate::capture::Direction;
use crate::netlink::{FdbEntry, Link};
use crate::sflow::Interface;

/// Bound on the forwarding entries kept: a flood of spoofed source
/// addresses cannot exhaust the agent's memory.
pub const MAX_FDB_ENTRIES: usize = 16_384;

#[derive(Debug, Default)]
pub struct Topology {
    /// MAC address → the port it is behind.
    fdb: SortedMap<[u8; 6], u32>,
    /// MAC addresses of this device's own interfaces.
    local: SortedSet<[u8; 6]>,
    /// Bridge port → its bridge.
    master: SortedMap<u32, u32>,
}

fn is_group(mac: &[u8; 6]) -> bool {
    mac[0] & 1 != 0
}

impl Topology {
    /// Replaces what is known of the links (ports, local addresses).
    pub fn set_links(&mut self, links: &[Link]) {
        self.local.clear();
        self.master.clear();
        for l in links {
            self.link_changed(l);
        }
    }

    /// Takes note of a new or changed link.
    pub fn link_changed(&mut self, l: &Link) {
        if let Some(mac) = l.mac.filter(|m| *m != [0; 6]) {
            self.local.insert(mac);
        }
        match l.master {
            Some(m) => {
                self.master.insert(l.if_index, m);
            }
            None => {
                self.master.remove(&l.if_index);
            }
        }
    }

    pub fn link_removed(&mut self, if_index: u32) {
        self.master.remove(&if_index);
        self.fdb.retain(|_, port| *port != if_index);
    }

    /// Replaces the forwarding database: sorted once, O(n log n), rather
    /// than inserted entry by entry. Of a MAC address listed twice (on two
    /// bridges or VLANs) the last is kept, as with [`Self::fdb_add`]; of a
    /// table over [`MAX_FDB_ENTRIES`], the lowest addresses.
    pub fn set_fdb(&mut self, entries: &[FdbEntry]) {
        let mut remote = Vec::with_capacity(entries.len().min(MAX_FDB_ENTRIES));
        for e in entries {
            if e.local {
                // The bridge's own entries are the device's addresses.
                self.local.insert(e.mac);
            } else if !is_group(&e.mac) {
                remote.push((e.mac, e.port));
            }
        }
        self.fdb = SortedMap::from_vec(remote);
        self.fdb.truncate(MAX_FDB_ENTRIES);
    }

    pub fn fdb_add(&mut self, e: &FdbEntry) {
        if e.local {
            // The bridge's own entries are the device's addresses.
            self.local.insert(e.mac);
            return;
        }
        if is_group(&e.mac) {
            return;
        }
        if self.fdb.len() >= MAX_FDB_ENTRIES && !self.fdb.contains_key(&e.mac) {
            return;
        }
        self.fdb.insert(e.mac, e.port);
    }

    pub fn fdb_remove(&mut self, e: &FdbEntry) {
        if self.fdb.get(&e.mac) == Some(&e.port) {
            self.fdb.remove(&e.mac);
        }
    }

    pub fn fdb_len(&self) -> usize {
        self.fdb.len()
    }

    /// The input and output of an Ethernet frame sampled on `if_index`.
    pub fn path(
        &self,
        if_index: u32,
        direction: Direction,
        destination: &[u8; 6],
        source: &[u8; 6],
    ) -> (Interface, Interface) {
        match direction {
            Direction::Ingress => (
                Interface::index(if_index),
                self.output(if_index, destination),
            ),
            Direction::Egress => (self.input(source), Interface::index(if_index)),
        }
    }

    /// Where a frame that entered through `if_index` went.
    fn output(&self, if_index: u32, destination: &[u8; 6]) -> Interface {
        let bridged = self.master.contains_key(&if_index);
        if is_group(destination) {
            // Flooded to the bridge's other ports and the device itself, or
            // (not bridged) delivered to the device.
            return if bridged {
                Interface::multiple(0)
            } else {
                Interface::INTERNAL
            };
        }
        if self.local.contains(destination) {
            return Interface::INTERNAL;
        }
        if bridged {
            // Behind a known port (maybe the same one: station to station on
            // one radio), else flooded like any unknown unicast.
            return match self.fdb.get(destination) {
                Some(&port) => Interface::index(port),
                None => Interface::multiple(0),
            };
        }
        Interface::UNKNOWN
    }

    /// Where a frame that left through some interface came from (only
    /// frames that did not enter through a sampled interface are sampled on
    /// egress: the device's own, relayed within a radio, or from an
    /// interface that is not sampled).
    fn input(&self, source: &[u8; 6]) -> Interface {
        if self.local.contains(source) {
            return Interface::INTERNAL;
        }
        match self.fdb.get(source) {
            Some(&port) => Interface::index(port),
            None => Interface::UNKNOWN,
        }
    }
}

/// The input and output of a frame sampled on a layer 3 link (tun, ppp,
/// wireguard): only the direction is known.
pub fn layer3(if_index: u32, direction: Direction) -> (Interface, Interface) {
    match direction {
        Direction::Ingress => (Interface::index(if_index), Interface::UNKNOWN),
        Direction::Egress => (Interface::UNKNOWN, Interface::index(if_index)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AP: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
    const STA1: [u8; 6] = [0x02, 0, 0, 0, 1, 1];
    const STA2: [u8; 6] = [0x02, 0, 0, 0, 1, 2];
    const HOST: [u8; 6] = [0x02, 0, 0, 0, 2, 1];
    const BCAST: [u8; 6] = [0xff; 6];

    fn link(if_index: u32, mac: [u8; 6], master: Option<u32>) -> Link {
        Link {
            if_index,
            mac: Some(mac),
            master,
            ..Link::default()
        }
    }

    /// br-lan (3) with eth0 (1, wired) and wlan0 (2, wireless).
    fn ap() -> Topology {
        let mut t = Topology::default();
        t.set_links(&[
            link(1, [0x02, 0, 0, 0, 0, 0x11], Some(3)),
            link(2, [0x02, 0, 0, 0, 0, 0x22], Some(3)),
            link(3, AP, None),
        ]);
        let fdb = |mac, port| FdbEntry {
            mac,
            port,
            bridge: Some(3),
            local: false,
        };
        t.set_fdb(&[fdb(STA1, 2), fdb(STA2, 2), fdb(HOST, 1)]);
        t
    }

    #[test]
    fn wired_to_wireless_and_back() {
        let t = ap();
        assert_eq!(
            t.path(1, Direction::Ingress, &STA1, &HOST),
            (Interface::index(1), Interface::index(2))
        );
        assert_eq!(
            t.path(2, Direction::Ingress, &HOST, &STA1),
            (Interface::index(2), Interface::index(1))
        );
    }

    #[test]
    fn station_to_station_on_one_radio() {
        let t = ap();
        assert_eq!(
            t.path(2, Direction::Ingress, &STA2, &STA1),
            (Interface::index(2), Interface::index(2))
        );
        // Relayed by the radio itself: seen leaving, from a station there.
        assert_eq!(
            t.path(2, Direction::Egress, &STA2, &STA1),
            (Interface::index(2), Interface::index(2))
        );
    }

    #[test]
    fn to_and_from_the_access_point() {
        let t = ap();
        assert_eq!(
            t.path(2, Direction::Ingress, &AP, &STA1),
            (Interface::index(2), Interface::INTERNAL)
        );
        assert_eq!(
            t.path(2, Direction::Egress, &STA1, &AP),
            (Interface::INTERNAL, Interface::index(2))
        );
    }

    #[test]
    fn broadcast_unknown_and_unbridged() {
        let mut t = ap();
        assert_eq!(
            t.path(2, Direction::Ingress, &BCAST, &STA1).1,
            Interface::multiple(0)
        );
        let stranger = [0x02, 9, 9, 9, 9, 9];
        assert_eq!(
            t.path(1, Direction::Ingress, &stranger, &HOST).1,
            Interface::multiple(0)
        );
        assert_eq!(
            t.path(2, Direction::Egress, &STA1, &stranger).0,
            Interface::UNKNOWN
        );
        // A routed port, not in a bridge: broadcasts reach the device only.
        t.link_changed(&link(7, [0x02, 0, 0, 0, 0, 0x77], None));
        assert_eq!(
            t.path(7, Direction::Ingress, &BCAST, &HOST).1,
            Interface::INTERNAL
        );
        assert_eq!(
            t.path(7, Direction::Ingress, &stranger, &HOST).1,
            Interface::UNKNOWN
        );
    }

    #[test]
    fn fdb_changes_and_bounds() {
        let mut t = ap();
        let moved = FdbEntry {
            mac: STA1,
            port: 1,
            bridge: Some(3),
            local: false,
        };
        t.fdb_add(&moved);
        assert_eq!(
            t.path(2, Direction::Ingress, &STA1, &HOST).1,
            Interface::index(1)
        );
        t.fdb_remove(&moved);
        assert_eq!(
            t.path(2, Direction::Ingress, &STA1, &HOST).1,
            Interface::multiple(0)
        );
        t.link_removed(2);
        assert_eq!(t.fdb_len(), 1);
        for i in 0..(MAX_FDB_ENTRIES as u32 + 100) {
            let b = i.to_be_bytes();
            t.fdb_add(&FdbEntry {
                mac: [0x02, 0x10, b[0], b[1], b[2], b[3]],
                port: 1,
                bridge: Some(3),
                local: false,
            });
        }
        assert_eq!(t.fdb_len(), MAX_FDB_ENTRIES);
    }

    #[test]
    fn a_whole_fdb_is_sorted_once_and_bounded() {
        let mut t = Topology::default();
        let entry = |n: u32, port| {
            let b = n.to_be_bytes();
            FdbEntry {
                mac: [0x02, 0x10, b[0], b[1], b[2], b[3]],
                port,
                bridge: Some(3),
                local: false,
            }
        };
        // In descending order, one address twice: the last listing wins.
        let mut dump: Vec<FdbEntry> = (0..MAX_FDB_ENTRIES as u32 + 50)
            .rev()
            .map(|n| entry(n, 1))
            .collect();
        dump.push(entry(7, 2));
        dump.push(FdbEntry {
            local: true,
            ..entry(99_999_999, 9)
        });
        dump.push(FdbEntry {
            mac: [0x01, 0, 0x5e, 0, 0, 1],
            ..entry(0, 1)
        });
        t.set_fdb(&dump);
        assert_eq!(t.fdb_len(), MAX_FDB_ENTRIES);
        assert_eq!(t.fdb.get(&entry(7, 0).mac), Some(&2));
        assert_eq!(t.fdb.get(&entry(0, 0).mac), Some(&1));
        assert!(
            t.fdb.get(&entry(MAX_FDB_ENTRIES as u32, 0).mac).is_none(),
            "over the bound"
        );
        assert!(t.local.contains(&entry(99_999_999, 0).mac));
        t.set_fdb(&[entry(5, 4)]);
        assert_eq!(t.fdb_len(), 1, "replaced, not merged");
    }
}
