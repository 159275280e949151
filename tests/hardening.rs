//! What an adversarial probe of the agent found, each asserted: a
//! configuration that would block (a FIFO) or is too large, a ubus broker
//! that flaps or never greets, a second agent on the same configuration,
//! per-frame log floods, a collector nobody listens to, and no capture
//! permission. Namespaces and sockets are the tests' own and removed.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

fn check_config(path: &std::path::Path) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let out = Command::new(wsflowd())
        .arg("--check-config")
        .arg("-c")
        .arg(path)
        .output()
        .unwrap();
    (out, started.elapsed())
}

fn mkfifo(path: &std::path::Path) {
    sh(&["mkfifo", path.to_str().unwrap()]);
}

/// `--check-config` on a FIFO, a directory and a 10 MB file: refused at
/// once, saying why.
#[test]
fn check_config_refuses_what_is_not_a_small_regular_file() {
    let dir = TempDir::new("check-fifo");
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let big = dir.path().join("big");
    std::fs::write(&big, vec![b'#'; 10 << 20]).unwrap();
    for (path, says) in [
        (fifo.as_path(), "a FIFO, not a regular file"),
        (dir.path(), "a directory, not a regular file"),
        (big.as_path(), "file too large"),
    ] {
        let (out, took) = check_config(path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!(
            "--check-config on {says}: exit {:?} in {took:?}",
            out.status.code()
        );
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
}

fn agent_config(collector_port: u16, extra: &str) -> String {
    format!(
        "config agent 'agent'
	option sampling_rate '2'
	option polling_interval '0'
	list interface 'veth-a'
{extra}
config collector
	option address '127.0.0.1'
	option port '{collector_port}'
"
    )
}

/// The configuration replaced by a FIFO, then SIGHUP: the reload is
/// refused at once and the agent goes on sampling with the running
/// configuration (the loop never waits for a writer).
#[test]
fn a_fifo_reload_is_refused_and_sampling_goes_on() {
    if !root_or_skip("a_fifo_reload_is_refused_and_sampling_goes_on") {
        return;
    }
    let net = VethPair::new();
    let collector = Collector::start(&net.a);
    let cfg = TempConfig::new(&agent_config(collector.port, ""));
    let agent = AgentProcess::start(&net.a, &cfg.path);
    assert!(agent.wait_for_log("sampling veth-a", Duration::from_secs(5)));
    std::fs::remove_file(&cfg.path).unwrap();
    mkfifo(&cfg.path);
    let (stop, sender) = traffic(&net.b, "10.201.0.1");
    thread::sleep(Duration::from_millis(300));
    let hup = Instant::now();
    agent.signal(libc::SIGHUP);
    assert!(
        agent.wait_for_log("reload refused", Duration::from_secs(2)),
        "the reload was not refused"
    );
    let refused_after = hup.elapsed();
    thread::sleep(Duration::from_millis(2_000));
    stop.store(true, Ordering::Relaxed);
    let sent = sender.join().unwrap();
    thread::sleep(Duration::from_millis(1_200));
    let after = flow_samples(
        &collector.snapshot(),
        hup + Duration::from_millis(200),
        Instant::now(),
    );
    println!(
        "FIFO reload refused after {refused_after:?}; {} flow samples after it ({sent} packets sent)",
        after.len()
    );
    assert!(agent.log_contains("a FIFO, not a regular file"));
    assert!(
        after.len() > 100,
        "sampling stopped: {} samples",
        after.len()
    );
    assert!(agent.stop().success());
}

/// A second agent with the same configuration refuses to start, saying
/// why; one configured as another sub-agent runs; a reload to a sub-agent
/// id in use is refused.
#[test]
fn one_agent_per_sub_agent_id() {
    if !root_or_skip("one_agent_per_sub_agent_id") {
        return;
    }
    let net = VethPair::new();
    let collector = Collector::start(&net.a);
    let cfg = TempConfig::new(&agent_config(collector.port, ""));
    let first = AgentProcess::start(&net.a, &cfg.path);
    assert!(first.wait_for_log("sampling veth-a", Duration::from_secs(5)));
    let out = net
        .a
        .command(wsflowd().to_str().unwrap())
        .args(["--foreground", "--config"])
        .arg(&cfg.path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("second agent: exit {:?}: {stderr}", out.status.code());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("another wsflowd already runs as sub-agent 0"),
        "{stderr}"
    );

    let other = TempConfig::new(&agent_config(collector.port, "\toption sub_agent_id '1'\n"));
    let second = AgentProcess::start(&net.a, &other.path);
    assert!(second.wait_for_log("sampling veth-a", Duration::from_secs(5)));
    // The second one reloaded as sub-agent 0, which the first one is.
    other.rewrite(&agent_config(collector.port, ""));
    second.signal(libc::SIGHUP);
    assert!(second.wait_for_log("reload refused", Duration::from_secs(2)));
    assert!(second.log_contains("another wsflowd already runs as sub-agent 0"));
    // Another id is fine, and frees 1.
    other.rewrite(&agent_config(collector.port, "\toption sub_agent_id '2'\n"));
    second.signal(libc::SIGHUP);
    assert!(second.wait_for_log("configuration reloaded", Duration::from_secs(2)));
    assert!(second.stop().success());
    assert!(first.stop().success());
}

/// A broker that accepts every connection and drops it at once: the agent
/// backs off as with no broker at all (1, 2, 4, 8 s...) and says so a few
/// times only; one that accepts and never greets is given up after 5 s.
#[test]
fn a_flapping_or_silent_broker_is_retried_with_backoff() {
    for (kind, window, expected) in [("drops", 16_000, 4..=5), ("silent", 14_000, 2..=3)] {
        let dir = TempDir::new("flap");
        let socket = dir.path().join("ubus.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        listener.set_nonblocking(true).unwrap();
        let cfg = TempConfig::new(&format!(
            "config agent 'agent'\n\toption ubus_socket '{}'\n\toption sub_agent_id '{}'\n",
            socket.display(),
            sub_agent_id(u32::from(kind == "silent"))
        ));
        let agent = AgentProcess::spawn({
            let mut c = Command::new(wsflowd());
            c.args(["--foreground", "--config"]).arg(&cfg.path);
            c
        });
        let start = Instant::now();
        let mut held = Vec::new();
        let mut accepted = Vec::new();
        while start.elapsed() < Duration::from_millis(window) {
            while let Ok((s, _)) = listener.accept() {
                accepted.push(start.elapsed());
                if kind == "silent" {
                    held.push(s);
                }
            }
            thread::sleep(Duration::from_millis(20));
        }
        let lines = agent
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("ubus"))
            .cloned()
            .collect::<Vec<_>>();
        println!(
            "broker that {kind}: {} connections in {} s at {:?}; {} log lines about ubus: {lines:?}",
            accepted.len(),
            window / 1000,
            accepted.iter().map(|d| d.as_millis()).collect::<Vec<_>>(),
            lines.len()
        );
        assert!(expected.contains(&accepted.len()), "{accepted:?}");
        assert!(lines.len() <= 4, "{lines:?}");
        if kind == "silent" {
            assert!(lines
                .iter()
                .any(|l| l.contains("sent no greeting within 5 s")));
        }
        drop(agent);
    }
}

/// A sub-agent id per case and test process: agents that run in this
/// namespace (not one of the tests' own) never share one.
fn sub_agent_id(case: u32) -> u32 {
    std::process::id() * 4 + case
}

/// The largest configuration the agent accepts (64 interfaces, 16
/// collectors, 32 BSSes per monitor) and its memory; the one past it is
/// refused, naming the option.
#[test]
fn the_largest_configuration_and_its_memory() {
    // Another sub-agent id than the other tests of this file that run an
    // agent in this namespace.
    let mut text =
        String::from("config agent 'agent'\n\toption ring_kib '16'\n\toption sub_agent_id '201'\n");
    for i in 0..32 {
        text.push_str(&format!("\tlist interface 'wlan{i}'\n"));
    }
    for i in 0..32 {
        text.push_str(&format!("config interface\n\toption device 'mon{i}'\n"));
        for b in 0..32 {
            text.push_str(&format!("\tlist bss '02:00:00:00:{i:02x}:{b:02x}'\n"));
        }
    }
    for i in 0..16 {
        text.push_str(&format!(
            "config collector\n\toption address '192.0.2.{i}'\n\toption port '{}'\n",
            6343 + i
        ));
    }
    let cfg = TempConfig::new(&text);
    let (out, _) = check_config(&cfg.path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let agent = AgentProcess::spawn({
        let mut c = Command::new(wsflowd());
        c.args(["--foreground", "--config"]).arg(&cfg.path);
        c
    });
    assert!(agent.wait_for_log("64 interfaces do not exist (yet)", Duration::from_secs(5)));
    thread::sleep(Duration::from_millis(1_500));
    let rss_kb = process::status_kib(agent.child.id(), "VmRSS:");
    assert!(rss_kb > 0, "VmRSS of the agent");
    println!(
        "largest configuration: {} bytes, 64 interfaces, 16 collectors, 1024 BSSes: RSS {rss_kb} kB, {} log lines",
        text.len(),
        agent.log.lock().unwrap().len()
    );
    assert!(rss_kb < 16 * 1024, "RSS {rss_kb} kB");
    // One more interface is refused.
    cfg.rewrite(&text.replace(
        "\tlist interface 'wlan0'\n",
        "\tlist interface 'wlan0'\n\tlist interface 'extra'\n",
    ));
    let (out, took) = check_config(&cfg.path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("too many interfaces: at most 64"),
        "{stderr}"
    );
    println!("65 interfaces refused in {took:?}: {stderr}");
}

/// Garbage on a monitor interface at the debug level: the "rejected" line
/// at most 5 times per 10 s, not once per frame.
#[test]
fn per_frame_debug_lines_are_rate_limited() {
    if !root_or_skip("per_frame_debug_lines_are_rate_limited") {
        return;
    }
    let ns = Netns::new("wsfmon");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    // The TAP lives as long as its descriptor: its thread writes the
    // frames (they arrive on mon0 as received) and keeps it until the end.
    let tap = ns.spawn(move || {
        let mut tap = monitor_tap("mon0").unwrap();
        ready_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        // Not radiotap: version 1.
        let frame = [1u8; 64];
        for _ in 0..20_000 {
            tap.write_all(&frame).unwrap();
        }
        let _ = done_rx.recv();
    });
    ready_rx.recv().unwrap();
    ns.exec(&["ip", "link", "set", "mon0", "up"]);
    let cfg = TempConfig::new(
        "config agent 'agent'\n\toption sampling_rate '1'\n\tlist interface 'mon0'\nconfig interface\n\toption device 'mon0'\n\toption foreign_bss 'discard'\n",
    );
    let mut command = ns.command(wsflowd().to_str().unwrap());
    command
        .args(["--foreground", "-l", "debug", "--config"])
        .arg(&cfg.path);
    let agent = AgentProcess::spawn(command);
    assert!(agent.wait_for_log("sampling mon0", Duration::from_secs(5)));
    go_tx.send(()).unwrap();
    thread::sleep(Duration::from_millis(2_500));
    let rejected = agent.log_count("monitor frame rejected");
    println!("20,000 garbage frames at -l debug: {rejected} 'rejected' lines");
    assert!((1..=5).contains(&rejected), "{rejected} lines");
    assert!(agent.stop().success());
    let _ = done_tx.send(());
    tap.join().unwrap();
}

/// Nothing listens at the collector's port: the agent says so once, and
/// counts the errors in its status; without CAP_NET_RAW it says it cannot
/// capture, as an error, in the log and the status.
#[test]
fn unreachable_collectors_and_missing_capabilities_are_reported() {
    if !root_or_skip("unreachable_collectors_and_missing_capabilities_are_reported") {
        return;
    }
    // The package's ubusd ACL, for the test's unprivileged user: ubusd
    // refuses publishing our object to anyone else but root.
    let acl = TempDir::new("acl");
    let ours =
        std::fs::read_to_string(source_dir().join("openwrt/files/wsflowd.acl.json")).unwrap();
    let ours = ours.replace("\"user\": \"wsflowd\"", "\"user\": \"nobody\"");
    std::fs::write(acl.path().join("wsflowd.json"), ours).unwrap();
    let Some(broker) =
        ubusd::Broker::start_with_acl_or_skip("unreachable_collectors", Some(acl.path()))
    else {
        return;
    };
    let net = VethPair::new();
    let closed = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let cfg = TempConfig::new(&format!(
        "config agent 'agent'\n\toption polling_interval '1'\n\toption ubus_socket '{}'\n\tlist interface 'veth-a'\nconfig collector\n\toption address '127.0.0.1'\n\toption port '{closed}'\n",
        broker.socket.display()
    ));
    // The broker's socket is root's: let nobody reach it.
    for p in [&broker.dir, &broker.socket] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    // As nobody with no capability at all.
    let agent = AgentProcess::start_as_nobody(&net.a, &cfg, None);
    assert!(agent.wait_for_log("ubus: connected", Duration::from_secs(5)));
    assert!(agent.wait_for_log("port unreachable", Duration::from_secs(5)));
    thread::sleep(Duration::from_millis(2_000));
    let status = ubusd::ubus_call(&broker.socket, "wsflowd", "status").unwrap();
    println!(
        "status: collectors {} errors {}",
        status["collectors"], status["errors"]
    );
    let c = &status["collectors"][0];
    assert!(c["send_errors"].as_i64().unwrap() >= 1, "{c}");
    assert!(
        c["last_error"]
            .as_str()
            .unwrap()
            .contains("port unreachable"),
        "{c}"
    );
    assert_eq!(agent.log_count("port unreachable"), 1);
    let lines = agent.log.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("error: cannot capture on veth-a") && l.contains("CAP_NET_RAW")),
        "{lines:?}"
    );
    let errors = status["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().contains("CAP_NET_RAW")),
        "{errors:?}"
    );
    assert!(status["interfaces"][0]["error"]
        .as_str()
        .unwrap()
        .contains("CAP_NET_RAW"));
}
