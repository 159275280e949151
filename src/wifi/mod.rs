//! Pure parsers and tables for 802.11 monitor frames: no I/O, no
//! allocation, no panics on any input (fuzzed by
//! `fuzz/fuzz_targets/radiotap.rs`).
//!
//! Shaped like smoltcp's `wire` module: a zero-copy view over the bytes
//! (`new_unchecked` / `new_checked`, accessors) and a validated
//! representation with `parse`, failing with an [`Error`] that says what
//! and at which byte.
//!
//! - [`radiotap`]: the radiotap header ([`RadiotapPacket`] view, [`Fields`]
//!   iterator, [`Radiotap`] representation): extended present words,
//!   namespaces (per-antenna repeats, vendor data skipped by its length),
//!   alignment, fields up to HE and L-SIG.
//! - [`ieee80211`]: the MAC header ([`Frame`] view, [`MacHeader`]) with the
//!   roles of its addresses, and information elements ([`Elements`]).
//! - [`phy`]: data rate (legacy, HT, VHT, HE) computed from the PHY
//!   parameters, air time, channel numbers, RCPI, RSNI and the sFlow
//!   `ieee80211_version` code.
//! - [`ampdu`]: the MPDU delimiter of an A-MPDU subframe, rebuilt from
//!   radiotap's A-MPDU status.
//! - [`monitor`]: [`MonitorFrame::parse`], the one call the capture path
//!   makes per sampled monitor frame.
//!
//! Decisions worth knowing:
//! - `ieee80211_version`: a = 5 GHz (and 4.9/6 GHz) OFDM, b = DSSS/CCK,
//!   g = 2.4 GHz OFDM, n = HT; VHT and HE have no code in the sFlow 802.11
//!   structures and are reported as 0 ("unknown"), see
//!   [`PhyType::sflow_version`].
//! - Several radiotap namespaces repeating a field (per-antenna signal):
//!   the first occurrence is the frame's value; the others are kept in
//!   [`Radiotap::antennas`].
//! - A present bit we cannot size ends the radiotap walk without error:
//!   the fields before it are used ([`Radiotap::stopped`] says so).
//! - Air time is the standard's TXTIME for a PPDU carrying the frame
//!   alone; see [`Phy::duration_us`] and [`MonitorFrame`] for A-MPDUs.

pub mod ampdu;
pub mod error;
pub mod ieee80211;
pub mod monitor;
pub mod nl80211;
pub mod phy;
pub mod radiotap;

pub use error::{Error, ErrorKind, Result};
pub use ieee80211::{Element, Elements, Frame, FrameControl, FrameType, MacAddr, MacHeader};
pub use monitor::{MonitorFrame, AMPDU_DELIMITER_LEN, FCS_LEN};
pub use phy::{channel_number, rcpi, rsni, Band, Mode, Phy, PhyType};
pub use radiotap::{Fields, Radiotap, RadiotapPacket};
