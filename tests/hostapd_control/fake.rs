//! A fake hostapd control interface: one UNIX datagram socket per BSS in a
//! directory, answering as Debian's hostapd 2.10 did in the recordings of
//! `tests/fixtures/hostapd_control/` (see its README.md).
//!
//! How it stays true to the real one:
//! - its replies are *made from the recordings*: a station block is the
//!   recorded block of a real station with the MAC address, flags, aid,
//!   signal and rates put in; STATUS is the recorded radio part with the
//!   frequency and channel put in, then the `bss[i]`… lines in the recorded
//!   layout; events are `<3>` and the text, as recorded;
//! - the test `the_fake_answers_as_the_real_hostapd_did` sends the fake the
//!   requests of the recordings, in the recorded state, and compares the
//!   answers byte for byte (empty datagram for `STA-FIRST` with no station,
//!   `FAIL\n` for an unknown `STA-NEXT`/`STA`, `OK\n`, `PONG\n`,
//!   `UNKNOWN COMMAND\n`);
//! - like hostapd (`hostapd/ctrl_iface.c`), it answers with `sendto` to the
//!   address the request came from, keeps monitors by address, answers
//!   `ATTACH` again with `OK`, drops a monitor after more than 10 failed
//!   sends, lists the newest station first (hostapd adds stations at the
//!   head of its list) and unlinks a stale socket file when it starts again.
//!
//! What it adds for the tests: it can stop reading (a hostapd stuck in a
//! long operation), vanish, leave a stale socket file (SIGKILL), start
//! again with a new inode, and flood events. Its sends are non-blocking
//! and *counted* when they would have blocked (hostapd's would have: its
//! socket is blocking); it then retries until the send goes through,
//! adding up the time it was held.

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use wsflowd::mac::MacAddr;

/// The recordings the fake is made from.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = super::common::source_dir()
        .join("tests/fixtures/hostapd_control")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A station as hostapd lists it.
#[derive(Debug, Clone)]
pub struct Sta {
    pub mac: MacAddr,
    /// `flags=` as hostapd writes it.
    pub flags: String,
    pub aid: u32,
    pub signal: i32,
    /// `rx_rate_info=`/`tx_rate_info=` as hostapd writes them (100 kbit/s
    /// and the MCS words).
    pub rx_rate: String,
    pub tx_rate: String,
}

impl Sta {
    /// An associated, authorized HT station, as the recordings show one.
    pub fn ht(mac: MacAddr, signal: i32, rx_rate: &str, tx_rate: &str) -> Sta {
        Sta {
            mac,
            flags: "[AUTH][ASSOC][AUTHORIZED][SHORT_PREAMBLE][WMM][HT]".into(),
            aid: 1,
            signal,
            rx_rate: rx_rate.into(),
            tx_rate: tx_rate.into(),
        }
    }
}

/// A BSS of the fake radio.
#[derive(Debug, Clone)]
pub struct BssSpec {
    pub ifname: String,
    pub bssid: MacAddr,
    /// The SSID as STATUS prints it (hostapd's `printf_encode`).
    pub ssid_text: String,
}

struct Bss {
    spec: BssSpec,
    /// Newest first.
    stations: Vec<Sta>,
    monitors: Vec<(SocketAddr, u32)>,
    sock: Option<Arc<UnixDatagram>>,
}

struct Radio {
    phy: String,
    freq: u32,
    channel: u32,
    bsses: Vec<Bss>,
}

/// What the fake counted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    pub requests: u64,
    pub events_sent: u64,
    /// Sends that would have blocked (real hostapd would have waited).
    pub would_block: u64,
    /// Time held by sends that would have blocked, in all and at most.
    pub held: Duration,
    pub max_held: Duration,
    pub monitors_dropped: u64,
}

struct Shared {
    dir: PathBuf,
    radio: Mutex<Radio>,
    counters: Mutex<Counters>,
    /// Not reading its sockets: a hostapd stuck in a long operation.
    silent: AtomicBool,
    /// Answers UNKNOWN COMMAND to everything: not a hostapd.
    foreign: AtomicBool,
    /// A station to remove right after answering the next STA-FIRST (it
    /// leaves while a client walks the list).
    leave_during_listing: Mutex<Option<MacAddr>>,
    stop: AtomicBool,
}

pub struct FakeHostapd {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// The recorded station block with this station's values put in.
pub fn station_block(sta: &Sta) -> Vec<u8> {
    let template = fixture("list-wlan0/00-STA-FIRST.txt");
    let text = String::from_utf8(template).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out.push_str(&sta.mac.to_string());
        } else {
            let (key, value) = line.split_once('=').unwrap();
            let value = match key {
                "flags" => sta.flags.clone(),
                "aid" => sta.aid.to_string(),
                "dot11RSNAStatsSTAAddress" => sta.mac.to_string(),
                "signal" => sta.signal.to_string(),
                "rx_rate_info" => sta.rx_rate.clone(),
                "tx_rate_info" => sta.tx_rate.clone(),
                _ => value.to_string(),
            };
            out.push_str(key);
            out.push('=');
            out.push_str(&value);
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// The recorded STATUS with this radio's state put in.
fn status_text(radio: &Radio) -> Vec<u8> {
    let template = String::from_utf8(fixture("joined/00-STATUS.txt")).unwrap();
    let mut out = String::new();
    for line in template.lines() {
        let (key, _) = line.split_once('=').unwrap();
        match key {
            "freq" => out.push_str(&format!("freq={}\n", radio.freq)),
            "channel" => out.push_str(&format!("channel={}\n", radio.channel)),
            "phy" => out.push_str(&format!("phy={}\n", radio.phy)),
            _ if key.contains('[') => {}
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    for (i, bss) in radio.bsses.iter().enumerate() {
        out.push_str(&format!(
            "bss[{i}]={}\nbssid[{i}]={}\nssid[{i}]={}\nnum_sta[{i}]={}\n",
            bss.spec.ifname,
            bss.spec.bssid,
            bss.spec.ssid_text,
            bss.stations.len()
        ));
    }
    out.into_bytes()
}

fn same_addr(a: &SocketAddr, b: &SocketAddr) -> bool {
    use std::os::linux::net::SocketAddrExt;
    a.as_abstract_name() == b.as_abstract_name() && a.as_pathname() == b.as_pathname()
}

impl Shared {
    /// Sends as hostapd does (its blocking sendmsg), counting the sends
    /// that would have blocked. Gives up after 5 s (a test failure then
    /// shows in the counters).
    fn send(&self, sock: &UnixDatagram, bytes: &[u8], to: &SocketAddr) -> io::Result<()> {
        let mut held_since = None;
        loop {
            match sock.send_to_addr(bytes, to) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let since = *held_since.get_or_insert_with(|| {
                        self.counters.lock().unwrap().would_block += 1;
                        Instant::now()
                    });
                    if since.elapsed() > Duration::from_secs(5) {
                        return Err(e);
                    }
                    thread::sleep(Duration::from_micros(50));
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(since) = held_since {
            let held = since.elapsed();
            let mut c = self.counters.lock().unwrap();
            c.held += held;
            c.max_held = c.max_held.max(held);
        }
        Ok(())
    }

    /// `<3>text` to every monitor of the BSS; a monitor that failed more
    /// than 10 times in a row is dropped (hostapd does the same).
    fn event(&self, radio: &mut Radio, ifname: &str, text: &str) {
        let Some(bss) = radio.bsses.iter_mut().find(|b| b.spec.ifname == ifname) else {
            return;
        };
        let Some(sock) = bss.sock.clone() else {
            return;
        };
        let datagram = format!("<3>{text}");
        let mut dropped = 0;
        bss.monitors.retain_mut(|(addr, errors)| {
            match self.send(&sock, datagram.as_bytes(), addr) {
                Ok(()) => *errors = 0,
                Err(_) => *errors += 1,
            }
            let keep = *errors <= 10;
            dropped += u64::from(!keep);
            keep
        });
        let mut c = self.counters.lock().unwrap();
        c.events_sent += 1;
        c.monitors_dropped += dropped;
    }

    fn answer(
        &self,
        radio: &mut Radio,
        index: usize,
        request: &[u8],
        from: &SocketAddr,
    ) -> Vec<u8> {
        self.counters.lock().unwrap().requests += 1;
        if self.foreign.load(Ordering::Relaxed) {
            return b"UNKNOWN COMMAND\n".to_vec();
        }
        let request = String::from_utf8_lossy(request).into_owned();
        let find = |bss: &Bss, text: &str| {
            let mac = MacAddr::parse(text)?;
            bss.stations.iter().position(|s| s.mac == mac)
        };
        match request.as_str() {
            "PING" => b"PONG\n".to_vec(),
            "STATUS" => status_text(radio),
            "ATTACH" => {
                let bss = &mut radio.bsses[index];
                if !bss.monitors.iter().any(|(a, _)| same_addr(a, from)) {
                    bss.monitors.push((from.clone(), 0));
                }
                b"OK\n".to_vec()
            }
            "DETACH" => {
                let bss = &mut radio.bsses[index];
                let before = bss.monitors.len();
                bss.monitors.retain(|(a, _)| !same_addr(a, from));
                if bss.monitors.len() < before {
                    b"OK\n".to_vec()
                } else {
                    b"FAIL\n".to_vec()
                }
            }
            "STA-FIRST" => {
                let bss = &mut radio.bsses[index];
                let reply = bss.stations.first().map(station_block).unwrap_or_default();
                if let Some(mac) = self.leave_during_listing.lock().unwrap().take() {
                    bss.stations.retain(|s| s.mac != mac);
                }
                reply
            }
            r if r.starts_with("STA-NEXT ") => {
                let bss = &radio.bsses[index];
                match find(bss, &r[9..]) {
                    None => b"FAIL\n".to_vec(),
                    Some(i) => bss
                        .stations
                        .get(i + 1)
                        .map(station_block)
                        .unwrap_or_default(),
                }
            }
            r if r.starts_with("STA ") => {
                let bss = &radio.bsses[index];
                match find(bss, &r[4..]) {
                    None => b"FAIL\n".to_vec(),
                    Some(i) => station_block(&bss.stations[i]),
                }
            }
            _ => b"UNKNOWN COMMAND\n".to_vec(),
        }
    }
}

fn bind(dir: &Path, ifname: &str) -> Arc<UnixDatagram> {
    let path = dir.join(ifname);
    // hostapd unlinks a socket file left by a killed instance.
    let _ = std::fs::remove_file(&path);
    let sock = UnixDatagram::bind(&path).expect("bind the fake hostapd socket");
    sock.set_nonblocking(true).unwrap();
    Arc::new(sock)
}

fn serve(shared: Arc<Shared>) {
    let mut buf = vec![0u8; 4096];
    while !shared.stop.load(Ordering::Relaxed) {
        if shared.silent.load(Ordering::Relaxed) {
            thread::sleep(Duration::from_millis(2));
            continue;
        }
        let socks: Vec<(usize, Arc<UnixDatagram>)> = {
            let radio = shared.radio.lock().unwrap();
            radio
                .bsses
                .iter()
                .enumerate()
                .filter_map(|(i, b)| b.sock.clone().map(|s| (i, s)))
                .collect()
        };
        let mut fds: Vec<libc::pollfd> = socks
            .iter()
            .map(|(_, s)| wsflowd::sys::pollfd(s.as_raw_fd(), libc::POLLIN))
            .collect();
        if fds.is_empty() {
            thread::sleep(Duration::from_millis(2));
            continue;
        }
        let _ = wsflowd::sys::poll(&mut fds, 2);
        for (pfd, (index, sock)) in fds.iter().zip(&socks) {
            if pfd.revents == 0 {
                continue;
            }
            while let Ok((n, from)) = sock.recv_from(&mut buf) {
                if shared.silent.load(Ordering::Relaxed) {
                    break;
                }
                let mut radio = shared.radio.lock().unwrap();
                // The socket may have been replaced meanwhile.
                let current = radio.bsses.get(*index).and_then(|b| b.sock.clone());
                if !current.is_some_and(|c| Arc::ptr_eq(&c, sock)) {
                    break;
                }
                let reply = shared.answer(&mut radio, *index, &buf[..n], &from);
                drop(radio);
                let _ = shared.send(sock, &reply, &from);
            }
        }
    }
}

impl FakeHostapd {
    /// A radio on 2412 MHz (channel 1) with these BSSes, serving in `dir`.
    pub fn start(dir: &Path, bsses: &[BssSpec]) -> FakeHostapd {
        let radio = Radio {
            phy: "phy0".into(),
            freq: 2412,
            channel: 1,
            bsses: bsses
                .iter()
                .map(|spec| Bss {
                    spec: spec.clone(),
                    stations: Vec::new(),
                    monitors: Vec::new(),
                    sock: Some(bind(dir, &spec.ifname)),
                })
                .collect(),
        };
        let shared = Arc::new(Shared {
            dir: dir.to_owned(),
            radio: Mutex::new(radio),
            counters: Mutex::new(Counters::default()),
            silent: AtomicBool::new(false),
            foreign: AtomicBool::new(false),
            leave_during_listing: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let thread = thread::spawn(move || serve(s));
        FakeHostapd {
            shared,
            thread: Some(thread),
        }
    }

    /// The recorded pair of BSSes: `wlan0` (wsflowd-lab) and `wlan0_1`
    /// (`gu"est` and 0x01).
    pub fn recorded_bsses() -> Vec<BssSpec> {
        vec![
            BssSpec {
                ifname: "wlan0".into(),
                bssid: MacAddr([2, 0, 0, 0, 0, 0]),
                ssid_text: "wsflowd-lab".into(),
            },
            BssSpec {
                ifname: "wlan0_1".into(),
                bssid: MacAddr([2, 0, 0, 0, 0, 1]),
                ssid_text: r#"gu\"est\x01"#.into(),
            },
        ]
    }

    /// A station joins: listed from now on, `AP-STA-CONNECTED` sent.
    pub fn connect(&self, ifname: &str, sta: Sta) {
        let mut radio = self.shared.radio.lock().unwrap();
        let mac = sta.mac;
        if let Some(bss) = radio.bsses.iter_mut().find(|b| b.spec.ifname == ifname) {
            bss.stations.retain(|s| s.mac != mac);
            bss.stations.insert(0, sta);
        }
        self.shared
            .event(&mut radio, ifname, &format!("AP-STA-CONNECTED {mac}"));
    }

    /// A station that is listed but sent no event (it joined before the
    /// client came).
    pub fn add_quietly(&self, ifname: &str, sta: Sta) {
        let mut radio = self.shared.radio.lock().unwrap();
        if let Some(bss) = radio.bsses.iter_mut().find(|b| b.spec.ifname == ifname) {
            bss.stations.insert(0, sta);
        }
    }

    pub fn disconnect(&self, ifname: &str, mac: MacAddr) {
        let mut radio = self.shared.radio.lock().unwrap();
        if let Some(bss) = radio.bsses.iter_mut().find(|b| b.spec.ifname == ifname) {
            bss.stations.retain(|s| s.mac != mac);
        }
        self.shared
            .event(&mut radio, ifname, &format!("AP-STA-DISCONNECTED {mac}"));
    }

    /// Any event text (without `<3>`).
    pub fn event(&self, ifname: &str, text: &str) {
        let mut radio = self.shared.radio.lock().unwrap();
        self.shared.event(&mut radio, ifname, text);
    }

    /// `AP-DISABLED`: hostapd dropped its stations.
    pub fn disable(&self, ifname: &str) {
        let mut radio = self.shared.radio.lock().unwrap();
        if let Some(bss) = radio.bsses.iter_mut().find(|b| b.spec.ifname == ifname) {
            bss.stations.clear();
        }
        self.shared.event(&mut radio, ifname, "AP-DISABLED ");
    }

    /// A channel switch: the radio's frequency, then `AP-CSA-FINISHED`.
    pub fn switch_channel(&self, freq: u32, channel: u32) {
        let mut radio = self.shared.radio.lock().unwrap();
        radio.freq = freq;
        radio.channel = channel;
        let names: Vec<String> = radio.bsses.iter().map(|b| b.spec.ifname.clone()).collect();
        for name in names {
            self.shared.event(
                &mut radio,
                &name,
                &format!("AP-CSA-FINISHED freq={freq} dfs=0"),
            );
        }
    }

    pub fn set_silent(&self, silent: bool) {
        self.shared.silent.store(silent, Ordering::Relaxed);
    }

    pub fn set_foreign(&self, foreign: bool) {
        self.shared.foreign.store(foreign, Ordering::Relaxed);
    }

    pub fn leave_during_next_listing(&self, mac: MacAddr) {
        *self.shared.leave_during_listing.lock().unwrap() = Some(mac);
    }

    /// hostapd stops (SIGTERM): `CTRL-EVENT-TERMINATING` to the monitors,
    /// then its sockets and the directory go.
    pub fn terminate(&self) {
        let mut radio = self.shared.radio.lock().unwrap();
        let names: Vec<String> = radio.bsses.iter().map(|b| b.spec.ifname.clone()).collect();
        for name in &names {
            self.shared
                .event(&mut radio, name, "CTRL-EVENT-TERMINATING ");
        }
        for bss in &mut radio.bsses {
            bss.sock = None;
            bss.monitors.clear();
            bss.stations.clear();
            let _ = std::fs::remove_file(self.shared.dir.join(&bss.spec.ifname));
        }
        // hostapd removes its directory when it is empty.
        let _ = std::fs::remove_dir(&self.shared.dir);
    }

    /// hostapd is killed (SIGKILL): the sockets close, their files stay.
    pub fn kill(&self) {
        let mut radio = self.shared.radio.lock().unwrap();
        for bss in &mut radio.bsses {
            bss.sock = None;
            bss.monitors.clear();
            bss.stations.clear();
        }
    }

    /// hostapd starts again: new sockets (new inodes), no monitor, no
    /// station.
    pub fn start_again(&self) {
        let _ = std::fs::create_dir_all(&self.shared.dir);
        let mut radio = self.shared.radio.lock().unwrap();
        for bss in &mut radio.bsses {
            bss.sock = Some(bind(&self.shared.dir, &bss.spec.ifname));
            bss.monitors.clear();
            bss.stations.clear();
        }
    }

    /// A BSS removed from hostapd: its socket goes without a word.
    pub fn remove_bss(&self, ifname: &str) {
        let mut radio = self.shared.radio.lock().unwrap();
        radio.bsses.retain(|b| b.spec.ifname != ifname);
        let _ = std::fs::remove_file(self.shared.dir.join(ifname));
    }

    pub fn monitors(&self, ifname: &str) -> usize {
        let radio = self.shared.radio.lock().unwrap();
        radio
            .bsses
            .iter()
            .find(|b| b.spec.ifname == ifname)
            .map_or(0, |b| b.monitors.len())
    }

    pub fn counters(&self) -> Counters {
        *self.shared.counters.lock().unwrap()
    }

    /// From another thread (as hostapd would from its own), stations of
    /// `ifname` join (`true`) or leave (`false`), one after the other,
    /// each with its event; `gap` apart (slept: no core spent on waiting),
    /// or back to back when zero. `stamp(i)` is called right before the i-th event is
    /// sent.
    pub fn flood(
        &self,
        ifname: &str,
        changes: Vec<(bool, MacAddr)>,
        gap: Duration,
        stamp: impl Fn(usize) + Send + 'static,
    ) -> JoinHandle<()> {
        let shared = self.shared.clone();
        let ifname = ifname.to_owned();
        thread::spawn(move || {
            for (i, (join, mac)) in changes.into_iter().enumerate() {
                if !gap.is_zero() {
                    thread::sleep(gap);
                }
                let mut radio = shared.radio.lock().unwrap();
                if let Some(bss) = radio.bsses.iter_mut().find(|b| b.spec.ifname == ifname) {
                    bss.stations.retain(|s| s.mac != mac);
                    if join {
                        bss.stations.insert(0, Sta::ht(mac, -50, "650 mcs 7", "10"));
                    }
                }
                let text = if join {
                    format!("AP-STA-CONNECTED {mac}")
                } else {
                    format!("AP-STA-DISCONNECTED {mac}")
                };
                stamp(i);
                shared.event(&mut radio, &ifname, &text);
            }
        })
    }

    /// The stations hostapd has now, newest first.
    pub fn stations(&self, ifname: &str) -> Vec<MacAddr> {
        let radio = self.shared.radio.lock().unwrap();
        radio
            .bsses
            .iter()
            .find(|b| b.spec.ifname == ifname)
            .map(|b| b.stations.iter().map(|s| s.mac).collect())
            .unwrap_or_default()
    }
}

impl Drop for FakeHostapd {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A socket bound to a fresh abstract address (as the agent's client's
/// are), with a read timeout.
pub fn client_socket() -> UnixDatagram {
    use std::os::linux::net::SocketAddrExt;
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "wsflowd-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let s =
        UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Sends each request in turn from one socket and returns the answers.
pub fn ask(path: &Path, requests: &[&str]) -> Vec<Vec<u8>> {
    let s = client_socket();
    s.connect(path).unwrap();
    let mut buf = vec![0u8; 8192];
    requests
        .iter()
        .map(|r| {
            s.send(r.as_bytes()).unwrap();
            let n = s.recv(&mut buf).unwrap();
            buf[..n].to_vec()
        })
        .collect()
}
