//! `wsflowd collect`: a minimal sFlow collector that prints one line per
//! received sample, as text or as JSON with every decoded field. It lets an
//! operator check an agent in the field, and lets our tests read our output
//! through our own decoder.

pub mod format;

use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::path::PathBuf;

use crate::pcap::{udp_payload, PcapReader};
use crate::sflow::{Datagram, DecodeError, Visit};
use crate::sys::setsockopt_int;
use format::{JsonVisitor, TextVisitor};

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

fn bind(listen: Option<&str>) -> io::Result<UdpSocket> {
    match listen {
        Some(addr) => {
            let addr: SocketAddr = addr.parse().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "--listen {addr}: expected ADDRESS:PORT, e.g. 127.0.0.1:6343 or [::]:6343"
                    ),
                )
            })?;
            UdpSocket::bind(addr)
        }
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
            let from = peer.map(|p| format!(" from {p}")).unwrap_or_default();
            eprintln!(
                "wsflowd collect: datagram{from} ({} bytes): {e}",
                bytes.len()
            );
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

/// Runs the collector until `count` samples were printed (or forever).
pub fn run(options: &Options) -> io::Result<()> {
    let mut printer = Printer {
        out: io::BufWriter::new(io::stdout().lock()),
        json: options.json,
        printed: 0,
        limit: options.count.unwrap_or(u64::MAX),
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
        let link = reader.link_type;
        for record in reader {
            let record = record.map_err(|e| invalid(path, e))?;
            let Some(udp) = udp_payload(link, record.data) else {
                continue;
            };
            if udp.destination_port != port {
                continue;
            }
            printer.datagram(
                Some(SocketAddr::new(udp.source, udp.source_port)),
                udp.payload,
            )?;
            if printer.done() {
                break;
            }
        }
        return Ok(());
    }

    let socket = bind(options.listen.as_deref())?;
    // A burst of datagrams must not be lost while lines are printed.
    let _ = setsockopt_int(socket.as_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, 4 << 20);
    eprintln!("wsflowd collect: listening on {}", socket.local_addr()?);
    let mut buf = vec![0u8; 65536];
    while !printer.done() {
        let (n, peer) = socket.recv_from(&mut buf)?;
        printer.datagram(Some(peer), &buf[..n])?;
    }
    Ok(())
}
