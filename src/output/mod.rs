//! The collectors: where datagrams go.
//!
//! Datagrams are sent with non-blocking UDP sockets, so a slow or
//! unreachable collector never stalls the event loop. Each collector has
//! its own socket, connected to it: the kernel then reports an ICMP "port
//! unreachable" (nothing listens there) or "host unreachable" to that
//! collector's next send, so each collector's errors are its own and are
//! counted and shown (`ubus call wsflowd status`).
//! Host names are resolved as musl's `getaddrinfo` would (`/etc/hosts`,
//! then A and AAAA records from the nameservers of `/etc/resolv.conf`,
//! [`crate::dns::host`]), by the agent's own DNS client, which never
//! blocks: its answers are read at the once-a-second tick. Names are
//! re-resolved periodically so that a collector that moves is followed.

use crate::ip::Text;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};

use crate::config::CollectorConfig;
use crate::dns::host::{self, Files, HostLookup, Resolution};
use crate::rng::Rng;
use crate::sflow::DatagramSink;
use crate::{info, warn};

/// How often host names are resolved again.
const RESOLVE_INTERVAL_MS: u64 = 10 * 60 * 1000;
/// How soon a failed resolution is retried.
const RESOLVE_RETRY_MS: u64 = 30 * 1000;
/// A collector whose sends have not failed for this long is reported as
/// working again (an unreachable port fails every other send: errors and
/// successes alternate, and must not alternate in the log too).
const RECOVERED_MS: u64 = 60 * 1000;

/// Where a collector was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectorSource {
    /// A `collector` section of the configuration file.
    Uci,
    /// An SRV record found by DNS-SD (`agent/discovery.rs`).
    DnsSd,
}

impl CollectorSource {
    /// As `ubus call wsflowd status` shows it.
    pub fn name(self) -> &'static str {
        match self {
            CollectorSource::Uci => "uci",
            CollectorSource::DnsSd => "dns-sd",
        }
    }
}

/// A collector and what happened to the datagrams sent to it.
#[derive(Debug)]
pub struct Collector {
    pub config: CollectorConfig,
    pub source: CollectorSource,
    /// Where datagrams go; `None` until the name is resolved.
    pub target: Option<SocketAddr>,
    pub datagrams_sent: u64,
    /// Datagrams that could not be sent, or that the network reported
    /// undeliverable (ICMP unreachable).
    pub send_errors: u64,
    /// The latest error, until the collector has worked for
    /// [`RECOVERED_MS`].
    pub last_error: Option<String>,
    /// Agent uptime of the latest send error.
    last_error_ms: u64,
    /// Connected to `target`; made when first needed.
    socket: Option<UdpSocket>,
    next_resolve_ms: Option<u64>,
    /// The DNS lookup of the name, while one is out.
    resolving: Option<Box<HostLookup>>,
}

impl Collector {
    fn new(config: CollectorConfig, source: CollectorSource) -> Collector {
        // IP literals need no resolution.
        let target = crate::ip::parse(&config.address).map(|ip| SocketAddr::new(ip, config.port));
        Collector {
            next_resolve_ms: if target.is_some() { None } else { Some(0) },
            target,
            config,
            source,
            datagrams_sent: 0,
            send_errors: 0,
            last_error: None,
            last_error_ms: 0,
            socket: None,
            resolving: None,
        }
    }

    /// What a resolution of the name gave.
    fn resolved(&mut self, result: Result<IpAddr, String>, now_ms: u64) {
        match result {
            Ok(ip) => {
                let addr = SocketAddr::new(ip, self.config.port);
                if self.target != Some(addr) {
                    info!(
                        "collector {}: {} is {}",
                        self.config.section,
                        self.config.address,
                        Text(ip)
                    );
                }
                self.set_target(addr);
                self.next_resolve_ms = Some(now_ms + RESOLVE_INTERVAL_MS);
            }
            Err(e) => {
                // Keep sending to the last known address, if any.
                let message = format!("cannot resolve {}: {}", self.config.address, e);
                if self.last_error.as_deref() != Some(&message) {
                    warn!("collector {}: {}", self.config.section, message);
                    self.last_error = Some(message);
                }
                self.next_resolve_ms = Some(now_ms + RESOLVE_RETRY_MS);
            }
        }
    }

    /// Counts a failed send; a new kind of error is logged once.
    fn record_error(&mut self, message: String, now_ms: u64) {
        self.send_errors += 1;
        self.last_error_ms = now_ms;
        if self.last_error.as_deref() != Some(&message) {
            warn!(
                "collector {} ({}): {}",
                self.config.section, self.config.address, message
            );
            self.last_error = Some(message);
        }
    }

    /// Points the collector at a (new) address: the socket is connected
    /// to it on the next send.
    fn set_target(&mut self, target: SocketAddr) {
        if self.target != Some(target) {
            self.socket = None;
        }
        self.target = Some(target);
    }

    /// Sends one datagram to the collector's target.
    fn send(&mut self, datagram: &[u8], now_ms: u64) {
        let Some(target) = self.target else {
            return;
        };
        if self.socket.is_none() {
            match crate::sys::socket::udp_connected(target) {
                Ok(s) => self.socket = Some(s),
                Err(e) => {
                    self.record_error(
                        format!("cannot open a socket to {}: {e}", Text(target)),
                        now_ms,
                    );
                    return;
                }
            }
        }
        let Some(socket) = &self.socket else {
            return;
        };
        let mut sent = socket.send(datagram);
        if let Err(e) = &sent {
            if let Some(code @ (libc::ECONNREFUSED | libc::EHOSTUNREACH | libc::ENETUNREACH)) =
                e.raw_os_error()
            {
                // The ICMP error of an earlier datagram, reported (and
                // cleared) by this send, which sent nothing: counted, then
                // this datagram is sent all the same. A collector that
                // only captures (Wireshark, tcpdump) with nothing
                // listening gets every datagram, not every other one.
                let message = unreachable_message(code, target, e);
                sent = socket.send(datagram);
                self.record_error(message, now_ms);
            }
        }
        match sent {
            Ok(_) => self.datagrams_sent += 1,
            Err(e) => {
                let message = match e.raw_os_error() {
                    Some(code) => unreachable_message(code, target, &e),
                    None => format!("cannot send to {}: {e}", Text(target)),
                };
                self.record_error(message, now_ms);
            }
        }
    }
}

/// What a failed send says, by its error code.
fn unreachable_message(code: i32, target: SocketAddr, e: &io::Error) -> String {
    match code {
        libc::ECONNREFUSED => {
            format!(
                "port unreachable: nothing listens at {} (ICMP port unreachable)",
                Text(target)
            )
        }
        libc::EHOSTUNREACH | libc::ENETUNREACH => format!("{} is unreachable: {e}", Text(target)),
        _ => format!("cannot send to {}: {e}", Text(target)),
    }
}

pub struct Collectors {
    entries: Vec<Collector>,
    /// Agent uptime at the last tick: when the sends of a datagram happen.
    now_ms: u64,
    /// What name resolution reads.
    files: Files,
    /// For the ids of DNS queries.
    rng: Rng,
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
            now_ms: 0,
            files: Files::default(),
            rng: Rng::from_entropy(),
        }
    }

    pub fn entries(&self) -> &[Collector] {
        &self.entries
    }

    /// Applies a new list of collectors: those of the configuration file,
    /// then those DNS-SD found that the file does not name (same address
    /// and port). Collectors whose address and port did not change keep
    /// their resolved target and their statistics.
    pub fn configure(&mut self, configured: &[CollectorConfig], discovered: &[CollectorConfig]) {
        let mut old = std::mem::take(&mut self.entries);
        let same = |a: &CollectorConfig, b: &CollectorConfig| {
            a.address.eq_ignore_ascii_case(&b.address) && a.port == b.port
        };
        let from_dns = discovered
            .iter()
            .filter(|d| !configured.iter().any(|c| same(c, d)));
        let all = configured
            .iter()
            .map(|c| (c, CollectorSource::Uci))
            .chain(from_dns.map(|c| (c, CollectorSource::DnsSd)));
        self.entries = all
            .map(
                |(c, source)| match old.iter().position(|o| same(&o.config, c)) {
                    Some(i) => {
                        let mut kept = old.swap_remove(i);
                        kept.config = c.clone();
                        kept.source = source;
                        kept
                    }
                    None => Collector::new(c.clone(), source),
                },
            )
            .collect();
    }

    /// Reads the answers of the name resolutions under way and starts the
    /// ones due.
    pub fn tick(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
        for c in &mut self.entries {
            if c.last_error.is_some() && now_ms.saturating_sub(c.last_error_ms) >= RECOVERED_MS {
                c.last_error = None;
                info!(
                    "collector {}: no send error for {} s ({} in all)",
                    c.config.section,
                    RECOVERED_MS / 1000,
                    c.send_errors
                );
            }
        }
        for c in &mut self.entries {
            if let Some(lookup) = &mut c.resolving {
                if let Some(result) = lookup.tick(now_ms) {
                    c.resolving = None;
                    c.resolved(result, now_ms);
                }
                continue;
            }
            if c.next_resolve_ms.is_none_or(|due| now_ms < due) {
                continue;
            }
            match host::resolve(&c.config.address, &self.files, &mut self.rng, now_ms) {
                Resolution::Done(result) => c.resolved(result, now_ms),
                Resolution::Asking(lookup) => c.resolving = Some(lookup),
            }
        }
    }
}

impl DatagramSink for Collectors {
    fn send_datagram(&mut self, datagram: &[u8]) {
        let now_ms = self.now_ms;
        for c in &mut self.entries {
            c.send(datagram, now_ms);
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
        c.configure(
            &[
                config("127.0.0.1", a.local_addr().unwrap().port()),
                config("::1", b.local_addr().unwrap().port()),
            ],
            &[],
        );
        c.send_datagram(b"one");
        let mut buf = [0u8; 16];
        assert_eq!(a.recv(&mut buf).unwrap(), 3);
        assert_eq!(b.recv(&mut buf).unwrap(), 3);
        // Reload with the second collector only: its statistics survive.
        c.configure(&[config("::1", b.local_addr().unwrap().port())], &[]);
        assert_eq!(c.entries().len(), 1);
        assert_eq!(c.entries()[0].datagrams_sent, 1);
    }

    #[test]
    fn host_names_resolve_off_the_loop() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        a.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut c = Collectors::new();
        c.configure(&[config("localhost", a.local_addr().unwrap().port())], &[]);
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

    /// Nothing listens at the collector's port: the ICMP port unreachable
    /// that comes back is counted against that collector (and only it),
    /// logged once, and cleared after a minute without errors.
    #[test]
    fn an_unreachable_port_is_counted_per_collector() {
        let open = UdpSocket::bind("127.0.0.1:0").unwrap();
        let closed_port = {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.local_addr().unwrap().port()
        };
        let mut c = Collectors::new();
        c.configure(
            &[
                config("127.0.0.1", closed_port),
                config("127.0.0.1", open.local_addr().unwrap().port()),
            ],
            &[],
        );
        let ((), lines) = crate::log::capture::lines(|| {
            c.tick(1_000);
            for _ in 0..10 {
                c.send_datagram(b"sflow");
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let (bad, good) = (&c.entries()[0], &c.entries()[1]);
        assert!(bad.send_errors >= 4, "{bad:?}");
        // Each error is an earlier datagram's ICMP: every datagram still
        // left (a capture-only collector gets them all).
        assert_eq!(bad.datagrams_sent, 10, "{bad:?}");
        assert!(
            bad.last_error
                .as_deref()
                .is_some_and(|e| e.contains("port unreachable")),
            "{bad:?}"
        );
        assert_eq!((good.send_errors, good.datagrams_sent), (0, 10));
        let warnings = lines
            .iter()
            .filter(|(_, l)| l.contains("unreachable"))
            .count();
        assert_eq!(warnings, 1, "{lines:?}");
        c.tick(1_000 + RECOVERED_MS);
        assert!(c.entries()[0].last_error.is_none());
    }

    /// The collectors DNS-SD found come after the file's; one the file
    /// names too is the file's; a collector that moves from one list to
    /// the other keeps its statistics.
    #[test]
    fn discovered_collectors_merge_with_the_configured_ones() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (pa, pb) = (
            a.local_addr().unwrap().port(),
            b.local_addr().unwrap().port(),
        );
        let dns = |address: &str, port| CollectorConfig {
            section: "dns-sd".into(),
            ..config(address, port)
        };
        let mut c = Collectors::new();
        c.configure(
            &[config("127.0.0.1", pa)],
            &[dns("127.0.0.1", pa), dns("127.0.0.1", pb)],
        );
        let sources: Vec<_> = c
            .entries()
            .iter()
            .map(|e| (e.config.port, e.source))
            .collect();
        assert_eq!(
            sources,
            [(pa, CollectorSource::Uci), (pb, CollectorSource::DnsSd)]
        );
        c.send_datagram(b"x");
        assert_eq!(a.recv(&mut [0u8; 4]).unwrap(), 1);
        assert_eq!(b.recv(&mut [0u8; 4]).unwrap(), 1);
        // The file's collector goes: DNS-SD's stays, with its count.
        c.configure(&[], &[dns("127.0.0.1", pa), dns("127.0.0.1", pb)]);
        assert_eq!(c.entries().len(), 2);
        assert!(c
            .entries()
            .iter()
            .all(|e| e.source == CollectorSource::DnsSd));
        assert!(c.entries().iter().all(|e| e.datagrams_sent == 1));
        assert_eq!(c.entries()[0].config.section, "dns-sd");
        // The records go.
        c.configure(&[], &[]);
        assert!(c.entries().is_empty());
    }
}
