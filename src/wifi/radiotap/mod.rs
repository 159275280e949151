//! Radiotap (<https://www.radiotap.org>, Linux
//! `include/net/ieee80211_radiotap.h` and `net/wireless/radiotap.c`): the
//! header a monitor interface puts before each 802.11 frame.
//!
//! Layout: `it_version` (u8, always 0), `it_pad` (u8), `it_len` (LE16, the
//! whole radiotap header), then one or more LE32 present words chained by
//! bit 31, then the fields whose bits are set, in bit order, each aligned to
//! its natural alignment counted from the start of the radiotap header.
//!
//! In every present word bit 29 says "the next word starts the radiotap
//! namespace again" (used to repeat fields per antenna), bit 30 says "the
//! next word is in a vendor namespace" and brings a 6-byte vendor header
//! (OUI, sub-namespace, skip length; aligned to 2) after the fields of its
//! word, followed by `skip_length` bytes of vendor data that we skip whole.
//! A word chained by bit 31 alone continues the current namespace (bits
//! 32..63 and so on, none of which radiotap defines yet).
//!
//! [`RadiotapPacket`] is the zero-copy view (checked header, present words,
//! a [`Fields`] iterator); [`Radiotap`] the validated representation of the
//! fields we know (everything up to L-SIG, bit 27). A present bit whose size
//! we do not know ends the walk: the fields before it are kept and
//! [`Radiotap::stopped`] says why the rest was not read. Nothing here
//! allocates or panics, whatever the bytes.

use super::error::{Error, ErrorKind, Result};

/// Bit numbers of the present words (radiotap namespace).
pub mod bit {
    pub const TSFT: u16 = 0;
    pub const FLAGS: u16 = 1;
    pub const RATE: u16 = 2;
    pub const CHANNEL: u16 = 3;
    pub const FHSS: u16 = 4;
    pub const DBM_ANTSIGNAL: u16 = 5;
    pub const DBM_ANTNOISE: u16 = 6;
    pub const LOCK_QUALITY: u16 = 7;
    pub const TX_ATTENUATION: u16 = 8;
    pub const DB_TX_ATTENUATION: u16 = 9;
    pub const DBM_TX_POWER: u16 = 10;
    pub const ANTENNA: u16 = 11;
    pub const DB_ANTSIGNAL: u16 = 12;
    pub const DB_ANTNOISE: u16 = 13;
    pub const RX_FLAGS: u16 = 14;
    pub const TX_FLAGS: u16 = 15;
    pub const RTS_RETRIES: u16 = 16;
    pub const DATA_RETRIES: u16 = 17;
    pub const XCHANNEL: u16 = 18;
    pub const MCS: u16 = 19;
    pub const AMPDU_STATUS: u16 = 20;
    pub const VHT: u16 = 21;
    pub const TIMESTAMP: u16 = 22;
    pub const HE: u16 = 23;
    pub const HE_MU: u16 = 24;
    pub const HE_MU_OTHER_USER: u16 = 25;
    pub const ZERO_LEN_PSDU: u16 = 26;
    pub const L_SIG: u16 = 27;
    /// TLVs follow the fixed fields (not parsed: the walk stops there).
    pub const TLV: u16 = 28;
    pub const RADIOTAP_NAMESPACE: u16 = 29;
    pub const VENDOR_NAMESPACE: u16 = 30;
    pub const EXT: u16 = 31;
}

/// Bits of the Flags field.
pub mod flags {
    pub const CFP: u8 = 0x01;
    pub const SHORT_PREAMBLE: u8 = 0x02;
    pub const WEP: u8 = 0x04;
    pub const FRAGMENTATION: u8 = 0x08;
    /// The frame ends with its 4-byte FCS.
    pub const FCS_AT_END: u8 = 0x10;
    /// Padding between the 802.11 header and its payload, to 32 bits.
    pub const DATA_PAD: u8 = 0x20;
    /// The frame failed its FCS check.
    pub const BAD_FCS: u8 = 0x40;
    /// HT short guard interval (old drivers; the MCS field supersedes it).
    pub const SHORT_GI: u8 = 0x80;
}

/// Bits of the Channel field's flags (and of the low 16 bits of XChannel).
pub mod channel_flags {
    pub const TURBO: u16 = 0x0010;
    pub const CCK: u16 = 0x0020;
    pub const OFDM: u16 = 0x0040;
    pub const GHZ_2: u16 = 0x0080;
    pub const GHZ_5: u16 = 0x0100;
    pub const PASSIVE: u16 = 0x0200;
    pub const DYNAMIC_CCK_OFDM: u16 = 0x0400;
    pub const GFSK: u16 = 0x0800;
    pub const GSM: u16 = 0x1000;
    pub const STATIC_TURBO: u16 = 0x2000;
    /// 10 MHz channel.
    pub const HALF_RATE: u16 = 0x4000;
    /// 5 MHz channel.
    pub const QUARTER_RATE: u16 = 0x8000;
}

/// (alignment, size) of the fields of the radiotap namespace, by bit.
const FIELDS: [(u8, u8); 28] = [
    (8, 8),  // 0 TSFT
    (1, 1),  // 1 Flags
    (1, 1),  // 2 Rate
    (2, 4),  // 3 Channel: frequency, flags
    (2, 2),  // 4 FHSS: hop set, hop pattern
    (1, 1),  // 5 dBm antenna signal
    (1, 1),  // 6 dBm antenna noise
    (2, 2),  // 7 lock quality
    (2, 2),  // 8 TX attenuation
    (2, 2),  // 9 dB TX attenuation
    (1, 1),  // 10 dBm TX power
    (1, 1),  // 11 antenna
    (1, 1),  // 12 dB antenna signal
    (1, 1),  // 13 dB antenna noise
    (2, 2),  // 14 RX flags
    (2, 2),  // 15 TX flags
    (1, 1),  // 16 RTS retries
    (1, 1),  // 17 data retries
    (4, 8),  // 18 XChannel: flags u32, frequency u16, channel u8, max power u8
    (1, 3),  // 19 MCS: known, flags, index
    (4, 8),  // 20 A-MPDU status: reference u32, flags u16, delimiter CRC, reserved
    (2, 12), // 21 VHT
    (8, 12), // 22 timestamp: u64, accuracy u16, unit/position u8, flags u8
    (2, 12), // 23 HE: data1..data6
    (2, 12), // 24 HE-MU: flags1, flags2, RU channel 1 [4], RU channel 2 [4]
    (2, 6),  // 25 HE-MU-other-user
    (1, 1),  // 26 0-length PSDU
    (2, 4),  // 27 L-SIG
];

/// Alignment and size in bytes of a radiotap-namespace field, if known.
pub fn field_align_size(bit: u16) -> Option<(usize, usize)> {
    FIELDS
        .get(usize::from(bit))
        .map(|&(align, size)| (usize::from(align), usize::from(size)))
}

fn u16_at(d: &[u8], at: usize) -> u16 {
    match d.get(at..at.wrapping_add(2)) {
        Some(&[a, b]) => u16::from_le_bytes([a, b]),
        _ => 0,
    }
}

fn u32_at(d: &[u8], at: usize) -> u32 {
    match d.get(at..at.wrapping_add(4)) {
        Some(&[a, b, c, e]) => u32::from_le_bytes([a, b, c, e]),
        _ => 0,
    }
}

fn u64_at(d: &[u8], at: usize) -> u64 {
    u64::from(u32_at(d, at)) | (u64::from(u32_at(d, at.wrapping_add(4))) << 32)
}

fn u8_at(d: &[u8], at: usize) -> u8 {
    d.get(at).copied().unwrap_or(0)
}

/// Checks the fixed header and the chain of present words; returns the
/// radiotap length and the offset of the first field.
fn check_header(data: &[u8]) -> Result<(usize, usize)> {
    if data.len() < 8 {
        return Err(Error::new(ErrorKind::RadiotapTruncated, data.len()));
    }
    if data[0] != 0 {
        return Err(Error::new(ErrorKind::RadiotapVersion(data[0]), 0));
    }
    let len16 = u16_at(data, 2);
    let len = usize::from(len16);
    if len < 8 {
        return Err(Error::new(ErrorKind::RadiotapLength(len16), 2));
    }
    if len > data.len() {
        return Err(Error::new(
            ErrorKind::RadiotapBeyondBuffer {
                len: len16,
                available: data.len(),
            },
            2,
        ));
    }
    let mut at = 4;
    loop {
        if at + 4 > len {
            return Err(Error::new(ErrorKind::RadiotapLength(len16), at));
        }
        let word = u32_at(data, at);
        at += 4;
        if word & (1 << bit::EXT) == 0 {
            return Ok((len, at));
        }
    }
}

/// A zero-copy view of a radiotap header (and what follows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RadiotapPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RadiotapPacket<T> {
    /// Wraps a buffer without checking it. The accessors never panic (they
    /// read 0 past the end); [`fields`](Self::fields) checks what it needs.
    pub const fn new_unchecked(buffer: T) -> RadiotapPacket<T> {
        RadiotapPacket { buffer }
    }

    /// Wraps a buffer after [`check`](Self::check).
    pub fn new_checked(buffer: T) -> Result<RadiotapPacket<T>> {
        let packet = RadiotapPacket::new_unchecked(buffer);
        packet.check()?;
        Ok(packet)
    }

    /// Checks the version, the length against the buffer and that every
    /// present word lies inside the header.
    pub fn check(&self) -> Result<()> {
        check_header(self.buffer.as_ref()).map(|_| ())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        u8_at(self.buffer.as_ref(), 0)
    }

    pub fn pad(&self) -> u8 {
        u8_at(self.buffer.as_ref(), 1)
    }

    /// `it_len`: the length of the whole radiotap header.
    pub fn header_len(&self) -> usize {
        usize::from(u16_at(self.buffer.as_ref(), 2))
    }

    /// The first present word.
    pub fn present(&self) -> u32 {
        u32_at(self.buffer.as_ref(), 4)
    }

    /// The present words, in order (at most up to `it_len`).
    pub fn present_words(&self) -> PresentWords<'_> {
        let data = self.buffer.as_ref();
        let end = self.header_len().min(data.len());
        PresentWords {
            data: data.get(..end).unwrap_or(&[]),
            at: 4,
            done: false,
        }
    }

    /// The fields, in order (checks the header first).
    pub fn fields(&self) -> Result<Fields<'_>> {
        Fields::new(self.buffer.as_ref())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> RadiotapPacket<&'a T> {
    /// The radiotap header bytes (`it_len` of them, fewer if the buffer is
    /// shorter).
    pub fn header_bytes(&self) -> &'a [u8] {
        let data = self.buffer.as_ref();
        &data[..self.header_len().min(data.len())]
    }

    /// What follows the radiotap header: the 802.11 frame.
    pub fn payload(&self) -> &'a [u8] {
        let data = self.buffer.as_ref();
        &data[self.header_len().min(data.len())..]
    }
}

/// Iterator over the present words of a radiotap header.
#[derive(Debug, Clone)]
pub struct PresentWords<'a> {
    data: &'a [u8],
    at: usize,
    done: bool,
}

impl Iterator for PresentWords<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.done || self.at + 4 > self.data.len() {
            return None;
        }
        let word = u32_at(self.data, self.at);
        self.at += 4;
        self.done = word & (1 << bit::EXT) == 0;
        Some(word)
    }
}

/// The namespace a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// The radiotap namespace. `occurrence` counts how many times it was
    /// entered again (bit 29) before this field: 0 for the first, whose
    /// values describe the frame as a whole; later ones usually repeat
    /// signal and antenna per receive chain.
    Radiotap { occurrence: u8 },
    /// A vendor namespace (bit 30), whose fields we do not interpret.
    Vendor { oui: [u8; 3], subns: u8 },
}

/// One field of a radiotap header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    pub namespace: Namespace,
    /// Bit index in its namespace ([`bit`]); [`bit::VENDOR_NAMESPACE`]
    /// for the data of a vendor namespace, given whole.
    pub bit: u16,
    /// Offset of the data from the start of the radiotap header.
    pub offset: usize,
    pub data: &'a [u8],
}

/// Why a walk over the fields ended before the end of the present words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A present bit of the radiotap namespace whose size we do not know
    /// (bit index in the namespace, 32 and up for continued words): the
    /// fields after it cannot be located.
    UnknownField(u16),
    /// Bit 28: TLVs follow the fixed fields; not read.
    Tlv,
}

/// Iterator over the fields of a radiotap header, following the present
/// words, namespaces and alignment. Yields `Err` once (then ends) when a
/// field runs past `it_len`; ends early, with [`stopped`](Self::stopped)
/// set, at a field of unknown size.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    header: &'a [u8],
    word: u32,
    bit: u32,
    base: u16,
    next_word_at: usize,
    pos: usize,
    namespace: Namespace,
    pending: Option<Namespace>,
    occurrence: u8,
    done: bool,
    stopped: Option<Stop>,
}

impl<'a> Fields<'a> {
    /// Checks the header of `data` (radiotap header first) and starts the walk.
    pub fn new(data: &'a [u8]) -> Result<Fields<'a>> {
        let (len, first_field) = check_header(data)?;
        Ok(Fields {
            header: &data[..len],
            word: u32_at(data, 4),
            bit: 0,
            base: 0,
            next_word_at: 8,
            pos: first_field,
            namespace: Namespace::Radiotap { occurrence: 0 },
            pending: None,
            occurrence: 0,
            done: false,
            stopped: None,
        })
    }

    /// Set when the walk ended at a field it could not size (or at TLVs).
    pub fn stopped(&self) -> Option<Stop> {
        self.stopped
    }

    fn fail(&mut self, kind: ErrorKind, offset: usize) -> Option<Result<Field<'a>>> {
        self.done = true;
        Some(Err(Error::new(kind, offset)))
    }

    fn stop(&mut self, why: Stop) -> Option<Result<Field<'a>>> {
        self.done = true;
        self.stopped = Some(why);
        None
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let len = self.header.len();
        loop {
            if self.done {
                return None;
            }
            let rest = if self.bit >= 32 {
                0
            } else {
                self.word >> self.bit
            };
            if rest == 0 {
                // Bit 31 clear: this was the last present word.
                self.done = true;
                return None;
            }
            let b = self.bit + rest.trailing_zeros();
            self.bit = b + 1;
            match b as u16 {
                bit::EXT => {
                    let at = self.next_word_at;
                    if at + 4 > len {
                        // check_header makes this unreachable; stay total.
                        return self.fail(ErrorKind::RadiotapLength(len as u16), at);
                    }
                    self.word = u32_at(self.header, at);
                    self.next_word_at = at + 4;
                    self.bit = 0;
                    match self.pending.take() {
                        Some(Namespace::Radiotap { .. }) => {
                            self.occurrence = self.occurrence.saturating_add(1);
                            self.namespace = Namespace::Radiotap {
                                occurrence: self.occurrence,
                            };
                            self.base = 0;
                        }
                        Some(vendor) => {
                            self.namespace = vendor;
                            self.base = 0;
                        }
                        None => self.base = self.base.saturating_add(32),
                    }
                }
                bit::RADIOTAP_NAMESPACE => {
                    self.pending = Some(Namespace::Radiotap { occurrence: 0 });
                }
                bit::VENDOR_NAMESPACE => {
                    let at = self.pos + (self.pos & 1);
                    if at + 6 > len {
                        return self.fail(ErrorKind::RadiotapVendorTruncated, self.pos);
                    }
                    let oui = [self.header[at], self.header[at + 1], self.header[at + 2]];
                    let subns = self.header[at + 3];
                    let skip = usize::from(u16_at(self.header, at + 4));
                    let start = at + 6;
                    if start + skip > len {
                        return self.fail(ErrorKind::RadiotapVendorTruncated, at);
                    }
                    let namespace = Namespace::Vendor { oui, subns };
                    self.pending = Some(namespace);
                    self.pos = start + skip;
                    return Some(Ok(Field {
                        namespace,
                        bit: bit::VENDOR_NAMESPACE,
                        offset: start,
                        data: &self.header[start..start + skip],
                    }));
                }
                low => match self.namespace {
                    // The vendor data was skipped whole at its header.
                    Namespace::Vendor { .. } => {}
                    Namespace::Radiotap { .. } => {
                        let index = self.base.saturating_add(low);
                        if index == bit::TLV {
                            return self.stop(Stop::Tlv);
                        }
                        let Some((align, size)) = field_align_size(index) else {
                            return self.stop(Stop::UnknownField(index));
                        };
                        let at = self.pos.next_multiple_of(align);
                        if at + size > len {
                            return self
                                .fail(ErrorKind::RadiotapFieldTruncated { bit: index }, self.pos);
                        }
                        self.pos = at + size;
                        return Some(Ok(Field {
                            namespace: self.namespace,
                            bit: index,
                            offset: at,
                            data: &self.header[at..at + size],
                        }));
                    }
                },
            }
        }
    }
}

mod repr;
pub use repr::*;

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a radiotap header from present words and (bit, bytes) fields,
    /// aligning each field independently of the parser's table.
    fn build(words: &[u32], fields: &[(usize, &[u8])]) -> Vec<u8> {
        let mut v = vec![0u8, 0, 0, 0];
        for w in words {
            v.extend_from_slice(&w.to_le_bytes());
        }
        for &(align, bytes) in fields {
            while v.len() % align != 0 {
                v.push(0xee);
            }
            v.extend_from_slice(bytes);
        }
        let len = v.len() as u16;
        v[2..4].copy_from_slice(&len.to_le_bytes());
        v
    }

    #[test]
    fn zeek_frame_header() {
        // zeek radiotap.pcap frame 1: TSFT, flags, channel, signal, noise,
        // antenna, XChannel, MCS, A-MPDU status (48 bytes).
        let rt: [u8; 48] = [
            0x00, 0x00, 0x30, 0x00, 0x6b, 0x08, 0x1c, 0x00, // header, present
            0xe1, 0x61, 0x56, 0x56, 0x00, 0x00, 0x00, 0x00, // TSFT
            0x10, // flags: FCS at end
            0x00, // pad
            0xa4, 0x15, 0x40, 0x01, // channel 5540, OFDM | 5 GHz
            0xb6, 0xa3, 0x01, // signal -74, noise -93, antenna 1
            0x4e, 0x34, 0x97, // pad to 4 (garbage, as captured)
            0x40, 0x01, 0x01, 0x00, 0xa4, 0x15, 0x6c, 0x22, // XChannel
            0x1f, 0x01, 0x07, // MCS: known, 40 MHz, index 7
            0x00, // pad to 4
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // A-MPDU ref 1
        ];
        let r = Radiotap::parse(&rt).unwrap();
        assert_eq!(r.header_len, 48);
        assert_eq!(r.tsft, Some(1_448_501_729));
        assert!(r.fcs_at_end() && !r.bad_fcs() && !r.short_preamble());
        assert_eq!(
            r.channel,
            Some(Channel {
                freq_mhz: 5540,
                flags: 0x0140
            })
        );
        assert_eq!(
            (r.signal_dbm, r.noise_dbm, r.antenna),
            (Some(-74), Some(-93), Some(1))
        );
        let x = r.xchannel.unwrap();
        assert_eq!(
            (x.flags, x.freq_mhz, x.channel, x.max_power),
            (0x0001_0140, 5540, 108, 0x22)
        );
        let m = r.mcs.unwrap();
        assert_eq!(
            (m.index(), m.bandwidth_mhz(), m.short_gi()),
            (Some(7), Some(40), Some(false))
        );
        assert_eq!(m.stbc_streams(), None);
        assert_eq!(r.ampdu.unwrap().reference, 1);
        assert_eq!(r.stopped, None);
        assert_eq!(r.antennas().len(), 1);
    }

    #[test]
    fn alignment_is_relative_to_the_header_start() {
        // Flags (1 byte at 8), then TSFT must start at 16, then channel at
        // 24 (already aligned), rate at 28, A-MPDU status aligned to 32.
        let present = (1 << bit::TSFT)
            | (1 << bit::FLAGS)
            | (1 << bit::RATE)
            | (1 << bit::CHANNEL)
            | (1 << bit::AMPDU_STATUS);
        let rt = build(
            &[present],
            &[
                (8, &7u64.to_le_bytes()),
                (1, &[0x12]),
                (1, &[12]),
                (2, &[0x6c, 0x09, 0xa0, 0x00]),
                (4, &[9, 0, 0, 0, 0x08, 0x00, 0, 0]),
            ],
        );
        let r = Radiotap::parse(&rt).unwrap();
        assert_eq!(r.tsft, Some(7));
        assert_eq!(r.flags, Some(0x12));
        assert_eq!(r.rate_500kbps, Some(12));
        assert_eq!(r.frequency_mhz(), Some(2412));
        assert_eq!(r.ampdu.unwrap().reference, 9);
        assert_eq!(r.ampdu.unwrap().is_last(), None);
        let offsets: Vec<usize> = Fields::new(&rt)
            .unwrap()
            .map(|f| f.unwrap().offset)
            .collect();
        assert_eq!(offsets, vec![8, 16, 17, 18, 24]);
        // A header that does not start 8-aligned in memory parses the same.
        let mut shifted = vec![0xaa; 3];
        shifted.extend_from_slice(&rt);
        assert_eq!(Radiotap::parse(&shifted[3..]).unwrap(), r);
    }

    #[test]
    fn signal_after_one_byte_then_u16_fields_are_padded() {
        // dBm signal at 8, RX flags aligned to 10, MCS (align 1) at 12,
        // VHT aligned to 16.
        let present =
            (1 << bit::DBM_ANTSIGNAL) | (1 << bit::RX_FLAGS) | (1 << bit::MCS) | (1 << bit::VHT);
        let vht = [0x44, 0x00, 0x04, 0x04, 0x92, 0, 0, 0, 0x00, 0, 0, 0];
        let rt = build(
            &[present],
            &[
                (1, &[0xc4]),
                (2, &[2, 0]),
                (1, &[0x07, 0x05, 0x0f]),
                (2, &vht),
            ],
        );
        assert_eq!(rt.len(), 28);
        let r = Radiotap::parse(&rt).unwrap();
        assert_eq!(r.signal_dbm, Some(-60));
        assert_eq!(r.rx_flags, Some(2));
        let m = r.mcs.unwrap();
        assert_eq!(
            (m.index(), m.short_gi(), m.bandwidth_mhz()),
            (Some(15), Some(true), Some(40))
        );
        let v = r.vht.unwrap();
        assert_eq!(v.user(0), Some((9, 2)));
        assert_eq!(v.user(1), None);
        assert_eq!(v.short_gi(), Some(true));
        assert_eq!(v.bandwidth_mhz(), Some(80));
        assert_eq!(v.stbc(), None);
    }

    #[test]
    fn extended_bitmaps_keep_the_first_occurrence() {
        // Like ieee802.11_meshid.pcap: word 0 has the combined signal and
        // resets to the radiotap namespace; words 1 and 2 repeat signal and
        // antenna per chain.
        let w0 = (1 << bit::FLAGS) | (1 << bit::DBM_ANTSIGNAL) | (1 << 29) | (1 << 31);
        let w1 = (1 << bit::DBM_ANTSIGNAL) | (1 << bit::ANTENNA) | (1 << 29) | (1 << 31);
        let w2 = (1 << bit::DBM_ANTSIGNAL) | (1 << bit::ANTENNA);
        let rt = build(
            &[w0, w1, w2],
            &[
                (1, &[0x10]),
                (1, &[(-34i8) as u8]),
                (1, &[(-39i8) as u8, 0]),
                (1, &[(-34i8) as u8, 1]),
            ],
        );
        let r = Radiotap::parse(&rt).unwrap();
        assert_eq!(r.signal_dbm, Some(-34));
        assert_eq!(r.antenna, Some(0), "first antenna field seen");
        let chains: Vec<(Option<u8>, Option<i8>)> = r
            .antennas()
            .iter()
            .map(|a| (a.antenna, a.signal_dbm))
            .collect();
        assert_eq!(
            chains,
            vec![
                (None, Some(-34)),
                (Some(0), Some(-39)),
                (Some(1), Some(-34))
            ]
        );
        let occurrences: Vec<Namespace> = Fields::new(&rt)
            .unwrap()
            .map(|f| f.unwrap().namespace)
            .collect();
        assert_eq!(occurrences[0], Namespace::Radiotap { occurrence: 0 });
        assert_eq!(occurrences[4], Namespace::Radiotap { occurrence: 2 });
    }

    #[test]
    fn a_continued_word_without_namespace_switch_stops_at_its_unknown_bits() {
        // Like ieee802.11_exthdr.pcap: bit 31 alone, so the second word's
        // bits are 32.. of the radiotap namespace, which we cannot size.
        let w0 = (1 << bit::TSFT) | (1 << bit::FLAGS) | (1 << bit::RATE) | (1 << 31);
        let w1 = 0x0000_0003;
        let mut rt = build(
            &[w0, w1],
            &[(8, &5u64.to_le_bytes()), (1, &[0x10]), (1, &[2])],
        );
        rt.extend_from_slice(&[1, 2, 3, 4]);
        let len = rt.len() as u16;
        rt[2..4].copy_from_slice(&len.to_le_bytes());
        let r = Radiotap::parse(&rt).unwrap();
        assert_eq!(
            (r.tsft, r.flags, r.rate_500kbps),
            (Some(5), Some(0x10), Some(2))
        );
        assert_eq!(r.stopped, Some(Stop::UnknownField(32)));
    }

    #[test]
    fn unknown_bit_stops_without_misreading() {
        // TLV bit: the fields before it are read, nothing after.
        let w0 = (1 << bit::FLAGS) | (1 << bit::TLV);
        let rt = build(&[w0], &[(1, &[0x02]), (4, &[1, 0, 4, 0, 9, 9, 9, 9])]);
        let r = Radiotap::parse(&rt).unwrap();
        assert!(r.short_preamble());
        assert_eq!(r.stopped, Some(Stop::Tlv));
        // HE-MU-other-user (25) is known: its 6 bytes are skipped.
        let w0 = (1 << bit::HE_MU_OTHER_USER) | (1 << bit::ZERO_LEN_PSDU) | (1 << bit::L_SIG);
        let rt = build(
            &[w0],
            &[
                (2, &[1, 2, 3, 4, 5, 6]),
                (1, &[1]),
                (2, &[0x0b, 0, 0x40, 0x06]),
            ],
        );
        let r = Radiotap::parse(&rt).unwrap();
        assert_eq!(r.zero_length_psdu, Some(1));
        assert_eq!(
            r.lsig,
            Some(LSig {
                data1: 0x000b,
                data2: 0x0640
            })
        );
        assert_eq!(r.stopped, None);
    }

    #[test]
    fn vendor_namespace_is_skipped_by_its_length() {
        // Like ieee802.11_htc.pcap: bit 30 in the only word; the 6-byte
        // vendor header (aligned to 2) and 16 bytes of data follow the
        // fields.
        let w0 = (1 << bit::FLAGS) | (1 << bit::DBM_ANTSIGNAL) | (1 << 30);
        let mut vendor = vec![0x00, 0x03, 0x7f, 0x00, 16, 0];
        vendor.extend_from_slice(&[0xab; 16]);
        let rt = build(&[w0], &[(1, &[0x00]), (1, &[0xd3]), (2, &vendor)]);
        assert_eq!(rt.len(), 8 + 2 + 22);
        let r = Radiotap::parse(&rt).unwrap();
        assert_eq!(r.signal_dbm, Some(-45));
        assert_eq!(
            r.vendor,
            Some(VendorNamespace {
                oui: [0x00, 0x03, 0x7f],
                subns: 0,
                skip_length: 16
            })
        );
        assert_eq!(r.vendor_namespaces, 1);

        // Vendor namespace in the middle: word 0 (radiotap) announces a
        // vendor word 1 whose fields are inside the skipped data, word 1
        // returns to the radiotap namespace for word 2.
        let w0 = (1 << bit::FLAGS) | (1 << 30) | (1 << 31);
        let w1 = 0x0000_00ff | (1 << 29) | (1 << 31); // vendor bits, ignored
        let w2 = (1 << bit::DBM_ANTSIGNAL) | (1 << bit::CHANNEL);
        let vendor = [0x00, 0x11, 0x22, 0x05, 3, 0, 0xde, 0xad, 0xbe];
        let rt = build(
            &[w0, w1, w2],
            &[
                (1, &[0x10]),
                (2, &vendor),
                (2, &[0x85, 0x16, 0x40, 0x01]),
                (1, &[0xc8]),
            ],
        );
        let r = Radiotap::parse(&rt).unwrap();
        assert_eq!(r.flags, Some(0x10));
        assert_eq!(r.signal_dbm, Some(-56));
        assert_eq!(r.frequency_mhz(), Some(5765));
        assert_eq!(r.vendor.unwrap().subns, 5);
        let fields: Vec<(u16, usize)> = Fields::new(&rt)
            .unwrap()
            .map(|f| f.map(|f| (f.bit, f.offset)).unwrap())
            .collect();
        // Flags at 16, vendor header at 18 (aligned), its data at 24..27,
        // then word 2 in bit order: channel aligned to 28, signal at 32.
        assert_eq!(fields, vec![(1, 16), (30, 24), (3, 28), (5, 32)]);
    }

    #[test]
    fn vendor_data_beyond_the_header_is_an_error() {
        let w0 = 1 << 30;
        let rt = build(&[w0], &[(2, &[0, 0x11, 0x22, 0, 200, 0])]);
        let e = Radiotap::parse(&rt).unwrap_err();
        assert_eq!(e.kind, ErrorKind::RadiotapVendorTruncated);
        assert_eq!(e.offset, 8);
        let rt = build(&[w0], &[(1, &[0, 0x11, 0x22])]);
        assert_eq!(
            Radiotap::parse(&rt).unwrap_err().kind,
            ErrorKind::RadiotapVendorTruncated
        );
    }

    #[test]
    fn header_errors() {
        assert_eq!(
            Radiotap::parse(&[0, 0, 8, 0]).unwrap_err(),
            Error::new(ErrorKind::RadiotapTruncated, 4)
        );
        // radiotap-heapoverflow.pcap: version 0x30.
        let e = Radiotap::parse(&[0x30, 0x30, 0x08, 0x00, 0x30, 0x30, 0x30, 0xfa]).unwrap_err();
        assert_eq!(e, Error::new(ErrorKind::RadiotapVersion(0x30), 0));
        let e = Radiotap::parse(&[0, 0, 4, 0, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(e, Error::new(ErrorKind::RadiotapLength(4), 2));
        let e = Radiotap::parse(&[0, 0, 12, 0, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::RadiotapBeyondBuffer {
                len: 12,
                available: 8
            }
        );
        // Present words chained past it_len.
        let e = Radiotap::parse(&[0, 0, 8, 0, 0, 0, 0, 0x80, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(e, Error::new(ErrorKind::RadiotapLength(8), 8));
        // A field past it_len: TSFT announced in an 8-byte header.
        let e = Radiotap::parse(&[0, 0, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(
            e,
            Error::new(ErrorKind::RadiotapFieldTruncated { bit: 0 }, 8)
        );
    }

    #[test]
    fn packet_view() {
        let mut frame = build(&[1 << bit::FLAGS], &[(1, &[0x10])]);
        frame.extend_from_slice(&[0xd4, 0x00, 0x00, 0x00]);
        let p = RadiotapPacket::new_checked(&frame[..]).unwrap();
        assert_eq!((p.version(), p.pad(), p.header_len()), (0, 0, 9));
        assert_eq!(p.present(), 2);
        assert_eq!(p.present_words().collect::<Vec<_>>(), vec![2]);
        assert_eq!(p.payload(), &[0xd4, 0, 0, 0]);
        assert_eq!(p.header_bytes().len(), 9);
        assert_eq!(Radiotap::parse_packet(&p).unwrap().flags, Some(0x10));
        // Unchecked views of short buffers never panic.
        let short = RadiotapPacket::new_unchecked(&[0u8][..]);
        assert_eq!(
            (short.header_len(), short.present(), short.payload().len()),
            (0, 0, 1)
        );
        assert!(short.fields().is_err());
        assert_eq!(short.present_words().count(), 0);
    }

    #[test]
    fn he_and_vht_accessors() {
        // ieee802.11_htc.pcap: HE SU, MCS 9, 20 MHz, 0.8 µs, NSTS 2, LDPC.
        let he = He {
            data: [0xc3fc, 0x00fe, 0x69e5, 0x000f, 0x2180, 0x7f02],
        };
        assert_eq!(he.format(), He::FORMAT_SU);
        assert_eq!(he.mcs(), Some(9));
        assert_eq!(he.bw_ru(), Some(0));
        assert_eq!(he.gi(), Some(HeGi::Us0_8));
        assert_eq!(he.nsts(), 2);
        assert_eq!(he.ldpc(), Some(true));
        assert!(!he.stbc() && !he.dcm());
        assert_eq!(he.ltf_size(), Some(2));
        assert_eq!(he.ltf_symbols(), Some(2));
        let mut vht = Vht {
            known: Vht::KNOWN_BANDWIDTH,
            ..Vht::default()
        };
        for (code, mhz) in [
            (0, 20),
            (1, 40),
            (3, 20),
            (4, 80),
            (6, 40),
            (10, 20),
            (11, 160),
            (13, 80),
            (17, 40),
            (25, 20),
        ] {
            vht.bandwidth = code;
            assert_eq!(vht.bandwidth_mhz(), Some(mhz), "code {code}");
        }
        vht.bandwidth = 26;
        assert_eq!(vht.bandwidth_mhz(), None);
    }
}
