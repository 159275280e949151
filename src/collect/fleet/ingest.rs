//! One datagram's samples into the fleet's state: each flow sample's
//! share of its pool (per direction, BSS and station), each counter
//! sample's records.

use std::collections::HashMap;
use std::sync::Arc;

use super::super::sighting::{Direction, FlowView, Mac, Sighting};
use super::{
    credit, dot11_array, step, update32, update64, Agent, AgentKey, Bss, Dropped, FlowState,
    HostInfo, IfState, Limits, Now, Pending, RadioState, Source, StationKey, StationSeries, Step,
    Traffic, DOT11_ASSOCIATED_STATIONS, MAX_PENDING,
};
use crate::sflow::{source_kind, CounterRecord, CountersSample, FlowSample};

/// The fleet's parts one datagram updates, borrowed apart from its agent.
pub(super) struct Context<'f> {
    pub(super) limits: &'f Limits,
    pub(super) key: AgentKey,
    pub(super) stations: &'f mut HashMap<StationKey, StationSeries>,
    pub(super) series: &'f mut usize,
    pub(super) dropped: &'f mut Dropped,
    pub(super) ssids: &'f mut HashMap<Box<[u8]>, Arc<[u8]>>,
    pub(super) now: Now,
}

impl Context<'_> {
    /// The index of the agent's source for `if_index`, made if there is
    /// room.
    pub(super) fn source(&mut self, agent: &mut Agent, if_index: u32) -> Option<usize> {
        if let Some(i) = agent.sources.iter().position(|s| s.if_index == if_index) {
            agent.sources[i].last_seen_ms = self.now.mono_ms;
            return Some(i);
        }
        if *self.series >= self.limits.series {
            self.dropped.series += 1;
            return None;
        }
        *self.series += 1;
        agent.sources.push(Source::new(if_index, self.now));
        Some(agent.sources.len() - 1)
    }

    pub(super) fn ssid(&mut self, ssid: &[u8]) -> Arc<[u8]> {
        if let Some(s) = self.ssids.get(ssid) {
            return s.clone();
        }
        let s: Arc<[u8]> = Arc::from(ssid);
        self.ssids.insert(Box::from(ssid), s.clone());
        s
    }

    pub(super) fn flow_sample(&mut self, agent: &mut Agent, f: &FlowSample) {
        if f.source.kind != source_kind::IF_INDEX {
            return;
        }
        let Some(i) = self.source(agent, f.source.index) else {
            return;
        };
        let view = FlowView::of(f);
        if view.error {
            agent.decode_errors += 1;
        }
        let source = &mut agent.sources[i];
        let flow = source.flow.get_or_insert_with(FlowState::default);
        let fresh = flow.samples == 0 || std::mem::take(&mut flow.resync);
        let next = step(flow.sequence, f.sequence_number);
        if !fresh && next == Step::Restart {
            // The data source started again: what arrived before shares
            // the pool of before.
            source.settle(self.stations);
        }
        let flow = source.flow.get_or_insert_with(FlowState::default);
        let in_order = fresh
            || match next {
                Step::Next => true,
                Step::Gap(n) => {
                    flow.lost += u64::from(n);
                    true
                }
                Step::Duplicate => return,
                Step::Late => false,
                Step::Restart => {
                    flow.restarted();
                    true
                }
            };
        flow.samples += 1;
        flow.sampling_rate = f.sampling_rate;
        let mut fixed = !in_order;
        if in_order {
            flow.sequence = f.sequence_number;
            update32(&mut flow.pool, f.sample_pool, false);
            update32(&mut flow.drops, f.drops, false);
            if flow.anchor.is_none() && flow.latest.is_none() {
                if f.sequence_number == 1 {
                    // A data source that just started: its pool counted
                    // from 0, so its first sample has an interval too.
                    flow.anchor = Some((0, 0));
                    flow.latest = Some((1, f.sample_pool));
                } else {
                    // Met in the middle of its life: the pool is counted
                    // from this sample on.
                    flow.anchor = Some((f.sequence_number, f.sample_pool));
                    fixed = true;
                }
            } else {
                flow.latest = Some((f.sequence_number, f.sample_pool));
            }
        }

        let direction = view.direction(f, f.source.index);
        let bss = view.bss().filter(|(bssid, _)| *bssid != [0; 6]);
        if let (Some((bssid, ssid)), Some(record_channel)) = (
            bss,
            view.rx.map(|r| r.channel).or(view.tx.map(|t| t.channel)),
        ) {
            self.bss(agent, i, bssid, ssid, record_channel);
        }
        let class = self.class(agent, i, direction, bss);
        let station = if self.limits.station_series {
            view.sighting()
                .and_then(|s| self.sighting(f.source.index, &s))
        } else {
            None
        };
        let (station, direction) = match station {
            Some((key, d)) => (Some(key), d),
            None => (None, direction),
        };
        let frame_bytes = u64::from(view.frame_length());
        let source = &mut agent.sources[i];
        if fixed {
            let weight = f64::from(f.sampling_rate.max(1));
            let traffic = &mut source.traffic;
            credit(
                traffic,
                self.stations,
                class,
                station,
                direction,
                1,
                frame_bytes,
                weight,
            );
            return;
        }
        match source
            .pending
            .iter_mut()
            .find(|p| p.class == class && p.station == station && p.direction == direction)
        {
            Some(p) => {
                p.samples += 1;
                p.frame_bytes += frame_bytes;
            }
            None => {
                source.pending.push(Pending {
                    class,
                    station,
                    direction,
                    samples: 1,
                    frame_bytes,
                });
                if source.pending.len() > MAX_PENDING {
                    source.settle(self.stations);
                }
            }
        }
    }

    /// Updates the per-station series of a sighting; its key and the
    /// station's side of the traffic, unless the table is full.
    pub(super) fn sighting(
        &mut self,
        if_index: u32,
        s: &Sighting,
    ) -> Option<(StationKey, Direction)> {
        let now = self.now;
        let key = StationKey {
            agent: self.key,
            if_index,
            bssid: s.bssid,
            station: s.station,
        };
        if !self.stations.contains_key(&key) {
            if self.stations.len() >= self.limits.stations {
                self.dropped.stations += 1;
                return None;
            }
            let ssid = self.ssid(s.ssid);
            self.stations.insert(
                key,
                StationSeries {
                    ssid,
                    signal_dbm: None,
                    bitrate: [None; 2],
                    packets: [0.0; 2],
                    bytes: [0.0; 2],
                    last_seen_ms: now.mono_ms,
                    last_seen_unix_ms: now.unix_ms,
                },
            );
        }
        let ssid = match self.stations.get(&key) {
            Some(e) if !s.ssid.is_empty() && *e.ssid != *s.ssid => Some(self.ssid(s.ssid)),
            _ => None,
        };
        let entry = self.stations.get_mut(&key)?;
        if let Some(ssid) = ssid {
            entry.ssid = ssid;
        }
        if s.signal_dbm.is_some() {
            entry.signal_dbm = s.signal_dbm;
        }
        let d = usize::from(s.direction == Direction::Tx);
        if s.bitrate.is_some() {
            entry.bitrate[d] = s.bitrate;
        }
        entry.last_seen_ms = now.mono_ms;
        entry.last_seen_unix_ms = now.unix_ms;
        Some((key, s.direction))
    }

    pub(super) fn bss(
        &mut self,
        agent: &mut Agent,
        i: usize,
        bssid: Mac,
        ssid: &[u8],
        channel: u32,
    ) {
        let now = self.now.mono_ms;
        if let Some(b) = agent.sources[i].bsses.iter_mut().find(|b| b.bssid == bssid) {
            b.last_seen_ms = now;
            b.channel = channel;
            if *b.ssid != *ssid {
                b.ssid = self.ssid(ssid);
            }
            return;
        }
        if *self.series >= self.limits.series {
            self.dropped.series += 1;
            return;
        }
        *self.series += 1;
        let ssid = self.ssid(ssid);
        agent.sources[i].bsses.push(Bss {
            bssid,
            ssid,
            channel,
            last_seen_ms: now,
        });
    }

    /// The index of the traffic class for a direction and BSS; without
    /// room for a new BSS-labelled class, the direction's class without a
    /// BSS.
    pub(super) fn class(
        &mut self,
        agent: &mut Agent,
        i: usize,
        direction: Direction,
        bss: Option<(Mac, &[u8])>,
    ) -> usize {
        let now = self.now.mono_ms;
        let traffic = &mut agent.sources[i].traffic;
        let bssid = bss.map(|(b, _)| b);
        let ssid: &[u8] = bss.map_or(&[], |(_, s)| s);
        if let Some(k) = traffic
            .iter()
            .position(|t| t.direction == direction && t.bssid == bssid && *t.ssid == *ssid)
        {
            traffic[k].last_seen_ms = now;
            return k;
        }
        let (bssid, ssid) = if bssid.is_some() && *self.series >= self.limits.series {
            self.dropped.series += 1;
            (None, &[][..])
        } else {
            (bssid, ssid)
        };
        if bssid.is_some() {
            *self.series += 1;
        } else if let Some(k) = agent.sources[i]
            .traffic
            .iter()
            .position(|t| t.direction == direction && t.bssid.is_none())
        {
            return k;
        }
        let ssid = self.ssid(ssid);
        let traffic = &mut agent.sources[i].traffic;
        traffic.push(Traffic {
            direction,
            bssid,
            ssid,
            packets: 0.0,
            bytes: 0.0,
            samples: 0,
            last_seen_ms: now,
        });
        traffic.len() - 1
    }

    pub(super) fn counters_sample(&mut self, agent: &mut Agent, c: &CountersSample) {
        if c.source.kind != source_kind::IF_INDEX {
            // The host's own sample: only its description is used.
            for record in c.records.iter() {
                match record {
                    Ok(CounterRecord::HostDescr(h)) => {
                        let hostname = String::from_utf8_lossy(h.hostname);
                        let os_release = String::from_utf8_lossy(h.os_release);
                        let same = agent.host.as_ref().is_some_and(|x| {
                            *x.hostname == *hostname && *x.os_release == *os_release
                        });
                        if !same {
                            agent.host = Some(HostInfo {
                                hostname: hostname.into(),
                                os_release: os_release.into(),
                            });
                        }
                    }
                    Ok(_) => {}
                    Err(_) => {
                        agent.decode_errors += 1;
                        break;
                    }
                }
            }
            return;
        }
        let Some(i) = self.source(agent, c.source.index) else {
            return;
        };
        let s = &mut agent.sources[i];
        if let Some(last) = s.counter_sequence {
            match step(last, c.sequence_number) {
                Step::Gap(n) => s.counter_lost += u64::from(n),
                Step::Duplicate | Step::Late => return,
                Step::Restart => s.restarted = true,
                Step::Next => {}
            }
        }
        s.counter_sequence = Some(c.sequence_number);
        s.counter_samples += 1;
        let restarted = std::mem::take(&mut s.restarted);
        for record in c.records.iter() {
            match record {
                Ok(CounterRecord::Interface(x)) => {
                    let st = s.interface.get_or_insert_with(IfState::default);
                    st.speed = x.speed;
                    st.status = x.status;
                    update64(&mut st.in_octets, x.in_octets);
                    update64(&mut st.out_octets, x.out_octets);
                    let raw = [
                        x.in_ucast_pkts,
                        x.in_multicast_pkts,
                        x.in_broadcast_pkts,
                        x.in_discards,
                        x.in_errors,
                        x.in_unknown_protos,
                        x.out_ucast_pkts,
                        x.out_multicast_pkts,
                        x.out_broadcast_pkts,
                        x.out_discards,
                        x.out_errors,
                    ];
                    for (slot, v) in st.packets.iter_mut().zip(raw) {
                        update32(slot, v, restarted);
                    }
                }
                Ok(CounterRecord::Ethernet(x)) => {
                    let st = s.ethernet.get_or_insert([None; 13]);
                    let raw = [
                        x.alignment_errors,
                        x.fcs_errors,
                        x.single_collision_frames,
                        x.multiple_collision_frames,
                        x.sqe_test_errors,
                        x.deferred_transmissions,
                        x.late_collisions,
                        x.excessive_collisions,
                        x.internal_mac_transmit_errors,
                        x.carrier_sense_errors,
                        x.frame_too_longs,
                        x.internal_mac_receive_errors,
                        x.symbol_errors,
                    ];
                    for (slot, v) in st.iter_mut().zip(raw) {
                        update32(slot, v, restarted);
                    }
                }
                Ok(CounterRecord::Ieee80211(x)) => {
                    let st = s.dot11.get_or_insert([None; 20]);
                    let raw = dot11_array(&x);
                    for (k, (slot, v)) in st.iter_mut().zip(raw).enumerate() {
                        // dot11AssociatedStationCount is a gauge.
                        if k != DOT11_ASSOCIATED_STATIONS {
                            update32(slot, v, restarted);
                        }
                    }
                    s.associated_stations = (x.associated_station_count != u32::MAX)
                        .then_some(x.associated_station_count);
                }
                Ok(CounterRecord::RadioUtilization(x)) => {
                    let r = s.radio.get_or_insert_with(RadioState::default);
                    update32(&mut r.elapsed, x.elapsed_time, restarted);
                    update32(&mut r.on_channel, x.on_channel_time, restarted);
                    update32(&mut r.busy, x.on_channel_busy_time, restarted);
                    if let (Some(on), Some(busy)) = (r.on_channel, r.busy) {
                        let (on, busy) = (on.value(), busy.value());
                        match r.previous {
                            Some((on0, busy0)) if on > on0 && busy >= busy0 => {
                                let ratio = (busy - busy0) as f64 / (on - on0) as f64;
                                r.busy_ratio = Some(ratio.min(1.0));
                                r.previous = Some((on, busy));
                            }
                            // Not refreshed since (hostapd updates its
                            // figures every few seconds): keep the ratio.
                            Some((on0, _)) if on == on0 => {}
                            _ => r.previous = Some((on, busy)),
                        }
                    }
                }
                Ok(_) => {}
                Err(_) => {
                    agent.decode_errors += 1;
                    break;
                }
            }
        }
    }
}
