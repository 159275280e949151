//! The agent on Linux's own Wi-Fi stack: mac80211_hwsim radios in a VM,
//! stock hostapd access points, wpa_supplicant stations in their own
//! network namespaces, the static OpenWrt x86_64 build of the agent
//! (`dist/x86_64/wsflowd`), and what the kernel, iw, hostapd_cli and
//! tcpdump report in the same run as the truth the samples are checked
//! against (with our sFlow decoder and with tshark).
//!
//! `make vm-test` builds the image (`scripts/vm/build_image.py`) and runs
//! this test; without it (plain `cargo test`) the tests here are skipped.
//! One boot runs every scenario of [`SCENARIOS`] in order
//! (`tests/vm/scenarios/<name>.sh`, with `tests/vm/guest/lib.sh`); each
//! test below checks one scenario's outputs and, when a check fails,
//! prints the guest's logs of that scenario. See `tests/vm/rig.rs` for the
//! environment variables (a subset of scenarios, reusing a run's outputs,
//! KVM or TCG).
//!
//! Adding a scenario: a script in `tests/vm/scenarios/`, an entry in
//! [`SCENARIOS`] and a test calling [`scenario`] with its checks.

mod common;
#[path = "vm/observed.rs"]
mod observed;
#[path = "vm/rig.rs"]
mod rig;
#[path = "vm/tshark.rs"]
mod tshark;
#[path = "vm/verdict.rs"]
mod verdict;

use std::collections::BTreeMap;

use observed::*;
use rig::{Scenario, ScenarioOut};
use verdict::{within_4_sigma, Gap, Verdict};
use wsflowd::sflow::Interface;

/// The scenarios, in the order one boot runs them, with the time limit of
/// each in the guest.
const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "ap_sampling",
        guest_seconds: 90,
    },
    Scenario {
        name: "association",
        guest_seconds: 120,
    },
    Scenario {
        name: "monitor",
        guest_seconds: 90,
    },
    Scenario {
        name: "radio_counters",
        guest_seconds: 90,
    },
    Scenario {
        name: "faults",
        guest_seconds: 150,
    },
    Scenario {
        name: "unprivileged",
        guest_seconds: 60,
    },
    Scenario {
        name: "relay",
        guest_seconds: 60,
    },
    Scenario {
        name: "sources",
        guest_seconds: 90,
    },
];

/// Checks that fail with today's agent for want of a feature or because of
/// a known defect (issue 11): `scenario/check` and what is missing. While
/// one fails it is reported as a known gap and `make test` passes; once it
/// passes, the test fails until it is removed from here (unless marked
/// intermittent: seen in some runs only). `WSFLOWD_VM_STRICT=1` makes them
/// ordinary checks.
const KNOWN_AGENT_GAPS: &[Gap] = &[];

// ---------------------------------------------------------------------------
// One scenario's outputs, parsed once

struct Ctx {
    out: ScenarioOut,
    events: Vec<Event>,
    /// facts.log and stations.log, in time order.
    facts: Vec<Fact>,
    sflow: Sflow,
}

impl Ctx {
    fn load(out: ScenarioOut) -> Ctx {
        Ctx {
            events: events(&out),
            facts: all_facts(&out),
            sflow: decode_sflow(&out.bytes("sflow.pcap")),
            out,
        }
    }

    fn events_named(&self, name: &str) -> Vec<&Event> {
        self.events.iter().filter(|e| e.name == name).collect()
    }

    fn dev(&self, name: &str) -> DevInfo {
        dev_info(&self.facts, name)
            .unwrap_or_else(|| panic!("{}: no `iw dev {name} info` recorded", self.out.name))
    }

    /// The interface name each ifindex had (from every `iw dev info`).
    fn names_by_ifindex(&self) -> BTreeMap<u32, String> {
        dev_infos(&self.facts)
            .into_iter()
            .map(|(_, d)| (d.ifindex, d.name))
            .collect()
    }

    fn agent_log(&self, agent: &str) -> String {
        self.out.text(&format!("{agent}.log"))
    }

    /// The configured sampling rate of a device in an agent configuration
    /// (its `interface` section's, else the agent's).
    fn configured_rate(&self, conf_fact: &str, device: &str) -> Option<u32> {
        let conf = self.facts.iter().find(|f| f.name == conf_fact)?;
        let (mut agent_rate, mut section_device, mut section_rate) = (None, None, None);
        let mut found = None;
        let mut in_agent = false;
        let finish = |dev: &Option<String>, rate: Option<u32>, found: &mut Option<u32>| {
            if dev.as_deref() == Some(device) && rate.is_some() {
                *found = rate;
            }
        };
        for line in conf.text.lines() {
            let words: Vec<&str> = line
                .split_whitespace()
                .map(|w| w.trim_matches('\''))
                .collect();
            match words.as_slice() {
                ["config", kind, ..] => {
                    finish(&section_device, section_rate, &mut found);
                    in_agent = *kind == "agent";
                    section_device = None;
                    section_rate = None;
                }
                ["option", "sampling_rate", v] if in_agent => agent_rate = v.parse().ok(),
                ["option", "sampling_rate", v] => section_rate = v.parse().ok(),
                ["option", "device", v] => section_device = Some(v.to_string()),
                _ => {}
            }
        }
        finish(&section_device, section_rate, &mut found);
        found.or(agent_rate)
    }
}

/// Runs the checks of scenario `name` (booting the VM if this is the first
/// test to ask), then the verdict.
fn scenario(name: &'static str, check: fn(&Ctx, &mut Verdict)) {
    let Some(run) = rig::vm_run(SCENARIOS) else {
        return;
    };
    let out = match run.scenario(name) {
        Ok(o) => o,
        Err(e) if e.contains("not selected") => {
            eprintln!("{e}: skipped");
            return;
        }
        Err(e) => panic!("VM scenario {name}: {e}"),
    };
    let ctx = Ctx::load(out);
    let mut v = Verdict::new(name, KNOWN_AGENT_GAPS);
    // A check that cannot even run (the guest did not record what it
    // needs) still shows the guest's logs.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        common_checks(&ctx, &mut v);
        check(&ctx, &mut v);
    }));
    if let Err(panic) = ran {
        eprintln!("VM scenario {name}: the checks stopped\n{}", ctx.out.logs());
        std::panic::resume_unwind(panic);
    }
    v.finish(&ctx.out);
}

/// What every scenario must show: the guest built its world, every agent
/// kept running and exited cleanly, every datagram decodes, and tshark
/// reads the same values as our decoder.
fn common_checks(c: &Ctx, v: &mut Verdict) {
    let failures: Vec<&str> = c
        .events_named("guest_failure")
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    let exit = c.out.exit_code();
    v.check(
        "guest_scenario",
        exit == Some(0),
        format!(
            "scenario script exit status {exit:?} (143: killed at its time limit){}",
            if failures.is_empty() {
                String::new()
            } else {
                format!("; guest: {failures:?}")
            }
        ),
    );
    let started = c.events_named("agent_started");
    let mut problems = Vec::new();
    for s in &started {
        let name = s.get("name");
        match c
            .events
            .iter()
            .find(|e| e.name == "agent_stopped" && e.get("name") == name)
        {
            Some(e) if e.get("rc") == "0" => {}
            Some(e) => problems.push(format!("{name} exit status {}", e.get("rc"))),
            None => problems.push(format!("{name}: no exit recorded")),
        }
        for d in c
            .events
            .iter()
            .filter(|e| e.name == "agent_dead" && e.get("name") == name)
        {
            problems.push(format!("{name} was not running at {}", d.get("label")));
        }
        let log = c.agent_log(name);
        if log.contains("panicked") || log.contains("fatal") {
            problems.push(format!("{name} logged a panic or fatal error"));
        }
    }
    v.problems(
        "agents_exit_cleanly",
        0,
        problems,
        format!(
            "{} agent(s) started, each stopped with SIGTERM",
            started.len()
        ),
    );
    v.check(
        "sflow_decodes",
        c.sflow.errors.is_empty() && c.sflow.datagrams > 0,
        format!(
            "{} datagrams, {} flow samples, {} counter samples; errors: {:?}",
            c.sflow.datagrams,
            c.sflow.flows.len(),
            c.sflow.counters.len(),
            c.sflow.errors.iter().take(5).collect::<Vec<_>>()
        ),
    );
    let (compared, problems) = tshark::compare(&c.out.path("sflow.pcap"), &c.sflow);
    v.problems(
        "tshark_agrees",
        compared,
        problems,
        format!("tshark and our decoder agree on {compared} values"),
    );
    v.figure(format!(
        "{} datagrams, {} flow samples, {} counter samples",
        c.sflow.datagrams,
        c.sflow.flows.len(),
        c.sflow.counters.len()
    ));
    // The rig's own trouble (a hostapd slow to die, a retried start), for
    // whoever reads a failure.
    for e in &c.events {
        if matches!(
            e.name.as_str(),
            "ap_stuck" | "cleanup_stuck" | "ap_start_failed"
        ) {
            v.figure(format!("rig: {} {:?}", e.name, e.fields));
        }
    }
}

// ---------------------------------------------------------------------------
// Shared checks

/// The station dumps (iw) and hostapd station lists of an AP interface, as
/// (time, count) series.
/// (time, count) observations.
type Series = Vec<(f64, usize)>;

fn station_counts(c: &Ctx, ifname: &str) -> (Series, Series) {
    let iw = station_dumps(&c.facts, ifname)
        .iter()
        .map(|d| (d.time, d.associated()))
        .collect();
    let all_sta = format!("all_sta {ifname}");
    let hostapd = c
        .facts
        .iter()
        .filter(|f| f.name == all_sta)
        .map(|f| (f.time, parse_all_sta(&f.text).len()))
        .collect();
    (iw, hostapd)
}

/// The entries of a time series from the last one at or before `from` to
/// the first one at or after `to`: what was observed around a moment
/// known to lie between `from` and `to`.
fn bracket<T>(series: &[(f64, T)], from: f64, to: f64) -> &[(f64, T)] {
    if series.is_empty() {
        return series;
    }
    let first = series.iter().rposition(|(t, _)| *t <= from).unwrap_or(0);
    let last = series
        .iter()
        .position(|(t, _)| *t >= to)
        .unwrap_or(series.len() - 1)
        .max(first);
    &series[first..=last]
}

/// Checks the association counts of every counter sample of the AP
/// interfaces `ifnames` against iw and hostapd_cli around the sample's
/// time: the count must lie within what iw (and hostapd) reported in the
/// dumps that bracket the polling interval ending at the sample (taken
/// about every second). Samples are matched to an interface by their
/// ifIndex, whatever it was at the time.
fn check_association_counts(c: &Ctx, v: &mut Verdict, ifnames: &[&str], interval: f64) {
    check_association_counts_at(c, v, "association_counts", None, ifnames, interval);
}

/// [`check_association_counts`] of the counter samples sent to `port` (all
/// when `None`), recorded as check `check`.
fn check_association_counts_at(
    c: &Ctx,
    v: &mut Verdict,
    check: &str,
    port: Option<u16>,
    ifnames: &[&str],
    interval: f64,
) {
    let names = c.names_by_ifindex();
    let mut problems = Vec::new();
    let mut unavailable = 0;
    let (mut by_iw, mut by_hostapd, mut unjudged, mut samples_n) = (0, 0, 0, 0);
    let mut without_record = 0;
    let mut series_seen: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for ifname in ifnames {
        let (iw, hostapd) = station_counts(c, ifname);
        let samples: Vec<&Counters> = c
            .sflow
            .counters
            .iter()
            .filter(|s| {
                s.source_type == 0
                    && names.get(&s.source).map(String::as_str) == Some(*ifname)
                    && port.is_none_or(|p| s.port == p)
            })
            .collect();
        for s in samples {
            // (An interface being torn down may be polled without its
            // 802.11 record: counted, not judged.)
            samples_n += 1;
            let Some(d) = &s.dot11 else {
                without_record += 1;
                continue;
            };
            let count = d.associated_station_count;
            if count == u32::MAX {
                unavailable += 1;
                problems.push(format!(
                    "{ifname}: association count unavailable at {:.1}",
                    s.time
                ));
                continue;
            }
            // The counts of the dumps that bracket the polling interval
            // ending at the sample (the datagram leaves up to a second
            // after the poll): the count must lie between their least and
            // greatest (two stations may join between two dumps). Where
            // the dumps are too far apart to tell, the sample is not
            // judged.
            let judge = |series: &Series, source: &str, problems: &mut Vec<String>| -> bool {
                let near = bracket(series, s.time - interval - 1.2, s.time);
                let (Some(first), Some(last)) = (near.first(), near.last()) else {
                    return false;
                };
                if last.0 - first.0 > interval + 1.2 + 4.0
                    || last.0 < s.time
                    || first.0 > s.time - interval - 1.2
                {
                    return false;
                }
                let lo = near.iter().map(|(_, n)| *n).min().unwrap();
                let hi = near.iter().map(|(_, n)| *n).max().unwrap();
                if !(lo..=hi).contains(&(count as usize)) {
                    let seen: Vec<usize> = near.iter().map(|(_, n)| *n).collect();
                    problems.push(format!(
                        "{ifname} (ifIndex {}): {count} stations at {:.1}, {source} said {seen:?}",
                        s.source, s.time
                    ));
                }
                true
            };
            if judge(&iw, "iw station dump", &mut problems) {
                by_iw += 1;
            } else {
                unjudged += 1;
            }
            if judge(&hostapd, "hostapd_cli all_sta", &mut problems) {
                by_hostapd += 1;
            }
            series_seen
                .entry(ifname.to_string())
                .or_default()
                .push(count as usize);
        }
    }
    if samples_n == without_record {
        problems.push("no counter sample with ieee80211_counters".into());
    }
    v.problems(
        check,
        by_iw + by_hostapd,
        problems,
        format!(
            "{samples_n} counter samples of {ifnames:?}: {by_iw} checked against iw station dump, \
             {by_hostapd} against hostapd_cli all_sta, {unjudged} not judged (no dumps close enough), \
             {unavailable} unavailable, {without_record} without ieee80211_counters; counts seen: {series_seen:?}"
        ),
    );
}

/// The counter samples' intervals: every data source in `ifnames` is
/// polled every `interval` seconds.
fn check_polling(c: &Ctx, v: &mut Verdict, ifnames: &[&str], interval: f64) {
    let mut problems = Vec::new();
    let mut n = 0;
    for ifname in ifnames {
        let dev = c.dev(ifname);
        let samples = c.sflow.counters_of(6343, dev.ifindex);
        n += samples.len();
        if samples.len() < 2 {
            problems.push(format!("{ifname}: {} counter samples", samples.len()));
        }
        // A counter sample leaves with the next datagram, up to a second
        // after the poll: the gaps between arrivals vary by that much
        // (and a little more under TCG); their median is the interval.
        let mut gaps: Vec<f64> = samples.windows(2).map(|w| w[1].time - w[0].time).collect();
        gaps.sort_by(f64::total_cmp);
        if let Some(median) = gaps.get(gaps.len() / 2) {
            if (median - interval).abs() > 0.25 {
                problems.push(format!(
                    "{ifname}: median gap between counter samples {median:.2} s"
                ));
            }
        }
        for w in samples.windows(2) {
            let gap = w[1].time - w[0].time;
            if !(interval - 1.5..=interval + 1.5).contains(&gap) {
                problems.push(format!(
                    "{ifname}: counter samples {gap:.2} s apart at {:.1} (polling interval {interval} s)",
                    w[1].time
                ));
            }
            if w[1].sequence != w[0].sequence + 1 {
                problems.push(format!(
                    "{ifname}: counter sequence {} after {}",
                    w[1].sequence, w[0].sequence
                ));
            }
        }
    }
    v.problems(
        "polling",
        n,
        problems,
        format!("{n} counter samples of {ifnames:?}, every {interval} s"),
    );
}

/// The log must not say association counts are unavailable while the
/// counter samples carry them.
fn check_log_truth(c: &Ctx, v: &mut Verdict, agent: &str) {
    let log = c.agent_log(agent);
    let claims_unavailable = log
        .lines()
        .find(|l| l.contains("association counts are reported unavailable"));
    let carried = c
        .sflow
        .counters
        .iter()
        .filter_map(|s| s.dot11)
        .filter(|d| d.associated_station_count != u32::MAX)
        .count();
    v.check(
        "log_truth",
        claims_unavailable.is_none() || carried == 0,
        format!(
            "{carried} counter samples carry an association count; the log says: {:?}",
            claims_unavailable.unwrap_or("nothing about it")
        ),
    );
}

/// Flow samples (sent to `port`) of the ICMP echo requests from `mac` to
/// `dst` and of the replies back, on data source `ifindex`.
fn echo_samples(
    c: &Ctx,
    port: u16,
    ifindex: u32,
    mac: Mac,
    dst: [u8; 4],
) -> (Vec<&Flow>, Vec<&Flow>) {
    let mut requests = Vec::new();
    let mut replies = Vec::new();
    for f in c.sflow.flows_of(port, ifindex) {
        let Some(e) = parse_ethernet(&f.header) else {
            continue;
        };
        match e.frame {
            Frame::IcmpEcho {
                request: true,
                dst: d,
                ..
            } if e.src == mac && d == dst => requests.push(f),
            Frame::IcmpEcho {
                request: false,
                src: s,
                ..
            } if e.dst == mac && s == dst => replies.push(f),
            _ => {}
        }
    }
    (requests, replies)
}

/// A capture of an AP interface without mac80211's relay copies of the
/// group-addressed frames its stations send: the packet taps see such a
/// frame twice, the copy going out to the BSS (`protocol` 802.3,
/// outgoing) and, right after it, the frame itself going up the stack
/// (`tcpdump -i any -e` in this VM: "Out ... 802.3" then "B ...
/// ethertype ARP" with the same bytes). The copy is not a candidate: of
/// two identical group-addressed frames from a station next to each other
/// the first is dropped. (`ap_addr`: the interface's own address; its
/// frames are never relayed.)
fn without_group_relay_copies(frames: Vec<(f64, Vec<u8>)>, ap_addr: &Mac) -> Vec<(f64, Vec<u8>)> {
    let relayed = |f: &[u8]| f.len() >= 12 && f[0] & 1 == 1 && f[6..12] != ap_addr[..];
    let mut out: Vec<(f64, Vec<u8>)> = Vec::with_capacity(frames.len());
    for f in frames {
        match out.last() {
            Some(last) if relayed(&f.1) && last.1 == f.1 && f.0 - last.0 < 0.1 => {
                out.pop();
            }
            _ => {}
        }
        out.push(f);
    }
    out
}

/// Sequence numbers without gaps, pools growing, no drops, the configured
/// rate; at 1-in-1 each sample's pool is exactly one more than the last.
fn check_pools(c: &Ctx, v: &mut Verdict, name: &str, port: u16, ifindex: u32, rate: u32) {
    let flows = c.sflow.flows_of(port, ifindex);
    let mut problems = Vec::new();
    for w in flows.windows(2) {
        if w[1].sequence != w[0].sequence + 1 {
            problems.push(format!(
                "sequence {} after {}",
                w[1].sequence, w[0].sequence
            ));
        }
        if w[1].pool <= w[0].pool {
            problems.push(format!("pool {} after {}", w[1].pool, w[0].pool));
        }
        if rate == 1 && w[1].pool != w[0].pool + 1 + (w[1].drops - w[0].drops) {
            problems.push(format!(
                "1-in-1: pool {} after {} (sequence {})",
                w[1].pool, w[0].pool, w[1].sequence
            ));
        }
    }
    for f in &flows {
        if f.rate != rate {
            problems.push(format!("sampling rate {} (configured {rate})", f.rate));
        }
        if f.drops != 0 {
            problems.push(format!("{} drops", f.drops));
        }
    }
    let last = flows.last().map_or(0, |f| f.pool);
    v.problems(
        &format!("pools_{name}"),
        flows.len(),
        problems,
        format!(
            "{name}: {} samples at 1-in-{rate}, last pool {last}, pool/samples {:.2}",
            flows.len(),
            f64::from(last) / flows.len().max(1) as f64
        ),
    );
}

/// The pool and the frames read the agent logs for an interface when it
/// exits ("wlan0: pool 806, frames read 193, samples sent 193, drops 0,
/// ...").
fn exit_figures(log: &str, ifname: &str) -> Option<(u64, u64)> {
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains(&format!(" {ifname}: pool ")))?;
    let number = |key: &str| -> Option<u64> {
        let at = line.find(key)? + key.len();
        line[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    Some((number("pool ")?, number("frames read ")?))
}

/// The kernel's packet counters of an interface at the end (the
/// `statistics IFNAME` fact).
fn final_statistics(c: &Ctx, ifname: &str) -> BTreeMap<String, u64> {
    c.facts
        .iter()
        .rev()
        .find(|f| f.name == format!("statistics {ifname}"))
        .map(|f| {
            f.text
                .lines()
                .filter_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    Some((k.to_string(), v.trim().parse().ok()?))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Speeds and signals the AP reported for station `mac` in the dumps
/// between `from` and `to`.
fn station_radio(
    c: &Ctx,
    ifname: &str,
    mac: Mac,
    from: f64,
    to: f64,
) -> (Vec<u64>, Vec<u64>, Vec<i32>) {
    let mut rx = Vec::new();
    let mut tx = Vec::new();
    let mut signal = Vec::new();
    for d in station_dumps(&c.facts, ifname) {
        if d.time < from || d.time > to {
            continue;
        }
        for s in d.stations.iter().filter(|s| s.mac == mac) {
            rx.extend(s.rx_bitrate);
            tx.extend(s.tx_bitrate);
            signal.extend(s.signal_dbm);
        }
    }
    (rx, tx, signal)
}

/// Whether a record's 802.11 version is the one its own legacy rate
/// (bit/s) stands for: DSSS/HR-DSSS rates are 802.11b (IEEE 802.11-2016
/// clauses 15, 16), OFDM ones g at 2.4 GHz and a at 5 GHz; with no rate
/// (0), the band's OFDM PHY. The rate itself is checked against what iw
/// reported, by [`plausible_rate`]: a station heard at 1 Mbit/s by the
/// agent's last listing and at 11 by iw's is b either way, one at 11 and
/// 54 is b in one record and g in the other, both true.
fn version_agrees(version: u32, speed: u64, freq: Option<u32>) -> bool {
    let rate_x10 = if speed == 0 { 60 } else { speed / 100_000 };
    version == version_of_rate(rate_x10 as u32, freq.unwrap_or(2412))
}

/// mW of a power in dBm.
fn mw(dbm: f64) -> u32 {
    10f64.powf(dbm / 10.0).round() as u32
}

// ---------------------------------------------------------------------------
// a. AP sampling

#[test]
fn vm_ap_sampling() {
    scenario("ap_sampling", |c, v| {
        let stations: BTreeMap<String, (Mac, String)> = c
            .events_named("station_added")
            .iter()
            .map(|e| {
                (
                    e.get("name").to_string(),
                    (parse_mac(e.get("mac")).unwrap(), e.get("ssid").to_string()),
                )
            })
            .collect();
        let aps: Vec<DevInfo> = ["wlan0", "wlan0b", "wlan1"]
            .iter()
            .map(|n| c.dev(n))
            .collect();
        let ap_of_ssid = |ssid: &str| {
            aps.iter()
                .find(|d| d.ssid.as_deref() == Some(ssid))
                .cloned()
        };
        let mut record_problems = Vec::new();
        let mut records_compared = 0;
        let mut records_checked = 0;
        for t in c
            .events_named("traffic")
            .iter()
            .filter(|e| e.get("kind") == "ping")
        {
            let sta = t.get("name");
            let (mac, ssid) = stations[sta].clone();
            let ap = ap_of_ssid(&ssid).expect("the station's AP");
            let rate = c
                .configured_rate("agent_conf /run/wsf/agent.conf", &ap.name)
                .unwrap();
            let (sent, received) = (t.num("sent"), t.num("received"));
            let (requests, replies) = echo_samples(c, 6343, ap.ifindex, mac, ipv4(t.get("dst")));
            let (ok_req, exp_req, s_req) = within_4_sigma(requests.len(), sent, rate);
            let (ok_rep, exp_rep, s_rep) = within_4_sigma(replies.len(), received, rate);
            v.compared += 2;
            v.check(
                &format!("counts_{sta}"),
                ok_req && ok_rep,
                format!(
                    "{sta} on {} ({ssid}) at 1-in-{rate}: {} echo requests sampled for {sent} sent \
                     (expected {exp_req:.1} +- {s_req:.1}), {} replies for {received} \
                     (expected {exp_rep:.1} +- {s_rep:.1})",
                    ap.name,
                    requests.len(),
                    replies.len()
                ),
            );
            // The AP itself is the destination of the requests and the
            // source of the replies.
            let mut problems = Vec::new();
            for f in &requests {
                if f.input != Interface::index(ap.ifindex) || f.output != Interface::INTERNAL {
                    problems.push(format!(
                        "request: input {:?}, output {:?}",
                        f.input, f.output
                    ));
                }
            }
            for f in &replies {
                if f.input != Interface::INTERNAL || f.output != Interface::index(ap.ifindex) {
                    problems.push(format!("reply: input {:?}, output {:?}", f.input, f.output));
                }
            }
            v.problems(
                &format!("ports_{sta}"),
                2 * (requests.len() + replies.len()),
                problems,
                format!(
                    "{sta}: requests input {} output internal, replies the reverse",
                    ap.name
                ),
            );
            // Radio context: what iw says of the AP's BSS and of this
            // station around each sample's time; the station's rate
            // checked for plausibility (see plausible_rate).
            let power = ap.txpower_dbm.map(mw);
            // No noise figure for the AP's channel (it never scanned, and
            // mac80211_hwsim reports survey data only for scanned
            // channels): RSNI unavailable.
            let rsni_unavailable = 255;
            // When the station associated (the last time before a frame):
            // mac80211 has no signal for it until its first frames, and the
            // agent lists it at once, then every second while it has
            // none, and a sample's datagram leaves up to a second after
            // its frame: for 3 s after the association (as the collector
            // sees it), RCPI "unavailable" is the truth too.
            let joined: Vec<f64> = c
                .events_named("associated")
                .iter()
                .filter(|e| e.get("name") == sta)
                .map(|e| e.time)
                .collect();
            for f in requests.iter().chain(&replies) {
                records_checked += 1;
                let fresh = joined.iter().any(|&t| f.time >= t && f.time - t < 3.0);
                let (rx_rates, tx_rates, signals) =
                    station_radio(c, &ap.name, mac, f.time - 3.0, f.time + 1.5);
                let ingress = f.input == Interface::index(ap.ifindex);
                let ssid_b = ap.ssid.clone().unwrap_or_default().into_bytes();
                if ingress {
                    let Some(x) = &f.rx else {
                        record_problems
                            .push(format!("{sta}: ingress sample without extended_80211_rx"));
                        continue;
                    };
                    records_compared += 7;
                    let rcpis: Vec<u32> = signals.iter().map(|s| rcpi_of_dbm(*s)).collect();
                    if x.ssid != ssid_b
                        || x.bssid != ap.addr
                        || Some(x.channel) != ap.channel
                        || !version_agrees(x.version, x.speed, ap.freq)
                        || !plausible_rate(&rx_rates, x.speed)
                        || !(rcpis.contains(&x.rcpi) || (fresh && x.rcpi == 255))
                        || x.rsni != rsni_unavailable
                    {
                        record_problems.push(format!(
                            "{sta} rx: {x:?}; iw: ssid {:?} bssid {} channel {:?}, rx bitrates {rx_rates:?}, rcpi {rcpis:?}",
                            ap.ssid, fmt_mac(&ap.addr), ap.channel
                        ));
                    }
                } else {
                    let Some(x) = &f.tx else {
                        record_problems
                            .push(format!("{sta}: egress sample without extended_80211_tx"));
                        continue;
                    };
                    records_compared += 6;
                    if x.ssid != ssid_b
                        || x.bssid != ap.addr
                        || Some(x.channel) != ap.channel
                        || !version_agrees(x.version, x.speed, ap.freq)
                        || !plausible_rate(&tx_rates, x.speed)
                        || (power.is_some() && Some(x.power) != power)
                    {
                        record_problems.push(format!(
                            "{sta} tx: {x:?}; iw: ssid {:?} bssid {} channel {:?}, tx bitrates {tx_rates:?}, power {power:?} mW",
                            ap.ssid, fmt_mac(&ap.addr), ap.channel
                        ));
                    }
                }
            }
        }
        v.problems(
            "ap_80211_records",
            records_compared,
            record_problems,
            format!(
                "{records_checked} samples of the stations' traffic: extended_80211_rx/tx with iw's SSID, BSSID, \
                 channel, station rate (and the version of that rate), RCPI from its signal, tx power"
            ),
        );

        // The truths agree with each other: what hostapd_cli status says
        // of each BSS is what iw says of its interface.
        let mut problems = Vec::new();
        for ap in &aps {
            let Some(status) = c.facts.iter().rev().find(|f| {
                f.name.starts_with("hostapd_status ") && f.text.contains(&format!("={}\n", ap.name))
            }) else {
                problems.push(format!("no hostapd_cli status listing {}", ap.name));
                continue;
            };
            let kv: BTreeMap<&str, &str> = status
                .text
                .lines()
                .filter_map(|l| l.split_once('='))
                .collect();
            let i = kv
                .iter()
                .find(|(k, v)| k.starts_with("bss[") && **v == ap.name)
                .map(|(k, _)| k.trim_start_matches("bss[").trim_end_matches(']'));
            let Some(i) = i else {
                problems.push(format!("hostapd_cli status does not list {}", ap.name));
                continue;
            };
            let bssid = kv
                .get(format!("bssid[{i}]").as_str())
                .and_then(|b| parse_mac(b));
            let ssid = kv.get(format!("ssid[{i}]").as_str()).map(|s| s.to_string());
            let channel = kv.get("channel").and_then(|c| c.parse().ok());
            if bssid != Some(ap.addr) || ssid != ap.ssid || channel != ap.channel {
                problems.push(format!(
                    "{}: hostapd_cli bssid {bssid:?} ssid {ssid:?} channel {channel:?}, iw {} {:?} {:?}",
                    ap.name,
                    fmt_mac(&ap.addr),
                    ap.ssid,
                    ap.channel
                ));
            }
        }
        v.problems(
            "truths_agree",
            aps.len() * 3,
            problems,
            "hostapd_cli status and iw dev info agree on each BSS's BSSID, SSID and channel".into(),
        );

        // Pools and sequence numbers of each AP interface.
        for ap in &aps {
            let rate = c
                .configured_rate("agent_conf /run/wsf/agent.conf", &ap.name)
                .unwrap();
            check_pools(c, v, &ap.name, 6343, ap.ifindex, rate);
            // The pool counts at least the pings that crossed the
            // interface (eBPF: both directions), and the samples are a
            // 1-in-N draw from it.
            let pings: u64 = c
                .events_named("traffic")
                .iter()
                .filter(|e| {
                    e.get("kind") == "ping"
                        && stations[e.get("name")].1 == *ap.ssid.as_ref().unwrap()
                })
                .map(|e| e.num("sent") + e.num("received"))
                .sum();
            let flows = c.sflow.flows_of(6343, ap.ifindex);
            let last = flows.last().map_or(0, |f| u64::from(f.pool));
            // The agent's own final figures (its exit log): the pool after
            // the last frame, and how many samples it made, every one of
            // which must have reached the collector.
            let (exit_pool, exit_samples) =
                exit_figures(&c.agent_log("agent"), &ap.name).unwrap_or((0, 0));
            let (ok, expected, sigma4) = within_4_sigma(flows.len(), exit_pool, rate);
            let stats = final_statistics(c, &ap.name);
            let kernel = stats.get("rx_packets").copied().unwrap_or(0)
                + stats.get("tx_packets").copied().unwrap_or(0);
            v.compared += 3;
            v.check(
                &format!("pool_vs_traffic_{}", ap.name),
                exit_pool >= pings && last <= exit_pool && ok,
                format!(
                    "{}: pool at exit {exit_pool} (last sample's {last}; the kernel's rx + tx packets: {kernel}), \
                     the pings {pings}; {} samples, {expected:.1} +- {sigma4:.1} expected from the pool",
                    ap.name,
                    flows.len()
                ),
            );
            v.check(
                &format!("samples_delivered_{}", ap.name),
                exit_samples as usize == flows.len(),
                format!(
                    "{}: the agent made {exit_samples} samples, {} reached the collector",
                    ap.name,
                    flows.len()
                ),
            );
        }

        // Group-addressed frames from a station, sampled 1-in-1 on wlan0b:
        // each counted once.
        let wlan0b = c.dev("wlan0b");
        for arp in c
            .events_named("traffic")
            .iter()
            .filter(|e| e.get("kind") == "arp")
        {
            let mac = parse_mac(arp.get("mac")).unwrap();
            let target = ipv4(arp.get("dst"));
            let samples: Vec<&Flow> = c
                .sflow
                .flows_of(6343, wlan0b.ifindex)
                .into_iter()
                .filter(|f| {
                    parse_ethernet(&f.header).is_some_and(|e| {
                        e.src == mac
                            && e.frame
                                == Frame::Arp {
                                    request: true,
                                    sender_ip: ipv4("10.0.2.2"),
                                    target_ip: target,
                                }
                    })
                })
                .collect();
            let ports: Vec<String> = samples
                .iter()
                .map(|f| format!("{}/{}", f.input.value, f.output.value))
                .collect();
            v.compared += 1;
            v.check(
                "group_addressed_once",
                samples.len() as u64 == arp.num("sent"),
                format!(
                    "{} broadcast ARP requests sent by {}, {} samples at 1-in-1 on wlan0b (input/output: {ports:?})",
                    arp.num("sent"),
                    arp.get("name"),
                    samples.len()
                ),
            );
        }
        // At 1-in-1 the samples of wlan0b are exactly the frames the
        // kernel's packet taps delivered (tcpdump on wlan0b) but the
        // relay copies of group-addressed frames: none missing, none
        // extra.
        let captured = without_group_relay_copies(
            ethernet_captures(&c.out.bytes("wlan0b.pcap")),
            &wlan0b.addr,
        );
        let from = captured.first().map_or(f64::MAX, |f| f.0);
        let sampled: Vec<&Flow> = c
            .sflow
            .flows_of(6343, wlan0b.ifindex)
            .into_iter()
            .filter(|f| f.time >= from)
            .collect();
        let (missing, extra) = align_with_capture(&captured, &sampled);
        let stopped = c
            .events_named("agent_stopped")
            .first()
            .map_or(f64::MAX, |e| e.time);
        let missing: Vec<_> = missing
            .into_iter()
            .filter(|(t, _)| *t < stopped - 1.0)
            .collect();
        let describe = |bytes: &[u8]| match parse_ethernet(bytes) {
            Some(e) => format!("{:?} {} -> {}", e.frame, fmt_mac(&e.src), fmt_mac(&e.dst)),
            None => "short frame".into(),
        };
        let mut problems: Vec<String> = missing
            .iter()
            .map(|(t, f)| format!("not sampled: {} at {t:.3}", describe(f)))
            .collect();
        let last_captured = captured.last().map_or(0.0, |f| f.0);
        problems.extend(
            extra
                .iter()
                .filter(|&&j| sampled[j].time < last_captured)
                .map(|&j| {
                    format!(
                        "sampled, not captured: {} (pool {})",
                        describe(&sampled[j].header),
                        sampled[j].pool
                    )
                }),
        );
        v.problems(
            "samples_match_taps_wlan0b",
            captured.len(),
            problems,
            format!(
                "wlan0b at 1-in-1: {} samples, {} frames captured by tcpdump on wlan0b in the same time",
                sampled.len(),
                captured.len()
            ),
        );

        // hostapd's Layer-2 Update frame on wlan0b (the station associated
        // after the agent started): sent by hostapd, i.e. the AP itself.
        let xid: Vec<&Flow> = c
            .sflow
            .flows_of(6343, wlan0b.ifindex)
            .into_iter()
            .filter(|f| parse_ethernet(&f.header).is_some_and(|e| e.frame == Frame::LlcXid))
            .collect();
        let bad: Vec<String> = xid
            .iter()
            .filter(|f| {
                f.input != Interface::INTERNAL
                    || f.output != Interface::index(wlan0b.ifindex)
                    || f.rx.is_some()
            })
            .map(|f| {
                format!(
                    "input {:?} output {:?} rx record {}",
                    f.input,
                    f.output,
                    f.rx.is_some()
                )
            })
            .collect();
        v.compared += xid.len();
        v.check(
            "layer2_update_direction",
            !xid.is_empty() && bad.is_empty(),
            format!(
                "{} Layer-2 Update frames sampled on wlan0b; reported as received from the station: {bad:?}",
                xid.len()
            ),
        );

        // Counter samples: every 2 s; the last one equals the kernel's
        // counters (no traffic in the last 5 s).
        check_polling(c, v, &["wlan0", "wlan0b", "wlan1"], 2.0);
        let mut problems = Vec::new();
        for ap in &aps {
            let stats = final_statistics(c, &ap.name);
            let Some(last) = c
                .sflow
                .counters_of(6343, ap.ifindex)
                .into_iter()
                .rev()
                .find_map(|s| s.ifc)
            else {
                problems.push(format!("{}: no if_counters", ap.name));
                continue;
            };
            let pairs = [
                ("rx_packets", u64::from(last.in_ucast_pkts)),
                ("tx_packets", u64::from(last.out_ucast_pkts)),
                ("rx_bytes", last.in_octets),
                ("tx_bytes", last.out_octets),
            ];
            for (k, ours) in pairs {
                if stats.get(k).copied() != Some(ours) {
                    problems.push(format!(
                        "{}: {k} {:?} in sysfs, {ours} in the last counter sample",
                        ap.name,
                        stats.get(k)
                    ));
                }
            }
        }
        v.problems(
            "if_counters_match_kernel",
            aps.len() * 4,
            problems,
            "the last if_counters of each AP interface equal sysfs statistics".into(),
        );
        check_association_counts(c, v, &["wlan0", "wlan0b", "wlan1"], 2.0);
        check_log_truth(c, v, "agent");
    });
}

// ---------------------------------------------------------------------------
// b. Association counts

#[test]
fn vm_association() {
    scenario("association", |c, v| {
        check_association_counts(c, v, &["wlan0"], 1.0);
        // Every plateau of iw's count lasting two polling intervals shows
        // up in the samples: joins and departures are followed, not just
        // a final state.
        let (iw, _) = station_counts(c, "wlan0");
        let wlan0 = c.dev("wlan0");
        let samples: Vec<(f64, u32)> = c
            .sflow
            .counters_of(6343, wlan0.ifindex)
            .iter()
            .filter_map(|s| Some((s.time, s.dot11?.associated_station_count)))
            .collect();
        let mut plateaus: Vec<(f64, f64, usize)> = Vec::new();
        for (t, n) in &iw {
            match plateaus.last_mut() {
                Some(p) if p.2 == *n => p.1 = *t,
                _ => plateaus.push((*t, *t, *n)),
            }
        }
        let mut problems = Vec::new();
        let mut followed = Vec::new();
        for (from, to, n) in &plateaus {
            if to - from < 2.0 {
                continue;
            }
            let seen = samples
                .iter()
                .any(|(t, c)| *t >= *from && *t <= to + 1.2 && *c as usize == *n);
            followed.push(*n);
            if !seen {
                problems.push(format!(
                    "{n} stations from {from:.1} to {to:.1} (iw): no counter sample said so"
                ));
            }
        }
        v.problems(
            "joins_and_leaves_followed",
            followed.len(),
            problems,
            format!("iw's station counts over time {followed:?} each seen in the counter samples"),
        );
        check_polling(c, v, &["wlan0"], 1.0);
        check_log_truth(c, v, "agent");
    });
}

// ---------------------------------------------------------------------------
// c. Monitor mode

#[test]
fn vm_monitor() {
    scenario("monitor", |c, v| {
        let ap = c.dev("wlan0");
        let neighbour = c.dev("wlan1");
        let mon0 = c.dev("mon0");
        let mon1 = c.dev("mon1");
        let mon3 = c.dev("mon3");
        let captures = monitor_captures(&c.out.bytes("mon0.pcap"));
        let radio = parse_tcpdump_radio(&c.out.text("mon0.txt"));
        v.check(
            "monitor_capture",
            !captures.is_empty() && captures.len() == radio.len(),
            format!(
                "tcpdump on mon0: {} frames in the pcap, {} lines decoded",
                captures.len(),
                radio.len()
            ),
        );
        let neighbour_frames = captures
            .iter()
            .filter(|m| parse_dot11(&m.dot11).and_then(|d| d.bssid()) == Some(neighbour.addr))
            .count();
        v.check(
            "neighbour_on_air",
            neighbour_frames > 0,
            format!(
                "{neighbour_frames} frames of the neighbour BSS {} captured on mon0",
                fmt_mac(&neighbour.addr)
            ),
        );

        // Each mon0 sample is a frame tcpdump captured on mon0: its
        // radiotap, as tcpdump decodes it, gives the expected channel,
        // speed and signal.
        let samples = c.sflow.flows_of(6343, mon0.ifindex);
        let mut unmatched = Vec::new();
        let mut rx_problems = Vec::new();
        let mut own_dir = Vec::new();
        let mut own_chan = Vec::new();
        let mut own_phy = Vec::new();
        let mut foreign = Vec::new();
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        let (mut own_n, mut rx_n, mut compared) = (0, 0, 0);
        for f in &samples {
            if !(15..=17).contains(&f.protocol) {
                rx_problems.push(format!("header protocol {}", f.protocol));
                continue;
            }
            let Some(h) = parse_dot11(&f.header) else {
                continue;
            };
            *kinds.entry(h.kind()).or_default() += 1;
            if h.bssid() == Some(neighbour.addr) {
                foreign.push(format!("{} from the neighbour BSS sampled", h.kind()));
            }
            // The latest captured frame with these bytes, before the
            // datagram left.
            let Some(i) = captures
                .iter()
                .enumerate()
                .rev()
                .find(|(_, m)| m.time <= f.time + 0.5 && m.dot11.starts_with(&f.header))
                .map(|(i, _)| i)
            else {
                unmatched.push(format!("{} at {:.3}", h.kind(), f.time));
                continue;
            };
            let Some(r) = radio.get(i) else { continue };
            let own = r.tx_flags || h.addr2 == Some(ap.addr);
            let freq = r.freq.or(ap.freq).unwrap_or(0);
            let expected_channel = channel_of(freq);
            let speed = r.rate_x10.map(|x| u64::from(x) * 100_000);
            let rcpi = r.signal_dbm.map_or(255, rcpi_of_dbm);
            // The PHY: tcpdump names it for received frames; a frame the AP
            // sent has no channel flags, its rate says it.
            let version = match r.phy.as_deref() {
                Some("11a") => Some(1),
                Some("11b") => Some(2),
                Some("11g") => Some(3),
                _ => r.rate_x10.map(|x| version_of_rate(x, freq)),
            };
            let duration = r
                .rate_x10
                .and_then(|x| legacy_duration_us(x, f.frame_length, r.short_preamble, freq));
            let what = format!(
                "{} ({}): tcpdump: channel {expected_channel} speed {speed:?} version {version:?} rcpi {rcpi} \
                 duration {duration:?}",
                h.kind(),
                r.line.split_whitespace().skip(1).take(6).collect::<Vec<_>>().join(" ")
            );
            // (channel, speed, version, rcpi, duration) of the record.
            let (record, is_tx) = match (&f.rx, &f.tx) {
                (Some(x), _) => (
                    Some((
                        x.channel,
                        x.speed,
                        x.version,
                        Some(x.rcpi),
                        x.packet_duration,
                    )),
                    false,
                ),
                (None, Some(x)) => (
                    Some((x.channel, x.speed, x.version, None, x.packet_duration)),
                    true,
                ),
                (None, None) => (None, false),
            };
            let Some((channel, rec_speed, rec_version, rec_rcpi, rec_duration)) = record else {
                if own {
                    own_dir.push(format!("{what}: no 802.11 record"));
                } else {
                    rx_problems.push(format!("{what}: no 802.11 record"));
                }
                continue;
            };
            let mut wrong = Vec::new();
            if speed.is_some_and(|s| s != rec_speed) {
                wrong.push(format!("speed {rec_speed}"));
            }
            if version.is_some_and(|v| v != rec_version) {
                wrong.push(format!("version {rec_version}"));
            }
            if duration.is_some_and(|d| d != rec_duration) {
                wrong.push(format!("duration {rec_duration}"));
            }
            compared += 3;
            if own {
                own_n += 1;
                compared += 2;
                if !is_tx {
                    own_dir.push(format!(
                        "{what}: extended_80211_rx, input {:?}, output {:?}",
                        f.input, f.output
                    ));
                }
                if channel != expected_channel {
                    own_chan.push(format!("{what}: channel {channel}"));
                }
                if !wrong.is_empty() {
                    own_phy.push(format!("{what}: {}", wrong.join(", ")));
                }
            } else {
                rx_n += 1;
                compared += 2;
                if is_tx {
                    wrong.push("extended_80211_tx".into());
                }
                if channel != expected_channel {
                    wrong.push(format!("channel {channel}"));
                }
                if rec_rcpi != Some(rcpi) {
                    wrong.push(format!("rcpi {rec_rcpi:?}"));
                }
                if !wrong.is_empty() {
                    rx_problems.push(format!("{what}: {}", wrong.join(", ")));
                }
            }
        }
        v.figure(format!("mon0 samples by frame kind: {kinds:?}"));
        v.problems(
            "samples_are_captured_frames",
            samples.len(),
            unmatched,
            format!(
                "{} mon0 samples matched to tcpdump's frames by their bytes",
                samples.len()
            ),
        );
        v.compared += compared;
        v.problems(
            "received_frames_radiotap",
            0,
            rx_problems,
            format!(
                "{rx_n} received frames: extended_80211_rx with channel, speed, version, RCPI equal to \
                 tcpdump's radiotap decoding, and the air time of the frame at that rate"
            ),
        );
        v.problems(
            "own_frames_phy",
            0,
            own_phy,
            format!(
                "{own_n} frames the AP's radio sent: speed, version and air time \
                 (2.4 GHz signal extension included)"
            ),
        );
        v.problems(
            "own_frames_as_tx",
            0,
            own_dir,
            format!("{own_n} frames the AP's radio sent: extended_80211_tx, not rx"),
        );
        v.problems(
            "own_frames_channel",
            0,
            own_chan,
            format!(
                "{own_n} frames the AP's radio sent: the AP's channel ({:?})",
                ap.channel
            ),
        );
        v.problems(
            "foreign_ignored",
            samples.len(),
            foreign,
            "mon0 (foreign_bss ignore): no frame of the neighbour BSS".into(),
        );

        // mon1: the neighbour's frames reported as discards (reason 263),
        // ours not.
        let mut problems = Vec::new();
        let mut discards = 0;
        let mut wildcard: BTreeMap<String, usize> = BTreeMap::new();
        for f in c.sflow.flows_of(6343, mon1.ifindex) {
            let Some(h) = parse_dot11(&f.header) else {
                continue;
            };
            // A probe request for any BSS (wildcard BSSID) belongs to no
            // BSS in particular: shown, not judged.
            if h.bssid() == Some([0xff; 6]) {
                *wildcard
                    .entry(format!("{} -> output {:?}", h.kind(), f.output))
                    .or_default() += 1;
                continue;
            }
            let is_neighbour = h.bssid() == Some(neighbour.addr);
            let discarded = f.output == Interface::discarded(263);
            discards += usize::from(discarded);
            if is_neighbour != discarded {
                problems.push(format!(
                    "{} of {} BSS: output {:?}",
                    h.kind(),
                    if is_neighbour {
                        "the neighbour's"
                    } else {
                        "our"
                    },
                    f.output
                ));
            }
        }
        v.figure(format!(
            "mon1: frames with the wildcard BSSID: {wildcard:?}"
        ));
        v.problems(
            "foreign_discarded",
            c.sflow.flows_of(6343, mon1.ifindex).len(),
            problems,
            format!("mon1 (foreign_bss discard): {discards} discards, all of them the neighbour's frames"),
        );

        // mon1 samples every frame (1-in-1, foreign frames as discards):
        // exactly the frames tcpdump captured on mon0, the same radio's
        // other monitor interface, in the same order.
        let frames: Vec<(f64, Vec<u8>)> =
            captures.iter().map(|m| (m.time, m.dot11.clone())).collect();
        let mon1_samples = c.sflow.flows_of(6343, mon1.ifindex);
        let from = frames.first().map_or(f64::MAX, |f| f.0);
        let to = frames.last().map_or(0.0, |f| f.0);
        let in_capture: Vec<&Flow> = mon1_samples
            .iter()
            .copied()
            .filter(|f| f.time >= from)
            .collect();
        let (missing, extra) = align_with_capture(&frames, &in_capture);
        let describe = |b: &[u8]| {
            parse_dot11(b).map_or("short frame".to_string(), |h| {
                format!(
                    "{} from {}",
                    h.kind(),
                    h.addr2.map_or("-".into(), |m| fmt_mac(&m))
                )
            })
        };
        // Frames of the last second before the agent stopped may be
        // captured after its last read.
        let stopped = c
            .events_named("agent_stopped")
            .first()
            .map_or(to, |e| e.time);
        let mut problems: Vec<String> = missing
            .iter()
            .filter(|(t, _)| *t < stopped - 1.0)
            .map(|(t, f)| format!("not sampled on mon1: {} at {t:.3}", describe(f)))
            .collect();
        // Samples after the capture's last frame: tcpdump stopped first.
        problems.extend(
            extra
                .iter()
                .filter(|&&j| in_capture[j].time < to)
                .map(|&j| {
                    format!(
                        "sampled on mon1, not captured on mon0: {}",
                        describe(&in_capture[j].header)
                    )
                }),
        );
        v.problems(
            "every_frame_mon1",
            frames.len(),
            problems,
            format!(
                "mon1 at 1-in-1: {} samples; tcpdump captured {} frames on mon0 (from before the agent started, too)",
                in_capture.len(),
                frames.len()
            ),
        );
        check_pools(c, v, "mon1", 6343, mon1.ifindex, 1);
        let log = c.agent_log("agent");
        for (name, dev) in [("mon0", &mon0), ("mon1", &mon1), ("mon3", &mon3)] {
            if let Some((pool, samples)) = exit_figures(&log, name) {
                v.figure(format!(
                    "{name}: exit log says pool {pool}, samples {samples}; {} samples reached the collector",
                    c.sflow.flows_of(6343, dev.ifindex).len()
                ));
            }
        }

        // mon3: a sensor radio with no AP of ours samples something useful,
        // or the log says why not.
        let mon3_samples = c.sflow.flows_of(6343, mon3.ifindex);
        let explained = log.lines().find(|l| {
            l.contains("mon3")
                && ["BSS", "bss", "ignor", "foreign"]
                    .iter()
                    .any(|k| l.contains(k))
        });
        let with_records = mon3_samples
            .iter()
            .filter(|f| f.rx.is_some() || f.tx.is_some())
            .count();
        v.check(
            "sensor_monitor",
            with_records > 0 || explained.is_some(),
            format!(
                "mon3 (no AP on its radio): {} samples, {with_records} with an 802.11 record; log: {:?}",
                mon3_samples.len(),
                explained
            ),
        );
        // At 1-in-1 each monitor pool step is one frame.
        for (name, dev) in [("mon0", &mon0), ("mon1", &mon1), ("mon3", &mon3)] {
            let flows = c.sflow.flows_of(6343, dev.ifindex);
            v.figure(format!(
                "{name}: {} samples, last pool {}",
                flows.len(),
                flows.last().map_or(0, |f| f.pool)
            ));
        }
    });
}

// ---------------------------------------------------------------------------
// d. ieee80211_counters and radio_utilization

#[test]
fn vm_radio_counters() {
    scenario("radio_counters", |c, v| {
        let debugfs = c
            .facts
            .iter()
            .find(|f| f.name == "debugfs_statistics")
            .map(|f| f.text.clone())
            .unwrap_or_default();
        let has_debugfs_stats = !debugfs.contains("No such file") && debugfs.contains("dot11");
        v.figure(format!(
            "mac80211 debugfs statistics: {}",
            if has_debugfs_stats {
                "present"
            } else {
                "absent (no CONFIG_MAC80211_DEBUGFS)"
            }
        ));
        let mut problems = Vec::new();
        let mut nl_problems = Vec::new();
        let mut compared = 0;
        for ifname in ["wlan0", "wlan1"] {
            let dev = c.dev(ifname);
            let samples = c.sflow.counters_of(6343, dev.ifindex);
            let dumps = station_dumps(&c.facts, ifname);
            for s in &samples {
                let Some(d) = s.dot11 else {
                    problems.push(format!(
                        "{ifname}: counter sample without ieee80211_counters"
                    ));
                    continue;
                };
                // No source for these without debugfs statistics.
                if !has_debugfs_stats {
                    let unsourced = [
                        (
                            "dot11TransmittedFragmentCount",
                            d.transmitted_fragment_count,
                        ),
                        (
                            "dot11MulticastTransmittedFrameCount",
                            d.multicast_transmitted_frame_count,
                        ),
                        ("dot11RetryCount", d.retry_count),
                        ("dot11MultipleRetryCount", d.multiple_retry_count),
                        ("dot11FrameDuplicateCount", d.frame_duplicate_count),
                        ("dot11RTSSuccessCount", d.rts_success_count),
                        ("dot11RTSFailureCount", d.rts_failure_count),
                        ("dot11ACKFailureCount", d.ack_failure_count),
                        ("dot11ReceivedFragmentCount", d.received_fragment_count),
                        (
                            "dot11MulticastReceivedFrameCount",
                            d.multicast_received_frame_count,
                        ),
                        ("dot11FCSErrorCount", d.fcs_error_count),
                        ("dot11WEPUndecryptableCount", d.wep_undecryptable_count),
                        (
                            "dot11QoSDiscardedFragmentCount",
                            d.qos_discarded_fragment_count,
                        ),
                        (
                            "dot11QoSCFPollsReceivedCount",
                            d.qos_cf_polls_received_count,
                        ),
                        ("dot11QoSCFPollsUnusedCount", d.qos_cf_polls_unused_count),
                        (
                            "dot11QoSCFPollsUnusableCount",
                            d.qos_cf_polls_unusable_count,
                        ),
                        ("dot11QoSCFPollsLostCount", d.qos_cf_polls_lost_count),
                    ];
                    for (name, value) in unsourced {
                        compared += 1;
                        if value != u32::MAX {
                            problems.push(format!(
                                "{ifname}: {name} = {value}, but the kernel has no source for it"
                            ));
                        }
                    }
                }
                // From nl80211's station statistics: between the sums over
                // the stations of the dumps that bracket the poll (the
                // agent keeps them monotonic across departures; nobody
                // leaves here).
                let series: Vec<(f64, (u64, u64))> = dumps
                    .iter()
                    .map(|x| {
                        (
                            x.time,
                            (
                                x.stations.iter().map(|s| s.tx_failed).sum(),
                                x.stations.iter().map(|s| s.tx_packets).sum(),
                            ),
                        )
                    })
                    .collect();
                let near = bracket(&series, s.time - 1.2, s.time);
                if near.is_empty() {
                    continue;
                }
                let range = |pick: fn(&(u64, u64)) -> u64| {
                    let values: Vec<u64> = near.iter().map(|(_, v)| pick(v)).collect();
                    (
                        *values.iter().min().unwrap(),
                        *values.iter().max().unwrap(),
                        values,
                    )
                };
                let (flo, fhi, failed) = range(|v| v.0);
                let (slo, shi, sent) = range(|v| v.1);
                compared += 2;
                if d.failed_count != u32::MAX && !(flo..=fhi).contains(&u64::from(d.failed_count)) {
                    nl_problems.push(format!(
                        "{ifname}: dot11FailedCount {} at {:.1} vs iw tx failed {failed:?}",
                        d.failed_count, s.time
                    ));
                }
                if d.transmitted_frame_count != u32::MAX
                    && !(slo..=shi).contains(&u64::from(d.transmitted_frame_count))
                {
                    nl_problems.push(format!(
                        "{ifname}: dot11TransmittedFrameCount {} at {:.1} vs iw tx packets {sent:?}",
                        d.transmitted_frame_count, s.time
                    ));
                }
            }
        }
        v.problems(
            "unavailable_all_ones",
            0,
            problems,
            "counters the kernel has no source for are all-ones (unavailable), never 0".into(),
        );
        v.problems(
            "nl80211_counters",
            0,
            nl_problems,
            "dot11FailedCount / dot11TransmittedFrameCount equal the sums of iw's tx failed / tx packets".into(),
        );
        v.compared += compared;

        // radio_utilization: the fixed-channel radio has no survey data,
        // the ACS radio has (from its scan).
        let mut problems = Vec::new();
        let mut reported = Vec::new();
        for ifname in ["wlan0", "wlan1"] {
            let dev = c.dev(ifname);
            let survey = c
                .facts
                .iter()
                .rev()
                .find(|f| f.name == format!("survey {ifname}"))
                .map(|f| parse_survey(&f.text))
                .unwrap_or_default();
            let on_channel = survey.iter().find(|e| Some(e.freq) == dev.freq);
            let has_times = on_channel.is_some_and(|e| e.active_ms.is_some());
            let records: Vec<_> = c
                .sflow
                .counters_of(6343, dev.ifindex)
                .iter()
                .filter_map(|s| s.radio)
                .collect();
            v.figure(format!(
                "{ifname} (channel {:?}): survey of its channel {:?}; {} radio_utilization records, last {:?}",
                dev.channel,
                on_channel,
                records.len(),
                records.last()
            ));
            for r in &records {
                let all_ones = r.elapsed_time == u32::MAX
                    && r.on_channel_time == u32::MAX
                    && r.on_channel_busy_time == u32::MAX;
                if !has_times && !all_ones {
                    problems.push(format!(
                        "{ifname}: no survey data, yet radio_utilization {r:?}"
                    ));
                }
                if has_times
                    && (r.on_channel_busy_time > r.on_channel_time
                        || r.on_channel_time > r.elapsed_time)
                {
                    problems.push(format!("{ifname}: inconsistent radio_utilization {r:?}"));
                }
            }
            if has_times {
                reported.push((ifname, records.len()));
            }
        }
        v.problems(
            "radio_utilization_honest",
            0,
            problems,
            "radio_utilization only from real survey data; otherwise absent or all-ones".into(),
        );
        let log = c.agent_log("agent");
        let said = log
            .lines()
            .find(|l| l.contains("radio_utilization") || l.contains("survey"));
        v.check(
            "radio_utilization_explained",
            reported.iter().all(|(_, n)| *n > 0) || said.is_some(),
            format!("radios with survey data and their radio_utilization records: {reported:?}; log: {said:?}"),
        );
        check_association_counts(c, v, &["wlan0", "wlan1"], 2.0);
    });
}

// ---------------------------------------------------------------------------
// e. Faults

#[test]
fn vm_faults() {
    scenario("faults", |c, v| {
        let checks = c.events_named("agent_alive");
        let labels: Vec<&str> = checks.iter().map(|e| e.get("label")).collect();
        v.check(
            "keeps_running",
            c.events_named("agent_dead").is_empty() && labels.len() >= 6,
            format!("the agent was running at {labels:?}"),
        );
        let tick = |label: &str| {
            checks
                .iter()
                .find(|e| e.get("label") == label)
                .map(|e| (e.time, e.num("ticks") as f64 / 100.0))
        };
        if let (Some((t0, c0)), Some((t1, c1))) = (tick("idle_start"), tick("idle_end")) {
            let share = (c1 - c0) / (t1 - t0);
            v.check(
                "no_busy_loop",
                share < 0.10,
                format!(
                    "idle for {:.1} s: {:.2} s of CPU ({:.1} %)",
                    t1 - t0,
                    c1 - c0,
                    share * 100.0
                ),
            );
        } else {
            v.check("no_busy_loop", false, "no idle period recorded");
        }
        if let (Some(start), Some(stop)) = (
            c.events_named("agent_started").first(),
            c.events_named("agent_stopped").first(),
        ) {
            let cpu = stop.num("ticks") as f64 / 100.0;
            v.figure(format!(
                "agent CPU over the scenario: {cpu:.2} s in {:.1} s ({:.1} %, TCG)",
                stop.time - start.time,
                100.0 * cpu / (stop.time - start.time)
            ));
        }
        // After each fault the counts follow iw (no stale station), for
        // every incarnation of each interface.
        check_association_counts(c, v, &["wlan0", "wlan0b"], 1.0);
        let mut problems = Vec::new();
        let names = c.names_by_ifindex();
        // The final dumps (facts.log): stations.log goes on while the
        // scenario is torn down.
        let final_facts = facts(&c.out);
        for ifname in ["wlan0", "wlan0b"] {
            let final_count = station_dumps(&final_facts, ifname)
                .last()
                .map(StationDump::associated);
            let last = c
                .sflow
                .counters
                .iter()
                .filter(|s| names.get(&s.source).map(String::as_str) == Some(ifname))
                .filter_map(|s| s.dot11)
                .next_back();
            if last.map(|d| d.associated_station_count as usize) != final_count {
                problems.push(format!(
                    "{ifname}: last count {:?}, iw at the end {final_count:?}",
                    last.map(|d| d.associated_station_count)
                ));
            }
        }
        v.problems(
            "no_stale_station",
            2,
            problems,
            "the last counts equal iw's at the end".into(),
        );
        // Sampling resumes on each re-created interface.
        let mut problems = Vec::new();
        let infos = dev_infos(&c.facts);
        for ifname in ["wlan0", "wlan0b"] {
            let incarnations: Vec<u32> = infos
                .iter()
                .filter(|(_, d)| d.name == ifname)
                .map(|(_, d)| d.ifindex)
                .fold(Vec::new(), |mut acc, i| {
                    if acc.last() != Some(&i) {
                        acc.push(i);
                    }
                    acc
                });
            for i in &incarnations {
                let n = c.sflow.counters_of(6343, *i).len();
                if n == 0 {
                    problems.push(format!("{ifname} ifIndex {i}: no counter samples"));
                }
            }
            let last = *incarnations.last().unwrap();
            if ifname == "wlan0" && c.sflow.flows_of(6343, last).is_empty() {
                problems.push(format!(
                    "{ifname} ifIndex {last}: no flow samples after re-creation"
                ));
            }
            v.figure(format!("{ifname} incarnations (ifIndex): {incarnations:?}"));
        }
        v.problems(
            "follows_recreated_interfaces",
            0,
            problems,
            "each ifIndex an AP interface had is polled, and wlan0 sampled again after re-creation"
                .into(),
        );
    });
}

// ---------------------------------------------------------------------------
// f. Unprivileged, with capabilities

#[test]
fn vm_unprivileged() {
    scenario("unprivileged", |c, v| {
        let status = |name: &str| {
            c.facts
                .iter()
                .find(|f| f.name == format!("{name}_status"))
                .map(|f| f.text.clone())
                .unwrap_or_default()
        };
        let cap_eff = |text: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        };
        const NET_RAW: u64 = 1 << 13;
        const BPF: u64 = 1 << 39;
        let raw = status("agent_raw");
        let bpf = status("agent_bpf");
        v.check(
            "runs_unprivileged",
            raw.contains("Uid:\t1000")
                && bpf.contains("Uid:\t1000")
                && cap_eff(&raw) == Some(NET_RAW)
                && cap_eff(&bpf) == Some(NET_RAW | BPF),
            format!(
                "uid 1000; CapEff {:x?} (CAP_NET_RAW) and {:x?} (CAP_NET_RAW + CAP_BPF)",
                cap_eff(&raw),
                cap_eff(&bpf)
            ),
        );
        let wlan0 = c.dev("wlan0");
        let t = *c.events_named("traffic").first().expect("traffic");
        let mac = parse_mac(t.get("mac")).unwrap();
        for (agent, port, conf) in [
            ("agent_raw", 6343u16, "agent_conf /run/wsf/agent-raw.conf"),
            ("agent_bpf", 6344, "agent_conf /run/wsf/agent-bpf.conf"),
        ] {
            let rate = c.configured_rate(conf, "wlan0").unwrap();
            let (requests, replies) = echo_samples(c, port, wlan0.ifindex, mac, ipv4(t.get("dst")));
            let (ok_req, e_req, s_req) = within_4_sigma(requests.len(), t.num("sent"), rate);
            let (ok_rep, e_rep, s_rep) = within_4_sigma(replies.len(), t.num("received"), rate);
            v.compared += 2;
            let filter = c
                .agent_log(agent)
                .lines()
                .find(|l| l.contains("sampling wlan0"))
                .unwrap_or("")
                .to_string();
            v.check(
                &format!("ingress_{agent}"),
                ok_req,
                format!(
                    "{agent}: {} echo requests sampled for {} (expected {e_req:.1} +- {s_req:.1}); {filter}",
                    requests.len(),
                    t.num("sent")
                ),
            );
            let name = if agent == "agent_raw" {
                "classic_bpf_egress"
            } else {
                "egress_agent_bpf"
            };
            v.check(
                name,
                ok_rep,
                format!(
                    "{agent}: {} echo replies sampled for {} (expected {e_rep:.1} +- {s_rep:.1})",
                    replies.len(),
                    t.num("received")
                ),
            );
        }
    });
}

// ---------------------------------------------------------------------------
// g. Station to station through the AP (issue 15)

/// (input, output) -> samples.
type PortCounts = BTreeMap<(String, String), usize>;

#[test]
fn vm_relay() {
    scenario("relay", |c, v| {
        let wlan0 = c.dev("wlan0");
        let bridge = c
            .facts
            .iter()
            .find(|f| f.name == "ifindex br-lan")
            .and_then(|f| f.text.trim().parse::<u32>().ok());
        let phases: Vec<(f64, String)> = c
            .events_named("phase")
            .iter()
            .map(|e| (e.time, e.get("name").to_string()))
            .collect();
        let phase_at = |t: f64| {
            phases
                .iter()
                .rev()
                .find(|(start, _)| *start <= t)
                .map_or("before", |(_, n)| n.as_str())
        };
        let macs: BTreeMap<String, Mac> = c
            .events_named("station_added")
            .iter()
            .map(|e| (e.get("name").to_string(), parse_mac(e.get("mac")).unwrap()))
            .collect();
        let (sta1, sta2) = (macs["sta1"], macs["sta2"]);
        let label = |i: Interface| match (i.format, i.value) {
            (0, 0x3FFF_FFFF) => "internal".to_string(),
            (0, x) if x == wlan0.ifindex => "wlan0".to_string(),
            (0, x) if Some(x) == bridge => "br-lan".to_string(),
            (1, reason) => format!("discarded({reason})"),
            (2, n) => format!("multiple({n})"),
            (f, x) => format!("{f}:{x}"),
        };
        // (phase, what) -> (input, output) -> samples
        let mut table: BTreeMap<(String, String), PortCounts> = BTreeMap::new();
        for f in c.sflow.flows_of(6343, wlan0.ifindex) {
            let Some(e) = parse_ethernet(&f.header) else {
                continue;
            };
            // Every sample, named by its kind and ends.
            let who = |m: Mac| {
                if m == sta1 {
                    "sta1"
                } else if m == sta2 {
                    "sta2"
                } else if m == wlan0.addr {
                    "AP"
                } else if m == [0xff; 6] {
                    "broadcast"
                } else {
                    "other"
                }
            };
            let kind = match e.frame {
                Frame::IcmpEcho { request: true, .. } => "echo request",
                Frame::IcmpEcho { request: false, .. } => "echo reply",
                Frame::Arp { request: true, .. } => "ARP request",
                Frame::Arp { request: false, .. } => "ARP reply",
                Frame::LlcXid => "Layer-2 Update",
                Frame::Eapol => "EAPOL",
                Frame::OtherIpv4(_) => "other IPv4",
                Frame::Other(_) => "other",
            };
            let what = format!("{}->{} {kind}", who(e.src), who(e.dst));
            *table
                .entry((phase_at(f.time).to_string(), what))
                .or_default()
                .entry((label(f.input), label(f.output)))
                .or_default() += 1;
        }
        for ((phase, what), ports) in &table {
            v.figure(format!(
                "{phase}: {what}: (input, output) -> samples {ports:?}"
            ));
        }
        for phase in ["unbridged", "bridged"] {
            let sent = c
                .events_named("traffic")
                .iter()
                .filter(|e| phase_at(e.time) == phase && e.get("dst") == "10.0.1.3")
                .map(|e| (e.num("sent"), e.num("received")))
                .next()
                .unwrap_or((0, 0));
            let count = |what: &str| {
                table
                    .get(&(phase.to_string(), what.to_string()))
                    .map_or(0, |m| m.values().sum::<usize>()) as u64
            };
            let (req, rep) = (
                count("sta1->sta2 echo request"),
                count("sta2->sta1 echo reply"),
            );
            v.compared += 2;
            v.check(
                &format!("counted_once_{phase}"),
                req == sent.0 && rep == sent.1,
                format!(
                    "{phase}: {} requests sta1->sta2 sent, {req} sampled at 1-in-1; {} replies, {rep} sampled",
                    sent.0, sent.1
                ),
            );
            let wrong: Vec<String> = ["sta1->sta2 echo request", "sta2->sta1 echo reply"]
                .iter()
                .flat_map(|what| {
                    table
                        .get(&(phase.to_string(), what.to_string()))
                        .into_iter()
                        .flat_map(|m| m.iter())
                        .filter(|((i, o), _)| !(i == "wlan0" && o == "wlan0"))
                        .map(move |((i, o), n)| format!("{what}: {n} x ({i}, {o})"))
                })
                .collect();
            v.problems(
                &format!("ports_{phase}"),
                0,
                wrong,
                format!("{phase}: station-to-station frames reported as input = output = wlan0"),
            );
        }
    });
}

// ---------------------------------------------------------------------------
// The rig's own scripts

/// The guest scripts (busybox ash, which has `local`: checked as dash)
/// pass shellcheck; this needs no VM.
#[test]
fn vm_guest_scripts_pass_shellcheck() {
    let test = "vm_guest_scripts_pass_shellcheck";
    if !common::tool_or_skip("shellcheck", test) {
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut scripts = vec![root.join("scripts/vm/init")];
    for dir in ["tests/vm/guest", "tests/vm/scenarios"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        scripts.extend(files);
    }
    for script in &scripts {
        let out = std::process::Command::new("shellcheck")
            .args(["--shell=dash", "--severity=warning"])
            .arg(script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "shellcheck {}:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

// ---------------------------------------------------------------------------
// The run as a whole

/// Boot and association times, time per scenario: figures for the report
/// (and a failure if the VM itself did not run to the end).
#[test]
fn vm_run() {
    let Some(run) = rig::vm_run(SCENARIOS) else {
        return;
    };
    let mut report = format!(
        "=== VM run: {} accelerator, {:.1} s in all ===\n",
        run.accel, run.wall_seconds
    );
    if let Some(t) = run.marker_time("running") {
        report.push_str(&format!(
            "  qemu start -> scenarios start: {t:.1} s (kernel started at {:.1} s)\n",
            run.kernel_start
        ));
    }
    for name in &run.selected {
        let start = run.marker_time(&format!("scenario {name} start"));
        let end = run.marker_time(&format!("scenario {name} end"));
        let mut line = format!("  {name}: ");
        if let (Some(s), Some(e)) = (start, end) {
            line.push_str(&format!("{:.1} s", e - s));
        }
        if let Ok(out) = run.scenario(name) {
            let ev = events(&out);
            if let (Some(first), Some(assoc)) =
                (ev.first(), ev.iter().find(|e| e.name == "associated"))
            {
                let since_start = assoc.time - first.time;
                line.push_str(&format!(
                    ", first association {since_start:.1} s after the scenario started"
                ));
                if let Some(s) = start {
                    line.push_str(&format!(" ({:.1} s after qemu started)", s + since_start));
                }
            }
        }
        report.push_str(&line);
        report.push('\n');
    }
    println!("{report}");
    if let Some(why) = &run.failure {
        panic!(
            "the VM run failed: {why}\n{report}\n--- console ---\n{}",
            rig::tail(&run.console, 100)
        );
    }
}

// ---------------------------------------------------------------------------
// g. Station sources

/// The agents of the sources scenario: what each follows, where it sends.
const SOURCE_AGENTS: [(&str, u16); 3] = [("all", 6343), ("nl80211", 6344), ("hostapd", 6345)];

#[test]
fn vm_sources() {
    scenario("sources", |c, v| {
        let wlan0 = c.dev("wlan0");
        // Each agent's association counts against iw and hostapd_cli.
        for (name, port) in SOURCE_AGENTS {
            check_association_counts_at(
                c,
                v,
                &format!("association_counts_{name}"),
                Some(port),
                &["wlan0"],
                1.0,
            );
        }
        // The three agents' counts went through the same values in the
        // same order (they poll at their own moments: compared as
        // sequences of distinct values, not sample by sample).
        let steps = |port: u16| -> Vec<u32> {
            let mut seen: Vec<u32> = Vec::new();
            for s in c.sflow.counters_of(port, wlan0.ifindex) {
                if let Some(n) = s.dot11.map(|d| d.associated_station_count) {
                    if seen.last() != Some(&n) {
                        seen.push(n);
                    }
                }
            }
            seen
        };
        let all: Vec<(&str, Vec<u32>)> =
            SOURCE_AGENTS.iter().map(|&(n, p)| (n, steps(p))).collect();
        v.compared += all.len();
        v.check(
            "same_counts",
            all.iter().all(|(_, s)| s == &all[0].1 && s.len() >= 3),
            format!("association counts over time per agent: {all:?}"),
        );

        // The same frames (matched by their bytes) carry the same radio
        // record whichever source the agent follows: SSID, BSSID, channel
        // and version are iw's, the rate plausible (see plausible_rate;
        // each agent reads it at its own moments, so the three may
        // differ).
        let stations: Vec<(String, Mac)> = c
            .events_named("station_added")
            .iter()
            .map(|e| (e.get("name").to_string(), parse_mac(e.get("mac")).unwrap()))
            .collect();
        let ssid = wlan0.ssid.clone().unwrap_or_default().into_bytes();
        let mut problems = Vec::new();
        let (mut frames, mut compared) = (0, 0);
        for (sta, mac) in &stations {
            let by_agent: Vec<(&str, Vec<&Flow>)> = SOURCE_AGENTS
                .iter()
                .map(|&(n, p)| {
                    let (req, rep) = echo_samples(c, p, wlan0.ifindex, *mac, [10, 0, 1, 1]);
                    (n, req.into_iter().chain(rep).collect())
                })
                .collect();
            // When the station associated (the last time before a frame).
            let joined: Vec<f64> = c
                .events_named("associated")
                .iter()
                .filter(|e| e.get("name") == sta)
                .map(|e| e.time)
                .collect();
            for f in &by_agent[0].1 {
                frames += 1;
                let (rx_rates, tx_rates, _) =
                    station_radio(c, "wlan0", *mac, f.time - 3.0, f.time + 1.5);
                // A station that just joined has no rate in the kernel
                // until its first data frames, and the agent lists it at
                // once, then every polling interval (1 s here): for 2 s
                // after the association, "unknown" (0) is the truth too.
                let fresh = joined.iter().any(|&t| f.time >= t && f.time - t < 2.0);
                for (name, flows) in &by_agent {
                    let Some(g) = flows.iter().find(|g| g.header == f.header) else {
                        problems.push(format!(
                            "{sta}: a frame agent_all sampled, agent_{name} did not"
                        ));
                        continue;
                    };
                    compared += 1;
                    let fields = match (&g.rx, &g.tx) {
                        (Some(x), None) => Some((
                            x.ssid.clone(),
                            x.bssid,
                            x.channel,
                            x.version,
                            x.speed,
                            &rx_rates,
                        )),
                        (None, Some(x)) => Some((
                            x.ssid.clone(),
                            x.bssid,
                            x.channel,
                            x.version,
                            x.speed,
                            &tx_rates,
                        )),
                        _ => None,
                    };
                    match fields {
                        Some((s, b, ch, ver, speed, rates))
                            if s == ssid
                                && b == wlan0.addr
                                && Some(ch) == wlan0.channel
                                && version_agrees(ver, speed, wlan0.freq)
                                && (plausible_rate(rates, speed) || (fresh && speed == 0)) => {}
                        other => problems.push(format!(
                            "{sta}, agent_{name}: {other:?}; iw: ssid {:?} bssid {} channel {:?} rates {rates:?}",
                            wlan0.ssid,
                            fmt_mac(&wlan0.addr),
                            wlan0.channel,
                            rates = (&rx_rates, &tx_rates)
                        )),
                    }
                }
            }
        }
        v.problems(
            "same_radio_records",
            compared,
            problems,
            format!(
                "{frames} echo frames sampled by the three agents: the same 802.11 record, iw's SSID, BSSID and channel, a rate iw reported plausible and the version of that rate"
            ),
        );

        // Following hostapd never delays it: how long the hostapd-only
        // agent took to handle each control-socket message.
        let log = c.agent_log("agent_hostapd");
        let line = log.lines().rev().find(|l| l.contains("hostapd control:"));
        let max_us = line.and_then(|l| {
            let at = l.find("max ")? + 4;
            l[at..].split(' ').next()?.parse::<u64>().ok()
        });
        v.figure(format!(
            "agent_hostapd exit log: {}",
            line.unwrap_or("none")
        ));
        // Wall-clock time, under TCG, with some twenty processes on the
        // guest's two CPUs: a descheduled agent shows here. The host's
        // measurement (tests/hostapd_control.rs) gives the agent's own
        // cost; this bound says hostapd was never left waiting anywhere
        // near its own timeouts, and no request of ours timed out.
        let timed_out = line.and_then(|l| {
            let at = l.find(" replies, ")? + 10;
            l[at..].split(' ').next()?.parse::<u64>().ok()
        });
        v.check(
            "control_handling_time",
            max_us.is_some_and(|us| us < 100_000) && timed_out == Some(0),
            format!(
                "longest handling of a control-socket message: {max_us:?} µs (bound 100 ms under TCG), requests timed out: {timed_out:?}"
            ),
        );
    });
}

/// Whether `speed` is a rate the station's frames plausibly had around the
/// sample: a station's rate is the rate of its last frame, which flips
/// from frame to frame (EAPOL, null-data and group frames go at a basic
/// rate, data at what the rate control chose), and the agent reads it at
/// its own moments, iw at others. So: a legacy 802.11 rate when all that iw
/// read were legacy ones, not above the fastest iw read (a rate the station
/// never reached, or the wrong unit, fails), never 0 (none known).
fn plausible_rate(rates: &[u64], speed: u64) -> bool {
    const LEGACY: [u64; 12] = [
        1_000_000, 2_000_000, 5_500_000, 11_000_000, 6_000_000, 9_000_000, 12_000_000, 18_000_000,
        24_000_000, 36_000_000, 48_000_000, 54_000_000,
    ];
    let Some(&max) = rates.iter().max() else {
        return false;
    };
    let legacy = rates.iter().all(|r| LEGACY.contains(r));
    speed > 0 && speed <= max && (!legacy || LEGACY.contains(&speed))
}
