//! The agent: one thread, one event loop, and one helper thread for what
//! may wait on the kernel.
//!
//! `poll(2)` waits on named slots ([`Slot`]): a signalfd (SIGTERM, SIGINT,
//! SIGHUP), ubusd (hostapd's notifications, calls of our object), netlink
//! notifications (links and bridge forwarding entries; nl80211's stations),
//! the kernel helper's answers ([`kernel`]), a one-second timerfd, and one
//! ring socket per sampled interface. Each data source has a role (wired,
//! access point, monitor) with its own sample builder (`source/`); sampled
//! frames are encoded straight into the pending datagram. The timer
//! flushes it (no sample waits more than a second) and asks the kernel
//! helper for the counters that are due; the counter samples are encoded
//! when the answer comes (`counters.rs`).
//!
//! Nothing on the loop waits: sends are non-blocking, names are resolved
//! by the agent's own non-blocking DNS client (`dns::host`), and every
//! netlink request, sysfs, debugfs and /proc read is made by the kernel
//! helper.
//!
//! One frame, from ring to datagram: the ring's socket is readable →
//! [`Slot::Source`] → `InterfaceSource::read` → the builder of its role
//! (e.g. `access_point::sample`: header, path, radio context from the
//! station table) → `Sampler::emit` → `Output::flow` → the packer, which
//! sends the datagram when full or at the next tick.
//!
//! One hostapd event, to a counter sample: ubusd's socket is readable →
//! [`Slot::Ubus`] → `UbusLink::handle` answers hostapd at once, then
//! `stations::ubus` turns the notification into an `Update` → the
//! `StationTable`; at the source's next polling time the timer asks the
//! kernel helper for its figures → [`Slot::Kernel`] → `counters::emit`
//! reads the BSS's association count from the table → `Output::counters`.

pub mod address;
pub mod counters;
pub mod discovery;
pub mod instance;
mod interfaces;
pub mod kernel;
pub mod path;
pub mod source;
pub mod ubus;

mod reconfigure;
mod status;

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::config::{self, Config, Loaded};
use crate::counters::host::HostDescription;
use crate::netlink::{EventSocket, EventsStatus, Link, RouteSocket};
use crate::output::Collectors;
use crate::rng::Rng;
use crate::sflow::{
    CountersSample, DatagramPacker, FlowSample, PackerConfig, SampleForm, SequenceNumber,
};
use crate::sorted_map::SortedMap;
use crate::stations::hostapd_control::HostapdControl;
use crate::stations::nl80211::KernelStations;
use crate::stations::{Source, StationTable};
use crate::sys::{poll, pollfd, InstanceLock, SignalFd, TimerFd};
use crate::wifi::nl80211::events::Nl80211Events;
use crate::wifi::nl80211::Nl80211;
use crate::{debug, info, warn};
use kernel::{Answer, Kernel, LinkFacts, Query};
use path::Topology;
use source::monitor::SsidTable;
use source::{Context, InterfaceSource, Role};
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
    /// A hostapd control socket (stock hostapd), by its descriptor.
    HostapdControl(i32),
    /// The kernel helper's answers.
    Kernel,
    Timer,
    /// A sampled interface's ring, by its index in `sources`.
    Source(usize),
    /// DNS-SD's lookup, while its queries are out.
    Dns,
}

/// How often the kernel's stations are listed at most (a dump per AP
/// interface, made by the kernel helper).
const KERNEL_STATIONS_MS: u64 = 5_000;

/// Period of the housekeeping timer.
const TICK_MS: u64 = 1000;
/// How often hostapd's status and stations are listed when counter polling
/// is off (else once per polling interval).
const REFRESH_WITHOUT_POLLING_S: u32 = 20;
/// How often the automatic agent address is chosen again.
const ADDRESS_CHECK_MS: u64 = 30_000;

/// Where samples go: the pending datagram and the collectors.
pub struct Output {
    pub packer: DatagramPacker,
    pub collectors: Collectors,
    /// Samples that could not be encoded (counted to rate-limit the
    /// warning: logged at the 1st, 2nd, 4th, 8th... occurrence).
    encode_errors: u64,
}

impl Output {
    pub fn flow(&mut self, sample: &FlowSample, now_ms: u32) {
        if let Err(e) = self.packer.push_flow(sample, now_ms, &mut self.collectors) {
            self.encode_errors += 1;
            if self.encode_errors.is_power_of_two() {
                warn!(
                    "flow sample not sent ({} so far): {}",
                    self.encode_errors, e
                );
            }
        }
    }

    pub fn counters(&mut self, sample: &CountersSample, now_ms: u32, what: &str) {
        if let Err(e) = self
            .packer
            .push_counters(sample, now_ms, &mut self.collectors)
        {
            warn!("{what}: counter sample not sent: {e}");
        }
    }
}

/// The host's own data source (host structures, entPhysicalEntry 1).
struct HostSource {
    sequence: SequenceNumber,
    next_poll_ms: u64,
    description: HostDescription,
}

/// The queries to the kernel helper that await their answer; a kind is
/// asked again only once answered.
#[derive(Debug, Default)]
struct Asked {
    topology: bool,
    /// The topology is to be read again when the answer comes.
    topology_again: bool,
    addresses: bool,
    counters: bool,
    stations: bool,
    /// Interfaces whose stations are to be listed when that answer comes.
    stations_next: Vec<(u32, String)>,
}

/// What is known of the Wi-Fi side: the station table and its sources,
/// and the SSIDs monitors learned.
struct Wifi {
    stations: StationTable,
    ubus: UbusLink,
    /// nl80211 exists in this kernel.
    nl80211: bool,
    /// nl80211's notifications (stations, interfaces), when the kernel is
    /// a station source.
    nl80211_events: Option<Nl80211Events>,
    kernel_stations: KernelStations,
    /// Stock hostapd's control sockets, when they are a station source.
    control: Option<HostapdControl>,
    ssids: SsidTable,
}

/// When the periodic chores are next due (agent uptime, ms).
#[derive(Debug, Default)]
struct Due {
    address_check_ms: u64,
    ubus_refresh_ms: u64,
    /// The next listing of the kernel's stations (their rates and signal).
    kernel_stations_ms: u64,
}

pub struct Agent {
    config_path: PathBuf,
    /// Held while the agent runs as its sub-agent id ([`instance`]).
    lock: InstanceLock,
    config: Config,
    started: Instant,
    out: Output,
    sources: Vec<InterfaceSource>,
    host: HostSource,
    topology: Topology,
    /// The links as last read, and what sysfs says of those we sample.
    links: Vec<Link>,
    facts: SortedMap<String, LinkFacts>,
    kernel: Kernel,
    asked: Asked,
    events: Option<EventSocket>,
    wifi: Wifi,
    due: Due,
    rng: Rng,
    signals: SignalFd,
    timer: TimerFd,
    /// Whether the agent address was chosen (and logged) once.
    agent_address_chosen: bool,
    /// Room for the header of an A-MPDU subframe sample (allocated once).
    scratch: Vec<u8>,
    /// The configuration as the file says it; `config` is this with what
    /// DNS-SD found laid over it.
    file_config: Config,
    dns_sd: discovery::DnsSd,
}

impl Agent {
    /// Sets up the agent. Signals are blocked here, before any helper
    /// thread exists, so that only the signalfd receives them. `lock` is
    /// the instance lock of the configuration's sub-agent id
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
        // Resolved once, before the loop runs; the client then belongs to
        // the kernel helper.
        let nl80211 = Nl80211::open()
            .map_err(|e| {
                info!("no nl80211 ({e}): no Wi-Fi in this kernel, or it cannot be reached")
            })
            .ok();
        let nl80211_events = nl80211.as_ref().and_then(|n| {
            Nl80211Events::open(n)
                .map_err(|e| {
                    warn!("cannot follow nl80211's notifications ({e}): stations are listed every polling interval only")
                })
                .ok()
        });
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
            out: Output {
                packer,
                collectors: Collectors::new(),
                encode_errors: 0,
            },
            sources: Vec::new(),
            host: HostSource {
                sequence: SequenceNumber::default(),
                next_poll_ms: 0,
                description: HostDescription::read(),
            },
            topology: Topology::default(),
            links: Vec::new(),
            facts: SortedMap::new(),
            wifi: Wifi {
                stations: StationTable::default(),
                ubus: UbusLink::new(ubus_socket(&config)),
                nl80211: nl80211.is_some(),
                nl80211_events,
                kernel_stations: KernelStations::default(),
                control: None,
                ssids: SsidTable::default(),
            },
            kernel: Kernel::start(route, nl80211)?,
            asked: Asked::default(),
            events,
            due: Due::default(),
            rng: Rng::from_entropy(),
            signals,
            timer,
            agent_address_chosen: false,
            scratch: Vec::with_capacity(config::MAX_HEADER_BYTES as usize + 4),
            file_config: Config::default(),
            dns_sd: discovery::DnsSd::new(),
        };
        for w in &loaded.warnings {
            warn!("{w}");
        }
        let sources = config.agent.station_sources;
        agent.apply_file(config);
        agent.set_station_sources(sources, true);
        Ok(agent)
    }

    /// Milliseconds since the agent started: the datagrams' uptime.
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// The descriptors to poll, each with the slot it stands for, in the
    /// order they are served: signals, then what hostapd may wait on, then
    /// the kernel's notifications and answers, the timer and the sampled
    /// interfaces.
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
        if let Some((fd, events)) = self.wifi.ubus.poll_fd() {
            add(fd, events, Slot::Ubus);
        }
        if let Some(e) = &self.events {
            add(e.as_fd().as_raw_fd(), libc::POLLIN, Slot::LinkEvents);
        }
        if let Some(e) = &self.wifi.nl80211_events {
            add(e.as_fd().as_raw_fd(), libc::POLLIN, Slot::KernelStations);
        }
        if let Some(c) = &self.wifi.control {
            let mut control = Vec::new();
            c.poll_fds(&mut control);
            for (fd, events) in control {
                add(fd, events, Slot::HostapdControl(fd));
            }
        }
        add(self.kernel.as_fd().as_raw_fd(), libc::POLLIN, Slot::Kernel);
        add(self.timer.as_fd().as_raw_fd(), libc::POLLIN, Slot::Timer);
        if let Some(fd) = self.dns_sd.poll_fd() {
            add(fd, libc::POLLIN, Slot::Dns);
        }
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
                    Slot::LinkEvents => self.handle_events(),
                    Slot::KernelStations => self.kernel_events(),
                    Slot::HostapdControl(fd) => {
                        let now = self.now_ms();
                        if let Some(c) = &mut self.wifi.control {
                            c.handle(fd, now, &mut self.wifi.stations);
                        }
                    }
                    Slot::Kernel => {
                        if self.kernel_answered() {
                            // Sources may have been re-opened.
                            break;
                        }
                    }
                    Slot::Timer => {
                        if self.timer.read() > 0 {
                            self.tick();
                            if self.dns_sd_tick() {
                                // Applied what DNS-SD found: sources may
                                // have changed.
                                break;
                            }
                        }
                    }
                    Slot::Source(i) => {
                        self.service(i, revents);
                    }
                    Slot::Dns => {
                        let now = self.now_ms();
                        if self.dns_sd.readable(now) {
                            self.apply_discovered();
                            break;
                        }
                    }
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
            self.drain_sources();
            for s in &mut self.sources {
                let c = s.counts();
                let rejected = match &s.role {
                    Role::Monitor(m) => format!(", rejected {}", m.rejected),
                    _ => String::new(),
                };
                // Frames read may be more than samples sent: a monitor
                // reads the frames of other BSSes too, and ignores them.
                info!(
                    "{}: pool {}, frames read {}, samples sent {}, drops {}, accepted by the filter {}{rejected}",
                    s.device,
                    c.pool,
                    c.samples,
                    s.flow_sequence.last(),
                    c.drops,
                    c.accepted
                );
            }
            if let Some(c) = &self.wifi.control {
                // What following hostapd cost it: each message from its
                // control sockets handled within these times.
                let st = c.stats();
                info!(
                    "hostapd control: {} sockets, {} events, {} replies, {} timed out, handling p99 {} µs, max {} µs",
                    st.sockets,
                    st.events,
                    st.replies,
                    st.timed_out,
                    st.handling.percentile_us(99).unwrap_or(0),
                    st.handling.max_ns.div_ceil(1000)
                );
            }
            let now = self.now_ms() as u32;
            self.out.packer.flush(now, &mut self.out.collectors);
            return Ok(true);
        }
        Ok(false)
    }

    /// Reads nl80211's notifications into the station table.
    fn kernel_events(&mut self) {
        let w = &mut self.wifi;
        let Some(events) = &mut w.nl80211_events else {
            return;
        };
        let (kernel, table) = (&mut w.kernel_stations, &mut w.stations);
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
                w.nl80211_events = None;
            }
        }
        // A station that just joined is announced without its rates and
        // signal: its interface is listed at once (by the kernel helper),
        // not at the next tick, so that its first samples carry them.
        if self.config.agent.station_sources.contains(Source::Nl80211) {
            let due = self.wifi.kernel_stations.due(false);
            self.list_stations(due);
        }
    }

    /// Handles what the kernel helper answered; returns whether the
    /// sources may have changed.
    fn kernel_answered(&mut self) -> bool {
        let mut changed = false;
        for answer in self.kernel.answers() {
            match answer {
                Answer::Topology(t) => {
                    self.topology_read(t);
                    changed = true;
                }
                Answer::Addresses { links, addresses } => {
                    self.asked.addresses = false;
                    let now = self.now_ms();
                    self.update_packer(&links, &addresses, now);
                }
                Answer::Counters { interfaces, host } => {
                    self.asked.counters = false;
                    let now = self.now_ms() as u32;
                    counters::emit(self, interfaces, host, now);
                    // Sent now, not at the next tick: counters are read
                    // for the moment they are due.
                    self.out.packer.flush(now, &mut self.out.collectors);
                }
                Answer::Stations(listings) => {
                    self.asked.stations = false;
                    let w = &mut self.wifi;
                    for l in &listings {
                        // A monitor: the channel its radio is on.
                        let monitor = self.sources.iter_mut().find_map(|s| match &mut s.role {
                            Role::Monitor(m) if s.if_index == Some(l.if_index) => Some(m),
                            _ => None,
                        });
                        if let Some(m) = monitor {
                            m.operating_mhz = l
                                .info
                                .as_ref()
                                .and_then(|i| i.frequency_mhz)
                                .and_then(|f| u16::try_from(f).ok());
                        } else if self.config.agent.station_sources.contains(Source::Nl80211) {
                            w.kernel_stations.listed(l, &mut w.stations);
                        }
                    }
                    self.monitor_channels();
                    let next = std::mem::take(&mut self.asked.stations_next);
                    self.list_stations(next);
                }
            }
        }
        changed
    }

    /// Reads what ubusd sent (hostapd's notifications are answered there,
    /// at once) and answers calls of our object. Returns whether the
    /// configuration was reloaded.
    fn service_ubus(&mut self, revents: i16) -> bool {
        if revents & libc::POLLOUT != 0 {
            self.wifi.ubus.writable();
        }
        if revents & !libc::POLLOUT == 0 {
            return false;
        }
        let mut reloaded = false;
        let now = self.now_ms();
        for call in self.wifi.ubus.handle(now, &mut self.wifi.stations) {
            match call {
                Call::Status { .. } => {
                    let status = self.status();
                    self.wifi.ubus.answer(call, Some(status.payload()), 0);
                }
                Call::Reload { .. } => {
                    reloaded = true;
                    let code = if self.reload() {
                        0
                    } else {
                        crate::ubus::message::status::INVALID_ARGUMENT
                    };
                    self.wifi.ubus.answer(call, None, code);
                }
            }
        }
        reloaded
    }

    /// Reads the sampled frames of one source and encodes their samples.
    fn service(&mut self, index: usize, revents: i16) -> usize {
        let now_ms = self.now_ms() as u32;
        let Some(source) = self.sources.get_mut(index) else {
            return 0;
        };
        let mut ctx = Context {
            now_ms,
            topology: &self.topology,
            stations: &self.wifi.stations,
            ssids: &mut self.wifi.ssids,
            scratch: &mut self.scratch,
            out: &mut self.out,
        };
        source.read(revents, &mut ctx)
    }

    /// At exit: every frame the sources sampled, to the last one, so that
    /// the final pools and the samples agree. Their filters stop taking
    /// frames (the pools stop moving), the kernel hands over the blocks it
    /// is filling (within two block timeouts: at most a quarter of a
    /// second here, once, at exit), and every frame is read.
    fn drain_sources(&mut self) {
        for s in &mut self.sources {
            s.stop_sampling();
        }
        let wait =
            Duration::from_millis(2 * u64::from(crate::capture::ring::BLOCK_TIMEOUT_MS) + 50);
        let deadline = Instant::now() + wait;
        loop {
            for i in 0..self.sources.len() {
                while self.service(i, 0) > 0 {}
            }
            let held = self.sources.iter().any(|s| s.frames_in_kernel() > 0);
            if !held || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Once a second: flush, ask for the counters that are due, look after
    /// collectors, station sources and the agent address; without netlink
    /// events, look for interfaces too.
    fn tick(&mut self) {
        let now = self.now_ms();
        if self.events.is_none() && self.config.agent.enabled {
            self.resync();
        }
        self.housekeeping(now);
        if self.config.agent.enabled {
            self.ask_counters(now);
        }
        self.out.packer.flush(now as u32, &mut self.out.collectors);
    }

    fn housekeeping(&mut self, now: u64) {
        self.out.collectors.tick(now);
        // hostapd's status and station lists, every polling interval.
        let refresh = now >= self.due.ubus_refresh_ms;
        if refresh {
            let interval = match self.config.agent.polling_interval {
                0 => REFRESH_WITHOUT_POLLING_S,
                n => n,
            };
            self.due.ubus_refresh_ms = now + u64::from(interval) * 1000;
        }
        self.wifi.ubus.tick(now, refresh, &mut self.wifi.stations);
        if let Some(c) = &mut self.wifi.control {
            c.tick(now, refresh, &mut self.wifi.stations);
        }
        // The kernel's stations: all of them every polling interval (for
        // their rates and signal), those just joined at the next tick.
        if self.config.agent.station_sources.contains(Source::Nl80211) && self.wifi.nl80211 {
            // At most every KERNEL_STATIONS_MS: a sample carries its
            // station's rate and signal as last listed, and the rate
            // control changes them within seconds of an association.
            let all = now >= self.due.kernel_stations_ms;
            if all {
                let interval = match u64::from(self.config.agent.polling_interval) * 1000 {
                    0 => KERNEL_STATIONS_MS,
                    ms => ms.min(KERNEL_STATIONS_MS),
                };
                self.due.kernel_stations_ms = now + interval;
            }
            let due = self.wifi.kernel_stations.due(all);
            self.list_stations(due);
        }
        if refresh {
            let monitors = self.monitors();
            self.list_stations(monitors);
        }
        // A BSS may have come or gone on an interface: its role follows.
        self.assign_roles();
        if self.config.agent.enabled && now >= self.due.address_check_ms && !self.asked.addresses {
            self.due.address_check_ms = now + ADDRESS_CHECK_MS;
            self.kernel.ask(Query::Addresses);
            self.asked.addresses = true;
        }
    }
}
