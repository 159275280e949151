//! The agent's ubus link: connects (and reconnects) to ubusd, finds
//! hostapd's BSS objects and follows them as they come and go, subscribes to
//! their notifications, feeds what hostapd says to the station table (as
//! the `ubus` source, through `stations::ubus`), and publishes our own
//! `wsflowd` object (`status`, `reload`). Publishing and following hostapd
//! do not depend on each other: ubusd may refuse one (its ACLs) and allow
//! the other.
//!
//! Never slow hostapd down: a notification that wants an answer (when a
//! steering daemon set `notify_response`, hostapd waits up to 100 ms for
//! every subscriber) is answered with status 0 the moment it is read,
//! before anything else is done with it, and written at once. Nothing here
//! waits on anything: the connection is non-blocking and driven by the
//! agent's poll loop.
//!
//! One nameless subscriber object per BSS: notifications reach a
//! subscriber without saying which object sent them (hostapd's `ifname`
//! field only exists since late 2024), so the subscriber tells.

use crate::sorted_map::SortedMap;
use std::os::fd::RawFd;
use std::path::PathBuf;

use crate::mac::MacAddr;
use crate::stations::ubus::{bss_event, bss_ifname, station_event, BssEvent, StationEvent};
use crate::stations::{self, Source, StationTable, Update};
use crate::ubus::blob::{BlobBuf, BlobmsgType};
use crate::ubus::client::{Connection, Event};
use crate::ubus::message::{status, ObjectInfo};
use crate::{debug, info, warn};

/// The object we publish.
pub const OBJECT: &str = "wsflowd";
/// Reconnection delays: doubling from the first to the last. The delay
/// goes back to the first only once a connection has stayed up for
/// [`STABLE_MS`]: a broker that accepts and then drops or garbles every
/// connection is retried as seldom as one that is not there at all.
const BACKOFF_FIRST_MS: u64 = 1_000;
const BACKOFF_MAX_MS: u64 = 30_000;
/// A connection up this long ends a troubled episode.
const STABLE_MS: u64 = 60_000;
/// ubusd greets every client at once; one that has not after this long is
/// not a working broker.
const GREETING_TIMEOUT_MS: u64 = 5_000;
/// Lines about the connection coming and going logged per troubled
/// episode; the rest go to the debug level.
const EPISODE_LINES: u32 = 3;

/// What a request we sent was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// ADD_OBJECT of the subscriber of a BSS (or of `hostapd`).
    Subscriber {
        target: u32,
    },
    Listener,
    Own,
    Lookup,
    Subscribe {
        target: u32,
    },
    Clients {
        bss: u32,
    },
    Status {
        bss: u32,
    },
    Other,
}

/// A call of one of our object's methods, for the agent to answer with
/// [`UbusLink::answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Status { peer: u32, seq: u16, objid: u32 },
    Reload { peer: u32, seq: u16, objid: u32 },
}

/// A BSS object of hostapd that we follow.
#[derive(Debug, Clone)]
struct BssObject {
    ifname: String,
    /// Our subscription to its notifications is in place.
    subscribed: bool,
    /// A station associated since the last listing: list again soon, for
    /// its rates (notifications carry none).
    stale: bool,
}

/// hostapd's BSS objects followed at most: a client registering fake
/// `hostapd.*` objects cannot make the list grow without bound.
const MAX_OBJECTS: usize = stations::MAX_BSSES;

/// Figures for `status` and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UbusStats {
    /// Connections attempted (the socket connect, successful or not).
    pub attempts: u64,
    /// Connections the broker greeted.
    pub connects: u64,
    pub notifications: u64,
    /// Notifications that wanted an answer, answered.
    pub answered: u64,
}

pub struct UbusLink {
    path: PathBuf,
    conn: Option<Connection>,
    /// When the current connection was made (its greeting is due
    /// [`GREETING_TIMEOUT_MS`] later).
    connected_at_ms: u64,
    /// When the broker greeted the current connection.
    greeted_at_ms: Option<u64>,
    retry_at_ms: u64,
    backoff_ms: u64,
    /// Lines logged about the connection in the current troubled episode
    /// (it ends when a connection stays up for [`STABLE_MS`]).
    episode_lines: u32,
    /// The last line logged about the connection: a repeat of the same
    /// news (the broker is still absent) goes to the debug level.
    last_line: Option<String>,
    listener: Option<u32>,
    own: Option<u32>,
    /// Our subscriber object → the object it follows.
    subscribers: SortedMap<u32, u32>,
    pending: SortedMap<u16, Pending>,
    /// hostapd's BSS objects by ubus object id.
    objects: SortedMap<u32, BssObject>,
    /// The `hostapd` object itself (BSS additions and removals).
    main_object: Option<u32>,
    /// hostapd is followed (the `ubus` station source is on); our own
    /// object is published either way.
    hostapd_on: bool,
    pub stats: UbusStats,
    /// Reused for request arguments.
    args: BlobBuf,
    /// Reused for listings.
    listed: Vec<MacAddr>,
}

impl UbusLink {
    pub fn new(path: PathBuf) -> UbusLink {
        UbusLink {
            path,
            conn: None,
            connected_at_ms: 0,
            greeted_at_ms: None,
            retry_at_ms: 0,
            backoff_ms: BACKOFF_FIRST_MS,
            episode_lines: 0,
            last_line: None,
            listener: None,
            own: None,
            subscribers: SortedMap::new(),
            pending: SortedMap::new(),
            objects: SortedMap::new(),
            main_object: None,
            hostapd_on: true,
            stats: UbusStats::default(),
            args: BlobBuf::new(),
            listed: Vec::new(),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    pub fn is_connected(&self) -> bool {
        self.conn.as_ref().is_some_and(Connection::is_ready)
    }

    /// The BSSes followed: interface name and whether our subscription to
    /// their notifications is in place.
    pub fn followed(&self) -> impl Iterator<Item = (&str, bool)> {
        self.objects
            .values()
            .map(|o| (o.ifname.as_str(), o.subscribed))
    }

    /// Follows hostapd (the `ubus` station source) or stops: what it said
    /// is forgotten then, and its subscriptions dropped.
    pub fn follow_hostapd(&mut self, on: bool, table: &mut StationTable) {
        if on == self.hostapd_on {
            return;
        }
        self.hostapd_on = on;
        if on {
            if let Some(c) = &mut self.conn {
                for pattern in ["hostapd", "hostapd.*"] {
                    if let Ok(seq) = c.lookup(Some(pattern)) {
                        self.pending.insert(seq, Pending::Lookup);
                    }
                }
            }
            info!("stations: following hostapd over ubus");
        } else {
            let followed: Vec<u32> = self
                .objects
                .keys()
                .copied()
                .chain(self.main_object)
                .collect();
            for id in followed {
                self.unfollow(id, table);
            }
            table.apply(Source::Ubus, Update::SourceLost);
        }
        self.flush();
    }

    /// The descriptor to poll and the events to poll for.
    pub fn poll_fd(&self) -> Option<(RawFd, i16)> {
        self.conn.as_ref().map(|c| (c.fd(), c.poll_events()))
    }

    /// Connects when due; refreshes the BSSes' status and stations (all
    /// of them when `refresh`, else those with new stations: their rates
    /// come only with a listing).
    pub fn tick(&mut self, now_ms: u64, refresh: bool, table: &mut StationTable) {
        if self.conn.is_none() && now_ms >= self.retry_at_ms {
            self.connect(now_ms, table);
        }
        if self.conn.is_some() && !self.is_connected() {
            if now_ms.saturating_sub(self.connected_at_ms) >= GREETING_TIMEOUT_MS {
                let why = format!(
                    "ubus: {} accepted the connection but sent no greeting within {} s",
                    self.path.display(),
                    GREETING_TIMEOUT_MS / 1000
                );
                self.down(now_ms, &why, table);
            }
            return;
        }
        if !self.is_connected() {
            return;
        }
        if self
            .greeted_at_ms
            .is_some_and(|t| now_ms.saturating_sub(t) >= STABLE_MS)
        {
            // Up long enough: the next outage starts afresh.
            self.backoff_ms = BACKOFF_FIRST_MS;
            self.episode_lines = 0;
            self.last_line = None;
        }
        let due: Vec<(u32, bool)> = self
            .objects
            .iter()
            .filter(|(_, b)| refresh || b.stale)
            .map(|(&id, _)| (id, refresh))
            .collect();
        for (bss, status) in due {
            self.query(bss, status);
        }
        self.flush();
    }

    fn connect(&mut self, now_ms: u64, table: &mut StationTable) {
        self.stats.attempts += 1;
        let hostapd_on = self.hostapd_on;
        match Connection::connect(&self.path) {
            Ok(mut c) => {
                let mut requests = || -> std::io::Result<Vec<(u16, Pending)>> {
                    let methods: [(&str, &[(&str, BlobmsgType)]); 2] =
                        [("status", &[]), ("reload", &[])];
                    let mut sent = vec![
                        (c.add_object(None, &[])?, Pending::Listener),
                        (c.add_object(Some(OBJECT), &methods)?, Pending::Own),
                    ];
                    if hostapd_on {
                        sent.push((c.lookup(Some("hostapd"))?, Pending::Lookup));
                        sent.push((c.lookup(Some("hostapd.*"))?, Pending::Lookup));
                    }
                    Ok(sent)
                };
                match requests() {
                    Ok(sent) => {
                        self.pending.extend(sent);
                        self.conn = Some(c);
                        self.connected_at_ms = now_ms;
                        self.greeted_at_ms = None;
                        debug!("ubus: connecting to {}", self.path.display());
                    }
                    Err(e) => self.down(now_ms, &format!("cannot talk to ubus: {e}"), table),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && self.stats.connects == 0 => {
                // No ubusd at all (not OpenWrt, or before ubusd started):
                // nothing is wrong, and nothing to warn about.
                self.down_as(
                    crate::log::Level::Info,
                    now_ms,
                    &format!(
                        "ubus: no ubusd at {} (not OpenWrt?): no ubus object, hostapd followed through nl80211 and its control sockets; connecting when it appears",
                        self.path.display()
                    ),
                    table,
                )
            }
            Err(e) => self.down(now_ms, &format!("ubus not available ({e})"), table),
        }
    }

    /// Logs a line about the connection coming or going: the first
    /// [`EPISODE_LINES`] of a troubled episode at `level`, the rest at the
    /// debug level, so that a flapping broker cannot fill the log.
    fn episode_line(&mut self, level: crate::log::Level, line: &str) {
        let repeat = self.last_line.as_deref() == Some(line);
        self.last_line = Some(line.to_owned());
        if !repeat && self.episode_lines < EPISODE_LINES {
            self.episode_lines += 1;
            crate::log::write(level, format_args!("{line}"));
            if self.episode_lines == EPISODE_LINES {
                info!("ubus: further messages about this connection are logged at the debug level until it stays up");
            }
        } else {
            debug!("{line}");
        }
    }

    /// The connection is gone (or never came): forget what it told us, and
    /// try again later, each time later up to [`BACKOFF_MAX_MS`].
    fn down(&mut self, now_ms: u64, why: &str, table: &mut StationTable) {
        let line = format!(
            "{why}: retrying, each time later (up to every {} s)",
            BACKOFF_MAX_MS / 1000
        );
        self.down_as(crate::log::Level::Warn, now_ms, &line, table)
    }

    /// [`UbusLink::down`], its line at `level`.
    fn down_as(
        &mut self,
        level: crate::log::Level,
        now_ms: u64,
        line: &str,
        table: &mut StationTable,
    ) {
        let stable = self
            .greeted_at_ms
            .is_some_and(|t| now_ms.saturating_sub(t) >= STABLE_MS);
        if stable {
            self.backoff_ms = BACKOFF_FIRST_MS;
            self.episode_lines = 0;
            self.last_line = None;
        }
        self.episode_line(level, line);
        self.conn = None;
        self.greeted_at_ms = None;
        self.listener = None;
        self.own = None;
        self.subscribers.clear();
        self.pending.clear();
        self.objects.clear();
        self.main_object = None;
        // Nothing hostapd said over this connection holds any more: stale
        // stations must not be counted.
        table.apply(Source::Ubus, Update::SourceLost);
        self.retry_at_ms = now_ms + self.backoff_ms;
        self.backoff_ms = (self.backoff_ms * 2).min(BACKOFF_MAX_MS);
    }

    /// Asks a BSS for its stations, and its status too if `status`.
    fn query(&mut self, bss: u32, status: bool) {
        let Some(c) = &mut self.conn else {
            return;
        };
        self.args.clear();
        let empty = self.args.payload();
        if status {
            if let Ok(seq) = c.invoke(bss, "get_status", empty) {
                self.pending.insert(seq, Pending::Status { bss });
            }
        }
        if let Ok(seq) = c.invoke(bss, "get_clients", empty) {
            self.pending.insert(seq, Pending::Clients { bss });
        }
        if let Some(b) = self.objects.get_mut(&bss) {
            // Asked: not again before the answer (or the next refresh).
            b.stale = false;
        }
    }

    /// A new object to follow: a BSS, or `hostapd` itself. Its subscriber
    /// object is created first; the subscription follows its id.
    fn follow(&mut self, path: &str, id: u32, table: &mut StationTable) {
        if !self.hostapd_on {
            return;
        }
        if path == "hostapd" {
            if self.main_object == Some(id) {
                return;
            }
            self.main_object = Some(id);
        } else if let Some(ifname) = bss_ifname(path) {
            if self.objects.contains_key(&id) {
                return;
            }
            // The same interface under a new object (hostapd restarted):
            // the old object and what it said are gone.
            let old: Vec<u32> = self
                .objects
                .iter()
                .filter(|(_, b)| b.ifname == ifname)
                .map(|(&o, _)| o)
                .collect();
            for o in old {
                self.unfollow(o, table);
            }
            if self.objects.len() >= MAX_OBJECTS {
                return;
            }
            self.objects.insert(
                id,
                BssObject {
                    ifname: ifname.to_owned(),
                    subscribed: false,
                    stale: false,
                },
            );
            info!("hostapd: following BSS {ifname} (object {id:#x})");
            self.query(id, true);
        } else {
            return;
        }
        if let Some(c) = &mut self.conn {
            if let Ok(seq) = c.add_object(None, &[]) {
                self.pending.insert(seq, Pending::Subscriber { target: id });
            }
        }
    }

    /// Stops following an object (it went away).
    fn unfollow(&mut self, id: u32, table: &mut StationTable) {
        if self.main_object == Some(id) {
            self.main_object = None;
        }
        if let Some(bss) = self.objects.remove(&id) {
            info!("hostapd: BSS {} is gone", bss.ifname);
            table.apply(
                Source::Ubus,
                Update::BssGone {
                    ifname: &bss.ifname,
                },
            );
        }
        let subscriber = self
            .subscribers
            .iter()
            .find(|(_, t)| **t == id)
            .map(|(s, _)| *s);
        if let Some(s) = subscriber {
            self.subscribers.remove(&s);
            if let Some(c) = &mut self.conn {
                if let Ok(seq) = c.remove_object(s) {
                    self.pending.insert(seq, Pending::Other);
                }
            }
        }
    }

    /// Handles everything the broker sent. Calls of our object's methods
    /// are returned for the agent to answer.
    pub fn handle(&mut self, now_ms: u64, table: &mut StationTable) -> Vec<Call> {
        let mut calls = Vec::new();
        let Some(mut conn) = self.conn.take() else {
            return calls;
        };
        // Events borrow the connection's receive buffer, so what they ask
        // of the connection is collected and done right after the read:
        // the answers to notifications first.
        let mut answers: Vec<(u32, u16, u32, i32)> = Vec::new();
        let mut subscribe: Vec<(u32, u32)> = Vec::new();
        let mut register = false;
        let mut follow: Vec<(String, u32)> = Vec::new();
        let mut unfollow: Vec<u32> = Vec::new();
        let mut lookups: Vec<String> = Vec::new();
        let mut closed = false;
        let mut greeted = false;
        let result = conn.read(|event| match event {
            Event::Invoke {
                seq,
                peer,
                objid,
                method,
                data,
                no_reply,
            } => {
                if let Some(&target) = self.subscribers.get(&objid) {
                    // A hostapd notification.
                    self.stats.notifications += 1;
                    if !no_reply {
                        answers.push((peer, seq, objid, status::OK));
                        self.stats.answered += 1;
                    }
                    if Some(target) == self.main_object {
                        match bss_event(method, &data) {
                            BssEvent::Added(name) => lookups.push(format!("hostapd.{name}")),
                            BssEvent::Removed(name) => debug!("hostapd: bss.remove {name}"),
                            BssEvent::None => {}
                        }
                    } else {
                        // The notifying object says which BSS; `ifname`
                        // (newer hostapd) is only a fallback for when it is
                        // not one we know.
                        let fallback = data.get_str("ifname");
                        let ifname = match (self.objects.get(&target), fallback) {
                            (Some(o), _) => o.ifname.clone(),
                            (None, Some(n)) if self.objects.values().any(|o| o.ifname == n) => {
                                n.to_owned()
                            }
                            _ => String::new(),
                        };
                        if !ifname.is_empty() {
                            match station_event(method, data) {
                                StationEvent::Station {
                                    mac,
                                    report,
                                    associated,
                                } => {
                                    if associated {
                                        if let Some(o) =
                                            self.objects.values_mut().find(|o| o.ifname == ifname)
                                        {
                                            o.stale = true;
                                        }
                                    }
                                    table.apply(
                                        Source::Ubus,
                                        Update::Station {
                                            ifname: &ifname,
                                            mac,
                                            report,
                                        },
                                    );
                                }
                                StationEvent::Gone(mac) => {
                                    table.apply(
                                        Source::Ubus,
                                        Update::StationGone {
                                            ifname: &ifname,
                                            mac,
                                        },
                                    );
                                }
                                StationEvent::None => {}
                            }
                        }
                    }
                } else if Some(objid) == self.listener {
                    if let (Some(id), Some(path)) = (data.get_u32("id"), data.get_str("path")) {
                        match method {
                            "ubus.object.add" => follow.push((path.to_string(), id)),
                            "ubus.object.remove" => unfollow.push(id),
                            _ => {}
                        }
                    }
                    if !no_reply {
                        answers.push((peer, seq, objid, status::OK));
                    }
                } else if Some(objid) == self.own {
                    match method {
                        "status" => calls.push(Call::Status { peer, seq, objid }),
                        "reload" => calls.push(Call::Reload { peer, seq, objid }),
                        _ => answers.push((peer, seq, objid, status::METHOD_NOT_FOUND)),
                    }
                } else if !no_reply {
                    answers.push((peer, seq, objid, status::NOT_FOUND));
                }
            }
            Event::Data {
                seq,
                objid,
                data,
                attrs,
                ..
            } => match self.pending.get(&seq).copied() {
                Some(Pending::Listener) => self.listener = objid,
                Some(Pending::Own) => self.own = objid,
                Some(Pending::Subscriber { target }) => {
                    if let Some(s) = objid {
                        self.subscribers.insert(s, target);
                        subscribe.push((s, target));
                    }
                }
                Some(Pending::Lookup) => {
                    if let Ok(Some(info)) = ObjectInfo::parse(attrs) {
                        follow.push((info.path.to_string(), info.id));
                    }
                }
                Some(Pending::Clients { bss }) => {
                    if let (Some(d), Some(o)) = (data, self.objects.get(&bss)) {
                        stations::ubus::clients(&o.ifname, d, &mut self.listed, |u| {
                            table.apply(Source::Ubus, u);
                        });
                    }
                }
                Some(Pending::Status { bss }) => {
                    if let (Some(d), Some(o)) = (data, self.objects.get(&bss)) {
                        let report = stations::ubus::status(d);
                        table.apply(
                            Source::Ubus,
                            Update::Bss {
                                ifname: &o.ifname,
                                report,
                            },
                        );
                    }
                }
                _ => {}
            },
            Event::Status {
                seq, status: code, ..
            } => match self.pending.remove(&seq) {
                Some(Pending::Listener) => register = true,
                Some(Pending::Subscribe { target }) if code == status::OK => {
                    if let Some(b) = self.objects.get_mut(&target) {
                        b.subscribed = true;
                    }
                }
                Some(Pending::Subscribe { target }) => {
                    warn!(
                        "ubus: cannot subscribe to object {target:#x}: {}",
                        status::text(code)
                    )
                }
                Some(Pending::Own) if code != status::OK => {
                    warn!("ubus: cannot publish '{OBJECT}': {}", status::text(code))
                }
                _ => {}
            },
            Event::Unsubscribe { target, .. } => unfollow.push(target),
            Event::Closed => closed = true,
            Event::Hello { .. } => greeted = true,
            Event::Notify { .. } => {}
            Event::Malformed { error, .. } => {
                crate::debug_limited!("ubus: malformed message skipped: {error}")
            }
        });
        // Never keep hostapd waiting: the answers go out first.
        for (peer, seq, objid, code) in answers {
            let _ = conn.status(peer, seq, objid, code);
        }
        let _ = conn.flush();
        if closed || result.is_err() {
            let why = match result {
                Err(e) => format!("ubus connection lost: {e}"),
                Ok(_) => "ubus connection closed".to_string(),
            };
            self.down(now_ms, &why, table);
            return calls;
        }
        if greeted {
            self.greeted_at_ms = Some(now_ms);
            self.stats.connects += 1;
            let line = format!("ubus: connected to {}", self.path.display());
            self.episode_line(crate::log::Level::Info, &line);
        }
        if register {
            if let Some(l) = self.listener {
                if let Ok(seq) = conn.register_event(l, "ubus.object.*") {
                    self.pending.insert(seq, Pending::Other);
                }
            }
        }
        for (s, target) in subscribe {
            if let Ok(seq) = conn.subscribe(s, target) {
                self.pending.insert(seq, Pending::Subscribe { target });
            }
        }
        self.conn = Some(conn);
        for id in unfollow {
            self.unfollow(id, table);
        }
        for (path, id) in follow {
            self.follow(&path, id, table);
        }
        for path in lookups {
            if let Some(c) = &mut self.conn {
                if let Ok(seq) = c.lookup(Some(&path)) {
                    self.pending.insert(seq, Pending::Lookup);
                }
            }
        }
        self.flush();
        calls
    }

    /// Answers a call of our object: `data` (a blobmsg table's fields) if
    /// any, then the status.
    pub fn answer(&mut self, call: Call, data: Option<&[u8]>, code: i32) {
        let (Call::Status { peer, seq, objid } | Call::Reload { peer, seq, objid }) = call;
        if let Some(c) = &mut self.conn {
            if let Some(d) = data {
                let _ = c.reply(peer, seq, objid, d);
            }
            let _ = c.status(peer, seq, objid, code);
        }
        self.flush();
    }

    /// Writes what is queued; a failure drops the connection.
    pub fn flush(&mut self) {
        if let Some(c) = &mut self.conn {
            if let Err(e) = c.flush() {
                debug!("ubus: write failed: {e}");
            }
        }
    }

    /// After poll said the socket is writable.
    pub fn writable(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{capture, Level};
    use crate::ubus::message::{self, msg_type, Header};
    use std::io::Write;
    use std::os::unix::net::{UnixListener, UnixStream};

    /// What a broker at a test socket does with each connection.
    enum Broker {
        /// Accepts and closes at once.
        Drops,
        /// Accepts and sends bytes that are not ubus, then closes.
        Garbles,
        /// Accepts and says nothing.
        Silent,
        /// Greets, then keeps the connection until told to drop it.
        Greets,
    }

    struct Rig {
        dir: std::path::PathBuf,
        listener: Option<UnixListener>,
        held: Vec<UnixStream>,
        accepted: u64,
    }

    impl Rig {
        fn new(tag: &str, listening: bool) -> Rig {
            let dir = std::env::temp_dir()
                .join(format!("wsflowd-ubus-link-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let listener = listening.then(|| {
                let l = UnixListener::bind(dir.join("ubus.sock")).unwrap();
                l.set_nonblocking(true).unwrap();
                l
            });
            Rig {
                dir,
                listener,
                held: Vec::new(),
                accepted: 0,
            }
        }

        fn path(&self) -> PathBuf {
            self.dir.join("ubus.sock")
        }

        fn serve(&mut self, broker: &Broker) {
            let Some(l) = &self.listener else {
                return;
            };
            while let Ok((mut s, _)) = l.accept() {
                self.accepted += 1;
                match broker {
                    Broker::Drops => drop(s),
                    Broker::Garbles => {
                        let _ = s.write_all(&[0xff; 64]);
                    }
                    Broker::Silent => self.held.push(s),
                    Broker::Greets => {
                        let mut hello = Vec::new();
                        let body = BlobBuf::new();
                        message::encode(&mut hello, Header::new(msg_type::HELLO, 0, 7), &body);
                        s.write_all(&hello).unwrap();
                        self.held.push(s);
                    }
                }
            }
        }
    }

    impl Drop for Rig {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// Runs the link against the broker from `from_ms` to `to_ms` of
    /// simulated time, in 100 ms steps, as the agent's loop would.
    fn run(link: &mut UbusLink, rig: &mut Rig, broker: &Broker, from_ms: u64, to_ms: u64) {
        let mut t = from_ms;
        let mut table = StationTable::default();
        while t < to_ms {
            link.tick(t, false, &mut table);
            rig.serve(broker);
            if link.poll_fd().is_some() {
                link.handle(t, &mut table);
            }
            t += 100;
        }
    }

    /// Lines logged at warning or info level.
    fn visible(lines: &[(Level, String)]) -> usize {
        lines.iter().filter(|(l, _)| *l <= Level::Info).count()
    }

    #[test]
    fn a_flapping_broker_is_retried_with_the_same_backoff_and_few_lines() {
        for broker in [Broker::Drops, Broker::Garbles] {
            let mut rig = Rig::new("flap", true);
            let mut link = UbusLink::new(rig.path());
            let (_, lines) = capture::lines(|| run(&mut link, &mut rig, &broker, 0, 60_000));
            // 0, 1, 3, 7, 15, 31 s: as with no broker at all.
            assert_eq!(rig.accepted, 6, "connections in the first minute");
            let (_, later) = capture::lines(|| run(&mut link, &mut rig, &broker, 60_000, 600_000));
            // Then every 30 s.
            assert!(
                (17..=19).contains(&rig.accepted.saturating_sub(6)),
                "{}",
                rig.accepted
            );
            assert!(visible(&lines) <= 4, "{lines:?}");
            assert_eq!(visible(&later), 0, "{later:?}");
        }
    }

    #[test]
    fn no_broker_is_one_line_per_outage() {
        let mut rig = Rig::new("absent", false);
        let mut link = UbusLink::new(rig.path());
        let (_, lines) = capture::lines(|| run(&mut link, &mut rig, &Broker::Drops, 0, 120_000));
        assert_eq!(link.stats.attempts, 8, "0, 1, 3, 7, 15, 31, 61, 91 s");
        assert_eq!(visible(&lines), 1, "{lines:?}");
        // No socket file: not OpenWrt, said once at the info level.
        assert!(lines[0].1.contains("no ubusd at"), "{lines:?}");
        assert_eq!(lines[0].0, crate::log::Level::Info, "{lines:?}");
    }

    #[test]
    fn a_broker_that_never_greets_is_timed_out_and_retried() {
        let mut rig = Rig::new("silent", true);
        let mut link = UbusLink::new(rig.path());
        let (_, lines) = capture::lines(|| run(&mut link, &mut rig, &Broker::Silent, 0, 60_000));
        // Connected at 0 and given up at 5 s; again at 6 (1 s later), 13
        // (2), 22 (4), 35 (8), 56 (16).
        assert_eq!(rig.accepted, 6);
        assert!(!link.is_connected());
        assert!(
            lines
                .iter()
                .any(|(_, l)| l.contains("sent no greeting within 5 s")),
            "{lines:?}"
        );
        assert!(visible(&lines) <= 4, "{lines:?}");
    }

    #[test]
    fn a_stable_connection_resets_the_backoff() {
        let mut rig = Rig::new("stable", true);
        let mut link = UbusLink::new(rig.path());
        run(&mut link, &mut rig, &Broker::Greets, 0, 1_000);
        assert!(link.is_connected());
        // Dropped after a few seconds, several times: the delays grow.
        for round in 0..3 {
            rig.held.clear();
            let start = 1_000 + round * 20_000;
            run(&mut link, &mut rig, &Broker::Greets, start, start + 20_000);
        }
        assert!(link.backoff_ms >= 8_000, "{}", link.backoff_ms);
        // Up for a minute and more: the next outage starts at the first
        // delay again and is logged again.
        run(&mut link, &mut rig, &Broker::Greets, 61_000, 140_000);
        assert!(link.is_connected());
        rig.held.clear();
        let before = rig.accepted;
        let (_, lines) =
            capture::lines(|| run(&mut link, &mut rig, &Broker::Greets, 140_000, 141_500));
        assert_eq!(rig.accepted, before + 1, "reconnected after 1 s");
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == Level::Warn && m.contains("closed")),
            "{lines:?}"
        );
    }
}
