//! Counter polling: interface counters per data source and the host
//! structures, each on its own staggered schedule.

use std::path::Path;

use crate::counters::dot11;
use crate::counters::host;
use crate::counters::interface;
use crate::mac::MacAddr;
use crate::netlink::Link;
use crate::sflow::{CounterRecord, CountersSample, DataSource, HostAdapter, HostAdapters, List};
use crate::warn;

use super::Agent;

impl Agent {
    /// Sends the counter samples that are due.
    pub(super) fn poll_counters(&mut self, now: u64) {
        let interval_ms = |s: u32| u64::from(s) * 1000;
        let host_due = self.config.agent.polling_interval > 0 && now >= self.host_next_poll_ms;
        let any_due = self.sources.iter().any(|s| {
            s.settings.polling_interval > 0 && s.if_index.is_some() && now >= s.next_poll_ms
        });
        if !host_due && !any_due {
            return;
        }
        let links = self.links();
        let uptime = now as u32;
        let radios = self.radio_reporters();
        for k in 0..self.sources.len() {
            let s = &mut self.sources[k];
            if s.settings.polling_interval == 0 || now < s.next_poll_ms {
                continue;
            }
            // Keep the schedule, without bursts after a stall.
            s.next_poll_ms =
                (s.next_poll_ms + interval_ms(s.settings.polling_interval)).max(now + 1);
            let Some(if_index) = s.if_index else {
                continue;
            };
            let Some(link) = links.iter().find(|l| l.if_index == if_index) else {
                continue;
            };
            let (speed, direction) = interface::link_speed(&link.name);
            let wireless = interface::is_wireless(&link.name);
            let mut ifc = interface::if_counters(link, speed, direction);
            ifc.if_type = interface::if_type(link, wireless);
            let mut records = Vec::with_capacity(4);
            records.push(CounterRecord::Interface(ifc));
            // Ethernet counters only for wired Ethernet ports.
            if link.hw_type == 1 && !wireless {
                records.push(CounterRecord::Ethernet(interface::ethernet_counters(link)));
            }
            let bss = self.stations.by_ifname(&link.name);
            // 802.11 counters for the AP's wireless interfaces (and any
            // interface hostapd serves a BSS on).
            if (wireless || bss.is_some()) && !s.is_monitor() {
                let stations = self
                    .nl80211
                    .as_mut()
                    .and_then(|n| n.station_dump(if_index).ok());
                let phy = bss
                    .and_then(|b| b.radio().map(|(_, r)| r.to_owned()))
                    .or_else(|| phy_name(&link.name));
                let debugfs = phy
                    .as_deref()
                    .and_then(|p| dot11::read_debugfs(Path::new(dot11::DEBUGFS_ROOT), p));
                // hostapd's station table; without it, the association
                // flags nl80211 reports; else unavailable.
                let associated = bss
                    .map(|b| b.associated())
                    .or_else(|| stations.as_deref().and_then(dot11::associated_count));
                let power = self
                    .nl80211
                    .as_mut()
                    .and_then(|n| n.interface_info(if_index).ok())
                    .and_then(|i| i.tx_power_mbm)
                    .map(|m| dot11::channel_power_mw(m.max(0) as u32));
                let s = &mut self.sources[k];
                if let Some(mw) = power {
                    s.tx_power_mw = mw;
                }
                let counters = s
                    .dot11
                    .update(stations.as_deref(), associated, debugfs.as_ref());
                records.push(CounterRecord::Ieee80211(counters));
                // Radio utilization once per radio: on its first interface.
                if radios.contains(&if_index) {
                    let survey = self
                        .nl80211
                        .as_mut()
                        .and_then(|n| n.survey_dump(if_index).ok())
                        .and_then(|v| dot11::radio_utilization(&v));
                    let from_hostapd = bss
                        .and_then(|b| b.airtime())
                        .and_then(|(_, a)| dot11::radio_utilization_hostapd(a.time_ms, a.busy_ms));
                    if let Some(r) = survey.or(from_hostapd) {
                        records.push(CounterRecord::RadioUtilization(r));
                    }
                }
            }
            let s = &mut self.sources[k];
            let sample = CountersSample {
                sequence_number: s.counter_sequence.advance(),
                source: DataSource::interface(if_index),
                records: List::Items(&records),
            };
            if let Err(e) = self
                .packer
                .push_counters(&sample, uptime, &mut self.collectors)
            {
                warn!("{}: counter sample not sent: {}", self.sources[k].device, e);
            }
        }
        if host_due {
            self.host_next_poll_ms = (self.host_next_poll_ms
                + interval_ms(self.config.agent.polling_interval))
            .max(now + 1);
            self.poll_host(&links, uptime);
        }
    }

    /// The interfaces that report their radio's utilization: per radio
    /// (hostapd's `phy`, else sysfs), the one with the smallest ifIndex;
    /// an interface whose radio is unknown reports its own.
    fn radio_reporters(&self) -> Vec<u32> {
        let mut first: Vec<(Option<String>, u32)> = Vec::new();
        for s in self.sources.iter().filter(|s| !s.is_monitor()) {
            let Some(if_index) = s.if_index else {
                continue;
            };
            let phy = self
                .stations
                .by_ifname(&s.device)
                .and_then(|b| b.radio().map(|(_, r)| r.to_owned()))
                .or_else(|| phy_name(&s.device));
            match first.iter_mut().find(|(p, _)| phy.is_some() && *p == phy) {
                Some((_, i)) => *i = (*i).min(if_index),
                None => first.push((phy, if_index)),
            }
        }
        first.into_iter().map(|(_, i)| i).collect()
    }

    /// The host structures, in their own counter sample (collectors that do
    /// not know them, like tshark, then lose only that sample).
    fn poll_host(&mut self, links: &[Link], uptime: u32) {
        let adapters_found = host::adapters(links);
        let macs: Vec<MacAddr> = adapters_found
            .iter()
            .map(|(_, mac)| MacAddr(*mac))
            .collect();
        let adapters: Vec<HostAdapter> = adapters_found
            .iter()
            .zip(macs.chunks(1))
            .map(|((if_index, _), mac)| HostAdapter {
                if_index: *if_index,
                mac_addresses: List::Items(mac),
            })
            .collect();
        let records = [
            CounterRecord::HostDescr(self.host_description.as_record()),
            CounterRecord::HostAdapters(HostAdapters {
                adapters: List::Items(&adapters),
            }),
            CounterRecord::HostCpu(self.host_reader.cpu()),
            CounterRecord::HostMemory(self.host_reader.memory()),
            CounterRecord::HostNetIo(host::net_io(links)),
        ];
        let sample = CountersSample {
            sequence_number: self.host_sequence.advance(),
            source: DataSource::HOST,
            records: List::Items(&records),
        };
        if let Err(e) = self
            .packer
            .push_counters(&sample, uptime, &mut self.collectors)
        {
            warn!("host counter sample not sent: {e}");
        }
    }
}

/// The radio (`phy0`...) of a wireless interface, from sysfs.
pub(super) fn phy_name(device: &str) -> Option<String> {
    std::fs::read_to_string(format!("/sys/class/net/{device}/phy80211/name"))
        .ok()
        .map(|p| p.trim().to_string())
}
