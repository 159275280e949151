//! Counter polling: interface counters per data source and the host
//! structures, each on its own staggered schedule.

use crate::counters::host;
use crate::counters::interface;
use crate::netlink::Link;
use crate::sflow::{
    CounterRecord, CountersSample, DataSource, HostAdapter, HostAdapters, List, Mac,
};
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
        for s in &mut self.sources {
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
            let ethernet = interface::ethernet_counters(link);
            let both = [
                CounterRecord::Interface(ifc),
                CounterRecord::Ethernet(ethernet),
            ];
            // Ethernet counters only for wired Ethernet ports.
            let records = if link.hw_type == 1 && !wireless {
                &both[..]
            } else {
                &both[..1]
            };
            let sample = CountersSample {
                sequence_number: s.counter_sequence.advance(),
                source: DataSource::interface(if_index),
                records: List::Items(records),
            };
            if let Err(e) = self
                .packer
                .push_counters(&sample, uptime, &mut self.collectors)
            {
                warn!("{}: counter sample not sent: {}", s.device, e);
            }
        }
        if host_due {
            self.host_next_poll_ms = (self.host_next_poll_ms
                + interval_ms(self.config.agent.polling_interval))
            .max(now + 1);
            self.poll_host(&links, uptime);
        }
    }

    /// The host structures, in their own counter sample (collectors that do
    /// not know them, like tshark, then lose only that sample).
    fn poll_host(&mut self, links: &[Link], uptime: u32) {
        let adapters_found = host::adapters(links);
        let macs: Vec<Mac> = adapters_found.iter().map(|(_, mac)| Mac(*mac)).collect();
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
