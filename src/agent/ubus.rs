//! The agent's ubus link: connects (and reconnects) to ubusd, finds
//! hostapd's BSS objects and follows them as they come and go, subscribes to
//! their notifications, keeps the station tables current, and publishes our
//! own `wsflowd` object (`status`, `reload`).
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

use crate::hostapd::{bss_ifname, Change, Hostapd};
use crate::ubus::blob::{BlobBuf, BlobmsgType};
use crate::ubus::client::{Connection, Event};
use crate::ubus::message::{status, ObjectInfo};
use crate::{debug, info, warn};

/// The object we publish.
pub const OBJECT: &str = "wsflowd";
/// Reconnection delays: doubling from the first to the last.
const BACKOFF_FIRST_MS: u64 = 1_000;
const BACKOFF_MAX_MS: u64 = 30_000;

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

/// Figures for `status` and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub connects: u64,
    pub notifications: u64,
    /// Notifications that wanted an answer, answered.
    pub answered: u64,
}

pub struct UbusLink {
    path: PathBuf,
    conn: Option<Connection>,
    retry_at_ms: u64,
    backoff_ms: u64,
    /// Logged that ubus is not there (once per outage).
    reported_down: bool,
    listener: Option<u32>,
    own: Option<u32>,
    /// Our subscriber object → the object it follows.
    subscribers: SortedMap<u32, u32>,
    pending: SortedMap<u16, Pending>,
    pub hostapd: Hostapd,
    pub stats: LinkStats,
    /// Reused for request arguments.
    args: BlobBuf,
}

impl UbusLink {
    pub fn new(path: PathBuf) -> UbusLink {
        UbusLink {
            path,
            conn: None,
            retry_at_ms: 0,
            backoff_ms: BACKOFF_FIRST_MS,
            reported_down: false,
            listener: None,
            own: None,
            subscribers: SortedMap::new(),
            pending: SortedMap::new(),
            hostapd: Hostapd::default(),
            stats: LinkStats::default(),
            args: BlobBuf::new(),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    pub fn is_connected(&self) -> bool {
        self.conn.as_ref().is_some_and(Connection::is_ready)
    }

    /// The descriptor to poll and the events to poll for.
    pub fn poll_fd(&self) -> Option<(RawFd, i16)> {
        self.conn.as_ref().map(|c| (c.fd(), c.poll_events()))
    }

    /// Connects when due; refreshes the BSSes' status and stations (all
    /// of them when `refresh`, else those with new stations: their rates
    /// come only with a listing).
    pub fn tick(&mut self, now_ms: u64, refresh: bool) {
        if self.conn.is_none() && now_ms >= self.retry_at_ms {
            self.connect(now_ms);
        }
        if !self.is_connected() {
            return;
        }
        let due: Vec<(u32, bool)> = self
            .hostapd
            .iter()
            .filter(|b| refresh || b.stale)
            .map(|b| (b.object, refresh))
            .collect();
        for (bss, status) in due {
            self.query(bss, status);
        }
        self.flush();
    }

    fn connect(&mut self, now_ms: u64) {
        match Connection::connect(&self.path) {
            Ok(mut c) => {
                let mut requests = || -> std::io::Result<Vec<(u16, Pending)>> {
                    let methods: [(&str, &[(&str, BlobmsgType)]); 2] =
                        [("status", &[]), ("reload", &[])];
                    Ok(vec![
                        (c.add_object(None, &[])?, Pending::Listener),
                        (c.add_object(Some(OBJECT), &methods)?, Pending::Own),
                        (c.lookup(Some("hostapd"))?, Pending::Lookup),
                        (c.lookup(Some("hostapd.*"))?, Pending::Lookup),
                    ])
                };
                match requests() {
                    Ok(sent) => {
                        self.pending.extend(sent);
                        self.conn = Some(c);
                        self.stats.connects += 1;
                        self.backoff_ms = BACKOFF_FIRST_MS;
                        info!("ubus: connected to {}", self.path.display());
                        self.reported_down = false;
                    }
                    Err(e) => self.down(now_ms, &format!("cannot talk to ubus: {e}")),
                }
            }
            Err(e) => self.down(now_ms, &format!("ubus not available ({e})")),
        }
    }

    /// The connection is gone (or never came): forget what it told us, and
    /// try again later.
    fn down(&mut self, now_ms: u64, why: &str) {
        if !self.reported_down {
            warn!("{why}: retrying; until then 802.11 association counts are reported unavailable");
            self.reported_down = true;
        } else {
            debug!("{why}");
        }
        self.conn = None;
        self.listener = None;
        self.own = None;
        self.subscribers.clear();
        self.pending.clear();
        self.hostapd.clear();
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
        if let Some(b) = self.hostapd.bss_mut(bss) {
            // Asked: not again before the answer (or the next refresh).
            b.stale = false;
        }
    }

    /// A new object to follow: a BSS, or `hostapd` itself. Its subscriber
    /// object is created first; the subscription follows its id.
    fn follow(&mut self, path: &str, id: u32) {
        if path == "hostapd" {
            if self.hostapd.main_object == Some(id) {
                return;
            }
            self.hostapd.main_object = Some(id);
        } else if let Some(ifname) = bss_ifname(path) {
            if !self.hostapd.add_bss(id, ifname) {
                return;
            }
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
    fn unfollow(&mut self, id: u32) {
        if let Some(bss) = self.hostapd.remove_bss(id) {
            info!("hostapd: BSS {} is gone", bss.ifname);
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
    pub fn handle(&mut self, now_ms: u64) -> Vec<Call> {
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
                    match self.hostapd.notification(target, method, data) {
                        Change::BssAdded(name) => lookups.push(format!("hostapd.{name}")),
                        Change::BssRemoved(name) => debug!("hostapd: bss.remove {name}"),
                        Change::Stations | Change::None => {}
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
                    if let Some(d) = data {
                        self.hostapd.clients(bss, d);
                    }
                }
                Some(Pending::Status { bss }) => {
                    if let Some(d) = data {
                        self.hostapd.status(bss, d);
                    }
                }
                _ => {}
            },
            Event::Status {
                seq, status: code, ..
            } => match self.pending.remove(&seq) {
                Some(Pending::Listener) => register = true,
                Some(Pending::Subscribe { target }) if code == status::OK => {
                    if let Some(b) = self.hostapd.bss_mut(target) {
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
            Event::Hello { .. } | Event::Notify { .. } => {}
            Event::Malformed { error, .. } => debug!("ubus: malformed message skipped: {error}"),
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
            self.reported_down = false;
            self.down(now_ms, &why);
            return calls;
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
            self.unfollow(id);
        }
        for (path, id) in follow {
            self.follow(&path, id);
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
