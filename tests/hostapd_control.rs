//! The hostapd control-socket station source against a fake hostapd
//! (tests/hostapd_control/fake.rs) that answers as Debian's hostapd 2.10
//! did in the recordings of tests/fixtures/hostapd_control/ — checked here
//! byte for byte first. The client (`HostapdControl`) and the table
//! (`StationTable`) are driven directly, as the agent's poll loop would:
//! poll the descriptors `poll_fds` gives, `handle` what is readable, `tick`
//! once a second. The clock handed to the client is the real one plus a
//! skew the tests add to make timeouts and pings due without waiting.
//!
//! `timing_and_a_flood_of_events` prints how long events take from the
//! fake's send to the table updated, and what a flood of 10,000 events
//! does to the fake's (hostapd's) side.

mod common;
#[path = "hostapd_control/fake.rs"]
mod fake;

use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TempDir;
use fake::{ask, client_socket, fixture, station_block, BssSpec, FakeHostapd, Sta};
use wsflowd::mac::MacAddr;
use wsflowd::stations::hostapd_control::{
    HostapdControl, PING_IDLE_MS, REQUEST_TIMEOUT_MS, TIMEOUTS_BEFORE_GONE,
};
use wsflowd::stations::{Source, StationPhy, StationTable, MAX_BSSES};

const STA_A: MacAddr = MacAddr([2, 0, 0, 0, 1, 0]);
const STA_B: MacAddr = MacAddr([2, 0, 0, 0, 2, 0]);
const STA_C: MacAddr = MacAddr([2, 0, 0, 0, 3, 0]);

/// The client and its table, driven like the agent's loop does.
struct Rig {
    control: HostapdControl,
    table: StationTable,
    start: Instant,
    skew_ms: u64,
    last_tick: Option<Instant>,
    fds: Vec<(i32, i16)>,
}

impl Rig {
    fn new(dir: &std::path::Path) -> Rig {
        Rig {
            control: HostapdControl::new(dir.to_owned()),
            table: StationTable::default(),
            start: Instant::now(),
            skew_ms: 0,
            last_tick: None,
            fds: Vec::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64 + self.skew_ms
    }

    fn tick(&mut self, refresh: bool) {
        let now = self.now_ms();
        self.control.tick(now, refresh, &mut self.table);
        self.last_tick = Some(Instant::now());
    }

    /// Polls the client's descriptors for up to `ms`, handling what
    /// arrives. Returns whether the stations changed.
    fn poll(&mut self, ms: i32) -> bool {
        self.fds.clear();
        self.control.poll_fds(&mut self.fds);
        let mut pollfds: Vec<libc::pollfd> = self
            .fds
            .iter()
            .map(|&(fd, ev)| wsflowd::sys::pollfd(fd, ev))
            .collect();
        if pollfds.is_empty() {
            std::thread::sleep(Duration::from_millis(ms.max(0) as u64));
            return false;
        }
        wsflowd::sys::poll(&mut pollfds, ms).unwrap();
        let mut changed = false;
        for p in &pollfds {
            if p.revents != 0 {
                changed |= self.control.handle(p.fd, self.now_ms(), &mut self.table);
            }
        }
        changed
    }

    /// Runs the loop (a tick every 100 ms of real time, never a refresh)
    /// until `done` holds, for at most `limit`.
    fn until(&mut self, what: &str, limit: Duration, done: impl Fn(&Rig) -> bool) {
        let end = Instant::now() + limit;
        loop {
            if done(self) {
                return;
            }
            assert!(
                Instant::now() < end,
                "{what}: not within {limit:?}; stats {:?}\n{}",
                self.control.stats(),
                self.show()
            );
            if self
                .last_tick
                .is_none_or(|t| t.elapsed() >= Duration::from_millis(100))
            {
                self.tick(false);
            }
            self.poll(10);
        }
    }

    /// Runs the loop for `d` without waiting for anything.
    fn run_for(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.poll(5);
        }
    }

    fn stations(&self, ifname: &str) -> Vec<MacAddr> {
        self.table
            .by_ifname(ifname)
            .map(|b| b.stations().map(|(m, _)| *m).collect())
            .unwrap_or_default()
    }

    fn show(&self) -> String {
        let mut s = String::new();
        for bss in self.table.iter() {
            s += &format!(
                "{} {:?}\n",
                bss.ifname(),
                bss.report(Source::HostapdControl)
            );
            for (mac, st) in bss.stations() {
                s += &format!("  {mac} {:?}\n", st.report(Source::HostapdControl));
            }
        }
        s
    }
}

fn recorded_station_a() -> Sta {
    // As in tests/fixtures/hostapd_control/list-wlan0/00-STA-FIRST.txt.
    Sta::ht(STA_A, -30, "195 mcs 2", "10")
}

#[test]
fn the_fake_answers_as_the_real_hostapd_did() {
    let dir = TempDir::new("hostapd-ctrl-fake");
    let fake = FakeHostapd::start(dir.path(), &FakeHostapd::recorded_bsses());
    let wlan0 = dir.path().join("wlan0");
    let wlan0_1 = dir.path().join("wlan0_1");

    // The recorded exchange with no station, request by request, from one
    // socket (tests/fixtures/hostapd_control/idle/NN-REQUEST.txt).
    let idle = [
        ("PING", "idle/00-PING.txt"),
        ("STATUS", "idle/01-STATUS.txt"),
        ("STA-FIRST", "idle/02-STA-FIRST.txt"),
        ("STA 02:00:00:00:09:09", "idle/03-STA_02_00_00_00_09_09.txt"),
        (
            "STA-NEXT 02:00:00:00:09:09",
            "idle/04-STA-NEXT_02_00_00_00_09_09.txt",
        ),
        ("ATTACH", "idle/05-ATTACH.txt"),
        ("DETACH", "idle/06-DETACH.txt"),
        ("NONSENSE", "idle/07-NONSENSE.txt"),
    ];
    let requests: Vec<&str> = idle.iter().map(|(r, _)| *r).collect();
    for ((request, file), answer) in idle.iter().zip(ask(&wlan0, &requests)) {
        assert_eq!(
            String::from_utf8_lossy(&answer),
            String::from_utf8_lossy(&fixture(file)),
            "{request}"
        );
        assert_eq!(answer, fixture(file), "{request}");
    }
    let answers = ask(&wlan0_1, &["STATUS", "STA-FIRST"]);
    assert_eq!(answers[0], fixture("idle-wlan0_1/00-STATUS.txt"));
    assert_eq!(answers[1], fixture("idle-wlan0_1/01-STA-FIRST.txt"));

    // With the recorded stations: the recorded STATUS and listing.
    fake.add_quietly("wlan0", recorded_station_a());
    fake.add_quietly("wlan0_1", Sta::ht(STA_B, -30, "260 mcs 9", "10"));
    let answers = ask(
        &wlan0,
        &[
            "STATUS",
            "STA-FIRST",
            "STA-NEXT 02:00:00:00:01:00",
            "STA 02:00:00:00:01:00",
        ],
    );
    assert_eq!(answers[0], fixture("joined/00-STATUS.txt"));
    assert_eq!(answers[1], fixture("list-wlan0/00-STA-FIRST.txt"));
    assert_eq!(
        answers[2],
        fixture("list-wlan0/01-STA-NEXT_02_00_00_00_01_00.txt")
    );
    // `STA <mac>` is the same block (the recording of it, a second later,
    // differs only in inactive_msec and connected_time).
    assert_eq!(answers[3], answers[1]);
    assert_eq!(
        ask(&wlan0_1, &["STATUS"])[0],
        fixture("joined-wlan0_1/00-STATUS.txt")
    );
    assert_eq!(
        station_block(&recorded_station_a()),
        fixture("list-wlan0/00-STA-FIRST.txt")
    );

    // Two stations on a BSS: listed newest first, each block with the
    // recorded lines in the recorded order (their counters differ).
    let keys = |block: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(block)
            .lines()
            .map(|l| l.split('=').next().unwrap().to_owned())
            .skip(1)
            .collect()
    };
    fake.add_quietly("wlan0", Sta::ht(STA_C, -30, "130 mcs 8", "10"));
    let answers = ask(
        &wlan0,
        &[
            "STA-FIRST",
            "STA-NEXT 02:00:00:00:03:00",
            "STA-NEXT 02:00:00:00:01:00",
        ],
    );
    for (answer, file) in answers.iter().zip([
        "list-two-wlan0/00-STA-FIRST.txt",
        "list-two-wlan0/01-STA-NEXT_02_00_00_00_03_00.txt",
        "list-two-wlan0/02-STA-NEXT_02_00_00_00_01_00.txt",
    ]) {
        let recorded = fixture(file);
        assert_eq!(
            answer.split(|b| *b == b'\n').next(),
            recorded.split(|b| *b == b'\n').next()
        );
        assert_eq!(keys(answer), keys(&recorded), "{file}");
    }
    fake.disconnect("wlan0", STA_C);

    // Events, as the recorded monitor received them.
    let recorded = String::from_utf8(fixture("events-wlan0.txt")).unwrap();
    let recorded: Vec<&str> = recorded.lines().collect();
    let monitor = client_socket();
    monitor.connect(&wlan0).unwrap();
    monitor.send(b"ATTACH").unwrap();
    let mut buf = [0u8; 4096];
    let n = monitor.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"OK\n");
    fake.disconnect("wlan0", STA_A);
    fake.connect("wlan0", recorded_station_a());
    fake.disable("wlan0");
    fake.event("wlan0", "AP-ENABLED ");
    fake.switch_channel(2437, 6);
    fake.terminate();
    let mut got = Vec::new();
    while let Ok(n) = monitor.recv(&mut buf) {
        got.push(String::from_utf8(buf[..n].to_vec()).unwrap());
        if got.last().unwrap().contains("TERMINATING") {
            break;
        }
    }
    for line in &got {
        assert!(
            recorded.contains(&line.as_str()),
            "{line:?} is not a recorded event"
        );
    }
    assert_eq!(got.len(), 6, "{got:?}");
}

#[test]
fn follows_stations_status_and_channel() {
    let dir = TempDir::new("hostapd-ctrl-follow");
    let fake = FakeHostapd::start(dir.path(), &FakeHostapd::recorded_bsses());
    fake.add_quietly("wlan0", recorded_station_a());
    let mut rig = Rig::new(dir.path());
    rig.until(
        "both BSSes attached, listed and asked",
        Duration::from_secs(5),
        |r| {
            r.control.stats().listings >= 2
                && r.table
                    .by_ifname("wlan0_1")
                    .is_some_and(|b| b.ssid().is_some())
                && r.table
                    .by_ifname("wlan0")
                    .is_some_and(|b| b.ssid().is_some())
        },
    );
    let bss = rig.table.by_ifname("wlan0").unwrap();
    assert_eq!(
        bss.ssid(),
        Some((Source::HostapdControl, &b"wsflowd-lab"[..]))
    );
    assert_eq!(
        bss.bssid(),
        Some((Source::HostapdControl, MacAddr([2, 0, 0, 0, 0, 0])))
    );
    assert_eq!(bss.freq_mhz(), Some((Source::HostapdControl, 2412)));
    assert_eq!(bss.channel(), Some((Source::HostapdControl, 1)));
    assert_eq!(bss.radio(), Some((Source::HostapdControl, "phy0")));
    assert_eq!(bss.associated(), 1);
    let a = bss.station(&STA_A).unwrap();
    assert_eq!(
        (a.signal_dbm(), a.rx_rate_kbps(), a.tx_rate_kbps(), a.phy()),
        (Some(-30), Some(19_500), Some(1_000), Some(StationPhy::Ht))
    );
    let guest = rig.table.by_ifname("wlan0_1").unwrap();
    assert_eq!(guest.ssid().unwrap().1, b"gu\"est\x01");
    assert_eq!(guest.associated(), 0);
    let s = rig.control.stats();
    assert_eq!((s.attached, s.sockets, s.attaches), (2, 2, 2));
    assert_eq!(
        rig.control.attached().collect::<Vec<_>>(),
        ["wlan0", "wlan0_1"]
    );

    // A station joins: counted at the event, its rates from `STA <mac>`.
    fake.connect(
        "wlan0_1",
        Sta::ht(STA_B, -61, "1300 mcs 15 shortGI", "650 mcs 7"),
    );
    rig.until("B with its rates", Duration::from_secs(5), |r| {
        r.table
            .by_ifname("wlan0_1")
            .and_then(|b| b.station(&STA_B))
            .is_some_and(|s| s.rx_rate_kbps() == Some(130_000))
    });
    let b = rig
        .table
        .by_ifname("wlan0_1")
        .unwrap()
        .station(&STA_B)
        .unwrap();
    assert_eq!(
        (b.signal_dbm(), b.tx_rate_kbps()),
        (Some(-61), Some(65_000))
    );
    assert!(b.associated());

    // A station leaves.
    fake.disconnect("wlan0", STA_A);
    rig.until("A gone", Duration::from_secs(5), |r| {
        r.stations("wlan0").is_empty()
    });

    // A channel switch, for every BSS of the radio.
    fake.switch_channel(2437, 6);
    rig.until("on channel 6", Duration::from_secs(5), |r| {
        ["wlan0", "wlan0_1"].iter().all(|i| {
            r.table.by_ifname(i).is_some_and(|b| {
                b.freq_mhz() == Some((Source::HostapdControl, 2437))
                    && b.channel() == Some((Source::HostapdControl, 6))
            })
        })
    });

    // The AP is disabled: its stations are gone.
    fake.disable("wlan0_1");
    rig.until("B gone with AP-DISABLED", Duration::from_secs(5), |r| {
        r.stations("wlan0_1").is_empty()
    });

    // A refresh lists and asks again, and agrees with the fake.
    fake.add_quietly("wlan0", Sta::ht(STA_C, -70, "10", "10"));
    let listings = rig.control.stats().listings;
    rig.tick(true);
    rig.until("a refresh", Duration::from_secs(5), |r| {
        r.control.stats().listings >= listings + 2
    });
    assert_eq!(rig.stations("wlan0"), fake.stations("wlan0"));
    let s = rig.control.stats();
    assert_eq!((s.malformed, s.timed_out, s.send_busy), (0, 0, 0), "{s:?}");
    assert_eq!(fake.monitors("wlan0"), 1);
}

#[test]
fn a_listing_survives_a_station_leaving_under_it() {
    let dir = TempDir::new("hostapd-ctrl-race");
    let fake = FakeHostapd::start(dir.path(), &FakeHostapd::recorded_bsses()[..1]);
    for mac in [STA_A, STA_B, STA_C] {
        fake.add_quietly("wlan0", Sta::ht(mac, -40, "540", "540"));
    }
    // hostapd lists C first; C leaves right after: `STA-NEXT C` fails.
    fake.leave_during_next_listing(STA_C);
    let mut rig = Rig::new(dir.path());
    rig.until("listed", Duration::from_secs(5), |r| {
        r.control.stats().listings >= 1
    });
    let mut listed = rig.stations("wlan0");
    listed.sort();
    assert_eq!(listed, [STA_A, STA_B]);
}

#[test]
fn hostapd_stopped_killed_and_restarted() {
    let dir = TempDir::new("hostapd-ctrl-restart");
    let fake = FakeHostapd::start(dir.path(), &FakeHostapd::recorded_bsses());
    fake.add_quietly("wlan0", recorded_station_a());
    let mut rig = Rig::new(dir.path());
    rig.until("attached", Duration::from_secs(5), |r| {
        r.stations("wlan0") == [STA_A] && r.control.stats().attached == 2
    });

    // SIGTERM: CTRL-EVENT-TERMINATING, the sockets and the directory go.
    fake.terminate();
    rig.until("gone with hostapd", Duration::from_secs(5), |r| {
        r.table.is_empty()
    });
    rig.tick(false);
    assert_eq!(rig.control.stats().sockets, 0);

    // Started again: found, attached, listed.
    fake.start_again();
    fake.add_quietly("wlan0", recorded_station_a());
    rig.until("back", Duration::from_secs(5), |r| {
        r.stations("wlan0") == [STA_A] && r.control.stats().attached == 2
    });
    assert_eq!(rig.control.stats().attaches, 4);

    // SIGKILL: no word, the socket files stay. Found at the next ping
    // (PING_IDLE_MS of silence): the send is refused, the socket cannot
    // be reached again, the BSSes are reported gone.
    rig.until("nothing in flight", Duration::from_secs(5), |r| {
        r.control.stats().in_flight == 0
    });
    fake.kill();
    rig.run_for(Duration::from_millis(50));
    assert_eq!(rig.stations("wlan0"), [STA_A], "nothing said it yet");
    rig.skew_ms += PING_IDLE_MS;
    rig.until("gone after a ping", Duration::from_secs(5), |r| {
        r.table.is_empty()
    });

    // Started again: new inodes, re-opened and re-attached.
    let reconnects = rig.control.stats().reconnects;
    fake.start_again();
    fake.add_quietly("wlan0", recorded_station_a());
    rig.until("back again", Duration::from_secs(5), |r| {
        r.stations("wlan0") == [STA_A] && r.control.stats().attached == 2
    });
    let s = rig.control.stats();
    assert!(s.reconnects >= reconnects + 2, "{s:?}");
    assert_eq!(s.timed_out, 0);
}

#[test]
fn a_bss_removed_goes_alone() {
    let dir = TempDir::new("hostapd-ctrl-remove");
    let fake = FakeHostapd::start(dir.path(), &FakeHostapd::recorded_bsses());
    fake.add_quietly("wlan0", recorded_station_a());
    fake.add_quietly("wlan0_1", Sta::ht(STA_B, -30, "260 mcs 9", "10"));
    let mut rig = Rig::new(dir.path());
    rig.until("attached", Duration::from_secs(5), |r| {
        r.stations("wlan0") == [STA_A] && r.stations("wlan0_1") == [STA_B]
    });
    fake.remove_bss("wlan0_1");
    rig.until("wlan0_1 gone", Duration::from_secs(5), |r| {
        r.table.by_ifname("wlan0_1").is_none()
    });
    assert_eq!(rig.stations("wlan0"), [STA_A]);
    assert_eq!(rig.control.stats().sockets, 1);
}

#[test]
fn a_stuck_hostapd_times_out_and_comes_back() {
    let dir = TempDir::new("hostapd-ctrl-stuck");
    let fake = FakeHostapd::start(dir.path(), &FakeHostapd::recorded_bsses()[..1]);
    fake.add_quietly("wlan0", recorded_station_a());
    let mut rig = Rig::new(dir.path());
    rig.until("attached", Duration::from_secs(5), |r| {
        r.stations("wlan0") == [STA_A]
    });
    fake.set_silent(true);
    rig.tick(true);
    // Each tick past the timeout drops the request and asks again from a
    // new socket; the stations stay believed until TIMEOUTS_BEFORE_GONE.
    for n in 1..=TIMEOUTS_BEFORE_GONE {
        rig.run_for(Duration::from_millis(20));
        rig.skew_ms += REQUEST_TIMEOUT_MS;
        rig.tick(false);
        assert_eq!(rig.control.stats().timed_out, u64::from(n));
        assert_eq!(
            rig.table.by_ifname("wlan0").is_some(),
            n < TIMEOUTS_BEFORE_GONE,
            "after {n} timeouts"
        );
    }
    // The loop never waits for hostapd: a tick with it stuck is quick (far
    // from REQUEST_TIMEOUT_MS, even under qemu-user).
    let t = Instant::now();
    rig.tick(true);
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );

    // hostapd answers again (the late answers go to closed sockets).
    fake.set_silent(false);
    rig.skew_ms += REQUEST_TIMEOUT_MS;
    rig.until("back", Duration::from_secs(5), |r| {
        r.stations("wlan0") == [STA_A] && r.control.stats().attached == 1
    });
    // Events reach us again.
    fake.connect("wlan0", Sta::ht(STA_B, -30, "10", "10"));
    rig.until("B", Duration::from_secs(5), |r| {
        r.stations("wlan0").len() == 2
    });
}

#[test]
fn what_is_not_a_bss_socket_is_left_alone() {
    let dir = TempDir::new("hostapd-ctrl-junk");
    // A plain file, a directory, hostapd's global socket, a name longer
    // than an interface's.
    std::fs::write(dir.path().join("wlan5"), b"").unwrap();
    std::fs::create_dir(dir.path().join("wlan6")).unwrap();
    let _global = UnixDatagram::bind(dir.path().join("global")).unwrap();
    let _long = UnixDatagram::bind(dir.path().join("a-very-long-name-0")).unwrap();
    let mut rig = Rig::new(dir.path());
    rig.tick(false);
    assert_eq!(rig.control.stats().sockets, 0);

    // Something that answers UNKNOWN COMMAND: asked once, then left alone
    // (no request per tick).
    let fake = FakeHostapd::start(
        dir.path(),
        &[BssSpec {
            ifname: "wlan9".into(),
            bssid: MacAddr([2, 0, 0, 0, 0, 9]),
            ssid_text: "x".into(),
        }],
    );
    fake.set_foreign(true);
    rig.until("asked", Duration::from_secs(5), |r| {
        r.control.stats().malformed >= 1
    });
    let requests = fake.counters().requests;
    for _ in 0..5 {
        rig.tick(true);
        rig.run_for(Duration::from_millis(10));
    }
    assert_eq!(fake.counters().requests, requests);
    assert!(rig.table.is_empty());
}

#[test]
fn bounded_by_max_bsses() {
    let dir = TempDir::new("hostapd-ctrl-many");
    let specs: Vec<BssSpec> = (0..MAX_BSSES + 2)
        .map(|i| BssSpec {
            ifname: format!("w{i}"),
            bssid: MacAddr([2, 0, 0, 0, 0, i as u8]),
            ssid_text: format!("s{i}"),
        })
        .collect();
    let _fake = FakeHostapd::start(dir.path(), &specs);
    let mut rig = Rig::new(dir.path());
    rig.until("all attached that may be", Duration::from_secs(10), |r| {
        r.control.stats().attached as usize == MAX_BSSES
    });
    let s = rig.control.stats();
    assert_eq!(s.sockets as usize, MAX_BSSES);
    assert!(s.refused >= 2, "{s:?}");
}

/// Why the client connects its sockets to hostapd's: the kernel makes a
/// sender to an unconnected UNIX datagram socket wait once more than
/// net.unix.max_dgram_qlen (10) datagrams are queued there, and hostapd's
/// sends are blocking. Shown here with the fake (which counts the sends
/// that would have blocked); the VM run of the real hostapd showed the
/// same (stations could not authenticate while a monitor did not read).
#[test]
fn a_monitor_that_does_not_read_holds_hostapd_unless_connected() {
    let dir = TempDir::new("hostapd-ctrl-qlen");
    let fake = FakeHostapd::start(dir.path(), &FakeHostapd::recorded_bsses()[..1]);
    let path = dir.path().join("wlan0");
    let mut held = Vec::new();
    for connected in [false, true] {
        let monitor = client_socket();
        let mut buf = [0u8; 64];
        if connected {
            monitor.connect(&path).unwrap();
            monitor.send(b"ATTACH").unwrap();
        } else {
            monitor.send_to(b"ATTACH", &path).unwrap();
        }
        let n = monitor.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"OK\n");
        let before = fake.counters().would_block;
        // Read everything 300 ms from now.
        let reader = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            monitor.set_nonblocking(true).unwrap();
            let mut n = 0;
            loop {
                match monitor.recv(&mut buf) {
                    Ok(_) => n += 1,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(20));
                        if monitor.recv(&mut buf).is_err() {
                            return n;
                        }
                        n += 1;
                    }
                }
            }
        });
        let t = Instant::now();
        for i in 0..20u8 {
            fake.event("wlan0", &format!("AP-STA-POLL-OK 02:00:00:00:05:{i:02x}"));
        }
        let sent_in = t.elapsed();
        assert_eq!(reader.join().unwrap(), 20);
        held.push((connected, fake.counters().would_block - before, sent_in));
        // The monitor socket is closed: hostapd (and the fake) drop it
        // after it failed more than 10 times.
        for _ in 0..11 {
            fake.event("wlan0", "AP-STA-POLL-OK 02:00:00:00:05:ff");
        }
    }
    println!("monitor not reading, 20 events: {held:?} (connected, sends that would block, time to send)");
    let (_, unconnected_blocks, unconnected_time) = held[0];
    let (_, connected_blocks, _) = held[1];
    // The 12th send waits (the queue holds 11); once the reader drains
    // the queue the sends go on, and a slow reader (qemu) can let it fill
    // again: at least one wait, never none.
    assert!(unconnected_blocks >= 1, "the 12th send waits");
    assert!(unconnected_time >= Duration::from_millis(200));
    assert_eq!(connected_blocks, 0);
}

fn percentile(sorted: &[u64], q: f64) -> u64 {
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Microseconds since `base` (32-bit atomics: 64-bit ones are missing on
/// 32-bit MIPS, where `make cross-test` runs this).
fn micros(base: Instant) -> u32 {
    base.elapsed().as_micros() as u32
}

/// Runs the client until `done`, recording for each event the time from
/// the fake's send (`sent[i]`, µs since `base`) to the table updated (the
/// return of the `handle` call that read it), in µs.
fn measure(
    rig: &mut Rig,
    sent: &[AtomicU32],
    base: Instant,
    count: usize,
    limit: Duration,
) -> Vec<u64> {
    let first = rig.control.stats().events;
    let mut latencies = Vec::with_capacity(count);
    let end = Instant::now() + limit;
    while latencies.len() < count {
        assert!(
            Instant::now() < end,
            "{} of {count} events",
            latencies.len()
        );
        let before = rig.control.stats().events;
        rig.poll(10);
        let now = micros(base);
        let after = rig.control.stats().events;
        for i in (before - first)..(after - first) {
            let s = sent[i as usize].load(Ordering::Acquire);
            latencies.push(u64::from(now.saturating_sub(s)));
        }
    }
    latencies
}

#[test]
fn timing_and_a_flood_of_events() {
    let dir = TempDir::new("hostapd-ctrl-timing");
    let fake = FakeHostapd::start(dir.path(), &FakeHostapd::recorded_bsses()[..1]);
    let mut rig = Rig::new(dir.path());
    rig.until("attached", Duration::from_secs(5), |r| {
        r.control.stats().listings >= 1
    });

    let stations: Vec<MacAddr> = (0..100u16)
        .map(|i| MacAddr([2, 0, 0, 1, (i >> 8) as u8, i as u8]))
        .collect();
    // Joins and departures of 100 stations in turn, ending with all gone.
    let changes = |n: usize| -> Vec<(bool, MacAddr)> {
        (0..n)
            .map(|i| ((i / stations.len()) % 2 == 0, stations[i % stations.len()]))
            .collect()
    };
    let base = Instant::now();

    // 1. Events 200 µs apart: each handled on its own.
    let n = 2000;
    let sent: Arc<Vec<AtomicU32>> = Arc::new((0..n).map(|_| AtomicU32::new(u32::MAX)).collect());
    let stamps = sent.clone();
    let before = fake.counters();
    let sender = fake.flood("wlan0", changes(n), Duration::from_micros(200), move |i| {
        stamps[i].store(micros(base), Ordering::Release)
    });
    let mut spaced = measure(&mut rig, &sent, base, n, Duration::from_secs(30));
    sender.join().unwrap();
    spaced.sort_unstable();
    let spaced_blocked = fake.counters().would_block - before.would_block;

    // 2. A flood: 10,000 events back to back.
    let n = 10_000;
    let sent: Arc<Vec<AtomicU32>> = Arc::new((0..n).map(|_| AtomicU32::new(u32::MAX)).collect());
    let stamps = sent.clone();
    let before = fake.counters();
    let handled_before = rig.control.stats().handling;
    let t = Instant::now();
    let sender = fake.flood("wlan0", changes(n), Duration::ZERO, move |i| {
        stamps[i].store(micros(base), Ordering::Release)
    });
    let mut flooded = measure(&mut rig, &sent, base, n, Duration::from_secs(60));
    sender.join().unwrap();
    let flood_time = t.elapsed();
    flooded.sort_unstable();
    let after = fake.counters();
    rig.until(
        "the table agrees with the fake",
        Duration::from_secs(10),
        |r| {
            let mut ours = r.stations("wlan0");
            let mut theirs = fake.stations("wlan0");
            ours.sort();
            theirs.sort();
            ours == theirs
        },
    );

    let s = rig.control.stats();
    let h = s.handling;
    println!(
        "events 200 us apart: {} events, from the fake's send to the table updated: \
p50 {} us, p99 {} us, max {} us; sends that would have blocked: {spaced_blocked}",
        spaced.len(),
        percentile(&spaced, 0.5),
        percentile(&spaced, 0.99),
        spaced.last().unwrap()
    );
    println!(
        "flood of {n} events back to back: sent and handled in {flood_time:?}; send to table: \
p50 {} us, p99 {} us, max {} us; sends that would have blocked: {} (held {:?} in all, {:?} at most)",
        percentile(&flooded, 0.5),
        percentile(&flooded, 0.99),
        flooded.last().unwrap(),
        after.would_block - before.would_block,
        after.held - before.held,
        after.max_held,
    );
    println!(
        "handling per datagram (recv to table updated), {} datagrams: p50 <= {:?} us, \
p99 <= {:?} us, max {} us; during the flood: {} datagrams; stats {s:?}",
        h.count,
        h.percentile_us(50),
        h.percentile_us(99),
        h.max_ns / 1000,
        h.count - handled_before.count,
    );
    assert_eq!(s.malformed, 0);
    assert_eq!(s.timed_out, 0);
    // Nothing lost: every event was read (the fake's sends never fail,
    // they can only wait).
    assert_eq!(after.events_sent - before.events_sent, n as u64);
    // Times mean something natively only: `make cross-test` runs this
    // suite under qemu-user, tens of times slower.
    if cfg!(target_arch = "x86_64") {
        // The client always caught up: a send never waited long (a client
        // that stopped reading would hold it until the fake gives up, 5 s).
        assert!(
            after.max_held < Duration::from_millis(100),
            "the fake was held {:?} at once",
            after.max_held
        );
        assert!(
            h.percentile_us(99).unwrap() <= 1000,
            "p99 of the handling time over 1 ms: {h:?}"
        );
    }
}
