//! libubox's `blob` and `blobmsg` formats: a builder ([`BlobBuf`]), a
//! zero-copy reader ([`Attrs`], [`Attr`], [`Field`], [`Value`]) and JSON
//! rendering in the style of the `ubus` command ([`to_json`],
//! [`to_json_indented`]).
//!
//! # The format (libubox `blob.h`, `blobmsg.h`)
//!
//! An attribute starts with one big-endian `u32`: bit 31 says "extended"
//! (a blobmsg attribute), bits 24–30 are the id (for blobmsg: the type),
//! bits 0–23 the length of the attribute *including* this 4-byte header
//! and *excluding* the padding that follows it up to a multiple of 4.
//! A container (a nested attribute, a blobmsg table or array) holds its
//! children back to back, each padded, and its length counts that padding.
//!
//! A blobmsg attribute (extended) has, after the header, a big-endian
//! `u16` name length, the name, a NUL, and zeros up to a multiple of 4
//! (counted from the start of the payload); then the value: nested
//! attributes for tables (named children) and arrays (unnamed children),
//! a NUL-terminated string, or a big-endian integer of exactly 1, 2, 4 or
//! 8 bytes, or an IEEE double (8 bytes, big-endian).
//!
//! # Untrusted input
//!
//! The reader never panics and never reads out of bounds, whatever the
//! bytes. A malformed attribute is an [`Error`] naming its offset (from
//! the start of the buffer the walk began in, e.g. the ubus message).
//! Recursion (JSON, [`Attrs::check`]) is bounded by [`MAX_DEPTH`].

use std::fmt;
use std::str;

/// Bytes of an attribute header.
pub const ATTR_HDR_LEN: usize = 4;
/// The largest length an attribute header can hold (24 bits).
pub const MAX_ATTR_LEN: usize = LEN_MASK as usize;
/// Deepest nesting of tables and arrays that [`to_json`] and
/// [`Attrs::check`] follow; deeper input is an error, not a stack overflow.
pub const MAX_DEPTH: usize = 64;

const ID_MASK: u32 = 0x7f00_0000;
const ID_SHIFT: u32 = 24;
const LEN_MASK: u32 = 0x00ff_ffff;
const EXTENDED: u32 = 0x8000_0000;

const fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// blobmsg value types (`enum blobmsg_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum BlobmsgType {
    Unspec = 0,
    Array = 1,
    Table = 2,
    String = 3,
    Int64 = 4,
    Int32 = 5,
    Int16 = 6,
    Int8 = 7,
    Double = 8,
}

impl BlobmsgType {
    /// Booleans are INT8 (`BLOBMSG_TYPE_BOOL`).
    pub const BOOL: BlobmsgType = BlobmsgType::Int8;

    pub fn id(self) -> u8 {
        self as u8
    }
}

/// What is wrong with an attribute or a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Fewer than 4 bytes are left where an attribute header should be.
    HeaderTruncated {
        available: usize,
    },
    /// The length field is smaller than the header itself.
    LengthTooShort {
        len: usize,
    },
    /// The attribute runs past the end of its container.
    LengthBeyond {
        len: usize,
        available: usize,
    },
    /// A blobmsg name (length, bytes, NUL, padding) runs past its attribute.
    NameTruncated,
    /// A blobmsg name is not followed by its NUL.
    NameNotTerminated,
    NameNotUtf8,
    /// A value has the wrong size for its type (`what`: "int32", "OBJID"...).
    BadLength {
        what: &'static str,
        len: usize,
    },
    /// A string value without its terminating NUL.
    NotTerminated {
        what: &'static str,
    },
    NotUtf8 {
        what: &'static str,
    },
    /// Tables and arrays nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A ubus message shorter than its header and declared length.
    MessageTruncated {
        needed: usize,
        available: usize,
    },
    /// A ubus message declaring more than the maximum length.
    MessageTooLong {
        len: usize,
    },
    /// A ubus message header with a version other than 0.
    BadVersion(u8),
    /// A ubus message lacks an attribute its type needs.
    Missing(&'static str),
}

/// A malformed attribute or message, and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// Byte offset of the offending attribute (or field) from the start of
    /// the buffer the walk began in.
    pub offset: usize,
    pub kind: ErrorKind,
}

impl Error {
    pub(crate) fn new(offset: usize, kind: ErrorKind) -> Error {
        Error { offset, kind }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::HeaderTruncated { available } => write!(
                f,
                "attribute header truncated ({available} of 4 bytes left)"
            ),
            ErrorKind::LengthTooShort { len } => {
                write!(f, "attribute length {len} is shorter than its header")
            }
            ErrorKind::LengthBeyond { len, available } => write!(
                f,
                "attribute length {len} runs past its container ({available} bytes left)"
            ),
            ErrorKind::NameTruncated => write!(f, "blobmsg name runs past its attribute"),
            ErrorKind::NameNotTerminated => write!(f, "blobmsg name without its NUL"),
            ErrorKind::NameNotUtf8 => write!(f, "blobmsg name is not UTF-8"),
            ErrorKind::BadLength { what, len } => {
                write!(f, "{what} value of {len} bytes has the wrong size")
            }
            ErrorKind::NotTerminated { what } => write!(f, "{what} string without its NUL"),
            ErrorKind::NotUtf8 { what } => write!(f, "{what} string is not UTF-8"),
            ErrorKind::TooDeep => write!(f, "tables nested deeper than {MAX_DEPTH}"),
            ErrorKind::MessageTruncated { needed, available } => {
                write!(f, "message truncated ({available} of {needed} bytes)")
            }
            ErrorKind::MessageTooLong { len } => write!(
                f,
                "message of {len} bytes exceeds the {} byte limit",
                super::message::MAX_MSG_LEN
            ),
            ErrorKind::BadVersion(v) => write!(f, "message version {v}, expected 0"),
            ErrorKind::Missing(what) => write!(f, "message lacks {what}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ubus: {} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// Exactly `N` bytes, or a [`ErrorKind::BadLength`] error.
fn exact<const N: usize>(data: &[u8], what: &'static str, offset: usize) -> Result<[u8; N], Error> {
    data.try_into().map_err(|_| {
        Error::new(
            offset,
            ErrorKind::BadLength {
                what,
                len: data.len(),
            },
        )
    })
}

/// A NUL-terminated string: the bytes up to the first NUL (as C reads
/// them); the last byte must be a NUL.
fn c_string<'a>(data: &'a [u8], what: &'static str, offset: usize) -> Result<&'a str, Error> {
    if data.last() != Some(&0) {
        return Err(Error::new(offset, ErrorKind::NotTerminated { what }));
    }
    let end = data.iter().position(|&c| c == 0).unwrap_or(data.len());
    str::from_utf8(&data[..end]).map_err(|_| Error::new(offset, ErrorKind::NotUtf8 { what }))
}

/// One attribute, borrowed from the buffer it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    /// The id (bits 24–30): a ubus attribute id, or a blobmsg type.
    pub id: u8,
    /// Bit 31: a blobmsg attribute (with a name header).
    pub extended: bool,
    /// The payload, without header or padding.
    pub data: &'a [u8],
    /// Offset of the attribute's header in the walked buffer.
    pub offset: usize,
}

impl<'a> Attr<'a> {
    /// Offset of the payload in the walked buffer.
    pub fn data_offset(&self) -> usize {
        self.offset + ATTR_HDR_LEN
    }

    /// The payload as one byte (`blob_put_u8`, `blob_put_int8`).
    pub fn u8(&self) -> Result<u8, Error> {
        Ok(exact::<1>(self.data, "int8", self.offset)?[0])
    }

    pub fn u16(&self) -> Result<u16, Error> {
        exact(self.data, "int16", self.offset).map(u16::from_be_bytes)
    }

    pub fn u32(&self) -> Result<u32, Error> {
        exact(self.data, "int32", self.offset).map(u32::from_be_bytes)
    }

    pub fn i32(&self) -> Result<i32, Error> {
        exact(self.data, "int32", self.offset).map(i32::from_be_bytes)
    }

    pub fn u64(&self) -> Result<u64, Error> {
        exact(self.data, "int64", self.offset).map(u64::from_be_bytes)
    }

    /// The payload as a NUL-terminated string (`blob_put_string`).
    pub fn string(&self) -> Result<&'a str, Error> {
        c_string(self.data, "blob", self.offset)
    }

    /// The payload as nested attributes (`blob_nest_start`).
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::with_offset(self.data, self.data_offset())
    }

    /// Reads the attribute as a blobmsg field: name and typed value. A
    /// non-extended attribute (legal in arrays) has an empty name.
    pub fn blobmsg(&self) -> Result<Field<'a>, Error> {
        let (name, payload, at) = if self.extended {
            let d = self.data;
            let truncated = Error::new(self.offset, ErrorKind::NameTruncated);
            let name_len = d
                .get(..2)
                .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                .ok_or(truncated)?;
            let hdr_len = align4(2 + name_len + 1);
            if d.len() < hdr_len {
                return Err(truncated);
            }
            if d[2 + name_len] != 0 {
                return Err(Error::new(self.offset, ErrorKind::NameNotTerminated));
            }
            let name = &d[2..2 + name_len];
            // C reads the name up to its first NUL.
            let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
            let name = str::from_utf8(&name[..end])
                .map_err(|_| Error::new(self.offset, ErrorKind::NameNotUtf8))?;
            (name, &d[hdr_len..], self.data_offset() + hdr_len)
        } else {
            ("", self.data, self.data_offset())
        };
        let value = Value::decode(self.id, payload, at, self.offset)?;
        Ok(Field { name, value })
    }
}

/// The attributes packed in a container's payload, walked in order.
///
/// Yields `Err` once for an attribute whose header or length is broken,
/// then stops (the next attribute cannot be found). The payload of the
/// last attribute may lack its padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attrs<'a> {
    rest: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> Attrs<'a> {
    /// The attributes of `payload`; offsets in errors count from its start.
    pub fn new(payload: &'a [u8]) -> Attrs<'a> {
        Attrs::with_offset(payload, 0)
    }

    /// The attributes of `payload`, which starts `offset` bytes into the
    /// buffer that errors and [`Attr::offset`] refer to.
    pub fn with_offset(payload: &'a [u8], offset: usize) -> Attrs<'a> {
        Attrs {
            rest: payload,
            offset,
            done: false,
        }
    }

    /// The children of the container attribute at the start of `buf` (as
    /// [`BlobBuf::as_bytes`] gives it); its length must fit in `buf`.
    pub fn container(buf: &'a [u8]) -> Result<Attrs<'a>, Error> {
        match Attrs::new(buf).next() {
            Some(Ok(attr)) => Ok(attr.nested()),
            Some(Err(e)) => Err(e),
            None => Err(Error::new(0, ErrorKind::HeaderTruncated { available: 0 })),
        }
    }

    /// The bytes not walked yet: the whole payload for a fresh walk, as a
    /// table's data for [`BlobBuf::field`] or a request's arguments.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.rest
    }

    /// Offset of [`Attrs::as_bytes`] in the walked buffer.
    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The blobmsg fields, in order. A field whose name or value is
    /// malformed yields `Err` and the walk goes on; a broken attribute
    /// header ends it.
    pub fn fields(&self) -> impl Iterator<Item = Result<Field<'a>, Error>> + Clone + 'a {
        self.clone().map(|a| a.and_then(|a| a.blobmsg()))
    }

    /// The value of the first well-formed field called `name`; malformed
    /// fields are skipped.
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        self.fields()
            .filter_map(Result::ok)
            .find(|f| f.name == name)
            .map(|f| f.value)
    }

    /// Like [`Attrs::get`], but the first malformed attribute met before
    /// the field is an error.
    pub fn lookup(&self, name: &str) -> Result<Option<Value<'a>>, Error> {
        for f in self.fields() {
            let f = f?;
            if f.name == name {
                return Ok(Some(f.value));
            }
        }
        Ok(None)
    }

    pub fn get_str(&self, name: &str) -> Option<&'a str> {
        self.get(name)?.as_str()
    }

    /// An integer field of any width, sign-extended.
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.get(name)?.as_i64()
    }

    /// An integer field of any width, zero-extended.
    pub fn get_u64(&self, name: &str) -> Option<u64> {
        self.get(name)?.as_u64()
    }

    /// An integer field that fits in a `u32` (INT32 read as unsigned).
    pub fn get_u32(&self, name: &str) -> Option<u32> {
        u32::try_from(self.get(name)?.as_u64()?).ok()
    }

    pub fn get_bool(&self, name: &str) -> Option<bool> {
        self.get(name)?.as_bool()
    }

    pub fn get_f64(&self, name: &str) -> Option<f64> {
        self.get(name)?.as_f64()
    }

    pub fn get_table(&self, name: &str) -> Option<Attrs<'a>> {
        self.get(name)?.as_table()
    }

    pub fn get_array(&self, name: &str) -> Option<Attrs<'a>> {
        self.get(name)?.as_array()
    }

    /// Checks that every attribute, at every depth, is well-formed blobmsg.
    /// Returns the number of fields seen.
    pub fn check(&self) -> Result<usize, Error> {
        check_list(self, 0)
    }
}

fn check_list(attrs: &Attrs<'_>, depth: usize) -> Result<usize, Error> {
    if depth >= MAX_DEPTH {
        return Err(Error::new(attrs.offset(), ErrorKind::TooDeep));
    }
    let mut n = 0;
    for f in attrs.fields() {
        n += 1;
        if let Value::Table(inner) | Value::Array(inner) = f?.value {
            n += check_list(&inner, depth + 1)?;
        }
    }
    Ok(n)
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        let b = self.rest;
        let fail = |this: &mut Attrs<'a>, kind| {
            this.done = true;
            Some(Err(Error::new(this.offset, kind)))
        };
        let Some(word) = b.get(..ATTR_HDR_LEN) else {
            return fail(self, ErrorKind::HeaderTruncated { available: b.len() });
        };
        let word = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        let len = (word & LEN_MASK) as usize;
        if len < ATTR_HDR_LEN {
            return fail(self, ErrorKind::LengthTooShort { len });
        }
        if len > b.len() {
            return fail(
                self,
                ErrorKind::LengthBeyond {
                    len,
                    available: b.len(),
                },
            );
        }
        let attr = Attr {
            id: ((word & ID_MASK) >> ID_SHIFT) as u8,
            extended: word & EXTENDED != 0,
            data: &b[ATTR_HDR_LEN..len],
            offset: self.offset,
        };
        let step = align4(len).min(b.len());
        self.rest = &b[step..];
        self.offset += step;
        Some(Ok(attr))
    }
}

/// A blobmsg attribute: its name (empty in arrays) and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Field<'a> {
    pub name: &'a str,
    pub value: Value<'a>,
}

/// A blobmsg value, borrowed.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// Named children.
    Table(Attrs<'a>),
    /// Unnamed children.
    Array(Attrs<'a>),
    String(&'a str),
    Int64(i64),
    Int32(i32),
    Int16(i16),
    /// Also booleans.
    Int8(i8),
    Double(f64),
    /// UNSPEC (0) or a type this reader does not know (9–127), with its
    /// payload.
    Unknown(u8, &'a [u8]),
}

impl<'a> Value<'a> {
    /// `at`: offset of `payload`; `attr_at`: offset of the attribute
    /// (where errors point).
    fn decode(id: u8, payload: &'a [u8], at: usize, attr_at: usize) -> Result<Value<'a>, Error> {
        Ok(match id {
            1 => Value::Array(Attrs::with_offset(payload, at)),
            2 => Value::Table(Attrs::with_offset(payload, at)),
            3 => Value::String(c_string(payload, "blobmsg", attr_at)?),
            4 => Value::Int64(i64::from_be_bytes(exact(payload, "int64", attr_at)?)),
            5 => Value::Int32(i32::from_be_bytes(exact(payload, "int32", attr_at)?)),
            6 => Value::Int16(i16::from_be_bytes(exact(payload, "int16", attr_at)?)),
            7 => Value::Int8(i8::from_be_bytes(exact(payload, "int8", attr_at)?)),
            // libubox checks a double's minimum length only.
            8 => match payload.get(..8) {
                Some(b) => Value::Double(f64::from_bits(u64::from_be_bytes([
                    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                ]))),
                None => {
                    return Err(Error::new(
                        attr_at,
                        ErrorKind::BadLength {
                            what: "double",
                            len: payload.len(),
                        },
                    ))
                }
            },
            other => Value::Unknown(other, payload),
        })
    }

    /// The blobmsg type id of the value.
    pub fn type_id(&self) -> u8 {
        match self {
            Value::Array(_) => 1,
            Value::Table(_) => 2,
            Value::String(_) => 3,
            Value::Int64(_) => 4,
            Value::Int32(_) => 5,
            Value::Int16(_) => 6,
            Value::Int8(_) => 7,
            Value::Double(_) => 8,
            Value::Unknown(id, _) => *id,
        }
    }

    /// An integer of any width, sign-extended (`blobmsg_cast_s64`).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int64(v) => Some(v),
            Value::Int32(v) => Some(v.into()),
            Value::Int16(v) => Some(v.into()),
            Value::Int8(v) => Some(v.into()),
            _ => None,
        }
    }

    /// An integer of any width read as unsigned (`blobmsg_cast_u64`):
    /// an INT32 of -1 is 0xffff_ffff.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Int64(v) => Some(v as u64),
            Value::Int32(v) => Some(u64::from(v as u32)),
            Value::Int16(v) => Some(u64::from(v as u16)),
            Value::Int8(v) => Some(u64::from(v as u8)),
            _ => None,
        }
    }

    /// Any integer: non-zero is true.
    pub fn as_bool(&self) -> Option<bool> {
        self.as_i64().map(|v| v != 0)
    }

    /// A double, or an integer converted.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Double(v) => Some(v),
            _ => self.as_i64().map(|v| v as f64),
        }
    }

    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_table(&self) -> Option<Attrs<'a>> {
        match self {
            Value::Table(t) => Some(t.clone()),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<Attrs<'a>> {
        match self {
            Value::Array(a) => Some(a.clone()),
            _ => None,
        }
    }
}

/// Where a nested attribute started, to close it ([`BlobBuf::nest_end`],
/// [`BlobBuf::table_end`], [`BlobBuf::array_end`]).
#[must_use = "a nested attribute must be closed with its mark"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark(usize);

/// A reusable builder of one container attribute (id 0, like libubox's
/// `blob_buf_init(&b, 0)`), holding plain blob attributes (ubus message
/// attributes) or blobmsg fields.
///
/// The bytes are laid out exactly as libubox lays them out, so messages
/// built here are byte-identical to libubus's. Building never panics: an
/// attribute beyond the format's limits (a 16 MiB attribute, a 64 KiB
/// name) or a mark used out of order marks the buffer invalid
/// ([`BlobBuf::is_valid`]) instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobBuf {
    buf: Vec<u8>,
    valid: bool,
}

impl Default for BlobBuf {
    fn default() -> Self {
        BlobBuf::new()
    }
}

impl BlobBuf {
    pub fn new() -> BlobBuf {
        BlobBuf::with_capacity(256)
    }

    pub fn with_capacity(capacity: usize) -> BlobBuf {
        let mut b = BlobBuf {
            buf: Vec::with_capacity(capacity.max(ATTR_HDR_LEN)),
            valid: true,
        };
        b.clear();
        b
    }

    /// Empties the buffer (an empty container), keeping its allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.buf
            .extend_from_slice(&(ATTR_HDR_LEN as u32).to_be_bytes());
        self.valid = true;
    }

    /// The container attribute: header and children.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The children only (for a request's arguments, a table's data).
    pub fn payload(&self) -> &[u8] {
        &self.buf[ATTR_HDR_LEN..]
    }

    /// The children, read back.
    pub fn attrs(&self) -> Attrs<'_> {
        Attrs::with_offset(self.payload(), ATTR_HDR_LEN)
    }

    /// Length of the container, header included.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// No children.
    pub fn is_empty(&self) -> bool {
        self.buf.len() == ATTR_HDR_LEN
    }

    /// False when an attribute exceeded the format's limits or a mark was
    /// misused: the bytes must not be sent.
    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// Starts an attribute: its header (length filled in by `finish`) and,
    /// for blobmsg, the name header. Returns where it starts.
    fn begin(&mut self, id: u8, name: Option<&str>) -> usize {
        let at = self.buf.len();
        let mut word = (u32::from(id) << ID_SHIFT) & ID_MASK;
        if name.is_some() {
            word |= EXTENDED;
        }
        self.buf.extend_from_slice(&word.to_be_bytes());
        if let Some(name) = name {
            // C takes the name up to its first NUL (strlen).
            let mut name = name.split('\0').next().unwrap_or("");
            if name.len() > usize::from(u16::MAX) {
                self.valid = false;
                let mut end = usize::from(u16::MAX);
                while !name.is_char_boundary(end) {
                    end -= 1;
                }
                name = &name[..end];
            }
            self.buf
                .extend_from_slice(&(name.len() as u16).to_be_bytes());
            self.buf.extend_from_slice(name.as_bytes());
            self.buf.push(0);
            self.pad();
        }
        at
    }

    /// Writes the length of the attribute started at `at` (everything
    /// after it), pads it, and updates the container's length.
    fn finish(&mut self, at: usize) {
        let len = self.buf.len() - at;
        if len > MAX_ATTR_LEN {
            self.valid = false;
        }
        self.set_len(at, len);
        self.pad();
        let total = self.buf.len();
        if total > MAX_ATTR_LEN {
            self.valid = false;
        }
        self.set_len(0, total);
    }

    fn set_len(&mut self, at: usize, len: usize) {
        if let Some(h) = self.buf.get_mut(at..at + ATTR_HDR_LEN) {
            let word = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
            let word = (word & !LEN_MASK) | (len as u32 & LEN_MASK);
            h.copy_from_slice(&word.to_be_bytes());
        }
    }

    fn pad(&mut self) {
        self.buf.resize(align4(self.buf.len()), 0);
    }

    /// A plain attribute with `payload` (`blob_put`).
    pub fn put(&mut self, id: u8, payload: &[u8]) {
        let at = self.begin(id, None);
        self.buf.extend_from_slice(payload);
        self.finish(at);
    }

    pub fn put_u8(&mut self, id: u8, value: u8) {
        self.put(id, &[value]);
    }

    pub fn put_u16(&mut self, id: u8, value: u16) {
        self.put(id, &value.to_be_bytes());
    }

    pub fn put_u32(&mut self, id: u8, value: u32) {
        self.put(id, &value.to_be_bytes());
    }

    /// A NUL-terminated string (`blob_put_string`); C readers stop at
    /// the first NUL, so the string is cut there.
    pub fn put_string(&mut self, id: u8, value: &str) {
        let value = value.split('\0').next().unwrap_or("");
        let at = self.begin(id, None);
        self.buf.extend_from_slice(value.as_bytes());
        self.buf.push(0);
        self.finish(at);
    }

    /// Opens a plain nested attribute (`blob_nest_start`).
    pub fn nest_start(&mut self, id: u8) -> Mark {
        Mark(self.begin(id, None))
    }

    /// Closes the nested attribute `mark` opened (any kind).
    pub fn nest_end(&mut self, mark: Mark) {
        if mark.0 + ATTR_HDR_LEN > self.buf.len() || mark.0 % 4 != 0 {
            self.valid = false;
            return;
        }
        self.finish(mark.0);
    }

    /// Opens a blobmsg table (`blobmsg_open_table`); `name` is "" inside
    /// arrays.
    pub fn table_start(&mut self, name: &str) -> Mark {
        Mark(self.begin(BlobmsgType::Table.id(), Some(name)))
    }

    pub fn table_end(&mut self, mark: Mark) {
        self.nest_end(mark);
    }

    /// Opens a blobmsg array (`blobmsg_open_array`).
    pub fn array_start(&mut self, name: &str) -> Mark {
        Mark(self.begin(BlobmsgType::Array.id(), Some(name)))
    }

    pub fn array_end(&mut self, mark: Mark) {
        self.nest_end(mark);
    }

    /// A blobmsg field with a raw value (`blobmsg_add_field`); for a
    /// table or an array, `value` is the children's bytes.
    pub fn field(&mut self, kind: BlobmsgType, name: &str, value: &[u8]) {
        let at = self.begin(kind.id(), Some(name));
        self.buf.extend_from_slice(value);
        self.finish(at);
    }

    /// `blobmsg_add_string`; cut at the first NUL like C.
    pub fn string(&mut self, name: &str, value: &str) {
        let value = value.split('\0').next().unwrap_or("");
        let at = self.begin(BlobmsgType::String.id(), Some(name));
        self.buf.extend_from_slice(value.as_bytes());
        self.buf.push(0);
        self.finish(at);
    }

    pub fn int64(&mut self, name: &str, value: i64) {
        self.field(BlobmsgType::Int64, name, &value.to_be_bytes());
    }

    pub fn int32(&mut self, name: &str, value: i32) {
        self.field(BlobmsgType::Int32, name, &value.to_be_bytes());
    }

    pub fn int16(&mut self, name: &str, value: i16) {
        self.field(BlobmsgType::Int16, name, &value.to_be_bytes());
    }

    pub fn int8(&mut self, name: &str, value: i8) {
        self.field(BlobmsgType::Int8, name, &value.to_be_bytes());
    }

    /// INT8 0 or 1 (`blobmsg_add_u8` of a bool).
    pub fn bool(&mut self, name: &str, value: bool) {
        self.field(BlobmsgType::Int8, name, &[u8::from(value)]);
    }

    pub fn double(&mut self, name: &str, value: f64) {
        self.field(BlobmsgType::Double, name, &value.to_bits().to_be_bytes());
    }

    /// Adds a decoded value under `name` (tables and arrays are copied as
    /// their bytes).
    pub fn value(&mut self, name: &str, value: &Value<'_>) {
        match value {
            Value::Table(t) => self.field(BlobmsgType::Table, name, t.as_bytes()),
            Value::Array(a) => self.field(BlobmsgType::Array, name, a.as_bytes()),
            Value::String(s) => self.string(name, s),
            Value::Int64(v) => self.int64(name, *v),
            Value::Int32(v) => self.int32(name, *v),
            Value::Int16(v) => self.int16(name, *v),
            Value::Int8(v) => self.int8(name, *v),
            Value::Double(v) => self.double(name, *v),
            Value::Unknown(id, bytes) => {
                let at = self.begin(*id, Some(name));
                self.buf.extend_from_slice(bytes);
                self.finish(at);
            }
        }
    }
}

/// Renders a blobmsg table as compact JSON, like `ubus -S call`:
/// `{"a":1,"b":[true,"x"]}`. Types follow libubox's `blobmsg_format_json`:
/// INT8 is a boolean, doubles have six decimals, UNSPEC and unknown types
/// are `null` (and non-finite doubles too, to stay valid JSON).
///
/// On a malformed attribute the output so far is left in `out` and the
/// error returned.
pub fn to_json(table: Attrs<'_>, out: &mut String) -> Result<(), Error> {
    write_list(out, &table, false, None, 0)
}

/// Like [`to_json`], indented with tabs as `ubus call` prints it.
pub fn to_json_indented(table: Attrs<'_>, out: &mut String) -> Result<(), Error> {
    write_list(out, &table, false, Some(0), 0)
}

/// Renders a blobmsg array as JSON (`[...]`), compact.
pub fn array_to_json(array: Attrs<'_>, out: &mut String) -> Result<(), Error> {
    write_list(out, &array, true, None, 0)
}

fn separator(out: &mut String, indent: Option<usize>) {
    if let Some(level) = indent {
        out.push('\n');
        // libubox caps the indentation at 16 tabs.
        for _ in 0..level.min(16) {
            out.push('\t');
        }
    }
}

fn write_list(
    out: &mut String,
    list: &Attrs<'_>,
    array: bool,
    indent: Option<usize>,
    depth: usize,
) -> Result<(), Error> {
    if depth >= MAX_DEPTH {
        return Err(Error::new(list.offset(), ErrorKind::TooDeep));
    }
    let inner = indent.map(|l| l + 1);
    out.push(if array { '[' } else { '{' });
    separator(out, inner);
    for (i, field) in list.fields().enumerate() {
        let field = field?;
        if i > 0 {
            out.push(',');
            separator(out, inner);
        }
        if !array {
            write_string(out, field.name);
            out.push_str(if indent.is_some() { ": " } else { ":" });
        }
        match field.value {
            Value::Table(t) => write_list(out, &t, false, inner, depth + 1)?,
            Value::Array(a) => write_list(out, &a, true, inner, depth + 1)?,
            Value::String(s) => write_string(out, s),
            Value::Int64(v) => out.push_str(&v.to_string()),
            Value::Int32(v) => out.push_str(&v.to_string()),
            Value::Int16(v) => out.push_str(&v.to_string()),
            Value::Int8(v) => out.push_str(if v != 0 { "true" } else { "false" }),
            Value::Double(v) if v.is_finite() => out.push_str(&format!("{v:.6}")),
            Value::Double(_) | Value::Unknown(..) => out.push_str("null"),
        }
    }
    separator(out, indent);
    out.push(if array { ']' } else { '}' });
    Ok(())
}

/// A JSON string, escaped as libubox does: `\b \n \t \r \" \\` and
/// `\u00xx` for the other control characters.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn json(b: &BlobBuf) -> String {
        let mut s = String::new();
        to_json(b.attrs(), &mut s).unwrap();
        s
    }

    #[test]
    fn golden_plain_attributes() {
        // blob_buf_init(&b, 0); blob_put_int32(&b, 3, 0x01020304);
        // blob_put_string(&b, 4, "ab"); blob_put_int8(&b, 10, 1);
        let mut b = BlobBuf::new();
        b.put_u32(3, 0x0102_0304);
        b.put_string(4, "ab");
        b.put_u8(10, 1);
        #[rustfmt::skip]
        let want = [
            0x00, 0x00, 0x00, 0x1c,             // container: id 0, 4 + 24 bytes
            0x03, 0x00, 0x00, 0x08,             // id 3, 4 + 4
            0x01, 0x02, 0x03, 0x04,
            0x04, 0x00, 0x00, 0x07,             // id 4, 4 + "ab\0"
            b'a', b'b', 0x00, 0x00,             //   + 1 byte of padding
            0x0a, 0x00, 0x00, 0x05,             // id 10, 4 + 1
            0x01, 0x00, 0x00, 0x00,             //   + 3 bytes of padding
        ];
        assert_eq!(b.as_bytes(), want);
        let attrs: Vec<Attr> = b.attrs().map(Result::unwrap).collect();
        assert_eq!(attrs.len(), 3);
        assert_eq!((attrs[0].id, attrs[0].u32().unwrap()), (3, 0x0102_0304));
        assert_eq!(attrs[1].string().unwrap(), "ab");
        assert_eq!(attrs[2].u8().unwrap(), 1);
        assert_eq!(attrs[2].offset, 20);
        assert!(!attrs[0].extended);
    }

    #[test]
    fn golden_nested_plain() {
        // blob_nest_start(&b, 11); blob_put_int32(&b, 0, 7); blob_nest_end
        let mut b = BlobBuf::new();
        let m = b.nest_start(11);
        b.put_u32(0, 7);
        b.nest_end(m);
        #[rustfmt::skip]
        let want = [
            0x00, 0x00, 0x00, 0x10,
            0x0b, 0x00, 0x00, 0x0c,             // id 11, 4 + one 8-byte child
            0x00, 0x00, 0x00, 0x08,
            0x00, 0x00, 0x00, 0x07,
        ];
        assert_eq!(b.as_bytes(), want);
        let outer = b.attrs().next().unwrap().unwrap();
        let inner: Vec<u32> = outer.nested().map(|a| a.unwrap().u32().unwrap()).collect();
        assert_eq!(inner, [7]);
    }

    #[test]
    fn golden_blobmsg_scalars() {
        // blobmsg_add_u32(&b, "id", 0x2a); blobmsg_add_string(&b, "path", "x");
        // blobmsg_add_u8(&b, "b", 1); blobmsg_add_u16(&b, "s", 0xfffe);
        // blobmsg_add_u64(&b, "big", 1 << 40); blobmsg_add_double(&b, "d", 1.5);
        let mut b = BlobBuf::new();
        b.int32("id", 0x2a);
        b.string("path", "x");
        b.bool("b", true);
        b.int16("s", -2);
        b.int64("big", 1 << 40);
        b.double("d", 1.5);
        #[rustfmt::skip]
        let want: Vec<u8> = vec![
            0x00, 0x00, 0x00, 0x60,
            // INT32 "id": name header 2 + 2 + NUL = 5 -> 8; value 4
            0x85, 0x00, 0x00, 0x10,
            0x00, 0x02, b'i', b'd', 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x2a,
            // STRING "path" = "x": 2 + 4 + 1 = 7 -> 8; "x\0" = 2 -> len 14, padded 16
            0x83, 0x00, 0x00, 0x0e,
            0x00, 0x04, b'p', b'a', b't', b'h', 0x00, 0x00,
            b'x', 0x00, 0x00, 0x00,
            // INT8 "b": 2 + 1 + 1 = 4; value 1 -> len 9, padded 12
            0x87, 0x00, 0x00, 0x09,
            0x00, 0x01, b'b', 0x00,
            0x01, 0x00, 0x00, 0x00,
            // INT16 "s": len 10, padded 12
            0x86, 0x00, 0x00, 0x0a,
            0x00, 0x01, b's', 0x00,
            0xff, 0xfe, 0x00, 0x00,
            // INT64 "big": 2 + 3 + 1 = 6 -> 8; len 20
            0x84, 0x00, 0x00, 0x14,
            0x00, 0x03, b'b', b'i', b'g', 0x00, 0x00, 0x00,
            0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
            // DOUBLE "d" = 1.5 = 0x3ff8000000000000; len 16
            0x88, 0x00, 0x00, 0x10,
            0x00, 0x01, b'd', 0x00,
            0x3f, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(b.as_bytes(), &want[..]);
        let t = b.attrs();
        assert_eq!(t.get_u32("id"), Some(42));
        assert_eq!(t.get_str("path"), Some("x"));
        assert_eq!(t.get_bool("b"), Some(true));
        assert_eq!(t.get_i64("s"), Some(-2));
        assert_eq!(t.get_u64("s"), Some(0xfffe));
        assert_eq!(t.get_i64("big"), Some(1 << 40));
        assert_eq!(t.get_f64("d"), Some(1.5));
        assert_eq!(t.get("nope"), None);
        assert_eq!(t.check(), Ok(6));
        assert_eq!(
            json(&b),
            r#"{"id":42,"path":"x","b":true,"s":-2,"big":1099511627776,"d":1.500000}"#
        );
    }

    #[test]
    fn golden_blobmsg_nested() {
        // t = blobmsg_open_table(&b, "t"); a = blobmsg_open_array(&b, "a");
        // blobmsg_add_u32(&b, NULL, 1); blobmsg_close_array(&b, a);
        // blobmsg_close_table(&b, t); blobmsg_open_table(&b, "e"); close
        let mut b = BlobBuf::new();
        let t = b.table_start("t");
        let a = b.array_start("a");
        b.int32("", 1);
        b.array_end(a);
        b.table_end(t);
        let e = b.table_start("e");
        b.table_end(e);
        #[rustfmt::skip]
        let want = [
            0x00, 0x00, 0x00, 0x28,
            0x82, 0x00, 0x00, 0x1c,             // TABLE "t": 4 + 4 + 20
            0x00, 0x01, b't', 0x00,
            0x81, 0x00, 0x00, 0x14,             // ARRAY "a": 4 + 4 + 12
            0x00, 0x01, b'a', 0x00,
            0x85, 0x00, 0x00, 0x0c,             // INT32 "": 2 + 0 + 1 -> 4; + 4
            0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x01,
            0x82, 0x00, 0x00, 0x08,             // empty TABLE "e"
            0x00, 0x01, b'e', 0x00,
        ];
        assert_eq!(b.as_bytes(), want);
        let t = b.attrs().get_table("t").unwrap();
        let a = t.get_array("a").unwrap();
        let items: Vec<_> = a.fields().map(|f| f.unwrap()).collect();
        assert_eq!(items.len(), 1);
        assert_eq!((items[0].name, items[0].value.as_i64()), ("", Some(1)));
        assert_eq!(items[0].value.type_id(), BlobmsgType::Int32.id());
        assert!(b.attrs().get_table("e").unwrap().is_empty());
        assert_eq!(json(&b), r#"{"t":{"a":[1]},"e":{}}"#);
        // Offsets are absolute in the buffer walked.
        let first = a.clone().next().unwrap().unwrap();
        assert_eq!(first.offset, 20);
    }

    #[test]
    fn json_like_the_ubus_command() {
        let mut b = BlobBuf::new();
        b.string("s", "q\"\\\n\t\r\u{8}\u{1}\u{1f}é");
        b.int32("neg", -70);
        b.bool("f", false);
        let a = b.array_start("list");
        b.string("", "x");
        b.int16("", 3);
        b.array_end(a);
        let t = b.table_start("empty");
        b.table_end(t);
        b.double("nan", f64::NAN);
        b.field(BlobmsgType::Unspec, "u", &[]);
        let mut s = String::new();
        to_json(b.attrs(), &mut s).unwrap();
        assert_eq!(
            s,
            r#"{"s":"q\"\\\n\t\r\b\u0001\u001fé","neg":-70,"f":false,"list":["x",3],"empty":{},"nan":null,"u":null}"#
        );
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["s"], "q\"\\\n\t\r\u{8}\u{1}\u{1f}é");
        // `ubus call` layout: tabs, ": ", and libubox's odd empty table.
        let mut b = BlobBuf::new();
        b.int32("a", 1);
        let t = b.table_start("t");
        b.string("x", "y");
        b.table_end(t);
        let e = b.table_start("e");
        b.table_end(e);
        let mut s = String::new();
        to_json_indented(b.attrs(), &mut s).unwrap();
        assert_eq!(
            s,
            "{\n\t\"a\": 1,\n\t\"t\": {\n\t\t\"x\": \"y\"\n\t},\n\t\"e\": {\n\t\t\n\t}\n}"
        );
        let mut s = String::new();
        to_json(BlobBuf::new().attrs(), &mut s).unwrap();
        assert_eq!(s, "{}");
    }

    #[test]
    fn malformed_attributes_name_their_offset() {
        let mut b = BlobBuf::new();
        b.int32("a", 1);
        b.string("s", "x");
        let good = b.payload().to_vec();

        // Truncated header: 2 stray bytes after the last attribute.
        let mut m = good.clone();
        m.extend_from_slice(&[0, 0]);
        let errs: Vec<_> = Attrs::new(&m).filter_map(Result::err).collect();
        assert_eq!(
            errs,
            [Error::new(
                good.len(),
                ErrorKind::HeaderTruncated { available: 2 }
            )]
        );

        // A length below the header's, then one past the end.
        let mut m = good.clone();
        m[3] = 2;
        assert_eq!(
            Attrs::new(&m).next(),
            Some(Err(Error::new(0, ErrorKind::LengthTooShort { len: 2 })))
        );
        m[3] = 200;
        let e = Attrs::with_offset(&m, 100).next().unwrap().unwrap_err();
        assert_eq!(e.offset, 100);
        assert_eq!(
            e.kind,
            ErrorKind::LengthBeyond {
                len: 200,
                available: good.len()
            }
        );
        assert_eq!(
            e.to_string(),
            "ubus: attribute length 200 runs past its container (24 bytes left) at byte 100"
        );

        // A field error does not end the walk of a table.
        let mut m = good.clone();
        m[3] = 0x0b; // INT32 with a 3-byte value
        let fields: Vec<_> = Attrs::new(&m).fields().collect();
        assert_eq!(
            fields[0],
            Err(Error::new(
                0,
                ErrorKind::BadLength {
                    what: "int32",
                    len: 3
                }
            ))
        );
        assert!(fields[1].is_ok());
        assert_eq!(Attrs::new(&m).get_str("s"), Some("x"));
        assert!(Attrs::new(&m).lookup("s").is_err());
        assert!(Attrs::new(&m).check().is_err());

        // A string without its NUL, a name without its NUL, a name too long.
        let mut m = good.clone();
        m[good.len() - 3] = b'y';
        assert_eq!(
            Attrs::new(&m).fields().nth(1).unwrap().unwrap_err().kind,
            ErrorKind::NotTerminated { what: "blobmsg" }
        );
        let mut m = good.clone();
        m[7] = b'z';
        assert_eq!(
            Attrs::new(&m).fields().next().unwrap().unwrap_err().kind,
            ErrorKind::NameNotTerminated
        );
        let mut m = good.clone();
        m[4] = 0x40;
        assert_eq!(
            Attrs::new(&m).fields().next().unwrap().unwrap_err().kind,
            ErrorKind::NameTruncated
        );
        let mut m = good.clone();
        m[6] = 0xff;
        assert_eq!(
            Attrs::new(&m).fields().next().unwrap().unwrap_err().kind,
            ErrorKind::NameNotUtf8
        );
        let mut s = String::new();
        assert!(to_json(Attrs::new(&m), &mut s).is_err());
        assert_eq!(s, "{");
    }

    #[test]
    fn unknown_types_and_plain_attrs_in_arrays() {
        let mut b = BlobBuf::new();
        b.field(BlobmsgType::Unspec, "x", b"ab");
        b.put_u32(BlobmsgType::Int32.id(), 9); // non-extended: no name
        let mut raw = b.payload().to_vec();
        raw[0] = 0x80 | 42; // a type from the future
        let f: Vec<_> = Attrs::new(&raw).fields().map(Result::unwrap).collect();
        assert_eq!(f[0].value, Value::Unknown(42, b"ab"));
        assert_eq!((f[1].name, f[1].value.as_i64()), ("", Some(9)));
        let mut s = String::new();
        array_to_json(Attrs::new(&raw), &mut s).unwrap();
        assert_eq!(s, "[null,9]");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut b = BlobBuf::new();
        let marks: Vec<Mark> = (0..MAX_DEPTH + 5).map(|_| b.array_start("")).collect();
        for m in marks.into_iter().rev() {
            b.array_end(m);
        }
        assert_eq!(b.attrs().check().unwrap_err().kind, ErrorKind::TooDeep);
        let mut s = String::new();
        assert_eq!(
            to_json(b.attrs(), &mut s).unwrap_err().kind,
            ErrorKind::TooDeep
        );
    }

    #[test]
    fn builder_limits_and_misuse_mark_the_buffer_invalid() {
        let mut b = BlobBuf::new();
        b.string(&"n".repeat(70_000), "v");
        assert!(!b.is_valid());
        // The name was cut to fit: the bytes still parse.
        assert_eq!(b.attrs().check(), Ok(1));
        b.clear();
        assert!(b.is_valid() && b.is_empty());
        b.nest_end(Mark(400));
        assert!(!b.is_valid());
        b.clear();
        b.put(1, &vec![0; MAX_ATTR_LEN]);
        assert!(!b.is_valid());
        // Strings are cut at a NUL, as C reads them.
        let mut b = BlobBuf::new();
        b.string("a\0b", "x\0y");
        b.put_string(3, "p\0q");
        let f = b.attrs().fields().next().unwrap().unwrap();
        assert_eq!((f.name, f.value), ("a", Value::String("x")));
        assert_eq!(b.attrs().nth(1).unwrap().unwrap().string(), Ok("p"));
    }

    #[test]
    fn clear_keeps_the_allocation() {
        let mut b = BlobBuf::new();
        for i in 0..100 {
            b.int32("n", i);
        }
        let cap = b.buf.capacity();
        b.clear();
        b.int32("n", 1);
        assert_eq!(b.buf.capacity(), cap);
        assert_eq!(b.as_bytes().len(), 16);
    }

    /// A blobmsg value tree for the round-trip property.
    #[derive(Debug, Clone, PartialEq)]
    enum Tree {
        Table(Vec<(String, Tree)>),
        Array(Vec<Tree>),
        Str(String),
        I64(i64),
        I32(i32),
        I16(i16),
        I8(i8),
        F64(f64),
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![
            "[^\u{0}]{0,12}".prop_map(Tree::Str),
            any::<i64>().prop_map(Tree::I64),
            any::<i32>().prop_map(Tree::I32),
            any::<i16>().prop_map(Tree::I16),
            any::<i8>().prop_map(Tree::I8),
            any::<f64>()
                .prop_filter("NaN != NaN", |f| !f.is_nan())
                .prop_map(Tree::F64),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(("[a-z0-9_.-]{1,10}", inner.clone()), 0..6)
                    .prop_map(Tree::Table),
                proptest::collection::vec(inner, 0..6).prop_map(Tree::Array),
            ]
        })
    }

    fn put(b: &mut BlobBuf, name: &str, t: &Tree) {
        match t {
            Tree::Table(items) => {
                let m = b.table_start(name);
                for (k, v) in items {
                    put(b, k, v);
                }
                b.table_end(m);
            }
            Tree::Array(items) => {
                let m = b.array_start(name);
                for v in items {
                    put(b, "", v);
                }
                b.array_end(m);
            }
            Tree::Str(s) => b.string(name, s),
            Tree::I64(v) => b.int64(name, *v),
            Tree::I32(v) => b.int32(name, *v),
            Tree::I16(v) => b.int16(name, *v),
            Tree::I8(v) => b.int8(name, *v),
            Tree::F64(v) => b.double(name, *v),
        }
    }

    fn read(v: &Value) -> Tree {
        let list = |a: &Attrs| -> Vec<(String, Tree)> {
            a.fields()
                .map(|f| {
                    let f = f.unwrap();
                    (f.name.to_string(), read(&f.value))
                })
                .collect()
        };
        match v {
            Value::Table(a) => Tree::Table(list(a)),
            Value::Array(a) => Tree::Array(list(a).into_iter().map(|(_, t)| t).collect()),
            Value::String(s) => Tree::Str(s.to_string()),
            Value::Int64(v) => Tree::I64(*v),
            Value::Int32(v) => Tree::I32(*v),
            Value::Int16(v) => Tree::I16(*v),
            Value::Int8(v) => Tree::I8(*v),
            Value::Double(v) => Tree::F64(*v),
            Value::Unknown(..) => panic!("unknown value"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// Whatever is built reads back the same, every container's
        /// length is padded, the JSON is valid, and copying values through
        /// `BlobBuf::value` gives the same bytes.
        #[test]
        fn round_trip(items in proptest::collection::vec(("[a-z]{1,8}", tree()), 0..8)) {
            let mut b = BlobBuf::new();
            for (k, v) in &items {
                put(&mut b, k, v);
            }
            prop_assert!(b.is_valid());
            prop_assert_eq!(b.len() % 4, 0);
            let back: Vec<(String, Tree)> = b
                .attrs()
                .fields()
                .map(|f| {
                    let f = f.unwrap();
                    (f.name.to_string(), read(&f.value))
                })
                .collect();
            prop_assert_eq!(&back, &items);
            let mut s = String::new();
            to_json(b.attrs(), &mut s).unwrap();
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(&s);
            prop_assert!(parsed.is_ok(), "{}", s);
            let mut s = String::new();
            to_json_indented(b.attrs(), &mut s).unwrap();
            prop_assert!(serde_json::from_str::<serde_json::Value>(&s).is_ok(), "{}", s);

            let mut copy = BlobBuf::new();
            for f in b.attrs().fields() {
                let f = f.unwrap();
                copy.value(f.name, &f.value);
            }
            prop_assert_eq!(copy.as_bytes(), b.as_bytes());
            prop_assert_eq!(Attrs::container(b.as_bytes()).unwrap().as_bytes(), b.payload());
        }

        /// Arbitrary and mutated bytes never panic any reader.
        #[test]
        fn never_panics(
            items in proptest::collection::vec(("[a-z]{1,4}", tree()), 0..4),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
            cut in any::<usize>(),
            junk in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut b = BlobBuf::new();
            for (k, v) in &items {
                put(&mut b, k, v);
            }
            let mut m = b.payload().to_vec();
            m.extend_from_slice(&junk);
            for (at, v) in flips {
                if !m.is_empty() {
                    let at = at % m.len();
                    m[at] = v;
                }
            }
            let m = &m[..cut % (m.len() + 1)];
            for input in [m, &junk[..]] {
                let attrs = Attrs::new(input);
                let _ = attrs.check();
                let mut s = String::new();
                if to_json(attrs.clone(), &mut s).is_ok() {
                    prop_assert!(serde_json::from_str::<serde_json::Value>(&s).is_ok(), "{}", s);
                }
                let _ = to_json_indented(attrs.clone(), &mut s);
                let _ = array_to_json(attrs.clone(), &mut s);
                for a in attrs.clone().flatten() {
                    prop_assert!(a.offset + 4 + a.data.len() <= input.len());
                    let _ = (a.u8(), a.u16(), a.u32(), a.u64(), a.string());
                    let _ = a.nested().check();
                }
                let _ = attrs.get("a");
                let _ = Attrs::container(input);
            }
        }
    }
}
