//! `wsflowd collect`: a collector for checking agents and watching a fleet.
//!
//! - By default it prints one line per received sample, as text or as JSON
//!   with every decoded field: an operator checks an agent in the field,
//!   and our tests read our output through our own decoder.
//! - `--prometheus ADDR:PORT` serves what the agents send as Prometheus
//!   metrics ([`fleet`] keeps the state, [`metrics`] names and renders it,
//!   [`http`] serves it).
//! - `--stations` shows the stations seen across all agents and their
//!   roams ([`stations`]).
//!
//! One thread receives and decodes every datagram (poll on the UDP socket
//! and the exporter's wake-up socket, then as many datagrams as are
//! waiting); scrapes are rendered on their own threads from a copy.

pub mod fleet;
pub mod format;
pub mod http;
pub mod metrics;
pub mod sighting;
pub mod stations;
#[cfg(test)]
mod testing;

use std::io::{self, IsTerminal, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::pcap::{udp_payload, PcapReader};
use crate::sflow::{Datagram, DecodeError, Visit};
use crate::sys::{getsockopt_int, poll, pollfd, setsockopt_int};
use fleet::{Fleet, Limits, Now};
use format::{JsonVisitor, TextVisitor};
use stations::{StationOutput, StationTable};

/// The receive buffer asked for (bytes).
const RECEIVE_BUFFER: i32 = 8 << 20;

/// The standard sFlow port.
pub const SFLOW_PORT: u16 = 6343;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Address and port to listen on (default `[::]:6343`, which also
    /// receives IPv4, falling back to `0.0.0.0:6343`).
    pub listen: Option<String>,
    pub json: bool,
    /// Stop after printing this many samples.
    pub count: Option<u64>,
    /// Decode the sFlow datagrams of a pcap file instead of listening.
    pub read: Option<PathBuf>,
    /// Serve Prometheus metrics on this address and port.
    pub prometheus: Option<String>,
    /// Show the station table instead of the samples.
    pub stations: bool,
    /// Bounds and TTLs (`limits.station_series`: `--prometheus-stations`).
    pub limits: Limits,
}

impl Options {
    /// Checks option combinations that make no sense together.
    pub fn check(&self) -> Result<(), String> {
        if self.limits.station_series && self.prometheus.is_none() {
            return Err("--prometheus-stations needs --prometheus".into());
        }
        if self.read.is_some() && self.prometheus.is_some() {
            return Err("--prometheus serves what arrives on the network, not --read".into());
        }
        if self.count.is_some() && (self.stations || self.prometheus.is_some()) {
            return Err(
                "--count counts printed samples: not with --stations or --prometheus".into(),
            );
        }
        let l = &self.limits;
        if l.agents == 0 || l.series == 0 || l.stations == 0 {
            return Err("--max-agents, --max-series and --max-stations must be at least 1".into());
        }
        if l.agent_ttl_ms == 0 || l.station_ttl_ms == 0 {
            return Err("--agent-ttl and --station-ttl must be at least 1 second".into());
        }
        Ok(())
    }

    /// Printing every sample (neither --stations nor --prometheus).
    fn prints_samples(&self) -> bool {
        !self.stations && self.prometheus.is_none()
    }
}

/// Renders every sample of one datagram, one line each, through `emit`.
/// Returns how many samples were rendered, or the error that stopped the
/// decoding (samples before it were rendered).
pub fn render_datagram(
    peer: Option<SocketAddr>,
    bytes: &[u8],
    json: bool,
    mut emit: impl FnMut(&str),
) -> Result<u64, DecodeError> {
    let datagram = Datagram::parse(bytes)?;
    let mut rendered = 0;
    for sample in datagram.samples.iter() {
        let sample = sample?;
        let line = if json {
            let mut v = JsonVisitor::new();
            if let Some(peer) = peer {
                v.label_owned("peer", &peer.to_string());
            }
            datagram.visit_header(&mut v);
            sample.visit(&mut v);
            format!("{{{}}}", v.out)
        } else {
            let mut v = TextVisitor::new();
            datagram.visit_header(&mut v);
            sample.visit(&mut v);
            v.out
        };
        emit(&line);
        rendered += 1;
    }
    Ok(rendered)
}

/// The ADDRESS:PORT given to `option`; the error names the option and
/// shows `examples`.
fn socket_address(option: &str, text: &str, examples: &str) -> io::Result<SocketAddr> {
    text.parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{option} {text}: expected ADDRESS:PORT, e.g. {examples}"),
        )
    })
}

fn bind(listen: Option<&str>) -> io::Result<UdpSocket> {
    match listen {
        Some(text) => UdpSocket::bind(socket_address(
            "--listen",
            text,
            "127.0.0.1:6343 or [::]:6343",
        )?),
        None => UdpSocket::bind(("::", SFLOW_PORT))
            .or_else(|_| UdpSocket::bind(("0.0.0.0", SFLOW_PORT))),
    }
}

/// Prints samples until a limit.
struct Printer<W: Write> {
    out: W,
    json: bool,
    printed: u64,
    limit: u64,
}

impl<W: Write> Printer<W> {
    fn done(&self) -> bool {
        self.printed >= self.limit
    }

    fn datagram(&mut self, peer: Option<SocketAddr>, bytes: &[u8]) -> io::Result<()> {
        let mut write_error = None;
        let (out, printed, limit) = (&mut self.out, &mut self.printed, self.limit);
        let result = render_datagram(peer, bytes, self.json, |line| {
            if *printed < limit {
                if let Err(e) = writeln!(out, "{line}") {
                    write_error.get_or_insert(e);
                }
                *printed += 1;
            }
        });
        if let Err(e) = result {
            report_error(peer, bytes, &e);
        }
        // One flush per datagram: lines reach a pipe promptly.
        match write_error {
            Some(e) => Err(e),
            None => self.out.flush(),
        }
    }
}

fn invalid(path: &std::path::Path, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {e}", path.display()),
    )
}

/// Milliseconds since the Unix epoch.
fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The current time: monotonic since `start`, and Unix.
fn now(start: Instant) -> Now {
    Now {
        mono_ms: start.elapsed().as_millis() as u64,
        unix_ms: unix_ms(),
    }
}

/// What `collect` does with each datagram.
struct Sinks<W: Write> {
    printer: Option<Printer<W>>,
    fleet: Option<Fleet>,
    table: Option<(StationTable, StationOutput<W>)>,
}

impl<W: Write> Sinks<W> {
    fn datagram(&mut self, peer: Option<SocketAddr>, bytes: &[u8], now: Now) -> io::Result<()> {
        if let Some(p) = &mut self.printer {
            p.datagram(peer, bytes)?;
        }
        if let Some(f) = &mut self.fleet {
            // Errors are counted (wsflowd_collector_decode_errors_total).
            let _ = f.datagram(bytes, now);
        }
        if let Some((table, output)) = &mut self.table {
            match Datagram::parse(bytes) {
                Ok(d) => table.datagram(&d, now),
                Err(e) => report_error(peer, bytes, &e),
            }
            output.events(table)?;
        }
        Ok(())
    }

    /// Once a second: expiry, the terminal's redraw.
    fn tick(&mut self, now: Now) -> io::Result<()> {
        if let Some(f) = &mut self.fleet {
            f.expire(now);
        }
        if let Some((table, output)) = &mut self.table {
            table.expire(now);
            output.events(table)?;
            output.redraw(table, now)?;
        }
        Ok(())
    }

    fn done(&self) -> bool {
        self.printer.as_ref().is_some_and(Printer::done)
    }
}

fn report_error(peer: Option<SocketAddr>, bytes: &[u8], e: &DecodeError) {
    let from = peer.map(|p| format!(" from {p}")).unwrap_or_default();
    eprintln!(
        "wsflowd collect: datagram{from} ({} bytes): {e}",
        bytes.len()
    );
}

/// The kernel's count of datagrams dropped on `socket` for lack of buffer
/// space: the `drops` column of its line in /proc/net/udp or udp6.
fn socket_drops(socket: &UdpSocket) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(format!("/proc/self/fd/{}", socket.as_raw_fd()))
        .ok()?
        .ino()
        .to_string();
    for table in ["/proc/self/net/udp", "/proc/self/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(9) == Some(&inode.as_str()) {
                return fields.last()?.parse().ok();
            }
        }
    }
    None
}

/// Runs the collector until `count` samples were printed (or forever).
pub fn run(options: &Options) -> io::Result<()> {
    options
        .check()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let stdout = io::stdout();
    let terminal = options.read.is_none() && stdout.is_terminal();
    let mut sinks = Sinks {
        printer: options.prints_samples().then(|| Printer {
            out: io::BufWriter::new(stdout.lock()),
            json: options.json,
            printed: 0,
            limit: options.count.unwrap_or(u64::MAX),
        }),
        fleet: options
            .prometheus
            .is_some()
            .then(|| Fleet::new(options.limits)),
        table: options.stations.then(|| {
            let output =
                StationOutput::new(io::BufWriter::new(stdout.lock()), terminal, options.json);
            (
                StationTable::new(options.limits.station_ttl_ms, options.limits.stations),
                output,
            )
        }),
    };

    if let Some(path) = &options.read {
        let data = std::fs::read(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let port = match &options.listen {
            Some(l) => l
                .parse::<SocketAddr>()
                .map(|a| a.port())
                .unwrap_or(SFLOW_PORT),
            None => SFLOW_PORT,
        };
        let reader = PcapReader::new(&data).map_err(|e| invalid(path, e))?;
        let (link, nanosecond) = (reader.link_type, reader.nanosecond);
        let mut next_tick = 0;
        for record in reader {
            let record = record.map_err(|e| invalid(path, e))?;
            let Some(udp) = udp_payload(link, record.data) else {
                continue;
            };
            if udp.destination_port != port {
                continue;
            }
            // The capture's clock stands in for ours.
            let frac_ms = if nanosecond {
                record.ts_frac / 1_000_000
            } else {
                record.ts_frac / 1000
            };
            let ms = u64::from(record.ts_sec) * 1000 + u64::from(frac_ms);
            let now = Now {
                mono_ms: ms,
                unix_ms: ms,
            };
            if ms >= next_tick {
                sinks.tick(now)?;
                next_tick = ms + 1000;
            }
            sinks.datagram(
                Some(SocketAddr::new(udp.source, udp.source_port)),
                udp.payload,
                now,
            )?;
            if sinks.done() {
                break;
            }
        }
        return Ok(());
    }

    let socket = bind(options.listen.as_deref())?;
    // A burst of datagrams must not be lost while samples are handled:
    // 8 MiB, beyond net.core.rmem_max where we may (CAP_NET_ADMIN).
    let fd = socket.as_fd();
    if setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, RECEIVE_BUFFER).is_err() {
        let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, RECEIVE_BUFFER);
    }
    socket.set_nonblocking(true)?;
    eprintln!("wsflowd collect: listening on {}", socket.local_addr()?);
    // The kernel reports twice what it grants (the other half is its own
    // bookkeeping).
    let granted = getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF).unwrap_or(0) / 2;
    if granted < RECEIVE_BUFFER {
        eprintln!(
            "wsflowd collect: receive buffer {} KiB (raise net.core.rmem_max for up to {} KiB)",
            granted / 1024,
            RECEIVE_BUFFER / 1024
        );
    }
    let mut exporter = match &options.prometheus {
        Some(addr) => {
            let e = http::Exporter::start(addr)?;
            eprintln!(
                "wsflowd collect: Prometheus metrics at http://{}/metrics",
                e.local_addr
            );
            Some(e)
        }
        None => None,
    };
    let start = Instant::now();
    let mut buf = vec![0u8; 65536];
    let mut next_tick = 0u64;
    while !sinks.done() {
        let mut fds = [
            pollfd(socket.as_raw_fd(), libc::POLLIN),
            pollfd(exporter.as_ref().map_or(-1, |e| e.wake_fd()), libc::POLLIN),
        ];
        let wait = next_tick.saturating_sub(now(start).mono_ms).min(1000) as i32;
        poll(&mut fds, wait)?;
        // Up to a bounded batch, so that scrapes and ticks are not starved.
        if fds[0].revents != 0 {
            for _ in 0..1024 {
                match socket.recv_from(&mut buf) {
                    Ok((n, peer)) => sinks.datagram(Some(peer), &buf[..n], now(start))?,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
                if sinks.done() {
                    return Ok(());
                }
            }
        }
        if let (Some(e), Some(fleet)) = (&mut exporter, &mut sinks.fleet) {
            if fds[1].revents != 0 {
                e.drain_wake();
            }
            let mut snapshot = None;
            while let Ok(request) = e.requests.try_recv() {
                let s = snapshot
                    .get_or_insert_with(|| fleet.snapshot(now(start), socket_drops(&socket)));
                let _ = request.reply.send(s.clone());
            }
        }
        let t = now(start);
        if t.mono_ms >= next_tick {
            sinks.tick(t)?;
            next_tick = t.mono_ms + 1000;
        }
    }
    Ok(())
}
