//! Counter records: interface, Ethernet, 802.11, radio and host structures.

use super::list::List;
use super::xdr::{DecodeError, EncodeError, Reader, Writer};
use super::{fixed_record, record_enum, Decode, Encode, RecordBody, Visit, Visitor};

/// Generic interface counters, RFC 2233 (format 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IfCounters {
    pub if_index: u32,
    pub if_type: u32,
    /// Bit/s; 0 = unknown.
    pub speed: u64,
    /// 0 unknown, 1 full duplex, 2 half duplex, 3 in, 4 out.
    pub direction: u32,
    /// Bit 0 admin up, bit 1 operationally up.
    pub status: u32,
    pub in_octets: u64,
    pub in_ucast_pkts: u32,
    pub in_multicast_pkts: u32,
    pub in_broadcast_pkts: u32,
    pub in_discards: u32,
    pub in_errors: u32,
    pub in_unknown_protos: u32,
    pub out_octets: u64,
    pub out_ucast_pkts: u32,
    pub out_multicast_pkts: u32,
    pub out_broadcast_pkts: u32,
    pub out_discards: u32,
    pub out_errors: u32,
    pub promiscuous_mode: u32,
}

fixed_record!(IfCounters, 1, "if_counters", {
    if_index: u32 => "ifIndex",
    if_type: u32 => "ifType",
    speed: u64 => "ifSpeed",
    direction: u32 => "ifDirection",
    status: u32 => "ifStatus",
    in_octets: u64 => "ifInOctets",
    in_ucast_pkts: u32 => "ifInUcastPkts",
    in_multicast_pkts: u32 => "ifInMulticastPkts",
    in_broadcast_pkts: u32 => "ifInBroadcastPkts",
    in_discards: u32 => "ifInDiscards",
    in_errors: u32 => "ifInErrors",
    in_unknown_protos: u32 => "ifInUnknownProtos",
    out_octets: u64 => "ifOutOctets",
    out_ucast_pkts: u32 => "ifOutUcastPkts",
    out_multicast_pkts: u32 => "ifOutMulticastPkts",
    out_broadcast_pkts: u32 => "ifOutBroadcastPkts",
    out_discards: u32 => "ifOutDiscards",
    out_errors: u32 => "ifOutErrors",
    promiscuous_mode: u32 => "ifPromiscuousMode",
});

/// Ethernet interface counters, RFC 2358 (format 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetCounters {
    pub alignment_errors: u32,
    pub fcs_errors: u32,
    pub single_collision_frames: u32,
    pub multiple_collision_frames: u32,
    pub sqe_test_errors: u32,
    pub deferred_transmissions: u32,
    pub late_collisions: u32,
    pub excessive_collisions: u32,
    pub internal_mac_transmit_errors: u32,
    pub carrier_sense_errors: u32,
    pub frame_too_longs: u32,
    pub internal_mac_receive_errors: u32,
    pub symbol_errors: u32,
}

impl EthernetCounters {
    /// Every counter marked unavailable.
    pub const UNAVAILABLE: Self = EthernetCounters {
        alignment_errors: u32::MAX,
        fcs_errors: u32::MAX,
        single_collision_frames: u32::MAX,
        multiple_collision_frames: u32::MAX,
        sqe_test_errors: u32::MAX,
        deferred_transmissions: u32::MAX,
        late_collisions: u32::MAX,
        excessive_collisions: u32::MAX,
        internal_mac_transmit_errors: u32::MAX,
        carrier_sense_errors: u32::MAX,
        frame_too_longs: u32::MAX,
        internal_mac_receive_errors: u32::MAX,
        symbol_errors: u32::MAX,
    };
}

fixed_record!(EthernetCounters, 2, "ethernet_counters", {
    alignment_errors: u32 => "dot3StatsAlignmentErrors",
    fcs_errors: u32 => "dot3StatsFCSErrors",
    single_collision_frames: u32 => "dot3StatsSingleCollisionFrames",
    multiple_collision_frames: u32 => "dot3StatsMultipleCollisionFrames",
    sqe_test_errors: u32 => "dot3StatsSQETestErrors",
    deferred_transmissions: u32 => "dot3StatsDeferredTransmissions",
    late_collisions: u32 => "dot3StatsLateCollisions",
    excessive_collisions: u32 => "dot3StatsExcessiveCollisions",
    internal_mac_transmit_errors: u32 => "dot3StatsInternalMacTransmitErrors",
    carrier_sense_errors: u32 => "dot3StatsCarrierSenseErrors",
    frame_too_longs: u32 => "dot3StatsFrameTooLongs",
    internal_mac_receive_errors: u32 => "dot3StatsInternalMacReceiveErrors",
    symbol_errors: u32 => "dot3StatsSymbolErrors",
});

/// IEEE 802.11 interface counters, IEEE802dot11-MIB (format 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ieee80211Counters {
    pub transmitted_fragment_count: u32,
    pub multicast_transmitted_frame_count: u32,
    pub failed_count: u32,
    pub retry_count: u32,
    pub multiple_retry_count: u32,
    pub frame_duplicate_count: u32,
    pub rts_success_count: u32,
    pub rts_failure_count: u32,
    pub ack_failure_count: u32,
    pub received_fragment_count: u32,
    pub multicast_received_frame_count: u32,
    pub fcs_error_count: u32,
    pub transmitted_frame_count: u32,
    pub wep_undecryptable_count: u32,
    pub qos_discarded_fragment_count: u32,
    pub associated_station_count: u32,
    pub qos_cf_polls_received_count: u32,
    pub qos_cf_polls_unused_count: u32,
    pub qos_cf_polls_unusable_count: u32,
    pub qos_cf_polls_lost_count: u32,
}

impl Ieee80211Counters {
    /// The counters from the 20 values in spec order
    /// (`dot11TransmittedFragmentCount` … `dot11QoSCFPollsLostCount`).
    pub const fn from_array(v: [u32; 20]) -> Ieee80211Counters {
        Ieee80211Counters {
            transmitted_fragment_count: v[0],
            multicast_transmitted_frame_count: v[1],
            failed_count: v[2],
            retry_count: v[3],
            multiple_retry_count: v[4],
            frame_duplicate_count: v[5],
            rts_success_count: v[6],
            rts_failure_count: v[7],
            ack_failure_count: v[8],
            received_fragment_count: v[9],
            multicast_received_frame_count: v[10],
            fcs_error_count: v[11],
            transmitted_frame_count: v[12],
            wep_undecryptable_count: v[13],
            qos_discarded_fragment_count: v[14],
            associated_station_count: v[15],
            qos_cf_polls_received_count: v[16],
            qos_cf_polls_unused_count: v[17],
            qos_cf_polls_unusable_count: v[18],
            qos_cf_polls_lost_count: v[19],
        }
    }

    /// Every counter marked unavailable.
    pub const UNAVAILABLE: Self = Ieee80211Counters::from_array([u32::MAX; 20]);
}

fixed_record!(Ieee80211Counters, 6, "ieee80211_counters", {
    transmitted_fragment_count: u32 => "dot11TransmittedFragmentCount",
    multicast_transmitted_frame_count: u32 => "dot11MulticastTransmittedFrameCount",
    failed_count: u32 => "dot11FailedCount",
    retry_count: u32 => "dot11RetryCount",
    multiple_retry_count: u32 => "dot11MultipleRetryCount",
    frame_duplicate_count: u32 => "dot11FrameDuplicateCount",
    rts_success_count: u32 => "dot11RTSSuccessCount",
    rts_failure_count: u32 => "dot11RTSFailureCount",
    ack_failure_count: u32 => "dot11ACKFailureCount",
    received_fragment_count: u32 => "dot11ReceivedFragmentCount",
    multicast_received_frame_count: u32 => "dot11MulticastReceivedFrameCount",
    fcs_error_count: u32 => "dot11FCSErrorCount",
    transmitted_frame_count: u32 => "dot11TransmittedFrameCount",
    wep_undecryptable_count: u32 => "dot11WEPUndecryptableCount",
    qos_discarded_fragment_count: u32 => "dot11QoSDiscardedFragmentCount",
    associated_station_count: u32 => "dot11AssociatedStationCount",
    qos_cf_polls_received_count: u32 => "dot11QoSCFPollsReceivedCount",
    qos_cf_polls_unused_count: u32 => "dot11QoSCFPollsUnusedCount",
    qos_cf_polls_unusable_count: u32 => "dot11QoSCFPollsUnusableCount",
    qos_cf_polls_lost_count: u32 => "dot11QoSCFPollsLostCount",
});

/// 802.11 radio utilization (format 1002); all times in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RadioUtilization {
    pub elapsed_time: u32,
    pub on_channel_time: u32,
    pub on_channel_busy_time: u32,
}

fixed_record!(RadioUtilization, 1002, "radio_utilization", {
    elapsed_time: u32 => "elapsed_time",
    on_channel_time: u32 => "on_channel_time",
    on_channel_busy_time: u32 => "on_channel_busy_time",
});

/// `machine_type` values of `host_descr`.
pub mod machine_type {
    pub const UNKNOWN: u32 = 0;
    pub const OTHER: u32 = 1;
    pub const X86: u32 = 2;
    pub const X86_64: u32 = 3;
    pub const IA64: u32 = 4;
    pub const SPARC: u32 = 5;
    pub const ALPHA: u32 = 6;
    pub const POWERPC: u32 = 7;
    pub const M68K: u32 = 8;
    pub const MIPS: u32 = 9;
    pub const ARM: u32 = 10;
    pub const HPPA: u32 = 11;
    pub const S390: u32 = 12;
}

/// `os_name` values of `host_descr`.
pub mod os_name {
    pub const UNKNOWN: u32 = 0;
    pub const OTHER: u32 = 1;
    pub const LINUX: u32 = 2;
}

/// Maximum host name length (`string hostname<64>`).
pub const HOSTNAME_MAX: usize = 64;
/// Maximum OS release length (`string os_release<32>`).
pub const OS_RELEASE_MAX: usize = 32;

/// Physical or virtual host description (format 2000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostDescr<'a> {
    pub hostname: &'a [u8],
    /// Binary UUID, all zeros when unknown (16 fixed bytes on the wire).
    pub uuid: [u8; 16],
    pub machine_type: u32,
    pub os_name: u32,
    pub os_release: &'a [u8],
}

impl<'a> RecordBody<'a> for HostDescr<'a> {
    const FORMAT: u32 = 2000;
    const NAME: &'static str = "host_descr";

    fn encode_body(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(self.hostname, HOSTNAME_MAX)?;
        w.fixed(&self.uuid)?;
        w.u32(self.machine_type)?;
        w.u32(self.os_name)?;
        w.opaque(self.os_release, OS_RELEASE_MAX)
    }

    fn decode_body(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(HostDescr {
            hostname: r.opaque(HOSTNAME_MAX, "host_descr.hostname")?,
            uuid: r.array::<16>("host_descr.uuid")?,
            machine_type: r.u32("host_descr.machine_type")?,
            os_name: r.u32("host_descr.os_name")?,
            os_release: r.opaque(OS_RELEASE_MAX, "host_descr.os_release")?,
        })
    }

    fn visit_body(&self, v: &mut dyn Visitor) {
        v.text("hostname", self.hostname);
        v.bytes("uuid", &self.uuid);
        v.u32("machine_type", self.machine_type);
        v.u32("os_name", self.os_name);
        v.text("os_release", self.os_release);
    }
}

/// A MAC address in a list (`mac mac_address<>`): six bytes padded to eight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mac(pub [u8; 6]);

impl Encode for Mac {
    fn encode(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.mac(&self.0)
    }
}

impl<'a> Decode<'a> for Mac {
    const NAME: &'static str = "mac";

    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.mac("mac").map(Mac)
    }
}

impl Visit for Mac {
    fn visit(&self, v: &mut dyn Visitor) {
        v.mac("mac", &self.0);
    }
}

/// A network adapter and its MAC addresses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostAdapter<'a> {
    /// 0 = unknown.
    pub if_index: u32,
    pub mac_addresses: List<'a, Mac>,
}

impl Encode for HostAdapter<'_> {
    fn encode(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u32(self.if_index)?;
        self.mac_addresses.encode(w)
    }
}

impl<'a> Decode<'a> for HostAdapter<'a> {
    const NAME: &'static str = "host_adapter";

    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(HostAdapter {
            if_index: r.u32("host_adapter.ifIndex")?,
            mac_addresses: List::decode(r)?,
        })
    }
}

impl Visit for HostAdapter<'_> {
    fn visit(&self, v: &mut dyn Visitor) {
        v.u32("ifIndex", self.if_index);
        self.mac_addresses.visit_as("mac_address", v);
    }
}

/// The network adapters of a host (format 2001).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostAdapters<'a> {
    pub adapters: List<'a, HostAdapter<'a>>,
}

impl<'a> RecordBody<'a> for HostAdapters<'a> {
    const FORMAT: u32 = 2001;
    const NAME: &'static str = "host_adapters";

    fn encode_body(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.adapters.encode(w)
    }

    fn decode_body(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(HostAdapters {
            adapters: List::decode(r)?,
        })
    }

    fn visit_body(&self, v: &mut dyn Visitor) {
        self.adapters.visit_as("adapters", v);
    }
}

/// Physical server CPU (format 2003). Load averages are -1.0 when unknown.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HostCpu {
    pub load_one: f32,
    pub load_five: f32,
    pub load_fifteen: f32,
    pub proc_run: u32,
    pub proc_total: u32,
    pub cpu_num: u32,
    /// MHz.
    pub cpu_speed: u32,
    /// Seconds since boot.
    pub uptime: u32,
    /// Times in milliseconds.
    pub cpu_user: u32,
    pub cpu_nice: u32,
    pub cpu_system: u32,
    pub cpu_idle: u32,
    pub cpu_wio: u32,
    pub cpu_intr: u32,
    pub cpu_sintr: u32,
    pub interrupts: u32,
    pub contexts: u32,
}

fixed_record!(HostCpu, 2003, "host_cpu", {
    load_one: f32 => "load_one",
    load_five: f32 => "load_five",
    load_fifteen: f32 => "load_fifteen",
    proc_run: u32 => "proc_run",
    proc_total: u32 => "proc_total",
    cpu_num: u32 => "cpu_num",
    cpu_speed: u32 => "cpu_speed",
    uptime: u32 => "uptime",
    cpu_user: u32 => "cpu_user",
    cpu_nice: u32 => "cpu_nice",
    cpu_system: u32 => "cpu_system",
    cpu_idle: u32 => "cpu_idle",
    cpu_wio: u32 => "cpu_wio",
    cpu_intr: u32 => "cpu_intr",
    cpu_sintr: u32 => "cpu_sintr",
    interrupts: u32 => "interrupts",
    contexts: u32 => "contexts",
});

/// Physical server memory (format 2004); sizes in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostMemory {
    pub mem_total: u64,
    pub mem_free: u64,
    pub mem_shared: u64,
    pub mem_buffers: u64,
    pub mem_cached: u64,
    pub swap_total: u64,
    pub swap_free: u64,
    pub page_in: u32,
    pub page_out: u32,
    pub swap_in: u32,
    pub swap_out: u32,
}

fixed_record!(HostMemory, 2004, "host_memory", {
    mem_total: u64 => "mem_total",
    mem_free: u64 => "mem_free",
    mem_shared: u64 => "mem_shared",
    mem_buffers: u64 => "mem_buffers",
    mem_cached: u64 => "mem_cached",
    swap_total: u64 => "swap_total",
    swap_free: u64 => "swap_free",
    page_in: u32 => "page_in",
    page_out: u32 => "page_out",
    swap_in: u32 => "swap_in",
    swap_out: u32 => "swap_out",
});

/// Physical server network I/O (format 2006).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostNetIo {
    pub bytes_in: u64,
    pub pkts_in: u32,
    pub errs_in: u32,
    pub drops_in: u32,
    pub bytes_out: u64,
    pub packets_out: u32,
    pub errs_out: u32,
    pub drops_out: u32,
}

fixed_record!(HostNetIo, 2006, "host_net_io", {
    bytes_in: u64 => "bytes_in",
    pkts_in: u32 => "pkts_in",
    errs_in: u32 => "errs_in",
    drops_in: u32 => "drops_in",
    bytes_out: u64 => "bytes_out",
    packets_out: u32 => "packets_out",
    errs_out: u32 => "errs_out",
    drops_out: u32 => "drops_out",
});

record_enum! {
    /// A counter record: `counter_format` and the `counter_data` it
    /// identifies.
    pub enum CounterRecord<'a>, "counter_record", "counter_record.counter_format",
        "counter_record.counter_data" {
        Interface(IfCounters),
        Ethernet(EthernetCounters),
        Ieee80211(Ieee80211Counters),
        RadioUtilization(RadioUtilization),
        HostDescr(HostDescr<'a>),
        HostAdapters(HostAdapters<'a>),
        HostCpu(HostCpu),
        HostMemory(HostMemory),
        HostNetIo(HostNetIo),
    }
}
