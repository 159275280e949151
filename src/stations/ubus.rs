//! OpenWrt's hostapd over ubus, as a station source: what its
//! notifications and answers say, as [`Update`]s. The connection, the
//! objects and the subscriptions are the agent's ubus link
//! (`agent::ubus`); this module only reads hostapd's messages, so every
//! rule here is tested without a socket.
//!
//! hostapd's API (OpenWrt `hostapd/src/ap/ubus.c`):
//! - one object per BSS, `hostapd.<ifname>`, plus `hostapd`;
//! - methods `get_clients` → `{freq, clients: {"aa:bb:..": {auth, assoc,
//!   authorized, ht, vht, he, ..., rate: {rx, tx} (kbit/s), signal}}}`,
//!   `get_status` → `{bssid, ssid, freq, channel, phy, airtime: {time,
//!   time_busy, utilization}, ...}`;
//! - notifications to subscribers: `probe`, `auth`, `assoc` (requests: with
//!   `notify_response` set, hostapd waits up to 100 ms for the answers and a
//!   non-zero one refuses the station), `sta-authorized`, `disassoc`,
//!   `deauth`, `local-deauth`, `inactive-deauth`, with `{address, [ifname],
//!   [signal], [freq]}` (`ifname` only since late 2024);
//! - the `hostapd` object notifies `bss.add`, `bss.reload`, `bss.remove`
//!   `{name}`.

use super::{Airtime, BssReport, StationPhy, StationReport, Update};
use crate::mac::MacAddr;
use crate::ubus::blob::Attrs;

/// The prefix of hostapd's per-BSS ubus objects.
pub const BSS_PREFIX: &str = "hostapd.";

/// The interface name of a BSS object path (`hostapd.wlan0` → `wlan0`).
pub fn bss_ifname(path: &str) -> Option<&str> {
    path.strip_prefix(BSS_PREFIX).filter(|n| !n.is_empty())
}

/// What a notification of a BSS object says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StationEvent {
    /// Nothing we follow (probes, unknown kinds, a bad address).
    None,
    /// A station authenticated, associated or was authorized.
    Station {
        mac: MacAddr,
        report: StationReport,
        /// Associated: its rates come only with a listing, so list again.
        associated: bool,
    },
    /// A station left.
    Gone(MacAddr),
}

/// Reads a notification `kind` of a BSS object.
pub fn station_event(kind: &str, data: Attrs) -> StationEvent {
    let Some(mac) = data.get_str("address").and_then(MacAddr::parse) else {
        return StationEvent::None;
    };
    let signal_dbm = data.get_i64("signal").and_then(|s| i8::try_from(s).ok());
    let report = |associated: Option<bool>, authorized: Option<bool>| StationReport {
        associated,
        authorized,
        signal_dbm,
        ..StationReport::default()
    };
    match kind {
        "auth" => StationEvent::Station {
            mac,
            report: report(None, None),
            associated: false,
        },
        // A request: hostapd associates the station unless a steering
        // daemon refuses it; the next listing corrects that case.
        "assoc" => StationEvent::Station {
            mac,
            report: report(Some(true), None),
            associated: true,
        },
        "sta-authorized" => StationEvent::Station {
            mac,
            report: report(Some(true), Some(true)),
            associated: false,
        },
        "disassoc" | "deauth" | "local-deauth" | "inactive-deauth" => StationEvent::Gone(mac),
        _ => StationEvent::None,
    }
}

/// What a notification of the `hostapd` object says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BssEvent<'a> {
    None,
    /// A new (or reloaded) BSS: look it up.
    Added(&'a str),
    Removed(&'a str),
}

/// Reads a notification `kind` of the `hostapd` object.
pub fn bss_event<'a>(kind: &str, data: &Attrs<'a>) -> BssEvent<'a> {
    let name = data.get_str("name").unwrap_or("");
    match kind {
        _ if name.is_empty() => BssEvent::None,
        "bss.add" | "bss.reload" => BssEvent::Added(name),
        "bss.remove" => BssEvent::Removed(name),
        _ => BssEvent::None,
    }
}

/// The PHY from hostapd's capability flags of a station.
fn phy(c: &Attrs) -> StationPhy {
    if c.get_bool("he").unwrap_or(false) {
        StationPhy::He
    } else if c.get_bool("vht").unwrap_or(false) {
        StationPhy::Vht
    } else if c.get_bool("ht").unwrap_or(false) {
        StationPhy::Ht
    } else {
        StationPhy::Legacy
    }
}

/// Reads a `get_clients` answer of the BSS on `ifname`: an update per
/// station, then [`Update::Listed`] with all of them. `listed` is scratch
/// space (reused between calls).
pub fn clients(
    ifname: &str,
    answer: Attrs,
    listed: &mut Vec<MacAddr>,
    mut apply: impl FnMut(Update<'_>),
) {
    listed.clear();
    if let Some(freq_mhz) = answer.get_u32("freq") {
        apply(Update::Bss {
            ifname,
            report: BssReport {
                freq_mhz: Some(freq_mhz),
                ..BssReport::default()
            },
        });
    }
    let Some(table) = answer.get_table("clients") else {
        return;
    };
    for field in table.fields().flatten() {
        let (Some(mac), Some(c)) = (MacAddr::parse(field.name), field.value.as_table()) else {
            continue;
        };
        let rate = c.get_table("rate");
        let bytes = c.get_table("bytes");
        let report = StationReport {
            associated: Some(c.get_bool("assoc").unwrap_or(false)),
            authorized: Some(c.get_bool("authorized").unwrap_or(false)),
            signal_dbm: c.get_i64("signal").and_then(|v| i8::try_from(v).ok()),
            rx_rate_kbps: rate.as_ref().and_then(|r| r.get_u32("rx")),
            tx_rate_kbps: rate.as_ref().and_then(|r| r.get_u32("tx")),
            phy: Some(phy(&c)),
            rx_bytes: bytes.as_ref().and_then(|b| b.get_u64("rx")),
            tx_bytes: bytes.as_ref().and_then(|b| b.get_u64("tx")),
        };
        listed.push(mac);
        apply(Update::Station {
            ifname,
            mac,
            report,
        });
    }
    apply(Update::Listed {
        ifname,
        stations: listed,
    });
}

/// Reads a `get_status` answer: SSID, (configured) BSSID, channel, radio
/// and air time.
pub fn status(answer: Attrs) -> BssReport {
    let airtime = answer.get_table("airtime").and_then(|a| {
        Some(Airtime {
            time_ms: a.get_u64("time")?,
            busy_ms: a.get_u64("time_busy")?,
        })
    });
    BssReport {
        ssid: answer
            .get_str("ssid")
            .map(|s| s.as_bytes()[..s.len().min(32)].to_vec()),
        bssid: answer.get_str("bssid").and_then(MacAddr::parse),
        freq_mhz: answer.get_u32("freq"),
        channel: answer.get_u32("channel"),
        radio: answer.get_str("phy").map(str::to_owned),
        airtime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stations::{Source, StationTable};
    use crate::ubus::blob::BlobBuf;

    fn table(build: impl FnOnce(&mut BlobBuf)) -> BlobBuf {
        let mut b = BlobBuf::new();
        build(&mut b);
        b
    }

    fn event(address: &str, signal: Option<i32>) -> BlobBuf {
        table(|b| {
            b.string("address", address);
            if let Some(s) = signal {
                b.int32("signal", s);
            }
            b.int32("freq", 5180);
        })
    }

    const STA: &str = "02:00:00:00:01:01";
    const STA_MAC: MacAddr = MacAddr([2, 0, 0, 0, 1, 1]);

    #[test]
    fn notifications() {
        assert_eq!(
            station_event("assoc", event(STA, Some(-52)).attrs()),
            StationEvent::Station {
                mac: STA_MAC,
                report: StationReport {
                    associated: Some(true),
                    signal_dbm: Some(-52),
                    ..StationReport::default()
                },
                associated: true
            }
        );
        let auth = station_event("auth", event(STA, None).attrs());
        assert!(
            matches!(auth, StationEvent::Station { report, associated: false, .. } if report.associated.is_none())
        );
        for kind in ["disassoc", "deauth", "local-deauth", "inactive-deauth"] {
            assert_eq!(
                station_event(kind, event(STA, None).attrs()),
                StationEvent::Gone(STA_MAC)
            );
        }
        assert_eq!(
            station_event("probe", event(STA, None).attrs()),
            StationEvent::None
        );
        assert_eq!(
            station_event("assoc", event("nonsense", None).attrs()),
            StationEvent::None
        );
        let name = table(|b| b.string("name", "wlan1"));
        assert_eq!(
            bss_event("bss.add", &name.attrs()),
            BssEvent::Added("wlan1")
        );
        assert_eq!(
            bss_event("bss.reload", &name.attrs()),
            BssEvent::Added("wlan1")
        );
        assert_eq!(
            bss_event("bss.remove", &name.attrs()),
            BssEvent::Removed("wlan1")
        );
        assert_eq!(
            bss_event("bss.add", &BlobBuf::new().attrs()),
            BssEvent::None
        );
        assert_eq!(bss_ifname("hostapd.wlan0"), Some("wlan0"));
        assert_eq!(bss_ifname("hostapd"), None);
        assert_eq!(bss_ifname("hostapd."), None);
    }

    #[test]
    fn a_listing_replaces_the_stations_of_ubus() {
        let mut t = StationTable::default();
        t.apply(
            Source::Ubus,
            Update::Station {
                ifname: "wlan0",
                mac: MacAddr([2, 0, 0, 0, 0, 0x99]),
                report: StationReport {
                    associated: Some(true),
                    ..StationReport::default()
                },
            },
        );
        let answer = table(|b| {
            b.int32("freq", 2437);
            let clients = b.table_start("clients");
            for (mac, assoc) in [(STA, true), ("02:00:00:00:01:02", false)] {
                let c = b.table_start(mac);
                b.bool("auth", true);
                b.bool("assoc", assoc);
                b.bool("authorized", assoc);
                b.bool("ht", true);
                let r = b.table_start("rate");
                b.int32("rx", 144_400);
                b.int32("tx", 72_200);
                b.table_end(r);
                b.int32("signal", -61);
                b.table_end(c);
            }
            b.table_end(clients);
        });
        let mut scratch = Vec::new();
        clients("wlan0", answer.attrs(), &mut scratch, |u| {
            t.apply(Source::Ubus, u);
        });
        let bss = t.by_ifname("wlan0").unwrap();
        assert_eq!(bss.stations().count(), 2, "the stale station is gone");
        assert_eq!(bss.associated(), 1);
        assert_eq!(bss.freq_mhz(), Some((Source::Ubus, 2437)));
        let s = bss.station(&STA_MAC).unwrap();
        assert_eq!(
            (s.rx_rate_kbps(), s.tx_rate_kbps(), s.signal_dbm(), s.phy()),
            (Some(144_400), Some(72_200), Some(-61), Some(StationPhy::Ht))
        );
    }

    #[test]
    fn status_answers() {
        let answer = table(|b| {
            b.string("ssid", "OpenWrt");
            b.string("bssid", "02:aa:bb:cc:dd:ee");
            b.int32("freq", 5180);
            b.int32("channel", 36);
            b.string("phy", "phy1");
            let a = b.table_start("airtime");
            b.int32("time", 120_000);
            b.int32("time_busy", 30_000);
            b.int32("utilization", 25);
            b.table_end(a);
        });
        assert_eq!(
            status(answer.attrs()),
            BssReport {
                ssid: Some(b"OpenWrt".to_vec()),
                bssid: Some(MacAddr([0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee])),
                freq_mhz: Some(5180),
                channel: Some(36),
                radio: Some("phy1".into()),
                airtime: Some(Airtime {
                    time_ms: 120_000,
                    busy_ms: 30_000
                }),
            }
        );
    }
}
