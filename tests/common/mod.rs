//! Shared test rigs: network namespaces, veth pairs, the agent as a child
//! process (also as an unprivileged user), a collector socket inside a
//! namespace, UDP traffic, processes' CPU and memory ([`process`]),
//! temporary directories, and the few system calls the rigs make ([`os`]);
//! an access point with hostapd over ubus ([`ap_lab`], [`fake_hostapd`],
//! [`ubusd`]), Prometheus ([`prometheus`]), simulated AP agents
//! ([`sflow_mix`]), owned 802.11 flow records ([`owned_80211`]), and the
//! daemon's verdict on option values ([`option_values`]).
//!
//! The integration tests include it as `mod common;`, the benchmarks as a
//! path module (`#[path = "../tests/common/mod.rs"]`): one rig for both,
//! outside the library, so the daemon's build carries none of it and no
//! Cargo feature has to switch it on.
//!
//! Everything a test creates is removed when its guard drops, even when the
//! test fails.

#![allow(dead_code)]

pub mod ap_lab;
pub mod fake_hostapd;
pub mod option_values;
pub mod os;
pub mod owned_80211;
pub mod process;
pub mod prometheus;
pub mod sflow_mix;
pub mod ubusd;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Whether tests that need root can run. When `WSFLOWD_REQUIRE_ROOT=1`
/// (set by `make test` as root) a missing privilege is a failure, not a
/// skip, so CI cannot pass by skipping.
pub fn root_or_skip(test: &str) -> bool {
    let root = os::is_root();
    if !root {
        if std::env::var("WSFLOWD_REQUIRE_ROOT").as_deref() == Ok("1") {
            panic!("{test}: needs root");
        }
        eprintln!("{test}: skipped (needs root)");
    }
    root
}

/// Whether `tool --version` runs; when it does not, the test is skipped
/// with a message, or fails under `WSFLOWD_REQUIRE_TOOLS=1` (set by
/// `make test`, which installs the tools), so CI cannot pass by skipping.
pub fn tool_or_skip(tool: &str, test: &str) -> bool {
    tool_with_or_skip(tool, "--version", test)
}

/// [`tool_or_skip`] for a tool that prints its version with `version_arg`.
pub fn tool_with_or_skip(tool: &str, version_arg: &str, test: &str) -> bool {
    let found = Command::new(tool)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("WSFLOWD_REQUIRE_TOOLS").as_deref() == Ok("1") {
            panic!("{test}: {tool} is required (WSFLOWD_REQUIRE_TOOLS=1) but cannot be run");
        }
        eprintln!("{test}: skipped ({tool} not found)");
    }
    found
}

/// Runs a command; the error holds its output if it fails.
pub fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Runs `command`; its standard output, or a panic with its standard
/// error if it fails.
pub fn stdout_of(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Checks `script` with shellcheck and `args` (run in `dir`, if given),
/// failing with shellcheck's report.
pub fn assert_shellcheck_passes(script: &Path, args: &[&str], dir: Option<&Path>) {
    let mut command = Command::new("shellcheck");
    command.args(args).arg(script);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "shellcheck {}:\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Runs a command, panicking with its output if it fails.
pub fn sh(args: &[&str]) {
    if let Err(e) = run(args) {
        panic!("{e}");
    }
}

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A network namespace, deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// A namespace with a unique name starting with `prefix`.
    pub fn new(prefix: &str) -> Netns {
        Netns::create(&unique(prefix)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A namespace called `name`, without IPv6 (no router solicitations
    /// or MLD reports adding packets to the counts the tests check), its
    /// loopback up.
    pub fn create(name: &str) -> Result<Netns, String> {
        run(&["ip", "netns", "add", name])?;
        // Deleted again on drop if a step below fails.
        let ns = Netns {
            name: name.to_string(),
        };
        ns.try_exec(&["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])?;
        ns.try_exec(&["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"])?;
        ns.try_exec(&["ip", "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    pub fn exec(&self, args: &[&str]) {
        if let Err(e) = self.try_exec(args) {
            panic!("{e}");
        }
    }

    /// Runs a command in the namespace; the error holds its output.
    pub fn try_exec(&self, args: &[&str]) -> Result<(), String> {
        let mut v = vec!["ip", "netns", "exec", &self.name];
        v.extend_from_slice(args);
        run(&v)
    }

    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `f` on a new thread that has entered this namespace.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> thread::JoinHandle<T> {
        let path = format!("/var/run/netns/{}", self.name);
        thread::spawn(move || {
            let ns = File::open(&path).expect("namespace file");
            os::enter_netns(&ns).unwrap_or_else(|e| panic!("setns: {e}"));
            f()
        })
    }

    /// Reads one statistics counter of an interface in this namespace.
    pub fn stat(&self, interface: &str, counter: &str) -> u64 {
        self.try_stat(interface, counter)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Netns::stat`], the error saying what went wrong.
    pub fn try_stat(&self, interface: &str, counter: &str) -> Result<u64, String> {
        let out = self
            .command("cat")
            .arg(format!("/sys/class/net/{interface}/statistics/{counter}"))
            .output()
            .map_err(|e| e.to_string())?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| {
                format!(
                    "{interface} {counter}: {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
    }

    pub fn if_index(&self, interface: &str) -> u32 {
        self.sys_class_net(interface, "ifindex").parse().unwrap()
    }

    /// The MAC address of an interface in this namespace.
    pub fn mac(&self, interface: &str) -> [u8; 6] {
        let octets: Vec<u8> = self
            .sys_class_net(interface, "address")
            .split(':')
            .map(|x| u8::from_str_radix(x, 16).unwrap())
            .collect();
        octets.try_into().unwrap()
    }

    /// `/sys/class/net/{interface}/{attribute}` as this namespace sees it,
    /// trimmed.
    fn sys_class_net(&self, interface: &str, attribute: &str) -> String {
        let out = self
            .command("cat")
            .arg(format!("/sys/class/net/{interface}/{attribute}"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Gives `interface` the address `cidr` and brings it up.
    pub fn address_up(&self, interface: &str, cidr: &str) {
        self.exec(&["ip", "addr", "add", cidr, "dev", interface]);
        self.exec(&["ip", "link", "set", interface, "up"]);
    }
}

/// A veth pair from `a_if` in namespace `a` to `b_if` in `b`, both down
/// and without addresses.
pub fn veth(a: &Netns, a_if: &str, b: &Netns, b_if: &str) {
    sh(&[
        "ip", "link", "add", a_if, "netns", &a.name, "type", "veth", "peer", "name", b_if, "netns",
        &b.name,
    ]);
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Two namespaces joined by a veth pair with addresses 10.(x).(y).1/.2.
pub struct VethPair {
    pub a: Netns,
    pub b: Netns,
    pub a_if: String,
    pub b_if: String,
    pub a_addr: String,
    pub b_addr: String,
}

impl VethPair {
    pub fn new() -> VethPair {
        let a = Netns::new("wsfa");
        let b = Netns::new("wsfb");
        let a_if = "veth-a".to_string();
        let b_if = "veth-b".to_string();
        veth(&a, &a_if, &b, &b_if);
        let a_addr = "10.201.0.1".to_string();
        let b_addr = "10.201.0.2".to_string();
        a.address_up(&a_if, &format!("{a_addr}/24"));
        b.address_up(&b_if, &format!("{b_addr}/24"));
        VethPair {
            a,
            b,
            a_if,
            b_if,
            a_addr,
            b_addr,
        }
    }
}

/// Where the tests find the checkout's files: `WSFLOWD_SOURCE_DIR` when set
/// (the suite runs as an unprivileged user from a staged copy, see
/// scripts/unprivileged_stage.sh), else the checkout itself.
pub fn source_dir() -> PathBuf {
    std::env::var_os("WSFLOWD_SOURCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The wsflowd binary under test.
pub fn wsflowd() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_wsflowd"))
}

/// A running agent, killed on drop; its stderr lines are collected.
pub struct AgentProcess {
    pub child: Child,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl AgentProcess {
    pub fn start(ns: &Netns, config: &Path) -> AgentProcess {
        let mut command = ns.command(wsflowd().to_str().unwrap());
        command.args(["--foreground", "--config"]).arg(config);
        AgentProcess::spawn(command)
    }

    /// Starts the agent in `ns` as nobody (uid and gid 65534, no
    /// supplementary group) with `capability` ("net_raw") as its only
    /// capability, or none at all; from a copy of the binary beside its
    /// configuration, both made reachable and readable for nobody, as on
    /// OpenWrt (/usr/sbin/wsflowd, /etc/config/wsflowd 0644).
    pub fn start_as_nobody(ns: &Netns, cfg: &TempConfig, capability: Option<&str>) -> AgentProcess {
        use std::os::unix::fs::PermissionsExt;
        let binary = cfg.dir.join("sbin-wsflowd");
        std::fs::copy(wsflowd(), &binary).unwrap();
        for (path, mode) in [(&cfg.dir, 0o755), (&binary, 0o755), (&cfg.path, 0o644)] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let mut command = ns.command("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        match capability {
            // In every set: the ambient set carries it across exec.
            Some(c) => command.args([
                format!("--inh-caps=-all,+{c}"),
                format!("--ambient-caps=-all,+{c}"),
                format!("--bounding-set=-all,+{c}"),
            ]),
            None => command.args(["--inh-caps=-all", "--bounding-set=-all"]),
        };
        command
            .arg("--")
            .arg(&binary)
            .args(["--foreground", "--config"])
            .arg(&cfg.path);
        AgentProcess::spawn(command)
    }

    /// Runs `command` (which starts an agent in the foreground), collecting
    /// its stderr.
    pub fn spawn(mut command: Command) -> AgentProcess {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start wsflowd");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("agent: {line}");
                sink.lock().unwrap().push(line);
            }
        });
        AgentProcess { child, log }
    }

    /// Waits until a log line contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.log.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn log_contains(&self, needle: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(needle))
    }

    /// How many log lines contain `needle`.
    pub fn log_count(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    pub fn signal(&self, signal: i32) {
        let _ = os::kill(self.child.id(), signal);
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.signal(libc::SIGTERM);
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < end, "agent did not stop on SIGTERM");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Datagrams with the time they arrived.
pub type Datagrams = Vec<(Instant, Vec<u8>)>;

/// A UDP collector bound on 127.0.0.1 inside a namespace, keeping every
/// datagram with the time it arrived.
pub struct Collector {
    pub port: u16,
    pub datagrams: Arc<Mutex<Datagrams>>,
    stop: mpsc::Sender<()>,
}

impl Collector {
    pub fn start(ns: &Netns) -> Collector {
        let (port_tx, port_rx) = mpsc::channel();
        let (stop, stop_rx) = mpsc::channel::<()>();
        let datagrams = Arc::new(Mutex::new(Vec::new()));
        let sink = datagrams.clone();
        ns.spawn(move || {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            port_tx.send(s.local_addr().unwrap().port()).unwrap();
            let mut buf = vec![0u8; 65536];
            while stop_rx.try_recv().is_err() {
                if let Ok(n) = s.recv(&mut buf) {
                    sink.lock()
                        .unwrap()
                        .push((Instant::now(), buf[..n].to_vec()));
                }
            }
        });
        Collector {
            port: port_rx.recv().unwrap(),
            datagrams,
            stop,
        }
    }

    pub fn snapshot(&self) -> Datagrams {
        self.datagrams.lock().unwrap().clone()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.stop.send(());
    }
}

/// Flow samples in `datagrams` that arrived in `[from, to)`: (ifIndex,
/// sampling rate) of each.
pub fn flow_samples(datagrams: &Datagrams, from: Instant, to: Instant) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for (arrived, bytes) in datagrams {
        if *arrived < from || *arrived >= to {
            continue;
        }
        let d = wsflowd::sflow::Datagram::parse(bytes).expect("the agent's datagrams decode");
        for s in d.samples.iter() {
            if let wsflowd::sflow::Sample::Flow(_, f) = s.expect("sample decodes") {
                out.push((f.source.index, f.sampling_rate));
            }
        }
    }
    out
}

/// UDP traffic from `from` to `to:9`, about 2,000 packets/s, until the
/// returned flag is set.
pub fn traffic(from: &Netns, to: &'static str) -> (Arc<AtomicBool>, thread::JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = from.spawn(move || {
        let s = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        let mut sent = 0u64;
        while !flag.load(Ordering::Relaxed) {
            for _ in 0..10 {
                if s.send_to(&[0u8; 64], (to, 9)).is_ok() {
                    sent += 1;
                }
            }
            thread::sleep(Duration::from_millis(5));
        }
        sent
    });
    (stop, handle)
}

/// Sends `count` UDP datagrams of `payload` from `from` to `to` in `ns`, on
/// a thread of its own: every 50 packets it waits until packet `i` is due,
/// `due(i)` after the first. A full socket buffer is waited out: every
/// packet goes out.
pub fn send_udp_paced(
    ns: &Netns,
    from: &'static str,
    to: &'static str,
    count: u32,
    payload: Vec<u8>,
    due: impl Fn(u32) -> Duration + Send + 'static,
) -> thread::JoinHandle<()> {
    ns.spawn(move || {
        let s = UdpSocket::bind(from).unwrap();
        let start = Instant::now();
        for i in 0..count {
            if i % 50 == 0 {
                if let Some(wait) = due(i).checked_sub(start.elapsed()) {
                    thread::sleep(wait);
                }
            }
            while s.send_to(&payload, to).is_err() {
                thread::sleep(Duration::from_millis(1));
            }
        }
    })
}

/// Receives (and drops) UDP datagrams on `address` in `ns` until none came
/// for half a second: a receiver, so that the host sends no ICMP port
/// unreachable back.
pub fn udp_sink(ns: &Netns, address: &'static str) -> thread::JoinHandle<()> {
    ns.spawn(move || {
        let s = UdpSocket::bind(address).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut buf = [0u8; 2048];
        while s.recv(&mut buf).is_ok() {}
    })
}

/// Writes a configuration file into a fresh temporary directory.
pub struct TempConfig {
    pub dir: PathBuf,
    pub path: PathBuf,
    _dir: TempDir,
}

impl TempConfig {
    pub fn new(text: &str) -> TempConfig {
        let dir = TempDir::new("test");
        let path = dir.path().join("wsflowd");
        std::fs::write(&path, text).unwrap();
        TempConfig {
            dir: dir.path().to_path_buf(),
            path,
            _dir: dir,
        }
    }

    pub fn rewrite(&self, text: &str) {
        std::fs::write(&self.path, text).unwrap();
    }
}

/// Opens a TAP named `name` with link type 803 (ARPHRD_IEEE80211_RADIOTAP)
/// in the calling thread's network namespace: to AF_PACKET it is a monitor
/// interface. It exists for as long as the file stays open.
pub fn monitor_tap(name: &str) -> std::io::Result<File> {
    const IFF_TAP: libc::c_short = 0x0002;
    const IFF_NO_PI: libc::c_short = 0x1000;
    let tun = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")?;
    os::tun_set_iff(&tun, name, IFF_TAP | IFF_NO_PI)?;
    os::tun_set_link(&tun, libc::ARPHRD_IEEE80211_RADIOTAP)?;
    Ok(tun)
}

/// A fresh temporary directory, removed on drop (also when the test
/// fails).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(unique(&format!("wsflowd-{tag}-")));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The directory of the shared real captures, if present.
pub fn captures_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("WSFLOWD_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| source_dir().join("../shared/captures"));
    dir.is_dir().then_some(dir)
}
