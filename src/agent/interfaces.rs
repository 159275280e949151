//! The interfaces behind the sources: which link each source is, its role
//! (wired, access point, monitor), the bridges' forwarding entries, the
//! kernel's stations and channels asked for, and the agent address chosen
//! from the links' addresses.

use super::kernel::{self, Query};
use super::source::monitor::OurBsses;
use super::source::{Role, RoleKind};
use super::{address, Agent};
use crate::config;
use crate::ip::Text;
use crate::netlink::{Event, EventsStatus, Link};
use crate::sflow::{PackerConfig, SampleForm};
use crate::stations::Source;
use crate::{info, warn};

impl Agent {
    /// Asks the kernel helper for the links and the bridges' forwarding
    /// databases afresh (at start, after a reload, after link changes or
    /// lost notifications); [`Agent::topology_read`] brings every source
    /// in line when the answer comes.
    pub(super) fn resync(&mut self) {
        if self.asked.topology {
            self.asked.topology_again = true;
            return;
        }
        // What sysfs says of the sampled interfaces and of those named in
        // monitors' BSS lists (their radios tell the monitors' BSSes).
        let mut facts_of: Vec<String> = Vec::with_capacity(self.sources.len());
        for s in &self.sources {
            facts_of.push(s.device.clone());
            for b in &s.settings.bss {
                if let config::Bss::Interface(name) = b {
                    facts_of.push(name.clone());
                }
            }
        }
        facts_of.sort();
        facts_of.dedup();
        self.kernel.ask(Query::Topology { facts_of });
        self.asked.topology = true;
    }

    /// The links and forwarding entries came.
    pub(super) fn topology_read(&mut self, t: kernel::Topology) {
        self.asked.topology = false;
        if let Some(links) = t.links {
            self.topology.set_links(&links);
            self.links = links;
        }
        if let Some(fdb) = &t.fdb {
            self.topology.set_fdb(fdb);
        }
        self.facts = t.facts.into_iter().collect();
        self.refresh_sources();
        if std::mem::take(&mut self.asked.topology_again) {
            self.resync();
        }
    }

    /// Matches every source with its interface (by name) and role, then
    /// opens the sockets that can be opened and gives every filter the
    /// current set of other sampled interfaces.
    pub(super) fn refresh_sources(&mut self) {
        if !self.config.agent.enabled {
            return;
        }
        let mut missing: Vec<&str> = Vec::new();
        let links = &self.links;
        for s in &mut self.sources {
            let newly_missing = match links.iter().find(|l| l.name == s.device) {
                Some(l) => s.set_index(Some(l.if_index), l.hw_type),
                None => s.set_index(None, 0),
            };
            if newly_missing {
                missing.push(&s.device);
            }
        }
        match missing.as_slice() {
            [] => {}
            [one] => warn!("interface {one} does not exist (yet): waiting for it"),
            many => warn!(
                "{} interfaces do not exist (yet): {}; waiting for them",
                many.len(),
                many.join(", ")
            ),
        }
        drop(missing);
        self.assign_roles();
        let links = &self.links;
        let ap_interfaces: Vec<String> = self
            .sources
            .iter()
            .filter(|s| !s.is_monitor() && s.if_index.is_some())
            .map(|s| s.device.clone())
            .collect();
        let facts = &self.facts;
        for s in self.sources.iter_mut() {
            let (settings, role) = (&s.settings, &mut s.role);
            let Role::Monitor(m) = role else {
                continue;
            };
            let ours = OurBsses::resolve(&settings.bss, &s.device, &ap_interfaces, links, |name| {
                facts.get(name).and_then(|f| f.radio.clone())
            });
            if ours != m.ours || !m.resolved {
                if ours.is_empty() && settings.foreign_bss == config::ForeignBss::Ignore {
                    // A sensor radio (no access point of ours on it) by
                    // default: every frame is another BSS's.
                    warn!(
                        "monitor {}: no BSS of ours on its radio, and frames of other BSSes are ignored (foreign_bss 'ignore'): nothing will be sampled; list the BSSes to report in 'bss', or set foreign_bss 'discard' to report every frame as a discard",
                        s.device
                    );
                }
                m.ours = ours;
                m.resolved = true;
            }
        }
        // The kernel's stations of the sampled interfaces that are APs.
        if self.config.agent.station_sources.contains(Source::Nl80211) && self.wifi.nl80211 {
            let followed: Vec<(u32, String)> = self
                .sources
                .iter()
                .filter(|s| !s.is_monitor())
                .filter_map(|s| Some((s.if_index?, s.device.clone())))
                .collect();
            let new = self
                .wifi
                .kernel_stations
                .set_interfaces(&followed, &mut self.wifi.stations);
            self.list_stations(new);
        }
        // The monitors' channels (for the frames they sent: radiotap names
        // none).
        let monitors = self.monitors();
        self.list_stations(monitors);
        // A frame leaving through any sampled interface that entered
        // through one (itself included: relayed back out of the radio it
        // came from) was a candidate where it entered.
        let sampled: Vec<u32> = self
            .sources
            .iter()
            .filter(|s| !s.is_monitor())
            .filter_map(|s| s.if_index)
            .collect();
        for k in 0..self.sources.len() {
            if self.sources[k].is_open() {
                self.sources[k].update_filter(&sampled);
            } else {
                let rate = self.speed_rate(&self.sources[k].device);
                self.sources[k].open(&sampled, rate);
            }
        }
        self.due.address_check_ms = 0;
    }

    /// Gives every source the role its link calls for: a monitor by its
    /// link type; an access point if it is an 802.11 interface or a BSS is
    /// known on it (hostapd may serve one on any interface); else wired.
    pub(super) fn assign_roles(&mut self) {
        for s in &mut self.sources {
            let kind = if s.is_monitor() {
                RoleKind::Monitor
            } else if self
                .facts
                .get(s.device.as_str())
                .is_some_and(|f| f.radio.is_some())
                || self.wifi.stations.by_ifname(&s.device).is_some()
            {
                RoleKind::AccessPoint
            } else {
                RoleKind::Wired
            };
            s.set_role(kind);
        }
    }

    /// The monitor interfaces that exist (index, name).
    pub(super) fn monitors(&self) -> Vec<(u32, String)> {
        if !self.wifi.nl80211 {
            return Vec::new();
        }
        self.sources
            .iter()
            .filter(|s| matches!(s.role, Role::Monitor(_)))
            .filter_map(|s| Some((s.if_index?, s.device.clone())))
            .collect()
    }

    /// A monitor whose radio nl80211 gave no channel for takes the channel
    /// of a BSS of ours on the same radio.
    pub(super) fn monitor_channels(&mut self) {
        for s in &mut self.sources {
            let Role::Monitor(m) = &mut s.role else {
                continue;
            };
            if m.operating_mhz.is_some() {
                continue;
            }
            let Some(radio) = self
                .facts
                .get(s.device.as_str())
                .and_then(|f| f.radio.as_deref())
            else {
                continue;
            };
            m.operating_mhz = self
                .wifi
                .stations
                .iter()
                .filter(|b| b.radio().is_some_and(|(_, r)| r == radio))
                .find_map(|b| b.freq_mhz())
                .and_then(|(_, f)| u16::try_from(f).ok());
        }
    }

    /// Asks nl80211 for the BSS and stations of these interfaces (now, or
    /// when the answer to the query under way came).
    pub(super) fn list_stations(&mut self, interfaces: Vec<(u32, String)>) {
        if interfaces.is_empty() {
            return;
        }
        if self.asked.stations {
            for i in interfaces {
                if !self.asked.stations_next.contains(&i) {
                    self.asked.stations_next.push(i);
                }
            }
            return;
        }
        self.kernel.ask(Query::Stations { interfaces });
        self.asked.stations = true;
    }

    /// Handles the link and forwarding changes the kernel announced.
    pub(super) fn handle_events(&mut self) {
        let Some(events) = &mut self.events else {
            return;
        };
        let mut relevant = false;
        let (topology, sources) = (&mut self.topology, &self.sources);
        let status = events.read(|event| match event {
            Event::LinkNew(link) => {
                topology.link_changed(&link);
                relevant |= sources
                    .iter()
                    .any(|s| s.device == link.name || s.if_index == Some(link.if_index));
            }
            Event::LinkDel { if_index, name } => {
                topology.link_removed(if_index);
                relevant |= sources
                    .iter()
                    .any(|s| s.device == name || s.if_index == Some(if_index));
            }
            Event::FdbNew(e) => topology.fdb_add(&e),
            Event::FdbDel(e) => topology.fdb_remove(&e),
        });
        match status {
            Ok(EventsStatus::Ok) if relevant => self.resync(),
            Ok(EventsStatus::Ok) => {}
            Ok(EventsStatus::Lost) => {
                info!("netlink events were lost: re-reading links and bridges");
                self.resync();
            }
            Err(e) => {
                warn!("netlink events: {e}; re-reading links and bridges");
                self.resync();
            }
        }
    }

    /// Chooses the agent address and the sample form from the links and
    /// addresses the kernel helper read; reconfigures the packer (flushing
    /// pending samples) when either changes.
    pub(super) fn update_packer(
        &mut self,
        links: &[Link],
        addresses: &[crate::netlink::Address],
        now: u64,
    ) {
        let addresses: Vec<address::InterfaceAddress> = addresses
            .iter()
            .filter_map(|a| {
                let link = links.iter().find(|l| l.if_index == a.if_index)?;
                Some(address::InterfaceAddress {
                    interface: link.name.clone(),
                    address: a.address,
                })
            })
            .collect();
        let devices: Vec<String> = self.sources.iter().map(|s| s.device.clone()).collect();
        let master_of = |name: &str| {
            let master = links.iter().find(|l| l.name == name)?.master?;
            links
                .iter()
                .find(|l| l.if_index == master)
                .map(|l| l.name.clone())
        };
        let chosen = address::choose(
            &self.config.agent.agent_address,
            &devices,
            &addresses,
            master_of,
        );
        // Every ifIndex that can appear in a sample: sources, bridge ports.
        let max_index = links.iter().map(|l| l.if_index).max().unwrap_or(0);
        let config = PackerConfig {
            agent_address: chosen,
            sub_agent_id: self.config.agent.sub_agent_id,
            max_datagram_bytes: self.config.agent.datagram_bytes as usize,
            form: SampleForm::for_max_if_index(max_index),
        };
        let old = *self.out.packer.config();
        if old.agent_address != chosen || !self.agent_address_chosen {
            self.agent_address_chosen = true;
            match chosen {
                Some(ip) => info!("agent address {}", Text(ip)),
                None => warn!(
                    "no address found for the agent: datagrams carry an unknown agent address"
                ),
            }
        }
        if old.form != config.form {
            info!(
                "using {} samples (largest ifIndex {max_index})",
                config.form.name()
            );
        }
        self.out
            .packer
            .reconfigure(config, now as u32, &mut self.out.collectors);
    }
}
