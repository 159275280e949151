//! One BSS's control socket: the conversation with hostapd (one request
//! in flight, the events between the replies) and what each datagram
//! changes in the station table.

use std::io::{self, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::{Path, PathBuf};

use super::parse::{self, Datagram, Event, Reply};
use super::{ControlStats, ADDRESS_ATTEMPTS, MAX_LISTING_RESTARTS, MAX_STATION_QUERIES};
use crate::mac::MacAddr;
use crate::stations::{
    BssReport, Source, StationReport, StationTable, Update, MAX_STATIONS_PER_BSS,
};

/// What became of a request sent to hostapd.
enum Sent {
    /// In flight.
    Yes,
    /// hostapd's socket has more than `max_dgram_qlen` requests queued: it
    /// is busy.
    Busy,
    /// The link has no socket (closed).
    NoSocket,
    /// The socket failed (logged).
    Failed,
}

/// A request, one in flight per socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Request {
    Attach,
    Ping,
    Status,
    StaFirst,
    StaNext(MacAddr),
    Sta(MacAddr),
}

impl Request {
    /// The command's bytes, written into `buf`.
    pub(super) fn write<'b>(&self, buf: &'b mut [u8; 32]) -> &'b [u8] {
        let mut cursor = io::Cursor::new(&mut buf[..]);
        // 32 bytes hold the longest command ("STA-NEXT " + 17).
        let _ = match self {
            Request::Attach => cursor.write_all(b"ATTACH"),
            Request::Ping => cursor.write_all(b"PING"),
            Request::Status => cursor.write_all(b"STATUS"),
            Request::StaFirst => cursor.write_all(b"STA-FIRST"),
            Request::StaNext(mac) => write!(cursor, "STA-NEXT {mac}"),
            Request::Sta(mac) => write!(cursor, "STA {mac}"),
        };
        let len = cursor.position() as usize;
        &buf[..len]
    }
}

/// What a socket is to ask next (one request in flight at a time).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Wants {
    pub(super) attach: bool,
    pub(super) status: bool,
    pub(super) list: bool,
    pub(super) ping: bool,
}

/// One BSS's control socket.
#[derive(Debug)]
pub(super) struct Link {
    /// The BSS's interface: the socket file's name.
    pub(super) ifname: String,
    pub(super) path: PathBuf,
    /// The inode of the socket file: another one is another hostapd.
    pub(super) ino: u64,
    /// Connected to hostapd's socket; `None`: down (connect failed, an
    /// error), tried again at the next tick.
    pub(super) sock: Option<UnixDatagram>,
    pub(super) attached: bool,
    pub(super) in_flight: Option<(Request, u64)>,
    pub(super) wants: Wants,
    /// Stations that just connected, to ask for their rates and PHY.
    pub(super) queries: Vec<MacAddr>,
    /// The listing under way: the stations listed so far.
    pub(super) listing: Option<Vec<MacAddr>>,
    pub(super) listing_restarts: u8,
    /// A spare vector for the next listing (no allocation per listing).
    pub(super) spare: Vec<MacAddr>,
    pub(super) last_heard_ms: u64,
    pub(super) timeouts_in_a_row: u32,
    /// Something was applied to the table for this BSS (so its
    /// disappearance must be reported).
    pub(super) reported: bool,
    /// Seen in the directory scan under way.
    pub(super) seen: bool,
    /// This inode said it was terminating, or is not a BSS socket: left
    /// alone until another file takes its place.
    pub(super) shunned: bool,
    /// Opened before: the next open is a reconnect.
    pub(super) opened_before: bool,
    /// Told the log that the socket may not be written (once per link).
    pub(super) warned_access: bool,
}

impl Link {
    pub(super) fn new(ifname: &str, path: PathBuf, ino: u64) -> Link {
        Link {
            ifname: ifname.to_owned(),
            path,
            ino,
            sock: None,
            attached: false,
            in_flight: None,
            wants: Wants::default(),
            queries: Vec::new(),
            listing: None,
            listing_restarts: 0,
            spare: Vec::new(),
            last_heard_ms: 0,
            timeouts_in_a_row: 0,
            reported: false,
            seen: true,
            shunned: false,
            opened_before: false,
            warned_access: false,
        }
    }

    /// Closes the socket (telling hostapd to forget our address if we were
    /// attached), forgetting any request in flight.
    pub(super) fn close(&mut self) {
        if let Some(sock) = self.sock.take() {
            if self.attached || matches!(self.in_flight, Some((Request::Attach, _))) {
                // Best effort: hostapd otherwise drops a dead monitor only
                // after failing to send it 11 events.
                let _ = sock.send(b"DETACH");
            }
        }
        self.attached = false;
        self.in_flight = None;
        self.end_listing();
        self.queries.clear();
    }

    pub(super) fn end_listing(&mut self) {
        if let Some(mut listed) = self.listing.take() {
            listed.clear();
            self.spare = listed;
        }
    }

    /// Opens a socket bound to a fresh abstract address and connected to
    /// hostapd's, and asks to attach. When hostapd's socket cannot be
    /// reached (a stale file: hostapd was killed), the BSS is reported gone.
    pub(super) fn open(
        &mut self,
        now_ms: u64,
        serial: &mut u32,
        stats: &mut ControlStats,
        table: &mut StationTable,
    ) {
        self.close();
        match open_socket(&self.path, serial) {
            Ok(sock) => {
                if self.opened_before {
                    stats.reconnects += 1;
                }
                self.opened_before = true;
                self.sock = Some(sock);
                self.wants = Wants {
                    attach: true,
                    status: true,
                    list: true,
                    ping: false,
                };
                self.last_heard_ms = now_ms;
            }
            Err(e) => {
                if e.kind() == io::ErrorKind::PermissionDenied {
                    if !self.warned_access {
                        self.warned_access = true;
                        crate::warn!(
                            "hostapd control socket {}: {e}: stations of {} not followed through \
it (hostapd's ctrl_interface_group must be a group of this daemon's user)",
                            self.path.display(),
                            self.ifname
                        );
                    }
                } else {
                    crate::debug_limited!("hostapd control socket {}: {e}", self.path.display());
                }
                self.gone(table);
            }
        }
        self.pump(now_ms, stats);
    }

    /// Reports the BSS gone for this source, if anything was said of it.
    pub(super) fn gone(&mut self, table: &mut StationTable) -> bool {
        if !self.reported {
            return false;
        }
        self.reported = false;
        table.apply(
            Source::HostapdControl,
            Update::BssGone {
                ifname: &self.ifname,
            },
        )
    }

    /// Sends the next request if none is in flight.
    pub(super) fn pump(&mut self, now_ms: u64, stats: &mut ControlStats) {
        if self.in_flight.is_some() || self.sock.is_none() {
            return;
        }
        let request = if !self.attached {
            if !self.wants.attach {
                return;
            }
            Request::Attach
        } else if self.wants.status {
            Request::Status
        } else if self.wants.list {
            Request::StaFirst
        } else if let Some(&mac) = self.queries.first() {
            Request::Sta(mac)
        } else if self.wants.ping {
            Request::Ping
        } else {
            return;
        };
        match self.send(request, now_ms, stats) {
            Sent::Yes => match request {
                Request::Attach => self.wants.attach = false,
                Request::Status => self.wants.status = false,
                Request::StaFirst => {
                    self.wants.list = false;
                    // A listing says all a query would.
                    self.queries.clear();
                    self.listing_restarts = 0;
                    self.start_listing();
                }
                Request::Sta(_) => {
                    self.queries.remove(0);
                }
                Request::Ping => self.wants.ping = false,
                Request::StaNext(_) => {}
            },
            // hostapd is busy: asked again at the next tick.
            Sent::Busy | Sent::NoSocket => {}
            // Its socket is closed (it exited or restarted); the next
            // tick's scan tells which.
            Sent::Failed => self.close(),
        }
    }

    /// Sends `request` (counted in `stats`), in flight when sent.
    fn send(&mut self, request: Request, now_ms: u64, stats: &mut ControlStats) -> Sent {
        let mut buf = [0u8; 32];
        let bytes = request.write(&mut buf);
        let Some(sock) = self.sock.as_ref() else {
            return Sent::NoSocket;
        };
        match sock.send(bytes) {
            Ok(_) => {
                stats.requests += 1;
                self.in_flight = Some((request, now_ms));
                Sent::Yes
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                stats.send_busy += 1;
                Sent::Busy
            }
            Err(e) => {
                crate::debug_limited!("hostapd control {}: send: {e}", self.ifname);
                Sent::Failed
            }
        }
    }

    pub(super) fn start_listing(&mut self) {
        let mut listed = std::mem::take(&mut self.spare);
        listed.clear();
        self.listing = Some(listed);
    }

    /// Sends the next request of a listing at once (it is a continuation
    /// of the one just answered).
    pub(super) fn send_now(&mut self, request: Request, now_ms: u64, stats: &mut ControlStats) {
        match self.send(request, now_ms, stats) {
            Sent::Yes | Sent::NoSocket => {}
            // Busy: the listing starts again at the next tick.
            Sent::Busy => {
                self.wants.list = true;
                self.end_listing();
            }
            Sent::Failed => self.close(),
        }
    }
}

/// Creates a non-blocking datagram socket bound to an abstract address of
/// ours and connected to `path`.
pub(super) fn open_socket(path: &Path, serial: &mut u32) -> io::Result<UnixDatagram> {
    let pid = std::process::id();
    let mut last = io::Error::from(io::ErrorKind::AddrInUse);
    for _ in 0..ADDRESS_ATTEMPTS {
        *serial = serial.wrapping_add(1);
        let mut name = [0u8; 48];
        let mut cursor = io::Cursor::new(&mut name[..]);
        let _ = write!(cursor, "wsflowd-hostapd-{pid}-{}", *serial);
        let len = cursor.position() as usize;
        let addr = SocketAddr::from_abstract_name(&name[..len])?;
        let sock = match UnixDatagram::bind_addr(&addr) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                last = e;
                continue;
            }
            Err(e) => return Err(e),
        };
        sock.connect(path)?;
        sock.set_nonblocking(true)?;
        return Ok(sock);
    }
    Err(last)
}

/// Applies one datagram of `link`'s socket. Returns whether the stations
/// changed.
pub(super) fn on_datagram(
    link: &mut Link,
    bytes: &[u8],
    now_ms: u64,
    table: &mut StationTable,
    stats: &mut ControlStats,
) -> bool {
    match parse::datagram(bytes) {
        Datagram::Event { text, .. } => {
            stats.events += 1;
            if !link.attached {
                // Before ATTACH's OK nothing is sent to us; after a
                // reconnect, nothing old can reach the new address.
                return false;
            }
            match parse::event(text) {
                Ok(event) => on_event(link, event, table),
                Err(e) => {
                    stats.malformed += 1;
                    crate::debug_limited!("{}: {e}", link.ifname);
                    false
                }
            }
        }
        Datagram::Reply(reply) => {
            stats.replies += 1;
            let Some((request, _)) = link.in_flight.take() else {
                stats.malformed += 1;
                return false;
            };
            link.timeouts_in_a_row = 0;
            let changed = on_reply(link, request, reply, now_ms, table, stats);
            link.pump(now_ms, stats);
            changed
        }
    }
}

pub(super) fn on_event(link: &mut Link, event: Event<'_>, table: &mut StationTable) -> bool {
    let source = Source::HostapdControl;
    match event {
        Event::StationConnected(mac) => {
            link.reported = true;
            if let Some(listed) = &mut link.listing {
                // Joined after the listing passed it: it is there all the
                // same.
                if !listed.contains(&mac) && listed.len() < MAX_STATIONS_PER_BSS {
                    listed.push(mac);
                }
            }
            // Its rates and PHY come with a query (a listing under way
            // does not see it: hostapd adds new stations at the head of
            // the list it walks).
            if !link.wants.list && !link.queries.contains(&mac) {
                if link.queries.len() < MAX_STATION_QUERIES {
                    link.queries.push(mac);
                } else {
                    link.queries.clear();
                    link.wants.list = true;
                }
            }
            table.apply(
                source,
                Update::Station {
                    ifname: &link.ifname,
                    mac,
                    report: StationReport {
                        associated: Some(true),
                        authorized: Some(true),
                        ..StationReport::default()
                    },
                },
            )
        }
        Event::StationDisconnected(mac) => {
            if let Some(listed) = &mut link.listing {
                listed.retain(|m| *m != mac);
            }
            link.queries.retain(|m| *m != mac);
            table.apply(
                source,
                Update::StationGone {
                    ifname: &link.ifname,
                    mac,
                },
            )
        }
        Event::Enabled => {
            link.wants.status = true;
            link.wants.list = true;
            false
        }
        Event::Disabled => {
            // hostapd dropped every station of the BSS.
            link.end_listing();
            link.queries.clear();
            link.wants.status = true;
            table.apply(
                source,
                Update::Listed {
                    ifname: &link.ifname,
                    stations: &[],
                },
            )
        }
        Event::Terminating => {
            // The socket goes next: leave this inode alone.
            link.close();
            link.shunned = true;
            link.gone(table)
        }
        Event::ChannelSwitched { freq_mhz } => {
            link.reported = true;
            link.wants.status = true;
            let channel = crate::wifi::channel_number(freq_mhz);
            table.apply(
                source,
                Update::Bss {
                    ifname: &link.ifname,
                    report: BssReport {
                        freq_mhz: Some(freq_mhz),
                        channel: (channel != 0).then_some(channel),
                        ..BssReport::default()
                    },
                },
            );
            false
        }
        Event::Other(_) => false,
    }
}

pub(super) fn on_reply(
    link: &mut Link,
    request: Request,
    bytes: &[u8],
    now_ms: u64,
    table: &mut StationTable,
    stats: &mut ControlStats,
) -> bool {
    let source = Source::HostapdControl;
    let reply = parse::reply(bytes);
    if reply == Reply::UnknownCommand {
        // Not a BSS's control socket (another daemon's, a global one).
        crate::debug_limited!(
            "hostapd control {}: not a BSS control socket, left alone",
            link.ifname
        );
        stats.malformed += 1;
        link.close();
        link.shunned = true;
        return false;
    }
    match request {
        Request::Attach => {
            if reply == Reply::Ok {
                link.attached = true;
                stats.attaches += 1;
            } else {
                // Tried again from a new socket at the next tick (not at
                // once: a peer that always fails must not keep us busy).
                stats.malformed += 1;
                link.close();
            }
            false
        }
        Request::Ping => {
            if reply != Reply::Pong {
                stats.malformed += 1;
            }
            false
        }
        Request::Status => {
            let Reply::Text(text) = reply else {
                stats.malformed += 1;
                return false;
            };
            match parse::status(text, &link.ifname) {
                Ok(Some(info)) => {
                    link.reported = true;
                    table.apply(
                        source,
                        Update::Bss {
                            ifname: &link.ifname,
                            report: info.report,
                        },
                    );
                }
                Ok(None) => stats.malformed += 1,
                Err(e) => {
                    stats.malformed += 1;
                    crate::debug_limited!("{}: {e}", link.ifname);
                }
            }
            false
        }
        Request::StaFirst | Request::StaNext(_) => match reply {
            Reply::Empty => {
                // The end of the listing.
                let Some(listed) = link.listing.take() else {
                    return false;
                };
                stats.listings += 1;
                link.reported = true;
                let changed = table.apply(
                    source,
                    Update::Listed {
                        ifname: &link.ifname,
                        stations: &listed,
                    },
                );
                let mut listed = listed;
                listed.clear();
                link.spare = listed;
                changed
            }
            Reply::Text(block) => {
                let info = match parse::station(block) {
                    Ok(info) => info,
                    Err(e) => {
                        stats.malformed += 1;
                        crate::debug_limited!("{}: {e}", link.ifname);
                        link.end_listing();
                        return false;
                    }
                };
                let Some(listed) = &mut link.listing else {
                    return false;
                };
                if listed.len() >= MAX_STATIONS_PER_BSS {
                    // More stations than any hostapd keeps: a loop.
                    stats.malformed += 1;
                    link.end_listing();
                    return false;
                }
                if !listed.contains(&info.mac) {
                    listed.push(info.mac);
                }
                link.reported = true;
                let changed = table.apply(
                    source,
                    Update::Station {
                        ifname: &link.ifname,
                        mac: info.mac,
                        report: info.report,
                    },
                );
                link.send_now(Request::StaNext(info.mac), now_ms, stats);
                changed
            }
            Reply::Fail if matches!(request, Request::StaNext(_)) => {
                // The station we were at left meanwhile: start over.
                link.end_listing();
                if link.listing_restarts < MAX_LISTING_RESTARTS {
                    link.listing_restarts += 1;
                    link.start_listing();
                    link.send_now(Request::StaFirst, now_ms, stats);
                }
                false
            }
            _ => {
                stats.malformed += 1;
                link.end_listing();
                false
            }
        },
        Request::Sta(mac) => match reply {
            Reply::Text(block) => match parse::station(block) {
                Ok(info) if info.mac == mac => {
                    link.reported = true;
                    table.apply(
                        source,
                        Update::Station {
                            ifname: &link.ifname,
                            mac,
                            report: info.report,
                        },
                    )
                }
                _ => {
                    stats.malformed += 1;
                    false
                }
            },
            // hostapd does not know it (any more).
            Reply::Fail | Reply::Empty => table.apply(
                source,
                Update::StationGone {
                    ifname: &link.ifname,
                    mac,
                },
            ),
            _ => {
                stats.malformed += 1;
                false
            }
        },
    }
}
