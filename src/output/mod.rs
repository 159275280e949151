//! The collectors: where datagrams go.
//!
//! Datagrams are sent with non-blocking UDP sockets (one per address
//! family), so a slow or unreachable collector never stalls the event loop.
//! Host names are resolved on a short-lived helper thread, never on the
//! loop: `getaddrinfo` can block for seconds when DNS is down. Names are
//! re-resolved periodically so that a collector that moves is followed.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::{Arc, Mutex};

use crate::config::CollectorConfig;
use crate::sflow::DatagramSink;
use crate::{info, warn};

/// How often host names are resolved again.
const RESOLVE_INTERVAL_MS: u64 = 10 * 60 * 1000;
/// How soon a failed resolution is retried.
const RESOLVE_RETRY_MS: u64 = 30 * 1000;

/// A collector and what happened to the datagrams sent to it.
#[derive(Debug, Clone)]
pub struct Collector {
    pub config: CollectorConfig,
    /// Where datagrams go; `None` until the name is resolved.
    pub target: Option<SocketAddr>,
    pub datagrams_sent: u64,
    pub send_errors: u64,
    pub last_error: Option<String>,
    next_resolve_ms: Option<u64>,
    resolving: bool,
}

impl Collector {
    fn new(config: CollectorConfig) -> Collector {
        // IP literals need no resolution.
        let target = config
            .address
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, config.port));
        Collector {
            next_resolve_ms: if target.is_some() { None } else { Some(0) },
            target,
            config,
            datagrams_sent: 0,
            send_errors: 0,
            last_error: None,
            resolving: false,
        }
    }

    fn record_error(&mut self, message: String) {
        self.send_errors += 1;
        if self.last_error.as_deref() != Some(&message) {
            warn!(
                "collector {} ({}): {}",
                self.config.section, self.config.address, message
            );
            self.last_error = Some(message);
        }
    }
}

struct Resolved {
    address: String,
    port: u16,
    result: Result<SocketAddr, String>,
}

pub struct Collectors {
    entries: Vec<Collector>,
    v4: Option<UdpSocket>,
    v6: Option<UdpSocket>,
    /// Resolutions under way: the slot each helper thread fills when done.
    resolving: Vec<Arc<Mutex<Option<Resolved>>>>,
}

impl Default for Collectors {
    fn default() -> Self {
        Collectors::new()
    }
}

impl Collectors {
    pub fn new() -> Collectors {
        Collectors {
            entries: Vec::new(),
            v4: None,
            v6: None,
            resolving: Vec::new(),
        }
    }

    pub fn entries(&self) -> &[Collector] {
        &self.entries
    }

    /// Applies a new list of collectors. Collectors whose address and port
    /// did not change keep their resolved target and their statistics.
    pub fn configure(&mut self, configs: &[CollectorConfig]) {
        let mut old = std::mem::take(&mut self.entries);
        self.entries = configs
            .iter()
            .map(|c| {
                match old
                    .iter()
                    .position(|o| o.config.address == c.address && o.config.port == c.port)
                {
                    Some(i) => {
                        let mut kept = old.swap_remove(i);
                        kept.config = c.clone();
                        kept
                    }
                    None => Collector::new(c.clone()),
                }
            })
            .collect();
    }

    /// Collects finished name resolutions and starts the ones due.
    pub fn tick(&mut self, now_ms: u64) {
        let mut i = 0;
        while i < self.resolving.len() {
            let done = self.resolving[i]
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            let Some(r) = done else {
                i += 1;
                continue;
            };
            self.resolving.swap_remove(i);
            let Some(c) = self
                .entries
                .iter_mut()
                .find(|c| c.config.address == r.address && c.config.port == r.port)
            else {
                continue; // removed by a reload meanwhile
            };
            c.resolving = false;
            match r.result {
                Ok(addr) => {
                    if c.target != Some(addr) {
                        info!(
                            "collector {}: {} is {}",
                            c.config.section,
                            r.address,
                            addr.ip()
                        );
                    }
                    c.target = Some(addr);
                    c.next_resolve_ms = Some(now_ms + RESOLVE_INTERVAL_MS);
                }
                Err(e) => {
                    // Keep sending to the last known address, if any.
                    let message = format!("cannot resolve {}: {}", r.address, e);
                    if c.last_error.as_deref() != Some(&message) {
                        warn!("collector {}: {}", c.config.section, message);
                        c.last_error = Some(message);
                    }
                    c.next_resolve_ms = Some(now_ms + RESOLVE_RETRY_MS);
                }
            }
        }
        for c in &mut self.entries {
            if c.resolving || c.next_resolve_ms.is_none_or(|due| now_ms < due) {
                continue;
            }
            c.resolving = true;
            let (address, port) = (c.config.address.clone(), c.config.port);
            let slot = Arc::new(Mutex::new(None));
            let filled = Arc::clone(&slot);
            let work = move || {
                let result = resolve(&address, port);
                let resolved = Resolved {
                    address,
                    port,
                    result,
                };
                *filled.lock().unwrap_or_else(|e| e.into_inner()) = Some(resolved);
            };
            match crate::sys::spawn_detached(256 * 1024, Box::new(work)) {
                Ok(()) => self.resolving.push(slot),
                Err(e) => {
                    c.resolving = false;
                    c.next_resolve_ms = Some(now_ms + RESOLVE_RETRY_MS);
                    warn!("cannot start name resolution: {e}");
                }
            }
        }
    }

    fn socket(&mut self, v6: bool) -> io::Result<&UdpSocket> {
        let slot = if v6 { &mut self.v6 } else { &mut self.v4 };
        if slot.is_none() {
            let any: SocketAddr = if v6 {
                (Ipv6Addr::UNSPECIFIED, 0).into()
            } else {
                (Ipv4Addr::UNSPECIFIED, 0).into()
            };
            let s = UdpSocket::bind(any)?;
            s.set_nonblocking(true)?;
            *slot = Some(s);
        }
        Ok(slot.as_ref().expect("just set"))
    }
}

fn resolve(address: &str, port: u16) -> Result<SocketAddr, String> {
    let addrs: Vec<SocketAddr> = (address, port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .collect();
    // Prefer IPv4, as most collectors listen there; IPv6 if that is all.
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| "no address".to_string())
}

impl DatagramSink for Collectors {
    fn send_datagram(&mut self, datagram: &[u8]) {
        for i in 0..self.entries.len() {
            let Some(target) = self.entries[i].target else {
                continue;
            };
            let result = self
                .socket(target.is_ipv6())
                .and_then(|s| s.send_to(datagram, target));
            let c = &mut self.entries[i];
            match result {
                Ok(_) => {
                    c.datagrams_sent += 1;
                    if c.last_error.take().is_some() {
                        info!("collector {}: sending again", c.config.section);
                    }
                }
                Err(e) => c.record_error(format!("cannot send to {target}: {e}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn config(address: &str, port: u16) -> CollectorConfig {
        CollectorConfig {
            address: address.into(),
            port,
            section: "@collector[0]".into(),
        }
    }

    #[test]
    fn sends_to_every_collector_and_keeps_stats_across_reload() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("[::1]:0").unwrap();
        a.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        b.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut c = Collectors::new();
        c.configure(&[
            config("127.0.0.1", a.local_addr().unwrap().port()),
            config("::1", b.local_addr().unwrap().port()),
        ]);
        c.send_datagram(b"one");
        let mut buf = [0u8; 16];
        assert_eq!(a.recv(&mut buf).unwrap(), 3);
        assert_eq!(b.recv(&mut buf).unwrap(), 3);
        // Reload with the second collector only: its statistics survive.
        c.configure(&[config("::1", b.local_addr().unwrap().port())]);
        assert_eq!(c.entries().len(), 1);
        assert_eq!(c.entries()[0].datagrams_sent, 1);
    }

    #[test]
    fn host_names_resolve_off_the_loop() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        a.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut c = Collectors::new();
        c.configure(&[config("localhost", a.local_addr().unwrap().port())]);
        assert!(c.entries()[0].target.is_none());
        for t in 0..200 {
            c.tick(t);
            if c.entries()[0].target.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let target = c.entries()[0].target.expect("resolved");
        assert!(target.ip().is_loopback());
        if target.is_ipv4() {
            c.send_datagram(b"x");
            assert_eq!(a.recv(&mut [0u8; 4]).unwrap(), 1);
        }
    }
}
