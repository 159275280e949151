//! `wsflowd collect --stations`: the stations seen across all agents, and
//! their roams from one BSS to another.
//!
//! A station is known by its MAC address. Each sighting (see
//! [`super::sighting`]) names the agent and interface that saw it, its BSS,
//! and, when the frame says, its signal and PHY rate. The table keeps one
//! entry per station:
//!
//! - A sighting in the station's BSS refreshes it. Its agent, signal and
//!   rates are taken from the AP that serves the station (an AP-interface
//!   sample) rather than from a monitor that overhears it, so the columns
//!   do not flap between observers.
//! - A sighting in another BSS is a **roam**, printed as an event. Agents
//!   flush their datagrams about once a second, so frames the station sent
//!   to its old BSS can arrive after the first ones in the new: a sighting
//!   of the BSS it just left, within [`ROAM_HOLD_MS`], is taken for one of
//!   those and ignored.
//! - A station not seen for the TTL is **gone** (an event too).
//!
//! At most `capacity` stations are kept; sightings of others are counted
//! and shown.
//!
//! Output: on a terminal the table is redrawn every second with the latest
//! events under it; otherwise every event is one line (text, or JSON with
//! `--json`), so the output can be piped or logged.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::Arc;

use super::fleet::{AgentKey, Now};
use super::format::push_json_string;
use super::sighting::{FlowView, Mac, Sighting};
use crate::mac::MacAddr;
use crate::sflow::{source_kind, Datagram, Sample};

/// A sighting of the BSS a station just left, this soon after the roam,
/// is a late frame, not a roam back.
pub const ROAM_HOLD_MS: u64 = 2_000;
/// Events kept for the terminal view.
const RECENT_EVENTS: usize = 8;

/// Where a station is: which agent and interface saw it, in which BSS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub agent: AgentKey,
    pub if_index: u32,
    pub bssid: Mac,
    pub ssid: Arc<[u8]>,
    /// Seen by a monitor interface rather than by its AP.
    pub monitor: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    place: Place,
    last_seen_ms: u64,
    last_seen_unix_ms: u64,
    signal_dbm: Option<i32>,
    /// From the station (rx) and to it (tx), bit/s.
    bitrate: [Option<u64>; 2],
    /// The BSS it roamed from, and when.
    left: Option<(Mac, u64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    New,
    Roam,
    Gone,
}

impl EventKind {
    pub fn word(self) -> &'static str {
        match self {
            EventKind::New => "new",
            EventKind::Roam => "roam",
            EventKind::Gone => "gone",
        }
    }
}

/// Something that happened to a station.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    pub unix_ms: u64,
    pub station: Mac,
    /// Where it is (for `Gone`, where it was last).
    pub place: Place,
    /// For `Roam`: where it was.
    pub from: Option<Place>,
    pub signal_dbm: Option<i32>,
    pub bitrate: [Option<u64>; 2],
    /// For `Gone`: when it was last seen.
    pub last_seen_unix_ms: u64,
}

/// The station table.
pub struct StationTable {
    pub ttl_ms: u64,
    pub capacity: usize,
    stations: HashMap<Mac, Entry>,
    /// Sightings of stations that did not fit.
    pub dropped: u64,
    ssids: HashMap<Box<[u8]>, Arc<[u8]>>,
    /// Events not yet taken by [`StationTable::take_events`].
    events: Vec<Event>,
}

impl StationTable {
    pub fn new(ttl_ms: u64, capacity: usize) -> StationTable {
        StationTable {
            ttl_ms,
            capacity,
            stations: HashMap::new(),
            dropped: 0,
            ssids: HashMap::new(),
            events: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.stations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stations.is_empty()
    }

    /// The events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn ssid(&mut self, ssid: &[u8]) -> Arc<[u8]> {
        if let Some(s) = self.ssids.get(ssid) {
            return s.clone();
        }
        if self.ssids.len() > 4 * self.stations.len() + 64 {
            self.ssids.retain(|_, v| Arc::strong_count(v) > 1);
        }
        let s: Arc<[u8]> = Arc::from(ssid);
        self.ssids.insert(Box::from(ssid), s.clone());
        s
    }

    /// Takes in the flow samples of one datagram.
    pub fn datagram(&mut self, datagram: &Datagram, now: Now) {
        let agent = AgentKey {
            address: datagram.agent_address,
            sub_agent: datagram.sub_agent_id,
        };
        for sample in datagram.samples.iter() {
            let Ok(Sample::Flow(_, f)) = sample else {
                continue;
            };
            if f.source.kind != source_kind::IF_INDEX {
                continue;
            }
            if let Some(s) = FlowView::of(&f).sighting() {
                self.sighting(agent, f.source.index, &s, now);
            }
        }
    }

    /// Takes in one sighting.
    pub fn sighting(&mut self, agent: AgentKey, if_index: u32, s: &Sighting, now: Now) {
        let d = usize::from(s.direction == super::sighting::Direction::Tx);
        let Some(entry) = self.stations.get(&s.station) else {
            if self.stations.len() >= self.capacity {
                self.dropped += 1;
                return;
            }
            let place = Place {
                agent,
                if_index,
                bssid: s.bssid,
                ssid: self.ssid(s.ssid),
                monitor: s.monitor,
            };
            let mut bitrate = [None; 2];
            bitrate[d] = s.bitrate;
            let entry = Entry {
                place,
                last_seen_ms: now.mono_ms,
                last_seen_unix_ms: now.unix_ms,
                signal_dbm: s.signal_dbm,
                bitrate,
                left: None,
            };
            self.events
                .push(event(EventKind::New, s.station, &entry, None, now));
            self.stations.insert(s.station, entry);
            return;
        };
        if entry.place.bssid == s.bssid {
            let same_observer = entry.place.agent == agent && entry.place.if_index == if_index;
            // The AP serving the station wins over monitors.
            let take_over = same_observer || !s.monitor || entry.place.monitor;
            let ssid = (take_over && !s.ssid.is_empty() && *entry.place.ssid != *s.ssid)
                .then(|| self.ssid(s.ssid));
            let Some(entry) = self.stations.get_mut(&s.station) else {
                return;
            };
            entry.last_seen_ms = now.mono_ms;
            entry.last_seen_unix_ms = now.unix_ms;
            if take_over {
                if !same_observer {
                    // Another observer's figures are not comparable.
                    entry.signal_dbm = None;
                    entry.bitrate = [None; 2];
                }
                entry.place.agent = agent;
                entry.place.if_index = if_index;
                entry.place.monitor = s.monitor;
                if let Some(ssid) = ssid {
                    entry.place.ssid = ssid;
                }
                if s.signal_dbm.is_some() {
                    entry.signal_dbm = s.signal_dbm;
                }
                if s.bitrate.is_some() {
                    entry.bitrate[d] = s.bitrate;
                }
            }
            return;
        }
        if let Some((left, at)) = entry.left {
            if left == s.bssid && now.mono_ms.saturating_sub(at) < ROAM_HOLD_MS {
                return;
            }
        }
        let ssid = self.ssid(s.ssid);
        let Some(entry) = self.stations.get_mut(&s.station) else {
            return;
        };
        let from = std::mem::replace(
            &mut entry.place,
            Place {
                agent,
                if_index,
                bssid: s.bssid,
                ssid,
                monitor: s.monitor,
            },
        );
        entry.left = Some((from.bssid, now.mono_ms));
        entry.last_seen_ms = now.mono_ms;
        entry.last_seen_unix_ms = now.unix_ms;
        entry.signal_dbm = s.signal_dbm;
        entry.bitrate = [None; 2];
        entry.bitrate[d] = s.bitrate;
        let e = event(EventKind::Roam, s.station, entry, Some(from), now);
        self.events.push(e);
    }

    /// Forgets the stations not seen for the TTL.
    pub fn expire(&mut self, now: Now) {
        let ttl = self.ttl_ms;
        let events = &mut self.events;
        self.stations.retain(|mac, e| {
            if now.mono_ms.saturating_sub(e.last_seen_ms) <= ttl {
                return true;
            }
            events.push(event(EventKind::Gone, *mac, e, None, now));
            false
        });
    }

    /// The stations, ordered by agent, BSS and MAC address.
    fn sorted(&self) -> Vec<(&Mac, &Entry)> {
        let mut v: Vec<_> = self.stations.iter().collect();
        v.sort_by(|a, b| {
            (a.1.place.agent, a.1.place.bssid, a.0).cmp(&(b.1.place.agent, b.1.place.bssid, b.0))
        });
        v
    }
}

fn event(kind: EventKind, station: Mac, e: &Entry, from: Option<Place>, now: Now) -> Event {
    Event {
        kind,
        unix_ms: now.unix_ms,
        station,
        place: e.place.clone(),
        from,
        signal_dbm: e.signal_dbm,
        bitrate: e.bitrate,
        last_seen_unix_ms: e.last_seen_unix_ms,
    }
}

pub fn mac_text(mac: &Mac) -> String {
    MacAddr(*mac).to_string()
}

fn agent_text(a: &AgentKey) -> String {
    let address = a
        .address
        .map_or("unknown".to_string(), |ip: IpAddr| ip.to_string());
    if a.sub_agent == 0 {
        address
    } else {
        format!("{address}/{}", a.sub_agent)
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a Unix time in milliseconds.
pub fn iso_time(unix_ms: u64) -> String {
    let t = crate::calendar::DateTime::from_unix((unix_ms / 1000) as i64);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        unix_ms % 1000
    )
}

/// The value of an event's field, as the two formats write it.
enum Field<'a> {
    /// Bare in text, a JSON number.
    Number(&'a dyn std::fmt::Display),
    /// Bare in text (it holds no space or quote), a JSON string.
    Word(&'a str),
    /// Quoted in text (with Rust's escapes), a JSON string.
    Quoted(&'a str),
}

/// The fields of an event after its time, kind and station, in order:
/// `field(prefix, name, value)`. Text and JSON lines say the same.
fn event_fields(e: &Event, mut field: impl FnMut(&str, &str, Field)) {
    for (prefix, p) in e.from.iter().map(|p| ("from_", p)).chain([("", &e.place)]) {
        field(prefix, "agent", Field::Word(&agent_text(&p.agent)));
        field(prefix, "ifindex", Field::Number(&p.if_index));
        field(prefix, "bssid", Field::Word(&mac_text(&p.bssid)));
        field(
            prefix,
            "ssid",
            Field::Quoted(&String::from_utf8_lossy(&p.ssid)),
        );
        let via = if p.monitor { "monitor" } else { "ap" };
        field(prefix, "via", Field::Word(via));
    }
    if let Some(s) = e.signal_dbm {
        field("", "signal", Field::Number(&s));
    }
    for (name, rate) in [("rx_rate", e.bitrate[0]), ("tx_rate", e.bitrate[1])] {
        if let Some(r) = rate {
            field("", name, Field::Number(&r));
        }
    }
    if e.kind == EventKind::Gone {
        field("", "last_seen", Field::Word(&iso_time(e.last_seen_unix_ms)));
    }
}

/// One event as a line of `key=value` words.
pub fn event_text(e: &Event) -> String {
    let mut out = format!(
        "{} {} station={}",
        iso_time(e.unix_ms),
        e.kind.word(),
        mac_text(&e.station)
    );
    event_fields(e, |prefix, name, value| {
        let _ = match value {
            Field::Number(v) => write!(out, " {prefix}{name}={v}"),
            Field::Word(v) => write!(out, " {prefix}{name}={v}"),
            Field::Quoted(v) => write!(out, " {prefix}{name}={v:?}"),
        };
    });
    out
}

/// One event as a JSON object.
pub fn event_json(e: &Event) -> String {
    let mut out = format!(
        "{{\"time\":\"{}\",\"event\":\"{}\",\"station\":\"{}\"",
        iso_time(e.unix_ms),
        e.kind.word(),
        mac_text(&e.station)
    );
    event_fields(e, |prefix, name, value| {
        let _ = write!(out, ",\"{prefix}{name}\":");
        match value {
            Field::Number(v) => {
                let _ = write!(out, "{v}");
            }
            Field::Word(v) | Field::Quoted(v) => push_json_string(&mut out, v),
        }
    });
    out.push('}');
    out
}

fn mbits(rate: Option<u64>) -> String {
    rate.map_or("-".into(), |r| format!("{:.1}", r as f64 / 1e6))
}

/// How the station view is shown.
pub struct StationOutput<W: Write> {
    out: W,
    /// Redraw a table (a terminal) rather than print event lines.
    pub terminal: bool,
    pub json: bool,
    /// Rows and columns the terminal has.
    pub rows: usize,
    pub columns: usize,
    recent: VecDeque<String>,
}

impl<W: Write> StationOutput<W> {
    pub fn new(out: W, terminal: bool, json: bool) -> Self {
        StationOutput {
            out,
            terminal,
            json,
            rows: 40,
            columns: 160,
            recent: VecDeque::new(),
        }
    }

    /// Shows the table's new events: printed at once as lines, or kept for
    /// the next redraw.
    pub fn events(&mut self, table: &mut StationTable) -> io::Result<()> {
        let events = table.take_events();
        if events.is_empty() {
            return Ok(());
        }
        for e in &events {
            if self.terminal {
                if self.recent.len() == RECENT_EVENTS {
                    self.recent.pop_front();
                }
                self.recent.push_back(event_text(e));
            } else if self.json {
                writeln!(self.out, "{}", event_json(e))?;
            } else {
                writeln!(self.out, "{}", event_text(e))?;
            }
        }
        self.out.flush()
    }

    /// Redraws the table (terminal only).
    pub fn redraw(&mut self, table: &StationTable, now: Now) -> io::Result<()> {
        if !self.terminal {
            return Ok(());
        }
        // Followed at every redraw: the terminal may have been resized.
        if let Some((rows, columns)) = terminal_size() {
            (self.rows, self.columns) = (rows, columns);
        }
        let mut s = String::from("\x1b[H\x1b[2J");
        let agents: std::collections::BTreeSet<AgentKey> =
            table.stations.values().map(|e| e.place.agent).collect();
        let _ = writeln!(
            s,
            "wsflowd collect --stations   {}   {} stations, {} agents, TTL {} s{}",
            iso_time(now.unix_ms),
            table.len(),
            agents.len(),
            table.ttl_ms / 1000,
            if table.dropped > 0 {
                format!(", {} sightings not kept (table full)", table.dropped)
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            s,
            "{:<17}  {:<22} {:>7}  {:<17}  {:<20} {:>9} {:>7} {:>8} {:>8}",
            "STATION", "AGENT", "IFINDEX", "BSSID", "SSID", "SEEN", "SIGNAL", "RX Mb/s", "TX Mb/s"
        );
        let room = self.rows.saturating_sub(4 + self.recent.len() + 1).max(1);
        let sorted = table.sorted();
        for (mac, e) in sorted.iter().take(room) {
            let ago = now.mono_ms.saturating_sub(e.last_seen_ms) / 1000;
            let _ = writeln!(
                s,
                "{:<17}  {:<22} {:>7}  {:<17}  {:<20} {:>7} s {:>7} {:>8} {:>8}{}",
                mac_text(mac),
                agent_text(&e.place.agent),
                e.place.if_index,
                mac_text(&e.place.bssid),
                String::from_utf8_lossy(&e.place.ssid)
                    .chars()
                    .take(20)
                    .collect::<String>(),
                ago,
                e.signal_dbm.map_or("-".into(), |d| format!("{d} dBm")),
                mbits(e.bitrate[0]),
                mbits(e.bitrate[1]),
                if e.place.monitor { "  (monitor)" } else { "" }
            );
        }
        if sorted.len() > room {
            let _ = writeln!(s, "... {} more", sorted.len() - room);
        }
        if !self.recent.is_empty() {
            let _ = writeln!(s, "\nLatest events:");
            for line in &self.recent {
                // Cut to the width: a wrapped line would scroll the table.
                let line: String = line.chars().take(self.columns.saturating_sub(3)).collect();
                let _ = writeln!(s, "  {line}");
            }
        }
        self.out.write_all(s.as_bytes())?;
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The terminal's size (rows, columns), if stdout is a terminal.
pub fn terminal_size() -> Option<(usize, usize)> {
    use std::os::fd::AsFd;
    crate::sys::system::terminal_size(std::io::stdout().as_fd())
        .map(|(rows, columns)| (usize::from(rows), usize::from(columns)))
}

#[cfg(test)]
mod tests {
    use super::super::sighting::Direction;
    use super::*;

    fn agent(last: u8) -> AgentKey {
        AgentKey {
            address: Some(IpAddr::from([10, 0, 0, last])),
            sub_agent: 0,
        }
    }

    const STA: Mac = [2, 0, 0, 0, 0, 0x51];
    const BSS_A: Mac = [2, 0, 0, 0, 0, 0xa];
    const BSS_B: Mac = [2, 0, 0, 0, 0, 0xb];

    fn seen(bssid: Mac, monitor: bool, signal: i32) -> Sighting<'static> {
        Sighting {
            station: STA,
            bssid,
            ssid: b"lab",
            direction: Direction::Rx,
            signal_dbm: Some(signal),
            bitrate: Some(54_000_000),
            monitor,
        }
    }

    fn at(ms: u64) -> Now {
        Now {
            mono_ms: ms,
            unix_ms: 1_767_225_600_000 + ms,
        }
    }

    #[test]
    fn new_roam_hold_and_gone() {
        let mut t = StationTable::new(10_000, 100);
        t.sighting(agent(1), 3, &seen(BSS_A, false, -50), at(0));
        t.sighting(agent(1), 3, &seen(BSS_A, false, -51), at(500));
        let e = t.take_events();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].kind, e[0].place.bssid), (EventKind::New, BSS_A));
        // Moves to B (another agent).
        t.sighting(agent(2), 4, &seen(BSS_B, false, -60), at(1_000));
        // A late frame to A: not a roam back.
        t.sighting(agent(1), 3, &seen(BSS_A, false, -52), at(1_500));
        let e = t.take_events();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].kind, EventKind::Roam);
        assert_eq!(e[0].from.as_ref().unwrap().bssid, BSS_A);
        assert_eq!(e[0].from.as_ref().unwrap().agent, agent(1));
        assert_eq!((e[0].place.agent, e[0].place.bssid), (agent(2), BSS_B));
        assert_eq!(e[0].signal_dbm, Some(-60));
        let line = event_text(&e[0]);
        assert!(
            line.starts_with("2026-01-01T00:00:01.000Z roam station=02:00:00:00:00:51 from_agent=10.0.0.1 from_ifindex=3 from_bssid=02:00:00:00:00:0a"),
            "{line}"
        );
        let json: String = event_json(&e[0]);
        assert!(json.contains("\"event\":\"roam\""), "{json}");
        // Back to A for real, after the hold.
        t.sighting(agent(1), 3, &seen(BSS_A, false, -50), at(4_000));
        let e = t.take_events();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].kind, e[0].place.bssid), (EventKind::Roam, BSS_A));
        // A monitor overhearing it in A neither roams it nor takes over.
        t.sighting(agent(9), 7, &seen(BSS_A, true, -80), at(5_000));
        assert!(t.take_events().is_empty());
        let entry = &t.stations[&STA];
        assert_eq!((entry.place.agent, entry.signal_dbm), (agent(1), Some(-50)));
        assert_eq!(entry.last_seen_ms, 5_000);
        // Gone after the TTL.
        t.expire(at(15_000));
        assert!(t.take_events().is_empty());
        t.expire(at(15_001));
        let e = t.take_events();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind, EventKind::Gone);
        assert!(t.is_empty());
    }

    #[test]
    fn capacity_counts_what_does_not_fit() {
        let mut t = StationTable::new(10_000, 2);
        for i in 0..5u8 {
            let mut s = seen(BSS_A, false, -50);
            s.station[5] = i;
            t.sighting(agent(1), 3, &s, at(0));
        }
        assert_eq!((t.len(), t.dropped), (2, 3));
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso_time(1_767_225_599_999), "2025-12-31T23:59:59.999Z");
    }
}
