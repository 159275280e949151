//! proptest strategies for the fixed-size sFlow counter structures, shared
//! by the property tests.

use proptest::prelude::*;
use wsflowd::sflow::{EthernetCounters, Ieee80211Counters, IfCounters, RadioUtilization};

pub fn if_counters() -> impl Strategy<Value = IfCounters> {
    (
        (
            any::<u32>(),
            any::<u32>(),
            any::<u64>(),
            0u32..=4,
            0u32..=3,
            any::<u64>(),
        ),
        (any::<[u32; 6]>(), any::<u64>(), any::<[u32; 6]>()),
    )
        .prop_map(
            |((if_index, if_type, speed, direction, status, in_octets), (i, out_octets, o))| {
                IfCounters {
                    if_index,
                    if_type,
                    speed,
                    direction,
                    status,
                    in_octets,
                    in_ucast_pkts: i[0],
                    in_multicast_pkts: i[1],
                    in_broadcast_pkts: i[2],
                    in_discards: i[3],
                    in_errors: i[4],
                    in_unknown_protos: i[5],
                    out_octets,
                    out_ucast_pkts: o[0],
                    out_multicast_pkts: o[1],
                    out_broadcast_pkts: o[2],
                    out_discards: o[3],
                    out_errors: o[4],
                    promiscuous_mode: o[5],
                }
            },
        )
}

pub fn ieee80211_counters() -> impl Strategy<Value = Ieee80211Counters> {
    any::<[u32; 20]>().prop_map(Ieee80211Counters::from_array)
}

pub fn ethernet_counters() -> impl Strategy<Value = EthernetCounters> {
    any::<[u32; 13]>().prop_map(|v| EthernetCounters {
        alignment_errors: v[0],
        fcs_errors: v[1],
        single_collision_frames: v[2],
        multiple_collision_frames: v[3],
        sqe_test_errors: v[4],
        deferred_transmissions: v[5],
        late_collisions: v[6],
        excessive_collisions: v[7],
        internal_mac_transmit_errors: v[8],
        carrier_sense_errors: v[9],
        frame_too_longs: v[10],
        internal_mac_receive_errors: v[11],
        symbol_errors: v[12],
    })
}

pub fn radio() -> impl Strategy<Value = RadioUtilization> {
    any::<[u32; 3]>().prop_map(|v| RadioUtilization {
        elapsed_time: v[0],
        on_channel_time: v[1],
        on_channel_busy_time: v[2],
    })
}
