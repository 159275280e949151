//! Interface and host counters, read from the kernel.
//!
//! One rtnetlink link dump per polling round ([`crate::netlink`]) gives
//! every interface's 64-bit statistics, flags, state, master and kind.
//!
//! - [`interface`]: maps a [`Link`] to the sFlow `if_counters` and
//!   `ethernet_counters` records (plus speed and duplex from sysfs).
//! - [`host`]: the host records (`host_descr`, `host_cpu`, `host_memory`,
//!   `host_net_io`, `host_adapters`) from /proc, sysfs and uname.
//!
//! Everything read from the kernel is parsed defensively: a missing file or
//! an unexpected line gives the sFlow "unknown" value, never a panic.

pub mod dot11;
pub mod host;
pub mod interface;

pub use crate::netlink::Link;
pub use host::{adapters, net_io, HostDescription, HostReader};
pub use interface::{ethernet_counters, if_counters, if_type, is_wireless, link_speed};
