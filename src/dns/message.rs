//! The DNS message (RFC 1035 §4.1): a zero-copy view of a received message,
//! the records wsflowd reads from it (SRV, TXT, CNAME, SOA, A, AAAA), and
//! the query it sends.
//!
//! Every reader here is total over untrusted bytes: it returns an [`Error`]
//! naming the offset, never panics, and does a bounded amount of work
//! whatever the counts in the header say (each record takes at least 11
//! bytes of the message, so a count larger than the message can hold ends
//! in [`ErrorKind::Truncated`]). Names are decompressed into a fixed
//! 255-byte buffer ([`Name`]); a compression pointer must point strictly
//! before every place the name was read from so far, so a loop of pointers
//! cannot exist, and at most [`MAX_POINTERS`] are followed.
//!
//! ```text
//! header (12 bytes): id, flags (QR opcode AA TC RD | RA Z rcode), QDCOUNT,
//!                    ANCOUNT, NSCOUNT, ARCOUNT
//! question:          name, type, class
//! record:            name, type, class, TTL (32), RDLENGTH (16), RDATA
//! ```

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Bytes of the header.
pub const HEADER_LEN: usize = 12;
/// Bytes of a name in wire form, the root's zero byte included (RFC 1035
/// §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Bytes of one label.
pub const MAX_LABEL_LEN: usize = 63;
/// Compression pointers followed in one name at most (a name of 255 bytes
/// has at most 127 labels, each of which could end a suffix).
pub const MAX_POINTERS: usize = 128;
/// Bytes of the fixed part of a record after its name: type, class, TTL,
/// RDLENGTH.
const RECORD_FIXED_LEN: usize = 10;

/// Record types read or sent.
pub mod rtype {
    pub const A: u16 = 1;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    /// EDNS(0)'s pseudo-record (RFC 6891).
    pub const OPT: u16 = 41;

    /// The type's mnemonic, for messages.
    pub fn name(t: u16) -> &'static str {
        match t {
            A => "A",
            CNAME => "CNAME",
            SOA => "SOA",
            TXT => "TXT",
            AAAA => "AAAA",
            SRV => "SRV",
            OPT => "OPT",
            _ => "other",
        }
    }
}

/// The Internet class.
pub const CLASS_IN: u16 = 1;

/// Response codes (the header's low 4 bits).
pub mod rcode {
    pub const NOERROR: u8 = 0;
    pub const FORMERR: u8 = 1;
    pub const SERVFAIL: u8 = 2;
    pub const NXDOMAIN: u8 = 3;
    pub const NOTIMP: u8 = 4;
    pub const REFUSED: u8 = 5;

    /// The code's mnemonic, for messages.
    pub fn name(code: u8) -> &'static str {
        match code {
            NOERROR => "NOERROR",
            FORMERR => "FORMERR",
            SERVFAIL => "SERVFAIL",
            NXDOMAIN => "NXDOMAIN",
            NOTIMP => "NOTIMP",
            REFUSED => "REFUSED",
            _ => "an unknown response code",
        }
    }
}

/// What is wrong with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The message ends before what it announces (a header, a name, a
    /// record, the records its counts promise).
    Truncated,
    /// A compression pointer that does not point before every place the
    /// name was read from (a loop, or a forward reference).
    BadPointer,
    /// More than [`MAX_POINTERS`] pointers in one name.
    TooManyPointers,
    /// A label type other than a plain label or a pointer (0x40, 0x80).
    LabelType,
    /// A name longer than [`MAX_NAME_LEN`] bytes once decompressed.
    NameTooLong,
    /// The RDATA of a record does not have the length its type calls for.
    BadRdata,
    /// Not one question in a response.
    QuestionCount,
}

/// An error and the offset in the message where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub offset: usize,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::Truncated => "the message ends early",
            ErrorKind::BadPointer => "a compression pointer that does not point backwards",
            ErrorKind::TooManyPointers => "too many compression pointers in one name",
            ErrorKind::LabelType => "an unknown label type",
            ErrorKind::NameTooLong => "a name longer than 255 bytes",
            ErrorKind::BadRdata => "record data of the wrong length",
            ErrorKind::QuestionCount => "not one question",
        };
        write!(f, "malformed DNS message: {what} at byte {}", self.offset)
    }
}

fn error<T>(kind: ErrorKind, offset: usize) -> Result<T, Error> {
    Err(Error { kind, offset })
}

fn u16_at(bytes: &[u8], at: usize) -> Result<u16, Error> {
    match bytes.get(at..at.saturating_add(2)) {
        Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
        _ => error(ErrorKind::Truncated, at),
    }
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32, Error> {
    match bytes.get(at..at.saturating_add(4)) {
        Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
        _ => error(ErrorKind::Truncated, at),
    }
}

/// A domain name, decompressed, in wire form (length-prefixed labels and
/// the root's zero byte) in a fixed buffer: no allocation.
#[derive(Clone, Copy)]
pub struct Name {
    /// Bytes used in `wire`, the final zero included once complete.
    len: u8,
    wire: [u8; MAX_NAME_LEN],
}

impl Name {
    /// The root name, `.`.
    pub fn root() -> Name {
        Name {
            len: 1,
            wire: [0; MAX_NAME_LEN],
        }
    }

    fn empty() -> Name {
        Name {
            len: 0,
            wire: [0; MAX_NAME_LEN],
        }
    }

    /// A name from its text, `example.net` or `example.net.`: labels of 1
    /// to 63 bytes taken as they are (no escapes), 255 bytes in wire form
    /// at most. `None` for an empty label or a name too long.
    pub fn from_text(text: &str) -> Option<Name> {
        let mut name = Name::empty();
        let text = text.strip_suffix('.').unwrap_or(text);
        if !text.is_empty() {
            for label in text.split('.') {
                if label.is_empty() || label.len() > MAX_LABEL_LEN {
                    return None;
                }
                name.push_label(label.as_bytes()).ok()?;
            }
        }
        name.push_root().ok()?;
        Some(name)
    }

    fn push_label(&mut self, label: &[u8]) -> Result<(), ErrorKind> {
        let at = usize::from(self.len);
        // Room for the length byte, the label, and the root's byte after.
        if at + 1 + label.len() + 1 > MAX_NAME_LEN {
            return Err(ErrorKind::NameTooLong);
        }
        // A label is at most 63 bytes: it fits the length byte.
        self.wire[at] = label.len() as u8;
        self.wire[at + 1..at + 1 + label.len()].copy_from_slice(label);
        self.len = (at + 1 + label.len()) as u8;
        Ok(())
    }

    fn push_root(&mut self) -> Result<(), ErrorKind> {
        let at = usize::from(self.len);
        if at + 1 > MAX_NAME_LEN {
            return Err(ErrorKind::NameTooLong);
        }
        self.wire[at] = 0;
        self.len = (at + 1) as u8;
        Ok(())
    }

    /// The name in wire form, uncompressed.
    pub fn as_wire(&self) -> &[u8] {
        &self.wire[..usize::from(self.len)]
    }

    /// The labels, from the leftmost; none for the root.
    pub fn labels(&self) -> Labels<'_> {
        Labels {
            rest: self.as_wire(),
        }
    }

    pub fn is_root(&self) -> bool {
        self.len <= 1
    }

    /// Whether both are the same name: DNS compares names without regard
    /// to ASCII case (RFC 4343).
    pub fn eq_ignore_case(&self, other: &Name) -> bool {
        self.as_wire().eq_ignore_ascii_case(other.as_wire())
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.eq_ignore_case(other)
    }
}

impl Eq for Name {}

/// The labels of a [`Name`].
pub struct Labels<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, rest) = self.rest.split_first()?;
        let len = usize::from(len);
        if len == 0 || rest.len() < len {
            self.rest = &[];
            return None;
        }
        let (label, rest) = rest.split_at(len);
        self.rest = rest;
        Some(label)
    }
}

/// The name as text, without the final dot (`.` for the root); bytes
/// other than letters, digits, `-` and `_` are written `\DDD` (and `.`,
/// `\` inside a label as `\.`, `\\`), as dig shows them.
impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            for &b in label {
                match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => {
                        write!(f, "{}", char::from(b))?
                    }
                    b'.' | b'\\' => write!(f, "\\{}", char::from(b))?,
                    _ => write!(f, "\\{b:03}")?,
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

/// Reads the name at `at`: the name and the offset just after it where it
/// stands (after its first pointer, if it has one).
pub fn read_name(msg: &[u8], at: usize) -> Result<(Name, usize), Error> {
    let mut name = Name::empty();
    let mut pos = at;
    // Where the name ends in place, once a pointer was followed.
    let mut end = None;
    // Every pointer must point below this: strictly before every place the
    // name was read from so far. The targets decrease, so reading ends.
    let mut limit = at;
    let mut pointers = 0;
    loop {
        let Some(&len) = msg.get(pos) else {
            return error(ErrorKind::Truncated, pos);
        };
        match len >> 6 {
            0 if len == 0 => {
                name.push_root()
                    .map_err(|kind| Error { kind, offset: pos })?;
                return Ok((name, end.unwrap_or(pos + 1)));
            }
            0 => {
                let label_len = usize::from(len);
                let Some(label) = msg.get(pos + 1..pos + 1 + label_len) else {
                    return error(ErrorKind::Truncated, pos);
                };
                name.push_label(label)
                    .map_err(|kind| Error { kind, offset: pos })?;
                pos += 1 + label_len;
            }
            3 => {
                let Some(&low) = msg.get(pos + 1) else {
                    return error(ErrorKind::Truncated, pos);
                };
                let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                if end.is_none() {
                    end = Some(pos + 2);
                }
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return error(ErrorKind::TooManyPointers, pos);
                }
                if target >= limit {
                    return error(ErrorKind::BadPointer, pos);
                }
                limit = target;
                pos = target;
            }
            _ => return error(ErrorKind::LabelType, pos),
        }
    }
}

/// A received message: the header's fields read in place, the question and
/// records read on demand.
#[derive(Clone, Copy)]
pub struct Message<'a> {
    bytes: &'a [u8],
}

impl<'a> Message<'a> {
    /// A view of `bytes` if they hold at least a header.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Message<'a>, Error> {
        if bytes.len() < HEADER_LEN {
            return error(ErrorKind::Truncated, bytes.len());
        }
        Ok(Message { bytes })
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    fn header_u16(&self, at: usize) -> u16 {
        u16::from_be_bytes([self.bytes[at], self.bytes[at + 1]])
    }

    pub fn id(&self) -> u16 {
        self.header_u16(0)
    }

    fn flags(&self) -> u16 {
        self.header_u16(2)
    }

    /// QR: a response, not a query.
    pub fn is_response(&self) -> bool {
        self.flags() & 0x8000 != 0
    }

    pub fn opcode(&self) -> u8 {
        ((self.flags() >> 11) & 0xf) as u8
    }

    /// TC: the server cut the message to fit the datagram.
    pub fn truncated(&self) -> bool {
        self.flags() & 0x0200 != 0
    }

    /// RCODE (the low 4 bits; EDNS's extended bits are not read).
    pub fn rcode(&self) -> u8 {
        (self.flags() & 0xf) as u8
    }

    pub fn question_count(&self) -> u16 {
        self.header_u16(4)
    }

    pub fn answer_count(&self) -> u16 {
        self.header_u16(6)
    }

    pub fn authority_count(&self) -> u16 {
        self.header_u16(8)
    }

    pub fn additional_count(&self) -> u16 {
        self.header_u16(10)
    }

    /// The one question of a response.
    pub fn question(&self) -> Result<Question, Error> {
        if self.question_count() != 1 {
            return error(ErrorKind::QuestionCount, 4);
        }
        let (name, at) = read_name(self.bytes, HEADER_LEN)?;
        Ok(Question {
            name,
            qtype: u16_at(self.bytes, at)?,
            qclass: u16_at(self.bytes, at + 2)?,
        })
    }

    /// The records of the answer, authority and additional sections, in
    /// order, after the questions. The iterator yields an error once (a
    /// question or record that does not read) and then ends.
    pub fn records(&self) -> Records<'a> {
        Records {
            msg: *self,
            pos: HEADER_LEN,
            questions: self.question_count(),
            left: [
                self.answer_count(),
                self.authority_count(),
                self.additional_count(),
            ],
            failed: false,
        }
    }
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("id", &self.id())
            .field("response", &self.is_response())
            .field("rcode", &self.rcode())
            .field("truncated", &self.truncated())
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// A question: the name, type and class asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    pub name: Name,
    pub qtype: u16,
    pub qclass: u16,
}

/// The section a record is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Answer,
    Authority,
    Additional,
}

/// One resource record, its data still in the message.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub section: Section,
    pub name: Name,
    pub rtype: u16,
    pub class: u16,
    /// As sent; see [`Record::ttl`].
    pub raw_ttl: u32,
    pub rdata: &'a [u8],
    /// Offset of the RDATA in the message (names in it may point back).
    pub rdata_at: usize,
}

impl<'a> Record<'a> {
    /// Seconds the record may be cached: a TTL with the high bit set counts
    /// as 0 (RFC 2181 §8).
    pub fn ttl(&self) -> u32 {
        if self.raw_ttl & 0x8000_0000 != 0 {
            0
        } else {
            self.raw_ttl
        }
    }

    fn name_in_rdata(&self, msg: &Message<'a>, at: usize) -> Result<(Name, usize), Error> {
        // A name in RDATA must end inside it (compression may point out).
        let end = self.rdata_at + self.rdata.len();
        let Some(bytes) = msg.bytes.get(..end) else {
            return error(ErrorKind::BadRdata, self.rdata_at);
        };
        read_name(bytes, at)
    }

    /// The record's data read by its type, if it is one of the types read
    /// here: SRV, TXT, CNAME, A, AAAA and SOA; [`Rdata::Other`] for the
    /// rest.
    pub fn data(&self, msg: &Message<'a>) -> Result<Rdata<'a>, Error> {
        let end = self.rdata_at + self.rdata.len();
        // The record came from `msg`; a record from another message is
        // refused rather than read out of bounds.
        if msg.bytes.get(self.rdata_at..end) != Some(self.rdata) {
            return error(ErrorKind::BadRdata, self.rdata_at);
        }
        let whole = |after: usize| {
            if after == end {
                Ok(())
            } else {
                error(ErrorKind::BadRdata, self.rdata_at)
            }
        };
        match self.rtype {
            rtype::SRV => {
                if self.rdata.len() < 7 {
                    return error(ErrorKind::BadRdata, self.rdata_at);
                }
                let (target, after) = self.name_in_rdata(msg, self.rdata_at + 6)?;
                whole(after)?;
                Ok(Rdata::Srv(Srv {
                    priority: u16_at(self.rdata, 0)?,
                    weight: u16_at(self.rdata, 2)?,
                    port: u16_at(self.rdata, 4)?,
                    target,
                }))
            }
            rtype::TXT => Txt::new_checked(self.rdata)
                .map(Rdata::Txt)
                .map_err(|at| Error {
                    kind: ErrorKind::BadRdata,
                    offset: self.rdata_at + at,
                }),
            rtype::CNAME => {
                let (target, after) = self.name_in_rdata(msg, self.rdata_at)?;
                whole(after)?;
                Ok(Rdata::Cname(target))
            }
            rtype::A => match self.rdata {
                &[a, b, c, d] => Ok(Rdata::A(Ipv4Addr::new(a, b, c, d))),
                _ => error(ErrorKind::BadRdata, self.rdata_at),
            },
            rtype::AAAA => match <[u8; 16]>::try_from(self.rdata) {
                Ok(octets) => Ok(Rdata::Aaaa(Ipv6Addr::from(octets))),
                Err(_) => error(ErrorKind::BadRdata, self.rdata_at),
            },
            rtype::SOA => {
                let (_mname, after) = self.name_in_rdata(msg, self.rdata_at)?;
                let (_rname, after) = self.name_in_rdata(msg, after)?;
                whole(after + 20)?;
                Ok(Rdata::Soa(Soa {
                    serial: u32_at(msg.bytes, after)?,
                    minimum: u32_at(msg.bytes, after + 16)?,
                }))
            }
            _ => Ok(Rdata::Other),
        }
    }
}

/// A record's data, by type.
#[derive(Debug, Clone, Copy)]
pub enum Rdata<'a> {
    Srv(Srv),
    Txt(Txt<'a>),
    Cname(Name),
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Soa(Soa),
    Other,
}

/// A service location (RFC 2782): where a service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    /// The host; the root (`.`) says the service is not available there.
    pub target: Name,
}

/// The parts of a zone's SOA that a resolver uses for negative answers
/// (RFC 2308 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Soa {
    pub serial: u32,
    /// How long a "no such name / no such data" answer may be cached, at
    /// most (with the SOA record's own TTL).
    pub minimum: u32,
}

/// TXT data: one or more character-strings, each a length byte and that
/// many bytes, filling the RDATA exactly.
#[derive(Debug, Clone, Copy)]
pub struct Txt<'a> {
    bytes: &'a [u8],
}

impl<'a> Txt<'a> {
    /// Checks that the strings fill `rdata` exactly; the offset of the
    /// string that overruns it otherwise.
    pub fn new_checked(rdata: &'a [u8]) -> Result<Txt<'a>, usize> {
        let mut at = 0;
        while at < rdata.len() {
            at += 1 + usize::from(rdata[at]);
        }
        if at != rdata.len() {
            return Err(rdata.len());
        }
        Ok(Txt { bytes: rdata })
    }

    /// The strings, in order (an empty TXT record has none).
    pub fn strings(&self) -> TxtStrings<'a> {
        TxtStrings { rest: self.bytes }
    }
}

/// The strings of a [`Txt`].
pub struct TxtStrings<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for TxtStrings<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, rest) = self.rest.split_first()?;
        let len = usize::from(len).min(rest.len());
        let (s, rest) = rest.split_at(len);
        self.rest = rest;
        Some(s)
    }
}

/// The records of a message, section by section.
pub struct Records<'a> {
    msg: Message<'a>,
    pos: usize,
    questions: u16,
    /// Records left in the answer, authority and additional sections.
    left: [u16; 3],
    failed: bool,
}

impl<'a> Records<'a> {
    fn skip_questions(&mut self) -> Result<(), Error> {
        while self.questions > 0 {
            let (_, at) = read_name(self.msg.bytes, self.pos)?;
            if at + 4 > self.msg.bytes.len() {
                return error(ErrorKind::Truncated, at);
            }
            self.pos = at + 4;
            self.questions -= 1;
        }
        Ok(())
    }

    fn read(&mut self, section: Section) -> Result<Record<'a>, Error> {
        let bytes = self.msg.bytes;
        let (name, at) = read_name(bytes, self.pos)?;
        if at + RECORD_FIXED_LEN > bytes.len() {
            return error(ErrorKind::Truncated, at);
        }
        let rdlen = usize::from(u16_at(bytes, at + 8)?);
        let rdata_at = at + RECORD_FIXED_LEN;
        let Some(rdata) = bytes.get(rdata_at..rdata_at + rdlen) else {
            return error(ErrorKind::Truncated, rdata_at);
        };
        self.pos = rdata_at + rdlen;
        Ok(Record {
            section,
            name,
            rtype: u16_at(bytes, at)?,
            class: u16_at(bytes, at + 2)?,
            raw_ttl: u32_at(bytes, at + 4)?,
            rdata,
            rdata_at,
        })
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if let Err(e) = self.skip_questions() {
            self.failed = true;
            return Some(Err(e));
        }
        let k = self.left.iter().position(|&n| n > 0)?;
        self.left[k] -= 1;
        let section = [Section::Answer, Section::Authority, Section::Additional][k];
        let r = self.read(section);
        self.failed = r.is_err();
        Some(r)
    }
}

/// Bytes of a query with the longest name and an OPT record.
pub const MAX_QUERY_LEN: usize = HEADER_LEN + MAX_NAME_LEN + 4 + 11;

/// Writes a standard query for `name`/`qtype` in class IN, recursion
/// desired, into `out`: its length. With `edns_payload`, an OPT record
/// (RFC 6891) says how large a UDP response may be.
pub fn write_query(
    out: &mut [u8; MAX_QUERY_LEN],
    id: u16,
    name: &Name,
    qtype: u16,
    edns_payload: Option<u16>,
) -> usize {
    let additional: u16 = if edns_payload.is_some() { 1 } else { 0 };
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        out[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    put(&id.to_be_bytes());
    // RD.
    put(&0x0100u16.to_be_bytes());
    for count in [1u16, 0, 0, additional] {
        put(&count.to_be_bytes());
    }
    put(name.as_wire());
    put(&qtype.to_be_bytes());
    put(&CLASS_IN.to_be_bytes());
    if let Some(payload) = edns_payload {
        // Root name, OPT, class = payload size, TTL = extended RCODE,
        // version 0, no flags; no options.
        put(&[0]);
        put(&rtype::OPT.to_be_bytes());
        put(&payload.to_be_bytes());
        put(&[0, 0, 0, 0, 0, 0]);
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response to `question` with the given answer records (each
    /// `(name wire, type, ttl, rdata)`), built by hand.
    fn response(id: u16, flags: u16, question: &[u8], qtype: u16, answers: &[Vec<u8>]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&flags.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        m.extend_from_slice(&(answers.len() as u16).to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(question);
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&CLASS_IN.to_be_bytes());
        for a in answers {
            m.extend_from_slice(a);
        }
        m
    }

    fn record(name: &[u8], rtype: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
        let mut r = name.to_vec();
        r.extend_from_slice(&rtype.to_be_bytes());
        r.extend_from_slice(&CLASS_IN.to_be_bytes());
        r.extend_from_slice(&ttl.to_be_bytes());
        r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        r.extend_from_slice(rdata);
        r
    }

    fn wire(text: &str) -> Vec<u8> {
        Name::from_text(text).unwrap().as_wire().to_vec()
    }

    /// dnsmasq 2.90's answer to `_sflow._udp.test.lan SRV` (with EDNS),
    /// captured in a namespace: two SRV records with compressed owners, an
    /// additional A record and the OPT record.
    const DNSMASQ_SRV: &str = "8a5a85800001000200000002065f73666c6f77045f7564700474657374036c616e0000210001c00c002100010000005a00130001000a18c80263320474657374036c616e00c00c002100010000005a00130000000018c70263310474657374036c616e00c057000100010000005a00040a35000a00002904d0000000000000";
    /// Its answer to `_sflow._udp.test.lan TXT`.
    const DNSMASQ_TXT: &str = "06e385800001000100000001065f73666c6f77045f7564700474657374036c616e0000100001c00c001000010000005a002109747874766572733d310b73616d706c696e673d35300a706f6c6c696e673d313000002904d0000000000000";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn reads_a_real_srv_answer() {
        let bytes = hex(DNSMASQ_SRV);
        let m = Message::new_checked(&bytes).unwrap();
        assert!(m.is_response() && !m.truncated());
        assert_eq!((m.id(), m.rcode(), m.opcode()), (0x8a5a, rcode::NOERROR, 0));
        let q = m.question().unwrap();
        assert_eq!(q.name.to_string(), "_sflow._udp.test.lan");
        assert_eq!((q.qtype, q.qclass), (rtype::SRV, CLASS_IN));
        let records: Vec<Record> = m.records().map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), 4);
        let mut srv = Vec::new();
        for r in &records[..2] {
            assert_eq!(r.section, Section::Answer);
            assert_eq!(r.name, q.name);
            assert_eq!(r.ttl(), 90);
            match r.data(&m).unwrap() {
                Rdata::Srv(s) => srv.push((s.priority, s.weight, s.port, s.target.to_string())),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            srv,
            [
                (1, 10, 6344, "c2.test.lan".to_owned()),
                (0, 0, 6343, "c1.test.lan".to_owned())
            ]
        );
        assert_eq!(records[2].section, Section::Additional);
        assert_eq!(records[2].name.to_string(), "c1.test.lan");
        assert_eq!(records[2].rdata, [10, 53, 0, 10]);
        assert_eq!(records[3].rtype, rtype::OPT);
        assert!(records[3].name.is_root());
    }

    #[test]
    fn reads_a_real_txt_answer() {
        let bytes = hex(DNSMASQ_TXT);
        let m = Message::new_checked(&bytes).unwrap();
        let r = m.records().next().unwrap().unwrap();
        let Rdata::Txt(t) = r.data(&m).unwrap() else {
            panic!()
        };
        let strings: Vec<&[u8]> = t.strings().collect();
        assert_eq!(strings, [&b"txtvers=1"[..], b"sampling=50", b"polling=10"]);
    }

    #[test]
    fn query_bytes_are_what_a_resolver_sends() {
        // The query glibc's res_mkquery + EDNS makes (`dig +edns
        // +bufsize=1232 +noad +nocookie`), id 0x1234.
        let mut out = [0u8; MAX_QUERY_LEN];
        let name = Name::from_text("_sflow._udp.lan.").unwrap();
        let n = write_query(&mut out, 0x1234, &name, rtype::SRV, Some(1232));
        let mut expected = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1];
        expected.extend_from_slice(b"\x06_sflow\x04_udp\x03lan\x00\x00\x21\x00\x01");
        expected.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&out[..n], &expected[..]);
        // And it reads back as a message with that question.
        let m = Message::new_checked(&out[..n]).unwrap();
        assert!(!m.is_response());
        assert_eq!(m.question().unwrap().name, name);
        let n = write_query(&mut out, 7, &Name::root(), rtype::TXT, None);
        assert_eq!(n, HEADER_LEN + 5);
        // The longest name fits.
        let long = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        let name = Name::from_text(&long).unwrap();
        assert_eq!(name.as_wire().len(), MAX_NAME_LEN);
        assert_eq!(
            write_query(&mut out, 7, &name, rtype::TXT, Some(1232)),
            MAX_QUERY_LEN
        );
    }

    #[test]
    fn names_from_text() {
        assert_eq!(Name::from_text("").unwrap().as_wire(), [0]);
        assert_eq!(Name::from_text(".").unwrap().as_wire(), [0]);
        assert!(Name::from_text("a..b").is_none());
        assert!(Name::from_text(&"a".repeat(64)).is_none());
        let long = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(62),
        ]
        .join(".");
        assert!(Name::from_text(&long).is_none(), "256 bytes in wire form");
        assert_eq!(
            Name::from_text("Example.NET").unwrap(),
            Name::from_text("example.net.").unwrap()
        );
        let odd = Name {
            len: 6,
            wire: {
                let mut w = [0; MAX_NAME_LEN];
                w[..6].copy_from_slice(b"\x04a.\\\x01\x00");
                w
            },
        };
        assert_eq!(odd.to_string(), "a\\.\\\\\\001");
    }

    #[test]
    fn compression_pointers_must_point_backwards() {
        // "c1" + pointer to "test.lan" earlier: fine.
        let mut m = vec![0u8; HEADER_LEN];
        m.extend_from_slice(b"\x04test\x03lan\x00"); // at 12
        m.extend_from_slice(b"\x02c1\xc0\x0c"); // at 22
        let (n, end) = read_name(&m, 22).unwrap();
        assert_eq!((n.to_string().as_str(), end), ("c1.test.lan", 27));
        // A pointer to itself, to a later place, in a loop.
        let mut l = vec![0u8; HEADER_LEN];
        l.extend_from_slice(b"\xc0\x0c");
        assert_eq!(read_name(&l, 12).unwrap_err().kind, ErrorKind::BadPointer);
        let mut f = vec![0u8; HEADER_LEN];
        f.extend_from_slice(b"\xc0\x0e\x00");
        assert_eq!(read_name(&f, 12).unwrap_err().kind, ErrorKind::BadPointer);
        // 12: "a" -> ptr 16; 16: "b" -> ptr 12: a loop through two names.
        let mut two = vec![0u8; HEADER_LEN];
        two.extend_from_slice(b"\x01a\xc0\x10\x01b\xc0\x0c");
        assert_eq!(read_name(&two, 12).unwrap_err().kind, ErrorKind::BadPointer);
        assert_eq!(read_name(&two, 16).unwrap_err().kind, ErrorKind::BadPointer);
        // Out of range, and cut in the middle of a pointer.
        let mut o = vec![0u8; HEADER_LEN];
        o.extend_from_slice(b"\x01a\xff\xff");
        assert_eq!(read_name(&o, 12).unwrap_err().kind, ErrorKind::BadPointer);
        assert_eq!(
            read_name(&o[..15], 12).unwrap_err(),
            Error {
                kind: ErrorKind::Truncated,
                offset: 14
            }
        );
        // Reserved label types.
        for t in [0x40u8, 0x80] {
            let mut r = vec![0u8; HEADER_LEN];
            r.extend_from_slice(&[t, 0]);
            assert_eq!(read_name(&r, 12).unwrap_err().kind, ErrorKind::LabelType);
        }
    }

    #[test]
    fn a_long_chain_of_pointers_is_bounded() {
        // Pointers each to the one before: 200 of them, then the root.
        let mut m = vec![0u8; HEADER_LEN];
        m.push(0); // at 12: root
        for k in 0..200u16 {
            let target = if k == 0 { 12 } else { 13 + 2 * (k - 1) };
            m.extend_from_slice(&(0xc000 | target).to_be_bytes());
        }
        let last = m.len() - 2;
        assert_eq!(
            read_name(&m, last).unwrap_err().kind,
            ErrorKind::TooManyPointers
        );
        // A short chain is fine.
        let (n, end) = read_name(&m, 13 + 2 * 9).unwrap();
        assert!(n.is_root());
        assert_eq!(end, 13 + 2 * 9 + 2);
    }

    #[test]
    fn names_longer_than_255_bytes_are_refused() {
        // 4 labels of 63 via pointers: 256 bytes with the root.
        let mut m = vec![0u8; HEADER_LEN];
        let label = |m: &mut Vec<u8>, c: u8| {
            m.push(63);
            m.extend(std::iter::repeat_n(c, 63));
        };
        label(&mut m, b'a'); // 12
        m.push(0);
        let second = m.len();
        label(&mut m, b'b');
        m.extend_from_slice(&0xc00cu16.to_be_bytes());
        let third = m.len();
        label(&mut m, b'c');
        m.extend_from_slice(&(0xc000 | second as u16).to_be_bytes());
        let fourth = m.len();
        label(&mut m, b'd');
        m.extend_from_slice(&(0xc000 | third as u16).to_be_bytes());
        assert_eq!(read_name(&m, third).unwrap().0.as_wire().len(), 193);
        assert_eq!(
            read_name(&m, fourth).unwrap_err().kind,
            ErrorKind::NameTooLong
        );
    }

    #[test]
    fn huge_counts_end_in_an_error_not_a_long_loop() {
        let q = wire("x.test");
        let mut m = response(1, 0x8180, &q, rtype::SRV, &[]);
        // 65535 of every kind of record, none there.
        for at in [4, 6, 8, 10] {
            m[at..at + 2].copy_from_slice(&[0xff, 0xff]);
        }
        let mut n = 0;
        for r in Message::new_checked(&m).unwrap().records() {
            n += 1;
            assert_eq!(r.unwrap_err().kind, ErrorKind::Truncated);
        }
        assert_eq!(n, 1);
        assert_eq!(
            Message::new_checked(&m)
                .unwrap()
                .question()
                .unwrap_err()
                .kind,
            ErrorKind::QuestionCount
        );
    }

    #[test]
    fn truncated_messages_and_records() {
        assert_eq!(
            Message::new_checked(&[0; 11]).unwrap_err(),
            Error {
                kind: ErrorKind::Truncated,
                offset: 11
            }
        );
        let q = wire("_sflow._udp.test");
        let srv = {
            let mut d = vec![0, 1, 0, 2, 0x18, 0xc7];
            d.extend_from_slice(&wire("c.test"));
            d
        };
        let full = response(
            9,
            0x8380,
            &q,
            rtype::SRV,
            &[record(&[0xc0, 12], rtype::SRV, 60, &srv)],
        );
        let m = Message::new_checked(&full).unwrap();
        assert!(m.truncated());
        assert_eq!(m.records().count(), 1);
        // Every cut of the record: an error, never a panic or a record.
        for cut in HEADER_LEN..full.len() {
            let m = Message::new_checked(&full[..cut]).unwrap();
            let rs: Vec<_> = m.records().collect();
            assert_eq!(rs.len(), 1, "cut at {cut}");
            assert!(rs[0].is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn record_data_of_the_wrong_length_is_refused() {
        let q = wire("s.test");
        let ptr = [0xc0, 12];
        let mut srv = vec![0, 1, 0, 2, 0x18, 0xc7];
        srv.extend_from_slice(&wire("c.test"));
        let mut srv_long = srv.clone();
        srv_long.push(0);
        let cases: Vec<(u16, Vec<u8>)> = vec![
            (rtype::SRV, srv_long),
            (rtype::SRV, vec![0, 1, 0, 2, 0x18]),
            (rtype::SRV, srv[..srv.len() - 1].to_vec()),
            (rtype::TXT, vec![5, b'a']),
            (rtype::CNAME, vec![1, b'a', 0, 0]),
            (rtype::SOA, {
                let mut d = vec![0, 0];
                d.extend_from_slice(&[0; 19]);
                d
            }),
        ];
        for (t, data) in cases {
            let m = response(1, 0x8180, &q, t, &[record(&ptr, t, 1, &data)]);
            let msg = Message::new_checked(&m).unwrap();
            let r = msg.records().next().unwrap().unwrap();
            let e = r.data(&msg).unwrap_err();
            assert!(
                matches!(e.kind, ErrorKind::BadRdata | ErrorKind::Truncated),
                "{t} {data:?}: {e}"
            );
        }
        // A name in RDATA may not run past it into the next record.
        let mut two = response(
            1,
            0x8180,
            &q,
            rtype::CNAME,
            &[
                record(&ptr, rtype::CNAME, 1, &[1, b'a']),
                record(&ptr, rtype::A, 1, &[0, 0, 0, 0]),
            ],
        );
        let msg = Message::new_checked(&two).unwrap();
        let r = msg.records().next().unwrap().unwrap();
        assert!(r.data(&msg).is_err());
        // SOA: minimum read.
        let mut soa = wire("ns.test");
        soa.extend_from_slice(&wire("h.test"));
        soa.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 1, 44]);
        two = response(
            1,
            0x8183,
            &q,
            rtype::SOA,
            &[record(&ptr, rtype::SOA, 600, &soa)],
        );
        let msg = Message::new_checked(&two).unwrap();
        let r = msg.records().next().unwrap().unwrap();
        match r.data(&msg).unwrap() {
            Rdata::Soa(s) => assert_eq!((s.serial, s.minimum), (7, 300)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn addresses_have_their_exact_length() {
        let q = wire("h.test");
        let ptr = [0xc0, 12];
        let mut v6 = [0u8; 16];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[15] = 9;
        let m = response(
            1,
            0x8180,
            &q,
            rtype::A,
            &[
                record(&ptr, rtype::A, 60, &[192, 0, 2, 1]),
                record(&ptr, rtype::AAAA, 60, &v6),
                record(&ptr, rtype::A, 60, &[192, 0, 2]),
                record(&ptr, rtype::AAAA, 60, &[0; 4]),
            ],
        );
        let msg = Message::new_checked(&m).unwrap();
        let data: Vec<_> = msg.records().map(|r| r.unwrap().data(&msg)).collect();
        assert!(matches!(data[0], Ok(Rdata::A(a)) if a == Ipv4Addr::new(192, 0, 2, 1)));
        assert!(matches!(data[1], Ok(Rdata::Aaaa(a)) if a.to_string() == "2001::9"));
        assert!(data[2].is_err() && data[3].is_err());
    }

    #[test]
    fn ttl_with_the_high_bit_is_zero() {
        let q = wire("s.test");
        let m = response(
            1,
            0x8180,
            &q,
            rtype::TXT,
            &[record(&[0xc0, 12], rtype::TXT, 0x8000_0010, &[1, b'a'])],
        );
        let msg = Message::new_checked(&m).unwrap();
        let r = msg.records().next().unwrap().unwrap();
        assert_eq!((r.raw_ttl, r.ttl()), (0x8000_0010, 0));
    }

    #[test]
    fn empty_txt_and_zero_length_strings() {
        assert_eq!(Txt::new_checked(&[]).unwrap().strings().count(), 0);
        let t = Txt::new_checked(&[0, 0, 1, b'x']).unwrap();
        let s: Vec<&[u8]> = t.strings().collect();
        assert_eq!(s, [&b""[..], b"", b"x"]);
        assert_eq!(Txt::new_checked(&[2, b'x']).unwrap_err(), 2);
    }

    #[test]
    fn a_record_from_another_message_is_refused() {
        let q = wire("s.test");
        let long = response(
            1,
            0x8180,
            &q,
            rtype::TXT,
            &[record(&[0xc0, 12], rtype::TXT, 1, &[3, b'a', b'b', b'c'])],
        );
        let msg = Message::new_checked(&long).unwrap();
        let r = msg.records().next().unwrap().unwrap();
        let short = Message::new_checked(&long[..HEADER_LEN]).unwrap();
        assert_eq!(r.data(&short).unwrap_err().kind, ErrorKind::BadRdata);
    }
}
