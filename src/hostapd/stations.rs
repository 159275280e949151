//! The stations of one BSS, as hostapd reports them.

use crate::sorted_map::SortedMap;

/// A MAC address.
pub type Mac = [u8; 6];

/// Parses `aa:bb:cc:dd:ee:ff` (hostapd's form; any case).
pub fn parse_mac(text: &str) -> Option<Mac> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// What is known of one station.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Station {
    /// Associated (counted in dot11AssociatedStationCount).
    pub associated: bool,
    /// 802.1X / 4-way handshake done.
    pub authorized: bool,
    /// Last signal hostapd reported, dBm.
    pub signal: Option<i8>,
    /// Last data rates, kbit/s.
    pub rx_rate_kbps: Option<u32>,
    pub tx_rate_kbps: Option<u32>,
    pub ht: bool,
    pub vht: bool,
    pub he: bool,
}

/// The stations of a BSS, bounded: a flood of fake authentications or
/// associations cannot exhaust the agent's memory.
#[derive(Debug, Clone, Default)]
pub struct StationTable {
    stations: SortedMap<Mac, Station>,
    limit: usize,
    /// Stations not added because the table was full.
    pub refused: u64,
}

impl StationTable {
    pub fn new(limit: usize) -> StationTable {
        StationTable {
            stations: SortedMap::new(),
            limit,
            refused: 0,
        }
    }

    /// The station, added if new and there is room.
    pub fn upsert(&mut self, mac: Mac) -> Option<&mut Station> {
        if !self.stations.contains_key(&mac) && self.stations.len() >= self.limit {
            self.refused += 1;
            return None;
        }
        Some(self.stations.get_or_insert_with(mac, Station::default))
    }

    pub fn remove(&mut self, mac: &Mac) -> bool {
        self.stations.remove(mac).is_some()
    }

    pub fn get(&self, mac: &Mac) -> Option<&Station> {
        self.stations.get(mac)
    }

    /// Stations associated: dot11AssociatedStationCount.
    pub fn associated(&self) -> u32 {
        self.stations.values().filter(|s| s.associated).count() as u32
    }

    pub fn len(&self) -> usize {
        self.stations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stations.is_empty()
    }

    /// Keeps only the stations in `present` (after a full listing).
    pub fn retain(&mut self, present: impl Fn(&Mac) -> bool) {
        self.stations.retain(|mac, _| present(mac));
    }

    pub fn clear(&mut self) {
        self.stations.clear();
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Mac, &Station)> {
        self.stations.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs() {
        assert_eq!(
            parse_mac("02:aB:00:ff:10:09"),
            Some([0x02, 0xab, 0, 0xff, 0x10, 0x09])
        );
        for bad in [
            "",
            "02:ab:00:ff:10",
            "02:ab:00:ff:10:09:00",
            "02-ab-00-ff-10-09",
            "2:ab:00:ff:10:09",
            "zz:ab:00:ff:10:09",
        ] {
            assert_eq!(parse_mac(bad), None, "{bad}");
        }
    }

    #[test]
    fn bounded_and_counted() {
        let mut t = StationTable::new(2);
        t.upsert([1; 6]).unwrap().associated = true;
        t.upsert([2; 6]).unwrap();
        assert!(t.upsert([3; 6]).is_none());
        assert_eq!(t.refused, 1);
        assert_eq!((t.len(), t.associated()), (2, 1));
        // An existing station can always be updated.
        t.upsert([2; 6]).unwrap().associated = true;
        assert_eq!(t.associated(), 2);
        assert!(t.remove(&[1; 6]));
        assert!(!t.remove(&[1; 6]));
        t.retain(|m| *m != [2; 6]);
        assert!(t.is_empty());
    }
}
