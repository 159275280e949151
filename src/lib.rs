//! wsflowd: an sFlow v5 agent for OpenWrt Wi-Fi access points.
//!
//! The crate is split by concern, following host-sflow's separation of the
//! sFlow library from the host integration:
//!
//! - [`sflow`]: the sFlow v5 wire format only (encode, decode, datagram
//!   packing), including the 802.11 and host structures. No I/O, no Linux.
//! - [`config`]: the UCI parser and the typed, validated configuration.
//! - [`capture`]: AF_PACKET sockets and the 1-in-N sampling of frames.
//! - [`wifi`]: pure parsers and tables for radiotap and 802.11 headers,
//!   PHY rates, air time and signal figures.
//! - [`counters`]: interface and host counters read from the kernel.
//! - [`netlink`]: rtnetlink dumps (links, bridge FDB) and change events.
//! - [`hostapd`]: hostapd's BSSes and stations, as ubus reports them.
//! - [`ubus`]: a non-blocking client of OpenWrt's ubus (hostapd, our own
//!   `wsflowd` object).
//! - [`dns`]: DNS messages, resolv.conf and a non-blocking SRV/TXT lookup,
//!   for DNS-SD discovery of collectors.
//! - [`output`]: the collectors (UDP over IPv4/IPv6, names resolved off
//!   the event loop).
//! - [`agent`]: the single-threaded event loop that ties them together.
//! - [`collect`]: the `wsflowd collect` subcommand, a collector for checking
//!   an agent in the field.
//! - [`io_error`]: `io::Error`s carrying a message of ours (without std's
//!   escaping `StringError`).
//! - [`sys`]: safe wrappers around the system calls std lacks; the
//!   crate's `unsafe` lives there, each block with its `// SAFETY:`
//!   comment (`make lint` denies one without).

#![deny(unsafe_op_in_unsafe_fn)]

pub mod log;

pub mod agent;
pub mod calendar;
pub mod capture;
pub mod collect;
pub mod config;
pub mod counters;
pub mod dns;
pub mod io_error;
pub mod ip;
pub mod mac;
pub mod netlink;
pub mod output;
pub mod pcap;
pub mod rng;
pub mod sflow;
pub mod sorted_map;
pub mod stations;
pub mod sys;
pub mod ubus;
pub mod wifi;

/// Where the unit tests find the checkout's files: `WSFLOWD_SOURCE_DIR`
/// when set (the tests run as an unprivileged user from a staged copy, see
/// scripts/unprivileged_stage.sh), else the checkout itself.
#[cfg(test)]
pub(crate) fn source_dir() -> std::path::PathBuf {
    std::env::var_os("WSFLOWD_SOURCE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
