//! Every frame of every radiotap (link type 127) and raw 802.11 (105)
//! capture in `../shared/captures/{tcpdump,zeek}` (or `$WSFLOWD_CAPTURES`)
//! is parsed by `wsflowd::wifi` and dissected by tshark, and the two are
//! compared field by field: radiotap length, present words, flags, TSFT,
//! channel, per-antenna signal/noise/antenna, MCS, A-MPDU, VHT, HE,
//! vendor namespace; tshark's PHY type, data rate, channel, frequency,
//! signal, noise, SNR (against our RSNI), HT MCS/bandwidth/GI and air
//! time; 802.11 type, subtype, flags, duration, addresses and their
//! roles, BSSID, sequence and fragment numbers, TID, HT control, and the
//! SSID and DS channel of management frames.
//!
//! Rules:
//! - A field both show must be equal; a field only one side shows is a
//!   disagreement, except for what tshark computes less often than we do
//!   (rate, air time, channel) and in frames tshark marks malformed, where
//!   only the fields tshark did read are compared.
//! - A frame we reject must be explained by what tshark saw: radiotap
//!   version other than 0 (tshark: "invalid"), 802.11 protocol version 1,
//!   or a header cut by the snap length (tshark: "Packet size limited").
//! - Air times that differ are accepted only when tshark's value is what
//!   its own model (epan/dissectors/packet-ieee80211-radio.c, 4.0) gives
//!   for the frame, reproduced in `tshark_duration` below with each of its
//!   simplifications named; the test prints every such case and its causes.
//!
//! tshark 4.0 air-time simplifications (documented quirks):
//! - no radiotap Flags field: short DSSS preamble assumed (96 µs; 1 Mb/s
//!   has no short preamble, we use 192 µs);
//! - no 6 µs signal extension for OFDM/HT PPDUs in 2.4 GHz;
//! - HT 40 MHz symbols carry 2 × the 20 MHz data bits (2 × 52 instead of
//!   108 subcarriers), and short-GI symbols are rounded to the µs instead
//!   of to the 4 µs boundary;
//! - the A-MPDU delimiter is not counted; the N_ES table is the 40 MHz one
//!   at 20 MHz too;
//! - a frame captured without its FCS is timed without it (it was on the
//!   air all the same; Wireshark 4.2+ adds the 4 bytes back).
//!
//! tshark's radio summary (`wlan_radio.signal_dbm`, `noise_dbm`) keeps the
//! LAST occurrence when radiotap repeats the field per antenna; we keep the
//! first (mac80211 puts the combined value there, the chains after it).
//! The per-occurrence lists (`radiotap.dbm_antsignal`) are compared too.
//!
//! When tshark is missing the test is skipped, unless
//! `WSFLOWD_REQUIRE_TOOLS=1` (then it fails); without the captures it is
//! skipped with a message.

use std::collections::HashMap;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::{captures_dir, TempDir};
use wsflowd::mac::MacAddr;
use wsflowd::pcap::{link_type, PcapReader};
use wsflowd::sflow::Ieee80211Version;
use wsflowd::wifi::phy::{Band, Mode, Phy, PhyType};
use wsflowd::wifi::{
    channel_number, Elements, ErrorKind, MacHeader, MonitorFrame, Radiotap, RadiotapPacket,
};

const TSHARK: &str = "tshark";

/// The fields asked of tshark, one column each.
const FIELDS: &[&str] = &[
    "frame.len",
    "frame.cap_len",
    "radiotap.version",
    "radiotap.length",
    "radiotap.present.word",
    "radiotap.flags.fcs",
    "radiotap.flags.badfcs",
    "radiotap.flags.preamble",
    "radiotap.flags.datapad",
    "radiotap.mactime",
    "radiotap.channel.freq",
    "radiotap.channel.flags",
    "radiotap.dbm_antsignal",
    "radiotap.dbm_antnoise",
    "radiotap.antenna",
    "radiotap.xchannel.channel",
    "radiotap.xchannel.freq",
    "radiotap.mcs.index",
    "radiotap.mcs.bw",
    "radiotap.mcs.gi",
    "radiotap.mcs.stbc",
    "radiotap.ampdu.reference",
    "radiotap.vht.bw",
    "radiotap.vht.mcs.0",
    "radiotap.vht.nss.0",
    "radiotap.he.data_3.data_mcs",
    "radiotap.he.data_5.gi",
    "radiotap.he.data_5.data_bw_ru_allocation",
    "radiotap.he.data_6.nsts",
    "radiotap.vendor_oui",
    "radiotap.vendor_subns",
    "radiotap.vendor_data_len",
    "wlan_radio.phy",
    "wlan_radio.data_rate",
    "wlan_radio.channel",
    "wlan_radio.frequency",
    "wlan_radio.signal_dbm",
    "wlan_radio.noise_dbm",
    "wlan_radio.snr",
    "wlan_radio.duration",
    "wlan_radio.aggregate",
    "wlan_radio.11n.mcs_index",
    "wlan_radio.11n.bandwidth",
    "wlan_radio.11n.short_gi",
    "wlan.fc.version",
    "wlan.fc.type",
    "wlan.fc.subtype",
    "wlan.fc.ds",
    "wlan.fc.frag",
    "wlan.fc.retry",
    "wlan.fc.pwrmgt",
    "wlan.fc.moredata",
    "wlan.fc.protected",
    "wlan.fc.order",
    "wlan.duration",
    "wlan.ra",
    "wlan.ta",
    "wlan.sa",
    "wlan.da",
    "wlan.bssid",
    "wlan.seq",
    "wlan.frag",
    "wlan.qos.tid",
    "wlan.htc",
    "wlan.ssid",
    "wlan.ds.current_channel",
    "_ws.malformed",
    "_ws.short",
    "_ws.expert.message",
];

/// tshark's values for one frame: field → occurrences, in order.
type Row = HashMap<&'static str, Vec<String>>;

/// Runs tshark on `file` with an empty configuration directory (no user
/// preference changes the dissection).
fn tshark_rows(config: &Path, file: &Path) -> Vec<Row> {
    let mut cmd = Command::new(TSHARK);
    cmd.env("WIRESHARK_CONFIG_DIR", config)
        .arg("-n")
        .arg("-r")
        .arg(file)
        .args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"])
        .args(["-E", "aggregator=|", "-E", "quote=n"]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), FIELDS.len(), "tshark columns: {line}");
            FIELDS
                .iter()
                .zip(cols)
                .filter(|(_, v)| !v.is_empty())
                .map(|(f, v)| (*f, v.split('|').map(str::to_string).collect()))
                .collect()
        })
        .collect()
}

/// Canonical form of a tshark value: numbers in decimal (hex accepted),
/// booleans as 1/0, everything else lowercase.
fn norm(v: &str) -> String {
    let v = v.trim();
    if let Some(h) = v.strip_prefix("0x") {
        if let Ok(n) = u64::from_str_radix(h, 16) {
            return n.to_string();
        }
    }
    match v {
        "True" => "1".into(),
        "False" => "0".into(),
        _ => v.to_ascii_lowercase(),
    }
}

/// As tshark prints one (written here, not with MacAddr's Display, which
/// is under test).
fn mac(a: MacAddr) -> String {
    a.0.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Bytes as tshark prints an FT_BYTES field ("<missing>" when empty).
fn bytes_hex(b: &[u8]) -> String {
    if b.is_empty() {
        return "<missing>".into();
    }
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn b(v: bool) -> String {
    u8::from(v).to_string()
}

fn s<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|v| v.to_string())
}

#[derive(Default)]
struct Report {
    files: usize,
    frames: usize,
    frames_compared: usize,
    fields: usize,
    ours_only: usize,
    rates: usize,
    air_times: usize,
    air_times_equal: usize,
    rejected: Vec<String>,
    explained: Vec<String>,
    disagreements: Vec<String>,
}

/// The comparisons of one frame.
struct Check<'a> {
    report: &'a mut Report,
    ctx: String,
    row: &'a Row,
    /// tshark marked the frame malformed: compare only what it read.
    lenient: bool,
}

impl Check<'_> {
    fn first(&self, field: &str) -> Option<&str> {
        self.row
            .get(field)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    fn all(&self, field: &str) -> Vec<String> {
        self.row
            .get(field)
            .map(|v| v.iter().map(|x| norm(x)).collect())
            .unwrap_or_default()
    }

    fn has(&self, field: &str) -> bool {
        self.row.contains_key(field)
    }

    fn disagree(&mut self, field: &str, ours: &str, theirs: &str) {
        let msg = format!("{}: {field}: ours {ours}, tshark {theirs}", self.ctx);
        self.report.disagreements.push(msg);
    }

    /// Both sides must agree, including on absence (unless lenient).
    fn eq(&mut self, field: &str, ours: Option<String>) {
        let theirs = self.first(field).map(norm);
        match (&ours, &theirs) {
            (None, None) => {}
            (Some(_), None) if self.lenient => self.report.ours_only += 1,
            (Some(o), Some(t)) if o == t => self.report.fields += 1,
            (o, t) => {
                let (o, t) = (
                    o.clone().unwrap_or("-".into()),
                    t.clone().unwrap_or("-".into()),
                );
                self.report.fields += 1;
                self.disagree(field, &o, &t);
            }
        }
    }

    /// Compared when tshark shows the field; our extra values are fine.
    fn when_tshark(&mut self, field: &str, ours: Option<String>) {
        if self.has(field) {
            self.eq(field, ours);
        } else if ours.is_some() {
            self.report.ours_only += 1;
        }
    }

    /// Every occurrence, in order.
    fn list(&mut self, field: &str, ours: Vec<String>) {
        let theirs = self.all(field);
        if ours.is_empty() && theirs.is_empty() {
            return;
        }
        self.report.fields += 1;
        if ours != theirs {
            self.disagree(field, &ours.join("|"), &theirs.join("|"));
        }
    }

    fn explained(&mut self, what: String) {
        let msg = format!("{}: {what}", self.ctx);
        self.report.explained.push(msg);
    }
}

/// Why a frame we reject is fine to reject, judged by what tshark saw.
fn explain_reject(kind: ErrorKind, row: &Row) -> Option<String> {
    let first = |f: &str| row.get(f).and_then(|v| v.first()).map(|v| norm(v));
    let truncated = row.contains_key("_ws.short") || row.contains_key("_ws.malformed");
    match kind {
        ErrorKind::RadiotapVersion(v) if first("radiotap.version") == Some(v.to_string()) => Some(
            format!("radiotap version {v}: tshark marks the header invalid too"),
        ),
        ErrorKind::MacVersion(v) if first("wlan.fc.version") == Some(v.to_string()) => Some(
            format!("802.11 protocol version {v} (PV1, another header layout) is not parsed"),
        ),
        ErrorKind::MacTruncated { needed, available } if truncated => Some(format!(
            "802.11 header cut by the snap length ({available} of {needed} bytes); \
             tshark reads it partly and flags the frame truncated"
        )),
        ErrorKind::FcsTruncated
        | ErrorKind::RadiotapTruncated
        | ErrorKind::RadiotapLength(_)
        | ErrorKind::RadiotapBeyondBuffer { .. }
        | ErrorKind::RadiotapFieldTruncated { .. }
        | ErrorKind::RadiotapVendorTruncated
            if truncated =>
        {
            Some(format!(
                "{kind}; tshark flags the frame truncated or malformed"
            ))
        }
        _ => None,
    }
}

/// The 802.11 header (and elements) against tshark's `wlan.*` fields.
fn check_mac(c: &mut Check, h: &MacHeader, elements: Option<Elements>) {
    let fc = h.frame_control;
    c.eq("wlan.fc.version", s(Some(fc.protocol_version())));
    c.eq("wlan.fc.type", s(Some(fc.type_number())));
    c.eq("wlan.fc.subtype", s(Some(fc.subtype())));
    c.eq(
        "wlan.fc.ds",
        s(Some(u8::from(fc.to_ds()) | (u8::from(fc.from_ds()) << 1))),
    );
    c.eq("wlan.fc.frag", Some(b(fc.more_fragments())));
    c.eq("wlan.fc.retry", Some(b(fc.retry())));
    c.eq("wlan.fc.pwrmgt", Some(b(fc.power_management())));
    c.eq("wlan.fc.moredata", Some(b(fc.more_data())));
    c.eq("wlan.fc.protected", Some(b(fc.protected())));
    c.eq("wlan.fc.order", Some(b(fc.order())));
    // tshark shows a Duration only when bit 15 is clear (else an AID).
    c.when_tshark("wlan.duration", s(Some(h.duration_id)));
    c.eq("wlan.ra", h.receiver().map(mac));
    c.eq("wlan.ta", h.transmitter().map(mac));
    c.eq("wlan.sa", h.source().map(mac));
    c.eq("wlan.da", h.destination().map(mac));
    c.eq("wlan.bssid", h.bssid().map(mac));
    c.eq("wlan.seq", s(h.sequence_number()));
    c.eq("wlan.frag", s(h.fragment_number()));
    c.eq("wlan.qos.tid", s(h.tid()));
    c.eq("wlan.htc", s(h.ht_control));
    match elements {
        Some(el) => {
            c.eq("wlan.ssid", el.ssid().map(bytes_hex));
            c.eq("wlan.ds.current_channel", s(el.ds_channel()));
        }
        None => {
            c.when_tshark("wlan.ssid", None);
            c.when_tshark("wlan.ds.current_channel", None);
        }
    }
}

/// tshark's PHY numbers (wiretap's PHDR_802_11_PHY_*).
fn tshark_phy(p: PhyType) -> u32 {
    match p {
        PhyType::Dsss => 4,
        PhyType::Ofdm => 5,
        PhyType::Erp => 6,
        PhyType::Ht => 7,
        PhyType::Vht => 8,
        PhyType::He => 11,
    }
}

/// tshark 4.0's air time for a frame of `len` bytes (FCS included), as
/// epan/dissectors/packet-ieee80211-radio.c computes it (no aggregate
/// detection: the test stops if tshark reports an aggregate).
fn tshark_duration(phy: u32, rt: &Radiotap, len: u64, rate_mbps: f64) -> Option<u64> {
    let dsss = [1.0, 2.0, 5.5, 11.0, 22.0, 33.0].contains(&rate_mbps);
    match phy {
        4 | 6 if dsss => {
            // No Flags field: short preamble assumed, at any rate.
            let short = rt.flags.is_none_or(|f| f & 0x02 != 0);
            let preamble = if short { 96.0 } else { 192.0 };
            Some((preamble + len as f64 * 8.0 / rate_mbps).ceil() as u64)
        }
        5 | 6 => {
            let bits = 16 + 8 * len + 6;
            // No signal extension in 2.4 GHz.
            Some(20 + 4 * (bits as f64 / (rate_mbps * 4.0)).ceil() as u64)
        }
        7 => {
            let m = rt.mcs?;
            let (mcs, bw) = (m.index()?, m.bandwidth_mhz()?);
            let sgi = m.short_gi()?;
            if mcs > 31 {
                return None;
            }
            let mut preamble = match m.greenfield() {
                Some(true) => 24,
                _ => 32,
            };
            let stbc = u64::from(m.stbc_streams().unwrap_or(0));
            let ness = usize::from(m.extension_streams().unwrap_or(0));
            let nsts = u64::from(mcs / 8 + 1) + stbc;
            let ltf = [1u64, 2, 4, 4];
            let eltf = [0u64, 1, 2, 4];
            preamble += 4 * (ltf.get(nsts as usize - 1)? + eltf[ness]);
            // Its 20 MHz table (52 subcarriers), doubled at 40 MHz.
            let (bits, r_num, r_den) = [
                (1, 1, 2),
                (2, 1, 2),
                (2, 3, 4),
                (4, 1, 2),
                (4, 3, 4),
                (6, 2, 3),
                (6, 3, 4),
                (6, 5, 6),
            ][usize::from(mcs % 8)];
            let dbps20 = 52 * bits * r_num * u64::from(mcs / 8 + 1) / r_den;
            let dbps = dbps20 * if bw == 40 { 2 } else { 1 };
            // Its N_ES table is the 40 MHz one.
            let nes = if matches!(mcs, 21..=23 | 28..=31) {
                2
            } else {
                1
            };
            let total = 8 * len + 16 + nes * 6;
            let mstbc = if stbc > 0 { 2 } else { 1 };
            let symbols = total.div_ceil(dbps * mstbc) * mstbc;
            // Short GI: 3.6 µs symbols rounded to the µs.
            let data = if sgi {
                (symbols * 36 + 5) / 10
            } else {
                symbols * 4
            };
            Some(preamble + data)
        }
        8 => {
            let v = rt.vht?;
            let (_, nss) = v.user(0)?;
            let stbc = v.stbc();
            let preamble = 32 + 4 * u64::from(nss) * stbc.map_or(1, |s| u64::from(s) + 1);
            Some(preamble + ((8 * len + 16) as f64 / rate_mbps) as u64)
        }
        _ => None,
    }
}

/// Which of tshark's simplifications apply to a frame.
fn duration_causes(rt: &Radiotap, phy: &Phy) -> Vec<&'static str> {
    let mut causes = Vec::new();
    match phy.mode {
        Mode::Dsss { rate_500kbps, .. } => {
            if rt.flags.is_none() {
                causes.push("no radiotap Flags: tshark assumes a short preamble");
            }
            if rate_500kbps == 2 && rt.flags.is_none_or(|f| f & 0x02 != 0) {
                causes.push("1 Mb/s has no short preamble");
            }
        }
        Mode::Ofdm { .. } if phy.band == Band::Ghz2_4 => {
            causes.push("tshark omits the 6 µs signal extension (2.4 GHz)")
        }
        Mode::Ht(p) => {
            if phy.band == Band::Ghz2_4 {
                causes.push("tshark omits the 6 µs signal extension (2.4 GHz)");
            }
            if p.bandwidth_mhz == 40 {
                causes.push("tshark uses 2 × 52 data subcarriers at 40 MHz (we: 108)");
            }
            if p.short_gi {
                causes.push("tshark rounds short-GI symbols to the µs (TXTIME: to 4 µs)");
            }
        }
        _ => {}
    }
    if rt.ampdu.is_some() {
        causes.push("tshark does not count the 4-byte A-MPDU delimiter");
    }
    if !rt.fcs_at_end() {
        causes.push("tshark 4.0 leaves out the FCS the capture does not carry");
    }
    causes
}

/// Radiotap and radio information against tshark.
fn check_radiotap(c: &mut Check, data: &[u8], rt: &Radiotap) {
    c.eq("radiotap.length", s(Some(rt.header_len)));
    let words: Vec<String> = RadiotapPacket::new_unchecked(data)
        .present_words()
        .map(|w| w.to_string())
        .collect();
    c.list("radiotap.present.word", words);
    let flag = |bit: u8| rt.flags.map(|f| b(f & bit != 0));
    c.eq("radiotap.flags.fcs", flag(0x10));
    c.eq("radiotap.flags.badfcs", flag(0x40));
    c.eq("radiotap.flags.preamble", flag(0x02));
    c.eq("radiotap.flags.datapad", flag(0x20));
    c.eq("radiotap.mactime", s(rt.tsft));
    c.eq("radiotap.channel.freq", s(rt.channel.map(|ch| ch.freq_mhz)));
    c.eq("radiotap.channel.flags", s(rt.channel.map(|ch| ch.flags)));
    let chains = rt.antennas();
    c.list(
        "radiotap.dbm_antsignal",
        chains.iter().filter_map(|a| s(a.signal_dbm)).collect(),
    );
    c.list(
        "radiotap.dbm_antnoise",
        chains.iter().filter_map(|a| s(a.noise_dbm)).collect(),
    );
    c.list(
        "radiotap.antenna",
        chains.iter().filter_map(|a| s(a.antenna)).collect(),
    );
    c.eq(
        "radiotap.xchannel.channel",
        s(rt.xchannel.map(|x| x.channel)),
    );
    c.eq("radiotap.xchannel.freq", s(rt.xchannel.map(|x| x.freq_mhz)));
    c.eq("radiotap.mcs.index", s(rt.mcs.and_then(|m| m.index())));
    c.eq(
        "radiotap.mcs.bw",
        s(rt.mcs.and_then(|m| m.bandwidth_code())),
    );
    c.eq("radiotap.mcs.gi", rt.mcs.and_then(|m| m.short_gi()).map(b));
    c.eq(
        "radiotap.mcs.stbc",
        s(rt.mcs.and_then(|m| m.stbc_streams())),
    );
    c.eq("radiotap.ampdu.reference", s(rt.ampdu.map(|a| a.reference)));
    c.eq(
        "radiotap.vht.bw",
        s(rt.vht
            .filter(|v| v.bandwidth_mhz().is_some())
            .map(|v| v.bandwidth & 0x1f)),
    );
    c.eq(
        "radiotap.vht.mcs.0",
        s(rt.vht.and_then(|v| v.user(0)).map(|u| u.0)),
    );
    c.eq(
        "radiotap.vht.nss.0",
        s(rt.vht.and_then(|v| v.user(0)).map(|u| u.1)),
    );
    c.eq(
        "radiotap.he.data_3.data_mcs",
        s(rt.he.and_then(|h| h.mcs())),
    );
    c.eq("radiotap.he.data_6.nsts", s(rt.he.map(|h| h.nsts())));
    c.eq(
        "radiotap.he.data_5.gi",
        s(rt.he.and_then(|h| h.gi().map(|_| (h.data[4] & 0x30) >> 4))),
    );
    c.eq(
        "radiotap.he.data_5.data_bw_ru_allocation",
        s(rt.he.and_then(|h| h.bw_ru())),
    );
    let vendor = rt.vendor;
    c.eq(
        "radiotap.vendor_oui",
        s(vendor.map(|v| u32::from_be_bytes([0, v.oui[0], v.oui[1], v.oui[2]]))),
    );
    c.eq("radiotap.vendor_subns", s(vendor.map(|v| v.subns)));
    c.eq("radiotap.vendor_data_len", s(vendor.map(|v| v.skip_length)));

    // tshark's radio summary.
    let phy_type = PhyType::from_radiotap(rt);
    let phy = Phy::from_radiotap(rt);
    c.when_tshark("wlan_radio.phy", s(phy_type.map(tshark_phy)));
    // Our version code follows from the PHY type; check the mapping on
    // tshark's classification.
    if let (Some(p), Some(t)) = (phy_type, c.first("wlan_radio.phy").map(norm)) {
        let expected = match t.as_str() {
            "4" => Some(Ieee80211Version::B),
            "5" => Some(Ieee80211Version::A),
            "6" => Some(Ieee80211Version::G),
            "7" => Some(Ieee80211Version::N),
            "8" | "11" => Some(Ieee80211Version::UNKNOWN),
            _ => None,
        };
        if let Some(e) = expected {
            c.report.fields += 1;
            if p.sflow_version() != e {
                let (o, t) = (
                    format!("{:?}", p.sflow_version()),
                    format!("{e:?} (phy {t})"),
                );
                c.disagree("version", &o, &t);
            }
        }
    }
    let speed = phy.and_then(|p| p.speed_bps());
    match (speed, c.first("wlan_radio.data_rate")) {
        (Some(ours), Some(t)) => {
            let t: f64 = t.parse().expect("data rate is a number");
            c.report.fields += 1;
            c.report.rates += 1;
            // tshark keeps a float (HE: a table rounded to 0.1 Mb/s).
            if (ours as f64 / 1e6 - t).abs() > 0.051 {
                let o = format!("{} Mb/s", ours as f64 / 1e6);
                c.disagree("wlan_radio.data_rate", &o, &t.to_string());
            }
        }
        (None, Some(t)) => {
            let t = t.to_string();
            c.disagree("wlan_radio.data_rate", "-", &t);
        }
        (Some(_), None) => c.report.ours_only += 1,
        (None, None) => {}
    }
    let freq = rt.frequency_mhz();
    c.when_tshark("wlan_radio.frequency", s(freq));
    c.when_tshark(
        "wlan_radio.channel",
        s(freq
            .map(|f| channel_number(u32::from(f)))
            .filter(|&n| n != 0)),
    );
    check_first_occurrence(
        c,
        "wlan_radio.signal_dbm",
        "radiotap.dbm_antsignal",
        rt.signal_dbm,
    );
    check_first_occurrence(
        c,
        "wlan_radio.noise_dbm",
        "radiotap.dbm_antnoise",
        rt.noise_dbm,
    );
    if let Some(snr) = c.first("wlan_radio.snr") {
        let snr: i32 = snr.parse().expect("snr is a number");
        let expected = ((snr + 10) * 2).clamp(0, 254) as u32;
        let ours = wsflowd::wifi::rsni(rt.signal_dbm, rt.noise_dbm);
        c.report.fields += 1;
        if ours != expected {
            let t = format!("{expected} from snr {snr}");
            c.disagree("rsni", &ours.to_string(), &t);
        }
    }
    let ht = match phy.map(|p| p.mode) {
        Some(Mode::Ht(h)) => Some(h),
        _ => None,
    };
    c.when_tshark("wlan_radio.11n.mcs_index", s(ht.map(|h| h.mcs)));
    c.when_tshark(
        "wlan_radio.11n.bandwidth",
        s(ht.map(|h| if h.bandwidth_mhz == 40 { 1 } else { 0 })),
    );
    c.when_tshark("wlan_radio.11n.short_gi", ht.map(|h| b(h.short_gi)));
}

/// Signal or noise: we keep the first occurrence of the radiotap namespace
/// (mac80211's combined value), tshark's radio summary the last one (the
/// last chain); its per-occurrence list is compared separately.
fn check_first_occurrence(c: &mut Check, field: &str, list: &str, ours: Option<i8>) {
    let theirs = c.first(field).map(norm);
    let occurrences = c.all(list);
    if theirs.is_some()
        && ours.is_some()
        && theirs != s(ours)
        && occurrences.len() > 1
        && occurrences.first() == s(ours).as_ref()
        && occurrences.last() == theirs.as_ref()
    {
        c.report.fields += 1;
        let (o, t) = (ours.unwrap_or(0), theirs.unwrap_or_default());
        c.explained(format!(
            "{field}: ours {o} (first radiotap namespace, the combined value), \
             tshark {t} (the last of {})",
            occurrences.join("|")
        ));
        return;
    }
    c.when_tshark(field, s(ours));
}

/// Our air time against tshark's, explaining differences by its model.
fn check_duration(c: &mut Check, rt: &Radiotap, f: &MonitorFrame) {
    let Some(theirs) = c.first("wlan_radio.duration") else {
        if f.packet_duration_us.is_some() {
            c.report.ours_only += 1;
        }
        return;
    };
    assert!(
        !c.has("wlan_radio.aggregate"),
        "{}: tshark detected an A-MPDU aggregate: its per-subframe accounting is not modelled here",
        c.ctx
    );
    let theirs: u64 = theirs.parse().expect("duration is a number");
    c.report.fields += 1;
    c.report.air_times += 1;
    let Some(ours) = f.packet_duration_us else {
        c.disagree("wlan_radio.duration", "-", &theirs.to_string());
        return;
    };
    if u64::from(ours) == theirs {
        c.report.air_times_equal += 1;
        return;
    }
    let phy_code: u32 = c
        .first("wlan_radio.phy")
        .and_then(|p| norm(p).parse().ok())
        .unwrap_or(0);
    let rate: f64 = c
        .first("wlan_radio.data_rate")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0.0);
    // tshark 4.0 counts the frame as captured: without the FCS when the
    // capture does not carry it (newer versions add it back).
    let fcs = if rt.fcs_at_end() { 0 } else { 4 };
    let model = tshark_duration(phy_code, rt, u64::from(f.frame_length) - fcs, rate);
    match (model, f.phy) {
        (Some(m), Some(phy)) if m == theirs => {
            let causes = duration_causes(rt, &phy).join("; ");
            c.explained(format!(
                "air time ours {ours} µs, tshark {theirs} µs ({causes})"
            ));
        }
        _ => {
            let t = format!("{theirs} (tshark model: {model:?})");
            c.disagree("wlan_radio.duration", &ours.to_string(), &t);
        }
    }
}

fn check_frame(
    report: &mut Report,
    ctx: String,
    link: u32,
    data: &[u8],
    orig_len: usize,
    row: &Row,
) {
    report.frames += 1;
    let lenient = row.contains_key("_ws.malformed");
    let mut c = Check {
        report,
        ctx,
        row,
        lenient,
    };
    let reject = |c: &mut Check, e: wsflowd::wifi::Error| match explain_reject(e.kind, c.row) {
        Some(why) => {
            let msg = format!("{}: rejected ({e}): {why}", c.ctx);
            c.report.rejected.push(msg);
        }
        None => {
            let msg = format!("{}: rejected ({e}) without a reason tshark shares", c.ctx);
            c.report.disagreements.push(msg);
        }
    };
    if link == link_type::IEEE802_11 {
        match MacHeader::parse(data) {
            Ok(h) => {
                c.report.frames_compared += 1;
                let body = data.get(h.header_len..).unwrap_or(&[]);
                let elements = if h.frame_control.is_management() && !h.frame_control.protected() {
                    Elements::of_management_body(h.subtype(), body, h.header_len)
                } else {
                    None
                };
                check_mac(&mut c, &h, elements);
            }
            Err(e) => reject(&mut c, e),
        }
        return;
    }
    let rt = match Radiotap::parse(data) {
        Ok(rt) => rt,
        Err(e) => return reject(&mut c, e),
    };
    c.report.frames_compared += 1;
    check_radiotap(&mut c, data, &rt);
    match MonitorFrame::parse_with_wire_len(data, orig_len) {
        Ok(f) => {
            assert_eq!(f.radiotap, rt);
            check_duration(&mut c, &rt, &f);
            check_mac(&mut c, &f.header, f.elements());
        }
        Err(e) => reject(&mut c, e),
    }
}

struct Capture {
    path: PathBuf,
    name: String,
    link: u32,
    records: Vec<(Vec<u8>, usize)>,
}

fn load_captures(dir: &Path) -> Vec<Capture> {
    let mut out = Vec::new();
    for sub in ["tcpdump", "zeek"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
            .collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).expect("read capture");
            let Ok(reader) = PcapReader::new(&data) else {
                continue;
            };
            let link = reader.link_type;
            if link != link_type::IEEE802_11 && link != link_type::IEEE802_11_RADIOTAP {
                continue;
            }
            let records = reader
                .map_while(Result::ok)
                .map(|r| (r.data.to_vec(), r.orig_len as usize))
                .collect();
            let name = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
            out.push(Capture {
                path,
                name,
                link,
                records,
            });
        }
    }
    out
}

#[test]
fn captures_agree_with_tshark() {
    let Some(dir) = captures_dir() else {
        eprintln!("skipped: ../shared/captures not found (set WSFLOWD_CAPTURES)");
        return;
    };
    if !common::tool_or_skip(TSHARK, "captures_agree_with_tshark") {
        return;
    }
    let captures = load_captures(&dir);
    assert!(
        !captures.is_empty(),
        "no 802.11 captures in {}",
        dir.display()
    );
    let config = TempDir::new("wifi-captures");

    // tshark once per file, a few at a time.
    let next = AtomicUsize::new(0);
    let rows: Vec<Mutex<Vec<Row>>> = captures.iter().map(|_| Mutex::new(Vec::new())).collect();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(cap) = captures.get(i) else { break };
                *rows[i].lock().unwrap() = tshark_rows(config.path(), &cap.path);
            });
        }
    });

    let mut report = Report::default();
    for (cap, rows) in captures.iter().zip(rows) {
        let rows = rows.into_inner().unwrap();
        assert_eq!(
            rows.len(),
            cap.records.len(),
            "{}: tshark and PcapReader count different frames",
            cap.name
        );
        report.files += 1;
        for (n, ((data, orig_len), row)) in cap.records.iter().zip(&rows).enumerate() {
            let ctx = format!("{} frame {}", cap.name, n + 1);
            check_frame(&mut report, ctx, cap.link, data, *orig_len, row);
        }
    }

    eprintln!(
        "{} files, {} frames: {} compared, {} rejected; {} fields compared, \
         {} values only we give; {} explained differences, {} disagreements",
        report.files,
        report.frames,
        report.frames_compared,
        report.rejected.len(),
        report.fields,
        report.ours_only,
        report.explained.len(),
        report.disagreements.len()
    );
    eprintln!(
        "data rates compared: {}; air times compared: {} ({} equal, {} explained by tshark's model)",
        report.rates,
        report.air_times,
        report.air_times_equal,
        report.air_times - report.air_times_equal
    );
    for r in &report.rejected {
        eprintln!("  {r}");
    }
    for e in &report.explained {
        eprintln!("  explained: {e}");
    }
    for d in &report.disagreements {
        eprintln!("  DISAGREEMENT: {d}");
    }
    assert!(
        report.disagreements.is_empty(),
        "{} disagreements with tshark (listed above)",
        report.disagreements.len()
    );
    assert!(report.frames_compared > 150 && report.fields > 2000);
}

/// The deliberately malformed captures (tcpdump's `*oobr*` and
/// `radiotap-heapoverflow`) give an error for every frame: the radiotap
/// header, the MAC header or the information elements of its body.
#[test]
fn malformed_captures_give_errors() {
    let Some(dir) = captures_dir() else {
        eprintln!("skipped: ../shared/captures not found (set WSFLOWD_CAPTURES)");
        return;
    };
    let malformed: Vec<Capture> = load_captures(&dir)
        .into_iter()
        .filter(|c| c.name.contains("oobr") || c.name.contains("heapoverflow"))
        .collect();
    assert_eq!(malformed.len(), 5, "the five malformed captures");
    for cap in &malformed {
        for (n, (data, orig_len)) in cap.records.iter().enumerate() {
            let error = if cap.link == link_type::IEEE802_11 {
                MacHeader::parse(data).err().or_else(|| {
                    let h = MacHeader::parse(data).ok()?;
                    let body = &data[h.header_len..];
                    Elements::of_management_body(h.subtype(), body, h.header_len)?
                        .check()
                        .err()
                })
            } else {
                match MonitorFrame::parse_with_wire_len(data, *orig_len) {
                    Err(e) => Some(e),
                    Ok(f) => f.elements().and_then(|e| e.check().err()),
                }
            };
            let error = error.unwrap_or_else(|| panic!("{} frame {}: no error", cap.name, n + 1));
            eprintln!("{} frame {}: {error}", cap.name, n + 1);
        }
    }
}

/// Every frame of every 802.11 capture goes through every parser without
/// panicking, whatever tshark says (runs without tshark).
#[test]
fn every_capture_frame_parses_or_fails_cleanly() {
    let Some(dir) = captures_dir() else {
        eprintln!("skipped: ../shared/captures not found (set WSFLOWD_CAPTURES)");
        return;
    };
    let (mut ok, mut errors) = (0, 0);
    for cap in load_captures(&dir) {
        for (data, orig_len) in &cap.records {
            let parsed = if cap.link == link_type::IEEE802_11 {
                MacHeader::parse(data).map(|_| ())
            } else {
                MonitorFrame::parse_with_wire_len(data, *orig_len).map(|f| {
                    if let Some(e) = f.elements() {
                        let _ = (e.ssid(), e.ds_channel(), e.check());
                    }
                })
            };
            match parsed {
                Ok(()) => ok += 1,
                Err(_) => errors += 1,
            }
        }
    }
    eprintln!("{ok} frames parsed, {errors} refused");
    assert_eq!((ok, errors), (222, 4));
}
