//! Property tests of the sFlow wire library: generated values survive
//! encode → decode unchanged, re-encoding a decoded datagram reproduces it
//! byte for byte, and no input whatsoever makes the decoder panic.

mod strategies;

use proptest::collection::vec;
use proptest::prelude::*;

use wsflowd::collect::render_datagram;
use wsflowd::mac::MacAddr;
use wsflowd::sflow::*;

// ---- Owned mirrors of the borrowed structures, for generation. ----

#[derive(Debug, Clone)]
enum OwnedFlow {
    Header(u32, u32, u32, Vec<u8>),
    Payload(u32, Vec<u8>),
    Rx(Vec<u8>, [u8; 6], [u32; 5], u64),
    Tx(Vec<u8>, [u8; 6], [u32; 6], u64),
    Unknown(u32, Vec<u8>),
}

#[derive(Debug, Clone)]
enum OwnedCounter {
    If(Box<IfCounters>),
    Ethernet(Box<EthernetCounters>),
    Dot11(Box<Ieee80211Counters>),
    Radio(RadioUtilization),
    Descr(Vec<u8>, [u8; 16], u32, u32, Vec<u8>),
    Adapters(Vec<(u32, Vec<[u8; 6]>)>),
    Cpu(Box<HostCpu>),
    Memory(Box<HostMemory>),
    NetIo(HostNetIo),
    Unknown(u32, Vec<u8>),
}

#[derive(Debug, Clone)]
enum OwnedSample {
    Flow {
        form: SampleForm,
        head: [u32; 4],
        source: DataSource,
        input: Interface,
        output: Interface,
        records: Vec<OwnedFlow>,
        aggregation: Option<Vec<Vec<OwnedFlow>>>,
    },
    Counters {
        form: SampleForm,
        sequence: u32,
        source: DataSource,
        records: Vec<OwnedCounter>,
    },
    Unknown(u32, Vec<u8>),
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

/// A data format that is not one of the known enterprise-0 formats.
fn unknown_format(known: &'static [u32]) -> impl Strategy<Value = u32> {
    any::<u32>().prop_filter("unknown format", move |f| {
        let (e, n) = split_format(*f);
        e != 0 || !known.contains(&n)
    })
}

fn flow_record() -> impl Strategy<Value = OwnedFlow> {
    prop_oneof![
        (any::<u32>(), any::<u32>(), any::<u32>(), bytes(200))
            .prop_map(|(p, l, s, h)| OwnedFlow::Header(p, l, s, h)),
        (any::<u32>(), bytes(64)).prop_map(|(c, d)| OwnedFlow::Payload(c, d)),
        (bytes(32), any::<[u8; 6]>(), any::<[u32; 5]>(), any::<u64>())
            .prop_map(|(s, b, v, sp)| OwnedFlow::Rx(s, b, v, sp)),
        (bytes(32), any::<[u8; 6]>(), any::<[u32; 6]>(), any::<u64>())
            .prop_map(|(s, b, v, sp)| OwnedFlow::Tx(s, b, v, sp)),
        (unknown_format(&[1, 1013, 1014, 1015, 1016]), bytes(40))
            .prop_map(|(f, d)| OwnedFlow::Unknown(f, d)),
    ]
}

fn finite_f32() -> impl Strategy<Value = f32> {
    any::<f32>().prop_filter("not NaN", |f| !f.is_nan())
}

fn counter_record() -> impl Strategy<Value = OwnedCounter> {
    let ifc = strategies::if_counters().prop_map(|c| OwnedCounter::If(Box::new(c)));
    let eth = strategies::ethernet_counters().prop_map(|c| OwnedCounter::Ethernet(Box::new(c)));
    let dot11 = strategies::ieee80211_counters().prop_map(|c| OwnedCounter::Dot11(Box::new(c)));
    let radio = strategies::radio().prop_map(OwnedCounter::Radio);
    let descr = (
        bytes(64),
        any::<[u8; 16]>(),
        any::<u32>(),
        any::<u32>(),
        bytes(32),
    )
        .prop_map(|(h, u, m, o, r)| OwnedCounter::Descr(h, u, m, o, r));
    let adapters =
        vec((any::<u32>(), vec(any::<[u8; 6]>(), 0..4)), 0..4).prop_map(OwnedCounter::Adapters);
    let cpu = (vec(finite_f32(), 3), any::<[u32; 14]>()).prop_map(|(l, a)| {
        OwnedCounter::Cpu(Box::new(HostCpu {
            load_one: l[0],
            load_five: l[1],
            load_fifteen: l[2],
            proc_run: a[0],
            proc_total: a[1],
            cpu_num: a[2],
            cpu_speed: a[3],
            uptime: a[4],
            cpu_user: a[5],
            cpu_nice: a[6],
            cpu_system: a[7],
            cpu_idle: a[8],
            cpu_wio: a[9],
            cpu_intr: a[10],
            cpu_sintr: a[11],
            interrupts: a[12],
            contexts: a[13],
        }))
    });
    let memory = (any::<[u64; 7]>(), any::<[u32; 4]>()).prop_map(|(b, a)| {
        OwnedCounter::Memory(Box::new(HostMemory {
            mem_total: b[0],
            mem_free: b[1],
            mem_shared: b[2],
            mem_buffers: b[3],
            mem_cached: b[4],
            swap_total: b[5],
            swap_free: b[6],
            page_in: a[0],
            page_out: a[1],
            swap_in: a[2],
            swap_out: a[3],
        }))
    });
    let net = (any::<[u64; 2]>(), any::<[u32; 6]>()).prop_map(|(b, a)| {
        OwnedCounter::NetIo(HostNetIo {
            bytes_in: b[0],
            pkts_in: a[0],
            errs_in: a[1],
            drops_in: a[2],
            bytes_out: b[1],
            packets_out: a[3],
            errs_out: a[4],
            drops_out: a[5],
        })
    });
    let unknown = (
        unknown_format(&[1, 2, 6, 1002, 2000, 2001, 2003, 2004, 2006]),
        bytes(40),
    )
        .prop_map(|(f, d)| OwnedCounter::Unknown(f, d));
    prop_oneof![ifc, eth, dot11, radio, descr, adapters, cpu, memory, net, unknown]
}

fn interface(form: SampleForm) -> BoxedStrategy<Interface> {
    match form {
        SampleForm::Compact => (0u32..4, 0u32..(1 << 30))
            .prop_map(|(format, value)| Interface { format, value })
            .boxed(),
        SampleForm::Expanded => any::<(u32, u32)>()
            .prop_map(|(format, value)| Interface { format, value })
            .boxed(),
    }
}

fn source(form: SampleForm) -> BoxedStrategy<DataSource> {
    match form {
        SampleForm::Compact => (0u32..256, 0u32..(1 << 24))
            .prop_map(|(kind, index)| DataSource { kind, index })
            .boxed(),
        SampleForm::Expanded => any::<(u32, u32)>()
            .prop_map(|(kind, index)| DataSource { kind, index })
            .boxed(),
    }
}

fn sample() -> impl Strategy<Value = OwnedSample> {
    let form = prop_oneof![Just(SampleForm::Compact), Just(SampleForm::Expanded)];
    let flow = form.clone().prop_flat_map(|form| {
        (
            any::<[u32; 4]>(),
            source(form),
            interface(form),
            interface(form),
            vec(flow_record(), 0..4),
            proptest::option::of(vec(vec(flow_record(), 0..3), 0..3)),
        )
            .prop_map(move |(head, source, input, output, records, aggregation)| {
                OwnedSample::Flow {
                    form,
                    head,
                    source,
                    input,
                    output,
                    records,
                    aggregation,
                }
            })
    });
    let counters = form.prop_flat_map(|form| {
        (any::<u32>(), source(form), vec(counter_record(), 0..5)).prop_map(
            move |(sequence, source, records)| OwnedSample::Counters {
                form,
                sequence,
                source,
                records,
            },
        )
    });
    let unknown =
        (unknown_format(&[1, 2, 3, 4]), bytes(40)).prop_map(|(f, d)| OwnedSample::Unknown(f, d));
    prop_oneof![flow, counters, unknown]
}

// ---- Borrowing the owned values as wire structures. ----

fn flow(r: &OwnedFlow) -> FlowRecord<'_> {
    match r {
        OwnedFlow::Header(p, l, s, h) => FlowRecord::SampledHeader(SampledHeader {
            protocol: HeaderProtocol(*p),
            frame_length: *l,
            stripped: *s,
            header: h,
        }),
        OwnedFlow::Payload(c, d) => FlowRecord::Extended80211Payload(Extended80211Payload {
            cipher_suite: *c,
            data: d,
        }),
        OwnedFlow::Rx(ssid, bssid, v, speed) => FlowRecord::Extended80211Rx(Extended80211Rx {
            ssid,
            bssid: *bssid,
            version: Ieee80211Version(v[0]),
            channel: v[1],
            speed: *speed,
            rsni: v[2],
            rcpi: v[3],
            packet_duration: v[4],
        }),
        OwnedFlow::Tx(ssid, bssid, v, speed) => FlowRecord::Extended80211Tx(Extended80211Tx {
            ssid,
            bssid: *bssid,
            version: Ieee80211Version(v[0]),
            transmissions: v[1],
            packet_duration: v[2],
            retrans_duration: v[3],
            channel: v[4],
            speed: *speed,
            power: v[5],
        }),
        OwnedFlow::Unknown(format, data) => FlowRecord::Unknown {
            format: *format,
            data,
        },
    }
}

/// Builds the wire datagram from owned samples and passes it to `check`.
fn with_datagram<R>(
    samples: &[OwnedSample],
    agent: Option<std::net::IpAddr>,
    check: impl FnOnce(&Datagram) -> R,
) -> R {
    // Storage that the borrowed structures point into, built in layers.
    let flows: Vec<Vec<FlowRecord>> = samples
        .iter()
        .map(|s| match s {
            OwnedSample::Flow { records, .. } => records.iter().map(flow).collect(),
            _ => Vec::new(),
        })
        .collect();
    let pdu_records: Vec<Vec<Vec<FlowRecord>>> = samples
        .iter()
        .map(|s| match s {
            OwnedSample::Flow {
                aggregation: Some(pdus),
                ..
            } => pdus.iter().map(|p| p.iter().map(flow).collect()).collect(),
            _ => Vec::new(),
        })
        .collect();
    let pdus: Vec<Vec<Pdu>> = pdu_records
        .iter()
        .map(|p| {
            p.iter()
                .map(|r| Pdu {
                    records: List::Items(r),
                })
                .collect()
        })
        .collect();
    let macs: Vec<Vec<Vec<MacAddr>>> = samples
        .iter()
        .map(|s| match s {
            OwnedSample::Counters { records, .. } => records
                .iter()
                .map(|r| match r {
                    OwnedCounter::Adapters(a) => a
                        .iter()
                        .flat_map(|(_, m)| m.iter().map(|m| MacAddr(*m)))
                        .collect(),
                    _ => Vec::new(),
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let adapters: Vec<Vec<Vec<HostAdapter>>> = samples
        .iter()
        .zip(&macs)
        .map(|(s, sample_macs)| match s {
            OwnedSample::Counters { records, .. } => records
                .iter()
                .zip(sample_macs)
                .map(|(r, m)| match r {
                    OwnedCounter::Adapters(a) => {
                        let mut at = 0;
                        a.iter()
                            .map(|(if_index, list)| {
                                let h = HostAdapter {
                                    if_index: *if_index,
                                    mac_addresses: List::Items(&m[at..at + list.len()]),
                                };
                                at += list.len();
                                h
                            })
                            .collect()
                    }
                    _ => Vec::new(),
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let flow_with_agg: Vec<Vec<FlowRecord>> = samples
        .iter()
        .zip(&flows)
        .zip(&pdus)
        .map(|((s, f), p)| {
            let mut v = f.clone();
            if let OwnedSample::Flow {
                aggregation: Some(_),
                ..
            } = s
            {
                v.push(FlowRecord::Extended80211Aggregation(
                    Extended80211Aggregation {
                        pdus: List::Items(p),
                    },
                ));
            }
            v
        })
        .collect();
    let counter_records: Vec<Vec<CounterRecord>> = samples
        .iter()
        .zip(&adapters)
        .map(|(s, ad)| match s {
            OwnedSample::Counters { records, .. } => records
                .iter()
                .zip(ad)
                .map(|(r, a)| match r {
                    OwnedCounter::If(c) => CounterRecord::Interface(**c),
                    OwnedCounter::Ethernet(c) => CounterRecord::Ethernet(**c),
                    OwnedCounter::Dot11(c) => CounterRecord::Ieee80211(**c),
                    OwnedCounter::Radio(c) => CounterRecord::RadioUtilization(*c),
                    OwnedCounter::Descr(h, u, m, o, r) => CounterRecord::HostDescr(HostDescr {
                        hostname: h,
                        uuid: *u,
                        machine_type: *m,
                        os_name: *o,
                        os_release: r,
                    }),
                    OwnedCounter::Adapters(_) => CounterRecord::HostAdapters(HostAdapters {
                        adapters: List::Items(a),
                    }),
                    OwnedCounter::Cpu(c) => CounterRecord::HostCpu(**c),
                    OwnedCounter::Memory(c) => CounterRecord::HostMemory(**c),
                    OwnedCounter::NetIo(c) => CounterRecord::HostNetIo(*c),
                    OwnedCounter::Unknown(format, data) => CounterRecord::Unknown {
                        format: *format,
                        data,
                    },
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let wire: Vec<Sample> = samples
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            OwnedSample::Flow {
                form,
                head,
                source,
                input,
                output,
                ..
            } => Sample::Flow(
                *form,
                FlowSample {
                    sequence_number: head[0],
                    source: *source,
                    sampling_rate: head[1],
                    sample_pool: head[2],
                    drops: head[3],
                    input: *input,
                    output: *output,
                    records: List::Items(&flow_with_agg[i]),
                },
            ),
            OwnedSample::Counters {
                form,
                sequence,
                source,
                ..
            } => Sample::Counters(
                *form,
                CountersSample {
                    sequence_number: *sequence,
                    source: *source,
                    records: List::Items(&counter_records[i]),
                },
            ),
            OwnedSample::Unknown(format, data) => Sample::Unknown {
                format: *format,
                data,
            },
        })
        .collect();
    let datagram = Datagram {
        agent_address: agent,
        sub_agent_id: 3,
        sequence_number: 77,
        uptime: 123_456,
        samples: List::Items(&wire),
    };
    check(&datagram)
}

fn encode(d: &impl Encode) -> Vec<u8> {
    let mut buf = vec![0u8; 1 << 20];
    let mut w = Writer::new(&mut buf);
    d.encode(&mut w).expect("encodes");
    w.written().to_vec()
}

fn agent() -> impl Strategy<Value = Option<std::net::IpAddr>> {
    prop_oneof![
        Just(None),
        any::<[u8; 4]>().prop_map(|a| Some(a.into())),
        any::<[u8; 16]>().prop_map(|a| Some(a.into())),
    ]
}

/// Decodes everything, as a collector printing it would.
fn walk(bytes: &[u8]) -> usize {
    let mut lines = 0;
    let _ = render_datagram(None, bytes, true, |_| lines += 1);
    let _ = render_datagram(None, bytes, false, |_| lines += 1);
    lines
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn datagrams_round_trip(samples in vec(sample(), 0..6), agent in agent()) {
        with_datagram(&samples, agent, |datagram| {
            let bytes = encode(datagram);
            let decoded = Datagram::parse(&bytes).expect("our own datagram decodes");
            prop_assert_eq!(&decoded, datagram);
            // Every sample and record decodes, nothing is an error.
            for s in decoded.samples.iter() {
                match s.expect("sample") {
                    Sample::Flow(_, f) => {
                        for r in f.records.iter() {
                            if let FlowRecord::Extended80211Aggregation(a) = r.expect("record") {
                                for p in a.pdus.iter() {
                                    for r in p.expect("pdu").records.iter() {
                                        r.expect("pdu record");
                                    }
                                }
                            }
                        }
                    }
                    Sample::Counters(_, c) => {
                        for r in c.records.iter() {
                            r.expect("record");
                        }
                    }
                    Sample::Unknown { .. } => {}
                }
            }
            // A decoded datagram re-encodes to the same bytes.
            prop_assert_eq!(encode(&decoded), bytes.clone());
            prop_assert_eq!(walk(&bytes), 2 * samples.len());
            Ok(())
        })?;
    }

    #[test]
    fn packer_output_decodes_to_what_was_pushed(samples in vec(sample(), 1..20), agent in agent(), max in 256usize..2000) {
        // Only flow and counter samples go through the packer, all in one form.
        let samples: Vec<OwnedSample> = samples.into_iter().filter(|s| !matches!(s, OwnedSample::Unknown(..))).collect();
        with_datagram(&samples, agent, |datagram| {
            let mut packer = DatagramPacker::new(PackerConfig {
                agent_address: agent,
                sub_agent_id: 9,
                max_datagram_bytes: max,
                form: SampleForm::Expanded,
            });
            let mut out: Vec<Vec<u8>> = Vec::new();
            let mut pushed = Vec::new();
            for s in datagram.samples.iter() {
                let r = match s.unwrap() {
                    Sample::Flow(_, f) => packer.push_flow(&f, 5, &mut |d: &[u8]| out.push(d.to_vec())),
                    Sample::Counters(_, c) => packer.push_counters(&c, 5, &mut |d: &[u8]| out.push(d.to_vec())),
                    Sample::Unknown { .. } => unreachable!(),
                };
                match r {
                    Ok(()) => pushed.push(s.unwrap()),
                    // Too large for the datagram size: refused, nothing sent.
                    Err(EncodeError::NoSpace) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            packer.flush(6, &mut |d: &[u8]| out.push(d.to_vec()));
            let mut got = Vec::new();
            for (i, d) in out.iter().enumerate() {
                prop_assert!(d.len() <= max);
                let p = Datagram::parse(d).unwrap();
                prop_assert_eq!(p.sequence_number, i as u32 + 1);
                prop_assert_eq!(p.agent_address, agent);
                prop_assert!(!p.samples.is_empty());
                got.extend(p.samples.iter().map(Result::unwrap));
            }
            prop_assert_eq!(got.len(), pushed.len());
            for (g, p) in got.iter().zip(&pushed) {
                // The packer writes every sample in its own (expanded) form.
                match (g, p) {
                    (Sample::Flow(SampleForm::Expanded, a), Sample::Flow(_, b)) => prop_assert_eq!(a, b),
                    (Sample::Counters(SampleForm::Expanded, a), Sample::Counters(_, b)) => prop_assert_eq!(a, b),
                    _ => prop_assert!(false, "sample kind or form changed"),
                }
            }
            Ok(())
        })?;
    }

    #[test]
    fn decoder_never_panics_on_random_bytes(bytes in vec(any::<u8>(), 0..600)) {
        walk(&bytes);
        let mut with_header = vec![0, 0, 0, 5, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
        with_header.extend_from_slice(&bytes);
        walk(&with_header);
    }

    #[test]
    fn decoder_never_panics_on_mutated_datagrams(
        samples in vec(sample(), 1..4),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = with_datagram(&samples, Some([192, 0, 2, 1].into()), |d| encode(d));
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        walk(&bytes);
        let end = cut.index(bytes.len() + 1);
        walk(&bytes[..end]);
    }
}
