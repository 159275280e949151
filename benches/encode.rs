//! Encoding benchmark: nanoseconds and heap allocations per sample.
//!
//! Run with `make bench` (or `cargo bench --bench encode`). Measures the
//! agent's hot path as it ships (release profile): building a flow sample
//! with a 128-byte header and an `extended_80211_rx` record and packing it
//! into datagrams, and packing a datagram's worth of counter samples.
//! Allocations are counted by a wrapping global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use wsflowd::sflow::*;

struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on unchanged to the system allocator, which
// upholds GlobalAlloc's contract; counting has no effect on the memory.
unsafe impl GlobalAlloc for CountingAllocator {
    // SAFETY: GlobalAlloc's contract, passed on to System unchanged.
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's guarantees for `layout` are System's.
        unsafe { System.alloc(layout) }
    }
    // SAFETY: GlobalAlloc's contract, passed on to System unchanged.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from System,
        // with `layout` (the caller's guarantee).
        unsafe { System.dealloc(ptr, layout) }
    }
    // SAFETY: GlobalAlloc's contract, passed on to System unchanged.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for dealloc, and `new_size` is valid (the caller's
        // guarantee).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Counts datagrams and bytes, as a collector socket would receive them.
#[derive(Default)]
struct NullSink {
    datagrams: u64,
    bytes: u64,
}

impl DatagramSink for NullSink {
    fn send_datagram(&mut self, datagram: &[u8]) {
        self.datagrams += 1;
        self.bytes += datagram.len() as u64;
        black_box(datagram);
    }
}

struct Figures {
    name: &'static str,
    iterations: u64,
    nanos: f64,
    allocations: u64,
    datagrams: u64,
    bytes: u64,
}

fn report(f: &Figures) {
    println!(
        "{:<44} {:>9.1} ns/sample {:>8.4} allocations/sample  {:>6.1} samples/datagram  ({} samples, {} datagrams of {:.0} bytes)",
        f.name,
        f.nanos / f.iterations as f64,
        f.allocations as f64 / f.iterations as f64,
        f.iterations as f64 / f.datagrams.max(1) as f64,
        f.iterations,
        f.datagrams,
        f.bytes as f64 / f.datagrams.max(1) as f64,
    );
}

fn packer(agent: &str) -> DatagramPacker {
    DatagramPacker::new(PackerConfig {
        agent_address: Some(agent.parse().unwrap()),
        sub_agent_id: 0,
        max_datagram_bytes: 1400,
        form: SampleForm::Compact,
    })
}

fn bench_flow(iterations: u64) -> Figures {
    let header: Vec<u8> = (0..128u32).map(|i| i as u8).collect();
    let mut packer = packer("192.0.2.1");
    let mut sink = NullSink::default();
    let mut sequence = SequenceNumber::default();
    // Warm up: the packer's buffer exists, caches are hot.
    let run =
        |n: u64, packer: &mut DatagramPacker, sink: &mut NullSink, seq: &mut SequenceNumber| {
            for i in 0..n {
                let records = [
                    FlowRecord::SampledHeader(SampledHeader {
                        protocol: HeaderProtocol::IEEE80211,
                        frame_length: 1500,
                        stripped: 4,
                        header: black_box(&header),
                    }),
                    FlowRecord::Extended80211Rx(Extended80211Rx {
                        ssid: b"OpenWrt",
                        bssid: [2, 0, 0, 0, 0, 1],
                        version: Ieee80211Version::N,
                        channel: 36,
                        speed: 300_000_000,
                        rsni: 40,
                        rcpi: 120,
                        packet_duration: 48,
                    }),
                ];
                let sample = FlowSample {
                    sequence_number: seq.advance(),
                    source: DataSource::interface(5),
                    sampling_rate: 400,
                    sample_pool: (i * 400) as u32,
                    drops: 0,
                    input: Interface::index(5),
                    output: Interface::index(2),
                    records: List::Items(&records),
                };
                packer.push_flow(&sample, i as u32, sink).unwrap();
            }
            packer.flush(0, sink);
        };
    run(10_000, &mut packer, &mut sink, &mut sequence);
    let mut sink = NullSink::default();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let start = Instant::now();
    run(iterations, &mut packer, &mut sink, &mut sequence);
    let nanos = start.elapsed().as_nanos() as f64;
    Figures {
        name: "flow sample: 128-byte header + 80211_rx",
        iterations,
        nanos,
        allocations: ALLOCATIONS.load(Ordering::Relaxed) - before,
        datagrams: sink.datagrams,
        bytes: sink.bytes,
    }
}

fn bench_counters(iterations: u64) -> Figures {
    let mut packer = packer("192.0.2.1");
    let mut sink = NullSink::default();
    let mut sequence = SequenceNumber::default();
    let run =
        |n: u64, packer: &mut DatagramPacker, sink: &mut NullSink, seq: &mut SequenceNumber| {
            for i in 0..n {
                let ifc = IfCounters {
                    if_index: (i % 8) as u32 + 1,
                    if_type: 71,
                    speed: 1_000_000_000,
                    direction: 1,
                    status: 3,
                    in_octets: i * 1500,
                    in_ucast_pkts: i as u32,
                    out_octets: i * 1400,
                    out_ucast_pkts: i as u32,
                    ..IfCounters::default()
                };
                let mut dot11 = Ieee80211Counters::UNAVAILABLE;
                dot11.associated_station_count = 12;
                let records = [
                    CounterRecord::Interface(black_box(ifc)),
                    CounterRecord::Ieee80211(dot11),
                    CounterRecord::RadioUtilization(RadioUtilization {
                        elapsed_time: 20_000,
                        on_channel_time: 20_000,
                        on_channel_busy_time: 5_000,
                    }),
                ];
                let sample = CountersSample {
                    sequence_number: seq.advance(),
                    source: DataSource::interface(ifc.if_index),
                    records: List::Items(&records),
                };
                packer.push_counters(&sample, i as u32, sink).unwrap();
            }
            packer.flush(0, sink);
        };
    run(10_000, &mut packer, &mut sink, &mut sequence);
    let mut sink = NullSink::default();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let start = Instant::now();
    run(iterations, &mut packer, &mut sink, &mut sequence);
    let nanos = start.elapsed().as_nanos() as f64;
    Figures {
        name: "counter sample: if + 802.11 + radio",
        iterations,
        nanos,
        allocations: ALLOCATIONS.load(Ordering::Relaxed) - before,
        datagrams: sink.datagrams,
        bytes: sink.bytes,
    }
}

/// Decoding, for reference: parse a datagram and visit every field.
fn bench_decode(iterations: u64) -> Figures {
    let mut datagram = Vec::new();
    {
        let header = [0u8; 128];
        let mut p = packer("192.0.2.1");
        let records = [
            FlowRecord::SampledHeader(SampledHeader {
                protocol: HeaderProtocol::ETHERNET,
                frame_length: 1500,
                stripped: 4,
                header: &header,
            }),
            FlowRecord::Extended80211Rx(Extended80211Rx {
                ssid: b"OpenWrt",
                bssid: [2, 0, 0, 0, 0, 1],
                version: Ieee80211Version::N,
                channel: 36,
                speed: 1,
                rsni: 1,
                rcpi: 1,
                packet_duration: 1,
            }),
        ];
        for s in 0..6 {
            let sample = FlowSample {
                sequence_number: s,
                source: DataSource::interface(5),
                sampling_rate: 400,
                sample_pool: 0,
                drops: 0,
                input: Interface::index(5),
                output: Interface::UNKNOWN,
                records: List::Items(&records),
            };
            p.push_flow(&sample, 0, &mut |_: &[u8]| {}).unwrap();
        }
        p.flush(0, &mut |d: &[u8]| datagram.extend_from_slice(d));
    }
    let samples_per = Datagram::parse(&datagram).unwrap().samples.len() as u64;
    let start = Instant::now();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut total = 0u64;
    for _ in 0..iterations / samples_per {
        let d = Datagram::parse(black_box(&datagram)).unwrap();
        for s in d.samples.iter() {
            if let Ok(Sample::Flow(_, f)) = s {
                for r in f.records.iter() {
                    total += u64::from(r.unwrap().format());
                }
            }
        }
    }
    black_box(total);
    let done = iterations / samples_per * samples_per;
    Figures {
        name: "decode: datagram of flow samples (reference)",
        iterations: done,
        nanos: start.elapsed().as_nanos() as f64,
        allocations: ALLOCATIONS.load(Ordering::Relaxed) - before,
        datagrams: done / samples_per,
        bytes: done / samples_per * datagram.len() as u64,
    }
}

fn main() {
    // `cargo bench` passes --bench; extra arguments are ignored.
    let quick = std::env::var_os("WSFLOWD_BENCH_QUICK").is_some_and(|v| v != "0");
    let n = if quick { 100_000 } else { 5_000_000 };
    println!(
        "wsflowd encode benchmark ({} samples per run, release profile)",
        n
    );
    for f in [bench_flow(n), bench_counters(n), bench_decode(n)] {
        report(&f);
    }
}
