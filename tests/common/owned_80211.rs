//! Owned copies of the two 802.11 flow records, to keep what our decoder
//! read after the datagram's buffer is gone and compare it field by field
//! (the interoperability tests' model, the VM rig's decoded samples).

use wsflowd::sflow::{Extended80211Rx, Extended80211Tx};

/// `extended_80211_rx` (flow format 1014).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rx {
    pub ssid: Vec<u8>,
    pub bssid: [u8; 6],
    pub version: u32,
    pub channel: u32,
    pub speed: u64,
    pub rsni: u32,
    pub rcpi: u32,
    pub packet_duration: u32,
}

/// `extended_80211_tx` (flow format 1015).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tx {
    pub ssid: Vec<u8>,
    pub bssid: [u8; 6],
    pub version: u32,
    pub transmissions: u32,
    pub packet_duration: u32,
    pub retrans_duration: u32,
    pub channel: u32,
    pub speed: u64,
    pub power: u32,
}

impl From<&Extended80211Rx<'_>> for Rx {
    fn from(r: &Extended80211Rx<'_>) -> Rx {
        Rx {
            ssid: r.ssid.to_vec(),
            bssid: r.bssid,
            version: r.version.0,
            channel: r.channel,
            speed: r.speed,
            rsni: r.rsni,
            rcpi: r.rcpi,
            packet_duration: r.packet_duration,
        }
    }
}

impl From<&Extended80211Tx<'_>> for Tx {
    fn from(t: &Extended80211Tx<'_>) -> Tx {
        Tx {
            ssid: t.ssid.to_vec(),
            bssid: t.bssid,
            version: t.version.0,
            transmissions: t.transmissions,
            packet_duration: t.packet_duration,
            retrans_duration: t.retrans_duration,
            channel: t.channel,
            speed: t.speed,
            power: t.power,
        }
    }
}
