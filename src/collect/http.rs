//! The HTTP side of `wsflowd collect --prometheus`: a listener thread that
//! serves `/metrics` to Prometheus (and anything else that scrapes).
//!
//! The receive path never waits on a scrape: a connection's thread asks the
//! receive loop for a [`Snapshot`] (a message on a channel, and a byte on a
//! socket pair the loop polls so that it wakes), the loop copies its state
//! between two datagrams, and the connection's thread renders and sends it
//! on its own. A client that is slow to read only holds its own thread. At
//! most [`MAX_CONNECTIONS`] are served at once; more are answered 503.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::fleet::Snapshot;
use super::metrics::{self, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};

/// Connections served at the same time.
pub const MAX_CONNECTIONS: usize = 8;
/// Longest request head read.
const MAX_REQUEST_BYTES: usize = 8192;
/// How long a connection waits for the receive loop's snapshot.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection's request for a snapshot of the fleet.
pub struct SnapshotRequest {
    pub reply: SyncSender<Snapshot>,
}

/// The receive loop's end of the exporter.
pub struct Exporter {
    pub local_addr: SocketAddr,
    pub requests: Receiver<SnapshotRequest>,
    wake: UnixStream,
}

impl Exporter {
    /// Binds `addr` and starts serving; snapshots are asked for through
    /// [`Exporter::requests`].
    pub fn start(addr: &str) -> io::Result<Exporter> {
        let parsed = super::socket_address("--prometheus", addr, "0.0.0.0:9106 or [::]:9106")?;
        let listener = TcpListener::bind(parsed)
            .map_err(|e| io::Error::new(e.kind(), format!("--prometheus {addr}: {e}")))?;
        let local_addr = listener.local_addr()?;
        let (tx, requests) = mpsc::channel();
        let (wake, waker) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        waker.set_nonblocking(true)?;
        thread::Builder::new()
            .name("prometheus".into())
            .spawn(move || accept(listener, tx, waker))?;
        Ok(Exporter {
            local_addr,
            requests,
            wake,
        })
    }

    /// The descriptor the receive loop polls for requests.
    pub fn wake_fd(&self) -> RawFd {
        self.wake.as_raw_fd()
    }

    /// Empties the wake-up socket (requests are read from the channel).
    pub fn drain_wake(&mut self) {
        let mut buf = [0u8; 64];
        while let Ok(n) = self.wake.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    }
}

fn accept(listener: TcpListener, requests: Sender<SnapshotRequest>, waker: UnixStream) {
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else {
            // Out of descriptors or an aborted connection: go on.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        if active.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
            let _ = respond(
                &stream,
                "503 Service Unavailable",
                "text/plain",
                b"too many connections\n",
                false,
            );
            continue;
        }
        let Ok(waker) = waker.try_clone() else {
            continue;
        };
        let requests = requests.clone();
        let active = active.clone();
        active.fetch_add(1, Ordering::Relaxed);
        let spawned = thread::Builder::new().name("scrape".into()).spawn({
            let active = active.clone();
            move || {
                lower_priority();
                let _ = serve(stream, &requests, &waker);
                active.fetch_sub(1, Ordering::Relaxed);
            }
        });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Lets the receive thread win the CPU over this (scrape) thread: a
/// scrape of a thousand agents renders for about 0.1 s, and on a small
/// machine scrapes back to back would otherwise leave datagrams waiting
/// in the socket until it overflows.
fn lower_priority() {
    crate::sys::thread::set_nice(10);
}

/// The parts of a request we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub accept: String,
}

/// Parses a request head (request line and headers, up to the blank line).
/// `None` if it is not HTTP/1.x.
pub fn parse_request(head: &str) -> Option<Request> {
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?;
    if !first.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let path = target.split('?').next().unwrap_or("").to_string();
    let mut accept = String::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("accept") {
                if !accept.is_empty() {
                    accept.push(',');
                }
                accept.push_str(value.trim());
            }
        }
    }
    Some(Request {
        method,
        path,
        accept,
    })
}

fn read_head(stream: &mut TcpStream) -> io::Result<String> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            head.truncate(end);
            return Ok(String::from_utf8_lossy(&head).into_owned());
        }
        if head.len() > MAX_REQUEST_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too long",
            ));
        }
    }
}

fn respond(
    mut stream: &TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if !head_only {
        stream.write_all(body)?;
    }
    stream.flush()
}

const INDEX: &[u8] = b"wsflowd collect: sFlow agents' figures for Prometheus at /metrics\n";

fn serve(
    mut stream: TcpStream,
    requests: &Sender<SnapshotRequest>,
    mut waker: &UnixStream,
) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let head = read_head(&mut stream)?;
    let Some(request) = parse_request(&head) else {
        return respond(
            &stream,
            "400 Bad Request",
            "text/plain",
            b"bad request\n",
            false,
        );
    };
    let head_only = request.method == "HEAD";
    if request.method != "GET" && !head_only {
        return respond(
            &stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n",
            false,
        );
    }
    match request.path.as_str() {
        "/metrics" => {}
        "/" => return respond(&stream, "200 OK", "text/plain", INDEX, head_only),
        _ => {
            return respond(
                &stream,
                "404 Not Found",
                "text/plain",
                b"not found\n",
                head_only,
            )
        }
    }
    let (reply, snapshot) = mpsc::sync_channel(1);
    if requests.send(SnapshotRequest { reply }).is_err() {
        return respond(
            &stream,
            "503 Service Unavailable",
            "text/plain",
            b"collector stopped\n",
            false,
        );
    }
    // A full socket pair means a wake-up is pending already.
    let _ = waker.write(&[1]);
    let Ok(mut snapshot) = snapshot.recv_timeout(SNAPSHOT_TIMEOUT) else {
        return respond(
            &stream,
            "503 Service Unavailable",
            "text/plain",
            b"no answer from the receive loop\n",
            false,
        );
    };
    let openmetrics = metrics::prefers_openmetrics(&request.accept);
    let content_type = if openmetrics {
        OPENMETRICS_CONTENT_TYPE
    } else {
        TEXT_CONTENT_TYPE
    };
    // Streamed as it is rendered: no length, the end of the body is the
    // end of the connection.
    let head =
        format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    if !head_only {
        metrics::render_to(&mut snapshot, openmetrics, &mut stream)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse() {
        let r = parse_request(
            "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\nUser-Agent: Prometheus/2.42.0",
        )
        .unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/metrics"));
        assert!(metrics::prefers_openmetrics(&r.accept));
        assert!(parse_request("GET /metrics").is_none());
        assert!(parse_request("").is_none());
        let r = parse_request("GET / HTTP/1.0\r\naccept: text/plain").unwrap();
        assert!(!metrics::prefers_openmetrics(&r.accept));
    }

    #[test]
    fn content_negotiation() {
        assert!(!metrics::prefers_openmetrics(""));
        assert!(!metrics::prefers_openmetrics("*/*"));
        assert!(metrics::prefers_openmetrics("application/openmetrics-text"));
        assert!(!metrics::prefers_openmetrics(
            "application/openmetrics-text;q=0.2,text/plain"
        ));
        assert!(!metrics::prefers_openmetrics(
            "application/openmetrics-text;version=2.0.0"
        ));
        assert!(metrics::prefers_openmetrics(
            "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5"
        ));
    }
}
