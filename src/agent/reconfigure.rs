//! Applying a configuration: at start and on every reload, without
//! disturbing what did not change.

use super::source::{InterfaceSource, Settings};
use super::ubus::UbusLink;
use super::{instance, ubus_socket, Agent};
use crate::capture::FilterChoice;
use crate::config::{self, Config, SamplingFilter};
use crate::counters::host::HostDescription;
use crate::stations::hostapd_control::HostapdControl;
use crate::stations::{Source, Sources};
use crate::{error, info, log, warn};

impl Agent {
    /// Applies a (new) configuration without disturbing what did not
    /// change: unchanged interfaces keep their sockets, counts and sequence
    /// numbers (a new rate is applied in place), collectors keep their
    /// statistics, datagram sequence numbers go on.
    pub(super) fn apply(&mut self, new: Config) {
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
            || self.host.next_poll_ms == 0
        {
            self.host.next_poll_ms = now + self.stagger(agent.polling_interval);
        }
        self.out
            .collectors
            .configure(&new.collectors, self.dns_sd.collectors());
        let socket = ubus_socket(&new);
        // Paths are compared as written, not component by component
        // (std's Path equality, 1.6 KB of a mips binary): a path spelled
        // differently costs one reconnect.
        if socket.as_os_str() != self.wifi.ubus.path().as_os_str() {
            info!("ubus socket now {}", socket.display());
            self.wifi.ubus = UbusLink::new(socket);
        }
        let sources = new.agent.station_sources;
        let control_dir_changed = new.agent.hostapd_control_dir.as_os_str()
            != self.config.agent.hostapd_control_dir.as_os_str();
        let enabled = new.agent.enabled;
        let old_sources = std::mem::replace(&mut self.config, new)
            .agent
            .station_sources;
        if sources != old_sources || control_dir_changed {
            self.set_station_sources(sources, false);
        }
        self.host.description = HostDescription::read();
        self.due.address_check_ms = 0;
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

    /// Applies a configuration read from the file: DNS-SD takes its options
    /// (a reload asks the DNS again at once), and what it found is laid
    /// over the file's settings (see [`Agent::apply_discovered`]).
    pub(super) fn apply_file(&mut self, file: Config) {
        let now = self.now_ms();
        let agent = &file.agent;
        self.dns_sd.configure(
            agent.enabled && agent.dns_sd,
            agent.dns_sd_domain.as_deref(),
            now,
        );
        let mut config = file.clone();
        self.dns_sd.settings().apply_to(&mut config);
        self.file_config = file;
        self.apply(config);
    }

    /// Applies the file's configuration with DNS-SD's TXT settings laid
    /// over it, as a reload does (sockets and counts kept, rates changed
    /// in place), and the collectors: the file's and DNS-SD's.
    pub(super) fn apply_discovered(&mut self) {
        let mut config = self.file_config.clone();
        self.dns_sd.settings().apply_to(&mut config);
        // Only the two settings TXT may set can differ from those in force.
        let (now, new) = (&self.config.agent, &config.agent);
        if (now.sampling_rate, now.polling_interval) == (new.sampling_rate, new.polling_interval) {
            self.out
                .collectors
                .configure(&self.config.collectors, self.dns_sd.collectors());
        } else {
            self.apply(config);
        }
    }

    /// DNS-SD's second: a lookup due starts, a try that timed out ends.
    /// Returns whether what it found changed (and was applied).
    pub(super) fn dns_sd_tick(&mut self) -> bool {
        let now = self.now_ms();
        if !self.dns_sd.tick(now, &mut self.rng) {
            return false;
        }
        self.apply_discovered();
        true
    }

    /// Starts and stops the station sources the configuration names, and
    /// says in the log what each can and cannot give.
    pub(super) fn set_station_sources(&mut self, sources: Sources, starting: bool) {
        let w = &mut self.wifi;
        if sources.contains(Source::Nl80211) {
            if !w.nl80211 {
                info!("stations: nl80211 is not available: the kernel cannot tell stations");
            } else if starting {
                info!("stations: following the kernel's (nl80211)");
            }
        } else {
            w.kernel_stations.clear(&mut w.stations);
        }
        let dir = &self.config.agent.hostapd_control_dir;
        let wanted = sources.contains(Source::HostapdControl);
        let moved = w
            .control
            .as_ref()
            .is_some_and(|c| c.dir().as_os_str() != dir.as_os_str());
        if (!wanted || moved) && w.control.take().is_some() {
            w.stations
                .apply(Source::HostapdControl, crate::stations::Update::SourceLost);
        }
        if wanted && w.control.is_none() {
            info!(
                "stations: following hostapd's control sockets in {}",
                dir.display()
            );
            w.control = Some(HostapdControl::new(dir.clone()));
        }
        w.ubus
            .follow_hostapd(sources.contains(Source::Ubus), &mut w.stations);
    }

    /// The rate chosen from an interface's link speed (as sysfs last said).
    pub(super) fn speed_rate(&self, device: &str) -> u32 {
        let speed = self.facts.get(device).map_or(0, |f| f.speed_bps);
        config::sampling_rate_for_speed(speed)
    }

    /// A random first delay within one polling interval, so that counter
    /// polls of different sources (and agents) are not synchronised.
    pub(super) fn stagger(&mut self, interval_s: u32) -> u64 {
        if interval_s == 0 {
            return 0;
        }
        1000 + u64::from(self.rng.below(interval_s.saturating_mul(1000)))
    }

    /// Re-reads the configuration file; keeps the running configuration if
    /// the new one is invalid.
    pub(super) fn reload(&mut self) -> bool {
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
                self.apply_file(loaded.config);
                true
            }
            Err(e) => {
                error!("reload refused, keeping the running configuration: {e}");
                false
            }
        }
    }
}
