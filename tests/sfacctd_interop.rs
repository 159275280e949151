//! The pmacct path, as root: the real agent (with hostapd over ubus, so its
//! datagrams carry the 802.11 records and counters that sfacctd does not
//! know and must skip) sends to Debian's `sfacctd` (pmacct), which
//! renormalizes the 1-in-10 samples (`sfacctd_renormalize: true`) and
//! prints per-flow totals to a file; the flow's total must match the known
//! traffic within 4 standard deviations of the sampling.

mod common;

use std::process::{Child, Stdio};
use std::thread;
use std::time::Duration;

use common::ap_lab::ApLab;
use common::fake_hostapd::FakeHostapd;
use common::ubusd::Broker;
use common::*;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sums the PACKETS and BYTES columns of the CSV rows whose SRC_IP is
/// `source` and PROTOCOL `protocol`.
fn totals(csv: &str, source: &str, protocol: &str) -> (u64, u64) {
    let mut lines = csv.lines();
    let Some(title) = lines.next() else {
        return (0, 0);
    };
    let columns: Vec<&str> = title.split(',').collect();
    let col = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .unwrap_or_else(|| panic!("no {name} column in {title}"))
    };
    let (src, proto, packets, bytes) =
        (col("SRC_IP"), col("PROTOCOL"), col("PACKETS"), col("BYTES"));
    let mut sum = (0, 0);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() == columns.len() && f[src] == source && f[proto].eq_ignore_ascii_case(protocol) {
            sum.0 += f[packets].parse::<u64>().unwrap();
            sum.1 += f[bytes].parse::<u64>().unwrap();
        }
    }
    sum
}

#[test]
fn sfacctd_renormalizes_the_agents_samples() {
    const TEST: &str = "sfacctd_renormalizes_the_agents_samples";
    if !root_or_skip(TEST) || !tool_with_or_skip("sfacctd", "-V", TEST) {
        return;
    }
    let Some(broker) = Broker::start_or_skip(TEST) else {
        return;
    };
    let lab = ApLab::new("wsfsa", "wsfss", 210);
    // A second address of the station: a second flow.
    lab.sta
        .exec(&["ip", "addr", "add", "10.210.0.3/24", "dev", "sta0"]);
    lab.static_neighbours("10.210.0.1", &["10.210.0.2", "10.210.0.3"]);
    let (ap, sta) = (&lab.ap, &lab.sta);

    let fake = FakeHostapd::start(&broker.socket);
    fake.add_bss(lab.bss("wsflowd-lab"));
    fake.sync();

    let dir = TempDir::new("sfacctd");
    let csv = dir.path().join("flows.csv");
    let config = dir.path().join("sfacctd.conf");
    std::fs::write(
        &config,
        format!(
            "daemonize: false
pidfile: {}
sfacctd_ip: 127.0.0.1
sfacctd_port: 6343
sfacctd_renormalize: true
plugins: print[flows]
aggregate[flows]: src_host, dst_host, proto
print_output[flows]: csv
print_output_file[flows]: {}
print_output_file_append[flows]: true
print_refresh_time[flows]: 1
",
            dir.path().join("sfacctd.pid").display(),
            csv.display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("sfacctd.log")).unwrap();
    let _sfacctd = Killed(
        ap.command("sfacctd")
            .arg("-f")
            .arg(&config)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start sfacctd"),
    );
    let (agent, _cfg) = lab.start_agent(&fake, &broker.socket, 10, 6343);
    fake.associate("wlan0", lab.sta_mac, -57);
    fake.sync();
    thread::sleep(Duration::from_millis(1_500));

    // Two flows at once, from two addresses of the station, at different
    // rates. sfacctd renormalizes each sample by the pool since the
    // previous sample of its data source, sample by sample: the agent
    // spreads each ring batch's pool increase evenly over its samples, so
    // that each stands for about N packets and each flow gets its own
    // (were a batch's samples given consecutive pools ending at the
    // batch's, the first of each batch would carry the whole batch to its
    // flow and the flows' totals would swap thousands of packets).
    // A receiver, so that the AP sends no ICMP port unreachable back.
    const FLOWS: [(&str, &str, u32, f64); 2] = [
        ("10.210.0.2", "10.210.0.2:0", 20_000, 10_000.0),
        ("10.210.0.3", "10.210.0.3:0", 8_000, 4_000.0),
    ];
    let payload = 200;
    let sink = udp_sink(ap, "0.0.0.0:9");
    thread::sleep(Duration::from_millis(100));
    let senders: Vec<_> = FLOWS
        .iter()
        .map(|&(_, from, packets, rate)| {
            // The first 500 packets at a tenth of the rate.
            let due = move |i: u32| {
                Duration::from_secs_f64(
                    f64::from(i.min(500)) * 10.0 / rate + f64::from(i.saturating_sub(500)) / rate,
                )
            };
            send_udp_paced(sta, from, "10.210.0.1:9", packets, vec![0; payload], due)
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    sink.join().unwrap();
    // The agent flushes within a second, sfacctd prints every second.
    thread::sleep(Duration::from_millis(3_500));
    assert!(agent.stop().success());
    let text = std::fs::read_to_string(&csv).unwrap_or_default();
    let log = std::fs::read_to_string(dir.path().join("sfacctd.log")).unwrap_or_default();
    for (src, _, sent, _) in FLOWS {
        let (packets, bytes) = totals(&text, src, "udp");
        let sigma = (f64::from(sent) * 10.0 * 0.9).sqrt();
        println!(
            "sfacctd: {src}: {packets} packets {bytes} bytes for {sent} sent ({:+.2} σ)",
            (packets as f64 - f64::from(sent)) / sigma
        );
        assert!(
            (packets as f64 - f64::from(sent)).abs() <= 4.0 * sigma,
            "{src}: {packets} vs {sent} ± {:.0}\n{text}\n{log}",
            4.0 * sigma
        );
        // sfacctd counts the sampled frames' length on the medium: the
        // Ethernet, IPv4 and UDP headers, the payload and the FCS.
        assert_eq!(bytes, packets * (46 + payload as u64));
    }
}
