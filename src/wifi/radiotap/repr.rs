//! The validated representation of the radiotap fields wsflowd reads
//! ([`Radiotap`]) and the value of each field, parsed from the walk of
//! [`super::Fields`].

use super::*;

/// Channel field: centre frequency and flags ([`channel_flags`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Channel {
    pub freq_mhz: u16,
    pub flags: u16,
}

/// XChannel field (bit 18).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XChannel {
    pub flags: u32,
    pub freq_mhz: u16,
    pub channel: u8,
    pub max_power: u8,
}

/// FHSS field (bit 4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fhss {
    pub hop_set: u8,
    pub hop_pattern: u8,
}

/// HT MCS field (bit 19).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mcs {
    pub known: u8,
    pub flags: u8,
    pub index: u8,
}

impl Mcs {
    pub const KNOWN_BANDWIDTH: u8 = 0x01;
    pub const KNOWN_INDEX: u8 = 0x02;
    pub const KNOWN_GI: u8 = 0x04;
    pub const KNOWN_FORMAT: u8 = 0x08;
    pub const KNOWN_FEC: u8 = 0x10;
    pub const KNOWN_STBC: u8 = 0x20;
    pub const KNOWN_NESS: u8 = 0x40;
    /// In `known`: bit 1 of the number of extension spatial streams.
    pub const NESS_BIT1: u8 = 0x80;

    pub const FLAG_BANDWIDTH: u8 = 0x03;
    pub const FLAG_SHORT_GI: u8 = 0x04;
    pub const FLAG_GREENFIELD: u8 = 0x08;
    pub const FLAG_LDPC: u8 = 0x10;
    pub const FLAG_STBC: u8 = 0x60;
    /// In `flags`: bit 0 of the number of extension spatial streams.
    pub const FLAG_NESS_BIT0: u8 = 0x80;

    fn known(&self, bit: u8) -> bool {
        self.known & bit != 0
    }

    pub fn index(&self) -> Option<u8> {
        self.known(Self::KNOWN_INDEX).then_some(self.index)
    }

    /// 0 = 20 MHz, 1 = 40 MHz, 2 = 20 MHz lower, 3 = 20 MHz upper (of a
    /// 40 MHz channel).
    pub fn bandwidth_code(&self) -> Option<u8> {
        self.known(Self::KNOWN_BANDWIDTH)
            .then_some(self.flags & Self::FLAG_BANDWIDTH)
    }

    /// Width of the PPDU in MHz: 40 for code 1, else 20.
    pub fn bandwidth_mhz(&self) -> Option<u16> {
        self.bandwidth_code().map(|c| if c == 1 { 40 } else { 20 })
    }

    pub fn short_gi(&self) -> Option<bool> {
        self.known(Self::KNOWN_GI)
            .then_some(self.flags & Self::FLAG_SHORT_GI != 0)
    }

    pub fn greenfield(&self) -> Option<bool> {
        self.known(Self::KNOWN_FORMAT)
            .then_some(self.flags & Self::FLAG_GREENFIELD != 0)
    }

    pub fn ldpc(&self) -> Option<bool> {
        self.known(Self::KNOWN_FEC)
            .then_some(self.flags & Self::FLAG_LDPC != 0)
    }

    /// Number of STBC streams (0..3).
    pub fn stbc_streams(&self) -> Option<u8> {
        self.known(Self::KNOWN_STBC)
            .then_some((self.flags & Self::FLAG_STBC) >> 5)
    }

    /// Number of extension spatial streams (0..3).
    pub fn extension_streams(&self) -> Option<u8> {
        self.known(Self::KNOWN_NESS).then_some(
            u8::from(self.flags & Self::FLAG_NESS_BIT0 != 0)
                | (u8::from(self.known & Self::NESS_BIT1 != 0) << 1),
        )
    }
}

/// A-MPDU status field (bit 20): the frame was received in an A-MPDU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ampdu {
    /// Same for every subframe of one A-MPDU.
    pub reference: u32,
    pub flags: u16,
    pub delimiter_crc: u8,
    pub reserved: u8,
}

impl Ampdu {
    pub const REPORT_ZERO_LENGTH: u16 = 0x0001;
    pub const IS_ZERO_LENGTH: u16 = 0x0002;
    pub const LAST_KNOWN: u16 = 0x0004;
    pub const IS_LAST: u16 = 0x0008;
    pub const DELIMITER_CRC_ERROR: u16 = 0x0010;
    pub const DELIMITER_CRC_KNOWN: u16 = 0x0020;
    pub const EOF: u16 = 0x0040;
    pub const EOF_KNOWN: u16 = 0x0080;

    /// Whether this is the last subframe, when the driver knows.
    pub fn is_last(&self) -> Option<bool> {
        (self.flags & Self::LAST_KNOWN != 0).then_some(self.flags & Self::IS_LAST != 0)
    }
}

/// VHT field (bit 21).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Vht {
    pub known: u16,
    pub flags: u8,
    /// Bandwidth code (0 = 20, 1 = 40, 4 = 80, 11 = 160 MHz, others a
    /// sideband of a wider channel).
    pub bandwidth: u8,
    /// Per user: MCS in the high nibble, number of spatial streams in the
    /// low one (0 = no such user).
    pub mcs_nss: [u8; 4],
    /// Bit n set: user n uses LDPC.
    pub coding: u8,
    pub group_id: u8,
    pub partial_aid: u16,
}

impl Vht {
    pub const KNOWN_STBC: u16 = 0x0001;
    pub const KNOWN_TXOP_PS: u16 = 0x0002;
    pub const KNOWN_GI: u16 = 0x0004;
    pub const KNOWN_SGI_NSYM: u16 = 0x0008;
    pub const KNOWN_LDPC_EXTRA: u16 = 0x0010;
    pub const KNOWN_BEAMFORMED: u16 = 0x0020;
    pub const KNOWN_BANDWIDTH: u16 = 0x0040;
    pub const KNOWN_GROUP_ID: u16 = 0x0080;
    pub const KNOWN_PARTIAL_AID: u16 = 0x0100;

    pub const FLAG_STBC: u8 = 0x01;
    pub const FLAG_TXOP_PS_NOT_ALLOWED: u8 = 0x02;
    pub const FLAG_SHORT_GI: u8 = 0x04;
    pub const FLAG_SGI_NSYM_DISAMBIGUATION: u8 = 0x08;
    pub const FLAG_LDPC_EXTRA_SYMBOL: u8 = 0x10;
    pub const FLAG_BEAMFORMED: u8 = 0x20;

    /// MCS and number of spatial streams of user `n` (0..3), if present.
    pub fn user(&self, n: usize) -> Option<(u8, u8)> {
        let v = *self.mcs_nss.get(n)?;
        let nss = v & 0x0f;
        (nss != 0).then_some((v >> 4, nss))
    }

    pub fn short_gi(&self) -> Option<bool> {
        (self.known & Self::KNOWN_GI != 0).then_some(self.flags & Self::FLAG_SHORT_GI != 0)
    }

    pub fn stbc(&self) -> Option<bool> {
        (self.known & Self::KNOWN_STBC != 0).then_some(self.flags & Self::FLAG_STBC != 0)
    }

    pub fn ldpc(&self, user: usize) -> bool {
        user < 4 && self.coding & (1 << user) != 0
    }

    /// Width of the PPDU in MHz. Codes 2..=10 and 12..=25 name a part of
    /// a wider channel (e.g. 2 = "20 MHz lower of 40"): the width is that
    /// part's.
    pub fn bandwidth_mhz(&self) -> Option<u16> {
        if self.known & Self::KNOWN_BANDWIDTH == 0 {
            return None;
        }
        match self.bandwidth & 0x1f {
            0 | 2 | 3 | 7..=10 | 18..=25 => Some(20),
            1 | 5 | 6 | 14..=17 => Some(40),
            4 | 12 | 13 => Some(80),
            11 => Some(160),
            _ => None,
        }
    }
}

/// Timestamp field (bit 22).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timestamp {
    pub timestamp: u64,
    pub accuracy: u16,
    pub unit_position: u8,
    pub flags: u8,
}

/// HE guard interval plus LTF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeGi {
    Us0_8,
    Us1_6,
    Us3_2,
}

/// HE field (bit 23): the six 16-bit data words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct He {
    pub data: [u16; 6],
}

impl He {
    // data1
    pub const FORMAT_MASK: u16 = 0x0003;
    pub const FORMAT_SU: u16 = 0;
    pub const FORMAT_EXT_SU: u16 = 1;
    pub const FORMAT_MU: u16 = 2;
    pub const FORMAT_TRIG: u16 = 3;
    pub const D1_MCS_KNOWN: u16 = 0x0020;
    pub const D1_DCM_KNOWN: u16 = 0x0040;
    pub const D1_CODING_KNOWN: u16 = 0x0080;
    pub const D1_STBC_KNOWN: u16 = 0x0200;
    pub const D1_BW_RU_KNOWN: u16 = 0x4000;
    // data2
    pub const D2_GI_KNOWN: u16 = 0x0002;
    pub const D2_NUM_LTF_KNOWN: u16 = 0x0004;
    // data3
    pub const D3_MCS: u16 = 0x0f00;
    pub const D3_DCM: u16 = 0x1000;
    pub const D3_LDPC: u16 = 0x2000;
    pub const D3_STBC: u16 = 0x8000;
    // data5
    pub const D5_BW_RU: u16 = 0x000f;
    pub const D5_GI: u16 = 0x0030;
    pub const D5_LTF_SIZE: u16 = 0x00c0;
    pub const D5_NUM_LTF: u16 = 0x0700;
    // data6
    pub const D6_NSTS: u16 = 0x000f;

    fn d(&self, n: usize) -> u16 {
        self.data.get(n.wrapping_sub(1)).copied().unwrap_or(0)
    }

    /// PPDU format ([`He::FORMAT_SU`] ...).
    pub fn format(&self) -> u16 {
        self.d(1) & Self::FORMAT_MASK
    }

    pub fn mcs(&self) -> Option<u8> {
        (self.d(1) & Self::D1_MCS_KNOWN != 0).then_some(((self.d(3) & Self::D3_MCS) >> 8) as u8)
    }

    pub fn dcm(&self) -> bool {
        self.d(1) & Self::D1_DCM_KNOWN != 0 && self.d(3) & Self::D3_DCM != 0
    }

    pub fn ldpc(&self) -> Option<bool> {
        (self.d(1) & Self::D1_CODING_KNOWN != 0).then_some(self.d(3) & Self::D3_LDPC != 0)
    }

    pub fn stbc(&self) -> bool {
        self.d(1) & Self::D1_STBC_KNOWN != 0 && self.d(3) & Self::D3_STBC != 0
    }

    /// Bandwidth/RU allocation code: 0..3 = 20/40/80/160 MHz, 4..10 =
    /// 26/52/106/242/484/996/2x996-tone RU.
    pub fn bw_ru(&self) -> Option<u8> {
        (self.d(1) & Self::D1_BW_RU_KNOWN != 0).then_some((self.d(5) & Self::D5_BW_RU) as u8)
    }

    pub fn gi(&self) -> Option<HeGi> {
        if self.d(2) & Self::D2_GI_KNOWN == 0 {
            return None;
        }
        match (self.d(5) & Self::D5_GI) >> 4 {
            0 => Some(HeGi::Us0_8),
            1 => Some(HeGi::Us1_6),
            2 => Some(HeGi::Us3_2),
            _ => None,
        }
    }

    /// LTF symbol size: 1, 2 or 4 (times the 3.2 µs base), if known.
    pub fn ltf_size(&self) -> Option<u8> {
        match (self.d(5) & Self::D5_LTF_SIZE) >> 6 {
            1 => Some(1),
            2 => Some(2),
            3 => Some(4),
            _ => None,
        }
    }

    /// Number of HE-LTF symbols, if known.
    pub fn ltf_symbols(&self) -> Option<u8> {
        if self.d(2) & Self::D2_NUM_LTF_KNOWN == 0 {
            return None;
        }
        match (self.d(5) & Self::D5_NUM_LTF) >> 8 {
            0 => Some(1),
            1 => Some(2),
            2 => Some(4),
            3 => Some(6),
            4 => Some(8),
            _ => None,
        }
    }

    /// Number of space-time streams (0 = unknown).
    pub fn nsts(&self) -> u8 {
        (self.d(6) & Self::D6_NSTS) as u8
    }
}

/// HE-MU field (bit 24).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeMu {
    pub flags1: u16,
    pub flags2: u16,
    pub ru_channel1: [u8; 4],
    pub ru_channel2: [u8; 4],
}

/// L-SIG field (bit 27).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LSig {
    pub data1: u16,
    pub data2: u16,
}

/// Signal, noise and antenna of one occurrence of the radiotap namespace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AntennaSignal {
    pub antenna: Option<u8>,
    pub signal_dbm: Option<i8>,
    pub noise_dbm: Option<i8>,
}

/// The vendor namespace header of a radiotap header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VendorNamespace {
    pub oui: [u8; 3],
    pub subns: u8,
    pub skip_length: u16,
}

/// How many occurrences of the radiotap namespace keep their own
/// [`AntennaSignal`] (the first is the combined value, the others are
/// usually one per receive chain).
pub const MAX_ANTENNAS: usize = 8;

/// The fields of a radiotap header we know, validated.
///
/// When a field is present in several occurrences of the radiotap
/// namespace (bit 29, per-antenna values), the value of the FIRST
/// occurrence is kept: it describes the frame as a whole (mac80211 puts
/// the combined signal there); a field the first occurrence lacks is taken
/// from the first one that has it. The per-occurrence signal, noise and
/// antenna are kept in [`antennas`](Radiotap::antennas).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Radiotap {
    /// `it_len`: bytes from the start of the radiotap header to the frame.
    pub header_len: u16,
    pub tsft: Option<u64>,
    /// [`flags`] bits.
    pub flags: Option<u8>,
    /// Legacy rate in 500 kbit/s units.
    pub rate_500kbps: Option<u8>,
    pub channel: Option<Channel>,
    pub fhss: Option<Fhss>,
    pub signal_dbm: Option<i8>,
    pub noise_dbm: Option<i8>,
    pub lock_quality: Option<u16>,
    pub tx_attenuation: Option<u16>,
    pub db_tx_attenuation: Option<u16>,
    pub tx_power_dbm: Option<i8>,
    pub antenna: Option<u8>,
    pub signal_db: Option<u8>,
    pub noise_db: Option<u8>,
    pub rx_flags: Option<u16>,
    pub tx_flags: Option<u16>,
    pub rts_retries: Option<u8>,
    pub data_retries: Option<u8>,
    pub xchannel: Option<XChannel>,
    pub mcs: Option<Mcs>,
    pub ampdu: Option<Ampdu>,
    pub vht: Option<Vht>,
    pub timestamp: Option<Timestamp>,
    pub he: Option<He>,
    pub he_mu: Option<HeMu>,
    pub zero_length_psdu: Option<u8>,
    pub lsig: Option<LSig>,
    /// The first vendor namespace, if any.
    pub vendor: Option<VendorNamespace>,
    /// How many vendor namespaces were skipped.
    pub vendor_namespaces: u8,
    /// Set when the walk ended before the last present word: the fields
    /// after that point are missing from this value.
    pub stopped: Option<Stop>,
    /// Per occurrence of the radiotap namespace: signal, noise, antenna
    /// (the first `chain_count` entries; see [`antennas`](Self::antennas)).
    pub chains: [AntennaSignal; MAX_ANTENNAS],
    pub chain_count: u8,
}

impl Radiotap {
    /// Parses the radiotap header at the start of `data` (a frame from a
    /// monitor interface).
    pub fn parse(data: &[u8]) -> Result<Radiotap> {
        let mut rt = Radiotap::default();
        let mut fields = Fields::new(data)?;
        rt.header_len = fields.header.len() as u16;
        for field in fields.by_ref() {
            rt.apply(field?);
        }
        rt.stopped = fields.stopped();
        Ok(rt)
    }

    /// Parses the header a [`RadiotapPacket`] views.
    pub fn parse_packet<T: AsRef<[u8]>>(packet: &RadiotapPacket<T>) -> Result<Radiotap> {
        Radiotap::parse(packet.buffer.as_ref())
    }

    fn apply(&mut self, f: Field<'_>) {
        let occurrence = match f.namespace {
            Namespace::Radiotap { occurrence } => occurrence,
            Namespace::Vendor { oui, subns } => {
                if self.vendor.is_none() {
                    self.vendor = Some(VendorNamespace {
                        oui,
                        subns,
                        skip_length: f.data.len() as u16,
                    });
                }
                self.vendor_namespaces = self.vendor_namespaces.saturating_add(1);
                return;
            }
        };
        let d = f.data;
        let slot = usize::from(occurrence);
        if slot < MAX_ANTENNAS
            && matches!(f.bit, bit::DBM_ANTSIGNAL | bit::DBM_ANTNOISE | bit::ANTENNA)
        {
            let a = &mut self.chains[slot];
            match f.bit {
                bit::DBM_ANTSIGNAL => a.signal_dbm = Some(u8_at(d, 0) as i8),
                bit::DBM_ANTNOISE => a.noise_dbm = Some(u8_at(d, 0) as i8),
                _ => a.antenna = Some(u8_at(d, 0)),
            }
            self.chain_count = self.chain_count.max(occurrence + 1);
        }
        // First occurrence wins.
        fn set<T>(slot: &mut Option<T>, value: impl FnOnce() -> T) {
            if slot.is_none() {
                *slot = Some(value());
            }
        }
        match f.bit {
            bit::TSFT => set(&mut self.tsft, || u64_at(d, 0)),
            bit::FLAGS => set(&mut self.flags, || u8_at(d, 0)),
            bit::RATE => set(&mut self.rate_500kbps, || u8_at(d, 0)),
            bit::CHANNEL => set(&mut self.channel, || Channel {
                freq_mhz: u16_at(d, 0),
                flags: u16_at(d, 2),
            }),
            bit::FHSS => set(&mut self.fhss, || Fhss {
                hop_set: u8_at(d, 0),
                hop_pattern: u8_at(d, 1),
            }),
            bit::DBM_ANTSIGNAL => set(&mut self.signal_dbm, || u8_at(d, 0) as i8),
            bit::DBM_ANTNOISE => set(&mut self.noise_dbm, || u8_at(d, 0) as i8),
            bit::LOCK_QUALITY => set(&mut self.lock_quality, || u16_at(d, 0)),
            bit::TX_ATTENUATION => set(&mut self.tx_attenuation, || u16_at(d, 0)),
            bit::DB_TX_ATTENUATION => set(&mut self.db_tx_attenuation, || u16_at(d, 0)),
            bit::DBM_TX_POWER => set(&mut self.tx_power_dbm, || u8_at(d, 0) as i8),
            bit::ANTENNA => set(&mut self.antenna, || u8_at(d, 0)),
            bit::DB_ANTSIGNAL => set(&mut self.signal_db, || u8_at(d, 0)),
            bit::DB_ANTNOISE => set(&mut self.noise_db, || u8_at(d, 0)),
            bit::RX_FLAGS => set(&mut self.rx_flags, || u16_at(d, 0)),
            bit::TX_FLAGS => set(&mut self.tx_flags, || u16_at(d, 0)),
            bit::RTS_RETRIES => set(&mut self.rts_retries, || u8_at(d, 0)),
            bit::DATA_RETRIES => set(&mut self.data_retries, || u8_at(d, 0)),
            bit::XCHANNEL => set(&mut self.xchannel, || XChannel {
                flags: u32_at(d, 0),
                freq_mhz: u16_at(d, 4),
                channel: u8_at(d, 6),
                max_power: u8_at(d, 7),
            }),
            bit::MCS => set(&mut self.mcs, || Mcs {
                known: u8_at(d, 0),
                flags: u8_at(d, 1),
                index: u8_at(d, 2),
            }),
            bit::AMPDU_STATUS => set(&mut self.ampdu, || Ampdu {
                reference: u32_at(d, 0),
                flags: u16_at(d, 4),
                delimiter_crc: u8_at(d, 6),
                reserved: u8_at(d, 7),
            }),
            bit::VHT => set(&mut self.vht, || Vht {
                known: u16_at(d, 0),
                flags: u8_at(d, 2),
                bandwidth: u8_at(d, 3),
                mcs_nss: [u8_at(d, 4), u8_at(d, 5), u8_at(d, 6), u8_at(d, 7)],
                coding: u8_at(d, 8),
                group_id: u8_at(d, 9),
                partial_aid: u16_at(d, 10),
            }),
            bit::TIMESTAMP => set(&mut self.timestamp, || Timestamp {
                timestamp: u64_at(d, 0),
                accuracy: u16_at(d, 8),
                unit_position: u8_at(d, 10),
                flags: u8_at(d, 11),
            }),
            bit::HE => set(&mut self.he, || He {
                data: [
                    u16_at(d, 0),
                    u16_at(d, 2),
                    u16_at(d, 4),
                    u16_at(d, 6),
                    u16_at(d, 8),
                    u16_at(d, 10),
                ],
            }),
            bit::HE_MU => set(&mut self.he_mu, || HeMu {
                flags1: u16_at(d, 0),
                flags2: u16_at(d, 2),
                ru_channel1: [u8_at(d, 4), u8_at(d, 5), u8_at(d, 6), u8_at(d, 7)],
                ru_channel2: [u8_at(d, 8), u8_at(d, 9), u8_at(d, 10), u8_at(d, 11)],
            }),
            bit::ZERO_LEN_PSDU => set(&mut self.zero_length_psdu, || u8_at(d, 0)),
            bit::L_SIG => set(&mut self.lsig, || LSig {
                data1: u16_at(d, 0),
                data2: u16_at(d, 2),
            }),
            _ => {}
        }
    }

    /// Length of the radiotap header: where the 802.11 frame starts.
    pub fn header_len(&self) -> usize {
        usize::from(self.header_len)
    }

    fn flag(&self, bit: u8) -> bool {
        self.flags.is_some_and(|f| f & bit != 0)
    }

    /// The 802.11 frame ends with its FCS (4 bytes).
    pub fn fcs_at_end(&self) -> bool {
        self.flag(flags::FCS_AT_END)
    }

    /// The frame failed its FCS check.
    pub fn bad_fcs(&self) -> bool {
        self.flag(flags::BAD_FCS)
    }

    /// DSSS/CCK short preamble.
    pub fn short_preamble(&self) -> bool {
        self.flag(flags::SHORT_PREAMBLE)
    }

    /// The 802.11 header is padded to a multiple of 4 bytes.
    pub fn data_pad(&self) -> bool {
        self.flag(flags::DATA_PAD)
    }

    /// Centre frequency from the Channel field, else from XChannel.
    pub fn frequency_mhz(&self) -> Option<u16> {
        self.channel
            .map(|c| c.freq_mhz)
            .or(self.xchannel.map(|x| x.freq_mhz))
            .filter(|&f| f != 0)
    }

    /// Channel flags ([`channel_flags`]) from Channel, else XChannel.
    pub fn channel_flags(&self) -> Option<u16> {
        self.channel
            .map(|c| c.flags)
            .or(self.xchannel.map(|x| x.flags as u16))
    }

    /// Signal, noise and antenna of each occurrence of the radiotap
    /// namespace that carries one of them, in order (at most
    /// [`MAX_ANTENNAS`]); index 0 is the first occurrence.
    pub fn antennas(&self) -> &[AntennaSignal] {
        &self.chains[..usize::from(self.chain_count).min(MAX_ANTENNAS)]
    }
}
