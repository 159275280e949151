//! Counter polling: each data source and the host on their own staggered
//! schedule. When some are due the kernel helper is asked for their
//! figures (link statistics, 802.11 station statistics, channel survey,
//! /proc); the samples are encoded when its answer comes.

use super::kernel::{CounterTarget, HostFigures, InterfaceFigures, Query};
use super::source::{Role, Traffic};
use super::Agent;
use crate::counters::dot11;
use crate::counters::interface;
use crate::mac::MacAddr;
use crate::sflow::{CounterRecord, CountersSample, DataSource, HostAdapter, HostAdapters, List};

/// Milliseconds of an interval in seconds.
fn interval_ms(s: u32) -> u64 {
    u64::from(s) * 1000
}

impl Agent {
    /// Asks for the figures of the sources (and the host) whose counters
    /// are due, unless an answer is still awaited (they stay due).
    pub(super) fn ask_counters(&mut self, now: u64) {
        if self.asked.counters {
            return;
        }
        let host_due = self.config.agent.polling_interval > 0 && now >= self.host.next_poll_ms;
        let radios = self.radio_reporters();
        let mut targets = Vec::new();
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
            targets.push(CounterTarget {
                if_index,
                wireless: matches!(s.role, Role::AccessPoint(_)),
                radio_reporter: radios.contains(&if_index),
            });
        }
        if host_due {
            self.host.next_poll_ms = (self.host.next_poll_ms
                + interval_ms(self.config.agent.polling_interval))
            .max(now + 1);
        }
        if targets.is_empty() && !host_due {
            return;
        }
        self.kernel.ask(Query::Counters {
            targets,
            host: host_due,
        });
        self.asked.counters = true;
    }

    /// The interfaces that report their radio's utilization: per radio
    /// (from the station table, else sysfs), the one with the smallest
    /// ifIndex; an interface whose radio is unknown reports its own.
    fn radio_reporters(&self) -> Vec<u32> {
        let mut first: Vec<(Option<String>, u32)> = Vec::new();
        for s in &self.sources {
            let (Some(if_index), Role::AccessPoint(_)) = (s.if_index, &s.role) else {
                continue;
            };
            let radio = self
                .wifi
                .stations
                .by_ifname(&s.device)
                .and_then(|b| b.radio().map(|(_, r)| r.to_owned()))
                .or_else(|| {
                    self.facts
                        .get(s.device.as_str())
                        .and_then(|f| f.radio.clone())
                });
            match first
                .iter_mut()
                .find(|(r, _)| radio.is_some() && *r == radio)
            {
                Some((_, i)) => *i = (*i).min(if_index),
                None => first.push((radio, if_index)),
            }
        }
        first.into_iter().map(|(_, i)| i).collect()
    }
}

/// Encodes the counter samples of what the kernel helper answered.
pub(super) fn emit(
    agent: &mut Agent,
    interfaces: Vec<InterfaceFigures>,
    host: Option<HostFigures>,
    now_ms: u32,
) {
    for f in interfaces {
        interface_sample(agent, f, now_ms);
    }
    if let Some(h) = host {
        host_sample(agent, h, now_ms);
    }
}

/// One interface's counter sample: `if_counters`, `ethernet_counters` on
/// wired Ethernet, `ieee80211_counters` and (once per radio)
/// `radio_utilization` on an access point's interface.
fn interface_sample(agent: &mut Agent, f: InterfaceFigures, now_ms: u32) {
    let Some(link) = &f.link else {
        return;
    };
    let if_index = f.target.if_index;
    // The source may have gone (or changed index) while the helper read.
    let Some(k) = agent
        .sources
        .iter()
        .position(|s| s.if_index == Some(if_index))
    else {
        return;
    };
    let wireless = f.facts.radio.is_some();
    let mut ifc = interface::if_counters(link, f.facts.speed_bps, f.facts.direction);
    ifc.if_type = interface::if_type(link, wireless);
    let mut records = Vec::with_capacity(4);
    records.push(CounterRecord::Interface(ifc));
    // Ethernet counters only for wired Ethernet ports.
    if link.hw_type == 1 && !wireless {
        records.push(CounterRecord::Ethernet(interface::ethernet_counters(link)));
    }
    let bss = agent.wifi.stations.by_ifname(&link.name);
    let s = &mut agent.sources[k];
    if let Role::AccessPoint(ap) = &mut s.role {
        // The association count from the station table (whichever
        // sources fed it), else the flags nl80211 reports; else
        // unavailable.
        let associated = bss
            .map(|b| b.associated())
            .or_else(|| f.stations.as_deref().and_then(dot11::associated_count));
        if let Some(mbm) = f.tx_power_mbm {
            ap.tx_power_mw = dot11::channel_power_mw(mbm.max(0) as u32);
        }
        let counters = ap
            .dot11
            .update(f.stations.as_deref(), associated, f.debugfs.as_ref());
        records.push(CounterRecord::Ieee80211(counters));
        if f.target.radio_reporter {
            let survey = f.survey.as_deref().and_then(dot11::radio_utilization);
            let from_hostapd = bss
                .and_then(|b| b.airtime())
                .and_then(|(_, a)| dot11::radio_utilization_hostapd(a.time_ms, a.busy_ms));
            let from = match (survey, from_hostapd) {
                (Some(r), _) => {
                    records.push(CounterRecord::RadioUtilization(r));
                    ap.radio = Some(r);
                    "survey"
                }
                (None, Some(r)) => {
                    records.push(CounterRecord::RadioUtilization(r));
                    ap.radio = Some(r);
                    "hostapd"
                }
                (None, None) => "unavailable",
            };
            if from == "unavailable" && ap.utilization != Some(from) {
                crate::info!(
                    "{}: radio_utilization not sent: the driver reports no channel survey for the operating channel (mac80211_hwsim: only around scans) and hostapd no air time",
                    link.name
                );
            }
            ap.utilization = Some(from);
        }
    }
    s.traffic = Some(Traffic {
        at_ms: u64::from(now_ms),
        rx_bytes: link.stats.rx_bytes,
        tx_bytes: link.stats.tx_bytes,
        rx_packets: link.stats.rx_packets,
        tx_packets: link.stats.tx_packets,
    });
    let sample = CountersSample {
        sequence_number: s.counter_sequence.advance(),
        source: DataSource::interface(if_index),
        records: List::Items(&records),
    };
    let device = s.device.clone();
    agent.out.counters(&sample, now_ms, &device);
}

/// The host structures, in their own counter sample (collectors that do
/// not know them, like tshark, then lose only that sample).
fn host_sample(agent: &mut Agent, h: HostFigures, now_ms: u32) {
    let macs: Vec<MacAddr> = h.adapters.iter().map(|(_, mac)| MacAddr(*mac)).collect();
    let adapters: Vec<HostAdapter> = h
        .adapters
        .iter()
        .zip(macs.chunks(1))
        .map(|((if_index, _), mac)| HostAdapter {
            if_index: *if_index,
            mac_addresses: List::Items(mac),
        })
        .collect();
    let records = [
        CounterRecord::HostDescr(agent.host.description.as_record()),
        CounterRecord::HostAdapters(HostAdapters {
            adapters: List::Items(&adapters),
        }),
        CounterRecord::HostCpu(h.cpu),
        CounterRecord::HostMemory(h.memory),
        CounterRecord::HostNetIo(h.net_io),
    ];
    let sample = CountersSample {
        sequence_number: agent.host.sequence.advance(),
        source: DataSource::HOST,
        records: List::Items(&records),
    };
    agent.out.counters(&sample, now_ms, "host");
}
