//! XDR variable-length arrays (`T items<>`), one type for both directions.
//!
//! An agent encodes from a slice it owns ([`List::Items`]); a decoder gets the
//! raw bytes of the array, already checked for framing, and decodes items
//! lazily as they are iterated ([`List::Wire`]). Decoding therefore never
//! allocates and never recurses into nested lists on its own.

use std::fmt;

use super::xdr::{DecodeError, DecodeErrorKind, EncodeError, Reader, Writer};
use super::{Decode, Encode, Visit, Visitor};

pub enum List<'a, T> {
    /// Items to encode.
    Items(&'a [T]),
    /// Decoded framing: `count` items whose XDR bytes are `data`, which
    /// starts `base` bytes into the datagram.
    Wire {
        count: u32,
        data: &'a [u8],
        base: usize,
    },
}

// Manual impls: a List is a pair of references whatever T is.
impl<T> Clone for List<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for List<'_, T> {}

impl<T> Default for List<'_, T> {
    fn default() -> Self {
        List::Items(&[])
    }
}

impl<'a, T> List<'a, T> {
    pub fn len(&self) -> usize {
        match self {
            List::Items(items) => items.len(),
            List::Wire { count, .. } => *count as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a, T: Clone + Decode<'a>> List<'a, T> {
    /// Iterates the items; decoded lists yield an error for the first item
    /// that does not decode and then stop.
    pub fn iter(&self) -> Iter<'a, T> {
        match *self {
            List::Items(items) => Iter::Items(items.iter()),
            List::Wire { count, data, base } => Iter::Wire {
                left: count,
                reader: Reader::with_base(data, base),
            },
        }
    }
}

pub enum Iter<'a, T> {
    Items(std::slice::Iter<'a, T>),
    Wire { left: u32, reader: Reader<'a> },
}

impl<'a, T: Clone + Decode<'a>> Iterator for Iter<'a, T> {
    type Item = Result<T, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Items(it) => it.next().cloned().map(Ok),
            Iter::Wire { left, reader } => {
                if *left == 0 {
                    return None;
                }
                let item = T::decode(reader);
                // Stop after an error: what follows cannot be framed.
                *left = if item.is_ok() { *left - 1 } else { 0 };
                Some(item)
            }
        }
    }
}

impl<'a, T: Decode<'a>> Decode<'a> for List<'a, T> {
    const NAME: &'static str = T::NAME;

    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let count = r.u32(T::NAME)?;
        // Every item takes at least four bytes: reject impossible counts
        // before walking them.
        if count as usize > r.remaining() / 4 {
            return Err(r.error(
                T::NAME,
                DecodeErrorKind::Invalid("array count larger than the data that follows"),
            ));
        }
        let base = r.offset();
        let rest = r.rest();
        let mut walk = Reader::with_base(rest, base);
        for _ in 0..count {
            T::skip(&mut walk)?;
        }
        let used = rest.len() - walk.remaining();
        let data = r.take(used, T::NAME)?;
        Ok(List::Wire { count, data, base })
    }
}

impl<T: Encode> Encode for List<'_, T> {
    fn encode(&self, w: &mut Writer) -> Result<(), EncodeError> {
        let count = u32::try_from(self.len()).map_err(|_| EncodeError::NoSpace)?;
        w.u32(count)?;
        match self {
            List::Items(items) => items.iter().try_for_each(|item| item.encode(w)),
            // Decoded bytes are valid XDR already: copy them as they are.
            List::Wire { data, .. } => w.fixed(data),
        }
    }
}

impl<'a, T: Clone + Decode<'a> + PartialEq> PartialEq for List<'a, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<'a, T: Clone + Decode<'a> + fmt::Debug> fmt::Debug for List<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T: Clone + Decode<'a> + Visit> List<'a, T> {
    /// Visits every item as a list named `name`.
    pub fn visit_as(&self, name: &'static str, v: &mut dyn Visitor) {
        v.begin_list(name);
        for item in self.iter() {
            match item {
                Ok(item) => {
                    v.begin_item();
                    item.visit(v);
                    v.end_item();
                }
                Err(e) => v.error(&e),
            }
        }
        v.end_list();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Word(u32);
    impl Encode for Word {
        fn encode(&self, w: &mut Writer) -> Result<(), EncodeError> {
            w.u32(self.0)
        }
    }
    impl<'a> Decode<'a> for Word {
        const NAME: &'static str = "word";
        fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
            r.u32("word").map(Word)
        }
    }

    #[test]
    fn items_and_wire_agree() {
        let items = [Word(1), Word(2), Word(3)];
        let list = List::Items(&items);
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        list.encode(&mut w).unwrap();
        let bytes = w.written().to_vec();
        assert_eq!(bytes, [0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
        let mut r = Reader::new(&bytes);
        let decoded = List::<Word>::decode(&mut r).unwrap();
        assert!(r.is_empty());
        assert_eq!(decoded, list);
        // Re-encoding a decoded list copies it byte for byte.
        let mut buf2 = [0u8; 64];
        let mut w = Writer::new(&mut buf2);
        decoded.encode(&mut w).unwrap();
        assert_eq!(w.written(), &bytes[..]);
    }

    #[test]
    fn impossible_counts_are_rejected() {
        let bytes = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1];
        assert!(List::<Word>::decode(&mut Reader::new(&bytes)).is_err());
        let bytes = [0, 0, 0, 2, 0, 0, 0, 1, 0, 0];
        assert!(List::<Word>::decode(&mut Reader::new(&bytes)).is_err());
    }
}
