//! The agent: one thread, one event loop.
//!
//! `poll(2)` waits on a signalfd (SIGTERM, SIGINT, SIGHUP), a one-second
//! timerfd, a netlink socket (links and bridge forwarding entries coming and
//! going) and one ring socket per sampled interface. Sampled frames are
//! encoded straight into the pending datagram; the timer flushes it (so no
//! sample waits more than a second) and polls the counters that are due.
//! Nothing on the loop blocks: sends are non-blocking and names are
//! resolved off the loop.

pub mod address;
pub mod instance;
pub mod monitor;
pub mod path;
pub mod radio;
pub mod source;
pub mod ubus;

mod poll;
mod status;

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::time::Instant;

use crate::capture::{FilterChoice, Frame};
use crate::config::{self, Config, Loaded, SamplingFilter};
use crate::counters::host::{HostDescription, HostReader};
use crate::counters::interface;
use crate::netlink::{Event, EventSocket, EventsStatus, Link, RouteSocket};
use crate::output::Collectors;
use crate::rng::Rng;
use crate::sflow::{
    DataSource, DatagramPacker, FlowRecord, FlowSample, HeaderProtocol, List, PackerConfig,
    SampleForm, SequenceNumber,
};
use crate::stations::nl80211::KernelStations;
use crate::stations::{Source, StationTable};
use crate::sys::{poll, pollfd, InstanceLock, SignalFd, TimerFd};
use crate::wifi::monitor_frame::MonitorFrame;
use crate::wifi::nl80211::events::Nl80211Events;
use crate::wifi::nl80211::Nl80211;
use crate::{debug, error, info, log, warn};
use libc::ARPHRD_IEEE80211_RADIOTAP;
use monitor::{OurBsses, SsidTable};
use path::Topology;
use source::{InterfaceSource, Settings};
use ubus::{Call, UbusLink};

/// The ubusd socket: configured, else OpenWrt's default path, else the
/// older one if only that exists.
fn ubus_socket(config: &Config) -> PathBuf {
    use crate::ubus::client::{DEFAULT_SOCKET, LEGACY_SOCKET};
    match &config.agent.ubus_socket {
        Some(p) => p.clone(),
        None if !std::path::Path::new(DEFAULT_SOCKET).exists()
            && std::path::Path::new(LEGACY_SOCKET).exists() =>
        {
            PathBuf::from(LEGACY_SOCKET)
        }
        None => PathBuf::from(DEFAULT_SOCKET),
    }
}

/// What a polled descriptor stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Signals,
    /// ubusd: hostapd's notifications, calls of our object.
    Ubus,
    /// rtnetlink: links and bridge forwarding entries.
    LinkEvents,
    /// nl80211: stations and AP interfaces.
    KernelStations,
    Timer,
    /// A sampled interface's ring, by its index in `sources`.
    Source(usize),
}

/// Period of the housekeeping timer.
const TICK_MS: u64 = 1000;
/// How often hostapd's status and stations are listed when counter polling
/// is off (else once per polling interval).
const REFRESH_WITHOUT_POLLING_S: u32 = 20;
/// How often the automatic agent address is chosen again.
const ADDRESS_CHECK_MS: u64 = 30_000;

pub struct Agent {
    config_path: PathBuf,
    /// Held while the agent runs as its sub-agent id ([`instance`]).
    lock: InstanceLock,
    config: Config,
    started: Instant,
    packer: DatagramPacker,
    collectors: Collectors,
    sources: Vec<InterfaceSource>,
    topology: Topology,
    host_sequence: SequenceNumber,
    host_next_poll_ms: u64,
    host_description: HostDescription,
    host_reader: HostReader,
    route: Option<RouteSocket>,
    events: Option<EventSocket>,
    rng: Rng,
    signals: SignalFd,
    timer: TimerFd,
    next_address_check_ms: u64,
    /// Flow samples that could not be encoded (counted to rate-limit the
    /// warning: logged at the 1st, 2nd, 4th, 8th... occurrence).
    encode_errors: u64,
    /// Whether the agent address was chosen (and logged) once.
    agent_address_chosen: bool,
    /// SSIDs learned from beacons, for the monitor interfaces.
    ssids: SsidTable,
    /// The BSSes and stations, from every station source.
    stations: StationTable,
    /// hostapd over ubus.
    ubus: UbusLink,
    next_ubus_refresh_ms: u64,
    /// nl80211, where the kernel has it (station and survey statistics).
    nl80211: Option<Nl80211>,
    /// nl80211's notifications (stations, interfaces), when the kernel is
    /// a station source.
    nl80211_events: Option<Nl80211Events>,
    /// The kernel as a station source.
    kernel_stations: KernelStations,
    /// Room for the header of an A-MPDU subframe sample (allocated once).
    scratch: Vec<u8>,
}

impl Agent {
    /// Sets up the agent. Signals are blocked here, before any helper
    /// thread exists, so that only the signalfd receives them.
    /// `lock` is the instance lock of the configuration's sub-agent id
    /// ([`instance::acquire`]), taken before the daemon detaches so that a
    /// refusal reaches the terminal.
    pub fn new(config_path: PathBuf, loaded: Loaded, lock: InstanceLock) -> io::Result<Agent> {
        let signals = SignalFd::new(&[libc::SIGTERM, libc::SIGINT, libc::SIGHUP])?;
        let timer = TimerFd::periodic(TICK_MS)?;
        let route = RouteSocket::open()
            .map_err(|e| warn!("no netlink route socket ({e}): interface counters unavailable"))
            .ok();
        let events = EventSocket::open()
            .map_err(|e| warn!("no netlink events ({e}): interfaces re-checked every second"))
            .ok();
        let config = loaded.config;
        let packer = DatagramPacker::new(PackerConfig {
            agent_address: None,
            sub_agent_id: config.agent.sub_agent_id,
            max_datagram_bytes: config.agent.datagram_bytes as usize,
            form: SampleForm::Compact,
        });
        let mut agent = Agent {
            config_path,
            lock,
            config: Config::default(),
            started: Instant::now(),
            packer,
            collectors: Collectors::new(),
            sources: Vec::new(),
            topology: Topology::default(),
            host_sequence: SequenceNumber::default(),
            host_next_poll_ms: 0,
            host_description: HostDescription::read(),
            host_reader: HostReader::new(),
            route,
            events,
            rng: Rng::from_entropy(),
            signals,
            timer,
            next_address_check_ms: 0,
            encode_errors: 0,
            agent_address_chosen: false,
            ssids: SsidTable::default(),
            stations: StationTable::default(),
            ubus: UbusLink::new(ubus_socket(&config)),
            next_ubus_refresh_ms: 0,
            nl80211: Nl80211::open()
                .map_err(|e| {
                    info!("no nl80211 ({e}): no Wi-Fi in this kernel, or it cannot be reached")
                })
                .ok(),
            nl80211_events: None,
            kernel_stations: KernelStations::default(),
            scratch: Vec::with_capacity(config::MAX_HEADER_BYTES as usize + 4),
        };
        for w in &loaded.warnings {
            warn!("{w}");
        }
        let sources = config.agent.station_sources;
        agent.apply(config);
        agent.set_station_sources(sources);
        Ok(agent)
    }

    /// Milliseconds since the agent started: the datagrams' uptime.
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Applies a (new) configuration without disturbing what did not
    /// change: unchanged interfaces keep their sockets, counts and sequence
    /// numbers (a new rate is applied in place), collectors keep their
    /// statistics, datagram sequence numbers go on.
    fn apply(&mut self, new: Config) {
        log::set_level(new.agent.log_level);
        let now = self.now_ms();
        let agent = &new.agent;
        let filter = match agent.sampling_filter {
            SamplingFilter::Auto => FilterChoice::Auto,
            SamplingFilter::Ebpf => FilterChoice::EbpfOnly,
            SamplingFilter::Classic => FilterChoice::ClassicOnly,
        };
        let mut old = std::mem::take(&mut self.sources);
        for i in &new.interfaces {
            let settings = Settings {
                sampling_rate: agent.sampling_rate_for(i),
                polling_interval: agent.polling_interval_for(i),
                header_bytes: agent.header_bytes,
                ring_bytes: agent.ring_kib_for(i).saturating_mul(1024),
                filter,
                bss: i.bss.clone(),
                foreign_bss: i.foreign_bss,
            };
            let source = match old.iter().position(|s| s.device == i.device) {
                Some(k) => {
                    let mut s = old.swap_remove(k);
                    let was = std::mem::replace(&mut s.settings, settings);
                    let s_new = &s.settings;
                    // Snap length, ring and filter kind are fixed when a
                    // socket opens; the rate changes in place.
                    if was.header_bytes != s_new.header_bytes
                        || was.ring_bytes != s_new.ring_bytes
                        || was.filter != s_new.filter
                    {
                        s.close();
                    } else if was.sampling_rate != s_new.sampling_rate {
                        // Applied to the open socket by refresh_sources.
                        let rate = match s_new.sampling_rate {
                            Some(rate) => rate,
                            None => self.speed_rate(&s.device),
                        };
                        if rate != s.sampling_rate {
                            info!("{}: sampling rate now 1-in-{}", s.device, rate);
                            s.sampling_rate = rate;
                        }
                    }
                    if was.polling_interval != s.settings.polling_interval {
                        s.next_poll_ms = now + self.stagger(s.settings.polling_interval);
                    }
                    s
                }
                None => {
                    let polling = settings.polling_interval;
                    let mut s = InterfaceSource::new(i.device.clone(), settings);
                    s.next_poll_ms = now + self.stagger(polling);
                    s
                }
            };
            self.sources.push(source);
        }
        for s in &old {
            info!("{}: no longer sampled", s.device);
        }
        drop(old);
        if self.config.agent.polling_interval != agent.polling_interval
            || self.host_next_poll_ms == 0
        {
            self.host_next_poll_ms = now + self.stagger(agent.polling_interval);
        }
        self.collectors.configure(&new.collectors);
        let socket = ubus_socket(&new);
        if socket != self.ubus.path() {
            info!("ubus socket now {}", socket.display());
            self.ubus = UbusLink::new(socket);
        }
        let sources = new.agent.station_sources;
        if sources != self.config.agent.station_sources
            || self.config.agent.enabled != new.agent.enabled
        {
            self.set_station_sources(sources);
        }
        let enabled = new.agent.enabled;
        self.config = new;
        self.host_description = HostDescription::read();
        self.next_address_check_ms = 0;
        if enabled {
            self.resync();
        } else {
            info!("disabled in the configuration: not sampling");
            for s in &mut self.sources {
                s.close();
            }
        }
        self.housekeeping(now);
    }

    /// Starts and stops the station sources the configuration names, and
    /// says in the log what each can and cannot give.
    fn set_station_sources(&mut self, sources: crate::stations::Sources) {
        let kernel = sources.contains(Source::Nl80211);
        match (&self.nl80211, kernel) {
            (Some(client), true) if self.nl80211_events.is_none() => {
                match Nl80211Events::open(client) {
                    Ok(events) => {
                        info!("stations: following the kernel's (nl80211)");
                        self.nl80211_events = Some(events);
                    }
                    Err(e) => warn!(
                        "stations: cannot follow nl80211's notifications ({e}): the kernel's stations are listed every polling interval only"
                    ),
                }
            }
            (None, true) => {
                info!("stations: nl80211 is not available: the kernel cannot tell stations")
            }
            (_, false) => {
                self.nl80211_events = None;
                self.kernel_stations.clear(&mut self.stations);
            }
            _ => {}
        }
        self.ubus
            .follow_hostapd(sources.contains(Source::Ubus), &mut self.stations);
    }

    /// The rate chosen from an interface's link speed.
    fn speed_rate(&self, device: &str) -> u32 {
        config::sampling_rate_for_speed(interface::link_speed(device).0)
    }

    /// A random first delay within one polling interval, so that counter
    /// polls of different sources (and agents) are not synchronised.
    fn stagger(&mut self, interval_s: u32) -> u64 {
        if interval_s == 0 {
            return 0;
        }
        1000 + u64::from(self.rng.below(interval_s.saturating_mul(1000)))
    }

    /// Re-reads the configuration file; keeps the running configuration if
    /// the new one is invalid.
    fn reload(&mut self) -> bool {
        match config::load(&self.config_path) {
            Ok(loaded) => {
                let id = loaded.config.agent.sub_agent_id;
                if id != self.config.agent.sub_agent_id {
                    match instance::acquire(id) {
                        // The old lock goes with the old sub-agent id.
                        Ok(lock) => self.lock = lock,
                        Err(e) => {
                            error!("reload refused, keeping the running configuration: {e}");
                            return false;
                        }
                    }
                }
                for w in &loaded.warnings {
                    warn!("{w}");
                }
                info!("configuration reloaded from {}", self.config_path.display());
                self.apply(loaded.config);
                true
            }
            Err(e) => {
                error!("reload refused, keeping the running configuration: {e}");
                false
            }
        }
    }

    /// Reads the links and the bridges' forwarding databases afresh (at
    /// start, after a reload, after lost netlink events) and brings every
    /// source in line.
    fn resync(&mut self) {
        let links = self.links();
        self.topology.set_links(&links);
        if let Some(route) = &mut self.route {
            match route.fdb() {
                Ok(fdb) => self.topology.set_fdb(&fdb),
                Err(e) => debug!("cannot read the bridge forwarding database: {e}"),
            }
        }
        self.refresh_sources(&links);
    }

    /// Matches every source with its interface (by name), then opens the
    /// sockets that can be opened and gives every filter the current set of
    /// other sampled interfaces.
    fn refresh_sources(&mut self, links: &[Link]) {
        if !self.config.agent.enabled {
            return;
        }
        let mut missing: Vec<&str> = Vec::new();
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
        let ap_interfaces: Vec<String> = self
            .sources
            .iter()
            .filter(|s| !s.is_monitor() && s.if_index.is_some())
            .map(|s| s.device.clone())
            .collect();
        for s in self.sources.iter_mut().filter(|s| s.is_monitor()) {
            let ours =
                OurBsses::resolve(&s.settings.bss, &s.device, &ap_interfaces, links, |name| {
                    std::fs::read_to_string(format!("/sys/class/net/{name}/phy80211/name"))
                        .ok()
                        .map(|p| p.trim().to_string())
                });
            if ours != s.ours {
                if ours.is_empty() && s.settings.foreign_bss == config::ForeignBss::Ignore {
                    warn!(
                        "monitor {}: no BSS of ours found (set 'bss'): nothing will be sampled",
                        s.device
                    );
                }
                s.ours = ours;
            }
        }
        // The kernel's stations of the sampled interfaces that are APs.
        if let (Some(client), true) = (
            &mut self.nl80211,
            self.config.agent.station_sources.contains(Source::Nl80211),
        ) {
            let followed: Vec<(u32, String)> = self
                .sources
                .iter()
                .filter(|s| !s.is_monitor())
                .filter_map(|s| Some((s.if_index?, s.device.clone())))
                .collect();
            self.kernel_stations
                .set_interfaces(&followed, client, &mut self.stations);
        }
        // A frame leaving through any sampled interface that entered
        // through one (itself included: relayed back out of the radio it
        // came from) was a candidate where it entered.
        let sampled: Vec<u32> = self
            .sources
            .iter()
            .filter(|s| !s.is_monitor())
            .filter_map(|s| s.if_index)
            .collect();
        for s in &mut self.sources {
            if s.is_open() {
                s.update_filter(&sampled);
            } else {
                let rate = config::sampling_rate_for_speed(interface::link_speed(&s.device).0);
                s.open(&sampled, rate);
            }
        }
        self.next_address_check_ms = 0;
    }

    /// Handles the link and forwarding changes the kernel announced.
    fn handle_events(&mut self) {
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
            Ok(EventsStatus::Ok) if relevant => {
                let links = self.links();
                self.refresh_sources(&links);
            }
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

    /// The descriptors to poll, each with the slot it stands for, in the
    /// order they are served: signals, then what hostapd may wait on, then
    /// the kernel's notifications, the timer and the sampled interfaces.
    fn poll_set(&self, fds: &mut Vec<libc::pollfd>, slots: &mut Vec<Slot>) {
        fds.clear();
        slots.clear();
        let mut add = |fd: i32, events: i16, slot: Slot| {
            fds.push(pollfd(fd, events));
            slots.push(slot);
        };
        add(
            self.signals.as_fd().as_raw_fd(),
            libc::POLLIN,
            Slot::Signals,
        );
        if let Some((fd, events)) = self.ubus.poll_fd() {
            add(fd, events, Slot::Ubus);
        }
        if let Some(e) = &self.events {
            add(e.as_fd().as_raw_fd(), libc::POLLIN, Slot::LinkEvents);
        }
        if let Some(e) = &self.nl80211_events {
            add(e.as_fd().as_raw_fd(), libc::POLLIN, Slot::KernelStations);
        }
        add(self.timer.as_fd().as_raw_fd(), libc::POLLIN, Slot::Timer);
        for (i, s) in self.sources.iter().enumerate() {
            if let Some(fd) = s.capture_fd() {
                add(fd, libc::POLLIN, Slot::Source(i));
            }
        }
    }

    /// Runs until SIGTERM or SIGINT.
    pub fn run(&mut self) -> io::Result<()> {
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut slots: Vec<Slot> = Vec::new();
        loop {
            self.poll_set(&mut fds, &mut slots);
            poll(&mut fds, -1)?;
            for (pfd, &slot) in fds.iter().zip(slots.iter()) {
                let revents = pfd.revents;
                if revents == 0 {
                    continue;
                }
                match slot {
                    Slot::Signals => {
                        if self.signals_arrived()? {
                            return Ok(());
                        }
                        // A reload may have changed the sources: poll again.
                        break;
                    }
                    // hostapd first: it may be waiting for our answer.
                    Slot::Ubus => {
                        if self.service_ubus(revents) {
                            // Reloaded: the sources may have changed.
                            break;
                        }
                    }
                    Slot::LinkEvents => {
                        self.handle_events();
                        // Sources may have been re-opened: poll again.
                        break;
                    }
                    Slot::KernelStations => self.kernel_events(),
                    Slot::Timer => {
                        if self.timer.read() > 0 {
                            self.tick();
                        }
                    }
                    Slot::Source(i) => self.service(i, revents),
                }
            }
        }
    }

    /// Handles the signals that arrived; returns true when the agent is to
    /// stop (SIGTERM, SIGINT), after it logged its final counts and sent
    /// what was pending.
    fn signals_arrived(&mut self) -> io::Result<bool> {
        while let Some(signal) = self.signals.read()? {
            if signal == libc::SIGHUP {
                self.reload();
                continue;
            }
            info!("terminating on signal {signal}");
            for s in &mut self.sources {
                let c = s.counts();
                let rejected = if s.is_monitor() {
                    format!(", rejected {}", s.rejected)
                } else {
                    String::new()
                };
                info!(
                    "{}: pool {}, samples {}, drops {}, accepted by the filter {}{rejected}",
                    s.device, c.pool, c.samples, c.drops, c.accepted
                );
            }
            let now = self.now_ms() as u32;
            self.packer.flush(now, &mut self.collectors);
            return Ok(true);
        }
        Ok(false)
    }

    /// Reads nl80211's notifications into the station table.
    fn kernel_events(&mut self) {
        let Some(events) = &mut self.nl80211_events else {
            return;
        };
        let (kernel, table) = (&mut self.kernel_stations, &mut self.stations);
        match events.read(|e| {
            kernel.event(e, table);
        }) {
            Ok(EventsStatus::Ok) => {}
            Ok(EventsStatus::Lost) => {
                debug!("nl80211 notifications were lost: listing the stations again");
                kernel.lost();
            }
            Err(e) => {
                warn!(
                    "nl80211 notifications: {e}; listing the stations every polling interval only"
                );
                self.nl80211_events = None;
            }
        }
    }

    /// Reads what ubusd sent (hostapd's notifications are answered there,
    /// at once) and answers calls of our object.
    /// Returns whether the configuration was reloaded.
    fn service_ubus(&mut self, revents: i16) -> bool {
        if revents & libc::POLLOUT != 0 {
            self.ubus.writable();
        }
        if revents & !libc::POLLOUT == 0 {
            return false;
        }
        let mut reloaded = false;
        let now = self.now_ms();
        for call in self.ubus.handle(now, &mut self.stations) {
            match call {
                Call::Status { .. } => {
                    let status = self.status();
                    self.ubus.answer(call, Some(status.payload()), 0);
                }
                Call::Reload { .. } => {
                    reloaded = true;
                    let code = if self.reload() {
                        0
                    } else {
                        crate::ubus::message::status::INVALID_ARGUMENT
                    };
                    self.ubus.answer(call, None, code);
                }
            }
        }
        reloaded
    }

    /// Reads the sampled frames of one source and encodes their samples.
    fn service(&mut self, index: usize, revents: i16) {
        let now = self.now_ms() as u32;
        let Agent {
            sources,
            packer,
            collectors,
            encode_errors,
            topology,
            ssids,
            scratch,
            stations,
            ..
        } = self;
        let Some(source) = sources.get_mut(index) else {
            return;
        };
        if revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
            // Read the error so poll does not report it again (no busy
            // loop); a socket that hangs up is closed and re-opened when the
            // interface comes back (netlink tells).
            if let Err(e) = source.clear_error() {
                debug!("{}: {}", source.device, e);
            }
            if revents & (libc::POLLHUP | libc::POLLNVAL) != 0 {
                source.close();
                return;
            }
        }
        let Some(if_index) = source.if_index else {
            return;
        };
        let rate = source.sampling_rate;
        let InterfaceSource {
            capture,
            flow_sequence: sequence,
            settings,
            ours,
            rejected,
            device,
            tx_power_mw,
            ..
        } = source;
        // The BSS hostapd serves on this interface: samples of its
        // (decrypted, Ethernet) frames get the radio context of the
        // station they come from or go to.
        let bss = stations.by_ifname(device);
        let power = *tx_power_mw;
        let Some(capture) = capture else {
            return;
        };
        let header_bytes = settings.header_bytes as usize;
        let foreign = settings.foreign_bss;
        let mut push =
            |counts: &crate::capture::CaptureCounts, input, output, records: &[FlowRecord]| {
                let sample = FlowSample {
                    sequence_number: sequence.advance(),
                    source: DataSource::interface(if_index),
                    sampling_rate: rate,
                    sample_pool: counts.pool as u32,
                    drops: counts.drops as u32,
                    input,
                    output,
                    records: List::Items(records),
                };
                if let Err(e) = packer.push_flow(&sample, now, collectors) {
                    *encode_errors += 1;
                    if encode_errors.is_power_of_two() {
                        warn!("flow sample not sent ({} so far): {}", encode_errors, e);
                    }
                }
            };
        let result = capture.read_pending(|frame: &Frame, counts| {
            if frame.hw_type == ARPHRD_IEEE80211_RADIOTAP {
                let m = match MonitorFrame::parse_with_wire_len(frame.data, frame.length as usize) {
                    Ok(m) => m,
                    Err(e) => {
                        *rejected += 1;
                        crate::debug_limited!("monitor frame rejected: {e}");
                        return;
                    }
                };
                ssids.learn(&m);
                let Some((input, output)) = monitor::path(&m, ours, foreign, if_index) else {
                    return;
                };
                let ssid = ssids.get(&m.bssid().map_or([0; 6], |b| b.0));
                let (header, rx) = monitor::records(&m, ssid, header_bytes, scratch);
                let records = [
                    FlowRecord::SampledHeader(header),
                    FlowRecord::Extended80211Rx(rx),
                ];
                push(counts, input, output, &records);
                return;
            }
            let Some(header) = source::sampled_header(frame) else {
                return;
            };
            let addresses = source::ethernet_addresses(frame.data)
                .filter(|_| header.protocol == HeaderProtocol::ETHERNET);
            let (input, output) = match addresses {
                Some((dst, src)) => topology.path(if_index, frame.direction(), &dst, &src),
                None => path::layer3(if_index, frame.direction()),
            };
            let radio = match (bss, addresses) {
                (Some(bss), Some((dst, src))) => {
                    radio::record(bss, frame.direction(), &dst, &src, power)
                }
                _ => None,
            };
            let with_radio;
            let plain;
            let records: &[FlowRecord] = match radio {
                Some(r) => {
                    with_radio = [FlowRecord::SampledHeader(header), r];
                    &with_radio
                }
                None => {
                    plain = [FlowRecord::SampledHeader(header)];
                    &plain
                }
            };
            push(counts, input, output, records);
        });
        match result {
            Ok(_) => {}
            // The interface went down: the socket stays bound and resumes
            // when it comes back up.
            Err(e) if e.raw_os_error() == Some(libc::ENETDOWN) => {
                debug!("{}: {}", source.device, e)
            }
            Err(e) => {
                warn!("{}: capture failed: {}; closing", source.device, e);
                source.close();
            }
        }
    }

    /// Once a second: flush, poll due counters, look after collectors and
    /// the agent address; without netlink events, look for interfaces too.
    fn tick(&mut self) {
        let now = self.now_ms();
        if self.events.is_none() && self.config.agent.enabled {
            let links = self.links();
            self.refresh_sources(&links);
        }
        self.housekeeping(now);
        if self.config.agent.enabled {
            self.poll_counters(now);
        }
        self.packer.flush(now as u32, &mut self.collectors);
    }

    fn housekeeping(&mut self, now: u64) {
        self.collectors.tick(now);
        // hostapd's status and station lists, every polling interval.
        let refresh = now >= self.next_ubus_refresh_ms;
        if refresh {
            let interval = match self.config.agent.polling_interval {
                0 => REFRESH_WITHOUT_POLLING_S,
                n => n,
            };
            self.next_ubus_refresh_ms = now + u64::from(interval) * 1000;
        }
        self.ubus.tick(now, refresh, &mut self.stations);
        // The kernel's stations: all of them every polling interval (for
        // their rates and signal), those just joined at the next tick.
        if let (Some(client), true) = (
            &mut self.nl80211,
            self.config.agent.station_sources.contains(Source::Nl80211),
        ) {
            self.kernel_stations
                .refresh(refresh, client, &mut self.stations);
        }
        if self.config.agent.enabled && now >= self.next_address_check_ms {
            self.next_address_check_ms = now + ADDRESS_CHECK_MS;
            self.update_packer(now);
        }
    }

    /// Chooses the agent address and the sample form; reconfigures the
    /// packer (flushing pending samples) when either changes.
    fn update_packer(&mut self, now: u64) {
        let links = self.links();
        let addresses = self.addresses(&links);
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
        let old = *self.packer.config();
        if old.agent_address != chosen || !self.agent_address_chosen {
            self.agent_address_chosen = true;
            match chosen {
                Some(ip) => info!("agent address {ip}"),
                None => warn!(
                    "no address found for the agent: datagrams carry an unknown agent address"
                ),
            }
        }
        if old.form != config.form {
            info!(
                "using {:?} samples (largest ifIndex {max_index})",
                config.form
            );
        }
        self.packer
            .reconfigure(config, now as u32, &mut self.collectors);
    }

    /// The host's addresses by interface name (`links` names them).
    fn addresses(&mut self, links: &[Link]) -> Vec<address::InterfaceAddress> {
        let addresses = match self.route.as_mut().map(RouteSocket::addresses) {
            Some(Ok(addresses)) => addresses,
            Some(Err(e)) => {
                warn!("cannot read the interface addresses: {e}");
                Vec::new()
            }
            None => Vec::new(),
        };
        addresses
            .into_iter()
            .filter_map(|a| {
                let link = links.iter().find(|l| l.if_index == a.if_index)?;
                Some(address::InterfaceAddress {
                    interface: link.name.clone(),
                    address: a.address,
                })
            })
            .collect()
    }

    fn links(&mut self) -> Vec<Link> {
        match self.route.as_mut().map(RouteSocket::links) {
            Some(Ok(links)) => links,
            Some(Err(e)) => {
                warn!("cannot read the interfaces: {e}");
                Vec::new()
            }
            None => Vec::new(),
        }
    }
}
