//! The ubus message: header, attributes, framing, and the builders of the
//! messages a client sends (byte-identical to libubus's).
//!
//! On the stream socket a message is an 8-byte header, big-endian
//! `{u8 version = 0, u8 type, u16 seq, u32 peer}`, then one blob container
//! attribute (id 0) whose length field says how many bytes follow the
//! header (`ubusmsg.h`, `libubus-io.c`). The container holds plain blob
//! attributes ([`attr`]); `DATA` nests a blobmsg table.

use super::blob::{Attrs, BlobBuf, BlobmsgType, Error, ErrorKind, ATTR_HDR_LEN};

/// Bytes of the message header.
pub const HEADER_LEN: usize = 8;
/// The largest message body accepted or sent, `UBUS_MAX_MSGLEN` of
/// libubus and ubusd (1 MiB), counted as libubus does: the container's
/// padded length.
pub const MAX_MSG_LEN: usize = 1_048_576;

/// The broker's event object (`UBUS_SYSTEM_OBJECT_EVENT`): INVOKE
/// `register` and `send` on it.
pub const SYSTEM_OBJECT_EVENT: u32 = 1;
/// `UBUS_SYSTEM_OBJECT_ACL`.
pub const SYSTEM_OBJECT_ACL: u32 = 2;
/// `UBUS_SYSTEM_OBJECT_MONITOR`.
pub const SYSTEM_OBJECT_MONITOR: u32 = 3;

/// Message types (`enum ubus_msg_type`).
pub mod msg_type {
    /// The broker's first message; the header's peer is our client id.
    pub const HELLO: u8 = 0;
    pub const STATUS: u8 = 1;
    pub const DATA: u8 = 2;
    pub const PING: u8 = 3;
    pub const LOOKUP: u8 = 4;
    pub const INVOKE: u8 = 5;
    pub const ADD_OBJECT: u8 = 6;
    pub const REMOVE_OBJECT: u8 = 7;
    pub const SUBSCRIBE: u8 = 8;
    /// Also sent by the broker when a subscribed object goes away.
    pub const UNSUBSCRIBE: u8 = 9;
    /// From a client: notify the subscribers. From the broker: the
    /// subscribers of one of our objects changed (`ACTIVE`).
    pub const NOTIFY: u8 = 10;
    pub const MONITOR: u8 = 11;

    /// The constant's name, for logs.
    pub fn name(t: u8) -> &'static str {
        match t {
            HELLO => "HELLO",
            STATUS => "STATUS",
            DATA => "DATA",
            PING => "PING",
            LOOKUP => "LOOKUP",
            INVOKE => "INVOKE",
            ADD_OBJECT => "ADD_OBJECT",
            REMOVE_OBJECT => "REMOVE_OBJECT",
            SUBSCRIBE => "SUBSCRIBE",
            UNSUBSCRIBE => "UNSUBSCRIBE",
            NOTIFY => "NOTIFY",
            MONITOR => "MONITOR",
            _ => "unknown",
        }
    }
}

/// Message attribute ids (`enum ubus_msg_attr`), plain blob attributes.
pub mod attr {
    pub const UNSPEC: u8 = 0;
    /// int32: a request's result (`status`).
    pub const STATUS: u8 = 1;
    /// string: an object's path.
    pub const OBJPATH: u8 = 2;
    /// int32: an object id.
    pub const OBJID: u8 = 3;
    /// string: a method, notification type or event name.
    pub const METHOD: u8 = 4;
    /// int32: an object type id.
    pub const OBJTYPE: u8 = 5;
    /// nested: blobmsg tables, one per method, `{argument: type}`.
    pub const SIGNATURE: u8 = 6;
    /// nested: a blobmsg table.
    pub const DATA: u8 = 7;
    /// int32: the object subscribed to.
    pub const TARGET: u8 = 8;
    /// int8: whether an object has subscribers.
    pub const ACTIVE: u8 = 9;
    /// int8: the notifier wants no answers.
    pub const NO_REPLY: u8 = 10;
    /// nested: int32 attributes (id 0), the subscribers a notification
    /// went to.
    pub const SUBSCRIBERS: u8 = 11;
    /// string: the calling user (ACL).
    pub const USER: u8 = 12;
    /// string: the calling group (ACL).
    pub const GROUP: u8 = 13;
}

/// Status codes (`enum ubus_msg_status`).
pub mod status {
    pub const OK: i32 = 0;
    pub const INVALID_COMMAND: i32 = 1;
    pub const INVALID_ARGUMENT: i32 = 2;
    pub const METHOD_NOT_FOUND: i32 = 3;
    pub const NOT_FOUND: i32 = 4;
    pub const NO_DATA: i32 = 5;
    pub const PERMISSION_DENIED: i32 = 6;
    pub const TIMEOUT: i32 = 7;
    pub const NOT_SUPPORTED: i32 = 8;
    pub const UNKNOWN_ERROR: i32 = 9;
    pub const CONNECTION_FAILED: i32 = 10;
    pub const NO_MEMORY: i32 = 11;
    pub const PARSE_ERROR: i32 = 12;
    pub const SYSTEM_ERROR: i32 = 13;

    /// libubus's `ubus_strerror` text.
    pub fn text(code: i32) -> &'static str {
        match code {
            OK => "Success",
            INVALID_COMMAND => "Invalid command",
            INVALID_ARGUMENT => "Invalid argument",
            METHOD_NOT_FOUND => "Method not found",
            NOT_FOUND => "Not found",
            NO_DATA => "No response",
            PERMISSION_DENIED => "Permission denied",
            TIMEOUT => "Request timed out",
            NOT_SUPPORTED => "Operation not supported",
            UNKNOWN_ERROR => "Unknown error",
            CONNECTION_FAILED => "Connection failed",
            NO_MEMORY => "Out of memory",
            PARSE_ERROR => "Parsing message data failed",
            SYSTEM_ERROR => "System error",
            _ => "Unknown status code",
        }
    }
}

/// The 8-byte message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Always 0.
    pub version: u8,
    /// One of [`msg_type`].
    pub msg_type: u8,
    pub seq: u16,
    /// A client id or an object id, depending on the message.
    pub peer: u32,
}

impl Header {
    pub fn new(msg_type: u8, seq: u16, peer: u32) -> Header {
        Header {
            version: 0,
            msg_type,
            seq,
            peer,
        }
    }

    /// Reads the header at the start of `b`, if there are 8 bytes.
    pub fn parse(b: &[u8]) -> Option<Header> {
        let b: &[u8; HEADER_LEN] = b.get(..HEADER_LEN)?.try_into().ok()?;
        Some(Header {
            version: b[0],
            msg_type: b[1],
            seq: u16::from_be_bytes([b[2], b[3]]),
            peer: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        })
    }

    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0; HEADER_LEN];
        b[0] = self.version;
        b[1] = self.msg_type;
        b[2..4].copy_from_slice(&self.seq.to_be_bytes());
        b[4..8].copy_from_slice(&self.peer.to_be_bytes());
        b
    }
}

/// How long the message at the start of `buf` is, header included, once
/// its header and the container's header are there (`Ok(None)` before).
/// A version other than 0, a container shorter than its header or longer
/// than [`MAX_MSG_LEN`] is an error (`ubus_validate_hdr`): the stream can
/// no longer be trusted.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, Error> {
    let (Some(header), Some(word)) = (
        Header::parse(buf),
        buf.get(HEADER_LEN..HEADER_LEN + ATTR_HDR_LEN),
    ) else {
        return Ok(None);
    };
    if header.version != 0 {
        return Err(Error::new(0, ErrorKind::BadVersion(header.version)));
    }
    let len = (u32::from_be_bytes([word[0], word[1], word[2], word[3]]) & 0x00ff_ffff) as usize;
    if len < ATTR_HDR_LEN {
        return Err(Error::new(HEADER_LEN, ErrorKind::LengthTooShort { len }));
    }
    if (len + 3) & !3 > MAX_MSG_LEN {
        return Err(Error::new(HEADER_LEN, ErrorKind::MessageTooLong { len }));
    }
    Ok(Some(HEADER_LEN + len))
}

/// A message read from a buffer, its attributes not yet decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    pub header: Header,
    /// The container's attributes; offsets count from the message start.
    pub attrs: Attrs<'a>,
    /// Bytes the message takes in the buffer.
    pub len: usize,
}

impl<'a> Message<'a> {
    /// Reads the message at the start of `buf`; bytes after it are
    /// ignored.
    pub fn parse(buf: &'a [u8]) -> Result<Message<'a>, Error> {
        let needed = HEADER_LEN + ATTR_HDR_LEN;
        let len = frame_len(buf)?.ok_or(Error::new(
            0,
            ErrorKind::MessageTruncated {
                needed,
                available: buf.len(),
            },
        ))?;
        let body = buf.get(HEADER_LEN + ATTR_HDR_LEN..len).ok_or(Error::new(
            0,
            ErrorKind::MessageTruncated {
                needed: len,
                available: buf.len(),
            },
        ))?;
        Ok(Message {
            header: Header::parse(buf).unwrap_or(Header::new(0, 0, 0)),
            attrs: Attrs::with_offset(body, HEADER_LEN + ATTR_HDR_LEN),
            len,
        })
    }

    /// Decodes the attributes.
    pub fn fields(&self) -> Result<MsgAttrs<'a>, Error> {
        MsgAttrs::parse(self.attrs.clone())
    }
}

/// The attributes of a message, decoded. Ids this reader does not know
/// are ignored; when an id repeats, the last one counts (as in libubox's
/// `blob_parse`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MsgAttrs<'a> {
    pub status: Option<i32>,
    pub objpath: Option<&'a str>,
    pub objid: Option<u32>,
    pub method: Option<&'a str>,
    pub objtype: Option<u32>,
    pub signature: Option<Attrs<'a>>,
    pub data: Option<Attrs<'a>>,
    pub target: Option<u32>,
    pub active: Option<bool>,
    pub no_reply: Option<bool>,
    pub subscribers: Option<Attrs<'a>>,
    pub user: Option<&'a str>,
    pub group: Option<&'a str>,
}

impl<'a> MsgAttrs<'a> {
    /// Decodes every attribute; a known attribute of the wrong size or
    /// encoding is an error naming its offset.
    pub fn parse(attrs: Attrs<'a>) -> Result<MsgAttrs<'a>, Error> {
        let mut m = MsgAttrs::default();
        for a in attrs {
            let a = a?;
            let what = |kind: ErrorKind| -> ErrorKind {
                // Name the ubus attribute rather than the blob type.
                let name = match a.id {
                    attr::STATUS => "STATUS",
                    attr::OBJPATH => "OBJPATH",
                    attr::OBJID => "OBJID",
                    attr::METHOD => "METHOD",
                    attr::OBJTYPE => "OBJTYPE",
                    attr::TARGET => "TARGET",
                    attr::ACTIVE => "ACTIVE",
                    attr::NO_REPLY => "NO_REPLY",
                    attr::USER => "USER",
                    attr::GROUP => "GROUP",
                    _ => "attribute",
                };
                match kind {
                    ErrorKind::BadLength { len, .. } => ErrorKind::BadLength { what: name, len },
                    ErrorKind::NotTerminated { .. } => ErrorKind::NotTerminated { what: name },
                    ErrorKind::NotUtf8 { .. } => ErrorKind::NotUtf8 { what: name },
                    other => other,
                }
            };
            let named = |e: Error| Error::new(e.offset, what(e.kind));
            match a.id {
                attr::STATUS => m.status = Some(a.i32().map_err(named)?),
                attr::OBJPATH => m.objpath = Some(a.string().map_err(named)?),
                attr::OBJID => m.objid = Some(a.u32().map_err(named)?),
                attr::METHOD => m.method = Some(a.string().map_err(named)?),
                attr::OBJTYPE => m.objtype = Some(a.u32().map_err(named)?),
                attr::SIGNATURE => m.signature = Some(a.nested()),
                attr::DATA => m.data = Some(a.nested()),
                attr::TARGET => m.target = Some(a.u32().map_err(named)?),
                attr::ACTIVE => m.active = Some(a.u8().map_err(named)? != 0),
                attr::NO_REPLY => m.no_reply = Some(a.u8().map_err(named)? != 0),
                attr::SUBSCRIBERS => m.subscribers = Some(a.nested()),
                attr::USER => m.user = Some(a.string().map_err(named)?),
                attr::GROUP => m.group = Some(a.string().map_err(named)?),
                _ => {}
            }
        }
        Ok(m)
    }

    /// The object a LOOKUP answer describes, when it has path, id and type
    /// (libubus ignores answers without them).
    pub fn object(&self) -> Option<ObjectInfo<'a>> {
        Some(ObjectInfo {
            path: self.objpath?,
            id: self.objid?,
            type_id: self.objtype?,
            signature: self.signature.clone(),
        })
    }
}

/// One object found by a LOOKUP.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectInfo<'a> {
    pub path: &'a str,
    pub id: u32,
    pub type_id: u32,
    /// Blobmsg tables named after the methods, `{argument: blobmsg type
    /// (int32)}`.
    pub signature: Option<Attrs<'a>>,
}

impl<'a> ObjectInfo<'a> {
    /// Reads a LOOKUP answer's attributes (the `attrs` of a DATA event).
    pub fn parse(attrs: Attrs<'a>) -> Result<Option<ObjectInfo<'a>>, Error> {
        Ok(MsgAttrs::parse(attrs)?.object())
    }
}

/// Appends the message `header` + `body` to `out`.
pub fn encode(out: &mut Vec<u8>, header: Header, body: &BlobBuf) {
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(body.as_bytes());
}

// The builders below fill `b` (cleared first) with one message's
// attributes, in libubus's order.

/// LOOKUP: one object by path, those matching `prefix*`, or all (None).
pub fn build_lookup(b: &mut BlobBuf, path: Option<&str>) {
    b.clear();
    if let Some(path) = path {
        b.put_string(attr::OBJPATH, path);
    }
}

/// INVOKE `method` of object `objid` with the blobmsg fields `data`
/// (`ubus_invoke`).
pub fn build_invoke(b: &mut BlobBuf, objid: u32, method: &str, data: &[u8]) {
    b.clear();
    b.put_u32(attr::OBJID, objid);
    b.put_string(attr::METHOD, method);
    b.put(attr::DATA, data);
}

/// ADD_OBJECT (`ubus_add_object`): a named object carries its signature,
/// one table per method `{argument: type}`; a nameless one (a subscriber
/// or an event listener) carries nothing.
pub fn build_add_object(
    b: &mut BlobBuf,
    path: Option<&str>,
    methods: &[(&str, &[(&str, BlobmsgType)])],
) {
    b.clear();
    if let Some(path) = path {
        b.put_string(attr::OBJPATH, path);
        let sig = b.nest_start(attr::SIGNATURE);
        for (method, args) in methods {
            let t = b.table_start(method);
            for (arg, kind) in args.iter() {
                b.int32(arg, i32::from(kind.id()));
            }
            b.table_end(t);
        }
        b.nest_end(sig);
    }
}

/// REMOVE_OBJECT.
pub fn build_remove_object(b: &mut BlobBuf, objid: u32) {
    b.clear();
    b.put_u32(attr::OBJID, objid);
}

/// SUBSCRIBE or UNSUBSCRIBE (same attributes): `subscriber` (one of our
/// objects) to `target`.
pub fn build_subscribe(b: &mut BlobBuf, subscriber: u32, target: u32) {
    b.clear();
    b.put_u32(attr::OBJID, subscriber);
    b.put_u32(attr::TARGET, target);
}

/// NOTIFY the subscribers of our object `objid` (`ubus_notify`).
pub fn build_notify(b: &mut BlobBuf, objid: u32, kind: &str, data: &[u8], no_reply: bool) {
    b.clear();
    b.put_u32(attr::OBJID, objid);
    b.put_string(attr::METHOD, kind);
    b.put(attr::DATA, data);
    if no_reply {
        b.put_u8(attr::NO_REPLY, 1);
    }
}

/// DATA answering an INVOKE of our object `objid` (`ubus_send_reply`).
pub fn build_reply(b: &mut BlobBuf, objid: u32, data: &[u8]) {
    b.clear();
    b.put_u32(attr::OBJID, objid);
    b.put(attr::DATA, data);
}

/// STATUS completing an INVOKE of our object `objid`
/// (`ubus_complete_deferred_request`).
pub fn build_status(b: &mut BlobBuf, code: i32, objid: u32) {
    b.clear();
    b.put_u32(attr::STATUS, code as u32);
    b.put_u32(attr::OBJID, objid);
}

/// INVOKE `register` on the event object: events matching `pattern`
/// (a trailing `*` matches any suffix) go to our object `listener`
/// (`ubus_register_event_handler`).
pub fn build_register_event(b: &mut BlobBuf, listener: u32, pattern: &str) {
    b.clear();
    b.put_u32(attr::OBJID, SYSTEM_OBJECT_EVENT);
    b.put_string(attr::METHOD, "register");
    let d = b.nest_start(attr::DATA);
    b.int32("object", listener as i32);
    b.string("pattern", pattern);
    b.nest_end(d);
}

/// INVOKE `send` on the event object: broadcast event `id` with the
/// blobmsg fields `data` (`ubus_send_event`).
pub fn build_send_event(b: &mut BlobBuf, id: &str, data: &[u8]) {
    b.clear();
    b.put_u32(attr::OBJID, SYSTEM_OBJECT_EVENT);
    b.put_string(attr::METHOD, "send");
    let d = b.nest_start(attr::DATA);
    b.string("id", id);
    b.field(BlobmsgType::Table, "data", data);
    b.nest_end(d);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(header: Header, b: &BlobBuf) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&mut out, header, b);
        out
    }

    #[test]
    fn golden_hello_and_status() {
        // ubusd's HELLO to client 0x1234abcd: an empty container.
        let hello = [0, 0, 0, 0, 0x12, 0x34, 0xab, 0xcd, 0, 0, 0, 4];
        let m = Message::parse(&hello).unwrap();
        assert_eq!(m.header, Header::new(msg_type::HELLO, 0, 0x1234_abcd));
        assert_eq!(m.len, 12);
        assert!(m.attrs.is_empty());
        assert_eq!(m.fields().unwrap(), MsgAttrs::default());

        // ubus_complete_deferred_request(seq 7, peer 0x55, status 3, object 0x99)
        let mut b = BlobBuf::new();
        build_status(&mut b, 3, 0x99);
        #[rustfmt::skip]
        let want = [
            0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00, 0x55, // STATUS, seq 7, peer 0x55
            0x00, 0x00, 0x00, 0x14,                         // container, 20 bytes
            0x01, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x03, // STATUS 3
            0x03, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x99, // OBJID 0x99
        ];
        let bytes = message(Header::new(msg_type::STATUS, 7, 0x55), &b);
        assert_eq!(bytes, want);
        let f = Message::parse(&bytes).unwrap().fields().unwrap();
        assert_eq!((f.status, f.objid), (Some(3), Some(0x99)));
    }

    #[test]
    fn golden_invoke() {
        // ubus_invoke(ctx, 0x1e, "get", {"n": 1}): seq 1, peer = the object.
        let mut args = BlobBuf::new();
        args.int32("n", 1);
        let mut b = BlobBuf::new();
        build_invoke(&mut b, 0x1e, "get", args.payload());
        #[rustfmt::skip]
        let want = [
            0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1e, // INVOKE, seq 1, peer 0x1e
            0x00, 0x00, 0x00, 0x24,                         // container, 36 bytes
            0x03, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x1e, // OBJID
            0x04, 0x00, 0x00, 0x08, b'g', b'e', b't', 0x00, // METHOD "get"
            0x07, 0x00, 0x00, 0x10,                         // DATA: one 12-byte field
            0x85, 0x00, 0x00, 0x0c, 0x00, 0x01, b'n', 0x00,
            0x00, 0x00, 0x00, 0x01,
        ];
        let bytes = message(Header::new(msg_type::INVOKE, 1, 0x1e), &b);
        assert_eq!(bytes, want);
        let m = Message::parse(&bytes).unwrap();
        let f = m.fields().unwrap();
        assert_eq!((f.objid, f.method), (Some(0x1e), Some("get")));
        assert_eq!(f.data.unwrap().get_i64("n"), Some(1));
        // An error points into the message: corrupt the METHOD's NUL.
        let mut bad = bytes.clone();
        bad[27] = b'!';
        assert_eq!(
            Message::parse(&bad).unwrap().fields().unwrap_err(),
            Error::new(20, ErrorKind::NotTerminated { what: "METHOD" })
        );
    }

    #[test]
    fn golden_add_object() {
        // ubus_add_object of "t" with method "m" {"a": INT32} and "n" {}.
        let mut b = BlobBuf::new();
        build_add_object(
            &mut b,
            Some("t"),
            &[("m", &[("a", BlobmsgType::Int32)]), ("n", &[])],
        );
        #[rustfmt::skip]
        let want = [
            0x00, 0x00, 0x00, 0x2c,
            0x02, 0x00, 0x00, 0x06, b't', 0x00, 0x00, 0x00, // OBJPATH "t"
            0x06, 0x00, 0x00, 0x20,                         // SIGNATURE
            0x82, 0x00, 0x00, 0x14, 0x00, 0x01, b'm', 0x00, //   TABLE "m"
            0x85, 0x00, 0x00, 0x0c, 0x00, 0x01, b'a', 0x00, //     "a": 5 (INT32)
            0x00, 0x00, 0x00, 0x05,
            0x82, 0x00, 0x00, 0x08, 0x00, 0x01, b'n', 0x00, //   TABLE "n"
        ];
        assert_eq!(b.as_bytes(), want);
        // A subscriber: nothing at all.
        build_add_object(&mut b, None, &[("ignored", &[])]);
        assert_eq!(b.as_bytes(), [0, 0, 0, 4]);
    }

    #[test]
    fn golden_notify_subscribe_register() {
        let mut b = BlobBuf::new();
        build_notify(&mut b, 0x40, "probe", &[], true);
        #[rustfmt::skip]
        let want = [
            0x00, 0x00, 0x00, 0x24,
            0x03, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x40,          // OBJID
            0x04, 0x00, 0x00, 0x0a, b'p', b'r', b'o', b'b', b'e', 0x00, 0x00, 0x00,
            0x07, 0x00, 0x00, 0x04,                                  // empty DATA
            0x0a, 0x00, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00,          // NO_REPLY 1
        ];
        assert_eq!(b.as_bytes(), want);
        build_notify(&mut b, 0x40, "probe", &[], false);
        assert_eq!(b.as_bytes().len(), 28);

        build_subscribe(&mut b, 0x41, 0x42);
        assert_eq!(
            b.as_bytes(),
            [0, 0, 0, 0x14, 3, 0, 0, 8, 0, 0, 0, 0x41, 8, 0, 0, 8, 0, 0, 0, 0x42]
        );

        build_register_event(&mut b, 0x7788, "ubus.object.*");
        #[rustfmt::skip]
        let want = [
            0x00, 0x00, 0x00, 0x54,
            0x03, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01,          // OBJID 1
            0x04, 0x00, 0x00, 0x0d, b'r', b'e', b'g', b'i', b's', b't', b'e', b'r', 0x00, 0x00, 0x00, 0x00,
            0x07, 0x00, 0x00, 0x38,                                  // DATA
            0x85, 0x00, 0x00, 0x14,                                  //   INT32 "object"
            0x00, 0x06, b'o', b'b', b'j', b'e', b'c', b't', 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x77, 0x88,
            0x83, 0x00, 0x00, 0x1e,                                  //   STRING "pattern"
            0x00, 0x07, b'p', b'a', b't', b't', b'e', b'r', b'n', 0x00, 0x00, 0x00,
            b'u', b'b', b'u', b's', b'.', b'o', b'b', b'j', b'e', b'c', b't', b'.', b'*', 0x00, 0x00, 0x00,
        ];
        assert_eq!(b.as_bytes(), want);
        let f = MsgAttrs::parse(b.attrs()).unwrap();
        let d = f.data.unwrap();
        assert_eq!(d.get_u32("object"), Some(0x7788));
        assert_eq!(d.get_str("pattern"), Some("ubus.object.*"));
    }

    #[test]
    fn lookup_answers_and_subscribers() {
        // What ubusd sends per object: OBJPATH, OBJID, OBJTYPE, SIGNATURE.
        let mut b = BlobBuf::new();
        b.put_string(attr::OBJPATH, "hostapd.wlan0");
        b.put_u32(attr::OBJID, 0x1234_5678);
        b.put_u32(attr::OBJTYPE, 0x9abc);
        let s = b.nest_start(attr::SIGNATURE);
        let t = b.table_start("get_clients");
        b.table_end(t);
        b.nest_end(s);
        let o = ObjectInfo::parse(b.attrs()).unwrap().unwrap();
        assert_eq!(
            (o.path, o.id, o.type_id),
            ("hostapd.wlan0", 0x1234_5678, 0x9abc)
        );
        assert!(o.signature.unwrap().get_table("get_clients").is_some());
        build_lookup(&mut b, None);
        assert_eq!(ObjectInfo::parse(b.attrs()).unwrap(), None);

        // ubusd's STATUS to a notifier: OBJID, SUBSCRIBERS {int32...}, STATUS.
        b.clear();
        b.put_u32(attr::OBJID, 5);
        let s = b.nest_start(attr::SUBSCRIBERS);
        b.put_u32(0, 11);
        b.put_u32(0, 12);
        b.nest_end(s);
        b.put_u32(attr::STATUS, 0);
        let f = MsgAttrs::parse(b.attrs()).unwrap();
        let ids: Vec<u32> = f
            .subscribers
            .unwrap()
            .map(|a| a.unwrap().u32().unwrap())
            .collect();
        assert_eq!(ids, [11, 12]);
        assert_eq!(f.status, Some(0));
    }

    #[test]
    fn framing_checks_lengths_and_version() {
        let mut b = BlobBuf::new();
        build_remove_object(&mut b, 9);
        let msg = message(Header::new(msg_type::REMOVE_OBJECT, 3, 0), &b);
        assert_eq!(msg.len(), 20);
        for cut in 0..12 {
            assert_eq!(frame_len(&msg[..cut]), Ok(None));
        }
        for cut in 12..20 {
            assert_eq!(frame_len(&msg[..cut]), Ok(Some(20)));
            assert_eq!(
                Message::parse(&msg[..cut]).unwrap_err().kind,
                ErrorKind::MessageTruncated {
                    needed: 20,
                    available: cut
                }
            );
        }
        let mut two = msg.clone();
        two.extend_from_slice(&msg);
        assert_eq!(Message::parse(&two).unwrap().len, 20);

        let mut bad = msg.clone();
        bad[0] = 1;
        assert_eq!(frame_len(&bad).unwrap_err().kind, ErrorKind::BadVersion(1));
        let mut bad = msg.clone();
        bad[11] = 3;
        assert_eq!(
            frame_len(&bad).unwrap_err(),
            Error::new(8, ErrorKind::LengthTooShort { len: 3 })
        );
        // 1 MiB is the limit, as in libubus (padded length).
        let mut big = msg.clone();
        big[8..12].copy_from_slice(&(MAX_MSG_LEN as u32).to_be_bytes());
        assert_eq!(frame_len(&big), Ok(Some(HEADER_LEN + MAX_MSG_LEN)));
        big[8..12].copy_from_slice(&(MAX_MSG_LEN as u32 + 1).to_be_bytes());
        assert_eq!(
            frame_len(&big).unwrap_err().kind,
            ErrorKind::MessageTooLong {
                len: MAX_MSG_LEN + 1
            }
        );
        // The extended bit and id of the container are not checked (C
        // does not either).
        let mut odd = msg.clone();
        odd[8] = 0x85;
        assert_eq!(frame_len(&odd), Ok(Some(20)));

        // A wrong-size known attribute is an error naming it.
        let mut bad = msg.clone();
        bad[15] = 7;
        assert_eq!(
            Message::parse(&bad).unwrap().fields().unwrap_err().kind,
            ErrorKind::BadLength {
                what: "OBJID",
                len: 3
            }
        );
        assert_eq!(
            Message::parse(&bad)
                .unwrap()
                .fields()
                .unwrap_err()
                .to_string(),
            "ubus: OBJID value of 3 bytes has the wrong size at byte 12"
        );
    }

    #[test]
    fn status_texts() {
        assert_eq!(status::text(status::METHOD_NOT_FOUND), "Method not found");
        assert_eq!(status::text(99), "Unknown status code");
        assert_eq!(msg_type::name(msg_type::NOTIFY), "NOTIFY");
    }

    /// Random bytes and mutations of real messages never panic.
    #[test]
    fn parse_never_panics() {
        let mut args = BlobBuf::new();
        args.string("s", "v");
        let t = args.table_start("t");
        args.int64("i", -1);
        args.table_end(t);
        let mut corpus = Vec::new();
        let mut b = BlobBuf::new();
        build_invoke(&mut b, 7, "m", args.payload());
        corpus.push(message(Header::new(msg_type::INVOKE, 1, 7), &b));
        build_register_event(&mut b, 9, "x*");
        corpus.push(message(Header::new(msg_type::INVOKE, 2, 1), &b));
        build_add_object(&mut b, Some("o"), &[("m", &[("a", BlobmsgType::String)])]);
        corpus.push(message(Header::new(msg_type::ADD_OBJECT, 3, 0), &b));

        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut rng = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let exercise = |m: &[u8]| {
            if let Ok(msg) = Message::parse(m) {
                assert!(msg.len <= m.len());
                if let Ok(f) = msg.fields() {
                    for t in [f.data, f.signature, f.subscribers].into_iter().flatten() {
                        let _ = t.check();
                        let mut s = String::new();
                        let _ = crate::ubus::blob::to_json(t, &mut s);
                    }
                }
            }
        };
        for msg in &corpus {
            for cut in 0..=msg.len() {
                exercise(&msg[..cut]);
            }
            for _ in 0..3000 {
                let mut m = msg.clone();
                for _ in 0..1 + rng() % 4 {
                    let at = (rng() as usize) % m.len();
                    m[at] = rng() as u8;
                }
                exercise(&m);
            }
        }
        for _ in 0..3000 {
            let len = (rng() % 96) as usize;
            let mut m: Vec<u8> = (0..len).map(|_| rng() as u8).collect();
            if len >= 12 {
                m[0] = 0;
                m[8..12].copy_from_slice(&((len - 8) as u32).to_be_bytes());
            }
            exercise(&m);
        }
    }
}
