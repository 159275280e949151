//! The agent: one thread, one event loop.
//!
//! `poll(2)` waits on a signalfd (SIGTERM, SIGINT, SIGHUP), a one-second
//! timerfd and one packet socket per sampled interface. Sampled frames are
//! encoded straight into the pending datagram; the timer flushes it (so no
//! sample waits more than a second), polls the counters that are due and
//! looks after interfaces, names and the agent address. Nothing on the loop
//! blocks: sends are non-blocking and names are resolved off the loop.

pub mod address;
pub mod source;

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::time::Instant;

use crate::capture::READ_BUDGET;
use crate::config::{self, Config, Loaded};
use crate::counters::host::{self, HostDescription, HostReader};
use crate::counters::interface;
use crate::counters::netlink::{Link, RouteSocket};
use crate::output::Collectors;
use crate::rng::Rng;
use crate::sflow::{
    CounterRecord, CountersSample, DataSource, DatagramPacker, FlowRecord, FlowSample, HostAdapter,
    HostAdapters, List, Mac, PackerConfig, SampleForm, SequenceNumber,
};
use crate::sys::{self, poll, pollfd, SignalFd, TimerFd};
use crate::{debug, error, info, log, warn};
use source::InterfaceSource;

/// Period of the housekeeping timer.
const TICK_MS: u64 = 1000;
/// How often interfaces that are missing or were re-created are checked.
const INTERFACE_CHECK_MS: u64 = 1000;
/// How often the automatic agent address is chosen again.
const ADDRESS_CHECK_MS: u64 = 30_000;

pub struct Agent {
    config_path: PathBuf,
    config: Config,
    started: Instant,
    packer: DatagramPacker,
    collectors: Collectors,
    sources: Vec<InterfaceSource>,
    host_sequence: SequenceNumber,
    host_next_poll_ms: u64,
    host_description: HostDescription,
    host_reader: HostReader,
    route: Option<RouteSocket>,
    rng: Rng,
    signals: SignalFd,
    timer: TimerFd,
    next_interface_check_ms: u64,
    next_address_check_ms: u64,
    /// Flow samples that could not be encoded (counted to rate-limit the
    /// warning: logged at the 1st, 2nd, 4th, 8th... occurrence).
    encode_errors: u64,
    /// Whether the agent address was chosen (and logged) once.
    agent_address_chosen: bool,
}

impl Agent {
    /// Sets up the agent. Signals are blocked here, before any helper
    /// thread exists, so that only the signalfd receives them.
    pub fn new(config_path: PathBuf, loaded: Loaded) -> io::Result<Agent> {
        let signals = SignalFd::new(&[libc::SIGTERM, libc::SIGINT, libc::SIGHUP])?;
        let timer = TimerFd::periodic(TICK_MS)?;
        let route = match RouteSocket::open() {
            Ok(r) => Some(r),
            Err(e) => {
                warn!("no netlink route socket ({e}): interface counters unavailable");
                None
            }
        };
        let config = loaded.config;
        let packer = DatagramPacker::new(PackerConfig {
            agent_address: None,
            sub_agent_id: config.agent.sub_agent_id,
            max_datagram_bytes: config.agent.datagram_bytes as usize,
            form: SampleForm::Compact,
        });
        let mut agent = Agent {
            config_path,
            config: Config::default(),
            started: Instant::now(),
            packer,
            collectors: Collectors::new(),
            sources: Vec::new(),
            host_sequence: SequenceNumber::default(),
            host_next_poll_ms: 0,
            host_description: HostDescription::read(),
            host_reader: HostReader::new(),
            route,
            rng: Rng::from_entropy(),
            signals,
            timer,
            next_interface_check_ms: 0,
            next_address_check_ms: 0,
            encode_errors: 0,
            agent_address_chosen: false,
        };
        for w in &loaded.warnings {
            warn!("{w}");
        }
        agent.apply(config);
        Ok(agent)
    }

    /// Milliseconds since the agent started: the datagrams' uptime.
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Applies a (new) configuration without disturbing what did not
    /// change: unchanged interfaces keep their sockets and sequence numbers,
    /// collectors keep their statistics, datagram sequence numbers go on.
    fn apply(&mut self, new: Config) {
        log::set_level(new.agent.log_level);
        let now = self.now_ms();
        let agent = &new.agent;
        let snap_len = agent.header_bytes;
        let mut old = std::mem::take(&mut self.sources);
        for i in &new.interfaces {
            let rate = agent.sampling_rate_for(i);
            let polling = agent.polling_interval_for(i);
            let source = match old.iter().position(|s| s.device == i.device) {
                Some(k) => {
                    let mut s = old.swap_remove(k);
                    if s.snap_len != snap_len {
                        // The snap length is fixed when a socket opens.
                        s.close();
                        s.snap_len = snap_len;
                    }
                    if s.sampling_rate != rate {
                        info!("{}: sampling rate now 1-in-{}", s.device, rate);
                        s.set_sampling_rate(rate);
                    }
                    if s.polling_interval != polling {
                        s.polling_interval = polling;
                        s.next_poll_ms = now + self.stagger(polling);
                    }
                    s
                }
                None => {
                    let mut s = InterfaceSource::new(i.device.clone(), rate, polling, snap_len);
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
        if !agent.enabled {
            info!("disabled in the configuration: not sampling");
            for s in &mut self.sources {
                s.close();
            }
        }
        if self.config.agent.polling_interval != agent.polling_interval
            || self.host_next_poll_ms == 0
        {
            self.host_next_poll_ms = now + self.stagger(agent.polling_interval);
        }
        self.collectors.configure(&new.collectors);
        self.config = new;
        self.host_description = HostDescription::read();
        self.next_interface_check_ms = 0;
        self.next_address_check_ms = 0;
        self.housekeeping(now);
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
    fn reload(&mut self) {
        match config::load(&self.config_path) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    warn!("{w}");
                }
                info!("configuration reloaded from {}", self.config_path.display());
                self.apply(loaded.config);
            }
            Err(e) => error!("reload refused, keeping the running configuration: {e}"),
        }
    }

    /// Runs until SIGTERM or SIGINT.
    pub fn run(&mut self) -> io::Result<()> {
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut owners: Vec<usize> = Vec::new();
        loop {
            fds.clear();
            owners.clear();
            fds.push(pollfd(self.signals.as_fd().as_raw_fd(), libc::POLLIN));
            fds.push(pollfd(self.timer.as_fd().as_raw_fd(), libc::POLLIN));
            for (i, s) in self.sources.iter().enumerate() {
                if let Some(fd) = s.capture_fd() {
                    fds.push(pollfd(fd, libc::POLLIN));
                    owners.push(i);
                }
            }
            poll(&mut fds, -1)?;

            if fds[0].revents != 0 {
                while let Some(signal) = self.signals.read()? {
                    match signal {
                        libc::SIGHUP => self.reload(),
                        _ => {
                            info!("terminating on signal {signal}");
                            let now = self.now_ms() as u32;
                            self.packer.flush(now, &mut self.collectors);
                            return Ok(());
                        }
                    }
                }
                // A reload may have changed the sources: poll again.
                continue;
            }
            if fds[1].revents != 0 && self.timer.read() > 0 {
                self.tick();
            }
            for (k, pfd) in fds[2..].iter().enumerate() {
                if pfd.revents != 0 {
                    self.service(owners[k], pfd.revents);
                }
            }
        }
    }

    /// Reads the pending frames of one source and encodes its samples.
    fn service(&mut self, index: usize, revents: i16) {
        let now = self.now_ms() as u32;
        let Agent {
            sources,
            packer,
            collectors,
            encode_errors,
            ..
        } = self;
        let source = &mut sources[index];
        if revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
            // Read the error so poll does not report it again; a socket that
            // hangs up is closed and re-opened by the interface check.
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
            ..
        } = source;
        let Some(capture) = capture else {
            return;
        };
        let result = capture.read_pending(READ_BUDGET, |frame, counts| {
            let Some(header) = source::sampled_header(frame) else {
                return;
            };
            let (input, output) = source::path(frame, if_index);
            let records = [FlowRecord::SampledHeader(header)];
            let sample = FlowSample {
                sequence_number: sequence.advance(),
                source: DataSource::interface(if_index),
                sampling_rate: rate,
                sample_pool: counts.pool as u32,
                drops: counts.drops as u32,
                input,
                output,
                records: List::Items(&records),
            };
            if let Err(e) = packer.push_flow(&sample, now, collectors) {
                *encode_errors += 1;
                if encode_errors.is_power_of_two() {
                    warn!("flow sample not sent ({} so far): {}", encode_errors, e);
                }
            }
        });
        match result {
            Ok(_) => {}
            // The interface went down: the socket stays bound and resumes
            // when it comes back up.
            Err(e) if e.raw_os_error() == Some(libc::ENETDOWN) => {
                debug!("{}: {}", source.device, e)
            }
            Err(e) => {
                warn!("{}: capture failed: {}; re-opening", source.device, e);
                source.close();
            }
        }
    }

    /// Once a second: flush, poll due counters, look after interfaces,
    /// collectors and the agent address.
    fn tick(&mut self) {
        let now = self.now_ms();
        self.housekeeping(now);
        if self.config.agent.enabled {
            self.poll_counters(now);
        }
        self.packer.flush(now as u32, &mut self.collectors);
    }

    fn housekeeping(&mut self, now: u64) {
        self.collectors.tick(now);
        if !self.config.agent.enabled {
            return;
        }
        if now >= self.next_interface_check_ms {
            self.next_interface_check_ms = now + INTERFACE_CHECK_MS;
            for s in &mut self.sources {
                s.refresh(&mut self.rng);
            }
        }
        if now >= self.next_address_check_ms {
            self.next_address_check_ms = now + ADDRESS_CHECK_MS;
            self.update_packer(now);
        }
    }

    /// Chooses the agent address and the sample form; reconfigures the
    /// packer (flushing pending samples) when either changes.
    fn update_packer(&mut self, now: u64) {
        let links = self.links();
        let addresses = sys::interface_addresses().unwrap_or_default();
        let devices: Vec<String> = self.sources.iter().map(|s| s.device.clone()).collect();
        let master_of = |name: &str| {
            let master = links.iter().find(|l| l.name == name)?.master?;
            links
                .iter()
                .find(|l| l.if_index == master)
                .map(|l| l.name.clone())
        };
        let chosen: Option<IpAddr> = address::choose(
            &self.config.agent.agent_address,
            &devices,
            &addresses,
            master_of,
        );
        let max_index = self
            .sources
            .iter()
            .filter_map(|s| s.if_index)
            .max()
            .unwrap_or(0);
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

    fn links(&mut self) -> Vec<Link> {
        match self.route.as_mut().map(RouteSocket::links) {
            Some(Ok(links)) => links,
            Some(Err(e)) => {
                warn!("cannot read interface statistics: {e}");
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    /// Sends the counter samples that are due.
    fn poll_counters(&mut self, now: u64) {
        let interval_ms = |s: u32| u64::from(s) * 1000;
        let host_due = self.config.agent.polling_interval > 0 && now >= self.host_next_poll_ms;
        let any_due = self
            .sources
            .iter()
            .any(|s| s.polling_interval > 0 && s.if_index.is_some() && now >= s.next_poll_ms);
        if !host_due && !any_due {
            return;
        }
        let links = self.links();
        let uptime = now as u32;
        for s in &mut self.sources {
            if s.polling_interval == 0 || now < s.next_poll_ms {
                continue;
            }
            // Keep the schedule, without bursts after a stall.
            s.next_poll_ms = (s.next_poll_ms + interval_ms(s.polling_interval)).max(now + 1);
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
