//! What `wsflowd collect --prometheus` knows about a fleet of agents: per
//! agent, its datagram stream (sequence gaps, restarts, uptime) and, per
//! data source, the counters it reports and the traffic its flow samples
//! stand for. [`super::metrics`] renders a [`Snapshot`] of it.
//!
//! # Counters
//!
//! The agents' counters are kept as the agents report them, with the
//! 32-bit wraps undone (a `u32` counter that goes down within a session has
//! wrapped). A counter the agent marks unavailable (all ones) has no value,
//! so its series is absent. After the agent restarts (its uptime went back,
//! or its datagram sequence restarted) or a data source restarts (its
//! sample sequence restarted), a counter that went down started again:
//! its value is what the agent sends, which Prometheus sees as a counter
//! reset; one that kept counting (the kernel's interface counters outlive
//! the agent) just continues.
//!
//! # Traffic estimates
//!
//! Each flow sample stands for `Δsample_pool / Δsequence_number` packets:
//! the packets that could have been sampled since the previous sample of
//! its data source, shared among the samples taken meanwhile (those lost
//! on the way included, so lost datagrams lower the estimate instead of
//! skewing it). The share is computed over all the samples of a data
//! source that arrived within a second (shares are settled once a second,
//! and before each scrape), not sample by sample: an agent may give the
//! samples of one batch consecutive pool values ending at the batch's pool
//! (early wsflowd builds did, with batches of about 100 samples at
//! 1,500 samples/s), so sample by sample the first of a batch would stand
//! for the whole batch and the others for one packet each. The first
//! sample of a data source that just started (sequence number 1) shares its
//! pool from 0, so the estimates add up to the pool; samples whose interval
//! is unknown (the first one seen of a data source met in the middle of its
//! life, late ones) stand for `sampling_rate` packets. Bytes are the same
//! weight times the sampled frame's length. The estimates are accumulated
//! per data source, direction and BSS.
//!
//! # Bounds
//!
//! Memory is bounded by [`Limits`]: at most `agents` agents, `series`
//! data sources, BSS-labelled traffic classes and BSSes in all, and
//! `stations` per-station series; what does not fit is counted in
//! [`Dropped`]. Agents, data sources and BSSes not heard from for
//! `agent_ttl_ms`, stations for `station_ttl_ms`, are forgotten.
//!
//! Nothing here allocates per datagram once agents, sources and classes
//! exist.

mod ingest;

use ingest::Context;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::sighting::{Direction, Mac};
use crate::sflow::{Datagram, DecodeError, Sample};

/// Bounds on what is kept (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub agents: usize,
    pub series: usize,
    pub stations: usize,
    pub agent_ttl_ms: u64,
    pub station_ttl_ms: u64,
    /// Keep per-station series (`--prometheus-stations`).
    pub station_series: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            agents: 10_000,
            series: 100_000,
            stations: 10_000,
            agent_ttl_ms: 900_000,
            station_ttl_ms: 300_000,
            station_series: false,
        }
    }
}

/// The identity of an agent: its address and sub-agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentKey {
    /// `None` for an agent that says its address is unknown.
    pub address: Option<IpAddr>,
    pub sub_agent: u32,
}

/// The time of an event: monotonic for ages, Unix time for timestamps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Now {
    pub mono_ms: u64,
    pub unix_ms: u64,
}

/// A 32-bit counter with its wraps undone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter32 {
    last: u32,
    wraps: u64,
}

impl Counter32 {
    pub fn value(&self) -> u64 {
        (self.wraps << 32) + u64::from(self.last)
    }

    /// A new reading; `restarted`: the agent or data source restarted
    /// since the previous one, so a lower value is a reset, not a wrap.
    fn update(&mut self, raw: u32, restarted: bool) {
        if raw < self.last {
            if restarted {
                self.wraps = 0;
            } else {
                self.wraps += 1;
            }
        }
        self.last = raw;
    }
}

/// Updates a counter slot from a record field; all ones = unavailable.
fn update32(slot: &mut Option<Counter32>, raw: u32, restarted: bool) {
    if raw == u32::MAX {
        *slot = None;
        return;
    }
    match slot {
        Some(c) => c.update(raw, restarted),
        None => {
            *slot = Some(Counter32 {
                last: raw,
                wraps: 0,
            })
        }
    }
}

fn update64(slot: &mut Option<u64>, raw: u64) {
    *slot = (raw != u64::MAX).then_some(raw);
}

/// Pending shares (distinct classes and stations) of a data source beyond
/// which its shares are settled before the second is over.
pub const MAX_PENDING: usize = 256;

/// Datagrams (or samples) this many sequence numbers behind the latest are
/// late arrivals; further behind, the sequence restarted.
const REORDER_WINDOW: u32 = 64;
/// Uptime that went back by more than this (and did not wrap) means the
/// agent restarted. Datagrams are sent at most a second apart, so a late
/// one is never this far behind.
const UPTIME_BACK_MS: u32 = 2_000;
/// Near the end of the 32-bit millisecond uptime (49.7 days), going back
/// to near 0 is a wrap.
const UPTIME_WRAP_MARGIN_MS: u32 = 600_000;

/// How a sequence number follows the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Next,
    /// This many sequence numbers were skipped.
    Gap(u32),
    /// Seen already.
    Duplicate,
    /// Behind the latest, within the reorder window.
    Late,
    /// Far behind: the sequence started again.
    Restart,
}

fn step(last: u32, seq: u32) -> Step {
    let d = seq.wrapping_sub(last);
    match d {
        0 => Step::Duplicate,
        1 => Step::Next,
        d if d < 1 << 31 => Step::Gap(d - 1),
        d if d.wrapping_neg() <= REORDER_WINDOW => Step::Late,
        _ => Step::Restart,
    }
}

/// An agent's host, from `host_descr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    pub hostname: Arc<str>,
    pub os_release: Arc<str>,
}

/// One agent (address + sub-agent).
#[derive(Debug, Clone)]
pub struct Agent {
    pub sequence: u32,
    pub uptime_ms: u32,
    pub uptime_wraps: u32,
    pub datagrams: u64,
    pub bytes: u64,
    /// Datagrams missing from the sequence when later ones arrived.
    pub lost: u64,
    /// Datagrams that arrived after a later one (counted in `lost` when
    /// their gap was seen), and duplicates.
    pub out_of_order: u64,
    pub restarts: u64,
    /// Samples or records that did not decode.
    pub decode_errors: u64,
    pub last_seen_ms: u64,
    pub last_seen_unix_ms: u64,
    pub host: Option<HostInfo>,
    pub sources: Vec<Source>,
}

impl Agent {
    fn new(now: Now) -> Agent {
        Agent {
            sequence: 0,
            uptime_ms: 0,
            uptime_wraps: 0,
            datagrams: 0,
            bytes: 0,
            lost: 0,
            out_of_order: 0,
            restarts: 0,
            decode_errors: 0,
            last_seen_ms: now.mono_ms,
            last_seen_unix_ms: now.unix_ms,
            host: None,
            sources: Vec::new(),
        }
    }

    pub fn uptime_seconds(&self) -> f64 {
        ((u64::from(self.uptime_wraps) << 32) + u64::from(self.uptime_ms)) as f64 / 1000.0
    }
}

/// The `if_counters` of a data source.
#[derive(Debug, Clone, Default)]
pub struct IfState {
    pub speed: u64,
    pub status: u32,
    pub in_octets: Option<u64>,
    pub out_octets: Option<u64>,
    /// in ucast, multicast, broadcast, discards, errors, unknown protos;
    /// out ucast, multicast, broadcast, discards, errors.
    pub packets: [Option<Counter32>; 11],
}

/// The `radio_utilization` of a radio (reported on one of its interfaces).
#[derive(Debug, Clone, Default)]
pub struct RadioState {
    pub elapsed: Option<Counter32>,
    pub on_channel: Option<Counter32>,
    pub busy: Option<Counter32>,
    /// Busy / on-channel time between the last two readings that differ.
    pub busy_ratio: Option<f64>,
    previous: Option<(u64, u64)>,
}

/// Flow-sample bookkeeping of a data source.
#[derive(Debug, Clone, Default)]
pub struct FlowState {
    pub sequence: u32,
    pub samples: u64,
    /// Sequence numbers skipped (samples lost on the way).
    pub lost: u64,
    pub sampling_rate: u32,
    pub pool: Option<Counter32>,
    pub drops: Option<Counter32>,
    /// (sequence, pool) of the last sample whose share was settled.
    anchor: Option<(u32, u32)>,
    /// (sequence, pool) of the latest in-order sample not yet settled.
    latest: Option<(u32, u32)>,
    /// The agent restarted: the next sample starts the sequence again.
    resync: bool,
}

/// Estimated traffic of one class: a direction and a BSS (or none).
#[derive(Debug, Clone)]
pub struct Traffic {
    pub direction: Direction,
    pub bssid: Option<Mac>,
    pub ssid: Arc<[u8]>,
    pub packets: f64,
    pub bytes: f64,
    pub samples: u64,
    pub last_seen_ms: u64,
}

/// A BSS seen in a data source's 802.11 records.
#[derive(Debug, Clone)]
pub struct Bss {
    pub bssid: Mac,
    pub ssid: Arc<[u8]>,
    pub channel: u32,
    pub last_seen_ms: u64,
}

/// Samples of one class (and station, and direction) waiting for their
/// share of the pool (see the module's documentation).
#[derive(Debug, Clone, Copy)]
struct Pending {
    class: usize,
    station: Option<StationKey>,
    direction: Direction,
    samples: u32,
    frame_bytes: u64,
}

/// Adds `samples` samples of `frame_bytes` bytes in all, each standing for
/// `weight` packets, to their class and station.
#[allow(clippy::too_many_arguments)]
fn credit(
    traffic: &mut [Traffic],
    stations: &mut HashMap<StationKey, StationSeries>,
    class: usize,
    station: Option<StationKey>,
    direction: Direction,
    samples: u32,
    frame_bytes: u64,
    weight: f64,
) {
    let (packets, bytes) = (weight * f64::from(samples), weight * frame_bytes as f64);
    if let Some(t) = traffic.get_mut(class) {
        t.packets += packets;
        t.bytes += bytes;
        t.samples += u64::from(samples);
    }
    if let Some(st) = station.and_then(|k| stations.get_mut(&k)) {
        let d = usize::from(direction == Direction::Tx);
        st.packets[d] += packets;
        st.bytes[d] += bytes;
    }
}

/// One data source (an ifIndex) of an agent.
#[derive(Debug, Clone)]
pub struct Source {
    pub if_index: u32,
    pub last_seen_ms: u64,
    /// Set when the agent or this source restarted; cleared by the next
    /// counter sample.
    restarted: bool,
    pub flow: Option<FlowState>,
    pub counter_sequence: Option<u32>,
    pub counter_samples: u64,
    pub counter_lost: u64,
    pub interface: Option<IfState>,
    pub ethernet: Option<[Option<Counter32>; 13]>,
    pub dot11: Option<[Option<Counter32>; 20]>,
    pub associated_stations: Option<u32>,
    pub radio: Option<RadioState>,
    pub traffic: Vec<Traffic>,
    pub bsses: Vec<Bss>,
    pending: Vec<Pending>,
}

impl Source {
    fn new(if_index: u32, now: Now) -> Source {
        Source {
            if_index,
            last_seen_ms: now.mono_ms,
            restarted: false,
            flow: None,
            counter_sequence: None,
            counter_samples: 0,
            counter_lost: 0,
            interface: None,
            ethernet: None,
            dot11: None,
            associated_stations: None,
            radio: None,
            traffic: Vec::new(),
            bsses: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Series this source holds against [`Limits::series`].
    fn series(&self) -> usize {
        1 + self.bsses.len() + self.traffic.iter().filter(|t| t.bssid.is_some()).count()
    }

    /// The agent restarted: sequences start again.
    fn restart(&mut self) {
        self.restarted = true;
        self.counter_sequence = None;
        if let Some(f) = &mut self.flow {
            f.resync = true;
            f.restarted();
        }
    }

    /// Gives the pending samples their share of the pool and adds them to
    /// their classes (see the module's documentation).
    fn settle(&mut self, stations: &mut HashMap<StationKey, StationSeries>) {
        let Some(flow) = &mut self.flow else {
            return;
        };
        let interval = match (flow.anchor, flow.latest) {
            (Some((seq0, pool0)), Some((seq, pool))) => {
                let samples = seq.wrapping_sub(seq0);
                let packets = pool.wrapping_sub(pool0);
                (samples > 0 && samples < 1 << 31 && packets >= samples && packets < 1 << 31)
                    .then(|| f64::from(packets) / f64::from(samples))
            }
            _ => None,
        };
        if flow.latest.is_some() {
            flow.anchor = flow.latest.take();
        }
        let weight = interval.unwrap_or(f64::from(flow.sampling_rate.max(1)));
        for p in self.pending.drain(..) {
            credit(
                &mut self.traffic,
                stations,
                p.class,
                p.station,
                p.direction,
                p.samples,
                p.frame_bytes,
                weight,
            );
        }
    }
}

impl FlowState {
    /// The sample sequence restarted: no earlier sample shares a pool with
    /// the next ones, and the next pool and drops readings may be lower
    /// without having wrapped.
    fn restarted(&mut self) {
        self.anchor = None;
        self.latest = None;
        for c in [&mut self.pool, &mut self.drops].into_iter().flatten() {
            // A reading from 0 on: whatever comes next is not a wrap.
            *c = Counter32 { last: 0, wraps: 0 };
        }
    }
}

/// Per-station series (`--prometheus-stations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StationKey {
    pub agent: AgentKey,
    pub if_index: u32,
    pub bssid: Mac,
    pub station: Mac,
}

#[derive(Debug, Clone)]
pub struct StationSeries {
    pub ssid: Arc<[u8]>,
    pub signal_dbm: Option<i32>,
    /// PHY rate of the latest frame from (`[0]`) and to (`[1]`) it.
    pub bitrate: [Option<u64>; 2],
    pub packets: [f64; 2],
    pub bytes: [f64; 2],
    pub last_seen_ms: u64,
    pub last_seen_unix_ms: u64,
}

/// What did not fit in the [`Limits`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Datagrams of agents beyond `agents`.
    pub agents: u64,
    /// Samples and records whose data source, BSS or traffic class did not
    /// fit in `series` (a flow sample's traffic is then counted without its
    /// BSS).
    pub series: u64,
    /// Station sightings not kept: the per-station table was full.
    pub stations: u64,
}

/// The fleet's state.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub limits: Limits,
    pub agents: HashMap<AgentKey, Agent>,
    pub stations: HashMap<StationKey, StationSeries>,
    /// Data sources, BSS-labelled classes and BSSes in use.
    pub series: usize,
    pub datagrams: u64,
    /// Datagrams that did not decode.
    pub decode_errors: u64,
    pub dropped: Dropped,
    /// Interned SSIDs: each distinct one allocated once.
    ssids: HashMap<Box<[u8]>, Arc<[u8]>>,
}

/// A consistent copy of the fleet's state for one scrape, taken on the
/// receive path (a clone, cheap next to rendering it).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub limits: Limits,
    pub now: Now,
    pub agents: Vec<(AgentKey, Agent)>,
    pub stations: Vec<(StationKey, StationSeries)>,
    pub datagrams: u64,
    pub decode_errors: u64,
    pub dropped: Dropped,
    pub series: usize,
    /// Datagrams the kernel dropped for lack of socket buffer, if known.
    pub socket_drops: Option<u64>,
}

impl Fleet {
    pub fn new(limits: Limits) -> Fleet {
        Fleet {
            limits,
            agents: HashMap::new(),
            stations: HashMap::new(),
            series: 0,
            datagrams: 0,
            decode_errors: 0,
            dropped: Dropped::default(),
            ssids: HashMap::new(),
        }
    }

    /// Takes in one datagram. A datagram that does not decode is counted
    /// and its error returned; a sample that does not decode is counted
    /// against its agent and ends the datagram.
    pub fn datagram(&mut self, bytes: &[u8], now: Now) -> Result<(), DecodeError> {
        self.datagrams += 1;
        let datagram = match Datagram::parse(bytes) {
            Ok(d) => d,
            Err(e) => {
                self.decode_errors += 1;
                return Err(e);
            }
        };
        let key = AgentKey {
            address: datagram.agent_address,
            sub_agent: datagram.sub_agent_id,
        };
        let Fleet {
            limits,
            agents,
            stations,
            series,
            dropped,
            ssids,
            ..
        } = self;
        let agent = match agents.get_mut(&key) {
            Some(a) => {
                if a.track(datagram.sequence_number, datagram.uptime) {
                    for s in &mut a.sources {
                        // What arrived before the restart shares the
                        // pool of before.
                        s.settle(stations);
                        s.restart();
                    }
                }
                a
            }
            None => {
                if agents.len() >= limits.agents {
                    dropped.agents += 1;
                    return Ok(());
                }
                let a = agents.entry(key).or_insert_with(|| Agent::new(now));
                a.sequence = datagram.sequence_number;
                a.uptime_ms = datagram.uptime;
                a
            }
        };
        agent.datagrams += 1;
        agent.bytes += bytes.len() as u64;
        agent.last_seen_ms = now.mono_ms;
        agent.last_seen_unix_ms = now.unix_ms;
        let mut ctx = Context {
            limits,
            key,
            stations,
            series,
            dropped,
            ssids,
            now,
        };
        let mut error = None;
        for sample in datagram.samples.iter() {
            match sample {
                Ok(Sample::Flow(_, f)) => ctx.flow_sample(agent, &f),
                Ok(Sample::Counters(_, c)) => ctx.counters_sample(agent, &c),
                Ok(Sample::Unknown { .. }) => {}
                Err(e) => {
                    agent.decode_errors += 1;
                    error = Some(e);
                    break;
                }
            }
        }
        error.map_or(Ok(()), Err)
    }

    /// Forgets agents, sources, BSSes and stations past their time.
    pub fn expire(&mut self, now: Now) {
        self.settle();
        let agent_ttl = self.limits.agent_ttl_ms;
        let idle = |last: u64| now.mono_ms.saturating_sub(last) > agent_ttl;
        let mut freed = 0;
        self.agents.retain(|_, a| {
            if idle(a.last_seen_ms) {
                freed += a.sources.iter().map(Source::series).sum::<usize>();
                return false;
            }
            a.sources.retain(|s| {
                if idle(s.last_seen_ms) {
                    freed += s.series();
                    return false;
                }
                true
            });
            for s in &mut a.sources {
                let before = s.series();
                s.bsses.retain(|b| !idle(b.last_seen_ms));
                // Per-BSS classes go with their BSS; the three without one
                // stay with the source.
                s.traffic
                    .retain(|t| t.bssid.is_none() || !idle(t.last_seen_ms));
                freed += before - s.series();
            }
            true
        });
        self.series -= freed;
        let station_ttl = self.limits.station_ttl_ms;
        self.stations
            .retain(|_, s| now.mono_ms.saturating_sub(s.last_seen_ms) <= station_ttl);
        if self.ssids.len() > 2 * self.series + 64 {
            // Forget SSIDs nothing refers to any more.
            self.ssids.retain(|_, v| Arc::strong_count(v) > 1);
        }
    }

    /// Settles every pending sample (see the module's documentation).
    pub fn settle(&mut self) {
        for a in self.agents.values_mut() {
            for s in &mut a.sources {
                if !s.pending.is_empty() {
                    s.settle(&mut self.stations);
                }
            }
        }
    }

    /// A copy for one scrape, every sample settled.
    pub fn snapshot(&mut self, now: Now, socket_drops: Option<u64>) -> Snapshot {
        self.settle();
        Snapshot {
            limits: self.limits,
            now,
            agents: self.agents.iter().map(|(k, a)| (*k, a.clone())).collect(),
            stations: self.stations.iter().map(|(k, s)| (*k, s.clone())).collect(),
            datagrams: self.datagrams,
            decode_errors: self.decode_errors,
            dropped: self.dropped,
            series: self.series,
            socket_drops,
        }
    }
}

impl Agent {
    /// Follows the datagram sequence: loss, late arrivals, restarts.
    /// Whether the agent restarted (its sources are then to restart).
    fn track(&mut self, sequence: u32, uptime: u32) -> bool {
        let uptime_wrapped =
            self.uptime_ms > u32::MAX - UPTIME_WRAP_MARGIN_MS && uptime < UPTIME_WRAP_MARGIN_MS;
        let uptime_back =
            uptime < self.uptime_ms && self.uptime_ms - uptime > UPTIME_BACK_MS && !uptime_wrapped;
        let step = step(self.sequence, sequence);
        let restarted = uptime_back || step == Step::Restart;
        if restarted {
            self.restarts += 1;
            self.uptime_wraps = 0;
        } else {
            match step {
                Step::Gap(n) => self.lost += u64::from(n),
                Step::Late | Step::Duplicate => {
                    self.out_of_order += 1;
                    return false;
                }
                _ => {}
            }
            if uptime_wrapped {
                self.uptime_wraps += 1;
            }
        }
        self.sequence = sequence;
        self.uptime_ms = uptime;
        restarted
    }
}

/// The position of dot11AssociatedStationCount in `ieee80211_counters`.
pub const DOT11_ASSOCIATED_STATIONS: usize = 15;

/// The 20 fields of `ieee80211_counters` in record order.
pub fn dot11_array(x: &crate::sflow::Ieee80211Counters) -> [u32; 20] {
    [
        x.transmitted_fragment_count,
        x.multicast_transmitted_frame_count,
        x.failed_count,
        x.retry_count,
        x.multiple_retry_count,
        x.frame_duplicate_count,
        x.rts_success_count,
        x.rts_failure_count,
        x.ack_failure_count,
        x.received_fragment_count,
        x.multicast_received_frame_count,
        x.fcs_error_count,
        x.transmitted_frame_count,
        x.wep_undecryptable_count,
        x.qos_discarded_fragment_count,
        x.associated_station_count,
        x.qos_cf_polls_received_count,
        x.qos_cf_polls_unused_count,
        x.qos_cf_polls_unusable_count,
        x.qos_cf_polls_lost_count,
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testing::{datagram, ethernet_header, flow, uplink, AP, STA};
    use super::*;
    use crate::sflow::*;

    fn counters<'a>(if_index: u32, sequence: u32, records: &'a [CounterRecord<'a>]) -> Sample<'a> {
        Sample::Counters(
            SampleForm::Compact,
            CountersSample {
                sequence_number: sequence,
                source: DataSource::interface(if_index),
                records: List::Items(records),
            },
        )
    }

    fn at(s: u64) -> Now {
        Now {
            mono_ms: s * 1000,
            unix_ms: 1_700_000_000_000 + s * 1000,
        }
    }

    fn agent(f: &Fleet, n: u8) -> &Agent {
        &f.agents[&AgentKey {
            address: Some(IpAddr::from([10, 0, 0, n])),
            sub_agent: 0,
        }]
    }

    #[test]
    fn datagram_loss_late_arrivals_and_duplicates() {
        let mut f = Fleet::new(Limits::default());
        for seq in [1, 2, 5, 4, 5, 6, 10] {
            f.datagram(&datagram(1, seq, 1000 + seq, &[]), at(1))
                .unwrap();
        }
        let a = agent(&f, 1);
        // 3 and 4 missing at 5, 4 then late, 5 twice, 7..9 missing at 10.
        assert_eq!((a.datagrams, a.lost, a.out_of_order), (7, 5, 2));
        assert_eq!((a.restarts, a.sequence), (0, 10));
    }

    #[test]
    fn restarts_from_uptime_or_sequence() {
        let mut f = Fleet::new(Limits::default());
        f.datagram(&datagram(1, 500, 600_000, &[]), at(1)).unwrap();
        // Uptime back: restarted, whatever the sequence says.
        f.datagram(&datagram(1, 501, 1_000, &[]), at(2)).unwrap();
        assert_eq!(agent(&f, 1).restarts, 1);
        // Sequence far behind, uptime going on: restarted too.
        f.datagram(&datagram(1, 1, 3_000, &[]), at(3)).unwrap();
        assert_eq!(agent(&f, 1).restarts, 2);
        f.datagram(&datagram(1, 2, 4_000, &[]), at(4)).unwrap();
        let a = agent(&f, 1);
        assert_eq!((a.restarts, a.lost, a.out_of_order), (2, 0, 0));
        assert_eq!(a.uptime_seconds(), 4.0);
        // The 32-bit millisecond uptime wraps after 49.7 days: not a restart.
        f.datagram(&datagram(2, 7, u32::MAX - 500, &[]), at(5))
            .unwrap();
        f.datagram(&datagram(2, 8, 1_500, &[]), at(6)).unwrap();
        let a = agent(&f, 2);
        assert_eq!(a.restarts, 0);
        assert_eq!(
            a.uptime_seconds(),
            (4_294_967_296u64 + 1_500) as f64 / 1000.0
        );
    }

    #[test]
    fn traffic_from_pool_shares() {
        let mut f = Fleet::new(Limits::default());
        let tx = FlowRecord::Extended80211Tx(Extended80211Tx {
            ssid: b"lab",
            bssid: AP,
            version: Ieee80211Version::N,
            transmissions: 1,
            packet_duration: 0,
            retrans_duration: 0,
            channel: 36,
            speed: 130_000_000,
            power: 0,
        });
        let rx_records = uplink(STA);
        let tx_records = [ethernet_header(STA, AP, 1000), tx];
        // 64 samples at 1-in-10; pools given per batch of 4, the batch's
        // samples ending at its true pool (as the eBPF sampler does).
        let mut seq = 0;
        let mut pool = 0;
        for d in 0..16u32 {
            let mut samples = Vec::new();
            for k in 0..4 {
                seq += 1;
                let p = pool + 40 - (3 - k);
                let records: &[FlowRecord] = if seq % 2 == 0 {
                    &rx_records
                } else {
                    &tx_records
                };
                samples.push(flow(3, seq, 10, p, records));
            }
            pool += 40;
            f.datagram(
                &datagram(1, d + 1, 1000 * d + 1, &samples),
                at(u64::from(d)),
            )
            .unwrap();
        }
        let snapshot = f.snapshot(at(20), None);
        let source = &snapshot.agents[0].1.sources[0];
        let class = |d| {
            source
                .traffic
                .iter()
                .find(|t| t.direction == d)
                .unwrap()
                .clone()
        };
        let (rx, tx) = (class(Direction::Rx), class(Direction::Tx));
        // 32 samples each, sharing the 640 packets of the pool.
        assert_eq!((rx.samples, tx.samples), (32, 32));
        let total = rx.packets + tx.packets;
        assert!((total - 640.0).abs() < 1e-6, "{rx:?} {tx:?}");
        assert!((rx.packets - 320.0).abs() < 2.0, "{rx:?}");
        assert!((tx.bytes / tx.packets - 1000.0).abs() < 1e-6);
        assert_eq!((rx.bssid, &*rx.ssid), (Some(AP), &b"lab"[..]));
        let flow = source.flow.as_ref().unwrap();
        assert_eq!((flow.samples, flow.lost, flow.sampling_rate), (64, 0, 10));
        assert_eq!(flow.pool.unwrap().value(), 640);
        assert_eq!(source.bsses.len(), 1);
        assert_eq!(source.bsses[0].channel, 36);
    }

    #[test]
    fn lost_samples_lower_the_estimate_instead_of_skewing_it() {
        let mut f = Fleet::new(Limits::default());
        let records = uplink(STA);
        // Samples 1..=100 at pool 10 each; a datagram with 41..=60 is lost.
        for d in 0..5u32 {
            if d == 2 {
                continue;
            }
            let samples: Vec<Sample> = (1..=20)
                .map(|k| {
                    let seq = d * 20 + k;
                    flow(3, seq, 10, seq * 10, &records)
                })
                .collect();
            f.datagram(
                &datagram(1, d + 1, 1000 * d + 1, &samples),
                at(u64::from(d)),
            )
            .unwrap();
        }
        let s = f.snapshot(at(9), None);
        let source = &s.agents[0].1.sources[0];
        let flow = source.flow.as_ref().unwrap();
        assert_eq!((flow.samples, flow.lost), (80, 20));
        assert!((source.traffic[0].packets - 800.0).abs() < 1e-6);
        assert_eq!(s.agents[0].1.lost, 1);
    }

    #[test]
    fn samples_before_a_restart_share_the_pool_of_before() {
        let mut f = Fleet::new(Limits::default());
        let records = uplink(STA);
        // 10 samples, 20 packets apart (the pool says so, whatever the
        // announced rate).
        let before: Vec<Sample> = (1..=10).map(|k| flow(3, k, 10, k * 20, &records)).collect();
        f.datagram(&datagram(1, 1, 60_000, &before), at(60))
            .unwrap();
        // The agent restarts (uptime back) before a settlement.
        let after: Vec<Sample> = (1..=5).map(|k| flow(3, k, 10, k * 10, &records)).collect();
        f.datagram(&datagram(1, 1, 1_000, &after), at(61)).unwrap();
        let s = f.snapshot(at(62), None);
        let (_, a) = &s.agents[0];
        assert_eq!(a.restarts, 1);
        let source = &a.sources[0];
        assert!((source.traffic[0].packets - (200.0 + 50.0)).abs() < 1e-9);
        assert_eq!(source.flow.as_ref().unwrap().pool.unwrap().value(), 50);
    }

    #[test]
    fn counters_unwrap_wraps_and_follow_restarts() {
        let mut f = Fleet::new(Limits::default());
        let mut dot11 = Ieee80211Counters::UNAVAILABLE;
        dot11.failed_count = u32::MAX - 10;
        dot11.associated_station_count = 3;
        let ifc = IfCounters {
            in_octets: 5_000,
            in_ucast_pkts: u32::MAX - 5,
            in_errors: u32::MAX,
            ..IfCounters::default()
        };
        let radio = RadioUtilization {
            elapsed_time: 10_000,
            on_channel_time: 10_000,
            on_channel_busy_time: 2_000,
        };
        let records = [
            CounterRecord::Interface(ifc),
            CounterRecord::Ieee80211(dot11),
            CounterRecord::RadioUtilization(radio),
        ];
        f.datagram(&datagram(1, 1, 1_000, &[counters(3, 1, &records)]), at(1))
            .unwrap();
        // 20 later: both 32-bit counters wrapped; the radio was 50 % busy.
        let mut dot11b = dot11;
        dot11b.failed_count = 9;
        let ifc_b = IfCounters {
            in_ucast_pkts: 14,
            in_octets: 6_000,
            ..ifc
        };
        let radio_b = RadioUtilization {
            elapsed_time: 12_000,
            on_channel_time: 12_000,
            on_channel_busy_time: 3_000,
        };
        let records_b = [
            CounterRecord::Interface(ifc_b),
            CounterRecord::Ieee80211(dot11b),
            CounterRecord::RadioUtilization(radio_b),
        ];
        f.datagram(
            &datagram(1, 2, 21_000, &[counters(3, 2, &records_b)]),
            at(21),
        )
        .unwrap();
        let s = &agent(&f, 1).sources[0];
        let dot = s.dot11.unwrap();
        assert_eq!(dot[2].unwrap().value(), (1 << 32) + 9);
        // Unavailable counters have no value, so no series.
        assert!(dot[0].is_none() && dot[DOT11_ASSOCIATED_STATIONS].is_none());
        assert_eq!(s.associated_stations, Some(3));
        let i = s.interface.as_ref().unwrap();
        assert_eq!(i.packets[0].unwrap().value(), (1 << 32) + 14);
        assert!(i.packets[4].is_none());
        assert_eq!(i.in_octets, Some(6_000));
        let r = s.radio.as_ref().unwrap();
        assert_eq!(r.busy_ratio, Some(0.5));
        assert_eq!(r.busy.unwrap().value(), 3_000);
        // The agent restarts: counters that went down start again (the
        // agent's own), those that did not (the kernel's) go on.
        let mut dot11c = dot11b;
        dot11c.failed_count = 2;
        let ifc_c = IfCounters {
            in_ucast_pkts: 20,
            in_octets: 7_000,
            ..ifc
        };
        let records_c = [
            CounterRecord::Interface(ifc_c),
            CounterRecord::Ieee80211(dot11c),
        ];
        f.datagram(&datagram(1, 1, 500, &[counters(3, 1, &records_c)]), at(30))
            .unwrap();
        let a = agent(&f, 1);
        let s = &a.sources[0];
        assert_eq!(a.restarts, 1);
        assert_eq!(s.dot11.unwrap()[2].unwrap().value(), 2);
        assert_eq!(
            s.interface.as_ref().unwrap().packets[0].unwrap().value(),
            (1 << 32) + 20
        );
        assert_eq!((s.counter_samples, s.counter_lost), (3, 0));
    }

    #[test]
    fn limits_are_kept_and_what_did_not_fit_is_counted() {
        let limits = Limits {
            agents: 2,
            series: 2,
            stations: 1,
            station_series: true,
            ..Limits::default()
        };
        let mut f = Fleet::new(limits);
        for a in 1..=3 {
            f.datagram(&datagram(a, 1, 1000, &[]), at(1)).unwrap();
        }
        assert_eq!((f.agents.len(), f.dropped.agents), (2, 1));
        // Agent 1: source 3 and BSS AP fill the 2 series; the BSS's rx
        // class would be a 3rd: its traffic is counted without its BSS.
        let records = uplink(STA);
        f.datagram(
            &datagram(1, 2, 2000, &[flow(3, 1, 10, 10, &records)]),
            at(2),
        )
        .unwrap();
        assert_eq!(f.series, 2);
        assert_eq!(f.dropped.series, 1);
        let s = &agent(&f, 1).sources[0];
        assert_eq!(s.traffic.len(), 1);
        assert_eq!(s.traffic[0].bssid, None);
        // A second station does not fit.
        let records2 = uplink([2, 0, 0, 0, 0, 0x52]);
        f.datagram(
            &datagram(1, 3, 3000, &[flow(3, 2, 10, 20, &records2)]),
            at(3),
        )
        .unwrap();
        assert_eq!((f.stations.len(), f.dropped.stations), (1, 1));
        // That sample's BSS class did not fit either, nor does a new
        // source on agent 2.
        assert_eq!(f.dropped.series, 2);
        f.datagram(
            &datagram(2, 2, 2000, &[flow(5, 1, 10, 10, &records)]),
            at(3),
        )
        .unwrap();
        assert_eq!(f.dropped.series, 3);
        assert!(agent(&f, 2).sources.is_empty());
    }

    #[test]
    fn idle_agents_and_stations_expire() {
        let limits = Limits {
            agent_ttl_ms: 60_000,
            station_ttl_ms: 10_000,
            station_series: true,
            ..Limits::default()
        };
        let mut f = Fleet::new(limits);
        let records = uplink(STA);
        f.datagram(
            &datagram(1, 1, 1000, &[flow(3, 1, 10, 10, &records)]),
            at(0),
        )
        .unwrap();
        f.datagram(&datagram(2, 1, 1000, &[]), at(0)).unwrap();
        assert_eq!((f.agents.len(), f.stations.len(), f.series), (2, 1, 3));
        let st = f.stations.values().next().unwrap();
        assert_eq!(st.signal_dbm, Some(-57));
        assert_eq!(st.bitrate, [Some(144_400_000), None]);
        f.datagram(&datagram(2, 2, 31_000, &[]), at(30)).unwrap();
        f.expire(at(30));
        assert_eq!((f.agents.len(), f.stations.len()), (2, 0));
        f.expire(at(61));
        assert_eq!(f.agents.len(), 1);
        assert_eq!(f.series, 0, "the series of agent 1 freed");
    }
}
