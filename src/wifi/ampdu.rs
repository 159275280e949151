//! The MPDU delimiter of an A-MPDU subframe, rebuilt from radiotap's
//! A-MPDU status: sFlow's `IEEE80211_AMPDU` header protocol (16) starts
//! with it, and radiotap keeps only parts of it.

use super::radiotap::Ampdu;

/// The delimiter's last octet, the ASCII 'N' (IEEE 802.11-2020 9.7.1).
pub const SIGNATURE: u8 = 0x4e;

/// An 802.11n MPDU delimiter (IEEE 802.11-2020 9.7.1): EOF bit, reserved
/// bit, 14-bit length (12 bits for HT, the top two reserved), CRC-8 of
/// those 16 bits, and the signature 'N'.
pub fn mpdu_delimiter(length: u32, ampdu: &Ampdu) -> [u8; 4] {
    let eof = ampdu.flags & Ampdu::EOF_KNOWN != 0 && ampdu.flags & Ampdu::EOF != 0;
    let first = (u16::from(eof)) | (((length as u16) & 0x3fff) << 2);
    let b = first.to_le_bytes();
    let crc = if ampdu.flags & Ampdu::DELIMITER_CRC_KNOWN != 0 {
        ampdu.delimiter_crc
    } else {
        delimiter_crc(b)
    };
    [b[0], b[1], crc, SIGNATURE]
}

/// CRC-8 of the delimiter (x^8 + x^2 + x + 1, initial value all ones,
/// ones complement of the remainder), over the bits in transmit order.
fn delimiter_crc(bytes: [u8; 2]) -> u8 {
    let mut crc: u8 = 0xff;
    for byte in bytes {
        for i in 0..8 {
            // Bits go out least significant first.
            let bit = (byte >> i) & 1;
            let feedback = ((crc >> 7) & 1) ^ bit;
            crc <<= 1;
            if feedback == 1 {
                crc ^= 0x07;
            }
        }
    }
    // The CRC is sent most significant bit first: reverse for the
    // least-significant-first octet.
    (!crc).reverse_bits()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_crc() {
        // The zero-length delimiter that 802.11n drivers insert as padding
        // is the little-endian word 0x4e140000: bytes 00 00 14 4e.
        assert_eq!(
            mpdu_delimiter(0, &Ampdu::default()),
            [0x00, 0x00, 0x14, 0x4e]
        );
        // Length in bits 2..15, signature last.
        let d = mpdu_delimiter(1500, &Ampdu::default());
        assert_eq!(&d[..2], &(1500u16 << 2).to_le_bytes());
        assert_eq!(d[3], 0x4e);
        assert_ne!(d[2], 0x14);
        // A CRC that radiotap reports is used as it is.
        let with_crc = Ampdu {
            flags: Ampdu::DELIMITER_CRC_KNOWN,
            delimiter_crc: 0xab,
            ..Ampdu::default()
        };
        assert_eq!(mpdu_delimiter(100, &with_crc)[2], 0xab);
        // EOF only when radiotap says it is known and set.
        let eof = Ampdu {
            flags: Ampdu::EOF_KNOWN | Ampdu::EOF,
            ..Ampdu::default()
        };
        assert_eq!(mpdu_delimiter(100, &eof)[0] & 1, 1);
        let unknown = Ampdu {
            flags: Ampdu::EOF,
            ..Ampdu::default()
        };
        assert_eq!(mpdu_delimiter(100, &unknown)[0] & 1, 0);
    }
}
