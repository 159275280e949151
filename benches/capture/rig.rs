//! The rig of the capture benchmark: the namespaces it creates (and those
//! a killed run left), the veth pair between the sender's namespace and
//! the "AP" namespace, the UDP sender, and the interruption flag (Ctrl-C)
//! every wait checks.

use std::net::UdpSocket;
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::{os, run, Netns};
use crate::{Res, PAYLOAD};

/// Namespaces of this benchmark: `wsfbench-PID-ROLE`.
const NS_PREFIX: &str = "wsfbench-";
pub(crate) const AP_IF: &str = "veth-ap";
const STA_IF: &str = "veth-sta";
pub(crate) const AP_ADDR: &str = "10.77.0.1";
pub(crate) const STA_ADDR: &str = "10.77.0.2";
/// Where the sender's packets go: a UDP socket that is never read (full
/// at once, so packets are dropped there without ICMP answers).
pub(crate) const SINK_PORT: u16 = 9;

// ---------------------------------------------------------------------
// Interruption (Ctrl-C): every wait checks the flag, so that the guards
// are dropped and the namespaces removed.
// ---------------------------------------------------------------------

pub(crate) static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

pub(crate) fn install_signal_handlers() {
    // SAFETY: all zeros is a valid `struct sigaction` (no handler, no
    // flags, an empty mask, no restorer).
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
    // SAFETY: `sa` is valid for the calls to read and write; the handler
    // only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::sigemptyset(&mut sa.sa_mask);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaction(s, &sa, std::ptr::null_mut());
        }
    }
}

pub(crate) fn check_stop() -> Res<()> {
    if STOP.load(Ordering::SeqCst) {
        Err("interrupted".into())
    } else {
        Ok(())
    }
}

/// Sleeps, waking every 50 ms to see whether we were interrupted.
pub(crate) fn nap(d: Duration) -> Res<()> {
    let end = Instant::now() + d;
    loop {
        check_stop()?;
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

// ---------------------------------------------------------------------
// Commands and namespaces
// ---------------------------------------------------------------------

/// A namespace of this run (deleted when the `Netns` drops), without IPv6
/// (no router solicitations or MLD reports among the counted packets).
pub(crate) fn new_netns(role: &str) -> Res<Netns> {
    Netns::create(&format!("{NS_PREFIX}{}-{role}", std::process::id()))
}

/// Removes the namespaces of earlier runs that were killed before they
/// could clean up (their process is gone), and the processes left in them
/// (a pmacctd plugin outlives its killed parent).
pub(crate) fn remove_stale_namespaces() {
    let Ok(dir) = std::fs::read_dir("/var/run/netns") else {
        return;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(NS_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if !comm.starts_with("capture") {
            eprintln!("removing namespace {name}, left by an earlier run");
            let pids = Command::new("ip")
                .args(["netns", "pids", &name])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            for pid in pids
                .split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok())
            {
                let _ = os::kill(pid, libc::SIGKILL);
            }
            let _ = run(&["ip", "netns", "del", &name]);
        }
    }
}

// ---------------------------------------------------------------------
// Traffic: a UDP sender with sendmmsg, paced or not
// ---------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
pub(crate) struct Sent {
    pub(crate) packets: u64,
    pub(crate) elapsed: Duration,
}

impl Sent {
    pub(crate) fn pps(&self) -> f64 {
        self.packets as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Sends `count` UDP packets from `from` to `to` on a thread in `ns`, in
/// batches of `sendmmsg`, paced at `rate` packets/s (None: as fast as the
/// sender goes).
pub(crate) fn send_udp(
    ns: &Netns,
    from: &str,
    to: &str,
    count: u64,
    rate: Option<f64>,
) -> Res<Sent> {
    let (from, to) = (format!("{from}:0"), format!("{to}:{SINK_PORT}"));
    ns.spawn(move || -> Res<Sent> {
        let s = UdpSocket::bind(&from).map_err(|e| format!("bind {from}: {e}"))?;
        s.connect(&to).map_err(|e| format!("connect {to}: {e}"))?;
        const BATCH: usize = 32;
        let mut payload = [0u8; PAYLOAD];
        payload[..8].copy_from_slice(b"wsfbench");
        let mut batch = os::BatchSender::new(&payload, BATCH);
        let start = Instant::now();
        let mut sent = 0u64;
        while sent < count {
            if STOP.load(Ordering::Relaxed) {
                return Err("interrupted".into());
            }
            if let Some(rate) = rate {
                let due = start + Duration::from_secs_f64(sent as f64 / rate);
                let now = Instant::now();
                if due > now {
                    thread::sleep(due - now);
                }
            }
            let n = (count - sent).min(BATCH as u64) as usize;
            match batch.send(&s, n) {
                Ok(n) => sent += n as u64,
                Err(e) => match e.raw_os_error() {
                    Some(libc::ENOBUFS | libc::EAGAIN | libc::EINTR | libc::ECONNREFUSED) => {
                        thread::sleep(Duration::from_micros(50));
                        continue;
                    }
                    _ => return Err(format!("sendmmsg: {e}")),
                },
            }
        }
        Ok(Sent {
            packets: sent,
            elapsed: start.elapsed(),
        })
    })
    .join()
    .map_err(|_| "sender thread panicked".to_string())?
}

/// The sender and AP namespaces joined by a veth pair, and the sink.
pub(crate) struct VethRig {
    pub(crate) ap: Netns,
    pub(crate) sta: Netns,
    _sink: UdpSocket,
}

impl VethRig {
    pub(crate) fn new() -> Res<VethRig> {
        let ap = new_netns("ap")?;
        let sta = new_netns("sta")?;
        run(&[
            "ip", "link", "add", AP_IF, "netns", &ap.name, "type", "veth", "peer", "name", STA_IF,
            "netns", &sta.name,
        ])?;
        ap.try_exec(&["ip", "addr", "add", &format!("{AP_ADDR}/24"), "dev", AP_IF])?;
        sta.try_exec(&[
            "ip",
            "addr",
            "add",
            &format!("{STA_ADDR}/24"),
            "dev",
            STA_IF,
        ])?;
        ap.try_exec(&["ip", "link", "set", AP_IF, "up"])?;
        sta.try_exec(&["ip", "link", "set", STA_IF, "up"])?;
        let sink = ap
            .spawn(|| UdpSocket::bind((AP_ADDR, SINK_PORT)))
            .join()
            .map_err(|_| "sink thread")?
            .map_err(|e| format!("sink socket: {e}"))?;
        let _ = set_int_option(&sink, libc::SO_RCVBUF, 4096);
        // A permanent neighbour entry: no ARP among the counted packets.
        let out = ap
            .command("cat")
            .arg(format!("/sys/class/net/{AP_IF}/address"))
            .output()
            .map_err(|e| e.to_string())?;
        let mac = String::from_utf8_lossy(&out.stdout).trim().to_string();
        sta.try_exec(&[
            "ip",
            "neigh",
            "replace",
            AP_ADDR,
            "lladdr",
            &mac,
            "dev",
            STA_IF,
            "nud",
            "permanent",
        ])?;
        Ok(VethRig {
            ap,
            sta,
            _sink: sink,
        })
    }

    /// Packets that crossed the AP's veth end (both directions).
    pub(crate) fn packets(&self) -> Res<u64> {
        Ok(self.ap.try_stat(AP_IF, "rx_packets")? + self.ap.try_stat(AP_IF, "tx_packets")?)
    }
}

pub(crate) fn set_int_option(
    socket: &UdpSocket,
    option: libc::c_int,
    value: libc::c_int,
) -> Res<()> {
    wsflowd::sys::setsockopt_int(socket.as_fd(), libc::SOL_SOCKET, option, value)
        .map_err(|e| e.to_string())
}
