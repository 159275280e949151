//! Golden tests: every structure encoded by hand from the text of the
//! specifications (`../shared/specs/`), compared byte for byte with the
//! encoder's output, then decoded back.

use std::net::IpAddr;

use wsflowd::mac::MacAddr;
use wsflowd::sflow::*;

/// Parses hex written one XDR item per line; `#` starts a comment.
fn hex(text: &str) -> Vec<u8> {
    let digits: String = text
        .lines()
        .map(|l| l.split('#').next().unwrap())
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    assert_eq!(digits.len() % 2, 0, "odd number of hex digits");
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

fn encode(item: &impl Encode) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut w = Writer::new(&mut buf);
    item.encode(&mut w).expect("encodes");
    w.written().to_vec()
}

fn flow_roundtrip(record: FlowRecord, expected: &str) {
    let bytes = encode(&record);
    assert_eq!(bytes, hex(expected), "encoding of {}", record.name());
    let mut r = Reader::new(&bytes);
    let decoded = FlowRecord::decode(&mut r).expect("decodes");
    assert!(r.is_empty());
    assert_eq!(decoded, record);
}

fn counter_roundtrip(record: CounterRecord, expected: &str) {
    let bytes = encode(&record);
    assert_eq!(bytes, hex(expected), "encoding of {}", record.name());
    let mut r = Reader::new(&bytes);
    let decoded = CounterRecord::decode(&mut r).expect("decodes");
    assert!(r.is_empty());
    assert_eq!(decoded, record);
}

const BSSID: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

#[test]
fn datagram_header_ipv4() {
    let d = Datagram {
        agent_address: Some("192.0.2.1".parse().unwrap()),
        sub_agent_id: 7,
        sequence_number: 42,
        uptime: 1000,
        samples: List::Items(&[]),
    };
    let expected = "
        00000005  # version 5
        00000001  # address type IP_V4
        c0000201  # 192.0.2.1
        00000007  # sub_agent_id
        0000002a  # sequence_number 42
        000003e8  # uptime 1000 ms
        00000000  # samples<> count
    ";
    assert_eq!(encode(&d), hex(expected));
    let bytes = hex(expected);
    assert_eq!(Datagram::parse(&bytes).unwrap(), d);
}

#[test]
fn datagram_header_ipv6_and_unknown() {
    let d = Datagram {
        agent_address: Some("2001:db8::1".parse().unwrap()),
        sub_agent_id: 0,
        sequence_number: 1,
        uptime: 0xfffffffe,
        samples: List::Items(&[]),
    };
    let expected = "
        00000005
        00000002                          # IP_V6
        20010db8 00000000 00000000 00000001
        00000000 00000001 fffffffe 00000000
    ";
    assert_eq!(encode(&d), hex(expected));
    assert_eq!(Datagram::parse(&hex(expected)).unwrap(), d);
    let unknown = Datagram {
        agent_address: None,
        ..d
    };
    assert_eq!(
        encode(&unknown),
        hex("00000005 00000000 00000000 00000001 fffffffe 00000000")
    );
}

#[test]
fn sampled_header_record() {
    let r = FlowRecord::SampledHeader(SampledHeader {
        protocol: HeaderProtocol::ETHERNET,
        frame_length: 64,
        stripped: 4,
        header: b"abcde",
    });
    flow_roundtrip(
        r,
        "
        00000001            # flow_format: enterprise 0, format 1
        00000018            # flow_data length 24
        00000001            # protocol ETHERNET-ISO88023
        00000040            # frame_length 64
        00000004            # stripped 4 (FCS)
        00000005            # header<> length
        61626364 65000000   # 'abcde' padded to 8
    ",
    );
}

#[test]
fn sampled_header_80211_protocols() {
    for (protocol, code) in [
        (HeaderProtocol::IPV4, "0000000b"),
        (HeaderProtocol::IPV6, "0000000c"),
        (HeaderProtocol::IEEE80211, "0000000f"),
        (HeaderProtocol::IEEE80211_AMPDU, "00000010"),
        (HeaderProtocol::IEEE80211_AMSDU_SUBFRAME, "00000011"),
    ] {
        let r = FlowRecord::SampledHeader(SampledHeader {
            protocol,
            frame_length: 1500,
            stripped: 0,
            header: &[0x88, 0x41, 0x2c, 0x00],
        });
        flow_roundtrip(
            r,
            &format!("00000001 00000014 {code} 000005dc 00000000 00000004 88412c00"),
        );
    }
}

#[test]
fn extended_80211_payload_record() {
    flow_roundtrip(
        FlowRecord::Extended80211Payload(Extended80211Payload {
            cipher_suite: 0x000fac04,
            data: b"\xaa\xaa\x03",
        }),
        "
        000003f5            # format 1013
        0000000c            # length 12
        000fac04            # cipher suite 00-0F-AC:4 (CCMP)
        00000003 aaaa0300   # data<>
    ",
    );
}

#[test]
fn extended_80211_rx_record() {
    flow_roundtrip(
        FlowRecord::Extended80211Rx(Extended80211Rx {
            ssid: b"abc",
            bssid: BSSID,
            version: Ieee80211Version::N,
            channel: 36,
            speed: 144_400_000,
            rsni: 30,
            rcpi: 110,
            packet_duration: 152,
        }),
        "
        000003f6            # format 1014
        0000002c            # length 44
        00000003 61626300   # ssid<32> 'abc'
        02112233 44550000   # bssid, mac padded to 8
        00000004            # version n
        00000024            # channel 36
        00000000 089b5e80   # speed 144400000 bit/s (unsigned hyper)
        0000001e            # rsni 30
        0000006e            # rcpi 110
        00000098            # packet_duration 152 us
    ",
    );
}

#[test]
fn extended_80211_tx_record() {
    flow_roundtrip(
        FlowRecord::Extended80211Tx(Extended80211Tx {
            ssid: b"OpenWrt",
            bssid: BSSID,
            version: Ieee80211Version::G,
            transmissions: 3,
            packet_duration: 200,
            retrans_duration: 400,
            channel: 6,
            speed: 54_000_000,
            power: 100,
        }),
        "
        000003f7            # format 1015
        00000034            # length 52
        00000007 4f70656e 57727400   # ssid 'OpenWrt' padded
        02112233 44550000   # bssid
        00000003            # version g
        00000003            # transmissions: 2 retransmissions
        000000c8            # packet_duration 200
        00000190            # retrans_duration 400
        00000006            # channel 6
        00000000 0337f980   # speed 54 Mbit/s
        00000064            # power 100 mW
    ",
    );
}

#[test]
fn extended_80211_aggregation_record() {
    let inner = [FlowRecord::SampledHeader(SampledHeader {
        protocol: HeaderProtocol::IEEE80211,
        frame_length: 100,
        stripped: 4,
        header: &[1, 2, 3, 4],
    })];
    let pdus = [
        Pdu {
            records: List::Items(&inner),
        },
        Pdu {
            records: List::Items(&[]),
        },
    ];
    flow_roundtrip(
        FlowRecord::Extended80211Aggregation(Extended80211Aggregation {
            pdus: List::Items(&pdus),
        }),
        "
        000003f8            # format 1016
        00000028            # length 40
        00000002            # pdus<> count
          00000001          # pdu 1: flow_records<> count
            00000001 00000014 0000000f 00000064 00000004 00000004 01020304
          00000000          # pdu 2: no records
    ",
    );
}

#[test]
fn nested_aggregation_is_refused_both_ways() {
    let inner_pdus = [Pdu {
        records: List::Items(&[]),
    }];
    let nested = [FlowRecord::Extended80211Aggregation(
        Extended80211Aggregation {
            pdus: List::Items(&inner_pdus),
        },
    )];
    let pdus = [Pdu {
        records: List::Items(&nested),
    }];
    let outer = FlowRecord::Extended80211Aggregation(Extended80211Aggregation {
        pdus: List::Items(&pdus),
    });
    let mut buf = [0u8; 256];
    assert!(matches!(
        outer.encode(&mut Writer::new(&mut buf)),
        Err(EncodeError::Invalid(_))
    ));
    let bytes = hex("
        000003f8 00000018 00000001
          00000001 000003f8 0000000c 00000001 00000000 00000000
    ");
    let err = FlowRecord::decode(&mut Reader::new(&bytes)).unwrap_err();
    assert_eq!(err.offset, 16);
    assert!(matches!(err.kind, DecodeErrorKind::Invalid(_)));
}

fn flow_sample_fixture<'a>(records: &'a [FlowRecord<'a>]) -> FlowSample<'a> {
    FlowSample {
        sequence_number: 9,
        source: DataSource::interface(3),
        sampling_rate: 400,
        sample_pool: 123_456,
        drops: 2,
        input: Interface::index(3),
        output: Interface::INTERNAL,
        records: List::Items(records),
    }
}

const HEADER_RECORD: &str = "00000001 00000014 00000001 0000003c 00000004 00000004 deadbeef";

fn header_record() -> [FlowRecord<'static>; 1] {
    [FlowRecord::SampledHeader(SampledHeader {
        protocol: HeaderProtocol::ETHERNET,
        frame_length: 60,
        stripped: 4,
        header: &[0xde, 0xad, 0xbe, 0xef],
    })]
}

#[test]
fn flow_sample_compact() {
    let records = header_record();
    let s = Sample::Flow(SampleForm::Compact, flow_sample_fixture(&records));
    let expected = format!(
        "
        00000001            # sample_type: flow_sample (1)
        0000003c            # sample_data length 60
        00000009            # sequence_number
        00000003            # source_id: type 0 (ifIndex) << 24 | 3
        00000190            # sampling_rate 400
        0001e240            # sample_pool 123456
        00000002            # drops
        00000003            # input ifIndex 3
        3fffffff            # output: the agent itself
        00000001            # flow_records<> count
        {HEADER_RECORD}
    "
    );
    let bytes = encode(&s);
    assert_eq!(bytes, hex(&expected));
    assert_eq!(Sample::decode(&mut Reader::new(&bytes)).unwrap(), s);
}

#[test]
fn flow_sample_expanded() {
    let records = header_record();
    let mut sample = flow_sample_fixture(&records);
    sample.source = DataSource::interface(0x0100_0000);
    sample.input = Interface::index(0x0100_0000);
    sample.output = Interface::discarded(discard_reason::PROMISCUOUS);
    let s = Sample::Flow(SampleForm::Expanded, sample);
    let expected = format!(
        "
        00000003            # sample_type: flow_sample_expanded (3)
        00000048            # length 72
        00000009            # sequence_number
        00000000 01000000   # source_id_type 0, source_id_index 2^24
        00000190 0001e240 00000002
        00000000 01000000   # input: format 0, value 2^24
        00000001 00000107   # output: discarded, reason 263
        00000001
        {HEADER_RECORD}
    "
    );
    let bytes = encode(&s);
    assert_eq!(bytes, hex(&expected));
    assert_eq!(Sample::decode(&mut Reader::new(&bytes)).unwrap(), s);
}

#[test]
fn compact_form_refuses_large_indices() {
    let records = header_record();
    let mut sample = flow_sample_fixture(&records);
    sample.source = DataSource::interface(1 << 24);
    let mut buf = [0u8; 256];
    assert!(matches!(
        sample.encode(&mut Writer::new(&mut buf), SampleForm::Compact),
        Err(EncodeError::Invalid(_))
    ));
    let mut sample = flow_sample_fixture(&records);
    sample.output = Interface::index(1 << 30);
    assert!(sample
        .encode(&mut Writer::new(&mut buf), SampleForm::Compact)
        .is_err());
    assert_eq!(
        SampleForm::for_max_if_index((1 << 24) - 1),
        SampleForm::Compact
    );
    assert_eq!(SampleForm::for_max_if_index(1 << 24), SampleForm::Expanded);
}

#[test]
fn multiple_output_interfaces() {
    let records = [];
    let mut sample = flow_sample_fixture(&records);
    sample.output = Interface::multiple(7);
    let bytes = encode(&Sample::Flow(SampleForm::Compact, sample));
    assert_eq!(&bytes[32..36], &hex("80000007")[..]);
}

fn if_counters_fixture() -> IfCounters {
    IfCounters {
        if_index: 2,
        if_type: 6,
        speed: 1_000_000_000,
        direction: 1,
        status: 3,
        in_octets: 0x1_0000_0001,
        in_ucast_pkts: 10,
        in_multicast_pkts: u32::MAX,
        in_broadcast_pkts: u32::MAX,
        in_discards: 1,
        in_errors: 2,
        in_unknown_protos: 3,
        out_octets: 5000,
        out_ucast_pkts: 20,
        out_multicast_pkts: u32::MAX,
        out_broadcast_pkts: u32::MAX,
        out_discards: 4,
        out_errors: 5,
        promiscuous_mode: 0,
    }
}

const IF_COUNTERS_BODY: &str = "
        00000002            # ifIndex
        00000006            # ifType ethernetCsmacd
        00000000 3b9aca00   # ifSpeed 1 Gbit/s
        00000001            # ifDirection full-duplex
        00000003            # ifStatus admin up, oper up
        00000001 00000001   # ifInOctets 2^32 + 1
        0000000a            # ifInUcastPkts
        ffffffff ffffffff   # ifInMulticastPkts, ifInBroadcastPkts: unavailable
        00000001 00000002 00000003   # ifInDiscards, ifInErrors, ifInUnknownProtos
        00000000 00001388   # ifOutOctets 5000
        00000014 ffffffff ffffffff   # ifOutUcastPkts, ifOutMulticastPkts, ifOutBroadcastPkts
        00000004 00000005   # ifOutDiscards, ifOutErrors
        00000000            # ifPromiscuousMode
";

#[test]
fn if_counters_record() {
    counter_roundtrip(
        CounterRecord::Interface(if_counters_fixture()),
        &format!("00000001 00000058 {IF_COUNTERS_BODY}"),
    );
}

#[test]
fn ethernet_counters_record() {
    let mut e = EthernetCounters::UNAVAILABLE;
    e.alignment_errors = 1;
    e.fcs_errors = 2;
    e.late_collisions = 7;
    e.symbol_errors = 13;
    counter_roundtrip(
        CounterRecord::Ethernet(e),
        "
        00000002 00000034   # format 2, length 52
        00000001 00000002   # alignment, FCS errors
        ffffffff ffffffff ffffffff ffffffff   # single, multiple collisions, SQE, deferred
        00000007            # late collisions
        ffffffff ffffffff ffffffff ffffffff ffffffff   # excessive .. internal MAC receive
        0000000d            # symbol errors
    ",
    );
}

#[test]
fn ieee80211_counters_record() {
    let mut c = Ieee80211Counters::UNAVAILABLE;
    c.transmitted_fragment_count = 1;
    c.failed_count = 3;
    c.retry_count = 4;
    c.associated_station_count = 16;
    c.qos_cf_polls_lost_count = 20;
    counter_roundtrip(
        CounterRecord::Ieee80211(c),
        "
        00000006 00000050   # format 6, length 80
        00000001            # dot11TransmittedFragmentCount
        ffffffff            # dot11MulticastTransmittedFrameCount
        00000003 00000004   # dot11FailedCount, dot11RetryCount
        ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff
        00000010            # dot11AssociatedStationCount (16th)
        ffffffff ffffffff ffffffff
        00000014            # dot11QoSCFPollsLostCount (20th)
    ",
    );
}

#[test]
fn radio_utilization_record() {
    counter_roundtrip(
        CounterRecord::RadioUtilization(RadioUtilization {
            elapsed_time: 20_000,
            on_channel_time: 19_500,
            on_channel_busy_time: 4_200,
        }),
        "000003ea 0000000c 00004e20 00004c2c 00001068",
    );
}

#[test]
fn host_descr_record() {
    counter_roundtrip(
        CounterRecord::HostDescr(HostDescr {
            hostname: b"ap1",
            uuid: [
                0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                0xee, 0xff,
            ],
            machine_type: machine_type::MIPS,
            os_name: os_name::LINUX,
            os_release: b"5.15",
        }),
        "
        000007d0 00000028   # format 2000, length 40
        00000003 61703100   # hostname 'ap1'
        00112233 44556677 8899aabb ccddeeff   # uuid: 16 fixed bytes, no length
        00000009            # machine_type mips
        00000002            # os_name linux
        00000004 352e3135   # os_release '5.15'
    ",
    );
}

#[test]
fn host_adapters_record() {
    let macs = [MacAddr([0x00, 0x0c, 0x29, 0x01, 0x02, 0x03])];
    let adapters = [HostAdapter {
        if_index: 2,
        mac_addresses: List::Items(&macs),
    }];
    counter_roundtrip(
        CounterRecord::HostAdapters(HostAdapters {
            adapters: List::Items(&adapters),
        }),
        "
        000007d1 00000014   # format 2001, length 20
        00000001            # adapters<> count
        00000002            # ifIndex
        00000001            # mac_address<> count
        000c2901 02030000   # mac padded to 8
    ",
    );
}

#[test]
fn host_cpu_record() {
    counter_roundtrip(
        CounterRecord::HostCpu(HostCpu {
            load_one: 0.5,
            load_five: 1.25,
            load_fifteen: -1.0,
            proc_run: 1,
            proc_total: 50,
            cpu_num: 2,
            cpu_speed: 880,
            uptime: 3600,
            cpu_user: 10,
            cpu_nice: 11,
            cpu_system: 12,
            cpu_idle: 13,
            cpu_wio: 14,
            cpu_intr: 15,
            cpu_sintr: 16,
            interrupts: 17,
            contexts: 18,
        }),
        "
        000007d3 00000044   # format 2003, length 68
        3f000000            # load_one 0.5 (IEEE 754 single)
        3fa00000            # load_five 1.25
        bf800000            # load_fifteen -1.0 (unknown)
        00000001 00000032 00000002 00000370 00000e10
        0000000a 0000000b 0000000c 0000000d 0000000e 0000000f 00000010
        00000011 00000012
    ",
    );
}

#[test]
fn host_memory_record() {
    counter_roundtrip(
        CounterRecord::HostMemory(HostMemory {
            mem_total: 128 << 20,
            mem_free: 64 << 20,
            mem_shared: 1,
            mem_buffers: 2,
            mem_cached: 3,
            swap_total: 0,
            swap_free: 0,
            page_in: 4,
            page_out: 5,
            swap_in: 6,
            swap_out: 7,
        }),
        "
        000007d4 00000048   # format 2004, length 72
        00000000 08000000   # mem_total 128 MiB
        00000000 04000000   # mem_free 64 MiB
        00000000 00000001 00000000 00000002 00000000 00000003
        00000000 00000000 00000000 00000000
        00000004 00000005 00000006 00000007
    ",
    );
}

#[test]
fn host_net_io_record() {
    counter_roundtrip(
        CounterRecord::HostNetIo(HostNetIo {
            bytes_in: 1 << 40,
            pkts_in: 1,
            errs_in: 2,
            drops_in: 3,
            bytes_out: 5,
            packets_out: 6,
            errs_out: 7,
            drops_out: 8,
        }),
        "
        000007d6 00000028   # format 2006, length 40
        00000100 00000000 00000001 00000002 00000003
        00000000 00000005 00000006 00000007 00000008
    ",
    );
}

#[test]
fn counters_sample_compact_and_expanded() {
    let records = [CounterRecord::RadioUtilization(RadioUtilization {
        elapsed_time: 1,
        on_channel_time: 2,
        on_channel_busy_time: 3,
    })];
    let sample = CountersSample {
        sequence_number: 5,
        source: DataSource::HOST,
        records: List::Items(&records),
    };
    let compact = Sample::Counters(SampleForm::Compact, sample);
    let bytes = encode(&compact);
    assert_eq!(
        bytes,
        hex("
        00000002 00000020   # counters_sample, length 32
        00000005            # sequence_number
        02000001            # source_id: entPhysicalEntry (2) << 24 | 1
        00000001            # counters<> count
        000003ea 0000000c 00000001 00000002 00000003
    ")
    );
    assert_eq!(Sample::decode(&mut Reader::new(&bytes)).unwrap(), compact);
    let expanded = Sample::Counters(SampleForm::Expanded, sample);
    let bytes = encode(&expanded);
    assert_eq!(
        bytes,
        hex("
        00000004 00000024   # counters_sample_expanded, length 36
        00000005
        00000002 00000001   # source_id_type, source_id_index
        00000001
        000003ea 0000000c 00000001 00000002 00000003
    ")
    );
    assert_eq!(Sample::decode(&mut Reader::new(&bytes)).unwrap(), expanded);
}

#[test]
fn unknown_records_and_samples_are_skipped_by_length() {
    // A counters sample holding a vendor record (enterprise 4413, format 5)
    // between two known ones, then an unknown sample type.
    let bytes = hex("
        00000005 00000001 0a000001 00000000 00000001 00000000 00000002
        00000002 00000044 00000001 00000001 00000003
          000003ea 0000000c 00000001 00000002 00000003
          0113d005 00000006 01020304 05060000
          000003ea 0000000c 00000004 00000005 00000006
        00000007 00000004 cafebabe
    ");
    let d = Datagram::parse(&bytes).unwrap();
    assert_eq!(d.agent_address, Some(IpAddr::from([10, 0, 0, 1])));
    let samples: Vec<_> = d.samples.iter().map(Result::unwrap).collect();
    assert_eq!(samples.len(), 2);
    let Sample::Counters(_, c) = samples[0] else {
        panic!("not a counters sample")
    };
    let recs: Vec<_> = c.records.iter().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 3);
    assert_eq!(
        recs[1],
        CounterRecord::Unknown {
            format: data_format(4413, 5),
            data: &[1, 2, 3, 4, 5, 6]
        }
    );
    assert_eq!(
        recs[2],
        CounterRecord::RadioUtilization(RadioUtilization {
            elapsed_time: 4,
            on_channel_time: 5,
            on_channel_busy_time: 6
        })
    );
    assert_eq!(
        samples[1],
        Sample::Unknown {
            format: 7,
            data: &[0xca, 0xfe, 0xba, 0xbe]
        }
    );
    // Re-encoding reproduces the datagram exactly.
    assert_eq!(encode(&d), bytes);
}

#[test]
fn extended_records_are_accepted() {
    // A radio_utilization record with four extra bytes at its end (the
    // specification allows structures to grow at the end).
    let bytes = hex("000003ea 00000010 00000001 00000002 00000003 00000004");
    let r = CounterRecord::decode(&mut Reader::new(&bytes)).unwrap();
    assert_eq!(
        r,
        CounterRecord::RadioUtilization(RadioUtilization {
            elapsed_time: 1,
            on_channel_time: 2,
            on_channel_busy_time: 3
        })
    );
}

#[test]
fn decode_errors_name_the_place() {
    let bytes = hex("00000004 00000001");
    let e = Datagram::parse(&bytes).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::Version(4));
    let bytes = hex("00000005 00000003 00000000");
    let e = Datagram::parse(&bytes).unwrap_err();
    assert_eq!((e.offset, e.kind), (4, DecodeErrorKind::AddressType(3)));
    // An rx record whose SSID claims 33 bytes.
    let bytes = hex("000003f6 00000008 00000021 00000000");
    let e = FlowRecord::decode(&mut Reader::new(&bytes)).unwrap_err();
    assert_eq!(e.offset, 8);
    assert_eq!(e.field, "extended_80211_rx.ssid");
    assert_eq!(
        e.to_string(),
        "byte 8 (extended_80211_rx.ssid): length 33 exceeds the maximum of 32"
    );
    // An if_counters record cut short.
    let bytes = hex("00000001 00000008 00000001 00000006");
    let e = CounterRecord::decode(&mut Reader::new(&bytes)).unwrap_err();
    assert_eq!(e.field, "if_counters.ifSpeed");
    assert_eq!(e.offset, 16);
}
