//! An access point in network namespaces, for the tests that run the agent
//! with stations from hostapd over ubus: `wlan0` (a veth standing for the
//! AP interface) in the AP's namespace, its peer `sta0` (the station) in
//! another, the BSS the fake hostapd announces on `wlan0`, and the agent's
//! configuration for it.

use std::path::Path;
use std::time::Duration;

use super::fake_hostapd::{mac_text, BssSpec, FakeHostapd, Mac};
use super::{veth, AgentProcess, Netns, TempConfig};

pub struct ApLab {
    pub ap: Netns,
    pub sta: Netns,
    /// The ifIndex of `wlan0`.
    pub wlan0: u32,
    pub ap_mac: Mac,
    pub sta_mac: Mac,
}

impl ApLab {
    /// Namespaces named from `ap_prefix` and `sta_prefix`; `wlan0` is
    /// 10.`net`.0.1/24, `sta0` 10.`net`.0.2/24, both up.
    pub fn new(ap_prefix: &str, sta_prefix: &str, net: u8) -> ApLab {
        let ap = Netns::new(ap_prefix);
        let sta = Netns::new(sta_prefix);
        veth(&ap, "wlan0", &sta, "sta0");
        ap.address_up("wlan0", &format!("10.{net}.0.1/24"));
        sta.address_up("sta0", &format!("10.{net}.0.2/24"));
        ApLab {
            wlan0: ap.if_index("wlan0"),
            ap_mac: ap.mac("wlan0"),
            sta_mac: sta.mac("sta0"),
            ap,
            sta,
        }
    }

    /// Static neighbour entries on both sides (the station's addresses
    /// `station` on wlan0, the AP's `ap` on sta0), so that no ARP frame is
    /// among the frames a test counts.
    pub fn static_neighbours(&self, ap: &str, station: &[&str]) {
        for address in station {
            self.ap.exec(&[
                "ip",
                "neigh",
                "add",
                address,
                "lladdr",
                &mac_text(&self.sta_mac),
                "dev",
                "wlan0",
            ]);
        }
        self.sta.exec(&[
            "ip",
            "neigh",
            "add",
            ap,
            "lladdr",
            &mac_text(&self.ap_mac),
            "dev",
            "sta0",
        ]);
    }

    /// The BSS on wlan0 (channel 36), as the fake hostapd announces it.
    pub fn bss(&self, ssid: &str) -> BssSpec {
        BssSpec {
            ifname: "wlan0".into(),
            bssid: self.ap_mac,
            ssid: ssid.into(),
            freq: 5180,
            channel: 36,
            phy: "phy0".into(),
        }
    }

    /// Starts the agent in the AP's namespace with [`ubus_ap_config`] and
    /// waits until it samples wlan0 and has subscribed to the fake
    /// hostapd's BSS there.
    pub fn start_agent(
        &self,
        fake: &FakeHostapd,
        ubus_socket: &Path,
        sampling_rate: u32,
        collector_port: u16,
    ) -> (AgentProcess, TempConfig) {
        let cfg = TempConfig::new(&ubus_ap_config(ubus_socket, sampling_rate, collector_port));
        let agent = AgentProcess::start(&self.ap, &cfg.path);
        assert!(agent.wait_for_log("sampling wlan0", Duration::from_secs(5)));
        assert!(
            fake.wait_subscribed("wlan0", Duration::from_secs(5)),
            "the agent subscribed to hostapd.wlan0"
        );
        (agent, cfg)
    }
}

/// The agent's configuration for the lab: wlan0 sampled 1-in-
/// `sampling_rate`, counters every second, stations from hostapd over the
/// ubus broker at `ubus_socket`, datagrams to 127.0.0.1:`collector_port`.
pub fn ubus_ap_config(ubus_socket: &Path, sampling_rate: u32, collector_port: u16) -> String {
    format!(
        "config agent 'agent'
	option sampling_rate '{sampling_rate}'
	option polling_interval '1'
	option ubus_socket '{}'
	list interface 'wlan0'

config collector
	option address '127.0.0.1'
	option port '{collector_port}'
",
        ubus_socket.display()
    )
}
