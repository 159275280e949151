//! [`Connection`]: a non-blocking ubus client driven by the caller's
//! `poll(2)` loop.
//!
//! No threads, no timers, no blocking call after `connect` (which on a
//! Unix socket completes or fails at once). Requests are encoded into a
//! bounded send queue and return their sequence number; the loop polls
//! [`Connection::fd`] for `POLLIN`, and for `POLLOUT` while
//! [`Connection::wants_write`], then calls [`Connection::flush`] and
//! [`Connection::read`]. Answers, calls of our objects, notifications and
//! events come back from `read` as [`Event`]s borrowing the receive
//! buffer. Matching answers to requests (by `seq`, and `peer`) and timing
//! them out is the caller's business.
//!
//! Nothing is re-established behind the caller's back: after
//! [`Event::Closed`] (or an error) drop the connection, connect again and
//! re-add objects, subscriptions and event registrations.

use crate::io_error::io_error;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::blob::{Attrs, BlobBuf, BlobmsgType, Error, ErrorKind};
use super::message::{
    self, frame_len, msg_type, status, Header, Message, MsgAttrs, HEADER_LEN, MAX_MSG_LEN,
    SYSTEM_OBJECT_EVENT,
};
use crate::sys::socket::{self, UnixAddr};

/// ubusd's socket on current OpenWrt (libubus `UBUS_UNIX_SOCKET` since
/// October 2020: OpenWrt 21.02 and later).
pub const DEFAULT_SOCKET: &str = "/var/run/ubus/ubus.sock";
/// The socket of older OpenWrt releases (19.07 and before).
pub const LEGACY_SOCKET: &str = "/var/run/ubus.sock";
/// Default bound of the send queue: room for one message of the largest
/// size ubus allows.
pub const DEFAULT_QUEUE_LIMIT: usize = HEADER_LEN + MAX_MSG_LEN;

/// Receive buffer size kept between messages (libubus's chunk size); it
/// grows for a larger message and shrinks back after it.
const RX_CHUNK: usize = 64 * 1024;
/// Receive calls per [`Connection::read`], so that a chatty broker cannot
/// hold the loop; poll reports the socket readable again.
const READ_BUDGET: usize = 64;

/// What [`Connection::read`] left the connection as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStatus {
    /// Everything readable was handled (or the read budget spent).
    Open,
    /// The broker went away; [`Event::Closed`] was delivered.
    Closed,
}

/// Something the broker sent, borrowed from the receive buffer.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// The broker's greeting: our client id. Queued requests are sent
    /// from now on.
    Hello { client_id: u32 },
    /// The end of a request (`seq`). `peer`: the object for an INVOKE or a
    /// NOTIFY answered by a subscriber, 0 for the broker's own answers.
    /// `status` is [`status::INVALID_ARGUMENT`] when the message has none
    /// (as libubus reads it). `subscribers`: in the broker's first STATUS
    /// to a NOTIFY that wants answers, the subscriber objects (int32
    /// attributes) whose STATUS will follow with the same `seq`.
    Status {
        seq: u16,
        peer: u32,
        status: i32,
        objid: Option<u32>,
        subscribers: Option<Attrs<'a>>,
    },
    /// An answer to request `seq`: for an INVOKE, `data` is the reply
    /// table; for a LOOKUP, one DATA per object, read with
    /// [`message::ObjectInfo::parse`]`(attrs)`; for ADD_OBJECT, `objid` is
    /// the new object's id (and `attrs` has its OBJTYPE). `attrs`: every
    /// attribute of the message.
    Data {
        seq: u16,
        peer: u32,
        objid: Option<u32>,
        data: Option<Attrs<'a>>,
        attrs: Attrs<'a>,
    },
    /// One of our objects is called: a method call, an event for our
    /// event listener (`method` = the event, `peer` 0), or a notification
    /// for our subscriber (the publisher's NOTIFY reaches subscribers as
    /// INVOKE; `method` = its type). Unless `no_reply`, answer with
    /// [`Connection::reply`] (optional) then [`Connection::status`],
    /// passing `peer`, `seq` and `objid` back.
    Invoke {
        seq: u16,
        peer: u32,
        objid: u32,
        method: &'a str,
        data: Attrs<'a>,
        no_reply: bool,
    },
    /// Object `target`, which our object `objid` subscribed to, went away.
    Unsubscribe { objid: u32, target: u32 },
    /// Our object `objid` now has subscribers (`active`) or none.
    Notify { objid: u32, active: bool },
    /// A message that is well framed but whose attributes are not: it is
    /// skipped, the connection goes on.
    Malformed {
        msg_type: u8,
        seq: u16,
        peer: u32,
        error: Error,
    },
    /// The connection is gone (the broker closed it, or it failed); drop
    /// it and connect again. Reported once.
    Closed,
}

/// A connection to ubusd.
pub struct Connection {
    fd: OwnedFd,
    /// Our client id, from the broker's HELLO.
    client_id: Option<u32>,
    closed: bool,
    closed_reported: bool,
    seq: u16,
    rx: Vec<u8>,
    rx_len: usize,
    tx: Vec<u8>,
    tx_pos: usize,
    queue_limit: usize,
    /// The attributes of the message being built (reused).
    body: BlobBuf,
}

impl Connection {
    /// Connects to the broker at `path` (see [`DEFAULT_SOCKET`]). The
    /// connection takes requests at once; they are sent once the broker's
    /// HELLO ([`Event::Hello`]) arrived.
    pub fn connect(path: &Path) -> io::Result<Connection> {
        let context = |e: io::Error| {
            io_error(
                e.kind(),
                format!("ubus: cannot connect to {}: {e}", path.display()),
            )
        };
        let addr = UnixAddr::new(path.as_os_str().as_bytes()).ok_or_else(|| {
            context(io_error(
                io::ErrorKind::InvalidInput,
                "path too long for a Unix socket",
            ))
        })?;
        let fd = socket::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
        .map_err(context)?;
        // A Unix socket connects or fails at once, even non-blocking (a
        // full backlog is EAGAIN).
        socket::connect(fd.as_fd(), &addr).map_err(context)?;
        Ok(Connection {
            fd,
            client_id: None,
            closed: false,
            closed_reported: false,
            seq: 0,
            rx: vec![0; RX_CHUNK],
            rx_len: 0,
            tx: Vec::new(),
            tx_pos: 0,
            queue_limit: DEFAULT_QUEUE_LIMIT,
            body: BlobBuf::with_capacity(1024),
        })
    }

    /// The descriptor to poll: `POLLIN` always, `POLLOUT` while
    /// [`Connection::wants_write`]. -1 (ignored by poll) once
    /// [`Event::Closed`] was reported.
    pub fn fd(&self) -> RawFd {
        if self.closed_reported {
            -1
        } else {
            self.fd.as_raw_fd()
        }
    }

    /// The `poll(2)` events to wait for.
    pub fn poll_events(&self) -> i16 {
        if self.wants_write() {
            libc::POLLIN | libc::POLLOUT
        } else {
            libc::POLLIN
        }
    }

    /// Queued bytes wait for the socket to become writable.
    pub fn wants_write(&self) -> bool {
        !self.closed && self.client_id.is_some() && self.tx_pos < self.tx.len()
    }

    /// The broker's HELLO arrived.
    pub fn is_ready(&self) -> bool {
        self.client_id.is_some()
    }

    /// Our client id (from HELLO).
    pub fn client_id(&self) -> Option<u32> {
        self.client_id
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Bytes queued and not yet written.
    pub fn pending_bytes(&self) -> usize {
        self.tx.len() - self.tx_pos
    }

    /// Bounds the send queue ([`DEFAULT_QUEUE_LIMIT`] by default).
    pub fn set_queue_limit(&mut self, bytes: usize) {
        self.queue_limit = bytes;
    }

    fn next_seq(&mut self) -> u16 {
        self.seq = self.seq.wrapping_add(1);
        if self.seq == 0 {
            self.seq = 1;
        }
        self.seq
    }

    /// Queues `header` + `self.body`. Errors: the connection is closed
    /// (`NotConnected`), the message is too large (`InvalidInput`), the
    /// queue is full (`OutOfMemory`: the broker does not read; nothing
    /// was queued, the caller should reconnect).
    fn queue(&mut self, header: Header) -> io::Result<()> {
        if self.closed {
            return Err(io_error(
                io::ErrorKind::NotConnected,
                "ubus: connection closed",
            ));
        }
        let len = self.body.len();
        if !self.body.is_valid() || (len + 3) & !3 > MAX_MSG_LEN {
            return Err(io_error(
                io::ErrorKind::InvalidInput,
                format!(
                    "ubus: {} message of {len} bytes exceeds the {MAX_MSG_LEN} byte limit",
                    msg_type::name(header.msg_type)
                ),
            ));
        }
        let pending = self.pending_bytes();
        if pending + HEADER_LEN + len > self.queue_limit {
            return Err(io_error(
                io::ErrorKind::OutOfMemory,
                format!(
                    "ubus: send queue full ({pending} bytes waiting, limit {})",
                    self.queue_limit
                ),
            ));
        }
        message::encode(&mut self.tx, header, &self.body);
        Ok(())
    }

    fn request(&mut self, msg: u8, peer: u32) -> io::Result<u16> {
        let seq = self.next_seq();
        self.queue(Header::new(msg, seq, peer))?;
        Ok(seq)
    }

    /// LOOKUP: the object at `path`, those whose path starts with `p` for
    /// `"p*"`, or all for `None`. Answers: one [`Event::Data`] per object,
    /// then [`Event::Status`] (NOT_FOUND when nothing matched).
    pub fn lookup(&mut self, path: Option<&str>) -> io::Result<u16> {
        message::build_lookup(&mut self.body, path);
        self.request(msg_type::LOOKUP, 0)
    }

    /// INVOKE `method` of object `objid` with `args`, the blobmsg fields
    /// of a table ([`BlobBuf::payload`] or [`Attrs::as_bytes`]). Answers:
    /// [`Event::Data`] with the reply (if any), then [`Event::Status`],
    /// both with `peer` = `objid`.
    pub fn invoke(&mut self, objid: u32, method: &str, args: &[u8]) -> io::Result<u16> {
        message::build_invoke(&mut self.body, objid, method, args);
        self.request(msg_type::INVOKE, objid)
    }

    /// ADD_OBJECT: publishes an object at `path` with `methods`
    /// (`(name, [(argument, type)])`, as `ubus -v list` shows them), or,
    /// with `None`, a nameless object without methods (what a subscriber
    /// or an event listener is; `methods` are then ignored). Answers:
    /// [`Event::Data`] with the new `objid`, then [`Event::Status`].
    pub fn add_object(
        &mut self,
        path: Option<&str>,
        methods: &[(&str, &[(&str, BlobmsgType)])],
    ) -> io::Result<u16> {
        message::build_add_object(&mut self.body, path, methods);
        self.request(msg_type::ADD_OBJECT, 0)
    }

    /// REMOVE_OBJECT one of our objects. Answers: DATA, STATUS.
    pub fn remove_object(&mut self, objid: u32) -> io::Result<u16> {
        message::build_remove_object(&mut self.body, objid);
        self.request(msg_type::REMOVE_OBJECT, 0)
    }

    /// SUBSCRIBE our object `subscriber` to the notifications of `target`;
    /// they arrive as [`Event::Invoke`] on `subscriber`. Answer: STATUS.
    pub fn subscribe(&mut self, subscriber: u32, target: u32) -> io::Result<u16> {
        message::build_subscribe(&mut self.body, subscriber, target);
        self.request(msg_type::SUBSCRIBE, 0)
    }

    /// UNSUBSCRIBE. Answer: STATUS.
    pub fn unsubscribe(&mut self, subscriber: u32, target: u32) -> io::Result<u16> {
        message::build_subscribe(&mut self.body, subscriber, target);
        self.request(msg_type::UNSUBSCRIBE, 0)
    }

    /// Registers our (nameless) object `listener` for the events matching
    /// `pattern` (a trailing `*` matches any suffix, e.g. `ubus.object.*`
    /// for the broker's `ubus.object.add`/`remove` `{id, path}`): an
    /// INVOKE of `register` on the event object (id 1). Events arrive as
    /// [`Event::Invoke`] on `listener`. Answer: STATUS with `peer` 1.
    pub fn register_event(&mut self, listener: u32, pattern: &str) -> io::Result<u16> {
        message::build_register_event(&mut self.body, listener, pattern);
        self.request(msg_type::INVOKE, SYSTEM_OBJECT_EVENT)
    }

    /// Broadcasts event `id` with the blobmsg fields `data` (`ubus send`).
    /// Answer: STATUS with `peer` 1.
    pub fn send_event(&mut self, id: &str, data: &[u8]) -> io::Result<u16> {
        message::build_send_event(&mut self.body, id, data);
        self.request(msg_type::INVOKE, SYSTEM_OBJECT_EVENT)
    }

    /// NOTIFY the subscribers of our object `objid` of `kind` with the
    /// blobmsg fields `data`. With `no_reply` nothing comes back; without,
    /// the broker answers a STATUS listing the subscribers
    /// (`Event::Status::subscribers`, `peer` = `objid`), then each
    /// subscriber's STATUS (`peer` = the subscriber object), same `seq`.
    pub fn notify(
        &mut self,
        objid: u32,
        kind: &str,
        data: &[u8],
        no_reply: bool,
    ) -> io::Result<u16> {
        message::build_notify(&mut self.body, objid, kind, data, no_reply);
        self.request(msg_type::NOTIFY, objid)
    }

    /// Answers the INVOKE `seq` from `peer` on our object `objid` with the
    /// blobmsg fields `data` (`ubus_send_reply`); complete it with
    /// [`Connection::status`].
    pub fn reply(&mut self, peer: u32, seq: u16, objid: u32, data: &[u8]) -> io::Result<()> {
        message::build_reply(&mut self.body, objid, data);
        self.queue(Header::new(msg_type::DATA, seq, peer))
    }

    /// Completes the INVOKE `seq` from `peer` on our object `objid` with
    /// status `code` (`ubus_complete_deferred_request`).
    pub fn status(&mut self, peer: u32, seq: u16, objid: u32, code: i32) -> io::Result<()> {
        message::build_status(&mut self.body, code, objid);
        self.queue(Header::new(msg_type::STATUS, seq, peer))
    }

    /// PING: the broker sends the message back as DATA.
    pub fn ping(&mut self) -> io::Result<u16> {
        self.body.clear();
        self.request(msg_type::PING, 0)
    }

    /// Marks the connection dead; poll will report it (the socket is shut
    /// down), and `read` then delivers [`Event::Closed`].
    fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            socket::shutdown(self.fd.as_fd(), libc::SHUT_RDWR);
        }
        self.tx.clear();
        self.tx_pos = 0;
    }

    /// Writes what the queue holds, as far as the socket takes it without
    /// blocking. Nothing is written before the broker's HELLO. An error
    /// closes the connection.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Err(io_error(
                io::ErrorKind::NotConnected,
                "ubus: connection closed",
            ));
        }
        if self.client_id.is_none() {
            return Ok(());
        }
        while self.tx_pos < self.tx.len() {
            let rest = &self.tx[self.tx_pos..];
            let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
            let e = match socket::send(self.fd.as_fd(), rest, flags) {
                Ok(n) if n > 0 => {
                    self.tx_pos += n;
                    continue;
                }
                Ok(_) => io::Error::from(io::ErrorKind::WriteZero),
                Err(e) => e,
            };
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => break,
                _ => {
                    self.close();
                    return Err(io_error(
                        e.kind(),
                        format!("ubus: cannot write to the broker: {e}"),
                    ));
                }
            }
        }
        if self.tx_pos == self.tx.len() {
            self.tx.clear();
            self.tx_pos = 0;
        } else if self.tx_pos >= RX_CHUNK {
            self.tx.drain(..self.tx_pos);
            self.tx_pos = 0;
        }
        Ok(())
    }

    /// Reads what the socket holds without blocking and calls `each` with
    /// every complete message as an [`Event`]; a partial message waits in
    /// the buffer for the rest. A message over [`MAX_MSG_LEN`] or with a
    /// bad header closes the connection: [`Event::Closed`], then the error.
    pub fn read(&mut self, mut each: impl FnMut(Event<'_>)) -> io::Result<ReadStatus> {
        if self.closed {
            if !self.closed_reported {
                self.closed_reported = true;
                each(Event::Closed);
            }
            return Ok(ReadStatus::Closed);
        }
        for _ in 0..READ_BUDGET {
            // Room for the whole of the partial message at the front.
            let want = match frame_len(&self.rx[..self.rx_len]) {
                Ok(Some(len)) => len.max(RX_CHUNK),
                Ok(None) => RX_CHUNK,
                Err(e) => return self.fail(e, &mut each),
            };
            if want > self.rx.len() {
                self.rx.resize(want, 0);
            }
            match self.recv()? {
                None => return Ok(ReadStatus::Open),
                Some(0) => {
                    self.close();
                    self.closed_reported = true;
                    each(Event::Closed);
                    return Ok(ReadStatus::Closed);
                }
                Some(n) => self.rx_len += n,
            }
            let mut start = 0;
            loop {
                match frame_len(&self.rx[start..self.rx_len]) {
                    Ok(Some(len)) if len <= self.rx_len - start => {
                        dispatch(&self.rx[start..start + len], &mut self.client_id, &mut each);
                        start += len;
                    }
                    Ok(_) => break,
                    Err(e) => return self.fail(e, &mut each),
                }
            }
            self.rx.copy_within(start..self.rx_len, 0);
            self.rx_len -= start;
            if self.rx.len() > RX_CHUNK && self.rx_len < RX_CHUNK {
                // Back to the usual size after a large message.
                self.rx.truncate(RX_CHUNK);
                self.rx.shrink_to_fit();
            }
        }
        Ok(ReadStatus::Open)
    }

    fn fail(&mut self, e: Error, each: &mut impl FnMut(Event<'_>)) -> io::Result<ReadStatus> {
        self.close();
        self.closed_reported = true;
        each(Event::Closed);
        Err(io_error(
            io::ErrorKind::InvalidData,
            format!("{e} (from the broker; connection closed)"),
        ))
    }

    /// One recvmsg into the free part of the receive buffer: `None` when
    /// nothing is there, `Some(0)` at the end of the stream. Descriptors
    /// passed with SCM_RIGHTS (ubusd forwards those of INVOKE) are closed.
    fn recv(&mut self) -> io::Result<Option<usize>> {
        loop {
            let free = &mut self.rx[self.rx_len..];
            let e = match socket::recv_closing_passed_fds(self.fd.as_fd(), free, libc::MSG_DONTWAIT)
            {
                Ok(n) => return Ok(Some(n)),
                Err(e) => e,
            };
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => return Ok(None),
                Some(libc::ECONNRESET) => return Ok(Some(0)),
                _ => {
                    self.close();
                    return Err(io_error(
                        e.kind(),
                        format!("ubus: cannot read from the broker: {e}"),
                    ));
                }
            }
        }
    }
}

impl AsFd for Connection {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Turns one complete message into an event.
fn dispatch<'a>(bytes: &'a [u8], client_id: &mut Option<u32>, each: &mut impl FnMut(Event<'a>)) {
    let msg = match Message::parse(bytes) {
        Ok(m) => m,
        Err(error) => {
            // Cannot happen: the caller framed it. Reported all the same.
            each(Event::Malformed {
                msg_type: bytes.get(1).copied().unwrap_or(0),
                seq: 0,
                peer: 0,
                error,
            });
            return;
        }
    };
    let Header {
        msg_type: kind,
        seq,
        peer,
        ..
    } = msg.header;
    let malformed = |error| Event::Malformed {
        msg_type: kind,
        seq,
        peer,
        error,
    };
    let f = match msg.fields() {
        Ok(f) => f,
        Err(e) => return each(malformed(e)),
    };
    let missing = |what| malformed(Error::new(HEADER_LEN, ErrorKind::Missing(what)));
    let MsgAttrs {
        status: code,
        objid,
        method,
        data,
        target,
        active,
        no_reply,
        subscribers,
        ..
    } = f;
    match kind {
        msg_type::HELLO => {
            *client_id = Some(peer);
            each(Event::Hello { client_id: peer });
        }
        msg_type::STATUS => each(Event::Status {
            seq,
            peer,
            status: code.unwrap_or(status::INVALID_ARGUMENT),
            objid,
            subscribers,
        }),
        msg_type::DATA => each(Event::Data {
            seq,
            peer,
            objid,
            data,
            attrs: msg.attrs,
        }),
        msg_type::INVOKE => match (objid, method) {
            (Some(objid), Some(method)) => each(Event::Invoke {
                seq,
                peer,
                objid,
                method,
                data: data.unwrap_or(Attrs::new(&[])),
                no_reply: no_reply.unwrap_or(false),
            }),
            _ => each(missing("OBJID or METHOD")),
        },
        msg_type::UNSUBSCRIBE => match (objid, target) {
            (Some(objid), Some(target)) => each(Event::Unsubscribe { objid, target }),
            _ => each(missing("OBJID or TARGET")),
        },
        msg_type::NOTIFY => match (objid, active) {
            (Some(objid), Some(active)) => each(Event::Notify { objid, active }),
            _ => each(missing("OBJID or ACTIVE")),
        },
        other => crate::debug!(
            "ubus: ignoring {} message (type {other}) from the broker",
            msg_type::name(other)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::PathBuf;

    /// A fake broker on a temporary socket: the tests play its part byte
    /// by byte.
    struct Fake {
        dir: PathBuf,
        listener: UnixListener,
    }

    impl Fake {
        fn new(name: &str) -> Fake {
            let dir = std::env::temp_dir()
                .join(format!("wsflowd-ubus-unit-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let listener = UnixListener::bind(dir.join("s")).unwrap();
            Fake { dir, listener }
        }

        fn path(&self) -> PathBuf {
            self.dir.join("s")
        }

        fn accept(&self) -> UnixStream {
            self.listener.accept().unwrap().0
        }
    }

    impl Drop for Fake {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn frame(kind: u8, seq: u16, peer: u32, body: &BlobBuf) -> Vec<u8> {
        let mut out = Vec::new();
        message::encode(&mut out, Header::new(kind, seq, peer), body);
        out
    }

    /// Reads until the socket would block (it is made non-blocking).
    fn drain(s: &mut UnixStream) -> Vec<u8> {
        s.set_nonblocking(true).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        out
    }

    #[derive(Debug, PartialEq)]
    enum Seen {
        Hello(u32),
        Status(u16, u32, i32, Option<u32>),
        Data(u16, Option<i64>),
        Invoke(u16, u32, u32, String, bool),
        Unsub(u32, u32),
        Notify(u32, bool),
        Malformed(ErrorKind),
        Closed,
    }

    fn collect(c: &mut Connection) -> (io::Result<ReadStatus>, Vec<Seen>) {
        let mut seen = Vec::new();
        let r = c.read(|e| {
            seen.push(match e {
                Event::Hello { client_id } => Seen::Hello(client_id),
                Event::Status {
                    seq,
                    peer,
                    status,
                    objid,
                    ..
                } => Seen::Status(seq, peer, status, objid),
                Event::Data { seq, data, .. } => Seen::Data(seq, data.and_then(|d| d.get_i64("n"))),
                Event::Invoke {
                    seq,
                    peer,
                    objid,
                    method,
                    no_reply,
                    ..
                } => Seen::Invoke(seq, peer, objid, method.to_string(), no_reply),
                Event::Unsubscribe { objid, target } => Seen::Unsub(objid, target),
                Event::Notify { objid, active } => Seen::Notify(objid, active),
                Event::Malformed { error, .. } => Seen::Malformed(error.kind),
                Event::Closed => Seen::Closed,
            })
        });
        (r, seen)
    }

    #[test]
    fn queues_until_hello_then_writes_exact_bytes() {
        let fake = Fake::new("hello");
        let mut c = Connection::connect(&fake.path()).unwrap();
        let mut peer = fake.accept();
        let seq = c.lookup(Some("hostapd.*")).unwrap();
        assert_eq!(seq, 1);
        assert!(!c.is_ready() && !c.wants_write());
        c.flush().unwrap();
        assert!(drain(&mut peer).is_empty(), "nothing before HELLO");

        let empty = BlobBuf::new();
        peer.write_all(&frame(msg_type::HELLO, 0, 0x2a2a, &empty))
            .unwrap();
        let (r, seen) = collect(&mut c);
        assert_eq!(r.unwrap(), ReadStatus::Open);
        assert_eq!(seen, [Seen::Hello(0x2a2a)]);
        assert!(c.is_ready() && c.wants_write());
        assert_eq!(c.poll_events(), libc::POLLIN | libc::POLLOUT);
        c.flush().unwrap();
        assert!(!c.wants_write());
        let mut want = BlobBuf::new();
        message::build_lookup(&mut want, Some("hostapd.*"));
        assert_eq!(drain(&mut peer), frame(msg_type::LOOKUP, 1, 0, &want));

        // Answers and calls, split at every byte: a partial message waits.
        let mut reply = BlobBuf::new();
        let mut table = BlobBuf::new();
        table.int32("n", -5);
        message::build_reply(&mut reply, 9, table.payload());
        let mut stream = frame(msg_type::DATA, 1, 9, &reply);
        let mut st = BlobBuf::new();
        message::build_status(&mut st, 0, 9);
        stream.extend(frame(msg_type::STATUS, 1, 9, &st));
        let mut inv = BlobBuf::new();
        message::build_notify(&mut inv, 77, "probe", table.payload(), true);
        stream.extend(frame(msg_type::INVOKE, 3, 5, &inv));
        let mut n = BlobBuf::new();
        n.put_u32(message::attr::OBJID, 77);
        n.put_u8(message::attr::ACTIVE, 1);
        stream.extend(frame(msg_type::NOTIFY, 4, 0, &n));
        let mut u = BlobBuf::new();
        message::build_subscribe(&mut u, 78, 79);
        stream.extend(frame(msg_type::UNSUBSCRIBE, 5, 0, &u));
        let mut all = Vec::new();
        for chunk in stream.chunks(7) {
            peer.write_all(chunk).unwrap();
            let (r, seen) = collect(&mut c);
            assert_eq!(r.unwrap(), ReadStatus::Open);
            all.extend(seen);
        }
        assert_eq!(
            all,
            [
                Seen::Data(1, Some(-5)),
                Seen::Status(1, 9, 0, Some(9)),
                Seen::Invoke(3, 5, 77, "probe".into(), true),
                Seen::Notify(77, true),
                Seen::Unsub(78, 79),
            ]
        );

        // Our answers to an INVOKE: DATA then STATUS, libubus's bytes.
        c.reply(5, 3, 77, table.payload()).unwrap();
        c.status(5, 3, 77, 0).unwrap();
        c.flush().unwrap();
        let mut want = frame(msg_type::DATA, 3, 5, &{
            let mut b = BlobBuf::new();
            message::build_reply(&mut b, 77, table.payload());
            b
        });
        want.extend(frame(msg_type::STATUS, 3, 5, &{
            let mut b = BlobBuf::new();
            message::build_status(&mut b, 0, 77);
            b
        }));
        assert_eq!(drain(&mut peer), want);

        // The broker goes: Closed, once; then the fd is out of poll's way.
        drop(peer);
        let (r, seen) = collect(&mut c);
        assert_eq!(r.unwrap(), ReadStatus::Closed);
        assert_eq!(seen, [Seen::Closed]);
        assert_eq!(c.fd(), -1);
        let (r, seen) = collect(&mut c);
        assert_eq!(r.unwrap(), ReadStatus::Closed);
        assert!(seen.is_empty());
        assert_eq!(c.ping().unwrap_err().kind(), io::ErrorKind::NotConnected);
    }

    #[test]
    fn malformed_messages_are_skipped_bad_frames_close() {
        let fake = Fake::new("malformed");
        let mut c = Connection::connect(&fake.path()).unwrap();
        let mut peer = fake.accept();
        // An INVOKE without METHOD, a STATUS whose OBJID is 2 bytes, then a
        // good HELLO: the connection goes on.
        let mut b = BlobBuf::new();
        b.put_u32(message::attr::OBJID, 1);
        let mut stream = frame(msg_type::INVOKE, 1, 0, &b);
        b.clear();
        b.put_u16(message::attr::OBJID, 1);
        stream.extend(frame(msg_type::STATUS, 2, 0, &b));
        stream.extend(frame(msg_type::HELLO, 0, 3, &BlobBuf::new()));
        // A MONITOR message is ignored.
        stream.extend(frame(msg_type::MONITOR, 0, 3, &BlobBuf::new()));
        peer.write_all(&stream).unwrap();
        let (r, seen) = collect(&mut c);
        assert_eq!(r.unwrap(), ReadStatus::Open);
        assert_eq!(
            seen,
            [
                Seen::Malformed(ErrorKind::Missing("OBJID or METHOD")),
                Seen::Malformed(ErrorKind::BadLength {
                    what: "OBJID",
                    len: 2
                }),
                Seen::Hello(3),
            ]
        );
        // A message declaring more than 1 MiB: Closed, then the error.
        let mut big = vec![0, msg_type::DATA, 0, 1, 0, 0, 0, 0];
        big.extend_from_slice(&((MAX_MSG_LEN + 8) as u32).to_be_bytes());
        peer.write_all(&big).unwrap();
        let (r, seen) = collect(&mut c);
        let e = r.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("exceeds"), "{e}");
        assert_eq!(seen, [Seen::Closed]);
        assert!(c.is_closed());
    }

    #[test]
    fn large_messages_grow_then_shrink_the_buffer() {
        let fake = Fake::new("large");
        let mut c = Connection::connect(&fake.path()).unwrap();
        let mut peer = fake.accept();
        let mut table = BlobBuf::new();
        table.string("blob", &"x".repeat(300_000));
        table.int32("n", 7);
        let mut b = BlobBuf::new();
        message::build_reply(&mut b, 1, table.payload());
        let msg = frame(msg_type::DATA, 9, 1, &b);
        let writer = std::thread::spawn(move || {
            peer.write_all(&msg).unwrap();
            peer
        });
        let mut seen = Vec::new();
        while seen.is_empty() {
            let mut pfd = crate::sys::pollfd(c.fd(), c.poll_events());
            crate::sys::poll(std::slice::from_mut(&mut pfd), 5000).unwrap();
            let (r, s) = collect(&mut c);
            r.unwrap();
            seen.extend(s);
        }
        let _peer = writer.join().unwrap();
        assert_eq!(seen, [Seen::Data(9, Some(7))]);
        assert_eq!(c.rx.len(), RX_CHUNK);
    }

    #[test]
    fn a_full_queue_is_an_error_not_a_block() {
        let fake = Fake::new("full");
        let mut c = Connection::connect(&fake.path()).unwrap();
        let mut peer = fake.accept();
        peer.write_all(&frame(msg_type::HELLO, 0, 3, &BlobBuf::new()))
            .unwrap();
        collect(&mut c).0.unwrap();
        c.set_queue_limit(64 * 1024);
        let mut args = BlobBuf::new();
        args.string("pad", &"p".repeat(1000));
        // The peer never reads: the socket fills, then the queue.
        let mut error = None;
        for _ in 0..10_000 {
            match c.invoke(5, "m", args.payload()) {
                Ok(_) => c.flush().unwrap(),
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let e = error.expect("the queue filled");
        assert_eq!(e.kind(), io::ErrorKind::OutOfMemory);
        assert!(c.pending_bytes() <= 64 * 1024);
        assert!(c.wants_write());
        // A message beyond 1 MiB is refused outright.
        c.set_queue_limit(usize::MAX);
        let mut huge = BlobBuf::new();
        huge.string("x", &"y".repeat(MAX_MSG_LEN));
        assert_eq!(
            c.invoke(5, "m", huge.payload()).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        drop(peer);
    }

    #[test]
    fn passed_descriptors_are_closed() {
        let fake = Fake::new("fds");
        let mut c = Connection::connect(&fake.path()).unwrap();
        let peer = fake.accept();
        let hello = frame(msg_type::HELLO, 0, 3, &BlobBuf::new());
        // Send HELLO with a descriptor (one end of a socket pair) attached.
        let (passed, kept) = UnixStream::pair().unwrap();
        let mut control = [0u64; 4];
        let mut iov = libc::iovec {
            iov_base: hello.as_ptr() as *mut _,
            iov_len: hello.len(),
        };
        // SAFETY: all zeros is a valid `struct msghdr` (null pointers,
        // zero lengths).
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        // SAFETY: CMSG_SPACE is arithmetic only.
        msg.msg_controllen = unsafe { libc::CMSG_SPACE(4) } as _;
        // CMSG_FIRSTHDR points inside it, CMSG_DATA after the header.
        // SAFETY: the control buffer (8-byte aligned) has room for one
        // header and one descriptor (CMSG_SPACE(4) bytes).
        unsafe {
            let cm = libc::CMSG_FIRSTHDR(&msg);
            (*cm).cmsg_level = libc::SOL_SOCKET;
            (*cm).cmsg_type = libc::SCM_RIGHTS;
            (*cm).cmsg_len = libc::CMSG_LEN(4) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(cm).cast::<i32>(), passed.as_raw_fd());
        }
        // SAFETY: `msg` points to the iovec of `hello` and to the control
        // buffer, all valid for the call.
        let sent = unsafe { libc::sendmsg(peer.as_raw_fd(), &msg, 0) };
        assert_eq!(sent, hello.len() as isize);
        drop(passed);
        let (r, seen) = collect(&mut c);
        r.unwrap();
        assert_eq!(seen, [Seen::Hello(3)]);
        // Our copy was closed: the other end of the pair now has no peer.
        // (Rust ignores SIGPIPE, so this is EPIPE, not a signal.)
        let e = (&kept).write(b"x").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
    }

    #[test]
    fn connect_errors_name_the_path() {
        let e = match Connection::connect(Path::new("/nonexistent/ubus.sock")) {
            Err(e) => e,
            Ok(_) => panic!("connected to nothing"),
        };
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("/nonexistent/ubus.sock"), "{e}");
        let long = "/tmp/".to_string() + &"x".repeat(200);
        let e = match Connection::connect(Path::new(&long)) {
            Err(e) => e,
            Ok(_) => panic!("connected to nothing"),
        };
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn sequence_numbers_skip_zero() {
        let fake = Fake::new("seq");
        let mut c = Connection::connect(&fake.path()).unwrap();
        c.seq = u16::MAX - 1;
        assert_eq!(c.ping().unwrap(), u16::MAX);
        assert_eq!(c.ping().unwrap(), 1);
    }
}
