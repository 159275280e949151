//! The procd init script (`openwrt/files/wsflowd.init`), run as OpenWrt
//! runs it but without OpenWrt: under test stand-ins of rc.common,
//! functions.sh and procd.sh (`tests/openwrt/shim/`, each checked by hand
//! against the real file, see its header) that record the ubus calls procd
//! would receive, with the real wsflowd binary for `--check-config`. Under
//! dash and, when installed, busybox's ash (OpenWrt's shell).
//!
//! - triggers: the service registered with procd is fed to a port of
//!   procd's trigger matching (`tests/openwrt/procd_trigger.rs`) with the
//!   events netifd and reload_config send: only a change of the agent's
//!   own configuration reloads it;
//! - start and reload: the instance procd is given (user, jail,
//!   capabilities for the kernel, none of them without ujail, no start
//!   without the user or with an invalid file), and reload's SIGHUP;
//! - validation: the script's validate_data datatypes against
//!   [`wsflowd::config::SCHEMA`] (every option, its datatype and default),
//!   and thousands of values through a port of ubox's datatype checks
//!   (`tests/openwrt/ubox_validate.rs`) and the daemon's parser: where
//!   they disagree, it is for one of the reasons listed in
//!   [`deliberate_difference`].

mod common;
#[path = "openwrt/procd_trigger.rs"]
mod procd_trigger;
#[path = "openwrt/ubox_validate.rs"]
mod ubox_validate;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};
use wsflowd::config::{self, Kind, OptionSpec, SCHEMA};
use wsflowd::rng::Rng;

use common::option_values::{daemon_accepts, long_name, random_text};
use common::{stdout_of, TempDir};
use procd_trigger::{fire, triggers_of, Queued};
use ubox_validate::Target;

fn repo() -> PathBuf {
    common::source_dir()
}

fn shim() -> PathBuf {
    repo().join("tests/openwrt/shim")
}

/// The shells to run the script with: dash (Debian's sh), and busybox's
/// ash, OpenWrt's /bin/sh, when it is installed (`make deps` installs it).
fn shells(test: &str) -> Vec<Vec<String>> {
    let mut shells = vec![vec!["sh".to_owned()]];
    if common::tool_with_or_skip("busybox", "true", test) {
        shells.push(vec!["busybox".to_owned(), "sh".to_owned()]);
    }
    shells
}

/// What the script did: a ubus call to procd, or a line for logd.
#[derive(Debug, Clone, PartialEq)]
enum Record {
    Ubus { method: String, msg: Value },
    Log { priority: String, message: String },
}

/// A device's root for the script: /etc/init.d/wsflowd, /etc/config,
/// /etc/passwd, /etc/capabilities, /sbin/ujail, /usr/sbin/wsflowd.
struct Device {
    _tmp: TempDir,
    root: PathBuf,
    shell: Vec<String>,
    kernel: String,
    running: bool,
}

const WITH_COLLECTOR: &str = "config agent 'agent'
	option enabled '1'
	list interface 'phy0-ap0'

config collector
	option address '192.0.2.10'
";

impl Device {
    fn new(shell: &[String], config: &str) -> Device {
        let tmp = TempDir::new("openwrt-init");
        let root = tmp.path().to_path_buf();
        for dir in [
            "etc/init.d",
            "etc/config",
            "etc/capabilities",
            "sbin",
            "usr/sbin",
        ] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::copy(
            repo().join("openwrt/files/wsflowd.init"),
            root.join("etc/init.d/wsflowd"),
        )
        .unwrap();
        std::fs::write(root.join("etc/config/wsflowd"), config).unwrap();
        std::fs::write(
            root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/ash\nwsflowd:x:6343:6343:wsflowd:/var/run/wsflowd:/bin/false\n",
        )
        .unwrap();
        for (from, to) in [
            ("wsflowd.capabilities.json", "wsflowd.json"),
            ("wsflowd-nobpf.capabilities.json", "wsflowd-nobpf.json"),
        ] {
            std::fs::copy(
                repo().join("openwrt/files").join(from),
                root.join("etc/capabilities").join(to),
            )
            .unwrap();
        }
        std::fs::write(root.join("sbin/ujail"), "#!/bin/sh\nexit 1\n").unwrap();
        std::fs::set_permissions(
            root.join("sbin/ujail"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        std::os::unix::fs::symlink(common::wsflowd(), root.join("usr/sbin/wsflowd")).unwrap();
        Device {
            _tmp: tmp,
            root,
            shell: shell.to_vec(),
            kernel: "6.6.93".to_owned(),
            running: false,
        }
    }

    fn path(&self, rel: &str) -> String {
        self.root.join(rel).to_str().unwrap().to_owned()
    }

    /// `/etc/init.d/wsflowd ACTION`, and what it asked of procd and logd.
    fn run(&self, action: &str) -> Vec<Record> {
        let out = self.root.join("out");
        let _ = std::fs::remove_file(&out);
        let path = format!(
            "{}:{}",
            shim().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let status = Command::new(&self.shell[0])
            .args(&self.shell[1..])
            .arg(shim().join("rc.common"))
            .arg(self.path("etc/init.d/wsflowd"))
            .arg(action)
            .env("PATH", path)
            .env("SHIM_OUT", &out)
            .env("SHIM_ROOT", &self.root)
            .env("SHIM_KERNEL", &self.kernel)
            .env("SHIM_RUNNING", if self.running { "1" } else { "0" })
            .env("UCI_CONFIG_DIR", self.path("etc/config"))
            .env("SHIM_PROG", self.path("usr/sbin/wsflowd"))
            .env("SHIM_CONFIG", self.path("etc/config/wsflowd"))
            .env("SHIM_CAPABILITIES_DIR", self.path("etc/capabilities"))
            .env("SHIM_UJAIL", self.path("sbin/ujail"))
            .output()
            .expect("run the init script");
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        assert!(
            !text.contains("shim-error"),
            "{:?} {action}: {text}\n{}",
            self.shell,
            String::from_utf8_lossy(&status.stderr)
        );
        let records: Vec<Record> = text
            .lines()
            .map(|line| {
                let (kind, rest) = line.split_once(' ').unwrap();
                let (what, rest) = rest.split_once(' ').unwrap();
                match kind {
                    "ubus" => {
                        assert_eq!(what, "service");
                        let (method, msg) = rest.split_once(' ').unwrap();
                        Record::Ubus {
                            method: method.to_owned(),
                            msg: serde_json::from_str(msg).unwrap_or_else(|e| panic!("{e}: {msg}")),
                        }
                    }
                    "logger" => Record::Log {
                        priority: what.to_owned(),
                        message: rest.to_owned(),
                    },
                    _ => panic!("unknown record {line}"),
                }
            })
            .collect();
        records
    }

    /// The "service set" message of `start`.
    fn start(&self) -> (Value, Vec<(String, String)>) {
        let records = self.run("start");
        let mut set = None;
        let mut logs = Vec::new();
        for r in records {
            match r {
                Record::Ubus { method, msg } => {
                    assert_eq!(method, "set", "{:?}", self.shell);
                    assert!(set.replace(msg).is_none(), "one service set");
                }
                Record::Log { priority, message } => logs.push((priority, message)),
            }
        }
        (set.expect("start calls service set"), logs)
    }
}

fn reload_command() -> Vec<String> {
    vec!["/etc/init.d/wsflowd".to_owned(), "reload".to_owned()]
}

/// The events of netifd (notifications of network.interface, which procd
/// turns into triggers: the network service has it watched) and of
/// reload_config (`ubus call service event` config.change), as procd gets
/// them, and whether the agent should reload on each.
fn events() -> Vec<(&'static str, Value, bool)> {
    let mut events = Vec::new();
    for iface in ["wan", "wan6", "lan", "loopback", "wwan"] {
        let status = json!({
            "interface": iface, "up": true, "pending": false, "available": true,
            "autostart": true, "dynamic": false, "uptime": 3600, "l3_device": "eth1",
            "proto": "dhcp", "device": "eth1", "updated": ["addresses"],
        });
        events.push(("interface.update", status, false));
        events.push((
            "interface.down",
            json!({ "interface": iface, "up": false }),
            false,
        ));
    }
    for package in [
        "wireless", "network", "firewall", "dhcp", "system", "luci", "wsflowd2",
    ] {
        events.push(("config.change", json!({ "package": package }), false));
    }
    events.push(("config.change", json!({ "package": "wsflowd" }), true));
    events.push(("instance.update", json!({}), false));
    events.push(("service.data.update", json!({ "name": "wsflowd" }), false));
    events
}

#[test]
fn only_a_change_of_the_agents_configuration_reloads_it() {
    let test = "only_a_change_of_the_agents_configuration_reloads_it";
    for shell in shells(test) {
        // Registered whether the daemon runs or not: Save & Apply must
        // start it once a collector is set.
        for config in [WITH_COLLECTOR, "config agent 'agent'\n"] {
            let (set, _) = Device::new(&shell, config).start();
            let triggers = triggers_of(&set);
            assert_eq!(triggers.len(), 1, "{shell:?}: {set}");
            let mut reloads = 0;
            for (event, data, reloads_expected) in events() {
                let queued = fire(&triggers, event, &data);
                let want = if reloads_expected {
                    reloads += 1;
                    vec![Queued {
                        command: reload_command(),
                        delay_ms: 1000,
                    }]
                } else {
                    Vec::new()
                };
                assert_eq!(queued, want, "{shell:?}: {event} {data}");
            }
            assert_eq!(reloads, 1);
        }
    }
    println!(
        "{} netifd and configuration events: the agent reloads on config.change of wsflowd only",
        events().len()
    );
}

/// The matcher and the stand-in of procd.sh see the problem of issue 16:
/// the raw `interface.*` trigger the script had reloaded the agent on every
/// event of every interface.
#[test]
fn the_old_raw_interface_trigger_fired_on_every_interface_event() {
    let tmp = TempDir::new("openwrt-init-old");
    let script = tmp.path().join("old.init");
    std::fs::write(
        &script,
        "service_triggers() {\n\tprocd_add_reload_trigger wsflowd wireless\n\tprocd_add_raw_trigger 'interface.*' 2000 /etc/init.d/wsflowd reload\n}\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let status = Command::new("sh")
        .arg(shim().join("rc.common"))
        .arg(&script)
        .arg("start")
        .env("SHIM_OUT", &out)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    let msg: Value = serde_json::from_str(text.trim().splitn(4, ' ').nth(3).unwrap()).unwrap();
    let triggers = triggers_of(&msg);
    let mut fired = 0;
    for (event, data, _) in events() {
        let queued = fire(&triggers, event, &data);
        if event.starts_with("interface.") {
            assert_eq!(
                queued,
                [Queued {
                    command: vec!["/etc/init.d/wsflowd".into(), "reload".into()],
                    delay_ms: 2000,
                }],
                "{event} {data}"
            );
            fired += 1;
        }
    }
    assert_eq!(fired, 10);
    assert_eq!(
        fire(&triggers, "config.change", &json!({"package": "wireless"})).len(),
        1
    );
}

fn instance(set: &Value) -> Option<&Value> {
    let instances = set["instances"].as_object().unwrap();
    assert!(instances.len() <= 1, "{set}");
    instances.get("wsflowd")
}

fn errors(logs: &[(String, String)]) -> Vec<&str> {
    logs.iter()
        .filter(|(p, _)| p == "daemon.err")
        .map(|(_, m)| m.as_str())
        .collect()
}

#[test]
fn start_runs_the_daemon_as_wsflowd_with_the_capabilities_of_its_kernel() {
    let test = "start_runs_the_daemon_as_wsflowd_with_the_capabilities_of_its_kernel";
    for shell in shells(test) {
        for (kernel, caps) in [
            ("6.6.93", "wsflowd.json"),
            ("5.15.167", "wsflowd.json"),
            ("5.10.176", "wsflowd.json"),
            ("5.8.0", "wsflowd.json"),
            ("5.7.19", "wsflowd-nobpf.json"),
            ("5.4.238", "wsflowd-nobpf.json"),
            ("4.14.0-rc1", "wsflowd-nobpf.json"),
        ] {
            let mut device = Device::new(&shell, WITH_COLLECTOR);
            device.kernel = kernel.to_owned();
            let (set, logs) = device.start();
            assert_eq!(set["name"], "wsflowd");
            let want = json!({
                "command": [device.path("usr/sbin/wsflowd"), "-f", "-c", device.path("etc/config/wsflowd")],
                "respawn": ["3600", "5", "5"],
                "stdout": true,
                "stderr": true,
                "user": "wsflowd",
                "group": "wsflowd",
                "jail": { "name": "wsflowd", "mount": {} },
                "capabilities": device.path(&format!("etc/capabilities/{caps}")),
                "no_new_privs": true,
            });
            assert_eq!(instance(&set), Some(&want), "{shell:?} kernel {kernel}");
            assert_eq!(errors(&logs), Vec::<&str>::new(), "{shell:?}");
            let notice = logs.iter().any(|(_, m)| m.contains("predates CAP_BPF"));
            assert_eq!(notice, caps == "wsflowd-nobpf.json", "{shell:?} {kernel}");
        }
    }
    // The two capability sets differ by CAP_BPF alone.
    let read = |f: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(repo().join("openwrt/files").join(f)).unwrap(),
        )
        .unwrap()
    };
    let with = read("wsflowd.capabilities.json");
    let without = read("wsflowd-nobpf.capabilities.json");
    let sets = with.as_object().unwrap();
    assert_eq!(sets.len(), 5);
    for (set, names) in sets {
        let mut names: Vec<&str> = names
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        names.retain(|n| *n != "CAP_BPF");
        assert_eq!(json!(names), without[set], "{set}");
    }
}

#[test]
fn without_ujail_it_runs_as_wsflowd_without_capabilities_and_says_so() {
    let test = "without_ujail_it_runs_as_wsflowd_without_capabilities_and_says_so";
    for shell in shells(test) {
        let device = Device::new(&shell, WITH_COLLECTOR);
        std::fs::remove_file(device.root.join("sbin/ujail")).unwrap();
        let (set, logs) = device.start();
        let inst = instance(&set).expect("the daemon runs");
        assert_eq!(inst["user"], "wsflowd");
        assert_eq!(inst["group"], "wsflowd");
        for absent in ["jail", "capabilities", "no_new_privs"] {
            assert!(inst.get(absent).is_none(), "{shell:?}: {absent} in {inst}");
        }
        let errors = errors(&logs);
        assert_eq!(errors.len(), 1, "{shell:?}: {logs:?}");
        assert!(errors[0].contains("procd-ujail"), "{}", errors[0]);
        assert!(errors[0].contains("without CAP_NET_RAW"), "{}", errors[0]);
    }
}

#[test]
fn without_the_user_it_does_not_start() {
    let test = "without_the_user_it_does_not_start";
    for shell in shells(test) {
        let device = Device::new(&shell, WITH_COLLECTOR);
        std::fs::write(
            device.root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/ash\n",
        )
        .unwrap();
        let (set, logs) = device.start();
        assert_eq!(instance(&set), None, "{shell:?}: never as root");
        let errors = errors(&logs);
        assert_eq!(errors.len(), 1, "{shell:?}: {logs:?}");
        assert!(
            errors[0].contains("user wsflowd is missing"),
            "{}",
            errors[0]
        );
        // The triggers stay registered.
        assert_eq!(triggers_of(&set).len(), 1);
    }
}

#[test]
fn start_waits_for_a_collector_and_refuses_an_invalid_file() {
    let test = "start_waits_for_a_collector_and_refuses_an_invalid_file";
    for shell in shells(test) {
        for (config, reason) in [
            ("config agent 'agent'\n", "no enabled collector"),
            (
                "config agent 'agent'\n\toption enabled '0'\n\nconfig collector\n\toption address '192.0.2.1'\n",
                "disabled",
            ),
            (
                "config agent 'agent'\n\nconfig collector\n\toption enabled 'off'\n\toption address '192.0.2.1'\n",
                "no enabled collector",
            ),
        ] {
            let (set, logs) = Device::new(&shell, config).start();
            assert_eq!(instance(&set), None, "{shell:?} {config}");
            assert!(
                logs.iter().any(|(p, m)| p == "daemon.notice" && m.contains(reason)),
                "{shell:?}: {logs:?}"
            );
        }
        // DNS-SD may find collectors: it runs without one in the file.
        let (set, logs) =
            Device::new(&shell, "config agent 'agent'\n\toption dns_sd '1'\n").start();
        assert!(instance(&set).is_some(), "{shell:?}: {logs:?}");
        let invalid = format!("{WITH_COLLECTOR}\toption port '65536'\n");
        let (set, logs) = Device::new(&shell, &invalid).start();
        assert_eq!(instance(&set), None);
        let errors = errors(&logs);
        assert_eq!(errors.len(), 1, "{shell:?}: {logs:?}");
        assert!(
            errors[0].contains("not starting") && errors[0].contains("option 'port'"),
            "{}",
            errors[0]
        );
    }
}

#[test]
fn reload_signals_a_running_daemon_and_otherwise_starts_or_stops_it() {
    let test = "reload_signals_a_running_daemon_and_otherwise_starts_or_stops_it";
    for shell in shells(test) {
        let list = Record::Ubus {
            method: "list".into(),
            msg: json!({ "name": "wsflowd" }),
        };
        // Running and wanted: SIGHUP, nothing else. An invalid file too:
        // the daemon refuses it and keeps its configuration.
        for config in [
            WITH_COLLECTOR.to_owned(),
            format!("{WITH_COLLECTOR}\toption port 'x'\n"),
        ] {
            let mut device = Device::new(&shell, &config);
            device.running = true;
            assert_eq!(
                device.run("reload"),
                [
                    list.clone(),
                    Record::Ubus {
                        method: "signal".into(),
                        msg: json!({ "name": "wsflowd", "signal": 1 }),
                    }
                ],
                "{shell:?}"
            );
        }
        // Not running: a start (a set with the instance).
        let device = Device::new(&shell, WITH_COLLECTOR);
        let records = device.run("reload");
        assert_eq!(records[0], list);
        let Record::Ubus { method, msg } = &records[1] else {
            panic!("{records:?}")
        };
        assert_eq!(method, "set");
        assert!(instance(msg).is_some());
        // Running but no longer wanted: a set without it, which stops it.
        let mut device = Device::new(&shell, "config agent 'agent'\n");
        device.running = true;
        let records = device.run("reload");
        let sets: Vec<&Value> = records
            .iter()
            .filter_map(|r| match r {
                Record::Ubus { method, msg } if method == "set" => Some(msg),
                _ => None,
            })
            .collect();
        assert_eq!(sets.len(), 1, "{records:?}");
        assert_eq!(instance(sets[0]), None);
        assert!(!records
            .iter()
            .any(|r| matches!(r, Record::Ubus { method, .. } if method == "signal")));
    }
}

// ---------------------------------------------------------------------
// Validation against the daemon's schema.

/// The datatype the init script must give an option of this kind.
fn expected_datatype(spec: &OptionSpec) -> String {
    const IFNAME: &str = "and(hostname,rangelength(1,15))";
    let one = match spec.kind {
        Kind::Bool(_) => "bool".to_owned(),
        // range() reads a C int.
        Kind::Integer { min, max, .. } if max > i32::MAX as u64 => {
            assert_eq!(min, 0);
            "uinteger".to_owned()
        }
        Kind::Integer { min, max, .. } => format!("and(uinteger,range({min},{max}))"),
        Kind::Word { words, aliases, .. } => {
            let all: Vec<String> = words
                .iter()
                .chain(aliases.iter().map(|(a, _)| a))
                .map(|w| format!("'{w}'"))
                .collect();
            format!("or({})", all.join(","))
        }
        Kind::Host(_) => "host".to_owned(),
        Kind::Domain(_) => "hostname".to_owned(),
        Kind::AgentAddress(_) => format!("or(ipaddr,{IFNAME})"),
        Kind::Interface(_) => IFNAME.to_owned(),
        Kind::Bss(_) => format!("or(macaddr,{IFNAME})"),
        Kind::SocketPath(_) => "and(rangelength(1,107),regex('/.*'))".to_owned(),
    };
    if spec.list {
        format!("list({one})")
    } else {
        one
    }
}

/// The script's validate_data tuples: (section type, option) -> (datatype,
/// default).
fn script_validation() -> BTreeMap<(String, String), (String, Option<String>)> {
    let tmp = TempDir::new("openwrt-init-validation");
    let dump = stdout_of(
        Command::new("sh")
            .arg(shim().join("rc.common"))
            .arg(repo().join("openwrt/files/wsflowd.init"))
            .arg("dump-validation")
            .env("SHIM_OUT", tmp.path().join("out")),
    );
    let mut tuples = BTreeMap::new();
    for line in dump.lines() {
        let (section, tuple) = line.split_once('\t').unwrap();
        // validate_data's parse_tuple: OPTION:DATATYPE[:DEFAULT].
        let mut parts = tuple.splitn(3, ':');
        let option = parts.next().unwrap().to_owned();
        let datatype = parts.next().unwrap().to_owned();
        let default = parts.next().map(str::to_owned);
        assert!(
            tuples
                .insert((section.to_owned(), option), (datatype, default))
                .is_none(),
            "{line}: twice"
        );
    }
    tuples
}

#[test]
fn validation_has_every_option_with_its_datatype_and_default() {
    let tuples = script_validation();
    let mut seen = BTreeSet::new();
    for spec in SCHEMA {
        let key = (spec.section.to_owned(), spec.name.to_owned());
        let (datatype, default) = tuples
            .get(&key)
            .unwrap_or_else(|| panic!("the init script does not validate {key:?}"));
        assert_eq!(datatype, &expected_datatype(spec), "{key:?}");
        assert_eq!(default.as_deref(), spec.default, "{key:?}: default");
        seen.insert(key);
    }
    let extra: Vec<_> = tuples.keys().filter(|k| !seen.contains(*k)).collect();
    assert!(
        extra.is_empty(),
        "options the daemon does not know: {extra:?}"
    );

    // What procd is given for "ubus call service validate" is the same.
    let (set, _) = Device::new(&["sh".to_owned()], WITH_COLLECTOR).start();
    let mut registered = BTreeMap::new();
    for v in set["validate"].as_array().unwrap() {
        assert_eq!(v["package"], "wsflowd");
        for (option, datatype) in v["data"].as_object().unwrap() {
            registered.insert(
                (v["type"].as_str().unwrap().to_owned(), option.clone()),
                datatype.as_str().unwrap().to_owned(),
            );
        }
    }
    let dumped: BTreeMap<_, _> = tuples.into_iter().map(|(k, (d, _))| (k, d)).collect();
    assert_eq!(registered, dumped);
    println!(
        "{} options: datatype and default as in the daemon's schema",
        SCHEMA.len()
    );
}

/// Values worth trying for an option of this kind: the edges of the
/// daemon's rules and of ubox's (octal, hexadecimal, C's strtol, musl's
/// inet_pton and ether_aton), then random text.
fn corpus(spec: &OptionSpec, rng: &mut Rng) -> Vec<String> {
    let mut v: Vec<String> = [" ", "x y", "'", "a\nb", "\t", "-", "_", "."]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let names = [
        "eth0",
        "wlan0",
        "phy0-ap0",
        "br-lan",
        "eth0.1",
        "a",
        "abcdefghijklmno",
        "abcdefghijklmnop",
        ".",
        "..",
        "...",
        "a..b",
        "eth0.",
        ".eth0",
        "a/b",
        "a:b",
        "a%b",
        "wlan%d",
        "a\tb",
        "éé",
        "-a",
        "a-",
        "a_b",
        "_",
        "1234",
        "1.2.3.4",
        "1.2.3",
        "01.2.3.4",
        "256.1.1.1",
        "0123456789ab",
        "wlan0 eth0",
        "a b",
        "a\u{a0}b",
        "A",
        "WLAN0",
        "a+b",
        "a@b",
        "a,b",
        "a'b",
        "a\"b",
        "a$b",
        "a\\b",
        "a(b)",
    ];
    let addresses = [
        "192.0.2.1",
        "0.0.0.0",
        "255.255.255.255",
        "256.1.1.1",
        "1.2.3",
        "1.2.3.4.5",
        "01.2.3.4",
        "1.2.3.04",
        "1.2.3.4/24",
        "1.2.3.4:6343",
        "1.2.3.4.",
        " 1.2.3.4",
        "::",
        "::1",
        "2001:db8::10",
        "2001:DB8::A",
        "2001:db8:0:0:0:0:0:1",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7::",
        "::1:2:3:4:5:6:7",
        "1::2:3:4:5:6:7",
        "::2:3:4:5:6:7:8",
        "1::3:4:5:6:7:8",
        "::1:2:3:4:5:6:7:8",
        "1:::2",
        "12345::1",
        "::ffff:1.2.3.4",
        "::ffff:1.2.3",
        "::ffff:01.2.3.4",
        "1:2:3:4:5:6:1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4",
        "::1.2.3.4",
        "1::1.2.3.4",
        "fe80::1%eth0",
        "[2001:db8::1]",
        "[2001:db8::1]:6343",
        "[1.2.3.4]",
        "[]",
        "[::1",
        "2001:db8::1:6343",
        ":1::",
        "1:",
        "example.com",
        "example.com.",
        "example..com",
        "a.",
        "-a.com",
        "a-.com",
        "a-b.com",
        "a_b.com",
        "xn--bcher-kva.example",
        "host.123",
        "123",
        "1e3",
        "sflow.example.net.",
        "ünicode.de",
        "localhost",
        "0x7f.1",
        "com",
        "_a.example",
        "a.-b.example",
        "12.example",
        "sflow.example.123",
        "0a.1.2.3",
    ];
    let label63 = "a".repeat(63);
    let long: Vec<String> = vec![
        format!("{label63}.com"),
        format!("{label63}a.com"),
        format!("com.{label63}a"),
        "c".repeat(255),
        "c".repeat(256),
        long_name(253),
        format!("{}.", long_name(253)),
        long_name(254),
        long_name(300),
    ];
    let macs = [
        "02:00:5e:10:00:01",
        "02-00-5E-10-00-01",
        "02:00-5e:10:00:01",
        "03:00:5e:10:00:01",
        "00:00:00:00:00:00",
        "02:00:5e:10:00",
        "02:00:5e:10:00:01:02",
        "0g:00:5e:10:00:01",
        "fe:ff:ff:ff:ff:ff",
        "FF:FF:FF:FF:FF:FF",
        "2:0:5e:10:0:1",
        ":::::",
        "02:::::",
        " 2:0:5e:10:0:1",
        "+2:0:5e:10:0:1",
        "-0:0:0:0:0:0",
        "0x2:0:5e:10:0:1",
        "002:00:5e:10:00:01",
        "02:00:5e:10:00:01 phy0-ap0",
        "0200.5e10.0001",
        "02005e100001",
        "02:00:5e:10:00:1ff",
    ];
    match spec.kind {
        Kind::Integer { min, max, .. } => {
            for n in [
                0,
                1,
                min.saturating_sub(1),
                min,
                min + 1,
                max - 1,
                max,
                max + 1,
            ] {
                v.push(n.to_string());
                v.push(format!("0{n}"));
                v.push(format!("00{n}"));
                v.push(format!("0x{n:x}"));
                v.push(format!("0X{n:X}"));
            }
            for s in [
                "-0",
                "-1",
                "+1",
                " 1",
                "1 ",
                "1.0",
                "1e3",
                "0x",
                "0x1g",
                "08",
                "09",
                "0128",
                "010",
                "0100000",
                "0177777",
                "037777777777",
                "abc",
                "a1",
                "f",
                "0xff",
                "2147483647",
                "2147483648",
                "4294967295",
                "4294967296",
                "4294967297",
                "4294967312",
                "18446744073709551615",
                "18446744073709551616",
                "99999999999999999999",
                "٣",
            ] {
                v.push(s.into());
            }
            for _ in 0..400 {
                v.push(random_text(
                    rng,
                    &["0", "1", "5", "9", "x", "a", "-", "+", ".", " "],
                    12,
                ));
            }
        }
        Kind::Word { words, aliases, .. } => {
            for w in words.iter().chain(aliases.iter().map(|(a, _)| a)) {
                v.push(w.to_string());
                v.push(w.to_uppercase());
                v.push(format!("{w}'"));
                v.push(format!("{w}x"));
                v.push(format!(" {w}"));
                v.push(format!("{w} {w}"));
                v.push(w[..w.len() - 1].to_owned());
            }
            for _ in 0..200 {
                v.push(random_text(rng, &["a", "u", "t", "o", "'", "\\", " "], 6));
            }
        }
        Kind::Bool(_) => {
            for b in [
                "0", "1", "on", "off", "yes", "no", "true", "false", "enabled", "disabled",
            ] {
                v.push(b.into());
                v.push(b.to_uppercase());
                v.push(format!("{b}x"));
            }
            v.extend(["2", "y", "n", "01"].map(String::from));
        }
        Kind::Host(_) | Kind::AgentAddress(_) | Kind::Domain(_) => {
            v.extend([".example.com", "._sflow._udp.example.com", "local"].map(String::from));
            v.extend(addresses.iter().map(|s| s.to_string()));
            v.extend(names.iter().map(|s| s.to_string()));
            v.extend(long);
            let alphabet = [
                "0", "1", "2", "9", "a", "f", "F", "g", "z", ":", ":", ".", ".", "[", "]", "-",
                "_", "%", "/", " ",
            ];
            for _ in 0..3000 {
                v.push(random_text(rng, &alphabet, 18));
            }
            for _ in 0..2000 {
                v.push(random_text(
                    rng,
                    &[
                        "0", "1", "ff", "abcd", "12345", ":", ":", ":", ".", "1.2.3.4", "::",
                    ],
                    12,
                ));
            }
        }
        Kind::Interface(_) | Kind::Bss(_) => {
            v.extend(names.iter().map(|s| s.to_string()));
            v.extend(addresses.iter().take(20).map(|s| s.to_string()));
            v.extend(macs.iter().map(|s| s.to_string()));
            for _ in 0..2000 {
                v.push(random_text(
                    rng,
                    &[
                        "0", "2", "a", "F", "x", ":", "-", ".", "/", " ", "é", "_", "%", "+",
                    ],
                    18,
                ));
            }
        }
        Kind::SocketPath(_) => {
            for s in [
                "/var/run/hostapd",
                "/var/run/ubus/ubus.sock",
                "var/run",
                "./x",
                "/",
                "//",
                "/a b",
            ] {
                v.push(s.into());
            }
            for n in [106, 107, 108] {
                v.push(format!("/{}", "p".repeat(n - 1)));
            }
        }
    }
    v.retain(|s| !s.is_empty());
    v
}

/// Why ubox's verdict on a value differs from the daemon's, when that is
/// expected: either ubox's datatypes are looser (the daemon's check, which
/// runs before every start, refuses the value with a message naming it),
/// or stricter (a value nobody writes, which the daemon reads). None for a
/// difference that is not expected.
fn deliberate_difference(
    spec: &OptionSpec,
    value: &str,
    target: Target,
    ubox: bool,
) -> Option<&'static str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let hex_prefix = |s: &str| {
        let s = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
        let s = s.strip_prefix(['+', '-']).unwrap_or(s);
        s.starts_with("0x") || s.starts_with("0X")
    };
    let dotted_digits =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let in_hostname_alphabet = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let labels_ok = |s: &str| !s.is_empty() && s.split('.').all(|l| !l.is_empty() && l.len() <= 63);
    let bracketed_v6 = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .is_some_and(|v| v.parse::<std::net::Ipv6Addr>().is_ok());
    match spec.kind {
        Kind::Integer { max, .. } => {
            if value.len() > 1 && value.starts_with('0') && digits(value) {
                return Some("a number with a leading zero: range() reads it as octal (strtol, base 0), the daemon as decimal");
            }
            if hex_prefix(value) && ubox {
                return Some("0x: uinteger and range() read hexadecimal (strtoul/strtol, base 0), the daemon decimal digits only");
            }
            // Decimal digits beyond what a C int or unsigned long holds.
            let big = |limit: u64| {
                digits(value) && value.parse::<u128>().is_ok_and(|n| n > u128::from(limit))
            };
            if ubox && target == Target::Long64 && max <= i32::MAX as u64 && big(i32::MAX as u64) {
                return Some("beyond 2^31 on a 64-bit target: range() keeps the low 32 bits of strtol's long in an int");
            }
            if ubox && max > i32::MAX as u64 && big(u64::from(u32::MAX)) {
                return Some("beyond 2^32: uinteger has no upper bound (strtoul's overflow is not looked at)");
            }
            // The daemon's one rule between two options, with the default
            // header_bytes.
            let header: u64 = config::option_spec("agent", "header_bytes")
                .and_then(|s| s.default)
                .unwrap()
                .parse()
                .unwrap();
            let below = value
                .parse::<u64>()
                .is_ok_and(|n| n < header + u64::from(config::DATAGRAM_HEADROOM));
            (ubox && digits(value) && spec.name == "datagram_bytes" && below).then_some(
                "datagram_bytes below header_bytes + 256: a rule between two options, which validate_data cannot express",
            )
        }
        Kind::Word { words, aliases, .. } => {
            let all = || words.iter().copied().chain(aliases.iter().map(|(a, _)| *a));
            if !ubox && all().any(|w| w.eq_ignore_ascii_case(value.trim())) {
                return Some("case (or spaces around a word of a list): validate_data's string literals compare exactly, the daemon takes any case");
            }
            if ubox && all().any(|w| value == format!("{w}'")) {
                return Some("a word followed by a quote: dt_test_string in validate.c reads past the literal's closing quote");
            }
            None
        }
        Kind::Host(_)
        | Kind::Domain(_)
        | Kind::AgentAddress(_)
        | Kind::Interface(_)
        | Kind::Bss(_)
            if ubox =>
        {
            if let Kind::Bss(_) = spec.kind {
                if let Some(mac) = config::parse_mac(value) {
                    if mac[0] & 1 != 0 || mac == [0; 6] {
                        return Some("a group or all-zero BSSID: macaddr takes any address, the daemon only a BSS's own (unicast)");
                    }
                }
                if value.contains(':') {
                    return Some("a MAC address as musl's ether_aton reads it: fields of 0 to 2 digits, with spaces, a sign or 0x, which the daemon refuses");
                }
            }
            let name = value.strip_suffix('.').unwrap_or(value);
            let last = name.rsplit('.').next().unwrap_or("");
            if value
                .split(' ')
                .any(|w| dotted_digits(w) && w.parse::<std::net::Ipv4Addr>().is_err())
                || digits(last)
            {
                return Some("digits and dots, or a name ending in a number: hostname takes it, the daemon refuses what reads as a mistyped IPv4 address");
            }
            if matches!(spec.kind, Kind::Host(_) | Kind::Domain(_)) {
                if value
                    .split('.')
                    .any(|l| l.starts_with('-') || l.ends_with('-') || l.contains('_'))
                {
                    return Some("'_', or '-' at the start or end of a label: hostname takes them, the daemon keeps to RFC 1123");
                }
                if value.len() > 253 || value.split('.').any(|l| l.len() > 63) {
                    return Some("length: hostname allows 255 characters in the last label and any length in all, the daemon 63 and 253");
                }
            }
            None
        }
        Kind::Host(_)
        | Kind::Domain(_)
        | Kind::AgentAddress(_)
        | Kind::Interface(_)
        | Kind::Bss(_) => {
            if bracketed_v6 {
                return Some("an IPv6 address in brackets: ipaddr takes none");
            }
            if matches!(spec.kind, Kind::Host(_) | Kind::Domain(_))
                && value.ends_with('.')
                && labels_ok(&value[..value.len() - 1])
            {
                return Some("a host name with a final dot: hostname refuses the empty last label");
            }
            if matches!(spec.kind, Kind::Bss(_))
                && value.contains('-')
                && config::parse_mac(value).is_some()
            {
                return Some("a BSSID written with '-': ether_aton takes ':' only");
            }
            if !matches!(spec.kind, Kind::Host(_) | Kind::Domain(_))
                && (!in_hostname_alphabet(value) || !labels_ok(value))
            {
                return Some("a device name outside hostname's rules (%, non-ASCII, other punctuation, an empty label as in 'a..b' or 'eth0.'): the kernel takes it, no OpenWrt device has it");
            }
            None
        }
        _ => None,
    }
}

#[test]
fn validation_agrees_with_the_daemon_but_for_listed_reasons() {
    let tuples = script_validation();
    let mut rng = Rng::from_seed(0x0b0c_5a1d_0000_0001);
    let mut compared = 0;
    let mut agreed = 0;
    let mut values = 0;
    let mut mismatches = Vec::new();
    let mut deliberate: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for spec in SCHEMA {
        let (datatype, _) = &tuples[&(spec.section.to_owned(), spec.name.to_owned())];
        let mut seen = BTreeSet::new();
        for value in corpus(spec, &mut rng) {
            if !seen.insert(value.clone()) {
                continue;
            }
            values += 1;
            let daemon = daemon_accepts(spec, &value, "");
            for target in [Target::Long32, Target::Long64] {
                let ubox = ubox_validate::valid(datatype, &value, target);
                compared += 1;
                if ubox == daemon {
                    agreed += 1;
                    continue;
                }
                let direction = if ubox { "ubox looser" } else { "ubox stricter" };
                match deliberate_difference(spec, &value, target, ubox) {
                    Some(why) => deliberate
                        .entry((direction, why))
                        .or_default()
                        .push(format!(
                            "{}.{}={value:?} ({target:?})",
                            spec.section, spec.name
                        )),
                    None => mismatches.push(format!(
                        "{}.{} = {value:?} on {target:?}: validate_data {}, the daemon {}",
                        spec.section,
                        spec.name,
                        if ubox { "accepts" } else { "refuses" },
                        if daemon { "accepts" } else { "refuses" }
                    )),
                }
            }
        }
    }
    println!(
        "{values} values, {compared} verdicts of validate_data (32- and 64-bit long) compared with the daemon's: {agreed} agree; the others, by reason:"
    );
    for ((direction, why), list) in &deliberate {
        println!(
            "  {:5} {direction}: {why}; e.g. {}",
            list.len(),
            list[..list.len().min(3)].join(", ")
        );
    }
    assert!(
        mismatches.is_empty(),
        "{} unexplained differences:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(60)].join("\n")
    );
    assert!(compared > 20_000, "{compared}");
}

#[test]
fn the_script_and_the_shims_pass_shellcheck() {
    let test = "the_script_and_the_shims_pass_shellcheck";
    if !common::tool_or_skip("shellcheck", test) {
        return;
    }
    let files: Vec<PathBuf> = [
        "functions.sh",
        "procd.sh",
        "rc.common",
        "bin/logger",
        "bin/uname",
    ]
    .iter()
    .map(|f| shim().join(f))
    .collect();
    for file in &files {
        let args = ["--shell=sh", "-x", "--exclude=SC1091"];
        common::assert_shellcheck_passes(file, &args, Some(&shim()));
    }
}

/// The port of ubox's checks against the real validate_data, on every
/// value of the corpus: `WSFLOWD_VALIDATE_DATA` is the command (with its
/// runner, e.g. "qemu-mips-static /path/validate_data"), built from
/// openwrt/ubox (validate/) with musl; `WSFLOWD_VALIDATE_LONG` 32 or 64,
/// the width of its C long. By hand: `cargo test --test openwrt_init --
/// --ignored`.
#[test]
#[ignore]
fn real_validate_data_by_hand() {
    let test = "real_validate_data_by_hand";
    let Ok(command) = std::env::var("WSFLOWD_VALIDATE_DATA") else {
        eprintln!("{test}: set WSFLOWD_VALIDATE_DATA to validate_data (and its runner)");
        return;
    };
    let target = match std::env::var("WSFLOWD_VALIDATE_LONG").as_deref() {
        Ok("32") => Target::Long32,
        Ok("64") => Target::Long64,
        _ => panic!("{test}: set WSFLOWD_VALIDATE_LONG to 32 or 64"),
    };
    let command: Vec<&str> = command.split_whitespace().collect();
    let tuples = script_validation();
    let mut rng = Rng::from_seed(0x0b0c_5a1d_0000_0001);
    let mut pairs = BTreeSet::new();
    for spec in SCHEMA {
        let (datatype, _) = &tuples[&(spec.section.to_owned(), spec.name.to_owned())];
        for value in corpus(spec, &mut rng) {
            pairs.insert((datatype.clone(), value));
        }
    }
    let mut differ = Vec::new();
    for (datatype, value) in &pairs {
        let real = Command::new(command[0])
            .args(&command[1..])
            .arg(datatype)
            .arg(value)
            .output()
            .unwrap()
            .status
            .success();
        if real != ubox_validate::valid(datatype, value, target) {
            differ.push(format!("{datatype} {value:?}: validate_data says {real}"));
        }
    }
    println!(
        "{} (datatype, value) pairs: the port and validate_data ({target:?}) differ on {}",
        pairs.len(),
        differ.len()
    );
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
