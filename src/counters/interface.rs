//! sFlow interface records from an rtnetlink [`Link`].
//!
//! The mapping follows hsflowd where the kernel cannot separate counters,
//! and the IEEE 802.3 correspondences documented for `struct
//! rtnl_link_stats64` in `include/uapi/linux/if_link.h`. A counter with no
//! documented equivalent is reported unavailable (0xFFFFFFFF) rather than
//! approximated.

use std::io::Read;
use std::path::Path;

use libc::{
    ARPHRD_ETHER, ARPHRD_IEEE80211, ARPHRD_IEEE80211_PRISM, ARPHRD_IEEE80211_RADIOTAP,
    ARPHRD_IPGRE, ARPHRD_LOOPBACK, ARPHRD_PPP, ARPHRD_SIT, ARPHRD_TUNNEL, ARPHRD_TUNNEL6,
};

use crate::netlink::{Link, IF_OPER_UNKNOWN, IF_OPER_UP};
use crate::sflow::{EthernetCounters, IfCounters, COUNTER32_UNAVAILABLE};

const IFF_UP: u32 = 0x1;
pub(crate) const IFF_LOOPBACK: u32 = 0x8;
const IFF_RUNNING: u32 = 0x40;
const IFF_PROMISC: u32 = 0x100;

// Link types (`ARPHRD_*`, linux/if_arp.h) come from libc, as every
// other kernel constant does; this one it lacks.
const ARPHRD_IP6GRE: u16 = 823;

/// IANAifType values used here.
pub mod iana_if_type {
    pub const OTHER: u32 = 1;
    pub const ETHERNET_CSMACD: u32 = 6;
    pub const PPP: u32 = 23;
    pub const SOFTWARE_LOOPBACK: u32 = 24;
    pub const IEEE80211: u32 = 71;
    pub const TUNNEL: u32 = 131;
    pub const L2VLAN: u32 = 135;
    pub const IEEE8023AD_LAG: u32 = 161;
    pub const BRIDGE: u32 = 209;
}

/// The low 32 bits: sFlow's 32-bit counters wrap like the kernel's.
fn c32(v: u64) -> u32 {
    v as u32
}

/// The `if_counters` record of `link`. `speed_bps` and `direction` come
/// from [`link_speed`] (or the configuration).
pub fn if_counters(link: &Link, speed_bps: u64, direction: u32) -> IfCounters {
    let s = &link.stats;
    let admin_up = link.flags & IFF_UP != 0;
    // Virtual devices (lo, veth, tun) never set an operstate and report
    // UNKNOWN; for them IFF_RUNNING (carrier) is the best evidence.
    let oper_up = link.oper_state == IF_OPER_UP
        || (link.oper_state == IF_OPER_UNKNOWN && link.flags & IFF_RUNNING != 0);
    IfCounters {
        if_index: link.if_index,
        if_type: if_type(link, is_wireless(&link.name)),
        speed: speed_bps,
        direction,
        status: u32::from(admin_up) | u32::from(oper_up) << 1,
        in_octets: s.rx_bytes,
        // Linux counts packets without telling unicast from the rest: like
        // hsflowd, every packet goes to ucast and multicast/broadcast are
        // unavailable. The `multicast` counter is kept by few drivers (and
        // often at the device, including frames the host never saw), so
        // subtracting it would make ucast wrong rather than precise.
        in_ucast_pkts: c32(s.rx_packets),
        in_multicast_pkts: COUNTER32_UNAVAILABLE,
        in_broadcast_pkts: COUNTER32_UNAVAILABLE,
        // rx_missed_errors are frames the NIC dropped for lack of buffers,
        // which IF-MIB counts as discards; /proc/net/dev (hsflowd's source)
        // folds the two the same way.
        in_discards: c32(s.rx_dropped.wrapping_add(s.rx_missed_errors)),
        in_errors: c32(s.rx_errors),
        // Frames for which no protocol handler exists (a distinct counter
        // from rx_dropped since Linux 4.6; 0 before).
        in_unknown_protos: c32(s.rx_nohandler),
        out_octets: s.tx_bytes,
        out_ucast_pkts: c32(s.tx_packets),
        out_multicast_pkts: COUNTER32_UNAVAILABLE,
        out_broadcast_pkts: COUNTER32_UNAVAILABLE,
        out_discards: c32(s.tx_dropped),
        out_errors: c32(s.tx_errors),
        // 1 = promiscuous, 0 = not: hsflowd's convention (readInterfaces.c
        // stores IFF_PROMISC as YES/NO and sends it as is), which is what
        // sFlow collectors see from every Linux host, rather than IF-MIB's
        // TruthValue (1 true, 2 false).
        promiscuous_mode: u32::from(link.flags & IFF_PROMISC != 0),
    }
}

/// The `ethernet_counters` record of `link`, from the 802.3 equivalences
/// that if_link.h documents for `rtnl_link_stats64`.
pub fn ethernet_counters(link: &Link) -> EthernetCounters {
    let s = &link.stats;
    EthernetCounters {
        // rx_frame_errors "should be equivalent to aAlignmentErrors".
        alignment_errors: c32(s.rx_frame_errors),
        // rx_crc_errors "must be equivalent to aFrameCheckSequenceErrors".
        fcs_errors: c32(s.rx_crc_errors),
        // `collisions` counts collisions, not frames with one or several.
        single_collision_frames: COUNTER32_UNAVAILABLE,
        multiple_collision_frames: COUNTER32_UNAVAILABLE,
        // tx_heartbeat_errors: "possibly equivalent to aSQETestErrors".
        sqe_test_errors: c32(s.tx_heartbeat_errors),
        deferred_transmissions: COUNTER32_UNAVAILABLE,
        // tx_window_errors "must be equivalent to aLateCollisions".
        late_collisions: c32(s.tx_window_errors),
        // tx_aborted_errors "must be equivalent to
        // aFramesAbortedDueToXSColls" for half-duplex capable devices; fast
        // NICs may use it as a generic discard counter.
        excessive_collisions: c32(s.tx_aborted_errors),
        // tx_fifo_errors (underruns) and rx_fifo_errors/rx_over_errors
        // (overflows) are close to the internal MAC errors but if_link.h
        // documents no equivalence, and drivers use them interchangeably.
        internal_mac_transmit_errors: COUNTER32_UNAVAILABLE,
        // tx_carrier_errors "must be equivalent to aCarrierSenseErrors".
        carrier_sense_errors: c32(s.tx_carrier_errors),
        // rx_length_errors is the sum of three 802.3 counters, of which
        // aFrameTooLongErrors is only one.
        frame_too_longs: COUNTER32_UNAVAILABLE,
        internal_mac_receive_errors: COUNTER32_UNAVAILABLE,
        symbol_errors: COUNTER32_UNAVAILABLE,
    }
}

/// The IANAifType of `link`; `wireless` from [`is_wireless`].
pub fn if_type(link: &Link, wireless: bool) -> u32 {
    use iana_if_type::*;
    if link.flags & IFF_LOOPBACK != 0 || link.hw_type == ARPHRD_LOOPBACK {
        return SOFTWARE_LOOPBACK;
    }
    // Wi-Fi interfaces are ARPHRD_ETHER: only sysfs tells them apart.
    if wireless {
        return IEEE80211;
    }
    match link.kind.as_deref() {
        Some("bridge") => return BRIDGE,
        Some("vlan") => return L2VLAN,
        Some("bond" | "team") => return IEEE8023AD_LAG,
        Some(
            "wireguard" | "ipip" | "sit" | "gre" | "gretap" | "ip6gre" | "ip6gretap" | "ip6tnl"
            | "vti" | "vti6" | "vxlan" | "geneve",
        ) => return TUNNEL,
        _ => {}
    }
    match link.hw_type {
        ARPHRD_ETHER => ETHERNET_CSMACD,
        ARPHRD_PPP => PPP,
        ARPHRD_TUNNEL | ARPHRD_TUNNEL6 | ARPHRD_SIT | ARPHRD_IPGRE | ARPHRD_IP6GRE => TUNNEL,
        ARPHRD_IEEE80211 | ARPHRD_IEEE80211_PRISM | ARPHRD_IEEE80211_RADIOTAP => IEEE80211,
        _ => OTHER,
    }
}

const SYS_CLASS_NET: &str = "/sys/class/net";

/// Speed in bit/s (0 unknown) and ifDirection (0 unknown, 1 full duplex,
/// 2 half duplex) of interface `name`, from sysfs.
pub fn link_speed(name: &str) -> (u64, u32) {
    link_speed_in(Path::new(SYS_CLASS_NET), name)
}

/// Whether `name` is an 802.11 interface (cfg80211 or wireless extensions).
pub fn is_wireless(name: &str) -> bool {
    is_wireless_in(Path::new(SYS_CLASS_NET), name)
}

/// An interface name that is safe to use as one path component.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/')
}

fn link_speed_in(class_net: &Path, name: &str) -> (u64, u32) {
    if !valid_name(name) {
        return (0, 0);
    }
    let dir = class_net.join(name);
    let mut buf = [0u8; 32];
    // Reading `speed` fails (EINVAL) while the link is down, and gives -1
    // when the driver does not know: both are "unknown" (-1 is no u64: the
    // parser the rest of the agent uses, not one more for i64).
    let speed = read_small(&dir.join("speed"), &mut buf)
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&mbps| mbps > 0)
        .map_or(0, |mbps| mbps.saturating_mul(1_000_000));
    let direction = match read_small(&dir.join("duplex"), &mut buf) {
        Some("full") => 1,
        Some("half") => 2,
        _ => 0,
    };
    (speed, direction)
}

fn is_wireless_in(class_net: &Path, name: &str) -> bool {
    if !valid_name(name) {
        return false;
    }
    let dir = class_net.join(name);
    dir.join("phy80211").exists() || dir.join("wireless").exists()
}

/// Reads a short sysfs value into `buf`, trimmed; `None` if unreadable.
fn read_small<'a>(path: &Path, buf: &'a mut [u8]) -> Option<&'a str> {
    let n = crate::sys::file::open_read(path, 0).ok()?.read(buf).ok()?;
    std::str::from_utf8(&buf[..n]).ok().map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::iana_if_type::*;
    use super::*;
    use crate::netlink::{LinkStats, IF_OPER_DOWN};

    fn link(name: &str, hw_type: u16, flags: u32, kind: Option<&str>) -> Link {
        Link {
            if_index: 4,
            name: name.into(),
            hw_type,
            flags,
            kind: kind.map(Into::into),
            ..Link::default()
        }
    }

    fn stats() -> LinkStats {
        LinkStats {
            rx_packets: (1 << 32) + 10,
            tx_packets: 20,
            rx_bytes: 5_000_000_000,
            tx_bytes: 6_000_000_000,
            rx_errors: 3,
            tx_errors: 4,
            rx_dropped: 5,
            tx_dropped: 6,
            multicast: 7,
            collisions: 8,
            rx_length_errors: 9,
            rx_over_errors: 10,
            rx_crc_errors: 11,
            rx_frame_errors: 12,
            rx_fifo_errors: 13,
            rx_missed_errors: 14,
            tx_aborted_errors: 15,
            tx_carrier_errors: 16,
            tx_fifo_errors: 17,
            tx_heartbeat_errors: 18,
            tx_window_errors: 19,
            rx_compressed: 20,
            tx_compressed: 21,
            rx_nohandler: 22,
            rx_otherhost_dropped: 23,
        }
    }

    #[test]
    fn interface_counters() {
        let mut l = link("no-such-if0", ARPHRD_ETHER, IFF_UP | IFF_RUNNING, None);
        l.oper_state = IF_OPER_UP;
        l.stats = stats();
        let c = if_counters(&l, 1_000_000_000, 1);
        let expected = IfCounters {
            if_index: 4,
            if_type: ETHERNET_CSMACD,
            speed: 1_000_000_000,
            direction: 1,
            status: 3,
            in_octets: 5_000_000_000,
            in_ucast_pkts: 10, // low 32 bits
            in_multicast_pkts: u32::MAX,
            in_broadcast_pkts: u32::MAX,
            in_discards: 5 + 14,
            in_errors: 3,
            in_unknown_protos: 22,
            out_octets: 6_000_000_000,
            out_ucast_pkts: 20,
            out_multicast_pkts: u32::MAX,
            out_broadcast_pkts: u32::MAX,
            out_discards: 6,
            out_errors: 4,
            promiscuous_mode: 0,
        };
        assert_eq!(c, expected);
    }

    #[test]
    fn status_and_promiscuity() {
        let status = |flags, oper| {
            let mut l = link("x", ARPHRD_ETHER, flags, None);
            l.oper_state = oper;
            if_counters(&l, 0, 0).status
        };
        assert_eq!(status(IFF_UP | IFF_RUNNING, IF_OPER_UP), 3);
        assert_eq!(status(IFF_UP, IF_OPER_DOWN), 1);
        assert_eq!(status(0, IF_OPER_DOWN), 0);
        // Loopback, veth, tun: operstate UNKNOWN, carrier says up.
        assert_eq!(status(IFF_UP | IFF_RUNNING, IF_OPER_UNKNOWN), 3);
        assert_eq!(status(IFF_UP, IF_OPER_UNKNOWN), 1);
        // IFF_RUNNING alone does not override a known DOWN state.
        assert_eq!(status(IFF_UP | IFF_RUNNING, IF_OPER_DOWN), 1);

        let l = link("x", ARPHRD_ETHER, IFF_UP | IFF_PROMISC, None);
        assert_eq!(if_counters(&l, 0, 0).promiscuous_mode, 1);
    }

    #[test]
    fn ethernet_mapping() {
        let mut l = link("eth0", ARPHRD_ETHER, 0, None);
        l.stats = stats();
        let e = ethernet_counters(&l);
        assert_eq!(e.alignment_errors, 12);
        assert_eq!(e.fcs_errors, 11);
        assert_eq!(e.sqe_test_errors, 18);
        assert_eq!(e.late_collisions, 19);
        assert_eq!(e.excessive_collisions, 15);
        assert_eq!(e.carrier_sense_errors, 16);
        for unavailable in [
            e.single_collision_frames,
            e.multiple_collision_frames,
            e.deferred_transmissions,
            e.internal_mac_transmit_errors,
            e.frame_too_longs,
            e.internal_mac_receive_errors,
            e.symbol_errors,
        ] {
            assert_eq!(unavailable, u32::MAX);
        }
    }

    #[test]
    fn interface_types() {
        let t = |hw, flags, kind, wireless| if_type(&link("x", hw, flags, kind), wireless);
        assert_eq!(
            t(ARPHRD_LOOPBACK, IFF_LOOPBACK, None, false),
            SOFTWARE_LOOPBACK
        );
        assert_eq!(t(ARPHRD_ETHER, 0, None, false), ETHERNET_CSMACD);
        assert_eq!(t(ARPHRD_ETHER, 0, None, true), IEEE80211);
        assert_eq!(t(ARPHRD_IEEE80211_RADIOTAP, 0, None, false), IEEE80211);
        assert_eq!(t(ARPHRD_ETHER, 0, Some("bridge"), false), BRIDGE);
        assert_eq!(t(ARPHRD_ETHER, 0, Some("vlan"), false), L2VLAN);
        assert_eq!(t(ARPHRD_ETHER, 0, Some("bond"), false), IEEE8023AD_LAG);
        assert_eq!(t(ARPHRD_ETHER, 0, Some("veth"), false), ETHERNET_CSMACD);
        assert_eq!(t(ARPHRD_ETHER, 0, Some("dsa"), false), ETHERNET_CSMACD);
        assert_eq!(t(ARPHRD_ETHER, 0, Some("vxlan"), false), TUNNEL);
        assert_eq!(t(65534, 0, Some("wireguard"), false), TUNNEL);
        assert_eq!(t(ARPHRD_SIT, 0, None, false), TUNNEL);
        assert_eq!(t(ARPHRD_PPP, 0, Some("ppp"), false), PPP);
        assert_eq!(t(65534, 0, Some("tun"), false), OTHER);
    }

    /// A fake /sys/class/net in a fresh temporary directory.
    struct FakeSys(std::path::PathBuf);

    impl FakeSys {
        fn new(tag: &str) -> FakeSys {
            let dir = std::env::temp_dir().join(format!("wsflowd-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            FakeSys(dir)
        }

        fn file(&self, rel: &str, text: &str) {
            let p = self.0.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    }

    impl Drop for FakeSys {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn speed_and_duplex_from_sysfs() {
        let sys = FakeSys::new("speed");
        sys.file("eth0/speed", "1000\n");
        sys.file("eth0/duplex", "full\n");
        sys.file("lan1/speed", "100\n");
        sys.file("lan1/duplex", "half\n");
        sys.file("wan/speed", "-1\n");
        sys.file("wan/duplex", "unknown\n");
        sys.file("bad/speed", "fast\n");
        sys.file("phy0-ap0/phy80211/name", "phy0\n");
        sys.file("wlan0/wireless/status", "0\n");
        let dir = &sys.0;
        assert_eq!(link_speed_in(dir, "eth0"), (1_000_000_000, 1));
        assert_eq!(link_speed_in(dir, "lan1"), (100_000_000, 2));
        assert_eq!(link_speed_in(dir, "wan"), (0, 0));
        assert_eq!(link_speed_in(dir, "bad"), (0, 0));
        assert_eq!(link_speed_in(dir, "missing"), (0, 0));
        assert_eq!(link_speed_in(dir, ".."), (0, 0));
        assert!(is_wireless_in(dir, "phy0-ap0"));
        assert!(is_wireless_in(dir, "wlan0"));
        assert!(!is_wireless_in(dir, "eth0"));
        assert!(!is_wireless_in(dir, "a/../phy0-ap0"));
        // The real sysfs: lo is neither fast nor wireless.
        assert!(!is_wireless("lo"));
        assert_eq!(link_speed("lo").1, 0);
    }
}
