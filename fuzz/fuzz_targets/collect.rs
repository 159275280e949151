//! Fuzzes what `wsflowd collect --prometheus --stations` does with the
//! datagrams it receives: any bytes, taken in as one datagram, then again
//! a second later (a duplicate), then cut in two (two datagrams of one
//! agent), by the fleet state (small limits, per-station series on, so
//! that the caps are hit) and the station table; then expiry, a snapshot
//! rendered in both formats, and the bytes as an HTTP request head.
//! Nothing may panic; the exposition must be well-formed line by line.
//!
//! Seed corpus: the sflow_datagram corpus (`make fuzz-seeds` copies it).

#![no_main]

use libfuzzer_sys::fuzz_target;
use wsflowd::collect::fleet::{Fleet, Limits, Now};
use wsflowd::collect::http::parse_request;
use wsflowd::collect::metrics::render;
use wsflowd::collect::stations::StationTable;
use wsflowd::sflow::Datagram;

fn at(ms: u64) -> Now {
    Now {
        mono_ms: ms,
        unix_ms: 1_700_000_000_000 + ms,
    }
}

fn check_exposition(text: &str, openmetrics: bool) {
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        // name{labels} value, or name value: the value parses, the labels
        // hold no raw newline (lines() would have split them).
        let (_, value) = line.rsplit_once(' ').expect("a value after a space");
        assert!(
            value.parse::<f64>().is_ok() || value == "NaN" || value.ends_with("Inf"),
            "{line}"
        );
        assert!(line.starts_with("wsflowd_"), "{line}");
    }
    assert_eq!(openmetrics, text.ends_with("# EOF\n"));
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        agents: 2,
        series: 8,
        stations: 4,
        agent_ttl_ms: 10_000,
        station_ttl_ms: 5_000,
        station_series: true,
    };
    let mut fleet = Fleet::new(limits);
    let mut table = StationTable::new(5_000, 4);
    let half = data.len() / 2;
    for (ms, bytes) in [
        (0, data),
        (1_000, data),
        (2_000, &data[..half]),
        (2_500, &data[half..]),
    ] {
        let _ = fleet.datagram(bytes, at(ms));
        if let Ok(d) = Datagram::parse(bytes) {
            table.datagram(&d, at(ms));
        }
    }
    let _ = table.take_events();
    for ms in [3_000, 60_000] {
        let mut snapshot = fleet.snapshot(at(ms), Some(1));
        check_exposition(&render(&mut snapshot.clone(), false), false);
        check_exposition(&render(&mut snapshot, true), true);
        fleet.expire(at(ms));
        table.expire(at(ms));
    }
    assert!(fleet.agents.len() <= 2 && fleet.stations.len() <= 4 && fleet.series <= 8);
    assert!(table.len() <= 4);
    let _ = parse_request(&String::from_utf8_lossy(data));
});
