//! The sFlow version 5 wire format: no I/O, nothing specific to Linux.
//!
//! Field order, numbers and bounds follow `sflow_version_5.txt`,
//! `sflow_80211.txt` and `sflow_host.txt`, with the errata that decoders
//! follow in practice: `host_descr.uuid` is 16 fixed bytes, a `mac` is padded
//! to eight bytes, compact and expanded samples are never mixed.
//!
//! Each structure is one Rust type that both encodes ([`Encode`]) and
//! decodes ([`Decode`]); decoded values borrow from the datagram and nested
//! arrays are decoded lazily ([`List`]), so decoding never allocates and
//! never panics on any input. Unknown samples and records are kept as raw
//! bytes, skipped by their length as the specification requires.
//!
//! [`DatagramPacker`] assembles samples into datagrams of a bounded size
//! without allocating per sample.

mod counters;
mod datagram;
mod flow;
mod list;
mod packer;
mod sample;
pub mod xdr;

pub use counters::*;
pub use datagram::{AgentAddress, Datagram, VERSION};
pub use flow::*;
pub use list::{Iter, List};
pub use packer::{DatagramPacker, DatagramSink, PackerConfig};
pub use sample::*;
pub use xdr::{DecodeError, DecodeErrorKind, EncodeError, Reader, Writer};

use std::net::IpAddr;

/// Value for an integer whose value is unknown.
pub const UNKNOWN: u32 = 0;
/// Value for a 32-bit counter that is not available.
pub const COUNTER32_UNAVAILABLE: u32 = u32::MAX;
/// Value for a 64-bit counter that is not available.
pub const COUNTER64_UNAVAILABLE: u64 = u64::MAX;

/// Splits a `data_format` into (enterprise, format).
pub const fn split_format(data_format: u32) -> (u32, u32) {
    (data_format >> 12, data_format & 0xfff)
}

/// Builds a `data_format` from an enterprise number and a format number.
pub const fn data_format(enterprise: u32, format: u32) -> u32 {
    (enterprise << 12) | (format & 0xfff)
}

/// Encodes a structure as XDR.
pub trait Encode {
    fn encode(&self, w: &mut Writer) -> Result<(), EncodeError>;
}

/// Decodes a structure from XDR, borrowing from the input.
pub trait Decode<'a>: Sized {
    /// The structure's name in the specification, used in errors.
    const NAME: &'static str;

    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError>;

    /// Steps over one item, checking only what is needed to find its end.
    fn skip(r: &mut Reader<'a>) -> Result<(), DecodeError> {
        Self::decode(r).map(drop)
    }
}

/// Receives the fields of a decoded structure, in wire order, named as in
/// the specification. Used to print samples as text or JSON.
pub trait Visitor {
    fn u32(&mut self, name: &'static str, value: u32);
    fn i32(&mut self, name: &'static str, value: i32);
    fn u64(&mut self, name: &'static str, value: u64);
    fn f32(&mut self, name: &'static str, value: f32);
    /// A name from the specification (a record or enumeration name).
    fn label(&mut self, name: &'static str, value: &'static str);
    /// A string field; not necessarily UTF-8.
    fn text(&mut self, name: &'static str, value: &[u8]);
    /// Opaque bytes.
    fn bytes(&mut self, name: &'static str, value: &[u8]);
    fn mac(&mut self, name: &'static str, value: &[u8; 6]);
    fn address(&mut self, name: &'static str, value: Option<IpAddr>);
    fn begin_list(&mut self, name: &'static str);
    fn begin_item(&mut self);
    fn end_item(&mut self);
    fn end_list(&mut self);
    /// An item of a list that could not be decoded.
    fn error(&mut self, error: &DecodeError);
}

/// A structure whose fields can be visited.
pub trait Visit {
    fn visit(&self, v: &mut dyn Visitor);
}

/// The body of a record that is identified by an enterprise-0 format number
/// (a flow record or a counter record).
pub trait RecordBody<'a>: Sized {
    const FORMAT: u32;
    const NAME: &'static str;
    fn encode_body(&self, w: &mut Writer) -> Result<(), EncodeError>;
    fn decode_body(r: &mut Reader<'a>) -> Result<Self, DecodeError>;
    fn visit_body(&self, v: &mut dyn Visitor);
}

/// Implements [`RecordBody`] for a structure of fixed-size fields, listing
/// them once in wire order with their names in the specification.
macro_rules! fixed_record {
    ($ty:ident, $format:expr, $name:literal, { $($field:ident : $kind:ident => $spec:literal),* $(,)? }) => {
        impl<'a> $crate::sflow::RecordBody<'a> for $ty {
            const FORMAT: u32 = $format;
            const NAME: &'static str = $name;
            fn encode_body(&self, w: &mut $crate::sflow::Writer) -> Result<(), $crate::sflow::EncodeError> {
                w.fields(&[$( $crate::sflow::xdr::Field::from(self.$field) ),*])
            }
            fn decode_body(r: &mut $crate::sflow::Reader<'a>) -> Result<Self, $crate::sflow::DecodeError> {
                Ok($ty { $( $field: r.$kind(concat!($name, ".", $spec))?, )* })
            }
            fn visit_body(&self, v: &mut dyn $crate::sflow::Visitor) {
                $( v.$kind($spec, self.$field); )*
            }
        }
    };
}
pub(crate) use fixed_record;

/// Defines a record enum (flow or counter records) from one list of its
/// known bodies: the enum with an `Unknown` variant for the others, and its
/// `format`, `name`, [`Encode`], [`Decode`] (dispatching on each body's
/// `FORMAT`) and [`Visit`]. A new record type is one line of the list.
macro_rules! record_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident<'a>, $what:literal, $format_field:literal, $data_field:literal {
            $($variant:ident($ty:ty),)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum $name<'a> {
            $($variant($ty),)*
            /// A record this decoder does not know, kept as its raw data.
            Unknown {
                format: u32,
                data: &'a [u8],
            },
        }

        impl<'a> $name<'a> {
            /// The record's `data_format`.
            pub fn format(&self) -> u32 {
                match self {
                    $($name::$variant(_) => <$ty as $crate::sflow::RecordBody<'a>>::FORMAT,)*
                    $name::Unknown { format, .. } => *format,
                }
            }

            /// The record's name in the specification.
            pub fn name(&self) -> &'static str {
                match self {
                    $($name::$variant(_) => <$ty as $crate::sflow::RecordBody<'a>>::NAME,)*
                    $name::Unknown { .. } => "unknown",
                }
            }
        }

        impl $crate::sflow::Encode for $name<'_> {
            fn encode(
                &self,
                w: &mut $crate::sflow::Writer,
            ) -> Result<(), $crate::sflow::EncodeError> {
                use $crate::sflow::RecordBody;
                if let $name::Unknown { format, data } = self {
                    w.u32(*format)?;
                    return w.opaque(data, usize::MAX);
                }
                // One copy of the record's framing (format, length) for
                // all the bodies, rather than one per variant.
                w.record(self.format(), |w| match self {
                    $($name::$variant(r) => r.encode_body(w),)*
                    // Written above.
                    $name::Unknown { .. } => Ok(()),
                })
            }
        }

        impl<'a> $crate::sflow::Decode<'a> for $name<'a> {
            const NAME: &'static str = $what;

            fn decode(
                r: &mut $crate::sflow::Reader<'a>,
            ) -> Result<Self, $crate::sflow::DecodeError> {
                use $crate::sflow::RecordBody;
                let format = r.u32($format_field)?;
                let mut body = r.nested($data_field)?;
                // Bytes after the known fields are extensions (the
                // specification lets structures grow at the end): ignored.
                $(
                    if format == <$ty as RecordBody<'a>>::FORMAT {
                        return Ok($name::$variant(<$ty>::decode_body(&mut body)?));
                    }
                )*
                Ok($name::Unknown {
                    format,
                    data: body.rest(),
                })
            }

            fn skip(r: &mut $crate::sflow::Reader<'a>) -> Result<(), $crate::sflow::DecodeError> {
                r.u32($format_field)?;
                r.nested($data_field).map(drop)
            }
        }

        impl $crate::sflow::Visit for $name<'_> {
            fn visit(&self, v: &mut dyn $crate::sflow::Visitor) {
                use $crate::sflow::RecordBody;
                v.label("type", self.name());
                let (enterprise, format) = $crate::sflow::split_format(self.format());
                v.u32("enterprise", enterprise);
                v.u32("format", format);
                match self {
                    $($name::$variant(r) => r.visit_body(v),)*
                    $name::Unknown { data, .. } => v.bytes("data", data),
                }
            }
        }
    };
}
pub(crate) use record_enum;

/// A per-data-source sample sequence number: incremented with each sample of
/// one kind generated by one data source, wrapping at 2^32.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequenceNumber(u32);

impl SequenceNumber {
    /// The number for the next sample (the first is 1).
    pub fn advance(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(1);
        self.0
    }

    pub fn last(&self) -> u32 {
        self.0
    }
}
