//! PHY figures of a received frame: data rate, air time, channel number,
//! RCPI and RSNI, and the sFlow `ieee80211_version` code.
//!
//! Rates are computed from the parameters of each PHY rather than copied
//! from rate tables: data bits per OFDM symbol
//! N_DBPS = N_SD × N_BPSCS × R × N_SS (data subcarriers, coded bits per
//! subcarrier, coding rate, spatial streams), divided by the symbol
//! duration (IEEE Std 802.11-2020 clauses 17 OFDM, 19 HT, 21 VHT;
//! IEEE Std 802.11ax-2021 clause 27 HE). Air times follow the TXTIME
//! equations of the PHY clauses (15 DSSS, 16 HR/DSSS, 17 OFDM, 18 ERP,
//! 19 HT, 21 VHT, 27 HE), with the assumptions listed on
//! [`Phy::duration_us`].
//!
//! Everything is integer arithmetic on bounded inputs: no panics, no
//! floating point, no allocation.

use super::radiotap::{self, channel_flags, HeGi, Radiotap};
use crate::sflow::Ieee80211Version;

/// Frequency band of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    Ghz2_4,
    /// 4.9 GHz public safety / Japan channels (OFDM like 5 GHz).
    Ghz4_9,
    Ghz5,
    Ghz6,
    Ghz60,
    Unknown,
}

impl Band {
    /// The band of a centre frequency in MHz.
    pub fn from_mhz(freq_mhz: u32) -> Band {
        match freq_mhz {
            2400..=2500 => Band::Ghz2_4,
            4900..=4999 => Band::Ghz4_9,
            5000..=5930 => Band::Ghz5,
            5931..=7125 => Band::Ghz6,
            57000..=71000 => Band::Ghz60,
            _ => Band::Unknown,
        }
    }

    /// The band of a radiotap header: its frequency, else its channel
    /// flags (2 GHz / 5 GHz).
    pub fn from_radiotap(rt: &Radiotap) -> Band {
        if let Some(f) = rt.frequency_mhz() {
            return Band::from_mhz(u32::from(f));
        }
        match rt.channel_flags() {
            Some(f) if f & channel_flags::GHZ_2 != 0 => Band::Ghz2_4,
            Some(f) if f & channel_flags::GHZ_5 != 0 => Band::Ghz5,
            _ => Band::Unknown,
        }
    }

    /// 2.4 GHz OFDM PPDUs (ERP, HT, HE) end with a 6 µs signal extension
    /// that TXTIME counts.
    fn signal_extension_us(self) -> u64 {
        if self == Band::Ghz2_4 {
            6
        } else {
            0
        }
    }
}

/// Channel number of a centre frequency in MHz, 0 when unknown.
///
/// 2.4 GHz: 2412..2472 MHz in 5 MHz steps are channels 1..13, 2484 is 14;
/// 4.9 GHz: (f − 4000) / 5; 5 GHz: (f − 5000) / 5; 6 GHz: (f − 5950) / 5
/// and 5935 MHz is channel 2; 60 GHz: 58320 + 2160 × (n − 1).
pub fn channel_number(freq_mhz: u32) -> u32 {
    let f = freq_mhz;
    match f {
        2484 => 14,
        2412..=2472 if (f - 2407) % 5 == 0 => (f - 2407) / 5,
        4910..=4980 if f % 5 == 0 => (f - 4000) / 5,
        5005..=5925 if f % 5 == 0 => (f - 5000) / 5,
        5935 => 2,
        5955..=7115 if (f - 5950) % 5 == 0 => (f - 5950) / 5,
        58320..=70200 if (f - 56160) % 2160 == 0 => (f - 56160) / 2160,
        _ => 0,
    }
}

/// RCPI (dot11FrameRprtLastRCPI) from a received power in dBm, per the
/// "RCPI measurement" subclause of each PHY clause of IEEE 802.11-2020
/// (introduced by 802.11k-2008):
/// RCPI = 2 × (P + 110) for −110 dBm < P < 0 dBm, 0 at or below −110 dBm,
/// 220 at or above 0 dBm; 255 = measurement not available.
pub fn rcpi(signal_dbm: Option<i8>) -> u32 {
    match signal_dbm {
        Some(p) => (2 * (i32::from(p) + 110)).clamp(0, 220) as u32,
        None => 255,
    }
}

/// RSNI (dot11FrameRprtRSNI): the RSNI element of IEEE 802.11-2020
/// (from 802.11k-2008) defines RSNI = (10 × log10((RCPI_power − ANPI_power) /
/// ANPI_power) + 10) × 2, i.e. (SNR in dB + 10) × 2, covering −10 dB to
/// +117 dB in 0.5 dB steps (0..254), 255 = not available. The SNR used
/// here is radiotap's dBm antenna signal minus its dBm antenna noise (the
/// noise floor standing in for ANPI).
pub fn rsni(signal_dbm: Option<i8>, noise_dbm: Option<i8>) -> u32 {
    match (signal_dbm, noise_dbm) {
        (Some(s), Some(n)) => {
            let snr = i32::from(s) - i32::from(n);
            ((snr + 10) * 2).clamp(0, 254) as u32
        }
        _ => 255,
    }
}

/// The PHY family of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhyType {
    /// DSSS and HR/DSSS (CCK, PBCC): 802.11b.
    Dsss,
    /// OFDM outside 2.4 GHz: 802.11a.
    Ofdm,
    /// ERP-OFDM, OFDM in 2.4 GHz: 802.11g.
    Erp,
    /// HT: 802.11n.
    Ht,
    /// VHT: 802.11ac.
    Vht,
    /// HE: 802.11ax.
    He,
}

impl PhyType {
    /// The PHY family of a frame from its radiotap header: HE, VHT or MCS
    /// field, else the legacy rate (DSSS rates 1, 2, 5.5, 11, 22, 33 Mb/s,
    /// OFDM otherwise, ERP when in 2.4 GHz), else the channel flags (CCK;
    /// OFDM with a band). None when nothing says, or for OFDM in an
    /// unknown band.
    pub fn from_radiotap(rt: &Radiotap) -> Option<PhyType> {
        if rt.he.is_some() {
            return Some(PhyType::He);
        }
        if rt.vht.is_some() {
            return Some(PhyType::Vht);
        }
        if rt.mcs.is_some() || rt.rate_500kbps.is_some_and(is_freebsd_mcs) {
            return Some(PhyType::Ht);
        }
        let band = Band::from_radiotap(rt);
        let ofdm = |band| match band {
            Band::Ghz2_4 => Some(PhyType::Erp),
            Band::Unknown => None,
            _ => Some(PhyType::Ofdm),
        };
        match rt.rate_500kbps {
            Some(r) if is_dsss_rate(r) => Some(PhyType::Dsss),
            Some(r) if r != 0 => ofdm(band),
            _ => match rt.channel_flags() {
                Some(f) if f & channel_flags::CCK != 0 => Some(PhyType::Dsss),
                Some(f) if f & (channel_flags::OFDM | channel_flags::DYNAMIC_CCK_OFDM) != 0 => {
                    ofdm(band)
                }
                _ => None,
            },
        }
    }

    /// The sFlow `ieee80211_version` code. The sFlow 802.11 structures
    /// (2007) only name a (1), b (2), g (3) and n (4); VHT and HE are
    /// reported as 0, the specification's "unknown", rather than as "n"
    /// (which would claim an HT PPDU) or as invented codes no collector
    /// knows.
    pub fn sflow_version(self) -> Ieee80211Version {
        match self {
            PhyType::Ofdm => Ieee80211Version::A,
            PhyType::Dsss => Ieee80211Version::B,
            PhyType::Erp => Ieee80211Version::G,
            PhyType::Ht => Ieee80211Version::N,
            PhyType::Vht | PhyType::He => Ieee80211Version::UNKNOWN,
        }
    }
}

/// Whether a legacy rate (bit/s) is one of the DSSS and HR/DSSS PHYs:
/// 1, 2, 5.5, 11 Mb/s (DSSS, CCK) and 22, 33 Mb/s (PBCC), which are
/// 802.11b in any band. No OFDM rate, at any channel width (5, 10, 20
/// MHz), has one of these values.
pub fn is_dsss_bps(rate_bps: u64) -> bool {
    matches!(
        rate_bps,
        1_000_000 | 2_000_000 | 5_500_000 | 11_000_000 | 22_000_000 | 33_000_000
    )
}

/// [`is_dsss_bps`] of a radiotap Rate (500 kbit/s units).
fn is_dsss_rate(r: u8) -> bool {
    is_dsss_bps(u64::from(r) * 500_000)
}

/// FreeBSD (and tcpdump, Wireshark) read a radiotap Rate of 0x80..0x8f
/// as "HT MCS 0..15" from drivers that have no MCS field.
fn is_freebsd_mcs(r: u8) -> bool {
    (0x80..=0x8f).contains(&r)
}

/// HT parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HtParams {
    /// MCS index 0..76.
    pub mcs: u8,
    /// 20 or 40.
    pub bandwidth_mhz: u16,
    pub short_gi: bool,
    pub greenfield: bool,
    /// Number of STBC streams (N_STS − N_SS), 0..3.
    pub stbc_streams: u8,
    /// Number of extension spatial streams, 0..3.
    pub extension_streams: u8,
    pub ldpc: bool,
}

/// VHT parameters (single user, or user 0 of an MU PPDU).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VhtParams {
    /// VHT-MCS 0..9.
    pub mcs: u8,
    /// Spatial streams 1..8.
    pub nss: u8,
    /// 20, 40, 80 or 160 (80+80 counts as 160).
    pub bandwidth_mhz: u16,
    pub short_gi: bool,
    pub stbc: bool,
    pub ldpc: bool,
}

/// HE PPDU format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeFormat {
    Su,
    ExtSu,
    Mu,
    TriggerBased,
}

/// HE parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeParams {
    pub format: HeFormat,
    /// HE-MCS 0..11.
    pub mcs: u8,
    /// Space-time streams 1..8.
    pub nsts: u8,
    pub stbc: bool,
    /// Dual carrier modulation (halves the rate).
    pub dcm: bool,
    /// Bandwidth / RU code of radiotap: 0..3 = 20/40/80/160 MHz, 4..10 =
    /// 26/52/106/242/484/996/2×996-tone RU.
    pub bw_ru: u8,
    pub gi: HeGi,
    pub ldpc: bool,
    /// HE-LTF size: 1, 2 or 4 (× 3.2 µs), if known.
    pub ltf_size: Option<u8>,
    /// Number of HE-LTF symbols, if known.
    pub ltf_symbols: Option<u8>,
}

/// The modulation of a frame, as far as rate and air time need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// DSSS / HR-DSSS: rate in 500 kbit/s units.
    Dsss {
        rate_500kbps: u8,
        short_preamble: bool,
    },
    /// Non-HT OFDM: rate in 500 kbit/s units, channel width 20, 10 or 5
    /// MHz (half / quarter clocked).
    Ofdm {
        rate_500kbps: u8,
        width_mhz: u8,
    },
    Ht(HtParams),
    Vht(VhtParams),
    He(HeParams),
}

/// The PHY of a received frame: modulation and band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phy {
    pub mode: Mode,
    pub band: Band,
}

/// (N_BPSCS, R numerator, R denominator) of HT (index mod 8), VHT and HE
/// MCS 0..11: BPSK 1/2, QPSK 1/2, QPSK 3/4, 16-QAM 1/2, 16-QAM 3/4,
/// 64-QAM 2/3, 3/4, 5/6, 256-QAM 3/4, 5/6, 1024-QAM 3/4, 5/6.
const MODULATION: [(u64, u64, u64); 12] = [
    (1, 1, 2),
    (2, 1, 2),
    (2, 3, 4),
    (4, 1, 2),
    (4, 3, 4),
    (6, 2, 3),
    (6, 3, 4),
    (6, 5, 6),
    (8, 3, 4),
    (8, 5, 6),
    (10, 3, 4),
    (10, 5, 6),
];

/// HT MCS 33..76 (unequal modulation, the HT MCS tables of 802.11-2020
/// clause 19): the sum of
/// N_BPSCS over the streams; the coding rate is 1/2 for MCS 33-35, 39-45
/// and 53-64, 3/4 for the others.
const UEQM_BITS: [u8; 44] = [
    6, 8, 10, 6, 8, 10, // 33-38: 2 streams
    8, 10, 10, 12, 14, 14, 16, 8, 10, 10, 12, 14, 14, 16, // 39-52: 3 streams
    10, 12, 14, 12, 14, 16, 18, 16, 18, 20, 20, 22, // 53-64: 4 streams, 1/2
    10, 12, 14, 12, 14, 16, 18, 16, 18, 20, 20, 22, // 65-76: 4 streams, 3/4
];

fn ueqm_rate_half(mcs: u8) -> bool {
    matches!(mcs, 33..=35 | 39..=45 | 53..=64)
}

/// Data bits per symbol as a fraction.
#[derive(Debug, Clone, Copy)]
struct Bits {
    num: u64,
    den: u64,
}

/// Spatial streams of an HT MCS.
pub fn ht_streams(mcs: u8) -> Option<u8> {
    match mcs {
        0..=31 => Some(mcs / 8 + 1),
        32 => Some(1),
        33..=38 => Some(2),
        39..=52 => Some(3),
        53..=76 => Some(4),
        _ => None,
    }
}

fn ht_bits(p: &HtParams) -> Option<Bits> {
    let n_sd: u64 = match p.bandwidth_mhz {
        20 => 52,
        40 => 108,
        _ => return None,
    };
    match p.mcs {
        0..=31 => {
            let (b, rn, rd) = MODULATION[usize::from(p.mcs % 8)];
            let nss = u64::from(p.mcs / 8 + 1);
            Some(Bits {
                num: n_sd * b * rn * nss,
                den: rd,
            })
        }
        // HT duplicate: BPSK 1/2 on 48 subcarriers in each 20 MHz half.
        32 if p.bandwidth_mhz == 40 => Some(Bits { num: 24, den: 1 }),
        33..=76 => {
            let sum = u64::from(UEQM_BITS[usize::from(p.mcs - 33)]);
            let (rn, rd) = if ueqm_rate_half(p.mcs) {
                (1, 2)
            } else {
                (3, 4)
            };
            Some(Bits {
                num: n_sd * sum * rn,
                den: rd,
            })
        }
        _ => None,
    }
}

fn vht_bits(p: &VhtParams) -> Option<Bits> {
    let n_sd: u64 = match p.bandwidth_mhz {
        20 => 52,
        40 => 108,
        80 => 234,
        160 => 468,
        _ => return None,
    };
    if p.mcs > 9 || p.nss == 0 || p.nss > 8 {
        return None;
    }
    // Combinations 802.11-2020 21.5 excludes although N_DBPS is whole
    // (N_DBPS / N_ES or N_CBPS / N_ES is not).
    if matches!(
        (p.mcs, p.bandwidth_mhz, p.nss),
        (6, 80, 3) | (6, 80, 7) | (9, 80, 6) | (9, 160, 3)
    ) {
        return None;
    }
    let (b, rn, rd) = MODULATION[usize::from(p.mcs)];
    let num = n_sd * b * rn * u64::from(p.nss);
    // Also excluded: a fractional N_DBPS (MCS 9 at 20 MHz with 1, 2, 4, 5,
    // 7 or 8 streams).
    (num % rd == 0).then_some(Bits {
        num: num / rd,
        den: 1,
    })
}

/// HE data subcarriers of a bandwidth / RU code.
fn he_n_sd(bw_ru: u8) -> Option<u64> {
    Some(match bw_ru {
        0 | 7 => 234,
        1 | 8 => 468,
        2 | 9 => 980,
        3 | 10 => 1960,
        4 => 24,
        5 => 48,
        6 => 102,
        _ => return None,
    })
}

/// Spatial streams of an HE PPDU: N_STS, halved under STBC.
fn he_nss(p: &HeParams) -> u64 {
    let nsts = u64::from(p.nsts);
    if p.stbc {
        (nsts / 2).max(1)
    } else {
        nsts
    }
}

fn he_bits(p: &HeParams) -> Option<Bits> {
    let n_sd = he_n_sd(p.bw_ru)?;
    if p.mcs > 11 || p.nsts == 0 || p.nsts > 8 {
        return None;
    }
    let (b, rn, rd) = MODULATION[usize::from(p.mcs)];
    Some(Bits {
        num: n_sd * b * rn * he_nss(p),
        den: rd * if p.dcm { 2 } else { 1 },
    })
}

fn he_gi_ns(gi: HeGi) -> u64 {
    match gi {
        HeGi::Us0_8 => 800,
        HeGi::Us1_6 => 1600,
        HeGi::Us3_2 => 3200,
    }
}

/// bit/s from data bits per symbol and the symbol duration in ns.
fn bps(bits: Bits, symbol_ns: u64) -> u64 {
    bits.num * 1_000_000_000 / (bits.den * symbol_ns)
}

/// N_SYM = m_STBC × ⌈bits / (m_STBC × N_DBPS)⌉.
fn n_sym(bits: u64, per_symbol: Bits, m_stbc: u64) -> Option<u64> {
    let per = per_symbol.num.checked_mul(m_stbc)?;
    if per == 0 {
        return None;
    }
    Some(m_stbc * bits.checked_mul(per_symbol.den)?.div_ceil(per))
}

/// Number of BCC encoders: one per 300 Mb/s (HT) or 600 Mb/s (VHT) of
/// short-GI rate, i.e. per 1080 or 2160 data bits per symbol.
fn n_es(bits: Bits, per_encoder: u64) -> u64 {
    (bits.num / bits.den).div_ceil(per_encoder).max(1)
}

/// Largest PSDU we compute an air time for (802.11ax's is about 6.5 MB).
const MAX_PSDU: usize = 1 << 23;

impl Phy {
    /// The modulation of a frame from its radiotap header: HE (data MCS,
    /// bandwidth/RU, GI known and NSTS given), VHT (user 0: MCS and NSS,
    /// bandwidth and GI known), HT (MCS index, bandwidth and GI known, as
    /// tshark requires; or a Rate of 0x80..0x8f, FreeBSD's HT MCS), else
    /// the legacy Rate. None when the header does not say enough.
    pub fn from_radiotap(rt: &Radiotap) -> Option<Phy> {
        let band = Band::from_radiotap(rt);
        let mode = if let Some(he) = rt.he {
            let format = match he.format() {
                radiotap::He::FORMAT_SU => HeFormat::Su,
                radiotap::He::FORMAT_EXT_SU => HeFormat::ExtSu,
                radiotap::He::FORMAT_MU => HeFormat::Mu,
                _ => HeFormat::TriggerBased,
            };
            let nsts = he.nsts();
            if nsts == 0 {
                return None;
            }
            Mode::He(HeParams {
                format,
                mcs: he.mcs()?,
                nsts,
                stbc: he.stbc(),
                dcm: he.dcm(),
                bw_ru: he.bw_ru()?,
                gi: he.gi()?,
                ldpc: he.ldpc().unwrap_or(false),
                ltf_size: he.ltf_size(),
                ltf_symbols: he.ltf_symbols(),
            })
        } else if let Some(vht) = rt.vht {
            let (mcs, nss) = vht.user(0)?;
            Mode::Vht(VhtParams {
                mcs,
                nss,
                bandwidth_mhz: vht.bandwidth_mhz()?,
                short_gi: vht.short_gi()?,
                stbc: vht.stbc().unwrap_or(false),
                ldpc: vht.ldpc(0),
            })
        } else if let Some(mcs) = rt.mcs {
            Mode::Ht(HtParams {
                mcs: mcs.index()?,
                bandwidth_mhz: mcs.bandwidth_mhz()?,
                short_gi: mcs.short_gi()?,
                greenfield: mcs.greenfield().unwrap_or(false),
                stbc_streams: mcs.stbc_streams().unwrap_or(0),
                extension_streams: mcs.extension_streams().unwrap_or(0),
                ldpc: mcs.ldpc().unwrap_or(false),
            })
        } else {
            let rate = rt.rate_500kbps.filter(|&r| r != 0)?;
            if is_freebsd_mcs(rate) {
                Mode::Ht(HtParams {
                    mcs: rate & 0x7f,
                    bandwidth_mhz: 20,
                    short_gi: rt.flags.is_some_and(|f| f & radiotap::flags::SHORT_GI != 0),
                    greenfield: false,
                    stbc_streams: 0,
                    extension_streams: 0,
                    ldpc: false,
                })
            } else if is_dsss_rate(rate) {
                Mode::Dsss {
                    rate_500kbps: rate,
                    short_preamble: rt.short_preamble(),
                }
            } else {
                let flags = rt.channel_flags().unwrap_or(0);
                let width_mhz = if flags & channel_flags::QUARTER_RATE != 0 {
                    5
                } else if flags & channel_flags::HALF_RATE != 0 {
                    10
                } else {
                    20
                };
                Mode::Ofdm {
                    rate_500kbps: rate,
                    width_mhz,
                }
            }
        };
        Some(Phy { mode, band })
    }

    /// The PHY family.
    pub fn phy_type(&self) -> Option<PhyType> {
        match self.mode {
            Mode::Dsss { .. } => Some(PhyType::Dsss),
            Mode::Ofdm { .. } => match self.band {
                Band::Ghz2_4 => Some(PhyType::Erp),
                Band::Unknown => None,
                _ => Some(PhyType::Ofdm),
            },
            Mode::Ht(_) => Some(PhyType::Ht),
            Mode::Vht(_) => Some(PhyType::Vht),
            Mode::He(_) => Some(PhyType::He),
        }
    }

    /// Data rate in bit/s (rounded down), None when the parameters name no
    /// valid rate (HT MCS 32 at 20 MHz, MCS > 76; VHT MCS > 9 or an
    /// excluded combination; HE MCS > 11).
    ///
    /// Known values: HT MCS 7, 20 MHz: 65 Mb/s, short GI 72.2; VHT MCS 9,
    /// 80 MHz, 1 stream, short GI: 433.3; HE MCS 11, 80 MHz, 2 streams,
    /// 0.8 µs GI: 1201.
    pub fn speed_bps(&self) -> Option<u64> {
        match self.mode {
            Mode::Dsss { rate_500kbps, .. } | Mode::Ofdm { rate_500kbps, .. } => {
                (rate_500kbps != 0).then_some(u64::from(rate_500kbps) * 500_000)
            }
            Mode::Ht(p) => Some(bps(ht_bits(&p)?, if p.short_gi { 3600 } else { 4000 })),
            Mode::Vht(p) => Some(bps(vht_bits(&p)?, if p.short_gi { 3600 } else { 4000 })),
            Mode::He(p) => Some(bps(he_bits(&p)?, 12_800 + he_gi_ns(p.gi))),
        }
    }

    /// Air time in µs of a PPDU carrying `psdu_len` bytes (the MPDU with
    /// its FCS; for a frame of an A-MPDU add the 4-byte delimiter):
    /// preamble, header and data symbols, plus the 6 µs signal extension
    /// of OFDM PPDUs in 2.4 GHz.
    ///
    /// - DSSS/CCK: 192 µs long preamble + PLCP header, 96 µs short (never
    ///   at 1 Mb/s, which has no short format), + ⌈8 × len / rate⌉.
    /// - OFDM: 16 µs preamble + 4 µs SIGNAL + 4 µs × ⌈(16 + 8 × len + 6) /
    ///   N_DBPS⌉ (doubled / quadrupled on 10 / 5 MHz channels).
    /// - HT mixed format: 20 µs legacy + 8 µs HT-SIG + 4 µs HT-STF + 4 µs per
    ///   HT-LTF; greenfield: 24 µs + 4 µs per extra HT-LTF. Short GI
    ///   symbols are 3.6 µs, rounded up to the 4 µs boundary as TXTIME
    ///   does. BCC: 6 tail bits per encoder; LDPC: no tail (its shortening
    ///   and punctuation, which can add a symbol, is not modelled).
    /// - VHT: 20 µs legacy + 8 µs VHT-SIG-A + 4 µs VHT-STF + 4 µs per
    ///   VHT-LTF + 4 µs VHT-SIG-B, then as HT.
    /// - HE SU and extended-range SU: 20 µs legacy + 4 µs RL-SIG + 8 µs (16
    ///   for ER) HE-SIG-A + 4 µs HE-STF + HE-LTFs (3.2, 6.4 or 12.8 µs + GI
    ///   each; 2x assumed when radiotap does not say, 4x with the 3.2 µs
    ///   GI), symbols of 12.8 µs + GI; no packet extension (radiotap does
    ///   not give it). MU and trigger-based PPDUs: None (their HE-SIG-B and
    ///   other users are unknown).
    pub fn duration_us(&self, psdu_len: usize) -> Option<u32> {
        if psdu_len > MAX_PSDU {
            return None;
        }
        let len = psdu_len as u64;
        let ext = self.band.signal_extension_us();
        let us = match self.mode {
            Mode::Dsss {
                rate_500kbps,
                short_preamble,
            } => {
                if rate_500kbps == 0 {
                    return None;
                }
                let preamble = if short_preamble && rate_500kbps > 2 {
                    96
                } else {
                    192
                };
                // 8 × len bits at rate / 2 Mb/s.
                preamble + (16 * len).div_ceil(u64::from(rate_500kbps))
            }
            Mode::Ofdm {
                rate_500kbps,
                width_mhz,
            } => {
                let scale: u64 = match width_mhz {
                    5 => 4,
                    10 => 2,
                    _ => 1,
                };
                let t_sym = 4 * scale;
                // N_DBPS = rate (Mb/s) × symbol time (µs).
                let n_dbps = u64::from(rate_500kbps) * t_sym / 2;
                if n_dbps == 0 {
                    return None;
                }
                let symbols = (16 + 8 * len + 6).div_ceil(n_dbps);
                20 * scale + t_sym * symbols + ext
            }
            Mode::Ht(p) => {
                let bits = ht_bits(&p)?;
                let nss = ht_streams(p.mcs)?;
                let n_sts = nss + p.stbc_streams;
                let n_dltf: u64 = match n_sts {
                    1 => 1,
                    2 => 2,
                    3 | 4 => 4,
                    _ => return None,
                };
                let n_eltf: u64 = match p.extension_streams {
                    0 => 0,
                    1 => 1,
                    2 => 2,
                    3 => 4,
                    _ => return None,
                };
                let n_ltf = n_dltf + n_eltf;
                let preamble = if p.greenfield {
                    24 + 4 * (n_ltf - 1)
                } else {
                    32 + 4 * n_ltf
                };
                let tail = if p.ldpc { 0 } else { 6 * n_es(bits, 1080) };
                let m_stbc = if p.stbc_streams > 0 { 2 } else { 1 };
                let symbols = n_sym(8 * len + 16 + tail, bits, m_stbc)?;
                preamble + data_time_us(symbols, p.short_gi) + ext
            }
            Mode::Vht(p) => {
                let bits = vht_bits(&p)?;
                let n_sts = u64::from(p.nss) * if p.stbc { 2 } else { 1 };
                let n_ltf = match n_sts {
                    1 => 1,
                    2 => 2,
                    3 | 4 => 4,
                    5 | 6 => 6,
                    7 | 8 => 8,
                    _ => return None,
                };
                let preamble = 36 + 4 * n_ltf;
                let tail = if p.ldpc { 0 } else { 6 * n_es(bits, 2160) };
                let m_stbc = if p.stbc { 2 } else { 1 };
                let symbols = n_sym(8 * len + 16 + tail, bits, m_stbc)?;
                preamble + data_time_us(symbols, p.short_gi) + ext
            }
            Mode::He(p) => {
                let sig_a_ns = match p.format {
                    HeFormat::Su => 8_000,
                    HeFormat::ExtSu => 16_000,
                    HeFormat::Mu | HeFormat::TriggerBased => return None,
                };
                let bits = he_bits(&p)?;
                let gi = he_gi_ns(p.gi);
                let ltf_base = match p.ltf_size {
                    Some(1) => 3_200,
                    Some(4) => 12_800,
                    Some(_) => 6_400,
                    None if p.gi == HeGi::Us3_2 => 12_800,
                    None => 6_400,
                };
                let n_ltf = match p.ltf_symbols {
                    Some(n) => u64::from(n),
                    None => match p.nsts {
                        1 => 1,
                        2 => 2,
                        3 | 4 => 4,
                        5 | 6 => 6,
                        _ => 8,
                    },
                };
                let preamble_ns = 20_000 + 4_000 + sig_a_ns + 4_000 + n_ltf * (ltf_base + gi);
                let tail = if p.ldpc { 0 } else { 6 };
                let m_stbc = if p.stbc { 2 } else { 1 };
                let symbols = n_sym(8 * len + 16 + tail, bits, m_stbc)?;
                let ns = preamble_ns + symbols.checked_mul(12_800 + gi)? + ext * 1000;
                ns.div_ceil(1000)
            }
        };
        u32::try_from(us).ok()
    }
}

/// Duration of `symbols` HT/VHT data symbols: 4 µs each, or 3.6 µs with
/// the short GI, then rounded up to a multiple of 4 µs (TXTIME's
/// T_SYML × ⌈T_SYMS × N_SYM / T_SYML⌉).
fn data_time_us(symbols: u64, short_gi: bool) -> u64 {
    if short_gi {
        4 * (9 * symbols).div_ceil(10)
    } else {
        4 * symbols
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ht(mcs: u8, bw: u16, sgi: bool) -> Phy {
        Phy {
            mode: Mode::Ht(HtParams {
                mcs,
                bandwidth_mhz: bw,
                short_gi: sgi,
                greenfield: false,
                stbc_streams: 0,
                extension_streams: 0,
                ldpc: false,
            }),
            band: Band::Ghz5,
        }
    }

    fn vht(mcs: u8, nss: u8, bw: u16, sgi: bool) -> Phy {
        Phy {
            mode: Mode::Vht(VhtParams {
                mcs,
                nss,
                bandwidth_mhz: bw,
                short_gi: sgi,
                stbc: false,
                ldpc: false,
            }),
            band: Band::Ghz5,
        }
    }

    fn he(mcs: u8, nsts: u8, bw_ru: u8, gi: HeGi) -> Phy {
        Phy {
            mode: Mode::He(HeParams {
                format: HeFormat::Su,
                mcs,
                nsts,
                stbc: false,
                dcm: false,
                bw_ru,
                gi,
                ldpc: true,
                ltf_size: None,
                ltf_symbols: None,
            }),
            band: Band::Ghz5,
        }
    }

    fn legacy(rate_500kbps: u8, band: Band) -> Phy {
        let mode = if is_dsss_rate(rate_500kbps) {
            Mode::Dsss {
                rate_500kbps,
                short_preamble: false,
            }
        } else {
            Mode::Ofdm {
                rate_500kbps,
                width_mhz: 20,
            }
        };
        Phy { mode, band }
    }

    #[test]
    fn ht_rates() {
        assert_eq!(ht(7, 20, false).speed_bps(), Some(65_000_000));
        assert_eq!(ht(7, 20, true).speed_bps(), Some(72_222_222));
        assert_eq!(ht(7, 40, false).speed_bps(), Some(135_000_000));
        assert_eq!(ht(7, 40, true).speed_bps(), Some(150_000_000));
        assert_eq!(ht(0, 20, false).speed_bps(), Some(6_500_000));
        assert_eq!(ht(15, 20, false).speed_bps(), Some(130_000_000));
        assert_eq!(ht(31, 40, true).speed_bps(), Some(600_000_000));
        assert_eq!(ht(23, 20, false).speed_bps(), Some(195_000_000));
        assert_eq!(ht(32, 40, false).speed_bps(), Some(6_000_000));
        assert_eq!(ht(32, 40, true).speed_bps(), Some(6_666_666));
        assert_eq!(ht(32, 20, false).speed_bps(), None);
        // Unequal modulation: MCS 33 = 16-QAM + QPSK, 1/2: 39 Mb/s at 20 MHz.
        assert_eq!(ht(33, 20, false).speed_bps(), Some(39_000_000));
        assert_eq!(ht(76, 40, true).speed_bps(), Some(495_000_000));
        assert_eq!(ht(77, 20, false).speed_bps(), None);
        assert_eq!(ht_streams(52), Some(3));
        assert_eq!(ht_streams(77), None);
    }

    #[test]
    fn vht_rates() {
        assert_eq!(vht(9, 1, 80, true).speed_bps(), Some(433_333_333));
        assert_eq!(vht(9, 1, 80, false).speed_bps(), Some(390_000_000));
        assert_eq!(vht(0, 1, 20, false).speed_bps(), Some(6_500_000));
        assert_eq!(vht(9, 2, 160, true).speed_bps(), Some(1_733_333_333));
        assert_eq!(vht(9, 8, 160, true).speed_bps(), Some(6_933_333_333));
        assert_eq!(vht(8, 1, 20, false).speed_bps(), Some(78_000_000));
        // Excluded combinations.
        assert_eq!(vht(9, 1, 20, false).speed_bps(), None);
        assert_eq!(vht(9, 3, 20, false).speed_bps(), Some(260_000_000));
        assert_eq!(vht(6, 3, 80, false).speed_bps(), None);
        assert_eq!(vht(9, 6, 80, false).speed_bps(), None);
        assert_eq!(vht(9, 3, 160, false).speed_bps(), None);
        assert_eq!(vht(10, 1, 80, false).speed_bps(), None);
        assert_eq!(vht(0, 0, 80, false).speed_bps(), None);
    }

    #[test]
    fn he_rates() {
        assert_eq!(he(11, 2, 2, HeGi::Us0_8).speed_bps(), Some(1_200_980_392));
        // ieee802.11_htc.pcap: MCS 9, 2 streams, 20 MHz, 0.8 µs: 229.4.
        assert_eq!(he(9, 2, 0, HeGi::Us0_8).speed_bps(), Some(229_411_764));
        assert_eq!(he(0, 1, 0, HeGi::Us3_2).speed_bps(), Some(7_312_500));
        assert_eq!(he(11, 8, 3, HeGi::Us0_8).speed_bps(), Some(9_607_843_137));
        assert_eq!(he(11, 1, 1, HeGi::Us1_6).speed_bps(), Some(270_833_333));
        // 26-tone RU, MCS 0: 24 × 1/2 bits per 13.6 µs.
        assert_eq!(he(0, 1, 4, HeGi::Us0_8).speed_bps(), Some(882_352));
        let mut p = he(1, 2, 0, HeGi::Us0_8);
        if let Mode::He(h) = &mut p.mode {
            h.dcm = true;
            h.stbc = true;
        }
        // DCM halves, STBC: 2 space-time streams carry 1 spatial stream.
        assert_eq!(p.speed_bps(), Some(8_602_941));
        assert_eq!(he(12, 1, 0, HeGi::Us0_8).speed_bps(), None);
        assert_eq!(he(0, 1, 11, HeGi::Us0_8).speed_bps(), None);
    }

    #[test]
    fn legacy_rates() {
        assert_eq!(legacy(2, Band::Ghz2_4).speed_bps(), Some(1_000_000));
        assert_eq!(legacy(11, Band::Ghz2_4).speed_bps(), Some(5_500_000));
        assert_eq!(legacy(108, Band::Ghz5).speed_bps(), Some(54_000_000));
    }

    #[test]
    fn dsss_air_time() {
        // 81 bytes at 1 Mb/s, long preamble: 192 + 648.
        assert_eq!(legacy(2, Band::Ghz2_4).duration_us(81), Some(840));
        let short = |rate, len| {
            Phy {
                mode: Mode::Dsss {
                    rate_500kbps: rate,
                    short_preamble: true,
                },
                band: Band::Ghz2_4,
            }
            .duration_us(len)
        };
        // 1 Mb/s has no short preamble.
        assert_eq!(short(2, 81), Some(840));
        // 14-byte ACK at 2 Mb/s short: 96 + 56.
        assert_eq!(short(4, 14), Some(152));
        // 100 bytes at 5.5 Mb/s: 800 / 5.5 = 145.45 -> 146.
        assert_eq!(short(11, 100), Some(96 + 146));
        // 1500 bytes at 11 Mb/s: 12000 / 11 = 1090.9 -> 1091.
        assert_eq!(legacy(22, Band::Ghz2_4).duration_us(1500), Some(192 + 1091));
    }

    #[test]
    fn ofdm_air_time() {
        // zeek radiotap.pcap frame 3: 364 bytes at 6 Mb/s in 5 GHz:
        // ⌈(16 + 2912 + 6) / 24⌉ = 123 symbols: 20 + 492.
        assert_eq!(legacy(12, Band::Ghz5).duration_us(364), Some(512));
        // 14-byte ACK at 24 Mb/s: ⌈134 / 96⌉ = 2 symbols: 28 µs; 34 in 2.4 GHz.
        assert_eq!(legacy(48, Band::Ghz5).duration_us(14), Some(28));
        assert_eq!(legacy(48, Band::Ghz2_4).duration_us(14), Some(34));
        // 1500 bytes at 54 Mb/s: ⌈12022 / 216⌉ = 56 symbols: 244 µs.
        assert_eq!(legacy(108, Band::Ghz5).duration_us(1500), Some(244));
        // Half-clocked 10 MHz channel, 3 Mb/s: 40 µs preamble, 8 µs symbols
        // of 24 bits: ⌈134 / 24⌉ = 6 -> 88.
        let half = Phy {
            mode: Mode::Ofdm {
                rate_500kbps: 6,
                width_mhz: 10,
            },
            band: Band::Ghz5,
        };
        assert_eq!(half.duration_us(14), Some(88));
    }

    #[test]
    fn ht_air_time() {
        // zeek radiotap.pcap frame 1: 101 bytes, MCS 7, 40 MHz, long GI:
        // 36 µs preamble (1 HT-LTF), ⌈(808 + 16 + 6) / 540⌉ = 2 symbols.
        assert_eq!(ht(7, 40, false).duration_us(101), Some(44));
        // Frame 2: 194 bytes: ⌈1574 / 540⌉ = 3 symbols -> 48 (tshark, which
        // uses 2 × 260 bits per 40 MHz symbol, says 52).
        assert_eq!(ht(7, 40, false).duration_us(194), Some(48));
        // MCS 15 (2 streams, 2 HT-LTFs), 20 MHz, 1500 bytes, short GI:
        // ⌈12022 / 520⌉ = 24 symbols, 24 × 3.6 = 86.4 -> 88; preamble 40.
        assert_eq!(ht(15, 20, true).duration_us(1500), Some(128));
        assert_eq!(ht(15, 20, false).duration_us(1500), Some(40 + 96));
        // 2.4 GHz adds the signal extension.
        let mut p = ht(15, 20, false);
        p.band = Band::Ghz2_4;
        assert_eq!(p.duration_us(1500), Some(142));
        // STBC with 1 stream: 2 space-time streams (2 HT-LTFs), symbols in
        // pairs: MCS 7, 40 MHz, 138 bytes: ⌈1126 / 1080⌉ × 2 = 4 symbols.
        if let Mode::Ht(h) = &mut p.mode {
            *h = HtParams {
                mcs: 7,
                bandwidth_mhz: 40,
                short_gi: true,
                greenfield: false,
                stbc_streams: 1,
                extension_streams: 0,
                ldpc: false,
            };
        }
        p.band = Band::Ghz5;
        assert_eq!(p.duration_us(138), Some(40 + 16));
        // Greenfield, 1 stream: 24 µs preamble.
        if let Mode::Ht(h) = &mut p.mode {
            h.greenfield = true;
            h.stbc_streams = 0;
            h.short_gi = false;
        }
        assert_eq!(p.duration_us(138), Some(24 + 12));
        // Two BCC encoders above 300 Mb/s: MCS 23, 40 MHz (N_DBPS 1620):
        // 12 tail bits. 1617 bytes: 12936 + 16 + 12 = 12964 bits > 8 ×
        // 1620: 9 symbols (one encoder's 6 tail bits would fit in 8);
        // 3 streams: 4 HT-LTFs, 48 µs preamble.
        assert_eq!(ht(23, 40, false).duration_us(1617), Some(48 + 36));
        assert_eq!(ht(23, 40, false).duration_us(1616), Some(48 + 32));
        // 4 streams + 3 extension streams is 8 LTFs; 5 space-time streams
        // is invalid.
        if let Mode::Ht(h) = &mut p.mode {
            h.greenfield = false;
            h.mcs = 31;
            h.stbc_streams = 1;
        }
        assert_eq!(p.duration_us(100), None);
    }

    #[test]
    fn vht_air_time() {
        // MCS 9, 80 MHz, 1 stream, short GI, 1504 bytes (1500 + delimiter):
        // 40 µs preamble; ⌈(12032 + 16 + 6) / 1560⌉ = 8 symbols = 28.8 -> 32.
        assert_eq!(vht(9, 1, 80, true).duration_us(1504), Some(72));
        // 2 streams: 2 VHT-LTFs, 2 BCC encoders above 2160 bits.
        assert_eq!(vht(9, 2, 80, false).duration_us(1504), Some(44 + 16));
        assert_eq!(vht(9, 1, 20, false).duration_us(100), None);
    }

    #[test]
    fn he_air_time() {
        // HE SU, MCS 11, 2 streams, 80 MHz, 0.8 µs GI, LDPC, 1504 bytes:
        // preamble 36 µs + 2 × (6.4 + 0.8) = 50.4 µs; N_DBPS 16333.3:
        // ⌈12048 / 16333.3⌉ = 1 symbol of 13.6 µs: 64 µs.
        assert_eq!(he(11, 2, 2, HeGi::Us0_8).duration_us(1504), Some(64));
        // MCS 0, 1 stream, 20 MHz, 3.2 µs GI (4x LTF): 36 + 16 = 52 µs
        // preamble; N_DBPS 117: ⌈(800 + 16) / 117⌉ = 7 symbols of 16 µs.
        assert_eq!(he(0, 1, 0, HeGi::Us3_2).duration_us(100), Some(52 + 112));
        let mut p = he(0, 1, 0, HeGi::Us3_2);
        if let Mode::He(h) = &mut p.mode {
            h.format = HeFormat::Mu;
        }
        assert_eq!(p.duration_us(100), None);
    }

    #[test]
    fn huge_lengths_do_not_overflow() {
        assert_eq!(legacy(2, Band::Ghz2_4).duration_us(usize::MAX), None);
        assert!(legacy(2, Band::Ghz2_4).duration_us(MAX_PSDU).is_some());
        assert!(he(0, 1, 4, HeGi::Us3_2).duration_us(MAX_PSDU).is_some());
        let zero = Phy {
            mode: Mode::Ofdm {
                rate_500kbps: 0,
                width_mhz: 20,
            },
            band: Band::Ghz5,
        };
        assert_eq!((zero.speed_bps(), zero.duration_us(10)), (None, None));
    }

    #[test]
    fn channels() {
        assert_eq!(channel_number(2412), 1);
        assert_eq!(channel_number(2472), 13);
        assert_eq!(channel_number(2484), 14);
        assert_eq!(channel_number(2407), 0);
        assert_eq!(channel_number(2413), 0);
        assert_eq!(channel_number(2477), 0);
        assert_eq!(channel_number(5180), 36);
        assert_eq!(channel_number(5540), 108);
        assert_eq!(channel_number(5745), 149);
        assert_eq!(channel_number(5885), 177);
        assert_eq!(channel_number(5000), 0);
        assert_eq!(channel_number(4920), 184);
        assert_eq!(channel_number(4980), 196);
        assert_eq!(channel_number(5040), 8);
        assert_eq!(channel_number(5935), 2);
        assert_eq!(channel_number(5955), 1);
        assert_eq!(channel_number(6115), 33);
        assert_eq!(channel_number(7115), 233);
        assert_eq!(channel_number(7120), 0);
        assert_eq!(channel_number(58320), 1);
        assert_eq!(channel_number(69120), 6);
        assert_eq!(channel_number(60000), 0);
        assert_eq!(channel_number(0), 0);
        assert_eq!(Band::from_mhz(5935), Band::Ghz6);
        assert_eq!(Band::from_mhz(5925), Band::Ghz5);
        assert_eq!(Band::from_mhz(2484), Band::Ghz2_4);
        assert_eq!(Band::from_mhz(4940), Band::Ghz4_9);
        assert_eq!(Band::from_mhz(900), Band::Unknown);
    }

    #[test]
    fn rcpi_and_rsni_clamp() {
        assert_eq!(rcpi(Some(-74)), 72);
        assert_eq!(rcpi(Some(-110)), 0);
        assert_eq!(rcpi(Some(-128)), 0);
        assert_eq!(rcpi(Some(-109)), 2);
        assert_eq!(rcpi(Some(-1)), 218);
        assert_eq!(rcpi(Some(0)), 220);
        assert_eq!(rcpi(Some(127)), 220);
        assert_eq!(rcpi(None), 255);
        assert_eq!(rsni(Some(-74), Some(-93)), 58);
        assert_eq!(rsni(Some(-93), Some(-74)), 0, "below -10 dB");
        assert_eq!(rsni(Some(-84), Some(-74)), 0);
        assert_eq!(rsni(Some(-83), Some(-74)), 2);
        assert_eq!(rsni(Some(127), Some(-128)), 254);
        assert_eq!(rsni(Some(20), Some(-97)), 254);
        assert_eq!(rsni(Some(20), Some(-96)), 252);
        assert_eq!(rsni(Some(-40), None), 255);
        assert_eq!(rsni(None, Some(-90)), 255);
    }

    #[test]
    fn phy_type_and_version() {
        let mut rt = Radiotap {
            rate_500kbps: Some(2),
            ..Radiotap::default()
        };
        assert_eq!(PhyType::from_radiotap(&rt), Some(PhyType::Dsss));
        rt.rate_500kbps = Some(12);
        assert_eq!(PhyType::from_radiotap(&rt), None, "OFDM, band unknown");
        rt.channel = Some(radiotap::Channel {
            freq_mhz: 2437,
            flags: 0x00c0,
        });
        assert_eq!(PhyType::from_radiotap(&rt), Some(PhyType::Erp));
        rt.channel = Some(radiotap::Channel {
            freq_mhz: 5745,
            flags: 0x0140,
        });
        assert_eq!(PhyType::from_radiotap(&rt), Some(PhyType::Ofdm));
        rt.rate_500kbps = None;
        assert_eq!(
            PhyType::from_radiotap(&rt),
            Some(PhyType::Ofdm),
            "from the channel flags"
        );
        rt.mcs = Some(radiotap::Mcs::default());
        assert_eq!(PhyType::from_radiotap(&rt), Some(PhyType::Ht));
        assert_eq!(Phy::from_radiotap(&rt), None, "MCS index unknown");
        rt.vht = Some(radiotap::Vht::default());
        assert_eq!(PhyType::from_radiotap(&rt), Some(PhyType::Vht));
        rt.he = Some(radiotap::He::default());
        assert_eq!(PhyType::from_radiotap(&rt), Some(PhyType::He));
        assert_eq!(PhyType::Ofdm.sflow_version(), Ieee80211Version::A);
        assert_eq!(PhyType::Dsss.sflow_version(), Ieee80211Version::B);
        assert_eq!(PhyType::Erp.sflow_version(), Ieee80211Version::G);
        assert_eq!(PhyType::Ht.sflow_version(), Ieee80211Version::N);
        assert_eq!(PhyType::Vht.sflow_version(), Ieee80211Version::UNKNOWN);
        assert_eq!(PhyType::He.sflow_version(), Ieee80211Version::UNKNOWN);
    }

    #[test]
    fn from_radiotap_modes() {
        // FreeBSD-style HT rate.
        let rt = Radiotap {
            rate_500kbps: Some(0x87),
            flags: Some(radiotap::flags::SHORT_GI),
            ..Radiotap::default()
        };
        let p = Phy::from_radiotap(&rt).unwrap();
        assert_eq!(p.speed_bps(), Some(72_222_222));
        // HT from the MCS field; the 20U sideband is a 20 MHz PPDU.
        let rt = Radiotap {
            mcs: Some(radiotap::Mcs {
                known: 0x07,
                flags: 0x03,
                index: 7,
            }),
            channel: Some(radiotap::Channel {
                freq_mhz: 2462,
                flags: 0,
            }),
            ..Radiotap::default()
        };
        let p = Phy::from_radiotap(&rt).unwrap();
        assert_eq!((p.speed_bps(), p.band), (Some(65_000_000), Band::Ghz2_4));
        // VHT user 0.
        let rt = Radiotap {
            vht: Some(radiotap::Vht {
                known: radiotap::Vht::KNOWN_GI | radiotap::Vht::KNOWN_BANDWIDTH,
                flags: radiotap::Vht::FLAG_SHORT_GI,
                bandwidth: 4,
                mcs_nss: [0x91, 0, 0, 0],
                ..radiotap::Vht::default()
            }),
            ..Radiotap::default()
        };
        assert_eq!(
            Phy::from_radiotap(&rt).unwrap().speed_bps(),
            Some(433_333_333)
        );
        // HE needs NSTS.
        let mut he_field = radiotap::He {
            data: [0xc3fc, 0x00fe, 0x69e5, 0x000f, 0x2180, 0x7f02],
        };
        let rt = Radiotap {
            he: Some(he_field),
            ..Radiotap::default()
        };
        let p = Phy::from_radiotap(&rt).unwrap();
        assert_eq!(p.speed_bps(), Some(229_411_764));
        he_field.data[5] = 0x7f00;
        let rt = Radiotap {
            he: Some(he_field),
            ..Radiotap::default()
        };
        assert_eq!(Phy::from_radiotap(&rt), None);
        // Quarter-rate OFDM.
        let rt = Radiotap {
            rate_500kbps: Some(3),
            channel: Some(radiotap::Channel {
                freq_mhz: 4945,
                flags: channel_flags::QUARTER_RATE | channel_flags::OFDM,
            }),
            ..Radiotap::default()
        };
        let p = Phy::from_radiotap(&rt).unwrap();
        assert_eq!(
            p.mode,
            Mode::Ofdm {
                rate_500kbps: 3,
                width_mhz: 5
            }
        );
        assert_eq!(p.phy_type(), Some(PhyType::Ofdm));
        assert_eq!(Phy::from_radiotap(&Radiotap::default()), None);
    }
}
