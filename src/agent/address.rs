//! Choosing the agent address that identifies this device to collectors.

use std::net::IpAddr;

use crate::config::AgentAddress;

/// An address configured on an interface, by the interface's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceAddress {
    pub interface: String,
    pub address: IpAddr,
}

/// Whether an address can identify the agent: not loopback, not
/// unspecified, not IPv6 link-local (ambiguous without a scope).
fn usable(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => !a.is_loopback() && !a.is_unspecified() && !a.is_link_local(),
        IpAddr::V6(a) => {
            !a.is_loopback() && !a.is_unspecified() && (a.segments()[0] & 0xffc0) != 0xfe80
        }
    }
}

/// The best address of one interface: its first IPv4 address, else its
/// first usable IPv6 address.
fn address_of(interface: &str, addresses: &[InterfaceAddress]) -> Option<IpAddr> {
    let mut on = addresses
        .iter()
        .filter(|a| a.interface == interface && usable(&a.address));
    let first = on.clone().find(|a| a.address.is_ipv4());
    first.or_else(|| on.next()).map(|a| a.address)
}

/// Chooses the agent address.
///
/// `Auto` takes the configured interfaces in order, then their bridge
/// masters (on OpenWrt the AP and wired ports sit in `br-lan`, which holds
/// the address), then any usable address of the host, IPv4 first.
/// `masters` gives the master device name of an interface, if any.
pub fn choose(
    spec: &AgentAddress,
    interfaces: &[String],
    addresses: &[InterfaceAddress],
    master_of: impl Fn(&str) -> Option<String>,
) -> Option<IpAddr> {
    match spec {
        AgentAddress::Fixed(ip) => Some(*ip),
        AgentAddress::Interface(name) => address_of(name, addresses),
        AgentAddress::Auto => interfaces
            .iter()
            .find_map(|i| address_of(i, addresses))
            .or_else(|| {
                interfaces
                    .iter()
                    .filter_map(|i| master_of(i))
                    .find_map(|m| address_of(&m, addresses))
            })
            .or_else(|| {
                let host = addresses.iter().filter(|a| usable(&a.address));
                host.clone()
                    .find(|a| a.address.is_ipv4())
                    .or_else(|| host.clone().next())
                    .map(|a| a.address)
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(interface: &str, address: &str) -> InterfaceAddress {
        InterfaceAddress {
            interface: interface.into(),
            address: address.parse().unwrap(),
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fixed_and_interface() {
        let addrs = [
            a("br-lan", "fe80::1"),
            a("br-lan", "2001:db8::1"),
            a("br-lan", "192.168.1.1"),
        ];
        let fixed: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(
            choose(&AgentAddress::Fixed(fixed), &[], &addrs, |_| None),
            Some(fixed)
        );
        assert_eq!(
            choose(
                &AgentAddress::Interface("br-lan".into()),
                &[],
                &addrs,
                |_| None
            ),
            Some("192.168.1.1".parse().unwrap())
        );
        assert_eq!(
            choose(&AgentAddress::Interface("eth9".into()), &[], &addrs, |_| {
                None
            }),
            None
        );
    }

    #[test]
    fn auto_prefers_configured_then_master_then_host() {
        let addrs = [
            a("lo", "127.0.0.1"),
            a("wan", "203.0.113.5"),
            a("br-lan", "192.168.1.1"),
            a("eth1", "2001:db8::7"),
        ];
        let master = |i: &str| (i == "wlan0").then(|| "br-lan".to_string());
        // An address on a configured interface wins, even IPv6.
        assert_eq!(
            choose(
                &AgentAddress::Auto,
                &names(&["wlan0", "eth1"]),
                &addrs,
                master
            ),
            Some("2001:db8::7".parse().unwrap())
        );
        // Else the bridge master of a configured interface.
        assert_eq!(
            choose(&AgentAddress::Auto, &names(&["wlan0"]), &addrs, master),
            Some("192.168.1.1".parse().unwrap())
        );
        // Else any usable host address, IPv4 first, never loopback.
        assert_eq!(
            choose(&AgentAddress::Auto, &names(&["wlan1"]), &addrs, |_| None),
            Some("203.0.113.5".parse().unwrap())
        );
        assert_eq!(
            choose(&AgentAddress::Auto, &[], &[a("lo", "127.0.0.1")], |_| None),
            None
        );
    }
}
