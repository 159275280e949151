//! A fake hostapd on ubus, mirroring the real one (OpenWrt's
//! `hostapd/src/ap/ubus.c`): one object `hostapd.<ifname>` per BSS with
//! hostapd's methods and signatures, the `hostapd` object announcing BSSes
//! (`bss.add`, `bss.remove`), notifications with their payloads (`address`,
//! `signal` as a negative INT32, `freq`, and `ifname` only when asked, as
//! OpenWrt 23.05 lacks it), and the blocking `notify_response` behaviour:
//! with it set, `auth`/`assoc` are sent as requests and the fake waits up to
//! 100 ms for every subscriber's answer, timing each one.
//!
//! It runs on its own thread with its own ubus connection, driven by
//! commands from the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use wsflowd::ubus::blob::{BlobBuf, BlobmsgType};
use wsflowd::ubus::client::{Connection, Event};

pub type Mac = [u8; 6];

pub fn mac_text(m: &Mac) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

#[derive(Debug, Clone)]
pub struct BssSpec {
    pub ifname: String,
    pub bssid: Mac,
    pub ssid: String,
    pub freq: u32,
    pub channel: u32,
    pub phy: String,
}

#[derive(Debug, Clone, Copy)]
struct StationState {
    signal: i32,
    authorized: bool,
}

struct Bss {
    spec: BssSpec,
    object: Option<u32>,
    stations: BTreeMap<Mac, StationState>,
    notify_response: bool,
    subscribed: bool,
    /// `get_status`'s airtime `time` and `time_busy` (ms).
    airtime: (i64, i64),
}

enum Cmd {
    AddBss(BssSpec),
    RemoveBss(String),
    /// auth + assoc + sta-authorized.
    Associate {
        ifname: String,
        mac: Mac,
        signal: i32,
    },
    /// disassoc (or deauth...).
    Leave {
        ifname: String,
        mac: Mac,
        kind: &'static str,
    },
    /// Drop the stations without telling (as a restarted hostapd would
    /// have none).
    Forget(String),
    NotifyResponse(String, bool),
    /// Set the channel times `get_status` reports (ms).
    SetAirtime(String, i64, i64),
    /// Reconnect to the broker (after it restarted).
    Reconnect,
    /// Put `ifname` in notification payloads (hostapd since late 2024).
    WithIfname(bool),
    Sync(Sender<()>),
}

/// What the fake saw, for the test.
#[derive(Debug, Default, Clone)]
pub struct FakeStats {
    /// Time from each notification that wanted answers to each
    /// subscriber's answer.
    pub answer_times: Vec<Duration>,
    /// Notifications whose subscribers did not all answer within 100 ms.
    pub timeouts: u64,
    pub get_clients: u64,
    pub get_status: u64,
    /// Objects (ours) that have subscribers, by ifname.
    pub subscribed: BTreeMap<String, bool>,
}

pub struct FakeHostapd {
    tx: Sender<Cmd>,
    pub stats: Arc<Mutex<FakeStats>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeHostapd {
    pub fn start(socket: &Path) -> FakeHostapd {
        let (tx, rx) = mpsc::channel();
        let stats = Arc::new(Mutex::new(FakeStats::default()));
        let s = stats.clone();
        let socket = socket.to_path_buf();
        let thread = thread::spawn(move || Fake::new(socket, rx, s).run());
        let f = FakeHostapd {
            tx,
            stats,
            thread: Some(thread),
        };
        f.sync();
        f
    }

    fn send(&self, cmd: Cmd) {
        self.tx.send(cmd).expect("fake hostapd thread alive");
    }

    /// Waits until every command sent so far was carried out.
    pub fn sync(&self) {
        let (tx, rx) = mpsc::channel();
        self.send(Cmd::Sync(tx));
        rx.recv_timeout(Duration::from_secs(10))
            .expect("fake hostapd answers");
    }

    pub fn add_bss(&self, spec: BssSpec) {
        self.send(Cmd::AddBss(spec));
    }
    pub fn remove_bss(&self, ifname: &str) {
        self.send(Cmd::RemoveBss(ifname.into()));
    }
    pub fn associate(&self, ifname: &str, mac: Mac, signal: i32) {
        self.send(Cmd::Associate {
            ifname: ifname.into(),
            mac,
            signal,
        });
    }
    pub fn leave(&self, ifname: &str, mac: Mac, kind: &'static str) {
        self.send(Cmd::Leave {
            ifname: ifname.into(),
            mac,
            kind,
        });
    }
    pub fn forget_stations(&self, ifname: &str) {
        self.send(Cmd::Forget(ifname.into()));
    }
    pub fn notify_response(&self, ifname: &str, on: bool) {
        self.send(Cmd::NotifyResponse(ifname.into(), on));
    }
    /// The cumulative channel time and busy time (ms) hostapd reports from
    /// now on (600,000 and 150,000 until set).
    pub fn set_airtime(&self, ifname: &str, time_ms: i64, busy_ms: i64) {
        self.send(Cmd::SetAirtime(ifname.into(), time_ms, busy_ms));
    }
    pub fn reconnect(&self) {
        self.send(Cmd::Reconnect);
    }
    pub fn with_ifname(&self, on: bool) {
        self.send(Cmd::WithIfname(on));
    }

    pub fn stats(&self) -> FakeStats {
        self.stats.lock().unwrap().clone()
    }

    /// Waits until hostapd.<ifname> has a subscriber (the agent followed it).
    pub fn wait_subscribed(&self, ifname: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.stats().subscribed.get(ifname) == Some(&true) {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for FakeHostapd {
    fn drop(&mut self) {
        let (tx, _rx) = mpsc::channel();
        drop(std::mem::replace(&mut self.tx, tx));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A notification waiting for its subscribers' answers.
struct Waiting {
    seq: u16,
    sent: Instant,
    /// Subscriber ids the broker said will answer; answers seen.
    expected: Option<usize>,
    answered: usize,
}

struct Fake {
    socket: PathBuf,
    rx: Receiver<Cmd>,
    stats: Arc<Mutex<FakeStats>>,
    conn: Option<Connection>,
    main: Option<u32>,
    /// ADD_OBJECT requests in flight: seq → ifname ("" = the main object).
    adding: BTreeMap<u16, String>,
    bsses: BTreeMap<String, Bss>,
    with_ifname: bool,
    /// Method calls that arrived while a notification waited for answers:
    /// like libubus during a synchronous request, served afterwards.
    deferred: Vec<(u32, u16, u32, String, Option<i32>)>,
}

const BSS_METHODS: &[(&str, &[(&str, BlobmsgType)])] = &[
    ("get_clients", &[]),
    ("get_status", &[]),
    (
        "del_client",
        &[
            ("addr", BlobmsgType::String),
            ("reason", BlobmsgType::Int32),
            ("deauth", BlobmsgType::Int8),
            ("ban_time", BlobmsgType::Int32),
        ],
    ),
    ("list_bans", &[]),
    ("wps_start", &[]),
    ("wps_cancel", &[]),
    ("update_beacon", &[]),
    (
        "switch_chan",
        &[
            ("freq", BlobmsgType::Int32),
            ("bcn_count", BlobmsgType::Int32),
        ],
    ),
    (
        "notify_response",
        &[("notify_response", BlobmsgType::Int32)],
    ),
    ("rrm_nr_get_own", &[]),
    ("rrm_nr_list", &[]),
];

const MAIN_METHODS: &[(&str, &[(&str, BlobmsgType)])] = &[
    (
        "config_add",
        &[
            ("iface", BlobmsgType::String),
            ("config", BlobmsgType::String),
        ],
    ),
    ("config_remove", &[("iface", BlobmsgType::String)]),
];

impl Fake {
    fn new(socket: PathBuf, rx: Receiver<Cmd>, stats: Arc<Mutex<FakeStats>>) -> Fake {
        Fake {
            socket,
            rx,
            stats,
            conn: None,
            main: None,
            adding: BTreeMap::new(),
            bsses: BTreeMap::new(),
            with_ifname: false,
            deferred: Vec::new(),
        }
    }

    fn connect(&mut self) {
        self.main = None;
        self.adding.clear();
        for b in self.bsses.values_mut() {
            b.object = None;
            b.subscribed = false;
        }
        self.stats.lock().unwrap().subscribed.clear();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut conn = loop {
            match Connection::connect(&self.socket) {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("fake hostapd cannot connect: {e}"),
            }
        };
        let seq = conn.add_object(Some("hostapd"), MAIN_METHODS).unwrap();
        self.adding.insert(seq, String::new());
        let names: Vec<String> = self.bsses.keys().cloned().collect();
        for name in names {
            let seq = conn
                .add_object(Some(&format!("hostapd.{name}")), BSS_METHODS)
                .unwrap();
            self.adding.insert(seq, name);
        }
        self.conn = Some(conn);
    }

    fn run(mut self) {
        self.connect();
        loop {
            // Commands first (without blocking), then the socket.
            loop {
                match self.rx.try_recv() {
                    Ok(cmd) => self.command(cmd),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => return,
                }
            }
            self.pump(Duration::from_millis(5), None);
        }
    }

    /// Waits up to `timeout` for the socket and handles what arrives;
    /// `waiting` collects answers to a notification.
    fn pump(&mut self, timeout: Duration, mut waiting: Option<&mut Waiting>) {
        if waiting.is_none() {
            for (peer, seq, objid, method, arg) in std::mem::take(&mut self.deferred) {
                self.method(peer, seq, objid, &method, arg);
            }
        }
        let Some(conn) = &mut self.conn else {
            thread::sleep(timeout);
            return;
        };
        let _ = conn.flush();
        let mut pfd = [wsflowd::sys::pollfd(conn.fd(), conn.poll_events())];
        let _ = wsflowd::sys::poll(&mut pfd, timeout.as_millis() as i32);
        if pfd[0].revents == 0 {
            return;
        }
        let mut invokes: Vec<(u32, u16, u32, String, Option<i32>)> = Vec::new();
        let mut added: Vec<(u16, u32)> = Vec::new();
        let mut notifies: Vec<(u32, bool)> = Vec::new();
        let stats = self.stats.clone();
        let _ = conn.read(|event| match event {
            Event::Invoke {
                seq,
                peer,
                objid,
                method,
                data,
                ..
            } => {
                let arg = data.get_i64("notify_response").map(|v| v as i32);
                invokes.push((peer, seq, objid, method.to_string(), arg));
            }
            Event::Data {
                seq,
                objid: Some(id),
                ..
            } => added.push((seq, id)),
            Event::Status {
                seq,
                peer,
                subscribers,
                ..
            } => {
                if let Some(w) = waiting.as_deref_mut() {
                    if w.seq == seq {
                        if let Some(list) = subscribers {
                            w.expected = Some(list.count());
                        } else if w.expected.is_some() && peer != 0 {
                            w.answered += 1;
                            stats.lock().unwrap().answer_times.push(w.sent.elapsed());
                        }
                    }
                }
            }
            Event::Notify { objid, active } => notifies.push((objid, active)),
            _ => {}
        });
        for (seq, id) in added {
            if let Some(name) = self.adding.remove(&seq) {
                if name.is_empty() {
                    self.main = Some(id);
                } else if let Some(b) = self.bsses.get_mut(&name) {
                    b.object = Some(id);
                    // Announce it, as hostapd does after adding a BSS.
                    self.announce("bss.add", &name);
                }
            }
        }
        for (objid, active) in notifies {
            if let Some((name, b)) = self.bsses.iter_mut().find(|(_, b)| b.object == Some(objid)) {
                b.subscribed = active;
                self.stats
                    .lock()
                    .unwrap()
                    .subscribed
                    .insert(name.clone(), active);
            }
        }
        if waiting.is_some() {
            self.deferred.extend(invokes);
            return;
        }
        for (peer, seq, objid, method, arg) in invokes {
            self.method(peer, seq, objid, &method, arg);
        }
    }

    fn announce(&mut self, kind: &str, name: &str) {
        let (Some(main), Some(conn)) = (self.main, &mut self.conn) else {
            return;
        };
        let mut b = BlobBuf::new();
        b.string("name", name);
        let _ = conn.notify(main, kind, b.payload(), true);
    }

    fn method(&mut self, peer: u32, seq: u16, objid: u32, method: &str, arg: Option<i32>) {
        let Some(name) = self
            .bsses
            .iter()
            .find(|(_, b)| b.object == Some(objid))
            .map(|(n, _)| n.clone())
        else {
            if let Some(c) = &mut self.conn {
                let _ = c.status(peer, seq, objid, 0);
            }
            return;
        };
        let mut reply = BlobBuf::new();
        let bss = self.bsses.get_mut(&name).unwrap();
        let code = match method {
            "get_clients" => {
                self.stats.lock().unwrap().get_clients += 1;
                reply.int32("freq", bss.spec.freq as i32);
                let clients = reply.table_start("clients");
                for (mac, st) in &bss.stations {
                    let c = reply.table_start(&mac_text(mac));
                    reply.bool("auth", true);
                    reply.bool("assoc", true);
                    reply.bool("authorized", st.authorized);
                    reply.bool("preauth", false);
                    reply.bool("wds", false);
                    reply.bool("wmm", true);
                    reply.bool("ht", true);
                    reply.bool("vht", false);
                    reply.bool("he", false);
                    reply.bool("wps", false);
                    reply.bool("mfp", false);
                    let r = reply.array_start("rrm");
                    for _ in 0..5 {
                        reply.int32("", 0);
                    }
                    reply.array_end(r);
                    reply.int32("aid", 1);
                    let t = reply.table_start("bytes");
                    reply.int64("rx", 1000);
                    reply.int64("tx", 2000);
                    reply.table_end(t);
                    let t = reply.table_start("airtime");
                    reply.int64("rx", 10);
                    reply.int64("tx", 20);
                    reply.table_end(t);
                    let t = reply.table_start("packets");
                    reply.int32("rx", 10);
                    reply.int32("tx", 20);
                    reply.table_end(t);
                    let t = reply.table_start("rate");
                    reply.int32("rx", 144_400);
                    reply.int32("tx", 130_000);
                    reply.table_end(t);
                    reply.int32("signal", st.signal);
                    reply.table_end(c);
                }
                reply.table_end(clients);
                0
            }
            "get_status" => {
                self.stats.lock().unwrap().get_status += 1;
                reply.string("driver", "nl80211");
                reply.string("status", "ENABLED");
                reply.string("bssid", &mac_text(&bss.spec.bssid));
                reply.string("ssid", &bss.spec.ssid);
                reply.int32("freq", bss.spec.freq as i32);
                reply.int32("channel", bss.spec.channel as i32);
                reply.int32("op_class", 128);
                reply.int32("beacon_interval", 100);
                reply.string("phy", &bss.spec.phy);
                let a = reply.table_start("airtime");
                reply.int64("time", bss.airtime.0);
                reply.int64("time_busy", bss.airtime.1);
                reply.int32("utilization", 63);
                reply.table_end(a);
                0
            }
            "notify_response" => match arg {
                Some(v) => {
                    bss.notify_response = v != 0;
                    0
                }
                None => 2,
            },
            _ => 0,
        };
        if let Some(c) = &mut self.conn {
            if matches!(method, "get_clients" | "get_status") {
                let _ = c.reply(peer, seq, objid, reply.payload());
            }
            let _ = c.status(peer, seq, objid, code);
            let _ = c.flush();
        }
    }

    /// Sends a notification of a BSS; with `notify_response`, as hostapd:
    /// waits up to 100 ms for every subscriber's answer.
    fn notify(&mut self, ifname: &str, kind: &str, mac: &Mac, signal: Option<i32>, request: bool) {
        let with_ifname = self.with_ifname;
        let Some(bss) = self.bsses.get(ifname) else {
            return;
        };
        let (Some(object), true) = (bss.object, bss.subscribed) else {
            // hostapd sends nothing while the object has no subscriber.
            return;
        };
        let blocking = request && bss.notify_response;
        let freq = bss.spec.freq;
        let mut b = BlobBuf::new();
        b.string("address", &mac_text(mac));
        if with_ifname {
            b.string("ifname", ifname);
        }
        if let Some(s) = signal {
            b.int32("signal", s);
            b.int32("freq", freq as i32);
        }
        let Some(conn) = &mut self.conn else {
            return;
        };
        let Ok(seq) = conn.notify(object, kind, b.payload(), !blocking) else {
            return;
        };
        let _ = conn.flush();
        if !blocking {
            return;
        }
        let mut w = Waiting {
            seq,
            sent: Instant::now(),
            expected: None,
            answered: 0,
        };
        let deadline = w.sent + Duration::from_millis(100);
        while Instant::now() < deadline && w.expected.is_none_or(|e| w.answered < e) {
            self.pump(Duration::from_millis(1), Some(&mut w));
        }
        if w.expected.is_none_or(|e| w.answered < e) {
            self.stats.lock().unwrap().timeouts += 1;
        }
    }

    fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::AddBss(spec) => {
                let name = spec.ifname.clone();
                self.bsses.insert(
                    name.clone(),
                    Bss {
                        spec,
                        object: None,
                        stations: BTreeMap::new(),
                        notify_response: false,
                        subscribed: false,
                        airtime: (600_000, 150_000),
                    },
                );
                if let Some(c) = &mut self.conn {
                    let seq = c
                        .add_object(Some(&format!("hostapd.{name}")), BSS_METHODS)
                        .unwrap();
                    self.adding.insert(seq, name);
                }
            }
            Cmd::RemoveBss(name) => {
                if let Some(b) = self.bsses.remove(&name) {
                    if let (Some(o), Some(c)) = (b.object, &mut self.conn) {
                        let _ = c.remove_object(o);
                    }
                    self.announce("bss.remove", &name);
                    self.stats.lock().unwrap().subscribed.remove(&name);
                }
            }
            Cmd::Associate {
                ifname,
                mac,
                signal,
            } => {
                if let Some(b) = self.bsses.get_mut(&ifname) {
                    b.stations.insert(
                        mac,
                        StationState {
                            signal,
                            authorized: true,
                        },
                    );
                }
                self.notify(&ifname, "auth", &mac, Some(signal), true);
                self.notify(&ifname, "assoc", &mac, Some(signal), true);
                self.notify(&ifname, "sta-authorized", &mac, None, false);
            }
            Cmd::Leave { ifname, mac, kind } => {
                if let Some(b) = self.bsses.get_mut(&ifname) {
                    b.stations.remove(&mac);
                }
                self.notify(&ifname, kind, &mac, None, false);
            }
            Cmd::Forget(ifname) => {
                if let Some(b) = self.bsses.get_mut(&ifname) {
                    b.stations.clear();
                }
            }
            Cmd::NotifyResponse(ifname, on) => {
                if let Some(b) = self.bsses.get_mut(&ifname) {
                    b.notify_response = on;
                }
            }
            Cmd::SetAirtime(ifname, time, busy) => {
                if let Some(b) = self.bsses.get_mut(&ifname) {
                    b.airtime = (time, busy);
                }
            }
            Cmd::Reconnect => self.connect(),
            Cmd::WithIfname(on) => self.with_ifname = on,
            Cmd::Sync(done) => {
                if let Some(c) = &mut self.conn {
                    let _ = c.flush();
                }
                let _ = done.send(());
            }
        }
    }
}
