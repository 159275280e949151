//! Talks to a real hostapd's control sockets: records what it sends (the
//! transcripts in tests/fixtures/hostapd_control/ were made with this, in
//! the VM of ../shared/NOTES.md) and runs the agent's client against it.
//!
//! ```text
//! hostapd_control_probe request SOCKET OUT COMMAND...
//!     sends each COMMAND, one at a time, and writes each reply's exact
//!     bytes to OUT/<n>-<command>.txt
//! hostapd_control_probe list SOCKET OUT
//!     STA-FIRST, STA-NEXT <mac>... until the empty reply, each reply to
//!     OUT/<n>-<command>.txt
//! hostapd_control_probe monitor SOCKET FILE SECONDS
//!     ATTACH, then appends every datagram to FILE, one a line (a datagram
//!     holding a newline or a backslash is written escaped: \n, \\)
//! hostapd_control_probe stall SOCKET SECONDS connected|unconnected
//!     ATTACH from a socket that never reads, for SECONDS: shows whether
//!     hostapd waits for a monitor that does not read
//! hostapd_control_probe client DIR SECONDS REFRESH_SECONDS
//!     runs wsflowd's HostapdControl on DIR with a StationTable; prints the
//!     table whenever the stations change and the figures at the end
//! ```
//!
//! Built static for the VM: `RUSTFLAGS='-C target-feature=+crt-static'
//! cargo build --release --example hostapd_control_probe --target
//! x86_64-unknown-linux-gnu`.

use std::fs;
use std::io::Write;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::{Path, PathBuf};
use std::process::exit;
use std::time::{Duration, Instant};

use wsflowd::stations::hostapd_control::HostapdControl;
use wsflowd::stations::{Source, StationTable};
use wsflowd::sys;

fn usage() -> ! {
    eprintln!(
        "usage: hostapd_control_probe request SOCKET OUT COMMAND... | list SOCKET OUT | \
monitor SOCKET FILE SECONDS | stall SOCKET SECONDS connected|unconnected | \
client DIR SECONDS REFRESH_SECONDS"
    );
    exit(2)
}

fn socket(name: &str) -> UnixDatagram {
    let addr = SocketAddr::from_abstract_name(
        format!("wsflowd-probe-{}-{name}", std::process::id()).as_bytes(),
    )
    .unwrap();
    UnixDatagram::bind_addr(&addr).unwrap_or_else(|e| {
        eprintln!("bind: {e}");
        exit(1)
    })
}

fn connected(path: &Path, name: &str) -> UnixDatagram {
    let s = socket(name);
    s.connect(path).unwrap_or_else(|e| {
        eprintln!("connect {}: {e}", path.display());
        exit(1)
    });
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Sends `command` and returns the reply (events, which start with `<`,
/// are skipped: this socket is not attached anyway).
fn ask(s: &UnixDatagram, command: &str) -> Vec<u8> {
    s.send(command.as_bytes()).unwrap();
    let mut buf = vec![0u8; 8192];
    loop {
        let n = s.recv(&mut buf).unwrap_or_else(|e| {
            eprintln!("{command}: {e}");
            exit(1)
        });
        if buf.first() != Some(&b'<') || n == 0 {
            return buf[..n].to_vec();
        }
    }
}

fn save(out: &Path, n: usize, command: &str, reply: &[u8]) {
    let name: String = command
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let file = out.join(format!("{n:02}-{name}.txt"));
    fs::write(&file, reply).unwrap();
    println!("> {command}\n< {} bytes: {}", reply.len(), escape(reply));
}

fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("request") if args.len() >= 4 => {
            let s = connected(Path::new(&args[1]), "request");
            let out = PathBuf::from(&args[2]);
            fs::create_dir_all(&out).unwrap();
            for (n, command) in args[3..].iter().enumerate() {
                let reply = ask(&s, command);
                save(&out, n, command, &reply);
            }
        }
        Some("list") if args.len() == 3 => {
            let s = connected(Path::new(&args[1]), "list");
            let out = PathBuf::from(&args[2]);
            fs::create_dir_all(&out).unwrap();
            let mut command = "STA-FIRST".to_string();
            for n in 0.. {
                let reply = ask(&s, &command);
                save(&out, n, &command, &reply);
                let Some(mac) = reply.split(|b| *b == b'\n').next() else {
                    break;
                };
                if reply.is_empty() || mac.len() != 17 {
                    break;
                }
                command = format!("STA-NEXT {}", String::from_utf8_lossy(mac));
            }
        }
        Some("monitor") if args.len() == 4 => {
            let s = connected(Path::new(&args[1]), "monitor");
            let seconds: u64 = args[3].parse().unwrap_or_else(|_| usage());
            let mut file = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&args[2])
                .unwrap();
            let reply = ask(&s, "ATTACH");
            println!("ATTACH: {}", escape(&reply));
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let end = Instant::now() + Duration::from_secs(seconds);
            let mut buf = vec![0u8; 8192];
            while Instant::now() < end {
                match s.recv(&mut buf) {
                    Ok(n) => {
                        let line = escape(&buf[..n]);
                        writeln!(file, "{line}").unwrap();
                        file.flush().unwrap();
                        println!("event: {line}");
                    }
                    Err(_) => continue,
                }
            }
            let _ = s.send(b"DETACH");
        }
        Some("stall") if args.len() == 4 => {
            let seconds: u64 = args[2].parse().unwrap_or_else(|_| usage());
            let s = socket("stall");
            let path = Path::new(&args[1]);
            match args[3].as_str() {
                "connected" => {
                    s.connect(path).unwrap();
                    s.send(b"ATTACH").unwrap();
                }
                "unconnected" => {
                    s.send_to(b"ATTACH", path).unwrap();
                }
                _ => usage(),
            }
            println!("attached ({}), not reading for {seconds} s", args[3]);
            std::thread::sleep(Duration::from_secs(seconds));
            // How many datagrams wait for us now.
            s.set_nonblocking(true).unwrap();
            let mut buf = vec![0u8; 8192];
            let mut queued = 0;
            while s.recv(&mut buf).is_ok() {
                queued += 1;
            }
            println!("{queued} datagrams were queued");
            let _ = if args[3] == "connected" {
                s.send(b"DETACH")
            } else {
                s.send_to(b"DETACH", path)
            };
        }
        Some("client") if args.len() == 4 => client(
            PathBuf::from(&args[1]),
            args[2].parse().unwrap_or_else(|_| usage()),
            args[3].parse().unwrap_or_else(|_| usage()),
        ),
        _ => usage(),
    }
}

fn client(dir: PathBuf, seconds: u64, refresh_s: u64) {
    let start = Instant::now();
    let now_ms = || start.elapsed().as_millis() as u64;
    let mut control = HostapdControl::new(dir);
    let mut table = StationTable::default();
    let mut fds = Vec::new();
    let mut pollfds = Vec::new();
    let mut next_tick = 0;
    let mut next_refresh = 0;
    let mut last_shown = String::new();
    while now_ms() < seconds * 1000 {
        let now = now_ms();
        if now >= next_tick {
            if now / 10_000 != next_tick.saturating_sub(1000) / 10_000 {
                print_stats(&control);
            }
            let refresh = now >= next_refresh;
            if refresh {
                next_refresh = now + refresh_s * 1000;
            }
            control.tick(now, refresh, &mut table);
            next_tick = now + 1000;
        }
        fds.clear();
        control.poll_fds(&mut fds);
        pollfds.clear();
        pollfds.extend(fds.iter().map(|&(fd, ev)| sys::pollfd(fd, ev)));
        let wait = next_tick.saturating_sub(now_ms()).min(1000) as i32;
        sys::poll(&mut pollfds, wait).unwrap();
        for p in &pollfds {
            if p.revents != 0 {
                control.handle(p.fd, now_ms(), &mut table);
            }
        }
        let shown = show(&table);
        if shown != last_shown {
            println!("[{:7.3}] table:\n{shown}", start.elapsed().as_secs_f64());
            last_shown = shown;
        }
    }
    print_stats(&control);
}

fn print_stats(control: &HostapdControl) {
    let s = control.stats();
    println!("stats: {s:?}");
    println!(
        "handling: {} datagrams, max {} us, p50 <= {:?} us, p99 <= {:?} us",
        s.handling.count,
        s.handling.max_ns / 1000,
        s.handling.percentile_us(50),
        s.handling.percentile_us(99)
    );
}

fn show(table: &StationTable) -> String {
    let mut out = String::new();
    for bss in table.iter() {
        let r = bss.report(Source::HostapdControl);
        out.push_str(&format!(
            "  {} ssid={:?} bssid={} freq={:?} channel={:?} radio={:?} associated={}\n",
            bss.ifname(),
            r.ssid.as_deref().map(String::from_utf8_lossy),
            r.bssid.map(|b| b.to_string()).unwrap_or_default(),
            r.freq_mhz,
            r.channel,
            r.radio,
            bss.associated()
        ));
        for (mac, st) in bss.stations() {
            let r = st.report(Source::HostapdControl);
            out.push_str(&format!(
                "    {mac} assoc={:?} auth={:?} signal={:?} rx_kbps={:?} tx_kbps={:?} phy={:?}\n",
                r.associated, r.authorized, r.signal_dbm, r.rx_rate_kbps, r.tx_rate_kbps, r.phy
            ));
        }
    }
    out
}
